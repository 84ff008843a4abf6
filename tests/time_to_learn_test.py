"""Time to learn: cells, the best step per cell, order-statistic intervals, tuned and
fixed-step exponents, verdicts, validation, the quick run's files."""

import json
import math

import numpy as np
import pytest
import scipy.stats

from conftest import load_config, run_main
from cnnfcn_jax import stats
from cnnfcn_jax.experiments import time_to_learn as ttl
from cnnfcn_jax.experiments.time_to_learn import table as ttl_cells, claims, fits, report as ttr


def row(arch="fcn", n=8, k=2, seed=0, steps=100, k_schedule="fixed", locality="local",
        num_steps=1000, optimizer="sgd", rate=0.1, fixed=True, stopped_at=None):
  return dict(arch=arch, n=n, k=k, seed=seed, steps_to_success=steps, k_schedule=k_schedule,
              locality=locality, num_steps=num_steps, width=16, steps_per_second=1.0,
              optimizer=optimizer, learning_rate=rate, fixed_step=fixed,
              stopped_at=num_steps if stopped_at is None else stopped_at, diverged=False)


def power_law_rows(arch, k, alpha, ns=(8, 16, 32, 64, 128), seeds=32, c=5.0, spread=0.3,
                   k_schedule="fixed", rng_seed=0, num_steps=10**9, **candidate):
  rng = np.random.default_rng(rng_seed)
  return [row(arch, n, k, s, int(round(c * n**alpha * math.exp(spread * rng.normal()))),
              k_schedule, num_steps=num_steps, **candidate)
          for n in ns for s in range(seeds)]


def table_of(rows):
  return ttr.cell_table(rows)


# ------------------------------------------------------------------ order statistics


def test_median_interval_uses_the_binomial_ranks_that_cover_95_percent():
  value, low, high = stats.quantile_with_interval(np.arange(1, 33), 0.5)
  # N = 32: median rank 16; Bin(32, 1/2) quantiles 0.025 -> 10, 0.975 -> 22, so the interval
  # is [x_(10), x_(23)], and P(10 <= B <= 22) >= 0.95.
  assert (value, low, high) == (16.0, 10.0, 23.0)
  assert scipy.stats.binom.cdf(22, 32, 0.5) - scipy.stats.binom.cdf(9, 32, 0.5) >= 0.95


def test_censored_networks_make_the_median_undefined_beyond_half_and_the_upper_end_unbounded():
  times = np.array([1, 2, 3, np.inf, np.inf, np.inf, np.inf])  # 3 of 7 succeeded
  assert math.isinf(stats.quantile_with_interval(times, 0.5)[0])
  times = np.array([1, 2, 3, 4, 5, np.inf, np.inf])
  value, _, high = stats.quantile_with_interval(times, 0.5)
  assert value == 4 and math.isinf(high)
  assert stats.quantile_with_interval(times, 0.25)[0] == 2


# ------------------------------------------------------------------------ exponents


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.5])
def test_exponents_of_synthetic_power_laws_come_back_within_their_interval(alpha):
  fit, low, high, used, _ = ttr.exponents(table_of(power_law_rows("fcn", 3, alpha)))[
      "local", "fcn", 3]
  assert abs(fit - alpha) < 0.1 and low <= alpha <= high and high - low < 0.4
  assert used == [8, 16, 32, 64, 128]


def test_cells_without_a_median_are_left_out_of_the_fit():
  rows = power_law_rows("fcn", 3, 1.0, ns=(8, 16, 32))
  rows += [row("fcn", 64, 3, s, None if s < 20 else 500) for s in range(32)]  # 20/32 censored
  assert ttr.exponents(table_of(rows))["local", "fcn", 3][3] == [8, 16, 32]
  assert ttr.exponents(table_of(rows[:32] + rows[-32:]))["local", "fcn", 3] is None


def crossing_rows(rng_seed=0):
  """Three rates of one arch and k: 1.0 is best at small n, 0.1 (the fixed step) at large
  n, 10.0 never; the best medians follow 0.2 n^1.5 up to n = 16, then 5 n^0.5."""
  ns = (8, 16, 32, 64, 128)
  slow = power_law_rows("fcn", 3, 1.0, ns, c=40.0, rng_seed=rng_seed + 2, rate=10.0,
                        fixed=False)
  small = power_law_rows("fcn", 3, 0.5, ns, c=5.0, rng_seed=rng_seed, rate=0.1)
  large = power_law_rows("fcn", 3, 1.5, ns, c=0.2, rng_seed=rng_seed + 1, rate=1.0,
                         fixed=False)
  return small + large + slow


def test_the_best_of_each_cell_is_its_lowest_median_and_an_end_of_the_grid_is_an_edge():
  table = table_of(crossing_rows())
  assert table["fixed", "local", "fcn", 3, 8]["best"] == ("sgd", 1.0)
  assert not table["fixed", "local", "fcn", 3, 8]["edge"]  # 0.1 < 1.0 < 10.0
  assert table["fixed", "local", "fcn", 3, 128]["best"] == ("sgd", 0.1)
  assert table["fixed", "local", "fcn", 3, 128]["edge"]  # 0.1 is the grid's lowest rate
  assert table["fixed", "local", "fcn", 3, 8]["fixed"] == ("sgd", 0.1)


@pytest.mark.slow  # 2,000 resamples, each re-selecting: 12 s
def test_the_tuned_exponent_re_selects_the_best_in_every_resample_and_covers_the_truth():
  ns = (8, 16, 32, 64, 128)
  best = [min(5 * n**0.5, 0.2 * n**1.5) for n in ns]
  truth = stats.fit_power_law(ns, best)[0]
  covered = 0
  for rng_seed in range(0, 60, 3):
    fit, low, high, used, _ = ttr.exponents(table_of(crossing_rows(rng_seed)))["local", "fcn", 3]
    covered += low <= truth <= high
  assert covered >= 17  # of 20; a fit on one fixed rate would miss it every time
  tuned = ttr.exponents(table_of(crossing_rows()))["local", "fcn", 3]
  fixed = ttr.exponents(table_of(crossing_rows()), tuned=False)["local", "fcn", 3]
  assert abs(tuned[0] - truth) < 0.1 and abs(fixed[0] - 0.5) < 0.1


# ------------------------------------------------------------------------- verdicts


def verdicts(rows):
  table = table_of(rows)
  return {v.claim: v for v in ttr.claim_verdicts(table, ttr.exponents(table))}


def find(result, text):
  return next(v for c, v in result.items() if text in c)


def with_grid(rows, rates=(0.01, 1.0)):
  """rows plus, per cell, two worse rates around theirs (10x the steps), so that their
  rate is interior to its grid."""
  extra = [dict(r, learning_rate=rate, fixed_step=False,
                steps_to_success=None if r["steps_to_success"] is None
                else 10 * r["steps_to_success"]) for r in rows for rate in rates]
  return rows + extra


def test_fcn_exponent_growing_with_k_holds_falling_fails_and_flat_is_not_established():
  grows = with_grid(power_law_rows("fcn", 2, 0.7) + power_law_rows("fcn", 4, 1.8, rng_seed=1))
  [v] = verdicts(grows).values()
  assert v.holds is True and "the growth α(k = 4) − α(k = 2) in the same resamples" in v.claim
  assert "not established" not in v.claim
  falls = with_grid(power_law_rows("fcn", 2, 1.8) + power_law_rows("fcn", 4, 0.7, rng_seed=1))
  [v] = verdicts(falls).values()
  assert v.holds is False
  flat = with_grid(power_law_rows("fcn", 2, 1.0) + power_law_rows("fcn", 4, 1.0, rng_seed=1))
  [v] = verdicts(flat).values()
  assert v.holds is None  # intervals overlap: neither way


def test_cnn_exponent_not_growing_holds_growing_fails_and_near_the_margin_is_undecided():
  flat = with_grid(power_law_rows("cnn", 2, 0.8, spread=0.1)
                   + power_law_rows("cnn", 4, 0.85, rng_seed=1, spread=0.1))
  [v] = verdicts(flat).values()
  assert v.holds is True and v.claim.startswith("CNN, tuned: the exponent does not grow")
  grows = with_grid(power_law_rows("cnn", 2, 0.8) + power_law_rows("cnn", 4, 2.0, rng_seed=1))
  [v] = verdicts(grows).values()
  assert v.holds is False
  # Growth 0.25, the margin itself: the intervals allow growth on both sides of it.
  near = with_grid(power_law_rows("cnn", 2, 0.8) + power_law_rows("cnn", 4, 1.05, rng_seed=1))
  [v] = verdicts(near).values()
  assert v.holds is None, v.measured
  # Wide intervals no longer make the claim hold (they did when overlap was enough).
  noisy = with_grid(power_law_rows("cnn", 2, 0.8, spread=2.0)
                    + power_law_rows("cnn", 4, 0.8, rng_seed=1, spread=2.0))
  [v] = verdicts(noisy).values()
  assert v.holds is None, v.measured


@pytest.mark.parametrize("alpha4,holds", [(0.8, True), (1.25, False)])
def test_growth_is_judged_on_its_own_interval_drawn_in_the_same_resamples(alpha4, holds):
  """α(k = 4) − α(k = 2) for a noisy CNN: the growth's interval is that of the draw-by-draw
  difference of the two exponents, narrower than what their two intervals allow (where
  this data is undecided), so it decides: within the margin (holds) or beyond it (FAILS)."""
  rows = with_grid(power_law_rows("cnn", 2, 0.8, spread=0.5)
                   + power_law_rows("cnn", 4, alpha4, rng_seed=1, spread=0.5))
  table = table_of(rows)
  alphas = ttr.exponents(table)
  low, high = alphas["local", "cnn", 2], alphas["local", "cnn", 4]
  growth = fits.difference(high, low)
  assert growth[1:3] == pytest.approx(stats.percentile_interval(high[4] - low[4]), abs=1e-12)
  allowed = (high[1] - low[2], high[2] - low[1])  # two separate intervals
  assert allowed[0] <= claims.EXPONENT_MARGIN < allowed[1]  # would decide nothing
  [v] = ttr.claim_verdicts(table, alphas)
  assert v.holds is holds and f"growth {growth[0]:+.2f}" in v.measured


def test_a_claim_resting_on_a_cell_whose_best_is_at_its_grid_edge_is_not_established():
  rows = with_grid(power_law_rows("fcn", 2, 0.7) + power_law_rows("fcn", 4, 1.8, rng_seed=1))
  # At n = 32, k = 4 the highest rate becomes the best: the grid no longer brackets it.
  rows = [dict(r, steps_to_success=1) if (r["n"], r["k"], r["learning_rate"]) == (32, 4, 1.0)
          else r for r in rows]
  [v] = verdicts(rows).values()
  assert "[not established: best rate at its grid's edge at fcn k = 4 n = 32]" in v.claim


def log2_rows(arch, medians_by_n, successes=None, seeds=32, stopped_at=10**6):
  successes = successes or {}
  rows = []
  for n, median in medians_by_n.items():
    for s in range(seeds):
      steps = None if s >= successes.get(n, seeds) else int(median * (0.8 + 0.4 * s / seeds))
      rows.append(row(arch, n, int(math.log2(n)), s, steps, "log2_n", stopped_at=stopped_at))
  return with_grid(rows)


def test_log2_claims_curvature_within_the_margin_bending_more_and_the_wall():
  fcn = log2_rows("fcn", {8: 300, 16: 1000, 32: 8500, 64: 0}, successes={64: 5})
  cnn = log2_rows("cnn", {8: 20, 16: 40, 32: 90, 64: 200})
  result = verdicts(fcn + cnn)
  # The CNN's slopes 1.0, 1.17, 1.15: κ about 0.04, its interval below the margin 0.125.
  assert find(result, "CNN, k = log2 n").holds is True
  # The FCN's slopes 1.7 then 3.1 (κ 0.68 over n = 8, 16, 32), against the CNN's there.
  bends = find(result, "bends more than the CNN's")
  assert bends.holds is True and "over n = 8, 16, 32" in bends.measured
  # n = 64: 5 of 32 by 10^6 steps at every rate, far past 8500 x 2^3.1.
  wall = find(result, "at n = 64 the median lies above")
  assert wall.holds is True and wall.measured.startswith("censored: best 5/32")
  # What the stop makes true is shown apart, not counted.
  table = table_of(fcn + cnn)
  [fact] = claims.facts(table)
  assert "n = 8: 16/16" in fact and "not counted" in fact
  assert not any("most seeds succeed" in c for c in result)
  # A power-law FCN bends no more than a CNN, and its median at n = 64 lies below the
  # previous segment's power (slope 0.3 after 1.0); a CNN whose slope rises by 1 per
  # doubling (κ 0.5) fails its margin.
  poly = log2_rows("fcn", {8: 100, 16: 200, 32: 400, 64: 500})
  cnn_bad = log2_rows("cnn", {8: 20, 16: 80, 32: 640, 64: 10240})
  result = verdicts(poly + cnn_bad)
  assert find(result, "bends more than the CNN's").holds is False
  assert find(result, "at n = 64 the median lies above").holds is False
  assert find(result, "CNN, k = log2 n").holds is False
  # κ at the margin itself (slopes 1, 1.25, 1.5): neither established nor refuted.
  cnn_near = log2_rows("cnn", {8: 20, 16: 40, 32: 95.1, 64: 269})
  assert find(verdicts(poly + cnn_near), "CNN, k = log2 n").holds is None
  # Censored at a budget below the prediction: the censoring says nothing.
  short = log2_rows("fcn", {8: 300, 16: 1000, 32: 8500, 64: 0}, successes={64: 5},
                    stopped_at=30000)
  assert find(verdicts(short), "at n = 64 the median lies above").holds is None


def test_nonlocal_claims():
  local = log2_rows("fcn", {8: 300, 16: 1000})
  twin = [dict(r, locality="nonlocal") for r in log2_rows("fcn", {8: 310, 16: 990})]
  cnn_twin = [dict(r, locality="nonlocal") for r in log2_rows("cnn", {8: 0}, successes={8: 1})]
  result = verdicts(local + twin + cnn_twin)
  assert find(result, "FCN nonlocal").holds is True
  assert find(result, "CNN nonlocal").holds is True  # 1/32 at every rate
  slower = [dict(r, locality="nonlocal") for r in log2_rows("fcn", {8: 3000, 16: 10000})]
  cnn_learns = [dict(r, locality="nonlocal") for r in log2_rows("cnn", {8: 50})]
  result = verdicts(local + slower + cnn_learns)
  assert find(result, "FCN nonlocal").holds is False
  assert find(result, "CNN nonlocal").holds is False
  # 1.4x slower, the margin 1.5 inside the intervals; 14 of 32 successes at a rate.
  near = [dict(r, locality="nonlocal") for r in log2_rows("fcn", {8: 420, 16: 1400})]
  cnn_some = [dict(r, locality="nonlocal") for r in log2_rows("cnn", {8: 50}, successes={8: 14})]
  result = verdicts(local + near + cnn_some)
  assert find(result, "FCN nonlocal").holds is None
  assert find(result, "CNN nonlocal").holds is None
  # No cell with both medians: nothing to compare.
  censored = [dict(r, locality="nonlocal") for r in log2_rows("fcn", {8: 0, 16: 0},
                                                              successes={8: 3, 16: 3})]
  assert find(verdicts(local + censored), "FCN nonlocal").holds is None


# ------------------------------------------------------------------------ the config


def test_cells_run_once_and_rows_appear_in_every_series():
  config = load_config("time_to_learn")
  cells = ttl.cells(config)
  assert cells["fcn", "local", 8, 3] == ["fixed", "log2_n"]  # k = log2 8 = 3 is in fixed_ks
  assert cells["cnn", "local", 64, 6] == ["log2_n"]
  assert ("fcn", "local", 128, 2) not in cells  # fcn.ns ends at 64
  assert ("cnn", "local", 512, 4) in cells and ("cnn", "local", 16, 2) not in cells
  assert ("lcn", "local", 64, 6) not in cells  # the LCN's k = log2 n series ends at 32
  # CNN 4 n x 3 k + log2 16, 32, 64; LCN the same but log2 64; FCN 4 x 3 + log2 32, 64.
  assert len(cells) == (12 + 3) + (12 + 2) + (12 + 2)
  assert ttl.width(config, "cnn", 6) == 256 and ttl.width(config, "fcn", 6) == 128


def test_the_paper_variant_is_valid():
  ttl.validate(load_config("time_to_learn", "paper"))  # '' and :quick: experiments_test.py


def test_the_report_draws_cells_where_every_network_is_censored_or_none_is(tmp_path):
  config = json.loads(load_config("time_to_learn", "quick").to_json_best_effort())
  censored = [dict(r, steps_to_success=None) for r in log2_rows("fcn", {8: 0, 16: 0})]
  fixed = power_law_rows("cnn", 2, 1.0, ns=(8, 16), seeds=4)
  files = ttr.report(censored + fixed, dict(config, precision="float32"), str(tmp_path))
  assert "report.md" in files and (tmp_path / "steps_vs_rate.png").exists()


def check_quick_run(workdir):
  """The files of a launcher run of configs/time_to_learn.py:quick (main_test.py runs it):
  one row per network, staged budgets, the report's figures and exponent table."""
  config = load_config("time_to_learn", "quick")
  rows = [json.loads(line) for line in open(workdir / "results.jsonl")]
  cells = {arch: len(config.fixed_ks) * len(config[arch].ns) + len(config[arch].log2_ns)
           for arch in config.archs}
  rates = {arch: sum(map(len, config[arch].rates.values())) for arch in config.archs}
  assert len(rows) == len(config.seeds) * sum(cells[a] * rates[a] for a in config.archs)
  final = dict(config.fcn.log2_final_steps)  # n = 16, k = 4: 2700 steps, by stages from 300
  for r in rows:
    staged = r["arch"] == "fcn" and r["k_schedule"] == "log2_n" and r["n"] in final
    assert r["num_steps"] == (final[r["n"]] if staged else config.num_steps)
    assert r["stopped_at"] <= r["num_steps"]
    assert r["steps_to_success"] is None or 0 < r["steps_to_success"] <= r["stopped_at"]
    assert r["steps_per_second"] > 0 and r["compile_seconds"] > 0
  assert {r["k_schedule"] for r in rows} == {"fixed", "log2_n"}
  assert {(r["optimizer"], r["learning_rate"], r["fixed_step"]) for r in rows
          if r["arch"] == "fcn"} == {("sgd", 0.1, True), ("sgd", 0.316228, False),
                                     ("sgd", 1.0, False), ("adam", 0.001, False),
                                     ("adam", 0.00316228, False)}
  for figure in ("steps_vs_rate.png", "median_steps_vs_n.png", "survival.png"):
    assert (workdir / figure).exists(), figure
  report = (workdir / "report.md").read_text()
  assert "## Exponents (fixed k)" in report and "| local | CNN | 2 |" in report


@pytest.mark.slow
def test_the_paper_variant_runs_end_to_end_with_sizes_reduced(tmp_path):
  """Both localities, k up to 5, the quarter-decade grids and both FCN optimisers run once
  through the launcher; only seeds, steps, evaluation samples and n are reduced."""
  workdir = tmp_path / "run"
  sizes = [f"--config.{arch}.{field}=(32,)" for arch in ("cnn", "lcn", "fcn")
           for field in ("ns", "log2_ns")]
  result = run_main("configs/time_to_learn.py:paper", workdir, "--config.seeds=(0, 1)",
                    "--config.num_steps=20", "--config.num_eval=512", *sizes,
                    "--config.fcn.log2_final_steps=((32, 60),)")
  assert result.returncode == 0, result.stderr[-3000:]
  rows = [json.loads(line) for line in open(workdir / "results.jsonl")]
  paper = load_config("time_to_learn", "paper")
  assert {(r["locality"], r["k"]) for r in rows} == {
      (locality, k) for locality in ("local", "nonlocal") for k in (2, 3, 4, 5)}
  for arch in ("cnn", "lcn", "fcn"):
    grid = {(o, r) for o, rates in paper[arch].rates.items() for r in rates}
    assert {(r["optimizer"], r["learning_rate"]) for r in rows if r["arch"] == arch} == grid
  assert "## The claims, measured on the tuned times" in (workdir / "report.md").read_text()
  # The FCN's k = log2 n cell ran by stages to its final budget of 60 steps.
  staged = [r for r in rows if r["arch"] == "fcn" and r["k_schedule"] == "log2_n"]
  assert {r["num_steps"] for r in staged} == {60}
  assert {r["stage_budgets"][0] for r in staged} <= {20, 21}


def test_ert_counts_every_step_spent_over_the_successes_and_is_infinite_without_one():
  # 3 of 4 seeds succeed at 10, 20, 30; the fourth is censored at its stop, 100.
  rows = [row(seed=s, steps=t, stopped_at=100) for s, t in enumerate([10, 20, 30, None])]
  s = ttl_cells.candidate_stats(rows)
  ert, low, high = fits.ert(s)
  assert ert == pytest.approx((10 + 20 + 30 + 100) / 3)
  assert low < ert < high
  none = ttl_cells.candidate_stats([row(seed=s, steps=None, stopped_at=100) for s in range(4)])
  assert fits.ert(none)[0] == np.inf
  every = ttl_cells.candidate_stats([row(seed=s, steps=40, stopped_at=100) for s in range(4)])
  assert fits.ert(every) == (40.0, 40.0, 40.0)
