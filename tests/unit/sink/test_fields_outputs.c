/*
 * The outputs derive from the field tables: for every panel and string field
 * the tables declare, the MQTT state, Home Assistant discovery, Prometheus
 * text, Influx line and history columns carry it under its declared name,
 * with its declared unit. A field added to a table with a name for an output
 * is checked here without touching this file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fields.h"
#include "model/model.h"
#include "sink/sink_history.h"
#include "sink/sink_influx.h"
#include "sink/sink_mqtt.h"
#include "sink/sink_prometheus.h"
#include "testutil.h"

#define T0 INT64_C(1750000000000000000)

/* A model with one reported panel in one string, and two peers beside it so that every
 * field, the performance index too, has a value. */
static sw_model *one_panel(void)
{
    sw_model_options o;
    sw_model_options_defaults(&o);
    o.performance_min_wh = 0.0;
    sw_model *m = sw_model_new(&o);
    assert_non_null(m);
    sw_panel_map_entry map[3] = {{.barcode = "4-C3F1A2B", .name = "South 3", .string_name = "South"},
                                 {.barcode = "4-C3F1A3C", .name = "South 4", .string_name = "South"},
                                 {.barcode = "4-C3F1A4D", .name = "South 5", .string_name = "South"}};
    assert_int_equal(sw_model_set_panel_map(m, map, 3), SW_OK);
    sw_panel_report r = {.time_ns = T0, .voltage_in = 35.5, .voltage_out = 33.25, .current_in = 4.25,
                         .duty_cycle = 0.8125, .temperature_c = 41.5, .rssi = 143};
    for (uint16_t k = 1; k <= 2; k++) {
        r.barcode = map[k].barcode;
        for (int t = 0; t < 2; t++) {
            r.time_ns = T0 + t * INT64_C(30000000000);
            assert_int_equal(sw_model_panel_report(m, "roof", 4609, (uint16_t)(3 + k), &r), SW_OK);
        }
    }
    r = (sw_panel_report){.time_ns = T0, .voltage_in = 35.5, .voltage_out = 33.25, .current_in = 8.5,
                          .duty_cycle = 0.8125, .temperature_c = 41.5, .rssi = 143, .barcode = "4-C3F1A2B"};
    assert_int_equal(sw_model_panel_report(m, "roof", 4609, 3, &r), SW_OK);
    r.time_ns = T0 + INT64_C(30000000000);
    assert_int_equal(sw_model_panel_report(m, "roof", 4609, 3, &r), SW_OK);
    /* twice its peers' energy */
    assert_true(fabs(sw_model_panel_find(m, "roof", 4609, 3)->performance - 2.0) < 1e-9);
    return m;
}

/* The word a Prometheus metric name carries for a base unit (naming best practice). */
static const char *prom_unit_word(const char *unit)
{
    static const struct { const char *unit, *word; } words[] = {
        {"V", "_volts"}, {"A", "_amperes"}, {"W", "_watts"}, {"Wh", "_joules"},
        {"\xC2\xB0" "C", "_celsius"}, {"s", "_seconds"},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(unit, words[i].unit) == 0)
            return words[i].word;
    return NULL;
}

static void check_mqtt_state(const sw_field *fields, size_t n, const char *text, const void *rec)
{
    json_error_t err;
    json_t *st = json_loads(text, 0, &err);
    assert_non_null(st);
    size_t carried = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_field *f = &fields[i];
        if (!f->key.mqtt)
            continue;
        carried++;
        json_t *v = json_object_get(st, f->key.mqtt);
        if (!v)
            fail_msg("MQTT state lacks %s (%s)", f->key.mqtt, f->member);
        if (f->type == SW_FT_DOUBLE && isnan(sw_field_number(f, rec)))
            assert_true(json_is_null(v)); /* not known (yet): null, never a made-up number */
        else if (f->type == SW_FT_DOUBLE)
            assert_true(fabs(json_number_value(v) - sw_field_number(f, rec) * f->ha.scale) < 0.01);
        else if (f->type == SW_FT_TEXT)
            assert_string_equal(json_string_value(v), sw_field_text(f, rec));
    }
    assert_int_equal(json_object_size(st), carried);
    json_decref(st);
}

struct captured {
    size_t n;
    json_t *payload[64];
    char topic[64][256];
};

static void capture(void *user, const char *topic, const char *payload, size_t len)
{
    struct captured *c = user;
    (void)len;
    assert_true(c->n < 64);
    snprintf(c->topic[c->n], sizeof c->topic[c->n], "%s", topic);
    json_error_t err;
    c->payload[c->n] = json_loads(payload, 0, &err);
    assert_non_null(c->payload[c->n]);
    c->n++;
}

static void test_panel_everywhere(void **state)
{
    (void)state;
    sw_model *m = one_panel();
    const sw_panel *p = sw_model_panel_find(m, "roof", 4609, 3);
    assert_non_null(p);

    /* MQTT state: every field with an MQTT name, with its value (scaled as declared). */
    char buf[8192];
    size_t len;
    assert_int_equal(sw_mqtt_panel_state(buf, sizeof buf, p, &len), SW_OK);
    check_mqtt_state(sw_panel_fields, sw_panel_field_count, buf, p);

    /* Home Assistant: one sensor per field with a HA name, reading that MQTT key, with the declared unit. */
    sw_mqtt_config c;
    char err[64];
    sw_mqtt_config_defaults(&c);
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "entity", err, sizeof err), SW_OK);
    struct captured cap = {0};
    assert_int_equal(sw_ha_discover_panel(&c, p, buf, sizeof buf, capture, &cap), SW_OK);
    size_t sensors = 0;
    for (size_t i = 0; i < sw_panel_field_count; i++) {
        const sw_field *f = &sw_panel_fields[i];
        if (!f->ha.name)
            continue;
        sensors++;
        char want_tmpl[128];
        snprintf(want_tmpl, sizeof want_tmpl, "{{ value_json.%s }}", f->key.mqtt);
        bool found = false;
        for (size_t k = 0; k < cap.n && !found; k++) {
            const char *tmpl = json_string_value(json_object_get(cap.payload[k], "value_template"));
            if (!tmpl || strcmp(tmpl, want_tmpl) != 0)
                continue;
            found = true;
            const char *unit = json_string_value(json_object_get(cap.payload[k], "unit_of_measurement"));
            if (f->ha.unit)
                assert_string_equal(unit, f->ha.unit);
            else
                assert_null(unit);
            /* An unscaled value keeps the model's unit. */
            if (f->ha.unit && f->ha.scale == 1.0)
                assert_string_equal(f->ha.unit, f->unit);
        }
        if (!found)
            fail_msg("no Home Assistant sensor reads %s", f->key.mqtt);
    }
    assert_int_equal(cap.n, sensors);
    for (size_t k = 0; k < cap.n; k++)
        json_decref(cap.payload[k]);

    /* Prometheus: a family per field with a metric, typed as declared, with a sample, named for its unit. */
    char *text;
    assert_int_equal(sw_prometheus_render(m, &text, &len), SW_OK);
    for (size_t i = 0; i < sw_panel_field_count; i++) {
        const sw_field *f = &sw_panel_fields[i];
        if (!f->prom.metric)
            continue;
        char want[256];
        snprintf(want, sizeof want, "# TYPE %s %s\n", f->prom.metric, f->prom.type);
        if (!strstr(text, want))
            fail_msg("no family %s", want);
        snprintf(want, sizeof want, "\n%s{", f->prom.metric);
        if (!strstr(text, want))
            fail_msg("no sample of %s", f->prom.metric);
        const char *word = prom_unit_word(f->unit);
        if (word && !strstr(f->prom.metric, word))
            fail_msg("%s does not say its unit %s", f->prom.metric, f->unit);
        if (f->flags & SW_FF_COUNTER)
            assert_non_null(strstr(f->prom.metric, "_total"));
    }
    free(text);

    /* Influx: identity fields as tags, the others as fields, under their Influx names. */
    assert_int_equal(sw_influx_panel_line(buf, sizeof buf, p, T0, SW_INFLUX_PRECISION_NS, &len), SW_OK);
    /* Tags end at the first space that is not escaped. */
    const char *space = buf;
    while ((space = strchr(space + 1, ' ')) && space[-1] == '\\')
        ;
    assert_non_null(space);
    for (size_t i = 0; i < sw_panel_field_count; i++) {
        const sw_field *f = &sw_panel_fields[i];
        if (!f->key.influx)
            continue;
        char want[128];
        snprintf(want, sizeof want, "%s%s=", (f->flags & SW_FF_ID) ? "," : "", f->key.influx);
        const char *at = strstr(buf, want);
        bool in_tags = at && at < space;
        if (!at || in_tags != ((f->flags & SW_FF_ID) != 0))
            fail_msg("Influx line lacks %s in the right part: %s", f->key.influx, buf);
    }

    /* History: a column per field with a history name, after the row time. */
    size_t ncols;
    const char *const *cols = sw_history_columns(SW_HISTORY_PANELS, &ncols);
    assert_string_equal(cols[0], "ts_ns");
    size_t k = 1;
    for (size_t i = 0; i < sw_panel_field_count; i++)
        if (sw_panel_fields[i].key.sql)
            assert_string_equal(cols[k++], sw_panel_fields[i].key.sql);
    assert_int_equal(k, ncols);
    sw_model_free(m);
}

static void test_string_everywhere(void **state)
{
    (void)state;
    sw_model *m = one_panel();
    const sw_string_agg *s = sw_model_string_find(m, "South");
    assert_non_null(s);
    char buf[4096];
    size_t len;
    assert_int_equal(sw_mqtt_string_state(buf, sizeof buf, s, &len), SW_OK);
    check_mqtt_state(sw_string_fields, sw_string_field_count, buf, s);
    char *text;
    assert_int_equal(sw_prometheus_render(m, &text, &len), SW_OK);
    for (size_t i = 0; i < sw_string_field_count; i++) {
        const sw_field *f = &sw_string_fields[i];
        if (!f->prom.metric)
            continue;
        char want[256];
        snprintf(want, sizeof want, "\n%s{string=\"South\"} ", f->prom.metric);
        if (!strstr(text, want))
            fail_msg("no sample %s", want);
    }
    free(text);
    assert_int_equal(sw_influx_string_line(buf, sizeof buf, s, T0, SW_INFLUX_PRECISION_NS, &len), SW_OK);
    for (size_t i = 0; i < sw_string_field_count; i++) {
        const sw_field *f = &sw_string_fields[i];
        char want[128];
        snprintf(want, sizeof want, "%s=", f->key.influx);
        if (f->key.influx && !strstr(buf, want))
            fail_msg("Influx string line lacks %s", want);
    }
    sw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_panel_everywhere),
        cmocka_unit_test(test_string_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
