/*
 * Unit tests for the string statistics: the spread (min, max, mean, and the
 * sum where it means something) of the online panels' voltages, current,
 * temperature, duty cycle and signal, and the count of identified panels,
 * for named strings and for "total". Expected values are worked out here
 * from the readings each test reports.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "model/model.h"
#include "testutil.h"

#define S INT64_C(1000000000)
#define T0 (INT64_C(1750000000) * S)

struct reading {
    const char *barcode; /* NULL = identity unknown */
    double vin, vout, iin, temp, duty;
    int rssi;
};

static sw_model *model_with_map(void)
{
    sw_model_options o;
    sw_model_options_defaults(&o);
    o.stale_timeout_ns = 600 * S;
    sw_model *m = sw_model_new(&o);
    assert_non_null(m);
    sw_panel_map_entry e[3];
    memset(e, 0, sizeof e);
    const char *rows[3][3] = {{"east", "e1", "4-A2346FZ"}, {"east", "e2", "4-A23471V"}, {"west", "w1", "4-B00001X"}};
    for (int i = 0; i < 3; i++) {
        snprintf(e[i].string_name, sizeof e[i].string_name, "%s", rows[i][0]);
        snprintf(e[i].name, sizeof e[i].name, "%s", rows[i][1]);
        snprintf(e[i].barcode, sizeof e[i].barcode, "%s", rows[i][2]);
    }
    assert_int_equal(sw_model_set_panel_map(m, e, 3), SW_OK);
    return m;
}

static void report(sw_model *m, uint16_t node, const struct reading *r, int64_t t)
{
    sw_panel_report rep = {.time_ns = t, .voltage_in = r->vin, .voltage_out = r->vout, .current_in = r->iin,
                           .duty_cycle = r->duty, .temperature_c = r->temp, .rssi = r->rssi, .barcode = r->barcode};
    assert_int_equal(sw_model_panel_report(m, "roof", 4609, node, &rep), SW_OK);
}

static const struct reading readings[] = {
    {"4-A2346FZ", 36.0, 34.0, 8.0, 40.0, 0.90, 150}, /* east */
    {"4-A23471V", 30.0, 33.0, 6.5, 46.0, 0.70, 120}, /* east */
    {"4-B00001X", 38.0, 37.5, 9.0, 38.5, 1.00, 200}, /* west */
    {"4-D00003Z", 20.0, 19.0, 2.0, 35.0, 0.50, 90},  /* known barcode, not in the map */
    {NULL, 10.0, 9.0, 1.0, 30.0, 0.25, 60},          /* identity not known yet */
};
#define N_READINGS (sizeof readings / sizeof readings[0])

/* min/max/mean/sum of one member over the readings in [from, to), computed independently of the model. */
static void expect(size_t from, size_t to, size_t offset, double *lo, double *hi, double *avg, double *sum)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    *sum = 0.0;
    for (size_t i = from; i < to; i++) {
        double v;
        if (offset == offsetof(struct reading, rssi))
            v = readings[i].rssi;
        else
            memcpy(&v, (const char *)&readings[i] + offset, sizeof v);
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
        *sum += v;
    }
    *avg = *sum / (double)(to - from);
}

static void check_spread(const sw_string_agg *a, size_t from, size_t to)
{
    double lo, hi, avg, sum;
    expect(from, to, offsetof(struct reading, vin), &lo, &hi, &avg, &sum);
    assert_true(a->voltage_in_min == lo && a->voltage_in_max == hi && a->voltage_in_sum == sum);
    assert_true(fabs(a->voltage_in_avg - avg) < 1e-9);
    expect(from, to, offsetof(struct reading, vout), &lo, &hi, &avg, &sum);
    assert_true(a->voltage_out_min == lo && a->voltage_out_max == hi && a->voltage_out_sum == sum);
    assert_true(fabs(a->voltage_out_avg - avg) < 1e-9);
    expect(from, to, offsetof(struct reading, iin), &lo, &hi, &avg, &sum);
    assert_true(a->current_in_min == lo && a->current_in_max == hi && fabs(a->current_in_avg - avg) < 1e-9);
    expect(from, to, offsetof(struct reading, temp), &lo, &hi, &avg, &sum);
    assert_true(a->temperature_min_c == lo && a->temperature_max_c == hi &&
                fabs(a->temperature_avg_c - avg) < 1e-9);
    expect(from, to, offsetof(struct reading, duty), &lo, &hi, &avg, &sum);
    assert_true(a->duty_cycle_min == lo && a->duty_cycle_max == hi && fabs(a->duty_cycle_avg - avg) < 1e-9);
    expect(from, to, offsetof(struct reading, rssi), &lo, &hi, &avg, &sum);
    assert_true(a->rssi_min == lo && a->rssi_max == hi && fabs(a->rssi_avg - avg) < 1e-9);
}

static void test_spread_per_string(void **state)
{
    (void)state;
    sw_model *m = model_with_map();
    for (size_t i = 0; i < N_READINGS; i++)
        report(m, (uint16_t)(10 + i), &readings[i], T0);

    const sw_string_agg *east = sw_model_string_find(m, "east");
    assert_int_equal(east->online, 2);
    assert_int_equal(east->identified, 2);
    check_spread(east, 0, 2);
    /* The voltages of panels in series add up: 34 + 33 V at the optimizer outputs. */
    assert_true(east->voltage_out_sum == 67.0);

    const sw_string_agg *west = sw_model_string_find(m, "west");
    assert_int_equal(west->identified, 1);
    check_spread(west, 2, 3);
    assert_true(west->voltage_in_min == 38.0 && west->voltage_in_max == 38.0 && west->voltage_in_avg == 38.0);

    /* "total" covers every panel; the one without a barcode is not identified. */
    const sw_string_agg *tot = sw_model_string_find(m, "total");
    assert_int_equal(tot->panels, 5);
    assert_int_equal(tot->online, 5);
    assert_int_equal(tot->identified, 4);
    check_spread(tot, 0, N_READINGS);
    sw_model_free(m);
}

/* The spread covers online panels only; once all are silent it is 0, like the power spread. */
static void test_spread_online_only(void **state)
{
    (void)state;
    sw_model *m = model_with_map();
    report(m, 10, &readings[0], T0);
    report(m, 11, &readings[1], T0 + 500 * S);
    /* Node 10 falls silent (600 s stale timeout); node 11 still reports. */
    sw_model_tick(m, T0 + 700 * S);
    const sw_string_agg *east = sw_model_string_find(m, "east");
    assert_int_equal(east->panels, 2);
    assert_int_equal(east->online, 1);
    assert_int_equal(east->identified, 2); /* identity outlives the night */
    check_spread(east, 1, 2);
    sw_model_tick(m, T0 + 1200 * S);
    assert_int_equal(east->online, 0);
    assert_true(east->voltage_in_min == 0.0 && east->voltage_in_max == 0.0 && east->voltage_in_avg == 0.0 &&
                east->voltage_in_sum == 0.0 && east->rssi_avg == 0.0 && east->temperature_max_c == 0.0);
    sw_model_free(m);
}

/* Each statistic is a field of the string table, so every output carries it. */
static void test_stats_are_fields(void **state)
{
    (void)state;
    static const char *const members[] = {
        "identified",      "voltage_in_min",  "voltage_in_max",    "voltage_in_avg",    "voltage_in_sum",
        "voltage_out_min", "voltage_out_max", "voltage_out_avg",   "voltage_out_sum",   "current_in_min",
        "current_in_max",  "current_in_avg",  "temperature_min_c", "temperature_max_c", "temperature_avg_c",
        "duty_cycle_min",  "duty_cycle_max",  "duty_cycle_avg",    "rssi_min",          "rssi_max",
        "rssi_avg",
    };
    sw_string_agg a;
    memset(&a, 0, sizeof a);
    a.rssi_max = 201.0;
    a.temperature_min_c = -3.5;
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        const sw_field *f = sw_field_find(sw_string_fields, sw_string_field_count, members[i]);
        if (!f)
            fail_msg("string table lacks %s", members[i]);
        /* Named for JSON, MQTT, the API, Influx, Prometheus and the history (the API's name as its column). */
        assert_non_null(f->key.json);
        assert_non_null(f->key.mqtt);
        assert_non_null(f->key.api);
        assert_non_null(f->key.influx);
        assert_non_null(f->prom.metric);
        assert_non_null(f->key.sql);
        assert_string_equal(f->key.sql, f->key.api);
        assert_non_null(f->ha.name);
    }
    assert_true(sw_field_number(sw_field_find(sw_string_fields, sw_string_field_count, "rssi_max"), &a) == 201.0);
    assert_true(sw_field_number(sw_field_find(sw_string_fields, sw_string_field_count, "temperature_min_c"), &a) ==
                -3.5);
    /* The duty cycle's spread is published in percent, like the panel's own duty cycle. */
    assert_true(sw_field_find(sw_string_fields, sw_string_field_count, "duty_cycle_avg")->ha.scale ==
                sw_field_find(sw_panel_fields, sw_panel_field_count, "duty_cycle")->ha.scale);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_per_string),
        cmocka_unit_test(test_spread_online_only),
        cmocka_unit_test(test_stats_are_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
