"""Shared helpers for the Tigo integration tests.

Everything runs on loopback or on pseudo-terminals, and every helper that
starts something (a process, a server thread, a pty) has a matching stop that
the tests call from tearDown / addCleanup.
"""
import json
import os
import socket
import struct
import subprocess
import threading
import time

BIN = os.environ.get("SUNWIRE_BIN", "")
DATA = os.environ.get("SW_TEST_DATA", "")
BUILD = os.environ.get("SW_BUILD_DIR", os.path.dirname(BIN))
SOURCE = os.environ.get("SW_SOURCE_DIR", "")


def taptap_path():
    """The taptap persona: the taptap program built next to sunwire (else a link to sunwire)."""
    path = os.path.join(os.path.dirname(BIN), "taptap")
    if not os.path.exists(path):
        os.symlink("sunwire", path)
    return path


def load_vectors(name):
    with open(os.path.join(DATA, "tigo", name), encoding="utf-8") as f:
        return json.load(f)


def quiet_env(**extra):
    env = dict(os.environ)
    env.setdefault("TZ", "UTC")
    env.update(extra)
    return env


def run(argv, timeout=30, env=None, stdin=None, input_bytes=None):
    """Run to completion; returns CompletedProcess with bytes stdout/stderr."""
    return subprocess.run(argv, capture_output=True, timeout=timeout, env=env or quiet_env(),
                          stdin=stdin, input=input_bytes)


# ---- pcapng, written independently of the C code under test -----------------

def _opt(code, value):
    pad = (-len(value)) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\0" * pad


def _block(btype, body):
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def pcapng_bytes(chunks, linktype=147, tsresol=9):
    """chunks: iterable of (unix_ns, bytes). Little-endian, one interface."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _opt(0, b""))
    idb = _block(1, struct.pack("<HHI", linktype, 0, 0) + _opt(9, bytes([tsresol])) + _opt(0, b""))
    out = [shb, idb]
    div = 10 ** (9 - tsresol)
    for ts, data in chunks:
        ticks = ts // div
        pad = (-len(data)) % 4
        body = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data + b"\0" * pad
        out.append(_block(6, body))
    return b"".join(out)


def pcapng_parse(blob):
    """Minimal independent reader: list of (unix_ns, bytes), for little-endian files with if_tsresol."""
    pos, res, resol = 0, [], 6
    while pos < len(blob):
        btype, total = struct.unpack_from("<II", blob, pos)
        body = blob[pos + 8:pos + total - 4]
        if btype == 1:
            opos = 8
            while opos + 4 <= len(body):
                code, olen = struct.unpack_from("<HH", body, opos)
                if code == 0:
                    break
                if code == 9:
                    resol = body[opos + 4]
                opos += 4 + olen + ((-olen) % 4)
        elif btype == 6:
            _, hi, lo, caplen, _ = struct.unpack_from("<IIIII", body, 0)
            ticks = (hi << 32) | lo
            res.append((ticks * 10 ** (9 - resol), body[20:20 + caplen]))
        pos += total
    return res


def scenario_capture(scenario):
    return pcapng_bytes((s["clock_unix_ns"], bytes.fromhex(s["bus_hex"])) for s in scenario["steps"])


def tz_for_offset(minutes):
    """POSIX TZ text for a fixed offset east of UTC (signs are reversed in POSIX)."""
    if minutes == 0:
        return "UTC0"
    sign = "-" if minutes > 0 else "+"
    m = abs(minutes)
    return "XXX%s%02d:%02d" % (sign, m // 60, m % 60)


# ---- loopback TCP server ------------------------------------------------------

class BusServer:
    """Serves scripted byte streams to each accepted connection on 127.0.0.1.

    `sessions` is a list, one entry per connection in order: a list of
    (delay_s, bytes) writes; after the last write the server either closes
    the connection (close=True) or keeps it open silently until stop().
    Connections beyond the script get silence.
    """

    def __init__(self, sessions, close=True):
        self.sessions = list(sessions)
        self.close_after = close
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.accept_times = []
        self.conns = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accept_times.append(time.monotonic())
            idx = self.accepted
            self.accepted += 1
            self.conns.append(conn)
            script = self.sessions[idx] if idx < len(self.sessions) else []
            try:
                for delay, data in script:
                    if self._stop.wait(delay):
                        return
                    conn.sendall(data)
                if self.close_after and idx < len(self.sessions):
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
            except OSError:
                pass

    def stop(self):
        self._stop.set()
        self.thread.join(5)
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()


def free_port():
    """A loopback port with nobody listening (bound then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop_process(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for f in (proc.stdout, proc.stderr, proc.stdin):
        if f:
            f.close()


class Proc:
    """A running program whose stdout and stderr are collected in the background."""

    def __init__(self, argv, env=None, stdout_limit=None, preexec_fn=None):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or quiet_env(),
                                  preexec_fn=preexec_fn)
        self.out = bytearray()
        self.err = bytearray()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._pump, args=(self.p.stdout, self.out), daemon=True),
                        threading.Thread(target=self._pump, args=(self.p.stderr, self.err), daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, f, buf):
        while True:
            try:
                chunk = f.read1(65536) if hasattr(f, "read1") else f.read(4096)
            except (OSError, ValueError):
                return  # closed by stop()
            if not chunk:
                return
            with self.lock:
                buf.extend(chunk)

    def wait_for(self, what, needle, timeout=10.0):
        """Wait until `needle` (bytes) appears in self.out or self.err ("out"/"err")."""
        end = time.monotonic() + timeout
        buf = self.out if what == "out" else self.err
        while time.monotonic() < end:
            with self.lock:
                if needle in buf:
                    return True
            if self.p.poll() is not None:
                time.sleep(0.1)
                with self.lock:
                    return needle in buf
            time.sleep(0.02)
        return False

    def wait(self, timeout=30):
        rc = self.p.wait(timeout)
        for t in self.threads:
            t.join(5)
        return rc

    def stop(self):
        stop_process(self.p)
        for t in self.threads:
            t.join(5)

    def stdout_text(self):
        with self.lock:
            return bytes(self.out).decode("utf-8", "replace")

    def stderr_text(self):
        with self.lock:
            return bytes(self.err).decode("utf-8", "replace")


class SimBridge:
    """`sunwire tigo simulate --tcp ARGS...`: a serial-to-TCP converter on a simulated bus
    (line faults included); `port` is where it listens, stop() ends it."""

    def __init__(self, *args, start="2025-06-21T10:00:00Z"):
        self.p = subprocess.Popen([BIN, "tigo", "simulate", "--tcp", "--start", start, *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=quiet_env())
        line = self.p.stdout.readline().decode().strip()  # "listening on HOST:PORT"
        if not line.startswith("listening on "):
            self.stop()
            raise AssertionError("simulator did not start: %r" % line)
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(2)  # SIGINT: the simulator's orderly stop
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()
