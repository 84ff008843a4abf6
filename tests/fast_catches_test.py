"""Small, fast versions of three slow-tier checks, so that the fast tier catches what they
catch: the best-rate stop against a run to every network's success, the recorded step and
the stop of a call that ends early, and bucketed widths against padded ones."""

import dataclasses

import numpy as np
import pytest

from online_boundaries_test import (RATES, SEEDS, censored_after, expected_stop, full_grid_run,
                                    grid_spec)
from cnnfcn_jax import models, networks, online, stats, train
from train_test import small_sweep


def medians(steps):
  return stats.median(np.where(steps >= 0, steps, np.inf), axis=0)


def test_the_best_rate_stop_finds_the_best_rate_and_its_median_and_keeps_the_full_runs_steps():
  """(tests/online_test.py's slow best-rate test, on 3 rates and 400-odd steps.) The stop is
  the first check at which some rate has every seed done; the steps up to it are the full
  run's, the rest are censored there; the best rate and its median are the full run's."""
  full = full_grid_run()
  early = online.run(grid_spec("best_rate"), SEEDS, RATES)
  steps = full["steps_to_success"]
  stop = expected_stop(steps, grid_spec().check_steps, [False] * len(RATES))
  assert stop == steps.max(0).min() < full["stopped_at"][0, 0]  # it saves steps
  assert (early["stopped_at"] == stop).all()
  np.testing.assert_array_equal(early["steps_to_success"], censored_after(steps, stop))
  best = int(np.argmin(medians(steps)))
  assert (early["steps_to_success"][:, best] >= 0).all()
  assert int(np.argmin(medians(early["steps_to_success"]))) == best
  assert medians(early["steps_to_success"])[best] == medians(steps)[best]
  # The slower rates are censored at the stop, so the call did stop early.
  assert (early["steps_to_success"] < 0).any()


def test_a_success_is_recorded_at_its_check_and_a_call_stops_at_its_slowest_success():
  """(tests/online_test.py's slow early-stop test, on 3 rates and 400-odd steps.) Every
  network succeeds: the call stops at the last success, before the budget. Each seed
  alone stops at its own slowest success and records the same steps; a longer budget
  changes no recorded step."""
  full = full_grid_run()
  steps = full["steps_to_success"]
  spec = grid_spec()
  assert (steps > 0).all() and len(np.unique(steps)) > 3
  assert set(np.unique(steps)) <= set(spec.check_steps)
  assert (full["stopped_at"] == steps.max()).all() and steps.max() < spec.num_steps
  assert (full["final_eval_accuracy"] >= spec.success_accuracy).all()
  assert len(set(steps.max(1))) > 1  # the seeds stop alone at different checks
  for s, seed in enumerate(SEEDS):
    alone = online.run(spec, (seed,), RATES)
    np.testing.assert_array_equal(alone["steps_to_success"][0], steps[s])
    assert (alone["stopped_at"] == steps[s].max()).all(), seed
  longer = online.run(dataclasses.replace(
      spec, check_steps=online.check_schedule(2 * spec.num_steps, 5, 1.1)), SEEDS, RATES)
  np.testing.assert_array_equal(longer["steps_to_success"], steps)
  assert (longer["stopped_at"] == steps.max()).all()


def test_bucketed_and_padded_widths_train_the_same_networks():
  """(tests/train_test.py's slow bucketed test, for the LCN, float32, one seed, 2 steps.)
  Widths 3 and 4 share a bucket, 1 is alone in its own, the buckets' order (1; 3, 4) is not
  the widths' (3, 4, 1), and each width has its own rate: the bucketed sweep must equal the
  one padded to the largest width, metrics and parameters (the padding included), in the
  widths' order."""
  sweep = small_sweep("lcn", widths=(3, 4, 1), learning_rate=(0.5, 0.2, 1.0), num_steps=2,
                      log_every=1, num_train=32, num_test=32)
  assert networks.width_buckets(sweep.widths) == ((2,), (0, 1))
  bucketed = train.run_sweep(dataclasses.replace(sweep, bucketed=True), [0])
  padded = train.run_sweep(sweep, [0])
  for name in train.METRICS:
    np.testing.assert_allclose(bucketed[name], padded[name], rtol=1e-5, atol=1e-6,
                               err_msg=name)
  for key in ("params0", "params"):
    assert bucketed[key].keys() == padded[key].keys()
    for group in padded[key]:
      assert bucketed[key][group].shape == padded[key][group].shape, (key, group)
      np.testing.assert_allclose(bucketed[key][group], padded[key][group], rtol=1e-5,
                                 atol=1e-6, err_msg=f"{key} {group}")
  # The networks differ (so that a wrong order or rate would show), and they moved.
  for name in ("train_loss", "first_layer_distance"):
    assert len(np.unique(padded[name][0, :, -1])) == 3, name
  assert not np.allclose(padded["params"]["u"], padded["params0"]["u"])


def network_arrays(architecture, n, k, width, max_width, index):
  """One network's (W, b, u) in max_width units: unit l of network `index` holds
  100 index + l + 1 where l < width, 0 beyond."""
  arrays = {}
  for group, shape, axis in zip(models.PARAM_GROUPS, architecture.unit_shapes(n, k),
                                architecture.unit_axes):
    units = np.arange(max_width)
    values = np.where(units < width, 100 * index + units + 1, 0).astype(np.float32)
    arrays[group] = np.moveaxis(np.broadcast_to(values, shape + (max_width,)), -1, axis)
  return arrays


@pytest.mark.parametrize("arch", models.ARCHS)
def test_joined_buckets_are_in_the_widths_order_and_padded_on_each_groups_unit_axis(arch):
  """join_buckets on marked arrays (no training): every width's parameters land at its
  index (the buckets' order is not an involution of the widths', so that undoing it the
  wrong way round shows), padded with zeros on its group's unit axis, as one bucket of
  every width has them."""
  architecture, n, k = models.ARCHITECTURES[arch], 10, 3
  widths = (6, 3, 1, 5, 2)
  buckets = networks.width_buckets(widths)
  assert buckets == ((2,), (4,), (1,), (0, 3))  # in that order, the widths 1, 2, 3, 6, 5
  parts = []
  for bucket in buckets:
    top = max(widths[i] for i in bucket)
    nets = [network_arrays(architecture, n, k, widths[i], top, i) for i in bucket]
    parts.append(dict(
        train_loss=np.asarray([[float(i)] * 2 for i in bucket], np.float32),
        **{key: {g: np.stack([net[g] for net in nets]) for g in models.PARAM_GROUPS}
           for key in ("params0", "params")}))
  joined = networks.join_buckets(parts, buckets, models.unit_axes(arch), max(widths))
  np.testing.assert_array_equal(joined["train_loss"][:, 0], np.arange(len(widths)))
  for key in ("params0", "params"):
    for g in models.PARAM_GROUPS:
      want = np.stack([network_arrays(architecture, n, k, w, max(widths), i)[g]
                       for i, w in enumerate(widths)])
      np.testing.assert_array_equal(joined[key][g], want, err_msg=f"{arch} {key} {g}")
