"""n-sequence MNIST (docs/spec.md §6), non-local label: the parity of the first, middle and
last digits. Every other setting is configs/mnist_local.py's sequence_config.

  python -m cnnfcn_jax.main --config=configs/mnist_nonlocal.py --workdir=runs/mnist_nonlocal
  python -m cnnfcn_jax.main --config=configs/mnist_nonlocal.py:quick --workdir=/tmp/mnist_nonlocal
  python -m cnnfcn_jax.main --config=configs/mnist_nonlocal.py:paper \\
      --config.mnist_dir=/data/mnist --workdir=runs/mnist_nonlocal_paper   # full MNIST, GPU
"""

import pathlib
import runpy


def get_config(variant=""):
  local = runpy.run_path(str(pathlib.Path(__file__).with_name("mnist_local.py")))
  return local["sequence_config"]("nonlocal", variant)
