#!/usr/bin/env bash
# demo.sh: install what is missing, build, and run sunwire's main job on the
# data bundled with the project, with no hardware attached.
#
# It replays data/demo/tigo-demo.pcapng (three minutes of a synthetic Tigo
# bus: one gateway, ten optimizers) through `observe`, twenty times faster
# than real time, so the JSON lines taptap users know appear within seconds.
# Extra arguments go to `observe` (e.g. --format upstream, --speed 1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build >/dev/null
exec build/sunwire tigo observe --file data/demo/tigo-demo.pcapng --speed 20 "$@"
