"""theory.py against exact enumeration, Fourier identities and known values."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import models, tasks, theory


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
  assert theory.wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
  assert theory.wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
  assert theory.wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
  assert theory.clopper_pearson_interval(5, 10) == pytest.approx((0.1871, 0.8129), abs=1e-4)
  assert theory.clopper_pearson_interval(0, 10) == pytest.approx((0.0, 0.3085), abs=1e-4)
  assert theory.clopper_pearson_interval(10, 10) == pytest.approx((0.6915, 1.0), abs=1e-4)
