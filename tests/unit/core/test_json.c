/* Unit tests for the compact JSON writer. */
#include <string.h>

#include "sunwire/json.h"
#include "testutil.h"

static void test_nested(void **state)
{
    (void)state;
    char buf[256];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_object_begin(&j);
    sw_json_key(&j, "event_type");
    sw_json_string(&j, "power_report");
    sw_json_key(&j, "gateway");
    sw_json_int(&j, 4609);
    sw_json_key(&j, "a");
    sw_json_array_begin(&j);
    sw_json_uint(&j, 4);
    sw_json_double(&j, 0.25);
    sw_json_bool(&j, true);
    sw_json_null(&j);
    sw_json_array_end(&j);
    sw_json_key(&j, "o");
    sw_json_object_begin(&j);
    sw_json_object_end(&j);
    sw_json_object_end(&j);
    assert_string_equal(sw_json_finish(&j),
                        "{\"event_type\":\"power_report\",\"gateway\":4609,\"a\":[4,0.25,true,null],\"o\":{}}");
}

static void test_escapes(void **state)
{
    (void)state;
    char buf[256];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_string(&j, "Mgate\r\"x\"\\/\x01\x7f\xc2\xb0");
    assert_string_equal(sw_json_finish(&j), "\"Mgate\\r\\\"x\\\"\\\\/\\u0001\x7f\xc2\xb0\"");
}

static void test_bytes_as_string(void **state)
{
    (void)state;
    char buf[256];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    const uint8_t raw[] = { 'A', 0xff, 0xc2, 0xb0, 0x00, 'B', 0xc2 };
    sw_json_bytes_as_string(&j, raw, sizeof raw);
    assert_string_equal(sw_json_finish(&j), "\"A\\u00ff\xc2\xb0\\u0000B\\u00c2\"");
}

static void test_overflow(void **state)
{
    (void)state;
    char buf[8];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_string(&j, "much too long for the buffer");
    assert_true(j.overflow);
    assert_null(sw_json_finish(&j));
    sw_json_reset(&j);
    sw_json_int(&j, 42);
    assert_string_equal(sw_json_finish(&j), "42");
}

static void test_nonfinite_is_null(void **state)
{
    (void)state;
    char buf[32];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_array_begin(&j);
    sw_json_double(&j, 0.0 / 0.0);
    sw_json_double(&j, 1e308 * 10);
    sw_json_array_end(&j);
    assert_string_equal(sw_json_finish(&j), "[null,null]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_bytes_as_string),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_nonfinite_is_null),
    };
    return cmocka_run_group_tests_name("core/json", tests, NULL, NULL);
}
