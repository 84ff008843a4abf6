"""Your own network as a value: a family of networks indexed by width, which the full-batch
sweep (train.Sweep(arch=family)) trains over seeds x widths in one jitted call, as it
trains the CNN, LCN and FCN of models.py.

  Family(name, init, apply, unit_axes)
    init(key, n, width) -> params   one network of `width` hidden units, any pytree, any names
    apply(params, x) -> h           x (m, n) -> (m,)
    unit_axes                       a pytree of params' structure: per leaf, the tuple of
                                    axes that index hidden units (() for none, e.g. a
                                    readout bias); (0, 1) for a (q, q) hidden-to-hidden matrix
  from_flax(make_module, unit_axes) the Family of a flax module whose width is a field
  check(family, n)                  refuses a wrong apply shape or unit axes that do not
                                    pad, before the trainer's program is built

Many widths share one array shape: each network is drawn at its own width and padded with
zero units up to the widest (pad), and every forward pass zeroes the units beyond its width
(mask), so the padding contributes nothing and gets a zero gradient. A network in a width
sweep is then the network trained alone. `check` verifies the declared axes do that: the
padded network's outputs equal the unpadded one's.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


# The fields of a trainer's spec that a Family cannot honour, at the values it needs: its
# init draws the network and all of it trains, on x itself, with no step scaled.
FAMILY_FIELDS = (("init", ""), ("trainable", ()), ("table", False), ("population", False),
                 ("first_layer_step_scale", 1.0), ("parametrisation", "standard"))


@dataclasses.dataclass(frozen=True, eq=False)
class Family:
  """A family of networks indexed by width (module docstring). Compared and hashed by
  identity, so that a sweep keyed on it compiles once per family."""
  name: str
  init: Callable
  apply: Callable
  unit_axes: Any


def leaf_axes(unit_axes, params) -> list[tuple[int, ...]]:
  """unit_axes as a list matching jax.tree.leaves(params), each a tuple of ints."""
  axes = jax.tree.structure(params).flatten_up_to(unit_axes)
  return [tuple(a) if isinstance(a, (tuple, list)) else (a,) for a in axes]


def pad(unit_axes, params, max_width: int):
  """params of one network with zero units appended along its unit axes up to max_width."""
  leaves, treedef = jax.tree.flatten(params)
  padded = [jnp.pad(leaf, [(0, max_width - leaf.shape[i]) if i in axes else (0, 0)
                           for i in range(leaf.ndim)]) if axes else leaf
            for leaf, axes in zip(leaves, leaf_axes(unit_axes, params))]
  return treedef.unflatten(padded)


def mask(unit_axes, params, width):
  """params with every unit >= width (a traced integer allowed) zeroed along its axes."""
  leaves, treedef = jax.tree.flatten(params)
  masked = []
  for leaf, axes in zip(leaves, leaf_axes(unit_axes, params)):
    for axis in axes:
      live = (jnp.arange(leaf.shape[axis]) < width).astype(leaf.dtype)
      leaf = leaf * live.reshape([-1 if i == axis else 1 for i in range(leaf.ndim)])
    masked.append(leaf)
  return treedef.unflatten(masked)


@functools.lru_cache(maxsize=None)  # a spec is checked whenever it is made or replaced
def check(family: Family, n: int, field: str = "arch"):
  """Raise ValueError naming `field` unless family's networks at widths 2 and 3 give outputs
  of shape (m,), their unit axes hold the width, and padding to width 5 leaves the outputs
  unchanged (eagerly on 8 inputs, before the trainer's program is built)."""
  def refuse(what):
    raise ValueError(f"{field} = Family {family.name!r}: {what}")
  if not isinstance(family, Family):
    raise ValueError(f"{field} = {family!r}: expected a networks.Family (or a name of "
                     "models.ARCHITECTURES)")
  x = jax.random.rademacher(jax.random.key(0), (8, n), jnp.result_type(float))
  # Eagerly, op by op: the trainer's program is not built.
  for width in (2, 3):
    try:
      params = family.init(jax.random.key(1), n, width)
    except Exception as error:  # noqa: BLE001  (any failure of the user's init)
      refuse(f"init(key, n = {n}, width = {width}) fails ({type(error).__name__}: {error})")
    try:
      axes = leaf_axes(family.unit_axes, params)
    except (ValueError, TypeError) as error:
      refuse(f"unit_axes does not match the structure of init's parameters ({error})")
    for leaf, its_axes in zip(jax.tree.leaves(params), axes):
      if any(not 0 <= a < np.ndim(leaf) or np.shape(leaf)[a] != width for a in its_axes):
        refuse(f"a parameter of shape {np.shape(leaf)} has no axis of size {width} at "
               f"unit axes {its_axes} (init at width {width})")
    try:
      h = family.apply(params, x)
    except Exception as error:  # noqa: BLE001  (any failure of the user's apply)
      refuse(f"apply on 8 inputs of size n = {n} fails ({type(error).__name__}: {error})")
    if np.shape(h) != (8,):
      refuse(f"apply gave outputs of shape {np.shape(h)} for 8 inputs; expected (8,) "
             "(one output per input)")
    wrong = "a unit axis is missing or wrong in unit_axes"
    wide = mask(family.unit_axes, pad(family.unit_axes, params, 5), width)
    try:
      padded = family.apply(wide, x)
    except Exception as error:  # noqa: BLE001  (any failure of the user's apply)
      refuse(f"padded to width 5 along unit_axes, apply fails ({type(error).__name__}: "
             f"{error}): {wrong}")
    if np.shape(padded) != (8,) or not np.allclose(padded, h, rtol=1e-5, atol=1e-6):
      refuse(f"padding its unit axes with zero units changes the outputs: {wrong}")


def check_spec(spec, trainer: str):
  """Raise ValueError naming the trainer and field unless spec's Family passes `check` and
  every FAMILY_FIELDS field spec has holds the value a Family needs."""
  check(spec.arch, spec.task.n, f"{trainer}: arch")
  for field, default in FAMILY_FIELDS:
    if hasattr(spec, field) and getattr(spec, field) != default:
      raise ValueError(f"{trainer}: {field} = {getattr(spec, field)!r} with arch a "
                       f"networks.Family: expected {default!r} (the family's init draws the "
                       "network, and all of it trains)")


def from_flax(make_module: Callable, unit_axes, name: str | None = None) -> Family:
  """The Family of flax modules make_module(width) (a module whose width is a field,
  called on x (m, n), giving (m,) or (m, 1)); unit_axes: as Family's, over the module's
  `params` collection. apply reads the width from the parameters, so a padded network
  runs as the module of its padded width."""
  def init(key, n, width):
    return make_module(width).init(key, jnp.zeros((1, n)))["params"]

  def apply(params, x):
    leaves, axes = jax.tree.leaves(params), leaf_axes(unit_axes, params)
    width = next(leaf.shape[a[0]] for leaf, a in zip(leaves, axes) if a)
    return make_module(width).apply({"params": params}, x).reshape(x.shape[0])

  return Family(name or getattr(make_module, "__name__", "flax"), init, apply, unit_axes)


def width_buckets(widths, bucketed=True) -> tuple[tuple[int, ...], ...]:
  """Indices of `widths` grouped by the power of two at or above each width, smallest
  first: each group trains padded to its own largest width (one group if not bucketed)."""
  if not bucketed:
    return (tuple(range(len(widths))),)
  groups = {}
  for i, width in enumerate(widths):
    groups.setdefault(1 << (width - 1).bit_length(), []).append(i)
  return tuple(tuple(groups[key]) for key in sorted(groups))


def join_buckets(parts, buckets, unit_axes, max_width):
  """One seed's outputs of every bucket (dicts of arrays (bucket widths, ...)) as one dict
  in the widths' order, `params0` and `params` zero-padded to max_width units (the padding
  a single bucket of every width would have)."""
  if len(parts) == 1:  # one bucket of every width, in order: nothing to pad or reorder
    return parts[0]
  order = np.argsort(np.concatenate([np.asarray(b) for b in buckets]))
  padded = [{name: jax.vmap(lambda p: pad(unit_axes, p, max_width))(a)
             if name in ("params0", "params") else a for name, a in part.items()}
            for part in parts]
  return jax.tree.map(lambda *a: jnp.concatenate(a)[order], *padded)
