"""`sunwire run` as a process: configuration errors, signals, exit codes, idling."""
import os
import signal
import subprocess
import tempfile
import time
import unittest

import runlib


def run(args, timeout=20):
    return subprocess.run([runlib.BIN, "run"] + args, capture_output=True, text=True, timeout=timeout)


class RunCliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.daemon = None
        self.bridge = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        if self.bridge:
            self.bridge.stop()
        self.tmp.cleanup()

    def conf(self, text, name="sunwire.ini"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_bad_config_names_file_and_line(self):
        cases = [
            ("[general]\nstate_dir = x\n\n[tigo roof]\ntcp = 127.0.0.1\nkeepalive_count = many\n", 6,
             "keepalive_count"),
            ("[tigo roof]\ntcp = 127.0.0.1\n[weather]\n", 3, "unknown section"),
            ("[tigo roof]\ntcp = 127.0.0.1\n\n[influx]\noutput = carrier-pigeon\n", 5, "[influx]"),
            ("[rct inv]\nhost = 127.0.0.1\nobjects = no.such.thing\n", 3, "no.such.thing"),
        ]
        for text, line, needle in cases:
            path = self.conf(text)
            r = run(["--config", path])
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("%s:%d:" % (path, line), r.stderr)
            self.assertIn(needle, r.stderr)
            self.assertEqual(r.stdout, "")

    def test_usage_errors(self):
        r = run(["--no-such-flag"])
        self.assertEqual(r.returncode, 2)
        r = run([])
        self.assertEqual(r.returncode, 2)
        self.assertIn("no source configured", r.stderr)
        r = run(["--config", os.path.join(self.tmp.name, "missing.ini")])
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.ini", r.stderr)
        r = run(["--tigo-tcp", "127.0.0.1:99999"])
        self.assertEqual(r.returncode, 2)
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--tigo-tcp", r.stdout)

    def test_check_only(self):
        path = self.conf("[tigo roof]\ntcp = 127.0.0.1\n[panels]\nmodules = A:a:4-A2346FZ\n")
        r = run(["--config", path, "--check", "--rct", "127.0.0.1"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 Tigo bus(es), 1 inverter(s), 1 mapped panel(s)", r.stdout)

    def _silent_daemon(self, extra=()):
        self.bridge = runlib.TigoBridge([])  # accepts and never sends
        self.daemon = runlib.Daemon(["--tigo-tcp", "127.0.0.1:%d" % self.bridge.port, "--json"] + list(extra))
        self.assertTrue(self.daemon.wait_record("source", connected=True), self.daemon.stderr())

    def test_signals_stop_cleanly(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._silent_daemon(["--state-dir", os.path.join(self.tmp.name, "st")])
            pid = self.daemon.proc.pid
            self.assertEqual(runlib.children_of(pid), [])
            self.assertEqual(self.daemon.stop(sig), 0, self.daemon.stderr())
            self.assertFalse(os.path.exists("/proc/%d" % pid))
            self.assertIn("stopping", self.daemon.stderr())
            self.daemon.close()
            self.daemon = None
            self.bridge.stop()
            self.bridge = None

    def test_idle_daemon_sleeps(self):
        # A connected bus with no traffic and nothing else to do: the process must sleep in
        # poll() until a timer has work (the first one is the 10 s housekeeping tick).
        self._silent_daemon()
        pid = self.daemon.proc.pid
        time.sleep(0.3)  # let start-up settle
        before = runlib.context_switches(pid)
        with open("/proc/%d/stat" % pid, encoding="utf-8") as f:
            cpu_before = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        time.sleep(1.5)
        after = runlib.context_switches(pid)
        with open("/proc/%d/stat" % pid, encoding="utf-8") as f:
            cpu_after = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        self.assertLessEqual(after - before, 3, "the idle daemon woke up %d times" % (after - before))
        self.assertLessEqual(cpu_after - cpu_before, 2)
        self.assertEqual(self.daemon.stop(), 0)
        # The loop's own count agrees: a handful of wakeups for the whole run.
        err = self.daemon.stderr()
        wakeups = int(err.split("stopped after ")[1].split()[0])
        self.assertLess(wakeups, 20, err)

    def test_short_tick_sleeps_without_panels(self):
        # Even a 200 ms housekeeping tick stops waking the process while no panel is online
        # (it then only waits for local midnight or the next report).
        self.bridge = runlib.TigoBridge([])
        path = self.conf("[general]\ntick = 200ms\n[tigo roof]\ntcp = 127.0.0.1:%d\n" % self.bridge.port)
        self.daemon = runlib.Daemon(["--config", path, "--json"])
        self.assertTrue(self.daemon.wait_record("source", connected=True), self.daemon.stderr())
        pid = self.daemon.proc.pid
        time.sleep(0.5)  # the first tick finds nothing online
        before = runlib.context_switches(pid)
        time.sleep(1.5)
        self.assertLessEqual(runlib.context_switches(pid) - before, 2)
        self.assertEqual(self.daemon.stop(), 0)

    def test_unreachable_source_backs_off(self):
        # Nothing listens on this port: attempts come with growing pauses, never in a tight loop.
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        path = self.conf("[tigo dead]\ntcp = 127.0.0.1:%d\nreconnect_delay = 100ms\nreconnect_max = 400ms\n" % port)
        self.daemon = runlib.Daemon(["--config", path, "--json"])
        time.sleep(2.0)
        attempts = self.daemon.records("source", name="dead")
        self.assertEqual(self.daemon.stop(), 0)
        # 100 + 200 + 400 + 400 + 400 ms ... => about 6 attempts in 2 s, not hundreds.
        reconnects = attempts[-1]["reconnects"]
        self.assertGreaterEqual(reconnects, 3)
        self.assertLessEqual(reconnects, 8)
        self.assertFalse(attempts[-1]["connected"])
        self.assertIn("refused", attempts[-1]["last_error"])


if __name__ == "__main__":
    unittest.main()
