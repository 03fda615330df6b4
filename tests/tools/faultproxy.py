#!/usr/bin/env python3
"""faultproxy: a TCP proxy on loopback that misbehaves on purpose, reproducibly.

It sits between a simulator (the upstream, e.g. `sunwire tigo simulate --tcp`)
and the program under test, and can
  - drop every connection every N seconds (--drop-every), optionally refusing
    new clients for a while afterwards (--down-for);
  - stall the downstream direction for a while every N seconds (--stall-every,
    --stall-for), holding at most --max-buffer bytes (older bytes beyond that are
    discarded and counted);
  - corrupt downstream bytes at a given rate (--corrupt-rate, XOR with a
    non-zero random byte), and upstream bytes too with --corrupt-up;
  - split every downstream write at random points into separate segments
    (--split);
  - record every byte the client sends (--record-up FILE), so a test can prove
    that a listener never transmitted, or that a client never wrote;
  - on SIGUSR1 drop every connection and refuse new clients (an outage of the
    upstream, however long the test wants), on SIGUSR2 accept them again.
Every random choice comes from one generator seeded with --seed. The first line
on stdout is "listening on 127.0.0.1:PORT"; on SIGTERM/SIGINT, or after
--max-time seconds, it stops, closes everything and prints one JSON object with
its counts (and the times of drops and accepts, in seconds since start).

Only loopback addresses are accepted, for listening and as the upstream.
"""
import argparse
import json
import random
import selectors
import signal
import socket
import sys
import time

MAX_CLIENTS = 16
MAX_TIMES = 1000    # event times kept for the report; the counts go on


class Pair:
    def __init__(self, client, upstream):
        self.client = client
        self.upstream = upstream
        self.down = bytearray()   # upstream -> client, waiting
        self.up = bytearray()     # client -> upstream, waiting
        self.connected = False


class Proxy:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.sel = selectors.DefaultSelector()
        self.pairs = []
        self.t0 = time.monotonic()
        self.stats = dict(accepted=0, refused=0, drops=0, dropped_connections=0, stalls=0,
                          corrupted_down=0, corrupted_up=0, bytes_down=0, bytes_up=0,
                          segments_down=0, overflow_bytes=0, upstream_failures=0,
                          drop_times=[], accept_times=[])
        self.next_corrupt_down = self._gap()
        self.next_corrupt_up = self._gap()
        self.next_drop = a.drop_every if a.drop_every > 0 else None
        self.next_stall = a.stall_every if a.stall_every > 0 else None
        self.stall_until = 0.0
        self.refuse_until = 0.0
        self.held = False
        self.hold_request = None
        self.record = open(a.record_up, "wb") if a.record_up else None
        self.stop = False
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", a.listen_port))
        self.lsock.listen(8)
        self.lsock.setblocking(False)
        self.sel.register(self.lsock, selectors.EVENT_READ, None)

    def now(self):
        return time.monotonic() - self.t0

    def _gap(self):
        if self.a.corrupt_rate <= 0:
            return None
        return int(self.rng.expovariate(self.a.corrupt_rate))

    def _corrupt(self, data, up):
        if self.a.corrupt_rate <= 0 or (up and not self.a.corrupt_up):
            return data
        key = "next_corrupt_up" if up else "next_corrupt_down"
        buf = bytearray(data)
        pos = getattr(self, key)
        while pos < len(buf):
            buf[pos] ^= self.rng.randrange(1, 256)
            self.stats["corrupted_up" if up else "corrupted_down"] += 1
            pos += 1 + self._gap()
        setattr(self, key, pos - len(buf))
        return bytes(buf)

    def _accept(self):
        try:
            c, _ = self.lsock.accept()
        except BlockingIOError:
            return
        t = self.now()
        if t < self.refuse_until or self.held or len(self.pairs) >= MAX_CLIENTS:
            self.stats["refused"] += 1
            c.close()
            return
        c.setblocking(False)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        u = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u.setblocking(False)
        u.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            u.connect(self.a.target)
        except BlockingIOError:
            pass
        except OSError:
            self.stats["upstream_failures"] += 1
            c.close()
            u.close()
            return
        p = Pair(c, u)
        self.pairs.append(p)
        self.stats["accepted"] += 1
        if len(self.stats["accept_times"]) < MAX_TIMES:
            self.stats["accept_times"].append(round(t, 4))
        self.sel.register(c, selectors.EVENT_READ, (p, "c"))
        self.sel.register(u, selectors.EVENT_READ | selectors.EVENT_WRITE, (p, "u"))

    def _close(self, p):
        for s in (p.client, p.upstream):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        if p in self.pairs:
            self.pairs.remove(p)

    def _bound(self, buf):
        extra = len(buf) - self.a.max_buffer
        if extra > 0:
            del buf[:extra]
            self.stats["overflow_bytes"] += extra

    def _flush_down(self, p):
        if self.now() < self.stall_until:
            return True
        while p.down:
            n = len(p.down)
            if self.a.split and n > 1:
                n = self.rng.randrange(1, n + 1)
            try:
                sent = p.client.send(p.down[:n])
            except BlockingIOError:
                return True
            except OSError:
                return False
            self.stats["segments_down"] += 1
            del p.down[:sent]
            if self.a.split:
                break  # one segment per turn of the loop: the reader sees them apart
        return True

    def _flush_up(self, p):
        if not p.connected:
            return True
        while p.up:
            try:
                sent = p.upstream.send(p.up)
            except BlockingIOError:
                return True
            except OSError:
                return False
            del p.up[:sent]
        return True

    def _want(self, p):
        ev_c = selectors.EVENT_READ | (selectors.EVENT_WRITE if p.down and self.now() >= self.stall_until else 0)
        ev_u = selectors.EVENT_READ | (selectors.EVENT_WRITE if (p.up or not p.connected) else 0)
        try:
            self.sel.modify(p.client, ev_c, (p, "c"))
            self.sel.modify(p.upstream, ev_u, (p, "u"))
        except (KeyError, ValueError):
            pass

    def _event(self, p, side, mask):
        if side == "u":
            if not p.connected and mask & selectors.EVENT_WRITE:
                err = p.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self.stats["upstream_failures"] += 1
                    return False
                p.connected = True
            if mask & selectors.EVENT_READ:
                try:
                    data = p.upstream.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError:
                    return False
                if data == b"":
                    return False
                if data:
                    self.stats["bytes_down"] += len(data)
                    p.down += self._corrupt(data, False)
                    self._bound(p.down)
            if mask & selectors.EVENT_WRITE:
                return self._flush_up(p)
            return self._flush_down(p)
        if mask & selectors.EVENT_READ:
            try:
                data = p.client.recv(65536)
            except BlockingIOError:
                data = None
            except OSError:
                return False
            if data == b"":
                return False
            if data:
                self.stats["bytes_up"] += len(data)
                if self.record:
                    self.record.write(data)
                    self.record.flush()
                p.up += self._corrupt(data, True)
                self._bound(p.up)
                if not self._flush_up(p):
                    return False
        if mask & selectors.EVENT_WRITE:
            return self._flush_down(p)
        return True

    def _timers(self):
        t = self.now()
        if self.hold_request is not None:
            self.held, self.hold_request = self.hold_request, None
            if self.held:
                self.stats["holds"] = self.stats.get("holds", 0) + 1
                self.stats["dropped_connections"] += len(self.pairs)
                for p in list(self.pairs):
                    self._close(p)
        if self.next_drop is not None and t >= self.next_drop:
            self.next_drop += self.a.drop_every
            self.stats["drops"] += 1
            if len(self.stats["drop_times"]) < MAX_TIMES:
                self.stats["drop_times"].append(round(t, 4))
            self.stats["dropped_connections"] += len(self.pairs)
            for p in list(self.pairs):
                self._close(p)
            self.refuse_until = t + self.a.down_for
        if self.next_stall is not None and t >= self.next_stall:
            self.next_stall += self.a.stall_every
            self.stats["stalls"] += 1
            self.stall_until = t + self.a.stall_for

    def run(self):
        deadline = self.a.max_time
        while not self.stop and self.now() < deadline:
            self._timers()
            for p in list(self.pairs):
                self._want(p)
            for key, mask in self.sel.select(timeout=0.01):
                if key.data is None:
                    self._accept()
                    continue
                p, side = key.data
                if p in self.pairs and not self._event(p, side, mask):
                    self._close(p)
        for p in list(self.pairs):
            self._close(p)
        self.sel.unregister(self.lsock)
        self.lsock.close()
        if self.record:
            self.record.close()


def loopback(host):
    try:
        return socket.gethostbyname(host).startswith("127.")
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True, help="HOST:PORT of the upstream (loopback only)")
    ap.add_argument("--listen-port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drop-every", type=float, default=0)
    ap.add_argument("--down-for", type=float, default=0)
    ap.add_argument("--stall-every", type=float, default=0)
    ap.add_argument("--stall-for", type=float, default=0)
    ap.add_argument("--corrupt-rate", type=float, default=0, help="probability per byte")
    ap.add_argument("--corrupt-up", action="store_true")
    ap.add_argument("--split", action="store_true")
    ap.add_argument("--max-buffer", type=int, default=1 << 20)
    ap.add_argument("--max-time", type=float, default=300)
    ap.add_argument("--record-up", metavar="FILE")
    a = ap.parse_args()
    host, _, port = a.target.rpartition(":")
    if not loopback(host):
        sys.exit("faultproxy: the upstream must be a loopback address")
    a.target = (host, int(port))
    p = Proxy(a)

    def stop(*_):
        p.stop = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def hold(*_):
        p.hold_request = True

    def release(*_):
        p.hold_request = False
    signal.signal(signal.SIGUSR1, hold)
    signal.signal(signal.SIGUSR2, release)
    print("listening on 127.0.0.1:%d" % p.lsock.getsockname()[1], flush=True)
    p.run()
    print(json.dumps(p.stats), flush=True)


if __name__ == "__main__":
    main()
