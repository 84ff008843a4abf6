"""run(config, workdir): the launcher's path as a function a notebook or script can call.

  from cnnfcn_jax import launch
  config = ...  # an ml_collections.ConfigDict, e.g. configs/separation.py's get_config("quick")
  print(launch.run(config, "runs/separation_quick"))

Writes config.json, results.jsonl, figures and report.md in workdir, and resumes an
interrupted run of the same config there; python -m cnnfcn_jax.main is this function behind
absl flags. Processes joined by --distributed (main.py: `processes`) run it alike; only
process 0 writes.
"""

from __future__ import annotations

import json
import os

import jax
from absl import logging

from cnnfcn_jax import cache, checkpoints, data, distributed, experiments, report
from cnnfcn_jax import workdir as workdirs


class RunError(Exception):
  """A run that cannot start or go on (its workdir, a checkpointed unit): one line naming the
  file or unit and the fix."""


def show_devices(config):
  """Show the CPU as config.cpu_devices JAX devices, before validation may start JAX. Where
  JAX has already started (a notebook), the run keeps the devices it has."""
  wanted = experiments.cpu_devices(config)
  try:
    distributed.show_cpu_devices(wanted)
  except RuntimeError:
    logging.warning("JAX had started before this run: it shards over the %d devices it has "
                    "(config.cpu_devices = %d takes effect in a fresh process)",
                    jax.local_device_count(), wanted)


def run(config, workdir: str, *, overwrite: bool = False, recompute_corrupt_units: bool = False,
        compilation_cache: bool = True, compilation_cache_dir: str | None = None,
        processes: distributed.Processes | None = None) -> str | None:
  """Run config's experiment in workdir; returns report.md's text (None in a process other
  than 0, which writes nothing).

  Raises checks.ConfigError or data.DataError for an invalid config or its missing data,
  before anything is compiled or written; RunError where the workdir holds another
  config's results (pass overwrite=True, or another workdir), or a unit or a data file
  stops the run. However a run stops (an interrupt included), its finished units are kept
  and the workdir's lock is released: run again to resume. compilation_cache: keep
  compiled programs in JAX's persistent cache (cache.py), in compilation_cache_dir or the
  per-user default; it is JAX's setting for the whole process, so once on in a notebook it
  stays on (the precision and PRNG the config sets hold while the run runs, then are
  restored). processes: join a multi-process
  run (main.py's --distributed flags), every process running the same call.
  """
  show_devices(config)
  experiments.validate(config)  # in every process, before anything is compiled or written
  writer = distributed.start(processes)  # only process 0 writes files
  try:
    checkpoint, lock = workdirs.claim(workdir, json.loads(config.to_json_best_effort()),
                                      overwrite, writer, recompute_corrupt_units)
  except workdirs.WorkdirError as e:
    raise RunError(str(e)) from None
  distributed.barrier("workdir claimed")  # the others read checkpoints once it is claimed
  if compilation_cache:
    cache.use_compilation_cache(compilation_cache_dir)
  try:
    with distributed.exit_if_a_process_is_lost(checkpoint.directory):
      rows, timing = experiments.run(config, checkpoint)
    if checkpoint.resumed:
      logging.info("resumed: %d finished units from %s", checkpoint.resumed,
                   checkpoint.directory)
    text = (report.finish(workdir, config, rows,
                          dict(timing, compilation_cache=compilation_cache))
            if writer else None)
  except BaseException as e:  # the finished units stay; the lock goes (a notebook lives on)
    workdirs.release(workdir, checkpoint, lock, finished=False)
    if isinstance(e, (checkpoints.CheckpointError, checkpoints.UnitTooLarge)):
      raise RunError(experiments.failure_line(e, config, checkpoint)) from None
    if isinstance(e, data.DataError):  # a data file read during the run
      raise RunError(str(e)) from None
    raise
  workdirs.release(workdir, checkpoint, lock, finished=True)
  logging.info("wrote %s", os.path.abspath(workdir))
  return text
