"""The k-pattern separation (SPEC §3-§5): CNN and LCN learn a k-pattern, the FCN does not.

For every architecture, locality (`local` / `nonlocal` twin) and input size n, one jitted
sweep trains all seeds x widths; each trained network becomes one row of results.jsonl.
"""

from __future__ import annotations

import ml_collections

from cnnfcn_jax import checks, models, outputs, tasks, train

MAX_TABLE_K = 12  # the pattern table has 2^k rows; beyond this the dense path is cheaper
PATHS = ("auto", "dense", "table")
MIDDLE = -1  # config.position value meaning "the middle window"


def arch_config(widths, init, trainable, optimizer, learning_rate, max_n=0):
  """One architecture's training settings, as configs/separation.py and fcn_stuck.py use them.

  max_n > 0 skips this architecture at n > max_n (0: every n of config.ns).
  """
  return ml_collections.ConfigDict(dict(widths=widths, init=init, trainable=trainable,
                                        optimizer=optimizer, learning_rate=learning_rate,
                                        max_n=max_n))


def validate(config):
  """Raise checks.ConfigError naming the first invalid field."""
  c = config
  checks.positive_int("k", c.k)
  if c.k > 20:
    checks.fail("k", c.k, "k <= 20 (targets are tables of 2^k entries)")
  validate_task(c, c.ns, c.k)
  validate_training(c)


def validate_task(c, ns, k):
  """ns, target, localities, position, task_seed, for patterns of size k (largest k if many)."""
  checks.nonempty_tuple("ns", ns, checks.positive_int)
  if min(ns) < k:
    checks.fail("ns", ns, f"every n >= k = {k} (a k-pattern needs k input bits); "
                "lower config.k or raise config.ns")
  checks.choice("target", c.target, tasks.TARGETS)
  checks.nonempty_tuple("localities", c.localities,
                        lambda f, v: checks.choice(f, v, tasks.LOCALITIES))
  if "nonlocal" in c.localities and min(ns) < tasks.min_nonlocal_n(k):
    checks.fail("ns", ns, f"every n >= {tasks.min_nonlocal_n(k)} for the nonlocal twin with "
                f"k = {k} (k coordinates pairwise >= k apart), or drop 'nonlocal' from "
                "config.localities")
  if not isinstance(c.position, int) or isinstance(c.position, bool):
    checks.fail("position", c.position, f"an integer window start, or {MIDDLE} for the middle")
  if c.position != MIDDLE and not 0 <= c.position <= min(ns) - k:
    checks.fail("position", c.position, f"{MIDDLE} (middle) or a window start in "
                f"[0, min(ns) - k] = [0, {min(ns) - k}]")
  checks.positive_int("task_seed", c.task_seed, minimum=0)


def validate_training(c):
  """archs and their settings, seeds, sample sizes, steps, activation, path."""
  checks.nonempty_tuple("archs", c.archs, lambda f, v: checks.choice(f, v, models.ARCHS))
  checks.seeds("seeds", c.seeds)
  checks.positive_int("seeds_per_block", c.seeds_per_block, minimum=0)
  checks.positive_int("seeds_per_call", c.seeds_per_call, minimum=0)
  block = c.seeds_per_block or len(c.seeds)
  if c.seeds_per_call % block:
    checks.fail("seeds_per_call", c.seeds_per_call,
                f"0 or a multiple of config.seeds_per_block = {block} (whole blocks per call)")
  checks.positive_int("num_train", c.num_train)
  checks.positive_int("num_test", c.num_test)
  checks.positive_int("num_steps", c.num_steps)
  checks.positive_int("log_every", c.log_every)
  if c.num_steps % c.log_every:
    checks.fail("log_every", c.log_every, f"a divisor of config.num_steps = {c.num_steps}")
  checks.choice("activation", c.activation, tuple(models.ACTIVATIONS))
  checks.choice("path", c.path, PATHS)
  for arch in c.archs:
    a = c[arch]
    checks.nonempty_tuple(f"{arch}.widths", a.widths, checks.positive_int)
    allowed_inits = [s for s, archs in models.INIT_SCHEMES.items() if arch in archs]
    checks.choice(f"{arch}.init", a.init, allowed_inits)
    checks.nonempty_tuple(f"{arch}.trainable", a.trainable,
                          lambda f, v: checks.choice(f, v, models.PARAM_GROUPS))
    checks.choice(f"{arch}.optimizer", a.optimizer, tuple(train.OPTIMIZERS))
    checks.positive_int(f"{arch}.max_n", a.get("max_n", 0), minimum=0)
    if not arch_ns(c, arch):
      checks.fail(f"{arch}.max_n", a.max_n, f"0 (no limit) or at least min(config.ns) = "
                  f"{min(c.ns)}, or drop '{arch}' from config.archs")
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


def uses_table(config, arch, k) -> bool:
  if arch == "fcn" or config.path == "dense":
    return False
  return config.path == "table" or k <= MAX_TABLE_K


def make_sweep(config, arch, locality, n, k=None) -> train.Sweep:
  """The sweep of one (arch, locality, n); k defaults to config.k."""
  a = config[arch]
  k = config.k if k is None else k
  position = None if config.position == MIDDLE else config.position
  task = tasks.make_task(n, k, config.target, locality, position, config.task_seed)
  return train.Sweep(
      arch=arch, task=task, widths=tuple(a.widths), init=a.init, trainable=tuple(a.trainable),
      optimizer=a.optimizer, num_steps=config.num_steps,
      learning_rate=(tuple(float(r) for r in a.learning_rate)
                     if isinstance(a.learning_rate, (tuple, list)) else float(a.learning_rate)),
      log_every=config.log_every, num_train=config.num_train, num_test=config.num_test,
      activation=config.activation, table=uses_table(config, arch, k))


def run(config, checkpoint=outputs.Checkpoint()) -> list[dict]:
  """Train every network of the config; one dict per network (arch, locality, n, width, seed)."""
  return run_groups(config, [(arch, locality, n, config.k) for locality in config.localities
                             for arch in config.archs for n in arch_ns(config, arch)],
                    checkpoint)


def arch_ns(config, arch) -> tuple[int, ...]:
  """The input sizes `arch` is trained on: config.ns up to its max_n."""
  max_n = config[arch].get("max_n", 0)
  return tuple(n for n in config.ns if not max_n or n <= max_n)


def run_groups(config, groups, checkpoint) -> list[dict]:
  """One sweep per (arch, locality, n, k) group, each a checkpointed unit."""
  return checkpoint.run_units(
      [(f"{arch}-{locality}-n{n}-k{k}", n * max(config[arch].widths),
        lambda arch=arch, locality=locality, n=n, k=k: sweep_rows(config, arch, locality, n, k))
       for arch, locality, n, k in groups], "sweep")


def sweep_rows(config, arch, locality, n, k) -> list[dict]:
  """Train one group's seeds x widths; one row per network."""
  sweep = make_sweep(config, arch, locality, n, k)
  out = train.run_sweep(sweep, config.seeds, config.seeds_per_block, config.seeds_per_call)
  rows = []
  for s, seed in enumerate(config.seeds):
    for w, width in enumerate(sweep.widths):
      curves = {name: [float(v) for v in out[name][s, w]] for name in train.METRICS}
      rows.append(dict(
          arch=arch, locality=locality, n=n, k=k, target=config.target,
          coordinates=list(sweep.task.coordinates), width=width, seed=seed,
          path="table" if sweep.table else "dense",
          test_accuracy=curves["test_accuracy"][-1],
          train_accuracy=curves["train_accuracy"][-1],
          final_loss=curves["train_loss"][-1],
          grad_norm=curves["grad_norm"][-1],
          first_layer_distance=curves["first_layer_distance"][-1],
          diverged=bool(curves["diverged"][-1]),
          steps=[int(t) for t in sweep.record_steps], curves=curves))
  return rows
