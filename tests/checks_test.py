"""Config checks: each accepts what it should and names the field and the rule otherwise."""

import pytest

from cnnfcn_jax import checks

REFUSED = [
    (lambda: checks.choice("act", "gelu", ("relu", "tanh")),
     "config.act = 'gelu' is invalid: expected one of 'relu', 'tanh'."),
    (lambda: checks.positive_int("n", 0), "config.n = 0 is invalid: expected an integer >= 1."),
    (lambda: checks.positive_int("n", True), "config.n = True"),
    (lambda: checks.positive_int("n", 2.0), "config.n = 2.0"),
    (lambda: checks.positive_float("lr", float("nan")), "config.lr = nan"),
    (lambda: checks.positive_float("lr", float("inf")), "config.lr = inf"),
    (lambda: checks.positive_float("lr", 0.0), "expected a finite number > 0"),
    (lambda: checks.nonempty_tuple("ns", ()), "config.ns = () is invalid: expected a non-empty"),
    (lambda: checks.nonempty_tuple("ns", (1, 1)), "without repeated entries"),
    (lambda: checks.nonempty_tuple("ns", (1, -2), checks.positive_int), "config.ns[1] = -2"),
    (lambda: checks.seed("seed", 2**32), "config.seed = 4294967296"),
    (lambda: checks.seeds("seeds", (0, 2**32)), "seeds below 2**32"),
    (lambda: checks.fraction("f", 1.0), "config.f = 1.0 is invalid: expected a fraction in (0, 1)"),
]


@pytest.mark.parametrize("check,message", REFUSED, ids=[m[:30] for _, m in REFUSED])
def test_invalid_values_are_refused_with_the_field_named(check, message):
  with pytest.raises(checks.ConfigError) as error:
    check()
  assert message in str(error.value)


def test_valid_values_pass():
  checks.choice("act", "relu", ("relu",))
  checks.positive_int("n", 1)
  checks.positive_int("n", 0, minimum=0)
  checks.positive_float("lr", 0.0, allow_zero=True)
  checks.nonempty_tuple("ns", [3, 4], checks.positive_int)
  checks.seeds("seeds", (0, 2**32 - 1))
  checks.fraction("f", 0.5)
