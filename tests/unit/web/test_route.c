/* Unit tests for src/web: route dispatch, path checks, query parsing, config keys, assets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/sink_http.h"
#include "testutil.h"
#include "web/web_internal.h"

static int dummy_handler(void *user, const sw_http_request *req, sw_http_response *resp)
{
    (void)user; (void)req; (void)resp;
    return 0;
}

static void add_route(sw_web_route *r, size_t *n, const char *path, bool prefix)
{
    memset(&r[*n], 0, sizeof r[*n]);
    snprintf(r[*n].path, sizeof r[*n].path, "%s", path);
    r[*n].prefix = prefix;
    r[*n].handler = dummy_handler;
    (*n)++;
}

static void test_route_match(void **state)
{
    (void)state;
    sw_web_route r[8];
    size_t n = 0;
    add_route(r, &n, "/", true);            /* 0 */
    add_route(r, &n, "/api", true);         /* 1 */
    add_route(r, &n, "/api/events", false); /* 2 */
    add_route(r, &n, "/metrics", false);    /* 3 */
    add_route(r, &n, "/api/history", true); /* 4 */
    add_route(r, &n, "/static/", true);     /* 5 */
    static const struct {
        const char *path;
        int want;
    } cases[] = {
        { "/", 0 },
        { "/index.html", 0 },
        { "/api", 1 },
        { "/api/", 1 },
        { "/api/state", 1 },
        { "/apix", 0 },             /* a prefix never matches inside a segment */
        { "/api/events", 2 },       /* exact beats prefix */
        { "/api/events/more", 1 },  /* exact is exact */
        { "/metrics", 3 },
        { "/metrics/x", 0 },
        { "/api/history", 4 },      /* the longest prefix wins */
        { "/api/history/day", 4 },
        { "/api/historyx", 1 },
        { "/static/app.js", 5 },
        { "/static", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = sw_web_route_match(r, n, cases[i].path);
        if (got != cases[i].want)
            fail_msg("%s: route %d, want %d", cases[i].path, got, cases[i].want);
    }
    /* Without the catch-all, unknown paths have no route. */
    assert_int_equal(sw_web_route_match(r + 1, n - 1, "/index.html"), -1);
    assert_int_equal(sw_web_route_match(r, n, NULL), -1);
}

static void test_target_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        bool ok;
    } targets[] = {
        { "/index.html", true },
        { "/api/panel?id=roof%3A1%3A2", true },
        { "/a%20b", true },
        { "/%zz", true },            /* not an escape: MHD leaves it alone, the path check decides */
        { "/index.html%00.js", false },
        { "/api/panels%00/../../x", false },
        { "/x?name=a%0Ab", false },
        { "/x%1f", false },
        { "/x%7F", false },
        { "/x\x01", false },
        { "/x\x7f", false },
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        if (sw_web_target_safe(targets[i].raw) != targets[i].ok)
            fail_msg("target %zu '%s': want %d", i, targets[i].raw, targets[i].ok);
    assert_false(sw_web_target_safe(NULL));

    assert_true(sw_web_method_safe("GET"));
    assert_true(sw_web_method_safe("M-SEARCH"));
    assert_false(sw_web_method_safe(""));
    assert_false(sw_web_method_safe("G(T"));
    assert_false(sw_web_method_safe("G\xc3\xa9T"));

    static const struct {
        const char *bytes;
        size_t len;
        int want;
    } lines[] = {
#define LINE(lit, want) { lit, sizeof lit - 1, want }
        LINE("GET / HTTP/1.1\r\n", 1),
        LINE("\r\nGET / HTTP/1.1\n", 1),
        LINE("GET / HTTP/1.1\r", 0),
        LINE("GET /x", 0),
        LINE("GE", 0),
        LINE("", 0),
        LINE("GET", 0),
        LINE("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", -1), /* a method that never ends */
        LINE(" / HTTP/1.1\r\n", -1),
        LINE("GET\t/ HTTP/1.1\r\n", -1),
        LINE("GET / HTTP/1.1\x00\r\n", -1),
        LINE("GE\x00T / HTTP/1.1\r\n", -1),
        LINE("\x16\x03\x01\x02\x00", -1),
        LINE("GET /\xc3\xa9 HTTP/1.1\r\n", -1),
        LINE("GET /a\rb HTTP/1.1\r\n", -1),
#undef LINE
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        int got = sw_web_request_line_check(lines[i].bytes, lines[i].len);
        if (got != lines[i].want)
            fail_msg("line %zu: %d, want %d", i, got, lines[i].want);
    }
    /* Every prefix of a good line may still become one. */
    const char *good = "GET /api/state?x=1 HTTP/1.1\r\n";
    for (size_t k = 0; k < strlen(good); k++)
        assert_int_equal(sw_web_request_line_check(good, k), 0);
}

static void test_path_safe(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        bool ok;
    } cases[] = {
        { "/", true },
        { "/index.html", true },
        { "/api/history/day", true },
        { "/app.js", true },
        { "", false },
        { "index.html", false },
        { "/../etc/passwd", false },
        { "/a/../b", false },
        { "/a/..", false },
        { "/./a", false },
        { "/.git/config", false },
        { "//etc/passwd", false },
        { "/a//b", false },
        { "/a\\..\\b", false },
        { "/a\nb", false },
        { "/a\x7f", false },
        { "/file.name.js", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sw_web_path_safe(cases[i].path) != cases[i].ok)
            fail_msg("path '%s': want %s", cases[i].path, cases[i].ok ? "safe" : "refused");
    assert_false(sw_web_path_safe(NULL));
    char longpath[1100];
    memset(longpath, 'a', sizeof longpath);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_false(sw_web_path_safe(longpath));
}

static void test_parse_day(void **state)
{
    (void)state;
    /* Expected day numbers from the calendar itself: 1970-01-01 is day 0, 2000-03-01 is 11017. */
    static const struct {
        const char *text;
        bool ok;
        long long day;
    } cases[] = {
        { "1970-01-01", true, 0 },
        { "1970-01-02", true, 1 },
        { "2000-02-29", true, 11016 },
        { "2000-03-01", true, 11017 },
        { "2024-02-29", true, 19782 },
        { "2023-02-29", false, 0 },
        { "1900-02-29", false, 0 },
        { "2026-13-01", false, 0 },
        { "2026-00-10", false, 0 },
        { "2026-04-31", false, 0 },
        { "2026-4-01", false, 0 },
        { "2026-04-01x", false, 0 },
        { " 2026-04-01", false, 0 },
        { "2026/04/01", false, 0 },
        { "1969-12-31", false, 0 },
        { "", false, 0 },
        { "Today", false, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t d = -12345;
        bool ok = sw_web_parse_day(cases[i].text, 20000, &d);
        if (ok != cases[i].ok)
            fail_msg("day '%s': parse %s", cases[i].text, ok ? "accepted" : "refused");
        if (ok && d != cases[i].day)
            fail_msg("day '%s': %lld, want %lld", cases[i].text, (long long)d, cases[i].day);
    }
    int64_t d;
    assert_true(sw_web_parse_day("today", 20000, &d));
    assert_int_equal(d, 20000);
    assert_true(sw_web_parse_day("yesterday", 20000, &d));
    assert_int_equal(d, 19999);
    assert_false(sw_web_parse_day(NULL, 20000, &d));
}

static void test_parse_int_bool(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        long v;
    } ints[] = {
        { "1", true, 1 },     { "30", true, 30 },  { "366", true, 366 }, { "367", false, 0 },
        { "0", false, 0 },    { "-1", false, 0 },  { "", false, 0 },     { "1e2", false, 0 },
        { "12a", false, 0 },  { " 5", false, 0 },  { "+5", false, 0 },   { "99999999999999999999", false, 0 },
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        long v = -7;
        bool ok = sw_web_parse_int(ints[i].text, 1, 366, &v);
        if (ok != ints[i].ok || (ok && v != ints[i].v))
            fail_msg("int '%s': ok=%d v=%ld", ints[i].text, ok, v);
    }
    long v;
    assert_true(sw_web_parse_int("-3", -5, 5, &v));
    assert_int_equal(v, -3);

    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    static const char *const bad[] = { "", "TRUE", "2", "y", "truex" };
    bool b;
    for (size_t i = 0; i < 4; i++) {
        b = false;
        assert_true(sw_web_parse_bool(yes[i], &b));
        assert_true(b);
        b = true;
        assert_true(sw_web_parse_bool(no[i], &b));
        assert_false(b);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sw_web_parse_bool(bad[i], &b));
}

static void test_query_check(void **state)
{
    (void)state;
    sw_web_query q = { 0 };
    sw_http_request req = { .method = "GET", .path = "/api/x", .conn_ = &q };
    static const char *const allowed[] = { "day", "panel", NULL };
    char err[160];

    assert_true(sw_web_query_check(&req, allowed, err, sizeof err));
    sw_web_query_add(&q, "day", "today");
    sw_web_query_add(&q, "panel", NULL);
    assert_true(sw_web_query_check(&req, allowed, err, sizeof err));
    assert_string_equal(sw_http_query(&req, "day"), "today");
    assert_string_equal(sw_http_query(&req, "panel"), ""); /* "?panel" without '=' */
    assert_null(sw_http_query(&req, "string"));

    sw_web_query_add(&q, "bogus", "1");
    assert_false(sw_web_query_check(&req, allowed, err, sizeof err));
    assert_non_null(strstr(err, "'bogus'"));

    q.n = 2;
    sw_web_query_add(&q, "day", "yesterday");
    assert_false(sw_web_query_check(&req, allowed, err, sizeof err));
    assert_non_null(strstr(err, "twice"));
    /* The first occurrence is the one reported by sw_http_query. */
    assert_string_equal(sw_http_query(&req, "day"), "today");

    sw_web_query full = { 0 };
    for (int i = 0; i < SW_WEB_MAX_QUERY + 2; i++)
        sw_web_query_add(&full, "day", "x");
    assert_true(full.overflow);
    assert_int_equal(full.n, SW_WEB_MAX_QUERY);
    req.conn_ = &full;
    assert_false(sw_web_query_check(&req, allowed, err, sizeof err));
    assert_non_null(strstr(err, "too many"));
}

static void test_config(void **state)
{
    (void)state;
    sw_http_config c;
    sw_http_config_defaults(&c);
    assert_string_equal(c.bind, "127.0.0.1"); /* loopback unless told otherwise */
    assert_int_equal(c.port, SW_HTTP_DEFAULT_PORT);
    assert_true(c.dashboard);
    assert_string_equal(c.history, "");

    char err[200];
    static const struct {
        const char *key, *value;
        bool ok;
        const char *err_has;
    } cases[] = {
        { "bind", "0.0.0.0", true, NULL },
        { "address", "::1", true, NULL },
        { "bind", "", false, "bind" },
        { "port", "9000", true, NULL },
        { "port", "0", true, NULL },
        { "port", "65536", false, "port" },
        { "port", "80x", false, "80x" },
        { "port", "-1", false, "port" },
        { "dashboard", "off", true, NULL },
        { "dashboard", "maybe", false, "maybe" },
        { "source_dead", "120", true, NULL },
        { "source_dead", "0", false, "source_dead" },
        { "history", "data/history.db", true, NULL },
        { "colour", "blue", false, "colour" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 'X';
        err[1] = '\0';
        sw_err e = sw_http_config_set(&c, cases[i].key, cases[i].value, err, sizeof err);
        if ((e == SW_OK) != cases[i].ok)
            fail_msg("[http] %s=%s: %s", cases[i].key, cases[i].value, sw_err_name(e));
        if (cases[i].err_has && !strstr(err, cases[i].err_has))
            fail_msg("[http] %s=%s: message '%s' does not name '%s'", cases[i].key, cases[i].value, err,
                     cases[i].err_has);
    }
    assert_string_equal(c.bind, "::1");
    assert_int_equal(c.port, 0);
    assert_false(c.dashboard);
    assert_int_equal(c.source_dead_s, 120);
    assert_string_equal(c.history, "data/history.db");
    assert_int_equal(sw_http_config_set(&c, NULL, "x", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(sw_web_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(sw_web_content_type("app.js"), "text/javascript; charset=utf-8");
    assert_string_equal(sw_web_content_type("app.css"), "text/css; charset=utf-8");
    assert_string_equal(sw_web_content_type("icon.svg"), "image/svg+xml");
    assert_string_equal(sw_web_content_type("README"), "application/octet-stream");
    assert_string_equal(sw_web_content_type("x.html.bak"), "application/octet-stream");
}

/* Every file in web/assets is embedded byte for byte, and the page's own references resolve. */
static void test_assets_embedded(void **state)
{
    (void)state;
    static const char *const names[] = { "index.html", "app.js", "app.css", "icon.svg" };
    char path[4096];
    const char *src = getenv("SW_SOURCE_DIR");
    assert_non_null(src);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const sw_web_asset *a = sw_web_asset_find(names[i]);
        if (!a)
            fail_msg("asset %s is not embedded", names[i]);
        snprintf(path, sizeof path, "%s/web/assets/%s", src, names[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)len + 1);
        assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        assert_int_equal(a->len, (size_t)len);
        assert_memory_equal(a->data, buf, (size_t)len);
        free(buf);
    }
    assert_null(sw_web_asset_find("../web/assets/index.html"));
    assert_null(sw_web_asset_find(""));

    /* The asset handler: "/" is the page, unknown names are 404, nothing else is consulted. */
    sw_web_query q = { 0 };
    static const struct {
        const char *path;
        int status;
        const char *type;
    } cases[] = {
        { "/", 200, "text/html; charset=utf-8" },
        { "/index.html", 200, "text/html; charset=utf-8" },
        { "/app.js", 200, "text/javascript; charset=utf-8" },
        { "/nope.js", 404, "text/plain; charset=utf-8" },
        { "/web_internal.h", 404, "text/plain; charset=utf-8" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_http_request req = { .method = "GET", .path = cases[i].path, .conn_ = &q };
        sw_http_response resp = { .status = 200 };
        assert_int_equal(sw_web_asset_handle(NULL, &req, &resp), 0);
        assert_int_equal(resp.status, cases[i].status);
        assert_string_equal(resp.content_type, cases[i].type);
        assert_non_null(resp.cache_control);
        free(resp.body);
    }
}

static void test_error_body(void **state)
{
    (void)state;
    sw_http_response resp = { .status = 200 };
    assert_int_equal(sw_http_error(&resp, 400, "bad \"day\"\n"), SW_OK);
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.content_type, "application/json");
    json_error_t je;
    json_t *j = json_loadb(resp.body, resp.body_len, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "error")), "bad \"day\"\n");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 400);
    json_decref(j);
    free(resp.body);
}

/* The day table is fixed: when full, new keys are ignored and known ones keep working. */
static void test_today_table(void **state)
{
    (void)state;
    sw_web_today t = { .series = calloc(SW_WEB_SERIES_MAX, sizeof(sw_web_series)) };
    char key[32];
    for (int i = 0; i < SW_WEB_SERIES_MAX + 5; i++) {
        snprintf(key, sizeof key, "p%d", i);
        sw_web_today_add(&t, 'p', key, 100, 0, 1.0);
    }
    assert_int_equal(t.n, SW_WEB_SERIES_MAX);
    assert_null(sw_web_today_find(&t, 'p', "p1024"));
    sw_web_today_add(&t, 'p', "p0", 100, 86399, 8.0);
    const sw_web_series *s = sw_web_today_find(&t, 'p', "p0");
    assert_non_null(s);
    assert_int_equal(s->count[SW_WEB_BUCKETS - 1], 1);
    assert_float_equal(s->sum[SW_WEB_BUCKETS - 1], 8.0, 0);
    /* Kinds are separate namespaces; out-of-day seconds and NaN are refused. */
    assert_null(sw_web_today_find(&t, 's', "p0"));
    sw_web_today_add(&t, 'p', "p0", 100, 86400, 1.0);
    sw_web_today_add(&t, 'p', "p0", 100, -1, 1.0);
    sw_web_today_add(&t, 'p', "p0", 100, 5, NAN);
    assert_int_equal(s->count[0], 1);
    free(t.series);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_match),
        cmocka_unit_test(test_target_and_line),
        cmocka_unit_test(test_path_safe),
        cmocka_unit_test(test_parse_day),
        cmocka_unit_test(test_parse_int_bool),
        cmocka_unit_test(test_query_check),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_assets_embedded),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_today_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
