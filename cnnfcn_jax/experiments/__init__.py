"""The experiment registry: one line per experiment, naming the module that validates and
runs it and the module that reports it (REPORT_MODULES).

| name        | per experiment name                                                       |
|-------------|---------------------------------------------------------------------------|
| EXPERIMENTS | its module: validate(config), run(config, checkpoint) -> rows and, where   |
|             | some row fields stay out of the published summary, UNPUBLISHED_FIELDS      |
| REPORTS     | its report(rows, config, workdir) -> files written                        |

A small experiment is one module, its report included (experiments/separation.py); a large
one is a folder whose __init__.py validates and runs and whose report.py reports
(experiments/time_to_learn/). run() below is the run step every launch shares: the
config's precision and PRNG, the timing, and the fields every row records; failure_line the
one line a run stopped by a unit ends with.
"""

import collections.abc
import importlib
import os
import time

import jax

from cnnfcn_jax import checks, progress, table_kernels

# One line per experiment: its name, which is its module's (experiments/<name>.py, or the
# folder experiments/<name>/), and the module under experiments/ whose report() reports it.
REPORT_MODULES = {
    "separation": "separation",
    "lemma6_coverage": "lemma6_coverage",
    "theorem4_width": "theorem4_width",
    "theorem12_gradient": "theorem12_gradient",
    "fcn_stuck": "fcn_stuck",
    "mnist_sequences": "mnist_sequences",
    "params_vs_accuracy": "params_vs_accuracy",
    "time_to_learn": "time_to_learn.report",
    "samples_width": "samples_width.report",
}


class _Registry(collections.abc.Mapping):
  """{experiment name: what `get` returns of its module}, each module imported when first
  asked for: importing the registry (and the launcher) pulls no experiment's packages."""

  def __init__(self, module_of, get):
    self._module_of, self._get = module_of, get

  def __getitem__(self, name):
    if name not in self._module_of:
      raise KeyError(name)
    return self._get(importlib.import_module(f"cnnfcn_jax.experiments.{self._module_of[name]}"))

  def __iter__(self):
    return iter(self._module_of)

  def __len__(self):
    return len(self._module_of)


EXPERIMENTS = _Registry({name: name for name in REPORT_MODULES}, lambda module: module)
REPORTS = _Registry(REPORT_MODULES, lambda module: module.report)
PRNG_IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")
# Floating-point precision of a whole run (jax_enable_x64); every row records it.
PRECISIONS = ("float32", "float64")
# The JAX settings a run sets from its config, restored when it ends.
RUN_SETTINGS = ("jax_default_prng_impl", "jax_enable_x64")


def cpu_devices(config) -> int:
  """The config's checked `cpu_devices` (1 where it has none): how many JAX devices the CPU
  is shown as. The launcher reads it before anything starts JAX (validation may)."""
  if "cpu_devices" not in config:
    return 1
  checks.positive_int("cpu_devices", config.cpu_devices, minimum=0)
  return config.cpu_devices


def validate(config):
  """Raise checks.ConfigError naming the first invalid field of any experiment's config."""
  cpu_devices(config)
  checks.choice("experiment", config.get("experiment"), tuple(EXPERIMENTS))
  checks.choice("prng_impl", config.get("prng_impl"), PRNG_IMPLS)
  checks.choice("precision", config.get("precision"), PRECISIONS)
  try:
    EXPERIMENTS[config.experiment].validate(config)
  except (AttributeError, KeyError) as missing:  # a field that experiment needs is absent
    name = str(missing.args[0] if missing.args else missing).strip("'\"")
    raise checks.ConfigError(
        f"config.experiment = {config.experiment!r} is invalid: the config has no field "
        f"'{name}' that this experiment reads; use a config file whose experiment is "
        f"{config.experiment!r}") from None


# Config fields that size a unit's arrays, named when a unit does not fit in memory.
SIZE_FIELDS = ("seeds_per_block", "seeds_per_call", "inits_per_batch", "mc_batch", "batch_size",
               "ns", "ns_fixed_k", "ns_log_k", "n", "exact_max_n", "closed_form_max_n",
               "min_num_train", "samples_per_readout_weight", "num_train", "num_test",
               "num_eval", "sequences_per_epoch", "width", "widths")


def run(config, checkpoint) -> tuple[list[dict], dict]:
  """Run config's experiment in the precision and PRNG it names (JAX's settings for the
  process while it runs, restored after): its rows, each with the config's precision, and
  the timing (wall, compile and run seconds, programs compiled, resumed units)."""
  before = {name: getattr(jax.config, name) for name in RUN_SETTINGS}
  jax.config.update("jax_default_prng_impl", config.prng_impl)
  jax.config.update("jax_enable_x64", config.precision == "float64")
  try:
    # Before anything is traced, and before the clock: experiments that jit their own
    # table-path code (theorem12_gradient) do not go through engine.compile_on_devices.
    table_kernels.ensure_built()
    start, compile_start = time.perf_counter(), progress.compile_seconds()
    programs_start = progress.programs_compiled()
    rows = [dict(row, precision=config.precision)
            for row in EXPERIMENTS[config.experiment].run(config, checkpoint)]
  finally:
    for name, value in before.items():
      jax.config.update(name, value)
  elapsed = time.perf_counter() - start
  compiling = progress.compile_seconds() - compile_start
  return rows, dict(seconds=elapsed, compile_seconds=compiling, run_seconds=elapsed - compiling,
                    programs=progress.programs_compiled() - programs_start,
                    resumed_units=checkpoint.resumed)


def size_fields(config) -> list[str]:
  """The fields of config that shrink a unit's arrays (config.<arch>.widths included)."""
  fields = [f"config.{name}" for name in SIZE_FIELDS if name in config]
  return fields + [f"config.{arch}.widths" for arch in config.get("archs", ())
                   if arch in config and "widths" in config[arch]]


def failure_line(error, config, checkpoint) -> str:
  """One line for a run stopped by a unit: a corrupt checkpoint file (its message), or a
  unit too large for the device's memory (its name, bytes and the fields that shrink it)."""
  if not isinstance(error, MemoryError):
    return str(error)
  needed = (f"an allocation of {error.needed_bytes} bytes ({error.needed_bytes / 2**30:.1f} GiB)"
            if error.needed_bytes else "more memory than the device has")
  kept = (f"; the finished units are kept in {checkpoint.directory}"
          if checkpoint.directory and os.path.isdir(checkpoint.directory) else "")
  return (f"unit {error.unit!r} of config.experiment = {config.experiment!r} needs {needed} "
          f"and does not fit in the device's memory (XLA: {error.detail[:200]}); lower one of "
          f"{', '.join(size_fields(config))} (a different config: pass --overwrite, or "
          f"another --workdir){kept}")
