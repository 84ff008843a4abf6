"""Figure 1: test accuracy against number of parameters for CNN-d and FCN-d, d in {2,4,6}.

The paper trains on CIFAR-10 (dataset = "cifar10", read from config.cifar10_dir) with
RMSprop for 125 epochs. Without CIFAR-10, dataset = "digits" runs the same sweep on the
embedded 5,000 MNIST digits: a quick stand-in, labelled as such in the report. One row
per (arch, depth, width, seed).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from cnnfcn_jax import (checkpoints, checks, data, engine, image_models, image_train, plots,
                        stats)

DATASETS = ("digits", "cifar10")


def validate(c):
  checks.choice("dataset", c.dataset, DATASETS)
  if c.dataset == "cifar10" and not c.cifar10_dir:
    checks.fail("cifar10_dir", c.cifar10_dir, "the cifar-10-batches-py directory when "
                "config.dataset = 'cifar10' (e.g. --config.cifar10_dir=/data/cifar-10-batches-py)")
  checks.fraction("test_fraction", c.test_fraction)
  checks.seed("data_seed", c.data_seed)
  checks.nonempty_tuple("archs", c.archs,
                        lambda f, v: checks.choice(f, v, image_models.DEEP_ARCHS))
  checks.nonempty_tuple("depths", c.depths, lambda f, v: checks.positive_int(f, v, minimum=2))
  for arch in c.archs:
    checks.nonempty_tuple(f"widths.{arch}", c.widths[arch], checks.positive_int)
  checks.choice("optimizer", c.optimizer, tuple(engine.OPTIMIZERS))
  checks.positive_float("learning_rate", c.learning_rate)
  checks.positive_int("num_epochs", c.num_epochs)
  checks.positive_int("batch_size", c.batch_size)
  checks.seeds("seeds", c.seeds)
  # A bad data file fails here, before anything is compiled or written.
  (train_x, _), (test_x, _) = dataset(c.dataset, c.cifar10_dir, c.test_fraction, c.data_seed)
  if len(test_x) == 0:
    checks.fail("test_fraction", c.test_fraction, "a fraction leaving test images")
  if c.batch_size > len(train_x):
    checks.fail("batch_size", c.batch_size, f"at most the {len(train_x)} training images")


@functools.lru_cache(maxsize=2)
def dataset(name, cifar10_dir, test_fraction, data_seed):
  """((train images, labels), (test images, labels)); images float32 NHWC in [0, 1]."""
  if name == "digits":
    images, labels = data.load_embedded_digits()
    parts = data.split_pool(images[..., None], labels, test_fraction, data_seed)
  else:
    parts = tuple(data.load_cifar10(cifar10_dir, split) for split in ("train", "test"))
  return tuple((images.astype(np.float32) / 255.0, labels) for images, labels in parts)


def run(c, checkpoint: checkpoints.Checkpoint | None = None) -> list[dict]:
  checkpoint = checkpoint or checkpoints.Checkpoint()  # none given: nothing is kept
  units = [(f"{arch}-d{depth}-w{width}", depth * width * (9 if arch == "cnn" else 1),
            lambda arch=arch, depth=depth, width=width: unit_rows(c, arch, depth, width))
           for arch in c.archs for depth in c.depths for width in c.widths[arch]]
  return checkpoint.run_units(units, "network")


def unit_rows(c, arch, depth, width) -> list[dict]:
  """All seeds of one (arch, depth, width), trained in one call; one row per seed."""
  (train_x, train_y), (test_x, test_y) = dataset(c.dataset, c.cifar10_dir, c.test_fraction,
                                                 c.data_seed)
  batch, count = c.batch_size, len(train_y)
  steps = count // batch  # each epoch visits a fresh permutation, dropping the remainder

  def batch_fn(train, key, step):
    order = jax.random.permutation(jax.random.fold_in(key, step // steps), count)
    index = jax.lax.dynamic_slice(order, ((step % steps) * batch,), (batch,))
    return train[0][index], train[1][index]

  model = image_models.DeepNet(arch, depth, width, num_classes=10)
  training = image_train.Training(model, c.optimizer, c.learning_rate, c.num_epochs, steps)
  out = image_train.train_seeds(training, batch_fn, (jnp.asarray(train_x), jnp.asarray(train_y)),
                                jnp.asarray(test_x), jnp.asarray(test_y), c.seeds)
  params = image_train.num_params(training, test_x)
  return [dict(arch=arch, depth=depth, width=width, seed=seed, dataset=c.dataset,
               num_params=params, num_test=len(test_y), **result)
          for seed, result in zip(c.seeds, image_train.seed_results(out))]


def claim_verdicts(points) -> list[plots.Verdict]:
  """Figure 1's claims on {(arch, depth, width): (num_params, stats.Estimate of the mean
  test accuracy)}, each on 95% intervals and naming its FAILS condition."""
  cnn = sorted((v for (a, _, _), v in points.items() if a == "cnn"), key=lambda v: v[0])
  fcn = sorted((v for (a, _, _), v in points.items() if a == "fcn"), key=lambda v: v[0])
  if not cnn or not fcn:
    return []
  # Against each FCN: the best CNN with at most its parameters (or the smallest CNN).
  leads = [stats.difference_interval(max([acc for p, acc in cnn if p <= params] or [cnn[0][1]],
                                         key=lambda a: a.value), acc_fcn)
           for params, acc_fcn in fcn]
  each = [plots.above(lead) for lead in leads]
  smallest = min(leads, key=lambda d: d[1])
  result = [plots.Verdict(
      "CNNs beat FCNs at every parameter count (each FCN against the best CNN with at most "
      "its parameters; holds: every lead's 95% interval above 0; FAILS: one at or below)",
      plots.every(each),
      f"{sum(e is True for e in each)} of {len(fcn)} FCNs surely below; smallest lead "
      f"{smallest[0]:+.3f} [{smallest[1]:+.3f}, {smallest[2]:+.3f}]")]
  if len(cnn) > 1 and len(fcn) > 1:
    slopes = [stats.slope_of_accuracies(np.log10([p for p, _ in pts]), [a for _, a in pts])
              for pts in (cnn, fcn)]
    gap = stats.difference_interval(*slopes)
    text = lambda e: f"{e[0]:+.3f} [{e[1]:+.3f}, {e[2]:+.3f}]"  # noqa: E731
    result.append(plots.Verdict(
        "FCN accuracy grows less with parameters than CNN accuracy (the slopes per decade "
        "of parameters; holds: CNN's less FCN's has a 95% interval above 0; FAILS: at or "
        "below)", plots.above(gap), f"accuracy per decade of parameters: CNN {text(slopes[0])}, "
        f"FCN {text(slopes[1])}; difference {text(gap)}"))
  return result


def test_count(rows, config) -> int:
  """The test examples every accuracy was measured on: the rows' own count, or (rows
  written before they carried it) the split's arithmetic (data.split_pool)."""
  if "num_test" in rows[0]:
    return rows[0]["num_test"]
  if config["dataset"] == "digits":
    return round(config["test_fraction"] * len(data.load_embedded_digits()[1]))
  return data.CIFAR10_TEST_COUNT


def report(rows, config, workdir) -> list[str]:
  groups = plots.group_rows(rows, ("arch", "depth", "width"))
  params = {(r["arch"], r["depth"], r["width"]): r["num_params"] for r in rows}
  num_test = test_count(rows, config)
  points = {key: (params[key], stats.mean_accuracy(v, num_test)) for key, v in groups.items()}
  digits = config["dataset"] == "digits"
  data_name = ("embedded MNIST digits (a quick stand-in, NOT the paper's CIFAR-10)" if digits
               else "CIFAR-10 (the paper's setting)")
  fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
  markers = {2: "o", 4: "s", 6: "^"}
  for arch, depth in sorted({key[:2] for key in groups}):
    keys = sorted((k for k in groups if k[:2] == (arch, depth)), key=lambda k: params[k])
    spread = [plots.mean_std(groups[k]) for k in keys]
    ax.errorbar([params[k] for k in keys], [m for m, _ in spread], yerr=[s for _, s in spread],
                marker=markers.get(depth, "d"), capsize=3, color=plots.color(arch),
                alpha=0.5 + 0.5 * depth / max(config["depths"]),
                label=f"{plots.label(arch)}-{depth}")
  ax.set_xscale("log")
  ax.set_xlabel("number of parameters")
  ax.set_ylabel("test accuracy (mean ± std over seeds)")
  ax.set_title(f"accuracy against parameters: {config['dataset']}")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8, ncol=2)
  figure = plots.save_figure(fig, workdir, "params_vs_accuracy.png")
  lines = ["# Test accuracy against number of parameters (Figure 1)", "",
           f"Data: {data_name}; {config['num_epochs']} epochs of {config['optimizer']}, "
           f"mean ± std over {len({r['seed'] for r in rows})} seeds.", "",
           "| arch | depth | width | parameters | test accuracy |", "|---|---|---|---|---|"]
  for key in sorted(groups, key=lambda k: (k[0], k[1], params[k])):
    lines.append(f"| {plots.label(key[0])} | {key[1]} | {key[2]} | {params[key]:,} | "
                 + "%.3f ± %.3f |" % plots.mean_std(groups[key]))
  lines += ["", "## The paper's claims, measured", ""]
  lines += [v.line() for v in claim_verdicts(points)]
  lines += ["", "![accuracy against parameters](params_vs_accuracy.png)", ""]
  return plots.write_report(workdir, lines, [figure])
