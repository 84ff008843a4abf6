"""Digit and CIFAR-10 loaders on tiny files written here, and n-digit sequences."""

import gzip
import pickle
import struct

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import data


def idx_bytes(array, dims=None):
  array = np.asarray(array, np.uint8)
  dims = array.ndim if dims is None else dims
  return (struct.pack(">HBB", 0, 0x08, dims) + struct.pack(f">{array.ndim}I", *array.shape)
          + array.tobytes())


def write_mnist(directory, split="train", count=6, gz=False, images=None, labels=None):
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (count, 28, 28)) if images is None else images
  labels = rng.integers(0, 10, count) if labels is None else labels
  names = data.IDX_FILES[split]
  for name, raw in zip(names, (idx_bytes(images), idx_bytes(labels))):
    path = directory / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(raw) if gz else raw)
  return np.asarray(images, np.uint8), np.asarray(labels)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_load_plain_or_gzipped(tmp_path, gz):
  images, labels = write_mnist(tmp_path, "test", gz=gz)
  got_images, got_labels = data.load_idx_digits(str(tmp_path), "test")
  np.testing.assert_array_equal(got_images, images)
  np.testing.assert_array_equal(got_labels, labels)


def test_idx_errors_name_the_file_and_the_fault(tmp_path):
  with pytest.raises(data.DataError, match="train-images-idx3-ubyte.*file not found"):
    data.load_idx_digits(str(tmp_path), "train")
  write_mnist(tmp_path)
  images = tmp_path / "train-images-idx3-ubyte"
  raw = images.read_bytes()
  images.write_bytes(raw[:-5])
  with pytest.raises(data.DataError, match=r"train-images-idx3-ubyte: header says shape "
                     r"\(6, 28, 28\) = 4704 bytes, file has 4699 \(truncated\)"):
    data.load_idx_digits(str(tmp_path), "train")
  images.write_bytes(b"\x00\x00\x0d\x03" + raw[4:])  # float32 type code
  with pytest.raises(data.DataError, match="train-images-idx3-ubyte: not an IDX file"):
    data.load_idx_digits(str(tmp_path), "train")
  images.write_bytes(raw[:10])
  with pytest.raises(data.DataError, match="train-images-idx3-ubyte: truncated header"):
    data.load_idx_digits(str(tmp_path), "train")
  write_mnist(tmp_path, labels=np.arange(5))
  with pytest.raises(data.DataError, match="train-labels-idx1-ubyte: 5 labels for 6 images"):
    data.load_idx_digits(str(tmp_path), "train")
  write_mnist(tmp_path, labels=np.array([0, 1, 2, 3, 4, 12]))
  with pytest.raises(data.DataError, match="labels must be digits 0..9, found 12"):
    data.load_idx_digits(str(tmp_path), "train")
  (tmp_path / "train-labels-idx1-ubyte").unlink()
  (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
  with pytest.raises(data.DataError, match="train-labels-idx1-ubyte.gz: cannot read"):
    data.load_idx_digits(str(tmp_path), "train")


def write_cifar(directory, count=4):
  rng = np.random.default_rng(1)
  batches = {}
  for name in data.CIFAR_TRAIN + (data.CIFAR_TEST,):
    pixels = rng.integers(0, 256, (count, 3072)).astype(np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, count)]
    with open(directory / name, "wb") as f:
      pickle.dump({b"data": pixels, b"labels": labels}, f)
    batches[name] = pixels, labels
  return batches


def test_cifar_batches_load_as_nhwc_images(tmp_path):
  batches = write_cifar(tmp_path)
  images, labels = data.load_cifar10(str(tmp_path), "train")
  assert images.shape == (20, 32, 32, 3) and labels.shape == (20,)
  pixels, batch_labels = batches["data_batch_2"]
  # CIFAR rows are 1024 red, then 1024 green, then 1024 blue values, each row-major.
  np.testing.assert_array_equal(images[4, 3, 5], pixels[0, [3 * 32 + 5, 1024 + 3 * 32 + 5,
                                                            2048 + 3 * 32 + 5]])
  np.testing.assert_array_equal(labels[4:8], batch_labels)
  test_images, _ = data.load_cifar10(str(tmp_path), "test")
  assert test_images.shape == (4, 32, 32, 3)


def test_cifar_errors_name_the_file_and_the_fault(tmp_path):
  write_cifar(tmp_path)
  (tmp_path / "data_batch_3").unlink()
  with pytest.raises(data.DataError, match="data_batch_3: file not found"):
    data.load_cifar10(str(tmp_path), "train")
  raw = (tmp_path / "test_batch").read_bytes()
  (tmp_path / "test_batch").write_bytes(raw[: len(raw) // 2])
  with pytest.raises(data.DataError, match="test_batch: not a CIFAR-10 python batch"):
    data.load_cifar10(str(tmp_path), "test")
  with open(tmp_path / "test_batch", "wb") as f:
    pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
  with pytest.raises(data.DataError, match=r"test_batch: b'data' must be uint8 of shape "
                     r"\(N, 3072\), got uint8 \(2, 100\)"):
    data.load_cifar10(str(tmp_path), "test")
  with open(tmp_path / "test_batch", "wb") as f:
    pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, f)
  with pytest.raises(data.DataError, match="b'labels' must be 2 classes in 0..9"):
    data.load_cifar10(str(tmp_path), "test")


def test_embedded_digits_are_real_mnist_and_split_into_disjoint_seeded_pools():
  images, labels = data.load_embedded_digits()
  assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
  np.testing.assert_array_equal(np.bincount(labels), [500] * 10)
  assert images[:, :2].mean() * 20 < images[:, 10:18].mean()  # ink in the middle, not the border
  (train_x, train_y), (test_x, test_y) = data.split_pool(images, labels, 0.2, seed=3)
  assert len(train_y) == 4000 and len(test_y) == 1000
  flat = {row.tobytes() for row in train_x}
  assert not any(row.tobytes() in flat for row in test_x)  # the pools share no image
  again = data.split_pool(images, labels, 0.2, seed=3)
  np.testing.assert_array_equal(again[1][0], test_x)
  assert not np.array_equal(data.split_pool(images, labels, 0.2, seed=4)[1][0], test_x)


def test_scaled_digits_keep_their_ink_in_range():
  images, _ = data.load_embedded_digits()
  scaled = data.scale_digits(images[:50], 24, 8)
  assert scaled.shape == (50, 24, 8) and scaled.min() >= 0 and scaled.max() <= 1
  # Linear scaling preserves mean intensity up to the cropped border (blank in MNIST).
  np.testing.assert_allclose(scaled.mean(), images[:50, 2:26, 4:24].mean() / 255, rtol=0.05)


@pytest.mark.parametrize("locality,positions", [("local", (2, 3, 4)), ("nonlocal", (0, 3, 6))])
def test_sequences_place_digits_side_by_side_with_parity_labels(locality, positions):
  assert data.label_positions(7, locality) == positions
  # Hand-made "digits": digit d is a 2x3 image filled with d, so each image column
  # block says which digit sits there.
  pool_labels = jnp.arange(10)
  pool_images = jnp.broadcast_to(pool_labels[:, None, None], (10, 2, 3)).astype(jnp.float32)
  indices = data.draw_sequences(jax.random.key(0), 64, 7, 10)
  images, y = data.sequence_batch(pool_images, pool_labels, indices, locality)
  assert images.shape == (64, 2, 21, 1)
  np.testing.assert_array_equal(images[:, 0, ::3, 0], indices)
  expected = np.asarray(indices)[:, list(positions)].sum(1) % 2
  np.testing.assert_array_equal(y, expected)
  assert 0 < expected.mean() < 1  # both classes occur


def test_sequences_are_deterministic_for_a_key_and_use_the_whole_pool():
  a = data.draw_sequences(jax.random.key(5), 2000, 5, 7)
  np.testing.assert_array_equal(a, data.draw_sequences(jax.random.key(5), 2000, 5, 7))
  assert set(np.unique(a)) == set(range(7))
  assert not np.array_equal(a, data.draw_sequences(jax.random.key(6), 2000, 5, 7))
