"""Figure 1: test accuracy against parameter count, CNN-2/4/6 and FCN-2/4/6.

  python -m cnnfcn_jax.main --config=configs/params_vs_accuracy.py --workdir=runs/params
  python -m cnnfcn_jax.main --config=configs/params_vs_accuracy.py:quick --workdir=/tmp/params
  python -m cnnfcn_jax.main --config=configs/params_vs_accuracy.py:paper \
      --config.cifar10_dir=/data/cifar-10-batches-py --workdir=runs/params_paper   # GPU

The default runs on the embedded MNIST digits, a quick stand-in for the paper's CIFAR-10
(the report says so); `:paper` is the paper's setting on a CIFAR-10 directory. Every
setting, with our choices marked [choice], is in
cnnfcn_jax/experiments/params_vs_accuracy.py:default_config.
"""

from cnnfcn_jax.experiments.params_vs_accuracy import default_config


def get_config(variant=""):
  return default_config(variant)
