#!/usr/bin/env python3
"""The dashboard in a real browser (browserlib.py): `sunwire demo`, the whole product
on its simulators, page by page.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browserlib import ActionChains, BrowserCase, By, start_demo_today, weblib  # noqa: E402


class DemoInBrowser(BrowserCase):
    """`sunwire demo` (simulated bus and inverter) seen through the dashboard."""
    server_kind = "demo"

    @classmethod
    def start_server(cls):
        # Midday of a simulated day at ten times real speed: every panel awake, values moving.
        return start_demo_today("11:00", "--speed", "10")

    def test_pages(self):
        self.load()
        # Overview: the energy flow, the numbers and today's chart.
        self.wait_for("energy flow", lambda: self.svg_sizes("#flow svg") and self.svg_sizes("#flow svg")[0][0] > 100)
        self.wait_for("battery state of charge", lambda: re.search(
            r"\d+ %", self.driver.find_element(By.ID, "kpis").text))
        self.assert_chart("#today-chart svg.chart", "today")
        self.wait_for("string bars", lambda: len(self.driver.find_elements(By.CSS_SELECTOR, "#string-bars .sbar")) == 2)
        self.shot("overview")

        self.go("panels")
        # The bus announces nodes before their first reports; wait until every panel has reported.
        api = self.wait_for("every simulated panel reporting", lambda: (lambda ps: len(ps) == 20 and all(
            p["online"] for p in ps) and {p["id"]: p for p in ps})(weblib.get_json(self.srv.base + "/api/panels")[2]),
            timeout=30)
        self.wait_for("all tiles live", lambda: len(self.tiles()) == len(api) and not any(
            t["stale"] for t in self.tiles()))
        for t in self.tiles():
            p = api[t["id"]]
            self.assertEqual(t["name"], p["name"])
            self.assertEqual(t["code"], p["barcode"] or "barcode unknown")
            self.assertRegex(t["power"], r"^\d+ W$|^\d+\.\d\d kW$")
        groups = self.js("return [...document.querySelectorAll('.group')].map(g => g.dataset.string);")
        self.assertEqual(sorted(groups), sorted({p["string"] for p in api.values()}))
        self.shot("panels")

        # A live update changes a tile without reloading the page, and without replacing it:
        # the same button element stays in the document, only its texts change.
        self.js("window.__swMarker = 42;")
        first = self.tiles()[0]
        self.js("window.__swTile = document.querySelector('.tile[data-panel-id=\"' + arguments[0] + '\"]');"
                "window.__swGrid = document.querySelector('.group');", first["id"])
        before = self.js("return window.__swTile.textContent;")
        self.wait_for("a tile to change by itself", lambda: self.js(
            "return document.querySelector('.tile[data-panel-id=\"' + arguments[0] + '\"]').textContent;",
            first["id"]) != before, timeout=30)
        self.assertEqual(self.js("return window.__swMarker;"), 42)
        self.assertTrue(self.js("return window.__swTile.isConnected && window.__swTile === document.querySelector("
                                "'.tile[data-panel-id=\"' + arguments[0] + '\"]') && window.__swGrid.isConnected;",
                                first["id"]), "the tile was replaced by an update")

        # A press of half a second, as people click, opens the dialog while the tiles keep updating
        # (the demo runs at 10x: several updates a second).
        for t in self.tiles()[:5]:
            el = self.driver.find_element(By.CSS_SELECTOR, '.tile[data-panel-id="%s"]' % t["id"])
            ActionChains(self.driver).move_to_element(el).click_and_hold().pause(0.5).release().perform()
            self.wait_for("panel dialog of %s after a 0.5 s press" % t["name"],
                          lambda: not self.js("return document.getElementById('modal').hidden;"), timeout=3)
            self.assertIn(t["name"], self.driver.find_element(By.ID, "modal-title").text)
            self.assert_chart("#modal-chart svg.chart", "panel day")
            # The performance index over weeks: a chart once today's index is known, else a
            # note saying why; never an error from the API.
            self.wait_for("performance index box", lambda: self.js(
                "return document.querySelector('#modal-perf svg.perf-chart, #modal-perf .note') !== null;"), timeout=5)
            perf = self.driver.find_element(By.ID, "modal-perf").text
            self.assertNotRegex(perf, r"(?i)error|failed|unknown panel|HTTP", perf)
            if t is self.tiles()[0]:
                self.shot("panel-dialog")
            self.driver.find_element(By.ID, "modal-close").click()
            self.wait_for("dialog closed", lambda: self.js("return document.getElementById('modal').hidden;"))

        self.go("history")
        self.assert_chart("#hist-chart svg.chart", "history day")
        self.assert_chart("#hist-strings svg.chart", "strings day")
        self.assert_chart("#hist-daily svg.chart", "daily energy")
        self.wait_for("daily bars", lambda: self.driver.find_elements(By.CSS_SELECTOR, "#hist-daily rect.bar"))
        self.shot("history")

        self.go("devices")
        self.wait_for("gateways", lambda: len(self.driver.find_elements(By.CSS_SELECTOR, "#gateways .dev")) >= 1)
        self.wait_for("inverter identity", lambda: "PS 6.0" in self.driver.find_element(By.ID, "inverters").text)
        self.shot("devices")

        self.go("live")
        self.wait_for("raw events", lambda: len(self.driver.find_elements(By.CSS_SELECTOR, "#live-list li")) >= 3)
        self.check_live_readable()
        self.shot("live")
        self.assert_no_console_errors()


if __name__ == "__main__":
    unittest.main()
