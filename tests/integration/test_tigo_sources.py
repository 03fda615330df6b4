"""Sources and the reconnect loop: a real pseudo-terminal for --serial, a
loopback server for --tcp (drops, silence, refused connections), files for
--file, with taptap 0.2.0's exit codes."""
import ctypes
import os
import pty
import random
import re
import subprocess
import tempfile
import time
import tty
import unittest

import tigolib as tl

PEEK = tl.load_vectors("peek_output_examples.json")
STREAM = bytes.fromhex(PEEK["peek_bytes"]["input_hex"])


_libc = ctypes.CDLL(None, use_errno=True)
PR_CAPBSET_DROP = 24
CAP_SYS_ADMIN = 21


def without_sys_admin():
    """In a child before exec: as root, drop CAP_SYS_ADMIN, which may open an exclusive tty."""
    if os.geteuid() == 0 and _libc.prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


# taptap names these frame types; others print as Type(0x..).
TAPTAP_FRAME_NAMES = {
    0x0006: "ENUMERATION_END_RESPONSE", 0x000A: "VERSION_REQUEST", 0x000B: "VERSION_RESPONSE",
    0x0014: "ENUMERATION_START_REQUEST", 0x0015: "ENUMERATION_START_RESPONSE", 0x0038: "ENUMERATION_REQUEST",
    0x0039: "ENUMERATION_RESPONSE", 0x003A: "IDENTIFY_REQUEST", 0x003B: "IDENTIFY_RESPONSE",
    0x003C: "ASSIGN_GATEWAY_ID_REQUEST", 0x003D: "ASSIGN_GATEWAY_ID_RESPONSE", 0x0148: "RECEIVE_REQUEST",
    0x0149: "RECEIVE_RESPONSE", 0x0B00: "PING_REQUEST", 0x0B01: "PING_RESPONSE", 0x0B0F: "COMMAND_REQUEST",
    0x0B10: "COMMAND_RESPONSE", 0x0E02: "ENUMERATION_END_REQUEST",
}
ESCAPED = (0x7E, 0x24, 0x23, 0x25, 0xA4, 0xA3, 0xA5)  # sent as 7E 00 .. 7E 06
ESCAPE_DENSE = bytes(range(0xE0)) + bytes(ESCAPED[v % 7] for v in range(0xE0, 0x100))
MAX_PAYLOAD = 250  # 256 body bytes less address, type and CRC


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x8408 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def encode_frame(addr, ftype, payload):
    """A link frame: 7E 07, escaped body (address, type, payload, CRC-16 low byte first), 7E 08."""
    body = bytes((addr >> 8, addr & 0xFF, ftype >> 8, ftype & 0xFF)) + payload
    crc = 0x8408
    for b in body:
        crc = (crc >> 8) ^ CRC_TABLE[(crc ^ b) & 0xFF]
    body += bytes((crc & 0xFF, crc >> 8))
    out = body.replace(b"\x7e", b"\x7e\x00")
    for code, b in enumerate(ESCAPED[1:], 1):
        out = out.replace(bytes((b,)), bytes((0x7E, code)))
    return b"\x7e\x07" + out + b"\x7e\x08"


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class SerialPty(unittest.TestCase):
    def setUp(self):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.taptap = tl.taptap_path()

    def tearDown(self):
        for fd in (self.slave, self.master):
            if fd is not None:
                os.close(fd)

    def _run(self, sub, *extra):
        p = tl.Proc([self.taptap, sub, "--serial", self.path] + list(extra))
        self.addCleanup(p.stop)
        self.assertTrue(p.wait_for("err", b"opened serial port"), p.stderr_text())
        return p

    def test_peek_bytes_byte_by_byte(self):
        p = self._run("peek-bytes")
        # One byte per write: the 7E/08 newline rule must survive any chunking.
        for b in STREAM:
            os.write(self.master, bytes([b]))
        expected = PEEK["peek_bytes"]["expected_stdout"].encode()
        self.assertTrue(p.wait_for("out", expected), p.stdout_text())
        self.assertEqual(p.stdout_text(), expected.decode())

    def test_peek_frames(self):
        p = self._run("peek-frames")
        os.write(self.master, STREAM)
        lines = PEEK["peek_frames"]["expected_lines"]
        self.assertTrue(p.wait_for("out", lines[-1].encode()), p.stdout_text())
        self.assertEqual(p.stdout_text().splitlines(), lines)

    def test_raw_passthrough(self):
        p = self._run("peek-bytes", "--raw")
        os.write(self.master, STREAM)
        self.assertTrue(p.wait_for("out", STREAM[-8:]))
        self.assertEqual(bytes(p.out), STREAM)

    def test_exclusive_open(self):
        p = self._run("peek-bytes")
        # A second reader of the same port is refused (TIOCEXCL) and, with one retry, gives up with 2.
        # Root may open an exclusive tty anyway (CAP_SYS_ADMIN), so as root the second reader runs
        # without that capability, as an ordinary user would.
        argv = [self.taptap, "peek-bytes", "--serial", self.path, "--reconnect-retry", "1",
                "--reconnect-delay", "0"]
        r = subprocess.run(argv, capture_output=True, timeout=30, env=tl.quiet_env(),
                           preexec_fn=without_sys_admin)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"busy", r.stderr)
        p.stop()
        # The same reader opens a port nobody holds (a fresh pty: the exclusive flag stays on this
        # one while the test keeps its slave open): it was refused for being second, not for
        # lacking a permission.
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        q = tl.Proc([self.taptap, "peek-bytes", "--serial", os.ttyname(slave)], preexec_fn=without_sys_admin)
        self.addCleanup(q.stop)
        self.assertTrue(q.wait_for("err", b"opened serial port"), q.stderr_text())

    def test_unplugged_adapter(self):
        # Closing the master is what an unplugged USB adapter looks like: a read error, then the
        # device is gone, so reopening fails; with --reconnect-retry 1 that ends with exit 2.
        p = self._run("peek-bytes", "--reconnect-retry", "1", "--reconnect-delay", "0")
        os.write(self.master, STREAM[:18])
        self.assertTrue(p.wait_for("out", b"7E 08\n"))
        os.close(self.slave)
        os.close(self.master)
        self.slave = self.master = None
        self.assertEqual(p.wait(20), 2, p.stderr_text())
        err = p.stderr_text()
        self.assertRegex(err, r"ERROR taptap\] error reading serial port")
        self.assertIn("cannot open serial port", err)

    def test_not_a_tty(self):
        r = tl.run([self.taptap, "peek-bytes", "--serial", os.devnull, "--reconnect-retry", "1",
                    "--reconnect-delay", "0"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"not a serial port", r.stderr)


class Tcp(unittest.TestCase):
    def setUp(self):
        self.taptap = tl.taptap_path()

    def server(self, sessions, close=True):
        s = tl.BusServer(sessions, close=close)
        self.addCleanup(s.stop)
        return s

    def test_reconnect_keeps_partial_frame(self):
        # The second frame is cut in the middle; the rest arrives on the next connection.
        cut = 30
        srv = self.server([[(0, STREAM[:cut])], [(0, STREAM[cut:])]])
        p = tl.Proc([self.taptap, "peek-frames", "--tcp", "127.0.0.1", "--port", str(srv.port),
                     "--reconnect-delay", "1"])
        self.addCleanup(p.stop)
        lines = PEEK["peek_frames"]["expected_lines"]
        self.assertTrue(p.wait_for("out", lines[-1].encode(), timeout=15), p.stderr_text())
        self.assertEqual(p.stdout_text().splitlines(), lines)
        self.assertGreaterEqual(srv.accepted, 2)
        # --reconnect-delay 1: the second connection came at least a second after the first.
        self.assertGreaterEqual(srv.accept_times[1] - srv.accept_times[0], 0.9)
        self.assertIn("closed the connection", p.stderr_text())
        self.assertIsNone(p.p.poll(), "EOF must reconnect, not exit")

    def test_eof_never_counts_as_retry(self):
        frame = STREAM[:18]
        srv = self.server([[(0, frame)]] * 4)
        p = tl.Proc([self.taptap, "peek-bytes", "--tcp", "127.0.0.1", "--port", str(srv.port),
                     "--reconnect-retry", "1", "--reconnect-delay", "0"])
        self.addCleanup(p.stop)
        deadline = time.monotonic() + 10
        while srv.accepted < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(srv.accepted, 4)
        self.assertIsNone(p.p.poll())

    def test_open_failure_exit_2(self):
        port = tl.free_port()
        t0 = time.monotonic()
        r = tl.run([self.taptap, "peek-bytes", "--tcp", "127.0.0.1", "--port", str(port),
                    "--reconnect-retry", "2", "--reconnect-delay", "1"])
        elapsed = time.monotonic() - t0
        self.assertEqual(r.returncode, 2, r.stderr)
        err = r.stderr.decode()
        # Three attempts (the first plus two retries), two pauses of one second.
        self.assertEqual(len(re.findall(r"ERROR .*cannot open tcp 127\.0\.0\.1", err)), 3, err)
        self.assertIn("retry 1/2", err)
        self.assertIn("retry 2/2", err)
        self.assertGreaterEqual(elapsed, 1.8)
        self.assertEqual(r.stdout, b"")

    def test_every_bus_subcommand_shares_the_loop(self):
        port = tl.free_port()
        for sub in ("observe", "peek-frames", "peek-activity", "record"):
            extra = ["--out", os.devnull] if sub == "record" else []
            r = tl.run([self.taptap, sub, "--tcp", "127.0.0.1", "--port", str(port), "--reconnect-retry", "1",
                        "--reconnect-delay", "0"] + extra)
            self.assertEqual(r.returncode, 2, (sub, r.stderr))
        srv = self.server([[]] * 3, close=False)
        r = tl.run([self.taptap, "observe", "--tcp", "127.0.0.1", "--port", str(srv.port),
                    "--reconnect-timeout", "1", "--reconnect-retry", "1", "--reconnect-delay", "0"], timeout=30)
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_idle_timeout_exit_3(self):
        # The server accepts and then says nothing: the fork cannot notice this; sunwire must.
        srv = self.server([[]] * 5, close=False)
        t0 = time.monotonic()
        r = tl.run([self.taptap, "peek-bytes", "--tcp", "127.0.0.1", "--port", str(srv.port),
                    "--reconnect-timeout", "1", "--reconnect-retry", "1", "--reconnect-delay", "0"], timeout=30)
        elapsed = time.monotonic() - t0
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(srv.accepted, 2)
        self.assertGreaterEqual(elapsed, 1.8)
        self.assertEqual(len(re.findall(r"WARN .*no data from tcp", r.stderr.decode())), 2)

    def test_idle_timeout_reconnects_and_recovers(self):
        # Silence on the first connection, data on the second: the run goes on.
        srv = self.server([[(0, b"")], [(0, STREAM)]], close=False)
        p = tl.Proc([self.taptap, "peek-bytes", "--tcp", "127.0.0.1", "--port", str(srv.port),
                     "--reconnect-timeout", "1", "--reconnect-retry", "1", "--reconnect-delay", "0"])
        self.addCleanup(p.stop)
        self.assertTrue(p.wait_for("out", PEEK["peek_bytes"]["expected_stdout"].encode(), timeout=10))
        self.assertEqual(srv.accepted, 2)

    def test_keepalive_applied(self):
        srv = self.server([[]], close=False)
        p = tl.Proc([self.taptap, "peek-bytes", "--tcp", "127.0.0.1", "--port", str(srv.port),
                     "--keepalive-idle", "7", "--keepalive-interval", "3", "--keepalive-count", "4"],
                    env=tl.quiet_env(RUST_LOG="debug"))
        self.addCleanup(p.stop)
        self.assertTrue(p.wait_for("err", b"opened tcp"))
        self.assertIn("tcp keepalive: idle 7 s, interval 3 s, 4 probes", p.stderr_text())
        # The kernel's own view: a keepalive timer no longer than the 7 s idle time (the default is 2 h).
        try:
            ss = subprocess.run(["ss", "-tno", "state", "established", "dport", "= :%d" % srv.port],
                                capture_output=True, text=True, timeout=10).stdout
        except FileNotFoundError:
            self.skipTest("ss not installed")
        m = re.search(r"timer:\(keepalive,([0-9.]+)(ms|sec|min)", ss)
        self.assertIsNotNone(m, ss)
        value = float(m.group(1)) * {"ms": 0.001, "sec": 1, "min": 60}[m.group(2)]
        self.assertLessEqual(value, 7.0)

    def test_unresolvable_host(self):
        r = tl.run([self.taptap, "peek-bytes", "--tcp", "no-such-host.invalid", "--reconnect-retry", "1",
                    "--reconnect-delay", "0"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"could not be resolved", r.stderr)


class Files(unittest.TestCase):
    def setUp(self):
        self.taptap = tl.taptap_path()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir]))

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_raw_file_and_stdin(self):
        path = self.write("raw.bin", STREAM)
        expected = PEEK["peek_bytes"]["expected_stdout"].encode()
        r = tl.run([self.taptap, "peek-bytes", "--file", path])
        self.assertEqual((r.returncode, r.stdout), (0, expected))
        r = tl.run([self.taptap, "peek-bytes", "--file", "-"], input_bytes=STREAM)
        self.assertEqual((r.returncode, r.stdout), (0, expected))

    def test_peek_frames_debug_lines_large_stream(self):
        # taptap's Debug line for every kind of frame: each direction, gateway IDs of one to four
        # hex digits, the 18 named frame types and unnamed ones, payloads of every length with
        # every byte value (escapes included). The stream and the lines are made here,
        # independently of the program.
        rnd = random.Random(1234)
        frames, lines = [], []
        for i in range(12000):
            addr = rnd.choice((0x0001, 0x1201, 0x8001, 0x9201, rnd.randrange(0x10000)))
            ftype = rnd.choice((rnd.choice(list(TAPTAP_FRAME_NAMES)), rnd.randrange(0x10000), rnd.randrange(0x100)))
            n = i % (MAX_PAYLOAD + 1) if i < 2 * (MAX_PAYLOAD + 1) else rnd.randrange(MAX_PAYLOAD + 1)
            payload = rnd.randbytes(n)
            if i & 1:  # escape-dense: E0..FF become the bytes that need escaping
                payload = payload.translate(ESCAPE_DENSE)
            frames.append(encode_frame(addr, ftype, payload))
            name = TAPTAP_FRAME_NAMES.get(ftype)
            lines.append("Frame { address: %s(GatewayID(%#04x)), frame_type: %s, payload: [%s] }" % (
                "From" if addr & 0x8000 else "To", addr & 0x7FFF,
                "Type::" + name if name else "Type(%#04x)" % ftype, ", ".join(str(b) for b in payload)))
        path = self.write("frames.bin", b"\x00\x00".join(frames))
        r = tl.run([self.taptap, "peek-frames", "--file", path], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = r.stdout.decode().splitlines()
        self.assertEqual(len(got), len(lines))
        for g, w in zip(got, lines):
            self.assertEqual(g, w)

    def test_capture_every_chunking(self):
        # The same stream cut into 1-byte packets and into one packet decodes identically.
        expected = "\n".join(PEEK["peek_frames"]["expected_lines"]) + "\n"
        for size in (1, 2, 7, len(STREAM)):
            chunks = [(1724509001686961123 + i, STREAM[i:i + size]) for i in range(0, len(STREAM), size)]
            path = self.write("c%d.pcapng" % size, tl.pcapng_bytes(chunks))
            r = tl.run([self.taptap, "peek-frames", "--file", path])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.decode(), expected, size)

    def test_record_roundtrip(self):
        srv = tl.BusServer([[(0, STREAM[:20]), (0.2, STREAM[20:])]])
        self.addCleanup(srv.stop)
        out = os.path.join(self.dir, "rec.pcapng")
        p = tl.Proc([tl.BIN, "tigo", "record", "--tcp", "127.0.0.1", "--port", str(srv.port), "--out", out])
        self.addCleanup(p.stop)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(out) and sum(len(d) for _, d in tl.pcapng_parse(read_bytes(out))) == len(STREAM):
                break
            time.sleep(0.05)
        p.p.terminate()
        self.assertEqual(p.wait(), 0)
        packets = tl.pcapng_parse(read_bytes(out))
        self.assertEqual(b"".join(d for _, d in packets), STREAM)
        self.assertGreaterEqual(len(packets), 2)
        now = time.time_ns()
        for ts, _ in packets:
            self.assertLess(abs(ts - now), 60 * 10**9)
        r = tl.run([self.taptap, "peek-bytes", "--file", out])
        self.assertEqual(r.stdout, PEEK["peek_bytes"]["expected_stdout"].encode())

    def test_realtime_pacing(self):
        chunks = [(10**18, STREAM[:18]), (10**18 + 2 * 10**9, STREAM[18:])]
        path = self.write("paced.pcapng", tl.pcapng_bytes(chunks))
        t0 = time.monotonic()
        r = tl.run([self.taptap, "peek-bytes", "--file", path, "--realtime"])
        self.assertEqual(r.returncode, 0)
        self.assertGreaterEqual(time.monotonic() - t0, 1.9)
        # Unpaced, the same replay costs only the program's start-up (seconds under a
        # sanitizer on a busy machine): --speed 10 must add about 0.2 s to that, not 2 s.
        t0 = time.monotonic()
        r = tl.run([self.taptap, "peek-bytes", "--file", path])
        self.assertEqual(r.returncode, 0)
        unpaced = time.monotonic() - t0
        t0 = time.monotonic()
        r = tl.run([self.taptap, "peek-bytes", "--file", path, "--speed", "10"])
        self.assertEqual(r.returncode, 0)
        self.assertGreaterEqual(time.monotonic() - t0, 0.18)
        self.assertLess(time.monotonic() - t0 - unpaced, 1.2)
        self.assertEqual(r.stdout, PEEK["peek_bytes"]["expected_stdout"].encode())

    def test_progress_only_on_a_terminal(self):
        chunks = [(10**18 + i * 10**7, STREAM) for i in range(400)]
        path = self.write("long.pcapng", tl.pcapng_bytes(chunks))
        master, slave = pty.openpty()
        p = subprocess.Popen([self.taptap, "peek-bytes", "--file", path, "--speed", "4"],
                             stdout=subprocess.DEVNULL, stderr=slave, env=tl.quiet_env())
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        self.assertEqual(p.wait(30), 0)
        self.assertIn(b"replaying:", seen)
        # A pipe gets no progress text.
        r = tl.run([self.taptap, "peek-bytes", "--file", path, "--speed", "40"])
        self.assertNotIn(b"replaying", r.stderr)

    def test_bad_inputs(self):
        good = tl.pcapng_bytes([(10**18, STREAM)])
        # Truncated inside the packet block: clear error, exit 1, the complete part still decoded.
        r = tl.run([self.taptap, "peek-bytes", "--file", self.write("t.pcapng", good[:-10])])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"truncated", r.stderr)
        # A pcapng magic followed by rubbish.
        r = tl.run([self.taptap, "peek-frames", "--file", self.write("g.pcapng", good[:8] + os.urandom(64))])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"malformed", r.stderr)
        # Random bytes without a magic are a raw byte file: no frames, no crash.
        r = tl.run([self.taptap, "peek-frames", "--file", self.write("noise.bin", bytes(range(256)) * 40)])
        self.assertEqual((r.returncode, r.stdout), (0, b""))
        # Empty file.
        r = tl.run([self.taptap, "peek-bytes", "--file", self.write("empty", b"")])
        self.assertEqual((r.returncode, r.stdout), (0, b""))
        # Nonexistent file and a directory: the source cannot be opened, exit 2.
        r = tl.run([self.taptap, "peek-bytes", "--file", os.path.join(self.dir, "missing")])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"No such file", r.stderr)
        r = tl.run([self.taptap, "peek-bytes", "--file", self.dir])
        self.assertEqual(r.returncode, 2)
        # Packets of another link type (e.g. Ethernet) are skipped with a warning, not fed to the decoder.
        r = tl.run([self.taptap, "peek-bytes", "--file",
                    self.write("eth.pcapng", tl.pcapng_bytes([(10**18, STREAM)], linktype=1))])
        self.assertEqual((r.returncode, r.stdout), (0, b""))
        self.assertIn(b"link type 1", r.stderr)


if __name__ == "__main__":
    unittest.main()
