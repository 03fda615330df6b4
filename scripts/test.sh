#!/usr/bin/env bash
# test.sh: install what is missing, build twice (normal and ASan+UBSan) and run
# every test in both builds, plus the unit tests of a third build that has only
# the portable code paths (what CPUs without SSE2/SSSE3/PCLMULQDQ, such as ARM
# boards, run). This is the command CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

jobs=$(nproc)
echo "== build: release (warnings are errors)"
scripts/build.sh build -DSUNWIRE_WERROR=ON
echo "== build: ASan + UBSan"
scripts/build.sh build-asan -DSUNWIRE_SANITIZE=ON -DSUNWIRE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug

echo "== build: portable paths only (-DSUNWIRE_PORTABLE=ON)"
scripts/build.sh build-portable -DSUNWIRE_PORTABLE=ON -DSUNWIRE_WERROR=ON

echo "== build: libFuzzer targets (clang)"
CC=clang scripts/build.sh build-fuzz -DSUNWIRE_FUZZ=ON -DSUNWIRE_TESTS=OFF -DSUNWIRE_WERROR=ON

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== tests: ASan + UBSan build"
(cd build-asan && ctest --output-on-failure -j "$jobs")
echo "== fuzzing: every target for a fixed number of executions"
(cd build-fuzz && ctest --output-on-failure -j "$jobs")
echo "== tests: portable build, unit tests only"
(cd build-portable && ctest --output-on-failure -j "$jobs" -E '^integration/')
echo "== tests: release build"
(cd build && ctest --output-on-failure -j "$jobs")
# The protocol core cross-built for 32- and 64-bit ARM and run under qemu (docs/arm.md).
echo "== tests: arm64 and armhf under qemu"
scripts/cross-test.sh arm64
scripts/cross-test.sh armhf
# The Debian packages built, linted, installed, exercised and purged (docs/install.md).
# Needs root; skipped with a message otherwise.
echo "== package: build, lintian, install, check, purge (scripts/package-test.sh)"
start=$SECONDS
scripts/package-test.sh
echo "== package: $((SECONDS - start)) s"
