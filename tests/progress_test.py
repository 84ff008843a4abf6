"""Progress: time left from the cost of the units still to run."""

from absl import logging

from cnnfcn_jax import progress


def test_time_left_scales_with_the_remaining_cost(monkeypatch):
  clock = iter([0.0, 10.0, 40.0])
  monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
  messages = []
  monkeypatch.setattr(logging, "info", lambda fmt, *args: messages.append(fmt % args))
  p = progress.Progress([1, 3, 2], "sweep")
  p.step("a")  # 10 s for cost 1: cost 5 left, about 50 s
  p.step("b")  # 40 s for cost 4: cost 2 left, about 20 s
  assert messages[0].startswith("sweep 1/3 a: 10.0s elapsed, about 50s left")
  assert messages[1].startswith("sweep 2/3 b: 40.0s elapsed, about 20s left")
