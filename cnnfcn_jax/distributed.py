"""Multi-process runs (--distributed): the flags, starting the processes, and stopping
cleanly when one of them is gone.

Every process runs the same command; jax.distributed.initialize joins them (each flag is
auto-detected on SLURM and TPU pods when not given), process 0 alone writes files, and
the others read the checkpoints once process 0 has claimed the workdir.
"""

from __future__ import annotations

import contextlib
import os

import jax
from absl import flags, logging
from jax.experimental import multihost_utils

flags.DEFINE_bool("distributed", False, "Multi-process run: jax.distributed.initialize() with the "
                  "three flags below, each auto-detected on SLURM / TPU pods when not given.")
flags.DEFINE_string("coordinator_address", None, "HOST:PORT of process 0 (--distributed).")
flags.DEFINE_integer("num_processes", None, "Number of processes (--distributed).")
flags.DEFINE_integer("process_id", None, "This process's index in [0, num_processes).")
flags.DEFINE_integer("distributed_timeout", 60, "Seconds after which the other processes give "
                     "up on one that stopped answering (--distributed).")
FLAGS = flags.FLAGS


def joined() -> bool:
  """Whether this process runs with --distributed (False where no flags were parsed: a
  notebook calling launch.run)."""
  return FLAGS.is_parsed() and FLAGS.distributed


def show_cpu_devices(cpu_devices: int):
  """Show the CPU backend as cpu_devices JAX devices (0: one per core; the sweeps and online
  calls shard their seeds over a process's devices). Call it before anything starts a JAX
  backend."""
  jax.config.update("jax_num_cpu_devices", cpu_devices or os.cpu_count())


def start() -> bool:
  """With --distributed, join the other processes (CPU processes exchange results over
  gloo). Returns whether this process is the one that writes files (process 0)."""
  if joined():
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=FLAGS.coordinator_address, num_processes=FLAGS.num_processes,
        process_id=FLAGS.process_id, initialization_timeout=FLAGS.distributed_timeout,
        heartbeat_timeout_seconds=FLAGS.distributed_timeout)
    logging.info("process %d of %d, %d devices in all", jax.process_index(),
                 jax.process_count(), jax.device_count())
  return jax.process_index() == 0


def barrier(name: str):
  """Wait for every process (no-op in a single-process run)."""
  if joined():
    multihost_utils.sync_global_devices(name)


@contextlib.contextmanager
def exit_if_a_process_is_lost(checkpoint_directory: str):
  """In a --distributed run, a JAX runtime error (another process failed or stopped
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
