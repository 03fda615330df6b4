/*
 * The simulated bus feeding the peer detectors, as `sunwire run` feeds them:
 * the Tigo simulator's bytes go through the observer into the model, and the
 * detector runs after every report. Shared by the peer detectors' simulation
 * tests (static functions: each test program includes it once).
 */
#ifndef SW_TEST_PEERS_HARNESS_H
#define SW_TEST_PEERS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/peers.h"
#include "model/model.h"
#include "sim/sim_tigo.h"
#include "sunwire/tigo_observer.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)
#define MIN(n) S((n) * 60)
/* 2026-06-15 07:00 UTC (08:00 at the simulated house): the sun is up */
#define DAY_START S(1781506800)
/* latency between a panel's state changing and the detector seeing it: a report period and a round */
#define SLACK S(45)

typedef struct harness {
    sw_tigo_sim *sim;
    sw_tigo_observer *obs;
    sw_model *m;
    sw_peers *pd;
    uint64_t reports;
    /* the first time each kind became active / inactive on the watched panel */
    uint16_t gw, node;
} harness;

static inline int on_obs(sw_tigo_observer *o, const sw_tigo_observer_event *ev, void *user)
{
    (void)o;
    harness *h = user;
    if (ev->kind != SW_TIGO_OBSERVER_POWER_REPORT)
        return 0;
    const sw_tigo_power_event *p = &ev->u.power;
    sw_panel_report r;
    memset(&r, 0, sizeof r);
    r.time_ns = p->timestamp_ns;
    r.voltage_in = p->report->voltage_in;
    r.voltage_out = p->report->voltage_out;
    r.current_in = p->report->current;
    r.duty_cycle = p->report->duty_cycle;
    r.temperature_c = p->report->temperature;
    r.rssi = p->report->rssi;
    if (sw_model_panel_report(h->m, "sim", p->gateway, p->node, &r) == SW_OK)
        h->reports++;
    sw_peers_check(h->pd, h->m, p->timestamp_ns);
    return 0;
}

static inline harness *start(const sw_tigo_sim_config *cfg)
{
    harness *h = calloc(1, sizeof *h);
    h->sim = malloc(sizeof *h->sim);
    h->obs = malloc(sizeof *h->obs);
    h->pd = malloc(sizeof *h->pd);
    h->m = sw_model_new(NULL);
    assert_non_null(h->m);
    assert_int_equal(sw_tigo_sim_init(h->sim, cfg, NULL, NULL), SW_OK);
    sw_tigo_observer_init(h->obs, 0, on_obs, h);
    assert_int_equal(sw_peers_init(h->pd, NULL), SW_OK);
    return h;
}

static inline void stop(harness *h)
{
    sw_model_free(h->m);
    free(h->sim);
    free(h->obs);
    free(h->pd);
    free(h);
}

/* Run the bus until `until`; with `kind`, note when the watched panel's problem changes. */
typedef struct watch {
    sw_problem_kind kind;
    unsigned gi, j;
    int64_t raised, cleared; /* 0 = not seen */
} watch;

static inline const sw_problem *watched(harness *h, const watch *w)
{
    const sw_panel *p = sw_model_panel_find(h->m, "sim", sw_tigo_sim_gateway_id(h->sim, w->gi),
                                            (uint16_t)(SW_TIGO_SIM_FIRST_NODE + w->j));
    return p ? sw_model_problem_find(h->m, w->kind, "sim", p->series_id) : NULL;
}

static inline void run(harness *h, int64_t until, watch *w)
{
    uint8_t frame[SW_TIGO_SIM_FRAME_MAX];
    size_t n;
    int64_t t;
    while (sw_tigo_sim_peek_time(h->sim) <= until) {
        assert_int_equal(sw_tigo_sim_next(h->sim, frame, sizeof frame, &n, &t), SW_OK);
        sw_tigo_observer_push(h->obs, frame, n, t, NULL);
        if (w) {
            const sw_problem *p = watched(h, w);
            if (p && p->active && !w->raised)
                w->raised = p->since_ns;
            if (p && !p->active && w->raised && !w->cleared)
                w->cleared = p->until_ns;
        }
    }
}

/* Only the watched problem was ever raised, once. */
static inline void only_watched(harness *h, const watch *w)
{
    const sw_problem *mine = watched(h, w);
    for (size_t i = 0; i < sw_model_problem_count(h->m); i++) {
        const sw_problem *p = sw_model_problem_at(h->m, i);
        if (p != mine)
            fail_msg("unexpected problem %s on %s: %s", sw_problem_kind_name(p->kind), p->subject, p->reason);
    }
}

static inline void config(sw_tigo_sim_config *cfg, uint64_t seed, int64_t start_ns)
{
    sw_tigo_sim_config_default(cfg, seed, start_ns);
    cfg->poll_ms = 1000; /* fewer idle polls: the same reports (a poll carries up to four), a faster test */
}

#endif
