"""The launcher end to end: every config's quick variant, refusals before any compile,
kill and resume, bitwise reruns, the workdir guard."""

import json
import os
import signal
import subprocess
import time

import pytest
from conftest import CONFIG_NAMES, ROOT, main_command, run_main

from cnnfcn_jax import outputs
from cnnfcn_jax.experiments import EXPERIMENTS

QUICK = "configs/separation.py:quick"
# Four sweeps, so that a run can be killed after the first is checkpointed.
SMALL = ["--config.localities=('local',)", "--config.archs=('cnn', 'fcn')"]


def test_a_bad_config_fails_before_compiling_and_writes_nothing(tmp_path):
  workdir = tmp_path / "run"
  result = run_main(QUICK, workdir, "--config.cnn.widths=(0, 4)", env={"JAX_LOG_COMPILES": "1"})
  assert result.returncode != 0
  assert "config.cnn.widths[0] = 0" in result.stderr
  assert "Compiling" not in result.stderr and "Traceback" not in result.stderr
  assert not workdir.exists()


@pytest.mark.slow
def test_unknown_config_field_is_rejected_by_the_flag_parser(tmp_path):
  result = run_main(QUICK, tmp_path / "run", "--config.widths=(4,)")
  assert result.returncode != 0 and "widths" in result.stderr
  assert not (tmp_path / "run").exists()


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_every_config_runs_end_to_end_in_its_quick_variant(name, tmp_path):
  workdir = tmp_path / "run"
  result = run_main(f"configs/{name}.py:quick", workdir)
  assert result.returncode == 0, result.stderr[-3000:]
  files = sorted(os.listdir(workdir))
  manifest = json.load(open(workdir / outputs.MANIFEST_FILE))
  assert sorted(manifest + [outputs.MANIFEST_FILE]) == files  # every file is listed
  assert {"config.json", "results.jsonl", "report.md"} <= set(files)
  assert any(f.endswith(".png") for f in files)
  rows = [json.loads(line) for line in open(workdir / outputs.RESULTS_FILE)]
  config = json.load(open(workdir / outputs.CONFIG_FILE))
  assert rows and config["experiment"] in EXPERIMENTS
  assert "holds" in result.stdout or "FAILS" in result.stdout  # the report was printed


@pytest.mark.slow
def test_max_n_drops_an_architecture_from_the_larger_n_only(tmp_path):
  assert run_main(QUICK, tmp_path, "--config.fcn.max_n=16",
                  "--config.localities=('local',)").returncode == 0
  rows = [json.loads(line) for line in open(tmp_path / outputs.RESULTS_FILE)]
  assert {r["n"] for r in rows if r["arch"] == "fcn"} == {16}
  assert {r["n"] for r in rows if r["arch"] == "cnn"} == {16, 32}


def checkpointed_units(workdir):
  directory = os.path.join(workdir, outputs.CHECKPOINT_DIR)
  if not os.path.isdir(directory):
    return []
  return [f for f in os.listdir(directory) if f != outputs.CONFIG_FILE and not f.startswith(".")]


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_results_of_an_uninterrupted_one(tmp_path):
  reference = tmp_path / "reference"
  assert run_main(QUICK, reference, *SMALL).returncode == 0
  workdir = tmp_path / "interrupted"
  process = subprocess.Popen(main_command(QUICK, workdir, *SMALL), cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  while not checkpointed_units(workdir) and time.time() < deadline and process.poll() is None:
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  process.wait()
  done = checkpointed_units(workdir)
  assert 1 <= len(done) < 4, done  # killed mid-run, after at least one finished unit
  assert not os.path.exists(workdir / outputs.RESULTS_FILE)
  resumed = run_main(QUICK, workdir, *SMALL)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  assert f"resumed: {len(done)} finished units" in resumed.stderr
  assert ((workdir / outputs.RESULTS_FILE).read_bytes()
          == (reference / outputs.RESULTS_FILE).read_bytes())
  assert not os.path.exists(workdir / outputs.CHECKPOINT_DIR)


@pytest.mark.slow
def test_the_same_config_gives_bitwise_identical_results(tmp_path):
  first, second = tmp_path / "a", tmp_path / "b"
  overrides = ["--config.archs=('lcn', 'fcn')", "--config.ns=(16,)"]
  assert run_main(QUICK, first, *overrides).returncode == 0
  assert run_main(QUICK, second, *overrides).returncode == 0
  assert ((first / outputs.RESULTS_FILE).read_bytes()
          == (second / outputs.RESULTS_FILE).read_bytes())
  assert json.load(open(first / outputs.CONFIG_FILE))["prng_impl"] == "threefry2x32"


@pytest.mark.slow
def test_a_workdir_of_another_config_is_refused_unless_overwrite(tmp_path):
  workdir = tmp_path / "run"
  overrides = ["--config.archs=('cnn',)", "--config.ns=(16,)", "--config.localities=('local',)"]
  assert run_main(QUICK, workdir, *overrides).returncode == 0
  before = (workdir / outputs.RESULTS_FILE).read_bytes()
  refused = run_main(QUICK, workdir, *overrides, "--config.num_steps=20")
  assert refused.returncode != 0
  assert "holds results of a different config (fields that differ: num_steps)" in refused.stderr
  assert "--overwrite" in refused.stderr
  assert (workdir / outputs.RESULTS_FILE).read_bytes() == before
  (workdir / "notes.md").write_text("the user's own file")
  replaced = run_main(QUICK, workdir, *overrides, "--config.num_steps=20", "--overwrite")
  assert replaced.returncode == 0
  assert json.load(open(workdir / outputs.CONFIG_FILE))["num_steps"] == 20
  assert (workdir / "notes.md").read_text() == "the user's own file"
