"""k-pattern tasks (docs/spec.md §3): f(x) = g(x_I) with x uniform on {±1}^n.

`local`: I = k consecutive coordinates starting at `position` (default: the middle).
`nonlocal`: the non-local twin, the same g on k coordinates spread over the input so
that no window of k consecutive coordinates holds two of them; the coordinates are
drawn once from the task seed.

A task is a value: train.Sweep trains on any frozen dataclass with n, k and
sample(key, m) -> (x (m, n), y (m,) in {±1}), and target(x) where labels are exact. Two
that are not k-patterns show the seam: Staircase (nested parities) and BiasedParity (a
parity of inputs that are +1 with probability p).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from cnnfcn_jax import engine, models

TARGETS = ("parity", "random")
LOCALITIES = ("local", "nonlocal")


@dataclasses.dataclass(frozen=True)
class Task:
  """A k-pattern target on {±1}^n. Hashable, so jitted code can close over it."""
  n: int
  k: int
  coordinates: tuple[int, ...]   # the k coordinates g reads, in order
  truth_table: tuple[int, ...]   # g(z) in {±1} for pattern id p (bit i set <=> z_i = -1)

  def target(self, x):
    """f(x) in {±1} for x (m, n) in {±1}^n."""
    return labels(jnp.asarray(x), *self.arrays())

  def arrays(self):
    """(coordinates (k,) int32, truth table (2^k,) float): the task as arguments of `labels`."""
    return (jnp.asarray(self.coordinates, jnp.int32),
            jnp.asarray(self.truth_table, jnp.result_type(float)))

  def sample(self, key, m, dtype=None):
    """(x, y): m inputs uniform on {±1}^n and their labels."""
    x = engine.sample_inputs(key, m, self.n, dtype)
    return x, self.target(x)


def labels(x, coordinates, truth_table):
  """g(x_I) for x (m, n) in {±1}^n, I = coordinates (k,) and g = truth_table (2^k,), indexed
  by pattern id. Taking arrays, not a Task, lets one compiled program serve every task of
  the same n and k (a local task and its non-local twin)."""
  return truth_table.astype(x.dtype)[models.sign_ids(x[:, coordinates])]


def middle_position(n: int, k: int) -> int:
  return (n - k) // 2


def min_nonlocal_n(k: int) -> int:
  """Smallest n with room for k coordinates pairwise at least k apart."""
  return (k - 1) * k + 1


def spread_coordinates(n: int, k: int, rng: np.random.Generator) -> tuple[int, ...]:
  """k coordinates, sorted, pairwise >= k apart (so no k-window holds two), drawn uniformly."""
  slack = n - min_nonlocal_n(k)
  base = np.sort(rng.choice(slack + k, size=k, replace=False))
  return tuple(int(c) for c in base + np.arange(k) * (k - 1))


def make_task(n, k, target="parity", locality="local", position=None, task_seed=0) -> Task:
  """The task of (n, k, g, locality). Arguments are assumed valid (see config checks)."""
  if locality == "local":
    start = middle_position(n, k) if position is None else position
    coordinates = tuple(range(start, start + k))
  else:
    coordinates = spread_coordinates(n, k, np.random.default_rng([task_seed, n, k]))
  if target == "parity":
    # parity = product of the k bits: -1 exactly when an odd number of them are -1.
    table = tuple(int(1 - 2 * (bin(p).count("1") % 2)) for p in range(2**k))
  else:
    # Seeded by (task_seed, k) only, so local and non-local twins share the same g.
    table = tuple(int(v) for v in np.random.default_rng([task_seed, k]).choice([-1, 1], 2**k))
  return Task(n=n, k=k, coordinates=coordinates, truth_table=table)


@dataclasses.dataclass(frozen=True)
class Staircase:
  """y = sign(x_c1 + x_c1 x_c2 + ... + x_c1 ... x_ck) (+1 at 0), x uniform on {±1}^n: a
  sum of nested parities of the coordinates c, not a function of a window's pattern alone
  when c is spread out, and learnable by degree (Abbe et al. 2022's staircase)."""
  n: int
  coordinates: tuple[int, ...]

  @property
  def k(self) -> int:
    return len(self.coordinates)

  def target(self, x):
    steps = jnp.cumprod(jnp.asarray(x)[:, list(self.coordinates)], axis=1).sum(1)
    return jnp.where(steps >= 0, 1.0, -1.0).astype(jnp.asarray(x).dtype)

  def sample(self, key, m, dtype=None):
    x = engine.sample_inputs(key, m, self.n, dtype)
    return x, self.target(x)


@dataclasses.dataclass(frozen=True)
class BiasedParity:
  """The parity of the coordinates c, x_i = +1 with probability p independently (p = 1/2:
  the uniform k-parity); away from 1/2 the low-degree correlations are no longer zero."""
  n: int
  coordinates: tuple[int, ...]
  p: float

  @property
  def k(self) -> int:
    return len(self.coordinates)

  def target(self, x):
    return jnp.prod(jnp.asarray(x)[:, list(self.coordinates)], axis=1)

  def sample(self, key, m, dtype=None):
    dtype = dtype or jnp.result_type(float)
    x = jnp.where(jax.random.uniform(key, (m, self.n)) < self.p, 1.0, -1.0).astype(dtype)
    return x, self.target(x)
