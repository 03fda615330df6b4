/* Unit tests for star frames 0x0042/0x0043 (src/tigo/star.c) against the tigo-fw4 captures. */
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_link.h"
#include "sunwire/tigo_star.h"
#include "hexfile.h"
#include "testutil.h"

static long hexnum(json_t *obj, const char *key)
{
    return strtol(tu_str(obj, key), NULL, 16);
}

typedef struct one_frame {
    int n;
    uint16_t address, type;
    uint8_t payload[SW_TIGO_LINK_MAX_PAYLOAD];
    size_t len;
} one_frame;

static int keep(sw_tigo_link_receiver *owner, const sw_tigo_frame *f, void *user)
{
    (void)owner;
    one_frame *o = user;
    o->n++;
    o->address = f->address;
    o->type = f->type;
    o->len = f->payload_len;
    memcpy(o->payload, f->payload, f->payload_len);
    return 0;
}

/* Bus bytes -> exactly one CRC-valid frame, whatever the receiver mode. */
static void receive_one(const uint8_t *bus, size_t n, one_frame *o)
{
    for (int mode = 0; mode < 2; mode++) {
        sw_tigo_link_receiver rx;
        memset(o, 0, sizeof *o);
        sw_tigo_link_receiver_init(&rx, (sw_tigo_link_mode)mode, keep, o);
        for (size_t i = 0; i < n; i++) /* byte by byte */
            sw_tigo_link_receiver_push(&rx, bus + i, 1, NULL);
        assert_int_equal(o->n, 1);
        assert_int_equal(rx.counters.checksums + rx.counters.noise + rx.counters.runts, 0);
    }
}

static void check_request(json_t *want, const uint8_t *p, size_t n)
{
    sw_tigo_star_request q;
    assert_int_equal(n, tu_int(want, "length"));
    assert_int_equal(sw_tigo_star_request_decode(p, n, &q), SW_OK);
    assert_int_equal(q.field_0, hexnum(want, "field_0_1_hex"));
    assert_int_equal(q.field_2, hexnum(want, "field_2_3_hex"));
    assert_int_equal(q.sequence, hexnum(want, "sequence_hex"));
    assert_int_equal(q.field_6, hexnum(want, "field_6_7_hex"));
    for (size_t k = 0; k < n; k++)
        assert_int_equal(sw_tigo_star_request_decode(p, k, &q), SW_ERR_TRUNCATED);
    uint8_t longer[16] = { 0 };
    memcpy(longer, p, n);
    assert_int_equal(sw_tigo_star_request_decode(longer, n + 1, &q), SW_ERR_TOO_LONG);
}

static void check_record(json_t *want, const sw_tigo_star_record *r)
{
    size_t rn;
    uint8_t *raw = tu_hex_member(want, "record_hex", &rn);
    assert_int_equal(rn, SW_TIGO_STAR_RECORD_LEN);
    assert_memory_equal(r->raw, raw, rn);
    free(raw);
    assert_int_equal(r->byte0, hexnum(want, "byte0_hex"));
    assert_int_equal(r->byte1, hexnum(want, "byte1_hex"));
    assert_int_equal(r->slot, hexnum(want, "slot"));
    assert_int_equal(r->vin_raw, tu_int(want, "vin_raw"));
    assert_int_equal(r->iin_raw, tu_int(want, "iin_raw"));
    assert_int_equal(r->temp_raw, tu_int(want, "temp_raw"));
    assert_int_equal(r->pwm_raw, tu_int(want, "pwm_raw"));
    assert_int_equal(r->vout_raw, tu_int(want, "vout_raw"));
    assert_int_equal(r->byte10, hexnum(want, "byte10_hex"));
}

static void check_response(json_t *want, const uint8_t *p, size_t n)
{
    sw_tigo_star_response s;
    assert_int_equal(sw_tigo_star_response_decode(p, n, &s), SW_OK);
    size_t hn;
    uint8_t *h = tu_hex_member(want, "header_hex", &hn);
    assert_int_equal(hn, SW_TIGO_STAR_HEADER_LEN);
    assert_memory_equal(s.header, h, hn);
    free(h);
    json_t *hf = tu_get(want, "header_fields");
    assert_int_equal(s.sequence, hexnum(hf, "b8_9_echo_of_request_sequence"));
    assert_int_equal(s.record_count * SW_TIGO_STAR_RECORD_LEN, tu_int(want, "record_bytes"));
    json_t *recs = tu_get(want, "records");
    assert_int_equal(json_array_size(recs), s.record_count);
    for (size_t i = 0; i < s.record_count; i++) {
        sw_tigo_star_record r;
        sw_tigo_star_response_record(&s, i, &r);
        check_record(json_array_get(recs, i), &r);
    }
    for (size_t k = 0; k < SW_TIGO_STAR_HEADER_LEN; k++)
        assert_int_equal(sw_tigo_star_response_decode(p, k, &s), SW_ERR_TRUNCATED);
    for (size_t k = SW_TIGO_STAR_HEADER_LEN + 1; k < n; k++)
        if ((k - SW_TIGO_STAR_HEADER_LEN) % SW_TIGO_STAR_RECORD_LEN)
            assert_int_equal(sw_tigo_star_response_decode(p, k, &s), SW_ERR_TIGO_BAD_LENGTH);
}

/* issue12: unescaped bodies without CRC; the JSON adds a re-computed CRC and a bus frame. */
static void test_issue12_bodies(void **state)
{
    (void)state;
    hexfile *hf = malloc(sizeof *hf);
    hexfile_load("tigo-fw4/issue12-star-0042-0043-bodies.hex", hf);
    json_t *root = tu_load_json("tigo-fw4/issue12-star-0042-0043-bodies.json");
    json_t *dec = tu_get(root, "decoded");
    assert_int_equal(json_array_size(dec), hf->n);
    json_t *expect = tu_get(tu_get(root, "stated_by_source"), "expect");
    size_t record_counts_seen = 0;
    uint16_t last_request_seq = 0;
    for (size_t i = 0; i < hf->n; i++) {
        json_t *d = json_array_get(dec, i);
        size_t bn;
        uint8_t *body = tu_hex_member(d, "body_hex", &bn);
        assert_int_equal(bn, hf->len[i]);
        assert_memory_equal(body, hf->line[i], bn);
        free(body);
        /* CRC computed here equals the one the vector set computed. */
        uint16_t crc = sw_tigo_crc16(hf->line[i], hf->len[i]);
        assert_int_equal(crc, hexnum(d, "crc_calculated"));
        /* Encoding the body gives the synthesized bus frame, which receives back. */
        uint16_t address = sw_be16(hf->line[i]), type = sw_be16(hf->line[i] + 2);
        uint8_t out[600];
        size_t on, sn;
        assert_int_equal(sw_tigo_link_encode(address, type, hf->line[i] + 4, hf->len[i] - 4, 0, out, sizeof out, &on),
                         SW_OK);
        uint8_t *syn = tu_hex_member(d, "synthesized_bus_hex", &sn);
        assert_int_equal(on, sn);
        assert_memory_equal(out, syn, sn);
        free(syn);
        one_frame *o = malloc(sizeof *o);
        receive_one(out, on, o);
        assert_int_equal(o->type, hexnum(d, "frame_type"));
        assert_int_equal(sw_tigo_addr_gateway_id(o->address), hexnum(d, "gateway_id"));
        assert_int_equal(o->type, strtol(json_string_value(json_array_get(tu_get(expect, "frame_types"), i)), NULL, 16));
        if (o->type == SW_TIGO_FT_STAR_REQUEST) {
            check_request(tu_get(d, "star_request_0042"), o->payload, o->len);
            last_request_seq = sw_be16(o->payload + 4);
        } else {
            check_response(tu_get(d, "star_response_0043"), o->payload, o->len);
            sw_tigo_star_response s;
            assert_int_equal(sw_tigo_star_response_decode(o->payload, o->len, &s), SW_OK);
            /* The source states the response echoes the request's bytes 4-5. */
            assert_int_equal(s.sequence, last_request_seq);
            assert_int_equal(s.record_count,
                             json_integer_value(json_array_get(tu_get(expect, "record_count"), record_counts_seen++)));
        }
        free(o);
    }
    assert_int_equal(record_counts_seen, 2);
    json_decref(root);
    free(hf);
}

static void test_issue17_request(void **state)
{
    (void)state;
    hexfile *hf = malloc(sizeof *hf);
    hexfile_load("tigo-fw4/issue17-star-0042-request.hex", hf);
    json_t *root = tu_load_json("tigo-fw4/issue17-star-0042-request.json");
    json_t *d = json_array_get(tu_get(root, "decoded"), 0);
    json_t *expect = tu_get(tu_get(root, "stated_by_source"), "expect");
    assert_int_equal(hf->n, 1);
    size_t bn;
    uint8_t *bus = tu_hex_member(d, "bus_hex", &bn);
    assert_int_equal(bn, hf->len[0]);
    assert_memory_equal(bus, hf->line[0], bn);
    free(bus);
    one_frame *o = malloc(sizeof *o);
    receive_one(hf->line[0], hf->len[0], o);
    assert_int_equal(o->type, hexnum(expect, "frame_type"));
    assert_false(sw_tigo_addr_is_from_gateway(o->address));
    assert_string_equal(tu_str(expect, "direction"), "to_gateway");
    assert_int_equal(sw_tigo_addr_gateway_id(o->address), hexnum(expect, "gateway_id"));
    size_t pn;
    uint8_t *p = tu_hex_member(expect, "payload_hex", &pn);
    assert_int_equal(o->len, pn);
    assert_memory_equal(o->payload, p, pn);
    free(p);
    check_request(tu_get(d, "star_request_0042"), o->payload, o->len);
    free(o);
    json_decref(root);
    free(hf);
}

static void test_rar_record(void **state)
{
    (void)state;
    hexfile *hf = malloc(sizeof *hf);
    hexfile_load("tigo-fw4/rar-star-record-example.hex", hf);
    json_t *root = tu_load_json("tigo-fw4/rar-star-record-example.json");
    json_t *d = json_array_get(tu_get(root, "decoded"), 0);
    json_t *expect = tu_get(tu_get(root, "stated_by_source"), "expect");
    assert_int_equal(hf->n, 1);
    sw_tigo_star_record r;
    assert_int_equal(sw_tigo_star_record_decode(hf->line[0], hf->len[0], &r), SW_OK);
    check_record(d, &r);
    /* The values the source itself states. */
    assert_int_equal(r.slot, hexnum(expect, "slot"));
    assert_int_equal(r.vin_raw, tu_int(expect, "vin_raw"));
    assert_int_equal(r.iin_raw, tu_int(expect, "iin_raw"));
    assert_int_equal(r.temp_raw, tu_int(expect, "temp_raw"));
    assert_int_equal(r.pwm_raw, tu_int(expect, "pwm_raw"));
    assert_int_equal(r.vout_raw, tu_int(expect, "vout_raw"));
    assert_int_equal(sw_tigo_star_record_decode(hf->line[0], 11, &r), SW_ERR_TIGO_BAD_LENGTH);
    json_decref(root);
    free(hf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue12_bodies),
        cmocka_unit_test(test_issue17_request),
        cmocka_unit_test(test_rar_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
