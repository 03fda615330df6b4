"""A real fault, injected into the simulated bus, seen in every output of `sunwire run`.

`sunwire tigo simulate --fault dead:1.2@30s-15m` makes the second optimizer pass no
power for a stretch of simulated time (at 60x: from half a second to 15 s after the
start). The daemon reads the bus over loopback TCP with the peer detectors' windows
shortened in [health] (they run on the daemon's clock), and publishes to a real
mosquitto, serves the dashboard's API and /metrics, writes the InfluxDB line protocol
to a file, the SQLite history and the JSON lines. While the problem is active and
again after it cleared, each output must say so:

- the JSON lines: a `problem` line raising `no_power`, then one clearing it;
- MQTT: the retained `sunwire/problems` list holds it, then is `[]`; the panel's
  Home Assistant binary sensor (device class problem) renders ON, then OFF, from the
  published discovery and state;
- Prometheus: `sunwire_problem_active{kind="no_power"}` is 1, then 0;
- the JSON API: `/api/problems?active=true` lists it, then not;
- InfluxDB: `sunwire_problem` lines with active=true and active=false;
- the history: `sunwire history --table problems` shows the row with its end.

The fault kinds come with the simulator's fault injection; a build whose simulator has
no `--fault` option skips, saying so. Everything started here is stopped here.
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
import mqttlib as mq  # noqa: E402
import runlib  # noqa: E402
import tigolib  # noqa: E402
from test_ha_discovery import TigoSimulator, render  # noqa: E402


def fault_injection_missing():
    out = subprocess.run([runlib.BIN, "tigo", "simulate", "--help"], capture_output=True, text=True, timeout=30)
    if "--fault" not in out.stdout + out.stderr:
        return "`sunwire tigo simulate` has no --fault option in this build: no fault to inject"
    return None


SKIP = mq.tools_missing() or fault_injection_missing()


def http_text(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode("utf-8")


def metric(text, name, **labels):
    """The value of the one sample of `name` whose labels include `labels`, or None."""
    for line in text.splitlines():
        m = re.match(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), line)
        if not m:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(2))
    return None


@unittest.skipIf(SKIP, SKIP)
class ProblemOutputs(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.broker = mq.Broker().start()
        self.watcher = mq.Watcher(self.broker.port, topics=("#",)).start()
        day = time.strftime("%Y-%m-%d", time.gmtime())
        self.tigo = TigoSimulator(["--start", day + "T11:00:00Z", "--speed", "60", "--panels", "6", "--seed", "3",
                                   "--fault", "dead:1.2@30s-15m"])
        self.http_port = tigolib.free_port()
        self.lines = os.path.join(self.tmp.name, "influx.lp")
        self.db = os.path.join(self.tmp.name, "history.db")
        cfg = os.path.join(self.tmp.name, "run.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n" % self.tigo.port)
            # The detectors judge on the daemon's clock: windows of seconds, not minutes.
            f.write("[health]\nno_power_window = 3s\npeer_interval = 1s\npeer_clear_window = 3s\n\n")
            f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\nreconnect_min = 0.2\nresend_delay = 0.5\n\n"
                    % self.broker.port)
            f.write("[http]\nport = %d\n\n[prometheus]\nenable = yes\n\n" % self.http_port)
            f.write("[influx]\nfile = %s\nflush_ms = 200\n\n" % self.lines)
            f.write("[history]\npath = %s\n" % self.db)
        self.daemon = runlib.Daemon(["--config", cfg, "--json", "--state-dir", os.path.join(self.tmp.name, "state")])

    def tearDown(self):
        self.daemon.close()
        self.tigo.stop()
        self.watcher.stop()
        self.broker.close()
        self.tmp.cleanup()

    def api(self, path):
        return json.loads(http_text("http://127.0.0.1:%d%s" % (self.http_port, path)))

    def ha_state(self):
        """The no_power binary sensor of the panel with the problem, rendered as Home Assistant would."""
        msgs = self.watcher.snapshot()
        configs, states = {}, {}
        for m in msgs:
            if m.topic.startswith("homeassistant/") and m.topic.endswith("_problems/config") and m.payload:
                configs[m.topic] = m.json()
            elif m.topic.endswith("/problems") and m.payload:
                states[m.topic] = m.json()
        for cfg in configs.values():
            for uid, ent in cfg.get("components", {}).items():
                if uid.endswith("_problem_no_power") and ent.get("state_topic") in states:
                    st = states[ent["state_topic"]]
                    if st["no_power"]["active"] or st["no_power"]["until"]:
                        return render(ent["value_template"], st), ent, st
        return None

    def problem_lines(self, timeout, active):
        """The daemon's `problem` lines about no_power with that active flag, waiting up to timeout."""
        return mq.wait_until(lambda: [r for r in self.daemon.records("problem")
                                      if r.get("kind") == "no_power" and r.get("active") is active], timeout)

    def retained_list(self):
        got = [m for m in self.watcher.snapshot() if m.topic == "sunwire/problems"]
        return got[-1].json() if got else None

    def test_a_dead_optimizer_in_every_output(self):
        d = self.daemon
        raised = self.problem_lines(30, True)
        self.assertTrue(raised, "no problem line; daemon said:\n" + d.stderr()[-3000:])
        p = raised[0]
        self.assertEqual((p["subject_kind"], p["source"]), ("panel", "roof"))
        self.assertIn("open circuit", p["reason"])
        self.assertIsNone(p["until_ns"])

        # While it is active.
        active = mq.wait_until(lambda: [x for x in self.api("/api/problems?active=true") if x["kind"] == "no_power"], 10)
        self.assertTrue(active, "the API does not list it")
        self.assertEqual(active[0]["subject"], p["subject"])
        text = mq.wait_until(lambda: (lambda t: t if metric(t, "sunwire_problem_active", kind="no_power") == 1 else None)(
            http_text("http://127.0.0.1:%d/metrics" % self.http_port)), 10)
        self.assertTrue(text, "no sunwire_problem_active 1 on /metrics")
        self.assertEqual(metric(text, "sunwire_problem_active", kind="no_power", subject=p["subject"],
                                subject_kind="panel", source="roof"), 1)
        self.assertEqual(metric(text, "sunwire_problems_active"), 1)
        listed = mq.wait_until(lambda: (lambda l: l if l and l[0]["kind"] == "no_power" else None)(self.retained_list()), 10)
        self.assertTrue(listed, "sunwire/problems does not list it")
        self.assertEqual(len(listed), 1)
        # A new subscriber gets the list at once: it is retained.
        late = mq.Watcher(self.broker.port, topics=("sunwire/problems",)).start()
        try:
            got = mq.wait_until(lambda: late.find(topic="sunwire/problems", retained=True), 10)
            self.assertTrue(got, "the list is not retained")
            self.assertEqual(got.json()[0]["subject"], p["subject"])
        finally:
            late.stop()
        # Home Assistant's binary sensor (announced once the node table names the panel) reads ON.
        on = mq.wait_until(lambda: (lambda s: s if s and s[0] == "ON" else None)(self.ha_state()), 15)
        self.assertTrue(on, "the binary sensor never read ON")
        self.assertEqual(on[1]["device_class"], "problem")
        self.assertEqual(on[1]["platform"], "binary_sensor")
        self.assertIn("open circuit", on[2]["no_power"]["reason"])

        # Cleared when the fault ends (15 simulated minutes = 15 s in) and the clear window passed.
        cleared = self.problem_lines(30, False)
        self.assertTrue(cleared, "never cleared; daemon said:\n" + d.stderr()[-3000:])
        self.assertEqual(cleared[0]["since_ns"], p["since_ns"])
        self.assertGreater(cleared[0]["until_ns"], p["since_ns"])
        self.assertTrue(mq.wait_until(lambda: self.retained_list() == [], 10), "the list was not emptied")
        off = mq.wait_until(lambda: (lambda s: s if s and s[0] == "OFF" else None)(self.ha_state()), 10)
        self.assertTrue(off, "the binary sensor never read OFF again")
        self.assertFalse([x for x in self.api("/api/problems?active=true") if x["kind"] == "no_power"])
        self.assertEqual([x["kind"] for x in self.api("/api/problems?active=false")], ["no_power"])
        text = http_text("http://127.0.0.1:%d/metrics" % self.http_port)
        self.assertEqual(metric(text, "sunwire_problem_active", kind="no_power"), 0)
        self.assertEqual(metric(text, "sunwire_problems_active"), 0)

        self.assertEqual(d.stop(), 0, d.stderr()[-3000:])
        # InfluxDB: one line per change, at the change's time.
        with open(self.lines, encoding="utf-8") as f:
            lp = [line for line in f.read().splitlines() if line.startswith("sunwire_problem,")]
        self.assertTrue(any("kind=no_power" in line and "active=true" in line for line in lp), lp)
        self.assertTrue(any("kind=no_power" in line and "active=false" in line for line in lp), lp)
        self.assertTrue(lp[-1].endswith(" %d" % cleared[0]["until_ns"]), lp[-1])
        # The history: one row, from the raise to the clear.
        out = subprocess.run([runlib.BIN, "history", "--db", self.db, "--table", "problems", "--from", "-1h",
                              "--format", "json", "--time", "ns"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = json.loads(out.stdout)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual((rows[0]["kind"], rows[0]["subject"], rows[0]["ended"]), ("no_power", p["subject"], "cleared"))
        self.assertEqual((rows[0]["time"], rows[0]["end"]), (p["since_ns"], cleared[0]["until_ns"]))


@unittest.skipIf(SKIP, SKIP)
class DemoFaults(unittest.TestCase):
    """`sunwire demo --faults --mqtt`: the injected faults reach Home Assistant."""

    def setUp(self):
        self.broker = mq.Broker().start()
        self.watcher = mq.Watcher(self.broker.port, topics=("#",)).start()
        day = time.strftime("%Y-%m-%d", time.gmtime())
        env = dict(os.environ, SUNWIRE_LOG="warn")
        self.tmp = tempfile.TemporaryDirectory()
        self.err = open(os.path.join(self.tmp.name, "demo.err"), "w+")
        # 5 simulated minutes per real second from 10:00: the first faults start 6 s in.
        self.demo = subprocess.Popen([runlib.BIN, "demo", "--faults", "--speed", "300", "--start", day + "T10:00Z",
                                      "--mqtt", "127.0.0.1:%d" % self.broker.port, "--duration", "90"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err, env=env)

    def tearDown(self):
        if self.demo.poll() is None:
            self.demo.terminate()
            try:
                self.demo.wait(15)
            except subprocess.TimeoutExpired:
                self.demo.kill()
                self.demo.wait()
        self.err.close()
        self.watcher.stop()
        self.broker.close()
        self.tmp.cleanup()

    def indicator(self, kind):
        """(rendered state, entity, device name) of the first binary sensor of `kind` that reads ON."""
        configs, states = {}, {}
        for m in self.watcher.snapshot():
            if m.topic.startswith("homeassistant/device/") and m.payload:
                configs[m.topic] = m.json()
            elif m.topic.startswith("sunwire-demo/") and m.topic.endswith("problems") and m.payload:
                states[m.topic] = m.json()
        for cfg in configs.values():
            for uid, ent in cfg.get("components", {}).items():
                if uid.endswith("_problem_" + kind) and ent.get("state_topic") in states:
                    if render(ent["value_template"], states[ent["state_topic"]]) == "ON":
                        return ent, cfg["device"]["name"], states
        return None

    def test_faults_turn_indicators_on(self):
        got = mq.wait_until(lambda: self.indicator("no_power"), 60)
        if not got:
            self.err.seek(0)
            self.fail("no problem indicator turned ON; the demo said:\n" + self.err.read()[-3000:])
        ent, device, states = got
        self.assertEqual(device, "E4")  # the optimizer --faults breaks
        self.assertEqual(ent["device_class"], "problem")
        self.assertTrue(mq.wait_until(lambda: self.indicator("hot"), 30), "W3 never read hot")
        self.assertEqual(self.indicator("hot")[1], "W3")
        # The site's count reads the retained list.
        count = mq.wait_until(lambda: [m for m in self.watcher.snapshot() if m.topic ==
                                       "homeassistant/device/sunwire-demo_site/config"], 10)
        self.assertTrue(count)
        comp = count[-1].json()["components"]["sunwire-demo_site_active_problems"]
        listed = [m for m in self.watcher.snapshot() if m.topic == "sunwire-demo/problems"][-1].json()
        self.assertGreaterEqual(int(render(comp["value_template"], listed)), 2)
        self.assertTrue({"no_power", "hot"} <= {p["kind"] for p in listed})


if __name__ == "__main__":
    unittest.main()
