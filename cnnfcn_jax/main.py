"""Run an experiment from its config and write config.json, results.jsonl, figures, report.md.

  python -m cnnfcn_jax.main --config=configs/separation.py --workdir=runs/separation
  python -m cnnfcn_jax.main --config=configs/separation.py:quick --workdir=/tmp/sep \
      --config.ns='(16, 32)' --config.seeds='(0, 1)'

Rerunning the same command on the same workdir resumes an interrupted run.
"""

import json
import os
import re
import shutil

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


def our_outputs(workdir):
  """The files of a finished run in workdir: config, results, report and its figures."""
  names = [outputs.CONFIG_FILE, outputs.RESULTS_FILE, outputs.REPORT_FILE]
  report_path = os.path.join(workdir, outputs.REPORT_FILE)
  if os.path.exists(report_path):
    with open(report_path) as f:
      names += re.findall(r"\]\(([\w.-]+\.png)\)", f.read())
  return [n for n in names if os.path.exists(os.path.join(workdir, n))]


def saved_config(workdir):
  """The config a workdir's results (finished or checkpointed) belong to, or None."""
  for path in (os.path.join(workdir, outputs.CONFIG_FILE),
               os.path.join(workdir, outputs.CHECKPOINT_DIR, outputs.CONFIG_FILE)):
    if os.path.exists(path):
      with open(path) as f:
        return json.load(f)
  return None


def prepare_workdir(workdir, config_dict, overwrite):
  """Refuse a workdir holding another config's results unless overwrite; then claim it."""
  previous = saved_config(workdir)
  if previous is not None and previous != config_dict:
    changed = sorted(k for k in set(previous) | set(config_dict)
                     if previous.get(k) != config_dict.get(k))
    if not overwrite:
      raise app.UsageError(
          f"--workdir={workdir} holds results of a different config (fields that differ: "
          f"{', '.join(changed)}). Use another --workdir, or pass --overwrite to replace them.")
    shutil.rmtree(os.path.join(workdir, outputs.CHECKPOINT_DIR), ignore_errors=True)
    for name in our_outputs(workdir):  # only files this launcher wrote, never the user's
      os.remove(os.path.join(workdir, name))
  os.makedirs(os.path.join(workdir, outputs.CHECKPOINT_DIR), exist_ok=True)
  outputs.atomic_write(os.path.join(workdir, outputs.CHECKPOINT_DIR, outputs.CONFIG_FILE),
                       json.dumps(config_dict, indent=2, sort_keys=True) + "\n")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config, workdir = FLAGS.config, FLAGS.workdir
  try:
    validate(config)
  except (checks.ConfigError, data.DataError) as e:
    raise app.UsageError(str(e)) from None
  jax.config.update("jax_default_prng_impl", config.prng_impl)
  if FLAGS.distributed:
    jax.distributed.initialize()
  config_dict = json.loads(config.to_json_best_effort())
  prepare_workdir(workdir, config_dict, FLAGS.overwrite)
  checkpoint = outputs.Checkpoint(workdir)
  rows = EXPERIMENTS[config.experiment].run(config, checkpoint)
  if checkpoint.resumed:
    logging.info("resumed: %d finished units loaded from %s", checkpoint.resumed,
                 checkpoint.directory)
  outputs.write_config(workdir, config)
  outputs.write_jsonl(os.path.join(workdir, outputs.RESULTS_FILE), rows)
  print(report.write_report(workdir))
  shutil.rmtree(checkpoint.directory)
  logging.info("wrote %s", os.path.abspath(workdir))


if __name__ == "__main__":
  app.run(main)
