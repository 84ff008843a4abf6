"""Result pages come from runs: every committed page and README block is what its committed
summary renders, a run folder publishes, and a malformed summary is named in one line."""

import glob
import json
import os
import shutil

import pytest

from conftest import ROOT, run_main
from cnnfcn_jax import outputs, publish

SUMMARIES = sorted(glob.glob(os.path.join(ROOT, "docs", "results", "*.json")))


def test_there_are_published_results():
  assert SUMMARIES


@pytest.mark.parametrize("path", SUMMARIES, ids=os.path.basename)
def test_a_page_and_its_readme_block_re_render_exactly_from_the_summary(path, tmp_path):
  name = os.path.basename(path)[:-5]
  results = tmp_path / "results"  # every page: the README's table counts their verdicts
  shutil.copytree(os.path.join(ROOT, "docs", "results"), results)
  for page in results.glob(f"{name}*"):  # this experiment's page, summary and figures anew
    shutil.rmtree(page) if page.is_dir() else page.unlink()
  readme = tmp_path / "README.md"
  shutil.copyfile(os.path.join(ROOT, "README.md"), readme)
  publish.publish(publish.read_summary(path), str(results), str(readme))
  with open(os.path.join(ROOT, "docs", "results", f"{name}.md"), encoding="utf-8") as f:
    assert (results / f"{name}.md").read_text() == f.read()
  with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
    assert readme.read_text() == f.read()
  with open(path, encoding="utf-8") as f:
    assert (results / f"{name}.json").read_text() == f.read()


def test_the_readme_block_is_the_report_s_verdicts_and_a_link():
  text = ("# R\n\n- holds: a (1)\n- FAILS: b (2)\n- not established: c (3)\nother\n"
          "All cells: 5 steps.\n\nTime of the run that wrote these results: 1.0 s.\n")
  block = publish.readme_block("x", text)
  assert block.splitlines()[:6] == ["- holds: a (1)", "- FAILS: b (2)",
                                    "- not established: c (3)", "", "All cells: 5 steps.",
                                    "Time of the run that wrote these results: 1.0 s."]
  assert "[docs/results/x.md](docs/results/x.md)" in block
  readme = "top\n<!-- results:x -->\nold\n<!-- /results:x -->\nbottom\n"
  assert publish.with_block(readme, "x", "new") == (
      "top\n<!-- results:x -->\nnew\n<!-- /results:x -->\nbottom\n")
  with pytest.raises(ValueError, match="no <!-- results:y -->"):
    publish.with_block(readme, "y", "new")


def test_a_summary_round_trips_its_rows(tmp_path):
  rows = [dict(a=1, b=i // 2, c=None if i else 2.5, d="x", e=True if i < 3 else 1,
               **({"f": 0.5} if i % 2 else {}))  # f: a field some rows lack, not null
          for i in range(5)]
  outputs.write_jsonl(str(tmp_path / outputs.RESULTS_FILE), rows)
  outputs.atomic_write(str(tmp_path / outputs.CONFIG_FILE), json.dumps({"experiment": "e"}))
  summary = publish.summarize(str(tmp_path))
  assert summary["constant"] == {"a": 1, "d": "x"}
  assert summary["columns"]["b"] == [[0, 2], [1, 2], [2, 1]]
  assert summary["columns"]["e"] == [[True, 3], [1, 2]]  # True and 1 are not one value
  assert publish.rows_of(summary) == rows


@pytest.mark.parametrize("content,message", [
    ("{", "line 1: not valid JSON"),
    ('{"config": {}}', "not a result summary"),
    ('{"config": {}, "timing": null, "num_rows": 2, "constant": {}, "columns": {"a": [[1, 1]]}}',
     "not a result summary"),
])
def test_a_malformed_summary_is_named_with_the_fix(tmp_path, content, message):
  path = tmp_path / "x.json"
  path.write_text(content)
  with pytest.raises(outputs.OutputError) as error:
    publish.read_summary(str(path))
  assert str(path) in str(error.value) and message in str(error.value)
  assert "publish it again from its run folder" in str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize("path", SUMMARIES, ids=os.path.basename)
def test_every_page_renders_from_the_quick_run_of_its_experiment(path, tmp_path):
  name = os.path.basename(path)[:-5]
  workdir = tmp_path / "run"
  result = run_main(f"configs/{name}.py:quick", workdir)
  assert result.returncode == 0, result.stderr[-3000:]
  results = tmp_path / "results"  # every page: the README's table counts their verdicts
  shutil.copytree(os.path.join(ROOT, "docs", "results"), results)
  for page in results.glob(f"{name}*"):  # this experiment's page, summary and figures anew
    shutil.rmtree(page) if page.is_dir() else page.unlink()
  readme = tmp_path / "README.md"
  shutil.copyfile(os.path.join(ROOT, "README.md"), readme)
  page = publish.publish(publish.summarize(str(workdir)), str(results), str(readme))
  text = open(page, encoding="utf-8").read()
  assert text.startswith("# ") and f"]({name}/" in text
  assert any(publish.VERDICT.match(line) for line in text.splitlines())  # its claims judged
  assert (results / name).is_dir() and list((results / name).glob("*.png"))


def test_the_experiments_table_counts_each_generated_page_s_verdicts(tmp_path):
  results = tmp_path / "results"
  (results / "templates").mkdir(parents=True)
  (results / "templates" / "experiments.md").write_text(
      "intro\n\n| a | b | c | d |\n|---|---|---|---|\n| One | claim one | `cmd 1` | one |\n"
      "| Two | claim two | `cmd 2` | two |\n")
  (results / "one.json").write_text("{}")
  (results / "one.md").write_text("# One\n- holds: x (1)\n- FAILS: y (2)\n- holds: z (3)\n"
                                  "- not established: w (4)\n")
  (results / "two.md").write_text("# Two, by hand\n- holds: typed (1)\n")
  table = publish.experiments_table(str(results)).splitlines()
  assert table[2] == ("| One | claim one | 2 holds, 1 FAILS, 1 not established | `cmd 1` | "
                      "[one](docs/results/one.md) |")
  assert "not yet generated" in table[3]  # no summary: a page typed by hand counts nothing
