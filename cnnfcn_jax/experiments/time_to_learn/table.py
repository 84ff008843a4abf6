"""The time-to-learn cells: per (series, locality, arch, k, n), the stats of every
(optimiser, rate) on every seed and on each held-out half, the best chosen on the
selection half (stats.best_candidate) and measured on the reporting half, the grid-edge
and drop checks (docs/spec.md §9). What the claims then read of them is in fits.py.
"""

from __future__ import annotations

import numpy as np

from cnnfcn_jax import stats
from cnnfcn_jax.experiments.time_to_learn.fits import capped_times

CANDIDATE_KEY = ("optimizer", "learning_rate")
CELL_KEY = ("k_schedule", "locality", "arch", "k", "n")


def times_of(steps_to_success) -> np.ndarray:
  """Rows' steps_to_success values as floats, censored networks (None) as +inf."""
  return np.array([np.inf if t is None else t for t in steps_to_success], float)


def earliest_steps(times, schedule) -> np.ndarray:
  """The first step each recorded time may have been reached at: one after the previous
  check of `schedule` (a success seen at a check happened after the one before it); the
  recorded time itself without a schedule, or where it is not a later check."""
  if schedule is None:
    return times
  checks = np.asarray(schedule, float)
  previous = checks[np.maximum(np.searchsorted(checks, times, side="left") - 1, 0)] + 1
  return np.where(np.isfinite(times), np.minimum(previous, times), times)


def candidate_stats(rows, schedule=None) -> dict:
  """Success fraction and quartiles of one (cell, optimiser, rate), rows in seed order:
  Kaplan-Meier estimates, each network right-censored at the step its rate reached, with
  intervals no narrower than the checks (stats.quantile_with_interval)."""
  times = times_of([r["steps_to_success"] for r in rows])
  followed = np.array([r["stopped_at"] for r in rows], float)
  capped = np.minimum(times, followed)
  earliest = earliest_steps(times, schedule)
  # Where a success is known to lie above: the check before the one it was recorded at.
  lowers = times if schedule is None else np.where(times > 0, earliest - 1, times)
  hits = int(np.isfinite(times).sum())
  quantile = lambda q: stats.quantile_with_interval(times, q, followed=followed,  # noqa: E731
                                                    earliest=earliest)
  return dict(seeds=len(times), successes=hits, fraction=hits / len(times),
              wilson=stats.wilson_interval(hits, len(times)),
              median=quantile(0.5), q1=quantile(0.25), q3=quantile(0.75),
              times=times, capped=capped, followed=followed, lowers=lowers,
              reached=int(followed.max()),
              # Dropped by the stages with fewer than half its seeds done: its median is
              # only known to lie above its drop.
              dropped_below_half=rows[0].get("dropped_stage") is not None and 2 * hits < len(times),
              steps_per_second=rows[0]["steps_per_second"], width=rows[0]["width"])


def halves(group):
  """(selection rows, reporting rows) of one candidate's rows (stats.selection_half): the
  selection seeds choose each cell's best (optimiser, rate), the others measure it, so the
  reported time is what a fresh seed would see."""
  chosen = stats.selection_half([r["seed"] for r in group])
  return ([r for r, c in zip(group, chosen) if c], [r for r, c in zip(group, chosen) if not c])


def cell_table(rows, schedule=None) -> dict:
  """{cell key (CELL_KEY): dict(candidates={(optimizer, rate): stats}, halves, best,
  reported, same_seed, fixed, edge, might_be_faster, network_steps, full_grid_steps)}.

  candidates: every seed's stats; halves: {"select"|"report": {candidate: stats}} of
  halves(). best: the candidate stats.best_candidate picks on the selection half;
  reported: its stats on the reporting half (what the claims read, best_of); same_seed:
  the candidate picked on every seed, whose time is measured on the seeds that chose it
  (shown beside, for how much selection moves the numbers). schedule: the checks, for
  intervals no narrower than them (None: recorded steps exact).
  edge: the best rate is the lowest or the highest of its optimiser's grid, so the grid
  does not bracket the optimum. might_be_faster: the rates dropped at a budget below the
  reported median (or with it censored) with fewer than half their seeds done, whose
  medians are then only known to lie above their drop. network_steps: trained by the
  cell's calls, against full_grid_steps for every rate to the final budget.
  """
  grouped = {}
  for r in sorted(rows, key=lambda r: r["seed"]):
    cell = grouped.setdefault(tuple(r[k] for k in CELL_KEY), {})
    cell.setdefault(tuple(r[k] for k in CANDIDATE_KEY), []).append(r)
  table = {}
  for key, by_candidate in grouped.items():
    names = list(by_candidate)
    candidates = {c: candidate_stats(by_candidate[c], schedule) for c in names}
    split = {half: {c: candidate_stats(halves(by_candidate[c])[i], schedule) for c in names}
             for i, half in enumerate(("select", "report"))}
    horizon = min(s["reached"] for s in candidates.values())
    pick = lambda stats_of: names[int(stats.best_candidate(  # noqa: E731
        np.stack([capped_times(stats_of[c]) for c in names]), horizon))]
    best, same_seed = pick(split["select"]), pick(candidates)
    grid = sorted(rate for optimizer, rate in candidates if optimizer == best[0])
    fixed = [c for c, group in by_candidate.items() if group[0]["fixed_step"]]
    reported = split["report"][best]
    might_be_faster = [c for c, s in candidates.items()
                       if s["dropped_below_half"] and not reported["median"][0] <= s["reached"]]
    calls = {c[0]: group[0] for c, group in by_candidate.items()}  # one call per optimiser
    table[key] = dict(key=key, candidates=candidates, halves=split, best=best, reported=reported,
                      same_seed=same_seed, horizon=horizon, fixed=fixed[0] if fixed else None,
                      edge=len(grid) > 1 and best[1] in (grid[0], grid[-1]),
                      might_be_faster=might_be_faster,
                      seconds=sum(r.get("compile_seconds", 0) + r.get("run_seconds", 0)
                                  for r in calls.values()),
                      network_steps=sum(r.get("network_steps", 0) for r in calls.values()),
                      full_grid_steps=sum(r.get("full_grid_steps", 0) for r in calls.values()))
  return table
