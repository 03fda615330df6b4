/*
 * rct_client.c: request/reply over TCP with validation, retries and
 * reconnects (see sunwire/rct_client.h).
 *
 * Why a reply is accepted only when its payload decodes: devices interrupted
 * by another request cut the payload and still send a valid CRC, so the CRC
 * alone says nothing about completeness. Strings are the one type where a cut
 * cannot be seen from the length; a string without its NUL terminator is
 * therefore only believed when a second read returns the same bytes.
 */
#include "sunwire/rct_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sunwire/core.h"
#include "sunwire/net.h"

void sw_rct_client_config_default(sw_rct_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_ms = 5000;
    cfg->request_timeout_ms = 2000;
    cfg->retries = 3;
    cfg->backoff_ms = 100;
    cfg->backoff_max_ms = 2000;
}

static sw_err do_connect(sw_rct_client *c)
{
    sw_err e = sw_tcp_connect(c->host_, c->port_, c->cfg.connect_timeout_ms, &c->fd_);
    if (e != SW_OK) {
        c->fd_ = -1;
        return e;
    }
    c->in_len_ = c->in_off_ = 0;
    sw_rct_receiver_init(&c->rx_);
    return SW_OK;
}

sw_err sw_rct_client_open(sw_rct_client *c, const char *host, uint16_t port, const sw_rct_client_config *cfg)
{
    memset(&c->stats, 0, sizeof c->stats);
    c->reply_len_ = 0;
    c->last_command = 0;
    c->last_address = 0;
    c->trace = NULL;
    c->trace_user = NULL;
    if (cfg)
        c->cfg = *cfg;
    else
        sw_rct_client_config_default(&c->cfg);
    if (!host || strlen(host) >= sizeof c->host_)
        return SW_ERR_INVALID_ARGUMENT;
    strcpy(c->host_, host);
    c->port_ = port;
    c->fd_ = -1;
    return do_connect(c);
}

void sw_rct_client_close(sw_rct_client *c)
{
    if (c->fd_ >= 0)
        close(c->fd_);
    c->fd_ = -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Does the payload have the complete layout of its type? */
static sw_err validate(sw_rct_type type, const uint8_t *p, size_t n, const uint32_t *query)
{
    if (type == SW_RCT_TYPE_TIMESERIES || type == SW_RCT_TYPE_EVENT_TABLE) {
        if (n < 4 || n % 4 != 0)
            return SW_ERR_RCT_BAD_PAYLOAD;
        if (type == SW_RCT_TYPE_TIMESERIES && (n / 4) % 2 != 1)
            return SW_ERR_RCT_BAD_PAYLOAD;
        if (type == SW_RCT_TYPE_EVENT_TABLE && (n - 4) % 20 != 0)
            return SW_ERR_RCT_BAD_PAYLOAD;
        if (query && sw_be32(p) != *query)
            return SW_ERR_NOT_FOUND; /* an answer to an earlier query */
        return SW_OK;
    }
    sw_rct_value v;
    size_t need = sw_rct_value_storage_size(type, n);
    void *storage = need ? malloc(need) : NULL;
    if (need && !storage)
        return SW_ERR_NO_MEMORY;
    sw_err e = sw_rct_value_decode(type, p, n, &v, storage, need);
    free(storage);
    return e;
}

static bool is_answer_to(uint8_t sent, uint8_t got)
{
    bool plant = sw_rct_command_is_plant(sent);
    if (plant != sw_rct_command_is_plant(got))
        return false;
    return sw_rct_command_is_response(got);
}

/*
 * Wait for the answer to what was just sent. SW_OK with reply_ filled,
 * SW_ERR_TIMEOUT, SW_ERR_CLOSED or SW_ERR_IO.
 */
static sw_err await_reply(sw_rct_client *c, uint8_t sent, uint32_t id, sw_rct_type expect,
                          const uint32_t *query, int timeout_ms)
{
    int64_t deadline = sw_now_monotonic_ns() + (int64_t)timeout_ms * 1000000LL;
    for (;;) {
        while (c->in_off_ < c->in_len_) {
            sw_rct_rx_event ev;
            size_t n = sw_rct_receive(&c->rx_, c->in_ + c->in_off_, c->in_len_ - c->in_off_, &ev);
            c->in_off_ += n;
            if (ev.kind == SW_RCT_RX_ERROR) {
                if (ev.error == SW_ERR_RCT_CRC_MISMATCH)
                    c->stats.crc_errors++;
                else
                    c->stats.frame_errors++;
                continue;
            }
            if (ev.kind != SW_RCT_RX_FRAME)
                break;
            const sw_rct_frame *f = &ev.frame;
            if (f->kind == SW_RCT_FRAME_EXTENSION || f->id != id || !is_answer_to(sent, f->command) ||
                (c->cfg.plant && f->address != c->cfg.address)) {
                c->stats.skipped_foreign++;
                continue;
            }
            sw_err v = validate(expect, f->payload, f->payload_len, query);
            if (v == SW_ERR_NOT_FOUND) {
                c->stats.stale++;
                continue;
            }
            if (v != SW_OK) {
                /* Cut short: nothing better will follow for this attempt. */
                c->stats.decode_errors++;
                return SW_ERR_RCT_BAD_PAYLOAD;
            }
            memcpy(c->reply_, f->payload, f->payload_len);
            c->reply_len_ = f->payload_len;
            c->last_command = f->command;
            c->last_address = f->address;
            return SW_OK;
        }
        c->in_off_ = c->in_len_ = 0;
        int64_t left = (deadline - sw_now_monotonic_ns()) / 1000000LL;
        if (left <= 0)
            return SW_ERR_TIMEOUT;
        sw_err w = sw_fd_wait_readable(c->fd_, (int)left);
        if (w != SW_OK)
            return w;
        ssize_t r = read(c->fd_, c->in_, sizeof c->in_);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return SW_ERR_IO;
        }
        if (r == 0)
            return SW_ERR_CLOSED;
        if (c->trace)
            c->trace(c->trace_user, "recv", c->in_, (size_t)r);
        c->in_len_ = (size_t)r;
    }
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
    sw_err e = sw_rct_frame_build(buf, cap, &n, command, id, c->cfg.address, payload, len);
    if (e == SW_OK) {
        if (c->trace)
            c->trace(c->trace_user, "send", buf, n);
        e = sw_write_all(c->fd_, buf, n);
    }
    if (buf != small)
        free(buf);
    return e;
}

sw_err sw_rct_client_request(sw_rct_client *c, uint8_t command, uint32_t id, const uint8_t *payload,
                             size_t payload_len, sw_rct_type expect, const uint32_t *query,
                             const uint8_t **reply, size_t *reply_len)
{
    c->stats.requests++;
    int backoff = c->cfg.backoff_ms;
    sw_err last = SW_ERR_TIMEOUT;
    for (int attempt = 0; attempt <= c->cfg.retries; attempt++) {
        if (attempt > 0) {
            c->stats.retries++;
            sleep_ms(backoff);
            backoff = backoff * 2 > c->cfg.backoff_max_ms ? c->cfg.backoff_max_ms : backoff * 2;
        }
        if (c->fd_ < 0) {
            sw_err e = do_connect(c);
            if (e != SW_OK) {
                last = e;
                continue;
            }
            c->stats.reconnects++;
        }
        c->stats.attempts++;
        sw_err e = send_frame(c, command, id, payload, payload_len);
        if (e == SW_ERR_TOO_LONG || e == SW_ERR_INVALID_ARGUMENT || e == SW_ERR_NO_MEMORY)
            return e;
        if (e == SW_OK)
            e = await_reply(c, command, id, expect, query, c->cfg.request_timeout_ms);
        if (e == SW_OK) {
            *reply = c->reply_;
            *reply_len = c->reply_len_;
            return SW_OK;
        }
        if (e == SW_ERR_TIMEOUT)
            c->stats.timeouts++;
        if (e == SW_ERR_CLOSED || e == SW_ERR_IO)
            sw_rct_client_close(c);
        /* A cut answer or silence is what the caller sees if no retry helps. */
        last = e == SW_ERR_RCT_BAD_PAYLOAD ? e : SW_ERR_TIMEOUT;
    }
    return last;
}

void sw_rct_client_last_reply(const sw_rct_client *c, const uint8_t **payload, size_t *len)
{
    *payload = c->reply_;
    *len = c->reply_len_;
}

static bool has_nul(const uint8_t *p, size_t n) { return memchr(p, 0, n) != NULL; }

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
    if (rt == SW_RCT_TYPE_STRING && !has_nul(reply, len)) {
        /* No terminator: possibly cut. Believe it once two reads agree. */
        uint8_t *prev = malloc(len ? len : 1);
        if (!prev)
            return SW_ERR_NO_MEMORY;
        size_t prev_len = len;
        memcpy(prev, reply, len);
        bool agreed = false;
        for (int i = 0; i <= c->cfg.retries && !agreed; i++) {
            e = sw_rct_client_request(c, cmd, obj->id, NULL, 0, rt, NULL, &reply, &len);
            if (e != SW_OK)
                break;
            if (has_nul(reply, len) || (len == prev_len && memcmp(prev, reply, len) == 0)) {
                agreed = true;
                break;
            }
            uint8_t *np = realloc(prev, len ? len : 1);
            if (!np) {
                e = SW_ERR_NO_MEMORY;
                break;
            }
            prev = np;
            memcpy(prev, reply, len);
            prev_len = len;
        }
        free(prev);
        if (e != SW_OK)
            return e;
        if (!agreed)
            return SW_ERR_RCT_BAD_PAYLOAD;
    }
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
        c->stats.reconnects++;
    }
    c->stats.requests++;
    c->stats.attempts++;
    e = send_frame(c, cmd, obj->id, buf, n);
    free(buf);
    if (e != SW_OK)
        return e;
    /* Some devices confirm a write with a RESPONSE; give it a moment, but do not require it. */
    int wait = c->cfg.request_timeout_ms < 500 ? c->cfg.request_timeout_ms : 500;
    sw_err r = await_reply(c, cmd, obj->id, obj->request_type, NULL, wait);
    if (r == SW_ERR_CLOSED || r == SW_ERR_IO)
        sw_rct_client_close(c);
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

sw_err sw_rct_client_timeseries(sw_rct_client *c, const sw_rct_object *obj, uint32_t from, uint32_t to,
                                unsigned max_queries, sw_rct_point_fn cb, void *user, unsigned *queries_out)
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
        e = logger_query(c, obj->id, SW_RCT_TYPE_TIMESERIES, q, &v, &storage);
        if (e != SW_OK)
            break;
        uint32_t oldest = q;
        int stop = 0;
        for (size_t i = 0; i < v.u.ts.n_points && !stop; i++) {
            uint32_t ts = v.u.ts.points[i].timestamp;
            if (ts >= q)
                continue; /* not older than asked: already seen or bogus */
            if (ts < oldest)
                oldest = ts;
            if (ts >= from && ts < to)
                stop = cb(user, obj, ts, v.u.ts.points[i].value);
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

sw_err sw_rct_client_events(sw_rct_client *c, uint32_t from, uint32_t to, unsigned max_queries,
                            sw_rct_event_fn cb, void *user, unsigned *queries_out)
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
        e = logger_query(c, SW_RCT_EVENT_TABLE_ID, SW_RCT_TYPE_EVENT_TABLE, q, &v, &storage);
        if (e != SW_OK)
            break;
        uint32_t oldest = q;
        int stop = 0;
        for (size_t i = 0; i < v.u.events.n_rows && !stop; i++) {
            const sw_rct_event_row *r = &v.u.events.rows[i];
            if (r->timestamp >= q)
                continue;
            if (r->timestamp < oldest)
                oldest = r->timestamp;
            if (r->timestamp >= from && r->timestamp < to)
                stop = cb(user, r);
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
