#!/usr/bin/env python3
"""The dashboard in a real browser (browserlib.py): problems set on the fixture
installation in the attention panel and on the grid.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browserlib import BrowserCase, By, weblib  # noqa: E402


class ProblemsInBrowser(BrowserCase):
    """Problems raised in the model (the fixture does what a detector would): the attention panel
    lists them, the grid colours their panels, and both follow a problem raised while the page is open."""
    server_kind = "problems"

    @classmethod
    def start_server(cls):
        if not os.path.exists(weblib.fixture_path()):
            raise RuntimeError("the fixture server %s is not built" % weblib.fixture_path())
        return weblib.start_fixture(interval_ms=1000, problems=True)

    def attention(self):
        return self.js("return [...document.querySelectorAll('#attention li')].map(l => ({kind: l.dataset.kind,"
                       " subject: l.dataset.subject, panel: l.dataset.panel || null, text: l.textContent}));")

    def test_attention_and_grid(self):
        self.load()
        api = weblib.get_json(self.srv.base + "/api/problems?active=true")[2]
        self.assertEqual(sorted(p["kind"] for p in api), ["controller_silent", "no_power"])
        items = self.wait_for("the two problems in the attention panel", lambda: (lambda a: a if len(a) == 2 and all(
            i["kind"] for i in a) else None)(self.attention()))
        by_kind = {i["kind"]: i for i in items}
        # Oldest first: east-3 lost its power ten minutes ago, the controller 95 s ago.
        self.assertEqual([i["kind"] for i in items], ["no_power", "controller_silent"])
        dead = by_kind["no_power"]
        self.assertIn("Optimizer passes no power", dead["text"])
        self.assertIn("east-3", dead["text"])
        self.assertIn("0.2 W at 41 V in", dead["text"])
        self.assertRegex(dead["text"], r"since \d\d:\d\d \((9|10|11) min ago\)")
        self.assertEqual(dead["panel"], next(p["panel"] for p in api if p["kind"] == "no_power"))
        self.assertIsNone(by_kind["controller_silent"]["panel"])
        self.assertIn("Controller stopped polling", by_kind["controller_silent"]["text"])
        # The hot panel arrives over the event stream at the 20th tick (20 s in), without a reload.
        self.js("window.__swMarker = 7;")
        self.wait_for("the hot panel raised while the page is open",
                      lambda: any(i["kind"] == "hot" for i in self.attention()), timeout=30)
        self.assertEqual(self.js("return window.__swMarker;"), 7)
        self.assertEqual(self.driver.find_element(By.ID, "attention-count").text, "3")
        # The inverter's blocked control setting is an alert, as /api/alerts says.
        blocked = self.wait_for("the blocked control setting in the alerts", lambda: self.js(
            "return [...document.querySelectorAll('#alerts li[data-kind=\"control_blocked\"]')]"
            ".map(l => l.textContent);"))
        self.assertEqual(len(blocked), 1)
        self.assertIn("Inverter house takes no writes to power_mng.soc_min until ", blocked[0])
        self.assertIn(("control_blocked", "house"), {(a["kind"], a["subject"]) for a in weblib.get_json(
            self.srv.base + "/api/alerts")[2]})
        self.shot("overview-attention")

        self.go("panels")
        self.wait_for("tiles", lambda: len(self.tiles()) == 16)
        marked = self.js("return [...document.querySelectorAll('.tile.problem')].map(t => ({id: t.dataset.panelId,"
                         " kinds: t.dataset.problems, badge: t.querySelector('.pbadge').textContent,"
                         " name: t.querySelector('.t-name span').textContent,"
                         " bg: getComputedStyle(t).backgroundColor, border: getComputedStyle(t).borderTopColor}));")
        self.assertEqual(sorted(t["name"] for t in marked), ["east-3", "west-2"])
        for t in marked:
            # The problem colour, whatever the power: --problem-bg with the --bad border.
            self.assertEqual(t["bg"], "rgb(246, 201, 196)", t)
            self.assertEqual(t["border"], "rgb(214, 69, 69)", t)
        east3 = next(t for t in marked if t["name"] == "east-3")
        self.assertEqual((east3["kinds"], east3["badge"]), ("no_power", "Optimizer passes no power"))
        west2 = next(t for t in marked if t["name"] == "west-2")
        self.assertEqual((west2["kinds"], west2["badge"]), ("hot", "Hotter than its peers"))
        # The others keep the power colours.
        others = self.js("return [...document.querySelectorAll('.tile:not(.problem):not(.stale)')]"
                         ".map(t => getComputedStyle(t).backgroundColor);")
        self.assertEqual(len(others), 13)
        self.assertNotIn("rgb(246, 201, 196)", others)
        self.shot("panels-problems")

        # A panel's problem in the attention panel opens that panel.
        self.go("overview")
        self.driver.find_element(By.CSS_SELECTOR, '#attention li[data-kind="no_power"]').click()
        self.wait_for("the panel dialog of east-3", lambda: not self.js(
            "return document.getElementById('modal').hidden;") and "east-3" in self.driver.find_element(
            By.ID, "modal-title").text)
        self.driver.find_element(By.ID, "modal-close").click()
        self.assert_no_console_errors()


if __name__ == "__main__":
    unittest.main()
