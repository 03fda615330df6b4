"""/metrics against the real consumers: promtool and a Prometheus server.

A simulated Tigo bus (`sunwire tigo simulate --tcp`) and a simulated RCT
inverter (`sunwire rct simulator`) feed `sunwire run`, which polls one object of
every registry unit besides its defaults, so every metric family appears. Then:

- `promtool check metrics` must find nothing in a scrape;
- the metric tables of docs/prometheus.md must name exactly the families of
  the scrape, with their types and labels (both directions);
- Debian's `prometheus` server, started here on 127.0.0.1 with a generated
  configuration, must scrape the daemon without error, and its HTTP API must
  return the energy counters, ratios and process metrics, and each panel's
  readings must stay one series while its barcode is learnt.

Then two daemons (night = unavailable and night = zero) watch one bus that
falls silent: the offline panels' readings must leave /metrics, or read 0,
while their energy stays.

Everything started here is stopped here.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runlib  # noqa: E402
import tigolib  # noqa: E402
from test_metrics_scrape import parse_exposition  # noqa: E402

SOURCE = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(SOURCE, "docs", "prometheus.md")


def find_tool(name):
    for path in (shutil.which(name), "/usr/bin/" + name):
        if path and os.access(path, os.X_OK):
            return path
    return None


PROMETHEUS = find_tool("prometheus")
PROMTOOL = find_tool("promtool")
SKIP = None if PROMETHEUS and PROMTOOL else "prometheus/promtool not installed (scripts/deps.sh installs them)"

# One polled object per registry unit that has a family of its own (beyond the defaults).
OBJECTS = {
    "battery.current": "A", "grid_pll[0].f": "Hz", "g_sync.s_ac_sum_lp": "VA", "g_sync.q_ac_sum_lp": "var",
    "battery.ah_capacity": "Ah", "nsm.pf_delay": "s", "iso_struct.Riso": "Ohm",
    "prim_sm.island_reset_retrials_counter_time": "min", "power_mng.bat_calib_reqularity": "days",
    "nsm.rpm_lock_out_power": "P/Pn", "battery.soh": "%", "inv_struct.cosinus_phi": "cos(Phi)",
}
# Families that exist only once inverter values in those units were polled.
NEEDED = ["sunwire_inverter_amperes", "sunwire_inverter_hertz", "sunwire_inverter_volt_amperes",
          "sunwire_inverter_volt_amperes_reactive", "sunwire_inverter_coulombs", "sunwire_inverter_seconds",
          "sunwire_inverter_ohms", "sunwire_inverter_ratio", "sunwire_inverter_value",
          "sunwire_inverter_energy_joules_total", "sunwire_inverter_text_info", "sunwire_panel_power_watts",
          "sunwire_gateway_info", "process_open_fds"]
METRIC = re.compile(r"`((?:sunwire|process)_[a-z0-9_]+)`")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8")


def doc_tables(path):
    """{family: (type, labels or None)} from the doc's metric tables; a family named twice fails."""
    out = {}
    with open(path, encoding="utf-8") as f:
        header = None
        for line in f:
            if not line.startswith("|"):
                header = None
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header = [c.lower() for c in cells]
                continue
            if set(line.strip()) <= set("|-"):
                continue
            for i, cell in enumerate(cells):
                m = METRIC.fullmatch(cell)
                if not m:
                    continue
                name = m.group(1)
                assert name not in out, "%s is in the doc's tables twice" % name
                typ = cells[i + 1] if "type" in header and i + 1 < len(cells) else None
                labels = None
                if "labels" in header:
                    text = cells[header.index("labels")]
                    text = text.replace("panel labels", "source, gateway, node, panel")
                    text = re.sub(r"\([^)]*\)", "", text).replace("`", "").replace("+", ",")
                    labels = {w.strip() for w in text.split(",") if w.strip()}
                out[name] = (typ, labels)
    return out


@unittest.skipIf(SKIP, SKIP)
class PrometheusServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.procs = []
        cls.daemon = None
        try:
            cls.start_all()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def spawn(cls, argv, **kw):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)
        cls.procs.append(p)
        return p

    @classmethod
    def start_all(cls):
        cls.rct = runlib.RctSimulator()
        cls.metrics_port = tigolib.free_port()
        cls.start_prometheus()
        # The bus runs before the daemon joins it, so the panels report before their barcodes are known.
        noon = time.strftime("%Y-%m-%dT12:00Z", time.gmtime())
        tigo = cls.spawn([tigolib.BIN, "tigo", "simulate", "--tcp", "--start", noon, "--speed", "120",
                          "--panels", "4", "--no-clouds"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = tigo.stdout.readline().decode().strip()
        m = re.search(r"listening on (\S+):(\d+)", line)
        assert m, "tigo simulator said %r" % line
        # The simulated controller reads the node tables (the barcodes) when it starts and then every
        # 600 simulated seconds (5 s here). Joining after the first read, the daemon sees readings
        # for a few seconds before it learns whose they are.
        time.sleep(0.5)
        cfg = os.path.join(cls.tmp.name, "sunwire.ini")
        with open(cfg, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%s\n\n" % m.group(2))
            f.write("[rct garage]\nhost = 127.0.0.1:%d\nfast_interval = 1s\nslow_interval = 2s\n" % cls.rct.port)
            f.write("".join("objects = %s\n" % o for o in OBJECTS) + "\n")
            # /metrics on the dashboard's server, so the web API can be compared with it.
            f.write("[http]\nport = %d\n\n[prometheus]\nenable = yes\n" % cls.metrics_port)
        env = dict(os.environ, SUNWIRE_LOG="warn")
        cls.daemon_started = time.time()
        cls.daemon_err = open(os.path.join(cls.tmp.name, "daemon.err"), "w+")
        cls.daemon = cls.spawn([tigolib.BIN, "run", "--config", cfg], stdout=subprocess.DEVNULL,
                               stderr=cls.daemon_err, env=env)
        cls.text = None
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                text = http_get("http://127.0.0.1:%d/metrics" % cls.metrics_port)
                if all("# TYPE %s " % n in text for n in NEEDED):
                    cls.text = text
                    break
            except OSError:
                pass
            time.sleep(0.25)
        assert cls.text, "not every family appeared on /metrics"

    @classmethod
    def start_prometheus(cls):
        """The real server, up before the daemon, so it sees the panels before their barcodes are learnt."""
        d = os.path.join(cls.tmp.name, "prom")
        os.makedirs(d)
        cfg = os.path.join(d, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 200ms\n  scrape_timeout: 200ms\n"
                    "scrape_configs:\n  - job_name: sunwire\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % cls.metrics_port)
        cls.prom_log = open(os.path.join(d, "log"), "w+")
        port = tigolib.free_port()
        cls.prom_base = "http://127.0.0.1:%d" % port
        cls.prom = cls.spawn([PROMETHEUS, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(d, "data"),
                              "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
                             stdout=cls.prom_log, stderr=cls.prom_log)
        # Ready, and scraping: Prometheus hands discovered targets to its scrapers in batches (every
        # few seconds), so wait until the target is listed, before there is anything to scrape.
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                targets = json.loads(http_get(cls.prom_base + "/api/v1/targets"))["data"]["activeTargets"]
                if targets:
                    return
            except (OSError, ValueError, KeyError):
                pass
            if cls.prom.poll() is not None:
                break
            time.sleep(0.1)
        cls.prom_log.seek(0)
        raise AssertionError("prometheus did not start: " + cls.prom_log.read()[-2000:])

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            if p.stdout:
                p.stdout.close()
        if getattr(cls, "rct", None):
            cls.rct.stop()
        if getattr(cls, "prom_log", None):
            cls.prom_log.close()
        err = ""
        if getattr(cls, "daemon_err", None):
            cls.daemon_err.seek(0)
            err = cls.daemon_err.read()
            cls.daemon_err.close()
        cls.tmp.cleanup()
        # Sanitizer builds report memory errors and undefined behaviour on stderr.
        assert "Sanitizer" not in err and "runtime error" not in err, err[-4000:]
        if getattr(cls, "daemon", None):
            assert cls.daemon.returncode == 0, "sunwire run exited with %r: %s" % (cls.daemon.returncode, err[-2000:])

    def test_promtool_finds_nothing(self):
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=self.text.encode(), capture_output=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual((r.stdout + r.stderr).strip(), b"")

    def test_doc_tables_match_the_scrape(self):
        doc = doc_tables(DOC)
        types, samples = parse_exposition(self.text)
        self.assertEqual(sorted(set(doc) - set(types)), [], "documented but not sent")
        self.assertEqual(sorted(set(types) - set(doc)), [], "sent but not documented")
        for name, (typ, labels) in doc.items():
            if typ is not None:
                self.assertEqual(typ, types[name], name)
            if labels is not None:
                sent = set()
                for n, l, _ in samples:
                    if n == name:
                        sent |= set(l)
                self.assertEqual(sent, labels, name)

    def test_units_in_the_scrape(self):
        _, samples = parse_exposition(self.text)
        by = {}
        for n, l, v in samples:
            if "object" in l:
                by[l["object"]] = (n, v)
        # Percentages are ratios 0-1.
        for obj in ("battery.soc", "battery.soh"):
            self.assertEqual(by[obj][0], "sunwire_inverter_ratio", obj)
            self.assertTrue(0 <= by[obj][1] <= 1, (obj, by[obj]))
        self.assertEqual(by["battery.ah_capacity"][0], "sunwire_inverter_coulombs")
        self.assertEqual(by["power_mng.bat_calib_reqularity"][0], "sunwire_inverter_seconds")
        self.assertEqual(by["inv_struct.cosinus_phi"][0], "sunwire_inverter_value")
        self.assertEqual(by["nsm.rpm_lock_out_power"][0], "sunwire_inverter_value")
        for n, l, v in samples:
            if n == "sunwire_inverter_energy_joules_total":
                self.assertGreaterEqual(v, 0, l)

    def test_units_agree_with_the_web_api(self):
        """The web API (watt-hours, percent) read just before and just after a scrape brackets it."""
        api = "http://127.0.0.1:%d/api/" % self.metrics_port
        before_p, before_i = json.loads(http_get(api + "panels")), json.loads(http_get(api + "inverters"))
        _, samples = parse_exposition(http_get("http://127.0.0.1:%d/metrics" % self.metrics_port))
        after_p, after_i = json.loads(http_get(api + "panels")), json.loads(http_get(api + "inverters"))
        scraped = {}
        for n, l, v in samples:
            scraped[(n, l.get("node") or l.get("object"))] = v
        checked = 0
        for b, a in zip(before_p, after_p):
            self.assertEqual(b["id"], a["id"])
            for key, metric in (("energy_total_wh", "sunwire_panel_energy_joules_total"),
                                ("energy_today_wh", "sunwire_panel_energy_today_joules")):
                j = scraped[(metric, str(b["node_id"]))]
                self.assertLessEqual(b[key] * 3600 - 1e-6, j, (key, b, j))
                self.assertLessEqual(j, a[key] * 3600 + 1e-6, (key, a, j))
                checked += 1
        self.assertGreaterEqual(checked, 8)
        values_before = {v["name"]: v for v in before_i[0]["values"]}
        values_after = {v["name"]: v for v in after_i[0]["values"]}
        for name in ("battery.soh", "battery.soc"):
            self.assertEqual(values_before[name]["unit"], "%")
            lo, hi = sorted((values_before[name]["value"], values_after[name]["value"]))
            r = scraped[("sunwire_inverter_ratio", name)]
            self.assertTrue(lo / 100 - 1e-9 <= r <= hi / 100 + 1e-9, (name, lo, hi, r))
        # Lifetime totals in joules, as magnitudes (feed-in is counted negative by RCT devices).
        for name in ("energy.e_ac_total", "energy.e_grid_feed_total"):
            self.assertEqual(values_before[name]["unit"], "Wh")
            lo, hi = sorted((abs(values_before[name]["value"]), abs(values_after[name]["value"])))
            j = scraped[("sunwire_inverter_energy_joules_total", name)]
            self.assertTrue(lo * 3600 * (1 - 1e-12) <= j <= hi * 3600 * (1 + 1e-12), (name, lo, hi, j))

    def test_real_prometheus_scrapes_it(self):
        base, p, log = self.prom_base, self.prom, self.prom_log

        def query(q):
            body = json.loads(http_get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})))
            self.assertEqual(body["status"], "success", body)
            return body["data"]["result"]

        def wait(q, pred=lambda r: r, timeout=30):
            end = time.monotonic() + timeout
            r = None
            while time.monotonic() < end:
                try:
                    r = query(q)
                    if pred(r):
                        return r
                except OSError:
                    pass
                if p.poll() is not None:
                    log.seek(0)
                    self.fail("prometheus exited: " + log.read()[-2000:])
                time.sleep(0.3)
            self.fail("no answer to %s: %r" % (q, r))

        up = wait('up{job="sunwire"}', lambda r: r and r[0]["value"][1] == "1")
        self.assertEqual(len(up), 1)
        targets = json.loads(http_get(base + "/api/v1/targets"))["data"]["activeTargets"]
        self.assertEqual([(t["health"], t["lastError"]) for t in targets], [("up", "")])

        energy = wait("sunwire_panel_energy_joules_total", lambda r: len(r) >= 4)
        for s in energy:
            self.assertEqual(set(s["metric"]), {"__name__", "job", "instance", "source", "gateway", "node", "panel"})
            self.assertGreaterEqual(float(s["value"][1]), 0)
        # The panel identity joins onto every panel series.
        joined = wait("sunwire_panel_power_watts * on(source, gateway, node) group_left(barcode) sunwire_panel_info",
                      lambda r: len(r) >= 4)
        for s in joined:
            # Prometheus drops a label whose value is empty: no barcode label = not learnt yet.
            self.assertRegex(s["metric"].get("barcode", ""), r"^\d-[0-9A-F]+[A-Z]$|^$")
        soc = wait('sunwire_inverter_ratio{object="battery.soc"}')
        self.assertTrue(0 <= float(soc[0]["value"][1]) <= 1, soc)
        rss = wait("process_resident_memory_bytes")
        self.assertGreater(float(rss[0]["value"][1]), 1e6)
        start = wait("process_start_time_seconds")
        self.assertLess(abs(float(start[0]["value"][1]) - self.daemon_started), 5)
        wait("process_open_fds > 3")
        # Counters are counters to Prometheus: rate() over them works.
        wait("rate(sunwire_source_bytes_total[10s]) > 0", timeout=20)

        # Prometheus watched the barcodes being learnt (a node's info series changed, from no barcode
        # to its barcode), yet every node's readings stayed one series all along.
        infos = wait("count by (node) (count_over_time(sunwire_panel_info[5m]))",
                     lambda r: any(int(x["value"][1]) >= 2 for x in r))
        self.assertTrue(all(int(r["value"][1]) <= 2 for r in infos), infos)
        for fam in ("sunwire_panel_power_watts", "sunwire_panel_energy_joules_total"):
            series = query("count by (node) (count_over_time(%s[5m]))" % fam)
            self.assertGreaterEqual(len(series), 4, series)
            self.assertEqual({r["value"][1] for r in series}, {"1"}, (fam, series))


LIVE = ["sunwire_panel_input_volts", "sunwire_panel_output_volts", "sunwire_panel_input_amperes",
        "sunwire_panel_power_watts", "sunwire_panel_duty_cycle_ratio", "sunwire_panel_temperature_celsius",
        "sunwire_panel_rssi"]
ZEROED = LIVE[:5]
KEPT = ["sunwire_panel_energy_joules_total", "sunwire_panel_energy_today_joules", "sunwire_panel_online",
        "sunwire_panel_last_report_timestamp_seconds"]


@unittest.skipIf(SKIP, SKIP)
class OfflinePanels(unittest.TestCase):
    """Two daemons, night = unavailable and night = zero, on one bus that then falls silent."""

    def test_offline_panels_follow_the_night_setting(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        noon = time.strftime("%Y-%m-%dT12:00Z", time.gmtime())
        sim = subprocess.Popen([tigolib.BIN, "tigo", "simulate", "--tcp", "--start", noon, "--speed", "120",
                                "--panels", "3", "--no-clouds"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        self.addCleanup(tigolib.stop_process, sim)
        m = re.search(r"listening on (\S+):(\d+)", sim.stdout.readline().decode())
        self.assertIsNotNone(m)
        ports = {}
        for night in ("unavailable", "zero"):
            ports[night] = tigolib.free_port()
            cfg = os.path.join(tmp.name, night + ".ini")
            with open(cfg, "w") as f:
                f.write("[general]\nstale_timeout = 1s\ntick = 200ms\nnight = %s\n\n[tigo roof]\ntcp = 127.0.0.1:%s\n\n"
                        "[prometheus]\nport = %d\n" % (night, m.group(2), ports[night]))
            d = subprocess.Popen([tigolib.BIN, "run", "--config", cfg], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=dict(os.environ, SUNWIRE_LOG="warn"))
            self.addCleanup(tigolib.stop_process, d)

        def scrape(night):
            return parse_exposition(http_get("http://127.0.0.1:%d/metrics" % ports[night]))[1]

        def values(samples, name):
            return {l["node"]: v for n, l, v in samples if n == name}

        def wait(pred):
            end = time.monotonic() + 20
            got = None
            while time.monotonic() < end:
                try:
                    got = {night: scrape(night) for night in ports}
                    if all(pred(x) for x in got.values()):
                        return got
                except OSError:
                    pass
                time.sleep(0.2)
            self.fail("condition never held: %r" % got)

        # Reporting: every reading of the three panels is there, power above 0 (noon), energy counted.
        def reporting(x):
            power, energy = values(x, "sunwire_panel_power_watts"), values(x, "sunwire_panel_energy_joules_total")
            return (len(power) == 3 and min(power.values()) > 0 and len(values(x, "sunwire_panel_rssi")) == 3
                    and len(energy) == 3 and min(energy.values()) > 0)
        first = wait(reporting)
        nodes = set(values(first["zero"], "sunwire_panel_power_watts"))
        tigolib.stop_process(sim)
        got = wait(lambda x: values(x, "sunwire_panel_online") and
                   set(values(x, "sunwire_panel_online").values()) == {0})
        for night, samples in got.items():
            for name in KEPT:
                self.assertEqual(len(values(samples, name)), 3, (night, name))
            self.assertTrue(all(v > 0 for v in values(samples, "sunwire_panel_energy_joules_total").values()))
            for name in LIVE:
                kept = values(samples, name)
                if night == "zero" and name in ZEROED:
                    self.assertEqual(kept, {n: 0 for n in nodes}, name)
                else:
                    self.assertEqual(kept, {}, (night, name))
            # The strings count no offline panel's power.
            self.assertEqual([v for n, l, v in samples if n == "sunwire_string_power_watts"], [0])
            text = http_get("http://127.0.0.1:%d/metrics" % ports[night])
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, b""), night)


if __name__ == "__main__":
    unittest.main()
