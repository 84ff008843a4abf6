"""Shared test helpers: the repository root, configs by name, the launcher as a subprocess."""

import importlib.util
import os
import subprocess
import sys

import ml_collections

# [choice] The tests compile hundreds of small programs and run each briefly, so compiling
# is most of their time, and most of that is XLA's CPU code generation (LLVM). The fast
# tier (-m "not slow") generates code without optimisation passes (level 0); its programs
# then round differently in the last bit. Every other run of the suite (CI's) uses level 1,
# which trains bitwise as runs at the default level 3 do: test_the_suites_compile_level_
# trains_bitwise_as_the_default_does (train_test.py) checks that in a process at the
# default. scripts/compile_levels.py measures what each level saves.
FAST_TIER_LEVEL, SUITE_LEVEL = 0, 1
LEVEL_FLAG = "--xla_backend_optimization_level"  # engine.LEVEL_FLAG: it yields to this one


def pytest_configure(config):
  """Before any test module is imported, so before JAX starts its backend; subprocesses
  inherit the flag. A level already in XLA_FLAGS is kept."""
  flags = os.environ.get("XLA_FLAGS", "")
  if LEVEL_FLAG not in flags:
    fast_tier = config.getoption("markexpr", "").replace(" ", "") == "notslow"
    level = FAST_TIER_LEVEL if fast_tier else SUITE_LEVEL
    os.environ["XLA_FLAGS"] = f"{flags} {LEVEL_FLAG}={level}".strip()


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_NAMES = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "configs"))
                      if f.endswith(".py"))


def load_config(name: str, variant: str = "") -> ml_collections.ConfigDict:
  """configs/<name>.py's get_config(variant)."""
  spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "configs", name + ".py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(variant)


def with_changes(config, changes: dict) -> ml_collections.ConfigDict:
  """A copy of config with {"dotted.path": value} changes, any value types allowed."""
  values = config.to_dict()
  for path, value in changes.items():
    target = values
    *parents, leaf = path.split(".")
    for p in parents:
      target = target[p]
    target[leaf] = value
  return ml_collections.ConfigDict(values)


def main_command(config_arg, workdir, *overrides):
  return [sys.executable, "-m", "cnnfcn_jax.main", f"--config={config_arg}",
          f"--workdir={workdir}", *overrides]


def run_main(config_arg, workdir, *overrides, env=None):
  """Run the launcher in a subprocess from the repository root."""
  return subprocess.run(main_command(config_arg, workdir, *overrides), cwd=ROOT,
                        capture_output=True, text=True, timeout=600,
                        env={**os.environ, **(env or {})})
