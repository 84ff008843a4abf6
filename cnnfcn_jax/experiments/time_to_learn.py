"""Time to learn (docs/spec.md §9): SGD steps until a k-parity is learned, against n.

One checkpointed unit per (arch, locality, n, k) cell: all seeds in one compiled call of
online.run. A cell belongs to the fixed-k series when k is in fixed_ks and n in <arch>.ns,
to the k = log2 n series when n is in <arch>.log2_ns and k = log2 n; a cell in both is run once and its
rows appear once per series (field k_schedule). One row per network.

The report gives, per cell, the success fraction by num_steps (Wilson interval) and the
median and quartiles of steps-to-success with distribution-free order-statistic intervals;
per (arch, k) of the fixed-k series, the exponent α of median ≈ c n^α with a bootstrap
interval over seeds; figures of the medians against n and of the survival curves.
"""

from __future__ import annotations

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import scipy.stats

from cnnfcn_jax import checks, models, online, outputs, plots, sweeps, tasks, theory, train

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
CNN_LCN_SUCCESS = 0.95  # k = log2 n: CNN and LCN succeed on at least this fraction at every n
FCN_STUCK = 0.5  # k = log2 n: the FCN's success fraction at the largest n is below this
NONLOCAL_SUCCESS = 0.05  # non-local twin: CNN and LCN succeed on at most this fraction
SERIES = ("fixed", "log2_n")


# --------------------------------------------------------------------------- validate


def validate(c):
  """Raise checks.ConfigError naming the first invalid field."""
  checks.nonempty_tuple("fixed_ks", c.fixed_ks, checks.positive_int)
  if max(c.fixed_ks) > 20:
    checks.fail("fixed_ks", c.fixed_ks, "k <= 20 (targets are tables of 2^k entries)")
  checks.nonempty_tuple("archs", c.archs, lambda f, v: checks.choice(f, v, models.ARCHS))
  for arch in c.archs:
    if arch not in c:
      checks.fail("archs", c.archs, f"architectures with their settings in the config; "
                  f"config.{arch} is missing (add it, or drop '{arch}' from config.archs)")
    a = c[arch]
    # An empty tuple leaves the arch out of a series; the others are checked as tasks.
    for field in ("ns", "log2_ns"):
      if not isinstance(a[field], (tuple, list)):
        checks.fail(f"{arch}.{field}", a[field], "a tuple of input sizes, () for none")
    if a.ns:
      sweeps.validate_task(c, a.ns, max(c.fixed_ks), field=f"{arch}.ns")
    if a.log2_ns:
      if any(not isinstance(n, int) or n < 4 or n & (n - 1) for n in a.log2_ns):
        checks.fail(f"{arch}.log2_ns", a.log2_ns, "powers of two >= 4 (k = log2 n)")
      # n - log2 n and the room for a nonlocal twin grow with n: the smallest n binds.
      sweeps.validate_task(c, a.log2_ns, int(math.log2(min(a.log2_ns))),
                           field=f"{arch}.log2_ns")
  checks.seeds("seeds", c.seeds)
  checks.choice("protocol", c.protocol, online.PROTOCOLS)
  checks.positive_int("batch_size", c.batch_size)
  checks.positive_int("num_train", c.num_train)
  checks.positive_int("num_steps", c.num_steps)
  checks.positive_int("eval_every", c.eval_every)
  checks.positive_float("eval_growth", c.eval_growth)
  if c.eval_growth < 1:
    checks.fail("eval_growth", c.eval_growth, "a factor >= 1 (1 = every eval_every steps)")
  checks.positive_int("num_eval", c.num_eval)
  checks.fraction("success_accuracy", c.success_accuracy)
  checks.choice("activation", c.activation, tuple(models.ACTIVATIONS))
  checks.choice("compute_path", c.compute_path, sweeps.COMPUTE_PATHS)
  for arch in c.archs:
    a = c[arch]
    checks.positive_int(f"{arch}.width", a.width, minimum=0)
    checks.positive_int(f"{arch}.width_per_pattern", a.width_per_pattern, minimum=0)
    if not a.width and not a.width_per_pattern:
      checks.fail(f"{arch}.width", a.width, f"a width > 0, or config.{arch}.width_per_pattern "
                  "> 0 (width = max(width, width_per_pattern x 2^k))")
    checks.choice(f"{arch}.init", a.init, models.ARCHITECTURES[arch].init_schemes)
    checks.nonempty_tuple(f"{arch}.trainable", a.trainable,
                          lambda f, v: checks.choice(f, v, models.PARAM_GROUPS))
    checks.choice(f"{arch}.optimizer", a.optimizer, tuple(train.OPTIMIZERS))
    checks.positive_float(f"{arch}.learning_rate", a.learning_rate)
    checks.choice(f"{arch}.first_layer_step", a.first_layer_step, sweeps.FIRST_LAYER_STEPS)
  if not cells(c):
    checks.fail("archs", c.archs, "at least one architecture with a non-empty ns or log2_ns")


# -------------------------------------------------------------------------------- run


def cells(c) -> dict:
  """{(arch, locality, n, k): [k_schedule, ...]} of every cell the config runs, in order."""
  result = {}
  for locality in c.localities:
    for arch in c.archs:
      a = c[arch]
      for k in c.fixed_ks:
        for n in a.ns:
          result.setdefault((arch, locality, n, k), []).append("fixed")
      for n in a.log2_ns:
        result.setdefault((arch, locality, n, int(math.log2(n))), []).append("log2_n")
  return result


def width(c, arch, k) -> int:
  return max(c[arch].width, c[arch].width_per_pattern * 2**k)


def make_spec(c, arch, locality, n, k) -> online.OnlineSweep:
  a = c[arch]
  position = None if c.position == sweeps.MIDDLE else c.position
  return online.OnlineSweep(
      arch=arch, task=tasks.make_task(n, k, c.target, locality, position, c.task_seed),
      width=width(c, arch, k), init=a.init, trainable=tuple(a.trainable),
      optimizer=a.optimizer, learning_rate=float(a.learning_rate), batch_size=c.batch_size,
      check_steps=online.check_schedule(c.num_steps, c.eval_every, c.eval_growth),
      num_eval=c.num_eval, success_accuracy=c.success_accuracy, protocol=c.protocol,
      num_train=c.num_train, activation=c.activation,
      first_layer_step_scale=sweeps.first_layer_step_scale(c, arch, n, k),
      table=sweeps.uses_table(c, arch, k))


def run(c, checkpoint=outputs.Checkpoint()) -> list[dict]:
  units = [(f"{arch}-{locality}-n{n}-k{k}", n * width(c, arch, k),
            lambda key=(arch, locality, n, k), series=series: cell_rows(c, *key, series))
           for (arch, locality, n, k), series in cells(c).items()]
  return checkpoint.run_units(units, "cell")


def cell_rows(c, arch, locality, n, k, series) -> list[dict]:
  """All seeds of one cell in one compiled call; one row per network and series."""
  spec = make_spec(c, arch, locality, n, k)
  start = time.perf_counter()
  online.compiled_call(spec, len(c.seeds))
  compile_seconds = time.perf_counter() - start
  out = online.run(spec, c.seeds)
  run_seconds = time.perf_counter() - start - compile_seconds
  steps_run = len(c.seeds) * int(out["stopped_at"][0])
  rows = []
  for s, seed in enumerate(c.seeds):
    first = int(out["steps_to_success"][s])
    for k_schedule in series:
      rows.append(dict(
          arch=arch, locality=locality, k_schedule=k_schedule, k=k, n=n, width=spec.width,
          seed=seed, protocol=c.protocol, batch_size=c.batch_size,
          learning_rate=spec.learning_rate,
          first_layer_learning_rate=spec.learning_rate * spec.first_layer_step_scale,
          num_steps=c.num_steps, eval_every=c.eval_every, eval_growth=c.eval_growth,
          steps_to_success=first if first >= 0 else None,
          final_eval_accuracy=float(out["final_eval_accuracy"][s]),
          stopped_at=int(out["stopped_at"][s]), compute_path="table" if spec.table else "dense",
          compile_seconds=compile_seconds, run_seconds=run_seconds,
          steps_per_second=steps_run / max(run_seconds, 1e-9)))
  return rows


# ---------------------------------------------------------------------------- analyse


def times_of(steps_to_success) -> np.ndarray:
  """Rows' steps_to_success values as floats, censored networks (None) as +inf."""
  return np.array([np.inf if t is None else t for t in steps_to_success], float)


def quantile_with_interval(times, q, confidence=CONFIDENCE):
  """(estimate, low, high) of the q-quantile of times (censored = inf), order statistics.

  The estimate is the order statistic of rank ceil(q N); the interval is [x_(l), x_(u)]
  with l, u the binomial ranks covering the quantile with probability >= confidence
  (distribution-free). Entries are inf where they fall on censored networks: the estimate
  is then undefined (more than 1 - q of the seeds censored) and an upper end unbounded.
  """
  x = np.sort(np.asarray(times, float))
  num = len(x)
  rank = max(1, math.ceil(q * num))
  alpha = 1 - confidence
  low = int(scipy.stats.binom.ppf(alpha / 2, num, q))
  high = int(scipy.stats.binom.ppf(1 - alpha / 2, num, q)) + 1
  low_value = x[low - 1] if low >= 1 else 0.0
  high_value = x[high - 1] if high <= num else np.inf
  return float(x[rank - 1]), float(low_value), float(high_value)


def median(times, axis=-1):
  """The order statistic of rank ceil(N / 2), the median of quantile_with_interval."""
  return np.quantile(times, 0.5, axis=axis, method="inverted_cdf")


def fit_exponent(ns, medians):
  """α and log c of medians ≈ c n^α, least squares on log-log axes."""
  alpha, log_c = np.polyfit(np.log(np.asarray(ns, float)), np.log(np.asarray(medians, float)),
                            1)
  return float(alpha), float(log_c)


def fitted_cells(rows):
  """[(n, times)] of the cells with a defined median (more than half the seeds succeeded)."""
  result = []
  for (n,), group in sorted(plots.group_rows(rows, ("n",), "steps_to_success").items()):
    times = times_of(group)
    if np.isfinite(quantile_with_interval(times, 0.5)[0]):
      result.append((n, times))
  return result


def exponent_with_interval(rows, num_steps, seed=0):
  """(α, low, high, cells used) of one (arch, k): fit on the cells with a defined median.

  The interval is scipy's percentile bootstrap over seeds, each cell resampled on its own;
  censored networks count as num_steps there (a resample rarely puts its median on one).
  None when fewer than two cells have a median.
  """
  used = fitted_cells(rows)
  if len(used) < 2:
    return None
  ns = np.log(np.array([n for n, _ in used], float))
  alpha = fit_exponent([n for n, _ in used], [median(t) for _, t in used])[0]

  def statistic(*samples, axis=-1):
    log_medians = np.log(np.stack([median(s, axis) for s in samples], axis=-1))
    centred = ns - ns.mean()
    return (log_medians * centred).sum(-1) / (centred**2).sum()

  data = tuple(np.minimum(t, num_steps) for _, t in used)
  result = scipy.stats.bootstrap(data, statistic, n_resamples=BOOTSTRAP_RESAMPLES,
                                 confidence_level=CONFIDENCE, method="percentile",
                                 vectorized=True, random_state=np.random.default_rng(seed))
  ci = result.confidence_interval
  return alpha, float(ci.low), float(ci.high), [n for n, _ in used]


def cell_table(rows):
  """{(k_schedule, locality, arch, k, n): stats} for every cell of rows."""
  keys = ("k_schedule", "locality", "arch", "k", "n")
  first = {}  # one row of each cell, for the fields its rows share
  for r in rows:
    first.setdefault(tuple(r[k] for k in keys), r)
  table = {}
  for key, group in plots.group_rows(rows, keys, "steps_to_success").items():
    times = times_of(group)
    hits = int(np.isfinite(times).sum())
    table[key] = dict(
        seeds=len(times), successes=hits, fraction=hits / len(times),
        wilson=theory.wilson_interval(hits, len(times)),
        median=quantile_with_interval(times, 0.5), q1=quantile_with_interval(times, 0.25),
        q3=quantile_with_interval(times, 0.75), times=times,
        steps_per_second=first[key]["steps_per_second"], width=first[key]["width"])
  return table


# ----------------------------------------------------------------------------- claims


def exponents(rows):
  """{(locality, arch, k): exponent_with_interval} over the fixed-k series."""
  fixed = [r for r in rows if r["k_schedule"] == "fixed"]
  result = {}
  for locality, arch, k in sorted({(r["locality"], r["arch"], r["k"]) for r in fixed}):
    cell = [r for r in fixed if (r["locality"], r["arch"], r["k"]) == (locality, arch, k)]
    result[locality, arch, k] = exponent_with_interval(cell, cell[0]["num_steps"])
  return result


def segment_slopes(stats_by_n):
  """Log-log slopes of the median between consecutive n with a defined median."""
  points = [(n, s["median"][0]) for n, s in sorted(stats_by_n.items())
            if np.isfinite(s["median"][0])]
  return [math.log(t2 / t1) / math.log(n2 / n1) for (n1, t1), (n2, t2) in zip(points, points[1:])]


def claim_verdicts(rows, alphas=None) -> list[plots.Verdict]:
  """The separation in time, as docs/spec.md §9 expects it; see the module docstring."""
  alphas = exponents(rows) if alphas is None else alphas
  table = cell_table(rows)
  result = []
  fmt = lambda e: f"{e[0]:.2f} [{e[1]:.2f}, {e[2]:.2f}]"  # noqa: E731
  local_ks = sorted({k for (l, _, k), e in alphas.items() if l == "local" and e})
  for arch in sorted({a for (l, a, _), e in alphas.items() if l == "local" and e}):
    ks = [k for k in local_ks if alphas.get(("local", arch, k))]
    if len(ks) < 2:
      continue
    low, high = alphas["local", arch, ks[0]], alphas["local", arch, ks[-1]]
    what = f"α(k = {ks[0]}) = {fmt(low)}, α(k = {ks[-1]}) = {fmt(high)}"
    if models.ARCHITECTURES[arch].windowed:
      result.append(plots.Verdict(
          f"{plots.label(arch)}: the exponent does not grow with k beyond its intervals "
          f"(α(k = {ks[-1]})'s interval reaches down to α(k = {ks[0]})'s)",
          high[1] <= low[2], what))
    else:
      result.append(plots.Verdict(
          f"{plots.label(arch)}: the exponent grows with k (α(k = {ks[-1]}) above "
          f"α(k = {ks[0]}), 95% intervals disjoint)", high[1] > low[2], what))
  log2 = {key: s for key, s in table.items() if key[0] == "log2_n" and key[1] == "local"}
  for arch in sorted({key[2] for key in log2}):
    by_n = {key[4]: s for key, s in log2.items() if key[2] == arch}
    largest = max(by_n)
    if models.ARCHITECTURES[arch].windowed:
      worst = min(by_n, key=lambda n: by_n[n]["fraction"])
      result.append(plots.Verdict(
          f"{plots.label(arch)}, k = log2 n: at least {CNN_LCN_SUCCESS:.0%} of seeds succeed "
          "at every n", by_n[worst]["fraction"] >= CNN_LCN_SUCCESS,
          f"lowest {by_n[worst]['fraction']:.2f} at n = {worst}"))
    else:
      slopes = segment_slopes(by_n)
      result.append(plots.Verdict(
          f"{plots.label(arch)}, k = log2 n: the median's log-log slope rises from segment "
          "to segment (faster than any power of n)",
          len(slopes) >= 2 and all(b > a for a, b in zip(slopes, slopes[1:])),
          "slopes " + (", ".join(f"{s:.2f}" for s in slopes) or "none (< 2 medians)")))
      fraction = by_n[largest]["fraction"]
      result.append(plots.Verdict(
          f"{plots.label(arch)}, k = log2 n: success fraction by the budget below "
          f"{FCN_STUCK} at the largest n", fraction < FCN_STUCK,
          f"{fraction:.2f} at n = {largest}"))
  nonlocal_cells = {key: s for key, s in table.items() if key[1] == "nonlocal"}
  for arch in sorted({key[2] for key in nonlocal_cells}):
    mine = {key: s for key, s in nonlocal_cells.items() if key[2] == arch}
    if models.ARCHITECTURES[arch].windowed:
      best = max(s["fraction"] for s in mine.values())
      result.append(plots.Verdict(
          f"{plots.label(arch)} nonlocal: at most {NONLOCAL_SUCCESS:.0%} of seeds succeed in "
          "every cell", best <= NONLOCAL_SUCCESS, f"highest {best:.2f}"))
    else:
      apart = []
      for key, s in mine.items():
        twin = table.get((key[0], "local") + key[2:])
        if twin and np.isfinite(s["median"][0]) and np.isfinite(twin["median"][0]):
          if s["median"][1] > twin["median"][2] or twin["median"][1] > s["median"][2]:
            apart.append(f"k = {key[3]}, n = {key[4]}")
      result.append(plots.Verdict(
          f"{plots.label(arch)} nonlocal: median times match the local ones (95% intervals "
          "overlap in every cell with both medians)", not apart,
          "apart at " + "; ".join(apart) if apart else "all overlap"))
  return result


# ----------------------------------------------------------------------------- report


def steps_text(stat):
  value, low, high = stat
  if not np.isfinite(value):
    return "—"
  return f"{value:.0f} [{low:.0f}, {'∞' if not np.isfinite(high) else f'{high:.0f}'}]"


def plot_medians(table, alphas, workdir):
  """Median steps against n (log-log), one panel per fixed k and one for k = log2 n."""
  panels = [("fixed", k) for k in sorted({key[3] for key in table if key[0] == "fixed"})]
  panels += [("log2_n", None)] if any(key[0] == "log2_n" for key in table) else []
  fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), squeeze=False,
                           layout="constrained")
  for ax, (series, k) in zip(axes[0], panels):
    for locality, style in (("local", "-"), ("nonlocal", ":")):
      for arch in models.ARCHS:
        keys = sorted((key for key in table if key[0] == series and key[1] == locality
                       and key[2] == arch and (k is None or key[3] == k)), key=lambda x: x[4])
        points = [(key[4], table[key]["median"]) for key in keys
                  if np.isfinite(table[key]["median"][0])]
        if not points:
          continue
        ns = np.array([n for n, _ in points], float)
        med = np.array([m[0] for _, m in points])
        low = np.array([m[1] for _, m in points])
        high = np.array([min(m[2], 10 * m[0]) for _, m in points])
        label = plots.label(arch) + ("" if locality == "local" else " nonlocal")
        ax.errorbar(ns, med, yerr=[med - low, high - med], fmt="o", ls=style, capsize=2,
                    color=plots.color(arch), label=label)
        fit = alphas.get((locality, arch, k)) if series == "fixed" else None
        if fit:
          alpha, used = fit[0], fit[3]
          log_c = fit_exponent(used, [table[(series, locality, arch, k, n)]["median"][0]
                                      for n in used])[1]
          grid = np.array([min(used), max(used)], float)
          ax.plot(grid, np.exp(log_c) * grid**alpha, "--", lw=1, color=plots.color(arch))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("input size n")
    ax.set_title(f"k = {k}" if k is not None else "k = log2 n")
    ax.grid(alpha=0.3)
  axes[0][0].set_ylabel("median steps to success (95% interval)")
  axes[0][-1].legend(fontsize=7)
  return plots.save_figure(fig, workdir, "median_steps_vs_n.png")


def plot_survival(table, num_steps, workdir):
  """Fraction of seeds not yet successful against steps, local cells of the fixed-k series
  at the largest k, a few n per architecture."""
  fixed = {key: s for key, s in table.items() if key[0] == "fixed" and key[1] == "local"}
  archs = [a for a in models.ARCHS if any(key[2] == a for key in fixed)]
  if not archs:
    return None
  fig, axes = plt.subplots(1, len(archs), figsize=(4.2 * len(archs), 3.6), squeeze=False,
                           sharey=True, layout="constrained")
  for ax, arch in zip(axes[0], archs):
    k = max(key[3] for key in fixed if key[2] == arch)
    ns = sorted(key[4] for key in fixed if key[2] == arch and key[3] == k)
    shown = sorted({ns[0], ns[len(ns) // 2], ns[-1]})
    for n in shown:
      times = fixed["fixed", "local", arch, k, n]["times"]
      steps = np.concatenate([[1], np.sort(times[np.isfinite(times)]), [num_steps]])
      alive = [np.mean(times > t) for t in steps]
      ax.step(np.maximum(steps, 1), alive, where="post", label=f"n = {n}")
    ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_title(f"{plots.label(arch)}, k = {k}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  axes[0][0].set_ylabel("fraction of seeds not yet successful")
  return plots.save_figure(fig, workdir, "survival.png")


def report(rows, config, workdir) -> list[str]:
  table = cell_table(rows)
  alphas = exponents(rows)
  figures = [plot_medians(table, alphas, workdir)]
  survival = plot_survival(table, config["num_steps"], workdir)
  figures += [survival] if survival else []
  lines = ["# Time to learn: steps to success against n", "",
           f"Protocol {config['protocol']}: SGD on the hinge loss, batch {config['batch_size']}, "
           f"{len(config['seeds'])} seeds per cell; success = accuracy >= "
           f"{config['success_accuracy']} on {config['num_eval']} fresh evaluation samples per "
           f"seed, checked at step 0, every {config['eval_every']} steps and then at gaps of "
           f"{config['eval_growth'] - 1:.0%} of the step; networks not successful by "
           f"{config['num_steps']} steps are censored. Medians and quartiles are order "
           "statistics with distribution-free 95% intervals (∞: the interval reaches censored "
           "networks; —: more than half the seeds censored); success fractions with 95% Wilson "
           f"intervals; precision {config['precision']}.", "",
           "## Exponents (fixed k): median steps ≈ c n^α", "",
           "| locality | arch | k | α [95% bootstrap over seeds] | n used |",
           "|---|---|---|---|---|"]
  for (locality, arch, k), fit in alphas.items():
    if fit:
      lines.append(f"| {locality} | {plots.label(arch)} | {k} | {fit[0]:.2f} "
                   f"[{fit[1]:.2f}, {fit[2]:.2f}] | {', '.join(map(str, fit[3]))} |")
    else:
      lines.append(f"| {locality} | {plots.label(arch)} | {k} | — (fewer than 2 medians) | |")
  lines += ["", "## The claims, measured", ""]
  lines += [v.line() for v in claim_verdicts(rows, alphas)]
  lines += ["", "## Every cell", "",
            "| series | locality | arch | k | n | width | succeeded | fraction [95%] | "
            "median [95%] | quartiles | networks x steps / s |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
  for key in sorted(table, key=lambda key: (SERIES.index(key[0]), key[1],
                                            models.ARCHS.index(key[2]), key[3], key[4])):
    s = table[key]
    lo, hi = s["wilson"]
    quartiles = ", ".join(f"{v[0]:.0f}" if np.isfinite(v[0]) else "—" for v in (s["q1"], s["q3"]))
    lines.append(f"| {key[0]} | {key[1]} | {plots.label(key[2])} | {key[3]} | {key[4]} | "
                 f"{s['width']} | {s['successes']}/{s['seeds']} | {s['fraction']:.2f} "
                 f"[{lo:.2f}, {hi:.2f}] | {steps_text(s['median'])} | {quartiles} | "
                 f"{s['steps_per_second']:.3g} |")
  lines += ["", "Barak et al. (2022) counted online-SGD steps of a width-100 ReLU MLP (batch 32, "
            "step 0.1, hinge loss) until 100% accuracy on 2^13 samples, 25 trials per (n, k), "
            "for n up to about 50 and k <= 4. The FCN here differs in width (128), init (biases "
            f"N(0, 1)), the success threshold ({config['success_accuracy']}) and its checks "
            "(a geometric schedule), and the parity window is the middle one (their parities "
            "are on arbitrary coordinates, the same problem for an FCN).", "",
            "![median steps against n](median_steps_vs_n.png)", ""]
  if survival:
    lines += ["![survival curves](survival.png)", ""]
  return plots.write_report(workdir, lines, figures)
