"""launch.run, the launcher's path as a function: what a notebook calling it gets back and
leaves behind."""

import os

import pytest
from conftest import load_config

from cnnfcn_jax import checks, data, experiments, launch, outputs


@pytest.mark.slow  # a whole quick run and its resume (9 s): main_test runs every config so
def test_a_run_returns_its_report_and_writes_the_launchers_files(tmp_path):
  workdir = str(tmp_path / "run")
  text = launch.run(load_config("lemma6_coverage", "quick"), workdir, compilation_cache=False)
  assert text.startswith("# ") and "holds" in text
  assert {outputs.CONFIG_FILE, outputs.RESULTS_FILE, "report.md"} <= set(os.listdir(workdir))
  # The same call again resumes: nothing to compute, the same report.
  assert launch.run(load_config("lemma6_coverage", "quick"), workdir,
                    compilation_cache=False).splitlines()[:3] == text.splitlines()[:3]


def test_a_bad_config_is_refused_before_anything_is_written(tmp_path):
  config = load_config("separation", "quick")
  config.unlock()
  config.num_steps = -1
  with pytest.raises(checks.ConfigError, match="num_steps"):
    launch.run(config, str(tmp_path / "run"))
  assert not os.path.exists(tmp_path / "run")


def test_a_run_that_stops_releases_the_workdir_for_the_next_call(tmp_path, monkeypatch):
  """In a notebook the process lives on: the lock must go with the failed call."""
  workdir, config = str(tmp_path / "run"), load_config("separation", "quick")

  def interrupted(config, checkpoint):
    raise KeyboardInterrupt

  def missing_file(config, checkpoint):
    raise data.DataError("digits.npz: file not found")

  monkeypatch.setattr(experiments, "run", interrupted)
  with pytest.raises(KeyboardInterrupt):
    launch.run(config, workdir, compilation_cache=False)
  monkeypatch.setattr(experiments, "run", missing_file)  # claims the workdir again
  with pytest.raises(launch.RunError, match="digits.npz: file not found"):
    launch.run(config, workdir, compilation_cache=False)
  assert not os.path.exists(workdir)  # nothing finished: the empty workdir goes too
