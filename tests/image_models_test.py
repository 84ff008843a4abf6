"""Image networks: parameter counts, PatchConv == nn.Conv, locality."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnnfcn_jax import image_models


def count(module, x):
  """Parameters of module.init on x, from shapes alone (eval_shape: nothing is computed)."""
  return sum(a.size for a in jax.tree.leaves(jax.eval_shape(module.init, jax.random.key(0), x)))


def sequence_param_count(arch, width, image_shape, kernel, stride) -> int:
  """SequenceNet's trainable parameters in closed form: the count flax must agree with."""
  height, image_width = image_shape
  if arch == "fcn":
    return (height * image_width + 1) * width + width + 1
  positions = (height - kernel[0] + 1) * ((image_width - kernel[1]) // stride + 1)  # VALID
  weights = kernel[0] * kernel[1] * width
  hidden = weights + width if arch == "cnn" else positions * (weights + width)
  return hidden + positions * width + 1


def deep_param_count(arch, depth, width, image_shape, num_classes=10) -> int:
  """DeepNet's trainable parameters in closed form: the count flax must agree with."""
  height, image_width, channels = image_shape
  total = 0
  if arch == "fcn":
    inputs = height * image_width * channels
    for _ in range(depth - 1):
      total += (inputs + 1) * width
      inputs = width
  else:
    for layer in range(depth - 1):
      total += (9 * channels + 1) * width
      channels = width
      if layer % 2 == 1:
        height, image_width = height // 2, image_width // 2
    inputs = height * image_width * channels
  return total + (inputs + 1) * num_classes


@pytest.mark.parametrize("arch", image_models.SEQUENCE_ARCHS)
@pytest.mark.parametrize("n", [3, 5])
def test_sequence_net_parameter_counts(arch, n):
  x = jnp.zeros((2, 24, 8 * n, 1))
  net = image_models.SequenceNet(arch, 6, (24, 24), 8)
  assert count(net, x) == sequence_param_count(arch, 6, (24, 8 * n), (24, 24), 8)
  windows = n - 2
  expected = {"fcn": (24 * 8 * n + 1) * 6 + 6 + 1,
              "cnn": (576 + 1) * 6 + windows * 6 + 1,
              "lcn": windows * (576 + 1) * 6 + windows * 6 + 1}[arch]
  assert count(net, x) == expected
  params = jax.eval_shape(net.init, jax.random.key(0), x)
  assert jax.eval_shape(net.apply, params, x).shape == (2,)


@pytest.mark.parametrize("arch", image_models.DEEP_ARCHS)
@pytest.mark.parametrize("depth", [2, 4, 6])
def test_deep_net_parameter_counts(arch, depth):
  for shape in ((28, 28, 1), (32, 32, 3)):
    x = jnp.zeros((1, *shape))
    net = image_models.DeepNet(arch, depth, 5)
    assert count(net, x) == deep_param_count(arch, depth, 5, shape)
  # Hand count for CNN-4 on 28x28x1: convs 1->5, 5->5 (pool to 14), 5->5, readout 14*14*5.
  assert deep_param_count("cnn", 4, 5, (28, 28, 1)) == (
      (9 + 1) * 5 + (45 + 1) * 5 * 2 + (14 * 14 * 5 + 1) * 10)


@pytest.mark.parametrize("padding,strides", [("SAME", (1, 1)), ("SAME", (2, 3)),
                                             ("VALID", (1, 2)), ("VALID", (2, 3))])
def test_patch_conv_equals_flax_conv(padding, strides):
  with jax.enable_x64(True):
    x = jax.random.normal(jax.random.key(0), (2, 9, 11, 3), jnp.float64)
    patch = image_models.PatchConv(4, (3, 4), strides, padding)
    params = patch.init(jax.random.key(1), x)["params"]["Dense_0"]
    kernel = params["kernel"].reshape(3, 4, 3, 4)  # (h, w, c, out), as nn.Conv's
    conv = nn.Conv(4, (3, 4), strides=strides, padding=padding, param_dtype=jnp.float64)
    want = conv.apply({"params": {"kernel": kernel, "bias": params["bias"]}}, x)
    got = patch.apply({"params": {"Dense_0": params}}, x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["cnn", "lcn"])
def test_a_window_unit_sees_only_its_three_digits(arch):
  n = 5
  net = image_models.SequenceNet(arch, 3)
  x = jax.random.uniform(jax.random.key(0), (1, 24, 8 * n, 1))
  params = jax.jit(net.init)(jax.random.key(1), x)
  hidden = jax.jit(lambda x: net.apply(params, x, capture_intermediates=True)[1][
      "intermediates"]["PatchConv_0" if arch == "cnn" else "ConvLocal_0"]["__call__"][0])
  before = hidden(x)
  assert before.shape == (1, 1, n - 2, 3)
  after = hidden(x.at[:, :, 8 * 4:].set(0.0))  # change the last digit only
  np.testing.assert_array_equal(after[:, :, :2], before[:, :, :2])  # windows 0, 1 miss it
  assert not np.allclose(after[:, :, 2], before[:, :, 2])


def test_lcn_does_not_share_weights_and_cnn_does():
  x = jnp.zeros((1, 24, 40, 1))
  cnn = jax.eval_shape(image_models.SequenceNet("cnn", 3).init, jax.random.key(0), x)
  lcn = jax.eval_shape(image_models.SequenceNet("lcn", 3).init, jax.random.key(0), x)
  assert cnn["params"]["PatchConv_0"]["Dense_0"]["kernel"].shape == (576, 3)
  assert lcn["params"]["ConvLocal_0"]["kernel"].shape == (1, 3, 576, 3)  # one per window
