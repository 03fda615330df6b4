/*
 * The peer detectors on the simulated bus: the Tigo simulator's bytes go
 * through the observer into the model (as `sunwire run` feeds them) and the
 * detector runs after every report. Each panel fault is injected at a
 * simulated time and its problem must be raised within the documented time
 * (the detector's window plus a report period and a round) and cleared
 * within the clear window after the fault ends, on that panel only
 * (test_peers_week.c: a week without faults raises nothing).
 */
#include "peers_harness.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
