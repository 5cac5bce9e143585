#!/usr/bin/env bash
# The whole GPU check in one run, on a machine with a CUDA device:
#   1. the CUDA tests and the Triton tests, compiled (tests/test_cuda.py, tests/test_triton.py)
#   2. the GPU benchmarks (benchmarks/gpu.py)
#   3. the full test suite (the CUDA tests run again inside it)
# Everything printed also goes to the results file, line by line, so a run cut short still
# leaves what it measured. Exit status: 0 when every part passed.
#
#   benchmarks/gpu_check.sh [results-file]     # default: $OUT/gpu_check.txt, else ./gpu_check.txt
#   PARTS="tests bench" benchmarks/gpu_check.sh   # run only some parts
#   PYTHON=/path/to/python benchmarks/gpu_check.sh
#   XDIST=14 benchmarks/gpu_check.sh     # pytest-xdist workers for the full suite (default 8)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-.}/gpu_check.txt}"
parts="${PARTS:-tests bench suite}"
py="${PYTHON:-python}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec > >(tee "$out") 2>&1
status=0

echo "== gpu_check $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "(no nvidia-smi)"
if ! "$py" - <<'PY'
import importlib, sys
import torch
print("python", sys.version.split()[0], "| torch", torch.__version__, "| cuda", torch.version.cuda)
missing = [m for m in ("triton", "networkx", "numba", "torch_geometric", "pytest", "hypothesis")
           if importlib.util.find_spec(m) is None]
if missing:
    print("missing packages:", ", ".join(missing))
if not torch.cuda.is_available():
    sys.exit("no CUDA device visible to torch")
print("device", torch.cuda.get_device_name(0))
import triton
print("triton", triton.__version__)
PY
then
    echo "== environment not ready: stopping"
    exit 2
fi

part() { [[ " $parts " == *" $1 "* ]]; }
run() {  # run <seconds> <label> <command...>
    local limit=$1 label=$2; shift 2
    echo "== $label"
    local t0=$SECONDS
    timeout "$limit" "$@"
    local rc=$?
    echo "== $label: exit $rc after $((SECONDS - t0)) s"
    [[ $rc -eq 0 ]] || status=1
}

# Limits sized to end inside one 10-minute call; LIMITS="tests bench suite" seconds.
read -r t_tests t_bench t_suite <<<"${LIMITS:-150 150 260}"
part tests && run "$t_tests" "CUDA and compiled Triton tests" \
    "$py" -m pytest -v --tb=short -rfEs -p no:cacheprovider tests/test_cuda.py tests/test_triton.py \
    tests/test_models.py tests/test_recurrent.py tests/test_rewire_safety.py \
    tests/test_export.py tests/test_table.py tests/test_population.py \
    -k "cuda or CUDA or triton or Triton or models"
part bench && run "$t_bench" "GPU benchmarks" "$py" benchmarks/gpu.py
# The whole suite, CPU tests included (this machine's CPU differs from CI's): in parallel
# where pytest-xdist is installed.
xdist=$("$py" -c "import xdist" 2>/dev/null && echo "-n ${XDIST:-8} -p no:benchmark")
part suite && run "$t_suite" "full test suite" "$py" -m pytest -q --tb=short -rfEs \
    -p no:cacheprovider $xdist
echo "== gpu_check done: status $status (results in $out)"
exit $status
