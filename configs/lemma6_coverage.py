"""Lemma 6: at which width q do the paper's random filters cover all 2^k patterns?

  python -m cnnfcn_jax.main --config=configs/lemma6_coverage.py --workdir=runs/lemma6
  python -m cnnfcn_jax.main --config=configs/lemma6_coverage.py:quick --workdir=/tmp/lemma6
"""

import ml_collections


def get_config(variant=""):
  c = ml_collections.ConfigDict()
  c.experiment = "lemma6_coverage"
  c.ks = (2, 3, 4, 5, 6, 7, 8)  # pattern sizes
  c.delta = 0.1  # [choice] failure probability of Lemma 6's guarantee
  # [choice] widths q = factor * q*(k, delta), rounded
  c.width_factors = (1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0, 2.0)
  c.num_inits = 2000  # [choice] initialisations per (k, q)
  c.inits_per_batch = 250  # [choice] inits vmapped at once (bounds memory)
  c.target = "parity"  # g whose u* is built
  c.task_seed = 0  # draws g when target = "random"
  c.seed = 0  # draws the initialisations
  # [choice] float32: the measured quantities are counts of integer events (exact in any
  # precision), and float64 would double the memory (k = 8 needs 33 GB there).
  c.precision = "float32"
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":
    c.ks = (2, 3, 4)
    c.width_factors = (1 / 16, 1 / 4, 1.0)
    c.num_inits = 100
  elif variant:
    raise ValueError(f"configs/lemma6_coverage.py: unknown variant {variant!r}; use '' or 'quick'")
  return c
