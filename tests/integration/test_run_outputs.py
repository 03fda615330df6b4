"""`sunwire run` feeding the other outputs: InfluxDB lines on stdout, /metrics and the
dashboard on one loopback HTTP server, the SQLite history file."""
import os
import re
import signal
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.request

import runlib


def feature(text):
    out = subprocess.run([runlib.BIN, "features"], capture_output=True, text=True, timeout=10).stdout
    return any(text in l and "enabled" in l for l in out.splitlines())


class RawDaemon(runlib.Daemon):
    """stdout kept as raw lines (InfluxDB line protocol, not JSON)."""

    def _read(self):
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def text_lines(self, prefix):
        with self.lock:
            return [l for l in self.lines if l.startswith(prefix)]


class RunOutputsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sim = runlib.RctSimulator(0, ["--speed", "0", "--start", "2025-06-01T11:00:00Z"])
        scn = runlib.tigo_scenario("node table walk")
        self.bridge = runlib.TigoBridge([bytes.fromhex(s["bus_hex"]) for s in scn["steps"]])
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        self.sim.stop()
        self.bridge.stop()
        self.tmp.cleanup()

    def test_influx_http_prometheus_history(self):
        have_http = feature("HTTP server")
        have_sqlite = feature("SQLite")
        hist = os.path.join(self.tmp.name, "history.db")
        cfg = os.path.join(self.tmp.name, "run.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("""[tigo roof]
tcp = 127.0.0.1:%d
[rct house]
host = 127.0.0.1:%d
fast_interval = 300ms
[panels]
modules = A:east1:4-A2346FZ
[influx]
output = stdout
[http]
port = 0
[prometheus]
[history]
path = %s
""" % (self.bridge.port, self.sim.port, hist))
        self.daemon = RawDaemon(["--config", cfg])
        panel = runlib.wait_until(lambda: [l for l in self.daemon.text_lines("sunwire_panel,")
                                           if "east1" in l and "power=" in l], 10)
        self.assertTrue(panel, self.daemon.stderr())
        self.assertIn("string=A", panel[-1])
        self.assertTrue(runlib.wait_until(lambda: [l for l in self.daemon.text_lines("sunwire_inverter_value,")
                                                   if "object=battery.soc" in l], 10))
        err = self.daemon.stderr()
        if have_http:
            port = runlib.wait_until(lambda: re.findall(r"dashboard on http://127\.0\.0\.1:(\d+)/",
                                                        self.daemon.stderr()), 10)
            self.assertTrue(port, err)
            base = "http://127.0.0.1:%s" % port[0]
            with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
                metrics = r.read().decode()
            self.assertIn('inverter="house"', metrics)
            self.assertIn("east1", metrics)
            with urllib.request.urlopen(base + "/", timeout=10) as r:
                self.assertEqual(r.status, 200)
        else:
            self.assertIn("disabled", err)
        self.assertEqual(self.daemon.stop(signal.SIGINT), 0, self.daemon.stderr())
        if have_sqlite:
            db = sqlite3.connect(hist)
            try:
                names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
                self.assertTrue(names)
                counts = sum(db.execute("SELECT COUNT(*) FROM %s" % n).fetchone()[0] for n in names
                             if not n.startswith("sqlite_"))
                self.assertGreater(counts, 0)
            finally:
                db.close()


if __name__ == "__main__":
    unittest.main()
