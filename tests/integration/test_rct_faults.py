"""The client against the simulator in every fault mode: a wrong value never comes out,
retries and skipped foreign replies are counted, and the simulator itself survives
bad input, several frames per read, frames split across reads and many clients."""

import json
import os
import re
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import rctlib  # noqa: E402
from rctlib import FIXED_START, Simulator, connect, frame, rct, read_frames  # noqa: E402

OBJECTS = [
    "battery.soc", "g_sync.p_ac_load_sum_lp", "g_sync.p_ac_grid_sum_lp", "g_sync.p_acc_lp",
    "dc_conv.dc_conv_struct[0].p_dc_lp", "energy.e_ac_total", "energy.e_ac_day", "db.temp1",
    "grid_pll[0].f", "inverter_sn", "android_description", "svnversion", "prim_sm.state",
    "power_mng.is_grid", "battery.cells[0]", "battery.cells_stat[1]", "battery.cells_resist[2]",
    "power_mng.n_batteries", "wifi.ip", "fault[0].flt",
]
SIM = ["--seed", "77", "--start", FIXED_START, "--speed", "0"]
STATS = re.compile(r"requests (\d+), attempts (\d+), retries (\d+), timeouts (\d+), foreign (\d+), crc (\d+), cut (\d+)")


def read_all(port, *extra):
    rc, out, err = rct("--debug", "read-value", "-h", "127.0.0.1", "-p", port, "--json", *extra, *OBJECTS, timeout=120)
    values = {}
    for line in out.splitlines():
        obj = json.loads(line)
        values[obj["name"]] = obj["value"]
    m = STATS.search(err)
    stats = dict(zip(["requests", "attempts", "retries", "timeouts", "foreign", "crc", "cut"],
                     map(int, m.groups()))) if m else None
    return rc, values, stats, err


class FaultModes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with Simulator(*SIM) as sim:
            rc, cls.truth, stats, err = read_all(sim.port)
        assert rc == 0, err
        assert len(cls.truth) == len(OBJECTS)
        assert stats["retries"] == 0 and stats["foreign"] == 0

    def check_mode(self, *fault, extra=("--retries", "10", "--timeout", "400")):
        with Simulator(*SIM, *fault) as sim:
            rc, values, stats, err = read_all(sim.port, *extra)
        # Whatever came out is right; with ten retries everything came out.
        for name, value in values.items():
            self.assertEqual(value, self.truth[name], name)
        self.assertEqual(rc, 0, err)
        self.assertEqual(set(values), set(self.truth))
        return stats

    def test_truth_is_plausible(self):
        t = self.truth
        self.assertTrue(0.0 < t["battery.soc"] <= 1.0)
        self.assertGreater(t["dc_conv.dc_conv_struct[0].p_dc_lp"], 0)  # 09:00 UTC in June: sunny side up
        self.assertGreater(t["energy.e_ac_total"], 1e6)
        self.assertNotEqual(t["inverter_sn"], "ABCDEFG")
        self.assertTrue(49.8 < t["grid_pll[0].f"] < 50.2)
        self.assertEqual(t["fault[0].flt"], 0)

    def test_truncated_payloads(self):
        stats = self.check_mode("--fault-truncate", "0.4")
        self.assertGreater(stats["cut"], 0)
        self.assertGreater(stats["retries"], 0)

    def test_dropped_replies(self):
        stats = self.check_mode("--fault-drop", "0.4")
        self.assertGreater(stats["timeouts"], 0)
        self.assertGreater(stats["retries"], 0)

    def test_foreign_replies(self):
        stats = self.check_mode("--fault-foreign", "0.6")
        self.assertGreater(stats["foreign"], 0)

    def test_delayed_replies(self):
        # Late but within the timeout: no retry needed.
        stats = self.check_mode("--fault-delay", "0.5", "--delay-ms", "150", extra=("--timeout", "1000"))
        self.assertEqual(stats["retries"], 0)
        # Later than the timeout: retried, and the stale answer never confuses the next object.
        stats = self.check_mode("--fault-delay", "0.3", "--delay-ms", "500", extra=("--timeout", "300", "--retries", "10"))
        self.assertGreater(stats["retries"], 0)

    def test_all_faults_at_once(self):
        stats = self.check_mode("--fault-truncate", "0.2", "--fault-drop", "0.2", "--fault-foreign", "0.3",
                                "--fault-delay", "0.2", "--delay-ms", "100")
        self.assertGreater(stats["retries"], 0)

    def test_no_answer_is_a_clear_error(self):
        with Simulator(*SIM, "--fault-drop", "1") as sim:
            t0 = time.monotonic()
            rc, out, err = rct("read-value", "-h", "127.0.0.1", "-p", sim.port, "--timeout", "300", "--retries", "2",
                               "-n", "battery.soc")
            elapsed = time.monotonic() - t0
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("No answer from 127.0.0.1:%d for battery.soc (0x959930BF): 3 attempts, 300 ms each" % sim.port, err)
        self.assertLess(elapsed, 8.0)  # it ends (rctclient would wait forever); slack for slow builds

    def test_broadcast_to_two_clients(self):
        # The device's bridge copies answers to everyone: two clients at once still get their own values.
        import subprocess
        import threading
        with Simulator(*SIM, "--broadcast") as sim:
            # A third party keeps asking for something else meanwhile; everyone sees those answers too.
            other = connect(sim.port)
            stop = threading.Event()

            def chatter():
                while not stop.is_set():
                    other.sendall(frame(0x01, 0xEBC62737))
                    time.sleep(0.005)

            th = threading.Thread(target=chatter)
            th.start()
            try:
                args = [rctlib.BIN, "rct", "--debug", "read-value", "-h", "127.0.0.1", "-p", str(sim.port), "--json"]
                procs = [subprocess.Popen(args + OBJECTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                         for _ in range(3)]
                outs = [p.communicate(timeout=60) for p in procs]
            finally:
                stop.set()
                th.join()
                other.close()
        foreign = 0
        for p, (out, err) in zip(procs, outs):
            self.assertEqual(p.returncode, 0, err)
            values = {json.loads(line)["name"]: json.loads(line)["value"] for line in out.decode().splitlines()}
            self.assertEqual(values, self.truth)
            foreign += int(STATS.search(err.decode()).group(5))
        self.assertGreater(foreign, 0)


class HistoryUnderFaults(unittest.TestCase):
    FROM, TO = "2026-06-20T00:00:00", "2026-06-21T00:00:00"

    def history(self, port, *extra):
        rc, out, err = rct("history", "-h", "127.0.0.1", "-p", port, "--from", self.FROM, "--to", self.TO, "--json",
                           "-n", "logger.minutes_soc_log_ts", "-n", "logger.minutes_eload_log_ts", *extra, timeout=120)
        self.assertEqual(rc, 0, err)
        return [json.loads(line) for line in out.splitlines()]

    def test_history_same_with_and_without_faults(self):
        with Simulator(*SIM) as sim:
            clean = self.history(sim.port)
        # a whole day of five-minute samples per series, each exactly once, oldest first
        for name in ("logger.minutes_soc_log_ts", "logger.minutes_eload_log_ts"):
            ts = [p["timestamp"] for p in clean if p["name"] == name]
            self.assertEqual(len(ts), 288)
            self.assertEqual(ts, sorted(set(ts)))
            self.assertEqual(ts[0], 1781913600)
            self.assertEqual(ts[-1], 1781913600 + 287 * 300)
        soc = [p["value"] for p in clean if p["name"] == "logger.minutes_soc_log_ts"]
        self.assertTrue(all(0 <= v <= 100 for v in soc))
        with Simulator(*SIM, "--fault-truncate", "0.3", "--fault-drop", "0.2", "--fault-foreign", "0.3") as sim:
            faulty = self.history(sim.port, "--timeout", "300", "--retries", "10")
        self.assertEqual(faulty, clean)

    def test_csv_layout(self):
        with Simulator(*SIM) as sim:
            rc, out, err = rct("history", "-h", "127.0.0.1", "-p", sim.port, "--from", "2026-06-20T10:00",
                               "--to", "2026-06-20T11:00", "-r", "minutes")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        header = lines[0].split(",")
        self.assertEqual(header[0], "timestamp")
        self.assertEqual(len(header), 23)  # all 22 five-minute series
        self.assertIn("soc", header)
        self.assertEqual(len(lines), 1 + 12)
        self.assertEqual(lines[1].split(",")[0], "2026-06-20T10:00:00")

    def test_events(self):
        with Simulator(*SIM) as sim:
            rc, out, err = rct("events", "-h", "127.0.0.1", "-p", sim.port, "--from", "2026-05-01", "--to",
                               "2026-06-21", "--json")
            self.assertEqual(rc, 0, err)
            rows = [json.loads(line) for line in out.splitlines()]
            with Simulator(*SIM, "--fault-truncate", "0.3", "--fault-foreign", "0.3") as sim2:
                rc, out2, err = rct("events", "-h", "127.0.0.1", "-p", sim2.port, "--from", "2026-05-01", "--to",
                                    "2026-06-21", "--json", "--retries", "10", "--timeout", "300")
        self.assertEqual(rc, 0, err)
        self.assertEqual([json.loads(line) for line in out2.splitlines()], rows)
        self.assertGreater(len(rows), 15)  # several pages of twelve rows
        ts = [r["timestamp"] for r in rows]
        self.assertEqual(ts, sorted(ts))
        self.assertTrue(all(1777593600 <= t < 1782000000 for t in ts))
        self.assertTrue(all(r["name"] != "UNKNOWN" for r in rows))


class FakeDevice:
    """Answers each request with `reply(request_bytes)`, sent in pieces of `piece` bytes."""

    def __init__(self, reply, piece=1):
        import socket
        import threading
        self.reply, self.piece = reply, piece
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def serve(self):
        self.srv.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.srv.accept()
            except OSError:
                continue
            c.settimeout(0.1)
            with c:
                while not self.stop.is_set():
                    try:
                        req = c.recv(4096)
                    except OSError:
                        continue
                    if not req:
                        break
                    data = self.reply(req)
                    for i in range(0, len(data), self.piece):
                        c.sendall(data[i:i + self.piece])
                        time.sleep(0.001)

    def close(self):
        self.stop.set()
        self.thread.join()
        self.srv.close()


class ClientStreamHandling(unittest.TestCase):
    # A real capture of battery.soc (spec 2.5): leading 00, then the frame.
    CAPTURE = bytes.fromhex("002B0508959930BF3F590F868810")

    def read_soc(self, dev, *extra):
        try:
            return rct("--debug", "read-value", "-h", "127.0.0.1", "-p", dev.port, "-n", "battery.soc",
                       "--timeout", "500", "--retries", "1", *extra)
        finally:
            dev.close()

    def test_every_piece_size(self):
        for piece in (1, 2, 3, 5, 14):
            rc, out, err = self.read_soc(FakeDevice(lambda req: self.CAPTURE, piece))
            self.assertEqual((rc, out), (0, "0.8478931188583374\n"), piece)

    def test_noise_before_the_answer(self):
        bad = bytearray(frame(0x05, 0x959930BF, b"\x3f\x00\x00\x00"))
        bad[-2] ^= 0x40  # bad CRC: must not be believed
        noise = (frame(0x05, 0x1AC87AA0, b"\x44\x00\x00\x00")    # another object's answer
                 + frame(0x01, 0x959930BF)                          # another client's request echoed
                 + bytes(bad) + b"AT+\r" + b"\x2b\x3c\xe1")
        for piece in (1, 7, len(noise) + len(self.CAPTURE)):
            rc, out, err = self.read_soc(FakeDevice(lambda req: noise + self.CAPTURE, piece))
            self.assertEqual((rc, out), (0, "0.8478931188583374\n"), piece)
            m = STATS.search(err)
            self.assertEqual(int(m.group(5)), 3)  # foreign answer, echoed request, extension frame
            self.assertEqual(int(m.group(6)), 1)  # one CRC error

    def test_cut_answer_then_silence(self):
        cut = frame(0x05, 0x959930BF, b"\x3f\x59")  # valid CRC, two bytes short
        rc, out, err = self.read_soc(FakeDevice(lambda req: cut, 3))
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("Only incomplete answers for battery.soc", err)


class SimulatorRobustness(unittest.TestCase):
    def test_many_frames_per_read_split_frames_and_garbage(self):
        with Simulator("--static") as sim:
            s = connect(sim.port)
            ids = [0x959930BF, 0xEBC62737, 0x7924ABD9, 0x5F33284E, 0x90B53336]
            burst = b"".join(frame(0x01, i) for i in ids)
            s.sendall(burst)  # five requests in one segment
            got = read_frames(s, 5)
            self.assertEqual([f[1] for f in got], ids)
            # Garbage, an invalid command, an extension frame, a bad CRC, then a request split byte by byte.
            bad_crc = bytearray(frame(0x01, 0x959930BF))
            bad_crc[-1] ^= 0xFF
            s.sendall(b"\x00\x11AT+\r" + b"\x2b\x2b\x99" + b"\x2b\x3c\xe1" + bytes(bad_crc) + b"\x2b\xff\x00")
            req = frame(0x01, 0xEBC62737)
            for b in req:
                s.sendall(bytes([b]))
                time.sleep(0.002)
            got = read_frames(s, 1)
            self.assertEqual(got, [(0x05, 0xEBC62737, b"RCT")])
            s.close()
            # Still serving new clients afterwards.
            rc, out, err = rct("read-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "battery.soc")
            self.assertEqual((rc, out), (0, "0.0\n"))

    def test_many_clients(self):
        with Simulator("--static") as sim:
            socks = [connect(sim.port) for _ in range(40)]
            for s in socks:
                s.sendall(frame(0x01, 0x959930BF))
            for s in socks:
                self.assertEqual(read_frames(s, 1), [(0x05, 0x959930BF, b"\x00\x00\x00\x00")])
            for s in socks:
                s.close()

    def test_plant_member(self):
        with Simulator(*SIM, "--plant", "7") as sim:
            s = connect(sim.port)
            s.sendall(bytes.fromhex("2B41080000000795993" "0BF7D9E"))
            got = read_frames(s, 1)
            self.assertEqual(len(got), 1)
            self.assertEqual(got[0][0:2], (0x45, 0x959930BF))
            soc = struct.unpack(">f", got[0][2])[0]
            self.assertTrue(0.0 < soc <= 1.0)
            s.close()
            rc, out, err = rct("read-value", "-h", "127.0.0.1", "-p", sim.port, "--address", "7", "-n", "battery.soc")
            self.assertEqual(rc, 0, err)
            self.assertEqual(float(out), soc)
            rc, out, err = rct("read-value", "-h", "127.0.0.1", "-p", sim.port, "--address", "8", "--timeout", "200",
                               "--retries", "0", "-n", "battery.soc")
            self.assertEqual(rc, 1)

    def test_stops_cleanly_on_sigterm(self):
        sim = Simulator("--static").__enter__()
        sim.stop()
        self.assertEqual(sim.exit_status, 0)


if __name__ == "__main__":
    unittest.main()
