/*
 * The Home Assistant description of inverter values (sink/ha_inverter.h):
 * the committed table is what tools/gen_ha_inverter.py makes from the data
 * files, its rows are consistent, and each kind of value goes into the MQTT
 * state the way its entity reads it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sink/ha_inverter.h"
#include "testutil.h"

static void test_generated_table_current(void **state)
{
    (void)state;
    const char *src = getenv("SW_SOURCE_DIR");
    if (!src || system("python3 -c pass >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/gen_ha_inverter.py' --check", src);
    assert_int_equal(system(cmd), 0);
}

static bool is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

static void test_rows(void **state)
{
    (void)state;
    assert_true(sw_ha_inverter_entity_count >= 40);
    for (size_t i = 0; i < sw_ha_inverter_entity_count; i++) {
        const sw_ha_inverter_entity *e = &sw_ha_inverter_entities[i];
        assert_ptr_equal(sw_ha_inverter_entity_find(e->object), e);
        /* A human name, not the registry's. */
        assert_non_null(e->name);
        assert_null(strchr(e->name, '.'));
        assert_null(strchr(e->name, '_'));
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(e->name, sw_ha_inverter_entities[k].name);
        /* Energy counters only grow; an enumeration is a state, never averaged. */
        if (is(e->device_class, "energy"))
            assert_true(is(e->state_class, "total_increasing") && is(e->unit, "Wh"));
        if (e->kind == SW_HA_KIND_ENUM) {
            assert_true(is(e->device_class, "enum"));
            assert_null(e->state_class);
            assert_null(e->unit);
            assert_non_null(sw_ha_enum_find(e->object));
        }
    }
    assert_null(sw_ha_inverter_entity_find("no.such_object"));
    /* Options are each label once. */
    assert_true(sw_ha_enum_count >= 10);
    for (size_t i = 0; i < sw_ha_enum_count; i++) {
        const sw_ha_enum *en = &sw_ha_enums[i];
        assert_true(en->n_options > 0);
        for (size_t a = 0; a < en->n_options; a++)
            for (size_t b = 0; b < a; b++)
                assert_string_not_equal(en->options[a], en->options[b]);
    }
}

static void test_status_bits(void **state)
{
    (void)state;
    /* The vendor app: bit 11 clear = balancing; bits 3 and 10 both clear = calibrating. */
    const sw_ha_status_bit *bal = NULL, *cal = NULL;
    for (size_t i = 0; i < sw_ha_status_bit_count; i++) {
        if (is(sw_ha_status_bits[i].key, "balancing"))
            bal = &sw_ha_status_bits[i];
        if (is(sw_ha_status_bits[i].key, "calibrating"))
            cal = &sw_ha_status_bits[i];
    }
    assert_non_null(bal);
    assert_non_null(cal);
    assert_true(sw_ha_status_bit_on(bal, 0));
    assert_false(sw_ha_status_bit_on(bal, 2048));
    assert_true(sw_ha_status_bit_on(cal, 2048));
    assert_false(sw_ha_status_bit_on(cal, 8));
    assert_false(sw_ha_status_bit_on(cal, 1024));
}

static sw_inverter_value value(const char *name, double number, const char *text)
{
    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.object_name, sizeof v.object_name, "%s", name);
    v.is_number = true;
    v.number = number;
    v.text = text; /* callers pass string literals */
    return v;
}

static void expect_json(const sw_inverter_value *v, const char *key, const char *want)
{
    char buf[512];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_object_begin(&j);
    sw_ha_inverter_value_json(&j, v, key);
    sw_json_object_end(&j);
    assert_non_null(sw_json_finish(&j));
    assert_string_equal(buf, want);
}

static void test_state_values(void **state)
{
    (void)state;
    sw_inverter_value v = value("prim_sm.state", 13, "Feed in");
    expect_json(&v, "prim_sm_state", "{\"prim_sm_state\":\"Feed in\"}");
    v = value("energy.e_grid_feed_day", -1250.5, "-1250.5");
    expect_json(&v, "k", "{\"k\":-1250.5,\"k_abs\":1250.5}");
    v = value("fault[2].flt", 0, "none");
    expect_json(&v, "f", "{\"f\":0.0,\"f_text\":\"none\"}");
    v = value("battery.bat_status", 8, "8");
    expect_json(&v, "b", "{\"b\":8.0,\"b_balancing\":true,\"b_calibrating\":false}");
    v = value("battery.bat_status", NAN, "nan"); /* not a word: no bits */
    expect_json(&v, "b", "{\"b\":null}");
    v = value("g_sync.p_ac_grid_sum_lp", -12.25, "-12.25");
    expect_json(&v, "g", "{\"g\":-12.25}");
    v = value("inverter_sn", 0, "0123");
    v.is_number = false;
    expect_json(&v, "s", "{\"s\":\"0123\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_table_current),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_status_bits),
        cmocka_unit_test(test_state_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
