#!/usr/bin/env bash
# demo.sh: install what is missing, build, and run sunwire's main job with no
# hardware attached.
#
# `sunwire demo` starts, in one process, a simulated Tigo bus (two TAPs, two
# strings of ten panels) on a loopback TCP port, a simulated RCT inverter with
# a battery on another, and the daemon observing both: SQLite history,
# dashboard and Prometheus metrics on 127.0.0.1 (the addresses are printed).
# The simulated day starts shortly before sunrise and runs 60 times faster than
# real time; Ctrl-C stops everything. Extra arguments go to `sunwire demo`
# (e.g. --realtime, --speed 300, --data-dir DIR, --http-port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build >/dev/null
exec build/sunwire demo "$@"
