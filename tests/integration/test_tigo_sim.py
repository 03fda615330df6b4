"""`sunwire tigo simulate`: files, the TCP fan-out server and the pseudo-terminal.

The generator is deterministic and its bytes do not depend on pacing, so a
file written with a seed and a start time is the reference for what a live
observer must see from the same seed and start over TCP or a serial port:
every power report read live must be one of the file's reports, value for
value.
"""
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("SUNWIRE_BIN", "")
START = "2025-06-21T10:00:00Z"  # a bright midsummer morning: every panel reports


def env():
    e = dict(os.environ)
    e["TZ"] = "UTC"
    e.setdefault("RUST_LOG", "error")
    return e


def taptap_path():
    path = os.path.join(os.path.dirname(BIN), "taptap")
    if not os.path.exists(path):
        os.symlink("sunwire", path)
    return path


def simulate(*args, timeout=60):
    return subprocess.run([BIN, "tigo", "simulate", *args], capture_output=True, timeout=timeout, env=env())


def observe_file(path):
    r = subprocess.run([BIN, "tigo", "observe", "--file", path], capture_output=True, timeout=60, env=env())
    return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]


def report_key(ev):
    """What identifies a report independently of the observer's clock."""
    return (ev["gateway"], ev["node"], ev["voltage_in"], ev["voltage_out"], ev["current"],
            ev["dc_dc_duty_cycle"], ev["temperature"], ev["rssi"])


class Proc:
    """A simulator process whose first stdout line says where to connect."""

    def __init__(self, *args):
        self.p = subprocess.Popen([BIN, "tigo", "simulate", *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env())
        ready, _, _ = select.select([self.p.stdout], [], [], 10)
        if not ready:
            self.stop()
            raise AssertionError("simulator printed nothing")
        self.first_line = self.p.stdout.readline().decode().strip()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()
        return self.p.returncode


def read_json_lines(proc, seconds, want):
    """Collect JSON lines from proc's stdout for up to `seconds` or until `want` power reports."""
    lines, buf, deadline = [], b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                lines.append(json.loads(line))
        if sum(1 for e in lines if e.get("event_type") == "power_report") >= want:
            break
    return lines


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for f in (proc.stdout, proc.stderr):
        if f:
            f.close()


class SimulateFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_same_seed_same_bytes_other_seed_other_bytes(self):
        for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
            r = simulate("--file", self.path(name), "--seed", seed, "--start", START, "--duration", "30")
            self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("a"), "rb") as f:
            a = f.read()
        with open(self.path("b"), "rb") as f:
            b = f.read()
        with open(self.path("c"), "rb") as f:
            c = f.read()
        self.assertGreater(len(a), 5000)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_pcapng_and_raw_observe_alike(self):
        args = ["--start", START, "--duration", "90", "--gateways", "2", "--panels", "4", "--seed", "3"]
        self.assertEqual(simulate("--file", self.path("s.raw"), *args).returncode, 0)
        self.assertEqual(simulate("--file", self.path("s.pcapng"), "--format", "pcapng", *args).returncode, 0)
        raw = observe_file(self.path("s.raw"))
        cap = observe_file(self.path("s.pcapng"))
        reports = [e for e in cap if e["event_type"] == "power_report"]
        # 8 nodes report every 20 s: about 4 reports each in 90 s
        self.assertGreaterEqual(len(reports), 8 * 3)
        self.assertEqual({e["gateway"] for e in reports}, {4609, 4610})
        self.assertEqual({e["node"] for e in reports}, {2, 3, 4, 5})
        for e in reports:
            self.assertGreater(e["voltage_in"], 20.0)
            self.assertGreater(e["current"], 0.5)
            self.assertLessEqual(e["dc_dc_duty_cycle"], 1.0)
            # the capture's timestamps are the bus times: the reports lie inside the simulated window
            self.assertRegex(e["timestamp"], r"^2025-06-21T10:0[01]:")
        # the same bytes without timing give the same reports (the raw file is read at host time)
        self.assertEqual(sorted(map(report_key, reports)),
                         sorted(report_key(e) for e in raw if e["event_type"] == "power_report"))
        # the start-up enumeration and node-table sweep name both TAPs and every node
        infra = [e for e in cap if e["event_type"] == "infrastructure_report"]
        self.assertTrue(infra)
        last = infra[-1]
        self.assertEqual(set(last["gateways"]), {"4609", "4610"})
        for g in ("4609", "4610"):
            self.assertTrue(last["gateways"][g]["version"].startswith("Mgate Version G8."))
            self.assertRegex(last["gateways"][g]["address"], r"^04:C0:5B:30(:[0-9A-F]{2}){4}$")
            nodes = last["nodes"][g]
            self.assertEqual(set(nodes), {"2", "3", "4", "5"})
            for n in nodes.values():
                self.assertRegex(n["barcode"], r"^4-[0-9A-F]{6}[G-Z]$")

    def test_firmware4_reports_are_accepted(self):
        self.assertEqual(simulate("--file", self.path("f4.pcapng"), "--format", "pcapng", "--firmware", "4",
                                  "--start", START, "--duration", "60").returncode, 0)
        reports = [e for e in observe_file(self.path("f4.pcapng")) if e["event_type"] == "power_report"]
        self.assertGreaterEqual(len(reports), 10 * 2)
        # taptap's own decoders (--reference) refuse every firmware-4 report: that is the bug being fixed
        r = subprocess.run([BIN, "tigo", "observe", "--reference", "--file", self.path("f4.pcapng")],
                           capture_output=True, timeout=60, env=env())
        strict = [line for line in r.stdout.decode().splitlines() if "power_report" in line]
        self.assertEqual(len(strict), 0)

    def test_night_is_dark(self):
        self.assertEqual(simulate("--file", self.path("n.pcapng"), "--format", "pcapng",
                                  "--start", "2025-06-21T23:00:00Z", "--duration", "120").returncode, 0)
        events = observe_file(self.path("n.pcapng"))
        self.assertEqual([e for e in events if e["event_type"] == "power_report"], [])
        # identities are exchanged at night all the same
        self.assertTrue([e for e in events if e["event_type"] == "infrastructure_report"])

    def test_bad_command_lines(self):
        for args in ([], ["--file", self.path("x")], ["--tcp", "--file", self.path("x"), "--duration", "1"],
                     ["--tcp", "--gateways", "0"], ["--tcp", "--panels", "65"], ["--tcp", "--firmware", "3"],
                     ["--tcp", "--start", "yesterday"], ["--tcp", "--speed", "0"], ["--bogus"]):
            r = simulate(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr, args)
            self.assertFalse(r.stdout, args)


class SimulateLive(unittest.TestCase):
    def reference(self, seconds, *args):
        """Reports of the same simulation, written to a file as fast as possible."""
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path = os.path.join(d.name, "ref.pcapng")
        r = simulate("--file", path, "--format", "pcapng", "--start", START, "--duration", str(seconds), *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {report_key(e) for e in observe_file(path) if e["event_type"] == "power_report"}

    def test_tcp_server_feeds_observe_and_every_client(self):
        sim = Proc("--tcp", "--speed", "20", "--start", START, "--seed", "5", "--gateways", "2", "--panels", "5")
        self.addCleanup(sim.stop)
        self.assertRegex(sim.first_line, r"^listening on 127\.0\.0\.1:\d+$")
        port = int(sim.first_line.rsplit(":", 1)[1])
        # two raw clients see the same bus: what the later one got is part of what the earlier one got
        a = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(a.close)
        time.sleep(0.3)
        b = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(b.close)
        got = {a: b"", b: b""}
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            for s, _, _ in [select.select([a, b], [], [], 0.1)]:
                for sock in s:
                    got[sock] += sock.recv(65536)
        self.assertGreater(len(got[b]), 1000)
        self.assertIn(got[b][200:600], got[a])

        obs = subprocess.Popen([BIN, "tigo", "observe", "--tcp", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env())
        self.addCleanup(stop, obs)
        lines = read_json_lines(obs, 20, want=12)
        reports = [e for e in lines if e["event_type"] == "power_report"]
        self.assertGreaterEqual(len(reports), 12)
        # 20x for up to 20 s real plus start-up: well inside 600 simulated seconds
        ref = self.reference(600, "--seed", "5", "--gateways", "2", "--panels", "5")
        for e in reports:
            self.assertIn(report_key(e), ref)
        stop(obs)
        self.assertEqual(sim.stop(), 0)

    def test_pty_feeds_taptap_serial(self):
        sim = Proc("--pty", "--speed", "20", "--start", START, "--seed", "9", "--panels", "6")
        self.addCleanup(sim.stop)
        path = sim.first_line
        self.assertTrue(path.startswith("/dev/"), path)
        obs = subprocess.Popen([taptap_path(), "observe", "--serial", path], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env())
        self.addCleanup(stop, obs)
        lines = read_json_lines(obs, 20, want=8)
        reports = [e for e in lines if e["event_type"] == "power_report"]
        self.assertGreaterEqual(len(reports), 8)
        ref = self.reference(600, "--seed", "9", "--panels", "6")
        for e in reports:
            self.assertEqual(e["gateway"], 4609)
            self.assertIn(report_key(e), ref)
        stop(obs)
        made = os.stat(path).st_ctime_ns
        self.assertEqual(sim.stop(), 0)
        # The pseudo-terminal goes away with the simulator. Tests running side by side may be
        # given the freed number at once: a terminal under the same name is then a newer one.
        try:
            self.assertNotEqual(os.stat(path).st_ctime_ns, made, "%s outlived the simulator" % path)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    unittest.main()
