"""The k-pattern separation (docs/spec.md §3-§5): CNN and LCN learn a k-pattern, the FCN does not.

For every architecture, locality (`local` / `nonlocal` twin) and input size n, one jitted
sweep trains all seeds x widths; each trained network becomes one row of results.jsonl
(sweeps.unit_rows). The report tabulates test accuracy against n and judges the paper's
claims on the widest network of each architecture.
"""

from __future__ import annotations

import collections

import matplotlib.pyplot as plt
import numpy as np

from cnnfcn_jax import checkpoints, checks, kpattern_config, models, plots, sweeps

# The paper's claims as this report judges them.
LEARNS_ACCURACY = 0.95  # CNN/LCN on the local task: mean test accuracy at least this
CHANCE_ACCURACY = 0.60  # "at chance": mean test accuracy at most this
MAX_STANDARD_ERRORS = 3.0  # FCN local vs nonlocal: "equal within noise"


def validate(config):
  """Raise checks.ConfigError naming the first invalid field."""
  checks.positive_int("k", config.k)
  kpattern_config.validate_k("k", config.k)
  kpattern_config.validate_task(config, config.ns, config.k)
  kpattern_config.validate_training(config)


def run(config, checkpoint: checkpoints.Checkpoint | None = None) -> list[dict]:
  """Train every network of the config; one row per network (arch, locality, n, width, seed)."""
  checkpoint = checkpoint or checkpoints.Checkpoint()  # none given: nothing is kept
  return sweeps.run(config, [(arch, locality, n, config.k) for locality in config.localities
                             for arch in config.archs
                             for n in kpattern_config.arch_ns(config, arch)], checkpoint)


def widest(rows):
  """The rows of the widest network of each architecture."""
  width = {a: max(r["width"] for r in rows if r["arch"] == a) for a in {r["arch"] for r in rows}}
  return [r for r in rows if r["width"] == width[r["arch"]]]


def claim_verdicts(rows, num_test) -> list[plots.Verdict]:
  """The paper's claims on the widest network of each arch; num_test sets the noise floor."""
  rows = widest(rows)
  groups = plots.group_rows(rows, ("locality", "arch", "n"))
  acc = {key: plots.mean_std(v) for key, v in groups.items()}
  archs = sorted({r["arch"] for r in rows})
  arch_ns = {a: sorted({r["n"] for r in rows if r["arch"] == a}) for a in archs}
  localities = {r["locality"] for r in rows}
  windowed = [a for a in archs if models.windowed(a)]
  fully_connected = [a for a in archs if models.fully_connected(a)]
  result = []
  if "local" in localities:
    for arch in windowed:
      worst = min(acc["local", arch, n][0] for n in arch_ns[arch])
      result.append(plots.Verdict(
          f"{plots.label(arch)} local: mean test accuracy >= {LEARNS_ACCURACY} at every n",
          worst >= LEARNS_ACCURACY, f"lowest {worst:.3f}"))
    for arch in fully_connected:
      largest = arch_ns[arch][-1]
      last = acc["local", arch, largest][0]
      result.append(plots.Verdict(
          f"{plots.label(arch)} local: mean test accuracy <= {CHANCE_ACCURACY} at n = {largest}",
          last <= CHANCE_ACCURACY, f"{last:.3f}"))
  if "nonlocal" in localities:
    for arch in windowed:
      best = max(acc["nonlocal", arch, n][0] for n in arch_ns[arch])
      result.append(plots.Verdict(
          f"{plots.label(arch)} nonlocal: mean test accuracy <= {CHANCE_ACCURACY} at every n",
          best <= CHANCE_ACCURACY, f"highest {best:.3f}"))
  for arch in fully_connected if localities == {"local", "nonlocal"} else ():
    # Permutation invariance: the twins are the same problem for the FCN. The standard
    # error of each mean uses the larger of the seeds' spread and the test set's binomial
    # variance p(1 - p)/num_test, so identical-looking seeds cannot shrink it to nothing.
    worst_z = 0.0
    for n in arch_ns[arch]:
      local, twin = groups["local", arch, n], groups["nonlocal", arch, n]
      p = (np.mean(local) + np.mean(twin)) / 2
      floor = p * (1 - p) / num_test
      variance = sum(max(np.var(v, ddof=1) if len(v) > 1 else 0.0, floor) / len(v)
                     for v in (local, twin))
      gap = abs(np.mean(local) - np.mean(twin))
      worst_z = max(worst_z, gap / np.sqrt(variance) if variance > 0 else
                    (0.0 if gap == 0 else np.inf))
    result.append(plots.Verdict(
        f"{plots.label(arch)} nonlocal equals {plots.label(arch)} local within noise "
        f"(|difference| <= {MAX_STANDARD_ERRORS:g} standard errors at every n)",
        worst_z <= MAX_STANDARD_ERRORS, f"largest {worst_z:.2f} standard errors"))
  return result


def plot_accuracy_vs_n(rows, workdir):
  localities = [l for l in ("local", "nonlocal") if any(r["locality"] == l for r in rows)]
  several_widths = len({(r["arch"], r["width"]) for r in rows}) > len({r["arch"] for r in rows})
  fig, axes = plt.subplots(1, len(localities), figsize=(5.5 * len(localities), 4),
                           sharey=True, squeeze=False, layout="constrained")
  groups = plots.group_rows(rows, ("locality", "arch", "width", "n"))
  for ax, locality in zip(axes[0], localities):
    lines = sorted({(a, w) for (l, a, w, _) in groups if l == locality})
    for arch, width in lines:
      ns = sorted(n for (l, a, w, n) in groups if (l, a, w) == (locality, arch, width))
      stats = [plots.mean_std(groups[locality, arch, width, n]) for n in ns]
      ax.errorbar(ns, [m for m, _ in stats], yerr=[s for _, s in stats], marker="o",
                  capsize=3, color=None if several_widths else plots.color(arch),
                  label=plots.line_label(arch, width, several_widths))
    ax.axhline(0.5, color="gray", ls=":", lw=1, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("input size n")
    ax.set_title(f"{locality} k-pattern (k = {rows[0]['k']}, {rows[0]['target']})")
    ax.set_ylim(0.4, 1.02)
    ax.grid(alpha=0.3)
  axes[0][0].set_ylabel("test accuracy (mean ± std over seeds)")
  axes[0][-1].legend(loc="best", fontsize=8)
  return plots.save_figure(fig, workdir, "accuracy_vs_n.png")


def plot_curves(rows, workdir):
  """Test accuracy against training step at the largest n, mean over seeds."""
  n = max(r["n"] for r in rows)
  rows = [r for r in rows if r["n"] == n]
  localities = [l for l in ("local", "nonlocal") if any(r["locality"] == l for r in rows)]
  fig, axes = plt.subplots(1, len(localities), figsize=(5.5 * len(localities), 4),
                           sharey=True, squeeze=False)
  for ax, locality in zip(axes[0], localities):
    by_net = collections.defaultdict(list)
    for r in rows:
      if r["locality"] == locality:
        by_net[r["arch"], r["width"]].append(r)
    several_widths = len(by_net) > len({a for a, _ in by_net})
    for (arch, width), nets in sorted(by_net.items()):
      curve = np.mean([r["curves"]["test_accuracy"] for r in nets], axis=0)
      ax.plot(nets[0]["steps"], curve, label=plots.line_label(arch, width, several_widths),
              color=None if several_widths else plots.color(arch))
    ax.axhline(0.5, color="gray", ls=":", lw=1)
    ax.set_xlabel("training step")
    ax.set_title(f"{locality}, n = {n}")
    ax.grid(alpha=0.3)
  axes[0][0].set_ylabel("test accuracy (mean over seeds)")
  axes[0][-1].legend(fontsize=8)
  return plots.save_figure(fig, workdir, "curves.png")


def report(rows, config, workdir) -> list[str]:
  figures = [plot_accuracy_vs_n(rows, workdir), plot_curves(rows, workdir)]
  ns = sorted({r["n"] for r in rows})
  groups = plots.group_rows(rows, ("locality", "arch", "width", "n"))
  num_seeds = len({r["seed"] for r in rows})
  lines = ["# k-pattern separation", "",
           f"Test accuracy, mean ± std over {num_seeds} seeds; k = {rows[0]['k']}, "
           f"target {rows[0]['target']}.", "",
           "| locality | arch | width | " + " | ".join(f"n={n}" for n in ns) + " |",
           "|---|---|---|" + "---|" * len(ns)]
  for locality, arch, width in sorted({key[:3] for key in groups}):
    cells = []
    for n in ns:
      values = groups.get((locality, arch, width, n))
      cells.append("%.3f ± %.3f" % plots.mean_std(values) if values else "")
    lines.append(f"| {locality} | {plots.label(arch)} | {width} | " + " | ".join(cells) + " |")
  lines += ["", "Scaling with n (docs/spec.md §4): training sample size m(n) = max(min_num_train, "
            f"ceil({config['samples_per_readout_weight']:g} x largest readout)), the same for "
            "every architecture; first-layer step by the config's first_layer_step rule.", "",
            "| n | m(n) | " + " | ".join(f"{plots.label(a)} step u / W" for a in config["archs"])
            + " |", "|---|---|" + "---|" * len(config["archs"])]
  for n in ns:
    at_n = [r for r in rows if r["n"] == n]
    steps = []
    for arch in config["archs"]:
      r = next((r for r in at_n if r["arch"] == arch), None)
      steps.append(f"{r['learning_rate']:.3g} / {r['first_layer_learning_rate']:.3g}" if r else "")
    lines.append(f"| {n} | {at_n[0]['num_train']} | " + " | ".join(steps) + " |")
  lines += ["", "## The paper's claims, measured (widest network of each architecture)", ""]
  own = plots.own_task_line(config)
  lines += [own] if own else [v.line() for v in claim_verdicts(rows, config["num_test"])]
  lines += ["", "![accuracy against n](accuracy_vs_n.png)", "",
            "![test accuracy during training at the largest n](curves.png)", ""]
  return plots.write_report(workdir, lines, figures)
