"""n-sequence MNIST: Section 5's claim verdicts on hand-made rows, and config checks.

With num_test = 4096 the margin is 2 binomial standard errors at p = 1/2:
2 sqrt(0.25/4096) = 2/128 = 0.015625 exactly, so every threshold below is an exact binary
fraction: 0.5 + margin = 0.515625, 0.5 + 2 margin = 0.53125. One step of 2^-14 =
0.00006103515625 on either side of a threshold decides it (1% of the margin).
"""

import pytest

from conftest import load_config, with_changes
from cnnfcn_jax import checks, data
from cnnfcn_jax.experiments import mnist_sequences

NUM_TEST = 4096
MARGIN = 0.015625
STEP = 2.0**-14


def rows_for(locality, accuracy):
  """{(arch, n): mean accuracy} -> two seeds at mean ± 2^-8 (exact binary sums)."""
  return [dict(arch=arch, n=n, locality=locality, seed=s, test_accuracy=value + d)
          for (arch, n), value in accuracy.items() for s, d in enumerate((-2.0**-8, 2.0**-8))]


def verdicts(locality, accuracy, num_test=NUM_TEST):
  """{claim up to its first " (" or " at": holds}."""
  result = {}
  for v in mnist_sequences.claim_verdicts(rows_for(locality, accuracy), num_test):
    result[v.claim.split(" (")[0].split(" at ")[0]] = v.holds
  return result


def test_the_margin_is_two_binomial_standard_errors_at_one_half():
  claims = mnist_sequences.claim_verdicts(rows_for("local", {("cnn", 3): 0.9}), NUM_TEST)
  assert claims[0].claim == ("CNN stays above chance at every n (by 2 binomial standard "
                             "errors, 0.016)")
  # num_test = 2500: 2 sqrt(0.25/2500) = 0.02.
  claims = mnist_sequences.claim_verdicts(rows_for("local", {("cnn", 3): 0.9}), 2500)
  assert claims[0].claim.endswith("0.020)")


# ----------------------------------------------------------------------------- local


@pytest.mark.parametrize("arch,label", [("cnn", "CNN"), ("lcn", "LCN")])
def test_windowed_above_chance_at_every_n_is_strict_at_half_plus_margin(arch, label):
  claim = f"{label} stays above chance"
  above = {(arch, 3): 0.9, (arch, 19): 0.5 + MARGIN + STEP}
  assert verdicts("local", above) == {claim: True}
  at = {(arch, 3): 0.9, (arch, 19): 0.5 + MARGIN}  # > is strict: exactly the margin fails
  assert verdicts("local", at) == {claim: False}
  # The worst n decides, whichever it is.
  assert verdicts("local", {(arch, 3): 0.5 + MARGIN, (arch, 19): 0.9}) == {claim: False}


def local_fcn(small, large):
  return {("fcn", 3): small, ("fcn", 19): large}


def test_fcn_at_chance_at_the_largest_n_within_the_margin_either_side():
  for large, holds in [(0.5 + MARGIN, True), (0.5 - MARGIN, True), (0.5, True),
                       (0.5 + MARGIN + STEP, False), (0.5 - MARGIN - STEP, False)]:
    assert verdicts("local", local_fcn(0.9, large))["FCN is"] == holds, large
  # The smaller n does not matter: at chance at n = 3 but 0.6 at n = 19 fails.
  assert not verdicts("local", local_fcn(0.5, 0.6))["FCN is"]


def test_fcn_degrades_by_more_than_the_margin():
  # 0.75 at n = 3: the largest n must be below 0.75 - 0.015625 = 0.734375.
  assert verdicts("local", local_fcn(0.75, 0.734375 - STEP))["FCN degrades as n grows"]
  assert not verdicts("local", local_fcn(0.75, 0.734375))["FCN degrades as n grows"]
  assert not verdicts("local", local_fcn(0.5, 0.75))["FCN degrades as n grows"]


def test_lcn_above_cnn_on_average_over_n():
  # Gaps LCN - CNN: +0.1 at n = 3, -0.09 at n = 19: mean +0.005 > 0 holds although the LCN
  # wins at one n only.
  accuracy = {("cnn", 3): 0.6, ("lcn", 3): 0.7, ("cnn", 19): 0.69, ("lcn", 19): 0.6}
  assert verdicts("local", accuracy)["LCN above CNN"]
  # Gaps +0.3, -0.1, -0.1 over three n: mean +0.033 > 0 holds (the median gap, -0.1, would
  # not).
  accuracy = {("cnn", 3): 0.6, ("lcn", 3): 0.9, ("cnn", 5): 0.7, ("lcn", 5): 0.6,
              ("cnn", 19): 0.7, ("lcn", 19): 0.6}
  assert verdicts("local", accuracy)["LCN above CNN"]
  # Equal on average (gaps +0.125, -0.125): > 0 is strict, fails.
  accuracy = {("cnn", 3): 0.625, ("lcn", 3): 0.75, ("cnn", 19): 0.75, ("lcn", 19): 0.625}
  assert not verdicts("local", accuracy)["LCN above CNN"]


def test_a_paper_like_local_run_holds_every_claim_and_a_broken_one_fails_the_right_ones():
  paper_like = {("fcn", 3): 0.70, ("fcn", 19): 0.50, ("cnn", 3): 0.69, ("cnn", 19): 0.62,
                ("lcn", 3): 0.70, ("lcn", 19): 0.68}
  assert verdicts("local", paper_like) == {
      "CNN stays above chance": True, "LCN stays above chance": True, "FCN is": True,
      "FCN degrades as n grows": True, "LCN above CNN": True}
  broken = {**paper_like, ("fcn", 19): 0.66, ("lcn", 19): 0.51, ("lcn", 3): 0.60}
  assert verdicts("local", broken) == {
      "CNN stays above chance": True, "LCN stays above chance": False, "FCN is": False,
      "FCN degrades as n grows": True, "LCN above CNN": False}


# -------------------------------------------------------------------------- nonlocal


def test_nonlocal_fcn_beats_cnn_and_lcn_at_the_smallest_n_above_3():
  # n = 3 has the same label digits in both tasks, so the judged n is 7. Best of CNN/LCN at
  # n = 7 is 0.5 (the LCN); the FCN must exceed 0.515625.
  base = {("fcn", 3): 0.5, ("cnn", 3): 0.95, ("lcn", 3): 0.95, ("cnn", 7): 0.45,
          ("lcn", 7): 0.5, ("fcn", 19): 0.5, ("cnn", 19): 0.5, ("lcn", 19): 0.5}
  claims = mnist_sequences.claim_verdicts(
      rows_for("nonlocal", {**base, ("fcn", 7): 0.5 + MARGIN + STEP}), NUM_TEST)
  assert claims[0].claim == "FCN much better than CNN and LCN at small n (n = 7)"
  assert claims[0].holds and "LCN 0.500" in claims[0].measured
  claims = mnist_sequences.claim_verdicts(
      rows_for("nonlocal", {**base, ("fcn", 7): 0.5 + MARGIN}), NUM_TEST)
  assert not claims[0].holds


def test_nonlocal_every_arch_poor_at_the_largest_n_within_twice_the_margin():
  base = {("fcn", 7): 0.7, ("cnn", 7): 0.5, ("lcn", 7): 0.5, ("fcn", 19): 0.5,
          ("cnn", 19): 0.5}
  at = verdicts("nonlocal", {**base, ("lcn", 19): 0.5 + 2 * MARGIN})  # 0.53125: holds
  assert at == {"FCN much better than CNN and LCN": True, "every architecture poor": True}
  above = verdicts("nonlocal", {**base, ("lcn", 19): 0.5 + 2 * MARGIN + STEP})
  assert above == {"FCN much better than CNN and LCN": True, "every architecture poor": False}
  # Only the largest n counts: 0.7 at n = 7 does not break it.
  assert verdicts("nonlocal", {**base, ("lcn", 19): 0.5})["every architecture poor"]


def test_nonlocal_without_an_fcn_judges_only_the_largest_n():
  accuracy = {("cnn", 7): 0.9, ("cnn", 19): 0.5}
  assert verdicts("nonlocal", accuracy) == {"every architecture poor": True}


# ------------------------------------------------------------------------ configs


NAMES = ["mnist_local", "mnist_nonlocal"]


def test_a_missing_mnist_directory_is_a_data_error_naming_the_file(tmp_path):
  config = with_changes(load_config("mnist_local", "quick"),
                        {"digits": "idx", "mnist_dir": str(tmp_path)})
  with pytest.raises(data.DataError, match="train-images-idx3-ubyte\\[.gz\\]: file not found"):
    mnist_sequences.validate(config)


@pytest.mark.parametrize("name,locality", [("mnist_local", "local"),
                                           ("mnist_nonlocal", "nonlocal")])
@pytest.mark.parametrize("variant", ["", "quick"])
def test_each_config_is_named_for_its_locality(name, locality, variant):
  config = load_config(name, variant)
  assert config.locality == locality
  assert "label" not in config  # renamed to locality


@pytest.mark.parametrize("name", NAMES)
def test_the_paper_configs_need_the_mnist_directory(name):
  # :paper reads full MNIST from IDX files: refused, naming the field, until it is given.
  config = load_config(name, "paper")
  assert config.digits == "idx" and config.mnist_dir == ""
  with pytest.raises(checks.ConfigError, match="config.mnist_dir = '' is invalid"):
    mnist_sequences.validate(config)


def test_the_two_configs_differ_only_in_locality():
  local, nonlocal_ = (load_config(name, "quick").to_dict() for name in NAMES)
  assert {k for k in local if local[k] != nonlocal_[k]} == {"locality"}
