#!/usr/bin/env python3
"""Small bad inputs that used to overflow, print "(null)", stay silent or mislead.

Each case runs the real program and checks the exit status and that the message
names what was wrong (see docs/reliability.md, "Bad input").
"""
import os
import subprocess
import tempfile
import unittest

import faultlib as fl


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run(*args, **kw):
    r = fl.run(*args, timeout=kw.pop("timeout", 20), **kw)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


class TimeOverflow(unittest.TestCase):
    """Times beyond int64 nanoseconds (2262-04-11) wrapped to 1702 or 1816, or tripped UBSan."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "none.db")

    def tearDown(self):
        self.tmp.cleanup()

    def test_history_range(self):
        for flag, value in (("--to", "@9999999999"), ("--from", "9999-12-31T23:59Z"),
                            ("--from", "2262-04-12"), ("--from", "-99999999w"), ("--from", "-9999999999999999999999s")):
            with self.subTest(value=value):
                rc, out, err = run("history", "--db", self.db, flag, value)
                self.assertEqual(rc, 2, err)
                self.assertIn("%s: '%s' is outside the times sunwire can hold" % (flag, value), err)
                self.assertNotRegex(err + out, r"17\d\d-|18\d\d-")

    def test_history_yesterday_is_a_time(self):
        rc, out, err = run("history", "--db", self.db, "--from", "yesterday", "--to", "today")
        self.assertNotIn("as a time", err)
        self.assertIn("cannot read %s" % self.db, err)  # it got past the times to the missing file

    def test_simulation_start(self):
        for args in (["demo", "--start", "9999-12-31T23:59"],
                     ["tigo", "simulate", "--file", os.devnull, "--duration", "1", "--start", "2300-01-01T00:00Z"],
                     ["tigo", "simulate", "--file", os.devnull, "--duration", "1", "--start", "@99999999999999999999"]):
            with self.subTest(args=args):
                rc, out, err = run(*args)
                self.assertEqual(rc, 2, err)
                self.assertIn("is outside 1970-01-01 .. 2199-12-31 UTC", err)
        rc, out, err = run("tigo", "simulate", "--file", os.devnull, "--duration", "1", "--start", "soon")
        self.assertEqual(rc, 2, err)
        self.assertIn("cannot be read as a time", err)


class Messages(unittest.TestCase):
    def test_history_filter_names_the_chosen_table(self):
        rc, out, err = run("history", "--db", "none.db", "--inverter", "inverter", "--panel", "E1")
        self.assertEqual(rc, 2, err)
        self.assertNotIn("(null)", err)
        self.assertIn("--panel applies to the panels and performance tables, not the inverter table (chosen by --inverter)", err)

    def test_rct_decode_says_why_nothing_came_out(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = write(tmp, "dump.txt", "this is not hex at all\n")
            rc, out, err = run("rct", "decode", path)
            self.assertEqual((rc, out), (1, ""))
            self.assertIn("No RCT frame found in %s" % path, err)
            self.assertIn("not hex text", err)
            rc, out, err = run("rct", "decode", tmp)
            self.assertEqual((rc, out), (1, ""))
            self.assertIn("Cannot read %s: Is a directory" % tmp, err)

    def test_demo_arguments(self):
        rc, out, err = run("demo", "extra-arg")
        self.assertEqual(rc, 2)
        self.assertIn("unexpected argument 'extra-arg'", err)
        rc, out, err = run("demo", "--bogus")
        self.assertEqual(rc, 2)
        self.assertIn("unknown option '--bogus'", err)
        rc, out, err = run("demo", "--seed", "99999999999999999999999")
        self.assertEqual(rc, 2)
        self.assertIn("invalid value for --seed", err)

    def test_output_section_named_once(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = write(tmp, "run.ini", "[tigo roof]\ntcp = 127.0.0.1\n[http]\ndashboard = maybe\n")
            rc, out, err = run("run", "--config", path, "--check")
        self.assertEqual(rc, 2, err)
        self.assertIn("run.ini:4: [http] dashboard: 'maybe'", err)
        self.assertNotIn("[http] [http]", err)

    def test_ipv6_dashboard_url_has_brackets(self):
        env = fl.quiet_env(SUNWIRE_LOG="info")
        with fl.sunwire("run", "--tigo-tcp", "127.0.0.1:1", "--http", "[::1]:0", env=env) as d:
            m = d.wait_line(r"dashboard on (http://\S+)", err=True)
            url = m.group(1)
        self.assertRegex(url, r"^http://\[::1\]:\d+/$")


class MessagesNameWhatFailed(unittest.TestCase):
    """Messages that named no address or path, or gave an unrelated reason."""

    def test_history_db_is_a_directory(self):
        with tempfile.TemporaryDirectory() as tmp:
            rc, out, err = run("history", "--db", tmp)
            self.assertEqual(rc, 1)
            self.assertIn("cannot read %s: it is a directory" % tmp, err)
            missing = os.path.join(tmp, "none.db")
            rc, out, err = run("history", "--db", missing)
            self.assertIn("cannot read %s: No such file or directory" % missing, err)

    def test_tigo_state_file_is_a_directory(self):
        src = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
        demo = os.path.join(src, "data", "demo", "tigo-demo.pcapng")
        with tempfile.TemporaryDirectory() as tmp:
            rc, out, err = run("tigo", "observe", "--file", demo, "--state-file", tmp)
        self.assertEqual(rc, 1)
        self.assertIn("cannot read state file %s: it is a directory" % tmp, err)
        self.assertNotIn("Invalid argument", err)

    def test_listen_failure_names_the_address(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            for flag in ("--http", "--prometheus"):
                with self.subTest(flag=flag):
                    rc, out, err = run("run", "--tigo-tcp", "127.0.0.1:1", flag, "127.0.0.1:%d" % port)
                    self.assertEqual(rc, 1, err)
                    self.assertIn("cannot listen on 127.0.0.1:%d: Address already in use" % port, err)



class PeerHangsUp(unittest.TestCase):
    """A device that hangs up was reported as silent ("No answer ... 2000 ms each" after 0.8 s)."""

    def serve(self, reset):
        import socket
        import struct
        import threading
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        stop = threading.Event()

        def accept():
            while not stop.is_set():
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                if reset:  # SO_LINGER 0: close() sends RST instead of FIN
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()

        th = threading.Thread(target=accept)
        th.start()

        def done():
            stop.set()
            srv.shutdown(socket.SHUT_RDWR)
            srv.close()
            th.join()
        self.addCleanup(done)
        return srv.getsockname()[1]

    def read_each(self, port):
        """Yield the stderr of `read-value` by both personas; each must fail with exit 1 and no output."""
        for cmd in ("rct", "rctclient"):
            with self.subTest(cmd=cmd):
                rc, out, err = run(cmd, "read-value", "-h", "127.0.0.1", "-p", port, "-n", "battery.soc")
                self.assertEqual((rc, out), (1, ""))
                yield err

    def test_peer_closes_at_once(self):
        port = self.serve(reset=False)
        for err in self.read_each(port):
            self.assertIn("127.0.0.1:%d" % port, err)
            # The kernel may turn our request to a closed socket into a reset; both say the peer hung up.
            self.assertRegex(err, r"the peer closed the connection \(4 attempts\)|"
                                  r"\[Errno 104\] Connection reset by peer|\[Errno 32\] Broken pipe")
            self.assertNotIn("ms each", err)

    def test_peer_resets(self):
        port = self.serve(reset=True)
        for err in self.read_each(port):
            self.assertIn("[Errno 104] Connection reset by peer", err)
            self.assertNotIn("refused", err)
            self.assertNotIn("ms each", err)

    def test_empty_host_name(self):
        for cmd in ("rct", "rctclient"):
            with self.subTest(cmd=cmd):
                rc, out, err = run(cmd, "read-value", "-h", "", "-n", "battery.soc")
                self.assertEqual(rc, 1, err)
                self.assertIn("the host name is empty", err)
                self.assertNotIn("No route to host", err)


class OpenFailuresSayWhy(unittest.TestCase):
    """Tigo sources said "could not open the file or device" with the reason in brackets or not at all."""

    def test_serial_and_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            missing = os.path.join(tmp, "ttyUSB9")
            for flag, what in (("--serial", "serial port"), ("--file", "file")):
                with self.subTest(flag=flag):
                    p = fl.sunwire("tigo", "observe", flag, missing, "--reconnect-retry", "1",
                                   env=fl.quiet_env(SUNWIRE_LOG="info"))
                    with p:
                        p.wait_line(r"cannot open", err=True)
                    err = "\n".join(p.lines(True))
                    self.assertIn("cannot open %s %s: No such file or directory" % (what, missing), err)
                    self.assertNotIn("could not open the file or device", err)

class JsonReaderGone(unittest.TestCase):
    """`run --json` used to keep running silently when nobody could read its output."""

    def finish(self, p, before=None):
        """Run before(p), then wait for the exit; the process never outlives the test."""
        try:
            if before:
                before(p)
            _, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return p.returncode, err

    def test_stdout_closed(self):
        p = subprocess.Popen([fl.BIN, "run", "--tigo-tcp", "127.0.0.1:1", "--json"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=fl.quiet_env(), preexec_fn=lambda: os.close(1))
        rc, err = self.finish(p)
        self.assertEqual(rc, 1, err)
        self.assertIn(b"cannot write to standard output: Bad file descriptor", err)

    def test_reader_leaves_like_head(self):
        def read_one_line_and_leave(p):
            self.assertTrue(p.stdout.readline().startswith(b"{"))
            p.stdout.close()  # what `| head -1` does after its line

        with tempfile.TemporaryDirectory() as tmp, fl.RctSim("--speed", 0) as sim:
            cfg = write(tmp, "run.ini", "[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 200ms\n" % sim.port)
            p = subprocess.Popen([fl.BIN, "run", "--config", cfg, "--json"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=fl.quiet_env())
            rc, err = self.finish(p, read_one_line_and_leave)
        self.assertEqual(rc, 1, err)
        self.assertIn(b"cannot write to standard output: Broken pipe", err)

if __name__ == "__main__":
    unittest.main()
