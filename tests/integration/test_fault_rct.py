#!/usr/bin/env python3
"""RCT reads under faults never report a wrong value.

Two simulators with the same seed and a frozen clock (--speed 0) answer with
the same values; one of them cuts answers short (with a valid CRC), drops
answers and sends answers meant for other objects first. Everything
`sunwire rct read-value` and `sunwire run` report through the faulty one (and
through tests/tools/faultproxy.py corrupting and splitting the bytes) must
equal what the clean one says (the daemon's JSON lines and its SQLite history
alike), and the faults must show up in the counters.
"""
import json
import os
import re
import sqlite3
import tempfile
import time
import unittest

import faultlib as fl

SIM = ["--speed", 0, "--start", "2026-06-21T12:00", "--seed", 4]
FAULTS = ["--fault-truncate", 0.25, "--fault-drop", 0.1, "--fault-foreign", 0.25]
NAMES = ["battery.soc", "battery.voltage", "battery.temperature", "g_sync.p_ac_load_sum_lp",
         "g_sync.p_ac_grid_sum_lp", "dc_conv.dc_conv_struct[0].p_dc", "dc_conv.dc_conv_struct[1].p_dc",
         "dc_conv.dc_conv_struct[0].u_sg_lp", "db.temp1", "db.temp2", "energy.e_ac_day", "energy.e_ac_total",
         "energy.e_grid_feed_total", "energy.e_grid_load_total", "battery.soc_target", "inverter_sn",
         "android_description", "grid_pll[0].f", "g_sync.u_l_rms[0]", "prim_sm.state"]
UNITS = {}
SUMMARY = re.compile(r"requests (\d+), attempts (\d+), retries (\d+), timeouts (\d+), foreign (\d+), crc (\d+), cut (\d+)")


def read_values(port, *extra):
    r = fl.run("rct", "--debug", "read-value", "-h", "127.0.0.1", "-p", port, "--json", *extra, *NAMES)
    objs = fl.json_lines(r.stdout.decode().splitlines())
    vals = {o["name"]: o["value"] for o in objs}
    UNITS.update({o["name"]: o["unit"] for o in objs})
    m = SUMMARY.search(r.stderr.decode())
    counts = dict(zip(("requests", "attempts", "retries", "timeouts", "foreign", "crc", "cut"),
                      map(int, m.groups()))) if m else None
    return r.returncode, vals, counts


def as_model(name, value):
    """The daemon shows fractions the device sends for "%" objects in percent; the CLI shows them raw."""
    return value * 100.0 if UNITS.get(name) == "%" and not isinstance(value, str) else value


class RctUnderFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with fl.RctSim(*SIM) as clean:
            rc, cls.expected, _ = read_values(clean.port)
        assert rc == 0 and len(cls.expected) == len(NAMES), (rc, cls.expected)

    def check(self, vals):
        for name, v in vals.items():
            self.assertEqual(v, self.expected[name], "%s: %r, fault-free %r" % (name, v, self.expected[name]))

    def test_simulator_faults_are_retried_not_reported(self):
        with fl.RctSim(*SIM, *FAULTS) as sim:
            rc, vals, counts = read_values(sim.port, "--timeout", 250, "--retries", 10)
        self.assertEqual(rc, 0)
        self.assertEqual(set(vals), set(NAMES))
        self.check(vals)
        self.assertIsNotNone(counts)
        self.assertEqual(counts["requests"], len(NAMES))
        self.assertEqual(counts["retries"], counts["attempts"] - counts["requests"])
        self.assertGreater(counts["cut"], 0, counts)
        self.assertGreater(counts["foreign"], 0, counts)
        self.assertGreater(counts["timeouts"], 0, counts)

    def test_corrupted_and_split_bytes(self):
        with fl.RctSim(*SIM) as sim, fl.FaultProxy(sim.port, "--seed", 3, "--corrupt-rate", 0.01,
                                                    "--split") as px:
            rc, vals, counts = read_values(px.port, "--timeout", 250, "--retries", 10)
            px.stop()
        self.check(vals)
        self.assertGreater(px.stats["corrupted_down"], 0)
        self.assertIsNotNone(counts)
        self.assertGreater(counts["crc"] + counts["timeouts"], 0, counts)
        self.assertEqual(rc, 0 if len(vals) == len(NAMES) else rc)

    def test_daemon_reports_only_fault_free_values(self):
        tmp = tempfile.TemporaryDirectory()
        cfg = os.path.join(tmp.name, "run.ini")
        db = os.path.join(tmp.name, "history.db")
        try:
            with fl.RctSim(*SIM, *FAULTS) as sim, fl.FaultProxy(sim.port, "--seed", 9, "--corrupt-rate", 0.002,
                                                                 "--split", "--drop-every", 2.5) as px:
                with open(cfg, "w") as f:
                    f.write("[rct inv]\nhost = 127.0.0.1:%d\nfast_interval = 200ms\nslow_interval = 1s\n"
                            "timeout = 250ms\nreconnect_delay = 100ms\nreconnect_max = 500ms\n"
                            % px.port + "".join("objects = %s\n" % n for n in NAMES)
                            + "[history]\npath = %s\n" % db)
                with fl.sunwire("run", "--config", cfg, "--json") as d:
                    time.sleep(7)
                    self.assertTrue(d.alive(), "\n".join(d.lines(True))[-2000:])
                px.stop()
            con = sqlite3.connect(db)
            try:
                stored = con.execute("SELECT object, number, text FROM inverter_values").fetchall()
            finally:
                con.close()
        finally:
            tmp.cleanup()
        # The history holds the same values: numbers as numbers, strings as text.
        stored = [s for s in stored if s[0] in self.expected]
        self.assertGreaterEqual(len({s[0] for s in stored}), len(NAMES) // 2, stored)
        for obj, number, text in stored:
            want = as_model(obj, self.expected[obj])
            self.assertEqual(text if isinstance(want, str) else number, want, (obj, number, text))
        recs = fl.json_lines(d.lines())
        values = [r for r in recs if r.get("type") == "inverter_value" and r.get("object") in self.expected]
        # Values are printed when they change; with a frozen clock that is once per object.
        self.assertGreaterEqual(len({r["object"] for r in values}), len(NAMES) // 2, values)
        for r in values:
            self.assertEqual(r["value"], as_model(r["object"], self.expected[r["object"]]), r)
        src = [r for r in recs if r.get("type") == "source"]
        self.assertTrue(src)
        last = src[-1]
        self.assertGreater(last["timeouts"] + last["foreign_replies"], 0, last)
        self.assertGreaterEqual(last["reconnects"], 1, last)


if __name__ == "__main__":
    unittest.main()
