"""Whether two runs of one config wrote the same results: results.jsonl compared line by
line, byte for byte, once the fields that time the run are taken out of each row.

  python scripts/same_results.py BEFORE_DIR AFTER_DIR   # each a --workdir of cnnfcn_jax.main

Exits 0 when every row is identical (printing the count), 1 naming the first row and
fields that differ. How a refactor is shown to change no result: run every config's
:quick variant at the old and the new commit, then compare the folders pairwise.
"""

import json
import os
import sys

# Row fields that measure time on this machine, not results (time_to_learn's cells).
TIMING_FIELDS = ("compile_seconds", "run_seconds", "steps_per_second")


def rows(folder):
  with open(os.path.join(folder, "results.jsonl"), encoding="utf-8") as f:
    return [json.loads(line) for line in f]


def without_timing(row):
  return json.dumps({k: v for k, v in row.items() if k not in TIMING_FIELDS})  # in its order


def main(before, after):
  old, new = rows(before), rows(after)
  if len(old) != len(new):
    sys.exit(f"{after}: {len(new)} rows, {before}: {len(old)}")
  for i, (a, b) in enumerate(zip(old, new)):
    if without_timing(a) != without_timing(b):
      fields = sorted(k for k in set(a) | set(b)
                      if k not in TIMING_FIELDS and a.get(k) != b.get(k))
      sys.exit(f"row {i} differs in {', '.join(fields)}")
  print(f"{len(old)} rows identical (timing fields aside: {', '.join(TIMING_FIELDS)})")


if __name__ == "__main__":
  if len(sys.argv) != 3:
    sys.exit(__doc__)
  main(*sys.argv[1:])
