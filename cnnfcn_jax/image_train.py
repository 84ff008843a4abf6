"""Minibatch training of an image network over many seeds in one jitted call.

jit(vmap over seeds(lax.scan over epochs(lax.scan over minibatch steps))). Seed s draws
its own initialisation and its own minibatches from engine.seed_keys(s); the data (digit
pools or image arrays, and a fixed test set) are arguments of the call, shared by all seeds.
One output logit means a binary task (labels 0/1, sigmoid cross-entropy); several
mean classes (softmax cross-entropy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from cnnfcn_jax import engine


def loss_and_accuracy(logits, labels):
  if logits.ndim == 1:
    loss = optax.sigmoid_binary_cross_entropy(logits, labels.astype(logits.dtype))
    correct = (logits > 0) == (labels == 1)
  else:
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    correct = jnp.argmax(logits, -1) == labels
  return jnp.mean(loss), jnp.mean(correct)


@dataclasses.dataclass(frozen=True)
class Training:
  model: nn.Module
  optimizer: str
  learning_rate: float
  num_epochs: int
  steps_per_epoch: int
  eval_batch: int = 1000  # test examples per forward pass, bounds eval memory


def train_seeds(training: Training, batch_fn: Callable, data, test_x, test_y, seeds):
  """Train one network per seed; returns numpy {train_loss, test_accuracy}: (S, epochs), and
  diverged: (S,), whether a step's loss or parameters were not finite (engine.update: the
  network then keeps its last finite state for the rest of the run).

  batch_fn(data, key, step) -> (images, labels) draws the minibatch of global step
  `step` for the seed whose data key is `key`; data is any pytree of arrays.
  """
  out = seeds_fn(training, batch_fn)(jnp.asarray(seeds, jnp.uint32), data, test_x, test_y)
  return jax.tree.map(np.asarray, out)


def seeds_fn(training: Training, batch_fn: Callable):
  """The compiled program of train_seeds: jit((seeds (S,), data, test_x, test_y) ->
  {train_loss, test_accuracy, diverged}), every seed's whole training in one call."""
  model, tx = training.model, engine.OPTIMIZERS[training.optimizer](training.learning_rate)
  steps = training.steps_per_epoch

  def evaluate(params, test_x, test_y):
    chunks = -(-len(test_y) // training.eval_batch)
    pad = chunks * training.eval_batch - len(test_y)
    xs = jnp.pad(test_x, [(0, pad)] + [(0, 0)] * (test_x.ndim - 1))
    xs = xs.reshape(chunks, training.eval_batch, *test_x.shape[1:])
    logits = jax.lax.map(lambda x: model.apply(params, x), xs)
    logits = logits.reshape(chunks * training.eval_batch, *logits.shape[2:])[:len(test_y)]
    return loss_and_accuracy(logits, test_y)[1]

  def one_seed(seed, data, test_x, test_y):
    init_key, data_key = engine.seed_keys(seed)
    params = model.init(init_key, test_x[:1])

    def loss_fn(params, x, y):
      return loss_and_accuracy(model.apply(params, x), y)[0]

    def step(state, t):
      x, y = batch_fn(data, data_key, t)
      loss, grads = jax.value_and_grad(loss_fn)(state[0], x, y)
      return engine.update(tx, state, loss, grads), loss

    def epoch(carry, e):
      carry, losses = jax.lax.scan(step, carry, e * steps + jnp.arange(steps))
      return carry, (jnp.mean(losses), evaluate(carry[0], test_x, test_y))

    state, (train_loss, test_accuracy) = jax.lax.scan(
        epoch, (params, tx.init(params), jnp.array(False)), jnp.arange(training.num_epochs))
    return dict(train_loss=train_loss, test_accuracy=test_accuracy, diverged=state[2])

  return jax.jit(jax.vmap(one_seed, in_axes=(0, None, None, None)))


def seed_results(out) -> list[dict]:
  """train_seeds' output as one dict per seed: final test accuracy, divergence and the
  curves."""
  return [dict(test_accuracy=float(accuracy[-1]), diverged=bool(diverged),
               curves=dict(test_accuracy=[float(v) for v in accuracy],
                           train_loss=[float(v) for v in loss]))
          for accuracy, loss, diverged in zip(out["test_accuracy"], out["train_loss"],
                                              out["diverged"])]


def num_params(training: Training, example) -> int:
  """Trainable parameters of training.model on inputs shaped like `example`."""
  shapes = jax.eval_shape(training.model.init, jax.random.key(0), example[:1])
  return sum(int(np.prod(a.shape)) for a in jax.tree.leaves(shapes))
