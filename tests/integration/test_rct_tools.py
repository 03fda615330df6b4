"""decode, encode, registry and write-value of `sunwire rct`, checked against the shared
vectors (produced by rctclient) and against the simulator."""

import json
import math
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import rctlib  # noqa: E402
from rctlib import FIXED_START, Simulator, rct  # noqa: E402


def same_float(a, b):
    if isinstance(b, str):  # "NaN", "Infinity", "-Infinity" in the vectors
        return a is None  # JSON has no NaN: sunwire writes null
    return a == b


class Decode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.vecs = rctlib.load("registry_roundtrip.json")["vectors"]
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def decode_file(self, data, *args):
        path = os.path.join(self.tmp.name, "in")
        with open(path, "wb") as f:
            f.write(data)
        rc, out, err = rct("decode", *args, path)
        return rc, [json.loads(line) for line in out.splitlines()], err

    def check_value(self, v, line):
        t = v["response_type"]
        self.assertEqual(line["type"], t, v["name"])
        got, want = line["value"], v["decoded"]
        if t == "FLOAT":
            self.assertTrue(same_float(got, want), v["name"])
        elif t == "UNKNOWN":
            self.assertEqual(got.upper(), v["payload_hex"])
        elif t == "TIMESERIES":
            self.assertEqual(got["timestamp"], want["timestamp"])
            # rctclient keeps one value per timestamp (the last); the wire order is kept here.
            last = {}
            for ts, val in got["points"]:
                last[ts] = val
            self.assertEqual(sorted(last.items()), sorted((p[0], p[1]) for p in want["points"]))
        elif t == "EVENT_TABLE":
            last = {}
            for e in got["entries"]:
                last[e["timestamp"]] = e
            self.assertEqual(sorted(last), sorted(e["timestamp"] for e in want["entries"]))
            for e in want["entries"]:
                mine = last[e["timestamp"]]
                for k in ("entry_type", "element2", "element3", "element4"):
                    self.assertEqual(mine[k], e[k])
        elif t == "BATTERY_MODULE_STATUS":
            self.assertEqual([(c["temperature_c"], c["voltage_mv"], c["status"]) for c in got["cells"]],
                             [(c["temperature_c"], c["voltage_mv"], c["status"]) for c in want["cells"]])
        elif t == "BATTERY_MODULE_RESISTANCE":
            self.assertEqual([c["raw_value"] for c in got["cells"]], [c["raw_value"] for c in want["cells"]])
        elif t == "BATTERY_MODULE_STATISTICS":
            for k in ("u_min", "u_max", "t_min", "t_max"):
                self.assertEqual(got[k]["cell"], want[k]["cell"])
                self.assertEqual(got[k]["timestamp"], want[k]["timestamp"])
                self.assertTrue(same_float(got[k]["value"], want[k]["value"]))
        else:
            self.assertEqual(got, want, v["name"])

    def test_binary_stream_of_all_roundtrip_frames(self):
        data = b"".join(bytes.fromhex(v["response_wire_hex"]) for v in self.vecs)
        rc, lines, err = self.decode_file(data, "--binary")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(lines), len(self.vecs))
        for v, line in zip(self.vecs, lines):
            self.assertEqual(line["id"], v["id_hex"])
            self.assertEqual(line["name"], v["object_name"])
            self.assertEqual(line["command"], v["response_command"])
            self.assertEqual(line["payload"], v["payload_hex"])
            self.check_value(v, line)
        # Offsets grow and the last one is the end of the input.
        offsets = [line["offset"] for line in lines]
        self.assertEqual(offsets, sorted(offsets))
        self.assertEqual(offsets[-1], len(data))

    def test_hex_text_as_pasted(self):
        # Forum style: 0x prefixes, commas, line breaks in the middle of frames, a comment.
        picks = self.vecs[:40]
        data = b"".join(bytes.fromhex(v["response_wire_hex"]) for v in picks)
        text = "# captured from my inverter\n"
        for i, b in enumerate(data):
            text += "0x%02x," % b if i % 3 == 0 else "%02X " % b
            if i % 17 == 16:
                text += "\n"
        rc, lines, err = self.decode_file(text.encode(), "--hex")
        self.assertEqual(rc, 0, err)
        self.assertEqual([line["payload"] for line in lines], [v["payload_hex"] for v in picks])
        # Guessed without --hex, and from stdin.
        rc, out, err = rctlib.run([rctlib.BIN, "rct", "decode", "-"], stdin=text.encode())
        self.assertEqual(rc, 0, err)
        self.assertEqual([json.loads(x) for x in out.splitlines()], lines)

    def test_requests_and_errors(self):
        segment = rctlib.load("receive_streams.json")["vectors"][0]
        self.assertEqual(segment["name"], "doc_tools_segment")
        data = bytes.fromhex(segment["chunks_hex"][0])
        # A bad CRC after the seven READs, then garbage, then a cut frame.
        bad = bytearray(bytes.fromhex("2B0508959930BF3E97B1919C86"))
        bad[-1] ^= 1
        rc, lines, err = self.decode_file(data + bytes(bad) + b"\x00\x11" + bytes.fromhex("2B0508959930"), "--binary")
        self.assertEqual(rc, 0, err)
        frames = [l for l in lines if "command" in l]
        want = [e for e in segment["events"] if e["event"] == "frame"]
        self.assertEqual([(f["command"], f["id"]) for f in frames], [(e["command"], e["id_hex"]) for e in want])
        self.assertEqual(frames[0]["name"], "battery_placeholder[0].soc_update_since")
        errors = [l for l in lines if "error" in l]
        self.assertEqual([e["error"] for e in errors], ["SW_ERR_RCT_CRC_MISMATCH", "SW_ERR_TRUNCATED"])
        self.assertEqual(errors[0]["crc_received"], "0x9C87")
        self.assertEqual(errors[0]["crc_calculated"], "0x9C86")
        self.assertEqual(errors[1]["pending"], 6)

    def test_nothing_decodable(self):
        rc, lines, err = self.decode_file(b"hello world, nothing here\n", "--binary")
        self.assertEqual((rc, lines), (1, []))
        rc, out, err = rct("decode", "--hex", os.path.join(self.tmp.name, "missing"))
        self.assertEqual(rc, 1)


class Encode(unittest.TestCase):
    def test_frames_encode_vectors(self):
        checked = 0
        for v in rctlib.load("frames_encode.json")["vectors"]:
            cmd = v["command"]
            if "error" in v or not isinstance(cmd, str) or cmd == "EXTENSION":
                continue
            if (v.get("note") or "").startswith("QUIRK"):
                continue
            # sunwire derives the address from the command and never drops a READ payload.
            if (v["frame_type"] == "PLANT") != bool(v["command_value"] & 0x40):
                continue
            if cmd in ("READ", "PLANT_READ") and v["payload_hex"] and v["api"] == "SendFrame":
                continue
            args = ["encode", "-c", cmd, "-i", v["id_hex"]]
            if v["frame_type"] == "PLANT":
                args += ["-a", str(v["address"])]
            if v["payload_hex"]:
                args += ["--payload", v["payload_hex"]]
            rc, out, err = rct(*args)
            self.assertEqual(rc, 0, v["name"] + err)
            self.assertEqual(out.strip(), v["encoded_hex"], v["name"])
            checked += 1
        self.assertGreater(checked, 190)

    def test_values_by_name(self):
        # Values are encoded with the object's type.
        self.assertEqual(rct("encode", "-n", "battery.soc"), (0, "2B0104959930BF0D65\n", ""))
        rc, out, err = rct("encode", "-c", "RESPONSE", "-n", "battery.soc", "--value", "0.29627659916877747")
        self.assertEqual((rc, out), (0, "2B0508959930BF3E97B1919C86\n"))
        rc, out, err = rct("encode", "-c", "WRITE", "-n", "logger.minutes_soc_log_ts", "--value", "1700000000")
        self.assertEqual(rc, 0, err)
        self.assertIn("6553F100", out)  # the INT32 timestamp, big-endian
        rc, out, err = rct("encode", "-c", "WRITE", "-n", "battery.soc", "--value", "lots")
        self.assertEqual(rc, 1)
        rc, out, err = rct("encode", "-c", "NOPE", "-n", "battery.soc")
        self.assertEqual(rc, 2)
        rc, out, err = rct("encode", "-c", "READ")
        self.assertEqual(rc, 2)


class Registry(unittest.TestCase):
    def lines(self, *args):
        rc, out, err = rct("registry", "--json", *args)
        return rc, [json.loads(line) for line in out.splitlines()]

    def test_lookups(self):
        d = rctlib.load("registry_lookups.json")
        for c in d["get_by_id"]:
            rc, lines = self.lines(c["id_hex"])
            if c["found"]:
                self.assertEqual(rc, 0)
                self.assertEqual(len(lines), 1)
                self.assertEqual(lines[0]["name"], c["name"])
                self.assertEqual(lines[0]["index"], c["index"])
                self.assertEqual(lines[0]["request_type"], c["request_type"])
                self.assertEqual(lines[0]["response_type"], c["response_type"])
            else:
                self.assertEqual((rc, lines), (1, []))
        for c in d["get_by_name"]:
            rc, lines = self.lines(c["name"])
            names = [l["name"] for l in lines]
            if c["found"]:
                self.assertEqual(lines[names.index(c["name"])]["id"], c["id_hex"])
            else:
                self.assertNotIn(c["name"], names)
        for c in d["prefix_complete_name"]:
            if not c["prefix"]:
                continue
            rc, lines = self.lines(c["prefix"])
            names = [l["name"] for l in lines]
            # Prefix matches first, in order; substring matches after them.
            self.assertEqual(names[:len(c["result"])], c["result"], c["prefix"])
        rc, lines = self.lines()
        self.assertEqual(len(lines), d["count"])

    def test_substring_and_text(self):
        rc, lines = self.lines("soc_target")
        names = [l["name"] for l in lines]
        self.assertIn("battery.soc_target", names)
        self.assertTrue(all("soc_target" in n for n in names))
        rc, out, err = rct("registry", "prim_sm.state")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("0x5F33284E  prim_sm.state "))
        self.assertIn("ENUM", out)
        rc, lines = self.lines("0x5F33284E")
        self.assertEqual(lines[0]["enum"]["13"], "Feed in")


class WriteValue(unittest.TestCase):
    SIM = ["--seed", "5", "--start", FIXED_START, "--speed", "0"]

    def read(self, port, name):
        rc, out, err = rct("read-value", "-h", "127.0.0.1", "-p", port, "--json", "-n", name)
        self.assertEqual(rc, 0, err)
        return json.loads(out)["value"]

    def test_refused_without_allow_write(self):
        with Simulator(*self.SIM) as sim:
            before = self.read(sim.port, "battery.soc_target")
            rc, out, err = rct("write-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "battery.soc_target", "0.5")
            self.assertEqual((rc, out), (1, ""))
            self.assertIn("--allow-write", err)
            self.assertEqual(self.read(sim.port, "battery.soc_target"), before)
            rc, out, err = rct("write-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "com_service", "5",
                               "--allow-write")
            self.assertEqual(rc, 1)
            rc, out, err = rct("write-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "battery.soc_target", "abc",
                               "--allow-write")
            self.assertEqual(rc, 2)

    def test_write_and_verify(self):
        with Simulator(*self.SIM) as sim:
            before = self.read(sim.port, "battery.soc_target")
            rc, out, err = rct("write-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "battery.soc_target",
                               "--value", "0.25", "--allow-write")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, "old: %r\nnew: 0.25\nverified: 0.25\n" % before)
            self.assertEqual(self.read(sim.port, "battery.soc_target"), 0.25)
            rc, out, err = rct("write-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "android_description",
                               "--value", "garage", "--allow-write")
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.read(sim.port, "android_description"), "garage")

    def test_mismatch_is_reported(self):
        # rctclient's fixed-value simulator ignores writes: the read-back differs.
        with Simulator("--static") as sim:
            rc, out, err = rct("write-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "battery.soc_target",
                               "--value", "0.5", "--allow-write")
        self.assertEqual(rc, 3)
        self.assertEqual(out, "old: 0.0\nnew: 0.5\n")
        self.assertIn("MISMATCH", err)


if __name__ == "__main__":
    unittest.main()
