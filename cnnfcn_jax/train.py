"""Full-batch training: the seeds x widths sweep.

The sweep trains S seeds x a tuple of widths of one architecture on one task in a single
jitted call: `jit(lax.map over blocks of seeds(vmap over a block's seeds(per width
bucket: vmap over its widths(lax.scan over steps))))`. The widths of one bucket share
one array shape: every network has the bucket's largest width of units, the units beyond
its own width are zero and masked out of the readout, so they get zero gradient and
never move. By default all widths form one bucket; with Sweep.bucketed, the widths up to
one power of two do (networks.width_buckets), so a geometric grid of widths runs in about
the sum of its widths rather than their count times the largest. Because unit l is drawn
from fold_in(key, l) (models.init_params), a network inside a width sweep is the same
network as one trained alone. The architecture may be a networks.Family of one's own
(each network drawn at its width and zero-padded, every unit axis masked) and the task
any value with sample(key, m) (tasks.py).

Seed s is a full replicate: `engine.seed_keys(s)` gives its init key and its data key (its
own training and test sample), as in every trainer.

Sample sizes share programs. With Sweep.train_capacity, a seed draws train_capacity
samples and trains on the first num_train, a run-time argument (full_batch.py: chunks up
to m), so one compiled program serves every m up to the capacity, and a network trained
at m is the unpadded sweep's up to the order of float summation (JAX's counter-based
draws give the first m rows of a larger draw).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from cnnfcn_jax import engine, full_batch, models, networks, tasks

# The readout at width q (docs/spec.md §2): "standard", h = Σ u_i σ(.); "mup", the
# maximal-update parametrisation for Adam, h = (1/q) Σ u_i σ(.) with u ~ N(0, 1).
PARAMETRISATIONS = ("standard", "mup")
METRICS = ("train_loss", "train_accuracy", "test_accuracy", "test_correlation", "grad_norm",
           "first_layer_distance", "diverged")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sweep(engine.Network):
  """Everything static about one jitted sweep (hashable: it keys the compile cache); the
  networks' fields are engine.Network's."""
  widths: tuple[int, ...]
  learning_rate: float | tuple[float, ...]  # one for all widths, or one per width
  num_steps: int
  log_every: int
  num_train: int  # m: a run-time argument where train_capacity is given
  num_test: int
  # Samples drawn per seed, of which the first num_train train (0: num_train, one pass at
  # m, bitwise as without it). Given, the loss and gradient are summed over chunks up to m
  # (full_batch.py), and every num_train <= train_capacity shares one program.
  train_capacity: int = 0
  # XLA's LLVM optimisation level for the program on the CPU (None: XLA's default, 3; a
  # level in XLA_FLAGS wins). Lower compiles faster; reductions may sum in another order.
  llvm_level: int | None = None
  # Train and test on all 2^n inputs: the training loss is then the population loss
  # L_{f,D} of uniform D exactly, and the test accuracy the exact population accuracy.
  population: bool = False
  # [choice] False: all widths padded to the largest (one copy of the loop to compile).
  # True: width_buckets, each its own vmapped block: runs in about the sum of the widths,
  # but compiles one copy of the loop per bucket (on the CPU, often the larger cost).
  bucketed: bool = False
  parametrisation: str = "standard"  # PARAMETRISATIONS

  def __post_init__(self):
    """Refuse arguments the sweep cannot honour, naming the fields (as configs are)."""
    def refuse(what):
      raise ValueError(f"train.Sweep: {what}")
    if not self.widths or any(isinstance(w, bool) or not isinstance(w, (int, np.integer))
                              or w < 1 for w in self.widths):
      refuse(f"widths = {self.widths!r}: expected a non-empty tuple of integers >= 1")
    if isinstance(self.learning_rate, tuple) and len(self.learning_rate) != len(self.widths):
      refuse(f"learning_rate has {len(self.learning_rate)} entries for {len(self.widths)} "
             "widths: give one rate, or one per width")
    for field in ("log_every", "num_train", "num_test"):
      if getattr(self, field) < 1:
        refuse(f"{field} = {getattr(self, field)!r}: expected an integer >= 1")
    if isinstance(self.arch, networks.Family):  # refused before anything compiles
      networks.check_spec(self, "train.Sweep")
    elif self.arch not in models.ARCHITECTURES or self.init not in models.ARCHITECTURES[
        self.arch].init_schemes or not set(self.trainable) <= set(models.PARAM_GROUPS):
      refuse(f"arch = {self.arch!r}, init = {self.init!r}, trainable = {self.trainable!r}: "
             f"expected {models.ARCHS} or a networks.Family, its init, {models.PARAM_GROUPS}")
    if self.parametrisation not in PARAMETRISATIONS:
      refuse(f"parametrisation = {self.parametrisation!r}: expected one of {PARAMETRISATIONS}")
    if self.parametrisation == "mup" and self.init == "paper":
      refuse("parametrisation = 'mup' with init = 'paper': the readout multiplier 1/q needs "
             "a Gaussian readout (its u = 0)")
    if isinstance(self.llvm_level, bool) or self.llvm_level not in (None, 0, 1, 2, 3):
      refuse(f"llvm_level = {self.llvm_level!r}: expected None (XLA's default) or 0 ... 3")
    if self.population and not engine.is_kpattern(self.task):
      refuse(f"population = True with task = {self.task!r}: expected a tasks.Task (k-pattern)")
    if self.train_capacity and (self.train_capacity < self.num_train or self.population):
      refuse(f"train_capacity = {self.train_capacity}: expected 0 (draw num_train samples) or "
             f"an integer >= num_train = {self.num_train}, and 0 with population = True")
    if self.num_steps < 0 or self.num_steps % self.log_every:
      refuse(f"num_steps = {self.num_steps} is not a multiple of log_every = "
             f"{self.log_every}: metrics are recorded every log_every steps up to num_steps "
             "(give a num_steps that log_every divides)")

  @property
  def sample_chunks(self) -> tuple[int, ...]:
    """The chunk sizes of the full batch (full_batch.chunk_sizes; () without a capacity)."""
    return full_batch.chunk_sizes(self.train_capacity)

  @property
  def samples_drawn(self) -> int:
    """Training samples a seed draws (full_batch.samples_drawn)."""
    return full_batch.samples_drawn(self.num_train, self.train_capacity)

  @property
  def record_steps(self) -> np.ndarray:
    """Steps at which metrics are recorded: 0, log_every, ..., num_steps."""
    return np.arange(0, self.num_steps + 1, self.log_every)


def sweep_fn(sweep: Sweep):
  """The un-jitted sweep: (seeds (S,), *sweep_args(sweep)) -> arrays with leading axes (S, W).

  Only a k-pattern task's n and k are read here: its coordinates and truth table are
  arguments (sweep_args), like the widths, rates and (train_capacity given) num_train.

  Returned arrays: each name in METRICS with shape (S, W, R) over `record_steps`, and
  `params0` / `params`, the initial and final parameters, (S, W, ...) each ("mup": u, not u/q).

  Divergence is isolated per network: once a step gives a non-finite loss or parameter,
  that network keeps its last finite state (`diverged` = 1 from then on) while every
  other network in the call trains on unaffected.
  """
  task, arch = sweep.task, sweep.arch
  family = arch if isinstance(arch, networks.Family) else None  # a user's network
  architecture = None if family else models.ARCHITECTURES[arch]
  unit_axes = family.unit_axes if family else models.unit_axes(arch)
  buckets = networks.width_buckets(sweep.widths, sweep.bucketed)

  def live_params(trained, frozen, live):
    """The parameters, units beyond the width zeroed: in our readout (so the rest gets no
    gradient), along every unit axis of a Family's (live: then the width)."""
    if family:
      return networks.mask(unit_axes, trained, live)
    params = {**frozen, **trained}
    readout = params[architecture.readout]
    readout_axis = unit_axes[architecture.readout][0]
    params[architecture.readout] = readout * live.reshape(
        [-1 if axis == readout_axis else 1 for axis in range(readout.ndim)])
    return params

  def output(trained, frozen, live, inputs):
    return models.apply(arch, live_params(trained, frozen, live), inputs, sweep.activation,
                        sweep.table)

  batch = full_batch.full_batch_fn(arch, sweep.activation, sweep.table, sweep.sample_chunks)

  def one_network(max_width, width, learning_rate, family_params0, num_train, init_key,
                  train_inputs, y_train, test_inputs, y_test):
    optimizer = engine.optimizer(sweep, learning_rate)
    if family:  # drawn at its own width and padded (one_seed): all of it trains
      params0, trained0, frozen, live = family_params0, family_params0, {}, width
    else:
      mup = sweep.parametrisation == "mup"  # then live holds the readout multiplier 1/q
      params0, trained0, frozen = engine.init_network(sweep, init_key, width, max_width, mup)
      live = (jnp.arange(max_width) < width) / jnp.where(mup, width, 1)
      live = live.astype(params0[architecture.readout].dtype)
    params_of = lambda trained: live_params(trained, frozen, live)  # noqa: E731

    def measure(trained, diverged):
      loss, train_accuracy, grads = batch(params_of, trained, train_inputs, y_train,
                                          num_train)
      h_test = output(trained, frozen, live, test_inputs)
      group = architecture.first_layer if architecture else None
      distance = jnp.linalg.norm(trained[group] - params0[group]) if group in trained else 0.0
      return dict(train_loss=loss, train_accuracy=train_accuracy,
                  test_accuracy=engine.accuracy(h_test, y_test),
                  test_correlation=jnp.mean(y_test * h_test), grad_norm=optax.tree.norm(grads),
                  first_layer_distance=jnp.asarray(distance, loss.dtype),
                  diverged=diverged.astype(loss.dtype))

    def step(state, _):
      loss, _, grads = batch(params_of, state[0], train_inputs, y_train, num_train,
                             with_accuracy=False)
      return engine.update(optimizer, state, loss, grads), None

    def logged_interval(state, _):
      state, _ = jax.lax.scan(step, state, None, length=sweep.log_every)
      return state, measure(state[0], state[2])

    state = (trained0, optimizer.init(trained0), jnp.array(False))
    first = measure(trained0, state[2])
    state, history = jax.lax.scan(logged_interval, state, None,
                                  length=len(sweep.record_steps) - 1)
    history = jax.tree.map(lambda a, rest: jnp.concatenate([a[None], rest]), first, history)
    return dict(history, params0=params0, params={**frozen, **state[0]})

  def one_seed(seed, widths, learning_rates, num_train, coordinates, truth_table):
    init_key, data_key = engine.seed_keys(seed)
    if sweep.population:
      x_train = x_test = models.all_patterns(task.n)
    elif not engine.is_kpattern(task):  # a task of one's own: its sampler gives (x, y)
      x_train, y_train = task.sample(jax.random.fold_in(data_key, 0), sweep.samples_drawn)
      x_test, y_test = task.sample(jax.random.fold_in(data_key, 1), sweep.num_test)
    else:
      x_train = engine.sample_inputs(jax.random.fold_in(data_key, 0), sweep.samples_drawn,
                                     task.n)
      x_test = engine.sample_inputs(jax.random.fold_in(data_key, 1), sweep.num_test, task.n)
    if engine.is_kpattern(task):
      y_train = tasks.labels(x_train, coordinates, truth_table)
      y_test = tasks.labels(x_test, coordinates, truth_table)
    train_inputs = engine.input_features(x_train, task.k, sweep.table)
    test_inputs = engine.input_features(x_test, task.k, sweep.table)
    parts = []
    for bucket in buckets:
      index, top = np.asarray(bucket), max(sweep.widths[i] for i in bucket)
      params0 = jax.tree.map(lambda *a: jnp.stack(a), *[networks.pad(
          unit_axes, family.init(init_key, task.n, sweep.widths[i]), top)
          for i in bucket]) if family else None
      per_width = jax.vmap(functools.partial(one_network, top),
                           in_axes=(0, 0, 0 if family else None) + (None,) * 6)
      parts.append(per_width(widths[index], learning_rates[index], params0, num_train,
                             init_key, train_inputs, y_train, test_inputs, y_test))
    return networks.join_buckets(parts, buckets, unit_axes, max(sweep.widths))

  def sweep_seeds(seeds, *args):
    return jax.vmap(one_seed, in_axes=(0,) + (None,) * len(args))(seeds, *args)

  return sweep_seeds


def sweep_args(sweep: Sweep):
  """The arguments of sweep_fn after the seeds: widths and learning rates, (W,) each, the
  number of training samples (an int32 scalar) and the task's coordinates and truth table
  (engine.task_arrays)."""
  rates = sweep.learning_rate
  rates = rates if isinstance(rates, tuple) else (rates,) * len(sweep.widths)
  return (jnp.asarray(sweep.widths, jnp.int32), jnp.asarray(rates, jnp.result_type(float)),
          jnp.int32(sweep.num_train), *engine.task_arrays(sweep))


def program_key(sweep: Sweep) -> Sweep:
  """`sweep` without what sweep_args passes at run time (learning rates, the task's
  coordinates and truth table, and num_train where train_capacity is given): sweeps with
  equal keys share one compiled program."""
  run_time = dict(num_train=sweep.train_capacity) if sweep.train_capacity else {}
  return engine.program_key(sweep, learning_rate=0.0, **run_time)


# seeds_per_block = "auto": as many seeds per block as engine.block_budget_bytes allows.
AUTO = "auto"


def seed_working_set_bytes(sweep: Sweep) -> int:
  """Bytes one seed's sweep touches at every step: its inputs and first-layer activations.

  Table path: per input, J pattern ids and the J gathered table values and their gradient
  (XLA's gather materialises those; the CPU kernels of table_kernels do not, so there the
  rule is conservative); dense windowed path: the input and J x q activations and
  gradients; FCN: the input and r activations and gradients.
  """
  n, k = sweep.task.n, sweep.task.k
  # Samples held (inputs, ids) and samples whose activations a pass touches at once.
  held = 2 * 2**n if sweep.population else sweep.samples_drawn + sweep.num_test
  active = max(sweep.sample_chunks) + sweep.num_test if sweep.sample_chunks else held
  item = jnp.dtype(jnp.result_type(float)).itemsize
  windows = models.num_windows(n, k)
  # Units of all networks, each padded to its bucket's largest width.
  units = sum(len(b) * max(sweep.widths[i] for i in b)
              for b in networks.width_buckets(sweep.widths, sweep.bucketed))
  if sweep.table:
    id_bytes = jnp.dtype(models.pattern_id_dtype(k)).itemsize
    return (held * windows * id_bytes + active * windows * 2 * item) * len(sweep.widths)
  if models.windowed(sweep.arch):
    return held * n * item * len(sweep.widths) + active * 2 * windows * units * item
  # An FCN, or a network of one's own counted as one hidden layer of its units.
  return held * n * item * len(sweep.widths) + active * 2 * units * item


def resolve_block(sweep: Sweep, num_seeds: int, seeds_per_block, seeds_per_call: int = 0) -> int:
  """The seeds per vmapped block: an integer as given (0 = all), or the "auto" rule.

  auto: as many seeds per device as fit the budget of the device kind
  (engine.block_budget_bytes: on an accelerator, all of a device's seeds in one block when
  they fit), at least 1, and a divisor of seeds_per_call.
  """
  if seeds_per_block != AUTO:
    return seeds_per_block or num_seeds
  budget = engine.block_budget_bytes()
  per_device = -(-(seeds_per_call or num_seeds) // jax.device_count())
  block = max(1, min(per_device, int(budget // seed_working_set_bytes(sweep))))
  while seeds_per_call and seeds_per_call % block:
    block -= 1
  return block


def run_sweep(sweep: Sweep, seeds, seeds_per_block: int | str = 0,
              seeds_per_call: int = 0) -> dict:
  """Train every (seed, width) network of `sweep`; returns numpy arrays (see sweep_fn).

  The seeds run in blocks of seeds_per_block (0 = all seeds in one block, "auto": see
  resolve_block): one block is one vmapped batch, and the blocks run one after another
  (lax.map), so a block bounds the memory of its activations. The block is part of the
  numerics: XLA sums a batched reduction in an order that depends on the batch size, so
  results agree to float rounding across block sizes but are bitwise identical for one
  block size however the blocks are grouped into calls (seeds_per_call, a multiple of the
  block; 0 = one call). With several devices (of one or several processes) the blocks of
  a call are sharded over all of them (a 1-D Mesh, shard_map over the block axis); the
  results equal one device's to float rounding. Seeds are padded with repeats of the last
  seed to whole blocks (and a multiple of the device count); those are dropped.
  """
  seeds = np.asarray(seeds, np.uint32)
  block = resolve_block(sweep, len(seeds), seeds_per_block, seeds_per_call)
  chunk = seeds_per_call or -(-len(seeds) // block) * block
  if chunk % block:
    raise ValueError(f"seeds_per_call = {seeds_per_call} must be a multiple of "
                     f"seeds_per_block = {block}")
  parts = [_run_call(sweep, seeds[i:i + chunk], block) for i in range(0, len(seeds), chunk)]
  return jax.tree.map(lambda *a: np.concatenate(a), *parts)


BLOCKS = jax.sharding.PartitionSpec("blocks")
SPECS = (BLOCKS, jax.sharding.PartitionSpec())  # (seed blocks, sweep_args)


@functools.lru_cache(maxsize=None)
def _blocks_fn(sweep: Sweep, num_devices: int):
  """jit((blocks, block) seeds, sweep_args -> outputs (blocks, block, W, ...)), blocks run
  in sequence, sharded over every process's devices."""
  one_block = sweep_fn(sweep)

  def blocks(seeds, args):
    return jax.lax.map(lambda b: one_block(b, *args), seeds)

  return engine.compile_on_devices(blocks, jax.devices()[:num_devices], SPECS, "blocks",
                                   llvm_level=sweep.llvm_level)


def _run_call(sweep: Sweep, seeds: np.ndarray, block: int) -> dict:
  num_devices = jax.device_count()
  padded, _ = engine.pad_seeds(seeds, block * num_devices)
  compiled = _blocks_fn(program_key(sweep), num_devices)
  out = engine.call_on_devices(compiled, (padded.reshape(-1, block), sweep_args(sweep)),
                               SPECS, "blocks")
  return jax.tree.map(lambda a: np.asarray(a).reshape(-1, *a.shape[2:])[: len(seeds)], out)
