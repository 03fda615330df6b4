"""The RCT proxy: many real clients, one connection to the inverter.

- Five `rctclient read-value` loops and the daemon's own poller go through the
  daemon's `[rct] proxy` listener to a simulator with faults: every answer is
  right, the simulator accepts exactly one connection and gets fewer requests
  than the clients made.
- The simulator's interrupt mode behaves like a real device with concurrent
  requests: clients talking to it directly see crossed and cut answers; through
  `sunwire rct proxy` they see none.
- Writes are refused by default (no answer, a log line naming the client and how
  to allow it) and pass from an allowed address.

Expected values come from a second simulator with the same seed and frozen
clock, read directly, so the simulator under test only ever sees the proxy.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import rctlib  # noqa: E402
import runlib  # noqa: E402
from rctlib import BIN, FIXED_START, Simulator, connect, frame, parse_frames, rctclient_bin  # noqa: E402

SIM = ["--seed", "7", "--start", FIXED_START, "--speed", "0"]
SOC = 0x959930BF
SOC_TARGET = 0x8B9FF008
LOOP_OBJECTS = ["battery.soc", "battery.soc", "g_sync.p_ac_load_sum_lp", "energy.e_ac_total", "db.temp1"]
RUNS_PER_LOOP = 6
SIM_COUNTERS = re.compile(r"simulator counters: connections (\d+), requests (\d+), answered (\d+), .*"
                          r"interrupted (\d+), misrouted (\d+)")
PROXY_COUNTERS = re.compile(r"clients (\d+), client requests (\d+), answered (\d+), cache hits (\d+), "
                            r"coalesced (\d+), upstream connections (\d+), upstream requests (\d+)")


def sim_counters(sim):
    m = SIM_COUNTERS.search(sim.stderr)
    assert m, sim.stderr
    return dict(zip(["connections", "requests", "answered", "interrupted", "misrouted"], map(int, m.groups())))


def proxy_counters(text):
    m = PROXY_COUNTERS.findall(text)
    assert m, text
    return dict(zip(["clients", "client_requests", "answered", "cache_hits", "coalesced", "upstream_connections",
                     "upstream_requests"], map(int, m[-1])))


def read_direct(port, name):
    rc, out, err = rctlib.rctclient("read-value", "--host", "127.0.0.1", "--port", port, "--name", name, timeout=30)
    assert rc == 0, err
    return out.strip()


class Proxy:
    """`sunwire rct proxy` in front of the simulator on port `upstream`, on a free loopback port."""

    def __init__(self, upstream, *extra):
        self.tmp = tempfile.TemporaryDirectory()
        pf = os.path.join(self.tmp.name, "port")
        self.errpath = os.path.join(self.tmp.name, "stderr")
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen([BIN, "rct", "proxy", "--host", "127.0.0.1", "--port", str(upstream),
                                      "--listen", "127.0.0.1:0", "--port-file", pf] + [str(a) for a in extra],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        ok = runlib.wait_until(lambda: runlib._read_text(pf), 10)
        if not ok:
            self.stop()
            raise RuntimeError("proxy did not start: " + self.stderr())
        self.port = int(ok)

    def stderr(self):
        with open(self.errpath, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM, wait; returns everything it wrote to stderr (exit status in self.status)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.status = self.proc.returncode
        self.err.close()
        text = self.stderr()
        self.tmp.cleanup()
        return text


def run_all(fn, args):
    """fn(arg) for each arg, all at once on threads of their own; returns when all are done."""
    threads = [threading.Thread(target=fn, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)


def rctclient_loops(port, objects, runs):
    """One thread per object, each running `rctclient read-value` `runs` times; returns [(name, rc, out, err)]."""
    results = []
    lock = threading.Lock()

    def loop(name):
        for _ in range(runs):
            p = subprocess.run(rctclient_bin() + ["read-value", "--host", "127.0.0.1", "--port", str(port),
                                                  "--name", name], capture_output=True, text=True, timeout=60)
            with lock:
                results.append((name, p.returncode, p.stdout.strip(), p.stderr))

    run_all(loop, objects)
    return results


def naive_clients(port, oids, rounds):
    """Raw clients that take the first frame they get as their answer, as simple scripts do.
    Returns counts: ok, crossed (another object), cut (payload not 4 bytes), none (nothing in time)."""
    counts = {"ok": 0, "crossed": 0, "cut": 0, "none": 0}
    lock = threading.Lock()
    start = threading.Barrier(len(oids))

    def client(oid):
        s = connect(port)
        buf = bytearray()
        try:
            start.wait(5)
            for _ in range(rounds):
                s.sendall(frame(0x01, oid))
                got = None
                deadline = time.monotonic() + 0.6
                while got is None and time.monotonic() < deadline:
                    s.settimeout(max(0.01, deadline - time.monotonic()))
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        break
                    if not chunk:
                        break
                    buf += chunk
                    frames = parse_frames(bytes(buf))
                    if frames:
                        got = frames[0]
                        buf.clear()
                with lock:
                    if got is None:
                        counts["none"] += 1
                    elif got[1] != oid:
                        counts["crossed"] += 1
                    elif len(got[2]) != 4:
                        counts["cut"] += 1
                    else:
                        counts["ok"] += 1
                buf.clear()
        finally:
            s.close()

    run_all(client, oids)
    return counts


class RctProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with Simulator(*SIM) as ref:
            cls.truth = {n: read_direct(ref.port, n) for n in set(LOOP_OBJECTS) | {"battery.soc_target"}}

    def check_answers(self, results, runs):
        self.assertEqual(len(results), runs)
        for name, rc, out, err in results:
            self.assertEqual(rc, 0, "%s: %s" % (name, err))
            self.assertEqual(out, self.truth[name], name)

    def test_five_clients_and_the_daemon_share_one_connection(self):
        faults = ["--fault-truncate", "0.15", "--fault-foreign", "0.15", "--fault-delay", "0.1",
                  "--delay-ms", "50", "--fault-drop", "0.03"]
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        with Simulator(*SIM, *faults, "--counters") as sim:
            cfg = os.path.join(tmp.name, "run.ini")
            with open(cfg, "w", encoding="utf-8") as f:
                f.write("[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\ntimeout = 400ms\nretries = 4\n"
                        "proxy = 127.0.0.1:0\nproxy_cache = 2s\n" % sim.port)
            daemon = runlib.Daemon(["--config", cfg, "--json"])
            try:
                m = runlib.wait_until(
                    lambda: re.search(r"RCT proxy listening on 127\.0\.0\.1:(\d+)", daemon.stderr()), 10)
                self.assertTrue(m, daemon.stderr())
                port = int(m.group(1))
                self.assertTrue(daemon.wait_record("inverter", name="house", online=True), daemon.stderr())
                results = rctclient_loops(port, LOOP_OBJECTS, RUNS_PER_LOOP)
                soc = lambda: [r for r in daemon.records("inverter_value") if r["object"] == "battery.soc"]  # noqa: E731
                self.assertTrue(runlib.wait_until(soc, 10), daemon.stderr())
                self.assertEqual(daemon.stop(), 0)
                daemon_err = daemon.stderr()
            finally:
                daemon.close()
        self.check_answers(results, len(LOOP_OBJECTS) * RUNS_PER_LOOP)
        # The daemon polled through the same proxy and got the right value (percent in its outputs).
        for r in soc():
            self.assertAlmostEqual(r["value"], float(self.truth["battery.soc"]) * 100.0, places=3)
        s = sim_counters(sim)
        self.assertEqual(sim.exit_status, 0, sim.stderr)
        self.assertEqual(s["connections"], 1, sim.stderr)
        m = re.search(r"proxy counters: (.*)", daemon_err)
        self.assertTrue(m, daemon_err)
        p = proxy_counters(m.group(1))
        self.assertEqual(p["upstream_connections"], 1)
        # 5 loops + the daemon's poller, the daemon attached once or more.
        self.assertGreaterEqual(p["clients"], len(LOOP_OBJECTS) * RUNS_PER_LOOP + 1)
        self.assertGreaterEqual(p["client_requests"], len(LOOP_OBJECTS) * RUNS_PER_LOOP)
        self.assertGreater(p["cache_hits"], 0)
        # Fewer requests reached the device than the clients made, retries after faults included.
        self.assertEqual(s["requests"], p["upstream_requests"])
        self.assertLess(s["requests"], p["client_requests"])

    def test_interrupting_device_crosses_answers_without_the_proxy_only(self):
        oids = [SOC, 0x1AC87AA0, 0x400F015B, 0xDB2D69AE, 0x4F735D10]
        with Simulator(*SIM, "--interrupt-concurrent", "--answer-ms", "40", "--counters") as sim:
            direct = naive_clients(sim.port, oids, 12)
        s = sim_counters(sim)
        self.assertGreater(s["interrupted"], 0, sim.stderr)
        self.assertGreater(direct["crossed"] + direct["cut"], 0, direct)

        with Simulator(*SIM, "--interrupt-concurrent", "--answer-ms", "40", "--counters") as sim:
            proxy = Proxy(sim.port, "--cache", "0")
            try:
                via = naive_clients(proxy.port, oids, 12)
                results = rctclient_loops(proxy.port, LOOP_OBJECTS, 3)
            finally:
                text = proxy.stop()
        s = sim_counters(sim)
        self.assertEqual(proxy.status, 0, text)
        self.assertEqual(via, {"ok": 60, "crossed": 0, "cut": 0, "none": 0}, text)
        self.check_answers(results, len(LOOP_OBJECTS) * 3)
        self.assertEqual(s["interrupted"], 0, sim.stderr)
        self.assertEqual(s["connections"], 1)
        p = proxy_counters(text)
        self.assertEqual(p["upstream_connections"], 1)
        self.assertEqual(p["cache_hits"], 0)
        self.assertEqual(p["upstream_requests"], s["requests"])
        self.assertLessEqual(s["requests"], p["client_requests"])

    def write_and_read(self, port):
        """Write 0.25 to battery.soc_target, then read it, on one connection; returns (write answers, value)."""
        s = connect(port)
        try:
            s.sendall(frame(0x02, SOC_TARGET, struct.pack(">f", 0.25)))
            s.settimeout(1.0)
            got = b""
            try:
                got = s.recv(65536)
            except socket.timeout:
                pass
            answers = parse_frames(got)
            s.sendall(frame(0x01, SOC_TARGET))
            back = rctlib.read_frames(s, 1, timeout=5)
            self.assertEqual(len(back), 1)
            self.assertEqual(back[0][1], SOC_TARGET)
            return answers, struct.unpack(">f", back[0][2])[0]
        finally:
            s.close()

    def test_writes_refused_by_default_and_allowed_by_address(self):
        before = float(self.truth["battery.soc_target"])
        with Simulator(*SIM, "--counters") as sim:
            proxy = Proxy(sim.port)
            try:
                answers, value = self.write_and_read(proxy.port)
            finally:
                text = proxy.stop()
            # Refused: no answer at all, the value unchanged, the connection still served the read.
            self.assertEqual(proxy.status, 0, text)
            self.assertEqual(answers, [])
            self.assertAlmostEqual(value, before, places=5)
            self.assertIn("refused a write of battery.soc_target (0x8B9FF008) from 127.0.0.1:", text)
            self.assertIn("--allow-write 127.0.0.1", text)
            self.assertRegex(text, r"refused writes 1\b")

            proxy = Proxy(sim.port, "--allow-write", "127.0.0.1")
            try:
                answers, value = self.write_and_read(proxy.port)
            finally:
                text = proxy.stop()
            self.assertEqual(proxy.status, 0, text)
            self.assertEqual(len(answers), 1, text)
            self.assertEqual(answers[0][1], SOC_TARGET)
            self.assertAlmostEqual(struct.unpack(">f", answers[0][2])[0], 0.25, places=5)
            # The write emptied the cache: the read shows the new value.
            self.assertAlmostEqual(value, 0.25, places=5)
            self.assertRegex(text, r"writes 1, refused writes 0\b")
        self.assertRegex(sim.stderr, r"writes 1,")

    def test_lost_answers_leave_the_connection_usable(self):
        # Half the answers are lost and the proxy does not retry: a request either gets its
        # right answer or nothing, and the next request on the same connection is served.
        with Simulator(*SIM, "--fault-drop", "0.5", "--counters") as sim:
            proxy = Proxy(sim.port, "--retries", "0", "--timeout", "150", "--cache", "0")
            outcomes = []
            try:
                s = connect(proxy.port)
                try:
                    for i in range(12):
                        # an unknown object id is not forwarded: no answer, nothing else disturbed
                        oid = 0x12345678 if i == 5 else SOC
                        s.sendall(frame(0x01, oid))
                        got = b""
                        s.settimeout(0.6)
                        try:
                            got = s.recv(65536)
                        except socket.timeout:
                            pass
                        frames = parse_frames(got)
                        self.assertLessEqual(len(frames), 1)
                        if i == 5:
                            self.assertEqual(frames, [])
                            continue
                        if frames:
                            self.assertEqual(frames[0][:2], (0x05, SOC))
                            self.assertAlmostEqual(struct.unpack(">f", frames[0][2])[0],
                                                   float(self.truth["battery.soc"]), places=5)
                        outcomes.append(bool(frames))
                finally:
                    s.close()
            finally:
                text = proxy.stop()
        self.assertEqual(proxy.status, 0, text)
        self.assertIn(True, outcomes)
        self.assertIn(False, outcomes)
        # an answer came after a lost one on the same connection
        self.assertIn(True, outcomes[outcomes.index(False):], outcomes)
        self.assertRegex(text, r"ignored 1\b")
        self.assertRegex(text, r"upstream failed %d\b" % outcomes.count(False))

    def test_options_refused(self):
        for args, what in ((["--listen", "example.org:1"], "--listen"), (["--allow-write", "host.lan"], "--allow-write"),
                           (["--cache-object", "no.such=5"], "--cache-object")):
            rc, _, err = rctlib.rct("proxy", "--host", "127.0.0.1", *args)
            self.assertEqual(rc, 2, err)
            self.assertIn(what, err)


if __name__ == "__main__":
    unittest.main()
