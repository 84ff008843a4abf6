"""The sweep engine: vmapped == looped, widths nest, lr = 0 is a no-op, one compile."""

import chex
import jax
import numpy as np
import pytest

from cnnfcn_jax import tasks, train


def small_sweep(arch="cnn", **overrides):
  paper = arch != "fcn"
  settings = dict(arch=arch, task=tasks.make_task(10, 3), widths=(4, 9), init="paper" if paper
                  else "gaussian", trainable=("W", "u") if paper else ("W", "b", "u"),
                  optimizer="gd" if paper else "adam", learning_rate=0.5 if paper else 1e-2,
                  num_steps=12, log_every=4, num_train=64, num_test=32, table=paper)
  settings.update(overrides)
  return train.Sweep(**settings)


def assert_trees_equal(a, b, rtol=0.0):
  for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(x, y, rtol=rtol, atol=0, err_msg=jax.tree_util.keystr(path))


def test_hinge_loss_and_accuracy():
  h, y = np.array([2.0, 0.5, -1.0, 0.0]), np.array([1.0, 1.0, 1.0, -1.0])
  assert float(train.hinge_loss(h, y)) == pytest.approx((0 + 0.5 + 2 + 1) / 4)
  assert float(train.accuracy(h, y)) == 0.5


@pytest.mark.parametrize("arch,table", [("cnn", True), ("lcn", False), ("fcn", False)])
def test_vmapped_seeds_equal_a_python_loop_over_seeds(arch, table):
  # Equal to float64 rounding: a batched matmul may sum in another order than a single one.
  with jax.enable_x64(True):
    sweep = small_sweep(arch, table=table)
    together = train.run_sweep(sweep, [3, 1, 4])
    for s, seed in enumerate([3, 1, 4]):
      alone = train.run_sweep(sweep, [seed])
      assert_trees_equal(jax.tree.map(lambda a: a[s], together), jax.tree.map(lambda a: a[0], alone),
                         rtol=1e-10)


@pytest.mark.parametrize("arch", ["cnn", "lcn", "fcn"])
def test_network_in_a_width_sweep_equals_the_network_trained_alone(arch):
  with jax.enable_x64(True):
    together = train.run_sweep(small_sweep(arch, widths=(2, 5, 9)), [0, 1])
    for w, width in enumerate((2, 5, 9)):
      alone = train.run_sweep(small_sweep(arch, widths=(width,)), [0, 1])
      for name in train.METRICS:
        np.testing.assert_allclose(together[name][:, w], alone[name][:, 0], rtol=1e-10,
                                   atol=1e-13, err_msg=name)
      for group, a in alone["params"].items():
        unit_axis = 2 if (arch == "lcn" and group != "u") or (arch != "fcn" and group == "u") else 1
        np.testing.assert_allclose(np.take(together["params"][group][:, w], range(width),
                                           axis=unit_axis), a[:, 0], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("arch", ["cnn", "lcn", "fcn"])
def test_zero_learning_rate_leaves_params_unchanged(arch):
  out = train.run_sweep(small_sweep(arch, learning_rate=0.0), [0, 1])
  assert_trees_equal(out["params"], out["params0"])
  assert not out["first_layer_distance"].any()


def test_larger_learning_rate_moves_the_first_layer_further():
  slow = train.run_sweep(small_sweep("fcn", learning_rate=1e-3), [0])
  fast = train.run_sweep(small_sweep("fcn", learning_rate=1e-2), [0])
  assert np.all(fast["first_layer_distance"][..., -1] > slow["first_layer_distance"][..., -1])


def test_frozen_groups_do_not_move():
  out = train.run_sweep(small_sweep("cnn"), [0])
  np.testing.assert_array_equal(out["params"]["b"], out["params0"]["b"])
  assert np.abs(out["params"]["u"] - out["params0"]["u"]).max() > 0


def test_sweep_compiles_once_for_new_seeds():
  sweep = small_sweep("cnn")
  fn = jax.jit(chex.assert_max_traces(train.sweep_fn(sweep), n=1))
  first = fn(np.asarray([0, 1], np.uint32), *train.sweep_axes(sweep))
  second = fn(np.asarray([2, 3], np.uint32), *train.sweep_axes(sweep))  # raises if retraced
  assert not np.array_equal(first["params0"]["W"], second["params0"]["W"])


def test_cnn_learns_a_k_pattern_by_gd_from_the_paper_init():
  sweep = small_sweep("cnn", task=tasks.make_task(16, 3), widths=(32,), num_steps=200,
                      log_every=50, num_train=1024, num_test=512, learning_rate=1.0)
  out = train.run_sweep(sweep, [0, 1])
  assert out["test_accuracy"][..., 0].max() < 0.7  # u = 0: no information at step 0
  assert out["test_accuracy"][..., -1].min() > 0.95
  assert np.all(np.diff(out["train_loss"], axis=-1) <= 1e-6)  # GD on a convex-ish problem


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
