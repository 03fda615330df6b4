/*
 * The RCT poller's default object lists: every name must exist in the
 * registry (a typo would silently never be polled), the lists must not
 * overlap, and they must cover what the daemon promises: PV strings,
 * battery, grid total and per phase, house load, temperatures, energy
 * counters and all four fault words.
 */
#include <string.h>

#include "daemon/daemon.h"
#include "sink/ha_inverter.h"
#include "sunwire/rct_registry.h"
#include "testutil.h"

static bool listed(const char *name)
{
    for (int slow = 0; slow < 2; slow++)
        for (size_t i = 0; i < sw_daemon_rct_default_count(slow); i++)
            if (strcmp(sw_daemon_rct_default_name(slow, i), name) == 0)
                return true;
    return false;
}

static void test_names_exist(void **state)
{
    (void)state;
    size_t total = 0;
    for (int slow = 0; slow < 2; slow++) {
        size_t n = sw_daemon_rct_default_count(slow);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
            const char *name = sw_daemon_rct_default_name(slow, i);
            const sw_rct_object *o = sw_rct_registry_find_name(name);
            if (!o)
                print_error("default object \"%s\" is not in the registry\n", name);
            assert_non_null(o);
            /* Polled values must decode to something a sink can show. */
            assert_int_not_equal(o->response_type, SW_RCT_TYPE_TIMESERIES);
            assert_int_not_equal(o->response_type, SW_RCT_TYPE_EVENT_TABLE);
            total++;
        }
        assert_null(sw_daemon_rct_default_name(slow, n));
    }
    for (size_t i = 0; i < sw_daemon_rct_identity_count(); i++) {
        const sw_rct_object *o = sw_rct_registry_find_name(sw_daemon_rct_identity_name(i));
        assert_non_null(o);
        assert_int_equal(o->response_type, SW_RCT_TYPE_STRING);
    }
    assert_null(sw_daemon_rct_identity_name(sw_daemon_rct_identity_count()));
    assert_true(total >= 30);
}

static void test_no_duplicates(void **state)
{
    (void)state;
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; i < sw_daemon_rct_default_count(a); i++)
            for (int b = 0; b < 2; b++)
                for (size_t j = 0; j < sw_daemon_rct_default_count(b); j++) {
                    if (a == b && i == j)
                        continue;
                    assert_string_not_equal(sw_daemon_rct_default_name(a, i), sw_daemon_rct_default_name(b, j));
                }
}

static void test_coverage(void **state)
{
    (void)state;
    /* Object names from the vendor facts (docs/rct-protocol.md and the app's screens). */
    static const char *const must[] = {
        "dc_conv.dc_conv_struct[0].p_dc_lp", "dc_conv.dc_conv_struct[1].p_dc_lp", /* PV power per string */
        "g_sync.u_sg_avg[0]", "g_sync.u_sg_avg[1]",                               /* PV voltage per string */
        "battery.soc", "g_sync.p_acc_lp", "battery.temperature",                  /* battery */
        "g_sync.p_ac_grid_sum_lp",                                                /* grid total */
        "g_sync.p_ac_sc[0]", "g_sync.p_ac_sc[1]", "g_sync.p_ac_sc[2]",            /* grid per phase */
        "g_sync.p_ac_load_sum_lp",                                                /* house load */
        "db.temp1", "db.temp2",                                                   /* inverter temperatures */
        "energy.e_ac_day", "energy.e_ac_total",                                   /* energy */
        "fault[0].flt", "fault[1].flt", "fault[2].flt", "fault[3].flt",           /* faults */
        "battery.soh", "battery.cycles",                                          /* battery health */
        "battery.stored_energy", "battery.used_energy",                           /* battery energy in/out */
        "energy.e_dc_total[0]", "energy.e_dc_total[1]",                           /* PV generator totals */
        "energy.e_grid_feed_total", "energy.e_grid_load_total",                   /* grid energy */
        "iso_struct.Riso",                                                        /* insulation */
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        if (!listed(must[i]))
            print_error("\"%s\" is not polled by default\n", must[i]);
        assert_true(listed(must[i]));
    }
    /* Faults and energy counters are slow-tier: they change rarely. */
    for (size_t i = 0; i < sw_daemon_rct_default_count(false); i++) {
        const char *n = sw_daemon_rct_default_name(false, i);
        assert_true(strncmp(n, "fault[", 6) != 0);
        assert_true(strncmp(n, "energy.", 7) != 0);
    }
}

/* Every object polled by default has a Home Assistant description (data/ha-inverter.tsv). */
static void check_described(const char *name, bool identity)
{
    const sw_ha_inverter_entity *e = sw_ha_inverter_entity_find(name);
    if (!e)
        print_error("\"%s\" is polled by default but has no row in data/ha-inverter.tsv\n", name);
    assert_non_null(e);
    assert_non_null(e->name);
    if (identity)
        assert_string_equal(e->category, "diagnostic");
}

static void test_described_for_home_assistant(void **state)
{
    (void)state;
    for (int slow = 0; slow < 2; slow++)
        for (size_t i = 0; i < sw_daemon_rct_default_count(slow); i++)
            check_described(sw_daemon_rct_default_name(slow, i), false);
    for (size_t i = 0; i < sw_daemon_rct_identity_count(); i++)
        check_described(sw_daemon_rct_identity_name(i), true);
}

/* Fault bits as the vendor lists them (spec 13.1): bit k is bit k mod 32 of word k / 32. */
static void test_fault_names(void **state)
{
    (void)state;
    assert_string_equal(sw_daemon_rct_fault_name(0), "CPU trap");
    assert_non_null(strstr(sw_daemon_rct_fault_name(17), "relay test"));
    assert_non_null(strstr(sw_daemon_rct_fault_name(25), "insulation"));
    assert_non_null(strstr(sw_daemon_rct_fault_name(67), "300 mA"));
    assert_non_null(strstr(sw_daemon_rct_fault_name(105), "emergency"));
    assert_non_null(strstr(sw_daemon_rct_fault_name(126), "island"));
    assert_non_null(strstr(sw_daemon_rct_fault_name(127), "neutral"));
    assert_null(sw_daemon_rct_fault_name(128));
    for (unsigned b = 0; b < 128; b++) {
        assert_non_null(sw_daemon_rct_fault_name(b));
        assert_true(strlen(sw_daemon_rct_fault_name(b)) > 3);
    }

    char out[160];
    assert_int_equal(sw_daemon_rct_fault_text(0, 0, out, sizeof out), 4);
    assert_string_equal(out, "none");
    /* Word 0: bits 0 and 17. */
    sw_daemon_rct_fault_text(0, (1u << 0) | (1u << 17), out, sizeof out);
    char want[160];
    snprintf(want, sizeof want, "%s, %s", sw_daemon_rct_fault_name(0), sw_daemon_rct_fault_name(17));
    assert_string_equal(out, want);
    /* Word 3, bit 31 is global bit 127. */
    sw_daemon_rct_fault_text(3, 1u << 31, out, sizeof out);
    assert_string_equal(out, sw_daemon_rct_fault_name(127));
    /* Every bit at once does not fit: the text says so and the length tells what was needed. */
    size_t need = sw_daemon_rct_fault_text(1, 0xFFFFFFFFu, out, sizeof out);
    assert_true(need >= sizeof out);
    assert_true(strlen(out) < sizeof out);
    assert_non_null(strstr(out, "..."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_exist),
        cmocka_unit_test(test_no_duplicates),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_described_for_home_assistant),
        cmocka_unit_test(test_fault_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
