"""The redraw command: figures and report.md from saved rows alone, listed in the manifest;
a file it cannot read ends in one line naming it, never a traceback."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, load_config

from cnnfcn_jax import outputs, report
from cnnfcn_jax.experiments import lemma6_coverage


@pytest.fixture(scope="module")
def saved_run():
  """A small lemma6 run's config and rows."""
  config = load_config("lemma6_coverage", "quick")
  config.ks, config.width_factors, config.num_inits = (2,), (1.0,), 20
  return config, lemma6_coverage.run(config)


def write_run(workdir, saved_run):
  config, rows = saved_run
  outputs.write_config(str(workdir), config)
  outputs.write_jsonl(os.path.join(workdir, outputs.RESULTS_FILE), rows)
  return os.path.join(workdir, outputs.RESULTS_FILE)


def test_a_saved_run_is_redrawn_from_its_rows_and_listed_in_the_manifest(tmp_path, saved_run):
  write_run(tmp_path, saved_run)
  text = report.redraw(str(tmp_path))
  assert text.startswith("# Lemma 6") and "![coverage](coverage.png)" in text
  manifest = json.load(open(tmp_path / outputs.MANIFEST_FILE))
  assert manifest == ["config.json", "coverage.png", "report.md", "results.jsonl"]
  assert sorted(os.listdir(tmp_path)) == sorted(manifest + [outputs.MANIFEST_FILE])
  first = (tmp_path / "report.md").read_text()
  report.redraw(str(tmp_path))  # redrawing changes nothing
  assert (tmp_path / "report.md").read_text() == first


def test_a_malformed_line_or_a_row_without_a_field_is_named_with_its_line(tmp_path, saved_run):
  config, rows = saved_run
  results = write_run(tmp_path, (config, rows * 3))  # three rows
  lines = open(results).read().splitlines()
  open(results, "w").write("\n".join(lines[:1] + [lines[1][:-5]] + lines[2:]) + "\n")
  with pytest.raises(outputs.OutputError, match=rf"^{results} line 2: not valid JSON .*rerun "
                     "the launcher with the same --config and --workdir"):
    report.redraw(str(tmp_path))
  rows = [json.loads(line) for line in lines]
  del rows[2]["covered_fraction"]
  outputs.write_jsonl(results, rows)
  with pytest.raises(outputs.OutputError, match=rf"^{results} line 3: the row has no field "
                     "'covered_fraction', which the lemma6_coverage report reads"):
    report.redraw(str(tmp_path))
  assert not (tmp_path / outputs.MANIFEST_FILE).exists()  # nothing written


def test_a_folder_that_is_not_a_finished_workdir_is_named(tmp_path, saved_run):
  with pytest.raises(outputs.OutputError, match="config.json: not found; .* is not the workdir "
                     "of a finished run"):
    report.redraw(str(tmp_path))
  results = write_run(tmp_path, saved_run)
  os.remove(results)
  with pytest.raises(outputs.OutputError, match=rf"^{results}: not found; rerun the launcher"):
    report.redraw(str(tmp_path))


@pytest.mark.slow
def test_the_command_ends_in_one_line_naming_the_file(tmp_path, saved_run):
  (tmp_path / "run").mkdir()
  results = write_run(tmp_path / "run", saved_run)
  with open(results, "a") as f:
    f.write('{"k": 2, "q"\n')
  for workdir, message in ((tmp_path / "run", f"error: {results} line "),
                           (tmp_path, f"error: {tmp_path}/config.json: not found")):
    result = subprocess.run([sys.executable, "-m", "cnnfcn_jax.report", f"--workdir={workdir}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr
