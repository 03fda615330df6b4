/*
 * registry.c: lookups in the generated RCT object table (registry_table.c).
 *
 * The table is trusted to be sorted by id and its name index sorted by
 * strcmp; the registry unit test proves both against the TSV. Prefix queries
 * use the name index: all names with a given prefix form one contiguous run.
 */
#include "sunwire/rct_registry.h"

#include <string.h>

extern const sw_rct_object sw_rct_registry_objects_[];
extern const uint16_t sw_rct_registry_name_index_[];
extern const uint32_t sw_rct_registry_ids_[];
extern const size_t sw_rct_registry_count_;
extern const size_t sw_rct_registry_name_max_;

static const char *const group_names[SW_RCT_GROUP_COUNT_] = {
    "RB485", "ENERGY", "GRID_MON", "TEMPERATURE", "BATTERY", "CS_NEG", "HW_TEST",
    "G_SYNC", "LOGGER", "WIFI", "ADC", "NET", "ACC_CONV", "DC_CONV", "NSM",
    "IO_BOARD", "FLASH_RTC", "POWER_MNG", "BUF_V_CONTROL", "DB", "SWITCH_ON_COND",
    "P_REC", "MODBUS", "BAT_MNG_STRUCT", "ISO_STRUCT", "GRID_LT", "CAN_BUS",
    "DISPLAY_STRUCT", "FLASH_PARAM", "FAULT", "PRIM_SM", "CS_MAP", "LINE_MON",
    "OTHERS", "BATTERY_PLACEHOLDER", "FRT", "PARTITION",
};

const char *sw_rct_group_name(sw_rct_group g)
{
    if ((unsigned)g >= SW_RCT_GROUP_COUNT_)
        return NULL;
    return group_names[g];
}

sw_err sw_rct_group_from_name(const char *name, sw_rct_group *out)
{
    if (!name || !out)
        return SW_ERR_INVALID_ARGUMENT;
    for (unsigned g = 0; g < SW_RCT_GROUP_COUNT_; g++) {
        if (strcmp(group_names[g], name) == 0) {
            *out = (sw_rct_group)g;
            return SW_OK;
        }
    }
    return SW_ERR_NOT_FOUND;
}

size_t sw_rct_registry_count(void) { return sw_rct_registry_count_; }

const sw_rct_object *sw_rct_registry_at(size_t i)
{
    return i < sw_rct_registry_count_ ? &sw_rct_registry_objects_[i] : NULL;
}

const sw_rct_object *sw_rct_registry_at_by_name(size_t i)
{
    return i < sw_rct_registry_count_ ? &sw_rct_registry_objects_[sw_rct_registry_name_index_[i]]
                                      : NULL;
}

size_t sw_rct_registry_name_max_length(void) { return sw_rct_registry_name_max_; }

const sw_rct_object *sw_rct_registry_find_id(uint32_t id)
{
    /* Branch-free binary search over the compact id array: every client and
     * decoder looks ids up once per frame, so this is on the hot path. */
    const uint32_t *base = sw_rct_registry_ids_;
    size_t n = sw_rct_registry_count_;
    if (n == 0)
        return NULL;
    while (n > 1) {
        size_t half = n / 2;
        base = base[half] <= id ? base + half : base;
        n -= half;
    }
    return *base == id ? &sw_rct_registry_objects_[base - sw_rct_registry_ids_] : NULL;
}

/* First position in the name index whose name is >= key (strcmp order). */
static size_t name_lower_bound(const char *key)
{
    size_t lo = 0, hi = sw_rct_registry_count_;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sw_rct_registry_at_by_name(mid)->name, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const sw_rct_object *sw_rct_registry_find_name(const char *name)
{
    if (!name)
        return NULL;
    size_t i = name_lower_bound(name);
    const sw_rct_object *o = sw_rct_registry_at_by_name(i);
    return o && strcmp(o->name, name) == 0 ? o : NULL;
}

size_t sw_rct_registry_prefix(const char *prefix, sw_rct_object_cb cb, void *ctx)
{
    if (!prefix)
        prefix = "";
    size_t plen = strlen(prefix);
    size_t n = 0;
    for (size_t i = name_lower_bound(prefix); i < sw_rct_registry_count_; i++) {
        const sw_rct_object *o = sw_rct_registry_at_by_name(i);
        if (strncmp(o->name, prefix, plen) != 0)
            break;
        n++;
        if (cb && cb(o, ctx))
            break;
    }
    return n;
}

size_t sw_rct_registry_search(const char *needle, sw_rct_object_cb cb, void *ctx)
{
    if (!needle)
        needle = "";
    size_t n = 0;
    for (size_t i = 0; i < sw_rct_registry_count_; i++) {
        const sw_rct_object *o = sw_rct_registry_at_by_name(i);
        if (!strstr(o->name, needle))
            continue;
        n++;
        if (cb && cb(o, ctx))
            break;
    }
    return n;
}

static sw_err enum_check(const sw_rct_object *obj)
{
    if (!obj)
        return SW_ERR_INVALID_ARGUMENT;
    if (obj->request_type != SW_RCT_TYPE_ENUM)
        return SW_ERR_RCT_NOT_ENUM;
    if (!obj->enum_map || obj->enum_count == 0)
        return SW_ERR_RCT_NO_ENUM_MAP;
    return SW_OK;
}

sw_err sw_rct_object_enum_label(const sw_rct_object *obj, int64_t value, const char **label)
{
    sw_err e = enum_check(obj);
    if (e)
        return e;
    for (size_t k = 0; k < obj->enum_count; k++) {
        if (obj->enum_map[k].value == value) {
            if (label)
                *label = obj->enum_map[k].label;
            return SW_OK;
        }
    }
    return SW_ERR_NOT_FOUND;
}

sw_err sw_rct_object_enum_value(const sw_rct_object *obj, const char *label, int64_t *value)
{
    sw_err e = enum_check(obj);
    if (e)
        return e;
    if (!label)
        return SW_ERR_INVALID_ARGUMENT;
    for (size_t k = 0; k < obj->enum_count; k++) {
        if (strcmp(obj->enum_map[k].label, label) == 0) {
            if (value)
                *value = obj->enum_map[k].value;
            return SW_OK;
        }
    }
    return SW_ERR_NOT_FOUND;
}

sw_err sw_rct_object_sim_value(const sw_rct_object *obj, sw_rct_value *out)
{
    if (!obj || !out)
        return SW_ERR_INVALID_ARGUMENT;
    sw_rct_type t = obj->response_type;
    /* UNKNOWN is encodable as raw bytes, but the reference simulator has no
     * bytes for it and stays silent; so do we. */
    if (!sw_rct_type_encodable(t) || t == SW_RCT_TYPE_UNKNOWN)
        return SW_ERR_RCT_NOT_ENCODABLE;
    memset(out, 0, sizeof *out);
    out->type = t;
    switch (obj->sim_kind) {
    case SW_RCT_SIM_TRUE:
        if (t == SW_RCT_TYPE_BOOL)
            out->u.b = true;
        else if (t == SW_RCT_TYPE_FLOAT)
            out->u.f = 1.0;
        else if (t == SW_RCT_TYPE_STRING)
            return SW_ERR_RCT_NOT_ENCODABLE;
        else
            out->u.i = 1;
        break;
    case SW_RCT_SIM_STRING:
        if (t != SW_RCT_TYPE_STRING)
            return SW_ERR_RCT_NOT_ENCODABLE;
        out->u.str.bytes = (const uint8_t *)obj->sim_string;
        out->u.str.len = strlen(obj->sim_string);
        out->u.str.raw = out->u.str.bytes;
        out->u.str.raw_len = out->u.str.len;
        break;
    case SW_RCT_SIM_ZERO:
    case SW_RCT_SIM_FLOAT_ZERO:
        if (t == SW_RCT_TYPE_STRING)
            return SW_ERR_RCT_NOT_ENCODABLE;
        /* zero of every scalar type: memset did it */
        break;
    }
    return SW_OK;
}

sw_err sw_rct_object_parse_value(const sw_rct_object *obj, const char *text, sw_rct_value *out,
                                 uint8_t *storage, size_t cap)
{
    if (!obj || !text || !out)
        return SW_ERR_INVALID_ARGUMENT;
    sw_err e = sw_rct_value_from_text(obj->request_type, text, out, storage, cap);
    if (e == SW_ERR_BAD_NUMBER && obj->request_type == SW_RCT_TYPE_ENUM) {
        int64_t v;
        if (sw_rct_object_enum_value(obj, text, &v) == SW_OK) {
            memset(out, 0, sizeof *out);
            out->type = SW_RCT_TYPE_ENUM;
            out->u.i = v;
            return SW_OK;
        }
    }
    return e;
}

/* ---- one-call decoding of received frames -------------------------------------- */

sw_err sw_rct_frame_value_type(const sw_rct_frame *frame, const sw_rct_object **obj, sw_rct_type *type)
{
    if (obj)
        *obj = NULL;
    if (!frame || !type)
        return SW_ERR_INVALID_ARGUMENT;
    if (frame->kind == SW_RCT_FRAME_EXTENSION)
        return SW_ERR_NOT_FOUND;
    const sw_rct_object *o = sw_rct_registry_find_id(frame->id);
    if (obj)
        *obj = o;
    if (!o)
        return SW_ERR_RCT_UNKNOWN_OBJECT;
    if (sw_rct_command_is_response(frame->command))
        *type = o->response_type;
    else if (sw_rct_command_is_write(frame->command) || frame->payload_len > 0)
        *type = o->request_type;
    else
        return SW_ERR_NOT_FOUND;
    return SW_OK;
}

size_t sw_rct_reply_storage_size(const sw_rct_frame *frame)
{
    sw_rct_type t;
    if (sw_rct_frame_value_type(frame, NULL, &t) != SW_OK)
        return 0;
    return sw_rct_value_storage_size(t, frame->payload_len);
}

sw_err sw_rct_decode_reply(const sw_rct_frame *frame, const sw_rct_object **obj, sw_rct_value *out,
                           void *storage, size_t cap)
{
    sw_rct_type t;
    sw_err e = sw_rct_frame_value_type(frame, obj, &t);
    if (e != SW_OK)
        return e;
    return sw_rct_value_decode(t, frame->payload, frame->payload_len, out, storage, cap);
}
