"""The files of a workdir: claimed by one config, each written atomically, listed when done.

A run claims its workdir (claim_workdir), saves finished units as checkpoints, then
writes config.json, results.jsonl, the report and manifest.json, the list of the files it
wrote; --overwrite removes the files that list names (and the checkpoints' JSON files).
"""

from __future__ import annotations

import json
import os
import tempfile

from cnnfcn_jax.progress import Progress

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.jsonl"
REPORT_FILE = "report.md"
MANIFEST_FILE = "manifest.json"  # the files a finished run wrote
TIMING_FILE = "timing.json"  # wall, compile and run seconds of the run that wrote results
CHECKPOINT_DIR = "checkpoint"


class WorkdirError(ValueError):
  """A workdir that holds another config's results; the message names the fix."""


def user_cache_dir() -> str:
  """The per-user cache folder of the package: $XDG_CACHE_HOME/cnnfcn_jax, else
  ~/.cache/cnnfcn_jax (compiled programs in jax/, the table kernels in native/)."""
  cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".cache")
  return os.path.join(cache_home, "cnnfcn_jax")


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


def read_jsonl(path: str) -> list[dict]:
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def write_config(workdir: str, config):
  atomic_write(os.path.join(workdir, CONFIG_FILE), config.to_json_best_effort(indent=2) + "\n")


def read_config(workdir: str) -> dict:
  with open(os.path.join(workdir, CONFIG_FILE)) as f:
    return json.load(f)


def write_timing(workdir: str, timing: dict):
  atomic_write(os.path.join(workdir, TIMING_FILE), json.dumps(timing, indent=2) + "\n")


def read_timing(workdir: str) -> dict | None:
  path = os.path.join(workdir, TIMING_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def write_manifest(workdir: str, files):
  atomic_write(os.path.join(workdir, MANIFEST_FILE), json.dumps(sorted(set(files)), indent=1))


def saved_config(workdir: str) -> dict | None:
  """The config a workdir's results (finished or checkpointed) belong to, or None."""
  for path in (os.path.join(workdir, CONFIG_FILE),
               os.path.join(workdir, CHECKPOINT_DIR, CONFIG_FILE)):
    if os.path.exists(path):
      with open(path) as f:
        return json.load(f)
  return None


def _our_names(workdir: str) -> list[str]:
  """The files the manifest lists: plain names inside workdir, or WorkdirError."""
  path = os.path.join(workdir, MANIFEST_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    names = json.load(f)
  if not (isinstance(names, list) and all(
      isinstance(n, str) and n and os.path.basename(n) == n and n not in (".", "..")
      for n in names)):
    raise WorkdirError(f"{path} is not a manifest this launcher wrote (a list of file names "
                       "in the workdir); use another --workdir")
  return names


def _remove_checkpoints(directory: str):
  """Remove the checkpoint folder's JSON files (units and config) and the folder if empty."""
  for name in os.listdir(directory):
    if name.endswith(".json"):
      os.remove(os.path.join(directory, name))
  if not os.listdir(directory):
    os.rmdir(directory)


def remove_outputs(workdir: str):
  """Remove what an earlier run wrote in workdir: its manifest's files and checkpoints."""
  names = _our_names(workdir)
  checkpoints = os.path.join(workdir, CHECKPOINT_DIR)
  if os.path.isdir(checkpoints):
    _remove_checkpoints(checkpoints)
  for name in names + [MANIFEST_FILE]:
    path = os.path.join(workdir, name)
    if os.path.isfile(path):
      os.remove(path)


def claim_workdir(workdir: str, config_dict: dict, overwrite: bool,
                  writer: bool = True) -> Checkpoint:
  """The checkpoint of this config's run in workdir, refusing another config's workdir.

  A workdir holding the results of a different config is refused (WorkdirError names the
  fields that differ) unless overwrite, which removes that run's outputs first. The same
  config resumes from its checkpoints. A checkpoint folder this launcher did not write
  (no config.json in it) is refused: it is the user's. With writer=False (every process
  of a multi-process run but the first) the same checks run and nothing is written.
  """
  checkpoints = os.path.join(workdir, CHECKPOINT_DIR)
  if os.path.isdir(checkpoints) and not os.path.exists(os.path.join(checkpoints, CONFIG_FILE)):
    raise WorkdirError(f"--workdir={workdir} has a {CHECKPOINT_DIR}/ folder that this launcher "
                       "did not write; use another --workdir")
  previous = saved_config(workdir)
  if previous is not None and previous != config_dict:
    if not overwrite:
      changed = sorted(k for k in set(previous) | set(config_dict)
                       if previous.get(k) != config_dict.get(k))
      raise WorkdirError(
          f"--workdir={workdir} holds results of a different config (fields that differ: "
          f"{', '.join(changed)}). Use another --workdir, or pass --overwrite to replace them.")
    if writer:
      remove_outputs(workdir)
  if writer:
    config_text = json.dumps(config_dict, indent=2, sort_keys=True) + "\n"
    if os.path.isdir(checkpoints):
      atomic_write(os.path.join(checkpoints, CONFIG_FILE), config_text)
    else:
      # The folder appears with its config.json already in it: the other processes of a
      # multi-process run check the workdir at the same time and must never see it empty.
      staging = os.path.join(workdir, f".{CHECKPOINT_DIR}-{os.getpid()}")
      os.makedirs(staging, exist_ok=True)
      atomic_write(os.path.join(staging, CONFIG_FILE), config_text)
      os.rename(staging, checkpoints)
  return Checkpoint(workdir, writer)


class Checkpoint:
  """Completed units of work of one run, saved as they finish, so a rerun resumes.

  Each unit (one jitted sweep) is saved as workdir/checkpoint/<unit>.json holding its
  result rows; running the same config on the same workdir again loads finished units
  instead of recomputing them. Units are pure functions of the config, so a resumed run
  ends with exactly the rows of an uninterrupted one. Without a workdir nothing is kept;
  a checkpoint that is not the writer loads saved units but saves none.
  """

  def __init__(self, workdir: str | None = None, writer: bool = True):
    self.directory = os.path.join(workdir, CHECKPOINT_DIR) if workdir else None
    self.writer = writer
    self.resumed = 0

  def rows(self, unit: str, compute) -> list[dict]:
    """The rows of `unit`: loaded if saved, else computed by compute() and saved."""
    if self.directory is None:
      return compute()
    path = os.path.join(self.directory, "".join(c if c.isalnum() or c in "-_=." else "_"
                                                for c in unit) + ".json")
    if os.path.exists(path):
      self.resumed += 1
      with open(path) as f:
        return json.load(f)
    rows = compute()
    if self.writer:
      atomic_write(path, json.dumps(rows))
    return rows

  def run_units(self, units, name: str) -> list[dict]:
    """Rows of every (unit, cost, compute) in order, logging progress and time left."""
    progress = Progress([cost for _, cost, _ in units], name)
    rows = []
    for unit, _, compute in units:
      rows += self.rows(unit, compute)
      progress.step(unit)
    return rows

  def remove(self):
    """Drop the checkpoints once the run's results are written."""
    if self.directory is not None and self.writer:
      _remove_checkpoints(self.directory)
