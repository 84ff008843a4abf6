"""Counting a steps-to-success call's evaluation errors (online.py), chunk by chunk with an
early exit.

A network with more errors so far than the whole batch allows cannot succeed; once that
holds for every network still to succeed, the rest of the batch is skipped. On the dense
path of a CPU the seeds are counted one after another, each stopping on its own, so a check
reads the whole batch only for the seeds with a network close to the target (3x faster for
the FCN); the table path, and any accelerator, counts every seed at once (the table path's
per-network tables and readout kernel cost more in small pieces than the chunks they would
save; an accelerator's parallel width would go unused). The recorded steps are those
of the full evaluation (tested).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from cnnfcn_jax import engine, models


def error_counter(arch: str, activation: str, table: bool, num_chunks: int, chunk: int):
  """count_errors(trained, frozen, evals, pending, limit) -> (S, R) int32 errors of every
  network on its seed's evaluation batch (evals: (S, num_chunks x chunk) inputs and labels,
  padding labels 0), stopping once no pending network can still end at or below `limit`
  (the counts are then partial, above it)."""

  def eval_model(trained, frozen):
    """What an evaluation reads of one network (models.prepare): on the table path its
    pattern table, built once per evaluation and then read chunk by chunk."""
    return models.prepare(arch, {**frozen, **trained}, activation, table)

  def eval_output(model, inputs):
    return models.apply_prepared(arch, model, inputs, activation, table)

  def chunk_errors(eval_models, evals, j):
    """(R,) error counts of one seed's networks on chunk j of its evaluation batch
    (padding labels are 0: never counted)."""
    inputs, y = (jax.lax.dynamic_slice_in_dim(a, j * chunk, chunk) for a in evals)
    wrong = lambda model: jnp.sum((engine.predictions(eval_output(model, inputs)) != y)  # noqa: E731
                                  & (y != 0), dtype=jnp.int32)
    return jax.vmap(wrong)(eval_models)

  def count_errors(trained, frozen, evals, pending, limit):
    def group_count(args):
      trained, frozen, evals, pending = args
      eval_models = jax.vmap(jax.vmap(eval_model, in_axes=(0, None)))(trained, frozen)

      def cond(carry):
        j, counts = carry
        return (j < num_chunks) & jnp.any(pending & (counts <= limit))

      def body(carry):
        j, counts = carry
        return j + 1, counts + jax.vmap(chunk_errors, in_axes=(0, 0, None))(
            eval_models, evals, j)

      return jax.lax.while_loop(cond, body, (0, jnp.zeros(pending.shape, jnp.int32)))[1]

    args = (trained, frozen, evals, pending)
    if table or jax.default_backend() != "cpu":  # an accelerator counts every seed at once
      return group_count(args)
    one_seed = jax.tree.map(lambda a: a[:, None], args)  # (S, 1, ...): groups of one seed
    return jax.lax.map(group_count, one_seed)[:, 0]

  return count_errors
