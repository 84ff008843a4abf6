"""Experiments by name: each module has validate(config) and run(config) -> rows."""

from cnnfcn_jax.experiments import (fcn_stuck, lemma6_coverage, separation, theorem4_width,
                                    theorem12_gradient)

EXPERIMENTS = {
    "separation": separation,
    "lemma6_coverage": lemma6_coverage,
    "theorem4_width": theorem4_width,
    "theorem12_gradient": theorem12_gradient,
    "fcn_stuck": fcn_stuck,
}
