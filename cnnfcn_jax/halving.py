"""Budgets that follow the best rates: successive halving over a call's rate axis
(docs/spec.md §9).

A steps-to-success call (online.py) of one cell and optimiser runs every rate of its grid
to a first budget B0; then it keeps the ceil(R / eta) rates with the most successes so
far and continues *those networks from their current state* to eta B0, keeps
ceil(R / eta^2) of them, and so on up to the final budget (the spec's last check step):

  stage j:  the kept rates, from check stage_ends[j - 1] to check stage_ends[j] (or the stop)
  ranking:  most successes; ties by the earliest successes (the lower sum of recorded
            steps), then by the higher mean evaluation accuracy where the stage ended, all
            counted on the ranking seeds only (`ranked`: a caller that chooses its best
            rate on some seeds and reports on others ranks on the choosing ones, so the
            stages never see a reported time)

Batches and evaluation samples are functions of (seed, step) alone and a stage continues
from the networks' state, so a network's recorded step does not depend on the stage it was
recorded in (a stage's program batches fewer rates: SGD's steps are bitwise those of a
rate run alone, tested; Adam may round differently in the last bit, as online.py says).
A rate the stop must know (`must_know`) is kept until at least half of all its seeds
have succeeded (ceil(S / 2) of S, odd S too), so that its median is known. A call
stops for good once its stop fires (online.py).

Dropping is a heuristic: a rate dropped at budget B with fewer than half its seeds done
has a median above B, which matters only where the cell's best median is above B (the
time-to-learn report names such cells: time_to_learn.report.cell_table's
might_be_faster).
"""

from __future__ import annotations

import math
import time

import jax
import numpy as np

from cnnfcn_jax import online

ETA = 3  # [choice] keep a third of the rates at each stage, continue them to 3x the budget


def stage_ends(check_steps, first_budget: int, eta: float = ETA) -> tuple[int, ...]:
  """Check indices at which the stages end: the first check at or above
  first_budget x eta^j for j = 0, 1, ..., the last one the final check."""
  last, ends, budget = len(check_steps) - 1, [], first_budget
  while not ends or ends[-1] < last:
    end = next((i for i, t in enumerate(check_steps) if t >= budget), last)
    if not ends or end > ends[-1]:  # a coarse schedule: budgets that share a check, once
      ends.append(end)
    budget *= eta
  return tuple(ends)


def kept_count(num_rates: int, stage: int, eta: float = ETA) -> int:
  """How many rates stage `stage` (0 = the first, every rate) trains: ceil(R / eta^stage)."""
  return max(1, math.ceil(num_rates / eta**stage - 1e-9))


def ranking(first, accuracy) -> list[int]:
  """Rate indices, best first, of (S, R) recorded steps (-1: pending) and evaluation
  accuracies: most successes, then the earliest (lowest sum of recorded steps), then the
  highest mean accuracy; the grid's order breaks what remains."""
  done = first >= 0
  keys = [(-int(done[:, r].sum()), int(first[done[:, r], r].sum()),
           -float(accuracy[:, r].mean()), r) for r in range(first.shape[1])]
  return [key[-1] for key in sorted(keys)]


def median_known(first) -> np.ndarray:
  """(R,) bool: at least half the seeds of each rate have succeeded (ceil(S / 2) of S: the
  median, the order statistic of rank ceil(S / 2), is then a recorded step)."""
  return 2 * (first >= 0).sum(0) >= first.shape[0]


def run(spec: online.OnlineSweep, seeds, rates, first_budget: int, eta: float = ETA,
        ranked=None, must_know=()) -> dict:
  """Successive halving over `rates` (online.run's rates and must_know), the stages ranked
  on the seeds where `ranked`
  ((S,) bool; default every seed) is True: (S, R) arrays steps_to_success,
  final_eval_accuracy, stopped_at (the budget, or the stop, each rate reached), diverged;
  dropped_stage (R,): the stage after which a rate was dropped (-1: kept to the end);
  stage_budgets: the check step each stage that ran ended at; network_steps: the
  network-steps trained, against full_grid_steps = S x R x the final budget;
  compile_seconds: compiling every stage's program (online.compile_call, apart from its
  run)."""
  online.check_rates(rates, must_know, "halving.run")
  checks = spec.check_steps
  shape = (len(seeds), len(rates))
  ranked = np.ones(len(seeds), bool) if ranked is None else np.asarray(ranked, bool)
  if ranked.shape != (len(seeds),) or not ranked.any():
    raise ValueError(f"halving.run: ranked has shape {ranked.shape} and {ranked.sum()} "
                     f"seeds set; expected ({len(seeds)},) bool with at least one True")
  result = dict(steps_to_success=np.full(shape, -1, np.int32),
                final_eval_accuracy=np.zeros(shape), stopped_at=np.zeros(shape, np.int64),
                diverged=np.zeros(shape, bool), dropped_stage=np.full(len(rates), -1))
  ends = stage_ends(checks, first_budget, eta)
  alive, carry, start, budgets, network_steps = list(range(len(rates))), None, 0, [], 0
  compile_seconds = 0.0
  for stage, end in enumerate(ends):
    stage_rates = tuple(rates[r] for r in alive)
    last = stage == len(ends) - 1
    began = time.perf_counter()  # compiled apart from the run, to time it
    online.compile_call(spec, seeds, len(stage_rates), continued=stage > 0)
    compile_seconds += time.perf_counter() - began
    out = online.run(spec, seeds, stage_rates, tuple(r for r in must_know if r in stage_rates),
                     carry=carry, start=start, end=end, return_carry=not last)
    for name in ("steps_to_success", "final_eval_accuracy", "stopped_at", "diverged"):
      result[name][:, alive] = out[name]
    reached = int(out["stopped_at"][0, 0])
    budgets.append(reached)
    network_steps += len(seeds) * len(alive) * (reached - checks[start])
    if last or out["stop_fired"][0, 0]:
      break
    order = [alive[i] for i in ranking(out["steps_to_success"][ranked],
                                       out["final_eval_accuracy"][ranked])]
    unknown = [r for r, known in zip(alive, median_known(out["steps_to_success"]))
               if rates[r] in must_know and not known]
    keep = sorted(set(order[:kept_count(len(rates), stage + 1, eta)]) | set(unknown))
    result["dropped_stage"][[r for r in alive if r not in keep]] = stage
    positions = [alive.index(r) for r in keep]
    carry = jax.tree.map(lambda a: a[:, positions], out["carry"])
    alive, start = keep, end
  return dict(result, stage_budgets=tuple(budgets), network_steps=network_steps,
              full_grid_steps=len(seeds) * len(rates) * checks[-1],
              compile_seconds=compile_seconds)
