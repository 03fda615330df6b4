"""InfluxDB 2 writes from a running `sunwire run` to a loopback HTTP server.

The test runs a small HTTP server that answers like InfluxDB's /api/v2/write (and /write)
(204, or a scripted failure), records every request, and checks the URL, the
Authorization header, the precision of the timestamps and the body, which it
parses back with a line-protocol reader written here. The daemon is fed the
bundled demo bus capture over loopback TCP.
"""
import base64
import http.server
import os
import signal
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tigolib  # noqa: E402

SOURCE = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CAPTURE = os.path.join(SOURCE, "data", "demo", "tigo-demo.pcapng")


def split_unescaped(text, seps):
    """Split at the first unescaped char of `seps`; returns (head, sep, rest)."""
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        if text[i] in seps:
            return text[:i], text[i], text[i + 1:]
        i += 1
    return text, "", ""


def unescape(text, chars):
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in chars:
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_line(line):
    """One line of line protocol -> (measurement, tags, fields, timestamp)."""
    head, sep, rest = split_unescaped(line, " ")
    assert sep == " ", line
    parts = []
    while True:
        part, sep, head = split_unescaped(head, ",")
        parts.append(part)
        if not sep:
            break
    measurement = unescape(parts[0], ", ")
    tags = {}
    for p in parts[1:]:
        k, sep, v = split_unescaped(p, "=")
        assert sep == "=" and k and v, line
        tags[unescape(k, ",= ")] = unescape(v, ",= ")
    fields = {}
    while True:
        k, sep, rest = split_unescaped(rest, "=")
        assert sep == "=", line
        if rest.startswith('"'):
            i, val = 1, []
            while rest[i] != '"':
                if rest[i] == "\\" and rest[i + 1] in '"\\':
                    i += 1
                val.append(rest[i])
                i += 1
            value = "".join(val)
            rest = rest[i + 1:]
        else:
            tok, _, _ = split_unescaped(rest, ", ")
            rest = rest[len(tok):]
            if tok in ("true", "false"):
                value = tok == "true"
            elif tok.endswith("i"):
                value = int(tok[:-1])
            else:
                value = float(tok)
                assert "." in tok or "e" in tok or tok in ("inf", "NaN"), "float without a point: " + tok
        fields[unescape(k, ",= ")] = value
        if rest.startswith(","):
            rest = rest[1:]
            continue
        break
    assert rest.startswith(" "), line
    return measurement, tags, fields, int(rest[1:])


class Influx(http.server.BaseHTTPRequestHandler):
    """Records requests on the server object; answers from its script, then 204."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        srv = self.server
        with srv.lock:
            srv.requests.append((self.path, dict(self.headers.items()), body, time.time()))
            status = srv.script.pop(0) if srv.script else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class InfluxServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script=()):
        super().__init__(("127.0.0.1", 0), Influx)
        self.lock = threading.Lock()
        self.requests = []
        self.script = list(script)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)

    def snapshot(self):
        with self.lock:
            return list(self.requests)


class InfluxPost(unittest.TestCase):
    def setUp(self):
        with open(CAPTURE, "rb") as f:
            chunks = tigolib.pcapng_parse(f.read())
        # Two halves a second apart, so that lines keep coming after the first batches.
        half = len(chunks) // 2
        first = b"".join(c[1] for c in chunks[:half])
        second = b"".join(c[1] for c in chunks[half:])
        self.bus = tigolib.BusServer([[(0.0, first), (1.0, second)]], close=False)
        self.addCleanup(self.bus.stop)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def run_daemon(self, server, precision, extra="", batching="flush_ms = 200\nbatch_lines = 1000\n"):
        cfg = os.path.join(self.tmp.name, "sunwire.ini")
        with open(cfg, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[influx]\nurl = http://127.0.0.1:%d/\n"
                    "org = my org&co\nbucket = solar\ntoken = s3cr3t-token\nprecision = %s\n"
                    "%s" % (self.bus.port, server.server_address[1],
                                                                 precision, batching + extra))
        proc = tigolib.Proc([tigolib.BIN, "run", "--config", cfg])
        self.addCleanup(proc.stop)
        return proc

    def wait_requests(self, server, pred, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            reqs = server.snapshot()
            if pred(reqs):
                return reqs
            time.sleep(0.05)
        self.fail("requests never satisfied the condition: %r" % [(r[0], r[2][:200]) for r in server.snapshot()])

    def check_request(self, req, precision, start_ns, end_ns):
        path, headers, body, _ = req
        url = urllib.parse.urlsplit(path)
        self.assertEqual(url.path, "/api/v2/write")
        q = urllib.parse.parse_qs(url.query, strict_parsing=True)
        self.assertEqual(q, {"org": ["my org&co"], "bucket": ["solar"], "precision": [precision]})
        auth = {k.lower(): v for k, v in headers.items()}["authorization"]
        self.assertEqual(auth, "Token s3cr3t-token")
        self.assertTrue(body.endswith("\n"))
        div = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9}[precision]
        lines = body.split("\n")[:-1]
        self.assertGreater(len(lines), 0)
        parsed = [parse_line(l) for l in lines]
        for m, tags, fields, ts in parsed:
            self.assertTrue(m.startswith("sunwire_"), m)
            # The unit of the timestamp is the one asked for: it lands within a minute of this run
            # (report times are reconstructed from the bus's slot clock, so they may lead the wall
            # clock by seconds; a wrong unit would be off by a factor of 1000 or more).
            self.assertGreaterEqual(ts, (start_ns - 60 * 10**9) // div, (m, ts))
            self.assertLessEqual(ts, (end_ns + 60 * 10**9) // div, (m, ts))
            if m == "sunwire_panel":
                self.assertEqual(tags["source"], "roof")
                self.assertIsInstance(fields["rssi"], int)
                self.assertIsInstance(fields["online"], bool)
                self.assertAlmostEqual(fields["power"], fields["voltage_in"] * fields["current_in"], places=9)
        return parsed

    def test_post_headers_precision_body(self):
        server = InfluxServer()
        self.addCleanup(server.stop)
        start = time.time_ns()
        proc = self.run_daemon(server, "ms")
        reqs = self.wait_requests(server, lambda r: any("sunwire_panel," in x[2] for x in r))
        end = time.time_ns()
        lines = []
        for req in reqs:
            lines += self.check_request(req, "ms", start, end)
        kinds = {m for m, _, _, _ in lines}
        self.assertIn("sunwire_panel", kinds)
        self.assertIn("sunwire_source", kinds)
        # Batched: a few requests for all these lines, not one per line.
        self.assertLess(len(reqs), len(lines))
        self.assertIsNone(proc.p.poll())

    def test_retry_after_server_errors(self):
        # The first two writes fail; the lines must arrive anyway, once each, in order.
        server = InfluxServer(script=[503, 500])
        self.addCleanup(server.stop)
        start = time.time_ns()
        self.run_daemon(server, "s", "retry_min_ms = 100\nretry_max_ms = 400\n")
        reqs = self.wait_requests(server, lambda r: len(r) >= 3)
        end = time.time_ns()
        first, second, third = reqs[0], reqs[1], reqs[2]
        for r in (first, second, third):
            self.check_request(r, "s", start, end)
        # A failed batch is sent again unchanged (no lines lost, none duplicated within it).
        self.assertEqual(first[2], second[2])
        self.assertEqual(second[2], third[2])
        # Backoff: the retries are spaced, the second wait longer than the first.
        gap1, gap2 = second[3] - first[3], third[3] - second[3]
        self.assertGreaterEqual(gap1, 0.08)
        self.assertGreater(gap2, gap1 * 1.3)

    def test_v1_url_and_basic_auth(self):
        # InfluxDB 1.x: /write with db, rp and v1's spelling of microseconds, basic auth from user/password.
        server = InfluxServer()
        self.addCleanup(server.stop)
        start = time.time_ns()
        cfg = os.path.join(self.tmp.name, "v1.ini")
        with open(cfg, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[influx]\napi = v1\nurl = http://127.0.0.1:%d\n"
                    "db = sol ar\nrp = one week\nuser = sun\npassword = p:w&d\nprecision = us\nflush_ms = 200\n"
                    % (self.bus.port, server.server_address[1]))
        proc = tigolib.Proc([tigolib.BIN, "run", "--config", cfg])
        self.addCleanup(proc.stop)
        reqs = self.wait_requests(server, lambda r: any("sunwire_panel," in x[2] for x in r))
        for path, headers, body, _ in reqs:
            url = urllib.parse.urlsplit(path)
            self.assertEqual(url.path, "/write")
            q = urllib.parse.parse_qs(url.query, strict_parsing=True)
            self.assertEqual(q, {"db": ["sol ar"], "rp": ["one week"], "precision": ["u"]})
            auth = {k.lower(): v for k, v in headers.items()}["authorization"]
            self.assertEqual(auth, "Basic " + base64.b64encode(b"sun:p:w&d").decode())
            for line in body.split("\n")[:-1]:
                ts = parse_line(line)[3]
                self.assertGreaterEqual(ts, (start - 60 * 10**9) // 1000)
                self.assertLessEqual(ts, (time.time_ns() + 60 * 10**9) // 1000)

    def test_not_found_is_kept_and_retried(self):
        # 404 (a database or bucket not created yet) and 401 (a password being fixed) keep the batch.
        server = InfluxServer(script=[404, 401])
        self.addCleanup(server.stop)
        self.run_daemon(server, "s", "retry_min_ms = 100\nretry_max_ms = 200\n")
        reqs = self.wait_requests(server, lambda r: len(r) >= 3)
        self.assertEqual(reqs[0][2], reqs[1][2])
        self.assertEqual(reqs[1][2], reqs[2][2])

    def test_refused_batch_is_dropped_not_retried(self):
        # 400 means InfluxDB will never take these lines: drop them and go on with new ones.
        server = InfluxServer(script=[400])
        self.addCleanup(server.stop)
        self.run_daemon(server, "us", "retry_min_ms = 100\n")
        reqs = self.wait_requests(server, lambda r: len(r) >= 2, timeout=20)
        self.assertNotEqual(reqs[0][2], reqs[1][2])

    def test_waiting_lines_are_sent_at_shutdown(self):
        # Batches far larger and older than the run: only the shutdown sends them.
        server = InfluxServer()
        self.addCleanup(server.stop)
        start = time.time_ns()
        proc = self.run_daemon(server, "ns", batching="flush_ms = 600000\nbatch_lines = 1000000\n")
        self.assertTrue(proc.wait_for("err", b"connected", timeout=10), proc.stderr_text())
        time.sleep(1.5)
        self.assertEqual(server.snapshot(), [])
        proc.p.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(15), 0)
        reqs = server.snapshot()
        self.assertEqual(len(reqs), 1)
        lines = self.check_request(reqs[0], "ns", start, time.time_ns())
        self.assertIn("sunwire_panel", {m for m, _, _, _ in lines})


if __name__ == "__main__":
    unittest.main()
