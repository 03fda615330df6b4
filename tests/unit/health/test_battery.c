/*
 * Unit tests for battery health (health/battery.h): the spreads, the
 * weakest cell, per-module values, the cell_spread and module_hot problems
 * with their hold times, absent and stale modules, the round trip per day,
 * the SoH trend and the status-bit events.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "health/battery.h"
#include "model/model.h"
#include "sunwire/rct_registry.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)
#define DAY S(86400)

/* Cells of one module: base mV plus a small pattern, one cell moved by `low_mv`, temperature t. */
static void cells(sw_rct_cell_status *c, unsigned base, int low_cell, int low_mv, unsigned t)
{
    for (int i = 0; i < SW_RCT_BATTERY_CELLS; i++) {
        c[i].voltage_mv = (uint16_t)(base + (unsigned)(i % 5));
        c[i].temperature_c = (uint8_t)(t + (unsigned)(i % 2));
        c[i].status = 0;
    }
    if (low_cell >= 0)
        c[low_cell].voltage_mv = (uint16_t)((int)c[low_cell].voltage_mv - low_mv);
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

static bool active(const sw_model *m, sw_problem_kind k, const char *subject)
{
    const sw_problem *p = sw_model_problem_find(m, k, "inv", subject);
    return p && p->active;
}

/* Three modules every minute from t0 for `minutes`; module 1 cell 7 low by low_mv, module 2 hot by hot_c. */
static int64_t feed(sw_battery_health *b, sw_model *m, int64_t t0, int minutes, int low_mv, unsigned hot_c)
{
    sw_rct_cell_status c[SW_RCT_BATTERY_CELLS];
    int64_t t = t0;
    for (int k = 0; k < minutes; k++, t += S(60)) {
        for (unsigned mod = 0; mod < 3; mod++) {
            cells(c, 3350, mod == 1 ? 7 : -1, low_mv, mod == 2 ? 22 + hot_c : 22);
            assert_int_equal(sw_battery_health_module(b, mod, c, SW_RCT_BATTERY_CELLS, t), SW_OK);
        }
        sw_battery_health_evaluate(b, m, t);
    }
    return t;
}

static void test_spread_and_weakest(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    sw_battery_health *b = test_malloc(sizeof *b);
    sw_battery_health_init(b, NULL, "inv");
    int64_t t = feed(b, m, S(1000), 5, 0, 0);
    const sw_inverter_value *v = value(m, "health.battery.cell_spread_mv");
    assert_non_null(v);
    assert_true(v->is_number);
    assert_float_equal(v->number, 4.0, 1e-9); /* the pattern's 0..4 mV */
    assert_string_equal(v->unit, "mV");
    assert_non_null(value(m, "health.battery.module[2].temperature_c"));
    assert_null(value(m, "health.battery.module[3].temperature_c")); /* never read */
    assert_float_equal(value(m, "health.battery.temp_spread_c")->number, 1.0, 1e-9);
    assert_false(active(m, SW_PROBLEM_CELL_SPREAD, "inv/module1"));

    /* a cell 150 mV low: raised only after the hold (10 min), on its module only */
    t = feed(b, m, t, 9, 150, 0);
    assert_false(active(m, SW_PROBLEM_CELL_SPREAD, "inv/module1"));
    t = feed(b, m, t, 3, 150, 0);
    assert_true(active(m, SW_PROBLEM_CELL_SPREAD, "inv/module1"));
    assert_false(active(m, SW_PROBLEM_CELL_SPREAD, "inv/module0"));
    const sw_problem *p = sw_model_problem_find(m, SW_PROBLEM_CELL_SPREAD, "inv", "inv/module1");
    assert_non_null(strstr(p->reason, "lowest cell 7"));
    assert_float_equal(value(m, "health.battery.module[1].cell_spread_mv")->number, 152.0, 1e-9);
    assert_string_equal(value(m, "health.battery.weakest_cell")->text, "module1/cell7");
    assert_true(value(m, "health.battery.weakest_cell_dev_mv")->number < -50.0);

    /* back in line: cleared after the hold, not before */
    t = feed(b, m, t, 5, 0, 0);
    assert_true(active(m, SW_PROBLEM_CELL_SPREAD, "inv/module1"));
    t = feed(b, m, t, 8, 0, 0);
    assert_false(active(m, SW_PROBLEM_CELL_SPREAD, "inv/module1"));
    assert_non_null(sw_model_problem_find(m, SW_PROBLEM_CELL_SPREAD, "inv", "inv/module1"));
    test_free(b);
    sw_model_free(m);
}

static void test_module_hot(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    sw_battery_health *b = test_malloc(sizeof *b);
    sw_battery_health_config cfg;
    sw_battery_health_config_default(&cfg);
    cfg.hold_ns = S(120);
    sw_battery_health_init(b, &cfg, "inv");
    int64_t t = feed(b, m, S(1000), 10, 0, 6); /* 6 degC warmer: under the 8 degC limit */
    assert_false(active(m, SW_PROBLEM_MODULE_HOT, "inv/module2"));
    t = feed(b, m, t, 4, 0, 12);
    assert_true(active(m, SW_PROBLEM_MODULE_HOT, "inv/module2"));
    assert_false(active(m, SW_PROBLEM_MODULE_HOT, "inv/module0"));
    assert_non_null(strstr(sw_model_problem_find(m, SW_PROBLEM_MODULE_HOT, "inv", "inv/module2")->reason,
                           "12 \xC2\xB0" "C above"));
    /* 7 degC: under the limit but over the clear line (80 %): stays */
    t = feed(b, m, t, 5, 0, 7);
    assert_true(active(m, SW_PROBLEM_MODULE_HOT, "inv/module2"));
    t = feed(b, m, t, 4, 0, 1);
    assert_false(active(m, SW_PROBLEM_MODULE_HOT, "inv/module2"));
    test_free(b);
    sw_model_free(m);
}

static void test_absent_and_stale(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    sw_battery_health *b = test_malloc(sizeof *b);
    sw_battery_health_init(b, NULL, "inv");
    sw_rct_cell_status c[SW_RCT_BATTERY_CELLS], zero[SW_RCT_BATTERY_CELLS];
    memset(zero, 0, sizeof zero);
    cells(c, 3300, -1, 0, 20);
    sw_battery_health_module(b, 0, c, SW_RCT_BATTERY_CELLS, S(10));
    sw_battery_health_module(b, 1, zero, SW_RCT_BATTERY_CELLS, S(10)); /* an empty slot */
    assert_int_equal(sw_battery_health_module(b, SW_BATTERY_MAX_MODULES, c, SW_RCT_BATTERY_CELLS, S(10)),
                     SW_ERR_OUT_OF_RANGE);
    sw_battery_summary s;
    sw_battery_health_summary(b, S(10), &s);
    assert_int_equal(s.modules, 1);
    assert_float_equal(s.cell_spread_mv, 4.0, 1e-9); /* the empty module's zeros are no cell */
    /* a single module has no peers: never hot */
    sw_battery_health_evaluate(b, m, S(10));
    assert_int_equal(sw_model_problem_count(m), 0);
    /* readings older than the stale limit count no more */
    sw_battery_health_summary(b, S(10) + S(901), &s);
    assert_int_equal(s.modules, 0);
    test_free(b);
    sw_model_free(m);
}

static void test_round_trip(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL); /* UTC days */
    sw_battery_health *b = test_malloc(sizeof *b);
    sw_battery_health_init(b, NULL, "inv");
    int64_t d0 = 20000 * DAY;
    assert_true(sw_battery_health_number(b, "battery.stored_energy", 100000.0, d0 + S(60)));
    assert_true(sw_battery_health_number(b, "battery.used_energy", 90000.0, d0 + S(60)));
    assert_false(sw_battery_health_number(b, "battery.soc", 50.0, d0 + S(60)));
    sw_battery_health_evaluate(b, m, d0 + S(60));
    /* during the day: 8 kWh in, 7.2 kWh out */
    sw_battery_health_number(b, "battery.stored_energy", 108000.0, d0 + DAY - S(60));
    sw_battery_health_number(b, "battery.used_energy", 97200.0, d0 + DAY - S(60));
    sw_battery_health_evaluate(b, m, d0 + DAY - S(60));
    assert_null(value(m, "health.battery.round_trip_pct"));
    sw_battery_health_evaluate(b, m, d0 + DAY + S(60));
    assert_float_equal(value(m, "health.battery.round_trip_pct")->number, 90.0, 1e-9);
    /* a day that stored less than 1 kWh says nothing new */
    sw_battery_health_number(b, "battery.stored_energy", 108500.0, d0 + 2 * DAY - S(60));
    sw_battery_health_number(b, "battery.used_energy", 97500.0, d0 + 2 * DAY - S(60));
    sw_battery_health_evaluate(b, m, d0 + 2 * DAY + S(60));
    assert_float_equal(value(m, "health.battery.round_trip_pct")->number, 90.0, 1e-9);
    assert_int_equal(b->rte_day, 20000);
    test_free(b);
    sw_model_free(m);
}

static void test_soh_trend(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    sw_battery_health *b = test_malloc(sizeof *b);
    sw_battery_health_init(b, NULL, "inv");
    int64_t d0 = 20000 * DAY;
    for (int d = 0; d < 10; d++) {
        sw_battery_health_number(b, "battery.soh", 97.0 - 0.01 * d, d0 + d * DAY + S(3600));
        sw_battery_health_evaluate(b, m, d0 + d * DAY + S(3600));
        /* a second reading the same day replaces the first */
        sw_battery_health_number(b, "battery.soh", 97.0 - 0.01 * d, d0 + d * DAY + S(7200));
        sw_battery_health_evaluate(b, m, d0 + d * DAY + S(7200));
        sw_battery_summary s;
        sw_battery_health_summary(b, d0, &s);
        assert_int_equal(s.have_soh_trend, d >= 6);
        if (s.have_soh_trend)
            assert_float_equal(s.soh_trend_pct_per_year, -3.65, 1e-6);
    }
    assert_int_equal(b->n_soh, 10);
    test_free(b);
    sw_model_free(m);
}

static void test_status_events(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    sw_battery_health *b = test_malloc(sizeof *b);
    sw_battery_health_init(b, NULL, "inv");
    /* bit 11 clear = balancing, bits 3 and 10 clear = calibrating */
    sw_battery_health_number(b, "battery.bat_status", 8 | 2048, S(10));   /* calm */
    sw_battery_health_number(b, "battery.bat_status", 8, S(20));          /* balancing starts */
    sw_battery_health_number(b, "battery.bat_status", 8, S(30));          /* goes on: no new event */
    sw_battery_health_number(b, "battery.bat_status", 2048, S(40));       /* calibrating starts, balancing ends */
    sw_battery_health_number(b, "battery.bat_status", 8 | 2048, S(50));
    sw_battery_health_number(b, "battery.bat_status", 0, S(60));          /* both */
    assert_int_equal(b->balancing_events, 2);
    assert_int_equal(b->calibration_events, 2);
    assert_int_equal(b->last_calibration_ns, S(60));
    sw_rct_cell_status c[SW_RCT_BATTERY_CELLS];
    cells(c, 3300, -1, 0, 20);
    sw_battery_health_module(b, 0, c, SW_RCT_BATTERY_CELLS, S(60));
    sw_battery_health_evaluate(b, m, S(60));
    assert_float_equal(value(m, "health.battery.balancing_events")->number, 2.0, 1e-9);
    assert_string_equal(value(m, "health.battery.last_calibration")->text, "1970-01-01T00:01:00Z");
    /* a first reading in the middle of balancing is no start seen */
    sw_battery_health_init(b, NULL, "inv");
    sw_battery_health_number(b, "battery.bat_status", 8, S(10));
    assert_int_equal(b->balancing_events, 0);
    test_free(b);
    sw_model_free(m);
}

static void test_value_ids(void **state)
{
    (void)state;
    uint32_t a = sw_health_value_id("health.battery.cell_spread_mv");
    assert_int_equal(a, sw_health_value_id("health.battery.cell_spread_mv"));
    assert_int_not_equal(a, sw_health_value_id("health.battery.temp_spread_c"));
    assert_null(sw_rct_registry_find_id(a));
    for (size_t i = 0; sw_battery_health_object(i); i++)
        assert_non_null(sw_rct_registry_find_name(sw_battery_health_object(i)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_and_weakest),
        cmocka_unit_test(test_module_hot),
        cmocka_unit_test(test_absent_and_stale),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_soh_trend),
        cmocka_unit_test(test_status_events),
        cmocka_unit_test(test_value_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
