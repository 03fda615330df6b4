#!/usr/bin/env python3
"""The examples/ programs, built against the public headers and libsunwire.so,
run on simulated data and checked against what the sunwire program itself says
about the same data."""
import json
import os
import re
import subprocess
import tempfile
import unittest

import rctlib
import tigolib

BUILD = os.environ.get("SW_BUILD_DIR", "")
BIN = os.environ.get("SUNWIRE_BIN", "")
EXAMPLES = os.path.join(BUILD, "examples")


def example(name):
    return os.path.join(EXAMPLES, name)


def simulate(path, fmt):
    """Two simulated minutes of a Tigo bus, written to path."""
    subprocess.run([BIN, "tigo", "simulate", "--file", path, "--format", fmt, "--start", "2026-06-21T09:00Z",
                    "--duration", "120", "--seed", "3", "--gateways", "2", "--panels", "6"],
                   check=True, capture_output=True, timeout=60)


class Examples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_examples_use_only_the_shared_library(self):
        for name in ("tigo_power_reports", "rct_read", "capture_to_json"):
            out = subprocess.run(["ldd", example(name)], capture_output=True, text=True, check=True).stdout
            self.assertIn("libsunwire.so", out, name)
            self.assertNotIn("not found", out, name)

    def test_tigo_bytes_to_power_reports(self):
        raw = os.path.join(self.tmp.name, "bus.raw")
        simulate(raw, "raw")
        with open(raw, "rb") as f:
            r = subprocess.run([example("tigo_power_reports")], stdin=f, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = []
        for line in r.stdout.splitlines():
            m = re.match(r"gateway (\d+) node (\d+) barcode \S+: ([\d.]+) V in, ([\d.]+) V out, ([\d.]+) A", line)
            self.assertIsNotNone(m, line)
            got.append((int(m[1]), int(m[2]), float(m[3]), float(m[4]), float(m[5])))
        # The same bytes through the program: the same reports, in the same order.
        want = []
        obs = tigolib.run([BIN, "tigo", "observe", "--file", raw], env=tigolib.quiet_env())
        for line in obs.stdout.decode().splitlines():
            ev = json.loads(line)
            if ev.get("event_type") == "power_report":
                want.append((ev["gateway"], ev["node"], ev["voltage_in"], ev["voltage_out"], ev["current"]))
        self.assertGreater(len(want), 20)
        self.assertEqual(got, want)
        self.assertIn("%d power reports" % len(want), r.stderr)

    def test_capture_to_json_equals_taptap_observe(self):
        cap = os.path.join(self.tmp.name, "bus.pcapng")
        simulate(cap, "pcapng")
        env = dict(os.environ, TZ="UTC")
        r = subprocess.run([example("capture_to_json"), cap], capture_output=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        t = subprocess.run([tigolib.taptap_path(), "observe", "--file", cap], capture_output=True, env=env,
                           timeout=60)
        self.assertEqual(t.returncode, 0, t.stderr)
        self.assertGreater(r.stdout.count(b'"power_report"'), 20)
        self.assertIn(b'"infrastructure_report"', r.stdout)
        self.assertEqual(r.stdout, t.stdout)

    def test_capture_to_json_refuses_a_broken_capture(self):
        bad = os.path.join(self.tmp.name, "bad.pcapng")
        with open(bad, "wb") as f:
            f.write(b"\x0a\x0d\x0d\x0a" + b"\xff" * 40)
        r = subprocess.run([example("capture_to_json"), bad], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(bad, r.stderr)

    def test_rct_request_to_decoded_answer(self):
        with rctlib.Simulator() as sim:
            for name in ("android_description", "battery.soc", "g_sync.p_ac_grid_sum_lp"):
                r = subprocess.run([example("rct_read"), "127.0.0.1", str(sim.port), name], capture_output=True,
                                   text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith(name + ": "), r.stdout)
                value = r.stdout.strip()[len(name) + 2:]
                rc, out, err = rctlib.rct("read-value", "--host", "127.0.0.1", "--port", str(sim.port), "--name", name)
                self.assertEqual(rc, 0, err)
                if name == "android_description":
                    self.assertEqual(value, out.strip())
                else:  # live values move between the two reads
                    self.assertAlmostEqual(float(value), float(out.strip()), delta=abs(float(value)) * 0.2 + 1)
        r = subprocess.run([example("rct_read"), "127.0.0.1", "1", "no.such.object"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no such object", r.stderr)


if __name__ == "__main__":
    unittest.main()
