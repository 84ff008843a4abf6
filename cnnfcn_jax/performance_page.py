"""docs/performance.md and the README's headline ratios, written from bench files, never typed.

  python -m cnnfcn_jax.publish --bench=bench.json   # store a run, then write page and README
  python -m cnnfcn_jax.publish                      # (also) re-render from the committed runs

A run of `python scripts/bench.py --quick` (its bench.json) is stored as
docs/bench_<kind>_quick.json, its bytes unchanged. <kind> is, in this order: --bench_kind
where given; "cpu" where the run's first JAX device is a CPU; else the accelerator's name
from the file's `device_kind` field if it has one, or from a file name of the form
bench_<platform>_<device kind>.json (as scripts/accelerator_check.sh names it): lowercase
words, the platform and vendor words (gpu, cuda, rocm, nvidia, amd) dropped, the first word
left ("NVIDIA H100 80GB HBM3" and bench_gpu_nvidia_h200.json: h100, h200; a TPU keeps its
generation: tpu_v5). A file that names no kind is refused with that fix.

The page is docs/results/templates/performance.md (prose that quotes no measured number)
with its table of rows (a row: its key in backticks, what it times, its target) extended by
one column per committed docs/bench_*_quick.json (the CPU's first): the row's value and a
detail built from the same file, "—" where the file lacks the row (an older bench.py), "not
run" where it holds null. `{{name}}` in the template is the benchmark setting `name` from
the files' `settings`. The README's lines between `<!-- results:performance -->` markers are
headline ratios of the CPU run. Re-rendering from the committed files reproduces the
committed page and README block exactly (tests/publish_test.py).
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import shutil
import textwrap

from cnnfcn_jax import outputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
TEMPLATE = os.path.join("results", "templates", "performance.md")  # under docs
PAGE = "performance.md"  # under docs
REWRITE = "pass the bench.json that `python scripts/bench.py --quick` wrote"
STRINGS = ("device", "platform", "jax_version", "torch", "torch_device", "torch_version",
           "cnnfcn_jax_version", "device_kind")
REQUIRED = ("settings", "device", "jax_version", "total_seconds", "vmap_vs_jax_loop")
NUMBER = (int, float)
NOT_A_KIND = {"gpu", "cuda", "rocm", "nvidia", "amd"}


def is_number(v) -> bool:
  return isinstance(v, NUMBER) and not isinstance(v, bool)


def read_bench(path: str) -> dict:
  """A bench.json of scripts/bench.py; OutputError names the file, what is wrong and the fix."""
  bench = outputs.read_json(path, REWRITE)

  def refuse(why):
    raise outputs.OutputError(f"{path}: not a bench result of scripts/bench.py ({why}); "
                              f"{REWRITE}")

  if not isinstance(bench, dict):
    refuse("not a JSON object")
  missing = [k for k in REQUIRED if k not in bench]
  if missing:
    refuse(f"no {', '.join(missing)}")
  for key, value in bench.items():
    if key in STRINGS:
      ok = isinstance(value, str)
    elif isinstance(value, dict):
      ok = all(is_number(v) for v in value.values())
    else:
      ok = value is None or is_number(value)
    if not ok:
      refuse(f"{key} is {json.dumps(value)[:40]}")
  return bench


def is_cpu(bench: dict) -> bool:
  return bench["device"].lower().startswith(("cpu", "tfrt_cpu"))


def kind_name(text: str) -> str | None:
  words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in NOT_A_KIND]
  words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
  if not words:
    return None
  return "_".join(words[:2]) if words[0] == "tpu" and len(words) > 1 else words[0]


def kind_of(bench: dict, path: str, given: str | None = None) -> str:
  """The <kind> of docs/bench_<kind>_quick.json: see the module's docstring."""
  named = re.fullmatch(r"bench_(\w+)\.json", os.path.basename(path))
  kind = (given or ("cpu" if is_cpu(bench) else None)
          or (kind_name(bench["device_kind"]) if "device_kind" in bench else None)
          or (kind_name(named.group(1)) if named else None))
  if not kind or not re.fullmatch(r"[a-z0-9_]+", kind):
    raise outputs.OutputError(f"{path}: a run on {bench['device']} that does not say which "
                              "accelerator; pass --bench_kind=<name> (lowercase, e.g. h100)")
  return kind


def quick_settings() -> dict:
  spec = importlib.util.spec_from_file_location(
      "bench", os.path.join(ROOT, "scripts", "bench.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.SETTINGS["quick"]


def store(path: str, docs: str = DOCS, kind: str | None = None) -> str:
  """Copy a run's bench.json to docs/bench_<kind>_quick.json; refuse one not run --quick."""
  bench = read_bench(path)
  if bench["settings"] != quick_settings():
    raise outputs.OutputError(f"{path}: not a --quick run (its settings are not "
                              "scripts/bench.py's quick ones); the page compares --quick "
                              "runs: run python scripts/bench.py --quick and pass its bench.json")
  target = os.path.join(docs, f"bench_{kind_of(bench, path, kind)}_quick.json")
  if os.path.abspath(path) != os.path.abspath(target):
    shutil.copyfile(path, target)
  return target


def committed(docs: str = DOCS) -> dict[str, dict]:
  """{file name: bench} of every docs/bench_*_quick.json, the CPU's first."""
  paths = sorted(glob.glob(os.path.join(docs, "bench_*_quick.json")),
                 key=lambda p: (os.path.basename(p) != "bench_cpu_quick.json", p))
  return {os.path.basename(p): read_bench(p) for p in paths}


def num(x: float) -> str:
  """Three significant digits, without an exponent from 100 to 10^6: 1.80, 0.465, 209, 1090."""
  if 100 <= abs(x) < 1e6:
    return f"{float(f'{x:.3g}'):.0f}"
  return f"{x:#.3g}".rstrip(".")


def si(x: float, unit: str) -> str:
  """342e9, 'FLOP/s' -> '342 GFLOP/s'."""
  for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
    if abs(x) >= factor:
      return f"{num(x / factor)} {prefix}{unit}"
  return f"{num(x)} {unit}"


def sec(t: float) -> str:
  """Seconds in µs, ms or s."""
  for factor, unit in ((1, "s"), (1e-3, "ms")):
    if t >= factor:
      return f"{num(t / factor)} {unit}"
  return f"{num(t * 1e6)} µs"


def details(key: str, b: dict) -> list[str]:
  """The short detail of a row's value, from the same run's other fields (where it has them)."""
  def has(*keys):
    return all(b.get(k) is not None for k in keys)

  parts = []
  if key == "vmap_vs_jax_loop":
    if has("auto_seeds_per_block"):
      parts.append(f"auto block: {b['auto_seeds_per_block']} seeds")
    if b.get("blocks_vs_jax_loop"):
      parts.append("blocks of " + ", of ".join(f"{size}: {num(r)}" for size, r
                                              in b["blocks_vs_jax_loop"].items()))
  elif key == "vmap_vs_torch_loop" and has("torch_seeds_timed"):
    parts.append(f"PyTorch on {b.get('torch_device', '?')}, timed on {b['torch_seeds_timed']}"
                 f" seeds, scaled to {b['settings'].get('seeds', '?')}")
  elif key == "dense_vmap_vs_torch_loop" and has("dense_jax_seconds", "dense_torch_loop_seconds"):
    parts.append(f"{sec(b['dense_jax_seconds'])} vs {sec(b['dense_torch_loop_seconds'])}")
  elif key == "dense_vmap_vs_torch_vmap" and has("dense_jax_seconds", "dense_torch_vmap_seconds"):
    parts.append(f"{sec(b['dense_jax_seconds'])} vs {sec(b['dense_torch_vmap_seconds'])}")
  elif key == "table_vs_dense" and has("dense_step_seconds", "table_step_seconds"):
    parts.append(f"{sec(b['dense_step_seconds'])} vs {sec(b['table_step_seconds'])} a step")
  elif key == "table_native_vs_xla" and has("table_large_step_seconds",
                                            "table_large_xla_step_seconds"):
    parts.append(f"{sec(b['table_large_step_seconds'])} vs "
                 f"{sec(b['table_large_xla_step_seconds'])} a step")
  elif key == "online_vmap_vs_loop" and has("online_vmap_network_steps_per_second",
                                            "online_loop_network_steps_per_second"):
    parts.append(f"{num(b['online_vmap_network_steps_per_second'])} vs "
                 f"{num(b['online_loop_network_steps_per_second'])} network-steps/s")
  elif key == "online_fcn_fraction_of_peak" and has("online_fcn_step_flops"):
    parts.append(si(b["online_fcn_step_flops"], "FLOP/s"))
    if has("online_fcn_grid_fraction_of_peak"):
      parts.append(f"six rates per call: {num(b['online_fcn_grid_fraction_of_peak'])}")
  elif key == "width_buckets_vs_padded" and has("width_buckets_seconds",
                                                "width_padded_seconds"):
    parts.append(f"{sec(b['width_buckets_seconds'])} vs {sec(b['width_padded_seconds'])}")
    if has("width_buckets_first_call_seconds", "width_padded_first_call_seconds"):
      parts.append(f"first call, compiling included: {sec(b['width_buckets_first_call_seconds'])}"
                   f" vs {sec(b['width_padded_first_call_seconds'])}")
  elif key.startswith("search_") and has(key.replace("shared_vs_per_m", "per_m_seconds")):
    run = key[:-len("shared_vs_per_m")]  # search_<arch>_
    parts.append(f"{sec(b[run + 'per_m_seconds'])} vs {sec(b[run + 'shared_seconds'])}")
    parts.append(f"compiling {sec(b[run + 'per_m_compile_seconds'])} vs "
                 f"{sec(b[run + 'shared_compile_seconds'])}, {b[run + 'per_m_programs']} vs "
                 f"{b[run + 'shared_programs']} programs")
  elif key == "fcn_fraction_of_peak" and has("fcn_step_flops"):
    parts.append(si(b["fcn_step_flops"], "FLOP/s"))
    if has("fcn_fraction_of_its_matmuls"):
      parts.append(f"{num(b['fcn_fraction_of_its_matmuls'])} of its own two matmuls timed alone")
  elif key == "table_fraction_of_bandwidth" and has("table_step_bytes_per_second",
                                                    "memory_bytes_per_second"):
    parts.append(f"{si(b['table_step_bytes_per_second'], 'B/s')} vs "
                 f"{si(b['memory_bytes_per_second'], 'B/s')}")
  return parts


UNITS = {"matmul_peak_flops": "FLOP/s", "memory_bytes_per_second": "B/s"}


def cell(key: str, b: dict) -> str:
  """A row's cell for one run: its value and detail, '—' or 'not run'."""
  if key == "device":
    where = f", {b['cpu_count']} CPUs" if "cpu_count" in b else ""
    shown = (f" shown as {b['local_devices']} JAX devices"
             if "local_devices" in b and is_cpu(b) else "")
    return f"`{b['device']}`{where}{shown}"
  if key == "torch_version" and key not in b:
    return "not installed" if "torch" in b else "—"
  if key not in b:
    return "—"
  value = b[key]
  if value is None:
    return "not run (PyTorch not installed)" if "torch" in key else "not run"
  if isinstance(value, str):
    return value
  if key.endswith("seconds"):
    return sec(value)
  text = si(value, UNITS[key]) if key in UNITS else num(value)
  parts = details(key, b)
  return f"{text} ({'; '.join(parts)})" if parts else text


def label(name: str, b: dict) -> str:
  """'2-core CPU' or 'H100': the machine of docs/<name>."""
  kind = name[len("bench_"):-len("_quick.json")]
  return f"{b.get('cpu_count', '?')}-core CPU" if kind == "cpu" else kind.upper()


def column_name(name: str, b: dict) -> str:
  return f"[{label(name, b)}]({name}), `--quick`"


def setting(name: str, benches: dict[str, dict]) -> str:
  """A setting of the runs, 'a (column) or b (column)' where they differ."""
  found = {n: b["settings"][name] for n, b in benches.items() if name in b["settings"]}
  if not found:
    raise outputs.OutputError(f"docs/{TEMPLATE}: {{{{{name}}}}} is no setting of the bench "
                              "files; name a key of their `settings`")
  shown = {n: f"{v:,}" if is_number(v) and v >= 10000 else str(v) for n, v in found.items()}
  if len(set(shown.values())) == 1:
    return next(iter(shown.values()))
  return " or ".join(f"{v} ({label(n, benches[n])})" for n, v in shown.items())


def page(benches: dict[str, dict], docs: str = DOCS) -> str:
  """The template, its settings filled in and its table extended by a column per run."""
  with open(os.path.join(docs, TEMPLATE), encoding="utf-8") as f:
    text = f.read()
  text = re.sub(r"\{\{(\w+)\}\}", lambda m: setting(m.group(1), benches), text)
  lines = text.rstrip("\n").split("\n")
  start = next(i for i, line in enumerate(lines) if line.startswith("|"))
  end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
  table = [lines[start].rstrip() + "".join(f" {column_name(n, b)} |" for n, b in benches.items()),
           lines[start + 1].rstrip() + "---|" * len(benches)]
  for row in lines[start + 2:end]:
    key = re.search(r"`(\w+)`", row)
    if key is None:
      raise outputs.OutputError(f"docs/{TEMPLATE}: the table row {row[:40]!r} names no "
                                "bench key; begin it with the key in backticks")
    key = key.group(1)
    table.append(row.rstrip() + "".join(f" {cell(key, b)} |" for b in benches.values()))
  return "\n".join(lines[:start] + table + lines[end:]) + "\n"


def readme_block(benches: dict[str, dict]) -> str:
  """A paragraph of the CPU run's headline ratios and the page's address."""
  b = benches.get("bench_cpu_quick.json")
  if b is None:
    return "No CPU run is committed yet: [docs/performance.md](docs/performance.md)."
  run = (f"the CPU run at version {b['cnnfcn_jax_version']}" if b.get("cnnfcn_jax_version")
         else "the committed CPU run")
  ratios = [(f"{b['settings'].get('seeds', 'all')} seeds vmapped against a loop of the "
             f"jitted 1-seed sweep {num(b['vmap_vs_jax_loop'])}x")]
  if b.get("vmap_vs_torch_loop") is not None:
    ratios.append(f"against a per-seed PyTorch loop {num(b['vmap_vs_torch_loop'])}x")
  if b.get("table_vs_dense") is not None:
    ratios.append(f"the exact pattern-table path against the dense one "
                  f"{num(b['table_vs_dense'])}x")
  if b.get("online_fcn_fraction_of_peak") is not None:
    ratios.append(f"the time-to-learn call at {num(b['online_fcn_fraction_of_peak'])} of the "
                  "machine's matmul peak")
  others = [label(n, o) for n, o in benches.items() if n != "bench_cpu_quick.json"]
  also = (f", and the {' and '.join(others)} run{'s' * (len(others) > 1)}'s,"
          .replace("s's", "s'") if others else "")
  text = (f"Headline ratios of {run}, each timed side by side in one run of `python "
          f"scripts/bench.py --quick` on a {b.get('cpu_count', '?')}-core CPU: "
          f"{'; '.join(ratios)}. Every row{also} in [docs/performance.md](docs/performance.md).")
  text = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", "\0"), text)  # spans whole
  return textwrap.fill(text, 90, break_long_words=False,
                       break_on_hyphens=False).replace("\0", " ")


def write_page(docs: str = DOCS) -> tuple[str, str]:
  """Write docs/performance.md from the committed runs; (its path, the README's block)."""
  benches = committed(docs)
  path = os.path.join(docs, PAGE)
  outputs.atomic_write(path, page(benches, docs))
  return path, readme_block(benches)
