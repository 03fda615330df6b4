"""`sunwire tigo doctor --tcp` against a live simulated bridge with line
faults: the verdicts of the capture files, reached within --seconds, with
progress lines on stderr."""
import json
import time
import unittest

from tigolib import BIN, SimBridge, run

START = "2025-06-21T10:00:00Z"


class DoctorOnBridge(unittest.TestCase):
    """The same verdicts from a live TCP bridge, stopped after --seconds."""

    def doctor_tcp(self, bridge_args, seconds, *extra):
        b = SimBridge(*bridge_args, start=START)
        self.addCleanup(b.stop)
        t0 = time.monotonic()
        r = run([BIN, "tigo", "doctor", "--tcp", "127.0.0.1", "--port", str(b.port), "--seconds", str(seconds),
                 "--json", *extra], timeout=seconds + 30)
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, seconds - 0.5)
        self.assertLess(elapsed, seconds + 10)
        return r.returncode, json.loads(r.stdout), r.stderr.decode()

    def test_healthy_bridge_with_progress(self):
        rc, v, err = self.doctor_tcp(["--speed", "5", "--gateways", "2"], 6, "--verbose")
        self.assertEqual(rc, 0, err)
        self.assertEqual(v["verdict"], "healthy")
        self.assertEqual(v["gateways"], 2)
        self.assertGreater(v["frames"], 50)
        self.assertRegex(err, r"doctor:\s+5 s: \d+ bytes, \d+ frames, 0 damaged")

    def test_inverted_bridge(self):
        rc, v, _ = self.doctor_tcp(["--speed", "5", "--fault", "inverted"], 3)
        self.assertEqual(rc, 1)
        self.assertEqual(v["verdict"], "wrong-line")
        self.assertEqual((v["line"]["inverted"], v["line"]["baud"]), (True, 38400))

    def test_wrong_baud_bridge(self):
        rc, v, _ = self.doctor_tcp(["--speed", "5", "--fault", "baud=9600"], 3)
        self.assertEqual(rc, 1)
        self.assertEqual(v["verdict"], "wrong-line")
        self.assertEqual((v["line"]["inverted"], v["line"]["baud"]), (False, 9600))

    def test_silent_bridge(self):
        rc, v, _ = self.doctor_tcp(["--fault", "silent"], 2)
        self.assertEqual(rc, 1)
        self.assertEqual(v["verdict"], "no-bytes")
        self.assertEqual(v["text"], "no bytes: check power and the A/B connection")


if __name__ == "__main__":
    unittest.main()
