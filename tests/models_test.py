"""Models against hand-derived gradients, against each other, and the paper's init."""

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import engine, models

N, K, WIDTH, M = 9, 3, 5, 40


def random_params(arch, seed, n=N, k=K, width=WIDTH):
  """Gaussian params with non-zero biases, so no pre-activation sits at ReLU's kink."""
  params = models.init_params(arch, jax.random.key(seed), n, k, width, "gaussian")
  b = params["b"] + 0.3 * jax.random.normal(jax.random.key(seed + 100), params["b"].shape)
  return {**params, "b": b}


def boolean_inputs(seed, m=M, n=N):
  return jax.random.rademacher(jax.random.key(seed), (m, n), jnp.result_type(float))


def hinge_dh(h, y):
  """d mean-hinge / d h_i = -y_i 1[y_i h_i < 1] / m."""
  return -y * (y * h < 1) / len(y)


def hand_gradients(arch, params, x, y):
  """Gradient of the mean hinge loss, written out with numpy (docs/spec.md §2 models, ReLU)."""
  p = {name: np.asarray(a) for name, a in params.items()}
  x = np.asarray(x)
  if arch == "fcn":
    pre = x @ p["W"].T + p["b"]                       # (m, r)
    hidden, slope = np.maximum(pre, 0), (pre > 0).astype(float)
    g = hinge_dh(hidden @ p["u"], np.asarray(y))      # (m,)
    return {"u": hidden.T @ g,
            "W": ((g[:, None] * slope) * p["u"]).T @ x,
            "b": (g[:, None] * slope * p["u"]).sum(0)}
  windows = x[:, models.window_index(x.shape[1], K)]  # (m, J, k)
  W = p["W"] if arch == "lcn" else np.broadcast_to(p["W"], (windows.shape[1],) + p["W"].shape)
  b = p["b"] if arch == "lcn" else np.broadcast_to(p["b"], (windows.shape[1],) + p["b"].shape)
  pre = np.einsum("mjk,jqk->mjq", windows, W) + b     # (m, J, q)
  hidden, slope = np.maximum(pre, 0), (pre > 0).astype(float)
  g = hinge_dh(np.einsum("mjq,jq->m", hidden, p["u"]), np.asarray(y))
  back = g[:, None, None] * slope * p["u"][None]      # dL/dpre, (m, J, q)
  dW = np.einsum("mjq,mjk->jqk", back, windows)
  db = back.sum(0)
  if arch == "cnn":
    dW, db = dW.sum(0), db.sum(0)
  return {"u": np.einsum("mjq,m->jq", hidden, g), "W": dW, "b": db}


@pytest.mark.parametrize("arch", models.ARCHS)
def test_gradients_match_hand_derived_formulas(arch):
  with jax.enable_x64(True):
    params = random_params(arch, 0)
    x = boolean_inputs(1)
    y = jnp.sign(jax.random.normal(jax.random.key(2), (M,)))
    auto = jax.grad(lambda p: engine.hinge_loss(models.apply(arch, p, x), y))(params)
    hand = hand_gradients(arch, params, x, y)
    assert np.abs(hand["u"]).max() > 0 and np.abs(hand["W"]).max() > 0
    for name in ("W", "b", "u"):
      np.testing.assert_allclose(auto[name], hand[name], rtol=1e-12, atol=1e-14, err_msg=name)


def test_lcn_with_tied_filters_equals_cnn():
  with jax.enable_x64(True):
    cnn = random_params("cnn", 3)
    x = boolean_inputs(4)
    np.testing.assert_allclose(models.apply_lcn(models.lcn_from_cnn(cnn, N), x),
                               models.apply_cnn(cnn, x), rtol=1e-13, atol=1e-13)


def test_fcn_with_banded_first_layer_equals_lcn():
  with jax.enable_x64(True):
    lcn = random_params("lcn", 5)
    x = boolean_inputs(6)
    fcn = models.fcn_from_lcn(lcn, N)
    assert fcn["W"].shape == (models.num_windows(N, K) * WIDTH, N)
    np.testing.assert_allclose(models.apply_fcn(fcn, x), models.apply_lcn(lcn, x),
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("arch", ["cnn", "lcn"])
def test_paper_init_filters_are_pattern_indicators(arch):
  k, width = 4, 64
  params = models.init_params(arch, jax.random.key(7), 12, k, width, "paper")
  W = params["W"].reshape(-1, k)                      # every filter of every window
  b = params["b"].reshape(-1)
  assert np.all(np.abs(np.asarray(W)) == pytest.approx(1 / k))
  assert np.all(np.asarray(params["u"]) == 0)
  patterns = models.all_patterns(k)                   # (2^k, k)
  activation = jax.nn.relu(patterns @ W.T + b)        # (2^k, filters)
  indicator = np.all(np.asarray(patterns)[:, None, :] == k * np.asarray(W)[None], axis=-1)
  np.testing.assert_allclose(activation, indicator / k, atol=1e-6)
  assert indicator.sum(axis=0).tolist() == [1] * W.shape[0]  # one pattern per filter


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["cnn", "lcn"])
def test_pattern_table_path_equals_dense_path(arch):
  with jax.enable_x64(True):
    n, k = 11, 4
    params = random_params(arch, 8, n=n, k=k, width=6)
    x = boolean_inputs(9, m=64, n=n)
    y = jnp.sign(jax.random.normal(jax.random.key(10), (64,)))
    ids = models.pattern_ids(x, k)
    np.testing.assert_allclose(models.apply(arch, params, ids, table=True),
                               models.apply(arch, params, x), rtol=1e-10, atol=1e-12)
    grad = lambda inputs, table: jax.grad(lambda p: engine.hinge_loss(  # noqa: E731
        models.apply(arch, p, inputs, table=table), y))(params)
    dense, table = grad(x, False), grad(ids, True)
    for name in ("W", "b", "u"):
      np.testing.assert_allclose(table[name], dense[name], rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("k", [5, 9, 17])  # uint8, uint16 and int32 ids
def test_pattern_ids_invert_all_patterns(k):
  patterns = models.all_patterns(k)
  ids = models.pattern_ids(patterns, k)               # each row is one window of length k
  assert ids.dtype == models.pattern_id_dtype(k)
  assert ids[:, 0].tolist() == list(range(2**k))


@pytest.mark.parametrize("arch,scheme", [(a, s) for a, r in models.ARCHITECTURES.items()
                                         for s in r.init_schemes])
def test_widths_nest_and_padding_is_zero(arch, scheme):
  key = jax.random.key(11)
  support = 2 if scheme == "sparse_bias" else 0
  small = models.init_params(arch, key, N, K, 3, scheme, support=support)
  padded = models.init_params(arch, key, N, K, 3, scheme, max_width=8, support=support)
  alone_big = models.init_params(arch, key, N, K, 8, scheme, support=support)
  # Written out by hand (not read from the record) so that a wrong record fails here.
  unit_axis = {"cnn": {"W": 0, "b": 0, "u": 1}, "lcn": {"W": 1, "b": 1, "u": 1},
               "fcn": {"W": 0, "b": 0, "u": 0}}[arch]
  for name in ("W", "b", "u"):
    axis = unit_axis[name]
    first, rest = np.split(np.asarray(padded[name]), [3], axis=axis)
    np.testing.assert_array_equal(first, small[name])
    assert not rest.any()
    if name == "W":  # W does not depend on the width, only u's scale may
      np.testing.assert_array_equal(np.take(alone_big[name], range(3), axis=axis), small[name])


def test_unknown_arch_and_scheme_are_rejected():
  with pytest.raises(ValueError, match="arch must be one of"):
    models.init_params("rnn", jax.random.key(0), N, K, 2)
  with pytest.raises(ValueError, match="init scheme for fcn must be one of"):
    models.init_params("fcn", jax.random.key(0), N, K, 2, "paper")


def test_parameter_shapes_follow_the_papers_definitions():
  # docs/spec.md §2: CNN W (q, k), b (q,), u (J, q); LCN W (J, q, k), b (J, q), u (J, q);
  # FCN W (r, n), b (r,), u (r,); J = n - k + 1 = 7 here.
  expected = {"cnn": {"W": (5, 3), "b": (5,), "u": (7, 5)},
              "lcn": {"W": (7, 5, 3), "b": (7, 5), "u": (7, 5)},
              "fcn": {"W": (5, 9), "b": (5,), "u": (5,)}}
  for arch, shapes in expected.items():
    params = jax.eval_shape(lambda key: models.init_params(arch, key, N, K, WIDTH, "gaussian"),
                            jax.random.key(0))
    assert {g: a.shape for g, a in params.items()} == shapes, arch


def test_gaussian_init_scales_by_fan_in():
  # W ~ N(0, 1/fan_in) with fan_in = k (CNN/LCN) or n (FCN); u ~ N(0, 1/readout_fan_in)
  # with readout_fan_in = J q (CNN/LCN) or r (FCN). Sample variances over many units.
  n, k, width = 40, 4, 4000
  for arch, w_var, u_var in (("cnn", 1 / 4, 1 / (37 * width)), ("fcn", 1 / 40, 1 / width)):
    params = jax.jit(lambda key: models.init_params(arch, key, n, k, width, "gaussian"))(
        jax.random.key(1))
    assert np.var(params["W"]) == pytest.approx(w_var, rel=0.05)
    assert np.var(params["u"]) == pytest.approx(u_var, rel=0.05)
    assert not np.asarray(params["b"]).any()


def test_every_record_applies_with_its_own_init_and_the_table_path_when_it_has_one():
  x = boolean_inputs(3)
  apply = jax.jit(models.apply, static_argnums=(0, 3, 4))
  for arch, record in models.ARCHITECTURES.items():
    params = random_params(arch, 4)
    h = apply(arch, params, x, "relu", False)
    assert h.shape == (M,)
    assert record.windowed == (record.apply_table is not None)
    if record.windowed:
      table_h = apply(arch, params, models.pattern_ids(x, K), "relu", True)
      np.testing.assert_allclose(table_h, h, rtol=1e-5, atol=1e-6)
    assert models.uses_table(arch, K) == record.windowed
    assert not models.uses_table(arch, models.MAX_TABLE_K + 1)


IMPORT_PROBE = """
import json, sys
import jax
from jax._src import monitoring

def listeners():
  return [len(get()) for get in (monitoring.get_event_listeners,
                                 monitoring.get_event_duration_listeners,
                                 monitoring.get_event_time_span_listeners,
                                 monitoring.get_scalar_listeners)]

before = listeners()
import cnnfcn_jax.models
from cnnfcn_jax import table_kernels
print(json.dumps(dict(
    listeners=[before, listeners()],
    modules=sorted(m for m in sys.modules if m.startswith("cnnfcn_jax")),
    kernels_built=table_kernels.native_available.cache_info().currsize)))
"""


def test_importing_models_registers_no_listener_and_imports_no_workdir_code():
  """The model maths is imported by scripts, notebooks and tests: importing it must not
  change JAX's global state, build anything, or pull in the launcher's file handling."""
  result = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True,
                          text=True, timeout=120, check=True)
  probe = json.loads(result.stdout.splitlines()[-1])
  assert probe["listeners"][0] == probe["listeners"][1]
  assert set(probe["modules"]) <= {"cnnfcn_jax", "cnnfcn_jax.models", "cnnfcn_jax.table_kernels",
                                   "cnnfcn_jax.cache", "cnnfcn_jax.networks"}, probe["modules"]
  assert probe["kernels_built"] == 0  # built before tracing, by the run, not on import


def test_the_sparse_init_puts_each_unit_on_its_own_support_and_widths_still_nest():
  key = jax.random.key(3)
  wide = models.init_params("fcn", key, 32, 3, 64, "sparse_bias", support=8)
  W = np.asarray(wide["W"])
  assert ((W != 0).sum(1) == 8).all()  # exactly 8 coordinates a unit
  assert len({tuple(np.flatnonzero(row)) for row in W}) > 32  # each unit its own
  assert abs(W[W != 0].std() - 1 / np.sqrt(8)) < 0.05  # N(0, 1/support) there
  dense = models.init_params("fcn", key, 32, 3, 64, "gaussian_bias")
  np.testing.assert_array_equal(wide["b"], dense["b"])  # b and u as gaussian_bias draws them
  np.testing.assert_array_equal(wide["u"], dense["u"])
  narrow = models.init_params("fcn", key, 32, 3, 5, "sparse_bias", max_width=64, support=8)
  np.testing.assert_array_equal(narrow["W"][:5], W[:5])
  for support in (0, 33):
    with pytest.raises(ValueError, match="support"):
      models.init_params("fcn", key, 32, 3, 4, "sparse_bias", support=support)
