"""Shared k-pattern sweeps: which n each arch runs, which path, the sweep, and its rows."""

from conftest import load_config, with_changes

from cnnfcn_jax import sweeps, train


def test_max_n_limits_an_architecture_to_the_smaller_n():
  config = load_config("separation")
  assert sweeps.arch_ns(config, "fcn") == (16, 32, 64, 128)  # max_n = 128
  assert sweeps.arch_ns(config, "cnn") == config.ns  # max_n = 0: no limit


def test_compute_path_picks_the_table_for_windowed_archs_only():
  config = load_config("separation", "quick")
  assert sweeps.uses_table(config, "cnn", 4) and sweeps.uses_table(config, "lcn", 4)
  assert not sweeps.uses_table(config, "fcn", 4)
  assert not sweeps.uses_table(config, "cnn", 13)  # auto: 2^13 patterns, dense is cheaper
  assert sweeps.uses_table(with_changes(config, {"compute_path": "table"}), "cnn", 13)
  assert not sweeps.uses_table(with_changes(config, {"compute_path": "dense"}), "lcn", 4)


def test_make_sweep_reads_the_architecture_settings():
  config = with_changes(load_config("separation", "quick"), {"position": 3})
  sweep = sweeps.make_sweep(config, "lcn", "local", 16, 4)
  assert sweep.task.coordinates == (3, 4, 5, 6)
  assert (sweep.widths, sweep.init, sweep.optimizer) == ((16, 32), "paper", "gd")
  assert sweep.learning_rate == 1.0 and sweep.table
  middle = sweeps.make_sweep(load_config("separation", "quick"), "fcn", "local", 16, 4)
  assert middle.task.coordinates == (6, 7, 8, 9) and not middle.table


def test_unit_rows_has_one_row_per_seed_and_width_with_final_metrics():
  config = with_changes(load_config("separation", "quick"),
                        {"num_steps": 4, "log_every": 2, "num_train": 64, "num_test": 32,
                         "cnn.widths": (2, 3)})
  rows = sweeps.unit_rows(config, "cnn", "local", 16, 4)
  assert [(r["seed"], r["width"]) for r in rows] == [(0, 2), (0, 3), (1, 2), (1, 3)]
  for r in rows:
    assert r["steps"] == [0, 2, 4] and set(r["curves"]) == set(train.METRICS)
    assert r["test_accuracy"] == r["curves"]["test_accuracy"][-1]
    assert r["compute_path"] == "table" and r["coordinates"] == [6, 7, 8, 9]
