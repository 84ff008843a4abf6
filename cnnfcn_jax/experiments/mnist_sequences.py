"""Section 5: n MNIST digits side by side; the label is the parity of the sum of 3 digits.

`locality = "local"`: the 3 consecutive digits in the middle (a k-pattern of digits);
`locality = "nonlocal"`: the first, middle and last digits (configs/mnist_local.py and
configs/mnist_nonlocal.py). FCN, CNN and LCN with one hidden
layer are trained by minibatch AdaDelta on sequences drawn afresh every step from the
training digit pool, and tested on a fixed set of sequences from a disjoint test pool.
One row per (arch, n, seed).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from cnnfcn_jax import (checkpoints, checks, data, engine, image_models, image_train, plots,
                        stats, tasks)

DIGIT_SOURCES = ("embedded", "idx")


def validate(c):
  checks.choice("locality", c.locality, tasks.LOCALITIES)
  checks.nonempty_tuple("ns", c.ns, checks.positive_int)
  if any(n < 3 or n % 2 == 0 for n in c.ns):
    checks.fail("ns", c.ns, "odd sequence lengths >= 3 (a middle digit and its neighbours)")
  checks.choice("digits", c.digits, DIGIT_SOURCES)
  if c.digits == "idx" and not c.mnist_dir:
    checks.fail("mnist_dir", c.mnist_dir, "the directory holding the MNIST IDX files "
                "when config.digits = 'idx' (e.g. --config.mnist_dir=/data/mnist)")
  checks.fraction("test_fraction", c.test_fraction)
  checks.seed("data_seed", c.data_seed)
  for field in ("digit_height", "digit_width"):
    checks.positive_int(field, c[field])
    if c[field] > 28:
      checks.fail(field, c[field], "at most 28 pixels (the MNIST frame)")
  checks.nonempty_tuple("archs", c.archs,
                        lambda f, v: checks.choice(f, v, image_models.SEQUENCE_ARCHS))
  for arch in c.archs:
    checks.positive_int(f"widths.{arch}", c.widths[arch])
  checks.nonempty_tuple("kernel", c.kernel, checks.positive_int, unique=False)
  if len(c.kernel) != 2 or c.kernel[0] > c.digit_height:
    checks.fail("kernel", c.kernel, f"(height, width) with height <= config.digit_height "
                f"= {c.digit_height}")
  if c.kernel[1] > min(c.ns) * c.digit_width:
    checks.fail("kernel", c.kernel, f"a width <= the narrowest sequence, "
                f"{min(c.ns)} * {c.digit_width} pixels")
  checks.positive_int("stride", c.stride)
  checks.choice("optimizer", c.optimizer, tuple(engine.OPTIMIZERS))
  checks.positive_float("learning_rate", c.learning_rate)
  checks.positive_int("num_epochs", c.num_epochs)
  checks.positive_int("batch_size", c.batch_size)
  checks.positive_int("sequences_per_epoch", c.sequences_per_epoch, minimum=c.batch_size)
  checks.positive_int("num_test", c.num_test)
  checks.seeds("seeds", c.seeds)
  # A bad data file fails here, before anything is compiled or written.
  for name, (_, labels) in zip(("train", "test"), digit_pools(
      c.digits, c.mnist_dir, c.test_fraction, c.data_seed, c.digit_height, c.digit_width)):
    if len(labels) == 0:
      checks.fail("test_fraction", c.test_fraction, f"a fraction leaving digits in the "
                  f"{name} pool (it is empty)")


@functools.lru_cache(maxsize=4)
def digit_pools(digits, mnist_dir, test_fraction, data_seed, height, width):
  """(train, test) pools of scaled digits (float32 (N, height, width)) and labels (N,).

  Embedded digits are split at random (seeded) into disjoint pools; IDX digits use
  MNIST's own train and test sets.
  """
  if digits == "embedded":
    train, test = data.split_pool(*data.load_embedded_digits(), test_fraction, data_seed)
  else:
    train, test = (data.load_idx_digits(mnist_dir, s) for s in ("train", "test"))
  return tuple((data.scale_digits(images, height, width), labels) for images, labels in (train, test))


def test_set(c, n, test_pool):
  """The fixed held-out sequences for length n: the same for every seed and arch."""
  images, labels = test_pool
  key = jax.random.fold_in(jax.random.key(c.data_seed), n)
  indices = data.draw_sequences(key, c.num_test, n, len(labels))
  return data.sequence_batch(jnp.asarray(images), jnp.asarray(labels), indices, c.locality)


def make_training(c, arch, n):
  model = image_models.SequenceNet(arch, c.widths[arch], tuple(c.kernel), c.stride)
  return image_train.Training(model, c.optimizer, c.learning_rate, c.num_epochs,
                              c.sequences_per_epoch // c.batch_size)


def run(c, checkpoint: checkpoints.Checkpoint | None = None) -> list[dict]:
  checkpoint = checkpoint or checkpoints.Checkpoint()  # none given: nothing is kept
  units = [(f"{arch}-n{n}", n * c.widths[arch], lambda arch=arch, n=n: unit_rows(c, arch, n))
           for n in c.ns for arch in c.archs]
  return checkpoint.run_units(units, "network group")


def unit_rows(c, arch, n) -> list[dict]:
  """All seeds of one (arch, n), trained in one call; one row per seed."""
  train_pool, test_pool = digit_pools(c.digits, c.mnist_dir, c.test_fraction, c.data_seed,
                                      c.digit_height, c.digit_width)
  test_x, test_y = test_set(c, n, test_pool)
  batch, locality = c.batch_size, c.locality

  def batch_fn(pool, key, step):
    indices = data.draw_sequences(jax.random.fold_in(key, step), batch, n, len(pool[1]))
    return data.sequence_batch(pool[0], pool[1], indices, locality)

  training = make_training(c, arch, n)
  out = image_train.train_seeds(training, batch_fn, tuple(map(jnp.asarray, train_pool)),
                                test_x, test_y, c.seeds)
  params = image_train.num_params(training, test_x)
  odd = float(np.mean(np.asarray(test_y)))
  return [dict(arch=arch, n=n, locality=c.locality, seed=seed, width=c.widths[arch],
               num_params=params, chance=max(odd, 1 - odd), **result)
          for seed, result in zip(c.seeds, image_train.seed_results(out))]


# [choice] "At chance" and "poor": a mean test accuracy within this of 1/2, judged on its
# whole 95% interval (stats.mean_accuracy).
CHANCE_MARGIN = 0.05


def claim_verdicts(rows, num_test) -> list[plots.Verdict]:
  """Section 5's claims on mean test accuracy over seeds (one fixed test set of num_test),
  each on 95% intervals (stats.mean_accuracy: the seeds' spread and the test set's own
  noise) and naming its FAILS condition; differences on their own interval
  (stats.difference_interval)."""
  acc = {key: stats.mean_accuracy(v, num_test)
         for key, v in plots.group_rows(rows, ("arch", "n")).items()}
  ns, archs = sorted({r["n"] for r in rows}), {r["arch"] for r in rows}
  small, large = ns[0], ns[-1]
  fmt = lambda arch, n: (f"{plots.label(arch)} {acc[arch, n].value:.3f} "  # noqa: E731
                         f"[{acc[arch, n].low:.3f}, {acc[arch, n].high:.3f}]")
  diff = lambda d: f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"  # noqa: E731
  result = []
  if rows[0]["locality"] == "local":
    for arch in sorted(archs & {"cnn", "lcn"}):
      worst = min(ns, key=lambda n: acc[arch, n].low)
      result.append(plots.Verdict(
          f"{plots.label(arch)} stays above chance at every n (holds: every 95% interval "
          "above 1/2; FAILS: one at or below)",
          plots.every([plots.above(acc[arch, n], 0.5) for n in ns]),
          f"lowest {fmt(arch, worst)} at n = {worst}"))
    if "fcn" in archs:
      chance = acc["fcn", large]
      result.append(plots.Verdict(
          f"FCN is at chance at the largest n (within {CHANCE_MARGIN} of 1/2; holds: its "
          "95% interval inside; FAILS: wholly outside)",
          True if 0.5 - CHANCE_MARGIN <= chance.low and chance.high <= 0.5 + CHANCE_MARGIN
          else False if chance.low > 0.5 + CHANCE_MARGIN or chance.high < 0.5 - CHANCE_MARGIN
          else None, f"n = {large}: {fmt('fcn', large)}"))
      drop = stats.difference_interval(acc["fcn", small], acc["fcn", large])
      result.append(plots.Verdict(
          f"FCN degrades as n grows (accuracy at n = {small} less at n = {large}; holds: the "
          "difference's 95% interval above 0; FAILS: at or below)", plots.above(drop),
          f"{fmt('fcn', small)} at n = {small}, {fmt('fcn', large)} at n = {large}; "
          f"difference {diff(drop)}"))
    if {"cnn", "lcn"} <= archs:
      gaps = [stats.difference_interval(acc["lcn", n], acc["cnn", n]) for n in ns]
      mean_gap = stats.difference_interval(stats.average([acc["lcn", n] for n in ns]),
                                           stats.average([acc["cnn", n] for n in ns]))
      result.append(plots.Verdict(
          "LCN above CNN (mean over n; holds: the difference's 95% interval above 0; FAILS: "
          "at or below)", plots.above(mean_gap),
          f"LCN - CNN = {diff(mean_gap)} on average, ahead at {sum(g[0] > 0 for g in gaps)} "
          f"of {len(ns)} n"))
  else:
    small = next((n for n in ns if n > 3), small)  # at n = 3 both labels are the same digits
    if "fcn" in archs and archs & {"cnn", "lcn"}:
      best = max(sorted(archs & {"cnn", "lcn"}), key=lambda a: acc[a, small].value)
      lead = stats.difference_interval(acc["fcn", small], acc[best, small])
      result.append(plots.Verdict(
          f"FCN better than CNN and LCN at small n (n = {small}; holds: its lead over the "
          "better of them has a 95% interval above 0; FAILS: at or below)", plots.above(lead),
          f"{fmt('fcn', small)}, {fmt(best, small)}; lead {diff(lead)}"))
    worst = max(sorted(archs), key=lambda a: acc[a, large].high)
    result.append(plots.Verdict(
        f"every architecture poor at the largest n (n = {large}: within {CHANCE_MARGIN} above "
        "chance; holds: every 95% interval at or below 1/2 + that; FAILS: one wholly above)",
        plots.every([None if acc[a, large].high > 0.5 + CHANCE_MARGIN >= acc[a, large].low
               else acc[a, large].high <= 0.5 + CHANCE_MARGIN for a in sorted(archs)]),
        f"highest {fmt(worst, large)}"))
  return result


def page_name(config) -> str:
  """The published page of a run (cnnfcn_jax.publish): one per label, named as its config
  file, mnist_local or mnist_nonlocal."""
  return f"mnist_{config['locality']}"


def report(rows, config, workdir) -> list[str]:
  locality, ns = rows[0]["locality"], sorted({r["n"] for r in rows})
  archs = [a for a in ("fcn", "cnn", "lcn") if any(r["arch"] == a for r in rows)]
  groups = plots.group_rows(rows, ("arch", "n"))
  fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
  for arch in archs:
    curve = np.array([plots.mean_std(groups[arch, n]) for n in ns])
    ax.plot(ns, curve[:, 0], marker="o", color=plots.color(arch), label=plots.label(arch))
    ax.fill_between(ns, curve[:, 0] - curve[:, 1], curve[:, 0] + curve[:, 1],
                    color=plots.color(arch), alpha=0.2)
  ax.axhline(0.5, color="gray", ls=":", lw=1, label="chance")
  ax.set_xticks(ns)
  ax.set_xlabel("number of digits n")
  ax.set_ylabel("test accuracy (mean ± std over seeds)")
  ax.set_title(f"{locality} parity of 3 digits ({config['digits']} digits)")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  figure = plots.save_figure(fig, workdir, "mnist_accuracy_vs_n.png")
  num_seeds = len({r["seed"] for r in rows})
  lines = [f"# n-sequence MNIST, {locality} label", "",
           f"Test accuracy on {config['num_test']} fixed test sequences, mean ± std over "
           f"{num_seeds} seeds, after {config['num_epochs']} epochs; digits: "
           f"{config['digits']}. Parameters in brackets.", "",
           "| arch | " + " | ".join(f"n={n}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
  params = {(r["arch"], r["n"]): r["num_params"] for r in rows}
  for arch in archs:
    lines.append(f"| {plots.label(arch)} | " + " | ".join(
        "%.3f ± %.3f" % plots.mean_std(groups[arch, n]) + f" [{params[arch, n]:,}]"
        for n in ns) + " |")
  lines += ["", "## The paper's claims, measured", ""]
  lines += [v.line() for v in claim_verdicts(rows, config["num_test"])]
  lines += ["", "![test accuracy against n](mnist_accuracy_vs_n.png)", ""]
  return plots.write_report(workdir, lines, [figure])
