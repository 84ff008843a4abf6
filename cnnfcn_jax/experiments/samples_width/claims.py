"""The samples_width claims, each judged three ways on intervals (plots.Verdict): holds,
FAILS, or not established where data are missing (fewer than two n with m* inside the
measured m, a bound where a value is needed) or the intervals decide neither way. The rule
of each is in its claim's text.
"""

from __future__ import annotations

import math

from cnnfcn_jax import models, plots, stats
from cnnfcn_jax.experiments.samples_width import series as series_module
from cnnfcn_jax.experiments.samples_width.series import analysis
from cnnfcn_jax.experiments.samples_width.stats import (BEYOND, LEVEL, fmt_beta, fmt_fit_ns,
                                                        fmt_m, phase_rows, success_table)


def entirely_below(a, b) -> bool:
  """Interval of m* a lies below b's: a's high end under b's low end (a bound > m counts
  from m on; a below-bound's low end is 0, so nothing lies below it)."""
  return a.high < b.low or (b.kind == BEYOND and a.kind != BEYOND and a.high <= b.m_lo)


def polynomial(arch, cell) -> plots.Verdict:
  fit, fronts = cell["fit"], cell["frontier"]
  ns = sorted(fronts)
  # The frontier left the grid: beyond it at some n while inside at a smaller one.
  left = [n for n in ns if fronts[n].kind == BEYOND
          and any(fronts[m].inside for m in ns if m < n)]
  bounds = [n for n in ns if not fronts[n].inside]
  if (fit["beta"] is not None and fit["low"] >= 2) or left:
    holds, why = False, ""
  elif fit["beta"] is None:
    holds, why = None, "; fewer than two n inside"
  elif fit["high"] < 2 and not bounds:
    holds, why = True, ""
  else:
    holds, why = None, ("; β's interval reaches 2" if fit["high"] >= 2 else
                        "; m* is a bound at n = " + ", ".join(map(str, bounds)))
  return plots.Verdict(
      f"{plots.label(arch)} m*(n) polynomial: m* inside the measured m at every n and β's 95% "
      "interval below 2 (FAILS: β's interval at or above 2, or m* beyond the grid at an n "
      "above one where it is inside)", holds,
      f"β = {fmt_beta(fit)}, {fmt_fit_ns(fit, fronts)}"
      + (f"; beyond the grid at n = {left}" if left else "") + why)


def faster(fcn, arch, f_cell, w_cell) -> plots.Verdict:
  f, w = f_cell["fit"], w_cell["fit"]
  ff, wf = f_cell["frontier"], w_cell["frontier"]
  ns = sorted(ff)
  # The FCN beyond the grid from some n on, where arch's interval lies below the FCN's bound.
  tail = [n for i, n in enumerate(ns) if all(ff[m].kind == BEYOND for m in ns[i:])]
  beyond = bool(tail) and all(n in wf and entirely_below(wf[n], ff[n]) for n in tail)
  both = f["beta"] is not None and w["beta"] is not None
  holds = (True if beyond or (both and f["low"] > w["high"]) else
           False if both and f["high"] < w["low"] else None)
  missing = [plots.label(a) for a, x in ((fcn, f), (arch, w)) if x["beta"] is None]
  why = ("" if holds is not None else "; β intervals overlap" if both else
         f"; no β for {' or '.join(missing)}")
  return plots.Verdict(
      f"{plots.label(fcn)} m* grows faster than {plots.label(arch)}'s (β intervals disjoint "
      f"and above, or beyond the grid from some n on where {plots.label(arch)}'s lies below; "
      "FAILS: β intervals disjoint and below)", holds,
      f"β {plots.label(fcn)} {fmt_beta(f)}, {plots.label(arch)} {fmt_beta(w)}"
      + (f"; {plots.label(fcn)} beyond the grid from n = {tail[0]}" if tail else "") + why)


def phase_claim(arch, cell, rows, c) -> plots.Verdict:
  """P(success) >= 1/2 in every cell past the frontier, judged as a family (phase_family),
  on the tuned phase diagram (each width >= 2^k at its step chosen on held-out seeds,
  series.tuned_phase_rows) where it was run, else on the phase diagram's one step."""
  tuned = series_module.tuned_phase_rows(rows, arch)
  holds, measured, reference = phase_family(arch, cell, tuned or phase_rows(rows, c), c)
  k = c["k"]
  how = (f"each width at its {c[arch]['optimizer']} step chosen on "
         f"{len(c['series_selection_seeds'])} held-out seeds from "
         f"{', '.join(f'{r:g}' for r in c[arch]['phase_learning_rates'])}" if tuned else
         f"every width at one {c[arch]['optimizer']} step {c[arch]['learning_rate']:g}")
  return plots.Verdict(
      f"{plots.label(arch)} phase diagram: with {how}, P(success) >= 1/2 at every width >= "
      f"2^k = {2**k} and every m at or above the upper end of m*'s interval (width "
      f"{cell['width']} at the phase diagram's step: "
      f"{fmt_m(reference) if reference else 'not measured'}), judged as a family: each of "
      "the K cells on its Wilson interval at level 1 - 0.05/K (holds: every one above 1/2; "
      "FAILS: one wholly below)", holds, measured)


def phase_family(arch, cell, rows, c):
  """(holds, measured, reference) of the phase claim on `rows` (the phase diagram's, or the
  tuned ones): with K cells (width >= 2^k, m at or above the upper end of the reference m*'s
  interval), each on its Wilson interval at level 1 - 0.05 / K (Bonferroni), so that the
  claim as a whole is a 95% statement. Holds: every cell's interval lies above 1/2 (shown,
  not only not refuted); FAILS: one lies wholly below; else not established (None)."""
  reference = cell["frontier"].get(c["phase_n"]) or cell["phase"].get(cell["width"])
  # Cells surely past the frontier: m at or above the upper end of m*'s interval.
  threshold = reference.high if reference is not None else math.inf
  counts = success_table([r for r in rows if r["arch"] == arch and r["width"] >= 2**c["k"]
                          and r["num_train"] >= threshold],
                         keys=("width", "num_train"), intervals=False)
  level = 1 - (1 - stats.CONFIDENCE) / max(len(counts), 1)
  table = {key: (*v[:3], *stats.wilson_interval(v[0], v[1], level))
           for key, v in counts.items()}
  below = [key for key, v in sorted(table.items()) if v[4] < LEVEL]
  unsure = [key for key, v in sorted(table.items()) if v[3] <= LEVEL <= v[4]]
  holds = False if below else None if unsure or not table else True

  def text(q, m):
    return f"q = {q}, m = {m}: {table[q, m][2]:.2f} [{table[q, m][3]:.2f}, {table[q, m][4]:.2f}]"
  if below:
    measured = "below 1/2 at " + "; ".join(text(*key) for key in below)
  elif table:
    lowest = min(table, key=lambda key: table[key][3])
    measured = (f"{len(table)} cells at level {level:.4f} each, {len(table) - len(unsure)} "
                f"above 1/2, {len(unsure)} undecided; lowest {text(*lowest)}")
  else:
    measured = "no cell at m >= m*'s upper end"
  return holds, measured, reference


def width_claims(arch, cell, c) -> list[plots.Verdict]:
  """Per arm of the width series (the phase diagram's grid where there is none): the slope
  γ of log m*(q) on log q over the widths with m* inside, stats.frontier_exponent, its
  seeds paired across widths, its interval the hull of the bootstrap's and the brackets'.
  Holds: γ's interval below 0 (m* falls with width); FAILS: at or above 0."""
  if not cell["series"]:
    return [width_verdict(arch, c, "the phase diagram's widths",
                          f"the config's one {c[arch]['optimizer']} step "
                          f"{c[arch]['learning_rate']:g} for every width", cell["width_fit"],
                          cell["phase"], {})]
  return [width_verdict(arch, c, f"{arm} arm", arm_words(arm, c), part["fit"], part["fronts"],
                        part["used"]) for arm, part in cell["series"].items()]


def arm_words(arm, c) -> str:
  """How an arm's rates were chosen, for its verdict."""
  held_out = f"chosen on {len(c['series_selection_seeds'])} held-out seeds"
  return {"standard": f"standard parametrisation, each width at its own Adam rate {held_out}",
          "mup": f"maximal-update parametrisation (readout multiplier 1/q), one base Adam rate "
                 f"for every width {held_out}",
          "sparse": f"sparse initialisation ({c.get('series_sparse_support')} coordinates a "
                    f"unit), each width at its own Adam rate {held_out}"}[arm]


def width_verdict(arch, c, which, how, fit, fronts, rates) -> plots.Verdict:
  if fit is None or fit["beta"] is None:
    holds, slope = None, "γ undefined (fewer than two widths with m* inside)"
  else:
    holds = True if fit["high"] < 0 else False if fit["low"] >= 0 else None
    slope = f"γ = {fmt_beta(fit)}"
  return plots.Verdict(
      f"{plots.label(arch)} width series, {which}, at n = {c['phase_n']} ({how}): m* falls "
      "with width "
      "(the slope γ of log m*(q) on log q, seeds paired across widths, its 95% interval "
      "holding the brackets; holds: below 0; FAILS: at or above 0, m* does not fall with "
      f"width at these rates and {c[arch]['num_steps']} steps)", holds,
      f"{slope}; widths {', '.join(map(str, sorted(fronts)))}: " + "; ".join(
          f"q = {q}" + (f" (rate {rates[q]:g})" if q in rates else "") + f": {fmt_m(fronts[q])}"
          for q in sorted(fronts)))


def claim_verdicts(rows, config) -> list[plots.Verdict]:
  """The issue's claims on the local task (docs: experiments/samples_width/__init__.py)."""
  local = [r for r in rows if r["locality"] == "local"]
  found = {a: cell for (a, _), cell in analysis(local, config).items()}
  windowed = [a for a in found if models.windowed(a)]
  fcns = [a for a in found if models.fully_connected(a)]
  result = [polynomial(arch, found[arch]) for arch in windowed]
  result += [faster(fcn, arch, found[fcn], found[arch]) for fcn in fcns for arch in windowed]
  result += [phase_claim(arch, found[arch], local, config) for arch in windowed]
  result += [v for arch in fcns for v in width_claims(arch, found[arch], config)]
  return result
