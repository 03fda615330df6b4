#!/usr/bin/env python3
"""Battery health end to end: `sunwire run` polls the RCT simulator with faults injected.

The simulator runs 600 times faster than real time, so a simulated hour is six
real seconds; the daemon judges in real time, with a 1 s hold. Each fault has
a start and an end, and the problem must be raised after the fault starts
(within the time docs/health.md gives: the drift or heat crossing the limit,
plus the hold, plus one slow poll) and cleared after it ends (the hold plus
one poll). A healthy simulated day at 4320x raises nothing, and the derived
health.battery.* values reach the outputs (here the JSON lines).
"""
import os
import re
import tempfile
import time
import unittest

import runlib

START = "2025-06-01T08:00:00Z"


def config(path, port, extra=""):
    with open(path, "w") as f:
        f.write("[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 500ms\nslow_interval = 500ms\n\n"
                "[health]\nbattery_hold = 1s\nbattery_stale = 30s\n%s" % (port, extra))


class BatteryHealth(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sim = self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.stop()
            self.daemon.close()
        if self.sim:
            self.sim.stop()
        self.tmp.cleanup()

    def start(self, speed, faults=()):
        extra = ["--start", START, "--speed", str(speed), "--seed", "7"]
        for f in faults:
            extra += ["--fault", f]
        t0 = time.monotonic()
        self.sim = runlib.RctSimulator(0, extra)
        cfg = os.path.join(self.tmp.name, "run.ini")
        config(cfg, self.sim.port)
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])
        return t0

    def seen(self, pattern):
        """Monotonic time the log line matching pattern was first noticed (polled), or None."""
        return runlib.wait_until(lambda: re.search(pattern, self.daemon.stderr()) and time.monotonic(), 25)

    def test_drifting_cell_and_hot_module(self):
        # 600x: the cell of module 2 drifts from simulated minute 10 (1 s real) to 400 mV over two
        # hours, crossing the 80 mV limit (with up to 19 mV of normal spread) within 20 simulated
        # minutes (2 s); the fault ends at minute 90 (9 s). Module 4 heats up by 20 degC from minute
        # 10, crossing 8 degC within 12 minutes (1.2 s), until minute 90.
        t0 = self.start(600, ["drifting-cell:2.5=400@10m-90m", "hot-module:4=20@10m-90m"])
        raised = self.seen(r"WARN .*problem cell_spread on battery house/module2: .*lowest cell 5")
        self.assertTrue(raised, self.daemon.stderr())
        hot = self.seen(r"WARN .*problem module_hot on battery house/module4: ")
        self.assertTrue(hot, self.daemon.stderr())
        # after the start (1 s), within crossing + hold + a poll + start-up (documented: 5 s)
        self.assertGreater(raised - t0, 1.0)
        self.assertLess(raised - t0, 1.0 + 2.0 + 1.0 + 0.5 + 2.0)
        self.assertLess(hot - t0, 1.0 + 1.2 + 1.0 + 0.5 + 2.0)
        cleared = self.seen(r"problem cell_spread on battery house/module2 cleared")
        self.assertTrue(cleared, self.daemon.stderr())
        cooled = self.seen(r"problem module_hot on battery house/module4 cleared")
        self.assertTrue(cooled, self.daemon.stderr())
        self.assertGreater(cleared - t0, 9.0)
        self.assertLess(cleared - t0, 9.0 + 1.0 + 1.0 + 2.0)
        self.assertGreater(cooled - t0, 9.0)
        # no other module had a problem
        err = self.daemon.stderr()
        self.assertEqual(re.findall(r"problem \w+ on battery house/module[01356]", err), [], err)
        # the weakest cell the outputs carry is the drifting one
        weakest = [r["text"] for r in self.daemon.records("inverter_value") if r["object"] == "health.battery.weakest_cell"]
        self.assertIn("module2/cell5", weakest)

    def test_healthy_day_raises_nothing(self):
        # a whole simulated day (86400 s) in 20 real seconds
        self.start(4320)
        time.sleep(20)
        err = self.daemon.stderr()
        self.assertNotIn("problem ", err)
        spreads = [r["value"] for r in self.daemon.records("inverter_value")
                   if r["object"] == "health.battery.cell_spread_mv"]
        self.assertGreater(len(spreads), 10, err)
        self.assertTrue(all(0 < s < 80 for s in spreads), spreads)
        objects = {r["object"] for r in self.daemon.records("inverter_value")}
        for name in ("health.battery.temp_spread_c", "health.battery.module[6].voltage_mv",
                     "health.battery.weakest_cell_dev_mv", "health.battery.calibration_events"):
            self.assertIn(name, objects)
        # the cells are read for the detector, not published raw
        self.assertFalse(any(o.startswith("battery.cells[") for o in objects), objects)


if __name__ == "__main__":
    unittest.main()
