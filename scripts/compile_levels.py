"""How long XLA takes to compile one small training sweep at each LLVM optimisation level
(--xla_backend_optimization_level), side by side in one run: the ratios behind the levels
tests/conftest.py gives the suite and its fast tier.

  python scripts/compile_levels.py

Each level runs in a process of its own (XLA reads its flags once, when its backend
starts), without the persistent compilation cache. A sweep's compile time is its first
call less its second (the same program, compiled by then); the sweep has the size the
tests train (n = 10, k = 3, widths 4 and 9, 12 steps), one per architecture.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from conftest import FAST_TIER_LEVEL, LEVEL_FLAG, SUITE_LEVEL

DEFAULT_LEVEL = 3  # XLA's own, which runs of the launcher compile at


def compile_seconds() -> dict:
  """In this process, at the level its XLA_FLAGS set: seconds compiling each sweep."""
  sys.path.insert(0, ROOT)
  from cnnfcn_jax import models, tasks, train
  seconds = {}
  for arch in models.ARCHS:
    paper = models.ARCHITECTURES[arch].windowed
    sweep = train.Sweep(arch=arch, task=tasks.make_task(10, 3), widths=(4, 9),
                        init="paper" if paper else "gaussian",
                        trainable=("W", "u") if paper else ("W", "b", "u"),
                        optimizer="gd" if paper else "adam", learning_rate=0.5,
                        num_steps=12, log_every=4, num_train=64, num_test=32, table=paper,
                        activation="softplus")
    calls = []
    for _ in range(2):
      start = time.perf_counter()
      train.run_sweep(sweep, [0, 1])
      calls.append(time.perf_counter() - start)
    seconds[arch] = calls[0] - calls[1]
  return seconds


def at_level(level: int) -> dict:
  flags = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split()
                   if not f.startswith(LEVEL_FLAG))
  env = {**os.environ, "XLA_FLAGS": f"{flags} {LEVEL_FLAG}={level}".strip()}
  result = subprocess.run([sys.executable, __file__, "--child"], env=env, check=True,
                          capture_output=True, text=True)
  return json.loads(result.stdout.splitlines()[-1])


def main():
  levels = {"default": DEFAULT_LEVEL, "suite": SUITE_LEVEL, "fast tier": FAST_TIER_LEVEL}
  seconds = {name: at_level(level) for name, level in levels.items()}
  archs = list(seconds["default"])
  print(f"{'level':14s}" + "".join(f"{a:>8s}" for a in archs) + f"{'total':>8s}"
        + f"{'default / this':>16s}")
  total_default = sum(seconds["default"].values())
  for name, level in levels.items():
    total = sum(seconds[name].values())
    print(f"{name + ' (' + str(level) + ')':14s}"
          + "".join(f"{seconds[name][a]:8.2f}" for a in archs)
          + f"{total:8.2f}{total_default / total:16.2f}")
  print("seconds compiling one sweep per architecture")


if __name__ == "__main__":
  if sys.argv[1:] == ["--child"]:
    print(json.dumps(compile_seconds()))
  else:
    main()
