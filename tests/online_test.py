"""Steps to success: the compiled loop against a plain Python loop, rates as an axis, the
stops, censoring, divergence, the success threshold."""

import dataclasses
import fractions
import functools
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import engine, halving, models, online, stats, tasks

TESTS = os.path.dirname(os.path.abspath(__file__))


def spec_of(arch="fcn", n=8, k=2, num_steps=400, **changes):
  windowed = models.ARCHITECTURES[arch].windowed
  spec = online.OnlineSweep(
      arch=arch, task=tasks.make_task(n, k), width=16 if windowed else 32,
      init="paper" if windowed else "gaussian_bias",
      trainable=("W", "u") if windowed else ("W", "b", "u"), optimizer="sgd", batch_size=16,
      check_steps=online.check_schedule(num_steps, 5, 1.1), num_eval=600,
      success_accuracy=0.95, first_layer_step_scale=1.0 / (n - k + 1) if arch == "cnn" else 1.0,
      table=windowed, stop="all")
  return dataclasses.replace(spec, **changes)


@functools.lru_cache(maxsize=None)
def python_loop_errors(spec, seed, rate):
  """Evaluation errors at every check of one network, by one jitted step at a time
  (remembered: tests that ask twice for one network get the same tuple)."""
  task, arch = spec.task, spec.arch
  features = (lambda x: models.pattern_ids(x, task.k)) if spec.table else (lambda x: x)
  init_key, data_key = engine.seed_keys(seed)
  params = models.init_params(arch, init_key, task.n, task.k, spec.width, spec.init)
  trained = {g: params[g] for g in spec.trainable}
  frozen = {g: a for g, a in params.items() if g not in spec.trainable}
  x_eval = engine.sample_inputs(jax.random.fold_in(data_key, 1), spec.num_eval, task.n, packed=True)
  y_eval = task.target(x_eval)
  train_key = jax.random.fold_in(data_key, 0)

  def output(tr, inputs):
    return models.apply(arch, {**frozen, **tr}, inputs, spec.activation, spec.table)

  @jax.jit
  def step(tr, t):
    x = engine.sample_inputs(jax.random.fold_in(train_key, t), spec.batch_size, task.n, packed=True)
    y = task.target(x)
    grads = jax.grad(lambda p: engine.hinge_loss(output(p, features(x)), y))(tr)
    scale = {g: spec.first_layer_step_scale if g == "W" else 1.0 for g in grads}
    return {g: tr[g] - rate * scale[g] * grads[g] for g in tr}

  @jax.jit
  def count_errors(tr):
    return jnp.sum(jnp.where(output(tr, features(x_eval)) >= 0, 1.0, -1.0) != y_eval)

  def errors(tr):
    return int(count_errors(tr))

  result, t = [errors(trained)], 0
  for check in spec.check_steps[1:]:
    while t < check:
      trained = step(trained, t)
      t += 1
    result.append(errors(trained))
  return tuple(result)


def first_success(spec, errors):
  """The first check whose errors are within the threshold, or None."""
  allowed = online.allowed_errors(spec.num_eval, spec.success_accuracy)
  return next((t for t, e in zip(spec.check_steps, errors) if e <= allowed), None)


def recorded(out, s, r=0):
  step = int(out["steps_to_success"][s, r])
  return None if step < 0 else step


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["fcn", "cnn", "lcn"])
def test_the_first_success_equals_a_plain_python_loop_over_the_same_steps(arch):
  with jax.enable_x64(True):
    spec = spec_of(arch, n=10, k=2)
    seeds, rate = (0, 1, 2), 1.0 if arch != "fcn" else 0.1
    out = online.run(spec, seeds, (rate,))
    expected = [first_success(spec, python_loop_errors(spec, seed, rate)) for seed in seeds]
  assert [recorded(out, s) for s in range(len(seeds))] == expected
  assert any(e is not None for e in expected)


@pytest.mark.slow
def test_a_success_is_recorded_at_its_step_while_the_call_runs_on_and_early_stop_changes_nothing():
  spec = spec_of("fcn", n=8, k=2, num_steps=2000)
  seeds = tuple(range(6))
  together = online.run(spec, seeds, (0.1,))
  steps = [recorded(together, s) for s in range(len(seeds))]
  assert all(s is not None for s in steps) and len(set(steps)) > 1
  # Every network succeeded, so the call stopped at the slowest one, well before the budget.
  assert together["stopped_at"][0, 0] == max(steps) < spec.num_steps
  # Each seed alone stops at its own success, yet records the same step: networks that
  # finished early in the joint call trained on without their step changing.
  for s, seed in enumerate(seeds):
    alone = online.run(spec, (seed,), (0.1,))
    assert recorded(alone, 0) == steps[s] == int(alone["stopped_at"][0, 0])
  # A larger budget (more checks after the last success) changes no recorded step.
  longer = online.run(dataclasses.replace(
      spec, check_steps=online.check_schedule(20000, 5, 1.1)), seeds, (0.1,))
  np.testing.assert_array_equal(longer["steps_to_success"], together["steps_to_success"])


def test_networks_that_never_succeed_are_censored_and_the_call_runs_to_the_budget():
  spec = spec_of("fcn", n=8, k=2, num_steps=10)  # far too few steps
  out = online.run(spec, (0, 1), (0.1,))
  assert out["steps_to_success"].tolist() == [[-1], [-1]]
  assert out["stopped_at"].tolist() == [[10], [10]]
  assert np.all(out["final_eval_accuracy"] < 0.95)


@pytest.mark.slow
def test_evaluating_chunk_by_chunk_with_early_exit_does_not_change_any_recorded_step(
    monkeypatch):
  spec = spec_of("fcn", n=8, k=2, num_steps=1000, num_eval=1500)  # 3 chunks, the last padded
  chunked = online.run(spec, tuple(range(4)), (0.1,))
  monkeypatch.setattr(online, "EVAL_CHUNK", 2048)  # the whole batch at once, always
  online.compiled_call.cache_clear()
  whole = online.run(spec, tuple(range(4)), (0.1,))
  online.compiled_call.cache_clear()
  np.testing.assert_array_equal(chunked["steps_to_success"], whole["steps_to_success"])
  np.testing.assert_array_equal(chunked["final_eval_accuracy"], whole["final_eval_accuracy"])


@pytest.mark.parametrize("margin,succeeds", [(1, False), (0, True)])
def test_a_network_one_error_above_the_threshold_is_not_successful_and_at_it_is(margin,
                                                                               succeeds):
  """The threshold is set so that the network's errors at one check are exactly `margin`
  above what success_accuracy allows: one error too many must not count as a success."""
  spec = spec_of("fcn", n=8, k=2, num_steps=200, num_eval=700)
  errors = python_loop_errors(spec, 0, 0.1)
  # A check whose errors are below every earlier check's: the first success can land there.
  j = next(j for j in range(1, len(errors)) if 0 < errors[j] < min(errors[:j]))
  allowed = errors[j] - margin
  accuracy = (spec.num_eval - allowed) / spec.num_eval
  spec = dataclasses.replace(spec, success_accuracy=accuracy)
  assert online.allowed_errors(spec.num_eval, accuracy) == allowed
  out = online.run(spec, (0,), (0.1,))
  assert (recorded(out, 0) == spec.check_steps[j]) == succeeds
  assert recorded(out, 0) == first_success(spec, errors)


def test_allowed_errors_is_the_largest_count_meeting_the_accuracy_exactly():
  for num_eval in (1, 7, 600, 1000, 8192):
    for accuracy in (0.5, 0.9, 0.95, 0.99, 0.999, 1 - 1 / num_eval, 0.0):
      allowed = online.allowed_errors(num_eval, accuracy)
      exact = max(e for e in range(num_eval + 1)
                  if fractions.Fraction(num_eval - e, num_eval) >= fractions.Fraction(accuracy))
      assert allowed == exact or (allowed == exact + 1 and  # 1 - a rounded below an integer
                                  abs((num_eval - allowed) / num_eval - accuracy) < 1e-12)


def test_full_batch_reuses_one_sample_and_learns():
  spec = spec_of("cnn", n=10, k=2, protocol="full_batch", num_train=256, num_steps=300)
  out = online.run(spec, (0, 1), (1.0,))
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
  a = online.run(spec, (3, 4), (0.1,))
  b = online.run(spec, (4, 3), (0.1,))
  assert a["steps_to_success"].tolist() == b["steps_to_success"][::-1].tolist()


RATES = (0.03, 0.1, 0.3, 1.0, 3.0)


@pytest.mark.slow
def test_a_rate_alone_records_the_same_steps_as_inside_a_grid():
  spec = spec_of("fcn", n=8, k=2, num_steps=3000)
  seeds = tuple(range(6))
  grid = online.run(spec, seeds, RATES)
  assert len(set(grid["steps_to_success"][0])) > 2  # the rates differ in their steps
  for r, rate in enumerate(RATES):
    alone = online.run(spec, seeds, (rate,))
    np.testing.assert_array_equal(alone["steps_to_success"][:, 0], grid["steps_to_success"][:, r])
    np.testing.assert_array_equal(alone["final_eval_accuracy"][:, 0] >= 0.95,
                                  grid["steps_to_success"][:, r] >= 0)


def medians(out):
  return stats.median(np.where(out["steps_to_success"] >= 0, out["steps_to_success"], np.inf),
                      axis=0)


@pytest.mark.slow
@pytest.mark.parametrize("arch,rates", [("fcn", RATES), ("cnn", (0.1, 1.0, 10.0, 100.0))])
def test_the_best_rate_stop_finds_the_best_rate_and_median_of_a_full_budget_run(arch, rates):
  full = online.run(spec_of(arch, n=8, k=2, num_steps=3000), tuple(range(6)), rates)
  early = online.run(spec_of(arch, n=8, k=2, num_steps=3000, stop="best_rate"),
                     tuple(range(6)), rates)
  stop = early["stopped_at"][0, 0]
  assert stop < full["stopped_at"][0, 0]  # it saved steps
  best = int(np.argmin(medians(full)))
  assert int(np.argmin(medians(early))) == best and medians(early)[best] == medians(full)[best]
  # The stop is the first check where one rate has every seed done; steps before the stop
  # are those of the full run, and the rest are censored there.
  assert np.all(early["steps_to_success"][:, best] >= 0)
  done = (full["steps_to_success"] >= 0) & (full["steps_to_success"] <= stop)
  np.testing.assert_array_equal(np.where(done, full["steps_to_success"], -1),
                                early["steps_to_success"])


@pytest.mark.slow
def test_the_best_rate_stop_waits_for_the_median_of_the_rates_it_must_know():
  spec = spec_of("fcn", n=8, k=2, num_steps=3000, stop="best_rate")
  seeds = tuple(range(6))
  early = online.run(spec, seeds, RATES)
  slowest = int(np.argmax(medians(online.run(dataclasses.replace(spec, stop="all"), seeds,
                                             RATES))))
  assert not np.isfinite(medians(early)[slowest])
  waited = online.run(spec, seeds, RATES, must_know=(RATES[slowest],))
  assert np.isfinite(medians(waited)[slowest])
  assert waited["stopped_at"][0, 0] > early["stopped_at"][0, 0]


@pytest.mark.slow
def test_a_diverging_rate_keeps_its_last_finite_state_and_the_others_train_on():
  spec = spec_of("fcn", n=8, k=2, num_steps=600)
  out = online.run(spec, (0, 1), (0.1, 1e30))
  alone = online.run(spec, (0, 1), (0.1,))
  assert out["diverged"][:, 1].all() and not out["diverged"][:, 0].any()
  assert (out["steps_to_success"][:, 1] == -1).all()
  assert np.isfinite(out["final_eval_accuracy"]).all()
  np.testing.assert_array_equal(out["steps_to_success"][:, 0], alone["steps_to_success"][:, 0])


POISON_SEED, POISON_STEP = 1, 7


def poison_one_batch(monkeypatch, module, seed_key, step):
  """engine.sample_inputs, with the draw from fold_in(seed_key, step) made all NaN: one
  non-finite batch for one seed, every later batch finite again. The trainers' compiled
  programs are cleared before and after, so none keeps the planted batch."""
  real = engine.sample_inputs
  target = jax.random.key_data(jax.random.fold_in(seed_key, step))

  def sample_inputs(key, *args, **kwargs):
    x = real(key, *args, **kwargs)
    return jnp.where(jnp.all(jax.random.key_data(key) == target), jnp.nan, x)

  module.cache_clear()
  monkeypatch.setattr(engine, "sample_inputs", sample_inputs)


def test_a_network_that_diverged_once_stays_frozen_and_unsuccessful_when_later_batches_are_finite(
    monkeypatch):
  spec = spec_of("fcn", n=8, k=2, num_steps=160,
                 check_steps=online.check_schedule(160, 5, 1.1, every_step_until=10))
  seeds, rates = (0, 2, POISON_SEED), (0.1, 0.3)
  clean = online.run(spec, seeds, rates, return_carry=True)
  before = online.run(spec, seeds, rates, end=POISON_STEP, return_carry=True)  # steps 0 ... 6
  assert (clean["steps_to_success"][2] > POISON_STEP).all()  # it would succeed, later
  train_key = jax.random.fold_in(engine.seed_keys(POISON_SEED)[1], 0)
  clean_end = spec.check_steps.index(int(clean["stopped_at"][0, 0]))  # every clean one done
  try:
    poison_one_batch(monkeypatch, online.compiled_call, train_key, POISON_STEP)
    out = online.run(spec, seeds, rates, return_carry=True)  # to the budget: seed 1 never succeeds
    there = online.run(spec, seeds, rates, end=clean_end, return_carry=True)  # where clean stopped
  finally:
    monkeypatch.undo()
    online.compiled_call.cache_clear()
  assert (out["stopped_at"] == spec.num_steps).all()
  for run in (out, there):
    trained, opt_state, diverged, _ = run["carry"]
    assert diverged[2].all() and run["diverged"][2].all() and not run["diverged"][:2].any()
    assert (run["steps_to_success"][2] == -1).all()
    # Its last finite state, that after steps 0 ... 6, is kept to the end.
    for mine, then in zip(jax.tree.leaves((trained, opt_state)),
                          jax.tree.leaves(before["carry"][:2]), strict=True):
      np.testing.assert_array_equal(mine[2], then[2])
  # Its neighbours train as they do without it.
  for name in ("steps_to_success", "final_eval_accuracy"):
    np.testing.assert_array_equal(there[name][:2], clean[name][:2])
  np.testing.assert_array_equal(out["steps_to_success"][:2], clean["steps_to_success"][:2])
  for mine, alone in zip(jax.tree.leaves(there["carry"]), jax.tree.leaves(clean["carry"])):
    np.testing.assert_array_equal(mine[:2], alone[:2])


@pytest.mark.slow
def test_a_task_and_its_nonlocal_twin_and_any_rates_share_one_program():
  local = spec_of("fcn", n=16, k=2, num_steps=50)
  twin = dataclasses.replace(local, task=tasks.make_task(16, 2, locality="nonlocal"))
  assert twin.task.coordinates != local.task.coordinates
  assert online.program_key(twin) == online.program_key(local)
  with jax.enable_x64(True):
    online.compiled_call.cache_clear()
    online.run(local, (0,), (0.1, 0.3))
    shared = online.run(twin, (0,), (0.2, 5.0))
    assert online.compiled_call.cache_info().misses == 1
    # ... and the twin trains and is evaluated on its own task in the program compiled for
    # the local one: its errors at the last check are those of a plain loop on its task.
    errors = python_loop_errors(twin, 0, 0.2)
  online.compiled_call.cache_clear()
  assert shared["stopped_at"][0, 0] == twin.num_steps
  assert round((1 - float(shared["final_eval_accuracy"][0, 0])) * twin.num_eval) == errors[-1]


def test_packed_inputs_are_uniform_signs_and_independent_across_coordinates():
  x = np.asarray(engine.sample_inputs(jax.random.key(0), 20000, 40, packed=True))
  assert set(np.unique(x)) == {-1.0, 1.0} and x.shape == (20000, 40)
  assert np.abs(x.mean(0)).max() < 0.03
  correlation = (x.T @ x) / len(x) - np.eye(40)
  assert np.abs(correlation).max() < 0.04


SHARDED = """
import sys
import jax
jax.config.update("jax_num_cpu_devices", 2)
import numpy as np
from online_test import staged_case, sharding_cases
from cnnfcn_jax import halving, online
assert jax.local_device_count() == 2
outs = {f"{i}/{name}": a for i, (spec, seeds, rates, must_know) in enumerate(sharding_cases())
        for name, a in online.run(spec, seeds, rates, must_know).items()}
spec, seeds, rates, first_budget = staged_case()
outs.update({f"staged/{name}": np.asarray(a)
             for name, a in halving.run(spec, seeds, rates, first_budget).items()
             if name != "compile_seconds"})
np.savez(sys.argv[1], **outs)
"""


def staged_case():
  """Stages over two devices: an odd seed count (a padding seed in the continued calls'
  carry) and rates dropped after the first budget."""
  spec = spec_of("fcn", n=8, k=3, num_steps=600, stop="all",
                 check_steps=online.check_schedule(600, 5, 1.1, every_step_until=8))
  return spec, tuple(range(5)), (0.01, 0.1, 1.0), 40


def sharding_cases():
  """Odd seed counts (one padding seed on 2 devices), both stops, a rate whose median the
  stop must wait for, seeds that finish at different checks, the dense and the table
  path."""
  best_rate = spec_of("fcn", n=8, k=2, num_steps=3000, stop="best_rate")
  return [(best_rate, tuple(range(7)), RATES, (0.1,)),
          (best_rate, tuple(range(5)), RATES, ()),
          (spec_of("fcn", n=8, k=2, num_steps=3000), tuple(range(6)), (0.3, 1.0), ()),
          (spec_of("cnn", n=10, k=2, num_steps=300), (3, 1, 4), (1.0,), ())]


@pytest.mark.slow
def test_seeds_sharded_over_two_cpu_devices_record_what_one_device_records(tmp_path):
  path = tmp_path / "sharded.npz"
  result = subprocess.run([sys.executable, "-c", SHARDED, str(path)], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": TESTS})
  assert result.returncode == 0, result.stderr[-3000:]
  sharded = np.load(path)
  for i, (spec, seeds, rates, must_know) in enumerate(sharding_cases()):
    # Every device stops at the same check: the stop counts the seeds of all of them.
    assert len(np.unique(sharded[f"{i}/stopped_at"])) == 1, i
    for name, a in online.run(spec, seeds, rates, must_know).items():
      np.testing.assert_array_equal(sharded[f"{i}/{name}"], a, err_msg=f"case {i}: {name}")
  spec, seeds, rates, first_budget = staged_case()
  staged = halving.run(spec, seeds, rates, first_budget)
  assert (staged["dropped_stage"] >= 0).any()  # the continued calls ran on fewer rates
  for name, a in staged.items():
    if name != "compile_seconds":
      np.testing.assert_array_equal(sharded[f"staged/{name}"], np.asarray(a), err_msg=name)


def test_an_fcn_call_at_padded_label_bits_equals_the_call_at_the_tasks_k(monkeypatch):
  """Two k of one n run one program, and each equals the program compiled at its own k
  (LABEL_BITS = 0: no padding), bitwise."""
  from cnnfcn_jax import progress
  specs = [spec_of("fcn", n=8, k=k, num_steps=60) for k in (2, 3)]
  seeds = np.arange(3)
  online.compiled_call.cache_clear()
  padded = [online.run(specs[0], seeds, (0.1,))]
  before = progress.programs_compiled()
  padded.append(online.run(specs[1], seeds, (0.1,)))
  assert progress.programs_compiled() == before  # k = 3 ran k = 2's program
  monkeypatch.setattr(engine, "LABEL_BITS", 0)
  online.compiled_call.cache_clear()
  try:
    for spec, result in zip(specs, padded):
      own = online.run(spec, seeds, (0.1,))
      for name in ("steps_to_success", "final_eval_accuracy", "stopped_at"):
        np.testing.assert_array_equal(result[name], own[name], err_msg=name)
  finally:
    online.compiled_call.cache_clear()
