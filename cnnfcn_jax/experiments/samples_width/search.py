"""The searches over m of samples_width: one checkpointed unit per (arch, locality, n, m)
and its cells ((width, rate) pairs: every seed x cell in one jitted sweep), the grids a
search walks, and frontier_search, which brackets P(success) = 1/2 and refines the bracket;
the phase diagram, the frontier and the width series' stages (__init__.run) all run their
units through it.
"""

from __future__ import annotations

import math

import numpy as np

from cnnfcn_jax import models, networks, sweeps
from cnnfcn_jax.experiments.samples_width import series as series_module
from cnnfcn_jax.experiments.samples_width import stats

# The frontier's search over m stops below at P(success) <= SEARCH_LOW, above at >= SEARCH_HIGH.
SEARCH_LOW, SEARCH_HIGH = 0.1, 0.9
# A bracket needs no midpoint once P is measured within RESOLVED on both of its sides: the
# seeds' noise there moves the interpolated m* across the bracket, so the bootstrap sees
# the uncertainty a finer grid would remove.
RESOLVED = (0.2, 0.8)


def frontier_grid(c, arch) -> tuple[int, ...]:
  """frontier_num_trains up to <arch>.frontier_max_num_train (0: all)."""
  top = c[arch].frontier_max_num_train
  return tuple(m for m in c.frontier_num_trains if not top or m <= top)


def search_grid(c, arch, series=False) -> tuple[int, ...]:
  """The grid of a search: frontier_grid, a width series' up to max(phase_num_trains) (the
  phase diagram's range of m, whose width axis it refines) or at least its first m."""
  grid = frontier_grid(c, arch)
  return (tuple(m for m in grid if m <= max(c.phase_num_trains)) or grid[:1]) if series else grid


def unit_rows(c, arch, locality, n, m, cells, series=None, capacity=0) -> list[dict]:
  """All seeds x cells in one call, m samples of `capacity` drawn (train.Sweep's
  train_capacity: one program for every m of a search); one row per network
  (sweeps.unit_rows' fields). cells: (width, learning rate) pairs, the rate None for the
  config's. series: None, or (arm, stage) of the width series (series.py), whose units
  train each power-of-two bucket of its widths at its own size (networks.width_buckets:
  padded to the widest, every network would cost as much as the widest) on the stage's
  seeds, at the cells' rates and the arm's parametrisation and init."""
  widths = tuple(q for q, _ in cells)
  fields = {}
  if series:
    fields = dict(series_module.arm_fields(c, series[0]),
                  learning_rate=tuple(float(rate) for _, rate in cells))
  rows = sweeps.unit_rows(c, arch, locality, n, c.k, widths, m, bucketed=bucketed(arch, series),
                          train_capacity=capacity, seeds=stage_seeds(c, series), **fields)
  tags = dict(series=True, arm=series[0], role=series[1]) if series else dict(series=False)
  return [dict(r, num_steps=c[arch].num_steps, success_accuracy=c.success_accuracy,
               success=bool(r["test_accuracy"] >= c.success_accuracy), **tags) for r in rows]


def bucketed(arch, series) -> bool:
  """Whether a unit trains its widths in power-of-two buckets: a series' of the FCN, whose
  cost grows with the width (the CNN/LCN's table path costs about the same at any width)."""
  return bool(series) and not models.windowed(arch)


def stage_seeds(c, series):
  """The seeds of a unit: the width series' selection seeds in its select stage, else
  config.seeds."""
  return tuple(c.series_selection_seeds) if series and series[1] == series_module.SELECT \
      else tuple(c.seeds)


def cost(c, arch, n, m, cells, series=None) -> float:
  """Relative cost of a unit for the progress log, in FCN flops: the FCN's matmuls, the
  pattern table's m windows (a gathered and scattered window costs about 500 flops' time
  on the 2-core CPU) and compiling (about 3e11 a program, or a series' bucket)."""
  widths = [q for q, _ in cells]
  calls = len(networks.width_buckets(widths)) if bucketed(arch, series) else 1
  if models.windowed(arch):
    per_step = 500 * m * (n - c.k + 1) * len(widths)
  else:
    per_step = 6 * m * n * (sum(widths) if bucketed(arch, series) else
                            max(widths) * len(widths))
  return c[arch].num_steps * per_step * len(stage_seeds(c, series)) + 3e11 * calls


def unit(c, arch, locality, n, m, cells, series=None, capacity=0):
  """(name, cost, compute) of one checkpointed unit; the name holds m, so a resumed search
  finds its refinements too. capacity: the largest m of the unit's search (unit_rows)."""
  return (f"{arch}-{locality}-n{n}-m{m}" + (f"-series-{series[0]}-{series[1]}" if series
                                             else ""),
          cost(c, arch, n, m, cells, series),
          lambda: unit_rows(c, arch, locality, n, m, cells, series, capacity))


def unresolved(c, ms, fractions):
  """The bracket (m_lo, m_hi) of the first crossing of 1/2 among measured ms if it still
  needs a midpoint, else None: none inside, ratio <= frontier_bracket_ratio, P within
  RESOLVED on both sides (the seeds' noise then spans the bracket), or no integer between."""
  kind, lo, hi = stats.bracket(ms, fractions)
  if kind != stats.INSIDE or hi / lo <= c.frontier_bracket_ratio:
    return None
  p_lo, p_hi = fractions[list(ms).index(lo)], fractions[list(ms).index(hi)]
  if RESOLVED[0] <= p_lo and p_hi <= RESOLVED[1]:
    return None
  return (lo, hi) if round(math.sqrt(lo * hi)) not in (lo, hi) else None


def frontier_search(c, checkpoint, arch, locality, n, start, cells=None, known=(),
                    series=None, refinements=None) -> list[dict]:
  """The new rows of a joint search over m for `cells` ((width, rate) pairs, the rate None
  for the config's; default: the frontier width) at one n. Grid m from search_grid: first
  the grid index `start`, then down until every cell has P(success) <= SEARCH_LOW (or the
  grid's first m), then up until every width has a cell with P >= SEARCH_HIGH (or its
  last); then, while some cell's first crossing of 1/2 is unresolved (`unresolved`), the
  integer geometric midpoint of the widest such bracket, at most `refinements` of them
  (default frontier_max_refinements, series_max_refinements for a series). Every m runs
  all cells in one unit; rows in `known` (the phase diagram's, not a series') are not run
  again. Where P grows with m, as it does but for seed noise, the grid points left out
  cannot hold the first crossing of 1/2 (of the seeds or of a bootstrap resample, short of
  a jump past SEARCH_LOW or SEARCH_HIGH)."""
  grid = search_grid(c, arch, bool(series))
  cells = tuple(cells or ((c[arch].frontier_width, None),))
  if refinements is None:
    refinements = c.series_max_refinements if series else c.frontier_max_refinements
  seen, rows = {}, []  # {m: {cell: [success, ...]}}, the new rows

  def cell_of(r):
    return r["width"], (r["learning_rate"] if series else None)

  def record(new):
    for r in new:
      seen.setdefault(r["num_train"], {}).setdefault(cell_of(r), []).append(r["success"])

  record([r for r in known if (r["arch"], r["locality"], r["n"]) == (arch, locality, n)
          and cell_of(r) in cells and not series and not r.get("series")])

  def evaluate(m):
    missing = tuple(cell for cell in cells if cell not in seen.get(m, {}))
    if missing:
      what = f"{'series ' + series[0] + ' ' + series[1] if series else 'frontier'}"
      new = checkpoint.run_units([unit(c, arch, locality, n, m, missing, series, max(grid))],
                                 f"{what} {arch} {locality} n={n}")
      rows.extend(new)
      record(new)
    fractions = {cell: np.mean(seen[m][cell]) for cell in cells}
    best = {}
    for (q, _), p in fractions.items():
      best[q] = max(best.get(q, 0.0), p)
    return max(fractions.values()), min(best.values())

  low = high = start
  while evaluate(grid[low])[0] > SEARCH_LOW and low > 0:
    low -= 1
  while evaluate(grid[high])[1] < SEARCH_HIGH and high < len(grid) - 1:
    high += 1
  for _ in range(refinements):
    brackets = []
    for cell in cells:
      ms = sorted(m for m in seen if cell in seen[m])
      brackets.append(unresolved(c, ms, [np.mean(seen[m][cell]) for m in ms]))
    brackets = [b for b in brackets if b]
    if not brackets:
      break
    lo, hi = max(brackets, key=lambda b: b[1] / b[0])
    evaluate(round(math.sqrt(lo * hi)))
  return rows


def start_index(grid, rows, width):
  """The grid index nearest (in log m) to m* of `rows` at `width` (0 without rows)."""
  cells = stats.outcomes([r for r in rows if r["width"] == width])
  if not cells:
    return 0
  [(ms, _, success)] = cells.values()
  m_star = stats.frontier(ms, success.mean(0))
  m_star = ms[-1] if not np.isfinite(m_star) else m_star
  return int(np.argmin(np.abs(np.log(np.asarray(grid, float)) - np.log(m_star))))
