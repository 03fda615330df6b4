/*
 * rct_cli.h: shared pieces of the RCT command group (internal to the program).
 *
 * The rctclient persona must accept and reject arguments the way Python's
 * click does (same usage errors, exit status 2), so the group has its own
 * small click-like option parser instead of getopt: options in any order,
 * "--opt value", "--opt=value", "-ovalue", bundled flags, "--" to end options.
 */
#ifndef SUNWIRE_CLI_RCT_CLI_H
#define SUNWIRE_CLI_RCT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "sunwire/rct.h"

enum rc_kind { RC_FLAG, RC_VALUE, RC_MULTI };

typedef struct rc_opt {
    const char *short_name;   /* "-h" or NULL */
    const char *long_name;    /* "--host" */
    enum rc_kind kind;
    const char *metavar;      /* "<host>" */
    const char *help;
    bool required;
    /* results */
    int count;
    const char *value;        /* last value given */
    const char *values[64];   /* RC_MULTI */
    size_t n_values;
} rc_opt;

typedef struct rc_cmd {
    const char *prog;         /* "rctclient read-value" */
    const char *usage_tail;   /* "[OPTIONS]" or "[OPTIONS] [NAME]..." */
    const char *help;         /* paragraph(s) under the usage line */
    rc_opt *opts;
    size_t n_opts;
    size_t max_pos;           /* positional arguments allowed */
    const char *pos[64];
    size_t n_pos;
} rc_cmd;

/* Parse. 0 = go on, otherwise the exit status to return (0 after --help, 2 after a usage error). */
int rc_parse(rc_cmd *cmd, int argc, char **argv, bool *help_shown);

#define RC_NAME_MAX 96
/*
 * What every subcommand does first: name it "<program> <sub>" (in name, which
 * cmd->prog then points to) and parse. -1 = go on; otherwise the exit status
 * to return at once (0 after --help, 2 after a usage error).
 */
int rc_start(rc_cmd *cmd, char name[RC_NAME_MAX], const char *program, const char *sub, int argc, char **argv);
/* Print a click-style usage error for cmd and return 2. */
int rc_usage_error(const rc_cmd *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void rc_print_help(const rc_cmd *cmd, FILE *out);
rc_opt *rc_find(rc_cmd *cmd, const char *long_name);
/* "'-p' / '--port'" as click names an option in messages. */
void rc_opt_label(const rc_opt *o, char *out, size_t cap);

/* Integer option value; usage error text as click words it. */
int rc_int(rc_cmd *cmd, const char *long_name, long long def, long long lo, long long hi, long long *out);
int rc_double(rc_cmd *cmd, const char *long_name, double def, double *out);

/* Global state of one invocation. */
typedef struct rc_global {
    sw_persona persona;
    const char *prog;     /* "rctclient" or "sunwire rct" */
    bool debug;
    bool frame_debug;
} rc_global;

/* Python-logging style debug line on stderr when g->debug: "date - logger - LEVEL - msg". */
void rc_debug(const rc_global *g, const char *logger, const char *level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Parse "0x959930BF" / "959930BF" / decimal-free hex; false when not a 32-bit hex number. */
bool rc_parse_id(const char *text, uint32_t *out);
/* Registry lookup by --id text or --name; NULL when unknown. */
const sw_rct_object *rc_lookup(const char *text, bool is_id);
/* Parse a time: Unix seconds, "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" (taken as device time). */
bool rc_parse_time(const char *text, int64_t *out);
/* "YYYY-MM-DDTHH:MM:SS" of a device timestamp. */
void rc_fmt_time(int64_t t, char out[32]);
/* --port-file: the bound port as one line, whole or not at all (through a renamed temporary). */
bool rc_write_port_file(const char *path, uint16_t port);

/* Subcommands (return exit status). */
int rc_cmd_read_value(const rc_global *g, int argc, char **argv);
int rc_cmd_simulator(const rc_global *g, int argc, char **argv);
int rc_cmd_write_value(const rc_global *g, int argc, char **argv);
int rc_cmd_history(const rc_global *g, int argc, char **argv);
int rc_cmd_events(const rc_global *g, int argc, char **argv);
int rc_cmd_registry(const rc_global *g, int argc, char **argv);
int rc_cmd_decode(const rc_global *g, int argc, char **argv);
int rc_cmd_encode(const rc_global *g, int argc, char **argv);
int rc_cmd_read_pcap(const rc_global *g, int argc, char **argv);
int rc_cmd_proxy(const rc_global *g, int argc, char **argv);

/* One JSON line describing a frame (decode, read-pcap); extra members are added by the caller first. */
struct sw_json;
void rc_frame_json(struct sw_json *j, const sw_rct_frame *f);
/* Human text of a frame: "READ battery.soc (0x959930BF)" / "RESPONSE battery.soc = 0.5 %". */
void rc_frame_text(const sw_rct_frame *f, char *out, size_t cap);

#endif
