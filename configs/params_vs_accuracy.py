"""Figure 1 (docs/spec.md §7): test accuracy against number of parameters, CNN-d vs FCN-d.

  python -m cnnfcn_jax.main --config=configs/params_vs_accuracy.py --workdir=runs/params
  python -m cnnfcn_jax.main --config=configs/params_vs_accuracy.py:quick --workdir=/tmp/params
  python -m cnnfcn_jax.main --config=configs/params_vs_accuracy.py:paper \
      --config.cifar10_dir=/data/cifar-10-batches-py --workdir=runs/params_paper   # GPU

The default runs on the embedded MNIST digits, a quick stand-in for the paper's CIFAR-10
(the report says so); `:paper` is the paper's setting on a CIFAR-10 directory.
"""

import ml_collections


def get_config(variant=""):
  """docs/spec.md §7; [choice] marks our defaults, the rest are the paper's."""
  c = ml_collections.ConfigDict()
  c.experiment = "params_vs_accuracy"
  c.dataset = "digits"  # [choice] embedded MNIST digits; "cifar10" is the paper's
  c.cifar10_dir = ""  # the cifar-10-batches-py directory, for dataset = "cifar10"
  c.test_fraction = 0.2  # [choice] embedded digits held out for testing
  c.data_seed = 0  # [choice] the embedded split
  c.archs = ("cnn", "fcn")
  c.depths = (2, 4, 6)  # the paper's
  c.widths = ml_collections.ConfigDict(dict(  # [choice] channels (CNN) / units (FCN)
      cnn=(4, 8, 16), fcn=(32, 128, 512)))
  c.optimizer = "rmsprop"  # the paper's
  c.learning_rate = 1e-3  # [choice]
  c.num_epochs = 10  # [choice] the paper trains 125 epochs on CIFAR-10
  c.batch_size = 128  # [choice]
  c.seeds = (0, 1)  # [choice]
  c.precision = "float32"  # [choice] "float32" or "float64" for the whole run
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":  # smoke test: seconds, not a result
    c.depths = (2, 4)
    c.widths = ml_collections.ConfigDict(dict(cnn=(2, 4), fcn=(8, 16)))
    c.num_epochs = 1
    c.batch_size = 64
  elif variant == "paper":  # CIFAR-10 as in the paper, for a GPU
    c.dataset = "cifar10"  # needs --config.cifar10_dir
    c.widths = ml_collections.ConfigDict(dict(  # [choice]
        cnn=(16, 32, 64, 128, 256), fcn=(256, 512, 1024, 2048, 4096)))
    c.num_epochs = 125
    c.seeds = (0, 1, 2)
  elif variant:
    raise ValueError(f"unknown variant {variant!r}; use '', 'quick' or 'paper'")
  return c
