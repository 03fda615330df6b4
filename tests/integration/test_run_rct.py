"""`sunwire run` polling the RCT simulator, alone and next to a Tigo bus.

Expected values come from reading the same (frozen) simulator with
`sunwire rct read-value`, a separate client with its own request loop.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import runlib

START = "2025-06-01T11:00:00Z"
FROZEN = ["--speed", "0", "--start", START, "--seed", "7"]



# Objects whose registry unit is %: RCT sends fractions, the daemon's outputs carry percent.
PERCENT = {"battery.soc", "battery.soh"}


def as_model(name, raw):
    return float(raw) * (100.0 if name in PERCENT else 1.0)

def read_value(port, name):
    out = subprocess.run([runlib.BIN, "rct", "read-value", "--host", "127.0.0.1", "--port", str(port),
                          "--name", name], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


def write_config(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class RunRctTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sims = []
        self.daemon = None
        self.bridge = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        for s in self.sims:
            s.stop()
        if self.bridge:
            self.bridge.stop()
        self.tmp.cleanup()

    def sim(self, port=0, extra=()):
        s = runlib.RctSimulator(port, list(FROZEN) + list(extra))
        self.sims.append(s)
        return s

    def values(self, name):
        return [r for r in self.daemon.records("inverter_value") if r["object"] == name]

    def test_values_match_direct_reads(self):
        sim = self.sim()
        cfg = os.path.join(self.tmp.name, "run.ini")
        write_config(cfg, "[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\n"
                          "objects = battery.soh\n" % sim.port)
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])
        inv = self.daemon.wait_record("inverter", name="house", online=True)
        self.assertTrue(inv, self.daemon.stderr())
        self.assertTrue(runlib.wait_until(lambda: self.values("fault[3].flt") and self.values("battery.soh"), 10),
                        self.daemon.stderr())
        # Identity, read once per connection.
        serial = read_value(sim.port, "inverter_sn")
        self.assertTrue(self.daemon.wait_record("inverter", name="house", serial=serial))
        # Numbers, as the direct client reads them.
        for name in ("battery.soc", "g_sync.p_ac_grid_sum_lp", "battery.soh", "energy.e_ac_total"):
            got = self.values(name)
            self.assertTrue(got, name)
            self.assertEqual(got[-1]["value"], as_model(name, read_value(sim.port, name)), name)
        self.assertEqual(self.values("fault[0].flt")[-1]["value"], float(read_value(sim.port, "fault[0].flt")))
        # A healthy simulated plant: no fault bit set, and the text says so.
        for k in range(4):
            self.assertEqual(self.values("fault[%d].flt" % k)[-1]["value"], 0.0)
            self.assertEqual(self.values("fault[%d].flt" % k)[-1]["text"], "none")
        # Units come from the registry.
        self.assertEqual(self.values("g_sync.p_ac_grid_sum_lp")[-1]["unit"], "W")
        # The fast tier repeats, the slow tier (energy) does not within a minute.
        self.assertTrue(runlib.wait_until(lambda: len(self.values("battery.soc")) >= 3, 10))
        self.assertEqual(len(self.values("energy.e_ac_total")), 1)
        self.assertEqual(self.daemon.stop(), 0)

    def test_inverter_by_host_name(self):
        # A host name goes through the lookup thread; the simulator listens on 127.0.0.1.
        first = socket.getaddrinfo("localhost", 8899, 0, socket.SOCK_STREAM)[0][4][0]
        if first != "127.0.0.1":
            self.skipTest("localhost resolves to %s first here, not 127.0.0.1" % first)
        sim = self.sim()
        cfg = os.path.join(self.tmp.name, "run.ini")
        write_config(cfg, "[rct house]\nhost = localhost:%d\nfast_interval = 300ms\n" % sim.port)
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])
        inv = self.daemon.wait_record("inverter", name="house", online=True)
        self.assertTrue(inv, self.daemon.stderr())
        self.assertTrue(runlib.wait_until(lambda: self.values("battery.soc"), 10), self.daemon.stderr())
        self.assertNotIn("timed out", self.daemon.stderr())
        self.assertEqual(self.daemon.stop(), 0)

    def test_faulty_answers_never_reach_the_model(self):
        # A clean simulator gives the reference; a second one with the same seed and
        # frozen clock cuts answers short, drops them, and mixes in foreign replies.
        ref = self.sim()
        bad = self.sim(extra=["--fault-truncate", "0.3", "--fault-drop", "0.15", "--fault-foreign", "0.3",
                              "--broadcast"])
        names = ("battery.soc", "g_sync.p_acc_lp", "g_sync.p_ac_grid_sum_lp", "inverter_sn", "svnversion")
        want = {n: read_value(ref.port, n) for n in names}
        cfg = os.path.join(self.tmp.name, "run.ini")
        write_config(cfg, "[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 200ms\ntimeout = 250ms\n"
                          "retries = 3\nreconnect_delay = 100ms\n" % bad.port)
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])
        # Generous: with a third of the answers spoiled, a sanitizer build on a busy
        # machine needs many retries; correctness, not speed, is under test here.
        ok = runlib.wait_until(lambda: all(len(self.values(n)) >= (3 if n.startswith(("battery", "g_sync")) else 1)
                                           for n in names), 90)
        self.assertTrue(ok, self.daemon.stderr())
        for n in names:
            for r in self.values(n):
                if r["value"] is None or isinstance(r["value"], str):
                    self.assertEqual(r["text"], want[n], n)
                else:
                    self.assertEqual(r["value"], as_model(n, want[n]), n)
        src = runlib.wait_until(lambda: [s for s in self.daemon.records("source", name="house")
                                         if s["foreign_replies"] > 0 and s["timeouts"] > 0], 10)
        self.assertTrue(src, "foreign replies and timeouts are counted")
        self.assertEqual(self.daemon.stop(), 0)

    def test_reconnect_while_the_other_source_flows(self):
        sim = self.sim()
        port = sim.port
        scn = runlib.tigo_scenario("UTC")
        # The bridge hangs up after every delivery: the Tigo source reconnects all the time.
        self.bridge = runlib.TigoBridge([bytes.fromhex(s["bus_hex"]) for s in scn["steps"]], gap=0.02,
                                        close_after=True)
        cfg = os.path.join(self.tmp.name, "run.ini")
        write_config(cfg, """[general]
tick = 1s
[tigo bus]
tcp = 127.0.0.1:%d
reconnect_delay = 100ms
reconnect_max = 200ms
[rct house]
host = 127.0.0.1:%d
fast_interval = 200ms
timeout = 200ms
retries = 0
reconnect_delay = 100ms
reconnect_max = 300ms
""" % (self.bridge.port, port))
        self.daemon = runlib.Daemon(["--config", cfg, "--json"])
        self.assertTrue(self.daemon.wait_record("inverter", name="house", online=True), self.daemon.stderr())
        self.assertTrue(self.daemon.wait_record("panel", online=True), self.daemon.stderr())

        # The inverter goes away.
        self.sims.remove(sim)
        sim.stop()
        self.assertTrue(self.daemon.wait_record("inverter", name="house", online=False, timeout=10))
        down_at = time.monotonic()
        panels_before = len(self.daemon.records("panel"))
        conns_before = self.bridge.connections
        time.sleep(1.5)
        # Meanwhile the Tigo bus keeps delivering.
        self.assertGreater(len(self.daemon.records("panel")), panels_before)
        self.assertGreater(self.bridge.connections, conns_before)
        self.assertFalse([r for r in self.daemon.records("inverter_value") if r["_t"] > down_at + 0.5])

        # It comes back on the same port: polling resumes by itself.
        back = runlib.wait_until(lambda: self._restart(port), 10, step=0.2)
        self.assertTrue(back, "simulator could not bind its old port again")
        revived = runlib.wait_until(lambda: [r for r in self.daemon.records("inverter_value")
                                             if r["_t"] > down_at + 1.5], 15)
        self.assertTrue(revived, self.daemon.stderr())
        src = self.daemon.records("source", name="house")
        self.assertGreater(src[-1]["reconnects"], 0)
        self.assertTrue(src[-1]["connected"])
        self.assertEqual(self.daemon.stop(signal.SIGTERM), 0)

    def _restart(self, port):
        try:
            self.sim(port)
            return True
        except RuntimeError:
            return False


if __name__ == "__main__":
    unittest.main()
