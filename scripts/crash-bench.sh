#!/usr/bin/env bash
# crash-bench.sh [ITERATIONS] [SEED]: the long crash-safety run.
# Kills `sunwire run` with SIGKILL at random moments while it writes its state
# directory and SQLite history (simulators accelerated), and checks after each
# kill that state files are whole, the history passes integrity_check and no
# committed row was lost (tests/integration/test_crash_state.py, which the test
# suite runs for a few iterations). Prints the counts as one JSON line.
# Environment: SUNWIRE_BIN (default build/sunwire, built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-300}
seed=${2:-1}
bin=${SUNWIRE_BIN:-build/sunwire}
if [ ! -x "$bin" ]; then
  scripts/build.sh build >/dev/null
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
start=$(date +%s)
(cd tests/integration && SUNWIRE_BIN="$bin" SW_TEST_DATA="$PWD/../data" SW_CRASH_ITERATIONS="$iterations" \
  SW_CRASH_SEED="$seed" SW_CRASH_REPORT=1 PYTHONDONTWRITEBYTECODE=1 python3 test_crash_state.py 2>&1) | \
  grep -E '^\{|FAIL|Error|error|OK$' || true
echo "elapsed: $(( $(date +%s) - start )) s"
