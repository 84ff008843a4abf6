"""The native CPU kernels of the pattern-table readout against XLA's gather/scatter."""

import os
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import table_kernels

pytestmark = pytest.mark.skipif(not table_kernels.native_available(),
                                reason="no C++ compiler: the XLA path is the only one")


def nested_sweep(readout):
  """sum_x h(x)^2 over a (seeds, widths) grid of tables, each seed with its own ids, as
  train.sweep_fn batches them: ids are shared by the widths of a seed."""
  per_seed = lambda tables, ids: jax.vmap(lambda t: jnp.sum(readout(t, ids) ** 2))(tables)  # noqa: E731
  return jax.vmap(per_seed)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("id_dtype", [jnp.uint8, jnp.uint16, jnp.int32])
# m = 5000 > one 4096-sample chunk; m J = 300,000 ids take the multi-threaded branch.
@pytest.mark.parametrize("m,J,P", [(37, 5, 4), (5000, 60, 16)])
def test_native_readout_and_gradient_equal_xla(dtype, id_dtype, m, J, P):
  with jax.enable_x64(dtype == jnp.float64):
    rng = np.random.default_rng(m)
    tables = jnp.asarray(rng.standard_normal((3, 2, J, P)), dtype)
    ids = jnp.asarray(rng.integers(0, P, (3, m, J)), id_dtype)
    tol = 1e-12 if dtype == jnp.float64 else 2e-5
    for f in (nested_sweep, lambda r: jax.grad(lambda t, i: nested_sweep(r)(t, i).sum())):
      native = jax.jit(f(table_kernels.readout))(tables, ids)
      xla = jax.jit(f(table_kernels.readout_xla))(tables, ids)
      assert native.dtype == xla.dtype == dtype
      np.testing.assert_allclose(native, xla, rtol=tol, atol=tol * float(jnp.abs(xla).max()))


def test_readout_matches_a_direct_sum():
  rng = np.random.default_rng(0)
  table = rng.standard_normal((6, 8)).astype(np.float32)
  ids = rng.integers(0, 8, (11, 6)).astype(np.uint8)
  expected = table[np.arange(6), ids].sum(axis=1)
  np.testing.assert_allclose(table_kernels.readout(jnp.asarray(table), jnp.asarray(ids)),
                             expected, rtol=1e-6, atol=1e-6)
  g = rng.standard_normal(11).astype(np.float32)
  grad = jax.grad(lambda t: jnp.dot(table_kernels.readout(t, jnp.asarray(ids)), g))(
      jnp.asarray(table))
  expected_grad = np.zeros_like(table)
  np.add.at(expected_grad, (np.broadcast_to(np.arange(6), ids.shape), ids), g[:, None])
  np.testing.assert_allclose(grad, expected_grad, rtol=1e-5, atol=1e-6)


def test_a_network_gives_the_same_bits_alone_or_batched():
  """The kernels sum in a fixed order: batching other networks in changes no bit."""
  rng = np.random.default_rng(1)
  tables = jnp.asarray(rng.standard_normal((4, 1, 40, 16)), jnp.float32)
  ids = jnp.asarray(rng.integers(0, 16, (4, 9000, 40)), jnp.uint8)
  f = jax.jit(jax.grad(lambda t, i: nested_sweep(table_kernels.readout)(t, i).sum()))
  together = f(tables, ids)
  for s in range(4):
    np.testing.assert_array_equal(f(tables[s:s + 1], ids[s:s + 1])[0], together[s])


def test_the_cpu_program_calls_the_kernels_and_readout_xla_does_not():
  table, ids = jnp.zeros((5, 4)), jnp.zeros((7, 5), jnp.uint8)
  for readout, native in ((table_kernels.readout, True), (table_kernels.readout_xla, False)):
    loss = lambda t, readout=readout: jnp.sum(readout(t, ids) ** 2)  # noqa: E731
    text = jax.jit(jax.grad(loss)).lower(table).as_text()
    assert (table_kernels.GATHER in text and table_kernels.SCATTER in text) == native


def test_no_samples_give_zero_outputs_and_a_zero_gradient():
  table, ids = jnp.ones((5, 4)), jnp.zeros((0, 5), jnp.uint8)
  assert table_kernels.readout(table, ids).shape == (0,)
  grad = jax.grad(lambda t: table_kernels.readout(t, ids).sum())(table)
  np.testing.assert_array_equal(grad, np.zeros((5, 4)))


@pytest.mark.parametrize("bad_id", [4, 200, -1])
def test_an_id_out_of_range_is_an_error_not_a_stray_memory_access(bad_id):
  table = jnp.ones((5, 4))
  ids = np.zeros((3, 5), np.int32)
  ids[1, 2] = bad_id
  ids = jnp.asarray(ids, jnp.uint8 if bad_id >= 0 else jnp.int32)
  for f in (table_kernels.readout, jax.grad(lambda t, i: table_kernels.readout(t, i).sum())):
    with pytest.raises(Exception, match="outside"):
      jax.block_until_ready(f(table, ids))


def test_types_the_kernels_do_not_take_go_to_xla():
  rng = np.random.default_rng(2)
  with jax.enable_x64(True):
    ids = jnp.asarray(rng.integers(0, 4, (6, 5)))  # int64
    for dtype in (jnp.float64, jnp.bfloat16):
      table = jnp.asarray(rng.standard_normal((5, 4)), dtype)
      np.testing.assert_array_equal(table_kernels.readout(table, ids),
                                    table_kernels.readout_xla(table, ids))


@pytest.mark.slow  # compiles the kernels afresh (3 s)
def test_build_is_cached_by_content_and_a_failed_build_leaves_nothing(tmp_path, monkeypatch):
  library = table_kernels.build(tmp_path)
  built_at = library.stat().st_mtime_ns
  assert table_kernels.build(tmp_path) == library and library.stat().st_mtime_ns == built_at
  broken = tmp_path / "broken"
  monkeypatch.setenv("CXX", "false")  # a compiler that always fails
  with pytest.raises(Exception):
    table_kernels.build(broken)
  assert not any(pathlib.Path(broken).glob("*")), os.listdir(broken)
