/*
 * cmd_rct.c: the RCT command group: global options and dispatch.
 *
 * Run as `rctclient` (or `sunwire rctclient`) it offers exactly rctclient's
 * commands, read-value and simulator, with its options and output. Run as
 * `sunwire rct` it adds the commands rctclient lacks; read-value and
 * simulator then also take the extra options (several objects, --json,
 * faults, ...), which never change the output of rctclient's own options.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rct_cli.h"
#include "io/log.h"
#include "sunwire_config.h"

struct sub {
    const char *name;
    int (*fn)(const rc_global *, int, char **);
    bool rctclient;
    const char *summary;
};

static const struct sub subs[] = {
    { "decode", rc_cmd_decode, false, "Decode raw bytes (binary or pasted hex) into frames and values." },
    { "encode", rc_cmd_encode, false, "Build a frame and print it as hex." },
    { "events", rc_cmd_events, false, "Download the event table for a time range." },
    { "history", rc_cmd_history, false, "Download logger time series for a time range (CSV or JSON)." },
    { "proxy", rc_cmd_proxy, false, "Share one inverter connection among many clients." },
    { "read-pcap", rc_cmd_read_pcap, false, "Decode the RCT traffic in a pcap or pcapng capture." },
    { "read-value", rc_cmd_read_value, true, "Read the current value of one or more objects." },
    { "registry", rc_cmd_registry, false, "Browse the known object ids." },
    { "simulator", rc_cmd_simulator, true, "Run a simulated inverter." },
    { "timeseries", rc_cmd_history, false, "Same as history." },
    { "write-value", rc_cmd_write_value, false, "Write a value (refused without --allow-write)." },
};

static void group_help(const rc_global *g, FILE *out)
{
    fprintf(out, "Usage: %s [OPTIONS] COMMAND [ARGS]...\n\n", g->prog);
    if (g->persona == SW_PERSONA_RCTCLIENT)
        fprintf(out, "  Talk to RCT Power inverters on TCP port 8899 (rctclient-compatible).\n\n");
    else
        fprintf(out, "  Talk to RCT Power inverters on TCP port 8899, decode their traffic, simulate one.\n\n");
    fprintf(out, "Options:\n"
                 "  --version      Show the version and exit.\n"
                 "  -d, --debug    Enable debug output\n"
                 "  --frame-debug  With --debug: also trace the bytes of every frame\n"
                 "  --help         Show this message and exit.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (subs[i].rctclient || g->persona != SW_PERSONA_RCTCLIENT)
            fprintf(out, "  %-12s %s\n", subs[i].name, subs[i].summary);
}

static int group_error(const rc_global *g, bool is_command, const char *arg)
{
    fprintf(stderr, "Usage: %s [OPTIONS] COMMAND [ARGS]...\nTry '%s --help' for help.\n\nError: ", g->prog,
            g->prog);
    if (is_command)
        fprintf(stderr, "No such command '%s'.\n", arg);
    else
        fprintf(stderr, "No such option: %s\n", arg);
    return 2;
}

int sw_cli_rct(int argc, char **argv, const char *prog, sw_persona persona)
{
    rc_global g = { .persona = persona, .prog = prog };
    sw_log_init(SW_LOG_WARN);
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0) {
            g.debug = true;
        } else if (strcmp(a, "--frame-debug") == 0) {
            g.frame_debug = true;
        } else if (strcmp(a, "--version") == 0) {
            if (persona == SW_PERSONA_RCTCLIENT)
                printf("rctclient, version 0.0.6 (sunwire %s)\n", SUNWIRE_VERSION);
            else
                printf("%s, version %s\n", prog, SUNWIRE_VERSION);
            return 0;
        } else if (strcmp(a, "--help") == 0) {
            group_help(&g, stdout);
            return 0;
        } else if (a[0] == '-') {
            char opt[64];
            snprintf(opt, sizeof opt, "%s", a);
            char *eq = strchr(opt, '=');
            if (eq)
                *eq = 0;
            return group_error(&g, false, opt);
        } else {
            break;
        }
    }
    if (i >= argc) {
        /* click shows the group's help when no command is given */
        group_help(&g, stdout);
        return 0;
    }
    if (g.debug)
        sw_log_set_level(SW_LOG_DEBUG);
    const char *name = argv[i];
    for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++) {
        if (strcmp(subs[k].name, name) != 0)
            continue;
        if (!subs[k].rctclient && persona == SW_PERSONA_RCTCLIENT)
            break;
        rc_debug(&g, "rctclient.cli", "INFO", "rctclient CLI starting");
        return subs[k].fn(&g, argc - i, argv + i);
    }
    return group_error(&g, true, name);
}
