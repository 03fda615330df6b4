/*
 * sunwire/io_source.h: where bus bytes come from (serial port, TCP, file).
 *
 * One small backend table per kind of source, in the manner of libmodbus:
 * open, read with a timeout, close. The layers above only ever see chunks of
 * bytes with the wall-clock time they arrived (for a capture file, the time
 * recorded in it), so the protocol core cannot tell a live bus from a replay.
 * Every source is read-only: nothing here writes to the bus.
 *
 * sw_source_run() is the reconnect loop shared by every Tigo subcommand. It
 * follows taptap 0.2.0's loop (retry counting, delays, exit causes) and adds a
 * real idle timeout for TCP sessions that stay open but carry no data.
 */
#ifndef SUNWIRE_IO_SOURCE_H
#define SUNWIRE_IO_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/io_capture.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_source_kind {
    SW_SOURCE_SERIAL = 1,
    SW_SOURCE_TCP,
    SW_SOURCE_FILE
} sw_source_kind;

typedef struct sw_source_config {
    sw_source_kind kind;
    const char *path;        /* serial device, or file ("-" = stdin) */
    const char *host;        /* TCP */
    uint16_t port;
    int keepalive_idle_s;    /* TCP keepalive; 0 leaves the kernel default */
    int keepalive_interval_s;
    int keepalive_count;
    bool realtime;           /* file: pace chunks by their recorded times */
    double speed;            /* file + realtime: speed-up factor (1 = as recorded) */
} sw_source_config;

typedef struct sw_source sw_source;

typedef struct sw_source_backend {
    const char *name;
    sw_err (*open)(sw_source *s);
    /*
     * Wait up to timeout_ms (-1 = forever) for bytes. SW_OK with *n > 0 and the
     * arrival time in *unix_ns; SW_ERR_TIMEOUT when nothing came; SW_ERR_EOF at
     * the end of the input; SW_ERR_IO / SW_ERR_BAD_CAPTURE / SW_ERR_TRUNCATED on
     * failure (errno kept for SW_ERR_IO).
     */
    sw_err (*read)(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns, int timeout_ms);
    void (*close)(sw_source *s);
} sw_source_backend;

struct sw_source {
    const sw_source_backend *backend;
    sw_source_config cfg;
    int fd;
    /* file replay */
    bool is_pcapng;
    bool file_eof;
    sw_pcapng_reader capture;
    uint8_t *block_buf;           /* malloc'd by open, freed by close */
    uint8_t in_buf[8192];
    size_t in_len, in_pos;
    uint64_t file_size;           /* 0 when unknown (pipe) */
    uint64_t file_pos;
    int64_t first_ts_ns;          /* first recorded timestamp, for pacing */
    int64_t start_mono_ns;
    bool have_first_ts;
    const uint8_t *pend;          /* rest of a packet larger than the caller's buffer */
    size_t pend_len;
    int64_t pend_ts;
    uint64_t skipped_packets;     /* packets of other link types, not bus bytes */
};

/* Fill the backend for cfg->kind; nothing is opened yet. */
sw_err sw_source_init(sw_source *s, const sw_source_config *cfg);
sw_err sw_source_open(sw_source *s);
sw_err sw_source_read(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns, int timeout_ms);
void sw_source_close(sw_source *s);
/* Human description ("serial port /dev/ttyUSB0", "tcp 10.0.0.5:502", "file x.pcapng"). */
void sw_source_describe(const sw_source *s, char *out, size_t cap);
/* For files: fraction read so far in 0..1, or -1 when unknown. */
double sw_source_progress(const sw_source *s);

/* Serial port as taptap opens it: exclusive, raw 38400 8N1, no flow control. */
sw_err sw_serial_open(const char *path, int *fd_out);

/* ---- the reconnect loop ------------------------------------------------- */
typedef struct sw_run_options {
    uint64_t reconnect_timeout_s;   /* 0 = no idle timeout */
    uint32_t reconnect_retry;       /* 0 = retry forever */
    uint64_t reconnect_delay_s;
    const char *log_target;         /* e.g. "taptap" */
    /* Called between reads; a nonzero return stops the loop (SW_RUN_STOPPED). */
    int (*should_stop)(void *ctx);
    /* Called at every chunk; a nonzero return stops the loop (SW_RUN_STOPPED). */
    int (*on_bytes)(void *ctx, const uint8_t *data, size_t n, int64_t unix_ns);
    /* Called after each successful (re)open, may be NULL. */
    void (*on_open)(void *ctx, sw_source *s);
    void *ctx;
} sw_run_options;

typedef enum sw_run_result {
    SW_RUN_EOF = 0,            /* file source reached its end */
    SW_RUN_STOPPED,            /* a callback asked to stop */
    SW_RUN_OPEN_FAILED,        /* opening failed more than reconnect_retry times: exit 2 */
    SW_RUN_IDLE_EXCEEDED,      /* idle timeouts exceeded reconnect_retry: exit 3 */
    SW_RUN_INPUT_ERROR         /* a file source is unreadable or malformed: exit 1 */
} sw_run_result;

sw_run_result sw_source_run(sw_source *s, const sw_run_options *opt);

#ifdef __cplusplus
}
#endif
#endif
