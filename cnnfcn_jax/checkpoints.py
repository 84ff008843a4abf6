"""Finished units of a run, each saved as it ends, so that a rerun resumes where it stopped.

A unit is one jitted computation of an experiment (one sweep, one cell); its rows are
saved as workdir/checkpoint/<unit>.json. Units are pure functions of the config, so a
resumed run ends with exactly the rows of an uninterrupted one. What is read back is
checked: a unit file that is not a JSON list of rows is named (CheckpointError), and is
recomputed only when the run was started with recompute_corrupt=True.
"""

from __future__ import annotations

import json
import os
import re

import jax

from cnnfcn_jax import outputs
from cnnfcn_jax.progress import Progress

CHECKPOINT_DIR = "checkpoint"


class CheckpointError(ValueError):
  """A saved unit that cannot be read back; the message names the file and the fix."""


class UnitTooLarge(MemoryError):
  """A unit whose arrays do not fit in the device's memory."""

  def __init__(self, unit: str, needed_bytes: int | None, detail: str):
    super().__init__(unit, needed_bytes, detail)
    self.unit, self.needed_bytes, self.detail = unit, needed_bytes, detail


def needed_bytes(message: str) -> int | None:
  """The allocation size that XLA's RESOURCE_EXHAUSTED text names, if it names one."""
  match = re.search(r"(\d+)\s*bytes", message)
  if match:
    return int(match.group(1))
  match = re.search(r"([\d.]+)\s*([KMGT])i?B\b", message)
  if match:
    return int(float(match.group(1)) * 1024 ** ("KMGT".index(match.group(2)) + 1))
  return None


def unit_file(directory: str, unit: str) -> str:
  """The file of `unit` in the checkpoint folder (characters outside [A-Za-z0-9-_=.]: _)."""
  return os.path.join(directory, "".join(c if c.isalnum() or c in "-_=." else "_"
                                         for c in unit) + ".json")


def unit_files(directory: str) -> list[str]:
  """The names of the saved units in a checkpoint folder (not its config.json)."""
  if not os.path.isdir(directory):
    return []
  return sorted(name for name in os.listdir(directory)
                if name.endswith(".json") and name != outputs.CONFIG_FILE)


def remove_checkpoints(directory: str):
  """Remove the checkpoint folder's JSON files (units and config) and the folder if empty;
  a folder already gone is left so."""
  if not os.path.isdir(directory):
    return
  for name in os.listdir(directory):
    if name.endswith(".json"):
      try:
        os.remove(os.path.join(directory, name))
      except FileNotFoundError:
        pass
  if not os.listdir(directory):
    os.rmdir(directory)


def load_unit(path: str, unit: str) -> list[dict]:
  """The rows saved in `path`, or CheckpointError naming the file."""
  fix = ("it was cut short or edited; rerun with --recompute_corrupt_units to compute "
         "this unit again (the file is replaced), or restore it")
  with open(path, "rb") as f:
    data = f.read()
  try:
    rows = json.loads(data)
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    where = f"line {e.lineno} column {e.colno}" if hasattr(e, "lineno") else "its bytes"
    raise CheckpointError(f"{path}: the saved rows of unit {unit!r} are not valid JSON "
                          f"({where}, {len(data)} bytes): {fix}") from None
  if not (isinstance(rows, list) and all(isinstance(row, dict) for row in rows)):
    raise CheckpointError(f"{path}: the saved rows of unit {unit!r} are not a JSON list of "
                          f"rows: {fix}")
  return rows


class Checkpoint:
  """Completed units of work of one run, saved as they finish, so a rerun resumes.

  Without a workdir nothing is kept; a checkpoint that is not the writer (every process
  of a multi-process run but the first) loads saved units but saves none.
  """

  def __init__(self, workdir: str | None = None, writer: bool = True,
               recompute_corrupt: bool = False):
    self.directory = os.path.join(workdir, CHECKPOINT_DIR) if workdir else None
    self.writer = writer
    self.recompute_corrupt = recompute_corrupt
    self.resumed = 0

  def rows(self, unit: str, compute) -> list[dict]:
    """The rows of `unit`: loaded if saved, else computed by compute() and saved."""
    if self.directory is None:
      return compute()
    path = unit_file(self.directory, unit)
    if os.path.exists(path):
      try:
        rows = load_unit(path, unit)
        self.resumed += 1
        return rows
      except CheckpointError:
        if not self.recompute_corrupt:
          raise
    rows = compute()
    if self.writer:
      outputs.atomic_write(path, json.dumps(rows))
    return rows

  def run_units(self, units, name: str) -> list[dict]:
    """Rows of every (unit, cost, compute) in order, logging progress and time left.

    A unit that runs out of device memory raises UnitTooLarge naming it."""
    progress = Progress([cost for _, cost, _ in units], name)
    rows = []
    for unit, _, compute in units:
      try:
        rows += self.rows(unit, compute)
      except jax.errors.JaxRuntimeError as e:
        if "RESOURCE_EXHAUSTED" not in str(e):
          raise
        raise UnitTooLarge(unit, needed_bytes(str(e)), str(e).splitlines()[0]) from None
      progress.step(unit)
    return rows

  def remove(self):
    """Drop the checkpoints once the run's results are written."""
    if self.directory is not None and self.writer:
      remove_checkpoints(self.directory)

  def remove_if_empty(self):
    """Drop the checkpoint folder when no unit finished (after a failed run): only
    finished units are worth keeping."""
    if self.directory is not None and self.writer and not unit_files(self.directory):
      remove_checkpoints(self.directory)
