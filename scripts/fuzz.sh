#!/usr/bin/env bash
# fuzz.sh [SECONDS-PER-TARGET] [TARGET...]: a long fuzzing campaign.
# Corpora grow in fuzz-corpus-work/<target> (kept between runs, not committed),
# seeded from the test vectors; crashes land in fuzz-corpus-work/crashes/.
# Prints executions and coverage per target at the end. Default: 300 s each.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
CC=clang scripts/build.sh build-fuzz -DSUNWIRE_FUZZ=ON -DSUNWIRE_TESTS=OFF >/dev/null
secs=${1:-300}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in build-fuzz/tests/fuzz/fuzz_*; do targets+=("$(basename "$t")"); done
fi
mkdir -p fuzz-corpus-work/crashes
status=0
for t in "${targets[@]}"; do
  python3 tools/fuzz_seed.py "$t" tests/data "fuzz-corpus-work/$t"
  log="fuzz-corpus-work/$t.log"
  echo "== $t for ${secs}s"
  if ! build-fuzz/tests/fuzz/"$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
      -artifact_prefix=fuzz-corpus-work/crashes/"$t"- "fuzz-corpus-work/$t" >"$log" 2>&1; then
    echo "!! $t found a problem; see $log and fuzz-corpus-work/crashes/"
    status=1
  fi
  grep -E "stat::number_of_executed_units|cov:" "$log" | tail -2
done
exit $status
