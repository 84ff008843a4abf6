"""Theorem 4 width: the loss-vs-bound verdict on hand-made rows, config checks, a tiny run."""

import json
import math

import pytest

from conftest import load_config, with_changes
from cnnfcn_jax import engine
from cnnfcn_jax.experiments import theorem4_width


def bound_rows(arch, width, losses, bound):
  """measurement = "bound" rows: one per seed with its average loss."""
  return [dict(measurement="bound", arch=arch, width=width, seed=s, average_loss=loss,
               bound=bound) for s, loss in enumerate(losses)]


# Success rows carry no average_loss or bound: the verdict must skip them (a KeyError if not).
SUCCESS_ROWS = [dict(measurement="success", arch="cnn", width=4, seed=0,
                     population_accuracy=1.0, success=True)]


def verdict(rows):
  [v] = theorem4_width.claim_verdicts(rows)
  assert v.claim == "measured average loss <= Theorem 4's bound at every q"
  return v


def test_loss_equal_to_the_bound_holds_and_just_above_fails():
  # Seeds 0.5 and 1.0: mean exactly 0.75; bound 0.75 -> holds (<=).
  assert verdict(SUCCESS_ROWS + bound_rows("cnn", 4, [0.5, 1.0], 0.75)).holds
  # Same mean, bound 0.7499 -> fails.
  assert not verdict(SUCCESS_ROWS + bound_rows("cnn", 4, [0.5, 1.0], 0.7499)).holds


def test_the_mean_over_seeds_is_compared_not_the_worst_or_best_seed():
  # Mean 0.75 <= 0.8 holds although seed 1 (1.0) is above the bound...
  assert verdict(bound_rows("cnn", 4, [0.5, 1.0], 0.8)).holds
  # ...and mean 0.75 > 0.7 fails although seed 0 (0.5) is below it.
  assert not verdict(bound_rows("cnn", 4, [0.5, 1.0], 0.7)).holds
  # Seeds 0.25, 0.25, 1.0: the mean 0.5 is above 0.4 (fails) although the median 0.25 is not.
  assert not verdict(bound_rows("cnn", 4, [0.25, 0.25, 1.0], 0.4)).holds


def test_every_arch_and_width_must_be_below_and_the_closest_is_named():
  good = bound_rows("cnn", 4, [0.25, 0.25], 1.0) + bound_rows("lcn", 4, [0.5, 0.5], 1.0)
  assert verdict(good).holds
  # LCN at q = 8: mean 0.875 vs bound 0.875 - 0.0625 = 0.8125: 0.0625 above the bound.
  rows = good + bound_rows("lcn", 8, [0.75, 1.0], 0.8125)
  v = verdict(rows)
  assert not v.holds
  assert v.measured == "closest: LCN q = 8, 0.8750 vs 0.8125"
  # The closest (largest loss - bound) is named even when every pair holds.
  v = verdict(good + bound_rows("cnn", 16, [0.9, 0.9], 0.95))
  assert v.holds and v.measured == "closest: CNN q = 16, 0.9000 vs 0.95"


def test_no_bound_rows_no_verdict():
  assert theorem4_width.claim_verdicts(SUCCESS_ROWS) == []


# ------------------------------------------------------------------------ configs


def test_the_old_field_name_c_is_gone():
  config = load_config("theorem4_width", "quick")
  assert "c" not in config and config.activation_bound == 1.0


# ------------------------------------------------------------------- one tiny real run


def test_a_tiny_run_gives_the_theorems_terms_and_a_report(tmp_path):
  config = with_changes(load_config("theorem4_width", "quick"), {
      "n": 4, "k": 2, "archs": ("cnn",), "widths": (2,), "seeds": (0, 1), "bound_seeds": (0,),
      "num_steps": 4, "log_every": 2})
  theorem4_width.validate(config)
  rows = theorem4_width.run(config)
  success = [r for r in rows if r["measurement"] == "success"]
  bound = [r for r in rows if r["measurement"] == "bound"]
  # One success row per (arch, width, seed), one bound row per (arch, width, bound seed).
  assert [(r["arch"], r["width"], r["seed"]) for r in success] == [("cnn", 2, 0), ("cnn", 2, 1)]
  assert [(r["arch"], r["width"], r["seed"]) for r in bound] == [("cnn", 2, 0)]
  for r in success:
    # Population accuracy over all 2^4 = 16 inputs: a multiple of 1/16.
    assert r["population_accuracy"] * 16 == round(r["population_accuracy"] * 16)
    assert 0.0 <= r["population_accuracy"] <= 1.0
    assert r["success"] == (r["population_accuracy"] >= 1 - 0.05)
  [r] = bound
  # Theorem 4 at n = 4, k = 2, q = 2, T = 4, c = 1:
  #   η = sqrt(n)/(sqrt(q) T) = 2/(4 sqrt 2) = 0.353553
  #   2 c n² k² 2^k / q = 2*16*4*4/2 = 256
  #   2 (2^k k)² / sqrt(q n) = 2*64/sqrt(8) = 45.2548
  #   c² n^1.5 sqrt(q) / T = 8 sqrt(2)/4 = 2.828427
  assert r["learning_rate"] == pytest.approx(1 / (2 * math.sqrt(2)), rel=1e-12)
  assert r["bound_terms"] == pytest.approx([256.0, 128 / math.sqrt(8), 2 * math.sqrt(2)],
                                           rel=1e-12)
  assert r["bound"] == pytest.approx(256.0 + 128 / math.sqrt(8) + 2 * math.sqrt(2), rel=1e-12)
  # The paper's init has u = 0, so h = 0 and the hinge loss at step 0 is exactly 1; GD with a
  # small step cannot raise the average of the first T losses above that by much.
  assert 0.0 < r["average_loss"] <= 1.0 + 1e-6

  [v] = theorem4_width.claim_verdicts(rows)
  assert v.holds
  assert v.measured == f"closest: CNN q = 2, {r['average_loss']:.4f} vs {r['bound']:.4g}"

  config_dict = json.loads(config.to_json_best_effort())
  files = theorem4_width.report(rows, config_dict, str(tmp_path))
  assert files == ["success_vs_width.png", "report.md"]
  for name in files:
    assert (tmp_path / name).stat().st_size > 0
  report = (tmp_path / "report.md").read_text()
  assert "- holds: measured average loss <= Theorem 4's bound at every q" in report
  assert "at these sizes it is vacuous" in report  # bound 304 >= 1
  # k = 2, q = 2 < 2^k: no init can cover the 4 patterns, and the exact probability is 0.
  assert not any(r["covered"] for r in success)
  assert "| CNN | 2 | 2 | " in report and "| 0.000 [0.000, 0.658] | 0.0000 |" in report


@pytest.mark.parametrize("arch", ["cnn", "lcn"])
def test_covered_is_read_from_the_filters_at_the_patterns_window(arch):
  import numpy as np

  from cnnfcn_jax import models, theory
  config = with_changes(load_config("theorem4_width", "quick"), {
      "n": 6, "k": 2, "archs": (arch,), "widths": (3, 8), "seeds": (0, 1, 2, 3),
      "num_steps": 2, "log_every": 1})
  rows = theorem4_width.success_unit_rows(config, arch)
  window = 2  # the middle window of n = 6, k = 2
  for r in rows:
    init_key, _ = engine.seed_keys(r["seed"])
    W = np.asarray(models.init_params(arch, init_key, 6, 2, r["width"], "paper")["W"])
    W = W[window] if arch == "lcn" else W
    ids = {int(p) for p in np.asarray(theory.filter_pattern_ids(W))}
    assert r["covered"] == (ids == {0, 1, 2, 3})
  assert not any(r["covered"] for r in rows if r["width"] == 3)  # 3 filters, 4 patterns
  assert any(r["covered"] for r in rows if r["width"] == 8)
