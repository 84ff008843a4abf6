"""Experiments by name: each module has validate(config) and run(config) -> rows."""

from cnnfcn_jax.experiments import separation

EXPERIMENTS = {"separation": separation}
