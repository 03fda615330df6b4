/*
 * radio.c: report loss and the radio link per optimizer (see health/radio.h).
 */
#include "health/radio.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sunwire/tigo_pv.h"

#define MINUTE_NS 60000000000LL
#define QUARTER_NS (15 * MINUTE_NS)
#define SECOND_NS 1000000000LL
#define SLOT_NS 5000000LL
#define MIN_PERIOD_NS 1000000000LL /* a gap shorter than 1 s is a repeat, not a period */
#define TREND_MIN_QUARTERS 4        /* the day's mean needs an hour of data before a trend means anything */
#define TREND_MIN_REPORTS 10        /* ... and the 15-minute mean this many reports */

void sw_health_radio_config_default(sw_health_radio_config *c)
{
    c->loss_raise = 0.20;
    c->loss_clear = 0.10;
    c->rssi_drop_raise = 20.0;
    c->rssi_drop_clear = 10.0;
    c->min_expected = 20;
    c->window_ns = SW_HEALTH_RADIO_DEFAULT_WINDOW_NS;
}

void sw_health_radio_init(sw_health_radio *r, const sw_health_radio_config *cfg, const char *source)
{
    r->n = 0;
    r->dropped = 0;
    if (cfg)
        r->cfg = *cfg;
    else
        sw_health_radio_config_default(&r->cfg);
    if (r->cfg.window_ns < SW_HEALTH_RADIO_MINUTES)
        r->cfg.window_ns = SW_HEALTH_RADIO_DEFAULT_WINDOW_NS;
    snprintf(r->source, sizeof r->source, "%s", source ? source : "");
    r->blind_next = 0;
    memset(r->blind, 0, sizeof r->blind);
    for (size_t i = 0; i < SW_HEALTH_RADIO_MAX_PANELS; i++)
        r->panels[i].used = false;
}

/* The width of one bucket of the window: a minute by default. */
static int64_t bucket_ns(const sw_health_radio *r)
{
    return r->cfg.window_ns / SW_HEALTH_RADIO_MINUTES;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static sw_health_radio_panel *find(const sw_health_radio *r, uint16_t gw, uint16_t node)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->panels[i].gateway == gw && r->panels[i].node == node)
            return (sw_health_radio_panel *)&r->panels[i];
    return NULL;
}

static sw_health_radio_panel *get(sw_health_radio *r, uint16_t gw, uint16_t node)
{
    sw_health_radio_panel *p = find(r, gw, node);
    if (p)
        return p;
    if (r->n >= SW_HEALTH_RADIO_MAX_PANELS)
        return NULL;
    p = &r->panels[r->n++];
    memset(p, 0, sizeof *p);
    p->used = true;
    p->gateway = gw;
    p->node = node;
    p->period_ns = SW_HEALTH_RADIO_DEFAULT_PERIOD_NS;
    for (size_t i = 0; i < SW_HEALTH_RADIO_MINUTES; i++)
        p->minute[i].tag = INT64_MIN;
    for (size_t i = 0; i < SW_HEALTH_RADIO_QUARTERS; i++)
        p->quarter[i].tag = INT64_MIN;
    return p;
}

/* The bucket of a ring that counts absolute unit `abs`, emptied when it last counted another one. */
static sw_health_radio_bucket *slot(sw_health_radio_bucket *ring, size_t n, int64_t abs)
{
    int64_t i = abs % (int64_t)n;
    if (i < 0)
        i += (int64_t)n;
    sw_health_radio_bucket *b = &ring[i];
    if (b->tag != abs) {
        memset(b, 0, sizeof *b);
        b->tag = abs;
    }
    return b;
}

static void add(sw_health_radio_bucket *b, unsigned expected, int rssi)
{
    b->expected = (uint16_t)(b->expected + expected > 0xFFFFu ? 0xFFFFu : b->expected + expected);
    if (b->received < 0xFFFFu)
        b->received++;
    if (b->rssi_n < 0xFFFFu && rssi >= 0) {
        b->rssi_n++;
        b->rssi_sum += (uint32_t)rssi;
    }
}

void sw_health_radio_blind(sw_health_radio *r, int64_t from_ns, int64_t to_ns)
{
    if (to_ns <= from_ns)
        return;
    r->blind[r->blind_next] = (sw_health_radio_span){from_ns, to_ns};
    r->blind_next = (r->blind_next + 1) % SW_HEALTH_RADIO_BLIND;
}

static bool blind_between(const sw_health_radio *r, int64_t from_ns, int64_t to_ns)
{
    for (size_t i = 0; i < SW_HEALTH_RADIO_BLIND; i++)
        if (r->blind[i].to_ns > r->blind[i].from_ns && r->blind[i].from_ns < to_ns && r->blind[i].to_ns > from_ns)
            return true;
    return false;
}

sw_err sw_health_radio_report(sw_health_radio *r, uint16_t gw, uint16_t node, int64_t t, int rssi,
                              sw_panel_radio *out)
{
    sw_health_radio_panel *p = get(r, gw, node);
    if (!p) {
        r->dropped++;
        return SW_ERR_NO_SPACE;
    }
    unsigned expected = 1;
    if (p->last_ns) {
        int64_t gap = t - p->last_ns;
        if (gap < MIN_PERIOD_NS) {
            /* A repeat or a report older than the last one: it was counted as lost then; count it now as
             * received without expecting another. */
            expected = 0;
        } else if (gap <= SW_HEALTH_RADIO_GAP_NS && !blind_between(r, p->last_ns, t)) {
            /* Learn a shorter period than the default when the node reports faster (400-slot systems). */
            if (!p->period_configured && gap < p->period_ns * 3 / 4)
                p->period_ns = gap;
            int64_t periods = (gap + p->period_ns / 2) / p->period_ns;
            expected = periods < 1 ? 1 : periods > 1000 ? 1000 : (unsigned)periods;
        }
    }
    if (t > p->last_ns)
        p->last_ns = t;
    add(slot(p->minute, SW_HEALTH_RADIO_MINUTES, floor_div(t, bucket_ns(r))), expected, rssi);
    add(slot(p->quarter, SW_HEALTH_RADIO_QUARTERS, floor_div(t, QUARTER_NS)), expected, rssi);
    if (out)
        sw_health_radio_get(r, gw, node, t, out);
    return SW_OK;
}

void sw_health_radio_period(sw_health_radio *r, uint16_t gw, uint16_t node, uint16_t period_slots)
{
    if (period_slots == 0)
        return;
    sw_health_radio_panel *p = get(r, gw, node);
    if (!p)
        return;
    p->period_ns = (int64_t)period_slots * SLOT_NS;
    p->period_configured = true;
}

void sw_health_radio_topology(sw_health_radio *r, uint16_t gw, uint16_t node, uint16_t next_hop)
{
    sw_health_radio_panel *p = get(r, gw, node);
    if (!p)
        return;
    if (p->next_hop && p->next_hop != next_hop)
        p->hop_changes++;
    p->next_hop = next_hop;
}

void sw_health_radio_transport(sw_health_radio *r, const sw_tigo_transport_event *ev)
{
    if (ev->kind == SW_TIGO_TRANSPORT_EVENT_PV_PACKET) {
        const sw_tigo_pv_packet *pk = &ev->u.pv_packet.packet;
        sw_tigo_topology_report tr;
        if (pk->type == SW_TIGO_PT_TOPOLOGY_REPORT && pk->node_id != 0 &&
            sw_tigo_topology_report_decode(pk->data, pk->data_len, &tr) == SW_OK)
            sw_health_radio_topology(r, ev->gateway_id, pk->node_id, tr.next_hop);
    } else if (ev->kind == SW_TIGO_TRANSPORT_EVENT_COMMAND_REQUEST) {
        const sw_tigo_command_request *q = &ev->u.command_request.request;
        sw_tigo_pv_config_request pc;
        if (q->packet_type == SW_TIGO_PT_PV_CONFIGURATION_REQUEST &&
            sw_tigo_pv_config_request_decode(q->data, q->data_len, &pc) == SW_OK &&
            pc.report_packet_type == SW_TIGO_PT_POWER_REPORT && pc.node_id > 1)
            sw_health_radio_period(r, ev->gateway_id, pc.node_id, pc.period_slots);
    }
}

/* Sum the buckets of a ring that count the `n` units up to and including `abs_now`. */
static void sum(const sw_health_radio_bucket *ring, size_t n, int64_t abs_now, uint32_t *exp, uint32_t *rcv,
                uint32_t *rssi_n, uint64_t *rssi_sum, unsigned *filled)
{
    *exp = *rcv = *rssi_n = 0;
    *rssi_sum = 0;
    *filled = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_health_radio_bucket *b = &ring[i];
        if (b->tag == INT64_MIN || b->tag > abs_now || b->tag <= abs_now - (int64_t)n)
            continue;
        *exp += b->expected;
        *rcv += b->received;
        *rssi_n += b->rssi_n;
        *rssi_sum += b->rssi_sum;
        if (b->rssi_n)
            (*filled)++;
    }
}

static double loss_of(uint32_t exp, uint32_t rcv)
{
    if (exp == 0 || rcv >= exp)
        return 0.0;
    return (double)(exp - rcv) / (double)exp;
}

/* Figures plus what the judge needs to know about how much data stands behind them. */
typedef struct stats {
    sw_panel_radio v;
    uint32_t rssi_n_15m;
    unsigned quarters;
    bool trend_known;
} stats;

static void compute(const sw_health_radio *r, const sw_health_radio_panel *p, int64_t now_ns, stats *s)
{
    memset(s, 0, sizeof *s);
    uint32_t n15, nday;
    uint64_t s15, sday;
    unsigned f15, fday;
    sum(p->minute, SW_HEALTH_RADIO_MINUTES, floor_div(now_ns, bucket_ns(r)), &s->v.expected_15m, &s->v.received_15m,
        &n15, &s15, &f15);
    sum(p->quarter, SW_HEALTH_RADIO_QUARTERS, floor_div(now_ns, QUARTER_NS), &s->v.expected_day,
        &s->v.received_day, &nday, &sday, &fday);
    s->v.loss_15m = loss_of(s->v.expected_15m, s->v.received_15m);
    s->v.loss_day = loss_of(s->v.expected_day, s->v.received_day);
    s->v.next_hop = p->next_hop;
    s->rssi_n_15m = n15;
    s->quarters = fday;
    if (n15 && nday) {
        s->v.rssi_trend = (double)s15 / n15 - (double)sday / nday;
        s->trend_known = n15 >= TREND_MIN_REPORTS && fday >= TREND_MIN_QUARTERS;
    }
}

sw_err sw_health_radio_get(const sw_health_radio *r, uint16_t gw, uint16_t node, int64_t now_ns, sw_panel_radio *out)
{
    const sw_health_radio_panel *p = find(r, gw, node);
    if (!p || !p->last_ns)
        return SW_ERR_NOT_FOUND;
    stats s;
    compute(r, p, now_ns, &s);
    *out = s.v;
    return SW_OK;
}

static void judge(sw_health_radio *r, sw_model *m, sw_health_radio_panel *p, int64_t now_ns)
{
    if (!p->last_ns)
        return;
    const sw_panel *rec = sw_model_panel_find(m, r->source, p->gateway, p->node);
    if (!rec || !rec->series_id[0])
        return;
    stats s;
    compute(r, p, now_ns, &s);
    const sw_health_radio_config *c = &r->cfg;
    bool loss_known = s.v.expected_15m >= c->min_expected;
    if (!loss_known && !s.trend_known)
        return; /* too little data (night, a new panel): keep what was decided */
    bool loss_bad = loss_known && s.v.loss_15m >= c->loss_raise;
    bool rssi_bad = s.trend_known && s.v.rssi_trend <= -c->rssi_drop_raise;
    bool loss_ok = !loss_known || s.v.loss_15m <= c->loss_clear;
    bool rssi_ok = !s.trend_known || s.v.rssi_trend >= -c->rssi_drop_clear;
    if (!p->raised && (loss_bad || rssi_bad)) {
        /* The reason is written once, when raised: figures that move with every report would make
         * every report news for every output. */
        char reason[SW_PROBLEM_REASON_MAX], window[32];
        if (c->window_ns % MINUTE_NS == 0)
            snprintf(window, sizeof window, "%lld min", (long long)(c->window_ns / MINUTE_NS));
        else
            snprintf(window, sizeof window, "%g s", (double)c->window_ns / (double)SECOND_NS);
        snprintf(reason, sizeof reason,
                 "%u of %u reports lost in %s (%.0f%%; %.0f%% over 24 h), RSSI %+.0f against the day's mean",
                 (unsigned)(s.v.expected_15m > s.v.received_15m ? s.v.expected_15m - s.v.received_15m : 0),
                 (unsigned)s.v.expected_15m, window, 100.0 * s.v.loss_15m,
                 100.0 * s.v.loss_day, s.v.rssi_trend);
        if (sw_model_problem_raise(m, SW_PROBLEM_RADIO_DEGRADING, r->source, rec->series_id, rec->name, reason,
                                   now_ns) == SW_OK)
            p->raised = true;
    } else if (p->raised && loss_ok && rssi_ok) {
        sw_model_problem_clear(m, SW_PROBLEM_RADIO_DEGRADING, r->source, rec->series_id, now_ns);
        p->raised = false;
    }
}

void sw_health_radio_judge(sw_health_radio *r, sw_model *m, uint16_t gw, uint16_t node, int64_t now_ns)
{
    sw_health_radio_panel *p = find(r, gw, node);
    if (p)
        judge(r, m, p, now_ns);
}

void sw_health_radio_tick(sw_health_radio *r, sw_model *m, int64_t now_ns)
{
    for (size_t i = 0; i < r->n; i++)
        judge(r, m, &r->panels[i], now_ns);
}
