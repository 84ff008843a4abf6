"""Seed axis sharded over devices, and memory-bounded chunks, give the unsharded results."""

import os
import subprocess
import sys

import jax
import numpy as np

from cnnfcn_jax import tasks, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_sweep(arch):
  paper = arch != "fcn"
  return train.Sweep(arch=arch, task=tasks.make_task(10, 3), widths=(4, 9),
                     init="paper" if paper else "gaussian",
                     trainable=("W", "u") if paper else ("W", "b", "u"),
                     optimizer="gd" if paper else "adam", learning_rate=0.5 if paper else 1e-2,
                     num_steps=12, log_every=4, num_train=64, num_test=32, table=paper)


def assert_close(a, b):
  for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-13, err_msg=jax.tree_util.keystr(path))


def test_memory_bounded_chunks_equal_one_call():
  with jax.enable_x64(True):
    for arch in ("cnn", "fcn"):
      whole = train.run_sweep(small_sweep(arch), range(5))
      for chunk in (1, 2, 3):
        assert_close(train.run_sweep(small_sweep(arch), range(5), seeds_per_call=chunk), whole)


SHARDED = """
import jax, numpy as np
jax.config.update("jax_enable_x64", True)
assert len(jax.devices()) == 4, jax.devices()
import sharding_test as t
from cnnfcn_jax import train
for arch in ("cnn", "lcn", "fcn"):
  sweep = t.small_sweep(arch)
  sharded = train.run_sweep(sweep, range(6))  # 6 seeds: padded to 8 over 4 devices
  seeds = np.arange(6, dtype=np.uint32)
  on_all = train._jitted(sweep)(jax.device_put(np.arange(8, dtype=np.uint32),
      jax.sharding.NamedSharding(jax.sharding.Mesh(np.array(jax.devices()), ("seeds",)),
                                 jax.sharding.PartitionSpec("seeds"))), *train.sweep_axes(sweep))
  assert len(on_all["params"]["W"].sharding.device_set) == 4
  with jax.default_device(jax.devices()[0]):
    single = jax.jit(train.sweep_fn(sweep))(seeds, *train.sweep_axes(sweep))
  t.assert_close(sharded, jax.device_get(single))
print("sharded ok")
"""


def test_sharded_seed_axis_equals_unsharded_on_four_cpu_devices():
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
         "PYTHONPATH": os.path.join(ROOT, "tests")}
  result = subprocess.run([sys.executable, "-c", SHARDED], env=env, capture_output=True,
                          text=True, timeout=600)
  assert result.returncode == 0 and "sharded ok" in result.stdout, result.stderr[-3000:]
