/*
 * Unit tests for problems (model/problem.h): the kind table, the JSON form,
 * and the model's records: raise, refresh, clear, re-raise, what the sinks
 * hear, and a full table making room from cleared records only.
 */
#include <stdio.h>
#include <string.h>

#include "model/model.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)

static void test_kind_table(void **state)
{
    (void)state;
    for (int k = SW_PROBLEM_KIND_FIRST; k <= SW_PROBLEM_KIND_LAST; k++) {
        const char *name = sw_problem_kind_name((sw_problem_kind)k);
        assert_non_null(name);
        assert_non_null(sw_problem_kind_title((sw_problem_kind)k));
        assert_int_equal(sw_problem_kind_from_name(name), k);
        /* names are label values and topic parts: lower case, digits, '_' */
        for (const char *c = name; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
        for (int o = k + 1; o <= SW_PROBLEM_KIND_LAST; o++)
            assert_string_not_equal(name, sw_problem_kind_name((sw_problem_kind)o));
    }
    assert_null(sw_problem_kind_name((sw_problem_kind)0));
    assert_int_equal(sw_problem_kind_from_name("nonsense"), 0);
    assert_int_equal(sw_problem_kind_subject(SW_PROBLEM_HOT), SW_SUBJECT_PANEL);
    assert_int_equal(sw_problem_kind_subject(SW_PROBLEM_CONTROLLER_SILENT), SW_SUBJECT_BUS);
    assert_string_equal(sw_subject_kind_name(SW_SUBJECT_BATTERY), "battery");
}

struct heard {
    int calls;
    sw_problem last;
};

static void on_problem(void *self, const sw_problem *p)
{
    struct heard *h = self;
    h->calls++;
    h->last = *p;
}

static const sw_sink_ops LISTENER = {.name = "listener", .on_problem = on_problem};

static void test_lifecycle(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    assert_non_null(m);
    struct heard h = {0};
    assert_int_equal(sw_model_add_sink(m, (sw_sink){&LISTENER, &h}), SW_OK);

    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "east-3", "71 C, peers 48 C",
                                            S(100)),
                     SW_OK);
    assert_int_equal(h.calls, 1);
    assert_true(h.last.active);
    assert_int_equal(h.last.since_ns, S(100));
    assert_string_equal(h.last.name, "east-3");
    assert_int_equal(sw_model_problem_active_count(m), 1);

    /* the same again is not news; a new reason is, and keeps since */
    sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "east-3", "71 C, peers 48 C", S(110));
    assert_int_equal(h.calls, 1);
    sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "east-3", "75 C, peers 48 C", S(120));
    assert_int_equal(h.calls, 2);
    assert_int_equal(h.last.since_ns, S(100));
    assert_string_equal(h.last.reason, "75 C, peers 48 C");

    /* another subject or kind is another record */
    sw_model_problem_raise(m, SW_PROBLEM_STUCK, "roof", "4-C3F1A2B", NULL, "same reading 12 times", S(130));
    assert_int_equal(sw_model_problem_count(m), 2);
    assert_string_equal(sw_model_problem_at(m, 1)->name, "4-C3F1A2B"); /* no name: the subject */

    /* clear: heard once, kept with its end time; clearing again is nothing */
    sw_model_problem_clear(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", S(200));
    assert_int_equal(h.calls, 4);
    assert_false(h.last.active);
    assert_int_equal(h.last.until_ns, S(200));
    sw_model_problem_clear(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", S(210));
    sw_model_problem_clear(m, SW_PROBLEM_HOT, "roof", "never", S(210));
    assert_int_equal(h.calls, 4);
    assert_int_equal(sw_model_problem_active_count(m), 1);
    const sw_problem *p = sw_model_problem_find(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B");
    assert_non_null(p);
    assert_false(p->active);

    /* raised again: a new since, the same record */
    sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "east-3", "70 C", S(300));
    assert_int_equal(h.calls, 5);
    assert_int_equal(h.last.since_ns, S(300));
    assert_int_equal(h.last.until_ns, 0);
    assert_int_equal(sw_model_problem_count(m), 2);

    assert_int_equal(sw_model_problem_raise(m, (sw_problem_kind)0, "roof", "x", NULL, "", S(1)),
                     SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "", NULL, "", S(1)), SW_ERR_INVALID_ARGUMENT);
    sw_model_free(m);
}

static void test_json(void **state)
{
    (void)state;
    sw_problem p = {.kind = SW_PROBLEM_NO_POWER, .subject_kind = SW_SUBJECT_PANEL, .active = true, .since_ns = S(60)};
    strcpy(p.source, "roof");
    strcpy(p.subject, "4-C3F1A2B");
    strcpy(p.name, "east \"3\"");
    strcpy(p.reason, "Vin 38.1 V, 0.00 A");
    char buf[512];
    size_t len;
    assert_int_equal(sw_problem_json(&p, buf, sizeof buf, &len), SW_OK);
    assert_string_equal(buf, "{\"kind\":\"no_power\",\"subject_kind\":\"panel\",\"source\":\"roof\","
                             "\"subject\":\"4-C3F1A2B\",\"name\":\"east \\\"3\\\"\",\"active\":true,"
                             "\"since\":\"1970-01-01T00:01:00Z\",\"until\":null,\"reason\":\"Vin 38.1 V, 0.00 A\"}");
    assert_int_equal(len, strlen(buf));
    p.active = false;
    p.until_ns = S(120);
    assert_int_equal(sw_problem_json(&p, buf, sizeof buf, &len), SW_OK);
    assert_non_null(strstr(buf, "\"active\":false"));
    assert_non_null(strstr(buf, "\"until\":\"1970-01-01T00:02:00Z\""));
    char small[20];
    assert_int_equal(sw_problem_json(&p, small, sizeof small, &len), SW_ERR_NO_SPACE);
    assert_int_equal(len, 0);
}

static void test_full_table(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    char subject[32];
    for (int i = 0; i < SW_MODEL_MAX_PROBLEMS; i++) {
        snprintf(subject, sizeof subject, "p%d", i);
        assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_STUCK, "roof", subject, NULL, "", S(i)), SW_OK);
    }
    /* every row active: a new problem does not fit, nothing is dropped */
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "new", NULL, "", S(5000)), SW_ERR_NO_SPACE);
    assert_int_equal(sw_model_problem_active_count(m), SW_MODEL_MAX_PROBLEMS);
    /* cleared rows make room, the one cleared longest ago first */
    sw_model_problem_clear(m, SW_PROBLEM_STUCK, "roof", "p7", S(6000));
    sw_model_problem_clear(m, SW_PROBLEM_STUCK, "roof", "p3", S(6001));
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "new", NULL, "", S(7000)), SW_OK);
    assert_null(sw_model_problem_find(m, SW_PROBLEM_STUCK, "roof", "p7"));
    assert_non_null(sw_model_problem_find(m, SW_PROBLEM_STUCK, "roof", "p3"));
    assert_int_equal(sw_model_problem_count(m), SW_MODEL_MAX_PROBLEMS);
    assert_int_equal(sw_model_problem_at(m, SW_MODEL_MAX_PROBLEMS - 1)->kind, SW_PROBLEM_HOT);
    sw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_table),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
