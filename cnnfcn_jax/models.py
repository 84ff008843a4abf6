"""Depth-2 CNN, LCN and FCN of the paper (docs/spec.md §2) as pure functions over dicts.

Shapes (q = width of CNN/LCN, r = width of FCN, J = n - k + 1 windows):
  CNN  W (q, k)     b (q,)     u (J, q)   h(x) = sum_j <u_j, σ(W x_{j..j+k-1} + b)>
  LCN  W (J, q, k)  b (J, q)   u (J, q)   h(x) = sum_j <u_j, σ(W_j x_{j..j+k-1} + b_j)>
  FCN  W (r, n)     b (r,)     u (r,)     h(x) = sum_i u_i σ(<w_i, x> + b_i)
Inputs x are (m, n); outputs (m,).

The LCN is the CNN without weight sharing (`lcn_from_cnn` ties its filters back; tested
equal). The dense CNN runs as a 1-D convolution, the LCN as a per-window einsum.

Pattern tables. On x in {±1}^n every window is one of 2^k patterns, so the first layer
only needs σ(W z + b) for the 2^k patterns z. `apply_*_table` take per-window pattern
ids (from `pattern_ids`) instead of x and give the same outputs as the dense path in
O(2^k q J + m J) work instead of O(m J q k). The m J part, reading the table at every
window's id, runs in table_kernels (native kernels on the CPU).

Every architecture is one `Architecture` record in ARCHITECTURES (init shapes, apply,
pattern-table apply, parameter groups, label, colour); the rest of the package reads the
record and never tests an architecture's name. A new architecture is one record here.

Initialisation draws every hidden unit from its own key, `fold_in(key, unit)`, so the
first q units of a wide network are exactly a width-q network: widths nest, which is
what lets the sweep train many widths as zero-padded copies of one shape.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from cnnfcn_jax import networks, table_kernels

# Init schemes (docs/spec.md §2):
#   "paper"     Theorem 4: W uniform on {±1/k}, b = 1/k - 1 (not trained), u = 0.
#   "gaussian"  W ~ N(0, 1/fan_in) i.i.d., b = 0, u ~ N(0, 1/readout_fan_in); i.i.d.
#               entries make the FCN's init permutation invariant (Theorem 12).
#   "gaussian_bias"  "gaussian" with b ~ N(0, 1) i.i.d. (still permutation invariant). With
#               b = 0 a ReLU unit t/2 + |t|/2 of t = <w, x> has no odd Fourier weight above
#               degree 1, so an odd-k parity (k >= 3) starts from a zero population gradient.
#   "sparse_bias"  "gaussian_bias" with each unit's W on `support` input coordinates drawn
#               at random (N(0, 1/support) there, exactly 0 elsewhere, trained like the rest):
#               Edelman et al. 2023's sparse initialisation (docs/spec.md §2).
# Each Architecture record lists the schemes it takes.
PARAM_GROUPS = ("W", "b", "u")
MAX_TABLE_K = 12  # the pattern table has 2^k rows; beyond this the dense path is cheaper
ACTIVATIONS = {"relu": jax.nn.relu, "tanh": jnp.tanh, "softplus": jax.nn.softplus}


def num_windows(n: int, k: int) -> int:
  return n - k + 1


def window_index(n: int, k: int) -> np.ndarray:
  """(J, k) integer array: row j lists the coordinates of window j."""
  return np.arange(num_windows(n, k))[:, None] + np.arange(k)[None, :]


# ----------------------------------------------------------------------------- apply


def apply_cnn(params, x, activation="relu"):
  """CNN (Def. 1): one (q, k) filter bank shared by all n-k+1 windows.

  Computed as a 1-D convolution, which XLA runs faster than a per-window einsum.
  """
  W, b, u = params["W"], params["b"], params["u"]
  pre_mqJ = jax.lax.conv_general_dilated(x[:, None, :], W[:, None, :], (1,), "VALID")
  return jnp.einsum("mqj,jq->m", ACTIVATIONS[activation](pre_mqJ + b[None, :, None]), u)


def apply_lcn(params, x, activation="relu"):
  """LCN (Def. 11): the CNN with its own (q, k) filter bank per window."""
  W, b, u = params["W"], params["b"], params["u"]
  windows_mJk = x[:, window_index(x.shape[1], W.shape[-1])]
  pre_mJq = jnp.einsum("mjk,jqk->mjq", windows_mJk, W) + b
  return jnp.einsum("mjq,jq->m", ACTIVATIONS[activation](pre_mJq), u)


def apply_fcn(params, x, activation="relu"):
  """FCN (Def. 2): h(x) = sum_i u_i σ(<w_i, x> + b_i)."""
  hidden_mr = ACTIVATIONS[activation](x @ params["W"].T + params["b"])
  return hidden_mr @ params["u"]


# ------------------------------------------------------------------- pattern tables


def all_patterns(k: int, dtype=None) -> jnp.ndarray:
  """(2^k, k) array in {±1}: row p is the pattern whose id is p (bit i set <=> z_i = -1)."""
  bits = (np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1
  return jnp.asarray(1 - 2 * bits, dtype=dtype or jnp.result_type(float))


def pattern_id_dtype(k: int):
  """The smallest integer type of the table kernels that holds a pattern id in [0, 2^k)."""
  return jnp.uint8 if k <= 8 else jnp.uint16 if k <= 16 else jnp.int32


def sign_ids(z):
  """int32 pattern ids of the ±1 (or signed) vectors along z's last axis: bit i set <=>
  z_i < 0. The one place the id convention is packed (all_patterns unpacks it)."""
  k = z.shape[-1]
  return jnp.sum((z < 0).astype(jnp.int32) << jnp.arange(k, dtype=jnp.int32), axis=-1)


def pattern_ids(x, k: int) -> jnp.ndarray:
  """(m, J) ids in [0, 2^k) of every window of x in {±1}^n, of pattern_id_dtype(k) (a
  quarter of int32's memory traffic at k <= 8); inverse of all_patterns."""
  return sign_ids(x[:, window_index(x.shape[1], k)]).astype(pattern_id_dtype(k))


def apply_cnn_table(params, ids, activation="relu", readout=table_kernels.readout):
  """apply_cnn on pattern ids (m, J); equals apply_cnn(params, x) for ids = pattern_ids(x, k).

  `readout` reads the (J, 2^k) table at the ids (table_kernels.readout_xla: XLA's path).
  """
  W, b, u = params["W"], params["b"], params["u"]
  hidden_Pq = ACTIVATIONS[activation](all_patterns(W.shape[-1], W.dtype) @ W.T + b)
  return readout(u @ hidden_Pq.T, ids)


def apply_lcn_table(params, ids, activation="relu", readout=table_kernels.readout):
  """apply_lcn on pattern ids (m, J); one activation table per window (readout: as CNN)."""
  W, b, u = params["W"], params["b"], params["u"]
  pre_JPq = jnp.einsum("pk,jqk->jpq", all_patterns(W.shape[-1], W.dtype), W) + b[:, None, :]
  return readout(jnp.einsum("jpq,jq->jp", ACTIVATIONS[activation](pre_JPq), u), ids)


@dataclasses.dataclass(frozen=True)
class Architecture:
  """Everything the package needs to know about one depth-2 architecture.

  unit_shapes(n, k) gives the per-unit shapes of (W, b, u); unit_axes says where the
  unit axis sits in each full array (e.g. the CNN's u is (J, q): axis 1). fan_in(n, k)
  and readout_fan_in(n, k, width) scale the gaussian init. `readout` is the group that
  width masks zero out; `first_layer` the group whose movement is measured.
  """
  name: str
  label: str
  color: str
  apply: Callable
  apply_table: Callable | None  # on pattern ids; None: not window-based
  init_schemes: tuple[str, ...]
  unit_shapes: Callable[[int, int], tuple[tuple[int, ...], ...]]
  unit_axes: tuple[int, int, int]
  fan_in: Callable[[int, int], int]
  readout_fan_in: Callable[[int, int, int], int]
  windows_per_filter: Callable[[int, int], int]
  readout: str = "u"
  first_layer: str = "W"

  @property
  def windowed(self) -> bool:
    """Whether h is a sum over windows of k consecutive coordinates (CNN, LCN)."""
    return self.apply_table is not None


ARCHITECTURES = {
    "cnn": Architecture(
        "cnn", "CNN", "tab:blue", apply_cnn, apply_cnn_table, ("paper", "gaussian"),
        unit_shapes=lambda n, k: ((k,), (), (num_windows(n, k),)), unit_axes=(0, 0, 1),
        fan_in=lambda n, k: k, readout_fan_in=lambda n, k, width: num_windows(n, k) * width,
        windows_per_filter=num_windows),
    "lcn": Architecture(
        "lcn", "LCN", "tab:green", apply_lcn, apply_lcn_table, ("paper", "gaussian"),
        unit_shapes=lambda n, k: ((num_windows(n, k), k), (num_windows(n, k),),
                                  (num_windows(n, k),)), unit_axes=(1, 1, 1),
        fan_in=lambda n, k: k, readout_fan_in=lambda n, k, width: num_windows(n, k) * width,
        windows_per_filter=lambda n, k: 1),
    "fcn": Architecture(
        "fcn", "FCN", "tab:red", apply_fcn, None, ("gaussian", "gaussian_bias", "sparse_bias"),
        unit_shapes=lambda n, k: ((n,), (), ()), unit_axes=(0, 0, 0),
        fan_in=lambda n, k: n, readout_fan_in=lambda n, k, width: width,
        windows_per_filter=lambda n, k: 1),
}
ARCHS = tuple(ARCHITECTURES)


# A config may name a network of its own (config.<arch>.network): the paper's claims about
# windowed and fully-connected networks are ours to judge, so these are False for it.
def windowed(arch: str) -> bool:
  """Whether arch is our CNN or LCN."""
  return arch in ARCHITECTURES and ARCHITECTURES[arch].windowed


def fully_connected(arch: str) -> bool:
  """Whether arch is our FCN."""
  return arch in ARCHITECTURES and not ARCHITECTURES[arch].windowed


def arch_order(arch: str) -> tuple[int, str]:
  """Sort key: ours in ARCHS' order, then networks of one's own by name."""
  return (ARCHS.index(arch) if arch in ARCHITECTURES else len(ARCHS), arch)


def unit_axes(arch: str) -> dict:
  """{group: (its unit axis,)} of arch: networks.pad and networks.mask's unit_axes."""
  return {g: (a,) for g, a in zip(PARAM_GROUPS, ARCHITECTURES[arch].unit_axes)}


def apply(arch, params, inputs, activation="relu", table=False):
  """Dispatch by name (or a networks.Family: its own apply on x); `inputs` are pattern ids
  when `table`, else x."""
  if not isinstance(arch, str):
    return arch.apply(params, inputs)
  record = ARCHITECTURES[arch]
  return (record.apply_table if table else record.apply)(params, inputs, activation)


def prepare(arch: str, params, activation="relu", table=False):
  """What a network's outputs read, built once and then read chunk by chunk of samples
  (apply_prepared): on the table path its (J, 2^k) pattern table, else its parameters."""
  if table:
    return ARCHITECTURES[arch].apply_table(params, None, activation,
                                           readout=lambda table_JP, _: table_JP)
  return params  # (a networks.Family's too: apply_prepared runs its apply)


def apply_prepared(arch: str, prepared, inputs, activation="relu", table=False):
  """apply(arch, params, inputs, activation, table) from prepare(arch, params, ...)."""
  if table:
    return table_kernels.readout(prepared, inputs)
  return apply(arch, prepared, inputs, activation)


def uses_table(arch: str, k: int) -> bool:
  """Whether the exact pattern-table path is available and cheaper than the dense one."""
  return ARCHITECTURES[arch].windowed and k <= MAX_TABLE_K


# ------------------------------------------------------------------------------ init


def _unit_params(record, scheme, key, n, k, width, dtype, support=0, unit_readout=False):
  """One hidden unit's parameters, in the per-unit shapes (W, b, u) of `record`."""
  w_shape, b_shape, u_shape = record.unit_shapes(n, k)
  key_w, key_u = jax.random.split(key)
  if scheme == "sparse_bias":  # a Gaussian unit on `support` coordinates of its own
    chosen = jax.random.permutation(jax.random.fold_in(key, 3), w_shape[-1])[:support]
    mask = jnp.zeros(w_shape, dtype).at[..., chosen].set(1)
    W, b, u = _unit_params(record, "gaussian_bias", key, n, k, width, dtype,
                           unit_readout=unit_readout)
    return W * mask * jnp.sqrt(record.fan_in(n, k) / support).astype(dtype), b, u
  if scheme == "paper":
    W = jax.random.rademacher(key_w, w_shape, dtype) / k
    b = jnp.full(b_shape, 1.0 / k - 1.0, dtype)
    u = jnp.zeros(u_shape, dtype)
  else:  # gaussian, gaussian_bias
    W = jax.random.normal(key_w, w_shape, dtype) / jnp.sqrt(record.fan_in(n, k))
    b = (jax.random.normal(jax.random.fold_in(key, 2), b_shape, dtype)
         if scheme == "gaussian_bias" else jnp.zeros(b_shape, dtype))
    readout_fan_in = 1 if unit_readout else record.readout_fan_in(n, k, width)
    # In dtype: a traced width would otherwise take the square root in float32.
    u = jax.random.normal(key_u, u_shape, dtype) / jnp.sqrt(jnp.asarray(readout_fan_in, dtype))
  return W, b, u


def init_params(arch, key, n, k, width, scheme="paper", max_width=None, dtype=None,
                support=0, unit_readout=False):
  """Parameters of `arch` with `width` hidden units (per window for CNN/LCN).

  support: the input coordinates of each unit under "sparse_bias" (1 ... fan_in).
  unit_readout: the gaussian schemes draw u ~ N(0, 1) instead of N(0, 1/readout_fan_in) (the
  maximal-update parametrisation, whose readout multiplier 1/width the trainer applies).

  With `max_width` the arrays have max_width units and units >= width are exactly zero
  (and contribute nothing); `width` may then be a traced integer. Unit l is drawn from
  fold_in(key, l), so the result does not depend on max_width.
  """
  if arch not in ARCHITECTURES:
    raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
  record = ARCHITECTURES[arch]
  if scheme not in record.init_schemes:
    raise ValueError(f"init scheme for {arch} must be one of {record.init_schemes}, "
                     f"got {scheme!r}")
  if scheme == "sparse_bias" and not 1 <= support <= record.fan_in(n, k):
    raise ValueError(f"support = {support!r}: the sparse_bias init needs 1 ... "
                     f"{record.fan_in(n, k)} input coordinates per unit")
  dtype = dtype or jnp.result_type(float)
  max_width = width if max_width is None else max_width
  units = jnp.arange(max_width)
  keys = jax.vmap(lambda l: jax.random.fold_in(key, l))(units)
  per_unit = jax.vmap(lambda kk: _unit_params(record, scheme, kk, n, k, width, dtype, support,
                                              unit_readout))(keys)
  live = units < width
  # vmap put the unit axis first; move it to the architecture's layout.
  return {group: jnp.moveaxis(jnp.where(live.reshape((-1,) + (1,) * (a.ndim - 1)), a, 0),
                              0, axis)
          for group, a, axis in zip(PARAM_GROUPS, per_unit, record.unit_axes)}


def lcn_from_cnn(params, n):
  """The LCN whose every window carries the CNN's filters (tied weights)."""
  J = num_windows(n, params["W"].shape[-1])
  return {"W": jnp.broadcast_to(params["W"], (J,) + params["W"].shape),
          "b": jnp.broadcast_to(params["b"], (J,) + params["b"].shape), "u": params["u"]}


def fcn_from_lcn(params, n):
  """The FCN of width J*q whose first layer is the banded embedding of an LCN.

  Public for what it shows: every LCN (so every CNN) is an FCN, so the separation is one
  of learning, not of expressiveness (tests/models_test.py checks the outputs agree)."""
  W_Jqk = params["W"]
  J, q, k = W_Jqk.shape
  W_full = jnp.zeros((J, q, n), W_Jqk.dtype)
  rows = np.arange(J)[:, None, None]
  cols = window_index(n, k)[:, None, :]
  W_full = W_full.at[rows, np.arange(q)[None, :, None], cols].set(W_Jqk)
  return {"W": W_full.reshape(J * q, n), "b": params["b"].reshape(J * q),
          "u": params["u"].reshape(J * q)}


@functools.lru_cache(maxsize=None)  # one value per setting: a sweep keyed on it compiles once
def family(arch: str, k: int, scheme: str = "gaussian",
           activation: str = "relu") -> networks.Family:
  """Our `arch` with filters of size k as a networks.Family: its dense path, every group
  trained at the learning rate. train.Sweep(arch=family(...)) trains what arch=arch with
  trainable ("W", "b", "u") trains; the name keeps the table path and the step rules."""
  if arch not in ARCHITECTURES or scheme not in ARCHITECTURES[arch].init_schemes or (
      scheme == "sparse_bias"):  # needs a support per unit
    raise ValueError(f"models.family: arch = {arch!r}, scheme = {scheme!r}: expected one of "
                     f"{ARCHS} and one of its init schemes other than sparse_bias")
  record = ARCHITECTURES[arch]
  return networks.Family(
      f"{arch}-{scheme}", lambda key, n, width: init_params(arch, key, n, k, width, scheme),
      lambda params, x: record.apply(params, x, activation), unit_axes(arch))
