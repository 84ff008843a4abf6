"""Section 5, nonlocal: label = parity of the sum of the first, middle and last digits.

  python -m cnnfcn_jax.main --config=configs/mnist_nonlocal.py --workdir=runs/mnist_nonlocal
  python -m cnnfcn_jax.main --config=configs/mnist_nonlocal.py:quick --workdir=/tmp/mnist_nonlocal
  python -m cnnfcn_jax.main --config=configs/mnist_nonlocal.py:paper \\
      --config.mnist_dir=/data/mnist --workdir=runs/mnist_nonlocal_paper   # full MNIST, GPU

Every setting, with our choices marked [choice], is in
cnnfcn_jax/experiments/mnist_sequences.py:sequence_config (shared with mnist_local.py).
"""

from cnnfcn_jax.experiments.mnist_sequences import sequence_config


def get_config(variant=""):
  return sequence_config("nonlocal", variant)
