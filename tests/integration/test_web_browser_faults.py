#!/usr/bin/env python3
"""The dashboard in a real browser (browserlib.py): `sunwire demo --faults`, the
injected faults found by the detectors and shown in the attention panel and the grid.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browserlib import BrowserCase, start_demo_today  # noqa: E402


class DemoFaultsInBrowser(BrowserCase):
    """`sunwire demo --faults`: faults injected into the simulated bus, found by the detectors, on the dashboard."""
    server_kind = "demo-faults"

    @classmethod
    def start_server(cls):
        # 5 simulated minutes per real second from 10:00: the first faults start 6 s in.
        return start_demo_today("10:00", "--faults", "--speed", "300")

    def test_faults_on_the_dashboard(self):
        self.load()
        kinds = lambda: {i["kind"]: i for i in self.js(
            "return [...document.querySelectorAll('#attention li[data-kind]')].map(l => ({kind: l.dataset.kind,"
            " panel: l.dataset.panel, text: l.textContent}));")}
        found = self.wait_for("the injected faults in the attention panel", lambda: (lambda k: k if {
            "no_power", "hot", "stuck", "diode_loss"} <= set(k) else None)(kinds()), timeout=60)
        self.assertIn("E4", found["no_power"]["text"])
        self.assertIn("W3", found["hot"]["text"])
        self.assertIn("E7", found["stuck"]["text"])
        self.assertIn("W8", found["diode_loss"]["text"])
        self.shot("overview")
        self.go("panels")
        marked = self.wait_for("the broken panels coloured", lambda: (lambda m: m if {"E4", "W3", "E7", "W8"} <= set(m)
                               else None)({t["name"]: t for t in self.js(
                                   "return [...document.querySelectorAll('.tile.problem')].map(t => ({name: "
                                   "t.querySelector('.t-name span').textContent, kinds: t.dataset.problems}));")}))
        self.assertIn("no_power", marked["E4"]["kinds"].split())
        self.shot("panels")
        self.assert_no_console_errors()


if __name__ == "__main__":
    unittest.main()
