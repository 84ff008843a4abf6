"""Budgets that follow the best rates: continuation from state, successive halving against
full-budget runs, every-step checks, the report's drop check and the wall verdict."""

import json
import math

import jax
import numpy as np
import pytest

from conftest import load_config
from online_test import first_success, python_loop_errors, spec_of
from time_to_learn_test import row, with_grid
from cnnfcn_jax import halving, online, stats
from cnnfcn_jax.experiments.time_to_learn import claims, fits, report as ttr

# ---------------------------------------------------------------------- the stages


def test_stages_end_at_the_first_check_past_each_budget_and_keep_a_third():
  checks = online.check_schedule(1000, 10, 1.5)
  ends = halving.stage_ends(checks, 100, 3)
  assert [checks[i] for i in ends] == [next(t for t in checks if t >= 100),
                                       next(t for t in checks if t >= 300),
                                       next(t for t in checks if t >= 900), 1000][:len(ends)]
  assert checks[ends[-1]] == 1000 and list(ends) == sorted(set(ends))
  assert halving.stage_ends(checks, 1000, 3) == (len(checks) - 1,)  # one stage: no halving
  # A schedule coarser than the budgets: budgets that share a check end one stage.
  coarse = online.check_schedule(5000, 1000, 1.0)
  assert halving.stage_ends(coarse, 100, 3) == (1, 3, 5)
  assert [halving.kept_count(13, s) for s in range(4)] == [13, 5, 2, 1]
  assert [halving.kept_count(6, s) for s in range(3)] == [6, 2, 1]
  assert [halving.kept_count(9, s) for s in range(3)] == [9, 3, 1]


def test_ranking_is_most_successes_then_earliest_then_accuracy():
  first = np.array([[10, -1, 5, -1, -1],
                    [-1, 20, 5, -1, -1],
                    [30, 20, -1, -1, -1]])
  accuracy = np.array([[0.5, 0.5, 0.5, 0.6, 0.7]] * 3)
  # Rates 0, 1 and 2 have 2 successes each: rate 2's earliest (5 + 5); rates 0 and 1 tie
  # (10 + 30 = 20 + 20) and on accuracy, so the grid's order decides.
  assert halving.ranking(first, accuracy)[:3] == [2, 0, 1]
  assert halving.ranking(first, accuracy)[3:] == [4, 3]  # no successes: higher accuracy first
  first[2, 1] = 1  # rate 1 now earlier than rate 0 (20 + 1 < 40)
  assert halving.ranking(first, accuracy)[:3] == [2, 1, 0]


# ----------------------------------------------------------- continuation and stages


def test_a_call_continued_from_its_state_equals_one_uninterrupted_call_bitwise():
  spec = spec_of("fcn", n=8, k=2, num_steps=600, stop="all",
                 check_steps=online.check_schedule(600, 5, 1.1, every_step_until=16))
  seeds, rates = (0, 1, 2), (0.03, 0.1, 0.3)
  whole = online.run(spec, seeds, rates, return_carry=True)
  middle = spec.check_steps.index(next(t for t in spec.check_steps if t >= 60))
  first = online.run(spec, seeds, rates, end=middle, return_carry=True)
  assert first["stopped_at"][0, 0] == spec.check_steps[middle]
  rest = online.run(spec, seeds, rates, carry=first["carry"], start=middle, return_carry=True)
  for name in ("steps_to_success", "final_eval_accuracy", "stopped_at", "diverged"):
    np.testing.assert_array_equal(rest[name], whole[name], err_msg=name)
  for a, b in zip(jax.tree.leaves(rest["carry"]), jax.tree.leaves(whole["carry"])):
    np.testing.assert_array_equal(a, b)  # the networks themselves, bit for bit
  with pytest.raises(ValueError, match="carry"):
    online.run(spec, seeds, rates, start=middle)


def test_staged_rates_record_what_each_rate_records_alone_to_the_final_budget():
  rates = (0.01, 0.1, 1.0)
  spec = spec_of("fcn", n=8, k=3, num_steps=900, stop="all",
                 check_steps=online.check_schedule(900, 5, 1.1, every_step_until=8))
  seeds = tuple(range(5))
  staged = halving.run(spec, seeds, rates, first_budget=40, eta=3)
  assert staged["stage_budgets"][0] >= 40 and len(staged["stage_budgets"]) >= 2
  kept = [r for r in range(len(rates)) if staged["dropped_stage"][r] < 0]
  dropped = [r for r in range(len(rates)) if staged["dropped_stage"][r] >= 0]
  assert kept and dropped
  for r, rate in enumerate(rates):
    alone = online.run(spec, seeds, (rate,))
    budget = staged["stopped_at"][0, r]
    # What the staged call recorded by the budget this rate reached is what the rate
    # records alone; beyond it the staged networks are pending.
    expected = np.where((alone["steps_to_success"][:, 0] >= 0)
                        & (alone["steps_to_success"][:, 0] <= budget),
                        alone["steps_to_success"][:, 0], -1)
    np.testing.assert_array_equal(staged["steps_to_success"][:, r], expected, err_msg=str(rate))
    if r in kept:
      np.testing.assert_array_equal(staged["steps_to_success"][:, r],
                                    alone["steps_to_success"][:, 0])
  # The dropped rates had no more successes where they were dropped than the kept ones.
  drop = staged["stage_budgets"][0]
  done_by_drop = ((staged["steps_to_success"] >= 0)
                  & (staged["steps_to_success"] <= drop)).sum(0)
  assert max(done_by_drop[dropped]) <= min(done_by_drop[kept])
  assert staged["network_steps"] < staged["full_grid_steps"]


def test_a_rate_the_stop_must_know_is_kept_until_its_median_is_known():
  rates = (0.003, 0.3, 1.0)
  spec = spec_of("fcn", n=8, k=2, num_steps=3000, stop="best_rate",
                 check_steps=online.check_schedule(3000, 5, 1.1, 8))
  staged = halving.run(spec, tuple(range(4)), rates, first_budget=30, eta=3,
                       must_know=(0.003,))
  assert staged["dropped_stage"][0] < 0  # the slowest rate, kept for its median
  assert 2 * (staged["steps_to_success"][:, 0] >= 0).sum() >= 4


class ScriptedCalls:
  """online.compile_call and online.run, replaced: the stage-0 call records `first` ((S, R)
  steps, -1 pending) at the first budget; later stages record nothing new. Which rates
  each stage ran is kept in `stages`."""

  def __init__(self, first):
    self.first, self.stages = np.asarray(first, np.int32), []

  def install(self, monkeypatch):
    monkeypatch.setattr(online, "compile_call", lambda *args, **kwargs: None)
    monkeypatch.setattr(online, "run", self.run)

  def run(self, spec, seeds, rates, must_know=(), carry=None, start=0, end=None,
          return_carry=False):
    alive = [self.rates.index(r) for r in rates]
    self.stages.append(alive)
    first = self.first[:, alive]
    shape = first.shape
    return dict(steps_to_success=first, final_eval_accuracy=np.full(shape, 0.5),
                stopped_at=np.full(shape, spec.check_steps[end]), diverged=np.zeros(shape, bool),
                stop_fired=np.zeros(shape, bool), carry=np.zeros(shape))


def scripted_stages(monkeypatch, first, must_know=(), ranked=None):
  """halving.run over three rates whose stage-0 successes are `first`; eta 3 keeps one."""
  rates = (0.01, 0.1, 1.0)
  spec = spec_of("fcn", n=8, k=2, stop="best_rate",
                 check_steps=online.check_schedule(900, 5, 1.1))
  calls = ScriptedCalls(first)
  calls.rates = rates
  calls.install(monkeypatch)
  out = halving.run(spec, tuple(range(len(first))), rates, first_budget=100, eta=3,
                    ranked=ranked, must_know=must_know)
  return out, calls.stages


def test_the_stages_rank_rates_on_the_selection_seeds_only(monkeypatch):
  # Seeds 0 and 2 select, 1 and 3 report (stats.selection_half). Rate 0.01 succeeds on
  # three seeds, one of them selecting; rate 0.1 on the two selecting seeds only.
  first = [[-1, 50, -1],
           [40, -1, -1],
           [40, 50, -1],
           [40, -1, -1]]
  selection = stats.selection_half(range(4))
  assert selection.tolist() == [True, False, True, False]
  _, stages = scripted_stages(monkeypatch, first, ranked=selection)
  assert stages[:2] == [[0, 1, 2], [1]]  # kept on the selection seeds' 2 successes to 1
  _, every_seed = scripted_stages(monkeypatch, first)
  assert every_seed[:2] == [[0, 1, 2], [0]]  # every seed would have kept rate 0.01
  # Changing the reporting seeds' times changes nothing the stages decide.
  shuffled = np.array(first)
  shuffled[1::2] = [[-1, 1, 1], [-1, 1, 1]]
  _, again = scripted_stages(monkeypatch, shuffled, ranked=selection)
  assert again == stages


@pytest.mark.parametrize("done,kept", [(2, True), (3, False)])
def test_a_rate_the_stop_must_know_stays_until_half_of_an_odd_count_of_seeds_succeed(
    monkeypatch, done, kept):
  # Five seeds: the median is the 3rd time, known once 3 seeds succeed (ceil(5 / 2)).
  first = np.full((5, 3), -1)
  first[:, 2] = 10  # rate 1.0: every seed, ranked first
  first[:done, 0] = 20  # rate 0.01, which the stop must know: `done` of 5 seeds
  assert halving.median_known(first).tolist() == [done >= 3, False, True]
  _, stages = scripted_stages(monkeypatch, first, must_know=(0.01,))
  assert stages[1] == ([0, 2] if kept else [2])


@pytest.mark.slow  # two online calls to their budget: 10 s
def test_every_step_checks_record_odd_steps_exactly():
  checks = online.check_schedule(200, 2, 1.05, every_step_until=64)
  assert checks[:65] == tuple(range(65)) and checks[65] == 68  # ceil(64 x 1.05)
  assert online.check_schedule(200, 2, 1.05)[:4] == (0, 2, 4, 6)
  spec = spec_of("cnn", n=8, k=2, num_steps=64,
                 check_steps=online.check_schedule(64, 2, 1.05, every_step_until=64))
  seeds = tuple(range(6))
  out = online.run(spec, seeds, (1.0,))
  expected = [first_success(spec, python_loop_errors(spec, seed, 1.0)) for seed in seeds]
  assert [None if t < 0 else int(t) for t in out["steps_to_success"][:, 0]] == expected
  assert any(t is not None and t % 2 for t in expected)


# ------------------------------------------------------------------ the drop check


def cell_rows(best_steps, dropped_steps, drop_budget, final=10**5, n=64, k=6):
  """One cell: a kept rate (0.1) recording best_steps, a dropped one (1.0) recording
  dropped_steps by drop_budget (None: pending there), both with interior grid rates."""
  kept, dropped = [], []
  for s, (a, b) in enumerate(zip(best_steps, dropped_steps)):
    kept.append(dict(row("fcn", n, k, s, a, "log2_n", stopped_at=final), dropped_stage=None,
                     learning_rate=0.1))
    dropped.append(dict(row("fcn", n, k, s, b, "log2_n", stopped_at=drop_budget, fixed=False),
                        dropped_stage=0, learning_rate=1.0))
  return with_grid(kept, rates=(0.001, 100.0)) + dropped


@pytest.mark.parametrize("best_median,drop_budget,dropped_done,flagged", [
    (500, 1000, 6, False),   # dropped above the best median: it cannot be faster
    (1000, 1000, 6, False),  # dropped at the best median: its own lies above it
    (5000, 1000, 6, True),   # dropped below it with 6 of 16 done: its median may be lower
    (5000, 1000, 8, False),  # half its seeds done: its median is known (and measured)
    (None, 1000, 0, True),   # the best median censored: any drop may matter
])
def test_the_drop_check_flags_exactly_the_cells_where_a_dropped_rate_may_be_fastest(
    best_median, drop_budget, dropped_done, flagged):
  best = [None] * 16 if best_median is None else [best_median] * 16
  dropped = [900] * dropped_done + [None] * (16 - dropped_done)
  table = ttr.cell_table(cell_rows(best, dropped, drop_budget))
  [cell] = table.values()
  assert bool(cell["might_be_faster"]) == flagged
  assert (("sgd", 1.0) in cell["might_be_faster"]) == flagged
  reasons = claims.doubts(table, list(table))
  assert any("dropped rate might have been faster" in r for r in reasons) == flagged


# ------------------------------------------------------------- the wall at k = log2 n


def log2_cells(medians, seeds=32, stopped_at=10**6, successes=None, spread=0.2):
  """FCN rows at k = log2 n with the given best medians (one rate, 0.1, inside a grid)."""
  successes = successes or {}
  rows = []
  for n, median in medians.items():
    for s in range(seeds):
      done = s < successes.get(n, seeds)
      steps = int(median * (1 - spread + 2 * spread * s / seeds)) if done else None
      rows.append(row("fcn", n, int(math.log2(n)), s, steps, "log2_n", stopped_at=stopped_at))
  return with_grid(rows)


def wall(rows):
  table = ttr.cell_table(rows)
  result = claims.claim_verdicts(table, ttr.exponents(table))
  return [v for v in result if "median lies above" in v.claim][0]


def test_the_wall_verdict_on_a_measured_median_holds_fails_or_is_not_established():
  # Previous segment 16 -> 32: slope log2(3000 / 300) = 3.3; to n = 64: log2(30) = 4.9.
  above = wall(log2_cells({8: 100, 16: 300, 32: 3000, 64: 90000}))
  assert above.holds is True and above.measured.startswith("measured median; D +1.")
  below = wall(log2_cells({8: 100, 16: 300, 32: 3000, 64: 8000}))  # slope 1.4
  assert below.holds is False
  near = wall(log2_cells({8: 100, 16: 300, 32: 3000, 64: 33000}, seeds=8, spread=0.6))
  assert near.holds is None  # slope 3.5: D +0.1 inside a wide interval
  few = wall(log2_cells({16: 300, 32: 3000}))
  assert few.holds is None and "no segment below" in few.measured


def test_the_walls_d_draws_m_of_the_shared_n_once_per_resample():
  """D = log2(B / M(32)) - log2(M(32) / M(16)) with M(32) the same draw in both terms: the
  interval is that of log2 B - 2 log2 M(32) + log2 M(16) over the cells' draws."""
  censored = [dict(r, steps_to_success=None if r["n"] == 64 else r["steps_to_success"])
              for r in log2_cells({8: 100, 16: 300, 32: 3000, 64: 1}, stopped_at=10**6,
                                  spread=0.5, seeds=12)]
  table = ttr.cell_table(censored)
  d, low, high, below, n1, n2, n, budget = fits.wall_margin(table, "local", "fcn")
  assert (n1, n2, n, budget) == (16, 32, 64, 10**6)
  m16, m32 = (fits.cell_draws(table["log2_n", "local", "fcn", k, 2**k]) for k in (4, 5))
  joint = np.log2(10**6) - 2 * np.log2(m32) + np.log2(m16)
  assert (low, high) == pytest.approx(stats.percentile_interval(joint))
  apart = np.log2(10**6) - np.log2(m32) - np.log2(np.roll(m32, 1) / m16)  # M(32) drawn twice
  assert stats.percentile_interval(apart)[1] - stats.percentile_interval(apart)[0] < high - low
  assert d == pytest.approx(np.log2(10**6 / 3000**2 * 300), abs=0.2)


def test_the_wall_verdict_on_a_censored_cell_needs_every_rate_past_the_prediction():
  medians = {8: 100, 16: 300, 32: 3000}
  censored = [dict(r, steps_to_success=None if r["n"] == 64 else r["steps_to_success"])
              for r in log2_cells({**medians, 64: 1}, stopped_at=10**6)]
  held = wall(censored)
  assert held.holds is True and held.measured.startswith("censored")
  # Short budgets: every rate stopped at 20,000 < 3000 x 2^3.3, so D's bound is below 0.
  short = [dict(r, stopped_at=20000) if r["n"] == 64 else r for r in censored]
  unknown = wall(short)
  assert unknown.holds is None and "by ≥ 20000 steps" in unknown.measured
  # 14 of 32 done at the budget: fewer than half, but the Wilson interval reaches 1/2.
  nearly = [dict(r, steps_to_success=500000) if r["n"] == 64 and r["seed"] < 14
            and r["learning_rate"] == 0.1 else r for r in censored]
  assert wall(nearly).holds is None
  # One rate dropped at 20,000 steps with no success: the bound is where it stopped.
  dropped = [dict(r, stopped_at=20000, dropped_stage=0) if r["n"] == 64
             and r["learning_rate"] == 1.0 else r for r in censored]
  partly = wall(dropped)
  assert partly.holds is None and "by ≥ 20000 steps" in partly.measured


def test_a_censored_cell_s_best_is_judged_where_every_rate_was_followed():
  """A rate dropped at 1000 steps with no success must not look better than a kept rate
  that had successes by then, for having been censored earlier."""
  kept = [500, 900, None, None, None, None, None, None]
  dropped = [None] * 8
  table = ttr.cell_table(cell_rows(kept, dropped, drop_budget=1000))
  [cell] = table.values()
  assert cell["best"] == ("sgd", 0.1)
  assert cell["candidates"]["sgd", 1.0]["reached"] == 1000


def test_the_slope_past_the_last_median_is_bounded_only_when_every_rate_stayed_below_half():
  medians = {8: 100, 16: 300, 32: 3000}
  censored = [dict(r, steps_to_success=None if r["n"] == 64 else r["steps_to_success"])
              for r in log2_cells({**medians, 64: 1}, stopped_at=10**6)]
  table = ttr.cell_table(censored)
  last, n, slope, budget = fits.censored_bound(table, "local", "fcn")
  high = fits.best_of(table["log2_n", "local", "fcn", 5, 32])["median"][2]  # held out
  assert (last, n, budget) == (32, 64, 10**6) and slope == pytest.approx(math.log2(10**6 / high))
  # 14 of 32 done at the budget: the Wilson interval reaches 1/2, so no bound.
  nearly = [dict(r, steps_to_success=500000) if r["n"] == 64 and r["seed"] < 14
            and r["learning_rate"] == 0.1 else r for r in censored]
  assert fits.censored_bound(ttr.cell_table(nearly), "local", "fcn") is None
  # Measured at every n: nothing to bound.
  assert fits.censored_bound(ttr.cell_table(log2_cells(medians)), "local", "fcn") is None


def test_the_report_runs_with_a_dropped_rate_in_some_cells_only(tmp_path):
  """Bootstraps over cells whose candidates the stages cut differently (the :quick run's
  shape): a rate dropped below half its seeds in one cell is never selected, and the
  report is written."""
  rows = log2_cells({8: 100, 16: 300, 32: 3000})
  rows = [dict(r, steps_to_success=None, stopped_at=1000, dropped_stage=0)
          if r["n"] == 32 and r["learning_rate"] == 1.0 else r for r in rows]
  fixed = [dict(r, k_schedule="fixed", k=3) for r in rows]
  table = ttr.cell_table(rows + fixed)
  assert table["log2_n", "local", "fcn", 5, 32]["might_be_faster"] == [("sgd", 1.0)]
  [(_, _, first), (_, _, second)] = fits.segment_slopes(table, "local", "fcn")
  assert second[1] <= math.log2(3000 / 300) <= second[2]  # not pulled down to 1000 steps
  fit = ttr.exponents(table)["local", "fcn", 3]
  assert fit is not None and fit[1] <= fit[0] <= fit[2]
  config = json.loads(load_config("time_to_learn", "quick").to_json_best_effort())
  files = ttr.report(rows + fixed, dict(config, archs=("fcn",)), str(tmp_path))
  assert "report.md" in files
