"""The MQTT output against a real mosquitto broker on a loopback port.

The publisher is tests/programs/sw_mqtt_publisher: a real model with a
synthetic installation (three panels in two strings behind one gateway, one
inverter) and the MQTT sink, in one event loop. mosquitto_sub records what
reaches the broker."""

import os
import socket
import threading
import time
import unittest

import mqttlib as mq

SKIP = mq.tools_missing() or (None if os.path.exists(mq.PUBLISHER) else "test program not built: " + mq.PUBLISHER)

PANELS = ["4-1000001", "4-1000002", "4-1000003"]
DEVICE_IDS = ["sunwire_panel_" + b for b in PANELS] + ["sunwire_gateway_sim_4609", "sunwire_strings",
                                                        "sunwire_inverter_SIM0000000001"]


def config_topic(dev):
    return "homeassistant/device/%s/config" % dev


@unittest.skipIf(SKIP, SKIP)
class MqttBrokerTest(unittest.TestCase):
    def setUp(self):
        self.started = []

    def tearDown(self):
        for thing in reversed(self.started):
            if isinstance(thing, mq.Broker):
                thing.close()
            else:
                thing.stop()
        for thing in self.started:
            if isinstance(thing, mq.Publisher):
                # Sanitizer builds report leaks and undefined behaviour on stderr.
                self.assertNotIn("Sanitizer", thing.stderr)
                self.assertNotIn("runtime error", thing.stderr)

    def own(self, thing):
        self.started.append(thing)
        return thing

    def broker(self, **kw):
        return self.own(mq.Broker(**kw).start())

    def watcher(self, port, **kw):
        return self.own(mq.Watcher(port, **kw).start())

    def publisher(self, port, **kw):
        return self.own(mq.Publisher(port, **kw).start())

    def wait_discovery(self, w, devices=DEVICE_IDS, timeout=10, since=0):
        for dev in devices:
            m = w.wait(topic=config_topic(dev), since=since, timeout=timeout)
            self.assertIsNotNone(m, "no discovery for %s; got %r" % (dev, w.snapshot()[:20]))

    def latest(self, w, topic):
        found = [m for m in w.snapshot() if m.topic == topic]
        return found[-1] if found else None

    # ------------------------------------------------------------------------------

    def test_discovery_state_and_retained_availability(self):
        b = self.broker()
        w = self.watcher(b.port)
        p = self.publisher(b.port)
        self.assertIsNotNone(w.wait(topic="sunwire/status", payload="online"))
        self.wait_discovery(w)
        # Wait until every state topic has spoken at least twice (one full report cycle after the snapshot).
        state_topics = ["sunwire/panel/%s/state" % bc for bc in PANELS] + [
            "sunwire/string/south/state", "sunwire/string/west/state", "sunwire/string/total/state",
            "sunwire/gateway/sim_4609/state", "sunwire/inverter/garage/state"]
        for t in state_topics:
            self.assertIsNotNone(w.wait(topic=t), "no state on " + t)

        msgs = w.snapshot()
        first_config = min(i for i, m in enumerate(msgs) if m.topic.startswith("homeassistant/"))
        first_state = min(i for i, m in enumerate(msgs) if m.topic.endswith("/state"))
        online = min(i for i, m in enumerate(msgs) if m.topic == "sunwire/status")
        self.assertLess(online, first_config, "availability goes out before discovery")
        self.assertLess(first_config, first_state, "discovery goes out before state")

        # Discovery: devices, links between them, unique ids.
        configs = {dev: self.latest(w, config_topic(dev)).json() for dev in DEVICE_IDS}
        unique_ids = set()
        for dev, cfg in configs.items():
            self.assertEqual(cfg["device"]["identifiers"], [dev])
            self.assertEqual(cfg["origin"]["name"], "sunwire")
            self.assertEqual(cfg["availability"][0]["topic"], "sunwire/status")
            for key, ent in cfg["components"].items():
                self.assertEqual(ent["platform"], "sensor")
                self.assertNotIn(ent["unique_id"], unique_ids)
                unique_ids.add(ent["unique_id"])
        for bc in PANELS:
            cfg = configs["sunwire_panel_" + bc]
            self.assertEqual(cfg["device"]["via_device"], "sunwire_gateway_sim_4609")
            self.assertEqual(cfg["device"]["serial_number"], bc)
            self.assertEqual(cfg["state_topic"], "sunwire/panel/%s/state" % bc)
            power = cfg["components"]["sunwire_panel_%s_power" % bc]
            self.assertEqual((power["device_class"], power["unit_of_measurement"], power["state_class"]),
                             ("power", "W", "measurement"))
            energy = cfg["components"]["sunwire_panel_%s_energy_total" % bc]
            self.assertEqual((energy["device_class"], energy["state_class"]), ("energy", "total_increasing"))
        # The inverter is announced with the values known at that moment and again as
        # more arrive: wait for an announcement that carries the battery.
        soc_key = "sunwire_inverter_SIM0000000001_battery_soc"
        deadline = time.monotonic() + 20
        inv = configs["sunwire_inverter_SIM0000000001"]
        while soc_key not in inv["components"] and time.monotonic() < deadline:
            time.sleep(0.2)
            inv = self.latest(w, config_topic("sunwire_inverter_SIM0000000001")).json()
        self.assertIn(soc_key, inv["components"])
        soc = inv["components"][soc_key]
        self.assertEqual((soc["device_class"], soc["unit_of_measurement"]), ("battery", "%"))

        # Every entity's template reads a key its state topic really carries.
        for dev, cfg in configs.items():
            msg = self.latest(w, config_topic(dev))
            for uid, ent, topic in mq.components(msg):
                state = self.latest(w, topic)
                self.assertIsNotNone(state, "%s: nothing on %s" % (uid, topic))
                self.assertIn(mq.template_field(ent["value_template"]), state.json(), uid)

        # State payloads carry the synthetic values: panel i reports 30+i V in, 20+i degrees.
        for i, bc in enumerate(PANELS):
            st = self.latest(w, "sunwire/panel/%s/state" % bc).json()
            self.assertEqual(st["barcode"], bc)
            self.assertEqual(st["gateway"], 4609)
            self.assertEqual(st["node"], 10 + i)
            self.assertEqual(st["voltage_in"], 30.0 + i)
            self.assertEqual(st["temperature"], 20.0 + i)
            self.assertEqual(st["string"], "west" if i % 2 else "south")
            self.assertTrue(st["online"])
        total = self.latest(w, "sunwire/string/total/state").json()
        self.assertEqual(total["panels"], 3)
        inv_state = self.latest(w, "sunwire/inverter/garage/state").json()
        self.assertEqual(inv_state["serial"], "SIM0000000001")
        self.assertEqual(inv_state["prim_sm_state"], "Feed-in")
        self.assertGreater(inv_state["battery_soc"], 1.0)  # a percentage, not RCT's fraction

        # Retained: availability and discovery are; state is not (retain defaults to off).
        self.assertEqual(mq.retained(b.port, "sunwire/status"), "online")
        self.assertIsNotNone(mq.retained(b.port, config_topic("sunwire_panel_4-1000001")))
        self.assertIsNone(mq.retained(b.port, "sunwire/panel/4-1000001/state", timeout=1))

        # A clean stop says offline itself (retained) and disconnects.
        stats = p.stop()
        self.assertEqual(stats["connects"], 1)
        self.assertEqual(stats["dropped"], 0)
        self.assertEqual(mq.retained(b.port, "sunwire/status"), "offline")
        self.assertNotIn("WARN", p.stderr)

    def test_last_will_after_kill9(self):
        b = self.broker()
        w = self.watcher(b.port, topics=["sunwire/status"])
        p = self.publisher(b.port)
        self.assertIsNotNone(w.wait(topic="sunwire/status", payload="online"))
        n = w.count()
        p.kill9()
        # The broker publishes the will as soon as it sees the socket die.
        self.assertIsNotNone(w.wait(topic="sunwire/status", payload="offline", since=n, timeout=10))
        self.assertEqual(mq.retained(b.port, "sunwire/status"), "offline")

    def test_broker_restart_reconnects_and_rediscovers(self):
        b = self.broker()
        w = self.watcher(b.port)
        p = self.publisher(b.port, settings={"reconnect_min": "0.2", "reconnect_max": "1"})
        self.assertIsNotNone(w.wait(topic="sunwire/status", payload="online"))
        self.wait_discovery(w)
        w.stop()
        b.stop()
        time.sleep(0.5)  # the publisher notices and retries meanwhile
        b.start()        # same port, empty broker (no persistence): nothing retained survives
        w2 = self.watcher(b.port)
        # Whether it reconnects before or after the watcher subscribes, the new
        # broker must end up with availability and every discovery message.
        self.assertIsNotNone(w2.wait(topic="sunwire/status", payload="online", timeout=15))
        self.wait_discovery(w2, timeout=15)
        self.assertIsNotNone(w2.wait(topic="sunwire/panel/4-1000001/state", timeout=10))
        self.assertEqual(mq.retained(b.port, "sunwire/status"), "online")
        stats = p.stop()
        self.assertEqual(stats["connects"], 2)
        self.assertGreaterEqual(stats["discovery_rounds"], 2)
        self.assertIn("lost the broker", p.stderr)

    def test_outage_queue_is_bounded_and_flushed_after_discovery(self):
        b = self.broker()
        w = self.watcher(b.port, topics=["sunwire/status"])
        # A fixed retry delay leaves time to subscribe to the new broker before the publisher is back.
        p = self.publisher(b.port, interval_ms=100, panels=1,
                           settings={"queue_size": "5", "reconnect_min": "2", "reconnect_max": "2"})
        self.assertIsNotNone(w.wait(topic="sunwire/status", payload="online"))
        w.stop()
        b.stop()
        time.sleep(2.0)  # about 20 reports, three state messages each, while the broker is away
        b.start()
        w2 = self.watcher(b.port)
        m = w2.wait(topic="sunwire/status", payload="online", retained=False, timeout=15)
        self.assertIsNotNone(m, "the publisher came back before the watcher subscribed; got %r" % w2.snapshot()[:5])
        time.sleep(1.0)
        stats = p.stop()

        msgs = w2.snapshot()
        start = next(i for i, x in enumerate(msgs) if x.topic == "sunwire/status" and x.payload == "online")
        burst = msgs[start + 1:]
        configs = [i for i, x in enumerate(burst) if x.topic.startswith("homeassistant/")]
        self.assertTrue(configs, "no discovery after reconnecting")
        after = burst[configs[-1] + 1:]
        self.assertEqual(configs, list(range(len(configs))), "discovery comes first, all of it: %r"
                         % [(x.topic, x.payload[:80]) for x in burst[:configs[-1] + 1]])
        # Exactly queue_size queued state messages come next, then the fresh
        # snapshot, which starts with the gateway (nothing queued a gateway).
        queued = after[:5]
        self.assertTrue(all(x.topic.endswith("/state") for x in queued), queued)
        self.assertFalse(any(x.topic.startswith("sunwire/gateway/") for x in queued), queued)
        self.assertEqual(after[5].topic, "sunwire/gateway/sim_4609/state", after[:8])
        self.assertGreaterEqual(stats["dropped"], 10)
        self.assertEqual(stats["connects"], 2)
        self.assertEqual(stats["queued"], 0)

    def test_password_file(self):
        users = {"solar": "s3cret pass"}
        b = self.broker(users=users)
        w = self.watcher(b.port, user="solar", password="s3cret pass")
        good = self.publisher(b.port, settings={"username": "solar", "password": "s3cret pass",
                                                "base_topic": "pv", "client_id": "pv-good"})
        self.assertIsNotNone(w.wait(topic="pv/status", payload="online"))
        self.assertIsNotNone(w.wait(topic="pv/panel/4-1000001/state"))
        bad = self.publisher(b.port, settings={"username": "solar", "password": "wrong",
                                               "base_topic": "intruder", "client_id": "pv-bad",
                                               "reconnect_min": "0.2", "reconnect_max": "0.5"})
        time.sleep(2.0)
        self.assertIsNone(w.find(prefix="intruder/"))
        stats = bad.stop()
        self.assertEqual(stats["connects"], 0)
        self.assertIn("cannot connect", bad.stderr)
        # Anonymous clients are refused by this broker: the retained query needs the account too.
        self.assertEqual(mq.retained(b.port, "pv/status", user="solar", password="s3cret pass"), "online")
        self.assertEqual(good.stop()["connects"], 1)

    def test_home_assistant_birth_resends_discovery(self):
        b = self.broker()
        w = self.watcher(b.port)
        p = self.publisher(b.port, interval_ms=1000)
        self.wait_discovery(w)
        n = w.count()
        mq.publish(b.port, "homeassistant/status", "online")
        self.wait_discovery(w, since=n)
        # Re-announced live (not replayed from the broker's retained store), and the states follow.
        again = [m for m in w.snapshot()[n:] if m.topic.startswith("homeassistant/device/")]
        self.assertTrue(again and not any(m.retained for m in again))
        self.assertIsNotNone(w.wait(topic="sunwire/panel/4-1000003/state", since=n))
        # Anything else on that topic is not a birth message.
        n2 = w.count()
        mq.publish(b.port, "homeassistant/status", "offline")
        time.sleep(0.5)
        self.assertIsNone(w.find(prefix="homeassistant/device/", since=n2))
        self.assertEqual(p.stop()["discovery_rounds"], 2)

    def test_entity_mode(self):
        b = self.broker()
        w = self.watcher(b.port)
        p = self.publisher(b.port, settings={"discovery": "entity", "discovery_prefix": "ha"})
        keys = ["power", "voltage_in", "voltage_out", "current_in", "temperature", "duty_cycle", "rssi",
                "energy_today", "energy_total", "last_seen"]
        for k in keys:
            m = w.wait(topic="ha/sensor/sunwire_panel_4-1000002/%s/config" % k)
            self.assertIsNotNone(m, k)
            cfg = m.json()
            self.assertEqual(cfg["unique_id"], "sunwire_panel_4-1000002_" + k)
            self.assertEqual(cfg["state_topic"], "sunwire/panel/4-1000002/state")
            self.assertEqual(cfg["device"]["identifiers"], ["sunwire_panel_4-1000002"])
        self.assertIsNone(w.find(prefix="ha/device/"))
        self.assertIsNone(w.find(prefix="homeassistant/"))
        p.stop()


class Listener:
    """A TCP listener on a free loopback port; its thread hands each connection to serve()."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.serve(conn)

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


class FakeServer(Listener):
    """Accepts and then either stays silent or hangs up at once."""

    def __init__(self, hang_up):
        self.hang_up = hang_up
        self.accepted = []  # monotonic times
        self.conns = []
        super().__init__()

    def serve(self, conn):
        self.accepted.append(time.monotonic())
        if self.hang_up:
            conn.close()
        else:
            self.conns.append(conn)

    def stop(self):
        super().stop()
        for c in self.conns:
            c.close()


class FakeBroker(Listener):
    """Just enough of an MQTT 3.1.1 server to decide when messages are acknowledged: it
    accepts CONNECT, SUBSCRIBE and PINGREQ, records every PUBLISH of each connection as
    (topic, payload, dup flag) and sends PUBACK only while `ack` is true; hang_up() closes
    the current connection. One client at a time."""

    def __init__(self, ack):
        self.ack = ack
        self.sessions = []   # one list of (topic, payload, dup) per connection
        self.lock = threading.Lock()
        self.conn = None
        super().__init__()

    def publishes(self, i):
        with self.lock:
            return list(self.sessions[i]) if i < len(self.sessions) else []

    def hang_up(self):
        with self.lock:
            if self.conn:
                self.conn.shutdown(socket.SHUT_RDWR)

    def serve(self, conn):
        conn.settimeout(0.05)
        with self.lock:
            self.conn = conn
            self.sessions.append([])
        try:
            self._serve(conn, self.sessions[-1])
        except OSError:
            pass  # the client went away
        with self.lock:
            self.conn = None
        conn.close()

    def _serve(self, conn, got):
        buf = b""
        while self.running:
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return
            buf += data
            while True:
                # Fixed header: type and flags, then the remaining length in 7-bit groups.
                n, mult, i = 0, 1, 1
                while i < len(buf) and i <= 4:
                    n += (buf[i] & 0x7F) * mult
                    mult *= 128
                    i += 1
                    if buf[i - 1] < 0x80:
                        break
                else:
                    break
                if len(buf) < i + n:
                    break
                kind, body, buf = buf[0], buf[i:i + n], buf[i + n:]
                if kind >> 4 == 1:                       # CONNECT
                    conn.sendall(b"\x20\x02\x00\x00")
                elif kind >> 4 == 3:                     # PUBLISH
                    qos = (kind >> 1) & 3
                    tl = int.from_bytes(body[:2], "big")
                    topic = body[2:2 + tl].decode()
                    rest = body[2 + tl:]
                    pid, payload = (rest[:2], rest[2:]) if qos else (b"", rest)
                    with self.lock:
                        got.append((topic, payload.decode(), bool(kind & 8)))
                    if qos == 1 and self.ack:
                        conn.sendall(b"\x40\x02" + pid)
                elif kind >> 4 == 8:                     # SUBSCRIBE: grant QoS 1 to each filter
                    k, granted = 2, b""
                    while k < len(body):
                        k += 2 + int.from_bytes(body[k:k + 2], "big") + 1
                        granted += b"\x01"
                    conn.sendall(bytes([0x90, 2 + len(granted)]) + body[:2] + granted)
                elif kind >> 4 == 12:                    # PINGREQ
                    conn.sendall(b"\xd0\x00")
                elif kind >> 4 == 14:                    # DISCONNECT
                    return


@unittest.skipIf(SKIP, SKIP)
class MqttRetryTest(unittest.TestCase):
    def test_silent_server_times_out_and_is_retried(self):
        srv = FakeServer(hang_up=False)
        pub = mq.Publisher(srv.port, settings={"connect_timeout": "0.5", "reconnect_min": "0.2",
                                               "reconnect_max": "0.2"})
        try:
            pub.start()
            self.assertTrue(mq.wait_until(lambda: len(srv.accepted) >= 3, 10),
                            "only %d connection attempts" % len(srv.accepted))
            stats = pub.stop()
        finally:
            pub.stop()
            srv.stop()
        self.assertEqual(stats["connects"], 0)
        self.assertIn("no answer from the broker", pub.stderr)
        # Each attempt waits out the 0.5 s timeout, then the 0.2 s pause.
        gaps = [b - a for a, b in zip(srv.accepted, srv.accepted[1:])]
        self.assertGreater(min(gaps), 0.6, gaps)
        self.assertLess(gaps[0], 2.0, gaps)

    def test_unacknowledged_messages_are_not_replayed_behind_the_new_round(self):
        # The first connection is never acknowledged: libmosquitto has twenty QoS 1 messages on
        # the wire (its in-flight window) and the rest waiting behind them when it is cut.
        srv = FakeBroker(ack=False)
        pub = mq.Publisher(srv.port, interval_ms=100, panels=1,
                           settings={"reconnect_min": "0.3", "reconnect_max": "0.3"})
        try:
            pub.start()
            self.assertTrue(mq.wait_until(lambda: len(srv.publishes(0)) >= 20, 10), srv.publishes(0))
            time.sleep(0.3)   # a few more reports, handed over but not sent: the window is full
            srv.ack = True
            srv.hang_up()
            states1 = [(t, p) for t, p, _ in srv.publishes(0) if t.startswith("sunwire/") and t != "sunwire/status"]

            def second():
                got = [(t, p) for t, p, _ in srv.publishes(1)]
                return got if got and all(m in got for m in states1) and len(got) > len(states1) + 20 else None
            mq.wait_until(second, 10)
            stats = pub.stop()
        finally:
            pub.stop()
            srv.stop()
        self.assertEqual(stats["connects"], 2)
        s2 = srv.publishes(1)
        topics = [t for t, _, _ in s2]
        # Nothing of the first connection comes back as the client library's own retry ...
        self.assertEqual([m for m in s2 if m[2]], [], "messages re-sent with DUP")
        # ... so the new connection starts with online and the whole discovery round ...
        self.assertEqual(s2[0][:2], ("sunwire/status", "online"), topics[:25])
        n_disc = len([t for t in topics if t.startswith("homeassistant/")])
        self.assertGreater(n_disc, 0)
        self.assertTrue(all(t.startswith("homeassistant/") for t in topics[1:1 + n_disc]), topics[:25])
        # ... and the state messages the broker never acknowledged follow it first, in their order.
        self.assertGreater(len(states1), 5)
        after = [(t, p) for t, p, _ in s2[1 + n_disc:]]
        self.assertEqual(after[:len(states1)], states1)

    def test_backoff_grows_and_is_capped(self):
        srv = FakeServer(hang_up=True)
        pub = mq.Publisher(srv.port, settings={"reconnect_min": "0.1", "reconnect_max": "0.4"})
        try:
            pub.start()
            time.sleep(3.2)
            pub.stop()
        finally:
            pub.stop()
            srv.stop()
        t = srv.accepted
        gaps = [b - a for a, b in zip(t, t[1:])]
        # Doubling from 0.1 s without a cap would manage five attempts in 3 s; capped at 0.4 s about nine.
        self.assertGreaterEqual(len(t), 7, gaps)
        self.assertLess(gaps[0], 0.35, gaps)           # starts near the minimum...
        self.assertLess(gaps[0], gaps[2], gaps)        # ...grows...
        self.assertGreater(min(gaps[3:]), 0.3, gaps)
        self.assertLess(max(gaps), 1.0, gaps)          # ...and stops growing at the cap


if __name__ == "__main__":
    unittest.main()
