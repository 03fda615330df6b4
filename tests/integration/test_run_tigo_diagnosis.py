"""`sunwire run` judges each Tigo line as `tigo doctor` does and carries the
verdict in the source's status (`diagnosis` in the `run --json` source
records and the web API), against simulated bridges with line faults."""
import os
import signal
import tempfile
import unittest

import runlib
from tigolib import SimBridge


class RunDiagnosis(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.daemon = None
        self.bridge = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        if self.bridge:
            self.bridge.stop()
        self.tmp.cleanup()

    def diagnosis(self, *faults, want):
        args = []
        for f in faults:
            args += ["--fault", f]
        self.bridge = SimBridge("--speed", "5", *args)
        self.daemon = runlib.Daemon(["--tigo-tcp", "127.0.0.1:%d" % self.bridge.port, "--json",
                                     "--state-dir", os.path.join(self.tmp.name, "state")])
        got = runlib.wait_until(lambda: [r for r in self.daemon.records("source")
                                         if want in (r.get("diagnosis") or "")], 20)
        self.assertTrue(got, self.daemon.stderr())
        self.assertTrue(got[-1]["connected"])
        return got[-1]

    def test_healthy(self):
        rec = self.diagnosis(want="healthy: 1 gateway, 10 nodes")
        self.assertRegex(rec["diagnosis"], r"^healthy: 1 gateway, 10 nodes, 0\.0% CRC errors$")
        self.assertEqual(self.daemon.stop(signal.SIGINT), 0)
        self.assertIn("line: healthy", self.daemon.stderr())

    def test_swapped_wires(self):
        rec = self.diagnosis("inverted", want="A/B swapped")
        self.assertIn("the byte pattern matches inverted polarity", rec["diagnosis"])
        self.assertEqual(rec["frames"], 0)
        self.assertGreater(rec["bytes"], 0)
        self.assertIn("line: bytes but no frame starts", self.daemon.stderr())

    def test_silent_line(self):
        rec = self.diagnosis("silent", want="no bytes")
        self.assertEqual(rec["diagnosis"], "no bytes: check power and the A/B connection")
        self.assertEqual(rec["bytes"], 0)


if __name__ == "__main__":
    unittest.main()
