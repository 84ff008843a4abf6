"""The time-to-learn report's grid-edge flag with optimisers whose grids differ: a best rate
is at an edge of its own optimiser's grid, whatever the other optimisers' rates."""

import pytest

from cnnfcn_jax.experiments.time_to_learn import report as ttr

SEEDS = 8


def cell_rows(grids, best, fixed=("sgd", 0.1), n=16, others=400):
  """One cell's rows: every (optimizer, rate) of `grids`, 8 seeds each; `best` succeeds at
  about 100 steps, every other candidate at about `others`."""
  rows = []
  for optimizer, rates in grids.items():
    for rate in rates:
      for seed in range(SEEDS):
        steps = (100 if (optimizer, rate) == best else others) + seed
        rows.append(dict(arch="fcn", n=n, k=2, seed=seed, steps_to_success=steps,
                         k_schedule="fixed", locality="local", num_steps=10**4, width=16,
                         steps_per_second=1.0, optimizer=optimizer, learning_rate=rate,
                         fixed_step=(optimizer, rate) == fixed, stopped_at=10**4,
                         diverged=False))
  return rows


SGD = (0.01, 0.1, 1.0)  # the rates of the two grids interleave: 0.001 < 0.01 ... 1.0
ADAM = (0.001, 0.003, 0.03)

CASES = [
    # best, edge of its own grid?  (The union of both grids, 0.001 ... 1.0, would say the
    # opposite in every case but the last two.)
    (("adam", 0.03), True),   # adam's highest; inside the union (1.0 is higher)
    (("sgd", 0.01), True),    # sgd's lowest; inside the union (0.001 is lower)
    (("adam", 0.003), False),  # inside both
    (("sgd", 0.1), False),
    (("sgd", 1.0), True),     # an edge of both
    (("adam", 0.001), True),
]


@pytest.mark.parametrize("best,edge", CASES, ids=[f"{o} {r:g}" for (o, r), _ in CASES])
def test_the_edge_is_an_end_of_the_best_optimisers_own_grid(best, edge):
  table = ttr.cell_table(cell_rows({"sgd": SGD, "adam": ADAM}, best))
  [(key, cell)] = table.items()
  assert key == ("fixed", "local", "fcn", 2, 16)
  assert cell["best"] == best and cell["fixed"] == ("sgd", 0.1)
  assert cell["edge"] == edge


def test_an_optimiser_with_one_rate_has_no_edge_and_the_others_grid_does_not_lend_it_one():
  grids = {"sgd": SGD, "adam": (0.003,)}
  assert not ttr.cell_table(cell_rows(grids, ("adam", 0.003)))[
      "fixed", "local", "fcn", 2, 16]["edge"]
  assert ttr.cell_table(cell_rows(grids, ("sgd", 1.0)))["fixed", "local", "fcn", 2, 16]["edge"]


def test_each_cell_judges_its_own_best_against_its_own_optimisers_grid():
  rows = (cell_rows({"sgd": SGD, "adam": ADAM}, ("adam", 0.03), n=8)
          + cell_rows({"sgd": SGD, "adam": ADAM}, ("adam", 0.003), n=16)
          + cell_rows({"sgd": SGD, "adam": ADAM}, ("sgd", 0.01), n=32)
          + cell_rows({"sgd": SGD, "adam": (0.0003, 0.1)}, ("sgd", 0.1), n=64))
  table = ttr.cell_table(rows)
  assert {key[4]: cell["best"] for key, cell in table.items()} == {
      8: ("adam", 0.03), 16: ("adam", 0.003), 32: ("sgd", 0.01), 64: ("sgd", 0.1)}
  assert {key[4]: cell["edge"] for key, cell in table.items()} == {
      8: True, 16: False, 32: True, 64: False}
