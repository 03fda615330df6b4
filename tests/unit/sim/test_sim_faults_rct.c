/*
 * Unit tests for the RCT simulator's fault texts (sim/sim_faults_rct.h):
 * every form of KIND[:TARGET][=VALUE][@START[-END]], the defaults, the
 * errors, and when a fault is in force.
 */
#include <string.h>

#include "sim/sim_faults_rct.h"
#include "testutil.h"

static void test_parse(void **state)
{
    (void)state;
    sw_sim_rct_fault f;
    char err[160];
    assert_int_equal(sw_sim_rct_fault_parse("drifting-cell", &f, err, sizeof err), SW_OK);
    assert_int_equal(f.kind, SW_SIM_RCT_FAULT_DRIFTING_CELL);
    assert_int_equal(f.module, -1);
    assert_int_equal(f.cell, -1);
    assert_float_equal(f.value, 150.0, 0);
    assert_int_equal(f.start_s, 0);
    assert_int_equal(f.end_s, 0);

    assert_int_equal(sw_sim_rct_fault_parse("drifting-cell:2.14=200@1h", &f, err, sizeof err), SW_OK);
    assert_int_equal(f.module, 2);
    assert_int_equal(f.cell, 14);
    assert_float_equal(f.value, 200.0, 0);
    assert_int_equal(f.start_s, 3600);

    assert_int_equal(sw_sim_rct_fault_parse("hot-module:1=20@2h-6h", &f, err, sizeof err), SW_OK);
    assert_int_equal(f.kind, SW_SIM_RCT_FAULT_HOT_MODULE);
    assert_int_equal(f.module, 1);
    assert_int_equal(f.start_s, 7200);
    assert_int_equal(f.end_s, 21600);

    assert_int_equal(sw_sim_rct_fault_parse("dc-loss@90-15m", &f, err, sizeof err), SW_OK);
    assert_int_equal(f.kind, SW_SIM_RCT_FAULT_DC_LOSS);
    assert_int_equal(f.input, -1);
    assert_float_equal(f.value, 30.0, 0);
    assert_int_equal(f.start_s, 90);
    assert_int_equal(f.end_s, 900);
    assert_int_equal(sw_sim_rct_fault_parse("dc-loss:1=12.5@1d", &f, err, sizeof err), SW_OK);
    assert_int_equal(f.input, 1);
    assert_int_equal(f.start_s, 86400);

    static const char *const bad[] = {
        "", "drift", "drifting-cell:2", "drifting-cell:7.0", "drifting-cell:1.24", "hot-module:x",
        "hot-module=0", "hot-module=61", "dc-loss:4", "dc-loss=abc", "dc-loss@", "dc-loss@5x",
        "dc-loss@2h-1h", "dc-loss@1h-", "dc-loss=10junk", "hot-module:1:2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        assert_int_equal(sw_sim_rct_fault_parse(bad[i], &f, err, sizeof err), SW_ERR_INVALID_ARGUMENT);
        assert_true(err[0] != 0);
    }
    assert_non_null(strstr((sw_sim_rct_fault_parse("bogus", &f, err, sizeof err), err), "unknown fault"));
}

static void test_in_force(void **state)
{
    (void)state;
    sw_sim_rct_faults fs = { 0 };
    char err[160];
    assert_int_equal(sw_sim_rct_faults_add(&fs, "hot-module:3@1h-2h", err, sizeof err), SW_OK);
    assert_int_equal(sw_sim_rct_faults_add(&fs, "dc-loss", err, sizeof err), SW_OK);
    int64_t el = -1;
    assert_null(sw_sim_rct_faults_active(&fs, SW_SIM_RCT_FAULT_HOT_MODULE, 3599, &el));
    const sw_sim_rct_fault *f = sw_sim_rct_faults_active(&fs, SW_SIM_RCT_FAULT_HOT_MODULE, 3700, &el);
    assert_non_null(f);
    assert_int_equal(el, 100);
    assert_null(sw_sim_rct_faults_active(&fs, SW_SIM_RCT_FAULT_HOT_MODULE, 7200, NULL)); /* END excluded */
    assert_non_null(sw_sim_rct_faults_active(&fs, SW_SIM_RCT_FAULT_DC_LOSS, 0, NULL));
    assert_non_null(sw_sim_rct_faults_active(&fs, SW_SIM_RCT_FAULT_DC_LOSS, 400 * 86400, NULL));
    assert_null(sw_sim_rct_faults_active(&fs, SW_SIM_RCT_FAULT_DRIFTING_CELL, 0, NULL));
    for (size_t i = fs.n; i < SW_SIM_RCT_MAX_FAULTS; i++)
        assert_int_equal(sw_sim_rct_faults_add(&fs, "dc-loss", err, sizeof err), SW_OK);
    assert_int_equal(sw_sim_rct_faults_add(&fs, "dc-loss", err, sizeof err), SW_ERR_NO_SPACE);
    size_t n = 0;
    const sw_sim_rct_fault_info *t = sw_sim_rct_fault_table(&n);
    assert_int_equal(n, SW_SIM_RCT_FAULT_KIND_COUNT - 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t[i].kind, (int)i + 1);
        assert_true(t[i].def >= t[i].min && t[i].def <= t[i].max);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_in_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
