"""Blocks of seeds grouped into memory-bounded calls give the results of one call bit for
bit; sharded over devices, they give the results of one device."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from cnnfcn_jax import tasks, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_sweep(arch):
  paper = arch != "fcn"
  return train.Sweep(arch=arch, task=tasks.make_task(10, 3), widths=(4, 9),
                     init="paper" if paper else "gaussian",
                     trainable=("W", "u") if paper else ("W", "b", "u"),
                     optimizer="gd" if paper else "adam", learning_rate=0.5 if paper else 1e-2,
                     num_steps=12, log_every=4, num_train=64, num_test=32, table=paper)


def assert_equal(a, b, rtol=0.0):
  for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(a), jax.tree.leaves(b),
                          strict=True):
    np.testing.assert_allclose(x, y, rtol=rtol, atol=0, err_msg=jax.tree_util.keystr(path))


def test_chunks_of_blocks_are_bitwise_identical_to_one_call():
  with jax.enable_x64(True):
    for arch in ("cnn", "lcn", "fcn"):
      whole = train.run_sweep(small_sweep(arch), range(5), seeds_per_block=2)
      assert whole["test_accuracy"].shape[0] == 5  # the padding seed is dropped
      for chunk in (2, 4):
        assert_equal(train.run_sweep(small_sweep(arch), range(5), seeds_per_block=2,
                                     seeds_per_call=chunk), whole)
      # Another block size is another batch shape: equal to float64 rounding only.
      for block in (1, 5):
        assert_equal(train.run_sweep(small_sweep(arch), range(5), seeds_per_block=block),
                     whole, rtol=1e-10)


def test_seeds_per_call_must_be_whole_blocks():
  with pytest.raises(ValueError, match="multiple of seeds_per_block"):
    train.run_sweep(small_sweep("cnn"), range(4), seeds_per_block=2, seeds_per_call=3)


SHARDED = """
import sys
import jax, numpy as np
jax.config.update("jax_enable_x64", True)
assert len(jax.devices()) == 4, jax.devices()
import sharding_test as t
from cnnfcn_jax import train
out = {}
for arch in ("cnn", "lcn", "fcn"):
  sweep = t.small_sweep(arch)
  # 6 seeds in blocks of 2: 3 blocks, padded to 4 to fill the 4 devices.
  placed = train._blocks_fn(sweep, 4)(np.arange(8, dtype=np.uint32).reshape(4, 2),
                                      *train.sweep_axes(sweep))
  assert len(placed["params"]["W"].sharding.device_set) == 4
  for path, a in jax.tree_util.tree_leaves_with_path(train.run_sweep(sweep, range(6), 2)):
    out[arch + jax.tree_util.keystr(path)] = a
np.savez(sys.argv[1], **out)
"""


def test_sharded_blocks_equal_one_device(tmp_path):
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
         "PYTHONPATH": os.path.join(ROOT, "tests")}
  path = tmp_path / "sharded.npz"
  result = subprocess.run([sys.executable, "-c", SHARDED, str(path)], env=env,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  sharded = np.load(path)
  with jax.enable_x64(True):
    for arch in ("cnn", "lcn", "fcn"):
      one_device = train.run_sweep(small_sweep(arch), range(6), seeds_per_block=2)
      # CNN and LCN agree bit for bit; the FCN's dense steps on the 4 simulated CPU devices
      # drift by a few ulps (2.6e-15 relative measured), so the check is float rounding.
      for p, a in jax.tree_util.tree_leaves_with_path(one_device):
        name = arch + jax.tree_util.keystr(p)
        np.testing.assert_allclose(sharded[name], a, rtol=0 if arch != "fcn" else 1e-12,
                                   atol=0, err_msg=name)
