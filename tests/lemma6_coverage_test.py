"""Lemma 6 coverage: claim verdicts on hand-made rows, config checks, one tiny real run."""

import json
import math

import pytest

from conftest import load_config, with_changes
from cnnfcn_jax.experiments import lemma6_coverage


def row(q, q_star=100.0, delta=0.25, event_upper=1.0, norm_max=None, bound=64.0, covered=10,
        zero_loss=10):
  """The fields claim_verdicts reads from one (k, q) row."""
  return dict(q=q, q_star=q_star, delta=delta, lemma6_event_wilson95=[0.0, event_upper],
              u_star_norm_sq_max_under_event=norm_max, u_star_norm_sq_bound=bound,
              covered=covered, zero_loss=zero_loss)


def verdicts(rows):
  """{"event": holds, "norm": holds, "zero_loss": holds} by claim."""
  names = {"at q >= q*": "event", "||u*||²": "norm", "u* reaches zero loss": "zero_loss"}
  result = {}
  for v in lemma6_coverage.claim_verdicts(rows):
    [name] = [n for prefix, n in names.items() if v.claim.startswith(prefix)]
    result[name] = v.holds
  return result


# ------------------------------------------------------- the event's frequency at q >= q*


def test_event_at_q_star_holds_when_its_upper_bound_reaches_exactly_one_minus_delta():
  # δ = 0.25: 1 - δ = 0.75 exactly. q = 100 = q* counts as "q >= q*".
  assert verdicts([row(100, event_upper=0.75)])["event"]
  assert not verdicts([row(100, event_upper=0.7499)])["event"]
  # The lowest upper bound over the rows at q >= q* decides.
  assert not verdicts([row(100, event_upper=1.0), row(200, event_upper=0.7499)])["event"]


def test_event_ignores_widths_below_q_star():
  # q = 99 < q* = 100: its frequency of 0 does not count against the claim...
  assert verdicts([row(99, event_upper=0.0), row(100, event_upper=0.75)])["event"]
  # ...and with no row at q >= q* the claim is not judged at all.
  assert "event" not in verdicts([row(99, event_upper=0.0)])


def test_event_threshold_follows_delta():
  # δ = 0.5: 1 - δ = 0.5; an upper bound of 0.5 holds, 0.4999 fails.
  assert verdicts([row(100, delta=0.5, event_upper=0.5)])["event"]
  assert not verdicts([row(100, delta=0.5, event_upper=0.4999)])["event"]


# ------------------------------------------------------------------ ||u*||^2 <= bound


def test_norm_holds_at_the_bound_and_fails_just_above_it():
  assert verdicts([row(100, norm_max=64.0, bound=64.0)])["norm"]  # ratio exactly 1
  assert verdicts([row(100, norm_max=64.0 * (1 + 1e-7), bound=64.0)])["norm"]  # float slack
  assert not verdicts([row(100, norm_max=64.0 * (1 + 1e-5), bound=64.0)])["norm"]
  # The largest ratio over the rows decides: 32/64 is fine, 65/64 is not.
  assert not verdicts([row(100, norm_max=32.0), row(200, norm_max=65.0)])["norm"]


def test_norm_skips_rows_where_the_event_never_held():
  # None: no initialisation had the event (e.g. q < 2^k); nothing to compare, so it holds.
  assert verdicts([row(2, norm_max=None), row(100, norm_max=10.0)])["norm"]
  assert verdicts([row(2, norm_max=None)])["norm"]


# --------------------------------------------------------- u* zero loss <=> covered


def test_zero_loss_must_match_coverage_on_every_row():
  assert verdicts([row(100, covered=7, zero_loss=7), row(2, covered=0, zero_loss=0)])["zero_loss"]
  claims = lemma6_coverage.claim_verdicts([row(100, covered=7, zero_loss=6),
                                           row(2, covered=0, zero_loss=0)])
  [zero] = [v for v in claims if v.claim.startswith("u* reaches zero loss")]
  assert not zero.holds and zero.measured == "1 of 2 (k, q) differ"
  # Zero loss more often than coverage is just as wrong.
  assert not verdicts([row(100, covered=6, zero_loss=7)])["zero_loss"]


# ------------------------------------------------------------------------ configs


# ------------------------------------------------------------------- one tiny real run


def test_a_tiny_run_gives_exact_coverage_at_both_ends_and_a_report(tmp_path):
  # k = 2, δ = 0.1: q* = 2^(k+3) log(2^k/δ) = 32 log 40 = 118.044.
  # width factor 1/64 -> q = round(1.844) = 2; width factor 1 -> q = round(118.04) = 118.
  config = with_changes(load_config("lemma6_coverage", "quick"), {
      "ks": (2,), "delta": 0.1, "width_factors": (1 / 64, 1.0), "num_inits": 20,
      "inits_per_batch": 20})
  lemma6_coverage.validate(config)
  rows = lemma6_coverage.run(config)
  q_star = 32 * math.log(40)
  assert [(r["k"], r["q"]) for r in rows] == [(2, 2), (2, 118)]
  small, large = rows
  for r in rows:
    assert r["q_star"] == pytest.approx(q_star, rel=1e-12)
    assert r["num_inits"] == 20 and r["delta"] == 0.1
    # Lemma 6's bound 2^(2k+1) k^2 / q = 128 / q at k = 2.
    assert r["u_star_norm_sq_bound"] == pytest.approx(128 / r["q"], rel=1e-12)
  # q = 2 < 2^k = 4: two filters can show at most two of the four patterns (pigeonhole), so
  # no initialisation is covered, u* never reaches zero loss, and the event (every N(z) >=
  # q/2^(k+1) = 1/4, i.e. >= 1) never holds: every count is exactly 0.
  for name in ("covered", "zero_loss", "lemma6_event"):
    assert small[name] == 0 and small[name + "_fraction"] == 0.0
    # Wilson at 0 of N: lower 0, upper z²/(N + z²) = 3.8415/23.8415 = 0.1611.
    z_sq = 1.959963984540054 ** 2
    assert small[name + "_wilson95"] == pytest.approx([0.0, z_sq / (20 + z_sq)], abs=1e-12)
  assert small["u_star_norm_sq_mean"] is None  # ||u*||² is infinite on every init
  assert small["u_star_norm_sq_max_under_event"] is None
  # q = 118: a given pattern is missed w.p. (3/4)^118 < 2e-15, so all 20 inits are covered
  # (failure probability < 20 * 4 * (3/4)^118 < 2e-13), and u* reaches zero loss on each.
  assert large["covered"] == large["zero_loss"] == 20
  # ||u*||² = Σ_z k²/N(z) with Σ_z N(z) = q is at least k² 4^k / q = 64/118 on every covered
  # init (Cauchy-Schwarz, equality when every N(z) = q/4), and at most Lemma 6's 128/118
  # on the inits where its event holds.
  assert large["u_star_norm_sq_mean"] >= 64 / 118 - 1e-6
  if large["lemma6_event"]:
    assert 64 / 118 - 1e-6 <= large["u_star_norm_sq_max_under_event"] <= 128 / 118 + 1e-6

  verdict = {v.claim.split(" ")[0]: v for v in lemma6_coverage.claim_verdicts(rows)}
  assert set(verdict) == {"||u*||²", "u*"}  # no q >= q* = 118.04 here: event not judged
  assert verdict["u*"].holds and verdict["u*"].measured == "0 of 2 (k, q) differ"
  assert verdict["||u*||²"].holds

  config_dict = json.loads(config.to_json_best_effort())
  files = lemma6_coverage.report(rows, config_dict, str(tmp_path))
  assert files == ["coverage.png", "report.md"]
  for name in files:
    assert (tmp_path / name).stat().st_size > 0
  report = (tmp_path / "report.md").read_text()
  assert "| 2 | 2 |" in report and "| 2 | 118 |" in report
  assert "- holds: u* reaches zero loss exactly on the covered initialisations" in report
