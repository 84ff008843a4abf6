"""k-pattern tasks: coordinates, labels, and the non-local twin."""

import itertools

import jax
import numpy as np
import pytest

from cnnfcn_jax import models, tasks


def test_local_pattern_sits_in_the_middle_by_default_and_where_asked():
  assert tasks.make_task(16, 4).coordinates == (6, 7, 8, 9)
  assert tasks.make_task(17, 3).coordinates == (7, 8, 9)
  assert tasks.make_task(16, 4, position=0).coordinates == (0, 1, 2, 3)


@pytest.mark.parametrize("n,k", [(13, 4), (20, 4), (64, 5), (7, 3)])
def test_nonlocal_coordinates_never_share_a_window(n, k):
  for seed in range(20):
    coords = tasks.make_task(n, k, locality="nonlocal", task_seed=seed).coordinates
    assert len(coords) == k and 0 <= min(coords) and max(coords) < n
    windows = models.window_index(n, k)
    assert max(np.isin(w, coords).sum() for w in windows) == 1


def test_nonlocal_coordinates_are_fixed_by_the_task_seed_and_vary_with_it():
  make = lambda seed: tasks.make_task(40, 4, locality="nonlocal", task_seed=seed).coordinates  # noqa: E731
  assert make(3) == make(3)
  assert len({make(seed) for seed in range(10)}) > 1


def test_parity_labels_are_the_product_of_the_pattern_bits():
  task = tasks.make_task(10, 3, locality="nonlocal", task_seed=1)
  x, y = task.sample(jax.random.key(0), 500)
  np.testing.assert_array_equal(y, np.prod(np.asarray(x)[:, list(task.coordinates)], axis=1))
  assert 0.4 < float((np.asarray(y) > 0).mean()) < 0.6


def test_random_target_is_shared_by_the_twins_and_read_from_its_coordinates():
  local = tasks.make_task(20, 4, target="random", task_seed=5)
  twin = tasks.make_task(20, 4, target="random", locality="nonlocal", task_seed=5)
  assert local.truth_table == twin.truth_table
  assert set(local.truth_table) == {-1, 1}
  for z in itertools.product([-1.0, 1.0], repeat=4):
    x = np.ones((1, 20))
    x[0, list(twin.coordinates)] = z
    expected = local.truth_table[sum(1 << i for i, v in enumerate(z) if v < 0)]
    assert float(twin.target(x)[0]) == expected
