/* Unit tests for the slot clock, table-driven from slot_clock.json. */
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo_slot_clock.h"
#include "testutil.h"

static uint16_t hex16(json_t *obj, const char *key)
{
    return (uint16_t)strtoul(tu_str(obj, key), NULL, 16);
}

static void test_index_and_offset(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/slot_clock.json");
    json_t *cases = tu_get(root, "index_and_offset");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        uint16_t sc = (uint16_t)tu_int(c, "slot_counter");
        unsigned blk;
        int64_t off;
        sw_err e = sw_tigo_slot_locate(sc, &blk, &off);
        if (json_object_get(c, "error")) {
            assert_int_equal(e, SW_ERR_TIGO_INVALID_SLOT);
            assert_false(sw_tigo_slot_counter_ok(sc));
        } else {
            assert_int_equal(e, SW_OK);
            assert_true(sw_tigo_slot_counter_ok(sc));
            assert_int_equal(blk, tu_int(c, "index"));
            assert_int_equal(off, tu_int(c, "offset_ms") * 1000000LL);
        }
    }
    json_decref(root);
}

static void test_scenarios(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/slot_clock.json");
    json_t *scen = tu_get(root, "scenarios");
    size_t i;
    json_t *s;
    int gets = 0;
    json_array_foreach(scen, i, s) {
        sw_tigo_slot_clock clk;
        memset(&clk, 0, sizeof clk);
        long long x = tu_int(s, "x_unix_ns");
        size_t k;
        json_t *st;
        json_array_foreach(tu_get(s, "steps"), k, st) {
            const char *op = tu_str(st, "op");
            uint16_t sc = hex16(st, "slot_counter_hex");
            if (strcmp(op, "new") == 0) {
                assert_int_equal(sw_tigo_slot_clock_init(&clk, sc, tu_int(st, "time_unix_ns")), SW_OK);
            } else if (strcmp(op, "set") == 0) {
                assert_int_equal(sw_tigo_slot_clock_update(&clk, sc, tu_int(st, "time_unix_ns"), NULL), SW_OK);
            } else {
                int64_t t;
                assert_int_equal(sw_tigo_slot_clock_get(&clk, sc, &t), SW_OK);
                assert_int_equal(t, tu_int(st, "expected_time_unix_ns"));
                assert_int_equal(t - x, tu_int(st, "expected_relative_to_x_ms") * 1000000LL);
                gets++;
            }
        }
    }
    assert_true(gets >= 15);
    json_decref(root);
}

static void test_errors_and_rebuild(void **state)
{
    (void)state;
    sw_tigo_slot_clock clk;
    memset(&clk, 0, sizeof clk);
    int64_t t;
    /* No clock yet. */
    assert_int_equal(sw_tigo_slot_clock_get(&clk, 0x0000, &t), SW_ERR_INVALID_ARGUMENT);
    /* Invalid slot numbers leave the clock untouched. */
    assert_int_equal(sw_tigo_slot_clock_init(&clk, 0x2EE0, 1000), SW_ERR_TIGO_INVALID_SLOT);
    assert_false(clk.valid);
    assert_int_equal(sw_tigo_slot_clock_init(&clk, 0x0000, 100000000000LL), SW_OK);
    assert_int_equal(sw_tigo_slot_clock_get(&clk, 0xFFFF, &t), SW_ERR_TIGO_INVALID_SLOT);
    assert_int_equal(sw_tigo_slot_clock_update(&clk, 0x6EE0, 1, NULL), SW_ERR_TIGO_INVALID_SLOT);
    /* Time going backwards rebuilds and says so. */
    bool rebuilt = false;
    assert_int_equal(sw_tigo_slot_clock_update(&clk, 0x03E8, 90000000000LL, &rebuilt), SW_OK);
    assert_true(rebuilt);
    assert_int_equal(sw_tigo_slot_clock_get(&clk, 0x0000, &t), SW_OK);
    assert_int_equal(t, 90000000000LL - SW_TIGO_SLOT_BLOCK_NS);
    assert_int_equal(sw_tigo_slot_clock_update(&clk, 0x07D0, 95000000000LL, &rebuilt), SW_OK);
    assert_false(rebuilt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_and_offset),
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_errors_and_rebuild),
    };
    return cmocka_run_group_tests_name("tigo/slot_clock", tests, NULL, NULL);
}
