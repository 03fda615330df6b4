/* Unit tests for the simulated household: physics bounds, monotonic counters, determinism. */
#include <math.h>
#include <string.h>

#include "sunwire/core.h"
#include "sim/sim.h"
#include "testutil.h"

/* 2026-06-21 00:00 UTC and 2026-12-21 00:00 UTC. */
#define SUMMER 1782000000LL
#define WINTER (sw_days_from_civil(2026, 12, 21) * 86400LL)

static int64_t summer_midnight(void) { return sw_days_from_civil(2026, 6, 21) * 86400LL; }

static void test_pv_night_and_noon(void **state)
{
    (void)state;
    sw_sim_config cfg;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        sw_sim_config_default(&cfg, seed);
        sw_sim_sample s;
        /* Solar noon at 10 degrees east is about 11:20 UTC; midnight is dark at 50 N. */
        int64_t day = summer_midnight() + (int64_t)seed * 86400;
        sw_sim_sample_at(&cfg, day + 23 * 60, &s);
        assert_true(s.pv_w == 0.0);
        assert_true(s.sun == 0.0);
        sw_sim_sample_at(&cfg, day + 11 * 3600 + 20 * 60, &s);
        assert_true(s.pv_w > 0.1 * cfg.pv_peak_w);
        assert_true(s.pv_w <= cfg.pv_peak_w);
        assert_true(fabs(s.string_w[0] + s.string_w[1] - s.pv_w) < 1e-6);
        assert_true(s.string_v[0] > 100 && s.string_v[1] > 100);
        /* Winter noon is weaker than a clear summer noon but still light. */
        sw_sim_sample w;
        sw_sim_sample_at(&cfg, WINTER + 11 * 3600 + 20 * 60, &w);
        assert_true(w.sun > 0 && w.sun < s.sun);
    }
}

static void test_balance_and_bounds(void **state)
{
    (void)state;
    sw_sim_config cfg;
    sw_sim_config_default(&cfg, 42);
    int64_t t0 = summer_midnight() - 10 * 86400;
    for (int64_t t = t0; t < t0 + 20 * 86400; t += 977) {
        sw_sim_sample s;
        sw_sim_sample_at(&cfg, t, &s);
        assert_true(s.soc >= cfg.battery_min_soc - 1e-9 && s.soc <= 1.0 + 1e-9);
        assert_true(s.pv_w >= 0 && s.load_w >= cfg.base_load_w * 0.9);
        assert_true(fabs(s.battery_w) <= cfg.battery_max_w + 1e-9);
        /* Energy balance at every instant: what comes in goes somewhere. */
        assert_true(fabs(s.pv_w + s.grid_w - s.load_w - s.battery_w) < 1e-6);
        assert_true(fabs(s.load_phase_w[0] + s.load_phase_w[1] + s.load_phase_w[2] - s.load_w) < 1e-6);
        assert_true(s.grid_hz > 49.9 && s.grid_hz < 50.1);
        for (int i = 0; i < 3; i++)
            assert_true(s.grid_v[i] > 220 && s.grid_v[i] < 240);
        assert_true(s.temp_inverter_c > s.temp_ambient_c || s.temp_inverter_c == 15.0);
        assert_true(s.temp_battery_c > 5 && s.temp_battery_c < 40);
        assert_true(s.battery_v > 300 && s.battery_v < 500);
    }
}

/* Charging around noon, discharging in the evening, across many seeds. */
static void test_battery_day_cycle(void **state)
{
    (void)state;
    int charged_at_noon = 0, discharged_at_night = 0, soc_higher_evening = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        sw_sim_config cfg;
        sw_sim_config_default(&cfg, seed);
        int64_t day = summer_midnight() + (int64_t)seed * 86400;
        sw_sim_sample noon, night, dawn, evening;
        sw_sim_sample_at(&cfg, day + 10 * 3600, &noon);
        sw_sim_sample_at(&cfg, day + 21 * 3600 + 30 * 60, &night);
        sw_sim_sample_at(&cfg, day + 2 * 3600, &dawn);
        sw_sim_sample_at(&cfg, day + 17 * 3600, &evening);
        charged_at_noon += noon.battery_w > 0 || noon.soc >= 1.0;
        discharged_at_night += night.battery_w < 0 || night.soc <= cfg.battery_min_soc;
        soc_higher_evening += evening.soc > dawn.soc;
    }
    assert_true(charged_at_noon >= 27);
    assert_true(discharged_at_night >= 27);
    assert_true(soc_higher_evening >= 25);
}

static void test_counters_monotonic(void **state)
{
    (void)state;
    sw_sim_config cfg;
    sw_sim_config_default(&cfg, 7);
    sw_sim_sample prev, s;
    int64_t t0 = sw_days_from_civil(2025, 1, 1) * 86400LL;
    sw_sim_sample_at(&cfg, t0, &prev);
    assert_true(prev.e_pv_wh > 1e6); /* years of production behind it */
    for (int64_t t = t0 + 331; t < t0 + 400 * 86400LL; t += 3613) {
        sw_sim_sample_at(&cfg, t, &s);
        assert_true(s.e_pv_wh >= prev.e_pv_wh);
        assert_true(s.e_load_wh > prev.e_load_wh);
        assert_true(s.e_grid_import_wh >= prev.e_grid_import_wh);
        assert_true(s.e_grid_export_wh >= prev.e_grid_export_wh);
        assert_true(s.e_battery_charge_wh >= prev.e_battery_charge_wh);
        assert_true(s.e_battery_discharge_wh >= prev.e_battery_discharge_wh);
        prev = s;
    }
    /* A summer day produces much more than a winter day. */
    sw_sim_sample a, b, c, d;
    sw_sim_sample_at(&cfg, summer_midnight(), &a);
    sw_sim_sample_at(&cfg, summer_midnight() + 86400, &b);
    sw_sim_sample_at(&cfg, WINTER, &c);
    sw_sim_sample_at(&cfg, WINTER + 86400, &d);
    assert_true(b.e_pv_wh - a.e_pv_wh > 2.0 * (d.e_pv_wh - c.e_pv_wh));
    assert_true(d.e_pv_wh - c.e_pv_wh > 0);
}

static void test_determinism(void **state)
{
    (void)state;
    sw_sim_config c1, c2, c3;
    sw_sim_config_default(&c1, 1234);
    sw_sim_config_default(&c2, 1234);
    sw_sim_config_default(&c3, 1235);
    int differ = 0;
    for (int64_t t = SUMMER; t < SUMMER + 86400; t += 1800) {
        sw_sim_sample a, b, c;
        sw_sim_sample_at(&c1, t, &a);
        sw_sim_sample_at(&c2, t, &b);
        sw_sim_sample_at(&c3, t, &c);
        assert_memory_equal(&a, &b, sizeof a);
        differ += a.load_w != c.load_w;
    }
    assert_true(differ > 40);
    /* Asking out of order gives the same answer. */
    sw_sim_sample x, y;
    sw_sim_sample_at(&c1, SUMMER + 5000, &x);
    sw_sim_sample_at(&c1, SUMMER - 86400 * 30, &y);
    sw_sim_sample_at(&c1, SUMMER + 5000, &y);
    assert_memory_equal(&x, &y, sizeof x);
    assert_int_equal(sw_sim_hash(1, 2, 3), sw_sim_hash(1, 2, 3));
    assert_true(sw_sim_hash(1, 2, 3) != sw_sim_hash(1, 3, 2));
}

static void test_item_factor_and_irradiance(void **state)
{
    (void)state;
    sw_sim_config cfg;
    sw_sim_config_default(&cfg, 99);
    for (uint32_t i = 0; i < 100; i++) {
        double f = sw_sim_item_factor(&cfg, SUMMER + i * 37, i);
        assert_true(f >= 0.9 && f <= 1.05);
    }
    for (int64_t t = SUMMER; t < SUMMER + 86400; t += 600) {
        double irr = sw_sim_irradiance(&cfg, t);
        assert_true(irr >= 0.0 && irr <= 1.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pv_night_and_noon),
        cmocka_unit_test(test_balance_and_bounds),
        cmocka_unit_test(test_battery_day_cycle),
        cmocka_unit_test(test_counters_monotonic),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_item_factor_and_irradiance),
    };
    return cmocka_run_group_tests_name("sim/day", tests, NULL, NULL);
}
