"""Your own network and task in the full-batch sweep: a Family with parameter names of its
own and two hidden layers, a flax module through from_flax, tasks that are not k-patterns;
vmapped seeds x widths equal each network trained alone, and wrong families are refused
before anything is compiled."""

import importlib.util
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import models, networks, online, tasks, train

from conftest import ROOT


def mlp_init(key, n, width):
  """Two hidden layers of `width` units, each unit drawn from its own key (so widths nest)."""
  def unit(l):
    k1, k2, k3 = jax.random.split(jax.random.fold_in(key, l), 3)
    return (jax.random.normal(k1, (n,)) / jnp.sqrt(n), jax.random.normal(k2, ()),
            jax.random.normal(k3, ()))
  first, bias, out = jax.vmap(unit)(jnp.arange(width))
  second = jax.random.normal(jax.random.fold_in(key, 2**20), (width, width)) / jnp.sqrt(width)
  return {"first": {"kernel": first.T, "shift": bias},
          "second": {"kernel": second, "shift": jnp.zeros(width)},
          "head": {"weights": out / jnp.sqrt(width), "offset": jnp.zeros(())}}


def mlp_apply(params, x):
  hidden = jax.nn.softplus(x @ params["first"]["kernel"] + params["first"]["shift"])
  hidden = jax.nn.softplus(hidden @ params["second"]["kernel"] + params["second"]["shift"])
  return hidden @ params["head"]["weights"] + params["head"]["offset"]


MLP_AXES = {"first": {"kernel": (1,), "shift": (0,)}, "second": {"kernel": (0, 1), "shift": (0,)},
            "head": {"weights": (0,), "offset": ()}}
MLP = networks.Family("mlp2", mlp_init, mlp_apply, MLP_AXES)
STAIRCASE = tasks.Staircase(n=12, coordinates=(1, 5, 9))


def sweep(family=MLP, task=STAIRCASE, **overrides):
  settings = dict(arch=family, task=task, widths=(2, 5, 8), optimizer="adam",
                  learning_rate=1e-2, num_steps=12, log_every=4, num_train=64, num_test=32)
  return train.Sweep(**{**settings, **overrides})


@pytest.mark.slow
def test_a_family_of_ones_own_in_a_width_sweep_equals_each_network_trained_alone():
  with jax.enable_x64(True):
    together = train.run_sweep(sweep(), [0, 1])
    for w, width in enumerate((2, 5, 8)):
      alone = train.run_sweep(sweep(widths=(width,)), [0, 1])
      for name in train.METRICS:
        np.testing.assert_allclose(together[name][:, w], alone[name][:, 0], rtol=1e-10,
                                   atol=1e-13, err_msg=f"{name} at width {width}")
      # Its parameters: the first `width` units, zero padding beyond them (never moved).
      np.testing.assert_allclose(together["params"]["second"]["kernel"][:, w, :width, :width],
                                 alone["params"]["second"]["kernel"][:, 0], rtol=1e-10)
      assert not together["params"]["second"]["kernel"][:, w, width:].any()
      assert not together["params"]["first"]["kernel"][:, w, :, width:].any()
    assert together["train_loss"][:, :, -1].mean() < together["train_loss"][:, :, 0].mean()


def example_networks():
  """examples/own_network/mynets.py: a flax two-hidden-layer MLP (networks.from_flax)."""
  path = os.path.join(ROOT, "examples", "own_network", "mynets.py")
  spec = importlib.util.spec_from_file_location("mynets", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.mark.slow
def test_a_flax_module_trains_in_the_sweep_as_its_own_unpadded_self():
  family = example_networks().mlp()
  task = tasks.BiasedParity(n=10, coordinates=(2, 7), p=0.7)
  out = train.run_sweep(sweep(family, task, widths=(3, 6)), [0, 1, 2])
  alone = train.run_sweep(sweep(family, task, widths=(3,)), [0, 1, 2])
  np.testing.assert_allclose(out["test_accuracy"][:, 0], alone["test_accuracy"][:, 0],
                             rtol=1e-6)
  np.testing.assert_allclose(out["train_loss"][:, 0], alone["train_loss"][:, 0], rtol=1e-5)
  params = family.init(jax.random.key(0), 10, 3)
  assert params["Dense_1"]["kernel"].shape == (3, 3)
  assert out["params"]["Dense_1"]["kernel"].shape == (3, 2, 6, 6)


def test_tasks_of_ones_own_label_as_their_definitions_say():
  x = jnp.array([[1, 1, -1, 1], [-1, 1, 1, 1], [1, -1, -1, 1], [1, -1, 1, -1]], jnp.float32)
  stairs = tasks.Staircase(n=4, coordinates=(0, 1, 3))
  # x0 + x0 x1 + x0 x1 x3: 1+1+1, -1-1-1, 1-1-1, 1-1+1 -> +, -, -, +
  np.testing.assert_array_equal(stairs.target(x), [1, -1, -1, 1])
  biased = tasks.BiasedParity(n=6, coordinates=(0, 4), p=0.8)
  xs, ys = biased.sample(jax.random.key(3), 20000)
  assert abs(float((xs == 1).mean()) - 0.8) < 0.01
  np.testing.assert_array_equal(ys, xs[:, 0] * xs[:, 4])
  assert abs(float(ys.mean()) - (2 * 0.8 - 1) ** 2) < 0.02  # E[x0 x4] = (2p - 1)^2
  xs, ys = stairs.sample(jax.random.key(4), 64)
  np.testing.assert_array_equal(ys, stairs.target(xs))


def wrong_shape(params, x):
  return mlp_apply(params, x)[:, None]


@pytest.mark.parametrize("family,why", [
    (networks.Family("flat", mlp_init, wrong_shape, MLP_AXES), "outputs of shape (8, 1)"),
    (networks.Family("half", mlp_init, mlp_apply,
                     {**MLP_AXES, "second": {"kernel": (0,), "shift": (0,)}}),
     "a unit axis is missing or wrong"),
    (networks.Family("off", mlp_init, mlp_apply,
                     {**MLP_AXES, "head": {"weights": (1,), "offset": ()}}),
     "has no axis of size 2"),
    (networks.Family("tree", mlp_init, mlp_apply, {"first": (1,)}), "does not match")])
def test_a_family_with_a_wrong_output_or_wrong_unit_axes_is_refused_before_compiling(
    family, why):
  with pytest.raises(ValueError, match=re.escape(why)):
    sweep(family)


def test_our_fields_that_a_family_cannot_honour_are_refused_by_name():
  for field, value in (("table", True), ("first_layer_step_scale", 0.5),
                       ("parametrisation", "mup"), ("trainable", ("W",))):
    with pytest.raises(ValueError, match=f"{field} = "):
      sweep(**{field: value})
  with pytest.raises(ValueError, match="population = True with task = Staircase"):
    train.Sweep(arch="fcn", task=STAIRCASE, init="gaussian", trainable=("W", "u"),
                widths=(2,), optimizer="adam", learning_rate=0.1, num_steps=2, log_every=1,
                num_train=8, num_test=8, population=True)
  with pytest.raises(ValueError, match="init = 'gaussian_bias'"):
    train.Sweep(arch="cnn", task=tasks.make_task(10, 3), init="gaussian_bias", widths=(2,),
                trainable=("W",), optimizer="gd", learning_rate=1.0, num_steps=2,
                log_every=1, num_train=8, num_test=8)


@pytest.mark.slow
def test_the_steps_to_success_call_takes_a_family_and_a_task_of_ones_own():
  # Every (seed, rate) network of one call equals that seed's network in a call of its own,
  # and a network that learns the staircase records the first check where it succeeds.
  spec = online.OnlineSweep(arch=MLP, task=tasks.Staircase(n=8, coordinates=(0, 3, 6)),
                            optimizer="adam", width=8, batch_size=32,
                            check_steps=(0, 50, 100, 200, 400), num_eval=256,
                            success_accuracy=0.9, stop="all")
  rates = (0.01, 0.05)
  together = online.run(spec, (0, 1, 2), rates)
  alone = online.run(spec, (2,), rates)
  np.testing.assert_array_equal(together["steps_to_success"][2], alone["steps_to_success"][0])
  np.testing.assert_allclose(together["final_eval_accuracy"][2],
                             alone["final_eval_accuracy"][0], rtol=1e-6)
  learnt = together["steps_to_success"] > 0
  assert learnt.any() and (together["final_eval_accuracy"][learnt] >= 0.9).all()
  with pytest.raises(ValueError, match="first_layer_step_scale = 0.5"):
    online.OnlineSweep(arch=MLP, task=STAIRCASE, optimizer="adam", width=4, batch_size=8,
                       check_steps=(0, 4), num_eval=8, success_accuracy=0.9,
                       first_layer_step_scale=0.5)


@pytest.mark.slow
@pytest.mark.parametrize("arch, scheme", [("fcn", "gaussian_bias"), ("cnn", "paper"),
                                          ("lcn", "gaussian")])
def test_our_networks_as_families_train_as_they_do_by_name(arch, scheme):
  """models.family: our CNN, LCN and FCN as values of the protocol. A width sweep of the
  family equals the named network's (dense path, every group trained), float64."""
  task = tasks.make_task(10, 3)
  settings = dict(task=task, widths=(2, 5), optimizer="sgd", learning_rate=0.05,
                  num_steps=8, log_every=4, num_train=64, num_test=32)
  with jax.enable_x64(True):
    by_name = train.run_sweep(train.Sweep(arch=arch, init=scheme, trainable=("W", "b", "u"),
                                          **settings), [0, 1])
    as_value = train.run_sweep(train.Sweep(arch=models.family(arch, 3, scheme), **settings),
                               [0, 1])
  for name in train.METRICS:  # first_layer_distance: ours by name only (0 for a family)
    if name != "first_layer_distance":
      np.testing.assert_allclose(as_value[name], by_name[name], rtol=1e-12, atol=1e-14,
                                 err_msg=name)
  np.testing.assert_allclose(as_value["params"]["W"], by_name["params"]["W"], rtol=1e-12)
  assert models.family(arch, 3, scheme) is models.family(arch, 3, scheme)  # compiles once
  with pytest.raises(ValueError, match="models.family: arch = 'fcn', scheme = 'sparse_bias'"):
    models.family("fcn", 3, "sparse_bias")
