"""Battery and inverter control from Home Assistant through `sunwire run`: the
real daemon, a real mosquitto on 127.0.0.1 and `sunwire rct simulator`.

Commands are published the way Home Assistant publishes them (mosquitto_pub on
the entity's command_topic). What the inverter holds afterwards is read with
`sunwire rct read-value`, never taken from the daemon; what the daemon did is
read from its log and from the history's events table (sqlite3).

- Off by default: no control entity, and a command changes nothing.
- On: every allowed object has its number / select / switch entity; a write is
  verified; a write the device ignores is written again and verified; writes
  are refused, with nothing sent, when out of range, not allowed or too soon.
  Every control is written once and refused once beyond its limits.
- A device that ignores every write: the write fails after 1 + retries writes.
- Keep mode: a value the device forgets (the simulator "restarts") is written
  back, with the same limits.
- The rate limit and the flash budget survive a restart of the daemon through
  its state directory; a corrupt state file blocks writes for 24 hours, a new
  one does not.
- What the daemon counted is on /metrics (`promtool check metrics` finds
  nothing) and /api/control: each write under its outcome and reason, the
  retries, the flash budget left and the block with its end, numbers that
  follow from what the test did.

The simulator decides which writes it ignores from its seed and a count of
writes: with --seed 13 and --fault-ignore-write 0.5 the first and the third
write are ignored, the second and fourth taken (src/rct_io/rct_sim.c).
"""

import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.request

import mqttlib as mq
import runlib
from test_metrics_scrape import parse_exposition
from test_prometheus_server import DOC, PROMTOOL, doc_tables

SKIP = mq.tools_missing()
PREFIX = "homeassistant"
FROZEN = ["--speed", "0", "--start", "2025-06-01T11:00:00Z"]
ALLOW = ["power_mng.soc_min", "power_mng.soc_max", "power_mng.soc_strategy", "power_mng.use_grid_power_enable",
         "power_mng.battery_power_extern"]


def read_value(port, name):
    out = subprocess.run([runlib.BIN, "rct", "read-value", "--host", "127.0.0.1", "--port", str(port),
                          "--name", name], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


def key(obj):
    return re.sub(r"_+$", "", re.sub(r"[^A-Za-z0-9_-]+", "_", obj))


class Scrape:
    """One /metrics scrape of the daemon, checked by the exposition parser and the doc's tables, and by
    promtool when asked (it takes a good part of a second)."""

    def __init__(self, test, port, promtool=False):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            self.text = r.read().decode()
        self.types, self.samples = parse_exposition(self.text)
        if promtool and PROMTOOL:
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=self.text.encode(), capture_output=True,
                               timeout=30)
            test.assertEqual((r.returncode, (r.stdout + r.stderr).strip()), (0, b""))
        doc = doc_tables(DOC)
        for name, typ in self.types.items():
            if name.startswith("sunwire_control_"):
                test.assertEqual(doc[name][0], typ, name)
                labels = set().union(*[l for n, l, _ in self.samples if n == name])
                test.assertLessEqual(labels, {"inverter", "object", "outcome", "reason"} if name.endswith(
                    "writes_total") else {"inverter", "object"}, name)

    def writes(self):
        """{(object, outcome, reason): count} of the inverter house."""
        return {(l["object"], l["outcome"], l.get("reason", "")): v for n, l, v in self.samples
                if n == "sunwire_control_writes_total" and l["inverter"] == "house"}

    def per_object(self, name):
        return {l["object"]: v for n, l, v in self.samples if n == name and l["inverter"] == "house"}


def api_control(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/control" % port, timeout=5) as r:
        return {c["object"]: c for c in json.loads(r.read().decode()) if c["inverter"] == "house"}


@unittest.skipIf(SKIP, SKIP)
class ControlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.broker = mq.Broker().start()
        self.watcher = mq.Watcher(self.broker.port, topics=(PREFIX + "/#", "sunwire/#")).start()
        self.sim = None
        self.daemon = None
        self.db = os.path.join(self.tmp.name, "history.db")

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        if self.sim:
            self.sim.stop()
        self.watcher.stop()
        self.broker.close()
        self.tmp.cleanup()

    def start(self, sim_args, rct_keys):
        self.sim = runlib.RctSimulator(0, FROZEN + list(sim_args))
        cfg = os.path.join(self.tmp.name, "run.ini")
        self.http_port = mq.free_port()
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\nslow_interval = 1s\n%s\n"
                    "[mqtt]\nhost = 127.0.0.1\nport = %d\nreconnect_min = 0.2\n\n[history]\npath = %s\n\n"
                    "[http]\nport = %d\n\n[prometheus]\nenable = yes\n"
                    % (self.sim.port, rct_keys, self.broker.port, self.db, self.http_port))
        self.daemon = runlib.Daemon(["--config", cfg])

    def inverter_config(self):
        """The inverter's device discovery message, once its allowed settings are in its state."""
        def found():
            for m in reversed(self.watcher.snapshot()):
                if m.topic.startswith(PREFIX + "/device/sunwire_inverter_") and m.payload:
                    return m.json()
            return None
        def ready():
            state = [m for m in self.watcher.snapshot() if m.topic == "sunwire/inverter/house/state"]
            return found() and state and "power_mng_soc_min" in state[-1].json()
        self.assertTrue(mq.wait_until(ready, 30), "no inverter discovery; daemon said:\n" + self.daemon.stderr())
        return found()

    def command(self, obj, payload):
        mq.publish(self.broker.port, "sunwire/inverter/house/set/%s" % key(obj), payload)

    def wait_log(self, pattern, count=1, timeout=15):
        rx = re.compile(pattern)
        ok = mq.wait_until(lambda: len(rx.findall(self.daemon.stderr())) >= count, timeout)
        self.assertTrue(ok, "no %d× %r in the log:\n%s" % (count, pattern, self.daemon.stderr()))

    def events(self):
        self.assertEqual(self.daemon.stop(), 0)
        con = sqlite3.connect(self.db)
        try:
            rows = con.execute("SELECT json FROM events WHERE kind = 'rct_control' ORDER BY ts_ns").fetchall()
        finally:
            con.close()
        return [json.loads(r[0]) for r in rows]

    def test_off_by_default(self):
        self.start([], "")
        def configs():
            return [m.json() for m in self.watcher.snapshot()
                    if m.topic.startswith(PREFIX + "/device/sunwire_inverter_") and m.payload]
        self.assertTrue(mq.wait_until(configs, 30), self.daemon.stderr())
        configs = configs()
        platforms = {c["platform"] for c in configs[-1]["components"].values()}
        self.assertEqual(platforms - {"sensor", "binary_sensor"}, set())
        before = read_value(self.sim.port, "power_mng.soc_min")
        self.command("power_mng.soc_min", "30")
        time.sleep(1.5)
        self.assertEqual(read_value(self.sim.port, "power_mng.soc_min"), before)
        self.assertNotIn("soc_min", self.daemon.stderr())

    def test_chain(self):
        self.start(["--seed", "13", "--fault-ignore-write", "0.5"],
                   "control = on\ncontrol_allow = %s\n" % ", ".join(ALLOW))
        comps = self.inverter_config()["components"]
        controls = {c["unique_id"].split("_control_", 1)[1]: c for c in comps.values() if "_control_" in c["unique_id"]}
        self.assertEqual(set(controls), {key(o) for o in ALLOW})
        want = {"power_mng_soc_min": "number", "power_mng_soc_max": "number", "power_mng_soc_strategy": "select",
                "power_mng_use_grid_power_enable": "switch", "power_mng_battery_power_extern": "number"}
        for k, platform in want.items():
            c = controls[k]
            self.assertEqual(c["platform"], platform, k)
            self.assertEqual(c["command_topic"], "sunwire/inverter/house/set/" + k)
        self.assertEqual((controls["power_mng_soc_min"]["min"], controls["power_mng_soc_min"]["max"]), (5, 100))
        self.assertEqual(controls["power_mng_soc_min"]["unit_of_measurement"], "%")
        self.assertEqual((controls["power_mng_battery_power_extern"]["min"],
                          controls["power_mng_battery_power_extern"]["max"]), (-6000, 6000))
        self.assertIn("External", controls["power_mng_soc_strategy"]["options"])

        # Ignored once, written again, verified.
        self.command("power_mng.soc_min", "30")
        self.wait_log(r"power_mng\.soc_min 0\.07\d* -> 0\.3\d* verified after 2 writes \(command\)")
        self.assertAlmostEqual(float(read_value(self.sim.port, "power_mng.soc_min")), 0.3, places=6)
        # Too soon for the same object: refused, nothing sent.
        self.command("power_mng.soc_min", "40")
        self.wait_log(r"power_mng\.soc_min = 0\.4 refused: object was written too recently")
        # Out of range: refused, nothing sent.
        self.command("power_mng.soc_max", "150")
        self.wait_log(r"power_mng\.soc_max = 1\.5 refused: value is outside the object's documented limits")
        # Not allowed.
        self.command("p_rec_lim[1]", "100")
        self.wait_log(r"p_rec_lim\[1\] = 100(\.0)? refused: object is not in the control allow list")
        # A select by its label (ignored once, then taken), a switch by ON.
        self.command("power_mng.soc_strategy", "External")
        self.wait_log(r"power_mng\.soc_strategy 4 -> 2 verified after 2 writes")
        self.command("power_mng.use_grid_power_enable", "ON")
        self.wait_log(r"power_mng\.use_grid_power_enable 0 -> 1 verified after 1 write ")
        self.assertEqual(read_value(self.sim.port, "power_mng.soc_strategy"), "2")
        self.assertEqual(read_value(self.sim.port, "power_mng.soc_max"), "0.9700000286102295")
        self.assertEqual(read_value(self.sim.port, "power_mng.use_grid_power_enable"), "True")
        # The state Home Assistant reads follows the verified value.
        def state_has_it():
            s = [m.json() for m in self.watcher.snapshot() if m.topic == "sunwire/inverter/house/state"]
            return s and abs(s[-1].get("power_mng_soc_min", 0) - 0.3) < 1e-6
        self.assertTrue(mq.wait_until(state_has_it, 10))

        # Counted as the events say: each write once under how it ended, a retry per ignored write.
        m = Scrape(self, self.http_port, promtool=True)
        self.assertEqual(m.writes(), {("power_mng.soc_min", "verified", ""): 1,
                                      ("power_mng.soc_min", "refused", "rate_limited"): 1,
                                      ("power_mng.soc_max", "refused", "out_of_range"): 1,
                                      ("p_rec_lim[1]", "refused", "not_allowed"): 1,
                                      ("power_mng.soc_strategy", "verified", ""): 1,
                                      ("power_mng.use_grid_power_enable", "verified", ""): 1})
        self.assertEqual(m.per_object("sunwire_control_retries_total"),
                         {"power_mng.soc_min": 1, "power_mng.soc_strategy": 1, "power_mng.soc_max": 0,
                          "power_mng.use_grid_power_enable": 0, "power_mng.battery_power_extern": 0})
        # Of 24 write frames a day: two for soc_min and soc_strategy, one for the switch.
        self.assertEqual(m.per_object("sunwire_control_flash_writes_left"),
                         {"power_mng.soc_min": 22, "power_mng.soc_strategy": 22, "power_mng.soc_max": 24,
                          "power_mng.use_grid_power_enable": 23, "power_mng.battery_power_extern": 24})
        self.assertEqual(set(m.per_object("sunwire_control_blocked").values()), {0})
        self.assertEqual(m.per_object("sunwire_control_blocked_until_timestamp_seconds"), {})
        api = api_control(self.http_port)
        self.assertEqual(api["power_mng.soc_min"]["writes"], {"verified": 1, "failed": 0, "refused": 1})
        self.assertEqual(api["power_mng.soc_min"]["refused"]["rate_limited"], 1)
        self.assertEqual((api["power_mng.soc_min"]["retries"], api["power_mng.soc_min"]["flash_left"]), (1, 22))
        self.assertFalse(api["p_rec_lim[1]"]["allowed"])
        self.assertEqual(api["p_rec_lim[1]"]["refused"]["not_allowed"], 1)

        ev = self.events()
        got = [(e["object"], e["outcome"], e["attempts"]) for e in ev]
        self.assertEqual(got, [("power_mng.soc_min", "verified", "2"), ("power_mng.soc_min", "refused", "0"),
                               ("power_mng.soc_max", "refused", "0"), ("p_rec_lim[1]", "refused", "0"),
                               ("power_mng.soc_strategy", "verified", "2"),
                               ("power_mng.use_grid_power_enable", "verified", "1")])
        self.assertTrue(ev[0]["old"].startswith("0.07"), ev[0])
        self.assertTrue(ev[0]["new"].startswith("0.3"), ev[0])
        self.assertTrue(ev[0]["read_back"].startswith("0.3"), ev[0])
        self.assertEqual(ev[0]["origin"], "command")

    def test_ignored_every_time_fails_after_the_retries(self):
        self.start(["--seed", "2", "--fault-ignore-write", "1"],
                   "control = on\ncontrol_allow = power_mng.soc_max\ncontrol_retries = 2\n")
        self.assertTrue(mq.wait_until(lambda: "power_mng_soc_max" in (self.latest_state() or {}), 30),
                        self.daemon.stderr())
        self.command("power_mng.soc_max", "90")
        self.wait_log(r"power_mng\.soc_max 0\.97\d* -> 0\.9 failed after 3 writes: the device did not take the value")
        self.assertEqual(read_value(self.sim.port, "power_mng.soc_max"), "0.9700000286102295")
        m = Scrape(self, self.http_port)
        self.assertEqual(m.writes(), {("power_mng.soc_max", "failed", "ignored"): 1})
        self.assertEqual(m.per_object("sunwire_control_retries_total"), {"power_mng.soc_max": 2})
        self.assertEqual(m.per_object("sunwire_control_flash_writes_left"), {"power_mng.soc_max": 21})
        ev = self.events()
        self.assertEqual([(e["outcome"], e["attempts"]) for e in ev], [("failed", "3")])

    def test_every_control_writes_and_refuses(self):
        # (object, command payload, device value afterwards, payload outside the limits)
        cases = [("power_mng.soc_min", "25", 0.25, "2"), ("power_mng.soc_max", "90", 0.9, "101"),
                 ("power_mng.soc_target_set", "60", 0.6, "-1"), ("power_mng.soc_strategy", "Constant", 1, "6"),
                 ("power_mng.battery_power_extern", "-2500", -2500, "7000"),
                 ("power_mng.soc_charge", "10", 0.1, "150"), ("power_mng.soc_charge_power", "500", 500, "-1"),
                 ("p_rec_lim[1]", "3000", 3000, "6001"), ("power_mng.use_grid_power_enable", "ON", 1, "MAYBE"),
                 ("buf_v_control.power_reduction", "70", 0.7, "100.5")]
        self.start([], "control = on\n" + "".join("control_allow = %s\n" % c[0] for c in cases))
        comps = self.inverter_config()["components"]
        self.assertEqual(len([c for c in comps.values() if "_control_" in c["unique_id"]]), len(cases))
        for n, (obj, good, want, bad) in enumerate(cases):
            before = read_value(self.sim.port, obj)
            self.command(obj, bad)
            self.wait_log(r"%s = \S* ?refused: " % re.escape(obj), count=1)
            self.assertEqual(read_value(self.sim.port, obj), before, obj)
            self.command(obj, good)
            self.wait_log(r"%s \S+ -> \S+ verified after 1 write \(command\)" % re.escape(obj))
            got = read_value(self.sim.port, obj)
            got = 1 if got == "True" else float(got)
            self.assertAlmostEqual(got, want, places=5, msg=obj)
        ev = self.events()
        self.assertEqual([e["outcome"] for e in ev], ["refused", "verified"] * len(cases))
        self.assertEqual([e["object"] for e in ev[1::2]], [c[0] for c in cases])

    def latest_state(self):
        s = [m.json() for m in self.watcher.snapshot() if m.topic == "sunwire/inverter/house/state"]
        return s[-1] if s else None

    def test_keep_reasserts_after_a_restart(self):
        self.start(["--fault-revert-after", "80"],
                   "control = on\ncontrol_allow = power_mng.soc_min\ncontrol_keep = power_mng.soc_min=0.3\n"
                   "control_rate = 1s\n")
        # Written at start, forgotten by the "restart", written again: twice at least.
        self.wait_log(r"power_mng\.soc_min 0\.07\d* -> 0\.3\d* verified after 1 write \(keep\)", count=2, timeout=30)
        ev = self.events()
        keeps = [e for e in ev if e["origin"] == "keep" and e["outcome"] == "verified"]
        self.assertGreaterEqual(len(keeps), 2)
        self.assertFalse([e for e in ev if e["outcome"] == "failed"], ev)

    def run_with_state(self, state_dir, rct_keys):
        """(Re)start the daemon alone on the running simulator with state_dir; wait until it takes commands."""
        if self.daemon:
            self.assertEqual(self.daemon.stop(), 0)
            self.daemon.close()
        cfg = os.path.join(self.tmp.name, "state.ini")
        self.http_port = mq.free_port()
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[general]\nstate_dir = %s\n\n[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\n"
                    "slow_interval = 1s\n%s\n[mqtt]\nhost = 127.0.0.1\nport = %d\nreconnect_min = 0.2\n\n"
                    "[http]\nport = %d\n\n[prometheus]\nenable = yes\n"
                    % (state_dir, self.sim.port, rct_keys, self.broker.port, self.http_port))
        self.daemon = runlib.Daemon(["--config", cfg])
        self.wait_log(r"house: connected to 127\.0\.0\.1")
        self.wait_log(r"connected to 127\.0\.0\.1:%d" % self.broker.port)
        time.sleep(0.5)  # its subscription reaches the broker

    def test_limits_survive_a_restart(self):
        keys = "control = on\ncontrol_allow = power_mng.soc_min\ncontrol_rate = 6s\ncontrol_flash_per_day = 1\n"
        self.sim = runlib.RctSimulator(0, FROZEN)
        state = os.path.join(self.tmp.name, "state")
        self.run_with_state(state, keys)
        self.command("power_mng.soc_min", "30")
        self.wait_log(r"power_mng\.soc_min 0\.07\d* -> 0\.3\d* verified after 1 write \(command\)")
        written = time.monotonic()
        path = os.path.join(state, "rct-control-house.json")
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)["objects"]["power_mng.soc_min"]
        self.assertEqual(saved["flash_writes"], 1)
        self.assertLessEqual(abs(saved["last_ms"] / 1000 - time.time()), 10)
        # The day's one write is spent: blocked until the window that opened with it ends.
        self.assertBlocked(saved["flash_start_ms"] / 1000 + 86400, promtool=True)

        # Restarted with the same state: still too soon, then the day's one flash write is spent.
        self.run_with_state(state, keys)
        self.assertLess(time.monotonic() - written, 6, "the restart took longer than control_rate")
        self.command("power_mng.soc_min", "40")
        self.wait_log(r"power_mng\.soc_min = 0\.4 refused: object was written too recently")
        time.sleep(max(0, written + 6.5 - time.monotonic()))
        self.command("power_mng.soc_min", "40")
        self.wait_log(r"power_mng\.soc_min = 0\.4 refused: object's flash write budget .* is used up")
        self.assertAlmostEqual(float(read_value(self.sim.port, "power_mng.soc_min")), 0.3, places=6)
        # This run's counts; the block as the state file carried it over.
        self.assertEqual(Scrape(self, self.http_port).writes(),
                         {("power_mng.soc_min", "refused", "rate_limited"): 1,
                          ("power_mng.soc_min", "refused", "flash_budget"): 1})
        self.assertBlocked(saved["flash_start_ms"] / 1000 + 86400)

        # A corrupt state file: writes are blocked for 24 hours, and every object counts as written now
        # with its budget used up.
        broken = os.path.join(self.tmp.name, "broken")
        os.mkdir(broken)
        with open(os.path.join(broken, "rct-control-house.json"), "w", encoding="utf-8") as f:
            f.write('{"version": 1, "objects": {"power_mng.soc_min": {"last_ms": "soon"')
        self.run_with_state(broken, keys)
        self.wait_log(r"house: the control limits in .* cannot be read")
        self.assertTrue(os.path.exists(os.path.join(broken, "rct-control-house.json.corrupt")))
        with open(os.path.join(broken, "rct-control-house.json"), encoding="utf-8") as f:
            blocked_until = json.load(f)["blocked_until_ms"] / 1000
        self.assertLessEqual(abs(blocked_until - (time.time() + 86400)), 10)  # 24 hours from the start
        self.assertBlocked(blocked_until)
        self.command("power_mng.soc_min", "40")
        self.wait_log(r"power_mng\.soc_min = 0\.4 refused: writes are blocked for 24 hours")
        self.assertEqual(Scrape(self, self.http_port).writes(), {("power_mng.soc_min", "refused", "blocked"): 1})
        # Restarted on it: still blocked, to the same end (a crash loop does not extend it).
        self.run_with_state(broken, keys)
        self.assertNotIn("cannot be read", self.daemon.stderr())
        self.assertBlocked(blocked_until)
        self.command("power_mng.soc_min", "40")
        self.wait_log(r"power_mng\.soc_min = 0\.4 refused: writes are blocked for 24 hours")

        # A new state directory knows of no write: allowed.
        self.run_with_state(os.path.join(self.tmp.name, "fresh"), keys)
        self.command("power_mng.soc_min", "40")
        self.wait_log(r"power_mng\.soc_min 0\.3\d* -> 0\.4\d* verified after 1 write \(command\)")
        self.assertAlmostEqual(float(read_value(self.sim.port, "power_mng.soc_min")), 0.4, places=6)

    def assertBlocked(self, until, promtool=False):
        """soc_min takes no writes until `until` (Unix time, within 10 s), on /metrics and /api/control."""
        m = Scrape(self, self.http_port, promtool)
        self.assertEqual(m.per_object("sunwire_control_blocked"), {"power_mng.soc_min": 1})
        self.assertEqual(m.per_object("sunwire_control_flash_writes_left"), {"power_mng.soc_min": 0})
        self.assertEqual(m.per_object("sunwire_control_flash_writes_per_day"), {"power_mng.soc_min": 1})
        got = m.per_object("sunwire_control_blocked_until_timestamp_seconds")["power_mng.soc_min"]
        self.assertLessEqual(abs(got - until), 10, (got, until))
        c = api_control(self.http_port)["power_mng.soc_min"]
        self.assertEqual((c["blocked"], c["flash_left"]), (True, 0))
        self.assertTrue(c["blocked_until"].endswith("Z"), c)

    def test_config_refuses_unsafe_settings(self):
        cfg = os.path.join(self.tmp.name, "bad.ini")
        for keys, why in (("control = on\n", "allows nothing"),
                          ("control = on\ncontrol_allow = battery.soc\n", "is not an object sunwire can control"),
                          ("control = on\ncontrol_allow = power_mng.soc_min\ncontrol_keep = power_mng.soc_min=2\n",
                           "outside the object's documented limits"),
                          ("control = on\ncontrol_allow = power_mng.soc_min\ncontrol_keep = power_mng.soc_max=0.9\n",
                           "which control_allow does not list")):
            with open(cfg, "w", encoding="utf-8") as f:
                f.write("[rct house]\nhost = 127.0.0.1:1\n" + keys)
            r = subprocess.run([runlib.BIN, "run", "--config", cfg], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, keys)
            self.assertIn(why, r.stderr, keys)



@unittest.skipIf(SKIP, SKIP)
class PlantMembersTest(unittest.TestCase):
    """[rct] addresses: plant members over the one connection, each its own inverter everywhere."""

    def test_members_are_devices_of_their_own(self):
        tmp = tempfile.TemporaryDirectory()
        broker = mq.Broker().start()
        watcher = mq.Watcher(broker.port, topics=(PREFIX + "/#", "sunwire/#")).start()
        sim = runlib.RctSimulator(0, FROZEN + ["--plant", "2", "--plant", "3"])
        metrics_port = mq.free_port()
        daemon = None
        try:
            cfg = os.path.join(tmp.name, "run.ini")
            with open(cfg, "w", encoding="utf-8") as f:
                f.write("[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\naddresses = 2, 3\n\n"
                        "[mqtt]\nhost = 127.0.0.1\nport = %d\nreconnect_min = 0.2\n\n"
                        "[prometheus]\nbind = 127.0.0.1\nport = %d\n" % (sim.port, broker.port, metrics_port))
            daemon = runlib.Daemon(["--config", cfg])
            names = ["house", "house-2", "house-3"]

            def states():
                out = {}
                for m in watcher.snapshot():
                    for n in names:
                        if m.topic == "sunwire/inverter/%s/state" % n:
                            out[n] = m.json()
                return out
            ok = mq.wait_until(lambda: all("battery_soc" in s for s in states().values()) and len(states()) == 3, 30)
            self.assertTrue(ok, "states: %r\n%s" % (sorted(states()), daemon.stderr()))
            # Each member's values are its own: what the simulator answers for its address.
            serials = {}
            for n, addr in (("house", None), ("house-2", 2), ("house-3", 3)):
                args = [runlib.BIN, "rct", "read-value", "--host", "127.0.0.1", "--port", str(sim.port),
                        "--name", "inverter_sn"] + (["--address", str(addr)] if addr else [])
                serials[n] = subprocess.run(args, capture_output=True, text=True, timeout=30,
                                            check=True).stdout.strip()
            self.assertEqual(len(set(serials.values())), 3, serials)

            # One Home Assistant device per member, keyed on its own serial.
            def devices():
                return {m.json()["device"]["name"]: m.json() for m in watcher.snapshot()
                        if m.topic.startswith(PREFIX + "/device/sunwire_inverter_") and m.payload}
            self.assertTrue(mq.wait_until(lambda: len(devices()) == 3, 20), sorted(devices()))
            for n in names:
                dev = devices()[n]
                self.assertEqual(dev["device"]["identifiers"], ["sunwire_inverter_" + serials[n]])
                self.assertEqual(dev["device"]["serial_number"], serials[n])
            uids = [u for d in devices().values() for u in d["components"]]
            self.assertEqual(len(uids), len(set(uids)))

            # One Prometheus label value per member.
            def scrape():
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port, timeout=5) as r:
                    return r.read().decode()
            text = scrape()
            for n in names:
                for metric in ('sunwire_inverter_online{inverter="%s"} 1' % n,
                               'sunwire_inverter_ratio{inverter="%s",object="battery.soc"}' % n,
                               'sunwire_inverter_text_info{inverter="%s",object="inverter_sn",text="%s"} 1'
                               % (n, serials[n])):
                    self.assertIn(metric, text)
            # All over one connection to the inverter.
            self.assertEqual(daemon.stderr().count("house: connected to"), 1, daemon.stderr())
        finally:
            if daemon:
                daemon.close()
            sim.stop()
            watcher.stop()
            broker.close()
            tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
