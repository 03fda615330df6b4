/*
 * main.c: the sunwire program's entry point and dispatch.
 *
 *   taptap ...            -> Tigo group, taptap persona (argv[0] is a link named taptap)
 *   rctclient ...         -> RCT group, rctclient persona
 *   sunwire tigo ...      -> Tigo group, sunwire persona
 *   sunwire taptap ...    -> Tigo group, taptap persona
 *   sunwire rct ...       -> RCT group, sunwire persona
 *   sunwire rctclient ... -> RCT group, rctclient persona
 *
 * The installed taptap and rctclient are programs of their own (taptap.c,
 * rctclient.c) that run the same groups; a link to sunwire under either name
 * still works.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "web/http.h"
#include "sunwire_config.h"

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void usage(FILE *out)
{
    fprintf(out,
            "sunwire %s: local, offline monitoring of Tigo TAP buses and RCT Power inverters\n"
            "\n"
            "Usage: sunwire <GROUP> <COMMAND> [OPTIONS]\n"
            "\n"
            "Groups:\n"
            "  tigo       Tigo TAP bus: observe, peek-bytes, peek-frames, peek-activity, record, ...\n"
            "  taptap     the same commands, behaving exactly like taptap 0.2.0\n"
            "  rct        RCT Power inverters: read-value, write-value, decode, encode, registry, ...\n"
            "  rctclient  the same commands, behaving exactly like rctclient\n"
            "\n"
            "Daemon:\n"
            "  run        observe buses and inverters; publish to MQTT/Home Assistant, Prometheus,\n"
            "             InfluxDB, the SQLite history and the dashboard\n"
            "  history    export the stored history as CSV or JSON\n"
            "  demo       the whole product on built-in simulators, no hardware needed\n"
            "\n"
            "Other commands:\n"
            "  features   list the optional features of this build\n"
            "  hash-password  the hashed password or token the web server's configuration keeps\n"
            "  help       this text\n"
            "  version    print the version\n"
            "\n"
            "Run `sunwire <GROUP> --help` for the commands of a group.\n",
            SUNWIRE_VERSION);
}

int main(int argc, char **argv)
{
    /* A closed stdout must not kill the process silently: writes fail with EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);

    const char *self = base_name(argc > 0 ? argv[0] : "sunwire");
    if (strcmp(self, "taptap") == 0)
        return sw_cli_tigo(argc, argv, "taptap", SW_PERSONA_TAPTAP);
    if (strcmp(self, "rctclient") == 0)
        return sw_cli_rct(argc, argv, "rctclient", SW_PERSONA_RCTCLIENT);

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *group = argv[1];
    if (strcmp(group, "tigo") == 0)
        return sw_cli_tigo(argc - 1, argv + 1, "sunwire tigo", SW_PERSONA_SUNWIRE);
    if (strcmp(group, "taptap") == 0)
        return sw_cli_tigo(argc - 1, argv + 1, "taptap", SW_PERSONA_TAPTAP);
    if (strcmp(group, "rct") == 0)
        return sw_cli_rct(argc - 1, argv + 1, "sunwire rct", SW_PERSONA_SUNWIRE);
    if (strcmp(group, "rctclient") == 0)
        return sw_cli_rct(argc - 1, argv + 1, "rctclient", SW_PERSONA_RCTCLIENT);
    if (strcmp(group, "run") == 0)
        return sw_cli_run(argc - 1, argv + 1);
    if (strcmp(group, "history") == 0)
        return sw_cli_history(argc - 1, argv + 1);
    if (strcmp(group, "demo") == 0)
        return sw_cli_demo(argc - 1, argv + 1);
    if (strcmp(group, "features") == 0) {
        printf("%s\n", SUNWIRE_FEATURE_LIST);
#if SUNWIRE_HAVE_MHD
        /* Known only at run time: whether this libmicrohttpd was built with GnuTLS. */
        if (sw_http_tls_supported())
            printf("HTTPS for the dashboard and /metrics (tls_cert, tls_key): enabled (libmicrohttpd with GnuTLS)\n");
        else
            printf("HTTPS for the dashboard and /metrics (tls_cert, tls_key): DISABLED (install libgnutls28-dev)\n");
#endif
        return 0;
    }
    if (strcmp(group, "hash-password") == 0)
        return sw_cli_hash_password(argc - 1, argv + 1);
    if (strcmp(group, "version") == 0 || strcmp(group, "--version") == 0 || strcmp(group, "-V") == 0) {
        printf("sunwire %s\n", SUNWIRE_VERSION);
        return 0;
    }
    if (strcmp(group, "help") == 0 || strcmp(group, "--help") == 0 || strcmp(group, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "sunwire: unknown group or command '%s'\n\n", group);
    usage(stderr);
    return 2;
}
