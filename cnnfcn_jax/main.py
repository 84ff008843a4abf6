"""Run an experiment from its config and write config.json, results.jsonl, figures, report.md.

  python -m cnnfcn_jax.main --config=configs/separation.py --workdir=runs/separation
  python -m cnnfcn_jax.main --config=configs/separation.py:quick --workdir=/tmp/sep \
      --config.ns='(16, 32)' --config.seeds='(0, 1)'

Rerunning the same command on the same workdir resumes an interrupted run. Compiled
programs are kept in JAX's persistent compilation cache (cache.py), so a rerun of the same
shapes skips compilation; the log and report.md give compile and run time apart. The same
run from Python: launch.run(config, workdir).
"""

import sys

from absl import app, flags
from ml_collections import config_flags

from cnnfcn_jax import checks, data, distributed, launch

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
flags.DEFINE_bool("distributed", False, "Multi-process run: jax.distributed.initialize() with the "
                  "three flags below, each auto-detected on SLURM / TPU pods when not given.")
flags.DEFINE_string("coordinator_address", None, "HOST:PORT of process 0 (--distributed).")
flags.DEFINE_integer("num_processes", None, "Number of processes (--distributed).")
flags.DEFINE_integer("process_id", None, "This process's index in [0, num_processes).")
flags.DEFINE_integer("distributed_timeout", 60, "Seconds after which the other processes give "
                     "up on one that stopped answering (--distributed).")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  try:
    text = launch.run(FLAGS.config, FLAGS.workdir, overwrite=FLAGS.overwrite,
                      recompute_corrupt_units=FLAGS.recompute_corrupt_units,
                      compilation_cache=FLAGS.compilation_cache,
                      compilation_cache_dir=FLAGS.compilation_cache_dir,
                      processes=distributed.Processes(
                          FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id,
                          FLAGS.distributed_timeout) if FLAGS.distributed else None)
  except (checks.ConfigError, data.DataError) as e:
    raise app.UsageError(str(e)) from None
  except launch.RunError as e:
    sys.exit(f"error: {e}")
  if text is not None:
    print(text)


if __name__ == "__main__":
  app.run(main)
