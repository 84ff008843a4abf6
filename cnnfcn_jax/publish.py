"""Result pages written from runs, never typed: docs/results/<page>.md, the summary it
was rendered from (docs/results/<page>.json) and the README's block for it.

  python -m cnnfcn_jax.publish --workdir=runs/time_to_learn   # a run -> summary, page, README
  python -m cnnfcn_jax.publish --bench=bench.json   # a bench run -> docs/performance.md
  python -m cnnfcn_jax.publish                      # every committed summary and bench file

run from the repository's root folder, or with --root=PATH naming it (its README.md and
docs/ are what is written; the functions below take those paths as arguments).

A page is named by its experiment (page_name: MNIST has one per label, mnist_local and
mnist_nonlocal). The summary holds the run's config, timing and rows (columns of runs
[value, count]; a field equal in every row is stored once). From it the page is rendered:
the page's hand-written introduction (docs/results/templates/<page>.md, prose that quotes
no number), then the experiment's report (its report() on the rows, with the run's time)
and its figures (docs/results/<page>/). The README's lines between `<!-- results:<page> -->`
and `<!-- /results:<page> -->` (where it has them) are the report's verdicts and a link to
the page; its experiments table (between `<!-- results:experiments -->` markers) is
docs/results/templates/experiments.md with each
page's verdicts counted in a column. Re-rendering from a committed summary reproduces the
committed page and README block exactly (tests/publish_test.py).

docs/performance.md and the README's `<!-- results:performance -->` block are written the
same way from the committed runs of scripts/bench.py (docs/bench_<kind>_quick.json; --bench
stores one there, its <kind> as cnnfcn_jax.performance_page says): performance_page.py.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import sys
import tempfile

from absl import app, flags

from cnnfcn_jax import outputs, performance_page, report

# Defaults of the functions below: this package's source checkout (the command takes --root).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "docs", "results")
README = os.path.join(ROOT, "README.md")
VERDICT = re.compile(r"^- (holds|FAILS|not established): ")
# Report lines the README quotes beside the verdicts: totals, selection and the run's time.
QUOTED = re.compile(r"^(All cells: |Held out against same seeds: |"
                    r"Time of the run that wrote these results: )")


def same(a, b) -> bool:
  return a == b and type(a) is type(b)


def runs_of(values) -> list[list]:
  """[[value, count], ...]: consecutive equal values once."""
  runs = []
  for v in values:
    if runs and same(runs[-1][0], v):
      runs[-1][1] += 1
    else:
      runs.append([v, 1])
  return runs


# A field a row does not have (rows of different kinds in one run), told apart from null.
ABSENT = "<absent>"


def summarize(workdir: str) -> dict:
  """A run folder's config, timing and rows, the rows as columns of runs (a field equal in
  every row once, in `constant`; ABSENT where a row lacks it), less the fields its
  experiment module names in UNPUBLISHED_FIELDS."""
  rows = outputs.read_jsonl(os.path.join(workdir, outputs.RESULTS_FILE))
  config = outputs.read_config(workdir)
  # Per-network fields the report never reads (training curves) stay in the run folder.
  from cnnfcn_jax.experiments import EXPERIMENTS  # every experiment: imported where used
  unread = getattr(EXPERIMENTS.get(config.get("experiment")), "UNPUBLISHED_FIELDS", ())
  columns, constant = {}, {}
  for f in sorted({f for r in rows for f in r} - set(unread)):
    runs = runs_of([r.get(f, ABSENT) for r in rows])
    if len(runs) == 1:
      constant[f] = runs[0][0]
    else:
      columns[f] = runs
  return dict(config=config, timing=outputs.read_timing(workdir),
              num_rows=len(rows), constant=constant, columns=columns)


def rows_of(summary: dict) -> list[dict]:
  columns = {f: [v for v, count in runs for _ in range(count)]
             for f, runs in summary["columns"].items()}
  return [{**summary["constant"], **{f: v[i] for f, v in columns.items() if v[i] != ABSENT}}
          for i in range(summary["num_rows"])]


def render(summary: dict, folder: str) -> tuple[str, list[str]]:
  """(report text, figure paths) of a summary, written in folder as a run would be."""
  outputs.atomic_write(os.path.join(folder, outputs.CONFIG_FILE),
                       json.dumps(summary["config"], indent=2) + "\n")
  outputs.write_jsonl(os.path.join(folder, outputs.RESULTS_FILE), rows_of(summary))
  if summary["timing"] is not None:
    outputs.write_timing(folder, summary["timing"])
  text = report.redraw(folder)
  return text, sorted(glob.glob(os.path.join(folder, "*.png")))


def page_text(name: str, text: str, results: str = RESULTS) -> str:
  """The page: its template (results/templates/<name>.md), then the report with headings
  one level down and figures read from the page's folder."""
  with open(os.path.join(results, "templates", f"{name}.md"), encoding="utf-8") as f:
    template = f.read().rstrip("\n")
  body = re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)
  body = re.sub(r"\]\(([^)/]+\.png)\)", rf"]({name}/\1)", body)
  return f"{template}\n\n{body.rstrip()}\n"


def readme_block(name: str, text: str) -> str:
  """The README's lines for an experiment: its verdicts, its totals and time, and the
  page's address."""
  lines = text.splitlines()
  verdicts = [line for line in lines if VERDICT.match(line)]
  quoted = [line for line in lines if QUOTED.match(line)]
  return "\n".join([*verdicts, "", *quoted, *([""] if quoted else []),
                    f"Every number, table and figure of the last run: "
                    f"[docs/results/{name}.md](docs/results/{name}.md)."])


def verdict_count(page: str) -> str:
  """'3 holds, 1 FAILS' from a generated page's verdict lines."""
  with open(page, encoding="utf-8") as f:
    found = [VERDICT.match(line).group(1) for line in f if VERDICT.match(line)]
  return ", ".join(f"{found.count(s)} {s}" for s in ("holds", "FAILS", "not established")
                   if s in found) or "no verdicts"


def experiments_table(results: str = RESULTS) -> str:
  """The README's experiments table: the template's rows (experiment | claim | command |
  page), a 'last run' column counting each generated page's verdicts."""
  with open(os.path.join(results, "templates", "experiments.md"), encoding="utf-8") as f:
    rows = [line.strip() for line in f if line.startswith("|")][2:]  # past the header
  lines = ["| experiment | the claim | last run | command (add `:quick` for a smoke test) | "
           "page |", "|---|---|---|---|---|"]
  for row in rows:
    experiment, claim, command, name = [cell.strip() for cell in row.strip("|").split("|")]
    generated = os.path.exists(os.path.join(results, f"{name}.json"))
    last = (verdict_count(os.path.join(results, f"{name}.md")) if generated
            else "not yet generated")
    lines.append(f"| {experiment} | {claim} | {last} | {command} | "
                 f"[{name}](docs/results/{name}.md) |")
  return "\n".join(lines)


def with_block(readme: str, name: str, block: str) -> str:
  start, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
  if start not in readme or end not in readme:
    raise ValueError(f"README.md has no {start} ... {end} block for {name}: add the two "
                     "marker lines where its results go")
  before, rest = readme.split(start, 1)
  return f"{before}{start}\n{block}\n{end}{rest.split(end, 1)[1]}"


def page_name(config: dict) -> str:
  """The page of a run: its experiment's name, or its experiment module's page_name(config)
  where one experiment has a page per config (MNIST: one per label, each its config file's
  name)."""
  from cnnfcn_jax.experiments import EXPERIMENTS  # every experiment: imported where used
  module = EXPERIMENTS.get(config.get("experiment"))
  return module.page_name(config) if hasattr(module, "page_name") else config["experiment"]


def publish(summary: dict, results: str = RESULTS, readme_path: str = README) -> str:
  """Write the summary's page, figures and README block (and the summary itself)."""
  name = page_name(summary["config"])
  with tempfile.TemporaryDirectory() as folder:
    text, figures = render(summary, folder)
    figures_dir = os.path.join(results, name)
    os.makedirs(figures_dir, exist_ok=True)
    for path in figures:
      shutil.copyfile(path, os.path.join(figures_dir, os.path.basename(path)))
  outputs.atomic_write(os.path.join(results, f"{name}.json"),
                       json.dumps(summary, separators=(",", ":")) + "\n")
  outputs.atomic_write(os.path.join(results, f"{name}.md"), page_text(name, text, results))
  with open(readme_path, encoding="utf-8") as f:
    readme = f.read()
  if f"<!-- results:{name} -->" in readme:  # an experiment the README quotes in full
    readme = with_block(readme, name, readme_block(name, text))
  readme = with_block(readme, "experiments", experiments_table(results))
  outputs.atomic_write(readme_path, readme)
  return os.path.join(results, f"{name}.md")


SUMMARY_KEYS = ("config", "timing", "num_rows", "constant", "columns")
REPUBLISH = "publish it again from its run folder (python -m cnnfcn_jax.publish --workdir=DIR)"


def read_summary(path: str) -> dict:
  """A committed summary; OutputError names the file and the fix when it is malformed."""
  summary = outputs.read_json(path, REPUBLISH)
  if (not isinstance(summary, dict) or any(k not in summary for k in SUMMARY_KEYS)
      or not isinstance(summary["columns"], dict)
      or any(not isinstance(runs, list) or sum(count for _, count in runs)
             != summary["num_rows"] for runs in summary["columns"].values())):
    raise outputs.OutputError(f"{path}: not a result summary (the fields "
                              f"{', '.join(SUMMARY_KEYS)}, columns of runs [value, count] "
                              f"adding up to num_rows); "
                              f"{REPUBLISH}")
  return summary


def publish_performance(docs: str = performance_page.DOCS, readme_path: str = README) -> str:
  """Write docs/performance.md and the README's block for it from the committed bench files."""
  path, block = performance_page.write_page(docs)
  with open(readme_path, encoding="utf-8") as f:
    readme = f.read()
  outputs.atomic_write(readme_path, with_block(readme, "performance", block))
  return path


def root_paths(root: str) -> tuple[str, str, str]:
  """(docs, docs/results, README.md) of the repository at root; OutputError naming root and
  the fix where it is not one."""
  docs, readme = os.path.join(root, "docs"), os.path.join(root, "README.md")
  results = os.path.join(docs, "results")
  if not (os.path.isfile(readme) and os.path.isdir(results)):
    raise outputs.OutputError(f"--root={root}: no README.md and docs/results/ there; pass the "
                              "repository's root folder (--root=PATH), or run from it")
  return docs, results, readme


def main(argv):
  del argv
  FLAGS = flags.FLAGS
  try:
    docs, results, readme = root_paths(FLAGS.root)
    if FLAGS.bench:
      print("stored", performance_page.store(FLAGS.bench, docs, kind=FLAGS.bench_kind))
    if FLAGS.workdir:
      summaries = [summarize(FLAGS.workdir)]
    elif not FLAGS.bench:
      summaries = [read_summary(p) for p in sorted(glob.glob(os.path.join(results, "*.json")))]
    else:
      summaries = []
    for summary in summaries:
      print("wrote", publish(summary, results, readme))
    if FLAGS.bench or not FLAGS.workdir:
      print("wrote", publish_performance(docs, readme))
  except (outputs.OutputError, ValueError) as e:
    sys.exit(f"error: {e}")


if __name__ == "__main__":
  flags.DEFINE_string("root", ".", "The repository's root folder: its README.md and docs/ are "
                      "written (default: the current folder).")
  flags.DEFINE_string("workdir", None, "A run folder written by cnnfcn_jax.main (default: "
                      "re-render every summary in docs/results/).")
  flags.DEFINE_string("bench", None, "A bench.json of scripts/bench.py --quick: stored as "
                      "docs/bench_<kind>_quick.json, then docs/performance.md re-rendered.")
  flags.DEFINE_string("bench_kind", None, "The <kind> of --bench's file name where the file "
                      "does not name its accelerator (e.g. h100); default: from the file.")
  app.run(main)
