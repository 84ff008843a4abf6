"""The files of a workdir, each written atomically and read back defensively.

A finished run writes config.json, results.jsonl, timing.json, the report and
manifest.json, the list of the files it wrote (workdir.py claims the folder, checkpoints.py
keeps finished units). Every reader here ends in OutputError naming the file (and line or
field) and what to do, never in a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.jsonl"
REPORT_FILE = "report.md"
MANIFEST_FILE = "manifest.json"  # the files a finished run wrote
TIMING_FILE = "timing.json"  # wall, compile and run seconds of the run that wrote results
RERUN = "rerun the launcher with the same --config and --workdir to write it again"


class OutputError(ValueError):
  """A file of a workdir that cannot be read back; the message names it and the fix."""


def atomic_write(path: str, data: bytes | str):
  """Write `data` to `path` so that `path` is either absent/old or complete."""
  directory = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-" + os.path.basename(path))
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)
  except BaseException:
    os.unlink(tmp)
    raise


def write_jsonl(path: str, rows):
  atomic_write(path, "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))


def _text(path: str, what: str) -> str:
  try:
    with open(path, "rb") as f:
      return f.read().decode()
  except FileNotFoundError:
    raise OutputError(f"{path}: not found; {what}") from None
  except (OSError, UnicodeDecodeError) as e:
    raise OutputError(f"{path}: cannot be read ({e}); {RERUN}") from None


def read_jsonl(path: str) -> list[dict]:
  """The rows of a .jsonl file, one JSON object a line; OutputError names a bad line."""
  rows = []
  for number, line in enumerate(_text(path, RERUN).splitlines(), 1):
    if not line.strip():
      continue
    try:
      row = json.loads(line)
    except json.JSONDecodeError as e:
      raise OutputError(f"{path} line {number}: not valid JSON ({e.msg}, column {e.colno}); "
                        f"the file was cut short or edited: {RERUN}") from None
    if not isinstance(row, dict):
      raise OutputError(f"{path} line {number}: not a JSON object (a row); {RERUN}")
    rows.append(row)
  return rows


def read_json(path: str, what: str):
  """The JSON value in `path`; OutputError names the file, the line and `what` to do."""
  try:
    return json.loads(_text(path, what))
  except json.JSONDecodeError as e:
    raise OutputError(f"{path} line {e.lineno}: not valid JSON ({e.msg}); {what}") from None


def write_config(workdir: str, config):
  atomic_write(os.path.join(workdir, CONFIG_FILE), config.to_json_best_effort(indent=2) + "\n")


def read_config(workdir: str) -> dict:
  """The config.json of a finished run; OutputError when workdir is not one."""
  if not os.path.isdir(workdir):
    raise OutputError(f"--workdir={workdir}: no such folder; pass the --workdir of a run of "
                      "cnnfcn_jax.main")
  config = read_json(os.path.join(workdir, CONFIG_FILE),
                     f"{workdir} is not the workdir of a finished run of cnnfcn_jax.main; "
                     "pass that --workdir, or finish the run by rerunning the launcher")
  if not isinstance(config, dict) or not isinstance(config.get("experiment"), str):
    raise OutputError(f"{os.path.join(workdir, CONFIG_FILE)}: not a config written by "
                      f"cnnfcn_jax.main (no 'experiment' field); {RERUN}")
  return config


def write_timing(workdir: str, timing: dict):
  atomic_write(os.path.join(workdir, TIMING_FILE), json.dumps(timing, indent=2) + "\n")


def read_timing(workdir: str) -> dict | None:
  path = os.path.join(workdir, TIMING_FILE)
  if not os.path.exists(path):
    return None
  timing = read_json(path, RERUN)
  fields = ("seconds", "compile_seconds", "run_seconds", "resumed_units", "compilation_cache")
  if not isinstance(timing, dict) or any(f not in timing for f in fields):
    raise OutputError(f"{path}: not the timing of a run (fields {', '.join(fields)}); "
                      f"delete it to leave the time out of the report, or {RERUN}")
  return timing


def write_manifest(workdir: str, files):
  atomic_write(os.path.join(workdir, MANIFEST_FILE), json.dumps(sorted(set(files)), indent=1))
