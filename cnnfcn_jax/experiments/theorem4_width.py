"""Theorem 4: success probability of GD from the paper's init against width q.

measurement = "success": CNN and LCN from the paper's init, trained by full-batch GD on the
exact population loss (all 2^n inputs), many seeds x all widths in one sweep per arch;
success = population accuracy >= 1 - epsilon. One row per (arch, width, seed).
measurement = "bound": for the same (n, k, q, T), GD with Theorem 4's step
η = sqrt(n)/(sqrt(q) T); the measured average population loss (1/T) sum_t L(h_t) beside
the theorem's three terms. One row per (arch, width, seed).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from cnnfcn_jax import checkpoints, checks, models, plots, stats, tasks, theory, train


def validate(c):
  checks.positive_int("n", c.n)
  checks.positive_int("k", c.k)
  if c.k > c.n or c.n > 20:
    checks.fail("n", c.n, f"k = {c.k} <= n <= 20 (training enumerates all 2^n inputs)")
  checks.choice("target", c.target, tasks.TARGETS)
  checks.positive_int("task_seed", c.task_seed, minimum=0)
  windowed = tuple(a for a, record in models.ARCHITECTURES.items()
                   if record.windowed and "paper" in record.init_schemes)
  checks.nonempty_tuple("archs", c.archs, lambda f, v: checks.choice(f, v, windowed))
  checks.nonempty_tuple("widths", c.widths, checks.positive_int)
  checks.seeds("seeds", c.seeds)
  checks.seeds("bound_seeds", c.bound_seeds)
  checks.steps_and_log_every(c)
  checks.positive_float("learning_rate", c.learning_rate)
  checks.fraction("epsilon", c.epsilon)
  checks.positive_float("activation_bound", c.activation_bound)


def make_sweep(c, arch, widths, learning_rate, log_every):
  task = tasks.make_task(c.n, c.k, c.target, "local", task_seed=c.task_seed)
  return train.Sweep(arch=arch, task=task, widths=tuple(widths), init="paper",
                     trainable=("W", "u"), optimizer="gd", learning_rate=learning_rate,
                     num_steps=c.num_steps, log_every=log_every, num_train=1, num_test=1,
                     table=models.uses_table(arch, c.k), population=True)


def run(c, checkpoint: checkpoints.Checkpoint | None = None) -> list[dict]:
  checkpoint = checkpoint or checkpoints.Checkpoint()  # none given: nothing is kept
  units = [(f"success-{arch}", len(c.seeds) * sum(c.widths),
            lambda arch=arch: success_unit_rows(c, arch)) for arch in c.archs]
  units += [(f"bound-{arch}-q{q}", len(c.bound_seeds) * q,
             lambda arch=arch, q=q: bound_unit_rows(c, arch, q))
            for arch in c.archs for q in c.widths]
  return checkpoint.run_units(units, "theorem4")


def success_unit_rows(c, arch) -> list[dict]:
  """All seeds x widths trained with the practical step; one row per network.

  `covered` records whether the initial filters of the pattern's window (the CNN's one
  bank, the LCN's bank at that window) cover all 2^k patterns, Lemma 6's zero-loss event.
  """
  sweep = make_sweep(c, arch, c.widths, c.learning_rate, c.log_every)
  out = train.run_sweep(sweep, c.seeds)
  W0 = out["params0"]["W"]  # (S, widths, [J,] q_max, k)
  if W0.ndim == 5:
    W0 = W0[:, :, sweep.task.coordinates[0]]  # the LCN's filters at the pattern's window
  rows = []
  for s, seed in enumerate(c.seeds):
    for w, width in enumerate(c.widths):
      covered = bool(theory.covers_all_patterns(theory.pattern_counts(W0[s, w, :width])))
      accuracy = float(out["test_accuracy"][s, w, -1])
      rows.append(dict(measurement="success", arch=arch, n=c.n, k=c.k, width=width, seed=seed,
                       learning_rate=c.learning_rate, num_steps=c.num_steps,
                       population_accuracy=accuracy, covered=covered,
                       success=bool(accuracy >= 1 - c.epsilon), epsilon=c.epsilon,
                       final_loss=float(out["train_loss"][s, w, -1]),
                       diverged=bool(out["diverged"][s, w, -1]),
                       first_layer_distance=float(out["first_layer_distance"][s, w, -1])))
  return rows


def bound_unit_rows(c, arch, q) -> list[dict]:
  """GD with Theorem 4's step at width q, loss recorded every step; one row per seed."""
  eta = theory.theorem4_step_size(c.n, q, c.num_steps)
  out = train.run_sweep(make_sweep(c, arch, (q,), eta, 1), c.bound_seeds)
  terms = theory.theorem4_bound_terms(c.n, c.k, q, c.num_steps, c.activation_bound)
  rows = []
  for s, seed in enumerate(c.bound_seeds):
    losses = out["train_loss"][s, 0]  # population loss at steps 0..T
    rows.append(dict(measurement="bound", arch=arch, n=c.n, k=c.k, width=q, seed=seed,
                     learning_rate=eta, num_steps=c.num_steps,
                     average_loss=float(np.mean(losses[:-1])), final_loss=float(losses[-1]),
                     bound_terms=list(terms), bound=float(sum(terms)),
                     diverged=bool(out["diverged"][s, 0, -1]),
                     first_layer_distance=float(out["first_layer_distance"][s, 0, -1])))
  return rows


def average_loss_by_width(bound_rows):
  """{(arch, q): (mean over seeds of the measured average loss, the bound, a row)}."""
  result = {}
  for arch, q in sorted({(r["arch"], r["width"]) for r in bound_rows}):
    rs = [r for r in bound_rows if (r["arch"], r["width"]) == (arch, q)]
    result[arch, q] = (float(np.mean([r["average_loss"] for r in rs])), rs[0]["bound"], rs[0])
  return result


def claim_verdicts(rows) -> list[plots.Verdict]:
  """Theorem 4's bound against the measured average loss, at every (arch, q)."""
  measured = average_loss_by_width([r for r in rows if r["measurement"] == "bound"])
  if not measured:
    return []
  worst = max(measured, key=lambda key: measured[key][0] - measured[key][1])
  loss, bound, _ = measured[worst]
  return [plots.Verdict("measured average loss <= Theorem 4's bound at every q",
                        all(m <= b for m, b, _ in measured.values()),
                        f"closest: {plots.label(worst[0])} q = {worst[1]}, {loss:.4f} vs "
                        f"{bound:.4g}")]


def report(rows, config, workdir) -> list[str]:
  success = [r for r in rows if r["measurement"] == "success"]
  bound = [r for r in rows if r["measurement"] == "bound"]
  fig, (ax_p, ax_b) = plt.subplots(1, 2, figsize=(11, 4))
  lines = ["# Theorem 4: success probability against width", "",
           f"n = {rows[0]['n']}, k = {rows[0]['k']}, GD on the exact population loss "
           f"(all 2^n inputs) from the paper's init; success = population accuracy >= "
           f"1 - {config['epsilon']}; precision {config['precision']} (config.precision: "
           "float64 by default, so the trajectory is GD's to within float64 rounding; in "
           "float32 rounding differences grow during training and can flip a seed's outcome). "
           "Covered: the fraction of inits whose filters at the pattern's window hold all "
           "2^k patterns (zero loss is reachable without moving W), beside its exact "
           "probability (inclusion-exclusion). 95% Wilson intervals; † marks a measured "
           "fraction whose interval excludes the exact value.", "",
           "| arch | width q | seeds | successes | P(success) [95%] | covered [95%] | "
           "P(covered) exact | mean final loss |",
           "|---|---|---|---|---|---|---|---|"]
  for arch in sorted({r["arch"] for r in success}):
    groups = plots.group_rows([r for r in success if r["arch"] == arch], ("width",), "success")
    losses = plots.group_rows([r for r in success if r["arch"] == arch], ("width",),
                              "final_loss")
    covered = plots.group_rows([r for r in success if r["arch"] == arch], ("width",),
                               "covered")
    qs = sorted(q for (q,) in groups)
    ps, los, his = [], [], []
    for q in qs:
      hits, trials = int(np.sum(groups[q,])), len(groups[q,])
      lo, hi = stats.wilson_interval(hits, trials)
      ps.append(hits / trials), los.append(lo), his.append(hi)
      num_covered = int(np.sum(covered[q,]))
      c_lo, c_hi = stats.wilson_interval(num_covered, trials)
      exact = theory.coverage_probability(rows[0]["k"], q)
      flag = "" if c_lo <= exact <= c_hi else " †"
      lines.append(f"| {plots.label(arch)} | {q} | {trials} | {hits} | {hits / trials:.3f} "
                   f"[{lo:.3f}, {hi:.3f}] | {num_covered / trials:.3f} [{c_lo:.3f}, "
                   f"{c_hi:.3f}]{flag} | {exact:.4f} | {np.mean(losses[q,]):.4f} |")
    ps, los, his = map(np.array, (ps, los, his))
    ax_p.errorbar(qs, ps, yerr=[np.maximum(ps - los, 0), np.maximum(his - ps, 0)], marker="o",
                  capsize=3, color=plots.color(arch), label=plots.label(arch))
  ax_p.set_xscale("log", base=2)
  ax_p.set_xlabel("width q")
  ax_p.set_ylabel("P(success), 95% Wilson")
  ax_p.set_title("GD from the paper's init (practical step)")
  ax_p.grid(alpha=0.3)
  ax_p.legend()
  lines += ["", f"## Average loss with Theorem 4's step η = sqrt(n)/(sqrt(q) T), "
            f"T = {config['num_steps']}", "",
            "| arch | q | η | measured (1/T) Σ L(h_t), mean over seeds | bound (three terms) |",
            "|---|---|---|---|---|"]
  measured = average_loss_by_width(bound)
  for (arch, q), (loss, total, r0) in measured.items():
    terms = " + ".join(f"{t:.3g}" for t in r0["bound_terms"])
    lines.append(f"| {plots.label(arch)} | {q} | {r0['learning_rate']:.3g} | {loss:.4f} | "
                 f"{terms} = {total:.4g} |")
  for arch in sorted({arch for arch, _ in measured}):
    keys = [key for key in measured if key[0] == arch]
    qs = [q for _, q in keys]
    ax_b.plot(qs, [measured[key][0] for key in keys], "-o", color=plots.color(arch),
              label=f"{plots.label(arch)} measured")
    ax_b.plot(qs, [measured[key][1] for key in keys], "--", color=plots.color(arch),
              label=f"{plots.label(arch)} bound")
  if bound:
    lines += [""] + [v.line() for v in claim_verdicts(rows)]
    if all(r["bound"] >= 1 for r in bound):
      lines.append("- The bound is >= 1 at every q here, above the hinge loss at "
                   "initialisation (u = 0 gives L = 1): at these sizes it is vacuous, and its "
                   "step η is so small that GD barely moves in T steps. Its terms fall like "
                   "1/q and 1/sqrt(q) only at widths far beyond this grid.")
  ax_b.set_xscale("log", base=2)
  ax_b.set_yscale("log")
  ax_b.set_xlabel("width q")
  ax_b.set_ylabel("average population loss")
  ax_b.set_title("GD with Theorem 4's step vs its bound")
  ax_b.grid(alpha=0.3)
  ax_b.legend(fontsize=7)
  figure = plots.save_figure(fig, workdir, "success_vs_width.png")
  lines += ["", "![success against width](success_vs_width.png)", ""]
  return plots.write_report(workdir, lines, [figure])
