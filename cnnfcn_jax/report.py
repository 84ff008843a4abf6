"""Figures and report.md from a workdir's saved results only (never retrains).

Re-plot a finished run:  python -m cnnfcn_jax.report --workdir=DIR
"""

from __future__ import annotations

import collections
import io
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from cnnfcn_jax import outputs  # noqa: E402

ARCH_LABELS = {"cnn": "CNN", "lcn": "LCN", "fcn": "FCN"}
ARCH_COLORS = {"cnn": "tab:blue", "lcn": "tab:green", "fcn": "tab:red"}


def mean_std(values):
  values = np.asarray(values, float)
  return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def group_rows(rows, keys, value="test_accuracy"):
  """{tuple(row[k] for k in keys): [row[value], ...]} in first-seen order."""
  groups = collections.defaultdict(list)
  for row in rows:
    groups[tuple(row[k] for k in keys)].append(row[value])
  return groups


def save_figure(fig, path):
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
  plt.close(fig)
  outputs.atomic_write(path, buffer.getvalue())


def _line_label(arch, width, several_widths):
  return f"{ARCH_LABELS[arch]} (width {width})" if several_widths else ARCH_LABELS[arch]


# ------------------------------------------------------------------------ separation


def separation_checks(rows) -> list[tuple[str, bool, str]]:
  """The paper's claims as (claim, holds, measured) on the widest network of each arch."""
  widest = {a: max(r["width"] for r in rows if r["arch"] == a) for a in {r["arch"] for r in rows}}
  rows = [r for r in rows if r["width"] == widest[r["arch"]]]
  acc = {key: mean_std(v) for key, v in group_rows(rows, ("locality", "arch", "n")).items()}
  counts = {key: len(v) for key, v in group_rows(rows, ("locality", "arch", "n")).items()}
  ns = sorted({r["n"] for r in rows})
  archs = sorted({r["arch"] for r in rows})
  localities = {r["locality"] for r in rows}
  result = []
  if "local" in localities:
    for arch in [a for a in ("cnn", "lcn") if a in archs]:
      worst = min(acc["local", arch, n][0] for n in ns)
      result.append((f"{ARCH_LABELS[arch]} local: mean test accuracy >= 0.95 at every n",
                     worst >= 0.95, f"lowest {worst:.3f}"))
    if "fcn" in archs:
      last = acc["local", "fcn", ns[-1]][0]
      result.append((f"FCN local: mean test accuracy <= 0.60 at n = {ns[-1]}", last <= 0.60,
                     f"{last:.3f}"))
  if "nonlocal" in localities:
    for arch in [a for a in ("cnn", "lcn") if a in archs]:
      best = max(acc["nonlocal", arch, n][0] for n in ns)
      result.append((f"{ARCH_LABELS[arch]} nonlocal: mean test accuracy <= 0.60 at every n",
                     best <= 0.60, f"highest {best:.3f}"))
  if localities == {"local", "nonlocal"} and "fcn" in archs:
    # Permutation invariance: the twins are the same problem for the FCN. "Within noise":
    # the difference of means is within 3 standard errors at every n.
    worst_z = 0.0
    for n in ns:
      (m_l, s_l), (m_n, s_n) = acc["local", "fcn", n], acc["nonlocal", "fcn", n]
      se = np.sqrt((s_l**2 + s_n**2) / counts["local", "fcn", n])
      worst_z = max(worst_z, abs(m_l - m_n) / se if se > 0 else (0.0 if m_l == m_n else np.inf))
    result.append(("FCN nonlocal equals FCN local within noise (|difference| <= 3 standard "
                   "errors at every n)", worst_z <= 3.0, f"largest {worst_z:.2f} standard errors"))
  return result


def plot_accuracy_vs_n(rows, path):
  localities = [l for l in ("local", "nonlocal") if any(r["locality"] == l for r in rows)]
  several_widths = len({(r["arch"], r["width"]) for r in rows}) > len({r["arch"] for r in rows})
  fig, axes = plt.subplots(1, len(localities), figsize=(5.5 * len(localities), 4),
                           sharey=True, squeeze=False)
  groups = group_rows(rows, ("locality", "arch", "width", "n"))
  for ax, locality in zip(axes[0], localities):
    lines = sorted({(a, w) for (l, a, w, _) in groups if l == locality})
    for arch, width in lines:
      ns = sorted(n for (l, a, w, n) in groups if (l, a, w) == (locality, arch, width))
      stats = [mean_std(groups[locality, arch, width, n]) for n in ns]
      ax.errorbar(ns, [m for m, _ in stats], yerr=[s for _, s in stats], marker="o",
                  capsize=3, color=None if several_widths else ARCH_COLORS[arch],
                  label=_line_label(arch, width, several_widths))
    ax.axhline(0.5, color="gray", ls=":", lw=1, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("input size n")
    ax.set_title(f"{locality} k-pattern (k = {rows[0]['k']}, {rows[0]['target']})")
    ax.set_ylim(0.4, 1.02)
    ax.grid(alpha=0.3)
  axes[0][0].set_ylabel("test accuracy (mean ± std over seeds)")
  axes[0][-1].legend(loc="best", fontsize=8)
  save_figure(fig, path)


def plot_curves(rows, path):
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
      ax.plot(nets[0]["steps"], curve, label=_line_label(arch, width, several_widths),
              color=None if several_widths else ARCH_COLORS[arch])
    ax.axhline(0.5, color="gray", ls=":", lw=1)
    ax.set_xlabel("training step")
    ax.set_title(f"{locality}, n = {n}")
    ax.grid(alpha=0.3)
  axes[0][0].set_ylabel("test accuracy (mean over seeds)")
  axes[0][-1].legend(fontsize=8)
  save_figure(fig, path)


def separation_report(rows, workdir) -> str:
  plot_accuracy_vs_n(rows, os.path.join(workdir, "accuracy_vs_n.png"))
  plot_curves(rows, os.path.join(workdir, "curves.png"))
  ns = sorted({r["n"] for r in rows})
  groups = group_rows(rows, ("locality", "arch", "width", "n"))
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
      cells.append("%.3f ± %.3f" % mean_std(values) if values else "")
    lines.append(f"| {locality} | {ARCH_LABELS[arch]} | {width} | " + " | ".join(cells) + " |")
  lines += ["", "## The paper's claims, measured (widest network of each architecture)", ""]
  for claim, holds, measured in separation_checks(rows):
    lines.append(f"- {'holds' if holds else 'FAILS'}: {claim} ({measured})")
  lines += ["", "![accuracy against n](accuracy_vs_n.png)", "",
            "![test accuracy during training at the largest n](curves.png)", ""]
  return "\n".join(lines)


REPORTS = {"separation": separation_report}


def write_report(workdir: str):
  """Figures and report.md for the results saved in workdir."""
  config = outputs.read_config(workdir)
  rows = outputs.read_jsonl(os.path.join(workdir, outputs.RESULTS_FILE))
  text = REPORTS[config["experiment"]](rows, workdir)
  outputs.atomic_write(os.path.join(workdir, outputs.REPORT_FILE), text)
  return text


def main(argv):
  del argv
  print(write_report(flags.FLAGS.workdir))


if __name__ == "__main__":
  flags.DEFINE_string("workdir", None, "A workdir written by cnnfcn_jax.main.", required=True)
  app.run(main)
