"""Shared test helpers: the repository root, configs by name, the launcher as a subprocess."""

import importlib.util
import os
import subprocess
import sys

import ml_collections

# [choice] The fast tier (-m "not slow") compiles hundreds of small programs and runs each
# briefly, so compiling is most of its time: there, XLA's CPU code generation runs without
# its optimisation passes (2.5x less compile time). Programs then round differently in the
# last bit, and how may depend on their shapes, so the full suite (CI), whose slow tier
# checks bitwise identities, compiles as runs do.
FAST_COMPILE_FLAGS = ("--xla_backend_optimization_level=0",)


def pytest_configure(config):
  """Before any test module is imported, so before JAX starts its backend; subprocesses
  inherit the flags."""
  if config.getoption("markexpr", "").replace(" ", "") == "notslow":
    os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""),
                                        *FAST_COMPILE_FLAGS]).strip()

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
