/* auth.c: credentials of the HTTP server (web/auth.h). */
#include "web/auth.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sunwire/core.h"

void sw_http_auth_defaults(sw_http_auth *a)
{
    memset(a, 0, sizeof *a);
}

/* Exactly 2*n hex digits of text[0..len) into out. */
static bool unhex(const char *text, size_t len, uint8_t *out, size_t n)
{
    size_t got = 0;
    return len == 2 * n && sw_hex_decode(text, len, out, n, &got) == SW_OK && got == n;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]Z" (UTC) or "@UNIX". */
static bool parse_instant(const char *s, int64_t *out)
{
    if (s[0] == '@') {
        uint64_t v;
        if (!sw_parse_uint(s + 1, (uint64_t)INT64_MAX, &v))
            return false;
        *out = (int64_t)v;
        return true;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    size_t len = strlen(s);
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return false;
    if (len > 10) {
        int m2 = 0;
        if ((s[10] != 'T' && s[10] != ' ') || sscanf(s + 11, "%2d:%2d%n", &h, &mi, &m2) != 2 || m2 != 5)
            return false;
        const char *p = s + 16;
        if (*p == ':') {
            int m3 = 0;
            if (sscanf(p + 1, "%2d%n", &sec, &m3) != 1 || m3 != 2)
                return false;
            p += 3;
        }
        if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
            return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

/* USER:$sha256$SALTHEX$HASHHEX */
static bool parse_basic(sw_http_auth *a, const char *v)
{
    const char *colon = strchr(v, ':');
    if (!colon || colon == v)
        return false;
    const char *h = colon + 1;
    static const char tag[] = "$sha256$";
    if (strncmp(h, tag, sizeof tag - 1) != 0)
        return false;
    const char *salt = h + sizeof tag - 1;
    const char *dollar = strchr(salt, '$');
    if (!dollar)
        return false;
    size_t salt_hex = (size_t)(dollar - salt);
    if (salt_hex == 0 || salt_hex % 2 || salt_hex / 2 > SW_HTTP_AUTH_SALT_MAX)
        return false;
    if (!unhex(salt, salt_hex, a->salt, salt_hex / 2) ||
        !unhex(dollar + 1, strlen(dollar + 1), a->password_sha256, SW_SHA256_LEN))
        return false;
    a->salt_len = salt_hex / 2;
    sw_sha256(v, (size_t)(colon - v), a->user_sha256);
    return true;
}

sw_err sw_http_auth_config_set(sw_http_auth *a, const char *key, const char *value, char *err, size_t errcap)
{
    if (strcmp(key, "token_sha256") == 0) {
        if (!unhex(value, strlen(value), a->token_sha256, SW_SHA256_LEN)) {
            snprintf(err, errcap, "token_sha256: expected the 64 hex digits of the token's SHA-256 "
                                  "(sunwire hash-password --token makes them)");
            return SW_ERR_INVALID_ARGUMENT;
        }
        a->token = true;
        return SW_OK;
    }
    if (strcmp(key, "basic_auth") == 0) {
        if (!parse_basic(a, value)) {
            snprintf(err, errcap, "basic_auth: expected USER:$sha256$SALT$HASH (sunwire hash-password --user USER "
                                  "makes it); a password in clear is not accepted");
            return SW_ERR_INVALID_ARGUMENT;
        }
        a->basic = true;
        return SW_OK;
    }
    if (strcmp(key, "auth_expires") == 0) {
        int64_t t;
        if (!parse_instant(value, &t) || t <= 0) {
            snprintf(err, errcap, "auth_expires: '%.40s' is no instant (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or @UNIX)",
                     value);
            return SW_ERR_INVALID_ARGUMENT;
        }
        a->expires_unix_s = t;
        return SW_OK;
    }
    if (strcmp(key, "insecure_no_auth") == 0) {
        if (!sw_parse_bool(value, &a->insecure_no_auth)) {
            snprintf(err, errcap, "insecure_no_auth: '%.40s' is not on or off", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
        return SW_OK;
    }
    if (strcmp(key, "tls_cert") == 0 || strcmp(key, "tls_key") == 0) {
        char *dst = key[4] == 'c' ? a->tls_cert : a->tls_key;
        if (!*value || strlen(value) >= sizeof a->tls_cert) {
            snprintf(err, errcap, "%s: expected the path of a PEM file", key);
            return SW_ERR_INVALID_ARGUMENT;
        }
        snprintf(dst, sizeof a->tls_cert, "%s", value);
        return SW_OK;
    }
    return SW_ERR_NOT_FOUND;
}

bool sw_http_auth_has_credentials(const sw_http_auth *a)
{
    return a && (a->token || a->basic);
}

bool sw_http_auth_tls(const sw_http_auth *a)
{
    return a && a->tls_cert[0] && a->tls_key[0];
}

sw_err sw_http_auth_check_config(const sw_http_auth *a, char *err, size_t errcap)
{
    if (!a->tls_cert[0] != !a->tls_key[0]) {
        snprintf(err, errcap, "%s is set without %s: HTTPS needs both", a->tls_cert[0] ? "tls_cert" : "tls_key",
                 a->tls_cert[0] ? "tls_key" : "tls_cert");
        return SW_ERR_INVALID_ARGUMENT;
    }
    return SW_OK;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 (padding optional) into out; false on anything else or when it does not fit. */
static bool unbase64(const char *s, uint8_t *out, size_t cap, size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (; *s && *s != '='; s++) {
        int v = b64val((unsigned char)*s);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return false;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    while (*s == '=')
        s++;
    if (*s)
        return false;
    *out_len = o;
    return true;
}

/* The scheme word (case-insensitive) and one space or more; returns the rest or NULL. */
static const char *after_scheme(const char *h, const char *scheme)
{
    size_t n = strlen(scheme);
    if (strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
        return NULL;
    h += n;
    while (*h == ' ')
        h++;
    return h;
}

sw_http_auth_verdict sw_http_auth_check(const sw_http_auth *a, const char *authorization, int64_t now_unix_s)
{
    if (!authorization || !*authorization)
        return SW_HTTP_AUTH_MISSING;
    if (!sw_http_auth_has_credentials(a))
        return SW_HTTP_AUTH_WRONG;
    if (a->expires_unix_s && now_unix_s >= a->expires_unix_s)
        return SW_HTTP_AUTH_EXPIRED;
    uint8_t d[SW_SHA256_LEN];
    const char *v;
    if ((v = after_scheme(authorization, "Bearer")) != NULL) {
        if (!a->token || !*v)
            return SW_HTTP_AUTH_WRONG;
        sw_sha256(v, strlen(v), d);
        return sw_equal_const_time(d, a->token_sha256, SW_SHA256_LEN) ? SW_HTTP_AUTH_OK : SW_HTTP_AUTH_WRONG;
    }
    if ((v = after_scheme(authorization, "Basic")) != NULL) {
        uint8_t pair[512];
        size_t n = 0;
        if (!a->basic || !unbase64(v, pair, sizeof pair, &n))
            return SW_HTTP_AUTH_WRONG;
        uint8_t *colon = memchr(pair, ':', n);
        if (!colon)
            return SW_HTTP_AUTH_WRONG;
        uint8_t u[SW_SHA256_LEN];
        sw_sha256(pair, (size_t)(colon - pair), u);
        sw_sha256_ctx c;
        sw_sha256_init(&c);
        sw_sha256_push(&c, a->salt, a->salt_len);
        sw_sha256_push(&c, colon + 1, n - (size_t)(colon + 1 - pair));
        sw_sha256_finish(&c, d);
        memset(pair, 0, sizeof pair);
        /* both compared, whatever the first says */
        bool user_ok = sw_equal_const_time(u, a->user_sha256, SW_SHA256_LEN);
        bool pass_ok = sw_equal_const_time(d, a->password_sha256, SW_SHA256_LEN);
        return (user_ok & pass_ok) ? SW_HTTP_AUTH_OK : SW_HTTP_AUTH_WRONG;
    }
    return SW_HTTP_AUTH_WRONG;
}

const char *sw_http_auth_verdict_name(sw_http_auth_verdict v)
{
    switch (v) {
    case SW_HTTP_AUTH_OK: return "ok";
    case SW_HTTP_AUTH_MISSING: return "missing";
    case SW_HTTP_AUTH_WRONG: return "wrong";
    case SW_HTTP_AUTH_EXPIRED: return "expired";
    }
    return "wrong";
}

sw_err sw_http_auth_hash_password(const char *password, const uint8_t *salt, size_t salt_len, char *out, size_t cap)
{
    if (!password || !salt || !salt_len || salt_len > SW_HTTP_AUTH_SALT_MAX || !out)
        return SW_ERR_INVALID_ARGUMENT;
    size_t need = 8 + 2 * salt_len + 1 + 2 * SW_SHA256_LEN + 1;
    if (cap < need)
        return SW_ERR_NO_SPACE;
    uint8_t d[SW_SHA256_LEN];
    sw_sha256_ctx c;
    sw_sha256_init(&c);
    sw_sha256_push(&c, salt, salt_len);
    sw_sha256_push(&c, password, strlen(password));
    sw_sha256_finish(&c, d);
    memcpy(out, "$sha256$", 8);
    sw_hex_encode(out + 8, salt, salt_len);
    out[8 + 2 * salt_len] = '$';
    sw_hex_encode(out + 9 + 2 * salt_len, d, SW_SHA256_LEN);
    return SW_OK;
}

void sw_http_auth_hash_token(const char *token, char out[2 * SW_SHA256_LEN + 1])
{
    uint8_t d[SW_SHA256_LEN];
    sw_sha256(token, strlen(token), d);
    sw_hex_encode(out, d, SW_SHA256_LEN);
}

bool sw_http_bind_is_loopback(const char *bind)
{
    if (!bind || !*bind)
        return true; /* the default, 127.0.0.1 */
    if (strcasecmp(bind, "localhost") == 0 || strcasecmp(bind, "ip6-localhost") == 0)
        return true;
    if (strcmp(bind, "::1") == 0 || strcasecmp(bind, "0:0:0:0:0:0:0:1") == 0)
        return true;
    const char *v4 = bind;
    if (strncasecmp(bind, "::ffff:", 7) == 0)
        v4 = bind + 7;
    unsigned o[4];
    char tail;
    return sscanf(v4, "%u.%u.%u.%u%c", &o[0], &o[1], &o[2], &o[3], &tail) == 4 && o[0] == 127 && o[1] < 256 &&
           o[2] < 256 && o[3] < 256;
}
