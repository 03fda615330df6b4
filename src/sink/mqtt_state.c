/*
 * mqtt_state.c: the JSON state payload of each device.
 *
 * Pure functions over the model's records (trusted to be NUL-terminated and
 * numerically sane; NaN becomes null through the JSON writer). Records are
 * written from the field tables (model/fields.h), in table order. Key names are
 * the contract with Home Assistant's value templates in homeassistant.c and
 * with anyone scripting against the topics, so they only ever get added to.
 */
#include "sink/sink_mqtt.h"

#include <string.h>

#include "sunwire/core.h"
#include "sunwire/json.h"
#include "model/fields.h"
#include "sink/ha_inverter.h"
#include "sink/mqtt_internal.h"

static sw_err finish(sw_json *j, size_t *len)
{
    if (!sw_json_finish(j))
        return SW_ERR_NO_SPACE;
    if (len)
        *len = j->len;
    return SW_OK;
}

/*
 * The fields the MQTT state carries, in table order, under their MQTT names.
 * A scaled field (a duty cycle 0..1 published in percent, as Home Assistant
 * and taptap-mqtt users read it) is rounded to two decimals.
 */
static void fields(sw_json *j, const sw_field *f, size_t n, const void *rec)
{
    for (size_t i = 0; i < n; i++) {
        if (!f[i].key.mqtt)
            continue;
        sw_json_key(j, f[i].key.mqtt);
        if (f[i].type == SW_FT_DOUBLE && f[i].ha.scale != 1.0)
            sw_json_double(j, sw_mqtt_round(sw_field_number(&f[i], rec) * f[i].ha.scale, 2));
        else
            sw_field_json_value(j, &f[i], rec, SW_FIELD_TIME_RFC3339);
    }
}

static sw_err record(char *buf, size_t cap, const sw_field *f, size_t n, const void *rec, size_t *len)
{
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    fields(&j, f, n, rec);
    sw_json_object_end(&j);
    return finish(&j, len);
}

sw_err sw_mqtt_panel_state(char *buf, size_t cap, const sw_panel *p, size_t *len)
{
    return record(buf, cap, sw_panel_fields, sw_panel_field_count, p, len);
}

sw_err sw_mqtt_gateway_state(char *buf, size_t cap, const sw_gateway *g, size_t *len)
{
    return record(buf, cap, sw_gateway_fields, sw_gateway_field_count, g, len);
}

sw_err sw_mqtt_string_state(char *buf, size_t cap, const sw_string_agg *s, size_t *len)
{
    return record(buf, cap, sw_string_fields, sw_string_field_count, s, len);
}

sw_err sw_mqtt_inverter_state(char *buf, size_t cap, const sw_inverter *inv,
                              const sw_inverter_value *const *vals, size_t n, size_t *len)
{
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    fields(&j, sw_inverter_fields, sw_inverter_field_count, inv);
    for (size_t i = 0; i < n; i++) {
        const sw_inverter_value *v = vals[i];
        if (!v || strcmp(v->inverter, inv->name) != 0)
            continue;
        char key[SW_MODEL_NAME_MAX + 8];
        if (!sw_mqtt_value_key(key, sizeof key, v->object_name))
            continue;
        sw_ha_inverter_value_json(&j, v, key);
    }
    sw_json_object_end(&j);
    return finish(&j, len);
}

/* ---- problems ------------------------------------------------------------ */

sw_err sw_mqtt_problems_state(char *buf, size_t cap, const sw_problem *const *probs, size_t n, size_t *len)
{
    sw_json j;
    char one[1024];
    sw_json_init(&j, buf, cap);
    sw_json_array_begin(&j);
    for (size_t i = 0; i < n; i++) {
        size_t olen;
        if (!probs[i] || !probs[i]->active || sw_problem_json(probs[i], one, sizeof one, &olen) != SW_OK)
            continue;
        sw_json_raw(&j, one, olen);
    }
    sw_json_array_end(&j);
    return finish(&j, len);
}

static void time_or_null(sw_json *j, const char *key, int64_t ns)
{
    sw_json_key(j, key);
    if (!ns) {
        sw_json_null(j);
        return;
    }
    char t[SW_RFC3339_MAX];
    sw_fmt_rfc3339(t, ns, 0);
    sw_json_string(j, t);
}

sw_err sw_mqtt_subject_problems_state(char *buf, size_t cap, sw_subject_kind k, const sw_problem *const *probs,
                                      size_t n, size_t *len)
{
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    for (int kind = SW_PROBLEM_KIND_FIRST; kind <= SW_PROBLEM_KIND_LAST; kind++) {
        if (sw_problem_kind_subject((sw_problem_kind)kind) != k)
            continue;
        const sw_problem *p = NULL;
        for (size_t i = 0; i < n && !p; i++)
            if (probs[i] && probs[i]->kind == (sw_problem_kind)kind)
                p = probs[i];
        sw_json_key(&j, sw_problem_kind_name((sw_problem_kind)kind));
        sw_json_object_begin(&j);
        sw_json_key(&j, "active");
        sw_json_bool(&j, p && p->active);
        time_or_null(&j, "since", p ? p->since_ns : 0);
        time_or_null(&j, "until", p && !p->active ? p->until_ns : 0);
        sw_json_key(&j, "reason");
        sw_json_string(&j, p ? p->reason : "");
        sw_json_object_end(&j);
    }
    sw_json_object_end(&j);
    return finish(&j, len);
}
