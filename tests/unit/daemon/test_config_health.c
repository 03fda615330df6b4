/*
 * Unit tests for the [health] keys of battery health and the cross-check
 * (docs/config.md): defaults, every key, and the messages of bad values and
 * of mappings that name no inverter, no string or an input twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "sunwire_config.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)
#define BASE "[rct house]\nhost = h\n[tigo roof]\ntcp = h\n[panels]\nmodules = east:e1:4-A2346FZ, west:w1:4-A23471V\n"

static sw_err load(sw_daemon_config *c, const char *text, char *err, size_t cap)
{
    sw_err e = sw_daemon_config_load_string(c, "h.ini", text, err, cap);
    return e == SW_OK ? sw_daemon_config_check(c, err, cap) : e;
}

static void test_defaults_and_keys(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    sw_daemon_config c;
    char err[512] = "";
    assert_int_equal(sw_daemon_config_init(&c), SW_OK);
    assert_true(c.battery_health);
    assert_float_equal(c.battery.cell_spread_mv, 80.0, 0);
    assert_int_equal(c.crosscheck.hold_ns, S(900));
    assert_int_equal(load(&c, BASE "[health]\nbattery = no\ncell_spread_mv = 120\nmodule_hot_c = 5.5\n"
                                   "battery_hold = 2m\nbattery_stale = 30s\nround_trip_min_wh = 500\n"
                                   "dc_input.east = house:0\ndc_input.west = house:1\ndc_noise_pct = 8\n"
                                   "dc_floor_w = 150\ndc_window = 1m\ndc_hold = 0\ndc_max_age = 90s\n",
                          err, sizeof err),
                     SW_OK);
    assert_false(c.battery_health);
    assert_float_equal(c.battery.cell_spread_mv, 120.0, 0);
    assert_float_equal(c.battery.module_hot_c, 5.5, 0);
    assert_int_equal(c.battery.hold_ns, S(120));
    assert_int_equal(c.battery.stale_ns, S(30));
    assert_float_equal(c.battery.rte_min_wh, 500.0, 0);
    assert_int_equal(c.n_dc_inputs, 2);
    assert_string_equal(c.dc_inputs[1].string, "west");
    assert_string_equal(c.dc_inputs[1].inverter, "house");
    assert_int_equal(c.dc_inputs[1].input, 1);
    assert_float_equal(c.crosscheck.noise_pct, 8.0, 0);
    assert_float_equal(c.crosscheck.floor_w, 150.0, 0);
    assert_int_equal(c.crosscheck.window_ns, S(60));
    assert_int_equal(c.crosscheck.hold_ns, 0);
    assert_int_equal(c.crosscheck.max_age_ns, S(90));
    sw_daemon_config_free(&c);
}

static void test_bad(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    static const struct {
        const char *text, *needle;
    } bad[] = {
        {BASE "[health]\ncell_spread_mv = lots\n", "cell_spread_mv = \"lots\": expected a number"},
        {BASE "[health]\nmodule_hot_c = 0\n", "from 0.5 to 100"},
        {BASE "[health]\nbattery = maybe\n", "expected yes or no"},
        {BASE "[health]\ndc_hold = soon\n", "expected a duration"},
        {BASE "[health]\ndc_input.east = house\n", "expected dc_input.STRING = INVERTER:INPUT"},
        {BASE "[health]\ndc_input.east = house:4\n", "input 0 to 3"},
        {BASE "[health]\ndc_input. = house:0\n", "expected dc_input.STRING"},
        {BASE "[health]\ndc_input.east = house:0\ndc_input.east = house:1\n", "appears twice"},
        {BASE "[health]\ndc_input.east = shed:0\n", "no [rct shed] section"},
        {BASE "[health]\ndc_input.south = house:0\n", "no string \"south\" in [panels]"},
        {BASE "[health]\ndc_input.east = house:0\ndc_input.west = house:0\n", "already carries string east"},
        {BASE "[health]\nbogus = 1\n", "unknown key \"bogus\" in [health]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_daemon_config c;
        char err[512] = "";
        assert_int_equal(sw_daemon_config_init(&c), SW_OK);
        sw_err e = load(&c, bad[i].text, err, sizeof err);
        if (e == SW_OK || !strstr(err, bad[i].needle))
            print_error("case %zu: \"%s\"\n", i, err);
        assert_int_not_equal(e, SW_OK);
        assert_non_null(strstr(err, bad[i].needle));
        assert_non_null(strstr(err, "h.ini:"));
        sw_daemon_config_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_keys),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
