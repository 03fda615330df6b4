/*
 * reconnect.c: when to open, drop and reopen a byte source (see
 * io/io_source.h). The state machine has no clock and no I/O: the caller
 * passes the monotonic time of every event and acts on what comes back, so
 * tests can run hours of failures in microseconds. Below it, the one loop
 * timer that drives it for the CLI's sources and the daemon's Tigo buses.
 */
#include <string.h>

#include "io/io_source.h"
#include "sunwire/loop.h"

void sw_reconnect_init(sw_reconnect *r, const sw_reconnect_config *cfg)
{
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    if (r->cfg.delay_ms < 0)
        r->cfg.delay_ms = 0;
    r->state = SW_RECONNECT_CLOSED;
}

/* The pause after the failures so far: delay, doubled per failure beyond the first, capped. */
static int64_t pause_ms(const sw_reconnect *r)
{
    int64_t d = r->cfg.delay_ms;
    int64_t cap = r->cfg.max_delay_ms > d ? r->cfg.max_delay_ms : d;
    for (uint32_t i = 1; i < r->failures && d < cap; i++)
        d = d ? d * 2 : 1;
    return d > cap ? cap : d;
}

static sw_reconnect_action wait_or_give_up(sw_reconnect *r, int64_t now_ms, bool counts, sw_reconnect_action give_up)
{
    r->failures++;
    if (counts) {
        r->retries++;
        if (r->cfg.retry_limit && r->retries > r->cfg.retry_limit) {
            r->state = SW_RECONNECT_GAVE_UP;
            return give_up;
        }
    }
    r->delay_ms = pause_ms(r);
    r->due_ms = now_ms + r->delay_ms;
    r->state = SW_RECONNECT_WAITING;
    return SW_RECONNECT_NONE;
}

sw_reconnect_action sw_reconnect_start(sw_reconnect *r, int64_t now_ms)
{
    (void)now_ms;
    if (r->state == SW_RECONNECT_GAVE_UP)
        return SW_RECONNECT_NONE;
    r->state = SW_RECONNECT_OPENING;
    return SW_RECONNECT_OPEN;
}

void sw_reconnect_opened(sw_reconnect *r, int64_t now_ms)
{
    r->state = SW_RECONNECT_UP;
    r->last_data_ms = now_ms; /* the idle limit counts from the open */
}

sw_reconnect_action sw_reconnect_open_failed(sw_reconnect *r, int64_t now_ms)
{
    return wait_or_give_up(r, now_ms, true, SW_RECONNECT_GIVE_UP_OPEN);
}

void sw_reconnect_data(sw_reconnect *r, int64_t now_ms)
{
    r->last_data_ms = now_ms;
    r->retries = 0;
    r->failures = 0;
}

sw_reconnect_action sw_reconnect_lost(sw_reconnect *r, int64_t now_ms, bool idle)
{
    return wait_or_give_up(r, now_ms, idle, SW_RECONNECT_GIVE_UP_IDLE);
}

sw_reconnect_action sw_reconnect_tick(sw_reconnect *r, int64_t now_ms)
{
    switch (r->state) {
    case SW_RECONNECT_CLOSED:
        return sw_reconnect_start(r, now_ms);
    case SW_RECONNECT_WAITING:
        if (now_ms >= r->due_ms)
            return sw_reconnect_start(r, now_ms);
        return SW_RECONNECT_NONE;
    case SW_RECONNECT_UP:
        if (r->cfg.idle_ms > 0 && now_ms - r->last_data_ms >= r->cfg.idle_ms)
            return SW_RECONNECT_DROP;
        return SW_RECONNECT_NONE;
    default:
        return SW_RECONNECT_NONE;
    }
}

int64_t sw_reconnect_next_ms(const sw_reconnect *r)
{
    switch (r->state) {
    case SW_RECONNECT_WAITING:
        return r->due_ms;
    case SW_RECONNECT_UP:
        return r->cfg.idle_ms > 0 ? r->last_data_ms + r->cfg.idle_ms : -1;
    default:
        return -1;
    }
}

/* ---- the timer on a loop --------------------------------------------------- */

void sw_reconnect_timer_init(sw_reconnect_timer *t, sw_loop *loop, const sw_reconnect_config *cfg,
                             sw_reconnect_cb cb, void *user)
{
    memset(t, 0, sizeof *t);
    sw_reconnect_init(&t->rc, cfg);
    t->loop_ = loop;
    t->cb_ = cb;
    t->user_ = user;
}

void sw_reconnect_timer_stop(sw_reconnect_timer *t)
{
    if (t->timer_)
        sw_loop_del_timer(t->loop_, t->timer_);
    t->timer_ = 0;
}

static int64_t on_reconnect_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop;
    (void)id;
    sw_reconnect_timer *t = user;
    int64_t now = sw_loop_now_ms();
    sw_reconnect_action a = sw_reconnect_tick(&t->rc, now);
    if (a == SW_RECONNECT_OPEN || a == SW_RECONNECT_DROP) {
        t->timer_ = 0;
        (void)t->cb_(t, a, t->user_);
        return -1;
    }
    int64_t next = sw_reconnect_next_ms(&t->rc);
    if (next < 0) {
        t->timer_ = 0;
        return -1;
    }
    return next > now ? next - now : 1;
}

void sw_reconnect_timer_arm(sw_reconnect_timer *t)
{
    sw_reconnect_timer_stop(t);
    int64_t next = sw_reconnect_next_ms(&t->rc);
    if (next >= 0)
        t->timer_ = sw_loop_add_timer(t->loop_, next - sw_loop_now_ms(), on_reconnect_timer, t);
}
