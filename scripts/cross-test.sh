#!/usr/bin/env bash
# cross-test.sh ARCH: cross-build the unit tests for ARCH (arm64 or armhf) with
# Debian's cross compiler and run them under qemu user-mode emulation.
# Installs what is missing: the cross compiler, qemu-user, and the target's
# -dev packages the tests need (Debian multiarch, dpkg --add-architecture).
#
# SUNWIRE_CROSS_AREAS picks the test areas (tests/unit/<area>); the default is
# the protocol core: core tigo rct (CRCs, unescaping, frame and value
# decoding, the RCT registry, all against the vectors in tests/data). Optional
# libraries (pcap, MQTT, HTTP, curl, SQLite, inih) are not installed for the
# target, so those features are compiled out of the cross build.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:-}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu;   qemu="qemu-aarch64" ;;
  armhf) triplet=arm-linux-gnueabihf; qemu="qemu-arm" ;;
  *) echo "usage: scripts/cross-test.sh arm64|armhf" >&2; exit 2 ;;
esac
areas=${SUNWIRE_CROSS_AREAS:-core tigo rct}
dir=build-$arch

# ---- packages ------------------------------------------------------------------
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
PACKAGES=(
  "gcc-$triplet" "libc6-dev-$arch-cross"     # cross compiler and its C library
  "libcmocka-dev:$arch" "libjansson-dev:$arch" # what the unit tests link, for the target
)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
# Either emulator package will do.
command -v "$qemu" >/dev/null 2>&1 || command -v "$qemu-static" >/dev/null 2>&1 || missing+=(qemu-user)
if [ ${#missing[@]} -gt 0 ]; then
  echo "sunwire: installing for the $arch cross test: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "sunwire: run as root: dpkg --add-architecture $arch && apt-get update &&" \
      "apt-get install ${missing[*]}" >&2
    exit 1
  fi
  dpkg --print-foreign-architectures | grep -qx "$arch" || $SUDO dpkg --add-architecture "$arch"
  # A mirror caught mid-sync can fail one index of many: the install below says
  # whether what is needed could be found.
  $SUDO apt-get update -qq || echo "sunwire: apt-get update reported errors; trying anyway" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# ---- build and run ---------------------------------------------------------------
start=$(date +%s)
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="cmake/toolchain-$triplet.cmake" \
    -DSUNWIRE_TESTS=ON -DSUNWIRE_WERROR=ON >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log" >&2; exit 1; }
fi
# Only the chosen areas' unit tests (and the objects they link) are built.
targets=()
regex=""
for a in $areas; do
  for src in tests/unit/"$a"/test_*.c; do
    [ -e "$src" ] || continue
    n=$(basename "$src" .c)
    targets+=("unit_${a}_$n")
  done
  regex+="${regex:+|}^$a/"
done
[ ${#targets[@]} -gt 0 ] || { echo "sunwire: no unit tests in: $areas" >&2; exit 1; }
cmake --build "$dir" --parallel "$(nproc)" --target "${targets[@]}"
# ctest runs every program through $qemu (CMAKE_CROSSCOMPILING_EMULATOR).
(cd "$dir" && ctest --output-on-failure -j "$(nproc)" -R "$regex")
echo "== cross test $arch ($areas): ${#targets[@]} programs, $(($(date +%s) - start)) s (qemu: not a speed figure)"
