"""Interrupted runs resume to identical results; workdirs are guarded; bad input is refused."""

import json
import os
import signal
import subprocess
import sys
import time

import hypothesis
import ml_collections
import pytest
from hypothesis import strategies as st

from cnnfcn_jax import checks, outputs
from cnnfcn_jax import experiments

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = "configs/separation.py:quick"
# Four sweeps, so that a run can be killed after the first is checkpointed.
SMALL = ["--config.localities=('local',)", "--config.archs=('cnn', 'fcn')"]


def main_command(workdir, *overrides, config=QUICK):
  return [sys.executable, "-m", "cnnfcn_jax.main", f"--config={config}", f"--workdir={workdir}",
          *overrides]


def run_main(workdir, *overrides, config=QUICK):
  return subprocess.run(main_command(workdir, *overrides, config=config), cwd=ROOT,
                        capture_output=True, text=True, timeout=600)


def checkpointed_units(workdir):
  directory = os.path.join(workdir, outputs.CHECKPOINT_DIR)
  if not os.path.isdir(directory):
    return []
  return [f for f in os.listdir(directory) if f != outputs.CONFIG_FILE and not f.startswith(".")]


def test_a_killed_run_resumes_to_the_results_of_an_uninterrupted_one(tmp_path):
  reference = tmp_path / "reference"
  assert run_main(reference, *SMALL).returncode == 0
  workdir = tmp_path / "interrupted"
  process = subprocess.Popen(main_command(workdir, *SMALL), cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  while not checkpointed_units(workdir) and time.time() < deadline and process.poll() is None:
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  process.wait()
  done = checkpointed_units(workdir)
  assert 1 <= len(done) < 4, done  # killed mid-run, after at least one finished unit
  assert not os.path.exists(workdir / outputs.RESULTS_FILE)
  resumed = run_main(workdir, *SMALL)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  assert f"resumed: {len(done)} finished units" in resumed.stderr
  assert (workdir / outputs.RESULTS_FILE).read_bytes() == (reference / outputs.RESULTS_FILE).read_bytes()
  assert not os.path.exists(workdir / outputs.CHECKPOINT_DIR)


def test_the_same_config_gives_bitwise_identical_results(tmp_path):
  first, second = tmp_path / "a", tmp_path / "b"
  overrides = ["--config.archs=('lcn', 'fcn')", "--config.ns=(16,)"]
  assert run_main(first, *overrides).returncode == 0
  assert run_main(second, *overrides).returncode == 0
  assert (first / outputs.RESULTS_FILE).read_bytes() == (second / outputs.RESULTS_FILE).read_bytes()
  assert json.load(open(first / outputs.CONFIG_FILE))["prng_impl"] == "threefry2x32"


def test_a_workdir_of_another_config_is_refused_unless_overwrite(tmp_path):
  workdir = tmp_path / "run"
  overrides = ["--config.archs=('cnn',)", "--config.ns=(16,)", "--config.localities=('local',)"]
  assert run_main(workdir, *overrides).returncode == 0
  before = (workdir / outputs.RESULTS_FILE).read_bytes()
  refused = run_main(workdir, *overrides, "--config.num_steps=20")
  assert refused.returncode != 0
  assert "holds results of a different config (fields that differ: num_steps)" in refused.stderr
  assert "--overwrite" in refused.stderr
  assert (workdir / outputs.RESULTS_FILE).read_bytes() == before
  (workdir / "notes.md").write_text("the user's own file")
  replaced = run_main(workdir, *overrides, "--config.num_steps=20", "--overwrite")
  assert replaced.returncode == 0
  assert json.load(open(workdir / outputs.CONFIG_FILE))["num_steps"] == 20
  assert (workdir / "notes.md").read_text() == "the user's own file"


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
  path = tmp_path / "results.jsonl"
  outputs.atomic_write(str(path), "old\n")

  def broken_replace(src, dst):
    raise KeyboardInterrupt

  monkeypatch.setattr(os, "replace", broken_replace)
  with pytest.raises(KeyboardInterrupt):
    outputs.atomic_write(str(path), "new\n")
  assert path.read_text() == "old\n"
  assert os.listdir(tmp_path) == ["results.jsonl"]


# ------------------------------------------------------------------ adversarial configs

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
    st.text(max_size=8), st.tuples(), st.lists(st.integers(-5, 300), max_size=4).map(tuple),
    st.lists(st.text(max_size=4), max_size=3).map(tuple),
    st.lists(st.floats(allow_nan=True), max_size=3).map(tuple))


def load_config(name):
  import importlib.util
  spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "configs", name + ".py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config("quick").to_dict()


def leaf_paths(values, prefix=()):
  for key, value in values.items():
    if isinstance(value, dict):
      yield from leaf_paths(value, prefix + (key,))
    else:
      yield prefix + (key,)


CONFIG_NAMES = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "configs")) if f.endswith(".py"))


@pytest.mark.parametrize("name", CONFIG_NAMES)
@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(data=st.data())
def test_random_config_values_are_accepted_or_refused_with_the_field_named(name, data):
  values = load_config(name)
  paths = list(leaf_paths(values))
  changed = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True))
  for path in changed:
    target = values
    for key in path[:-1]:
      target = target[key]
    target[path[-1]] = data.draw(ANY_VALUE)
  config = ml_collections.ConfigDict(values)
  try:
    experiments.validate(config)
  except checks.ConfigError as error:
    message = str(error)
    assert message.startswith("config.") and "expected" in message
    named = message.split(" = ")[0][len("config."):].split("[")[0]
    assert named in {".".join(p) for p in leaf_paths(values)}, message
