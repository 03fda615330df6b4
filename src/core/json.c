/* json.c: the compact JSON writer (see sunwire/json.h). */
#include "sunwire/json.h"

#include <stdio.h>
#include <string.h>

#include "sunwire/core.h"

void sw_json_init(sw_json *j, char *buf, size_t cap)
{
    j->buf = buf;
    j->cap = cap;
    sw_json_reset(j);
}

void sw_json_reset(sw_json *j)
{
    j->len = 0;
    j->overflow = false;
    j->depth = 0;
    j->need_comma[0] = false;
    j->after_key = false;
    if (j->cap)
        j->buf[0] = '\0';
}

static void put(sw_json *j, const char *s, size_t n)
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

static void putc_(sw_json *j, char c) { put(j, &c, 1); }

/* Before any value: a comma unless it is the first in its container. */
static void before_value(sw_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth])
        putc_(j, ',');
    j->need_comma[j->depth] = true;
}

static void open_(sw_json *j, char c)
{
    before_value(j);
    putc_(j, c);
    if (j->depth < SW_JSON_MAX_DEPTH) {
        j->depth++;
        j->need_comma[j->depth] = false;
    } else {
        j->overflow = true;
    }
}

static void close_(sw_json *j, char c)
{
    putc_(j, c);
    if (j->depth > 0)
        j->depth--;
}

void sw_json_object_begin(sw_json *j) { open_(j, '{'); }
void sw_json_object_end(sw_json *j) { close_(j, '}'); }
void sw_json_array_begin(sw_json *j) { open_(j, '['); }
void sw_json_array_end(sw_json *j) { close_(j, ']'); }

/* String content without the surrounding quotes. */
static void put_escaped_body(sw_json *j, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[6];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                ubuf[0] = '\\'; ubuf[1] = 'u'; ubuf[2] = '0'; ubuf[3] = '0';
                ubuf[4] = hx[c >> 4]; ubuf[5] = hx[c & 0xF];
                put(j, s + run, i - run);
                put(j, ubuf, 6);
                run = i + 1;
            }
            continue;
        }
        put(j, s + run, i - run);
        put(j, esc, strlen(esc));
        run = i + 1;
    }
    put(j, s + run, n - run);
}

static void put_escaped(sw_json *j, const char *s, size_t n)
{
    putc_(j, '"');
    put_escaped_body(j, s, n);
    putc_(j, '"');
}

void sw_json_key(sw_json *j, const char *key)
{
    before_value(j);
    put_escaped(j, key, strlen(key));
    putc_(j, ':');
    j->after_key = true;
}

void sw_json_string(sw_json *j, const char *s) { sw_json_string_n(j, s, strlen(s)); }

void sw_json_string_n(sw_json *j, const char *s, size_t n)
{
    before_value(j);
    put_escaped(j, s, n);
}

void sw_json_bytes_as_string(sw_json *j, const uint8_t *s, size_t n)
{
    before_value(j);
    putc_(j, '"');
    size_t i = 0;
    while (i < n) {
        /* Find the longest valid UTF-8 prefix starting at i, one code point at a time. */
        size_t len = 1;
        uint8_t c = s[i];
        if (c >= 0x80) {
            len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            if (len == 0 || i + len > n || !sw_utf8_valid(s + i, len)) {
                char u[7];
                snprintf(u, sizeof u, "\\u%04x", c);
                put(j, u, 6);
                i++;
                continue;
            }
        }
        put_escaped_body(j, (const char *)s + i, len);
        i += len;
    }
    putc_(j, '"');
}

void sw_json_int(sw_json *j, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    before_value(j);
    put(j, b, (size_t)n);
}

void sw_json_uint(sw_json *j, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    before_value(j);
    put(j, b, (size_t)n);
}

void sw_json_double(sw_json *j, double v)
{
    char b[SW_DOUBLE_TEXT_MAX];
    before_value(j);
    if (v != v || v - v != 0) { /* NaN or infinite */
        put(j, "null", 4);
        return;
    }
    size_t n = sw_fmt_double(b, v);
    put(j, b, n);
}

void sw_json_bool(sw_json *j, bool v)
{
    before_value(j);
    if (v) put(j, "true", 4);
    else put(j, "false", 5);
}

void sw_json_null(sw_json *j)
{
    before_value(j);
    put(j, "null", 4);
}

void sw_json_raw(sw_json *j, const char *text, size_t n)
{
    before_value(j);
    put(j, text, n);
}

const char *sw_json_finish(sw_json *j)
{
    if (j->overflow || j->cap == 0)
        return NULL;
    j->buf[j->len] = '\0';
    return j->buf;
}
