#!/usr/bin/env python3
"""The dashboard in a real browser (browserlib.py): a simulated morning and afternoon
of `sunwire demo`, fast; the history and the Today chart follow the demo's clock.
"""
import calendar
import shutil
import subprocess
import tempfile
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browserlib import BrowserCase, start_demo_today, weblib  # noqa: E402


class DemoDayInBrowser(BrowserCase):
    """A whole simulated morning and afternoon, fast: every row of the history is on the demo's clock."""
    server_kind = "demo-day"

    @classmethod
    def start_server(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="sw-demo-day-")
        # 10 simulated minutes per real second from 06:30 UTC: four hours of the day in 24 s.
        return start_demo_today("06:30", "--speed", "600", "--data-dir", cls.data_dir)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.data_dir, ignore_errors=True)

    def test_today_is_the_demo_day(self):
        hours = lambda pts: (max(p[0] for p in pts) - min(p[0] for p in pts)) / 3600000.0 if pts else 0
        # Wait until the day's string total spans four simulated hours with many distinct times
        # (the wall clock put every string row within a minute or two of each other: one spike).
        def day_curve():
            a = weblib.get_json(self.srv.base + "/api/history/day?string=total&day=today")[2]
            return a if hours(a["points"]) >= 4 and len({p[0] for p in a["points"]}) > 12 else None
        self.wait_for("four simulated hours of string totals in the history", day_curve, timeout=150)

        self.load()
        # The Today chart draws that curve: many distinct x positions across a wide part of the chart.
        def curve():
            d = self.js("const p = document.querySelector('#today-chart path.series'); return p && p.getAttribute('d');")
            if not d:
                return None
            xs = sorted({round(float(pt.split(",")[0]), 1) for pt in re.findall(r"[\d.]+,[\d.]+", d)})
            return xs if len(xs) > 12 else None
        xs = self.wait_for("a day curve in the Today chart", curve)
        self.assertGreater(xs[-1] - xs[0], 900 * 4 / 24 * 0.9, "the curve spans less than four hours of the chart")
        self.shot("today")

        # `sunwire history` with its default range prints the demo's day, strings and panels alike.
        db = os.path.join(self.data_dir, "history.db")
        for table in ("strings", "panels"):
            out = subprocess.run([weblib.SUNWIRE, "history", "--db", db, "--table", table, "--time", "unix"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr.decode())
            times = [float(line.split(",", 1)[0]) for line in out.stdout.decode().splitlines()[1:]]
            self.assertGreater(len(times), 12, table)
            self.assertGreaterEqual((max(times) - min(times)) / 3600, 3, "%s: the rows span less than the demo's hours"
                                    % table)
            start = calendar.timegm(time.strptime(time.strftime("%Y-%m-%d", time.gmtime()) + " 06:30", "%Y-%m-%d %H:%M"))
            self.assertGreaterEqual(min(times), start - 60, "%s: a row from before the simulated day" % table)
        self.assert_no_console_errors()


if __name__ == "__main__":
    unittest.main()
