"""docs/influxdb.md and docs/mqtt.md describe what `sunwire run` really sends.

The daemon reads both simulators (`sunwire tigo simulate`, `sunwire rct
simulator`) and writes the InfluxDB line-protocol file while it publishes to a
real mosquitto on 127.0.0.1. A first short run learns the panels' barcodes
(into the state directory), so the second can map two panels into a string and
every documented tag has a value to carry. Then, in both directions:

- docs/influxdb.md's table "What is written": every measurement, tag and field
  it names is in the file, and every measurement, tag and field in the file is
  in the table;
- docs/mqtt.md's example payloads of the panel, string and gateway state topics:
  every published state has exactly the example's keys, with values of the
  example's JSON types (or null).
"""
import json
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqttlib as mq  # noqa: E402
import runlib  # noqa: E402
from test_ha_discovery import TigoSimulator  # noqa: E402
from test_influx_post import parse_line  # noqa: E402

SOURCE = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = mq.tools_missing()


def doc_text(name):
    with open(os.path.join(SOURCE, "docs", name), encoding="utf-8") as f:
        return f.read()


def names(cell):
    """The `names` of a table cell, outside parentheses; `a_min/max/avg` stands for a_min, a_max, a_avg."""
    out = set()
    for name in re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", cell)):
        first, *more = name.split("/")
        out.add(first)
        stem = first.rsplit("_", 1)[0]
        out |= {stem + "_" + m for m in more}
    return out


def influx_doc_table():
    """{measurement: (tags, fields)} from docs/influxdb.md's table of what is written.
    A field documented as "left out while unknown" is optional: see influx_optional_fields."""
    text = doc_text("influxdb.md")
    section = text[text.index("## What is written"):]
    section = section[:section.index("\n## ", 1)]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        (measurement,) = names(cells[0])
        table[measurement] = (names(cells[1]), names(cells[2]))
    return table


def influx_optional_fields():
    """Fields docs/influxdb.md says are left out while their value is unknown (a line never carries NaN)."""
    return set(re.findall(r"`(\w+)` \([^)]*left out while unknown", doc_text("influxdb.md")))


def mqtt_doc_examples():
    """{kind: example payload} from the indented JSON under docs/mqtt.md's state headings."""
    text = doc_text("mqtt.md")
    out = {}
    for kind, heading in (("panel", "### Panel"), ("string", "### String aggregate"), ("gateway", "### Gateway")):
        rest = text[text.index("\n" + heading + "\n") + len(heading) + 2:]
        block = re.search(r"((?:\n    [^\n]*)+)", rest).group(1)
        out[kind] = json.loads(block)
    return out


def json_kind(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


@unittest.skipIf(SKIP, SKIP)
class DocsMatchOutputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        tmp = cls.tmp.name
        cls.broker = mq.Broker().start()
        cls.watcher = mq.Watcher(cls.broker.port, topics=("sunwire/#",)).start()
        # Barcodes come with the node-table walk, every 10 simulated minutes: 6 s at this speed.
        cls.tigo = TigoSimulator(["--start", "2025-06-01T10:00:00Z", "--seed", "3", "--panels", "4",
                                  "--speed", "100"])
        cls.rct = runlib.RctSimulator(0, ["--speed", "0", "--start", "2025-06-01T11:00:00Z", "--seed", "7"])
        cls.lines = os.path.join(tmp, "lines.lp")
        try:
            cls.run_both()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def run_both(cls):
        tmp = cls.tmp.name
        state = os.path.join(tmp, "state")
        base = ("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[rct house]\nhost = 127.0.0.1:%d\nfast_interval = 300ms\n"
                "objects = battery.cells[1]\n\n[mqtt]\nhost = 127.0.0.1\nport = %d\nreconnect_min = 0.2\n"
                % (cls.tigo.port, cls.rct.port, cls.broker.port))

        def barcodes():
            return sorted({m.json().get("barcode") for m in cls.watcher.snapshot()
                           if "/panel/" in m.topic and m.topic.endswith("/state") and m.json().get("barcode")})

        # First run: learn the barcodes (kept in the state directory).
        cfg = os.path.join(tmp, "first.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(base)
        d = runlib.Daemon(["--config", cfg, "--state-dir", state])
        try:
            ok = mq.wait_until(lambda: len(barcodes()) >= 2, 30, 0.1)
            err = d.stderr()
        finally:
            d.stop(timeout=15)
            d.close()
        if not ok:
            raise AssertionError("no barcodes learnt; daemon said:\n" + err)

        # Second run: two panels in a string, and the line-protocol file.
        first, second = barcodes()[:2]
        cls.since = cls.watcher.count()
        cfg = os.path.join(tmp, "second.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(base + "\n[panels]\nmodules = east:east-1:%s, east:east-2:%s\n"
                    "\n[influx]\noutput = file\nfile = %s\nflush_ms = 200\n" % (first, second, cls.lines))
        d = runlib.Daemon(["--config", cfg, "--state-dir", state])
        want = set(influx_doc_table())

        def complete():
            msgs = cls.watcher.snapshot()[cls.since:]
            kinds = {m.topic.split("/")[1] for m in msgs if m.topic.endswith("/state")}
            named = any(m.topic == "sunwire/string/east/state" for m in msgs)
            if not ({"panel", "string", "gateway", "inverter"} <= kinds and named and os.path.exists(cls.lines)):
                return False
            with open(cls.lines, encoding="utf-8") as f:
                text = f.read()
            return all(("\n%s," % m) in "\n" + text for m in want) and '"cells' in text
        try:
            ok = mq.wait_until(complete, 30, 0.2)
            mq.wait_until(lambda: False, 1.0)  # one more flush of the file and the coalesced states
            err = d.stderr()
        finally:
            rc = d.stop(timeout=15)
            d.close()
        if not ok:
            raise AssertionError("outputs incomplete; daemon said:\n" + err)
        if rc != 0:
            raise AssertionError("daemon exited with %r:\n%s" % (rc, err))

    @classmethod
    def tearDownClass(cls):
        for stop in (cls.rct.stop, cls.tigo.stop, cls.watcher.stop, cls.broker.close, cls.tmp.cleanup):
            stop()

    def test_influx_table_matches_the_lines(self):
        doc = influx_doc_table()
        sent = {}
        with open(self.lines, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.endswith("\n"))
        for line in text.splitlines():
            m, tags, fields, _ = parse_line(line)
            t, fl = sent.setdefault(m, (set(), set()))
            t |= set(tags)
            fl |= set(fields)
        self.assertEqual(sorted(set(doc) - set(sent)), [], "documented but not written")
        self.assertEqual(sorted(set(sent) - set(doc)), [], "written but not documented")
        for m, (tags, fields) in doc.items():
            self.assertEqual(sorted(tags - sent[m][0]), [], "%s: tags documented but not written" % m)
            self.assertEqual(sorted(sent[m][0] - tags), [], "%s: tags written but not documented" % m)
            self.assertEqual(sorted(fields - sent[m][1] - influx_optional_fields()), [],
                             "%s: fields documented but not written" % m)
            self.assertEqual(sorted(sent[m][1] - fields), [], "%s: fields written but not documented" % m)

    def test_mqtt_state_examples_match_the_payloads(self):
        examples = mqtt_doc_examples()
        seen = {k: 0 for k in examples}
        for m in self.watcher.snapshot()[self.since:]:
            parts = m.topic.split("/")
            if len(parts) != 4 or parts[3] != "state" or parts[1] not in examples:
                continue
            kind, state, doc = parts[1], m.json(), examples[parts[1]]
            seen[kind] += 1
            self.assertEqual(sorted(set(doc) - set(state)), [], "%s: documented but not sent" % m.topic)
            self.assertEqual(sorted(set(state) - set(doc)), [], "%s: sent but not documented" % m.topic)
            for key, value in state.items():
                if value is not None and doc[key] is not None:
                    self.assertEqual(json_kind(value), json_kind(doc[key]), "%s: %s = %r" % (m.topic, key, value))
        for kind, n in seen.items():
            self.assertGreater(n, 0, "no %s state was published" % kind)


if __name__ == "__main__":
    unittest.main()
