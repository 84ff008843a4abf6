"""Figures and report.md from a workdir's saved results only (never retrains), and the one
step that finishes a run (finish: config, results, timing, report, manifest).

Re-plot a finished run:  python -m cnnfcn_jax.report --workdir=DIR
"""

from __future__ import annotations

import os
import sys

from absl import app, flags

from cnnfcn_jax import outputs
from cnnfcn_jax.experiments import EXPERIMENTS, REPORTS


def finish(workdir: str, config, rows: list[dict], timing: dict) -> str:
  """Write a run's config.json, results.jsonl and timing.json, then its figures, report.md
  and manifest (redraw); the report's text."""
  outputs.write_config(workdir, config)
  outputs.write_jsonl(os.path.join(workdir, outputs.RESULTS_FILE), rows)
  outputs.write_timing(workdir, timing)
  return redraw(workdir)


def redraw(workdir: str) -> str:
  """Figures and report.md for the results saved in workdir (and its manifest); the report.

  A file that cannot be read, or a row without a field the report reads, raises
  outputs.OutputError naming the file, the line and what to do.
  """
  config = outputs.read_config(workdir)
  if config["experiment"] not in EXPERIMENTS:
    raise outputs.OutputError(
        f"{os.path.join(workdir, outputs.CONFIG_FILE)}: experiment {config['experiment']!r} "
        f"is none of this version's ({', '.join(EXPERIMENTS)}); use the version that wrote it")
  results = os.path.join(workdir, outputs.RESULTS_FILE)
  rows = outputs.read_jsonl(results)
  try:
    files = REPORTS[config["experiment"]](rows, config, workdir)
  except KeyError as e:  # a row (or the config) without a field the report reads
    field = str(e.args[0]) if e.args else "?"
    line = next((i for i, row in enumerate(rows, 1) if field not in row), None)
    where = (f"{results} line {line}: the row has no field {field!r}" if line else
             f"{os.path.join(workdir, outputs.CONFIG_FILE)}: no field {field!r}")
    raise outputs.OutputError(f"{where}, which the {config['experiment']} report reads; the "
                              f"file was edited or written by another version: "
                              f"{outputs.RERUN}") from None
  path = os.path.join(workdir, outputs.REPORT_FILE)
  with open(path) as f:
    text = f.read()
  timing = outputs.read_timing(workdir)
  if timing is not None:
    text = text.rstrip("\n") + "\n\n" + timing_line(timing) + "\n"
    outputs.atomic_write(path, text)
  extra = [outputs.TIMING_FILE] if timing is not None else []
  outputs.write_manifest(workdir, [outputs.CONFIG_FILE, outputs.RESULTS_FILE, *extra, *files])
  return text


def timing_line(timing: dict) -> str:
  """The report's sentence on the run's time: wall, compile (programs, share) and run."""
  resumed = (f"; {timing['resumed_units']} units loaded from checkpoints"
             if timing["resumed_units"] else "")
  # Timings written before programs were counted (0.6.0 and earlier) have no count.
  programs = f"{timing['programs']} programs, " if "programs" in timing else ""
  share = timing["compile_seconds"] / timing["seconds"] if timing["seconds"] > 0 else 0.0
  return (f"Time of the run that wrote these results: {timing['seconds']:.1f} s, of which "
          f"compiling {timing['compile_seconds']:.1f} s ({programs}{share:.0%} of the run) and "
          f"running {timing['run_seconds']:.1f} s (persistent compilation cache "
          f"{'on' if timing['compilation_cache'] else 'off'}{resumed}).")


def main(argv):
  del argv
  try:
    print(redraw(flags.FLAGS.workdir))
  except outputs.OutputError as e:
    sys.exit(f"error: {e}")


if __name__ == "__main__":
  flags.DEFINE_string("workdir", None, "A workdir written by cnnfcn_jax.main.", required=True)
  app.run(main)
