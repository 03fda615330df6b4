"""The dashboard in a real browser: Debian's Chromium, headless, driven through
chromedriver by Debian's python3-selenium (never a downloaded browser).

Two servers: `sunwire demo` (the whole product on its simulators) and the
fixture (a fixed synthetic installation, so tile values can be compared
exactly and earlier days come from a seeded history). Each page is loaded,
checked and photographed; screenshots land in <build>/test-artifacts/browser/.
Anything that keeps the browser from running is a failure with the reason,
never a skip.
"""
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
except ImportError:
    # Debian installs python3-selenium for the system interpreter; a different python3 first
    # on PATH (pyenv, venv) does not see it. Run again under the system one.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
            and not os.environ.get("SW_BROWSER_REEXEC"):
        os.environ["SW_BROWSER_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.stderr.write("FAIL: python3-selenium is not installed (apt-get install python3-selenium; "
                     "scripts/deps.sh does it)\n")
    sys.exit(1)

import weblib  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = os.path.join(os.environ.get("SW_BUILD_DIR", tempfile.gettempdir()), "test-artifacts", "browser")


def new_browser(profile_dir):
    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.path.exists(path):
            raise RuntimeError("%s is missing: install the Debian package %s" % (path, pkg))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1360,1000",
              "--user-data-dir=" + profile_dir):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    except Exception as e:  # selenium wraps every start-up failure differently
        raise RuntimeError("headless Chromium did not start: %s" % e) from e


class BrowserCase(unittest.TestCase):
    server_kind = None

    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.srv = cls.start_server()
        cls.profile = tempfile.mkdtemp(prefix="sw-chromium-")
        try:
            cls.driver = new_browser(cls.profile)
        except Exception:
            cls.srv.stop()
            shutil.rmtree(cls.profile, ignore_errors=True)
            raise
        cls.driver.set_page_load_timeout(20)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.driver.quit()
        finally:
            cls.srv.stop()
            shutil.rmtree(cls.profile, ignore_errors=True)

    # ---- helpers ---------------------------------------------------------------------
    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait_for(self, what, fn, timeout=15):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.srv.proc.poll() is not None:
                err = self.srv.proc.stderr.read().decode("utf-8", "replace")
                self.fail("the %s server exited with status %s while waiting for %s; its stderr ends:\n%s"
                          % (self.server_kind, self.srv.proc.returncode, what, err[-2000:]))
            try:
                last = fn()
                if last:
                    return last
            except Exception as e:  # the page may be mid-render
                last = e
            time.sleep(0.2)
        self.shot("timeout-" + re.sub(r"\W+", "-", what))
        self.fail("timed out waiting for %s (last: %r)" % (what, last))

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(ARTIFACTS, "%s-%s.png" % (self.server_kind, name)))

    def console_errors(self):
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def assert_no_console_errors(self):
        errs = self.console_errors()
        self.assertEqual(errs, [], "browser console errors: %r" % errs)

    def svg_sizes(self, selector):
        return self.js("return [...document.querySelectorAll(arguments[0])].map(e => {"
                       "const r = e.getBoundingClientRect(); return [r.width, r.height]; });", selector)

    def assert_chart(self, selector, what):
        sizes = self.wait_for(what + " chart", lambda: [s for s in self.svg_sizes(selector) if s[0] > 50 and s[1] > 50])
        self.assertTrue(sizes, what)

    def go(self, page):
        """Navigate through the page's own tabs, as a person would."""
        self.driver.find_element(By.CSS_SELECTOR, 'nav a[data-page="%s"]' % page).click()
        self.wait_for("page " + page, lambda: self.js(
            "return !document.getElementById('page-' + arguments[0]).hidden && "
            "document.querySelector('nav a.active').dataset.page === arguments[0];", page))

    def tiles(self):
        return self.js("return [...document.querySelectorAll('.tile')].map(t => ({id: t.dataset.panelId, "
                       "name: t.querySelector('.t-name span').textContent, code: t.querySelector('.t-code').textContent, "
                       "power: t.querySelector('.tile-power').textContent, stale: t.classList.contains('stale'), "
                       "bg: t.style.backgroundColor}));")

    def check_live_readable(self):
        """The live list reads as sentences; the JSON behind each line shows only on request."""
        items = lambda: self.js(
            "return [...document.querySelectorAll('#live-list li')].slice(0, 20).map(li => ({kind: li.dataset.kind,"
            " sum: li.querySelector('.sum').textContent, js: li.querySelector('.js').textContent,"
            " shown: getComputedStyle(li.querySelector('.js')).display !== 'none'}));")
        got = items()
        self.assertTrue(got)
        kinds = set()
        for it in got:
            kinds.add(it["kind"])
            self.assertTrue(it["sum"].strip(), it)
            self.assertNotIn("{", it["sum"], it)
            self.assertNotIn("undefined", it["sum"], it)
            self.assertFalse(it["shown"], it)
        self.assertIn("panel", kinds)
        self.driver.find_element(By.ID, "live-raw").click()
        for it in items():
            self.assertTrue(it["shown"], it)
            self.assertIsInstance(json.loads(it["js"]), dict)
        self.shot("live-raw")
        self.driver.find_element(By.ID, "live-raw").click()
        self.assertFalse(any(it["shown"] for it in items()))

    def load(self):
        self.driver.get(self.srv.base + "/")
        self.wait_for("live connection", lambda: self.js(
            "return document.getElementById('status-dot').classList.contains('on');"))


def js_watts(w):
    """The page's watts() formatting, for comparing tiles with the API."""
    a = abs(w)
    if a >= 10000:
        return "%.1f kW" % (w / 1000)
    if a >= 1000:
        return "%.2f kW" % (w / 1000)
    return "%d W" % int(round_half_up(w))


def round_half_up(x):
    import math
    return math.floor(x + 0.5)


class DemoInBrowser(BrowserCase):
    """`sunwire demo` (simulated bus and inverter) seen through the dashboard."""
    server_kind = "demo"

    @classmethod
    def start_server(cls):
        if not weblib.demo_available():
            # Only until `sunwire demo` exists in this build: the fixture class below still
            # drives the browser, so the dashboard is never left untested.
            raise unittest.SkipTest("`sunwire demo` is not part of this build (%s)" % weblib.SUNWIRE)
        # Midday of a simulated day at ten times real speed: every panel awake, values moving.
        day = time.strftime("%Y-%m-%d", time.gmtime())
        return weblib.start_demo(["--speed", "10", "--start", day + "T11:00Z"])

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


class DemoDayInBrowser(BrowserCase):
    """A whole simulated morning and afternoon, fast: every row of the history is on the demo's clock."""
    server_kind = "demo-day"

    @classmethod
    def start_server(cls):
        if not weblib.demo_available():
            raise unittest.SkipTest("`sunwire demo` is not part of this build (%s)" % weblib.SUNWIRE)
        cls.data_dir = tempfile.mkdtemp(prefix="sw-demo-day-")
        # 10 simulated minutes per real second from 06:30 UTC: four hours of the day in 24 s.
        day = time.strftime("%Y-%m-%d", time.gmtime())
        return weblib.start_demo(["--speed", "600", "--start", day + "T06:30Z", "--data-dir", cls.data_dir])

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


class DemoFaultsInBrowser(BrowserCase):
    """`sunwire demo --faults`: faults injected into the simulated bus, found by the detectors, on the dashboard."""
    server_kind = "demo-faults"

    @classmethod
    def start_server(cls):
        if not weblib.demo_available():
            raise unittest.SkipTest("`sunwire demo` is not part of this build (%s)" % weblib.SUNWIRE)
        sim = subprocess.run([weblib.SUNWIRE, "tigo", "simulate", "--help"], capture_output=True, text=True, timeout=30)
        if "--fault" not in sim.stdout + sim.stderr:
            raise unittest.SkipTest("`sunwire tigo simulate` has no --fault option in this build: no fault to inject")
        # 5 simulated minutes per real second from 10:00: the first faults start 6 s in.
        day = time.strftime("%Y-%m-%d", time.gmtime())
        return weblib.start_demo(["--faults", "--speed", "300", "--start", day + "T10:00Z"])

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
