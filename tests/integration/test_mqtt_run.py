"""`sunwire run` publishing to a real mosquitto: a Tigo bus (served from the
observer test vectors by a loopback bridge) and the RCT simulator in, Home
Assistant discovery and state out.

Expected numbers come from the vectors and from reading the frozen simulator
with `sunwire rct read-value`, never from sunwire's own MQTT code."""

import json
import os
import signal
import subprocess
import tempfile
import unittest

import mqttlib as mq
import runlib

SKIP = mq.tools_missing()
FROZEN = ["--speed", "0", "--start", "2025-06-01T11:00:00Z", "--seed", "7"]


def read_value(port, name):
    out = subprocess.run([runlib.BIN, "rct", "read-value", "--host", "127.0.0.1", "--port", str(port),
                          "--name", name], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


@unittest.skipIf(SKIP, SKIP)
class MqttRunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.broker = mq.Broker().start()
        self.watcher = mq.Watcher(self.broker.port).start()
        self.sim = None
        self.bridge = None
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        if self.sim:
            self.sim.stop()
        if self.bridge:
            self.bridge.stop()
        self.watcher.stop()
        self.broker.close()
        self.tmp.cleanup()

    def latest(self, topic):
        found = [m for m in self.watcher.snapshot() if m.topic == topic]
        return found[-1] if found else None

    def test_run_publishes_tigo_and_rct(self):
        scn = runlib.tigo_scenario("node table walk")
        chunks = [bytes.fromhex(step["bus_hex"]) for step in scn["steps"]]
        want = [json.loads(l) for l in scn["expected_stdout_fork_with_state_file"]]
        want = [o for o in want if o.get("event_type") == "power_report"][0]
        self.bridge = runlib.TigoBridge(chunks)
        self.sim = runlib.RctSimulator(0, FROZEN)
        cfg = os.path.join(self.tmp.name, "run.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\n\n"
                    "[panels]\nmodules = A:east1:4-A2346FZ\n\n[mqtt]\nhost = 127.0.0.1\nport = %d\nbase_topic = solar\n"
                    "reconnect_min = 0.2\n" % (self.bridge.port, self.sim.port, self.broker.port))
        self.daemon = runlib.Daemon(["--config", cfg, "--state-dir", os.path.join(self.tmp.name, "state")])
        w = self.watcher
        self.assertIsNotNone(w.wait(topic="solar/status", payload="online", timeout=15), self.daemon.stderr())

        # The panel: discovery keyed on its barcode (after the instance id, from base_topic), hanging off its
        # gateway, and its measurements.
        panel_cfg = w.wait(topic="homeassistant/device/solar_panel_4-A2346FZ/config", timeout=15)
        self.assertIsNotNone(panel_cfg, self.daemon.stderr())
        dev = panel_cfg.json()["device"]
        self.assertEqual(dev["name"], "east1")
        self.assertEqual(dev["via_device"], "solar_gateway_roof_%d" % want["gateway"])
        # (Identity can arrive before the first report: wait for a state that carries a report.)
        reported = lambda: [m for m in w.snapshot() if m.topic == "solar/panel/4-A2346FZ/state"
                            and m.json()["last_seen"] is not None]
        self.assertTrue(mq.wait_until(reported, 15), self.daemon.stderr())
        st = reported()[0].json()
        self.assertTrue(st["online"])
        self.assertEqual(st["node"], want["node"])
        self.assertEqual(st["voltage_in"], want["voltage_in"])
        self.assertEqual(st["voltage_out"], want["voltage_out"])
        self.assertEqual(st["current_in"], want["current"])
        self.assertEqual(st["temperature"], want["temperature"])
        self.assertEqual(st["rssi"], want["rssi"])
        self.assertEqual(st["string"], "A")
        self.assertIsNotNone(w.wait(topic="solar/string/A/state", timeout=10))
        self.assertIsNotNone(w.wait(topic="solar/string/total/state", timeout=10))

        # The inverter: announced under its serial once that is known, values in its state.
        serial = read_value(self.sim.port, "inverter_sn")
        inv_topic = "homeassistant/device/solar_inverter_%s/config" % serial
        self.assertTrue(mq.wait_until(lambda: (self.latest(inv_topic) and "solar_inverter_%s_battery_soc" % serial
                                               in self.latest(inv_topic).json()["components"]), 15),
                        self.daemon.stderr())
        comps = self.latest(inv_topic).json()["components"]
        soc = comps["solar_inverter_%s_battery_soc" % serial]
        self.assertEqual((soc["device_class"], soc["unit_of_measurement"]), ("battery", "%"))
        grid = comps["solar_inverter_%s_g_sync_p_ac_grid_sum_lp" % serial]
        self.assertEqual((grid["device_class"], grid["unit_of_measurement"]), ("power", "W"))
        self.assertTrue(mq.wait_until(lambda: "battery_soc" in (self.latest("solar/inverter/house/state") or
                                                               mq.Message(False, "", "{}")).json(), 15))
        inv_state = self.latest("solar/inverter/house/state").json()
        self.assertEqual(inv_state["serial"], serial)
        self.assertAlmostEqual(inv_state["battery_soc"], 100 * float(read_value(self.sim.port, "battery.soc")),
                               places=4)
        self.assertEqual(inv_state["g_sync_p_ac_grid_sum_lp"],
                         float(read_value(self.sim.port, "g_sync.p_ac_grid_sum_lp")))
        # last_poll follows every complete answer, not only identity or online changes.
        first_poll = inv_state["last_poll"]
        self.assertIsNotNone(first_poll)
        self.assertTrue(mq.wait_until(lambda: (self.latest("solar/inverter/house/state").json().get("last_poll")
                                               or "") > first_poll, 10),
                        "last_poll stayed at %s" % first_poll)

        # A clean stop leaves "offline" retained.
        self.assertEqual(self.daemon.stop(signal.SIGTERM), 0)
        self.assertEqual(mq.retained(self.broker.port, "solar/status"), "offline")

    def test_two_daemons_share_no_home_assistant_id(self):
        """Two installations on one broker, both with the default source name "tigo", the same gateway id,
        the same panel barcodes and an inverter with the same serial: told apart by their base topics."""
        scn = runlib.tigo_scenario("node table walk")
        chunks = [bytes.fromhex(step["bus_hex"]) for step in scn["steps"]]
        self.bridge = runlib.TigoBridge(chunks)
        self.sim = runlib.RctSimulator(0, FROZEN)
        daemons = {}
        try:
            for base in ("sunwire", "garage"):
                cfg = os.path.join(self.tmp.name, base + ".ini")
                with open(cfg, "w", encoding="utf-8") as f:
                    f.write("[tigo tigo]\ntcp = 127.0.0.1:%d\n\n[rct house]\nhost = 127.0.0.1:%d\n"
                            "fast_interval = 300ms\n\n[panels]\nmodules = A:east1:4-A2346FZ\n\n[mqtt]\n"
                            "host = 127.0.0.1\nport = %d\nbase_topic = %s\nreconnect_min = 0.2\n"
                            % (self.bridge.port, self.sim.port, self.broker.port, base))
                daemons[base] = runlib.Daemon(["--config", cfg, "--state-dir", os.path.join(self.tmp.name, base)])
            serial = read_value(self.sim.port, "inverter_sn")
            # Announced per daemon: its panel, its gateway, its strings and its inverter.
            kinds = ("panel", "gateway", "strings", "inverter")

            def configs():
                per = {base: {} for base in daemons}
                for m in self.watcher.snapshot():
                    if not m.topic.startswith("homeassistant/") or not m.payload:
                        continue
                    cfg = m.json()
                    base = cfg["availability"][0]["topic"].split("/")[0]
                    per[base][m.topic] = cfg
                return per

            def complete():
                per = configs()
                return all(any("_%s" % kind in dev.get("device", {}).get("identifiers", [""])[0]
                               for dev in per[base].values()) for base in daemons for kind in kinds) and per

            per = mq.wait_until(complete, 30)
            self.assertTrue(per, "discovery incomplete: %r\n%s\n%s" % (
                {b: sorted(c) for b, c in configs().items()}, daemons["sunwire"].stderr(), daemons["garage"].stderr()))
            ids = {}
            for base, cfgs in per.items():
                found = set()
                for cfg in cfgs.values():
                    dev = cfg["device"]
                    found.update(dev["identifiers"])
                    if "via_device" in dev:
                        found.add(dev["via_device"])
                    for uid, _ent, _topic in mq.components(mq.Message(False, "", json.dumps(cfg))):
                        found.add(uid)
                ids[base] = found
            self.assertEqual(set(), ids["sunwire"] & ids["garage"])
            self.assertEqual(set(), set(per["sunwire"]) & set(per["garage"]), "a discovery topic written by both")
            # The default base topic keeps the identifiers a single daemon always had.
            self.assertIn("sunwire_panel_4-A2346FZ", ids["sunwire"])
            self.assertIn("sunwire_inverter_%s" % serial, ids["sunwire"])
            self.assertIn("garage_panel_4-A2346FZ", ids["garage"])
            self.assertIn("garage_gateway_tigo_%d" % json.loads(
                [l for l in scn["expected_stdout_fork_with_state_file"] if "power_report" in l][0])["gateway"],
                ids["garage"])
            self.assertIn("garage_strings", ids["garage"])
            self.assertIn("garage_inverter_%s" % serial, ids["garage"])
        finally:
            for d in daemons.values():
                d.close()

    def test_states_follow_home_assistant_restart(self):
        """Home Assistant restarts: it announces itself, reads the (retained) discovery, and only then subscribes
        to the entities' state topics. Every entity must get a value after that, also those that rarely change
        (the gateway's firmware and radio address), although states are not retained."""
        # Ninety seconds of a simulated bus (enumeration, firmware version, node table, reports), said once;
        # then the bus stays silent, so nothing but the resend can bring a state to a late subscriber.
        bus = os.path.join(self.tmp.name, "bus.bin")
        subprocess.run([runlib.BIN, "tigo", "simulate", "--file", bus, "--duration", "90", "--start",
                        "2025-06-21T10:00:00Z", "--panels", "2", "--seed", "3"], check=True, capture_output=True,
                       timeout=60)
        with open(bus, "rb") as f:
            self.bridge = runlib.TigoBridge([f.read()])
        self.sim = runlib.RctSimulator(0, FROZEN)
        cfg = os.path.join(self.tmp.name, "run.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\n\n"
                    "[mqtt]\nhost = 127.0.0.1\nport = %d\nreconnect_min = 0.2\nresend_delay = 1.5\n"
                    % (self.bridge.port, self.sim.port, self.broker.port))
        self.daemon = runlib.Daemon(["--config", cfg, "--state-dir", os.path.join(self.tmp.name, "state")])
        w = self.watcher
        serial = read_value(self.sim.port, "inverter_sn")
        for dev in ("sunwire_strings", "sunwire_inverter_" + serial):
            self.assertIsNotNone(w.wait(topic="homeassistant/device/%s/config" % dev, timeout=15),
                                 self.daemon.stderr())
        for kind in ("_gateway_", "_panel_"):
            self.assertTrue(mq.wait_until(lambda: [m for m in w.snapshot() if m.topic.startswith(
                "homeassistant/device/") and kind in m.topic], 15), self.daemon.stderr())
        gw_state = mq.wait_until(lambda: [m.json() for m in w.snapshot() if m.topic.startswith("sunwire/gateway/")
                                          and m.json().get("version") and m.json().get("address")], 15)
        self.assertTrue(gw_state, "the bus names the gateway's firmware and address: %r" % w.snapshot()[-5:])
        # Let the start-up announcements (and their resend) pass; the bus has gone quiet.
        mq.wait_until(lambda: False, 2.5)

        ha = mq.Watcher(self.broker.port, topics=["homeassistant/#"]).start()
        states = None
        try:
            mq.publish(self.broker.port, "homeassistant/status", "online")
            configs = mq.wait_until(lambda: len({m.topic for m in ha.snapshot() if m.payload and
                                                 m.topic.endswith("/config") and not m.retained}) >= 4 and
                                    {m.topic: m for m in ha.snapshot() if m.payload and not m.retained
                                     and m.topic.endswith("/config")}, 10)
            self.assertTrue(configs, "no discovery after the birth message: %r" % ha.snapshot()[:10])
            # Every entity: its state topic and the key its template reads.
            wanted = {}
            for m in configs.values():
                for uid, ent, topic in mq.components(m):
                    wanted[uid] = (topic, mq.template_field(ent["value_template"]))
            topics = sorted({t for t, _ in wanted.values()})
            # Home Assistant subscribes to the state topics once it has set the entities up.
            states = mq.Watcher(self.broker.port, topics=topics).start()
            missing = lambda: [uid for uid, (t, key) in wanted.items()
                               if not any(m.topic == t and (key is None or key in m.json())
                                          for m in states.snapshot())]
            mq.wait_until(lambda: not missing(), 10)
            self.assertEqual([], missing(), "entities without a value after Home Assistant restarted")
            for uid in ("sunwire_gateway_roof_%d_version", "sunwire_gateway_roof_%d_address"):
                gw = gw_state[-1]["gateway"]
                topic, key = wanted[uid % gw]
                got = [m.json()[key] for m in states.snapshot() if m.topic == topic]
                self.assertEqual(got[-1], gw_state[-1][key])
        finally:
            if states:
                states.stop()
            ha.stop()

    def test_panel_energy_stays_available_at_night(self):
        """A panel asleep is unavailable in Home Assistant, except its energy counters, its last report and
        its performance index of the day."""
        scn = runlib.tigo_scenario("node table walk")
        chunks = [bytes.fromhex(step["bus_hex"]) for step in scn["steps"]]
        self.bridge = runlib.TigoBridge(chunks)
        cfg = os.path.join(self.tmp.name, "run.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[panels]\nmodules = A:east1:4-A2346FZ\n\n[mqtt]\n"
                    "host = 127.0.0.1\nport = %d\n" % (self.bridge.port, self.broker.port))
        self.daemon = runlib.Daemon(["--config", cfg, "--state-dir", os.path.join(self.tmp.name, "state")])
        m = self.watcher.wait(topic="homeassistant/device/sunwire_panel_4-A2346FZ/config", timeout=15)
        self.assertIsNotNone(m, self.daemon.stderr())
        cfg = m.json()
        gated = [a["topic"] for a in cfg["availability"]]
        self.assertEqual(["sunwire/status", "sunwire/panel/4-A2346FZ/state"], gated)
        for uid, ent, _topic in mq.components(m):
            own = [a["topic"] for a in ent.get("availability", [])]
            if uid.rsplit("_", 1)[-1] in ("total", "today", "seen", "performance"):
                self.assertEqual(["sunwire/status"], own, uid)
            else:
                self.assertEqual([], own, uid)


if __name__ == "__main__":
    unittest.main()
