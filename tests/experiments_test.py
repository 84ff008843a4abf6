"""The experiment registry, and every config's validation: hand-written invalid configs with
the message each must get (BAD_CONFIGS, per config file), and random values.

The fuzz test draws random values for 1-3 fields of each :quick config and requires that
validation either accepts the config or refuses it with a ConfigError naming a field; and
that it refuses whenever a drawn value is certainly invalid (INVALID below: per config,
field -> predicate). So a validate that skips a field, or returns early, fails it.
"""

import copy
import math
import sys

import hypothesis
import jax
import ml_collections
import numpy as np
import pytest
from hypothesis import strategies as st

from conftest import CONFIG_NAMES, load_config, with_changes
from cnnfcn_jax import (checkpoints, checks, data, engine, experiments, image_models,
                        kpattern_config, models, online, tasks, train)
from cnnfcn_jax.experiments import EXPERIMENTS, PRECISIONS, PRNG_IMPLS, REPORTS
from cnnfcn_jax.experiments import mnist_sequences, params_vs_accuracy
from cnnfcn_jax.experiments.samples_width import series as sw_series

# ------------------------------------------------------------------------ the registry


@pytest.mark.parametrize("name", CONFIG_NAMES)
@pytest.mark.parametrize("variant", ["", "quick"])
def test_every_config_names_a_registered_experiment_and_validates(name, variant):
  config = load_config(name, variant)
  assert config.experiment in EXPERIMENTS
  # Its own name, or for the two MNIST localities the experiment they share.
  assert config.experiment == ("mnist_sequences" if name.startswith("mnist_") else name)
  assert config.prng_impl in PRNG_IMPLS
  experiments.validate(config)


def test_every_registered_experiment_has_a_config():
  assert {load_config(name).experiment for name in CONFIG_NAMES} == set(EXPERIMENTS)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_has_the_registry_functions(name):
  module = EXPERIMENTS[name]
  assert module.__name__ == f"cnnfcn_jax.experiments.{name}"
  for function in ("validate", "run"):
    assert callable(getattr(module, function, None)), f"{module.__name__}.{function} is missing"
  # The report, and the claims it judges, in the experiment's module or its folder.
  report = REPORTS[name]
  assert report.__name__ == "report"
  assert report.__module__ in (module.__name__, f"{module.__name__}.report"), report.__module__
  assert callable(getattr(sys.modules[report.__module__], "claim_verdicts", None))


@pytest.mark.parametrize("field,value,message", [
    ("experiment", "nope", "config.experiment = 'nope' is invalid: expected one of "
     "'separation', 'lemma6_coverage'"),
    ("experiment", None, "config.experiment = None is invalid"),
    ("experiment", 3, "config.experiment = 3 is invalid"),
    ("prng_impl", "mt19937", "config.prng_impl = 'mt19937' is invalid: expected one of "
     "'threefry2x32', 'rbg', 'unsafe_rbg'"),
    ("prng_impl", "", "config.prng_impl = '' is invalid"),
    ("precision", "float16", "config.precision = 'float16' is invalid: expected one of "
     "'float32', 'float64'"),
])
def test_an_unknown_experiment_prng_impl_or_precision_is_refused_naming_the_field(field, value, message):
  config = with_changes(load_config("lemma6_coverage", "quick"), {field: value})
  with pytest.raises(checks.ConfigError) as error:
    experiments.validate(config)
  assert message in str(error.value)


def test_a_config_without_an_experiment_field_is_refused_naming_it():
  values = load_config("lemma6_coverage", "quick").to_dict()
  del values["experiment"]
  with pytest.raises(checks.ConfigError, match="config.experiment = None is invalid"):
    experiments.validate(ml_collections.ConfigDict(values))


@pytest.mark.parametrize("prng_impl", PRNG_IMPLS)
def test_every_prng_impl_is_accepted(prng_impl):
  experiments.validate(with_changes(load_config("theorem4_width", "quick"),
                                    {"prng_impl": prng_impl}))


# ------------------------------------------------- invalid configs, each with its message
#
# Per config file: changes to its :quick config, each refused with a ConfigError whose
# message holds the given text (the field named, and what was expected).

BAD_CONFIGS = {}

# On the quick config: ns (8, 16) (k = 3, 4), archs fcn and cnn, 20 steps.
BAD_CONFIGS["fcn_stuck"] = [
    (dict(ns=(8, 12)), "config.ns = (8, 12) is invalid: expected powers of two >= 4"),
    (dict(ns=(2,)), "config.ns = (2,) is invalid: expected powers of two >= 4"),
    (dict(ns=()), "config.ns = ()"),
    (dict(ns=(8, 8)), "config.ns = (8, 8) is invalid: expected a tuple without repeated"),
    (dict(ns=(8, 0)), "config.ns[1] = 0 is invalid"),
    # k = log2 16 = 4 needs n >= (k - 1) k + 1 = 13 for the non-local twin.
    (dict(localities=("nonlocal",)), "config.ns = (8, 16) is invalid: expected every n >= 13 "
     "for the nonlocal twin"),
    (dict(localities=()), "config.localities = ()"),
    # Window starts are checked against min(ns) - k with the largest k: 8 - 4 = 4.
    (dict(position=5), "config.position = 5 is invalid: expected -1 (middle) or a window "
     "start in [0, min(ns) - k] = [0, 4]"),
    (dict(position=-2), "config.position = -2 is invalid"),
    (dict(target="majority"), "config.target = 'majority' is invalid"),
    (dict(task_seed=-1), "config.task_seed = -1 is invalid"),
    (dict(archs=("fcn", "rnn")), "config.archs[1] = 'rnn' is invalid"),
    (dict(seeds=(0, 0)), "config.seeds = (0, 0) is invalid: expected a tuple without repeated"),
    (dict(min_num_train=0), "config.min_num_train = 0 is invalid"),
    (dict(num_test=0), "config.num_test = 0 is invalid"),
    (dict(log_every=3), "config.log_every = 3 is invalid: expected a divisor of "
     "config.num_steps = 20"),
    (dict(activation="gelu"), "config.activation = 'gelu' is invalid"),
    (dict(compute_path="sparse"), "config.compute_path = 'sparse' is invalid"),
    ({"fcn.widths": ()}, "config.fcn.widths = ()"),
    ({"fcn.init": "paper"}, "config.fcn.init = 'paper' is invalid: expected one of 'gaussian'"),
    ({"cnn.init": "xavier"}, "config.cnn.init = 'xavier' is invalid"),
    ({"fcn.trainable": ()}, "config.fcn.trainable = ()"),
    ({"fcn.optimizer": "adamm"}, "config.fcn.optimizer = 'adamm' is invalid"),
    ({"cnn.max_n": 4}, "config.cnn.max_n = 4 is invalid: expected 0 (no limit) or at least "
     "min(config.ns) = 8"),
    ({"fcn.learning_rate": -0.5}, "config.fcn.learning_rate = -0.5 is invalid"),
]

BAD_CONFIGS["lemma6_coverage"] = [
    (dict(ks=()), "config.ks = ()"),
    (dict(ks=(0, 2)), "config.ks[0] = 0 is invalid: expected an integer >= 1"),
    (dict(ks=(2, 13)), "config.ks = (2, 13) is invalid: expected every k <= 12"),
    (dict(ks=(2, 2)), "config.ks = (2, 2) is invalid: expected a tuple without repeated"),
    (dict(delta=1.0), "config.delta = 1.0 is invalid: expected a fraction in (0, 1)"),
    (dict(delta=0.0), "config.delta = 0.0 is invalid"),
    (dict(width_factors=(0.5, -1.0)), "config.width_factors[1] = -1.0 is invalid"),
    (dict(width_factors=()), "config.width_factors = ()"),
    (dict(num_inits=1), "config.num_inits = 1 is invalid: expected an integer >= 2"),
    (dict(inits_per_batch=0), "config.inits_per_batch = 0 is invalid"),
    (dict(target="majority"), "config.target = 'majority' is invalid"),
    (dict(task_seed=-1), "config.task_seed = -1 is invalid"),
    (dict(seed=2**32), "config.seed = 4294967296 is invalid: expected a seed below 2**32"),
    (dict(seed=True), "config.seed = True is invalid"),
]

# On the quick configs: ns (3, 5), digits 24x8, kernel (24, 24), batch 64.
BAD_CONFIGS["mnist_local"] = [
    (dict(locality="far"), "config.locality = 'far' is invalid: expected one of 'local', "
     "'nonlocal'"),
    (dict(ns=(3, 4)), "config.ns = (3, 4) is invalid: expected odd sequence lengths >= 3"),
    (dict(ns=(1,)), "config.ns = (1,) is invalid: expected odd sequence lengths >= 3"),
    (dict(ns=()), "config.ns = ()"),
    (dict(digits="png"), "config.digits = 'png' is invalid: expected one of 'embedded', 'idx'"),
    (dict(digits="idx"), "config.mnist_dir = '' is invalid: expected the directory holding "
     "the MNIST IDX files"),
    (dict(test_fraction=1.0), "config.test_fraction = 1.0 is invalid: expected a fraction "
     "in (0, 1)"),
    (dict(test_fraction=0.0), "config.test_fraction = 0.0 is invalid: expected a finite "
     "number > 0"),
    (dict(data_seed=-1), "config.data_seed = -1 is invalid"),
    (dict(digit_height=29), "config.digit_height = 29 is invalid: expected at most 28 pixels"),
    (dict(digit_width=0), "config.digit_width = 0 is invalid"),
    (dict(archs=("fcn", "rnn")), "config.archs[1] = 'rnn' is invalid"),
    ({"widths.cnn": 0}, "config.widths.cnn = 0 is invalid"),
    (dict(kernel=(0, 8)), "config.kernel[0] = 0 is invalid: expected an integer >= 1"),
    (dict(kernel=(24,)), "config.kernel = (24,) is invalid: expected (height, width)"),
    (dict(kernel=(25, 8)), "config.kernel = (25, 8) is invalid: expected (height, width) with "
     "height <= config.digit_height = 24"),
    (dict(kernel=(24, 25)), "config.kernel = (24, 25) is invalid: expected a width <= the "
     "narrowest sequence, 3 * 8 pixels"),
    (dict(stride=0), "config.stride = 0 is invalid"),
    (dict(optimizer="adamm"), "config.optimizer = 'adamm' is invalid"),
    (dict(learning_rate=-1.0), "config.learning_rate = -1.0 is invalid"),
    (dict(num_epochs=0), "config.num_epochs = 0 is invalid"),
    (dict(batch_size=0), "config.batch_size = 0 is invalid"),
    (dict(sequences_per_epoch=63), "config.sequences_per_epoch = 63 is invalid: expected an "
     "integer >= 64"),
    (dict(num_test=0), "config.num_test = 0 is invalid"),
    (dict(seeds=()), "config.seeds = ()"),
    # round(0.0001 * 5000) = round(0.5) = 0 digits held out: an empty test pool.
    (dict(test_fraction=0.0001), "config.test_fraction = 0.0001 is invalid: expected a "
     "fraction leaving digits in the test pool"),
]

# On the quick config: digits, depths (2, 4), widths cnn (2, 4) fcn (8, 16).
BAD_CONFIGS["params_vs_accuracy"] = [
    (dict(dataset="cifar100"), "config.dataset = 'cifar100' is invalid: expected one of "
     "'digits', 'cifar10'"),
    (dict(dataset="cifar10"), "config.cifar10_dir = '' is invalid: expected the "
     "cifar-10-batches-py directory"),
    (dict(test_fraction=0.0), "config.test_fraction = 0.0 is invalid: expected a finite "
     "number > 0"),
    (dict(test_fraction=1.0), "config.test_fraction = 1.0 is invalid: expected a fraction "
     "in (0, 1)"),
    (dict(data_seed=2**32), "config.data_seed = 4294967296 is invalid"),
    (dict(archs=("cnn", "lcn")), "config.archs[1] = 'lcn' is invalid: expected one of 'fcn', "
     "'cnn'"),
    (dict(archs=()), "config.archs = ()"),
    (dict(depths=(1, 2)), "config.depths[0] = 1 is invalid: expected an integer >= 2"),
    (dict(depths=(2, 2)), "config.depths = (2, 2) is invalid: expected a tuple without repeated"),
    ({"widths.fcn": ()}, "config.widths.fcn = ()"),
    ({"widths.cnn": (2, 0)}, "config.widths.cnn[1] = 0 is invalid"),
    (dict(optimizer="sgdd"), "config.optimizer = 'sgdd' is invalid"),
    (dict(learning_rate=float("nan")), "config.learning_rate = nan is invalid"),
    (dict(num_epochs=0), "config.num_epochs = 0 is invalid"),
    (dict(batch_size=0), "config.batch_size = 0 is invalid"),
    # 5,000 embedded digits, 20% held out: 4,000 training images.
    (dict(batch_size=4001), "config.batch_size = 4001 is invalid: expected at most the 4000 "
     "training images"),
    (dict(seeds=(0, 0)), "config.seeds = (0, 0) is invalid: expected a tuple without repeated"),
    # round(0.0001 * 5000) = round(0.5) = 0 test images.
    (dict(test_fraction=0.0001), "config.test_fraction = 0.0001 is invalid: expected a "
     "fraction leaving test images"),
]

BAD_CONFIGS["samples_width"] = [
    (dict(k=0), "config.k = 0 is invalid: expected an integer >= 1"),
    (dict(k=21), "config.k = 21 is invalid: expected k <= 20"),
    (dict(phase_num_trains=()), "config.phase_num_trains = () is invalid"),
    (dict(phase_num_trains=(64, 32)),
     "config.phase_num_trains = (64, 32) is invalid: expected increasing"),
    (dict(frontier_num_trains=(64, 0)), "config.frontier_num_trains[1] = 0 is invalid"),
    ({"fcn.frontier_max_num_train": 32}, "config.fcn.frontier_max_num_train = 32 is invalid: "
     "expected 0 (no limit) or at least min(config.frontier_num_trains) = 64"),
    ({"cnn.frontier_max_num_train": -1}, "config.cnn.frontier_max_num_train = -1 is invalid"),
    (dict(phase_n=2), "config.phase_n = 2 is invalid: expected an input size >= k = 3"),
    (dict(phase_widths=(4, 4)), "config.phase_widths = (4, 4) is invalid: expected a tuple "
     "without repeated entries"),
    (dict(target="majority"), "config.target = 'majority' is invalid"),
    (dict(localities=("far",)), "config.localities[0] = 'far' is invalid"),
    (dict(localities=("local", "nonlocal"), phase_n=6), "config.phase_n = (6,) is invalid: "
     "expected every n >= 7 for the nonlocal twin"),
    (dict(position=14), "config.position = 14 is invalid"),
    (dict(task_seed=-1), "config.task_seed = -1 is invalid"),
    (dict(seeds=(0, 0)), "config.seeds = (0, 0) is invalid"),
    (dict(num_test=0), "config.num_test = 0 is invalid"),
    (dict(success_accuracy=1.0), "config.success_accuracy = 1.0 is invalid: expected a "
     "fraction in (0, 1)"),
    (dict(bootstrap_resamples=5), "config.bootstrap_resamples = 5 is invalid: expected an "
     "integer >= 10"),
    (dict(frontier_bracket_ratio=1.0), "config.frontier_bracket_ratio = 1.0 is invalid: "
     "expected a ratio m_hi/m_lo > 1"),
    (dict(frontier_bracket_ratio="1.25"), "config.frontier_bracket_ratio = '1.25' is invalid"),
    (dict(frontier_max_refinements=-1), "config.frontier_max_refinements = -1 is invalid"),
    (dict(series_max_refinements=1.5), "config.series_max_refinements = 1.5 is invalid"),
    ({"fcn.width_series": 8}, "config.fcn.width_series = 8 is invalid: expected a tuple of "
     "widths, or () for none"),
    ({"fcn.width_series": (8, 0)}, "config.fcn.width_series[1] = 0 is invalid"),
    ({"fcn.width_series": (8, 8)}, "config.fcn.width_series = (8, 8) is invalid"),
    (dict(activation="gelu"), "config.activation = 'gelu' is invalid"),
    (dict(compute_path="sparse"), "config.compute_path = 'sparse' is invalid"),
    (dict(llvm_level=4), "config.llvm_level = 4 is invalid: expected one of 0, 1, 2, 3"),
    (dict(seeds_per_block=-1), "config.seeds_per_block = -1 is invalid"),
    (dict(seeds_per_block=3, seeds_per_call=4), "config.seeds_per_call = 4 is invalid: "
     "expected 0 or a multiple of config.seeds_per_block = 3"),
    (dict(archs=("cnn", "rnn")), "config.archs[1] = 'rnn' is invalid"),
    ({"fcn.init": "paper"}, "config.fcn.init = 'paper' is invalid: expected one of "
     "'gaussian', 'gaussian_bias'"),
    ({"cnn.trainable": ("W", "v")}, "config.cnn.trainable[1] = 'v' is invalid"),
    ({"lcn.optimizer": "adamm"}, "config.lcn.optimizer = 'adamm' is invalid"),
    ({"cnn.learning_rate": 0.0}, "config.cnn.learning_rate = 0.0 is invalid"),
    ({"cnn.first_layer_step": "shared"}, "config.cnn.first_layer_step = 'shared' is invalid"),
    ({"fcn.num_steps": 0}, "config.fcn.num_steps = 0 is invalid"),
    ({"lcn.log_every": 7}, "config.lcn.log_every = 7 is invalid: expected a divisor of "
     "config.lcn.num_steps = 60"),
    ({"cnn.frontier_width": 0}, "config.cnn.frontier_width = 0 is invalid"),
    ({"cnn.frontier_ns": ()}, "config.cnn.frontier_ns = () is invalid"),
    ({"fcn.frontier_ns": (2, 16)}, "config.fcn.frontier_ns = (2, 16) is invalid: expected "
     "every n >= 3"),
]

BAD_CONFIGS["separation"] = [
    (dict(k=40), "config.k = 40"),
    (dict(k=0), "config.k = 0"),
    (dict(ns=(2, 16)), "config.ns = (2, 16) is invalid: expected every n >= k = 4"),
    (dict(ns=()), "config.ns = ()"),
    (dict(ns=(16, 16)), "without repeated entries"),
    (dict(ns=(8, 16)), "every n >= 13 for the nonlocal twin"),
    (dict(target="majority"),
     "config.target = 'majority' is invalid: expected one of 'parity', 'random'"),
    (dict(localities=("local", "far")), "config.localities[1] = 'far'"),
    (dict(position=13, localities=("local",)), "config.position = 13 is invalid: expected -1 "
     "(middle) or a window start in [0, min(ns) - k] = [0, 12]"),
    (dict(archs=("cnn", "rnn")),
     "config.archs[1] = 'rnn' is invalid: expected one of 'cnn', 'lcn', 'fcn'"),
    (dict(seeds=(-1,)), "config.seeds[0] = -1"),
    (dict(min_num_train=0), "config.min_num_train = 0 is invalid: expected an integer >= 1"),
    (dict(samples_per_readout_weight=-0.5), "config.samples_per_readout_weight = -0.5 is "
     "invalid: expected a finite number >= 0"),
    ({"cnn.first_layer_step": "shared"}, "config.cnn.first_layer_step = 'shared' is invalid: "
     "expected one of 'same', 'per_window'"),
    ({"fcn.max_n": 8}, "config.fcn.max_n = 8 is invalid: expected 0 (no limit) or at least "
     "min(config.ns) = 16"),
    (dict(seeds_per_block=2, seeds_per_call=3), "config.seeds_per_call = 3 is invalid: "
     "expected 0 or a multiple of config.seeds_per_block = 2"),
    (dict(num_test=-5), "config.num_test = -5"),
    (dict(num_steps=0), "config.num_steps = 0"),
    (dict(log_every=7),
     "config.log_every = 7 is invalid: expected a divisor of config.num_steps = 40"),
    (dict(activation="gelu"), "config.activation = 'gelu'"),
    (dict(compute_path="sparse"), "config.compute_path = 'sparse' is invalid: expected one of "
     "'auto', 'dense', 'table'"),
    ({"cnn.widths": (8, -1)}, "config.cnn.widths[1] = -1"),
    ({"fcn.init": "paper"}, "config.fcn.init = 'paper' is invalid: expected one of 'gaussian'"),
    ({"lcn.init": "xavier"},
     "config.lcn.init = 'xavier' is invalid: expected one of 'paper', 'gaussian'"),
    ({"cnn.trainable": ("W", "v")}, "config.cnn.trainable[1] = 'v'"),
    ({"fcn.optimizer": "adamm"}, "config.fcn.optimizer = 'adamm' is invalid: expected one of 'gd'"),
    ({"lcn.learning_rate": -0.1}, "config.lcn.learning_rate = -0.1"),
    ({"lcn.learning_rate": float("nan")}, "config.lcn.learning_rate = nan"),
    ({"cnn.learning_rate": (0.1, 0.2, 0.3)}, "config.cnn.learning_rate = (0.1, 0.2, 0.3) is "
     "invalid: expected one learning rate, or one per width: config.cnn.widths has 2 entries"),
    ({"cnn.learning_rate": (0.1, -1.0)}, "config.cnn.learning_rate[1] = -1.0"),
    (dict(position="middle"), "config.position = 'middle' is invalid: expected an integer "
     "window start, or -1 for the middle"),
    (dict(task_seed=-1), "config.task_seed = -1 is invalid: expected an integer >= 0"),
    (dict(seeds_per_block=-1), "config.seeds_per_block = -1 is invalid"),
    (dict(seeds_per_call=-2), "config.seeds_per_call = -2 is invalid"),
    (dict(log_every=0), "config.log_every = 0 is invalid: expected an integer >= 1"),
    ({"cnn.max_n": -1}, "config.cnn.max_n = -1 is invalid: expected an integer >= 0"),
]

# On the quick config: k = 3, ns_fixed_k (6, 8, 12), ns_log_k (4, 8).
BAD_CONFIGS["theorem12_gradient"] = [
    (dict(k=0), "config.k = 0 is invalid"),
    (dict(ns_fixed_k=(4, 8)), "config.ns_fixed_k = (4, 8) is invalid: expected every n >= "
     "2k = 6"),
    (dict(ns_fixed_k=()), "config.ns_fixed_k = ()"),
    (dict(ns_log_k=(4, 6)), "config.ns_log_k = (4, 6) is invalid: expected powers of two >= 4"),
    (dict(ns_log_k=(2,)), "config.ns_log_k = (2,) is invalid: expected powers of two >= 4"),
    (dict(ns_log_k=()), "config.ns_log_k = ()"),
    (dict(ns_log_k=(8, 8)), "config.ns_log_k = (8, 8) is invalid: expected a tuple without "
     "repeated"),
    (dict(archs=("fcn", "rnn")), "config.archs[1] = 'rnn' is invalid"),
    (dict(width=0), "config.width = 0 is invalid"),
    (dict(readout_scale=0.0), "config.readout_scale = 0.0 is invalid: expected a finite "
     "number > 0"),
    (dict(bias_scale=-0.5), "config.bias_scale = -0.5 is invalid: expected a finite number >= 0"),
    (dict(num_inits=1), "config.num_inits = 1 is invalid: expected an integer >= 2"),
    (dict(exact_max_n=23), "config.exact_max_n = 23 is invalid: expected at most 22"),
    (dict(exact_max_n=0), "config.exact_max_n = 0 is invalid"),
    (dict(mc_batch=0), "config.mc_batch = 0 is invalid"),
    (dict(mc_pairs=1), "config.mc_pairs = 1 is invalid: expected an integer >= 2"),
    (dict(closed_form_max_n=-1), "config.closed_form_max_n = -1 is invalid: expected an "
     "integer >= 0"),
    (dict(closed_form_max_n=64.0), "config.closed_form_max_n = 64.0 is invalid"),
    (dict(seed=-3), "config.seed = -3 is invalid"),
]

# On the quick config: n = 8, k = 3, widths (4, 16), num_steps 20.
BAD_CONFIGS["theorem4_width"] = [
    (dict(n=0), "config.n = 0 is invalid: expected an integer >= 1"),
    (dict(n=21), "config.n = 21 is invalid: expected k = 3 <= n <= 20"),
    (dict(k=9), "config.n = 8 is invalid: expected k = 9 <= n <= 20"),
    (dict(k=0), "config.k = 0 is invalid"),
    (dict(target="majority"), "config.target = 'majority' is invalid"),
    (dict(task_seed=-1), "config.task_seed = -1 is invalid"),
    (dict(archs=("cnn", "fcn")),
     "config.archs[1] = 'fcn' is invalid: expected one of 'cnn', 'lcn'"),
    (dict(archs=()), "config.archs = ()"),
    (dict(widths=(4, 4)), "config.widths = (4, 4) is invalid: expected a tuple without repeated"),
    (dict(widths=(4, 0)), "config.widths[1] = 0 is invalid"),
    (dict(seeds=()), "config.seeds = ()"),
    (dict(bound_seeds=(-1,)), "config.bound_seeds[0] = -1 is invalid"),
    (dict(num_steps=0), "config.num_steps = 0 is invalid"),
    (dict(log_every=0), "config.log_every = 0 is invalid: expected an integer >= 1"),
    (dict(log_every=3), "config.log_every = 3 is invalid: expected a divisor of "
     "config.num_steps = 20"),
    (dict(learning_rate=0.0), "config.learning_rate = 0.0 is invalid: expected a finite "
     "number > 0"),
    (dict(epsilon=1.0), "config.epsilon = 1.0 is invalid: expected a fraction in (0, 1)"),
    (dict(activation_bound=-1.0), "config.activation_bound = -1.0 is invalid"),
    (dict(activation_bound=float("inf")), "config.activation_bound = inf is invalid"),
]

# On the quick config: fixed_ks (2, 3); cnn.ns (8, 16); fcn.log2_ns (8, 16), its rates.sgd
# (0.1, 0.316228, 1.0); num_steps 300.
BAD_CONFIGS["time_to_learn"] = [
    (dict(fixed_ks=()), "config.fixed_ks = ()"),
    ({"fcn.log2_ns": (8, 12)}, "config.fcn.log2_ns = (8, 12) is invalid: expected powers of "
     "two >= 4"),
    ({"cnn.ns": (2, 8)}, "config.cnn.ns = (2, 8) is invalid: expected every n >= k = 3"),
    ({"cnn.ns": 8}, "config.cnn.ns = 8 is invalid: expected a tuple of input sizes"),
    ({"cnn.ns": (), "cnn.log2_ns": (), "lcn.ns": (), "lcn.log2_ns": (), "fcn.ns": (),
      "fcn.log2_ns": (), "fcn.log2_final_steps": ()}, "config.archs = ('cnn', 'lcn', 'fcn') "
     "is invalid: expected at least one architecture with a non-empty ns or log2_ns"),
    (dict(protocol="offline"), "config.protocol = 'offline' is invalid: expected one of "
     "'online', 'full_batch'"),
    (dict(batch_size=0), "config.batch_size = 0 is invalid"),
    (dict(eval_growth=0.5), "config.eval_growth = 0.5 is invalid: expected a factor >= 1"),
    (dict(success_accuracy=1.0), "config.success_accuracy = 1.0 is invalid"),
    (dict(num_eval=0), "config.num_eval = 0 is invalid"),
    ({"cnn.width": 0, "cnn.width_per_pattern": 0}, "config.cnn.width = 0 is invalid: expected "
     "a width > 0, or config.cnn.width_per_pattern > 0"),
    ({"fcn.init": "paper"}, "config.fcn.init = 'paper' is invalid"),
    ({"lcn.learning_rate": 0.0}, "config.lcn.learning_rate = 0.0 is invalid"),
    ({"cnn.first_layer_step": "x"}, "config.cnn.first_layer_step = 'x' is invalid"),
    # k = 4 needs n >= (k - 1) k + 1 = 13 for the non-local twin.
    (dict(localities=("local", "nonlocal"), fixed_ks=(2, 4)), "config.cnn.ns = (8, 16) is "
     "invalid: expected every n >= 13 for the nonlocal twin"),
    (dict(archs=("rnn",)), "config.archs[0] = 'rnn' is invalid"),
    ({"fcn.learning_rate": 0.2}, "config.fcn.learning_rate = 0.2 is invalid: expected one of "
     "config.fcn.rates.sgd = (0.1, 0.316228, 1.0) (the fixed step is measured inside the "
     "grid)"),
    ({"fcn.optimizer": "momentum"}, "config.fcn.optimizer = 'momentum' is invalid: expected "
     "one of 'adam', 'sgd'"),
    ({"cnn.rates": {"sgd": (1.0,), "sdg": (0.1,)}}, "config.cnn.rates.sdg = (0.1,) is invalid: "
     "expected rates of an optimizer of"),
    ({"lcn.rates": {"sgd": (0.2, 0.2)}}, "config.lcn.rates.sgd = (0.2, 0.2) is invalid"),
    ({"cnn.rates": {}}, "config.cnn.rates = {} is invalid: expected a dict {optimizer: "),
    (dict(stop="first"), "config.stop = 'first' is invalid: expected one of 'best_rate', 'all'"),
    (dict(halving_eta=1), "config.halving_eta = 1 is invalid: expected a factor > 1"),
    (dict(every_step_until=-1), "config.every_step_until = -1 is invalid"),
    ({"fcn.log2_final_steps": ((128, 10**6),)}, "config.fcn.log2_final_steps = "
     "((128, 1000000),) is invalid: expected pairs (n, steps) with n one of "
     "config.fcn.log2_ns = (8, 16)"),
    ({"fcn.log2_final_steps": ((16, 100),)}, "config.fcn.log2_final_steps = ((16, 100),) is "
     "invalid: expected pairs (n, steps) with n one of config.fcn.log2_ns = (8, 16) and "
     "steps an int >= num_steps (300)"),
]
BAD_CONFIGS["mnist_nonlocal"] = BAD_CONFIGS["mnist_local"]  # the same checks, other locality
BAD_CASES = [(name, changes, message) for name, table in BAD_CONFIGS.items()
             for changes, message in table]


def test_every_config_has_bad_configs():
  assert sorted(BAD_CONFIGS) == CONFIG_NAMES


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_an_unknown_variant_is_refused(name):
  with pytest.raises(ValueError, match="unknown variant 'fast'"):
    load_config(name, "fast")


@pytest.mark.parametrize("name,changes,message", BAD_CASES,
                         ids=[f"{name}-{message[:40]}" for name, _, message in BAD_CASES])
def test_invalid_configs_are_refused_with_a_message_naming_the_field(name, changes, message):
  with pytest.raises(checks.ConfigError) as error:
    experiments.validate(with_changes(load_config(name, "quick"), changes))
  assert message in str(error.value)


# ------------------------------------------- "certainly invalid" predicates per field
#
# Each predicate gets (value, the config's values after every change) and is True only when
# the config is invalid whatever the other fields hold: either the value alone is invalid,
# or it is invalid given other fields that are themselves valid (if they are not, the
# config is invalid anyway). A predicate that raises counts as "not certain".


def is_int(v):
  return isinstance(v, int) and not isinstance(v, bool)


def is_number(v):
  return isinstance(v, (int, float)) and not isinstance(v, bool)


def bad_final_steps(arch):
  """time_to_learn's <arch>.log2_final_steps: pairs (n of log2_ns, int steps >= num_steps)."""
  def bad(v, c):
    return not isinstance(v, (tuple, list)) or any(
        not isinstance(p, (tuple, list)) or len(p) != 2 or p[0] not in c[arch]["log2_ns"]
        or not is_int(p[1]) or p[1] < c["num_steps"] for p in v)
  return bad


# The init schemes a config may name: sparse_bias needs a support, which only the samples x
# width series' sparse arm gives.
CONFIG_INITS = {a: tuple(s for s in r.init_schemes if s != "sparse_bias")
                for a, r in models.ARCHITECTURES.items()}


def bad_int(minimum=1):
  return lambda v, c: not is_int(v) or v < minimum


def bad_number(allow_zero=False):
  return lambda v, c: (not is_number(v) or v != v or v < 0 or v == math.inf
                       or (v == 0 and not allow_zero))


def bad_fraction(v, c):
  return bad_number()(v, c) or v >= 1


def bad_seed(v, c):
  return not is_int(v) or not 0 <= v < 2**32


def bad_choice(allowed):
  return lambda v, c: not isinstance(v, str) or v not in tuple(allowed)


def bad_tuple(bad_item=None, unique=True):
  def bad(v, c):
    if not isinstance(v, (tuple, list)) or len(v) == 0:
      return True
    if unique and len(set(v)) != len(v):
      return True
    return bad_item is not None and any(bad_item(item, c) for item in v)
  return bad


def either(*predicates):
  return lambda v, c: any(p(v, c) for p in predicates)


def if_arch(arch, predicate):
  """A per-architecture field: checked only when arch is in config.archs."""
  return lambda v, c: (isinstance(c["archs"], (tuple, list)) and arch in c["archs"]
                       and predicate(v, c))


bad_seeds = bad_tuple(bad_seed)
bad_ints = bad_tuple(bad_int())
bad_power_of_two_ns = either(bad_ints, lambda v, c: any(n < 4 or n & (n - 1) for n in v))
bad_log_every = either(bad_int(), lambda v, c: c["num_steps"] % v != 0)
COMMON = {"experiment": bad_choice(EXPERIMENTS), "prng_impl": bad_choice(PRNG_IMPLS),
          "precision": bad_choice(PRECISIONS)}


def sweep_fields(archs):
  """kpattern_config.validate_task and validate_training fields (ns, k and position aside)."""
  fields = {
      "target": bad_choice(tasks.TARGETS),
      "localities": bad_tuple(bad_choice(tasks.LOCALITIES)),
      "task_seed": bad_int(0),
      "archs": bad_tuple(bad_choice(models.ARCHS)),
      "seeds": bad_seeds,
      "seeds_per_block": lambda v, c: v != train.AUTO and bad_int(0)(v, c),
      "seeds_per_call": either(bad_int(0), lambda v, c: c["seeds_per_block"] != train.AUTO
                               and v % (c["seeds_per_block"] or len(c["seeds"])) != 0),
      "min_num_train": bad_int(), "samples_per_readout_weight": bad_number(allow_zero=True),
      "num_test": bad_int(), "num_steps": bad_int(),
      "log_every": bad_log_every,
      "activation": bad_choice(models.ACTIVATIONS),
      "compute_path": bad_choice(kpattern_config.COMPUTE_PATHS),
  }
  for arch in archs:
    def bad_rate(v, c, arch=arch):
      if isinstance(v, (tuple, list)):
        return (len(v) != len(c[arch]["widths"])
                or any(bad_number(allow_zero=True)(r, c) for r in v))
      return bad_number(allow_zero=True)(v, c)
    fields.update({
        f"{arch}.widths": if_arch(arch, bad_ints),
        f"{arch}.init": if_arch(arch, bad_choice(CONFIG_INITS[arch])),
        f"{arch}.trainable": if_arch(arch, bad_tuple(bad_choice(models.PARAM_GROUPS))),
        f"{arch}.optimizer": if_arch(arch, bad_choice(engine.OPTIMIZERS)),
        f"{arch}.first_layer_step": if_arch(arch, bad_choice(kpattern_config.FIRST_LAYER_STEPS)),
        f"{arch}.max_n": if_arch(arch, bad_int(0)),
        f"{arch}.learning_rate": if_arch(arch, bad_rate),
    })
  return fields


def bad_position(k_of):
  """-1 or a window start in [0, min(ns) - k]."""
  return lambda v, c: not is_int(v) or v < -1 or (v >= 0 and v > min(c["ns"]) - k_of(c))


MNIST = {
    **COMMON,
    "locality": bad_choice(tasks.LOCALITIES),
    "ns": either(bad_ints, lambda v, c: any(n < 3 or n % 2 == 0 for n in v)),
    "digits": bad_choice(mnist_sequences.DIGIT_SOURCES),
    "mnist_dir": None,  # read only when digits = "idx"
    "test_fraction": bad_fraction,
    "data_seed": bad_seed,
    "digit_height": either(bad_int(), lambda v, c: v > 28),
    "digit_width": either(bad_int(), lambda v, c: v > 28),
    "archs": bad_tuple(bad_choice(image_models.SEQUENCE_ARCHS)),
    **{f"widths.{a}": if_arch(a, bad_int()) for a in ("fcn", "cnn", "lcn")},
    "kernel": either(bad_tuple(bad_int(), unique=False), lambda v, c: len(v) != 2,
                     lambda v, c: v[0] > c["digit_height"],
                     lambda v, c: v[1] > min(c["ns"]) * c["digit_width"]),
    "stride": bad_int(),
    "optimizer": bad_choice(engine.OPTIMIZERS),
    "learning_rate": bad_number(),
    "num_epochs": bad_int(),
    "batch_size": bad_int(),
    "sequences_per_epoch": either(bad_int(), lambda v, c: v < c["batch_size"]),
    "num_test": bad_int(),
    "seeds": bad_seeds,
}

INVALID = {
    "separation": {
        **COMMON, **sweep_fields(("cnn", "lcn", "fcn")),
        "k": either(bad_int(), lambda v, c: v > 20),
        "ns": either(bad_ints, lambda v, c: min(v) < c["k"]),
        "position": bad_position(lambda c: c["k"]),
    },
    "fcn_stuck": {
        **COMMON, **sweep_fields(("fcn", "cnn")),
        "ns": bad_power_of_two_ns,
        "position": bad_position(lambda c: int(math.log2(max(c["ns"])))),
    },
    "lemma6_coverage": {
        **COMMON,
        "ks": either(bad_ints, lambda v, c: max(v) > 12),
        "delta": bad_fraction,
        "width_factors": bad_tuple(bad_number()),
        "num_inits": bad_int(2),
        "inits_per_batch": bad_int(),
        "target": bad_choice(tasks.TARGETS),
        "task_seed": bad_int(0),
        "seed": bad_seed,
    },
    "theorem4_width": {
        **COMMON,
        "n": either(bad_int(), lambda v, c: v > 20, lambda v, c: c["k"] > v),
        "k": either(bad_int(), lambda v, c: v > c["n"]),
        "target": bad_choice(tasks.TARGETS),
        "task_seed": bad_int(0),
        "archs": bad_tuple(bad_choice(("cnn", "lcn"))),
        "widths": bad_ints,
        "seeds": bad_seeds,
        "bound_seeds": bad_seeds,
        "num_steps": bad_int(),
        "log_every": bad_log_every,
        "learning_rate": bad_number(),
        "epsilon": bad_fraction,
        "activation_bound": bad_number(),
    },
    "theorem12_gradient": {
        **COMMON,
        "k": bad_int(),
        "ns_fixed_k": either(bad_ints, lambda v, c: min(v) < 2 * c["k"]),
        "ns_log_k": bad_power_of_two_ns,
        "archs": bad_tuple(bad_choice(models.ARCHS)),
        "width": bad_int(),
        "readout_scale": bad_number(),
        "bias_scale": bad_number(allow_zero=True),
        "num_inits": bad_int(2),
        "exact_max_n": either(bad_int(), lambda v, c: v > 22),
        "mc_batch": bad_int(),
        "mc_pairs": bad_int(2),
        "closed_form_max_n": bad_int(0),
        "seed": bad_seed,
    },
    "mnist_sequences": MNIST,
    "time_to_learn": {
        **COMMON,
        "target": bad_choice(tasks.TARGETS),
        "localities": bad_tuple(bad_choice(tasks.LOCALITIES)),
        "position": bad_position(lambda c: max(c["fixed_ks"])),
        "task_seed": bad_int(0),
        "fixed_ks": either(bad_ints, lambda v, c: max(v) > 20),
        "archs": bad_tuple(bad_choice(models.ARCHS)),
        "seeds": bad_seeds,
        "cpu_devices": bad_int(0),
        "protocol": bad_choice(online.PROTOCOLS),
        "batch_size": bad_int(), "num_train": bad_int(), "num_steps": bad_int(),
        "eval_every": bad_int(),
        "every_step_until": bad_int(0),
        "halving_eta": either(bad_number(), lambda v, c: v <= 1),
        "eval_growth": either(bad_number(), lambda v, c: v < 1),
        "num_eval": bad_int(),
        "success_accuracy": bad_fraction,
        "activation": bad_choice(models.ACTIVATIONS),
        "compute_path": bad_choice(kpattern_config.COMPUTE_PATHS),
        **{f"{a}.{field}": if_arch(a, predicate) for a in ("cnn", "lcn", "fcn")
           for field, predicate in (
               ("width", bad_int(0)), ("width_per_pattern", bad_int(0)),
               ("init", bad_choice(CONFIG_INITS[a])),
               ("trainable", bad_tuple(bad_choice(models.PARAM_GROUPS))),
               ("optimizer", bad_choice(engine.OPTIMIZERS)),
               ("learning_rate", bad_number()),
               ("rates.sgd", bad_tuple(bad_number())),
               ("first_layer_step", bad_choice(kpattern_config.FIRST_LAYER_STEPS)),
               # () leaves the arch out of that series.
               ("ns", lambda v, c: v != () and either(
                   bad_ints, lambda v, c: min(v) < max(c["fixed_ks"]))(v, c)),
               ("log2_ns", lambda v, c: v != () and bad_power_of_two_ns(v, c)),
               ("log2_final_steps", bad_final_steps(a)))},
        "fcn.rates.adam": if_arch("fcn", bad_tuple(bad_number())),
        "stop": bad_choice(online.STOPS),
    },
    "samples_width": {
        **COMMON,
        "k": either(bad_int(), lambda v, c: v > 20),
        "target": bad_choice(tasks.TARGETS),
        "localities": bad_tuple(bad_choice(tasks.LOCALITIES)),
        "position": lambda v, c: (not is_int(v) or v < -1
                                  or (v >= 0 and v > c["phase_n"] - c["k"])),
        "task_seed": bad_int(0),
        "phase_n": either(bad_int(), lambda v, c: v < c["k"]),
        "phase_widths": bad_ints,
        "phase_num_trains": either(bad_ints, lambda v, c: list(v) != sorted(v)),
        "frontier_num_trains": either(bad_ints, lambda v, c: list(v) != sorted(v)),
        "seeds": bad_seeds, "cpu_devices": bad_int(0), "num_test": bad_int(),
        "success_accuracy": bad_fraction,
        "bootstrap_resamples": bad_int(10),
        "frontier_bracket_ratio": either(bad_number(), lambda v, c: v <= 1),
        "frontier_max_refinements": bad_int(0),
        "series_max_refinements": bad_int(0),
        "series_arms": bad_tuple(bad_choice(sw_series.ARMS)),
        **{f"series_learning_rates.{arm}": bad_tuple(bad_number()) for arm in sw_series.ARMS},
        "series_selection_seeds": either(bad_seeds, lambda v, c: bool(set(v) & set(c["seeds"]))),
        "series_sparse_support": either(bad_int(), lambda v, c: v > c["phase_n"]),
        "fcn.width_series": if_arch("fcn", lambda v, c: v != () and bad_tuple(bad_int())(v, c)),
        **{f"{a}.phase_learning_rates": if_arch(a, lambda v, c: v != () and bad_tuple(
            bad_number())(v, c)) for a in ("cnn", "lcn")},
        "activation": bad_choice(models.ACTIVATIONS),
        "compute_path": bad_choice(kpattern_config.COMPUTE_PATHS),
        "llvm_level": lambda v, c: isinstance(v, bool) or v not in (0, 1, 2, 3),
        "seeds_per_block": lambda v, c: v != train.AUTO and bad_int(0)(v, c),
        "seeds_per_call": either(bad_int(0), lambda v, c: c["seeds_per_block"] != train.AUTO
                                 and v % (c["seeds_per_block"] or len(c["seeds"])) != 0),
        "archs": bad_tuple(bad_choice(models.ARCHS)),
        **{f"{a}.{field}": if_arch(a, predicate) for a in ("cnn", "lcn", "fcn")
           for field, predicate in (
               ("init", bad_choice(CONFIG_INITS[a])),
               ("trainable", bad_tuple(bad_choice(models.PARAM_GROUPS))),
               ("optimizer", bad_choice(engine.OPTIMIZERS)),
               ("learning_rate", bad_number()),
               ("first_layer_step", bad_choice(kpattern_config.FIRST_LAYER_STEPS)),
               ("num_steps", bad_int()),
               ("log_every", either(bad_int(), lambda v, c, a=a: c[a]["num_steps"] % v != 0)),
               ("frontier_width", bad_int()),
               ("frontier_ns", either(bad_ints, lambda v, c: min(v) < c["k"])),
               ("frontier_max_num_train", bad_int(0)))},
    },
    "params_vs_accuracy": {
        **COMMON,
        "dataset": bad_choice(params_vs_accuracy.DATASETS),
        "cifar10_dir": None,  # read only when dataset = "cifar10"
        "test_fraction": bad_fraction,
        "data_seed": bad_seed,
        "archs": bad_tuple(bad_choice(image_models.DEEP_ARCHS)),
        "depths": bad_tuple(bad_int(2)),
        **{f"widths.{a}": if_arch(a, bad_ints) for a in ("cnn", "fcn")},
        "optimizer": bad_choice(engine.OPTIMIZERS),
        "learning_rate": bad_number(),
        "num_epochs": bad_int(),
        # The embedded digits are 5,000: no split leaves more training images.
        "batch_size": either(bad_int(), lambda v, c: v > 5000),
        "seeds": bad_seeds,
    },
}


def leaf_paths(values, prefix=()):
  for key, value in values.items():
    if isinstance(value, dict):
      yield from leaf_paths(value, prefix + (key,))
    else:
      yield prefix + (key,)


QUICK = {name: load_config(name, "quick").to_dict() for name in CONFIG_NAMES}


def invalid_table(name):
  return INVALID[QUICK[name]["experiment"]]


def certainly_invalid(name, field, values):
  predicate = invalid_table(name)[field]
  if predicate is None:
    return False
  target = values
  for key in field.split("."):
    target = target[key]
  try:
    return bool(predicate(target, values))
  except Exception:  # depends on another field that is itself invalid: not certain
    return False


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_the_invalid_table_lists_every_field_of_the_config(name):
  for variant in ("", "quick"):
    fields = {".".join(p) for p in leaf_paths(load_config(name, variant).to_dict())}
    assert fields == set(invalid_table(name)), (name, variant)


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_the_quick_config_is_valid_by_the_table_too(name):
  values = copy.deepcopy(QUICK[name])
  assert not [f for f in invalid_table(name) if certainly_invalid(name, f, values)]


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_every_checked_field_set_to_none_is_refused_naming_that_field(name):
  # None is invalid for every field that validation reads; each one alone must be refused
  # with a message naming it: a validate that skips any field fails here.
  for field, predicate in invalid_table(name).items():
    if predicate is None:
      continue
    values = copy.deepcopy(QUICK[name])
    config = with_changes(ml_collections.ConfigDict(values), {field: None})
    assert certainly_invalid(name, field, config.to_dict()), field
    with pytest.raises(checks.ConfigError) as error:
      experiments.validate(config)
    assert str(error.value).startswith(f"config.{field} = None is invalid"), str(error.value)


# ------------------------------------------------------------------------- the fuzz

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
    st.text(max_size=8), st.tuples(), st.lists(st.integers(-5, 300), max_size=4).map(tuple),
    st.lists(st.text(max_size=4), max_size=3).map(tuple),
    st.lists(st.floats(allow_nan=True), max_size=3).map(tuple))


@pytest.mark.parametrize("name", CONFIG_NAMES)
@hypothesis.settings(max_examples=60, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.too_slow])
@hypothesis.given(fuzz=st.data())
def test_random_config_values_are_accepted_or_refused_with_the_field_named(name, fuzz):
  values = copy.deepcopy(QUICK[name])
  paths = list(leaf_paths(values))
  changed = fuzz.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True))
  for path in changed:
    target = values
    for key in path[:-1]:
      target = target[key]
    target[path[-1]] = fuzz.draw(ANY_VALUE)
  invalid = [".".join(p) for p in changed if certainly_invalid(name, ".".join(p), values)]
  config = ml_collections.ConfigDict(values)
  try:
    experiments.validate(config)
  except checks.ConfigError as error:
    message = str(error)
    assert message.startswith("config.") and "expected" in message, message
    named = message.split(" = ")[0][len("config."):].split("[")[0]
    assert named in {".".join(p) for p in leaf_paths(values)}, message
    return
  except data.DataError:  # only when a data directory is read
    assert values.get("digits") == "idx" or values.get("dataset") == "cifar10"
    return
  assert not invalid, f"accepted certainly invalid {[(f, eval_field(values, f)) for f in invalid]}"


def eval_field(values, field):
  for key in field.split("."):
    values = values[key]
  return values


def test_a_config_of_another_experiment_is_refused_naming_the_experiment_field():
  config = load_config("theorem4_width", "quick")
  config.experiment = "lemma6_coverage"  # theorem 4's fields, Lemma 6's checks
  with pytest.raises(checks.ConfigError, match=r"config.experiment = 'lemma6_coverage' is "
                     r"invalid: the config has no field 'ks' that this experiment reads"):
    experiments.validate(config)


# ------------------------------------------------------------------ the run step


@pytest.mark.parametrize("precision", PRECISIONS)
def test_the_run_step_computes_in_the_precision_the_config_names(precision):
  """experiments.run, which the launcher calls, enables float64 for a float64 config: its
  losses are then not float32 numbers (tests/main_test.py checks it through the launcher)."""
  config = with_changes(load_config("separation", "quick"), {
      "ns": (16,), "archs": ("cnn",), "localities": ("local",), "seeds": (0,),
      "precision": precision})
  saved = jax.config.jax_enable_x64, jax.config.jax_default_prng_impl
  try:
    rows, timing = experiments.run(config, checkpoints.Checkpoint())
  finally:
    jax.config.update("jax_enable_x64", saved[0])
    jax.config.update("jax_default_prng_impl", saved[1])
  assert {row["precision"] for row in rows} == {precision}
  losses = [v for row in rows for v in row["curves"]["train_loss"]]
  assert all(float(np.float32(v)) == v for v in losses) == (precision == "float32")
  assert timing["seconds"] == pytest.approx(timing["compile_seconds"] + timing["run_seconds"])
