/*
 * tigo_args.c: clap-compatible parsing of the Tigo command line (see tigo_args.h).
 *
 * One table describes every flag: which subcommands accept it and how its
 * value is parsed. The rules that depend on several flags (exactly one
 * source, --port and keepalive only with --tcp, pacing only with --file) are
 * checked after the whole line was read, as clap does, so the first error
 * reported is the same whatever the order of the flags.
 */
#include "cli/tigo_args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
    OPT_SERIAL, OPT_TCP, OPT_FILE, OPT_PORT, OPT_RTIMEOUT, OPT_RRETRY, OPT_RDELAY,
    OPT_KIDLE, OPT_KINTERVAL, OPT_KCOUNT, OPT_REALTIME, OPT_SPEED, OPT_RAW, OPT_JSON,
    OPT_PFILE, OPT_FORMAT, OPT_REFERENCE, OPT_OUT, OPT_NO_REDACT, OPT_COUNT_
};

enum opt_kind { K_BOOL, K_STR, K_U16, K_U32, K_U64, K_SPEED, K_FORMAT };

#define CMD_BIT(c) (1u << (c))
#define SRC_CMDS (CMD_BIT(TIGO_CMD_OBSERVE) | CMD_BIT(TIGO_CMD_PEEK_BYTES) | CMD_BIT(TIGO_CMD_PEEK_FRAMES) | \
                  CMD_BIT(TIGO_CMD_PEEK_ACTIVITY) | CMD_BIT(TIGO_CMD_RECORD))

typedef struct opt_def {
    enum opt_id id;
    const char *name;
    const char *alias;
    const char *value_name; /* NULL for flags without a value */
    enum opt_kind kind;
    unsigned cmds;
} opt_def;

static const opt_def opts[] = {
    { OPT_SERIAL, "--serial", NULL, "<SERIAL-PORT>", K_STR, SRC_CMDS },
    { OPT_TCP, "--tcp", NULL, "<DESTINATION>", K_STR, SRC_CMDS },
    { OPT_FILE, "--file", NULL, "<PATH>", K_STR, SRC_CMDS },
    { OPT_PORT, "--port", NULL, "<PORT NUMBER>", K_U16, SRC_CMDS },
    { OPT_RTIMEOUT, "--reconnect-timeout", NULL, "<SECONDS>", K_U64, SRC_CMDS },
    { OPT_RRETRY, "--reconnect-retry", NULL, "<INT>", K_U32, SRC_CMDS },
    { OPT_RDELAY, "--reconnect-delay", NULL, "<SECONDS>", K_U64, SRC_CMDS },
    { OPT_KIDLE, "--keepalive-idle", NULL, "<SECONDS>", K_U64, SRC_CMDS },
    { OPT_KINTERVAL, "--keepalive-interval", NULL, "<SECONDS>", K_U64, SRC_CMDS },
    { OPT_KCOUNT, "--keepalive-count", NULL, "<SECONDS>", K_U32, SRC_CMDS },
    { OPT_REALTIME, "--realtime", NULL, NULL, K_BOOL, SRC_CMDS },
    { OPT_SPEED, "--speed", NULL, "<FACTOR>", K_SPEED, SRC_CMDS },
    { OPT_RAW, "--raw", NULL, NULL, K_BOOL, CMD_BIT(TIGO_CMD_PEEK_BYTES) },
    { OPT_JSON, "--json", NULL, NULL, K_BOOL, CMD_BIT(TIGO_CMD_PEEK_FRAMES) | CMD_BIT(TIGO_CMD_PEEK_ACTIVITY) },
    { OPT_PFILE, "--persistent-file", "--state-file", "<FILE>", K_STR, CMD_BIT(TIGO_CMD_OBSERVE) },
    { OPT_FORMAT, "--format", NULL, "<FORMAT>", K_FORMAT, CMD_BIT(TIGO_CMD_OBSERVE) },
    { OPT_REFERENCE, "--reference", NULL, NULL, K_BOOL, CMD_BIT(TIGO_CMD_OBSERVE) },
    { OPT_OUT, "--out", NULL, "<FILE>", K_STR, CMD_BIT(TIGO_CMD_RECORD) },
    { OPT_NO_REDACT, "--no-redact", NULL, NULL, K_BOOL,
      CMD_BIT(TIGO_CMD_PEEK_BYTES) | CMD_BIT(TIGO_CMD_PEEK_FRAMES) | CMD_BIT(TIGO_CMD_PEEK_ACTIVITY) |
          CMD_BIT(TIGO_CMD_RECORD) },
};

static const struct {
    const char *name;
    tigo_cmd cmd;
} cmds[] = {
    { "list-serial-ports", TIGO_CMD_LIST_SERIAL_PORTS },
    { "observe", TIGO_CMD_OBSERVE },
    { "peek-bytes", TIGO_CMD_PEEK_BYTES },
    { "peek-frames", TIGO_CMD_PEEK_FRAMES },
    { "peek-activity", TIGO_CMD_PEEK_ACTIVITY },
    { "record", TIGO_CMD_RECORD },
    { "help", TIGO_CMD_HELP },
};

const char *tigo_cmd_name(tigo_cmd cmd)
{
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (cmds[i].cmd == cmd)
            return cmds[i].name;
    return "";
}

static tigo_cmd find_cmd(const char *s)
{
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmds[i].name, s) == 0)
            return cmds[i].cmd;
    return TIGO_CMD_NONE;
}

static const opt_def *opt_by_id(enum opt_id id)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].id == id)
            return &opts[i];
    return &opts[0];
}

/* "--serial <SERIAL-PORT>" as clap names an argument in messages. */
static const char *display(enum opt_id id, char *buf, size_t cap)
{
    const opt_def *o = opt_by_id(id);
    if (o->value_name)
        snprintf(buf, cap, "%s %s", o->name, o->value_name);
    else
        snprintf(buf, cap, "%s", o->name);
    return buf;
}

static void usage_line(char *out, size_t cap, const char *prog, tigo_cmd cmd)
{
    if (cmd == TIGO_CMD_NONE || cmd == TIGO_CMD_HELP)
        snprintf(out, cap, "%s <COMMAND>", prog);
    else if (cmd == TIGO_CMD_LIST_SERIAL_PORTS)
        snprintf(out, cap, "%s list-serial-ports", prog);
    else if (cmd == TIGO_CMD_RECORD)
        snprintf(out, cap, "%s record [OPTIONS] --out <FILE> <--serial <SERIAL-PORT>|--tcp <DESTINATION>|--file <PATH>>", prog);
    else
        snprintf(out, cap, "%s %s [OPTIONS] <--serial <SERIAL-PORT>|--tcp <DESTINATION>|--file <PATH>>", prog,
                 tigo_cmd_name(cmd));
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void fail(tigo_args *a, const char *prog, tigo_cmd cmd, const char *fmt, ...)
{
    char msg[320], use[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    usage_line(use, sizeof use, prog, cmd);
    snprintf(a->error, sizeof a->error, "error: %s\n\nUsage: %s\n\nFor more information, try '--help'.\n", msg, use);
    a->action = TIGO_ACTION_USAGE_ERROR;
}

/* Rust's unsigned from_str: optional '+', decimal digits, no white space. */
static const char *parse_unsigned(const char *s, uint64_t max, uint64_t *out)
{
    if (*s == '+')
        s++;
    if (!*s)
        return "cannot parse integer from empty string";
    uint64_t v = 0;
    bool overflow = false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return "invalid digit found in string";
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (overflow || v > max)
        return "number too large to fit in target type";
    *out = v;
    return NULL;
}

static void set_defaults(tigo_args *a)
{
    memset(a, 0, sizeof *a);
    a->port = 502;
    a->reconnect_timeout = 60;
    a->reconnect_retry = 0;
    a->reconnect_delay = 5;
    a->keepalive_idle = 30;
    a->keepalive_interval = 10;
    a->keepalive_count = 5;
    a->speed = 1.0;
    a->persistent_file = "";
}

static void store(tigo_args *a, const opt_def *o, const char *v, uint64_t u, double d)
{
    switch (o->id) {
    case OPT_SERIAL: a->serial = v; break;
    case OPT_TCP: a->tcp = v; break;
    case OPT_FILE: a->file = v; break;
    case OPT_PORT: a->port = (uint16_t)u; break;
    case OPT_RTIMEOUT: a->reconnect_timeout = u; break;
    case OPT_RRETRY: a->reconnect_retry = (uint32_t)u; break;
    case OPT_RDELAY: a->reconnect_delay = u; break;
    case OPT_KIDLE: a->keepalive_idle = u; break;
    case OPT_KINTERVAL: a->keepalive_interval = u; break;
    case OPT_KCOUNT: a->keepalive_count = (uint32_t)u; break;
    case OPT_REALTIME: a->realtime = true; break;
    case OPT_SPEED: a->speed = d; a->realtime = true; break;
    case OPT_RAW: a->raw = true; break;
    case OPT_JSON: a->json = true; break;
    case OPT_PFILE: a->persistent_file = v; break;
    case OPT_FORMAT: a->format = strcmp(v, "upstream") == 0 ? TIGO_FORMAT_UPSTREAM : TIGO_FORMAT_FORK; break;
    case OPT_REFERENCE: a->reference = true; break;
    case OPT_OUT: a->out = v; break;
    case OPT_NO_REDACT: a->no_redact = true; break;
    case OPT_COUNT_: break;
    }
}

void tigo_args_parse(int argc, char **argv, const char *prog, sw_persona persona, tigo_args *a)
{
    (void)persona; /* both personas accept the same line; only texts differ */
    set_defaults(a);
    bool seen[OPT_COUNT_] = { false };
    char d1[96], d2[96];
    int i = 1;

    /* Before the subcommand only help and version are understood. */
    for (; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            a->action = TIGO_ACTION_HELP;
            return;
        }
        if (strcmp(s, "-V") == 0 || strcmp(s, "--version") == 0) {
            a->action = TIGO_ACTION_VERSION;
            return;
        }
        if (s[0] == '-') {
            fail(a, prog, TIGO_CMD_NONE, "unexpected argument '%s' found", s);
            return;
        }
        a->cmd = find_cmd(s);
        if (a->cmd == TIGO_CMD_NONE) {
            fail(a, prog, TIGO_CMD_NONE, "unrecognized subcommand '%s'", s);
            return;
        }
        i++;
        break;
    }
    if (a->cmd == TIGO_CMD_NONE) {
        /* clap prints the full help to stderr here; the caller does that. */
        a->action = TIGO_ACTION_USAGE_ERROR;
        a->error[0] = '\0';
        return;
    }
    if (a->cmd == TIGO_CMD_HELP) {
        a->action = TIGO_ACTION_HELP;
        if (i < argc) {
            a->help_cmd = find_cmd(argv[i]);
            if (a->help_cmd == TIGO_CMD_NONE) {
                fail(a, prog, TIGO_CMD_NONE, "unrecognized subcommand '%s'", argv[i]);
                return;
            }
            if (a->help_cmd == TIGO_CMD_HELP)
                a->help_cmd = TIGO_CMD_NONE;
            if (i + 1 < argc)
                fail(a, prog, TIGO_CMD_HELP, "unexpected argument '%s' found", argv[i + 1]);
        }
        return;
    }

    for (; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            a->action = TIGO_ACTION_HELP;
            a->help_cmd = a->cmd;
            return;
        }
        if (strcmp(s, "-V") == 0 || strcmp(s, "--version") == 0) {
            a->action = TIGO_ACTION_VERSION;
            return;
        }
        const char *eq = strncmp(s, "--", 2) == 0 ? strchr(s, '=') : NULL;
        size_t name_len = eq ? (size_t)(eq - s) : strlen(s);
        const opt_def *o = NULL;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
            bool match = (strlen(opts[k].name) == name_len && strncmp(opts[k].name, s, name_len) == 0) ||
                         (opts[k].alias && strlen(opts[k].alias) == name_len && strncmp(opts[k].alias, s, name_len) == 0);
            if (match && (opts[k].cmds & CMD_BIT(a->cmd))) {
                o = &opts[k];
                break;
            }
        }
        if (!o) {
            if (eq)
                fail(a, prog, a->cmd, "unexpected argument '%.*s' found", (int)name_len, s);
            else
                fail(a, prog, a->cmd, "unexpected argument '%s' found", s);
            return;
        }
        if (seen[o->id]) {
            fail(a, prog, a->cmd, "the argument '%s' cannot be used multiple times", display(o->id, d1, sizeof d1));
            return;
        }
        seen[o->id] = true;
        const char *v = NULL;
        if (o->kind == K_BOOL) {
            if (eq) {
                fail(a, prog, a->cmd, "unexpected value '%s' for '%s' found; no more were expected", eq + 1, o->name);
                return;
            }
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc && argv[i + 1][0] != '-') {
            v = argv[++i];
        } else if (i + 1 < argc && o->kind == K_STR && strcmp(argv[i + 1], "-") == 0) {
            v = argv[++i]; /* "-" is a path (standard input), not a flag */
        } else {
            fail(a, prog, a->cmd, "a value is required for '%s' but none was supplied", display(o->id, d1, sizeof d1));
            return;
        }
        uint64_t u = 0;
        double d = 0;
        const char *why = NULL;
        switch (o->kind) {
        case K_U16: why = parse_unsigned(v, UINT16_MAX, &u); break;
        case K_U32: why = parse_unsigned(v, UINT32_MAX, &u); break;
        case K_U64: why = parse_unsigned(v, UINT64_MAX, &u); break;
        case K_SPEED: {
            char *end = NULL;
            errno = 0;
            d = strtod(v, &end);
            if (!*v || *end || errno || !isfinite(d) || d <= 0)
                why = "expected a positive number";
            break;
        }
        case K_FORMAT:
            if (strcmp(v, "fork") != 0 && strcmp(v, "upstream") != 0) {
                fail(a, prog, a->cmd, "invalid value '%s' for '%s'\n  [possible values: fork, upstream]", v,
                     display(o->id, d1, sizeof d1));
                return;
            }
            break;
        default: break;
        }
        if (why) {
            fail(a, prog, a->cmd, "invalid value '%s' for '%s': %s", v, display(o->id, d1, sizeof d1), why);
            return;
        }
        store(a, o, v, u, d);
    }

    if (!(CMD_BIT(a->cmd) & SRC_CMDS)) {
        a->action = TIGO_ACTION_RUN;
        return;
    }
    /* Exactly one source. */
    enum opt_id srcs[3] = { OPT_SERIAL, OPT_TCP, OPT_FILE };
    int first = -1;
    for (int k = 0; k < 3; k++) {
        if (!seen[srcs[k]])
            continue;
        if (first >= 0) {
            fail(a, prog, a->cmd, "the argument '%s' cannot be used with '%s'", display(srcs[first], d1, sizeof d1),
                 display(srcs[k], d2, sizeof d2));
            return;
        }
        first = k;
    }
    /* TCP-only flags, explicit ones only. */
    enum opt_id tcp_only[4] = { OPT_PORT, OPT_KIDLE, OPT_KINTERVAL, OPT_KCOUNT };
    for (int k = 0; k < 4; k++) {
        if (!seen[tcp_only[k]] || seen[OPT_TCP])
            continue;
        if (seen[OPT_SERIAL] || seen[OPT_FILE]) {
            fail(a, prog, a->cmd, "the argument '%s' cannot be used with '%s'",
                 display(seen[OPT_SERIAL] ? OPT_SERIAL : OPT_FILE, d1, sizeof d1),
                 display(tcp_only[k], d2, sizeof d2));
        } else {
            fail(a, prog, a->cmd, "the following required arguments were not provided:\n  %s",
                 display(OPT_TCP, d1, sizeof d1));
        }
        return;
    }
    if (first < 0) {
        fail(a, prog, a->cmd,
             "the following required arguments were not provided:\n  <--serial <SERIAL-PORT>|--tcp <DESTINATION>|--file <PATH>>");
        return;
    }
    /* Pacing only makes sense for a recording. */
    enum opt_id file_only[2] = { OPT_REALTIME, OPT_SPEED };
    for (int k = 0; k < 2; k++) {
        if (seen[file_only[k]] && !seen[OPT_FILE]) {
            fail(a, prog, a->cmd, "the argument '%s' cannot be used with '%s'",
                 display(seen[OPT_SERIAL] ? OPT_SERIAL : OPT_TCP, d1, sizeof d1),
                 display(file_only[k], d2, sizeof d2));
            return;
        }
    }
    if (a->cmd == TIGO_CMD_RECORD && !seen[OPT_OUT]) {
        fail(a, prog, a->cmd, "the following required arguments were not provided:\n  --out <FILE>");
        return;
    }
    a->action = TIGO_ACTION_RUN;
}
