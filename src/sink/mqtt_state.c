/*
 * mqtt_state.c: the JSON state payload of each device.
 *
 * Pure functions over the model's records (trusted to be NUL-terminated and
 * numerically sane; NaN becomes null through the JSON writer). Key names are
 * the contract with Home Assistant's value templates in homeassistant.c and
 * with anyone scripting against the topics, so they only ever get added to.
 */
#include "sunwire/sink_mqtt.h"

#include <string.h>

#include "sunwire/core.h"
#include "sunwire/json.h"
#include "sink/mqtt_internal.h"

static sw_err finish(sw_json *j, size_t *len)
{
    if (!sw_json_finish(j))
        return SW_ERR_NO_SPACE;
    if (len)
        *len = j->len;
    return SW_OK;
}

static void key_time(sw_json *j, const char *key, int64_t unix_ns)
{
    sw_json_key(j, key);
    if (unix_ns <= 0) {
        sw_json_null(j);
        return;
    }
    char t[SW_RFC3339_MAX];
    sw_fmt_rfc3339(t, unix_ns, 0);
    sw_json_string(j, t);
}

static void key_double(sw_json *j, const char *key, double v)
{
    sw_json_key(j, key);
    sw_json_double(j, v);
}

static void key_string(sw_json *j, const char *key, const char *v)
{
    sw_json_key(j, key);
    sw_json_string(j, v);
}

sw_err sw_mqtt_panel_state(char *buf, size_t cap, const sw_panel *p, size_t *len)
{
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    key_string(&j, "name", p->name);
    key_string(&j, "barcode", p->barcode);
    key_string(&j, "source", p->source);
    sw_json_key(&j, "gateway");
    sw_json_uint(&j, p->gateway_id);
    sw_json_key(&j, "node");
    sw_json_uint(&j, p->node_id);
    key_string(&j, "string", p->string_name);
    sw_json_key(&j, "online");
    sw_json_bool(&j, p->online);
    key_double(&j, "power", p->power_w);
    key_double(&j, "voltage_in", p->voltage_in);
    key_double(&j, "voltage_out", p->voltage_out);
    key_double(&j, "current_in", p->current_in);
    /* Percent, as Home Assistant and taptap-mqtt users read a duty cycle. */
    key_double(&j, "duty_cycle", sw_mqtt_round(p->duty_cycle * 100.0, 2));
    key_double(&j, "temperature", p->temperature_c);
    sw_json_key(&j, "rssi");
    sw_json_int(&j, p->rssi);
    key_double(&j, "energy_today", p->energy_today_wh);
    key_double(&j, "energy_total", p->energy_total_wh);
    key_time(&j, "last_seen", p->last_seen_ns);
    sw_json_object_end(&j);
    return finish(&j, len);
}

sw_err sw_mqtt_gateway_state(char *buf, size_t cap, const sw_gateway *g, size_t *len)
{
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    key_string(&j, "source", g->source);
    sw_json_key(&j, "gateway");
    sw_json_uint(&j, g->gateway_id);
    key_string(&j, "address", g->address);
    key_string(&j, "barcode", g->barcode);
    key_string(&j, "version", g->version);
    sw_json_object_end(&j);
    return finish(&j, len);
}

sw_err sw_mqtt_string_state(char *buf, size_t cap, const sw_string_agg *s, size_t *len)
{
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    key_string(&j, "name", s->name);
    sw_json_key(&j, "panels");
    sw_json_uint(&j, s->panels);
    sw_json_key(&j, "online");
    sw_json_uint(&j, s->online);
    key_double(&j, "power", s->power_sum_w);
    key_double(&j, "power_min", s->power_min_w);
    key_double(&j, "power_max", s->power_max_w);
    key_double(&j, "power_avg", s->power_avg_w);
    key_double(&j, "energy_today", s->energy_today_wh);
    key_double(&j, "energy_total", s->energy_total_wh);
    sw_json_object_end(&j);
    return finish(&j, len);
}

sw_err sw_mqtt_inverter_state(char *buf, size_t cap, const sw_inverter *inv,
                              const sw_inverter_value *const *vals, size_t n, size_t *len)
{
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    key_string(&j, "name", inv->name);
    key_string(&j, "serial", inv->serial);
    key_string(&j, "model", inv->model);
    key_string(&j, "firmware", inv->firmware);
    sw_json_key(&j, "online");
    sw_json_bool(&j, inv->online);
    key_time(&j, "last_poll", inv->last_poll_ns);
    for (size_t i = 0; i < n; i++) {
        const sw_inverter_value *v = vals[i];
        if (!v || strcmp(v->inverter, inv->name) != 0)
            continue;
        char key[SW_MODEL_NAME_MAX + 8];
        if (!sw_mqtt_value_key(key, sizeof key, v->object_name))
            continue;
        sw_json_key(&j, key);
        if (v->is_number) {
            sw_ha_value_class vc;
            sw_ha_classify_value(v, &vc);
            sw_json_double(&j, vc.scale == 1.0 ? v->number : sw_mqtt_round(v->number * vc.scale, 6));
        } else {
            sw_json_string(&j, v->text);
        }
    }
    sw_json_object_end(&j);
    return finish(&j, len);
}
