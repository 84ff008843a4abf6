"""Steps to success: the compiled loop against a plain Python loop, early stop, censoring."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import models, online, tasks, train


def spec_of(arch="fcn", n=8, k=2, num_steps=400, **changes):
  windowed = models.ARCHITECTURES[arch].windowed
  spec = online.OnlineSweep(
      arch=arch, task=tasks.make_task(n, k), width=16 if windowed else 32,
      init="paper" if windowed else "gaussian_bias",
      trainable=("W", "u") if windowed else ("W", "b", "u"), optimizer="sgd",
      learning_rate=1.0 if windowed else 0.1, batch_size=16,
      check_steps=online.check_schedule(num_steps, 5, 1.1), num_eval=600,
      success_accuracy=0.95, first_layer_step_scale=1.0 / (n - k + 1) if arch == "cnn" else 1.0,
      table=windowed)
  return dataclasses.replace(spec, **changes)


def python_loop_first_success(spec, seed):
  """The first check step with accuracy >= target, by one jitted step at a time."""
  task, arch = spec.task, spec.arch
  features = (lambda x: models.pattern_ids(x, task.k)) if spec.table else (lambda x: x)
  init_key, data_key = train.seed_keys(seed)
  params = models.init_params(arch, init_key, task.n, task.k, spec.width, spec.init)
  trained = {g: params[g] for g in spec.trainable}
  frozen = {g: a for g, a in params.items() if g not in spec.trainable}
  x_eval, y_eval = task.sample(jax.random.fold_in(data_key, 1), spec.num_eval)
  train_key = jax.random.fold_in(data_key, 0)

  def output(tr, inputs):
    return models.apply(arch, {**frozen, **tr}, inputs, spec.activation, spec.table)

  @jax.jit
  def step(tr, t):
    x, y = task.sample(jax.random.fold_in(train_key, t), spec.batch_size)
    grads = jax.grad(lambda p: train.hinge_loss(output(p, features(x)), y))(tr)
    scale = {g: spec.first_layer_step_scale if g == "W" else 1.0 for g in grads}
    return {g: tr[g] - spec.learning_rate * scale[g] * grads[g] for g in tr}

  def accuracy(tr):
    return float(train.accuracy(output(tr, features(x_eval)), y_eval))

  if accuracy(trained) >= spec.success_accuracy:
    return 0
  t = 0
  for check in spec.check_steps[1:]:
    while t < check:
      trained = step(trained, t)
      t += 1
    if accuracy(trained) >= spec.success_accuracy:
      return check
  return None


def recorded(out, s):
  step = int(out["steps_to_success"][s])
  return None if step < 0 else step


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["fcn", "cnn", "lcn"])
def test_the_first_success_equals_a_plain_python_loop_over_the_same_steps(arch):
  with jax.enable_x64(True):
    spec = spec_of(arch, n=10, k=2)
    seeds = (0, 1, 2)
    out = online.run(spec, seeds)
    expected = [python_loop_first_success(spec, seed) for seed in seeds]
  assert [recorded(out, s) for s in range(len(seeds))] == expected
  assert any(e is not None for e in expected)


@pytest.mark.slow
def test_a_success_is_recorded_at_its_step_while_the_call_runs_on_and_early_stop_changes_nothing():
  spec = spec_of("fcn", n=8, k=2, num_steps=2000)
  seeds = tuple(range(6))
  together = online.run(spec, seeds)
  steps = [recorded(together, s) for s in range(len(seeds))]
  assert all(s is not None for s in steps) and len(set(steps)) > 1
  # Every network succeeded, so the call stopped at the slowest one, well before the budget.
  assert together["stopped_at"][0] == max(steps) < spec.num_steps
  # Each seed alone stops at its own success, yet records the same step: networks that
  # finished early in the joint call trained on without their step changing.
  for s, seed in enumerate(seeds):
    alone = online.run(spec, (seed,))
    assert recorded(alone, 0) == steps[s] == int(alone["stopped_at"][0])
  # A larger budget (more checks after the last success) changes no recorded step.
  longer = online.run(dataclasses.replace(
      spec, check_steps=online.check_schedule(20000, 5, 1.1)), seeds)
  np.testing.assert_array_equal(longer["steps_to_success"], together["steps_to_success"])


def test_networks_that_never_succeed_are_censored_and_the_call_runs_to_the_budget():
  spec = spec_of("fcn", n=8, k=2, num_steps=10)  # far too few steps
  out = online.run(spec, (0, 1))
  assert list(out["steps_to_success"]) == [-1, -1]
  assert list(out["stopped_at"]) == [10, 10]
  assert np.all(out["final_eval_accuracy"] < 0.95)


def test_screening_the_evaluation_prefix_does_not_change_any_recorded_step(monkeypatch):
  spec = spec_of("fcn", n=8, k=2, num_steps=1000)
  screened = online.run(spec, tuple(range(4)))
  monkeypatch.setattr(online, "SCREEN_SIZE", spec.num_eval)  # evaluate everything, always
  online.compiled_call.cache_clear()
  full = online.run(spec, tuple(range(4)))
  online.compiled_call.cache_clear()
  np.testing.assert_array_equal(screened["steps_to_success"], full["steps_to_success"])
  np.testing.assert_array_equal(screened["final_eval_accuracy"], full["final_eval_accuracy"])


def test_full_batch_reuses_one_sample_and_learns():
  spec = spec_of("cnn", n=10, k=2, protocol="full_batch", num_train=256, num_steps=300)
  out = online.run(spec, (0, 1))
  assert np.all(out["steps_to_success"] > 0)


def test_check_schedule_is_linear_then_geometric_and_ends_at_the_budget():
  steps = online.check_schedule(1000, 10, 1.5)
  assert steps[:4] == (0, 10, 20, 30)
  assert steps[-1] == 1000 and all(b > a for a, b in zip(steps, steps[1:]))
  # Geometric once 1.5 t exceeds t + 10: 30 -> 45 -> 68 -> 102 ...
  assert steps[4:7] == (45, 68, 102)
  assert online.check_schedule(50, 10, 1.0) == (0, 10, 20, 30, 40, 50)
  assert online.check_schedule(7, 10, 1.0) == (0, 7)


def test_online_batches_depend_on_the_seed_and_step_only():
  spec = spec_of("fcn", n=8, k=2, num_steps=2000)
  a = online.run(spec, (3, 4))
  b = online.run(spec, (4, 3))
  assert list(a["steps_to_success"]) == list(b["steps_to_success"][::-1])
