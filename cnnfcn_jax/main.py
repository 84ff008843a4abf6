"""Run an experiment from its config and write config.json, results.jsonl, figures, report.md.

  python -m cnnfcn_jax.main --config=configs/separation.py --workdir=runs/separation
  python -m cnnfcn_jax.main --config=configs/separation.py:quick --workdir=/tmp/sep \
      --config.ns='(16, 32)' --config.seeds='(0, 1)'
"""

import os

from absl import app, flags, logging
from ml_collections import config_flags

from cnnfcn_jax import checks, outputs, report
from cnnfcn_jax.experiments import EXPERIMENTS

config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/*.py[:variant]).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for the results.")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config = FLAGS.config
  try:
    checks.choice("experiment", config.get("experiment"), tuple(EXPERIMENTS))
    experiment = EXPERIMENTS[config.experiment]
    experiment.validate(config)
  except checks.ConfigError as e:
    raise app.UsageError(str(e)) from None
  rows = experiment.run(config)
  os.makedirs(FLAGS.workdir, exist_ok=True)
  outputs.write_config(FLAGS.workdir, config)
  outputs.write_jsonl(os.path.join(FLAGS.workdir, outputs.RESULTS_FILE), rows)
  print(report.write_report(FLAGS.workdir))
  logging.info("wrote %s", os.path.abspath(FLAGS.workdir))


if __name__ == "__main__":
  app.run(main)
