#!/usr/bin/env python3
"""A published lifetime energy value is never followed by a smaller one, across kill -9.

`sunwire run` reads the Tigo simulator, keeps its energy counters in a state
directory (committed every SAVE_MS), publishes to a real mosquitto broker and
serves /metrics on 127.0.0.1. The test records everything it publishes while
it is killed with SIGKILL at a random moment (every other time once the run
publishes), again and again (100 times by default, SW_ENERGY_KILLS), on the
same state directory:
  - every lifetime energy value seen on MQTT (panel and string states, in
    arrival order, per topic) and scraped from /metrics (per series, in scrape
    order) is never smaller than one seen before it, across all the kills;
  - after each kill, the database holds for every panel at least what was
    published before the kill (nothing published was lost);
  - the energy an unclean stop loses is bounded by the save interval: the
    last report published before the kill is at most SAVE_MS (plus one loop
    turn) newer than the panel's last commit, so the energy lost is at most
    SAVE_MS of the panel's power.
"""
import json
import os
import random
import re
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from datetime import datetime

import faultlib as fl
import mqttlib

KILLS = int(os.environ.get("SW_ENERGY_KILLS", "100"))
SEED = int(os.environ.get("SW_ENERGY_SEED", "7"))
SAVE_MS = int(os.environ.get("SW_ENERGY_SAVE_MS", "250"))
SLACK_S = 0.15            # one loop turn and the millisecond rounding of last_seen
METRIC = re.compile(r"^(sunwire_(?:panel|string)_energy\w*_total)(\{[^}]*\})? (\S+)$", re.M)


def rfc3339(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Scraper:
    """Scrapes /metrics every few milliseconds on a thread; keeps (series, value) in scrape order."""

    def __init__(self, port):
        self.port = port
        self.samples = []
        self.scrapes = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=2) as r:
                    text = r.read().decode("utf-8")
            except (OSError, ValueError):
                time.sleep(0.01)
                continue
            self.scrapes += 1
            self.samples.extend((m.group(1) + (m.group(2) or ""), float(m.group(3))) for m in METRIC.finditer(text))
            time.sleep(0.02)

    def stop(self):
        self.stopping.set()
        self.thread.join(5)


def committed(db):
    """(source, gateway, node) -> (barcode, total_wh, saved_ns), as a fresh reader after the kill sees it."""
    if not os.path.exists(db):
        return {}
    c = sqlite3.connect(db, timeout=5)
    try:
        if not c.execute("SELECT 1 FROM sqlite_master WHERE name = 'panel_energy'").fetchall():
            return {}    # killed between creating the file and its first transaction
        return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in
                c.execute("SELECT source, gateway_id, node_id, barcode, total_wh, saved_ns FROM panel_energy")}
    finally:
        c.close()


@unittest.skipIf(mqttlib.tools_missing(), mqttlib.tools_missing() or "")
class PublishedEnergyNeverDecreases(unittest.TestCase):
    def test_kill_9_loop(self):
        rng = random.Random(SEED)
        stats = dict(kills=0, mqtt_values=0, metric_values=0, scrapes=0, runs_committed=0, max_unsaved_s=0.0,
                     max_loss_wh=0.0)
        broker = mqttlib.Broker()
        broker.start()
        self.addCleanup(broker.close)
        watcher = mqttlib.Watcher(broker.port, topics=("sw/panel/+/state", "sw/string/+/state")).start()
        self.addCleanup(watcher.stop)
        with tempfile.TemporaryDirectory() as tmp, \
                fl.TigoSim("--speed", 120, "--seed", 5, "--panels", 6, "--start", "2026-06-21T10:00Z") as sim:
            state = os.path.join(tmp, "state")
            db = os.path.join(state, "energy.db")
            metrics_port = mqttlib.free_port()
            cfg = os.path.join(tmp, "run.ini")
            with open(cfg, "w") as f:
                f.write("[general]\nstate_dir = %s\nsave_interval = %dms\n"
                        "[tigo roof]\ntcp = 127.0.0.1:%d\nreconnect_delay = 100ms\n"
                        "[mqtt]\nhost = 127.0.0.1\nport = %d\nbase_topic = sw\nreconnect_min = 0.1\n"
                        "[prometheus]\nbind = 127.0.0.1\nport = %d\n"
                        % (state, SAVE_MS, sim.port, broker.port, metrics_port))
            scraper = Scraper(metrics_port)
            self.addCleanup(scraper.stop)
            seen_msgs = 0
            prev_saved = {}
            for i in range(KILLS):
                started_at = time.time()
                d = fl.Proc([fl.BIN, "run", "--config", cfg], env=fl.quiet_env(SUNWIRE_LOG="error"))
                try:
                    # Every other kill lands anywhere from the start on (opening the database
                    # included), the others while the run publishes (a slow build starts slowly).
                    if i % 2:
                        mqttlib.wait_until(lambda: [m for m in watcher.snapshot()[seen_msgs:]
                                                    if m.topic.startswith("sw/panel/")], 10)
                        time.sleep(rng.uniform(0.0, 0.6))
                    else:
                        time.sleep(rng.uniform(0.05, 0.75))
                    self.assertTrue(d.alive(), "daemon exited: %s" % "\n".join(d.lines(True))[-2000:])
                    os.kill(d.pid, signal.SIGKILL)
                    killed_at = time.time()
                finally:
                    d.stop()
                stats["kills"] += 1
                self.assertEqual(d.proc.returncode, -signal.SIGKILL)
                self.assertFalse([l for l in d.lines(True) if "ERROR" in l or "WARN" in l], d.lines(True))
                time.sleep(0.05)   # messages the daemon sent before it died reach the watcher

                # What this run published on MQTT, per panel barcode: the last report and lifetime value.
                msgs = watcher.snapshot()
                run_msgs, seen_msgs = msgs[seen_msgs:], len(msgs)
                last, first = {}, {}
                for m in run_msgs:
                    if m.topic.startswith("sw/panel/") and m.payload:
                        doc = m.json()
                        if doc.get("last_seen") and rfc3339(doc["last_seen"]) >= started_at:
                            key = (doc["source"], doc["gateway"], doc["node"])
                            last[key] = (rfc3339(doc["last_seen"]), doc["energy_total"], doc["power"])
                            first.setdefault(key, last[key][0])

                # Nothing published is lost, and what was not committed is at most one save interval.
                rows = committed(db)
                for key, (seen_at, published, power) in last.items():
                    # A panel new in this run and killed before its first commit: nothing published to lose,
                    # and its reports are counted from the start of the run.
                    _, total, saved = rows.get(key, ("", 0.0, started_at * 1e9))
                    self.assertGreaterEqual(total, published, "kill %d: %r published %r Wh, only %r Wh on disk"
                                            % (i, key, published, total))
                    if seen_at <= killed_at:
                        # Each run integrates from its first report on (that one adds nothing).
                        unsaved = max(0.0, seen_at - max(saved / 1e9, first[key]))
                        self.assertLessEqual(unsaved, SAVE_MS / 1000.0 + SLACK_S,
                                             "kill %d: %r reported %.3f s after its last commit" % (i, key, unsaved))
                        stats["max_unsaved_s"] = max(stats["max_unsaved_s"], unsaved)
                        stats["max_loss_wh"] = max(stats["max_loss_wh"], power * unsaved / 3600.0)
                if any(saved != prev_saved.get(key) for key, (_, _, saved) in rows.items()):
                    stats["runs_committed"] += 1
                prev_saved = {key: saved for key, (_, _, saved) in rows.items()}

            scraper.stop()
            stats["scrapes"] = scraper.scrapes

            # The published series themselves: per MQTT topic and per metric series, never smaller than before.
            series = {}
            for m in watcher.snapshot():
                if not m.payload:
                    continue
                value = m.json().get("energy_total")
                if value is None:
                    continue
                stats["mqtt_values"] += 1
                before = series.get(("mqtt", m.topic))
                self.assertTrue(before is None or value >= before,
                                "%s went from %r to %r Wh" % (m.topic, before, value))
                series[("mqtt", m.topic)] = value
            for name, value in scraper.samples:
                stats["metric_values"] += 1
                before = series.get(("metrics", name))
                self.assertTrue(before is None or value >= before, "%s went from %r to %r" % (name, before, value))
                series[("metrics", name)] = value

        # The loop did what it claims: energy grew, commits happened, both outputs were read.
        self.assertGreater(max(v for (kind, _), v in series.items() if kind == "mqtt"), 0.0, stats)
        self.assertGreater(stats["runs_committed"], KILLS // 4, stats)
        self.assertGreater(stats["metric_values"], KILLS, stats)
        self.assertGreater(stats["mqtt_values"], KILLS, stats)
        if os.environ.get("SW_CRASH_REPORT"):
            print(json.dumps(stats), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
