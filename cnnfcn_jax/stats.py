"""Statistics of the reports: binomial intervals (Wilson, Clopper-Pearson), distribution-free
quantile intervals, the selection rule of best candidates and the held-out split,
power-law fits on log-log axes (the bootstrap intervals of best medians are in
bootstrap.py; of values known within brackets, bracketed_exponent_with_interval), and
log-log slopes.

Times are floats with censored networks (not successful by the stop) as +inf.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000


def quantile_with_interval(times, q, confidence=CONFIDENCE, followed=None, earliest=None):
  """(estimate, low, high) of the q-quantile of times (censored = inf).

  followed: the step each network was followed to (a censored one is right-censored
  there; default: beyond every recorded time). earliest: the first step each successful
  network may have succeeded at (a success seen at a check happened after the previous
  check; default: the recorded time, exact). The estimate is the Kaplan-Meier quantile
  (km_quantile: inf where more than 1 - q of the seeds may be censored before it). The
  interval takes scipy's distribution-free ranks (quantile_test: the binomial ranks
  covering the quantile with probability >= confidence) from the lower bounds of the
  times for its low end (earliest; a censored network at its `followed`) and from their
  upper bounds for its high end (recorded; censored: inf), so that it is no narrower than
  the checks the times were read from and holds whatever a censored network would have
  done. A low end no rank reaches is 0; a high end on a censored network is inf.
  """
  times = np.asarray(times, float)
  done = np.isfinite(times)
  followed = np.full(times.shape, np.inf) if followed is None else np.asarray(followed, float)
  earliest = times if earliest is None else np.asarray(earliest, float)
  estimate = km_quantile(times, followed, q)
  # The interval does not depend on the hypothesised value q of the test: 0 will do.
  ranks = scipy.stats.quantile_test(np.arange(len(times), dtype=float), q=0.0,
                                    p=q).confidence_interval(confidence)
  lower = np.sort(np.where(done, earliest, followed))
  upper = np.sort(times)
  low = 0.0 if np.isnan(ranks.low) else float(lower[int(ranks.low)])
  high = np.inf if np.isnan(ranks.high) else float(upper[int(ranks.high)])
  return estimate, min(low, estimate), high


def km_quantile(times, followed, q) -> float:
  """The q-quantile of the Kaplan-Meier estimate (scipy.stats.ecdf on CensoredData) of times
  (inf: not successful, right-censored at `followed`, inf allowed): the first time at which
  the estimated fraction still unsuccessful is at most 1 - q; inf if it never is. Where
  every censored network was followed past every success this is the order statistic of rank
  ceil(q N) (tests/stats_test.py). The 1e-9 keeps a fraction of exactly 1 - q, which the
  estimator computes as a product of ratios, from flipping with the last bit."""
  times, followed = np.asarray(times, float), np.asarray(followed, float)
  done = np.isfinite(times)
  if not done.any():
    return np.inf
  # Followed past every success (inf included): censored just after the last one.
  right = np.minimum(followed[~done], times[done].max() + 1)
  sf = scipy.stats.ecdf(scipy.stats.CensoredData(uncensored=times[done], right=right)).sf
  reached = np.nonzero(sf.probabilities <= 1 - q + 1e-9)[0]
  reached = reached[sf.quantiles[reached] <= times[done].max()]  # a success, not a censoring
  return float(sf.quantiles[reached[0]]) if len(reached) else np.inf


def median(times, axis=-1):
  """The order statistic of rank ceil(N / 2), the median of quantile_with_interval."""
  return np.quantile(times, 0.5, axis=axis, method="inverted_cdf")


def fit_power_law(xs, ys):
  """(α, log c) of ys ≈ c xs^α, least squares on log-log axes."""
  alpha, log_c = np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)
  return float(alpha), float(log_c)


def best_candidate(times, horizon=np.inf, axis=-1):
  """Index along the first axis (candidates) of the lowest median of times (inf: censored),
  ties to the lower third quartile, then to the lower mean of the times capped at
  `horizon` (the fewest steps every candidate was followed to, so that a candidate
  followed less does not look fast for it); the seeds on `axis`, resamples (if any)
  between. The one selection rule of the time-to-learn report and its bootstraps."""
  times = np.asarray(times, float)
  keys = (np.mean(np.minimum(times, horizon), axis=axis),
          np.quantile(times, 0.75, axis=axis, method="inverted_cdf"), median(times, axis=axis))
  return np.lexsort([np.moveaxis(k, 0, -1) for k in keys], axis=-1)[..., 0]


def selection_half(seeds) -> np.ndarray:
  """(S,) bool: the seeds that choose (True) and those that report (False) [choice]: in seed
  order, those at even positions choose, those at odd positions report. The one split of
  the held-out choice: the stages that rank rates and the report both use it."""
  seeds = np.asarray(seeds)
  chosen = np.zeros(len(seeds), bool)
  chosen[np.argsort(seeds, kind="stable")[0::2]] = True
  return chosen


def percentile_interval(values, confidence=CONFIDENCE):
  """(low, high) percentile interval of bootstrap values, inf allowed (order statistics)."""
  alpha = (1 - confidence) / 2
  values = np.sort(np.asarray(values, float))
  return (float(np.quantile(values, alpha, method="inverted_cdf")),
          float(np.quantile(values, 1 - alpha, method="inverted_cdf")))


def slope_range(xs, lows, highs):
  """(min, max) least-squares slope of log y on log x over the box lows <= y <= highs.
  The slope is Σ c_i log y_i / Σ c_i² with c_i the centred log x: linear, so its extremes
  are at the corner taking the low end where c_i > 0 and the high end elsewhere (min), or
  the reverse (max). Each corner is centred too (Σ c_i = 0, so the slope is the same), so
  that equal corners give a slope of exactly 0, not a rounding error on either side of it."""
  c = np.log(np.asarray(xs, float))
  c = c - c.mean()
  lo, hi = np.log(np.asarray(lows, float)), np.log(np.asarray(highs, float))
  norm = (c**2).sum()

  def slope(corner):
    return float((c * (corner - corner.mean())).sum() / norm)
  return slope(np.where(c > 0, lo, hi)), slope(np.where(c > 0, hi, lo))


class BracketedExponent(NamedTuple):
  """bracketed_exponent_with_interval's estimate: α and log c of y ≈ c x^α; boot, the
  percentile interval of the resamples' α; corners, slope_range over the brackets; [low,
  high], the hull of the two."""
  alpha: float
  log_c: float
  low: float
  high: float
  boot: tuple[float, float]
  corners: tuple[float, float]


def bracketed_exponent_with_interval(xs, ys, boot, lows, highs,
                                     confidence=CONFIDENCE) -> BracketedExponent:
  """α of ys ≈ c xs^α where each y is read between measured points, with an interval that
  holds both the bootstrap's noise and where inside its bracket each y lies.

  | argument    | shape          | what                                                 |
  |-------------|----------------|------------------------------------------------------|
  | xs, ys      | (X,)           | the points fitted (least squares on log-log axes)    |
  | boot        | (resamples, X) | each resample's ys, inf where one is past the range  |
  | lows, highs | (X,)           | each y's bracket: the measured points around it      |

  A resample with an infinite y gives α = +inf if that x is the largest, -inf if it is the
  smallest, and otherwise is fitted on its other points (none with fewer than two).
  """
  alpha, log_c = fit_power_law(xs, ys)
  log_x = np.log(np.array(xs, float))
  log_boot = np.log(boot)
  whole = np.isfinite(log_boot).all(-1)
  centred = log_x - log_x.mean()  # least-squares slopes of the resamples inside the range
  alphas = list((log_boot[whole] * centred).sum(-1) / (centred**2).sum())
  for row in log_boot[~whole]:
    keep = np.isfinite(row)
    if not keep[-1]:
      alphas.append(np.inf)
    elif not keep[0]:
      alphas.append(-np.inf)
    elif keep.sum() >= 2:
      alphas.append(np.polyfit(log_x[keep], row[keep], 1)[0])
  interval = percentile_interval(alphas, confidence)
  corners = slope_range(xs, lows, highs)
  return BracketedExponent(alpha, log_c, min(interval[0], corners[0]),
                           max(interval[1], corners[1]), interval, corners)


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


class Estimate(NamedTuple):
  """A value with its interval, standard error and degrees of freedom (with_interval)."""
  value: float
  low: float
  high: float
  se: float
  df: float


def mean_accuracy(values, num_test: int, confidence=CONFIDENCE) -> Estimate:
  """The mean over seeds of test accuracies measured on one fixed test set of num_test.

  Its standard error adds the seeds' spread (s² / S, estimated on S - 1 degrees of
  freedom) and the test set's own binomial noise (p (1 - p) / num_test), which every seed
  shares, so the seeds' spread cannot show it. The interval is mean ± t x se, t Student's
  at the Welch-Satterthwaite degrees of freedom (the binomial part known exactly): about
  the normal where the test set dominates, Student's at S - 1 where the seeds do."""
  values = np.asarray(values, float)
  mean = float(values.mean())
  seeds = values.var(ddof=1) / len(values) if len(values) > 1 else 0.0
  return with_interval(mean, [(seeds, len(values) - 1), (mean * (1 - mean) / num_test, np.inf)],
                       confidence)


def with_interval(value, parts, confidence=CONFIDENCE) -> Estimate:
  """value ± t x se, se² the sum of parts' variances ((variance, degrees of freedom); inf:
  known exactly), t Student's at the Welch-Satterthwaite degrees of freedom (inf where no
  part is estimated)."""
  se = math.sqrt(sum(variance for variance, _ in parts))
  denominator = sum(v**2 / df for v, df in parts if 0 < df < np.inf and v > 0)
  df = se**4 / denominator if denominator else np.inf
  half = float(scipy.stats.t.ppf(0.5 + confidence / 2, df)) * se
  return Estimate(value, value - half, value + half, se, df)


def combination(weights, estimates, confidence=CONFIDENCE) -> Estimate:
  """Σ w_i a_i of independent estimates (mean_accuracy values): variances w_i² se_i²
  added, each on its own degrees of freedom."""
  return with_interval(float(sum(w * a.value for w, a in zip(weights, estimates))),
                       [(w**2 * a.se**2, a.df) for w, a in zip(weights, estimates)],
                       confidence)


def average(accuracies, confidence=CONFIDENCE) -> Estimate:
  """The average of independent mean_accuracy values."""
  return combination([1 / len(accuracies)] * len(accuracies), accuracies, confidence)


def difference_interval(a: Estimate, b: Estimate, confidence=CONFIDENCE) -> Estimate:
  """a - b of two independent mean_accuracy values (conservative where a and b share a
  test set, whose noise they then share)."""
  return combination([1.0, -1.0], [a, b], confidence)


def slope_of_accuracies(xs, accuracies, confidence=CONFIDENCE) -> Estimate:
  """The least-squares slope of independent mean_accuracy values on xs, with the interval
  their own noise gives it (Σ c_i a_i, c_i the slope's weights). It holds the points'
  noise, not how far they are from a line."""
  xs = np.asarray(xs, float)
  return combination((xs - xs.mean()) / ((xs - xs.mean())**2).sum(), accuracies, confidence)
