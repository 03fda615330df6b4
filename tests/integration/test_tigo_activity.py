"""`taptap peek-activity` logs taptap's own messages; `sunwire tigo
peek-activity --json` prints JSON lines. The expected taptap messages are
rendered here from the vectors' decoded events, following the Debug layouts
in the protocol notes (§12.6), independently of the C code."""
import json
import os
import re
import shutil
import tempfile
import unittest

import tigolib as tl

ENUM = tl.load_vectors("enumeration_sequence.json")
SCEN = tl.load_vectors("observer_scenarios.json")["scenarios"]
EXAMPLES = tl.load_vectors("peek_output_examples.json")["peek_activity_messages"]["messages"]
LOG = re.compile(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO  taptap\] (.*)$")


def gw(i):
    return "GatewayID(0x%02x)" % i


def long_addr(hexstr):
    return "LongAddress([%s])" % ", ".join("0x" + hexstr[i:i + 2].upper() for i in range(0, 16, 2))


def rust_str(s):
    out = '"'
    for ch in s:
        out += {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, ch)
    return out + '"'


def slot_counter(sc):
    epoch = ["Epoch0", "Epoch4", "Epoch8", "EpochC"][sc >> 14]
    num = sc & 0x3FFF
    return "SlotCounter(%s, SlotNumber(%d))" % (epoch, num) if num < 12000 else \
        "SlotCounter(%s, Err(InvalidSlotNumber(%d)))" % (epoch, num)


def power_report(g, node, d):
    u12 = lambda b: ((b[0] << 4) | (b[1] >> 4), ((b[1] & 15) << 8) | b[2])
    vi, vo = u12(d[0:3])
    cur, temp = u12(d[4:7])
    return ("power report: %s NodeID(0x%04X) PowerReport { voltage_in_and_voltage_out: U12Pair(0x%03x, 0x%03x), "
            "dc_dc_duty_cycle: %d, current_and_temperature: U12Pair(0x%03x, 0x%03x), unknown: [%d, %d, %d], "
            "slot_counter: %s, rssi: RSSI(%d) }" % (gw(g), node, vi, vo, d[3], cur, temp, d[7], d[8], d[9],
                                                     slot_counter((d[10] << 8) | d[11]), d[12]))


class TaptapActivity(unittest.TestCase):
    def setUp(self):
        self.taptap = tl.taptap_path()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)

    def messages(self, data):
        path = os.path.join(self.dir, "in.bin")
        with open(path, "wb") as f:
            f.write(data)
        r = tl.run([self.taptap, "peek-activity", "--file", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"")  # taptap's peek-activity only logs
        lines = [LOG.match(x) for x in r.stderr.decode().splitlines()]
        self.assertTrue(all(lines), r.stderr)
        return [m.group(1) for m in lines if not m.group(1).startswith(("opening ", "opened "))]

    def test_enumeration(self):
        expected = []
        for e in ENUM["expected_transport_events"]:
            kind, g = e["event"], e["gateway_id"]
            if kind == "enumeration_started":
                expected.append("enumeration started (at %s)" % gw(g))
            elif kind == "gateway_identity_observed":
                expected.append("gateway identity observed: %s = %s" % (gw(g), long_addr(e["long_address_hex"])))
            elif kind == "gateway_version_observed":
                expected.append("gateway version observed: %s = %s" % (gw(g), rust_str(e["version"])))
            elif kind == "enumeration_ended":
                expected.append("enumeration ended: %s" % gw(g))
        got = self.messages(bytes.fromhex(ENUM["bus_hex"]))
        self.assertEqual(got, expected)
        # The documented examples are among them, word for word.
        for example in EXAMPLES[:4]:
            self.assertIn(example, got)

    def test_slot_counters_and_power_reports(self):
        s = SCEN[0]
        got = self.messages(b"".join(bytes.fromhex(x["bus_hex"]) for x in s["steps"]))
        first = bytes.fromhex("2B6158FF03215881006E8FA07E")
        second = bytes.fromhex("267130FF56310C81006E9F4084")  # from the fourth step's response
        self.assertEqual(got, [
            "slot counter: %s %s" % (gw(0x1201), slot_counter(0x957C)),
            power_report(0x1201, 116, first),
            "slot counter: %s %s" % (gw(0x1201), slot_counter(0xA51C)),
            power_report(0x1201, 116, second),
        ])
        self.assertIn(got[1], EXAMPLES)  # the doc's power-report example

    def test_node_table_page(self):
        s = next(x for x in SCEN if x["name"].startswith("gateway identity"))
        got = self.messages(b"".join(bytes.fromhex(x["bus_hex"]) for x in s["steps"]))
        pages = [m for m in got if m.startswith("node table page: ")]
        self.assertEqual(len(pages), 2, got)
        self.assertTrue(pages[0].startswith(EXAMPLES[10][:-1]), pages[0])  # same first entry as the doc example
        self.assertIn("node_id: NodeAddress(0x0003) }]", pages[0])
        self.assertTrue(pages[1].endswith(" []"))

    def test_sunwire_json(self):
        path = os.path.join(self.dir, "enum.bin")
        with open(path, "wb") as f:
            f.write(bytes.fromhex(ENUM["bus_hex"]))
        r = tl.run([tl.BIN, "tigo", "peek-activity", "--json", "--file", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(x) for x in r.stdout.decode().splitlines()]
        starts = [e for e in events if e.get("gateway") == 0x1235 and "enumeration" in json.dumps(e)]
        self.assertGreaterEqual(len(starts), 5)
        self.assertTrue(any("Mgate Version G8.59" in json.dumps(e) for e in events))


if __name__ == "__main__":
    unittest.main()
