/* Unit tests for the simulated Tigo bus: determinism, framing, slot counters,
 * status words, the sun curve, and the round trip through the observer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sim/sim_tigo.h"
#include "sunwire/tigo_barcode.h"
#include "sunwire/tigo_observer.h"
#include "testutil.h"

#define SEC 1000000000LL
/* 2025-06-21 00:00:00 UTC: midsummer, so one day holds night, sunrise and noon. */
#define DAY0 1750464000LL

static int64_t at_utc(int hour, int minute)
{
    return (DAY0 + hour * 3600LL + minute * 60LL) * SEC;
}

static sw_tigo_sim *new_sim(uint64_t seed, int64_t start, unsigned gws, unsigned panels, sw_tigo_sim_firmware fw,
                            sw_tigo_sim_event_cb cb, void *user)
{
    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, seed, start);
    cfg.gateways = gws;
    cfg.panels = panels;
    cfg.firmware = fw;
    cfg.shaded = true;
    cfg.failing = true;
    sw_tigo_sim *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(sw_tigo_sim_init(s, &cfg, cb, user), SW_OK);
    return s;
}

/* Pull frames for `seconds` of bus time into one malloc'd stream. */
typedef struct stream {
    uint8_t *bytes;
    size_t len, cap;
    size_t frames;
    int64_t *ends; /* bus time per frame */
    size_t *offs;  /* end offset per frame */
} stream;

static void pull(sw_tigo_sim *s, int64_t until_ns, stream *st)
{
    memset(st, 0, sizeof *st);
    size_t fcap = 0;
    int64_t last = INT64_MIN;
    for (;;) {
        uint8_t buf[SW_TIGO_SIM_FRAME_MAX];
        size_t n = 0;
        int64_t t = 0;
        if (sw_tigo_sim_peek_time(s) > until_ns)
            break;
        assert_int_equal(sw_tigo_sim_next(s, buf, sizeof buf, &n, &t), SW_OK);
        assert_true(t >= last); /* bus time never goes backwards */
        last = t;
        if (st->len + n > st->cap) {
            st->cap = (st->cap + n) * 2;
            st->bytes = realloc(st->bytes, st->cap);
            assert_non_null(st->bytes);
        }
        memcpy(st->bytes + st->len, buf, n);
        st->len += n;
        if (st->frames == fcap) {
            fcap = fcap ? fcap * 2 : 1024;
            st->ends = realloc(st->ends, fcap * sizeof *st->ends);
            st->offs = realloc(st->offs, fcap * sizeof *st->offs);
            assert_true(st->ends && st->offs);
        }
        st->ends[st->frames] = t;
        st->offs[st->frames] = st->len;
        st->frames++;
    }
}

static void free_stream(stream *st)
{
    free(st->bytes);
    free(st->ends);
    free(st->offs);
}

static void test_config_checked(void **state)
{
    (void)state;
    sw_tigo_sim_config cfg;
    sw_tigo_sim *s = malloc(sizeof *s);
    assert_non_null(s);
    static const struct {
        unsigned gws, panels, poll;
        int fw;
    } bad[] = { { 0, 10, 100, 0 }, { 9, 10, 100, 0 }, { 1, 0, 100, 0 }, { 1, 65, 100, 0 }, { 1, 10, 0, 0 },
                { 1, 10, 100, 3 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_tigo_sim_config_default(&cfg, 1, at_utc(12, 0));
        cfg.gateways = bad[i].gws;
        cfg.panels = bad[i].panels;
        cfg.poll_ms = bad[i].poll;
        cfg.firmware = (sw_tigo_sim_firmware)bad[i].fw;
        assert_int_equal(sw_tigo_sim_init(s, &cfg, NULL, NULL), SW_ERR_INVALID_ARGUMENT);
    }
    sw_tigo_sim_config_default(&cfg, 1, at_utc(12, 0));
    assert_int_equal(sw_tigo_sim_init(s, &cfg, NULL, NULL), SW_OK);
    uint8_t tiny[4];
    size_t n;
    int64_t t;
    assert_int_equal(sw_tigo_sim_next(s, tiny, sizeof tiny, &n, &t), SW_ERR_NO_SPACE);
    free(s);
}

static void test_deterministic(void **state)
{
    (void)state;
    stream a, b, c;
    sw_tigo_sim *s1 = new_sim(42, at_utc(9, 0), 2, 6, SW_TIGO_SIM_FW_CLASSIC, NULL, NULL);
    sw_tigo_sim *s2 = new_sim(42, at_utc(9, 0), 2, 6, SW_TIGO_SIM_FW_CLASSIC, NULL, NULL);
    sw_tigo_sim *s3 = new_sim(43, at_utc(9, 0), 2, 6, SW_TIGO_SIM_FW_CLASSIC, NULL, NULL);
    pull(s1, at_utc(9, 2), &a);
    pull(s2, at_utc(9, 2), &b);
    pull(s3, at_utc(9, 2), &c);
    assert_true(a.len > 10000);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.bytes, b.bytes, a.len);
    assert_memory_equal(a.ends, b.ends, a.frames * sizeof a.ends[0]);
    /* another seed: other addresses, other values */
    assert_true(a.len != c.len || memcmp(a.bytes, c.bytes, a.len) != 0);
    free_stream(&a);
    free_stream(&b);
    free_stream(&c);
    free(s1);
    free(s2);
    free(s3);
}

/* ---- link and transport view of a stream ------------------------------------------ */
typedef struct tally {
    size_t frames;
    unsigned frame_types[0x10000 / 16]; /* count per type, folded (only a few types exist) */
    unsigned seen_type[32];
    uint16_t type_list[32];
    size_t n_types;
    unsigned pv_types[256];   /* PV packets inside receive responses */
    unsigned cmd_types[256];  /* command request packet types */
    unsigned resp_types[256]; /* command response packet types */
    size_t responses;
    unsigned status_low[256];
    unsigned status_high[256];
    unsigned bad_slot;
    unsigned epochs_seen; /* bit per epoch of the response slot counters */
    unsigned super_steps, super_wrong; /* fw4: the status high byte's counter steps exactly at a wrap */
    /* per gateway: last (time, counter) to check the counter runs at 5 ms a slot */
    uint16_t last_sc[8];
    uint16_t last_status[8];
    int64_t last_t[8];
    bool has_last[8];
    unsigned slot_mismatch;
    int64_t now;
    /* E0 every 16th response of a gateway */
    unsigned since_full[8];
    bool seen_full[8];
    unsigned full_gap_wrong;
} tally;

static void note_type(tally *t, uint16_t type)
{
    for (size_t i = 0; i < t->n_types; i++)
        if (t->type_list[i] == type) {
            t->seen_type[i]++;
            return;
        }
    if (t->n_types < 32) {
        t->type_list[t->n_types] = type;
        t->seen_type[t->n_types++] = 1;
    }
}

static unsigned type_count(const tally *t, uint16_t type)
{
    for (size_t i = 0; i < t->n_types; i++)
        if (t->type_list[i] == type)
            return t->seen_type[i];
    return 0;
}

static int on_transport(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    tally *t = user;
    unsigned g = (ev->gateway_id - SW_TIGO_SIM_FIRST_GATEWAY) & 7u;
    switch (ev->kind) {
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE: {
        const sw_tigo_receive_response *r = &ev->u.receive_response.response;
        t->responses++;
        t->status_low[r->status & 0xFF]++;
        t->status_high[r->status >> 8]++;
        if (!sw_tigo_slot_valid(r->slot_counter))
            t->bad_slot++;
        t->epochs_seen |= 1u << sw_tigo_slot_epoch(r->slot_counter);
        uint32_t a = 0;
        sw_tigo_slot_absolute(r->slot_counter, &a);
        if (t->has_last[g] && (r->status >> 8) != 0) {
            unsigned prev = (t->last_status[g] >> 14) & 3u, now = (r->status >> 14) & 3u;
            bool wrapped = sw_tigo_slot_epoch(r->slot_counter) < sw_tigo_slot_epoch(t->last_sc[g]);
            if (now != (wrapped ? (prev + 1) % 4 : prev))
                t->super_wrong++;
            t->super_steps += wrapped;
        }
        t->last_status[g] = r->status;
        if (t->has_last[g]) {
            uint32_t d = 0;
            sw_tigo_slots_between(r->slot_counter, t->last_sc[g], &d);
            int64_t want = (t->now - t->last_t[g]) / 5000000LL;
            /* the counter was latched at the end of the request; response timing jitters by < 15 ms */
            if ((int64_t)d < want - 4 || (int64_t)d > want + 4)
                t->slot_mismatch++;
        }
        t->has_last[g] = true;
        t->last_sc[g] = r->slot_counter;
        t->last_t[g] = t->now;
        if ((r->status & 0x1F) == 0) {
            if (t->seen_full[g] && t->since_full[g] != 16)
                t->full_gap_wrong++;
            t->seen_full[g] = true;
            t->since_full[g] = 0;
        }
        t->since_full[g]++;
        break;
    }
    case SW_TIGO_TRANSPORT_EVENT_PV_PACKET:
        t->pv_types[ev->u.pv_packet.packet.type]++;
        break;
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED:
        t->cmd_types[ev->u.command.request.packet_type]++;
        t->resp_types[ev->u.command.response.packet_type]++;
        break;
    default:
        break;
    }
    return 0;
}

static int on_frame(sw_tigo_link_receiver *owner, const sw_tigo_frame *f, void *user)
{
    (void)owner;
    tally *t = user;
    t->frames++;
    note_type(t, f->type);
    return 0;
}

/* Feed frame by frame (so the tally knows each frame's time) through link + transport. */
static void tally_stream(const stream *st, tally *t)
{
    static sw_tigo_stack stack;
    memset(t, 0, sizeof *t);
    sw_tigo_stack_init(&stack, SW_TIGO_LINK_MODE_REFERENCE, 0, on_transport, t);
    stack.on_frame = on_frame;
    stack.frame_user = t;
    size_t off = 0;
    for (size_t i = 0; i < st->frames; i++) {
        /* receive responses carry the counter latched at the request's end: use that time */
        t->now = i > 0 ? st->ends[i - 1] : st->ends[i];
        sw_tigo_stack_push(&stack, st->bytes + off, st->offs[i] - off, NULL);
        off = st->offs[i];
    }
    const sw_tigo_link_counters *c = &stack.link.counters;
    assert_int_equal(c->frames, st->frames);
    assert_int_equal(c->runts, 0);
    assert_int_equal(c->giants, 0);
    assert_int_equal(c->checksums, 0);
    assert_int_equal(c->noise, 0);
    const sw_tigo_transport_counters *tc = &stack.transport.counters;
    assert_int_equal(tc->invalid_receive_responses, 0);
    assert_int_equal(tc->invalid_receive_request, 0);
    assert_int_equal(tc->invalid_command_requests, 0);
    assert_int_equal(tc->invalid_command_responses, 0);
    assert_int_equal(tc->receive_packet_too_short, 0);
    assert_int_equal(tc->retransmitted_command_responses, 0);
}

static void test_frames_valid_classic(void **state)
{
    (void)state;
    stream st;
    tally *t = calloc(1, sizeof *t);
    sw_tigo_sim *s = new_sim(7, at_utc(10, 0), 3, 8, SW_TIGO_SIM_FW_CLASSIC, NULL, NULL);
    pull(s, at_utc(10, 5), &st);
    tally_stream(&st, t);
    assert_true(t->responses > 1000);
    assert_int_equal(t->bad_slot, 0);
    assert_int_equal(t->slot_mismatch, 0);
    assert_int_equal(t->full_gap_wrong, 0);
    /* classic firmware: high byte zero, low byte only from the observed rotation */
    assert_int_equal(t->status_high[0], t->responses);
    assert_true(t->status_low[0xE0] > 0 && t->status_low[0xFF] > 0 && t->status_low[0xFE] > 0);
    assert_int_equal(t->status_low[0xE0] + t->status_low[0xEE] + t->status_low[0xFE] + t->status_low[0xFF],
                     t->responses);
    /* one full status in sixteen */
    assert_true(t->status_low[0xE0] * 16 <= t->responses + 3 * 16);
    assert_true(t->status_low[0xE0] * 16 >= t->responses - 3 * 16);
    free_stream(&st);
    free(s);
    free(t);
}

static void test_status_high_byte_changes(void **state)
{
    (void)state;
    /* Packet numbers cross a high-byte boundary within minutes: that response must carry 00EE. */
    stream st;
    tally *t = calloc(1, sizeof *t);
    sw_tigo_sim *s = new_sim(11, at_utc(11, 0), 1, 20, SW_TIGO_SIM_FW_CLASSIC, NULL, NULL);
    pull(s, at_utc(11, 30), &st);
    tally_stream(&st, t);
    assert_true(t->status_low[0xEE] > 0);
    free_stream(&st);
    free(s);
    free(t);
}

static void test_fw4_status_and_superepoch(void **state)
{
    (void)state;
    stream st;
    tally *t = calloc(1, sizeof *t);
    sw_tigo_sim *s = new_sim(5, at_utc(12, 0), 1, 4, SW_TIGO_SIM_FW_4, NULL, NULL);
    pull(s, at_utc(12, 10), &st); /* 10 minutes: at least two 4-minute wraps */
    tally_stream(&st, t);
    assert_int_equal(t->status_high[0], 0);
    unsigned kinds = 0;
    static const uint8_t allowed[4] = { 0x01, 0x41, 0x81, 0xC1 };
    unsigned sum = 0;
    for (int i = 0; i < 4; i++) {
        kinds += t->status_high[allowed[i]] > 0;
        sum += t->status_high[allowed[i]];
    }
    assert_int_equal(sum, t->responses);
    assert_true(kinds >= 2);
    /* ten minutes run through all four epochs of the slot counter, and the low byte keeps its rotation */
    assert_int_equal(t->epochs_seen, 0xF);
    assert_true(t->super_steps >= 2);
    assert_int_equal(t->super_wrong, 0);
    assert_int_equal(t->bad_slot, 0);
    assert_int_equal(t->slot_mismatch, 0);
    assert_int_equal(t->full_gap_wrong, 0);
    assert_int_equal(t->status_low[0xE0] + t->status_low[0xEE] + t->status_low[0xFE] + t->status_low[0xFF],
                     t->responses);
    assert_int_equal(t->pv_types[SW_TIGO_PT_POWER_REPORT] > 0, 1);
    free_stream(&st);
    free(s);
    free(t);
}

/* ---- the sun -------------------------------------------------------------------- */
typedef struct truth {
    sw_tigo_sim_report *r;
    size_t n, cap;
    unsigned joined, left;
    size_t stop_after;        /* return 5 once this many reports are in; 0: never */
    const sw_tigo_sim *owner; /* the simulator expected to call, when set */
} truth;

static int on_sim_event(sw_tigo_sim *s, const sw_tigo_sim_event *ev, void *user)
{
    truth *tr = user;
    if (tr->owner)
        assert_ptr_equal(s, tr->owner);
    if (ev->kind == SW_TIGO_SIM_EV_NODE_JOINED)
        tr->joined++;
    if (ev->kind == SW_TIGO_SIM_EV_NODE_LEFT)
        tr->left++;
    if (ev->kind != SW_TIGO_SIM_EV_REPORT_SENT)
        return 0;
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? tr->cap * 2 : 256;
        tr->r = realloc(tr->r, tr->cap * sizeof *tr->r);
        assert_non_null(tr->r);
    }
    tr->r[tr->n++] = *ev->report;
    return tr->stop_after && tr->n >= tr->stop_after ? 5 : 0;
}

/*
 * The callback is handed the simulator and can stop the events; the bus goes
 * on the same. A simulator moved between pulls goes on where it was.
 */
static void test_events_stop_and_move(void **state)
{
    (void)state;
    truth all = { 0 };
    stream whole, first, rest;
    sw_tigo_sim *s = new_sim(3, at_utc(11, 0), 1, 4, SW_TIGO_SIM_FW_CLASSIC, on_sim_event, &all);
    all.owner = s;
    pull(s, at_utc(11, 2), &whole);
    assert_true(all.n >= 4 * 5);
    assert_int_equal(sw_tigo_sim_stopped(s), 0);
    free(s);

    truth some = { .stop_after = 3 };
    s = new_sim(3, at_utc(11, 0), 1, 4, SW_TIGO_SIM_FW_CLASSIC, on_sim_event, &some);
    some.owner = s;
    pull(s, at_utc(11, 2), &first);
    assert_int_equal(some.n, 3);
    assert_int_equal(sw_tigo_sim_stopped(s), 5);
    assert_int_equal(first.len, whole.len);
    assert_memory_equal(first.bytes, whole.bytes, whole.len);
    free_stream(&first);
    free(s);
    free(some.r);

    truth moved = { 0 };
    s = new_sim(3, at_utc(11, 0), 1, 4, SW_TIGO_SIM_FW_CLASSIC, on_sim_event, &moved);
    moved.owner = s;
    pull(s, at_utc(11, 1), &first);
    sw_tigo_sim *b = tu_move(s, sizeof *s);
    moved.owner = b;
    pull(b, at_utc(11, 2), &rest);
    assert_int_equal(first.len + rest.len, whole.len);
    assert_memory_equal(first.bytes, whole.bytes, first.len);
    assert_memory_equal(rest.bytes, whole.bytes + first.len, rest.len);
    assert_int_equal(moved.n, all.n);
    for (size_t i = 0; i < all.n; i++) {
        assert_int_equal(moved.r[i].node, all.r[i].node);
        assert_true(moved.r[i].measured_ns == all.r[i].measured_ns);
        assert_int_equal(moved.r[i].slot_counter, all.r[i].slot_counter);
    }
    free_stream(&first);
    free_stream(&rest);
    free_stream(&whole);
    free(b);
    free(all.r);
    free(moved.r);
}

static void test_sun_curve(void **state)
{
    (void)state;
    /* Midnight to 01:00 local: nothing reports. */
    truth tr = { 0 };
    stream st;
    sw_tigo_sim *s = new_sim(3, at_utc(22, 30), 1, 4, SW_TIGO_SIM_FW_CLASSIC, on_sim_event, &tr);
    pull(s, at_utc(23, 0), &st);
    assert_int_equal(tr.n, 0);
    free_stream(&st);
    free(s);

    /* Around noon: every node reports every 20 s with real current; a clear sky beats a dawn. */
    memset(&tr, 0, sizeof tr);
    s = new_sim(3, at_utc(11, 0), 1, 4, SW_TIGO_SIM_FW_CLASSIC, on_sim_event, &tr);
    pull(s, at_utc(11, 2), &st);
    assert_true(tr.n >= 4 * 5);
    double noon_current = 0;
    for (size_t i = 0; i < tr.n; i++)
        if (tr.r[i].node != SW_TIGO_SIM_FIRST_NODE + 3) /* the failing one */
            noon_current += tr.r[i].current_raw / 200.0;
    free_stream(&st);
    free(s);
    free(tr.r);

    memset(&tr, 0, sizeof tr);
    s = new_sim(3, at_utc(3, 30), 1, 4, SW_TIGO_SIM_FW_CLASSIC, on_sim_event, &tr);
    pull(s, at_utc(3, 32), &st);
    double dawn_current = 0;
    for (size_t i = 0; i < tr.n; i++)
        if (tr.r[i].node != SW_TIGO_SIM_FIRST_NODE + 3)
            dawn_current += tr.r[i].current_raw / 200.0;
    assert_true(noon_current > 3.0 * dawn_current + 1.0);
    free_stream(&st);
    free(s);
    free(tr.r);
}

static void test_sunrise_joins(void **state)
{
    (void)state;
    /* 03:00 UTC to 03:50 UTC covers sunrise at 50 N, 10 E in June: nodes join, with topology reports. */
    truth tr = { 0 };
    stream st;
    tally *t = calloc(1, sizeof *t);
    sw_tigo_sim *s = new_sim(9, at_utc(3, 0), 1, 6, SW_TIGO_SIM_FW_CLASSIC, on_sim_event, &tr);
    pull(s, at_utc(3, 50), &st);
    tally_stream(&st, t);
    assert_int_equal(tr.joined, 6);
    assert_int_equal(t->pv_types[SW_TIGO_PT_TOPOLOGY_REPORT], 6);
    assert_true(tr.n > 0);
    /* no report measured before its node's join */
    assert_true(tr.r[0].measured_ns > at_utc(3, 10));
    free_stream(&st);
    free(s);
    free(t);
    free(tr.r);
}

/* ---- round trip through the observer ---------------------------------------------- */
typedef struct seen {
    sw_tigo_power_report *r;
    uint16_t *gw, *node;
    int64_t *ts;
    char (*barcode)[SW_TIGO_BARCODE_MAX];
    size_t n, cap;
    unsigned infra;
} seen;

static int on_obs(sw_tigo_observer *owner, const sw_tigo_observer_event *ev, void *user)
{
    (void)owner;
    seen *s = user;
    if (ev->kind == SW_TIGO_OBSERVER_INFRASTRUCTURE)
        s->infra++;
    if (ev->kind != SW_TIGO_OBSERVER_POWER_REPORT)
        return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->r = realloc(s->r, s->cap * sizeof *s->r);
        s->gw = realloc(s->gw, s->cap * sizeof *s->gw);
        s->node = realloc(s->node, s->cap * sizeof *s->node);
        s->ts = realloc(s->ts, s->cap * sizeof *s->ts);
        s->barcode = realloc(s->barcode, s->cap * sizeof *s->barcode);
        assert_true(s->r && s->gw && s->node && s->ts && s->barcode);
    }
    const sw_tigo_power_event *p = &ev->u.power;
    s->r[s->n] = *p->report;
    s->gw[s->n] = p->gateway;
    s->node[s->n] = p->node;
    s->ts[s->n] = p->timestamp_ns;
    s->barcode[s->n][0] = 0;
    if (p->node_barcode)
        snprintf(s->barcode[s->n], SW_TIGO_BARCODE_MAX, "%s", p->node_barcode);
    s->n++;
    return 0;
}

static void free_seen(seen *s)
{
    free(s->r);
    free(s->gw);
    free(s->node);
    free(s->ts);
    free(s->barcode);
}

static const struct rt_case {
    const char *name;
    sw_tigo_sim_firmware fw;
    unsigned gateways, panels;
    int start_h, start_m, minutes;
} rt_cases[] = {
    { "classic, one TAP, dawn", SW_TIGO_SIM_FW_CLASSIC, 1, 5, 3, 20, 20 },
    { "classic, three TAPs, noon", SW_TIGO_SIM_FW_CLASSIC, 3, 10, 11, 0, 6 },
    { "fw4, two TAPs, dawn", SW_TIGO_SIM_FW_4, 2, 7, 3, 20, 20 },
    { "fw4, one TAP, afternoon", SW_TIGO_SIM_FW_4, 1, 12, 14, 0, 6 },
};

static void run_round_trip(const struct rt_case *c)
{
    truth tr = { 0 };
    seen sn = { 0 };
    stream st;
    sw_tigo_sim *s = new_sim(1234, at_utc(c->start_h, c->start_m), c->gateways, c->panels, c->fw, on_sim_event, &tr);
    pull(s, at_utc(c->start_h, c->start_m + c->minutes), &st);
    sw_tigo_observer *o = malloc(sizeof *o);
    assert_non_null(o);
    sw_tigo_observer_init(o, 0, on_obs, &sn);
    size_t off = 0;
    for (size_t i = 0; i < st.frames; i++) {
        sw_tigo_observer_push(o, st.bytes + off, st.offs[i] - off, st.ends[i], NULL);
        off = st.offs[i];
    }
    /* Every report the simulator sent after the observer had a clock comes out, in order, with its raw
     * fields intact. Reports sent before the first poll of their gateway (none: polls come first) would
     * be dropped, so the counts must match exactly. */
    assert_true(tr.n > 20);
    assert_int_equal(sn.n, tr.n);
    for (size_t i = 0; i < tr.n; i++) {
        const sw_tigo_sim_report *w = &tr.r[i];
        const sw_tigo_power_report *g = &sn.r[i];
        assert_int_equal(sn.gw[i], w->gateway);
        assert_int_equal(sn.node[i], w->node);
        assert_int_equal(g->voltage_in_raw, w->voltage_in_raw);
        assert_int_equal(g->voltage_out_raw, w->voltage_out_raw);
        assert_int_equal(g->duty_cycle_raw, w->duty_cycle_raw);
        assert_int_equal(g->current_raw, w->current_raw);
        assert_int_equal(g->temperature_raw, w->temperature_raw);
        assert_int_equal(g->slot_counter, w->slot_counter);
        assert_int_equal(g->rssi, w->rssi);
        assert_int_equal(13 + g->extra_len, w->len);
        /* the slot clock puts the report at its measurement instant (within the request's latch jitter) */
        int64_t d = sn.ts[i] - w->measured_ns;
        assert_true(d > -10000000LL && d < 10000000LL);
        /* the node-table sweep at start-up names every node */
        unsigned gi = (unsigned)(w->gateway - SW_TIGO_SIM_FIRST_GATEWAY);
        char want[SW_TIGO_BARCODE_MAX];
        sw_tigo_barcode_format(sw_tigo_sim_node_address(s, gi, w->node - SW_TIGO_SIM_FIRST_NODE), want);
        assert_string_equal(sn.barcode[i], want);
    }
    /* identities and versions from the enumeration, tables from the sweep */
    const sw_tigo_state *state = sw_tigo_observer_state(o);
    for (unsigned gi = 0; gi < c->gateways; gi++) {
        const sw_tigo_gateway_record *rec = sw_tigo_state_gateway(state, sw_tigo_sim_gateway_id(s, gi));
        assert_non_null(rec);
        assert_true(rec->has_address);
        assert_memory_equal(rec->address, sw_tigo_sim_gateway_address(s, gi), 8);
        assert_true(rec->has_version);
        assert_string_equal(rec->version, sw_tigo_sim_gateway_version(s));
        for (unsigned j = 0; j < c->panels; j++) {
            const uint8_t *a = sw_tigo_state_node_address(state, sw_tigo_sim_gateway_id(s, gi),
                                                          (uint16_t)(SW_TIGO_SIM_FIRST_NODE + j));
            assert_non_null(a);
            assert_memory_equal(a, sw_tigo_sim_node_address(s, gi, j), 8);
        }
    }
    /* no gateway beyond the simulated ones (the enumeration address is not kept) */
    assert_null(sw_tigo_state_gateway(state, 0x1235));
    assert_null(sw_tigo_state_gateway(state, (uint16_t)(SW_TIGO_SIM_FIRST_GATEWAY + c->gateways)));
    const sw_tigo_observer_counters *oc = sw_tigo_observer_get_counters(o);
    assert_int_equal(oc->invalid_power_reports, 0);
    assert_int_equal(oc->reports_without_clock, 0);
    assert_int_equal(oc->extended_power_reports, c->fw == SW_TIGO_SIM_FW_4 ? tr.n : 0);
    assert_true(sn.infra > 0);
    free_seen(&sn);
    free(tr.r);
    free(o);
    free_stream(&st);
    free(s);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rt_cases / sizeof rt_cases[0]; i++)
        run_round_trip(&rt_cases[i]);
}

/* Every frame and packet type the simulator claims to produce really is on the bus, for both firmwares. */
static void test_every_packet_type(void **state)
{
    (void)state;
    for (int fw = 0; fw < 2; fw++) {
        stream st;
        tally *t = calloc(1, sizeof *t);
        /* night (the enumeration at start) into sunrise (joins, strings, PV configuration, reports) */
        sw_tigo_sim *s = new_sim(77, at_utc(3, 10), 2, 4, fw ? SW_TIGO_SIM_FW_4 : SW_TIGO_SIM_FW_CLASSIC, NULL,
                                 NULL);
        pull(s, at_utc(3, 50), &st);
        tally_stream(&st, t);
        static const uint16_t frame_types[] = {
            SW_TIGO_FT_RECEIVE_REQUEST, SW_TIGO_FT_RECEIVE_RESPONSE, SW_TIGO_FT_COMMAND_REQUEST,
            SW_TIGO_FT_COMMAND_RESPONSE, SW_TIGO_FT_PING_REQUEST, SW_TIGO_FT_PING_RESPONSE,
            SW_TIGO_FT_ENUMERATION_START_REQUEST, SW_TIGO_FT_ENUMERATION_START_RESPONSE,
            SW_TIGO_FT_ENUMERATION_REQUEST, SW_TIGO_FT_ENUMERATION_RESPONSE, SW_TIGO_FT_ASSIGN_GATEWAY_ID_REQUEST,
            SW_TIGO_FT_ASSIGN_GATEWAY_ID_RESPONSE, SW_TIGO_FT_IDENTIFY_REQUEST, SW_TIGO_FT_IDENTIFY_RESPONSE,
            SW_TIGO_FT_VERSION_REQUEST, SW_TIGO_FT_VERSION_RESPONSE, SW_TIGO_FT_ENUMERATION_END_REQUEST,
            SW_TIGO_FT_ENUMERATION_END_RESPONSE
        };
        for (size_t i = 0; i < sizeof frame_types / sizeof frame_types[0]; i++)
            assert_true(type_count(t, frame_types[i]) > 0);
        assert_true(t->pv_types[SW_TIGO_PT_POWER_REPORT] > 0);
        assert_true(t->pv_types[SW_TIGO_PT_TOPOLOGY_REPORT] > 0);
        assert_true(t->pv_types[SW_TIGO_PT_STRING_RESPONSE] > 0);
        assert_true(t->pv_types[SW_TIGO_PT_PV_CONFIGURATION_RESPONSE] > 0);
        assert_true(t->cmd_types[SW_TIGO_PT_NODE_TABLE_REQUEST] > 0);
        assert_true(t->resp_types[SW_TIGO_PT_NODE_TABLE_RESPONSE] > 0);
        assert_true(t->cmd_types[SW_TIGO_PT_STRING_REQUEST] > 0);
        assert_true(t->cmd_types[SW_TIGO_PT_PV_CONFIGURATION_REQUEST] > 0);
        assert_true(t->cmd_types[SW_TIGO_PT_NETWORK_STATUS_REQUEST] + t->cmd_types[SW_TIGO_PT_LONG_NETWORK_STATUS_REQUEST] >
                    0);
        assert_true(t->resp_types[SW_TIGO_PT_NETWORK_STATUS_RESPONSE] > 0);
        free_stream(&st);
        free(s);
        free(t);
    }
}

/* Decoded application payloads carry what the simulator put in (strings, topology, network status). */
typedef struct app_check {
    const sw_tigo_sim *sim;
    unsigned strings_version, strings_info, topology, net_status, pv_config;
} app_check;

static int on_app(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    app_check *a = user;
    sw_tigo_app_message m;
    if (ev->kind == SW_TIGO_TRANSPORT_EVENT_PV_PACKET) {
        const sw_tigo_pv_packet *p = &ev->u.pv_packet.packet;
        sw_tigo_app_decode(p->type, p->data, p->data_len, &m);
        unsigned gi = (unsigned)(ev->gateway_id - SW_TIGO_SIM_FIRST_GATEWAY);
        if (m.kind == SW_TIGO_APP_STRING_RESPONSE) {
            if (m.u.string_response.len > 13 && memcmp(m.u.string_response.text, "Mnode Version", 13) == 0)
                a->strings_version++;
            if (m.u.string_response.len > 5 && memcmp(m.u.string_response.text, "!Info", 5) == 0)
                a->strings_info++;
        } else if (m.kind == SW_TIGO_APP_TOPOLOGY_REPORT) {
            assert_true(m.u.topology.reference_length);
            assert_int_equal(m.u.topology.node_id, p->node_id);
            assert_int_equal(m.u.topology.short_address, p->short_address);
            assert_memory_equal(m.u.topology.long_address,
                                sw_tigo_sim_node_address(a->sim, gi, p->node_id - SW_TIGO_SIM_FIRST_NODE), 8);
            a->topology++;
        } else if (m.kind == SW_TIGO_APP_PV_CONFIG_RESPONSE) {
            assert_int_equal(m.u.pv_config_response.pan_id, 0x24F6);
            a->pv_config++;
        }
    } else if (ev->kind == SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED &&
               ev->u.command.response.packet_type == SW_TIGO_PT_NETWORK_STATUS_RESPONSE) {
        sw_tigo_app_decode(SW_TIGO_PT_NETWORK_STATUS_RESPONSE, ev->u.command.response.data,
                           ev->u.command.response.data_len, &m);
        assert_int_equal(m.kind, SW_TIGO_APP_NETWORK_STATUS_RESPONSE);
        assert_int_equal(m.u.network_status.node_counts[1], a->sim->cfg.panels);
        assert_true(m.u.network_status.node_counts[0] <= a->sim->cfg.panels);
        a->net_status++;
    } else if (ev->kind == SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED &&
               ev->u.command.request.packet_type == SW_TIGO_PT_PV_CONFIGURATION_REQUEST) {
        sw_tigo_app_decode(SW_TIGO_PT_PV_CONFIGURATION_REQUEST, ev->u.command.request.data,
                           ev->u.command.request.data_len, &m);
        assert_int_equal(m.kind, SW_TIGO_APP_PV_CONFIG_REQUEST);
        assert_int_equal(m.u.pv_config_request.period_slots, SW_TIGO_SIM_REPORT_PERIOD);
        assert_int_equal(m.u.pv_config_request.report_packet_type, SW_TIGO_PT_POWER_REPORT);
    }
    return 0;
}

static void test_application_payloads(void **state)
{
    (void)state;
    for (int fw = 0; fw < 2; fw++) {
        stream st;
        sw_tigo_sim *s = new_sim(99, at_utc(3, 10), 1, 5, fw ? SW_TIGO_SIM_FW_4 : SW_TIGO_SIM_FW_CLASSIC, NULL, NULL);
        pull(s, at_utc(3, 50), &st);
        app_check a = { .sim = s };
        static sw_tigo_stack stack;
        sw_tigo_stack_init(&stack, SW_TIGO_LINK_MODE_IMPROVED, 0, on_app, &a);
        sw_tigo_stack_push(&stack, st.bytes, st.len, NULL);
        assert_int_equal(a.topology, 5);
        assert_int_equal(a.strings_version, 5);
        assert_int_equal(a.strings_info, 5);
        assert_int_equal(a.pv_config, 5);
        assert_true(a.net_status > 10);
        free_stream(&st);
        free(s);
    }
}

/* The largest installation saturates the bus: commands must still get through, nothing may overflow. */
static void test_largest_bus(void **state)
{
    (void)state;
    stream st;
    sw_tigo_sim *s = new_sim(21, at_utc(3, 0), SW_TIGO_SIM_MAX_GATEWAYS, SW_TIGO_SIM_MAX_PANELS,
                             SW_TIGO_SIM_FW_CLASSIC, NULL, NULL);
    pull(s, at_utc(3, 50), &st);
    app_check a = { .sim = s };
    static sw_tigo_stack stack;
    sw_tigo_stack_init(&stack, SW_TIGO_LINK_MODE_REFERENCE, 0, on_app, &a);
    sw_tigo_stack_push(&stack, st.bytes, st.len, NULL);
    const unsigned nodes = SW_TIGO_SIM_MAX_GATEWAYS * SW_TIGO_SIM_MAX_PANELS;
    assert_int_equal(a.topology, nodes);
    assert_int_equal(a.strings_version, nodes);
    assert_int_equal(a.strings_info, nodes);
    assert_int_equal(a.pv_config, nodes);
    assert_int_equal(sw_tigo_sim_get_counters(s)->queue_overflows, 0);
    assert_int_equal(stack.link.counters.checksums + stack.link.counters.giants + stack.link.counters.runts, 0);
    /* and the observer learns every table */
    sw_tigo_observer *o = malloc(sizeof *o);
    assert_non_null(o);
    sw_tigo_observer_init(o, 0, NULL, NULL);
    size_t off = 0;
    for (size_t i = 0; i < st.frames; i++) {
        sw_tigo_observer_push(o, st.bytes + off, st.offs[i] - off, st.ends[i], NULL);
        off = st.offs[i];
    }
    for (unsigned gi = 0; gi < SW_TIGO_SIM_MAX_GATEWAYS; gi++)
        for (unsigned j = 0; j < SW_TIGO_SIM_MAX_PANELS; j++) {
            const uint8_t *addr = sw_tigo_state_node_address(sw_tigo_observer_state(o), sw_tigo_sim_gateway_id(s, gi),
                                                             (uint16_t)(SW_TIGO_SIM_FIRST_NODE + j));
            assert_non_null(addr);
            assert_memory_equal(addr, sw_tigo_sim_node_address(s, gi, j), 8);
        }
    free(o);
    free_stream(&st);
    free(s);
}

/* ---- chunking: any split of the byte stream decodes the same ---------------------------- */
typedef struct fsig {
    uint32_t hash[64];
    size_t n;
} fsig;

static int on_sig(sw_tigo_link_receiver *owner, const sw_tigo_frame *f, void *user)
{
    (void)owner;
    fsig *s = user;
    uint32_t x = 2166136261u ^ f->address ^ ((uint32_t)f->type << 16);
    for (size_t i = 0; i < f->payload_len; i++)
        x = (x ^ f->payload[i]) * 16777619u;
    if (s->n < 64)
        s->hash[s->n] = x;
    s->n++;
    return 0;
}

static void test_any_chunking(void **state)
{
    (void)state;
    stream st;
    sw_tigo_sim *s = new_sim(5, at_utc(12, 0), 1, 10, SW_TIGO_SIM_FW_4, NULL, NULL);
    pull(s, at_utc(12, 0) + 2 * SEC, &st);
    /* the first 40 frames: enumeration, sweep and polls with reports */
    size_t len = st.offs[39];
    sw_tigo_link_receiver rx;
    fsig whole = { 0 }, part;
    sw_tigo_link_receiver_init(&rx, SW_TIGO_LINK_MODE_REFERENCE, on_sig, &whole);
    sw_tigo_link_receiver_push(&rx, st.bytes, len, NULL);
    assert_int_equal(whole.n, 40);
    for (size_t cut = 0; cut <= len; cut++) {
        memset(&part, 0, sizeof part);
        sw_tigo_link_receiver_init(&rx, SW_TIGO_LINK_MODE_REFERENCE, on_sig, &part);
        sw_tigo_link_receiver_push(&rx, st.bytes, cut, NULL);
        sw_tigo_link_receiver_push(&rx, st.bytes + cut, len - cut, NULL);
        assert_int_equal(part.n, whole.n);
        assert_memory_equal(part.hash, whole.hash, sizeof whole.hash);
    }
    memset(&part, 0, sizeof part);
    sw_tigo_link_receiver_init(&rx, SW_TIGO_LINK_MODE_REFERENCE, on_sig, &part);
    for (size_t i = 0; i < len; i++)
        sw_tigo_link_receiver_push(&rx, st.bytes + i, 1, NULL);
    assert_memory_equal(part.hash, whole.hash, sizeof whole.hash);
    free_stream(&st);
    free(s);
}

/* The report packer reproduces every published report from its raw fields (the decoder's vectors). */
static void test_pack_report_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/power_reports.json");
    size_t i, checked = 0;
    json_t *c;
    json_array_foreach(tu_get(root, "cases"), i, c) {
        size_t n = 0, un = 0;
        uint8_t *want = tu_hex_member(c, "data_hex", &n);
        json_t *raw = tu_get(c, "raw");
        if (n == 13) {
            sw_tigo_sim_report r;
            memset(&r, 0, sizeof r);
            r.voltage_in_raw = (uint16_t)tu_int(raw, "voltage_in");
            r.voltage_out_raw = (uint16_t)tu_int(raw, "voltage_out");
            r.duty_cycle_raw = (uint8_t)tu_int(raw, "dc_dc_duty_cycle");
            r.current_raw = (uint16_t)tu_int(raw, "current");
            r.temperature_raw = (uint16_t)tu_int(raw, "temperature_u12");
            r.slot_counter = (uint16_t)tu_int(raw, "slot_counter");
            r.rssi = (uint8_t)tu_int(raw, "rssi");
            uint8_t *unknown = tu_hex_member(raw, "unknown_hex", &un);
            assert_int_equal(un, 3);
            uint8_t got[13];
            sw_tigo_sim_pack_report(&r, unknown, got);
            assert_memory_equal(got, want, 13);
            free(unknown);
            checked++;
        }
        free(want);
    }
    assert_true(checked >= 10);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_checked),
        cmocka_unit_test(test_pack_report_vectors),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_frames_valid_classic),
        cmocka_unit_test(test_status_high_byte_changes),
        cmocka_unit_test(test_fw4_status_and_superepoch),
        cmocka_unit_test(test_sun_curve),
        cmocka_unit_test(test_sunrise_joins),
        cmocka_unit_test(test_events_stop_and_move),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_packet_type),
        cmocka_unit_test(test_application_payloads),
        cmocka_unit_test(test_largest_bus),
        cmocka_unit_test(test_any_chunking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
