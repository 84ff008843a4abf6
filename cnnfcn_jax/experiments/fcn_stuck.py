"""GD on the FCN stays stuck on the k = log2 n parity; the CNN on the same task does not.

For each n (a power of two), k = log2 n; the FCN and the CNN are trained by full-batch GD
(sweep engine of the separation experiment) and their curves record the correlation of
the output with the target, E[f h] on held-out inputs, and the distance the first layer
has moved from its initialisation.
"""

from __future__ import annotations

import math

from cnnfcn_jax import checks, outputs
from cnnfcn_jax.experiments import separation


def validate(c):
  checks.nonempty_tuple("ns", c.ns, checks.positive_int)
  if any(n < 4 or n & (n - 1) for n in c.ns):
    checks.fail("ns", c.ns, "powers of two >= 4 (k = log2 n)")
  separation.validate_task(c, c.ns, int(math.log2(max(c.ns))))
  separation.validate_training(c)


def run(c, checkpoint=outputs.Checkpoint()) -> list[dict]:
  return separation.run_groups(c, [(arch, locality, n, int(math.log2(n)))
                                   for locality in c.localities for arch in c.archs
                                   for n in c.ns], checkpoint)
