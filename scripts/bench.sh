#!/usr/bin/env bash
# bench.sh [MEGABYTES]: build an optimised sunwire and print throughput and memory figures.
# Figures and the machine they were taken on are recorded in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== Tigo"
build-bench/bench/bench_tigo "${1:-100}" build-bench/sunwire
if [ -x build-bench/bench/bench_rct ]; then
  echo "== RCT"
  build-bench/bench/bench_rct
fi
