#!/usr/bin/env bash
# fuzz.sh [SECONDS-PER-TARGET] [TARGET...]: a long fuzzing campaign.
# Corpora grow in fuzz-corpus-work/<target> (kept between runs, not committed),
# seeded from the test vectors; crashes land in fuzz-corpus-work/crashes/.
# Prints executions and coverage per target at the end. Default: 300 s each.
# Environment: FUZZ_BUILD (build directory, default build-fuzz), FUZZ_JOBS
# (targets run at once, one core each; default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-2}
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  scripts/deps.sh
  CC=clang scripts/build.sh "$build" -DSUNWIRE_FUZZ=ON -DSUNWIRE_TESTS=OFF >/dev/null
fi
secs=${1:-300}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in "$build"/tests/fuzz/fuzz_*; do targets+=("$(basename "$t")"); done
fi
mkdir -p fuzz-corpus-work/crashes

run_one() {
  local t=$1 log="fuzz-corpus-work/$1.log"
  python3 tools/fuzz_seed.py "$t" tests/data "fuzz-corpus-work/$t"
  if ! "$build"/tests/fuzz/"$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
      -artifact_prefix=fuzz-corpus-work/crashes/"$t"- "fuzz-corpus-work/$t" >"$log" 2>&1; then
    echo "FAIL" >"fuzz-corpus-work/$t.status"
  else
    echo "ok" >"fuzz-corpus-work/$t.status"
  fi
}

running=0
for t in "${targets[@]}"; do
  echo "== $t for ${secs}s"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

status=0
printf '%-22s %6s %12s %8s %8s\n' target result executions "exec/s" cov
for t in "${targets[@]}"; do
  log="fuzz-corpus-work/$t.log"
  res=$(cat "fuzz-corpus-work/$t.status" 2>/dev/null || echo "?")
  [ "$res" = ok ] || status=1
  execs=$(grep -oE "stat::number_of_executed_units:[[:space:]]+[0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
  rate=$(grep -oE "stat::average_exec_per_sec:[[:space:]]+[0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
  cov=$(grep -oE "cov: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$" || echo "?")
  printf '%-22s %6s %12s %8s %8s\n' "$t" "$res" "$execs" "$rate" "$cov"
  [ "$res" = ok ] || echo "!! $t found a problem; see $log and fuzz-corpus-work/crashes/"
done
exit $status
