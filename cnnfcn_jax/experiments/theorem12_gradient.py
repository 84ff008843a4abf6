"""Theorem 12: the FCN's initial gradient on a k-parity vanishes like 1/C(n, k).

For each n (with fixed k, and with k = log2 n), many initialisations of an FCN (i.i.d.
Gaussian first layer, readout scaled so |h| < 1 and the hinge is active everywhere) and
of the paper's CNN and LCN: the squared norms ||∂L/∂W||^2 and ||∂L/∂u||^2 of the
population hinge loss at initialisation, exact (all 2^n inputs) for n <= exact_max_n and
an unbiased Monte Carlo estimate beyond. One row per (k_schedule, arch, n, init), where
k_schedule is "fixed" (k = config.k) or "log2_n" (k = log2 n).

The expectation over a Gaussian init also has a closed form, exact at any n
(theory.expected_initial_gradient_sq): one row per (k_schedule, arch, n) with
method = "closed_form", for every power of two n up to config.closed_form_max_n.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import scipy.stats

from cnnfcn_jax import checkpoints, checks, models, plots, stats, tasks, theory

K_SCHEDULES = ("fixed", "log2_n")
FOUR_SIGMA_TAIL = 2 * scipy.stats.norm.sf(4.0)  # two-sided tail beyond 4 standard errors

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
  checks.positive_int("closed_form_max_n", c.closed_form_max_n, minimum=0)
  checks.seed("seed", c.seed)


def init_for_theorem(arch, key, n, k, width, readout_scale, bias_scale):
  """FCN: Gaussian init, u scaled by readout_scale, b ~ N(0, bias_scale^2) i.i.d.

  CNN/LCN: the paper's init (u = 0). The FCN's init stays permutation invariant.
  """
  if not models.ARCHITECTURES[arch].windowed:
    params = models.init_params(arch, key, n, k, width, "gaussian")
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

  fully_connected = not models.ARCHITECTURES[arch].windowed  # Theorem 12's subject

  def one_init(init_key, mc_key, x_cube):
    params = init_for_theorem(arch, init_key, n, k, c.width, c.readout_scale, c.bias_scale)
    out = {"u_norm_sq": jnp.sum(params["u"] ** 2)}
    if exact:
      norms = theory.exact_gradient_sq_norms(arch, params, task, x_cube)
      stderr = {name: jnp.zeros_like(v) for name, v in norms.items()}
      if fully_connected:  # CNN/LCN start at u = 0, h = 0
        out["hinge_active_fraction"] = jnp.mean(jnp.abs(models.apply(arch, params, x_cube)) < 1)
    else:
      norms, stderr = theory.monte_carlo_gradient_sq_norms(arch, params, task, mc_key,
                                                           c.mc_batch, c.mc_pairs)
    if fully_connected:
      x = x_cube if exact else task.sample(mc_key, c.mc_batch)[0]
      psi_sq, _ = theory.hidden_moments(params["W"], params["b"], x)
      out["sum_psi_sq"] = jnp.sum(psi_sq)
    out.update({f"grad_{name}_sq": v for name, v in norms.items()})
    out.update({f"grad_{name}_sq_stderr": v for name, v in stderr.items()})
    return out

  x_cube = theory.cube(n if exact else 1)
  per_init = jax.jit(lambda a, b, x: jax.lax.map(lambda ab: one_init(*ab, x), (a, b)))
  return jax.device_get(per_init(init_keys, mc_keys, x_cube)), exact


def run(c, checkpoint: checkpoints.Checkpoint | None = None) -> list[dict]:
  checkpoint = checkpoint or checkpoints.Checkpoint()  # none given: nothing is kept
  grid = [("fixed", arch, n, c.k) for arch in c.archs for n in c.ns_fixed_k]
  grid += [("log2_n", arch, n, int(math.log2(n))) for arch in c.archs for n in c.ns_log_k]
  units = [(f"{schedule}-{arch}-n{n}-k{k}", 2 ** min(n, c.exact_max_n) * n,
            lambda schedule=schedule, arch=arch, n=n, k=k: unit_rows(c, schedule, arch, n, k))
           for schedule, arch, n, k in grid]
  units += [(f"closed_form-{schedule}-{arch}", c.closed_form_max_n,
             lambda schedule=schedule, arch=arch: closed_form_unit_rows(c, schedule, arch))
            for schedule in K_SCHEDULES for arch in c.archs]
  return checkpoint.run_units(units, "theorem12")


def closed_form_grid(c, k_schedule):
  """(n, k) of the closed-form rows: powers of two n with 2k <= n <= closed_form_max_n."""
  ns = [2**e for e in range(2, int(math.log2(max(c.closed_form_max_n, 1))) + 1)]
  pairs = [(n, c.k if k_schedule == "fixed" else int(math.log2(n))) for n in ns]
  return [(n, k) for n, k in pairs if n >= 2 * k]


def closed_form_unit_rows(c, k_schedule, arch) -> list[dict]:
  """E over the Gaussian init of the squared initial gradient, exact, at every n."""
  rows = []
  for n, k in closed_form_grid(c, k_schedule):
    windowed = models.ARCHITECTURES[arch].windowed
    init = dict(sigma_w2=1.0 / (k if windowed else n), sigma_b2=c.bias_scale**2,
                u_second_moment=c.readout_scale**2 / c.width)
    values = theory.expected_initial_gradient_sq(arch, n, k, c.width, **init)
    row = dict(k_schedule=k_schedule, arch=arch, n=n, k=k, width=c.width,
               method="closed_form", n_choose_k=math.comb(n, k), grad_W_sq=values["W"],
               grad_u_sq=values["u"], **init)
    if not windowed:  # E||u||² = r μ; E_x ψ² = E relu(a)² = v/2, v = n σ_w² + σ_b²
      row["bound_W"], row["bound_u"] = theory.theorem12_bounds(
          n, k, c.width * init["u_second_moment"], c.width,
          (n * init["sigma_w2"] + init["sigma_b2"]) / 2)
    rows.append(row)
  return rows


def unit_rows(c, k_schedule, arch, n, k) -> list[dict]:
  """One row per initialisation at (arch, n, k), with the FCN's bounds."""
  key = jax.random.fold_in(jax.random.fold_in(jax.random.key(c.seed), n), k)
  stats, exact = measure(c, arch, n, k, key)
  bound_W, bound_u = theory.theorem12_bounds(n, k, float(np.mean(stats["u_norm_sq"])), c.width,
                                             float(np.mean(stats.get("sum_psi_sq", [0.0])))
                                             / c.width)
  rows = []
  for i in range(c.num_inits):
    row = dict(k_schedule=k_schedule, arch=arch, n=n, k=k, init=i, width=c.width,
               method="exact" if exact else "monte_carlo", n_choose_k=math.comb(n, k))
    row.update({name: float(v[i]) for name, v in stats.items()})
    if not models.ARCHITECTURES[arch].windowed:
      row.update(bound_W=bound_W, bound_u=bound_u)
    rows.append(row)
  return rows


def mean_over_inits(rows, group):
  """(ns, mean, standard error, exact) over inits of ||∂L/∂group||² per n of `rows`.

  The standard error combines the spread over inits with each Monte Carlo estimate's own.
  """
  ns = sorted({r["n"] for r in rows})
  at = {n: [r for r in rows if r["n"] == n] for n in ns}
  mean = np.array([np.mean([r[f"grad_{group}_sq"] for r in at[n]]) for n in ns])
  err = np.array([np.sqrt(np.var([r[f"grad_{group}_sq"] for r in at[n]], ddof=1)
                          + np.mean([r[f"grad_{group}_sq_stderr"] ** 2 for r in at[n]]))
                  / np.sqrt(len(at[n])) for n in ns])
  exact = np.array([at[n][0]["method"] == "exact" for n in ns])
  return np.array(ns), mean, err, exact


def closed_form_slope(rows, group, against):
  """Log-log slope of the closed form against n or 1/C(n, k) ("n_choose_k") over the larger
  half of n."""
  assert against in ("n", "n_choose_k"), against
  rows = sorted(rows, key=lambda r: r["n"])[len(rows) // 2:]
  x = [r["n"] if against == "n" else 1 / r["n_choose_k"] for r in rows]
  return stats.loglog_slope(x, [r[f"grad_{group}_sq"] for r in rows])


def claim_verdicts(rows) -> list[plots.Verdict]:
  """Per k schedule and group, the FCN's values against Theorem 12's bound (closed form,
  exact, Monte Carlo) and its measured means against the closed form."""
  result = []
  for schedule in [s for s in K_SCHEDULES if any(r["k_schedule"] == s for r in rows)]:
    fcn = [r for r in rows if r["k_schedule"] == schedule and "bound_W" in r]  # the FCN's
    closed = {r["n"]: r for r in fcn if r["method"] == "closed_form"}
    sampled = [r for r in fcn if r["method"] != "closed_form"]
    for group in ("W", "u"):
      where = f"{schedule} k, ∂L/∂{group}: FCN"
      if closed:
        ratio = max(r[f"grad_{group}_sq"] / r[f"bound_{group}"] for r in closed.values())
        result.append(plots.Verdict(f"{where} closed form below the Theorem 12 bound at every "
                                    f"n <= {max(closed)}", ratio < 1,
                                    f"largest value/bound {ratio:.3g}"))
      if not sampled:
        continue
      ns, mean, err, exact = mean_over_inits(sampled, group)
      bound = np.array([next(r[f"bound_{group}"] for r in sampled if r["n"] == n) for n in ns])
      if exact.any():
        result.append(plots.Verdict(
            f"{where} exact values below the Theorem 12 bound",
            bool(np.all(mean[exact] <= bound[exact])),
            f"largest value/bound {np.max(mean[exact] / bound[exact]):.3g}"))
      if (~exact).any():
        excess = (mean - 3 * err - bound)[~exact]
        result.append(plots.Verdict(
            f"{where} Monte Carlo values below the bound within 3 standard errors",
            bool(np.all(excess <= 0)), f"largest (estimate - 3 SE - bound) {np.max(excess):.3g}"))
      # |mean - closed form| / standard error against the Student-t quantile with the
      # two-sided tail of 4 normal standard errors (6.3e-5): few inits, wider limit.
      checked = [i for i, n in enumerate(ns) if n in closed and err[i] > 0]
      if checked:
        inits = {n: sum(r["n"] == n for r in sampled) for n in ns}
        ratio = max(abs(mean[i] - closed[ns[i]][f"grad_{group}_sq"]) / err[i]
                    / scipy.stats.t.ppf(1 - FOUR_SIGMA_TAIL / 2, inits[ns[i]] - 1)
                    for i in checked)
        result.append(plots.Verdict(
            f"{where} mean over the sampled inits equals the closed form within 4 standard "
            "errors (Student-t limit for the number of inits)", ratio <= 1,
            f"largest |difference| / limit {ratio:.2f} over {len(checked)} n"))
  return result


def report(rows, config, workdir) -> list[str]:
  schedules = [s for s in K_SCHEDULES if any(r["k_schedule"] == s for r in rows)]
  closed_rows = [r for r in rows if r["method"] == "closed_form"]
  fig, axes = plt.subplots(len(schedules), 2, figsize=(11, 4 * len(schedules)),
                           squeeze=False, layout="constrained")
  lines = ["# Theorem 12: initial gradient against n", "",
           "E over initialisations of the squared gradient norm of the population hinge "
           "loss on the parity of k consecutive bits; exact = all 2^n inputs, "
           "monte_carlo = unbiased estimate (± its standard error), over "
           f"{config['num_inits']} inits (FCN: Gaussian, CNN/LCN: the paper's, u = 0).", "",
           "| k schedule | arch | n | k | C(n,k) | method | E‖∂L/∂W‖² | E‖∂L/∂u‖² | bound W | "
           "bound u |", "|---|---|---|---|---|---|---|---|---|---|"]
  for row_axes, schedule in zip(axes, schedules):
    rs = [r for r in rows if r["k_schedule"] == schedule and r["method"] != "closed_form"]
    for ax, group in zip(row_axes, ("W", "u")):
      for arch in [a for a in models.ARCHS if any(r["arch"] == a for r in rs)]:
        ar = [r for r in rs if r["arch"] == arch]
        ns, mean, err, exact = mean_over_inits(ar, group)
        if not mean.any():
          continue  # CNN/LCN: u = 0 at the paper's init makes ∂L/∂W = 0 exactly
        below = np.minimum(err, 0.999 * mean)  # a log axis cannot show bars below zero
        init = "paper init" if models.ARCHITECTURES[arch].windowed else "Gaussian init"
        ax.errorbar(ns[exact], mean[exact], yerr=[below[exact], err[exact]], fmt="o",
                    capsize=2, color=plots.color(arch),
                    label=f"{plots.label(arch)} exact, {init}")
        positive = ~exact & (mean > 0)
        if positive.any():
          ax.errorbar(ns[positive], mean[positive], yerr=[below[positive], err[positive]],
                      fmt="^", capsize=2, color=plots.color(arch), mfc="none",
                      label=f"{plots.label(arch)} Monte Carlo, {init}")
        unresolved = ~exact & (mean <= 0)
        if unresolved.any():  # estimate <= 0: show its upper 2-standard-error limit
          ax.plot(ns[unresolved], (mean + 2 * err)[unresolved], "v", color=plots.color(arch),
                  mfc="none", label=f"{plots.label(arch)} Monte Carlo ≤ 0: upper limit")
      for arch in models.ARCHS:
        cr = sorted((r for r in closed_rows if (r["k_schedule"], r["arch"]) == (schedule, arch)),
                    key=lambda r: r["n"])
        if any(r[f"grad_{group}_sq"] > 0 for r in cr):
          ax.plot([r["n"] for r in cr], [r[f"grad_{group}_sq"] for r in cr], "-",
                  lw=3.5 - models.ARCHS.index(arch),  # CNN = LCN: the wider line shows
                  color=plots.color(arch), label=f"{plots.label(arch)} closed form, Gaussian init")
        if cr and "bound_W" in cr[0]:
          ax.plot([r["n"] for r in cr], [r[f"bound_{group}"] for r in cr], "--", color="k",
                  lw=1, label="Theorem 12 bound (closed-form init)")
      ax.set_xscale("log", base=2)
      ax.set_yscale("log")
      ax.set_xlabel("n")
      ax.set_ylabel(f"E‖∂L/∂{group}‖² at init")
      ax.set_title(f"k {schedule.replace('_', ' ')}: ∂L/∂{group}")
      ax.grid(alpha=0.3)
      ax.legend(fontsize=6)
    for key in sorted({(r["arch"], r["n"]) for r in rs},
                      key=lambda t: (models.ARCHITECTURES[t[0]].windowed, t)):
      ar = [r for r in rs if (r["arch"], r["n"]) == key]
      r0 = ar[0]
      cells = []
      for group in ("W", "u"):
        value = np.mean([r[f"grad_{group}_sq"] for r in ar])
        if r0["method"] == "monte_carlo":
          se = np.sqrt(np.mean([r[f"grad_{group}_sq_stderr"] ** 2 for r in ar]) / len(ar))
          cells.append(f"{value:.3g} ± {se:.2g}")
        else:
          cells.append(f"{value:.3g}")
      bounds = [f"{r0[f'bound_{g}']:.3g}" if f"bound_{g}" in r0 else "" for g in ("W", "u")]
      lines.append(f"| {schedule} | {plots.label(r0['arch'])} | {r0['n']} | {r0['k']} | "
                   f"{r0['n_choose_k']} | {r0['method']} | " + " | ".join(cells + bounds) + " |")
  figure = plots.save_figure(fig, workdir, "gradient_vs_n.png")
  if closed_rows:
    lines += closed_form_table(closed_rows, config)
  lines += ["", "## Checks (FCN)", ""] + [v.line() for v in claim_verdicts(rows)]
  for schedule in schedules:
    for arch in models.ARCHS:
      cr = [r for r in closed_rows if (r["k_schedule"], r["arch"]) == (schedule, arch)]
      if len(cr) > 3:
        lines.append(f"- k {schedule}, {plots.label(arch)} closed form, log-log slopes over "
                     "the larger half of n: " + "; ".join(
                         f"∂L/∂{g}: {closed_form_slope(cr, g, 'n'):.2f} against n, "
                         f"{closed_form_slope(cr, g, 'n_choose_k'):.2f} against 1/C(n,k)"
                         for g in ("W", "u")))
  active = [r["hinge_active_fraction"] for r in rows if "hinge_active_fraction" in r]
  if active:
    lines.append(f"- the hinge is active (|h| < 1) on a fraction {min(active):.4f} of inputs "
                 "in the worst exact FCN initialisation (Theorem 12 assumes 1)")
  lines += ["- Monte Carlo estimates cannot resolve values below their standard error; where "
            "the estimate is <= 0 the plot shows its upper limit (estimate + 2 standard errors).",
            "- CNN/LCN at the paper's init start at u = 0, so ∂L/∂W = 0 exactly and "
            "‖∂L/∂u‖² = q/(k² 4^k) for every n; at a Gaussian init (closed form) only the "
            "window holding the pattern has a gradient, so at fixed k theirs does not depend on n.",
            "",
            "![gradient against n](gradient_vs_n.png)", ""]
  return plots.write_report(workdir, lines, [figure])


def closed_form_table(closed_rows, config) -> list[str]:
  """The closed form per (k schedule, n): FCN against its bound, CNN = LCN beside it."""
  lines = ["", "## Closed form at any n (docs/spec.md §8)", "",
           f"One Gaussian init for every arch: W entries N(0, 1/fan_in) (n for the FCN, k for "
           f"CNN/LCN), biases N(0, {config['bias_scale']}²), E u² = "
           f"{config['readout_scale']}²/{config['width']}; width {config['width']}.", "",
           "| k schedule | n | k | FCN E‖∂L/∂W‖² | bound W | FCN E‖∂L/∂u‖² | bound u | "
           "CNN/LCN E‖∂L/∂W‖² | CNN/LCN E‖∂L/∂u‖² |", "|---|---|---|---|---|---|---|---|---|"]
  at = {(r["k_schedule"], r["arch"], r["n"]): r for r in closed_rows}
  for schedule, n in sorted({(r["k_schedule"], r["n"]) for r in closed_rows}):
    fcn = next((at[s, a, n] for s, a, m in at if (s, m) == (schedule, n)
                and "bound_W" in at[s, a, m]), None)
    window = next((at[s, a, n] for s, a, m in at if (s, m) == (schedule, n)
                   and "bound_W" not in at[s, a, m]), None)
    cell = lambda r, key: f"{r[key]:.3g}" if r else ""  # noqa: E731
    k = (fcn or window)["k"]
    lines.append(f"| {schedule} | {n} | {k} | {cell(fcn, 'grad_W_sq')} | {cell(fcn, 'bound_W')} "
                 f"| {cell(fcn, 'grad_u_sq')} | {cell(fcn, 'bound_u')} | "
                 f"{cell(window, 'grad_W_sq')} | {cell(window, 'grad_u_sq')} |")
  return lines
