"""Workdir files: atomic writes, checkpoints, the claim on a workdir, the manifest."""

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


def test_another_process_checking_the_workdir_mid_claim_never_sees_an_empty_checkpoint(
    tmp_path, monkeypatch):
  """The processes of a multi-process run claim the workdir at the same time: the others'
  read-only check must pass at any point of process 0's claim."""
  workdir, config = str(tmp_path / "run"), {"k": 3}
  write = outputs.atomic_write

  def write_between_checks(path, data):
    outputs.claim_workdir(workdir, config, overwrite=False, writer=False)
    write(path, data)
    outputs.claim_workdir(workdir, config, overwrite=False, writer=False)

  monkeypatch.setattr(outputs, "atomic_write", write_between_checks)
  outputs.claim_workdir(workdir, config, overwrite=False)
  assert os.listdir(workdir) == [outputs.CHECKPOINT_DIR]  # no staging folder left
  assert os.listdir(os.path.join(workdir, outputs.CHECKPOINT_DIR)) == [outputs.CONFIG_FILE]
  outputs.claim_workdir(workdir, config, overwrite=False)  # resuming: config.json rewritten


def test_checkpoint_computes_once_and_loads_after(tmp_path):
  calls = []

  def compute():
    calls.append(1)
    return [{"value": len(calls)}]

  first = outputs.claim_workdir(str(tmp_path), {"x": 1}, overwrite=False)
  assert first.rows("unit/a b", compute) == [{"value": 1}]
  again = outputs.claim_workdir(str(tmp_path), {"x": 1}, overwrite=False)  # same config
  assert again.rows("unit/a b", compute) == [{"value": 1}] and again.resumed == 1
  assert len(calls) == 1
  assert outputs.Checkpoint().rows("u", compute) == [{"value": 2}]  # no workdir: no file


def test_a_workdir_of_another_config_is_refused_naming_the_fields(tmp_path):
  workdir = str(tmp_path)
  outputs.claim_workdir(workdir, {"k": 3, "ns": [8]}, overwrite=False)
  with pytest.raises(outputs.WorkdirError, match=r"fields that differ: k\)"):
    outputs.claim_workdir(workdir, {"k": 4, "ns": [8]}, overwrite=False)


def test_overwrite_removes_only_the_files_of_the_manifest(tmp_path):
  workdir = str(tmp_path)
  outputs.claim_workdir(workdir, {"k": 3}, overwrite=False).rows("u", lambda: [{}])
  for name in ("results.jsonl", "report.md", "figure.png", "notes.md"):
    (tmp_path / name).write_text(name)
  (tmp_path / "config.json").write_text(json.dumps({"k": 3}))
  outputs.write_manifest(workdir, ["config.json", "results.jsonl", "report.md", "figure.png"])
  checkpoint = outputs.claim_workdir(workdir, {"k": 4}, overwrite=True)
  assert sorted(os.listdir(tmp_path)) == ["checkpoint", "notes.md"]
  assert os.listdir(checkpoint.directory) == ["config.json"]  # the old unit is gone
  assert json.load(open(tmp_path / "checkpoint" / "config.json")) == {"k": 4}
  checkpoint.remove()
  assert sorted(os.listdir(tmp_path)) == ["notes.md"]


def test_overwrite_never_leaves_the_workdir_nor_trusts_a_foreign_manifest(tmp_path):
  workdir, outside = tmp_path / "run", tmp_path / "outside.txt"
  outputs.claim_workdir(str(workdir), {"k": 3}, overwrite=False)
  (workdir / "config.json").write_text(json.dumps({"k": 3}))
  outside.write_text("the user's")
  (workdir / outputs.MANIFEST_FILE).write_text(json.dumps(["../outside.txt"]))
  with pytest.raises(outputs.WorkdirError, match="not a manifest this launcher wrote"):
    outputs.claim_workdir(str(workdir), {"k": 4}, overwrite=True)
  (workdir / outputs.MANIFEST_FILE).write_text(json.dumps({"icons": []}))  # a web manifest
  with pytest.raises(outputs.WorkdirError, match="not a manifest this launcher wrote"):
    outputs.claim_workdir(str(workdir), {"k": 4}, overwrite=True)
  assert outside.read_text() == "the user's"


def test_a_checkpoint_folder_of_the_users_is_refused_and_kept(tmp_path):
  (tmp_path / "checkpoint").mkdir()
  (tmp_path / "checkpoint" / "model.ckpt").write_text("weights")
  with pytest.raises(outputs.WorkdirError, match="did not write"):
    outputs.claim_workdir(str(tmp_path), {"k": 3}, overwrite=True)
  assert (tmp_path / "checkpoint" / "model.ckpt").read_text() == "weights"


def test_removing_checkpoints_keeps_files_that_are_not_ours(tmp_path):
  checkpoint = outputs.claim_workdir(str(tmp_path), {"k": 3}, overwrite=False)
  checkpoint.rows("unit", lambda: [{"a": 1}])
  (tmp_path / "checkpoint" / "notes.txt").write_text("mine")
  checkpoint.remove()
  assert os.listdir(tmp_path / "checkpoint") == ["notes.txt"]
