#!/usr/bin/env python3
"""The Tigo <-> RCT cross-check end to end, in `sunwire demo`: a healthy morning.

The demo with no fault from 03:00 UTC, before sunrise, to 08:20 at 600x (32
real seconds, the tracker polled every 20 simulated minutes): dawn, when both
powers cross the floor, raises no dc_mismatch, and each string's derived DC
loss is the demo's 2 %. The demo's shaded panels (the third of each string)
really underperform in the morning and the peer detector says so; nothing else
may be raised. The lossy tracker is test_dc_crosscheck.py. Like it, this
runs in the release build only: a sanitizer build cannot keep the demo's pace.
"""
import re
import unittest

from runlib import demo_dc_loss, mostly, sanitized


@unittest.skipIf(sanitized(), "a sanitizer build cannot keep the demo's pace")
class HealthyMorning(unittest.TestCase):
    def test_no_false_alarm_at_dawn(self):
        start = 1748746800  # 2025-06-01T03:00:00Z
        code, took, err, rows = demo_dc_loss(600, start, 32)
        self.assertEqual(code, 0, err)
        self.assertLess(took, 32 + 15)
        kinds = set(re.findall(r"problem:? (\w+) on", err))
        self.assertLessEqual(kinds, {"underperforming"}, err)
        self.assertNotIn("dc_mismatch", err)
        for string in ("east", "west"):
            loss = [(t, v) for t, o, v in rows if ".%s." % string in o]
            self.assertGreater(len(loss), 6, rows)
            # judged only in daylight: the first loss figure comes after sunrise
            self.assertGreater(loss[0][0], (start + 1200) * 10**9, loss)
            self.assertTrue(mostly([v for _, v in loss], lambda v: abs(v - 2.0) < 3.0), loss)


if __name__ == "__main__":
    unittest.main()
