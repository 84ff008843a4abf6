"""Steps to success: train seeds x learning rates until a target accuracy (docs/spec.md §9).

One jitted call trains S seeds x R learning rates of one (arch, n, k, optimiser) by
minibatch SGD (or another optax optimiser) on the hinge loss and records, per network, the
first evaluation step at which its accuracy on a fixed evaluation batch reached
`success_accuracy`:

  jit(while no stop and checks remain:
        fori_loop over the steps up to the next check (
          vmap over seeds(draw the seed's batch; vmap over rates(one step)));
        evaluate every network on its seed's evaluation batch)

The spec (OnlineSweep) holds what the program is compiled for; the learning rates are an
argument of run, and with the task's coordinates and truth table they are arguments of
the compiled call, not part of its key (program_key): a grid of rates, and a local task
and its non-local twin, share one program. Seed s's networks share its initialisation and its
data at every rate: batch t comes from fold_in(its data key, t), drawn as packed random
bits (engine.sample_inputs, packed), so it does not depend on the call.

Protocols: "online" draws a fresh i.i.d. batch at every step; "full_batch" is GD on a fixed
sample of num_train. Evaluations happen at `check_steps` (0 and a geometric schedule, see
check_schedule), so a recorded step t means: below the target at the previous check, at
or above it at t. Stops ("stop"):
  "all"        once every network has succeeded;
  "best_rate"  once every seed of some rate has succeeded (and, for the rates of run's
               `must_know`, at least half of the seeds, so their medians are known). From
               then on no rate can have a lower median: a rate with fewer than half its
               seeds done has a larger one, a rate with at least half done a known one.
Networks still pending at the stop are censored there (stopped_at); networks that
succeeded keep training until the stop, which cannot change their recorded step. A
network whose loss or parameters become non-finite keeps its last finite state, is marked
`diverged` and cannot succeed from then on; the others train on.

With several local devices (on a CPU, as many as the config's `cpu_devices`) the seeds
are sharded over them (shard_map over the seed axis, padded with repeats of the last seed,
which the stop does not count); the stop sums its counts over the devices, so every device
stops at the same check. Results equal one device's to float rounding: bitwise for SGD
here, while Adam amplifies the batched matmuls' rounding into other recorded steps.

A call may stop at a given check and hand its networks back (`carry`: parameters,
optimiser states, divergence and recorded steps, over seeds x rates); another call
continues them from there, bitwise as if uninterrupted (halving.py keeps the best rates
this way). An evaluation counts errors EVAL_CHUNK samples at a time with an early exit
(evaluation.py); the recorded steps are those of the full evaluation.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from cnnfcn_jax import engine, evaluation, models, networks, tasks

PROTOCOLS = ("online", "full_batch")
STOPS = ("best_rate", "all")
EVAL_CHUNK = 512  # evaluation samples counted at a time (see the module docstring)


def check_schedule(num_steps: int, eval_every: int, eval_growth: float,
                   every_step_until: int = 0) -> tuple[int, ...]:
  """0, every step up to every_step_until, then t_{i+1} = max(t_i + eval_every,
  ceil(t_i x eval_growth)), and num_steps.

  Every step at small t makes a recorded step there exact (a 2-step grid would decide a
  median of 4 steps); eval_growth = 1 gives every eval_every steps after that; above 1 the
  gaps grow geometrically, so the relative resolution of a recorded step is about
  eval_growth - 1 at large t.
  """
  steps = list(range(min(every_step_until, num_steps) + 1))
  while steps[-1] < num_steps:
    steps.append(min(num_steps, max(steps[-1] + eval_every,
                                    math.ceil(steps[-1] * eval_growth))))
  return tuple(steps)


def allowed_errors(num_eval: int, success_accuracy: float) -> int:
  """The most evaluation errors a successful network may make: the largest e with
  (num_eval - e) / num_eval >= success_accuracy (1e-9 absorbs the rounding of 1 - a)."""
  return math.floor((1 - success_accuracy) * num_eval + 1e-9)


@dataclasses.dataclass(frozen=True, kw_only=True)
class OnlineSweep(engine.Network):
  """What one steps-to-success program is compiled for (the networks' fields are
  engine.Network's); program_key(spec) keys it. The learning rates are run's."""
  width: int
  batch_size: int
  check_steps: tuple[int, ...]  # evaluation steps, from 0 up to the step budget
  num_eval: int
  success_accuracy: float
  protocol: str = "online"
  num_train: int = 0  # full_batch only
  stop: str = "best_rate"

  def __post_init__(self):
    """A networks.Family is checked before anything compiles (networks.check_spec)."""
    if isinstance(self.arch, networks.Family):
      networks.check_spec(self, "online.OnlineSweep")

  @property
  def num_steps(self) -> int:
    return self.check_steps[-1]


def program_key(spec: OnlineSweep) -> OnlineSweep:
  """spec without the task's coordinates and truth table, which the call takes at run
  time: specs with equal keys share one compiled program."""
  return engine.program_key(spec)


def call_args(spec: OnlineSweep, rates, must_know=()):
  """The call's arguments after the seeds: rates (R,), which of them the stop must know
  (R,) bool, coordinates, truth table."""
  return (jnp.asarray(rates, jnp.result_type(float)),
          jnp.asarray([r in must_know for r in rates], bool), *engine.task_arrays(spec))


def online_fn(spec: OnlineSweep, axis_name: str | None = None):
  """The un-jitted call: (seeds (S,), *call_args, counted (S,) bool = all) -> dict of (S, R)
  arrays. `counted`: the seeds the stop counts (not the padding); axis_name: the mesh axis
  the seeds are sharded over, whose devices the stop's counts are summed across.

  steps_to_success: int32, the first check step with accuracy >= success_accuracy, or -1.
  final_eval_accuracy: accuracy on the whole evaluation batch at stopped_at (the stop, or
  the budget). diverged: the network's loss or parameters became non-finite. stop_fired:
  the call's stop held where it ended (the same for every network).
  """
  task, arch = spec.task, spec.arch
  optimizer = functools.partial(engine.optimizer, spec)
  checks = jnp.asarray(spec.check_steps, jnp.int32)
  allowed = allowed_errors(spec.num_eval, spec.success_accuracy)
  num_chunks = -(-spec.num_eval // EVAL_CHUNK)
  count_errors = evaluation.error_counter(arch, spec.activation, spec.table, num_chunks,
                                          EVAL_CHUNK)
  features = functools.partial(engine.input_features, k=task.k, table=spec.table)
  total = (lambda a: jax.lax.psum(a, axis_name)) if axis_name else (lambda a: a)  # noqa: E731

  def output(trained, frozen, inputs):
    return models.apply(arch, {**frozen, **trained}, inputs, spec.activation, spec.table)

  grad_fn = jax.value_and_grad(
      lambda trained, frozen, inputs, y: engine.hinge_loss(output(trained, frozen, inputs), y))

  def draw(key, m, coordinates, truth_table):
    """(inputs, labels) of m samples: packed ±1 draws labelled by the k-pattern's table, or
    a task of one's own's sampler."""
    if not engine.is_kpattern(task):
      x, y = task.sample(key, m)
      return features(x), y
    x = engine.sample_inputs(key, m, task.n, packed=True)
    return features(x), tasks.labels(x, coordinates, truth_table)

  def setup(seed, coordinates, truth_table):
    """What a seed's networks share at every rate: frozen parameters, the evaluation batch,
    the training key (and the full_batch sample)."""
    init_key, data_key = engine.seed_keys(seed)
    frozen = engine.init_network(spec, init_key, spec.width)[2]
    padding = num_chunks * EVAL_CHUNK - spec.num_eval
    inputs, y = draw(jax.random.fold_in(data_key, 1), spec.num_eval, coordinates, truth_table)
    evals = (jnp.pad(inputs, ((0, padding), (0, 0))), jnp.pad(y, (0, padding)))
    train_key = jax.random.fold_in(data_key, 0)
    sample = ()
    if spec.protocol == "full_batch":
      sample = draw(train_key, spec.num_train, coordinates, truth_table)
    return frozen, evals, train_key, sample

  def seed_step(states, frozen, train_key, sample, t, rates, coordinates, truth_table):
    """One step of every rate of one seed, on the seed's batch t."""
    if spec.protocol == "full_batch":
      inputs, y = sample
    else:
      inputs, y = draw(jax.random.fold_in(train_key, t), spec.batch_size, coordinates,
                       truth_table)

    def rate_step(state, rate):
      loss, grads = grad_fn(state[0], frozen, inputs, y)
      return engine.update(optimizer(rate), state, loss, grads)

    return jax.vmap(rate_step)(states, rates)

  def call(seeds, rates, must_know, coordinates, truth_table, counted=None, carry=None,
           start=0, end=len(spec.check_steps) - 1):
    """Trains from check index `start` to check index `end` (or the stop). carry: the
    networks at check `start` (fresh_carry's tree), or None: fresh networks, start = 0."""
    frozen, evals, train_keys, samples = jax.vmap(setup, in_axes=(0, None, None))(
        seeds, coordinates, truth_table)
    step = jax.vmap(seed_step, in_axes=(0, 0, 0, 0, None, None, None, None))
    counted = jnp.ones(seeds.shape, bool) if counted is None else counted
    num_counted = total(jnp.sum(counted, dtype=jnp.int32))

    def record(i, states, first):
      pending = (first < 0) & ~states[2]
      passed = (count_errors(states[0], frozen, evals, pending, allowed) <= allowed) & pending
      return jnp.where(passed, checks[i], first)

    def stop(first):
      done = total(jnp.sum((first >= 0) & counted[:, None], axis=0, dtype=jnp.int32))  # (R,)
      if spec.stop == "all":
        return jnp.all(done == num_counted)
      known = 2 * done >= num_counted  # at least half: the median is known
      return jnp.any(done == num_counted) & jnp.all(known | ~must_know)

    def cond(carry):
      i, _, first = carry
      return (i <= end) & ~stop(first)

    def body(carry):
      i, states, first = carry
      states = jax.lax.fori_loop(
          checks[i - 1], checks[i],
          lambda t, s: step(s, frozen, train_keys, samples, t, rates, coordinates,
                            truth_table), states)
      return i + 1, states, record(i, states, first)

    def fresh():
      *states, first = fresh_carry(spec, seeds, rates)
      return tuple(states), record(0, tuple(states), first)

    states, first = fresh() if carry is None else (tuple(carry[:3]), carry[3])
    i, states, first = jax.lax.while_loop(cond, body, (start + 1, states, first))
    final_errors = count_errors(states[0], frozen, evals, jnp.ones_like(first, bool),
                                spec.num_eval)
    return dict(steps_to_success=first, final_eval_accuracy=1.0 - final_errors / spec.num_eval,
                stopped_at=jnp.broadcast_to(checks[i - 1], first.shape), diverged=states[2],
                stop_fired=jnp.broadcast_to(stop(first), first.shape), carry=(*states, first))

  return call


def fresh_carry(spec: OnlineSweep, seeds, rates):
  """(trained, opt_state, diverged, first) of fresh networks, each with leading axes
  (seeds, rates): seed s's initialisation at every rate, nothing recorded (first = -1)."""
  optimizer = functools.partial(engine.optimizer, spec)

  def seed_networks(seed):
    trained = engine.init_network(spec, engine.seed_keys(seed)[0], spec.width)[1]
    return jax.vmap(lambda rate: (trained, optimizer(rate).init(trained)))(rates)

  trained, opt_state = jax.vmap(seed_networks)(seeds)
  shape = (len(seeds), len(rates))
  return trained, opt_state, jnp.zeros(shape, bool), jnp.full(shape, -1, jnp.int32)


def carry_shapes(key: OnlineSweep, num_seeds: int, num_rates: int):
  """The carry's tree of jax.ShapeDtypeStruct for num_seeds x num_rates networks."""
  return jax.eval_shape(functools.partial(fresh_carry, key),
                        jax.ShapeDtypeStruct((num_seeds,), jnp.uint32),
                        jax.ShapeDtypeStruct((num_rates,), jnp.result_type(float)))


def seed_devices(num_seeds: int) -> int:
  """The local devices a call of num_seeds seeds is sharded over: at most one per seed."""
  return min(jax.local_device_count(), num_seeds)


SEEDS, SAME = jax.sharding.PartitionSpec("seeds"), jax.sharding.PartitionSpec()


@functools.lru_cache(maxsize=None)
def compiled_call(key: OnlineSweep, num_seeds: int, num_rates: int, num_devices: int = 1,
                  continued: bool = False):
  """The compiled call of a program key for num_seeds seeds (a multiple of num_devices) and
  num_rates rates, sharded over the first num_devices local devices; compiling is kept
  apart from running. Its arguments: seeds, rates, must_know, coordinates, truth table,
  counted, then (continued) carry and start, then end (online_fn). A fresh call (start 0)
  takes no carry: its networks are built on the device."""
  real = jnp.result_type(float)
  coordinates, table = ((key.task.k,), (2**key.task.k,)) if engine.is_kpattern(key.task) else (
      a.shape for a in engine.task_arrays(key))
  shapes = [jax.ShapeDtypeStruct(shape, dtype) for shape, dtype in [
      ((num_seeds,), jnp.uint32), ((num_rates,), real), ((num_rates,), bool),
      (coordinates, jnp.int32), (table, real), ((num_seeds,), bool)]]
  index = jax.ShapeDtypeStruct((), jnp.int32)
  shapes += [carry_shapes(key, num_seeds, num_rates), index, index] if continued else [index]
  in_specs = ((SEEDS, SAME, SAME, SAME, SAME, SEEDS) + ((SEEDS, SAME) if continued else ())
              + (SAME,))
  call = online_fn(key, "seeds" if num_devices > 1 else None)
  fn = call if continued else (
      lambda seeds, rates, must_know, coordinates, truth_table, counted, end: call(
          seeds, rates, must_know, coordinates, truth_table, counted, None, 0, end))
  return engine.compile_on_devices(fn, jax.local_devices()[:num_devices], in_specs, "seeds",
                                   shapes)


def compile_call(spec: OnlineSweep, seeds, num_rates: int, continued: bool = False):
  """(compiled program of spec for these seeds and num_rates rates, padded seeds,
  counted): the seeds padded to a multiple of the devices they are sharded over, and which
  are real (engine.pad_seeds). The program is shared by every spec with its program_key.
  continued: the program that takes a carry (online.run, start > 0)."""
  devices = seed_devices(len(seeds))
  padded, counted = engine.pad_seeds(seeds, devices)
  return compiled_call(program_key(spec), len(padded), num_rates, devices,
                       continued), padded, counted


def check_rates(rates, must_know=(), caller="online.run"):
  """Raise ValueError naming the caller and the argument unless rates are a non-empty tuple
  of distinct finite numbers > 0 and must_know a tuple of rates among them."""
  ok = isinstance(rates, (tuple, list)) and rates and len(set(rates)) == len(rates) and all(
      isinstance(r, (int, float)) and not isinstance(r, bool) and 0 < r < math.inf
      for r in rates)
  if not ok:
    raise ValueError(f"{caller}: rates = {rates!r}: expected a non-empty tuple of distinct "
                     "learning rates > 0")
  if not isinstance(must_know, (tuple, list)) or any(r not in rates for r in must_know):
    raise ValueError(f"{caller}: must_know = {must_know!r}: expected a tuple of rates among "
                     f"rates = {tuple(rates)!r} (whose medians the best-rate stop waits for)")


def run(spec: OnlineSweep, seeds, rates, must_know=(), carry=None, start: int = 0,
        end: int | None = None, return_carry: bool = False) -> dict:
  """Steps to success of every (seed, rate) network, as (S, R) numpy arrays (see online_fn),
  in one call from check index `start` to `end` (default: the budget) or the stop.

  rates: the learning rates trained side by side; must_know: those of them whose median
  the "best_rate" stop waits for.

  carry: the networks at check `start` as a previous call returned them (its "carry": host
  arrays over the padded seeds x rates), needed when start > 0; that call must have ended
  at check `start` (its stopped_at). return_carry: the result also holds "carry", the
  networks where this call ended (host arrays), to continue from.
  """
  end = len(spec.check_steps) - 1 if end is None else end
  if not 0 <= start <= end < len(spec.check_steps):
    raise ValueError(f"online.run: start = {start}, end = {end}: expected check indices "
                     f"0 <= start <= end < {len(spec.check_steps)} (the spec's checks)")
  if (carry is None) != (start == 0):
    given = "None" if carry is None else "given"
    raise ValueError(f"online.run: start = {start} with carry {given}: a call from check 0 "
                     "builds its networks, a later start continues the carry of the call "
                     "that ended there (pass carry=)")
  check_rates(rates, must_know)
  seeds = np.asarray(seeds, np.uint32)
  compiled, padded, counted = compile_call(spec, seeds, len(rates), continued=start > 0)
  resume = (carry, np.int32(start)) if start else ()
  out = compiled(padded, *call_args(spec, rates, must_know), counted, *resume, np.int32(end))
  carry_out = out.pop("carry")
  result = {name: np.asarray(a)[: len(seeds)] for name, a in jax.device_get(out).items()}
  if return_carry:
    result["carry"] = jax.device_get(carry_out)
  return result
