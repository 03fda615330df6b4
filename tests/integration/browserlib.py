"""The dashboard in a real browser, shared by the test_web_browser*.py files:
Debian's Chromium, headless, driven through chromedriver by Debian's
python3-selenium (never a downloaded browser).

Each test file starts its own server and its own browser, so ctest runs them
side by side. Each page is loaded, checked and photographed; screenshots land
in <build>/test-artifacts/browser/. Anything that keeps the browser from
running is a failure with the reason, never a skip.
"""
import json
import os
import re
import shutil
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
        # The browser first: its start takes seconds on a busy machine, and a server's
        # scripted events (the fixture's) run on a clock that starts with the server.
        cls.profile = tempfile.mkdtemp(prefix="sw-chromium-")
        try:
            cls.driver = new_browser(cls.profile)
            cls.driver.set_page_load_timeout(20)
        except Exception:
            shutil.rmtree(cls.profile, ignore_errors=True)
            raise
        try:
            cls.srv = cls.start_server()
        except BaseException:
            cls.driver.quit()
            shutil.rmtree(cls.profile, ignore_errors=True)
            raise

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


def start_demo_today(at, *args):
    """`sunwire demo` from AT (HH:MM, UTC) of today's simulated date, with more of its options."""
    day = time.strftime("%Y-%m-%d", time.gmtime())
    return weblib.start_demo(list(args) + ["--start", "%sT%sZ" % (day, at)])

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
