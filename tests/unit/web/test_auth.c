/* Unit tests for the HTTP server's credentials (src/web/auth.c): configuration keys, verdicts, loopback names. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "web/auth.h"

/* base64 of "alice:s3cret pass", "alice:wrong", "bob:s3cret pass", "alice" (no colon) */
#define B64_GOOD "YWxpY2U6czNjcmV0IHBhc3M="
#define B64_WRONG_PASS "YWxpY2U6d3Jvbmc="
#define B64_WRONG_USER "Ym9iOnMzY3JldCBwYXNz"
#define B64_NO_COLON "YWxpY2U="

static void configured(sw_http_auth *a)
{
    char err[256], hash[128], tok[65], line[256];
    static const uint8_t salt[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    sw_http_auth_defaults(a);
    assert_int_equal(sw_http_auth_hash_password("s3cret pass", salt, sizeof salt, hash, sizeof hash), SW_OK);
    snprintf(line, sizeof line, "alice:%s", hash);
    assert_int_equal(sw_http_auth_config_set(a, "basic_auth", line, err, sizeof err), SW_OK);
    sw_http_auth_hash_token("tok-123", tok);
    assert_int_equal(sw_http_auth_config_set(a, "token_sha256", tok, err, sizeof err), SW_OK);
}

static void test_verdicts(void **state)
{
    (void)state;
    sw_http_auth a;
    configured(&a);
    assert_true(sw_http_auth_has_credentials(&a));
    const int64_t now = 1700000000;
    static const struct {
        const char *header;
        sw_http_auth_verdict want;
    } cases[] = {
        { NULL, SW_HTTP_AUTH_MISSING },
        { "", SW_HTTP_AUTH_MISSING },
        { "Bearer tok-123", SW_HTTP_AUTH_OK },
        { "bearer   tok-123", SW_HTTP_AUTH_OK },
        { "Bearer tok-1234", SW_HTTP_AUTH_WRONG },
        { "Bearer TOK-123", SW_HTTP_AUTH_WRONG },
        { "Bearer ", SW_HTTP_AUTH_WRONG },
        { "Bearertok-123", SW_HTTP_AUTH_WRONG },
        { "Basic " B64_GOOD, SW_HTTP_AUTH_OK },
        { "BASIC " B64_GOOD, SW_HTTP_AUTH_OK },
        { "Basic " B64_WRONG_PASS, SW_HTTP_AUTH_WRONG },
        { "Basic " B64_WRONG_USER, SW_HTTP_AUTH_WRONG },
        { "Basic " B64_NO_COLON, SW_HTTP_AUTH_WRONG },
        { "Basic !!!", SW_HTTP_AUTH_WRONG },
        { "Digest x", SW_HTTP_AUTH_WRONG },
        { "tok-123", SW_HTTP_AUTH_WRONG },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_http_auth_verdict v = sw_http_auth_check(&a, cases[i].header, now);
        if (v != cases[i].want)
            fail_msg("case %zu (%s): %s, want %s", i, cases[i].header ? cases[i].header : "(none)",
                     sw_http_auth_verdict_name(v), sw_http_auth_verdict_name(cases[i].want));
    }
    /* After the end, any credentials are expired (good ones too); none is still "missing". */
    char err[256];
    assert_int_equal(sw_http_auth_config_set(&a, "auth_expires", "2023-11-14T22:13:20Z", err, sizeof err), SW_OK);
    assert_int_equal(a.expires_unix_s, 1700000000);
    assert_int_equal(sw_http_auth_check(&a, "Bearer tok-123", now - 1), SW_HTTP_AUTH_OK);
    assert_int_equal(sw_http_auth_check(&a, "Bearer tok-123", now), SW_HTTP_AUTH_EXPIRED);
    assert_int_equal(sw_http_auth_check(&a, "Basic " B64_GOOD, now + 5), SW_HTTP_AUTH_EXPIRED);
    assert_int_equal(sw_http_auth_check(&a, "Bearer nope", now + 5), SW_HTTP_AUTH_EXPIRED);
    assert_int_equal(sw_http_auth_check(&a, NULL, now + 5), SW_HTTP_AUTH_MISSING);
    /* Only a token configured: basic is wrong, and the other way round. */
    sw_http_auth t;
    sw_http_auth_defaults(&t);
    char tok[65];
    sw_http_auth_hash_token("tok-123", tok);
    assert_int_equal(sw_http_auth_config_set(&t, "token_sha256", tok, err, sizeof err), SW_OK);
    assert_int_equal(sw_http_auth_check(&t, "Basic " B64_GOOD, now), SW_HTTP_AUTH_WRONG);
    sw_http_auth none;
    sw_http_auth_defaults(&none);
    assert_false(sw_http_auth_has_credentials(&none));
    assert_int_equal(sw_http_auth_check(&none, "Bearer tok-123", now), SW_HTTP_AUTH_WRONG);
}

static void test_config_keys(void **state)
{
    (void)state;
    sw_http_auth a;
    sw_http_auth_defaults(&a);
    char err[256];
    static const struct {
        const char *key, *value;
        sw_err want;
        const char *words;
    } cases[] = {
        { "token_sha256", "abc", SW_ERR_INVALID_ARGUMENT, "64 hex digits" },
        { "token_sha256", "zz00000000000000000000000000000000000000000000000000000000000000", SW_ERR_INVALID_ARGUMENT,
          "hash-password" },
        { "basic_auth", "alice:secret", SW_ERR_INVALID_ARGUMENT, "in clear" },
        { "basic_auth", ":$sha256$00$" "0000000000000000000000000000000000000000000000000000000000000000",
          SW_ERR_INVALID_ARGUMENT, "USER:" },
        { "basic_auth", "a:$sha256$$0000000000000000000000000000000000000000000000000000000000000000",
          SW_ERR_INVALID_ARGUMENT, "USER:" },
        { "basic_auth", "a:$sha256$0$0000000000000000000000000000000000000000000000000000000000000000",
          SW_ERR_INVALID_ARGUMENT, "USER:" },
        { "basic_auth", "a:$sha256$00$00", SW_ERR_INVALID_ARGUMENT, "USER:" },
        { "auth_expires", "tomorrow", SW_ERR_INVALID_ARGUMENT, "no instant" },
        { "auth_expires", "2026-13-01", SW_ERR_INVALID_ARGUMENT, "no instant" },
        { "auth_expires", "2026-01-01T10:00+01:00", SW_ERR_INVALID_ARGUMENT, "no instant" },
        { "auth_expires", "2026-01-01", SW_OK, NULL },
        { "auth_expires", "@1", SW_OK, NULL },
        { "insecure_no_auth", "maybe", SW_ERR_INVALID_ARGUMENT, "on or off" },
        { "insecure_no_auth", "on", SW_OK, NULL },
        { "tls_cert", "", SW_ERR_INVALID_ARGUMENT, "PEM" },
        { "tls_cert", "/etc/sunwire/cert.pem", SW_OK, NULL },
        { "port", "80", SW_ERR_NOT_FOUND, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        sw_err e = sw_http_auth_config_set(&a, cases[i].key, cases[i].value, err, sizeof err);
        if (e != cases[i].want)
            fail_msg("case %zu %s = %s: %s", i, cases[i].key, cases[i].value, sw_err_name(e));
        if (cases[i].words && !strstr(err, cases[i].words))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].words);
    }
    assert_true(a.insecure_no_auth);
    assert_int_equal(a.expires_unix_s, 1);
    /* tls_cert without tls_key is refused by the cross-check */
    assert_false(sw_http_auth_tls(&a));
    assert_int_equal(sw_http_auth_check_config(&a, err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "tls_key"));
    assert_int_equal(sw_http_auth_config_set(&a, "tls_key", "/etc/sunwire/key.pem", err, sizeof err), SW_OK);
    assert_true(sw_http_auth_tls(&a));
    assert_int_equal(sw_http_auth_check_config(&a, err, sizeof err), SW_OK);
    /* the hash text round-trips through the key; the password never appears in it */
    char hash[128];
    static const uint8_t salt[4] = { 0xde, 0xad, 0xbe, 0xef };
    assert_int_equal(sw_http_auth_hash_password("pw", salt, sizeof salt, hash, 20), SW_ERR_NO_SPACE);
    assert_int_equal(sw_http_auth_hash_password("pw", salt, sizeof salt, hash, sizeof hash), SW_OK);
    assert_int_equal(strncmp(hash, "$sha256$DEADBEEF$", 17), 0);
    assert_int_equal(strlen(hash), 17 + 64);
}

static void test_loopback_names(void **state)
{
    (void)state;
    static const char *const yes[] = { NULL, "", "127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1" };
    static const char *const no[] = { "0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "128.0.0.1", "myhost",
                                      "::ffff:10.0.0.1", "127.0.0.1.5", "fe80::1" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(sw_http_bind_is_loopback(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (sw_http_bind_is_loopback(no[i]))
            fail_msg("%s taken for loopback", no[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_loopback_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
