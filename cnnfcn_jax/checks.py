"""Config validation helpers: every failure names the field, what it got and what is allowed.

All checks run on the plain config before anything is compiled or written.
"""

from __future__ import annotations

from collections.abc import Iterable


class ConfigError(ValueError):
  """An invalid config value; the message names the field and the fix."""


def fail(field: str, got, expected: str):
  raise ConfigError(f"config.{field} = {got!r} is invalid: expected {expected}.")


def choice(field: str, value, allowed: Iterable):
  allowed = tuple(allowed)
  if value not in allowed:
    fail(field, value, f"one of {', '.join(repr(a) for a in allowed)}")


def positive_int(field: str, value, minimum: int = 1):
  if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
    fail(field, value, f"an integer >= {minimum}")


def positive_float(field: str, value, allow_zero: bool = False):
  ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
  if not ok or value < 0 or (value == 0 and not allow_zero) or value == float("inf"):
    fail(field, value, "a finite number " + (">= 0" if allow_zero else "> 0"))


def nonempty_tuple(field: str, value, check_item=None, unique: bool = True):
  """A non-empty tuple whose items pass check_item(field_of_item, item)."""
  if not isinstance(value, (tuple, list)) or len(value) == 0:
    fail(field, value, "a non-empty tuple, e.g. --config.{}='(1, 2)'".format(field))
  if unique and len(set(value)) != len(value):
    fail(field, value, "a tuple without repeated entries")
  for i, item in enumerate(value):
    if check_item is not None:
      check_item(f"{field}[{i}]", item)


def seed(field: str, value):
  """An integer in [0, 2**32), what jax.random.key takes."""
  positive_int(field, value, minimum=0)
  if value >= 2**32:
    fail(field, value, "a seed below 2**32")


def seeds(field: str, value):
  """A non-empty tuple of distinct seeds in [0, 2**32)."""
  nonempty_tuple(field, value, lambda f, v: positive_int(f, v, minimum=0))
  if max(value) >= 2**32:
    fail(field, value, "seeds below 2**32")


def steps_and_log_every(config):
  """config.num_steps and config.log_every: positive, and log_every divides num_steps."""
  positive_int("num_steps", config.num_steps)
  positive_int("log_every", config.log_every)
  if config.num_steps % config.log_every:
    fail("log_every", config.log_every, f"a divisor of config.num_steps = {config.num_steps}")


def fraction(field: str, value):
  """A number in the open interval (0, 1)."""
  positive_float(field, value)
  if value >= 1:
    fail(field, value, "a fraction in (0, 1)")
