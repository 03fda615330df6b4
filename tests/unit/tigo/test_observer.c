/*
 * The observer end to end: bus bytes in, observe lines out, compared with
 * observer_scenarios.json and enumeration_sequence.json for both taptap
 * versions, at every chunking, plus firmware-4.x captures and garbage.
 */
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo_format.h"
#include "sunwire/tigo_observer.h"
#include "testutil.h"

enum out_mode { OUT_FORK, OUT_UPSTREAM, OUT_FORK_WITH_FILE };

/* Collected output of one run. */
typedef struct run {
    enum out_mode mode;
    sw_tigo_format *fmt;
    char *text;   /* all lines, '\n'-terminated */
    size_t len, cap;
    char diags[512];
    int n_power;
} run;

static void append(run *r, const char *s, size_t n)
{
    if (r->len + n + 2 > r->cap) {
        r->cap = (r->len + n + 2) * 2;
        r->text = realloc(r->text, r->cap);
    }
    memcpy(r->text + r->len, s, n);
    r->len += n;
    r->text[r->len++] = '\n';
    r->text[r->len] = '\0';
}

static int on_event(sw_tigo_observer *owner, const sw_tigo_observer_event *ev, void *user)
{
    (void)owner;
    run *r = user;
    char line[SW_TIGO_LINE_MAX];
    size_t n = 0;
    switch (ev->kind) {
    case SW_TIGO_OBSERVER_POWER_REPORT:
        r->n_power++;
        if (r->mode == OUT_UPSTREAM)
            assert_int_equal(sw_tigo_format_power_upstream(r->fmt, &ev->u.power, line, sizeof line, &n), SW_OK);
        else
            assert_int_equal(sw_tigo_format_power_fork(r->fmt, &ev->u.power, line, sizeof line, &n), SW_OK);
        append(r, line, n);
        break;
    case SW_TIGO_OBSERVER_INFRASTRUCTURE:
        if (r->mode == OUT_UPSTREAM)
            break;
        assert_int_equal(sw_tigo_format_infrastructure(ev->u.infrastructure.state, line, sizeof line, &n), SW_OK);
        append(r, line, n);
        /* With a state file taptap 0.2.0 prints the report again after the write. */
        if (r->mode == OUT_FORK_WITH_FILE)
            append(r, line, n);
        break;
    case SW_TIGO_OBSERVER_DIAGNOSTIC:
        strncat(r->diags, sw_tigo_diagnostic_name(ev->u.diagnostic.code), sizeof r->diags - strlen(r->diags) - 2);
        strcat(r->diags, ";");
        break;
    }
    return 0;
}

/* Expected lines of a JSON array joined with '\n'. */
static char *expected_text(json_t *arr)
{
    size_t cap = 16, len = 0;
    char *t = malloc(cap);
    t[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        size_t n = json_string_length(v);
        t = realloc(t, cap += n + 2);
        memcpy(t + len, json_string_value(v), n);
        len += n;
        t[len++] = '\n';
        t[len] = '\0';
    }
    return t;
}

typedef struct step {
    uint8_t *bytes;
    size_t n;
    int64_t t;
} step;

static step *load_steps(json_t *steps, size_t *count)
{
    size_t n = json_array_size(steps);
    step *s = calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        json_t *st = json_array_get(steps, i);
        s[i].bytes = tu_hex_member(st, "bus_hex", &s[i].n);
        s[i].t = tu_int(st, "clock_unix_ns");
    }
    *count = n;
    return s;
}

static void free_steps(step *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].bytes);
    free(s);
}

/*
 * Run the steps through a fresh observer. split < 0: each step in one chunk;
 * split == 0: byte by byte; split > 0: each step cut at that offset (when
 * shorter, in one chunk).
 */
static void run_steps(run *r, sw_tigo_observer *o, unsigned flags, const step *s, size_t n, long split)
{
    sw_tigo_observer_init(o, flags, on_event, r);
    for (size_t i = 0; i < n; i++) {
        if (split < 0 || (size_t)split >= s[i].n) {
            sw_tigo_observer_push(o, s[i].bytes, s[i].n, s[i].t, NULL);
        } else if (split == 0) {
            for (size_t k = 0; k < s[i].n; k++)
                sw_tigo_observer_push(o, s[i].bytes + k, 1, s[i].t, NULL);
        } else {
            sw_tigo_observer_push(o, s[i].bytes, (size_t)split, s[i].t, NULL);
            sw_tigo_observer_push(o, s[i].bytes + split, s[i].n - (size_t)split, s[i].t, NULL);
        }
    }
}

static void reset_run(run *r, enum out_mode mode, sw_tigo_format *fmt)
{
    free(r->text);
    memset(r, 0, sizeof *r);
    r->mode = mode;
    r->fmt = fmt;
    r->text = calloc(1, 1);
}

/* Symbolic diagnostics of the vectors, mapped onto sunwire's codes. */
static void expected_diags(json_t *arr, char *out, size_t cap)
{
    out[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *d = json_string_value(v);
        if (strcmp(d, "discarded_power_report:missing_slot_clock") == 0)
            strncat(out, "no_slot_clock;", cap - strlen(out) - 1);
        else if (strcmp(d, "discarded_power_report:invalid_slot_counter") == 0)
            strncat(out, "invalid_slot_counter;", cap - strlen(out) - 1);
        /* state_write_failed:* concern the program's file handling, not the library. */
    }
}

static void check_counters(const sw_tigo_observer *o, json_t *c)
{
    json_t *tc = json_object_get(c, "expected_transport_counters");
    if (tc) {
        const sw_tigo_transport_counters *t = sw_tigo_observer_get_transport_counters(o);
        assert_int_equal(t->receive_response_from_unknown_gateway,
                         tu_int(tc, "receive_response_from_unknown_gateway"));
        assert_int_equal(t->receive_requests, tu_int(tc, "receive_requests"));
        assert_int_equal(t->receive_responses, tu_int(tc, "receive_responses"));
        assert_int_equal(t->receive_packets, tu_int(tc, "receive_packets"));
    }
    json_t *ac = json_object_get(c, "expected_application_counters");
    if (ac) {
        const sw_tigo_observer_counters *a = sw_tigo_observer_get_counters(o);
        assert_int_equal(a->power_reports, tu_int(ac, "power_reports"));
        assert_int_equal(a->invalid_received_packet_node_ids, tu_int(ac, "invalid_received_packet_node_ids"));
        assert_int_equal(a->invalid_power_reports, tu_int(ac, "invalid_power_reports"));
    }
}

static json_t *member_any(json_t *c, const char *a, const char *b)
{
    json_t *v = json_object_get(c, a);
    return v ? v : json_object_get(c, b);
}

/* One scenario, one output mode and flag set, at every chunking. */
static void check_scenario(json_t *c, enum out_mode mode, unsigned flags, json_t *want_lines, sw_tigo_format *fmt,
                           sw_tigo_observer *o)
{
    int32_t off = (int32_t)tu_int(c, "local_utc_offset_minutes") * 60;
    sw_tigo_format_init(fmt, off);
    size_t ns;
    step *s = load_steps(tu_get(c, "steps"), &ns);
    char *want = expected_text(want_lines);
    char want_diag[512];
    json_t *dg = member_any(c, "expected_diagnostics", "expected_diagnostics_fork_without_state_file");
    expected_diags(dg ? dg : json_array(), want_diag, sizeof want_diag);

    size_t longest = 0;
    for (size_t i = 0; i < ns; i++)
        longest = s[i].n > longest ? s[i].n : longest;
    run r = { 0 };
    for (long split = -1; split <= (long)longest; split++) {
        reset_run(&r, mode, fmt);
        run_steps(&r, o, flags, s, ns, split);
        if (strcmp(r.text, want) != 0)
            fail_msg("%s (split %ld, flags %#x)\n got:\n%s want:\n%s", tu_str(c, "name"), split, flags, r.text,
                     want);
        assert_string_equal(r.diags, want_diag);
        check_counters(o, c);
    }
    free(r.text);
    free(want);
    free_steps(s, ns);
}

static void test_scenarios(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    sw_tigo_format *fmt = malloc(sizeof *fmt);
    sw_tigo_observer *o = malloc(sizeof *o);
    assert_non_null(fmt);
    assert_non_null(o);
    /* Init leaves the big tables alone: they must never be read unwritten. */
    memset(fmt, 0xA5, sizeof *fmt);
    memset(o, 0xA5, sizeof *o);
    size_t i;
    json_t *c;
    json_array_foreach(tu_get(root, "scenarios"), i, c) {
        json_t *fork = member_any(c, "expected_stdout_fork", "expected_stdout_fork_without_state_file");
        /* sunwire's defaults and the strict reference flags agree on every vector. */
        check_scenario(c, OUT_FORK, 0, fork, fmt, o);
        check_scenario(c, OUT_FORK, SW_TIGO_OBSERVER_REFERENCE, fork, fmt, o);
        check_scenario(c, OUT_UPSTREAM, SW_TIGO_OBSERVER_REFERENCE_UPSTREAM, tu_get(c, "expected_stdout_upstream"), fmt,
                       o);
        /* Without the upstream flag sunwire learns node tables, which is what
         * upstream would print if its node-table parser worked. */
        json_t *parsed = json_object_get(c, "expected_stdout_upstream_if_node_table_were_parsed");
        check_scenario(c, OUT_UPSTREAM, 0, parsed ? parsed : tu_get(c, "expected_stdout_upstream"), fmt, o);
        json_t *with_file = json_object_get(c, "expected_stdout_fork_with_state_file");
        if (with_file)
            check_scenario(c, OUT_FORK_WITH_FILE, SW_TIGO_OBSERVER_REFERENCE, with_file, fmt, o);
        json_t *file = json_object_get(c, "expected_state_file_fork");
        if (file) {
            char buf[8192];
            size_t n;
            assert_int_equal(sw_tigo_state_serialize(sw_tigo_observer_state(o), buf, sizeof buf, &n), SW_OK);
            assert_string_equal(buf, json_string_value(file));
        }
    }
    free(o);
    free(fmt);
    json_decref(root);
}

static void expect_map(const sw_tigo_state *s, json_t *ids, json_t *vers)
{
    size_t n_addr = 0, n_ver = 0;
    for (size_t i = 0; i < s->n_gateways; i++) {
        const sw_tigo_gateway_record *g = &s->gateways[i];
        char key[8];
        snprintf(key, sizeof key, "%u", g->id);
        if (g->has_address) {
            char *hex = tu_to_hex(g->address, 8);
            assert_string_equal(hex, tu_str(ids, key));
            free(hex);
            n_addr++;
        }
        if (g->has_version) {
            assert_string_equal(g->version, tu_str(vers, key));
            n_ver++;
        }
    }
    assert_int_equal(n_addr, json_object_size(ids));
    assert_int_equal(n_ver, json_object_size(vers));
}

static void test_enumeration_sequence(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/enumeration_sequence.json");
    size_t n;
    uint8_t *bus = tu_hex_member(root, "bus_hex", &n);
    assert_int_equal(n, tu_int(root, "bus_length"));
    sw_tigo_format *fmt = malloc(sizeof *fmt);
    sw_tigo_format_init(fmt, 0);
    sw_tigo_observer *o = malloc(sizeof *o);
    json_t *obs = tu_get(root, "expected_observer");
    static const struct {
        enum out_mode mode;
        unsigned flags;
        const char *key;
    } modes[] = {
        { OUT_FORK, 0, "expected_stdout_fork_without_state_file" },
        { OUT_FORK, SW_TIGO_OBSERVER_REFERENCE, "expected_stdout_fork_without_state_file" },
        { OUT_FORK_WITH_FILE, SW_TIGO_OBSERVER_REFERENCE, "expected_stdout_fork_with_state_file" },
        { OUT_UPSTREAM, SW_TIGO_OBSERVER_REFERENCE_UPSTREAM, "expected_stdout_upstream" },
    };
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        char *want = expected_text(tu_get(root, modes[m].key));
        /* Every two-chunk split, byte by byte, and in one piece. */
        for (size_t split = 0; split <= n; split++) {
            run r = { 0 };
            reset_run(&r, modes[m].mode, fmt);
            sw_tigo_observer_init(o, modes[m].flags, on_event, &r);
            if (split == 0) {
                for (size_t k = 0; k < n; k++)
                    sw_tigo_observer_push(o, bus + k, 1, 1000, NULL);
            } else {
                sw_tigo_observer_push(o, bus, split, 1000, NULL);
                if (split == 300) {
                    json_t *a = tu_get(obs, "after_first_300_bytes");
                    assert_int_equal(sw_tigo_observer_enumerating(o), json_is_true(tu_get(a, "enumerating")));
                    expect_map(sw_tigo_observer_state(o), tu_get(a, "gateway_identities"),
                               tu_get(a, "gateway_versions"));
                }
                sw_tigo_observer_push(o, bus + split, n - split, 1000, NULL);
            }
            assert_string_equal(r.text, want);
            assert_string_equal(r.diags, "");
            json_t *a = tu_get(obs, "after_all_bytes");
            assert_int_equal(sw_tigo_observer_enumerating(o), json_is_true(tu_get(a, "enumerating")));
            expect_map(sw_tigo_observer_state(o), tu_get(a, "gateway_identities"), tu_get(a, "gateway_versions"));
            free(r.text);
        }
        free(want);
    }
    /* Layer counters and the state file after the whole capture. */
    const sw_tigo_link_counters *lc = sw_tigo_observer_get_link_counters(o);
    json_t *elc = tu_get(root, "expected_link_counters");
    assert_int_equal(lc->frames, tu_int(elc, "frames"));
    assert_int_equal(lc->checksums + lc->runts + lc->giants + lc->noise, 0);
    const sw_tigo_transport_counters *tc = sw_tigo_observer_get_transport_counters(o);
    json_t *etc = tu_get(root, "expected_transport_counters");
    assert_int_equal(tc->identify_responses, tu_int(etc, "identify_responses"));
    assert_int_equal(tc->enumeration_start_requests, tu_int(etc, "enumeration_start_requests"));
    assert_int_equal(tc->unhandled_frame_type, tu_int(etc, "unhandled_frame_type"));
    char buf[4096];
    size_t len;
    assert_int_equal(sw_tigo_state_serialize(sw_tigo_observer_state(o), buf, sizeof buf, &len), SW_OK);
    assert_string_equal(buf, tu_str(root, "expected_state_file_fork"));
    free(bus);
    free(o);
    free(fmt);
    json_decref(root);
}

/* Build one frame onto the bus with the link encoder. */
static size_t put_frame(uint8_t *out, size_t cap, uint16_t addr, uint16_t type, const uint8_t *p, size_t n)
{
    size_t len = 0;
    assert_int_equal(sw_tigo_link_encode(addr, type, p, n, 0, out, cap, &len), SW_OK);
    return len;
}

/* Firmware-4.x captures: sunwire decodes them by default, the reference flags refuse them. */
static void test_fw4_observations(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/fw4_issue_observations.json");
    sw_tigo_format *fmt = malloc(sizeof *fmt);
    sw_tigo_format_init(fmt, 0);
    sw_tigo_observer *o = malloc(sizeof *o);
    size_t i;
    json_t *c;
    json_array_foreach(tu_get(root, "cases"), i, c) {
        size_t n;
        uint8_t *bus = tu_hex_member(c, "bus_hex", &n);
        json_t *relaxed = tu_get(c, "relaxed_decoding_suggestion");
        json_t *pkts = tu_get(relaxed, "packets");
        /* A receive request gives the transport its packet-number reference
         * and the observer its capture time. */
        uint8_t req_payload[5] = { 0x00, 0x01, 0x12, 0x00, 0x04 };
        if (tu_int(tu_get(relaxed, "fields"), "packet_number") > 0x8000)
            req_payload[2] = 0xFA;
        uint8_t req[64];
        size_t rn = put_frame(req, sizeof req, 0x1201, 0x0148, req_payload, 5);
        const int64_t t0 = 1762000000000000000LL;
        for (int strict = 0; strict < 2; strict++) {
            run r = { 0 };
            reset_run(&r, OUT_FORK, fmt);
            sw_tigo_observer_init(o, strict ? SW_TIGO_OBSERVER_REFERENCE : 0, on_event, &r);
            sw_tigo_observer_push(o, req, rn, t0, NULL);
            sw_tigo_observer_push(o, bus, n, t0 + 30000000, NULL);
            if (strict) {
                assert_int_equal(r.n_power, 0);
                assert_int_equal(sw_tigo_observer_get_transport_counters(o)->invalid_receive_responses, 1);
                free(r.text);
                continue;
            }
            assert_int_equal(r.n_power, json_array_size(pkts));
            assert_int_equal(sw_tigo_observer_get_counters(o)->extended_power_reports, json_array_size(pkts));
            /* Each line carries the decoded values of the vector. */
            char *line = r.text;
            size_t k;
            json_t *p;
            json_array_foreach(pkts, k, p) {
                char *nl = strchr(line, '\n');
                assert_non_null(nl);
                *nl = '\0';
                json_error_t err;
                json_t *got = json_loads(line, 0, &err);
                assert_non_null(got);
                json_t *dec = tu_get(p, "first_13_decoded");
                static const char *keys[] = { "voltage_in", "voltage_out", "current", "dc_dc_duty_cycle",
                                              "temperature" };
                for (size_t q = 0; q < 5; q++)
                    assert_true(tu_real(got, keys[q]) == json_number_value(tu_get(dec, keys[q])));
                assert_int_equal(tu_int(got, "rssi"), tu_int(dec, "rssi"));
                assert_int_equal(tu_int(got, "node"), tu_int(p, "node_address"));
                json_decref(got);
                line = nl + 1;
            }
            free(r.text);
        }
        free(bus);
    }
    free(o);
    free(fmt);
    json_decref(root);
}

/* Events carry the extra bytes, addresses and barcodes the formats need. */
static const sw_tigo_power_event *last_power;
static sw_tigo_power_report last_report;
static char last_barcode[SW_TIGO_BARCODE_MAX];
static uint8_t last_node_addr[8];
static int power_seen;

static int capture_power(sw_tigo_observer *owner, const sw_tigo_observer_event *ev, void *user)
{
    (void)owner;
    (void)user;
    if (ev->kind != SW_TIGO_OBSERVER_POWER_REPORT)
        return 0;
    power_seen++;
    last_power = &ev->u.power;
    last_report = *ev->u.power.report;
    last_barcode[0] = '\0';
    if (ev->u.power.node_barcode) {
        strcpy(last_barcode, ev->u.power.node_barcode);
        memcpy(last_node_addr, ev->u.power.node_address, 8);
    }
    return 0;
}

static void test_event_contents(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    json_t *c = json_array_get(tu_get(root, "scenarios"), 2); /* identity + node table + report */
    size_t ns;
    step *s = load_steps(tu_get(c, "steps"), &ns);
    sw_tigo_observer *o = malloc(sizeof *o);
    sw_tigo_observer_init(o, 0, capture_power, NULL);
    power_seen = 0;
    for (size_t i = 0; i < ns; i++)
        sw_tigo_observer_push(o, s[i].bytes, s[i].n, s[i].t, NULL);
    assert_int_equal(power_seen, 1);
    assert_string_equal(last_barcode, "4-A2346FZ");
    assert_memory_equal(last_node_addr, "\x04\xC0\x5B\x40\x00\xA2\x34\x6F", 8);
    assert_int_equal(last_report.extra_len, 0);
    assert_int_equal(last_report.rssi, 132);
    assert_int_equal(sw_tigo_observer_get_counters(o)->node_tables_completed, 1);
    free_steps(s, ns);
    free(o);
    json_decref(root);
}

/* Re-walking the same table is not a change; a partial walk keeps the stored table. */
static int infra_seen;
static int count_infra(sw_tigo_observer *owner, const sw_tigo_observer_event *ev, void *user)
{
    (void)owner;
    (void)user;
    if (ev->kind == SW_TIGO_OBSERVER_INFRASTRUCTURE)
        infra_seen++;
    return 0;
}

static void test_infrastructure_only_on_change(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    json_t *c = json_array_get(tu_get(root, "scenarios"), 2);
    size_t ns;
    step *s = load_steps(tu_get(c, "steps"), &ns);
    sw_tigo_observer *o = malloc(sizeof *o);
    for (int ref = 0; ref < 2; ref++) {
        sw_tigo_observer_init(o, ref ? SW_TIGO_OBSERVER_REFERENCE : 0, count_infra, NULL);
        infra_seen = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < 6; i++) /* identity + node table walk, twice */
                sw_tigo_observer_push(o, s[i].bytes, s[i].n, s[i].t, NULL);
        /* sunwire: two real changes; taptap 0.2.0: a report per message. */
        assert_int_equal(infra_seen, ref ? 4 : 2);
    }
    /* Joining a walk at its second page: the stored table survives (safe builder). */
    sw_tigo_observer_init(o, 0, count_infra, NULL);
    for (size_t i = 0; i < 6; i++)
        sw_tigo_observer_push(o, s[i].bytes, s[i].n, s[i].t, NULL);
    size_t before;
    sw_tigo_state_gateway_nodes(sw_tigo_observer_state(o), 4609, &before);
    assert_int_equal(before, 2);
    sw_tigo_observer_init(o, 0, count_infra, NULL);
    /* fresh observer, only the last page of the walk (start 4, empty) */
    sw_tigo_observer_push(o, s[4].bytes, s[4].n, s[4].t, NULL);
    sw_tigo_observer_push(o, s[5].bytes, s[5].n, s[5].t, NULL);
    assert_null(sw_tigo_state_gateway(sw_tigo_observer_state(o), 4609));
    /* the reference builder takes that empty fragment as a complete (empty) table */
    sw_tigo_observer_init(o, SW_TIGO_OBSERVER_REFERENCE, count_infra, NULL);
    sw_tigo_observer_push(o, s[4].bytes, s[4].n, s[4].t, NULL);
    sw_tigo_observer_push(o, s[5].bytes, s[5].n, s[5].t, NULL);
    assert_non_null(sw_tigo_state_gateway(sw_tigo_observer_state(o), 4609));
    assert_true(sw_tigo_state_gateway(sw_tigo_observer_state(o), 4609)->has_node_table);
    free_steps(s, ns);
    free(o);
    json_decref(root);
}

/* Taps see every frame and transport event; framed input gives the same result as bytes. */
static int tap_frames, tap_events;
static int frame_tap(sw_tigo_link_receiver *owner, const sw_tigo_frame *f, void *user)
{
    (void)owner;
    (void)user;
    (void)f;
    tap_frames++;
    return 0;
}
static int event_tap(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    (void)user;
    (void)ev;
    tap_events++;
    return 0;
}

static sw_tigo_frame collected[16];
static uint8_t collected_payload[16][256];
static size_t n_collected;
static int collect_frame(sw_tigo_link_receiver *owner, const sw_tigo_frame *f, void *user)
{
    (void)owner;
    (void)user;
    if (n_collected < 16) {
        memcpy(collected_payload[n_collected], f->payload, f->payload_len);
        collected[n_collected] = *f;
        collected[n_collected].payload = collected_payload[n_collected];
        n_collected++;
    }
    return 0;
}

static void test_taps_and_frames(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    json_t *c = json_array_get(tu_get(root, "scenarios"), 0);
    size_t ns;
    step *s = load_steps(tu_get(c, "steps"), &ns);
    sw_tigo_format *fmt = malloc(sizeof *fmt);
    sw_tigo_format_init(fmt, 0);
    sw_tigo_observer *o = malloc(sizeof *o);
    run a = { 0 }, b = { 0 };
    reset_run(&a, OUT_FORK, fmt);
    reset_run(&b, OUT_FORK, fmt);

    sw_tigo_observer_init(o, 0, on_event, &a);
    sw_tigo_observer_set_frame_tap(o, frame_tap, NULL);
    sw_tigo_observer_set_transport_tap(o, event_tap, NULL);
    tap_frames = tap_events = 0;
    int64_t times[16];
    for (size_t i = 0; i < ns; i++) {
        size_t before = n_collected;
        sw_tigo_observer_set_frame_tap(o, collect_frame, NULL);
        sw_tigo_observer_push(o, s[i].bytes, s[i].n, s[i].t, NULL);
        for (size_t k = before; k < n_collected; k++)
            times[k] = s[i].t;
    }
    sw_tigo_observer_set_frame_tap(o, frame_tap, NULL);
    sw_tigo_observer_push(o, s[0].bytes, s[0].n, s[0].t, NULL);
    assert_int_equal(tap_frames, 1);
    assert_int_equal(n_collected, 4);

    /* The same frames pushed one by one give the same lines. */
    sw_tigo_observer_init(o, 0, on_event, &b);
    sw_tigo_observer_set_transport_tap(o, event_tap, NULL);
    tap_events = 0;
    for (size_t k = 0; k < n_collected; k++)
        sw_tigo_observer_push_frame(o, &collected[k], times[k]);
    assert_int_equal(tap_events, 6); /* request, response, packet; twice */
    char *want = expected_text(tu_get(c, "expected_stdout_fork"));
    assert_string_equal(b.text, want);
    assert_string_equal(a.text, want);

    /* A tap that comes and goes leaves the observer walking packets itself again. */
    run d = { 0 };
    reset_run(&d, OUT_FORK, fmt);
    sw_tigo_observer_init(o, 0, on_event, &d);
    sw_tigo_observer_set_transport_tap(o, event_tap, NULL);
    sw_tigo_observer_set_transport_tap(o, NULL, NULL);
    tap_events = 0;
    for (size_t k = 0; k < n_collected; k++)
        sw_tigo_observer_push_frame(o, &collected[k], times[k]);
    assert_int_equal(tap_events, 0);
    assert_string_equal(d.text, want);
    assert_int_equal(sw_tigo_observer_get_transport_counters(o)->receive_packets, 2);
    free(want);
    free(a.text);
    free(b.text);
    free(d.text);
    free_steps(s, ns);
    free(o);
    free(fmt);
    json_decref(root);
}

/* Random multi-piece chunkings of every step give the same lines as whole steps. */
static void test_random_chunkings(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    sw_tigo_format *fmt = malloc(sizeof *fmt);
    sw_tigo_observer *o = malloc(sizeof *o);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    size_t i;
    json_t *c;
    json_array_foreach(tu_get(root, "scenarios"), i, c) {
        sw_tigo_format_init(fmt, (int32_t)tu_int(c, "local_utc_offset_minutes") * 60);
        size_t ns;
        step *s = load_steps(tu_get(c, "steps"), &ns);
        json_t *fork = member_any(c, "expected_stdout_fork", "expected_stdout_fork_without_state_file");
        char *want = expected_text(fork);
        for (int round = 0; round < 300; round++) {
            run r = { 0 };
            reset_run(&r, OUT_FORK, fmt);
            sw_tigo_observer_init(o, 0, on_event, &r);
            for (size_t k = 0; k < ns; k++) {
                size_t pos = 0;
                while (pos < s[k].n) {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    size_t piece = 1 + (size_t)(x % 9);
                    if (piece > s[k].n - pos)
                        piece = s[k].n - pos;
                    sw_tigo_observer_push(o, s[k].bytes + pos, piece, s[k].t, NULL);
                    pos += piece;
                }
            }
            assert_string_equal(r.text, want);
            free(r.text);
        }
        free(want);
        free_steps(s, ns);
    }
    free(o);
    free(fmt);
    json_decref(root);
}

/*
 * A response whose end delimiter was lost, directly followed by the next
 * request: the reference link receiver loses that request too, so the next
 * response is paired with the first request's capture time and the report is
 * dated 20 s early; sunwire's receiver keeps the request and dates it right.
 */
static void test_lost_frame_end(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    json_t *c = json_array_get(tu_get(root, "scenarios"), 0);
    size_t ns;
    step *s = load_steps(tu_get(c, "steps"), &ns);
    assert_int_equal(ns, 4);
    /* Cut the closing 7E 08 off the first response. */
    assert_int_equal(s[1].bytes[s[1].n - 2], 0x7E);
    assert_int_equal(s[1].bytes[s[1].n - 1], 0x08);
    s[1].n -= 2;
    sw_tigo_format *fmt = malloc(sizeof *fmt);
    sw_tigo_format_init(fmt, 0);
    sw_tigo_observer *o = malloc(sizeof *o);
    char *second = NULL;
    {
        json_t *lines = json_array();
        json_array_append(lines, json_array_get(tu_get(c, "expected_stdout_fork"), 1));
        second = expected_text(lines);
        json_decref(lines);
    }
    for (int ref = 0; ref < 2; ref++) {
        run r = { 0 };
        reset_run(&r, OUT_FORK, fmt);
        run_steps(&r, o, ref ? SW_TIGO_OBSERVER_REFERENCE_LINK : 0, s, ns, -1);
        if (ref) {
            /* Same report, anchored on the stale capture time t0 instead of t0 + 20 s. */
            char *early = strdup(second);
            char *ts = strstr(early, "14:16:54.");
            assert_non_null(ts);
            memcpy(ts, "14:16:34.", 9);
            assert_string_equal(r.text, early);
            assert_string_equal(r.diags, "");
            free(early);
        } else {
            /* The clock is created from the second pair, so the report is dated exactly as before. */
            assert_string_equal(r.text, second);
            assert_true(sw_tigo_observer_get_link_counters(o)->restarts >= 1);
        }
        free(r.text);
    }
    free(second);
    /* The 13-byte-only flag alone refuses a firmware-4.x report that the default takes. */
    uint8_t req[64], resp[128];
    size_t rn = 0, pn = 0;
    static const uint8_t rq[5] = { 0x00, 0x01, 0x18, 0x83, 0x04 };
    assert_int_equal(sw_tigo_link_encode(0x1201, 0x0148, rq, 5, 0, req, sizeof req, &rn), SW_OK);
    uint8_t body[] = { 0x00, 0xFE, 0x01, 0x83, 0x95, 0x7C, 0x31, 0x00, 0x74, 0x01, 0x14, 0x63, 0x0E,
                       0x2B, 0x61, 0x58, 0xFF, 0x03, 0x21, 0x58, 0x81, 0x00, 0x6E, 0x8F, 0xA0, 0x7E, 0x00 };
    assert_int_equal(sw_tigo_link_encode(0x9201, 0x0149, body, sizeof body, 0, resp, sizeof resp, &pn), SW_OK);
    for (int strict = 0; strict < 2; strict++) {
        run r = { 0 };
        reset_run(&r, OUT_FORK, fmt);
        sw_tigo_observer_init(o, strict ? SW_TIGO_OBSERVER_STRICT_POWER_LENGTH : 0, on_event, &r);
        sw_tigo_observer_push(o, req, rn, 1724509001686961123LL, NULL);
        sw_tigo_observer_push(o, resp, pn, 1724509001716961123LL, NULL);
        assert_int_equal(r.n_power, strict ? 0 : 1);
        assert_int_equal(sw_tigo_observer_get_counters(o)->invalid_power_reports, strict ? 1 : 0);
        if (!strict)
            assert_string_equal(r.text, "{\"event_type\":\"power_report\",\"gateway\":4609,\"node\":116,"
                                        "\"timestamp\":\"2024-08-24T14:16:34.186961123Z\",\"voltage_in\":34.7,"
                                        "\"voltage_out\":34.4,\"current\":0.25,\"dc_dc_duty_cycle\":1.0,"
                                        "\"temperature\":34.4,\"rssi\":126}\n");
        free(r.text);
    }
    free_steps(s, ns);
    free(o);
    free(fmt);
    json_decref(root);
}

static uint64_t link_errors(const sw_tigo_link_counters *l)
{
    return l->runts + l->giants + l->checksums + l->noise + l->restarts;
}

/*
 * Garbage, then a real capture: the garbage must reach the link layer's error
 * paths and produce nothing it cannot account for, and the capture pushed
 * after it must give exactly the lines it gives on a fresh observer.
 */
static void test_garbage_then_recovery(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    json_t *c = json_array_get(tu_get(root, "scenarios"), 0);
    size_t ns;
    step *s = load_steps(tu_get(c, "steps"), &ns);
    char *want = expected_text(member_any(c, "expected_stdout_fork", "expected_stdout_fork_without_state_file"));
    assert_true(strlen(want) > 0);
    sw_tigo_format *fmt = malloc(sizeof *fmt);
    sw_tigo_format_init(fmt, (int32_t)tu_int(c, "local_utc_offset_minutes") * 60);
    sw_tigo_observer *o = malloc(sizeof *o);
    uint64_t x = 0x243F6A8885A308D3ull;
    uint8_t buf[4096];
    for (int ref = 0; ref < 2; ref++) {
        run r = { 0 };
        reset_run(&r, OUT_FORK, fmt);
        sw_tigo_observer_init(o, ref ? SW_TIGO_OBSERVER_REFERENCE : 0, on_event, &r);
        for (int round = 0; round < 200; round++) {
            for (size_t i = 0; i < sizeof buf; i++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                /* Bias towards frame bytes so that the parsers get exercised. */
                uint8_t b = (uint8_t)x;
                buf[i] = (x >> 8) % 7 == 0 ? 0x7E : (x >> 8) % 11 == 0 ? 0x07 : b;
            }
            /* Times of 1970: the capture below is decades later, so no clock runs backwards. */
            size_t used = 0;
            assert_int_equal(sw_tigo_observer_push(o, buf, sizeof buf, (int64_t)round * 1000000000LL, &used), 0);
            assert_int_equal(used, sizeof buf);
        }
        const sw_tigo_link_counters *lc = sw_tigo_observer_get_link_counters(o);
        const sw_tigo_observer_counters *ac = sw_tigo_observer_get_counters(o);
        assert_true(lc->noise > 10000);
        assert_true(lc->checksums > 0);
        assert_true(lc->runts > 0);
        if (ref)
            assert_int_equal(lc->restarts, 0); /* the reference receiver never restarts a frame */
        else
            assert_true(lc->restarts > 0);
        /* Every line printed is a report the observer counted as emitted. */
        assert_int_equal((uint64_t)r.n_power, ac->power_reports_emitted);
        assert_true(ac->power_reports_emitted <= ac->power_reports);

        /* Recovery: the capture, pushed right after the garbage (which may
         * end inside a frame), gives exactly its lines. */
        reset_run(&r, OUT_FORK, fmt);
        uint64_t before = sw_tigo_observer_get_link_counters(o)->frames;
        for (size_t k = 0; k < ns; k++)
            sw_tigo_observer_push(o, s[k].bytes, s[k].n, s[k].t, NULL);
        if (strcmp(r.text, want) != 0)
            fail_msg("after garbage (flags %d):\n got:\n%s want:\n%s", ref, r.text, want);
        assert_true(sw_tigo_observer_get_link_counters(o)->frames - before >= ns);
        free(r.text);
    }
    free(want);
    free_steps(s, ns);
    free(o);
    free(fmt);
    json_decref(root);
}

/*
 * Every scenario stream with each byte flipped in turn. A CRC-16 catches
 * every error of up to 16 bits, so a flip can only cost frames: when as many
 * frames came through as on the clean stream, the lines must be the clean
 * ones; otherwise fewer frames, and never more reports, than the clean
 * stream. Most flips must actually cost a frame (the flips reach frames).
 */
static void test_byte_flips(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    sw_tigo_format *fmt = malloc(sizeof *fmt);
    sw_tigo_observer *o = malloc(sizeof *o);
    size_t i;
    json_t *c;
    size_t flips = 0, lost_frame = 0;
    json_array_foreach(tu_get(root, "scenarios"), i, c) {
        sw_tigo_format_init(fmt, (int32_t)tu_int(c, "local_utc_offset_minutes") * 60);
        size_t ns;
        step *s = load_steps(tu_get(c, "steps"), &ns);
        for (int ref = 0; ref < 2; ref++) {
            unsigned flags = ref ? SW_TIGO_OBSERVER_REFERENCE : 0;
            run clean = { 0 };
            reset_run(&clean, OUT_FORK, fmt);
            run_steps(&clean, o, flags, s, ns, -1);
            uint64_t clean_frames = sw_tigo_observer_get_link_counters(o)->frames;
            uint64_t clean_errors = link_errors(sw_tigo_observer_get_link_counters(o));
            for (size_t k = 0; k < ns; k++) {
                for (size_t b = 0; b < s[k].n; b++) {
                    run r = { 0 };
                    reset_run(&r, OUT_FORK, fmt);
                    s[k].bytes[b] ^= 0x5A;
                    run_steps(&r, o, flags, s, ns, -1);
                    s[k].bytes[b] ^= 0x5A;
                    const sw_tigo_link_counters *lc = sw_tigo_observer_get_link_counters(o);
                    flips++;
                    assert_true(lc->frames <= clean_frames);
                    assert_true(r.n_power <= clean.n_power);
                    if (lc->frames == clean_frames) {
                        if (strcmp(r.text, clean.text) != 0)
                            fail_msg("%s: byte %zu of step %zu flipped, no frame lost, yet:\n%s want:\n%s",
                                     tu_str(c, "name"), b, k, r.text, clean.text);
                    } else {
                        lost_frame++;
                        /* A lost frame is accounted for by the link layer, or is
                         * still open when the stream ends (its 7E 08 was hit). */
                        assert_true(link_errors(lc) > clean_errors ||
                                    sw_tigo_link_receiver_state(&o->run.stack.link) == SW_TIGO_LINK_FRAME);
                    }
                    free(r.text);
                }
            }
            free(clean.text);
        }
        free_steps(s, ns);
    }
    print_message("%zu byte flips, %zu of them cost a frame\n", flips, lost_frame);
    assert_true(flips > 1000);
    assert_true(lost_frame * 10 > flips * 9);
    free(o);
    free(fmt);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_enumeration_sequence),
        cmocka_unit_test(test_fw4_observations),
        cmocka_unit_test(test_event_contents),
        cmocka_unit_test(test_infrastructure_only_on_change),
        cmocka_unit_test(test_taps_and_frames),
        cmocka_unit_test(test_random_chunkings),
        cmocka_unit_test(test_lost_frame_end),
        cmocka_unit_test(test_garbage_then_recovery),
        cmocka_unit_test(test_byte_flips),
    };
    return cmocka_run_group_tests_name("tigo/observer", tests, NULL, NULL);
}
