"""A network and a task of one's own, named by import path in config.py.

`mlp` is a two-hidden-layer flax MLP (its parameters keep flax's names); `staircase` makes
the staircase sign(x_c1 + x_c1 x_c2 + ... + x_c1 ... x_ck) on k coordinates spread over
the input, a task that is not a function of one window's pattern.
"""

import flax.linen as nn

from cnnfcn_jax import networks, tasks


class MLP(nn.Module):
  width: int

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Dense(self.width)(x))
    x = nn.relu(nn.Dense(self.width)(x))
    return nn.Dense(1)(x)


def mlp() -> networks.Family:
  """The family of MLP by width: which axes of each parameter index hidden units."""
  return networks.from_flax(MLP, {"Dense_0": {"kernel": (1,), "bias": (0,)},
                                  "Dense_1": {"kernel": (0, 1), "bias": (0,)},
                                  "Dense_2": {"kernel": (0,), "bias": ()}}, name="mlp")


def staircase(n: int, k: int) -> tasks.Staircase:
  """The staircase of k coordinates evenly spread over n inputs."""
  return tasks.Staircase(n=n, coordinates=tuple(i * n // k for i in range(k)))
