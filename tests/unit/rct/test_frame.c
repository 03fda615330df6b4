/*
 * Unit tests for src/rct/frame.c: CRC, frame building and the streaming
 * receiver, driven by the rctclient vectors in tests/data/rct.
 *
 * Where sunwire deliberately behaves differently from rctclient the vector is
 * listed in a deviation table with the reason, and the test checks sunwire's
 * own behaviour for it instead (docs/rct-protocol.md explains each choice).
 * Every stream is also re-fed in one chunk, byte by byte and split at every
 * position; all feedings must give the same events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/rct_frame.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static sw_rct_receiver *new_rx(void)
{
    sw_rct_receiver *rx = malloc(sizeof *rx);
    assert_non_null(rx);
    sw_rct_receiver_init(rx);
    return rx;
}

static bool name_in(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* One event of a stream, in a form both rctclient's and our events map to. */
typedef struct ev_rec {
    int kind; /* SW_RCT_RECEIVER_FRAME or SW_RCT_RECEIVER_ERROR */
    sw_err err;
    uint8_t command;
    uint32_t id, address;
    char data_hex[2 * 400 + 1];
    bool has_frame; /* frame fields meaningful (good frames and CRC mismatches) */
    bool extension;
    size_t end_offset;
} ev_rec;

typedef struct ev_list {
    ev_rec *v;
    size_t n, cap;
} ev_list;

static void ev_push(ev_list *l, const ev_rec *e)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    l->v[l->n++] = *e;
}

static void ev_from_rx(ev_rec *r, const sw_rct_receiver_event *ev, size_t end)
{
    memset(r, 0, sizeof *r);
    r->kind = (int)ev->kind;
    r->err = ev->error;
    r->end_offset = end;
    r->command = ev->command;
    if (ev->kind == SW_RCT_RECEIVER_FRAME || ev->error == SW_ERR_RCT_CRC_MISMATCH) {
        r->has_frame = true;
        r->command = ev->frame.command;
        r->id = ev->frame.id;
        r->address = ev->frame.address;
        r->extension = ev->frame.kind == SW_RCT_FRAME_EXTENSION;
        size_t n = ev->frame.payload_len < 400 ? ev->frame.payload_len : 400;
        sw_hex_encode(r->data_hex, ev->frame.payload, n);
    }
}

/* Feed data split into chunks at the given lengths (NULL = one chunk). */
static void run_stream(sw_rct_receiver *rx, const uint8_t *data, size_t len,
                       const size_t *chunks, size_t n_chunks, ev_list *out)
{
    size_t off = 0, ci = 0;
    size_t guard = 0;
    while (off < len) {
        size_t clen = chunks ? chunks[ci++] : len;
        if (off + clen > len)
            clen = len - off;
        size_t pos = off, end = off + clen;
        while (pos < end) {
            sw_rct_receiver_event ev;
            size_t n = sw_rct_receiver_push(rx, data + pos, end - pos, &ev);
            assert_true(n <= end - pos);
            pos += n;
            if (ev.kind == SW_RCT_RECEIVER_NEED_MORE) {
                assert_int_equal(pos, end);
            } else {
                ev_rec r;
                ev_from_rx(&r, &ev, pos);
                ev_push(out, &r);
            }
            /* Progress: zero only for a truncation that leaves the 2B. */
            if (n == 0) {
                assert_int_equal(ev.kind, SW_RCT_RECEIVER_ERROR);
                assert_int_equal(ev.error, SW_ERR_RCT_FRAME_TRUNCATED);
                assert_int_equal(data[pos], SW_RCT_START_TOKEN);
            }
            assert_true(++guard < 4 * len + 16);
        }
        off = end;
        if (chunks && ci >= n_chunks && off < len)
            fail_msg("chunk list shorter than the data");
    }
}

static void ev_assert_equal(const ev_list *a, const ev_list *b, const char *what)
{
    if (a->n != b->n)
        fail_msg("%s: %zu events vs %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const ev_rec *x = &a->v[i], *y = &b->v[i];
        if (x->kind != y->kind || x->err != y->err || x->end_offset != y->end_offset ||
            x->has_frame != y->has_frame || x->command != y->command || x->id != y->id ||
            x->address != y->address || strcmp(x->data_hex, y->data_hex) != 0)
            fail_msg("%s: event %zu differs (kind %d/%d err %d/%d end %zu/%zu)", what, i,
                     x->kind, y->kind, x->err, y->err, x->end_offset, y->end_offset);
    }
}

static bool ev_equal(const ev_list *a, const ev_list *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const ev_rec *x = &a->v[i], *y = &b->v[i];
        if (x->kind != y->kind || x->err != y->err || x->end_offset != y->end_offset ||
            x->has_frame != y->has_frame || x->command != y->command || x->id != y->id ||
            x->address != y->address || strcmp(x->data_hex, y->data_hex) != 0)
            return false;
    }
    return true;
}

/* The same bytes fed whole, byte by byte and split at every position must
 * give the events `want` (which came from the vector's own chunking). */
static void check_all_splits(const uint8_t *data, size_t len, const ev_list *want, const char *name)
{
    sw_rct_receiver *rx = new_rx();
    ev_list got = { 0 };
    run_stream(rx, data, len, NULL, 0, &got);
    ev_assert_equal(&got, want, name);

    size_t *ones = malloc((len + 1) * sizeof *ones);
    assert_non_null(ones);
    for (size_t i = 0; i < len; i++)
        ones[i] = 1;
    got.n = 0;
    sw_rct_receiver_init(rx);
    run_stream(rx, data, len, ones, len, &got);
    ev_assert_equal(&got, want, name);
    free(ones);

    for (size_t split = 1; split < len; split++) {
        size_t ch[2] = { split, len - split };
        got.n = 0;
        sw_rct_receiver_init(rx);
        run_stream(rx, data, len, ch, 2, &got);
        ev_assert_equal(&got, want, name);
        assert_int_equal(rx->consumed_total, len);
    }
    free(got.v);
    free(rx);
}

static uint8_t cmd_from_json(json_t *v, const char *key)
{
    json_t *c = tu_get(v, key);
    if (json_is_integer(c))
        return (uint8_t)json_integer_value(c);
    if (strcmp(json_string_value(c), "_NONE") == 0)
        return 0xFF;
    uint8_t cmd = 0;
    assert_int_equal(sw_rct_command_from_name(json_string_value(c), &cmd), SW_OK);
    return cmd;
}

/* ---- CRC ---------------------------------------------------------------- */

/* Bit-serial reference, written from the algorithm description. */
static uint16_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    size_t total = n + (n & 1);
    for (size_t i = 0; i < total; i++) {
        crc ^= (uint16_t)((i < n ? p[i] : 0) << 8);
        for (int k = 0; k < 8; k++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

static void test_crc16_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("rct/crc16.json");
    json_t *vecs = tu_get(root, "vectors");
    size_t i;
    json_t *v;
    assert_int_equal(json_array_size(vecs), 72);
    json_array_foreach(vecs, i, v) {
        size_t n;
        uint8_t *in = tu_hex_member(v, "input_hex", &n);
        assert_int_equal(n, tu_int(v, "length"));
        uint16_t want = (uint16_t)tu_int(v, "crc");
        assert_int_equal(sw_rct_crc16(in, n), want);
        assert_int_equal(crc_bitwise(in, n), want);
        free(in);
    }
    json_decref(root);
    /* The padding rule: odd input equals the same input plus one zero. */
    const uint8_t check[] = "123456789";
    assert_int_equal(sw_rct_crc16(check, 9), 0x044B);
    assert_int_equal(sw_rct_crc16(NULL, 0), 0xFFFF);
}

static void test_crc16_table_matches_bitwise(void **state)
{
    (void)state;
    uint8_t buf[300];
    uint32_t x = 12345;
    for (size_t n = 0; n < sizeof buf; n++) {
        x = x * 1103515245u + 12345u;
        buf[n] = (uint8_t)(x >> 16);
        assert_int_equal(sw_rct_crc16(buf, n + 1), crc_bitwise(buf, n + 1));
    }
}

/* ---- commands ----------------------------------------------------------- */

static void test_command_predicates(void **state)
{
    (void)state;
    int valid = 0;
    for (unsigned c = 0; c < 256; c++) {
        if (sw_rct_command_valid((uint8_t)c)) {
            valid++;
            uint8_t back = 0;
            assert_int_equal(sw_rct_command_from_name(sw_rct_command_name((uint8_t)c), &back), SW_OK);
            assert_int_equal(back, c);
        } else {
            assert_null(sw_rct_command_name((uint8_t)c));
        }
    }
    assert_int_equal(valid, 13);
    assert_false(sw_rct_command_valid(0xFF)); /* rctclient's internal sentinel */
    assert_true(sw_rct_command_is_long(SW_RCT_CMD_PLANT_LONG_WRITE));
    assert_true(sw_rct_command_is_long(SW_RCT_CMD_PLANT_LONG_RESPONSE));
    assert_false(sw_rct_command_is_long(SW_RCT_CMD_PLANT_RESPONSE));
    assert_true(sw_rct_command_is_plant(SW_RCT_CMD_PLANT_READ_PERIODICALLY));
    assert_false(sw_rct_command_is_plant(SW_RCT_CMD_LONG_RESPONSE));
    assert_true(sw_rct_command_is_write(SW_RCT_CMD_PLANT_LONG_WRITE));
    assert_true(sw_rct_command_is_response(SW_RCT_CMD_PLANT_LONG_RESPONSE));
    assert_false(sw_rct_command_is_response(SW_RCT_CMD_READ));
    uint8_t c;
    assert_int_equal(sw_rct_command_from_name("read", &c), SW_ERR_NOT_FOUND);
}

/* ---- encoding ------------------------------------------------------------ */

/* Parse our own wire bytes back with the receiver (one frame expected). */
static void parse_one(const uint8_t *wire, size_t n, sw_rct_receiver_event *ev, sw_rct_receiver *rx)
{
    sw_rct_receiver_init(rx);
    size_t used = sw_rct_receiver_push(rx, wire, n, ev);
    assert_int_equal(used, n);
}

static void test_encode_vectors(void **state)
{
    (void)state;
    /* rctclient behaviours sunwire does not copy (spec section 16, items 1-3). */
    static const char *const deviations[] = {
        "read_with_payload_quirk",     /* length counts a payload that is then left out */
        "plant_long_write_quirk",      /* 1-byte length on a long command */
        "plant_frame_type_with_standard_command_quirk", /* address without the plant bit */
        "standard_frame_type_with_plant_command_quirk", /* plant bit without address */
        "extension_cmd_via_make_frame",                 /* EXTENSION is a 3-byte frame */
        NULL
    };
    json_t *root = tu_load_json("rct/frames_encode.json");
    json_t *vecs = tu_get(root, "vectors");
    size_t i;
    json_t *v;
    int exact = 0, dev = 0, refused = 0;
    uint8_t *out = malloc(SW_RCT_WIRE_MAX(65535));
    sw_rct_receiver *rx = new_rx();
    assert_non_null(out);
    json_array_foreach(vecs, i, v) {
        const char *name = tu_str(v, "name");
        json_int_t id = json_integer_value(tu_get(v, "id"));
        size_t plen;
        uint8_t *payload = tu_hex_member(v, "payload_hex", &plen);
        uint8_t cmd = (uint8_t)tu_int(v, "command_value");
        uint32_t addr = (uint32_t)tu_int(v, "address");
        size_t n = 0;
        if (json_object_get(v, "error")) {
            if (id < 0 || id > (json_int_t)UINT32_MAX) {
                /* Not representable in the uint32_t parameter at all. */
                refused++;
            } else {
                assert_int_equal(sw_rct_frame_build(cmd, (uint32_t)id, addr, payload, plen, out, SW_RCT_WIRE_MAX(plen), &n),
                                 SW_ERR_TOO_LONG);
                refused++;
            }
            free(payload);
            continue;
        }
        /* SendFrame drops a READ's payload: that is what its caller asked for. */
        if (strcmp(tu_str(v, "api"), "SendFrame") == 0 && cmd == SW_RCT_CMD_READ)
            plen = 0;
        sw_err e = sw_rct_frame_build(cmd, (uint32_t)id, addr, payload, plen, out, SW_RCT_WIRE_MAX(plen), &n);
        size_t wn;
        uint8_t *want = tu_hex_member(v, "encoded_hex", &wn);
        if (!name_in(name, deviations)) {
            assert_int_equal(e, SW_OK);
            if (n != wn || memcmp(out, want, n) != 0)
                fail_msg("%s: encoding differs", name);
            /* One byte less room must be refused, never overrun. */
            size_t n2;
            assert_int_equal(sw_rct_frame_build(cmd, (uint32_t)id, addr, payload, plen, out, wn - 1, &n2), SW_ERR_NO_SPACE);
            exact++;
        } else if (cmd == SW_RCT_CMD_EXTENSION) {
            assert_int_equal(e, SW_ERR_INVALID_ARGUMENT);
            dev++;
        } else {
            /* sunwire's frame must differ from rctclient's, and be self-consistent:
             * the receiver gets back exactly what was put in, the address present
             * iff the command has the plant bit. */
            assert_int_equal(e, SW_OK);
            assert_true(n != wn || memcmp(out, want, n) != 0);
            sw_rct_receiver_event ev;
            parse_one(out, n, &ev, rx);
            assert_int_equal(ev.kind, SW_RCT_RECEIVER_FRAME);
            assert_int_equal(ev.frame.command, cmd);
            assert_int_equal(ev.frame.id, (uint32_t)id);
            bool plant = (cmd & 0x40) != 0;
            assert_int_equal(ev.frame.kind, plant ? SW_RCT_FRAME_PLANT : SW_RCT_FRAME_STANDARD);
            assert_int_equal(ev.frame.address, plant ? addr : 0);
            assert_int_equal(ev.frame.payload_len, plen);
            if (plen)
                assert_memory_equal(ev.frame.payload, payload, plen);
            /* the length field width follows the command */
            size_t lbytes = sw_rct_command_is_long(cmd) ? 2 : 1;
            size_t covered = (plant ? 8 : 4) + plen;
            if (lbytes == 2)
                assert_int_equal(sw_be16(out + 2), covered);
            else
                assert_int_equal(out[2], covered);
            dev++;
        }
        free(want);
        free(payload);
    }
    assert_int_equal(dev, 5);
    assert_int_equal(exact + dev + refused, 225);
    free(out);
    free(rx);
    json_decref(root);
}

static void test_encode_known_frames(void **state)
{
    (void)state;
    /* Frames quoted in the protocol notes (hand-checked there). */
    uint8_t out[64];
    size_t n;
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_READ, 0xDB2D69AE, 0, NULL, 0, out, sizeof out, &n), SW_OK);
    static const uint8_t esc[] = { 0x2B, 0x01, 0x04, 0xDB, 0x2D, 0x2D, 0x69, 0xAE, 0x55, 0xAB };
    assert_int_equal(n, sizeof esc);
    assert_memory_equal(out, esc, n);
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_PLANT_READ, 0x959930BF, 7, NULL, 0, out, sizeof out, &n), SW_OK);
    static const uint8_t plant[] = { 0x2B, 0x41, 0x08, 0, 0, 0, 7, 0x95, 0x99, 0x30, 0xBF, 0x7D, 0x9E };
    assert_int_equal(n, sizeof plant);
    assert_memory_equal(out, plant, n);
    /* PLANT_LONG_WRITE gets the 2-byte length rctclient's receiver expects. */
    const uint8_t pl[2] = { 1, 2 };
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_PLANT_LONG_WRITE, 0x11223344, 0xAABBCCDD, pl, 2, out, sizeof out, &n), SW_OK);
    assert_int_equal(out[2], 0x00);
    assert_int_equal(out[3], 0x0A);
    assert_int_equal(n, 1 + 1 + 2 + 4 + 4 + 2 + 2);
    /* Extension frame, also with a byte that needs escaping. */
    assert_int_equal(sw_rct_frame_build_extension(0xE1, out, sizeof out, &n), SW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[1], 0x3C);
    assert_int_equal(sw_rct_frame_build_extension(0x2D, out, sizeof out, &n), SW_OK);
    assert_int_equal(n, 4);
    assert_int_equal(out[2], 0x2D);
    assert_int_equal(out[3], 0x2D);
    assert_int_equal(sw_rct_frame_build_extension(0x2D, out, 3, &n), SW_ERR_NO_SPACE);
}

static void test_encode_limits(void **state)
{
    (void)state;
    uint8_t *pl = calloc(70000, 1);
    uint8_t *out = malloc(SW_RCT_WIRE_MAX(70000));
    assert_non_null(pl);
    assert_non_null(out);
    size_t n;
    struct { uint8_t cmd; size_t max; } lim[] = {
        { SW_RCT_CMD_WRITE, SW_RCT_PAYLOAD_MAX_SHORT },
        { SW_RCT_CMD_PLANT_RESPONSE, SW_RCT_PAYLOAD_MAX_SHORT_PLANT },
        { SW_RCT_CMD_LONG_RESPONSE, SW_RCT_PAYLOAD_MAX_LONG },
        { SW_RCT_CMD_PLANT_LONG_RESPONSE, SW_RCT_PAYLOAD_MAX_LONG_PLANT },
    };
    sw_rct_receiver *rx = new_rx();
    for (size_t k = 0; k < 4; k++) {
        memset(pl, 0x2B, lim[k].max); /* worst case: every byte escaped */
        assert_int_equal(sw_rct_frame_build(lim[k].cmd, 1, 2, pl, lim[k].max, out, SW_RCT_WIRE_MAX(lim[k].max), &n), SW_OK);
        sw_rct_receiver_event ev;
        parse_one(out, n, &ev, rx);
        assert_int_equal(ev.kind, SW_RCT_RECEIVER_FRAME);
        assert_int_equal(ev.frame.payload_len, lim[k].max);
        assert_int_equal(sw_rct_frame_build(lim[k].cmd, 1, 2, pl, lim[k].max + 1, out, SW_RCT_WIRE_MAX(lim[k].max + 1), &n), SW_ERR_TOO_LONG);
    }
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_EXTENSION, 1, 0, NULL, 0, out, 100, &n),
                     SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_WRITE, 1, 0, NULL, 3, out, 100, &n),
                     SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_READ, 1, 0, NULL, 0, out, 0, &n), SW_ERR_NO_SPACE);
    free(rx);
    free(pl);
    free(out);
}

/* Every command, payload sizes 0..300, build -> receive round trip, also split. */
static void test_build_receive_round_trip(void **state)
{
    (void)state;
    static const uint8_t cmds[] = { 0x01, 0x02, 0x03, 0x05, 0x06, 0x08, 0x41, 0x42, 0x43, 0x45, 0x46, 0x48 };
    uint8_t pl[300];
    uint8_t *wire = malloc(SW_RCT_WIRE_MAX(300));
    assert_non_null(wire);
    sw_rct_receiver *rx = new_rx();
    uint32_t x = 99;
    for (size_t c = 0; c < sizeof cmds; c++) {
        for (size_t len = 0; len <= 300; len += (len < 20 ? 1 : 37)) {
            bool fits = len + ((cmds[c] & 0x40) ? 8 : 4) <= (sw_rct_command_is_long(cmds[c]) ? 65535u : 255u);
            for (size_t k = 0; k < len; k++) {
                x = x * 1664525u + 1013904223u;
                pl[k] = (uint8_t)(x >> 24);
                if (k % 5 == 0)
                    pl[k] = (k & 1) ? 0x2B : 0x2D;
            }
            uint32_t id = x ^ 0x2B2D2B2D, addr = x * 7;
            size_t n;
            sw_err e = sw_rct_frame_build(cmds[c], id, addr, pl, len, wire, SW_RCT_WIRE_MAX(len), &n);
            if (!fits) {
                assert_int_equal(e, SW_ERR_TOO_LONG);
                continue;
            }
            assert_int_equal(e, SW_OK);
            ev_list want = { 0 };
            ev_rec r;
            memset(&r, 0, sizeof r);
            r.kind = SW_RCT_RECEIVER_FRAME;
            r.has_frame = true;
            r.command = cmds[c];
            r.id = id;
            r.address = (cmds[c] & 0x40) ? addr : 0;
            sw_hex_encode(r.data_hex, pl, len);
            r.end_offset = n;
            ev_push(&want, &r);
            check_all_splits(wire, n, &want, "round trip");
            free(want.v);
        }
    }
    free(rx);
    free(wire);
}

/* ---- receive_frame.json ---------------------------------------------------- */

/* Vectors where sunwire deliberately differs, with what sunwire does instead:
 * the first event's kind and error, and the bytes of the first chunk it used. */
typedef struct rf_dev {
    const char *name;
    const char *why;
    sw_rct_receiver_event_kind kind;
    sw_err err;
    size_t used;
} rf_dev;

static const rf_dev rf_devs[] = {
    { "doc_extension_2b3ce1", "EXTENSION 2B 3C xx is a complete 3-byte frame",
      SW_RCT_RECEIVER_FRAME, SW_OK, 3 },
    { "extension_after_leading_zeros", "EXTENSION 2B 3C xx is a complete 3-byte frame",
      SW_RCT_RECEIVER_FRAME, SW_OK, 5 },
    { "double_start_token", "a start token inside a frame starts a new frame",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_FRAME_TRUNCATED, 1 },
    { "unescaped_plus_inside_frame_is_data", "a start token inside a frame starts a new frame",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_FRAME_TRUNCATED, 3 },
    { "invalid_command_0x2b", "a start token inside a frame starts a new frame",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_FRAME_TRUNCATED, 2 },
    { "truncated_frame_then_new_frame", "a start token inside a frame starts a new frame",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_FRAME_TRUNCATED, 10 },
    { "command_0xff_sentinel_accepted_quirk", "0xFF is no command",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_INVALID_COMMAND, 2 },
    { "length_field_0", "a length below the header size is rejected when it arrives",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_BAD_LENGTH, 3 },
    { "length_field_1", "a length below the header size is rejected when it arrives",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_BAD_LENGTH, 3 },
    { "length_field_2", "a length below the header size is rejected when it arrives",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_BAD_LENGTH, 3 },
    { "length_field_3", "a length below the header size is rejected when it arrives",
      SW_RCT_RECEIVER_ERROR, SW_ERR_RCT_BAD_LENGTH, 3 },
    { NULL, NULL, 0, 0, 0 }
};

/* Feeding a finished rctclient object again makes it overshoot; a sunwire
 * receiver starts the next frame by itself, so those later calls are a
 * different API, not a different protocol reading. */
static const char *const rf_restart[] = {
    "consume_after_complete", "consume_after_complete_escape_first", NULL
};

static void test_receive_frame_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("rct/receive_frame.json");
    json_t *vecs = tu_get(root, "vectors");
    size_t i;
    json_t *v;
    sw_rct_receiver *rx = new_rx();
    int exact = 0, devs = 0;
    json_array_foreach(vecs, i, v) {
        const char *name = tu_str(v, "name");
        bool ignore_crc = json_is_true(tu_get(v, "ignore_crc_mismatch"));
        json_t *chunks = tu_get(v, "chunks_hex");
        json_t *calls = tu_get(v, "calls");
        json_t *fin = tu_get(v, "final");
        const rf_dev *dev = NULL;
        for (const rf_dev *d = rf_devs; d->name; d++)
            if (strcmp(d->name, name) == 0)
                dev = d;
        sw_rct_receiver_init(rx);

        if (dev) {
            size_t n;
            uint8_t *c0 = tu_hex(json_string_value(json_array_get(chunks, 0)), &n);
            sw_rct_receiver_event ev;
            size_t used = sw_rct_receiver_push(rx, c0, n, &ev);
            assert_int_equal(ev.kind, dev->kind);
            assert_int_equal(ev.error, dev->err);
            assert_int_equal(used, dev->used);
            if (dev->kind == SW_RCT_RECEIVER_FRAME) {
                assert_int_equal(ev.frame.kind, SW_RCT_FRAME_EXTENSION);
                assert_int_equal(ev.frame.extension, 0xE1);
            }
            /* rctclient's answer must really be different. */
            json_t *c = json_array_get(calls, 0);
            json_t *ret = json_object_get(c, "returned");
            assert_false(ret && (size_t)json_integer_value(ret) == used &&
                         dev->kind == SW_RCT_RECEIVER_FRAME && json_is_true(tu_get(fin, "complete")));
            free(c0);
            devs++;
            continue;
        }

        bool done = false;
        sw_rct_receiver_event last;
        memset(&last, 0, sizeof last);
        size_t k;
        json_t *call;
        json_array_foreach(calls, k, call) {
            size_t n;
            uint8_t *chunk = tu_hex(json_string_value(json_array_get(chunks, k)), &n);
            if (done) {
                assert_true(name_in(name, rf_restart));
                free(chunk);
                break;
            }
            sw_rct_receiver_event ev;
            size_t used = sw_rct_receiver_push(rx, chunk, n, &ev);
            json_t *ret = json_object_get(call, "returned");
            if (ret) {
                assert_int_equal(used, json_integer_value(ret));
                if (ev.kind == SW_RCT_RECEIVER_ERROR) {
                    /* rctclient with ignore_crc_mismatch hands out the frame;
                     * sunwire reports the mismatch with the frame attached. */
                    assert_true(ignore_crc);
                    assert_int_equal(ev.error, SW_ERR_RCT_CRC_MISMATCH);
                }
            } else {
                const char *exc = tu_str(call, "exception");
                assert_int_equal(used, tu_int(call, "consumed_bytes"));
                assert_int_equal(ev.kind, SW_RCT_RECEIVER_ERROR);
                if (strcmp(exc, "FrameCRCMismatch") == 0) {
                    assert_int_equal(ev.error, SW_ERR_RCT_CRC_MISMATCH);
                    assert_int_equal(ev.frame.crc_received, tu_int(call, "received_crc"));
                    assert_int_equal(ev.frame.crc_calculated, tu_int(call, "calculated_crc"));
                } else if (strcmp(exc, "InvalidCommand") == 0) {
                    assert_int_equal(ev.error, SW_ERR_RCT_INVALID_COMMAND);
                    assert_int_equal(ev.command, tu_int(call, "command"));
                } else {
                    fail_msg("%s: unexpected exception %s", name, exc);
                }
            }
            if (ev.kind != SW_RCT_RECEIVER_NEED_MORE) {
                done = true;
                last = ev;
            }
            free(chunk);
        }
        /* Final state. */
        bool complete = json_is_true(tu_get(fin, "complete"));
        if (complete) {
            assert_true(done);
            assert_true(last.kind == SW_RCT_RECEIVER_FRAME || last.error == SW_ERR_RCT_CRC_MISMATCH);
            assert_int_equal(last.frame.crc_ok, json_is_true(tu_get(fin, "crc_ok")));
            assert_int_equal(last.frame.command, cmd_from_json(fin, "command"));
            assert_int_equal(last.frame.id, (uint32_t)tu_int(fin, "id"));
            assert_int_equal(last.frame.address, (uint32_t)tu_int(fin, "address"));
            char *hex = tu_to_hex(last.frame.payload, last.frame.payload_len);
            assert_string_equal(hex, tu_str(fin, "data_hex"));
            free(hex);
        } else if (!done) {
            /* Still waiting: a start token seen iff rctclient has a command or buffer. */
            assert_int_equal(sw_rct_receiver_in_frame(rx),
                             tu_int(fin, "consumed_bytes_total") > 0 &&
                                 strcmp(name, "only_garbage") != 0);
        }
        if (!name_in(name, rf_restart))
            assert_int_equal(rx->consumed_total, tu_int(fin, "consumed_bytes_total"));
        exact++;
    }
    assert_int_equal(devs, 11);
    assert_int_equal(exact + devs, 89);
    free(rx);
    json_decref(root);
}

/* ---- receive_streams.json --------------------------------------------------- */

static sw_err exc_code(const char *exc)
{
    if (strcmp(exc, "FrameCRCMismatch") == 0)
        return SW_ERR_RCT_CRC_MISMATCH;
    if (strcmp(exc, "InvalidCommand") == 0)
        return SW_ERR_RCT_INVALID_COMMAND;
    if (strcmp(exc, "FrameLengthExceeded") == 0)
        return SW_ERR_RCT_BAD_LENGTH;
    fail_msg("unknown exception %s", exc);
    return SW_OK;
}

/* rctclient's events in our shape. Its error events carry no frame data,
 * except that we keep CRC-mismatch frames; compare those fields only when
 * rctclient has them. */
static void vector_events(json_t *events, ev_list *out)
{
    size_t k;
    json_t *e;
    json_array_foreach(events, k, e) {
        ev_rec r;
        memset(&r, 0, sizeof r);
        r.end_offset = (size_t)tu_int(e, "end_offset");
        if (strcmp(tu_str(e, "event"), "frame") == 0) {
            r.has_frame = true;
            r.command = cmd_from_json(e, "command");
            r.id = (uint32_t)tu_int(e, "id");
            r.address = (uint32_t)tu_int(e, "address");
            snprintf(r.data_hex, sizeof r.data_hex, "%s", tu_str(e, "data_hex"));
            if (json_is_true(tu_get(e, "crc_ok"))) {
                r.kind = SW_RCT_RECEIVER_FRAME;
            } else {
                r.kind = SW_RCT_RECEIVER_ERROR;
                r.err = SW_ERR_RCT_CRC_MISMATCH;
            }
        } else {
            r.kind = SW_RCT_RECEIVER_ERROR;
            r.err = exc_code(tu_str(e, "exception"));
            json_t *cmd = json_object_get(e, "command");
            if (r.err == SW_ERR_RCT_INVALID_COMMAND && json_is_integer(cmd))
                r.command = (uint8_t)json_integer_value(cmd);
        }
        ev_push(out, &r);
    }
}

/* Compare, ignoring frame data on CRC errors (rctclient's error event has none). */
static bool stream_equal(const ev_list *ours, const ev_list *ref)
{
    if (ours->n != ref->n)
        return false;
    for (size_t i = 0; i < ours->n; i++) {
        const ev_rec *x = &ours->v[i], *y = &ref->v[i];
        if (x->kind != y->kind || x->err != y->err || x->end_offset != y->end_offset)
            return false;
        if (y->has_frame && (x->command != y->command || x->id != y->id ||
                             x->address != y->address || strcmp(x->data_hex, y->data_hex) != 0))
            return false;
        if (!y->has_frame && y->err == SW_ERR_RCT_INVALID_COMMAND && y->command &&
            x->command != y->command)
            return false;
    }
    return true;
}

typedef enum dev_reason {
    DEV_EXTENSION = 1,  /* 2B 3C xx read as one 3-byte frame */
    DEV_START_IN_FRAME, /* unescaped 2B ends the frame in progress */
    DEV_SHORT_LENGTH,   /* length below the header size rejected at once */
    DEV_SENTINEL_FF     /* 0xFF rejected as a command */
} dev_reason;

typedef struct stream_dev {
    const char *name;
    unsigned reasons; /* bit mask of 1 << dev_reason */
} stream_dev;

#define R(x) (1u << (x))
static const stream_dev stream_devs[] = {
    { "extension_then_read", R(DEV_EXTENSION) },
    { "double_plus_loses_frame", R(DEV_START_IN_FRAME) },
    { "truncated_then_valid", R(DEV_START_IN_FRAME) },
    { "length_field_too_small_then_frame", R(DEV_SHORT_LENGTH) },
    { "length_field_too_small_overshoot_eats_start", R(DEV_SHORT_LENGTH) },
    /* Generated streams with frames cut short by the next start token: rctclient
     * swallows the following bytes into the truncated frame, sunwire does not. */
    { "random_06_bytes", R(DEV_START_IN_FRAME) },
    { "random_13_random", R(DEV_START_IN_FRAME) },
    { "random_19_random", R(DEV_START_IN_FRAME) },
    { "random_22_whole", R(DEV_START_IN_FRAME) },
    { "random_23_random", R(DEV_START_IN_FRAME) },
    { "random_34_random", R(DEV_START_IN_FRAME) },
    { "random_49_random", R(DEV_START_IN_FRAME) },
    { "random_54_random", R(DEV_START_IN_FRAME) },
    { "random_58_whole", R(DEV_START_IN_FRAME) },
    { NULL, 0 }
};
#undef R

static bool has_reason_event(const ev_list *ours, unsigned reasons)
{
    for (size_t i = 0; i < ours->n; i++) {
        const ev_rec *e = &ours->v[i];
        if ((reasons & (1u << DEV_EXTENSION)) && e->kind == SW_RCT_RECEIVER_FRAME && e->extension)
            return true;
        if ((reasons & (1u << DEV_START_IN_FRAME)) && e->err == SW_ERR_RCT_FRAME_TRUNCATED)
            return true;
        if ((reasons & (1u << DEV_SHORT_LENGTH)) && e->err == SW_ERR_RCT_BAD_LENGTH)
            return true;
        if ((reasons & (1u << DEV_SENTINEL_FF)) && e->err == SW_ERR_RCT_INVALID_COMMAND &&
            e->command == 0xFF)
            return true;
    }
    return false;
}

static void test_receive_stream_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("rct/receive_streams.json");
    json_t *vecs = tu_get(root, "vectors");
    size_t i;
    json_t *v;
    sw_rct_receiver *rx = new_rx();
    int exact = 0, devs = 0;
    json_array_foreach(vecs, i, v) {
        const char *name = tu_str(v, "name");
        json_t *chunks = tu_get(v, "chunks_hex");
        size_t total = (size_t)tu_int(v, "total_length");
        uint8_t *all = malloc(total + 1);
        size_t *lens = malloc((json_array_size(chunks) + 1) * sizeof *lens);
        assert_non_null(all);
        assert_non_null(lens);
        size_t off = 0, k;
        json_t *c;
        json_array_foreach(chunks, k, c) {
            size_t n;
            uint8_t *b = tu_hex(json_string_value(c), &n);
            memcpy(all + off, b, n);
            off += n;
            lens[k] = n;
            free(b);
        }
        assert_int_equal(off, total);

        ev_list ours = { 0 }, ref = { 0 };
        sw_rct_receiver_init(rx);
        run_stream(rx, all, total, lens, json_array_size(chunks), &ours);
        vector_events(tu_get(v, "events"), &ref);

        const stream_dev *dev = NULL;
        for (const stream_dev *d = stream_devs; d->name; d++)
            if (strcmp(d->name, name) == 0)
                dev = d;
        if (!dev) {
            if (!stream_equal(&ours, &ref))
                fail_msg("%s: events differ from rctclient's", name);
            json_t *pend = tu_get(v, "pending_at_end");
            if (json_is_null(pend)) {
                assert_false(sw_rct_receiver_in_frame(rx));
            } else {
                assert_int_equal(sw_rct_receiver_in_frame(rx),
                                 json_is_true(tu_get(pend, "start_token_seen")));
                if (sw_rct_receiver_in_frame(rx))
                    assert_int_equal(sw_rct_receiver_buffered(rx),
                                     tu_int(pend, "buffered_unescaped_bytes"));
            }
            exact++;
        } else {
            /* A listed deviation must really differ, for the listed reason, and
             * lose nothing: every good frame rctclient finds, we find too, in order. */
            assert_false(stream_equal(&ours, &ref));
            assert_true(has_reason_event(&ours, dev->reasons));
            size_t j = 0;
            for (size_t r = 0; r < ref.n; r++) {
                if (ref.v[r].kind != SW_RCT_RECEIVER_FRAME)
                    continue;
                while (j < ours.n && !(ours.v[j].kind == SW_RCT_RECEIVER_FRAME &&
                                       ours.v[j].end_offset == ref.v[r].end_offset &&
                                       ours.v[j].id == ref.v[r].id &&
                                       strcmp(ours.v[j].data_hex, ref.v[r].data_hex) == 0))
                    j++;
                if (j == ours.n)
                    fail_msg("%s: rctclient's frame ending at %zu is missing", name,
                             ref.v[r].end_offset);
                j++;
            }
            devs++;
        }
        /* Any chunking gives our same events. */
        check_all_splits(all, total, &ours, name);
        free(ours.v);
        free(ref.v);
        free(all);
        free(lens);
    }
    assert_int_equal(devs, 14);
    assert_int_equal(exact + devs, 71);
    free(rx);
    json_decref(root);
}

/* ---- our own receiver behaviour ---------------------------------------------- */

static void test_receiver_choices(void **state)
{
    (void)state;
    sw_rct_receiver *rx = new_rx();
    sw_rct_receiver_event ev;
    /* AT+\r keep-alive then a frame: the bogus frame costs nothing that follows. */
    static const uint8_t at[] = { 'A', 'T', '+', '\r', 0x2B, 0x01, 0x04, 0x95, 0x99, 0x30, 0xBF, 0x0D, 0x65 };
    size_t n = sw_rct_receiver_push(rx, at, sizeof at, &ev);
    assert_int_equal(ev.kind, SW_RCT_RECEIVER_ERROR);
    assert_int_equal(ev.error, SW_ERR_RCT_INVALID_COMMAND);
    assert_int_equal(ev.command, 0x0D);
    assert_int_equal(n, 4);
    n += sw_rct_receiver_push(rx, at + n, sizeof at - n, &ev);
    assert_int_equal(ev.kind, SW_RCT_RECEIVER_FRAME);
    assert_int_equal(ev.frame.id, 0x959930BF);
    assert_int_equal(n, sizeof at);

    /* A lowered payload limit rejects an absurd length as soon as it is in. */
    sw_rct_receiver_init(rx);
    rx->max_payload = 16;
    static const uint8_t big[] = { 0x2B, 0x06, 0x12, 0x34, 0x01, 0x02 };
    n = sw_rct_receiver_push(rx, big, sizeof big, &ev);
    assert_int_equal(ev.kind, SW_RCT_RECEIVER_ERROR);
    assert_int_equal(ev.error, SW_ERR_RCT_LENGTH_EXCEEDED);
    assert_int_equal(n, 4);

    /* Plant frame lengths below 8 are rejected too. */
    sw_rct_receiver_init(rx);
    static const uint8_t pshort[] = { 0x2B, 0x45, 0x07 };
    n = sw_rct_receiver_push(rx, pshort, sizeof pshort, &ev);
    assert_int_equal(ev.error, SW_ERR_RCT_BAD_LENGTH);
    assert_int_equal(n, 3);

    /* Escape pending across calls; reset forgets a partial frame. */
    sw_rct_receiver_init(rx);
    static const uint8_t part[] = { 0x2B, 0x01, 0x2D };
    assert_int_equal(sw_rct_receiver_push(rx, part, 3, &ev), 3);
    assert_int_equal(ev.kind, SW_RCT_RECEIVER_NEED_MORE);
    assert_true(sw_rct_receiver_in_frame(rx));
    assert_int_equal(sw_rct_receiver_buffered(rx), 2);
    sw_rct_receiver_reset(rx);
    assert_false(sw_rct_receiver_in_frame(rx));
    assert_int_equal(sw_rct_receiver_buffered(rx), 0);
    assert_int_equal(sw_rct_receiver_push(rx, NULL, 0, &ev), 0);
    assert_int_equal(ev.kind, SW_RCT_RECEIVER_NEED_MORE);
    free(rx);
}

/* Random bytes (rich in 2B/2D and valid commands) in a bounded deterministic
 * loop: no crash, every byte accounted for, the same events for any chunking. */
static void test_receiver_random_garbage(void **state)
{
    (void)state;
    static const uint8_t pool[] = { 0x2B, 0x2D, 0x01, 0x02, 0x03, 0x05, 0x06, 0x3C, 0x41, 0x46, 0x00, 0x04, 0x08, 0xFF };
    uint8_t buf[512];
    uint32_t x = 0xC0FFEE;
    sw_rct_receiver *rx = new_rx();
    for (int round = 0; round < 300; round++) {
        size_t len = 1 + round % (sizeof buf - 1);
        for (size_t k = 0; k < len; k++) {
            x = x * 1103515245u + 12345u;
            uint8_t r = (uint8_t)(x >> 16);
            buf[k] = (r & 1) ? pool[(r >> 1) % sizeof pool] : (uint8_t)(x >> 8);
        }
        ev_list whole = { 0 };
        sw_rct_receiver_init(rx);
        run_stream(rx, buf, len, NULL, 0, &whole);
        assert_int_equal(rx->consumed_total, len);
        for (size_t e = 0; e < whole.n; e++) {
            assert_true(whole.v[e].end_offset <= len);
            if (e)
                assert_true(whole.v[e].end_offset >= whole.v[e - 1].end_offset);
        }
        /* random chunking */
        size_t ch[512];
        size_t nch = 0, sum = 0;
        while (sum < len) {
            x = x * 1103515245u + 12345u;
            size_t c = 1 + (x >> 16) % 17;
            ch[nch++] = c;
            sum += c;
        }
        ev_list split = { 0 };
        sw_rct_receiver_init(rx);
        run_stream(rx, buf, len, ch, nch, &split);
        assert_true(ev_equal(&whole, &split));
        if (round < 40)
            check_all_splits(buf, len, &whole, "garbage");
        free(whole.v);
        free(split.v);
    }
    free(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_vectors),
        cmocka_unit_test(test_crc16_table_matches_bitwise),
        cmocka_unit_test(test_command_predicates),
        cmocka_unit_test(test_encode_vectors),
        cmocka_unit_test(test_encode_known_frames),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_build_receive_round_trip),
        cmocka_unit_test(test_receive_frame_vectors),
        cmocka_unit_test(test_receive_stream_vectors),
        cmocka_unit_test(test_receiver_choices),
        cmocka_unit_test(test_receiver_random_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
