"""The experiment registry, and every config's validation under random values.

The fuzz test draws random values for 1-3 fields of each :quick config and requires that
validation either accepts the config or refuses it with a ConfigError naming a field; and
that it refuses whenever a drawn value is certainly invalid (INVALID below: per config,
field -> predicate). So a validate that skips a field, or returns early, fails it.
"""

import copy
import math

import hypothesis
import jax
import ml_collections
import numpy as np
import pytest
from hypothesis import strategies as st

from conftest import CONFIG_NAMES, load_config, with_changes
from cnnfcn_jax import (checkpoints, checks, data, experiments, image_models, models, online,
                        sweeps, tasks, train)
from cnnfcn_jax.experiments import EXPERIMENTS, PRECISIONS, PRNG_IMPLS
from cnnfcn_jax.experiments import mnist_sequences, params_vs_accuracy

# ------------------------------------------------------------------------ the registry


@pytest.mark.parametrize("name", CONFIG_NAMES)
@pytest.mark.parametrize("variant", ["", "quick"])
def test_every_config_names_a_registered_experiment_and_validates(name, variant):
  config = load_config(name, variant)
  assert config.experiment in EXPERIMENTS
  assert config.prng_impl in PRNG_IMPLS
  experiments.validate(config)


def test_every_registered_experiment_has_a_config():
  assert {load_config(name).experiment for name in CONFIG_NAMES} == set(EXPERIMENTS)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@pytest.mark.parametrize("function", ["validate", "run", "report", "claim_verdicts"])
def test_every_experiment_module_has_the_registry_functions(name, function):
  module = EXPERIMENTS[name]
  assert module.__name__ == f"cnnfcn_jax.experiments.{name}"
  assert callable(getattr(module, function, None)), f"{module.__name__}.{function} is missing"


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
  """sweeps.validate_task and validate_training fields (ns, k and position aside)."""
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
      "compute_path": bad_choice(sweeps.COMPUTE_PATHS),
  }
  for arch in archs:
    def bad_rate(v, c, arch=arch):
      if isinstance(v, (tuple, list)):
        return (len(v) != len(c[arch]["widths"])
                or any(bad_number(allow_zero=True)(r, c) for r in v))
      return bad_number(allow_zero=True)(v, c)
    fields.update({
        f"{arch}.widths": if_arch(arch, bad_ints),
        f"{arch}.init": if_arch(arch, bad_choice(models.ARCHITECTURES[arch].init_schemes)),
        f"{arch}.trainable": if_arch(arch, bad_tuple(bad_choice(models.PARAM_GROUPS))),
        f"{arch}.optimizer": if_arch(arch, bad_choice(train.OPTIMIZERS)),
        f"{arch}.first_layer_step": if_arch(arch, bad_choice(sweeps.FIRST_LAYER_STEPS)),
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
    "optimizer": bad_choice(train.OPTIMIZERS),
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
        "compute_path": bad_choice(sweeps.COMPUTE_PATHS),
        **{f"{a}.{field}": if_arch(a, predicate) for a in ("cnn", "lcn", "fcn")
           for field, predicate in (
               ("width", bad_int(0)), ("width_per_pattern", bad_int(0)),
               ("init", bad_choice(models.ARCHITECTURES[a].init_schemes)),
               ("trainable", bad_tuple(bad_choice(models.PARAM_GROUPS))),
               ("optimizer", bad_choice(train.OPTIMIZERS)),
               ("learning_rate", bad_number()),
               ("rates.sgd", bad_tuple(bad_number())),
               ("first_layer_step", bad_choice(sweeps.FIRST_LAYER_STEPS)),
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
        "fcn.width_series": if_arch("fcn", lambda v, c: v != () and bad_tuple(bad_int())(v, c)),
        "activation": bad_choice(models.ACTIVATIONS),
        "compute_path": bad_choice(sweeps.COMPUTE_PATHS),
        "seeds_per_block": lambda v, c: v != train.AUTO and bad_int(0)(v, c),
        "seeds_per_call": either(bad_int(0), lambda v, c: c["seeds_per_block"] != train.AUTO
                                 and v % (c["seeds_per_block"] or len(c["seeds"])) != 0),
        "archs": bad_tuple(bad_choice(models.ARCHS)),
        **{f"{a}.{field}": if_arch(a, predicate) for a in ("cnn", "lcn", "fcn")
           for field, predicate in (
               ("init", bad_choice(models.ARCHITECTURES[a].init_schemes)),
               ("trainable", bad_tuple(bad_choice(models.PARAM_GROUPS))),
               ("optimizer", bad_choice(train.OPTIMIZERS)),
               ("learning_rate", bad_number()),
               ("first_layer_step", bad_choice(sweeps.FIRST_LAYER_STEPS)),
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
        "optimizer": bad_choice(train.OPTIMIZERS),
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
