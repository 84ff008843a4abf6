"""Figure 1 (accuracy against parameters): claim verdicts on hand-made points, config checks."""

import pytest

import numpy as np

from conftest import load_config, with_changes
from cnnfcn_jax import checks, data, stats
from cnnfcn_jax.experiments import params_vs_accuracy


def exact(params, accuracy, se=0.0):
  """A point of known mean accuracy (se = 0: its interval is the point)."""
  return params, stats.Estimate(accuracy, accuracy - 2 * se, accuracy + 2 * se, se, np.inf)


# Two CNNs: 1e4 parameters at 0.80 and 1e5 at 0.90, i.e. +0.1 accuracy per decade.
CNN = {("cnn", 2, 4): exact(1e4, 0.80), ("cnn", 2, 8): exact(1e5, 0.90)}


def verdicts(points):
  """{"beat": holds, "slope": holds} by claim."""
  names = {"CNNs beat FCNs": "beat", "FCN accuracy grows less": "slope"}
  return {name: v.holds for v in params_vs_accuracy.claim_verdicts(points)
          for start, name in names.items() if v.claim.startswith(start)}


# --------------------------------------------------------------- CNNs beat FCNs


def test_an_fcn_is_compared_with_the_best_cnn_with_at_most_its_parameters():
  # FCN at 2e4 parameters: the only CNN with <= 2e4 is the 1e4 one at 0.80. Strictly below
  # 0.80 holds; exactly 0.80 fails (the CNN must beat it).
  assert verdicts({**CNN, ("fcn", 2, 32): exact(2e4, 0.7999)})["beat"]
  assert not verdicts({**CNN, ("fcn", 2, 32): exact(2e4, 0.80)})["beat"]
  # At 1e5 parameters (equal counts count) the 0.90 CNN is the one to beat.
  assert verdicts({**CNN, ("fcn", 2, 32): exact(1e5, 0.8999)})["beat"]
  assert not verdicts({**CNN, ("fcn", 2, 32): exact(1e5, 0.90)})["beat"]
  # Just below 1e5 the 0.90 CNN has too many parameters: 0.85 is not beaten by 0.80.
  assert not verdicts({**CNN, ("fcn", 2, 32): exact(99999, 0.85)})["beat"]


def test_an_fcn_smaller_than_every_cnn_is_compared_with_the_smallest_cnn():
  # 5e3 parameters: no CNN that small, so the smallest CNN (0.80) is the reference,
  # not the best one (0.90).
  assert verdicts({**CNN, ("fcn", 2, 8): exact(5e3, 0.7999)})["beat"]
  assert not verdicts({**CNN, ("fcn", 2, 8): exact(5e3, 0.85)})["beat"]


def test_every_fcn_must_be_beaten_and_the_count_is_reported():
  points = {**CNN, ("fcn", 2, 32): exact(2e4, 0.70), ("fcn", 2, 128): exact(1e6, 0.95)}
  [beat, _] = params_vs_accuracy.claim_verdicts(points)
  assert not beat.holds
  assert beat.measured.startswith("1 of 2 FCNs surely below")
  # Noise of 0.05 on an FCN 0.02 below its CNN: neither beaten nor ahead.
  noisy = {**CNN, ("fcn", 2, 32): exact(2e4, 0.78, se=0.05)}
  [beat] = params_vs_accuracy.claim_verdicts(noisy)
  assert beat.holds is None and "smallest lead +0.020 [" in beat.measured


# ---------------------------------------------------------------------- slopes


def test_fcn_slope_must_be_below_the_cnn_slope():
  # CNN slope: +0.1 accuracy per decade (0.80 -> 0.90 over 1e4 -> 1e5). FCNs at 2e4 and 2e5
  # (one decade apart): 0.70 -> 0.799 is +0.099 per decade (holds), 0.70 -> 0.801 is +0.101
  # (fails).
  low = {**CNN, ("fcn", 2, 32): exact(2e4, 0.70), ("fcn", 2, 128): exact(2e5, 0.799)}
  assert verdicts(low) == {"beat": True, "slope": True}
  high = {**CNN, ("fcn", 2, 32): exact(2e4, 0.70), ("fcn", 2, 128): exact(2e5, 0.801)}
  assert verdicts(high) == {"beat": True, "slope": False}
  [_, slope] = params_vs_accuracy.claim_verdicts(high)
  assert slope.measured.startswith("accuracy per decade of parameters: CNN +0.100 [+0.100, "
                                   "+0.100], FCN +0.101 [+0.101, +0.101]")
  # The FCN's points each known to 0.01, its slope the CNN's: undecided.
  noisy = {**CNN, ("fcn", 2, 32): exact(2e4, 0.70, se=0.01),
           ("fcn", 2, 128): exact(2e5, 0.80, se=0.01)}
  [_, slope] = params_vs_accuracy.claim_verdicts(noisy)
  assert slope.holds is None and "FCN +0.100 [+0.072, +0.128]" in slope.measured


def test_the_slope_is_a_least_squares_fit_over_every_point():
  # Three FCNs at 1e4, 1e5, 1e6 with 0.5, 0.7, 0.6: slope of the fit = (0.6 - 0.5)/2 = 0.05
  # per decade, below the CNN's 0.1 although the first step rises by 0.2.
  points = {**CNN, ("fcn", 2, 8): exact(1e4, 0.5), ("fcn", 2, 32): exact(1e5, 0.7),
            ("fcn", 2, 128): exact(1e6, 0.6)}
  [_, slope] = params_vs_accuracy.claim_verdicts(points)
  assert slope.holds and "FCN +0.050 [+0.050, +0.050]" in slope.measured


def test_with_a_single_point_of_either_arch_there_is_no_slope_claim():
  assert set(verdicts({**CNN, ("fcn", 2, 32): exact(2e4, 0.5)})) == {"beat"}
  one_cnn = {("cnn", 2, 4): exact(1e4, 0.8), ("fcn", 2, 32): exact(2e4, 0.5),
             ("fcn", 4, 32): exact(4e4, 0.6)}
  assert set(verdicts(one_cnn)) == {"beat"}
  assert params_vs_accuracy.claim_verdicts(CNN) == []  # no FCN: nothing to judge


# ------------------------------------------------------------------------ configs


def test_batch_size_of_exactly_the_training_set_is_allowed():
  params_vs_accuracy.validate(with_changes(load_config("params_vs_accuracy", "quick"),
                                           {"batch_size": 4000}))


def test_a_missing_cifar10_directory_is_a_data_error_naming_the_file(tmp_path):
  config = with_changes(load_config("params_vs_accuracy", "quick"),
                        {"dataset": "cifar10", "cifar10_dir": str(tmp_path)})
  with pytest.raises(data.DataError, match="data_batch_1: file not found"):
    params_vs_accuracy.validate(config)


@pytest.mark.parametrize("variant", ["", "quick"])
def test_the_default_and_quick_configs_read_the_embedded_digits(variant):
  assert load_config("params_vs_accuracy", variant).dataset == "digits"


def test_the_paper_config_needs_the_cifar10_directory():
  config = load_config("params_vs_accuracy", "paper")
  assert config.dataset == "cifar10" and config.cifar10_dir == ""
  with pytest.raises(checks.ConfigError, match="config.cifar10_dir = '' is invalid"):
    params_vs_accuracy.validate(config)
