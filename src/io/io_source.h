/*
 * io/io_source.h: where bus bytes come from (serial port, TCP, file).
 *
 * One small backend table per medium (serial, TCP, file), in the manner of libmodbus:
 * open, read, close. The layers above only ever see chunks of
 * bytes with the wall-clock time they arrived (for a capture file, the time
 * recorded in it), so the protocol core cannot tell a live bus from a replay.
 * Every source is read-only: nothing here writes to the bus.
 *
 * sw_source_run() runs a source on the event loop for every Tigo subcommand:
 * the loop is the only place that waits (for bytes, for a replayed packet's
 * time, for the pause before reopening). Its reconnect rules are
 * sw_reconnect's (below, shared with the daemon): taptap 0.2.0's retry
 * counting, delays and exit causes, plus a real idle timeout for TCP sessions
 * that stay open but carry no data.
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

/* Which backend the reader opens; the daemon's model reports sw_source_kind. */
typedef enum sw_source_medium {
    SW_SOURCE_MEDIUM_SERIAL = 1,
    SW_SOURCE_MEDIUM_TCP,
    SW_SOURCE_MEDIUM_FILE
} sw_source_medium;

typedef struct sw_source_config {
    sw_source_medium medium;
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
     * Read what is there: SW_OK with *n > 0 and the arrival time in *unix_ns
     * (for a capture, the recorded time); SW_ERR_TIMEOUT when a non-blocking
     * fd had nothing after all; SW_ERR_EOF at the end of the input;
     * SW_ERR_IO / SW_ERR_BAD_CAPTURE / SW_ERR_TRUNCATED on failure (errno kept
     * for SW_ERR_IO). A serial port or socket is read once (the caller's loop
     * said it is readable); a file is read until there is a chunk.
     */
    sw_err (*read)(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns);
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
    const uint8_t *pend;          /* bytes not handed out yet: a packet, or a piece of a raw file */
    size_t pend_len;
    int64_t pend_ts;              /* -1: raw bytes, stamped when handed out */
    bool pend_paced;              /* a replay waited for this packet's time already */
    uint64_t skipped_packets;     /* packets of other link types, not bus bytes */
};

/* Fill the backend for cfg->medium; nothing is opened yet. */
sw_err sw_source_init(sw_source *s, const sw_source_config *cfg);
sw_err sw_source_open(sw_source *s);
sw_err sw_source_read(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns);
/* A TCP source's fd, connected by the caller (sw_tcp_connector): keepalive is set and s owns it. */
sw_err sw_source_connected(sw_source *s, int fd);
void sw_source_close(sw_source *s);
/* Human description ("serial port /dev/ttyUSB0", "tcp 10.0.0.5:502", "file x.pcapng"). */
void sw_source_describe(const sw_source *s, char *out, size_t cap);
/* For files: fraction read so far in 0..1, or -1 when unknown. */
double sw_source_progress(const sw_source *s);

/* Serial port as taptap opens it: exclusive, raw 38400 8N1, no flow control. */
sw_err sw_serial_open(const char *path, int *fd_out);

/* ---- when to open, drop and reopen: one state machine, no clock -------------- */
/*
 * The reconnect rules every Tigo source follows, in the CLI and in the
 * daemon: open, and after a failed open or a lost session wait and open
 * again; drop a session that stays silent too long; give up after too many
 * failed opens or idle drops in a row (the CLI's --reconnect-retry). Every
 * call takes the caller's monotonic time in ms; sw_reconnect_next_ms says
 * when sw_reconnect_tick must be called next, so a loop can arm one timer.
 * The struct holds no pointers: it may be copied.
 */
typedef struct sw_reconnect_config {
    int64_t delay_ms;     /* pause before reopening */
    int64_t max_delay_ms; /* pauses double per failure in a row up to this; <= delay_ms: fixed pause */
    int64_t idle_ms;      /* drop an open session silent this long; 0 = never */
    uint32_t retry_limit; /* give up after more failed opens or idle drops in a row; 0 = never */
} sw_reconnect_config;

typedef enum sw_reconnect_state {
    SW_RECONNECT_CLOSED = 0, /* not started */
    SW_RECONNECT_OPENING,    /* the caller is opening */
    SW_RECONNECT_UP,         /* open */
    SW_RECONNECT_WAITING,    /* pausing before the next open */
    SW_RECONNECT_GAVE_UP
} sw_reconnect_state;

typedef enum sw_reconnect_action {
    SW_RECONNECT_NONE = 0,     /* nothing to do before sw_reconnect_next_ms */
    SW_RECONNECT_OPEN,         /* open the source now, then report opened / open_failed */
    SW_RECONNECT_DROP,         /* silent too long: close it, then report lost(idle = true) */
    SW_RECONNECT_GIVE_UP_OPEN, /* too many failed opens in a row */
    SW_RECONNECT_GIVE_UP_IDLE  /* too many idle drops in a row */
} sw_reconnect_action;

typedef struct sw_reconnect {
    sw_reconnect_config cfg;
    sw_reconnect_state state;
    uint32_t retries;     /* failed opens and idle drops since data last came */
    uint32_t failures;    /* failures of any kind since data last came (the backoff) */
    int64_t last_data_ms; /* last data, or the open */
    int64_t due_ms;       /* WAITING: when to open again */
    int64_t delay_ms;     /* the pause chosen at the last failure */
} sw_reconnect;

void sw_reconnect_init(sw_reconnect *r, const sw_reconnect_config *cfg);
/* Begin (or begin again at once): SW_RECONNECT_OPEN unless it gave up. */
sw_reconnect_action sw_reconnect_start(sw_reconnect *r, int64_t now_ms);
void sw_reconnect_opened(sw_reconnect *r, int64_t now_ms);
/* NONE (wait until sw_reconnect_next_ms) or GIVE_UP_OPEN. */
sw_reconnect_action sw_reconnect_open_failed(sw_reconnect *r, int64_t now_ms);
/* Bytes came: the failure counts start over. */
void sw_reconnect_data(sw_reconnect *r, int64_t now_ms);
/* The open session ended (closed, read error, or dropped as idle): NONE or GIVE_UP_IDLE. */
sw_reconnect_action sw_reconnect_lost(sw_reconnect *r, int64_t now_ms, bool idle);
/* Time passed: OPEN when a pause is over, DROP when the session went idle, else NONE. */
sw_reconnect_action sw_reconnect_tick(sw_reconnect *r, int64_t now_ms);
/* When to tick next (monotonic ms), or -1 when only an event can change anything. */
int64_t sw_reconnect_next_ms(const sw_reconnect *r);

/*
 * sw_reconnect on a loop: the one timer of a Tigo source, in the CLI and in
 * the daemon alike. It is armed for sw_reconnect_next_ms (the end of a pause
 * before reopening, or the idle limit of an open session, measured from its
 * last data) and ticks the state machine when due. The owner hears only what
 * it must act on: SW_RECONNECT_OPEN (open now) or SW_RECONNECT_DROP (the
 * session went silent: close it and report sw_reconnect_lost with idle). The
 * callback's return value is not used: a timer has nothing left to stop.
 * The loop holds a pointer to the struct while it is armed.
 */
typedef struct sw_reconnect_timer sw_reconnect_timer;
typedef int (*sw_reconnect_cb)(sw_reconnect_timer *t, sw_reconnect_action action, void *user);

struct sw_reconnect_timer {
    sw_reconnect rc;
    /* private */
    struct sw_loop *loop_;
    uint64_t timer_;
    sw_reconnect_cb cb_;
    void *user_;
};

void sw_reconnect_timer_init(sw_reconnect_timer *t, struct sw_loop *loop, const sw_reconnect_config *cfg,
                             sw_reconnect_cb cb, void *user);
/* (Re)arm for what the state machine waits for next; nothing armed when it waits for nothing. */
void sw_reconnect_timer_arm(sw_reconnect_timer *t);
void sw_reconnect_timer_stop(sw_reconnect_timer *t);

/* ---- the run, on the event loop ----------------------------------------- */
typedef struct sw_run_options {
    uint64_t reconnect_timeout_s;   /* 0 = no idle timeout */
    uint32_t reconnect_retry;       /* 0 = retry forever */
    uint64_t reconnect_delay_s;
    const char *log_target;         /* e.g. "taptap" */
    /* Called at every chunk; a nonzero return stops the run (SW_RUN_STOPPED). */
    int (*on_bytes)(void *ctx, const uint8_t *data, size_t n, int64_t unix_ns);
    /* Called after each successful (re)open, may be NULL. */
    void (*on_open)(void *ctx, sw_source *s);
    void *ctx;
} sw_run_options;

typedef enum sw_run_result {
    SW_RUN_EOF = 0,            /* file source reached its end */
    SW_RUN_STOPPED,            /* a callback asked to stop, or the loop was stopped */
    SW_RUN_OPEN_FAILED,        /* opening failed more than reconnect_retry times: exit 2 */
    SW_RUN_IDLE_EXCEEDED,      /* idle timeouts exceeded reconnect_retry: exit 3 */
    SW_RUN_INPUT_ERROR         /* a file source is unreadable or malformed: exit 1 */
} sw_run_result;

struct sw_loop;
/*
 * Open s and run it on loop until it ends (a file's end, giving up) or is
 * stopped: by on_bytes, or by anything else calling sw_loop_stop (the CLI's
 * signal watcher). Whatever the run put on the loop is off it when this
 * returns, and s is closed.
 */
sw_run_result sw_source_run(sw_source *s, struct sw_loop *loop, const sw_run_options *opt);

#ifdef __cplusplus
}
#endif
#endif
