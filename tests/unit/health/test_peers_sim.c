/*
 * The peer detectors on the simulated bus: the Tigo simulator's bytes go
 * through the observer into the model (as `sunwire run` feeds them) and the
 * detector runs after every report. Each panel fault is injected at a
 * simulated time and its problem must be raised within the documented time
 * (the detector's window plus a report period and a round) and cleared
 * within the clear window after the fault ends, on that panel only. A week
 * of clouds without faults must raise nothing at all.
 */
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

static int on_obs(sw_tigo_observer *o, const sw_tigo_observer_event *ev, void *user)
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

static harness *start(const sw_tigo_sim_config *cfg)
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

static void stop(harness *h)
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

static const sw_problem *watched(harness *h, const watch *w)
{
    const sw_panel *p = sw_model_panel_find(h->m, "sim", sw_tigo_sim_gateway_id(h->sim, w->gi),
                                            (uint16_t)(SW_TIGO_SIM_FIRST_NODE + w->j));
    return p ? sw_model_problem_find(h->m, w->kind, "sim", p->series_id) : NULL;
}

static void run(harness *h, int64_t until, watch *w)
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
static void only_watched(harness *h, const watch *w)
{
    const sw_problem *mine = watched(h, w);
    for (size_t i = 0; i < sw_model_problem_count(h->m); i++) {
        const sw_problem *p = sw_model_problem_at(h->m, i);
        if (p != mine)
            fail_msg("unexpected problem %s on %s: %s", sw_problem_kind_name(p->kind), p->subject, p->reason);
    }
}

static void config(sw_tigo_sim_config *cfg, uint64_t seed, int64_t start_ns)
{
    sw_tigo_sim_config_default(cfg, seed, start_ns);
    cfg->poll_ms = 1000; /* fewer idle polls: the same reports (a poll carries up to four), a faster test */
}

/* One fault for a stretch of the morning; its problem within [window, window + SLACK] of each edge. */
static void fault_case(const char *text, sw_problem_kind kind, int64_t window, int64_t clear)
{
    sw_tigo_sim_config cfg;
    config(&cfg, 7, DAY_START);
    sw_sim_panel_fault f;
    char why[160];
    assert_int_equal(sw_sim_panel_fault_parse(text, &f, why, sizeof why), SW_OK);
    cfg.panel_faults[cfg.n_panel_faults++] = f;
    harness *h = start(&cfg);
    watch w = { kind, f.gateway, f.panel, 0, 0 };
    run(h, DAY_START + f.end_ns + clear + SLACK + MIN(5), &w);
    assert_true(h->reports > 0);
    int64_t fault_on = DAY_START + f.start_ns, fault_off = DAY_START + f.end_ns;
    if (!w.raised)
        fail_msg("%s: never raised", text);
    int64_t took = w.raised - fault_on, lag = w.cleared - fault_off;
    if (took < window || took > window + SLACK)
        fail_msg("%s: raised %.0f s after the fault began, expected %.0f .. %.0f s", text, (double)took / 1e9,
                 (double)window / 1e9, (double)(window + SLACK) / 1e9);
    if (!w.cleared)
        fail_msg("%s: never cleared", text);
    if (lag < clear || lag > clear + SLACK)
        fail_msg("%s: cleared %.0f s after the fault ended, expected %.0f .. %.0f s", text, (double)lag / 1e9,
                 (double)clear / 1e9, (double)(clear + SLACK) / 1e9);
    only_watched(h, &w);
    stop(h);
}

static void test_dead_optimizer(void **state)
{
    (void)state;
    fault_case("dead:1.4@20m-1h", SW_PROBLEM_NO_POWER, MIN(5), MIN(10));
}

static void test_diode_loss(void **state)
{
    (void)state;
    fault_case("diode:1.5@20m-1h", SW_PROBLEM_DIODE_LOSS, MIN(10), MIN(10));
}

static void test_hot_panel(void **state)
{
    (void)state;
    fault_case("hot:1.6=25@20m-1h", SW_PROBLEM_HOT, MIN(10), MIN(10));
}

static void test_stuck_reading(void **state)
{
    (void)state;
    /* counted in reports (20 s apart): ten identical ones raise it, three new ones clear it */
    fault_case("stuck:1.7@20m-1h", SW_PROBLEM_STUCK, S(8 * 20), S(2 * 20));
}

static void test_soiled_panel(void **state)
{
    (void)state;
    fault_case("soiled:1.8=0.4@20m-1h", SW_PROBLEM_UNDERPERFORMING, MIN(20), MIN(10));
}

/*
 * --shaded: the third panel of each TAP gets 30 % of the light before 11:00 and
 * after 15:30. That is real underperformance, and the detector says so, on
 * that panel only and as nothing else (not a diode, not dead); it clears
 * while the sun is past the chimney.
 */
static void test_shaded_panel(void **state)
{
    (void)state;
    sw_tigo_sim_config cfg;
    config(&cfg, 7, DAY_START); /* 08:00 at the house, in the shade */
    cfg.shaded = true;
    harness *h = start(&cfg);
    watch w = { SW_PROBLEM_UNDERPERFORMING, 0, 2, 0, 0 };
    run(h, DAY_START + S(3 * 3600) + MIN(20), &w); /* until 11:20 at the house */
    if (!w.raised || !w.cleared)
        fail_msg("shaded: raised %lld, cleared %lld", (long long)w.raised, (long long)w.cleared);
    /* the shade leaves at 11:00 local (10:00 UTC); the clear window follows */
    int64_t shade_off = DAY_START + S(3 * 3600);
    assert_true(w.cleared >= shade_off + MIN(10) && w.cleared <= shade_off + MIN(10) + SLACK);
    only_watched(h, &w);
    stop(h);
}

/* The daily performance index over a whole day: a panel with a bypassed substring makes
 * about two thirds of its peers' energy, the others about as much as each other. */
static void test_performance_index_with_diode_loss(void **state)
{
    (void)state;
    sw_tigo_sim_config cfg;
    config(&cfg, 7, DAY_START - S(4 * 3600)); /* 04:00 at the house, before sunrise */
    sw_sim_panel_fault f;
    assert_int_equal(sw_sim_panel_fault_parse("diode:1.5", &f, NULL, 0), SW_OK);
    cfg.panel_faults[cfg.n_panel_faults++] = f;
    harness *h = start(&cfg);
    run(h, DAY_START + S(13 * 3600), NULL); /* 21:00 */
    for (unsigned j = 0; j < cfg.panels; j++) {
        const sw_panel *p = sw_model_panel_find(h->m, "sim", sw_tigo_sim_gateway_id(h->sim, 0),
                                                (uint16_t)(SW_TIGO_SIM_FIRST_NODE + j));
        assert_non_null(p);
        if (j == 4) {
            if (!(p->performance > 0.6 && p->performance < 0.72))
                fail_msg("diode panel: index %.3f, expected about 2/3", p->performance);
        } else if (!(p->performance > 0.88 && p->performance < 1.12)) {
            fail_msg("panel %u: index %.3f, expected about 1", j + 1, p->performance);
        }
    }
    stop(h);
}

/* A week of passing clouds, dawns and dusks without a fault: not one problem. */
static void test_week_without_faults(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    /* the sanitizer build is several times slower: two days of one seed there, a week of two in release */
    static const uint64_t seeds[] = { 1 };
    const int days = 2;
#else
    static const uint64_t seeds[] = { 1, 3 };
    const int days = 7;
#endif
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        sw_tigo_sim_config cfg;
        /* from midnight, in spring: long enough days, and clouds on most of them */
        config(&cfg, seeds[s], S(1775001600));
        cfg.gateways = 2;
        harness *h = start(&cfg);
        run(h, S(1775001600) + S((int64_t)days * 86400), NULL);
        /* the bus ran and the detector judged many rounds, and some were too dark to judge */
        assert_true(h->reports > (uint64_t)days * 8 * 3600 / 20 * 20 / 2);
        const sw_peers_counters *c = sw_peers_get_counters(h->pd);
        assert_true(c->rounds > 1000);
        assert_true(c->suppressed > 0);
        for (size_t i = 0; i < sw_model_problem_count(h->m); i++) {
            const sw_problem *p = sw_model_problem_at(h->m, i);
            fail_msg("seed %llu: %s on %s: %s", (unsigned long long)seeds[s], sw_problem_kind_name(p->kind),
                     p->subject, p->reason);
        }
        stop(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_optimizer),
        cmocka_unit_test(test_diode_loss),
        cmocka_unit_test(test_hot_panel),
        cmocka_unit_test(test_stuck_reading),
        cmocka_unit_test(test_soiled_panel),
        cmocka_unit_test(test_shaded_panel),
        cmocka_unit_test(test_performance_index_with_diode_loss),
        cmocka_unit_test(test_week_without_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
