"""Figures and report.md from a workdir's saved results only (never retrains).

Re-plot a finished run:  python -m cnnfcn_jax.report --workdir=DIR
"""

from __future__ import annotations

import os

from absl import app, flags

from cnnfcn_jax import outputs
from cnnfcn_jax.experiments import EXPERIMENTS


def write_report(workdir: str) -> str:
  """Figures and report.md for the results saved in workdir (and its manifest); the report."""
  config = outputs.read_config(workdir)
  rows = outputs.read_jsonl(os.path.join(workdir, outputs.RESULTS_FILE))
  files = EXPERIMENTS[config["experiment"]].report(rows, config, workdir)
  path = os.path.join(workdir, outputs.REPORT_FILE)
  with open(path) as f:
    text = f.read()
  timing = outputs.read_timing(workdir)
  if timing is not None:
    resumed = (f"; {timing['resumed_units']} units loaded from checkpoints"
               if timing["resumed_units"] else "")
    text = text.rstrip("\n") + (
        f"\n\nTime of the run that wrote these results: {timing['seconds']:.1f} s, of which "
        f"compiling {timing['compile_seconds']:.1f} s and running "
        f"{timing['run_seconds']:.1f} s (persistent compilation cache "
        f"{'on' if timing['compilation_cache'] else 'off'}{resumed}).\n")
    outputs.atomic_write(path, text)
  extra = [outputs.TIMING_FILE] if timing is not None else []
  outputs.write_manifest(workdir, [outputs.CONFIG_FILE, outputs.RESULTS_FILE, *extra, *files])
  return text


def main(argv):
  del argv
  print(write_report(flags.FLAGS.workdir))


if __name__ == "__main__":
  flags.DEFINE_string("workdir", None, "A workdir written by cnnfcn_jax.main.", required=True)
  app.run(main)
