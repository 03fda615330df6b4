#!/usr/bin/env python3
"""gen_man.py: write the manual pages from the programs' own --help and from
docs/config.md, so that they cannot drift from either.

    gen_man.py --bindir BUILD --source SRC --out DIR [--version V]

sunwire(1), sunwire-run(1), taptap(1) and rctclient(1) are each made of one
or more --help texts (a program's and its commands'); sunwire.ini(5) is
docs/config.md turned into roff. Only the NAME line and the list of help
texts per page are written here. tests/integration/test_man.py checks that
every flag a --help prints is in the page and the reverse.
"""
import argparse
import os
import re
import subprocess
import sys
import time

# page -> (program, one-line summary, the help texts: argv after the program)
PAGES = {
    "sunwire.1": ("sunwire", "local, offline monitoring of Tigo TAP buses and RCT Power inverters",
                  [[], ["tigo"], ["tigo", "doctor"], ["tigo", "simulate"], ["rct"], ["history"], ["demo"],
                   ["features"]]),
    "sunwire-run.1": ("sunwire", "the sunwire daemon: buses and inverters into MQTT, Prometheus, "
                      "InfluxDB, the history and the dashboard", [["run"]]),
    "taptap.1": ("taptap", "passive listener for the Tigo TAP RS-485 gateway bus", "commands"),
    "rctclient.1": ("rctclient", "talk to RCT Power inverters on TCP port 8899", "commands"),
}
SEE_ALSO = {
    "sunwire.1": ["sunwire-run(1)", "taptap(1)", "rctclient(1)", "sunwire.ini(5)"],
    "sunwire-run.1": ["sunwire(1)", "sunwire.ini(5)", "systemctl(1)"],
    "taptap.1": ["sunwire(1)", "rctclient(1)"],
    "rctclient.1": ["sunwire(1)", "taptap(1)"],
    "sunwire.ini.5": ["sunwire-run(1)", "sunwire(1)"],
}


def esc(text):
    """Plain text to roff: backslashes, hyphens (so they stay ASCII and searchable)."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def line_out(text):
    """A text line: a leading . or ' would be a request."""
    text = esc(text)
    return "\\&" + text if text[:1] in (".", "'") else text


def help_text(bindir, program, args):
    r = subprocess.run([os.path.join(bindir, program)] + args + ["--help"], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, COLUMNS="80"))
    if r.returncode != 0 or not r.stdout.strip():
        sys.exit("gen_man: %s %s --help failed: %s" % (program, " ".join(args), r.stderr.strip()))
    return r.stdout


def commands_of(text):
    """The command names a clap/click style "Commands:" list shows (help excluded)."""
    out, inside = [], False
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            inside = line.startswith("Commands")
            continue
        m = re.match(r"^\s{2,}([a-z][\w-]*)\s{2,}", line)
        if inside and m and m.group(1) != "help":
            out.append(m.group(1))
    return out


# An option term without two blanks before its description: "--port <N> text".
OPT_TERM = re.compile(r"^(-[\w-]+(?:,\s*-[\w-]+)*(?:[ =](?:<[^>]*>|\[[^\]]*\]\S*|[A-Z][\w\[\]:.,|-]*))?)\s+(\S.*)$")


def render_help(text):
    """A --help text as roff: headings, tagged paragraphs for items, filled text."""
    out = []
    item_indent = None  # inside an item: its indentation
    desc_col = 0        # ... and the column its description starts in
    for raw in text.rstrip("\n").splitlines():
        line = raw.rstrip()
        if not line:
            out.append(".PP") if out and out[-1] != ".PP" else None
            item_indent = None
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 0 and body.startswith("Usage:"):
            out += [".PP", "\\fBUsage:\\fR " + esc(body[len("Usage:"):].strip()), ".PP"]
            item_indent = None
            continue
        if indent == 0 and body.endswith(":") and len(body) < 60:
            out += [".SS " + esc(body[:-1])]
            item_indent = None
            continue
        # A continuation of the item's description: indented past the item, and
        # either no option of its own or aligned with the description column.
        if item_indent is not None and indent > item_indent and (not body.startswith("-") or indent >= desc_col):
            out.append(line_out(body))
            continue
        term = desc = None
        if indent >= 2:
            m = re.match(r"^(\S(?:.*?\S)?)\s{2,}(\S.*)$", body)
            if m:
                term, desc = m.group(1), m.group(2)
            elif body.startswith("-"):
                m = OPT_TERM.match(body)
                term, desc = (m.group(1), m.group(2)) if m else (body, "")
        if term is not None:
            out += [".TP", "\\fB" + esc(term) + "\\fR"]
            if desc:
                out.append(line_out(desc))
            item_indent = indent
            desc_col = len(line) - len(desc)  # desc ends the line
            continue
        item_indent = None
        out.append(line_out(body))
    while out and out[-1] == ".PP":
        out.pop()
    return out


def header(name, section, summary, version):
    stamp = os.environ.get("SOURCE_DATE_EPOCH")
    date = time.strftime("%Y-%m-%d", time.gmtime(int(stamp))) if stamp else ""
    title = name.upper()
    return ['.\\" Generated by tools/gen_man.py from --help and docs/config.md; do not edit.',
            '.TH "%s" "%s" "%s" "sunwire %s" "sunwire manual"' % (esc(title), section, date, version),
            ".nh", ".ad l", ".SH NAME", "%s \\- %s" % (esc(name), esc(summary))]


def see_also(page):
    refs = SEE_ALSO.get(page, [])
    items = []
    for r in refs:
        n, s = r[:-1].split("(")
        items.append("\\fB%s\\fR(%s)" % (esc(n), s))
    return [".SH SEE ALSO", ",\n".join(items)] if items else []


def program_page(page, bindir, version):
    program, summary, helps = PAGES[page]
    name, section = page.rsplit(".", 1)
    top = help_text(bindir, program, helps[0] if isinstance(helps, list) else [])
    if helps == "commands":
        helps = [[]] + [[c] for c in commands_of(top)]
    out = header(name, section, summary, version)
    for i, args in enumerate(helps):
        text = top if i == 0 else help_text(bindir, program, args)
        if i == 0:
            out += [".SH DESCRIPTION"]
        else:
            out += [".SH \"%s\"" % esc(" ".join([program] + args).upper())]
        out += render_help(text)
    out += [".SH FILES", "\\fI/etc/sunwire/sunwire.ini\\fR, the configuration of the service (see "
            "\\fBsunwire.ini\\fR(5)); \\fI/var/lib/sunwire\\fR, its state directory."]
    out += see_also(page)
    return "\n".join(out) + "\n"


def inline_md(text):
    """Inline Markdown (code spans, strong and plain emphasis, links) to roff."""
    codes = []

    def code(m):
        codes.append("\\fB" + esc(m.group(1)) + "\\fR")
        return "\0%d\0" % (len(codes) - 1)

    s = re.sub(r"`([^`]*)`", code, text)
    s = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", s)
    s = esc(s)
    s = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", s)
    s = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"\\fI\1\\fR", s)
    s = re.sub(r"\0(\d+)\0", lambda m: codes[int(m.group(1))], s)
    return "\\&" + s if s[:1] in (".", "'") else s


def table_cells(line):
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def config_page(source, version):
    with open(os.path.join(source, "docs", "config.md"), encoding="utf-8") as f:
        md = f.read().splitlines()
    out = header("sunwire.ini", "5", "configuration file of sunwire run", version)
    out += [".SH SYNOPSIS", "\\fI/etc/sunwire/sunwire.ini\\fR", ".PP",
            "\\fBsunwire run \\-\\-config\\fR \\fIFILE\\fR [\\fB\\-\\-check\\fR]", ".SH DESCRIPTION"]
    i, header_row = 0, None
    while i < len(md):
        line = md[i]
        if line.startswith("# "):
            i += 1
            continue
        if line.startswith("## ") or line.startswith("### "):
            macro = ".SH" if line.startswith("## ") else ".SS"
            text = line.lstrip("#").strip().replace("`", "")
            out.append('%s "%s"' % (macro, esc(text.upper() if macro == ".SH" else text)))
            header_row = None
            i += 1
            continue
        if line.startswith("|"):
            cells = table_cells(line)
            if i + 1 < len(md) and re.match(r"^\|[\s:|-]+\|$", md[i + 1].strip()):
                header_row = cells
                i += 2
                continue
            term = inline_md(cells[0])
            rest = []
            for h, c in zip(header_row[1:] if header_row else [], cells[1:]):
                if c:
                    rest.append(("%s: %s" % (esc(h), inline_md(c))) if h.lower() == "default" else inline_md(c))
            out += [".TP", term] + (["\n.br\n".join(rest)] if rest else [])
            i += 1
            continue
        if line.startswith("    ") and line.strip():
            block = []
            while i < len(md) and (md[i].startswith("    ") or not md[i].strip()):
                block.append(md[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += [".PP", ".nf", ".RS 4"] + [line_out(b) if b else "" for b in block] + [".RE", ".fi"]
            continue
        m = re.match(r"^(\s*)[-*] (.*)$", line)
        if m:
            out += [".IP \\(bu 2", inline_md(m.group(2))]
            i += 1
            continue
        if not line.strip():
            if out[-1] != ".PP":
                out.append(".PP")
            i += 1
            continue
        text = inline_md(line.strip())
        out.append(text)
        i += 1
    while out and out[-1] == ".PP":
        out.pop()
    out += see_also("sunwire.ini.5")
    # Collapse paragraph breaks that directly follow headings or precede items.
    clean = []
    for l in out:
        if l == ".PP" and clean and (clean[-1].startswith(".SH") or clean[-1].startswith(".SS") or clean[-1] == ".PP"):
            continue
        if l in (".TP", ".IP \\(bu 2", ".SH", ".SS") and clean and clean[-1] == ".PP":
            clean.pop()
        clean.append(l)
    return "\n".join(clean) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--version", default="")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    pages = {p: program_page(p, a.bindir, a.version) for p in PAGES}
    pages["sunwire.ini.5"] = config_page(a.source, a.version)
    for name, text in pages.items():
        path = os.path.join(a.out, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
