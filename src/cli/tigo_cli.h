/*
 * tigo_cli.h: pieces shared by the Tigo subcommands (cmd_tigo.c dispatches,
 * tigo_peek.c and tigo_observe.c run them).
 *
 * Every subcommand that reads the bus goes through tigo_run(): it turns the
 * parsed flags into a source, runs the reconnect loop and maps its outcome to
 * taptap's exit codes. Subcommands only see chunks of bytes with their times.
 */
#ifndef SUNWIRE_CLI_TIGO_CLI_H
#define SUNWIRE_CLI_TIGO_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/tigo_args.h"

typedef struct tigo_cli {
    const tigo_args *args;
    const char *prog;
    sw_persona persona;
    const char *log_target;   /* "taptap" or "sunwire::tigo" */
    int out_failed;           /* stdout could not be written: exit 1 */
    /* Set while one input chunk is decoded: lines are buffered and flushed
     * together when the chunk is done, before the next read can block. */
    bool in_chunk;
} tigo_cli;

/* Returns nonzero to stop the run. */
typedef int (*tigo_bytes_cb)(void *ctx, const uint8_t *data, size_t n, int64_t unix_ns);

/* Run the source loop; returns the exit code (0, 1, 2 or 3). */
int tigo_run(tigo_cli *cli, tigo_bytes_cb on_bytes, void *ctx);

/* Write a whole line (text + '\n') to stdout and flush; on failure sets out_failed. */
int tigo_emit_line(tigo_cli *cli, const char *text, size_t len);
/* Write raw bytes to stdout and flush. */
int tigo_emit_bytes(tigo_cli *cli, const void *data, size_t len);
/* Grow a malloc'd buffer to at least `need` bytes; logs and returns -1 when memory runs out. */
int tigo_buffer_reserve(tigo_cli *cli, uint8_t **buf, size_t *cap, size_t need);

int tigo_cmd_peek_bytes(tigo_cli *cli);
int tigo_cmd_peek_frames(tigo_cli *cli);
int tigo_cmd_peek_activity(tigo_cli *cli);
int tigo_cmd_record(tigo_cli *cli);
int tigo_cmd_observe(tigo_cli *cli);
int tigo_cmd_list_serial_ports(tigo_cli *cli);

#endif
