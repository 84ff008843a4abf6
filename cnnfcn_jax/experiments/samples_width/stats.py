"""Statistics of the samples_width experiment: P(success) tables, the sample frontier m*,
its interval, the exponent β of m* ≈ c n^β, Corollary 5's sample bound (analysis); the
claims judged on them are in claims.py.

Outcomes are kept as a boolean array (seeds, measured m) per (arch, locality, n, width),
seeds in the same order at every m: a seed's init is the same at every m
(engine.seed_keys), so the outcomes at different m are correlated, and the bootstrap
resamples whole seeds. The width series' rows (`series` = True) are cells of their own:
they train the same networks as the phase diagram's but in other calls, which Adam's
rounding can send elsewhere, so the two are never pooled.

m*: with P_i the success fraction at measured m_i (increasing), the first i with
P_i >= 1/2; if i > 0, log m* interpolates linearly in P between (m_{i-1}, P_{i-1}) and
(m_i, P_i), the bracket; if i = 0, m* <= m_0 (a bound: `below`); if no m reaches 1/2,
m* > the largest m (a bound: `beyond`). The seeds only see P's noise at the measured m, not
where between two of them P crosses 1/2, so m*'s interval is the hull of the seed
bootstrap's percentile interval and the bracket; β's, the hull of its bootstrap interval
and the least-squares slopes over the box of brackets (cnnfcn_jax.stats:
bracketed_exponent_with_interval).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from cnnfcn_jax import models, stats

LEVEL = 0.5  # the frontier: P(success) reaches this
INSIDE, BELOW, BEYOND = "inside", "below", "beyond"


def outcomes(rows, keys=("arch", "locality", "n", "width")):
  """{key: (measured m (M,), seeds (S,), success (S, M) bool)} from rows with `success`.

  Every (key, m) must hold the same seeds, each once; a missing or repeated one is an
  error, not a hole.
  """
  cells = {}
  for r in rows:
    by_seed = cells.setdefault(tuple(r[k] for k in keys), {}).setdefault(r["num_train"], {})
    if r["seed"] in by_seed:
      raise ValueError(f"{tuple(r[k] for k in keys)}: seed {r['seed']} twice at m = "
                       f"{r['num_train']}")
    by_seed[r["seed"]] = bool(r["success"])
  result = {}
  for key, by_m in cells.items():
    ms = sorted(by_m)
    seeds = sorted(by_m[ms[0]])
    for m in ms:
      if sorted(by_m[m]) != seeds:
        raise ValueError(f"{key}: the seeds at m = {m} differ from those at m = {ms[0]}")
    result[key] = (np.array(ms), np.array(seeds),
                   np.array([[by_m[m][s] for m in ms] for s in seeds], bool))
  return result


def frontier(ms, fractions, level=LEVEL):
  """m* (float; inf beyond the grid) from success fractions at grid ms, along the last axis.

  fractions may carry leading axes (bootstrap resamples); ms is 1-D and increasing.
  """
  p = np.asarray(fractions, float)
  log_m = np.log(np.asarray(ms, float))
  reached = p >= level
  first = np.argmax(reached, axis=-1)
  anywhere = reached.any(axis=-1)
  before = np.maximum(first - 1, 0)
  p_lo = np.take_along_axis(p, before[..., None], -1)[..., 0]
  p_hi = np.take_along_axis(p, first[..., None], -1)[..., 0]
  t = np.where(first > 0, (level - p_lo) / np.where(p_hi > p_lo, p_hi - p_lo, 1.0), 0.0)
  value = np.exp(log_m[before] + t * (log_m[first] - log_m[before]))
  grid = np.asarray(ms, float)
  value = np.where((first == 0) | (p_hi == level), grid[first], value)  # on a grid point
  return np.where(anywhere, value, np.inf)


def bracket(ms, fractions, level=LEVEL):
  """(kind, m_lo, m_hi): the measured m's around the first crossing of `level` (inside),
  (below, 0, m_0) when the first m reaches it, (beyond, largest m, inf) when none does."""
  reached = np.flatnonzero(np.asarray(fractions) >= level)
  if not len(reached):
    return BEYOND, float(ms[-1]), math.inf
  if reached[0] == 0:
    return BELOW, 0.0, float(ms[0])
  return INSIDE, float(ms[reached[0] - 1]), float(ms[reached[0]])


def resample_indices(num_seeds, resamples, seed=0):
  """(resamples, num_seeds) seed indices drawn with replacement."""
  return np.random.default_rng(seed).integers(0, num_seeds, (resamples, num_seeds))


class Frontier(NamedTuple):
  """m* of one cell. inside: the interpolated m*, its interval no narrower than the bracket
  [m_lo, m_hi]; below: m* <= m_hi (m_star = m_hi, m_lo = low = 0); beyond: m* > m_lo
  (m_star = high = m_hi = inf). Bounds enter no fit as values."""
  m_star: float
  low: float
  high: float
  kind: str
  m_lo: float
  m_hi: float

  @property
  def inside(self) -> bool:
    return self.kind == INSIDE


def frontier_with_interval(ms, success, resamples=1000, seed=0) -> Frontier:
  """m* of the seeds' outcomes (S, M) at measured ms, with the hull of its percentile
  bootstrap interval over seeds and its bracket (module docstring)."""
  p = success.mean(0)
  kind, m_lo, m_hi = bracket(ms, p)
  boot_low, boot_high = stats.percentile_interval(frontier(ms, success[resample_indices(
      len(success), resamples, seed)].mean(1)))
  if kind == BELOW:
    return Frontier(m_hi, 0.0, max(boot_high, m_hi), kind, m_lo, m_hi)
  if kind == BEYOND:
    return Frontier(math.inf, min(boot_low, m_lo), math.inf, kind, m_lo, m_hi)
  return Frontier(float(frontier(ms, p)), min(boot_low, m_lo), max(boot_high, m_hi), kind,
                  m_lo, m_hi)


def frontier_exponent(cells, resamples=1000, seed=0, fronts=None, paired=False):
  """β of m*(n) over the n whose m* is inside the measured m's, with an interval.

  cells: {n: (ms, success (S, M))} of one (arch, locality, width); fronts: their Frontier
  (computed if not given). Returns a dict: beta, low, high, log_c, ns (fitted), left_out
  {n: kind} (bounds: below or beyond), boot (the bootstrap's interval), corners
  (stats.slope_range over the fitted n's brackets), m_star {n: m*}. beta is None with fewer
  than two fitted n; otherwise stats.bracketed_exponent_with_interval, each resample drawing
  the seeds of every n afresh (different n are independent experiments), or with `paired`
  one draw of seed indices for every x (the width series: seed s at every width shares its
  sample and its first units, so the widths are not independent).
  """
  ns = sorted(cells)
  fronts = fronts or {n: frontier_with_interval(*cells[n], resamples, seed) for n in ns}
  fitted = [n for n in ns if fronts[n].inside]
  result = dict(beta=None, low=None, high=None, log_c=None, ns=fitted, boot=None,
                corners=None, left_out={n: fronts[n].kind for n in ns if n not in fitted},
                m_star={n: fronts[n].m_star for n in ns})
  if len(fitted) < 2:
    return result
  rng = np.random.default_rng(seed)
  shared = (rng.integers(0, len(cells[fitted[0]][1]), (resamples, len(cells[fitted[0]][1])))
            if paired else None)
  boot = np.stack([frontier(cells[n][0], cells[n][1][shared if paired else rng.integers(
      0, len(cells[n][1]), (resamples, len(cells[n][1])))].mean(1)) for n in fitted], -1)
  fit = stats.bracketed_exponent_with_interval(
      fitted, [fronts[n].m_star for n in fitted], boot, [fronts[n].m_lo for n in fitted],
      [fronts[n].m_hi for n in fitted])
  return dict(result, beta=fit.alpha, log_c=fit.log_c, low=fit.low, high=fit.high,
              boot=fit.boot, corners=fit.corners)


def success_table(rows, keys=("arch", "locality", "n", "width", "num_train"), intervals=True):
  """{key: (successes, trials, fraction, wilson low, wilson high)}; the interval is
  (nan, nan) without `intervals` (scipy's binomtest takes milliseconds a cell)."""
  table = {}
  for r in rows:
    s, t = table.get(tuple(r[k] for k in keys), (0, 0))
    table[tuple(r[k] for k in keys)] = (s + bool(r["success"]), t + 1)
  return {key: (s, t, s / t, *(stats.wilson_interval(s, t) if intervals else (np.nan,) * 2))
          for key, (s, t) in table.items()}


def num_weights(arch, n, k, width) -> int:
  """Trained and fixed weights of a depth-2 network (W, b and u of docs/spec.md §2)."""
  shapes = models.ARCHITECTURES[arch].unit_shapes(n, k)
  return int(width * sum(math.prod(shape) for shape in shapes))


def corollary5_sample_bound(arch, n, k, width, epsilon, delta):
  """m = (N log2 N + log(1/δ)) / ε², the agnostic VC sample size with the VC dimension
  N log2 N of a depth-2 ReLU net with N weights (Bartlett et al. 2019) and every constant 1:
  the paper's own expression did not survive (docs/spec.md §4, Corollary 5), so this is the
  bound's order with the smallest constants it could carry, not the paper's number."""
  weights = num_weights(arch, n, k, width)
  return (weights * math.log2(weights) + math.log(1 / delta)) / epsilon**2


# --------------------------------------------------------------------------- analyse


def phase_rows(rows, c):
  """The phase diagram's rows: n = phase_n, its grid m and widths (not the refinements'
  m, not the series)."""
  grid, widths = set(c["phase_num_trains"]), set(c["phase_widths"])
  return [r for r in rows if r["n"] == c["phase_n"] and r["num_train"] in grid
          and r["width"] in widths and not r.get("series")]


def analysis(rows, c) -> dict:
  """What the report and the verdicts read of the phase diagram and the frontier, per (arch,
  locality): the phase diagram's m*(q) on its grid with the slope γ of log m*(q) on log q
  (width_fit), the frontier's m*(n) (refined) and its β at frontier_width (the width
  series' arms: series.analysis)."""
  resamples = c["bootstrap_resamples"]
  cells = outcomes([r for r in rows if not r.get("series")])
  phase_cells = outcomes(phase_rows(rows, c))
  result = {}
  for (arch, locality) in sorted({key[:2] for key in cells}):
    phase = {q: frontier_with_interval(*phase_cells[arch, locality, c["phase_n"], q][::2],
                                       resamples)
             for q in c["phase_widths"] if (arch, locality, c["phase_n"], q) in phase_cells}
    width = c[arch]["frontier_width"]
    by_n = {n: (ms, s) for (a, l, n, q), (ms, _, s) in cells.items()
            if (a, l, q) == (arch, locality, width) and n in c[arch]["frontier_ns"]}
    front = {n: frontier_with_interval(ms, s, resamples) for n, (ms, s) in sorted(by_n.items())}
    result[arch, locality] = dict(
        phase=phase, frontier=front, width=width,
        width_fit=frontier_exponent({q: phase_cells[arch, locality, c["phase_n"], q][::2]
                                     for q in phase}, resamples, fronts=phase, paired=True),
        fit=frontier_exponent(by_n, resamples, fronts=front),
        grid=sorted({int(m) for key, v in phase_cells.items() if key[:2] == (arch, locality)
                     for m in v[0]}))
  return result


def fmt_count(x) -> str:
  return "∞" if not np.isfinite(x) else f"{x:.0f}"


def fmt_m(f: Frontier, bracket=False) -> str:
  """'m* [low, high]' (with ', bracket m_lo–m_hi' if asked); bounds as '≤ m' / '> m'."""
  if f.kind == BEYOND:
    return f"> {f.m_lo:.0f}"
  if f.kind == BELOW:
    return f"≤ {f.m_hi:.0f}"
  text = f"{f.m_star:.0f} [{f.low:.0f}, {fmt_count(f.high)}]"
  return text + (f", bracket {f.m_lo:.0f}–{f.m_hi:.0f}" if bracket else "")


def fmt_slope(value) -> str:
  return f"{value + 0.0:.2f}" if np.isfinite(value) else "∞" if value > 0 else "-∞"


def fmt_beta(fit) -> str:
  if fit["beta"] is None:
    return "undefined (fewer than two n with m* inside the measured m)"
  return f"{fmt_slope(fit['beta'])} [{fmt_slope(fit['low'])}, {fmt_slope(fit['high'])}]"


def fmt_fit_ns(fit, fronts) -> str:
  """Which n β was fitted on and which were left out as bounds."""
  text = f"fitted on n = {', '.join(map(str, fit['ns'])) or 'none'}"
  if fit["left_out"]:
    text += "; left out as bounds: " + ", ".join(
        f"n = {n} ({fmt_m(fronts[n])}, {'at or below' if kind == BELOW else 'beyond'} the "
        "measured m)" for n, kind in fit["left_out"].items())
  return text
