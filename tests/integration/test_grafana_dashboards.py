"""The Grafana dashboards in grafana/: their structure, and every query in them.

Grafana is not in Debian, so the dashboards are not imported into one.
Instead:

- their structure is checked against the rules of Grafana's dashboard JSON
  model, kept as data in tests/data/grafana/dashboard_model.json (keys and
  types, the 24-column grid without overlaps, unique panel ids and refIds,
  data source inputs that are declared and used, variables that exist);
- every panel query, variable query and annotation query is run against a
  real server holding the daemon's data: Prometheus (Debian's `prometheus`)
  scraping `sunwire demo` on 127.0.0.1, and InfluxDB 1.x (`influxd`) written
  by the daemon reading a simulated plant, plus the RCT logger backfill. Each
  must return data. Grafana's own variables are replaced by what Grafana would
  send with "All" selected.

Metric names are checked against a live scrape of /metrics: a name the
dashboard uses must be one the program exports.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tsdblib  # noqa: E402

SOURCE = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = os.environ.get("SW_TEST_DATA", os.path.join(SOURCE, "tests", "data"))
DASHBOARDS = {
    "prometheus": os.path.join(SOURCE, "grafana", "sunwire-prometheus.json"),
    "influxdb": os.path.join(SOURCE, "grafana", "sunwire-influxdb.json"),
}
TYPES = {"string": str, "int": int, "bool": bool, "list": list, "object": dict}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


RULES = load(os.path.join(DATA, "grafana", "dashboard_model.json"))


def walk_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from walk_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_strings(v)


def targets(dash):
    for p in dash["panels"]:
        for t in p["targets"]:
            yield p, t


class Structure(unittest.TestCase):
    def check_keys(self, obj, required, where):
        for key, typ in required.items():
            self.assertIn(key, obj, "%s: missing %s" % (where, key))
            want = TYPES[typ]
            val = obj[key]
            ok = isinstance(val, want) and not (want is int and isinstance(val, bool))
            self.assertTrue(ok, "%s: %s is %r, not %s" % (where, key, val, typ))

    def check_dashboard(self, kind, dash):
        r = RULES["dashboard"]
        self.check_keys(dash, r["required"], kind)
        self.assertIsNone(dash.get("id"), "a dashboard to import has no database id")
        lo, hi = r["uid_length"]
        self.assertTrue(lo <= len(dash["uid"]) <= hi, dash["uid"])
        self.assertRegex(dash["uid"], r["uid_charset"])
        self.assertIn(dash["timezone"], r["timezone"])
        self.assertIn(dash["graphTooltip"], r["graphTooltip"])
        self.assertTrue(all(isinstance(t, str) for t in dash["tags"]))
        self.assertEqual(sorted(dash["time"]), sorted(r["time_keys"]))
        self.assertGreaterEqual(dash["schemaVersion"], r["min_schema_version"])
        self.assertIsInstance(dash["templating"].get("list"), list)
        self.assertIsInstance(dash["annotations"].get("list"), list)

        # Data source inputs: every ${NAME} is declared, every declared one is used.
        ri = RULES["inputs"]
        declared = {}
        for inp in dash.get("__inputs", []):
            self.check_keys(inp, ri["required"], "__inputs")
            self.assertIn(inp["type"], ri["types"])
            declared[inp["name"]] = inp
        used = set()
        for s in walk_strings({k: v for k, v in dash.items() if k != "__inputs"}):
            used.update(re.findall(ri["reference"], s))
        self.assertEqual(used, set(declared), "inputs used vs declared")
        self.assertEqual({i["pluginId"] for i in declared.values() if i["type"] == "datasource"}, {kind})

        # __requires names Grafana, the data source plugin and every panel type used.
        rr = RULES["requires"]
        req = dash.get("__requires", [])
        for q in req:
            self.check_keys(q, rr["required"], "__requires")
            self.assertIn(q["type"], rr["types"])
        self.assertIn(("grafana", "grafana"), {(q["type"], q["id"]) for q in req})
        self.assertIn(("datasource", kind), {(q["type"], q["id"]) for q in req})
        self.assertEqual({q["id"] for q in req if q["type"] == "panel"}, {p["type"] for p in dash["panels"]})

        # Panels on the grid.
        rp, cols = RULES["panel"], RULES["grid"]["columns"]
        ids, cells = set(), {}
        for p in dash["panels"]:
            where = "%s panel %r" % (kind, p.get("title"))
            self.check_keys(p, rp["required"], where)
            self.assertNotIn(p["id"], ids, where + ": id used twice")
            ids.add(p["id"])
            self.assertIn(p["type"], rp["types"], where)
            self.assertTrue(p["title"].strip(), where)
            g = p["gridPos"]
            for k in ("x", "y", "w", "h"):
                self.assertIsInstance(g.get(k), int, where)
            self.assertTrue(1 <= g["w"] <= cols and 0 <= g["x"] and g["x"] + g["w"] <= cols, where + str(g))
            self.assertTrue(g["y"] >= 0 and g["h"] >= RULES["grid"]["min_height"], where)
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, "%s overlaps %s" % (where, cells.get((x, y))))
                    cells[(x, y)] = p["title"]
            self.assertEqual(sorted(p["fieldConfig"]), sorted(rp["fieldConfig_keys"]), where)
            self.assertEqual(sorted(p["datasource"]), sorted(rp["datasource_keys"]), where)
            self.assertEqual(p["datasource"]["type"], kind, where)
            self.assertTrue(p["targets"], where + ": no query")
            refs = [t.get("refId") for t in p["targets"]]
            self.assertEqual(len(refs), len(set(refs)), where + ": refId used twice")
            rt = RULES["targets"][kind]
            for t in p["targets"]:
                self.check_keys(t, rt["required"], where)
                if "rawQuery" in rt:
                    self.assertEqual(t["rawQuery"], rt["rawQuery"], where)
                if "datasource" in t:
                    self.assertEqual(t["datasource"], p["datasource"], where)

        # Variables: known types and fields; every $name in a query is one of them or Grafana's own.
        rv = RULES["variable"]
        names = set()
        for v in dash["templating"]["list"]:
            self.check_keys(v, rv["required"], "variable")
            self.assertIn(v["type"], rv["types"])
            self.assertIn(v["hide"], rv["hide"])
            self.assertNotIn(v["name"], names)
            names.add(v["name"])
            if v["type"] == "query":
                self.check_keys(v, rv["query_required"], "variable " + v["name"])
                self.assertIn(v["refresh"], rv["query_refresh"])
                self.assertEqual(v["datasource"]["type"], kind)
        known = names | set(RULES["builtin_variables"])
        for a in dash["annotations"]["list"]:
            self.check_keys(a, RULES["annotation"]["required"], "annotation")
        for _, t in targets(dash):
            text = t.get("expr") or t.get("query")
            for ref in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text):
                self.assertIn(ref, known, "unknown variable $%s in %s" % (ref, text))
            alias = t.get("alias", "") + t.get("legendFormat", "")
            for ref in re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", alias):
                self.assertTrue(ref.startswith(RULES["alias_variable_prefix"]) or ref in known, alias)

    def test_dashboards_follow_the_json_model(self):
        for kind, path in DASHBOARDS.items():
            with self.subTest(kind=kind):
                self.check_dashboard(kind, load(path))

    def test_the_checks_catch_mistakes(self):
        # The checker itself must fail on broken dashboards, one mistake at a time.
        base = load(DASHBOARDS["prometheus"])

        def broken(change):
            d = json.loads(json.dumps(base))
            change(d)
            return d

        mistakes = {
            "overlap": lambda d: d["panels"][1]["gridPos"].update(x=d["panels"][0]["gridPos"]["x"]),
            "too wide": lambda d: d["panels"][0]["gridPos"].update(w=25),
            "id twice": lambda d: d["panels"][1].update(id=d["panels"][0]["id"]),
            "unknown input": lambda d: d["panels"][0]["datasource"].update(uid="${DS_OTHER}"),
            "unknown variable": lambda d: d["panels"][0]["targets"][0].update(expr="up{x=~\"$nope\"}"),
            "short uid": lambda d: d.update(uid="abc"),
            "no targets": lambda d: d["panels"][0].update(targets=[]),
            "panel type not required": lambda d: d["__requires"].pop(),
        }
        for name, change in mistakes.items():
            with self.subTest(mistake=name):
                with self.assertRaises(AssertionError):
                    self.check_dashboard("prometheus", broken(change))


def scrape_names(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    return {m.group(1) for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M)}


@unittest.skipUnless(tsdblib.have("prometheus"), "prometheus not installed (Debian package prometheus)")
class PrometheusQueries(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        port = tsdblib.free_port()
        self.demo = subprocess.Popen([tsdblib.BIN, "demo", "--http-port", str(port), "--data-dir", self.tmp.name,
                                      "--start", time.strftime("%Y-%m-%dT10:00:00Z", time.gmtime())],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop_demo)
        self.metrics = "http://127.0.0.1:%d/metrics" % port
        self.assertTrue(tsdblib.wait_until(lambda: "sunwire_panel_power_watts" in scrape_names(self.metrics), 20))
        self.prom = tsdblib.Prometheus(["127.0.0.1:%d" % port]).start()
        self.addCleanup(self.prom.cleanup)

    def stop_demo(self):
        if self.demo.poll() is None:
            self.demo.terminate()
            try:
                self.demo.wait(10)
            except subprocess.TimeoutExpired:
                self.demo.kill()
                self.demo.wait()

    def exported(self, name, live):
        if name in live:
            return name
        self.fail("the dashboard uses %s, which /metrics does not export" % name)

    def test_every_query_returns_data(self):
        dash = load(DASHBOARDS["prometheus"])
        # Enough scrapes for rate() and increase() over the windows used below.
        self.assertTrue(tsdblib.wait_until(
            lambda: self.prom.query("count_over_time(sunwire_build_info[1m]) >= 6"), 40), self.prom.log_text())
        live = scrape_names(self.metrics)
        subst = {"$__rate_interval": "30s", "$__range": "1m", "$__interval": "5s", "$string": ".*",
                 "$inverter": ".*"}
        ran = 0
        for p, t in targets(dash):
            expr = t["expr"]
            for name in set(re.findall(r"\b(sunwire_[a-z0-9_]+|process_[a-z0-9_]+)", expr)):
                expr = re.sub(r"\b%s\b" % name, self.exported(name, live), expr)
            for k in sorted(subst, key=len, reverse=True):
                expr = expr.replace(k, subst[k])
            res = self.prom.query(expr)
            self.assertTrue(res, "panel %r: %s returned nothing" % (p["title"], expr))
            self.assertTrue(all(r.get("value") for r in res), expr)
            ran += 1
        self.assertGreaterEqual(ran, len(dash["panels"]))
        for v in dash["templating"]["list"]:
            m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", v["query"])
            self.assertIsNotNone(m, v["query"])
            metric = self.exported(m.group(1), live)
            st, body = tsdblib.http("GET", "%s/api/v1/label/%s/values?match[]=%s" % (self.prom.url, m.group(2), metric))
            self.assertEqual(st, 200, body)
            self.assertTrue(json.loads(body)["data"], "variable %s has no values" % v["name"])


@unittest.skipUnless(tsdblib.have("influxd"), "influxd not installed (Debian package influxdb)")
class InfluxQueries(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.influx = tsdblib.InfluxD().start()
        self.addCleanup(self.influx.cleanup)
        self.influx.query("CREATE DATABASE solar")
        self.plant = tsdblib.Plant(gateways=2, panels=4, speed=10)
        self.addCleanup(self.plant.stop)

    def test_every_query_returns_data(self):
        dash = load(DASHBOARDS["influxdb"])
        d = tsdblib.Daemon(self.tmp.name, self.plant.config() +
                           "[influx]\napi = v1\nurl = %s\ndb = solar\nprecision = ms\nflush_ms = 200\n"
                           % self.influx.url)
        self.addCleanup(d.stop)
        # The inverter's own log, as the documented backfill writes it.
        r = subprocess.run([tsdblib.BIN, "rct", "history", "-h", "127.0.0.1", "-p", str(self.plant.rct_port),
                            "--from", time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 7200)),
                            "-n", "logger.minutes_soc_log_ts", "--inverter", "house", "--format", "influx"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        st, body = self.influx.write("solar", r.stdout, precision="s")
        self.assertEqual(st, 204, body)
        # A few flushes with source counters moving, so derivatives have two points.
        self.assertTrue(tsdblib.wait_until(
            lambda: len(self.influx.rows('SELECT "frames" FROM "sunwire_source"', "solar")) >= 2, 20), d.stderr())
        time.sleep(3)
        subst = {"$timeFilter": "time > now() - 2d", "$__interval": "10s", "$string": ".*", "$inverter": ".*"}

        def run(q, what):
            for k in sorted(subst, key=len, reverse=True):
                q = q.replace(k, subst[k])
            res = self.influx.query(q, "solar", epoch="ms")[0]
            series = res.get("series", [])
            values = [v for s in series for row in s["values"] for v in row[1:] if v is not None]
            self.assertTrue(values, "%s: %s returned nothing" % (what, q))
            return series

        ran = 0
        for p, t in targets(dash):
            run(t["query"], "panel %r" % p["title"])
            ran += 1
        self.assertGreaterEqual(ran, len(dash["panels"]))
        for a in dash["annotations"]["list"]:
            if a.get("query"):
                run(a["query"], "annotation %r" % a["name"])
        for v in dash["templating"]["list"]:
            series = self.influx.query(v["query"], "solar")[0].get("series", [])
            self.assertTrue(series and series[0]["values"], "variable %s has no values" % v["name"])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
