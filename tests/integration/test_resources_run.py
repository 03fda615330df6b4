#!/usr/bin/env python3
"""`sunwire run` holds steady: memory and descriptors do not grow with time or reconnects.

Two daemons run side by side for SW_RESOURCES_SECONDS (default 30), each
reading an accelerated Tigo bus (60x, 2 TAPs x 16 panels) and an RCT inverter
polled every 200 ms, both through tests/tools/faultproxy.py dropping every
connection every 2 s, and each serving the dashboard and /metrics and writing
its state directory every second. One also writes the SQLite history.
Every 0.5 s the test samples VmRSS and the number of open descriptors from
/proc. After a warm-up:
  - descriptors stay within a small band (a reconnect in progress holds one
    extra socket per source) and do not trend;
  - without the history RSS is flat (slope under 2 KiB/s, a band of 256 KiB):
    a leak of one buffer per report or per reconnect would show far above that;
  - with the history RSS grows only while SQLite's page cache fills (2 MB by
    default) and then stays: growth after the warm-up is bounded by 3 MiB.
Under AddressSanitizer the allocator's quarantine makes RSS meaningless, so
only descriptors are checked there. SW_RESOURCES_REPORT=1 prints the figures.
"""
import json
import os
import sys
import tempfile
import time
import unittest

import faultlib as fl
from runlib import sanitized

# Read from the program, not from a process's maps: a sample taken before the exec is done
# would see none of its libraries.
SANITIZED = sanitized()

SECONDS = float(os.environ.get("SW_RESOURCES_SECONDS", "30"))
WARMUP = min(10.0, SECONDS / 3)




def config(tmp, name, tport, rport, history):
    path = os.path.join(tmp, name + ".ini")
    with open(path, "w") as f:
        f.write("[general]\nstate_dir = %s\nsave_interval = 1s\ntick = 1s\n"
                "[tigo roof]\ntcp = 127.0.0.1:%d\nreconnect_delay = 100ms\nreconnect_max = 500ms\n"
                "[rct inv]\nhost = 127.0.0.1:%d\nfast_interval = 200ms\nslow_interval = 1s\n"
                "reconnect_delay = 100ms\nreconnect_max = 500ms\n"
                "[http]\nport = 0\n[prometheus]\nport = 0\n"
                % (os.path.join(tmp, name + "-state"), tport, rport))
        if history:
            f.write("[history]\npath = %s\n" % os.path.join(tmp, name + ".db"))
    return path


def figures(samples, tpx, rpx):
    steady = [s for s in samples if s[0] >= WARMUP]
    fds = [f for _, _, f in steady]
    return dict(seconds=SECONDS, samples=len(samples), reconnects_tigo=tpx.stats["accepted"] - 1,
                reconnects_rct=rpx.stats["accepted"] - 1, rss_start_kib=samples[0][1],
                rss_after_warmup_kib=steady[0][1], rss_end_kib=samples[-1][1],
                rss_min_kib=min(r for _, r, _ in steady), rss_max_kib=max(r for _, r, _ in steady),
                rss_slope_kib_per_s=round(fl.slope([(t, r) for t, r, _ in steady]), 3),
                fds_min=min(fds), fds_max=max(fds),
                fd_slope_per_s=round(fl.slope([(t, f) for t, _, f in steady]), 4))


class Resources(unittest.TestCase):
    def test_rss_and_fds_plateau(self):
        runs = {"plain": dict(history=False, samples=[]), "history": dict(history=True, samples=[])}
        with tempfile.TemporaryDirectory() as tmp, \
                fl.TigoSim("--speed", 60, "--seed", 3, "--gateways", 2, "--panels", 16,
                           "--start", "2026-06-21T09:00Z") as tsim, \
                fl.RctSim("--speed", 60, "--seed", 3) as rsim:
            try:
                for name, r in runs.items():
                    r["tpx"] = fl.FaultProxy(tsim.port, "--drop-every", 2, "--max-time", SECONDS + 60)
                    r["rpx"] = fl.FaultProxy(rsim.port, "--drop-every", 2, "--max-time", SECONDS + 60)
                    cfg = config(tmp, name, r["tpx"].port, r["rpx"].port, r["history"])
                    r["d"] = fl.sunwire("run", "--config", cfg, "--json", env=fl.quiet_env(SUNWIRE_LOG="error"))
                t0 = time.monotonic()
                while time.monotonic() - t0 < SECONDS:
                    for r in runs.values():
                        d = r["d"]
                        self.assertTrue(d.alive(), "\n".join(d.lines(True))[-2000:])
                        rss, fds = fl.proc_status(d.pid)
                        r["samples"].append((time.monotonic() - t0, rss, fds))
                        with d.lock:   # keep the test's own memory flat too
                            r["lines"] = r.get("lines", 0) + len(d.out)
                            d.out.clear()
                    time.sleep(0.5)
            finally:
                for r in runs.values():
                    for k in ("d", "tpx", "rpx"):
                        if k in r:
                            r[k].stop()

        report = {}
        for name, r in runs.items():
            f = figures(r["samples"], r["tpx"], r["rpx"])
            report[name] = f
            self.assertGreater(r["lines"], 0)
            self.assertGreaterEqual(r["tpx"].stats["drops"], SECONDS / 2 - 2)
            self.assertGreaterEqual(f["reconnects_tigo"], r["tpx"].stats["drops"] - 2, f)
            self.assertGreaterEqual(f["reconnects_rct"], r["rpx"].stats["drops"] - 2, f)
            self.assertLessEqual(f["fds_max"] - f["fds_min"], 3, (name, f))
            self.assertLess(abs(f["fd_slope_per_s"]), 0.05, (name, f))
            if SANITIZED:
                continue
            if r["history"]:
                self.assertLess(f["rss_max_kib"] - f["rss_after_warmup_kib"], 3072, (name, f))
            else:
                self.assertLess(f["rss_slope_kib_per_s"], 2.0, (name, f))
                self.assertLess(f["rss_max_kib"] - f["rss_min_kib"], 256, (name, f))
        if os.environ.get("SW_RESOURCES_REPORT"):
            for name, r in runs.items():
                report[name]["series"] = [(round(t), rss, fd) for t, rss, fd in r["samples"][::20]]
            print(json.dumps(report), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
