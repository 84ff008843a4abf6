"""Speed ratios measured side by side in one run on one machine; writes bench.json.

  python scripts/bench.py            # full settings
  python scripts/bench.py --quick    # under 3 minutes on a 2-core CPU

Every row runs with the CPU's cores shown as JAX devices (--cpu_devices, default one per
core; the time-to-learn and samples-width configs ask for 2): our sweeps and online calls
shard their seeds over them; the per-seed loops they are compared with run one seed at a
time on one device.

Rows (each a ratio of two timings taken in this run, compile time excluded and reported
apart):
  vmap_vs_jax_loop      our sweep of S seeds (train.run_sweep with its default block,
                        seeds_per_block = "auto") vs a Python loop calling the jitted
                        one-seed sweep once per seed
  vmap_vs_torch_loop    the same sweep vs what a user would otherwise write: a per-seed
                        PyTorch loop (dense conv1d CNN, hinge loss, full-batch SGD). Most
                        of it is the pattern-table algorithm; the next two rows separate it:
  dense_vmap_vs_torch_loop  the same dense CNN step, JAX (vmapped seeds) vs the PyTorch loop
  dense_vmap_vs_torch_vmap  the same, JAX vs torch.func.vmap over the seeds
  table_vs_dense        one GD step of the CNN: pattern-table path vs dense path
  table_native_vs_xla   the table CNN step at n = 1024: the native CPU kernels of
                        table_kernels vs XLA's gather and scatter-add
  online_vmap_vs_loop   the time-to-learn online SGD step: S seeds in one call vs a loop
                        of the jitted one-seed call (networks x steps per second of each)
  width_buckets_vs_padded  an FCN sweep over widths 2, 4, ..., 128: trained in width
                        buckets (networks.width_buckets) vs every width padded to 128
  search_<arch>_shared_vs_per_m  a frontier-style search over 8 values of m, cold: one
                        program for every m (train.Sweep.train_capacity) vs one per m,
                        wall time; _compile_per_m_vs_shared: compile time (bench_search.py)
and the machine's own limits, measured in the same run:
  online_fcn_fraction_of_peak   the time-to-learn call (FCN, n = 64, width 128, batch 32,
                                one rate; sampling and evaluation included) FLOP/s of its
                                steps over the f32 matmul FLOP/s; _grid_: six rates per call
  fcn_fraction_of_peak          FCN GD step FLOP/s over the f32 matmul FLOP/s (a square
                                matmul); fcn_fraction_of_its_matmuls: over the step's own
                                two matmuls timed alone at its shapes
  table_fraction_of_bandwidth   the pattern-table CNN step's bytes moved per second (at
                                n = 1024, m = 32768: 33 MB of ids, above the 32 MB L3
                                of the test machine) over the memory bandwidth of
                                a large array copy
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from cnnfcn_jax import distributed, engine, models, online, table_kernels, tasks, train  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_search, beside it
from bench_search import bench_search  # noqa: E402


def seconds(fn, repeats=3):
  """(first-call seconds, best steady-state seconds) of fn(), blocking on its result."""
  start = time.perf_counter()
  jax.block_until_ready(fn())
  first = time.perf_counter() - start
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn())
    best = min(best, time.perf_counter() - start)
  return first, best


def sweep_settings(s):
  return train.Sweep(arch="cnn", task=tasks.make_task(s["n"], s["k"]), widths=(s["q"],),
                     init="paper", trainable=("W", "u"), optimizer="gd", learning_rate=1.0,
                     num_steps=s["steps"], log_every=s["steps"], num_train=s["m"],
                     num_test=s["m"], table=True)


def bench_vmap_vs_loop(s):
  sweep = sweep_settings(s)
  seeds = np.arange(s["seeds"], dtype=np.uint32)
  args = train.sweep_args(sweep)
  auto_block = train.resolve_block(sweep, len(seeds), train.AUTO)
  first, vmapped = seconds(lambda: train.run_sweep(sweep, seeds, train.AUTO))
  single = jax.jit(train.sweep_fn(sweep))
  jax.block_until_ready(single(seeds[:1], *args))  # compile the S = 1 program once
  _, looped = seconds(lambda: [single(seeds[i:i + 1], *args) for i in range(len(seeds))], 1)
  # The profile behind the ratio: seconds per seed of one vmapped call as S grows. Flat
  # means vmap is free; rising means the seeds compete for something (cache, bandwidth).
  per_seed = {}
  for size in sorted({1, 4, 16, len(seeds)}):
    _, t = seconds(lambda size=size: single(seeds[:size], *args), 1)
    per_seed[str(size)] = t / size
  # The engine's remedy for that: all S seeds in one call, run as blocks (lax.map).
  blocks = {}
  for block in (4, 16):
    _, t = seconds(lambda block=block: train.run_sweep(sweep, seeds, seeds_per_block=block), 1)
    blocks[str(block)] = t
  return dict(vmap_seconds=vmapped, jax_loop_seconds=looped, compile_seconds=first - vmapped,
              auto_seeds_per_block=auto_block, vmap_vs_jax_loop=looped / vmapped, seconds_per_seed_by_num_seeds=per_seed,
              sweep_seconds_by_seeds_per_block=blocks,
              blocks_vs_jax_loop={b: looped / t for b, t in blocks.items()})


def bench_torch_loop(s, vmapped_seconds):
  """Per-seed PyTorch loop doing the sweep's work; timed on torch_seeds seeds, scaled to S."""
  try:
    import torch
  except ImportError:
    return dict(vmap_vs_torch_loop=None, torch="not installed (pip install -e '.[bench]')")
  device = "cuda" if torch.cuda.is_available() else "cpu"
  n, k, q, m, steps = s["n"], s["k"], s["q"], s["m"], s["steps"]
  task = tasks.make_task(n, k)
  x_np, y_np = task.sample(jax.random.key(0), m)
  x = torch.tensor(np.asarray(x_np), device=device)[:, None, :]
  y = torch.tensor(np.asarray(y_np), device=device)

  def train_one(seed):
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    W = ((torch.randint(0, 2, (q, 1, k), generator=g) * 2 - 1) / k).to(device).requires_grad_()
    b = torch.full((q,), 1 / k - 1, device=device)
    u = torch.zeros(q, n - k + 1, device=device, requires_grad=True)
    optimizer = torch.optim.SGD([W, u], lr=1.0)
    for _ in range(steps):
      optimizer.zero_grad()
      hidden = torch.relu(torch.nn.functional.conv1d(x, W, b))        # (m, q, J)
      h = torch.einsum("mqj,qj->m", hidden, u)
      loss = torch.relu(1 - y * h).mean()
      loss.backward()
      optimizer.step()
    return float(loss.detach())

  train_one(0)  # warm-up
  timed = min(s["torch_seeds"], s["seeds"])
  start = time.perf_counter()
  for seed in range(timed):
    train_one(seed)
  if device == "cuda":
    torch.cuda.synchronize()
  per_seed = (time.perf_counter() - start) / timed
  return dict(torch_loop_seconds=per_seed * s["seeds"], torch_seeds_timed=timed,
              torch_device=device, torch_version=torch.__version__,
              vmap_vs_torch_loop=per_seed * s["seeds"] / vmapped_seconds)


def bench_dense_like_for_like(s):
  """The dense CNN step of vmap_vs_torch_loop in JAX (vmapped seeds) and torch.func.vmap."""
  try:
    import torch
    import torch.func
  except ImportError:
    return dict(dense_vmap_vs_torch_loop=None, dense_vmap_vs_torch_vmap=None)
  torch.set_num_threads(os.cpu_count())
  n, k, q, m, steps, seeds = s["n"], s["k"], s["q"], s["m"], s["dense_sweep_steps"], s["dense_seeds"]
  sweep = dataclasses.replace(sweep_settings(s), num_steps=steps, log_every=steps, table=False)
  _, jax_seconds = seconds(lambda: train.run_sweep(sweep, np.arange(seeds), train.AUTO), 1)
  x_np, y_np = tasks.make_task(n, k).sample(jax.random.key(0), m)
  x = torch.tensor(np.asarray(x_np))[:, None, :]
  y = torch.tensor(np.asarray(y_np))
  b = torch.full((q,), 1 / k - 1)

  def loss(W, u):
    h = torch.einsum("mqj,qj->m", torch.relu(torch.nn.functional.conv1d(x, W, b)), u)
    return torch.relu(1 - y * h).mean()

  def init(seed):
    g = torch.Generator().manual_seed(int(seed))
    return (torch.randint(0, 2, (q, 1, k), generator=g) * 2 - 1) / k, torch.zeros(q, n - k + 1)

  def loop():
    for seed in range(seeds):
      W, u = init(seed)
      W.requires_grad_(), u.requires_grad_()
      optimizer = torch.optim.SGD([W, u], lr=1.0)
      for _ in range(steps):
        optimizer.zero_grad()
        loss(W, u).backward()
        optimizer.step()

  grad = torch.func.vmap(torch.func.grad(loss, argnums=(0, 1)))

  def vmapped():
    W, u = (torch.stack(a) for a in zip(*[init(seed) for seed in range(seeds)]))
    for _ in range(steps):
      gW, gu = grad(W, u)
      W, u = W - gW, u - gu

  _, loop_seconds = seconds(loop, 1)
  _, vmap_seconds = seconds(vmapped, 1)
  return dict(dense_jax_seconds=jax_seconds, dense_torch_loop_seconds=loop_seconds,
              dense_torch_vmap_seconds=vmap_seconds,
              dense_vmap_vs_torch_loop=loop_seconds / jax_seconds,
              dense_vmap_vs_torch_vmap=vmap_seconds / jax_seconds)


def fcn_step_flops(m, n, r):
  """FLOPs of one FCN gradient step on m inputs: the forward x W^T (2mnr) and the backward
  dW (2mnr); the readout and elementwise work add O(mr), counted too. x needs no gradient."""
  return 4 * m * n * r + 8 * m * r


def bench_online(s):
  """networks x steps / s of the time-to-learn call: S seeds at once vs one seed at a time,
  and its FLOP/s (online_fcn_step_flops, over the matmul peak in main).

  The FCN on the k = log2 n parity at n = 64 does not succeed within the steps timed, so
  every network runs exactly the steps timed. FLOPs per network-step: fcn_step_flops on its
  batch; the call's sampling, evaluations (at step 0 and at the end, 8192 samples each) and setup are
  timed with it but not counted.
  """
  n, r, batch = 64, 128, 32
  spec = online.OnlineSweep(
      arch="fcn", task=tasks.make_task(n, 6), width=r, init="gaussian_bias",
      trainable=("W", "b", "u"), optimizer="sgd", batch_size=batch,
      check_steps=(0, s["online_steps"]), num_eval=8192, success_accuracy=0.99, stop="all")
  seeds = np.arange(s["online_seeds"])
  _, together = seconds(lambda: online.run(spec, seeds, (0.1,)), 1)
  online.run(spec, seeds[:1], (0.1,))  # compile the one-seed call
  _, alone = seconds(lambda: [online.run(spec, seeds[i:i + 1], (0.1,))
                              for i in range(len(seeds))], 1)
  work = len(seeds) * s["online_steps"]
  long_spec = dataclasses.replace(spec, check_steps=(0, s["online_flops_steps"]))
  _, long = seconds(lambda: online.run(long_spec, seeds, (0.1,)), 1)
  flops = len(seeds) * s["online_flops_steps"] * fcn_step_flops(batch, n, r)
  grid = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
  _, grid_seconds = seconds(lambda: online.run(long_spec, seeds, grid), 1)
  return dict(online_vmap_network_steps_per_second=work / together,
              online_loop_network_steps_per_second=work / alone,
              online_vmap_vs_loop=alone / together, online_fcn_step_flops=flops / long,
              online_fcn_grid_step_flops=len(grid) * flops / grid_seconds)


def bench_width_buckets(s):
  """A geometric width sweep (FCN, widths 2, 4, ..., 128, full-batch GD) trained in width
  buckets against the same widths padded to the largest, same seeds and steps."""
  sweep = train.Sweep(arch="fcn", task=tasks.make_task(12, 3), widths=(2, 4, 8, 16, 32, 64, 128),
                      init="gaussian_bias", trainable=("W", "b", "u"), optimizer="sgd",
                      learning_rate=0.1, num_steps=s["bucket_steps"],
                      log_every=s["bucket_steps"], num_train=2048, num_test=2048)
  seeds = np.arange(s["bucket_seeds"])
  times = {}
  compile_seconds = {}
  for bucketed in (True, False):
    one = dataclasses.replace(sweep, bucketed=bucketed)
    compile_seconds[bucketed], times[bucketed] = seconds(
        lambda one=one: train.run_sweep(one, seeds), 2)
  return dict(width_buckets_seconds=times[True], width_padded_seconds=times[False],
              width_buckets_vs_padded=times[False] / times[True],
              width_buckets_first_call_seconds=compile_seconds[True],
              width_padded_first_call_seconds=compile_seconds[False])


def bench_bandwidth(s):
  """Bytes per second of a copy of a large float32 array (read once, written once)."""
  a = jnp.ones(s["bandwidth_floats"], jnp.float32)
  copy = jax.jit(lambda a: a * 1.5)
  _, best = seconds(lambda: copy(a), repeats=5)
  return dict(memory_bytes_per_second=2 * a.size * 4 / best)


def gd_steps(loss_fn, steps, lr=0.1):
  """jit of (params, *data) -> params after `steps` full-batch GD steps on loss_fn(params, *data).

  The data are arguments, not closed-over constants, as in the sweep engine.
  """
  def step(p, *data):
    return jax.tree.map(lambda a, g: a - lr * g, p, jax.grad(loss_fn)(p, *data))

  if steps == 1:  # no loop around it: XLA's CPU convolution is much slower inside a scan
    return jax.jit(step)
  return jax.jit(lambda p, *data: jax.lax.scan(lambda p, _: (step(p, *data), None), p, None,
                                               length=steps)[0])


def step_seconds(loss_fn, params, data, steps):
  """Best seconds per GD step: `steps` steps in one lax.scan, or a loop of jitted steps.

  Each path gets the faster of the two (XLA on the CPU runs the dense convolution about
  6x slower inside a scan than as a single jitted step; measured, this machine).
  """
  in_scan_fn = gd_steps(loss_fn, steps)  # built once: the timing excludes tracing
  _, in_scan = seconds(lambda: in_scan_fn(params, *data), repeats=2)
  one_step = gd_steps(loss_fn, 1)

  def loop():
    p = params
    for _ in range(steps):
      p = one_step(p, *data)
    return p

  _, looped = seconds(loop, repeats=2)
  return min(in_scan, looped) / steps


def bench_table_vs_dense(s):
  n, k, q, m = s["table_n"], s["table_k"], s["table_q"], s["table_m"]
  task = tasks.make_task(n, k)
  x, y = task.sample(jax.random.key(1), m)
  ids = models.pattern_ids(x, k)
  params = models.init_params("cnn", jax.random.key(2), n, k, q, "gaussian")
  per_step = {}
  for name, inputs, table, steps in (("dense", x, False, s["dense_steps"]),
                                     ("table", ids, True, s["table_steps"])):
    loss = lambda p, inputs, y, table=table: engine.hinge_loss(  # noqa: E731
        models.apply("cnn", p, inputs, table=table), y)
    per_step[name] = step_seconds(loss, params, (inputs, y), steps)
  return dict(dense_step_seconds=per_step["dense"], table_step_seconds=per_step["table"],
              table_vs_dense=per_step["dense"] / per_step["table"])


def bench_table_bandwidth(s):
  """The pattern-table CNN step at a size whose ids leave the cache (n = 1024): the native
  CPU kernels against XLA's gather and scatter-add, and the bytes per second they move.

  Bytes moved per step by the native kernels: the (m, J) pattern ids (one byte each at
  k = 4), read by the forward gather and again by the backward scatter-add; the 2^k x J
  table and its gradient stay in cache, and the per-input values are m floats.
  """
  n, k, q, m = s["bandwidth_n"], 4, 128, s["bandwidth_m"]
  x, y = tasks.make_task(n, k).sample(jax.random.key(6), m)
  ids = models.pattern_ids(x, k)
  params = models.init_params("cnn", jax.random.key(7), n, k, q, "gaussian")

  def loss(p, ids, y, readout=table_kernels.readout):
    return engine.hinge_loss(models.apply_cnn_table(p, ids, readout=readout), y)

  per_step = step_seconds(loss, params, (ids, y), 3)
  xla_loss = functools.partial(loss, readout=table_kernels.readout_xla)
  xla_per_step = step_seconds(xla_loss, params, (ids, y), 3)
  moved = 2 * ids.size * ids.dtype.itemsize
  return dict(table_large_step_seconds=per_step, table_large_xla_step_seconds=xla_per_step,
              table_native_vs_xla=xla_per_step / per_step,
              table_ids_per_second=2 * ids.size / per_step,
              table_step_bytes_per_second=moved / per_step)


def bench_fcn_peak(s):
  size = s["matmul_size"]
  a = jax.random.normal(jax.random.key(3), (size, size), jnp.float32)
  matmul = jax.jit(lambda a: a @ a)
  _, best = seconds(lambda: matmul(a), repeats=5)
  peak = 2 * size**3 / best
  n, r, m, steps = s["fcn_n"], s["fcn_r"], s["fcn_m"], s["fcn_steps"]
  x = jax.random.rademacher(jax.random.key(4), (m, n), jnp.float32)
  y = jnp.sign(x[:, 0] * x[:, 1])
  params = models.init_params("fcn", jax.random.key(5), n, 2, r, "gaussian")
  loss = lambda p, x, y: engine.hinge_loss(models.apply_fcn(p, x), y)  # noqa: E731
  best = step_seconds(loss, params, (x, y), steps) * steps
  flops = steps * fcn_step_flops(m, n, r)
  # The step's two matmuls alone, at its own shapes: what XLA's CPU matmul reaches there.
  delta = jnp.ones((m, r), jnp.float32)
  forward, backward = jax.jit(lambda W, x: x @ W.T), jax.jit(lambda d, x: d.T @ x)
  _, t_forward = seconds(lambda: forward(params["W"], x), repeats=5)
  _, t_backward = seconds(lambda: backward(delta, x), repeats=5)
  shapes_flops = 4 * m * n * r / (t_forward + t_backward)
  return dict(matmul_peak_flops=peak, fcn_step_flops=flops / best,
              fcn_fraction_of_peak=flops / best / peak, fcn_matmuls_flops=shapes_flops,
              fcn_fraction_of_its_matmuls=flops / best / shapes_flops)


SETTINGS = dict(
    full=dict(n=64, k=4, q=128, m=4096, steps=100, seeds=64, torch_seeds=8,
              dense_seeds=8, dense_sweep_steps=10, online_seeds=64, online_steps=2000,
              online_flops_steps=5000, bucket_seeds=32, bucket_steps=200,
              bandwidth_floats=2**27, bandwidth_n=1024, bandwidth_m=32768,
              table_n=64, table_k=6, table_q=256, table_m=8192, dense_steps=5, table_steps=200,
              matmul_size=4096, fcn_n=512, fcn_r=1024, fcn_m=65536, fcn_steps=5,
              search_seeds=64, search_steps=300),
    quick=dict(n=64, k=4, q=128, m=2048, steps=50, seeds=64, torch_seeds=4,
               dense_seeds=4, dense_sweep_steps=5, online_seeds=32, online_steps=500,
               online_flops_steps=2000, bucket_seeds=16, bucket_steps=100,
               bandwidth_floats=2**26, bandwidth_n=1024, bandwidth_m=32768,
               table_n=64, table_k=6, table_q=256, table_m=8192, dense_steps=2, table_steps=50,
               matmul_size=2048, fcn_n=256, fcn_r=512, fcn_m=32768, fcn_steps=3,
               search_seeds=16, search_steps=100),
)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true", help="smaller settings, < 3 minutes")
  parser.add_argument("--out", default="bench.json", help="where to write the table")
  parser.add_argument("--cpu_devices", type=int, default=0,
                      help="JAX devices the CPU's cores are shown as (0: one per core)")
  args = parser.parse_args()
  distributed.show_cpu_devices(args.cpu_devices)
  s = SETTINGS["quick" if args.quick else "full"]
  result = dict(settings=s, device=str(jax.devices()[0]), platform=platform.platform(),
                jax_version=jax.__version__, cpu_count=os.cpu_count(),
                local_devices=jax.local_device_count())
  start = time.perf_counter()
  result.update(bench_vmap_vs_loop(s))
  result.update(bench_torch_loop(s, result["vmap_seconds"]))
  result.update(bench_dense_like_for_like(s))
  result.update(bench_table_vs_dense(s))
  result.update(bench_online(s))
  result.update(bench_width_buckets(s))
  result.update(bench_search(s))
  result.update(bench_fcn_peak(s))
  result.update(bench_bandwidth(s))
  result.update(bench_table_bandwidth(s))
  result["table_fraction_of_bandwidth"] = (result["table_step_bytes_per_second"]
                                           / result["memory_bytes_per_second"])
  for name in ("online_fcn", "online_fcn_grid"):
    result[f"{name}_fraction_of_peak"] = (result[f"{name}_step_flops"]
                                          / result["matmul_peak_flops"])
  result["total_seconds"] = time.perf_counter() - start
  with open(args.out + ".tmp", "w") as f:
    json.dump(result, f, indent=2)
  os.replace(args.out + ".tmp", args.out)
  rows = [("vmap_vs_jax_loop", "S seeds, default blocks, vs a jitted per-seed loop", 1.1),
          ("vmap_vs_torch_loop", "the same vs a per-seed PyTorch loop", 10),
          ("dense_vmap_vs_torch_loop", "dense CNN step: vmapped JAX vs PyTorch loop", None),
          ("dense_vmap_vs_torch_vmap", "dense CNN step: vmapped JAX vs torch.func.vmap", None),
          ("table_vs_dense", "CNN GD step: pattern table vs dense", 20),
          ("table_native_vs_xla", "table CNN step, n=1024: native kernels vs XLA", None),
          ("online_vmap_vs_loop", "online SGD step: S seeds in one call vs a loop", None),
          ("width_buckets_vs_padded", "widths 2..128 in buckets vs padded to 128", 2),
          ("search_cnn_shared_vs_per_m", "search over 8 m, cold: one program vs one per m", 1.5),
          ("search_cnn_compile_per_m_vs_shared", "the same, compile time", None),
          ("search_fcn_shared_vs_per_m", "the same, FCN (Adam)", 1.5),
          ("search_fcn_compile_per_m_vs_shared", "the same, compile time", None),
          ("online_fcn_fraction_of_peak", "online FCN SGD call FLOP/s / matmul FLOP/s", 0.25),
          ("online_fcn_grid_fraction_of_peak", "the same, 6 rates per call", None),
          ("fcn_fraction_of_peak", "FCN GD step FLOP/s / f32 matmul FLOP/s", 0.5),
          ("fcn_fraction_of_its_matmuls", "the same / its two matmuls alone", None),
          ("table_fraction_of_bandwidth", "table CNN step bytes/s / copy bytes/s", 0.3)]
  print(f"device: {result['device']}  ({result['platform']}, {result['cpu_count']} CPUs, "
        f"{result['local_devices']} devices)")
  print(f"{'row':28s} {'measured':>10s} {'target':>8s}  what")
  for key, what, target in rows:
    value = result.get(key)
    shown = "n/a" if value is None else f"{value:.3g}"
    goal = "" if target is None else f">= {target}"
    print(f"{key:28s} {shown:>10s} {goal:>8s}  {what}")
  print("vmapped sweep, seconds per seed at S seeds per call: " + ", ".join(
      f"S={size}: {t:.3g}" for size, t in result["seconds_per_seed_by_num_seeds"].items()))
  print("the same sweep in blocks (seeds_per_block), vs the per-seed loop: " + ", ".join(
      f"{b}: {r:.3g}" for b, r in result["blocks_vs_jax_loop"].items()))
  print(f"compile {result['compile_seconds']:.2f}s (apart from run time), "
        f"total {result['total_seconds']:.0f}s; wrote {args.out}")


if __name__ == "__main__":
  main()
