"""The redraw command: figures and report.md from saved rows alone, listed in the manifest."""

import json
import os

from conftest import load_config

from cnnfcn_jax import outputs, report
from cnnfcn_jax.experiments import lemma6_coverage


def test_a_saved_run_is_redrawn_from_its_rows_and_listed_in_the_manifest(tmp_path):
  config = load_config("lemma6_coverage", "quick")
  config.ks, config.width_factors, config.num_inits = (2,), (1.0,), 20
  rows = lemma6_coverage.run(config)
  workdir = str(tmp_path)
  outputs.write_config(workdir, config)
  outputs.write_jsonl(os.path.join(workdir, outputs.RESULTS_FILE), rows)
  text = report.redraw(workdir)
  assert text.startswith("# Lemma 6") and "![coverage](coverage.png)" in text
  manifest = json.load(open(tmp_path / outputs.MANIFEST_FILE))
  assert manifest == ["config.json", "coverage.png", "report.md", "results.jsonl"]
  assert sorted(os.listdir(tmp_path)) == sorted(manifest + [outputs.MANIFEST_FILE])
  first = (tmp_path / "report.md").read_text()
  report.redraw(workdir)  # redrawing changes nothing
  assert (tmp_path / "report.md").read_text() == first
