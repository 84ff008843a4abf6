"""k-pattern config rules (which n each arch runs, which path, the sample-size and step
rules, the sweep a config makes) and the sweeps' rows."""

import pytest
from conftest import load_config, with_changes

from cnnfcn_jax import checks, kpattern_config, models, sweeps, train


def config_sweep(config, arch, locality, n, k):
  """The sweep sweeps.run trains for (arch, locality, n, k): config's widths, the m rule."""
  return kpattern_config.make_sweep(config, arch, locality, n, k, config[arch].widths,
                                    kpattern_config.num_train(config, n, k))


def test_max_n_limits_an_architecture_to_the_smaller_n():
  config = load_config("separation")
  assert kpattern_config.arch_ns(config, "fcn") == (16, 32, 64, 128)  # max_n = 128
  assert kpattern_config.arch_ns(config, "cnn") == config.ns  # max_n = 0: no limit


def test_compute_path_picks_the_table_for_windowed_archs_only():
  config = load_config("separation", "quick")
  assert kpattern_config.uses_table(config, "cnn", 4)
  assert kpattern_config.uses_table(config, "lcn", 4)
  assert not kpattern_config.uses_table(config, "fcn", 4)
  assert not kpattern_config.uses_table(config, "cnn", 13)  # auto: 2^13 patterns, dense is cheaper
  assert kpattern_config.uses_table(with_changes(config, {"compute_path": "table"}), "cnn", 13)
  assert not kpattern_config.uses_table(with_changes(config, {"compute_path": "dense"}), "lcn", 4)


def test_make_sweep_reads_the_architecture_settings():
  config = with_changes(load_config("separation", "quick"), {"position": 3})
  sweep = config_sweep(config, "lcn", "local", 16, 4)
  assert sweep.task.coordinates == (3, 4, 5, 6)
  assert (sweep.widths, sweep.init, sweep.optimizer) == ((16, 32), "paper", "gd")
  assert sweep.learning_rate == 1.0 and sweep.table
  middle = config_sweep(load_config("separation", "quick"), "fcn", "local", 16, 4)
  assert middle.task.coordinates == (6, 7, 8, 9) and not middle.table


def test_unit_rows_has_one_row_per_seed_and_width_with_final_metrics():
  config = with_changes(load_config("separation", "quick"),
                        {"num_steps": 4, "log_every": 2, "min_num_train": 64, "num_test": 32,
                         "cnn.widths": (2, 3)})
  m = kpattern_config.num_train(config, 16, 4)
  rows = sweeps.unit_rows(config, "cnn", "local", 16, 4, config.cnn.widths, m)
  assert [(r["seed"], r["width"]) for r in rows] == [(0, 2), (0, 3), (1, 2), (1, 3)]
  for r in rows:
    assert r["steps"] == [0, 2, 4] and set(r["curves"]) == set(train.METRICS)
    assert r["test_accuracy"] == r["curves"]["test_accuracy"][-1]
    assert r["compute_path"] == "table" and r["coordinates"] == [6, 7, 8, 9]
    # The rules' values at this n are recorded: m = ceil(0.25 x 32 x 13) = 104 (the LCN's
    # width 32 gives the largest readout), CNN kernel step 1/13.
    assert r["num_train"] == 104 and r["learning_rate"] == 1.0
    assert abs(r["first_layer_learning_rate"] - 1.0 / 13) < 1e-12


def test_sample_size_rule_takes_the_largest_readout_of_the_config_for_every_arch():
  config = load_config("separation")  # q = 128 CNN/LCN, rho = 1/4, floor 8192, k = 4
  # N(n) = 128 (n - 3): 8192 is the floor up to n = 256 (0.25 * 128 * 253 = 8096).
  assert kpattern_config.num_train(config, 256, 4) == 8192
  assert kpattern_config.num_train(config, 512, 4) == 16288  # ceil(0.25 * 128 * 509)
  assert kpattern_config.num_train(config, 1024, 4) == 32672  # ceil(0.25 * 128 * 1021)
  fcn_only = with_changes(config, {"archs": ("fcn",)})  # readout of the FCN: 128 weights
  assert kpattern_config.num_train(fcn_only, 1024, 4) == 8192
  # Every architecture of the config trains on the same m(n), the FCN included.
  ms = {config_sweep(config, arch, "local", 512, 4).num_train for arch in config.archs}
  assert ms == {16288}
  assert kpattern_config.num_train(with_changes(config, {"samples_per_readout_weight": 0.0}),
                          1024, 4) == 8192


def test_step_rule_divides_the_first_layer_step_by_the_windows_sharing_a_filter():
  config = load_config("separation")
  assert kpattern_config.first_layer_step_scale(config, "cnn", 1024, 4) == 1 / 1021
  # One window per filter: the LCN's step is the learning rate.
  assert kpattern_config.first_layer_step_scale(config, "lcn", 1024, 4) == 1.0
  same = with_changes(config, {"cnn.first_layer_step": "same"})
  assert kpattern_config.first_layer_step_scale(same, "cnn", 1024, 4) == 1.0


def test_the_first_layer_step_scale_scales_only_the_first_layer_update_of_gd():
  import dataclasses

  import numpy as np
  config = with_changes(load_config("separation", "quick"),
                        {"num_steps": 1, "log_every": 1, "min_num_train": 64, "num_test": 32,
                         "cnn.widths": (4,), "cnn.init": "gaussian"})
  sweep = config_sweep(config, "cnn", "local", 16, 4)
  moves = {}
  for scale in (1.0, 0.25):
    out = train.run_sweep(dataclasses.replace(sweep, first_layer_step_scale=scale), (0,))
    moves[scale] = {g: out["params"][g] - out["params0"][g] for g in ("W", "u")}
  assert np.abs(moves[1.0]["W"]).max() > 0
  np.testing.assert_allclose(moves[0.25]["W"], 0.25 * moves[1.0]["W"], rtol=1e-5, atol=1e-9)
  np.testing.assert_array_equal(moves[0.25]["u"], moves[1.0]["u"])  # u's step untouched


def test_auto_block_keeps_a_cpu_block_within_the_cache_budget_and_records_it():
  config = load_config("separation")
  # 12,288 inputs x 61 windows x 9 B (a uint8 id, a float32 table value and its gradient)
  small = config_sweep(config, "cnn", "local", 64, 4)
  assert train.seed_working_set_bytes(small) == (8192 + 4096) * 61 * 9
  assert train.resolve_block(small, 4, "auto") == 2  # 6.7 MB per seed: two fit in 16 MiB
  tiny = config_sweep(with_changes(config, {"min_num_train": 512, "num_test": 512}),
                           "cnn", "local", 16, 4)  # 1024 x 13 x 9 B = 120 kB per seed
  assert train.resolve_block(tiny, 64, "auto") == 64
  assert train.resolve_block(tiny, 300, "auto") == 140  # 16,777,216 / 119,808 = 140.03
  assert train.resolve_block(tiny, 300, "auto", seeds_per_call=100) == 100
  assert train.resolve_block(tiny, 300, "auto", seeds_per_call=150) == 75  # a divisor
  assert train.resolve_block(tiny, 300, 7) == 7 and train.resolve_block(tiny, 300, 0) == 300


def test_the_fcns_working_set_counts_its_inputs_and_its_units_activations():
  """An FCN, and a network of one's own, hold their inputs and one layer of activations
  and gradients per unit: (held x n x item) per width + (active x 2 x units x item)."""
  config = load_config("separation")
  fcn = config_sweep(config, "fcn", "local", 64, 4)
  held = fcn.num_train + fcn.num_test
  expected = held * 64 * 4 + held * 2 * 128 * 4  # one width of 128, float32
  assert train.seed_working_set_bytes(fcn) == expected
  assert train.resolve_block(fcn, 64, "auto") == 2 ** 24 // expected
  family = models.family("fcn", 4, "gaussian")
  mine = train.Sweep(**{**fcn.__dict__, "arch": family, "init": "", "trainable": ()})
  assert train.seed_working_set_bytes(mine) == expected


def test_rows_record_the_block_they_ran_in():
  config = with_changes(load_config("separation", "quick"),
                        {"num_steps": 2, "log_every": 2, "min_num_train": 64, "num_test": 32,
                         "samples_per_readout_weight": 0.0, "seeds": (0, 1, 2),
                         "seeds_per_block": 2})
  rows = sweeps.unit_rows(config, "lcn", "local", 16, 4, (16, 32), 64)
  assert {r["seeds_per_block"] for r in rows} == {2}
  auto = sweeps.unit_rows(with_changes(config, {"seeds_per_block": "auto"}),
                          "lcn", "local", 16, 4, (16, 32), 64)
  assert {r["seeds_per_block"] for r in auto} == {3}  # all three fit the CPU budget


def test_an_integer_block_from_the_command_line_arrives_as_a_string_and_is_read_as_one():
  config = load_config("separation", "quick")
  assert kpattern_config.seeds_per_block(with_changes(config, {"seeds_per_block": "4"})) == 4
  assert kpattern_config.seeds_per_block(config) == "auto"
  kpattern_config.validate_training(with_changes(config, {"seeds_per_block": "2"}))


def test_unit_rows_train_the_widths_and_sample_size_they_are_given():
  config = with_changes(load_config("separation", "quick"),
                        {"num_steps": 2, "log_every": 2, "num_test": 32, "seeds": (0,)})
  rows = sweeps.unit_rows(config, "fcn", "nonlocal", 16, 4, (3, 5), 40, bucketed=True)
  assert [(r["width"], r["num_train"], r["locality"]) for r in rows] == [
      (3, 40, "nonlocal"), (5, 40, "nonlocal")]


def test_network_fields_and_steps_read_the_config_and_its_architecture():
  config = load_config("separation", "quick")
  fields = kpattern_config.network_fields(config, "cnn", "local", 16, 4)
  assert (fields["init"], fields["optimizer"], fields["trainable"]) == (
      config.cnn.init, config.cnn.optimizer, tuple(config.cnn.trainable))
  assert fields["first_layer_step_scale"] == 1 / 13 and fields["table"]
  assert kpattern_config.steps(config, "cnn") == (config.num_steps, config.log_every)
  per_arch = load_config("samples_width", "quick")  # steps set per architecture
  assert kpattern_config.steps(per_arch, "fcn") == (per_arch.fcn.num_steps,
                                                    per_arch.fcn.log_every)
  assert per_arch.fcn.num_steps != per_arch.get("num_steps")


@pytest.mark.parametrize("ks,refused", [(20, False), (21, True), ((3, 20), False),
                                        ((3, 21), True)])
def test_pattern_sizes_above_twenty_are_refused_naming_the_field(ks, refused):
  if not refused:
    kpattern_config.validate_k("fixed_ks", ks)
    return
  with pytest.raises(checks.ConfigError, match="fixed_ks.*k <= 20"):
    kpattern_config.validate_k("fixed_ks", ks)
