"""`sunwire run` against a Tigo bus served over TCP from the observer test vectors.

The bridge is a loopback TCP server that sends the bus bytes of a scenario;
expected values (panel measurements, gateway and node identities, the state
file) come from the vectors, never from sunwire itself.
"""
import json
import os
import pty
import signal
import sqlite3
import tempfile
import unittest

import runlib


def scenario_chunks(s, steps=None):
    idx = range(len(s["steps"])) if steps is None else steps
    return [bytes.fromhex(s["steps"][i]["bus_hex"]) for i in idx]


def expected_power(s, key):
    """The power_report lines of a scenario's expected fork output, as dicts."""
    return [o for o in (json.loads(l) for l in s[key]) if o.get("event_type") == "power_report"]


class RunTigoTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state")
        self.scn = runlib.tigo_scenario("node table walk")
        self.daemon = None
        self.bridge = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        if self.bridge:
            self.bridge.stop()
        self.tmp.cleanup()

    def start(self, chunks, *extra):
        self.bridge = runlib.TigoBridge(chunks)
        self.daemon = runlib.Daemon(["--tigo-tcp", "127.0.0.1:%d" % self.bridge.port, "--json",
                                     "--state-dir", self.state] + list(extra))

    def test_reports_identities_and_state(self):
        self.start(scenario_chunks(self.scn), "--panels", "A:east1:4-A2346FZ")
        want = expected_power(self.scn, "expected_stdout_fork_with_state_file")[0]
        panels = self.daemon.wait_record("panel", online=True, node=want["node"])
        self.assertTrue(panels, self.daemon.stderr())
        p = panels[-1]
        self.assertEqual(p["gateway"], want["gateway"])
        self.assertEqual(p["voltage_in"], want["voltage_in"])
        self.assertEqual(p["voltage_out"], want["voltage_out"])
        self.assertEqual(p["current_in"], want["current"])
        self.assertEqual(p["temperature"], want["temperature"])
        self.assertEqual(p["rssi"], want["rssi"])
        self.assertAlmostEqual(p["power"], want["voltage_in"] * want["current"], places=9)
        # The node table in the stream gave the barcode, the panel map gave name and string.
        self.assertEqual(p["barcode"], "4-A2346FZ")
        self.assertEqual(p["name"], "east1")
        self.assertEqual(p["string"], "A")
        strings = self.daemon.wait_record("string", name="A", online=1)
        self.assertAlmostEqual(strings[-1]["power_sum"], p["power"], places=9)

        # Gateway identity as the vector's infrastructure report has it.
        infra = [json.loads(l) for l in self.scn["expected_stdout_fork_with_state_file"]]
        gw_addr = infra[0]["gateways"][str(want["gateway"])]["address"]
        gws = self.daemon.wait_record("gateway", gateway=want["gateway"], address=gw_addr)
        self.assertTrue(gws)

        self.assertEqual(self.daemon.stop(signal.SIGINT), 0)
        err = self.daemon.stderr()
        # Unmapped barcodes are logged, each once; mapped ones never.
        self.assertEqual(err.count("unmapped panel: barcode 4-A23471V"), 1, err)
        self.assertNotIn("barcode 4-A2346FZ (", err)

        # The Tigo state is persisted in the fork's own format.
        with open(os.path.join(self.state, "tigo-tigo.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f), json.loads(self.scn["expected_state_file_fork"]))
        # The energy counters are in the state directory's SQLite database, with each panel's identity.
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.state, "energy.db"), uri=True)
        try:
            rows = {(g, n): bc for g, n, bc in db.execute("SELECT gateway_id, node_id, barcode FROM panel_energy")}
        finally:
            db.close()
        self.assertEqual(rows[(want["gateway"], 2)], "4-A2346FZ")
        self.assertEqual(rows[(want["gateway"], 3)], "4-A23471V")
        self.assertFalse([f for f in os.listdir(self.state) if f.endswith(".tmp")])

    def test_identity_from_state_after_restart(self):
        # A state directory holding the vector's state file: names are known before any
        # identity traffic, from the first report on.
        os.makedirs(self.state)
        with open(os.path.join(self.state, "tigo-tigo.json"), "w", encoding="utf-8") as f:
            f.write(self.scn["expected_state_file_fork"])
        # Only the receive request/response pair that carries the power report.
        n = len(self.scn["steps"])
        self.start(scenario_chunks(self.scn, [n - 2, n - 1]), "--panels", "A:east1:4-A2346FZ")
        panels = self.daemon.wait_record("panel", online=True)
        self.assertTrue(panels, self.daemon.stderr())
        self.assertEqual(panels[-1]["name"], "east1")
        self.assertEqual(panels[-1]["barcode"], "4-A2346FZ")
        self.assertEqual(self.daemon.stop(signal.SIGTERM), 0)

    def test_timestamped_reports_integrate_energy(self):
        # Scenario 1: two reports of node 116. The bridge delivers them within
        # milliseconds (not 20 s apart as recorded), so the measurement times are
        # close together; whatever they are, the energy is the trapezoid of the
        # vector's two powers over them.
        s = runlib.tigo_scenario("UTC")
        want = expected_power(s, "expected_stdout_fork")
        self.assertEqual(len(want), 2)
        self.start(scenario_chunks(s))
        rows = runlib.wait_until(lambda: [r for r in self.daemon.records("panel", node=116) if r["online"]]
                                 if len([r for r in self.daemon.records("panel", node=116) if r["online"]]) >= 2
                                 else None, 10)
        self.assertTrue(rows, self.daemon.stderr())
        first, second = rows[0], rows[1]
        self.assertEqual(first["voltage_in"], want[0]["voltage_in"])
        self.assertEqual(second["voltage_in"], want[1]["voltage_in"])
        dt = (second["time_ns"] - first["time_ns"]) / 1e9
        self.assertGreater(dt, 0)
        self.assertEqual(first["energy_total_wh"], 0.0)
        p0 = want[0]["voltage_in"] * want[0]["current"]
        p1 = want[1]["voltage_in"] * want[1]["current"]
        expect = (p0 + p1) / 2 * dt / 3600
        # With a state directory the outputs show only committed counters: the second
        # report arrived within the save interval, so it still shows what is on disk.
        self.assertEqual(second["energy_total_wh"], 0.0)
        self.assertEqual(self.daemon.stop(), 0)
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.state, "energy.db"), uri=True)
        try:
            total, today = db.execute("SELECT total_wh, today_wh FROM panel_energy WHERE node_id = 116").fetchone()
        finally:
            db.close()
        self.assertGreater(total, 0.0)
        self.assertLess(abs(total - expect), expect * 1e-6)
        self.assertEqual(today, total)

    def test_night_zero(self):
        # One report, then silence: after stale_timeout the panel goes offline with zeros.
        cfg = os.path.join(self.tmp.name, "run.ini")
        self.bridge = runlib.TigoBridge(scenario_chunks(self.scn))
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[general]\ntick = 200ms\nstale_timeout = 1s\nnight = zero\n"
                    "[tigo roof]\ntcp = 127.0.0.1:%d\n" % self.bridge.port)
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])
        on = self.daemon.wait_record("panel", online=True)
        self.assertTrue(on, self.daemon.stderr())
        t_on = on[-1]["_t"]
        off = runlib.wait_until(lambda: [r for r in self.daemon.records("panel", online=False, node=on[-1]["node"])
                                         if r["_t"] > t_on], 5)
        self.assertTrue(off, self.daemon.stderr())
        self.assertEqual(off[0]["power"], 0.0)
        self.assertGreaterEqual(off[0]["_t"] - on[-1]["_t"], 0.8)
        self.assertEqual(off[0]["voltage_in"], 0.0)
        total = self.daemon.wait_record("string", name="total", online=0)
        self.assertTrue([r for r in total if r["_t"] >= off[0]["_t"]])
        self.assertEqual(self.daemon.stop(), 0)

    def test_serial_port(self):
        # The bus on a pseudo-terminal instead of a USB adapter.
        master, slave = pty.openpty()
        try:
            path = os.ttyname(slave)
            self.daemon = runlib.Daemon(["--tigo-serial", path, "--json", "--panels", "A:east1:4-A2346FZ"])
            self.assertTrue(self.daemon.wait_record("source", connected=True), self.daemon.stderr())
            for chunk in scenario_chunks(self.scn):
                os.write(master, chunk)
            want = expected_power(self.scn, "expected_stdout_fork_with_state_file")[0]
            panels = self.daemon.wait_record("panel", online=True, name="east1")
            self.assertTrue(panels, self.daemon.stderr())
            self.assertEqual(panels[-1]["voltage_in"], want["voltage_in"])
            self.assertEqual(self.daemon.stop(), 0)
        finally:
            os.close(master)
            os.close(slave)

    def test_sighup_reloads_the_panel_map(self):
        cfg = os.path.join(self.tmp.name, "run.ini")
        self.bridge = runlib.TigoBridge(scenario_chunks(self.scn))
        text = "[tigo roof]\ntcp = 127.0.0.1:%d\n[panels]\nmodules = %%s\n" % self.bridge.port
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text % "A:first:4-A2346FZ")
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])
        self.assertTrue(self.daemon.wait_record("panel", online=True, name="first", string="A"),
                        self.daemon.stderr())
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text % "B:second:4-A2346FZ")
        self.daemon.proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.daemon.wait_record("panel", name="second", string="B"), self.daemon.stderr())
        self.assertTrue(self.daemon.wait_record("string", name="B", panels=1))
        self.assertIsNone(self.daemon.proc.poll())
        self.assertEqual(self.daemon.stop(), 0)

    def test_sighup_keeps_the_map_when_the_config_became_a_directory(self):
        cfg = os.path.join(self.tmp.name, "run.ini")
        self.bridge = runlib.TigoBridge(scenario_chunks(self.scn))
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n[panels]\nmodules = A:first:4-A2346FZ\n" % self.bridge.port)
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])
        self.assertTrue(self.daemon.wait_record("panel", online=True, name="first", string="A"),
                        self.daemon.stderr())
        os.unlink(cfg)
        os.mkdir(cfg)
        self.daemon.proc.send_signal(signal.SIGHUP)
        self.assertTrue(runlib.wait_until(lambda: "panel map kept" in self.daemon.stderr(), 5),
                        self.daemon.stderr())
        self.assertIn("is a directory", self.daemon.stderr())
        self.assertNotIn("panel map reloaded", self.daemon.stderr())
        self.assertIsNone(self.daemon.proc.poll())
        self.assertEqual(self.daemon.stop(), 0)


if __name__ == "__main__":
    unittest.main()
