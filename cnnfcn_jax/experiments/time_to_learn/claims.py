"""The time-to-learn claims, judged on the tuned times (docs/spec.md §9).

A cell's tuned time is its best (optimiser, rate) chosen on one half of its seeds and
measured on the other (report.cell_table; best_of), and every bootstrap re-draws both
halves and re-selects. Every verdict is `holds`, `FAILS` or `not established`: a claim
resting on a cell whose best rate is at an end of its grid, or on a cell where a rate
dropped by the stages (halving.py) might have had the lowest median, is not established; a
claimed difference is judged on intervals (disjoint: holds or FAILS; overlapping: not
established); a claimed sameness on a margin (every value the intervals allow within it:
holds; disjoint beyond it: FAILS; else not established); a claimed success or failure rate
on Wilson intervals.

At k = log2 n the segment slopes between consecutive measured medians carry bootstrap
intervals (each cell's best re-selected in every resample). At the largest n of the
FCN's series the claim is that its median lies above what the previous segment's slope
at its interval's upper end predicts: judged on the measured median's interval, or, where
the median is censored, on every rate's success fraction at the budget it reached.
"""

from __future__ import annotations

import math

import numpy as np

from cnnfcn_jax import models, plots, stats

# [choice] Success is claimed and refuted on Wilson intervals against 1/2 (most seeds; a
# median exists): with 16 reporting seeds no interval can establish a rate such as 95%.
SUCCESS_LEVEL = 0.5
# [choice] Sameness margins: the exponent "does not grow" with k by more than this, and
# non-local medians "match" local ones within this factor.
EXPONENT_MARGIN = 0.25
MATCH_FACTOR = 1.5


def best_of(cell) -> dict:
  """The stats the claims read: the best chosen on the selection seeds, measured on the
  reporting seeds (report.cell_table)."""
  return cell["reported"]


def capped_times(s) -> np.ndarray:
  """A candidate's times as a bootstrap compares them: capped at its stop, but +inf for a
  rate the stages dropped with fewer than half its seeds done (capped at the drop, its
  times would pass for a median no resample should select; the drop check names the cells
  where it might have been faster)."""
  return np.where(np.isfinite(s["times"]), s["capped"], np.inf) if s["dropped_below_half"] \
      else s["capped"]


def bootstrap_times(cell, chosen=None, half=None) -> np.ndarray:
  """(seeds, candidates) capped_times of `chosen` (default all) on every seed, or on one
  half ("select" or "report")."""
  of = cell["candidates"] if half is None else cell["halves"][half]
  return np.stack([capped_times(of[c]) for c in (list(of) if chosen is None else chosen)], 1)


def heldout_fit(xs, cells):
  """(α, low, high) of best_of's medians ≈ c x^α over `cells`, the best re-selected on the
  selection seeds in every resample (stats.heldout_exponent_with_interval); None below 2."""
  if len(cells) < 2:
    return None
  return stats.heldout_exponent_with_interval(
      xs, [bootstrap_times(c, half="select") for c in cells],
      [bootstrap_times(c, half="report") for c in cells], [c["horizon"] for c in cells])


def success_verdict(successes, trials, claim_above=True) -> bool | None:
  """P(success) above SUCCESS_LEVEL (claim_above) or below it, on the Wilson interval:
  the interval on the claimed side holds, on the other side FAILS, across it None."""
  low, high = stats.wilson_interval(successes, trials)
  above = True if low > SUCCESS_LEVEL else False if high < SUCCESS_LEVEL else None
  return above if claim_above or above is None else not above


def surely_below_half(s) -> bool:
  """Fewer than half of a candidate's seeds succeeded by the budget it reached, the Wilson
  interval's upper end below 1/2: its median lies above that budget."""
  return s["wilson"][1] < 0.5


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


def compared(low, high) -> bool | None:
  """A claimed `low` < `high` on intervals (each (estimate, low end, high end)): True if
  disjoint that way, False if disjoint the other way, None if they overlap."""
  if high[1] > low[2]:
    return True
  return False if high[2] < low[1] else None


def segment_slopes(table, locality, arch) -> list[tuple]:
  """[(n1, n2, (slope, low, high)), ...] between consecutive measured medians (best_of) of
  the k = log2 n series, with heldout_fit's interval."""
  measured = sorted((key[4], cell) for key, cell in table.items()
                    if key[:3] == ("log2_n", locality, arch)
                    and np.isfinite(best_of(cell)["median"][0]))
  result = []
  for (n1, a), (n2, b) in zip(measured, measured[1:]):
    slope = math.log(best_of(b)["median"][0] / best_of(a)["median"][0]) / math.log(n2 / n1)
    _, low, high = heldout_fit([n1, n2], [a, b])
    result.append((n1, n2, (slope, min(low, slope), max(high, slope))))
  return result


def censored_bound(table, locality, arch):
  """(n', n, lowest slope, budget) past the last measured median n' of the k = log2 n
  series, where n's median is censored but every rate reached at least `budget` steps
  with fewer than half its seeds done (the Wilson interval's upper end below 1/2): the
  slope n' -> n is then at least log(budget / M(n')'s upper end) / log(n / n'); else None."""
  cells = {key[4]: cell for key, cell in table.items() if key[:3] == ("log2_n", locality, arch)}
  measured = [n for n, cell in cells.items() if np.isfinite(best_of(cell)["median"][0])]
  n = max(cells)
  if not measured or n in measured or not all(map(surely_below_half,
                                                  cells[n]["candidates"].values())):
    return None
  last = max(measured)
  budget = min(s["reached"] for s in cells[n]["candidates"].values())
  high = best_of(cells[last])["median"][2]
  if not np.isfinite(high):
    return None
  return last, n, math.log(budget / high) / math.log(n / last), budget


def slope_text(segment) -> str:
  n1, n2, e = segment
  return f"{n1}→{n2}: {fmt_alpha(e)}"


def claim_verdicts(table, alphas) -> list[plots.Verdict]:
  """The separation in time, judged on the tuned times."""
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
      # Growth the intervals allow: at most high[2] - low[1], at least high[1] - low[2].
      holds = (True if high[2] - low[1] <= EXPONENT_MARGIN
               else False if high[1] - low[2] > EXPONENT_MARGIN else None)
      result.append(judged(
          f"{plots.label(arch)}, tuned: the exponent does not grow with k by more than "
          f"{EXPONENT_MARGIN} (holds: every growth the 95% intervals allow is within it; "
          "FAILS: every growth they allow is beyond it)", holds,
          what + f"; growth allowed [{high[1] - low[2]:.2f}, {high[2] - low[1]:.2f}]",
          table, keys))
    else:
      result.append(judged(
          f"{plots.label(arch)}, tuned: the exponent grows with k (α(k = {ks[-1]}) above "
          f"α(k = {ks[0]}), 95% intervals disjoint)", compared(low, high), what, table, keys))
  log2 = {key: cell for key, cell in table.items() if key[:2] == ("log2_n", "local")}
  for arch in sorted({key[2] for key in log2}, key=models.ARCHS.index):
    by_n = {key[4]: key for key in log2 if key[2] == arch}
    keys = list(by_n.values())
    if models.ARCHITECTURES[arch].windowed:
      counts = {n: (best_of(table[key])["successes"], best_of(table[key])["seeds"])
                for n, key in sorted(by_n.items())}
      each = [success_verdict(*counts[n]) for n in counts]
      result.append(judged(
          f"{plots.label(arch)}, k = log2 n, tuned: most seeds succeed at every n (P(success) "
          f"> {SUCCESS_LEVEL:g} at the best rate, measured on the reporting seeds: holds where "
          f"every Wilson interval lies above {SUCCESS_LEVEL:g}, FAILS where one lies below)",
          False if False in each else None if None in each else True,
          ", ".join(f"n = {n}: {s}/{t}" for n, (s, t) in counts.items()), table, keys))
      continue
    segments = segment_slopes(table, "local", arch)
    pairs = [compared(a[2], b[2]) for a, b in zip(segments, segments[1:])]
    holds = (None if not pairs or None in pairs and False not in pairs
             else False if False in pairs else True)
    measured = [by_n[n] for n in {n for s in segments for n in s[:2]}]
    result.append(judged(
        f"{plots.label(arch)}, k = log2 n, tuned: the median's log-log slope rises from segment "
        "to segment, each segment's 95% interval above the previous one's (faster than any "
        "power of n)", holds, "slopes " + ("; ".join(map(slope_text, segments))
                                          or "none (< 2 medians)"), table, measured))
    result.append(wall_verdict(table, by_n, segments))
  result += nonlocal_verdicts(table)
  return result


def wall_verdict(table, by_n, segments) -> plots.Verdict:
  """At the series' largest n, the median lies above P = (previous measured median) x
  (n / its n)^h, h the previous segment slope's interval's upper end. A measured median:
  holds if its interval lies above P, FAILS if below. A censored one: holds if every rate
  (dropped ones at their drop) reached a budget >= P with fewer than half its seeds
  successful, the Wilson interval's upper end below 1/2; else not established."""
  n = max(by_n)
  key, cell = by_n[n], table[by_n[n]]
  arch = key[2]
  claim = (f"{plots.label(arch)}, k = log2 n, tuned: at n = {n} the median lies above what the "
           "previous segment's slope at its 95% interval's upper end predicts (growth faster "
           "than that power)")
  before = [s for s in segments if s[1] < n]
  if not before:
    return plots.Verdict(claim, None, f"no measured segment below n = {n}")
  n1, n2, (_, _, high) = before[-1]
  previous = [by_n[n1], by_n[n2]]  # the segment the prediction rests on
  predicted = best_of(table[by_n[n2]])["median"][0] * (n / n2) ** high
  what = f"predicted {predicted:.0f} from n = {n2} at slope {high:.2f} ({n1}→{n2}'s upper end)"
  median = best_of(cell)["median"]
  if np.isfinite(median[0]):
    holds = True if median[1] > predicted else False if median[2] <= predicted else None
    return judged(claim, holds, f"median {median[0]:.0f} [{median[1]:.0f}, {median[2]:.0f}]; "
                  + what, table, [key] + previous)
  short = [(c, s) for c, s in cell["candidates"].items()
           if s["reached"] < predicted or not surely_below_half(s)]
  reached = min(s["reached"] for s in cell["candidates"].values())
  best = cell["candidates"][cell["best"]]  # every seed: this branch judges every rate
  what = (f"censored: best {best['successes']}/{best['seeds']} [{best['wilson'][0]:.2f}, "
          f"{best['wilson'][1]:.2f}] by {best['reached']} steps ({cell['best'][0]} "
          f"{cell['best'][1]:g}); every rate reached >= {reached} steps; " + what
          + (f"; short of it: {', '.join(f'{c[0]} {c[1]:g}' for c, _ in short)}" if short else ""))
  return judged(claim, None if short else True, what, table, previous, bounded=[key])


def nonlocal_verdicts(table) -> list[plots.Verdict]:
  result = []
  cells = {key: cell for key, cell in table.items() if key[1] == "nonlocal"}
  for arch in sorted({key[2] for key in cells}, key=models.ARCHS.index):
    mine = {key: cell for key, cell in cells.items() if key[2] == arch}
    if models.ARCHITECTURES[arch].windowed:  # every rate: no selection to hold out
      counts = [(c, s["successes"], s["seeds"]) for cell in mine.values()
                for c, s in cell["candidates"].items()]
      each = [success_verdict(s, t, claim_above=False) for _, s, t in counts]
      most = max(counts, key=lambda c: c[1] / c[2])
      result.append(plots.Verdict(
          f"{plots.label(arch)} nonlocal: most seeds fail in every cell at every rate "
          f"(P(success) < {SUCCESS_LEVEL:g}: holds where every Wilson interval lies below, "
          "FAILS where one lies above)",
          False if False in each else None if None in each else True,
          f"most successes {most[1]}/{most[2]} ({most[0][0]} {most[0][1]:g})"))
      continue
    apart, wide, compared_keys = [], [], []
    for key, cell in mine.items():
      twin_key = (key[0], "local") + key[2:]
      twin = table.get(twin_key)
      a, b = best_of(cell)["median"], best_of(twin)["median"] if twin else (np.inf,) * 3
      if np.isfinite(a[0]) and np.isfinite(b[0]):
        compared_keys += [key, twin_key]
        where = f"k = {key[3]}, n = {key[4]}"
        if a[1] > b[2] * MATCH_FACTOR or b[1] > a[2] * MATCH_FACTOR:
          apart.append(where)
        elif not max(a[2] / max(b[1], 1), b[2] / max(a[1], 1)) <= MATCH_FACTOR:
          wide.append(where)
    holds = (None if not compared_keys else False if apart else None if wide else True)
    result.append(judged(
        f"{plots.label(arch)} nonlocal, tuned: median times match the local ones within a "
        f"factor {MATCH_FACTOR:g} (holds: every ratio the 95% intervals allow is within it, in "
        "every cell with both medians; FAILS: in some cell every ratio they allow is beyond "
        "it)", holds,
        "; ".join(filter(None, ["beyond at " + "; ".join(apart) if apart else "",
                                "undecided at " + "; ".join(wide) if wide else ""]))
        or ("all within" if compared_keys else "no cell with both medians"),
        table, compared_keys))
  return result
