"""The pattern-table readout h(x) = sum_j table[j, id_j(x)] and its gradient.

On {±1}^n the CNN and LCN are a (J, P) table of per-window pattern values read at every
input's J window ids (models.py, "Pattern tables"). The readout gathers m·J table entries
and its gradient scatter-adds m·J values into the table: at n = 1024 that is 33 million
ids per step, the whole cost of the step. On the CPU both run as the C++ kernels of
table_kernels.cc, which use every core (the n = 1024 step is 5x faster than with XLA's
gather and scatter-add: scripts/bench.py, table_native_vs_xla). This module compiles
them once per machine with the system's C++ compiler into the per-user cache and calls
them through XLA's FFI. Where the default backend is an accelerator (nothing is built
there), or where the build fails (a warning says why), the XLA path `readout_xla` runs.
The two agree to float rounding (tests/table_kernels_test.py); the kernels sum in a
fixed order, so a network's result does not depend on what else is batched with it or
on the number of cores.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import pathlib
import platform
import shlex
import subprocess
import tempfile

import jax
import jax.numpy as jnp
import jaxlib
from absl import logging

from cnnfcn_jax import cache

SOURCE = pathlib.Path(__file__).with_name("table_kernels.cc")
COMPILE_FLAGS = ("-O3", "-std=c++17", "-shared", "-fPIC")
GATHER, SCATTER = "cnnfcn_table_gather", "cnnfcn_table_scatter"
# The element types the kernels take; other types go to XLA.
NATIVE_FLOATS = (jnp.float32, jnp.float64)
NATIVE_IDS = (jnp.uint8, jnp.uint16, jnp.int32)


def build(folder: pathlib.Path | None = None) -> pathlib.Path:
  """Compile table_kernels.cc with $CXX (default g++) once, and return the shared
  library's path: the library is named by a hash of the source, the command, the jaxlib
  version and the machine. Raises on a failed build."""
  command = [*shlex.split(os.environ.get("CXX", "g++")), *COMPILE_FLAGS,
             f"-I{jax.ffi.include_dir()}"]
  key = hashlib.sha256("\0".join([SOURCE.read_text(), *command, jaxlib.__version__,
                                  platform.machine()]).encode()).hexdigest()[:16]
  folder = folder or pathlib.Path(cache.user_cache_dir(), "native")
  library = folder / f"table_kernels-{key}.so"
  if library.exists():
    return library
  folder.mkdir(parents=True, exist_ok=True)
  # Build under a temporary name and rename: processes building at once never load a
  # half-written library.
  fd, partial = tempfile.mkstemp(suffix=".so", dir=folder)
  os.close(fd)
  try:
    subprocess.run([*command, str(SOURCE), "-o", partial], check=True, capture_output=True,
                   text=True)
    os.replace(partial, library)
  finally:
    if os.path.exists(partial):
      os.remove(partial)
  return library


@functools.cache
def native_available() -> bool:
  """Whether the CPU kernels are built and registered (builds them on the first call).

  Call it (or ensure_built) before tracing: readout reads it while tracing, and a build
  there would be compile time of the first program that reads a table."""
  try:
    library = ctypes.cdll.LoadLibrary(str(build()))
  except (OSError, subprocess.CalledProcessError) as e:
    detail = e.stderr if isinstance(e, subprocess.CalledProcessError) else e
    logging.warning("native table kernels unavailable (%s); using XLA's gather/scatter, "
                    "about 5x slower on the CPU", detail)
    return False
  jax.ffi.register_ffi_target(GATHER, jax.ffi.pycapsule(library.CnnfcnTableGather),
                              platform="cpu")
  jax.ffi.register_ffi_target(SCATTER, jax.ffi.pycapsule(library.CnnfcnTableScatter),
                              platform="cpu")
  return True


def ensure_built() -> bool:
  """Build and register the CPU kernels now, before anything is traced, when the default
  backend is the CPU (elsewhere nothing is built); whether they are in use."""
  return jax.default_backend() == "cpu" and native_available()


def readout_xla(table_JP, ids_mJ):
  """h(x) = sum_j table[j, id_j(x)], as one XLA gather from the flattened table.

  One flat index per (x, j) vmaps into a plain batched gather (and scatter-add in the
  backward pass), about twice as fast under vmap as take_along_axis on the CPU.
  """
  num_windows, num_patterns = table_JP.shape
  flat_mJ = ids_mJ.astype(jnp.int32) + num_patterns * jnp.arange(num_windows, dtype=jnp.int32)
  return table_JP.reshape(-1)[flat_mJ].sum(axis=-1)


def _gather(table_JP, ids_mJ):
  out = jax.ShapeDtypeStruct(ids_mJ.shape[:-1], table_JP.dtype)
  return jax.ffi.ffi_call(GATHER, out, vmap_method="expand_dims")(table_JP, ids_mJ)


def _scatter(g_m, ids_mJ, num_patterns):
  out = jax.ShapeDtypeStruct((ids_mJ.shape[-1], num_patterns), g_m.dtype)
  return jax.ffi.ffi_call(SCATTER, out, vmap_method="expand_dims")(
      g_m, ids_mJ, num_patterns=num_patterns)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _readout_native(table_JP, ids_mJ, num_patterns):
  del num_patterns
  return _gather(table_JP, ids_mJ)


def _readout_native_fwd(table_JP, ids_mJ, num_patterns):
  del num_patterns
  return _gather(table_JP, ids_mJ), ids_mJ


def _readout_native_bwd(num_patterns, ids_mJ, g_m):
  return _scatter(g_m, ids_mJ, num_patterns), None  # ids are integers: no cotangent


_readout_native.defvjp(_readout_native_fwd, _readout_native_bwd)


def readout(table_JP, ids_mJ):
  """h(x) = sum_j table[j, id_j(x)]: table (J, P), ids (m, J) in [0, P) -> (m,).

  On the CPU the native kernels, differentiable in the table in reverse mode (a custom
  VJP; an id out of range is an error); XLA's gather elsewhere and for element types the
  kernels do not take.
  """
  native = (jax.default_backend() == "cpu" and table_JP.dtype in NATIVE_FLOATS
            and ids_mJ.dtype in NATIVE_IDS and native_available())
  if not native:
    return readout_xla(table_JP, ids_mJ)
  on_cpu = lambda t, i: _readout_native(t, i, t.shape[-1])  # noqa: E731
  return jax.lax.platform_dependent(table_JP, ids_mJ, cpu=on_cpu, default=readout_xla)
