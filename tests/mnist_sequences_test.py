"""n-sequence MNIST: Section 5's claim verdicts on hand-made rows, three-valued on the
intervals of stats.mean_accuracy, and config checks.

Two seeds per (arch, n) at mean ± 2^-8 on a test set of 4096: each mean's 95% interval is
about ± 0.018 (the test set's binomial noise and the two seeds' spread), so a value 0.1
from a threshold decides, and one within 0.005 of it does not.
"""

import pytest

from conftest import load_config, with_changes
from cnnfcn_jax import checks, data, stats
from cnnfcn_jax.experiments import mnist_sequences

NUM_TEST = 4096


def rows_for(locality, accuracy):
  """{(arch, n): mean accuracy} -> two seeds at mean ± 2^-8."""
  return [dict(arch=arch, n=n, locality=locality, seed=s, test_accuracy=value + d)
          for (arch, n), value in accuracy.items() for s, d in enumerate((-2.0**-8, 2.0**-8))]


def verdicts(locality, accuracy, num_test=NUM_TEST):
  """{claim up to its first " (" or " at": holds}."""
  result = {}
  for v in mnist_sequences.claim_verdicts(rows_for(locality, accuracy), num_test):
    result[v.claim.split(" (")[0].split(" at ")[0]] = v.holds
  return result


def test_each_mean_carries_the_test_sets_noise_and_the_seeds_spread():
  half = lambda e: (e.high - e.low) / 2  # noqa: E731
  exact = stats.mean_accuracy([0.5, 0.5, 0.5], NUM_TEST)
  assert half(exact) == pytest.approx(1.959964 * (0.25 / NUM_TEST)**0.5, rel=1e-5)
  spread = stats.mean_accuracy([0.4, 0.5, 0.6], NUM_TEST)
  assert half(spread) > half(exact) and 2 < spread.df < 3  # Student's, near S - 1 = 2
  [cnn] = mnist_sequences.claim_verdicts(rows_for("local", {("cnn", 3): 0.9}), NUM_TEST)
  assert "FAILS: one at or below" in cnn.claim and "CNN 0.900 [0.8" in cnn.measured


# ----------------------------------------------------------------------------- local


@pytest.mark.parametrize("arch,label", [("cnn", "CNN"), ("lcn", "LCN")])
def test_windowed_above_chance_at_every_n_on_each_interval(arch, label):
  claim = f"{label} stays above chance"
  assert verdicts("local", {(arch, 3): 0.9, (arch, 19): 0.6}) == {claim: True}
  assert verdicts("local", {(arch, 3): 0.9, (arch, 19): 0.51}) == {claim: None}
  # The worst n decides, whichever it is.
  assert verdicts("local", {(arch, 3): 0.45, (arch, 19): 0.9}) == {claim: False}


def local_fcn(small, large):
  return {("fcn", 3): small, ("fcn", 19): large}


def test_fcn_at_chance_at_the_largest_n_within_the_margin_either_side():
  for large, holds in [(0.5, True), (0.47, True), (0.54, None), (0.46, None), (0.6, False),
                       (0.4, False)]:
    assert verdicts("local", local_fcn(0.9, large))["FCN is"] == holds, large
  # The smaller n does not matter: at chance at n = 3 but 0.6 at n = 19 fails.
  assert verdicts("local", local_fcn(0.5, 0.6))["FCN is"] is False


def test_fcn_degrades_on_the_differences_interval():
  assert verdicts("local", local_fcn(0.75, 0.5))["FCN degrades as n grows"] is True
  assert verdicts("local", local_fcn(0.75, 0.74))["FCN degrades as n grows"] is None
  assert verdicts("local", local_fcn(0.5, 0.75))["FCN degrades as n grows"] is False


def test_lcn_above_cnn_on_average_over_n():
  # Gaps LCN - CNN: +0.1 at n = 3, +0.05 at n = 19: the mean's interval above 0.
  accuracy = {("cnn", 3): 0.6, ("lcn", 3): 0.7, ("cnn", 19): 0.6, ("lcn", 19): 0.65}
  assert verdicts("local", accuracy)["LCN above CNN"] is True
  # Gaps +0.1 and -0.09: a mean of +0.005 decides nothing.
  accuracy = {("cnn", 3): 0.6, ("lcn", 3): 0.7, ("cnn", 19): 0.69, ("lcn", 19): 0.6}
  assert verdicts("local", accuracy)["LCN above CNN"] is None
  # Gaps -0.1 and -0.1: below.
  accuracy = {("cnn", 3): 0.7, ("lcn", 3): 0.6, ("cnn", 19): 0.7, ("lcn", 19): 0.6}
  assert verdicts("local", accuracy)["LCN above CNN"] is False


def test_a_paper_like_local_run_holds_every_claim_and_a_broken_one_fails_the_right_ones():
  paper_like = {("fcn", 3): 0.70, ("fcn", 19): 0.50, ("cnn", 3): 0.69, ("cnn", 19): 0.62,
                ("lcn", 3): 0.75, ("lcn", 19): 0.68}
  assert verdicts("local", paper_like) == {
      "CNN stays above chance": True, "LCN stays above chance": True, "FCN is": True,
      "FCN degrades as n grows": True, "LCN above CNN": True}
  broken = {**paper_like, ("fcn", 19): 0.66, ("lcn", 19): 0.45, ("lcn", 3): 0.60}
  assert verdicts("local", broken) == {
      "CNN stays above chance": True, "LCN stays above chance": False, "FCN is": False,
      "FCN degrades as n grows": True, "LCN above CNN": False}


# -------------------------------------------------------------------------- nonlocal


def test_nonlocal_fcn_beats_cnn_and_lcn_at_the_smallest_n_above_3():
  # n = 3 has the same label digits in both tasks, so the judged n is 7. Best of CNN/LCN at
  # n = 7 is 0.5 (the LCN).
  base = {("fcn", 3): 0.5, ("cnn", 3): 0.95, ("lcn", 3): 0.95, ("cnn", 7): 0.45,
          ("lcn", 7): 0.5, ("fcn", 19): 0.5, ("cnn", 19): 0.5, ("lcn", 19): 0.5}
  claims = mnist_sequences.claim_verdicts(rows_for("nonlocal", {**base, ("fcn", 7): 0.6}),
                                          NUM_TEST)
  assert claims[0].claim.startswith("FCN better than CNN and LCN at small n (n = 7;")
  assert claims[0].holds is True and "LCN 0.500" in claims[0].measured
  for fcn, holds in [(0.5, None), (0.4, False)]:
    claims = mnist_sequences.claim_verdicts(rows_for("nonlocal", {**base, ("fcn", 7): fcn}),
                                            NUM_TEST)
    assert claims[0].holds is holds, fcn


def test_nonlocal_every_arch_poor_at_the_largest_n_within_the_margin():
  base = {("fcn", 7): 0.7, ("cnn", 7): 0.5, ("lcn", 7): 0.5, ("fcn", 19): 0.5,
          ("cnn", 19): 0.5}
  for lcn, holds in [(0.5, True), (0.54, None), (0.6, False)]:
    assert verdicts("nonlocal", {**base, ("lcn", 19): lcn}) == {
        "FCN better than CNN and LCN": True, "every architecture poor": holds}, lcn
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
