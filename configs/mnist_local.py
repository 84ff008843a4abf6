"""Section 5, local: label = parity of the sum of the 3 consecutive digits in the middle.

  python -m cnnfcn_jax.main --config=configs/mnist_local.py --workdir=runs/mnist_local
  python -m cnnfcn_jax.main --config=configs/mnist_local.py:quick --workdir=/tmp/mnist_local
  python -m cnnfcn_jax.main --config=configs/mnist_local.py:paper \\
      --config.mnist_dir=/data/mnist --workdir=runs/mnist_local_paper   # full MNIST, GPU

Every setting, with our choices marked [choice], is in
cnnfcn_jax/experiments/mnist_sequences.py:sequence_config (shared with mnist_nonlocal.py).
"""

from cnnfcn_jax.experiments.mnist_sequences import sequence_config


def get_config(variant=""):
  return sequence_config("local", variant)
