"""Samples, width and luck: P(success) over sample size m x width q for CNN, LCN and FCN,
and the sample frontier m*(n) (configs/samples_width.py).

One checkpointed unit per (arch, locality, n, m): every seed x width of it in one jitted
sweep (sweeps.unit_rows; widths nest in one call), one program per (arch, n, m). The phase
diagram runs every m of phase_num_trains at n = phase_n with phase_widths (and the
frontier width); the frontier runs, at each other n of <arch>.frontier_ns, the width
<arch>.frontier_width at the m of frontier_num_trains that a search from the neighbouring
n's m* reaches (frontier_search: it brackets P(success) = 1/2 between SEARCH_LOW and
SEARCH_HIGH, so each n costs a few programs, not the whole grid). One row per network,
with `success` = test accuracy >= success_accuracy. The statistics are in
samples_width_stats; the report draws one P(success) heatmap per architecture with its
50% contour and m*(n) with bootstrap intervals and fits, and judges the claims.
"""

from __future__ import annotations

import math

import ml_collections
import numpy as np

from cnnfcn_jax import checks, models, sweeps, tasks, train
from cnnfcn_jax.experiments import samples_width_stats as stats
from cnnfcn_jax.experiments.samples_width_report import report  # noqa: F401
from cnnfcn_jax.experiments.samples_width_stats import claim_verdicts  # noqa: F401

ARCH_FIELDS = ("init", "trainable", "optimizer", "learning_rate", "first_layer_step")
# The frontier's search over m stops below at P(success) <= SEARCH_LOW, above at >= SEARCH_HIGH.
SEARCH_LOW, SEARCH_HIGH = 0.1, 0.9


def validate(c):
  """Raise checks.ConfigError naming the first invalid field."""
  checks.positive_int("k", c.k)
  if c.k > 20:
    checks.fail("k", c.k, "k <= 20 (targets are tables of 2^k entries)")
  for field in ("phase_num_trains", "frontier_num_trains"):
    checks.nonempty_tuple(field, c[field], checks.positive_int)
    if list(c[field]) != sorted(c[field]):
      checks.fail(field, c[field], "increasing sample sizes")
  checks.positive_int("phase_n", c.phase_n)
  if c.phase_n < c.k:
    checks.fail("phase_n", c.phase_n, f"an input size >= k = {c.k}")
  checks.nonempty_tuple("phase_widths", c.phase_widths, checks.positive_int)
  # sweeps.validate_task checks target, localities, position and task_seed against ns.
  sweeps.validate_task(c, (c.phase_n,), c.k, field="phase_n")
  smallest = c.k if "nonlocal" not in c.localities else tasks.min_nonlocal_n(c.k)
  checks.seeds("seeds", c.seeds)
  checks.positive_int("num_test", c.num_test)
  checks.fraction("success_accuracy", c.success_accuracy)
  checks.positive_int("bootstrap_resamples", c.bootstrap_resamples, minimum=10)
  checks.choice("activation", c.activation, tuple(models.ACTIVATIONS))
  checks.choice("compute_path", c.compute_path, sweeps.COMPUTE_PATHS)
  sweeps.validate_blocks(c)
  sweeps.validate_archs(c)
  for arch in c.archs:
    a = c[arch]
    sweeps.validate_arch_model(c, arch)
    checks.choice(f"{arch}.optimizer", a.optimizer, tuple(train.OPTIMIZERS))
    checks.positive_float(f"{arch}.learning_rate", a.learning_rate)
    checks.positive_int(f"{arch}.num_steps", a.num_steps)
    checks.positive_int(f"{arch}.log_every", a.log_every)
    if a.num_steps % a.log_every:
      checks.fail(f"{arch}.log_every", a.log_every,
                  f"a divisor of config.{arch}.num_steps = {a.num_steps}")
    checks.positive_int(f"{arch}.frontier_width", a.frontier_width)
    checks.nonempty_tuple(f"{arch}.frontier_ns", a.frontier_ns, checks.positive_int)
    checks.positive_int(f"{arch}.frontier_max_num_train", a.frontier_max_num_train, minimum=0)
    if not frontier_grid(c, arch):
      checks.fail(f"{arch}.frontier_max_num_train", a.frontier_max_num_train, "0 (no limit) "
                  f"or at least min(config.frontier_num_trains) = {min(c.frontier_num_trains)}")
    if min(a.frontier_ns) < smallest:
      checks.fail(f"{arch}.frontier_ns", a.frontier_ns, f"every n >= {smallest} (k = {c.k}"
                  + (", room for the nonlocal twin)" if smallest > c.k else ")"))
    if c.position != sweeps.MIDDLE and c.position > min(a.frontier_ns) - c.k:
      checks.fail("position", c.position, f"{sweeps.MIDDLE} (middle) or a window start in "
                  f"[0, min({arch}.frontier_ns) - k] = [0, {min(a.frontier_ns) - c.k}]")


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


def unit_config(c, arch, widths, m):
  """The sweeps-module config of one unit: `arch` alone at `widths`, m samples at every n."""
  a = c[arch]
  return ml_collections.ConfigDict(dict(
      archs=(arch,), target=c.target, position=c.position, task_seed=c.task_seed,
      num_steps=a.num_steps, log_every=a.log_every, num_test=c.num_test,
      activation=c.activation, compute_path=c.compute_path, seeds=tuple(c.seeds),
      seeds_per_block=c.seeds_per_block, seeds_per_call=c.seeds_per_call,
      min_num_train=m, samples_per_readout_weight=0.0,
      **{arch: dict(widths=tuple(widths), **{f: a[f] for f in ARCH_FIELDS})}))


def unit_rows(c, arch, locality, n, m, widths) -> list[dict]:
  """One sweep of all seeds x widths; one row per network (sweeps.unit_rows' fields)."""
  rows = sweeps.unit_rows(unit_config(c, arch, widths, m), arch, locality, n, c.k)
  return [dict(r, num_steps=c[arch].num_steps, success_accuracy=c.success_accuracy,
               success=bool(r["test_accuracy"] >= c.success_accuracy)) for r in rows]


def cost(c, arch, n, m, widths) -> float:
  """Relative cost of a unit for the progress log, in FCN flops: the FCN's matmuls, the
  pattern table's m windows (a gathered and scattered window costs about 500 flops' time
  on the 2-core CPU) and compiling (about 3e11)."""
  if models.ARCHITECTURES[arch].windowed:
    per_step = 500 * m * (n - c.k + 1) * len(widths)
  else:
    per_step = 6 * m * n * max(widths) * len(widths)
  return c[arch].num_steps * per_step * len(c.seeds) + 3e11


def unit(c, arch, locality, n, m, widths):
  return (f"{arch}-{locality}-n{n}-m{m}", cost(c, arch, n, m, widths),
          lambda: unit_rows(c, arch, locality, n, m, widths))


def frontier_search(c, checkpoint, arch, locality, n, start) -> list[dict]:
  """Units of one frontier n at the frontier width, m from frontier_num_trains: first the
  grid index `start`, then down until P(success) <= SEARCH_LOW (or the grid's first m),
  then up until P(success) >= SEARCH_HIGH (or its last). Where P grows with m, as it does
  but for seed noise, the grid points left out cannot hold the first crossing of 1/2 (of
  the seeds or of a bootstrap resample, short of a jump past SEARCH_LOW or SEARCH_HIGH)."""
  grid, width, rows, fraction = frontier_grid(c, arch), c[arch].frontier_width, [], {}

  def evaluate(i):
    new = checkpoint.run_units([unit(c, arch, locality, n, grid[i], (width,))],
                               f"frontier {arch} {locality} n={n}")
    rows.extend(new)
    fraction[i] = np.mean([r["success"] for r in new])

  evaluate(start)
  low = high = start
  while fraction[low] > SEARCH_LOW and low > 0:
    low -= 1
    evaluate(low)
  while fraction[high] < SEARCH_HIGH and high < len(grid) - 1:
    high += 1
    evaluate(high)
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
  """The phase diagram's units, then per (locality, arch) the frontier's n outward from
  phase_n (up, then down), each search starting at its neighbour's m*."""
  rows = checkpoint.run_units([unit(c, *key, widths) for key, widths in
                               phase_units(c).items()], "phase diagram")
  for locality in c.localities:
    for arch in c.archs:
      a = c[arch]
      ns = sorted(n for n in a.frontier_ns if n != c.phase_n)
      order = ([n for n in ns if n > c.phase_n] + [n for n in reversed(ns) if n < c.phase_n])
      done = {c.phase_n: [r for r in rows if (r["arch"], r["locality"]) == (arch, locality)
                          and r["width"] == a.frontier_width]} if c.phase_n in a.frontier_ns else {}
      for n in order:
        neighbour = min(done, key=lambda d: abs(math.log(d / n)), default=None)
        start = start_index(frontier_grid(c, arch), done.get(neighbour, []), a.frontier_width)
        done[n] = frontier_search(c, checkpoint, arch, locality, n, start)
        rows += done[n]
  return rows
