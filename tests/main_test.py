"""The launcher end to end, and config validation messages."""

import glob
import importlib.util
import json
import os
import subprocess
import sys

import ml_collections
import pytest

from cnnfcn_jax import checks
from cnnfcn_jax.experiments import EXPERIMENTS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.py")))


def load_config_module(name):
  spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "configs", name + ".py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


separation_config = load_config_module("separation")


def run_main(config_arg, workdir, *overrides, env=None):
  return subprocess.run(
      [sys.executable, "-m", "cnnfcn_jax.main", f"--config={config_arg}", f"--workdir={workdir}",
       *overrides], cwd=ROOT, capture_output=True, text=True, timeout=600,
      env={**os.environ, **(env or {})})


@pytest.mark.parametrize("config_path", CONFIGS, ids=os.path.basename)
def test_every_config_runs_end_to_end_in_its_quick_variant(config_path, tmp_path):
  workdir = tmp_path / "run"
  result = run_main(f"{config_path}:quick", workdir)
  assert result.returncode == 0, result.stderr[-3000:]
  files = sorted(os.listdir(workdir))
  assert {"config.json", "results.jsonl", "report.md"} <= set(files), files
  assert not [f for f in files if f.startswith(".tmp")]
  assert any(f.endswith(".png") for f in files)
  rows = [json.loads(line) for line in open(workdir / "results.jsonl")]
  config = json.load(open(workdir / "config.json"))
  assert rows and config["experiment"] in EXPERIMENTS
  if config["experiment"] == "separation":
    required = {"arch", "locality", "n", "k", "width", "seed", "test_accuracy",
                "train_accuracy", "final_loss"}
    assert required <= set(rows[0])
    expected = (len(config["archs"]) * len(config["localities"]) * len(config["ns"])
                * len(config["seeds"]) * len(config["cnn"]["widths"]))
    assert len(rows) == expected
    limited = subprocess.run(  # an arch's max_n drops it from the larger n only
        [sys.executable, "-m", "cnnfcn_jax.main", f"--config={config_path}:quick",
         f"--workdir={tmp_path / 'limited'}", "--config.fcn.max_n=16"], cwd=ROOT,
        capture_output=True, timeout=600)
    assert limited.returncode == 0
    limited_rows = [json.loads(line) for line in open(tmp_path / "limited" / "results.jsonl")]
    assert {r["n"] for r in limited_rows if r["arch"] == "fcn"} == {16}
    assert {r["n"] for r in limited_rows if r["arch"] == "cnn"} == {16, 32}
    assert all(0.0 <= r["test_accuracy"] <= 1.0 for r in rows)
  if config["experiment"] == "mnist_sequences":
    assert len(rows) == len(config["archs"]) * len(config["ns"]) * len(config["seeds"])
    assert all(len(r["curves"]["test_accuracy"]) == config["num_epochs"] for r in rows)
  if config["experiment"] == "params_vs_accuracy":
    nets = sum(len(config["widths"][a]) for a in config["archs"]) * len(config["depths"])
    assert len(rows) == nets * len(config["seeds"])
    assert "NOT the paper's CIFAR-10" in open(workdir / "report.md").read()


def test_a_bad_config_fails_before_compiling_and_writes_nothing(tmp_path):
  workdir = tmp_path / "run"
  result = run_main("configs/separation.py:quick", workdir, "--config.cnn.widths=(0, 4)",
                    env={"JAX_LOG_COMPILES": "1"})
  assert result.returncode != 0
  assert "config.cnn.widths[0] = 0" in result.stderr
  assert "Compiling" not in result.stderr and "Traceback" not in result.stderr
  assert not workdir.exists()


@pytest.mark.parametrize("config,overrides,message", [
    ("mnist_local", ["--config.digits=idx"], "config.mnist_dir = '' is invalid"),
    ("mnist_local", ["--config.digits=idx", "--config.mnist_dir={empty}"],
     "train-images-idx3-ubyte[.gz]: file not found"),
    ("params_vs_accuracy", ["--config.dataset=cifar10"], "config.cifar10_dir = '' is invalid"),
    ("params_vs_accuracy", ["--config.dataset=cifar10", "--config.cifar10_dir={empty}"],
     "data_batch_1: file not found"),
])
def test_missing_data_fails_naming_the_file_before_compiling_or_writing(config, overrides,
                                                                        message, tmp_path):
  workdir, empty = tmp_path / "run", tmp_path / "empty"
  empty.mkdir()
  result = run_main(f"configs/{config}.py:quick", workdir,
                    *[o.format(empty=empty) for o in overrides], env={"JAX_LOG_COMPILES": "1"})
  assert result.returncode != 0 and message in result.stderr, result.stderr[-2000:]
  assert "Compiling" not in result.stderr and "Traceback" not in result.stderr
  assert not workdir.exists()


def test_unknown_config_field_is_rejected_by_the_flag_parser(tmp_path):
  result = run_main("configs/separation.py:quick", tmp_path / "run", "--config.widths=(4,)")
  assert result.returncode != 0 and "widths" in result.stderr
  assert not (tmp_path / "run").exists()


def quick_config(**changes):
  """The quick separation config with `changes` ({"cnn.widths": ...}), any value types."""
  values = separation_config.get_config("quick").to_dict()
  for path, value in changes.items():
    target = values
    *parents, leaf = path.split(".")
    for p in parents:
      target = target[p]
    target[leaf] = value
  return ml_collections.ConfigDict(values)


BAD_CONFIGS = [
    (dict(k=40), "config.k = 40"),
    (dict(k=0), "config.k = 0"),
    (dict(ns=(2, 16)), "config.ns = (2, 16) is invalid: expected every n >= k = 4"),
    (dict(ns=()), "config.ns = ()"),
    (dict(ns=(16, 16)), "without repeated entries"),
    (dict(ns=(8, 16)), "every n >= 13 for the nonlocal twin"),
    (dict(target="majority"), "config.target = 'majority' is invalid: expected one of 'parity', 'random'"),
    (dict(localities=("local", "far")), "config.localities[1] = 'far'"),
    (dict(position=13, localities=("local",)), "config.position = 13 is invalid: expected -1 (middle) or a window start in [0, min(ns) - k] = [0, 12]"),
    (dict(archs=("cnn", "rnn")), "config.archs[1] = 'rnn' is invalid: expected one of 'cnn', 'lcn', 'fcn'"),
    (dict(seeds=(-1,)), "config.seeds[0] = -1"),
    (dict(num_train=0), "config.num_train = 0 is invalid: expected an integer >= 1"),
    ({"fcn.max_n": 8}, "config.fcn.max_n = 8 is invalid: expected 0 (no limit) or at least "
     "min(config.ns) = 16"),
    (dict(seeds_per_block=2, seeds_per_call=3), "config.seeds_per_call = 3 is invalid: "
     "expected 0 or a multiple of config.seeds_per_block = 2"),
    (dict(num_test=-5), "config.num_test = -5"),
    (dict(num_steps=0), "config.num_steps = 0"),
    (dict(log_every=7), "config.log_every = 7 is invalid: expected a divisor of config.num_steps = 40"),
    (dict(activation="gelu"), "config.activation = 'gelu'"),
    (dict(path="sparse"), "config.path = 'sparse' is invalid: expected one of 'auto', 'dense', 'table'"),
    ({"cnn.widths": (8, -1)}, "config.cnn.widths[1] = -1"),
    ({"fcn.init": "paper"}, "config.fcn.init = 'paper' is invalid: expected one of 'gaussian'"),
    ({"lcn.init": "xavier"}, "config.lcn.init = 'xavier' is invalid: expected one of 'paper', 'gaussian'"),
    ({"cnn.trainable": ("W", "v")}, "config.cnn.trainable[1] = 'v'"),
    ({"fcn.optimizer": "adamm"}, "config.fcn.optimizer = 'adamm' is invalid: expected one of 'gd'"),
    ({"lcn.learning_rate": -0.1}, "config.lcn.learning_rate = -0.1"),
    ({"lcn.learning_rate": float("nan")}, "config.lcn.learning_rate = nan"),
    ({"cnn.learning_rate": (0.1, 0.2, 0.3)}, "config.cnn.learning_rate = (0.1, 0.2, 0.3) is "
     "invalid: expected one learning rate, or one per width: config.cnn.widths has 2 entries"),
    ({"cnn.learning_rate": (0.1, -1.0)}, "config.cnn.learning_rate[1] = -1.0"),
]


@pytest.mark.parametrize("changes,message", BAD_CONFIGS, ids=[m[:40] for _, m in BAD_CONFIGS])
def test_invalid_configs_are_rejected_with_a_message_naming_the_field(changes, message):
  config = quick_config(**changes)
  with pytest.raises(checks.ConfigError) as error:
    EXPERIMENTS["separation"].validate(config)
  assert message in str(error.value)


def test_the_default_and_quick_configs_are_valid():
  for variant in ("", "quick"):
    EXPERIMENTS["separation"].validate(separation_config.get_config(variant))
