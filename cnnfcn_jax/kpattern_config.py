"""Config rules of the experiments that train CNN/LCN/FCN on k-pattern tasks: what a
config's fields must be (validate_*), and how they become a task and a spec (make_task,
network_fields, make_sweep). sweeps.py runs the sweeps; see configs/separation.py.

Two rules scale the training with n (docs/spec.md §4, "Scaling with n"):
  sample size  m(n) = max(min_num_train, ceil(samples_per_readout_weight x N(n))), N(n) the
               largest readout (number of u weights) among the config's networks at n, so
               every architecture trains on the same m at each n;
  first layer  step = learning_rate / windows_per_filter(n, k) when first_layer_step is
               "per_window" (the CNN's shared kernel: 1/(n - k + 1)), learning_rate when "same".

A network or a task of one's own (import_paths.py): config.<arch>.network names a
networks.Family by import path, trained with all of it at the learning rate (no init,
trainable or first_layer_step fields: the family's init draws it; its readout counts as
its width in the sample-size rule); config.task names a function (n, k) -> task, run in
place of the local k-pattern (config.localities = ("local",)) on x itself (never the
pattern-table path).
"""

from __future__ import annotations

import math

from cnnfcn_jax import checks, engine, import_paths, models, networks, tasks, train

COMPUTE_PATHS = ("auto", "dense", "table")
FIRST_LAYER_STEPS = ("same", "per_window")
MIDDLE = -1  # config.position value meaning "the middle window"
MAX_K = 20  # a target is a table of 2^k entries


def validate_k(field, ks):
  """Every pattern size in ks (one k or a tuple, config.<field>) is at most MAX_K."""
  if max(ks if isinstance(ks, (tuple, list)) else (ks,)) > MAX_K:
    checks.fail(field, ks, f"k <= {MAX_K} (targets are tables of 2^k entries)")


def validate_task(c, ns, k, field="ns"):
  """ns (config.<field>), target, localities, position, task_seed, for patterns of size k
  (the largest k if many); or config.task, made at every n of ns."""
  checks.nonempty_tuple(field, ns, checks.positive_int)
  if own_task(c):
    if tuple(c.localities) != ("local",):
      checks.fail("localities", c.localities, "('local',) with config.task, which runs in "
                  "place of the local k-pattern (the nonlocal twin is a k-pattern's)")
    if c.get("compute_path") == "table":
      checks.fail("compute_path", c.compute_path, "'auto' or 'dense' with config.task (the "
                  "table path reads ±1 inputs as k-bit patterns; a task of one's own trains "
                  "on x itself)")
    for n in ns:
      import_paths.task(c.task, "task", n, k)
    return
  if min(ns) < k:
    checks.fail(field, ns, f"every n >= k = {k} (a k-pattern needs k input bits); "
                "lower config.k or raise config.ns")
  checks.choice("target", c.target, tasks.TARGETS)
  checks.nonempty_tuple("localities", c.localities,
                        lambda f, v: checks.choice(f, v, tasks.LOCALITIES))
  if "nonlocal" in c.localities and min(ns) < tasks.min_nonlocal_n(k):
    checks.fail(field, ns, f"every n >= {tasks.min_nonlocal_n(k)} for the nonlocal twin with "
                f"k = {k} (k coordinates pairwise >= k apart), or drop 'nonlocal' from "
                "config.localities")
  if not isinstance(c.position, int) or isinstance(c.position, bool):
    checks.fail("position", c.position, f"an integer window start, or {MIDDLE} for the middle")
  if c.position != MIDDLE and not 0 <= c.position <= min(ns) - k:
    checks.fail("position", c.position, f"{MIDDLE} (middle) or a window start in "
                f"[0, min({field}) - k] = [0, {min(ns) - k}]")
  checks.positive_int("task_seed", c.task_seed, minimum=0)


def own_task(config) -> bool:
  """Whether config names a task of its own (config.task, an import path; '' or absent:
  the k-pattern of config.target)."""
  task = config.get("task", "")
  if not isinstance(task, str):
    checks.fail("task", task, f"an import path {import_paths.FORM} as a string, or '' for "
                "the k-pattern of config.target")
  return bool(task)


def family(config, arch) -> networks.Family | None:
  """The network of one's own config.<arch>.network names, None for ours."""
  path = config[arch].get("network", "")
  return import_paths.network(path, f"{arch}.network") if import_paths.is_path(path) else None


def validate_archs(c):
  """archs: ours (models.ARCHS), or names whose config.<arch>.network is an import path;
  each with its settings (config.<arch>) in the config."""
  def known(field, arch):
    own = (isinstance(arch, str) and arch.isidentifier() and arch in c
           and hasattr(c[arch], "get") and import_paths.is_path(c[arch].get("network", "")))
    if arch not in models.ARCHITECTURES and not own:
      checks.fail(field, arch, f"one of {', '.join(repr(a) for a in models.ARCHS)}, or the "
                  "name of a network of one's own whose config.<name>.network is an import "
                  f"path {import_paths.FORM}")
  checks.nonempty_tuple("archs", c.archs, known)
  for arch in c.archs:
    if arch not in c:
      checks.fail("archs", c.archs, f"architectures with their settings in the config; "
                  f"config.{arch} is missing (add it, or drop '{arch}' from config.archs)")
    network = c[arch].get("network", "") if hasattr(c[arch], "get") else ""
    if arch in models.ARCHITECTURES and network:
      checks.fail(f"{arch}.network", network, f"'' for our {arch} (name a network of your "
                  "own under another name in config.archs)")


def check_family(c, arch, ns):
  """A network of one's own (config.<arch>.network) passes networks.check at every n of
  ns (eagerly, before anything is compiled); nothing for ours."""
  found = family(c, arch)
  for n in ns if found else ():
    try:
      networks.check(found, n, f"{arch}.network")
    except ValueError as error:
      raise checks.ConfigError(f"config.{error} (at n = {n})") from None


def validate_blocks(c):
  """seeds_per_block ("auto" or an integer, 0 = all seeds) and seeds_per_call (whole
  blocks); config.seeds must be valid already."""
  block = seeds_per_block(c)
  if block != train.AUTO:
    checks.positive_int("seeds_per_block", block, minimum=0)
  checks.positive_int("seeds_per_call", c.seeds_per_call, minimum=0)
  block = block or len(c.seeds)
  if block != train.AUTO and c.seeds_per_call % block:
    checks.fail("seeds_per_call", c.seeds_per_call,
                f"0 or a multiple of config.seeds_per_block = {block} (whole blocks per call)")


def validate_arch_model(c, arch):
  """config.<arch>'s init scheme, trained groups and first-layer step rule; a network of
  one's own has none of them (its init draws it, and all of it trains at the rate)."""
  if family(c, arch):
    for field in ("init", "trainable", "first_layer_step"):
      if field in c[arch]:
        checks.fail(f"{arch}.{field}", c[arch][field], f"no such field with "
                    f"config.{arch}.network (the family's init draws the network and all of "
                    "it trains at the learning rate): remove it")
    return
  a = c[arch]
  # Not "sparse_bias": it needs a support per unit, which samples_width's sparse arm gives.
  checks.choice(f"{arch}.init", a.init, tuple(
      s for s in models.ARCHITECTURES[arch].init_schemes if s != "sparse_bias"))
  checks.nonempty_tuple(f"{arch}.trainable", a.trainable,
                        lambda f, v: checks.choice(f, v, models.PARAM_GROUPS))
  checks.choice(f"{arch}.first_layer_step", a.first_layer_step, FIRST_LAYER_STEPS)


def validate_training(c):
  """archs and their settings, seeds, sample sizes, steps, activation, compute_path."""
  validate_archs(c)
  checks.seeds("seeds", c.seeds)
  validate_blocks(c)
  checks.positive_int("min_num_train", c.min_num_train)
  checks.positive_float("samples_per_readout_weight", c.samples_per_readout_weight,
                        allow_zero=True)
  checks.positive_int("num_test", c.num_test)
  checks.steps_and_log_every(c)
  checks.choice("activation", c.activation, tuple(models.ACTIVATIONS))
  checks.choice("compute_path", c.compute_path, COMPUTE_PATHS)
  for arch in c.archs:
    a = c[arch]
    checks.nonempty_tuple(f"{arch}.widths", a.widths, checks.positive_int)
    validate_arch_model(c, arch)
    checks.choice(f"{arch}.optimizer", a.optimizer, tuple(engine.OPTIMIZERS))
    checks.positive_int(f"{arch}.max_n", a.get("max_n", 0), minimum=0)
    if not arch_ns(c, arch):
      checks.fail(f"{arch}.max_n", a.max_n, f"0 (no limit) or at least min(config.ns) = "
                  f"{min(c.ns)}, or drop '{arch}' from config.archs")
    check_family(c, arch, arch_ns(c, arch))
    rates = a.learning_rate
    if isinstance(rates, (tuple, list)):
      if len(rates) != len(a.widths):
        checks.fail(f"{arch}.learning_rate", rates,
                    f"one learning rate, or one per width: config.{arch}.widths has "
                    f"{len(a.widths)} entries")
      for i, rate in enumerate(rates):
        checks.positive_float(f"{arch}.learning_rate[{i}]", rate, allow_zero=True)
    else:
      checks.positive_float(f"{arch}.learning_rate", rates, allow_zero=True)


def seeds_per_block(config):
  """config.seeds_per_block: "auto" or an integer. The default is the string "auto", so an
  integer given on the command line (--config.seeds_per_block=4) arrives as a string."""
  value = config.seeds_per_block
  return int(value) if isinstance(value, str) and value.isdigit() else value


def arch_ns(config, arch) -> tuple[int, ...]:
  """The input sizes `arch` is trained on: config.ns up to config.<arch>.max_n."""
  max_n = config[arch].get("max_n", 0)
  return tuple(n for n in config.ns if not max_n or n <= max_n)


def num_train(config, n, k) -> int:
  """The training sample size at n: the sample-size rule of the module docstring."""
  largest_readout = max(models.ARCHITECTURES[a].readout_fan_in(n, k, max(config[a].widths))
                        if a in models.ARCHITECTURES else max(config[a].widths)
                        for a in config.archs)
  return max(config.min_num_train,
             math.ceil(config.samples_per_readout_weight * largest_readout))


def first_layer_step_scale(config, arch, n, k) -> float:
  """The first layer's step over learning_rate: the step rule of the module docstring."""
  if family(config, arch) or config[arch].first_layer_step == "same":
    return 1.0
  return 1.0 / models.ARCHITECTURES[arch].windows_per_filter(n, k)


def uses_table(config, arch, k) -> bool:
  """config.compute_path for a windowed arch: "table", "dense", or "auto" (models.uses_table)."""
  if config.compute_path == "dense" or not models.windowed(arch) or own_task(config):
    return False  # the table path reads ±1 inputs as patterns; a task of one's own may not
  return config.compute_path == "table" or models.uses_table(arch, k)


def make_task(config, locality, n, k):
  """The task of config's target, position and task seed at (locality, n, k); config.task's
  at (n, k) where the config names one."""
  if own_task(config):
    return import_paths.task(config.task, "task", n, k)
  position = None if config.position == MIDDLE else config.position
  return tasks.make_task(n, k, config.target, locality, position, config.task_seed)


def network_fields(config, arch, locality, n, k) -> dict:
  """The engine.Network fields of `arch` trained on (locality, n, k): the one way a config
  becomes a spec (train.Sweep and online.OnlineSweep add their own fields)."""
  a = config[arch]
  task, found = make_task(config, locality, n, k), family(config, arch)
  if found:
    return dict(arch=found, task=task, optimizer=a.optimizer,
                activation=config.activation)
  return dict(arch=arch, task=task, init=a.init,
              trainable=tuple(a.trainable), optimizer=a.optimizer, activation=config.activation,
              first_layer_step_scale=first_layer_step_scale(config, arch, n, k),
              table=uses_table(config, arch, k))


def task_name(config) -> str:
  """What rows record as their target: config.target, or config.task's import path."""
  return config.task if own_task(config) else config.target


def steps(config, arch) -> tuple[int, int]:
  """(num_steps, log_every) of arch: its own where config.<arch> has them, else config's."""
  a = config[arch]
  return (a.get("num_steps", config.get("num_steps")),
          a.get("log_every", config.get("log_every")))


def make_sweep(config, arch, locality, n, k, widths, num_train, bucketed=False,
               train_capacity=0, **fields) -> train.Sweep:
  """The sweep of `arch` at `widths` on (locality, n, k) with num_train samples. bucketed:
  networks.width_buckets (a geometric width grid in about the sum of its widths, one compiled
  loop per bucket); train_capacity: train.Sweep's (one program for every m up to it);
  `fields`: train.Sweep fields that replace the config's."""
  rate = config[arch].learning_rate
  num_steps, log_every = steps(config, arch)
  return train.Sweep(**{
      **network_fields(config, arch, locality, n, k), "widths": tuple(widths),
      "learning_rate": (tuple(float(r) for r in rate) if isinstance(rate, (tuple, list))
                        else float(rate)),
      "num_steps": num_steps, "log_every": log_every, "num_train": num_train,
      "num_test": config.num_test, "bucketed": bucketed, "train_capacity": train_capacity,
      "llvm_level": config.get("llvm_level"), **fields})
