/*
 * Unit tests for the Home Assistant discovery payloads: every message is
 * parsed back with jansson and checked field by field, for each device kind,
 * in device mode and in the legacy per-entity mode. Each value_template is
 * also checked against the state payload the same device publishes, so the
 * two halves of the contract cannot drift apart.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "sink/sink_mqtt.h"
#include "testutil.h"

#define MAX_MSGS 64

struct captured {
    size_t n;
    char topic[MAX_MSGS][512];
    json_t *payload[MAX_MSGS];
};

/* The message published on `topic` (entities come in field-table order, which the tests do not pin). */
static size_t find_topic(const struct captured *c, const char *topic)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->topic[i], topic) == 0)
            return i;
    fail_msg("nothing published on %s", topic);
    return 0;
}

static void capture(void *user, const char *topic, const char *payload, size_t len)
{
    struct captured *c = user;
    assert_true(c->n < MAX_MSGS);
    assert_int_equal(strlen(payload), len);
    snprintf(c->topic[c->n], sizeof c->topic[c->n], "%s", topic);
    json_error_t e;
    c->payload[c->n] = json_loadb(payload, len, 0, &e);
    if (!c->payload[c->n])
        fail_msg("discovery payload for %s is not JSON: %s", topic, e.text);
    c->n++;
}

static void release(struct captured *c)
{
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->payload[i]);
    c->n = 0;
}

static const char *opt_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void assert_opt(json_t *o, const char *key, const char *want)
{
    const char *got = opt_str(o, key);
    if (!want) {
        if (json_object_get(o, key))
            fail_msg("\"%s\" should be absent", key);
        return;
    }
    if (!got || strcmp(got, want) != 0)
        fail_msg("\"%s\": want \"%s\", got \"%s\"", key, want, got ? got : "(absent)");
}

/* "{{ value_json.power }}" -> "power" */
static void template_field(const char *tmpl, char *out, size_t cap)
{
    const char *p = strstr(tmpl, "value_json.");
    assert_non_null(p);
    p += strlen("value_json.");
    size_t n = strcspn(p, " }");
    assert_true(n > 0 && n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* What one entity of a device must look like. */
struct want_entity {
    const char *key, *device_class, *unit, *state_class, *category;
};

static sw_panel sample_panel(void)
{
    sw_panel p;
    memset(&p, 0, sizeof p);
    snprintf(p.source, sizeof p.source, "roof");
    p.gateway_id = 4609;
    p.node_id = 23;
    snprintf(p.barcode, sizeof p.barcode, "4-C3F1A2B");
    snprintf(p.name, sizeof p.name, "South 3");
    snprintf(p.string_name, sizeof p.string_name, "south");
    p.online = true;
    p.last_seen_ns = 1700000000LL * 1000000000LL;
    p.power_w = 300;
    return p;
}

static const struct want_entity panel_want[] = {
    { "power", "power", "W", "measurement", NULL },
    { "voltage_in", "voltage", "V", "measurement", NULL },
    { "voltage_out", "voltage", "V", "measurement", NULL },
    { "current_in", "current", "A", "measurement", NULL },
    { "temperature", "temperature", "\xC2\xB0" "C", "measurement", NULL },
    { "duty_cycle", NULL, "%", "measurement", "diagnostic" },
    { "rssi", NULL, NULL, "measurement", "diagnostic" },
    { "energy_today", "energy", "Wh", "total_increasing", NULL },
    { "energy_total", "energy", "Wh", "total_increasing", NULL },
    { "performance", NULL, "%", "measurement", "diagnostic" },
    { "last_seen", "timestamp", NULL, NULL, "diagnostic" },
    { "loss_15m", NULL, "%", "measurement", "diagnostic" },
    { "loss_day", NULL, "%", "measurement", "diagnostic" },
    { "rssi_trend", NULL, NULL, "measurement", "diagnostic" },
    { "next_hop", NULL, NULL, NULL, "diagnostic" },
};
#define N_PANEL (sizeof panel_want / sizeof panel_want[0])

/* Entities still valid while the panel is offline: available on <base>/status alone. */
static bool night_valid(const struct want_entity *w)
{
    return strcmp(w->key, "energy_today") == 0 || strcmp(w->key, "energy_total") == 0 ||
           strcmp(w->key, "performance") == 0 || strcmp(w->key, "last_seen") == 0;
}

/* Checks one entity's fields; state is the device's state JSON its template must read from. */
static void check_entity(json_t *ent, const char *device_id, const struct want_entity *w, json_t *state)
{
    char uid[256], field[128];
    snprintf(uid, sizeof uid, "%s_%s", device_id, w->key);
    assert_opt(ent, "unique_id", uid);
    /* The entity id Home Assistant is asked for: the unique_id, lower case, '-' as '_'. */
    char eid[300];
    const char *platform = opt_str(ent, "platform"); /* device mode names it; entity mode: in the topic */
    size_t k = (size_t)snprintf(eid, sizeof eid, "%s.", platform ? platform : "sensor");
    for (const char *p = uid; *p; p++)
        eid[k++] = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
    eid[k] = '\0';
    assert_opt(ent, "default_entity_id", eid);
    assert_null(json_object_get(ent, "object_id"));
    assert_opt(ent, "device_class", w->device_class);
    assert_opt(ent, "unit_of_measurement", w->unit);
    assert_opt(ent, "state_class", w->state_class);
    assert_opt(ent, "entity_category", w->category);
    assert_non_null(opt_str(ent, "name"));
    template_field(opt_str(ent, "value_template"), field, sizeof field);
    if (!json_object_get(state, field))
        fail_msg("entity %s reads value_json.%s, which the state payload lacks", uid, field);
}

static void check_device(json_t *dev, const char *id, const char *name, const char *manufacturer,
                         const char *serial, const char *via)
{
    assert_true(json_is_object(dev));
    json_t *ids = json_object_get(dev, "identifiers");
    assert_true(json_is_array(ids));
    assert_int_equal(json_array_size(ids), 1);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), id);
    assert_opt(dev, "name", name);
    assert_opt(dev, "manufacturer", manufacturer);
    assert_opt(dev, "serial_number", serial);
    assert_opt(dev, "via_device", via);
}

static void check_availability(json_t *msg, const char *status_topic, const char *state_topic)
{
    json_t *av = json_object_get(msg, "availability");
    assert_true(json_is_array(av));
    assert_int_equal(json_array_size(av), state_topic ? 2 : 1);
    assert_opt(json_array_get(av, 0), "topic", status_topic);
    assert_null(json_object_get(json_array_get(av, 0), "value_template"));
    if (state_topic) {
        assert_opt(json_array_get(av, 1), "topic", state_topic);
        const char *t = opt_str(json_array_get(av, 1), "value_template");
        assert_non_null(t);
        assert_non_null(strstr(t, "value_json.online"));
    }
    assert_opt(msg, "availability_mode", "all");
}

static json_t *panel_state_json(const sw_panel *p)
{
    char buf[1024];
    size_t len;
    assert_int_equal(sw_mqtt_panel_state(buf, sizeof buf, p, &len), SW_OK);
    return json_loadb(buf, len, 0, NULL);
}

static void test_panel_device_mode(void **state)
{
    (void)state;
    sw_mqtt_config c;
    sw_mqtt_config_defaults(&c);
    sw_panel p = sample_panel();
    struct captured cap = { 0 };
    char buf[8192];
    assert_int_equal(sw_ha_discover_panel(&c, &p, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.topic[0], "homeassistant/device/sunwire_panel_4-C3F1A2B/config");
    json_t *m = cap.payload[0];
    check_device(json_object_get(m, "device"), "sunwire_panel_4-C3F1A2B", "South 3", "Tigo", "4-C3F1A2B",
                 "sunwire_gateway_roof_4609");
    assert_opt(json_object_get(m, "origin"), "name", "sunwire");
    assert_opt(m, "state_topic", "sunwire/panel/4-C3F1A2B/state");
    check_availability(m, "sunwire/status", "sunwire/panel/4-C3F1A2B/state");
    assert_int_equal(json_integer_value(json_object_get(m, "qos")), 1);

    json_t *cmps = json_object_get(m, "components");
    assert_true(json_is_object(cmps));
    assert_int_equal(json_object_size(cmps), N_PANEL);
    json_t *st = panel_state_json(&p);
    for (size_t i = 0; i < N_PANEL; i++) {
        char uid[128];
        snprintf(uid, sizeof uid, "sunwire_panel_4-C3F1A2B_%s", panel_want[i].key);
        json_t *ent = json_object_get(cmps, uid);
        if (!ent)
            fail_msg("component %s missing", uid);
        assert_opt(ent, "platform", "sensor");
        check_entity(ent, "sunwire_panel_4-C3F1A2B", &panel_want[i], st);
        /* Energy and the last report stay available at night: the component overrides the device's
         * availability with the status topic alone; the others inherit the panel's online flag. */
        if (night_valid(&panel_want[i]))
            check_availability(ent, "sunwire/status", NULL);
        else
            assert_null(json_object_get(ent, "availability"));
    }
    json_decref(st);
    release(&cap);
}

static void test_panel_entity_mode(void **state)
{
    (void)state;
    sw_mqtt_config c;
    char err[64];
    sw_mqtt_config_defaults(&c);
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "entity", err, sizeof err), SW_OK);
    assert_int_equal(sw_mqtt_config_set(&c, "discovery_prefix", "ha", err, sizeof err), SW_OK);
    assert_int_equal(sw_mqtt_config_set(&c, "base_topic", "pv", err, sizeof err), SW_OK);
    assert_int_equal(sw_mqtt_config_set(&c, "qos", "0", err, sizeof err), SW_OK);
    sw_panel p = sample_panel();
    struct captured cap = { 0 };
    char buf[8192];
    assert_int_equal(sw_ha_discover_panel(&c, &p, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, N_PANEL);
    json_t *st = panel_state_json(&p);
    for (size_t i = 0; i < N_PANEL; i++) {
        char topic[256];
        /* The ids start with the instance id, derived from base_topic "pv". */
        snprintf(topic, sizeof topic, "ha/sensor/pv_panel_4-C3F1A2B/%s/config", panel_want[i].key);
        json_t *m = cap.payload[find_topic(&cap, topic)];
        assert_null(json_object_get(m, "components"));
        assert_null(json_object_get(m, "platform"));
        check_device(json_object_get(m, "device"), "pv_panel_4-C3F1A2B", "South 3", "Tigo", "4-C3F1A2B",
                     "pv_gateway_roof_4609");
        assert_opt(json_object_get(m, "origin"), "name", "sunwire");
        assert_opt(m, "state_topic", "pv/panel/4-C3F1A2B/state");
        check_availability(m, "pv/status", night_valid(&panel_want[i]) ? NULL : "pv/panel/4-C3F1A2B/state");
        assert_int_equal(json_integer_value(json_object_get(m, "qos")), 0);
        check_entity(m, "pv_panel_4-C3F1A2B", &panel_want[i], st);
    }
    json_decref(st);
    release(&cap);
}

/* Every identifier one daemon announces: device identifiers, via_device links and unique_ids. */
static void collect_ids(const sw_mqtt_config *c, json_t *ids)
{
    sw_panel p = sample_panel();
    sw_gateway g;
    memset(&g, 0, sizeof g);
    snprintf(g.source, sizeof g.source, "tigo");
    g.gateway_id = 4609;
    sw_inverter inv;
    memset(&inv, 0, sizeof inv);
    snprintf(inv.name, sizeof inv.name, "house");
    snprintf(inv.serial, sizeof inv.serial, "SIM0000000001");
    sw_inverter_value v = {.inverter = "house", .object_name = "battery.soc", .unit = "%", .is_number = true};
    const sw_inverter_value *vals[1] = { &v };
    sw_string_agg s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "total");
    const sw_string_agg *aggs[1] = { &s };
    struct captured cap = { 0 };
    static char buf[65536];
    assert_int_equal(sw_ha_discover_panel(c, &p, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(sw_ha_discover_gateway(c, &g, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(sw_ha_discover_strings(c, aggs, 1, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(sw_ha_discover_inverter(c, &inv, vals, 1, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 4);
    for (size_t i = 0; i < cap.n; i++) {
        json_t *dev = json_object_get(cap.payload[i], "device");
        json_array_append(ids, json_array_get(json_object_get(dev, "identifiers"), 0));
        if (json_object_get(dev, "via_device"))
            json_array_append(ids, json_object_get(dev, "via_device"));
        const char *key;
        json_t *ent;
        json_object_foreach(json_object_get(cap.payload[i], "components"), key, ent)
            json_array_append(ids, json_object_get(ent, "unique_id"));
    }
    release(&cap);
}

static bool shares_id(json_t *a, json_t *b)
{
    for (size_t i = 0; i < json_array_size(a); i++)
        for (size_t k = 0; k < json_array_size(b); k++)
            if (strcmp(json_string_value(json_array_get(a, i)), json_string_value(json_array_get(b, k))) == 0)
                return true;
    return false;
}

/* Two daemons with the default source name and gateway id must not share a Home Assistant device. */
static void test_instance_id(void **state)
{
    (void)state;
    sw_mqtt_config a, b;
    char err[128], id[128];
    sw_mqtt_config_defaults(&a);
    sw_mqtt_config_defaults(&b);
    /* The default keeps the identifiers of a single daemon as they were. */
    assert_int_equal(sw_mqtt_instance_id(id, sizeof id, &a), 7);
    assert_string_equal(id, "sunwire");
    assert_int_equal(sw_mqtt_config_set(&b, "base_topic", "home/solar", err, sizeof err), SW_OK);
    assert_true(sw_mqtt_instance_id(id, sizeof id, &b) > 0);
    assert_string_equal(id, "home_solar");

    json_t *ia = json_array(), *ib = json_array();
    collect_ids(&a, ia);
    collect_ids(&b, ib);
    assert_true(json_array_size(ia) >= 8);
    assert_int_equal(json_array_size(ia), json_array_size(ib));
    assert_false(shares_id(ia, ib));
    for (size_t i = 0; i < json_array_size(ib); i++)
        assert_true(strncmp(json_string_value(json_array_get(ib, i)), "home_solar_", 11) == 0);

    /* An explicit instance_id wins over base_topic, so a moved base topic can keep its ids. */
    assert_int_equal(sw_mqtt_config_set(&b, "instance_id", "sunwire", err, sizeof err), SW_OK);
    json_t *ic = json_array();
    collect_ids(&b, ic);
    assert_true(json_equal(ia, ic));
    json_decref(ic);
    json_decref(ia);
    json_decref(ib);

    /* Only characters that need no slugging, and not too many. */
    static const char *const bad[] = { "", "a b", "a/b", "caf\xC3\xA9", "a+b",
        "0123456789012345678901234567890123456789012345678901234567890123456789" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sw_mqtt_config_set(&b, "instance_id", bad[i], err, sizeof err), SW_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(err, "instance_id"));
        assert_string_equal(b.instance_id, "sunwire");
    }
    assert_int_equal(sw_mqtt_config_set(&b, "instance_id", "Roof-2_b", err, sizeof err), SW_OK);
    assert_int_equal(sw_mqtt_instance_id(id, sizeof id, &b), 8);
}

/* unique_id depends on the barcode only: names, strings, node ids and values may change. */
static void test_panel_ids_stable(void **state)
{
    (void)state;
    sw_mqtt_config c;
    sw_mqtt_config_defaults(&c);
    sw_panel a = sample_panel(), b = sample_panel();
    snprintf(b.name, sizeof b.name, "Renamed");
    snprintf(b.string_name, sizeof b.string_name, "west");
    b.node_id = 99;
    b.online = false;
    b.power_w = 0;
    struct captured ca = { 0 }, cb = { 0 };
    char buf[8192];
    assert_int_equal(sw_ha_discover_panel(&c, &a, buf, sizeof buf, capture, &ca), SW_OK);
    assert_int_equal(sw_ha_discover_panel(&c, &b, buf, sizeof buf, capture, &cb), SW_OK);
    assert_string_equal(ca.topic[0], cb.topic[0]);
    json_t *ka = json_object_get(ca.payload[0], "components"), *kb = json_object_get(cb.payload[0], "components");
    const char *k;
    json_t *v;
    json_object_foreach(ka, k, v) {
        json_t *other = json_object_get(kb, k);
        assert_non_null(other);
        assert_string_equal(opt_str(v, "unique_id"), opt_str(other, "unique_id"));
    }
    /* All unique_ids differ from each other. */
    const char *k2;
    json_t *v2;
    json_object_foreach(ka, k, v) {
        json_object_foreach(ka, k2, v2) {
            if (v != v2)
                assert_string_not_equal(opt_str(v, "unique_id"), opt_str(v2, "unique_id"));
        }
    }
    release(&ca);
    release(&cb);
}

static void test_gateway(void **state)
{
    (void)state;
    sw_mqtt_config c;
    sw_mqtt_config_defaults(&c);
    sw_gateway g;
    memset(&g, 0, sizeof g);
    snprintf(g.source, sizeof g.source, "roof");
    g.gateway_id = 4609;
    snprintf(g.address, sizeof g.address, "04:C0:5B:30:00:02:BE:16");
    snprintf(g.version, sizeof g.version, "Mgate Version G8.59");
    struct captured cap = { 0 };
    char buf[8192], sbuf[1024];
    size_t slen;
    assert_int_equal(sw_mqtt_gateway_state(sbuf, sizeof sbuf, &g, &slen), SW_OK);
    json_t *st = json_loadb(sbuf, slen, 0, NULL);

    assert_int_equal(sw_ha_discover_gateway(&c, &g, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.topic[0], "homeassistant/device/sunwire_gateway_roof_4609/config");
    json_t *m = cap.payload[0];
    json_t *dev = json_object_get(m, "device");
    check_device(dev, "sunwire_gateway_roof_4609", "Tigo gateway roof 4609", "Tigo", NULL, NULL);
    assert_opt(dev, "sw_version", "Mgate Version G8.59");
    assert_opt(m, "state_topic", "sunwire/gateway/roof_4609/state");
    check_availability(m, "sunwire/status", NULL);
    json_t *cmps = json_object_get(m, "components");
    assert_int_equal(json_object_size(cmps), 2);
    static const struct want_entity want[] = {
        { "version", NULL, NULL, NULL, "diagnostic" },
        { "address", NULL, NULL, NULL, "diagnostic" },
    };
    for (size_t i = 0; i < 2; i++) {
        char uid[128];
        snprintf(uid, sizeof uid, "sunwire_gateway_roof_4609_%s", want[i].key);
        check_entity(json_object_get(cmps, uid), "sunwire_gateway_roof_4609", &want[i], st);
    }
    release(&cap);

    /* Entity mode: one message per entity, same unique_ids. */
    char err[64];
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "entity", err, sizeof err), SW_OK);
    assert_int_equal(sw_ha_discover_gateway(&c, &g, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 2);
    for (size_t i = 0; i < 2; i++) {
        char topic[256];
        snprintf(topic, sizeof topic, "homeassistant/sensor/sunwire_gateway_roof_4609/%s/config", want[i].key);
        size_t k = find_topic(&cap, topic);
        check_entity(cap.payload[k], "sunwire_gateway_roof_4609", &want[i], st);
        check_device(json_object_get(cap.payload[k], "device"), "sunwire_gateway_roof_4609", "Tigo gateway roof 4609",
                     "Tigo", NULL, NULL);
    }
    release(&cap);
    json_decref(st);
}

static void test_strings(void **state)
{
    (void)state;
    sw_mqtt_config c;
    sw_mqtt_config_defaults(&c);
    sw_string_agg s[2];
    memset(s, 0, sizeof s);
    snprintf(s[0].name, sizeof s[0].name, "South roof");
    snprintf(s[1].name, sizeof s[1].name, "total");
    const sw_string_agg *ptrs[2] = { &s[0], &s[1] };
    struct captured cap = { 0 };
    char buf[65536], sbuf[4096];
    size_t slen;
    assert_int_equal(sw_mqtt_string_state(sbuf, sizeof sbuf, &s[0], &slen), SW_OK);
    /* Every string field with a Home Assistant column is one entity per string. */
    size_t kinds = 0;
    for (size_t i = 0; i < sw_string_field_count; i++)
        kinds += sw_string_fields[i].ha.name != NULL;
    assert_true(kinds >= 25);
    json_t *st = json_loadb(sbuf, slen, 0, NULL);

    assert_int_equal(sw_ha_discover_strings(&c, ptrs, 2, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.topic[0], "homeassistant/device/sunwire_strings/config");
    json_t *m = cap.payload[0];
    check_device(json_object_get(m, "device"), "sunwire_strings", "Solar strings", "sunwire", NULL, NULL);
    json_t *cmps = json_object_get(m, "components");
    assert_int_equal(json_object_size(cmps), 2 * kinds);
    static const struct { const char *uid, *name, *topic; struct want_entity w; } want[] = {
        { "sunwire_strings_South_roof_power", "South roof power", "sunwire/string/South_roof/state",
          { "South_roof_power", "power", "W", "measurement", NULL } },
        { "sunwire_strings_South_roof_energy_total", "South roof energy", "sunwire/string/South_roof/state",
          { "South_roof_energy_total", "energy", "Wh", "total_increasing", NULL } },
        { "sunwire_strings_South_roof_energy_today", "South roof energy today", "sunwire/string/South_roof/state",
          { "South_roof_energy_today", "energy", "Wh", "total_increasing", NULL } },
        { "sunwire_strings_total_power", "Total power", "sunwire/string/total/state",
          { "total_power", "power", "W", "measurement", NULL } },
        { "sunwire_strings_total_energy_total", "Total energy", "sunwire/string/total/state",
          { "total_energy_total", "energy", "Wh", "total_increasing", NULL } },
        { "sunwire_strings_total_online", "Total panels online", "sunwire/string/total/state",
          { "total_online", NULL, NULL, "measurement", "diagnostic" } },
        /* The spread of the panels' readings, as taptap-mqtt publishes it. */
        { "sunwire_strings_South_roof_voltage_in_min", "South roof input voltage min", "sunwire/string/South_roof/state",
          { "South_roof_voltage_in_min", "voltage", "V", "measurement", NULL } },
        { "sunwire_strings_South_roof_voltage_out_sum", "South roof output voltage sum",
          "sunwire/string/South_roof/state", { "South_roof_voltage_out_sum", "voltage", "V", "measurement", NULL } },
        { "sunwire_strings_total_temperature_max", "Total temperature max", "sunwire/string/total/state",
          { "total_temperature_max", "temperature", "\xC2\xB0" "C", "measurement", NULL } },
        { "sunwire_strings_total_duty_cycle_avg", "Total duty cycle avg", "sunwire/string/total/state",
          { "total_duty_cycle_avg", NULL, "%", "measurement", "diagnostic" } },
        { "sunwire_strings_total_rssi_min", "Total signal min", "sunwire/string/total/state",
          { "total_rssi_min", NULL, NULL, "measurement", "diagnostic" } },
        { "sunwire_strings_total_identified", "Total panels identified", "sunwire/string/total/state",
          { "total_identified", NULL, NULL, "measurement", "diagnostic" } },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *ent = json_object_get(cmps, want[i].uid);
        if (!ent)
            fail_msg("component %s missing", want[i].uid);
        check_entity(ent, "sunwire_strings", &want[i].w, st);
        assert_opt(ent, "name", want[i].name);
        /* Each string has its own state topic, named in the entity. */
        assert_opt(ent, "state_topic", want[i].topic);
    }
    release(&cap);

    char err[64];
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "entity", err, sizeof err), SW_OK);
    assert_int_equal(sw_ha_discover_strings(&c, ptrs, 2, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 2 * kinds);
    assert_opt(cap.payload[find_topic(&cap, "homeassistant/sensor/sunwire_strings/South_roof_power/config")],
               "state_topic", "sunwire/string/South_roof/state");
    assert_opt(cap.payload[find_topic(&cap, "homeassistant/sensor/sunwire_strings/total_power/config")],
               "state_topic", "sunwire/string/total/state");
    release(&cap);

    /* Too many statistics for one device message: it goes out without them, and says so. */
    size_t brief = 0;
    for (size_t i = 0; i < sw_string_field_count; i++)
        brief += sw_string_fields[i].ha.name && !(sw_string_fields[i].flags & SW_FF_DETAIL);
    assert_true(brief >= 4 && brief < kinds);
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "device", err, sizeof err), SW_OK);
    assert_int_equal(sw_ha_discover_strings(&c, ptrs, 2, buf, 8192, capture, &cap), SW_ERR_TOO_LONG);
    assert_int_equal(cap.n, 1);
    cmps = json_object_get(cap.payload[0], "components");
    assert_int_equal(json_object_size(cmps), 2 * brief);
    assert_non_null(json_object_get(cmps, "sunwire_strings_South_roof_power"));
    assert_non_null(json_object_get(cmps, "sunwire_strings_total_energy_total"));
    assert_null(json_object_get(cmps, "sunwire_strings_South_roof_voltage_in_min"));
    release(&cap);
    /* Entity mode sends one message per entity: no such limit. */
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "entity", err, sizeof err), SW_OK);
    assert_int_equal(sw_ha_discover_strings(&c, ptrs, 2, buf, 8192, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 2 * kinds);
    release(&cap);
    /* Not even the short form fits: nothing is sent. */
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "device", err, sizeof err), SW_OK);
    assert_int_equal(sw_ha_discover_strings(&c, ptrs, 2, buf, 1024, capture, &cap), SW_ERR_NO_SPACE);
    assert_int_equal(cap.n, 0);
    json_decref(st);
}

static sw_inverter_value value(const char *inv, const char *name, const char *unit, bool is_number, double number,
                               const char *text)
{
    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.inverter, sizeof v.inverter, "%s", inv);
    snprintf(v.object_name, sizeof v.object_name, "%s", name);
    snprintf(v.unit, sizeof v.unit, "%s", unit);
    v.is_number = is_number;
    v.number = number;
    v.text = text;
    return v;
}

static void test_inverter(void **state)
{
    (void)state;
    sw_mqtt_config c;
    sw_mqtt_config_defaults(&c);
    sw_inverter inv;
    memset(&inv, 0, sizeof inv);
    snprintf(inv.name, sizeof inv.name, "garage");
    snprintf(inv.model, sizeof inv.model, "PS 6.0");
    snprintf(inv.firmware, sizeof inv.firmware, "3.2.1");
    inv.online = true;
    sw_inverter_value vals[] = {
        value("garage", "battery.soc", "%", true, 0.5, "0.5"),
        value("garage", "g_sync.p_ac_grid_sum_lp", "W", true, 100, "100"),
        value("garage", "energy.e_ac_total", "Wh", true, 1e6, "1000000"),
        value("garage", "prim_sm.state", "", true, 13, "Feed in"),
        value("garage", "db.temp1", "\xC2\xB0" "C", true, 35, "35"),
        value("other", "battery.soc", "%", true, 0.9, "0.9"),
        /* the device counts feed-in negative */
        value("garage", "energy.e_grid_feed_total", "Wh", true, -2500.5, "-2500.5"),
        /* bit 11 clear: balancing; bit 3 set: calibrated */
        value("garage", "battery.bat_status", "", true, 8, "8"),
        value("garage", "fault[0].flt", "", true, 1, "CPU trap"),
        /* not in the table: classified by its unit, named as in the registry */
        value("garage", "g_sync.u_l_rms[0]", "V", true, 231, "231"),
    };
    enum { NV = sizeof vals / sizeof vals[0] };
    const sw_inverter_value *ptrs[NV];
    for (size_t i = 0; i < NV; i++)
        ptrs[i] = &vals[i];
    struct captured cap = { 0 };
    char buf[16384];

    /* No serial yet: nothing is announced, so no identity has to be replaced later. */
    assert_int_equal(sw_ha_discover_inverter(&c, &inv, ptrs, NV, buf, sizeof buf, capture, &cap), SW_ERR_NOT_FOUND);
    assert_int_equal(cap.n, 0);

    snprintf(inv.serial, sizeof inv.serial, "0123456789ABCDE");
    char sbuf[2048];
    size_t slen;
    assert_int_equal(sw_mqtt_inverter_state(sbuf, sizeof sbuf, &inv, ptrs, NV, &slen), SW_OK);
    json_t *st = json_loadb(sbuf, slen, 0, NULL);
    assert_int_equal(sw_ha_discover_inverter(&c, &inv, ptrs, NV, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.topic[0], "homeassistant/device/sunwire_inverter_0123456789ABCDE/config");
    json_t *m = cap.payload[0];
    json_t *dev = json_object_get(m, "device");
    check_device(dev, "sunwire_inverter_0123456789ABCDE", "garage", "RCT Power", "0123456789ABCDE", NULL);
    assert_opt(dev, "model", "PS 6.0");
    assert_opt(dev, "sw_version", "3.2.1");
    assert_opt(m, "state_topic", "sunwire/inverter/garage/state");
    check_availability(m, "sunwire/status", "sunwire/inverter/garage/state");
    json_t *cmps = json_object_get(m, "components");
    /* 9 values of this inverter (the other inverter's value is not here) and two status bits */
    assert_int_equal(json_object_size(cmps), 11);
    static const struct want_entity want[] = {
        { "battery_soc", "battery", "%", "measurement", NULL },
        { "g_sync_p_ac_grid_sum_lp", "power", "W", "measurement", NULL },
        { "energy_e_ac_total", "energy", "Wh", "total_increasing", NULL },
        { "prim_sm_state", "enum", NULL, NULL, NULL },
        { "db_temp1", "temperature", "\xC2\xB0" "C", "measurement", "diagnostic" },
        { "energy_e_grid_feed_total", "energy", "Wh", "total_increasing", NULL },
        { "battery_bat_status", NULL, NULL, NULL, "diagnostic" },
        { "battery_bat_status_balancing", NULL, NULL, NULL, "diagnostic" },
        { "battery_bat_status_calibrating", NULL, NULL, NULL, "diagnostic" },
        { "fault_0_flt", NULL, NULL, NULL, "diagnostic" },
        { "g_sync_u_l_rms_0", "voltage", "V", "measurement", NULL },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char uid[128];
        snprintf(uid, sizeof uid, "sunwire_inverter_0123456789ABCDE_%s", want[i].key);
        json_t *ent = json_object_get(cmps, uid);
        if (!ent)
            fail_msg("component %s missing", uid);
        check_entity(ent, "sunwire_inverter_0123456789ABCDE", &want[i], st);
    }
#define CMP(key) json_object_get(cmps, "sunwire_inverter_0123456789ABCDE_" key)
    /* Human names from the table; the registry name for what it does not list. */
    assert_opt(CMP("battery_soc"), "name", "Battery state of charge");
    assert_opt(CMP("g_sync_p_ac_grid_sum_lp"), "name", "Grid power");
    assert_opt(CMP("g_sync_u_l_rms_0"), "name", "g_sync.u_l_rms[0]");
    assert_int_equal(json_integer_value(json_object_get(CMP("g_sync_p_ac_grid_sum_lp"),
                                                        "suggested_display_precision")), 0);
    /* The enumeration: its label as the state, every label once as an option. */
    assert_string_equal(json_string_value(json_object_get(st, "prim_sm_state")), "Feed in");
    json_t *opts = json_object_get(CMP("prim_sm_state"), "options");
    assert_true(json_is_array(opts));
    bool found = false;
    for (size_t i = 0; i < json_array_size(opts); i++) {
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(json_string_value(json_array_get(opts, i)),
                                    json_string_value(json_array_get(opts, k)));
        found |= strcmp(json_string_value(json_array_get(opts, i)), "Feed in") == 0;
    }
    assert_true(found);
    /* Feed-in: the device's signed value stays, the entity reads its absolute value. */
    assert_opt(CMP("energy_e_grid_feed_total"), "value_template", "{{ value_json.energy_e_grid_feed_total_abs }}");
    assert_true(json_real_value(json_object_get(st, "energy_e_grid_feed_total")) == -2500.5);
    assert_true(json_real_value(json_object_get(st, "energy_e_grid_feed_total_abs")) == 2500.5);
    /* Status bits: booleans in the state, binary sensors in Home Assistant. */
    assert_opt(CMP("battery_bat_status_balancing"), "platform", "binary_sensor");
    assert_true(json_is_true(json_object_get(st, "battery_bat_status_balancing")));
    assert_true(json_is_false(json_object_get(st, "battery_bat_status_calibrating")));
    /* A fault word: its number stays, the entity shows the decoded text. */
    assert_opt(CMP("fault_0_flt"), "value_template", "{{ value_json.fault_0_flt_text }}");
    assert_string_equal(json_string_value(json_object_get(st, "fault_0_flt_text")), "CPU trap");
#undef CMP
    release(&cap);
    json_decref(st);
}

/* Controls: one number, select or switch each, with a command topic; the value gets no second sensor. */
static void test_inverter_controls(void **state)
{
    (void)state;
    static const char *const strategies[] = { "Constant", "External", "Internal" };
    const sw_ha_control controls[] = {
        { "garage", "power_mng.soc_min", "Battery minimum SoC", "number", 5, 100, 1, 100, "%", NULL, NULL, 0 },
        { "garage", "power_mng.soc_strategy", "Battery SoC strategy", "select", 0, 2, 1, 1, NULL, NULL, strategies,
          3 },
        { "garage", "power_mng.use_grid_power_enable", "Use external inverter power", "switch", 0, 1, 1, 1, NULL,
          NULL, NULL, 0 },
        { "other", "p_rec_lim[1]", "Battery to grid power limit", "number", 0, 6000, 1, 1, "W", "power", NULL, 0 },
    };
    for (int mode = 0; mode < 2; mode++) {
        sw_mqtt_config c;
        sw_mqtt_config_defaults(&c);
        c.discovery = mode ? SW_MQTT_DISCOVERY_ENTITY : SW_MQTT_DISCOVERY_DEVICE;
        c.controls = controls;
        c.n_controls = sizeof controls / sizeof controls[0];
        sw_inverter inv;
        memset(&inv, 0, sizeof inv);
        snprintf(inv.name, sizeof inv.name, "garage");
        snprintf(inv.serial, sizeof inv.serial, "S1");
        inv.online = true;
        sw_inverter_value vals[] = {
            value("garage", "battery.soc", "%", true, 50, "50"),
            value("garage", "power_mng.soc_min", "", true, 0.07, "0.07"),
            value("garage", "power_mng.soc_strategy", "", true, 2, "External"),
            value("garage", "power_mng.use_grid_power_enable", "", true, 1, "true"),
        };
        const sw_inverter_value *ptrs[] = { &vals[0], &vals[1], &vals[2], &vals[3] };
        char sbuf[2048], buf[16384];
        size_t slen;
        assert_int_equal(sw_mqtt_inverter_state(sbuf, sizeof sbuf, &inv, ptrs, 4, &slen), SW_OK);
        json_t *st = json_loadb(sbuf, slen, 0, NULL);
        assert_non_null(st);
        struct captured cap = { 0 };
        assert_int_equal(sw_ha_discover_inverter(&c, &inv, ptrs, 4, buf, sizeof buf, capture, &cap), SW_OK);
        /* battery.soc's sensor and three controls; not the other inverter's control */
        size_t n = 0;
        json_t *ents[8] = { 0 };
        if (mode == 0) {
            assert_int_equal(cap.n, 1);
            json_t *cmps = json_object_get(cap.payload[0], "components");
            const char *k;
            json_t *v;
            json_object_foreach(cmps, k, v) {
                assert_true(n < 8);
                ents[n++] = v;
            }
        } else {
            for (size_t i = 0; i < cap.n; i++)
                ents[n++] = cap.payload[i];
        }
        assert_int_equal(n, 4);
        int seen = 0;
        for (size_t i = 0; i < n; i++) {
            const char *uid = opt_str(ents[i], "unique_id");
            assert_non_null(uid);
            assert_null(strstr(uid, "p_rec_lim"));
            if (strcmp(uid, "sunwire_inverter_S1_battery_soc") == 0)
                continue;
            /* The sensor of a controlled value is gone; its control replaces it. */
            assert_non_null(strstr(uid, "_control_"));
            assert_opt(ents[i], "entity_category", "config");
            const char *cmd = opt_str(ents[i], "command_topic");
            assert_non_null(cmd);
            const char *tmpl = opt_str(ents[i], "value_template");
            assert_non_null(tmpl);
            if (strstr(uid, "soc_min")) {
                assert_string_equal(cmd, "sunwire/inverter/garage/set/power_mng_soc_min");
                assert_true(json_number_value(json_object_get(ents[i], "min")) == 5.0);
                assert_true(json_number_value(json_object_get(ents[i], "max")) == 100.0);
                assert_opt(ents[i], "unit_of_measurement", "%");
                assert_string_equal(tmpl, "{{ (value_json.power_mng_soc_min * 100) | round(2) }}");
                seen |= 1;
            } else if (strstr(uid, "soc_strategy")) {
                assert_string_equal(cmd, "sunwire/inverter/garage/set/power_mng_soc_strategy");
                assert_int_equal(json_array_size(json_object_get(ents[i], "options")), 3);
                /* the state carries the label, one of the options */
                assert_string_equal(tmpl, "{{ value_json.power_mng_soc_strategy }}");
                assert_opt(st, "power_mng_soc_strategy", "External");
                seen |= 2;
            } else {
                assert_string_equal(cmd, "sunwire/inverter/garage/set/power_mng_use_grid_power_enable");
                assert_opt(ents[i], "payload_on", "ON");
                assert_opt(ents[i], "payload_off", "OFF");
                assert_string_equal(tmpl, "{{ 'ON' if value_json.power_mng_use_grid_power_enable else 'OFF' }}");
                seen |= 4;
            }
        }
        assert_int_equal(seen, 7);
        if (mode == 1)
            for (size_t i = 0; i < cap.n; i++)
                assert_true(strncmp(cap.topic[i], "homeassistant/sensor/", 21) == 0 ||
                            strncmp(cap.topic[i], "homeassistant/number/", 21) == 0 ||
                            strncmp(cap.topic[i], "homeassistant/select/", 21) == 0 ||
                            strncmp(cap.topic[i], "homeassistant/switch/", 21) == 0);
        release(&cap);
        json_decref(st);
    }
    /* The command topic: the inverter name and the object slugged like the state topic and keys. */
    char topic[128];
    sw_mqtt_config c;
    sw_mqtt_config_defaults(&c);
    assert_true(sw_mqtt_topic_command(topic, sizeof topic, &c, "South roof", "p_rec_lim[1]") > 0);
    assert_string_equal(topic, "sunwire/inverter/South_roof/set/p_rec_lim_1");
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *name, *unit;
        bool number;
        const char *device_class, *out_unit, *state_class;
        double scale;
    } rows[] = {
        { "g_sync.p_acc_lp", "W", true, "power", "W", "measurement", 1 },
        { "g_sync.u_l_rms[0]", "V", true, "voltage", "V", "measurement", 1 },
        { "acc_conv.i_acc_lp_fast", "A", true, "current", "A", "measurement", 1 },
        { "grid_pll[0].f", "Hz", true, "frequency", "Hz", "measurement", 1 },
        { "energy.e_ac_day", "Wh", true, "energy", "Wh", "total_increasing", 1 },
        { "battery.stored_energy", "Wh", true, "energy_storage", "Wh", "measurement", 1 },
        { "battery.soc", "%", true, "battery", "%", "measurement", 1 },
        { "battery.soh", "%", true, NULL, "%", "measurement", 1 },
        { "battery.temperature", "", true, "temperature", "\xC2\xB0" "C", "measurement", 1 },
        { "iso_struct.Riso", "Ohm", true, NULL, "\xCE\xA9", "measurement", 1 },
        { "inverter_sn", "", false, NULL, NULL, NULL, 1 },
        { "prim_sm.state", "", true, "enum", NULL, NULL, 1 },
        { "power_mng.battery_type", "", true, "enum", NULL, NULL, 1 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sw_inverter_value v = value("x", rows[i].name, rows[i].unit, rows[i].number, 1, "1");
        sw_ha_value_class vc;
        sw_ha_classify_value(&v, &vc);
        const char *got[3] = { vc.device_class, vc.unit, vc.state_class };
        const char *exp[3] = { rows[i].device_class, rows[i].out_unit, rows[i].state_class };
        for (int k = 0; k < 3; k++) {
            if ((got[k] == NULL) != (exp[k] == NULL) || (got[k] && strcmp(got[k], exp[k]) != 0))
                fail_msg("%s [%s]: field %d is \"%s\", want \"%s\"", rows[i].name, rows[i].unit, k,
                         got[k] ? got[k] : "(none)", exp[k] ? exp[k] : "(none)");
        }
        assert_true(vc.scale == rows[i].scale);
    }
}

/* ---- problems, raised in a model directly ---------------------------------------------------- */

#define T0 INT64_C(1763700000000000000)

/* The records of one subject, as the MQTT sink hands them to the state builder. */
static size_t subject_records(const sw_model *m, sw_subject_kind k, const char *subject, const sw_problem **out,
                              size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < sw_model_problem_count(m) && n < cap; i++) {
        const sw_problem *p = sw_model_problem_at(m, i);
        if (p->subject_kind == k && strcmp(p->subject, subject) == 0)
            out[n++] = p;
    }
    return n;
}

/* A binary sensor of kind `kind` reading the subject's problem state st: ON exactly when want_on. */
static void check_problem_sensor(json_t *ent, const char *kind, const char *topic, json_t *st, bool want_on)
{
    assert_opt(ent, "device_class", "problem");
    assert_opt(ent, "state_topic", topic);
    assert_opt(ent, "json_attributes_topic", topic);
    assert_null(json_object_get(ent, "unit_of_measurement"));
    assert_null(json_object_get(ent, "state_class"));
    char want_tmpl[160], want_attr[160];
    snprintf(want_tmpl, sizeof want_tmpl, "{{ 'ON' if value_json.%s.active else 'OFF' }}", kind);
    snprintf(want_attr, sizeof want_attr, "{{ value_json.%s | tojson }}", kind);
    assert_opt(ent, "value_template", want_tmpl);
    assert_opt(ent, "json_attributes_template", want_attr);
    /* What the template reads is in the state, and says what the model says. */
    json_t *entry = json_object_get(st, kind);
    if (!entry)
        fail_msg("the problem state has no entry %s", kind);
    assert_true(json_is_boolean(json_object_get(entry, "active")));
    assert_int_equal(json_is_true(json_object_get(entry, "active")), want_on);
    assert_true(json_is_string(json_object_get(entry, "reason")));
    assert_true(want_on ? json_is_string(json_object_get(entry, "since")) : true);
}

static void test_problems(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    assert_non_null(m);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "South 3", "71 C, peers 45 C", T0),
                     SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_CONTROLLER_SILENT, "roof", "roof", NULL, "no request for 90 s",
                                            T0 + 1000000000), SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_CELL_SPREAD, "house", "house/module2", NULL, "61 mV", T0),
                     SW_OK);
    assert_int_equal(sw_model_problem_clear(m, SW_PROBLEM_CELL_SPREAD, "house", "house/module2", T0 + 5000000000),
                     SW_OK);

    sw_mqtt_config c;
    char err[64];
    sw_mqtt_config_defaults(&c);
    sw_panel p = sample_panel();
    struct captured cap = { 0 };
    char buf[16384], sbuf[2048];
    size_t slen;
    const sw_problem *recs[8];

    /* The panel's subject state: every panel kind, hot active with its reason. */
    size_t nr = subject_records(m, SW_SUBJECT_PANEL, "4-C3F1A2B", recs, 8);
    assert_int_equal(nr, 1);
    assert_int_equal(sw_mqtt_subject_problems_state(sbuf, sizeof sbuf, SW_SUBJECT_PANEL, recs, nr, &slen), SW_OK);
    json_t *st = json_loadb(sbuf, slen, 0, NULL);
    assert_non_null(st);
    assert_int_equal(json_object_size(st), 6); /* underperforming, no_power, diode_loss, hot, stuck, radio */
    assert_string_equal(json_string_value(json_object_get(json_object_get(st, "hot"), "reason")), "71 C, peers 45 C");
    assert_string_equal(json_string_value(json_object_get(json_object_get(st, "hot"), "since")),
                        "2025-11-21T04:40:00Z");
    assert_true(json_is_null(json_object_get(json_object_get(st, "stuck"), "since")));

    /* Device mode: a message of its own naming the panel's device, one binary sensor per panel kind. */
    assert_int_equal(sw_ha_discover_panel_problems(&c, &p, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.topic[0], "homeassistant/device/sunwire_panel_4-C3F1A2B_problems/config");
    json_t *msg = cap.payload[0];
    check_device(json_object_get(msg, "device"), "sunwire_panel_4-C3F1A2B", "South 3", NULL, NULL, NULL);
    assert_opt(json_object_get(msg, "origin"), "name", "sunwire");
    check_availability(msg, "sunwire/status", NULL); /* a problem outlives the night */
    json_t *cmps = json_object_get(msg, "components");
    assert_int_equal(json_object_size(cmps), 6);
    const char *kinds[] = { "underperforming", "no_power", "diode_loss", "hot", "stuck", "radio_degrading" };
    for (size_t i = 0; i < 6; i++) {
        char uid[128];
        snprintf(uid, sizeof uid, "sunwire_panel_4-C3F1A2B_problem_%s", kinds[i]);
        json_t *ent = json_object_get(cmps, uid);
        if (!ent)
            fail_msg("component %s missing", uid);
        assert_opt(ent, "platform", "binary_sensor");
        assert_opt(ent, "name", sw_problem_kind_title(sw_problem_kind_from_name(kinds[i])));
        check_problem_sensor(ent, kinds[i], "sunwire/panel/4-C3F1A2B/problems", st, strcmp(kinds[i], "hot") == 0);
    }
    release(&cap);

    /* Entity mode: one message per kind, the same unique_ids, on the panel's device. */
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "entity", err, sizeof err), SW_OK);
    assert_int_equal(sw_ha_discover_panel_problems(&c, &p, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 6);
    size_t k = find_topic(&cap, "homeassistant/binary_sensor/sunwire_panel_4-C3F1A2B/problem_hot/config");
    assert_opt(cap.payload[k], "unique_id", "sunwire_panel_4-C3F1A2B_problem_hot");
    check_device(json_object_get(cap.payload[k], "device"), "sunwire_panel_4-C3F1A2B", "South 3", NULL, NULL, NULL);
    check_problem_sensor(cap.payload[k], "hot", "sunwire/panel/4-C3F1A2B/problems", st, true);
    release(&cap);
    json_decref(st);
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "device", err, sizeof err), SW_OK);

    /* A gateway's: its three kinds on its own device. */
    sw_gateway g;
    memset(&g, 0, sizeof g);
    snprintf(g.source, sizeof g.source, "roof");
    g.gateway_id = 4609;
    assert_int_equal(sw_ha_discover_gateway_problems(&c, &g, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.topic[0], "homeassistant/device/sunwire_gateway_roof_4609_problems/config");
    cmps = json_object_get(cap.payload[0], "components");
    assert_int_equal(json_object_size(cmps), 3);
    assert_opt(json_object_get(cmps, "sunwire_gateway_roof_4609_problem_firmware_changed"), "state_topic",
               "sunwire/gateway/roof_4609/problems");
    release(&cap);

    /* The site: the count of active problems, and a sensor per record without a device (not the panel's). */
    const sw_problem *all[8];
    size_t na = 0;
    for (size_t i = 0; i < sw_model_problem_count(m); i++)
        all[na++] = sw_model_problem_at(m, i);
    assert_int_equal(sw_ha_discover_site(&c, all, na, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.topic[0], "homeassistant/device/sunwire_site/config");
    check_device(json_object_get(cap.payload[0], "device"), "sunwire_site", "Solar site", "sunwire", NULL, NULL);
    cmps = json_object_get(cap.payload[0], "components");
    assert_int_equal(json_object_size(cmps), 3);
    json_t *count = json_object_get(cmps, "sunwire_site_active_problems");
    assert_non_null(count);
    assert_opt(count, "platform", "sensor");
    assert_opt(count, "state_topic", "sunwire/problems");
    assert_opt(count, "value_template", "{{ value_json | length }}");
    assert_opt(count, "state_class", "measurement");
    json_t *bus = json_object_get(cmps, "sunwire_site_problem_controller_silent_bus_roof");
    assert_non_null(bus);
    assert_opt(bus, "name", "Controller stopped polling roof");
    nr = subject_records(m, SW_SUBJECT_BUS, "roof", recs, 8);
    assert_int_equal(sw_mqtt_subject_problems_state(sbuf, sizeof sbuf, SW_SUBJECT_BUS, recs, nr, &slen), SW_OK);
    st = json_loadb(sbuf, slen, 0, NULL);
    size_t bus_kinds = 0; /* controller_silent, line, pv_off, ...: every kind about a bus */
    for (int kind = SW_PROBLEM_KIND_FIRST; kind <= SW_PROBLEM_KIND_LAST; kind++)
        bus_kinds += sw_problem_kind_subject((sw_problem_kind)kind) == SW_SUBJECT_BUS;
    assert_true(bus_kinds >= 2);
    assert_int_equal(json_object_size(st), bus_kinds);
    check_problem_sensor(bus, "controller_silent", "sunwire/bus/roof/problems", st, true);
    json_decref(st);
    json_t *cell = json_object_get(cmps, "sunwire_site_problem_cell_spread_battery_house_module2");
    assert_non_null(cell);
    nr = subject_records(m, SW_SUBJECT_BATTERY, "house/module2", recs, 8);
    assert_int_equal(sw_mqtt_subject_problems_state(sbuf, sizeof sbuf, SW_SUBJECT_BATTERY, recs, nr, &slen), SW_OK);
    st = json_loadb(sbuf, slen, 0, NULL);
    check_problem_sensor(cell, "cell_spread", "sunwire/battery/house_module2/problems", st, false);
    assert_string_equal(json_string_value(json_object_get(json_object_get(st, "cell_spread"), "until")),
                        "2025-11-21T04:40:05Z");
    json_decref(st);
    release(&cap);

    /* The list: the active ones only, as sw_problem_json writes them; its length is the count's state. */
    assert_int_equal(sw_mqtt_problems_state(sbuf, sizeof sbuf, all, na, &slen), SW_OK);
    json_t *list = json_loadb(sbuf, slen, 0, NULL);
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), sw_model_problem_active_count(m));
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "kind")), "hot");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "subject")), "roof");
    json_decref(list);
    /* Nothing active: an empty list, not nothing. */
    assert_int_equal(sw_mqtt_problems_state(sbuf, sizeof sbuf, all, 0, &slen), SW_OK);
    assert_string_equal(sbuf, "[]");
    sw_model_free(m);
}

static void test_off_and_overflow(void **state)
{
    (void)state;
    sw_mqtt_config c;
    char err[64];
    sw_mqtt_config_defaults(&c);
    sw_panel p = sample_panel();
    struct captured cap = { 0 };
    char buf[8192];
    /* Too small for the one device message: an error, nothing emitted. */
    assert_int_equal(sw_ha_discover_panel(&c, &p, buf, 512, capture, &cap), SW_ERR_NO_SPACE);
    assert_int_equal(cap.n, 0);
    assert_int_equal(sw_mqtt_config_set(&c, "discovery", "off", err, sizeof err), SW_OK);
    assert_int_equal(sw_ha_discover_panel(&c, &p, buf, sizeof buf, capture, &cap), SW_OK);
    assert_int_equal(cap.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_panel_device_mode),
        cmocka_unit_test(test_panel_entity_mode),
        cmocka_unit_test(test_instance_id),
        cmocka_unit_test(test_panel_ids_stable),
        cmocka_unit_test(test_gateway),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_inverter),
        cmocka_unit_test(test_inverter_controls),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_off_and_overflow),
        cmocka_unit_test(test_problems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
