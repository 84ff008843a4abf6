"""The core every trainer is built on: the full-batch sweep (train.py), the steps-to-success
call (online.py) and the flax image trainer (image_train.py).

  OPTIMIZERS       optimiser name -> optax constructor of the learning rate
  optimizer        a spec's optimiser: OPTIMIZERS' with the first layer's step scaled (an
                   optax transform chained after it)
  Network          the spec fields every k-pattern trainer shares (its specs extend it)
  seed_keys        seed -> (init key, data key): the one key convention
  sample_inputs    (m, n) inputs uniform on {±1}^n
  init_network     one network's parameters, split into (trained, frozen) groups
  split            parameters -> (trained, frozen) groups
  input_features   x in {±1}^n -> what the model reads (pattern ids on the table path)
  update           one optimiser step (every trainer's), with per-network
                   divergence isolation (a network whose loss or new parameters are not
                   finite keeps its last finite state and is marked diverged)
  hinge_loss, predictions, accuracy: the loss, the sign read-out (+1 at h = 0), its accuracy

and the one call runner of both k-pattern trainers: program_key (what keys a compiled
program), the seeds' padding and the mask of the real ones, the seed axis sharded over
devices and the CPU table kernels built before the call is traced (compile_on_devices),
the block budget of each device kind.
"""

from __future__ import annotations

import dataclasses
import os
import typing

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.experimental import multihost_utils

from cnnfcn_jax import models, networks, table_kernels

if typing.TYPE_CHECKING:
  from cnnfcn_jax.tasks import Task


# "gd" is the paper's full-batch gradient descent, θ <- θ - η ∇L; the rest are optax
# optimisers by their optax names, called with the learning rate and optax's other
# defaults ([choice]; AdaDelta's rho 0.9 and eps 1e-6 are also PyTorch's).
OPTIMIZERS = {
    "gd": optax.sgd,
    "sgd": optax.sgd,
    "momentum": lambda lr: optax.sgd(lr, momentum=0.9),
    "nesterov": lambda lr: optax.sgd(lr, momentum=0.9, nesterov=True),
    "adam": optax.adam,
    "adamw": optax.adamw,
    "adagrad": optax.adagrad,
    "adadelta": optax.adadelta,
    "rmsprop": optax.rmsprop,
    "lamb": optax.lamb,
    "lion": optax.lion,
}
WORD_BITS = 32


@dataclasses.dataclass(frozen=True, kw_only=True)
class Network:
  """What a k-pattern trainer's spec says of its networks (train.Sweep and
  online.OnlineSweep extend it; frozen and hashable, as they key compiled programs)."""
  arch: str  # a name of models.ARCHITECTURES, or a networks.Family (train.Sweep)
  task: Task  # a k-pattern task, or (train.Sweep) any value with n, k and sample(key, m)
  optimizer: str
  init: str = ""  # an init scheme of the architecture ("" for a networks.Family)
  trainable: tuple[str, ...] = ()  # parameter groups trained (() for a Family: all)
  activation: str = "relu"
  # The first layer's step is the learning rate x this (kpattern_config.first_layer_step_scale: 1/J
  # for the CNN's shared kernel, whose gradient sums over all J windows).
  first_layer_step_scale: float = 1.0
  table: bool = False  # pattern-table path (CNN/LCN on {±1} inputs), exact
  init_support: int = 0  # input coordinates per unit of the "sparse_bias" init (else 0)


def seed_keys(seed):
  """(init_key, data_key) of a seed: the one key-split convention of every trainer.

  The initialisation draws from the first key, the data (samples, minibatches) from the
  second, so a seed's network and its data are independent and reproducible.
  """
  init_key, data_key = jax.random.split(jax.random.key(seed))
  return init_key, data_key


def sample_inputs(key, m: int, n: int, dtype=None, packed: bool = False):
  """(m, n) inputs uniform on {±1}^n.

  packed=False: one Rademacher draw per coordinate (the full-batch sweep's samples).
  packed=True: 32 coordinates per random 32-bit word, one draw of the generator per 32
  coordinates (the steps-to-success call, which draws a batch at every step). The two
  give different samples of one key: each trainer keeps its own, so results stay bitwise.
  """
  dtype = dtype or jnp.result_type(float)
  if not packed:
    return jax.random.rademacher(key, (m, n), dtype)
  words = -(-n // WORD_BITS)
  bits = jax.random.bits(key, (m, words, 1), jnp.uint32)
  bits = (bits >> jnp.arange(WORD_BITS, dtype=jnp.uint32)) & 1
  return (1 - 2 * bits.reshape(m, words * WORD_BITS)[:, :n].astype(jnp.int32)).astype(dtype)


def hinge_loss(h, y):
  """Mean of max(0, 1 - y h) (docs/spec.md §1)."""
  return jnp.mean(jax.nn.relu(1.0 - y * h))


def predictions(h):
  """sign(h) in {±1}, predicting +1 at h = 0."""
  return jnp.where(h >= 0, 1.0, -1.0).astype(h.dtype)


def accuracy(h, y):
  """Fraction of sign(h) == y, predicting +1 at h = 0."""
  return jnp.mean(predictions(h) == y)


def init_network(spec: Network, init_key, width, max_width=None, unit_readout=False):
  """(params, trained, frozen) of one network of spec with `width` units (padded with zero
  units up to max_width; unit_readout: u ~ N(0, 1), models.init_params); a
  networks.Family's from its own init, at a static width, all of it trained."""
  if isinstance(spec.arch, networks.Family):
    params = spec.arch.init(init_key, spec.task.n, width)
    return params, params, {}
  params = models.init_params(spec.arch, init_key, spec.task.n, spec.task.k, width, spec.init,
                              max_width, support=spec.init_support, unit_readout=unit_readout)
  trained, frozen = split(params, spec.trainable)
  return params, trained, frozen


def split(params, trainable):
  """(trained, frozen): the groups named in `trainable` and the rest."""
  return ({g: params[g] for g in trainable},
          {g: a for g, a in params.items() if g not in trainable})


def input_features(x, k: int, table: bool):
  """The model's input: x itself, or its per-window pattern ids on the table path."""
  return models.pattern_ids(x, k) if table else x


def scale_group(group: str, scale: float) -> optax.GradientTransformation:
  """An optax transform multiplying the updates of parameter group `group` (where trained)
  by `scale`: the first layer's step rule, chained after the optimiser."""
  def update(updates, state, params=None):
    del params
    return ({**updates, group: updates[group] * scale} if group in updates else updates), state
  return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def optimizer(spec: Network, learning_rate) -> optax.GradientTransformation:
  """The optax optimiser of spec at learning_rate (a traced scalar allowed: rates are a
  run-time axis), with the first layer's step scaled (scale_group) where spec's
  first_layer_step_scale is not 1."""
  base = OPTIMIZERS[spec.optimizer](learning_rate)
  if spec.first_layer_step_scale == 1.0:
    return base
  first = models.ARCHITECTURES[spec.arch].first_layer
  return optax.chain(base, scale_group(first, spec.first_layer_step_scale))


def update(optimizer, state, loss, grads):
  """One optimiser step of state = (trained, opt_state, diverged), isolated per network: the
  one training step of every trainer (the full-batch sweep, the steps-to-success call and
  the image trainer; `optimizer` from engine.optimizer or any optax transform).

  Once the loss or a new parameter is not finite, the network keeps its last finite
  (trained, opt_state) and diverged stays True (a latch: a later finite step does not
  revive it); other networks vmapped beside it are unaffected.
  """
  trained, opt_state, diverged = state
  updates, new_opt_state = optimizer.update(grads, opt_state, trained)
  new_trained = optax.apply_updates(trained, updates)
  finite = jnp.isfinite(loss) & jnp.all(jnp.array(
      [jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(new_trained)]))
  diverged = diverged | ~finite
  keep = lambda old, new: jnp.where(diverged, old, new)  # noqa: E731
  return (jax.tree.map(keep, trained, new_trained),
          jax.tree.map(keep, opt_state, new_opt_state), diverged)


# [choice] Label bits of the programs of networks whose shapes do not depend on k (the
# FCN's): every k up to this shares one program per n (the table has 2^LABEL_BITS entries).
LABEL_BITS = 8


def is_kpattern(task) -> bool:
  """Whether a task is a k-pattern (tasks.Task: labels from its coordinates and truth table,
  passed at run time) rather than one's own (its sampler labels)."""
  return hasattr(task, "truth_table")


def label_bits(spec: Network) -> int:
  """The k a program of spec reads its labels at: the task's k where the architecture's
  shapes depend on it (windowed: CNN, LCN), else at least LABEL_BITS."""
  k = spec.task.k
  return k if models.windowed(spec.arch) else max(k, LABEL_BITS)


def task_arrays(spec: Network):
  """The task's (coordinates, truth table) as call arguments, padded to label_bits(spec):
  the extra coordinates repeat the first and the table ignores their bits, so the labels
  are exactly the task's (tasks.labels)."""
  task, bits = spec.task, label_bits(spec)
  if not is_kpattern(task):  # a task of one's own: its sampler labels (train.py)
    return jnp.zeros((0,), jnp.int32), jnp.zeros((1,), jnp.result_type(float))
  extra = bits - task.k
  coordinates = task.coordinates + task.coordinates[:1] * extra
  table = np.tile(np.asarray(task.truth_table), 2**extra)  # entry p is g(p mod 2^k)
  return (jnp.asarray(coordinates, jnp.int32), jnp.asarray(table, jnp.result_type(float)))


def program_key(spec: Network, **run_time):
  """spec less what its call takes as arguments at run time: the task's coordinates and
  truth table (task_arrays; k becomes label_bits), and the fields in run_time (set to
  placeholders). Specs with equal keys share one compiled program, so a local task and
  its non-local twin compile once, and the FCN's k = 2, 3, 4 at one n too."""
  task = spec.task  # a task of one's own is part of the program
  if is_kpattern(task):
    task = dataclasses.replace(task, k=label_bits(spec), coordinates=(), truth_table=())
  return dataclasses.replace(spec, task=task, **run_time)


def pad_seeds(seeds, multiple: int) -> tuple[np.ndarray, np.ndarray]:
  """(padded (P,) uint32, counted (P,) bool): seeds padded with repeats of the last seed to
  a multiple of `multiple`, and which of them are real (the padding is dropped, and a
  stop does not count it)."""
  seeds = np.asarray(seeds, np.uint32)
  extra = (-len(seeds)) % multiple
  return (np.concatenate([seeds, np.repeat(seeds[-1:], extra)]),
          np.arange(len(seeds) + extra) < len(seeds))


# [choice] The memory a vmapped block of seeds may take. On a CPU a block's working set
# should stay within about CPU_BLOCK_BYTES (cache-sized: on the 2-core CPU, blocks of 4-16
# seeds of the bench sweep run 1.7x faster than one block of 64, whose pattern ids leave
# the cache); on an accelerator a block may take this fraction of the device's memory.
CPU_BLOCK_BYTES = 16 * 2**20
ACCELERATOR_MEMORY_FRACTION = 0.5


def block_budget_bytes() -> float:
  """The bytes a block of seeds may take on this process's device kind."""
  device = jax.devices()[0]
  if device.platform == "cpu":
    return CPU_BLOCK_BYTES
  memory = (device.memory_stats() or {}).get("bytes_limit", 16 * 2**30)
  return ACCELERATOR_MEMORY_FRACTION * memory


LEVEL_FLAG = "--xla_backend_optimization_level"


def compiler_options(llvm_level: int | None, devices) -> dict | None:
  """XLA options of a program for `devices`: LLVM optimisation level llvm_level on the
  CPU (None: XLA's default). A level in XLA_FLAGS wins (the test suite sets its own)."""
  if (llvm_level is None or devices[0].platform != "cpu"
      or LEVEL_FLAG in os.environ.get("XLA_FLAGS", "")):
    return None
  return {LEVEL_FLAG[2:]: llvm_level}


def compile_on_devices(fn, devices, in_specs, axis: str, shapes=None, llvm_level=None):
  """jit(fn), its arguments' leading `axis` (the seeds, or blocks of them) sharded over
  `devices` (shard_map, where there are several: per-device code, no collectives but those
  fn names on axis), the others replicated (in_specs: PartitionSpec(axis) or
  PartitionSpec() per argument). With shapes (jax.ShapeDtypeStruct per argument): the
  program compiled for them. llvm_level: compiler_options'. The CPU table kernels are
  built first, outside any trace."""
  table_kernels.ensure_built()
  if len(devices) > 1:
    mesh = jax.sharding.Mesh(np.array(devices), (axis,))
    fn = jax.shard_map(fn, mesh=mesh, in_specs=in_specs,
                       out_specs=jax.sharding.PartitionSpec(axis), check_vma=False)
  fn = jax.jit(fn, compiler_options=compiler_options(llvm_level, devices))
  return fn if shapes is None else fn.lower(*shapes).compile()


def call_on_devices(compiled, args, in_specs, axis: str):
  """compiled(*args) as host numpy arrays. With several processes every process holds all
  the arguments; each gives its devices their part of `axis`, and the outputs, sharded
  over every process's devices, are gathered back into every process."""
  if jax.process_count() == 1:
    return jax.device_get(compiled(*args))
  mesh = jax.sharding.Mesh(np.array(jax.devices()), (axis,))

  def place(a, spec):
    sharding = jax.sharding.NamedSharding(mesh, spec)
    return jax.tree.map(lambda x: jax.make_array_from_callback(
        np.shape(x), sharding, lambda i: np.asarray(x)[i]), a)

  placed = [place(a, spec) for a, spec in zip(args, in_specs)]
  return multihost_utils.process_allgather(compiled(*placed), tiled=True)
