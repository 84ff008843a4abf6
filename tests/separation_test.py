"""The k-pattern separation experiment: its claim verdicts on hand-made rows, its config checks.

Every verdict is shown both holding and failing, with numbers at or next to its threshold,
so that moving a threshold (LEARNS_ACCURACY, CHANCE_ACCURACY, MAX_STANDARD_ERRORS) or the
noise floor breaks a test. Accuracies are exact binary fractions (or doubled and halved,
which is exact) wherever a value sits on a threshold.
"""

import pytest

from conftest import load_config, with_changes
from cnnfcn_jax.experiments import separation

NUM_TEST = 4096


def rows_for(accuracies, width=128, seeds=1):
  """{(locality, arch, n): accuracy or [accuracy per seed]} -> rows at `width`."""
  rows = []
  for (locality, arch, n), values in accuracies.items():
    values = values if isinstance(values, list) else [values] * seeds
    rows += [dict(locality=locality, arch=arch, n=n, width=width, seed=s, test_accuracy=v)
             for s, v in enumerate(values)]
  return rows


def verdicts(rows, num_test=NUM_TEST):
  """{"CNN local": holds, "FCN nonlocal equals FCN local within noise": holds, ...}."""
  return {v.claim.split(":")[0].split(" (")[0]: v.holds
          for v in separation.claim_verdicts(rows, num_test)}


# ----------------------------------------------------------------- CNN/LCN learn (local)


@pytest.mark.parametrize("arch,label", [("cnn", "CNN"), ("lcn", "LCN")])
def test_windowed_local_learns_holds_at_exactly_the_threshold_and_fails_just_below(arch, label):
  # Mean over two identical seeds of 0.95 is exactly 0.95 (doubling and halving is exact).
  at = rows_for({("local", arch, 16): 1.0, ("local", arch, 32): 0.95}, seeds=2)
  assert verdicts(at) == {f"{label} local": True}
  below = rows_for({("local", arch, 16): 1.0, ("local", arch, 32): 0.949}, seeds=2)
  assert verdicts(below) == {f"{label} local": False}
  # "at every n": the worst n decides, whichever n it is.
  first_below = rows_for({("local", arch, 16): 0.949, ("local", arch, 32): 1.0}, seeds=2)
  assert verdicts(first_below) == {f"{label} local": False}


def test_windowed_local_is_judged_on_the_mean_over_seeds():
  # Seeds 0.9 and 1.0: mean 0.95 >= 0.95 holds although one seed is below.
  assert verdicts(rows_for({("local", "cnn", 16): [0.9, 1.0]})) == {"CNN local": True}
  # Seeds 0.9 and 0.99: mean 0.945 < 0.95 fails although one seed is above.
  assert verdicts(rows_for({("local", "cnn", 16): [0.9, 0.99]})) == {"CNN local": False}


def test_only_the_widest_network_of_each_arch_is_judged():
  wide = rows_for({("local", "cnn", 16): 0.97, ("local", "fcn", 16): 0.5}, width=64)
  narrow = rows_for({("local", "cnn", 16): 0.5, ("local", "fcn", 16): 0.99}, width=8)
  assert verdicts(wide + narrow) == {"CNN local": True, "FCN local": True}
  # The other way round the narrow networks decide nothing either: both claims fail.
  wide = rows_for({("local", "cnn", 16): 0.5, ("local", "fcn", 16): 0.99}, width=64)
  narrow = rows_for({("local", "cnn", 16): 0.97, ("local", "fcn", 16): 0.5}, width=8)
  assert verdicts(wide + narrow) == {"CNN local": False, "FCN local": False}


# ---------------------------------------------------------------- FCN at chance (local)


def test_fcn_local_at_chance_is_judged_at_its_own_largest_n_with_threshold_060():
  # The FCN's largest n is 32 (CNN goes to 64); its n = 16 accuracy does not matter.
  base = {("local", "cnn", 16): 1.0, ("local", "cnn", 32): 1.0, ("local", "cnn", 64): 1.0,
          ("local", "fcn", 16): 0.99}
  at = rows_for({**base, ("local", "fcn", 32): 0.60}, seeds=2)  # mean exactly 0.6
  assert verdicts(at) == {"CNN local": True, "FCN local": True}
  above = rows_for({**base, ("local", "fcn", 32): 0.601}, seeds=2)
  assert verdicts(above) == {"CNN local": True, "FCN local": False}
  claim = [v for v in separation.claim_verdicts(above, NUM_TEST) if v.claim.startswith("FCN")]
  assert "n = 32" in claim[0].claim and claim[0].measured == "0.601"


# -------------------------------------------------------- CNN/LCN at chance (nonlocal)


@pytest.mark.parametrize("arch,label", [("cnn", "CNN"), ("lcn", "LCN")])
def test_windowed_nonlocal_at_chance_at_every_n(arch, label):
  at = rows_for({("nonlocal", arch, 16): 0.60, ("nonlocal", arch, 32): 0.5}, seeds=2)
  assert verdicts(at) == {f"{label} nonlocal": True}
  # The best n decides: 0.601 at n = 32 breaks it although n = 16 is at chance.
  above = rows_for({("nonlocal", arch, 16): 0.5, ("nonlocal", arch, 32): 0.601}, seeds=2)
  assert verdicts(above) == {f"{label} nonlocal": False}


def test_which_claims_are_judged_depends_on_the_localities_present():
  local = {("local", "cnn", 16): 1.0, ("local", "lcn", 16): 1.0, ("local", "fcn", 16): 0.5}
  twin = {("nonlocal", "cnn", 16): 0.5, ("nonlocal", "lcn", 16): 0.5,
          ("nonlocal", "fcn", 16): 0.5}
  assert set(verdicts(rows_for(local))) == {"CNN local", "LCN local", "FCN local"}
  assert set(verdicts(rows_for(twin))) == {"CNN nonlocal", "LCN nonlocal"}
  both = verdicts(rows_for({**local, **twin}, seeds=2))
  assert both == {"CNN local": True, "LCN local": True, "FCN local": True,
                  "CNN nonlocal": True, "LCN nonlocal": True,
                  "FCN nonlocal equals FCN local within noise": True}


# ------------------------------------------------ FCN local vs nonlocal: the binomial floor


def fcn_twins(local, twin, n=64):
  """FCN rows: {local seeds} and {nonlocal seeds} at one n."""
  return rows_for({("local", "fcn", n): local, ("nonlocal", "fcn", n): twin})


def z_verdict(rows, num_test=NUM_TEST):
  [verdict] = [v for v in separation.claim_verdicts(rows, num_test)
               if v.claim.startswith("FCN nonlocal equals")]
  return verdict


# Identical seeds within each group (zero spread), so each group's variance is the binomial
# floor p(1 - p)/num_test with p the mean of the two group means.
#   2 seeds, gap 0.02, p = 0.5, num_test = 4096:
#     floor = 0.25/4096 = 2^-14; variance = 2^-14/2 + 2^-14/2 = 2^-14; SE = 2^-7 = 1/128;
#     z = 0.02 * 128 = 2.56 <= 3: holds.
#   4 seeds, same gap: variance = 2 * 2^-14/4 = 2^-15; SE = 2^-7.5 = 0.0055243;
#     z = 0.02 / 0.0055243 = 3.62 > 3: fails.
#   2 seeds, gap 3/128 = 0.0234375 (0.5 +- 3/256, exact binary fractions): z = 3.0 exactly,
#     the threshold itself (<=): holds.
#   2 seeds, gap 3.015625/128 = 0.0235595703125 (0.5 +- 0.01177978515625): z = 3.015625,
#     just above: fails.
#   2 seeds, gap 0.0244140625 = 3.125/128 (0.5 +- 0.01220703125), num_test = 1024:
#     floor = 0.25/1024 = 2^-12, SE = 2^-6, z = 0.0244140625 * 64 = 1.5625: holds.
@pytest.mark.parametrize("local,twin,seeds,num_test,z,holds", [
    (0.51, 0.49, 2, 4096, 2.56, True),
    (0.51, 0.49, 4, 4096, 0.02 / 2**-7.5, False),
    (0.51171875, 0.48828125, 2, 4096, 3.0, True),
    (0.51177978515625, 0.48822021484375, 2, 4096, 3.015625, False),
    (0.51220703125, 0.48779296875, 2, 1024, 1.5625, True),
], ids=["gap0.02-2seeds-z2.56", "gap0.02-4seeds-z3.62", "z3.0-at-threshold", "z3.016",
        "z1.5625-smaller-test-set"])
def test_fcn_twins_with_identical_seeds_are_judged_by_the_binomial_floor(local, twin, seeds,
                                                                        num_test, z, holds):
  verdict = z_verdict(fcn_twins([local] * seeds, [twin] * seeds), num_test)
  assert verdict.holds == holds
  assert verdict.measured == f"largest {z:.2f} standard errors"


def test_fcn_twins_use_the_seed_spread_when_it_exceeds_the_floor():
  # Seeds 0.40, 0.60 (mean 0.50) and 0.45, 0.65 (mean 0.55): each variance (ddof 1) is 0.02,
  # far above the floor 0.25/4096; SE = sqrt(0.02/2 + 0.02/2) = 0.1414, z = 0.05/0.1414
  # = 0.354: holds. (The floor alone would give z = 0.05 * 128 = 6.4 and fail.)
  verdict = z_verdict(fcn_twins([0.40, 0.60], [0.45, 0.65]))
  assert verdict.holds and verdict.measured == "largest 0.35 standard errors"


def test_fcn_twins_are_judged_at_the_worst_n():
  # n = 16 identical (z = 0), n = 32 at z = 3.125 (as above): the worst n fails the claim.
  rows = (fcn_twins([0.5, 0.5], [0.5, 0.5], n=16)
          + fcn_twins([0.51220703125] * 2, [0.48779296875] * 2, n=32))
  verdict = z_verdict(rows)
  assert not verdict.holds and verdict.measured == "largest 3.12 standard errors"


def test_fcn_twins_identical_to_the_last_digit_hold():
  assert z_verdict(fcn_twins([0.5, 0.5], [0.5, 0.5])).holds
  # Both perfect: p = 1, so the floor p(1 - p)/num_test is 0 and so is the spread; no gap,
  # no difference (z = 0), even with a variance of exactly 0.
  verdict = z_verdict(fcn_twins([1.0, 1.0], [1.0, 1.0]))
  assert verdict.holds and verdict.measured == "largest 0.00 standard errors"


def test_fcn_twins_with_one_seed_each_use_the_floor_alone():
  # One seed: no spread to estimate. variance = 2 * 0.25/4096 = 2^-13, SE = 2^-6.5 = 0.011049.
  # Gap 0.02: z = 1.81 (holds); gap 0.04: z = 3.62 (fails).
  verdict = z_verdict(fcn_twins([0.51], [0.49]))
  assert verdict.holds and verdict.measured == "largest 1.81 standard errors"
  verdict = z_verdict(fcn_twins([0.52], [0.48]))
  assert not verdict.holds and verdict.measured == "largest 3.62 standard errors"


def test_fcn_twins_compare_means_over_seeds():
  # Local seeds 0.50, 0.50, 0.56: mean 0.52, variance (ddof 1) (0.02² + 0.02² + 0.04²)/2
  # = 0.0012; nonlocal 0.48 x 3: the floor 0.25/4096 (p = 0.5). SE = sqrt(0.0012/3
  # + 0.25/4096/3) = 0.020502; gap 0.04: z = 1.95.
  verdict = z_verdict(fcn_twins([0.50, 0.50, 0.56], [0.48] * 3))
  assert verdict.holds and verdict.measured == "largest 1.95 standard errors"


# ------------------------------------------------------------------------ configs


def test_the_old_field_name_path_is_gone_and_compute_path_is_checked():
  config = load_config("separation", "quick")
  assert "path" not in config and config.compute_path == "auto"
  for value in ("auto", "dense", "table"):  # every allowed value is accepted
    separation.validate(with_changes(config, {"compute_path": value}))
