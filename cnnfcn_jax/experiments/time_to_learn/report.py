"""The time-to-learn report: per cell the best (optimiser, rate) (table.py), tuned and
fixed-step exponents and what else the claims read (fits.py), the claims (claims.py),
tables and figures (plots.py) (docs/spec.md §9).

The best of a cell is its lowest median steps to success over every (optimiser, rate) on the
cell's selection seeds (stats.best_candidate: ties to the lower third quartile, then the
lower mean of the times capped at the fewest steps any of its rates reached), and its time
is measured on the other seeds (halves). A best rate at either end of its optimiser's grid
means the grid does not bracket the optimum; a rate the stages dropped at budget B with
fewer than half its seeds done has a median above B, which matters where the cell's best
median is above B (or censored): the report names such cells, and a claim resting on one is
not called established.
"""

from __future__ import annotations

import numpy as np

from cnnfcn_jax import models, plots
from cnnfcn_jax.experiments.time_to_learn import fits
from cnnfcn_jax.experiments.time_to_learn import plots as ttl_plots
from cnnfcn_jax.experiments.time_to_learn.claims import (claim_verdicts, curvature_text, facts,
                                                         fmt_alpha, slope_text)
from cnnfcn_jax.experiments.time_to_learn.table import cell_table
from cnnfcn_jax.experiments.time_to_learn.fits import best_of, censored_bound

SERIES = ("fixed", "log2_n")
LEAP_TEXT = (
    "Leap prediction: for online SGD on a k-parity (a function of leap k), Abbe, "
    "Boix-Adserà and Misiakiewicz (2023) predict about n^max(k − 1, 1) steps for a "
    "two-layer fully-connected network, up to logarithmic factors, as n grows; the figure "
    "draws that slope through the FCN's smallest n. The FCN's held-out α is a local slope "
    "over the n measured here (8 to 64). A gap between them (at k = 3 and 4 here) can "
    "come from what the asymptotic statement leaves out (the plateau before the leap, "
    "constants, logarithms) or from this setting's differences from the theorem's (width, "
    "tuned SGD or Adam, hinge loss, biased init); at n ≤ 64 the data cannot tell which, so "
    "it neither confirms nor contradicts the prediction. The shape they share, an "
    "exponent that grows by about one per unit of k, is what the growth verdict tests.")
STOP_TEXT = dict(best_rate="once every seed of some rate has succeeded (and, in the fixed-k "
                 "series, the fixed step has a median)",
                 all="once every network has succeeded")


def leap_exponent(k: int) -> int:
  """The exponent of n in the leap-complexity prediction for a k-parity: max(k - 1, 1)."""
  return max(k - 1, 1)


def exponents(table, tuned=True, heldout=True) -> dict:
  """{(locality, arch, k): (α, low, high, ns used, draws) or None} over the fixed-k series
  (fits.fit: the slope through the cells' medians, its interval from their draws).

  tuned and heldout: each cell's best (optimiser, rate) chosen on its selection seeds and
  measured on its reporting seeds (best_of), both re-drawn in every resample; tuned alone:
  the best of every seed measured on the same seeds (the lowest median, re-selected in
  every resample); else from the fixed step alone on every seed. Cells whose median is
  undefined (more than half the seeds censored) are left out; None below two cells.
  """
  kind = ("heldout" if heldout else "same_seed") if tuned else "fixed"
  result = {}
  fixed = {key: cell for key, cell in table.items() if key[0] == "fixed"}
  for locality, arch, k in sorted({key[1:4] for key in fixed}):
    keys = sorted((key for key in fixed if key[1:4] == (locality, arch, k)),
                  key=lambda key: key[4])
    used = [key for key in keys if (kind != "fixed" or fixed[key]["fixed"])
            and np.isfinite(fits.point_median(fixed[key], kind))]
    fit = fits.fit([key[4] for key in used], [fixed[key] for key in used], kind) \
        if len(used) >= 2 else None
    result[locality, arch, k] = (*fit[:3], [key[4] for key in used], fit[3]) if fit else None
  return result


# ----------------------------------------------------------------------------- report


def steps_text(stat) -> str:
  value, low, high = stat
  if not np.isfinite(value):
    return "—"
  return f"{value:.0f} [{low:.0f}, {'∞' if not np.isfinite(high) else f'{high:.0f}'}]"


def ert_text(s) -> str:
  """ERT [95%] of a candidate's seeds (fits.ert); with no success, the steps they spent,
  which the ERT lies above."""
  ert = fits.ert(s)
  if np.isfinite(ert[0]):
    return steps_text(ert)
  return f"∞ (no success in {s['capped'].sum():.3g} steps)"


def candidate_text(candidate) -> str:
  return f"{candidate[0]} {candidate[1]:g}"


def saving_text(cell) -> str:
  spent, full = cell["network_steps"], cell["full_grid_steps"]
  return f"{spent:.3g} ({full:.3g}, {full / max(spent, 1):.1f}x)"


def log2_lines(table) -> list[str]:
  """The k = log2 n series: segment slopes between consecutive measured medians."""
  archs = sorted({key[1:3] for key in table if key[0] == "log2_n"},
                 key=lambda a: (a[0], models.arch_order(a[1])))
  if not archs:
    return []
  lines = ["", "## k = log2 n: log-log slopes between consecutive medians", "",
           "Each segment's slope between held-out medians, with its 95% bootstrap interval "
           "over seeds (both halves re-drawn and each cell's best re-selected in every "
           "resample; widened to contain the estimate). Past the last "
           "measured median, where every rate stayed below half its seeds (Wilson) up to the "
           "budget it reached, the slope's lower bound from that budget and the previous "
           "median's upper end. Curvature κ: the quadratic coefficient of log2 median on "
           "log2 n over the measured medians (half the slope's change per doubling of n; 0 "
           "for any power of n), its interval from the same draws.", "",
           "| locality | arch | segments n1→n2: slope [95%] | curvature κ [95%] |",
           "|---|---|---|---|"]
  for locality, arch in archs:
    texts = list(map(slope_text, fits.segment_slopes(table, locality, arch))) or [
        "— (< 2 medians)"]
    bound = censored_bound(table, locality, arch)
    if bound:
      texts.append(f"{bound[0]}→{bound[1]}: ≥ {bound[2]:.2f} (censored: every rate's median "
                   f"above {bound[3]} steps)")
    kappa = fits.curvature(table, locality, arch)
    lines.append(f"| {locality} | {plots.label(arch)} | {'; '.join(texts)} | "
                 f"{curvature_text(kappa) if kappa else '— (< 3 medians)'} |")
  return lines


def selection_line(heldout, same_seed) -> str:
  """How much choosing the best on other seeds moved the exponents (the largest move)."""
  moves = [(abs(fit[0] - same_seed[key][0]), key) for key, fit in heldout.items()
           if fit and same_seed.get(key)]
  if not moves:
    return "\nHeld out against same seeds: no exponent measured both ways."
  move, key = max(moves)
  return (f"\nHeld out against same seeds: selection moved α by at most {move:.2f} "
          f"({key[0]} {plots.label(key[1])} k = {key[2]}: held out "
          f"{fmt_alpha(heldout[key])}, same seeds {fmt_alpha(same_seed[key])}).")


def schedule_of(rows, config):
  """The checks a recorded step was read from (online.check_schedule to the largest stop)."""
  from cnnfcn_jax import online  # jax: imported where used
  return online.check_schedule(max(r["stopped_at"] for r in rows), config["eval_every"],
                               config["eval_growth"], config["every_step_until"])


def report(rows, config, workdir) -> list[str]:
  own = plots.own_task_line(config)  # a task of one's own: no parity's literature, no claim
  table = cell_table(rows, schedule_of(rows, config))
  tuned, same_seed = exponents(table), exponents(table, heldout=False)
  fixed = exponents(table, tuned=False)
  figures = [ttl_plots.plot_rate_curves(table, workdir),
             ttl_plots.plot_medians(table, tuned, workdir, leap=not own)]
  survival = ttl_plots.plot_survival(table, workdir)
  figures += [survival] if survival else []
  grids = "; ".join(f"{plots.label(a)} " + ", ".join(
      f"{o} {', '.join(f'{r:g}' for r in rates)}" for o, rates in config[a]["rates"].items())
      + f" (fixed step: {config[a]['optimizer']} {config[a]['learning_rate']:g})"
      for a in config["archs"])
  lines = ["# Time to learn: steps to success against n, each network at its best step", "",
           f"Protocol {config['protocol']}: the hinge loss, batch {config['batch_size']}, "
           f"{len(config['seeds'])} seeds per (cell, optimiser, rate); success = accuracy >= "
           f"{config['success_accuracy']} on {config['num_eval']} fresh evaluation samples per "
           f"seed, checked at every step up to {config['every_step_until']}, then every "
           f"{config['eval_every']} steps and then at gaps of "
           f"{config['eval_growth'] - 1:.0%} of the step; a call (one cell and optimiser, all "
           f"its rates) stops {STOP_TEXT[config['stop']]}, "
           f"or at {config['num_steps']} steps; where a cell has a larger final budget, the "
           f"ceil(R / {config['halving_eta']:g}) rates with the most successes continue from "
           f"their state to {config['halving_eta']:g}x the budget, and so on (successive "
           "halving); networks not successful by the budget their rate reached are censored. "
           f"Rates: {grids}. Held-out selection: in every cell the best (optimiser, rate) is "
           "chosen on the seeds at even positions and its time measured on those at odd "
           "positions (the stages' drops saw every seed). Medians and quartiles are "
           "Kaplan-Meier estimates (each network right-censored at the budget its rate "
           "reached) with distribution-free 95% intervals whose low end counts a success "
           "from one step after the check before the one it was recorded at (∞: the "
           "interval reaches censored networks; —: more than half the seeds may be "
           "censored); success fractions with 95% Wilson intervals; precision "
           f"{config['precision']}.", "",
           "## Exponents (fixed k): median steps ≈ c n^α", "",
           "Held out: each cell's best chosen on one half of its seeds and measured on the "
           "other, both halves re-drawn and the best re-selected in every bootstrap resample. "
           "Same seeds: the best of every seed measured on those seeds (the lowest median, "
           "biased low where rates are close). Fixed step: the config's one step, every "
           "seed.", "",
           "| locality | arch | k | α tuned, held out [95%] | α tuned, same seeds [95%] | "
           "selection moved α by | α fixed step [95%] | n used (held out) | leap "
           "prediction |",
           "|---|---|---|---|---|---|---|---|---|"]
  none = "— (< 2 medians)"
  for key, fit in tuned.items():
    same, other = same_seed.get(key), fixed.get(key)
    moved = f"{fit[0] - same[0]:+.2f}" if fit and same else "—"
    lines.append(f"| {key[0]} | {plots.label(key[1])} | {key[2]} | "
                 f"{fmt_alpha(fit) if fit else none} | {fmt_alpha(same) if same else none} | "
                 f"{moved} | {fmt_alpha(other) if other else none} | "
                 f"{', '.join(map(str, fit[3])) if fit else ''} | "
                 f"{leap_exponent(key[2]) if key[1] == 'fcn' and not own else ''} |")
  lines += [selection_line(tuned, same_seed)] + ([] if own else ["", LEAP_TEXT])
  lines += log2_lines(table)
  edges = [key for key, cell in table.items() if cell["edge"]]
  dropped = [key for key, cell in table.items() if cell["might_be_faster"]]
  lines += ["", "## The claims, measured on the tuned times", ""]
  lines += [own] if own else [v.line() for v in claim_verdicts(table, tuned)]
  shown = [] if own else facts(table)
  if shown:
    lines += ["", "Shown, not counted (true by construction at this budget):", ""] + shown
  lines += ["", "Cells whose best rate is at an end of its grid (the grid does not bracket "
            "the optimum): " + ("; ".join(f"{k[0]} {k[1]} {plots.label(k[2])} k = {k[3]} n = "
                                          f"{k[4]} ({candidate_text(table[k]['best'])})"
                                          for k in sorted(edges)) or "none") + ".", "",
            "Cells where a rate dropped by the stages might have been faster (fewer than half "
            "its seeds done at its drop, below the cell's best median): " + ("; ".join(
                f"{k[0]} {k[1]} {plots.label(k[2])} k = {k[3]} n = {k[4]} (" + ", ".join(
                    f"{candidate_text(c)} at {table[k]['candidates'][c]['reached']}"
                    for c in table[k]["might_be_faster"]) + ")" for k in sorted(dropped))
                or "none") + ".", "",
            "## Every cell: the best step and the fixed step", "",
            "Best step: chosen on the selection seeds; its successes, median and quartiles "
            "on the reporting seeds. Same seeds: the best of every seed and its median and "
            "ERT on "
            "them. Budget: the steps the best rate reached (the stop, or its last stage). "
            "Network-steps: what the cell's calls trained, against every rate to the final "
            "budget (the saving of the stops and stages). ERT: the expected steps to a "
            "success with restarts (Auger and Hansen: every step the best rate's reporting "
            "seeds trained, a pending one to its stop, over their successes; ∞ with none), "
            "with a 95% bootstrap interval over those seeds, defined where the median is "
            "censored too. Seconds: the cell's compile and run time.", "",
            "| series | locality | arch | k | n | width | best step (held out) | succeeded "
            "[95%] | median [95%] | quartiles | ERT [95%] | same seeds: best, median [95%]; ERT | "
            "budget | "
            "fixed step: succeeded, median [95%] | network-steps (full grid, saving) | "
            "networks x steps / s | seconds |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
  order = lambda key: (SERIES.index(key[0]), key[1], models.arch_order(key[2]),  # noqa: E731
                       key[3], key[4])
  for key in sorted(table, key=order):
    cell = table[key]
    s = best_of(cell)
    same = cell["candidates"][cell["same_seed"]]
    f = cell["candidates"][cell["fixed"]] if cell["fixed"] else None
    quartiles = ", ".join(f"{v[0]:.0f}" if np.isfinite(v[0]) else "—" for v in (s["q1"], s["q3"]))
    fixed_text = f"{f['successes']}/{f['seeds']}, {steps_text(f['median'])}" if f else "—"
    lines.append(f"| {key[0]} | {key[1]} | {plots.label(key[2])} | {key[3]} | {key[4]} | "
                 f"{s['width']} | {candidate_text(cell['best'])}{' (edge)' if cell['edge'] else ''}"
                 f" | {s['successes']}/{s['seeds']} [{s['wilson'][0]:.2f}, {s['wilson'][1]:.2f}] | "
                 f"{steps_text(s['median'])} | {quartiles} | {ert_text(s)} | "
                 f"{candidate_text(cell['same_seed'])}, "
                 f"{steps_text(same['median'])}; ERT {ert_text(same)} | {s['reached']} | "
                 f"{fixed_text} | {saving_text(cell)} | {s['steps_per_second']:.3g} | "
                 f"{cell['seconds']:.0f} |")
  runs = {key[1:]: cell for key, cell in table.items()}  # a cell in both series ran once
  spent, full = (sum(c[f] for c in runs.values()) for f in ("network_steps", "full_grid_steps"))
  lines += ["", f"All cells: {spent:.3g} network-steps trained, against {full:.3g} for every rate "
            f"of every cell to its final budget ({full / max(spent, 1):.1f}x)."]
  lines += [] if own else [
      "", "Barak et al. (2022) counted online-SGD steps of a width-100 ReLU MLP (batch 32, "
      "step 0.1, hinge loss) until 100% accuracy on 2^13 samples, 25 trials per (n, k), "
      "for n up to about 50 and k <= 4. The FCN here differs in width (128), init (biases "
      f"N(0, 1)), the success threshold ({config['success_accuracy']}) and its checks "
      "(a geometric schedule), and the parity window is the middle one (their parities "
      "are on arbitrary coordinates, the same problem for an FCN)."]
  lines += ["", "![median steps against learning rate](steps_vs_rate.png)", "",
            "![median steps against n](median_steps_vs_n.png)", ""]
  if survival:
    lines += ["![survival curves](survival.png)", ""]
  return plots.write_report(workdir, lines, figures)
