"""The engine core: seed padding, program keys, the ±1 sampler, per-network set-up."""

import jax
import numpy as np
import pytest

from cnnfcn_jax import engine, online, tasks, train


@pytest.mark.parametrize("num_seeds,multiple,padded", [(5, 2, 6), (6, 3, 6), (1, 4, 4),
                                                       (7, 1, 7)])
def test_seeds_are_padded_with_the_last_seed_and_only_the_real_ones_counted(num_seeds,
                                                                            multiple, padded):
  seeds = np.arange(10, 10 + num_seeds)
  out, counted = engine.pad_seeds(seeds, multiple)
  assert out.dtype == np.uint32 and len(out) == padded and len(out) % multiple == 0
  np.testing.assert_array_equal(out[:num_seeds], seeds)
  assert (out[num_seeds:] == seeds[-1]).all()
  np.testing.assert_array_equal(counted, np.arange(padded) < num_seeds)


def test_a_task_and_its_nonlocal_twin_share_a_program_key_in_both_trainers():
  local, twin = tasks.make_task(16, 3), tasks.make_task(16, 3, locality="nonlocal")
  common = dict(arch="fcn", init="gaussian", trainable=("W", "u"), optimizer="sgd")
  sweeps = [train.Sweep(task=t, widths=(4,), learning_rate=r, num_steps=2, log_every=1,
                        num_train=8, num_test=8, **common) for t, r in ((local, 0.1),
                                                                        (twin, 0.5))]
  assert sweeps[0] != sweeps[1] and train.program_key(sweeps[0]) == train.program_key(sweeps[1])
  specs = [online.OnlineSweep(task=t, width=4, learning_rates=r, batch_size=4,
                              check_steps=(0, 1), num_eval=8, success_accuracy=0.9,
                              must_know=r[:1], **common)
           for t, r in ((local, (0.1, 0.2)), (twin, (0.3, 0.4)))]
  assert online.program_key(specs[0]) == online.program_key(specs[1])
  other_width = online.OnlineSweep(**{**specs[0].__dict__, "width": 8})
  assert online.program_key(other_width) != online.program_key(specs[0])


@pytest.mark.parametrize("packed", [False, True])
def test_both_samplers_draw_signs_the_packed_one_its_own(packed):
  key = jax.random.key(3)
  x = np.asarray(engine.sample_inputs(key, 4000, 40, packed=packed))
  assert set(np.unique(x)) == {-1.0, 1.0} and np.abs(x.mean(0)).max() < 0.06
  other = np.asarray(engine.sample_inputs(key, 4000, 40, packed=not packed))
  assert not np.array_equal(x, other)  # each trainer keeps its own draw: results bitwise


def test_a_network_padded_to_a_larger_width_is_the_same_network_with_zero_units():
  spec = train.Sweep(arch="fcn", task=tasks.make_task(8, 3), widths=(3,), init="gaussian",
                     trainable=("W", "u"), optimizer="sgd", learning_rate=0.1, num_steps=1,
                     log_every=1, num_train=4, num_test=4)
  key = engine.seed_keys(0)[0]
  params, trained, frozen = engine.init_network(spec, key, 3)
  wide, wide_trained, wide_frozen = engine.init_network(spec, key, 3, max_width=5)
  assert set(trained) == {"W", "u"} and set(frozen) == {"b"}
  np.testing.assert_array_equal(wide["W"][:3], params["W"])
  assert not np.asarray(wide["W"][3:]).any() and not np.asarray(wide_trained["u"][3:]).any()
