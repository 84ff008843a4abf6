"""Samples, width and luck: P(success) over sample size m x width q for CNN, LCN and FCN,
the sample frontier m*(n) and the width series m*(q) (configs/samples_width.py).

One checkpointed unit per (arch, locality, n, m): every seed x width of it in one jitted
sweep (sweeps.unit_rows; widths nest in one call). Each part draws its samples at the
largest m it may visit and trains on the first m (train.Sweep.train_capacity), so the
phase diagram compiles one program per arch, and each search one per (arch, n), whatever
m it visits. The phase diagram runs every m of phase_num_trains at n = phase_n with
phase_widths (and the frontier width); the frontier runs, at each n of
<arch>.frontier_ns, the width <arch>.frontier_width at the m of frontier_num_trains that a
search from the neighbouring n's m* reaches, then midpoints inside the bracket of the
first crossing of 1/2 (frontier_search: each n costs a few units, not the whole grid; at
phase_n the phase diagram's grid is its start); the width series runs
<arch>.width_series at phase_n by the same search over all its widths (and, in its
selection stage, all its rates) at once, per arm (series.py), in units of its own
(`series` = True: not pooled with the phase diagram's networks, which are the same
networks but other calls, and Adam sends rounding differences to other outcomes).
One row per network, with `success` = test accuracy >= success_accuracy. The statistics
are in stats.py and the claims in claims.py; the report (report.py) draws one P(success)
heatmap per architecture with its 50% contour, m*(n) with intervals and fits, and m*(q),
and judges the claims.
"""

from __future__ import annotations

import math

import numpy as np

from cnnfcn_jax import checks, engine, kpattern_config, models, sweeps, tasks, train
from cnnfcn_jax.experiments.samples_width import series as series_module
from cnnfcn_jax.experiments.samples_width import stats

# Per-network fields the report does not read: left out of the published summary
# (publish.summarize), where the training curves alone would take 4 MB.
UNPUBLISHED_FIELDS = ("curves", "first_layer_distance", "grad_norm", "final_loss",
                      "train_accuracy")
# The frontier's search over m stops below at P(success) <= SEARCH_LOW, above at >= SEARCH_HIGH.
SEARCH_LOW, SEARCH_HIGH = 0.1, 0.9
# A bracket needs no midpoint once P is measured within RESOLVED on both of its sides: the
# seeds' noise there moves the interpolated m* across the bracket, so the bootstrap sees
# the uncertainty a finer grid would remove.
RESOLVED = (0.2, 0.8)


def validate(c):
  """Raise checks.ConfigError naming the first invalid field."""
  checks.positive_int("k", c.k)
  kpattern_config.validate_k("k", c.k)
  for field in ("phase_num_trains", "frontier_num_trains"):
    checks.nonempty_tuple(field, c[field], checks.positive_int)
    if list(c[field]) != sorted(c[field]):
      checks.fail(field, c[field], "increasing sample sizes")
  checks.positive_int("phase_n", c.phase_n)
  if c.phase_n < c.k:
    checks.fail("phase_n", c.phase_n, f"an input size >= k = {c.k}")
  checks.nonempty_tuple("phase_widths", c.phase_widths, checks.positive_int)
  # kpattern_config.validate_task checks target, localities, position and task_seed against ns.
  kpattern_config.validate_task(c, (c.phase_n,), c.k, field="phase_n")
  smallest = c.k if "nonlocal" not in c.localities else tasks.min_nonlocal_n(c.k)
  checks.seeds("seeds", c.seeds)
  checks.positive_int("num_test", c.num_test)
  checks.fraction("success_accuracy", c.success_accuracy)
  checks.positive_int("bootstrap_resamples", c.bootstrap_resamples, minimum=10)
  checks.positive_float("frontier_bracket_ratio", c.frontier_bracket_ratio)
  if c.frontier_bracket_ratio <= 1:
    checks.fail("frontier_bracket_ratio", c.frontier_bracket_ratio, "a ratio m_hi/m_lo > 1")
  checks.positive_int("frontier_max_refinements", c.frontier_max_refinements, minimum=0)
  checks.positive_int("series_max_refinements", c.series_max_refinements, minimum=0)
  validate_series(c)
  checks.choice("activation", c.activation, tuple(models.ACTIVATIONS))
  checks.choice("compute_path", c.compute_path, kpattern_config.COMPUTE_PATHS)
  checks.choice("llvm_level", c.llvm_level, (0, 1, 2, 3))
  kpattern_config.validate_blocks(c)
  kpattern_config.validate_archs(c)
  for arch in c.archs:
    a = c[arch]
    kpattern_config.validate_arch_model(c, arch)
    checks.choice(f"{arch}.optimizer", a.optimizer, tuple(engine.OPTIMIZERS))
    checks.positive_float(f"{arch}.learning_rate", a.learning_rate)
    checks.positive_int(f"{arch}.num_steps", a.num_steps)
    checks.positive_int(f"{arch}.log_every", a.log_every)
    if a.num_steps % a.log_every:
      checks.fail(f"{arch}.log_every", a.log_every,
                  f"a divisor of config.{arch}.num_steps = {a.num_steps}")
    checks.positive_int(f"{arch}.frontier_width", a.frontier_width)
    if "width_series" in a:  # () or widths: the series at phase_n
      if not isinstance(a.width_series, (tuple, list)):
        checks.fail(f"{arch}.width_series", a.width_series, "a tuple of widths, or () for none")
      if a.width_series:
        checks.nonempty_tuple(f"{arch}.width_series", a.width_series, checks.positive_int)
    if a.get("width_series") and "mup" in c.series_arms and a.init not in ("gaussian",
                                                                           "gaussian_bias"):
      checks.fail("series_arms", c.series_arms, f"arms without 'mup' for {arch}.init = "
                  f"{a.init!r} (the mup arm's readout multiplier needs a Gaussian readout)")
    if "phase_learning_rates" in a:  # () or rates: the tuned phase diagram
      if not isinstance(a.phase_learning_rates, (tuple, list)):
        checks.fail(f"{arch}.phase_learning_rates", a.phase_learning_rates,
                    "a tuple of learning rates, or () for no tuned phase diagram")
      if a.phase_learning_rates:
        checks.nonempty_tuple(f"{arch}.phase_learning_rates", a.phase_learning_rates,
                              checks.positive_float)
    checks.nonempty_tuple(f"{arch}.frontier_ns", a.frontier_ns, checks.positive_int)
    checks.positive_int(f"{arch}.frontier_max_num_train", a.frontier_max_num_train, minimum=0)
    if not frontier_grid(c, arch):
      checks.fail(f"{arch}.frontier_max_num_train", a.frontier_max_num_train, "0 (no limit) "
                  f"or at least min(config.frontier_num_trains) = {min(c.frontier_num_trains)}")
    if min(a.frontier_ns) < smallest:
      checks.fail(f"{arch}.frontier_ns", a.frontier_ns, f"every n >= {smallest} (k = {c.k}"
                  + (", room for the nonlocal twin)" if smallest > c.k else ")"))
    if c.position != kpattern_config.MIDDLE and c.position > min(a.frontier_ns) - c.k:
      checks.fail("position", c.position, f"{kpattern_config.MIDDLE} (middle) or a window start in "
                  f"[0, min({arch}.frontier_ns) - k] = [0, {min(a.frontier_ns) - c.k}]")


def validate_series(c):
  """The width series' fields (series.py): arms, every arm's rates, the selection seeds and
  the sparse arm's support (checked whether or not its arm runs)."""
  checks.nonempty_tuple("series_arms", c.series_arms,
                        lambda field, arm: checks.choice(field, arm, series_module.ARMS))
  for arm in series_module.ARMS:
    field = f"series_learning_rates.{arm}"
    if arm not in c.series_learning_rates:
      checks.fail(field, None, f"a tuple of learning rates for each arm of {series_module.ARMS}")
    checks.nonempty_tuple(field, c.series_learning_rates[arm], checks.positive_float)
  checks.seeds("series_selection_seeds", c.series_selection_seeds)
  if set(c.series_selection_seeds) & set(c.seeds):
    checks.fail("series_selection_seeds", c.series_selection_seeds,
                "seeds disjoint from config.seeds (the choice of rates is held out)")
  checks.positive_int("series_sparse_support", c.series_sparse_support)
  if c.series_sparse_support > c.phase_n:
    checks.fail("series_sparse_support", c.series_sparse_support,
                f"1 ... phase_n = {c.phase_n} coordinates per unit")


# -------------------------------------------------------------------------------- run


def phase_units(c) -> dict:
  """{(arch, locality, phase_n, m): widths} of the phase diagram: every m of
  phase_num_trains, the phase widths and (where phase_n is a frontier n) the frontier's."""
  result = {}
  for locality in c.localities:
    for arch in c.archs:
      a = c[arch]
      widths = set(c.phase_widths) | ({a.frontier_width} if c.phase_n in a.frontier_ns
                                      else set())
      for m in c.phase_num_trains:
        result[arch, locality, c.phase_n, m] = tuple(sorted(widths))
  return result


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
  train each power-of-two bucket of its widths at its own size (train.width_buckets:
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
  return bool(series) and not models.ARCHITECTURES[arch].windowed


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
  calls = len(train.width_buckets(widths)) if bucketed(arch, series) else 1
  if models.ARCHITECTURES[arch].windowed:
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


def tuned_phase(c, checkpoint, arch, locality, start) -> list[dict]:
  """The tuned phase diagram (series.PHASE) of arch at phase_n: its selection search over
  every phase width >= 2^k x every rate of <arch>.phase_learning_rates on the selection
  seeds (grid only), each width's rate of smallest m*, then every m of phase_num_trains at
  those rates on the reporting seeds."""
  rates = tuple(c[arch].get("phase_learning_rates", ()))
  widths = tuple(q for q in sorted(c.phase_widths) if q >= 2**c.k)
  if not rates or not widths:
    return []
  phase = series_module.PHASE
  select = frontier_search(c, checkpoint, arch, locality, c.phase_n, start,
                           [(q, r) for q in widths for r in rates],
                           series=(phase, series_module.SELECT), refinements=0)
  chosen = series_module.choose(select, phase)
  cells = [(q, chosen[q]) for q in widths]
  return select + checkpoint.run_units(
      [unit(c, arch, locality, c.phase_n, m, cells, (phase, series_module.REPORT),
            max(c.phase_num_trains)) for m in c.phase_num_trains],
      f"tuned phase diagram {arch} {locality}")


def width_series(c, checkpoint, arch, locality, widths, start) -> list[dict]:
  """The rows of every arm of the width series (series.py): its selection search over
  every width x rate on the selection seeds (grid only), the rates it chooses, then the
  reporting search at those rates."""
  rows = []
  for arm in c.series_arms:
    rates = tuple(c.series_learning_rates[arm])
    select = frontier_search(c, checkpoint, arch, locality, c.phase_n, start,
                             [(q, r) for q in widths for r in rates],
                             series=(arm, series_module.SELECT), refinements=0)
    chosen = series_module.choose(select, arm)
    rows += select + frontier_search(c, checkpoint, arch, locality, c.phase_n, start,
                                     [(q, chosen[q]) for q in widths],
                                     series=(arm, series_module.REPORT))
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


def run(c, checkpoint) -> list[dict]:
  """The phase diagram's units; then per (locality, arch) its width series at phase_n, and
  the frontier's n from phase_n outward (up, then down), each search starting at its
  neighbour's m*; at phase_n the frontier refines the phase diagram's grid."""
  rows = checkpoint.run_units([unit(c, *key, [(q, None) for q in widths],
                                    capacity=max(c.phase_num_trains))
                               for key, widths in phase_units(c).items()], "phase diagram")
  for locality in c.localities:
    for arch in c.archs:
      a, grid = c[arch], frontier_grid(c, arch)
      known = [r for r in rows if (r["arch"], r["locality"], r["n"]) == (arch, locality,
                                                                        c.phase_n)]
      rows += tuned_phase(c, checkpoint, arch, locality,
                          start_index(search_grid(c, arch, True), known, a.frontier_width))
      widths = tuple(sorted(a.get("width_series", ())))
      if widths:  # started at the widest phase width's m*: the series' widths pass it
        start = start_index(search_grid(c, arch, True), known, max(c.phase_widths))
        rows += width_series(c, checkpoint, arch, locality, widths, start)
      done = {}
      if c.phase_n in a.frontier_ns:
        start = start_index(grid, known, a.frontier_width)
        new = frontier_search(c, checkpoint, arch, locality, c.phase_n, start, known=known)
        rows += new
        done[c.phase_n] = known + new
      ns = sorted(n for n in a.frontier_ns if n != c.phase_n)
      for n in [n for n in ns if n > c.phase_n] + [n for n in reversed(ns) if n < c.phase_n]:
        neighbour = min(done, key=lambda d: abs(math.log(d / n)), default=None)
        start = start_index(grid, done.get(neighbour, []), a.frontier_width)
        done[n] = frontier_search(c, checkpoint, arch, locality, n, start)
        rows += done[n]
  return rows
