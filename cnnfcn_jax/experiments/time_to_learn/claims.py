"""The time-to-learn claims, judged on the tuned times (docs/spec.md §9).

A cell's tuned time is its best (optimiser, rate) chosen on one half of its seeds and
measured on the other (report.cell_table; fits.best_of). Every statistic a claim rests on
is drawn in the same bootstrap resamples (fits: per-cell draws, both halves re-drawn, the
best re-selected, recorded times spread over their check intervals), and a difference is
judged on its own interval. Every verdict is `holds`, `FAILS` or `not established` and
names its FAILS condition: a claimed difference (an exponent that grows with k, a curve
that bends more, the wall's D) holds when its interval lies above 0 and FAILS when at or
below; a claimed sameness (an exponent that does not grow with k, a curvature like a
power's, non-local times that match) on a margin: holds when the whole interval is within
it, FAILS when the whole interval is beyond; a claimed success or failure rate on Wilson
intervals. A claim resting on a cell whose best rate is at an end of its grid, or where a
rate the stages dropped might have had the lowest median, is not established. What the
stop makes true at this budget is shown as a fact (facts), not counted.
"""

from __future__ import annotations

import math

import numpy as np

from cnnfcn_jax import models, plots, stats
from cnnfcn_jax.experiments.time_to_learn import fits

# [choice] Success is claimed and refuted on Wilson intervals against 1/2 (most seeds; a
# median exists): with 16 reporting seeds no interval can establish a rate such as 95%.
SUCCESS_LEVEL = 0.5
# [choice] Sameness margins: the exponent "does not grow" with k by more than this, and
# non-local medians "match" local ones within this factor.
EXPONENT_MARGIN = 0.25
MATCH_FACTOR = 1.5
# [choice] A curve "grows like a power" when its log-log slope changes by at most the
# exponent margin per doubling of n: curvature (half that change) at most its half.
CURVATURE_MARGIN = EXPONENT_MARGIN / 2


def success_verdict(successes, trials, claim_above=True) -> bool | None:
  """P(success) above SUCCESS_LEVEL (claim_above) or below it, on the Wilson interval:
  the interval on the claimed side holds, on the other side FAILS, across it None."""
  low, high = stats.wilson_interval(successes, trials)
  above = True if low > SUCCESS_LEVEL else False if high < SUCCESS_LEVEL else None
  return above if claim_above or above is None else not above


def fmt_alpha(e) -> str:
  return f"{e[0]:.2f} [{e[1]:.2f}, {e[2]:.2f}]"


def cell_name(key) -> str:
  return f"{key[2]} k = {key[3]} n = {key[4]}"


def doubts(table, keys, drops=True) -> list[str]:
  """Why the cells `keys` cannot carry a claim: a best rate at its grid's edge; a rate
  dropped by the stages that might have had the lowest median (drops=False: the claim
  bounds the dropped rates itself)."""
  result = []
  edges = sorted(cell_name(key) for key in keys if table[key]["edge"])
  if edges:
    result.append(f"best rate at its grid's edge at {', '.join(edges)}")
  dropped = sorted(cell_name(key) for key in keys if drops and table[key]["might_be_faster"])
  if dropped:
    result.append(f"a dropped rate might have been faster at {', '.join(dropped)}")
  return result


def judged(claim, holds, measured, table, keys, bounded=()) -> plots.Verdict:
  """The verdict `holds` on claim, or not established where the cells `keys` have doubts
  (or the cells `bounded`, whose dropped rates the claim bounds itself, have an edge)."""
  reasons = doubts(table, keys) + doubts(table, bounded, drops=False)
  if reasons:
    return plots.Verdict(f"{claim} [not established: {'; '.join(reasons)}]", None, measured)
  return plots.Verdict(claim, holds, measured)


def slope_text(segment) -> str:
  n1, n2, e = segment
  return f"{n1}→{n2}: {fmt_alpha(e)}"


def difference_text(name, d, margin=0.0) -> str:
  """A difference (fits.difference) with its interval, the share of draws at or below the
  margin and the side its estimate leans to."""
  return (f"{name} {d[0]:+.2f} [{d[1]:+.2f}, {d[2]:+.2f}], P({name} ≤ {margin:g}) = "
          f"{100 * d[3]:.1f}%, leaning {'above' if d[0] > margin else 'at or below'} {margin:g}")


def claim_verdicts(table, alphas) -> list[plots.Verdict]:
  """The separation in time, judged on the tuned times; alphas: report.exponents (their
  draws last)."""
  return (growth_verdicts(table, alphas) + log2_verdicts(table, "local")
          + nonlocal_verdicts(table))


def growth_verdicts(table, alphas) -> list[plots.Verdict]:
  """Per architecture, the exponent's growth from the smallest k to the largest, judged on
  the growth's own interval (fits.difference: the two exponents in the same resamples)."""
  result = []
  local_fits = {key: e for key, e in alphas.items() if key[0] == "local" and e}
  for arch in sorted({a for _, a, _ in local_fits}, key=models.arch_order):
    ks = sorted(k for _, a, k in local_fits if a == arch)
    if len(ks) < 2:
      continue
    by_k = {k: local_fits["local", arch, k] for k in ks}
    low, high = by_k[ks[0]], by_k[ks[-1]]
    keys = [key for key in table if key[:3] == ("fixed", "local", arch) and key[3] in
            (ks[0], ks[-1]) and key[4] in low[3] + high[3]]
    steps = "; ".join(f"{a}→{b}: {fits.difference(by_k[b], by_k[a])[0]:+.2f}"
                      for a, b in zip(ks, ks[1:]))
    what = (f"α(k = {ks[0]}) = {fmt_alpha(low)}, α(k = {ks[-1]}) = {fmt_alpha(high)}; "
            f"by k {steps}")
    growth = fits.difference(high, low)
    if models.windowed(arch):
      beyond = 1 - fits.at_most(high[-1] - low[-1], EXPONENT_MARGIN)
      result.append(judged(
          f"{plots.label(arch)}, tuned: the exponent does not grow with k by more than "
          f"{EXPONENT_MARGIN} (the growth α(k = {ks[-1]}) − α(k = {ks[0]}) in the same "
          "resamples; holds: its 95% interval at or below the margin; FAILS: above it)",
          plots.within(growth, EXPONENT_MARGIN),
          f"growth {growth[0]:+.2f} [{growth[1]:+.2f}, {growth[2]:+.2f}], P(growth > "
          f"{EXPONENT_MARGIN}) = {100 * beyond:.1f}%, leaning "
          f"{'beyond' if growth[0] > EXPONENT_MARGIN else 'within'} the margin; " + what,
          table, keys))
    elif models.fully_connected(arch):  # a network of one's own makes no paper claim
      result.append(judged(
          f"{plots.label(arch)}, tuned: the exponent grows with k (the growth α(k = {ks[-1]}) "
          f"− α(k = {ks[0]}) in the same resamples; holds: its 95% interval above 0; FAILS: "
          "at or below 0)", plots.above(growth), difference_text("growth", growth) + "; " + what,
          table, keys))
  return result


def log2_verdicts(table, locality) -> list[plots.Verdict]:
  """k = log2 n: the CNN's and LCN's curvature within CURVATURE_MARGIN (growth like a
  power), the FCN's curvature above theirs, and the FCN's wall."""
  archs = sorted({key[2] for key in table if key[:2] == ("log2_n", locality)},
                 key=models.arch_order)
  result = []
  for arch in archs:
    cells = fits.log2_cells(table, locality, arch)
    keys = [cell["key"] for cell in cells.values()]
    if models.windowed(arch):
      kappa = fits.curvature(table, locality, arch)
      result.append(judged(
          f"{plots.label(arch)}, k = log2 n, tuned: the median grows like a power of n, its "
          f"log-log curvature κ (half the slope's change per doubling of n) at most "
          f"{CURVATURE_MARGIN} (holds: κ's 95% interval at or below it; FAILS: above it)",
          plots.within(kappa, CURVATURE_MARGIN) if kappa else None,
          curvature_text(kappa) if kappa else "fewer than three measured medians", table,
          keys))
  if "fcn" in archs:
    fcn = fits.log2_cells(table, locality, "fcn")
    for other in (a for a in archs if models.windowed(a)):
      ns = sorted(set(fits.measured(fcn)) & set(fits.measured(
          fits.log2_cells(table, locality, other))))
      mine, theirs = (fits.curvature(table, locality, a, ns) for a in ("fcn", other))
      claim = (f"FCN, k = log2 n, tuned: its log-log curve bends more than the "
               f"{plots.label(other)}'s (κ(FCN) − κ({plots.label(other)}) over the n both "
               "measured, in the same resamples; holds: above 0; FAILS: at or below 0)")
      if not mine:
        result.append(plots.Verdict(claim, None, "fewer than three n measured by both"))
        continue
      d = fits.difference(mine, theirs)
      keys = [c["key"] for a in ("fcn", other)
              for n, c in fits.log2_cells(table, locality, a).items() if n in ns]
      result.append(judged(claim, plots.above(d), difference_text("κ difference", d)
                           + f"; over n = {', '.join(map(str, ns))}: FCN "
                           + curvature_text(mine) + f", {plots.label(other)} "
                           + curvature_text(theirs), table, keys))
    result.append(wall_verdict(table, locality))
  return result


def curvature_text(kappa) -> str:
  return f"κ = {fmt_alpha(kappa)} over n = {', '.join(map(str, kappa[3]))}"


def wall_verdict(table, locality) -> plots.Verdict:
  """At the FCN series' largest n, D = slope(n2 → n) − slope(n1 → n2) above 0 (fits.
  wall_margin: M(n2)'s uncertainty and the slope's in the same resamples). A measured
  median: holds if D's interval lies above 0, FAILS if at or below. A censored one enters
  at the budget every rate reached with fewer than half its seeds successful (Wilson),
  so D is a lower bound: holds if its interval lies above 0, else not established."""
  cells = fits.log2_cells(table, locality, "fcn")
  n = max(cells)
  claim = (f"FCN, k = log2 n, tuned: at n = {n} the median lies above what the previous "
           "segment's power predicts (D = slope to n − the previous segment's slope, both "
           "drawn in the same resamples, so M(n')'s uncertainty enters with the slope's; "
           "holds: D's 95% interval above 0; FAILS: at or below 0, with n's median measured; "
           "a censored median enters at the budget every rate reached below half its seeds)")
  margin = fits.wall_margin(table, locality, "fcn")
  if margin is None:
    return plots.Verdict(claim, None, f"no segment below n = {n}, or n's median censored "
                         "with some rate not surely below half its seeds")
  d, low, high, below, n1, n2, _, budget = margin
  what = (f"D {d:+.2f} [{low:+.2f}, {high:+.2f}], P(D ≤ 0) = {100 * below:.1f}%; "
          f"segment {n1}→{n2}")
  previous = [cells[n1]["key"], cells[n2]["key"]]
  if budget is None:
    return judged(claim, plots.above((d, low, high)), "measured median; " + what, table,
                  previous + [cells[n]["key"]])
  best = cells[n]["candidates"][cells[n]["best"]]
  what = (f"censored: best {best['successes']}/{best['seeds']} [{best['wilson'][0]:.2f}, "
          f"{best['wilson'][1]:.2f}] by {best['reached']} steps ({cells[n]['best'][0]} "
          f"{cells[n]['best'][1]:g}), every rate below half its seeds by ≥ {budget} steps "
          f"(a lower bound of the median); " + what)
  return judged(claim, True if low > 0 else None, what, table, previous,
                bounded=[cells[n]["key"]])


def facts(table, locality="local") -> list[str]:
  """What holds at this budget by construction, shown and not counted: at the best-rate
  stop some rate has every seed done, so the best rate's success at k = log2 n cannot fail
  where the stop fired."""
  result = []
  for arch in [a for a in models.ARCHS if models.windowed(a)]:
    cells = fits.log2_cells(table, locality, arch)
    if cells:
      counts = ", ".join(f"n = {n}: {fits.best_of(c)['successes']}/{fits.best_of(c)['seeds']}"
                         for n, c in sorted(cells.items()))
      result.append(f"- {plots.label(arch)}, k = log2 n: reporting seeds successful at the "
                    f"best rate ({counts}); the best-rate stop ends a call once some rate has "
                    "every seed done, so this cannot fail where it fired (not counted).")
  return result


def nonlocal_verdicts(table) -> list[plots.Verdict]:
  result = []
  cells = {key: cell for key, cell in table.items() if key[1] == "nonlocal"}
  for arch in sorted({key[2] for key in cells}, key=models.arch_order):
    mine = {key: cell for key, cell in cells.items() if key[2] == arch}
    if models.windowed(arch):  # every rate: no selection to hold out
      counts = [(c, s["successes"], s["seeds"]) for cell in mine.values()
                for c, s in cell["candidates"].items()]
      each = [success_verdict(s, t, claim_above=False) for _, s, t in counts]
      most = max(counts, key=lambda c: c[1] / c[2])
      result.append(plots.Verdict(
          f"{plots.label(arch)} nonlocal: most seeds fail in every cell at every rate "
          f"(P(success) < {SUCCESS_LEVEL:g}: holds where every Wilson interval lies below, "
          "FAILS where one lies above)",
          plots.every(each),
          f"most successes {most[1]}/{most[2]} ({most[0][0]} {most[0][1]:g})"))
      continue
    if not models.fully_connected(arch):  # a network of one's own makes no paper claim
      continue
    apart, wide, compared_keys, texts = [], [], [], []
    limit = math.log(MATCH_FACTOR)
    for key, cell in mine.items():
      twin_key = (key[0], "local") + key[2:]
      twin = table.get(twin_key)
      if not twin or not all(np.isfinite(fits.best_of(c)["median"][0]) for c in (cell, twin)):
        continue
      compared_keys += [key, twin_key]
      ratio = fits.difference(fits.log_median(cell), fits.log_median(twin))
      where = f"k = {key[3]}, n = {key[4]}"
      texts.append(f"{where}: ×{math.exp(ratio[0]):.2f} [{math.exp(ratio[1]):.2f}, "
                   f"{math.exp(ratio[2]):.2f}]")
      if ratio[1] > limit or ratio[2] < -limit:
        apart.append(where)
      elif not (-limit <= ratio[1] and ratio[2] <= limit):
        wide.append(where)
    holds = (None if not compared_keys else False if apart else None if wide else True)
    result.append(judged(
        f"{plots.label(arch)} nonlocal, tuned: median times match the local ones within a "
        f"factor {MATCH_FACTOR:g} (the ratio in the same resamples; holds: its 95% interval "
        "within the factor in every cell with both medians; FAILS: beyond it in some cell)",
        holds, "; ".join(texts) or "no cell with both medians", table, compared_keys))
  return result
