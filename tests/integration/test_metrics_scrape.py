"""/metrics scraped over real HTTP from a running `sunwire run`.

A loopback TCP server plays the bundled demo bus capture to the daemon; the
test scrapes Prometheus text with urllib and reads it with a strict parser of
the exposition format written here. Expectations come from the capture itself
(its byte count, its frames), from the configuration the test wrote, and from
the physics of a report (power = voltage x current), never from sunwire.
"""
import math
import os
import re
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tigolib  # noqa: E402

SOURCE = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CAPTURE = os.path.join(SOURCE, "data", "demo", "tigo-demo.pcapng")

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def parse_exposition(text):
    """Return ({family: type}, [(name, {labels}, value)]); raises AssertionError on any bad line."""
    assert text.endswith("\n"), "exposition must end with a newline"
    types, helps, samples = {}, set(), []
    current = None
    closed = set()
    for line in text.split("\n")[:-1]:
        assert line, "empty line in exposition"
        if line.startswith("#"):
            m = re.match(r"# (HELP|TYPE) (\S+) (.+)$", line)
            assert m, "bad comment line: %r" % line
            kind, name, rest = m.groups()
            assert NAME.match(name), name
            if kind == "HELP":
                assert name not in helps, "HELP twice for " + name
                helps.add(name)
            else:
                assert name not in types, "TYPE twice for " + name
                assert rest in ("gauge", "counter"), rest
                if rest == "counter":
                    assert name.endswith("_total"), name
                types[name] = rest
            if current and current != name:
                closed.add(current)
            assert name not in closed, "family %s split" % name
            current = name
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
        assert m, "bad sample line: %r" % line
        name, labels_text, value = m.groups()
        assert name == current, "sample %s outside its family (%s)" % (name, current)
        labels = {}
        if labels_text:
            body = labels_text[1:-1]
            i = 0
            while i < len(body):
                lm = LABEL_NAME.match(body, i)
                assert lm, "bad label name in %r" % line
                key = lm.group(0)
                i = lm.end()
                assert body[i:i + 2] == '="', line
                i += 2
                val = []
                while body[i] != '"':
                    if body[i] == "\\":
                        nxt = body[i + 1]
                        assert nxt in '\\"n', "bad escape in %r" % line
                        val.append("\n" if nxt == "n" else nxt)
                        i += 2
                    else:
                        val.append(body[i])
                        i += 1
                i += 1
                assert key not in labels, "label twice: " + line
                labels[key] = "".join(val)
                if i < len(body):
                    assert body[i] == ",", line
                    i += 1
        if value in ("+Inf", "-Inf", "NaN"):
            v = float(value.replace("Inf", "inf"))
        else:
            v = float(value)
        samples.append((name, labels, v))
    for name in types:
        assert name in helps, "TYPE without HELP: " + name
    return types, samples


def capture_bytes():
    with open(CAPTURE, "rb") as f:
        chunks = tigolib.pcapng_parse(f.read())
    return chunks, b"".join(c[1] for c in chunks)


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8")


def find(samples, name, **labels):
    hits = [s for s in samples if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]
    assert len(hits) == 1, "%d samples of %s %r" % (len(hits), name, labels)
    return hits[0]


class MetricsScrape(unittest.TestCase):
    def setUp(self):
        self.chunks, self.data = capture_bytes()
        self.bus = tigolib.BusServer([[(0.0, self.data)]], close=False)
        self.addCleanup(self.bus.stop)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def start(self, argv):
        proc = tigolib.Proc([tigolib.BIN, "run"] + argv)
        self.addCleanup(proc.stop)
        return proc

    def wait_metrics(self, port, path, pred, timeout=15):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            try:
                status, ctype, text = scrape(port, path)
                last = (status, ctype, text)
                if pred(text):
                    return last
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        self.fail("metrics never satisfied the condition; last scrape: %r" % (last[2][:2000] if last else None))

    def test_own_server_scrape(self):
        port = tigolib.free_port()
        proc = self.start(["--tigo-tcp", "127.0.0.1:%d" % self.bus.port, "--prometheus", "127.0.0.1:%d" % port])
        total = len(self.data)
        status, ctype, text = self.wait_metrics(
            port, "/metrics", lambda t: 'sunwire_source_bytes_total{source="tigo"} %d\n' % total in t)
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        types, samples = parse_exposition(text)

        # The link counters agree with the capture the test served.
        self.assertEqual(find(samples, "sunwire_source_bytes_total", source="tigo")[2], total)
        self.assertEqual(find(samples, "sunwire_source_frames_total", source="tigo")[2], len(self.chunks))
        self.assertEqual(find(samples, "sunwire_source_crc_errors_total", source="tigo")[2], 0)
        self.assertEqual(find(samples, "sunwire_source_connected", source="tigo")[2], 1)
        self.assertEqual(find(samples, "sunwire_source_info", source="tigo")[1]["address"],
                         "127.0.0.1:%d" % self.bus.port)
        for fam in ("sunwire_source_frames_total", "sunwire_panel_energy_joules_total"):
            self.assertEqual(types[fam], "counter")
        self.assertEqual(types["sunwire_panel_power_watts"], "gauge")

        # Every reporting panel: power is input voltage times input current, labels complete.
        powers = [s for s in samples if s[0] == "sunwire_panel_power_watts"]
        self.assertGreater(len(powers), 0)
        for name, labels, value in powers:
            self.assertEqual(set(labels), {"source", "gateway", "node", "panel"})
            v = find(samples, "sunwire_panel_input_volts", node=labels["node"])[2]
            a = find(samples, "sunwire_panel_input_amperes", node=labels["node"])[2]
            self.assertTrue(math.isclose(value, v * a, rel_tol=1e-9, abs_tol=1e-9), (labels, value, v, a))
            info = find(samples, "sunwire_panel_info", node=labels["node"])[1]
            self.assertEqual(set(info), {"source", "gateway", "node", "panel", "name", "barcode", "string", "mapped"})
            self.assertTrue(re.match(r"\d-[0-9A-F]+[A-Z]$", info["barcode"]), info["barcode"])
            duty = find(samples, "sunwire_panel_duty_cycle_ratio", node=labels["node"])[2]
            self.assertTrue(0 <= duty <= 1, duty)
            self.assertIn(find(samples, "sunwire_panel_online", node=labels["node"])[2], (0, 1))
        infos = [s for s in samples if s[0] == "sunwire_gateway_info"]
        self.assertEqual(len(infos), 1)
        self.assertEqual(infos[0][2], 1)

        # A later scrape: no counter went backwards.
        time.sleep(0.3)
        _, _, text2 = scrape(port)
        _, samples2 = parse_exposition(text2)
        later = {(n, tuple(sorted(l.items()))): v for n, l, v in samples2}
        compared = 0
        for n, l, v in samples:
            if types.get(n) == "counter":
                key = (n, tuple(sorted(l.items())))
                self.assertIn(key, later)
                self.assertGreaterEqual(later[key], v, key)
                compared += 1
        self.assertGreater(compared, len(powers))
        self.assertIsNone(proc.p.poll())

    def test_shared_server_and_custom_path(self):
        port = tigolib.free_port()
        cfg = os.path.join(self.tmp.name, "sunwire.ini")
        with open(cfg, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[http]\nport = %d\n\n[prometheus]\npath = /prom\n"
                    % (self.bus.port, port))
        self.start(["--config", cfg])
        status, _, text = self.wait_metrics(port, "/prom", lambda t: "sunwire_source_bytes_total" in t)
        self.assertEqual(status, 200)
        _, samples = parse_exposition(text)
        # The source carries the name from the configuration section.
        self.assertEqual(find(samples, "sunwire_source_info", source="roof")[1]["kind"], "tigo-tcp")
        # The default path is not served when another was configured.
        with self.assertRaises(urllib.error.HTTPError) as cm:
            scrape(port, "/metrics")
        self.assertEqual(cm.exception.code, 404)
        cm.exception.close()


if __name__ == "__main__":
    unittest.main()
