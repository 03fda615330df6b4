#!/usr/bin/env python3
"""The bus and controller watchdog in `sunwire run`, against `sunwire tigo simulate` with faults.

The simulator runs faster than real time over TCP and breaks the bus at a
given simulated time (`--fault KIND@START-END`); the daemon, with short
`[health]` thresholds, must log the problem within the documented time after
the fault starts and log it cleared after the fault ends. The log is where
every problem is told (one line per raise and clear). The radio fault is
checked through the daemon with a short `radio_window` in
test_daemon_faults.py, and with the default window on simulated time in
tests/unit/health/test_bus_sim.c.
"""
import os
import re
import tempfile
import time
import unittest

import faultlib as fl
import runlib

START = "2026-06-21T09:00Z"


class BusHealth(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sim = None
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        if self.sim:
            self.sim.stop()
        self.tmp.cleanup()

    def start(self, speed, fault, health):
        self.sim = fl.TigoSim("--seed", 5, "--start", START, "--panels", 6, "--speed", speed, "--fault", fault)
        self.t0 = time.monotonic()  # the bus's start, near enough
        cfg = os.path.join(self.tmp.name, "sunwire.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[health]\n%s\n" % (self.sim.port, health))
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])

    def wait_log(self, pattern, timeout):
        """Seconds since the bus started when the daemon logged pattern, or None."""
        rx = re.compile(pattern)
        if runlib.wait_until(lambda: rx.search(self.daemon.stderr()), timeout, 0.05):
            return time.monotonic() - self.t0
        return None

    def test_controller_stops_polling(self):
        # 30x: the controller stops polling 4 s after the start, for 6 s; the threshold is 2 s.
        self.start(30, "no-polling@2m-5m", "controller_silent = 2s")
        raised = self.wait_log(r"problem: controller_silent on bus roof \(roof\): no receive request", 15)
        err = self.daemon.stderr()
        self.assertIsNotNone(raised, err)
        self.assertGreaterEqual(raised, 4 + 2 - 0.5, err)
        self.assertLessEqual(raised, 4 + 2 + 3, err)
        cleared = self.wait_log(r"problem cleared: controller_silent on bus roof", 10)
        err = self.daemon.stderr()
        self.assertIsNotNone(cleared, err)
        self.assertGreaterEqual(cleared, 10 - 0.5, err)
        self.assertLessEqual(cleared, 10 + 3, err)
        self.assertEqual(err.count("problem: controller_silent"), 1, err)
        # every panel record carries the radio link's figures
        panels = self.daemon.records("panel", online=True)
        self.assertTrue(panels, err)
        for key in ("loss_15m", "loss_day", "rssi_trend", "next_hop"):
            self.assertIn(key, panels[-1])
        self.assertNotIn("radio_degrading", err)
        self.assertEqual(self.daemon.stop(), 0)

    def test_node_table_shrinks(self):
        # 120x: the table walk runs every 10 simulated minutes (5 s), the first one at the start is
        # over before the daemon listens; three of six nodes vanish from 6 s to 11 s, between walks.
        self.start(120, "shrink=3@12m-22m", "")
        missing = self.wait_log(r"problem: nodes_missing on gateway roof/4609 \(roof\): network status counts", 10)
        err = self.daemon.stderr()
        self.assertIsNotNone(missing, err)
        shrank = self.wait_log(r"problem: node_table_shrank on gateway roof/4609 \(roof\): node table lists 3 "
                               r"nodes, 6 before; missing node 5, 6, 7", 10)
        err = self.daemon.stderr()
        self.assertIsNotNone(shrank, err)
        self.assertGreaterEqual(shrank, 6 - 0.5, err)
        self.assertLessEqual(shrank, 6 + 5 + 2, err)
        self.assertIsNotNone(self.wait_log(r"problem cleared: nodes_missing on gateway roof/4609", 5), err)
        cleared = self.wait_log(r"problem cleared: node_table_shrank on gateway roof/4609", 15)
        err = self.daemon.stderr()
        self.assertIsNotNone(cleared, err)
        self.assertGreaterEqual(cleared, 11 - 0.5, err)
        self.assertLessEqual(cleared, 11 + 5 + 2, err)
        self.assertNotIn("controller_silent", err)
        self.assertEqual(self.daemon.stop(), 0)


if __name__ == "__main__":
    unittest.main()
