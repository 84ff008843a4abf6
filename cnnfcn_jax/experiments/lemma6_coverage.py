"""Lemma 6: how wide must the paper's CNN be for its filters to cover every k-pattern?

For each k and width q (a grid around q*(k, δ)), draw many paper initialisations W in
{±1/k}^{q×k} at once (vmapped) and measure the fraction for which
  (a) every pattern z is the filter of some unit (N(z) >= 1), and the constructed u*
      reaches zero hinge loss on all 2^k window patterns;
  (b) Lemma 6's event holds: N(z) >= q / 2^{k+1} for every z (guaranteed w.p. >= 1 - δ
      at q >= q*).
One row per (k, q) with counts and 95% Wilson intervals.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from cnnfcn_jax import checkpoints, checks, plots, stats, tasks, theory


def validate(c):
  checks.nonempty_tuple("ks", c.ks, checks.positive_int)
  if max(c.ks) > 12:
    checks.fail("ks", c.ks, "every k <= 12 (q* grows like 2^k k)")
  checks.fraction("delta", c.delta)
  checks.nonempty_tuple("width_factors", c.width_factors, checks.positive_float)
  checks.positive_int("num_inits", c.num_inits, minimum=2)
  checks.positive_int("inits_per_batch", c.inits_per_batch)
  checks.choice("target", c.target, tasks.TARGETS)
  checks.positive_int("task_seed", c.task_seed, minimum=0)
  checks.seed("seed", c.seed)


def widths_for(c, k):
  q_star = theory.lemma6_width_threshold(k, c.delta)
  return sorted({max(1, int(round(f * q_star))) for f in c.width_factors})


def coverage_stats(key, k, q, truth_table, num_inits, inits_per_batch):
  """Per-init (covered, u* zero loss, Lemma 6 event, ||u*||^2) for num_inits paper inits."""
  b = jnp.full((q,), 1.0 / k - 1.0)

  def one_init(init_key):
    W = jax.random.rademacher(init_key, (q, k), jnp.result_type(float)) / k
    counts = theory.pattern_counts(W)
    u_star = theory.readout_star(W, truth_table, 0, 1)[0]
    h = theory.window_pattern_outputs(W, b, u_star)
    g = jnp.asarray(truth_table, h.dtype)
    zero_loss = jnp.all(jnp.maximum(0.0, 1.0 - g * h) <= 1e-5)
    return (theory.covers_all_patterns(counts), zero_loss, theory.lemma6_event(counts, q),
            theory.readout_star_norm_sq(counts, k))

  keys = jax.random.split(key, num_inits)
  return jax.device_get(jax.jit(lambda ks: jax.lax.map(one_init, ks, batch_size=inits_per_batch))(keys))


def run(c, checkpoint: checkpoints.Checkpoint | None = None) -> list[dict]:
  checkpoint = checkpoint or checkpoints.Checkpoint()  # none given: nothing is kept
  return checkpoint.run_units(
      [(f"k{k}-q{q}", q * k, lambda k=k, q=q: unit_rows(c, k, q))
       for k in c.ks for q in widths_for(c, k)], "coverage")


def unit_rows(c, k, q) -> list[dict]:
  """Counts and intervals of the coverage events for one (k, q): one row."""
  root = jax.random.key(c.seed)
  table = tasks.make_task(k, k, c.target, task_seed=c.task_seed).truth_table
  key = jax.random.fold_in(jax.random.fold_in(root, k), q)
  covered, zero_loss, event, norm_sq = coverage_stats(key, k, q, table, c.num_inits,
                                                      c.inits_per_batch)
  row = dict(k=k, q=q, q_star=theory.lemma6_width_threshold(k, c.delta), delta=c.delta,
             num_inits=c.num_inits, target=c.target)
  for name, hits in (("covered", covered), ("zero_loss", zero_loss), ("lemma6_event", event)):
    count = int(np.sum(hits))
    row[name] = count
    row[name + "_fraction"] = count / c.num_inits
    row[name + "_wilson95"] = list(stats.wilson_interval(count, c.num_inits))
  finite = norm_sq[np.isfinite(norm_sq)]
  row["u_star_norm_sq_mean"] = float(finite.mean()) if len(finite) else None
  row["u_star_norm_sq_max_under_event"] = (float(norm_sq[event].max()) if event.any() else None)
  row["u_star_norm_sq_bound"] = theory.readout_star_norm_bound(k, q)
  # The exact probabilities the two fractions estimate (zero_loss happens exactly on the
  # covered inits, so it shares covered's).
  row["covered_exact"] = theory.coverage_probability(k, q)
  row["lemma6_event_exact"] = theory.lemma6_event_probability(k, q)
  return [row]


def claim_verdicts(rows) -> list[plots.Verdict]:
  """Lemma 6's guarantee at q >= q*, its bound on ||u*||^2, and u*'s zero loss."""
  delta = rows[0]["delta"]
  result = []
  at_star = [r for r in rows if r["q"] >= r["q_star"]]
  if at_star:
    worst = min(r["lemma6_event_wilson95"][1] for r in at_star)
    result.append(plots.Verdict(
        f"at q >= q*, the Lemma 6 event's frequency is consistent with >= 1 - δ = {1 - delta}",
        worst >= 1 - delta, f"lowest upper 95% bound {worst:.3f}"))
  under = [r for r in rows if r["u_star_norm_sq_max_under_event"] is not None]
  excess = max((r["u_star_norm_sq_max_under_event"] / r["u_star_norm_sq_bound"] for r in under),
               default=0.0)
  result.append(plots.Verdict("||u*||² <= 2^(2k+1) k²/q on every initialisation where the "
                              "event holds", excess <= 1 + 1e-6,
                              f"largest ratio to the bound {excess:.3g}"))
  mismatched = sum(r["covered"] != r["zero_loss"] for r in rows)
  result.append(plots.Verdict("u* reaches zero loss exactly on the covered initialisations",
                              mismatched == 0, f"{mismatched} of {len(rows)} (k, q) differ"))
  return result


def report(rows, config, workdir) -> list[str]:
  fig, (ax_cov, ax_norm) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
  for k in sorted({r["k"] for r in rows}):
    rs = sorted((r for r in rows if r["k"] == k), key=lambda r: r["q"])
    qs = [r["q"] for r in rs]
    color = None
    for name, style in (("covered", "-o"), ("lemma6_event", ":s")):
      p = np.array([r[name + "_fraction"] for r in rs])
      lo, hi = np.array([r[name + "_wilson95"] for r in rs]).T
      line = ax_cov.errorbar(qs, p, yerr=[np.maximum(p - lo, 0), np.maximum(hi - p, 0)],
                             fmt=style, capsize=2, ms=4, color=color,
                             label=f"k={k}" if name == "covered" else None)
      color = line[0].get_color()
    ax_cov.plot([rs[0]["q_star"]], [1 - rs[0]["delta"]], marker="*", ms=12, color=color,
                ls="none")
    with_norm = [r for r in rs if r["u_star_norm_sq_mean"] is not None]
    ax_norm.plot([r["q"] for r in with_norm], [r["u_star_norm_sq_mean"] for r in with_norm],
                 "-o", ms=4, color=color, label=f"k={k} measured")
    ax_norm.plot(qs, [r["u_star_norm_sq_bound"] for r in rs], "--", color=color, lw=1)
  ax_cov.set_xscale("log")
  ax_cov.set_xlabel("width q")
  ax_cov.set_ylabel("fraction of initialisations (95% Wilson)")
  ax_cov.set_title("solid: all patterns covered (u* has zero loss)\n"
                   "dotted: N(z) ≥ q/2^(k+1) for all z; ★: 1-δ at q*", fontsize=10)
  ax_cov.legend(fontsize=7)
  ax_cov.grid(alpha=0.3)
  ax_norm.set_xscale("log")
  ax_norm.set_yscale("log")
  ax_norm.set_xlabel("width q")
  ax_norm.set_ylabel("||u*||²")
  ax_norm.set_title("mean ||u*||² over covered inits\n"
                    "dashed: Lemma 6 bound 2^(2k+1) k²/q", fontsize=10)
  ax_norm.grid(alpha=0.3)
  figure = plots.save_figure(fig, workdir, "coverage.png")
  lines = ["# Lemma 6: pattern coverage of the paper's initialisation", "",
           f"{rows[0]['num_inits']} initialisations per (k, q); δ = {rows[0]['delta']}; "
           "95% Wilson intervals.", "",
           "| k | q | q/q* | covered and u* zero loss | exact | Lemma 6 event | exact | "
           "mean ‖u*‖² | max ‖u*‖² under the event | bound |",
           "|---|---|---|---|---|---|---|---|---|---|"]
  fmt = lambda v: "" if v is None else f"{v:.3g}"  # noqa: E731
  flagged = []
  for r in rows:
    cells = []
    for measured, name in (("zero_loss", "covered"), ("lemma6_event", "lemma6_event")):
      lo, hi = r[measured + "_wilson95"]
      outside = not lo <= r[name + "_exact"] <= hi
      flagged += [f"{name} at k = {r['k']}, q = {r['q']}"] if outside else []
      cells.append(f"{r[measured + '_fraction']:.4f} [{lo:.4f}, {hi:.4f}] | "
                   f"{'**' if outside else ''}{r[name + '_exact']:.5f}{'**' if outside else ''}")
    lines.append(f"| {r['k']} | {r['q']} | {r['q'] / r['q_star']:.3g} | " + " | ".join(cells)
                 + f" | {fmt(r['u_star_norm_sq_mean'])} | "
                 f"{fmt(r['u_star_norm_sq_max_under_event'])} | {r['u_star_norm_sq_bound']:.3g} |")
  lines += ["", f"Exact values (inclusion-exclusion for coverage, the multinomial computed "
            f"exactly for the event) outside their 95% interval, in bold: {len(flagged)} of "
            f"{2 * len(rows)} (about 5% are expected by chance)"
            + (": " + "; ".join(flagged) if flagged else "") + "."]
  lines += ["", "## Checks", ""] + [v.line() for v in claim_verdicts(rows)]
  lines += ["", "![coverage](coverage.png)", ""]
  return plots.write_report(workdir, lines, [figure])
