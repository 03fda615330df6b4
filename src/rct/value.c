/*
 * value.c: RCT Power payload values (see sunwire/rct_value.h).
 *
 * The frame layer hands over a payload whose CRC was good; that is all this
 * file trusts. Sizes are checked before any field is read, because devices
 * that are interrupted cut answers short and still send a valid CRC.
 */
#include "sunwire/rct_value.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"

/* ---- types -------------------------------------------------------------- */

static const char *const type_names[25] = {
    [SW_RCT_TYPE_UNKNOWN] = "UNKNOWN",
    [SW_RCT_TYPE_BOOL] = "BOOL",
    [SW_RCT_TYPE_UINT8] = "UINT8",
    [SW_RCT_TYPE_INT8] = "INT8",
    [SW_RCT_TYPE_UINT16] = "UINT16",
    [SW_RCT_TYPE_INT16] = "INT16",
    [SW_RCT_TYPE_UINT32] = "UINT32",
    [SW_RCT_TYPE_INT32] = "INT32",
    [SW_RCT_TYPE_ENUM] = "ENUM",
    [SW_RCT_TYPE_FLOAT] = "FLOAT",
    [SW_RCT_TYPE_STRING] = "STRING",
    [SW_RCT_TYPE_TIMESERIES] = "TIMESERIES",
    [SW_RCT_TYPE_EVENT_TABLE] = "EVENT_TABLE",
    [SW_RCT_TYPE_BATTERY_MODULE_STATUS] = "BATTERY_MODULE_STATUS",
    [SW_RCT_TYPE_BATTERY_MODULE_STATISTICS] = "BATTERY_MODULE_STATISTICS",
    [SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE] = "BATTERY_MODULE_RESISTANCE",
};

const char *sw_rct_type_name(sw_rct_type t)
{
    if ((unsigned)t >= sizeof type_names / sizeof type_names[0])
        return NULL;
    return type_names[t];
}

sw_err sw_rct_type_from_name(const char *name, sw_rct_type *out)
{
    if (!name || !out)
        return SW_ERR_INVALID_ARGUMENT;
    for (unsigned t = 0; t < sizeof type_names / sizeof type_names[0]; t++) {
        if (type_names[t] && strcmp(type_names[t], name) == 0) {
            *out = (sw_rct_type)t;
            return SW_OK;
        }
    }
    return SW_ERR_NOT_FOUND;
}

size_t sw_rct_type_fixed_size(sw_rct_type t)
{
    switch (t) {
    case SW_RCT_TYPE_BOOL:
    case SW_RCT_TYPE_UINT8:
    case SW_RCT_TYPE_INT8:
    case SW_RCT_TYPE_ENUM:
        return 1;
    case SW_RCT_TYPE_UINT16:
    case SW_RCT_TYPE_INT16:
        return 2;
    case SW_RCT_TYPE_UINT32:
    case SW_RCT_TYPE_INT32:
    case SW_RCT_TYPE_FLOAT:
        return 4;
    case SW_RCT_TYPE_BATTERY_MODULE_STATISTICS:
        return 48;
    case SW_RCT_TYPE_BATTERY_MODULE_STATUS:
    case SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE:
        return 96;
    default:
        return 0;
    }
}

bool sw_rct_type_encodable(sw_rct_type t)
{
    return (unsigned)t <= SW_RCT_TYPE_STRING;
}

static bool type_known(sw_rct_type t) { return sw_rct_type_name(t) != NULL; }

/* Integer range a type accepts on encode. Unsigned types also take the
 * negative half of their signed twin, as two's complement (rctclient does). */
static bool int_range(sw_rct_type t, int64_t *lo, int64_t *hi)
{
    switch (t) {
    case SW_RCT_TYPE_UINT8:
    case SW_RCT_TYPE_ENUM: *lo = INT8_MIN; *hi = UINT8_MAX; return true;
    case SW_RCT_TYPE_INT8: *lo = INT8_MIN; *hi = INT8_MAX; return true;
    case SW_RCT_TYPE_UINT16: *lo = INT16_MIN; *hi = UINT16_MAX; return true;
    case SW_RCT_TYPE_INT16: *lo = INT16_MIN; *hi = INT16_MAX; return true;
    case SW_RCT_TYPE_UINT32: *lo = INT32_MIN; *hi = UINT32_MAX; return true;
    case SW_RCT_TYPE_INT32: *lo = INT32_MIN; *hi = INT32_MAX; return true;
    default: return false;
    }
}

/* ---- decode ------------------------------------------------------------- */

#define ROW_ALIGN (_Alignof(sw_rct_event_row) > _Alignof(sw_rct_ts_point) \
                       ? _Alignof(sw_rct_event_row) : _Alignof(sw_rct_ts_point))

static size_t ts_points(size_t len) { return len >= 4 ? (len / 4 - 1) / 2 : 0; }
static size_t event_rows(size_t len) { return len >= 4 ? (len - 4) / 20 : 0; }

size_t sw_rct_value_storage_size(sw_rct_type type, size_t payload_len)
{
    if (type == SW_RCT_TYPE_TIMESERIES)
        return ts_points(payload_len) * sizeof(sw_rct_ts_point) + ROW_ALIGN - 1;
    if (type == SW_RCT_TYPE_EVENT_TABLE)
        return event_rows(payload_len) * sizeof(sw_rct_event_row) + ROW_ALIGN - 1;
    return 0;
}

/* Aligned start of storage with room for `need` bytes, or NULL. */
static void *storage_take(void *storage, size_t cap, size_t need)
{
    if (need == 0)
        return storage;
    if (!storage)
        return NULL;
    uintptr_t a = (uintptr_t)storage;
    size_t pad = (size_t)((ROW_ALIGN - a % ROW_ALIGN) % ROW_ALIGN);
    if (cap < pad || cap - pad < need)
        return NULL;
    return (uint8_t *)storage + pad;
}

static float float_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t float_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t sign_extend(uint32_t v, unsigned bits)
{
    uint64_t m = 1ULL << (bits - 1);
    return (int64_t)((v ^ m)) - (int64_t)m;
}

static void stat_record(sw_rct_cell_record *r, const uint8_t *p)
{
    r->cell = le32(p);
    r->timestamp = le32(p + 4);
    r->value = float_from_bits(le32(p + 8));
}

sw_err sw_rct_value_decode(sw_rct_type type, const uint8_t *payload, size_t len,
                           sw_rct_value *out, void *storage, size_t cap)
{
    if (!out || (!payload && len) || !type_known(type))
        return SW_ERR_INVALID_ARGUMENT;
    size_t fixed = sw_rct_type_fixed_size(type);
    if (fixed) {
        if (len < fixed)
            return SW_ERR_TRUNCATED;
        if (len > fixed)
            return SW_ERR_TOO_LONG;
    }
    const uint8_t *p = payload;
    switch (type) {
    case SW_RCT_TYPE_BOOL: out->u.b = p[0] != 0; break;
    case SW_RCT_TYPE_UINT8:
    case SW_RCT_TYPE_ENUM: out->u.i = p[0]; break;
    case SW_RCT_TYPE_INT8: out->u.i = sign_extend(p[0], 8); break;
    case SW_RCT_TYPE_UINT16: out->u.i = sw_be16(p); break;
    case SW_RCT_TYPE_INT16: out->u.i = sign_extend(sw_be16(p), 16); break;
    case SW_RCT_TYPE_UINT32: out->u.i = sw_be32(p); break;
    case SW_RCT_TYPE_INT32: out->u.i = sign_extend(sw_be32(p), 32); break;
    case SW_RCT_TYPE_FLOAT: out->u.f = (double)float_from_bits(sw_be32(p)); break;
    case SW_RCT_TYPE_STRING: {
        const uint8_t *nul = len ? memchr(p, 0, len) : NULL;
        out->u.str.bytes = p;
        out->u.str.len = nul ? (size_t)(nul - p) : len;
        out->u.str.raw = p;
        out->u.str.raw_len = len;
        break;
    }
    case SW_RCT_TYPE_UNKNOWN:
        out->u.raw.bytes = p;
        out->u.raw.len = len;
        break;
    case SW_RCT_TYPE_TIMESERIES: {
        /* Echoed query time, then (time, float) pairs; anything else was cut. */
        if (len < 4 || len % 4 != 0 || (len / 4 - 1) % 2 != 0)
            return SW_ERR_TRUNCATED;
        size_t n = ts_points(len);
        sw_rct_ts_point *pts = storage_take(storage, cap, n * sizeof *pts);
        if (!pts)
            return SW_ERR_NO_SPACE;
        for (size_t k = 0; k < n; k++) {
            const uint8_t *w = p + 4 + 8 * k;
            pts[k].timestamp = sw_be32(w);
            pts[k].value = float_from_bits(sw_be32(w + 4));
        }
        out->u.ts.timestamp = sw_be32(p);
        out->u.ts.points = n ? pts : NULL;
        out->u.ts.n_points = n;
        break;
    }
    case SW_RCT_TYPE_EVENT_TABLE: {
        if (len < 4 || (len - 4) % 20 != 0)
            return SW_ERR_TRUNCATED;
        size_t n = event_rows(len);
        sw_rct_event_row *rows = storage_take(storage, cap, n * sizeof *rows);
        if (!rows)
            return SW_ERR_NO_SPACE;
        for (size_t k = 0; k < n; k++) {
            const uint8_t *w = p + 4 + 20 * k;
            rows[k].entry_type = sw_be32(w);
            rows[k].timestamp = sw_be32(w + 4);
            rows[k].element2 = sw_be32(w + 8);
            rows[k].element3 = sw_be32(w + 12);
            rows[k].element4 = sw_be32(w + 16);
        }
        out->u.events.timestamp = sw_be32(p);
        out->u.events.rows = n ? rows : NULL;
        out->u.events.n_rows = n;
        break;
    }
    case SW_RCT_TYPE_BATTERY_MODULE_STATUS:
        for (size_t k = 0; k < SW_RCT_BATTERY_CELLS; k++) {
            const uint8_t *c = p + 4 * k;
            out->u.cells[k].temperature_c = c[0];
            out->u.cells[k].voltage_mv = (uint16_t)(c[1] | c[2] << 8);
            out->u.cells[k].status = c[3];
        }
        break;
    case SW_RCT_TYPE_BATTERY_MODULE_STATISTICS:
        stat_record(&out->u.stats.u_min, p);
        stat_record(&out->u.stats.u_max, p + 12);
        stat_record(&out->u.stats.t_min, p + 24);
        stat_record(&out->u.stats.t_max, p + 36);
        break;
    case SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE:
        for (size_t k = 0; k < SW_RCT_BATTERY_CELLS; k++)
            out->u.resistance_raw[k] = sw_be16(p + 4 * k);
        break;
    }
    out->type = type;
    return SW_OK;
}

/* ---- encode ------------------------------------------------------------- */

/* Half an ulp above FLT_MAX: from here on binary32 rounding gives infinity. */
#define FLOAT_OVERFLOW_EDGE 0x1.ffffffp+127

sw_err sw_rct_value_encode(const sw_rct_value *v, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!v || !out_len || (!out && cap))
        return SW_ERR_INVALID_ARGUMENT;
    *out_len = 0;
    sw_rct_type t = v->type;
    if (!type_known(t))
        return SW_ERR_INVALID_ARGUMENT;
    if (!sw_rct_type_encodable(t))
        return SW_ERR_RCT_NOT_ENCODABLE;

    const uint8_t *bytes = NULL;
    size_t n = 0;
    if (t == SW_RCT_TYPE_STRING) {
        bytes = v->u.str.bytes;
        n = v->u.str.len;
    } else if (t == SW_RCT_TYPE_UNKNOWN) {
        bytes = v->u.raw.bytes;
        n = v->u.raw.len;
    }
    if (bytes || n) {
        if (!bytes)
            return SW_ERR_INVALID_ARGUMENT;
        if (cap < n)
            return SW_ERR_NO_SPACE;
        memcpy(out, bytes, n);
        *out_len = n;
        return SW_OK;
    }
    if (t == SW_RCT_TYPE_STRING || t == SW_RCT_TYPE_UNKNOWN)
        return SW_OK; /* empty */

    size_t width = sw_rct_type_fixed_size(t);
    if (cap < width)
        return SW_ERR_NO_SPACE;
    if (t == SW_RCT_TYPE_BOOL) {
        out[0] = v->u.b ? 1 : 0;
    } else if (t == SW_RCT_TYPE_FLOAT) {
        double d = v->u.f;
        if (isfinite(d) && fabs(d) >= FLOAT_OVERFLOW_EDGE)
            return SW_ERR_OUT_OF_RANGE;
        sw_put_be32(out, float_bits((float)d));
    } else {
        int64_t lo, hi;
        if (!int_range(t, &lo, &hi))
            return SW_ERR_INVALID_ARGUMENT;
        if (v->u.i < lo || v->u.i > hi)
            return SW_ERR_OUT_OF_RANGE;
        uint32_t u = (uint32_t)(uint64_t)v->u.i; /* two's complement of negatives */
        if (width == 1)
            out[0] = (uint8_t)u;
        else if (width == 2)
            sw_put_be16(out, (uint16_t)u);
        else
            sw_put_be32(out, u);
    }
    *out_len = width;
    return SW_OK;
}

/* ---- text -> value ------------------------------------------------------ */

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return *a == *b;
}

static sw_err parse_int(const char *text, int64_t *out)
{
    const char *s = text;
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    bool digit = base == 16 ? ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
                               (*s >= 'A' && *s <= 'F'))
                            : (*s >= '0' && *s <= '9');
    if (!digit)
        return SW_ERR_BAD_NUMBER;
    errno = 0;
    char *end = NULL;
    unsigned long long u = strtoull(s, &end, base);
    if (*end != '\0')
        return SW_ERR_BAD_NUMBER;
    if (errno == ERANGE || u > (unsigned long long)INT64_MAX)
        return SW_ERR_OUT_OF_RANGE;
    *out = neg ? -(int64_t)u : (int64_t)u;
    return SW_OK;
}

sw_err sw_rct_value_from_text(sw_rct_type type, const char *text, sw_rct_value *out,
                              uint8_t *storage, size_t cap)
{
    if (!text || !out || !type_known(type))
        return SW_ERR_INVALID_ARGUMENT;
    if (!sw_rct_type_encodable(type))
        return SW_ERR_RCT_NOT_ENCODABLE;
    sw_rct_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    switch (type) {
    case SW_RCT_TYPE_BOOL:
        if (ieq(text, "true") || ieq(text, "1") || ieq(text, "yes") || ieq(text, "on"))
            v.u.b = true;
        else if (ieq(text, "false") || ieq(text, "0") || ieq(text, "no") || ieq(text, "off"))
            v.u.b = false;
        else
            return SW_ERR_BAD_NUMBER;
        break;
    case SW_RCT_TYPE_FLOAT: {
        /* strtod would skip leading blanks; the text must be the number. */
        if (*text == '\0' || isspace((unsigned char)*text))
            return SW_ERR_BAD_NUMBER;
        errno = 0;
        char *end = NULL;
        double d = strtod(text, &end);
        if (*end != '\0')
            return SW_ERR_BAD_NUMBER;
        if (errno == ERANGE && isinf(d))
            return SW_ERR_OUT_OF_RANGE;
        if (isfinite(d) && fabs(d) >= FLOAT_OVERFLOW_EDGE)
            return SW_ERR_OUT_OF_RANGE;
        v.u.f = d;
        break;
    }
    case SW_RCT_TYPE_STRING:
        v.u.str.bytes = (const uint8_t *)text;
        v.u.str.len = strlen(text);
        v.u.str.raw = v.u.str.bytes;
        v.u.str.raw_len = v.u.str.len;
        break;
    case SW_RCT_TYPE_UNKNOWN: {
        size_t n = 0;
        sw_err e = sw_hex_decode(text, strlen(text), storage, storage ? cap : 0, &n);
        if (e)
            return e;
        v.u.raw.bytes = storage;
        v.u.raw.len = n;
        break;
    }
    default: {
        int64_t lo, hi, x;
        sw_err e = parse_int(text, &x);
        if (e)
            return e;
        if (!int_range(type, &lo, &hi))
            return SW_ERR_INVALID_ARGUMENT;
        if (x < lo || x > hi)
            return SW_ERR_OUT_OF_RANGE;
        v.u.i = x;
        break;
    }
    }
    *out = v;
    return SW_OK;
}

/* ---- checks before a write ---------------------------------------------- */

bool sw_rct_type_write_range(sw_rct_type type, int64_t *lo, int64_t *hi)
{
    int64_t l = 0, h;
    switch (type) {
    case SW_RCT_TYPE_BOOL: h = 1; break;
    case SW_RCT_TYPE_UINT8:
    case SW_RCT_TYPE_ENUM: h = UINT8_MAX; break;
    case SW_RCT_TYPE_UINT16: h = UINT16_MAX; break;
    case SW_RCT_TYPE_UINT32: h = UINT32_MAX; break;
    case SW_RCT_TYPE_INT8: l = INT8_MIN; h = INT8_MAX; break;
    case SW_RCT_TYPE_INT16: l = INT16_MIN; h = INT16_MAX; break;
    case SW_RCT_TYPE_INT32: l = INT32_MIN; h = INT32_MAX; break;
    default: return false;
    }
    if (lo)
        *lo = l;
    if (hi)
        *hi = h;
    return true;
}

sw_err sw_rct_value_check_write(const sw_rct_value *v)
{
    if (!v)
        return SW_ERR_INVALID_ARGUMENT;
    int64_t lo, hi;
    switch (v->type) {
    case SW_RCT_TYPE_BOOL:
        return SW_OK; /* a C bool is 0 or 1 */
    case SW_RCT_TYPE_FLOAT: {
        double d = v->u.f;
        if (!isfinite(d))
            return SW_ERR_RCT_WRITE_NOT_FINITE;
        if (fabs(d) >= FLOAT_OVERFLOW_EDGE || (d != 0.0 && (float)d == 0.0f))
            return SW_ERR_RCT_WRITE_OUT_OF_RANGE;
        return SW_OK;
    }
    case SW_RCT_TYPE_STRING:
        if (v->u.str.len > SW_RCT_WRITE_STRING_MAX)
            return SW_ERR_RCT_WRITE_TOO_LONG;
        if (v->u.str.len && (!v->u.str.bytes || memchr(v->u.str.bytes, 0, v->u.str.len)))
            return SW_ERR_INVALID_ARGUMENT;
        return SW_OK;
    default:
        if (!sw_rct_type_write_range(v->type, &lo, &hi))
            return SW_ERR_RCT_WRITE_NOT_WRITABLE;
        return v->u.i < lo || v->u.i > hi ? SW_ERR_RCT_WRITE_OUT_OF_RANGE : SW_OK;
    }
}

sw_err sw_rct_value_parse_write(sw_rct_type type, const char *text, sw_rct_value *out,
                                uint8_t *storage, size_t cap)
{
    (void)storage;
    (void)cap;
    if (!text || !out)
        return SW_ERR_INVALID_ARGUMENT;
    if (type == SW_RCT_TYPE_UNKNOWN || !type_known(type) || !sw_rct_type_encodable(type))
        return SW_ERR_RCT_WRITE_NOT_WRITABLE;
    sw_rct_value v;
    sw_err e = sw_rct_value_from_text(type, text, &v, NULL, 0);
    if (type == SW_RCT_TYPE_BOOL && e != SW_OK)
        return SW_ERR_RCT_WRITE_NOT_BOOLEAN;
    if (e == SW_ERR_OUT_OF_RANGE)
        return SW_ERR_RCT_WRITE_OUT_OF_RANGE; /* too large for int64 or binary32 */
    if (e != SW_OK)
        return e;
    e = sw_rct_value_check_write(&v);
    if (e != SW_OK)
        return e;
    *out = v;
    return SW_OK;
}

/* ---- value -> text ------------------------------------------------------ */

/* snprintf-style appender: counts everything, writes what fits. */
typedef struct tbuf {
    char *out;
    size_t cap;
    size_t len;
} tbuf;

static void tb_put(tbuf *b, const char *s, size_t n)
{
    if (b->cap && b->len < b->cap - 1) {
        size_t room = b->cap - 1 - b->len;
        memcpy(b->out + b->len, s, n < room ? n : room);
    }
    b->len += n;
}

static void tb_str(tbuf *b, const char *s) { tb_put(b, s, strlen(s)); }

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void tb_fmt(tbuf *b, const char *fmt, ...);
static void tb_fmt(tbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        tb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static size_t tb_finish(tbuf *b)
{
    if (b->cap)
        b->out[b->len < b->cap ? b->len : b->cap - 1] = '\0';
    return b->len;
}

size_t sw_rct_fmt_pyfloat(char out[32], double v)
{
    if (isnan(v))
        return (size_t)snprintf(out, 32, "nan");
    if (isinf(v))
        return (size_t)snprintf(out, 32, v < 0 ? "-inf" : "inf");
    if (v == 0.0)
        return (size_t)snprintf(out, 32, signbit(v) ? "-0.0" : "0.0");
    char sci[40];
    for (int prec = 0; prec <= 16; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    const char *p = sci;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof digits - 1)
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;

    char *o = out;
    if (neg)
        *o++ = '-';
    if (exp10 >= -5 + 1 && exp10 < 16) {
        /* Python switches to exponent form below 1e-4 and from 1e16 on. */
        if (exp10 < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int k = -1; k > exp10; k--)
                *o++ = '0';
            memcpy(o, digits, nd);
            o += nd;
        } else {
            size_t int_digits = (size_t)exp10 + 1;
            for (size_t k = 0; k < int_digits; k++)
                *o++ = k < nd ? digits[k] : '0';
            *o++ = '.';
            if (nd > int_digits) {
                memcpy(o, digits + int_digits, nd - int_digits);
                o += nd - int_digits;
            } else {
                *o++ = '0';
            }
        }
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        o += snprintf(o, 8, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    *o = '\0';
    return (size_t)(o - out);
}

static void tb_pyfloat(tbuf *b, double v)
{
    char tmp[32];
    tb_put(b, tmp, sw_rct_fmt_pyfloat(tmp, v));
}

/* "YYYY-MM-DDTHH:MM:SS" of Unix seconds, no zone (the device's own clock). */
static void tb_time(tbuf *b, uint32_t ts)
{
    int64_t days = (int64_t)ts / 86400, sod = (int64_t)ts % 86400;
    int64_t y;
    unsigned mo, d;
    sw_civil_from_days(days, &y, &mo, &d);
    tb_fmt(b, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, mo, d, (unsigned)(sod / 3600),
           (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
}

static void tb_printable(tbuf *b, const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len = 0;
        if (c >= 0x20 && c < 0x7F)
            len = 1;
        else if (c >= 0xC2) {
            size_t want = c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
            if (want && i + want <= n && sw_utf8_valid(s + i, want))
                len = want;
        }
        if (len) {
            tb_put(b, (const char *)s + i, len);
            i += len;
        } else {
            tb_fmt(b, "\\x%02x", c);
            i++;
        }
    }
}

size_t sw_rct_printable(const uint8_t *s, size_t n, char *out, size_t cap)
{
    tbuf b = { out, cap, 0 };
    tb_printable(&b, s, n);
    return tb_finish(&b);
}

/* %.4f as Python prints it ("nan" whatever the sign bit). */
static void tb_fixed4(tbuf *b, double v)
{
    if (isnan(v))
        tb_str(b, "nan");
    else if (isinf(v))
        tb_str(b, v < 0 ? "-inf" : "inf");
    else
        tb_fmt(b, "%.4f", v);
}

static void tb_iso_utc(tbuf *b, uint32_t ts)
{
    tb_time(b, ts);
    tb_str(b, "+00:00");
}

size_t sw_rct_value_to_text(const sw_rct_value *v, char *out, size_t cap)
{
    tbuf b = { out, cap, 0 };
    switch (v->type) {
    case SW_RCT_TYPE_BOOL: tb_str(&b, v->u.b ? "True" : "False"); break;
    case SW_RCT_TYPE_UINT8:
    case SW_RCT_TYPE_INT8:
    case SW_RCT_TYPE_UINT16:
    case SW_RCT_TYPE_INT16:
    case SW_RCT_TYPE_UINT32:
    case SW_RCT_TYPE_INT32:
    case SW_RCT_TYPE_ENUM: tb_fmt(&b, "%lld", (long long)v->u.i); break;
    case SW_RCT_TYPE_FLOAT: tb_pyfloat(&b, v->u.f); break;
    case SW_RCT_TYPE_STRING: tb_printable(&b, v->u.str.bytes, v->u.str.len); break;
    case SW_RCT_TYPE_UNKNOWN:
        tb_str(&b, "0x");
        for (size_t k = 0; k < v->u.raw.len; k++)
            tb_fmt(&b, "%02x", v->u.raw.bytes[k]);
        break;
    case SW_RCT_TYPE_TIMESERIES:
        for (size_t k = 0; k < v->u.ts.n_points; k++) {
            if (k)
                tb_str(&b, ", ");
            tb_time(&b, v->u.ts.points[k].timestamp);
            tb_str(&b, "=");
            tb_fixed4(&b, (double)v->u.ts.points[k].value);
        }
        break;
    case SW_RCT_TYPE_EVENT_TABLE:
        for (size_t k = 0; k < v->u.events.n_rows; k++) {
            const sw_rct_event_row *r = &v->u.events.rows[k];
            tb_fmt(&b, "0x%x,", (unsigned)r->entry_type);
            tb_time(&b, r->timestamp);
            tb_fmt(&b, ",0x%x,0x%x,0x%x\n", (unsigned)r->element2, (unsigned)r->element3,
                   (unsigned)r->element4);
        }
        break;
    case SW_RCT_TYPE_BATTERY_MODULE_STATUS:
        tb_str(&b, "{");
        for (size_t k = 0; k < SW_RCT_BATTERY_CELLS; k++) {
            tb_fmt(&b, "%s\"%zu\":{\"temperature_c\":%u,\"voltage_v\":", k ? "," : "", k,
                   (unsigned)v->u.cells[k].temperature_c);
            tb_pyfloat(&b, v->u.cells[k].voltage_mv / 1000.0);
            tb_str(&b, "}");
        }
        tb_str(&b, "}");
        break;
    case SW_RCT_TYPE_BATTERY_MODULE_STATISTICS: {
        const sw_rct_cell_record *recs[4] = { &v->u.stats.u_min, &v->u.stats.u_max,
                                              &v->u.stats.t_min, &v->u.stats.t_max };
        static const char *const keys[4] = { "u_min", "u_max", "t_min", "t_max" };
        static const char *const units[4] = { "V", "V", "degC", "degC" };
        tb_str(&b, "{");
        for (size_t k = 0; k < 4; k++) {
            tb_fmt(&b, "%s\"%s\":{\"cell\":%u,\"timestamp\":", k ? "," : "", keys[k],
                   (unsigned)recs[k]->cell);
            if (recs[k]->timestamp) {
                tb_str(&b, "\"");
                tb_iso_utc(&b, recs[k]->timestamp);
                tb_str(&b, "\"");
            } else {
                tb_str(&b, "null");
            }
            tb_str(&b, ",\"value\":");
            double val = (double)recs[k]->value;
            if (isfinite(val))
                tb_pyfloat(&b, val);
            else /* Python's json module writes these bare */
                tb_str(&b, isnan(val) ? "NaN" : val < 0 ? "-Infinity" : "Infinity");
            tb_fmt(&b, ",\"unit\":\"%s\"}", units[k]);
        }
        tb_str(&b, "}");
        break;
    }
    case SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE:
        tb_str(&b, "{");
        for (size_t k = 0; k < SW_RCT_BATTERY_CELLS; k++) {
            tb_fmt(&b, "%s\"%zu\":{\"resistance_mohm\":", k ? "," : "", k);
            tb_pyfloat(&b, v->u.resistance_raw[k] / 256.0);
            tb_str(&b, "}");
        }
        tb_str(&b, "}");
        break;
    }
    return tb_finish(&b);
}

/* ---- value -> JSON ------------------------------------------------------ */

/* Text inside an already opened JSON string (no escaping needed for hex). */
static void json_append(sw_json *j, const char *s, size_t n)
{
    if (j->overflow)
        return;
    if (n > j->cap - j->len || j->cap - j->len - n < 1) {
        j->overflow = true;
        return;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

static void json_hex_string(sw_json *j, const uint8_t *p, size_t n)
{
    /* Open an empty string through the writer (it places the comma), then
     * reopen it to append the digits in chunks of any size. */
    sw_json_string_n(j, "", 0);
    if (j->overflow)
        return;
    j->len--;
    char chunk[2 * 64 + 1];
    for (size_t k = 0; k < n; k += 64) {
        size_t m = n - k < 64 ? n - k : 64;
        sw_hex_encode(chunk, p + k, m);
        json_append(j, chunk, 2 * m);
    }
    json_append(j, "\"", 1);
}

static void json_record(sw_json *j, const char *key, const sw_rct_cell_record *r)
{
    sw_json_key(j, key);
    sw_json_object_begin(j);
    sw_json_key(j, "cell");
    sw_json_uint(j, r->cell);
    sw_json_key(j, "timestamp");
    if (r->timestamp)
        sw_json_uint(j, r->timestamp);
    else
        sw_json_null(j);
    sw_json_key(j, "value");
    sw_json_double(j, (double)r->value);
    sw_json_object_end(j);
}

void sw_rct_value_to_json(const sw_rct_value *v, sw_json *j)
{
    switch (v->type) {
    case SW_RCT_TYPE_BOOL: sw_json_bool(j, v->u.b); break;
    case SW_RCT_TYPE_UINT8:
    case SW_RCT_TYPE_INT8:
    case SW_RCT_TYPE_UINT16:
    case SW_RCT_TYPE_INT16:
    case SW_RCT_TYPE_UINT32:
    case SW_RCT_TYPE_INT32:
    case SW_RCT_TYPE_ENUM: sw_json_int(j, v->u.i); break;
    case SW_RCT_TYPE_FLOAT: sw_json_double(j, v->u.f); break;
    case SW_RCT_TYPE_STRING: sw_json_bytes_as_string(j, v->u.str.bytes, v->u.str.len); break;
    case SW_RCT_TYPE_UNKNOWN: json_hex_string(j, v->u.raw.bytes, v->u.raw.len); break;
    case SW_RCT_TYPE_TIMESERIES:
        sw_json_object_begin(j);
        sw_json_key(j, "timestamp");
        sw_json_uint(j, v->u.ts.timestamp);
        sw_json_key(j, "points");
        sw_json_array_begin(j);
        for (size_t k = 0; k < v->u.ts.n_points; k++) {
            sw_json_array_begin(j);
            sw_json_uint(j, v->u.ts.points[k].timestamp);
            sw_json_double(j, (double)v->u.ts.points[k].value);
            sw_json_array_end(j);
        }
        sw_json_array_end(j);
        sw_json_object_end(j);
        break;
    case SW_RCT_TYPE_EVENT_TABLE:
        sw_json_object_begin(j);
        sw_json_key(j, "timestamp");
        sw_json_uint(j, v->u.events.timestamp);
        sw_json_key(j, "entries");
        sw_json_array_begin(j);
        for (size_t k = 0; k < v->u.events.n_rows; k++) {
            const sw_rct_event_row *r = &v->u.events.rows[k];
            sw_json_object_begin(j);
            sw_json_key(j, "entry_type");
            sw_json_uint(j, r->entry_type);
            sw_json_key(j, "timestamp");
            sw_json_uint(j, r->timestamp);
            sw_json_key(j, "element2");
            sw_json_uint(j, r->element2);
            sw_json_key(j, "element3");
            sw_json_uint(j, r->element3);
            sw_json_key(j, "element4");
            sw_json_uint(j, r->element4);
            sw_json_object_end(j);
        }
        sw_json_array_end(j);
        sw_json_object_end(j);
        break;
    case SW_RCT_TYPE_BATTERY_MODULE_STATUS:
        sw_json_object_begin(j);
        sw_json_key(j, "cells");
        sw_json_array_begin(j);
        for (size_t k = 0; k < SW_RCT_BATTERY_CELLS; k++) {
            sw_json_object_begin(j);
            sw_json_key(j, "cell");
            sw_json_uint(j, k);
            sw_json_key(j, "temperature_c");
            sw_json_uint(j, v->u.cells[k].temperature_c);
            sw_json_key(j, "voltage_mv");
            sw_json_uint(j, v->u.cells[k].voltage_mv);
            sw_json_key(j, "status");
            sw_json_uint(j, v->u.cells[k].status);
            sw_json_object_end(j);
        }
        sw_json_array_end(j);
        sw_json_object_end(j);
        break;
    case SW_RCT_TYPE_BATTERY_MODULE_STATISTICS:
        sw_json_object_begin(j);
        json_record(j, "u_min", &v->u.stats.u_min);
        json_record(j, "u_max", &v->u.stats.u_max);
        json_record(j, "t_min", &v->u.stats.t_min);
        json_record(j, "t_max", &v->u.stats.t_max);
        sw_json_object_end(j);
        break;
    case SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE:
        sw_json_object_begin(j);
        sw_json_key(j, "cells");
        sw_json_array_begin(j);
        for (size_t k = 0; k < SW_RCT_BATTERY_CELLS; k++) {
            sw_json_object_begin(j);
            sw_json_key(j, "cell");
            sw_json_uint(j, k);
            sw_json_key(j, "raw_value");
            sw_json_uint(j, v->u.resistance_raw[k]);
            sw_json_key(j, "resistance_mohm");
            sw_json_double(j, v->u.resistance_raw[k] / 256.0);
            sw_json_object_end(j);
        }
        sw_json_array_end(j);
        sw_json_object_end(j);
        break;
    default:
        sw_json_null(j);
        break;
    }
}
