/*
 * The observer's API contract: init clears all run state whatever memory it
 * is given, the struct can be moved between pushes, callbacks can stop a
 * push, and power reports come as ready-made readings.
 */
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo_barcode.h"
#include "sunwire/tigo_observer.h"
#include "testutil.h"

typedef struct step {
    uint8_t *bytes;
    size_t n;
    int64_t t;
} step;

typedef struct steps {
    json_t *root;
    step *s;
    size_t n;
} steps;

/* One scenario of observer_scenarios.json (index 2: identity, node table and a report). */
static void load(steps *st, size_t scenario)
{
    st->root = tu_load_json("tigo/observer_scenarios.json");
    json_t *arr = tu_get(json_array_get(tu_get(st->root, "scenarios"), scenario), "steps");
    st->n = json_array_size(arr);
    st->s = calloc(st->n, sizeof *st->s);
    for (size_t i = 0; i < st->n; i++) {
        json_t *j = json_array_get(arr, i);
        st->s[i].bytes = tu_hex_member(j, "bus_hex", &st->s[i].n);
        st->s[i].t = tu_int(j, "clock_unix_ns");
    }
}

static void unload(steps *st)
{
    for (size_t i = 0; i < st->n; i++)
        free(st->s[i].bytes);
    free(st->s);
    json_decref(st->root);
}

/* Everything the observer tells, flattened for comparison. */
#define MAX_LOG 64
typedef struct obs_log {
    size_t n;
    struct {
        int kind;
        uint16_t gateway, node;
        int64_t t;
        int code;
        char barcode[SW_TIGO_BARCODE_MAX];
    } e[MAX_LOG];
    sw_tigo_observer *expect_owner; /* NULL: not checked (the struct moves) */
} obs_log;

static int log_event(sw_tigo_observer *o, const sw_tigo_observer_event *ev, void *user)
{
    obs_log *l = user;
    assert_non_null(o);
    if (l->expect_owner)
        assert_ptr_equal(o, l->expect_owner);
    assert_true(l->n < MAX_LOG);
    memset(&l->e[l->n], 0, sizeof l->e[l->n]);
    l->e[l->n].kind = ev->kind;
    switch (ev->kind) {
    case SW_TIGO_OBSERVER_POWER_REPORT:
        l->e[l->n].gateway = ev->u.power.gateway;
        l->e[l->n].node = ev->u.power.node;
        l->e[l->n].t = ev->u.power.timestamp_ns;
        if (ev->u.power.node_barcode)
            strcpy(l->e[l->n].barcode, ev->u.power.node_barcode);
        break;
    case SW_TIGO_OBSERVER_INFRASTRUCTURE:
        l->e[l->n].gateway = ev->u.infrastructure.gateway;
        l->e[l->n].code = (int)ev->u.infrastructure.cause;
        break;
    case SW_TIGO_OBSERVER_DIAGNOSTIC:
        l->e[l->n].gateway = ev->u.diagnostic.gateway;
        l->e[l->n].code = (int)ev->u.diagnostic.code;
        break;
    }
    l->n++;
    return 0;
}

static void assert_same_log(const obs_log *a, const obs_log *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_memory_equal(&a->e[i], &b->e[i], sizeof a->e[i]);
}

static void push_all(sw_tigo_observer *o, const steps *st)
{
    for (size_t i = 0; i < st->n; i++) {
        size_t used = 0;
        assert_int_equal(sw_tigo_observer_push(o, st->s[i].bytes, st->s[i].n, st->s[i].t, &used), 0);
        assert_int_equal(used, st->s[i].n);
    }
}

/* Init on memory full of garbage behaves exactly as init on zeroed memory:
 * the part init clears is one sub-struct, so no field can be left out. */
static void test_init_on_garbage(void **state)
{
    (void)state;
    steps st;
    load(&st, 2);
    sw_tigo_observer *clean = calloc(1, sizeof *clean);
    sw_tigo_observer *dirty = malloc(sizeof *dirty);
    memset(dirty, 0xA5, sizeof *dirty);
    obs_log *lc = calloc(1, sizeof *lc), *ld = calloc(1, sizeof *ld);
    sw_tigo_observer_init(clean, 0, log_event, lc);
    sw_tigo_observer_init(dirty, 0, log_event, ld);
    assert_memory_equal(&clean->run.counters, &dirty->run.counters, sizeof clean->run.counters);
    assert_false(sw_tigo_observer_enumerating(dirty));
    assert_int_equal(sw_tigo_observer_state(dirty)->n_gateways, 0);
    assert_int_equal(sw_tigo_observer_state(dirty)->n_nodes, 0);
    assert_int_equal(sw_tigo_observer_get_link_counters(dirty)->frames, 0);
    assert_int_equal(sw_tigo_observer_get_transport_counters(dirty)->receive_packets, 0);
    push_all(clean, &st);
    push_all(dirty, &st);
    assert_true(lc->n >= 2);
    assert_same_log(lc, ld);
    assert_memory_equal(sw_tigo_observer_get_counters(clean), sw_tigo_observer_get_counters(dirty),
                        sizeof(sw_tigo_observer_counters));
    assert_memory_equal(sw_tigo_observer_get_transport_counters(clean), sw_tigo_observer_get_transport_counters(dirty),
                        sizeof(sw_tigo_transport_counters));
    assert_true(sw_tigo_state_equal(sw_tigo_observer_state(clean), sw_tigo_observer_state(dirty)));
    free(clean);
    free(dirty);
    free(lc);
    free(ld);
    unload(&st);
}

/* Copied to a new address before every push, cut mid-frame, the old copy
 * poisoned and freed: the same events as an observer that stayed put. */
static void test_observer_moves(void **state)
{
    (void)state;
    steps st;
    load(&st, 2);
    obs_log *still = calloc(1, sizeof *still), *moving = calloc(1, sizeof *moving);
    sw_tigo_observer *o = malloc(sizeof *o);
    sw_tigo_observer_init(o, 0, log_event, still);
    sw_tigo_observer_set_transport_tap(o, NULL, NULL);
    push_all(o, &st);

    sw_tigo_observer_init(o, 0, log_event, moving);
    for (size_t i = 0; i < st.n; i++) {
        size_t cut = st.s[i].n / 2;
        const size_t pieces[2][2] = { { 0, cut }, { cut, st.s[i].n } };
        for (int p = 0; p < 2; p++) {
            sw_tigo_observer *m = malloc(sizeof *m);
            memcpy(m, o, sizeof *o);
            memset(o, 0x5A, sizeof *o);
            free(o);
            o = m;
            assert_int_equal(sw_tigo_observer_push(o, st.s[i].bytes + pieces[p][0], pieces[p][1] - pieces[p][0],
                                                   st.s[i].t, NULL),
                             0);
        }
    }
    assert_same_log(still, moving);
    assert_int_equal(sw_tigo_observer_get_counters(o)->power_reports_emitted, 1);
    free(o);
    free(still);
    free(moving);
    unload(&st);
}

/* Power readings: one per power report, values decoded, identity resolved. */
typedef struct readings {
    size_t n;
    sw_tigo_power_reading r[8];
    const sw_tigo_observer *owner;
    unsigned obs_events_power;
    sw_tigo_power_report report; /* from the general event, to compare */
} readings;

static int on_reading(sw_tigo_observer *o, const sw_tigo_power_reading *r, void *user)
{
    readings *rs = user;
    assert_ptr_equal(o, rs->owner);
    assert_true(rs->n < 8);
    rs->r[rs->n++] = *r;
    return 0;
}

static int keep_report(sw_tigo_observer *o, const sw_tigo_observer_event *ev, void *user)
{
    (void)o;
    readings *rs = user;
    if (ev->kind == SW_TIGO_OBSERVER_POWER_REPORT) {
        rs->obs_events_power++;
        rs->report = *ev->u.power.report;
    }
    return 0;
}

static void test_power_readings(void **state)
{
    (void)state;
    steps st;
    load(&st, 2);
    readings *rs = calloc(1, sizeof *rs);
    sw_tigo_observer *o = malloc(sizeof *o);
    rs->owner = o;
    sw_tigo_observer_init(o, 0, keep_report, rs);
    sw_tigo_observer_set_power_cb(o, on_reading, rs);
    push_all(o, &st);
    assert_int_equal(rs->n, 1);
    assert_int_equal(rs->obs_events_power, 1);
    const sw_tigo_power_reading *r = &rs->r[0];
    assert_string_equal(r->barcode, "4-A2346FZ");
    assert_true(r->has_node_address);
    assert_memory_equal(r->node_address, "\x04\xC0\x5B\x40\x00\xA2\x34\x6F", 8);
    assert_int_equal(r->rssi, 132);
    assert_int_equal(r->rssi, rs->report.rssi);
    assert_int_equal(r->slot_counter, rs->report.slot_counter);
    /* Values are the report's physical ones, from its raw fields. */
    assert_true(r->voltage_in == rs->report.voltage_in_raw / 20.0);
    assert_true(r->voltage_out == rs->report.voltage_out_raw / 10.0);
    assert_true(r->current == rs->report.current_raw / 200.0);
    assert_true(r->duty_cycle == rs->report.duty_cycle_raw / 255.0);
    assert_true(r->temperature == rs->report.temperature_signed / 10.0);
    assert_true(r->voltage_in > 0);
    assert_true(r->timestamp_ns > 0);
    const sw_tigo_gateway_record *g = sw_tigo_observer_state(o)->n_gateways
                                          ? &sw_tigo_observer_state(o)->gateways[0]
                                          : NULL;
    if (g && g->has_address && g->id == r->gateway_id) {
        assert_true(r->has_gateway_address);
        assert_memory_equal(r->gateway_address, g->address, 8);
    }

    /* Without a general callback the readings still come; removing the callback stops them. */
    readings *only = calloc(1, sizeof *only);
    only->owner = o;
    sw_tigo_observer_init(o, 0, NULL, NULL);
    sw_tigo_observer_set_power_cb(o, on_reading, only);
    push_all(o, &st);
    assert_int_equal(only->n, 1);
    assert_memory_equal(&only->r[0], r, sizeof *r);
    sw_tigo_observer_init(o, 0, NULL, NULL);
    sw_tigo_observer_set_power_cb(o, on_reading, only);
    sw_tigo_observer_set_power_cb(o, NULL, NULL);
    push_all(o, &st);
    assert_int_equal(only->n, 1);
    free(only);
    free(rs);
    free(o);
    unload(&st);
}

/* A callback's non-zero return ends the push and comes back from it. */
static int stop_on_power(sw_tigo_observer *o, const sw_tigo_power_reading *r, void *user)
{
    (void)o;
    (void)r;
    (*(unsigned *)user)++;
    return 9;
}

static void test_stop(void **state)
{
    (void)state;
    steps st;
    load(&st, 2);
    unsigned calls = 0;
    sw_tigo_observer *o = malloc(sizeof *o);
    sw_tigo_observer_init(o, 0, NULL, NULL);
    sw_tigo_observer_set_power_cb(o, stop_on_power, &calls);
    int stopped = 0;
    for (size_t i = 0; i < st.n; i++) {
        size_t used = 0;
        int rc = sw_tigo_observer_push(o, st.s[i].bytes, st.s[i].n, st.s[i].t, &used);
        if (rc) {
            assert_int_equal(rc, 9);
            assert_true(used <= st.s[i].n);
            stopped++;
        } else {
            assert_int_equal(used, st.s[i].n);
        }
    }
    assert_int_equal(calls, 1);
    assert_int_equal(stopped, 1);
    free(o);
    unload(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_on_garbage),
        cmocka_unit_test(test_observer_moves),
        cmocka_unit_test(test_power_readings),
        cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
