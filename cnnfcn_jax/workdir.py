"""One workdir, one config, one launcher at a time.

A run claims its workdir (claim): it takes an advisory lock on workdir/.lock (fcntl.flock,
released by the kernel when the process ends, so a killed run never leaves the folder
locked), refuses a folder that holds another config's results unless --overwrite, which
removes what that run wrote (its manifest's files and the checkpoints' JSON files), and
records the config in the checkpoint folder so that a rerun of the same config resumes.
"""

from __future__ import annotations

import fcntl
import json
import os

from cnnfcn_jax import checkpoints, outputs
from cnnfcn_jax.checkpoints import CHECKPOINT_DIR
from cnnfcn_jax.outputs import CONFIG_FILE, MANIFEST_FILE

LOCK_FILE = ".lock"


class WorkdirError(ValueError):
  """A workdir this run may not use; the message names the fix."""


def saved_config(workdir: str) -> dict | None:
  """The config a workdir's results (finished or checkpointed) belong to, or None."""
  for path in (os.path.join(workdir, CONFIG_FILE),
               os.path.join(workdir, CHECKPOINT_DIR, CONFIG_FILE)):
    if os.path.exists(path):
      try:
        return outputs.read_json(path, "delete it (and the results it belongs to), or use "
                                 "another --workdir")
      except outputs.OutputError as e:
        raise WorkdirError(str(e)) from None
  return None


def _our_names(workdir: str) -> list[str]:
  """The files the manifest lists: plain names inside workdir, or WorkdirError."""
  path = os.path.join(workdir, MANIFEST_FILE)
  if not os.path.exists(path):
    return []
  try:
    names = outputs.read_json(path, "use another --workdir")
  except outputs.OutputError as e:
    raise WorkdirError(str(e)) from None
  if not (isinstance(names, list) and all(
      isinstance(n, str) and n and os.path.basename(n) == n and n not in (".", "..")
      for n in names)):
    raise WorkdirError(f"{path} is not a manifest this launcher wrote (a list of file names "
                       "in the workdir); use another --workdir")
  return names


def remove_outputs(workdir: str):
  """Remove what an earlier run wrote in workdir: its manifest's files and checkpoints."""
  names = _our_names(workdir)
  checkpoints.remove_checkpoints(os.path.join(workdir, CHECKPOINT_DIR))
  for name in names + [MANIFEST_FILE]:
    path = os.path.join(workdir, name)
    if os.path.isfile(path):
      os.remove(path)


def lock(workdir: str) -> int:
  """Take workdir's advisory lock (creating the folder), or WorkdirError when another live
  launcher holds it; the open descriptor that holds it."""
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, LOCK_FILE)
  while True:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
      os.close(fd)
      raise WorkdirError(
          f"--workdir={workdir} is in use by another launcher (process {holder}, lock "
          f"{path}); wait until it finishes, or use another --workdir") from None
    try:
      same = os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
      same = False
    if same:  # else the holder removed the file as we opened it: take the new one
      os.ftruncate(fd, 0)
      os.write(fd, str(os.getpid()).encode())
      return fd
    os.close(fd)


def unlock(workdir: str, fd: int):
  """Release the lock of `lock`, removing the lock file first (still holding it)."""
  try:
    os.remove(os.path.join(workdir, LOCK_FILE))
  except FileNotFoundError:
    pass
  os.close(fd)


def claim(workdir: str, config_dict: dict, overwrite: bool, writer: bool = True,
          recompute_corrupt: bool = False) -> tuple[checkpoints.Checkpoint, int | None]:
  """The checkpoint of this config's run in workdir and the lock's descriptor (None when
  not the writer), refusing another config's workdir.

  The writer takes workdir's lock first (see lock) and holds it until the process ends
  (the launcher releases it once the results are written). A workdir holding the results
  of a different config is refused (WorkdirError names the fields that differ) unless
  overwrite, which removes that run's outputs first. The same config resumes from its
  checkpoints. A checkpoint folder this launcher did not write (no config.json in it) is
  refused: it is the user's. With writer=False (every process of a multi-process run but
  the first) the same checks run and nothing is written or locked.
  """
  lock_fd = lock(workdir) if writer else None
  try:
    _claim(workdir, config_dict, overwrite, writer)
  except BaseException:
    if lock_fd is not None:
      unlock(workdir, lock_fd)
    raise
  return checkpoints.Checkpoint(workdir, writer, recompute_corrupt), lock_fd


def _claim(workdir: str, config_dict: dict, overwrite: bool, writer: bool):
  checkpoint_dir = os.path.join(workdir, CHECKPOINT_DIR)
  if os.path.isdir(checkpoint_dir) and not os.path.exists(
      os.path.join(checkpoint_dir, CONFIG_FILE)):
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
    if os.path.isdir(checkpoint_dir):
      outputs.atomic_write(os.path.join(checkpoint_dir, CONFIG_FILE), config_text)
    else:
      # The folder appears with its config.json already in it: the other processes of a
      # multi-process run check the workdir at the same time and must never see it empty.
      staging = os.path.join(workdir, f".{CHECKPOINT_DIR}-{os.getpid()}")
      os.makedirs(staging, exist_ok=True)
      outputs.atomic_write(os.path.join(staging, CONFIG_FILE), config_text)
      os.rename(staging, checkpoint_dir)


def release(workdir: str, checkpoint: checkpoints.Checkpoint, lock_fd: int | None,
            finished: bool):
  """After a run: drop its checkpoints (finished) or only an empty checkpoint folder (a
  failed run keeps its finished units), then the lock; a workdir this run created and
  left empty goes too."""
  if finished:
    checkpoint.remove()
  else:
    checkpoint.remove_if_empty()
  if lock_fd is not None:
    unlock(workdir, lock_fd)
    try:
      os.rmdir(workdir)  # only if empty: nothing of the user's is touched
    except OSError:
      pass
