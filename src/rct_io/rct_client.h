/*
 * rct_io/rct_client.h: talking to one RCT Power inverter over TCP.
 *
 * This is the I/O edge above the sans-I/O protocol core (sunwire/rct.h). It
 * trusts the core to frame and decode bytes, and trusts nothing the network
 * sends: the inverter's bridge copies every reply to every connected client,
 * answers may be late, lost, cut short with a valid CRC, or carry a bad CRC.
 * So every request waits for a reply with the right command, object id (and
 * plant address) whose payload decodes completely for the object's type;
 * everything else is skipped and counted, and the request is retried with
 * exponential backoff, reconnecting when the peer closed. Those rules live in
 * the sans-I/O exchange (sunwire/rct_exchange.h); this client only runs it
 * on a private event loop (sunwire/loop.h) until it is done: each call
 * blocks its caller, but only the loop waits. A request that gets
 * no usable answer ends after a bounded time, never hangs: SW_ERR_TIMEOUT when
 * the device stayed silent, SW_ERR_CLOSED or SW_ERR_IO (errno in last_errno)
 * when the last attempt lost the connection.
 *
 * One request at a time per connection: devices are built for one client and
 * cut answers short when a new request arrives while they are answering.
 */
#ifndef SUNWIRE_RCT_CLIENT_H
#define SUNWIRE_RCT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/rct.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sw_rct_client_config {
    int connect_timeout_ms;  /* default 5000 */
    int request_timeout_ms;  /* per attempt; default 2000 */
    int retries;             /* further attempts after the first; default 3 */
    int backoff_ms;          /* pause before the first retry, doubled each time; default 100 */
    int backoff_max_ms;      /* cap of the pause; default 2000 */
    bool plant;              /* use PLANT_* commands with `address` */
    uint32_t address;
} sw_rct_client_config;

void sw_rct_client_config_default(sw_rct_client_config *cfg);

typedef struct sw_rct_client_counters {
    uint64_t requests;        /* requests asked for by the caller */
    uint64_t attempts;        /* frames sent, retries included */
    uint64_t retries;
    uint64_t timeouts;        /* attempts that got no usable answer in time */
    uint64_t skipped_foreign; /* good frames meant for someone else (other id, command or address) */
    uint64_t crc_errors;
    uint64_t frame_errors;    /* invalid command, bad or excessive length, cut-off frames */
    uint64_t decode_errors;   /* right id, but the payload does not decode (cut short) */
    uint64_t stale;           /* right id, but the echo of an earlier logger query */
    uint64_t reconnects;
} sw_rct_client_counters;

typedef struct sw_rct_client sw_rct_client;

/* Optional hook for --frame-debug style tracing: dir is "send" or "recv". It
 * only watches the bytes go by, so it has nothing to stop and returns nothing. */
typedef void (*sw_rct_trace_cb)(sw_rct_client *c, const char *dir, const uint8_t *data, size_t len, void *user);

struct sw_rct_client {
    sw_rct_client_config cfg;
    sw_rct_client_counters counters;
    sw_rct_trace_cb trace;
    void *trace_user;
    /* The accepted reply of the last successful request (for debug output). */
    uint8_t last_command;
    uint32_t last_address;
    /* errno behind the last broken connection (SW_ERR_IO, SW_ERR_CONNECT);
     * 0 when the peer closed it cleanly (SW_ERR_CLOSED). */
    int last_errno;
    /* private */
    int fd_;
    struct sw_loop *loop_; /* private loop the requests run on (made on first use) */
    char host_[256];
    uint16_t port_;
    size_t in_len_, in_off_;
    uint8_t in_[4096];
    size_t reply_len_;
    uint8_t reply_[SW_RCT_PAYLOAD_MAX + 8];
    sw_rct_receiver rx_;
};

/*
 * Connect. The struct is large (about 130 KiB): allocate it, do not put it on
 * a small stack. cfg NULL = defaults. SW_ERR_RESOLVE, SW_ERR_CONNECT,
 * SW_ERR_TIMEOUT.
 */
sw_err sw_rct_client_open(sw_rct_client *c, const char *host, uint16_t port,
                          const sw_rct_client_config *cfg);
void sw_rct_client_close(sw_rct_client *c);

/*
 * Send `command` for `id` with payload and wait for the matching reply whose
 * payload decodes as `expect`. For writes of a logger timestamp (query
 * non-NULL) the reply must also echo *query in its first word. A STRING
 * without NUL terminator is asked for again until two answers agree. On success
 * *reply points to the payload (valid until the next call on c).
 * SW_ERR_TIMEOUT when no attempt got a usable answer; SW_ERR_CLOSED (peer hung
 * up), SW_ERR_IO (last_errno, e.g. ECONNRESET) or a connect error when the last
 * attempt broke that way. SW_ERR_INVALID_ARGUMENT at open for an empty host.
 */
sw_err sw_rct_client_request(sw_rct_client *c, uint8_t command, uint32_t id, const uint8_t *payload,
                             size_t payload_len, sw_rct_type expect, const uint32_t *query,
                             const uint8_t **reply, size_t *reply_len);

/* Payload of the last accepted reply (valid until the next call on c). */
void sw_rct_client_last_reply(const sw_rct_client *c, const uint8_t **payload, size_t *len);

/*
 * Read an object's current value, decoded with its response type into *out.
 * Strings, raw bytes and composite storage point into the client (valid until
 * the next call) or into storage[cap] (see sw_rct_value_storage_size).
 * Logger objects (time series, event table) are queried with the current time.
 */
sw_err sw_rct_client_read(sw_rct_client *c, const sw_rct_object *obj, sw_rct_value *out,
                          void *storage, size_t cap);

/*
 * Write a value of the object's request type. Devices may or may not answer a
 * write; an answer is waited for briefly and ignored. Verification is the
 * caller's business (read back). The value passes sw_rct_value_check_write
 * first; a refused value is returned as its error and nothing is sent.
 */
sw_err sw_rct_client_write(sw_rct_client *c, const sw_rct_object *obj, const sw_rct_value *v);

/* Called for each time-series point / event row; return non-zero to stop. */
typedef int (*sw_rct_point_cb)(sw_rct_client *c, const sw_rct_object *obj, uint32_t timestamp, float value,
                               void *user);
typedef int (*sw_rct_event_cb)(sw_rct_client *c, const sw_rct_event_row *row, void *user);

/*
 * Download a logger object for device times [from, to): query at `to`, then
 * walk backwards from the oldest timestamp received until it is below `from`,
 * an answer brings nothing older, or max_queries is reached (0 = 1000).
 * Points come out in the order received, each exactly once, only inside the
 * range. *queries_out (may be NULL) counts queries made.
 */
sw_err sw_rct_client_timeseries(sw_rct_client *c, const sw_rct_object *obj, uint32_t from, uint32_t to,
                                unsigned max_queries, sw_rct_point_cb cb, void *user,
                                unsigned *queries_out);
sw_err sw_rct_client_events(sw_rct_client *c, uint32_t from, uint32_t to, unsigned max_queries,
                            sw_rct_event_cb cb, void *user, unsigned *queries_out);

/* Object id of the event table (logger.error_log_time_stamp). */
#define SW_RCT_EVENT_TABLE_ID 0x6F3876BCu

#ifdef __cplusplus
}
#endif
#endif
