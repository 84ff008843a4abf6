"""The experiment registry: one line per experiment module.

Each module has validate(config), run(config, checkpoint) -> rows and
report(rows, config, workdir) -> files written; see experiments/separation.py.
"""

import importlib

from cnnfcn_jax import checks

EXPERIMENTS = {name: importlib.import_module(f"cnnfcn_jax.experiments.{name}") for name in (
    "separation",
    "lemma6_coverage",
    "theorem4_width",
    "theorem12_gradient",
    "fcn_stuck",
    "mnist_sequences",
    "params_vs_accuracy",
    "time_to_learn",
)}
PRNG_IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")
# Floating-point precision of a whole run (jax_enable_x64); every row records it.
PRECISIONS = ("float32", "float64")


def validate(config):
  """Raise checks.ConfigError naming the first invalid field of any experiment's config."""
  checks.choice("experiment", config.get("experiment"), tuple(EXPERIMENTS))
  checks.choice("prng_impl", config.get("prng_impl"), PRNG_IMPLS)
  checks.choice("precision", config.get("precision"), PRECISIONS)
  try:
    EXPERIMENTS[config.experiment].validate(config)
  except (AttributeError, KeyError) as missing:  # a field that experiment needs is absent
    name = str(missing.args[0] if missing.args else missing).strip("'\"")
    raise checks.ConfigError(
        f"config.experiment = {config.experiment!r} is invalid: the config has no field "
        f"'{name}' that this experiment reads; use a config file whose experiment is "
        f"{config.experiment!r}") from None
