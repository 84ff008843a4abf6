"""What the time-to-learn claims read of the cells: the held-out best, its bootstrap draws,
and every statistic of several cells computed draw by draw from them (docs/spec.md §9).

A cell's draws (cell_draws) are bootstrap.cell_medians of its times: both halves of its
seeds resampled, the best (optimiser, rate) re-selected on the selection half and its
median taken on the reporting half, every recorded time drawn uniformly inside the check
interval it is known to lie in. Each cell draws from its own generator, seeded by its key,
so a statistic of several cells (an exponent, a segment slope, a curvature, a growth
between two exponents, the wall's D) is computed in the same resamples wherever it
shares a cell, and a difference is judged on its own interval, never on two.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from cnnfcn_jax import bootstrap, stats

RESAMPLES = stats.BOOTSTRAP_RESAMPLES


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


def lower_times(s) -> np.ndarray:
  """Where each of capped_times lies above: a success after the check before the one it was
  recorded at; a censored time exactly at its cap."""
  capped = capped_times(s)
  return np.where(np.isfinite(s["times"]), s["lowers"], capped)


def bootstrap_times(cell, chosen=None, half=None, lowers=False) -> np.ndarray:
  """(seeds, candidates) capped_times (or lower_times) of `chosen` (default all) on every
  seed, or on one half ("select" or "report")."""
  of = cell["candidates"] if half is None else cell["halves"][half]
  times = lower_times if lowers else capped_times
  return np.stack([times(of[c]) for c in (list(of) if chosen is None else chosen)], 1)


def cell_seed(key, kind: str) -> tuple[int, ...]:
  """The generator seed of one cell's draws: its key's and the kind's checksums."""
  return tuple(zlib.crc32(repr(x).encode()) for x in (key, kind))


def cell_draws(cell, kind: str = "heldout") -> np.ndarray:
  """(RESAMPLES,) draws of the cell's median (computed once, kept in the cell): "heldout",
  the best chosen on the selection seeds and measured on the reporting ones; "same_seed",
  the best of every seed on those seeds; "fixed", the fixed step on every seed."""
  draws = cell.setdefault("draws", {})
  if kind not in draws:
    seed = cell_seed(cell["key"], kind)
    if kind == "heldout":
      draws[kind] = bootstrap.cell_medians(
          bootstrap_times(cell, half="report"), bootstrap_times(cell, half="report", lowers=True),
          bootstrap_times(cell, half="select"), bootstrap_times(cell, half="select", lowers=True),
          cell["horizon"], RESAMPLES, seed)
    else:
      chosen = None if kind == "same_seed" else [cell["fixed"]]
      draws[kind] = bootstrap.cell_medians(
          bootstrap_times(cell, chosen), bootstrap_times(cell, chosen, lowers=True),
          horizon=cell["horizon"], resamples=RESAMPLES, seed=seed)
  return draws[kind]


def point_median(cell, kind: str = "heldout") -> float:
  """The median the draws of `kind` scatter around (Kaplan-Meier, report.candidate_stats)."""
  if kind == "heldout":
    return best_of(cell)["median"][0]
  return cell["candidates"][cell["same_seed" if kind == "same_seed" else "fixed"]]["median"][0]


def fit(xs, cells, kind: str = "heldout"):
  """(α, low, high, draws) of median ≈ c x^α over `cells` (at least two), its interval the
  percentile interval of the draws' slopes, widened to contain α."""
  return bootstrap.slope_with_interval(xs, [point_median(c, kind) for c in cells],
                                       np.stack([cell_draws(c, kind) for c in cells]))


def heldout_fit(xs, cells):
  """(α, low, high) of the held-out medians ≈ c x^α over `cells`; None below 2."""
  return fit(xs, cells)[:3] if len(cells) >= 2 else None


def difference(a, b):
  """(a - b, low, high, P(a - b <= 0)) of two statistics (estimate, ..., draws), drawn in
  the same resamples."""
  with np.errstate(invalid="ignore"):
    draws = a[-1] - b[-1]
  value = a[0] - b[0]
  # inf - inf cannot be signed: such a draw counts at either end.
  low = bootstrap.interval_containing(np.where(np.isnan(draws), -np.inf, draws), value)[0]
  high = bootstrap.interval_containing(np.where(np.isnan(draws), np.inf, draws), value)[1]
  return value, low, high, at_most(draws, 0.0)


def at_most(draws, margin) -> float:
  """The share of draws at or below margin (nan draws counted there)."""
  return float(np.mean(~(np.asarray(draws) > margin)))


def log2_cells(table, locality, arch) -> dict:
  """{n: cell} of the k = log2 n series."""
  return {key[4]: cell for key, cell in table.items() if key[:3] == ("log2_n", locality, arch)}


def measured(cells: dict) -> list[int]:
  """The n whose held-out median is measured (finite), in order."""
  return sorted(n for n, cell in cells.items() if np.isfinite(best_of(cell)["median"][0]))


def segment_slopes(table, locality, arch) -> list[tuple]:
  """[(n1, n2, (slope, low, high, draws)), ...] between consecutive measured medians of the
  k = log2 n series."""
  cells = log2_cells(table, locality, arch)
  ns = measured(cells)
  return [(n1, n2, fit([n1, n2], [cells[n1], cells[n2]])) for n1, n2 in zip(ns, ns[1:])]


def curvature(table, locality, arch, ns=None):
  """(κ, low, high, ns, draws) of the k = log2 n series' measured medians: the quadratic
  coefficient of log2 M on log2 n (half the slope's change per doubling), over `ns`
  (default every measured n); None below three n."""
  cells = log2_cells(table, locality, arch)
  ns = measured(cells) if ns is None else ns
  if len(ns) < 3:
    return None
  value = float(bootstrap.loglog_curvature(ns, np.array([point_median(cells[n]) for n in ns])))
  draws = bootstrap.loglog_curvature(ns, np.stack([cell_draws(cells[n]) for n in ns]))
  draws = np.where(np.isnan(draws), np.inf, draws)  # a censored draw: curving away upward
  return (value, *bootstrap.interval_containing(draws, value), ns, draws)


def surely_below_half(s) -> bool:
  """Fewer than half of a candidate's seeds succeeded by the budget it reached, the Wilson
  interval's upper end below 1/2: its median lies above that budget."""
  return s["wilson"][1] < 0.5


def censored_bound(table, locality, arch):
  """(n', n, lowest slope, budget) past the last measured median n' of the k = log2 n
  series, where n's median is censored but every rate reached at least `budget` steps
  with fewer than half its seeds done (the Wilson interval's upper end below 1/2): the
  slope n' -> n is then at least log(budget / M(n')'s upper end) / log(n / n'); else None."""
  cells = log2_cells(table, locality, arch)
  ns = measured(cells)
  n = max(cells)
  if not ns or n in ns or not all(map(surely_below_half, cells[n]["candidates"].values())):
    return None
  last = max(ns)
  budget = min(s["reached"] for s in cells[n]["candidates"].values())
  high = best_of(cells[last])["median"][2]
  if not np.isfinite(high):
    return None
  return last, n, math.log(budget / high) / math.log(n / last), budget


def wall_margin(table, locality, arch):
  """(D, low, high, P(D <= 0), n1, n2, n, budget or None) at the series' largest n: D is
  the slope n2 -> n less the slope n1 -> n2 (the last measured segment before n), each
  draw's M(n2) entering both. A measured M(n) enters as its draws; a censored one as
  `budget`, the fewest steps every rate reached below half its seeds (a lower bound of the
  median, so D is then a lower bound too). None without a segment before n, or with a
  censored M(n) that no budget bounds."""
  cells = log2_cells(table, locality, arch)
  n, ns = max(cells), measured(cells)
  before = [m for m in ns if m < n]
  if len(before) < 2:
    return None
  n1, n2 = before[-2:]
  slope = fit([n1, n2], [cells[n1], cells[n2]])
  if n in ns:
    top = fit([n2, n], [cells[n2], cells[n]])
    budget = None
  else:
    bound = censored_bound(table, locality, arch)
    if not bound:
      return None
    budget = bound[3]
    ratio = math.log(n / n2)
    top = (math.log(budget / point_median(cells[n2])) / ratio, None, None,
           np.log(budget / cell_draws(cells[n2])) / ratio)
  return (*difference(top, slope), n1, n2, n, budget)


def ert(s, resamples=RESAMPLES, seed=0):
  """(ERT, low, high): the expected steps to a success with restarts (Auger and Hansen) of
  one candidate's seeds, every step they trained (a success to its recorded step, a pending
  network to its stop) over the successes; +inf with none. Its interval is the percentile
  bootstrap over the seeds, widened to contain it."""
  spent, done = s["capped"], np.isfinite(s["times"])
  value = spent.sum() / done.sum() if done.any() else np.inf
  index = np.random.default_rng(seed).integers(0, len(spent), (resamples, len(spent)))
  with np.errstate(divide="ignore", invalid="ignore"):
    draws = spent[index].sum(1) / done[index].sum(1)
  draws = np.where(done[index].any(1), draws, np.inf)
  return (float(value), *bootstrap.interval_containing(draws, value))


def log_median(cell):
  """(log M, None, None, log draws) of a cell's held-out median, for fits.difference."""
  return (math.log(point_median(cell)), None, None, np.log(cell_draws(cell)))
