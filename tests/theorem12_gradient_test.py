"""Theorem 12 gradient: verdicts on hand-made rows, config checks, one tiny real run."""

import json
import math

import numpy as np
import pytest

from conftest import load_config, with_changes
from cnnfcn_jax.experiments import theorem12_gradient


def fcn_rows(n, values, bound, stderrs=None, schedule="fixed", method="exact", group="W",
             other=(0.0, 1.0)):
  """FCN rows at one n: `group`'s values per init against `bound`; the other group at
  `other` = (value, bound), far below its bound."""
  stderrs = stderrs or [0.0] * len(values)
  other_group = "u" if group == "W" else "W"
  return [{"k_schedule": schedule, "arch": "fcn", "n": n, "method": method,
           f"grad_{group}_sq": v, f"grad_{group}_sq_stderr": s, f"bound_{group}": bound,
           f"grad_{other_group}_sq": other[0], f"grad_{other_group}_sq_stderr": 0.0,
           f"bound_{other_group}": other[1]}
          for v, s in zip(values, stderrs)]


def closed_row(n, value_W, value_u, bound_W=1.0, bound_u=1.0, schedule="fixed", arch="fcn"):
  """A closed-form row (the FCN's carry its bounds)."""
  row = {"k_schedule": schedule, "arch": arch, "n": n, "method": "closed_form",
         "grad_W_sq": value_W, "grad_u_sq": value_u}
  if arch == "fcn":
    row.update(bound_W=bound_W, bound_u=bound_u)
  return row


# CNN rows have no bound_W/bound_u: the verdicts are about the FCN only. Their huge values
# would break every claim if they were counted.
CNN_ROWS = [{"k_schedule": s, "arch": "cnn", "n": 8, "method": m, "grad_W_sq": 1e9,
             "grad_W_sq_stderr": 0.0, "grad_u_sq": 1e9, "grad_u_sq_stderr": 0.0}
            for s in ("fixed", "log2_n") for m in ("exact", "monte_carlo")]
CNN_ROWS += [closed_row(n, 1e9, 1e9, schedule=s, arch="cnn") for s in ("fixed", "log2_n")
             for n in (8, 16)]

KINDS = {"exact values below": "exact", "Monte Carlo values below": "monte_carlo",
         "closed form below": "closed_form", "equals the closed form": "agreement"}


def verdicts(rows):
  """{(schedule, group, "exact" | "monte_carlo" | "closed_form" | "agreement"): holds}."""
  result = {}
  for v in theorem12_gradient.claim_verdicts(rows):
    schedule = v.claim.split(" ")[0]
    group = v.claim.split("∂L/∂")[1][0]
    [kind] = [kind for text, kind in KINDS.items() if text in v.claim]
    assert (kind == "monte_carlo") == ("within 3 standard errors" in v.claim)
    assert (kind == "agreement") == ("within 4 standard errors" in v.claim)
    result[schedule, group, kind] = v.holds
  return result


# ---------------------------------------------------------------------------- exact


def test_exact_mean_equal_to_the_bound_holds_and_just_above_fails():
  # Inits 0.5 and 1.0: mean 0.75 (exact); bound 0.75 -> holds (<=).
  rows = fcn_rows(8, [0.5, 1.0], 0.75) + CNN_ROWS[:1]
  assert verdicts(rows) == {("fixed", "W", "exact"): True, ("fixed", "u", "exact"): True}
  # Bound 0.7499 -> fails; the u group (0 vs 1) still holds.
  assert verdicts(fcn_rows(8, [0.5, 1.0], 0.7499)) == {
      ("fixed", "W", "exact"): False, ("fixed", "u", "exact"): True}
  # The mean over inits decides: 1.0 > 0.8 for one init, but mean 0.75 <= 0.8.
  assert verdicts(fcn_rows(8, [0.5, 1.0], 0.8))["fixed", "W", "exact"]
  # Inits 1, 1, 4: the mean 2 is above 1.5 (fails) although the median 1 is below.
  assert not verdicts(fcn_rows(8, [1.0, 1.0, 4.0], 1.5))["fixed", "W", "exact"]


def test_exact_every_n_must_be_below_and_the_ratio_is_reported():
  rows = fcn_rows(6, [0.25, 0.25], 1.0, group="u") + fcn_rows(8, [0.5, 0.5], 0.4, group="u")
  assert not verdicts(rows)["fixed", "u", "exact"]
  [u] = [v for v in theorem12_gradient.claim_verdicts(rows) if "∂L/∂u" in v.claim]
  assert u.measured == "largest value/bound 1.25"  # 0.5 / 0.4


# ---------------------------------------------------------------------- Monte Carlo


def test_monte_carlo_within_three_standard_errors_at_the_edge():
  # 4 inits, equal values, each with its own stderr 0.5: SE = sqrt(0 + 0.5²)/sqrt(4) = 0.25,
  # 3 SE = 0.75. Bound 1: a mean of 1.75 is exactly at the edge (holds), 1.875 is not.
  at = fcn_rows(32, [1.75] * 4, 1.0, stderrs=[0.5] * 4, method="monte_carlo")
  assert verdicts(at) == {("fixed", "W", "monte_carlo"): True,
                          ("fixed", "u", "monte_carlo"): True}
  above = fcn_rows(32, [1.875] * 4, 1.0, stderrs=[0.5] * 4, method="monte_carlo")
  assert not verdicts(above)["fixed", "W", "monte_carlo"]
  [w] = [v for v in theorem12_gradient.claim_verdicts(above) if "∂L/∂W" in v.claim]
  assert w.measured == "largest (estimate - 3 SE - bound) 0.125"


def test_monte_carlo_standard_error_includes_the_spread_over_inits():
  # Inits 1.5 and 2.0, no per-estimate error: variance (ddof 1) 0.125, SE = sqrt(0.125/2)
  # = 0.25, mean 1.75, mean - 3 SE = 1.0. Bound 1.01 holds; 0.99 fails. Without the spread
  # (SE 0) even 1.01 would fail.
  rows = fcn_rows(32, [1.5, 2.0], 1.01, method="monte_carlo")
  assert verdicts(rows)["fixed", "W", "monte_carlo"]
  rows = fcn_rows(32, [1.5, 2.0], 0.99, method="monte_carlo")
  assert not verdicts(rows)["fixed", "W", "monte_carlo"]


def test_exact_and_monte_carlo_points_are_judged_separately_per_schedule():
  exact_ok = fcn_rows(8, [0.5, 0.5], 1.0, schedule="log2_n")
  mc_bad = fcn_rows(32, [3.0, 3.0], 1.0, stderrs=[0.1, 0.1], schedule="log2_n",
                    method="monte_carlo")
  fixed_ok = fcn_rows(8, [0.5, 0.5], 1.0)
  assert verdicts(exact_ok + mc_bad + fixed_ok + CNN_ROWS) == {
      ("fixed", "W", "exact"): True, ("fixed", "u", "exact"): True,
      ("log2_n", "W", "exact"): True, ("log2_n", "u", "exact"): True,
      ("log2_n", "W", "monte_carlo"): False, ("log2_n", "u", "monte_carlo"): True}
  # A Monte Carlo point at 3.0 does not spoil the exact claim, and a schedule without FCN
  # rows has no claims.
  assert verdicts(CNN_ROWS) == {}


# ---------------------------------------------------------------------- closed form


def test_closed_form_strictly_below_the_bound_at_every_n():
  # value/bound 0.999 at n = 8 and 0.5 at n = 16: holds; exactly 1 at n = 16: fails (<).
  below = [closed_row(8, 0.999, 0.1), closed_row(16, 0.5, 0.1)]
  assert verdicts(below + CNN_ROWS) == {("fixed", "W", "closed_form"): True,
                                        ("fixed", "u", "closed_form"): True}
  at = [closed_row(8, 0.999, 0.1), closed_row(16, 1.0, 0.1)]
  assert verdicts(at) == {("fixed", "W", "closed_form"): False,
                          ("fixed", "u", "closed_form"): True}
  [w, _] = theorem12_gradient.claim_verdicts(at)
  assert w.claim.endswith("at every n <= 16") and w.measured == "largest value/bound 1"
  # Per group and per schedule: u at 2.0/1.0 under log2_n fails, fixed is untouched.
  rows = below + [closed_row(8, 0.1, 2.0, schedule="log2_n")]
  assert verdicts(rows) == {("fixed", "W", "closed_form"): True,
                            ("fixed", "u", "closed_form"): True,
                            ("log2_n", "W", "closed_form"): True,
                            ("log2_n", "u", "closed_form"): False}


def student_t3_cdf(t):
  """CDF of Student's t with 3 degrees of freedom, in closed form."""
  x = t / math.sqrt(3)
  return 0.5 + (x / (1 + x * x) + math.atan(x)) / math.pi


def test_sampled_mean_agrees_with_the_closed_form_within_the_student_t_limit():
  # 4 inits at n = 8, equal values 2.0, each Monte Carlo estimate with stderr 1.0:
  # SE = sqrt(0 + 1²)/sqrt(4) = 0.5. The limit is the t quantile (3 degrees of freedom) of
  # the two-sided tail of 4 normal standard errors, 6.33e-5; by the closed-form t3 CDF it
  # lies in (32, 33) (it is 32.6). So |difference| = 32 SE holds and 33 SE fails.
  tail = math.erfc(4 / math.sqrt(2))
  assert student_t3_cdf(32.0) < 1 - tail / 2 < student_t3_cdf(33.0)

  def rows(closed_value):
    sampled = fcn_rows(8, [2.0] * 4, 100.0, stderrs=[1.0] * 4, method="monte_carlo")
    return sampled + [closed_row(8, closed_value, 0.0, bound_W=100.0)]
  assert verdicts(rows(2.0 + 32 * 0.5))["fixed", "W", "agreement"]
  assert not verdicts(rows(2.0 + 33 * 0.5))["fixed", "W", "agreement"]
  assert not verdicts(rows(2.0 - 33 * 0.5))["fixed", "W", "agreement"]
  assert verdicts(rows(0.0))["fixed", "W", "agreement"]


def test_agreement_is_judged_only_where_a_closed_form_and_a_spread_exist():
  # n = 8 agrees (z = 0); n = 16 has no closed-form row, n = 4 has zero spread (SE 0):
  # neither is judged, however far their means are from anything.
  rows = (fcn_rows(8, [1.0, 3.0], 100.0) + fcn_rows(16, [50.0, 90.0], 100.0)
          + fcn_rows(4, [7.0, 7.0], 100.0)
          + [closed_row(8, 2.0, 0.0, bound_W=100.0), closed_row(4, 0.5, 0.0, bound_W=100.0)])
  judged = verdicts(rows)
  assert judged["fixed", "W", "agreement"]
  [agreement] = [v for v in theorem12_gradient.claim_verdicts(rows)
                 if "∂L/∂W" in v.claim and "closed form within" in v.claim]
  assert agreement.measured == "largest |difference| / limit 0.00 over 1 n"
  # The worst judged n decides: n = 32 at 33 SE (4 inits) fails the claim.
  rows += (fcn_rows(32, [2.0] * 4, 100.0, stderrs=[1.0] * 4, method="monte_carlo")
           + [closed_row(32, 2.0 + 33 * 0.5, 0.0, bound_W=100.0)])
  [agreement] = [v for v in theorem12_gradient.claim_verdicts(rows)
                 if "∂L/∂W" in v.claim and "closed form within" in v.claim]
  assert not agreement.holds and agreement.measured.endswith("over 2 n")
  # Without any closed-form row there is no agreement claim (nor a closed-form one).
  assert {kind for _, _, kind in verdicts(fcn_rows(8, [1.0, 3.0], 100.0))} == {"exact"}


# ------------------------------------------------------------------------ configs


def test_bias_scale_zero_is_allowed():
  theorem12_gradient.validate(with_changes(load_config("theorem12_gradient", "quick"),
                                           {"bias_scale": 0.0}))


# ------------------------------------------------------------------- one tiny real run


def test_a_tiny_run_gives_the_cnns_exact_gradient_the_closed_form_and_a_report(tmp_path):
  # fixed k = 2 at n = 4 (exact, 2^4 inputs); k = log2 8 = 3 at n = 8 (> exact_max_n = 4:
  # Monte Carlo). FCN and CNN, width 4, 2 inits; the closed form at n = 4 and 8.
  config = with_changes(load_config("theorem12_gradient", "quick"), {
      "k": 2, "ns_fixed_k": (4,), "ns_log_k": (8,), "archs": ("fcn", "cnn"), "width": 4,
      "num_inits": 2, "exact_max_n": 4, "mc_batch": 64, "mc_pairs": 2,
      "readout_scale": 0.1, "bias_scale": 1.0, "closed_form_max_n": 8})
  theorem12_gradient.validate(config)
  rows = theorem12_gradient.run(config)
  sampled = [r for r in rows if r["method"] != "closed_form"]
  closed = [r for r in rows if r["method"] == "closed_form"]
  keys = [(r["k_schedule"], r["arch"], r["n"], r["k"], r["init"], r["method"]) for r in sampled]
  assert keys == [("fixed", "fcn", 4, 2, 0, "exact"), ("fixed", "fcn", 4, 2, 1, "exact"),
                  ("fixed", "cnn", 4, 2, 0, "exact"), ("fixed", "cnn", 4, 2, 1, "exact"),
                  ("log2_n", "fcn", 8, 3, 0, "monte_carlo"),
                  ("log2_n", "fcn", 8, 3, 1, "monte_carlo"),
                  ("log2_n", "cnn", 8, 3, 0, "monte_carlo"),
                  ("log2_n", "cnn", 8, 3, 1, "monte_carlo")]
  # Closed form at the powers of two 4 <= n <= 8 with n >= 2k: fixed k = 2 at n = 4, 8;
  # k = log2 n: (4, 2) and (8, 3).
  assert sorted((r["k_schedule"], r["arch"], r["n"], r["k"]) for r in closed) == sorted(
      (s, a, n, k) for s, nks in (("fixed", ((4, 2), (8, 2))), ("log2_n", ((4, 2), (8, 3))))
      for a in ("fcn", "cnn") for n, k in nks)
  for r in rows:
    # C(4, 2) = 6, C(8, 2) = 28, C(8, 3) = 56
    assert r["n_choose_k"] == {(4, 2): 6, (8, 2): 28, (8, 3): 56}[r["n"], r["k"]]
    assert r["width"] == 4
  for r in sampled:
    if r["arch"] == "cnn" and r["method"] == "exact":
      # The paper's init: u = 0 (so h = 0, hinge active everywhere, ∂L/∂W = ∂L/∂b = 0),
      # filters W_l in {±1/k}^k and b = 1/k - 1, so σ(<W_l, z> + b) = (1/k) 1[z = k W_l].
      # ∂L/∂u_{j,l} = -E[y σ(...)] is -(1/k) 2^-k g(z_l) at the target window and 0 at the
      # others (y depends on bits outside them), so ||∂L/∂u||² = q/(k² 4^k) = 4/(4*16).
      assert r["u_norm_sq"] == 0.0 and r["grad_W_sq"] == 0.0 and r["grad_b_sq"] == 0.0
      assert r["grad_u_sq"] == pytest.approx(4 / (4 * 16), rel=1e-5)
    if r["arch"] == "cnn":
      assert "bound_W" not in r and "bound_u" not in r
    if r["arch"] == "fcn":
      assert r["grad_u_sq"] >= 0 if r["method"] == "exact" else math.isfinite(r["grad_u_sq"])
      if r["method"] == "exact":  # readout_scale 0.1: |h| < 1 on all 16 inputs
        assert r["hinge_active_fraction"] == 1.0
  fcn_exact = [r for r in sampled if r["arch"] == "fcn" and r["method"] == "exact"]
  # Theorem 12's bounds in expectation: n E||u||² / C(n,k) and E Σ_i E_x ψ_i² / C(n,k).
  mean_u = np.mean([r["u_norm_sq"] for r in fcn_exact])
  mean_psi = np.mean([r["sum_psi_sq"] for r in fcn_exact])
  assert fcn_exact[0]["bound_W"] == pytest.approx(4 * mean_u / 6, rel=1e-6)
  assert fcn_exact[0]["bound_u"] == pytest.approx(mean_psi / 6, rel=1e-6)

  at = {(r["k_schedule"], r["arch"], r["n"]): r for r in closed}
  for (schedule, arch, n), r in at.items():
    # The Gaussian init of the closed form: W entries N(0, 1/fan_in), fan_in = n for the FCN
    # and k for the CNN; biases N(0, 1²); E u² = 0.1²/4 = 0.0025.
    assert r["sigma_w2"] == pytest.approx(1 / (n if arch == "fcn" else r["k"]), rel=1e-12)
    assert r["sigma_b2"] == 1.0
    assert r["u_second_moment"] == pytest.approx(0.0025, rel=1e-12)
    assert r["grad_W_sq"] > 0 and r["grad_u_sq"] > 0
  # FCN bounds with the init's moments: E||u||² = r μ = 0.01, E_x ψ² = E relu(a)² = v/2 with
  # v = n σ_w² + σ_b² = 2, so bound_W = n * 0.01 / C(n,k) and bound_u = r (v/2) / C(n,k)
  # = 4 / C(n,k).
  for n, k, binom in ((4, 2, 6), (8, 2, 28)):
    r = at["fixed", "fcn", n]
    assert r["bound_W"] == pytest.approx(n * 0.01 / binom, rel=1e-12)
    assert r["bound_u"] == pytest.approx(4 / binom, rel=1e-12)
  # Only the window equal to the pattern has a gradient, so at fixed k the CNN's closed form
  # does not depend on n, and both schedules agree where (n, k) is the same.
  for group in ("W", "u"):
    value = at["fixed", "cnn", 4][f"grad_{group}_sq"]
    assert at["fixed", "cnn", 8][f"grad_{group}_sq"] == pytest.approx(value, rel=1e-9)
    assert at["log2_n", "cnn", 4][f"grad_{group}_sq"] == pytest.approx(value, rel=1e-9)
    assert at["log2_n", "fcn", 4][f"grad_{group}_sq"] == pytest.approx(
        at["fixed", "fcn", 4][f"grad_{group}_sq"], rel=1e-9)
    # At fixed k the FCN's falls with n (like 1/C(n, k)).
    assert at["fixed", "fcn", 8][f"grad_{group}_sq"] < at["fixed", "fcn", 4][f"grad_{group}_sq"]

  judged = verdicts(rows)
  # Agreement is judged where a closed form and a sampled n meet: fixed n = 4, log2_n n = 8.
  assert set(judged) == {(s, g, kind) for g in ("W", "u") for s, kind in (
      ("fixed", "exact"), ("fixed", "closed_form"), ("fixed", "agreement"),
      ("log2_n", "monte_carlo"), ("log2_n", "closed_form"), ("log2_n", "agreement"))}
  # The exact and closed-form verdicts, recomputed from the rows.
  for group in ("W", "u"):
    expected = np.mean([r[f"grad_{group}_sq"] for r in fcn_exact]) <= fcn_exact[0][f"bound_{group}"]
    assert judged["fixed", group, "exact"] == expected
    for schedule in ("fixed", "log2_n"):
      ratio = max(r[f"grad_{group}_sq"] / r[f"bound_{group}"] for r in closed
                  if r["k_schedule"] == schedule and r["arch"] == "fcn")
      assert judged[schedule, group, "closed_form"] == (ratio < 1)

  config_dict = json.loads(config.to_json_best_effort())
  files = theorem12_gradient.report(rows, config_dict, str(tmp_path))
  assert files == ["gradient_vs_n.png", "report.md"]
  for name in files:
    assert (tmp_path / name).stat().st_size > 0
  report = (tmp_path / "report.md").read_text()
  assert "| fixed | CNN | 4 | 2 | 6 | exact | 0 | 0.0625 |" in report
  assert "| log2_n | FCN | 8 | 3 | 56 | monte_carlo |" in report
  assert "## Closed form at any n" in report
