"""`sunwire demo`: the simulators and the daemon in one process.

Started the way a newcomer starts it (plus a data directory and a port so the
test can look), it must put panel and inverter data into the SQLite history
and on /metrics within seconds, show the summary on stdout, and stop cleanly
on Ctrl-C with exit code 0, leaving no process and no listening port behind.
"""
import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.request

BIN = os.environ.get("SUNWIRE_BIN", "")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def metric_values(text, name):
    return [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line.startswith(name + "{") or line.startswith(name + " ")]


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Demo(unittest.TestCase):
    def start(self, *args):
        env = dict(os.environ)
        env["SUNWIRE_LOG"] = "warn"
        env["TZ"] = "UTC"
        p = subprocess.Popen([BIN, "demo", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

        def cleanup():
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        self.addCleanup(cleanup)
        return p

    def read_until(self, p, pattern, seconds):
        """Read stdout until pattern matches the text so far; returns (match, text)."""
        text, deadline = "", time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                text += chunk.decode(errors="replace")
            m = re.search(pattern, text)
            if m:
                return m, text
        return None, text

    def test_data_reaches_history_and_metrics_and_ctrl_c_is_clean(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        port = free_port()
        # a midsummer late morning at 30x: panels report from the first seconds
        started = time.monotonic()
        p = self.start("--data-dir", d.name, "--http-port", str(port), "--speed", "30",
                       "--start", "2025-06-21T09:00:00Z", "--seed", "4")
        m, text = self.read_until(p, r"dashboard\s+http://127\.0\.0\.1:(\d+)/", 20)
        self.assertIsNotNone(m, text)
        self.assertEqual(int(m.group(1)), port)
        self.assertRegex(text, r"metrics\s+http://127\.0\.0\.1:%d/metrics" % port)
        bus = re.search(r"Tigo bus\s+127\.0\.0\.1:(\d+)", text)
        inv = re.search(r"RCT inverter\s+127\.0\.0\.1:(\d+)", text)
        self.assertTrue(bus and inv, text)
        bus_port, inv_port = int(bus.group(1)), int(inv.group(1))

        # /metrics: twenty panels with power, and the inverter's battery
        deadline, powers, soc = time.monotonic() + 30, [], []
        while time.monotonic() < deadline:
            try:
                t = metrics(port)
            except OSError:
                time.sleep(0.3)
                continue
            powers = [v for v in metric_values(t, "sunwire_panel_power_watts") if v > 0]
            soc = metric_values(t, "sunwire_inverter_ratio")
            if len(powers) == 20 and soc:
                break
            time.sleep(0.5)
        self.assertEqual(len(powers), 20)
        self.assertTrue(all(v < 500 for v in powers), powers)  # 400 W panels
        self.assertTrue(soc)

        # the summary names both strings and the inverter with real numbers
        m, text2 = self.read_until(p, r"inverter\s+pv\s+\d+ W", 20)
        self.assertIsNotNone(m, text + text2)
        summary = text + text2
        self.assertRegex(summary, r"east .* 10/10 online")
        self.assertRegex(summary, r"west .* 10/10 online")

        # the SQLite history holds panel readings with the simulated barcodes and inverter values
        db = os.path.join(d.name, "history.db")
        deadline, rows = time.monotonic() + 30, 0
        while time.monotonic() < deadline:
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
                try:
                    rows = con.execute("select count(*) from panel_readings").fetchone()[0]
                    inv_rows = con.execute("select count(*) from inverter_values").fetchone()[0]
                finally:
                    con.close()
                if rows >= 20 and inv_rows > 0:
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.5)
        self.assertGreaterEqual(rows, 20)
        self.assertGreater(inv_rows, 0)

        # readings carry simulated time: they lie on the simulated day (2025-06-21, from
        # 09:00Z) and span far more than the real seconds that passed, at 30x
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            lo, hi = con.execute("select min(ts_ns), max(ts_ns) from panel_readings").fetchone()
        finally:
            con.close()
        day_start = 1750496400 * 10**9  # 2025-06-21T09:00:00Z
        self.assertGreaterEqual(lo, day_start - 600 * 10**9)
        self.assertLess(hi, day_start + 12 * 3600 * 10**9)
        real_elapsed = time.monotonic() - started
        # wall-clock stamps could span at most real_elapsed seconds
        self.assertGreater((hi - lo) / 1e9, 2 * real_elapsed)

        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("demo did not stop on SIGINT")
        self.assertEqual(rc, 0, p.stderr.read().decode(errors="replace"))
        for q in (port, bus_port, inv_port):
            self.assertFalse(port_open(q), q)
        # the data directory was given, so it stays
        self.assertTrue(os.path.exists(db))

    def test_temporary_directory_is_removed_and_sunrise_comes_quickly(self):
        port = free_port()
        p = self.start("--http-port", str(port))
        m, text = self.read_until(p, r"history\s+(\S+)/history\.db", 20)
        self.assertIsNotNone(m, text)
        tmp = m.group(1)
        self.assertTrue(os.path.isdir(tmp))
        # by default the day starts shortly before sunrise: panels come online within a minute
        m, more = self.read_until(p, r"panels ([1-9]\d*)/20 online", 60)
        self.assertIsNotNone(m, text)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=20), 0)
        self.assertFalse(os.path.exists(tmp))

    def test_tty_summary_redraws_in_place(self):
        import pty
        master, slave = pty.openpty()
        env = dict(os.environ)
        env["SUNWIRE_LOG"] = "warn"
        p = subprocess.Popen([BIN, "demo", "--http-port", str(free_port()), "--speed", "30",
                              "--start", "2025-06-21T09:00:00Z"], stdout=slave, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, env=env)
        os.close(slave)

        def cleanup():
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(master)
        self.addCleanup(cleanup)
        out, deadline = b"", time.monotonic() + 20
        # three redraws: each moves the cursor up over the previous summary and clears its lines
        while time.monotonic() < deadline and out.count(b"\x1b[5A") < 2:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
        self.assertGreaterEqual(out.count(b"\x1b[5A"), 2, out[-400:])
        self.assertIn(b"\r\x1b[K", out)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=20), 0)

    def test_bad_options(self):
        for args in (["--speed", "0"], ["--start", "tomorrow"], ["--firmware", "5"], ["--bogus"]):
            r = subprocess.run([BIN, "demo", *args], capture_output=True, timeout=20)
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr)
        r = subprocess.run([BIN, "demo", "--help"], capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--speed", r.stdout)


if __name__ == "__main__":
    unittest.main()
