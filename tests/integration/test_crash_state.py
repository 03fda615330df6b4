#!/usr/bin/env python3
"""kill -9 at random moments never leaves torn state or a damaged history.

`sunwire run` reads an accelerated Tigo bus and RCT inverter (simulators),
writes the state directory (Tigo identities at once, energy counters every
second) and the SQLite history, and is killed with SIGKILL at a random moment,
again and again on the same files. After every kill:
  - each Tigo state file is absent or parses completely (never torn) and is
    accepted by the Tigo state loader;
  - the energy database passes PRAGMA integrity_check and no panel's lifetime
    energy in it went down;
  - the history passes PRAGMA integrity_check;
  - every row a concurrent reader saw committed just before the kill is still
    there, unchanged.
The loop count comes from SW_CRASH_ITERATIONS (default 5); scripts/crash-bench.sh
runs hundreds and prints the counts (SW_CRASH_REPORT=1).
"""
import glob
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
import unittest

import faultlib as fl

ITERATIONS = int(os.environ.get("SW_CRASH_ITERATIONS", "5"))
SEED = int(os.environ.get("SW_CRASH_SEED", "1"))
ROWS = "SELECT rowid, ts_ns, gateway_id, node_id, voltage_in, current_in, energy_total_wh FROM panel_readings"


def committed_rows(db):
    """Rows visible to a separate read-only connection: committed ones only."""
    if not os.path.exists(db):
        return {}
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=2)
        try:
            return {r[0]: r for r in c.execute(ROWS)}
        finally:
            c.close()
    except sqlite3.OperationalError:
        return {}   # not created yet, or no table yet


class CrashLoop(unittest.TestCase):
    def assert_tigo_state_loads(self, tmp, blob, i):
        """The Tigo state loader itself accepts the file (on a copy: it moves corrupt files aside)."""
        copy = os.path.join(tmp, "copy.json")
        empty = os.path.join(tmp, "empty.raw")
        with open(copy, "wb") as f:
            f.write(blob)
        open(empty, "wb").close()
        r = fl.run("tigo", "observe", "--state-file", copy, "--file", empty, env=fl.quiet_env(SUNWIRE_LOG="info"))
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 0, err)
        self.assertIn("loaded state file", err, "iteration %d: %s" % (i, err))
        self.assertNotIn("corrupt", err)

    def test_kill_9_loop(self):
        rng = random.Random(SEED)
        counts = dict(iterations=0, kills=0, state_files_checked=0, state_files_absent=0, rows_checked=0,
                      rows_total=0, integrity_ok=0, tigo_state_present=0)
        with tempfile.TemporaryDirectory() as tmp, \
                fl.TigoSim("--speed", 120, "--seed", 5, "--gateways", 2, "--panels", 8,
                           "--start", "2026-06-21T09:00Z") as tsim, \
                fl.RctSim("--speed", 60, "--seed", 5) as rsim:
            state = os.path.join(tmp, "state")
            db = os.path.join(tmp, "history.db")
            cfg = os.path.join(tmp, "run.ini")
            with open(cfg, "w") as f:
                f.write("[general]\nstate_dir = %s\nsave_interval = 1s\n"
                        "[tigo roof]\ntcp = 127.0.0.1:%d\nreconnect_delay = 100ms\n"
                        "[rct inv]\nhost = 127.0.0.1:%d\nfast_interval = 200ms\nslow_interval = 1s\n"
                        "[history]\npath = %s\n" % (state, tsim.port, rsim.port, db))
            energy = {}
            for i in range(ITERATIONS):
                d = fl.Proc([fl.BIN, "run", "--config", cfg], env=fl.quiet_env(SUNWIRE_LOG="error"))
                try:
                    time.sleep(rng.uniform(0.4, 2.5))
                    self.assertTrue(d.alive(), "daemon exited: %s" % "\n".join(d.lines(True))[-2000:])
                    seen = committed_rows(db)
                    os.kill(d.pid, signal.SIGKILL)
                finally:
                    d.stop()
                counts["kills"] += 1
                self.assertEqual(d.proc.returncode, -signal.SIGKILL)
                self.assertFalse([l for l in d.lines(True) if "ERROR" in l or "corrupt" in l.lower()],
                                 d.lines(True))

                # State files: whole or absent.
                for name in (os.path.basename(p) for p in glob.glob(os.path.join(state, "tigo-*.json"))):
                    path = os.path.join(state, name)
                    if not os.path.exists(path):
                        counts["state_files_absent"] += 1
                        continue
                    with open(path, "rb") as f:
                        blob = f.read()
                    try:
                        doc = json.loads(blob)
                    except ValueError as e:
                        self.fail("iteration %d: %s is torn (%s): %r" % (i, name, e, blob[-200:]))
                    self.assertIsInstance(doc, dict)
                    counts["state_files_checked"] += 1
                    counts["tigo_state_present"] += 1
                    self.assert_tigo_state_loads(tmp, blob, i)

                # Energy counters: a sound database whose lifetime values never go down.
                edb = os.path.join(state, "energy.db")
                if os.path.exists(edb):
                    c = sqlite3.connect(edb, timeout=5)
                    try:
                        self.assertEqual(c.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
                        rows = c.execute("SELECT source, gateway_id, node_id, total_wh FROM panel_energy").fetchall()
                    finally:
                        c.close()
                    counts["state_files_checked"] += 1
                    for src, gw, node, total in rows:
                        key = (src, gw, node)
                        self.assertGreaterEqual(total, energy.get(key, 0.0),
                                                "iteration %d: lifetime energy went down for %r" % (i, key))
                        energy[key] = total

                # History: undamaged, and nothing committed is lost.
                if os.path.exists(db):
                    c = sqlite3.connect(db, timeout=5)
                    try:
                        self.assertEqual(c.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
                        counts["integrity_ok"] += 1
                        now = {r[0]: r for r in c.execute(ROWS)}
                    finally:
                        c.close()
                    lost = [r for k, r in seen.items() if now.get(k) != r]
                    self.assertFalse(lost, "iteration %d: %d committed rows lost or changed, e.g. %r"
                                     % (i, len(lost), lost[:3]))
                    counts["rows_checked"] += len(seen)
                    counts["rows_total"] = len(now)
                counts["iterations"] += 1

            # After all that, a normal start still works and reads the state.
            with fl.Proc([fl.BIN, "run", "--config", cfg, "--json"], env=fl.quiet_env(SUNWIRE_LOG="warn")) as d:
                d.wait_line(r'"type":\s*"panel"', timeout=15)
            self.assertEqual(d.proc.returncode, 0, d.lines(True))
            c = sqlite3.connect(os.path.join(state, "energy.db"))
            try:
                rows = c.execute("SELECT source, gateway_id, node_id, total_wh FROM panel_energy").fetchall()
            finally:
                c.close()
            self.assertTrue(rows)
            for src, gw, node, total in rows:
                self.assertGreaterEqual(total, energy.get((src, gw, node), 0.0))

        self.assertGreater(counts["rows_checked"], 0, counts)
        self.assertGreater(counts["state_files_checked"], 0, counts)
        if os.environ.get("SW_CRASH_REPORT"):
            print(json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
