#!/usr/bin/env python3
"""The MQTT output across a broker outage: reconnect, will, discovery, queue.

A real mosquitto on loopback; between it and `sunwire run` sits
tests/tools/faultproxy.py, which cuts the connection on SIGUSR1 and lets
clients through again on SIGUSR2, so the outage has a known start and end
while the broker itself is stopped and restarted (in-memory only: whatever
arrives after the restart was published again by sunwire). The Tigo bus
simulator runs at 20x, so about ten power reports a second.

Checked and measured:
  - at the cut the broker publishes the will: `offline`, retained;
  - after the restart sunwire reconnects within reconnect_max and sends, in
    order, `online`, discovery, the queued state messages, the current state;
  - with the default queue every report made during the outage (and any the
    old broker did not acknowledge before the cut) is delivered after the
    reconnect; with a small queue only the newest queue_size messages are,
    the rest are counted as dropped and the count logged.
"""
import os
import signal
import sys
import tempfile
import time
import unittest

import faultlib as fl
import mqttlib

SPEED = 20
OUTAGE = float(os.environ.get("SW_OUTAGE_SECONDS", "3"))


def panel_key(d):
    return (d["gateway"], d["node"], d["voltage_in"], d["current_in"], d["rssi"], d["temperature"])


@unittest.skipIf(mqttlib.tools_missing(), mqttlib.tools_missing() or "")
class BrokerOutage(unittest.TestCase):
    def outage(self, queue_size=None):
        broker = mqttlib.Broker().start()
        watcher = mqttlib.Watcher(broker.port, topics=("sunwire/#", "homeassistant/#")).start()
        tmp = tempfile.TemporaryDirectory()
        res = {}
        try:
            with fl.TigoSim("--speed", SPEED, "--seed", 2, "--start", "2026-06-21T10:00Z") as sim, \
                    fl.FaultProxy(broker.port, "--max-time", 120) as px:
                cfg = os.path.join(tmp.name, "run.ini")
                with open(cfg, "w") as f:
                    f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n[mqtt]\nhost = 127.0.0.1\nport = %d\n"
                            "reconnect_min = 1\nreconnect_max = 2\nkeepalive = 5\n%s"
                            % (sim.port, px.port, "queue_size = %d\n" % queue_size if queue_size else ""))
                d = fl.sunwire("run", "--config", cfg, "--json", env=fl.quiet_env(SUNWIRE_LOG="info"))
                try:
                    mqttlib.wait_until(lambda: len([m for m in watcher.snapshot() if "/panel/" in m.topic
                                                    and m.topic.endswith("/state")]) > 10, 15)
                    t_cut = time.monotonic()
                    px.proc.send_signal(signal.SIGUSR1)
                    will = mqttlib.wait_until(lambda: [m for m in watcher.snapshot() if m.topic == "sunwire/status"
                                                       and m.payload == "offline"], 5)
                    res["will"] = bool(will)
                    res["before"] = watcher.snapshot()  # the old broker published the will after all it got
                    watcher.stop()
                    broker.stop()
                    time.sleep(OUTAGE)
                    broker.start()
                    watcher = mqttlib.Watcher(broker.port, topics=("sunwire/#", "homeassistant/#")).start()
                    # A retained will that survived the restart would show here: the broker keeps nothing.
                    t_up = time.monotonic()
                    px.proc.send_signal(signal.SIGUSR2)
                    online = mqttlib.wait_until(lambda: [m for m in watcher.snapshot() if m.topic == "sunwire/status"
                                                         and m.payload == "online"], 10)
                    res["online_after"] = online[0].when - t_up if online else None
                    res["t_online"] = online[0].when if online else t_up
                    time.sleep(1.5)
                finally:
                    d.stop()
                res["log"] = d.lines(True)
                res["records"] = fl.timed_json(d)
                res["t_cut"], res["t_up"] = t_cut, t_up
                res["after"] = watcher.snapshot()
            res["retained_will"] = will[0].retained if will else None
        finally:
            watcher.stop()
            broker.close()
            tmp.cleanup()
        return res

    def split(self, res):
        """Reports made while the output was cut off, and the panel messages that arrived after."""
        rec = [r for r in res["records"] if r.get("type") == "panel" and r.get("online")]
        # A report made in the first 0.3 s after the cut may still have been on its way out,
        # and one made just before `online` arrived may already belong to the new session.
        during = [panel_key(r) for r in rec if res["t_cut"] + 0.3 < r["_t"] < res["t_online"] - 0.2]
        after = [m for m in res["after"] if "/panel/" in m.topic and m.topic.endswith("/state")]
        return during, [panel_key(m.json()) for m in after], after

    def test_queue_delivers_the_outage(self):
        res = self.outage()
        self.assertTrue(res["will"], "no offline will at the cut")
        self.assertIsNotNone(res["online_after"], "no online after the restart: %s" % "\n".join(res["log"])[-1500:])
        self.assertLess(res["online_after"], 3.0)          # reconnect_max 2 s, plus the connect on a busy machine
        after = res["after"]
        self.assertEqual((after[0].topic, after[0].payload), ("sunwire/status", "online"))
        first_state = next(i for i, m in enumerate(after) if m.topic.endswith("/state"))
        disc = [i for i, m in enumerate(after) if m.topic.startswith("homeassistant/")]
        self.assertTrue(disc, "discovery was not sent again")
        self.assertLess(disc[0], first_state, "discovery must come before state")
        during, got, _ = self.split(res)
        self.assertGreater(len(during), 10)
        # Every report from the cut to the reconnect that the old broker did not get reaches the new
        # one, oldest first: those the connection had not had acknowledged are sent again, so no
        # moment around the cut is left out.
        before = {panel_key(m.json()) for m in res["before"] if "/panel/" in m.topic and m.topic.endswith("/state")}
        outage = [panel_key(r) for r in res["records"] if r.get("type") == "panel" and r.get("online")
                  and res["t_cut"] < r["_t"] < res["t_online"] and panel_key(r) not in before]
        missing = [k for k in outage if k not in set(got)]
        self.assertFalse(missing, "%d of %d reports from the outage never arrived" % (len(missing), len(outage)))
        self.assertTrue(fl.is_subsequence(outage, got))
        if os.environ.get("SW_OUTAGE_REPORT"):
            print("queue 1000: outage %.1f s, %d reports during, all delivered, online %.2f s after release"
                  % (OUTAGE, len(during), res["online_after"]), file=sys.stderr)

    def test_small_queue_drops_oldest_and_counts(self):
        q = 10
        res = self.outage(queue_size=q)
        self.assertIsNotNone(res["online_after"])
        during, got, _ = self.split(res)
        self.assertGreater(len(during), 2 * q)
        delivered = [k for k in during if k in set(got)]
        # Each report makes two messages here (panel and the total), so q/2 panel messages survive in
        # the queue; the current state sent after them repeats each panel's latest report (10 panels).
        self.assertLessEqual(len(delivered), q // 2 + 10)
        self.assertGreater(len(delivered), 0)
        # The survivors are the newest.
        self.assertEqual(delivered, during[len(during) - len(delivered):])
        logged = [l for l in res["log"] if "state messages were dropped" in l]
        self.assertTrue(logged, "\n".join(res["log"])[-1500:])
        n = int(logged[-1].split("]")[-1].split()[0])
        self.assertGreaterEqual(n, 2 * (len(during) - len(delivered)) - 4)
        if os.environ.get("SW_OUTAGE_REPORT"):
            print("queue %d: outage %.1f s, %d reports during, %d delivered, %d messages dropped (logged)"
                  % (q, OUTAGE, len(during), len(delivered), n), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
