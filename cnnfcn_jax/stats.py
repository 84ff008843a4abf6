"""Statistics of the reports: binomial intervals (Wilson, Clopper-Pearson), distribution-free
quantile intervals, power-law fits on log-log axes with bootstrap intervals, and log-log
slopes.

Times are floats with censored networks (not successful by the stop) as +inf.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000


def quantile_with_interval(times, q, confidence=CONFIDENCE):
  """(estimate, low, high) of the q-quantile of times (censored = inf), order statistics.

  The estimate is the order statistic of rank ceil(q N); the interval is scipy's
  distribution-free one (quantile_test: the binomial ranks covering the quantile with
  probability >= confidence). Entries are inf where they fall on censored networks: the
  estimate is then undefined (more than 1 - q of the seeds censored) and an upper end
  unbounded; a lower end no order statistic reaches is 0.
  """
  x = np.sort(np.asarray(times, float))
  estimate = float(x[max(1, math.ceil(q * len(x))) - 1])
  # The interval does not depend on the hypothesised value q of the test: 0 will do.
  interval = scipy.stats.quantile_test(x, q=0.0, p=q).confidence_interval(confidence)
  low = 0.0 if np.isnan(interval.low) else float(interval.low)
  high = np.inf if np.isnan(interval.high) else float(interval.high)
  return estimate, low, high


def median(times, axis=-1):
  """The order statistic of rank ceil(N / 2), the median of quantile_with_interval."""
  return np.quantile(times, 0.5, axis=axis, method="inverted_cdf")


def fit_power_law(xs, ys):
  """(α, log c) of ys ≈ c xs^α, least squares on log-log axes."""
  alpha, log_c = np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)
  return float(alpha), float(log_c)


def exponent_with_interval(xs, samples, resamples=BOOTSTRAP_RESAMPLES, seed=0,
                           confidence=CONFIDENCE):
  """(α, low, high) of best median ≈ c x^α over cells (x, sample): per cell, the lowest
  median over its candidates (settings such as learning rates).

  samples: one (seeds, candidates) array of times per cell (censored times capped, so that
  every median is finite). The interval is scipy's percentile bootstrap over seeds, each
  cell resampled on its own and a seed's row kept whole (a seed shares its initialisation
  and data across the candidates); the best candidate is re-selected inside every
  resample, so the interval includes the selection.
  """
  log_x = np.log(np.asarray(xs, float))
  centred = log_x - log_x.mean()
  samples = [np.asarray(s, float).reshape(len(s), -1) for s in samples]

  def slope(*cells, axis=-1):
    # Each cell arrives as (candidates, [resamples,] seeds), the seeds on `axis` (= -1).
    log_best = np.log(np.stack([np.min(median(c, axis=axis), axis=0) for c in cells], -1))
    return (log_best * centred).sum(-1) / (centred**2).sum()

  alpha = float(slope(*[s.T for s in samples]))
  result = scipy.stats.bootstrap(tuple(s.T for s in samples), slope, n_resamples=resamples,
                                 confidence_level=confidence, method="percentile",
                                 vectorized=True, axis=-1,
                                 random_state=np.random.default_rng(seed))
  ci = result.confidence_interval
  return alpha, float(ci.low), float(ci.high)


def survival_curve(times, followed):
  """(steps, surviving fraction): the Kaplan-Meier estimate (scipy.stats.ecdf on
  CensoredData) of times (inf: not successful) where each network was followed to
  `followed` (censored there), from (0, 1) to the last step any network was followed to."""
  times, followed = np.asarray(times, float), np.asarray(followed, float)
  done = np.isfinite(times)
  end = float(max(followed.max(), times[done].max() if done.any() else 0))
  if not done.any():
    return np.array([0.0, end]), np.array([1.0, 1.0])
  sf = scipy.stats.ecdf(scipy.stats.CensoredData(uncensored=times[done],
                                                 right=followed[~done])).sf
  return (np.concatenate([[0.0], sf.quantiles, [end]]),
          np.concatenate([[1.0], sf.probabilities, sf.probabilities[-1:]]))


def segment_slopes(points):
  """Log-log slopes between consecutive (x, y) points with finite y, in x order."""
  points = [(x, y) for x, y in sorted(points) if np.isfinite(y)]
  return [math.log(y2 / y1) / math.log(x2 / x1) for (x1, y1), (x2, y2) in zip(points, points[1:])]


def loglog_slope(x, y):
  """Least-squares slope of log y against log x over the points with y > 0."""
  x, y = np.asarray(x, float), np.asarray(y, float)
  keep = y > 0
  if keep.sum() < 2:
    return float("nan")
  return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def wilson_interval(successes: int, trials: int, confidence: float = CONFIDENCE):
  """Wilson score interval for a binomial proportion (scipy.stats)."""
  ci = scipy.stats.binomtest(successes, trials).proportion_ci(confidence, "wilson")
  return float(ci.low), float(ci.high)


def clopper_pearson_interval(successes: int, trials: int, confidence: float = CONFIDENCE):
  """Exact (Clopper-Pearson) interval for a binomial proportion (scipy.stats)."""
  ci = scipy.stats.binomtest(successes, trials).proportion_ci(confidence, "exact")
  return float(ci.low), float(ci.high)
