"""Steps to success: train many seeds until each reaches a target accuracy (docs/spec.md §9).

One jitted call trains S seeds of one (arch, task, width) by minibatch SGD on the hinge
loss and records, per network, the first evaluation step at which its accuracy on a fixed
evaluation batch reached `success_accuracy`:

  jit(while some network has not succeeded and checks remain:
        fori_loop over the steps up to the next check (vmap over seeds(one SGD step));
        evaluate every seed on its evaluation batch)

Protocols: "online" draws a fresh i.i.d. batch at every step (batch t of a seed comes from
fold_in(its data key, t), so it does not depend on the call); "full_batch" is GD on a fixed
sample of num_train. Evaluations happen at `check_steps` (0 and a geometric schedule, see
check_schedule), so a recorded step t means: below the target at the previous check, at
or above it at t. The loop stops once every network has succeeded; networks that already
did keep training until then, which cannot change their recorded step.

An evaluation first counts errors on a prefix of the batch; a network with more errors
there than the whole batch allows cannot succeed, and when that holds for every network
still to succeed the rest of the batch is skipped. The recorded steps are those of the
full evaluation.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from cnnfcn_jax import models, train
from cnnfcn_jax.tasks import Task

PROTOCOLS = ("online", "full_batch")
SCREEN_SIZE = 512  # evaluation prefix counted first (see the module docstring)


def check_schedule(num_steps: int, eval_every: int, eval_growth: float) -> tuple[int, ...]:
  """0, then steps t_{i+1} = max(t_i + eval_every, ceil(t_i x eval_growth)), and num_steps.

  eval_growth = 1 gives every eval_every steps; above 1 the gaps grow geometrically, so the
  relative resolution of a recorded step is about eval_growth - 1 at large t.
  """
  steps = [0]
  while steps[-1] < num_steps:
    steps.append(min(num_steps, max(steps[-1] + eval_every,
                                    math.ceil(steps[-1] * eval_growth))))
  return tuple(steps)


@dataclasses.dataclass(frozen=True)
class OnlineSweep:
  """Everything static about one steps-to-success call (hashable: keys the compile cache)."""
  arch: str
  task: Task
  width: int
  init: str
  trainable: tuple[str, ...]
  optimizer: str
  learning_rate: float
  batch_size: int
  check_steps: tuple[int, ...]  # evaluation steps, from 0 up to the step budget
  num_eval: int
  success_accuracy: float
  protocol: str = "online"
  num_train: int = 0  # full_batch only
  activation: str = "relu"
  first_layer_step_scale: float = 1.0
  table: bool = False

  @property
  def num_steps(self) -> int:
    return self.check_steps[-1]


def online_fn(spec: OnlineSweep):
  """The un-jitted call: seeds (S,) -> dict of (S,) arrays.

  steps_to_success: int32, the first check step with accuracy >= success_accuracy, or -1.
  final_eval_accuracy: accuracy on the whole evaluation batch when the call stopped, at
  stopped_at (the slowest network's success, or the budget).
  """
  task, arch = spec.task, spec.arch
  features = (lambda x: models.pattern_ids(x, task.k)) if spec.table else (lambda x: x)
  optimizer = train.OPTIMIZERS[spec.optimizer](spec.learning_rate)
  checks = jnp.asarray(spec.check_steps, jnp.int32)
  allowed_errors = math.floor((1 - spec.success_accuracy) * spec.num_eval + 1e-9)
  screen = min(SCREEN_SIZE, spec.num_eval)

  def output(trained, frozen, inputs):
    return models.apply(arch, {**frozen, **trained}, inputs, spec.activation, spec.table)

  def loss(trained, frozen, inputs, y):
    return train.hinge_loss(output(trained, frozen, inputs), y)

  def setup(seed):
    init_key, data_key = train.seed_keys(seed)
    params = models.init_params(arch, init_key, task.n, task.k, spec.width, spec.init)
    trained = {g: params[g] for g in spec.trainable}
    frozen = {g: a for g, a in params.items() if g not in spec.trainable}
    x_eval, y_eval = task.sample(jax.random.fold_in(data_key, 1), spec.num_eval)
    train_key = jax.random.fold_in(data_key, 0)
    if spec.protocol == "full_batch":
      x_train, y_train = task.sample(train_key, spec.num_train)
      sample = (features(x_train), y_train)
    else:
      sample = ()
    return (trained, optimizer.init(trained)), frozen, (features(x_eval), y_eval), train_key, sample

  def sgd_step(state, frozen, train_key, sample, t):
    trained, opt_state = state
    if spec.protocol == "full_batch":
      inputs, y = sample
    else:
      x, y = task.sample(jax.random.fold_in(train_key, t), spec.batch_size)
      inputs = features(x)
    grads = jax.grad(loss)(trained, frozen, inputs, y)
    updates, opt_state = optimizer.update(grads, opt_state, trained)
    updates = train.scale_first_layer(updates, arch, spec.first_layer_step_scale)
    return optax.apply_updates(trained, updates), opt_state

  def errors(trained, frozen, inputs, y):
    return jnp.sum(jnp.where(output(trained, frozen, inputs) >= 0, 1.0, -1.0) != y)

  def evaluate(trained, frozen, evals, pending=None):
    """Errors of every seed on its evaluation batch.

    With `pending` (the seeds still to succeed), the prefix is counted first and the rest
    skipped when no pending seed can pass (the counts are then those of the prefix only,
    above allowed_errors for every pending seed).
    """
    def count(part):
      return jax.vmap(lambda tr, fr, ev: errors(tr, fr, ev[0][part], ev[1][part]))(
          trained, frozen, evals)
    if pending is None:
      return count(slice(None))
    head = count(slice(None, screen))
    tail = jax.lax.cond(jnp.any((head <= allowed_errors) & pending),
                        lambda: count(slice(screen, None)), lambda: jnp.zeros_like(head))
    return head + tail

  def call(seeds):
    states, frozen, evals, train_keys, samples = jax.vmap(setup)(seeds)
    step = jax.vmap(sgd_step, in_axes=(0, 0, 0, 0, None))

    def record(i, states, first):
      pending = first < 0
      passed = (evaluate(states[0], frozen, evals, pending) <= allowed_errors) & pending
      return jnp.where(passed, checks[i], first)

    def cond(carry):
      i, _, first = carry
      return (i < len(spec.check_steps)) & jnp.any(first < 0)

    def body(carry):
      i, states, first = carry
      states = jax.lax.fori_loop(
          checks[i - 1], checks[i],
          lambda t, s: step(s, frozen, train_keys, samples, t), states)
      return i + 1, states, record(i, states, first)

    first = record(0, states, jnp.full(seeds.shape, -1, jnp.int32))
    i, states, first = jax.lax.while_loop(cond, body, (1, states, first))
    final_errors = evaluate(states[0], frozen, evals)
    return dict(steps_to_success=first, final_eval_accuracy=1.0 - final_errors / spec.num_eval,
                stopped_at=jnp.broadcast_to(checks[i - 1], seeds.shape))

  return call


@functools.lru_cache(maxsize=None)
def compiled_call(spec: OnlineSweep, num_seeds: int):
  """The compiled call for num_seeds seeds; compiling is kept apart from running."""
  seeds = jax.ShapeDtypeStruct((num_seeds,), jnp.uint32)
  return jax.jit(online_fn(spec)).lower(seeds).compile()


def run(spec: OnlineSweep, seeds) -> dict:
  """Steps to success of every seed, as numpy arrays (see online_fn), in one call."""
  out = compiled_call(spec, len(seeds))(np.asarray(seeds, np.uint32))
  return {name: np.asarray(a) for name, a in jax.device_get(out).items()}
