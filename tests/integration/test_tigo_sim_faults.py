"""`sunwire tigo simulate --fault`: panel faults as an observer reads them off the bus.

The simulator writes a capture with faults on some panels, `sunwire tigo observe`
decodes it, and each faulted panel's reports are compared with its healthy
neighbours' at the same time, inside and outside the fault's time window: the
physics each peer detector relies on must be on the wire, not only in the
generator's memory.
"""
import json
import os
import statistics
import subprocess
import tempfile
import unittest
from datetime import datetime, timezone

BIN = os.environ.get("SUNWIRE_BIN", "")
START = "2025-06-21T10:00:00Z"
T0 = datetime(2025, 6, 21, 10, 0, tzinfo=timezone.utc).timestamp()


def env():
    e = dict(os.environ)
    e["TZ"] = "UTC"
    return e


def simulate(*args, timeout=60):
    return subprocess.run([BIN, "tigo", "simulate", *args], capture_output=True, timeout=timeout, env=env())


def observe(path):
    r = subprocess.run([BIN, "tigo", "observe", "--file", path], capture_output=True, timeout=60, env=env())
    out = []
    for line in r.stdout.decode().splitlines():
        ev = json.loads(line)
        if ev.get("event_type") == "power_report":
            ts = ev["timestamp"].replace("Z", "+00:00")
            ts = ts[:26] + ts[-6:] if len(ts) > 32 else ts  # Python wants at most microseconds
            ev["t"] = datetime.fromisoformat(ts).timestamp() - T0
            out.append(ev)
    return out


class PanelFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(cls.tmp.name, "faults.pcapng")
        r = simulate("--file", path, "--format", "pcapng", "--start", START, "--duration", "1800", "--no-clouds",
                     "--fault", "dead:1.4@10m-20m", "--fault", "diode:1.2", "--fault", "hot:1.6=30",
                     "--fault", "stuck:1.7@5m")
        assert r.returncode == 0, r.stderr.decode()
        cls.reports = observe(path)
        assert len(cls.reports) > 500, len(cls.reports)

    def node(self, n, t0=0, t1=1800):
        return [r for r in self.reports if r["node"] == n and t0 <= r["t"] < t1]

    def peers(self, field, t0=0, t1=1800, skip=(3, 5, 7, 8)):
        """The median of the healthy panels' readings over the window."""
        return statistics.median(r[field] for r in self.reports if r["node"] not in skip and t0 <= r["t"] < t1)

    def test_dead_optimizer_inside_its_window_only(self):
        vin = self.peers("voltage_in", 600, 1200)
        inside = self.node(5, 620, 1190)
        self.assertTrue(inside)
        for r in inside:
            self.assertLessEqual(r["current"], 0.02, r)
            self.assertGreater(r["voltage_in"], 1.1 * vin, r)   # open circuit, above the peers' working voltage
            self.assertEqual(r["voltage_out"], 0.0, r)
            self.assertEqual(r["dc_dc_duty_cycle"], 0.0, r)
        for r in self.node(5, 0, 590) + self.node(5, 1210, 1800):
            self.assertGreater(r["current"], 1.0, r)         # before and after: it works
        # it keeps reporting on time: a dead optimizer is not a silent one
        self.assertGreaterEqual(len(inside), 25)

    def test_diode_loss_two_thirds_voltage_same_current(self):
        vin, cur = self.peers("voltage_in"), self.peers("current")
        rows = self.node(3)
        self.assertTrue(rows)
        v = statistics.median(r["voltage_in"] for r in rows)
        i = statistics.median(r["current"] for r in rows)
        self.assertAlmostEqual(v / vin, 2 / 3, delta=0.04)
        self.assertAlmostEqual(i / cur, 1.0, delta=0.12)

    def test_hot_panel(self):
        temp = self.peers("temperature")
        hot = statistics.median(r["temperature"] for r in self.node(7))
        self.assertAlmostEqual(hot - temp, 30.0, delta=2.0)

    def test_stuck_reading_repeats_exactly(self):
        def key(r):
            return (r["voltage_in"], r["voltage_out"], r["current"], r["dc_dc_duty_cycle"], r["temperature"])
        before = [key(r) for r in self.node(8, 0, 290)]
        after = [key(r) for r in self.node(8, 330, 1800)]
        self.assertGreater(len(set(before)), 3)               # alive and noisy before
        self.assertGreater(len(after), 50)
        self.assertEqual(len(set(after)), 1)                  # one reading, over and over
        # the reports still come one period apart: only the measurement froze
        times = [r["t"] for r in self.node(8, 330, 1800)]
        self.assertTrue(all(15 < b - a < 25 for a, b in zip(times, times[1:])), times[:5])

    def test_same_seed_same_faults(self):
        path = os.path.join(self.tmp.name, "again.pcapng")
        r = simulate("--file", path, "--format", "pcapng", "--start", START, "--duration", "1800", "--no-clouds",
                     "--fault", "dead:1.4@10m-20m", "--fault", "diode:1.2", "--fault", "hot:1.6=30",
                     "--fault", "stuck:1.7@5m")
        self.assertEqual(r.returncode, 0)
        with open(path, "rb") as a, open(os.path.join(self.tmp.name, "faults.pcapng"), "rb") as b:
            self.assertEqual(a.read(), b.read())


class BadFaults(unittest.TestCase):
    def test_refused_with_a_reason(self):
        cases = [
            (["--fault", "melt"], "unknown fault 'melt'"),
            (["--fault", "dead:0.1"], "GATEWAY.PANEL"),
            (["--fault", "dead:1"], "GATEWAY.PANEL"),
            (["--fault", "dead=3"], "takes no value"),
            (["--fault", "hot=500"], "outside"),
            (["--fault", "diode=3"], "outside"),
            (["--fault", "stuck@2h-1h"], "must end after it starts"),
            (["--fault", "firmware=G8.72"], "takes no argument"),
            (["--fault", "soiled@soon"], "is not a time"),
            (["--fault", "dead:2.1"], "panel 2.1 is not on the bus"),
            (["--panels", "5", "--fault", "hot:1.6"], "panel 1.6 is not on the bus"),
            (["--fault"], "missing value"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                r = simulate("--file", "-", "--duration", "10", *args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr.decode())
                self.assertEqual(r.stdout, b"")

    def test_help_lists_every_kind(self):
        r = simulate("--help")
        self.assertEqual(r.returncode, 0)
        text = r.stdout.decode()
        for kind in ("dead", "diode", "hot", "stuck", "soiled"):
            self.assertRegex(text, r"\n    %s " % kind)

    def test_fault_list_names_every_kind(self):
        r = simulate("--fault", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        kinds = [line.split()[0].split("[")[0].split("=")[0] for line in r.stdout.decode().splitlines() if line.strip()]
        # the bus faults (the watchdog's among them) and the panel faults, each once
        for kind in ("inverted", "radio", "no-polling", "shrink", "firmware", "pv-off", "dead", "soiled"):
            self.assertEqual(kinds.count(kind), 1, kind)


if __name__ == "__main__":
    unittest.main()
