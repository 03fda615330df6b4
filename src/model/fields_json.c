/*
 * fields_json.c: a record's fields as JSON keys and values, walked from the
 * descriptor tables (model/fields.h). Every JSON output of the program (the
 * daemon's lines, MQTT states, the web API) writes records through here, so
 * a field added to a table appears in all of them.
 */
#include <stddef.h>

#include "model/fields.h"
#include "sunwire/core.h"
#include "sunwire/json.h"

const char *sw_field_key(const sw_field *f, sw_field_output o)
{
    switch (o) {
    case SW_OUT_JSON: return f->key.json;
    case SW_OUT_MQTT: return f->key.mqtt;
    case SW_OUT_API: return f->key.api;
    case SW_OUT_INFLUX: return f->key.influx;
    case SW_OUT_SQL: return f->key.sql;
    }
    return NULL;
}

void sw_field_json_value(sw_json *j, const sw_field *f, const void *rec, sw_field_time ts)
{
    switch (f->type) {
    case SW_FT_TEXT:
    case SW_FT_KIND:
        sw_json_string(j, sw_field_text(f, rec));
        return;
    case SW_FT_BOOL:
        sw_json_bool(j, sw_field_bool(f, rec));
        return;
    case SW_FT_U16:
    case SW_FT_U32:
    case SW_FT_UINT:
    case SW_FT_U64:
        sw_json_uint(j, sw_field_uint(f, rec));
        return;
    case SW_FT_INT:
        sw_json_int(j, sw_field_int(f, rec));
        return;
    case SW_FT_DOUBLE:
        sw_json_double(j, sw_field_number(f, rec)); /* non-finite becomes null */
        return;
    case SW_FT_TIME: {
        int64_t ns = sw_field_int(f, rec);
        if (ts == SW_FIELD_TIME_NS) {
            sw_json_int(j, ns);
            return;
        }
        if (ns <= 0) {
            sw_json_null(j);
            return;
        }
        char t[SW_RFC3339_MAX];
        sw_fmt_rfc3339(t, ts == SW_FIELD_TIME_RFC3339_MS ? ns - ns % 1000000 : ns, 0);
        sw_json_string(j, t);
        return;
    }
    }
    sw_json_null(j);
}

void sw_fields_json(sw_json *j, const sw_field *fields, size_t n, sw_field_output o, const void *rec,
                    sw_field_time ts)
{
    for (size_t i = 0; i < n; i++) {
        const char *key = sw_field_key(&fields[i], o);
        if (!key)
            continue;
        sw_json_key(j, key);
        sw_field_json_value(j, &fields[i], rec, ts);
    }
}
