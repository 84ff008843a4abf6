"""The image trainer: it learns, seeds are replicates, losses are right, one pinned step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import image_models, image_train


def separable_batch(_, key, step):
  """Label = whether the left half of a 4x4 image is brighter: learnable in a few steps."""
  x = jax.random.uniform(jax.random.fold_in(key, step), (32, 4, 4, 1))
  return x, (x[:, :, :2].sum((1, 2, 3)) > x[:, :, 2:].sum((1, 2, 3))).astype(jnp.int32)


@pytest.mark.slow
def test_training_learns_and_seeds_are_replicates():
  test_x, test_y = separable_batch(None, jax.random.key(99), 0)
  training = image_train.Training(image_models.DeepNet("fcn", 2, 16, num_classes=2),
                                   "adam", 1e-2, num_epochs=3, steps_per_epoch=40,
                                   eval_batch=10)
  out = image_train.train_seeds(training, separable_batch, (), test_x, test_y, [0, 1, 2])
  assert out["test_accuracy"].shape == (3, 3)
  assert np.all(out["test_accuracy"][:, -1] >= 0.85)
  assert np.all(out["train_loss"][:, -1] < out["train_loss"][:, 0])
  alone = image_train.train_seeds(training, separable_batch, (), test_x, test_y, [1])
  np.testing.assert_allclose(alone["train_loss"][0], out["train_loss"][1], rtol=1e-5)
  assert not np.allclose(out["train_loss"][0], out["train_loss"][1])


def test_binary_and_multiclass_losses():
  logits = jnp.array([2.0, -1.0, 0.5])
  loss, acc = image_train.loss_and_accuracy(logits, jnp.array([1, 0, 0]))
  np.testing.assert_allclose(loss, np.mean(np.log1p(np.exp([-2.0, -1.0, 0.5]))), rtol=1e-6)
  assert acc == pytest.approx(2 / 3)
  loss, acc = image_train.loss_and_accuracy(jnp.eye(3) * 5.0, jnp.array([0, 1, 0]))
  assert acc == pytest.approx(2 / 3) and loss > 0


# Pinned output of a small CNN-2 over two AdaDelta steps, seeds 0 and 1 (float32): the
# epoch's mean loss (at init and after one step) and the test accuracy after both. They
# change when the numerics change (seed_keys, init, optimiser, loss, minibatches). Update
# them only when such a change is intended, and say why in the commit message.
GOLDEN_LOSS = [0.68630135, 0.78419930]
GOLDEN_TEST_ACCURACY = [0.625, 0.4375]


def test_golden_training_steps():
  test_x, test_y = separable_batch(None, jax.random.key(99), 0)
  training = image_train.Training(image_models.DeepNet("cnn", 2, 4, num_classes=2),
                                   "adadelta", 1.0, num_epochs=1, steps_per_epoch=2,
                                   eval_batch=32)
  out = image_train.train_seeds(training, separable_batch, (), test_x, test_y, [0, 1])
  np.testing.assert_allclose(out["train_loss"][:, 0], GOLDEN_LOSS, rtol=1e-5)
  np.testing.assert_array_equal(out["test_accuracy"][:, 0], GOLDEN_TEST_ACCURACY)


def test_a_seed_that_diverged_once_keeps_its_last_finite_network_when_later_batches_are_finite():
  """One NaN minibatch for seed 1 at step 3 (of 3 epochs x 3 steps): it must stay marked
  diverged and keep the network of steps 0 ... 2, while seeds 0 and 2 train as without it."""
  test_x, test_y = separable_batch(None, jax.random.key(99), 0)
  poisoned_key = jax.random.key_data(image_train.engine.seed_keys(1)[1])

  def poisoned_batch(data, key, step):
    x, y = separable_batch(data, key, step)
    hit = (step == 3) & jnp.all(jax.random.key_data(key) == poisoned_key)
    return jnp.where(hit, jnp.nan, x), y

  def training(num_epochs):
    return image_train.Training(image_models.DeepNet("fcn", 2, 8, num_classes=2), "adam",
                                3e-2, num_epochs=num_epochs, steps_per_epoch=3, eval_batch=32)

  seeds = [0, 2, 1]
  out = image_train.train_seeds(training(3), poisoned_batch, (), test_x, test_y, seeds)
  clean = image_train.train_seeds(training(3), separable_batch, (), test_x, test_y, seeds)
  assert out["diverged"].tolist() == [False, False, True]
  assert not clean["diverged"].any()
  # Steps 0 ... 2 (the first epoch) are finite; every later epoch ends on that network.
  np.testing.assert_array_equal(out["test_accuracy"][2], clean["test_accuracy"][2, 0])
  assert not np.array_equal(clean["test_accuracy"][2], clean["test_accuracy"][2, 0])
  assert np.isnan(out["train_loss"][2, 1])  # the epoch of the NaN batch
  for name in ("train_loss", "test_accuracy"):
    np.testing.assert_array_equal(out[name][:2], clean[name][:2])
