"""Run an experiment from its config and write config.json, results.jsonl, figures, report.md.

  python -m cnnfcn_jax.main --config=configs/separation.py --workdir=runs/separation
  python -m cnnfcn_jax.main --config=configs/separation.py:quick --workdir=/tmp/sep \
      --config.ns='(16, 32)' --config.seeds='(0, 1)'

Rerunning the same command on the same workdir resumes an interrupted run. Compiled
programs are kept in JAX's persistent compilation cache (cache.py), so a rerun of the same
shapes skips compilation; the log and report.md give compile and run time apart.
"""

import json
import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from cnnfcn_jax import cache, checkpoints, checks, data, distributed, experiments, report
from cnnfcn_jax import workdir as workdirs

config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/*.py[:variant]).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for the results.")
flags.DEFINE_bool("overwrite", False, "Replace the results of a different config in --workdir.")
flags.DEFINE_bool("recompute_corrupt_units", False, "Compute again a checkpointed unit whose "
                  "file cannot be read back (it is named when the run stops on it).")
flags.DEFINE_bool("compilation_cache", True, "Keep compiled programs in JAX's persistent "
                  "compilation cache (--nocompilation_cache: compile everything afresh).")
flags.DEFINE_string("compilation_cache_dir", None, "Folder of the compilation cache (default: "
                    "$XDG_CACHE_HOME/cnnfcn_jax/jax, else ~/.cache/cnnfcn_jax/jax).")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config, workdir = FLAGS.config, FLAGS.workdir
  try:
    distributed.show_cpu_devices(experiments.cpu_devices(config))  # validate may start JAX
    experiments.validate(config)  # in every process, before anything is compiled or written
  except (checks.ConfigError, data.DataError) as e:
    raise app.UsageError(str(e)) from None
  writer = distributed.start()  # only process 0 writes files
  try:
    checkpoint, lock = workdirs.claim(workdir, json.loads(config.to_json_best_effort()),
                                      FLAGS.overwrite, writer, FLAGS.recompute_corrupt_units)
  except workdirs.WorkdirError as e:
    sys.exit(f"error: {e}")
  distributed.barrier("workdir claimed")  # the others read checkpoints once it is claimed
  if FLAGS.compilation_cache:
    cache.use_compilation_cache(FLAGS.compilation_cache_dir)
  try:
    with distributed.exit_if_a_process_is_lost(checkpoint.directory):
      rows, timing = experiments.run(config, checkpoint)
  except (checkpoints.CheckpointError, checkpoints.UnitTooLarge) as e:
    workdirs.release(workdir, checkpoint, lock, finished=False)
    sys.exit(f"error: {experiments.failure_line(e, config, checkpoint)}")
  if checkpoint.resumed:
    logging.info("resumed: %d finished units from %s", checkpoint.resumed, checkpoint.directory)
  if writer:
    print(report.finish(workdir, config, rows,
                        dict(timing, compilation_cache=FLAGS.compilation_cache)))
  workdirs.release(workdir, checkpoint, lock, finished=True)
  logging.info("wrote %s", os.path.abspath(workdir))


if __name__ == "__main__":
  app.run(main)
