/*
 * rct_client.c: request/reply over TCP with validation, retries and
 * reconnects (see rct_io/rct_client.h).
 *
 * Why a reply is accepted only when its payload decodes: devices interrupted
 * by another request cut the payload and still send a valid CRC, so the CRC
 * alone says nothing about completeness. Strings are the one type where a cut
 * cannot be seen from the length; a string without its NUL terminator is
 * therefore only believed when a second read returns the same bytes.
 */
#include "rct_io/rct_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sunwire/core.h"
#include "io/net.h"
#include "sunwire/loop.h"
#include "sunwire/rct_exchange.h"

void sw_rct_client_config_default(sw_rct_client_config *cfg)
{
    /* Request timing is the exchange's; only connecting is the client's own. */
    sw_rct_exchange_config x;
    sw_rct_exchange_config_default(&x);
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_ms = 5000;
    cfg->request_timeout_ms = (int)x.timeout_ms;
    cfg->retries = x.retries;
    cfg->backoff_ms = (int)x.backoff_ms;
    cfg->backoff_max_ms = (int)x.backoff_max_ms;
}

static sw_err do_connect(sw_rct_client *c)
{
    sw_err e = sw_tcp_connect(c->host_, c->port_, c->cfg.connect_timeout_ms, &c->fd_);
    if (e != SW_OK) {
        c->last_errno = errno;
        c->fd_ = -1;
        return e;
    }
    c->in_len_ = c->in_off_ = 0;
    sw_rct_receiver_init(&c->rx_);
    return SW_OK;
}

sw_err sw_rct_client_open(sw_rct_client *c, const char *host, uint16_t port, const sw_rct_client_config *cfg)
{
    memset(&c->counters, 0, sizeof c->counters);
    c->reply_len_ = 0;
    c->last_command = 0;
    c->last_address = 0;
    c->last_errno = 0;
    c->trace = NULL;
    c->trace_user = NULL;
    if (cfg)
        c->cfg = *cfg;
    else
        sw_rct_client_config_default(&c->cfg);
    c->fd_ = -1;
    c->loop_ = NULL;
    if (!host || !host[0] || strlen(host) >= sizeof c->host_)
        return SW_ERR_INVALID_ARGUMENT;
    strcpy(c->host_, host);
    c->port_ = port;
    c->fd_ = -1;
    return do_connect(c);
}

/* Forget a broken connection; the next attempt connects again. */
static void drop_connection(sw_rct_client *c)
{
    if (c->fd_ >= 0)
        close(c->fd_);
    c->fd_ = -1;
}

void sw_rct_client_close(sw_rct_client *c)
{
    drop_connection(c);
    if (c->loop_)
        sw_loop_free(c->loop_);
    c->loop_ = NULL;
}

static int64_t now_ms(void) { return sw_now_monotonic_ns() / 1000000LL; }

static void exchange_config(const sw_rct_client *c, sw_rct_exchange_config *xc)
{
    sw_rct_exchange_config_default(xc);
    xc->timeout_ms = c->cfg.request_timeout_ms;
    xc->retries = c->cfg.retries;
    xc->backoff_ms = c->cfg.backoff_ms;
    xc->backoff_max_ms = c->cfg.backoff_max_ms;
    xc->plant = c->cfg.plant;
    xc->address = c->cfg.address;
    xc->cut_ends_attempt = true;
}

static uint8_t plant_variant(const sw_rct_client *c, uint8_t cmd)
{
    return c->cfg.plant ? (uint8_t)(cmd | 0x40) : cmd;
}

static sw_err send_frame(sw_rct_client *c, uint8_t command, uint32_t id, const uint8_t *payload, size_t len)
{
    size_t cap = SW_RCT_WIRE_MAX(len);
    uint8_t small[64];
    uint8_t *buf = cap <= sizeof small ? small : malloc(cap);
    if (!buf)
        return SW_ERR_NO_MEMORY;
    size_t n;
    sw_err e = sw_rct_frame_build(command, id, c->cfg.address, payload, len, buf, cap, &n);
    if (e == SW_OK) {
        if (c->trace)
            c->trace(c, "send", buf, n, c->trace_user);
        e = sw_write_all(c->fd_, buf, n);
    }
    if (buf != small)
        free(buf);
    return e;
}

/*
 * One exchange, run to its end on the client's private loop, the way
 * sw_tcp_connect runs the connector: the socket is a loop watch (only while
 * the exchange waits for an answer and the bytes read before are used up),
 * the attempt's deadline and the retry backoff are loop timers, and every
 * callback asks the exchange what to do next.
 */
typedef struct run {
    sw_rct_client *c;
    sw_rct_exchange *ex;
    uint8_t command;
    uint32_t id;
    const uint8_t *payload;
    size_t payload_len;
    bool may_send; /* false: only wait for the answer to a request sent already */
    bool done;
    sw_err fatal;  /* a request that cannot be built ends the run with this */
    int watched;   /* the fd on the loop, -1 none */
    uint64_t timer;
} run;

static void run_step(run *r);

static void run_unwatch(run *r)
{
    if (r->watched >= 0)
        sw_loop_del_fd(r->c->loop_, r->watched);
    r->watched = -1;
}

static void run_disarm(run *r)
{
    if (r->timer)
        sw_loop_del_timer(r->c->loop_, r->timer);
    r->timer = 0;
}

/* The connection broke: the attempt ends with why, so that a peer that hangs
 * up is not reported as one that stays silent. */
static void run_lost(run *r, sw_err e)
{
    run_unwatch(r);
    drop_connection(r->c);
    sw_rct_exchange_failed(r->ex, e == SW_ERR_IO || e == SW_ERR_CLOSED ? e : SW_ERR_TIMEOUT, now_ms());
}

static void on_run_readable(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop;
    (void)events;
    run *r = user;
    sw_rct_client *c = r->c;
    ssize_t n = read(fd, c->in_, sizeof c->in_);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return;
        c->last_errno = errno;
        run_lost(r, SW_ERR_IO);
    } else if (n == 0) {
        c->last_errno = 0;
        run_lost(r, SW_ERR_CLOSED);
    } else {
        if (c->trace)
            c->trace(c, "recv", c->in_, (size_t)n, c->trace_user);
        c->in_off_ = 0;
        c->in_len_ = (size_t)n;
    }
    run_step(r);
}

static int64_t on_run_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop;
    (void)id;
    run *r = user;
    r->timer = 0;
    run_step(r);
    return -1;
}

/* Push the bytes read so far to the exchange while it waits for an answer. */
static void run_push(run *r)
{
    sw_rct_client *c = r->c;
    while (c->in_off_ < c->in_len_ && sw_rct_exchange_waiting(r->ex)) {
        sw_rct_receiver_event ev;
        size_t n = sw_rct_receiver_push(&c->rx_, c->in_ + c->in_off_, c->in_len_ - c->in_off_, &ev);
        c->in_off_ += n;
        if (ev.kind == SW_RCT_RECEIVER_ERROR) {
            if (ev.error == SW_ERR_RCT_CRC_MISMATCH)
                c->counters.crc_errors++;
            else
                c->counters.frame_errors++;
            continue;
        }
        if (ev.kind != SW_RCT_RECEIVER_FRAME)
            break;
        const sw_rct_frame *f = &ev.frame;
        if (sw_rct_exchange_push_frame(r->ex, f, now_ms()) == SW_RCT_REPLY_ACCEPTED) {
            memcpy(c->reply_, f->payload, f->payload_len);
            c->reply_len_ = f->payload_len;
            c->last_command = f->command;
            c->last_address = f->address;
        }
    }
    if (c->in_off_ >= c->in_len_)
        c->in_off_ = c->in_len_ = 0;
}

/* Connect if needed and send the request; false when the run ends at once. */
static bool run_send(run *r)
{
    sw_rct_client *c = r->c;
    if (c->fd_ < 0) {
        sw_err e = do_connect(c);
        if (e != SW_OK) {
            sw_rct_exchange_failed(r->ex, e, now_ms());
            return true;
        }
        c->counters.reconnects++;
    }
    sw_err e = send_frame(c, r->command, r->id, r->payload, r->payload_len);
    if (e == SW_ERR_TOO_LONG || e == SW_ERR_INVALID_ARGUMENT || e == SW_ERR_NO_MEMORY) {
        r->fatal = e;
        return false;
    }
    if (e != SW_OK) {
        if (e == SW_ERR_CLOSED || e == SW_ERR_IO)
            c->last_errno = e == SW_ERR_IO ? errno : 0;
        run_lost(r, e);
        return true;
    }
    sw_rct_exchange_sent(r->ex, now_ms());
    return true;
}

static void run_step(run *r)
{
    sw_rct_client *c = r->c;
    run_disarm(r);
    for (;;) {
        int64_t until = 0;
        sw_rct_step step = sw_rct_exchange_next(r->ex, now_ms(), &until);
        if (step == SW_RCT_STEP_SEND && r->may_send) {
            if (!run_send(r))
                break;
            continue;
        }
        if (step == SW_RCT_STEP_RECEIVE && c->in_off_ < c->in_len_) {
            run_push(r);
            continue;
        }
        if (step == SW_RCT_STEP_RECEIVE || step == SW_RCT_STEP_PAUSE) {
            if (step == SW_RCT_STEP_RECEIVE && r->watched != c->fd_) {
                run_unwatch(r);
                if (sw_loop_add_fd(c->loop_, c->fd_, SW_LOOP_READ, on_run_readable, r) != SW_OK) {
                    r->fatal = SW_ERR_NO_MEMORY;
                    break;
                }
                r->watched = c->fd_;
            } else if (step == SW_RCT_STEP_PAUSE) {
                run_unwatch(r);
            }
            int64_t left = until - now_ms();
            r->timer = sw_loop_add_timer(c->loop_, left > 0 ? left : 0, on_run_timer, r);
            if (!r->timer) {
                r->fatal = SW_ERR_NO_MEMORY;
                break;
            }
            return;
        }
        break; /* DONE, or a SEND the run may not make */
    }
    run_unwatch(r);
    r->done = true;
}

/* Run the started exchange until it is done; SW_OK or why the run could not go on. */
static sw_err run_exchange(run *r)
{
    sw_rct_client *c = r->c;
    if (!c->loop_ && !(c->loop_ = sw_loop_new()))
        return SW_ERR_NO_MEMORY;
    r->watched = -1;
    r->timer = 0;
    r->done = false;
    r->fatal = SW_OK;
    run_step(r);
    sw_err e = SW_OK;
    while (!r->done && e == SW_OK)
        e = sw_loop_run_once(c->loop_, -1);
    run_disarm(r);
    run_unwatch(r);
    return e != SW_OK ? e : r->fatal;
}

static void add_counters(sw_rct_client *c, const sw_rct_exchange_counters *s, bool count_timeouts)
{
    c->counters.attempts += s->attempts;
    c->counters.retries += s->retries;
    if (count_timeouts)
        c->counters.timeouts += s->timeouts;
    c->counters.skipped_foreign += s->foreign;
    c->counters.stale += s->stale;
    c->counters.decode_errors += s->cut_short;
}

sw_err sw_rct_client_request(sw_rct_client *c, uint8_t command, uint32_t id, const uint8_t *payload,
                             size_t payload_len, sw_rct_type expect, const uint32_t *query,
                             const uint8_t **reply, size_t *reply_len)
{
    c->counters.requests++;
    sw_rct_exchange_config xc;
    exchange_config(c, &xc);
    sw_rct_exchange ex;
    sw_rct_exchange_init(&ex, &xc);
    sw_rct_exchange_start(&ex, command, id, expect, query);
    run r = { .c = c, .ex = &ex, .command = command, .id = id, .payload = payload,
              .payload_len = payload_len, .may_send = true };
    sw_err result = run_exchange(&r);
    if (result == SW_OK)
        result = sw_rct_exchange_result(&ex);
    add_counters(c, &ex.counters, true);
    if (result == SW_OK) {
        *reply = c->reply_;
        *reply_len = c->reply_len_;
    }
    return result;
}

void sw_rct_client_last_reply(const sw_rct_client *c, const uint8_t **payload, size_t *len)
{
    *payload = c->reply_;
    *len = c->reply_len_;
}

sw_err sw_rct_client_read(sw_rct_client *c, const sw_rct_object *obj, sw_rct_value *out, void *storage,
                          size_t cap)
{
    const uint8_t *reply;
    size_t len;
    sw_rct_type rt = obj->response_type;
    if (rt == SW_RCT_TYPE_TIMESERIES || rt == SW_RCT_TYPE_EVENT_TABLE) {
        uint32_t now = (uint32_t)(sw_now_realtime_ns() / 1000000000LL);
        uint8_t q[4];
        sw_put_be32(q, now);
        sw_err e = sw_rct_client_request(c, plant_variant(c, SW_RCT_CMD_WRITE), obj->id, q, 4, rt, &now,
                                         &reply, &len);
        if (e != SW_OK)
            return e;
        return sw_rct_value_decode(rt, reply, len, out, storage, cap);
    }
    uint8_t cmd = plant_variant(c, SW_RCT_CMD_READ);
    sw_err e = sw_rct_client_request(c, cmd, obj->id, NULL, 0, rt, NULL, &reply, &len);
    if (e != SW_OK)
        return e;
    return sw_rct_value_decode(rt, reply, len, out, storage, cap);
}

sw_err sw_rct_client_write(sw_rct_client *c, const sw_rct_object *obj, const sw_rct_value *v)
{
    sw_err e = sw_rct_value_check_write(v); /* every write path passes the one check */
    if (e != SW_OK)
        return e;
    size_t cap = SW_RCT_PAYLOAD_MAX;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return SW_ERR_NO_MEMORY;
    size_t n;
    e = sw_rct_value_encode(v, buf, cap, &n);
    if (e != SW_OK) {
        free(buf);
        return e;
    }
    size_t short_max = c->cfg.plant ? SW_RCT_PAYLOAD_MAX_SHORT_PLANT : SW_RCT_PAYLOAD_MAX_SHORT;
    uint8_t cmd = n > short_max ? SW_RCT_CMD_LONG_WRITE : SW_RCT_CMD_WRITE;
    cmd = plant_variant(c, cmd);
    if (c->fd_ < 0) {
        e = do_connect(c);
        if (e != SW_OK) {
            free(buf);
            return e;
        }
        c->counters.reconnects++;
    }
    c->counters.requests++;
    c->counters.attempts++;
    e = send_frame(c, cmd, obj->id, buf, n);
    free(buf);
    if (e != SW_OK)
        return e;
    /* Some devices confirm a write with a RESPONSE; give it a moment, but do not require it. */
    sw_rct_exchange_config xc;
    exchange_config(c, &xc);
    xc.timeout_ms = c->cfg.request_timeout_ms < 500 ? c->cfg.request_timeout_ms : 500;
    xc.retries = 0;
    sw_rct_exchange ex;
    sw_rct_exchange_init(&ex, &xc);
    sw_rct_exchange_start(&ex, cmd, obj->id, obj->request_type, NULL);
    sw_rct_exchange_sent(&ex, now_ms());
    run r = { .c = c, .ex = &ex, .command = cmd, .id = obj->id };
    (void)run_exchange(&r); /* the write is out; an answer or its absence changes nothing */
    ex.counters.attempts = 0; /* counted above */
    add_counters(c, &ex.counters, false);
    return SW_OK;
}

/* One logger query at device time q; *out decoded (storage malloc'd into *storage). */
static sw_err logger_query(sw_rct_client *c, uint32_t id, sw_rct_type type, uint32_t q, sw_rct_value *out,
                           void **storage)
{
    uint8_t p[4];
    sw_put_be32(p, q);
    const uint8_t *reply;
    size_t len;
    sw_err e = sw_rct_client_request(c, plant_variant(c, SW_RCT_CMD_WRITE), id, p, 4, type, &q, &reply, &len);
    if (e != SW_OK)
        return e;
    size_t need = sw_rct_value_storage_size(type, len);
    free(*storage);
    *storage = need ? malloc(need) : NULL;
    if (need && !*storage)
        return SW_ERR_NO_MEMORY;
    return sw_rct_value_decode(type, reply, len, out, *storage, need);
}

/*
 * Walk a logger backwards from `to`: each answer holds rows older than the
 * query time, the oldest of them is the next query time, until `from` is
 * passed, an answer brings nothing older, a callback stops or max_queries is
 * used up. Time series and event tables differ only in how their rows are read.
 */
typedef struct logger_rows {
    uint32_t id;
    sw_rct_type type;
    size_t (*count)(const sw_rct_value *v);
    uint32_t (*time)(const sw_rct_value *v, size_t i);
    int (*emit)(sw_rct_client *c, const sw_rct_value *v, size_t i, void *ctx);
} logger_rows;

static sw_err logger_walk(sw_rct_client *c, const logger_rows *rows, void *ctx, uint32_t from, uint32_t to,
                          unsigned max_queries, unsigned *queries_out)
{
    if (max_queries == 0)
        max_queries = 1000;
    void *storage = NULL;
    uint32_t q = to;
    unsigned queries = 0;
    sw_err e = SW_OK;
    while (queries < max_queries) {
        sw_rct_value v;
        queries++;
        e = logger_query(c, rows->id, rows->type, q, &v, &storage);
        if (e != SW_OK)
            break;
        uint32_t oldest = q;
        int stop = 0;
        size_t n = rows->count(&v);
        for (size_t i = 0; i < n && !stop; i++) {
            uint32_t ts = rows->time(&v, i);
            if (ts >= q)
                continue; /* not older than asked: already seen or bogus */
            if (ts < oldest)
                oldest = ts;
            if (ts >= from && ts < to)
                stop = rows->emit(c, &v, i, ctx);
        }
        if (stop || oldest == q || oldest <= from)
            break;
        q = oldest;
    }
    free(storage);
    if (queries_out)
        *queries_out = queries;
    return e;
}

typedef struct ts_ctx {
    const sw_rct_object *obj;
    sw_rct_point_cb cb;
    void *user;
} ts_ctx;

static size_t ts_count(const sw_rct_value *v) { return v->u.ts.n_points; }
static uint32_t ts_time(const sw_rct_value *v, size_t i) { return v->u.ts.points[i].timestamp; }
static int ts_emit(sw_rct_client *c, const sw_rct_value *v, size_t i, void *ctx)
{
    ts_ctx *t = ctx;
    return t->cb(c, t->obj, v->u.ts.points[i].timestamp, v->u.ts.points[i].value, t->user);
}

sw_err sw_rct_client_timeseries(sw_rct_client *c, const sw_rct_object *obj, uint32_t from, uint32_t to,
                                unsigned max_queries, sw_rct_point_cb cb, void *user, unsigned *queries_out)
{
    static const logger_rows rows = { 0, SW_RCT_TYPE_TIMESERIES, ts_count, ts_time, ts_emit };
    logger_rows r = rows;
    r.id = obj->id;
    ts_ctx t = { obj, cb, user };
    return logger_walk(c, &r, &t, from, to, max_queries, queries_out);
}

typedef struct ev_ctx {
    sw_rct_event_cb cb;
    void *user;
} ev_ctx;

static size_t ev_count(const sw_rct_value *v) { return v->u.events.n_rows; }
static uint32_t ev_time(const sw_rct_value *v, size_t i) { return v->u.events.rows[i].timestamp; }
static int ev_emit(sw_rct_client *c, const sw_rct_value *v, size_t i, void *ctx)
{
    ev_ctx *t = ctx;
    return t->cb(c, &v->u.events.rows[i], t->user);
}

sw_err sw_rct_client_events(sw_rct_client *c, uint32_t from, uint32_t to, unsigned max_queries,
                            sw_rct_event_cb cb, void *user, unsigned *queries_out)
{
    static const logger_rows rows = { SW_RCT_EVENT_TABLE_ID, SW_RCT_TYPE_EVENT_TABLE, ev_count, ev_time, ev_emit };
    ev_ctx t = { cb, user };
    return logger_walk(c, &rows, &t, from, to, max_queries, queries_out);
}
