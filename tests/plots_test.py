"""Report helpers: statistics, grouping, slopes, verdict lines, figures written atomically."""

import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnnfcn_jax import plots, stats


def test_mean_std_uses_the_sample_standard_deviation():
  assert plots.mean_std([1.0, 3.0]) == pytest.approx((2.0, np.sqrt(2.0)))
  assert plots.mean_std([5.0]) == (5.0, 0.0)


def test_group_rows_keeps_first_seen_order():
  rows = [dict(a=2, v=1), dict(a=1, v=2), dict(a=2, v=3)]
  assert list(plots.group_rows(rows, ("a",), "v").items()) == [((2,), [1, 3]), ((1,), [2])]


def test_loglog_slope_recovers_a_power_law():
  x = np.array([2.0, 4.0, 8.0, 16.0])
  assert stats.loglog_slope(x, 3 * x**-1.5) == pytest.approx(-1.5)
  assert np.isnan(stats.loglog_slope(x, [0, 0, 0, 1.0]))  # one positive point: no slope


def test_verdict_lines_and_labels():
  assert plots.Verdict("x <= 1", True, "0.5").line() == "- holds: x <= 1 (0.5)"
  assert plots.Verdict("x <= 1", False, "2").line() == "- FAILS: x <= 1 (2)"
  assert plots.label("lcn") == "LCN" and plots.line_label("cnn", 8, True) == "CNN (width 8)"


def test_figures_and_report_are_written_and_listed(tmp_path):
  fig, ax = plt.subplots()
  ax.plot([0, 1], [0, 1])
  name = plots.save_figure(fig, str(tmp_path), "f.png")
  files = plots.write_report(str(tmp_path), ["# title", "text"], [name])
  assert files == ["f.png", "report.md"]
  assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
  assert (tmp_path / "report.md").read_text() == "# title\ntext"
  assert sorted(os.listdir(tmp_path)) == ["f.png", "report.md"]
