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
  assert messages[0] == "sweep 1/3 a: 10.0s elapsed (compile 0.0s, run 10.0s), about 50s left"
  assert messages[1] == "sweep 2/3 b: 40.0s elapsed (compile 0.0s, run 40.0s), about 20s left"


def test_compile_time_is_counted_from_jax_events_and_split_from_run_time(monkeypatch):
  import jax
  import jax.numpy as jnp
  before = progress.compile_seconds()
  jax.jit(lambda x: jnp.sin(x) * 3 + 1)(jnp.ones(7)).block_until_ready()  # a new program
  compiled = progress.compile_seconds() - before
  assert compiled > 0
  jax.jit(lambda x: jnp.sin(x) * 3 + 1)  # no call, no compile
  assert progress.compile_seconds() - before == compiled
