/*
 * Unit tests for the dashboard's JSON API (src/web/api.c) against a real
 * model (src/daemon) filled with a small synthetic installation. Every answer
 * is parsed back with jansson and compared with what the test fed in.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"
#include "testutil.h"
#include "web/web_internal.h"

#define NS INT64_C(1000000000)

/* 2026-06-15 10:00:00 UTC, from the calendar (timegm), not from the code under test. */
static int64_t t0_ns(void)
{
    struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 5, .tm_mday = 15, .tm_hour = 10 };
    return (int64_t)timegm(&tm) * NS;
}

static int64_t utc_ns(int y, int mo, int d, int h, int mi)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };
    return (int64_t)timegm(&tm) * NS;
}

static int32_t plus_one_hour(void *user, int64_t unix_ns)
{
    (void)user; (void)unix_ns;
    return 3600;
}

typedef struct fixture {
    sw_model *model;
    sw_web_api api;
    sw_web_today today;
    int64_t now;
} fixture;

static const struct {
    const char *string, *name, *barcode;
    uint16_t node;
    double v, i, temp;
    int rssi;
} PANELS[] = {
    { "east", "east-1", "4-A0001B", 2, 34.5, 6.0, 31.5, 140 },
    { "east", "east \"2\" ☀", "4-A0002C", 3, 33.0, 5.5, 32.0, 150 },
    { "west", "west-1", "4-B0001D", 4, 35.0, 4.0, 30.0, 120 },
};
#define N_PANELS (sizeof PANELS / sizeof PANELS[0])

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    sw_model_options o;
    sw_model_options_defaults(&o);
    f->model = sw_model_new(&o);
    assert_non_null(f->model);
    f->now = t0_ns();

    sw_panel_map_entry map[N_PANELS + 1];
    memset(map, 0, sizeof map);
    for (size_t i = 0; i < N_PANELS; i++) {
        snprintf(map[i].barcode, sizeof map[i].barcode, "%s", PANELS[i].barcode);
        snprintf(map[i].name, sizeof map[i].name, "%s", PANELS[i].name);
        snprintf(map[i].string_name, sizeof map[i].string_name, "%s", PANELS[i].string);
    }
    /* A mapped panel whose node is known but that never reports. */
    snprintf(map[N_PANELS].barcode, sizeof map[N_PANELS].barcode, "4-B0002E");
    snprintf(map[N_PANELS].name, sizeof map[N_PANELS].name, "west-2");
    snprintf(map[N_PANELS].string_name, sizeof map[N_PANELS].string_name, "west");
    assert_int_equal(sw_model_set_panel_map(f->model, map, N_PANELS + 1), SW_OK);

    for (size_t i = 0; i < N_PANELS; i++) {
        sw_panel_report r = { .time_ns = f->now, .voltage_in = PANELS[i].v, .voltage_out = PANELS[i].v - 0.5,
                              .current_in = PANELS[i].i, .duty_cycle = 0.9, .temperature_c = PANELS[i].temp,
                              .rssi = PANELS[i].rssi, .barcode = PANELS[i].barcode };
        assert_int_equal(sw_model_panel_report(f->model, "roof", 4609, PANELS[i].node, &r), SW_OK);
    }
    assert_non_null(sw_model_panel(f->model, "roof", 4609, 5, "4-B0002E", NULL));

    sw_source_status *s = sw_model_source(f->model, "roof", SW_SOURCE_TIGO_TCP, "192.0.2.10:502");
    s->connected = true;
    s->last_data_ns = f->now;
    s->frames = 77;
    s->crc_errors = 2;
    sw_model_source_changed(f->model, s, f->now);
    s = sw_model_source(f->model, "garage", SW_SOURCE_TIGO_SERIAL, "/dev/ttyUSB1");
    s->connected = false;
    snprintf(s->last_error, sizeof s->last_error, "no such device");
    sw_model_source_changed(f->model, s, f->now);
    s = sw_model_source(f->model, "quiet", SW_SOURCE_TIGO_TCP, "192.0.2.11:502");
    s->connected = true;
    s->last_data_ns = f->now - 600 * NS;
    sw_model_source_changed(f->model, s, f->now);

    sw_gateway g = { .gateway_id = 4609 };
    snprintf(g.source, sizeof g.source, "roof");
    snprintf(g.version, sizeof g.version, "Mgate Version G8.59");
    snprintf(g.address, sizeof g.address, "04:C0:5B:30:00:02:BE:16");
    assert_int_equal(sw_model_gateway_set(f->model, &g, f->now), SW_OK);

    sw_inverter inv = { .port = 8899, .online = true, .last_poll_ns = f->now };
    snprintf(inv.name, sizeof inv.name, "house");
    snprintf(inv.host, sizeof inv.host, "192.0.2.20");
    snprintf(inv.serial, sizeof inv.serial, "SN123");
    assert_int_equal(sw_model_inverter_set(f->model, &inv, f->now), SW_OK);
    sw_inverter_value v = { .object_id = 0x959930BF, .is_number = true, .number = 0.5, .timestamp_ns = f->now };
    snprintf(v.inverter, sizeof v.inverter, "house");
    snprintf(v.object_name, sizeof v.object_name, "battery.soc");
    v.text = "0.5";
    assert_int_equal(sw_model_inverter_value_set(f->model, &v), SW_OK);
    v.object_id = 0x37F9D5CA;
    v.number = 4;
    snprintf(v.object_name, sizeof v.object_name, "fault[0].flt");
    v.text = "4";
    assert_int_equal(sw_model_inverter_value_set(f->model, &v), SW_OK);

    f->today.series = calloc(SW_WEB_SERIES_MAX, sizeof *f->today.series);
    f->api.model = f->model;
    f->api.today = &f->today;
    f->api.now_ns = f->now;
    f->api.source_dead_ns = 60 * NS;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sw_model_free(f->model);
    free(f->today.series);
    free(f);
    return 0;
}

/* GET path?k=v&... through the API; returns the parsed body and the status. */
static json_t *api_get(const sw_web_api *api, const char *path, const char *const *kv, int *status)
{
    sw_web_query q = { 0 };
    for (size_t i = 0; kv && kv[i]; i += 2)
        sw_web_query_add(&q, kv[i], kv[i + 1]);
    sw_http_request req = { .method = "GET", .path = path, .conn_ = &q };
    sw_http_response resp = { .status = 200 };
    assert_int_equal(sw_web_api_handle(api, &req, &resp), 0);
    assert_non_null(resp.body);
    assert_string_equal(resp.content_type, "application/json");
    assert_string_equal(resp.cache_control, "no-store");
    json_error_t je;
    json_t *j = json_loadb(resp.body, resp.body_len, 0, &je);
    if (!j)
        fail_msg("%s: body is not JSON (%s): %.200s", path, je.text, resp.body);
    free(resp.body);
    *status = resp.status;
    return j;
}

static json_t *find_by(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        json_t *k = json_object_get(e, key);
        if (json_is_string(k) && strcmp(json_string_value(k), value) == 0)
            return e;
    }
    return NULL;
}

static void expect_error(const sw_web_api *api, const char *path, const char *const *kv, int want_status,
                         const char *text)
{
    int status = 0;
    json_t *j = api_get(api, path, kv, &status);
    if (status != want_status)
        fail_msg("%s: status %d, want %d", path, status, want_status);
    const char *err = json_string_value(json_object_get(j, "error"));
    assert_non_null(err);
    if (text && !strstr(err, text))
        fail_msg("%s: error '%s' does not mention '%s'", path, err, text);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), want_status);
    json_decref(j);
}

static void test_state(void **state)
{
    fixture *f = *state;
    int status;
    json_t *j = api_get(&f->api, "/api/state", NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(j, "now")), "2026-06-15T10:00:00Z");
    assert_false(json_boolean_value(json_object_get(j, "history")));

    json_t *panels = json_object_get(j, "panels");
    assert_int_equal(json_array_size(panels), N_PANELS + 1);
    for (size_t i = 0; i < N_PANELS; i++) {
        json_t *p = find_by(panels, "barcode", PANELS[i].barcode);
        assert_non_null(p);
        assert_string_equal(json_string_value(json_object_get(p, "name")), PANELS[i].name);
        assert_string_equal(json_string_value(json_object_get(p, "string")), PANELS[i].string);
        assert_true(json_boolean_value(json_object_get(p, "online")));
        assert_true(json_boolean_value(json_object_get(p, "mapped")));
        assert_float_equal(json_real_value(json_object_get(p, "power_w")), PANELS[i].v * PANELS[i].i, 1e-9);
        assert_float_equal(json_real_value(json_object_get(p, "voltage_in")), PANELS[i].v, 0);
        assert_float_equal(json_real_value(json_object_get(p, "voltage_out")), PANELS[i].v - 0.5, 0);
        assert_float_equal(json_real_value(json_object_get(p, "current_in")), PANELS[i].i, 0);
        assert_float_equal(json_real_value(json_object_get(p, "temperature_c")), PANELS[i].temp, 0);
        assert_int_equal(json_integer_value(json_object_get(p, "rssi")), PANELS[i].rssi);
        assert_int_equal(json_integer_value(json_object_get(p, "node_id")), PANELS[i].node);
        assert_int_equal(json_integer_value(json_object_get(p, "gateway_id")), 4609);
        assert_string_equal(json_string_value(json_object_get(p, "last_seen")), "2026-06-15T10:00:00Z");
        char id[64];
        snprintf(id, sizeof id, "roof:4609:%u", PANELS[i].node);
        assert_string_equal(json_string_value(json_object_get(p, "id")), id);
    }
    json_t *silent = find_by(panels, "name", "west-2");
    assert_non_null(silent);
    assert_false(json_boolean_value(json_object_get(silent, "online")));
    assert_true(json_is_null(json_object_get(silent, "last_seen")));

    /* Strings: the named ones, then "total", each summing its own panels. */
    json_t *strings = json_object_get(j, "strings");
    assert_int_equal(json_array_size(strings), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(strings, 2), "name")), "total");
    double east = PANELS[0].v * PANELS[0].i + PANELS[1].v * PANELS[1].i, west = PANELS[2].v * PANELS[2].i;
    json_t *e = find_by(strings, "name", "east"), *w = find_by(strings, "name", "west");
    assert_float_equal(json_real_value(json_object_get(e, "power_w")), east, 1e-9);
    assert_float_equal(json_real_value(json_object_get(w, "power_w")), west, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(w, "online")), 1);
    assert_true(json_integer_value(json_object_get(w, "panels")) >= 1);
    assert_float_equal(json_real_value(json_object_get(find_by(strings, "name", "total"), "power_w")), east + west,
                       1e-9);

    json_t *sources = json_object_get(j, "sources");
    assert_int_equal(json_array_size(sources), 3);
    json_t *roof = find_by(sources, "name", "roof");
    assert_string_equal(json_string_value(json_object_get(roof, "kind")), "tigo-tcp");
    assert_string_equal(json_string_value(json_object_get(roof, "address")), "192.0.2.10:502");
    assert_int_equal(json_integer_value(json_object_get(roof, "frames")), 77);
    assert_int_equal(json_integer_value(json_object_get(roof, "crc_errors")), 2);

    json_t *invs = json_object_get(j, "inverters");
    assert_int_equal(json_array_size(invs), 1);
    json_t *inv = json_array_get(invs, 0);
    assert_string_equal(json_string_value(json_object_get(inv, "serial")), "SN123");
    json_t *soc = find_by(json_object_get(inv, "values"), "name", "battery.soc");
    assert_non_null(soc);
    assert_float_equal(json_real_value(json_object_get(soc, "value")), 0.5, 0);
    assert_string_equal(json_string_value(json_object_get(soc, "object_id")), "0x959930BF");

    json_t *gws = json_object_get(j, "gateways");
    assert_int_equal(json_array_size(gws), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(gws, 0), "version")), "Mgate Version G8.59");
    json_decref(j);
}

static bool has_alert(json_t *alerts, const char *kind, const char *subject)
{
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) {
        if (strcmp(json_string_value(json_object_get(a, "kind")), kind) == 0 &&
            (!subject || strcmp(json_string_value(json_object_get(a, "subject")), subject) == 0))
            return true;
    }
    return false;
}

static void test_alerts(void **state)
{
    fixture *f = *state;
    int status;
    json_t *a = api_get(&f->api, "/api/alerts", NULL, &status);
    assert_int_equal(status, 200);
    assert_true(has_alert(a, "source_down", "garage"));
    assert_true(has_alert(a, "source_silent", "quiet"));
    assert_false(has_alert(a, "source_silent", "roof"));
    assert_true(has_alert(a, "panel_offline", "roof:4609:5"));
    assert_false(has_alert(a, "panel_offline", "roof:4609:2"));
    assert_true(has_alert(a, "inverter_fault", "house"));
    assert_false(has_alert(a, "inverter_offline", NULL));
    assert_int_equal(json_array_size(a), 4);
    json_decref(a);

    /* Everything asleep at night: one calm line instead of one warning per panel. */
    sw_model_tick(f->model, f->now + 3 * 3600 * NS);
    f->api.now_ns = f->now + 3 * 3600 * NS;
    a = api_get(&f->api, "/api/alerts", NULL, &status);
    assert_true(has_alert(a, "all_panels_offline", NULL));
    assert_false(has_alert(a, "panel_offline", NULL));
    json_decref(a);
}

/* Control write records: /api/control lists them all, each inverter of /api/inverters its own, and a
 * blocked setting is an alert. */
static void test_control(void **state)
{
    fixture *f = *state;
    int status;
    json_t *j = api_get(&f->api, "/api/control", NULL, &status);
    assert_int_equal(status, 200);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);

    sw_control *c = sw_model_control(f->model, "house", "power_mng.soc_min");
    c->allowed = true;
    c->writes[SW_CONTROL_VERIFIED] = 2;
    c->writes[SW_CONTROL_IGNORED] = 1;
    c->writes[SW_CONTROL_RATE_LIMITED] = 3;
    c->writes[SW_CONTROL_FLASH_BUDGET] = 1;
    c->retries = 4;
    c->flash_per_day = 24;
    c->flash_left = 0;
    c->blocked = true;
    c->blocked_until_ns = utc_ns(2026, 6, 16, 9, 30) + 250000000; /* shown to the millisecond */
    sw_model_control(f->model, "garage", NULL)->writes[SW_CONTROL_INVALID] = 1;
    sw_model_control_changed(f->model, f->now);

    j = api_get(&f->api, "/api/control", NULL, &status);
    assert_int_equal(json_array_size(j), 2);
    json_t *r = find_by(j, "object", "power_mng.soc_min");
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "inverter")), "house");
    assert_true(json_is_true(json_object_get(r, "allowed")));
    assert_int_equal(json_integer_value(json_object_get(r, "retries")), 4);
    assert_int_equal(json_integer_value(json_object_get(r, "flash_per_day")), 24);
    assert_int_equal(json_integer_value(json_object_get(r, "flash_left")), 0);
    assert_true(json_is_true(json_object_get(r, "blocked")));
    assert_string_equal(json_string_value(json_object_get(r, "blocked_until")), "2026-06-16T09:30:00.250Z");
    json_t *w = json_object_get(r, "writes");
    assert_int_equal(json_integer_value(json_object_get(w, "verified")), 2);
    assert_int_equal(json_integer_value(json_object_get(w, "failed")), 1);
    assert_int_equal(json_integer_value(json_object_get(w, "refused")), 4);
    json_t *refused = json_object_get(r, "refused"), *failed = json_object_get(r, "failed");
    assert_int_equal(json_integer_value(json_object_get(refused, "rate_limited")), 3);
    assert_int_equal(json_integer_value(json_object_get(refused, "flash_budget")), 1);
    assert_int_equal(json_integer_value(json_object_get(refused, "not_allowed")), 0); /* every reason, zeros too */
    assert_int_equal(json_integer_value(json_object_get(failed, "ignored")), 1);
    assert_int_equal(json_integer_value(json_object_get(failed, "flash_budget")), 0);
    assert_null(json_object_get(refused, "ignored"));
    json_t *u = find_by(j, "inverter", "garage");
    assert_string_equal(json_string_value(json_object_get(u, "object")), "");
    assert_true(json_is_null(json_object_get(u, "blocked_until")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "refused"), "invalid")), 1);
    json_decref(j);
    expect_error(&f->api, "/api/control", (const char *const[]){ "inverter", "house", NULL }, 400, "inverter");

    /* The inverter's own records ride along with it (so /api/state has them too). */
    j = api_get(&f->api, "/api/inverters", NULL, &status);
    json_t *ctl = json_object_get(json_array_get(j, 0), "control");
    assert_int_equal(json_array_size(ctl), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ctl, 0), "object")), "power_mng.soc_min");
    json_decref(j);

    j = api_get(&f->api, "/api/alerts", NULL, &status);
    assert_true(has_alert(j, "control_blocked", "house"));
    size_t i;
    json_t *a;
    json_array_foreach(j, i, a) {
        if (strcmp(json_string_value(json_object_get(a, "kind")), "control_blocked") == 0) {
            assert_string_equal(json_string_value(json_object_get(a, "level")), "warning");
            assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "power_mng.soc_min until 2026-06-16T09:30:00Z"));
        }
    }
    json_decref(j);
    c->blocked = false;
    c->blocked_until_ns = 0;
    j = api_get(&f->api, "/api/alerts", NULL, &status);
    assert_false(has_alert(j, "control_blocked", NULL));
    json_decref(j);
}

/* Problems raised in the model: /api/problems lists every record, /api/state the active ones. */
static void test_problems(void **state)
{
    fixture *f = *state;
    int status;
    json_t *j = api_get(&f->api, "/api/problems", NULL, &status);
    assert_int_equal(status, 200);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);

    assert_int_equal(sw_model_problem_raise(f->model, SW_PROBLEM_NO_POWER, "roof", "4-A0002C", "east \"2\" ☀",
                                            "0.1 W while peers make 200 W", f->now), SW_OK);
    assert_int_equal(sw_model_problem_raise(f->model, SW_PROBLEM_CONTROLLER_SILENT, "roof", "roof", NULL, "90 s",
                                            f->now + NS), SW_OK);
    assert_int_equal(sw_model_problem_clear(f->model, SW_PROBLEM_CONTROLLER_SILENT, "roof", "roof", f->now + 60 * NS),
                     SW_OK);
    j = api_get(&f->api, "/api/problems", NULL, &status);
    assert_int_equal(json_array_size(j), 2);
    json_t *p = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(p, "kind")), "no_power");
    assert_string_equal(json_string_value(json_object_get(p, "title")), "Optimizer passes no power");
    assert_string_equal(json_string_value(json_object_get(p, "subject_kind")), "panel");
    assert_string_equal(json_string_value(json_object_get(p, "name")), "east \"2\" ☀");
    /* The tile it belongs to: the panel's id in /api/panels. */
    assert_string_equal(json_string_value(json_object_get(p, "panel")), "roof:4609:3");
    assert_true(json_is_true(json_object_get(p, "active")));
    assert_string_equal(json_string_value(json_object_get(p, "since")), "2026-06-15T10:00:00Z");
    assert_true(json_is_null(json_object_get(p, "until")));
    json_t *bus = json_array_get(j, 1);
    assert_true(json_is_null(json_object_get(bus, "panel")));
    assert_true(json_is_false(json_object_get(bus, "active")));
    assert_string_equal(json_string_value(json_object_get(bus, "until")), "2026-06-15T10:01:00Z");
    json_decref(j);

    j = api_get(&f->api, "/api/problems", (const char *const[]){ "active", "true", NULL }, &status);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    j = api_get(&f->api, "/api/problems", (const char *const[]){ "active", "false", NULL }, &status);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "kind")), "controller_silent");
    json_decref(j);
    expect_error(&f->api, "/api/problems", (const char *const[]){ "active", "maybe", NULL }, 400, "active");
    expect_error(&f->api, "/api/problems", (const char *const[]){ "kind", "hot", NULL }, 400, "'kind'");

    j = api_get(&f->api, "/api/state", NULL, &status);
    json_t *ps = json_object_get(j, "problems");
    assert_int_equal(json_array_size(ps), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ps, 0), "subject")), "4-A0002C");
    json_decref(j);
}

static void test_panels_filters(void **state)
{
    fixture *f = *state;
    int status;
    json_t *j = api_get(&f->api, "/api/panels", (const char *const[]){ "string", "east", NULL }, &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(j), 2);
    json_decref(j);
    j = api_get(&f->api, "/api/panels", (const char *const[]){ "online", "false", NULL }, &status);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "name")), "west-2");
    json_decref(j);
    j = api_get(&f->api, "/api/panels", (const char *const[]){ "string", "west", "online", "true", NULL }, &status);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "name")), "west-1");
    json_decref(j);

    expect_error(&f->api, "/api/panels", (const char *const[]){ "string", "north", NULL }, 404, "unknown string");
    expect_error(&f->api, "/api/panels", (const char *const[]){ "online", "maybe", NULL }, 400, "online");
    expect_error(&f->api, "/api/panels", (const char *const[]){ "sort", "name", NULL }, 400, "'sort'");
}

static void test_panel_lookup(void **state)
{
    fixture *f = *state;
    /* By id, name (with quotes and non-ASCII) and barcode: the same record. */
    const char *keys[] = { "roof:4609:3", "east \"2\" ☀", "4-A0002C" };
    for (size_t i = 0; i < 3; i++) {
        int status;
        json_t *p = api_get(&f->api, "/api/panel", (const char *const[]){ "id", keys[i], NULL }, &status);
        assert_int_equal(status, 200);
        assert_string_equal(json_string_value(json_object_get(p, "name")), PANELS[1].name);
        assert_string_equal(json_string_value(json_object_get(p, "barcode")), PANELS[1].barcode);
        json_decref(p);
    }
    expect_error(&f->api, "/api/panel", NULL, 400, "id");
    expect_error(&f->api, "/api/panel", (const char *const[]){ "id", "", NULL }, 400, "id");
    expect_error(&f->api, "/api/panel", (const char *const[]){ "id", "roof:4609:99", NULL }, 404, "unknown panel");
    expect_error(&f->api, "/api/nothing", NULL, 404, "no such API endpoint");
    expect_error(&f->api, "/api/state", (const char *const[]){ "x", "1", NULL }, 400, "'x'");
}

static void test_devices(void **state)
{
    fixture *f = *state;
    int status;
    json_t *j = api_get(&f->api, "/api/devices", NULL, &status);
    assert_int_equal(status, 200);
    json_t *gw = json_array_get(json_object_get(j, "gateways"), 0);
    json_t *nodes = json_object_get(gw, "nodes");
    assert_int_equal(json_array_size(nodes), N_PANELS + 1);
    for (size_t i = 0; i < N_PANELS; i++) {
        json_t *n = find_by(nodes, "barcode", PANELS[i].barcode);
        assert_non_null(n);
        assert_int_equal(json_integer_value(json_object_get(n, "node_id")), PANELS[i].node);
    }
    assert_int_equal(json_array_size(json_object_get(j, "sources")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "inverters")), 1);
    json_decref(j);

    j = api_get(&f->api, "/api/sources", NULL, &status);
    assert_int_equal(json_array_size(j), 3);
    assert_string_equal(json_string_value(json_object_get(find_by(j, "name", "garage"), "last_error")),
                        "no such device");
    json_decref(j);
    j = api_get(&f->api, "/api/strings", NULL, &status);
    assert_int_equal(json_array_size(j), 3);
    json_decref(j);
    j = api_get(&f->api, "/api/inverters", NULL, &status);
    assert_int_equal(json_array_size(json_object_get(json_array_get(j, 0), "values")), 2);
    json_decref(j);
}

/* Today's chart from memory: 5-minute buckets averaged, placed at the bucket's start. */
static void test_history_day_memory(void **state)
{
    fixture *f = *state;
    int64_t day = f->now / NS / 86400;
    /* 10:00:10 and 10:04:50 share a bucket; 10:05:00 starts the next. */
    sw_web_today_add(&f->today, 'p', "roof:4609:2", day, 36000 + 10, 100.0);
    sw_web_today_add(&f->today, 'p', "roof:4609:2", day, 36000 + 290, 200.0);
    sw_web_today_add(&f->today, 'p', "roof:4609:2", day, 36000 + 300, 50.0);
    sw_web_today_add(&f->today, 'p', "roof:4609:2", day - 1, 100, 999.0); /* late, yesterday: ignored */
    int status;
    json_t *j = api_get(&f->api, "/api/history/day", (const char *const[]){ "panel", "east-1", NULL }, &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(j, "day")), "2026-06-15");
    assert_string_equal(json_string_value(json_object_get(j, "origin")), "memory");
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "panel");
    assert_string_equal(json_string_value(json_object_get(j, "id")), "roof:4609:2");
    assert_string_equal(json_string_value(json_object_get(j, "start")), "2026-06-15T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(j, "end")), "2026-06-16T00:00:00Z");
    json_t *pts = json_object_get(j, "points");
    assert_int_equal(json_array_size(pts), 2);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(pts, 0), 0)), utc_ns(2026, 6, 15, 10, 0) / 1000000);
    assert_float_equal(json_real_value(json_array_get(json_array_get(pts, 0), 1)), 150.0, 1e-3);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(pts, 1), 0)), utc_ns(2026, 6, 15, 10, 5) / 1000000);
    assert_float_equal(json_real_value(json_array_get(json_array_get(pts, 1), 1)), 50.0, 1e-3);
    json_decref(j);

    /* A new day resets the series. */
    sw_web_today_add(&f->today, 'p', "roof:4609:2", day + 1, 60, 7.0);
    const sw_web_series *s = sw_web_today_find(&f->today, 'p', "roof:4609:2");
    assert_int_equal(s->day, day + 1);
    assert_int_equal(s->count[0], 1);
    assert_int_equal(s->count[120], 0);

    /* A string with no samples yet: an empty list, not an error. */
    j = api_get(&f->api, "/api/history/day", (const char *const[]){ "string", "west", "day", "today", NULL }, &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(json_object_get(j, "points")), 0);
    json_decref(j);

    expect_error(&f->api, "/api/history/day", NULL, 400, "panel or string");
    expect_error(&f->api, "/api/history/day", (const char *const[]){ "panel", "east-1", "string", "east", NULL },
                 400, "not both");
    expect_error(&f->api, "/api/history/day", (const char *const[]){ "string", "east", "day", "2026-02-30", NULL },
                 400, "YYYY-MM-DD");
    expect_error(&f->api, "/api/history/day", (const char *const[]){ "string", "east", "day", "2026-06-16", NULL },
                 400, "future");
    expect_error(&f->api, "/api/history/day", (const char *const[]){ "string", "east", "day", "2026-06-14", NULL },
                 404, "[history]");
    expect_error(&f->api, "/api/history/day", (const char *const[]){ "string", "south", NULL }, 404, "unknown string");
    expect_error(&f->api, "/api/history/day", (const char *const[]){ "panel", "nope", NULL }, 404, "unknown panel");
    expect_error(&f->api, "/api/history/day", (const char *const[]){ "string", "east", "days", "3", NULL }, 400,
                 "'days'");
}

/* A fake history store that records what it was asked and answers from a table. */
typedef struct fake_store {
    char kind[16], name[64];
    int64_t from_ns, to_ns, first_day, last_day;
    int calls;
    sw_err answer;
} fake_store;

static sw_err fake_series(const sw_http_history *history, const char *kind, const char *name, int64_t from_ns,
                          int64_t to_ns, sw_http_point_cb emit, void *emit_user)
{
    fake_store *s = history->user;
    s->calls++;
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->from_ns = from_ns;
    s->to_ns = to_ns;
    if (s->answer != SW_OK)
        return s->answer;
    assert_int_equal(emit(history, from_ns + 3600 * NS, 12.5, emit_user), 0);
    assert_int_equal(emit(history, from_ns + 7200 * NS, 25.0, emit_user), 0);
    return SW_OK;
}

static sw_err fake_daily(const sw_http_history *history, const char *kind, const char *name, int64_t first_day,
                         int64_t last_day, sw_http_day_cb emit, void *emit_user)
{
    fake_store *s = history->user;
    s->calls++;
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->first_day = first_day;
    s->last_day = last_day;
    assert_int_equal(emit(history, first_day - 1, 1.0, emit_user), 0); /* out of range: dropped */
    assert_int_equal(emit(history, first_day, 1000.0, emit_user), 0);
    assert_int_equal(emit(history, last_day, 2000.0, emit_user), 0);
    assert_int_equal(emit(history, last_day, 3000.0, emit_user), 0);   /* repeated: dropped */
    return s->answer;
}

static sw_err fake_performance(const sw_http_history *history, const char *kind, const char *name,
                               int64_t first_day, int64_t last_day, sw_http_day_cb emit, void *emit_user)
{
    fake_store *s = history->user;
    s->calls++;
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->first_day = first_day;
    s->last_day = last_day;
    assert_int_equal(emit(history, first_day, 0.97, emit_user), 0);
    assert_int_equal(emit(history, last_day, 0.66, emit_user), 0);
    return s->answer;
}

static void test_history_seam(void **state)
{
    fixture *f = *state;
    fake_store store = { .answer = SW_OK };
    sw_http_history h = { .user = &store, .power_series = fake_series, .daily_energy = fake_daily,
                          .daily_performance = fake_performance };
    f->api.history = &h;
    f->api.utc_offset = plus_one_hour;

    int status;
    json_t *j = api_get(&f->api, "/api/history/day", (const char *const[]){ "panel", "roof:4609:4", "day",
                                                                             "2026-06-14", NULL }, &status);
    assert_int_equal(status, 200);
    /* Local midnight at UTC+1 is 23:00 UTC the evening before; the store is asked by barcode. */
    assert_int_equal(store.from_ns, utc_ns(2026, 6, 13, 23, 0));
    assert_int_equal(store.to_ns, utc_ns(2026, 6, 14, 23, 0));
    assert_string_equal(store.kind, "panel");
    assert_string_equal(store.name, "4-B0001D");
    assert_string_equal(json_string_value(json_object_get(j, "origin")), "history");
    assert_string_equal(json_string_value(json_object_get(j, "start")), "2026-06-13T23:00:00Z");
    json_t *pts = json_object_get(j, "points");
    assert_int_equal(json_array_size(pts), 2);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(pts, 1), 0)), utc_ns(2026, 6, 14, 1, 0) / 1000000);
    assert_float_equal(json_real_value(json_array_get(json_array_get(pts, 1), 1)), 25.0, 0);
    json_decref(j);

    store.answer = SW_ERR_IO;
    expect_error(&f->api, "/api/history/day", (const char *const[]){ "string", "east", NULL }, 500, "history");
    store.answer = SW_ERR_NOT_FOUND; /* a name the store never saw: an empty day */
    j = api_get(&f->api, "/api/history/day", (const char *const[]){ "string", "east", NULL }, &status);
    assert_int_equal(status, 200);
    json_decref(j);

    store.answer = SW_OK;
    j = api_get(&f->api, "/api/history/daily", (const char *const[]){ "days", "7", NULL }, &status);
    assert_int_equal(status, 200);
    int64_t today = (f->now / NS + 3600) / 86400;
    assert_int_equal(store.first_day, today - 6);
    assert_int_equal(store.last_day, today - 1); /* today comes from the live model */
    assert_string_equal(store.kind, "string");
    assert_string_equal(store.name, "total");
    json_t *days = json_object_get(j, "days");
    assert_int_equal(json_array_size(days), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(days, 0), "day")), "2026-06-09");
    assert_float_equal(json_real_value(json_object_get(json_array_get(days, 0), "wh")), 1000.0, 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(days, 1), "day")), "2026-06-14");
    assert_string_equal(json_string_value(json_object_get(json_array_get(days, 2), "day")), "2026-06-15");
    assert_string_equal(json_string_value(json_object_get(j, "first")), "2026-06-09");
    assert_string_equal(json_string_value(json_object_get(j, "last")), "2026-06-15");
    json_decref(j);

    expect_error(&f->api, "/api/history/daily", (const char *const[]){ "days", "0", NULL }, 400, "days");
    expect_error(&f->api, "/api/history/daily", (const char *const[]){ "days", "367", NULL }, 400, "days");
    expect_error(&f->api, "/api/history/daily", (const char *const[]){ "days", "ten", NULL }, 400, "days");

    /* A panel's performance index over weeks: the store's days, by barcode, today from the model. */
    j = api_get(&f->api, "/api/history/performance", (const char *const[]){ "panel", "roof:4609:4", NULL }, &status);
    assert_int_equal(status, 200);
    assert_string_equal(store.kind, "panel");
    assert_string_equal(store.name, "4-B0001D");
    assert_int_equal(store.first_day, today - 55);
    assert_int_equal(store.last_day, today - 1);
    days = json_object_get(j, "days");
    const sw_panel *pp = sw_model_panel_find(f->model, "roof", 4609, 4);
    assert_int_equal(json_array_size(days), isfinite(pp->performance) ? 3 : 2);
    assert_float_equal(json_real_value(json_object_get(json_array_get(days, 1), "performance")), 0.66, 1e-12);
    assert_null(json_object_get(json_array_get(days, 1), "wh"));
    json_decref(j);
    expect_error(&f->api, "/api/history/performance", (const char *const[]){ "string", "east", NULL }, 400, "'string'");
    expect_error(&f->api, "/api/history/performance", NULL, 400, "panel");
    expect_error(&f->api, "/api/history/performance", (const char *const[]){ "panel", "roof:4609:4", "days", "0", NULL },
                 400, "days");
    f->api.history = NULL;
    f->api.utc_offset = NULL;

    /* Without a store: only today, from the model. */
    j = api_get(&f->api, "/api/history/daily", (const char *const[]){ "string", "east", NULL }, &status);
    assert_int_equal(status, 200);
    days = json_object_get(j, "days");
    assert_int_equal(json_array_size(days), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(days, 0), "day")), "2026-06-15");
    json_decref(j);
}

/* Large installations: the answer grows past the first buffer and stays valid JSON. */
static void test_large_state(void **state)
{
    fixture *f = *state;
    for (uint16_t n = 100; n < 700; n++) {
        sw_panel_report r = { .time_ns = f->now, .voltage_in = 30, .current_in = 1, .rssi = 100 };
        assert_int_equal(sw_model_panel_report(f->model, "big", 1, n, &r), SW_OK);
    }
    int status;
    json_t *j = api_get(&f->api, "/api/panels", NULL, &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(j), N_PANELS + 1 + 600);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panels_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panel_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_day_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_seam, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_state, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
