#!/usr/bin/env bash
# The accelerator check, one prepared script: in at most 5 minutes on one GPU (or TPU) it
# runs scripts/bench.py --quick and the separation and time-to-learn experiments in their
# :quick variants through the launcher, and writes
#   docs/bench_<device>.json                       the speed table of bench.py
#   docs/accelerator_<device>_separation.md        the separation's report
#   docs/accelerator_<device>_time_to_learn.md     the time-to-learn report
# (<device> from JAX's first device, e.g. gpu_nvidia_h200). The runs' workdirs, with their
# results and figures, stay in runs/accelerator_<device>/. Run from anywhere:
#   bash scripts/accelerator_check.sh            # PYTHON=... to choose the interpreter
# Each step gets the time left of the 5 minutes (BUDGET_SECONDS to change it); a step that
# fails or runs out of time ends the script with its name, and its log in the workdir.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
BUDGET_SECONDS=${BUDGET_SECONDS:-300}
deadline=$((SECONDS + BUDGET_SECONDS))

device=$("$PYTHON" -c 'import jax; d = jax.devices()[0]
print(f"{d.platform}_{d.device_kind}".lower().replace(" ", "_").replace("-", "_"))')
runs="runs/accelerator_${device}"
mkdir -p docs "$runs"
echo "accelerator check on ${device}: ${BUDGET_SECONDS} s in all"

step() {  # step NAME COMMAND...: run with the time left, its output in $runs/NAME.log
  local name=$1 left=$((deadline - SECONDS))
  shift
  if ((left <= 0)); then
    echo "FAILED: no time left for ${name} (budget ${BUDGET_SECONDS} s)" >&2
    exit 1
  fi
  local start=$SECONDS
  if ! timeout "$left" "$@" >"$runs/${name}.log" 2>&1; then
    echo "FAILED: ${name} (exit or timeout after $((SECONDS - start)) s); see $runs/${name}.log" >&2
    tail -n 5 "$runs/${name}.log" >&2
    exit 1
  fi
  echo "${name}: $((SECONDS - start)) s"
}

step bench "$PYTHON" scripts/bench.py --quick --out "docs/bench_${device}.json"
for experiment in separation time_to_learn; do
  step "$experiment" "$PYTHON" -m cnnfcn_jax.main --config="configs/${experiment}.py:quick" \
    --workdir="$runs/$experiment" --overwrite
  cp "$runs/$experiment/report.md" "docs/accelerator_${device}_${experiment}.md"
done
echo "total: ${SECONDS} s; wrote docs/bench_${device}.json," \
  "docs/accelerator_${device}_separation.md, docs/accelerator_${device}_time_to_learn.md"
grep -h -E "^- (holds|FAILS)" "docs/accelerator_${device}_separation.md" \
  "docs/accelerator_${device}_time_to_learn.md" || true
