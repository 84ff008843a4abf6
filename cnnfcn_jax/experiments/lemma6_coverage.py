"""Lemma 6: how wide must the paper's CNN be for its filters to cover every k-pattern?

For each k and width q (a grid around q*(k, δ)), draw many paper initialisations W in
{±1/k}^{q×k} at once (vmapped) and measure the fraction for which
  (a) every pattern z is the filter of some unit (N(z) >= 1), and the constructed u*
      reaches zero hinge loss on all 2^k window patterns;
  (b) Lemma 6's event holds: N(z) >= q / 2^{k+1} for every z (guaranteed w.p. >= 1 - δ
      at q >= q*).
One row per (k, q) with counts and 95% Wilson intervals.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from cnnfcn_jax import checks, outputs, tasks, theory


def validate(c):
  checks.nonempty_tuple("ks", c.ks, checks.positive_int)
  if max(c.ks) > 12:
    checks.fail("ks", c.ks, "every k <= 12 (q* grows like 2^k k)")
  checks.positive_float("delta", c.delta)
  if c.delta >= 1:
    checks.fail("delta", c.delta, "a failure probability in (0, 1)")
  checks.nonempty_tuple("width_factors", c.width_factors, checks.positive_float)
  checks.positive_int("num_inits", c.num_inits, minimum=2)
  checks.positive_int("inits_per_batch", c.inits_per_batch)
  checks.choice("target", c.target, tasks.TARGETS)
  checks.positive_int("task_seed", c.task_seed, minimum=0)
  checks.positive_int("seed", c.seed, minimum=0)


def widths_for(c, k):
  q_star = theory.lemma6_width_threshold(k, c.delta)
  return sorted({max(1, int(round(f * q_star))) for f in c.width_factors})


def coverage_stats(key, k, q, truth_table, num_inits, inits_per_batch):
  """Per-init (covered, u* zero loss, Lemma 6 event, ||u*||^2) for num_inits paper inits."""
  b = jnp.full((q,), 1.0 / k - 1.0)

  def one_init(init_key):
    W = jax.random.rademacher(init_key, (q, k), jnp.result_type(float)) / k
    counts = theory.pattern_counts(W)
    u_star = theory.readout_star(W, truth_table, 0, 1)[0]
    h = theory.window_pattern_outputs(W, b, u_star)
    g = jnp.asarray(truth_table, h.dtype)
    zero_loss = jnp.all(jnp.maximum(0.0, 1.0 - g * h) <= 1e-5)
    return (theory.covers_all_patterns(counts), zero_loss, theory.lemma6_event(counts, q),
            theory.readout_star_norm_sq(counts, k))

  keys = jax.random.split(key, num_inits)
  return jax.device_get(jax.jit(lambda ks: jax.lax.map(one_init, ks, batch_size=inits_per_batch))(keys))


def run(c, checkpoint=outputs.Checkpoint()) -> list[dict]:
  return checkpoint.run_units(
      [(f"k{k}-q{q}", q * k, lambda k=k, q=q: [coverage_row(c, k, q)])
       for k in c.ks for q in widths_for(c, k)], "coverage")


def coverage_row(c, k, q) -> dict:
  """Counts and intervals of the coverage events for one (k, q)."""
  root = jax.random.key(c.seed)
  table = tasks.make_task(k, k, c.target, task_seed=c.task_seed).truth_table
  key = jax.random.fold_in(jax.random.fold_in(root, k), q)
  covered, zero_loss, event, norm_sq = coverage_stats(key, k, q, table, c.num_inits,
                                                      c.inits_per_batch)
  row = dict(k=k, q=q, q_star=theory.lemma6_width_threshold(k, c.delta), delta=c.delta,
             num_inits=c.num_inits, target=c.target)
  for name, hits in (("covered", covered), ("zero_loss", zero_loss), ("lemma6_event", event)):
    count = int(np.sum(hits))
    row[name] = count
    row[name + "_fraction"] = count / c.num_inits
    row[name + "_wilson95"] = list(theory.wilson_interval(count, c.num_inits))
  finite = norm_sq[np.isfinite(norm_sq)]
  row["u_star_norm_sq_mean"] = float(finite.mean()) if len(finite) else None
  row["u_star_norm_sq_max_under_event"] = (float(norm_sq[event].max()) if event.any() else None)
  row["u_star_norm_sq_bound"] = theory.readout_star_norm_bound(k, q)
  return row
