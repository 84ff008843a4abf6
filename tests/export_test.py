"""Every kind of compiled program lowers for GPU and TPU, from this CPU machine.

jax.export lowers a function for platforms other than the one it runs on, so a lowering
that only an accelerator would reject (an op without a GPU/TPU rule, a CPU-only custom
call) fails here. The CPU-only table kernels (table_kernels) must not appear in modules
lowered for the accelerators: there the readout is XLA's gather and scatter-add.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import load_config, with_changes
from jax import export

from cnnfcn_jax import (image_models, image_train, kpattern_config, online, table_kernels,
                        tasks, train)

PLATFORMS = ("cuda", "tpu")


def exported_text(fn, *args) -> str:
  """The StableHLO text of fn lowered for PLATFORMS, checked free of the CPU kernels."""
  shapes = jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), jnp.asarray(a).dtype), args)
  exported = export.export(fn if hasattr(fn, "lower") else jax.jit(fn), platforms=PLATFORMS)(
      *shapes)
  assert exported.platforms == PLATFORMS
  text = exported.mlir_module()
  assert table_kernels.GATHER not in text and table_kernels.SCATTER not in text
  return text


@pytest.mark.parametrize("arch,compute_path", [("cnn", "table"), ("lcn", "table"),
                                               ("cnn", "dense"), ("lcn", "dense"),
                                               ("fcn", "dense")])
def test_the_full_batch_sweep_lowers_for_gpu_and_tpu(arch, compute_path):
  config = with_changes(load_config("separation", "quick"), {"compute_path": compute_path})
  sweep = kpattern_config.make_sweep(config, arch, "local", 16, config.k, config[arch].widths,
                                     kpattern_config.num_train(config, 16, config.k))
  assert sweep.table == (compute_path == "table")
  seeds = np.zeros((2, 2), np.uint32)  # 2 blocks of 2 seeds
  exported_text(train._blocks_fn(train.program_key(sweep), 1), seeds, train.sweep_args(sweep))


def test_the_table_readout_is_the_native_kernel_on_this_cpu_and_not_in_exports():
  """The check above is not vacuous: lowered for the CPU, the same sweep calls the kernels."""
  if not table_kernels.ensure_built():
    pytest.skip("no native kernels on this machine")
  config = with_changes(load_config("separation", "quick"), {"compute_path": "table"})
  sweep = kpattern_config.make_sweep(config, "cnn", "local", 16, config.k, config.cnn.widths,
                                     kpattern_config.num_train(config, 16, config.k))
  args = (np.zeros((1, 2), np.uint32), train.sweep_args(sweep))
  cpu_text = train._blocks_fn(train.program_key(sweep), 1).lower(*args).as_text()
  assert table_kernels.GATHER in cpu_text


def test_the_online_call_lowers_for_gpu_and_tpu():
  """The online call (online.py), on the table path and the dense path."""
  for arch, table in (("cnn", True), ("fcn", False)):
    spec = online.OnlineSweep(
        arch=arch, task=tasks.make_task(16, 3), width=8, init="paper" if table else "gaussian",
        trainable=("W", "u"), optimizer="sgd", batch_size=16,
        check_steps=online.check_schedule(40, 10, 1.5), num_eval=256, success_accuracy=0.95,
        table=table)
    key = online.program_key(spec)
    exported_text(online.online_fn(key), np.zeros(2, np.uint32),
                  *online.call_args(spec, (0.5, 1.0)))


@pytest.mark.parametrize("model,shape,num_classes", [
    (image_models.SequenceNet("cnn", 4), (24, 24, 1), 2),
    (image_models.SequenceNet("lcn", 4), (24, 24, 1), 2),
    (image_models.DeepNet("cnn", 4, 4), (8, 8, 3), 10),
    (image_models.DeepNet("fcn", 2, 4), (8, 8, 3), 10),
])
def test_the_image_training_step_lowers_for_gpu_and_tpu(model, shape, num_classes):
  training = image_train.Training(model=model, optimizer="adam", learning_rate=1e-3,
                                  num_epochs=1, steps_per_epoch=2, eval_batch=4)
  images, labels = np.zeros((16, *shape), np.float32), np.zeros(16, np.int32)

  def batch_fn(data, key, step):
    index = jax.random.randint(jax.random.fold_in(key, step), (4,), 0, len(data[1]))
    x, y = data[0][index], data[1][index]
    return x, (y if num_classes > 2 else y % 2)

  fn = image_train.seeds_fn(training, batch_fn)
  exported_text(fn, np.zeros(2, np.uint32), (images, labels), images[:8], labels[:8] % (
      num_classes if num_classes > 2 else 2))
