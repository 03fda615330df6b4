#!/usr/bin/env python3
"""The Tigo <-> RCT cross-check end to end, in `sunwire demo`.

The demo's simulated inverter gives each tracker the power its string's
simulated panels deliver, less 2 % of DC loss, and maps east to input 0 and
west to input 1 ([health] dc_input.*). The daemon follows the simulated clock
and polls the tracker every 2 real seconds; the demo smooths the comparison
over one poll's worth of simulated time and holds a mismatch for two.

- A lossy tracker: 07:00 to 12:20 UTC at 600x (32 real seconds, a poll every
  20 simulated minutes). West's tracker loses 30 % from 08:00 to 09:30
  (`--rct-fault dc-loss:1=30@1h-150m`): dc_mismatch is raised on west while the
  fault lasts and cleared within the hold after it ends; east raises nothing.
- The simulated daylight with no fault, 03:00 to 19:00 UTC at 1800x: nothing is
  raised. A sanitizer build cannot simulate the bus that fast, so it skips this.
The derived loss per string lands in the history with the simulated times.
"""
import os
import re
import sqlite3
import subprocess
import tempfile
import time
import unittest

import runlib


def sanitized():
    r = subprocess.run(["ldd", runlib.BIN], capture_output=True, text=True)
    return "libasan" in r.stdout or "libubsan" in r.stdout


def mostly(values, ok):
    return sum(1 for v in values if ok(v)) >= 0.75 * len(values)


class CrossCheck(unittest.TestCase):
    def demo(self, speed, start_s, duration, faults=()):
        """Run the demo; returns (stderr, [(ts_ns, object, loss_pct)] from the history)."""
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            env = dict(os.environ, SUNWIRE_LOG="info")
            args = [runlib.BIN, "demo", "--speed", str(speed), "--start", "@%d" % start_s,
                    "--duration", str(duration), "--seed", "3", "--data-dir", data]
            for f in faults:
                args += ["--rct-fault", f]
            t0 = time.monotonic()
            r = subprocess.run(args, capture_output=True, timeout=duration + 30, env=env)
            self.assertLess(time.monotonic() - t0, duration + 15)
            err = r.stderr.decode("utf-8", "replace")
            self.assertEqual(r.returncode, 0, err)
            db = sqlite3.connect(os.path.join(data, "history.db"))
            try:
                rows = db.execute("SELECT ts_ns, object, number FROM inverter_values "
                                  "WHERE object LIKE 'health.string.%.dc_loss_pct' AND number != 0 "
                                  "ORDER BY ts_ns").fetchall()
            finally:
                db.close()
        return err, rows

    def test_lossy_tracker(self):
        start = 1748761200  # 2025-06-01T07:00:00Z
        err, rows = self.demo(600, start, 32, ["dc-loss:1=30@1h-150m"])
        raised = re.findall(r"WARN .*problem dc_mismatch on string (\w+): (.*)", err)
        cleared = re.findall(r"problem dc_mismatch on string (\w+) cleared", err)
        self.assertEqual([s for s, _ in raised], ["west"], err)
        self.assertIn("input 1 sees 3", raised[0][1])
        self.assertEqual(cleared, ["west"], err)
        self.assertLess(err.index("on string west:"), err.index("on string west cleared"))
        east = [v for t, o, v in rows if ".east." in o]
        west = [(t, v) for t, o, v in rows if ".west." in o]
        self.assertGreater(len(east), 8, rows)
        # east agrees with the demo's 2 % loss, far under the 10 % noise floor
        self.assertTrue(mostly(east, lambda v: abs(v - 2.0) < 3.0), east)
        fault_from, fault_to = (start + 3600) * 10**9, (start + 9000) * 10**9
        # the first readings of the fault and after it are on their way (smoothed over one poll)
        inside = [v for t, v in west if fault_from + 1800 * 10**9 <= t < fault_to]
        before = [v for t, v in west if t < fault_from]
        after = [v for t, v in west if t >= fault_to + 3600 * 10**9]
        self.assertGreater(len(inside), 1, west)
        self.assertTrue(mostly(inside, lambda v: 22.0 < v < 35.0), west)
        self.assertTrue(mostly(before + after, lambda v: abs(v - 2.0) < 3.0), west)

    @unittest.skipIf(sanitized(), "a sanitizer build cannot simulate the bus at 1800x")
    def test_healthy_daylight(self):
        start = 1748746800  # 2025-06-01T03:00:00Z, at sunrise
        err, rows = self.demo(1800, start, 32)
        # The demo's shaded panels (the third of each string) really underperform in the
        # morning and the peer detector says so; nothing else may be raised.
        kinds = set(re.findall(r"problem:? (\w+) on", err))
        self.assertLessEqual(kinds, {"underperforming"}, err)
        self.assertNotIn("dc_mismatch", err)
        for string in ("east", "west"):
            loss = [v for t, o, v in rows if ".%s." % string in o]
            self.assertGreater(len(loss), 8, rows)
            self.assertTrue(mostly(loss, lambda v: abs(v - 2.0) < 3.0), loss)


if __name__ == "__main__":
    unittest.main()
