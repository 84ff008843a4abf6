"""Theorem 12: does the FCN's initial gradient on a k-parity vanish like 1/C(n, k)?

  python -m cnnfcn_jax.main --config=configs/theorem12_gradient.py --workdir=runs/theorem12
  python -m cnnfcn_jax.main --config=configs/theorem12_gradient.py:quick --workdir=/tmp/theorem12
"""

import ml_collections


def get_config(variant=""):
  c = ml_collections.ConfigDict()
  c.experiment = "theorem12_gradient"
  c.k = 3  # [choice] the pattern size of the fixed-k schedule
  c.ns_fixed_k = (6, 8, 10, 12, 14, 16, 24, 32, 48, 64)  # [choice]
  c.ns_log_k = (4, 8, 16, 32, 64)  # k = log2 n; n >= 2k as Theorem 12 needs
  c.archs = ("fcn", "cnn", "lcn")
  c.width = 64  # [choice] width r of the FCN (and q of CNN/LCN)
  # [choice] FCN readout u ~ N(0, 1/r) times this, so |h(x)| < 1 on every input and the
  # hinge is active everywhere, as Theorem 12 assumes (measured: hinge_active_fraction).
  c.readout_scale = 0.1
  # [choice] FCN biases b ~ N(0, bias_scale^2). With b = 0 a ReLU unit is t/2 + |t|/2 of
  # t = <w, x>, whose Fourier weight sits on degree 1 and even degrees only: the gradient
  # on an odd-k parity (k >= 3) would be exactly 0 for a reason unrelated to Theorem 12.
  c.bias_scale = 1.0
  c.num_inits = 16  # [choice] initialisations per n (expectations over the init)
  c.exact_max_n = 16  # enumerate all 2^n inputs up to this n, Monte Carlo beyond
  c.mc_batch = 8192  # [choice] inputs per Monte Carlo batch
  c.mc_pairs = 16  # [choice] independent batch pairs per init
  # [choice] The closed form (docs/spec.md §8) at every power of two n with 2k <= n <= this,
  # for every arch at one Gaussian init: W entries N(0, 1/fan_in) (fan_in = n for the FCN,
  # k for CNN/LCN), biases N(0, bias_scale^2), E u^2 = readout_scale^2 / width.
  c.closed_form_max_n = 4096
  c.seed = 0
  c.precision = "float64"  # [choice] exact values are claimed: float64 throughout
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":
    c.ns_fixed_k = (6, 8, 12)
    c.ns_log_k = (4, 8)
    c.num_inits = 4
    c.exact_max_n = 8
    c.mc_batch = 256
    c.mc_pairs = 4
    c.closed_form_max_n = 64
  elif variant:
    raise ValueError(f"configs/theorem12_gradient.py: unknown variant {variant!r}; use '' or 'quick'")
  return c
