"""The pieces of a training step that both trainers share: the full-batch sweep (train.py)
and the steps-to-success call (online.py).

  split            parameters -> (trained, frozen) groups
  input_features   x in {±1}^n -> what the model reads (pattern ids on the table path)
  update           one optimiser step, the first layer's update scaled, per-network
                   divergence isolation (a network whose loss or new parameters are not
                   finite keeps its last finite state and is marked diverged)
  hinge_loss, predictions: the loss and the sign read-out (+1 at h = 0)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from cnnfcn_jax import models


def hinge_loss(h, y):
  """Mean of max(0, 1 - y h) (docs/spec.md §1)."""
  return jnp.mean(jax.nn.relu(1.0 - y * h))


def predictions(h):
  """sign(h) in {±1}, predicting +1 at h = 0."""
  return jnp.where(h >= 0, 1.0, -1.0).astype(h.dtype)


def split(params, trainable):
  """(trained, frozen): the groups named in `trainable` and the rest."""
  return ({g: params[g] for g in trainable},
          {g: a for g, a in params.items() if g not in trainable})


def input_features(x, k: int, table: bool):
  """The model's input: x itself, or its per-window pattern ids on the table path."""
  return models.pattern_ids(x, k) if table else x


def scale_first_layer(updates, arch, scale):
  """The optimiser's updates with the first layer's (if trained) multiplied by scale."""
  group = models.ARCHITECTURES[arch].first_layer
  if scale == 1.0 or group not in updates:
    return updates
  return {**updates, group: updates[group] * scale}


def update(optimizer, arch, first_layer_step_scale, state, loss, grads):
  """One optimiser step of state = (trained, opt_state, diverged), isolated per network.

  Once the loss or a new parameter is not finite, the network keeps its last finite
  (trained, opt_state) and diverged stays True; other networks vmapped beside it are
  unaffected.
  """
  trained, opt_state, diverged = state
  updates, new_opt_state = optimizer.update(grads, opt_state, trained)
  updates = scale_first_layer(updates, arch, first_layer_step_scale)
  new_trained = optax.apply_updates(trained, updates)
  finite = jnp.isfinite(loss) & jnp.all(jnp.array(
      [jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(new_trained)]))
  diverged = diverged | ~finite
  keep = lambda old, new: jnp.where(diverged, old, new)  # noqa: E731
  return (jax.tree.map(keep, trained, new_trained),
          jax.tree.map(keep, opt_state, new_opt_state), diverged)
