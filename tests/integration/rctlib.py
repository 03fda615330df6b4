"""Helpers for the RCT integration tests: run the program, start and stop the
simulator on a free loopback port, and write pcap files around real bytes."""

import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time

BIN = os.environ.get("SUNWIRE_BIN", "sunwire")
DATA = os.environ.get("SW_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
# A fixed simulated instant (2026-06-21 09:00 UTC) so that values repeat run after run.
FIXED_START = "2026-06-21T09:00:00"


def rctclient_bin():
    """The rctclient persona: the rctclient program built next to sunwire, else `sunwire rctclient`."""
    link = os.path.join(os.path.dirname(BIN), "rctclient")
    if os.path.exists(link):
        return [link]
    return [BIN, "rctclient"]


def run(args, timeout=60, stdin=None):
    """Run the program; returns (exit status, stdout, stderr) as text."""
    p = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def rct(*args, **kw):
    return run([BIN, "rct"] + [str(a) for a in args], **kw)


def rctclient(*args, **kw):
    return run(rctclient_bin() + [str(a) for a in args], **kw)


def load(name):
    with open(os.path.join(DATA, "rct", name), encoding="utf-8") as f:
        return json.load(f)


class Simulator:
    """`sunwire rct simulator` on 127.0.0.1 and a free port, stopped on exit."""

    def __init__(self, *extra, persona=None):
        self.extra = [str(a) for a in extra]
        self.persona = persona
        self.proc = None
        self.port = None
        self.tmp = None
        self.stderr = ""

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory()
        port_file = os.path.join(self.tmp.name, "port")
        base = rctclient_bin() if self.persona == "rctclient" else [BIN, "rct"]
        args = base + ["simulator", "--host", "127.0.0.1", "--port", "0", "--port-file", port_file] + self.extra
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file, encoding="ascii") as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("simulator did not start: " + (self.proc.stderr.read().decode() if self.proc else ""))

    def stop(self):
        """Stop it (SIGTERM, then SIGKILL) and keep what it wrote to stderr in self.stderr."""
        if self.proc and self.proc.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                _, err = self.proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                _, err = self.proc.communicate()
            self.stderr = err.decode("utf-8", "replace") if err else ""
        if self.tmp:
            self.tmp.cleanup()
            self.tmp = None

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def exit_status(self):
        return self.proc.returncode


def connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


# ---- frames, written independently of the program (CRC and escaping as in the spec) ----

def crc16(data):
    if len(data) % 2:
        data = data + b"\x00"
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def frame(cmd, oid, payload=b"", address=None):
    body = bytes([cmd])
    n = (8 if address is not None else 4) + len(payload)
    body += struct.pack(">H", n) if cmd in (0x03, 0x06, 0x43, 0x46) else bytes([n])
    if address is not None:
        body += struct.pack(">I", address)
    body += struct.pack(">I", oid) + payload
    body += struct.pack(">H", crc16(body))
    out = bytearray(b"\x2b")
    for b in body:
        if b in (0x2B, 0x2D):
            out.append(0x2D)
        out.append(b)
    return bytes(out)


def read_frames(sock, count, timeout=5):
    """Read until `count` complete frames arrived; returns [(cmd, oid, payload)]."""
    sock.settimeout(timeout)
    buf = bytearray()
    frames = []
    deadline = time.monotonic() + timeout
    while len(frames) < count and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        frames = parse_frames(bytes(buf))
    return frames


def parse_frames(data):
    """Unescape and split a stream of well-formed frames (test helper, not a resyncing parser)."""
    frames = []
    i = 0
    while True:
        start = data.find(b"\x2b", i)
        if start < 0:
            return frames
        j = start + 1
        body = bytearray()
        need = None
        while j < len(data):
            b = data[j]
            if b == 0x2D and j + 1 < len(data):
                body.append(data[j + 1])
                j += 2
            elif b == 0x2D:
                return frames
            else:
                body.append(b)
                j += 1
            if need is None and len(body) >= 3:
                cmd = body[0]
                if cmd in (0x03, 0x06, 0x43, 0x46):
                    if len(body) >= 3:
                        need = 1 + 2 + ((body[1] << 8) | body[2]) + 2
                else:
                    need = 1 + 1 + body[1] + 2
            if need is not None and len(body) == need:
                break
        if need is None or len(body) != need:
            return frames
        cmd = body[0]
        long_ = cmd in (0x03, 0x06, 0x43, 0x46)
        off = 3 if long_ else 2
        if cmd & 0x40:
            off += 4
        oid = struct.unpack(">I", bytes(body[off:off + 4]))[0]
        frames.append((cmd, oid, bytes(body[off + 4:-2])))
        i = j


# ---- pcap writing ---------------------------------------------------------------------

def _checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload):
    """Ethernet + IPv4 + TCP around payload, with valid checksums."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                      65535, 0, 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    csum = _checksum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp


def write_pcap(path, packets):
    """packets: [(time_float, bytes)] written as classic pcap, Ethernet link type."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, pkt in packets:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(pkt), len(pkt)))
            f.write(pkt)


def write_pcapng(path, packets):
    """The same as a pcapng file (section header, one interface, enhanced packet blocks)."""
    def block(btype, body):
        pad = (4 - len(body) % 4) % 4
        total = 12 + len(body) + pad
        return struct.pack("<II", btype, total) + body + b"\x00" * pad + struct.pack("<I", total)

    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(0x00000001, struct.pack("<HHI", 1, 0, 65535)))
        for t, pkt in packets:
            ts = int(round(t * 1e6))
            body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(pkt), len(pkt)) + pkt
            f.write(block(0x00000006, body))
