/* Unit tests for src/core: double and time text, hex, UTF-8, errors. */
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/error.h"
#include "testutil.h"

static void check_double(double v, const char *want)
{
    char buf[SW_DOUBLE_TEXT_MAX];
    size_t n = sw_fmt_double(buf, v);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_double_basic(void **state)
{
    (void)state;
    check_double(1.0, "1.0");
    check_double(25.0, "25.0");
    check_double(3 / 20.0, "0.15");
    check_double(3 * 0.05, "0.15000000000000002");
    check_double(194 / 255.0, "0.7607843137254902");
    check_double(-0.1, "-0.1");
    check_double(0.0, "0.0");
    check_double(30.0, "30.0");
    check_double(1e16, "1e16");
    check_double(1.5e-7, "1.5e-7");
    check_double(0.00001, "0.00001");
    check_double(123456789012345.0, "123456789012345.0");
    check_double(1e300, "1e300");
    check_double(-2.5e-300, "-2.5e-300");
}

/* Every value a Tigo power report field can take formats as the reference does. */
static void test_double_power_report_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/power_reports.json");
    json_t *cases = tu_get(root, "cases");
    size_t i;
    json_t *c;
    int checked = 0;
    json_array_foreach(cases, i, c) {
        json_t *texts = json_object_get(c, "json_number_text");
        json_t *phys = json_object_get(c, "physical");
        if (!texts || !phys)
            continue;
        const char *key;
        json_t *t;
        json_object_foreach(texts, key, t) {
            check_double(json_number_value(tu_get(phys, key)), json_string_value(t));
            checked++;
        }
    }
    assert_true(checked > 20);
    json_decref(root);
}

/* Shortest round trip over all 12-bit raw values and every divisor in use. */
static void test_double_round_trip_all_fields(void **state)
{
    (void)state;
    static const double divisors[] = { 20.0, 10.0, 200.0, 255.0 };
    char buf[SW_DOUBLE_TEXT_MAX];
    for (size_t d = 0; d < 4; d++) {
        for (int raw = -2048; raw < 4096; raw++) {
            double v = raw / divisors[d];
            sw_fmt_double(buf, v);
            assert_true(strtod(buf, NULL) == v);
            assert_non_null(strpbrk(buf, ".e"));
        }
    }
}

static void test_rfc3339(void **state)
{
    (void)state;
    char buf[SW_RFC3339_MAX];
    sw_fmt_rfc3339(buf, 1724508994186961123LL, 0);
    assert_string_equal(buf, "2024-08-24T14:16:34.186961123Z");
    sw_fmt_rfc3339(buf, 1724508994186961123LL, -5 * 3600);
    assert_string_equal(buf, "2024-08-24T09:16:34.186961123-05:00");
    sw_fmt_rfc3339(buf, 1724508994000000000LL, 2 * 3600);
    assert_string_equal(buf, "2024-08-24T16:16:34+02:00");
    sw_fmt_rfc3339(buf, 1724508994123000000LL, 0);
    assert_string_equal(buf, "2024-08-24T14:16:34.123Z");
    sw_fmt_rfc3339(buf, 1724508994123456000LL, 19800);
    assert_string_equal(buf, "2024-08-24T19:46:34.123456+05:30");
    sw_fmt_rfc3339(buf, -1, 0);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
    sw_fmt_rfc3339(buf, 951782400LL * 1000000000LL, 0); /* leap day 2000-02-29 */
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
}

static void test_civil_round_trip(void **state)
{
    (void)state;
    for (int64_t days = -800000; days <= 800000; days += 37) {
        int64_t y;
        unsigned m, d;
        sw_civil_from_days(days, &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        assert_int_equal(sw_days_from_civil(y, m, d), days);
    }
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    const char *in = "2b 01:0x0A-ff,\n7E";
    assert_int_equal(sw_hex_decode(in, strlen(in), out, sizeof out, &n), SW_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "\x2b\x01\x0a\xff\x7e", 5);
    char txt[11];
    sw_hex_encode(txt, out, 5);
    assert_string_equal(txt, "2B010AFF7E");
    assert_int_equal(sw_hex_decode("ABC", 3, out, sizeof out, &n), SW_ERR_BAD_HEX);
    assert_int_equal(sw_hex_decode("zz", 2, out, sizeof out, &n), SW_ERR_BAD_HEX);
    assert_int_equal(sw_hex_decode("0102", 4, out, 1, &n), SW_ERR_NO_SPACE);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(sw_utf8_valid((const uint8_t *)"abc", 3));
    assert_true(sw_utf8_valid((const uint8_t *)"\xc2\xb0" "C", 3));
    assert_true(sw_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
    assert_false(sw_utf8_valid((const uint8_t *)"\xc0\xaf", 2));     /* overlong */
    assert_false(sw_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
    assert_false(sw_utf8_valid((const uint8_t *)"\xe2\x82", 2));     /* truncated */
    assert_false(sw_utf8_valid((const uint8_t *)"\xff", 1));
}

static void test_config_words(void **state)
{
    (void)state;
    static const char *const yes[] = { "true", "TRUE", "Yes", "on", "1" };
    static const char *const no[] = { "false", "No", "OFF", "0" };
    static const char *const bad[] = { "", "2", "y", "truex", " true", "-1" };
    bool b;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        b = false;
        assert_true(sw_parse_bool(yes[i], &b));
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        b = true;
        assert_true(sw_parse_bool(no[i], &b));
        assert_false(b);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sw_parse_bool(bad[i], &b));
    assert_false(sw_parse_bool(NULL, &b));

    uint64_t v;
    assert_true(sw_parse_uint("0", 10, &v));
    assert_int_equal(v, 0);
    assert_true(sw_parse_uint("65535", 65535, &v));
    assert_int_equal(v, 65535);
    assert_false(sw_parse_uint("65536", 65535, &v));
    assert_true(sw_parse_uint("18446744073709551615", UINT64_MAX, &v));
    assert_int_equal(v, UINT64_MAX);
    static const char *const bad_n[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x10", "18446744073709551616" };
    for (size_t i = 0; i < sizeof bad_n / sizeof bad_n[0]; i++)
        assert_false(sw_parse_uint(bad_n[i], UINT64_MAX, &v));
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(sw_err_name(SW_OK), "SW_OK");
    assert_string_equal(sw_err_name(SW_ERR_TRUNCATED), "SW_ERR_TRUNCATED");
    assert_true(SW_ERR_IO >= 100 && SW_ERR_IO < 200);
    assert_string_equal(sw_err_name((sw_err)9999), "SW_ERR_UNKNOWN");
    assert_non_null(sw_err_message((sw_err)9999));
    assert_string_equal(sw_err_message(SW_ERR_BAD_HEX), "text is not valid hexadecimal");
}

/* Seconds to int64 ns: the representable range exactly, never a wrapped value. */
static void test_time_range(void **state)
{
    (void)state;
    int64_t ns = 0;
    assert_int_equal(sw_time_ns_from_s(0, 0, &ns), SW_OK);
    assert_int_equal(ns, 0);
    assert_int_equal(sw_time_ns_from_s(SW_TIME_S_MAX, 854775807, &ns), SW_OK);
    assert_int_equal(ns, INT64_MAX);
    assert_int_equal(sw_time_ns_from_s(SW_TIME_S_MAX, 854775808, &ns), SW_ERR_OUT_OF_RANGE);
    assert_int_equal(sw_time_ns_from_s(SW_TIME_S_MAX + 1, 0, &ns), SW_ERR_OUT_OF_RANGE);
    assert_int_equal(sw_time_ns_from_s(SW_TIME_S_MIN, 0, &ns), SW_OK);
    assert_int_equal(ns, SW_TIME_S_MIN * 1000000000);
    assert_int_equal(sw_time_ns_from_s(SW_TIME_S_MIN - 1, 0, &ns), SW_ERR_OUT_OF_RANGE);
    assert_int_equal(sw_time_ns_from_s(9999999999LL, 0, &ns), SW_ERR_OUT_OF_RANGE);   /* @9999999999 */
    assert_int_equal(sw_time_ns_from_s(253402300740LL, 0, &ns), SW_ERR_OUT_OF_RANGE); /* 9999-12-31T23:59Z */
    assert_int_equal(sw_time_ns_from_s(INT64_MAX, 0, &ns), SW_ERR_OUT_OF_RANGE);
    assert_int_equal(sw_time_ns_from_s(INT64_MIN, 0, &ns), SW_ERR_OUT_OF_RANGE);
    assert_int_equal(sw_time_ns_from_s(1, 1000000000, &ns), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_time_ns_from_s(1, -1, &ns), SW_ERR_INVALID_ARGUMENT);
    /* the limits are the dates the documentation names */
    char t[SW_RFC3339_MAX];
    sw_time_ns_from_s(SW_TIME_S_MAX, 0, &ns);
    sw_fmt_rfc3339(t, ns, 0);
    assert_string_equal(t, "2262-04-11T23:47:16Z");
    sw_time_ns_from_s(SW_TIME_S_MIN, 0, &ns);
    sw_fmt_rfc3339(t, ns, 0);
    assert_string_equal(t, "1677-09-21T00:12:44Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_basic),
        cmocka_unit_test(test_double_power_report_vectors),
        cmocka_unit_test(test_double_round_trip_all_fields),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_config_words),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_time_range),
    };
    return cmocka_run_group_tests_name("core/fmt", tests, NULL, NULL);
}
