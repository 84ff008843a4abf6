"""The per-user cache folder: the table kernels' shared library and compiled programs.

$XDG_CACHE_HOME/cnnfcn_jax (else ~/.cache/cnnfcn_jax) holds native/ (table_kernels.py
builds its C++ kernels there once per machine) and jax/ (JAX's persistent compilation
cache, so a rerun of the same shapes skips compilation). Nothing here touches a workdir.
"""

from __future__ import annotations

import os

import jax


def user_cache_dir() -> str:
  """$XDG_CACHE_HOME/cnnfcn_jax, else ~/.cache/cnnfcn_jax."""
  cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".cache")
  return os.path.join(cache_home, "cnnfcn_jax")


def compilation_cache_dir() -> str:
  """The per-user default folder of the persistent compilation cache."""
  return os.path.join(user_cache_dir(), "jax")


def use_compilation_cache(folder: str | None = None):
  """Keep every compiled program in JAX's persistent cache in `folder` (default: the
  per-user one); a program found there is loaded instead of compiled."""
  jax.config.update("jax_compilation_cache_dir", folder or compilation_cache_dir())
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # [choice] cache all
