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

from cnnfcn_jax import checks, engine, kpattern_config, models, tasks
from cnnfcn_jax.experiments.samples_width import series as series_module
from cnnfcn_jax.experiments.samples_width.search import (RESOLVED, frontier_grid,
                                                         frontier_search, search_grid,
                                                         start_index, unit)

# Per-network fields the report does not read: left out of the published summary
# (publish.summarize), where the training curves alone would take 4 MB.
UNPUBLISHED_FIELDS = ("curves", "first_layer_distance", "grad_norm", "final_loss",
                      "train_accuracy")
__all__ = ["RESOLVED", "frontier_grid", "frontier_search", "search_grid", "start_index",
           "unit", "validate", "phase_units", "tuned_phase", "width_series", "run"]


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
    ours_only = [arm for arm in c.series_arms if arm in ("mup", "sparse")]
    if a.get("width_series") and kpattern_config.family(c, arch) and ours_only:
      checks.fail("series_arms", c.series_arms, f"('standard',) for config.{arch}.network, "
                  f"a network of one's own ({ours_only} reparametrise or draw our FCN), or "
                  f"width_series = () for {arch}")
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
    kpattern_config.check_family(c, arch, (c.phase_n, *a.frontier_ns))
    for n in a.frontier_ns:  # a task of one's own, made at every frontier n
      kpattern_config.make_task(c, "local", n, c.k)


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


def select_rates(c, checkpoint, arch, locality, start, widths, rates, arm):
  """(rows, {width: rate}) of an arm's selection stage at phase_n: every width x rate on the
  selection seeds, searched on the grid without midpoints, and the rates series.choose
  picks from them."""
  select = frontier_search(c, checkpoint, arch, locality, c.phase_n, start,
                           [(q, r) for q in widths for r in rates],
                           series=(arm, series_module.SELECT), refinements=0)
  return select, series_module.choose(select, arm)


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
  select, chosen = select_rates(c, checkpoint, arch, locality, start, widths, rates, phase)
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
    select, chosen = select_rates(c, checkpoint, arch, locality, start, widths,
                                  tuple(c.series_learning_rates[arm]), arm)
    rows += select + frontier_search(c, checkpoint, arch, locality, c.phase_n, start,
                                     [(q, chosen[q]) for q in widths],
                                     series=(arm, series_module.REPORT))
  return rows


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
