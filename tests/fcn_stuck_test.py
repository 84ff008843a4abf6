"""FCN stuck on the k = log2 n parity: config checks and the report on hand-made rows."""

import json

import pytest

from conftest import load_config, with_changes
from cnnfcn_jax import checks
from cnnfcn_jax.experiments import fcn_stuck


def test_an_arch_without_its_settings_is_refused_naming_it():
  # "lcn" is a known architecture, but this config has no config.lcn block: validation must
  # refuse it with a ConfigError naming lcn, not crash.
  with pytest.raises(checks.ConfigError, match="lcn"):
    fcn_stuck.validate(with_changes(load_config("fcn_stuck", "quick"),
                                    {"archs": ("fcn", "lcn")}))


def test_the_default_config_is_the_k_equals_log2_n_parity():
  config = load_config("fcn_stuck")
  assert config.target == "parity" and config.localities == ("local",)
  assert all(n & (n - 1) == 0 for n in config.ns)  # powers of two: k = log2 n is an integer
  assert config.fcn.optimizer == config.cnn.optimizer == "gd"  # the paper's plain GD


def test_the_report_tabulates_final_values_over_seeds(tmp_path):
  # Two seeds per (arch, n): final correlation 0.1 and 0.3 (mean 0.2, std with ddof 1
  # sqrt(0.02) = 0.141), test accuracy 0.5 and 0.6 (0.550 ± 0.071).
  rows = []
  for n in (8, 16):
    for arch in ("fcn", "cnn"):
      for seed, (corr, acc) in enumerate([(0.1, 0.5), (0.3, 0.6)]):
        rows.append(dict(
            arch=arch, n=n, k=n.bit_length() - 1, width=16, seed=seed, steps=[0, 10, 20],
            curves={"test_correlation": [0.0, corr / 2, corr],
                    "first_layer_distance": [0.0, 0.5, 1.0]},
            test_accuracy=acc, train_accuracy=1.0, first_layer_distance=1.0))
  config = json.loads(load_config("fcn_stuck", "quick").to_json_best_effort())
  files = fcn_stuck.report(rows, config, str(tmp_path))
  assert files == ["fcn_stuck.png", "report.md"]
  for name in files:
    assert (tmp_path / name).stat().st_size > 0
  report = (tmp_path / "report.md").read_text()
  for n, k in ((8, 3), (16, 4)):
    for label in ("FCN", "CNN"):
      assert (f"| {label} | {n} | {k} | 16 | 0.200 ± 0.141 | 0.550 ± 0.071 | 1.000 ± 0.000 | "
              "1 ± 0 |") in report


def verdict_rows(accuracies):
  """Rows {(arch, n): [test accuracy per seed]}, the fields claim_verdicts reads."""
  return [dict(arch=arch, n=n, test_accuracy=a) for (arch, n), values in accuracies.items()
          for a in values]


def test_claims_hold_when_the_cnn_learns_and_the_fcn_is_at_chance_at_the_largest_n():
  # CNN means 0.95 (exactly the bar) and 1.0; FCN 1.0 at n = 16 (learns there, not judged)
  # and 0.60 at n = 64 (exactly the chance bar).
  rows = verdict_rows({("cnn", 16): [1.0, 1.0], ("cnn", 64): [0.9, 1.0],
                       ("fcn", 16): [1.0, 1.0], ("fcn", 64): [0.5, 0.7]})
  verdicts = fcn_stuck.claim_verdicts(rows)
  assert [v.holds for v in verdicts] == [True, True]
  assert verdicts[0].measured == "lowest 0.950 at n = 64" and verdicts[1].claim.endswith("n = 64")


def test_claims_fail_when_the_cnn_misses_or_the_fcn_learns():
  rows = verdict_rows({("cnn", 16): [0.9375, 0.9375], ("cnn", 64): [1.0, 1.0],
                       ("fcn", 16): [0.5, 0.5], ("fcn", 64): [0.625, 0.625]})
  assert [v.holds for v in fcn_stuck.claim_verdicts(rows)] == [False, False]
