#!/usr/bin/env python3
"""libsunwire.so exports exactly the functions its installed headers mark SW_API.

The headers are the ones `cmake --install` puts in place, scanned for their
declarations; the exports are what `nm -D --defined-only` lists. Every export
must be an SW_API declaration, every SW_API declaration must be exported, every
function an installed header declares must carry SW_API, and nothing that the
uninstalled headers (daemon, model, sinks, HTTP, ...) or the library's private
headers declare may leak out.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ["SW_BUILD_DIR"]
SOURCE = os.environ["SW_SOURCE_DIR"]
# Before SW_API and hidden visibility the library exported 486 symbols.
MAX_EXPORTS = 300
IDENT = r"[A-Za-z_]\w*"


def declarations(path):
    """(name, marked) for each function or extern object declared at file scope."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    # Preprocessor lines, with their continuations.
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
    text = text.replace('extern "C" {', " ")
    stmts, cur, depth = [], [], 0
    for ch in text:
        if ch == "{":
            if depth == 0:
                cur.append(" ")
            depth += 1
        elif ch == "}":
            if depth == 0:
                continue  # the close of extern "C"
            depth -= 1
            if depth == 0 and "".join(cur).rstrip().endswith(")"):
                stmts.append("".join(cur))  # an inline function's body ended
                cur = []
        elif depth == 0:
            if ch == ";":
                stmts.append("".join(cur))
                cur = []
            else:
                cur.append(ch)
    out = []
    for s in (" ".join(s.split()) for s in stmts):
        if not s or re.match(r"(typedef|static|struct|enum|union)\b", s):
            continue
        fptr = re.search(r"\(\s*\*\s*(%s)\s*\)\s*\(" % IDENT, s)
        if fptr:
            name = fptr.group(1)  # a function pointer object
        elif "(" in s:
            name = re.search(r"(%s)\s*\(" % IDENT, s).group(1)
        elif s.startswith("extern") or s.startswith("SW_API extern"):
            name = re.findall(IDENT, s.split("[")[0].split("=")[0])[-1]
        else:
            continue
        out.append((name, s.startswith("SW_API ")))
    return out


def exported():
    lib = os.path.join(BUILD, "libsunwire.so")
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        # Names with two leading underscores belong to the toolchain (sanitizer bookkeeping).
        if len(parts) == 3 and not parts[2].startswith("__"):
            names.add(parts[2].split("@")[0])
    return names


@unittest.skipUnless(shutil.which("nm"), "nm (binutils) is not installed")
class Exports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sunwire-exports-")
        prefix = os.path.join(cls.tmp, "prefix")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], capture_output=True, timeout=120)
        if r.returncode != 0:
            shutil.rmtree(cls.tmp, True)
            raise AssertionError(r.stderr.decode())
        cls.installed = sorted(glob.glob(os.path.join(prefix, "include", "sunwire", "*.h")))
        cls.exports = exported()
        cls.marked, cls.unmarked = set(), set()
        for h in cls.installed:
            for name, marked in declarations(h):
                (cls.marked if marked else cls.unmarked).add(name)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def test_headers_were_scanned(self):
        names = [os.path.basename(h) for h in self.installed]
        for h in ("api.h", "error.h", "loop.h", "tigo.h", "rct.h"):
            self.assertIn(h, names)
        self.assertIn("sw_err_name", self.marked)
        self.assertIn("sw_loop_run", self.marked)

    def test_every_export_is_an_sw_api_declaration(self):
        self.assertFalse(self.exports - self.marked, "exported but not SW_API in an installed header")

    def test_every_sw_api_declaration_is_exported(self):
        self.assertFalse(self.marked - self.exports, "SW_API but not exported (missing definition?)")

    def test_every_installed_function_is_marked(self):
        self.assertFalse(self.unmarked, "declared in an installed header without SW_API")

    def test_far_fewer_exports_than_before(self):
        self.assertGreater(len(self.exports), 0)
        self.assertLess(len(self.exports), MAX_EXPORTS)

    def test_private_declarations_stay_inside(self):
        installed = {os.path.basename(h) for h in self.installed}
        private = set()
        headers = glob.glob(os.path.join(SOURCE, "include", "sunwire", "*.h"))
        headers += glob.glob(os.path.join(SOURCE, "src", "*", "*.h"))
        for h in headers:
            if os.path.basename(h) in installed and os.path.dirname(h).endswith(os.path.join("include", "sunwire")):
                continue
            private.update(name for name, _ in declarations(h))
        self.assertIn("sw_tigo_crc_tab", private)
        self.assertFalse(self.exports & private, "private declarations exported")
        for name in ("sw_tigo_crc_tab", "sw_daemon_getaddrinfo"):
            self.assertNotIn(name, self.exports)
        self.assertFalse([n for n in self.exports if n.startswith("sw_dl_")])


if __name__ == "__main__":
    unittest.main()
