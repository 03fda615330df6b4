#!/usr/bin/env bash
# test.sh: install what is missing, build twice (normal and ASan+UBSan) and run
# every test in both builds, plus the protocol unit tests of a third build with only
# the portable code paths (what CPUs without SSE2/SSSE3/PCLMULQDQ, such as ARM
# boards, run). This is the command CI runs (.ci/run).
#
# Most integration tests wait on simulated time more than they compute, so
# ctest gets twice as many jobs as there are cores (tests that keep a core busy
# take two slots: tests/CMakeLists.txt). Each phase's time is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

phases=()
phase_start=$SECONDS
phase_name=""
phase() {   # phase NAME: ends the phase before (recording its time) and starts NAME
  [ -n "$phase_name" ] && phases+=("$(printf '%5d s  %s' $((SECONDS - phase_start)) "$phase_name")")
  phase_name=$1
  phase_start=$SECONDS
  [ -n "$phase_name" ] && echo "== $phase_name"
  return 0
}
report() {
  local rc=$?
  phase ""
  phase "time per phase (total $SECONDS s)"
  printf '%s\n' "${phases[@]}"
  return $rc
}
trap report EXIT

phase "dependencies"
scripts/deps.sh

jobs=$(nproc)
tjobs=$((jobs * 2))
phase "build: release (warnings are errors)"
scripts/build.sh build -DSUNWIRE_WERROR=ON
phase "build: ASan + UBSan"
scripts/build.sh build-asan -DSUNWIRE_SANITIZE=ON -DSUNWIRE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug

phase "build: portable paths only (-DSUNWIRE_PORTABLE=ON)"
scripts/build.sh build-portable -DSUNWIRE_PORTABLE=ON -DSUNWIRE_WERROR=ON

phase "build: libFuzzer targets (clang)"
CC=clang scripts/build.sh build-fuzz -DSUNWIRE_FUZZ=ON -DSUNWIRE_TESTS=OFF -DSUNWIRE_WERROR=ON

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
phase "tests: ASan + UBSan build"
(cd build-asan && ctest --output-on-failure -j "$tjobs")
phase "fuzzing: every target for a fixed number of executions"
(cd build-fuzz && ctest --output-on-failure -j "$jobs")
phase "tests: portable build, unit tests of the areas it changes"
# Only the Tigo link layer has vector paths (SW_PORTABLE in src/tigo); the areas
# whose tests run its portable code are enough here.
(cd build-portable && ctest --output-on-failure -j "$jobs" -R '^(core|io|rct|sim|tigo)/')
phase "tests: release build"
(cd build && ctest --output-on-failure -j "$tjobs")
# The protocol core cross-built for 32- and 64-bit ARM and run under qemu (docs/arm.md).
phase "tests: arm64 and armhf under qemu"
scripts/cross-test.sh arm64
scripts/cross-test.sh armhf
# The Debian packages built, linted, installed, exercised and purged (docs/install.md).
# Needs root; skipped with a message otherwise.
phase "package: build, lintian, install, check, purge (scripts/package-test.sh)"
scripts/package-test.sh
