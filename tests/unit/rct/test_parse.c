/*
 * Unit tests for the one-shot frame parser (sw_rct_frame_parse) and the
 * one-call reply decoder (sw_rct_decode_reply). Each case is a table row;
 * every prefix of every input must give NEED_MORE or the same error, and the
 * streaming receiver fed the same bytes must agree with the parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/rct.h"
#include "testutil.h"

static uint8_t body[SW_RCT_RECEIVER_BODY_MAX];

/* Build a frame with our builder (its correctness is test_frame's business). */
static size_t build(uint8_t *out, size_t cap, uint8_t cmd, uint32_t id, uint32_t addr, const uint8_t *p, size_t n)
{
    size_t len = 0;
    assert_int_equal(sw_rct_frame_build(cmd, id, addr, p, n, out, cap, &len), SW_OK);
    return len;
}

/* The receiver's first event for the same bytes, as the parser would report it. */
static ptrdiff_t receiver_says(const uint8_t *wire, size_t n, sw_rct_frame *f, uint8_t *copy)
{
    static sw_rct_receiver rx;
    sw_rct_receiver_init(&rx);
    sw_rct_receiver_event ev;
    size_t used = sw_rct_receiver_push(&rx, wire, n, &ev);
    *f = ev.frame;
    if (ev.frame.payload_len)
        memcpy(copy, ev.frame.payload, ev.frame.payload_len);
    f->payload = copy;
    if (ev.kind == SW_RCT_RECEIVER_NEED_MORE)
        return 0;
    if (ev.kind == SW_RCT_RECEIVER_ERROR)
        return -(ptrdiff_t)ev.error;
    return (ptrdiff_t)used;
}

typedef struct parse_case {
    const char *name;
    const char *hex;    /* the input */
    ptrdiff_t want;     /* bytes used, 0, or -error */
    uint8_t command;
    uint32_t id, address;
    const char *payload_hex;
} parse_case;

static void check_case(const parse_case *c)
{
    size_t n;
    uint8_t *wire = tu_hex(c->hex, &n);
    sw_rct_frame f;
    ptrdiff_t r = sw_rct_frame_parse(wire, n, &f, body, sizeof body);
    if (r != c->want)
        fail_msg("%s: parse returned %td, want %td", c->name, r, c->want);
    static uint8_t copy[SW_RCT_RECEIVER_BODY_MAX];
    sw_rct_frame g;
    assert_int_equal(receiver_says(wire, n, &g, copy), r);
    if (r > 0 || r == -(ptrdiff_t)SW_ERR_RCT_CRC_MISMATCH) {
        assert_int_equal(f.command, c->command);
        assert_int_equal(f.id, c->id);
        assert_int_equal(f.address, c->address);
        size_t pn;
        uint8_t *p = tu_hex(c->payload_hex, &pn);
        assert_int_equal(f.payload_len, pn);
        if (pn)
            assert_memory_equal(f.payload, p, pn);
        assert_int_equal(g.payload_len, pn);
        assert_int_equal(g.id, f.id);
        assert_int_equal(g.crc_ok, f.crc_ok);
        free(p);
    }
    /* Every split point: a prefix is incomplete or already shows the same error. */
    size_t end = r > 0 ? (size_t)r : n;
    for (size_t k = 0; k < end; k++) {
        ptrdiff_t pr = sw_rct_frame_parse(wire, k, &f, body, sizeof body);
        if (r > 0 || r == -(ptrdiff_t)SW_ERR_RCT_CRC_MISMATCH)
            assert_int_equal(pr, SW_RCT_PARSE_NEED_MORE);
        else
            assert_true(pr == SW_RCT_PARSE_NEED_MORE || pr == r);
        assert_int_equal(receiver_says(wire, k, &g, copy), pr);
    }
    free(wire);
}

static void test_parse_table(void **state)
{
    (void)state;
    static const parse_case cases[] = {
        { "noise, incomplete", "00002B0104959930BF", 0, 0, 0, 0, "" },
        { "no start", "000102030405", 0, 0, 0, 0, "" },
        { "empty", "", 0, 0, 0, 0, "" },
        { "bad command", "2B0704959930BF", -(ptrdiff_t)SW_ERR_RCT_INVALID_COMMAND, 0, 0, 0, "" },
        { "short length", "2B0103959930BF", -(ptrdiff_t)SW_ERR_RCT_BAD_LENGTH, 0, 0, 0, "" },
        { "plant short length", "2B410700000007", -(ptrdiff_t)SW_ERR_RCT_BAD_LENGTH, 0, 0, 0, "" },
        { "start inside", "2B0108959930BF2B0104", -(ptrdiff_t)SW_ERR_RCT_FRAME_TRUNCATED, 0, 0, 0, "" },
        { "bad crc", "2B0104959930BF0000", -(ptrdiff_t)SW_ERR_RCT_CRC_MISMATCH, 0x01, 0x959930BF, 0, "" },
        { "only start", "2B", 0, 0, 0, 0, "" },
        { "escape at end", "2B2D", 0, 0, 0, 0, "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

static void test_parse_built_frames(void **state)
{
    (void)state;
    /* Escaped bytes everywhere, plant addresses, long lengths and the extension frame. */
    static uint8_t payload[600];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i % 3 == 0 ? 0x2B : i % 3 == 1 ? 0x2D : i);
    static const struct { uint8_t cmd; uint32_t id, addr; size_t n; } rows[] = {
        { SW_RCT_CMD_RESPONSE, 0x2B2D2B2D, 0, 4 },
        { SW_RCT_CMD_LONG_RESPONSE, 0x11223344, 0, 600 },
        { SW_RCT_CMD_PLANT_RESPONSE, 0x959930BF, 0x2D00002B, 7 },
        { SW_RCT_CMD_PLANT_LONG_WRITE, 0x01020304, 7, 300 },
        { SW_RCT_CMD_WRITE, 0xDB2D69AE, 0, 0 },
    };
    static uint8_t wire[SW_RCT_WIRE_MAX(600) + 8];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n = build(wire, sizeof wire, rows[i].cmd, rows[i].id, rows[i].addr, payload, rows[i].n);
        sw_rct_frame f;
        assert_int_equal(sw_rct_frame_parse(wire, n, &f, body, sizeof body), (ptrdiff_t)n);
        assert_int_equal(f.command, rows[i].cmd);
        assert_int_equal(f.id, rows[i].id);
        assert_int_equal(f.address, sw_rct_command_is_plant(rows[i].cmd) ? rows[i].addr : 0);
        assert_int_equal(f.payload_len, rows[i].n);
        if (rows[i].n)
            assert_memory_equal(f.payload, payload, rows[i].n);
        assert_true(f.crc_ok);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(sw_rct_frame_parse(wire, k, &f, body, sizeof body), SW_RCT_PARSE_NEED_MORE);
        /* A body too small for the frame is refused, never overrun. */
        size_t body_len = (sw_rct_command_is_long(rows[i].cmd) ? 3u : 2u) +
                          (sw_rct_command_is_plant(rows[i].cmd) ? 8u : 4u) + rows[i].n + 2u;
        assert_int_equal(sw_rct_frame_parse(wire, n, &f, body, body_len), (ptrdiff_t)n);
        assert_int_equal(sw_rct_frame_parse(wire, n, &f, body, body_len - 1),
                         -(ptrdiff_t)SW_ERR_RCT_LENGTH_EXCEEDED);
        /* Every single corrupted byte gives a CRC mismatch, another error, or a frame the receiver agrees on. */
        for (size_t k = 1; k < n; k++) {
            wire[k] ^= 0x01;
            ptrdiff_t r = sw_rct_frame_parse(wire, n, &f, body, sizeof body);
            static uint8_t copy[SW_RCT_RECEIVER_BODY_MAX];
            sw_rct_frame g;
            assert_int_equal(receiver_says(wire, n, &g, copy), r);
            assert_true(r != (ptrdiff_t)n || memcmp(f.payload, payload, f.payload_len) != 0 || f.id != rows[i].id ||
                        f.command != rows[i].cmd || f.address != (sw_rct_command_is_plant(rows[i].cmd) ? rows[i].addr : 0));
            wire[k] ^= 0x01;
        }
    }
    size_t n;
    assert_int_equal(sw_rct_frame_build_extension(0x2B, wire, sizeof wire, &n), SW_OK);
    sw_rct_frame f;
    assert_int_equal(sw_rct_frame_parse(wire, n, &f, body, sizeof body), (ptrdiff_t)n);
    assert_int_equal(f.kind, SW_RCT_FRAME_EXTENSION);
    assert_int_equal(f.extension, 0x2B);
    /* The devices' leading 00 is skipped and counted in the bytes used. */
    wire[0] = 0x00;
    size_t z = build(wire + 1, sizeof wire - 1, SW_RCT_CMD_READ, 0x959930BF, 0, NULL, 0);
    assert_int_equal(sw_rct_frame_parse(wire, z + 1, &f, body, sizeof body), (ptrdiff_t)(z + 1));
    assert_int_equal(f.id, 0x959930BF);
    /* Two frames back to back: the first call uses exactly the first. */
    size_t a = build(wire, sizeof wire, SW_RCT_CMD_READ, 1, 0, NULL, 0);
    size_t b = build(wire + a, sizeof wire - a, SW_RCT_CMD_READ, 2, 0, NULL, 0);
    assert_int_equal(sw_rct_frame_parse(wire, a + b, &f, body, sizeof body), (ptrdiff_t)a);
    assert_int_equal(f.id, 1);
    assert_int_equal(sw_rct_frame_parse(wire + a, b, &f, body, sizeof body), (ptrdiff_t)b);
    assert_int_equal(f.id, 2);
    assert_int_equal(sw_rct_frame_parse(NULL, 3, &f, body, sizeof body), -(ptrdiff_t)SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_rct_frame_parse(wire, a, NULL, body, sizeof body), -(ptrdiff_t)SW_ERR_INVALID_ARGUMENT);
}

static void test_decode_reply(void **state)
{
    (void)state;
    const sw_rct_object *soc = sw_rct_registry_find_name("battery.soc");
    assert_non_null(soc);
    uint8_t p[4];
    sw_put_be32(p, 0x3F000000u); /* 0.5f */
    sw_rct_frame f = { .command = SW_RCT_CMD_RESPONSE, .kind = SW_RCT_FRAME_STANDARD, .id = soc->id,
                       .payload = p, .payload_len = 4, .crc_ok = true };
    const sw_rct_object *o = NULL;
    sw_rct_value v;
    assert_int_equal(sw_rct_decode_reply(&f, &o, &v, NULL, 0), SW_OK);
    assert_ptr_equal(o, soc);
    assert_int_equal(v.type, soc->response_type);
    assert_true(v.u.f == 0.5f);
    /* Cut short: the decoder's error comes through. */
    f.payload_len = 3;
    assert_int_equal(sw_rct_decode_reply(&f, &o, &v, NULL, 0), SW_ERR_TRUNCATED);
    /* Unknown id. */
    f.id = 0x00000001;
    f.payload_len = 4;
    assert_int_equal(sw_rct_decode_reply(&f, &o, &v, NULL, 0), SW_ERR_RCT_UNKNOWN_OBJECT);
    assert_null(o);
    /* A READ without payload carries no value; an extension frame neither. */
    f.id = soc->id;
    f.command = SW_RCT_CMD_READ;
    f.payload_len = 0;
    assert_int_equal(sw_rct_decode_reply(&f, &o, &v, NULL, 0), SW_ERR_NOT_FOUND);
    f.kind = SW_RCT_FRAME_EXTENSION;
    assert_int_equal(sw_rct_decode_reply(&f, &o, &v, NULL, 0), SW_ERR_NOT_FOUND);
    /* Writes decode with the request type. */
    f.kind = SW_RCT_FRAME_STANDARD;
    f.command = SW_RCT_CMD_WRITE;
    f.payload_len = 4;
    sw_rct_type t;
    assert_int_equal(sw_rct_frame_value_type(&f, &o, &t), SW_OK);
    assert_int_equal(t, soc->request_type);
    /* Time series need storage: the size helper says how much, and without it decoding refuses. */
    const sw_rct_object *ts = NULL;
    for (size_t i = 0; i < sw_rct_registry_count() && !ts; i++)
        if (sw_rct_registry_at(i)->response_type == SW_RCT_TYPE_TIMESERIES)
            ts = sw_rct_registry_at(i);
    assert_non_null(ts);
    uint8_t tsp[4 + 8 * 3];
    memset(tsp, 0, sizeof tsp);
    sw_rct_frame tf = { .command = SW_RCT_CMD_LONG_RESPONSE, .kind = SW_RCT_FRAME_STANDARD, .id = ts->id,
                        .payload = tsp, .payload_len = sizeof tsp, .crc_ok = true };
    size_t need = sw_rct_reply_storage_size(&tf);
    assert_true(need > 0);
    assert_int_equal(sw_rct_decode_reply(&tf, NULL, &v, NULL, 0), SW_ERR_NO_SPACE);
    void *storage = malloc(need);
    assert_int_equal(sw_rct_decode_reply(&tf, NULL, &v, storage, need), SW_OK);
    assert_int_equal(v.u.ts.n_points, 3);
    free(storage);
    assert_int_equal(sw_rct_reply_storage_size(&f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_built_frames),
        cmocka_unit_test(test_decode_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
