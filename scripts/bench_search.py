"""The bench row of a search over the sample size m: one program per m against one program
for every m (train.Sweep.train_capacity), each run cold, side by side. bench.py prints it;
alone:

  python scripts/bench_search.py [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from cnnfcn_jax import distributed, progress, tasks, train  # noqa: E402

# A frontier-style search: 8 sample sizes, the grid's powers of 2 and the midpoints that
# refine a bracket (as configs/samples_width.py's frontier visits them).
SEARCH_MS = (256, 512, 1024, 2048, 1448, 1722, 4096, 8192)


def search_sweeps(arch: str, steps: int, capacity: int) -> list[train.Sweep]:
  """The search's sweeps of one width of `arch` at n = 32, k = 3, as samples_width trains
  them (CNN: the paper's init and GD on the pattern table; FCN: Adam from a Gaussian init);
  capacity 0: each m its own program."""
  task = tasks.make_task(32, 3)
  if arch == "cnn":
    fields = dict(init="paper", trainable=("W", "u"), optimizer="gd", learning_rate=1.0,
                  first_layer_step_scale=1 / 30, table=True, widths=(16,))
  else:
    fields = dict(init="gaussian_bias", trainable=("W", "b", "u"), optimizer="adam",
                  learning_rate=1e-2, widths=(64,))
  return [train.Sweep(arch=arch, task=task, num_steps=steps, log_every=steps, num_train=m,
                      num_test=2048, train_capacity=capacity, **fields) for m in SEARCH_MS]


def timed_search(sweeps, seeds) -> tuple[float, float, int]:
  """(wall seconds, compile seconds, programs compiled) of the sweeps in turn, cold: the
  sweep programs are cleared first (the bench keeps no persistent cache)."""
  train._blocks_fn.cache_clear()  # noqa: SLF001 (cold: every program compiled afresh)
  programs, compile_start = progress.programs_compiled(), progress.compile_seconds()
  start = time.perf_counter()
  for sweep in sweeps:
    train.run_sweep(sweep, seeds, train.AUTO)
  return (time.perf_counter() - start, progress.compile_seconds() - compile_start,
          progress.programs_compiled() - programs)


def bench_search(s) -> dict:
  """Per architecture: the search with one program per m, then with one for all m."""
  seeds = np.arange(s["search_seeds"], dtype=np.uint32)
  result = {}
  for arch in ("cnn", "fcn"):
    per_m = search_sweeps(arch, s["search_steps"], 0)
    shared = [dataclasses.replace(sweep, train_capacity=max(SEARCH_MS)) for sweep in per_m]
    timings = {name: timed_search(sweeps, seeds)
               for name, sweeps in (("per_m", per_m), ("shared", shared))}
    for name, (wall, compiling, programs) in timings.items():
      result[f"search_{arch}_{name}_seconds"] = wall
      result[f"search_{arch}_{name}_compile_seconds"] = compiling
      result[f"search_{arch}_{name}_programs"] = programs
    result[f"search_{arch}_shared_vs_per_m"] = timings["per_m"][0] / timings["shared"][0]
    result[f"search_{arch}_compile_per_m_vs_shared"] = timings["per_m"][1] / timings["shared"][1]
  return result


SETTINGS = dict(full=dict(search_seeds=64, search_steps=300),  # as bench.py's
                quick=dict(search_seeds=16, search_steps=100))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true", help="16 seeds, 100 steps")
  parser.add_argument("--cpu_devices", type=int, default=2,
                      help="JAX devices the CPU's cores are shown as (0: one per core)")
  args = parser.parse_args()
  distributed.show_cpu_devices(args.cpu_devices)
  jax.config.update("jax_default_prng_impl", "threefry2x32")
  result = bench_search(SETTINGS["quick" if args.quick else "full"])
  for key, value in result.items():
    print(f"{key:40s} {value:.3g}")


if __name__ == "__main__":
  main()
