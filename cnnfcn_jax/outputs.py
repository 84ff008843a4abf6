"""Files in a workdir, each written to a temporary name and renamed into place."""

from __future__ import annotations

import json
import os
import tempfile

from cnnfcn_jax.progress import Progress

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.jsonl"
REPORT_FILE = "report.md"


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


CHECKPOINT_DIR = "checkpoint"


class Checkpoint:
  """Completed units of work of one run, saved as they finish, so a rerun resumes.

  Each unit (one jitted sweep) is saved as workdir/checkpoint/<unit>.json holding its
  result rows; running the same config on the same workdir again loads finished units
  instead of recomputing them. Units are pure functions of the config, so a resumed run
  ends with exactly the rows of an uninterrupted one. Without a workdir nothing is kept.
  """

  def __init__(self, workdir: str | None = None):
    self.directory = os.path.join(workdir, CHECKPOINT_DIR) if workdir else None
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
