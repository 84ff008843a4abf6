"""Theorem 12: the FCN's initial gradient on a k-parity vanishes like 1/C(n, k).

For each n (with fixed k, and with k = log2 n), many initialisations of an FCN (i.i.d.
Gaussian first layer, readout scaled so |h| < 1 and the hinge is active everywhere) and
of the paper's CNN and LCN: the squared norms ||∂L/∂W||^2 and ||∂L/∂u||^2 of the
population hinge loss at initialisation, exact (all 2^n inputs) for n <= exact_max_n and
an unbiased Monte Carlo estimate beyond. One row per (series, arch, n, init).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from cnnfcn_jax import checks, models, outputs, tasks, theory

def validate(c):
  checks.positive_int("k", c.k)
  checks.nonempty_tuple("ns_fixed_k", c.ns_fixed_k, checks.positive_int)
  if min(c.ns_fixed_k) < 2 * c.k:
    checks.fail("ns_fixed_k", c.ns_fixed_k, f"every n >= 2k = {2 * c.k} (Theorem 12 needs n >= 2k)")
  checks.nonempty_tuple("ns_log_k", c.ns_log_k, checks.positive_int)
  if any(n < 4 or n & (n - 1) for n in c.ns_log_k):
    checks.fail("ns_log_k", c.ns_log_k, "powers of two >= 4 (k = log2 n)")
  checks.nonempty_tuple("archs", c.archs, lambda f, v: checks.choice(f, v, models.ARCHS))
  checks.positive_int("width", c.width)
  checks.positive_float("readout_scale", c.readout_scale)
  checks.positive_float("bias_scale", c.bias_scale, allow_zero=True)
  checks.positive_int("num_inits", c.num_inits, minimum=2)
  checks.positive_int("exact_max_n", c.exact_max_n)
  if c.exact_max_n > 22:
    checks.fail("exact_max_n", c.exact_max_n, "at most 22 (exact enumeration of 2^n inputs)")
  checks.positive_int("mc_batch", c.mc_batch)
  checks.positive_int("mc_pairs", c.mc_pairs, minimum=2)
  checks.positive_int("seed", c.seed, minimum=0)


def init_for_theorem(arch, key, n, k, width, readout_scale, bias_scale):
  """FCN: Gaussian init, u scaled by readout_scale, b ~ N(0, bias_scale^2) i.i.d.

  CNN/LCN: the paper's init (u = 0). The FCN's init stays permutation invariant.
  """
  if arch == "fcn":
    params = models.init_params("fcn", key, n, k, width, "gaussian")
    b = bias_scale * jax.random.normal(jax.random.fold_in(key, 2**31), params["b"].shape)
    return {**params, "u": params["u"] * readout_scale, "b": b.astype(params["b"].dtype)}
  return models.init_params(arch, key, n, k, width, "paper")


def measure(c, arch, n, k, key):
  """Per-init squared gradient norms (and standard errors when Monte Carlo)."""
  task = tasks.make_task(n, k)  # parity of k consecutive bits in the middle
  exact = n <= c.exact_max_n
  init_key, mc_key = jax.random.split(key)
  init_keys = jax.random.split(init_key, c.num_inits)
  mc_keys = jax.random.split(mc_key, c.num_inits)

  def one_init(init_key, mc_key, x_cube):
    params = init_for_theorem(arch, init_key, n, k, c.width, c.readout_scale, c.bias_scale)
    out = {"u_norm_sq": jnp.sum(params["u"] ** 2)}
    if exact:
      norms = theory.exact_gradient_sq_norms(arch, params, task, x_cube)
      stderr = {name: jnp.zeros_like(v) for name, v in norms.items()}
      if arch == "fcn":  # CNN/LCN start at u = 0, h = 0
        out["hinge_active_fraction"] = jnp.mean(jnp.abs(models.apply_fcn(params, x_cube)) < 1)
    else:
      norms, stderr = theory.monte_carlo_gradient_sq_norms(arch, params, task, mc_key,
                                                           c.mc_batch, c.mc_pairs)
    if arch == "fcn":
      x = x_cube if exact else task.sample(mc_key, c.mc_batch)[0]
      psi_sq, _ = theory.hidden_moments(params["W"], params["b"], x)
      out["sum_psi_sq"] = jnp.sum(psi_sq)
    out.update({f"grad_{name}_sq": v for name, v in norms.items()})
    out.update({f"grad_{name}_sq_stderr": v for name, v in stderr.items()})
    return out

  x_cube = theory.cube(n if exact else 1)
  per_init = jax.jit(lambda a, b, x: jax.lax.map(lambda ab: one_init(*ab, x), (a, b)))
  return jax.device_get(per_init(init_keys, mc_keys, x_cube)), exact


def run(c, checkpoint=outputs.Checkpoint()) -> list[dict]:
  grid = [("fixed_k", arch, n, c.k) for arch in c.archs for n in c.ns_fixed_k]
  grid += [("log_k", arch, n, int(math.log2(n))) for arch in c.archs for n in c.ns_log_k]
  return checkpoint.run_units(
      [(f"{series}-{arch}-n{n}-k{k}", 2 ** min(n, c.exact_max_n) * n,
        lambda series=series, arch=arch, n=n, k=k: gradient_rows(c, series, arch, n, k))
       for series, arch, n, k in grid], "theorem12")


def gradient_rows(c, series, arch, n, k) -> list[dict]:
  """One row per initialisation at (arch, n, k), with the FCN's bounds."""
  key = jax.random.fold_in(jax.random.fold_in(jax.random.key(c.seed), n), k)
  stats, exact = measure(c, arch, n, k, key)
  bound_W, bound_u = theory.theorem12_bounds(n, k, float(np.mean(stats["u_norm_sq"])), c.width,
                                             float(np.mean(stats.get("sum_psi_sq", [0.0])))
                                             / c.width)
  rows = []
  for i in range(c.num_inits):
    row = dict(series=series, arch=arch, n=n, k=k, init=i, width=c.width,
               method="exact" if exact else "monte_carlo", binom=math.comb(n, k))
    row.update({name: float(v[i]) for name, v in stats.items()})
    if arch == "fcn":
      row.update(bound_W=bound_W, bound_u=bound_u)
    rows.append(row)
  return rows
