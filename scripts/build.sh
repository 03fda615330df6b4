#!/usr/bin/env bash
# build.sh [DIR [CMAKE-ARGS...]]: configure and build sunwire into DIR (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" "${gen[@]}" "$@" >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log" >&2; exit 1; }
  grep -A20 "sunwire features:" "$dir.configure.log" | grep -- "--   " >&2 || true
fi
cmake --build "$dir" --parallel "$(nproc)"
