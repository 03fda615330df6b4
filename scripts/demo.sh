#!/usr/bin/env bash
# demo.sh: install what is missing, build, and run sunwire's main job on the
# data bundled with the project, with no hardware attached.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build >/dev/null
exec build/sunwire tigo observe --file data/demo/tigo-demo.cap --realtime "$@"
