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
  specs = [online.OnlineSweep(task=t, width=4, batch_size=4, check_steps=(0, 1), num_eval=8,
                              success_accuracy=0.9, **common) for t in (local, twin)]
  assert specs[0] != specs[1] and online.program_key(specs[0]) == online.program_key(specs[1])
  # One compiled program for both tasks, and for any rates (and must_know) of one length:
  # they are arguments of the call, not of its compilation.
  seeds = (0, 1)
  compiled = online.compile_call(specs[0], seeds, 2)[0]
  assert online.compile_call(specs[1], seeds, 2)[0] is compiled
  misses = online.compiled_call.cache_info().misses
  for spec, rates in zip(specs, ((0.1, 0.2), (0.3, 0.4))):
    online.run(spec, seeds, rates, must_know=rates[:1])
  assert online.compiled_call.cache_info().misses == misses
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


@pytest.mark.parametrize("target", ["parity", "random"])
def test_labels_read_at_the_padded_bits_are_exactly_the_tasks(target):
  """The FCN's programs read every k up to LABEL_BITS at LABEL_BITS bits: the padded
  coordinates and table must give the task's own labels, for either target."""
  x = engine.sample_inputs(jax.random.key(0), 512, 12)
  for k in (2, 3, 5):
    task = tasks.make_task(12, k, target=target, locality="nonlocal" if k == 3 else "local")
    spec = online.OnlineSweep(arch="fcn", task=task, width=4, init="gaussian",
                              trainable=("W", "u"), optimizer="sgd", batch_size=4,
                              check_steps=(0, 1), num_eval=8, success_accuracy=0.9)
    coordinates, table = engine.task_arrays(spec)
    assert coordinates.shape == (engine.LABEL_BITS,) and table.shape == (2**engine.LABEL_BITS,)
    np.testing.assert_array_equal(tasks.labels(x, coordinates, table), task.target(x))


def test_the_fcns_cells_of_one_n_share_a_program_and_the_cnns_keep_their_k():
  def keys(arch, n, k):
    windowed = arch != "fcn"
    sweep = train.Sweep(arch=arch, task=tasks.make_task(n, k), widths=(4,), learning_rate=0.1,
                        init="paper" if windowed else "gaussian", trainable=("W", "u"),
                        optimizer="sgd", num_steps=2, log_every=1, num_train=8, num_test=8)
    spec = online.OnlineSweep(arch=arch, task=sweep.task, width=4, init=sweep.init,
                              trainable=("W", "u"), optimizer="sgd", batch_size=4,
                              check_steps=(0, 1), num_eval=8, success_accuracy=0.9)
    return train.program_key(sweep), online.program_key(spec)
  assert keys("fcn", 16, 2) == keys("fcn", 16, 4)
  assert keys("fcn", 16, 2) != keys("fcn", 32, 2)
  assert keys("fcn", 16, 9)[0].task.k == 9  # beyond LABEL_BITS: its own k
  assert all(a != b for a, b in zip(keys("cnn", 16, 2), keys("cnn", 16, 4)))


def test_a_programs_llvm_level_yields_to_one_in_xla_flags(monkeypatch):
  cpu = jax.devices("cpu")
  monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
  assert engine.compiler_options(1, cpu) == {"xla_backend_optimization_level": 1}
  assert engine.compiler_options(None, cpu) is None
  monkeypatch.setenv("XLA_FLAGS", f"{engine.LEVEL_FLAG}=0")
  assert engine.compiler_options(1, cpu) is None
  with pytest.raises(ValueError, match="llvm_level = 5"):
    train.Sweep(arch="fcn", task=tasks.make_task(8, 2), widths=(4,), init="gaussian",
                trainable=("W", "u"), optimizer="sgd", learning_rate=0.1, num_steps=2,
                log_every=1, num_train=8, num_test=8, llvm_level=5)
