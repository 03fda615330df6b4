/*
 * tigo_args.h: the Tigo command line, parsed the way taptap 0.2.0's clap
 * parser does it (subcommand first, then its flags; --flag value or
 * --flag=value; duplicates, unknown flags and unparsable numbers are errors;
 * defaults never trigger requires/conflicts rules, only explicit flags do).
 *
 * Pure: no printing and no exit. The caller gets a filled struct, or an error
 * text laid out like clap's and the exit code to use.
 */
#ifndef SUNWIRE_CLI_TIGO_ARGS_H
#define SUNWIRE_CLI_TIGO_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

typedef enum tigo_cmd {
    TIGO_CMD_NONE = 0,
    TIGO_CMD_LIST_SERIAL_PORTS,
    TIGO_CMD_OBSERVE,
    TIGO_CMD_PEEK_BYTES,
    TIGO_CMD_PEEK_FRAMES,
    TIGO_CMD_PEEK_ACTIVITY,
    TIGO_CMD_RECORD,
    TIGO_CMD_HELP
} tigo_cmd;

typedef enum tigo_action {
    TIGO_ACTION_RUN = 0,    /* run cmd */
    TIGO_ACTION_HELP,       /* print help for `help_cmd` (TIGO_CMD_NONE = top level) on stdout, exit 0 */
    TIGO_ACTION_VERSION,    /* print the version on stdout, exit 0 */
    TIGO_ACTION_USAGE_ERROR /* print `error` on stderr, exit 2 */
} tigo_action;

typedef enum tigo_format {
    TIGO_FORMAT_FORK = 0,   /* litinoveweedle/taptap 0.2.0: flat lines + infrastructure reports */
    TIGO_FORMAT_UPSTREAM    /* willglynn/taptap 0.1.1: nested gateway/node objects */
} tigo_format;

typedef struct tigo_args {
    tigo_action action;
    tigo_cmd cmd;
    tigo_cmd help_cmd;
    /* source */
    const char *serial;
    const char *tcp;
    const char *file;
    uint16_t port;
    uint64_t reconnect_timeout;
    uint32_t reconnect_retry;
    uint64_t reconnect_delay;
    uint64_t keepalive_idle;
    uint64_t keepalive_interval;
    uint32_t keepalive_count;
    bool realtime;
    double speed;
    /* per subcommand */
    bool raw;
    bool json;
    const char *persistent_file;
    tigo_format format;
    bool reference;          /* observe: reproduce taptap's output byte for byte */
    const char *out;
    bool no_redact;          /* peek-bytes, peek-frames, peek-activity, record: keep the radio key */
    char error[1024];
} tigo_args;

/* argv[0] is the group's own name; `prog` is what usage lines show. */
void tigo_args_parse(int argc, char **argv, const char *prog, sw_persona persona, tigo_args *a);

/* Name of a subcommand as typed ("observe", ...). */
const char *tigo_cmd_name(tigo_cmd cmd);

#endif
