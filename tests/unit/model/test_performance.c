/*
 * Unit tests for the daily performance index (model/model.h: sw_panel.performance):
 * today's energy of a panel over the median of its peers' today, within its
 * string; unknown (NAN) with too few peers or below the energy floor; back to
 * unknown when the local day rolls over.
 */
#include <math.h>
#include <string.h>

#include "model/model.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)
#define T0 S(1781510400) /* 2026-06-15 08:00 UTC */

/* Panel node reports power w (at 40 V) every 30 s for `minutes`. */
static void produce(sw_model *m, uint16_t node, double w, int64_t from, int minutes)
{
    for (int k = 0; k <= minutes * 2; k++) {
        sw_panel_report r;
        memset(&r, 0, sizeof r);
        r.time_ns = from + k * S(30);
        r.voltage_in = 40.0;
        r.current_in = w / 40.0;
        r.voltage_out = 39.8;
        r.duty_cycle = 1.0;
        r.temperature_c = 40.0;
        assert_int_equal(sw_model_panel_report(m, "roof", 0x1201, node, &r), SW_OK);
    }
}

/* Panels first..first+n-1 report together every 30 s, panel i at w[i], as a bus does. */
static void produce_all(sw_model *m, uint16_t first, const double *w, size_t n, int64_t from, int minutes)
{
    for (int k = 0; k <= minutes * 2; k++)
        for (size_t i = 0; i < n; i++)
            produce(m, (uint16_t)(first + i), w[i], from + k * S(30), 0);
}

static const sw_panel *panel(sw_model *m, uint16_t node) { return sw_model_panel_find(m, "roof", 0x1201, node); }

static void test_index_against_the_median(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    /* one panel alone has no peers */
    produce(m, 2, 300.0, T0, 60);
    assert_true(isnan(panel(m, 2)->performance));
    produce(m, 3, 300.0, T0, 60);
    assert_true(isnan(panel(m, 3)->performance)); /* one peer is not a median */
    produce(m, 4, 200.0, T0, 60);   /* two thirds of the others */
    produce(m, 5, 310.0, T0, 60);
    /* the last to report is judged against the three others: 200, 300, 300 -> 300 */
    assert_true(fabs(panel(m, 5)->performance - 310.0 / 300.0) < 0.01);
    assert_true(fabs(panel(m, 5)->peer_energy_today_wh - 300.0) < 3.0);
    /* reporting side by side for another hour, everyone is judged */
    const double w[4] = { 300.0, 300.0, 200.0, 310.0 };
    produce_all(m, 2, w, 4, T0 + S(3601), 60);
    assert_true(fabs(panel(m, 4)->performance - 2.0 / 3.0) < 0.01);
    assert_true(fabs(panel(m, 2)->performance - 1.0) < 0.03);
    assert_true(panel(m, 2)->performance_day == sw_model_local_day(m, T0));
    sw_model_free(m);
}

static void test_floor_strings_and_midnight(void **state)
{
    (void)state;
    sw_model_options o;
    sw_model_options_defaults(&o);
    o.performance_min_wh = 50.0;
    sw_model *m = sw_model_new(&o);
    sw_panel_map_entry map[6];
    memset(map, 0, sizeof map);
    for (int i = 0; i < 6; i++) {
        snprintf(map[i].barcode, sizeof map[i].barcode, "4-A00%03dZ", i);
        snprintf(map[i].name, sizeof map[i].name, "p%d", i);
        snprintf(map[i].string_name, sizeof map[i].string_name, "%s", i < 3 ? "east" : "west");
    }
    assert_int_equal(sw_model_set_panel_map(m, map, 6), SW_OK);
    for (uint16_t i = 0; i < 6; i++) {
        sw_panel *p = sw_model_panel(m, "roof", 0x1201, (uint16_t)(2 + i), map[i].barcode, NULL);
        assert_non_null(p);
    }
    /* 30 minutes at 60 W: 30 Wh each, under the floor */
    const double w[6] = { 60.0, 60.0, 60.0, 20.0, 20.0, 20.0 };
    produce_all(m, 2, w, 6, T0, 30);
    for (uint16_t i = 0; i < 6; i++)
        assert_true(isnan(panel(m, (uint16_t)(2 + i))->performance));
    /* five hours more: the west string makes a third of the east's, but is judged against itself */
    produce_all(m, 2, w, 6, T0 + S(1801), 300);
    for (uint16_t i = 0; i < 3; i++)
        assert_true(fabs(panel(m, (uint16_t)(2 + i))->performance - 1.0) < 0.01);
    for (uint16_t i = 3; i < 6; i++)
        assert_true(fabs(panel(m, (uint16_t)(2 + i))->performance - 1.0) < 0.01);
    /* midnight: a new day starts unknown */
    sw_model_tick(m, T0 + S(86400));
    produce(m, 2, 60.0, T0 + S(86400), 1);
    assert_true(isnan(panel(m, 2)->performance));
    assert_true(panel(m, 2)->performance_day == sw_model_local_day(m, T0 + S(86400)));
    sw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_against_the_median),
        cmocka_unit_test(test_floor_strings_and_midnight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
