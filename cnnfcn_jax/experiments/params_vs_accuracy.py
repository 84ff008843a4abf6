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

from cnnfcn_jax import checkpoints, checks, data, engine, image_models, image_train, plots

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
               num_params=params, **result)
          for seed, result in zip(c.seeds, image_train.seed_results(out))]


def claim_verdicts(points) -> list[plots.Verdict]:
  """Figure 1's claims on {(arch, depth, width): (num_params, mean accuracy)}."""
  cnn = sorted(v for (a, _, _), v in points.items() if a == "cnn")
  fcn = sorted(v for (a, _, _), v in points.items() if a == "fcn")
  if not cnn or not fcn:
    return []
  # Against each FCN: the best CNN with at most its parameters (or the smallest CNN).
  beaten = [max([acc for p, acc in cnn if p <= params] or [cnn[0][1]]) > acc_fcn
            for params, acc_fcn in fcn]
  slope = lambda pts: np.polyfit(np.log10([p for p, _ in pts]), [a for _, a in pts], 1)[0]  # noqa: E731
  result = [plots.Verdict("CNNs beat FCNs at every parameter count", all(beaten),
                          f"{sum(beaten)} of {len(fcn)} FCNs below the best CNN with at most "
                          "their parameters")]
  if len(cnn) > 1 and len(fcn) > 1:
    result.append(plots.Verdict("FCN accuracy grows less with parameters than CNN accuracy",
                                slope(fcn) < slope(cnn), f"accuracy per decade of parameters: "
                                f"CNN {slope(cnn):+.3f}, FCN {slope(fcn):+.3f}"))
  return result


def report(rows, config, workdir) -> list[str]:
  groups = plots.group_rows(rows, ("arch", "depth", "width"))
  params = {(r["arch"], r["depth"], r["width"]): r["num_params"] for r in rows}
  points = {key: (params[key], plots.mean_std(v)[0]) for key, v in groups.items()}
  digits = config["dataset"] == "digits"
  data_name = ("embedded MNIST digits (a quick stand-in, NOT the paper's CIFAR-10)" if digits
               else "CIFAR-10 (the paper's setting)")
  fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
  markers = {2: "o", 4: "s", 6: "^"}
  for arch, depth in sorted({key[:2] for key in groups}):
    keys = sorted((k for k in groups if k[:2] == (arch, depth)), key=lambda k: params[k])
    stats = [plots.mean_std(groups[k]) for k in keys]
    ax.errorbar([params[k] for k in keys], [m for m, _ in stats], yerr=[s for _, s in stats],
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
