/*
 * Output formats: the number and timestamp caches against the core
 * formatters, observe lines from the vectors, buffer limits, and the
 * peek-frames / peek-activity lines (sunwire's own design, checked against
 * values taken independently from the vectors).
 */
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_format.h"
#include "testutil.h"

static sw_tigo_format *fmt_new(int32_t off)
{
    sw_tigo_format *f = malloc(sizeof *f);
    assert_non_null(f);
    memset(f, 0xA5, sizeof *f); /* init must not rely on zeroed memory */
    sw_tigo_format_init(f, off);
    return f;
}

static void expect_text(const sw_tigo_num_text *t, double v)
{
    char want[SW_DOUBLE_TEXT_MAX];
    size_t n = sw_fmt_double(want, v);
    if (t->len != n || memcmp(t->s, want, n) != 0)
        fail_msg("cache \"%.*s\" != \"%s\"", t->len, t->s, want);
}

/* Every cached text equals the shortest round-trip text of the IEEE division. */
static void test_number_cache_all_values(void **state)
{
    (void)state;
    sw_tigo_format *f = fmt_new(0);
    for (int raw = 0; raw < 4096; raw++) {
        expect_text(sw_tigo_format_num(f, SW_TIGO_NUM_VOLTAGE_IN, (unsigned)raw), raw / 20.0);
        expect_text(sw_tigo_format_num(f, SW_TIGO_NUM_VOLTAGE_OUT, (unsigned)raw), raw / 10.0);
        expect_text(sw_tigo_format_num(f, SW_TIGO_NUM_CURRENT, (unsigned)raw), raw / 200.0);
        expect_text(sw_tigo_format_num(f, SW_TIGO_NUM_TEMPERATURE, (unsigned)raw), (raw >= 2048 ? raw - 4096 : raw) / 10.0);
    }
    for (int raw = 0; raw < 256; raw++) {
        char want[SW_DOUBLE_TEXT_MAX];
        size_t n = sw_fmt_double(want, raw / 255.0);
        const char *got = sw_tigo_format_duty(f, (unsigned)raw);
        assert_int_equal(f->duty_len[raw], n);
        assert_memory_equal(got, want, n);
    }
    /* Second lookups come from the cache and are the same text. */
    for (int raw = 0; raw < 4096; raw += 37)
        expect_text(sw_tigo_format_num(f, SW_TIGO_NUM_CURRENT, (unsigned)raw), raw / 200.0);
    free(f);
}

/* ... and equals the reference's text recorded in power_reports.json. */
static void test_number_cache_vectors(void **state)
{
    (void)state;
    sw_tigo_format *f = fmt_new(0);
    json_t *root = tu_load_json("tigo/power_reports.json");
    size_t i;
    json_t *c;
    int checked = 0;
    json_array_foreach(tu_get(root, "cases"), i, c) {
        json_t *raw = json_object_get(c, "raw");
        json_t *txt = json_object_get(c, "json_number_text");
        if (!raw || !txt)
            continue;
        const struct {
            const char *key;
            const sw_tigo_num_text *t;
        } fields[] = {
            { "voltage_in", sw_tigo_format_num(f, SW_TIGO_NUM_VOLTAGE_IN, (unsigned)tu_int(raw, "voltage_in")) },
            { "voltage_out", sw_tigo_format_num(f, SW_TIGO_NUM_VOLTAGE_OUT, (unsigned)tu_int(raw, "voltage_out")) },
            { "current", sw_tigo_format_num(f, SW_TIGO_NUM_CURRENT, (unsigned)tu_int(raw, "current")) },
            { "temperature", sw_tigo_format_num(f, SW_TIGO_NUM_TEMPERATURE, (unsigned)tu_int(raw, "temperature_u12")) },
        };
        for (size_t k = 0; k < 4; k++) {
            const char *want = tu_str(txt, fields[k].key);
            assert_int_equal(fields[k].t->len, strlen(want));
            assert_memory_equal(fields[k].t->s, want, strlen(want));
            checked++;
        }
        long long d = tu_int(raw, "dc_dc_duty_cycle");
        const char *duty = sw_tigo_format_duty(f, (unsigned)d);
        assert_int_equal(f->duty_len[d], strlen(tu_str(txt, "dc_dc_duty_cycle")));
        assert_memory_equal(duty, tu_str(txt, "dc_dc_duty_cycle"), f->duty_len[d]);
    }
    assert_true(checked >= 20);
    json_decref(root);
    free(f);
}

/* The cached timestamp path agrees with sw_fmt_rfc3339 across seconds, zones and fractions. */
static void test_timestamp_cache(void **state)
{
    (void)state;
    sw_tigo_format *f = fmt_new(0);
    static const int32_t offsets[] = { 0, -5 * 3600, 19800, 3600, -12 * 3600 - 45 * 60 };
    uint64_t x = 88172645463325252ull;
    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
        f->utc_offset_s = offsets[o];
        int64_t t = 1724508994186961123LL;
        for (int k = 0; k < 5000; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            switch (k % 5) {
            case 0: t += (int64_t)(x % 3000000000ull); break;      /* any fraction */
            case 1: t = t / 1000000000 * 1000000000; break;       /* whole second */
            case 2: t = t / 1000000 * 1000000 + 1000000; break;   /* milliseconds */
            case 3: t = t / 1000 * 1000 + 1000; break;            /* microseconds */
            default: t = -t / 7; break;                           /* before 1970 */
            }
            char a[40], b[SW_RFC3339_MAX];
            size_t na = sw_tigo_format_timestamp(f, t, a);
            size_t nb = sw_fmt_rfc3339(b, t, offsets[o]);
            assert_int_equal(na, nb);
            assert_string_equal(a, b);
        }
    }
    free(f);
}

/* A power event from a 13-byte report of power_reports.json. */
static void make_event(json_t *c, sw_tigo_power_report *r, sw_tigo_power_event *ev)
{
    size_t n;
    uint8_t *d = tu_hex_member(c, "data_hex", &n);
    assert_int_equal(sw_tigo_power_report_decode(d, n, r), SW_OK);
    free(d);
    memset(ev, 0, sizeof *ev);
    ev->gateway = 4609;
    ev->node = 116;
    ev->timestamp_ns = 1724508994186961123LL;
    ev->report = r;
}

/* Power lines parse as JSON with the reference's number text, in the reference key order. */
static void test_power_lines(void **state)
{
    (void)state;
    sw_tigo_format *f = fmt_new(0);
    json_t *root = tu_load_json("tigo/power_reports.json");
    size_t i;
    json_t *c;
    json_array_foreach(tu_get(root, "cases"), i, c) {
        json_t *txt = json_object_get(c, "json_number_text");
        if (!txt || !json_object_get(c, "data_hex"))
            continue;
        sw_tigo_power_report r;
        sw_tigo_power_event ev;
        make_event(c, &r, &ev);
        char want[1024], line[SW_TIGO_LINE_MAX];
        snprintf(want, sizeof want,
                 "{\"event_type\":\"power_report\",\"gateway\":4609,\"node\":116,"
                 "\"timestamp\":\"2024-08-24T14:16:34.186961123Z\",\"voltage_in\":%s,\"voltage_out\":%s,"
                 "\"current\":%s,\"dc_dc_duty_cycle\":%s,\"temperature\":%s,\"rssi\":%lld}",
                 tu_str(txt, "voltage_in"), tu_str(txt, "voltage_out"), tu_str(txt, "current"),
                 tu_str(txt, "dc_dc_duty_cycle"), tu_str(txt, "temperature"), tu_int(tu_get(c, "raw"), "rssi"));
        size_t n;
        assert_int_equal(sw_tigo_format_power_fork(f, &ev, line, sizeof line, &n), SW_OK);
        assert_string_equal(line, want);
        assert_int_equal(n, strlen(want));

        /* Upstream: nested ids, same measurement text. */
        uint8_t gw[8] = { 4, 0xC0, 0x5B, 0x30, 0, 2, 0xBE, 0x16 }, nd[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        ev.gateway_address = gw;
        ev.node_address = nd;
        assert_int_equal(sw_tigo_format_power_upstream(f, &ev, line, sizeof line, &n), SW_OK);
        const char *tail = strstr(want, "\"timestamp\"");
        char up[1200];
        snprintf(up, sizeof up,
                 "{\"gateway\":{\"id\":4609,\"address\":[4,192,91,48,0,2,190,22]},\"node\":{\"id\":116,"
                 "\"address\":[1,2,3,4,5,6,7,8],\"barcode\":\"01:02:03:04:05:06:07:08\"},%s",
                 tail);
        assert_string_equal(line, up);

        /* Extended: the fork line plus barcode and extra bytes. */
        r.extra_len = 2;
        r.extra[0] = 0x02;
        r.extra[1] = 0x00;
        assert_int_equal(sw_tigo_format_power_extended(f, &ev, line, sizeof line, &n), SW_OK);
        char ext[1200];
        snprintf(ext, sizeof ext, "%.*s,\"barcode\":\"01:02:03:04:05:06:07:08\",\"extra\":\"0200\"}",
                 (int)strlen(want) - 1, want);
        assert_string_equal(line, ext);
        assert_int_equal(n, strlen(ext));
    }
    json_decref(root);
    free(f);
}

/* Every formatter fails cleanly at every too-small size and never writes past it. */
static void test_buffer_limits(void **state)
{
    (void)state;
    sw_tigo_format *f = fmt_new(3600);
    sw_tigo_power_report r;
    memset(&r, 0, sizeof r);
    r.voltage_in_raw = 694;
    r.extra_len = 1;
    uint8_t addr[8] = { 4, 0xC0, 0x5B, 0x40, 0, 0xA2, 0x34, 0x6F };
    sw_tigo_power_event ev = { 4609, 65535, 1, &r, 0, 0, addr, addr, "4-A2346FZ" };
    sw_tigo_state *s = malloc(sizeof *s);
    sw_tigo_state_init(s);
    sw_tigo_state_set_identity(s, 4609, addr, NULL);
    sw_tigo_state_set_version(s, 4609, "v\r1", 3, NULL);
    sw_tigo_node_record nodes[2] = { { 0, 2, { 4, 0xC0, 0x5B, 0x40, 0, 0xA2, 0x34, 0x6F } },
                                     { 0, 3, { 9, 9, 9, 9, 9, 9, 9, 9 } } };
    sw_tigo_state_set_node_table(s, 4609, nodes, 2, NULL);
    uint8_t payload[4] = { 0x37, 0x24, 0x92, 0x66 };
    sw_tigo_frame fr = { 0x0010, 0x0010, payload, 4 };

    for (int which = 0; which < 6; which++) {
        char full[SW_TIGO_LINE_MAX];
        size_t need = 0, n;
        sw_err e = SW_OK;
#define CALL(buf, cap, lenp)                                                                 \
    (which == 0   ? sw_tigo_format_power_fork(f, &ev, buf, cap, lenp)                          \
     : which == 1 ? sw_tigo_format_power_upstream(f, &ev, buf, cap, lenp)                      \
     : which == 2 ? sw_tigo_format_power_extended(f, &ev, buf, cap, lenp)                      \
     : which == 3 ? sw_tigo_format_infrastructure(s, buf, cap, lenp)                           \
     : which == 4 ? sw_tigo_format_frame_text(&fr, buf, cap, lenp)                             \
                  : sw_tigo_format_frame_json(f, &fr, 5, buf, cap, lenp))
        e = CALL(full, sizeof full, &need);
        assert_int_equal(e, SW_OK);
        assert_int_equal(strlen(full), need);
        if (which == 3)
            assert_true(need < sw_tigo_format_infrastructure_max(s));
        for (size_t cap = 0; cap <= need; cap++) {
            char *b = malloc(cap ? cap : 1); /* exact size: ASan catches any overrun */
            assert_int_equal(CALL(b, cap, &n), SW_ERR_NO_SPACE);
            free(b);
        }
        char *b = malloc(need + 1);
        assert_int_equal(CALL(b, need + 1, &n), SW_OK);
        assert_string_equal(b, full);
        free(b);
#undef CALL
    }
    free(s);
    free(f);
}

/* The infrastructure bound holds for a state at capacity with the widest values. */
static void test_infrastructure_bound(void **state)
{
    (void)state;
    sw_tigo_state *s = malloc(sizeof *s);
    sw_tigo_state_init(s);
    uint8_t wide[8] = { 4, 0xC0, 0x5B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    char ver[SW_TIGO_VERSION_MAX];
    memset(ver, 0x01, sizeof ver);
    size_t per = SW_TIGO_MAX_NODES / SW_TIGO_STATE_MAX_GATEWAYS;
    sw_tigo_node_record *t = calloc(per, sizeof *t);
    for (size_t k = 0; k < per; k++) {
        t[k].node_id = (uint16_t)(65535 - k);
        memcpy(t[k].address, wide, 8);
    }
    for (int g = 0; g < SW_TIGO_STATE_MAX_GATEWAYS; g++) {
        uint16_t id = (uint16_t)(32767 - g);
        sw_tigo_state_set_identity(s, id, wide, NULL);
        sw_tigo_state_set_version(s, id, ver, sizeof ver, NULL);
        assert_int_equal(sw_tigo_state_set_node_table(s, id, t, per, NULL), SW_OK);
    }
    size_t cap = sw_tigo_format_infrastructure_max(s), len = 0;
    char *buf = malloc(cap);
    assert_int_equal(sw_tigo_format_infrastructure(s, buf, cap, &len), SW_OK);
    assert_true(len < cap);
    json_error_t err;
    json_t *j = json_loads(buf, 0, &err);
    assert_non_null(j);
    assert_int_equal(json_object_size(tu_get(j, "gateways")), SW_TIGO_STATE_MAX_GATEWAYS);
    json_decref(j);
    free(buf);
    free(t);
    free(s);
}

/* Infrastructure keys in numeric order; addresses outside Tigo's OUI keep colon-hex barcodes. */
static void test_infrastructure_order(void **state)
{
    (void)state;
    sw_tigo_state *s = malloc(sizeof *s);
    sw_tigo_state_init(s);
    uint8_t a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    sw_tigo_state_set_identity(s, 10, a, NULL);
    sw_tigo_state_set_identity(s, 9, a, NULL);
    sw_tigo_state_set_version(s, 9, "x", 1, NULL);
    sw_tigo_state_set_version(s, 11, "hidden", 6, NULL); /* no address: not shown */
    sw_tigo_node_record t[2] = { { 0, 10, { 1, 2, 3, 4, 5, 6, 7, 8 } }, { 0, 9, { 4, 0xC0, 0x5B, 0x40, 0, 0, 0, 0x0A } } };
    sw_tigo_state_set_node_table(s, 10, t, 2, NULL);
    char line[SW_TIGO_LINE_MAX];
    assert_int_equal(sw_tigo_format_infrastructure(s, line, sizeof line, NULL), SW_OK);
    assert_string_equal(line,
                        "{\"event_type\":\"infrastructure_report\",\"gateways\":{"
                        "\"9\":{\"address\":\"01:02:03:04:05:06:07:08\",\"version\":\"x\"},"
                        "\"10\":{\"address\":\"01:02:03:04:05:06:07:08\",\"version\":\"\"}},"
                        "\"nodes\":{\"10\":{"
                        "\"9\":{\"address\":\"04:C0:5B:40:00:00:00:0A\",\"barcode\":\"4-AN\"},"
                        "\"10\":{\"address\":\"01:02:03:04:05:06:07:08\",\"barcode\":\"01:02:03:04:05:06:07:08\"}}}}");
    free(s);
}

/* ---- peek-frames ------------------------------------------------------------------------ */

typedef struct frames {
    sw_tigo_format *f;
    char text[8][SW_TIGO_LINE_MAX];
    char json[8][SW_TIGO_LINE_MAX];
    int n;
} frames;

static int on_frame(sw_tigo_link_receiver *owner, const sw_tigo_frame *fr, void *user)
{
    (void)owner;
    frames *fs = user;
    if (fs->n >= 8)
        return 0;
    assert_int_equal(sw_tigo_format_frame_text(fr, fs->text[fs->n], SW_TIGO_LINE_MAX, NULL), SW_OK);
    assert_int_equal(sw_tigo_format_frame_json(fs->f, fr, SW_TIGO_NO_TIME, fs->json[fs->n], SW_TIGO_LINE_MAX, NULL),
                     SW_OK);
    fs->n++;
    return 0;
}

/*
 * The vector gives taptap's Debug lines; the fields are read out of them
 * here and sunwire's lines are expected to carry the same facts.
 */
static void test_peek_frames(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/peek_output_examples.json");
    json_t *pb = tu_get(root, "peek_bytes");
    size_t n;
    uint8_t *bus = tu_hex_member(pb, "input_hex", &n);
    frames *fs = calloc(1, sizeof *fs);
    fs->f = fmt_new(0);
    sw_tigo_stack *st = malloc(sizeof *st);
    sw_tigo_stack_init(st, SW_TIGO_LINK_MODE_IMPROVED, 0, NULL, NULL);
    st->on_frame = on_frame;
    st->frame_user = fs;
    sw_tigo_stack_push(st, bus, n, NULL);
    json_t *lines = tu_get(tu_get(root, "peek_frames"), "expected_lines");
    assert_int_equal(fs->n, json_array_size(lines));
    for (int i = 0; i < fs->n; i++) {
        const char *dbg = json_string_value(json_array_get(lines, (size_t)i));
        bool to = strncmp(dbg, "Frame { address: To(", 20) == 0;
        unsigned gw = (unsigned)strtoul(strstr(dbg, "GatewayID(0x") + 12, NULL, 16);
        const char *tn = strstr(dbg, "Type::") + 6;
        char tname[40];
        size_t tl = strcspn(tn, ",");
        memcpy(tname, tn, tl);
        tname[tl] = '\0';
        /* payload: decimal list -> hex, both spaced and packed */
        const char *p = strstr(dbg, "payload: [") + 10;
        char spaced[512] = "", packed[512] = "";
        size_t count = 0;
        while (*p != ']') {
            unsigned v = (unsigned)strtoul(p, (char **)&p, 10);
            char b[4];
            snprintf(b, sizeof b, " %02X", v);
            strcat(spaced, b);
            strcat(packed, b + 1);
            count++;
            while (*p == ',' || *p == ' ')
                p++;
        }
        unsigned type = strcmp(tname, "RECEIVE_REQUEST") == 0 ? 0x0148 : 0x0149;
        char want[1024];
        snprintf(want, sizeof want, "%s 0x%04X %s (0x%04X) [%zu]%s", to ? "->" : "<-", gw, tname, type, count, spaced);
        assert_string_equal(fs->text[i], want);

        json_error_t err;
        json_t *j = json_loads(fs->json[i], 0, &err);
        assert_non_null(j);
        assert_string_equal(tu_str(j, "direction"), to ? "to_gateway" : "from_gateway");
        assert_int_equal(tu_int(j, "gateway"), gw);
        assert_int_equal(tu_int(j, "frame_type"), type);
        assert_string_equal(tu_str(j, "frame_type_name"), tname);
        assert_int_equal(tu_int(j, "payload_len"), count);
        assert_string_equal(tu_str(j, "payload"), packed);
        assert_null(json_object_get(j, "timestamp"));
        json_decref(j);
    }
    /* Unnamed types get sunwire's label, and a timestamp when one is given. */
    uint8_t pl[4] = { 0x37, 0x24, 0x92, 0x66 };
    sw_tigo_frame fr = { 0x0000, 0x0010, pl, 4 };
    char line[SW_TIGO_LINE_MAX];
    assert_int_equal(sw_tigo_format_frame_text(&fr, line, sizeof line, NULL), SW_OK);
    assert_string_equal(line, "-> 0x0000 UNKNOWN_0010 (0x0010) [4] 37 24 92 66");
    assert_int_equal(sw_tigo_format_frame_json(fs->f, &fr, 1724508994186961123LL, line, sizeof line, NULL), SW_OK);
    assert_string_equal(line, "{\"timestamp\":\"2024-08-24T14:16:34.186961123Z\",\"direction\":\"to_gateway\","
                              "\"gateway\":0,\"frame_type\":16,\"frame_type_hex\":\"0x0010\",\"frame_type_name\":"
                              "\"UNKNOWN_0010\",\"payload_len\":4,\"payload\":\"37249266\"}");
    free(st);
    free(fs->f);
    free(fs);
    free(bus);
    json_decref(root);
}

/* ---- peek-activity ----------------------------------------------------------------------- */

typedef struct acts {
    sw_tigo_format *f;
    sw_tigo_activity a_text, a_json;
    json_t *lines; /* parsed JSON lines */
    char text[64][SW_TIGO_LINE_MAX];
    int n_text;
} acts;

static int on_event(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    acts *as = user;
    char line[SW_TIGO_LINE_MAX];
    size_t n;
    sw_err e = sw_tigo_format_activity(&as->a_json, as->f, ev, true, SW_TIGO_NO_TIME, line, sizeof line, &n);
    sw_err e2 = sw_tigo_format_activity(&as->a_text, as->f, ev, false, SW_TIGO_NO_TIME,
                                     as->n_text < 64 ? as->text[as->n_text] : line, SW_TIGO_LINE_MAX, NULL);
    /* Text and JSON agree on which events print. */
    assert_int_equal(e, e2);
    if (e == SW_ERR_NOT_FOUND)
        return 0;
    assert_int_equal(e, SW_OK);
    assert_int_equal(strlen(line), n);
    assert_null(strchr(line, '\n'));
    json_error_t err;
    json_t *j = json_loads(line, 0, &err);
    if (!j)
        fail_msg("not JSON: %s", line);
    json_array_append_new(as->lines, j);
    as->n_text++;
    return 0;
}

static acts *acts_new(void)
{
    acts *as = calloc(1, sizeof *as);
    as->f = fmt_new(0);
    sw_tigo_activity_init(&as->a_text);
    sw_tigo_activity_init(&as->a_json);
    as->lines = json_array();
    return as;
}

static void acts_free(acts *as)
{
    json_decref(as->lines);
    free(as->f);
    free(as);
}

/* The enumeration capture: one activity line per transport event of the vector, same facts. */
static void test_activity_enumeration(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/enumeration_sequence.json");
    size_t n;
    uint8_t *bus = tu_hex_member(root, "bus_hex", &n);
    acts *as = acts_new();
    sw_tigo_stack *st = malloc(sizeof *st);
    sw_tigo_stack_init(st, SW_TIGO_LINK_MODE_IMPROVED, 0, on_event, as);
    sw_tigo_stack_push(st, bus, n, NULL);

    json_t *want = tu_get(root, "expected_transport_events");
    size_t wi = 0, i;
    json_t *j;
    int unhandled = 0;
    json_array_foreach(as->lines, i, j) {
        const char *kind = tu_str(j, "kind");
        if (strcmp(kind, "unhandled_frame") == 0) {
            unhandled++;
            continue;
        }
        json_t *w = json_array_get(want, wi++);
        assert_non_null(w);
        const char *ev = tu_str(w, "event");
        const char *map = strcmp(ev, "gateway_identity_observed") == 0  ? "gateway_identity"
                          : strcmp(ev, "gateway_version_observed") == 0 ? "gateway_version"
                                                                        : ev;
        assert_string_equal(kind, map);
        assert_int_equal(tu_int(j, "gateway"), tu_int(w, "gateway_id"));
        if (json_object_get(w, "long_address_hex")) {
            char colon[24];
            size_t an;
            uint8_t *a = tu_hex_member(w, "long_address_hex", &an);
            sw_tigo_addr_format(a, colon);
            assert_string_equal(tu_str(j, "address"), colon);
            free(a);
        }
        if (json_object_get(w, "version"))
            assert_string_equal(tu_str(j, "version"), tu_str(w, "version"));
    }
    assert_int_equal(wi, json_array_size(want));
    assert_int_equal(unhandled, tu_int(tu_get(root, "expected_transport_counters"), "unhandled_frame_type"));
    /* The readable identity line names address and barcode. */
    bool seen = false;
    for (int k = 0; k < as->n_text && k < 64; k++)
        if (strcmp(as->text[k], "gateway 0x1201 identity 04:C0:5B:30:00:02:BE:16 (3-2BE16Y)") == 0)
            seen = true;
    assert_true(seen);
    free(st);
    free(bus);
    acts_free(as);
    json_decref(root);
}

/* Power reports and slot counters from the first observer scenario. */
static void test_activity_power_and_slots(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    json_t *c = json_array_get(tu_get(root, "scenarios"), 0);
    acts *as = acts_new();
    sw_tigo_stack *st = malloc(sizeof *st);
    sw_tigo_stack_init(st, SW_TIGO_LINK_MODE_IMPROVED, 0, on_event, as);
    size_t i;
    json_t *s;
    json_array_foreach(tu_get(c, "steps"), i, s) {
        size_t n;
        uint8_t *b = tu_hex_member(s, "bus_hex", &n);
        sw_tigo_stack_push(st, b, n, NULL);
        sw_tigo_stack_push(st, b, n, NULL); /* the same response again: same slot block, no new slot line */
        free(b);
    }
    /* Expected: slot line (0x957C), report, report again; slot line (0xA51C), report, report again. */
    json_t *fork = tu_get(c, "expected_stdout_fork");
    static const char *kinds[] = { "slot_counter", "power_report", "power_report",
                                   "slot_counter", "power_report", "power_report" };
    static const unsigned slots[] = { 0x957C, 0x8FA0, 0x8FA0, 0xA51C, 0x9F40, 0x9F40 };
    assert_int_equal(json_array_size(as->lines), 6);
    for (size_t k = 0; k < 6; k++) {
        json_t *j = json_array_get(as->lines, k);
        assert_string_equal(tu_str(j, "kind"), kinds[k]);
        assert_int_equal(tu_int(j, "gateway"), 4609);
        assert_int_equal(tu_int(j, "slot_counter"), slots[k]);
        if (k % 3 == 0) {
            assert_true(json_is_true(tu_get(j, "valid")));
            assert_int_equal(tu_int(j, "epoch"), slots[k] >> 14);
            continue;
        }
        json_error_t err;
        json_t *want = json_loads(json_string_value(json_array_get(fork, k / 3)), 0, &err);
        static const char *keys[] = { "node", "voltage_in", "voltage_out", "current", "dc_dc_duty_cycle",
                                      "temperature", "rssi" };
        for (size_t q = 0; q < 7; q++)
            assert_true(json_equal(tu_get(j, keys[q]), tu_get(want, keys[q])));
        assert_string_equal(tu_str(j, "extra"), "");
        assert_string_equal(tu_str(j, "unknown"), "81006E");
        json_decref(want);
    }
    assert_string_equal(as->text[1], "gateway 0x1201 node 116 power report: Vin 34.7 V, Vout 34.4 V, duty 1.0, "
                                     "I 0.25 A, T 34.4 C, slot 0x8FA0, rssi 126");
    free(st);
    acts_free(as);
    json_decref(root);
}

/* The identity + node-table scenario: identity, two table pages, slot counter, report. */
static void test_activity_node_table(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    json_t *c = json_array_get(tu_get(root, "scenarios"), 2);
    acts *as = acts_new();
    sw_tigo_stack *st = malloc(sizeof *st);
    sw_tigo_stack_init(st, SW_TIGO_LINK_MODE_IMPROVED, 0, on_event, as);
    size_t i;
    json_t *s;
    json_array_foreach(tu_get(c, "steps"), i, s) {
        size_t n;
        uint8_t *b = tu_hex_member(s, "bus_hex", &n);
        sw_tigo_stack_push(st, b, n, NULL);
        free(b);
    }
    static const char *kinds[] = { "gateway_identity", "node_table_page", "node_table_page", "slot_counter",
                                   "power_report" };
    assert_int_equal(json_array_size(as->lines), 5);
    for (size_t k = 0; k < 5; k++)
        assert_string_equal(tu_str(json_array_get(as->lines, k), "kind"), kinds[k]);
    json_t *p1 = json_array_get(as->lines, 1), *p2 = json_array_get(as->lines, 2);
    assert_int_equal(tu_int(p1, "request_start"), 0);
    assert_int_equal(tu_int(p1, "response_start"), 2);
    json_t *e = tu_get(p1, "entries");
    assert_int_equal(json_array_size(e), 2);
    assert_int_equal(tu_int(json_array_get(e, 0), "node"), 2);
    assert_string_equal(tu_str(json_array_get(e, 0), "barcode"), "4-A2346FZ");
    assert_string_equal(tu_str(json_array_get(e, 1), "address"), "04:C0:5B:40:00:A2:34:71");
    assert_int_equal(tu_int(p2, "request_start"), 4);
    assert_int_equal(json_array_size(tu_get(p2, "entries")), 0);
    assert_string_equal(as->text[1], "gateway 0x1201 node table page: request start 0, response start 2, 2 entries: "
                                     "2=4-A2346FZ, 3=4-A23471V");
    /* With a time, readable lines start with it and JSON lines carry it first. */
    char line[SW_TIGO_LINE_MAX];
    sw_tigo_transport_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_ENUMERATION_ENDED;
    ev.gateway_id = 0x1201;
    assert_int_equal(sw_tigo_format_activity(&as->a_text, as->f, &ev, false, 1724508994000000000LL, line, sizeof line,
                                          NULL), SW_OK);
    assert_string_equal(line, "2024-08-24T14:16:34Z gateway 0x1201 enumeration ended");
    assert_int_equal(sw_tigo_format_activity(&as->a_json, as->f, &ev, true, 1724508994000000000LL, line, sizeof line,
                                          NULL), SW_OK);
    assert_string_equal(line, "{\"timestamp\":\"2024-08-24T14:16:34Z\",\"kind\":\"enumeration_ended\",\"gateway\":4609}");
    free(st);
    acts_free(as);
    json_decref(root);
}

/* Hand-made events: topology, string request, commands (radio key hidden), star, invalid frames. */
static void test_activity_other_kinds(void **state)
{
    (void)state;
    acts *as = acts_new();
    sw_tigo_transport_event ev;
    uint8_t payload[8] = { 0 };
    sw_tigo_frame fr = { 0x9201, 0x0149, payload, 0 };

    /* Topology report (doc example, 23 bytes). */
    size_t tn;
    uint8_t *topo = tu_hex("000200580001000204C05B40009A57BB9F01E9E1089527", &tn);
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_PV_PACKET;
    ev.gateway_id = 0x1201;
    ev.frame = &fr;
    ev.u.pv_packet.packet = (sw_tigo_pv_packet){ 0x09, 0x58, 0x0002, 0x12, (uint8_t)tn, topo };
    on_event(NULL, &ev, as);
    /* A 12-byte power report is refused by its decoder and shown raw with the reason. */
    ev.u.pv_packet.packet = (sw_tigo_pv_packet){ 0x31, 6, 1, 4, 12, topo };
    on_event(NULL, &ev, as);
    /* String request via a command. */
    size_t sn;
    uint8_t *sreq = tu_hex("003D5E303054657374730D", &sn);
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED;
    ev.gateway_id = 0x1201;
    ev.frame = &fr;
    ev.u.command.request = (sw_tigo_command_request){ { 0 }, 0x06, 0x66, sreq, sn };
    ev.u.command.response = (sw_tigo_command_response){ 0, 13, 0, 0x07, 0x66, NULL, 0 };
    on_event(NULL, &ev, as);
    /* Radio configuration response: channel and PAN shown, key never. */
    uint8_t rc[37];
    memset(rc, 0xAB, sizeof rc);
    rc[0] = 0;
    rc[1] = 0x15;
    rc[2] = 0x24;
    rc[3] = 0xF6;
    uint8_t rq[2] = { 0, 1 };
    ev.u.command.request = (sw_tigo_command_request){ { 0 }, 0x0D, 0x67, rq, 2 };
    ev.u.command.response = (sw_tigo_command_response){ 0, 13, 0, 0x0E, 0x67, rc, sizeof rc };
    on_event(NULL, &ev, as);
    /* Star response with one record. */
    uint8_t star[30] = { 0x82, 0x00, 0x58, 0x89, 0x58, 0x89, 0x00, 0x01, 0x2E, 0xA2, 0x00, 0x18,
                         0x00, 0x01, 0, 0, 0, 0, 0x50, 0x54, 0x10, 0x33, 0xB0, 0x06, 0x30, 0x82, 0xFF, 0x40, 0x00, 0x9B };
    sw_tigo_frame sfr = { 0x9201, 0x0043, star, sizeof star };
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_STAR_RESPONSE;
    ev.gateway_id = 0x1201;
    ev.frame = &sfr;
    assert_int_equal(sw_tigo_star_response_decode(star, sizeof star, &ev.u.star_response), SW_OK);
    on_event(NULL, &ev, as);
    /* An invalid frame names its error. */
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME;
    ev.gateway_id = 0x1202;
    sw_tigo_frame bad = { 0x9202, 0x0149, payload, 1 };
    ev.frame = &bad;
    ev.u.invalid.error = SW_ERR_TIGO_NO_REFERENCE;
    on_event(NULL, &ev, as);
    /* Plain requests print nothing. */
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_PING_REQUEST;
    ev.frame = &fr;
    on_event(NULL, &ev, as);

    assert_int_equal(json_array_size(as->lines), 6);
    json_t *j = json_array_get(as->lines, 0);
    assert_string_equal(tu_str(j, "kind"), "topology_report");
    assert_int_equal(tu_int(j, "pv_node_id"), 0x58);
    assert_int_equal(tu_int(j, "next_hop"), 1);
    assert_string_equal(tu_str(j, "barcode"), "4-9A57BBS");
    assert_int_equal(tu_int(j, "rssi"), 0x9F);
    assert_string_equal(tu_str(j, "tail"), "01E9E1089527");
    j = json_array_get(as->lines, 1);
    assert_string_equal(tu_str(j, "kind"), "packet");
    assert_string_equal(tu_str(j, "packet_type_name"), "POWER_REPORT");
    assert_string_equal(tu_str(j, "error"), "SW_ERR_TRUNCATED");
    j = json_array_get(as->lines, 2);
    assert_string_equal(tu_str(j, "kind"), "string_request");
    assert_int_equal(tu_int(j, "node"), 0x3D);
    assert_string_equal(tu_str(j, "text"), "^00Tests\r");
    assert_string_equal(as->text[2], "gateway 0x1201 string request to node 61: \"^00Tests\\r\"");
    j = json_array_get(as->lines, 3);
    assert_string_equal(tu_str(j, "kind"), "command");
    assert_true(json_is_null(tu_get(j, "response_data")));
    assert_int_equal(tu_int(j, "channel"), 21);
    assert_int_equal(tu_int(j, "pan_id"), 0x24F6);
    assert_null(strstr(as->text[3], "AB"));
    j = json_array_get(as->lines, 4);
    assert_string_equal(tu_str(j, "kind"), "star_response");
    assert_int_equal(tu_int(j, "sequence"), 0x2EA2);
    json_t *rec = json_array_get(tu_get(j, "records"), 0);
    assert_non_null(rec);
    assert_int_equal(tu_int(rec, "slot"), 0x10);
    assert_string_equal(tu_str(rec, "raw"), "505410" "33B006" "3082FF" "40009B");
    j = json_array_get(as->lines, 5);
    assert_string_equal(tu_str(j, "kind"), "invalid_frame");
    assert_string_equal(tu_str(j, "error"), "SW_ERR_TIGO_NO_REFERENCE");
    assert_int_equal(tu_int(j, "gateway"), 0x1202);
    free(topo);
    free(sreq);
    acts_free(as);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_cache_all_values),
        cmocka_unit_test(test_number_cache_vectors),
        cmocka_unit_test(test_timestamp_cache),
        cmocka_unit_test(test_power_lines),
        cmocka_unit_test(test_buffer_limits),
        cmocka_unit_test(test_infrastructure_bound),
        cmocka_unit_test(test_infrastructure_order),
        cmocka_unit_test(test_peek_frames),
        cmocka_unit_test(test_activity_enumeration),
        cmocka_unit_test(test_activity_power_and_slots),
        cmocka_unit_test(test_activity_node_table),
        cmocka_unit_test(test_activity_other_kinds),
    };
    return cmocka_run_group_tests_name("tigo/format", tests, NULL, NULL);
}
