"""The launcher end to end: every config's quick variant, refusals before any compile,
kill and resume, bitwise reruns, the workdir guard."""

import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
import samples_width_test
import time_to_learn_test
from conftest import CONFIG_NAMES, ROOT, load_config, main_command, run_main
from data_test import write_cifar, write_mnist

from cnnfcn_jax import checkpoints, outputs, publish
from cnnfcn_jax import workdir as workdir_module
from cnnfcn_jax.experiments import EXPERIMENTS

QUICK = "configs/separation.py:quick"
# Four sweeps, so that a run can be killed after the first is checkpointed.
SMALL = ["--config.localities=('local',)", "--config.archs=('cnn', 'fcn')"]
# An experiment's own checks of its quick run's files, on the run made here.
QUICK_RUN_CHECKS = {"samples_width": samples_width_test.check_quick_run,
                    "time_to_learn": time_to_learn_test.check_quick_run}


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
def test_every_config_runs_end_to_end_in_its_quick_variant_and_renders_its_page(name, tmp_path):
  """One launcher run per config serves both checks: the run's files, and its page."""
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
  # The report was printed: its verdicts are holds, FAILS or not established.
  assert any(f"- {v}: " in result.stdout for v in ("holds", "FAILS", "not established"))
  QUICK_RUN_CHECKS.get(name, lambda workdir: None)(workdir)
  # Every config has a published page, and this run publishes one in a copy of docs/.
  assert os.path.exists(os.path.join(ROOT, "docs", "results", f"{name}.json"))
  results = tmp_path / "results"  # every page: the README's table counts their verdicts
  shutil.copytree(os.path.join(ROOT, "docs", "results"), results)
  for page in results.glob(f"{name}*"):  # this config's page, summary and figures anew
    shutil.rmtree(page) if page.is_dir() else page.unlink()
  readme = tmp_path / "README.md"
  shutil.copyfile(os.path.join(ROOT, "README.md"), readme)
  page = publish.publish(publish.summarize(str(workdir)), str(results), str(readme))
  assert page == str(results / f"{name}.md")
  text = open(page, encoding="utf-8").read()
  assert text.startswith("# ") and f"]({name}/" in text
  assert any(publish.VERDICT.match(line) for line in text.splitlines())  # its claims judged
  assert (results / name).is_dir() and list((results / name).glob("*.png"))


@pytest.mark.slow
def test_max_n_drops_an_architecture_from_the_larger_n_only(tmp_path):
  assert run_main(QUICK, tmp_path, "--config.fcn.max_n=16",
                  "--config.localities=('local',)").returncode == 0
  rows = [json.loads(line) for line in open(tmp_path / outputs.RESULTS_FILE)]
  assert {r["n"] for r in rows if r["arch"] == "fcn"} == {16}
  assert {r["n"] for r in rows if r["arch"] == "cnn"} == {16, 32}


def checkpointed_units(workdir):
  directory = os.path.join(workdir, checkpoints.CHECKPOINT_DIR)
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
  assert not os.path.exists(workdir / checkpoints.CHECKPOINT_DIR)


@pytest.mark.slow
def test_the_same_config_gives_bitwise_identical_results_from_a_cold_or_warm_cache(tmp_path):
  first, second, third = tmp_path / "a", tmp_path / "b", tmp_path / "c"
  cache = tmp_path / "cache"
  overrides = ["--config.archs=('lcn', 'fcn')", "--config.ns=(16,)",
               f"--compilation_cache_dir={cache}"]
  assert run_main(QUICK, first, *overrides).returncode == 0  # cold: compiles, fills the cache
  entries = os.listdir(cache)
  assert entries
  assert run_main(QUICK, second, *overrides).returncode == 0  # warm: loads from the cache
  assert sorted(os.listdir(cache)) == sorted(entries)  # nothing new was compiled
  assert run_main(QUICK, third, *overrides, "--nocompilation_cache").returncode == 0
  for other in (second, third):
    assert ((first / outputs.RESULTS_FILE).read_bytes()
            == (other / outputs.RESULTS_FILE).read_bytes())
  assert json.load(open(first / outputs.CONFIG_FILE))["prng_impl"] == "threefry2x32"
  timing = [json.load(open(w / outputs.TIMING_FILE)) for w in (first, second, third)]
  assert [t["compilation_cache"] for t in timing] == [True, True, False]
  for t in timing:
    assert t["seconds"] == pytest.approx(t["compile_seconds"] + t["run_seconds"])
  assert timing[1]["compile_seconds"] < timing[0]["compile_seconds"]
  assert "Time of the run that wrote these results" in (second / "report.md").read_text()
  assert outputs.TIMING_FILE in json.load(open(second / outputs.MANIFEST_FILE))


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


def free_port():
  import socket
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def start_processes(workdir, overrides, count=2):
  port = free_port()
  return [subprocess.Popen(
      main_command(QUICK, workdir, *overrides, "--distributed",
                   f"--coordinator_address=127.0.0.1:{port}", f"--num_processes={count}",
                   f"--process_id={i}", "--distributed_timeout=10"),
      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      for i in range(count)]


# A fixed block: "auto" sizes blocks per device count, and the block is part of the numerics.
# No compilation cache: the processes would write the same entries at once.
DISTRIBUTED = ["--config.archs=('cnn', 'lcn')", "--config.ns=(16, 32)",
               "--config.localities=('local',)", "--config.seeds=(0, 1, 2)",
               "--config.seeds_per_block=2", "--nocompilation_cache"]


@pytest.mark.slow
def test_two_processes_give_the_results_of_one_bit_for_bit(tmp_path):
  # Two CPU processes, one device each: the 3 seeds, in blocks of 2 padded to 4 seeds, are
  # spread over both; CNN and LCN results are bitwise those of one process on one device.
  assert run_main(QUICK, tmp_path / "one", *DISTRIBUTED).returncode == 0
  processes = start_processes(tmp_path / "two", DISTRIBUTED)
  outs = [p.communicate(timeout=600) for p in processes]
  assert [p.returncode for p in processes] == [0, 0], outs[1][1][-3000:]
  assert "process 1 of 2, 2 devices in all" in outs[1][1]
  assert ((tmp_path / "one" / outputs.RESULTS_FILE).read_bytes()
          == (tmp_path / "two" / outputs.RESULTS_FILE).read_bytes())
  # Only process 0 prints the report (both print gloo's connection line).
  assert "holds" in outs[0][0] and "holds" not in outs[1][0]


@pytest.mark.slow
def test_a_dead_process_makes_the_other_exit_with_a_clear_error_in_bounded_time(tmp_path):
  processes = start_processes(tmp_path / "two", DISTRIBUTED)
  deadline = time.time() + 300
  while time.time() < deadline and not checkpointed_units(tmp_path / "two"):
    time.sleep(0.05)
  processes[1].kill()
  killed = time.time()
  _, stderr = processes[0].communicate(timeout=120)
  assert time.time() - killed < 60  # the heartbeat timeout is 10 s
  assert processes[0].returncode != 0
  assert "another process of this --distributed run failed" in stderr or \
      "another task died" in stderr, stderr[-3000:]


# ------------------------------------------------ precision, and what is on disk

TINY = ["--config.ns=(16,)", "--config.archs=('cnn',)", "--config.localities=('local',)",
        "--config.seeds=(0,)"]


def float32_exact(values):
  return all(float(np.float32(v)) == v for v in values)


@pytest.mark.slow
def test_a_run_computes_and_saves_in_the_precision_its_config_names(tmp_path):
  # A float32 run's losses are float32 numbers; a float64 run's are not (they would be,
  # were float64 not enabled). Both save the precision in every row.
  for precision in ("float32", "float64"):
    result = run_main(QUICK, tmp_path / precision, *TINY, f"--config.precision={precision}")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in open(tmp_path / precision / outputs.RESULTS_FILE)]
    assert {row["precision"] for row in rows} == {precision}
    losses = [v for row in rows for v in row["curves"]["train_loss"]]
    assert float32_exact(losses) == (precision == "float32"), (precision, losses)


@pytest.mark.slow
def test_a_second_launcher_on_a_workdir_in_use_is_refused_and_the_first_finishes(tmp_path):
  workdir = tmp_path / "run"
  first = subprocess.Popen(main_command(QUICK, workdir, *SMALL), cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  deadline = time.time() + 120
  while not (workdir / workdir_module.LOCK_FILE).exists() and time.time() < deadline:
    time.sleep(0.05)
  second = run_main(QUICK, workdir, *SMALL)
  assert second.returncode != 0 and "Traceback" not in second.stderr
  assert f"--workdir={workdir} is in use by another launcher (process {first.pid}" in \
      second.stderr.strip().splitlines()[-1]
  assert first.wait(timeout=600) == 0, first.stderr.read()[-2000:]
  assert sorted(os.listdir(workdir)) == sorted(
      json.load(open(workdir / outputs.MANIFEST_FILE)) + [outputs.MANIFEST_FILE])


@pytest.mark.slow
def test_a_corrupt_checkpoint_unit_is_named_and_recomputed_only_when_asked(tmp_path):
  workdir = tmp_path / "run"
  assert run_main(QUICK, workdir, *TINY).returncode == 0
  results = (workdir / outputs.RESULTS_FILE).read_bytes()
  directory = workdir / checkpoints.CHECKPOINT_DIR
  directory.mkdir()  # a run of the same config stopped with one unit half-edited
  shutil.copy(workdir / outputs.CONFIG_FILE, directory / outputs.CONFIG_FILE)
  unit = directory / "cnn-local-n16-k4.json"
  unit.write_text('[{"arch": "cnn", "n": 1')
  refused = run_main(QUICK, workdir, *TINY)
  assert refused.returncode != 0 and "Traceback" not in refused.stderr
  line = refused.stderr.strip().splitlines()[-1]
  assert f"{unit}: the saved rows of unit 'cnn-local-n16-k4' are not valid JSON" in line
  assert "--recompute_corrupt_units" in line
  assert unit.read_text() == '[{"arch": "cnn", "n": 1'  # kept as it was
  assert (workdir / outputs.RESULTS_FILE).read_bytes() == results
  again = run_main(QUICK, workdir, *TINY, "--recompute_corrupt_units")
  assert again.returncode == 0, again.stderr[-2000:]
  assert (workdir / outputs.RESULTS_FILE).read_bytes() == results
  assert not directory.exists()


@pytest.mark.slow
def test_a_unit_too_large_for_memory_is_named_with_its_size_and_leaves_nothing(tmp_path):
  workdir = tmp_path / "run"
  result = run_main(QUICK, workdir, "--config.ns=(16384,)", "--config.archs=('cnn',)",
                    "--config.localities=('local',)")
  assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
  line = result.stderr.strip().splitlines()[-1]
  assert line.startswith("error: unit 'cnn-local-n16384-k4' of config.experiment = "
                         "'separation' needs an allocation of "), line
  assert "bytes" in line and "config.seeds_per_block" in line and "config.ns" in line
  assert "config.cnn.widths" in line
  assert not workdir.exists()  # nothing half-written: no checkpoint folder, no lock


# ------------------------------------------- every :paper variant, sizes reduced
#
# The paper-scale settings are what a user with an accelerator runs first: each runs here
# end to end through the launcher, with only sizes reduced (seeds, n, epochs, sequences,
# widths), on IDX and CIFAR files written in the real formats, so that every code path of
# `:paper` (the IDX and CIFAR readers, the largest n, every depth) runs once.

def has_paper_variant(name):
  try:
    load_config(name, "paper")
  except ValueError:
    return False
  return True


# The k-pattern experiments' :paper variants have their own tests (their test files);
# mnist_nonlocal's :paper is mnist_local's with the non-local label, which its quick run runs.
OWN_PAPER_TESTS = ("time_to_learn", "samples_width")
SAME_PATHS_AS_ANOTHER = ("mnist_nonlocal",)
PAPER_CONFIGS = [name for name in CONFIG_NAMES if name not in OWN_PAPER_TESTS
                 + SAME_PATHS_AS_ANOTHER and has_paper_variant(name)]


def paper_overrides(name, data_dir):
  """Size-only overrides of configs/<name>.py:paper, and its data written in data_dir."""
  if name.startswith("mnist"):
    write_mnist(data_dir, "train", count=40)
    write_mnist(data_dir, "test", count=20)
    return [f"--config.mnist_dir={data_dir}", "--config.ns=(3, 19)", "--config.seeds=(0,)",
            "--config.num_epochs=1", "--config.sequences_per_epoch=128", "--config.num_test=64"]
  write_cifar(data_dir, count=24)
  return [f"--config.cifar10_dir={data_dir}", "--config.seeds=(0,)", "--config.num_epochs=1",
          "--config.batch_size=32", "--config.widths.cnn=(2, 4)", "--config.widths.fcn=(8, 16)"]


def test_the_paper_variants_tested_are_every_config_with_one():
  assert PAPER_CONFIGS == ["mnist_local", "params_vs_accuracy"]
  local, nonlocal_ = (load_config(name, "paper").to_dict() for name in ("mnist_local",
                                                                         "mnist_nonlocal"))
  assert {k for k in local if local[k] != nonlocal_[k]} == {"locality"}


@pytest.mark.slow
@pytest.mark.parametrize("name", PAPER_CONFIGS)
def test_every_paper_variant_runs_end_to_end_with_sizes_reduced(name, tmp_path):
  data_dir = tmp_path / "data"
  data_dir.mkdir()
  workdir = tmp_path / "run"
  result = run_main(f"configs/{name}.py:paper", workdir, *paper_overrides(name, data_dir))
  assert result.returncode == 0, result.stderr[-3000:]
  rows = [json.loads(line) for line in open(workdir / outputs.RESULTS_FILE)]
  config = json.load(open(workdir / outputs.CONFIG_FILE))
  assert config["digits" if name.startswith("mnist") else "dataset"] in ("idx", "cifar10")
  if name.startswith("mnist"):
    assert {row["n"] for row in rows} == {3, 19}
  else:
    assert {row["depth"] for row in rows} == set(config["depths"])
  assert "holds" in result.stdout or "FAILS" in result.stdout
