/*
 * Unit tests for the typed events (model/model.h): each kind's name and its
 * JSON form, which the live view, the history and InfluxDB store, and the
 * model handing events to every sink's on_event hook.
 */
#include <string.h>

#include "model/model.h"
#include "testutil.h"

static void check(const sw_event *ev, const char *kind, const char *json)
{
    char buf[512];
    size_t len;
    assert_string_equal(sw_event_kind_name(ev->kind), kind);
    assert_int_equal(sw_event_json(ev, buf, sizeof buf, &len), SW_OK);
    assert_string_equal(buf, json);
    assert_int_equal(len, strlen(json));
}

static void test_kinds(void **state)
{
    (void)state;
    sw_event ev = {.kind = SW_EVENT_SOURCE_UP, .source = "roof", .time_ns = 1};
    ev.u.source_up.address = "192.0.2.10:502";
    check(&ev, "source_up", "{\"source\":\"roof\",\"address\":\"192.0.2.10:502\"}");
    ev = (sw_event){.kind = SW_EVENT_SOURCE_DOWN, .source = "house"};
    ev.u.source_down.error = "connection refused";
    check(&ev, "source_down", "{\"source\":\"house\",\"error\":\"connection refused\"}");
    ev = (sw_event){.kind = SW_EVENT_UNMAPPED_PANEL, .source = "roof"};
    ev.u.unmapped_panel.barcode = "4-C3F1A2B";
    check(&ev, "unmapped_panel", "{\"source\":\"roof\",\"barcode\":\"4-C3F1A2B\"}");
    ev = (sw_event){.kind = SW_EVENT_INFRASTRUCTURE, .source = "roof"};
    ev.u.infrastructure.gateway = 4609;
    ev.u.infrastructure.cause = "node_table";
    check(&ev, "tigo_infrastructure", "{\"source\":\"roof\",\"gateway\":\"4609\",\"cause\":\"node_table\"}");
    ev = (sw_event){.kind = SW_EVENT_RCT_FAULT, .source = "house"};
    ev.u.rct_fault.object = "fault[1].flt";
    ev.u.rct_fault.value = 0x00000a00;
    ev.u.rct_fault.faults = "a, b";
    check(&ev, "rct_fault",
          "{\"source\":\"house\",\"object\":\"fault[1].flt\",\"value\":\"0x00000A00\",\"faults\":\"a, b\"}");
    /* Missing text is an empty string, text is escaped. */
    ev = (sw_event){.kind = SW_EVENT_SOURCE_DOWN, .source = "a\"b"};
    check(&ev, "source_down", "{\"source\":\"a\\\"b\",\"error\":\"\"}");
    assert_string_equal(sw_event_kind_name((sw_event_kind)0), "unknown");
}

static void test_too_small(void **state)
{
    (void)state;
    sw_event ev = {.kind = SW_EVENT_SOURCE_UP, .source = "roof"};
    ev.u.source_up.address = "192.0.2.10:502";
    char buf[16];
    size_t len = 99;
    assert_int_equal(sw_event_json(&ev, buf, sizeof buf, &len), SW_ERR_NO_SPACE);
    assert_int_equal(len, 0);
    assert_int_equal(sw_event_json(NULL, buf, sizeof buf, &len), SW_ERR_INVALID_ARGUMENT);
}

struct seen {
    int events;
    sw_event_kind last;
};

static void on_event(void *self, const sw_event *ev)
{
    struct seen *s = self;
    s->events++;
    s->last = ev->kind;
}

static void test_dispatch(void **state)
{
    (void)state;
    static const sw_sink_ops listening = {.name = "listening", .on_event = on_event};
    static const sw_sink_ops deaf = {.name = "deaf"};
    sw_model *m = sw_model_new(NULL);
    assert_non_null(m);
    struct seen a = {0}, b = {0};
    assert_int_equal(sw_model_add_sink(m, (sw_sink){&listening, &a}), SW_OK);
    assert_int_equal(sw_model_add_sink(m, (sw_sink){&deaf, NULL}), SW_OK);
    assert_int_equal(sw_model_add_sink(m, (sw_sink){&listening, &b}), SW_OK);
    sw_event ev = {.kind = SW_EVENT_RCT_FAULT, .source = "house"};
    sw_model_event(m, &ev);
    sw_model_event(m, NULL);
    assert_int_equal(a.events, 1);
    assert_int_equal(b.events, 1);
    assert_int_equal(a.last, SW_EVENT_RCT_FAULT);
    sw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
