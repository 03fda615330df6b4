/*
 * route.c: request plumbing that needs no socket: which route serves a path,
 * which paths are acceptable at all, and strict parsing of query values.
 *
 * Everything arriving here comes from the network, already percent-decoded
 * by MHD; nothing is trusted. Parsers accept exactly the documented forms so
 * a typo gives a 400 with a reason instead of a silently different answer.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "web/web_internal.h"

static bool prefix_covers(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (strncmp(prefix, path, n) != 0)
        return false;
    /* "/api" covers "/api" and "/api/x", not "/apix"; "/" and "/x/" cover everything below. */
    return path[n] == '\0' || path[n] == '/' || (n > 0 && prefix[n - 1] == '/');
}

int sw_web_route_match(const sw_web_route *routes, size_t n, const char *path)
{
    if (!path)
        return -1;
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_web_route *r = &routes[i];
        if (!r->prefix) {
            if (strcmp(r->path, path) == 0)
                return (int)i;
            continue;
        }
        size_t len = strlen(r->path);
        if (prefix_covers(r->path, path) && (best < 0 || len > best_len)) {
            best = (int)i;
            best_len = len;
        }
    }
    return best;
}

bool sw_web_path_safe(const char *path)
{
    if (!path || path[0] != '/')
        return false;
    size_t n = strlen(path);
    if (n > 1024)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return false;
        if (c == '/' && i > 0 && path[i - 1] == '/')
            return false;
        /* A segment starting with '.' covers "..", "." and hidden files at once. */
        if (c == '.' && path[i - 1] == '/')
            return false;
    }
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool sw_web_target_safe(const char *raw)
{
    if (!raw)
        return false;
    for (const char *p = raw; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '%' && hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0)
            c = hex_value(p[1]) * 16 + hex_value(p[2]);
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool tchar(unsigned char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr(extra, c));
}

bool sw_web_method_safe(const char *method)
{
    if (!method || !*method)
        return false;
    for (const char *p = method; *p; p++)
        if (!tchar((unsigned char)*p))
            return false;
    return true;
}

#define METHOD_MAX 32

int sw_web_request_line_check(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    size_t m = i;
    while (i < len && i - m <= METHOD_MAX && tchar((unsigned char)buf[i]))
        i++;
    if (i - m > METHOD_MAX)
        return -1;
    if (i == len)
        return 0;
    if (i == m || buf[i] != ' ')
        return -1;
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n')
            return 1;
        if (c == '\r' && (i + 1 == len || buf[i + 1] == '\n'))
            continue;
        if (c < 0x20 || c >= 0x7f)
            return -1;
    }
    return 0;
}

bool sw_web_query_check(const sw_http_request *req, const char *const *allowed, char *err, size_t errcap)
{
    const sw_web_query *q = req->conn_;
    if (!q)
        return true;
    if (q->overflow) {
        snprintf(err, errcap, "too many query parameters");
        return false;
    }
    for (size_t i = 0; i < q->n; i++) {
        bool ok = false;
        for (const char *const *a = allowed; a && *a; a++)
            if (strcmp(*a, q->key[i]) == 0) {
                ok = true;
                break;
            }
        if (!ok) {
            snprintf(err, errcap, "unknown query parameter '%.64s'", q->key[i]);
            return false;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(q->key[k], q->key[i]) == 0) {
                snprintf(err, errcap, "query parameter '%.64s' given twice", q->key[i]);
                return false;
            }
    }
    return true;
}

bool sw_web_parse_int(const char *text, long min, long max, long *out)
{
    if (!text || !*text)
        return false;
    for (const char *p = text; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (p == text && *p == '-')))
            return false;
    errno = 0;
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (errno || !end || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool sw_web_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    if (!text)
        return false;
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

bool sw_web_parse_day(const char *text, int64_t today_day, int64_t *day_out)
{
    if (!text)
        return false;
    if (strcmp(text, "today") == 0) {
        *day_out = today_day;
        return true;
    }
    if (strcmp(text, "yesterday") == 0) {
        *day_out = today_day - 1;
        return true;
    }
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-' || !digits(text, 4) || !digits(text + 5, 2) ||
        !digits(text + 8, 2))
        return false;
    int64_t y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
    unsigned m = (unsigned)((text[5] - '0') * 10 + (text[6] - '0'));
    unsigned d = (unsigned)((text[8] - '0') * 10 + (text[9] - '0'));
    if (y < 1970 || m < 1 || m > 12 || d < 1)
        return false;
    static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    unsigned dim = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        dim = 29;
    if (d > dim)
        return false;
    *day_out = sw_days_from_civil(y, m, d);
    return true;
}

char *sw_web_json_alloc(sw_web_json_fill_cb fill, void *ctx, size_t *len_out)
{
    size_t cap = 16 * 1024;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL;
        sw_json j;
        sw_json_init(&j, buf, cap);
        fill(&j, ctx);
        if (sw_json_finish(&j)) {
            if (len_out)
                *len_out = j.len;
            return buf;
        }
        free(buf);
        if (cap >= (size_t)64 * 1024 * 1024)
            return NULL;
        cap *= 4;
    }
}
