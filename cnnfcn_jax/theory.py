"""The paper's quantities, computed exactly (docs/spec.md §4, §5, §8).

Lemma 6      width threshold, pattern counts N(z), coverage, the readout u*, and the exact
             probabilities of coverage and of Lemma 6's event.
Theorem 4    the derived step size and the three terms of the average-loss bound.
Theorem 12   the Parseval bounds, the exact (all 2^n inputs) or Monte Carlo initial
             gradient of the hinge loss, and its expectation over the init in closed form
             at any n (expected_initial_gradient_sq).
Intervals    Wilson and Clopper-Pearson intervals for success probabilities.
"""

from __future__ import annotations

import math
from itertools import combinations

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import scipy.signal
import scipy.stats

from cnnfcn_jax import engine, models

# ----------------------------------------------------------------------------- Lemma 6


def lemma6_width_threshold(k: int, delta: float) -> float:
  """q*(k, δ) = 2^{k+3} log(2^k / δ): above it, w.p. >= 1-δ every pattern has N(z) >= q/2^{k+1}."""
  return 2.0 ** (k + 3) * math.log(2.0**k / delta)


def filter_pattern_ids(W_qk):
  """Pattern id of each paper-init filter: filter l is the indicator of z = k·W_l (sign(W_l))."""
  return models.sign_ids(W_qk)


def pattern_counts(W_qk):
  """N(z) for every pattern id z: the number of filters equal to z / k. Shape (2^k,)."""
  k = W_qk.shape[-1]
  return jnp.zeros(2**k, jnp.int32).at[filter_pattern_ids(W_qk)].add(1)


def covers_all_patterns(counts):
  """Whether every pattern is the filter of at least one unit (N(z) >= 1 for all z)."""
  return jnp.all(counts > 0)


def lemma6_event(counts, q):
  """The event Lemma 6 guarantees w.p. >= 1-δ: N(z) >= q / 2^{k+1} for every z."""
  return jnp.all(counts >= q / (2 * counts.shape[0]))


def readout_star(W_qk, truth_table, window, num_windows):
  """Lemma 6's u* (J, q): u*^{(window)}_l = k g(z_l) / N(z_l), zero at the other windows.

  With b = 1/k - 1 and the paper init, h_{u*,W,b} = f exactly when every pattern is covered.
  """
  k = W_qk.shape[-1]
  ids = filter_pattern_ids(W_qk)
  counts = pattern_counts(W_qk)
  g = jnp.asarray(truth_table, W_qk.dtype)
  u_window = k * g[ids] / counts[ids]
  return jnp.zeros((num_windows, W_qk.shape[0]), W_qk.dtype).at[window].set(u_window)


def readout_star_norm_sq(counts, k):
  """||u*||^2 = sum_z k^2 / N(z) (infinite if some pattern is uncovered)."""
  return jnp.sum(k**2 / counts.astype(jnp.result_type(float)))


def readout_star_norm_bound(k: int, q: int) -> float:
  """Lemma 6's bound ||u*||^2 <= 2^{2k+1} k^2 / q (under its event)."""
  return 2.0 ** (2 * k + 1) * k**2 / q


def window_pattern_outputs(W_qk, b_q, u_q, activation="relu"):
  """h restricted to one window: sum_l u_l σ(<W_l, z> + b_l) for every pattern z. (2^k,)."""
  patterns = models.all_patterns(W_qk.shape[-1], W_qk.dtype)
  return models.ACTIVATIONS[activation](patterns @ W_qk.T + b_q) @ u_q


def coverage_probability(k: int, q: int) -> float:
  """P(every one of the 2^k patterns is the filter of some unit), q uniform filters, exactly.

  Inclusion-exclusion, Σ_j (−1)^j C(P, j) (1 − j/P)^q with P = 2^k, in mpmath at enough
  digits for its largest term (the sum cancels where the probability is small).
  """
  patterns = 2**k
  if q < patterns:
    return 0.0  # fewer filters than patterns (the sum would give rounding noise)
  digits = int(math.log10(math.comb(patterns, patterns // 2))) + 30
  with mpmath.workdps(digits):
    total = mpmath.fsum((-1) ** j * math.comb(patterns, j) * (1 - mpmath.mpf(j) / patterns) ** q
                        for j in range(patterns + 1))
  return min(max(float(total), 0.0), 1.0)


def lemma6_event_probability(k: int, q: int) -> float:
  """P(N(z) >= q/2^{k+1} for every pattern z) for q uniform filters, exactly (to rounding).

  The counts N are multinomial: independent Poisson(q/2^k) counts conditioned on summing
  to q. So the probability is [the 2^k-fold convolution of the Poisson pmf cut below the
  threshold] at q, over the Poisson(q) pmf at q; every term is positive, so the FFT
  convolutions lose nothing but rounding.
  """
  patterns = 2**k
  part = scipy.stats.poisson.pmf(np.arange(q + 1), q / patterns)
  part[:math.ceil(q / (2 * patterns))] = 0.0  # counts below the event's threshold
  total, power, exponent = None, part, patterns
  while exponent:  # binary powering of the convolution, truncated at q
    if exponent & 1:
      total = power if total is None else scipy.signal.fftconvolve(total, power)[:q + 1]
    exponent >>= 1
    if exponent:
      power = np.maximum(scipy.signal.fftconvolve(power, power)[:q + 1], 0.0)
  return float(max(total[q], 0.0) / scipy.stats.poisson.pmf(q, q))


# --------------------------------------------------------------------------- Theorem 4


def theorem4_step_size(n: int, q: int, T: int) -> float:
  """η = sqrt(n) / (sqrt(q) T), the step that yields Theorem 4's three terms [derived]."""
  return math.sqrt(n) / (math.sqrt(q) * T)


def theorem4_bound_terms(n: int, k: int, q: int, T: int, c: float = 1.0) -> tuple:
  """The three terms of (1/T) sum_t L(h_t) <= 2cn^2k^2 2^k/q + 2(2^k k)^2/sqrt(qn) + c^2 n^1.5 sqrt(q)/T."""
  return (2 * c * n**2 * k**2 * 2**k / q,
          2 * (2**k * k) ** 2 / math.sqrt(q * n),
          c**2 * n**1.5 * math.sqrt(q) / T)


# -------------------------------------------------------------------------- Theorem 12


def cube(n: int, dtype=None):
  """All 2^n points of {±1}^n, (2^n, n); row i has x_j = -1 iff bit j of i is set."""
  return models.all_patterns(n, dtype)


def theorem12_bounds(n, k, mean_u_norm_sq, width, c_sq):
  """docs/spec.md §5 in expectation: E||dL/dW||^2 <= n E||u||^2 / C(n,k), E||dL/du||^2 <= r c^2 / C(n,k)."""
  binom = math.comb(n, k)
  return n * mean_u_norm_sq / binom, width * c_sq / binom


def hidden_moments(W, b, x, activation="relu"):
  """E_x ψ_i(x)^2 and E_x φ_i(x)^2 of every FCN unit over the rows of x (the cube: exact)."""
  pre = x @ W.T + b
  act = models.ACTIVATIONS[activation]
  slope = jax.vmap(jax.vmap(jax.grad(act)))(pre)
  return jnp.mean(act(pre) ** 2, axis=0), jnp.mean(slope**2, axis=0)


def hinge_gradient(arch, params, x, y, activation="relu"):
  """∇ of the mean hinge loss over the rows (x, y) with respect to every parameter group.

  Windowed architectures (CNN/LCN) go through the exact pattern-table path (x is in {±1}^n).
  """
  table = models.ARCHITECTURES[arch].windowed
  inputs = engine.input_features(x, params["W"].shape[-1], table)
  return jax.grad(lambda p: engine.hinge_loss(
      models.apply(arch, p, inputs, activation, table), y))(params)


def exact_gradient_sq_norms(arch, params, task, x, activation="relu"):
  """{group: ||∂L/∂group||^2} of the population hinge loss; x = cube(n), all 2^n inputs.

  (x is an argument, not built inside, so that jitted callers pass it in rather than
  have XLA constant-fold work on a 2^n-row constant.)
  """
  grads = hinge_gradient(arch, params, x, task.target(x), activation)
  return {name: jnp.sum(g**2) for name, g in grads.items()}


def monte_carlo_gradient_sq_norms(arch, params, task, key, batch, pairs, activation="relu"):
  """Unbiased estimates of ||∂L/∂group||^2 and their standard errors.

  For independent batches A and B, E[<ĝ_A, ĝ_B>] = <g, g> since E ĝ = g; averaging over
  `pairs` independent pairs gives the mean and its standard error.
  Returns ({group: estimate}, {group: standard error}).
  """
  def one_pair(pair_key):
    key_a, key_b = jax.random.split(pair_key)
    grad = lambda k: hinge_gradient(arch, params, *task.sample(k, batch, params["W"].dtype),  # noqa: E731
                                    activation)
    g_a, g_b = grad(key_a), grad(key_b)
    return {name: jnp.sum(g_a[name] * g_b[name]) for name in g_a}

  products = jax.lax.map(one_pair, jax.random.split(key, pairs))
  mean = {name: jnp.mean(v) for name, v in products.items()}
  stderr = {name: jnp.std(v, ddof=1) / jnp.sqrt(pairs) for name, v in products.items()}
  return mean, stderr


def parseval_sums(params, n, k, activation="relu"):
  """For one FCN init: sum over all k-subsets I of ||∂L_I/∂u||^2 and ||∂L_I/∂w_i||^2 (exact).

  Loops over all C(n, k) subsets: small n only. Returns (sum_u, per-unit sum_W (r,)), to
  be compared with the deterministic Parseval inequalities
  sum_I ||∂L_I/∂u||^2 <= sum_i E ψ_i^2 and sum_I ||∂L_I/∂w_i||^2 <= n u_i^2 E φ_i^2.
  Public as the exact left sides of Theorem 12's proof (docs/spec.md §8), which the tests
  hold to those inequalities.
  """
  x = cube(n, params["W"].dtype)
  sum_u = 0.0
  sum_w = jnp.zeros(params["W"].shape[0], params["W"].dtype)
  for subset in combinations(range(n), k):
    y = jnp.prod(x[:, list(subset)], axis=1)
    g = hinge_gradient("fcn", params, x, y, activation)
    sum_u = sum_u + jnp.sum(g["u"] ** 2)
    sum_w = sum_w + jnp.sum(g["W"] ** 2, axis=1)
  return sum_u, sum_w


# ---------------------------------------------- Theorem 12 in closed form (docs/spec.md §8)

MARGIN_DIGITS = 30  # working precision beyond log10 of the largest Krawtchouk number
RELATIVE_TOLERANCE = 1e-12  # the value at 2x the precision must agree this closely


def krawtchouk_row(n: int, j: int) -> list[int]:
  """[K_n(j, t) for t = 0..n], K_n(j, t) = Σ_i (−1)^i C(j, i) C(n − j, t − i), exact.

  The coefficients of y^t in (1 − y)^j (1 + y)^(n − j), built by j multiplications.
  """
  row = [math.comb(n - j, t) for t in range(n - j + 1)] + [0] * j
  for _ in range(j):
    for t in range(n, 0, -1):
      row[t] -= row[t - 1]
  return row


def _kernel_sums(n, degrees, sigma_w2, sigma_b2, dps):
  """{(j, which): G_n(j; κ_which)} at mpmath precision dps (docs/spec.md §8).

  κ₀(s) = 1/4 + arcsin(ρ)/2π and κ₁(s) = v/2π (sqrt(1 − ρ²) + (π − arccos ρ) ρ) at
  ρ = (s σ_w² + σ_b²)/v, v = n σ_w² + σ_b², s = n − 2t; 1 ± ρ are formed directly so
  that sqrt(1 − ρ²) keeps its relative precision near ρ = ±1.
  """
  with mpmath.workdps(dps):
    sw, sb = mpmath.mpf(sigma_w2), mpmath.mpf(sigma_b2)
    v = n * sw + sb
    kappa = ([], [])
    for t in range(n + 1):
      rho = ((n - 2 * t) * sw + sb) / v
      root = mpmath.sqrt((2 * t) * sw / v * (((2 * n - 2 * t) * sw + 2 * sb) / v))
      kappa[0].append(mpmath.mpf(1) / 4 + mpmath.atan2(rho, root) / (2 * mpmath.pi))
      kappa[1].append(v / (2 * mpmath.pi) * (root + mpmath.atan2(root, -rho) * rho))
    return {(j, which): mpmath.ldexp(mpmath.fsum(K * c for K, c in
                                                 zip(krawtchouk_row(n, j), kappa[which])), -n)
            for j, which in degrees}


def expected_initial_gradient_sq(arch, n, k, width, sigma_w2, sigma_b2, u_second_moment):
  """E over the init of ||∂L/∂W||² and ||∂L/∂u||², exactly: {"W": float, "u": float}.

  The population hinge loss at initialisation for the local k-parity target y = χ_S(x),
  x uniform on {±1}^n, in the hinge-active regime (|h| < 1 on every input, so ℓ' = −1);
  ReLU units; every first-layer entry i.i.d. N(0, sigma_w2), every bias N(0, sigma_b2),
  every readout weight independent of them with E u² = u_second_moment (μ). Norms are
  summed over all units (filters, and windows for the LCN) and readout weights.

    FCN (width r):  W: r μ (k G_n(k − 1; κ₀) + (n − k) G_n(k + 1; κ₀)),  u: r G_n(k; κ₁)
    CNN, LCN (q):   W: q μ k G_k(k − 1; κ₀),  u: q G_k(k; κ₁)   (independent of n)

  with G_n(j; κ) = 2^−n Σ_t κ(n − 2t) K_n(j, t) (docs/spec.md §8; for CNN/LCN only the
  window equal to S has a gradient, for every init, so n → k). The sum cancels to a tiny
  fraction of its terms: Krawtchouk numbers are exact integers, κ is evaluated with
  mpmath at log10 C(n, k + 1) + MARGIN_DIGITS digits, and again at twice that; the two
  must agree to RELATIVE_TOLERANCE (the precision is doubled until they do).
  With sigma_b2 = 0 and odd k >= 3 both parts are exactly 0 (a bias-free ReLU unit has
  no odd Fourier weight above degree 1, its step no even weight above degree 0).
  """
  if arch not in models.ARCHITECTURES:
    raise ValueError(f"arch must be one of {models.ARCHS}, got {arch!r}")
  if not 1 <= k <= n or width < 1 or sigma_w2 <= 0 or sigma_b2 < 0 or u_second_moment < 0:
    raise ValueError(f"need 1 <= k <= n, width >= 1, sigma_w2 > 0, sigma_b2 >= 0 and "
                     f"u_second_moment >= 0; got n={n}, k={k}, width={width}, "
                     f"sigma_w2={sigma_w2}, sigma_b2={sigma_b2}, "
                     f"u_second_moment={u_second_moment}")
  inputs = k if models.ARCHITECTURES[arch].windowed else n
  degrees = [(k - 1, 0), (k, 1)] + ([(k + 1, 0)] if k < inputs else [])
  if sigma_b2 == 0:  # the exact zeros above; the sums would give rounding noise there
    degrees = [(j, w) for j, w in degrees if not (j >= 2 and j % 2 == w)]
  dps = int(math.log10(math.comb(inputs, min(k + 1, inputs)) + 1)) + MARGIN_DIGITS
  low = _kernel_sums(inputs, degrees, sigma_w2, sigma_b2, dps)
  for _ in range(4):
    dps *= 2
    high = _kernel_sums(inputs, degrees, sigma_w2, sigma_b2, dps)
    if all(abs(low[d] - high[d]) <= RELATIVE_TOLERANCE * abs(high[d]) for d in degrees):
      break
    low = high
  else:
    raise ArithmeticError(f"no agreement up to {dps} digits at n = {inputs}, k = {k}")
  g = {d: high.get(d, 0) for d in ((k - 1, 0), (k, 1), (k + 1, 0))}
  grad_w = k * g[k - 1, 0] + (inputs - k) * g[k + 1, 0]
  return {"W": float(width * u_second_moment * grad_w), "u": float(width * g[k, 1])}


# -------------------------------------------------------------------------- intervals
