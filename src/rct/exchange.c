/*
 * exchange.c: one RCT request and the classification of its replies
 * (see sunwire/rct_exchange.h). Pure state: times come in as arguments.
 */
#include "sunwire/rct_exchange.h"

#include <string.h>

#include "sunwire/core.h"

enum { EX_IDLE = 0, EX_SEND, EX_WAITING, EX_PAUSE, EX_DONE };

void sw_rct_exchange_config_default(sw_rct_exchange_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->timeout_ms = 2000;
    cfg->retries = 3;
    cfg->backoff_ms = 100;
    cfg->backoff_max_ms = 2000;
    cfg->cut_ends_attempt = true;
}

void sw_rct_exchange_init(sw_rct_exchange *ex, const sw_rct_exchange_config *cfg)
{
    memset(ex, 0, sizeof *ex);
    if (cfg)
        ex->cfg = *cfg;
    else
        sw_rct_exchange_config_default(&ex->cfg);
    ex->state_ = EX_IDLE;
    ex->result_ = SW_ERR_NOT_FOUND;
}

void sw_rct_exchange_start(sw_rct_exchange *ex, uint8_t command, uint32_t id, sw_rct_type expect,
                           const uint32_t *query)
{
    ex->command_ = command;
    ex->id_ = id;
    ex->expect_ = expect;
    ex->has_query_ = query != NULL;
    ex->query_ = query ? *query : 0;
    ex->state_ = EX_SEND;
    ex->tries_ = 0;
    ex->asks_ = 0;
    ex->until_ms_ = 0;
    ex->backoff_ms_ = ex->cfg.backoff_ms;
    ex->result_ = SW_ERR_NOT_FOUND;
    ex->last_ = SW_ERR_TIMEOUT;
    ex->have_unterminated_ = false;
    ex->unterminated_len_ = 0;
    ex->unterminated_hash_ = 0;
}

/* The attempt is over without an answer: pause for the next one, or give up. */
static void end_attempt(sw_rct_exchange *ex, sw_err why, int64_t now_ms)
{
    ex->last_ = why;
    ex->tries_++;
    if (ex->tries_ > ex->cfg.retries) {
        ex->state_ = EX_DONE;
        ex->result_ = why;
        return;
    }
    ex->counters.retries++;
    ex->state_ = EX_PAUSE;
    ex->until_ms_ = now_ms + (ex->backoff_ms_ > 0 ? ex->backoff_ms_ : 0);
    int64_t next = ex->backoff_ms_ * 2;
    ex->backoff_ms_ = next > ex->cfg.backoff_max_ms ? ex->cfg.backoff_max_ms : next;
}

sw_rct_step sw_rct_exchange_next(sw_rct_exchange *ex, int64_t now_ms, int64_t *until_ms)
{
    for (;;) {
        switch (ex->state_) {
        case EX_SEND:
            return SW_RCT_STEP_SEND;
        case EX_WAITING:
            if (now_ms < ex->until_ms_) {
                if (until_ms)
                    *until_ms = ex->until_ms_;
                return SW_RCT_STEP_RECEIVE;
            }
            ex->counters.timeouts++;
            end_attempt(ex, SW_ERR_TIMEOUT, now_ms);
            continue;
        case EX_PAUSE:
            if (now_ms < ex->until_ms_) {
                if (until_ms)
                    *until_ms = ex->until_ms_;
                return SW_RCT_STEP_PAUSE;
            }
            ex->state_ = EX_SEND;
            continue;
        default:
            return SW_RCT_STEP_DONE;
        }
    }
}

void sw_rct_exchange_sent(sw_rct_exchange *ex, int64_t now_ms)
{
    if (ex->state_ != EX_SEND)
        return;
    ex->counters.attempts++;
    ex->state_ = EX_WAITING;
    ex->until_ms_ = now_ms + ex->cfg.timeout_ms;
}

void sw_rct_exchange_failed(sw_rct_exchange *ex, sw_err err, int64_t now_ms)
{
    if (ex->state_ == EX_SEND || ex->state_ == EX_WAITING)
        end_attempt(ex, err, now_ms);
}

bool sw_rct_exchange_waiting(const sw_rct_exchange *ex) { return ex->state_ == EX_WAITING; }

sw_err sw_rct_exchange_result(const sw_rct_exchange *ex)
{
    return ex->state_ == EX_DONE ? ex->result_ : SW_ERR_NOT_FOUND;
}

static bool is_answer_to(uint8_t sent, uint8_t got)
{
    return sw_rct_command_is_plant(sent) == sw_rct_command_is_plant(got) && sw_rct_command_is_response(got);
}

/* SW_OK when the payload has the complete layout of its type; SW_ERR_NOT_FOUND for a stale echo. */
static sw_err check_payload(const sw_rct_exchange *ex, const uint8_t *p, size_t n)
{
    sw_rct_type type = ex->expect_;
    if (type == SW_RCT_TYPE_TIMESERIES || type == SW_RCT_TYPE_EVENT_TABLE) {
        /* Checked by layout: decoding them needs storage the exchange does not have. */
        if (n < 4 || n % 4 != 0)
            return SW_ERR_RCT_BAD_PAYLOAD;
        if (type == SW_RCT_TYPE_TIMESERIES && (n / 4) % 2 != 1)
            return SW_ERR_RCT_BAD_PAYLOAD;
        if (type == SW_RCT_TYPE_EVENT_TABLE && (n - 4) % 20 != 0)
            return SW_ERR_RCT_BAD_PAYLOAD;
        if (ex->has_query_ && sw_be32(p) != ex->query_)
            return SW_ERR_NOT_FOUND;
        return SW_OK;
    }
    sw_rct_value v;
    return sw_rct_value_decode(type, p, n, &v, NULL, 0) == SW_OK ? SW_OK : SW_ERR_RCT_BAD_PAYLOAD;
}

/* FNV-1a: a string answer is compared with the previous one by length and hash. */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

sw_rct_reply_class sw_rct_exchange_push_frame(sw_rct_exchange *ex, const sw_rct_frame *f, int64_t now_ms)
{
    if (ex->state_ != EX_WAITING || f->kind == SW_RCT_FRAME_EXTENSION || f->id != ex->id_ ||
        !is_answer_to(ex->command_, f->command) || (ex->cfg.plant && f->address != ex->cfg.address)) {
        ex->counters.foreign++;
        return SW_RCT_REPLY_FOREIGN;
    }
    sw_err v = check_payload(ex, f->payload, f->payload_len);
    if (v == SW_ERR_NOT_FOUND) {
        ex->counters.stale++;
        return SW_RCT_REPLY_STALE;
    }
    if (v != SW_OK) {
        ex->counters.cut_short++;
        if (ex->cfg.cut_ends_attempt)
            end_attempt(ex, SW_ERR_RCT_BAD_PAYLOAD, now_ms);
        return SW_RCT_REPLY_CUT_SHORT;
    }
    if (ex->expect_ == SW_RCT_TYPE_STRING && !memchr(f->payload, 0, f->payload_len)) {
        uint64_t h = hash_bytes(f->payload, f->payload_len);
        bool same = ex->have_unterminated_ && ex->unterminated_len_ == f->payload_len && ex->unterminated_hash_ == h;
        if (!same) {
            ex->have_unterminated_ = true;
            ex->unterminated_len_ = f->payload_len;
            ex->unterminated_hash_ = h;
            ex->counters.asked_again++;
            if (ex->asks_ > ex->cfg.retries) {
                /* It never repeated itself: as good as cut. */
                ex->state_ = EX_DONE;
                ex->result_ = SW_ERR_RCT_BAD_PAYLOAD;
                return SW_RCT_REPLY_ASK_AGAIN;
            }
            ex->asks_++;
            ex->counters.retries++;
            ex->state_ = EX_SEND;
            return SW_RCT_REPLY_ASK_AGAIN;
        }
    }
    ex->state_ = EX_DONE;
    ex->result_ = SW_OK;
    return SW_RCT_REPLY_ACCEPTED;
}

const char *sw_rct_reply_class_name(sw_rct_reply_class c)
{
    switch (c) {
    case SW_RCT_REPLY_ACCEPTED: return "ACCEPTED";
    case SW_RCT_REPLY_FOREIGN: return "FOREIGN";
    case SW_RCT_REPLY_STALE: return "STALE";
    case SW_RCT_REPLY_CUT_SHORT: return "CUT_SHORT";
    case SW_RCT_REPLY_ASK_AGAIN: return "ASK_AGAIN";
    }
    return "?";
}
