"""Progress logging with an estimate of the time left."""

from __future__ import annotations

import time

from absl import logging


class Progress:
  """Logs each finished unit of work and the time left, from costs given up front.

  `costs` are relative sizes of the units (e.g. n for a sweep over n); the time left
  is the measured time per unit of cost times the cost still to run.
  """

  def __init__(self, costs, name="run"):
    self.costs = list(costs)
    self.name = name
    self.done = 0
    self.start = time.perf_counter()

  def step(self, what: str):
    elapsed = time.perf_counter() - self.start
    done_cost = sum(self.costs[: self.done + 1])
    left_cost = sum(self.costs[self.done + 1:])
    self.done += 1
    left = elapsed / max(done_cost, 1e-12) * left_cost
    logging.info("%s %d/%d %s: %.1fs elapsed, about %.0fs left", self.name, self.done,
                 len(self.costs), what, elapsed, left)
