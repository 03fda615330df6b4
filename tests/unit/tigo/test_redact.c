/* Unit tests for the radio key redaction (src/tigo/redact.c), from the frame in tests/data/tigo/radio_config_key.json. */
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_link.h"
#include "sunwire/tigo_pv.h"
#include "sunwire/tigo_redact.h"
#include "testutil.h"

/* ---- what a link receiver makes of a byte stream ---------------------------- */
#define MAX_FRAMES 16
typedef struct seen {
    size_t n;
    uint16_t type[MAX_FRAMES];
    size_t len[MAX_FRAMES];
    uint8_t payload[MAX_FRAMES][SW_TIGO_LINK_MAX_PAYLOAD];
} seen;

static int on_frame(sw_tigo_link_receiver *rx, const sw_tigo_frame *f, void *user)
{
    (void)rx;
    seen *s = user;
    if (s->n < MAX_FRAMES) {
        s->type[s->n] = f->type;
        s->len[s->n] = f->payload_len;
        memcpy(s->payload[s->n], f->payload, f->payload_len);
    }
    s->n++;
    return 0;
}

static void receive(const uint8_t *bytes, size_t n, sw_tigo_link_mode mode, seen *s)
{
    memset(s, 0, sizeof *s);
    sw_tigo_link_receiver rx;
    sw_tigo_link_receiver_init(&rx, mode, on_frame, s);
    sw_tigo_link_receiver_push(&rx, bytes, n, NULL);
}

/* Run bytes through a redactor in chunks of `step` (0 = at once), then finish. */
static uint8_t *redact(const uint8_t *in, size_t n, size_t step, size_t *out_n, uint64_t *frames)
{
    sw_tigo_redactor r;
    sw_tigo_redactor_init(&r);
    uint8_t *out = malloc(SW_TIGO_REDACTOR_OUT_MAX(n) + SW_TIGO_REDACTOR_SLACK);
    assert_non_null(out);
    size_t o = 0;
    size_t chunk = step ? step : (n ? n : 1);
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        size_t w = 0;
        uint8_t *buf = malloc(SW_TIGO_REDACTOR_OUT_MAX(k));
        assert_non_null(buf);
        assert_int_equal(sw_tigo_redactor_push(&r, in + i, k, buf, SW_TIGO_REDACTOR_OUT_MAX(k), &w), SW_OK);
        assert_true(w <= SW_TIGO_REDACTOR_OUT_MAX(k));
        memcpy(out + o, buf, w);
        o += w;
        free(buf);
    }
    size_t w = 0;
    assert_int_equal(sw_tigo_redactor_finish(&r, out + o, SW_TIGO_REDACTOR_SLACK, &w), SW_OK);
    o += w;
    *out_n = o;
    if (frames)
        *frames = r.counters.frames;
    return out;
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

typedef struct vec {
    json_t *root;
    uint8_t *bus, *rbus, *key, *body, *rbody, *req, *data, *rdata;
    size_t bus_n, rbus_n, key_n, body_n, rbody_n, req_n, data_n, rdata_n;
} vec;

static void vec_load(vec *v)
{
    v->root = tu_load_json("tigo/radio_config_key.json");
    json_t *rs = tu_get(v->root, "response");
    v->bus = tu_hex_member(rs, "bus_hex", &v->bus_n);
    v->rbus = tu_hex_member(rs, "redacted_bus_hex", &v->rbus_n);
    v->key = tu_hex_member(rs, "key_hex", &v->key_n);
    v->body = tu_hex_member(rs, "body_hex", &v->body_n);
    v->rbody = tu_hex_member(rs, "redacted_body_hex", &v->rbody_n);
    v->data = tu_hex_member(rs, "data_hex", &v->data_n);
    v->rdata = tu_hex_member(rs, "redacted_data_hex", &v->rdata_n);
    v->req = tu_hex_member(tu_get(v->root, "request"), "bus_hex", &v->req_n);
}

static void vec_free(vec *v)
{
    free(v->bus); free(v->rbus); free(v->key); free(v->body); free(v->rbody); free(v->req);
    free(v->data); free(v->rdata);
    json_decref(v->root);
}

/* The notes' frame decodes as the spec says, and its key is where the span says. */
static void test_vector_decodes(void **state)
{
    (void)state;
    vec v;
    vec_load(&v);
    assert_int_equal(v.key_n, SW_TIGO_RADIO_KEY_LEN);
    sw_tigo_frame f;
    assert_int_equal(sw_tigo_link_parse_body(v.body, v.body_n, &f), SW_OK);
    assert_int_equal(f.type, SW_TIGO_FT_COMMAND_RESPONSE);
    sw_tigo_radio_config rc;
    assert_int_equal(sw_tigo_radio_config_decode(f.payload + 5, f.payload_len - 5, &rc), SW_OK);
    json_t *rs = tu_get(v.root, "response");
    assert_int_equal(rc.channel, tu_int(rs, "channel"));
    assert_int_equal(rc.pan_id, strtol(tu_str(rs, "pan_id_hex"), NULL, 16));
    assert_memory_equal(rc.key, v.key, 16);
    size_t off = 99, len = 99;
    assert_true(sw_tigo_redact_key_span(f.address, f.type, f.payload, f.payload_len, &off, &len));
    assert_int_equal(off, tu_int(rs, "key_payload_offset"));
    assert_int_equal(len, 16);
    assert_memory_equal(f.payload + off, v.key, 16);
    /* Other frames hold no key: the request, a response of another type, a frame to the gateway. */
    uint8_t p[42];
    memcpy(p, f.payload, sizeof p);
    assert_false(sw_tigo_redact_key_span(0x1201, SW_TIGO_FT_COMMAND_RESPONSE, p, sizeof p, &off, &len));
    assert_false(sw_tigo_redact_key_span(f.address, SW_TIGO_FT_COMMAND_REQUEST, p, sizeof p, &off, &len));
    p[3] = SW_TIGO_PT_NODE_TABLE_RESPONSE;
    assert_false(sw_tigo_redact_key_span(f.address, f.type, p, sizeof p, &off, &len));
    /* A response cut inside the key: the part that is there. */
    assert_true(sw_tigo_redact_key_span(f.address, f.type, f.payload, 25, &off, &len));
    assert_int_equal(off, 20);
    assert_int_equal(len, 5);
    assert_true(sw_tigo_redact_key_span(f.address, f.type, f.payload, 10, &off, &len));
    assert_int_equal(len, 0);
    vec_free(&v);
}

static void test_body_redaction(void **state)
{
    (void)state;
    vec v;
    vec_load(&v);
    uint8_t b[SW_TIGO_LINK_MAX_BODY];
    memcpy(b, v.body, v.body_n);
    bool did = false;
    sw_tigo_redact_body(b, v.body_n, &did);
    assert_true(did);
    assert_memory_equal(b, v.rbody, v.body_n);
    sw_tigo_frame f;
    assert_int_equal(sw_tigo_link_parse_body(b, v.body_n, &f), SW_OK); /* the CRC was recomputed */
    assert_memory_equal(f.payload + 5, v.rdata, v.rdata_n);
    /* Again: nothing left to hide, same bytes. */
    sw_tigo_redact_body(b, v.body_n, &did);
    assert_true(did);
    assert_memory_equal(b, v.rbody, v.body_n);
    /* A damaged copy is zeroed as well and stays damaged. */
    memcpy(b, v.body, v.body_n);
    b[v.body_n - 1] ^= 0x55;
    sw_tigo_redact_body(b, v.body_n, &did);
    assert_true(did);
    assert_false(contains(b, v.body_n, v.key, 16));
    assert_int_equal(sw_tigo_link_parse_body(b, v.body_n, &f), SW_ERR_TIGO_BAD_CRC);
    /* The request is left alone. */
    uint8_t q[] = { 0x12, 0x01, 0x0B, 0x0F, 0, 0, 0, 0x0D, 0x01, 0x00, 0x01, 0, 0 };
    uint16_t crc = sw_tigo_crc16(q, sizeof q - 2);
    q[sizeof q - 2] = (uint8_t)crc;
    q[sizeof q - 1] = (uint8_t)(crc >> 8);
    uint8_t q2[sizeof q];
    memcpy(q2, q, sizeof q);
    sw_tigo_redact_body(q2, sizeof q2, &did);
    assert_false(did);
    assert_memory_equal(q, q2, sizeof q);
    vec_free(&v);
}

/* A bus of ordinary frames, the request and the keyed response, in every chunking. */
static void test_stream_redaction(void **state)
{
    (void)state;
    vec v;
    vec_load(&v);
    uint8_t other[64];
    size_t other_n = 0;
    static const uint8_t ping[] = { 0x01 };
    assert_int_equal(sw_tigo_link_encode(0x9201, SW_TIGO_FT_PING_RESPONSE, ping, 1, 0, other, sizeof other, &other_n),
                     SW_OK);
    uint8_t bus[1024], want[1024];
    size_t n = 0, wn = 0;
#define PUT(dst, len, p, k) (memcpy((dst) + (len), (p), (k)), (len) += (k))
    PUT(bus, n, other, other_n);
    PUT(bus, n, v.req, v.req_n);
    PUT(bus, n, v.bus, v.bus_n);
    PUT(bus, n, other, other_n);
    PUT(want, wn, other, other_n);
    PUT(want, wn, v.req, v.req_n);
    PUT(want, wn, v.rbus, v.rbus_n);
    PUT(want, wn, other, other_n);
    assert_true(contains(bus, n, v.key, 16));
    for (size_t step = 0; step <= n; step++) {
        size_t on = 0;
        uint64_t frames = 0;
        uint8_t *out = redact(bus, n, step, &on, &frames);
        assert_int_equal(on, wn);
        assert_memory_equal(out, want, wn);
        assert_int_equal(frames, 1);
        /* What a receiver makes of it: the same frames, the key zeroed, the rest intact. */
        seen s;
        receive(out, on, SW_TIGO_LINK_MODE_IMPROVED, &s);
        assert_int_equal(s.n, 4);
        assert_int_equal(s.type[2], SW_TIGO_FT_COMMAND_RESPONSE);
        assert_memory_equal(s.payload[2] + 5, v.rdata, v.rdata_n);
        free(out);
    }
    vec_free(&v);
}

/* A key that holds bytes the link escapes (7E, 24, A5 ...) and a CRC that needs escaping or not. */
static void test_stream_escaped_key(void **state)
{
    (void)state;
    vec v;
    vec_load(&v);
    uint8_t payload[64];
    size_t pn = v.body_n - 6;
    memcpy(payload, v.body + 4, pn);
    static const uint8_t special[] = { 0x7E, 0x24, 0x23, 0x25, 0xA4, 0xA3, 0xA5 };
    for (unsigned trial = 0; trial < 64; trial++) {
        for (unsigned k = 0; k < 16; k++)
            payload[20 + k] = (k + trial) % 3 ? special[(k * 5 + trial) % 7] : (uint8_t)(trial * 37 + k);
        uint8_t bus[256];
        size_t n = 0;
        assert_int_equal(sw_tigo_link_encode(0x9201, SW_TIGO_FT_COMMAND_RESPONSE, payload, pn, 0, bus, sizeof bus, &n),
                         SW_OK);
        for (size_t step = 1; step <= n; step += 3) {
            size_t on = 0;
            uint8_t *out = redact(bus, n, step, &on, NULL);
            seen s;
            receive(out, on, SW_TIGO_LINK_MODE_REFERENCE, &s);
            assert_int_equal(s.n, 1);
            assert_int_equal(s.len[0], pn);
            assert_memory_equal(s.payload[0], payload, 20);
            for (unsigned k = 0; k < 16; k++)
                assert_int_equal(s.payload[0][20 + k], 0);
            assert_memory_equal(s.payload[0] + 36, payload + 36, pn - 36);
            free(out);
        }
    }
    vec_free(&v);
}

/* Frames cut short, noise and giants: the key never comes out, the other bytes do. */
static void test_stream_cut_short(void **state)
{
    (void)state;
    vec v;
    vec_load(&v);
    /* The keyed frame without its end (7E 08), then: a new frame / noise / the end of the input. */
    size_t cut = v.bus_n - 2;
    uint8_t other[64];
    size_t other_n = 0;
    static const uint8_t ping[] = { 0x01 };
    assert_int_equal(sw_tigo_link_encode(0x9201, SW_TIGO_FT_PING_RESPONSE, ping, 1, SW_TIGO_ENCODE_NO_PREAMBLE, other,
                                         sizeof other, &other_n),
                     SW_OK);
    for (int tail = 0; tail < 3; tail++) {
        uint8_t bus[512];
        size_t n = 0;
        PUT(bus, n, v.bus, cut);
        if (tail == 0)
            PUT(bus, n, other, other_n);
        else if (tail == 1)
            PUT(bus, n, "\x7E\x55\x00\x01", 4);
        for (size_t step = 0; step <= n; step += 7) {
            size_t on = 0;
            uint64_t frames = 0;
            uint8_t *out = redact(bus, n, step, &on, &frames);
            assert_false(contains(out, on, v.key, 16));
            assert_int_equal(frames, 1);
            seen s;
            receive(out, on, SW_TIGO_LINK_MODE_IMPROVED, &s);
            assert_int_equal(s.n, tail == 0 ? 1 : 0); /* the ping after it still decodes */
            if (tail == 0) {
                assert_int_equal(s.type[0], SW_TIGO_FT_PING_RESPONSE);
                assert_memory_equal(out + on - other_n, other, other_n);
            }
            if (tail == 1)
                assert_memory_equal(out + on - 4, "\x7E\x55\x00\x01", 4);
            free(out);
        }
    }
    /* A giant that starts like a keyed response: 300 body bytes, none of them lost. */
    uint8_t giant[700];
    size_t n = 0;
    PUT(giant, n, v.bus, 24);
    for (int i = 0; i < 300; i++)
        giant[n++] = (uint8_t)(0x30 + i % 16);
    PUT(giant, n, "\x7E\x08", 2);
    size_t on = 0;
    uint8_t *out = redact(giant, n, 0, &on, NULL);
    assert_int_equal(on, n);
    assert_memory_equal(out, giant, 24);
    free(out);
    vec_free(&v);
}

/* Input without any keyed frame comes out byte for byte, chunk for chunk. */
static void test_stream_passthrough(void **state)
{
    (void)state;
    uint8_t bus[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof bus; i++) {
        x = x * 1103515245u + 12345u;
        bus[i] = (uint8_t)(x >> 16);
        if (i % 97 == 0)
            bus[i] = 0x7E;
    }
    /* Random bytes may still form a keyed head by chance; make sure they do not. */
    for (size_t i = 0; i + 1 < sizeof bus; i++)
        if (bus[i] == 0x7E && bus[i + 1] == 0x07)
            bus[i + 1] = 0x09;
    sw_tigo_redactor r;
    sw_tigo_redactor_init(&r);
    for (size_t i = 0; i < sizeof bus; i += 100) {
        size_t k = sizeof bus - i < 100 ? sizeof bus - i : 100;
        uint8_t out[SW_TIGO_REDACTOR_OUT_MAX(100)];
        size_t w = 0;
        assert_int_equal(sw_tigo_redactor_push(&r, bus + i, k, out, sizeof out, &w), SW_OK);
        assert_int_equal(w, k);
        assert_memory_equal(out, bus + i, k);
    }
    /* Room is checked before anything is consumed. */
    uint8_t small[16];
    size_t w = 0;
    assert_int_equal(sw_tigo_redactor_push(&r, bus, 8, small, sizeof small, &w), SW_ERR_NO_SPACE);
    assert_int_equal(sw_tigo_redactor_finish(&r, small, sizeof small, &w), SW_ERR_NO_SPACE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_decodes),     cmocka_unit_test(test_body_redaction),
        cmocka_unit_test(test_stream_redaction),   cmocka_unit_test(test_stream_escaped_key),
        cmocka_unit_test(test_stream_cut_short),   cmocka_unit_test(test_stream_passthrough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
