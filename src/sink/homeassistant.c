/*
 * homeassistant.c: Home Assistant MQTT discovery payloads.
 *
 * Pure builders: model records in, (topic, JSON) pairs out through a
 * callback. They trust the records (NUL-terminated text) and the
 * configuration (already validated by sw_mqtt_config_set). Identifiers are
 * derived only from what survives a restart (barcodes, serial numbers,
 * configured names), because Home Assistant keys its entity registry on
 * unique_id: an identifier that changed would orphan the user's history.
 *
 * Device mode sends one message per device with all its entities as
 * "components"; entity mode sends the older one-message-per-entity form for
 * Home Assistant releases before 2024.11 and for tools that only know it.
 * Both carry the same unique_ids, so switching modes keeps the history.
 */
#include "sink/sink_mqtt.h"

#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "sink/ha_inverter.h"
#include "sunwire/json.h"
#include "sunwire_config.h"

/* A device identifier: instance id, kind and the device's own id (device_id). */
#define DEVICE_ID_MAX (2 * SW_MQTT_TOPIC_MAX + 16)

/* One entity, as the builders describe it before it is written in either mode. */
struct ha_entity {
    const char *key;          /* unique within the device; part of unique_id and the entity topic */
    const char *name;
    const char *platform;     /* "sensor" or "binary_sensor" */
    const char *device_class;
    const char *unit;
    const char *state_class;
    const char *category;     /* "diagnostic" or NULL */
    const char *icon;
    const char *field;        /* key in the state JSON */
    const char *state_topic;  /* NULL = the device's */
    int precision;            /* suggested_display_precision, -1 = none */
    bool structured;          /* the field is a JSON object: its entries become attributes */
    bool night_available;     /* valid while the device is offline: follows <base>/status only */
    const char *tmpl;         /* value_template; NULL = "{{ value_json.<field> }}" */
    const char *const *options; /* an enum sensor's states */
    size_t n_options;
    const sw_ha_control *control; /* a number, select or switch: its limits */
    const char *command_topic;
};

struct ha_device {
    const char *id;           /* slug, also the discovery node id */
    const char *name;
    const char *manufacturer;
    const char *model;
    const char *serial;       /* "" or NULL = none */
    const char *sw_version;
    const char *via;          /* identifier of the parent device, or NULL */
    const char *state_topic;  /* shared by the entities unless they name their own */
    bool online_field;        /* the state JSON has "online": it gates availability */
};

/* Produces entity i; scratch holds any text the entity points into. */
typedef bool (*entity_at_cb)(const void *ctx, size_t i, struct ha_entity *e, char *scratch, size_t scap);

static void kv(sw_json *j, const char *key, const char *value)
{
    if (!value || !value[0])
        return;
    sw_json_key(j, key);
    sw_json_string(j, value);
}

static void write_device(sw_json *j, const struct ha_device *d)
{
    sw_json_key(j, "device");
    sw_json_object_begin(j);
    sw_json_key(j, "identifiers");
    sw_json_array_begin(j);
    sw_json_string(j, d->id);
    sw_json_array_end(j);
    kv(j, "name", d->name);
    kv(j, "manufacturer", d->manufacturer);
    kv(j, "model", d->model);
    kv(j, "serial_number", d->serial);
    kv(j, "sw_version", d->sw_version);
    kv(j, "via_device", d->via);
    sw_json_object_end(j);
}

static void write_origin(sw_json *j)
{
    sw_json_key(j, "origin");
    sw_json_object_begin(j);
    kv(j, "name", "sunwire");
    kv(j, "sw_version", SUNWIRE_VERSION);
    sw_json_object_end(j);
}

/* gated: the device's "online" flag counts too (see ha_device.online_field). */
static void write_availability(sw_json *j, const sw_mqtt_config *c, const struct ha_device *d, bool gated)
{
    char status[SW_MQTT_TOPIC_MAX];
    sw_mqtt_topic_status(status, sizeof status, c);
    sw_json_key(j, "availability");
    sw_json_array_begin(j);
    sw_json_object_begin(j);
    kv(j, "topic", status);
    sw_json_object_end(j);
    if (gated && d->online_field && d->state_topic) {
        /* A panel asleep at night or an unreachable inverter shows as unavailable, not frozen. */
        sw_json_object_begin(j);
        kv(j, "topic", d->state_topic);
        kv(j, "value_template", "{{ 'online' if value_json.online else 'offline' }}");
        sw_json_object_end(j);
    }
    sw_json_array_end(j);
    kv(j, "availability_mode", "all");
}

static void unique_id(char *out, size_t cap, const struct ha_device *d, const struct ha_entity *e)
{
    snprintf(out, cap, "%s_%s", d->id, e->key);
}

static void write_entity_fields(sw_json *j, const struct ha_device *d, const struct ha_entity *e)
{
    char uid[DEVICE_ID_MAX + SW_MQTT_TOPIC_MAX];
    char tmpl[4 * SW_MQTT_TOPIC_MAX];
    unique_id(uid, sizeof uid, d, e);
    if (e->structured)
        /* A state is at most 255 characters: the whole structure goes into the attributes,
         * the state counts its entries (cells, points, rows). */
        snprintf(tmpl, sizeof tmpl,
                 "{%% set v = value_json.%s %%}{{ (v.cells if v.cells is defined else v.points if v.points is "
                 "defined else v.entries if v.entries is defined else v) | length }}",
                 e->field);
    else if (e->tmpl)
        snprintf(tmpl, sizeof tmpl, "%s", e->tmpl);
    else
        snprintf(tmpl, sizeof tmpl, "{{ value_json.%s }}", e->field);
    kv(j, "name", e->name);
    kv(j, "unique_id", uid);
    /* A predictable entity_id (sensor.<unique_id as a slug>) instead of one
     * derived from display names. Home Assistant 2025.10 replaced object_id
     * with this key; older releases drop the key they do not know. */
    char eid[DEVICE_ID_MAX + SW_MQTT_TOPIC_MAX + 16];
    size_t n = (size_t)snprintf(eid, sizeof eid, "%s.", e->platform);
    for (const char *p = uid; *p && n + 1 < sizeof eid; p++)
        eid[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p == '-' ? '_' : *p;
    eid[n] = '\0';
    kv(j, "default_entity_id", eid);
    kv(j, "device_class", e->device_class);
    kv(j, "unit_of_measurement", e->unit);
    kv(j, "state_class", e->state_class);
    kv(j, "entity_category", e->category);
    kv(j, "icon", e->icon);
    if (e->state_topic)
        kv(j, "state_topic", e->state_topic);
    kv(j, "value_template", tmpl);
    if (e->structured) {
        char attr[SW_MQTT_TOPIC_MAX + 32];
        snprintf(attr, sizeof attr, "{{ value_json.%s | tojson }}", e->field);
        kv(j, "json_attributes_topic", e->state_topic ? e->state_topic : d->state_topic);
        kv(j, "json_attributes_template", attr);
    }
    if (e->precision >= 0) {
        sw_json_key(j, "suggested_display_precision");
        sw_json_int(j, e->precision);
    }
    if (e->control) {
        const sw_ha_control *ct = e->control;
        kv(j, "command_topic", e->command_topic);
        if (strcmp(ct->platform, "number") == 0) {
            sw_json_key(j, "min");
            sw_json_double(j, ct->min);
            sw_json_key(j, "max");
            sw_json_double(j, ct->max);
            sw_json_key(j, "step");
            sw_json_double(j, ct->step);
            kv(j, "mode", "box");
        } else if (strcmp(ct->platform, "switch") == 0) {
            kv(j, "payload_on", "ON");
            kv(j, "payload_off", "OFF");
            kv(j, "state_on", "ON");
            kv(j, "state_off", "OFF");
        }
    }
    if (e->options) {
        sw_json_key(j, "options");
        sw_json_array_begin(j);
        for (size_t i = 0; i < e->n_options; i++)
            sw_json_string(j, e->options[i]);
        sw_json_array_end(j);
    }
}

static sw_err emit_json(sw_json *j, const char *topic, sw_ha_emit_cb emit, void *user)
{
    const char *text = sw_json_finish(j);
    if (!text)
        return SW_ERR_NO_SPACE;
    emit(user, topic, text, j->len);
    return SW_OK;
}

static sw_err announce(const sw_mqtt_config *c, const struct ha_device *d, entity_at_cb at, const void *ctx,
                       size_t n, char *buf, size_t cap, sw_ha_emit_cb emit, void *user)
{
    char topic[DEVICE_ID_MAX + 3 * SW_MQTT_TOPIC_MAX];
    char scratch[4 * SW_MQTT_TOPIC_MAX];
    struct ha_entity e;
    sw_json j;

    if (c->discovery == SW_MQTT_DISCOVERY_OFF)
        return SW_OK;
    if (c->discovery == SW_MQTT_DISCOVERY_DEVICE) {
        snprintf(topic, sizeof topic, "%s/device/%s/config", c->discovery_prefix, d->id);
        sw_json_init(&j, buf, cap);
        sw_json_object_begin(&j);
        write_device(&j, d);
        write_origin(&j);
        sw_json_key(&j, "components");
        sw_json_object_begin(&j);
        for (size_t i = 0; i < n; i++) {
            if (!at(ctx, i, &e, scratch, sizeof scratch))
                continue;
            char uid[DEVICE_ID_MAX + SW_MQTT_TOPIC_MAX];
            unique_id(uid, sizeof uid, d, &e);
            sw_json_key(&j, uid);
            sw_json_object_begin(&j);
            kv(&j, "platform", e.platform);
            write_entity_fields(&j, d, &e);
            /* A component's own availability replaces the device's for it. */
            if (e.night_available && d->online_field)
                write_availability(&j, c, d, false);
            sw_json_object_end(&j);
        }
        sw_json_object_end(&j);
        kv(&j, "state_topic", d->state_topic);
        write_availability(&j, c, d, true);
        sw_json_key(&j, "qos");
        sw_json_int(&j, c->qos);
        sw_json_object_end(&j);
        return emit_json(&j, topic, emit, user);
    }

    for (size_t i = 0; i < n; i++) {
        if (!at(ctx, i, &e, scratch, sizeof scratch))
            continue;
        snprintf(topic, sizeof topic, "%s/%s/%s/%s/config", c->discovery_prefix, e.platform, d->id, e.key);
        sw_json_init(&j, buf, cap);
        sw_json_object_begin(&j);
        write_entity_fields(&j, d, &e);
        if (!e.state_topic)
            kv(&j, "state_topic", d->state_topic);
        write_availability(&j, c, d, !e.night_available);
        sw_json_key(&j, "qos");
        sw_json_int(&j, c->qos);
        write_device(&j, d);
        write_origin(&j);
        sw_json_object_end(&j);
        sw_err err = emit_json(&j, topic, emit, user);
        if (err != SW_OK)
            return err;
    }
    return SW_OK;
}

/* "<instance>_<kind>[_<id>]": a device identifier, distinct for each daemon on the broker (sink_mqtt.h). */
static bool device_id(char *out, size_t cap, const sw_mqtt_config *c, const char *kind, const char *id)
{
    char inst[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_instance_id(inst, sizeof inst, c))
        return false;
    int n = id ? snprintf(out, cap, "%s_%s_%s", inst, kind, id) : snprintf(out, cap, "%s_%s", inst, kind);
    return n > 0 && (size_t)n < cap;
}

/* ---- panels ---------------------------------------------------------------- */

/* The fields of a record that are Home Assistant sensors (model/fields.h): their HA columns. */
struct field_set {
    const sw_field *f;
    size_t n;
    unsigned skip; /* fields with any of these flags are left out */
};

static bool is_sensor(const struct field_set *fs, size_t i)
{
    return fs->f[i].ha.name && !(fs->f[i].flags & fs->skip);
}

static const sw_field *ha_field(const struct field_set *fs, size_t k)
{
    for (size_t i = 0; i < fs->n; i++)
        if (is_sensor(fs, i) && k-- == 0)
            return &fs->f[i];
    return NULL;
}

static size_t ha_count(const struct field_set *fs)
{
    size_t n = 0;
    for (size_t i = 0; i < fs->n; i++)
        n += is_sensor(fs, i);
    return n;
}

/* The entity of one field: keyed and read by its MQTT state name. */
static void field_entity(const sw_field *f, struct ha_entity *e)
{
    *e = (struct ha_entity){
        .key = f->key.mqtt, .name = f->ha.name, .platform = "sensor", .device_class = f->ha.device_class,
        .unit = f->ha.unit, .state_class = f->ha.state_class, .category = f->ha.category, .icon = f->ha.icon,
        .field = f->key.mqtt, .state_topic = NULL, .precision = f->ha.precision,
        .night_available = (f->flags & SW_FF_LIVE) == 0,
    };
}

static bool table_at(const void *ctx, size_t i, struct ha_entity *e, char *scratch, size_t scap)
{
    (void)scratch; (void)scap;
    const sw_field *f = ha_field(ctx, i);
    if (!f)
        return false;
    field_entity(f, e);
    return true;
}

sw_err sw_ha_discover_panel(const sw_mqtt_config *c, const sw_panel *p, char *buf, size_t cap,
                            sw_ha_emit_cb emit, void *user)
{
    char pid[SW_MQTT_TOPIC_MAX], id[DEVICE_ID_MAX], via[DEVICE_ID_MAX];
    char gw[SW_MQTT_TOPIC_MAX], topic[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_panel_id(pid, sizeof pid, p) || !sw_mqtt_gateway_id(gw, sizeof gw, p->source, p->gateway_id) ||
        !sw_mqtt_topic_panel(topic, sizeof topic, c, p) || !device_id(id, sizeof id, c, "panel", pid) ||
        !device_id(via, sizeof via, c, "gateway", gw))
        return SW_ERR_NO_SPACE;
    struct ha_device d = {
        .id = id, .name = p->name[0] ? p->name : pid, .manufacturer = "Tigo", .model = "TS4 optimizer",
        .serial = p->barcode, .via = via, .state_topic = topic, .online_field = true,
    };
    const struct field_set fs = { sw_panel_fields, sw_panel_field_count, 0 };
    return announce(c, &d, table_at, &fs, ha_count(&fs), buf, cap, emit, user);
}

/* ---- gateways -------------------------------------------------------------- */

sw_err sw_ha_discover_gateway(const sw_mqtt_config *c, const sw_gateway *g, char *buf, size_t cap,
                              sw_ha_emit_cb emit, void *user)
{
    char gw[SW_MQTT_TOPIC_MAX], id[DEVICE_ID_MAX], topic[SW_MQTT_TOPIC_MAX];
    char name[SW_MODEL_NAME_MAX + 32];
    if (!sw_mqtt_gateway_id(gw, sizeof gw, g->source, g->gateway_id) ||
        !sw_mqtt_topic_gateway(topic, sizeof topic, c, g->source, g->gateway_id) ||
        !device_id(id, sizeof id, c, "gateway", gw))
        return SW_ERR_NO_SPACE;
    snprintf(name, sizeof name, "Tigo gateway %s %u", g->source, (unsigned)g->gateway_id);
    struct ha_device d = {
        .id = id, .name = name, .manufacturer = "Tigo", .model = "TAP", .serial = g->barcode,
        .sw_version = g->version, .state_topic = topic,
    };
    const struct field_set fs = { sw_gateway_fields, sw_gateway_field_count, 0 };
    return announce(c, &d, table_at, &fs, ha_count(&fs), buf, cap, emit, user);
}

/* ---- string aggregates ----------------------------------------------------- */

struct strings_ctx {
    const sw_mqtt_config *c;
    const sw_string_agg *const *aggs;
    unsigned skip;
};

/* Entity i is sensor field (i % kinds) of string (i / kinds). */
static bool string_at(const void *vctx, size_t i, struct ha_entity *e, char *scratch, size_t scap)
{
    const struct strings_ctx *ctx = vctx;
    const struct field_set fs = { sw_string_fields, sw_string_field_count, ctx->skip };
    size_t kinds = ha_count(&fs);
    const sw_string_agg *s = ctx->aggs[i / kinds];
    struct ha_entity kind;
    field_entity(ha_field(&fs, i % kinds), &kind);
    const struct ha_entity *k = &kind;
    char slug[SW_MQTT_TOPIC_MAX];
    if (!s || !sw_mqtt_slug(slug, sizeof slug, s->name))
        return false;
    size_t third = scap / 3;
    char *key = scratch, *name = scratch + third, *topic = scratch + 2 * third;
    snprintf(key, third, "%s_%s", slug, k->key);
    if (strcmp(s->name, "total") == 0)
        snprintf(name, third, "Total %s", k->name);
    else
        snprintf(name, third, "%s %s", s->name, k->name);
    if (!sw_mqtt_topic_string(topic, scap - 2 * third, ctx->c, s->name))
        return false;
    *e = *k;
    e->key = key;
    e->name = name;
    e->state_topic = topic;
    return true;
}

sw_err sw_ha_discover_strings(const sw_mqtt_config *c, const sw_string_agg *const *aggs, size_t n,
                              char *buf, size_t cap, sw_ha_emit_cb emit, void *user)
{
    char id[DEVICE_ID_MAX];
    /* Per installation, not per hardware. */
    if (!device_id(id, sizeof id, c, "strings", NULL))
        return SW_ERR_NO_SPACE;
    struct ha_device d = {
        .id = id, .name = "Solar strings", .manufacturer = "sunwire", .model = "String aggregates",
    };
    struct strings_ctx ctx = { c, aggs, 0 };
    const struct field_set fs = { sw_string_fields, sw_string_field_count, 0 };
    sw_err e = announce(c, &d, string_at, &ctx, n * ha_count(&fs), buf, cap, emit, user);
    if (e != SW_ERR_NO_SPACE || c->discovery != SW_MQTT_DISCOVERY_DEVICE)
        return e;
    /* Each string brings two dozen statistics: with many strings they would not fit in one device
     * message. Nothing was sent yet (device mode sends one message or none): announce without them. */
    ctx.skip = SW_FF_DETAIL;
    const struct field_set brief = { sw_string_fields, sw_string_field_count, SW_FF_DETAIL };
    e = announce(c, &d, string_at, &ctx, n * ha_count(&brief), buf, cap, emit, user);
    return e == SW_OK ? SW_ERR_TOO_LONG : e;
}

/* ---- inverters ------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

void sw_ha_classify_value(const sw_inverter_value *v, sw_ha_value_class *out)
{
    const char *u = v->unit;
    const char *name = v->object_name;
    out->device_class = NULL;
    out->unit = u[0] ? u : NULL;
    out->state_class = v->is_number ? "measurement" : NULL;
    out->scale = 1.0;
    if (sw_ha_enum_find(name)) {
        /* A status code: one of its labels, never averaged. */
        out->device_class = "enum";
        out->unit = NULL;
        out->state_class = NULL;
        return;
    }
    if (!v->is_number) {
        out->unit = NULL;
        return;
    }
    if (strcmp(u, "W") == 0) {
        out->device_class = "power";
    } else if (strcmp(u, "V") == 0) {
        out->device_class = "voltage";
    } else if (strcmp(u, "A") == 0) {
        out->device_class = "current";
    } else if (strcmp(u, "Hz") == 0) {
        out->device_class = "frequency";
    } else if (strcmp(u, "VA") == 0) {
        out->device_class = "apparent_power";
    } else if (strcmp(u, "var") == 0) {
        out->device_class = "reactive_power";
    } else if (strcmp(u, "Ohm") == 0) {
        out->unit = "\xCE\xA9";
    } else if (strcmp(u, "s") == 0 || strcmp(u, "min") == 0) {
        out->device_class = "duration";
    } else if (strcmp(u, "days") == 0) {
        out->device_class = "duration";
        out->unit = "d";
    } else if (strcmp(u, "Wh") == 0) {
        /* The energy.* counters only grow (day/month/year ones restart, which
         * total_increasing reads as a reset); other Wh objects are stored
         * energy that goes both ways. */
        if (strncmp(name, "energy.", 7) == 0) {
            out->device_class = "energy";
            out->state_class = "total_increasing";
        } else {
            out->device_class = "energy_storage";
        }
    } else if (strcmp(u, "%") == 0) {
        /* The model already carries percent (the daemon scales RCT's fractions). */
        if (ends_with(name, ".soc"))
            out->device_class = "battery";
    } else if (strcmp(u, "\xC2\xB0" "C") == 0 || strcmp(u, "degC") == 0 || strcmp(u, "C") == 0 ||
               ((u[0] == '\0' || strcmp(u, "degrees") == 0) && (strstr(name, "temp") != NULL))) {
        out->device_class = "temperature";
        out->unit = "\xC2\xB0" "C";
    }
}

struct inverter_ctx {
    const sw_mqtt_config *cfg;
    const sw_inverter *inv;
    const sw_inverter_value *const *vals;
    size_t n;
};

/* A value the table (data/ha-inverter.tsv) does not describe: classified by its unit, named as in the registry. */
static void unlisted_entity(const sw_inverter_value *v, struct ha_entity *e, char *name, size_t ncap)
{
    sw_ha_value_class vc;
    sw_ha_classify_value(v, &vc);
    snprintf(name, ncap, "%s", v->object_name);
    e->name = name;
    e->device_class = vc.device_class;
    e->unit = vc.unit;
    e->state_class = vc.state_class;
}

static void value_entity(const sw_inverter_value *v, struct ha_entity *e, char *scratch, size_t scap)
{
    const sw_ha_inverter_entity *row = sw_ha_inverter_entity_find(v->object_name);
    size_t third = scap / 3;
    char *field = scratch + third, *name = scratch + 2 * third;
    e->field = e->key;
    if (!row) {
        unlisted_entity(v, e, name, scap - 2 * third);
    } else {
        *e = (struct ha_entity){
            .key = e->key, .name = row->name, .platform = "sensor", .device_class = row->device_class,
            .unit = row->unit, .state_class = row->state_class, .category = row->category, .field = e->key,
            .precision = row->precision,
        };
        if (row->kind == SW_HA_KIND_ABS || row->kind == SW_HA_KIND_TEXT) {
            char k[SW_MODEL_NAME_MAX + 16]; /* e->key lives in scratch too */
            snprintf(k, sizeof k, "%s_%s", e->key, row->kind == SW_HA_KIND_ABS ? "abs" : "text");
            snprintf(field, third, "%s", k);
            e->field = field;
        }
    }
    const sw_ha_enum *en = sw_ha_enum_find(v->object_name);
    if (en) {
        e->options = en->options;
        e->n_options = en->n_options;
    }
}

/* A status bit of a bit field value: a binary sensor reading the boolean the state carries. */
static bool bit_entity(const sw_inverter_value *v, const sw_ha_status_bit *b, struct ha_entity *e, char *scratch,
                       size_t scap)
{
    if (strcmp(b->object, v->object_name) != 0 || !v->is_number)
        return false;
    size_t third = scap / 3;
    char *key = scratch, *tmpl = scratch + third;
    char base[SW_MODEL_NAME_MAX + 8];
    if (!sw_mqtt_value_key(base, sizeof base, v->object_name))
        return false;
    snprintf(key, third, "%s_%s", base, b->key);
    snprintf(tmpl, scap - third, "{{ 'ON' if value_json.%s_%s else 'OFF' }}", base, b->key);
    *e = (struct ha_entity){
        .key = key, .name = b->name, .platform = "binary_sensor", .device_class = b->device_class,
        .category = "diagnostic", .field = key, .precision = -1, .tmpl = tmpl,
    };
    return true;
}

/* A control of this inverter: key "control_<value key>", its state from the value the poller reads. */
static bool control_entity(const struct inverter_ctx *ctx, const sw_ha_control *ct, struct ha_entity *e,
                           char *scratch, size_t scap)
{
    if (strcmp(ct->inverter, ctx->inv->name) != 0)
        return false;
    size_t q = scap / 4;
    char *key = scratch, *tmpl = scratch + q, *cmd = scratch + 2 * q, *field = scratch + 3 * q;
    char f[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_value_key(f, sizeof f, ct->object) || strlen(f) >= q ||
        !sw_mqtt_topic_command(cmd, q, ctx->cfg, ctx->inv->name, ct->object))
        return false;
    memcpy(field, f, strlen(f) + 1);
    snprintf(key, q, "control_%s", f);
    if (strcmp(ct->platform, "switch") == 0)
        snprintf(tmpl, q, "{{ 'ON' if value_json.%s else 'OFF' }}", f);
    else if (strcmp(ct->platform, "select") == 0)
        snprintf(tmpl, q, "{{ value_json.%s }}", f);
    else if (ct->scale != 1.0)
        snprintf(tmpl, q, "{{ (value_json.%s * %g) | round(2) }}", f, ct->scale);
    else
        snprintf(tmpl, q, "{{ value_json.%s }}", f);
    *e = (struct ha_entity){
        .key = key, .name = ct->name, .platform = ct->platform, .unit = ct->unit,
        .device_class = ct->device_class, .category = "config", .field = field, .precision = -1, .tmpl = tmpl,
        .control = ct, .command_topic = cmd,
    };
    if (strcmp(ct->platform, "select") == 0) {
        e->options = ct->options;
        e->n_options = ct->n_options;
    }
    return true;
}

/* Entities 0..n-1 are the values; then, per value, one per status bit (most match nothing); then the controls. */
static bool inverter_at(const void *vctx, size_t i, struct ha_entity *e, char *scratch, size_t scap)
{
    const struct inverter_ctx *ctx = vctx;
    size_t values = ctx->n * (1 + sw_ha_status_bit_count);
    if (i >= values)
        return i - values < ctx->cfg->n_controls &&
               control_entity(ctx, &ctx->cfg->controls[i - values], e, scratch, scap);
    const sw_inverter_value *v = ctx->vals[i < ctx->n ? i : (i - ctx->n) / sw_ha_status_bit_count];
    if (!v || strcmp(v->inverter, ctx->inv->name) != 0)
        return false;
    /* A value that is also a control is shown by its number, select or switch alone. */
    for (size_t k = 0; i < ctx->n && k < ctx->cfg->n_controls; k++)
        if (strcmp(ctx->cfg->controls[k].inverter, v->inverter) == 0 &&
            strcmp(ctx->cfg->controls[k].object, v->object_name) == 0)
            return false;
    if (i >= ctx->n)
        return bit_entity(v, &sw_ha_status_bits[(i - ctx->n) % sw_ha_status_bit_count], e, scratch, scap);
    size_t third = scap / 3;
    memset(e, 0, sizeof *e);
    if (!sw_mqtt_value_key(scratch, third, v->object_name))
        return false;
    e->key = scratch;
    e->platform = "sensor";
    e->precision = -1;
    value_entity(v, e, scratch, scap);
    e->structured = v->json != NULL;
    return true;
}

sw_err sw_ha_discover_inverter(const sw_mqtt_config *c, const sw_inverter *inv,
                               const sw_inverter_value *const *vals, size_t n, char *buf, size_t cap,
                               sw_ha_emit_cb emit, void *user)
{
    char serial[SW_MQTT_TOPIC_MAX], id[DEVICE_ID_MAX], topic[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_inverter_id(serial, sizeof serial, inv))
        return SW_ERR_NOT_FOUND;
    if (!sw_mqtt_topic_inverter(topic, sizeof topic, c, inv->name) || !device_id(id, sizeof id, c, "inverter", serial))
        return SW_ERR_NO_SPACE;
    struct ha_device d = {
        .id = id, .name = inv->name, .manufacturer = "RCT Power", .model = inv->model, .serial = inv->serial,
        .sw_version = inv->firmware, .state_topic = topic, .online_field = true,
    };
    struct inverter_ctx ctx = { c, inv, vals, n };
    return announce(c, &d, inverter_at, &ctx, n * (1 + sw_ha_status_bit_count) + c->n_controls, buf, cap, emit,
                    user);
}
