/*
 * Unit tests for the simulated inverter's plant faults (rct_io/rct_sim.h,
 * `injected`): a drifting cell, a hot module and a lossy tracker change
 * exactly the values they should, from their start to their end, the same
 * for every run with the seed; a tracker hook replaces the day model's DC
 * power; plant members stay healthy.
 */
#include <string.h>

#include "rct_io/rct_sim.h"
#include "sunwire/core.h"
#include "sunwire/rct.h"
#include "testutil.h"

#define NOON (sw_days_from_civil(2026, 6, 21) * 86400LL + 11 * 3600)

static sw_rct_value read_at(sw_rct_sim *sim, const char *name, uint32_t address, int64_t t)
{
    const sw_rct_object *o = sw_rct_registry_find_name(name);
    assert_non_null(o);
    uint8_t p[128];
    size_t n;
    assert_int_equal(sw_rct_sim_payload(sim, o, address, t, p, sizeof p, &n), SW_OK);
    sw_rct_value v;
    assert_int_equal(sw_rct_value_decode(o->response_type, p, n, &v, NULL, 0), SW_OK);
    return v;
}

static void sim_with(sw_rct_sim *sim, const char *const *faults, size_t n)
{
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 5);
    cfg.start_s = NOON;
    cfg.plant_addresses[cfg.n_plant++] = 7;
    char err[160];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sw_sim_rct_faults_add(&cfg.injected, faults[i], err, sizeof err), SW_OK);
    sw_rct_sim_init(sim, &cfg);
}

static void test_drifting_cell(void **state)
{
    (void)state;
    static const char *const f[] = { "drifting-cell:3.9=200@1h-5h" };
    sw_rct_sim healthy, sick;
    sim_with(&healthy, NULL, 0);
    sim_with(&sick, f, 1);
    /* before the start, nothing differs; half way up the ramp (1 h of 2), 100 mV; then the full 200 */
    int64_t times[] = { NOON + 1800, NOON + 7200, NOON + 4 * 3600, NOON + 6 * 3600 };
    double want[] = { 0, 100, 200, 0 };
    for (size_t k = 0; k < 4; k++) {
        for (int mod = 0; mod < 7; mod++) {
            char name[32];
            snprintf(name, sizeof name, "battery.cells[%d]", mod);
            sw_rct_value a = read_at(&healthy, name, 0, times[k]), b = read_at(&sick, name, 0, times[k]);
            for (int c = 0; c < SW_RCT_BATTERY_CELLS; c++) {
                double d = (double)a.u.cells[c].voltage_mv - b.u.cells[c].voltage_mv;
                assert_float_equal(d, mod == 3 && c == 9 ? want[k] : 0.0, 1.0);
                assert_int_equal(a.u.cells[c].temperature_c, b.u.cells[c].temperature_c);
            }
        }
        double mina = read_at(&healthy, "battery.min_cell_voltage", 0, times[k]).u.f;
        double minb = read_at(&sick, "battery.min_cell_voltage", 0, times[k]).u.f;
        assert_float_equal(mina - minb, want[k] / 1000.0, 1e-3);
    }
    /* a plant member behind the inverter stays healthy */
    sw_rct_value a = read_at(&healthy, "battery.cells[3]", 7, NOON + 4 * 3600);
    sw_rct_value b = read_at(&sick, "battery.cells[3]", 7, NOON + 4 * 3600);
    assert_memory_equal(a.u.cells, b.u.cells, sizeof a.u.cells);
}

static void test_hot_module_from_the_seed(void **state)
{
    (void)state;
    static const char *const f[] = { "hot-module=20" };
    sw_rct_sim healthy, sick, again;
    sim_with(&healthy, NULL, 0);
    sim_with(&sick, f, 1);
    sim_with(&again, f, 1);
    int hot = -1;
    for (int mod = 0; mod < 7; mod++) {
        char name[32];
        snprintf(name, sizeof name, "battery.cells[%d]", mod);
        sw_rct_value a = read_at(&healthy, name, 0, NOON + 3600), b = read_at(&sick, name, 0, NOON + 3600);
        sw_rct_value c = read_at(&again, name, 0, NOON + 3600);
        assert_memory_equal(b.u.cells, c.u.cells, sizeof b.u.cells); /* the same module every run */
        int d = b.u.cells[0].temperature_c - a.u.cells[0].temperature_c;
        if (d) {
            assert_int_equal(hot, -1);
            assert_int_equal(d, 20);
            hot = mod;
        }
    }
    assert_true(hot >= 0);
    /* 15 min into the 30 min ramp: half way */
    char name[32];
    snprintf(name, sizeof name, "battery.cells[%d]", hot);
    int d = read_at(&sick, name, 0, NOON + 900).u.cells[1].temperature_c -
            read_at(&healthy, name, 0, NOON + 900).u.cells[1].temperature_c;
    assert_true(d >= 9 && d <= 11);
    assert_float_equal(read_at(&sick, "battery.max_cell_temperature", 0, NOON + 3600).u.f -
                           read_at(&healthy, "battery.max_cell_temperature", 0, NOON + 3600).u.f,
                       20.0, 1e-3);
}

static bool fixed_tracker(void *user, unsigned input, int64_t t_s, double *out_w)
{
    (void)t_s;
    const double *w = user;
    if (input > 1)
        return false;
    *out_w = w[input];
    return true;
}

static void test_dc_loss_and_hook(void **state)
{
    (void)state;
    static const char *const f[] = { "dc-loss:1=25@10m" };
    sw_rct_sim healthy, sick;
    sim_with(&healthy, NULL, 0);
    sim_with(&sick, f, 1);
    double a0 = read_at(&healthy, "dc_conv.dc_conv_struct[0].p_dc", 0, NOON + 3600).u.f;
    double a1 = read_at(&healthy, "dc_conv.dc_conv_struct[1].p_dc", 0, NOON + 3600).u.f;
    assert_true(a0 > 100 && a1 > 100);
    assert_float_equal(read_at(&sick, "dc_conv.dc_conv_struct[0].p_dc", 0, NOON + 3600).u.f, a0, 1e-3);
    assert_float_equal(read_at(&sick, "dc_conv.dc_conv_struct[1].p_dc", 0, NOON + 3600).u.f, a1 * 0.75, 1e-2);
    assert_float_equal(read_at(&sick, "dc_conv.dc_conv_struct[1].p_dc_lp", 0, NOON + 3600).u.f, a1 * 0.75, 1e-2);
    assert_float_equal(read_at(&sick, "dc_conv.dc_conv_struct[1].p_dc", 0, NOON + 300).u.f,
                       read_at(&healthy, "dc_conv.dc_conv_struct[1].p_dc", 0, NOON + 300).u.f, 1e-3);
    /* the co-simulation hook replaces the day model's tracker power; the loss still applies */
    double w[2] = { 1234.0, 2000.0 };
    sick.cfg.dc_power = fixed_tracker;
    sick.cfg.dc_power_user = w;
    assert_float_equal(read_at(&sick, "dc_conv.dc_conv_struct[0].p_dc", 0, NOON + 3600).u.f, 1234.0, 1e-3);
    assert_float_equal(read_at(&sick, "dc_conv.dc_conv_struct[1].p_dc", 0, NOON + 3600).u.f, 1500.0, 1e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drifting_cell),
        cmocka_unit_test(test_hot_module_from_the_seed),
        cmocka_unit_test(test_dc_loss_and_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
