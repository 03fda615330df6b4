/*
 * fmt.c: number, time and hex text.
 *
 * sw_fmt_double finds the shortest round-trip digits by asking printf for
 * 1, 2, ... 17 significant digits and keeping the first that strtod maps back
 * to the same double, then lays the digits out like serde_json/ryu. It is
 * correct for every double; hot paths with a small value set (the Tigo power
 * report fields) cache its results instead of calling it per value.
 */
#include "sunwire/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t sw_fmt_double(char out[SW_DOUBLE_TEXT_MAX], double v)
{
    if (isnan(v))
        return (size_t)snprintf(out, SW_DOUBLE_TEXT_MAX, "NaN");
    if (isinf(v))
        return (size_t)snprintf(out, SW_DOUBLE_TEXT_MAX, v < 0 ? "-inf" : "inf");
    if (v == 0.0)
        return (size_t)snprintf(out, SW_DOUBLE_TEXT_MAX, signbit(v) ? "-0.0" : "0.0");

    /* Shortest scientific form d.ddddde[+-]x that round-trips. */
    char sci[40];
    for (int prec = 0; prec <= 16; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    /* Split into sign, digits and decimal exponent. */
    const char *p = sci;
    int neg = 0;
    if (*p == '-') { neg = 1; p++; }
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';

    char *o = out;
    if (neg) *o++ = '-';
    if (exp10 >= -5 && exp10 < 16) {
        if (exp10 < 0) {
            *o++ = '0'; *o++ = '.';
            for (int i = -1; i > exp10; i--) *o++ = '0';
            memcpy(o, digits, nd); o += nd;
        } else {
            size_t int_digits = (size_t)exp10 + 1;
            for (size_t i = 0; i < int_digits; i++) *o++ = i < nd ? digits[i] : '0';
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
        o += snprintf(o, 8, "e%d", exp10);
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* Howard Hinnant's civil-date algorithms (public domain), proleptic Gregorian. */
void sw_civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *month = m;
    *day = d;
}

sw_err sw_time_ns_from_s(int64_t s, int64_t frac_ns, int64_t *out_ns)
{
    if (!out_ns || frac_ns < 0 || frac_ns > 999999999)
        return SW_ERR_INVALID_ARGUMENT;
    if (s < SW_TIME_S_MIN || s > SW_TIME_S_MAX)
        return SW_ERR_OUT_OF_RANGE;
    int64_t base = s * 1000000000; /* |s| <= 9223372036: fits */
    if (base > INT64_MAX - frac_ns)
        return SW_ERR_OUT_OF_RANGE;
    *out_ns = base + frac_ns;
    return SW_OK;
}

int64_t sw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

size_t sw_fmt_rfc3339(char out[SW_RFC3339_MAX], int64_t unix_ns, int32_t utc_offset_s)
{
    int64_t secs = floor_div(unix_ns, 1000000000LL);
    int64_t nanos = unix_ns - secs * 1000000000LL;
    secs += utc_offset_s;
    int64_t days = floor_div(secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned mo, d;
    sw_civil_from_days(days, &y, &mo, &d);

    int n = snprintf(out, SW_RFC3339_MAX, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, mo, d,
                     (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
    if (nanos != 0) {
        if (nanos % 1000000 == 0)
            n += snprintf(out + n, (size_t)(SW_RFC3339_MAX - n), ".%03lld", (long long)(nanos / 1000000));
        else if (nanos % 1000 == 0)
            n += snprintf(out + n, (size_t)(SW_RFC3339_MAX - n), ".%06lld", (long long)(nanos / 1000));
        else
            n += snprintf(out + n, (size_t)(SW_RFC3339_MAX - n), ".%09lld", (long long)nanos);
    }
    if (utc_offset_s == 0) {
        n += snprintf(out + n, (size_t)(SW_RFC3339_MAX - n), "Z");
    } else {
        int32_t off = utc_offset_s < 0 ? -utc_offset_s : utc_offset_s;
        n += snprintf(out + n, (size_t)(SW_RFC3339_MAX - n), "%c%02d:%02d",
                      utc_offset_s < 0 ? '-' : '+', (int)(off / 3600), (int)(off / 60 % 60));
    }
    return (size_t)n;
}

void sw_hex_encode(char *out, const uint8_t *in, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 0xF];
    }
    out[2 * n] = '\0';
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

sw_err sw_hex_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *n_out)
{
    size_t n = 0, i = 0;
    *n_out = 0;
    while (i < len) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == '-' || c == ',') {
            i++;
            continue;
        }
        if (c == '0' && i + 1 < len && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
            i += 2;
            continue;
        }
        int hi = hex_val(c);
        if (hi < 0 || i + 1 >= len)
            return SW_ERR_BAD_HEX;
        int lo = hex_val(text[i + 1]);
        if (lo < 0)
            return SW_ERR_BAD_HEX;
        if (n >= cap)
            return SW_ERR_NO_SPACE;
        out[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    *n_out = n;
    return SW_OK;
}

bool sw_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t need;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { need = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { need = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { need = 3; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (i + need >= n)
            return false;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += need + 1;
    }
    return true;
}
