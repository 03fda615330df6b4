/*
 * Unit tests for the field tables (model/fields.h): the descriptors point at
 * the members they name, the generic readers return what the record holds,
 * and the JSON walk writes every field an output carries, under its name.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "sunwire/json.h"
#include "testutil.h"

static void fill_panel(sw_panel *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->source, sizeof p->source, "roof");
    p->gateway_id = 4;
    p->node_id = 17;
    snprintf(p->barcode, sizeof p->barcode, "4-C3F2ACK");
    snprintf(p->name, sizeof p->name, "east-1");
    snprintf(p->string_name, sizeof p->string_name, "east");
    p->mapped = true;
    p->online = true;
    p->last_seen_ns = INT64_C(1750000000123456789);
    p->voltage_in = 35.25;
    p->voltage_out = 33.5;
    p->current_in = 8.125;
    p->power_w = 286.40625;
    p->duty_cycle = 0.75;
    p->temperature_c = 41.5;
    p->rssi = 143;
    p->energy_total_wh = 123456.5;
    p->energy_today_wh = 1234.25;
}

/* Every descriptor reads back exactly the member named by its table row. */
static void test_panel_descriptors(void **state)
{
    (void)state;
    sw_panel p;
    fill_panel(&p);
    assert_true(sw_panel_field_count >= 17);
    const sw_field *f = sw_field_find(sw_panel_fields, sw_panel_field_count, "voltage_in");
    assert_non_null(f);
    assert_int_equal(f->offset, offsetof(sw_panel, voltage_in));
    assert_string_equal(f->unit, "V");
    assert_true(sw_field_number(f, &p) == 35.25);
    f = sw_field_find(sw_panel_fields, sw_panel_field_count, "rssi");
    assert_int_equal(sw_field_int(f, &p), 143);
    f = sw_field_find(sw_panel_fields, sw_panel_field_count, "name");
    assert_string_equal(sw_field_text(f, &p), "east-1");
    f = sw_field_find(sw_panel_fields, sw_panel_field_count, "node_id");
    assert_int_equal(sw_field_uint(f, &p), 17);
    f = sw_field_find(sw_panel_fields, sw_panel_field_count, "last_seen_ns");
    assert_int_equal(sw_field_int(f, &p), INT64_C(1750000000123456789));
    f = sw_field_find(sw_panel_fields, sw_panel_field_count, "mapped");
    assert_true(sw_field_bool(f, &p));
    assert_null(sw_field_find(sw_panel_fields, sw_panel_field_count, "no_such_member"));
    /* Members are unique and every field has a meaning. */
    for (size_t i = 0; i < sw_panel_field_count; i++) {
        assert_true(strlen(sw_panel_fields[i].meaning) > 0);
        for (size_t k = i + 1; k < sw_panel_field_count; k++)
            assert_string_not_equal(sw_panel_fields[i].member, sw_panel_fields[k].member);
    }
    /* Counters are Prometheus counters and Home Assistant total_increasing. */
    for (size_t i = 0; i < sw_panel_field_count; i++) {
        const sw_field *c = &sw_panel_fields[i];
        if (!(c->flags & SW_FF_COUNTER))
            continue;
        assert_string_equal(c->prom.type, "counter");
        assert_string_equal(c->ha.state_class, "total_increasing");
    }
    /* Instantaneous readings come from reports and are never counters; what night = zero
     * zeroes is one of them. */
    size_t live = 0;
    for (size_t i = 0; i < sw_panel_field_count; i++) {
        const sw_field *l = &sw_panel_fields[i];
        if (l->flags & SW_FF_NIGHT_ZERO)
            assert_true(l->flags & SW_FF_LIVE);
        if (!(l->flags & SW_FF_LIVE))
            continue;
        live++;
        assert_true(l->flags & SW_FF_REPORTED);
        assert_false(l->flags & (SW_FF_COUNTER | SW_FF_ID));
        assert_true(l->type != SW_FT_TIME && l->type != SW_FT_TEXT);
    }
    assert_true(live >= 5);
}

static void test_source_kind(void **state)
{
    (void)state;
    sw_source_status s;
    memset(&s, 0, sizeof s);
    s.kind = SW_SOURCE_RCT_TCP;
    s.bytes = UINT64_C(18446744073709551000);
    const sw_field *f = sw_field_find(sw_source_fields, sw_source_field_count, "kind");
    assert_string_equal(sw_field_text(f, &s), "rct-tcp");
    f = sw_field_find(sw_source_fields, sw_source_field_count, "bytes");
    assert_true(sw_field_uint(f, &s) == UINT64_C(18446744073709551000));
    assert_string_equal(sw_source_kind_name((sw_source_kind)99), "unknown");
}

/* The JSON walk: each output gets exactly the fields it names, with their values. */
static void check_json(const sw_field *fields, size_t n, sw_field_output o, const void *rec)
{
    char buf[4096];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_object_begin(&j);
    sw_fields_json(&j, fields, n, o, rec, SW_FIELD_TIME_NS);
    sw_json_object_end(&j);
    const char *text = sw_json_finish(&j);
    assert_non_null(text);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    assert_non_null(root);
    size_t carried = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_field *f = &fields[i];
        const char *key = sw_field_key(f, o);
        if (!key)
            continue;
        carried++;
        json_t *v = json_object_get(root, key);
        assert_non_null(v);
        switch (f->type) {
        case SW_FT_TEXT:
        case SW_FT_KIND:
            assert_string_equal(json_string_value(v), sw_field_text(f, rec));
            break;
        case SW_FT_BOOL:
            assert_true(json_is_boolean(v));
            assert_int_equal(json_is_true(v), sw_field_bool(f, rec));
            break;
        case SW_FT_DOUBLE:
            assert_true(fabs(json_number_value(v) - sw_field_number(f, rec)) < 1e-9);
            break;
        default:
            assert_true(json_is_integer(v));
            assert_int_equal(json_integer_value(v), sw_field_int(f, rec));
        }
    }
    assert_int_equal(json_object_size(root), carried);
    json_decref(root);
}

static void test_json_walk(void **state)
{
    (void)state;
    sw_panel p;
    fill_panel(&p);
    for (int o = SW_OUT_JSON; o <= SW_OUT_API; o++)
        check_json(sw_panel_fields, sw_panel_field_count, (sw_field_output)o, &p);
    sw_string_agg s = {.name = "east", .panels = 3, .online = 2, .power_sum_w = 500.5, .power_min_w = 200,
                       .power_max_w = 300.5, .power_avg_w = 250.25, .energy_today_wh = 10, .energy_total_wh = 1e6};
    check_json(sw_string_fields, sw_string_field_count, SW_OUT_JSON, &s);
    check_json(sw_string_fields, sw_string_field_count, SW_OUT_API, &s);
    sw_inverter inv = {.name = "house", .host = "192.0.2.7", .port = 8899, .serial = "X1", .online = true,
                       .last_poll_ns = 1000};
    check_json(sw_inverter_fields, sw_inverter_field_count, SW_OUT_JSON, &inv);
    sw_source_status src = {.name = "roof", .kind = SW_SOURCE_TIGO_TCP, .bytes = 77, .retries = 3};
    check_json(sw_source_fields, sw_source_field_count, SW_OUT_API, &src);
}

/* Non-finite numbers become null; a never-seen time is null in RFC 3339 form. */
static void test_json_special_values(void **state)
{
    (void)state;
    sw_panel p;
    fill_panel(&p);
    p.power_w = NAN;
    p.last_seen_ns = 0;
    char buf[4096];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_object_begin(&j);
    sw_fields_json(&j, sw_panel_fields, sw_panel_field_count, SW_OUT_API, &p, SW_FIELD_TIME_RFC3339_MS);
    sw_json_object_end(&j);
    const char *text = sw_json_finish(&j);
    assert_non_null(strstr(text, "\"power_w\":null"));
    assert_non_null(strstr(text, "\"last_seen\":null"));
    p.last_seen_ns = INT64_C(1750000000123456789);
    sw_json_init(&j, buf, sizeof buf);
    sw_json_object_begin(&j);
    sw_fields_json(&j, sw_panel_fields, sw_panel_field_count, SW_OUT_API, &p, SW_FIELD_TIME_RFC3339_MS);
    sw_json_object_end(&j);
    text = sw_json_finish(&j);
    assert_non_null(strstr(text, "\"last_seen\":\"2025-06-15T15:06:40.123Z\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_panel_descriptors),
        cmocka_unit_test(test_source_kind),
        cmocka_unit_test(test_json_walk),
        cmocka_unit_test(test_json_special_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
