"""The width series of samples_width: m*(q) at phase_n for <arch>.width_series, each width at
a learning rate chosen on held-out seeds, in one or more arms (config.series_arms):

  standard  the FCN's own parametrisation (u ~ N(0, 1/q)): Adam's per-parameter steps do
            not shrink with width, so at one rate the wider network's function moves
            faster; each width gets its own rate.
  mup       the maximal-update parametrisation (train.PARAMETRISATIONS: readout multiplier
            1/q, u ~ N(0, 1), so the readout's Adam rate is the base rate / q): one base rate
            for every width, as the parametrisation intends.
  sparse    "standard" with Edelman et al. 2023's sparse initialisation (each unit on
            series_sparse_support random coordinates, models "sparse_bias"); its own rates.

(The tuned phase diagram, PHASE, reuses both stages for the CNN/LCN's phase claim.) Each
arm runs in two stages. `select`: every width x every rate of series_learning_rates.<arm>
on series_selection_seeds (disjoint from the reporting seeds), searched over the factor-2
grid without midpoints; the rate of each width (one rate for mup) is the one whose m* on
those seeds is smallest (choose). `report`: the chosen rates on the reporting seeds
(config.seeds), searched and refined like the frontier; m*(q) and the slope γ of log m*(q)
on log q are read from these alone, so the choice is held out.
"""

from __future__ import annotations

import math

import numpy as np

from cnnfcn_jax.experiments.samples_width import stats

ARMS = ("standard", "mup", "sparse")
ONE_RATE = ("mup",)  # arms whose rate is one base rate for every width
SELECT, REPORT = "select", "report"
# The tuned phase diagram's rows (CNN/LCN at phase_n): every width >= 2^k at every rate of
# <arch>.phase_learning_rates on the selection seeds, then the whole phase grid of m at the
# chosen rates (each width its own, as `standard`) on the reporting seeds; the phase claim
# is judged on them.
PHASE = "phase"


def arm_fields(c, arm) -> dict:
  """The train.Sweep fields of an arm beside the config's (kpattern_config.make_sweep)."""
  if arm == "mup":
    return dict(parametrisation="mup")
  if arm == "sparse":
    return dict(init="sparse_bias", init_support=c.series_sparse_support)
  return {}


def arm_rows(rows, arm, role):
  """The rows of one arm's stage."""
  return [r for r in rows if r.get("series") and r.get("arm") == arm and r.get("role") == role]


def tuned_phase_rows(rows, arch):
  """The tuned phase diagram's reporting rows of arch (PHASE)."""
  return [r for r in arm_rows(rows, PHASE, REPORT) if r["arch"] == arch]


def selection_frontiers(rows) -> tuple[dict, dict]:
  """({(width, rate): m* on the selection seeds} (stats.frontier: inf beyond the grid),
  stats.outcomes by (width, rate)) from one arm's selection rows."""
  cells = stats.outcomes(rows, keys=("width", "learning_rate"))
  return {key: float(stats.frontier(ms, success.mean(0)))
          for key, (ms, _, success) in cells.items()}, cells


def choose(rows, arm) -> dict:
  """{width: rate} of one arm from its selection rows: per width, the rate of smallest m*
  (ties: the higher mean P(success) over the measured m, then the smaller rate); for the
  ONE_RATE arms one rate for all widths: the fewest widths beyond the grid, then the
  smallest mean log m* over the others, then as above."""
  fronts, cells = selection_frontiers(rows)
  mean_p = {key: float(success.mean()) for key, (_, _, success) in cells.items()}
  widths = sorted({q for q, _ in fronts})
  rates = sorted({r for _, r in fronts})
  if arm in ONE_RATE:
    def rank(r):
      values = [fronts[q, r] for q in widths]
      finite = [math.log(v) for v in values if np.isfinite(v)]
      return (len(values) - len(finite), np.mean(finite) if finite else 0.0,
              -np.mean([mean_p[q, r] for q in widths]), r)
    best = min(rates, key=rank)
    return {q: best for q in widths}
  return {q: min(rates, key=lambda r: (fronts[q, r], -mean_p[q, r], r)) for q in widths}


def analysis(rows, c) -> dict:
  """stats.analysis with each cell's width series: `series` {arm: arm_analysis}."""
  found = stats.analysis(rows, c)
  for (arch, locality), cell in found.items():
    cell["series"] = arm_analysis(rows, c, arch, locality)
  return found


def arm_analysis(rows, c, arch, locality) -> dict:
  """{arm: dict(fronts {q: Frontier on the reporting seeds}, fit (the slope γ, seeds paired
  across widths), chosen {q: rate}, selection {(q, rate): m* on the selection seeds},
  measured {role: sorted m})} of each arm with rows."""
  result = {}
  mine = [r for r in rows if (r["arch"], r["locality"], r["n"]) == (arch, locality,
                                                                   c["phase_n"])]
  for arm in c.get("series_arms", ()):
    select, report = arm_rows(mine, arm, SELECT), arm_rows(mine, arm, REPORT)
    if not report:
      continue
    cells = stats.outcomes(report, keys=("width",))
    fronts = {q: stats.frontier_with_interval(ms, success, c["bootstrap_resamples"])
              for (q,), (ms, _, success) in sorted(cells.items())}
    fit = stats.frontier_exponent({q: (cells[q,][0], cells[q,][2]) for q in fronts},
                                  c["bootstrap_resamples"], fronts=fronts, paired=True)
    result[arm] = dict(
        fronts=fronts, fit=fit, chosen=choose(select, arm) if select else {},
        selection=selection_frontiers(select)[0] if select else {},
        used={q: next(r["learning_rate"] for r in report if r["width"] == q) for q in fronts},
        measured={role: sorted({r["num_train"] for r in part})
                  for role, part in ((SELECT, select), (REPORT, report))})
  return result
