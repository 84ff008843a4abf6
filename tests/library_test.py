"""The package as a library: importing its modules defines no absl flag, changes no JAX
setting and pulls no plotting or arbitrary-precision package; a run leaves JAX's settings
as it found them; the Python API refuses what the configs refuse; publishing takes the
repository's root."""

import json
import re
import subprocess
import sys

import jax
import ml_collections
import pytest

from cnnfcn_jax import checkpoints, experiments, halving, online, table_kernels, tasks, train

PROBE = """
import json, sys
import jax
from absl import flags
settings = ("jax_enable_x64", "jax_default_prng_impl", "jax_num_cpu_devices",
            "jax_compilation_cache_dir")
before = {s: str(getattr(jax.config, s)) for s in settings}
import cnnfcn_jax.models, cnnfcn_jax.tasks, cnnfcn_jax.train, cnnfcn_jax.online
import cnnfcn_jax.stats, cnnfcn_jax.bootstrap, cnnfcn_jax.engine, cnnfcn_jax.distributed
import cnnfcn_jax.launch, cnnfcn_jax.experiments
print(json.dumps(dict(
    flags=sorted(name for module, defined in flags.FLAGS.flags_by_module_dict().items()
                 if module.startswith("cnnfcn_jax") for name in (f.name for f in defined)),
    changed=[s for s in settings if str(getattr(jax.config, s)) != before[s]],
    heavy=[m for m in ("matplotlib", "mpmath", "flax") if m in sys.modules])))
"""


def test_importing_the_library_and_the_launcher_has_no_side_effects():
  result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=120, check=True)
  probe = json.loads(result.stdout.splitlines()[-1])
  assert probe == dict(flags=[], changed=[], heavy=[]), probe


def test_a_run_sets_its_precision_and_prng_while_it_runs_and_restores_them(monkeypatch):
  seen = {}

  class Experiment:
    @staticmethod
    def run(config, checkpoint):
      seen.update(x64=jax.config.jax_enable_x64, prng=jax.config.jax_default_prng_impl)
      return [dict(value=1)]

  monkeypatch.setattr(experiments, "EXPERIMENTS", {"probe": Experiment})
  monkeypatch.setattr(table_kernels, "ensure_built", lambda: None)
  before = (jax.config.jax_enable_x64, jax.config.jax_default_prng_impl)
  config = ml_collections.ConfigDict(dict(experiment="probe", precision="float64",
                                          prng_impl="rbg"))
  rows, timing = experiments.run(config, checkpoints.Checkpoint())
  assert seen == dict(x64=True, prng="rbg") and rows == [dict(value=1, precision="float64")]
  assert (jax.config.jax_enable_x64, jax.config.jax_default_prng_impl) == before


def sweep(**changes):
  settings = dict(arch="fcn", task=tasks.make_task(8, 2), widths=(4,), init="gaussian",
                  trainable=("W", "b", "u"), optimizer="sgd", learning_rate=0.1,
                  num_steps=10, log_every=5, num_train=16, num_test=16)
  return train.Sweep(**{**settings, **changes})


@pytest.mark.parametrize("changes,message", [
    (dict(num_steps=11), "num_steps = 11 is not a multiple of log_every = 5"),
    (dict(log_every=0), "log_every = 0: expected an integer >= 1"),
    (dict(widths=()), "widths = ()"),
    (dict(widths=(4, 0)), "widths = (4, 0)"),
    (dict(widths=(4, 8), learning_rate=(0.1, 0.2, 0.3)), "learning_rate has 3 entries for 2"),
    (dict(num_train=0), "num_train = 0"),
    (dict(llvm_level=True), "llvm_level = True"),
])
def test_the_sweep_refuses_what_a_config_would_naming_the_fields(changes, message):
  sweep()  # the settings themselves are fine
  with pytest.raises(ValueError, match="train.Sweep: " + message.replace("(", r"\(").replace(
      ")", r"\)")):
    sweep(**changes)


@pytest.mark.parametrize("rates, must_know, message", [
    ((), (), "rates = ()"),
    ((0.1, 0.1), (), "rates = (0.1, 0.1)"),
    ((0.1, 0.0), (), "rates = (0.1, 0.0)"),
    ((0.1, float("inf")), (), "rates = (0.1, inf)"),
    ((0.1, 0.2), (0.3,), "must_know = (0.3,)"),
    ((0.1, 0.2), 0.1, "must_know = 0.1"),
])
def test_the_steps_to_success_call_refuses_rates_a_config_would(rates, must_know, message):
  """Refused before anything is compiled: online.run and halving.run name the argument."""
  spec = online.OnlineSweep(arch="fcn", task=tasks.make_task(8, 2), width=4, init="gaussian",
                            trainable=("W", "u"), optimizer="sgd", batch_size=4,
                            check_steps=(0, 1), num_eval=8, success_accuracy=0.9)
  misses = online.compiled_call.cache_info().misses
  for caller, call in (("online.run", lambda: online.run(spec, (0,), rates, must_know)),
                       ("halving.run", lambda: halving.run(spec, (0,), rates, 1,
                                                           must_know=must_know))):
    with pytest.raises(ValueError, match=re.escape(f"{caller}: {message}")):
      call()
  assert online.compiled_call.cache_info().misses == misses


def test_publishing_takes_the_repositorys_root_and_names_one_that_is_not(tmp_path):
  from cnnfcn_jax import outputs, publish
  with pytest.raises(outputs.OutputError, match=f"--root={tmp_path}: no README.md and "
                     "docs/results/ there"):
    publish.root_paths(str(tmp_path))
  (tmp_path / "docs" / "results").mkdir(parents=True)
  (tmp_path / "README.md").write_text("")
  assert publish.root_paths(str(tmp_path)) == (
      str(tmp_path / "docs"), str(tmp_path / "docs" / "results"), str(tmp_path / "README.md"))
