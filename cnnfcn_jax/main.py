"""Run an experiment from its config and write config.json, results.jsonl, figures, report.md.

  python -m cnnfcn_jax.main --config=configs/separation.py --workdir=runs/separation
  python -m cnnfcn_jax.main --config=configs/separation.py:quick --workdir=/tmp/sep \
      --config.ns='(16, 32)' --config.seeds='(0, 1)'

Rerunning the same command on the same workdir resumes an interrupted run.
"""

import json
import os

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from cnnfcn_jax import checks, data, outputs, report
from cnnfcn_jax.experiments import EXPERIMENTS, validate

config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/*.py[:variant]).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for the results.")
flags.DEFINE_bool("overwrite", False, "Replace the results of a different config in --workdir.")
flags.DEFINE_bool("distributed", False, "Multi-host run: call jax.distributed.initialize() first "
                  "(its settings come from the cluster environment).")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config, workdir = FLAGS.config, FLAGS.workdir
  try:
    validate(config)  # before anything is compiled or written
    checkpoint = outputs.claim_workdir(workdir, json.loads(config.to_json_best_effort()),
                                       FLAGS.overwrite)
  except (checks.ConfigError, data.DataError, outputs.WorkdirError) as e:
    raise app.UsageError(str(e)) from None
  jax.config.update("jax_default_prng_impl", config.prng_impl)
  jax.config.update("jax_enable_x64", config.precision == "float64")
  if FLAGS.distributed:
    jax.distributed.initialize()
  rows = [dict(row, precision=config.precision)
          for row in EXPERIMENTS[config.experiment].run(config, checkpoint)]
  if checkpoint.resumed:
    logging.info("resumed: %d finished units loaded from %s", checkpoint.resumed,
                 checkpoint.directory)
  outputs.write_config(workdir, config)
  outputs.write_jsonl(os.path.join(workdir, outputs.RESULTS_FILE), rows)
  print(report.write_report(workdir))
  checkpoint.remove()
  logging.info("wrote %s", os.path.abspath(workdir))


if __name__ == "__main__":
  app.run(main)
