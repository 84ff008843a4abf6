"""The few helpers every experiment's report shares: statistics, grouping, figures, verdicts."""

from __future__ import annotations

import collections
import dataclasses
import io
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnnfcn_jax import models, outputs  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Verdict:
  """One claim of the paper judged on measured rows: holds (True), FAILS (False) or not
  established (None: data missing, or intervals that decide neither way)."""
  claim: str
  holds: bool | None
  measured: str

  def __post_init__(self):
    if self.holds is not None:  # numpy bools print as Python's
      object.__setattr__(self, "holds", bool(self.holds))

  @property
  def status(self) -> str:
    return {True: "holds", False: "FAILS", None: "not established"}[self.holds]

  def line(self) -> str:
    return f"- {self.status}: {self.claim} ({self.measured})"


def above(estimate, level=0.0) -> bool | None:
  """A claimed value > level, on its interval (estimate, low, high, ...): True if the
  interval lies above, False if at or below, None if it straddles."""
  return True if estimate[1] > level else False if estimate[2] <= level else None


def within(estimate, margin) -> bool | None:
  """A claimed value <= margin (a sameness): True if the whole interval is at or below it,
  False if the whole interval is above, None if it straddles."""
  return True if estimate[2] <= margin else False if estimate[1] > margin else None


def every(holds) -> bool | None:
  """A claim made of parts: False if one FAILS, else None if one is undecided, else True."""
  return False if False in holds else None if None in holds else True


# Colours of networks of one's own, by a sum of their names' characters (the same in every
# figure; two names may share one); ours keep their own.
OTHER_COLORS = ("tab:purple", "tab:orange", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def label(arch: str) -> str:
  """Our networks' labels (CNN, LCN, FCN); a network of one's own by its config name."""
  return models.ARCHITECTURES[arch].label if arch in models.ARCHITECTURES else arch


def color(arch: str) -> str:
  if arch in models.ARCHITECTURES:
    return models.ARCHITECTURES[arch].color
  return OTHER_COLORS[sum(map(ord, arch)) % len(OTHER_COLORS)]


def own_task_line(config) -> str | None:
  """Where config names a task of its own (config.task), the line a report shows in place
  of the paper's claims, which are about k-patterns; else None."""
  task = config.get("task", "")
  return (f"Not judged: the paper's claims are about k-patterns on uniform ±1 inputs, and "
          f"this run's task is config.task = {task!r}.") if task else None


def line_label(arch, width, several_widths):
  return f"{label(arch)} (width {width})" if several_widths else label(arch)


def mean_std(values):
  values = np.asarray(values, float)
  return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def group_rows(rows, keys, value="test_accuracy"):
  """{tuple(row[k] for k in keys): [row[value], ...]} in first-seen order."""
  groups = collections.defaultdict(list)
  for row in rows:
    groups[tuple(row[k] for k in keys)].append(row[value])
  return groups


def save_figure(fig, workdir, name) -> str:
  """Write fig as workdir/name (PNG); returns name."""
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
  plt.close(fig)
  outputs.atomic_write(os.path.join(workdir, name), buffer.getvalue())
  return name


def write_report(workdir, lines, figures) -> list[str]:
  """Write report.md from `lines`; returns the files written (figures, then report.md)."""
  outputs.atomic_write(os.path.join(workdir, outputs.REPORT_FILE), "\n".join(lines))
  return list(figures) + [outputs.REPORT_FILE]
