/* A Tigo bus's line diagnosis in the model: the source's diagnosis text and
 * the "line" problem, raised with the verdict as reason and cleared when the
 * line is healthy again. */
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_internal.h"
#include "tigo/doctor.h"
#include "testutil.h"

#define SEC 1000000000LL

static void verdict(sw_tigo_doctor_result *r, sw_tigo_doctor_verdict v, const char *text)
{
    memset(r, 0, sizeof *r);
    r->verdict = v;
    strcpy(r->text, text);
}

static void test_raise_and_clear(void **state)
{
    (void)state;
    sw_model_options o;
    sw_model_options_defaults(&o);
    sw_model *m = sw_model_new(&o);
    assert_non_null(m);
    sw_source_status *st = sw_model_source(m, "roof", SW_SOURCE_TIGO_TCP, "192.0.2.10:502");
    assert_non_null(st);
    assert_string_equal(st->diagnosis, "");

    sw_tigo_doctor_result r;
    verdict(&r, SW_TIGO_DOCTOR_HEALTHY, "healthy: 1 gateway, 10 nodes, 0.0% CRC errors");
    assert_true(sw_daemon_line_verdict(m, st, &r, 10 * SEC));
    assert_string_equal(st->diagnosis, r.text);
    assert_null(sw_model_problem_find(m, SW_PROBLEM_LINE, "roof", "roof")); /* nothing to clear */
    assert_false(sw_daemon_line_verdict(m, st, &r, 15 * SEC));            /* no news */

    verdict(&r, SW_TIGO_DOCTOR_WRONG_LINE, "bytes but no frame starts: A/B swapped (the byte pattern matches inverted polarity)");
    assert_true(sw_daemon_line_verdict(m, st, &r, 20 * SEC));
    const sw_problem *p = sw_model_problem_find(m, SW_PROBLEM_LINE, "roof", "roof");
    assert_non_null(p);
    assert_true(p->active);
    assert_int_equal(p->subject_kind, SW_SUBJECT_BUS);
    assert_true(p->since_ns == 20 * SEC);
    assert_string_equal(p->reason, r.text);
    assert_int_equal(sw_model_problem_active_count(m), 1);

    /* another fault: the same problem, a new reason, the same start */
    verdict(&r, SW_TIGO_DOCTOR_NOISY, "frames but many CRC errors (12.2% of 598 frames damaged): noise, termination or ground");
    assert_true(sw_daemon_line_verdict(m, st, &r, 25 * SEC));
    p = sw_model_problem_find(m, SW_PROBLEM_LINE, "roof", "roof");
    assert_true(p->active && p->since_ns == 20 * SEC);
    assert_string_equal(p->reason, r.text);

    verdict(&r, SW_TIGO_DOCTOR_HEALTHY, "healthy: 1 gateway, 10 nodes, 0.1% CRC errors");
    assert_true(sw_daemon_line_verdict(m, st, &r, 30 * SEC));
    p = sw_model_problem_find(m, SW_PROBLEM_LINE, "roof", "roof");
    assert_false(p->active);
    assert_true(p->until_ns == 30 * SEC);
    assert_int_equal(sw_model_problem_active_count(m), 0);
    assert_string_equal(st->diagnosis, r.text);
    sw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raise_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
