"""stats.py: order-statistic medians and quantile intervals (censored = inf), their coverage,
power-law fits, the exponent bootstrap (independent cells, a seed's row kept whole, its
width and coverage), the bracketed exponent's box of slopes and resamples past the range,
log-log slopes, Wilson and Clopper-Pearson intervals, Kaplan-Meier survival curves."""

import itertools
import math

import numpy as np
import pytest
import scipy.stats

from cnnfcn_jax import stats

INF = np.inf


def order_statistic(values, q=0.5):
  """The rank ceil(q N) order statistic, written out (rank 1 when q N < 1)."""
  x = np.sort(np.asarray(values, float))
  return float(x[max(1, math.ceil(q * len(x))) - 1])


def binomial_tolerance(p, draws, sds=3.0):
  return sds * math.sqrt(p * (1 - p) / draws)


# ------------------------------------------------------------------ medians, quantiles


@pytest.mark.parametrize("values,expected", [
    ([1, 2, 3, 4], 2),  # even: the lower middle value (rank 2), not 2.5
    ([4, 1, 3, 2], 2),
    ([10, 20], 10),
    ([5, 1, 9, 7, 3, 8], 5),  # rank 3 of 6
    ([3, 1, 2], 2),  # odd: the middle value
    ([7], 7),
    ([1, 2, INF, INF], 2),  # half censored: still defined (rank 2 of 4 succeeded)
    ([1, INF], 1),
    ([1, 2, 3, INF], 2),
    ([1, INF, INF, INF], INF),  # more than half censored: undefined
    ([1, 2, INF, INF, INF], INF),  # odd: 2 of 5 is below half
    ([1, 2, 3, INF, INF], 3),
])
def test_the_median_is_the_order_statistic_of_rank_ceil_half(values, expected):
  assert stats.median(values) == expected
  assert stats.quantile_with_interval(values, 0.5)[0] == expected


def test_median_and_quantile_estimate_agree_with_the_order_statistic_at_every_size():
  rng = np.random.default_rng(0)
  for size in range(1, 14):
    for _ in range(5):
      times = rng.exponential(100.0, size)
      times[rng.random(size) < 0.3] = INF
      assert stats.median(times) == order_statistic(times)
      for q in (0.25, 0.5, 0.75):
        assert stats.quantile_with_interval(times, q)[0] == order_statistic(times, q), (size, q)


def test_median_along_an_axis_takes_each_column_or_row_on_its_own():
  times = np.array([[1.0, 40.0, INF, INF],
                    [2.0, 30.0, INF, INF],
                    [3.0, 20.0, 5.0, INF],
                    [4.0, 10.0, 6.0, 7.0]])
  np.testing.assert_array_equal(stats.median(times, axis=0), [2.0, 20.0, 6.0, INF])
  np.testing.assert_array_equal(stats.median(times.T), [2.0, 20.0, 6.0, INF])  # axis = -1
  np.testing.assert_array_equal(stats.median(times[:3], axis=0), [2.0, 30.0, INF, INF])


@pytest.mark.parametrize("q,expected", [(0.25, 2), (0.5, 4), (0.75, 6), (0.1, 1), (0.9, 8)])
def test_quantiles_are_order_statistics_of_rank_ceil_q_n(q, expected):
  assert stats.quantile_with_interval([8, 7, 6, 5, 4, 3, 2, 1], q)[0] == expected


def interval_ranks(n, q):
  """The ranks (1-based) of the interval's ends on 1..n (infinite ends as 0 and n + 1)."""
  _, low, high = stats.quantile_with_interval(np.arange(1.0, n + 1), q)
  return int(low), (n + 1 if math.isinf(high) else int(high))


@pytest.mark.parametrize("n,q", [(31, 0.5), (20, 0.5), (40, 0.25), (25, 0.75)])
def test_quantile_intervals_have_their_nominal_coverage_on_data_of_known_distribution(n, q):
  """[x_(l), x_(u)] covers the q-quantile ξ iff l <= #{x < ξ} <= u - 1, #{x < ξ} ~ Bin(n, q):
  the exact coverage is at least 95%, and over many samples from an exponential
  distribution the observed coverage matches it within a binomial tolerance."""
  l, u = interval_ranks(n, q)
  assert 1 <= l <= order_statistic(np.arange(1, n + 1), q) <= u <= n
  exact = scipy.stats.binom.cdf(u - 1, n, q) - scipy.stats.binom.cdf(l - 1, n, q)
  assert exact >= stats.CONFIDENCE
  # Equal tails, each as narrow as a tail of at most 2.5% allows.
  below, above = scipy.stats.binom.cdf(l - 1, n, q), scipy.stats.binom.sf(u - 1, n, q)
  assert below <= 0.025 < scipy.stats.binom.cdf(l, n, q)
  assert above <= 0.025 < scipy.stats.binom.sf(u - 2, n, q)
  truth = -math.log(1 - q) * 50.0  # the q-quantile of Exp(mean 50)
  rng = np.random.default_rng(n)
  draws = 400
  covered = 0
  for _ in range(draws):
    estimate, low, high = stats.quantile_with_interval(rng.exponential(50.0, n), q)
    assert low <= estimate <= high
    covered += low <= truth <= high
  assert abs(covered / draws - exact) <= binomial_tolerance(exact, draws)


def test_censored_values_make_the_upper_end_unbounded_and_small_samples_give_open_ends():
  # 12 seeds, 3 censored: the median (rank 6) is known; its interval's ranks are 3 and 10,
  # and rank 10 is censored.
  times = [5, 1, 9, 3, 7, 2, 8, 4, 6, INF, INF, INF]
  assert stats.quantile_with_interval(times, 0.5) == (6.0, 3.0, INF)
  assert stats.quantile_with_interval(np.arange(1.0, 13), 0.5) == (6.0, 3.0, 10.0)
  # 3 seeds: no pair of order statistics covers the median with 95%: [0, inf).
  assert stats.quantile_with_interval([1.0, 2.0, 3.0], 0.5) == (2.0, 0.0, INF)
  # Every network censored: nothing is known (even the lower end lies on a censored one).
  assert stats.quantile_with_interval([INF] * 8, 0.5) == (INF, INF, INF)


# -------------------------------------------------------------------- power-law fits


@pytest.mark.parametrize("alpha,c", [(1.7, 3.0), (-0.5, 200.0), (0.0, 7.0), (3.25, 0.01)])
def test_power_law_fit_recovers_an_exact_power_law(alpha, c):
  xs = np.array([4, 8, 16, 32, 64, 128])
  fit, log_c = stats.fit_power_law(xs, c * xs**alpha)
  assert fit == pytest.approx(alpha, abs=1e-10) and log_c == pytest.approx(math.log(c), abs=1e-9)
  assert isinstance(fit, float) and isinstance(log_c, float)


def test_power_law_fit_is_least_squares_on_log_log_axes():
  xs, ys = np.array([2.0, 4.0, 8.0]), np.array([1.0, 8.0, 16.0])  # log2 y: 0, 3, 4
  # Least squares of (0, 3, 4) on (1, 2, 3): slope 2, intercept -5/3 (in log2 units).
  fit, log_c = stats.fit_power_law(xs, ys)
  assert fit == pytest.approx(2.0) and log_c == pytest.approx(-5 / 3 * math.log(2))


def test_the_slope_range_is_the_extreme_corner_of_the_box_of_brackets():
  rng = np.random.default_rng(3)
  for _ in range(50):
    ns = np.unique(rng.integers(8, 2000, rng.integers(2, 6)))
    if len(ns) < 2:
      continue
    lows = np.exp(rng.uniform(3, 9, len(ns)))
    highs = lows * np.exp(rng.uniform(0, 1, len(ns)))
    corners = [np.polyfit(np.log(ns), np.log(np.where(pick, highs, lows)), 1)[0]
               for pick in itertools.product([False, True], repeat=len(ns))]
    assert stats.slope_range(ns, lows, highs) == pytest.approx((min(corners), max(corners)))


def test_brackets_that_allow_a_flat_line_give_a_slope_of_exactly_zero():
  # Every bracket holds 1024 (the samples x width series' case): the lowest slope is 0 itself,
  # which a verdict "at or above 0" must see as 0, not as 2e-15 or -2e-15.
  widths = [8, 16, 32, 64, 128]
  lows = [861, 861, 1024, 1024, 1024]
  highs = [1024, 1024, 1218, 1218, 1218]
  assert stats.slope_range(widths, lows, highs)[0] == 0.0
  assert stats.slope_range([3, 7, 11], [1000] * 3, [1000] * 3) == (0.0, 0.0)


def test_a_resample_past_the_range_gives_an_infinite_slope_signed_by_where_it_left():
  xs, ys = [10, 100, 1000], [5.0, 50.0, 500.0]  # α = 1, brackets a factor 2 each way
  lows, highs = [y / 2 for y in ys], [y * 2 for y in ys]
  corners = stats.slope_range(xs, lows, highs)
  inside = [5.0, 50.0, 500.0]
  for past, (low, high) in (([5.0, 50.0, INF], (corners[0], INF)),  # at the largest x
                            ([INF, 50.0, 500.0], (-INF, corners[1])),  # at the smallest
                            ([5.0, INF, 500.0], corners)):  # fitted on the other two
    fit = stats.bracketed_exponent_with_interval(xs, ys, np.array([inside, past]), lows, highs)
    assert fit.alpha == pytest.approx(1.0) and fit.log_c == pytest.approx(math.log(0.5))
    assert fit.corners == corners and (fit.low, fit.high) == pytest.approx((low, high))


# ------------------------------------------------------------------------- slopes


def test_segment_slopes_are_the_log_log_slopes_between_consecutive_finite_points():
  points = [(32, 32.0**2), (8, 64.0), (16, INF), (4, 16.0), (64, 32.0**2)]
  # Sorted by x, the inf at x = 16 dropped: 4 -> 8 -> 32 slope 2, then flat to x = 64.
  np.testing.assert_allclose(stats.segment_slopes(points), [2.0, 2.0, 0.0], atol=1e-12)
  np.testing.assert_allclose(stats.segment_slopes([(1, 1.0), (2, 4.0), (4, 8.0)]), [2.0, 1.0])
  assert stats.segment_slopes([(8, 3.0), (16, INF)]) == []
  assert stats.segment_slopes([]) == []


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.7, -1.3])
def test_loglog_slope_of_an_exact_power_law_is_its_exponent(alpha):
  x = np.array([3.0, 10.0, 30.0, 100.0])
  assert stats.loglog_slope(x, 2.0 * x**alpha) == pytest.approx(alpha, abs=1e-10)


def test_loglog_slope_uses_only_positive_values_and_needs_two():
  x = np.array([1.0, 2.0, 4.0, 8.0])
  assert stats.loglog_slope(x, [0.0, 4.0, 16.0, -1.0]) == pytest.approx(2.0)
  assert stats.loglog_slope(x, [1.0, 2.0, 5.0, 7.0]) == pytest.approx(
      np.polyfit(np.log(x), np.log([1.0, 2.0, 5.0, 7.0]), 1)[0])
  assert math.isnan(stats.loglog_slope(x, [0.0, 3.0, 0.0, 0.0]))
  assert math.isnan(stats.loglog_slope([], []))


# ----------------------------------------------------------------- binomial intervals


def wilson_by_formula(k, n, confidence=0.95):
  z = scipy.stats.norm.ppf(0.5 + confidence / 2)
  p = k / n
  centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
  half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
  return centre - half, centre + half


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (5, 10), (10, 10), (3, 32), (31, 32),
                                 (500, 1000)])
def test_wilson_interval_matches_its_formula(k, n):
  low, high = stats.wilson_interval(k, n)
  want = wilson_by_formula(k, n)
  assert low == pytest.approx(max(0.0, want[0]), abs=1e-12)
  assert high == pytest.approx(min(1.0, want[1]), abs=1e-12)
  assert low <= k / n <= high


def test_wilson_interval_known_values():
  z2 = scipy.stats.norm.ppf(0.975)**2
  assert stats.wilson_interval(0, 10) == pytest.approx((0.0, z2 / (10 + z2)), abs=1e-12)
  assert stats.wilson_interval(10, 10) == pytest.approx((10 / (10 + z2), 1.0), abs=1e-12)
  assert stats.wilson_interval(5, 10) == pytest.approx((0.236593, 0.763407), abs=1e-6)
  wide, narrow = stats.wilson_interval(5, 10, 0.99), stats.wilson_interval(5, 10, 0.8)
  assert wide[0] < 0.236593 < narrow[0] and narrow[1] < 0.763407 < wide[1]


@pytest.mark.parametrize("k,n,expected", [
    (0, 10, (0.0, 1 - 0.025**(1 / 10))),  # closed forms at the ends
    (10, 10, (0.025**(1 / 10), 1.0)),
    (5, 10, (0.187086, 0.812914)),
    (1, 20, (0.001265, 0.248733)),
])
def test_clopper_pearson_known_values(k, n, expected):
  assert stats.clopper_pearson_interval(k, n) == pytest.approx(expected, abs=1e-6)


def test_clopper_pearson_is_the_beta_quantile_interval_and_covers_every_p():
  n = 20
  ends = [stats.clopper_pearson_interval(k, n) for k in range(n + 1)]
  for k, (low, high) in enumerate(ends):
    assert low == pytest.approx(scipy.stats.beta.ppf(0.025, k, n - k + 1) if k else 0.0)
    assert high == pytest.approx(scipy.stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0)
    assert low <= k / n <= high
    # Exact intervals are wider than Wilson's.
    wilson = stats.wilson_interval(k, n)
    assert low <= wilson[0] + 1e-12 and high >= wilson[1] - 1e-12
  # The exact coverage is at least 95% at every p (Clopper-Pearson's guarantee).
  pmf = lambda p: scipy.stats.binom.pmf(np.arange(n + 1), n, p)  # noqa: E731
  for p in np.linspace(0.01, 0.99, 99):
    covered = sum(w for w, (low, high) in zip(pmf(p), ends) if low <= p <= high)
    assert covered >= 0.95 - 1e-12, p


# ------------------------------------------------------------------- survival curves


def surviving_at(curve, t):
  """The step function (steps, surviving) at t: its value after the last step <= t."""
  steps, surviving = curve
  return surviving[np.searchsorted(steps, t, side="right") - 1]


def test_survival_curve_is_the_kaplan_meier_estimate():
  # No censoring before the end: the fraction not yet successful, a step per success.
  curve = stats.survival_curve([3.0, 1.0, INF, 2.0, INF], [10.0] * 5)
  assert curve[0][0] == 0 and curve[0][-1] == 10
  assert [surviving_at(curve, t) for t in (0, 0.5, 1, 1.5, 2, 3, 9.5, 10)] == pytest.approx(
      [1, 1, 0.8, 0.8, 0.6, 0.4, 0.4, 0.4])
  # One network followed only to 2.5 (a stop) and censored there: at step 3 only one network
  # is at risk, and it succeeds.
  curve = stats.survival_curve([1.0, 2.0, INF, 3.0], [5.0, 5.0, 2.5, 5.0])
  assert curve[0][-1] == 5
  assert [surviving_at(curve, t) for t in (0, 1, 2, 2.7, 3, 5)] == pytest.approx(
      [1, 0.75, 0.5, 0.5, 0.0, 0.0])
  curve = stats.survival_curve([INF, INF], [7.0, 9.0])
  assert curve[0][-1] == 9 and surviving_at(curve, 9) == 1 and surviving_at(curve, 0) == 1
