"""Run an experiment from its config and write config.json, results.jsonl, figures, report.md.

  python -m cnnfcn_jax.main --config=configs/separation.py --workdir=runs/separation
  python -m cnnfcn_jax.main --config=configs/separation.py:quick --workdir=/tmp/sep \
      --config.ns='(16, 32)' --config.seeds='(0, 1)'

Rerunning the same command on the same workdir resumes an interrupted run. Compiled
programs are kept in JAX's persistent compilation cache (--compilation_cache_dir, a
per-user folder by default; --nocompilation_cache turns it off), so a rerun of the same
shapes skips compilation; the log and report.md give compile and run time apart.
"""

import json
import os
import time

import jax
from absl import app, flags, logging
from jax.experimental import multihost_utils
from ml_collections import config_flags

from cnnfcn_jax import checks, data, outputs, progress, report
from cnnfcn_jax.experiments import EXPERIMENTS, validate

config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/*.py[:variant]).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for the results.")
flags.DEFINE_bool("overwrite", False, "Replace the results of a different config in --workdir.")
flags.DEFINE_bool("distributed", False, "Multi-process run: jax.distributed.initialize() with the "
                  "three flags below, each auto-detected on SLURM / TPU pods when not given.")
flags.DEFINE_string("coordinator_address", None, "HOST:PORT of process 0 (--distributed).")
flags.DEFINE_integer("num_processes", None, "Number of processes (--distributed).")
flags.DEFINE_integer("process_id", None, "This process's index in [0, num_processes).")
flags.DEFINE_integer("distributed_timeout", 60, "Seconds after which the other processes give "
                     "up on one that stopped answering (--distributed).")
flags.DEFINE_bool("compilation_cache", True, "Keep compiled programs in JAX's persistent "
                  "compilation cache (--nocompilation_cache: compile everything afresh).")
flags.DEFINE_string("compilation_cache_dir", None, "Folder of the compilation cache (default: "
                    "$XDG_CACHE_HOME/cnnfcn_jax/jax, else ~/.cache/cnnfcn_jax/jax).")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def compilation_cache_dir() -> str:
  """The per-user default folder of the persistent compilation cache."""
  return os.path.join(outputs.user_cache_dir(), "jax")


def start_processes():
  """jax.distributed.initialize from the flags; CPU processes exchange results over gloo."""
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(
      coordinator_address=FLAGS.coordinator_address, num_processes=FLAGS.num_processes,
      process_id=FLAGS.process_id, initialization_timeout=FLAGS.distributed_timeout,
      heartbeat_timeout_seconds=FLAGS.distributed_timeout)
  logging.info("process %d of %d, %d devices in all", jax.process_index(),
               jax.process_count(), jax.device_count())


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config, workdir = FLAGS.config, FLAGS.workdir
  try:
    validate(config)  # in every process, before anything is compiled or written
  except (checks.ConfigError, data.DataError) as e:
    raise app.UsageError(str(e)) from None
  if FLAGS.distributed:
    start_processes()
  writer = jax.process_index() == 0  # only process 0 writes files
  try:
    checkpoint = outputs.claim_workdir(workdir, json.loads(config.to_json_best_effort()),
                                       FLAGS.overwrite, writer)
  except outputs.WorkdirError as e:
    raise app.UsageError(str(e)) from None
  if FLAGS.distributed:  # the others read checkpoints only once process 0 has claimed
    multihost_utils.sync_global_devices("workdir claimed")
  jax.config.update("jax_default_prng_impl", config.prng_impl)
  jax.config.update("jax_enable_x64", config.precision == "float64")
  if FLAGS.compilation_cache:
    jax.config.update("jax_compilation_cache_dir",
                      FLAGS.compilation_cache_dir or compilation_cache_dir())
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # [choice] cache all
  start, compile_start = time.perf_counter(), progress.compile_seconds()
  try:
    rows = [dict(row, precision=config.precision)
            for row in EXPERIMENTS[config.experiment].run(config, checkpoint)]
  except jax.errors.JaxRuntimeError as e:
    if not FLAGS.distributed:
      raise
    logging.error("another process of this --distributed run failed or stopped answering "
                  "(%s); finished units are in %s: start every process again with the same "
                  "command to resume.", str(e).splitlines()[0], checkpoint.directory)
    os._exit(1)  # without waiting on the shutdown barrier of a process that is gone
  if checkpoint.resumed:
    logging.info("resumed: %d finished units loaded from %s", checkpoint.resumed,
                 checkpoint.directory)
  elapsed = time.perf_counter() - start
  compiling = progress.compile_seconds() - compile_start
  if not writer:
    return
  outputs.write_config(workdir, config)
  outputs.write_jsonl(os.path.join(workdir, outputs.RESULTS_FILE), rows)
  outputs.write_timing(workdir, dict(
      seconds=elapsed, compile_seconds=compiling, run_seconds=elapsed - compiling,
      resumed_units=checkpoint.resumed, compilation_cache=FLAGS.compilation_cache))
  print(report.write_report(workdir))
  checkpoint.remove()
  logging.info("wrote %s", os.path.abspath(workdir))


if __name__ == "__main__":
  app.run(main)
