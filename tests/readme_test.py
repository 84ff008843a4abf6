"""Every ```python block of README.md runs as it stands, each in a fresh interpreter."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
# An opening fence line "```python" (nothing else on it) up to the next closing fence line.
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
  with open(README, encoding="utf-8") as f:
    return PYTHON_BLOCK.findall(f.read())


BLOCKS = python_blocks()


def test_readme_has_python_blocks():
  # The "Use it from Python" section holds two; fewer means it was removed or broken.
  assert len(BLOCKS) >= 2, f"found {len(BLOCKS)} ```python blocks in README.md, expected >= 2"


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=lambda i: f"block{i}")
def test_readme_block_runs(index):
  # A fresh process per block, so e.g. jax_enable_x64 in one block cannot leak into another.
  result = subprocess.run([sys.executable, "-c", BLOCKS[index]], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
  assert result.returncode == 0, (
      f"README.md python block {index} exited with {result.returncode}\n"
      f"--- code ---\n{BLOCKS[index]}\n--- stdout ---\n{result.stdout}\n"
      f"--- stderr ---\n{result.stderr}")
