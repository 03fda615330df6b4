/*
 * Unit tests for the Tigo <-> RCT cross-check (health/crosscheck.h): the
 * derived loss per string, dc_mismatch raised only when the two powers
 * disagree beyond the noise floor for the hold time, nothing judged below the
 * power floor or while a panel is missing, and the mismatch cleared when
 * they agree again.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "health/crosscheck.h"
#include "model/model.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)
#define PANELS 4

static sw_model *model_with_string(void)
{
    sw_model *m = sw_model_new(NULL);
    sw_panel_map_entry map[PANELS];
    memset(map, 0, sizeof map);
    for (int i = 0; i < PANELS; i++) {
        snprintf(map[i].barcode, sizeof map[i].barcode, "4-%07XB", 0x100 + i);
        snprintf(map[i].name, sizeof map[i].name, "E%d", i + 1);
        snprintf(map[i].string_name, sizeof map[i].string_name, "east");
    }
    assert_int_equal(sw_model_set_panel_map(m, map, PANELS), SW_OK);
    return m;
}

/* Every panel reports watts_each (n_panels of them) at t. */
static void report(sw_model *m, int n_panels, double watts_each, int64_t t)
{
    for (int i = 0; i < n_panels; i++) {
        char bc[16];
        snprintf(bc, sizeof bc, "4-%07XB", 0x100 + i);
        sw_panel_report r = {.time_ns = t, .voltage_in = 40.0, .voltage_out = 39.8, .current_in = watts_each / 40.0,
                             .duty_cycle = 1.0, .temperature_c = 30.0, .rssi = 150, .barcode = bc};
        assert_int_equal(sw_model_panel_report(m, "roof", 0x1201, (uint16_t)(2 + i), &r), SW_OK);
    }
}

static const sw_inverter_value *value(const sw_model *m, const char *name)
{
    for (size_t i = 0; i < sw_model_inverter_value_count(m); i++) {
        const sw_inverter_value *v = sw_model_inverter_value_at(m, i);
        if (strcmp(v->object_name, name) == 0)
            return v;
    }
    return NULL;
}

static bool active(const sw_model *m)
{
    const sw_problem *p = sw_model_problem_find(m, SW_PROBLEM_DC_MISMATCH, "inv", "east");
    return p && p->active;
}

/* Every 10 s for `secs`: panels at watts_each, the tracker at dc_share of their sum. */
static int64_t run(sw_crosscheck *cc, sw_model *m, int64_t t, int secs, int n_panels, double watts_each,
                   double dc_share)
{
    for (int k = 0; k < secs; k += 10, t += S(10)) {
        report(m, n_panels, watts_each, t);
        sw_model_tick(m, t);
        sw_crosscheck_dc(cc, m, "inv", 0, PANELS * watts_each * dc_share, t);
        sw_crosscheck_dc(cc, m, "inv", 1, 12345.0, t); /* another input: no string mapped */
    }
    return t;
}

static void test_objects(void **state)
{
    (void)state;
    char name[64];
    unsigned in = 9;
    sw_crosscheck_object(1, name, sizeof name);
    assert_string_equal(name, "dc_conv.dc_conv_struct[1].p_dc");
    assert_true(sw_crosscheck_parse_object(name, &in));
    assert_int_equal(in, 1);
    assert_false(sw_crosscheck_parse_object("dc_conv.dc_conv_struct[0].p_dc_lp", &in));
    assert_false(sw_crosscheck_parse_object("battery.soc", &in));
    sw_crosscheck cc;
    sw_crosscheck_init(&cc, NULL);
    assert_int_equal(sw_crosscheck_add(&cc, "east", "inv", SW_CROSSCHECK_MAX_INPUTS), SW_ERR_OUT_OF_RANGE);
    assert_int_equal(sw_crosscheck_add(&cc, "", "inv", 0), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_crosscheck_add(&cc, "east", "inv", 0), SW_OK);
    assert_true(sw_crosscheck_wants(&cc, "inv", 0));
    assert_false(sw_crosscheck_wants(&cc, "inv", 1));
    assert_false(sw_crosscheck_wants(&cc, "other", 0));
}

static void test_agree_then_loss(void **state)
{
    (void)state;
    sw_model *m = model_with_string();
    sw_crosscheck cc;
    sw_crosscheck_init(&cc, NULL); /* 10 %, 300 W, 5 min window, 15 min hold */
    assert_int_equal(sw_crosscheck_add(&cc, "east", "inv", 0), SW_OK);
    /* 2 % loss for two hours: reported, nothing raised */
    int64_t t = run(&cc, m, S(100000), 7200, PANELS, 250.0, 0.98);
    const sw_inverter_value *v = value(m, "health.string.east.dc_loss_pct");
    assert_non_null(v);
    assert_float_equal(v->number, 2.0, 1e-6);
    assert_float_equal(value(m, "health.string.east.dc_loss_w")->number, 20.0, 1e-6);
    assert_false(active(m));
    /* 30 % lost: the smoothed loss crosses 10 % within a few minutes, then the 15 min hold */
    int64_t start = t;
    t = run(&cc, m, t, 900, PANELS, 250.0, 0.70);
    assert_false(active(m));
    t = run(&cc, m, t, 600, PANELS, 250.0, 0.70);
    assert_true(active(m));
    const sw_problem *p = sw_model_problem_find(m, SW_PROBLEM_DC_MISMATCH, "inv", "east");
    assert_true(p->since_ns - start <= S(25 * 60));
    assert_non_null(strstr(p->reason, "input 0"));
    /* agreeing again: cleared after smoothing and the hold */
    t = run(&cc, m, t, 900, PANELS, 250.0, 0.98);
    assert_true(active(m));
    t = run(&cc, m, t, 900, PANELS, 250.0, 0.98);
    assert_false(active(m));
    (void)t;
    sw_model_free(m);
}

static void test_floor_and_missing_panels(void **state)
{
    (void)state;
    sw_model *m = model_with_string();
    sw_crosscheck_config cfg;
    sw_crosscheck_config_default(&cfg);
    cfg.hold_ns = S(60);
    sw_crosscheck cc;
    sw_crosscheck_init(&cc, &cfg);
    sw_crosscheck_add(&cc, "east", "inv", 0);
    /* dawn: 4 x 50 W, the tracker sees half; under the 300 W floor nothing is judged */
    int64_t t = run(&cc, m, S(100000), 3600, PANELS, 50.0, 0.5);
    assert_false(active(m));
    assert_float_equal(value(m, "health.string.east.dc_loss_pct")->number, 0.0, 1e-9);
    /* one panel falls silent (offline after the 10 min stale timeout): the string's sum is short, so
     * the quarter the tracker sees more is no evidence; nothing is published or raised */
    sw_model *m2 = model_with_string();
    sw_crosscheck cc2;
    sw_crosscheck_init(&cc2, &cfg);
    sw_crosscheck_add(&cc2, "east", "inv", 0);
    report(m2, PANELS, 250.0, S(99990));
    run(&cc2, m2, S(100000) + S(601), 3600, PANELS - 1, 250.0, 0.98);
    assert_false(active(m2));
    assert_null(value(m2, "health.string.east.dc_loss_pct"));
    /* a tracker reading more than the panels is a mismatch too */
    t = run(&cc, m, t, 1800, PANELS, 250.0, 1.3);
    assert_true(active(m));
    assert_true(value(m, "health.string.east.dc_loss_pct")->number < -10.0);
    sw_model_free(m);
    sw_model_free(m2);
}

static void test_stale_panels(void **state)
{
    (void)state;
    sw_model *m = model_with_string();
    sw_crosscheck_config cfg;
    sw_crosscheck_config_default(&cfg);
    cfg.hold_ns = S(30);
    sw_crosscheck cc;
    sw_crosscheck_init(&cc, &cfg);
    sw_crosscheck_add(&cc, "east", "inv", 0);
    int64_t t = run(&cc, m, S(100000), 600, PANELS, 250.0, 0.98);
    /* the bus stalls (panels still online for the 10 min stale timeout): readings of the tracker
     * more than 60 s after the panels' last reports are compared with nothing */
    for (int k = 7; k < 50; k++)
        sw_crosscheck_dc(&cc, m, "inv", 0, 500.0, t + S(10 * k));
    assert_false(active(m));
    assert_float_equal(value(m, "health.string.east.dc_loss_pct")->number, 2.0, 1e-6);
    sw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_agree_then_loss),
        cmocka_unit_test(test_floor_and_missing_panels),
        cmocka_unit_test(test_stale_panels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
