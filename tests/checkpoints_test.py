"""Checkpoints: each unit computed once, a corrupt unit file named, a unit too large named."""

import os

import jax
import pytest

from cnnfcn_jax import checkpoints, workdir as workdirs


def claimed(tmp_path, **kwargs):
  checkpoint, lock = workdirs.claim(str(tmp_path), {"x": 1}, overwrite=False, **kwargs)
  workdirs.unlock(str(tmp_path), lock)
  return checkpoint


def test_checkpoint_computes_once_and_loads_after(tmp_path):
  calls = []

  def compute():
    calls.append(1)
    return [{"value": len(calls)}]

  assert claimed(tmp_path).rows("unit/a b", compute) == [{"value": 1}]
  again = claimed(tmp_path)  # same config
  assert again.rows("unit/a b", compute) == [{"value": 1}] and again.resumed == 1
  assert len(calls) == 1
  assert checkpoints.Checkpoint().rows("u", compute) == [{"value": 2}]  # no workdir: no file


def test_removing_checkpoints_keeps_files_that_are_not_ours(tmp_path):
  checkpoint = claimed(tmp_path)
  checkpoint.rows("unit", lambda: [{"a": 1}])
  (tmp_path / "checkpoint" / "notes.txt").write_text("mine")
  checkpoint.remove()
  assert os.listdir(tmp_path / "checkpoint") == ["notes.txt"]
  checkpoints.remove_checkpoints(str(tmp_path / "gone"))  # a folder already gone: no error


@pytest.mark.parametrize("text,message", [
    ('[{"a": 1}, {"a"', "are not valid JSON (line 1 column 16, 15 bytes)"),
    ('{"a": 1}', "are not a JSON list of rows"),
])
def test_a_corrupt_unit_file_is_named_and_recomputed_only_when_asked(tmp_path, text, message):
  claimed(tmp_path).rows("unit-1", lambda: [{"a": 1}])
  path = tmp_path / "checkpoint" / "unit-1.json"
  path.write_text(text)
  with pytest.raises(checkpoints.CheckpointError) as error:
    claimed(tmp_path).rows("unit-1", lambda: [{"a": 2}])
  assert str(error.value).startswith(f"{path}: the saved rows of unit 'unit-1' {message}")
  assert "--recompute_corrupt_units" in str(error.value)
  assert path.read_text() == text  # nothing of it lost without the flag
  again = claimed(tmp_path, recompute_corrupt=True)
  assert again.rows("unit-1", lambda: [{"a": 2}]) == [{"a": 2}] and again.resumed == 0
  assert claimed(tmp_path).rows("unit-1", lambda: []) == [{"a": 2}]  # saved again


def test_a_unit_out_of_device_memory_is_named_with_the_bytes_it_needed(tmp_path):
  def too_large():
    raise jax.errors.JaxRuntimeError(
        "RESOURCE_EXHAUSTED: Out of memory allocating 51678022144 bytes.")

  checkpoint = claimed(tmp_path)
  units = [("small", 1, lambda: [{"a": 1}]), ("cnn-local-n16384-k3", 2, too_large)]
  with pytest.raises(checkpoints.UnitTooLarge) as error:
    checkpoint.run_units(units, "sweep")
  assert (error.value.unit, error.value.needed_bytes) == ("cnn-local-n16384-k3", 51678022144)
  assert checkpoints.unit_files(checkpoint.directory) == ["small.json"]
  other = jax.errors.JaxRuntimeError("INTERNAL: something else")
  with pytest.raises(jax.errors.JaxRuntimeError):
    checkpoint.run_units([("b", 1, lambda: (_ for _ in ()).throw(other))], "sweep")


def test_needed_bytes_reads_the_size_xla_names():
  assert checkpoints.needed_bytes("Out of memory allocating 1234 bytes.") == 1234
  assert checkpoints.needed_bytes("Attempting to allocate 2.00GiB. That was") == 2 * 2**30
  assert checkpoints.needed_bytes("RESOURCE_EXHAUSTED: no size") is None
