"""The samples_width report: the phase diagram's heatmaps with their 50% contours, the
sample frontier m*(n) with its fits, the tables, the claims and the literature beside them."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from cnnfcn_jax import models, plots
from cnnfcn_jax.experiments import samples_width_stats as stats
from cnnfcn_jax.experiments.samples_width_stats import analysis, claim_verdicts, fmt_beta, fmt_m


def plot_phase(rows, c, found, workdir):
  locality = "local" if any(l == "local" for _, l in found) else next(iter(found))[1]
  archs = [a for a in c["archs"] if (a, locality) in found]
  table = stats.success_table([r for r in rows if r["n"] == c["phase_n"]])
  fig, axes = plt.subplots(1, len(archs), figsize=(4.6 * len(archs), 3.8), squeeze=False,
                           layout="constrained")
  for ax, arch in zip(axes[0], archs):
    qs = sorted({key[3] for key in table if key[:2] == (arch, locality)})
    ms = sorted({key[4] for key in table if key[:2] == (arch, locality)})
    p = np.array([[table[arch, locality, c["phase_n"], q, m][2] for m in ms] for q in qs])
    image = ax.pcolormesh(np.arange(len(ms) + 1) - 0.5, np.arange(len(qs) + 1) - 0.5, p,
                          vmin=0, vmax=1, cmap="viridis")
    if len(ms) > 1 and len(qs) > 1 and p.min() < 0.5 < p.max():
      ax.contour(np.arange(len(ms)), np.arange(len(qs)), p, levels=[0.5], colors="white",
                 linewidths=2)
    for i, q in enumerate(qs):  # m*(q), interpolated in log m, as grid coordinates
      m_star = found[arch, locality]["phase"][q][0]
      if np.isfinite(m_star):
        ax.plot(np.interp(np.log(m_star), np.log(ms), np.arange(len(ms))), i, "w^", ms=5)
    ax.set_xticks(range(len(ms)), [str(m) for m in ms], rotation=60, fontsize=7)
    ax.set_yticks(range(len(qs)), [str(q) for q in qs], fontsize=7)
    ax.set_xlabel("training samples m")
    ax.set_ylabel("width q")
    ax.set_title(f"{plots.label(arch)}, n = {c['phase_n']}, k = {c['k']}, {locality}")
  fig.colorbar(image, ax=axes[0].tolist(), label="P(success); white: 50% contour, △ m*(q)")
  return plots.save_figure(fig, workdir, "phase_diagram.png")


def plot_frontier(c, found, workdir):
  fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
  for (arch, locality), cell in sorted(found.items()):
    top = max(cell["top"].values())  # the largest m run at this arch's frontier
    style = "-" if locality == "local" else ":"
    ns = list(cell["frontier"])
    inside = [n for n in ns if np.isfinite(cell["frontier"][n][0])]
    m = np.array([cell["frontier"][n][0] for n in inside])
    low = np.array([cell["frontier"][n][1] for n in inside])
    high = np.array([min(cell["frontier"][n][2], top * 2) for n in inside])
    fit = cell["fit"]
    label = f"{plots.label(arch)} (q = {cell['width']}, {locality})"
    if fit["beta"] is not None:
      label += f": β = {fmt_beta(fit)}"
      grid_n = np.geomspace(min(fit["ns"]), max(fit["ns"]), 20)
      ax.plot(grid_n, np.exp(fit["log_c"]) * grid_n**fit["beta"], style, lw=1,
              color=plots.color(arch))
    ax.errorbar(inside, m, yerr=[m - low, high - m], fmt="o", capsize=3,
                color=plots.color(arch), label=label, mfc="none" if style == ":" else None)
    beyond = [n for n in ns if n not in inside]
    if beyond:  # ▲ just above the arch's largest m: beyond the grid there, not dropped
      ax.plot(beyond, [top * 1.4] * len(beyond), "^", color=plots.color(arch), ms=9,
              label=f"{plots.label(arch)}: beyond the grid (> {top})")
  ax.set_xscale("log", base=2)
  ax.set_yscale("log", base=2)
  ax.set_xlabel("input size n")
  ax.set_ylabel("m* (P(success) = 1/2), 95% bootstrap")
  ax.set_title(f"sample frontier, k = {c['k']}")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return plots.save_figure(fig, workdir, "frontier.png")


def report(rows, config, workdir) -> list[str]:
  c, k = config, config["k"]
  found = analysis(rows, c)
  figures = [plot_phase(rows, c, found, workdir), plot_frontier(c, found, workdir)]
  table = stats.success_table(rows)
  num_seeds = len({r["seed"] for r in rows})
  lines = ["# Samples, width and luck", "",
           f"Parity of k = {k} consecutive bits (and twin where run); full-batch training "
           f"on m samples; success = test accuracy >= {c['success_accuracy']} on "
           f"{c['num_test']} fresh samples; {num_seeds} seeds per point, 95% Wilson "
           "intervals; m* = smallest m with P(success) >= 1/2, interpolated in log m, with "
           f"a 95% percentile bootstrap over seeds ({c['bootstrap_resamples']} resamples).",
           "", "| arch | steps | optimiser, step | init |", "|---|---|---|---|"]
  lines += [f"| {plots.label(a)} | {c[a]['num_steps']} | {c[a]['optimizer']} "
            f"{c[a]['learning_rate']:g} (first layer: {c[a]['first_layer_step']}) | "
            f"{c[a]['init']} |" for a in c["archs"]]
  for (arch, locality), cell in sorted(found.items()):
    qs, ms = sorted(cell["phase"]), [int(m) for m in cell["grid"]]
    lines += ["", f"## {plots.label(arch)}, {locality}: phase diagram at n = {c['phase_n']}",
              "", "| q | m*(q) | " + " | ".join(f"m={m}" for m in ms) + " |",
              "|---|---|" + "---|" * len(ms)]
    for q in qs:
      cells = [table.get((arch, locality, c["phase_n"], q, m)) for m in ms]
      lines.append(f"| {q} | {fmt_m(*cell['phase'][q], top=ms[-1])} | " + " | ".join(
          f"{t[2]:.2f} [{t[3]:.2f}, {t[4]:.2f}]" if t else "" for t in cells) + " |")
  lines += ["", "## Sample frontier m*(n) at a fixed width", "",
            "| arch | locality | q | β [95%] | " + " | ".join(
                f"n={n}" for n in sorted({n for v in found.values() for n in v["frontier"]}))
            + " |"]
  all_ns = sorted({n for v in found.values() for n in v["frontier"]})
  lines.append("|---|---|---|---|" + "---|" * len(all_ns))
  for (arch, locality), cell in sorted(found.items()):
    lines.append(f"| {plots.label(arch)} | {locality} | {cell['width']} | "
                 f"{fmt_beta(cell['fit'])} | " + " | ".join(
                     fmt_m(*cell["frontier"][n], top=cell["top"][n])
                     if n in cell["frontier"] else "" for n in all_ns) + " |")
  lines += ["", "Log-log slope of m* between consecutive n (where both are inside the grid): "
            + "; ".join(f"{plots.label(a)} {l}: " + ", ".join(
                f"{n0}→{n1} {math.log(v[n1][0] / v[n0][0]) / math.log(n1 / n0):.2f}"
                for n0, n1 in zip(list(v), list(v)[1:])
                if np.isfinite(v[n0][0]) and np.isfinite(v[n1][0]))
                for (a, l), v in ((key, cell["frontier"]) for key, cell in sorted(found.items())))
            + "."]
  lines += ["", "## The claims, measured (local task)", ""]
  lines += [v.line() for v in claim_verdicts(rows, c)] if any(
      r["locality"] == "local" for r in rows) else ["(no local rows)"]
  lines += comparisons(c, found)
  lines += ["", "![phase diagram](phase_diagram.png)", "", "![frontier](frontier.png)", ""]
  return plots.write_report(workdir, lines, figures)


def comparisons(c, found) -> list[str]:
  """Corollary 5's sample bound beside the measured m*, and Edelman et al. 2023."""
  lines = ["", "## Beside the literature", ""]
  windowed = [(a, l) for a, l in found if l == "local" and models.ARCHITECTURES[a].windowed]
  for arch, locality in windowed[:1]:
    cell = found[arch, locality]
    inside = [n for n, v in cell["frontier"].items() if np.isfinite(v[0])]
    if inside:
      n = max(inside)
      epsilon = 1 - c["success_accuracy"]
      bound = stats.corollary5_sample_bound(arch, n, c["k"], cell["width"], epsilon, 0.5)
      lines.append(
          f"- Corollary 5 at n = {n}: with the VC dimension N log2 N of the {plots.label(arch)}'s "
          f"N = {stats.num_weights(arch, n, c['k'], cell['width'])} weights, error ε = "
          f"{epsilon:.2g} and δ = 1/2, the uniform-convergence sample size (N log2 N + "
          f"log(1/δ))/ε² with every constant 1 (the paper's constants did not survive) is "
          f"{bound:.3g}, {bound / cell['frontier'][n][0]:.3g} times the measured m* = "
          f"{cell['frontier'][n][0]:.0f}.")
  fcn = [(a, l) for a, l in found if l == "local" and not models.ARCHITECTURES[a].windowed]
  measured = ""
  for arch, locality in fcn[:1]:
    phase = found[arch, locality]["phase"]
    measured = " The FCN's m* at n = {}: {}.".format(c["phase_n"], "; ".join(
        f"q = {q}: {fmt_m(*phase[q][:3], top=max(found[arch, locality]['grid']))}"
        for q in sorted(phase)))
  lines.append(
      "- Edelman et al. (2023) trained MLPs alone on sparse parities (SGD, about 50 separate "
      "runs per point) and found that width buys sample efficiency. Here the FCN trains full "
      "batch with Adam on the k-pattern, which its permutation-invariant init cannot tell "
      "from a sparse parity, every seed x width in one call, beside CNN and LCN on the same "
      "samples." + measured)
  return lines
