"""The time-to-learn figures: median steps against the learning rate per cell, against n
at the best step, and survival curves at the best step."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from cnnfcn_jax import models, plots, stats
from cnnfcn_jax.experiments.time_to_learn.fits import best_of, censored_bound

OPTIMIZER_STYLES = ("-", "--", ":", "-.")


def panels(table):
  """(series, k) of every panel column: each fixed k, then k = log2 n."""
  columns = [("fixed", k) for k in sorted({key[3] for key in table if key[0] == "fixed"})]
  return columns + ([("log2_n", None)] if any(key[0] == "log2_n" for key in table) else [])


def plot_rate_curves(table, workdir):
  """Median steps against the learning rate: a row of panels per arch, a column per k (and
  k = log2 n), a line per (n, optimiser); the best of each cell starred. Local cells."""
  local = {key: cell for key, cell in table.items() if key[1] == "local"}
  archs = sorted({key[2] for key in local}, key=models.arch_order)
  columns = panels(local)
  fig, axes = plt.subplots(len(archs), len(columns), figsize=(3.6 * len(columns),
                           3.0 * len(archs)), squeeze=False, layout="constrained")
  for row, arch in zip(axes, archs):
    for ax, (series, k) in zip(row, columns):
      keys = sorted((key for key in local if key[0] == series and key[2] == arch
                     and (k is None or key[3] == k)), key=lambda key: key[4])
      colors = plt.cm.viridis(np.linspace(0, 0.9, max(len(keys), 1)))
      plotted = False  # medians that a log axis can show: defined (finite) and above 0
      for key, color in zip(keys, colors):
        cell = local[key]
        optimizers = sorted({o for o, _ in cell["candidates"]})
        for optimizer in optimizers:
          rates = np.array(sorted(r for o, r in cell["candidates"] if o == optimizer))
          medians = np.array([cell["candidates"][optimizer, r]["median"][0] for r in rates])
          shown = np.isfinite(medians) & (medians > 0)
          style = OPTIMIZER_STYLES[optimizers.index(optimizer) % len(OPTIMIZER_STYLES)]
          label = f"n = {key[4]}" + (f", {optimizer}" if len(optimizers) > 1 else "")
          ax.plot(rates[shown], medians[shown], style, marker=".", color=color, label=label)
          plotted |= bool(shown.any())
        best = cell["best"]
        median = cell["candidates"][best]["median"][0]
        if np.isfinite(median) and median > 0:
          ax.plot(best[1], median, "*", ms=11, color=color, markeredgecolor="k")
      if plotted:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
      ax.set_title(f"{plots.label(arch)}, " + (f"k = {k}" if k is not None else "k = log2 n"),
                   fontsize=9)
      ax.grid(alpha=0.3)
      if keys:
        ax.legend(fontsize=5)
    row[0].set_ylabel("median steps (★ best)")
  for ax in axes[-1]:
    ax.set_xlabel("learning rate")
  return plots.save_figure(fig, workdir, "steps_vs_rate.png")


def plot_medians(table, alphas, workdir, leap=True):
  """Best median steps (held out: best_of) against n (log-log), one panel per fixed k and one for
  k = log2 n, with the tuned power-law fit (and, for the FCN on a k-parity: `leap`, the leap
  prediction's slope); past a k = log2 n series' last median, where
  every rate stayed below half its seeds, an upward triangle at the budget the median lies
  above."""
  columns = panels(table)
  fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.8), squeeze=False,
                           layout="constrained")
  archs = sorted({key[2] for key in table}, key=models.arch_order)
  for ax, (series, k) in zip(axes[0], columns):
    for locality, style in (("local", "-"), ("nonlocal", ":")):
      for arch in archs:
        keys = sorted((key for key in table if key[0] == series and key[1] == locality
                       and key[2] == arch and (k is None or key[3] == k)), key=lambda x: x[4])
        points = [(key[4], best_of(table[key])["median"]) for key in keys]
        points = [(n, m) for n, m in points if np.isfinite(m[0]) and m[0] > 0]
        if not points:
          continue
        ns = np.array([n for n, _ in points], float)
        med = np.array([m[0] for _, m in points])
        low = np.array([m[1] for _, m in points])
        high = np.array([min(m[2], 10 * m[0]) for _, m in points])
        label = plots.label(arch) + ("" if locality == "local" else " nonlocal")
        ax.errorbar(ns, med, yerr=[med - low, high - med], fmt="o", ls=style, capsize=2,
                    color=plots.color(arch), label=label)
        bound = censored_bound(table, locality, arch) if series == "log2_n" else None
        if bound:
          ax.plot([bound[0], bound[1]], [med[-1], bound[3]], ls=":", marker="^",
                  markevery=[1], color=plots.color(arch),
                  label=f"{label}: median above (censored)")
        if leap and series == "fixed" and arch == "fcn" and locality == "local":
          ends = ns[[0, -1]]  # the leap prediction n^max(k - 1, 1), through the first median
          ax.plot(ends, med[0] * (ends / ends[0]) ** max(k - 1, 1), ":", lw=1, color="grey",
                  label=f"n^{max(k - 1, 1)} (leap)")
        fit = alphas.get((locality, arch, k)) if series == "fixed" else None
        used = [(n, m[0]) for n, m in points if fit and n in fit[3]]
        if len(used) >= 2:
          log_c = stats.fit_power_law(*zip(*used))[1]
          grid = np.array([min(fit[3]), max(fit[3])], float)
          ax.plot(grid, np.exp(log_c) * grid**fit[0], "--", lw=1, color=plots.color(arch))
    if ax.has_data():
      ax.set_xscale("log", base=2)
      ax.set_yscale("log")
    ax.set_xlabel("input size n")
    ax.set_title(f"k = {k}" if k is not None else "k = log2 n")
    ax.grid(alpha=0.3)
  axes[0][0].set_ylabel("median steps at the best rate (95% interval)")
  axes[0][-1].legend(fontsize=7)
  return plots.save_figure(fig, workdir, "median_steps_vs_n.png")


def plot_survival(table, workdir):
  """Fraction of seeds not yet successful against steps at each cell's best step (its
  reporting seeds), local cells of the fixed-k series at the largest k, a few n per
  architecture: Kaplan-Meier curves (a seed censored at its stop leaves the count there),
  each ending at the last step any seed was followed to."""
  fixed = {key: cell for key, cell in table.items() if key[:2] == ("fixed", "local")}
  archs = sorted({key[2] for key in fixed}, key=models.arch_order)
  if not archs:
    return None
  fig, axes = plt.subplots(1, len(archs), figsize=(4.2 * len(archs), 3.6), squeeze=False,
                           sharey=True, layout="constrained")
  for ax, arch in zip(axes[0], archs):
    k = max(key[3] for key in fixed if key[2] == arch)
    ns = sorted(key[4] for key in fixed if key[2] == arch and key[3] == k)
    for n in sorted({ns[0], ns[len(ns) // 2], ns[-1]}):
      best = best_of(fixed["fixed", "local", arch, k, n])
      steps, surviving = stats.survival_curve(best["times"], best["followed"])
      ax.step(np.maximum(steps, 1), surviving, where="post", label=f"n = {n}")
    ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_title(f"{plots.label(arch)}, k = {k} (best step)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  axes[0][0].set_ylabel("fraction of seeds not yet successful")
  return plots.save_figure(fig, workdir, "survival.png")
