/*
 * rct_proxy.c: `sunwire rct proxy`, many RCT clients over one connection to
 * the inverter (the proxy itself is rct_io/rct_proxy.c). This file only turns
 * options into a configuration, runs the loop until SIGINT/SIGTERM and prints
 * the counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/rct_cli.h"
#include "io/log.h"
#include "io/stop_signals.h"
#include "rct_io/rct_proxy.h"

#define OPT(s, l, k, m, h) { s, l, k, m, h, false, 0, NULL, { 0 }, 0 }

static void print_counters(const sw_rct_proxy *p)
{
    sw_rct_proxy_counters c;
    sw_rct_proxy_get_counters(p, &c);
    char text[1024];
    sw_rct_proxy_counters_text(&c, text, sizeof text);
    fprintf(stderr, "proxy counters at exit: %s\n", text);
}

int rc_cmd_proxy(const rc_global *g, int argc, char **argv)
{
    rc_opt opts[] = {
        OPT("-h", "--host", RC_VALUE, "<host>", "Host address or IP of the inverter"),
        OPT("-p", "--port", RC_VALUE, "<port>", "Port at which the inverter listens, default 8899"),
        OPT("-l", "--listen", RC_VALUE, "<addr:port>", "Where clients connect (default 127.0.0.1:8899)"),
        OPT(NULL, "--allow-write", RC_MULTI, "<addr>", "Let writes from this client address pass; repeatable"),
        OPT(NULL, "--cache", RC_VALUE, "<ms>", "Serve an answer again for this long (default 3000, 0 = off)"),
        OPT(NULL, "--cache-object", RC_MULTI, "<name=ms>", "Another cache time for one object; repeatable"),
        OPT(NULL, "--timeout", RC_VALUE, "<ms>", "Wait this long for each answer (default 2000)"),
        OPT(NULL, "--retries", RC_VALUE, "<n>", "Ask again this often when an answer is missing or bad (default 3)"),
        OPT(NULL, "--connect-timeout", RC_VALUE, "<ms>", "Give up connecting after this (default 5000)"),
        OPT(NULL, "--max-clients", RC_VALUE, "<n>", "Clients served at once (default 64)"),
        OPT(NULL, "--port-file", RC_VALUE, "<file>", "Write the bound port here once listening (use with port 0)"),
        OPT("-v", "--verbose", RC_FLAG, NULL, "Log connections and writes, and the counters every minute"),
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS]",
                   "  Share one connection to an RCT inverter among many clients (Home Assistant,\n"
                   "  evcc, rctclient, the vendor app). Requests go to the inverter one at a time;\n"
                   "  each client gets only the checked answer to its own request. Recent answers are\n"
                   "  served from a short cache, identical requests share one. Writes are refused\n"
                   "  unless the client's address is given with --allow-write. See docs/rct-proxy.md.",
                   opts, sizeof opts / sizeof opts[0], 0, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "proxy", argc, argv);
    if (rc >= 0)
        return rc;
    sw_rct_proxy_config cfg;
    sw_rct_proxy_config_default(&cfg);
    rc_opt *ohost = rc_find(&cmd, "--host");
    if (!ohost->count || !ohost->value[0])
        return rc_usage_error(&cmd, "Missing option '-h' / '--host' (the inverter).");
    cfg.upstream_host = ohost->value;
    long long v;
    if (rc_int(&cmd, "--port", SW_RCT_DEFAULT_PORT, 1, 65535, &v))
        return 2;
    cfg.upstream_port = (uint16_t)v;
    char listen_host[256];
    rc_opt *olisten = rc_find(&cmd, "--listen");
    if (sw_rct_proxy_parse_listen(olisten->count ? olisten->value : "127.0.0.1", SW_RCT_DEFAULT_PORT, listen_host,
                                  sizeof listen_host, &cfg.listen_port) != SW_OK)
        return rc_usage_error(&cmd, "Invalid value for '-l' / '--listen': '%s' is not ADDRESS:PORT with a numeric "
                                    "address.", olisten->value);
    cfg.listen_host = listen_host;
    rc_opt *oallow = rc_find(&cmd, "--allow-write");
    for (size_t i = 0; i < oallow->n_values; i++) {
        sw_err e = sw_rct_proxy_allow_write(&cfg, oallow->values[i]);
        if (e != SW_OK)
            return rc_usage_error(&cmd, "Invalid value for '--allow-write': '%s' %s.", oallow->values[i],
                                  e == SW_ERR_NO_SPACE ? "is one too many" : "is not a numeric IP address");
    }
    if (rc_int(&cmd, "--cache", 3000, 0, 86400000, &v))
        return 2;
    cfg.cache_ms = v;
    rc_opt *oco = rc_find(&cmd, "--cache-object");
    for (size_t i = 0; i < oco->n_values; i++) {
        char name[128];
        const char *eq = strchr(oco->values[i], '=');
        size_t nl = eq ? (size_t)(eq - oco->values[i]) : 0;
        char *end = NULL;
        long long ms = eq ? strtoll(eq + 1, &end, 10) : -1;
        const sw_rct_object *o = NULL;
        if (eq && nl < sizeof name) {
            memcpy(name, oco->values[i], nl);
            name[nl] = 0;
            o = rc_lookup(name, strncmp(name, "0x", 2) == 0);
        }
        if (!o || !end || *end || eq[1] == 0 || ms < 0 || ms > 86400000 ||
            sw_rct_proxy_cache_override(&cfg, o->id, ms) != SW_OK)
            return rc_usage_error(&cmd, "Invalid value for '--cache-object': '%s' is not NAME=MILLISECONDS of a "
                                        "known object.", oco->values[i]);
    }
    if (rc_int(&cmd, "--timeout", cfg.exchange.timeout_ms, 1, 3600000, &v))
        return 2;
    cfg.exchange.timeout_ms = v;
    if (rc_int(&cmd, "--retries", cfg.exchange.retries, 0, 100, &v))
        return 2;
    cfg.exchange.retries = (int)v;
    if (rc_int(&cmd, "--connect-timeout", cfg.connect_timeout_ms, 1, 3600000, &v))
        return 2;
    cfg.connect_timeout_ms = (int)v;
    if (rc_int(&cmd, "--max-clients", 64, 1, 200, &v))
        return 2;
    cfg.max_clients = (size_t)v;
    bool verbose = rc_find(&cmd, "--verbose")->count > 0;
    if (!g->debug)
        sw_log_set_level(verbose ? SW_LOG_INFO : SW_LOG_WARN);
    if (verbose)
        cfg.summary_ms = 60000;

    sw_loop *loop = sw_loop_new();
    if (!loop) {
        fprintf(stderr, "Out of memory\n");
        return 1;
    }
    sw_rct_proxy *proxy;
    sw_err e = sw_rct_proxy_start(loop, &cfg, &proxy);
    if (e != SW_OK) {
        fprintf(stderr, "Unable to listen on %s:%u: %s\n", listen_host, (unsigned)cfg.listen_port,
                e == SW_ERR_BIND ? strerror(errno) : sw_err_message(e));
        sw_loop_free(loop);
        return 1;
    }
    uint16_t port = sw_rct_proxy_port(proxy);
    rc_opt *opf = rc_find(&cmd, "--port-file");
    if (opf->count && !rc_write_port_file(opf->value, port)) {
        fprintf(stderr, "Cannot write the port file %s: %s\n", opf->value, strerror(errno));
        sw_rct_proxy_stop(proxy);
        sw_loop_free(loop);
        return 1;
    }
    fprintf(stderr, "proxy listening on %s:%u for the inverter %s:%u; writes %s\n", listen_host, (unsigned)port,
            cfg.upstream_host, (unsigned)cfg.upstream_port,
            cfg.n_allow_write ? "allowed from the listed addresses only" : "refused (none allowed)");
    if (sw_stop_signals_watch(loop, true) != SW_OK) {
        fprintf(stderr, "Cannot watch signals: %s\n", strerror(errno));
        sw_rct_proxy_stop(proxy);
        sw_loop_free(loop);
        return 1;
    }
    e = sw_loop_run(loop);
    print_counters(proxy);
    sw_rct_proxy_stop(proxy);
    sw_stop_signals_unwatch(loop);
    sw_loop_free(loop);
    if (e != SW_OK) {
        fprintf(stderr, "Proxy stopped: %s\n", sw_err_message(e));
        return 1;
    }
    return 0;
}
