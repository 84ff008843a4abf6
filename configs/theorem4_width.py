"""Theorem 4: how does GD's success probability from the paper's init grow with width q?

  python -m cnnfcn_jax.main --config=configs/theorem4_width.py --workdir=runs/theorem4
  python -m cnnfcn_jax.main --config=configs/theorem4_width.py:quick --workdir=/tmp/theorem4
"""

import ml_collections


def get_config(variant=""):
  c = ml_collections.ConfigDict()
  c.experiment = "theorem4_width"
  c.n = 12  # [choice] input size; training enumerates all 2^n inputs (population GD)
  c.k = 3  # [choice] pattern size
  c.target = "parity"
  c.task_seed = 0
  c.archs = ("cnn", "lcn")
  c.widths = (2, 4, 8, 16, 32, 64)  # [choice] widths q
  c.seeds = tuple(range(100))  # [choice] initialisations per width (success part)
  c.bound_seeds = tuple(range(10))  # [choice] initialisations per width (bound part)
  c.num_steps = 200  # [choice] T
  c.log_every = 50  # [choice]
  c.learning_rate = 1.0  # [choice] practical GD step for the success part
  c.epsilon = 0.05  # [choice] success: population accuracy >= 1 - epsilon
  c.activation_bound = 1.0  # [choice] c, the bound on |σ| in Theorem 4's terms
  c.precision = "float64"  # [choice] exact values are claimed: float64 throughout
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":
    c.n = 8
    c.widths = (4, 16)
    c.seeds = tuple(range(8))
    c.bound_seeds = (0, 1)
    c.num_steps = 20
    c.log_every = 10
  elif variant:
    raise ValueError(f"configs/theorem4_width.py: unknown variant {variant!r}; use '' or 'quick'")
  return c
