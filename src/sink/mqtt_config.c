/*
 * mqtt_config.c: the [mqtt] configuration keys and the topic names.
 *
 * Pure text handling: the daemon's INI reader hands us one key at a time and
 * trusts nothing about the value, so every value is checked here and a bad
 * one leaves the configuration as it was.
 */
#include "sink/sink_mqtt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sunwire/core.h"

void sw_mqtt_config_defaults(sw_mqtt_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 1883;
    c->keepalive_s = 60;
    snprintf(c->base_topic, sizeof c->base_topic, "sunwire");
    snprintf(c->discovery_prefix, sizeof c->discovery_prefix, "homeassistant");
    c->discovery = SW_MQTT_DISCOVERY_DEVICE;
    c->retain_discovery = true;
    c->qos = 1;
    c->queue_size = SW_MQTT_QUEUE_DEFAULT;
    c->reconnect_min_ms = 1000;
    c->reconnect_max_ms = 60000;
    c->connect_timeout_ms = 10000;
    c->coalesce_ms = 250;
    c->resend_delay_ms = 5000;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static sw_err fail(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return SW_ERR_INVALID_ARGUMENT;
}

static bool parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || errno != 0 || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

/* Seconds with decimals ("0.5", "30") to milliseconds. */
static bool parse_seconds_ms(const char *v, int lo_ms, int hi_ms, int *out)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (end == v || *end != '\0' || errno != 0 || !isfinite(s))
        return false;
    double ms = s * 1000.0;
    if (ms < lo_ms || ms > hi_ms)
        return false;
    *out = (int)lround(ms);
    return true;
}

static bool copy_text(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap)
        return false;
    memcpy(dst, v, n + 1);
    return true;
}

/*
 * Publish topics may not contain wildcards and must be UTF-8 (the broker
 * drops the connection otherwise); empty levels at the ends only confuse people.
 */
static bool topic_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || t[0] == '/' || t[n - 1] == '/')
        return false;
    return strpbrk(t, "+#") == NULL && sw_utf8_valid((const uint8_t *)t, n);
}

sw_err sw_mqtt_config_set(sw_mqtt_config *c, const char *key, const char *value, char *err, size_t errcap)
{
    if (!c || !key || !value)
        return fail(err, errcap, "missing key or value");
    if (err && errcap)
        err[0] = '\0';

    struct { const char *key; char *dst; size_t cap; } texts[] = {
        { "host", c->host, sizeof c->host },
        { "client_id", c->client_id, sizeof c->client_id },
        { "username", c->username, sizeof c->username },
        { "password", c->password, sizeof c->password },
        { "tls_ca_file", c->tls_ca_file, sizeof c->tls_ca_file },
        { "tls_ca_path", c->tls_ca_path, sizeof c->tls_ca_path },
        { "tls_cert_file", c->tls_cert_file, sizeof c->tls_cert_file },
        { "tls_key_file", c->tls_key_file, sizeof c->tls_key_file },
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (strcmp(key, texts[i].key) != 0)
            continue;
        if (strcmp(key, "host") == 0 && value[0] == '\0')
            return fail(err, errcap, "mqtt host: must not be empty");
        /* MQTT carries these two as UTF-8 strings; libmosquitto refuses anything else. */
        if ((strcmp(key, "client_id") == 0 || strcmp(key, "username") == 0) &&
            !sw_utf8_valid((const uint8_t *)value, strlen(value)))
            return fail(err, errcap, "mqtt %s: not valid UTF-8", key);
        if (!copy_text(texts[i].dst, texts[i].cap, value))
            return fail(err, errcap, "mqtt %s: longer than %zu bytes", key, texts[i].cap - 1);
        if (strncmp(key, "tls_", 4) == 0 && value[0]) {
            c->tls = true;
            if (!c->port_set)
                c->port = 8883;
        }
        return SW_OK;
    }

    if (strcmp(key, "base_topic") == 0 || strcmp(key, "discovery_prefix") == 0 ||
        strcmp(key, "ha_status_topic") == 0) {
        char *dst = key[0] == 'b' ? c->base_topic : key[0] == 'd' ? c->discovery_prefix : c->ha_status_topic;
        if (!topic_ok(value))
            return fail(err, errcap, "mqtt %s: \"%s\" is not a usable topic (empty, leading or trailing '/', a wildcard, or not UTF-8)",
                        key, value);
        if (!copy_text(dst, SW_MQTT_TEXT_MAX, value))
            return fail(err, errcap, "mqtt %s: longer than %d bytes", key, SW_MQTT_TEXT_MAX - 1);
        return SW_OK;
    }

    if (strcmp(key, "instance_id") == 0) {
        /* Home Assistant ids and discovery topics are made from it: plain characters only, nothing to slug. */
        size_t n = strlen(value);
        if (n == 0 || n >= sizeof c->instance_id || strspn(value, "abcdefghijklmnopqrstuvwxyz"
                                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
            return fail(err, errcap, "mqtt instance_id: \"%s\" must be 1 to %zu letters, digits, '_' or '-'", value,
                        sizeof c->instance_id - 1);
        memcpy(c->instance_id, value, n + 1);
        return SW_OK;
    }

    bool *flag = strcmp(key, "tls") == 0            ? &c->tls
                 : strcmp(key, "tls_insecure") == 0 ? &c->tls_insecure
                 : strcmp(key, "retain") == 0       ? &c->retain_state
                 : strcmp(key, "retain_discovery") == 0 ? &c->retain_discovery
                                                        : NULL;
    if (flag) {
        if (!sw_parse_bool(value, flag))
            return fail(err, errcap, "mqtt %s: \"%s\" is not a boolean (true/false, yes/no, on/off, 1/0)", key, value);
        if (flag == &c->tls && c->tls && !c->port_set)
            c->port = 8883;
        if (flag == &c->tls && !c->tls && !c->port_set)
            c->port = 1883;
        return SW_OK;
    }

    long n;
    if (strcmp(key, "port") == 0) {
        if (!parse_long(value, 1, 65535, &n))
            return fail(err, errcap, "mqtt port: \"%s\" is not a port number (1-65535)", value);
        c->port = (uint16_t)n;
        c->port_set = true;
        return SW_OK;
    }
    if (strcmp(key, "keepalive") == 0) {
        /* libmosquitto refuses keepalives under 5 s; 65535 is MQTT's ceiling. */
        if (!parse_long(value, 5, 65535, &n))
            return fail(err, errcap, "mqtt keepalive: \"%s\" is not a number of seconds between 5 and 65535", value);
        c->keepalive_s = (int)n;
        return SW_OK;
    }
    if (strcmp(key, "qos") == 0) {
        if (!parse_long(value, 0, 2, &n))
            return fail(err, errcap, "mqtt qos: \"%s\" must be 0, 1 or 2", value);
        c->qos = (int)n;
        return SW_OK;
    }
    if (strcmp(key, "queue_size") == 0) {
        if (!parse_long(value, 1, 1000000, &n))
            return fail(err, errcap, "mqtt queue_size: \"%s\" must be a count between 1 and 1000000", value);
        c->queue_size = (size_t)n;
        return SW_OK;
    }
    if (strcmp(key, "discovery") == 0) {
        if (strcasecmp(value, "device") == 0)
            c->discovery = SW_MQTT_DISCOVERY_DEVICE;
        else if (strcasecmp(value, "entity") == 0)
            c->discovery = SW_MQTT_DISCOVERY_ENTITY;
        else if (strcasecmp(value, "off") == 0 || strcasecmp(value, "false") == 0 ||
                 strcasecmp(value, "no") == 0)
            c->discovery = SW_MQTT_DISCOVERY_OFF;
        else
            return fail(err, errcap, "mqtt discovery: \"%s\" must be device, entity or off", value);
        return SW_OK;
    }
    struct { const char *key; int *dst; int lo, hi; } durations[] = {
        { "reconnect_min", &c->reconnect_min_ms, 10, 3600000 },
        { "reconnect_max", &c->reconnect_max_ms, 10, 3600000 },
        { "connect_timeout", &c->connect_timeout_ms, 100, 600000 },
        { "coalesce", &c->coalesce_ms, 0, 60000 },
        { "resend_delay", &c->resend_delay_ms, 0, 600000 },
    };
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        if (strcmp(key, durations[i].key) != 0)
            continue;
        if (!parse_seconds_ms(value, durations[i].lo, durations[i].hi, durations[i].dst))
            return fail(err, errcap, "mqtt %s: \"%s\" must be seconds between %g and %g", key, value,
                        durations[i].lo / 1000.0, durations[i].hi / 1000.0);
        return SW_OK;
    }

    if (err && errcap)
        snprintf(err, errcap, "mqtt: unknown key \"%s\"", key);
    return SW_ERR_NOT_FOUND;
}

/* ---- names ---------------------------------------------------------------- */

size_t sw_mqtt_slug(char *out, size_t cap, const char *text)
{
    size_t n = 0;
    bool last_sub = false;
    if (cap == 0)
        return 0;
    for (const char *p = text; *p; p++) {
        char ch = *p;
        bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '_' || ch == '-';
        if (!keep) {
            if (last_sub)
                continue;
            ch = '_';
        }
        last_sub = !keep;
        if (n + 1 >= cap) {
            out[0] = '\0';
            return 0;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    return n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static size_t put(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

size_t sw_mqtt_instance_id(char *out, size_t cap, const sw_mqtt_config *c)
{
    if (c->instance_id[0])
        return put(out, cap, "%s", c->instance_id);
    return sw_mqtt_slug(out, cap, c->base_topic);
}

size_t sw_mqtt_panel_id(char *out, size_t cap, const sw_panel *p)
{
    if (p->barcode[0])
        return sw_mqtt_slug(out, cap, p->barcode);
    char raw[SW_MODEL_NAME_MAX + 16];
    snprintf(raw, sizeof raw, "%s_%u_%u", p->source, (unsigned)p->gateway_id, (unsigned)p->node_id);
    return sw_mqtt_slug(out, cap, raw);
}

size_t sw_mqtt_gateway_id(char *out, size_t cap, const char *source, uint16_t gateway_id)
{
    char raw[SW_MODEL_NAME_MAX + 8];
    snprintf(raw, sizeof raw, "%s_%u", source, (unsigned)gateway_id);
    return sw_mqtt_slug(out, cap, raw);
}

size_t sw_mqtt_inverter_id(char *out, size_t cap, const sw_inverter *inv)
{
    if (cap)
        out[0] = '\0';
    if (!inv->serial[0])
        return 0;
    return sw_mqtt_slug(out, cap, inv->serial);
}

size_t sw_mqtt_value_key(char *out, size_t cap, const char *object_name)
{
    size_t n = sw_mqtt_slug(out, cap, object_name);
    /* "dc_conv_struct[0]" slugs to "..._0_" : drop the trailing separator. */
    while (n > 1 && out[n - 1] == '_')
        out[--n] = '\0';
    return n;
}

size_t sw_mqtt_topic_status(char *out, size_t cap, const sw_mqtt_config *c)
{
    return put(out, cap, "%s/status", c->base_topic);
}

size_t sw_mqtt_topic_panel(char *out, size_t cap, const sw_mqtt_config *c, const sw_panel *p)
{
    char id[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_panel_id(id, sizeof id, p))
        return 0;
    return put(out, cap, "%s/panel/%s/state", c->base_topic, id);
}

size_t sw_mqtt_topic_gateway(char *out, size_t cap, const sw_mqtt_config *c, const char *source,
                             uint16_t gateway_id)
{
    char id[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_gateway_id(id, sizeof id, source, gateway_id))
        return 0;
    return put(out, cap, "%s/gateway/%s/state", c->base_topic, id);
}

size_t sw_mqtt_topic_string(char *out, size_t cap, const sw_mqtt_config *c, const char *name)
{
    char id[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_slug(id, sizeof id, name))
        return 0;
    return put(out, cap, "%s/string/%s/state", c->base_topic, id);
}

size_t sw_mqtt_topic_inverter(char *out, size_t cap, const sw_mqtt_config *c, const char *name)
{
    char id[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_slug(id, sizeof id, name))
        return 0;
    return put(out, cap, "%s/inverter/%s/state", c->base_topic, id);
}

size_t sw_mqtt_topic_command(char *out, size_t cap, const sw_mqtt_config *c, const char *name, const char *object)
{
    char id[SW_MQTT_TOPIC_MAX], key[SW_MQTT_TOPIC_MAX];
    if (!sw_mqtt_slug(id, sizeof id, name) || !sw_mqtt_value_key(key, sizeof key, object))
        return 0;
    return put(out, cap, "%s/inverter/%s/set/%s", c->base_topic, id, key);
}
