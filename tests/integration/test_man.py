"""The manual pages the build writes (tools/gen_man.py) say what the programs
say: every flag a page's --help texts print is in the rendered page and every
flag in the page is in one of them; every key of docs/config.md's tables is in
sunwire.ini(5) and the reverse; and man(1) renders each page without a warning."""
import importlib.util
import os
import re
import subprocess
import unittest

BUILD = os.environ["SW_BUILD_DIR"]
SOURCE = os.environ["SW_SOURCE_DIR"]
MAN = os.path.join(BUILD, "man")

spec = importlib.util.spec_from_file_location("gen_man", os.path.join(SOURCE, "tools", "gen_man.py"))
gen_man = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen_man)

# A flag: one or two dashes and a letter, not inside a word ("RS-485", "non-blocking").
FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")


def flags(text):
    return set(m.rstrip("-") for m in FLAG.findall(text))


def render(page, width="200"):
    env = dict(os.environ, LC_ALL="C", MANWIDTH=width)
    env.pop("MANPAGER", None)
    env.pop("PAGER", None)
    r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, env=env, timeout=60)
    return r.returncode, r.stdout, r.stderr


def helps(page):
    """[(section heading, --help text)] of a page, as tools/gen_man.py lays it out."""
    program, _, argvs = gen_man.PAGES[page]
    binary = os.path.join(BUILD, program)
    run = lambda args: subprocess.run([binary] + args + ["--help"], capture_output=True, text=True,
                                      timeout=60).stdout
    top = run(argvs[0] if isinstance(argvs, list) else [])
    if argvs == "commands":
        argvs = [[]] + [[c] for c in gen_man.commands_of(top)]
    return [("DESCRIPTION", top)] + [(" ".join([program] + a).upper(), run(a)) for a in argvs[1:]]


def sections(rendered):
    """The rendered page's sections by heading (the lines that start in column 0)."""
    out, name = {}, None
    lines = rendered.rstrip("\n").splitlines()
    for line in lines[1:-1]:  # the header and footer lines are no sections
        if line and not line[0].isspace():
            name = line.strip()
            out.setdefault(name, "")
        elif name:
            out[name] += line + "\n"
    return out


class ManPages(unittest.TestCase):
    def test_every_page_renders_without_warnings(self):
        pages = sorted(os.listdir(MAN))
        self.assertEqual(pages, sorted(list(gen_man.PAGES) + ["sunwire.ini.5"]))
        for name in pages:
            rc, out, err = render(os.path.join(MAN, name), "80")
            self.assertEqual(rc, 0, name)
            self.assertEqual(err, "", "%s: %s" % (name, err))
            self.assertIn("NAME", out)

    def test_flags_of_help_and_page_agree(self):
        # Section by section: each --help text against the part of the page made from it.
        for page in gen_man.PAGES:
            rc, out, err = render(os.path.join(MAN, page))
            self.assertEqual(rc, 0, err)
            got_sections = sections(out)
            texts = helps(page)
            self.assertIn("--help", set().union(*(flags(t) for _, t in texts)))
            self.assertEqual(sorted(h for h in got_sections if h not in ("NAME", "FILES", "SEE ALSO")),
                             sorted(h for h, _ in texts), page)
            for heading, text in texts:
                with self.subTest(page=page, section=heading):
                    self.assertTrue(text, heading)
                    want, got = flags(text), flags(got_sections[heading])
                    self.assertEqual(sorted(want - got), [], "in --help, missing from the page")
                    self.assertEqual(sorted(got - want), [], "in the page, not in --help")

    def test_commands_of_the_personas_have_sections(self):
        # taptap(1) and rctclient(1) cover every command their --help lists.
        for page in ("taptap.1", "rctclient.1"):
            program = page.split(".")[0]
            top = helps(page)[0][1]
            commands = gen_man.commands_of(top)
            self.assertGreater(len(commands), 1, page)
            _, out, _ = render(os.path.join(MAN, page))
            for c in commands:
                self.assertIn("\n%s %s\n" % (program.upper(), c.upper()), out)

    def test_config_keys_of_docs_and_page_agree(self):
        with open(os.path.join(SOURCE, "docs", "config.md"), encoding="utf-8") as f:
            md = f.read()
        want = set()
        for line in md.splitlines():
            # The first cell of a table row: `key` (or `a`, `b`, `c`).
            m = re.match(r"^\|\s*([^|]+?)\s*\|", line)
            if m and not re.match(r"^[\s:-]+$", m.group(1)):
                want.update(re.findall(r"`([^`]+)`", m.group(1)))
        self.assertIn("state_dir", want)
        self.assertIn("reconnect_timeout", want)
        with open(os.path.join(MAN, "sunwire.ini.5"), encoding="utf-8") as f:
            roff = f.read()
        # The terms of the tagged paragraphs are the page's keys.
        got = set()
        lines = roff.splitlines()
        for i, line in enumerate(lines):
            if line == ".TP":
                term = lines[i + 1].replace("\\-", "-").replace("\\e", "\\")
                got.update(re.findall(r"\\fB(.*?)\\fR", term))
        self.assertEqual(sorted(want - got), [], "in docs/config.md, missing from sunwire.ini(5)")
        self.assertEqual(sorted(got - want), [], "in sunwire.ini(5), not in docs/config.md")
        _, out, _ = render(os.path.join(MAN, "sunwire.ini.5"))
        for key in want:
            self.assertIn(key, out)


if __name__ == "__main__":
    unittest.main()
