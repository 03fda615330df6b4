/*
 * cmd_run.c: `sunwire run`, the daemon: every configured source into every
 * configured output (see docs/run.md).
 *
 * This file is the program's edge: it reads the command line and the
 * configuration file (through the daemon's parser), turns the simple flags
 * into the same configuration records a file would give, hands the signals
 * to the daemon on its loop (io/stop_signals.h, the self-pipe every command
 * uses) and maps outcomes to exit codes: 0 after a clean stop, 2 for a
 * bad command line or configuration, 1 when the daemon cannot start.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "io/log.h"
#include "io/stop_signals.h"
#include "sunwire/loop.h"
#include "sunwire_config.h"

static void usage(FILE *f)
{
    fputs("Usage: sunwire run [--config FILE] [OPTIONS]\n"
          "\n"
          "Read every configured Tigo bus and RCT inverter and feed every configured output.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE          INI configuration (see docs/config.md)\n"
          "      --check                check the configuration and exit\n"
          "      --tigo-tcp HOST[:PORT] a Tigo bus behind an RS-485/TCP bridge (port 502)\n"
          "      --tigo-serial DEV      a Tigo bus on a serial RS-485 adapter\n"
          "      --rct HOST[:PORT]      an RCT Power inverter (port 8899)\n"
          "      --panels LIST          panel map STRING:NAME:BARCODE[,...]\n"
          "      --state-dir DIR        keep identities and energy counters here\n"
          "      --mqtt HOST[:PORT]     MQTT with Home Assistant discovery\n"
          "      --http [ADDR:]PORT     dashboard, JSON API (and /metrics with --prometheus)\n"
          "      --prometheus [ADDR:]PORT  Prometheus /metrics\n"
          "      --history FILE         SQLite history\n"
          "      --influx-stdout        InfluxDB line protocol on stdout\n"
          "      --json                 one JSON object per update on stdout\n"
          "      --insecure-no-auth     let --http / --prometheus listen beyond loopback without\n"
          "                             authentication (logged as a warning; see docs/dashboard.md)\n"
          "  -h, --help                 this text\n"
          "\n"
          "Exit status: 0 after SIGINT/SIGTERM, 1 when it cannot start, 2 for a bad command line or\n"
          "configuration.\n",
          f);
}

enum {
    OPT_CHECK = 256, OPT_TIGO_TCP, OPT_TIGO_SERIAL, OPT_RCT, OPT_PANELS, OPT_STATE_DIR, OPT_MQTT, OPT_HTTP,
    OPT_PROMETHEUS, OPT_HISTORY, OPT_INFLUX_STDOUT, OPT_JSON, OPT_INSECURE_NO_AUTH
};

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"check", no_argument, NULL, OPT_CHECK},
    {"tigo-tcp", required_argument, NULL, OPT_TIGO_TCP},
    {"tigo-serial", required_argument, NULL, OPT_TIGO_SERIAL},
    {"rct", required_argument, NULL, OPT_RCT},
    {"panels", required_argument, NULL, OPT_PANELS},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"mqtt", required_argument, NULL, OPT_MQTT},
    {"http", required_argument, NULL, OPT_HTTP},
    {"prometheus", required_argument, NULL, OPT_PROMETHEUS},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"influx-stdout", no_argument, NULL, OPT_INFLUX_STDOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"insecure-no-auth", no_argument, NULL, OPT_INSECURE_NO_AUTH},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A flag is the same as a key in a section of the file; line 0 marks "command line" in messages. */
static int flag_key(sw_daemon_config *c, const char *section, const char *key, const char *value)
{
    char err[512] = "";
    if (sw_daemon_config_set(c, section, key, value, 0, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sunwire run: %s\n", err);
        return -1;
    }
    return 0;
}

/* --http / --prometheus take "[ADDR:]PORT". */
static int flag_listen(sw_daemon_config *c, const char *section, const char *opt, const char *arg)
{
    char host[256];
    uint16_t port = 0;
    /* A host needs its port: "-1" or "localhost" alone is no [ADDR:]PORT. */
    bool port_given = arg[0] == '[' ? strstr(arg, "]:") != NULL
                                    : strchr(arg, ':') || strspn(arg, "0123456789") == strlen(arg);
    if (!port_given || sw_parse_host_port(arg, host, sizeof host, &port, 0) != SW_OK) {
        fprintf(stderr, "sunwire run: --%s %s: expected [ADDR:]PORT\n", opt, arg);
        return -1;
    }
    char p[8];
    snprintf(p, sizeof p, "%u", (unsigned)port);
    if (host[0] && flag_key(c, section, "bind", host) != 0)
        return -1;
    return flag_key(c, section, "port", p);
}

/* A source named by its kind and the count so far: tigo, tigo2, ... */
static void source_name(const sw_daemon_config *c, const char *kind, size_t count, char *out, size_t cap)
{
    (void)c;
    if (count == 0)
        snprintf(out, cap, "%s", kind);
    else
        snprintf(out, cap, "%s%zu", kind, count + 1);
}

static int apply_flag(sw_daemon_config *c, int opt, const char *arg, size_t *n_tigo_flags, size_t *n_rct_flags)
{
    char section[96], name[64];
    switch (opt) {
    case OPT_TIGO_TCP:
    case OPT_TIGO_SERIAL:
        source_name(c, "tigo", (*n_tigo_flags)++, name, sizeof name);
        snprintf(section, sizeof section, "tigo %s", name);
        return flag_key(c, section, opt == OPT_TIGO_TCP ? "tcp" : "serial", arg);
    case OPT_RCT:
        source_name(c, "rct", (*n_rct_flags)++, name, sizeof name);
        snprintf(section, sizeof section, "rct %s", name);
        return flag_key(c, section, "host", arg);
    case OPT_PANELS:
        return flag_key(c, "panels", "modules", arg);
    case OPT_STATE_DIR:
        return flag_key(c, "general", "state_dir", arg);
    case OPT_MQTT: {
        char host[256];
        uint16_t port = 1883;
        if (sw_parse_host_port(arg, host, sizeof host, &port, 1883) != SW_OK || !host[0]) {
            fprintf(stderr, "sunwire run: --mqtt %s: expected HOST[:PORT]\n", arg);
            return -1;
        }
        char p[8];
        snprintf(p, sizeof p, "%u", (unsigned)port);
        if (flag_key(c, "mqtt", "host", host) != 0)
            return -1;
        return flag_key(c, "mqtt", "port", p);
    }
    case OPT_HTTP:
        return flag_listen(c, "http", "http", arg);
    case OPT_PROMETHEUS:
        return flag_listen(c, "prometheus", "prometheus", arg);
    case OPT_HISTORY:
        return flag_key(c, "history", "path", arg);
    case OPT_INFLUX_STDOUT:
        return flag_key(c, "influx", "output", "stdout");
    case OPT_JSON:
        c->outputs |= SW_DAEMON_OUT_JSON;
        return 0;
    case OPT_INSECURE_NO_AUTH:
        return 0; /* applied after all flags, to whichever listeners they and the file enabled */
    default:
        return -1;
    }
}

int sw_cli_run(int argc, char **argv)
{
    sw_log_init(SW_LOG_INFO);
    const char *config_path = NULL;
    bool check_only = false;

    /* First pass: the file (flags then add to what it says, whatever their order). */
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", long_opts, NULL)) != -1) {
        if (opt == 'c')
            config_path = optarg;
        else if (opt == 'h') {
            usage(stdout);
            return 0;
        } else if (opt == '?') {
            fprintf(stderr, "sunwire run: unknown or incomplete option %s\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        } else if (opt == OPT_CHECK)
            check_only = true;
    }
    if (optind < argc) {
        fprintf(stderr, "sunwire run: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }

    sw_daemon_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || sw_daemon_config_init(cfg) != SW_OK) {
        fprintf(stderr, "sunwire run: out of memory\n");
        free(cfg);
        return 1;
    }
    int rc = 2;
    char err[1024] = "";
    if (config_path) {
        if (sw_daemon_config_load(cfg, config_path, err, sizeof err) != SW_OK) {
            fprintf(stderr, "sunwire run: %s\n", err);
            goto out;
        }
    }
    size_t n_tigo_flags = 0, n_rct_flags = 0;
    bool insecure_no_auth = false;
    optind = 0; /* glibc: 0 restarts the scan from scratch (argv was permuted by the first pass) */
    while ((opt = getopt_long(argc, argv, "c:h", long_opts, NULL)) != -1) {
        if (opt == 'c' || opt == OPT_CHECK)
            continue;
        insecure_no_auth |= opt == OPT_INSECURE_NO_AUTH;
        if (apply_flag(cfg, opt, optarg, &n_tigo_flags, &n_rct_flags) != 0)
            goto out;
    }
    /* The flag is insecure_no_auth = on in each listener the file or the flags enabled (it enables none). */
    if (insecure_no_auth && (((cfg->outputs & SW_DAEMON_OUT_HTTP) && flag_key(cfg, "http", "insecure_no_auth", "on")) ||
                             ((cfg->outputs & SW_DAEMON_OUT_PROMETHEUS) &&
                              flag_key(cfg, "prometheus", "insecure_no_auth", "on"))))
        goto out;
    if (sw_daemon_config_check(cfg, err, sizeof err) != SW_OK ||
        sw_daemon_outputs_check(cfg, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sunwire run: %s\n", err);
        goto out;
    }
    if (check_only) {
        printf("configuration OK: %zu Tigo bus(es), %zu inverter(s), %zu mapped panel(s)\n", cfg->n_tigo, cfg->n_rct,
               cfg->n_panels);
        rc = 0;
        goto out;
    }

    rc = 1;
    sw_loop *loop = sw_loop_new();
    sw_daemon *d = NULL;
    /* Watched before the daemon starts, so a signal during its start is not lost. */
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    if (!loop || sw_signals_watch(loop, true, sigs, 3, sw_daemon_on_signal, &d) != SW_OK) {
        fprintf(stderr, "sunwire run: cannot create the event loop\n");
        sw_loop_free(loop);
        goto out;
    }

    sw_err e = sw_daemon_new(cfg, loop, &d, err, sizeof err);
    if (e != SW_OK) {
        fprintf(stderr, "sunwire run: %s\n", err[0] ? err : sw_err_message(e));
        rc = e == SW_ERR_INVALID_ARGUMENT ? 2 : 1;
    } else {
        e = sw_daemon_run(d);
        sw_daemon_free(d);
        d = NULL;
        rc = e == SW_OK ? 0 : 1;
    }
    sw_stop_signals_unwatch(loop);
    sw_loop_free(loop);
out:
    sw_daemon_config_free(cfg);
    free(cfg);
    return rc;
}
