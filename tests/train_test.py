"""The sweep engine: vmapped == looped, widths nest, lr = 0 is a no-op, one compile,
learning where the paper says it happens and not where it says it cannot, seed blocks and
device sharding, and a few pinned numbers."""

import dataclasses
import os
import re
import subprocess
import sys

import chex
import jax
import numpy as np
import pytest

import conftest
from cnnfcn_jax import engine, models, networks, tasks, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_sweep(arch="cnn", **overrides):
  """A tiny sweep of two widths. Softplus, not zero at zero, so that the padded units of
  the narrower network would move if the readout mask were missing; the fast tests share
  one compilation per architecture (learning rates are arguments, not part of it)."""
  paper = models.ARCHITECTURES[arch].windowed
  settings = dict(arch=arch, task=tasks.make_task(10, 3), widths=(4, 9), init="paper" if paper
                  else "gaussian", trainable=("W", "u") if paper else ("W", "b", "u"),
                  optimizer="gd" if paper else "adam", learning_rate=0.5 if paper else 1e-2,
                  num_steps=12, log_every=4, num_train=64, num_test=32, table=paper,
                  activation="softplus")
  settings.update(overrides)
  return train.Sweep(**settings)


def assert_trees_equal(a, b, rtol=0.0):
  for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(a), jax.tree.leaves(b),
                          strict=True):
    np.testing.assert_allclose(x, y, rtol=rtol, atol=0, err_msg=jax.tree_util.keystr(path))


def unit_slice(arch, group, array, units):
  """array[..., units, ...] along the unit axis of `group` (after the leading S, W axes)."""
  return np.take(array, units, axis=2 + models.ARCHITECTURES[arch].unit_axes[
      models.PARAM_GROUPS.index(group)])


def test_hinge_loss_and_accuracy():
  h, y = np.array([2.0, 0.5, -1.0, 0.0]), np.array([1.0, 1.0, 1.0, -1.0])
  assert float(engine.hinge_loss(h, y)) == pytest.approx((0 + 0.5 + 2 + 1) / 4)
  assert float(engine.accuracy(h, y)) == 0.5  # h = 0 predicts +1


def test_seed_keys_split_init_then_data():
  init_key, data_key = engine.seed_keys(7)
  first, second = jax.random.split(jax.random.key(7))
  assert np.array_equal(jax.random.key_data(init_key), jax.random.key_data(first))
  assert np.array_equal(jax.random.key_data(data_key), jax.random.key_data(second))


# ------------------------------------------------------------------- golden numbers
# Pinned outputs of tiny float32 sweeps. They change when the numerics change (key
# splits, init, loss, optimiser, sampling). Update them only when such a change is
# intended, and say why in the commit message.
# Values: the width-9 network of small_sweep(arch) (softplus) at the last step, seeds 0, 1.
GOLDEN = {
    "cnn": dict(train_loss=[0.87462091, 0.83477557], test_accuracy=[0.625, 0.5],
                grad_norm=[0.83149666, 0.16955625]),
    "lcn": dict(train_loss=[1.21028721, 0.83540487], test_accuracy=[0.375, 0.5625],
                grad_norm=[1.84865391, 0.22063245]),
    "fcn": dict(train_loss=[0.76118326, 0.90634787], test_accuracy=[0.59375, 0.5],
                grad_norm=[0.19682804, 0.15567331]),
}


@pytest.mark.parametrize("arch", models.ARCHS)
def test_golden_sweep_numbers(arch):
  out = train.run_sweep(small_sweep(arch), [0, 1])
  got = {name: [float(v) for v in out[name][:, 1, -1]] for name in GOLDEN[arch]}
  for name, want in GOLDEN[arch].items():
    np.testing.assert_allclose(got[name], want, rtol=1e-5, err_msg=f"{arch} {name}: {got}")


# ------------------------------------------------------------------ sweep properties


@pytest.mark.parametrize("arch", models.ARCHS)
def test_padded_units_stay_exactly_zero_with_an_activation_nonzero_at_zero(arch):
  # softplus(0) = log 2: without the readout mask the padded units of the width-4 network
  # would feed the output and get a gradient; with it they must never move from zero.
  out = train.run_sweep(small_sweep(arch), [0, 1])
  for group in models.PARAM_GROUPS:
    padding = unit_slice(arch, group, out["params"][group][:, :1], range(4, 9))
    assert not padding.any(), group


@pytest.mark.parametrize("arch", models.ARCHS)
def test_zero_learning_rate_leaves_params_unchanged(arch):
  out = train.run_sweep(small_sweep(arch, learning_rate=0.0), [0, 1])
  assert_trees_equal(out["params"], out["params0"])
  assert not out["first_layer_distance"].any()


def test_larger_learning_rate_moves_the_first_layer_further():
  # Seeds [0, 1] and small_sweep's shapes: the compilation of the golden test is reused.
  slow = train.run_sweep(small_sweep("fcn", learning_rate=1e-3), [0, 1])
  fast = train.run_sweep(small_sweep("fcn", learning_rate=1e-2), [0, 1])
  assert np.all(fast["first_layer_distance"][..., -1] > slow["first_layer_distance"][..., -1])


def test_frozen_groups_do_not_move():
  out = train.run_sweep(small_sweep("cnn"), [0, 1])
  np.testing.assert_array_equal(out["params"]["b"], out["params0"]["b"])
  assert np.abs(out["params"]["u"] - out["params0"]["u"]).max() > 0


def test_sweep_compiles_once_for_new_seeds():
  sweep = small_sweep("cnn")
  fn = jax.jit(chex.assert_max_traces(train.sweep_fn(sweep), n=1))
  first = fn(np.asarray([0, 1], np.uint32), *train.sweep_args(sweep))
  second = fn(np.asarray([2, 3], np.uint32), *train.sweep_args(sweep))  # raises if retraced
  assert not np.array_equal(first["params0"]["W"], second["params0"]["W"])


def test_a_task_and_its_nonlocal_twin_share_one_program_and_keep_their_own_labels():
  local = small_sweep("lcn", task=tasks.make_task(16, 3, locality="local"))
  twin = small_sweep("lcn", task=tasks.make_task(16, 3, locality="nonlocal"))
  assert train.program_key(local) == train.program_key(twin)
  fn = jax.jit(chex.assert_max_traces(train.sweep_fn(train.program_key(local)), n=1))
  seeds = np.asarray([0, 1], np.uint32)
  shared = [fn(seeds, *train.sweep_args(s)) for s in (local, twin)]  # raises if retraced
  assert_trees_equal(shared[0]["params0"], shared[1]["params0"])  # the same inits
  assert not np.array_equal(shared[0]["params"]["u"], shared[1]["params"]["u"])  # own labels


def test_seeds_per_call_must_be_whole_blocks():
  with pytest.raises(ValueError, match="multiple of seeds_per_block"):
    train.run_sweep(small_sweep("cnn"), range(4), seeds_per_block=2, seeds_per_call=3)


# ------------------------------------------------------------------------- learning


def learning_sweep(arch, n, locality="local", **overrides):
  paper = models.ARCHITECTURES[arch].windowed
  settings = dict(task=tasks.make_task(n, 3, locality=locality), widths=(32,), num_steps=200,
                  log_every=100, num_train=1024, num_test=1024,
                  learning_rate=1.0 if paper else 1e-2, activation="relu")
  settings.update(overrides)
  return small_sweep(arch, **settings)


@pytest.mark.parametrize("arch", ["cnn", "lcn"])
def test_cnn_and_lcn_learn_a_local_3_parity_from_the_paper_init(arch):
  out = train.run_sweep(learning_sweep(arch, 16), [0, 1])
  assert out["test_accuracy"][..., 0].max() < 0.7  # u = 0: no information at step 0
  assert out["test_accuracy"][..., -1].min() > 0.95
  assert np.all(np.diff(out["train_loss"], axis=-1) <= 1e-6)  # GD decreases the loss


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["cnn", "lcn"])
def test_cnn_and_lcn_stay_at_chance_on_the_nonlocal_twin(arch):
  out = train.run_sweep(learning_sweep(arch, 16, "nonlocal"), [0, 1])
  # 1024 test samples: chance is 0.5 ± 0.016 (one binomial standard error).
  assert np.abs(out["test_accuracy"][..., -1] - 0.5).max() < 0.07


@pytest.mark.slow
def test_fcn_learns_at_small_n_and_stays_at_chance_at_a_hard_n():
  easy = train.run_sweep(learning_sweep("fcn", 8, num_steps=400), [0, 1])
  hard = train.run_sweep(learning_sweep("fcn", 64, num_steps=400), [0, 1])
  assert easy["test_accuracy"][..., -1].min() > 0.9
  assert np.abs(hard["test_accuracy"][..., -1] - 0.5).max() < 0.07
  assert hard["train_accuracy"][..., -1].min() > hard["test_accuracy"][..., -1].max()  # fits


# -------------------------------------------------- float64 identities (slow tier)


@pytest.mark.slow
@pytest.mark.parametrize("arch,table", [("cnn", True), ("lcn", False), ("fcn", False)])
def test_vmapped_seeds_equal_a_python_loop_over_seeds(arch, table):
  # Equal to float64 rounding: a batched matmul may sum in another order than a single one.
  with jax.enable_x64(True):
    sweep = small_sweep(arch, table=table)
    together = train.run_sweep(sweep, [3, 1, 4])
    for s, seed in enumerate([3, 1, 4]):
      alone = train.run_sweep(sweep, [seed])
      assert_trees_equal(jax.tree.map(lambda a: a[s], together),
                         jax.tree.map(lambda a: a[0], alone), rtol=1e-10)


# softplus is not zero at zero: a padded unit's readout gradient is then not zero either, so
# only the readout mask keeps it still (each architecture's readout axis); relu once.
@pytest.mark.slow
@pytest.mark.parametrize("arch,activation", [(arch, "softplus") for arch in models.ARCHS]
                         + [("cnn", "relu")])
def test_network_in_a_width_sweep_equals_the_network_trained_alone(arch, activation):
  with jax.enable_x64(True):
    together = train.run_sweep(small_sweep(arch, widths=(2, 5, 9), activation=activation),
                               [0, 1])
    for w, width in enumerate((2, 5, 9)):
      alone = train.run_sweep(small_sweep(arch, widths=(width,), activation=activation), [0, 1])
      for name in train.METRICS:
        np.testing.assert_allclose(together[name][:, w], alone[name][:, 0], rtol=1e-10,
                                   atol=1e-13, err_msg=name)
      for group, a in alone["params"].items():
        mine = unit_slice(arch, group, together["params"][group][:, w:w + 1], range(width))
        np.testing.assert_allclose(mine[:, 0], a[:, 0], rtol=1e-10, atol=1e-13)
        padding = unit_slice(arch, group, together["params"][group][:, w:w + 1],
                             range(width, 9))
        assert not padding.any()


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["cnn", "fcn"])
def test_a_diverging_width_is_frozen_and_leaves_the_others_untouched(arch):
  with jax.enable_x64(True):
    calm = 0.5 if arch == "cnn" else 1e-2
    mixed = train.run_sweep(small_sweep(arch, widths=(4, 9), optimizer="gd",
                                        learning_rate=(calm, 1e300)), [0, 1, 2])
    alone = train.run_sweep(small_sweep(arch, widths=(4,), optimizer="gd", learning_rate=calm),
                            [0, 1, 2])
    assert mixed["diverged"][:, 1, -1].all() and not mixed["diverged"][:, 0].any()
    for name in train.METRICS:
      np.testing.assert_allclose(mixed[name][:, 0], alone[name][:, 0], rtol=1e-10, atol=1e-13)
    for leaf in jax.tree.leaves(mixed["params"]):  # frozen at its last finite state
      assert np.isfinite(leaf).all()


@pytest.mark.parametrize("arch", ["cnn", "fcn"])
def test_the_sweeps_step_latches_divergence_through_later_finite_steps(arch):
  """The full-batch sweep repeats one sample, so a network's non-finite step recurs from the
  state it keeps and the latch cannot show in run_sweep; this drives the step it calls
  (engine.update, with the sweep's optimiser and first-layer scale) through a loss that is
  non-finite once and finite after, as a changing batch would make it."""
  sweep = small_sweep(arch, first_layer_step_scale=0.25)
  optimizer = engine.optimizer(sweep, 0.1)
  trained = engine.init_network(sweep, engine.seed_keys(0)[0], 4)[1]
  grads = jax.tree.map(jax.numpy.ones_like, trained)
  state = (trained, optimizer.init(trained), jax.numpy.array(False))
  after = []
  for loss in (1.0, np.nan, 1.0, 1.0):
    state = engine.update(optimizer, state, loss, grads)
    after.append(state)
  assert [bool(s[2]) for s in after] == [False, True, True, True]
  for later in after[1:]:  # the state after the first step, kept through every later one
    assert_trees_equal(later[:2], after[0][:2])
  assert not np.array_equal(after[0][0]["u"], trained["u"])


# ------------------------------------------------------- seed blocks and devices (slow)


@pytest.mark.slow
def test_chunks_of_blocks_are_bitwise_identical_to_one_call():
  with jax.enable_x64(True):
    for arch in models.ARCHS:
      whole = train.run_sweep(small_sweep(arch), range(5), seeds_per_block=2)
      assert whole["test_accuracy"].shape[0] == 5  # the padding seed is dropped
      # Calls of 2 seeds: the last one a lone seed padded to its block.
      assert_trees_equal(train.run_sweep(small_sweep(arch), range(5), seeds_per_block=2,
                                         seeds_per_call=2), whole)
      # Another block size is another batch shape: equal to float64 rounding only. The
      # FCN trains with Adam, which divides by sqrt(v): where a gradient entry is tiny, a
      # rounding difference grows (1.3e-10 relative measured), hence its looser tolerance.
      assert_trees_equal(train.run_sweep(small_sweep(arch), range(5), seeds_per_block=5),
                         whole, rtol=1e-8 if arch == "fcn" else 1e-10)


SHARDED = """
import sys
import jax, numpy as np
jax.config.update("jax_enable_x64", True)
assert len(jax.devices()) == 4, jax.devices()
import train_test as t
from cnnfcn_jax import train
out = {}
for arch in ("cnn", "lcn", "fcn"):
  sweep = t.small_sweep(arch)
  # 6 seeds in blocks of 2: 3 blocks, padded to 4 to fill the 4 devices.
  placed = train._blocks_fn(sweep, 4)(np.arange(8, dtype=np.uint32).reshape(4, 2),
                                      train.sweep_args(sweep))
  assert len(placed["params"]["W"].sharding.device_set) == 4
  for path, a in jax.tree_util.tree_leaves_with_path(train.run_sweep(sweep, range(6), 2)):
    out[arch + jax.tree_util.keystr(path)] = a
np.savez(sys.argv[1], **out)
"""


@pytest.mark.slow
def test_sharded_blocks_equal_one_device(tmp_path):
  flags = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
  env = {**os.environ, "XLA_FLAGS": flags,
         "PYTHONPATH": os.path.join(ROOT, "tests")}
  path = tmp_path / "sharded.npz"
  result = subprocess.run([sys.executable, "-c", SHARDED, str(path)], env=env,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  sharded = np.load(path)
  with jax.enable_x64(True):
    for arch in models.ARCHS:
      one_device = train.run_sweep(small_sweep(arch), range(6), seeds_per_block=2)
      # CNN and LCN agree bit for bit; the FCN's dense steps on the 4 simulated CPU devices
      # drift by a few ulps, which Adam grows (3.0e-11 relative measured), so its check is
      # float rounding.
      for p, a in jax.tree_util.tree_leaves_with_path(one_device):
        name = arch + jax.tree_util.keystr(p)
        np.testing.assert_allclose(sharded[name], a, rtol=0 if arch != "fcn" else 1e-9,
                                   atol=0, err_msg=name)


DEFAULT_LEVEL = """
import sys
import jax, numpy as np
import train_test as t
from cnnfcn_jax import train
out = {}
for arch in ("cnn", "lcn", "fcn"):
  for path, a in jax.tree_util.tree_leaves_with_path(train.run_sweep(t.guard_sweep(arch), [0, 1])):
    out[arch + jax.tree_util.keystr(path)] = a
np.savez(sys.argv[1], **out)
"""


def guard_sweep(arch):
  return small_sweep(arch, num_steps=40, log_every=10)


@pytest.mark.slow
def test_the_suites_compile_level_trains_bitwise_as_the_default_does(tmp_path):
  """The suite compiles at a lower LLVM level than runs do (conftest.py). Parameters,
  losses, accuracies and gradient norms must not notice; test_correlation, one mean over
  the test set, may be summed in another order."""
  level = f"{conftest.LEVEL_FLAG}={conftest.SUITE_LEVEL}"
  if level not in os.environ.get("XLA_FLAGS", ""):
    pytest.skip(f"this process does not compile with {level}")
  env = {**os.environ, "XLA_FLAGS": os.environ["XLA_FLAGS"].replace(level, ""),
         "PYTHONPATH": os.path.join(ROOT, "tests")}
  path = tmp_path / "default_level.npz"
  result = subprocess.run([sys.executable, "-c", DEFAULT_LEVEL, str(path)], env=env,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  default = np.load(path)
  for arch in models.ARCHS:
    for p, a in jax.tree_util.tree_leaves_with_path(train.run_sweep(guard_sweep(arch), [0, 1])):
      name = arch + jax.tree_util.keystr(p)
      exact = "test_correlation" not in name
      np.testing.assert_allclose(default[name], a, rtol=0 if exact else 1e-6,
                                 atol=0 if exact else 1e-7, err_msg=name)


def test_widths_are_bucketed_by_the_power_of_two_at_or_above_them():
  assert networks.width_buckets((2, 3, 4, 7, 8, 9, 128, 5)) == ((0,), (1, 2), (3, 4, 7), (5,), (6,))
  assert networks.width_buckets((16, 1)) == ((1,), (0,))
  assert networks.width_buckets((2, 3, 9), bucketed=False) == ((0, 1, 2),)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["lcn", "fcn"])
def test_bucketed_and_padded_widths_train_the_same_networks(arch):
  """Widths sharing buckets (3 and 4; 7 and 8) and alone in theirs (2, 16): the bucketed
  sweep equals the one padded to the largest width, parameters included."""
  widths = (16, 3, 2, 7, 4, 8)
  with jax.enable_x64(True):
    sweep = small_sweep(arch, widths=widths)
    bucketed = train.run_sweep(dataclasses.replace(sweep, bucketed=True), [0, 1])
    padded = train.run_sweep(sweep, [0, 1])
  for name in train.METRICS:
    np.testing.assert_allclose(bucketed[name], padded[name], rtol=1e-10, atol=1e-13,
                               err_msg=name)
  for key in ("params0", "params"):
    for group in bucketed[key]:
      np.testing.assert_allclose(bucketed[key][group], padded[key][group], rtol=1e-10,
                                 atol=1e-13, err_msg=f"{key} {group}")


# ------------------------------------------- sample sizes padded to a capacity (issue 39)


def test_sweeps_differing_only_in_m_up_to_the_capacity_share_one_key():
  a, b = (small_sweep("fcn", num_train=m, train_capacity=600) for m in (40, 600))
  assert train.program_key(a) == train.program_key(b)
  assert train.program_key(a) != train.program_key(dataclasses.replace(a, train_capacity=700))
  # Without a capacity m stays part of the program, trained in one pass as before.
  assert train.program_key(small_sweep(num_train=40)) != train.program_key(
      small_sweep(num_train=41))


@pytest.mark.parametrize("overrides,named", [
    (dict(num_train=65, train_capacity=64), "train_capacity = 64"),
    (dict(population=True, train_capacity=64), "population = True")])
def test_a_capacity_below_m_or_with_the_population_is_refused(overrides, named):
  with pytest.raises(ValueError, match=named):
    small_sweep(**overrides)


def test_one_program_serves_every_m_up_to_the_capacity_and_trains_on_the_first_m():
  """m = 530 spans two chunks of 512 and m = 40 one: the second call compiles nothing,
  and each equals the unpadded sweep at its m (float32 rounding apart)."""
  from cnnfcn_jax import progress
  seeds = [0, 1]
  padded = {}
  for m in (530, 40):
    before = progress.programs_compiled()
    padded[m] = train.run_sweep(small_sweep("cnn", num_train=m, train_capacity=1000), seeds)
    compiled = progress.programs_compiled() - before
  assert compiled == 0  # m = 40 ran the program compiled for m = 530
  for m in (530, 40):
    alone = train.run_sweep(small_sweep("cnn", num_train=m), seeds)
    for name in ("train_loss", "train_accuracy", "test_accuracy", "grad_norm"):
      np.testing.assert_allclose(padded[m][name], alone[name], rtol=2e-5, atol=1e-6,
                                 err_msg=f"m = {m}: {name}")


@pytest.mark.slow
@pytest.mark.parametrize("arch,table,optimizer", [("cnn", True, "gd"), ("lcn", True, "gd"),
                                                  ("cnn", False, "gd"), ("fcn", False, "sgd")])
def test_a_padded_and_masked_sweep_equals_the_unpadded_one_in_float64(arch, table, optimizer):
  """Chunked at the capacity or in one pass at m: the same networks to float64 rounding
  (SGD for the FCN: Adam's first steps divide by a vanishing second moment, which turns
  summation order into differences far above rounding)."""
  with jax.enable_x64(True):
    for m in (530, 1100):  # a chunk and a part; two chunks and a part (capacity 1500)
      sweep = small_sweep(arch, table=table, optimizer=optimizer, learning_rate=0.2,
                          num_train=m)
      alone = train.run_sweep(sweep, [0, 3])
      padded = train.run_sweep(dataclasses.replace(sweep, train_capacity=1500), [0, 3])
      for name in train.METRICS:
        np.testing.assert_allclose(padded[name], alone[name], rtol=0, atol=1e-12,
                                   err_msg=f"m = {m}: {name}")
      for key in ("params0", "params"):
        for group in alone[key]:
          np.testing.assert_allclose(padded[key][group], alone[key][group], rtol=0,
                                     atol=1e-12, err_msg=f"m = {m}: {key} {group}")


def test_the_mup_readout_is_the_standard_one_rescaled_and_widths_still_nest():
  # u ~ N(0, 1) drawn from the same keys as the standard u ~ N(0, 1/q), and h = (1/q) Σ u σ:
  # the initial outputs are the standard network's / sqrt(q), each at its own width.
  with jax.enable_x64(True):
    widths = (2, 5, 9)
    standard = train.run_sweep(small_sweep("fcn", widths=widths), [0, 1])
    mup = train.run_sweep(small_sweep("fcn", widths=widths, parametrisation="mup"), [0, 1])
    scale = np.sqrt(np.array(widths, float))
    # (to 1e-6: the standard init divides by the square root of an int32 width in float32)
    np.testing.assert_allclose(mup["params0"]["u"], standard["params0"]["u"]
                               * scale[None, :, None], rtol=1e-6)
    np.testing.assert_allclose(mup["test_correlation"][:, :, 0],
                               standard["test_correlation"][:, :, 0] / scale, rtol=1e-6)
    # The multiplier is the network's own width's, not the call's widest.
    alone = train.run_sweep(small_sweep("fcn", widths=(5,), parametrisation="mup"), [0, 1])
    for name in train.METRICS:
      np.testing.assert_allclose(mup[name][:, 1], alone[name][:, 0], rtol=1e-10, atol=1e-13,
                                 err_msg=name)


def test_adams_first_mup_step_moves_each_live_readout_weight_by_the_rate():
  # Whatever its gradient's scale (1/q here): the function's readout u/q moves by rate/q.
  widths = (2, 5, 9)
  one = train.run_sweep(small_sweep("fcn", widths=widths, parametrisation="mup", num_steps=1,
                                    log_every=1, learning_rate=0.05), [0])
  moved = np.abs(one["params"]["u"] - one["params0"]["u"])[0]
  for w, width in enumerate(widths):
    np.testing.assert_allclose(moved[w, :width], 0.05, rtol=1e-4)
    assert not moved[w, width:].any()


@pytest.mark.parametrize("overrides,named", [
    (dict(parametrisation="ntk"), "parametrisation = 'ntk'"),
    (dict(parametrisation="mup", init="paper"), "init = 'paper'")])
def test_an_unknown_parametrisation_or_mup_without_a_gaussian_readout_is_refused(overrides,
                                                                               named):
  with pytest.raises(ValueError, match=re.escape(named)):
    small_sweep("fcn", **overrides)


@pytest.mark.parametrize("name", ["gd", "adam"])
def test_the_first_layer_scale_is_an_optax_transform_on_that_group_alone(name):
  # Chained after the optimiser: the first layer's update is the optimiser's times the
  # scale, the readout's the optimiser's own, whatever the optimiser.
  sweep = small_sweep("cnn", optimizer=name, first_layer_step_scale=0.25)
  trained = engine.init_network(sweep, engine.seed_keys(0)[0], 4)[1]
  grads = jax.tree.map(lambda a: jax.numpy.full_like(a, 0.3), trained)
  plain = engine.OPTIMIZERS[name](0.1)
  scaled = engine.optimizer(sweep, 0.1)
  want, _ = plain.update(grads, plain.init(trained), trained)
  got, _ = scaled.update(grads, scaled.init(trained), trained)
  np.testing.assert_array_equal(got["W"], want["W"] * 0.25)
  np.testing.assert_array_equal(got["u"], want["u"])
  assert engine.optimizer(small_sweep("cnn", optimizer=name), 0.1).init(trained).__class__ \
      is plain.init(trained).__class__  # scale 1: the optimiser alone
