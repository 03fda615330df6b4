"""read-pcap on captures this test makes itself: a real client/simulator session is
relayed through a recording proxy, the bytes are wrapped in synthetic Ethernet/IPv4/TCP
headers (with reordered and retransmitted segments) and written as pcap and pcapng."""

import json
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import rctlib  # noqa: E402
from rctlib import FIXED_START, Simulator, rct  # noqa: E402

OBJECTS = ["battery.soc", "g_sync.p_ac_load_sum_lp", "inverter_sn", "prim_sm.state", "energy.e_ac_total",
           "power_mng.is_grid", "battery.cells[1]", "android_description"]
CLIENT, SERVER = ("10.0.0.2", 50123), ("10.0.0.1", 8899)


class Recorder:
    """A one-connection TCP relay that records what went each way, chunk by chunk."""

    def __init__(self, upstream_port):
        self.up = upstream_port
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.chunks = []  # (time, "c2s"|"s2c", bytes)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def pump(self, src, dst, direction):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            with self.lock:
                self.chunks.append((time.time(), direction, data))
            dst.sendall(data)

    def serve(self):
        self.srv.settimeout(10)
        try:
            c, _ = self.srv.accept()
        except OSError:
            return
        u = socket.create_connection(("127.0.0.1", self.up))
        t = threading.Thread(target=self.pump, args=(u, c, "s2c"))
        t.start()
        self.pump(c, u, "c2s")
        t.join()
        c.close()
        u.close()

    def close(self):
        self.thread.join(timeout=20)
        self.srv.close()


def build_packets(chunks, mess_up):
    """TCP packets for the recorded chunks; mess_up reorders and retransmits some."""
    seq = {"c2s": 1000, "s2c": 5000}
    t0 = chunks[0][0] - 0.01
    pk = [
        (t0, rctlib.tcp_packet(CLIENT[0], SERVER[0], CLIENT[1], SERVER[1], 999, 0, 0x02, b"")),
        (t0 + 0.001, rctlib.tcp_packet(SERVER[0], CLIENT[0], SERVER[1], CLIENT[1], 4999, 1000, 0x12, b"")),
        (t0 + 0.002, rctlib.tcp_packet(CLIENT[0], SERVER[0], CLIENT[1], SERVER[1], 1000, 5000, 0x10, b"")),
    ]
    for i, (t, d, data) in enumerate(chunks):
        src, dst = (CLIENT, SERVER) if d == "c2s" else (SERVER, CLIENT)
        other = "s2c" if d == "c2s" else "c2s"
        if mess_up and len(data) >= 6 and i % 3 == 0:
            # Two segments sent back to front, then the first one again (a retransmission).
            cut = len(data) // 2
            a = rctlib.tcp_packet(src[0], dst[0], src[1], dst[1], seq[d], seq[other], 0x18, data[:cut])
            b = rctlib.tcp_packet(src[0], dst[0], src[1], dst[1], seq[d] + cut, seq[other], 0x18, data[cut:])
            pk += [(t, b), (t + 0.0001, a), (t + 0.0002, a)]
        elif mess_up and i % 3 == 1:
            # The segment, then a retransmission that overlaps it and carries nothing new.
            p = rctlib.tcp_packet(src[0], dst[0], src[1], dst[1], seq[d], seq[other], 0x18, data)
            pk += [(t, p), (t + 0.0001, p)]
        else:
            pk.append((t, rctlib.tcp_packet(src[0], dst[0], src[1], dst[1], seq[d], seq[other], 0x18, data)))
        seq[d] += len(data)
    return pk


class ReadPcap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        with Simulator("--seed", "3", "--start", FIXED_START, "--speed", "0") as sim:
            rec = Recorder(sim.port)
            rc, out, err = rct("read-value", "-h", "127.0.0.1", "-p", rec.port, "--json", *OBJECTS)
            rec.close()
        assert rc == 0, err
        cls.values = {json.loads(l)["name"]: json.loads(l)["value"] for l in out.splitlines()}
        cls.chunks = rec.chunks

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def decode(self, packets, writer=rctlib.write_pcap, *args):
        path = os.path.join(self.tmp.name, "capture")
        writer(path, packets)
        rc, out, err = rct("read-pcap", "--json", *args, path)
        self.assertEqual(rc, 0, err)
        return [json.loads(line) for line in out.splitlines()]

    def check(self, lines):
        reads = [l for l in lines if l.get("command") == "READ"]
        replies = [l for l in lines if l.get("command") == "RESPONSE"]
        self.assertFalse([l for l in lines if "error" in l])
        self.assertEqual(sorted(set(l["name"] for l in reads)), sorted(OBJECTS))
        for l in reads:
            self.assertEqual((l["src"], l["dst"]), ("10.0.0.2:50123", "10.0.0.1:8899"))
        got = {}
        for l in replies:
            self.assertEqual((l["src"], l["dst"]), ("10.0.0.1:8899", "10.0.0.2:50123"))
            got[l["name"]] = l["value"]
        self.assertEqual(got, self.values)
        return reads, replies

    def test_in_order(self):
        reads, replies = self.check(self.decode(build_packets(self.chunks, False)))
        self.assertEqual(len(reads), len(replies))

    def test_reordered_and_retransmitted(self):
        clean = self.decode(build_packets(self.chunks, False))
        messy = self.decode(build_packets(self.chunks, True))
        self.check(messy)
        strip = lambda ls: [{k: v for k, v in l.items() if k != "time"} for l in ls]  # noqa: E731
        self.assertEqual(strip(messy), strip(clean))

    def test_pcapng(self):
        self.check(self.decode(build_packets(self.chunks, True), rctlib.write_pcapng))

    def test_text_output_and_port_filter(self):
        path = os.path.join(self.tmp.name, "capture.pcap")
        rctlib.write_pcap(path, build_packets(self.chunks, False))
        rc, out, err = rct("read-pcap", path)
        self.assertEqual(rc, 0, err)
        self.assertIn("10.0.0.2:50123 -> 10.0.0.1:8899 READ battery.soc (0x959930BF)", out)
        self.assertIn("10.0.0.1:8899 -> 10.0.0.2:50123 RESPONSE battery.soc (0x959930BF) = ", out)
        self.assertIn("prim_sm.state (0x5F33284E) = 13 (Feed in)", out)
        rc, out, err = rct("read-pcap", "--port", "502", path)
        self.assertEqual((rc, out), (0, ""))

    def test_lost_segment_is_reported(self):
        packets = build_packets(self.chunks, False)
        # Drop the first reply segment: its frame is missing, everything after it decodes.
        first_reply = next(i for i, (t, p) in enumerate(packets) if p[26:30] == socket.inet_aton(SERVER[0])
                           and len(p) > 54)
        lines = self.decode(packets[:first_reply] + packets[first_reply + 1:])
        replies = [l for l in lines if l.get("command") == "RESPONSE"]
        self.assertEqual(len(replies), len([c for c in self.chunks if c[1] == "s2c"]) - 1)
        for l in replies:
            self.assertEqual(l["value"], self.values[l["name"]])

    def test_bad_files(self):
        path = os.path.join(self.tmp.name, "not-a-capture")
        with open(path, "wb") as f:
            f.write(b"this is not a capture file at all")
        rc, out, err = rct("read-pcap", path)
        self.assertEqual(rc, 1)
        self.assertIn("Cannot read", err)
        rc, out, err = rct("read-pcap")
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main()
