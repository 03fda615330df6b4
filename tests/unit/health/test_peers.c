/*
 * Unit tests for the peer detectors (health/peers.h), from synthetic report
 * sequences: each detector raises within its window and not before, clears
 * after its clear window once the fault is gone, and nothing is raised at
 * dusk, under a cloud that dims every panel, between strings that differ by
 * orientation, or with too few peers.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "health/peers.h"
#include "model/model.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)
#define MIN(n) S((n) * 60)
#define T0 S(1780000000)
#define NPANELS 6
#define PERIOD S(20)

typedef struct reading {
    double vin, cur, temp;
} reading;

typedef struct fixture {
    sw_model *m;
    sw_peers *pd;
    int64_t t;     /* time of the next round */
    unsigned k;    /* rounds so far: drives the jitter */
    reading r[NPANELS];
    bool frozen[NPANELS]; /* send exactly the last values again */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->m = sw_model_new(NULL);
    f->pd = calloc(1, sizeof *f->pd);
    assert_int_equal(sw_peers_init(f->pd, NULL), SW_OK);
    f->t = T0;
    for (int i = 0; i < NPANELS; i++)
        f->r[i] = (reading){ 33.0, 8.0 + 0.1 * i, 45.0 };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sw_model_free(f->m);
    free(f->pd);
    free(f);
    return 0;
}

/* One round: every panel reports (with a little jitter unless frozen), then the detector runs. */
static void round_at(fixture *f, double light)
{
    for (int i = 0; i < NPANELS; i++) {
        double j = f->frozen[i] ? 0.0 : 0.05 * (double)((f->k * 7 + (unsigned)i * 3) % 5);
        sw_panel_report r;
        memset(&r, 0, sizeof r);
        r.time_ns = f->t;
        r.voltage_in = f->r[i].vin + j;
        r.current_in = f->r[i].cur * light + j / 10.0;
        r.voltage_out = r.voltage_in - 0.2;
        r.duty_cycle = 1.0;
        r.temperature_c = f->r[i].temp + j;
        r.rssi = 150;
        if (f->frozen[i]) {
            const sw_panel *p = sw_model_panel_find(f->m, "roof", 0x1201, (uint16_t)(2 + i));
            if (p && p->last_seen_ns) {
                r.voltage_in = p->voltage_in;
                r.current_in = p->current_in;
                r.voltage_out = p->voltage_out;
                r.temperature_c = p->temperature_c;
            }
        }
        assert_int_equal(sw_model_panel_report(f->m, "roof", 0x1201, (uint16_t)(2 + i), &r), SW_OK);
    }
    sw_peers_check(f->pd, f->m, f->t);
    f->t += PERIOD;
    f->k++;
}

static const sw_problem *problem(fixture *f, sw_problem_kind k, int i)
{
    const sw_panel *p = sw_model_panel_find(f->m, "roof", 0x1201, (uint16_t)(2 + i));
    assert_non_null(p);
    return sw_model_problem_find(f->m, k, "roof", p->series_id);
}

static bool active(fixture *f, sw_problem_kind k, int i)
{
    const sw_problem *p = problem(f, k, i);
    return p && p->active;
}

/* Run rounds until `kind` on panel i becomes `want` or `limit` passes; the time it took. */
static int64_t run_until(fixture *f, sw_problem_kind kind, int i, bool want, int64_t limit, double light)
{
    int64_t start = f->t;
    while (f->t - start <= limit) {
        round_at(f, light);
        if (active(f, kind, i) == want)
            return f->t - PERIOD - start;
    }
    return -1;
}

static void warm_up(fixture *f)
{
    for (int i = 0; i < 10; i++)
        round_at(f, 1.0);
    assert_int_equal(sw_model_problem_count(f->m), 0);
}

static void test_median_without(void **state)
{
    (void)state;
    const double a[] = { 1, 2, 3, 10 };
    assert_true(sw_peers_median_without(a, 4, 10) == 2.0);
    assert_true(sw_peers_median_without(a, 4, 1) == 3.0);
    assert_true(sw_peers_median_without(a, 4, 2) == 3.0);
    const double b[] = { 0, 100, 104 };
    assert_true(sw_peers_median_without(b, 3, 0) == 102.0);
    assert_true(sw_peers_median_without(b, 3, 104) == 50.0);
    const double c[] = { 5, 5 };
    assert_true(sw_peers_median_without(c, 2, 5) == 5.0);
}

static void test_underperforming(void **state)
{
    fixture *f = *state;
    warm_up(f);
    f->r[0].cur = 3.0; /* ~37% of the others' power, the voltage as theirs: shade or soiling */
    int64_t took = run_until(f, SW_PROBLEM_UNDERPERFORMING, 0, true, MIN(40), 1.0);
    assert_true(took >= MIN(20) && took <= MIN(20) + PERIOD);
    const sw_problem *p = problem(f, SW_PROBLEM_UNDERPERFORMING, 0);
    assert_non_null(strstr(p->reason, "of the peers' median"));
    assert_false(active(f, SW_PROBLEM_DIODE_LOSS, 0));
    assert_false(active(f, SW_PROBLEM_NO_POWER, 0));
    for (int i = 1; i < NPANELS; i++)
        assert_false(active(f, SW_PROBLEM_UNDERPERFORMING, i));
    /* back to normal: it clears after the clear window, not at once */
    f->r[0].cur = 8.0;
    took = run_until(f, SW_PROBLEM_UNDERPERFORMING, 0, false, MIN(30), 1.0);
    assert_true(took >= MIN(10) && took <= MIN(10) + PERIOD);
    assert_true(problem(f, SW_PROBLEM_UNDERPERFORMING, 0)->until_ns > 0);
}

static void test_underperforming_hysteresis(void **state)
{
    fixture *f = *state;
    warm_up(f);
    f->r[0].cur = 3.0;
    assert_true(run_until(f, SW_PROBLEM_UNDERPERFORMING, 0, true, MIN(40), 1.0) >= 0);
    /* 68%: above the raise ratio, below the clear ratio: it stays raised */
    f->r[0].cur = 0.68 * 8.25;
    assert_int_equal(run_until(f, SW_PROBLEM_UNDERPERFORMING, 0, false, MIN(60), 1.0), -1);
}

static void test_no_power(void **state)
{
    fixture *f = *state;
    warm_up(f);
    f->r[0] = (reading){ 39.5, 0.0, 47.0 }; /* open circuit */
    int64_t took = run_until(f, SW_PROBLEM_NO_POWER, 0, true, MIN(30), 1.0);
    assert_true(took >= MIN(5) && took <= MIN(5) + PERIOD);
    assert_non_null(strstr(problem(f, SW_PROBLEM_NO_POWER, 0)->reason, "open circuit"));
    /* explained: no underperforming on top, even long after its window */
    for (int i = 0; i < 100; i++)
        round_at(f, 1.0);
    assert_false(active(f, SW_PROBLEM_UNDERPERFORMING, 0));
    assert_int_equal(sw_model_problem_active_count(f->m), 1);
    f->r[0] = (reading){ 33.0, 8.0, 45.0 };
    took = run_until(f, SW_PROBLEM_NO_POWER, 0, false, MIN(30), 1.0);
    assert_true(took >= MIN(10) && took <= MIN(10) + PERIOD);
}

static void test_diode_loss(void **state)
{
    fixture *f = *state;
    warm_up(f);
    f->r[0].vin = 22.0; /* one substring of three bypassed, the same current */
    int64_t took = run_until(f, SW_PROBLEM_DIODE_LOSS, 0, true, MIN(30), 1.0);
    assert_true(took >= MIN(10) && took <= MIN(10) + PERIOD);
    assert_non_null(strstr(problem(f, SW_PROBLEM_DIODE_LOSS, 0)->reason, "bypassed"));
    for (int i = 0; i < 100; i++)
        round_at(f, 1.0);
    assert_false(active(f, SW_PROBLEM_UNDERPERFORMING, 0));
    assert_false(active(f, SW_PROBLEM_NO_POWER, 0));
    f->r[0].vin = 33.0;
    took = run_until(f, SW_PROBLEM_DIODE_LOSS, 0, false, MIN(30), 1.0);
    assert_true(took >= MIN(10) && took <= MIN(10) + PERIOD);
}

static void test_low_voltage_low_current_is_not_diode(void **state)
{
    fixture *f = *state;
    warm_up(f);
    f->r[0] = (reading){ 22.0, 2.0, 45.0 }; /* low voltage and low current: shading, not a diode */
    for (int i = 0; i < 70; i++)
        round_at(f, 1.0);
    assert_false(active(f, SW_PROBLEM_DIODE_LOSS, 0));
    assert_true(active(f, SW_PROBLEM_UNDERPERFORMING, 0));
}

static void test_hot(void **state)
{
    fixture *f = *state;
    warm_up(f);
    f->r[3].temp = 70.0;
    int64_t took = run_until(f, SW_PROBLEM_HOT, 3, true, MIN(30), 1.0);
    assert_true(took >= MIN(10) && took <= MIN(10) + PERIOD);
    assert_non_null(strstr(problem(f, SW_PROBLEM_HOT, 3)->reason, "above the peers"));
    /* 12 degrees above: between the thresholds, it stays */
    f->r[3].temp = 57.0;
    assert_int_equal(run_until(f, SW_PROBLEM_HOT, 3, false, MIN(30), 1.0), -1);
    f->r[3].temp = 46.0;
    took = run_until(f, SW_PROBLEM_HOT, 3, false, MIN(30), 1.0);
    assert_true(took >= MIN(10) && took <= MIN(10) + PERIOD);
    assert_int_equal(sw_model_problem_active_count(f->m), 0);
}

static void test_stuck(void **state)
{
    fixture *f = *state;
    warm_up(f);
    f->frozen[2] = true;
    int64_t took = run_until(f, SW_PROBLEM_STUCK, 2, true, MIN(30), 1.0);
    /* the first frozen report already repeats the one before: the 2nd of ten identical ones */
    assert_int_equal(took, 8 * PERIOD);
    assert_non_null(strstr(problem(f, SW_PROBLEM_STUCK, 2)->reason, "10 identical reports"));
    f->frozen[2] = false;
    f->r[2].temp = 45.3; /* surely unlike the frozen reading */
    took = run_until(f, SW_PROBLEM_STUCK, 2, false, MIN(30), 1.0);
    assert_int_equal(took, 2 * PERIOD);
    for (int i = 0; i < NPANELS; i++)
        if (i != 2)
            assert_null(problem(f, SW_PROBLEM_STUCK, i));
}

static void test_dusk_and_clouds_suppressed(void **state)
{
    fixture *f = *state;
    warm_up(f);
    /* a passing cloud dims every panel alike: no one is below its peers */
    for (int i = 0; i < 90; i++)
        round_at(f, 0.15 + 0.1 * (double)(i % 7));
    assert_int_equal(sw_model_problem_count(f->m), 0);
    /* dusk: the peers make under 20 W; a dead panel there is no evidence */
    f->r[0] = (reading){ 39.5, 0.0, 47.0 };
    f->r[1].vin = 22.0;
    f->r[4].temp = 80.0;
    for (int i = 0; i < 200; i++)
        round_at(f, 0.05);
    assert_int_equal(sw_model_problem_count(f->m), 0);
    assert_true(sw_peers_get_counters(f->pd)->suppressed > 0);
    /* the same faults in daylight are found */
    assert_true(run_until(f, SW_PROBLEM_NO_POWER, 0, true, MIN(30), 1.0) >= 0);
}

static void test_strings_are_separate_groups(void **state)
{
    fixture *f = *state;
    /* two strings facing different ways: three panels make a third of the others' power */
    sw_panel_map_entry map[NPANELS];
    memset(map, 0, sizeof map);
    round_at(f, 1.0); /* the panels exist */
    for (int i = 0; i < NPANELS; i++) {
        const sw_panel *p = sw_model_panel_find(f->m, "roof", 0x1201, (uint16_t)(2 + i));
        snprintf(map[i].barcode, sizeof map[i].barcode, "4-%06X%c", 0x100 + i, 'A' + i);
        snprintf(map[i].name, sizeof map[i].name, "p%d", i);
        snprintf(map[i].string_name, sizeof map[i].string_name, "%s", i < 3 ? "east" : "west");
        assert_int_equal(sw_model_panel_identity(f->m, "roof", p->gateway_id, p->node_id, map[i].barcode, f->t),
                         SW_OK);
        if (i >= 3)
            f->r[i].cur = 2.5;
    }
    /* with only two peers in a string, compare with fewer peers */
    sw_peers_config c;
    sw_peers_config_default(&c);
    c.min_peers = 2;
    assert_int_equal(sw_peers_init(f->pd, &c), SW_OK);
    assert_int_equal(sw_model_set_panel_map(f->m, map, NPANELS), SW_OK);
    for (int i = 0; i < 150; i++)
        round_at(f, 1.0);
    assert_int_equal(sw_model_problem_count(f->m), 0);
    /* the same panels as one array: the west ones are underperforming */
    for (int i = 0; i < NPANELS; i++)
        map[i].string_name[0] = 0;
    assert_int_equal(sw_model_set_panel_map(f->m, map, NPANELS), SW_OK);
    for (int i = 0; i < 150; i++)
        round_at(f, 1.0);
    assert_int_equal(sw_model_problem_active_count(f->m), 3);
    assert_true(active(f, SW_PROBLEM_UNDERPERFORMING, 4));
}

static void test_too_few_peers(void **state)
{
    fixture *f = *state;
    sw_peers_config c;
    sw_peers_config_default(&c);
    c.min_peers = NPANELS; /* one more than there are */
    assert_int_equal(sw_peers_init(f->pd, &c), SW_OK);
    f->r[0] = (reading){ 39.5, 0.0, 47.0 };
    for (int i = 0; i < 100; i++)
        round_at(f, 1.0);
    assert_int_equal(sw_model_problem_count(f->m), 0);
}

static void test_bad_config(void **state)
{
    fixture *f = *state;
    sw_peers_config c;
    sw_peers_config_default(&c);
    c.under_clear_ratio = 0.5; /* clears below where it raises */
    assert_int_equal(sw_peers_init(f->pd, &c), SW_ERR_INVALID_ARGUMENT);
    sw_peers_config_default(&c);
    c.stuck_reports = 1;
    assert_int_equal(sw_peers_init(f->pd, &c), SW_ERR_INVALID_ARGUMENT);
    sw_peers_config_default(&c);
    c.diode_voltage_max = 0.3;
    assert_int_equal(sw_peers_init(f->pd, &c), SW_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_without),
        cmocka_unit_test_setup_teardown(test_underperforming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_underperforming_hysteresis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_power, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diode_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_low_voltage_low_current_is_not_diode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stuck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dusk_and_clouds_suppressed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_are_separate_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_few_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
