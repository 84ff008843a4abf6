"""The documentation holds together: every relative link and image of README.md, CHANGELOG.md
and docs/ resolves, every launcher command the README shows parses, the changelog's newest
version is the package's, and the README stays a front door (at most 250 lines)."""

import glob
import os
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT, load_config
import cnnfcn_jax
from cnnfcn_jax import main  # noqa: F401  (defines the launcher's flags)
from absl import flags

README = os.path.join(ROOT, "README.md")
# A result page's template is read from docs/results/templates but its links are the page's.
PAGES = sorted([README, os.path.join(ROOT, "CHANGELOG.md")]
               + [p for p in glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True)
                  if os.sep + "templates" + os.sep not in p])
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`([^`]*)`")
LAUNCHER = "cnnfcn_jax.main"


def relative_links(path):
  with open(path, encoding="utf-8") as f:
    text = f.read()
  for target in LINK.findall(text):
    if re.match(r"^[a-z]+:", target) or target.startswith("#"):
      continue  # a web address or an anchor on the same page
    yield target.split("#")[0]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_relative_link_and_image_resolves(page):
  missing = [t for t in relative_links(page)
             if not os.path.exists(os.path.join(os.path.dirname(page), t))]
  assert not missing, f"{os.path.relpath(page, ROOT)} links to missing files: {missing}"


def readme_commands():
  """The launcher commands README.md shows: inline code spans and fenced lines (with their
  backslash continuations), each from the launcher's name on."""
  with open(README, encoding="utf-8") as f:
    text = f.read()
  fenced = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
  spans = INLINE_CODE.findall(re.sub(r"^```[a-z]*\n.*?^```", "", text,
                                     flags=re.MULTILINE | re.DOTALL))
  lines = [line for block in fenced for line in block.replace("\\\n", " ").splitlines()]
  commands = []
  for candidate in spans + lines:
    if LAUNCHER in candidate:
      command = " ".join(candidate.split()).split(LAUNCHER, 1)[1]
      commands.append(command.split("&&")[0].split("#")[0].strip())
  return commands


COMMANDS = readme_commands()


def test_the_readme_shows_launcher_commands():
  assert len(COMMANDS) >= 5, COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_command_is_a_valid_launcher_invocation(command):
  """Flags the launcher defines; a config file that exists with a variant its get_config
  takes, and overrides naming fields the config has."""
  known = set(flags.FLAGS)
  config = None
  for token in shlex.split(command):
    assert token.startswith("--"), (command, token)
    name, _, value = token[2:].partition("=")
    if name.startswith("config."):
      assert config is not None, f"{command}: an override before --config"
      node = config
      for part in name.split(".")[1:]:
        assert part in node, f"{command}: the config has no field {name}"
        node = node[part]
      continue
    assert name in known or (name.startswith("no") and name[2:] in known), (command, name)
    if name == "config":
      path, _, variant = value.partition(":")
      assert os.path.exists(os.path.join(ROOT, path)), f"{command}: no file {path}"
      config = load_config(os.path.basename(path)[:-3], variant)
  assert config is not None, f"{command}: no --config"


def test_the_changelog_s_newest_version_is_the_package_s():
  with open(os.path.join(ROOT, "CHANGELOG.md"), encoding="utf-8") as f:
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", f.read(), re.MULTILINE)
  assert versions and versions[0] == cnnfcn_jax.__version__
  assert len(set(versions)) == len(versions)
  with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
    pyproject = f.read()
  assert 'version = {attr = "cnnfcn_jax.__version__"}' in pyproject


def test_the_readme_is_a_front_door_of_at_most_250_lines():
  # Anything longer belongs in docs/ (docs/architecture.md, docs/results/, CHANGELOG.md).
  with open(README, encoding="utf-8") as f:
    lines = f.read().splitlines()
  assert len(lines) <= 250, f"README.md has {len(lines)} lines; move a section to docs/"


@pytest.mark.slow
def test_the_architecture_pages_own_network_example_runs():
  # The "Your own network and task" block, as a user meets it: a fresh process.
  with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as f:
    text = f.read()
  section = text[text.index("## Your own network and task"):]
  [block] = re.findall(r"^```python[ \t]*\n(.*?)^```[ \t]*$", section, re.MULTILINE | re.DOTALL)
  result = subprocess.run([sys.executable, "-c", block], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  lines = result.stdout.splitlines()
  assert [line.split(":")[0] for line in lines] == ["width 4", "width 16", "width 64",
                                                    "rate 0.003", "rate 0.01", "rate 0.03"]
