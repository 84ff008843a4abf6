"""theory.py against exact enumeration, Fourier identities and known values."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import models, stats, tasks, theory


def small_fcn(seed, n, width=4, readout_scale=0.1):
  """Gaussian FCN with random biases and a small readout, so |h| < 1 on every input."""
  params = models.init_params("fcn", jax.random.key(seed), n, 2, width, "gaussian")
  b = jax.random.normal(jax.random.key(seed + 1000), params["b"].shape, params["b"].dtype)
  return {**params, "b": b, "u": params["u"] * readout_scale}


def walsh_coefficients(values, n):
  """All 2^n Fourier coefficients E_x[v(x) χ_S(x)] of v on the cube; S as bit masks."""
  x = np.asarray(theory.cube(n))
  chi = np.array([[np.prod(x[i, [j for j in range(n) if mask >> j & 1]]) for mask in range(2**n)]
                  for i in range(2**n)])
  return chi.T @ np.asarray(values) / 2**n


@pytest.mark.slow
def test_parseval_inequalities_hold_and_gradients_are_fourier_coefficients():
  with jax.enable_x64(True):
    n, k = 7, 3
    for seed in range(3):
      params = small_fcn(seed, n)
      x = theory.cube(n)
      assert float(jnp.max(jnp.abs(models.apply_fcn(params, x)))) < 1  # hinge active everywhere
      sum_u, sum_w = theory.parseval_sums(params, n, k)
      psi_sq, phi_sq = theory.hidden_moments(params["W"], params["b"], x)
      assert float(sum_u) <= float(jnp.sum(psi_sq)) + 1e-12
      assert np.all(np.asarray(sum_w) <= n * np.asarray(params["u"]) ** 2 * np.asarray(phi_sq) + 1e-12)
      # Equality: ∂L_I/∂u_i = -ψ̂_i(I), and over all 2^n subsets Σ ψ̂^2 = E ψ^2 (Parseval).
      psi = jax.nn.relu(x @ params["W"].T + params["b"])
      coeffs = np.stack([walsh_coefficients(psi[:, i], n) for i in range(psi.shape[1])], 1)
      np.testing.assert_allclose((coeffs**2).sum(0), psi_sq, rtol=1e-10)
      size_k = [m for m in range(2**n) if bin(m).count("1") == k]
      np.testing.assert_allclose(sum_u, (coeffs[size_k] ** 2).sum(), rtol=1e-10)
      I = (2, 3, 4)
      y = jnp.prod(x[:, list(I)], axis=1)
      grad = theory.hinge_gradient("fcn", params, x, y)
      np.testing.assert_allclose(grad["u"], -coeffs[sum(1 << i for i in I)], rtol=1e-10, atol=1e-14)


@pytest.mark.slow
def test_exact_and_monte_carlo_gradients_agree():
  with jax.enable_x64(True):
    n, k = 10, 2
    task = tasks.make_task(n, k)
    for arch in models.ARCHS:
      params = (small_fcn(3, n, width=8) if arch == "fcn" else
                models.init_params(arch, jax.random.key(3), n, k, 8, "paper"))
      exact = theory.exact_gradient_sq_norms(arch, params, task, theory.cube(n))
      mc, se = theory.monte_carlo_gradient_sq_norms(arch, params, task, jax.random.key(4),
                                                    batch=512, pairs=64)
      for name in ("W", "u"):
        if float(exact[name]) == 0:  # CNN/LCN: u = 0 makes ∂L/∂W vanish for every batch
          assert float(mc[name]) == 0
          continue
        assert abs(float(mc[name]) - float(exact[name])) <= 4 * float(se[name]), (arch, name)


@pytest.mark.slow
def test_fcn_gradient_is_as_small_for_the_consecutive_window_as_for_any_subset():
  """Permutation invariance, exactly: averaging over all n! column permutations of W."""
  with jax.enable_x64(True):
    n = 5
    params = small_fcn(5, n, width=3)
    x = theory.cube(n)

    def mean_over_permutations(subset):
      y = jnp.prod(x[:, list(subset)], axis=1)
      total = 0.0
      for perm in itertools.permutations(range(n)):
        permuted = {**params, "W": params["W"][:, list(perm)]}
        g = theory.hinge_gradient("fcn", permuted, x, y)
        total += float(jnp.sum(g["W"] ** 2) + jnp.sum(g["u"] ** 2))
      return total / math.factorial(n)

    consecutive = mean_over_permutations((1, 2))
    assert consecutive > 0
    for subset in [(0, 4), (0, 2), (3, 4)]:
      assert mean_over_permutations(subset) == pytest.approx(consecutive, rel=1e-10)


@pytest.mark.parametrize("target", ["parity", "random"])
def test_readout_star_gives_h_equal_f_exactly_iff_every_pattern_is_covered(target):
  with jax.enable_x64(True):
    n, k = 8, 3
    task = tasks.make_task(n, k, target, position=2, task_seed=1)
    x = theory.cube(n)
    f = np.asarray(task.target(x))
    seen = set()
    for seed in range(40):
      params = models.init_params("cnn", jax.random.key(seed), n, k, 10, "paper")
      counts = theory.pattern_counts(params["W"])
      assert int(counts.sum()) == 10
      u_star = theory.readout_star(params["W"], task.truth_table, 2, models.num_windows(n, k))
      h = np.asarray(models.apply_cnn({**params, "u": u_star}, x))
      covered = bool(theory.covers_all_patterns(counts))
      assert covered == bool(np.allclose(h, f, atol=1e-12)), seed
      seen.add(covered)
      if covered:
        norm_sq = float(jnp.sum(u_star**2))
        assert norm_sq == pytest.approx(float(theory.readout_star_norm_sq(counts, k)), rel=1e-12)
    assert seen == {True, False}  # the width 10 < 2^k log 2^k makes both cases appear


def test_lemma6_norm_bound_holds_under_its_event():
  k, q = 3, 64
  for seed in range(200):
    W = jax.random.rademacher(jax.random.key(seed), (q, k), jnp.float32) / k
    counts = theory.pattern_counts(W)
    if theory.lemma6_event(counts, q):
      assert float(theory.readout_star_norm_sq(counts, k)) <= theory.readout_star_norm_bound(k, q)


def test_closed_forms_at_hand_computed_values():
  # q*(3, 0.1) = 2^6 ln(2^3 / 0.1) = 64 ln 80 = 64 * 4.3820266347 = 280.4497046
  assert theory.lemma6_width_threshold(3, 0.1) == pytest.approx(280.4497046, rel=1e-9)
  # η = sqrt(16) / (sqrt(4) * 10) = 4 / 20
  assert theory.theorem4_step_size(16, 4, 10) == pytest.approx(0.2)
  # n = 4, k = 2, q = 16, T = 8, c = 1: 2*16*4*4/16 = 32; 2*(4*2)^2/sqrt(64) = 16; 8*4/8 = 4
  assert theory.theorem4_bound_terms(4, 2, 16, 8, c=1.0) == pytest.approx((32.0, 16.0, 4.0))
  # C(10, 3) = 120: 10 * 2.0 / 120 = 1/6 and 5 * 0.5 / 120 = 1/48
  assert theory.theorem12_bounds(10, 3, 2.0, 5, 0.5) == pytest.approx((1 / 6, 1 / 48))
  # Lemma 6 bound 2^(2k+1) k^2 / q at k = 2, q = 16: 32 * 4 / 16
  assert theory.readout_star_norm_bound(2, 16) == pytest.approx(8.0)


def test_wilson_and_clopper_pearson_match_known_values():
  assert stats.wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
  assert stats.wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
  assert stats.wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
  assert stats.clopper_pearson_interval(5, 10) == pytest.approx((0.1871, 0.8129), abs=1e-4)
  assert stats.clopper_pearson_interval(0, 10) == pytest.approx((0.0, 0.3085), abs=1e-4)
  assert stats.clopper_pearson_interval(10, 10) == pytest.approx((0.6915, 1.0), abs=1e-4)


# ------------------------------------------------ Theorem 12 in closed form (§8)


def draw_gaussian(arch, key, n, k, width, sigma_w2, sigma_b2, mu):
  """Our own Gaussian init: every W entry N(0, σ_w²), b N(0, σ_b²), u N(0, μ), i.i.d."""
  shapes = [models.ARCHITECTURES[arch].unit_shapes(n, k)[g] for g in range(3)]
  axes = models.ARCHITECTURES[arch].unit_axes
  keys = jax.random.split(key, 3)
  return {group: math.sqrt(scale) * jax.random.normal(
              kk, shape[:axis] + (width,) + shape[axis:], jnp.float64)
          for group, shape, axis, scale, kk in zip(models.PARAM_GROUPS, shapes, axes,
                                                    (sigma_w2, sigma_b2, mu), keys)}


def enumerated_sq_norms(arch, n, k, width, sigma_w2, sigma_b2, mu, num_inits, seed):
  """Per init, ||∂L/∂W||² and ||∂L/∂u||² over all 2^n inputs of the linear loss −E[y h],
  which is the hinge loss's gradient wherever |h| < 1 (checked below)."""
  task = tasks.make_task(n, k)
  x = theory.cube(n, jnp.float64)
  y = task.target(x)

  def one(key):
    params = draw_gaussian(arch, key, n, k, width, sigma_w2, sigma_b2, mu)
    g = jax.grad(lambda p: -jnp.mean(y * models.apply(arch, p, x)))(params)
    return jnp.sum(g["W"] ** 2), jnp.sum(g["u"] ** 2)

  w_sq, u_sq = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(seed), num_inits))
  return {"W": np.asarray(w_sq), "u": np.asarray(u_sq)}


def assert_formula_matches_enumeration(arch, n, k, sigma_b2, num_inits):
  width, mu = 2, 0.5
  sigma_w2 = 1.3 / n if arch == "fcn" else 0.8 / k
  with jax.enable_x64(True):
    measured = enumerated_sq_norms(arch, n, k, width, sigma_w2, sigma_b2, mu, num_inits,
                                   seed=10 * k + int(sigma_b2))
  formula = theory.expected_initial_gradient_sq(arch, n, k, width, sigma_w2, sigma_b2, mu)
  for group, values in measured.items():
    se = values.std(ddof=1) / math.sqrt(num_inits)
    # 1e-20: the enumeration's float64 rounding where the exact value is 0.
    assert abs(values.mean() - formula[group]) <= 4 * se + 1e-20, (group, values.mean(), se,
                                                                  formula[group])


# k = 1 is the one case where G(k - 1; κ₀) = G(0; κ₀), the mean of κ₀, enters: for j >= 1 the
# Krawtchouk row sums to 0 and a wrong constant term of κ₀ (its 1/4) would cancel. The
# slow tier's _everywhere test covers every arch, k <= 4 and both bias variances.
@pytest.mark.parametrize("arch,k,sigma_b2", [("lcn", 4, 1.0), ("fcn", 1, 1.0), ("cnn", 1, 0.0)])
def test_closed_form_matches_enumeration(arch, k, sigma_b2):
  assert_formula_matches_enumeration(arch, 8, k, sigma_b2, num_inits=4000)


@pytest.mark.slow
@pytest.mark.parametrize("arch", models.ARCHS)
@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("sigma_b2", [0.0, 1.0])
def test_closed_form_matches_enumeration_everywhere(arch, k, sigma_b2):
  assert_formula_matches_enumeration(arch, 10 if arch == "fcn" else 8, k, sigma_b2, 20000)


@pytest.mark.slow
def test_hinge_gradient_equals_the_linear_one_where_the_hinge_is_active():
  n, k = 8, 3
  task = tasks.make_task(n, k)
  with jax.enable_x64(True):
    x = theory.cube(n, jnp.float64)
    for arch in models.ARCHS:
      params = draw_gaussian(arch, jax.random.key(7), n, k, 3, 1.0 / n, 1.0, 1e-4)
      assert float(jnp.max(jnp.abs(models.apply(arch, params, x)))) < 1
      hinge = theory.exact_gradient_sq_norms(arch, params, task, x)
      linear = jax.grad(lambda p: -jnp.mean(task.target(x) * models.apply(arch, p, x)))(params)
      for group in ("W", "u"):
        assert float(hinge[group]) == pytest.approx(float(jnp.sum(linear[group] ** 2)),
                                                    rel=1e-12)


def test_closed_form_is_exactly_zero_without_biases_at_odd_k():
  # A bias-free ReLU unit has no odd Fourier weight above degree 1 and its step no even
  # weight above degree 0; the W part lives on degrees k ± 1 and the u part on degree k.
  for arch, n, k in (("fcn", 8, 3), ("fcn", 64, 5), ("cnn", 16, 3), ("lcn", 16, 5)):
    assert theory.expected_initial_gradient_sq(arch, n, k, 4, 1 / n, 0.0, 1.0) == {
        "W": 0.0, "u": 0.0}
  assert theory.expected_initial_gradient_sq("fcn", 8, 3, 4, 1 / 8, 0.1, 1.0)["u"] > 0
  # The function skips those sums; computed anyway, they vanish to rounding.
  sums = theory._kernel_sums(16, [(2, 0), (4, 0), (3, 1), (5, 1)], 1 / 16, 0.0, dps=40)
  assert all(abs(v) < 1e-35 for v in sums.values()), sums
  assert abs(theory._kernel_sums(16, [(3, 0)], 1 / 16, 0.0, dps=40)[3, 0]) > 1e-6  # odd j


def test_closed_form_at_more_precision_is_unchanged(monkeypatch):
  cases = [("fcn", 256, 8, 1.0), ("fcn", 64, 4, 0.0)]
  before = [theory.expected_initial_gradient_sq(a, n, k, 1, 1 / n, b, 1.0) for a, n, k, b in cases]
  monkeypatch.setattr(theory, "MARGIN_DIGITS", 80)
  after = [theory.expected_initial_gradient_sq(a, n, k, 1, 1 / n, b, 1.0) for a, n, k, b in cases]
  for x, y in zip(before, after):
    assert x == pytest.approx(y, rel=1e-12)


def test_closed_form_scales_with_width_and_readout_and_cnn_equals_lcn():
  base = theory.expected_initial_gradient_sq("fcn", 32, 3, 1, 1 / 32, 1.0, 1.0)
  scaled = theory.expected_initial_gradient_sq("fcn", 32, 3, 5, 1 / 32, 1.0, 0.3)
  assert scaled["W"] == pytest.approx(5 * 0.3 * base["W"]) and scaled["u"] == pytest.approx(
      5 * base["u"])
  # CNN/LCN: only the window equal to S has a gradient, so n does not matter.
  assert (theory.expected_initial_gradient_sq("cnn", 16, 3, 2, 0.3, 1.0, 1.0)
          == theory.expected_initial_gradient_sq("lcn", 4096, 3, 2, 0.3, 1.0, 1.0))


@pytest.mark.slow
def test_closed_form_at_n_4096_is_finite_positive_and_below_theorem12():
  n, k, width, mu = 4096, 12, 3, 0.7
  values = theory.expected_initial_gradient_sq("fcn", n, k, width, 1 / n, 1.0, mu)
  # E_x ψ² = E relu(a)² = v/2 with v = n σ_w² + σ_b² = 2: c² = 1.
  bound_w, bound_u = theory.theorem12_bounds(n, k, width * mu, width, 1.0)
  assert 0 < values["W"] < bound_w and 0 < values["u"] < bound_u
  assert math.isfinite(values["W"]) and math.isfinite(values["u"])


def test_closed_form_refuses_bad_arguments():
  with pytest.raises(ValueError, match="arch must be one of"):
    theory.expected_initial_gradient_sq("rnn", 8, 3, 1, 0.1, 1.0, 1.0)
  with pytest.raises(ValueError, match="1 <= k <= n"):
    theory.expected_initial_gradient_sq("fcn", 3, 8, 1, 0.1, 1.0, 1.0)


def test_krawtchouk_row_equals_the_definition():
  for n, j in ((7, 0), (7, 3), (10, 10), (12, 5)):
    expected = [sum((-1) ** i * math.comb(j, i) * math.comb(n - j, t - i)
                    for i in range(min(j, t) + 1) if t - i <= n - j) for t in range(n + 1)]
    assert theory.krawtchouk_row(n, j) == expected



def test_coverage_and_lemma6_event_probabilities_equal_enumeration():
  # All P^q assignments of q filters to P = 2^k patterns, counted by hand.
  for k, q in ((1, 5), (2, 6), (2, 8), (3, 5)):
    patterns = 2**k
    covered = event = 0
    for assignment in itertools.product(range(patterns), repeat=q):
      counts = np.bincount(assignment, minlength=patterns)
      covered += (counts > 0).all()
      event += (counts >= q / (2 * patterns)).all()
    assert theory.coverage_probability(k, q) == pytest.approx(covered / patterns**q, rel=1e-12)
    assert theory.lemma6_event_probability(k, q) == pytest.approx(event / patterns**q,
                                                                  rel=1e-9)
  # 8 filters cover 8 patterns only as a permutation: 8!/8^8.
  assert theory.coverage_probability(3, 8) == pytest.approx(math.factorial(8) / 8**8, rel=1e-12)
