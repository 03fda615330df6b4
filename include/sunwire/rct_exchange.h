/*
 * sunwire/rct_exchange.h: one RCT request and its reply, sans-I/O.
 *
 * The exchange owns one outstanding request: which command and object were
 * asked for, how many attempts are left, when the current one times out and
 * when the next may start. It is given every frame the receiver finds and
 * says what that frame is to the request; it is asked what to do next and
 * answers send, receive until t, pause until t, or done. It never reads a
 * clock, sleeps, allocates or touches a socket: every time comes from the
 * caller (milliseconds on any monotonic clock). The blocking client
 * (rct_io/rct_client.h) runs it in a loop until done; the daemon's poller
 * runs it from loop callbacks. Both therefore accept, skip and retry
 * replies by the same rules:
 *
 *   - a reply counts only when its command is a response of the request's
 *     kind (plant or not), its object id (and plant address) is the one asked
 *     for and its payload decodes completely for the expected type: devices
 *     cut payloads short behind a valid CRC when interrupted;
 *   - an answer to a logger query must echo the query time in its first word;
 *     other echoes are answers to earlier queries (stale);
 *   - a string shows no cut in its length, so one without a NUL terminator is
 *     believed only when the next attempt brings the same bytes;
 *   - the inverter's bridge copies every client's replies to everyone, so
 *     frames for other objects are normal and only counted.
 */
#ifndef SUNWIRE_RCT_EXCHANGE_H
#define SUNWIRE_RCT_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/rct_frame.h"
#include "sunwire/rct_value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sw_rct_exchange_config {
    int64_t timeout_ms;     /* per attempt */
    int retries;            /* further attempts after the first */
    int64_t backoff_ms;     /* pause before the first retry, doubled each time (0 = none) */
    int64_t backoff_max_ms; /* cap of the pause */
    bool plant;             /* PLANT_* replies must carry `address` */
    uint32_t address;
    /* A cut-short reply ends the attempt at once (the next one starts after
     * the backoff). When false the attempt goes on until its timeout, in case
     * a complete copy follows. */
    bool cut_ends_attempt;
} sw_rct_exchange_config;

/* What one received frame is to the outstanding request. */
typedef enum sw_rct_reply_class {
    SW_RCT_REPLY_ACCEPTED = 0, /* the answer; the exchange is done */
    SW_RCT_REPLY_FOREIGN,      /* another object, command or address, or nothing outstanding */
    SW_RCT_REPLY_STALE,        /* the right object, but the answer to an earlier logger query */
    SW_RCT_REPLY_CUT_SHORT,    /* the right object, but the payload does not decode */
    SW_RCT_REPLY_ASK_AGAIN     /* a string without terminator, not yet confirmed: send again
                                  (when retries+1 asks are used up, the exchange ends
                                  with SW_ERR_RCT_BAD_PAYLOAD instead) */
} sw_rct_reply_class;

/* What the caller does next. */
typedef enum sw_rct_step {
    SW_RCT_STEP_SEND = 0, /* send the request now, then call sw_rct_exchange_sent */
    SW_RCT_STEP_RECEIVE,  /* push received frames; the attempt times out at *until_ms */
    SW_RCT_STEP_PAUSE,    /* send nothing before *until_ms (retry backoff) */
    SW_RCT_STEP_DONE      /* sw_rct_exchange_result says how it ended */
} sw_rct_step;

typedef struct sw_rct_exchange_counters {
    uint64_t attempts;  /* requests sent */
    uint64_t retries;   /* attempts after the first, asks again included */
    uint64_t timeouts;  /* attempts that ended without a usable answer in time */
    uint64_t foreign;
    uint64_t stale;
    uint64_t cut_short;
    uint64_t asked_again;
} sw_rct_exchange_counters;

typedef struct sw_rct_exchange {
    sw_rct_exchange_config cfg;
    sw_rct_exchange_counters counters; /* lifetime counts; zero them when you like */
    /* private */
    uint8_t command_;
    uint32_t id_;
    sw_rct_type expect_;
    bool has_query_;
    uint32_t query_;
    uint8_t state_;
    int tries_;        /* attempts ended so far */
    int asks_;         /* asks again so far */
    int64_t until_ms_; /* attempt deadline or end of the pause */
    int64_t backoff_ms_;
    sw_err result_;
    sw_err last_;      /* how the last attempt ended */
    bool have_unterminated_;
    size_t unterminated_len_;
    uint64_t unterminated_hash_;
} sw_rct_exchange;

/* Defaults: 2000 ms per attempt, 3 retries, backoff 100 ms doubling up to 2000 ms. */
SW_API void sw_rct_exchange_config_default(sw_rct_exchange_config *cfg);
/* cfg NULL = defaults. The exchange starts idle (every frame is foreign). */
SW_API void sw_rct_exchange_init(sw_rct_exchange *ex, const sw_rct_exchange_config *cfg);

/*
 * Start a request for `id` with `command` whose reply payload must decode as
 * `expect`; `query` (may be NULL) is the logger query time the reply must echo.
 * Forgets any earlier request. The first step is SEND.
 */
SW_API void sw_rct_exchange_start(sw_rct_exchange *ex, uint8_t command, uint32_t id, sw_rct_type expect,
                           const uint32_t *query);

/* What to do at now_ms. *until_ms (may be NULL) is set for RECEIVE and PAUSE. */
SW_API sw_rct_step sw_rct_exchange_next(sw_rct_exchange *ex, int64_t now_ms, int64_t *until_ms);

/* The request went out at now_ms: the attempt's timeout starts. */
SW_API void sw_rct_exchange_sent(sw_rct_exchange *ex, int64_t now_ms);

/*
 * The attempt could not be made or was lost (connect failed, connection
 * closed): it ends now with `err`, which is the result if no attempt is left.
 */
SW_API void sw_rct_exchange_failed(sw_rct_exchange *ex, sw_err err, int64_t now_ms);

/*
 * One good frame from the receiver, at now_ms. On ACCEPTED the frame's
 * payload is the answer (copy it before pushing more bytes to the receiver).
 */
SW_API sw_rct_reply_class sw_rct_exchange_push_frame(sw_rct_exchange *ex, const sw_rct_frame *frame, int64_t now_ms);

/* Waiting for a reply to a request that was sent. */
SW_API bool sw_rct_exchange_waiting(const sw_rct_exchange *ex);

/*
 * SW_OK once accepted. When every attempt failed: SW_ERR_TIMEOUT (silence),
 * SW_ERR_RCT_BAD_PAYLOAD (the last attempt got a cut answer, or a string never
 * repeated itself), or the error passed to sw_rct_exchange_failed.
 * SW_ERR_NOT_FOUND while there is no result yet.
 */
SW_API sw_err sw_rct_exchange_result(const sw_rct_exchange *ex);

/* "ACCEPTED", "FOREIGN", ... */
SW_API const char *sw_rct_reply_class_name(sw_rct_reply_class c);

#ifdef __cplusplus
}
#endif
#endif
