"""Bootstrap draws of medians at the best candidate, one set per cell, and the statistics
of several cells computed draw by draw from them: power-law exponents (exponent_with_interval,
heldout_exponent_with_interval), log-log slopes and curvature, and any difference of
those, judged in the same resamples.

A cell's draws resample its seeds (a seed's times at every candidate kept together),
re-select the best candidate in every resample (on other seeds where the choice is held
out) and, where a time is known only to lie inside a check interval, draw it uniformly
there (smoothed_draws), so that times tied by a coarse check do not make the percentile
interval too narrow. Each cell draws from its own generator (cell_medians' seed): cells
are independent, as their seeds are.
"""

from __future__ import annotations

import numpy as np

from cnnfcn_jax.stats import (BOOTSTRAP_RESAMPLES, CONFIDENCE, best_candidate, median,
                              percentile_interval)


def exponent_with_interval(xs, samples, resamples=BOOTSTRAP_RESAMPLES, seed=0,
                           confidence=CONFIDENCE, lowers=None):
  """(α, low, high) of best median ≈ c x^α over cells (x, sample): per cell, the lowest
  median over its candidates (settings such as learning rates).

  samples: one (seeds, candidates) array of times per cell (censored times capped, so that
  every median is finite); lowers: the same shapes, each time's exclusive lower bound
  (smoothed_draws; default: exact). The interval is the percentile bootstrap of
  cell_medians, each cell resampled on its own and a seed's row kept whole (a seed shares
  its initialisation and data across the candidates), the best candidate re-selected
  inside every resample, so the interval includes the selection; widened to contain α.
  """
  samples = [np.asarray(s, float).reshape(len(s), -1) for s in samples]
  lowers = [None] * len(samples) if lowers is None else lowers
  draws = np.stack([cell_medians(s, low, resamples=resamples, seed=(seed, i))
                    for i, (s, low) in enumerate(zip(samples, lowers))])
  return slope_with_interval(xs, [np.min(median(s, axis=0)) for s in samples], draws,
                             confidence)[:3]


def smoothed_draws(rng, times, lowers, resamples):
  """(resamples, seeds, candidates): the seeds of `times` (seeds, candidates) drawn with
  replacement, a seed's row whole, each drawn time replaced by one uniform in (lower,
  time] (lowers: where a time was known to lie above, e.g. the check before the one it was
  recorded at; equal to the time where it is exact or censored). Times tied by a coarse
  check then enter a resample as the spread they are known to have, not as one value."""
  index = rng.integers(0, len(times), (resamples, len(times)))
  drawn = times[index]
  if lowers is None:
    return drawn
  low = np.asarray(lowers, float).reshape(times.shape)[index]
  spread = rng.random(drawn.shape)
  with np.errstate(invalid="ignore"):
    return np.where(low < drawn, drawn - spread * (drawn - low), drawn)


def cell_medians(report, report_lowers=None, select=None, select_lowers=None,
                 horizon=np.inf, resamples=BOOTSTRAP_RESAMPLES, seed=0) -> np.ndarray:
  """(resamples,) bootstrap draws of one cell's median at its best candidate.

  | argument | shape               | what                                              |
  |----------|---------------------|---------------------------------------------------|
  | report   | (seeds, candidates) | times the median is measured on (inf: censored)   |
  | select   | (seeds', candidates)| times the best is chosen on (None: report itself) |
  | *_lowers | as their times      | smoothed_draws' lower bounds (None: exact)        |

  In every resample both sets of seeds are drawn (smoothed_draws), the best candidate
  re-selected on `select` (best_candidate, with its horizon) and its median taken on
  `report`. seed: anything np.random.default_rng takes; give each cell its own, and any
  statistic of several cells computed draw by draw is then judged in the same resamples.
  """
  rng = np.random.default_rng(seed)
  report = np.asarray(report, float).reshape(len(report), -1)
  rep = smoothed_draws(rng, report, report_lowers, resamples)
  if select is None:
    sel = rep
  else:
    select = np.asarray(select, float).reshape(len(select), -1)
    sel = smoothed_draws(rng, select, select_lowers, resamples)
  best = best_candidate(np.moveaxis(sel, -1, 0), horizon, axis=-1)
  return median(rep, axis=1)[np.arange(resamples), best]


def loglog_slopes(xs, medians) -> np.ndarray:
  """Least-squares slopes of log median on log x, one per column of medians (X, ...). An
  infinite median makes the slope +inf at the largest x and -inf at the smallest; where it
  cannot be signed, +inf."""
  centred = np.log(np.asarray(xs, float))
  centred = (centred - centred.mean()).reshape((-1,) + (1,) * (np.ndim(medians) - 1))
  with np.errstate(invalid="ignore", divide="ignore"):
    value = (np.log(medians) * centred).sum(0) / (centred**2).sum()
  return np.where(np.isnan(value), np.inf, value)


def loglog_curvature(xs, medians) -> np.ndarray:
  """The quadratic coefficient of log2 median on log2 x (least squares; half the change of
  the log-log slope per doubling of x), one per column of medians (X, ...), at least three
  x; nan where a median is not finite."""
  log_x = np.log2(np.asarray(xs, float))
  design = np.stack([np.ones_like(log_x), log_x, log_x**2], 1)
  with np.errstate(divide="ignore"):
    log_m = np.log2(np.asarray(medians, float)).reshape(len(log_x), -1)
  finite = np.isfinite(log_m).all(0)
  coefficient = np.full(log_m.shape[1], np.nan)
  if finite.any():
    coefficient[finite] = np.linalg.lstsq(design, log_m[:, finite], rcond=None)[0][2]
  return coefficient.reshape(np.shape(medians)[1:])


def slope_with_interval(xs, medians, draws, confidence=CONFIDENCE):
  """(α, low, high, slope draws) of medians (X,) ≈ c x^α, the interval that of the slopes
  of draws (X, resamples) (interval_containing)."""
  alpha = float(loglog_slopes(xs, np.asarray(medians, float)))
  slopes = loglog_slopes(xs, draws)
  return (alpha, *interval_containing(slopes, alpha, confidence), slopes)


def interval_containing(values, estimate, confidence=CONFIDENCE):
  """percentile_interval of bootstrap values (inf allowed), widened to contain the
  estimate (a percentile interval of a discrete statistic may miss it)."""
  low, high = percentile_interval(values, confidence)
  return min(low, estimate), max(high, estimate)


def heldout_exponent_with_interval(xs, selections, reports, horizons=None,
                                   resamples=BOOTSTRAP_RESAMPLES, seed=0,
                                   confidence=CONFIDENCE, select_lowers=None,
                                   report_lowers=None):
  """(α, low, high) of median ≈ c x^α over cells, each cell's candidate chosen on seeds
  other than those its median is measured on.

  selections, reports: per cell a (seeds, candidates) array of times (censored capped or
  inf), two disjoint sets of seeds; horizons: per cell, best_candidate's cap; *_lowers:
  per cell, smoothed_draws' lower bounds (None: exact). In each cell the best candidate
  of its selection seeds is measured on its reporting seeds, and α fitted to those
  medians on log-log axes (loglog_slopes: a censored median signs α). The interval is the
  percentile bootstrap of cell_medians (every half of every cell resampled on its own,
  the candidate re-selected in each resample), widened to contain α. A half of one seed
  gives the interval (-inf, inf).
  """
  count = len(xs)
  horizons = [np.inf] * count if horizons is None else horizons
  select_lowers = select_lowers or [None] * count
  report_lowers = report_lowers or [None] * count
  selections = [np.asarray(s, float).reshape(len(s), -1) for s in selections]
  reports = [np.asarray(r, float).reshape(len(r), -1) for r in reports]
  point = [median(rep, axis=0)[best_candidate(sel.T, horizon)]
           for sel, rep, horizon in zip(selections, reports, horizons)]
  if min(len(a) for a in selections + reports) < 2:  # a half of one seed: nothing to resample
    return float(loglog_slopes(xs, np.array(point))), -np.inf, np.inf
  draws = np.stack([cell_medians(*cell, resamples=resamples, seed=(seed, i)) for i, cell in
                    enumerate(zip(reports, report_lowers, selections, select_lowers,
                                  horizons))])
  return slope_with_interval(xs, point, draws, confidence)[:3]
