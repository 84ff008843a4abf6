"""A network or a task of one's own, named in a config by import path ("package.module:name").

  config.<arch>.network = "mynets:make_mlp"   a networks.Family, or a function of no
                                              arguments returning one
  config.task = "mytasks:staircase"           a function (n, k) -> task: any value with n,
                                              k and sample(key, m) -> (x (m, n), y (m,))

The module is imported as Python imports any module (from sys.path; `python -m` puts the
current folder there). Each path is resolved once per process, and each (path, n, k) task
made once, so that every spec of a run holds the same values and compiles once. Every
failure is one checks.ConfigError naming the field and the fix.
"""

from __future__ import annotations

import functools
import importlib

from cnnfcn_jax import checks, networks

FORM = "'package.module:name'"


def is_path(value) -> bool:
  """Whether value is a non-empty import path (a string; '' means: not given)."""
  return isinstance(value, str) and bool(value)


@functools.lru_cache(maxsize=None)
def resolve(path: str, field: str):
  """The object `path` names; ConfigError naming `field` where it does not import."""
  module_name, colon, name = path.partition(":") if isinstance(path, str) else ("", "", "")
  if not colon or not module_name or not name:
    checks.fail(field, path, f"an import path {FORM} (a module on sys.path, a colon, a name "
                "in it)")
  try:
    module = importlib.import_module(module_name)
  except Exception as error:  # noqa: BLE001  (the user's module may fail in any way)
    checks.fail(field, path, f"a module that imports: `import {module_name}` raised "
                f"{type(error).__name__}: {error} (run from the folder that holds it, or add "
                "that folder to PYTHONPATH)")
  if not hasattr(module, name):
    checks.fail(field, path, f"a name defined in module {module_name!r} "
                f"({module.__file__}); it has no {name!r}")
  return getattr(module, name)


@functools.lru_cache(maxsize=None)
def network(path: str, field: str) -> networks.Family:
  """The networks.Family `path` names (called with no arguments if it is a function)."""
  value = resolve(path, field)
  if callable(value) and not isinstance(value, networks.Family):
    try:
      value = value()
    except Exception as error:  # noqa: BLE001
      checks.fail(field, path, f"a networks.Family, or a function of no arguments returning "
                  f"one; calling it raised {type(error).__name__}: {error}")
  if not isinstance(value, networks.Family):
    checks.fail(field, path, f"a networks.Family, or a function of no arguments returning "
                f"one; it gave a {type(value).__name__}")
  return value


@functools.lru_cache(maxsize=None)
def task(path: str, field: str, n: int, k: int):
  """The task `path`'s function makes at (n, k), checked to be a task of that n and k."""
  make = resolve(path, field)
  if not callable(make):
    checks.fail(field, path, "a function (n, k) -> task")
  try:
    value = make(n, k)
  except Exception as error:  # noqa: BLE001
    checks.fail(field, path, f"a function (n, k) -> task that accepts n = {n}, k = {k}; it "
                f"raised {type(error).__name__}: {error}")
  if not callable(getattr(value, "sample", None)):
    checks.fail(field, path, f"a function (n, k) -> task, a value with n, k and "
                f"sample(key, m); at n = {n}, k = {k} it gave a {type(value).__name__} "
                "without sample")
  if getattr(value, "n", None) != n or getattr(value, "k", None) != k:
    checks.fail(field, path, f"a function (n, k) -> task of that n and k; at n = {n}, k = "
                f"{k} it gave n = {getattr(value, 'n', None)!r}, k = "
                f"{getattr(value, 'k', None)!r}")
  try:
    hash(value)
  except TypeError:
    checks.fail(field, path, "a task that is hashable (a frozen dataclass): it keys the "
                "compiled program")
  return value
