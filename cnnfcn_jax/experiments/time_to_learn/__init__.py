"""Time to learn (docs/spec.md §9): SGD steps until a k-parity is learned, against n, each
network at its best step.

One checkpointed unit per (arch, locality, n, k) cell: per optimiser of <arch>.rates, all
seeds x that optimiser's learning rates in compiled calls of online.run, stopped once
every seed of some rate has succeeded (and, in the fixed-k series, the fixed step's median
is known). Every rate trains to num_steps; a cell with a larger final budget
(<arch>.log2_final_steps) continues the best rates by successive halving (halving.py),
ranked on the selection seeds only (stats.selection_half, the report's held-out choice). A
cell belongs to the fixed-k series when k is in fixed_ks and n in <arch>.ns, to the
k = log2 n series when n is in <arch>.log2_ns and k = log2 n; a cell in both is run
once and its rows appear once per series (field k_schedule). One row per network (seed,
optimiser, rate).

The report (report.py; its claims in claims.py, its figures in plots.py) takes, per cell,
the best (optimiser, rate): the lowest median steps to success (ties: the lower third
quartile, then the lower mean of the times capped at the fewest steps any rate of the cell
reached). Exponents α of median ≈ c n^α are fitted on the best medians, with a bootstrap
interval that re-selects the best inside every resample (stats), and on the fixed step
(<arch>.optimizer, <arch>.learning_rate) beside them.
"""

from __future__ import annotations

import math
import time

from cnnfcn_jax import (checkpoints, checks, engine, halving, kpattern_config, models, online,
                        stats)


# --------------------------------------------------------------------------- validate


def validate(c):
  """Raise checks.ConfigError naming the first invalid field."""
  checks.nonempty_tuple("fixed_ks", c.fixed_ks, checks.positive_int)
  kpattern_config.validate_k("fixed_ks", c.fixed_ks)
  kpattern_config.validate_archs(c)
  for arch in c.archs:
    a = c[arch]
    # An empty tuple leaves the arch out of a series; the others are checked as tasks.
    for field in ("ns", "log2_ns"):
      if not isinstance(a[field], (tuple, list)):
        checks.fail(f"{arch}.{field}", a[field], "a tuple of input sizes, () for none")
    if a.ns:
      kpattern_config.validate_task(c, a.ns, max(c.fixed_ks), field=f"{arch}.ns")
    if a.log2_ns:
      if any(not isinstance(n, int) or n < 4 or n & (n - 1) for n in a.log2_ns):
        checks.fail(f"{arch}.log2_ns", a.log2_ns, "powers of two >= 4 (k = log2 n)")
      # n - log2 n and the room for a nonlocal twin grow with n: the smallest n binds.
      kpattern_config.validate_task(c, a.log2_ns, int(math.log2(min(a.log2_ns))),
                           field=f"{arch}.log2_ns")
  checks.seeds("seeds", c.seeds)
  checks.choice("protocol", c.protocol, online.PROTOCOLS)
  checks.choice("stop", c.stop, online.STOPS)
  for field in ("batch_size", "num_train", "num_steps", "eval_every", "num_eval"):
    checks.positive_int(field, c[field])
  checks.positive_int("every_step_until", c.every_step_until, minimum=0)
  checks.positive_float("halving_eta", c.halving_eta)
  if c.halving_eta <= 1:
    checks.fail("halving_eta", c.halving_eta, "a factor > 1 (3 keeps a third of the rates "
                "at each stage and triples the budget)")
  checks.positive_float("eval_growth", c.eval_growth)
  if c.eval_growth < 1:
    checks.fail("eval_growth", c.eval_growth, "a factor >= 1 (1 = every eval_every steps)")
  checks.fraction("success_accuracy", c.success_accuracy)
  checks.choice("activation", c.activation, tuple(models.ACTIVATIONS))
  checks.choice("compute_path", c.compute_path, kpattern_config.COMPUTE_PATHS)
  for arch in c.archs:
    validate_arch(c, arch)
  if not cells(c):
    checks.fail("archs", c.archs, "at least one architecture with a non-empty ns or log2_ns")
  for _, locality, n, k in cells(c):  # a task of one's own, made at every cell's (n, k)
    kpattern_config.make_task(c, locality, n, k)


def validate_arch(c, arch):
  """Width, init, trained groups, step rule, the rate grids and the fixed step of `arch`."""
  a = c[arch]
  checks.positive_int(f"{arch}.width", a.width, minimum=0)
  checks.positive_int(f"{arch}.width_per_pattern", a.width_per_pattern, minimum=0)
  if not a.width and not a.width_per_pattern:
    checks.fail(f"{arch}.width", a.width, f"a width > 0, or config.{arch}.width_per_pattern "
                "> 0 (width = max(width, width_per_pattern x 2^k))")
  kpattern_config.validate_arch_model(c, arch)
  kpattern_config.check_family(c, arch, tuple(a.ns) + tuple(a.log2_ns))
  if not hasattr(a.rates, "items") or not a.rates:
    checks.fail(f"{arch}.rates", dict(a.rates) if hasattr(a.rates, "items") else a.rates,
                "a dict {optimizer: (learning rates, ...)} with at least one optimizer of "
                f"{tuple(engine.OPTIMIZERS)}")
  for optimizer, rates in a.rates.items():
    if optimizer not in engine.OPTIMIZERS:
      checks.fail(f"{arch}.rates.{optimizer}", rates, f"rates of an optimizer of "
                  f"{tuple(engine.OPTIMIZERS)} ('{optimizer}' is none of them)")
    checks.nonempty_tuple(f"{arch}.rates.{optimizer}", rates, checks.positive_float)
  budgets = a.log2_final_steps
  if not isinstance(budgets, (tuple, list)) or any(
      not isinstance(b, (tuple, list)) or len(b) != 2 or b[0] not in a.log2_ns
      or not isinstance(b[1], int) or b[1] < c.num_steps for b in budgets):
    checks.fail(f"{arch}.log2_final_steps", budgets, "pairs (n, steps) with n one of "
                f"config.{arch}.log2_ns = {tuple(a.log2_ns)} and steps an int >= num_steps "
                f"({c.num_steps}), () for none")
  checks.choice(f"{arch}.optimizer", a.optimizer, tuple(a.rates))
  checks.positive_float(f"{arch}.learning_rate", a.learning_rate)
  if a.learning_rate not in a.rates[a.optimizer]:
    checks.fail(f"{arch}.learning_rate", a.learning_rate,
                f"one of config.{arch}.rates.{a.optimizer} = {tuple(a.rates[a.optimizer])} "
                "(the fixed step is measured inside the grid)")


# -------------------------------------------------------------------------------- run


def cells(c) -> dict:
  """{(arch, locality, n, k): [k_schedule, ...]} of every cell the config runs, in order."""
  result = {}
  for locality in c.localities:
    for arch in c.archs:
      a = c[arch]
      for k in c.fixed_ks:
        for n in a.ns:
          result.setdefault((arch, locality, n, k), []).append("fixed")
      for n in a.log2_ns:
        result.setdefault((arch, locality, n, int(math.log2(n))), []).append("log2_n")
  return result


def width(c, arch, k) -> int:
  return max(c[arch].width, c[arch].width_per_pattern * 2**k)


def final_budget(c, arch, n, k, series) -> int:
  """The cell's final step budget: its log2_final_steps entry in the k = log2 n series,
  else num_steps."""
  extended = dict(tuple(pair) for pair in c[arch].log2_final_steps)
  return extended.get(n, c.num_steps) if "log2_n" in series else c.num_steps


def make_spec(c, arch, locality, n, k, optimizer, series=("fixed",)) -> online.OnlineSweep:
  """The program of one cell and optimiser (its rates are rates()'s)."""
  network = dict(kpattern_config.network_fields(c, arch, locality, n, k), optimizer=optimizer)
  return online.OnlineSweep(
      **network, width=width(c, arch, k), batch_size=c.batch_size,
      check_steps=online.check_schedule(final_budget(c, arch, n, k, series), c.eval_every,
                                        c.eval_growth, c.every_step_until),
      num_eval=c.num_eval, success_accuracy=c.success_accuracy, protocol=c.protocol,
      num_train=c.num_train, stop=c.stop)


def rates(c, arch, optimizer, series=("fixed",)) -> tuple[tuple, tuple]:
  """(rates, must_know) of one cell and optimiser: all its rates; in the fixed-k series,
  whose fixed-step exponents need it, waiting for the fixed step's median."""
  a = c[arch]
  fixed = optimizer == a.optimizer and "fixed" in series
  return tuple(float(r) for r in a.rates[optimizer]), (float(a.learning_rate),) if fixed else ()


def run(c, checkpoint: checkpoints.Checkpoint | None = None) -> list[dict]:
  checkpoint = checkpoint or checkpoints.Checkpoint()  # none given: nothing is kept
  units = [(f"{arch}-{locality}-n{n}-k{k}",
            n * width(c, arch, k) * sum(len(r) for r in c[arch].rates.values()),
            lambda key=(arch, locality, n, k), series=series: cell_rows(c, *key, series))
           for (arch, locality, n, k), series in cells(c).items()]
  return checkpoint.run_units(units, "cell")


def cell_rows(c, arch, locality, n, k, series) -> list[dict]:
  """Per optimiser, all seeds x rates by stages (halving.run); one row per network and
  series. network_steps / full_grid_steps: what the call trained against every rate to
  the final budget."""
  rows = []
  for optimizer in c[arch].rates:
    spec = make_spec(c, arch, locality, n, k, optimizer, series)
    grid, must_know = rates(c, arch, optimizer, series)
    start = time.perf_counter()
    # The stages rank rates on the selection seeds only: the held-out report's choice.
    out = halving.run(spec, c.seeds, grid, c.num_steps, c.halving_eta,
                      ranked=stats.selection_half(c.seeds), must_know=must_know)
    compile_seconds = out["compile_seconds"]  # every stage's program
    run_seconds = time.perf_counter() - start - compile_seconds
    for s, seed in enumerate(c.seeds):
      for r, rate in enumerate(grid):
        first = int(out["steps_to_success"][s, r])
        for k_schedule in series:
          rows.append(dict(
              arch=arch, locality=locality, k_schedule=k_schedule, k=k, n=n, width=spec.width,
              seed=seed, protocol=c.protocol, batch_size=c.batch_size, optimizer=optimizer,
              learning_rate=rate, first_layer_learning_rate=rate * spec.first_layer_step_scale,
              fixed_step=optimizer == c[arch].optimizer and rate == c[arch].learning_rate,
              num_steps=spec.num_steps, first_budget=c.num_steps,
              eval_every=c.eval_every, eval_growth=c.eval_growth,
              every_step_until=c.every_step_until,
              steps_to_success=first if first >= 0 else None,
              final_eval_accuracy=float(out["final_eval_accuracy"][s, r]),
              stopped_at=int(out["stopped_at"][s, r]), diverged=bool(out["diverged"][s, r]),
              dropped_stage=(None if out["dropped_stage"][r] < 0
                             else int(out["dropped_stage"][r])),
              stage_budgets=list(out["stage_budgets"]), network_steps=out["network_steps"],
              full_grid_steps=out["full_grid_steps"],
              compute_path="table" if spec.table else "dense",
              compile_seconds=compile_seconds, run_seconds=run_seconds,
              steps_per_second=out["network_steps"] / max(run_seconds, 1e-9),
              **({"task": c.task} if kpattern_config.own_task(c) else {})))
  return rows
