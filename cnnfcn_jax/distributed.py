"""Multi-process runs: starting the processes, and stopping cleanly when one of them is gone.

Every process runs the same command; jax.distributed.initialize joins them (each setting is
auto-detected on SLURM and TPU pods when not given), process 0 alone writes files, and
the others read the checkpoints once process 0 has claimed the workdir. The launcher's
--distributed flags (main.py) become a Processes; importing this module defines no flag.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os

import jax
from absl import logging
from jax.experimental import multihost_utils


@dataclasses.dataclass(frozen=True)
class Processes:
  """How this process joins a multi-process run (None fields: auto-detected on SLURM and
  TPU pods); timeout: seconds after which the others give up on one that stopped
  answering."""
  coordinator_address: str | None = None
  num_processes: int | None = None
  process_id: int | None = None
  timeout: int = 60


_joined = False  # start() joined other processes


def joined() -> bool:
  """Whether this process has joined a multi-process run (start with a Processes)."""
  return _joined


def show_cpu_devices(cpu_devices: int):
  """Show the CPU backend as cpu_devices JAX devices (0: one per core; the sweeps and online
  calls shard their seeds over a process's devices). Call it before anything starts a JAX
  backend."""
  jax.config.update("jax_num_cpu_devices", cpu_devices or os.cpu_count())


def start(processes: Processes | None = None) -> bool:
  """With `processes`, join the other processes (CPU processes exchange results over gloo).
  Returns whether this process is the one that writes files (process 0)."""
  global _joined
  if processes is not None and not _joined:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=processes.coordinator_address,
        num_processes=processes.num_processes, process_id=processes.process_id,
        initialization_timeout=processes.timeout,
        heartbeat_timeout_seconds=processes.timeout)
    _joined = True
    logging.info("process %d of %d, %d devices in all", jax.process_index(),
                 jax.process_count(), jax.device_count())
  return jax.process_index() == 0


def barrier(name: str):
  """Wait for every process (no-op in a single-process run)."""
  if joined():
    multihost_utils.sync_global_devices(name)


@contextlib.contextmanager
def exit_if_a_process_is_lost(checkpoint_directory: str):
  """In a multi-process run, a JAX runtime error (another process failed or stopped
  answering) ends this one at once with one line saying how to resume: waiting on the
  shutdown barrier of a process that is gone would hang."""
  try:
    yield
  except jax.errors.JaxRuntimeError as e:
    if not joined() or "RESOURCE_EXHAUSTED" in str(e):
      raise
    logging.error("another process of this --distributed run failed or stopped answering "
                  "(%s); finished units are in %s: start every process again with the same "
                  "command to resume.", str(e).splitlines()[0], checkpoint_directory)
    os._exit(1)
