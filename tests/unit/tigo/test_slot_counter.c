/* Unit tests for the Tigo slot-counter helpers (src/tigo/slot_counter.c). */
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo_pv.h"
#include "testutil.h"

static void test_decode_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/slot_counter.json");
    size_t i;
    json_t *c;
    int n_cases = 0;
    json_array_foreach(tu_get(root, "decode"), i, c) {
        uint16_t v = (uint16_t)tu_int(c, "value");
        assert_int_equal(sw_tigo_slot_epoch(v), tu_int(c, "epoch_index"));
        assert_string_equal(sw_tigo_slot_epoch_name(v), tu_str(c, "epoch_name"));
        assert_int_equal(sw_tigo_slot_number(v), tu_int(c, "slot_number"));
        bool valid = json_is_true(tu_get(c, "valid"));
        assert_int_equal(sw_tigo_slot_valid(v), valid);
        uint32_t abs = 0;
        sw_err e = sw_tigo_slot_absolute(v, &abs);
        if (valid) {
            assert_int_equal(e, SW_OK);
            assert_int_equal(abs, tu_int(c, "absolute_slot"));
            assert_int_equal(abs / 1000, tu_int(c, "clock_index"));
            assert_int_equal((abs % 1000) * 5, tu_int(c, "offset_ms"));
        } else {
            assert_int_equal(e, SW_ERR_TIGO_INVALID_SLOT);
        }
        n_cases++;
    }
    assert_true(n_cases >= 5);
    json_decref(root);
}

static void test_slots_since_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/slot_counter.json");
    size_t i;
    json_t *c;
    json_array_foreach(tu_get(root, "slots_since"), i, c) {
        uint16_t now = (uint16_t)strtol(tu_str(c, "now_hex"), NULL, 16);
        uint16_t past = (uint16_t)strtol(tu_str(c, "past_hex"), NULL, 16);
        uint32_t slots = 0, between = 0;
        sw_err e = sw_tigo_slots_since(now, past, &slots);
        sw_err e2 = sw_tigo_slots_between(now, past, &between);
        json_t *want = tu_get(c, "slots");
        if (json_is_null(want)) {
            assert_int_equal(e, SW_ERR_TIGO_INVALID_SLOT);
            assert_int_equal(e2, SW_ERR_TIGO_INVALID_SLOT);
            continue;
        }
        assert_int_equal(e, SW_OK);
        assert_int_equal(slots, json_integer_value(want));
        /* The non-quirky variant differs only for equal counters. */
        assert_int_equal(e2, SW_OK);
        assert_int_equal(between, now == past ? 0 : slots);
    }
    json_decref(root);
}

/* Every 16-bit value: validity and the absolute slot follow the epoch/slot split. */
static void test_exhaustive(void **state)
{
    (void)state;
    for (uint32_t v = 0; v < 0x10000; v++) {
        uint32_t slot = v & 0x3FFF, abs;
        sw_err e = sw_tigo_slot_absolute((uint16_t)v, &abs);
        if (slot > 11999) {
            assert_int_equal(e, SW_ERR_TIGO_INVALID_SLOT);
        } else {
            assert_int_equal(e, SW_OK);
            assert_int_equal(abs, (v >> 14) * 12000 + slot);
            uint32_t d;
            assert_int_equal(sw_tigo_slots_since((uint16_t)v, 0x0000, &d), SW_OK);
            assert_int_equal(d, abs == 0 ? 48000 : abs);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_vectors),
        cmocka_unit_test(test_slots_since_vectors),
        cmocka_unit_test(test_exhaustive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
