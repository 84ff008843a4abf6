"""The time-to-learn claims, judged on the tuned times (docs/spec.md §9).

Every verdict is `holds`, `FAILS` or `not established`: a claim resting on a cell whose
best rate is at an end of its grid, or on a cell where a rate dropped by the stages
(halving.py) might have had the lowest median, is not established; a claimed difference
is judged on intervals (disjoint: holds or FAILS; overlapping: not established).

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

CNN_LCN_SUCCESS = 0.95  # k = log2 n: CNN and LCN succeed on at least this fraction at every n
NONLOCAL_SUCCESS = 0.05  # non-local twin: CNN and LCN succeed on at most this fraction


def best_of(cell) -> dict:
  return cell["candidates"][cell["best"]]


def best_fraction(cell) -> float:
  """The highest success fraction over the cell's candidates (by their call's stop)."""
  return max(s["fraction"] for s in cell["candidates"].values())


def bootstrap_times(cell, chosen=None) -> np.ndarray:
  """(seeds, candidates) times a bootstrap may compare (of `chosen`, default all), each
  capped at its stop, but +inf for the rates the stages dropped with fewer than half their
  seeds done: capped at the drop, their times would pass for a median no resample should
  select (the drop check names the cells where they might have been faster)."""
  columns = []
  for c in (list(cell["candidates"]) if chosen is None else chosen):
    s = cell["candidates"][c]
    columns.append(np.where(np.isfinite(s["times"]), s["capped"], np.inf)
                   if s["dropped_below_half"] else s["capped"])
  return np.stack(columns, 1)


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
  """[(n1, n2, (slope, low, high)), ...] between consecutive measured best medians of the
  k = log2 n series. The interval is the percentile bootstrap over seeds (stats), each
  cell's best re-selected in every resample, widened to contain the estimate (the
  bootstrap of a lowest median is biased low)."""
  measured = sorted((key[4], cell) for key, cell in table.items()
                    if key[:3] == ("log2_n", locality, arch)
                    and np.isfinite(best_of(cell)["median"][0]))
  result = []
  for (n1, a), (n2, b) in zip(measured, measured[1:]):
    slope = math.log(best_of(b)["median"][0] / best_of(a)["median"][0]) / math.log(n2 / n1)
    samples = [bootstrap_times(cell) for cell in (a, b)]
    _, low, high = stats.exponent_with_interval([n1, n2], samples)
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
      result.append(judged(
          f"{plots.label(arch)}, tuned: the exponent does not grow with k beyond its intervals "
          f"(α(k = {ks[-1]})'s interval reaches down to α(k = {ks[0]})'s)",
          high[1] <= low[2], what, table, keys))
    else:
      result.append(judged(
          f"{plots.label(arch)}, tuned: the exponent grows with k (α(k = {ks[-1]}) above "
          f"α(k = {ks[0]}), 95% intervals disjoint)", compared(low, high), what, table, keys))
  log2 = {key: cell for key, cell in table.items() if key[:2] == ("log2_n", "local")}
  for arch in sorted({key[2] for key in log2}, key=models.ARCHS.index):
    by_n = {key[4]: key for key in log2 if key[2] == arch}
    keys = list(by_n.values())
    if models.ARCHITECTURES[arch].windowed:
      worst = min(by_n, key=lambda n: best_fraction(table[by_n[n]]))
      fraction = best_fraction(table[by_n[worst]])
      result.append(judged(
          f"{plots.label(arch)}, k = log2 n, tuned: at least {CNN_LCN_SUCCESS:.0%} of seeds "
          "succeed at every n", fraction >= CNN_LCN_SUCCESS,
          f"lowest {fraction:.2f} at n = {worst}", table, keys))
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
  best = best_of(cell)
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
    if models.ARCHITECTURES[arch].windowed:
      best = max(best_fraction(cell) for cell in mine.values())
      result.append(plots.Verdict(
          f"{plots.label(arch)} nonlocal: at most {NONLOCAL_SUCCESS:.0%} of seeds succeed in "
          "every cell at every rate", best <= NONLOCAL_SUCCESS, f"highest {best:.2f}"))
      continue
    apart, compared_keys = [], []
    for key, cell in mine.items():
      twin_key = (key[0], "local") + key[2:]
      twin = table.get(twin_key)
      a, b = best_of(cell)["median"], best_of(twin)["median"] if twin else (np.inf,) * 3
      if np.isfinite(a[0]) and np.isfinite(b[0]):
        compared_keys += [key, twin_key]
        if a[1] > b[2] or b[1] > a[2]:
          apart.append(f"k = {key[3]}, n = {key[4]}")
    holds = None if not compared_keys else not apart
    result.append(judged(
        f"{plots.label(arch)} nonlocal, tuned: median times match the local ones (95% "
        "intervals overlap in every cell with both medians)", holds,
        "apart at " + "; ".join(apart) if apart else
        "all overlap" if compared_keys else "no cell with both medians", table, compared_keys))
  return result
