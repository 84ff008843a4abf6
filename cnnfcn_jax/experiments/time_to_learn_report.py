"""The time-to-learn report: per cell the best (optimiser, rate), tuned and fixed-step
exponents, the claims judged on the tuned times, tables and figures (docs/spec.md §9).

The best of a cell is its lowest median steps to success over every (optimiser, rate)
(ties: the lower third quartile, then the lower mean of the times capped at the stop). A
best rate at either end of its optimiser's grid means the grid does not bracket the
optimum: the report names such cells, and a claim resting on one is not called
established.
"""

from __future__ import annotations

import numpy as np

from cnnfcn_jax import models, plots, stats
from cnnfcn_jax.experiments import time_to_learn_plots

SERIES = ("fixed", "log2_n")
CANDIDATE_KEY = ("optimizer", "learning_rate")
CELL_KEY = ("k_schedule", "locality", "arch", "k", "n")
CNN_LCN_SUCCESS = 0.95  # k = log2 n: CNN and LCN succeed on at least this fraction at every n
FCN_STUCK = 0.5  # k = log2 n: the FCN's success fraction at the largest censored n
NONLOCAL_SUCCESS = 0.05  # non-local twin: CNN and LCN succeed on at most this fraction
STOP_TEXT = dict(best_rate="once every seed of some rate has succeeded (and, in the fixed-k "
                 "series, the fixed step has a median)",
                 all="once every network has succeeded")


def times_of(steps_to_success) -> np.ndarray:
  """Rows' steps_to_success values as floats, censored networks (None) as +inf."""
  return np.array([np.inf if t is None else t for t in steps_to_success], float)


def candidate_stats(rows) -> dict:
  """Success fraction and quartiles of one (cell, optimiser, rate), rows in seed order."""
  times = times_of([r["steps_to_success"] for r in rows])
  capped = np.minimum(times, [r["stopped_at"] for r in rows])
  hits = int(np.isfinite(times).sum())
  return dict(seeds=len(times), successes=hits, fraction=hits / len(times),
              wilson=stats.wilson_interval(hits, len(times)),
              median=stats.quantile_with_interval(times, 0.5),
              q1=stats.quantile_with_interval(times, 0.25),
              q3=stats.quantile_with_interval(times, 0.75), times=times, capped=capped,
              steps_per_second=rows[0]["steps_per_second"], width=rows[0]["width"])


def rank(s) -> tuple:
  """The order of candidates, best first: median, third quartile, mean of capped times."""
  return s["median"][0], s["q3"][0], float(np.mean(s["capped"]))


def cell_table(rows) -> dict:
  """{cell key (CELL_KEY): dict(candidates={(optimizer, rate): stats}, best, fixed, edge)}.

  edge: the best rate is the lowest or the highest of its optimiser's grid, so the grid
  does not bracket the optimum.
  """
  grouped = {}
  for r in sorted(rows, key=lambda r: r["seed"]):
    cell = grouped.setdefault(tuple(r[k] for k in CELL_KEY), {})
    cell.setdefault(tuple(r[k] for k in CANDIDATE_KEY), []).append(r)
  table = {}
  for key, by_candidate in grouped.items():
    candidates = {c: candidate_stats(group) for c, group in by_candidate.items()}
    best = min(candidates, key=lambda c: rank(candidates[c]))
    grid = sorted(rate for optimizer, rate in candidates if optimizer == best[0])
    fixed = [c for c, group in by_candidate.items() if group[0]["fixed_step"]]
    table[key] = dict(candidates=candidates, best=best, fixed=fixed[0] if fixed else None,
                      edge=len(grid) > 1 and best[1] in (grid[0], grid[-1]))
  return table


def exponents(table, tuned=True) -> dict:
  """{(locality, arch, k): (α, low, high, ns used) or None} over the fixed-k series.

  tuned: from each cell's best over every (optimiser, rate), re-selected in every
  bootstrap resample; else from the fixed step alone. Cells whose (best) median is
  undefined (more than half the seeds censored) are left out; None below two cells.
  """
  result = {}
  fixed = {key: cell for key, cell in table.items() if key[0] == "fixed"}
  for locality, arch, k in sorted({key[1:4] for key in fixed}):
    used = []
    for key in sorted((key for key in fixed if key[1:4] == (locality, arch, k)),
                      key=lambda key: key[4]):
      cell = fixed[key]
      chosen = list(cell["candidates"]) if tuned else [c for c in [cell["fixed"]] if c]
      # The best of `chosen` has a defined median (the lowest median of the cell when tuned).
      if chosen and np.isfinite(min(cell["candidates"][c]["median"][0] for c in chosen)):
        used.append((key[4], np.stack([cell["candidates"][c]["capped"] for c in chosen], 1)))
    if len(used) < 2:
      result[locality, arch, k] = None
      continue
    fit = stats.exponent_with_interval([n for n, _ in used], [t for _, t in used])
    result[locality, arch, k] = (*fit, [n for n, _ in used])
  return result


# ----------------------------------------------------------------------------- claims


def best_of(cell) -> dict:
  return cell["candidates"][cell["best"]]


def best_fraction(cell) -> float:
  """The highest success fraction over the cell's candidates (by their call's stop)."""
  return max(s["fraction"] for s in cell["candidates"].values())


def established(claim: str, table, keys) -> str:
  """claim, marked not established when a cell it rests on has its best at a grid edge."""
  edges = sorted(f"{key[2]} k = {key[3]} n = {key[4]}" for key in keys if table[key]["edge"])
  return claim + (f" [not established: best rate at its grid's edge at {', '.join(edges)}]"
                  if edges else "")


def fmt_alpha(e) -> str:
  return f"{e[0]:.2f} [{e[1]:.2f}, {e[2]:.2f}]"


def claim_verdicts(table, alphas) -> list[plots.Verdict]:
  """The separation in time, judged on the tuned times (docs/spec.md §9)."""
  result = []
  local_fits = {key: e for key, e in alphas.items() if key[0] == "local" and e}
  for arch in sorted({a for _, a, _ in local_fits}, key=models.ARCHS.index):
    ks = sorted(k for _, a, k in local_fits if a == arch)
    if len(ks) < 2:
      continue
    low, high = local_fits["local", arch, ks[0]], local_fits["local", arch, ks[-1]]
    keys = [key for key in table if key[:3] == ("fixed", "local", arch) and key[3] in
            (ks[0], ks[-1]) and key[4] in low[3] + high[3]]
    what = f"α(k = {ks[0]}) = {fmt_alpha(low)}, α(k = {ks[-1]}) = {fmt_alpha(high)}"
    if models.ARCHITECTURES[arch].windowed:
      result.append(plots.Verdict(established(
          f"{plots.label(arch)}, tuned: the exponent does not grow with k beyond its intervals "
          f"(α(k = {ks[-1]})'s interval reaches down to α(k = {ks[0]})'s)", table, keys),
          high[1] <= low[2], what))
    else:
      result.append(plots.Verdict(established(
          f"{plots.label(arch)}, tuned: the exponent grows with k (α(k = {ks[-1]}) above "
          f"α(k = {ks[0]}), 95% intervals disjoint)", table, keys), high[1] > low[2], what))
  log2 = {key: cell for key, cell in table.items() if key[:2] == ("log2_n", "local")}
  for arch in sorted({key[2] for key in log2}, key=models.ARCHS.index):
    by_n = {key[4]: key for key in log2 if key[2] == arch}
    keys = list(by_n.values())
    if models.ARCHITECTURES[arch].windowed:
      worst = min(by_n, key=lambda n: best_fraction(table[by_n[n]]))
      fraction = best_fraction(table[by_n[worst]])
      result.append(plots.Verdict(established(
          f"{plots.label(arch)}, k = log2 n, tuned: at least {CNN_LCN_SUCCESS:.0%} of seeds "
          "succeed at every n", table, keys), fraction >= CNN_LCN_SUCCESS,
          f"lowest {fraction:.2f} at n = {worst}"))
      continue
    medians = [(n, best_of(table[key])["median"][0]) for n, key in by_n.items()]
    slopes = stats.segment_slopes(medians)
    measured = [key for n, key in by_n.items() if np.isfinite(best_of(table[key])["median"][0])]
    result.append(plots.Verdict(established(
        f"{plots.label(arch)}, k = log2 n, tuned: the median's log-log slope rises from segment "
        "to segment (faster than any power of n)", table, measured),
        len(slopes) >= 2 and all(b > a for a, b in zip(slopes, slopes[1:])),
        "slopes " + (", ".join(f"{s:.2f}" for s in slopes) or "none (< 2 medians)")))
    censored = sorted(n for n, key in by_n.items() if key not in measured)
    if censored and max(censored) > max((key[4] for key in measured), default=0):
      result.append(censored_verdict(table, by_n[max(censored)], measured, slopes))
  result += nonlocal_verdicts(table)
  return result


def censored_verdict(table, key, measured, slopes) -> plots.Verdict:
  """The FCN at an n beyond its last measured median: fewer than half its seeds succeed by
  the budget at every rate, while the last measured segment's power law puts the median
  within the budget; so the time grows faster there than that power (else the censoring
  says nothing)."""
  n, cell = key[4], table[key]
  fraction = best_fraction(cell)
  budget = max(s["capped"].max() for s in cell["candidates"].values())
  claim = (f"{plots.label(key[2])}, k = log2 n, tuned: at n = {n}, where the median stays "
           f"censored, fewer than half the seeds succeed by the budget ({budget:.0f} steps) at "
           "every rate, although the last measured segment's power law puts the median "
           "within it (growth faster than that power)")
  if not slopes:
    return plots.Verdict(claim, False, "fewer than 2 measured medians to extrapolate from")
  last = max(measured, key=lambda key: key[4])
  expected = best_of(table[last])["median"][0] * (n / last[4])**slopes[-1]
  return plots.Verdict(claim, fraction < FCN_STUCK and expected <= budget,
                       f"best success fraction {fraction:.2f}; extrapolated median "
                       f"{expected:.0f} (slope {slopes[-1]:.2f} from n = {last[4]})")


def nonlocal_verdicts(table) -> list[plots.Verdict]:
  result = []
  cells = {key: cell for key, cell in table.items() if key[1] == "nonlocal"}
  for arch in sorted({key[2] for key in cells}, key=models.ARCHS.index):
    mine = {key: cell for key, cell in cells.items() if key[2] == arch}
    if models.ARCHITECTURES[arch].windowed:
      best = max(best_fraction(cell) for cell in mine.values())
      result.append(plots.Verdict(
          f"{plots.label(arch)} nonlocal: at most {NONLOCAL_SUCCESS:.0%} of seeds succeed in "
          "every cell at every rate", best <= NONLOCAL_SUCCESS, f"highest {best:.2f}"))
      continue
    apart = []
    for key, cell in mine.items():
      twin = table.get((key[0], "local") + key[2:])
      a, b = best_of(cell)["median"], best_of(twin)["median"] if twin else (np.inf,) * 3
      if np.isfinite(a[0]) and np.isfinite(b[0]) and (a[1] > b[2] or b[1] > a[2]):
        apart.append(f"k = {key[3]}, n = {key[4]}")
    result.append(plots.Verdict(
        f"{plots.label(arch)} nonlocal, tuned: median times match the local ones (95% "
        "intervals overlap in every cell with both medians)", not apart,
        "apart at " + "; ".join(apart) if apart else "all overlap"))
  return result


# ----------------------------------------------------------------------------- report


def steps_text(stat) -> str:
  value, low, high = stat
  if not np.isfinite(value):
    return "—"
  return f"{value:.0f} [{low:.0f}, {'∞' if not np.isfinite(high) else f'{high:.0f}'}]"


def candidate_text(candidate) -> str:
  return f"{candidate[0]} {candidate[1]:g}"


def report(rows, config, workdir) -> list[str]:
  table = cell_table(rows)
  tuned, fixed = exponents(table), exponents(table, tuned=False)
  figures = [time_to_learn_plots.plot_rate_curves(table, workdir),
             time_to_learn_plots.plot_medians(table, tuned, workdir)]
  survival = time_to_learn_plots.plot_survival(table, config["num_steps"], workdir)
  figures += [survival] if survival else []
  grids = "; ".join(f"{plots.label(a)} " + ", ".join(
      f"{o} {', '.join(f'{r:g}' for r in rates)}" for o, rates in config[a]["rates"].items())
      + f" (fixed step: {config[a]['optimizer']} {config[a]['learning_rate']:g})"
      for a in config["archs"])
  lines = ["# Time to learn: steps to success against n, each network at its best step", "",
           f"Protocol {config['protocol']}: the hinge loss, batch {config['batch_size']}, "
           f"{len(config['seeds'])} seeds per (cell, optimiser, rate); success = accuracy >= "
           f"{config['success_accuracy']} on {config['num_eval']} fresh evaluation samples per "
           f"seed, checked at step 0, every {config['eval_every']} steps and then at gaps of "
           f"{config['eval_growth'] - 1:.0%} of the step; a call (one cell and optimiser, all "
           f"its rates) stops {STOP_TEXT[config['stop']]}, "
           f"or at {config['num_steps']} steps; networks not successful by then are censored. "
           f"Rates: {grids}. Medians and quartiles are order statistics with distribution-free "
           "95% intervals (∞: the interval reaches censored networks; —: more than half the "
           f"seeds censored); success fractions with 95% Wilson intervals; precision "
           f"{config['precision']}.", "",
           "## Exponents (fixed k): median steps ≈ c n^α", "",
           "Tuned: each cell's best (optimiser, rate), re-selected in every bootstrap resample "
           "(so the interval includes the selection). Fixed step: the config's one step.", "",
           "| locality | arch | k | α tuned [95%] | α fixed step [95%] | tuning moved α by | "
           "n used (tuned) |", "|---|---|---|---|---|---|---|"]
  for key, fit in tuned.items():
    other = fixed.get(key)
    moved = f"{fit[0] - other[0]:+.2f}" if fit and other else "—"
    lines.append(f"| {key[0]} | {plots.label(key[1])} | {key[2]} | "
                 f"{fmt_alpha(fit) if fit else '— (< 2 medians)'} | "
                 f"{fmt_alpha(other) if other else '— (< 2 medians)'} | {moved} | "
                 f"{', '.join(map(str, fit[3])) if fit else ''} |")
  edges = [key for key, cell in table.items() if cell["edge"]]
  lines += ["", "## The claims, measured on the tuned times", ""]
  lines += [v.line() for v in claim_verdicts(table, tuned)]
  lines += ["", "Cells whose best rate is at an end of its grid (the grid does not bracket "
            "the optimum): " + ("; ".join(f"{k[0]} {k[1]} {plots.label(k[2])} k = {k[3]} n = "
                                          f"{k[4]} ({candidate_text(table[k]['best'])})"
                                          for k in sorted(edges)) or "none") + ".", "",
            "## Every cell: the best step and the fixed step", "",
            "| series | locality | arch | k | n | width | best step | succeeded (best) [95%] | "
            "median (best) [95%] | quartiles (best) | fixed step: succeeded, median [95%] | "
            "networks x steps / s |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
  order = lambda key: (SERIES.index(key[0]), key[1], models.ARCHS.index(key[2]), key[3], key[4])  # noqa: E731
  for key in sorted(table, key=order):
    cell = table[key]
    s = best_of(cell)
    f = cell["candidates"][cell["fixed"]] if cell["fixed"] else None
    quartiles = ", ".join(f"{v[0]:.0f}" if np.isfinite(v[0]) else "—" for v in (s["q1"], s["q3"]))
    fixed_text = f"{f['successes']}/{f['seeds']}, {steps_text(f['median'])}" if f else "—"
    lines.append(f"| {key[0]} | {key[1]} | {plots.label(key[2])} | {key[3]} | {key[4]} | "
                 f"{s['width']} | {candidate_text(cell['best'])}{' (edge)' if cell['edge'] else ''}"
                 f" | {s['successes']}/{s['seeds']} [{s['wilson'][0]:.2f}, {s['wilson'][1]:.2f}] | "
                 f"{steps_text(s['median'])} | {quartiles} | "
                 f"{fixed_text} | {s['steps_per_second']:.3g} |")
  lines += ["", "Barak et al. (2022) counted online-SGD steps of a width-100 ReLU MLP (batch 32, "
            "step 0.1, hinge loss) until 100% accuracy on 2^13 samples, 25 trials per (n, k), "
            "for n up to about 50 and k <= 4. The FCN here differs in width (128), init (biases "
            f"N(0, 1)), the success threshold ({config['success_accuracy']}) and its checks "
            "(a geometric schedule), and the parity window is the middle one (their parities "
            "are on arbitrary coordinates, the same problem for an FCN).", "",
            "![median steps against learning rate](steps_vs_rate.png)", "",
            "![median steps against n](median_steps_vs_n.png)", ""]
  if survival:
    lines += ["![survival curves](survival.png)", ""]
  return plots.write_report(workdir, lines, figures)
