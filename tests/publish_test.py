"""Result pages come from runs: every committed page and README block is what its committed
summary renders, a run folder publishes (every config's :quick run: tests/main_test.py),
and a malformed summary is named in one line. The same for docs/performance.md and its
README block from the committed bench files."""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from cnnfcn_jax import outputs, performance_page, publish

SUMMARIES = sorted(glob.glob(os.path.join(ROOT, "docs", "results", "*.json")))
# Re-rendering the time-to-learn page re-runs its bootstraps (20 s): the slow tier's.
RERENDERED = [pytest.param(p, marks=pytest.mark.slow) if "time_to_learn" in p else p
              for p in SUMMARIES]


def test_there_are_published_results():
  assert SUMMARIES


@pytest.mark.parametrize("path", RERENDERED, ids=os.path.basename)
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


# docs/performance.md and the README's performance block, from the committed bench files.
BENCHES = sorted(glob.glob(os.path.join(ROOT, "docs", "bench_*_quick.json")))


def performance_docs(tmp_path, benches=BENCHES):
  """A docs folder with the page's template and the given bench files, and a README copy."""
  docs = tmp_path / "docs"
  (docs / "results" / "templates").mkdir(parents=True)
  shutil.copyfile(os.path.join(ROOT, "docs", performance_page.TEMPLATE),
                  docs / performance_page.TEMPLATE)
  for path in benches:
    shutil.copyfile(path, docs / os.path.basename(path))
  readme = tmp_path / "README.md"
  shutil.copyfile(os.path.join(ROOT, "README.md"), readme)
  return docs, readme


def test_the_performance_page_and_readme_block_re_render_exactly(tmp_path):
  assert any(p.endswith("bench_cpu_quick.json") for p in BENCHES)
  docs, readme = performance_docs(tmp_path)
  publish.publish_performance(str(docs), str(readme))
  with open(os.path.join(ROOT, "docs", "performance.md"), encoding="utf-8") as f:
    assert (docs / "performance.md").read_text(encoding="utf-8") == f.read()
  with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
    assert readme.read_text(encoding="utf-8") == f.read()


def test_a_row_a_run_lacks_or_could_not_measure_is_marked():
  bench = {"settings": {}, "device": "cpu:0", "vmap_vs_torch_loop": None,
           "table_native_vs_xla": None, "torch": "not installed"}
  assert performance_page.cell("vmap_vs_torch_loop", bench) == "not run (PyTorch not installed)"
  assert performance_page.cell("table_native_vs_xla", bench) == "not run"
  assert performance_page.cell("table_vs_dense", bench) == "—"
  assert performance_page.cell("torch_version", bench) == "not installed"
  assert [performance_page.num(x) for x in (1.797, 0.46483, 209.5, 1086.7, 48.63)] == [
      "1.80", "0.465", "210", "1090", "48.6"]


def test_a_bench_run_with_pytorch_is_stored_and_rendered(tmp_path):
  """The path after `python scripts/bench.py --quick` with the bench extra installed."""
  with open(os.path.join(ROOT, "docs", "bench_cpu_quick.json"), encoding="utf-8") as f:
    bench = json.load(f)
  bench.pop("torch", None)  # written only where PyTorch is missing
  bench.update(settings=performance_page.quick_settings(), vmap_vs_torch_loop=1670.4,
               torch_loop_seconds=855.0, torch_seeds_timed=4, torch_device="cpu",
               torch_version="2.13.0+cpu", dense_jax_seconds=0.5,
               dense_torch_loop_seconds=0.92, dense_torch_vmap_seconds=1.04,
               dense_vmap_vs_torch_loop=1.84, dense_vmap_vs_torch_vmap=2.08)
  run = tmp_path / "bench.json"
  run.write_text(json.dumps(bench, indent=2))
  docs, readme = performance_docs(tmp_path, [p for p in BENCHES if "_cpu_" not in p])
  stored = performance_page.store(str(run), str(docs))
  assert stored == str(docs / "bench_cpu_quick.json")
  assert (docs / "bench_cpu_quick.json").read_bytes() == run.read_bytes()
  publish.publish_performance(str(docs), str(readme))
  page = (docs / "performance.md").read_text(encoding="utf-8")
  assert "| 1670 (PyTorch on cpu, timed on 4 seeds, scaled to 64) |" in page
  assert "| 1.84 (500 ms vs 920 ms) |" in page and "| 2.13.0+cpu |" in page
  assert "not run (" not in page  # the other committed runs measured every row they have
  assert "against a per-seed PyTorch loop 1670x" in readme.read_text(encoding="utf-8")


@pytest.mark.parametrize("content,message", [
    ("{", "line 1: not valid JSON"),
    ("[1]", "not a JSON object"),
    ('{"settings": {}, "device": "cpu:0"}', "no jax_version, total_seconds, vmap_vs_jax_loop"),
    (('{"settings": {}, "device": "cpu:0", "jax_version": "0.1", "total_seconds": 1, '
      '"vmap_vs_jax_loop": "fast"}'), 'vmap_vs_jax_loop is "fast"'),
])
def test_a_malformed_bench_file_is_named_with_the_fix(tmp_path, content, message):
  path = tmp_path / "bench.json"
  path.write_text(content)
  with pytest.raises(outputs.OutputError) as error:
    performance_page.store(str(path), str(tmp_path))
  assert str(path) in str(error.value) and message in str(error.value)
  assert "python scripts/bench.py --quick" in str(error.value)


def test_the_command_refuses_a_bench_file_in_one_line(tmp_path):
  path = tmp_path / "bench.json"
  path.write_text('{"settings": {}}')
  result = subprocess.run([sys.executable, "-m", "cnnfcn_jax.publish", f"--bench={path}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
  assert result.returncode != 0 and "Traceback" not in result.stderr
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith(f"error: {path}: not a bench result")


def test_a_bench_file_s_kind_is_cpu_or_its_accelerator_s_name(tmp_path):
  kind = performance_page.kind_of
  assert kind({"device": "cpu:0"}, "bench.json") == "cpu"
  assert kind({"device": "TFRT_CPU_0"}, "bench.json") == "cpu"
  assert kind({"device": "cuda:0", "device_kind": "NVIDIA H100 80GB HBM3"}, "bench.json") == "h100"
  assert kind({"device": "cuda:0"}, "docs/bench_gpu_nvidia_h200.json") == "h200"
  assert kind({"device": "tpu:0", "device_kind": "TPU v5 lite"}, "bench.json") == "tpu_v5"
  assert kind({"device": "cuda:0"}, "bench.json", "a100") == "a100"
  with pytest.raises(outputs.OutputError, match="--bench_kind="):
    kind({"device": "cuda:0"}, "bench.json")
  with open(os.path.join(ROOT, "docs", "bench_cpu_quick.json"), encoding="utf-8") as f:
    bench = json.load(f)
  bench["settings"] = {**performance_page.quick_settings(), "seeds": 1}
  (tmp_path / "bench.json").write_text(json.dumps(bench))
  with pytest.raises(outputs.OutputError, match="not a --quick run"):
    performance_page.store(str(tmp_path / "bench.json"), str(tmp_path))


def test_a_search_rows_detail_names_both_times_compiles_and_programs():
  bench = {"search_cnn_per_m_seconds": 22.0, "search_cnn_shared_seconds": 3.86,
           "search_cnn_per_m_compile_seconds": 21.1, "search_cnn_shared_compile_seconds": 2.97,
           "search_cnn_per_m_programs": 10, "search_cnn_shared_programs": 1,
           "search_cnn_shared_vs_per_m": 5.7}
  assert performance_page.details("search_cnn_shared_vs_per_m", bench) == [
      "22.0 s vs 3.86 s", "compiling 21.1 s vs 2.97 s, 10 vs 1 programs"]
  assert performance_page.details("search_fcn_shared_vs_per_m", bench) == []  # not run
