"""The claim on a workdir: one config per workdir, one launcher at a time, --overwrite."""

import json
import os
import subprocess
import sys

import pytest

from cnnfcn_jax import checkpoints, outputs, workdir as workdirs
from cnnfcn_jax.checkpoints import CHECKPOINT_DIR


def claim(workdir, config, overwrite=False, writer=True):
  """The checkpoint of workdirs.claim, its lock released (one test process claims often)."""
  checkpoint, lock = workdirs.claim(str(workdir), config, overwrite, writer)
  if lock is not None:
    workdirs.unlock(str(workdir), lock)
  return checkpoint


def test_another_process_checking_the_workdir_mid_claim_never_sees_an_empty_checkpoint(
    tmp_path, monkeypatch):
  """The processes of a multi-process run claim the workdir at the same time: the others'
  read-only check must pass at any point of process 0's claim."""
  workdir, config = str(tmp_path / "run"), {"k": 3}
  write = outputs.atomic_write

  def write_between_checks(path, data):
    claim(workdir, config, writer=False)
    write(path, data)
    claim(workdir, config, writer=False)

  monkeypatch.setattr(outputs, "atomic_write", write_between_checks)
  claim(workdir, config)
  assert os.listdir(workdir) == [CHECKPOINT_DIR]  # no staging folder, no lock left
  assert os.listdir(os.path.join(workdir, CHECKPOINT_DIR)) == [outputs.CONFIG_FILE]
  claim(workdir, config)  # resuming: config.json rewritten


def test_a_workdir_of_another_config_is_refused_naming_the_fields(tmp_path):
  claim(tmp_path, {"k": 3, "ns": [8]})
  with pytest.raises(workdirs.WorkdirError, match=r"fields that differ: k\)"):
    claim(tmp_path, {"k": 4, "ns": [8]})
  assert not (tmp_path / workdirs.LOCK_FILE).exists()  # a refused claim releases the lock


def test_a_saved_config_that_is_not_json_is_named_not_overwritten(tmp_path):
  (tmp_path / "config.json").write_text('{"k": 3')
  with pytest.raises(workdirs.WorkdirError, match=r"config.json line 1: not valid JSON"):
    claim(tmp_path, {"k": 3}, overwrite=True)
  assert (tmp_path / "config.json").read_text() == '{"k": 3'


def test_overwrite_removes_only_the_files_of_the_manifest(tmp_path):
  claim(tmp_path, {"k": 3}).rows("u", lambda: [{}])
  for name in ("results.jsonl", "report.md", "figure.png", "notes.md"):
    (tmp_path / name).write_text(name)
  (tmp_path / "config.json").write_text(json.dumps({"k": 3}))
  outputs.write_manifest(str(tmp_path), ["config.json", "results.jsonl", "report.md",
                                         "figure.png"])
  checkpoint = claim(tmp_path, {"k": 4}, overwrite=True)
  assert sorted(os.listdir(tmp_path)) == ["checkpoint", "notes.md"]
  assert os.listdir(checkpoint.directory) == ["config.json"]  # the old unit is gone
  assert json.load(open(tmp_path / "checkpoint" / "config.json")) == {"k": 4}
  checkpoint.remove()
  assert sorted(os.listdir(tmp_path)) == ["notes.md"]


def test_overwrite_never_leaves_the_workdir_nor_trusts_a_foreign_manifest(tmp_path):
  workdir, outside = tmp_path / "run", tmp_path / "outside.txt"
  claim(workdir, {"k": 3})
  (workdir / "config.json").write_text(json.dumps({"k": 3}))
  outside.write_text("the user's")
  (workdir / outputs.MANIFEST_FILE).write_text(json.dumps(["../outside.txt"]))
  with pytest.raises(workdirs.WorkdirError, match="not a manifest this launcher wrote"):
    claim(workdir, {"k": 4}, overwrite=True)
  (workdir / outputs.MANIFEST_FILE).write_text(json.dumps({"icons": []}))  # a web manifest
  with pytest.raises(workdirs.WorkdirError, match="not a manifest this launcher wrote"):
    claim(workdir, {"k": 4}, overwrite=True)
  assert outside.read_text() == "the user's"


def test_a_checkpoint_folder_of_the_users_is_refused_and_kept(tmp_path):
  (tmp_path / "checkpoint").mkdir()
  (tmp_path / "checkpoint" / "model.ckpt").write_text("weights")
  with pytest.raises(workdirs.WorkdirError, match="did not write"):
    claim(tmp_path, {"k": 3}, overwrite=True)
  assert (tmp_path / "checkpoint" / "model.ckpt").read_text() == "weights"


HOLD = """
import sys, time
from cnnfcn_jax import workdir
workdir.lock(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def test_a_workdir_locked_by_a_live_launcher_is_refused_and_a_dead_one_holds_nothing(tmp_path):
  holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(workdirs.WorkdirError) as error:
      workdirs.claim(str(tmp_path), {"k": 3}, overwrite=False)
    assert f"is in use by another launcher (process {holder.pid}" in str(error.value)
    assert "wait until it finishes, or use another --workdir" in str(error.value)
    assert not (tmp_path / CHECKPOINT_DIR).exists()  # refused before anything was written
  finally:
    holder.kill()
    holder.wait()
  assert (tmp_path / workdirs.LOCK_FILE).exists()  # the dead holder's file stays, unlocked
  checkpoint, lock = workdirs.claim(str(tmp_path), {"k": 3}, overwrite=False)
  workdirs.release(str(tmp_path), checkpoint, lock, finished=False)
  assert not tmp_path.exists() or os.listdir(tmp_path) == []


def test_release_of_a_failed_run_keeps_finished_units_and_drops_an_empty_workdir(tmp_path):
  workdir = tmp_path / "run"
  checkpoint, lock = workdirs.claim(str(workdir), {"k": 3}, overwrite=False)
  checkpoint.rows("done", lambda: [{"a": 1}])
  workdirs.release(str(workdir), checkpoint, lock, finished=False)
  assert checkpoints.unit_files(checkpoint.directory) == ["done.json"]
  assert sorted(os.listdir(workdir)) == [CHECKPOINT_DIR]
  checkpoint, lock = workdirs.claim(str(tmp_path / "empty"), {"k": 3}, overwrite=False)
  workdirs.release(str(tmp_path / "empty"), checkpoint, lock, finished=False)
  assert not (tmp_path / "empty").exists()  # nothing finished: nothing left
