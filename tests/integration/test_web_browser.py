#!/usr/bin/env python3
"""The dashboard in a real browser (browserlib.py) on the fixture: a fixed synthetic
installation, so tile values can be compared exactly, earlier days come from a
seeded history.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browserlib import BrowserCase, By, js_watts, weblib  # noqa: E402


class FixtureInBrowser(BrowserCase):
    """The fixed synthetic installation: exact values, a seeded history, pause."""
    server_kind = "fixture"

    @classmethod
    def start_server(cls):
        if not os.path.exists(weblib.fixture_path()):
            raise RuntimeError("the fixture server %s is not built" % weblib.fixture_path())
        return weblib.start_fixture(history=True, interval_ms=1500)

    def settled_tiles(self):
        """Tiles and the API at one instant: retry until no update fell between the two reads."""
        for _ in range(20):
            a = weblib.get_json(self.srv.base + "/api/panels")[2]
            time.sleep(0.6)  # the page coalesces updates for up to 0.4 s
            tiles = self.tiles()
            b = weblib.get_json(self.srv.base + "/api/panels")[2]
            if a == b:
                return tiles, {p["id"]: p for p in a}
        self.fail("the panels never held still for a moment")

    def test_values_and_pages(self):
        self.load()
        self.go("panels")
        self.wait_for("tiles", lambda: len(self.tiles()) == 16)
        tiles, api = self.settled_tiles()
        for t in tiles:
            p = api[t["id"]]
            self.assertEqual((t["name"], t["code"]), (p["name"], p["barcode"]))
            if p["online"]:
                self.assertFalse(t["stale"], t)
                self.assertEqual(t["power"], js_watts(p["power_w"]), t["name"])
                self.assertTrue(t["bg"], t["name"])
            else:
                self.assertTrue(t["stale"], t)
                self.assertEqual(t["power"], "–")
        # Colours follow each string's best panel: the shaded east-3 is paler than east's best.
        light = {t["name"]: self.js(
            "const m = getComputedStyle(document.querySelector('.tile[data-panel-id=\"' + arguments[0] + '\"]'))"
            ".backgroundColor.match(/\\d+/g).map(Number); return m[0] + m[1] + m[2];", t["id"]) for t in tiles}
        best_east = max((p for p in api.values() if p["string"] == "east"), key=lambda p: p["power_w"])["name"]
        self.assertGreater(light["east-3"], light[best_east] + 60)
        self.assertIn("OFFLINE", self.driver.find_element(By.CSS_SELECTOR, ".tile.stale").text)
        self.shot("panels")

        # Overview alerts: the dead serial source and the silent panel.
        self.go("overview")
        alerts = self.wait_for("alerts", lambda: self.js(
            "return [...document.querySelectorAll('#alerts li')].map(l => l.dataset.kind);"))
        self.assertIn("source_down", alerts)
        self.assertIn("panel_offline", alerts)
        self.assert_chart("#flow svg", "energy flow")
        self.shot("overview")

        # History of a seeded day: 73 samples of string east, and bars for the last days.
        self.go("history")
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        self.js("const d = document.getElementById('hist-day'); d.value = arguments[0];"
                "d.dispatchEvent(new Event('change'));", yesterday)
        self.wait_for("yesterday's chart", lambda: yesterday in self.driver.find_element(By.ID, "hist-title").text)
        self.assert_chart("#hist-chart svg.chart", "history")
        def seeded_lines():
            got = self.js("return [...document.querySelectorAll('#hist-strings path.series')].map(p => "
                          "[p.getAttribute('d').split('L').length, p.getBBox().width]);")
            # The chart may first draw from data still in flight: wait for the day's rows.
            return got if got and all(n > 1 for n, _ in got) else None
        lines = self.wait_for("string lines", seeded_lines)
        self.assertEqual(len(lines), 2)
        for n, width in lines:
            self.assertEqual(n, 73)
            self.assertGreater(width, 100)
        bars = self.wait_for("daily bars", lambda: self.js(
            "return [...document.querySelectorAll('#hist-daily rect.bar')].map(r => r.getBBox().height);"))
        self.assertGreaterEqual(len([h for h in bars if h > 1]), 3)
        self.shot("history")

        # Devices: firmware, node table, counters.
        self.go("devices")
        gw = self.wait_for("gateway", lambda: self.driver.find_element(By.CSS_SELECTOR, "#gateways .dev").text)
        self.assertIn("Mgate Version G8.59", gw)
        self.assertEqual(len(self.driver.find_elements(By.CSS_SELECTOR, "#gateways tbody tr")), 16)
        rows = self.driver.find_element(By.ID, "sources-table").text
        self.assertIn("no such device", rows)
        self.shot("devices")

        # Live: the list grows, stands still while paused, and grows again after resuming.
        self.go("live")
        self.wait_for("events", lambda: len(self.driver.find_elements(By.CSS_SELECTOR, "#live-list li")) >= 2)
        # (The list keeps the newest 300 events, so it is the newest line that shows movement.)
        newest = lambda: self.js("const li = document.querySelector('#live-list li'); return li && li.outerHTML;")
        self.driver.find_element(By.ID, "live-pause").click()
        n = len(self.driver.find_elements(By.CSS_SELECTOR, "#live-list li"))
        top = newest()
        total = self.js("return document.getElementById('live-count').textContent;")
        self.wait_for("events counted while paused", lambda: self.js(
            "return document.getElementById('live-count').textContent;") != total, timeout=10)
        self.assertEqual(len(self.driver.find_elements(By.CSS_SELECTOR, "#live-list li")), n)
        self.assertEqual(newest(), top)
        self.shot("live-paused")
        self.driver.find_element(By.ID, "live-pause").click()
        self.wait_for("events after resume", lambda: newest() != top, timeout=10)
        self.check_live_readable()
        self.assert_no_console_errors()


if __name__ == "__main__":
    unittest.main()
