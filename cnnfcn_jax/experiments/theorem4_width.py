"""Theorem 4: success probability of GD from the paper's init against width q.

Part 1 (success): CNN and LCN from the paper's init, trained by full-batch GD on the
exact population loss (all 2^n inputs), many seeds x all widths in one sweep per arch;
success = population accuracy >= 1 - epsilon. One row per (arch, width, seed).
Part 2 (bound): for the same (n, k, q, T), GD with Theorem 4's step η = sqrt(n)/(sqrt(q) T);
the measured average population loss (1/T) sum_t L(h_t) beside the theorem's three terms.
One row per (arch, width, seed) with part = "bound".
"""

from __future__ import annotations

import numpy as np

from cnnfcn_jax import checks, outputs, tasks, theory, train
from cnnfcn_jax.experiments import separation


def validate(c):
  checks.positive_int("n", c.n)
  checks.positive_int("k", c.k)
  if c.k > c.n or c.n > 20:
    checks.fail("n", c.n, f"k = {c.k} <= n <= 20 (training enumerates all 2^n inputs)")
  checks.choice("target", c.target, tasks.TARGETS)
  checks.positive_int("task_seed", c.task_seed, minimum=0)
  checks.nonempty_tuple("archs", c.archs, lambda f, v: checks.choice(f, v, ("cnn", "lcn")))
  checks.nonempty_tuple("widths", c.widths, checks.positive_int)
  checks.nonempty_tuple("seeds", c.seeds, lambda f, v: checks.positive_int(f, v, minimum=0))
  checks.nonempty_tuple("bound_seeds", c.bound_seeds,
                        lambda f, v: checks.positive_int(f, v, minimum=0))
  checks.positive_int("num_steps", c.num_steps)
  checks.positive_int("log_every", c.log_every)
  if c.num_steps % c.log_every:
    checks.fail("log_every", c.log_every, f"a divisor of config.num_steps = {c.num_steps}")
  checks.positive_float("learning_rate", c.learning_rate)
  checks.positive_float("epsilon", c.epsilon)
  if c.epsilon >= 1:
    checks.fail("epsilon", c.epsilon, "an error level in (0, 1)")
  checks.positive_float("c", c.c)


def make_sweep(c, arch, widths, learning_rate, log_every):
  task = tasks.make_task(c.n, c.k, c.target, "local", task_seed=c.task_seed)
  return train.Sweep(arch=arch, task=task, widths=tuple(widths), init="paper",
                     trainable=("W", "u"), optimizer="gd", learning_rate=learning_rate,
                     num_steps=c.num_steps, log_every=log_every, num_train=1, num_test=1,
                     table=c.k <= separation.MAX_TABLE_K, population=True)


def run(c, checkpoint=outputs.Checkpoint()) -> list[dict]:
  units = [(f"success-{arch}", len(c.seeds) * sum(c.widths),
            lambda arch=arch: success_rows(c, arch)) for arch in c.archs]
  units += [(f"bound-{arch}-q{q}", len(c.bound_seeds) * q,
             lambda arch=arch, q=q: bound_rows(c, arch, q)) for arch in c.archs for q in c.widths]
  return checkpoint.run_units(units, "theorem4")


def success_rows(c, arch) -> list[dict]:
  """All seeds x widths trained with the practical step; one row per network."""
  out = train.run_sweep(make_sweep(c, arch, c.widths, c.learning_rate, c.log_every), c.seeds)
  rows = []
  for s, seed in enumerate(c.seeds):
    for w, width in enumerate(c.widths):
      accuracy = float(out["test_accuracy"][s, w, -1])
      rows.append(dict(part="success", arch=arch, n=c.n, k=c.k, width=width, seed=seed,
                       learning_rate=c.learning_rate, num_steps=c.num_steps,
                       population_accuracy=accuracy,
                       success=bool(accuracy >= 1 - c.epsilon), epsilon=c.epsilon,
                       final_loss=float(out["train_loss"][s, w, -1]),
                       diverged=bool(out["diverged"][s, w, -1]),
                       first_layer_distance=float(out["first_layer_distance"][s, w, -1])))
  return rows


def bound_rows(c, arch, q) -> list[dict]:
  """GD with Theorem 4's step at width q, loss recorded every step; one row per seed."""
  eta = theory.theorem4_step_size(c.n, q, c.num_steps)
  out = train.run_sweep(make_sweep(c, arch, (q,), eta, 1), c.bound_seeds)
  terms = theory.theorem4_bound_terms(c.n, c.k, q, c.num_steps, c.c)
  rows = []
  for s, seed in enumerate(c.bound_seeds):
    losses = out["train_loss"][s, 0]  # population loss at steps 0..T
    rows.append(dict(part="bound", arch=arch, n=c.n, k=c.k, width=q, seed=seed,
                     learning_rate=eta, num_steps=c.num_steps,
                     average_loss=float(np.mean(losses[:-1])), final_loss=float(losses[-1]),
                     bound_terms=list(terms), bound=float(sum(terms)),
                     diverged=bool(out["diverged"][s, 0, -1]),
                     first_layer_distance=float(out["first_layer_distance"][s, 0, -1])))
  return rows
