"""Sweeps of k-pattern tasks: the rows of the experiments that train CNN/LCN/FCN on them.

A config with kpattern_config's fields (see configs/separation.py) describes, per
architecture, the widths, init, trained groups, optimiser and step; one checkpointed unit
is one jitted sweep of all seeds x widths of one (arch, locality, n, k). Each trained
network becomes one row.
"""

from __future__ import annotations

from cnnfcn_jax import kpattern_config, train


def run(config, groups, checkpoint) -> list[dict]:
  """One checkpointed sweep per (arch, locality, n, k) of `groups`, at config.<arch>.widths
  and the sample-size rule's m; rows of all of them."""
  units = []
  for arch, locality, n, k in groups:
    m = kpattern_config.num_train(config, n, k)
    units.append((f"{arch}-{locality}-n{n}-k{k}", n * m,
                  lambda arch=arch, locality=locality, n=n, k=k, m=m: unit_rows(
                      config, arch, locality, n, k, config[arch].widths, m)))
  return checkpoint.run_units(units, "sweep")


def unit_rows(config, arch, locality, n, k, widths, num_train, bucketed=False,
              train_capacity=0, seeds=None, **fields) -> list[dict]:
  """Train `seeds` (default config.seeds) x `widths` of arch on (locality, n, k) with
  num_train samples in one sweep (kpattern_config.make_sweep, with train.Sweep `fields`
  that replace the config's, e.g. one learning rate per width); one row per network."""
  sweep = kpattern_config.make_sweep(config, arch, locality, n, k, widths, num_train, bucketed,
                                     train_capacity, **fields)
  seeds = config.seeds if seeds is None else seeds
  block = train.resolve_block(sweep, len(seeds), kpattern_config.seeds_per_block(config),
                              config.seeds_per_call)
  out = train.run_sweep(sweep, seeds, block, config.seeds_per_call)
  rates = (sweep.learning_rate if isinstance(sweep.learning_rate, tuple)
           else (sweep.learning_rate,) * len(sweep.widths))
  rows = []
  for s, seed in enumerate(seeds):
    for w, width in enumerate(sweep.widths):
      curves = {name: [float(v) for v in out[name][s, w]] for name in train.METRICS}
      rate = rates[w]
      rows.append(dict(
          arch=arch, locality=locality, n=n, k=k, target=kpattern_config.task_name(config),
          coordinates=list(getattr(sweep.task, "coordinates", ())), width=width, seed=seed,
          num_train=sweep.num_train, learning_rate=rate, seeds_per_block=block,
          first_layer_learning_rate=rate * sweep.first_layer_step_scale,
          compute_path="table" if sweep.table else "dense",
          test_accuracy=curves["test_accuracy"][-1],
          train_accuracy=curves["train_accuracy"][-1],
          final_loss=curves["train_loss"][-1],
          grad_norm=curves["grad_norm"][-1],
          first_layer_distance=curves["first_layer_distance"][-1],
          diverged=bool(curves["diverged"][-1]),
          steps=[int(t) for t in sweep.record_steps], curves=curves))
  return rows
