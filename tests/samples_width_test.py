"""Samples, width and luck: the frontier m* and its bootstrap on synthetic outcomes with a known
frontier, every claim verdict both ways on crafted rows, the config checks, a learning test
and the launcher end to end.

Crafted rows give, per (arch, n, width, m), the number of seeds (out of SEEDS) that succeed;
the first ones succeed, so a seed's outcome is monotone in m as a real seed's nearly is.
"""

import inspect
import json
import math
import re

import ml_collections
import numpy as np
import pytest

from conftest import load_config, run_main, with_changes
from cnnfcn_jax import checks, kpattern_config, sweeps
from cnnfcn_jax.experiments import samples_width
from cnnfcn_jax.experiments.samples_width import claims as sw_claims
from cnnfcn_jax.experiments.samples_width import report as sw_report
from cnnfcn_jax.experiments.samples_width import search as sw_search
from cnnfcn_jax.experiments.samples_width import series as sw_series
from cnnfcn_jax.experiments.samples_width import stats

SEEDS = 8
GRID = (32, 64, 128, 256, 512, 1024, 2048, 4096)


# ------------------------------------------------------------------------ the frontier m*


def test_m_star_interpolates_in_log_m_between_the_grid_points_around_one_half():
  # P = 0.25 at 200, 0.75 at 400: half way in P, so half way in log m: sqrt(200 x 400).
  assert stats.frontier([100, 200, 400], [0.0, 0.25, 0.75]) == pytest.approx(200 * 2**0.5)
  # A quarter of the way: 0.5 = 0.4 + 0.25 x (0.8 - 0.4) -> 100 x 4^0.25.
  assert stats.frontier([100, 400], [0.4, 0.8]) == pytest.approx(100 * 4**0.25)
  # Exactly 1/2 at a grid point: that point (the smallest m whose P reaches 1/2).
  assert stats.frontier([100, 200, 400], [0.0, 0.5, 1.0]) == pytest.approx(200)


def test_m_star_is_the_first_crossing_the_grid_start_or_beyond_the_grid():
  # Non-monotone P: the first m reaching 1/2 decides, not a later dip.
  assert stats.frontier([100, 200, 400, 800], [0.0, 1.0, 0.25, 1.0]) == pytest.approx(
      100 * 2**0.5)
  assert stats.frontier([100, 200], [0.5, 1.0]) == 100  # at or below the grid
  assert stats.frontier([100, 200], [0.0, 0.49]) == np.inf  # beyond: inf, not dropped
  # Leading axes (bootstrap resamples) broadcast.
  np.testing.assert_allclose(stats.frontier([100, 200, 400], [[0.5, 1, 1], [0, 0, 0.4],
                                                                [0, 0.5, 0.5]]),
                             [100, np.inf, 200])


def threshold_outcomes(thresholds, grid):
  """(seeds, M) outcomes of seeds that succeed exactly from their own threshold m on."""
  return np.asarray(grid)[None, :] >= np.asarray(thresholds)[:, None]


def test_the_bootstrap_interval_covers_a_known_frontier_and_narrows_with_more_seeds():
  # Thresholds log-uniform over [100, 1000): the median seed's threshold, m* = sqrt(1e5)
  # = 316, is the frontier of the population. A fine grid (factor 2^(1/8)) resolves it.
  grid = np.round(np.geomspace(32, 4096, 57)).astype(int)
  rng = np.random.default_rng(1)
  widths = []
  for num in (64, 1024):
    thresholds = np.exp(rng.uniform(np.log(100), np.log(1000), num))
    rows = [dict(arch="cnn", locality="local", n=32, width=16, num_train=int(m), seed=s,
                 success=bool(m >= t)) for m in grid for s, t in enumerate(thresholds)]
    [(ms, seeds, success)] = stats.outcomes(rows).values()  # (seeds, grid m), from rows
    assert list(ms) == list(grid) and list(seeds) == list(range(num))
    found = stats.frontier_with_interval(ms, success, resamples=400)
    assert found.low <= 316.2 <= found.high and found.low <= found.m_star <= found.high
    assert found.inside and found.m_star == pytest.approx(316.2, rel=0.25)
    widths.append(np.log(found.high / found.low))
  assert widths[1] < widths[0] / 2.5  # 16x the seeds: about 4x narrower


def test_an_interval_is_never_narrower_than_the_bracket_and_bounds_are_bounds():
  # P = 0 at 128 and 1 at 256: the seeds agree, so the bootstrap has no width, but the
  # frontier is only known to lie between the two measured m.
  success = threshold_outcomes([256] * 16, GRID)
  found = stats.frontier_with_interval(GRID, success, 100)
  assert found.m_star == pytest.approx(128 * 2**0.5) and found.inside
  assert (found.low, found.high, found.m_lo, found.m_hi) == (128, 256, 128, 256)
  # 63 of 64 at 256 (the review's case): still the bracket, not [181, 184].
  found = stats.frontier_with_interval(GRID, threshold_outcomes([256] * 63 + [512], GRID), 200)
  assert found.low <= 128 and found.high >= 256
  success = threshold_outcomes([16] * 16, GRID)
  assert stats.frontier_with_interval(GRID, success, 100) == (32.0, 0.0, 32.0, "below", 0.0,
                                                              32.0)
  success = threshold_outcomes([10**6] * 16, GRID)
  assert stats.frontier_with_interval(GRID, success, 100) == (
      math.inf, 4096.0, math.inf, "beyond", 4096.0, math.inf)


def test_every_interval_holds_its_estimate_and_its_bracket_on_random_outcomes():
  rng = np.random.default_rng(7)
  for _ in range(300):
    ms = np.unique(np.round(np.exp(np.sort(rng.uniform(3, 10, rng.integers(1, 9)))))).astype(int)
    seeds = int(rng.integers(1, 40))
    # Rates growing with m; the measured fractions, noisy, need not.
    rates = np.sort(rng.random(len(ms))) ** rng.uniform(0.2, 3)
    success = rng.random((seeds, len(ms))) < rates[None, :]
    f = stats.frontier_with_interval(ms, success, resamples=50, seed=int(rng.integers(100)))
    assert f.low <= f.m_lo <= f.m_star <= f.m_hi <= f.high, (ms, success.mean(0), f)
    assert f.low <= f.m_star <= f.high
    if f.kind == "inside":
      assert f.m_lo in ms and f.m_hi in ms and f.m_hi / f.m_lo > 1
    elif f.kind == "below":
      assert success.mean(0)[0] >= 0.5 and f.m_star == f.m_hi == ms[0]
    else:
      assert (success.mean(0) < 0.5).all() and f.m_lo == ms[-1]


def exact_cells(m_star_of_n, ns, grid=GRID, seeds=4):
  """{n: (grid, success)}: 1 of 4 seeds at the grid point below m*(n) = that point x sqrt(2),
  3 of 4 at the one above, so the interpolated m* is exactly m*(n)."""
  cells = {}
  for n in ns:
    below = m_star_of_n(n) / 2**0.5
    thresholds = [below] + [2 * below] * (seeds // 2) + [10**9] * (seeds - 1 - seeds // 2)
    cells[n] = (np.array(grid), threshold_outcomes(thresholds, grid))
  return cells


def test_the_exponent_is_exact_on_an_exact_power_law_and_its_interval_covers_the_brackets():
  cells = exact_cells(lambda n: 2 * n * 2**0.5, (16, 64, 256, 1024), grid=tuple(
      2**i for i in range(4, 13)))  # m* = 2 sqrt(2) n: beta = 1
  fit = stats.frontier_exponent(cells, resamples=300)
  assert fit["beta"] == pytest.approx(1.0) and fit["log_c"] == pytest.approx(math.log(2 * 2**0.5))
  assert fit["low"] <= 1.0 <= fit["high"] and fit["left_out"] == {}
  assert fit["m_star"][64] == pytest.approx(128 * 2**0.5)
  # Brackets a factor 2 (m* at their middle, log m* ± ln 2 / 2) at log n = ±1.5, ±0.5 steps
  # of ln 4: the slopes over the box span 1 ± (4 x ln2/2 x ln4)/(5 x ln4²) = 1 ± 0.2.
  assert fit["corners"] == pytest.approx((0.8, 1.2))
  assert fit["low"] == min(fit["boot"][0], 0.8) and fit["high"] == max(fit["boot"][1], 1.2)


def test_bounds_enter_no_fit_and_a_lone_n_gives_no_exponent():
  cells = exact_cells(lambda n: 2 * n * 2**0.5, (16, 64, 256))
  cells[1024] = (np.array(GRID), threshold_outcomes([10**6] * 4, GRID))  # beyond
  cells[8] = (np.array(GRID), threshold_outcomes([1] * 4, GRID))  # m* <= 32: a bound
  fit = stats.frontier_exponent(cells, resamples=100)
  assert fit["ns"] == [16, 64, 256] and fit["beta"] == pytest.approx(1)
  assert fit["left_out"] == {8: "below", 1024: "beyond"} and fit["m_star"][1024] == np.inf
  lone = stats.frontier_exponent({16: cells[16], 1024: cells[1024]}, resamples=10)
  assert lone["beta"] is None and lone["left_out"] == {1024: "beyond"}
  fronts = {n: stats.frontier_with_interval(*cells[n], 10) for n in cells}
  assert "left out as bounds: n = 8 (≤ 32, at or below the measured m), n = 1024 (> 4096, " \
         "beyond the measured m)" in stats.fmt_fit_ns(fit, fronts)


def test_outcomes_refuse_seeds_that_differ_between_sample_sizes_or_repeat():
  rows = [dict(arch="cnn", locality="local", n=16, width=8, num_train=m, seed=s, success=True)
          for m, seeds in ((32, (0, 1)), (64, (0, 2))) for s in seeds]
  with pytest.raises(ValueError, match="seeds at m = 64 differ"):
    stats.outcomes(rows)
  with pytest.raises(ValueError, match="seed 0 twice at m = 32"):
    stats.outcomes(rows[:2] + rows[:1])


def test_corollary5_bound_counts_every_weight():
  # CNN, n = 32, k = 3, q = 16: W 16x3, b 16, u 30x16 -> 544 weights.
  assert stats.num_weights("cnn", 32, 3, 16) == 544
  assert stats.num_weights("lcn", 32, 3, 16) == 30 * 16 * 5
  assert stats.num_weights("fcn", 32, 3, 64) == 64 * 34
  bound = stats.corollary5_sample_bound("cnn", 32, 3, 16, 0.05, 0.5)
  assert bound == pytest.approx((544 * math.log2(544) + math.log(2)) / 0.0025)


# --------------------------------------------------------------------------- verdicts


def config_for(phase_widths=(2, 4, 8, 16, 32, 64), cnn_ns=(16, 32, 64, 128),
               fcn_ns=(16, 32, 64), series=(8, 16, 32, 64), frontier_grid=GRID,
               arms=("standard",)):
  c = load_config("samples_width").to_dict()
  c.update(phase_num_trains=GRID, frontier_num_trains=frontier_grid, phase_n=32,
           phase_widths=phase_widths, bootstrap_resamples=200, series_arms=arms)
  for arch, ns, width in (("cnn", cnn_ns, 16), ("lcn", cnn_ns, 16), ("fcn", fcn_ns, 64)):
    c[arch].update(frontier_ns=ns, frontier_width=width, frontier_max_num_train=0)
  c["fcn"]["width_series"] = series
  return c


def rows_for(successes, c, k=3, seeds=SEEDS):
  """successes(arch, n, q, m) -> seeds of SEEDS that succeed (scaled to `seeds`); rows of
  the phase diagram's units, of the frontier's and of the width series' (series = True) at
  every grid m: per arm, every rate on selection seeds (1000 on) and, at the arm's first
  rate (what the selection's ties choose), the reporting seeds."""
  config = ml_collections.ConfigDict(c)
  units = {(key, False): widths for key, widths in samples_width.phase_units(config).items()}
  for arch in c["archs"]:
    for m in samples_width.frontier_grid(config, arch):
      for n in c[arch]["frontier_ns"]:
        units.setdefault(((arch, "local", n, m), False), (c[arch]["frontier_width"],))
      if c[arch].get("width_series"):
        units[(arch, "local", c["phase_n"], m), True] = tuple(c[arch]["width_series"])
  rows = []
  for ((arch, locality, n, m), series), widths in units.items():
    stages = [(arm, role, rate, first) for arm in c["series_arms"] for role, rates, first in (
        ("select", c["series_learning_rates"][arm], 1000),
        ("report", c["series_learning_rates"][arm][:1], 0)) for rate in rates]
    for q in widths:
      hits = successes(arch, n, q, m) * seeds // SEEDS
      for arm, role, rate, first in stages if series else [(None, None, 0.01, 0)]:
        rows += [dict(arch=arch, locality=locality, n=n, k=k, width=q, num_train=m,
                      seed=first + s, success=s < hits, test_accuracy=1.0 if s < hits else 0.5,
                      series=series, learning_rate=rate,
                      **(dict(arm=arm, role=role) if series else {})) for s in range(seeds)]
  return rows


def power_law(scale, beta, min_width=8, fcn_width_factor=4.0):
  """All seeds succeed from m = scale n^beta on, half of them one grid step lower (so m*
  sits exactly on a grid point), none below; widths under min_width never succeed; the FCN
  needs fcn_width_factor times fewer samples per doubling of width (from q = 8)."""
  def successes(arch, n, q, m):
    if q < min_width:
      return 0
    need = scale[arch] * n**beta[arch]
    if arch == "fcn":
      need *= fcn_width_factor**-math.log2(q / 8)
    return SEEDS if m >= need else SEEDS // 2 if 2 * m >= need else 0
  return successes


WIDTH_CLAIM = "FCN width series, standard arm, at n = 32"


def verdicts(rows, c):
  return {v.claim.split(":")[0].split(" (")[0]: v for v in sw_claims.claim_verdicts(rows, c)}


def statuses(found):
  return {name: v.status for name, v in found.items()}


WIDE = tuple(2**i for i in range(4, 21))  # a frontier grid to 2^20 for steep exponents
# CNN m* = 8n (128 ... 1024), LCN 4n; the FCN at q = 64 m* = n^3/32 (128, 1024, then beyond
# 4096 at n = 64); its width series at n = 32: beyond at q = 8 and 16, 4096 at q = 32,
# 1024 at q = 64.
GOOD = power_law(dict(cnn=16, lcn=8, fcn=4), dict(cnn=1, lcn=1, fcn=3))


PHASE_SEEDS = 64  # the phase claim is a family of cells: 8 seeds cannot show one above 1/2


def test_every_claim_holds_on_rows_built_to_satisfy_it():
  c = config_for()
  found = verdicts(rows_for(GOOD, c, seeds=PHASE_SEEDS), c)
  assert statuses(found) == {
      "CNN m*(n) polynomial": "holds", "LCN m*(n) polynomial": "holds",
      "FCN m* grows faster than CNN's": "holds", "FCN m* grows faster than LCN's": "holds",
      "CNN phase diagram": "holds", "LCN phase diagram": "holds", WIDTH_CLAIM: "holds"}
  assert "FCN beyond the grid from n = 64" in found["FCN m* grows faster than CNN's"].measured
  width = found[WIDTH_CLAIM].measured
  # γ over the widths with m* inside (32 and 64): log2(1024 / 4096) = -2.
  assert width.startswith("γ = -2.00 [-∞, -1.00]; widths 8, 16, 32, 64: q = 8 (rate 0.03): "
                          "> 4096; q = 16 (rate 0.03): > 4096; q = 32 (rate 0.03): 4096 [")
  assert "16 cells at level 0.9969 each, 16 above 1/2" in found["CNN phase diagram"].measured
  # Eight seeds a cell: no cell can be shown above 1/2 at the family's level.
  few = verdicts(rows_for(GOOD, c), c)
  assert few["CNN phase diagram"].status == "not established"
  assert found["CNN m*(n) polynomial"].measured == "β = 1.00 [0.60, 1.40], fitted on n = 16, " \
                                                    "32, 64, 128"


def test_the_fcn_is_faster_by_its_exponent_alone_when_every_n_is_inside_the_grid():
  c = config_for()
  inside = power_law(dict(cnn=16, lcn=8, fcn=2), dict(cnn=1, lcn=1, fcn=3))  # FCN 4096 at 64
  found = verdicts(rows_for(inside, c), c)["FCN m* grows faster than CNN's"]
  # At n = 64 half the seeds succeed at 4096: resamples below half leave the grid, so the
  # upper end is unbounded; the lower end, no higher than the slopes over the brackets
  # allow (3 - 0.5), is above the CNN's upper end (1 + 0.4 or more).
  assert found.holds and "beyond the grid from" not in found.measured
  assert found.measured.startswith("β FCN 3.00 [2.50, ∞], CNN 1.00 [0.")


def test_the_polynomial_claim_fails_holds_or_is_not_established():
  steep = power_law(dict(cnn=1 / 8, lcn=8, fcn=4), dict(cnn=3, lcn=1, fcn=3))
  c = config_for(frontier_grid=WIDE)  # CNN m* = n^3/16 inside at every n: β = 3
  found = verdicts(rows_for(steep, c), c)["CNN m*(n) polynomial"]
  assert found.status == "FAILS" and found.measured.startswith("β = 3.00 [2.")
  # The same CNN on the factor-2 grid to 4096: beyond at n = 128 while inside below it.
  found = verdicts(rows_for(steep, config_for()), config_for())["CNN m*(n) polynomial"]
  assert found.status == "FAILS" and "beyond the grid at n = [64, 128]" in found.measured
  # β = 2 exactly: its interval straddles 2.
  square = power_law(dict(cnn=1, lcn=8, fcn=4), dict(cnn=2, lcn=1, fcn=3))
  found = verdicts(rows_for(square, c), c)["CNN m*(n) polynomial"]
  assert found.status == "not established" and "β's interval reaches 2" in found.measured
  # Never inside: no β. An n at or below the grid is a bound: no value, no verdict.
  never = power_law(dict(cnn=10**9, lcn=4, fcn=4), dict(cnn=1, lcn=1, fcn=3))
  found = verdicts(rows_for(never, config_for()), config_for())
  assert found["CNN m*(n) polynomial"].status == "not established"
  assert "fewer than two n inside" in found["CNN m*(n) polynomial"].measured
  # LCN need 4n: half the seeds at 32 for n = 16, so m* <= 32, a bound.
  assert found["LCN m*(n) polynomial"].status == "not established"
  assert "m* is a bound at n = 16" in found["LCN m*(n) polynomial"].measured
  assert "n = 16 (≤ 32, at or below the measured m)" in found["LCN m*(n) polynomial"].measured


def test_the_faster_claim_fails_on_a_slower_fcn_and_is_open_on_an_equal_one():
  c = config_for(frontier_grid=WIDE)
  slower = power_law(dict(cnn=1 / 8, lcn=1 / 8, fcn=32), dict(cnn=3, lcn=3, fcn=1),
                     fcn_width_factor=1)
  found = verdicts(rows_for(slower, c), c)
  assert found["FCN m* grows faster than CNN's"].status == "FAILS"
  c = config_for(fcn_ns=(16, 32, 64, 128))
  same = power_law(dict(cnn=2, lcn=2, fcn=2), dict(cnn=1, lcn=1, fcn=1), fcn_width_factor=1)
  found = verdicts(rows_for(same, c), c)
  # Equal growth: the intervals overlap, which neither shows faster nor slower growth.
  assert found["FCN m* grows faster than CNN's"].status == "not established"
  assert found["FCN m* grows faster than LCN's"].measured.endswith("β intervals overlap")


def test_the_phase_claim_is_a_family_at_one_level_and_fails_on_a_cell_surely_below():
  c = config_for()
  def dip(hits_at_dip):
    def successes(arch, n, q, m):  # the CNN at q = 32 loses seeds at m = 2048
      return hits_at_dip if (arch, q, m) == ("cnn", 32, 2048) else GOOD(arch, n, q, m)
    return successes
  found = verdicts(rows_for(dip(0), c, seeds=PHASE_SEEDS), c)
  assert found["CNN phase diagram"].status == "FAILS" and found["LCN phase diagram"].holds
  assert found["CNN phase diagram"].measured.startswith(
      "below 1/2 at q = 32, m = 2048: 0.00 [0.00, ")
  # 24 of 64 (0.38): at the family's level (1 - 0.05/16) its interval reaches 1/2.
  found = verdicts(rows_for(dip(3), c, seeds=PHASE_SEEDS), c)
  assert found["CNN phase diagram"].status == "not established"
  assert "15 above 1/2, 1 undecided; lowest q = 32, m = 2048: 0.38 [0.2" in found[
      "CNN phase diagram"].measured
  # Each cell at 95% alone would have shown it above: the family's level is what is used.
  assert stats.success_table([dict(success=s < 24) for s in range(64)], keys=())[()][3] > 0.25
  # Widths below 2^k = 8 are not judged: they never succeed under GOOD (20 cells).
  assert "20 cells at level 0.9975 each, 20 above 1/2" in found["LCN phase diagram"].measured
  # A frontier beyond the grid at phase_n leaves no cell to judge.
  never = power_law(dict(cnn=10**9, lcn=8, fcn=4), dict(cnn=1, lcn=1, fcn=3))
  found = verdicts(rows_for(never, c), c)["CNN phase diagram"]
  assert found.status == "not established" and found.measured == "no cell at m >= m*'s upper end"


def test_the_width_claim_fails_when_the_widest_needs_more_and_is_open_when_they_overlap():
  c = config_for()
  costly = power_law(dict(cnn=16, lcn=8, fcn=1 / 32), dict(cnn=1, lcn=1, fcn=3),
                     fcn_width_factor=0.25)  # q = 8: m* 512; q = 16: 2048; wider beyond
  found = verdicts(rows_for(costly, c), c)[WIDTH_CLAIM]
  # γ over q = 8, 16: log2(2048 / 512) = 2, its interval above 0.
  assert found.status == "FAILS" and found.measured.startswith("γ = 2.00 [")
  assert found.measured.endswith("q = 64 (rate 0.03): > 4096")
  flat = power_law(dict(cnn=16, lcn=8, fcn=1 / 32), dict(cnn=1, lcn=1, fcn=3),
                   fcn_width_factor=1)
  found = verdicts(rows_for(flat, c), c)[WIDTH_CLAIM]
  assert found.status == "not established" and "00 [-0.40, 0.40]; widths" in found.measured
  # Without a series the phase diagram's grid is judged.
  c = config_for(series=())
  found = verdicts(rows_for(GOOD, c), c)["FCN width series, the phase diagram's widths, at n = 32"]
  assert found.holds and "adam step 0.01 for every width" in found.claim
  assert "; widths 2, 4, 8, 16, 32, 64: q = 2: > 4096" in found.measured


def test_the_phase_diagram_keeps_its_grid_and_the_series_its_own_rows():
  c = config_for()
  rows = rows_for(GOOD, c)
  # A frontier midpoint at phase_n (m = 181 between 128 and 256 for the CNN at q = 16).
  rows += [dict(arch="cnn", locality="local", n=32, k=3, width=16, num_train=181, seed=s,
                success=s < 2, test_accuracy=1.0, series=False) for s in range(SEEDS)]
  found = stats.analysis(rows, c)["cnn", "local"]
  assert (found["phase"][16].m_lo, found["phase"][16].m_hi) == (128, 256)  # the grid's
  assert (found["frontier"][32].m_lo, found["frontier"][32].m_hi) == (181, 256)  # refined
  assert found["phase"][16].low <= 128 and found["phase"][16].high >= 256
  fcn = sw_series.analysis(rows, c)["fcn", "local"]["series"]["standard"]
  assert set(fcn["fronts"]) == {8, 16, 32, 64} and fcn["fronts"][64].m_star == 1024
  # A series row the phase diagram also holds would be a duplicate seed if pooled: it is not.
  assert stats.phase_rows(rows, c) == [r for r in rows if r["n"] == 32 and not r["series"]
                                       and r["num_train"] in GRID and r["width"] in
                                       c["phase_widths"]]


# ------------------------------------------------------------------------ configs


def test_the_paper_config_is_valid_and_an_accelerator_s():
  config = load_config("samples_width", "paper")  # '' and :quick: tests/experiments_test.py
  samples_width.validate(config)
  assert len(config.seeds) >= 256 and max(config.cnn.frontier_ns) >= 1024


def test_the_default_grids_are_what_the_issue_asks_for():
  c = load_config("samples_width")
  assert c.frontier_bracket_ratio == 1.25 and c.fcn.width_series[0] == 8
  assert load_config("samples_width", "paper").fcn.width_series == tuple(2**i for i in
                                                                         range(3, 11))
  assert load_config("samples_width", "quick").fcn.width_series == (4, 8)
  assert min(c.phase_widths) == 2 and max(c.phase_widths) >= 2**(c.k + 3)
  assert max(c.phase_num_trains) / min(c.phase_num_trains) >= 100 and len(c.seeds) >= 64
  assert min(c.cnn.frontier_ns) == 16 and max(c.cnn.frontier_ns) >= 256
  assert min(c.lcn.frontier_ns) == 16 and max(c.lcn.frontier_ns) >= 256


def test_the_phase_units_nest_the_frontier_width_with_the_phase_widths():
  c = load_config("samples_width", "quick")  # phase n 16 at (4, 8); frontier q 8 at 16, 32
  found = samples_width.phase_units(with_changes(c, {"cnn.frontier_width": 16}))
  assert found["cnn", "local", 16, 64] == (4, 8, 16) and found["fcn", "local", 16, 512] == (4, 8)
  assert len(found) == len(c.archs) * len(c.phase_num_trains)


class FakeCheckpoint:
  """Keeps each unit's rows by name, as checkpoints.Checkpoint does: a unit whose name was
  saved is loaded, not computed."""

  def __init__(self):
    self.saved, self.names, self.computed = {}, [], []

  def run_units(self, units, name):
    rows = []
    for unit_name, _, compute in units:
      self.names.append(unit_name)
      if unit_name not in self.saved:
        self.computed.append(unit_name)
        self.saved[unit_name] = compute()
      rows += self.saved[unit_name]
    return rows


@pytest.fixture
def fake_training(monkeypatch):
  """install(successes(n, m, q[, rate]) -> seeds of SEEDS): unit_rows trains nothing; a
  width series' selection stage has seeds 1000 on."""
  def install(successes):
    with_rate = len(inspect.signature(successes).parameters) == 4
    def unit_rows(c, arch, locality, n, m, cells, series=None, capacity=0):
      first = 1000 if series and series[1] == "select" else 0
      return [dict(arch=arch, locality=locality, n=n, k=c.k, width=q, num_train=m,
                   seed=first + s, test_accuracy=0.5, series=bool(series),
                   success=s < successes(n, m, q, *([rate] if with_rate else [])),
                   learning_rate=c[arch].learning_rate if rate is None else rate,
                   **(dict(arm=series[0], role=series[1]) if series else {}))
              for q, rate in cells for s in range(SEEDS)]
    monkeypatch.setattr(sw_search, "unit_rows", unit_rows)
  return install


def search_config(**changes):
  return with_changes(load_config("samples_width", "quick"), {
      "frontier_num_trains": GRID, "phase_num_trains": GRID, "cnn.frontier_width": 8,
      "frontier_bracket_ratio": 1.25, "frontier_max_refinements": 4,
      "series_max_refinements": 4, **changes})


def test_the_frontier_search_brackets_one_half_from_its_start_and_stops(fake_training):
  c = search_config()
  # P = 0 up to 128, 2/8 at 256, 6/8 at 512, 1 from 1024 on: P within [0.2, 0.8] on both
  # sides of the bracket, so no midpoint.
  fake_training(lambda n, m, q: {256: 2, 512: 6}.get(m, 0 if m < 256 else SEEDS))
  fake = FakeCheckpoint()
  rows = samples_width.frontier_search(c, fake, "cnn", "local", 64, GRID.index(1024))
  # From 1024 (P = 1) down to 128 (P = 0 <= 0.1); 1024 is already >= 0.9: no more up.
  assert fake.names == [f"cnn-local-n64-m{m}" for m in (1024, 512, 256, 128)]
  assert samples_width.start_index(GRID, rows, 8) == GRID.index(256)  # m* = 362: nearest 256
  fake = FakeCheckpoint()
  samples_width.frontier_search(c, fake, "cnn", "local", 64, 0)  # up from 32 to 1024
  assert fake.names == [f"cnn-local-n64-m{m}" for m in (32, 64, 128, 256, 512, 1024)]
  fake_training(lambda n, m, q: 0)  # never: up to the end of the grid, beyond it
  fake = FakeCheckpoint()
  samples_width.frontier_search(c, fake, "cnn", "local", 64, 3)
  assert fake.names[-1] == "cnn-local-n64-m4096" and len(fake.names) == 5
  fake = FakeCheckpoint()
  samples_width.frontier_search(search_config(**{"cnn.frontier_max_num_train": 1024}), fake,
                                "cnn", "local", 64, 3)
  assert fake.names[-1] == "cnn-local-n64-m1024"


def test_the_search_bisects_a_sharp_bracket_to_the_ratio_and_resumes_by_name(fake_training):
  # Every seed fails below 200 and succeeds from it: P jumps 0 -> 1 between 128 and 256.
  fake_training(lambda n, m, q: SEEDS if m >= 200 else 0)
  c, fake = search_config(), FakeCheckpoint()
  rows = samples_width.frontier_search(c, fake, "cnn", "local", 64, GRID.index(256))
  # 181 = sqrt(128 x 256) fails, 215 = sqrt(181 x 256) succeeds: 215/181 = 1.19 <= 1.25.
  assert fake.names == [f"cnn-local-n64-m{m}" for m in (256, 128, 181, 215)]
  [(ms, _, success)] = stats.outcomes(rows).values()
  found = stats.frontier_with_interval(ms, success, 100)
  assert (found.m_lo, found.m_hi) == (181, 215) and found.low <= 200 <= found.high
  # A rerun finds every unit by its name (m in it) and computes none again.
  again = samples_width.frontier_search(c, fake, "cnn", "local", 64, GRID.index(256))
  assert again == rows and len(fake.computed) == 4
  # A finer ratio bisects further, up to the cap on midpoints.
  fake = FakeCheckpoint()
  samples_width.frontier_search(search_config(frontier_bracket_ratio=1.01), fake, "cnn",
                                "local", 64, GRID.index(256))
  assert fake.names[2:] == [f"cnn-local-n64-m{m}" for m in (181, 215, 197, 206)]


def test_the_width_series_searches_all_its_widths_at_once(fake_training):
  # Every seed succeeds from its width's threshold on: 1000 at q = 8, 500 at 16, 300 at 32.
  fake_training(lambda n, m, q: SEEDS if m >= {8: 1000, 16: 500, 32: 300}[q] else 0)
  c, fake = search_config(), FakeCheckpoint()
  cells = [(8, 0.1), (16, 0.1), (32, 0.1)]
  report = ("standard", "report")
  rows = samples_width.frontier_search(c, fake, "fcn", "local", 16, GRID.index(512), cells,
                                       series=report)
  # Down until every width fails (256), up until every one succeeds (1024), then the
  # widest unresolved bracket's midpoint (ties: the narrowest width first), 4 at most.
  assert fake.names == [f"fcn-local-n16-m{m}-series-standard-report"
                        for m in (512, 256, 1024, 724, 362, 861, 431)]
  assert all(r["series"] and r["role"] == "report" for r in rows)
  assert len(rows) == 7 * 3 * SEEDS
  found = stats.outcomes(rows)
  brackets = {q: stats.frontier_with_interval(*found["fcn", "local", 16, q][::2], 50)[4:]
              for q in (8, 16, 32)}
  assert brackets == {8: (861, 1024), 16: (431, 512), 32: (256, 362)}  # q = 32 left at 1.41
  # A series never reads the phase diagram's rows (`known`): its networks are its own.
  fake = FakeCheckpoint()
  samples_width.frontier_search(c, fake, "fcn", "local", 16, GRID.index(512), cells,
                                known=[dict(r, series=False) for r in rows], series=report)
  assert fake.names[:3] == [f"fcn-local-n16-m{m}-series-standard-report"
                            for m in (512, 256, 1024)]
  # A series has its own cap on midpoints.
  fake = FakeCheckpoint()
  samples_width.frontier_search(search_config(series_max_refinements=2), fake, "fcn", "local",
                                16, GRID.index(512), cells, series=report)
  assert len(fake.names) == 3 + 2


def test_the_selection_stage_stops_when_each_width_has_one_good_rate(fake_training):
  # Rate 0.1 succeeds from the width's threshold on, rate 0.01 never: the search goes up
  # until every width has some rate at P >= 0.9, not every rate, and runs no midpoint.
  fake_training(lambda n, m, q, rate: SEEDS if rate == 0.1 and m >= {8: 1000, 16: 500}[q]
                else 0)
  c, fake = search_config(), FakeCheckpoint()
  cells = [(q, r) for q in (8, 16) for r in (0.01, 0.1)]
  rows = samples_width.frontier_search(c, fake, "fcn", "local", 16, GRID.index(512), cells,
                                       series=("standard", "select"), refinements=0)
  assert fake.names == [f"fcn-local-n16-m{m}-series-standard-select" for m in (512, 256, 1024)]
  assert {r["seed"] for r in rows} == set(range(1000, 1000 + SEEDS))
  assert sw_series.choose(rows, "standard") == {8: 0.1, 16: 0.1}


def test_a_run_keeps_the_series_apart_and_every_seed_once(fake_training, tmp_path):
  c = with_changes(load_config("samples_width", "quick"), {
      "phase_num_trains": (32, 64, 128, 256, 512), "frontier_num_trains": GRID,
      "bootstrap_resamples": 20})
  # The larger rate needs half the samples, so each width chooses it (one rate for mup).
  fake_training(lambda n, m, q, rate=None: SEEDS if m * (rate == max(
      c.series_learning_rates.mup) and 2 or 1) >= 8 * n else 0)
  rows = samples_width.run(c, FakeCheckpoint())
  keys = [(r["arch"], r["n"], r["width"], r["num_train"], r["seed"], r["series"],
           r.get("arm"), r["learning_rate"]) for r in rows]
  assert len(keys) == len(set(keys))
  series = {r["num_train"] for r in rows if r["series"]}
  assert series and max(series) <= 512  # the series stays in the phase diagram's m range
  for arm in c.series_arms:  # held out: the reporting seeds run only the chosen rate
    select = sw_series.arm_rows(rows, arm, "select")
    report = sw_series.arm_rows(rows, arm, "report")
    assert {r["seed"] for r in select}.isdisjoint({r["seed"] for r in report})
    assert {(r["width"], r["learning_rate"]) for r in report} == set(
        sw_series.choose(select, arm).items())
    assert {r["learning_rate"] for r in select} == set(c.series_learning_rates[arm])
  assert {r["learning_rate"] for r in sw_series.arm_rows(rows, "mup", "report")} == {1.0}
  found = stats.analysis([dict(r, k=3) for r in rows], c.to_dict())
  # m* = 5n..8n: at n = 16 between 80 and 128, refined from the grid's [64, 128].
  front = found["cnn", "local"]["frontier"][16]
  assert front.inside and front.m_hi / front.m_lo <= 1.25 and front.low <= front.m_lo
  files = sw_report.report([dict(r, k=3) for r in rows], c.to_dict(), str(tmp_path))
  assert "width_series.png" in files
  text = (tmp_path / "report.md").read_text()
  assert "## Width series m*(q) at n = 16" in text and "bracket" in text


# ------------------------------------------------------------------------- training


@pytest.mark.slow
def test_the_cnn_learns_from_many_samples_and_not_from_a_few():
  c = with_changes(load_config("samples_width", "quick"), {
      "seeds": (0, 1, 2, 3), "cnn.num_steps": 200, "cnn.log_every": 200, "num_test": 1024})
  few = sw_search.unit_rows(c, "cnn", "local", 16, 16, [(8, None)])
  many = sw_search.unit_rows(c, "cnn", "local", 16, 2048, [(8, None)])
  assert all(r["success"] for r in many) and not any(r["success"] for r in few)
  assert all(r["train_accuracy"] == 1.0 for r in few)  # it fits the 16 samples, no more
  assert {r["num_train"] for r in few} == {16} and {r["width"] for r in many} == {8}


def check_quick_run(workdir):
  """The files of a launcher run of configs/samples_width.py:quick (main_test.py runs it)."""
  rows = [json.loads(line) for line in open(workdir / "results.jsonl")]
  c = load_config("samples_width", "quick")
  phase = sum(len(w) for w in samples_width.phase_units(c).values()) * len(c.seeds)
  assert len(rows) >= phase and len(rows) % len(c.seeds) == 0
  for field in ("arch", "locality", "n", "k", "width", "num_train", "seed", "train_accuracy",
                "test_accuracy", "success", "learning_rate", "compute_path", "curves"):
    assert field in rows[0], field
  report = (workdir / "report.md").read_text()
  assert "![phase diagram](phase_diagram.png)" in report and "Edelman" in report
  for figure in ("phase_diagram.png", "frontier.png", "width_series.png"):
    assert (workdir / figure).exists(), figure
  fcn_series = [r for r in rows if r["series"] and r["arch"] == "fcn"]
  assert {r["width"] for r in fcn_series} == set(c.fcn.width_series)
  assert "## Width series m*(q) at n = 16" in report and "FCN width series" in report
  assert {r["arm"] for r in fcn_series} == set(c.series_arms)
  # The CNN/LCN's tuned phase diagram: its widths >= 2^k, every phase m at the chosen steps.
  tuned = [r for r in rows if r.get("arm") == "phase" and r["role"] == "report"]
  assert {r["arch"] for r in tuned} == {"cnn", "lcn"} and "Tuned: each width" in report
  assert {r["num_train"] for r in tuned} == set(c.phase_num_trains)
  assert sum(line.startswith(("- holds: ", "- FAILS: ", "- not established: "))
             for line in report.splitlines()) == 6 + len(c.series_arms)


@pytest.mark.slow
def test_the_paper_variant_runs_end_to_end_with_sizes_reduced(tmp_path):
  # Both localities, the widest phase width and the largest n of every architecture, on
  # sizes that run here: the code paths of :paper, not its numbers.
  c = load_config("samples_width", "paper")
  overrides = ["--config.seeds=(0, 1)", "--config.num_test=64",
               "--config.phase_num_trains=(16, 64)", "--config.frontier_num_trains=(16, 64)",
               f"--config.phase_widths=(2, {max(c.phase_widths)})",
               f"--config.fcn.width_series=(8, {max(c.fcn.width_series)})",
               "--config.bootstrap_resamples=10", "--config.series_selection_seeds=(1000,)"]
  overrides += [f"--config.series_learning_rates.{arm}=(0.1,)" for arm in c.series_arms]
  for arch in c.archs:
    overrides += [f"--config.{arch}.num_steps=10", f"--config.{arch}.log_every=10",
                  f"--config.{arch}.frontier_ns=(16, {max(c[arch].frontier_ns)})"]
  result = run_main("configs/samples_width.py:paper", tmp_path, *overrides)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = [json.loads(line) for line in open(tmp_path / "results.jsonl")]
  assert {r["locality"] for r in rows} == {"local", "nonlocal"}
  assert {r["n"] for r in rows if r["arch"] == "cnn"} == {16, 32, max(c.cnn.frontier_ns)}
  assert max(r["width"] for r in rows if not r["series"]) == max(c.phase_widths)
  assert max(r["width"] for r in rows if r["series"]) == max(c.fcn.width_series)
  assert {r["arm"] for r in rows if r["series"]} == {"standard", "mup", "sparse", "phase"}
  assert "holds" in result.stdout or "FAILS" in result.stdout


def test_a_width_series_unit_asks_for_width_buckets_and_the_sweep_gets_them(monkeypatch):
  c = with_changes(load_config("samples_width", "quick"), {"series_arms": ("mup", "sparse")})
  calls = []
  monkeypatch.setattr(sweeps, "unit_rows", lambda *a, **kw: calls.append((a, kw)) or [])
  cells = [(4, 0.1), (8, 0.2), (16, 0.1)]
  sw_search.unit_rows(c, "fcn", "local", 16, 64, cells, series=("mup", "select"))
  sw_search.unit_rows(c, "fcn", "local", 16, 64, cells, series=("sparse", "report"))
  sw_search.unit_rows(c, "fcn", "local", 16, 64, [(4, None), (8, None)])
  assert [(a[5:7], kw["bucketed"]) for a, kw in calls] == [
      (((4, 8, 16), 64), True), (((4, 8, 16), 64), True), (((4, 8), 64), False)]
  (_, mup), (_, sparse), (_, phase) = calls
  assert mup["seeds"] == c.series_selection_seeds and mup["parametrisation"] == "mup"
  assert mup["learning_rate"] == (0.1, 0.2, 0.1) and sparse["seeds"] == c.seeds
  assert sparse["init"] == "sparse_bias" and sparse["init_support"] == c.series_sparse_support
  assert set(phase) == {"bucketed", "train_capacity", "seeds"} and phase["seeds"] == c.seeds
  sweep = kpattern_config.make_sweep(c, "fcn", "local", 16, c.k, (4, 8, 16), 64, bucketed=True,
                                     **{k: v for k, v in mup.items() if k not in (
                                         "bucketed", "train_capacity", "seeds")})
  assert sweep.bucketed and sweep.widths == (4, 8, 16) and sweep.num_train == 64
  assert sweep.parametrisation == "mup" and sweep.learning_rate == (0.1, 0.2, 0.1)
  assert (sweep.num_steps, sweep.log_every) == (c.fcn.num_steps, c.fcn.log_every)


def selection_rows(table, seeds=4):
  """Selection rows from {(q, rate): {m: successes of `seeds`}}."""
  return [dict(width=q, learning_rate=rate, num_train=m, seed=1000 + s, success=s < hits)
          for (q, rate), by_m in table.items() for m, hits in by_m.items()
          for s in range(seeds)]


def test_each_width_chooses_the_rate_of_smallest_m_star_and_mup_one_rate_for_all():
  rows = selection_rows({
      (8, 0.1): {256: 0, 512: 4}, (8, 0.2): {256: 2, 512: 4},  # 0.2: m* = 256 at q = 8
      (16, 0.1): {256: 4, 512: 4}, (16, 0.2): {256: 4, 512: 4},  # tied: the smaller rate
      (32, 0.1): {256: 1, 512: 3}, (32, 0.2): {256: 0, 512: 1}})  # 0.1 reaches 1/2 first
  assert sw_series.choose(rows, "standard") == {8: 0.2, 16: 0.1, 32: 0.1}
  # One base rate: 0.2 is beyond the grid at q = 32, 0.1 nowhere; the fewest beyond wins.
  assert sw_series.choose(rows, "mup") == {8: 0.1, 16: 0.1, 32: 0.1}
  # Equal m* at the grid's first m: the higher mean P(success) over the measured m.
  tie = selection_rows({(8, 0.1): {256: 2, 512: 3}, (8, 0.2): {256: 2, 512: 4}})
  assert sw_series.choose(tie, "standard") == {8: 0.2}


def test_the_width_series_reports_on_its_reporting_seeds_alone():
  c = config_for()
  rows = rows_for(GOOD, c)
  found = sw_series.analysis(rows, c)["fcn", "local"]["series"]["standard"]
  # The selection rows choose the rates; their outcomes never enter m*(q) or γ.
  spoiled = [dict(r, success=False) if r.get("role") == "select" else r for r in rows]
  again = sw_series.analysis(spoiled, c)["fcn", "local"]["series"]["standard"]
  assert again["fronts"] == found["fronts"] and again["fit"]["beta"] == found["fit"]["beta"]
  assert set(again["selection"].values()) == {math.inf}
  # The reporting rows do move them.
  moved = [dict(r, success=True) if r.get("role") == "report" and r["width"] == 8 else r
           for r in rows]
  assert sw_series.analysis(moved, c)["fcn", "local"]["series"]["standard"]["fronts"][
      8] != found["fronts"][8]
  assert found["chosen"] == found["used"] == {q: 0.03 for q in (8, 16, 32, 64)}


def test_the_series_config_is_checked_field_by_field():
  for changes, field in (({"series_arms": ("standard", "lazy")}, "series_arms[1]"),
                         ({"series_selection_seeds": (0, 1000)}, "series_selection_seeds"),
                         ({"series_learning_rates.mup": ()}, "series_learning_rates.mup"),
                         ({"series_arms": ("sparse",), "series_sparse_support": 99},
                          "series_sparse_support")):
    with pytest.raises(checks.ConfigError, match=f"config.{re.escape(field)} ="):
      samples_width.validate(with_changes(load_config("samples_width"), changes))


def tuned_rows(c, successes, arch="cnn", step=2.0, seeds=PHASE_SEEDS):
  """Reporting rows of a tuned phase diagram of arch at phase_n, every width >= 2^k at
  `step`, successes(q, m) of SEEDS scaled to `seeds`."""
  return [dict(arch=arch, locality="local", n=c["phase_n"], k=3, width=q, num_train=m,
               seed=s, success=s < successes(q, m) * seeds // SEEDS, test_accuracy=0.5,
               series=True, arm="phase", role="report", learning_rate=step)
          for q in c["phase_widths"] if q >= 8 for m in c["phase_num_trains"]
          for s in range(seeds)]


def test_the_phase_claim_reads_the_tuned_phase_diagram_where_it_was_run():
  c = config_for()
  rows = rows_for(GOOD, c, seeds=PHASE_SEEDS)
  good = lambda q, m: GOOD("cnn", 32, q, m)  # noqa: E731
  dip = lambda q, m: 0 if (q, m) == (32, 2048) else good(q, m)  # noqa: E731
  found = verdicts(rows + tuned_rows(c, dip), c)["CNN phase diagram"]
  assert found.status == "FAILS" and "chosen on 32 held-out seeds from 0.25, 0.5" in found.claim
  assert found.measured.startswith("below 1/2 at q = 32, m = 2048")
  # The tuned rows decide, not the phase diagram's: a dip at its one step alone is shown in
  # the report, and the claim holds.
  spoiled = [dict(r, success=False) if (r["arch"], r["width"], r["num_train"], r["series"])
             == ("cnn", 32, 2048, False) else r for r in rows]
  assert verdicts(spoiled + tuned_rows(c, good), c)["CNN phase diagram"].holds
  assert verdicts(spoiled, c)["CNN phase diagram"].status == "FAILS"
  lines = sw_report.tuned_phase_table(spoiled + tuned_rows(c, good), c, "cnn", "local",
                                      sw_series.analysis(spoiled, c)["cnn", "local"], GRID)
  assert "the claim's family: below 1/2 at q = 32, m = 2048" in lines[1]
  assert lines[-1].startswith("| 64 | 2 | 0.00 [")


def test_the_tuned_phase_diagram_chooses_per_width_then_runs_the_whole_grid(fake_training):
  # Step 2 learns from m = 256 on, every other step never: every width chooses 2.
  fake_training(lambda n, m, q, rate: SEEDS if rate == 2.0 and m >= 256 else 0)
  c = search_config(phase_widths=(4, 8, 16), **{"cnn.phase_learning_rates": (1.0, 2.0)})
  fake = FakeCheckpoint()
  rows = samples_width.tuned_phase(c, fake, "cnn", "local", GRID.index(512))
  select = sw_series.arm_rows(rows, "phase", "select")
  assert {(r["width"], r["learning_rate"]) for r in select} == {
      (q, r) for q in (8, 16) for r in (1.0, 2.0)}  # only widths >= 2^k = 8
  report = sw_series.tuned_phase_rows(rows, "cnn")
  assert {(r["width"], r["learning_rate"]) for r in report} == {(8, 2.0), (16, 2.0)}
  assert sorted({r["num_train"] for r in report}) == list(GRID)
  assert fake.names[-1] == "cnn-local-n16-m4096-series-phase-report"
  assert samples_width.tuned_phase(with_changes(c, {"cnn.phase_learning_rates": ()}), fake,
                                   "cnn", "local", 0) == []
