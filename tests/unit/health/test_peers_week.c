/*
 * The peer detectors on a simulated week without faults: passing clouds,
 * dawns and dusks, two TAPs, and not one problem raised. A test program of
 * its own, so it runs beside the fault tests and has its own time budget.
 */
#include "peers_harness.h"

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
        cmocka_unit_test(test_week_without_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
