"""time_to_learn and separation on a network and a task of one's own (mynets.py).

Run from this folder (python -m puts it on sys.path, so `mynets` imports):
  python -m cnnfcn_jax.main --config=config.py:quick --workdir=/tmp/own_ttl
  python -m cnnfcn_jax.main --config=config.py:separation_quick --workdir=/tmp/own_sep
  python -m cnnfcn_jax.main --config=config.py:samples_width_quick --workdir=/tmp/own_sw

Our configs with two changes: config.archs adds "mlp", whose config.mlp.network names the
family, and config.task names the task (samples x width keeps our parity here, so that
its report judges the paper's claims on our FCN beside the MLP; it takes config.task
too). Everything else (files, resume, report) is the experiment's own.
"""

import importlib.util
import os

import ml_collections

import cnnfcn_jax

# Our configs ship beside the package in a source checkout.
CONFIGS = os.path.join(os.path.dirname(os.path.dirname(cnnfcn_jax.__file__)), "configs")


def ours(name, variant):
  spec = importlib.util.spec_from_file_location(name, os.path.join(CONFIGS, f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(variant)


def get_config(variant="quick"):
  if variant in ("", "quick"):
    c = ours("time_to_learn", variant)
    c.archs = ("fcn", "mlp")
    c.mlp = ml_collections.ConfigDict(dict(
        network="mynets:mlp", width=32, width_per_pattern=0, optimizer="adam",
        learning_rate=0.01, rates=dict(adam=(0.003, 0.01, 0.03)), ns=c.fcn.ns,
        log2_ns=(), log2_final_steps=()))
  elif variant in ("separation", "separation_quick"):
    c = ours("separation", variant.replace("separation", "").strip("_"))
    c.archs = ("fcn", "mlp")
    c.localities = ("local",)
    c.mlp = ml_collections.ConfigDict(dict(
        network="mynets:mlp", widths=c.fcn.widths, optimizer="adam", learning_rate=0.01,
        max_n=c.fcn.max_n))
  elif variant in ("samples_width", "samples_width_quick"):
    c = ours("samples_width", variant.replace("samples_width", "").strip("_"))
    c.archs = ("fcn", "mlp")
    c.series_arms = ("standard",)  # mup and sparse reparametrise or draw our FCN
    c.mlp = ml_collections.ConfigDict(dict(
        network="mynets:mlp", optimizer="adam", learning_rate=0.01,
        num_steps=c.fcn.num_steps, log_every=c.fcn.log_every,
        frontier_width=c.fcn.frontier_width, frontier_ns=c.fcn.frontier_ns,
        frontier_max_num_train=c.fcn.frontier_max_num_train, width_series=c.fcn.width_series))
    return c
  else:
    raise ValueError(f"examples/own_network/config.py: unknown variant {variant!r}; use "
                     "'', 'quick', 'separation', 'separation_quick', 'samples_width' or "
                     "'samples_width_quick'")
  c.task = "mynets:staircase"
  return c
