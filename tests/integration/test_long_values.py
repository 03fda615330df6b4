#!/usr/bin/env python3
"""No inverter value is cut: a battery module's cells, over 1,000 characters, arrive whole everywhere.

`sunwire run` polls `battery.cells[1]` from the RCT simulator, whose text as
`rct read-value` prints it is over 1,000 characters, and sends it to a real
mosquitto broker (with Home Assistant discovery), the JSON lines, the web API,
an InfluxDB line-protocol file and the SQLite history. In each the value must
be complete and structured: a JSON object with one entry per cell, and the
display text identical in length and content to what `rct read-value` prints.
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.request

import mqttlib
import runlib

OBJECT = "battery.cells[1]"
KEY = "battery_cells_1"


def influx_string_field(line, name):
    """The unescaped value of string field `name` in one line-protocol line."""
    m = re.search(r'[ ,]%s="((?:[^"\\]|\\.)*)"' % re.escape(name), line)
    return re.sub(r'\\(["\\])', r"\1", m.group(1)) if m else None


@unittest.skipIf(mqttlib.tools_missing(), mqttlib.tools_missing() or "")
class LongValues(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        # A frozen simulated day: the same cells for every read.
        self.sim = runlib.RctSimulator(0, ["--speed", "0", "--start", "2025-06-01T11:00:00Z"])
        self.addCleanup(self.sim.stop)
        self.broker = mqttlib.Broker()
        self.broker.start()
        self.addCleanup(self.broker.close)
        self.watcher = mqttlib.Watcher(self.broker.port).start()
        self.addCleanup(self.watcher.stop)

    def read_value(self):
        r = subprocess.run([runlib.BIN, "rct", "read-value", "--host", "127.0.0.1", "--port", str(self.sim.port),
                            "--name", OBJECT], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().rstrip("\n")

    def assert_cells(self, value, where, want_cells):
        self.assertIsInstance(value, dict, "%s: %r" % (where, value))
        self.assertEqual(len(value.get("cells", [])), want_cells, "%s: %r" % (where, value))
        for i, cell in enumerate(value["cells"]):
            self.assertEqual(cell["cell"], i, where)
            self.assertGreater(cell["voltage_mv"], 0, where)

    def test_battery_cells_whole_in_every_output(self):
        text = self.read_value()
        self.assertGreater(len(text), 1000, "the simulator's value is not long enough to test: %r" % text)
        cells = json.loads(text)        # rctclient's form: {"0": {...}, "1": {...}, ...}
        n = len(cells)
        influx = os.path.join(self.tmp.name, "influx.lp")
        hist = os.path.join(self.tmp.name, "history.db")
        cfg = os.path.join(self.tmp.name, "run.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\ndefaults = no\nobjects = %s\n"
                    "[mqtt]\nhost = 127.0.0.1\nport = %d\nbase_topic = sw\n"
                    "[http]\nport = 0\n[influx]\noutput = file\nfile = %s\n[history]\npath = %s\n"
                    % (self.sim.port, OBJECT, self.broker.port, influx, hist))
        daemon = runlib.Daemon(["--config", cfg, "--json"])
        self.addCleanup(daemon.close)

        # JSON lines: the structured value, and the display text exactly as read-value prints it.
        recs = daemon.wait_record("inverter_value", object=OBJECT, timeout=15)
        self.assertTrue(recs, daemon.stderr())
        self.assert_cells(recs[-1]["value"], "JSON lines", n)
        self.assertEqual(recs[-1]["text"], text)

        # MQTT: the inverter's state carries it as an object; HA gets it as attributes.
        state = self.watcher.wait(topic="sw/inverter/house/state", timeout=15)
        self.assertIsNotNone(state, daemon.stderr())
        state = runlib.wait_until(lambda: [m for m in self.watcher.snapshot() if m.topic == state.topic
                                           and KEY in m.json()], 10)
        self.assertTrue(state, daemon.stderr())
        self.assertGreater(len(state[-1].payload), 1000)
        self.assert_cells(state[-1].json()[KEY], "MQTT state", n)
        disc = [m for m in self.watcher.snapshot() if m.topic.startswith("homeassistant/") and KEY in m.payload]
        self.assertTrue(disc, [m.topic for m in self.watcher.snapshot()])
        comps = disc[-1].json().get("components", {disc[-1].topic: disc[-1].json()})
        comp = [c for c in comps.values() if KEY in c.get("value_template", "")]
        self.assertEqual(len(comp), 1, comps)
        self.assertEqual(comp[0]["json_attributes_topic"], "sw/inverter/house/state")
        self.assertIn(KEY, comp[0]["json_attributes_template"])

        # Web API: the structured value and the whole text.
        port = runlib.wait_until(lambda: re.findall(r"dashboard on http://127\.0\.0\.1:(\d+)/", daemon.stderr()), 10)
        self.assertTrue(port, daemon.stderr())
        with urllib.request.urlopen("http://127.0.0.1:%s/api/inverters" % port[0], timeout=10) as r:
            body = json.loads(r.read().decode())
        invs = body if isinstance(body, list) else body.get("inverters", [])
        vals = [v for inv in invs for v in inv.get("values", []) if v.get("name") == OBJECT]
        self.assertTrue(vals, body)
        self.assert_cells(vals[0]["value"], "web API", n)
        self.assertEqual(vals[0]["text"], text)

        self.assertEqual(daemon.stop(signal.SIGINT), 0, daemon.stderr())

        # InfluxDB: whole lines, with the text and the JSON as string fields, both complete.
        with open(influx, encoding="utf-8") as f:
            lines = [l for l in f.read().splitlines() if "object=battery.cells[1]" in l]
        self.assertTrue(lines)
        self.assertEqual(influx_string_field(lines[-1], "text"), text)
        self.assert_cells(json.loads(influx_string_field(lines[-1], "json")), "InfluxDB", n)

        # History: the structured value as its JSON.
        db = sqlite3.connect(hist)
        try:
            rows = db.execute("SELECT text FROM inverter_values WHERE object = ?", (OBJECT,)).fetchall()
        finally:
            db.close()
        self.assertTrue(rows)
        self.assert_cells(json.loads(rows[-1][0]), "history", n)


if __name__ == "__main__":
    unittest.main()
