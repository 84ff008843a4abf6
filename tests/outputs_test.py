"""Workdir files: atomic writes, and readers that name the file and line they cannot read."""

import json
import os

import pytest

from cnnfcn_jax import outputs


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


def test_jsonl_round_trip(tmp_path):
  rows = [{"a": 1, "b": [0.5, 1.5]}, {"a": 2, "b": []}]
  outputs.write_jsonl(str(tmp_path / "r.jsonl"), rows)
  assert outputs.read_jsonl(str(tmp_path / "r.jsonl")) == rows


@pytest.mark.parametrize("text,message", [
    ('{"a": 1}\n{"a": 2\n', "line 2: not valid JSON"),
    ('{"a": 1}\n\n[1, 2]\n', "line 3: not a JSON object"),
    (b'{"a": "\xff"}\n', "cannot be read"),
])
def test_a_bad_jsonl_line_is_named_with_its_file_and_number(tmp_path, text, message):
  path = tmp_path / "results.jsonl"
  (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
  with pytest.raises(outputs.OutputError) as error:
    outputs.read_jsonl(str(path))
  assert str(error.value).startswith(f"{path}") and message in str(error.value)
  assert "\n" not in str(error.value)


def test_a_folder_that_is_not_a_workdir_is_named(tmp_path):
  with pytest.raises(outputs.OutputError, match="no such folder"):
    outputs.read_config(str(tmp_path / "absent"))
  with pytest.raises(outputs.OutputError, match="config.json: not found; .* is not the workdir"):
    outputs.read_config(str(tmp_path))
  (tmp_path / "config.json").write_text(json.dumps({"k": 3}))
  with pytest.raises(outputs.OutputError, match="no 'experiment' field"):
    outputs.read_config(str(tmp_path))
  (tmp_path / "timing.json").write_text(json.dumps({"seconds": 1.0}))
  with pytest.raises(outputs.OutputError, match="timing.json: not the timing of a run"):
    outputs.read_timing(str(tmp_path))
