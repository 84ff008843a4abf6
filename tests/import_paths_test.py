"""A network and a task of one's own named in a config by import path: examples/own_network
runs through the launcher as the Python API runs it, and every wrong path or value is
refused at validation, naming the field."""

import json
import os
import re
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from cnnfcn_jax import checks, experiments, import_paths, kpattern_config, online, tasks
from cnnfcn_jax.experiments import time_to_learn

from conftest import ROOT, load_config

EXAMPLE = os.path.join(ROOT, "examples", "own_network")
BAD = textwrap.dedent("""
    import jax.numpy as jnp
    from cnnfcn_jax import networks

    def three():
      return 3

    def broken_task(n, k):
      raise RuntimeError("no such staircase")

    def wrong_n(n, k):
      import mynets
      return mynets.staircase(n + 1, k)

    class Unhashable:
      __hash__ = None
      def __init__(self, n, k):
        self.n, self.k = n, k
      def sample(self, key, m):
        return None

    def mismatched_apply():
      return networks.Family("mismatched", lambda key, n, width: {"w": jnp.ones((width, n))},
                             lambda params, x: x @ params["w"], {"w": (0,)})

    def scalar_output():
      return networks.Family("scalar", lambda key, n, width: {"w": jnp.ones((n, width))},
                             lambda params, x: (x @ params["w"]).sum(), {"w": (1,)})
""")


@pytest.fixture
def paths(tmp_path, monkeypatch):
  """examples/own_network's mynets and a module of wrong values, both importable."""
  (tmp_path / "wrong_values.py").write_text(BAD)
  monkeypatch.syspath_prepend(str(tmp_path))
  monkeypatch.syspath_prepend(EXAMPLE)
  import_paths.resolve.cache_clear()  # another test's module of the same name


def example_config(variant="quick"):
  sys.modules.pop("config", None)
  sys.path.insert(0, EXAMPLE)
  try:
    import config  # examples/own_network/config.py
    return config.get_config(variant)
  finally:
    sys.path.remove(EXAMPLE)
    sys.modules.pop("config", None)


def test_the_example_configs_validate_and_make_the_users_network_and_task(paths):
  for variant in ("quick", "separation_quick"):
    experiments.validate(example_config(variant))
  c = example_config()
  spec = time_to_learn.make_spec(c, "mlp", "local", 16, 3, "adam")
  again = time_to_learn.make_spec(c, "mlp", "local", 16, 3, "adam")
  import mynets
  assert spec.arch.name == "mlp" and spec.arch is again.arch  # one family: one compile
  assert spec.task == mynets.staircase(16, 3) == tasks.Staircase(16, (0, 5, 10))
  assert spec.width == 32 and spec.first_layer_step_scale == 1.0 and not spec.table
  ours = time_to_learn.make_spec(c, "fcn", "local", 16, 3, "sgd")
  assert ours.arch == "fcn" and ours.task == spec.task  # ours run on the user's task too


WRONG = [
    (dict(network="mynets"), "mlp.network", "an import path 'package.module:name'"),
    (dict(network="no_such_module_here:mlp"), "mlp.network", "a module that imports"),
    (dict(network="mynets:nothing"), "mlp.network", "it has no 'nothing'"),
    (dict(network="wrong_values:three"), "mlp.network", "it gave a int"),
    (dict(network="mynets:staircase"), "mlp.network", "calling it raised TypeError"),
    (dict(network="wrong_values:scalar_output"), "mlp.network", "apply gave outputs of shape"),
    (dict(network="wrong_values:mismatched_apply"), "mlp.network",
     "apply on 8 inputs of size n = 8 fails (TypeError"),
    (dict(task=3), "task", "as a string"),
    (dict(compute_path="table"), "compute_path", "trains on x itself"),
    (dict(task="wrong_values:broken_task"), "task", "RuntimeError: no such staircase"),
    (dict(task="wrong_values:wrong_n"), "task", "it gave n = 9"),
    (dict(task="wrong_values:Unhashable"), "task", "hashable"),
    (dict(task="mynets:mlp"), "task", "accepts n = 8"),
    (dict(localities=("local", "nonlocal")), "localities", "in place of the local k-pattern"),
    (dict(archs=("fcn", "mlp2")), "archs[1]", "or the name of a network of one's own"),
    (dict(fcn_network="mynets:mlp"), "fcn.network", "'' for our fcn"),
    (dict(mlp_init="paper"), "mlp.init", "remove it"),
]


@pytest.mark.parametrize("change, field, why", WRONG, ids=[w[2][:30] for w in WRONG])
def test_a_wrong_path_or_value_is_one_error_naming_the_field(paths, change, field, why):
  c = example_config()
  for key, value in change.items():
    if key == "network":
      c.mlp.network = value
    elif key in ("fcn_network", "mlp_init"):
      arch, name = key.split("_")
      c[arch][name] = value
    else:
      if key in c and not isinstance(value, type(c[key])):
        del c[key]  # a config file that sets another type from the start
      c[key] = value
  with pytest.raises(checks.ConfigError, match="^" + re.escape(f"config.{field} = ")) as error:
    experiments.validate(c)
  assert why in str(error.value) and "\n" not in str(error.value)


def test_samples_width_takes_a_network_and_a_task_and_refuses_the_arms_that_are_ours(paths):
  c = example_config("samples_width_quick")
  experiments.validate(c)  # the MLP beside our FCN, on our parity, standard arm
  c.task = "mynets:staircase"
  experiments.validate(c)
  c.task = "wrong_values:wrong_n"
  with pytest.raises(checks.ConfigError, match=r"^config.task = .*it gave n = 17"):
    experiments.validate(c)
  c.task = ""
  c.series_arms = ("standard", "mup")
  with pytest.raises(checks.ConfigError, match=r"^config.series_arms = .*for config.mlp"):
    experiments.validate(c)


def test_no_paper_claim_is_judged_on_a_network_of_ones_own():
  """fcn_stuck's and time_to_learn's nonlocal claims are about our CNN and FCN: a row of a
  network of one's own makes none (and no KeyError)."""
  from cnnfcn_jax.experiments import fcn_stuck
  from cnnfcn_jax.experiments.time_to_learn import claims
  rows = [dict(arch=a, n=n, test_accuracy=0.5) for a in ("fcn", "mlp") for n in (8, 16)]
  verdicts = fcn_stuck.claim_verdicts(rows)
  assert len(verdicts) == 1 and verdicts[0].claim.startswith("FCN")
  assert claims.nonlocal_verdicts({("fixed", "nonlocal", "mlp", 2, 8): {}}) == []


@pytest.mark.slow
def test_main_runs_time_to_learn_quick_on_a_network_and_task_named_by_import_path(tmp_path):
  """The done-when: from a folder outside the package, `python -m cnnfcn_jax.main` runs
  time_to_learn:quick on mynets' MLP and staircase; every network's recorded step is the
  one the steps-to-success call gives that family and task in this process."""
  workdir = str(tmp_path / "run")
  command = [sys.executable, "-m", "cnnfcn_jax.main", "--config=config.py:quick",
             f"--workdir={workdir}", "--config.archs=('mlp',)", "--config.cpu_devices=1",
             "--nocompilation_cache"]
  env = dict(os.environ, PYTHONPATH=ROOT)
  done = subprocess.run(command, cwd=EXAMPLE, env=env, capture_output=True, text=True)
  assert done.returncode == 0, done.stderr[-3000:]
  rows = [json.loads(line) for line in open(os.path.join(workdir, "results.jsonl"))]
  report = open(os.path.join(workdir, "report.md")).read()
  assert {r["arch"] for r in rows} == {"mlp"} and {r["task"] for r in rows} == {
      "mynets:staircase"}
  assert "| mlp |" in report and "Not judged: the paper's claims" in report
  assert "holds:" not in report.split("The claims, measured")[1].split("##")[0].replace(
      "holds: its", "")  # no verdict line
  sys.path.insert(0, EXAMPLE)
  try:
    import mynets
  finally:
    sys.path.remove(EXAMPLE)
  c = example_config()
  seeds = list(c.seeds)
  for n, k in ((8, 2), (16, 3)):
    spec = online.OnlineSweep(
        arch=mynets.mlp(), task=tasks.Staircase(n, tuple(i * n // k for i in range(k))),
        width=32, optimizer="adam", batch_size=32,
        check_steps=online.check_schedule(300, 5, 1.05, 64), num_eval=1024,
        success_accuracy=0.99, protocol="online", num_train=8192, stop="best_rate")
    rates = (0.003, 0.01, 0.03)
    expected = online.run(spec, seeds, rates, must_know=(0.01,))["steps_to_success"]
    got = np.full((len(seeds), 3), -1)
    for r in rows:
      if (r["n"], r["k"], r["k_schedule"]) == (n, k, "fixed"):
        got[seeds.index(r["seed"]), rates.index(r["learning_rate"])] = (
            -1 if r["steps_to_success"] is None else r["steps_to_success"])
    np.testing.assert_array_equal(got, expected, err_msg=f"n = {n}, k = {k}")
