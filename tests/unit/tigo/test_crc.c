/* Unit tests for the Tigo link-layer CRC-16 (src/tigo/crc.c). */
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo_link.h"
#include "testutil.h"
#include "tigo/crc_internal.h"

/* Bit-serial form straight from the polynomial: independent of the tables under test. */
static uint16_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint16_t crc = 0x8408;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0x8408) : (uint16_t)(crc >> 1);
    }
    return crc;
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/crc16.json");
    size_t i;
    json_t *c;
    int n_cases = 0;
    json_array_foreach(tu_get(root, "cases"), i, c) {
        size_t n, wn;
        uint8_t *in = tu_hex_member(c, "input_hex", &n);
        uint8_t *wire = tu_hex_member(c, "wire_bytes_hex", &wn);
        uint16_t crc = sw_tigo_crc16(in, n);
        assert_int_equal(crc, tu_int(c, "crc"));
        assert_int_equal(wn, 2);
        assert_int_equal(wire[0], crc & 0xFF);
        assert_int_equal(wire[1], crc >> 8);
        free(in);
        free(wire);
        n_cases++;
    }
    assert_true(n_cases >= 5);
    json_decref(root);
}

static void test_walkthrough_and_check(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/crc16.json");
    json_t *w = tu_get(root, "walkthrough");
    size_t n;
    uint8_t *in = tu_hex_member(w, "input_hex", &n);
    json_t *regs = tu_get(w, "register_after_each_byte");
    assert_int_equal(json_array_size(regs), n);
    uint16_t crc = SW_TIGO_CRC16_INIT;
    for (size_t i = 0; i < n; i++) {
        crc = sw_tigo_crc16_update(crc, in + i, 1);
        assert_int_equal(crc, strtol(json_string_value(json_array_get(regs, i)), NULL, 16));
    }
    free(in);
    const char *check = json_string_value(json_object_get(tu_get(root, "parameters"), "check_123456789"));
    assert_int_equal(sw_tigo_crc16((const uint8_t *)"123456789", 9), strtol(check, NULL, 16));
    /* An empty message may come without a buffer. */
    assert_int_equal(sw_tigo_crc16(NULL, 0), SW_TIGO_CRC16_INIT);
    json_decref(root);
}

/* The 8-bytes-at-a-time path must agree with the bit-serial definition for every length and split. */
static void test_slicing_matches_bitwise(void **state)
{
    (void)state;
    uint8_t buf[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n <= sizeof buf; n++) {
        uint16_t want = crc_bitwise(buf, n);
        assert_int_equal(sw_tigo_crc16(buf, n), want);
        size_t cut = n / 3;
        uint16_t part = sw_tigo_crc16_update(SW_TIGO_CRC16_INIT, buf, cut);
        assert_int_equal(sw_tigo_crc16_update(part, buf + cut, n - cut), want);
    }
}

/* Appending the CRC little-endian gives a zero residue. */
static void test_residue(void **state)
{
    (void)state;
    uint8_t body[] = { 0x92, 0x01, 0x01, 0x49, 0x00, 0xFF, 0x7C, 0xDB, 0xC2, 0, 0 };
    uint16_t crc = sw_tigo_crc16(body, 9);
    body[9] = (uint8_t)crc;
    body[10] = (uint8_t)(crc >> 8);
    assert_int_equal(sw_tigo_crc16(body, 11), 0);
}

/* Each lead value is what k zero bytes turn into the real initial value, and
 * the whole-block CRC from it over k zeros plus a message equals the CRC of
 * the message: the link receiver checks every frame that way. */
static void test_block_crc_with_lead(void **state)
{
    (void)state;
    for (size_t k = 0; k < 8; k++) {
        uint16_t c = sw_tigo_crc_lead[k];
        for (size_t z = 0; z < k; z++)
            for (int b = 0; b < 8; b++)
                c = (c & 1) ? (uint16_t)((c >> 1) ^ 0x8408) : (uint16_t)(c >> 1);
        assert_int_equal(c, SW_TIGO_CRC16_INIT);
    }
    uint8_t buf[8 + 264];
    uint32_t x = 777;
    for (size_t n = 0; n <= 256; n++) {
        size_t k = (size_t)(0u - n) & 7u;
        memset(buf, 0, 8);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[8 + i] = (uint8_t)(x >> 16);
        }
        uint16_t want = crc_bitwise(buf + 8, n);
        assert_int_equal(sw_tigo_crc16_blocks(sw_tigo_crc_lead[k], buf + 8 - k, (n + k) / 8), want);
        /* and a body that ends in its own CRC checks to zero */
        if (n + 2 <= 256) {
            buf[8 + n] = (uint8_t)want;
            buf[8 + n + 1] = (uint8_t)(want >> 8);
            size_t k2 = (size_t)(0u - (n + 2)) & 7u;
            assert_int_equal(sw_tigo_crc16_blocks(sw_tigo_crc_lead[k2], buf + 8 - k2, (n + 2 + k2) / 8), 0);
        }
    }
}

/* The frame check (tables and carry-less multiply) against the bit-serial
 * CRC: for every body length, an intact body passes, and every single-bit
 * error and a run of random wrong CRC values fail. */
static void test_residue_check(void **state)
{
    (void)state;
    uint8_t buf[8 + 256];
    uint32_t x = 4242;
    bool have_clmul = false;
    for (size_t n = 2; n <= 256; n++) {
        memset(buf, 0, 8);
        uint8_t *body = buf + 8;
        for (size_t i = 0; i + 2 < n; i++) {
            x = x * 1103515245u + 12345u;
            body[i] = (uint8_t)(x >> 16);
        }
        uint16_t crc = crc_bitwise(body, n - 2);
        for (int trial = 0; trial < 24; trial++) {
            uint16_t put = crc;
            if (trial > 0) {
                x = x * 1103515245u + 12345u;
                put = (uint16_t)(x >> 8);
            }
            body[n - 2] = (uint8_t)put;
            body[n - 1] = (uint8_t)(put >> 8);
            bool want = put == crc;
            assert_int_equal(sw_tigo_crc16_residue_ok_tables(body, n), want);
            assert_int_equal(sw_tigo_crc16_residue_ok(body, n), want);
            bool got = !want;
            if (sw_tigo_crc16_residue_ok_clmul(body, n, &got)) {
                have_clmul = true;
                assert_int_equal(got, want);
            }
        }
        body[n - 2] = (uint8_t)crc;
        body[n - 1] = (uint8_t)(crc >> 8);
        for (size_t bit = 0; bit < n * 8; bit++) {
            body[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_false(sw_tigo_crc16_residue_ok_tables(body, n));
            assert_false(sw_tigo_crc16_residue_ok(body, n));
            bool got = true;
            if (sw_tigo_crc16_residue_ok_clmul(body, n, &got))
                assert_false(got);
            body[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        assert_true(sw_tigo_crc16_residue_ok(body, n));
    }
    /* Say which checks ran, so a log shows what this CPU and build tested. */
    print_message("frame check in use: %s; carry-less multiply %s\n", sw_tigo_crc16_path(),
                  have_clmul ? "checked against the bit-serial CRC" : "not available: only the tables were checked");
    assert_string_equal(sw_tigo_crc16_path(), have_clmul ? "clmul" : "tables");
#ifdef SW_PORTABLE
    /* Built for the portable paths: the tables must be what runs. */
    assert_false(have_clmul);
    assert_string_equal(sw_tigo_crc16_path(), "tables");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_walkthrough_and_check),
        cmocka_unit_test(test_residue_check),
        cmocka_unit_test(test_slicing_matches_bitwise),
        cmocka_unit_test(test_residue),
        cmocka_unit_test(test_block_crc_with_lead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
