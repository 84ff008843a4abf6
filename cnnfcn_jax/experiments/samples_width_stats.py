"""Statistics of the samples_width experiment: P(success) tables, the sample frontier m*,
its bootstrap over seeds, the exponent β of m* ≈ c n^β, Corollary 5's sample bound, and
the claims judged on them (analysis, claim_verdicts).

Outcomes are kept as a boolean array (seeds, grid m) per (arch, locality, n, width), seeds
in the same order at every m: a seed's init is the same at every m (train.seed_keys), so
the outcomes at different m are correlated, and the bootstrap resamples whole seeds.

m*: with P_i the success fraction at grid point m_i (increasing), the first i with
P_i >= 1/2; if i > 0, log m* interpolates linearly in P between (m_{i-1}, P_{i-1}) and
(m_i, P_i); if i = 0, m* = m_0 and the frontier is at or below the grid (`below`); if no
grid m reaches 1/2, m* = inf (beyond the grid).
"""

from __future__ import annotations

import math

import numpy as np

from cnnfcn_jax import models, plots

LEVEL = 0.5  # the frontier: P(success) reaches this
CONFIDENCE = 0.95


def outcomes(rows, keys=("arch", "locality", "n", "width")):
  """{key: (grid m (M,), seeds (S,), success (S, M) bool)} from rows with a `success` field.

  Every (key, m) must hold the same seeds; a missing one is an error, not a hole.
  """
  cells = {}
  for r in rows:
    cells.setdefault(tuple(r[k] for k in keys), {}).setdefault(r["num_train"], {})[
        r["seed"]] = bool(r["success"])
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


def quantiles(values, confidence=CONFIDENCE):
  """(low, high) percentile interval of bootstrap values, inf allowed (order statistics)."""
  alpha = (1 - confidence) / 2
  values = np.sort(np.asarray(values, float))
  return (float(np.quantile(values, alpha, method="inverted_cdf")),
          float(np.quantile(values, 1 - alpha, method="inverted_cdf")))


def resample_indices(num_seeds, resamples, seed=0):
  """(resamples, num_seeds) seed indices drawn with replacement."""
  return np.random.default_rng(seed).integers(0, num_seeds, (resamples, num_seeds))


def frontier_with_interval(ms, success, resamples=1000, seed=0):
  """(m*, low, high, below): m* of the seeds' outcomes (S, M) and its percentile bootstrap
  interval over seeds; below = the frontier is at or below the smallest grid m."""
  m_star = float(frontier(ms, success.mean(0)))
  index = resample_indices(len(success), resamples, seed)
  boot = frontier(ms, success[index].mean(1))
  low, high = quantiles(boot)
  return m_star, low, high, bool(success.mean(0)[0] >= LEVEL)


def fit_exponent(ns, m_stars):
  """β and log c of m* ≈ c n^β, least squares on log-log axes (finite m* only)."""
  beta, log_c = np.polyfit(np.log(np.asarray(ns, float)), np.log(np.asarray(m_stars, float)),
                           1)
  return float(beta), float(log_c)


def exponent_with_interval(cells, resamples=1000, seed=0):
  """β of m*(n) over the n whose m* is inside the grid, with a percentile bootstrap interval.

  cells: {n: (ms, success (S, M))} of one (arch, locality, width). Returns a dict: beta,
  low, high, log_c, ns (fitted), beyond (n with m* beyond the grid), m_star {n: m*}.
  beta is None with fewer than two fitted n. Each resample draws the seeds of every n
  afresh (different n are independent experiments); a resample whose m* leaves the grid at
  a fitted n gives β = +inf if that n is the largest, -inf if it is the smallest, and
  otherwise is fitted on its other n.
  """
  ns = sorted(cells)
  m_star = {n: float(frontier(cells[n][0], cells[n][1].mean(0))) for n in ns}
  fitted = [n for n in ns if np.isfinite(m_star[n])]
  result = dict(beta=None, low=None, high=None, log_c=None, ns=fitted,
                beyond=[n for n in ns if not np.isfinite(m_star[n])], m_star=m_star)
  if len(fitted) < 2:
    return result
  result["beta"], result["log_c"] = fit_exponent(fitted, [m_star[n] for n in fitted])
  rng = np.random.default_rng(seed)
  boot = np.stack([frontier(cells[n][0], cells[n][1][rng.integers(
      0, len(cells[n][1]), (resamples, len(cells[n][1])))].mean(1)) for n in fitted], -1)
  log_n = np.log(np.array(fitted, float))
  log_boot = np.log(boot)
  whole = np.isfinite(log_boot).all(-1)
  centred = log_n - log_n.mean()  # least-squares slopes of the resamples inside the grid
  betas = list((log_boot[whole] * centred).sum(-1) / (centred**2).sum())
  for row in log_boot[~whole]:
    keep = np.isfinite(row)
    if not keep[-1]:
      betas.append(np.inf)
    elif not keep[0]:
      betas.append(-np.inf)
    elif keep.sum() >= 2:
      betas.append(np.polyfit(log_n[keep], row[keep], 1)[0])
  result["low"], result["high"] = quantiles(betas)
  return result


def success_table(rows, keys=("arch", "locality", "n", "width", "num_train"), intervals=True):
  """{key: (successes, trials, fraction, wilson low, wilson high)}; the interval is
  (nan, nan) without `intervals` (scipy's binomtest takes milliseconds a cell)."""
  from cnnfcn_jax import stats  # scipy: imported where used
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


def analysis(rows, c) -> dict:
  """Everything the report and the verdicts read: per (arch, locality) the phase diagram's
  m*(q) at phase_n and the frontier's m*(n) fit at frontier_width, with intervals."""
  cells = outcomes(rows)
  resamples = c["bootstrap_resamples"]
  result = {}
  for (arch, locality) in sorted({key[:2] for key in cells}):
    phase = {q: frontier_with_interval(*cells[arch, locality, c["phase_n"], q][::2],
                                             resamples)
             for q in c["phase_widths"] if (arch, locality, c["phase_n"], q) in cells}
    width = c[arch]["frontier_width"]
    by_n = {n: (ms, s) for (a, l, n, q), (ms, _, s) in cells.items()
            if (a, l, q) == (arch, locality, width) and n in c[arch]["frontier_ns"]}
    front = {n: frontier_with_interval(ms, s, resamples) for n, (ms, s) in by_n.items()}
    result[arch, locality] = dict(phase=phase, frontier=dict(sorted(front.items())),
                                  top={n: int(ms[-1]) for n, (ms, _) in by_n.items()},
                                  fit=exponent_with_interval(by_n, resamples),
                                  width=width, grid=next(v[0] for key, v in cells.items()
                                                         if key[:2] == (arch, locality)))
  return result


def fmt_m(m_star, low=None, high=None, below=False, top=None):
  """m* [low, high]; 'beyond the grid (> top)'; '<= m' when the grid's first m succeeds."""
  if not np.isfinite(m_star):
    return f"beyond the grid (> {top})"
  text = f"≤ {m_star:.0f}" if below else f"{m_star:.0f}"
  if low is None:
    return text
  return text + f" [{low:.0f}, {'∞' if not np.isfinite(high) else f'{high:.0f}'}]"


def fmt_beta(fit):
  if fit["beta"] is None:
    return "undefined (fewer than two n inside the grid)"
  fit = {**fit, "beta": fit["beta"] + 0.0, "low": fit["low"] + 0.0, "high": fit["high"] + 0.0}
  high = "∞" if not np.isfinite(fit["high"]) else f"{fit['high']:.2f}"
  low = "-∞" if not np.isfinite(fit["low"]) else f"{fit['low']:.2f}"
  return f"{fit['beta']:.2f} [{low}, {high}]"


def claim_verdicts(rows, config) -> list[plots.Verdict]:
  """The issue's claims on the local task (docs: experiments/samples_width.py)."""
  found = analysis([r for r in rows if r["locality"] == "local"], config)
  k, windowed = rows[0]["k"], [a for a, _ in found if models.ARCHITECTURES[a].windowed]
  top = max(found[next(iter(found))]["grid"])
  result = []
  for arch in windowed:
    fit = found[arch, "local"]["fit"]
    ok = fit["beta"] is not None and not fit["beyond"] and fit["high"] < 2
    result.append(plots.Verdict(
        f"{plots.label(arch)} m*(n) polynomial: inside the grid at every n, β's 95% interval "
        "below 2", ok, f"β = {fmt_beta(fit)} over n = {fit['ns']}"
        + (f"; beyond the grid at n = {fit['beyond']}" if fit["beyond"] else "")))
  for fcn in [a for a, _ in found if not models.ARCHITECTURES[a].windowed]:
    f = found[fcn, "local"]["fit"]
    for arch in windowed:
      w = found[arch, "local"]["fit"]
      # Beyond the grid from some n on: every n from there beyond, and arch inside there.
      tail = [n for i, n in enumerate(sorted(f["m_star"]))
              if all(not np.isfinite(f["m_star"][m]) for m in sorted(f["m_star"])[i:])]
      beyond = bool(tail) and all(np.isfinite(w["m_star"].get(n, np.inf)) for n in tail)
      above = (f["beta"] is not None and w["beta"] is not None and f["low"] > w["high"])
      result.append(plots.Verdict(
          f"{plots.label(fcn)} m* grows faster than {plots.label(arch)}'s (β intervals "
          f"disjoint and above, or beyond the grid from some n on where "
          f"{plots.label(arch)}'s is inside)", above or beyond,
          f"β {plots.label(fcn)} {fmt_beta(f)}, {plots.label(arch)} {fmt_beta(w)}"
          + (f"; {plots.label(fcn)} beyond the grid from n = {tail[0]}" if tail else "")))
  for arch, _ in found:
    cell = found[arch, "local"]
    phase = cell["phase"]
    if models.ARCHITECTURES[arch].windowed:
      reference = phase.get(cell["width"], (np.inf,))[0]
      table = success_table([r for r in rows if r["locality"] == "local" and r["arch"] == arch
                             and r["n"] == config["phase_n"]], intervals=False)
      misses = [(q, m, p) for (_, _, _, q, m), (_, _, p, _, _) in sorted(table.items())
                if q >= 2**k and m >= reference and p < LEVEL]
      result.append(plots.Verdict(
          f"{plots.label(arch)} phase diagram: P(success) >= 1/2 at every width >= 2^k = "
          f"{2**k} and every m >= m* (width {cell['width']}: {fmt_m(reference, top=top)})",
          np.isfinite(reference) and not misses,
          "no cell below 1/2" if not misses else
          "below 1/2 at " + ", ".join(f"q = {q}, m = {m} ({p:.2f})" for q, m, p in misses)))
    else:
      # Widths whose frontier is inside the grid: beyond it a width may not learn at all
      # (as CNN/LCN below 2^k), which says nothing about the samples that width saves.
      qs = sorted(phase)
      inside = [q for q in qs if np.isfinite(phase[q][0])]
      ok = len(inside) >= 2 and phase[inside[-1]][2] < phase[inside[0]][1]
      result.append(plots.Verdict(
          f"{plots.label(arch)} frontier moves with width: among the widths with m* inside "
          "the grid, m* of the widest below m* of the narrowest, bootstrap intervals "
          "disjoint", ok, "; ".join(f"q = {q}: {fmt_m(*phase[q][:3], top=top)}" for q in qs)))
  return result
