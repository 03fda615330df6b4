/* Unit tests for the Tigo transport layer (src/tigo/transport.c), fed through the link layer. */
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_transport.h"
#include "testutil.h"

static long hexnum(json_t *obj, const char *key)
{
    return strtol(tu_str(obj, key), NULL, 16);
}

/* ---- event recorder: flattens events into comparable records --------------------- */
#define MAX_EV 256
typedef struct ev_rec {
    sw_tigo_transport_event_kind kind;
    uint16_t gateway_id;
    uint32_t a, b, c;       /* kind-specific numbers */
    uint8_t bytes[260];     /* kind-specific bytes */
    size_t nbytes;
    uint8_t bytes2[260];
    size_t nbytes2;
} ev_rec;
typedef struct ev_log {
    size_t n;
    ev_rec e[MAX_EV];
} ev_log;

static int on_event(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    ev_log *l = user;
    if (l->n >= MAX_EV) {
        l->n++;
        return 0;
    }
    ev_rec *r = &l->e[l->n++];
    memset(r, 0, sizeof *r);
    r->kind = ev->kind;
    r->gateway_id = ev->gateway_id;
    assert_non_null(ev->frame);
    switch (ev->kind) {
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST:
        r->a = ev->u.receive_request.packet_number;
        break;
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE:
        r->a = ev->u.receive_response.response.packet_number;
        r->b = ev->u.receive_response.response.slot_counter;
        r->c = ev->u.receive_response.response.status;
        r->nbytes = ev->u.receive_response.response.packets_len;
        memcpy(r->bytes, ev->u.receive_response.response.packets, r->nbytes);
        break;
    case SW_TIGO_TRANSPORT_EVENT_PV_PACKET:
        r->a = ev->u.pv_packet.packet.type;
        r->b = ev->u.pv_packet.packet.node_id;
        r->c = ev->u.pv_packet.index;
        r->nbytes = ev->u.pv_packet.packet.data_len;
        memcpy(r->bytes, ev->u.pv_packet.packet.data, r->nbytes);
        break;
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_REQUEST:
        r->a = ev->u.command_request.request.packet_type;
        r->b = ev->u.command_request.request.sequence;
        r->c = ev->u.command_request.retransmitted;
        break;
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED:
        r->a = ev->u.command.request.packet_type;
        r->b = ev->u.command.response.packet_type;
        r->c = ev->u.command.response.sequence;
        r->nbytes = ev->u.command.request.data_len;
        memcpy(r->bytes, ev->u.command.request.data, r->nbytes);
        r->nbytes2 = ev->u.command.response.data_len;
        memcpy(r->bytes2, ev->u.command.response.data, r->nbytes2);
        break;
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_IDENTITY:
        r->nbytes = 8;
        memcpy(r->bytes, ev->u.identity.long_address, 8);
        r->a = ev->u.identity.gateway_address;
        break;
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_VERSION:
        r->nbytes = ev->u.version.len;
        memcpy(r->bytes, ev->u.version.text, r->nbytes);
        break;
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_STARTED:
        r->a = ev->u.enumeration_start.enumeration_address;
        break;
    case SW_TIGO_TRANSPORT_EVENT_STAR_REQUEST:
        r->a = ev->u.star_request.sequence;
        break;
    case SW_TIGO_TRANSPORT_EVENT_STAR_RESPONSE:
        r->a = ev->u.star_response.sequence;
        r->b = (uint32_t)ev->u.star_response.record_count;
        break;
    case SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME:
        r->a = ev->u.invalid.error;
        r->b = (uint32_t)ev->u.invalid.min_len;
        r->c = ev->frame->type;
        break;
    case SW_TIGO_TRANSPORT_EVENT_UNHANDLED_FRAME:
        r->a = ev->frame->type;
        break;
    default:
        break;
    }
    return 0;
}

typedef struct stack_run {
    ev_log log;
    sw_tigo_link_counters link;
    sw_tigo_transport_counters tc;
} stack_run;

static void run_stack(unsigned flags, const uint8_t *data, size_t n, const size_t *cuts, size_t ncuts,
                      stack_run *out)
{
    sw_tigo_stack *s = malloc(sizeof *s);
    memset(out, 0, sizeof *out);
    sw_tigo_stack_init(s, SW_TIGO_LINK_MODE_IMPROVED, flags, on_event, &out->log);
    size_t pos = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : n;
        sw_tigo_stack_push(s, data + pos, end - pos, NULL);
        pos = end;
    }
    out->link = s->link.counters;
    out->tc = s->transport.counters;
    free(s);
}

static void assert_same_run(const stack_run *a, const stack_run *b)
{
    assert_int_equal(a->log.n, b->log.n);
    for (size_t i = 0; i < a->log.n && i < MAX_EV; i++)
        assert_memory_equal(&a->log.e[i], &b->log.e[i], sizeof a->log.e[i]);
    assert_memory_equal(&a->link, &b->link, sizeof a->link);
    assert_memory_equal(&a->tc, &b->tc, sizeof a->tc);
}

/* One piece, byte by byte, every two-piece split: all identical. */
static void run_all_splits(unsigned flags, const uint8_t *data, size_t n, stack_run *out)
{
    stack_run *other = malloc(sizeof *other);
    run_stack(flags, data, n, NULL, 0, out);
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i;
    run_stack(flags, data, n, cuts, n, other);
    assert_same_run(out, other);
    for (size_t c = 0; c <= n; c++) {
        run_stack(flags, data, n, &c, 1, other);
        assert_same_run(out, other);
    }
    free(cuts);
    free(other);
}

/* Counter lookup by the reference's name. */
static uint64_t counter_by_name(const sw_tigo_transport_counters *c, const char *name)
{
#define C(field) if (strcmp(name, #field) == 0) return c->field;
    C(unhandled_frame_type) C(invalid_receive_request) C(receive_requests) C(invalid_receive_responses)
    C(receive_response_from_unknown_gateway) C(receive_responses) C(receive_packets) C(receive_packet_too_short)
    C(invalid_command_requests) C(retransmitted_command_requests) C(command_requests)
    C(invalid_command_responses) C(retransmitted_command_responses) C(command_responses) C(ping_requests)
    C(ping_responses) C(enumeration_start_requests) C(invalid_enumeration_start_request)
    C(enumeration_start_responses) C(enumeration_requests) C(enumeration_responses)
    C(invalid_enumeration_responses) C(version_requests) C(version_responses) C(invalid_version_responses)
    C(enumeration_end_requests) C(enumeration_end_responses) C(invalid_enumeration_end_responses)
    C(assign_gateway_id_requests) C(assign_gateway_id_responses) C(identify_requests) C(identify_responses)
    C(invalid_identify_responses)
#undef C
    fail_msg("unknown counter %s", name);
    return 0;
}
static const char *const reference_counters[] = {
    "unhandled_frame_type", "invalid_receive_request", "receive_requests", "invalid_receive_responses",
    "receive_response_from_unknown_gateway", "receive_responses", "receive_packets", "receive_packet_too_short",
    "invalid_command_requests", "retransmitted_command_requests", "command_requests", "invalid_command_responses",
    "retransmitted_command_responses", "command_responses", "ping_requests", "ping_responses",
    "enumeration_start_requests", "invalid_enumeration_start_request", "enumeration_start_responses",
    "enumeration_requests", "enumeration_responses", "invalid_enumeration_responses", "version_requests",
    "version_responses", "invalid_version_responses", "enumeration_end_requests", "enumeration_end_responses",
    "invalid_enumeration_end_responses", "assign_gateway_id_requests", "assign_gateway_id_responses",
    "identify_requests", "identify_responses", "invalid_identify_responses",
};

/* Every reference counter equals the expectation (absent = 0). */
static void assert_counters(const sw_tigo_transport_counters *c, json_t *expected)
{
    for (size_t i = 0; i < sizeof reference_counters / sizeof reference_counters[0]; i++) {
        json_t *v = json_object_get(expected, reference_counters[i]);
        uint64_t want = v ? (uint64_t)json_integer_value(v) : 0;
        if (counter_by_name(c, reference_counters[i]) != want)
            fail_msg("counter %s: got %llu want %llu", reference_counters[i],
                     (unsigned long long)counter_by_name(c, reference_counters[i]), (unsigned long long)want);
    }
}

/* ---- receive request / response decoding -------------------------------------------- */
static void test_receive_requests(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/transport_receive.json");
    size_t i;
    json_t *c;
    json_array_foreach(tu_get(root, "receive_requests"), i, c) {
        size_t n;
        uint8_t *p = tu_hex_member(c, "payload_hex", &n);
        sw_tigo_receive_request r;
        assert_int_equal(sw_tigo_receive_request_decode(p, n, &r), SW_OK);
        assert_int_equal(r.packet_number, tu_int(c, "packet_number"));
        size_t un;
        uint8_t *u = tu_hex_member(c, "unknown_1_hex", &un);
        assert_memory_equal(r.unknown_1, u, 2);
        free(u);
        assert_int_equal(r.unknown_2, hexnum(c, "unknown_2_hex"));
        for (size_t k = 0; k < n; k++)
            assert_int_equal(sw_tigo_receive_request_decode(p, k, &r), SW_ERR_TRUNCATED);
        assert_int_equal(sw_tigo_receive_request_decode(p, n + 0, &r), SW_OK);
        free(p);
    }
    json_decref(root);
}

/* Length a status word needs, from the field table (written independently of the decoder). */
static size_t need_for(uint16_t status)
{
    size_t need = 5;
    if (!(status & 1)) need += 1;
    if (!(status & 2)) need += 1;
    if (!(status & 4)) need += 2;
    if (!(status & 8)) need += 2;
    if (!(status & 16)) need += 1;
    return need;
}

static void check_fields(const sw_tigo_receive_response *r, json_t *f)
{
    json_t *v;
    assert_int_equal(r->status, hexnum(f, "status_type"));
    v = tu_get(f, "rx_buffers_used");
    assert_int_equal(r->has_rx_buffers_used, !json_is_null(v));
    if (!json_is_null(v))
        assert_int_equal(r->rx_buffers_used, json_integer_value(v));
    v = tu_get(f, "tx_buffers_free");
    assert_int_equal(r->has_tx_buffers_free, !json_is_null(v));
    if (!json_is_null(v))
        assert_int_equal(r->tx_buffers_free, json_integer_value(v));
    v = tu_get(f, "unknown_a_hex");
    assert_int_equal(r->has_unknown_a, !json_is_null(v));
    if (!json_is_null(v))
        assert_int_equal(sw_be16(r->unknown_a), strtol(json_string_value(v), NULL, 16));
    v = tu_get(f, "unknown_b_hex");
    assert_int_equal(r->has_unknown_b, !json_is_null(v));
    if (!json_is_null(v))
        assert_int_equal(sw_be16(r->unknown_b), strtol(json_string_value(v), NULL, 16));
    assert_int_equal(r->packet_number, tu_int(f, "packet_number"));
    assert_int_equal(r->slot_counter, tu_int(f, "slot_counter"));
    size_t pn;
    uint8_t *pk = tu_hex_member(f, "packets_region_hex", &pn);
    assert_int_equal(r->packets_len, pn);
    assert_memory_equal(r->packets, pk, pn);
    free(pk);
}

static void test_receive_responses(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/transport_receive.json");
    size_t i;
    json_t *c;
    int n_ok = 0, n_err = 0;
    json_array_foreach(tu_get(root, "receive_responses"), i, c) {
        size_t n, min_len;
        uint8_t *p = tu_hex_member(c, "payload_hex", &n);
        uint16_t ref = (uint16_t)tu_int(c, "reference_packet_number");
        json_t *exp = tu_get(c, "expected");
        sw_tigo_receive_response r;
        sw_err strict = sw_tigo_receive_response_decode(p, n, ref, SW_TIGO_STATUS_STRICT, &r, &min_len);
        if (json_is_true(tu_get(exp, "ok"))) {
            assert_int_equal(strict, SW_OK);
            check_fields(&r, tu_get(exp, "fields"));
            /* Legacy status words decode the same way in tolerant mode. */
            assert_int_equal(sw_tigo_receive_response_decode(p, n, ref, SW_TIGO_STATUS_TOLERANT, &r, NULL), SW_OK);
            check_fields(&r, tu_get(exp, "fields"));
            n_ok++;
        } else if (strcmp(tu_str(exp, "error"), "TooShort") == 0) {
            assert_int_equal(strict, SW_ERR_TRUNCATED);
            assert_int_equal(min_len, tu_int(exp, "reported_min_length"));
            assert_int_equal(sw_tigo_receive_response_decode(p, n, ref, SW_TIGO_STATUS_TOLERANT, &r, &min_len),
                             SW_ERR_TRUNCATED);
            assert_int_equal(min_len, tu_int(exp, "reported_min_length"));
            n_err++;
        } else {
            assert_string_equal(tu_str(exp, "error"), "UnknownStatusType");
            assert_int_equal(strict, SW_ERR_TIGO_UNKNOWN_STATUS);
            /* Tolerant mode goes by the low five bits: these payloads are then just too short. */
            uint16_t status = (uint16_t)hexnum(exp, "status_type");
            assert_int_equal(sw_tigo_receive_response_decode(p, n, ref, SW_TIGO_STATUS_TOLERANT, &r, &min_len),
                             SW_ERR_TRUNCATED);
            assert_int_equal(min_len, need_for(status));
            n_err++;
        }
        free(p);
    }
    assert_true(n_ok >= 5 && n_err >= 8);
    json_decref(root);
}

/* Every status word and every length: the decoder agrees with the field table. */
static void test_receive_response_exhaustive(void **state)
{
    (void)state;
    uint8_t p[16];
    for (size_t i = 0; i < sizeof p; i++)
        p[i] = (uint8_t)(0x10 + i);
    for (unsigned status = 0; status < 0x10000; status += (status < 0x200 ? 1 : 0xFF)) {
        sw_put_be16(p, (uint16_t)status);
        size_t need = need_for((uint16_t)status);
        for (size_t n = 0; n <= sizeof p; n++) {
            sw_tigo_receive_response r;
            size_t min_len;
            sw_err e = sw_tigo_receive_response_decode(p, n, 0x4000, SW_TIGO_STATUS_TOLERANT, &r, &min_len);
            if (n < 2) {
                assert_int_equal(e, SW_ERR_TRUNCATED);
                assert_int_equal(min_len, 5);
            } else if (n < need) {
                assert_int_equal(e, SW_ERR_TRUNCATED);
                assert_int_equal(min_len, need);
            } else {
                assert_int_equal(e, SW_OK);
                assert_int_equal(r.packets_len, n - need);
                assert_int_equal(r.status_high, status >> 8);
                assert_int_equal(r.slot_counter, sw_be16(p + need - 2));
            }
            e = sw_tigo_receive_response_decode(p, n, 0x4000, SW_TIGO_STATUS_STRICT, &r, &min_len);
            if (n >= 2 && (status & 0xFFE0) != 0x00E0)
                assert_int_equal(e, SW_ERR_TIGO_UNKNOWN_STATUS);
        }
    }
}

static void test_command_decode(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/transport_commands.json");
    json_t *d = tu_get(root, "decode");
    json_t *q = tu_get(d, "command_request"), *s = tu_get(d, "command_response");
    size_t n, dn;
    uint8_t *p = tu_hex_member(q, "payload_hex", &n);
    sw_tigo_command_request req;
    assert_int_equal(sw_tigo_command_request_decode(p, n, &req), SW_OK);
    assert_int_equal(req.packet_type, tu_int(q, "packet_type"));
    assert_int_equal(req.sequence, tu_int(q, "sequence_number"));
    uint8_t *want = tu_hex_member(q, "command_data_hex", &dn);
    assert_int_equal(req.data_len, dn);
    assert_memory_equal(req.data, want, dn);
    free(want);
    /* The data is a string request: node ID + text. */
    sw_tigo_string_request sr;
    assert_int_equal(sw_tigo_string_request_decode(req.data, req.data_len, &sr), SW_OK);
    json_t *dec = tu_get(q, "command_data_decoded");
    assert_int_equal(sr.node_id, tu_int(dec, "pv_node_id"));
    assert_int_equal(sr.text_len, strlen(tu_str(dec, "text")));
    assert_memory_equal(sr.text, tu_str(dec, "text"), sr.text_len);
    assert_string_equal(sw_tigo_packet_type_name(req.packet_type), tu_str(q, "packet_type_name"));
    for (size_t k = 0; k < 5; k++)
        assert_int_equal(sw_tigo_command_request_decode(p, k, &req), SW_ERR_TRUNCATED);
    free(p);

    p = tu_hex_member(s, "payload_hex", &n);
    sw_tigo_command_response resp;
    assert_int_equal(sw_tigo_command_response_decode(p, n, &resp), SW_OK);
    assert_int_equal(resp.tx_buffers_free, tu_int(s, "tx_buffers_free"));
    assert_int_equal(resp.unknown_1, hexnum(s, "unknown_1_hex"));
    assert_int_equal(resp.unknown_2, hexnum(s, "unknown_2_hex"));
    assert_int_equal(resp.packet_type, tu_int(s, "packet_type"));
    assert_int_equal(resp.sequence, tu_int(s, "sequence_number"));
    assert_int_equal(resp.data_len, 0);
    free(p);
    json_decref(root);
}

static uint8_t *concat_frames(json_t *arr, size_t *n_out)
{
    size_t n = 0, i;
    json_t *h;
    uint8_t *buf = malloc(8192);
    json_array_foreach(arr, i, h) {
        size_t pn;
        uint8_t *p = tu_hex(json_string_value(h), &pn);
        assert_true(n + pn <= 8192);
        memcpy(buf + n, p, pn);
        n += pn;
        free(p);
    }
    *n_out = n;
    return buf;
}

static void test_correlation_scenarios(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/transport_commands.json");
    size_t i;
    json_t *c;
    json_array_foreach(tu_get(root, "correlation_scenarios"), i, c) {
        size_t n;
        uint8_t *bus = concat_frames(tu_get(c, "frames_hex"), &n);
        stack_run *r = malloc(sizeof *r);
        run_all_splits(0, bus, n, r);
        assert_int_equal(r->link.frames, json_array_size(tu_get(c, "frames_hex")));
        assert_counters(&r->tc, tu_get(c, "expected_counters"));
        size_t j, k = 0;
        json_t *exp;
        json_array_foreach(tu_get(c, "expected_events"), j, exp) {
            assert_string_equal(tu_str(exp, "event"), "command_executed");
            while (k < r->log.n && r->log.e[k].kind != SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED)
                k++;
            assert_true(k < r->log.n);
            ev_rec *e = &r->log.e[k++];
            assert_int_equal(e->gateway_id, tu_int(exp, "gateway_id"));
            assert_int_equal(e->a, tu_int(exp, "request_packet_type"));
            assert_int_equal(e->b, tu_int(exp, "response_packet_type"));
            size_t dn;
            uint8_t *d = tu_hex_member(exp, "request_data_hex", &dn);
            assert_int_equal(e->nbytes, dn);
            assert_memory_equal(e->bytes, d, dn);
            free(d);
            d = tu_hex_member(exp, "response_data_hex", &dn);
            assert_int_equal(e->nbytes2, dn);
            free(d);
        }
        /* No further executions than expected. */
        for (; k < r->log.n; k++)
            assert_int_not_equal(r->log.e[k].kind, SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED);
        free(r);
        free(bus);
    }
    json_decref(root);
}

static void test_enumeration_sequence(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/enumeration_sequence.json");
    size_t n;
    uint8_t *bus = tu_hex_member(root, "bus_hex", &n);
    assert_int_equal(n, tu_int(root, "bus_length"));
    stack_run *r = malloc(sizeof *r);
    run_all_splits(0, bus, n, r);
    json_t *lc = tu_get(root, "expected_link_counters");
    assert_int_equal(r->link.frames, tu_int(lc, "frames"));
    assert_int_equal(r->link.runts, tu_int(lc, "runts"));
    assert_int_equal(r->link.giants, tu_int(lc, "giants"));
    assert_int_equal(r->link.checksums, tu_int(lc, "checksums"));
    assert_int_equal(r->link.noise, tu_int(lc, "noise"));
    assert_counters(&r->tc, tu_get(root, "expected_transport_counters"));

    /* The events the reference reports, in order. */
    size_t j, k = 0;
    json_t *exp;
    json_array_foreach(tu_get(root, "expected_transport_events"), j, exp) {
        const char *name = tu_str(exp, "event");
        while (k < r->log.n) {
            sw_tigo_transport_event_kind kd = r->log.e[k].kind;
            if (kd == SW_TIGO_TRANSPORT_EVENT_ENUMERATION_STARTED || kd == SW_TIGO_TRANSPORT_EVENT_GATEWAY_IDENTITY ||
                kd == SW_TIGO_TRANSPORT_EVENT_GATEWAY_VERSION || kd == SW_TIGO_TRANSPORT_EVENT_ENUMERATION_ENDED)
                break;
            k++;
        }
        assert_true(k < r->log.n);
        ev_rec *e = &r->log.e[k++];
        assert_string_equal(sw_tigo_transport_event_kind_name(e->kind), name);
        assert_int_equal(e->gateway_id, tu_int(exp, "gateway_id"));
        if (json_object_get(exp, "long_address_hex")) {
            size_t an;
            uint8_t *a = tu_hex_member(exp, "long_address_hex", &an);
            assert_memory_equal(e->bytes, a, 8);
            free(a);
        }
        if (json_object_get(exp, "version")) {
            const char *v = tu_str(exp, "version");
            assert_int_equal(e->nbytes, strlen(v));
            assert_memory_equal(e->bytes, v, e->nbytes);
        }
    }
    /* Two unhandled frames: 0x0010 and 0x0011. */
    int unhandled = 0;
    for (k = 0; k < r->log.n; k++)
        if (r->log.e[k].kind == SW_TIGO_TRANSPORT_EVENT_UNHANDLED_FRAME) {
            assert_true(r->log.e[k].a == 0x0010 || r->log.e[k].a == 0x0011);
            unhandled++;
        }
    assert_int_equal(unhandled, 2);
    free(r);
    free(bus);
    json_decref(root);
}

/* ---- synthetic frames built with the encoder ------------------------------------------ */
typedef struct bus {
    uint8_t b[16384];
    size_t n;
} bus;

static void put(bus *s, uint16_t addr, uint16_t type, const uint8_t *p, size_t n)
{
    size_t on;
    assert_int_equal(sw_tigo_link_encode(addr, type, p, n, 0, s->b + s->n, sizeof s->b - s->n, &on), SW_OK);
    s->n += on;
}

static void put_rx_request(bus *s, uint16_t gw, uint16_t pn)
{
    uint8_t p[5] = { 0x00, 0x01, (uint8_t)(pn >> 8), (uint8_t)pn, 0x04 };
    put(s, gw, SW_TIGO_FT_RECEIVE_REQUEST, p, 5);
}

/* The stack holds no pointer to itself: copied to another address at every
 * cut (the old copy poisoned and freed), it gives the events of one stack. */
static void stack_moved(const uint8_t *data, size_t n)
{
    stack_run *whole = malloc(sizeof *whole), *moved = calloc(1, sizeof *moved);
    run_stack(0, data, n, NULL, 0, whole);
    sw_tigo_stack *s = malloc(sizeof *s);
    sw_tigo_stack_init(s, SW_TIGO_LINK_MODE_IMPROVED, 0, on_event, &moved->log);
    for (size_t pos = 0; pos < n; pos += 7) {
        size_t k = n - pos < 7 ? n - pos : 7;
        sw_tigo_stack *t = malloc(sizeof *t);
        memcpy(t, s, sizeof *s);
        memset(s, 0xA5, sizeof *s);
        free(s);
        s = t;
        assert_int_equal(sw_tigo_stack_push(s, data + pos, k, NULL), 0);
    }
    moved->link = s->link.counters;
    moved->tc = s->transport.counters;
    assert_true(moved->log.n > 0);
    assert_same_run(whole, moved);
    free(s);
    free(whole);
    free(moved);
}

/* An event callback that returns non-zero stops the push: the remaining PV
 * packets of that response are not delivered, and the push returns the value. */
static int stop_at_packet(sw_tigo_transport *t, const sw_tigo_transport_event *ev, void *user)
{
    unsigned *n = user;
    assert_non_null(t);
    (*n)++;
    return ev->kind == SW_TIGO_TRANSPORT_EVENT_PV_PACKET ? 42 : 0;
}

static void stop_on_packet(const uint8_t *data, size_t n)
{
    unsigned events = 0;
    sw_tigo_stack st;
    sw_tigo_stack_init(&st, SW_TIGO_LINK_MODE_IMPROVED, 0, stop_at_packet, &events);
    size_t used = 0;
    assert_int_equal(sw_tigo_stack_push(&st, data, n, &used), 42);
    assert_true(used < n);
    assert_int_equal(events, 4); /* invalid, request, response, first packet */
    assert_int_equal(st.transport.counters.receive_responses, 1);
    events = 0;
    assert_int_equal(sw_tigo_stack_push(&st, data + used, n - used, &used), 0);
    assert_int_equal(events, 4); /* invalid x3, response */
}

static void test_receive_flow(void **state)
{
    (void)state;
    bus *s = calloc(1, sizeof *s);
    /* Response before any request: dropped (the reference needs a packet number first). */
    uint8_t r1[] = { 0x00, 0xFF, 0x10, 0x21, 0x1B };
    put(s, 0x9201, SW_TIGO_FT_RECEIVE_RESPONSE, r1, sizeof r1);
    put_rx_request(s, 0x1201, 0x40F0);
    /* 00FF with low byte 0x10 < 0xF0: high byte steps to 0x41. One power report + a truncated packet. */
    uint8_t r2[] = { 0x81, 0xFF, 0x10, 0x21, 0x1B,
                     0x31, 0x00, 0x74, 0x01, 0x14, 0x63, 0x0D, 0x2B, 0x61, 0x58, 0xFF, 0x03, 0x21, 0x58, 0x81,
                     0x00, 0x6E, 0x8F, 0xA0, 0x7E,
                     0x07, 0x00, 0x0A, 0x01 };
    put(s, 0x9201, SW_TIGO_FT_RECEIVE_RESPONSE, r2, sizeof r2);
    /* Wrong direction and wrong length requests. */
    put_rx_request(s, 0x9201, 1);
    uint8_t shortreq[4] = { 0 };
    put(s, 0x1201, SW_TIGO_FT_RECEIVE_REQUEST, shortreq, 4);
    /* Response from a request-less gateway 0x1202 while 0x1201 is known. */
    put(s, 0x9202, SW_TIGO_FT_RECEIVE_RESPONSE, r1, sizeof r1);
    /* H-series status 0x011E: rx used + low pn byte. */
    uint8_t r3[] = { 0x01, 0x1E, 0x02, 0x11, 0x21, 0x20 };
    put(s, 0x9201, SW_TIGO_FT_RECEIVE_RESPONSE, r3, sizeof r3);

    stack_run *r = malloc(sizeof *r);
    run_all_splits(0, s->b, s->n, r);
    assert_int_equal(r->tc.receive_response_from_unknown_gateway, 2);
    assert_int_equal(r->tc.receive_requests, 1);
    assert_int_equal(r->tc.invalid_receive_request, 2);
    assert_int_equal(r->tc.receive_responses, 2);
    assert_int_equal(r->tc.receive_packets, 1);
    assert_int_equal(r->tc.receive_packet_too_short, 1);
    assert_int_equal(r->tc.status_high_byte_nonzero, 2);
    assert_int_equal(r->tc.last_status_high_byte, 0x01);
    assert_int_equal(r->tc.status_low_bits_clear, 1);
    /* Event order: invalid, request, response, packet, invalid x3, response. */
    static const sw_tigo_transport_event_kind order[] = {
        SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME, SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST, SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE, SW_TIGO_TRANSPORT_EVENT_PV_PACKET,
        SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME, SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME,   SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME,    SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE,
    };
    assert_int_equal(r->log.n, sizeof order / sizeof order[0]);
    for (size_t i = 0; i < r->log.n; i++)
        assert_int_equal(r->log.e[i].kind, order[i]);
    assert_int_equal(r->log.e[0].a, SW_ERR_TIGO_NO_REFERENCE);
    assert_int_equal(r->log.e[2].a, 0x4110);
    assert_int_equal(r->log.e[2].b, 0x211B);
    assert_int_equal(r->log.e[3].a, 0x31);
    assert_int_equal(r->log.e[3].b, 0x74);
    assert_int_equal(r->log.e[3].nbytes, 13);
    assert_int_equal(r->log.e[4].a, SW_ERR_TIGO_WRONG_DIRECTION);
    assert_int_equal(r->log.e[5].a, SW_ERR_TRUNCATED);
    assert_int_equal(r->log.e[6].a, SW_ERR_TIGO_NO_REFERENCE);
    assert_int_equal(r->log.e[7].a, 0x4111); /* 0x11 >= 0x10: same high byte */

    /* Strict (reference) status check refuses both firmware-4 responses. */
    run_stack(SW_TIGO_TRANSPORT_STRICT_STATUS, s->b, s->n, NULL, 0, r);
    assert_int_equal(r->tc.receive_responses, 0);
    assert_int_equal(r->tc.invalid_receive_responses, 2);
    assert_int_equal(r->tc.receive_packets, 0);

    /* Packet events can be switched off; counting stays. */
    run_stack(SW_TIGO_TRANSPORT_NO_PACKET_EVENTS, s->b, s->n, NULL, 0, r);
    assert_int_equal(r->tc.receive_packets, 1);
    for (size_t i = 0; i < r->log.n; i++)
        assert_int_not_equal(r->log.e[i].kind, SW_TIGO_TRANSPORT_EVENT_PV_PACKET);
    /* ... and back on through the API, from the next frame. */
    {
        sw_tigo_transport t;
        sw_tigo_transport_init(&t, SW_TIGO_TRANSPORT_NO_PACKET_EVENTS, NULL, NULL);
        assert_false(sw_tigo_transport_packet_events(&t));
        sw_tigo_transport_set_packet_events(&t, true);
        assert_true(sw_tigo_transport_packet_events(&t));
        assert_int_equal(t.flags & SW_TIGO_TRANSPORT_NO_PACKET_EVENTS, 0);
        sw_tigo_transport_set_packet_events(&t, false);
        assert_false(sw_tigo_transport_packet_events(&t));
    }
    stack_moved(s->b, s->n);
    stop_on_packet(s->b, s->n);
    free(r);
    free(s);
}

static void test_command_flow_and_eviction(void **state)
{
    (void)state;
    bus *s = calloc(1, sizeof *s);
    /* Fill the pending table past capacity: requests 1..N+4 to one gateway, none answered. */
    const unsigned extra = 4;
    for (unsigned q = 1; q <= SW_TIGO_MAX_PENDING_COMMANDS + extra; q++) {
        uint8_t p[7] = { 0, 0, 0, 0x26, (uint8_t)q, 0x00, (uint8_t)q };
        put(s, 0x1201, SW_TIGO_FT_COMMAND_REQUEST, p, sizeof p);
    }
    /* The oldest ones were evicted: answering 1 finds nothing, the newest is found. */
    uint8_t a1[5] = { 0, 0x0D, 0, 0x27, 1 };
    put(s, 0x9201, SW_TIGO_FT_COMMAND_RESPONSE, a1, sizeof a1);
    uint8_t last = (uint8_t)(SW_TIGO_MAX_PENDING_COMMANDS + extra);
    uint8_t a2[9] = { 0, 0x0D, 0, 0x27, last, 0x00, 0x02, 0x00, 0x00 };
    put(s, 0x9201, SW_TIGO_FT_COMMAND_RESPONSE, a2, sizeof a2);
    /* Same sequence to a different gateway is a separate key. */
    put(s, 0x9202, SW_TIGO_FT_COMMAND_RESPONSE, a2, sizeof a2);
    /* Wrong directions. */
    put(s, 0x1201, SW_TIGO_FT_COMMAND_RESPONSE, a2, sizeof a2);
    put(s, 0x9201, SW_TIGO_FT_COMMAND_REQUEST, a2, sizeof a2);

    stack_run *r = malloc(sizeof *r);
    run_stack(0, s->b, s->n, NULL, 0, r);
    assert_int_equal(r->tc.command_requests, SW_TIGO_MAX_PENDING_COMMANDS + extra);
    assert_int_equal(r->tc.pending_commands_evicted, extra);
    assert_int_equal(r->tc.retransmitted_command_responses, 2);
    assert_int_equal(r->tc.command_responses, 1);
    assert_int_equal(r->tc.invalid_command_responses, 1);
    assert_int_equal(r->tc.invalid_command_requests, 1);
    size_t found = 0;
    for (size_t i = 0; i < r->log.n; i++) {
        if (r->log.e[i].kind != SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED)
            continue;
        found++;
        assert_int_equal(r->log.e[i].a, 0x26);
        assert_int_equal(r->log.e[i].b, 0x27);
        assert_int_equal(r->log.e[i].nbytes, 2);
        assert_int_equal(r->log.e[i].bytes[1], last);
        assert_int_equal(r->log.e[i].nbytes2, 4);
    }
    assert_int_equal(found, 1);
    free(r);
    free(s);
}

static void test_gateway_table_bounded(void **state)
{
    (void)state;
    bus *s = calloc(1, sizeof *s);
    for (unsigned g = 0; g < SW_TIGO_MAX_GATEWAYS + 10; g++)
        put_rx_request(s, (uint16_t)(0x1000 + g), (uint16_t)g);
    /* The most recent gateway still answers, the first one was evicted. */
    uint8_t r1[] = { 0x00, 0xFF, 0x00, 0x21, 0x1B };
    put(s, (uint16_t)(0x8000 | (0x1000 + SW_TIGO_MAX_GATEWAYS + 9)), SW_TIGO_FT_RECEIVE_RESPONSE, r1, sizeof r1);
    put(s, 0x9000, SW_TIGO_FT_RECEIVE_RESPONSE, r1, sizeof r1);
    stack_run *r = malloc(sizeof *r);
    run_stack(0, s->b, s->n, NULL, 0, r);
    assert_int_equal(r->tc.gateways_evicted, 10);
    assert_int_equal(r->tc.receive_responses, 1);
    assert_int_equal(r->tc.receive_response_from_unknown_gateway, 1);
    free(r);
    free(s);
}

static void test_other_frame_types(void **state)
{
    (void)state;
    bus *s = calloc(1, sizeof *s);
    uint8_t none[1];
    uint8_t enum_bad_addr[6] = { 0x37, 0x24, 0x92, 0x66, 0x92, 0x35 };
    put(s, 0x0000, SW_TIGO_FT_ENUMERATION_START_REQUEST, enum_bad_addr, 6); /* bit 15 set: invalid */
    put(s, 0x1201, SW_TIGO_FT_ENUMERATION_START_REQUEST, enum_bad_addr, 6); /* not broadcast: invalid */
    put(s, 0x9201, SW_TIGO_FT_IDENTIFY_RESPONSE, none, 0);                   /* too short */
    put(s, 0x1201, SW_TIGO_FT_ENUMERATION_RESPONSE, enum_bad_addr, 6);      /* wrong direction */
    uint8_t bad_utf8[2] = { 0xC3, 0x28 };
    put(s, 0x9201, SW_TIGO_FT_VERSION_RESPONSE, bad_utf8, 2);
    put(s, 0x9201, SW_TIGO_FT_VERSION_RESPONSE, none, 0);
    put(s, 0x1201, SW_TIGO_FT_ENUMERATION_END_RESPONSE, none, 0);
    uint8_t star_req[8] = { 0x00, 0x40, 0x00, 0x01, 0x2E, 0xBC, 0x00, 0x01 };
    put(s, 0x1201, SW_TIGO_FT_STAR_REQUEST, star_req, 8);
    put(s, 0x1201, SW_TIGO_FT_STAR_REQUEST, star_req, 7);
    uint8_t star_resp[30] = { 0x82, 0x00, 0x58, 0x89, 0x58, 0x89, 0x00, 0x01, 0x2E, 0xBC };
    put(s, 0x9201, SW_TIGO_FT_STAR_RESPONSE, star_resp, 30);
    put(s, 0x9201, SW_TIGO_FT_STAR_RESPONSE, star_resp, 29);
    put(s, 0x1201, 0x1234, none, 0);

    stack_run *r = malloc(sizeof *r);
    run_all_splits(0, s->b, s->n, r);
    assert_int_equal(r->tc.invalid_enumeration_start_request, 2);
    assert_int_equal(r->tc.invalid_identify_responses, 1);
    assert_int_equal(r->tc.invalid_enumeration_responses, 1);
    assert_int_equal(r->tc.invalid_version_responses, 2);
    assert_int_equal(r->tc.invalid_enumeration_end_responses, 1);
    assert_int_equal(r->tc.star_requests, 1);
    assert_int_equal(r->tc.star_responses, 1);
    assert_int_equal(r->tc.invalid_star_frames, 2);
    assert_int_equal(r->tc.unhandled_frame_type, 1);
    assert_int_equal(r->tc.last_unhandled_frame_type, 0x1234);
    int star_seen = 0;
    for (size_t i = 0; i < r->log.n; i++) {
        if (r->log.e[i].kind == SW_TIGO_TRANSPORT_EVENT_STAR_REQUEST || r->log.e[i].kind == SW_TIGO_TRANSPORT_EVENT_STAR_RESPONSE) {
            assert_int_equal(r->log.e[i].a, 0x2EBC);
            star_seen++;
        }
        if (r->log.e[i].kind == SW_TIGO_TRANSPORT_EVENT_STAR_RESPONSE)
            assert_int_equal(r->log.e[i].b, 1);
    }
    assert_int_equal(star_seen, 2);
    free(r);
    free(s);
}

/* Random valid frames of every type and random payloads: counters add up, no crash. */
static void test_random_frames(void **state)
{
    (void)state;
    static const uint16_t types[] = { 0x0148, 0x0149, 0x0B0F, 0x0B10, 0x0B00, 0x0B01, 0x0014, 0x0015, 0x0038,
                                      0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x000A, 0x000B, 0x0E02, 0x0006,
                                      0x0042, 0x0043, 0x0010, 0x7777 };
    uint32_t x = 99;
    sw_tigo_transport *t = malloc(sizeof *t);
    ev_log *log = malloc(sizeof *log);
    for (int strict = 0; strict < 2; strict++) {
        memset(log, 0, sizeof *log);
        sw_tigo_transport_init(t, strict ? SW_TIGO_TRANSPORT_STRICT_STATUS : 0, on_event, log);
        uint8_t payload[SW_TIGO_LINK_MAX_PAYLOAD];
        for (int k = 0; k < 20000; k++) {
            x = x * 1103515245u + 12345u;
            sw_tigo_frame f;
            f.type = types[(x >> 8) % (sizeof types / sizeof types[0])];
            f.address = (uint16_t)(((x >> 4) & 1 ? 0x8000 : 0) | (0x1200 + ((x >> 20) & 3)));
            f.payload_len = (x >> 12) % 40;
            for (size_t i = 0; i < f.payload_len; i++) {
                x = x * 1103515245u + 12345u;
                payload[i] = (uint8_t)(x >> 16);
            }
            f.payload = payload;
            log->n = 0;
            sw_tigo_transport_push(t, &f);
            assert_true(log->n >= 1); /* every frame yields at least one event */
        }
    }
    free(log);
    free(t);
}

static void test_event_kind_names(void **state)
{
    (void)state;
    /* Every kind has its own name (logs and tests rely on them). */
    for (int a = SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST; a <= SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME; a++) {
        const char *na = sw_tigo_transport_event_kind_name((sw_tigo_transport_event_kind)a);
        assert_string_not_equal(na, "unknown");
        for (int b = a + 1; b <= SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME; b++)
            assert_string_not_equal(na, sw_tigo_transport_event_kind_name((sw_tigo_transport_event_kind)b));
    }
    assert_string_equal(sw_tigo_transport_event_kind_name((sw_tigo_transport_event_kind)0), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receive_requests),
        cmocka_unit_test(test_receive_responses),
        cmocka_unit_test(test_receive_response_exhaustive),
        cmocka_unit_test(test_command_decode),
        cmocka_unit_test(test_correlation_scenarios),
        cmocka_unit_test(test_enumeration_sequence),
        cmocka_unit_test(test_receive_flow),
        cmocka_unit_test(test_command_flow_and_eviction),
        cmocka_unit_test(test_gateway_table_bounded),
        cmocka_unit_test(test_other_frame_types),
        cmocka_unit_test(test_random_frames),
        cmocka_unit_test(test_event_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
