"""Samples, width and luck: the frontier m* and its bootstrap on synthetic outcomes with a known
frontier, every claim verdict both ways on crafted rows, the config checks, a learning test
and the launcher end to end.

Crafted rows give, per (arch, n, width, m), the number of seeds (out of SEEDS) that succeed;
the first ones succeed, so a seed's outcome is monotone in m as a real seed's nearly is.
"""

import json
import math

import ml_collections
import numpy as np
import pytest

from conftest import load_config, run_main, with_changes
from cnnfcn_jax import checks
from cnnfcn_jax.experiments import samples_width
from cnnfcn_jax.experiments import samples_width_stats as stats

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
    m_star, low, high, below = stats.frontier_with_interval(ms, success, resamples=400)
    assert low <= 316.2 <= high and low <= m_star <= high and not below
    assert m_star == pytest.approx(316.2, rel=0.25)
    widths.append(np.log(high / low))
  assert widths[1] < widths[0] / 2.5  # 16x the seeds: about 4x narrower


def test_identical_seeds_give_a_degenerate_interval_and_the_grid_start_is_flagged():
  success = threshold_outcomes([256] * 16, GRID)
  # P = 0 at 128 and 1 at 256: the interpolation puts m* half way, at 128 sqrt(2).
  m_star, low, high, below = stats.frontier_with_interval(GRID, success, 100)
  assert m_star == low == high == pytest.approx(128 * 2**0.5) and not below
  success = threshold_outcomes([16] * 16, GRID)
  assert stats.frontier_with_interval(GRID, success, 100) == (32.0, 32.0, 32.0, True)
  success = threshold_outcomes([10**6] * 16, GRID)
  assert stats.frontier_with_interval(GRID, success, 100)[:3] == (np.inf,) * 3


def exact_cells(m_star_of_n, ns, grid=GRID, seeds=4):
  """{n: (grid, success)}: 1 of 4 seeds at the grid point below m*(n) = that point x sqrt(2),
  3 of 4 at the one above, so the interpolated m* is exactly m*(n)."""
  cells = {}
  for n in ns:
    below = m_star_of_n(n) / 2**0.5
    thresholds = [below] + [2 * below] * (seeds // 2) + [10**9] * (seeds - 1 - seeds // 2)
    cells[n] = (np.array(grid), threshold_outcomes(thresholds, grid))
  return cells


def test_the_exponent_is_exact_on_an_exact_power_law_and_its_interval_covers_it():
  cells = exact_cells(lambda n: 2 * n * 2**0.5, (16, 64, 256, 1024), grid=tuple(
      2**i for i in range(4, 13)))  # m* = 2 sqrt(2) n: beta = 1
  fit = stats.exponent_with_interval(cells, resamples=300)
  assert fit["beta"] == pytest.approx(1.0) and fit["log_c"] == pytest.approx(math.log(2 * 2**0.5))
  assert fit["low"] <= 1.0 <= fit["high"] and fit["beyond"] == []
  assert fit["m_star"][64] == pytest.approx(128 * 2**0.5)


def test_an_n_beyond_the_grid_is_reported_not_fitted_and_a_lone_n_gives_no_exponent():
  cells = exact_cells(lambda n: 2 * n * 2**0.5, (16, 64))
  cells[1024] = (np.array(GRID), threshold_outcomes([10**6] * 4, GRID))
  fit = stats.exponent_with_interval(cells, resamples=100)
  assert fit["ns"] == [16, 64] and fit["beyond"] == [1024] and fit["beta"] == pytest.approx(1)
  assert fit["m_star"][1024] == np.inf
  lone = stats.exponent_with_interval({16: cells[16], 1024: cells[1024]}, resamples=10)
  assert lone["beta"] is None and lone["beyond"] == [1024]


def test_outcomes_refuse_seeds_that_differ_between_sample_sizes():
  rows = [dict(arch="cnn", locality="local", n=16, width=8, num_train=m, seed=s, success=True)
          for m, seeds in ((32, (0, 1)), (64, (0, 2))) for s in seeds]
  with pytest.raises(ValueError, match="seeds at m = 64 differ"):
    stats.outcomes(rows)


def test_corollary5_bound_counts_every_weight():
  # CNN, n = 32, k = 3, q = 16: W 16x3, b 16, u 30x16 -> 544 weights.
  assert stats.num_weights("cnn", 32, 3, 16) == 544
  assert stats.num_weights("lcn", 32, 3, 16) == 30 * 16 * 5
  assert stats.num_weights("fcn", 32, 3, 64) == 64 * 34
  bound = stats.corollary5_sample_bound("cnn", 32, 3, 16, 0.05, 0.5)
  assert bound == pytest.approx((544 * math.log2(544) + math.log(2)) / 0.0025)


# --------------------------------------------------------------------------- verdicts


def config_for(phase_widths=(2, 4, 8, 16, 32, 64), cnn_ns=(16, 32, 64, 128),
               fcn_ns=(16, 32, 64)):
  c = load_config("samples_width").to_dict()
  c.update(phase_num_trains=GRID, frontier_num_trains=GRID, phase_n=32,
           phase_widths=phase_widths, bootstrap_resamples=200)
  for arch, ns, width in (("cnn", cnn_ns, 16), ("lcn", cnn_ns, 16), ("fcn", fcn_ns, 64)):
    c[arch].update(frontier_ns=ns, frontier_width=width)
  return c


def rows_for(successes, c, k=3):
  """successes(arch, n, q, m) -> seeds of SEEDS that succeed; rows of the phase diagram's
  units and of the frontier's at every grid m."""
  config = ml_collections.ConfigDict(c)
  units = dict(samples_width.phase_units(config))
  for arch in c["archs"]:
    for n in c[arch]["frontier_ns"]:
      for m in samples_width.frontier_grid(config, arch):
        units.setdefault((arch, "local", n, m), (c[arch]["frontier_width"],))
  rows = []
  for (arch, locality, n, m), widths in units.items():
    for q in widths:
      hits = successes(arch, n, q, m)
      rows += [dict(arch=arch, locality=locality, n=n, k=k, width=q, num_train=m, seed=s,
                    success=s < hits, test_accuracy=1.0 if s < hits else 0.5)
               for s in range(SEEDS)]
  return rows


def power_law(scale, beta, min_width=8, fcn_width_gain=True):
  """All seeds succeed from m = scale n^beta on, half of them one grid step lower (so m*
  sits exactly on a grid point), none below; widths under min_width never succeed; with
  fcn_width_gain the FCN needs 4x fewer samples per doubling of width (from q = 8)."""
  def successes(arch, n, q, m):
    if q < min_width:
      return 0
    need = scale[arch] * n**beta[arch]
    if arch == "fcn" and fcn_width_gain:
      need *= 4.0**-math.log2(q / 8)
    return SEEDS if m >= need else SEEDS // 2 if 2 * m >= need else 0
  return successes


def verdicts(rows, c):
  return {v.claim.split(":")[0].split(" (")[0]: v for v in samples_width.claim_verdicts(rows, c)}


# CNN m* = 4n (64 ... 512), LCN 2n, FCN n^3/32 at q = 64 (128, 1024, then beyond 4096 at
# n = 64); at n = 32 the FCN's m* is beyond the grid, 4096 and 1024 at q = 16, 32 and 64.
GOOD = power_law(dict(cnn=8, lcn=4, fcn=4), dict(cnn=1, lcn=1, fcn=3))


def test_every_claim_holds_on_rows_built_to_satisfy_it():
  c = config_for()
  found = verdicts(rows_for(GOOD, c), c)
  assert {name: v.holds for name, v in found.items()} == {
      "CNN m*(n) polynomial": True, "LCN m*(n) polynomial": True,
      "FCN m* grows faster than CNN's": True, "FCN m* grows faster than LCN's": True,
      "CNN phase diagram": True, "LCN phase diagram": True,
      "FCN frontier moves with width": True}
  assert "FCN beyond the grid from n = 64" in found["FCN m* grows faster than CNN's"].measured


def test_the_fcn_is_faster_by_its_exponent_alone_when_every_n_is_inside_the_grid():
  c = config_for()
  inside = power_law(dict(cnn=8, lcn=4, fcn=2), dict(cnn=1, lcn=1, fcn=3))  # FCN 4096 at 64
  found = verdicts(rows_for(inside, c), c)["FCN m* grows faster than CNN's"]
  # At n = 64 half the seeds succeed at 4096: resamples below half leave the grid, so the
  # upper end is unbounded; the lower end is above the CNN's upper end.
  assert found.holds and found.measured == "β FCN 3.00 [2.67, ∞], CNN 1.00 [0.80, 1.17]"


def test_a_windowed_exponent_of_2_or_more_fails_and_so_does_an_n_beyond_the_grid():
  c = config_for()
  steep = power_law(dict(cnn=1 / 8, lcn=1, fcn=1 / 16), dict(cnn=2.5, lcn=1, fcn=3))
  found = verdicts(rows_for(steep, c), c)
  assert not found["CNN m*(n) polynomial"].holds and found["LCN m*(n) polynomial"].holds
  # CNN m* = n^2.5 / 8: 128 at n = 16, beyond 4096 at n = 128: fails for that n too.
  assert "beyond the grid at n = [128]" in found["CNN m*(n) polynomial"].measured


def test_an_fcn_growing_like_the_cnn_fails_the_faster_claim():
  c = config_for(fcn_ns=(16, 32, 64, 128))
  same = power_law(dict(cnn=2, lcn=2, fcn=2), dict(cnn=1, lcn=1, fcn=1), fcn_width_gain=False)
  found = verdicts(rows_for(same, c), c)
  assert not found["FCN m* grows faster than CNN's"].holds
  assert not found["FCN m* grows faster than LCN's"].holds
  # ...and its frontier does not move with width either.
  assert not found["FCN frontier moves with width"].holds


def test_a_windowed_width_above_2k_below_one_half_at_large_m_fails_the_phase_claim():
  c = config_for()
  def dip(arch, n, q, m):  # the CNN at q = 32 loses half its seeds at m = 2048
    hits = GOOD(arch, n, q, m)
    return SEEDS // 2 - 1 if (arch, q, m) == ("cnn", 32, 2048) else hits
  found = verdicts(rows_for(dip, c), c)
  assert not found["CNN phase diagram"].holds and found["LCN phase diagram"].holds
  assert found["CNN phase diagram"].measured == "below 1/2 at q = 32, m = 2048 (0.38)"
  # Widths below 2^k = 8 are not judged: they never succeed under GOOD and the claim holds.
  assert found["LCN phase diagram"].measured == "no cell below 1/2"


def test_the_fcn_width_claim_needs_disjoint_intervals():
  c = config_for()
  # q = 64: 4 of 8 seeds at m = 256 (m* = 256); q = 8 ... 32: 3 of 8 there, all at 512
  # (m* = 256 x 2^0.2 = 294): smaller at the widest, but the intervals overlap.
  def small_gain(arch, n, q, m):
    if arch != "fcn":
      return GOOD(arch, n, q, m)
    return 0 if q < 8 or m < 256 else SEEDS if m > 256 else 4 if q == 64 else 3
  found = verdicts(rows_for(small_gain, c), c)["FCN frontier moves with width"]
  assert not found.holds and "q = 8: 294 [" in found.measured
  # Widths beyond the grid are left out: q = 2 and 4 never learning does not make it hold.
  assert "q = 2: beyond the grid (> 4096)" in found.measured


# ------------------------------------------------------------------------ configs


BAD_CONFIGS = [
    (dict(k=0), "config.k = 0 is invalid: expected an integer >= 1"),
    (dict(k=21), "config.k = 21 is invalid: expected k <= 20"),
    (dict(phase_num_trains=()), "config.phase_num_trains = () is invalid"),
    (dict(phase_num_trains=(64, 32)),
     "config.phase_num_trains = (64, 32) is invalid: expected increasing"),
    (dict(frontier_num_trains=(64, 0)), "config.frontier_num_trains[1] = 0 is invalid"),
    ({"fcn.frontier_max_num_train": 32}, "config.fcn.frontier_max_num_train = 32 is invalid: "
     "expected 0 (no limit) or at least min(config.frontier_num_trains) = 64"),
    ({"cnn.frontier_max_num_train": -1}, "config.cnn.frontier_max_num_train = -1 is invalid"),
    (dict(phase_n=2), "config.phase_n = 2 is invalid: expected an input size >= k = 3"),
    (dict(phase_widths=(4, 4)), "config.phase_widths = (4, 4) is invalid: expected a tuple "
     "without repeated entries"),
    (dict(target="majority"), "config.target = 'majority' is invalid"),
    (dict(localities=("far",)), "config.localities[0] = 'far' is invalid"),
    (dict(localities=("local", "nonlocal"), phase_n=6), "config.phase_n = (6,) is invalid: "
     "expected every n >= 7 for the nonlocal twin"),
    (dict(position=14), "config.position = 14 is invalid"),
    (dict(task_seed=-1), "config.task_seed = -1 is invalid"),
    (dict(seeds=(0, 0)), "config.seeds = (0, 0) is invalid"),
    (dict(num_test=0), "config.num_test = 0 is invalid"),
    (dict(success_accuracy=1.0), "config.success_accuracy = 1.0 is invalid: expected a "
     "fraction in (0, 1)"),
    (dict(bootstrap_resamples=5), "config.bootstrap_resamples = 5 is invalid: expected an "
     "integer >= 10"),
    (dict(activation="gelu"), "config.activation = 'gelu' is invalid"),
    (dict(compute_path="sparse"), "config.compute_path = 'sparse' is invalid"),
    (dict(seeds_per_block=-1), "config.seeds_per_block = -1 is invalid"),
    (dict(seeds_per_block=3, seeds_per_call=4), "config.seeds_per_call = 4 is invalid: "
     "expected 0 or a multiple of config.seeds_per_block = 3"),
    (dict(archs=("cnn", "rnn")), "config.archs[1] = 'rnn' is invalid"),
    ({"fcn.init": "paper"}, "config.fcn.init = 'paper' is invalid: expected one of "
     "'gaussian', 'gaussian_bias'"),
    ({"cnn.trainable": ("W", "v")}, "config.cnn.trainable[1] = 'v' is invalid"),
    ({"lcn.optimizer": "adamm"}, "config.lcn.optimizer = 'adamm' is invalid"),
    ({"cnn.learning_rate": 0.0}, "config.cnn.learning_rate = 0.0 is invalid"),
    ({"cnn.first_layer_step": "shared"}, "config.cnn.first_layer_step = 'shared' is invalid"),
    ({"fcn.num_steps": 0}, "config.fcn.num_steps = 0 is invalid"),
    ({"lcn.log_every": 7}, "config.lcn.log_every = 7 is invalid: expected a divisor of "
     "config.lcn.num_steps = 60"),
    ({"cnn.frontier_width": 0}, "config.cnn.frontier_width = 0 is invalid"),
    ({"cnn.frontier_ns": ()}, "config.cnn.frontier_ns = () is invalid"),
    ({"fcn.frontier_ns": (2, 16)}, "config.fcn.frontier_ns = (2, 16) is invalid: expected "
     "every n >= 3"),
]


@pytest.mark.parametrize("changes,message", BAD_CONFIGS, ids=[m[:40] for _, m in BAD_CONFIGS])
def test_invalid_configs_are_refused_with_a_message_naming_the_field(changes, message):
  with pytest.raises(checks.ConfigError) as error:
    samples_width.validate(with_changes(load_config("samples_width", "quick"), changes))
  assert message in str(error.value)


def leaves(values, prefix=""):
  for key, value in values.items():
    if isinstance(value, dict):
      yield from leaves(value, f"{prefix}{key}.")
    else:
      yield prefix + key


@pytest.mark.parametrize("field", [f for f in leaves(load_config("samples_width", "quick")
                                                      .to_dict()) if f != "experiment"])
def test_every_field_set_to_none_is_refused_naming_that_field(field):
  from cnnfcn_jax import experiments
  with pytest.raises(checks.ConfigError) as error:
    experiments.validate(with_changes(load_config("samples_width", "quick"), {field: None}))
  assert str(error.value).startswith(f"config.{field} = None is invalid"), str(error.value)


@pytest.mark.parametrize("variant", ["", "quick", "paper"])
def test_the_default_quick_and_paper_configs_are_valid(variant):
  config = load_config("samples_width", variant)
  assert config.experiment == "samples_width"
  samples_width.validate(config)
  if variant == "paper":  # an accelerator's: >= 256 seeds per point, larger n and grids
    assert len(config.seeds) >= 256 and max(config.cnn.frontier_ns) >= 1024


def test_the_default_grids_are_what_the_issue_asks_for():
  c = load_config("samples_width")
  assert min(c.phase_widths) == 2 and max(c.phase_widths) >= 2**(c.k + 3)
  assert max(c.phase_num_trains) / min(c.phase_num_trains) >= 100 and len(c.seeds) >= 64
  assert min(c.cnn.frontier_ns) == 16 and max(c.cnn.frontier_ns) >= 256
  assert min(c.lcn.frontier_ns) == 16 and max(c.lcn.frontier_ns) >= 256


def test_an_unknown_variant_is_refused():
  with pytest.raises(ValueError, match="unknown variant 'fast'"):
    load_config("samples_width", "fast")


def test_the_phase_units_nest_the_frontier_width_with_the_phase_widths():
  c = load_config("samples_width", "quick")  # phase n 16 at (4, 8); frontier q 8 at 16, 32
  found = samples_width.phase_units(with_changes(c, {"cnn.frontier_width": 16}))
  assert found["cnn", "local", 16, 64] == (4, 8, 16) and found["fcn", "local", 16, 512] == (4, 8)
  assert len(found) == len(c.archs) * len(c.phase_num_trains)


class FakeCheckpoint:
  """Runs no network: each unit's rows say success for the seeds that successes() gives."""

  def __init__(self, successes):
    self.successes, self.names = successes, []

  def run_units(self, units, name):
    rows = []
    for unit_name, _, _ in units:
      self.names.append(unit_name)
      arch, locality, n, m = unit_name.split("-")
      n, m = int(n[1:]), int(m[1:])
      rows += [dict(arch=arch, locality=locality, n=n, width=8, num_train=m, seed=s,
                    success=s < self.successes(n, m)) for s in range(SEEDS)]
    return rows


def test_the_frontier_search_brackets_one_half_from_its_start_and_stops():
  c = with_changes(load_config("samples_width", "quick"),
                   {"frontier_num_trains": GRID, "cnn.frontier_width": 8})
  # P = 0 up to 128, 2/8 at 256, 6/8 at 512, 1 from 1024 on.
  fake = FakeCheckpoint(lambda n, m: {256: 2, 512: 6}.get(m, 0 if m < 256 else SEEDS))
  rows = samples_width.frontier_search(c, fake, "cnn", "local", 64, GRID.index(1024))
  # From 1024 (P = 1) down to 128 (P = 0 <= 0.1); 1024 is already >= 0.9: no more up.
  assert fake.names == [f"cnn-local-n64-m{m}" for m in (1024, 512, 256, 128)]
  assert samples_width.start_index(GRID, rows, 8) == GRID.index(256)  # m* = 362: nearest 256
  fake = FakeCheckpoint(lambda n, m: {256: 2, 512: 6}.get(m, 0 if m < 256 else SEEDS))
  samples_width.frontier_search(c, fake, "cnn", "local", 64, 0)  # up from 32 to 1024
  assert fake.names == [f"cnn-local-n64-m{m}" for m in (32, 64, 128, 256, 512, 1024)]
  fake = FakeCheckpoint(lambda n, m: 0)  # never: up to the end of the grid, beyond it
  samples_width.frontier_search(c, fake, "cnn", "local", 64, 3)
  assert fake.names[-1] == "cnn-local-n64-m4096" and len(fake.names) == 5
  limited = with_changes(c, {"cnn.frontier_max_num_train": 1024})
  fake = FakeCheckpoint(lambda n, m: 0)
  samples_width.frontier_search(limited, fake, "cnn", "local", 64, 3)
  assert fake.names[-1] == "cnn-local-n64-m1024"


# ------------------------------------------------------------------------- training


@pytest.mark.slow
def test_the_cnn_learns_from_many_samples_and_not_from_a_few():
  c = with_changes(load_config("samples_width", "quick"), {
      "seeds": (0, 1, 2, 3), "cnn.num_steps": 200, "cnn.log_every": 200, "num_test": 1024})
  few = samples_width.unit_rows(c, "cnn", "local", 16, 16, (8,))
  many = samples_width.unit_rows(c, "cnn", "local", 16, 2048, (8,))
  assert all(r["success"] for r in many) and not any(r["success"] for r in few)
  assert all(r["train_accuracy"] == 1.0 for r in few)  # it fits the 16 samples, no more
  assert {r["num_train"] for r in few} == {16} and {r["width"] for r in many} == {8}


@pytest.mark.slow
def test_the_quick_config_runs_end_to_end_through_the_launcher(tmp_path):
  result = run_main("configs/samples_width.py:quick", tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = [json.loads(line) for line in open(tmp_path / "results.jsonl")]
  c = load_config("samples_width", "quick")
  phase = sum(len(w) for w in samples_width.phase_units(c).values()) * len(c.seeds)
  assert len(rows) >= phase and len(rows) % len(c.seeds) == 0
  for field in ("arch", "locality", "n", "k", "width", "num_train", "seed", "train_accuracy",
                "test_accuracy", "success", "learning_rate", "compute_path", "curves"):
    assert field in rows[0], field
  report = (tmp_path / "report.md").read_text()
  assert "![phase diagram](phase_diagram.png)" in report and "Edelman" in report
  assert (tmp_path / "phase_diagram.png").exists() and (tmp_path / "frontier.png").exists()
  assert "holds" in report or "FAILS" in report


@pytest.mark.slow
def test_the_paper_variant_runs_end_to_end_with_sizes_reduced(tmp_path):
  # Both localities, the widest phase width and the largest n of every architecture, on
  # sizes that run here: the code paths of :paper, not its numbers.
  c = load_config("samples_width", "paper")
  overrides = ["--config.seeds=(0, 1)", "--config.num_test=64",
               "--config.phase_num_trains=(16, 64)", "--config.frontier_num_trains=(16, 64)",
               f"--config.phase_widths=(2, {max(c.phase_widths)})",
               "--config.bootstrap_resamples=10"]
  for arch in c.archs:
    overrides += [f"--config.{arch}.num_steps=10", f"--config.{arch}.log_every=10",
                  f"--config.{arch}.frontier_ns=(16, {max(c[arch].frontier_ns)})"]
  result = run_main("configs/samples_width.py:paper", tmp_path, *overrides)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = [json.loads(line) for line in open(tmp_path / "results.jsonl")]
  assert {r["locality"] for r in rows} == {"local", "nonlocal"}
  assert {r["n"] for r in rows if r["arch"] == "cnn"} == {16, 32, max(c.cnn.frontier_ns)}
  assert max(r["width"] for r in rows) == max(c.phase_widths)
  assert "holds" in result.stdout or "FAILS" in result.stdout
