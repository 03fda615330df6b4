"""`sunwire run` as a systemd service, without systemd: a real unix datagram
socket plays the service manager (NOTIFY_SOCKET) and a file plays the journal
(JOURNAL_STREAM names the file stderr goes to)."""
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import runlib
from tigolib import free_port

BIN = runlib.BIN


class FakeBridge:
    """A TCP listener the daemon connects to as a Tigo bridge; it never sends anything."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


class ServiceManager:
    """The notify socket: collects every datagram with the time it came."""

    def __init__(self, tmp, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.name = "@sunwire-test-%d-%d" % (os.getpid(), time.monotonic_ns())
            self.sock.bind("\0" + self.name[1:])
        else:
            self.name = os.path.join(tmp, "notify")
            self.sock.bind(self.name)
        self.sock.settimeout(0.1)
        self.messages = []

    def collect(self, until, timeout=30.0):
        """Read datagrams until until(messages) holds; returns it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if until(self.messages):
                return True
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.messages.append((time.monotonic(), data.decode()))
        return until(self.messages)

    def lines(self):
        return [line for _, m in self.messages for line in m.split("\n")]

    def close(self):
        self.sock.close()


class Notify(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sunwire-systemd-")
        self.addCleanup(self.tmp.cleanup)
        self.bridge = FakeBridge()
        self.addCleanup(self.bridge.close)
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def start(self, manager, extra_env, args=()):
        env = dict(os.environ, SUNWIRE_LOG="info", NOTIFY_SOCKET=manager.name)
        env.pop("WATCHDOG_PID", None)
        env.pop("JOURNAL_STREAM", None)
        env.update(extra_env)
        self.err = tempfile.TemporaryFile(dir=self.tmp.name)
        self.proc = subprocess.Popen([BIN, "run", "--tigo-tcp", "127.0.0.1:%d" % self.bridge.port] + list(args),
                                     stdout=subprocess.DEVNULL, stderr=self.err, env=env)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(15), 0)

    def test_watchdog_of_another_process_is_not_fed(self):
        manager = ServiceManager(self.tmp.name)
        self.addCleanup(manager.close)
        http = free_port()
        self.start(manager, {"WATCHDOG_USEC": "400000", "WATCHDOG_PID": str(0)}, ["--http", "127.0.0.1:%d" % http])
        # WATCHDOG_PID names another process: the watchdog is not ours, but readiness is.
        self.assertTrue(manager.collect(lambda m: any("READY=1" in x for _, x in m)), manager.messages)
        manager.collect(lambda m: False, timeout=0.6)  # three periods of 200 ms
        self.stop()
        self.assertNotIn("WATCHDOG=1", manager.lines())

    def test_ready_means_outputs_serve(self):
        manager = ServiceManager(self.tmp.name)
        self.addCleanup(manager.close)
        http = free_port()
        self.start(manager, {}, ["--http", "127.0.0.1:%d" % http])
        self.assertTrue(manager.collect(lambda m: any("READY=1" in x for _, x in m)), manager.messages)
        # The dashboard accepts a connection the moment systemd is told we are ready.
        with socket.create_connection(("127.0.0.1", http), timeout=2):
            pass
        ready = [x for _, x in manager.messages if "READY=1" in x][0]
        self.assertIn("STATUS=1 Tigo bus(es)", ready)
        self.assertIn("http", ready.split("outputs:")[1])
        self.stop()

    def test_watchdog_is_fed_and_stop_is_announced(self):
        manager = ServiceManager(self.tmp.name, abstract=True)
        self.addCleanup(manager.close)
        self.start(manager, {"WATCHDOG_USEC": "1000000"})
        self.assertTrue(manager.collect(lambda m: sum("WATCHDOG=1" in x for _, x in m) >= 6), manager.messages)
        times = [t for t, x in manager.messages if "WATCHDOG=1" in x]
        gaps = sorted(b - a for a, b in zip(times, times[1:]))
        # Every half period (500 ms), well inside the 1 s deadline (the median:
        # a loaded test machine may delay one datagram's reading, not the rhythm).
        median = gaps[len(gaps) // 2]
        self.assertGreater(median, 0.35, gaps)
        self.assertLess(median, 0.8, gaps)
        self.assertIn("READY=1", manager.lines())
        self.proc.send_signal(signal.SIGHUP)
        self.assertTrue(manager.collect(lambda m: any("RELOADING=1" in x for _, x in m)), manager.messages)
        self.assertTrue(manager.collect(lambda m: sum("READY=1" in x for _, x in m) >= 2), manager.messages)
        reload = [x for _, x in manager.messages if "RELOADING=1" in x][0]
        self.assertRegex(reload, r"MONOTONIC_USEC=\d+")
        self.stop()
        manager.collect(lambda m: False, timeout=0.3)
        self.assertIn("STOPPING=1", manager.lines())
        # STOPPING=1 is the last word: nothing after it claims readiness again.
        last_stop = max(i for i, (_, x) in enumerate(manager.messages) if "STOPPING=1" in x)
        self.assertFalse(any("READY=1" in x for _, x in manager.messages[last_stop:]))

    def test_without_notify_socket_nothing_is_sent(self):
        manager = ServiceManager(self.tmp.name)
        self.addCleanup(manager.close)
        self.start(manager, {"NOTIFY_SOCKET": "", "WATCHDOG_USEC": "200000"})
        # Up (its signal handlers in place) once it has logged its outputs; then a few watchdog periods.
        self.assertTrue(runlib.wait_until(lambda: self.err.seek(0) == 0 and b"outputs:" in self.err.read(),
                                          timeout=30))
        time.sleep(0.6)
        self.assertIsNone(self.proc.poll())
        self.stop()
        manager.collect(lambda m: False, timeout=0.2)
        self.assertEqual(manager.messages, [])


class Journal(unittest.TestCase):
    """Log lines for the journal when JOURNAL_STREAM is stderr, the usual ones otherwise."""

    def run_check(self, journal_stream):
        with tempfile.TemporaryDirectory(prefix="sunwire-journal-") as tmp:
            path = os.path.join(tmp, "stderr")
            with open(path, "w+b") as err:
                st = os.fstat(err.fileno())
                env = dict(os.environ, SUNWIRE_LOG="debug")
                env.pop("NOTIFY_SOCKET", None)
                env["JOURNAL_STREAM"] = journal_stream(st)
                bridge = FakeBridge()
                try:
                    proc = subprocess.Popen([BIN, "run", "--tigo-tcp", "127.0.0.1:%d" % bridge.port],
                                            stdout=subprocess.DEVNULL, stderr=err, env=env)
                    try:
                        runlib.wait_until(lambda: b"outputs:" in open(path, "rb").read(), timeout=30)
                        proc.send_signal(signal.SIGTERM)
                        self.assertEqual(proc.wait(15), 0)
                    finally:
                        if proc.poll() is None:
                            proc.kill()
                            proc.wait(10)
                finally:
                    bridge.close()
            with open(path, encoding="utf-8") as f:
                return [line for line in f.read().split("\n") if line]

    def test_journal_format_when_stderr_is_the_journal(self):
        lines = self.run_check(lambda st: "%d:%d" % (st.st_dev, st.st_ino))
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3-7]>(ERROR|WARN |INFO |DEBUG|TRACE) sunwire::\S+: ", line)
        self.assertTrue(any(line.startswith("<6>INFO  sunwire::run: outputs:") for line in lines), lines)
        self.assertTrue(any(line.startswith("<6>INFO  sunwire::run: signal 15: stopping") for line in lines), lines)
        self.assertFalse(any("Z " in line.split("]")[0] and line.startswith("[") for line in lines), lines)

    def test_usual_format_when_stderr_is_elsewhere(self):
        # Another inode (a wrapper redirected stderr): the reader is no journal.
        for value in (lambda st: "%d:%d" % (st.st_dev, st.st_ino + 1), lambda st: "garbage"):
            lines = self.run_check(value)
            self.assertTrue(lines)
            for line in lines:
                self.assertRegex(line, r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (ERROR|WARN |INFO |DEBUG|TRACE) \S+\] ",
                                 line)


if __name__ == "__main__":
    unittest.main()
