"""The full-batch loss, training accuracy and gradient of one network of a sweep (train.py):
in one pass over the m samples, or in chunks up to a run-time m.

Chunked (train.Sweep.train_capacity given), a seed's samples are drawn at the capacity and
only the first m train: the hinge loss and its gradient are sums over chunks (as many of
each size in SAMPLE_CHUNKS as fit in what is left of m, the last size rounding up), only
the chunks that hold real samples are computed, and padding rows weigh zero. Each chunk
reads the network prepared once (models.prepare: on the table path its pattern table), and
the summed gradient is pulled back to the parameters once, so a chunk costs its samples
and little else. m is then an argument, not a shape: one compiled program serves every m
up to the capacity, and the result is the one-pass result up to the order of summation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from cnnfcn_jax import engine, models

# [choice] Chunk sizes, largest first. A chunk is one vmapped pass (fewer, larger ones run
# faster); the smallest bounds the padding rows computed to 63.
SAMPLE_CHUNKS = (512, 64)


def chunk_sizes(capacity: int) -> tuple[int, ...]:
  """The chunk sizes of a sweep drawing `capacity` samples (0: one pass, no chunks)."""
  if not capacity:
    return ()
  return tuple(c for c in SAMPLE_CHUNKS if c <= capacity) or SAMPLE_CHUNKS[-1:]


def samples_drawn(num_train: int, capacity: int) -> int:
  """Training samples a seed draws: num_train, or the capacity in whole small chunks (the
  last chunk may start at any multiple of the small size below m)."""
  if not capacity:
    return num_train
  small = chunk_sizes(capacity)[-1]
  return -(-capacity // small) * small


def full_batch_fn(arch: str, activation: str, table: bool, chunks: tuple[int, ...]):
  """full_batch(params_of, trained, inputs, y, num_train, with_accuracy=True) -> (mean
  hinge loss, training accuracy, gradient in trained's tree) over the first num_train of
  inputs (M, ...) and labels y (M,); params_of(trained) gives the network's parameters.
  chunks: chunk_sizes (() : one pass over all M rows, M = num_train)."""

  def loss_and_output(trained, params_of, inputs, y):
    h = models.apply(arch, params_of(trained), inputs, activation, table)
    return engine.hinge_loss(h, y), h

  def chunk_loss(prepared, inputs, y, real):
    h = models.apply_prepared(arch, prepared, inputs, activation, table)
    return jnp.sum(jnp.where(real, jax.nn.relu(1.0 - y * h), 0.0)), h

  one_pass = jax.value_and_grad(loss_and_output, has_aux=True)
  chunk_grad = jax.value_and_grad(chunk_loss, has_aux=True)

  def full_batch(params_of, trained, inputs, y, num_train, with_accuracy=True):
    if not chunks:
      (loss, h), grads = one_pass(trained, params_of, inputs, y)
      return loss, engine.accuracy(h, y), grads
    prepared, pullback = jax.vjp(
        lambda t: models.prepare(arch, params_of(t), activation, table), trained)

    def add_chunks(size, first):
      def add(c, sums):
        start = first + c * size
        rows = lambda a: jax.lax.dynamic_slice_in_dim(a, start, size)  # noqa: E731
        y_c = rows(y)
        real = start + jnp.arange(size) < num_train
        (loss, h), grads = chunk_grad(prepared, rows(inputs), y_c, real)
        correct = (jnp.sum(real & (engine.predictions(h) == y_c), dtype=jnp.int32)
                   if with_accuracy else jnp.int32(0))
        return jax.tree.map(jnp.add, sums, (loss, correct, grads))
      return add

    sums = (jnp.zeros((), y.dtype), jnp.int32(0), jax.tree.map(jnp.zeros_like, prepared))
    first = jnp.int32(0)
    for i, size in enumerate(chunks):
      left = num_train - first
      count = -(-left // size) if i == len(chunks) - 1 else left // size
      sums = jax.lax.fori_loop(0, count, add_chunks(size, first), sums)
      first = first + count * size
    loss, correct, grads = sums
    m = num_train.astype(y.dtype)
    (grads,) = pullback(jax.tree.map(lambda g: g / m, grads))
    # correct / num_train: the float32 ratio that engine.accuracy's mean gives.
    return loss / m, correct / num_train, grads

  return full_batch
