"""Figure 1: test accuracy against number of parameters for CNN-d and FCN-d, d in {2,4,6}.

The paper trains on CIFAR-10 (dataset = "cifar10", read from config.cifar10_dir) with
RMSprop for 125 epochs. Without CIFAR-10, dataset = "digits" runs the same sweep on the
embedded 5,000 MNIST digits: a quick stand-in, labelled as such in the report. One row
per (arch, depth, width, seed).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from cnnfcn_jax import checks, data, image_models, image_train, outputs

DATASETS = ("digits", "cifar10")


def default_config(variant: str) -> ml_collections.ConfigDict:
  """configs/params_vs_accuracy.py: SPEC §7; [choice] marks our defaults."""
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


def validate(c):
  checks.choice("dataset", c.dataset, DATASETS)
  if c.dataset == "cifar10" and not c.cifar10_dir:
    checks.fail("cifar10_dir", c.cifar10_dir, "the cifar-10-batches-py directory when "
                "config.dataset = 'cifar10' (e.g. --config.cifar10_dir=/data/cifar-10-batches-py)")
  checks.fraction("test_fraction", c.test_fraction)
  checks.seed("data_seed", c.data_seed)
  checks.nonempty_tuple("archs", c.archs,
                        lambda f, v: checks.choice(f, v, image_models.DEEP_ARCHS))
  checks.nonempty_tuple("depths", c.depths, lambda f, v: checks.positive_int(f, v, minimum=2))
  for arch in c.archs:
    checks.nonempty_tuple(f"widths.{arch}", c.widths[arch], checks.positive_int)
  checks.choice("optimizer", c.optimizer, tuple(image_train.OPTIMIZERS))
  checks.positive_float("learning_rate", c.learning_rate)
  checks.positive_int("num_epochs", c.num_epochs)
  checks.positive_int("batch_size", c.batch_size)
  checks.seeds("seeds", c.seeds)
  # A bad data file fails here, before anything is compiled or written.
  (train_x, _), (test_x, _) = dataset(c.dataset, c.cifar10_dir, c.test_fraction, c.data_seed)
  if len(test_x) == 0:
    checks.fail("test_fraction", c.test_fraction, "a fraction leaving test images")
  if c.batch_size > len(train_x):
    checks.fail("batch_size", c.batch_size, f"at most the {len(train_x)} training images")


@functools.lru_cache(maxsize=2)
def dataset(name, cifar10_dir, test_fraction, data_seed):
  """((train images, labels), (test images, labels)); images float32 NHWC in [0, 1]."""
  if name == "digits":
    images, labels = data.load_embedded_digits()
    parts = data.split_pool(images[..., None], labels, test_fraction, data_seed)
  else:
    parts = tuple(data.load_cifar10(cifar10_dir, split) for split in ("train", "test"))
  return tuple((images.astype(np.float32) / 255.0, labels) for images, labels in parts)


def run(c, checkpoint=outputs.Checkpoint()) -> list[dict]:
  units = [(f"{arch}-d{depth}-w{width}", depth * width * (9 if arch == "cnn" else 1),
            lambda arch=arch, depth=depth, width=width: network_rows(c, arch, depth, width))
           for arch in c.archs for depth in c.depths for width in c.widths[arch]]
  return checkpoint.run_units(units, "network")


def network_rows(c, arch, depth, width) -> list[dict]:
  (train_x, train_y), (test_x, test_y) = dataset(c.dataset, c.cifar10_dir, c.test_fraction,
                                                 c.data_seed)
  batch, count = c.batch_size, len(train_y)
  steps = count // batch  # each epoch visits a fresh permutation, dropping the remainder

  def batch_fn(train, key, step):
    order = jax.random.permutation(jax.random.fold_in(key, step // steps), count)
    index = jax.lax.dynamic_slice(order, ((step % steps) * batch,), (batch,))
    return train[0][index], train[1][index]

  model = image_models.DeepNet(arch, depth, width, num_classes=10)
  training = image_train.Training(model, c.optimizer, c.learning_rate, c.num_epochs, steps)
  out = image_train.train_seeds(training, batch_fn, (jnp.asarray(train_x), jnp.asarray(train_y)),
                                jnp.asarray(test_x), jnp.asarray(test_y), c.seeds)
  params = image_train.num_params(training, test_x)
  return [dict(arch=arch, depth=depth, width=width, seed=seed, dataset=c.dataset,
               num_params=params, **result)
          for seed, result in zip(c.seeds, image_train.seed_results(out))]
