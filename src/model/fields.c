/*
 * fields.c: the field descriptors derived from the tables in model/fields.h,
 * and the generic readers outputs use to walk a record without naming its
 * members. The readers trust the descriptor: it was built from the record's
 * own members by offsetof, and its type was checked against the member's
 * size below.
 */
#include "model/fields.h"

#include <string.h>

#define SW_MEMBER_SIZE(rec, member) sizeof(((const rec *)0)->member)

/* One descriptor; written out per record so the braced KEYS/PROM/HA arguments are never re-split. */
#define SW_FIELD_DESC(rec, member, type, unit, flags, meaning)                                               \
    #member, type, offsetof(rec, member), SW_MEMBER_SIZE(rec, member), unit, flags, meaning
#define PANEL_ROW(m, t, u, fl, mean, k, p, h) {SW_FIELD_DESC(sw_panel, m, t, u, fl, mean), k, p, h},
#define STRING_ROW(m, t, u, fl, mean, k, p, h) {SW_FIELD_DESC(sw_string_agg, m, t, u, fl, mean), k, p, h},
#define GATEWAY_ROW(m, t, u, fl, mean, k, p, h) {SW_FIELD_DESC(sw_gateway, m, t, u, fl, mean), k, p, h},
#define INVERTER_ROW(m, t, u, fl, mean, k, p, h) {SW_FIELD_DESC(sw_inverter, m, t, u, fl, mean), k, p, h},
#define SOURCE_ROW(m, t, u, fl, mean, k, p, h) {SW_FIELD_DESC(sw_source_status, m, t, u, fl, mean), k, p, h},
#define CONTROL_ROW(m, t, u, fl, mean, k, p, h) {SW_FIELD_DESC(sw_control, m, t, u, fl, mean), k, p, h},

const sw_field sw_panel_fields[] = { SW_PANEL_FIELDS(PANEL_ROW) };
const size_t sw_panel_field_count = sizeof sw_panel_fields / sizeof sw_panel_fields[0];
const sw_field sw_string_fields[] = { SW_STRING_FIELDS(STRING_ROW) };
const size_t sw_string_field_count = sizeof sw_string_fields / sizeof sw_string_fields[0];
const sw_field sw_gateway_fields[] = { SW_GATEWAY_FIELDS(GATEWAY_ROW) };
const size_t sw_gateway_field_count = sizeof sw_gateway_fields / sizeof sw_gateway_fields[0];
const sw_field sw_inverter_fields[] = { SW_INVERTER_FIELDS(INVERTER_ROW) };
const size_t sw_inverter_field_count = sizeof sw_inverter_fields / sizeof sw_inverter_fields[0];
const sw_field sw_source_fields[] = { SW_SOURCE_FIELDS(SOURCE_ROW) };
const size_t sw_source_field_count = sizeof sw_source_fields / sizeof sw_source_fields[0];
const sw_field sw_control_fields[] = { SW_CONTROL_FIELDS(CONTROL_ROW) };
const size_t sw_control_field_count = sizeof sw_control_fields / sizeof sw_control_fields[0];

/* A row whose TYPE does not match its member's size fails to compile. */
#define CHECK_ROW(rec, member, type)                                                                      \
    _Static_assert(type == SW_FT_TEXT || SW_MEMBER_SIZE(rec, member) ==                                        \
                   (type == SW_FT_BOOL ? sizeof(bool) : type == SW_FT_U16 ? sizeof(uint16_t)                   \
                    : type == SW_FT_U32 ? sizeof(uint32_t) : type == SW_FT_UINT ? sizeof(unsigned)             \
                    : type == SW_FT_U64 ? sizeof(uint64_t) : type == SW_FT_INT ? sizeof(int)                   \
                    : type == SW_FT_DOUBLE ? sizeof(double) : type == SW_FT_TIME ? sizeof(int64_t)             \
                    : sizeof(sw_source_kind)), #rec "." #member ": TYPE does not match the member");
#define CHECK_PANEL(m, t, ...) CHECK_ROW(sw_panel, m, t)
#define CHECK_STRING(m, t, ...) CHECK_ROW(sw_string_agg, m, t)
#define CHECK_GATEWAY(m, t, ...) CHECK_ROW(sw_gateway, m, t)
#define CHECK_INVERTER(m, t, ...) CHECK_ROW(sw_inverter, m, t)
#define CHECK_SOURCE(m, t, ...) CHECK_ROW(sw_source_status, m, t)
#define CHECK_CONTROL(m, t, ...) CHECK_ROW(sw_control, m, t)
SW_PANEL_FIELDS(CHECK_PANEL)
SW_STRING_FIELDS(CHECK_STRING)
SW_GATEWAY_FIELDS(CHECK_GATEWAY)
SW_INVERTER_FIELDS(CHECK_INVERTER)
SW_SOURCE_FIELDS(CHECK_SOURCE)
SW_CONTROL_FIELDS(CHECK_CONTROL)

const sw_field *sw_field_find(const sw_field *fields, size_t n, const char *member)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].member, member) == 0)
            return &fields[i];
    return NULL;
}

static const void *at(const sw_field *f, const void *rec)
{
    return (const char *)rec + f->offset;
}

const char *sw_source_kind_name(sw_source_kind k)
{
    switch (k) {
    case SW_SOURCE_TIGO_SERIAL: return "tigo-serial";
    case SW_SOURCE_TIGO_TCP: return "tigo-tcp";
    case SW_SOURCE_TIGO_FILE: return "tigo-file";
    case SW_SOURCE_RCT_TCP: return "rct-tcp";
    }
    return "unknown";
}

const char *sw_field_text(const sw_field *f, const void *rec)
{
    if (f->type == SW_FT_KIND)
        return sw_source_kind_name((sw_source_kind)sw_field_int(f, rec));
    return f->type == SW_FT_TEXT ? (const char *)at(f, rec) : "";
}

bool sw_field_bool(const sw_field *f, const void *rec)
{
    return sw_field_int(f, rec) != 0;
}

bool sw_field_is_unsigned(const sw_field *f)
{
    return f->type == SW_FT_U16 || f->type == SW_FT_U32 || f->type == SW_FT_UINT || f->type == SW_FT_U64;
}

uint64_t sw_field_uint(const sw_field *f, const void *rec)
{
    if (f->type == SW_FT_U64) {
        uint64_t v;
        memcpy(&v, at(f, rec), sizeof v);
        return v;
    }
    int64_t v = sw_field_int(f, rec);
    return v < 0 ? 0 : (uint64_t)v;
}

int64_t sw_field_int(const sw_field *f, const void *rec)
{
    const void *p = at(f, rec);
    switch (f->type) {
    case SW_FT_BOOL: { bool v; memcpy(&v, p, sizeof v); return v ? 1 : 0; }
    case SW_FT_U16: { uint16_t v; memcpy(&v, p, sizeof v); return v; }
    case SW_FT_U32: { uint32_t v; memcpy(&v, p, sizeof v); return v; }
    case SW_FT_UINT: { unsigned v; memcpy(&v, p, sizeof v); return v; }
    case SW_FT_U64: { uint64_t v; memcpy(&v, p, sizeof v); return (int64_t)v; }
    case SW_FT_INT: { int v; memcpy(&v, p, sizeof v); return v; }
    case SW_FT_TIME: { int64_t v; memcpy(&v, p, sizeof v); return v; }
    case SW_FT_KIND: { sw_source_kind v; memcpy(&v, p, sizeof v); return (int64_t)v; }
    case SW_FT_DOUBLE: { double v; memcpy(&v, p, sizeof v); return (int64_t)v; }
    case SW_FT_TEXT: return 0;
    }
    return 0;
}

double sw_field_number(const sw_field *f, const void *rec)
{
    if (f->type == SW_FT_DOUBLE) {
        double v;
        memcpy(&v, at(f, rec), sizeof v);
        return v;
    }
    if (f->type == SW_FT_U64)
        return (double)sw_field_uint(f, rec);
    return (double)sw_field_int(f, rec);
}
