/* Firmware-4.x and H-series captures (tests/data/tigo-fw4, fw4_issue_observations.json)
 * through the link, transport and PV layers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_transport.h"
#include "hexfile.h"
#include "testutil.h"

static long hexnum(json_t *obj, const char *key)
{
    return strtol(tu_str(obj, key), NULL, 16);
}

static void assert_hex_member(json_t *obj, const char *key, const uint8_t *p, size_t n)
{
    size_t en;
    uint8_t *e = tu_hex_member(obj, key, &en);
    assert_int_equal(en, n);
    assert_memory_equal(e, p, n);
    free(e);
}

/* `power_report` objects of the fw4 vectors ("decoded" values, rounded to 6 places there). */
static void check_power_report(json_t *pr, const uint8_t *data, size_t n)
{
    sw_tigo_power_report r;
    assert_int_equal(n, tu_int(pr, "length"));
    assert_int_equal(sw_tigo_power_report_decode(data, n, &r), SW_OK);
    assert_hex_member(pr, "core_hex", data, SW_TIGO_POWER_REPORT_LEN);
    assert_hex_member(pr, "trailer_hex", r.extra, r.extra_len);
    json_t *raw = tu_get(pr, "raw");
    assert_int_equal(r.voltage_in_raw, tu_int(raw, "voltage_in"));
    assert_int_equal(r.voltage_out_raw, tu_int(raw, "voltage_out"));
    assert_int_equal(r.duty_cycle_raw, tu_int(raw, "dc_dc_duty_cycle"));
    assert_int_equal(r.current_raw, tu_int(raw, "current"));
    assert_int_equal(r.temperature_raw, tu_int(raw, "temperature_u12"));
    assert_int_equal(r.temperature_signed, tu_int(raw, "temperature_signed"));
    assert_hex_member(raw, "unknown_7_9_hex", r.unknown, 3);
    assert_int_equal(r.slot_counter, tu_int(raw, "slot_counter"));
    assert_int_equal(r.rssi, tu_int(raw, "rssi"));
    json_t *sc = tu_get(pr, "slot_counter_decoded");
    assert_int_equal(sw_tigo_slot_epoch(r.slot_counter), tu_int(sc, "epoch"));
    assert_int_equal(sw_tigo_slot_number(r.slot_counter), tu_int(sc, "slot_number"));
    assert_int_equal(sw_tigo_slot_valid(r.slot_counter), json_is_true(tu_get(sc, "valid")));
    json_t *ph = tu_get(pr, "physical");
    assert_true(fabs(r.voltage_in - json_number_value(tu_get(ph, "voltage_in"))) < 1e-6);
    assert_true(fabs(r.voltage_out - json_number_value(tu_get(ph, "voltage_out"))) < 1e-6);
    assert_true(fabs(r.duty_cycle - json_number_value(tu_get(ph, "dc_dc_duty_cycle"))) < 1e-6);
    assert_true(fabs(r.current - json_number_value(tu_get(ph, "current"))) < 1e-6);
    assert_true(fabs(r.temperature - json_number_value(tu_get(ph, "temperature"))) < 1e-6);
    assert_int_equal(r.rssi, tu_int(ph, "rssi"));
}

/* A "receive_response" object of the fw4 vectors against the tolerant decoder. */
static void check_receive_response(json_t *rr, const uint8_t *p, size_t n)
{
    sw_tigo_receive_response r;
    assert_int_equal(sw_tigo_receive_response_decode(p, n, 0, SW_TIGO_STATUS_TOLERANT, &r, NULL), SW_OK);
    assert_int_equal(r.status, hexnum(rr, "status_hex"));
    assert_int_equal(r.status_high, hexnum(rr, "status_high_byte"));
    assert_int_equal(r.status & 0xFF, hexnum(rr, "status_low_byte"));
    assert_int_equal((r.status >> 5) & 7, hexnum(rr, "low_byte_bits_5_7"));
    json_t *v;
    if ((v = json_object_get(rr, "rx_buffers_used")) != NULL) {
        assert_true(r.has_rx_buffers_used);
        assert_int_equal(r.rx_buffers_used, json_integer_value(v));
    } else {
        assert_false(r.has_rx_buffers_used);
    }
    if ((v = json_object_get(rr, "tx_buffers_free")) != NULL) {
        assert_true(r.has_tx_buffers_free);
        assert_int_equal(r.tx_buffers_free, json_integer_value(v));
    } else {
        assert_false(r.has_tx_buffers_free);
    }
    if (json_object_get(rr, "unknown_a_hex"))
        assert_hex_member(rr, "unknown_a_hex", r.unknown_a, 2);
    else
        assert_false(r.has_unknown_a);
    if (json_object_get(rr, "unknown_b_hex"))
        assert_hex_member(rr, "unknown_b_hex", r.unknown_b, 2);
    else
        assert_false(r.has_unknown_b);
    if (json_object_get(rr, "packet_number_hex")) {
        assert_true(r.packet_number_full);
        assert_int_equal(r.packet_number, hexnum(rr, "packet_number_hex"));
    } else {
        assert_false(r.packet_number_full);
        assert_int_equal(r.packet_number & 0xFF, hexnum(rr, "packet_number_low_hex"));
    }
    json_t *sc = tu_get(rr, "slot_counter");
    assert_int_equal(r.slot_counter, hexnum(sc, "hex"));
    assert_int_equal(sw_tigo_slot_epoch(r.slot_counter), tu_int(sc, "epoch"));
    assert_int_equal(sw_tigo_slot_number(r.slot_counter), tu_int(sc, "slot_number"));

    /* Strict (taptap) check refuses exactly the words the vectors say it refuses. */
    sw_tigo_receive_response tmp;
    sw_err strict = sw_tigo_receive_response_decode(p, n, 0, SW_TIGO_STATUS_STRICT, &tmp, NULL);
    bool passes = json_is_true(tu_get(rr, "passes_strict_classic_check_high_byte_zero")) &&
                  json_is_true(tu_get(rr, "passes_legacy_check_low_byte_bits5to7_set"));
    assert_int_equal(strict == SW_OK, passes);

    /* PV packets walk exactly to the end of the payload. */
    size_t pos = 0, i = 0;
    json_t *pkts = tu_get(rr, "pv_packets");
    sw_tigo_pv_packet pk;
    sw_err e;
    while ((e = sw_tigo_pv_packet_next(r.packets, r.packets_len, &pos, &pk)) == SW_OK) {
        json_t *w = json_array_get(pkts, i++);
        assert_non_null(w);
        assert_int_equal(pk.type, hexnum(w, "packet_type"));
        assert_int_equal(pk.node_id, tu_int(w, "node_id"));
        assert_int_equal(pk.short_address, hexnum(w, "short_address"));
        assert_int_equal(pk.dsn, hexnum(w, "dsn"));
        assert_int_equal(pk.data_len, tu_int(w, "data_length"));
        assert_hex_member(w, "data_hex", pk.data, pk.data_len);
        if (json_object_get(w, "power_report"))
            check_power_report(tu_get(w, "power_report"), pk.data, pk.data_len);
    }
    assert_int_equal(e, SW_ERR_NOT_FOUND);
    assert_int_equal(i, json_array_size(pkts));
    assert_true(json_is_true(tu_get(rr, "pv_region_parses_exactly")));
}

/* ---- the stack over real captures ------------------------------------------------ */
typedef struct tally {
    size_t responses, packets, power_reports, invalid;
    uint8_t high_bytes[16];
    uint16_t slot_counters[16];
} tally;

static int count_event(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    tally *t = user;
    switch (ev->kind) {
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE:
        if (t->responses < 16) {
            t->high_bytes[t->responses] = ev->u.receive_response.response.status_high;
            t->slot_counters[t->responses] = ev->u.receive_response.response.slot_counter;
        }
        t->responses++;
        break;
    case SW_TIGO_TRANSPORT_EVENT_PV_PACKET: {
        t->packets++;
        sw_tigo_app_message m;
        if (sw_tigo_app_decode(ev->u.pv_packet.packet.type, ev->u.pv_packet.packet.data,
                               ev->u.pv_packet.packet.data_len, &m) == SW_OK &&
            m.kind == SW_TIGO_APP_POWER_REPORT)
            t->power_reports++;
        break;
    }
    case SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME:
        t->invalid++;
        break;
    default:
        break;
    }
    return 0;
}

/* Feed a receive request for 0x1201 (reference `pn`), then the capture, byte by byte. */
static void feed_capture(unsigned flags, uint16_t pn, const uint8_t *bus, size_t n, tally *t,
                         sw_tigo_transport_counters *tc)
{
    sw_tigo_stack *s = malloc(sizeof *s);
    memset(t, 0, sizeof *t);
    sw_tigo_stack_init(s, SW_TIGO_LINK_MODE_IMPROVED, flags, count_event, t);
    uint8_t req[5] = { 0x00, 0x01, (uint8_t)(pn >> 8), (uint8_t)pn, 0x04 }, out[64];
    size_t on;
    assert_int_equal(sw_tigo_link_encode(0x1201, SW_TIGO_FT_RECEIVE_REQUEST, req, 5, 0, out, sizeof out, &on), SW_OK);
    sw_tigo_stack_push(s, out, on, NULL);
    for (size_t i = 0; i < n; i++)
        sw_tigo_stack_push(s, bus + i, 1, NULL);
    assert_int_equal(s->link.counters.checksums + s->link.counters.noise, 0);
    *tc = s->transport.counters;
    free(s);
}

static void check_bus_capture(const char *stem)
{
    char path[128];
    snprintf(path, sizeof path, "tigo-fw4/%s.hex", stem);
    hexfile *hf = malloc(sizeof *hf);
    hexfile_load(path, hf);
    snprintf(path, sizeof path, "tigo-fw4/%s.json", stem);
    json_t *root = tu_load_json(path);
    json_t *dec = tu_get(root, "decoded");
    assert_int_equal(json_array_size(dec), hf->n);
    uint8_t *all = malloc(hf->n * 600);
    size_t total = 0, want_packets = 0, want_strict_ok = 0;
    for (size_t i = 0; i < hf->n; i++) {
        json_t *d = json_array_get(dec, i);
        assert_hex_member(d, "bus_hex", hf->line[i], hf->len[i]);
        assert_true(json_is_true(tu_get(d, "crc_ok")));
        size_t un;
        uint8_t *body = tu_hex_member(d, "unescaped_hex", &un);
        sw_tigo_frame f;
        assert_int_equal(sw_tigo_link_parse_body(body, un, &f), SW_OK);
        assert_int_equal(f.type, hexnum(d, "frame_type"));
        assert_int_equal(sw_tigo_addr_gateway_id(f.address), hexnum(d, "gateway_id"));
        assert_hex_member(d, "payload_hex", f.payload, f.payload_len);
        json_t *rr = tu_get(d, "receive_response");
        check_receive_response(rr, f.payload, f.payload_len);
        want_packets += json_array_size(tu_get(rr, "pv_packets"));
        want_strict_ok += json_is_true(tu_get(rr, "passes_strict_classic_check_high_byte_zero")) &&
                          json_is_true(tu_get(rr, "passes_legacy_check_low_byte_bits5to7_set"));
        free(body);
        memcpy(all + total, hf->line[i], hf->len[i]);
        total += hf->len[i];
    }

    /* Through the whole stack: tolerant by default, reference-strict on request. */
    tally t;
    sw_tigo_transport_counters tc;
    feed_capture(0, 0x1200, all, total, &t, &tc);
    assert_int_equal(t.responses, hf->n);
    assert_int_equal(t.packets, want_packets);
    assert_int_equal(t.power_reports, want_packets);
    assert_int_equal(tc.receive_packet_too_short, 0);
    assert_int_equal(tc.status_high_byte_nonzero, hf->n);
    json_t *expect = tu_get(tu_get(root, "stated_by_source"), "expect");
    json_t *hb = json_object_get(expect, "status_high_bytes");
    json_t *scs = json_object_get(expect, "slot_counters");
    for (size_t i = 0; hb && i < json_array_size(hb); i++) {
        assert_int_equal(t.high_bytes[i], strtol(json_string_value(json_array_get(hb, i)), NULL, 16));
        assert_int_equal(t.slot_counters[i], strtol(json_string_value(json_array_get(scs, i)), NULL, 16));
    }
    feed_capture(SW_TIGO_TRANSPORT_STRICT_STATUS, 0x1200, all, total, &t, &tc);
    assert_int_equal(t.responses, want_strict_ok);
    assert_int_equal(tc.invalid_receive_responses, hf->n - want_strict_ok);

    free(all);
    json_decref(root);
    free(hf);
}

static void test_rxresp_4x_powerreport15(void **state)
{
    (void)state;
    check_bus_capture("issue20-fw4-rxresp-4x-powerreport15");
}

static void test_rxresp_2x_powerreport14(void **state)
{
    (void)state;
    check_bus_capture("issue20-fw4-rxresp-2x-powerreport14");
}

static void test_status_superepoch(void **state)
{
    (void)state;
    check_bus_capture("issue20-fw4-status-superepoch");
}

static void test_hfirmware_payloads(void **state)
{
    (void)state;
    hexfile *hf = malloc(sizeof *hf);
    hexfile_load("tigo-fw4/hfirmware-rxresp-payloads.hex", hf);
    json_t *root = tu_load_json("tigo-fw4/hfirmware-rxresp-payloads.json");
    json_t *dec = tu_get(root, "decoded");
    json_t *expect = tu_get(tu_get(root, "stated_by_source"), "expect");
    assert_int_equal(json_array_size(dec), hf->n);
    for (size_t i = 0; i < hf->n; i++) {
        json_t *d = json_array_get(dec, i);
        assert_hex_member(d, "payload_hex", hf->line[i], hf->len[i]);
        check_receive_response(tu_get(d, "receive_response"), hf->line[i], hf->len[i]);
        sw_tigo_receive_response r;
        assert_int_equal(sw_tigo_receive_response_decode(hf->line[i], hf->len[i], 0, SW_TIGO_STATUS_TOLERANT, &r, NULL),
                         SW_OK);
        assert_int_equal(r.status, strtol(json_string_value(json_array_get(tu_get(expect, "status_hex"), i)), NULL, 16));
        assert_int_equal(r.slot_counter,
                         strtol(json_string_value(json_array_get(tu_get(expect, "slot_counters"), i)), NULL, 16));
    }
    json_decref(root);
    free(hf);
}

static void test_powerreport15_data(void **state)
{
    (void)state;
    hexfile *hf = malloc(sizeof *hf);
    hexfile_load("tigo-fw4/issue20-fw4-powerreport15-data.hex", hf);
    json_t *root = tu_load_json("tigo-fw4/issue20-fw4-powerreport15-data.json");
    json_t *d = json_array_get(tu_get(root, "decoded"), 0);
    assert_int_equal(hf->n, 1);
    assert_hex_member(d, "data_hex", hf->line[0], hf->len[0]);
    check_power_report(tu_get(d, "power_report"), hf->line[0], hf->len[0]);
    json_t *expect = tu_get(tu_get(root, "stated_by_source"), "expect");
    sw_tigo_power_report r;
    assert_int_equal(sw_tigo_power_report_decode(hf->line[0], hf->len[0], &r), SW_OK);
    assert_int_equal(hf->len[0], tu_int(expect, "length"));
    assert_true(r.voltage_in == tu_real(expect, "voltage_in"));
    assert_true(r.voltage_out == tu_real(expect, "voltage_out"));
    assert_hex_member(expect, "trailer_hex", r.extra, r.extra_len);
    json_decref(root);
    free(hf);
}

/* The two CRC-valid issue-20 frames of tigo/fw4_issue_observations.json. */
typedef struct obs {
    sw_tigo_receive_response resp;
    size_t npk;
    sw_tigo_pv_packet pk[8];
    uint8_t copy[512];
    size_t invalid;
} obs;

static int keep_obs(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    obs *o = user;
    if (ev->kind == SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE) {
        /* Copy: the pointers die with the callback. */
        o->resp = ev->u.receive_response.response;
        memcpy(o->copy, o->resp.packets, o->resp.packets_len);
        o->resp.packets = o->copy;
    } else if (ev->kind == SW_TIGO_TRANSPORT_EVENT_PV_PACKET && o->npk < 8) {
        o->pk[o->npk] = ev->u.pv_packet.packet;
        /* The packet region is the tail of the frame payload. */
        const uint8_t *region = ev->frame->payload + ev->frame->payload_len - o->resp.packets_len;
        o->pk[o->npk].data = o->copy + (ev->u.pv_packet.packet.data - region);
        o->npk++;
    } else if (ev->kind == SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME) {
        o->invalid++;
    }
    return 0;
}

static void test_issue_observations(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/fw4_issue_observations.json");
    size_t i;
    json_t *c;
    static const uint16_t references[] = { 0x1200, 0xFA00 }; /* as the file's description assumes */
    json_array_foreach(tu_get(root, "cases"), i, c) {
        size_t bn;
        uint8_t *bus = tu_hex_member(c, "bus_hex", &bn);
        for (int strict = 0; strict < 2; strict++) {
            sw_tigo_stack *s = malloc(sizeof *s);
            obs *o = calloc(1, sizeof *o);
            sw_tigo_stack_init(s, SW_TIGO_LINK_MODE_REFERENCE, strict ? SW_TIGO_TRANSPORT_STRICT_STATUS : 0,
                               keep_obs, o);
            uint16_t pn = references[i < 2 ? i : 0];
            uint8_t req[5] = { 0x00, 0x01, (uint8_t)(pn >> 8), (uint8_t)pn, 0x04 }, out[64];
            size_t on;
            assert_int_equal(sw_tigo_link_encode(0x1201, SW_TIGO_FT_RECEIVE_REQUEST, req, 5, 0, out, sizeof out, &on),
                             SW_OK);
            sw_tigo_stack_push(s, out, on, NULL);
            for (size_t k = 0; k < bn; k++)
                sw_tigo_stack_push(s, bus + k, 1, NULL);
            assert_int_equal(s->link.counters.frames, 2);
            if (strict) {
                /* taptap's behaviour: the frame is refused, nothing is delivered. */
                assert_string_equal(tu_str(tu_get(c, "taptap_behaviour"), "parse_error"), "UnknownStatusType");
                assert_int_equal(s->transport.counters.invalid_receive_responses, 1);
                assert_int_equal(o->npk, 0);
                assert_int_equal(o->invalid, 1);
            } else {
                json_t *rel = tu_get(c, "relaxed_decoding_suggestion");
                json_t *f = tu_get(rel, "fields");
                assert_int_equal(o->resp.status, hexnum(c, "status_word_hex"));
                assert_int_equal(o->resp.packet_number, tu_int(f, "packet_number"));
                assert_int_equal(o->resp.slot_counter, tu_int(f, "slot_counter"));
                json_t *v = tu_get(f, "rx_buffers_used");
                assert_int_equal(o->resp.has_rx_buffers_used, !json_is_null(v));
                v = tu_get(f, "tx_buffers_free");
                assert_int_equal(o->resp.has_tx_buffers_free, !json_is_null(v));
                if (!json_is_null(v))
                    assert_int_equal(o->resp.tx_buffers_free, json_integer_value(v));
                json_t *pk = tu_get(rel, "packets");
                assert_int_equal(o->npk, json_array_size(pk));
                for (size_t k = 0; k < o->npk; k++) {
                    json_t *w = json_array_get(pk, k);
                    assert_int_equal(o->pk[k].node_id, tu_int(w, "node_address"));
                    assert_int_equal(o->pk[k].short_address, tu_int(w, "short_address"));
                    assert_int_equal(o->pk[k].dsn, tu_int(w, "dsn"));
                    assert_int_equal(o->pk[k].data_len, tu_int(w, "data_length"));
                    assert_hex_member(w, "data_hex", o->pk[k].data, o->pk[k].data_len);
                    sw_tigo_power_report r;
                    assert_int_equal(sw_tigo_power_report_decode(o->pk[k].data, o->pk[k].data_len, &r), SW_OK);
                    json_t *d13 = tu_get(w, "first_13_decoded");
                    assert_true(r.voltage_in == tu_real(d13, "voltage_in"));
                    assert_true(r.voltage_out == tu_real(d13, "voltage_out"));
                    assert_true(r.current == tu_real(d13, "current"));
                    assert_true(r.duty_cycle == tu_real(d13, "dc_dc_duty_cycle"));
                    assert_true(r.temperature == tu_real(d13, "temperature"));
                    assert_int_equal(r.slot_counter, hexnum(d13, "slot_counter_hex"));
                    assert_int_equal(r.rssi, tu_int(d13, "rssi"));
                    assert_hex_member(w, "trailing_extra_hex", r.extra, r.extra_len);
                }
            }
            free(o);
            free(s);
        }
        free(bus);
    }
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rxresp_4x_powerreport15),
        cmocka_unit_test(test_rxresp_2x_powerreport14),
        cmocka_unit_test(test_status_superepoch),
        cmocka_unit_test(test_hfirmware_payloads),
        cmocka_unit_test(test_powerreport15_data),
        cmocka_unit_test(test_issue_observations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
