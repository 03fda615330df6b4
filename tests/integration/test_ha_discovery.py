"""Every Home Assistant discovery config `sunwire run` sends, checked against
Home Assistant's rules.

The daemon runs with both simulators (a Tigo bus from `sunwire tigo simulate`
and an RCT inverter from `sunwire rct simulator`) and a real mosquitto on
127.0.0.1; a mosquitto_sub on `homeassistant/#` and the state topics records
what it publishes. Each config, in both discovery modes, is checked against
the rules in tests/data/ha_rules.json (device classes per platform, units and
state classes per device class, enum options, unique_id charset and
uniqueness, required device and origin keys, entity categories). Each entity's
value_template is rendered with Jinja2, the template engine Home Assistant
uses, against the state the daemon published, so the state it would show is
checked too: numeric where a unit or state class says so, never negative for
total_increasing, one of the options for an enum, ON/OFF for a binary sensor.
docs/mqtt.md's table of inverter classes is compared with what is sent.

Expected inverter values come from `sunwire rct read-value`, never from the
daemon's own MQTT code."""

import json
import os
import re
import subprocess
import tempfile
import unittest

import mqttlib as mq
import runlib

try:
    import jinja2
except ImportError:  # scripts/deps.sh installs python3-jinja2
    jinja2 = None

SKIP = mq.tools_missing() or (None if jinja2 else "python3-jinja2 is not installed (scripts/deps.sh installs it)")
RULES = runlib.load_vector("ha_rules.json")
PREFIX = "homeassistant"
RCT_FROZEN = ["--speed", "0", "--start", "2025-06-01T11:00:00Z", "--seed", "7"]
# Every object sunwire can control (src/rct/control.c): each must be announced and keep the rules.
CONTROLS = ["power_mng.soc_min", "power_mng.soc_max", "power_mng.soc_target_set", "power_mng.soc_strategy",
            "power_mng.battery_power_extern", "power_mng.soc_charge", "power_mng.soc_charge_power", "p_rec_lim[1]",
            "power_mng.use_grid_power_enable", "buf_v_control.power_reduction"]
TABLE = os.path.join(os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                     "data", "ha-inverter.tsv")


def table_rows():
    with open(TABLE, encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")
    cols = lines[0].split("\t")
    return [dict(zip(cols, line.split("\t"))) for line in lines[1:]]


def read_value(port, name):
    out = subprocess.run([runlib.BIN, "rct", "read-value", "--host", "127.0.0.1", "--port", str(port),
                          "--name", name], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


class TigoSimulator:
    """`sunwire tigo simulate --tcp` on a free loopback port."""

    def __init__(self, extra=()):
        self.proc = subprocess.Popen([runlib.BIN, "tigo", "simulate", "--tcp", "--port", "0"] + list(extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        m = re.match(r"listening on ([0-9.]+):(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("tigo simulate said %r" % line)
        self.port = int(m.group(2))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


# ---- the rules ---------------------------------------------------------------------------------

def entities(configs, mode):
    """(where, platform, entity, device, origin, state_topic) for every entity in the configs."""
    out = []
    for topic, cfg in sorted(configs.items()):
        if mode == "device":
            for key, comp in sorted(cfg.get("components", {}).items()):
                out.append(("%s %s" % (topic, key), comp.get("platform"), comp, cfg.get("device"),
                            cfg.get("origin"), comp.get("state_topic", cfg.get("state_topic"))))
        else:
            platform = topic.split("/")[1]
            out.append((topic, platform, cfg, cfg.get("device"), cfg.get("origin"), cfg.get("state_topic")))
    return out


def render(template, state):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(value_json=state, value=json.dumps(state))


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def check_sensor(ent, state_text, problems, where):
    r = RULES["sensor"]
    dc = ent.get("device_class")
    unit = ent.get("unit_of_measurement")
    sc = ent.get("state_class")
    if dc is not None:
        rule = r["device_classes"].get(dc)
        if rule is None:
            problems.append("%s: device_class %r is not a sensor class" % (where, dc))
            return
        if unit not in rule["units"]:
            problems.append("%s: unit %r does not go with device_class %s (%s)" % (where, unit, dc, rule["units"]))
        if sc not in rule["state_classes"]:
            problems.append("%s: state_class %r does not go with device_class %s" % (where, sc, dc))
    elif sc not in r["without_device_class"]["state_classes"]:
        problems.append("%s: state_class %r" % (where, sc))
    options = ent.get("options")
    if options is not None and dc != r["options_only_with"]:
        problems.append("%s: options without device_class enum" % where)
    if dc is not None and r["device_classes"][dc].get("options") == "required":
        if not isinstance(options, list) or not options or len(set(options)) != len(options) \
                or not all(isinstance(o, str) for o in options):
            problems.append("%s: an enum needs a list of distinct options, got %r" % (where, options))
        elif state_text is not None and state_text not in options:
            problems.append("%s: state %r is not one of its options" % (where, state_text))
    prec = ent.get("suggested_display_precision")
    if prec is not None and (not isinstance(prec, int) or prec < 0):
        problems.append("%s: suggested_display_precision %r" % (where, prec))
    if state_text is None:
        return
    if any(k in ent for k in r["numeric_when"]):
        if not is_number(state_text):
            problems.append("%s: state %r is not a number" % (where, state_text))
        elif sc in r["non_negative_state_classes"] and float(state_text) < 0:
            problems.append("%s: %s state %s is negative (Home Assistant's recorder skips it)"
                            % (where, sc, state_text))


def check_binary_sensor(ent, state_text, problems, where):
    r = RULES["binary_sensor"]
    dc = ent.get("device_class")
    if dc is not None and dc not in r["device_classes"]:
        problems.append("%s: device_class %r is not a binary_sensor class" % (where, dc))
    for k in r["forbidden_keys"]:
        if k in ent:
            problems.append("%s: a binary_sensor has no %s" % (where, k))
    if state_text is not None and state_text not in r["states"]:
        problems.append("%s: state %r is neither of %s" % (where, state_text, r["states"]))


def check_control(platform, ent, state_text, problems, where):
    """A number, select or switch: Home Assistant needs a command topic and limits it can show."""
    r = RULES[platform]
    for k in r["required"]:
        if k not in ent:
            problems.append("%s: a %s needs %s" % (where, platform, k))
    if platform == "number":
        lo, hi, step = ent.get("min"), ent.get("max"), ent.get("step")
        if not all(isinstance(x, (int, float)) for x in (lo, hi, step)) or not lo < hi or step <= 0:
            problems.append("%s: min %r, max %r, step %r" % (where, lo, hi, step))
            return
        dc = ent.get("device_class")
        if dc is not None:
            rule = r["device_classes"].get(dc)
            if rule is None:
                problems.append("%s: device_class %r is not a number class" % (where, dc))
            elif ent.get("unit_of_measurement") not in rule["units"]:
                problems.append("%s: unit %r does not go with device_class %s" % (where, ent.get("unit_of_measurement"), dc))
        if state_text is not None and (not is_number(state_text) or not lo <= float(state_text) <= hi):
            problems.append("%s: state %r is not a number within %s..%s" % (where, state_text, lo, hi))
    elif platform == "select":
        options = ent.get("options")
        if not isinstance(options, list) or not options or len(set(options)) != len(options) \
                or not all(isinstance(o, str) for o in options):
            problems.append("%s: a select needs distinct options, got %r" % (where, options))
        elif state_text is not None and state_text not in options:
            problems.append("%s: state %r is not one of its options" % (where, state_text))
    else:
        states = [ent.get(k, d) for k, d in zip(r["states_keys"], r["default_states"])]
        if state_text is not None and state_text not in states:
            problems.append("%s: state %r is neither of %s" % (where, state_text, states))


def validate(configs, states, mode):
    """Every problem found, as text; [] when all configs keep the rules."""
    problems = []
    topic_re = re.compile(RULES["discovery_topic"][mode].format(prefix=PREFIX))
    for topic, cfg in configs.items():
        if not topic_re.match(topic):
            problems.append("%s: not a discovery topic of %s mode" % (topic, mode))
        if mode == "device":
            for k in RULES["device_mode_required"]:
                if k not in cfg:
                    problems.append("%s: no %s" % (topic, k))
    uid_re = re.compile(RULES["unique_id_pattern"])
    name_re = re.compile(RULES["sunwire"]["entity_name_forbidden"])
    seen = {}
    for where, platform, ent, device, origin, state_topic in entities(configs, mode):
        if mode == "device":
            for k in RULES["component_required"]:
                if k not in ent:
                    problems.append("%s: no %s" % (where, k))
        uid = ent.get("unique_id")
        if not isinstance(uid, str) or not uid_re.match(uid):
            problems.append("%s: unique_id %r" % (where, uid))
        elif uid in seen:
            problems.append("%s: unique_id %s is also used by %s" % (where, uid, seen[uid]))
        else:
            seen[uid] = where
        if platform not in RULES["platforms"]:
            problems.append("%s: platform %r" % (where, platform))
            continue
        cat = ent.get("entity_category")
        if cat is not None and cat not in RULES["entity_categories"]:
            problems.append("%s: entity_category %r" % (where, cat))
        name = ent.get("name")
        if not isinstance(name, str) or not name or name_re.search(name):
            problems.append("%s: name %r is not for people" % (where, name))
        for k in RULES["device_required"]:
            if not device or not device.get(k):
                problems.append("%s: the device has no %s" % (where, k))
        if device and (not isinstance(device.get("identifiers"), list)
                       or not all(isinstance(i, str) and i for i in device["identifiers"])):
            problems.append("%s: device identifiers %r" % (where, device.get("identifiers")))
        for k in RULES["origin_required"]:
            if not origin or not origin.get(k):
                problems.append("%s: origin has no %s" % (where, k))
        state_text = None
        if state_topic not in states:
            problems.append("%s: nothing was published on its state topic %s" % (where, state_topic))
        else:
            try:
                state_text = render(ent.get("value_template", "{{ value }}"), states[state_topic])
            except jinja2.exceptions.TemplateError as e:
                problems.append("%s: value_template %r fails on the state: %s" % (where, ent.get("value_template"), e))
            if state_text == "None":
                state_text = None  # Home Assistant shows "unknown"
        if platform == "sensor":
            check_sensor(ent, state_text, problems, where)
        elif platform == "binary_sensor":
            check_binary_sensor(ent, state_text, problems, where)
        else:
            check_control(platform, ent, state_text, problems, where)
    return problems


def docs_inverter_classes():
    """(device class, unit, state class) of each row of docs/mqtt.md's table of inverter values."""
    path = os.path.join(os.path.dirname(TABLE), "..", "docs", "mqtt.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head = "| inverter values | device class | unit | state class |"
    rows = text[text.index(head):].split("\n")[2:]
    out = set()
    for row in rows:
        if not row.startswith("|"):
            break
        cells = [c.strip() for c in row.strip("|").split("|")]
        dc, unit, sc = (None if c in ("", "none") else c for c in cells[1:4])
        out.add((dc.split("`")[1] if dc else None, unit, sc.strip("`") if sc else None))
    return out


# ---- the runs --------------------------------------------------------------------------------

@unittest.skipIf(SKIP, SKIP)
class HaDiscoveryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.broker = mq.Broker().start()
        self.watcher = mq.Watcher(self.broker.port, topics=(PREFIX + "/#", "sunwire/#")).start()
        # Barcodes come with the node-table walk, every 10 simulated minutes: 6 s at this speed.
        self.tigo = TigoSimulator(["--start", "2025-06-01T10:00:00Z", "--seed", "3", "--panels", "4",
                                   "--speed", "100"])
        self.rct = runlib.RctSimulator(0, RCT_FROZEN)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        self.rct.stop()
        self.tigo.stop()
        self.watcher.stop()
        self.broker.close()
        self.tmp.cleanup()

    def run_daemon(self, mode):
        cfg = os.path.join(self.tmp.name, "run-%s.ini" % mode)
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\n"
                    "control = on\n%s\n"
                    "[mqtt]\nhost = 127.0.0.1\nport = %d\nreconnect_min = 0.2\ndiscovery = %s\n"
                    % (self.tigo.port, self.rct.port, "".join("control_allow = %s\n" % o for o in CONTROLS), self.broker.port, mode))
        self.daemon = runlib.Daemon(["--config", cfg, "--state-dir", os.path.join(self.tmp.name, "state-" + mode)])

    def latest(self):
        """The newest config per discovery topic and the newest state per state topic."""
        configs, states = {}, {}
        for m in self.watcher.snapshot():
            if m.topic.startswith(PREFIX + "/") and m.topic.endswith("/config") and m.payload:
                configs[m.topic] = m.json()
            elif m.topic.endswith("/state"):
                states[m.topic] = m.json()
        return configs, states

    def collect(self, mode):
        """Run until every kind of device is announced with all its default entities."""
        self.run_daemon(mode)

        def complete():
            configs, states = self.latest()
            ents = entities(configs, mode)
            kinds = ["sunwire_panel_", "sunwire_gateway_", "_strings", "sunwire_inverter_"]
            panels_reported = [s for t, s in states.items() if "/panel/" in t and s.get("last_seen")]
            # The last default object polled: the inverter's entities are all there.
            last = [e for e in ents if e[2].get("unique_id", "").endswith("_fault_3_flt")]
            return (last and all(any(k in e[0] for e in ents) for k in kinds)
                    and panels_reported and "sunwire/inverter/house/state" in states)
        self.assertTrue(mq.wait_until(complete, 60), "discovery incomplete; daemon said:\n" + self.daemon.stderr())
        mq.wait_until(lambda: False, 1.5)  # the coalesced inverter state after the last values
        return self.latest()

    def check_mode(self, mode):
        configs, states = self.collect(mode)
        problems = validate(configs, states, mode)
        self.assertFalse(problems, "%d problems in %s mode:\n%s" % (len(problems), mode, "\n".join(problems)))
        return configs, states

    def test_device_mode_configs_keep_the_rules(self):
        configs, states = self.check_mode("device")
        self.check_inverter(configs, states)
        # The validator itself notices broken configs: break a copy in the ways the rules forbid.
        inv_topic = next(t for t in configs if "sunwire_inverter_" in t)
        bad = json.loads(json.dumps(configs))
        comps = bad[inv_topic]["components"]
        uids = sorted(k for k in comps if comps[k]["platform"] == "sensor")
        comps[uids[0]]["state_class"] = "measurement"
        comps[uids[0]]["device_class"] = "energy"
        comps[uids[1]]["unique_id"] = comps[uids[2]]["unique_id"]
        comps[uids[3]]["unit_of_measurement"] = "kW"
        comps[uids[3]]["device_class"] = "voltage"
        comps[uids[4]]["unique_id"] = "has space"
        del bad[inv_topic]["origin"]["name"]
        found = "\n".join(validate(bad, states, "device"))
        for what in ("does not go with device_class energy", "is also used by", "does not go with device_class voltage",
                     "unique_id 'has space'", "origin has no name"):
            self.assertIn(what, found)

    def test_entity_mode_configs_keep_the_rules(self):
        self.check_mode("entity")

    def check_inverter(self, configs, states):
        """What the inverter's entities say, against what the simulator answers."""
        serial = read_value(self.rct.port, "inverter_sn")
        cfg = configs["%s/device/sunwire_inverter_%s/config" % (PREFIX, serial)]
        comps = cfg["components"]
        state = states["sunwire/inverter/house/state"]

        def comp(key):
            c = comps.get("sunwire_inverter_%s_%s" % (serial, key))
            self.assertIsNotNone(c, "no entity %s" % key)
            return c

        # Human names from the table for every object polled (all have a row).
        polled = 0
        for row in table_rows():
            key = re.sub(r"_+$", "", re.sub(r"[^A-Za-z0-9_-]+", "_", row["object"]))
            if key in state:
                self.assertEqual(comp(key)["name"], row["name"])
                polled += 1
        self.assertGreaterEqual(polled, 45)
        self.assertEqual(comp("g_sync_p_ac_grid_sum_lp")["name"], "Grid power")
        self.assertEqual(comp("iso_struct_Riso")["entity_category"], "diagnostic")
        self.assertEqual(comp("inverter_sn")["entity_category"], "diagnostic")

        # The energy dashboard: grid feed-in counts negative on the device, Home Assistant gets its size.
        feed = float(read_value(self.rct.port, "energy.e_grid_feed_total"))
        self.assertLess(feed, 0)
        grid_feed = comp("energy_e_grid_feed_total")
        self.assertEqual((grid_feed["device_class"], grid_feed["state_class"], grid_feed["unit_of_measurement"]),
                         ("energy", "total_increasing", "Wh"))
        self.assertAlmostEqual(state["energy_e_grid_feed_total"], feed, places=1)
        self.assertAlmostEqual(float(render(grid_feed["value_template"], state)), -feed, places=1)
        # Battery energy in and out, and its cycles, as counters that only grow.
        for key, obj in (("battery_stored_energy", "battery.stored_energy"),
                         ("battery_used_energy", "battery.used_energy")):
            c = comp(key)
            self.assertEqual((c["device_class"], c["state_class"], c["unit_of_measurement"]),
                             ("energy", "total_increasing", "Wh"))
            self.assertAlmostEqual(float(render(c["value_template"], state)), float(read_value(self.rct.port, obj)),
                                   places=1)
        self.assertEqual(comp("battery_cycles")["state_class"], "total_increasing")
        self.assertEqual(state["battery_cycles"], float(read_value(self.rct.port, "battery.cycles")))
        self.assertAlmostEqual(state["battery_soh"], 100 * float(read_value(self.rct.port, "battery.soh")), places=4)

        # The inverter's state is an enum: its label, one of the options, never a number.
        st = comp("prim_sm_state")
        self.assertEqual(st["device_class"], "enum")
        self.assertNotIn("state_class", st)
        self.assertIsInstance(state["prim_sm_state"], str)
        self.assertIn(state["prim_sm_state"], st["options"])
        self.assertIn(read_value(self.rct.port, "prim_sm.state"), (state["prim_sm_state"], "13"))

        # docs/mqtt.md's table of inverter values lists exactly the combinations sent.
        sent = {(c.get("device_class"), c.get("unit_of_measurement"), c.get("state_class")) for c in comps.values()
                if c["platform"] in ("sensor", "binary_sensor")}
        self.assertEqual(sent, docs_inverter_classes())

        # Every control: one number, select or switch, in the command topic's unit, showing the device's value.
        for obj in CONTROLS:
            key = re.sub(r"_+$", "", re.sub(r"[^A-Za-z0-9_-]+", "_", obj))
            c = comp("control_" + key)
            self.assertEqual(c["command_topic"], "sunwire/inverter/house/set/" + key)
            self.assertEqual(c["entity_category"], "config")
            self.assertNotIn("sunwire_inverter_%s_%s" % (serial, key), comps)  # no second, read-only entity
            device = float(read_value(self.rct.port, obj)) if c["platform"] == "number" else None
            if device is not None:
                scale = 100 if c.get("unit_of_measurement") == "%" else 1
                self.assertAlmostEqual(float(render(c["value_template"], state)), device * scale, places=2)
        self.assertEqual(comp("control_power_mng_soc_strategy")["platform"], "select")
        self.assertEqual(render(comp("control_power_mng_soc_strategy")["value_template"], state), "Internal")
        self.assertEqual(comp("control_power_mng_use_grid_power_enable")["platform"], "switch")
        self.assertEqual(render(comp("control_power_mng_use_grid_power_enable")["value_template"], state), "OFF")

        # Battery status bits as binary sensors.
        bits = int(float(read_value(self.rct.port, "battery.bat_status")))
        bal = comp("battery_bat_status_balancing")
        self.assertEqual(bal["platform"], "binary_sensor")
        self.assertEqual(render(bal["value_template"], state), "ON" if bits & 2048 == 0 else "OFF")


if __name__ == "__main__":
    unittest.main()
