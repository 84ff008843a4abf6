"""The samples_width report: the phase diagram's heatmaps with their 50% contours, the
sample frontier m*(n) with its fits, the width series m*(q), the tables, the claims and
the literature beside them."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from cnnfcn_jax import models, plots
from cnnfcn_jax.experiments.samples_width import RESOLVED, claims
from cnnfcn_jax.experiments.samples_width.claims import claim_verdicts
from cnnfcn_jax.experiments.samples_width import series as series_module
from cnnfcn_jax.experiments.samples_width import stats
from cnnfcn_jax.experiments.samples_width.stats import (BELOW, BEYOND, fmt_beta, fmt_fit_ns,
                                                        fmt_m)


def plot_phase(rows, c, found, workdir):
  locality = "local" if any(l == "local" for _, l in found) else next(iter(found))[1]
  archs = [a for a in c["archs"] if (a, locality) in found]
  table = stats.success_table(stats.phase_rows(rows, c), intervals=False)
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
      front = found[arch, locality]["phase"][q]
      if front.inside:
        ax.plot(np.interp(np.log(front.m_star), np.log(ms), np.arange(len(ms))), i, "w^",
                ms=5)
    ax.set_xticks(range(len(ms)), [str(m) for m in ms], rotation=60, fontsize=7)
    ax.set_yticks(range(len(qs)), [str(q) for q in qs], fontsize=7)
    ax.set_xlabel("training samples m")
    ax.set_ylabel("width q")
    ax.set_title(f"{plots.label(arch)}, n = {c['phase_n']}, k = {c['k']}, {locality}")
  fig.colorbar(image, ax=axes[0].tolist(), label="P(success); white: 50% contour, △ m*(q)")
  return plots.save_figure(fig, workdir, "phase_diagram.png")


def draw_frontiers(ax, xs, fronts, color, label, style="o", hollow=False, shift=1.0):
  """m* with its interval where inside; bounds as open triangles at the bound, ▽ for
  '≤ m', △ for '> m' (not points: only one side is known); drawn at x * shift."""
  inside = [x for x in xs if fronts[x].inside]
  m = np.array([fronts[x].m_star for x in inside])
  low = np.array([fronts[x].low for x in inside])
  top = max([f.m_hi if f.kind != BEYOND else f.m_lo for f in fronts.values()] or [1])
  high = np.array([min(fronts[x].high, 4 * top) for x in inside])
  if inside:
    ax.errorbar(np.array(inside) * shift, m, yerr=[m - low, high - m], fmt=style, capsize=3,
                color=color, label=label, mfc="none" if hollow else None)
  for kind, marker, words in ((BELOW, "v", "≤"), (BEYOND, "^", ">")):
    bounds = [x for x in xs if fronts[x].kind == kind]
    if bounds:
      ax.plot(np.array(bounds) * shift,
              [fronts[x].m_hi if kind == BELOW else fronts[x].m_lo for x in bounds],
              marker, mfc="none", color=color, ms=9, label=f"{label.split(' (')[0]}: m* {words} "
              "the measured m (a bound)")


def plot_frontier(c, found, workdir):
  fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
  for (arch, locality), cell in sorted(found.items()):
    style = "-" if locality == "local" else ":"
    fit = cell["fit"]
    label = f"{plots.label(arch)} (q = {cell['width']}, {locality})"
    if fit["beta"] is not None:
      label += f": β = {fmt_beta(fit)}"
      grid_n = np.geomspace(min(fit["ns"]), max(fit["ns"]), 20)
      ax.plot(grid_n, np.exp(fit["log_c"]) * grid_n**fit["beta"], style, lw=1,
              color=plots.color(arch))
    draw_frontiers(ax, list(cell["frontier"]), cell["frontier"], plots.color(arch), label,
                   hollow=style == ":")
  return save_m_star_axes(fig, ax, "input size n", f"sample frontier, k = {c['k']}",
                           workdir, "frontier.png")


def plot_series(c, found, workdir):
  fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
  markers = dict(zip(series_module.ARMS, "osD"))
  for (arch, locality), cell in sorted(found.items()):
    for arm, part in cell["series"].items():
      draw_frontiers(ax, sorted(part["fronts"]), part["fronts"], plots.color(arch),
                     f"{plots.label(arch)} {arm} ({locality}): γ = {fmt_beta(part['fit'])}",
                     style=markers[arm], hollow=arm != "standard",
                     shift=1.06 ** series_module.ARMS.index(arm))  # arms side by side
  return save_m_star_axes(fig, ax, "width q", f"sample frontier against width, each at its "
                           f"held-out rate, n = {c['phase_n']}, k = {c['k']}", workdir,
                           "width_series.png")


def save_m_star_axes(fig, ax, xlabel, title, workdir, name):
  """The m* figures' log2-log2 axes, labels and legend; the figure saved as `name`."""
  ax.set_xscale("log", base=2)
  ax.set_yscale("log", base=2)
  ax.set_xlabel(xlabel)
  ax.set_ylabel("m* (P(success) = 1/2), 95% interval")
  ax.set_title(title)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return plots.save_figure(fig, workdir, name)


def report(rows, config, workdir) -> list[str]:
  c, k = config, config["k"]
  found = series_module.analysis(rows, c)
  series = any(cell["series"] for cell in found.values())
  figures = [plot_phase(rows, c, found, workdir), plot_frontier(c, found, workdir)]
  figures += [plot_series(c, found, workdir)] if series else []
  table = stats.success_table(stats.phase_rows(rows, c))
  num_seeds = len(c["seeds"])
  lines = ["# Samples, width and luck", "",
           f"Parity of k = {k} consecutive bits (and twin where run); full-batch training "
           f"on m samples; success = test accuracy >= {c['success_accuracy']} on "
           f"{c['num_test']} fresh samples; {num_seeds} seeds per point, 95% Wilson "
           "intervals; m* = smallest m with P(success) >= 1/2, interpolated in log m between "
           "the measured m around the first crossing (the bracket). The frontier and the "
           "width series refine the bracket by geometric midpoints toward a ratio of at most "
           f"{c['frontier_bracket_ratio']:g} (or P within [0.2, 0.8] on both sides), with at "
           f"most {c['frontier_max_refinements']} midpoints a frontier search and "
           f"{c['series_max_refinements']} a width-series search at its reporting stage "
           "(what each search did: below). m*'s 95% interval is the hull "
           f"of a percentile bootstrap over seeds ({c['bootstrap_resamples']} resamples) and "
           "the bracket; '≤ m' and '> m' are bounds (P >= 1/2 at the smallest measured m, or "
           "below 1/2 at every one) and enter no fit.",
           "", "| arch | steps | optimiser, step | init |", "|---|---|---|---|"]
  lines += [f"| {plots.label(a)} | {c[a]['num_steps']} | {c[a]['optimizer']} "
            f"{c[a]['learning_rate']:g} (first layer: {c[a].get('first_layer_step', 'same')}) "
            f"| {c[a].get('init') or c[a]['network'] + ' (its own)'} |" for a in c["archs"]]
  for (arch, locality), cell in sorted(found.items()):
    qs, ms = sorted(cell["phase"]), cell["grid"]
    lines += ["", f"## {plots.label(arch)}, {locality}: phase diagram at n = {c['phase_n']}",
              "", "m*(q) on the grid alone (its interval at least the grid's bracket).", "",
              "| q | m*(q) | " + " | ".join(f"m={m}" for m in ms) + " |",
              "|---|---|" + "---|" * len(ms)]
    for q in qs:
      cells = [table.get((arch, locality, c["phase_n"], q, m)) for m in ms]
      lines.append(f"| {q} | {fmt_m(cell['phase'][q])} | " + " | ".join(map(fmt_cell, cells))
                   + " |")
    lines += tuned_phase_table(rows, c, arch, locality, cell, ms)
  all_ns = sorted({n for v in found.values() for n in v["frontier"]})
  lines += ["", "## Sample frontier m*(n) at a fixed width", "",
            "| arch | locality | q | β [95%] | " + " | ".join(f"n={n}" for n in all_ns) + " |",
            "|---|---|---|---|" + "---|" * len(all_ns)]
  for (arch, locality), cell in sorted(found.items()):
    lines.append(f"| {plots.label(arch)} | {locality} | {cell['width']} | "
                 f"{fmt_beta(cell['fit'])} | " + " | ".join(
                     fmt_m(cell["frontier"][n], bracket=True) if n in cell["frontier"] else ""
                     for n in all_ns) + " |")
  lines.append("")
  for (arch, locality), cell in sorted(found.items()):
    fit = cell["fit"]
    lines.append(f"β of {plots.label(arch)} ({locality}): {fmt_fit_ns(fit, cell['frontier'])}"
                 + ("; β undefined." if fit["beta"] is None else
                    "; its interval is the hull of the bootstrap's [{}, {}] and the slopes "
                    "over the brackets [{}, {}].".format(*map(stats.fmt_slope, (
                        *fit["boot"], *fit["corners"])))))
  slopes = []
  for (arch, locality), cell in sorted(found.items()):
    v = cell["frontier"]
    pairs = [f"{n0}→{n1} {math.log(v[n1].m_star / v[n0].m_star) / math.log(n1 / n0):.2f}"
             for n0, n1 in zip(list(v), list(v)[1:]) if v[n0].inside and v[n1].inside]
    slopes += [f"{plots.label(arch)} {locality}: " + ", ".join(pairs)] if pairs else []
  lines += ["", "Log-log slope of m* between consecutive n (where both are inside): "
            + ("; ".join(slopes) or "none") + "."]
  lines += series_tables(c, found) if series else []
  lines += searches_as_run(rows, c, found)
  lines += ["", "## The claims, measured (local task)", ""]
  own = plots.own_task_line(c)  # a task of one's own: no claim, no parity's literature
  lines += [own] if own else [v.line() for v in claim_verdicts(rows, c)] if any(
      r["locality"] == "local" for r in rows) else ["(no local rows)"]
  lines += [] if own else comparisons(c, found)
  lines += ["", "![phase diagram](phase_diagram.png)", "", "![frontier](frontier.png)", ""]
  lines += ["![width series](width_series.png)", ""] if series else []
  return plots.write_report(workdir, lines, figures)


def fmt_cell(t) -> str:
  """A success_table entry as 'P [low, high]' ('' for a cell not run)."""
  return f"{t[2]:.2f} [{t[3]:.2f}, {t[4]:.2f}]" if t else ""


def tuned_phase_table(rows, c, arch, locality, cell, ms) -> list[str]:
  """The tuned phase diagram of arch (series.PHASE): each width >= 2^k at its step chosen
  on the selection seeds, P(success) on the reporting seeds; and the phase claim's family
  at the phase diagram's one step, which the claim no longer reads."""
  mine = [r for r in series_module.tuned_phase_rows(rows, arch) if r["locality"] == locality]
  if not mine:
    return []
  table = stats.success_table(mine, keys=("width", "num_train"))
  steps = {r["width"]: r["learning_rate"] for r in mine}
  _, fixed, _ = claims.phase_family(arch, cell, stats.phase_rows(rows, c), c)
  return ["", f"Tuned: each width >= 2^k at its {c[arch]['optimizer']} step chosen on "
          f"{len(c['series_selection_seeds'])} selection seeds (the smallest m* there), "
          "P(success) on the reporting seeds; the phase claim is judged on these. At the "
          f"one step above, the claim's family: {fixed}.", "",
          "| q | step | " + " | ".join(f"m={m}" for m in ms) + " |",
          "|---|---|" + "---|" * len(ms)] + [
              f"| {q} | {steps[q]:g} | " + " | ".join(fmt_cell(table.get((q, m))) for m in ms)
              + " |" for q in sorted(steps)]


def series_tables(c, found) -> list[str]:
  """Per arm of the width series: m*(q) on the reporting seeds at the held-out rates, and
  the selection seeds' m* at every rate (the choice marked *)."""
  lines = ["", f"## Width series m*(q) at n = {c['phase_n']}", "",
           "Its own calls (all widths x rates of one m in one unit), never pooled with the "
           "phase diagram's networks of the same widths. Each arm first runs every width at "
           f"every rate on {len(c['series_selection_seeds'])} selection seeds (the factor-2 "
           "grid of m, no midpoints) and chooses, per width (one base rate for mup), the rate "
           f"of smallest m*; m*(q) is then measured at that rate on the {len(c['seeds'])} "
           "reporting seeds alone."]
  for (arch, locality), cell in sorted(found.items()):
    for arm, part in cell["series"].items():
      rates = sorted({r for _, r in part["selection"]})
      lines += ["", f"### {plots.label(arch)} {locality}, {arm}: "
                f"{claims.arm_words(arm, c)}", "",
                "| q | rate | m*(q) [95%] | bracket | " + " | ".join(
                    f"m* at {r:g} (selection)" for r in rates) + " |",
                "|---|---|---|---|" + "---|" * len(rates)]
      for q, f in sorted(part["fronts"].items()):
        chosen = part["chosen"].get(q)
        lines.append(f"| {q} | {part['used'][q]:g} | {fmt_m(f)} | "
                     + (f"{f.m_lo:.0f}–{f.m_hi:.0f}" if f.inside else "") + " | " + " | ".join(
                         fmt_selection(part["selection"].get((q, r)),
                                       part["measured"][series_module.SELECT])
                         + ("*" if r == chosen else "") for r in rates) + " |")
      lines += ["", f"Measured m: selection {', '.join(map(str, part['measured']['select']))}"
                f"; reporting {', '.join(map(str, part['measured']['report']))}. "
                + edge_note(part, rates)
                + ("" if part["chosen"] == part["used"] else " The reporting rows ran at rates "
                   "other than the selection rows choose now (a run resumed under another "
                   "config): these m* are not a held-out choice.")]
  return lines


def fmt_selection(m_star, measured) -> str:
  """A selection seeds' m*: interpolated, or '> largest m' beyond the grid."""
  if m_star is None:
    return ""
  return f"> {max(measured)}" if not np.isfinite(m_star) else f"{m_star:.0f}"


def edge_note(part, rates) -> str:
  """Which widths chose a rate at the end of the grid (the best may lie beyond it)."""
  edge = sorted(q for q, r in part["chosen"].items() if r in (rates[0], rates[-1]))
  return (f"Chosen at the grid's end (the best rate may lie beyond it): q = "
          f"{', '.join(map(str, edge))}." if edge else "Every chosen rate is inside the grid.")


def searches_as_run(rows, c, found) -> list[str]:
  """What each search did: the midpoints it ran beyond its grid, and the brackets left
  wider than frontier_bracket_ratio (their intervals hold the whole bracket)."""
  ratio = c["frontier_bracket_ratio"]
  lines = ["", "Searches as run (midpoints: m run beyond the search's grid; unresolved: a "
           f"final bracket wider than {ratio:g}, its interval holding the whole bracket):", ""]
  for (arch, locality), cell in sorted(found.items()):
    grid = set(c["frontier_num_trains"])
    mine = [r for r in rows if (r["arch"], r["locality"]) == (arch, locality)]
    front = [r for r in mine if not r.get("series") and r["width"] == cell["width"]]

    def fraction_of(part, key):  # P(success) at (x, m) of rows whose `key` is x
      table = stats.success_table(part, keys=(key, "num_train"), intervals=False)
      return lambda x, m: table[x, int(m)][2]
    searches = [(f"frontier n = {n}", {r["num_train"] for r in front if r["n"] == n}, {n: f},
                 fraction_of(front, "n")) for n, f in cell["frontier"].items()]
    for arm, part in cell["series"].items():
      report = series_module.arm_rows(mine, arm, series_module.REPORT)
      searches.append((f"width series {arm} (reporting seeds)",
                       {r["num_train"] for r in report}, part["fronts"],
                       fraction_of(report, "width")))
    for name, measured, fronts, fractions in searches:
      wide = {x: f for x, f in fronts.items() if f.inside and f.m_hi / f.m_lo > ratio + 1e-9}
      # A wide bracket with P inside RESOLVED on both sides needed no midpoint.
      noisy = [x for x, f in wide.items() if all(
          RESOLVED[0] <= fractions(x, m) <= RESOLVED[1] for m in (f.m_lo, f.m_hi))]
      unresolved = [f"{x} ({f.m_hi / f.m_lo:.2f})" for x, f in wide.items() if x not in noisy]
      lines.append(f"- {plots.label(arch)} {locality}, {name}: {len(measured - grid)} "
                   f"midpoint(s); unresolved: {', '.join(unresolved) or 'none'}"
                   + (f"; wide but P within {RESOLVED} on both sides: "
                      + ", ".join(map(str, noisy)) if noisy else ""))
  return lines


def comparisons(c, found) -> list[str]:
  """Corollary 5's sample bound beside the measured m*, and Edelman et al. 2023."""
  lines = ["", "## Beside the literature", ""]
  windowed = [(a, l) for a, l in found if l == "local" and models.windowed(a)]
  for arch, locality in windowed[:1]:
    cell = found[arch, locality]
    inside = [n for n, f in cell["frontier"].items() if f.inside]
    if inside:
      n = max(inside)
      m_star = cell["frontier"][n].m_star
      epsilon = 1 - c["success_accuracy"]
      bound = stats.corollary5_sample_bound(arch, n, c["k"], cell["width"], epsilon, 0.5)
      lines.append(
          f"- Corollary 5 at n = {n}: with the VC dimension N log2 N of the {plots.label(arch)}'s "
          f"N = {stats.num_weights(arch, n, c['k'], cell['width'])} weights, error ε = "
          f"{epsilon:.2g} and δ = 1/2, the uniform-convergence sample size (N log2 N + "
          f"log(1/δ))/ε² with every constant 1 (the paper's constants did not survive) is "
          f"{bound:.3g}, {bound / m_star:.3g} times the measured m* = {m_star:.0f}.")
  fcn = [(a, l) for a, l in found if l == "local" and models.fully_connected(a)]
  for arch, locality in fcn[:1]:
    cell = found[arch, locality]
    arms = cell["series"]
    widths = sorted({q for part in arms.values() for q in part["fronts"]}) or sorted(
        cell["phase"])
    measured = "; ".join(f"{arm}: γ = {fmt_beta(part['fit'])}" for arm, part in arms.items())
    lines.append(
        "- Edelman et al. (2023) trained MLPs alone on sparse parities (SGD, about 50 separate "
        "runs per point) and found that width buys sample efficiency (width as parallel "
        "search, sparse initialisation, widths far beyond those here). Here the FCN trains "
        "full batch with Adam on the k-pattern, which its permutation-invariant init cannot "
        "tell from a sparse parity"
        + (f", at widths {widths[0]} … {widths[-1]}, each arm's rates chosen on held-out "
           f"seeds ({', '.join(arms)}); the slope of log m* on log q: {measured}. This says "
           "whether m* falls with width at the best rate of each grid, this budget and these "
           f"widths; widths beyond {widths[-1]}, where width as parallel search would show, "
           "are not measured here" + (" (the :paper variant runs them, with a sparse arm)"
                                      if "sparse" not in arms else "") + "."
           if arms else ", at the config's one rate for every width (no width series was "
           "run): Adam's per-parameter steps do not shrink with width, so this cannot test "
           "Edelman et al., which needs each width at its own best step."))
  return lines
