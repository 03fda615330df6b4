#!/usr/bin/env python3
"""The Tigo <-> RCT cross-check end to end, in `sunwire demo`: a lossy tracker.

The demo's simulated inverter gives each tracker the power its string's
simulated panels deliver, less 2 % of DC loss, and maps east to input 0 and
west to input 1 ([health] dc_input.*). The daemon follows the simulated clock
and polls the tracker every 2 real seconds; the demo smooths the comparison
over one poll's worth of simulated time and holds a mismatch for two.

07:00 to 12:20 UTC at 600x (32 real seconds, a poll every 20 simulated
minutes). West's tracker loses 30 % from 08:00 to 09:30
(`--rct-fault dc-loss:1=30@1h-150m`): dc_mismatch is raised on west while the
fault lasts and cleared within the hold after it ends; east raises nothing.
The derived loss per string lands in the history with the simulated times.
A healthy morning is test_dc_healthy_morning.py. Both need the demo's
simulators to keep their pace, which a sanitizer build running tests side by
side does not: there the detector's own unit tests (tests/unit/health/
test_crosscheck.c) run under the sanitizers instead.
"""
import re
import unittest

from runlib import demo_dc_loss, mostly, sanitized


@unittest.skipIf(sanitized(), "a sanitizer build cannot keep the demo's pace (see above)")
class CrossCheck(unittest.TestCase):
    def demo(self, speed, start_s, duration, faults=()):
        code, took, err, rows = demo_dc_loss(speed, start_s, duration, faults)
        self.assertEqual(code, 0, err)
        self.assertLess(took, duration + 15)
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


if __name__ == "__main__":
    unittest.main()
