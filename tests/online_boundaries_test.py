"""Steps to success at the exact boundaries of its early exits: a network whose error count
part-way through the evaluation batch equals what the whole batch allows, and the
best-rate stop's "at least half of the seeds" for a rate it must know, with odd and even
seed counts."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import engine, models, online, stats, tasks


def fcn_spec(num_eval=600, success_accuracy=0.95, check_steps=None, **changes):
  spec = online.OnlineSweep(
      arch="fcn", task=tasks.make_task(8, 2), width=32, init="gaussian_bias",
      trainable=("W", "b", "u"), optimizer="sgd", batch_size=16,
      check_steps=check_steps or online.check_schedule(400, 5, 1.1), num_eval=num_eval,
      success_accuracy=success_accuracy, stop="all")
  return dataclasses.replace(spec, **changes)


# ------------------------------------------- an error count equal to the limit mid-batch


def plain_loop_wrong(spec, seeds, rate):
  """{seed: (checks, num_eval) bools}: which evaluation samples each network gets wrong at
  every check, by plain SGD step after step (the FCN, every group trained; one jitted scan
  over the steps, vmapped over the seeds)."""
  task, num_steps = spec.task, spec.check_steps[-1]

  def one_seed(seed):
    init_key, data_key = engine.seed_keys(seed)
    params = models.init_params("fcn", init_key, task.n, task.k, spec.width, spec.init)
    x_eval = engine.sample_inputs(jax.random.fold_in(data_key, 1), spec.num_eval, task.n,
                                   packed=True)
    train_key = jax.random.fold_in(data_key, 0)

    def wrong(p):
      return jnp.where(models.apply("fcn", p, x_eval) >= 0, 1.0, -1.0) != task.target(x_eval)

    def step(p, t):
      x = engine.sample_inputs(jax.random.fold_in(train_key, t), spec.batch_size, task.n,
                                packed=True)
      grads = jax.grad(lambda q: engine.hinge_loss(models.apply("fcn", q, x), task.target(x)))(p)
      p = jax.tree.map(lambda a, g: a - rate * g, p, grads)
      return p, wrong(p)

    after = jax.lax.scan(step, params, jnp.arange(num_steps))[1]
    return jnp.concatenate([wrong(params)[None], after])  # (steps + 1, num_eval)

  by_step = np.asarray(jax.jit(jax.vmap(one_seed))(np.asarray(seeds, np.uint32)))
  return {seed: by_step[s, list(spec.check_steps)] for s, seed in enumerate(seeds)}


def first_success(spec, wrong, chunk, cut_at_the_limit):
  """The first check step at which the network counts as successful, or -1: its errors on
  the whole batch are within the allowed count; with cut_at_the_limit, the count stops at
  the first chunk where it reaches the allowed count (the early exit misjudging a count
  equal to the limit as hopeless) and is judged on that partial count."""
  allowed = online.allowed_errors(spec.num_eval, spec.success_accuracy)
  for check, w in zip(spec.check_steps, wrong):
    counts = np.cumsum([w[i:i + chunk].sum() for i in range(0, len(w), chunk)])
    count = counts[-1]
    if cut_at_the_limit:
      count = next((c for c in counts if c >= allowed), counts[-1])
    if count <= allowed:
      return check
  return -1


CHUNK = 8


@pytest.fixture
def small_chunks(monkeypatch):
  """online.EVAL_CHUNK = CHUNK for the test's compiled calls (cache cleared around it)."""
  monkeypatch.setattr(online, "EVAL_CHUNK", CHUNK)
  online.compiled_call.cache_clear()
  yield
  online.compiled_call.cache_clear()


def test_a_count_equal_to_the_limit_part_way_through_the_batch_is_counted_to_the_end(
    small_chunks):
  """60 evaluation samples in chunks of 8 (the last padded), at most 24 errors allowed
  (accuracy 0.6): an untrained or barely trained network often has exactly 24 errors after
  some chunk and more by the end. It can still succeed (the rest of the batch may add no
  error), so the evaluation must go on; cut there, it would be recorded successful on a
  partial count. The recorded step is that of the whole batch, by a plain loop."""
  spec = fcn_spec(num_eval=60, success_accuracy=0.6, check_steps=tuple(range(9)))
  allowed = online.allowed_errors(spec.num_eval, spec.success_accuracy)
  assert allowed == 24
  seeds = range(12)
  wrong = plain_loop_wrong(spec, seeds, 0.1)
  expected = {seed: first_success(spec, wrong[seed], CHUNK, False) for seed in seeds}
  cut = {seed: first_success(spec, wrong[seed], CHUNK, True) for seed in seeds}
  # The setting does what it is for: seeds whose count hits the limit exactly mid-batch
  # before they succeed (a cut evaluation records them earlier), and seeds that succeed.
  hit = [seed for seed in seeds if cut[seed] != expected[seed]]
  assert len(hit) >= 2 and any(expected[seed] >= 0 for seed in seeds), (expected, cut)
  for seed in seeds:  # one network per call: nothing else keeps the evaluation going
    out = online.run(spec, (seed,), (0.1,))
    assert int(out["steps_to_success"][0, 0]) == expected[seed], (seed, expected, cut)


# ---------------------------------------------- the best-rate stop: half the seeds, known

RATES = (0.03, 0.3, 3.0)
SEEDS = (0, 1, 2, 3, 4)


def grid_spec(stop="all", **changes):
  return fcn_spec(check_steps=online.check_schedule(600, 5, 1.1), stop=stop, **changes)


@functools.lru_cache(maxsize=None)
def full_grid_run():
  """Every network of the grid to its success (stop "all"; the budget is ample): the
  steps a stopped call must reproduce up to its stop. Remembered: a seed's steps do not
  depend on the other seeds of its call."""
  return online.run(grid_spec(), SEEDS, RATES)


def expected_stop(steps, check_steps, must_know):
  """The best-rate stop, written out: the first check at which some rate has every seed
  done and every must_know rate at least half of them (2 done >= seeds), else the budget."""
  seeds = steps.shape[0]
  for check in check_steps:
    done = ((steps >= 0) & (steps <= check)).sum(0)
    if (done == seeds).any() and all(2 * d >= seeds for d, m in zip(done, must_know) if m):
      return check
  return check_steps[-1]


def censored_after(steps, stop):
  return np.where((steps >= 0) & (steps <= stop), steps, -1)


@pytest.mark.parametrize("num_seeds", [4, 5])
def test_the_best_rate_stop_waits_for_half_the_seeds_of_a_must_know_rate_odd_or_even(
    num_seeds):
  """The slowest rate must be known: its median is the order statistic of rank ceil(N / 2).
  With 5 seeds the stop waits for its 3rd success, not its 2nd (2 >= 5 // 2, yet 2 of 5 is
  less than half); with 4 seeds for its 2nd (2 of 4 is half), not its 3rd. The other rates
  have every seed done before that, so this rule alone decides the stop."""
  full = full_grid_run()["steps_to_success"][:num_seeds]
  assert (full >= 0).all()
  spec = grid_spec("best_rate")
  must_know = (RATES[0],)
  stop = expected_stop(full, spec.check_steps, [r in must_know for r in RATES])
  # The rule is what decides here: the slow rate's successes, in order, straddle the stop.
  slow = np.sort(full[:, 0])
  half = -(-num_seeds // 2)
  assert stop == slow[half - 1] > full[:, 1:].max(0).min()
  if num_seeds % 2:  # N // 2 successes are fewer than half
    assert slow[num_seeds // 2 - 1] < stop
  else:  # N / 2 successes are half
    assert stop < slow[half]
  out = online.run(spec, SEEDS[:num_seeds], RATES, must_know=must_know)
  assert (out["stopped_at"] == stop).all()
  np.testing.assert_array_equal(out["steps_to_success"], censored_after(full, stop))
  times = np.where(out["steps_to_success"] >= 0, out["steps_to_success"], np.inf)
  assert stats.median(times[:, 0]) == stats.median(full[:, 0])  # known, and right
