/*
 * rct_io/rct_sim.h: a simulated RCT Power inverter.
 *
 * Two layers:
 *   - sw_rct_sim_answer (sans-I/O): one received frame in, the bytes to send
 *     back out. Values come from the simulated household (sim/sim.h) at
 *     the time the caller passes in, so answers are reproducible from the
 *     seed; or, with static_values, they are exactly what rctclient's own
 *     simulator sends (compatibility proofs). It trusts the frame layer's
 *     parsing and nothing about the request itself: unknown ids, odd commands
 *     and payloads that do not decode are ignored, never fatal.
 *   - sw_rct_sim_server: the TCP edge on the event loop (sunwire/loop.h),
 *     many clients, any number of frames per read and frames split across
 *     reads; sw_rct_sim_serve runs it on a loop of its own until told to stop.
 *
 * Opt-in faults reproduce what real devices do (see docs/cli-rct.md): cut
 * payloads with a valid CRC, lost replies, late replies, and replies for an
 * object nobody asked for (the device's bridge copies every client's answers
 * to all clients). Each has a rate; which requests are hit is decided by
 * hashing the seed with a request counter, so a run is repeatable.
 */
#ifndef SUNWIRE_RCT_SIM_H
#define SUNWIRE_RCT_SIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "sunwire/rct.h"
#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_RCT_SIM_MAX_PLANT 16
#define SW_RCT_SIM_MAX_WRITES 64
#define SW_RCT_SIM_WRITE_MAX 256
/* Enough for any answer the simulator builds (two frames at most). */
#define SW_RCT_SIM_REPLY_MAX 8192

typedef struct sw_rct_sim_faults {
    double truncate;   /* rate 0..1: payload cut short, CRC valid */
    double drop;       /* rate: no reply at all */
    double delay;      /* rate: reply sent delay_ms late */
    double foreign;    /* rate: a reply for another object goes out first */
    int delay_ms;      /* default 300 */
    double ignore_write;   /* rate: a write is neither stored nor answered, as devices sometimes do */
    uint64_t revert_after; /* a written value is forgotten after this many further requests, as if the
                              device restarted (0 = kept) */
} sw_rct_sim_faults;

typedef struct sw_rct_sim_config {
    sw_sim_config model;
    bool static_values;  /* answer READ like rctclient's simulator, nothing else */
    uint32_t plant_addresses[SW_RCT_SIM_MAX_PLANT]; /* PLANT_* requests answered for these */
    size_t n_plant;
    sw_rct_sim_faults faults;
} sw_rct_sim_config;

typedef struct sw_rct_sim_counters {
    uint64_t requests, answered, ignored, writes, queries;
    uint64_t truncated, dropped, delayed, foreign;
    uint64_t refused_writes;  /* writes outside a control's documented limits (rct/rct_control.h) */
    uint64_t ignored_writes;  /* writes lost to faults.ignore_write */
    uint64_t reverted;        /* written values forgotten (faults.revert_after) */
    /* interrupt mode of the server: answers cut by a request that came while they were being
     * prepared, and those that went to the connection of that request instead */
    uint64_t interrupted, misrouted;
} sw_rct_sim_counters;

typedef struct sw_rct_sim_stored {
    uint32_t id, address;
    uint16_t len;
    uint8_t data[SW_RCT_SIM_WRITE_MAX];
    uint64_t at_request;  /* the request counter when it was written */
} sw_rct_sim_stored;

typedef struct sw_rct_sim {
    sw_rct_sim_config cfg;
    sw_rct_sim_counters counters;
    /* Values clients wrote, answered instead of the model's (volatile, like the device's RAM). */
    sw_rct_sim_stored written[SW_RCT_SIM_MAX_WRITES];
    size_t n_written;
} sw_rct_sim;

/* What to do with an answer. */
typedef struct sw_rct_sim_reply {
    size_t len;        /* bytes written to out (0 = stay silent) */
    int delay_ms;      /* send them this much later */
    bool truncated, dropped, foreign;
} sw_rct_sim_reply;

void sw_rct_sim_config_default(sw_rct_sim_config *cfg, uint64_t seed);
void sw_rct_sim_init(sw_rct_sim *s, const sw_rct_sim_config *cfg);

/*
 * Answer one request at simulated time now_s (Unix seconds, UTC).
 * out[cap] should hold SW_RCT_SIM_REPLY_MAX bytes. SW_ERR_NO_SPACE when it
 * does not. Frames with a bad CRC must not be passed in.
 */
sw_err sw_rct_sim_answer(sw_rct_sim *s, const sw_rct_frame *req, int64_t now_s, uint8_t *out, size_t cap,
                         sw_rct_sim_reply *r);

/*
 * The payload the simulator answers a READ of obj with (no faults, plant
 * address 0 = the device itself). SW_ERR_NOT_FOUND when it stays silent.
 */
sw_err sw_rct_sim_payload(const sw_rct_sim *s, const sw_rct_object *obj, uint32_t address, int64_t now_s,
                          uint8_t *out, size_t cap, size_t *len);

/*
 * Payload of the answer to a logger query (WRITE of device time q) for a
 * time-series object or the event table. Device time is the house's wall
 * clock written as if it were UTC, as real devices do.
 */
sw_err sw_rct_sim_logger_payload(const sw_rct_sim *s, const sw_rct_object *obj, uint32_t q, uint8_t *out,
                                 size_t cap, size_t *len);

/* ---- the TCP edge ----------------------------------------------------------- */

typedef enum sw_rct_sim_log_kind {
    SW_RCT_SIM_LOG_LISTEN,   /* text: "host:port" */
    SW_RCT_SIM_LOG_ACCEPT,   /* peer set */
    SW_RCT_SIM_LOG_CLOSE,
    SW_RCT_SIM_LOG_READ,     /* obj, reply hex */
    SW_RCT_SIM_LOG_WRITE,    /* obj, request payload */
    SW_RCT_SIM_LOG_BAD_FRAME,/* err */
    SW_RCT_SIM_LOG_IGNORED,  /* frame not answered (unknown id, ...) */
    SW_RCT_SIM_LOG_BYTES     /* raw bytes read (debug) */
} sw_rct_sim_log_kind;

typedef struct sw_rct_sim_log_event {
    sw_rct_sim_log_kind kind;
    const char *peer;            /* "127.0.0.1:50412" */
    uint16_t peer_port;
    const sw_rct_frame *frame;
    const sw_rct_object *obj;
    const uint8_t *data;         /* reply bytes, or raw bytes read */
    size_t len;
    sw_err err;
    const char *text;
} sw_rct_sim_log_event;

typedef struct sw_rct_sim_server sw_rct_sim_server;

/* Log hook: it watches what the server does and steers nothing, so it returns nothing. */
typedef void (*sw_rct_sim_log_cb)(sw_rct_sim_server *srv, const sw_rct_sim_log_event *ev, void *user);

typedef struct sw_rct_sim_server_config {
    const char *host;          /* NULL = 127.0.0.1 */
    uint16_t port;             /* 0 = any free port */
    int64_t start_s;           /* simulated time when serving starts */
    double speed;              /* simulated seconds per real second; 0 = time stands still */
    /* Simulated Unix seconds now, instead of start_s and speed (e.g. another simulator's clock). */
    int64_t (*clock)(void *user);
    void *clock_user;
    bool broadcast;            /* copy every reply to every client, like the device's bridge */
    /* Behave like a real device with concurrent requests: an answer takes answer_ms
     * to prepare, and a request that arrives meanwhile, on any connection, cuts it
     * short (valid CRC, payload cut where the preparation had got to) and sends it
     * at once to the connection of the interrupting request. */
    bool interrupt_concurrent;
    int answer_ms;             /* default 30 with interrupt_concurrent */
    size_t max_clients;        /* default 64; also limited by the loop's SW_LOOP_MAX_FDS */
    volatile sig_atomic_t *stop; /* sw_rct_sim_serve ends when *stop becomes non-zero */
    sw_rct_sim_log_cb log;
    void *log_user;
    /* sw_rct_sim_serve calls this once listening, with the bound port (e.g. to print it). */
    void (*ready)(sw_rct_sim_server *srv, uint16_t port, void *user);
    void *ready_user;
} sw_rct_sim_server_config;

/*
 * Listen and serve from `loop` (which the caller runs) until
 * sw_rct_sim_server_stop. s and loop must outlive the server; cfg is
 * copied. SW_ERR_BIND / SW_ERR_RESOLVE when it cannot listen.
 */
sw_err sw_rct_sim_server_start(sw_rct_sim *s, sw_loop *loop, const sw_rct_sim_server_config *cfg,
                               sw_rct_sim_server **out);
/* The port it listens on (the bound one when cfg->port was 0). */
uint16_t sw_rct_sim_server_port(const sw_rct_sim_server *srv);
/* Close every connection and the listening socket, and free the server. */
void sw_rct_sim_server_stop(sw_rct_sim_server *srv);

/* Serve on a loop of its own until *cfg->stop. SW_ERR_BIND / SW_ERR_RESOLVE when it cannot listen. */
sw_err sw_rct_sim_serve(sw_rct_sim *s, const sw_rct_sim_server_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
