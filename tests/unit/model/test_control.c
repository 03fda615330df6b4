/*
 * Unit tests for control write records (model/model.h): the table of
 * results, and the model's records: found or made by (inverter, object),
 * counted in place, bounded by SW_MODEL_MAX_CONTROLS.
 */
#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "model/model.h"
#include "testutil.h"

static void test_result_table(void **state)
{
    (void)state;
    size_t verified = 0;
    for (int r = 0; r < SW_CONTROL_RESULT_COUNT; r++) {
        const char *outcome = sw_control_result_outcome((sw_control_result)r);
        const char *reason = sw_control_result_reason((sw_control_result)r);
        assert_non_null(outcome);
        assert_non_null(reason);
        assert_true(strlen(sw_control_result_meaning((sw_control_result)r)) > 0);
        /* The outcomes of the rct_control event; only a verified write has no reason. */
        assert_true(strcmp(outcome, "verified") == 0 || strcmp(outcome, "failed") == 0 ||
                    strcmp(outcome, "refused") == 0);
        assert_int_equal(*reason == '\0', strcmp(outcome, "verified") == 0);
        verified += strcmp(outcome, "verified") == 0;
        /* reasons are label values: lower case and '_' */
        for (const char *c = reason; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
        /* one row per (outcome, reason) */
        for (int o = r + 1; o < SW_CONTROL_RESULT_COUNT; o++)
            assert_false(strcmp(outcome, sw_control_result_outcome((sw_control_result)o)) == 0 &&
                         strcmp(reason, sw_control_result_reason((sw_control_result)o)) == 0);
    }
    assert_int_equal(verified, 1);
    assert_string_equal(sw_control_result_reason(SW_CONTROL_RATE_LIMITED), "rate_limited");
    assert_string_equal(sw_control_result_outcome(SW_CONTROL_IGNORED), "failed");
    assert_null(sw_control_result_outcome(SW_CONTROL_RESULT_COUNT));
    assert_null(sw_control_result_reason((sw_control_result)-1));
}

static void test_records(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    assert_int_equal(sw_model_control_count(m), 0);
    assert_null(sw_model_control(m, "", "power_mng.soc_min"));
    assert_null(sw_model_control(m, NULL, "power_mng.soc_min"));
    sw_control *a = sw_model_control(m, "house", "power_mng.soc_min");
    assert_non_null(a);
    assert_string_equal(a->inverter, "house");
    assert_string_equal(a->object, "power_mng.soc_min");
    assert_false(a->allowed);
    a->writes[SW_CONTROL_VERIFIED]++;
    /* The same record again, kept in place; another inverter or object is another record. */
    assert_ptr_equal(sw_model_control(m, "house", "power_mng.soc_min"), a);
    assert_int_equal(a->writes[SW_CONTROL_VERIFIED], 1);
    sw_control *b = sw_model_control(m, "garage", "power_mng.soc_min");
    sw_control *u = sw_model_control(m, "house", NULL);
    assert_true(b != a && u != a && u != b);
    assert_string_equal(u->object, "");
    assert_ptr_equal(sw_model_control_find(m, "house", ""), u);
    assert_ptr_equal(sw_model_control_find(m, "garage", "power_mng.soc_min"), b);
    assert_null(sw_model_control_find(m, "garage", "power_mng.soc_max"));
    assert_int_equal(sw_model_control_count(m), 3);
    assert_ptr_equal(sw_model_control_at(m, 0), a);
    assert_null(sw_model_control_at(m, 3));
    /* A change moves the model's time, never back. */
    sw_model_control_changed(m, 5000);
    assert_int_equal(sw_model_updated_ns(m), 5000);
    sw_model_control_changed(m, 4000);
    assert_int_equal(sw_model_updated_ns(m), 5000);
    /* Full: NULL, and the records there are stay. */
    char name[32];
    for (size_t i = sw_model_control_count(m); i < SW_MODEL_MAX_CONTROLS; i++) {
        snprintf(name, sizeof name, "o%zu", i);
        assert_non_null(sw_model_control(m, "house", name));
    }
    assert_null(sw_model_control(m, "house", "one.more"));
    assert_ptr_equal(sw_model_control(m, "house", "power_mng.soc_min"), a);
    sw_model_free(m);
}

/* The record's fields are declared in model/fields.h: each one the web API carries, with a metric
 * for the figures Prometheus shows. */
static void test_fields(void **state)
{
    (void)state;
    assert_true(sw_control_field_count >= 8);
    for (size_t i = 0; i < sw_control_field_count; i++) {
        const sw_field *f = &sw_control_fields[i];
        assert_non_null(f->key.api);
        assert_true(strlen(f->meaning) > 0);
        if (f->prom.metric) {
            assert_int_equal(strncmp(f->prom.metric, "sunwire_control_", 16), 0);
            /* counters end in _total, times in _timestamp_seconds */
            size_t n = strlen(f->prom.metric);
            if (f->flags & SW_FF_COUNTER)
                assert_string_equal(f->prom.metric + n - 6, "_total");
            if (f->type == SW_FT_TIME)
                assert_string_equal(f->prom.metric + n - 18, "_timestamp_seconds");
        }
    }
    sw_control c;
    memset(&c, 0, sizeof c);
    c.flash_left = 7;
    c.blocked_until_ns = 42;
    assert_int_equal(sw_field_int(sw_field_find(sw_control_fields, sw_control_field_count, "flash_left"), &c), 7);
    assert_int_equal(sw_field_int(sw_field_find(sw_control_fields, sw_control_field_count, "blocked_until_ns"), &c),
                     42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_table),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
