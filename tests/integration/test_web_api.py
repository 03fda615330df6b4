"""Every dashboard endpoint over real HTTP on loopback, against the fixture server
(a real model fed with a fixed synthetic installation, plus a seeded SQLite history)."""
import datetime
import json
import math
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weblib  # noqa: E402

SRC = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def utc_day(offset_days=0):
    return (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset_days))


class WebApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(weblib.fixture_path()):
            raise RuntimeError("the fixture server %s is not built" % weblib.fixture_path())
        cls.srv = weblib.start_fixture(history=True, interval_ms=500)
        cls.base = cls.srv.base

    @classmethod
    def tearDownClass(cls):
        err = cls.srv.stop()
        # A clean exit (sanitizer builds turn leaks and memory errors into a failing status).
        if cls.srv.returncode != 0:
            raise AssertionError("fixture server exited with %s:\n%s" % (cls.srv.returncode, err))

    def api(self, path):
        status, headers, body = weblib.get_json(self.base + path)
        self.assertEqual(headers.get("Content-Type"), "application/json", path)
        self.assertEqual(headers.get("Cache-Control"), "no-store", path)
        return status, body

    def ok(self, path):
        status, body = self.api(path)
        self.assertEqual(status, 200, "%s: %s" % (path, body))
        return body

    def bad(self, path, status, words):
        got, body = self.api(path)
        self.assertEqual(got, status, "%s: %s" % (path, body))
        self.assertEqual(body["status"], status)
        self.assertIn(words, body["error"], path)

    # ---- current state ------------------------------------------------------------
    def test_state(self):
        s = self.ok("/api/state")
        for key in ("now", "started", "updated", "sources", "gateways", "panels", "strings", "inverters", "alerts"):
            self.assertIn(key, s)
        self.assertTrue(s["history"])
        names = sorted(p["name"] for p in s["panels"])
        self.assertEqual(names, sorted(["east-%d" % i for i in range(1, 9)] + ["west-%d" % i for i in range(1, 9)]))
        for p in s["panels"]:
            self.assertTrue(re.fullmatch(r"4-[AB][0-9A-F]{5}[K-R]", p["barcode"]), p["barcode"])
            self.assertEqual(p["id"], "%s:%d:%d" % (p["source"], p["gateway_id"], p["node_id"]))
            if p["name"] == "west-8":
                self.assertFalse(p["online"])
                self.assertIsNone(p["last_seen"])
                continue
            self.assertTrue(p["online"], p["name"])
            self.assertAlmostEqual(p["power_w"], p["voltage_in"] * p["current_in"], places=6)
            self.assertEqual(p["string"], p["name"].split("-")[0])
        strings = {x["name"]: x for x in s["strings"]}
        self.assertEqual(s["strings"][-1]["name"], "total")
        for name in ("east", "west"):
            members = [p for p in s["panels"] if p["string"] == name and p["online"]]
            self.assertEqual(strings[name]["online"], len(members))
            self.assertAlmostEqual(strings[name]["power_w"], sum(p["power_w"] for p in members), places=6)
        self.assertAlmostEqual(strings["total"]["power_w"], strings["east"]["power_w"] + strings["west"]["power_w"],
                               places=6)
        inv = s["inverters"][0]
        self.assertEqual((inv["name"], inv["serial"], inv["model"]), ("house", "0123456789AB", "PS 6.0"))
        soc = [v for v in inv["values"] if v["name"] == "battery.soc"][0]
        self.assertAlmostEqual(soc["value"], 76.0)

    def test_lists(self):
        self.assertEqual(len(self.ok("/api/panels")), 16)
        east = self.ok("/api/panels?string=east")
        self.assertEqual(sorted(p["name"] for p in east), ["east-%d" % i for i in range(1, 9)])
        off = self.ok("/api/panels?online=false")
        self.assertEqual([p["name"] for p in off], ["west-8"])
        self.assertEqual(len(self.ok("/api/panels?string=west&online=yes")), 7)
        self.assertEqual([x["name"] for x in self.ok("/api/strings")], ["east", "west", "total"])
        src = {x["name"]: x for x in self.ok("/api/sources")}
        self.assertEqual(set(src), {"roof", "garage", "house"})
        self.assertEqual(src["roof"]["kind"], "tigo-tcp")
        self.assertFalse(src["garage"]["connected"])
        self.assertEqual(src["garage"]["last_error"], "no such device")
        invs = self.ok("/api/inverters")
        self.assertEqual(len(invs[0]["values"]), 7)

    def test_panel(self):
        first = self.ok("/api/panels?string=east")[0]
        for key in (first["id"], first["name"], first["barcode"]):
            p = self.ok("/api/panel?id=" + urllib_quote(key))
            self.assertEqual(p["id"], first["id"])
        self.bad("/api/panel", 400, "missing query parameter: id")
        self.bad("/api/panel?id=nobody", 404, "unknown panel")

    def test_devices(self):
        d = self.ok("/api/devices")
        gw = d["gateways"][0]
        self.assertEqual(gw["version"], "Mgate Version G8.59")
        self.assertEqual(gw["address"], "04:C0:5B:30:00:02:BE:16")
        nodes = {n["node_id"]: n for n in gw["nodes"]}
        panels = {p["node_id"]: p for p in self.ok("/api/panels")}
        self.assertEqual(set(nodes), set(panels))
        for node_id, n in nodes.items():
            self.assertEqual(n["barcode"], panels[node_id]["barcode"])
        self.assertEqual(len(d["sources"]), 3)
        self.assertEqual(d["inverters"][0]["firmware"], "5.4512")

    def test_alerts(self):
        kinds = {(a["kind"], a["subject"]) for a in self.ok("/api/alerts")}
        self.assertIn(("source_down", "garage"), kinds)
        west8 = [p for p in self.ok("/api/panels") if p["name"] == "west-8"][0]
        self.assertIn(("panel_offline", west8["id"]), kinds)
        self.assertNotIn("inverter_fault", {k for k, _ in kinds})
        self.assertEqual(len(kinds), 2)

    # ---- history ------------------------------------------------------------------
    def test_history_day_from_store(self):
        y = utc_day(-1).isoformat()
        d = self.ok("/api/history/day?string=east&day=" + y)
        self.assertEqual((d["day"], d["origin"], d["kind"], d["name"]), (y, "history", "string", "east"))
        self.assertEqual(d["start"], y + "T00:00:00Z")
        pts = d["points"]
        # The seed wrote one row every 10 minutes from 06:00 to 18:00: one 5-minute bucket each.
        self.assertEqual(len(pts), 73)
        start_ms = int(datetime.datetime.fromisoformat(y + "T00:00:00+00:00").timestamp() * 1000)
        noon = [w for t, w in pts if t == start_ms + 12 * 3600 * 1000]
        self.assertEqual(len(noon), 1)
        self.assertAlmostEqual(noon[0], 2300 * math.sin(math.pi * 360 / 720) * 0.9, places=6)
        # A panel, asked by name, is looked up in the store by barcode.
        p = self.ok("/api/history/day?panel=west-3&day=" + y)
        self.assertEqual(len(p["points"]), 73)
        self.assertAlmostEqual(max(w for _, w in p["points"]), 1800 * 0.9 / 8, places=6)

    def test_history_day_today(self):
        # Today's rows come from the running fixture through the real history output.
        deadline = time.time() + 10
        while time.time() < deadline:
            d = self.ok("/api/history/day?string=total")
            if d["points"]:
                break
            time.sleep(0.3)
        self.assertEqual(d["day"], utc_day().isoformat())
        self.assertTrue(d["points"], "no row of today reached the history")
        self.assertTrue(all(w > 0 for _, w in d["points"]))

    def test_history_daily(self):
        d = self.ok("/api/history/daily?days=5")
        days = {x["day"]: x["wh"] for x in d["days"]}
        self.assertEqual(d["last"], utc_day().isoformat())
        self.assertEqual(d["first"], utc_day(-4).isoformat())
        for back, wh in ((1, 14400.0), (2, 12800.0), (3, 11200.0)):
            self.assertAlmostEqual(days[utc_day(-back).isoformat()], wh, places=3)
        self.assertIn(utc_day().isoformat(), days)  # today, live from the model
        self.assertNotIn(utc_day(-4).isoformat(), days)
        east = self.ok("/api/history/daily?days=2&string=east")
        self.assertAlmostEqual({x["day"]: x["wh"] for x in east["days"]}[utc_day(-1).isoformat()], 9000 * 0.9,
                               places=3)

    def test_bad_parameters(self):
        cases = [
            ("/api/state?verbose=1", 400, "unknown query parameter 'verbose'"),
            ("/api/panels?online=perhaps", 400, "online must be true or false"),
            ("/api/panels?string=north", 404, "unknown string"),
            ("/api/panels?string=east&string=west", 400, "given twice"),
            ("/api/history/day", 400, "panel or string"),
            ("/api/history/day?panel=east-1&string=east", 400, "not both"),
            ("/api/history/day?string=east&day=2026-02-30", 400, "YYYY-MM-DD"),
            ("/api/history/day?string=east&day=20261120", 400, "YYYY-MM-DD"),
            ("/api/history/day?string=east&day=" + utc_day(2).isoformat(), 400, "future"),
            ("/api/history/daily?days=0", 400, "days must be"),
            ("/api/history/daily?days=400", 400, "days must be"),
            ("/api/history/daily?days=7x", 400, "days must be"),
            ("/api/history/daily?panel=", 400, "must not be empty"),
            ("/api/nope", 404, "no such API endpoint"),
            ("/api/state?" + "&".join("a%d=1" % i for i in range(20)), 400, "too many query parameters"),
        ]
        for path, status, words in cases:
            with self.subTest(path=path):
                self.bad(path, status, words)

    # ---- server behaviour -------------------------------------------------------------
    def test_assets(self):
        for path, ctype in (("/", "text/html; charset=utf-8"), ("/index.html", "text/html; charset=utf-8"),
                            ("/app.js", "text/javascript; charset=utf-8"), ("/app.css", "text/css; charset=utf-8"),
                            ("/icon.svg", "image/svg+xml")):
            status, headers, body = weblib.get(self.base + path)
            self.assertEqual(status, 200, path)
            self.assertEqual(headers.get("Content-Type"), ctype, path)
            self.assertIn(headers.get("Cache-Control"), ("no-cache", "public, max-age=300"), path)
            self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff")
            name = "index.html" if path == "/" else path[1:]
            with open(os.path.join(SRC, "web", "assets", name), "rb") as f:
                self.assertEqual(body, f.read(), path)

    def test_offline_assets(self):
        """Nothing the page loads may come from another host."""
        page = weblib.get(self.base + "/")[2].decode()
        refs = re.findall(r'(?:src|href)="([^"]*)"', page)
        self.assertTrue(refs)
        for ref in refs:
            self.assertFalse(re.match(r"^[a-z]+:|^//", ref), ref)
            if not ref.startswith("#"):
                self.assertEqual(weblib.get(self.base + "/" + ref)[0], 200, ref)
        for name in ("index.html", "app.js", "app.css", "icon.svg"):
            text = weblib.get(self.base + "/" + name)[2].decode()
            # The SVG namespace is a name, not a request; nothing else may look like a URL.
            text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
            self.assertNotRegex(text, r"https?://", name)
            self.assertNotRegex(text, r"""(?:url\(|src=|href=)\s*["']?//""", name)
            self.assertNotIn("@import", text, name)

    def test_traversal_and_methods(self):
        for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2fCMakeLists.txt", "//etc/passwd",
                     "/.git/config", "/app.js/..", "/a\\..\\b"):
            with self.subTest(path=path):
                out = weblib.raw_request(self.srv.port, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                         % path).decode("latin-1")
                status = int(out.split(" ", 2)[1])
                self.assertIn(status, (400, 404), out[:200])
                self.assertNotIn("root:", out)
        for path in ("/web/assets/index.html", "/src/web/http.c", "/CMakeLists.txt"):
            self.assertEqual(weblib.get(self.base + path)[0], 404, path)
        out = weblib.raw_request(self.srv.port, "POST /api/state HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                 "Connection: close\r\n\r\n{}").decode("latin-1")
        self.assertTrue(out.startswith("HTTP/1.1 405"), out[:100])
        self.assertIn("Allow: GET, HEAD", out)

    def test_control_characters_and_garbage(self):
        """%00 must not cut a path short; control characters anywhere are a 400; so is binary."""
        for target in ("/index.html%00.js", "/api/panels%00/../../x", "/api/state?x=%00", "/app.js%0d%0aX: y",
                       "/api/panel?id=a%1fb", "/api/events?x=1"):
            with self.subTest(target=target):
                out = weblib.raw_request(self.srv.port, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                         % target).decode("latin-1")
                self.assertTrue(out.startswith("HTTP/1.1 400"), out[:300])
                self.assertNotIn("<html", out)
        for garbage in (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)) + b"\r\n\r\n",
                        b"\x00\x00\x00\x00GET / HTTP/1.1\r\n\r\n", bytes(range(128, 256)) + b"\r\n\r\n"):
            with self.subTest(garbage=garbage[:8]):
                # raw_request returns only once the server has closed the connection.
                out = weblib.raw_request(self.srv.port, garbage).decode("latin-1")
                self.assertTrue(out.startswith("HTTP/1.1 400"), out[:300])
                self.assertIn("Connection: close", out)
                self.assertIn("malformed request line", out)

    def test_binds_loopback_only(self):
        """The default bind address is 127.0.0.1: /proc/net/tcp shows who listens on the port."""
        hexport = "%04X" % self.srv.port
        found = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            if not os.path.exists(table):
                continue
            with open(table) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    addr, port = cols[1].split(":")
                    if port == hexport and cols[3] == "0A":
                        found.append(addr)
        self.assertEqual(found, ["0100007F"])

    def test_events(self):
        r = weblib.SSEReader(self.srv.port)
        try:
            head = r.read_headers()
            self.assertTrue(head.startswith("HTTP/1.0 200") or head.startswith("HTTP/1.1 200"), head)
            self.assertIn("Content-Type: text/event-stream", head)
            seen = {}
            deadline = time.time() + 10
            while time.time() < deadline and not {"panel", "string", "value", "raw", "source"} <= set(seen):
                name, data = r.next_event(timeout=5)
                seen.setdefault(name, json.loads(data))
            self.assertTrue({"panel", "string", "value", "raw", "source"} <= set(seen), seen.keys())
            p = seen["panel"]
            self.assertAlmostEqual(p["power_w"], p["voltage_in"] * p["current_in"], places=6)
            # Typed events reach the stream as their kind's name and JSON form.
            self.assertEqual(seen["raw"]["kind"], "source_up")
            self.assertEqual(seen["raw"]["data"]["source"], "roof")
            self.assertIn("tick", seen["raw"]["data"]["address"])
            # The stream and the API describe the same panel the same way.
            api = self.ok("/api/panel?id=" + urllib_quote(p["id"]))
            self.assertEqual(set(api), set(p))
        finally:
            r.close()


def urllib_quote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")


if __name__ == "__main__":
    unittest.main()
