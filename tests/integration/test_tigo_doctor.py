"""`sunwire tigo doctor` against the simulator's line faults written to
capture files, and on the public garbled dump (test_tigo_doctor_bridge.py: live).

Each fault is injected with `tigo simulate --fault`, so the doctor never
knows what was done to the line: it must name the cause from the bytes.
"""
import json
import os
import tempfile
import unittest

from tigolib import BIN, DATA, free_port, run

START = "2025-06-21T10:00:00Z"  # a bright morning: every panel reports


class DoctorOnFiles(unittest.TestCase):
    """Each simulated line fault, written to a file, gets the verdict that names it."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def doctor_file(self, *faults, gateways=1, fmt="raw"):
        path = os.path.join(self.tmp.name, "bus-%s.%s" % ("-".join(faults) or "sound", fmt))
        argv = [BIN, "tigo", "simulate", "--start", START, "--duration", "30", "--gateways", str(gateways),
                "--format", fmt, "--file", path]
        for f in faults:
            argv += ["--fault", f]
        r = run(argv, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = run([BIN, "tigo", "doctor", "--file", path])
        js = run([BIN, "tigo", "doctor", "--file", path, "--json"])
        self.assertEqual(text.returncode, js.returncode)
        verdict = json.loads(js.stdout)
        self.assertEqual(text.stdout.decode().splitlines()[0], verdict["text"])
        self.assertEqual(verdict["healthy"], js.returncode == 0)
        return verdict, text.stdout.decode()

    def test_sound_bus(self):
        v, text = self.doctor_file(gateways=2, fmt="pcapng")
        self.assertEqual(v["verdict"], "healthy")
        self.assertEqual(v["gateways"], 2)
        self.assertEqual(v["nodes"], 20)
        self.assertEqual(v["damaged"], 0)
        self.assertGreater(v["seconds"], 25)
        self.assertTrue(text.startswith("healthy: 2 gateways, 20 nodes, 0.0% CRC errors"), text)

    def test_inverted(self):
        v, text = self.doctor_file("inverted")
        self.assertEqual(v["verdict"], "wrong-line")
        self.assertEqual(v["frames"], 0)
        self.assertEqual(v["line"]["inverted"], True)
        self.assertEqual(v["line"]["baud"], 38400)
        self.assertIn("A/B swapped (the byte pattern matches inverted polarity)", text)

    def test_wrong_baud(self):
        for baud in (9600, 19200, 57600, 115200):
            with self.subTest(baud=baud):
                v, text = self.doctor_file("baud=%d" % baud)
                self.assertEqual(v["verdict"], "wrong-line")
                self.assertEqual(v["line"], {"inverted": False, "baud": baud, "bus_baud": 38400,
                                             "matches": v["line"]["matches"]})
                self.assertIn("wrong baud rate (the byte pattern matches the 38400-baud bus read at %d baud)" % baud,
                              text)

    def test_inverted_and_wrong_baud(self):
        v, _ = self.doctor_file("inverted", "baud=19200")
        self.assertEqual(v["verdict"], "wrong-line")
        self.assertEqual((v["line"]["inverted"], v["line"]["baud"]), (True, 19200))

    def test_noise(self):
        v, text = self.doctor_file("noise=0.002")
        self.assertEqual(v["verdict"], "noisy")
        self.assertGreater(v["frames"], 50)
        self.assertGreater(v["damaged_pct"], 5.0)
        self.assertIn("frames but many CRC errors", text)
        self.assertIn("noise, termination or ground", text)

    def test_silent(self):
        v, text = self.doctor_file("silent")
        self.assertEqual(v["verdict"], "no-bytes")
        self.assertEqual(v["bytes"], 0)
        self.assertIn("no bytes: check power and the A/B connection", text)

    def test_no_controller(self):
        v, text = self.doctor_file("no-controller", gateways=2)
        self.assertEqual(v["verdict"], "no-controller")
        self.assertEqual(v["controller_frames"], 0)
        self.assertGreater(v["gateway_frames"], 50)
        self.assertIn("frames from gateways but no controller requests: no CCA on the bus", text)

    def test_fault_starting_later(self):
        """Faults from the middle of the file on: the first half still decodes."""
        v, _ = self.doctor_file("silent@15s")
        self.assertEqual(v["verdict"], "healthy")
        v, _ = self.doctor_file("noise=0.01@15s")
        self.assertEqual(v["verdict"], "noisy")


class SourceThatCannotOpen(unittest.TestCase):
    """A missing port or a refusing bridge is said at once (exit 2), not retried into "no bytes"."""

    def test_refused_and_missing(self):
        for src in (["--tcp", "127.0.0.1", "--port", str(free_port())], ["--serial", "/dev/sunwire-no-such-tty"]):
            with self.subTest(src=src[0]):
                r = run([BIN, "tigo", "doctor", *src, "--seconds", "20"], timeout=15)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stdout, b"")
                self.assertIn(b"cannot open", r.stderr)


class PublicDump(unittest.TestCase):
    """The garbled peek-bytes output posted in willglynn/taptap issue #5."""

    def test_verdict(self):
        with open(os.path.join(DATA, "tigo", "issue5_garbled_peek_bytes.json"), encoding="utf-8") as f:
            vec = json.load(f)
        with tempfile.NamedTemporaryFile(suffix=".bin") as raw:
            raw.write(bytes.fromhex(vec["bytes_hex"]))
            raw.flush()
            r = run([BIN, "tigo", "doctor", "--file", raw.name, "--json"])
        v = json.loads(r.stdout)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(v["bytes"], 346)
        self.assertEqual(v["frames"], 0)
        self.assertEqual(v["verdict"], vec["expected"]["verdict"])
        self.assertEqual(v["line"]["inverted"], vec["expected"]["inverted"])
        self.assertEqual(v["line"]["baud"], vec["expected"]["baud"])
        self.assertIn("read at 9600 baud", v["text"])


if __name__ == "__main__":
    unittest.main()
