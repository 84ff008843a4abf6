"""Experiments by name: each module has validate(config) and run(config, checkpoint) -> rows."""

from cnnfcn_jax import checks
from cnnfcn_jax.experiments import (fcn_stuck, lemma6_coverage, mnist_sequences,
                                    params_vs_accuracy, separation, theorem4_width,
                                    theorem12_gradient)

EXPERIMENTS = {
    "separation": separation,
    "lemma6_coverage": lemma6_coverage,
    "theorem4_width": theorem4_width,
    "theorem12_gradient": theorem12_gradient,
    "fcn_stuck": fcn_stuck,
    "mnist_sequences": mnist_sequences,
    "params_vs_accuracy": params_vs_accuracy,
}
PRNG_IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")


def validate(config):
  """Raise checks.ConfigError naming the first invalid field of any experiment's config."""
  checks.choice("experiment", config.get("experiment"), tuple(EXPERIMENTS))
  checks.choice("prng_impl", config.get("prng_impl"), PRNG_IMPLS)
  EXPERIMENTS[config.experiment].validate(config)
