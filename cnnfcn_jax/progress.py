"""Progress logging with an estimate of the time left, and the time spent compiling."""

from __future__ import annotations

import time

import jax
from absl import logging

# JAX's own timing events of a compilation: tracing, lowering, and the backend compile
# (a persistent-cache hit reports its retrieval time there instead).
COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                  "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")
BACKEND_COMPILE = COMPILE_EVENTS[-1]  # once per program compiled (or loaded from the cache)
_compile_seconds = [0.0]
_programs = [0]
_listening = [False]


def _on_event(event: str, duration: float, **kwargs):
  del kwargs
  if event in COMPILE_EVENTS:
    _compile_seconds[0] += duration
  if event == BACKEND_COMPILE:
    _programs[0] += 1


def _listen():
  """Register the listener of JAX's timing events, once per process, at the first
  question asked (so importing this module leaves JAX's global state alone)."""
  if not _listening[0]:
    jax.monitoring.register_event_duration_secs_listener(_on_event)
    _listening[0] = True


def compile_seconds() -> float:
  """Seconds this process has spent tracing, lowering and compiling since the first call
  of compile_seconds or programs_compiled."""
  _listen()
  return _compile_seconds[0]


def programs_compiled() -> int:
  """Programs this process has compiled (or loaded from the persistent cache) since the
  first call of compile_seconds or programs_compiled; eager operations count too."""
  _listen()
  return _programs[0]


class Progress:
  """Logs each finished unit of work and the time left, from costs given up front.

  `costs` are relative sizes of the units (e.g. n for a sweep over n); the time left
  is the measured time per unit of cost times the cost still to run. Each line also
  gives the part of the elapsed time spent compiling.
  """

  def __init__(self, costs, name="run"):
    self.costs = list(costs)
    self.name = name
    self.done = 0
    self.start = time.perf_counter()
    self.compile_start = compile_seconds()

  def step(self, what: str):
    elapsed = time.perf_counter() - self.start
    compiling = compile_seconds() - self.compile_start
    done_cost = sum(self.costs[: self.done + 1])
    left_cost = sum(self.costs[self.done + 1:])
    self.done += 1
    left = elapsed / max(done_cost, 1e-12) * left_cost
    logging.info("%s %d/%d %s: %.1fs elapsed (compile %.1fs, run %.1fs), about %.0fs left",
                 self.name, self.done, len(self.costs), what, elapsed, compiling,
                 elapsed - compiling, left)
