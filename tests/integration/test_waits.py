#!/usr/bin/env python3
"""The event loop is the only place that waits.

Every call that can put the program to sleep (poll, select, the sleeps) in
src/ is listed here with the file it stands in; docs/architecture.md
("Waiting: only the loop waits") says why each one outside src/io/loop.c may
stay. A new private wait anywhere else fails this test: put it on the loop,
or justify it there and here.
"""
import os
import re
import unittest

SRC = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

WAITS = re.compile(r"(?<![\w.>])(poll|ppoll|epoll_wait|select|pselect|nanosleep|clock_nanosleep|usleep|sleep)\s*\(")

ALLOWED = {
    "io/loop.c": "the event loop",
    "io/log.c": "a zero timeout: asks whether stderr has room, never waits",
    "web/http.c": "a zero timeout: drains an epoll set of early requests from a loop callback",
    "io/net.c": "sw_write_all waits for room on a full descriptor: its writes must be whole",
    "cli/tigo_sim.c": "tigo simulate --file at a speed: a generator pacing its own output",
}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def waits_in_tree():
    found = {}
    root = os.path.join(SRC, "src")
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                calls = WAITS.findall(strip_comments(f.read()))
            if calls:
                found[os.path.relpath(path, root).replace(os.sep, "/")] = sorted(set(calls))
    return found


class Waits(unittest.TestCase):
    def test_only_the_listed_files_wait(self):
        found = waits_in_tree()
        self.assertIn("io/loop.c", found)
        self.assertEqual(set(found) - set(ALLOWED), set(), found)

    def test_the_sources_and_the_daemon_do_not_wait(self):
        found = waits_in_tree()
        for path in ("io/source.c", "daemon/tigo_listen.c", "daemon/rct_poll.c", "cli/cmd_tigo.c",
                     "rct_io/rct_client.c"):
            self.assertNotIn(path, found)

    def test_the_pattern_finds_a_wait(self):
        # Or the checks above prove nothing.
        self.assertEqual(WAITS.findall("x = poll(&p, 1, 0); nanosleep(&t, NULL);"), ["poll", "nanosleep"])
        self.assertEqual(WAITS.findall("sw_history_select(h); do_poll(s); c->poll(x);"), [])


if __name__ == "__main__":
    unittest.main()
