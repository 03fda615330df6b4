/*
 * Unit tests for the HTTP server (src/web/http.c) inside a real sw_loop on
 * loopback: dispatch, methods, query decoding, Server-Sent Events through
 * suspend/resume, no busy waiting, and a clean stop with a stream open.
 * The test is its own client: non-blocking sockets, and the loop is turned
 * by hand until the answer is complete.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sunwire/daemon.h"
#include "sunwire/http.h"
#include "sunwire/sink_http.h"
#include "sunwire/loop.h"
#include "sunwire/net.h"
#include "testutil.h"
#include "sunwire_config.h"

typedef struct server {
    sw_loop *loop;
    sw_http_server *srv;
    uint16_t port;
    int calls;
} server;

static int hello(void *user, const sw_http_request *req, sw_http_response *resp)
{
    server *s = user;
    s->calls++;
    char body[256];
    const char *name = sw_http_query(req, "name");
    snprintf(body, sizeof body, "hello %s at %s", name ? name : "-", req->path);
    resp->cache_control = "no-store";
    return sw_http_set_body(resp, "text/plain; charset=utf-8", body, strlen(body)) == SW_OK ? 0 : -1;
}

static int failing(void *user, const sw_http_request *req, sw_http_response *resp)
{
    (void)user; (void)req;
    resp->body = malloc(4); /* dropped by the server, which answers 500 */
    return -1;
}

static int setup(void **state)
{
    server *s = calloc(1, sizeof *s);
    s->loop = sw_loop_new();
    sw_err e = sw_http_server_start(s->loop, NULL, 0, &s->srv, &s->port);
    if (e != SW_OK)
        fail_msg("server start: %s", sw_err_message(e));
    assert_int_not_equal(s->port, 0);
    assert_int_equal(sw_http_route(s->srv, "/hello", false, hello, s), SW_OK);
    assert_int_equal(sw_http_route(s->srv, "/files", true, hello, s), SW_OK);
    assert_int_equal(sw_http_route(s->srv, "/fail", false, failing, s), SW_OK);
    assert_int_equal(sw_http_sse_route(s->srv, "/events"), SW_OK);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    server *s = *state;
    sw_http_server_stop(s->srv);
    sw_loop_free(s->loop);
    free(s);
    return 0;
}

static int client_connect(uint16_t port)
{
    int fd = -1;
    assert_int_equal(sw_tcp_connect("127.0.0.1", port, 2000, &fd), SW_OK);
    sw_fd_set_nonblocking(fd, 1);
    return fd;
}

/* Turn the loop and read until `until` appears (or the peer closes when until is NULL). */
static size_t pump(server *s, int fd, char *buf, size_t cap, size_t have, const char *until)
{
    int64_t deadline = sw_loop_now_ms() + 5000;
    while (sw_loop_now_ms() < deadline) {
        sw_loop_run_once(s->loop, 20);
        for (;;) {
            ssize_t n = read(fd, buf + have, cap - 1 - have);
            if (n > 0) {
                have += (size_t)n;
                buf[have] = '\0';
                continue;
            }
            if (n == 0 && !until)
                return have;
            break;
        }
        buf[have] = '\0';
        if (until && strstr(buf, until))
            return have;
    }
    fail_msg("no '%s' within 5 s; got: %.300s", until ? until : "<close>", buf);
    return have;
}

static char *request(server *s, const char *text)
{
    int fd = client_connect(s->port);
    assert_int_equal(sw_write_all(fd, text, strlen(text)), SW_OK);
    char *buf = calloc(1, 65536);
    pump(s, fd, buf, 65536, 0, NULL);
    close(fd);
    return buf;
}

static int status_of(const char *resp)
{
    int st = 0;
    if (sscanf(resp, "HTTP/1.%*d %d", &st) != 1)
        fail_msg("not an HTTP response: %.100s", resp);
    return st;
}

static void test_dispatch(void **state)
{
    server *s = *state;
    static const struct {
        const char *req;
        int status;
        const char *body_has;
    } cases[] = {
        { "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, "hello - at /hello" },
        { "GET /hello?name=sun%20wire&x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200,
          "hello sun wire at /hello" },
        { "GET /files/a/b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, "at /files/a/b.txt" },
        { "GET /filesx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "\"error\":\"not found\"" },
        { "GET /hello/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "not found" },
        { "GET /files/../hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "malformed path" },
        { "GET /files//etc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "malformed path" },
        { "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", 405, "GET" },
        { "DELETE /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "GET" },
        { "GET /fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 500, "internal error" },
        { "HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, "Content-Length: 17" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = request(s, cases[i].req);
        if (status_of(r) != cases[i].status || !strstr(r, cases[i].body_has))
            fail_msg("case %zu: want %d with '%s'; got: %.400s", i, cases[i].status, cases[i].body_has, r);
        assert_non_null(strstr(r, "X-Content-Type-Options: nosniff"));
        if (cases[i].status == 405)
            assert_non_null(strstr(r, "Allow: GET, HEAD"));
        if (strncmp(cases[i].req, "HEAD", 4) == 0)
            assert_null(strstr(r, "hello - at")); /* headers only */
        free(r);
    }
    assert_true(s->calls >= 4);
}

/* The request arriving in two pieces, split at every byte: the same answer every time. */
static void test_request_split_everywhere(void **state)
{
    server *s = *state;
    const char *req = "GET /files/x?name=a%20b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    size_t n = strlen(req);
    char *whole = request(s, req);
    const char *want = strstr(whole, "\r\n\r\n");
    assert_non_null(want);
    assert_non_null(strstr(want, "hello a b at /files/x"));
    for (size_t k = 1; k < n; k++) {
        int fd = client_connect(s->port);
        assert_int_equal(sw_write_all(fd, req, k), SW_OK);
        for (int i = 0; i < 3; i++)
            sw_loop_run_once(s->loop, 1);
        assert_int_equal(sw_write_all(fd, req + k, n - k), SW_OK);
        char buf[4096] = "";
        pump(s, fd, buf, sizeof buf, 0, NULL);
        close(fd);
        const char *body = strstr(buf, "\r\n\r\n");
        if (status_of(buf) != 200 || !body || strcmp(body, want) != 0)
            fail_msg("split at %zu: %.300s", k, buf);
    }
    free(whole);
}

static void test_routes_refused(void **state)
{
    server *s = *state;
    assert_int_equal(sw_http_route(s->srv, "relative", false, hello, s), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_http_route(s->srv, "/x", false, NULL, s), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_http_sse_route(s->srv, "nope"), SW_ERR_INVALID_ARGUMENT);
    char path[32];
    sw_err e = SW_OK;
    for (int i = 0; i < 64 && e == SW_OK; i++) {
        snprintf(path, sizeof path, "/r%d", i);
        e = sw_http_route(s->srv, path, false, hello, s);
    }
    assert_int_equal(e, SW_ERR_NO_SPACE); /* a fixed table, never grown */
    /* Re-registering a path replaces its handler rather than taking a slot. */
    assert_int_equal(sw_http_route(s->srv, "/hello", false, hello, s), SW_OK);
}

static void test_sse(void **state)
{
    server *s = *state;
    int fd = client_connect(s->port);
    /* HTTP/1.0 keeps the stream unchunked, so the bytes are exactly the events. */
    const char *req = "GET /events HTTP/1.0\r\nHost: x\r\n\r\n";
    assert_int_equal(sw_write_all(fd, req, strlen(req)), SW_OK);
    char buf[8192] = "";
    size_t have = pump(s, fd, buf, sizeof buf, 0, "retry: 2000\n");
    assert_non_null(strstr(buf, "Content-Type: text/event-stream"));
    assert_non_null(strstr(buf, "Cache-Control: no-store"));

    /* Idle with a parked stream: the loop sleeps instead of spinning. */
    uint64_t w0 = sw_loop_wakeups(s->loop);
    int64_t t0 = sw_loop_now_ms();
    while (sw_loop_now_ms() - t0 < 400)
        sw_loop_run_once(s->loop, 100);
    assert_true(sw_loop_wakeups(s->loop) - w0 <= 8);

    sw_http_sse_send(s->srv, "/events", "panel", "{\"a\":1}");
    have = pump(s, fd, buf, sizeof buf, have, "event: panel\ndata: {\"a\":1}\n\n");
    /* Multi-line data becomes one data: line per line; other paths' events do not leak in. */
    sw_http_sse_send(s->srv, "/other", "x", "nope");
    sw_http_sse_send(s->srv, "/events", "raw", "line one\nline two");
    have = pump(s, fd, buf, sizeof buf, have, "event: raw\ndata: line one\ndata: line two\n\n");
    assert_null(strstr(buf, "nope"));

    /* Many events in a row all arrive, in order. */
    char data[32], want[64];
    for (int i = 0; i < 50; i++) {
        snprintf(data, sizeof data, "%d", i);
        sw_http_sse_send(s->srv, "/events", "n", data);
    }
    have = pump(s, fd, buf, sizeof buf, have, "event: n\ndata: 49\n\n");
    const char *p = buf;
    for (int i = 0; i < 50; i++) {
        snprintf(want, sizeof want, "event: n\ndata: %d\n\n", i);
        const char *q = strstr(p, want);
        if (!q)
            fail_msg("event %d missing or out of order", i);
        p = q + strlen(want);
    }
    /* Stopping with the stream open (teardown) must end it cleanly: ASan watches for leaks. */
    close(fd);
}

static void test_sse_client_gone(void **state)
{
    server *s = *state;
    int fd = client_connect(s->port);
    const char *req = "GET /events HTTP/1.0\r\nHost: x\r\n\r\n";
    assert_int_equal(sw_write_all(fd, req, strlen(req)), SW_OK);
    char buf[4096] = "";
    pump(s, fd, buf, sizeof buf, 0, "retry: 2000\n");
    close(fd);
    /* Sends to a vanished client fail quietly and the server keeps serving others. */
    for (int i = 0; i < 20; i++) {
        sw_http_sse_send(s->srv, "/events", "x", "after close");
        sw_loop_run_once(s->loop, 10);
    }
    char *r = request(s, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    free(r);
}

static void test_bind_refused(void **state)
{
    server *s = *state;
    sw_http_server *other = NULL;
    uint16_t port = 0;
    /* The port is taken by the fixture's server. */
    assert_int_not_equal(sw_http_server_start(s->loop, "127.0.0.1", s->port, &other, &port), SW_OK);
    assert_null(other);
}

/* The [http] output as the daemon starts it: a sink whose callbacks reach the browsers. */
static void test_sink(void **state)
{
    (void)state;
    sw_loop *loop = sw_loop_new();
    sw_model *model = sw_model_new(NULL);
    sw_http_config c;
    sw_http_config_defaults(&c);
    c.port = 0;
    sw_sink sink;
    assert_int_equal(sw_http_start(loop, model, &c, &sink), SW_OK);
    assert_int_equal(sw_model_add_sink(model, sink), SW_OK);
    server s = { .loop = loop, .srv = sw_http_sink_server(&sink), .port = sw_http_sink_port(&sink) };
    assert_non_null(s.srv);
    assert_int_not_equal(s.port, 0);
    /* Another output (Prometheus) can add its route next to the dashboard's. */
    assert_int_equal(sw_http_route(s.srv, "/metrics", false, hello, &s), SW_OK);

    char *r = request(&s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(r, "Content-Type: text/html; charset=utf-8"));
    free(r);
    r = request(&s, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r, "hello - at /metrics"));
    free(r);

    int fd = client_connect(s.port);
    const char *req = "GET /api/events HTTP/1.0\r\nHost: x\r\n\r\n";
    assert_int_equal(sw_write_all(fd, req, strlen(req)), SW_OK);
    char buf[16384] = "";
    size_t have = pump(&s, fd, buf, sizeof buf, 0, "retry: 2000\n");
    /* A report through the model reaches the stream as a panel and its strings. */
    sw_panel_report rep = { .time_ns = INT64_C(1781517600) * 1000000000, .voltage_in = 30.0, .current_in = 2.0,
                            .rssi = 100, .barcode = "4-ABCDEFG" };
    assert_int_equal(sw_model_panel_report(model, "roof", 7, 9, &rep), SW_OK);
    have = pump(&s, fd, buf, sizeof buf, have, "event: panel\ndata: {\"id\":\"roof:7:9\"");
    have = pump(&s, fd, buf, sizeof buf, have, "\"power_w\":60.0");
    have = pump(&s, fd, buf, sizeof buf, have, "event: string\ndata: {\"name\":\"total\"");
    sw_model_event(model, "tigo", "{\"x\":1}");
    pump(&s, fd, buf, sizeof buf, have, "\"kind\":\"tigo\",\"data\":{\"x\":1}}");
    close(fd);
    sw_model_free(model); /* closes the sink, which stops the server */
    sw_loop_free(loop);

    /* dashboard = false: the server is there for other outputs, the pages are not. */
    loop = sw_loop_new();
    model = sw_model_new(NULL);
    c.dashboard = false;
    assert_int_equal(sw_http_start(loop, model, &c, &sink), SW_OK);
    server s2 = { .loop = loop, .srv = sw_http_sink_server(&sink), .port = sw_http_sink_port(&sink) };
    r = request(&s2, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 404);
    free(r);
    r = request(&s2, "GET /api/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 404);
    free(r);
    sink.ops->close(sink.self);
    sw_model_free(model);
    sw_loop_free(loop);

    /* Foreign sinks are not mistaken for ours. */
    static const sw_sink_ops other = { .name = "other" };
    sw_sink foreign = { &other, &c };
    assert_null(sw_http_sink_server(&foreign));
    assert_int_equal(sw_http_sink_port(&foreign), 0);
    assert_int_equal(sw_http_sink_attach_history_db(&foreign, "x.db"), SW_ERR_INVALID_ARGUMENT);
}

int main(void)
{
#if !SUNWIRE_HAVE_MHD
    fprintf(stderr, "libmicrohttpd is not part of this build: the HTTP server cannot be tested\n");
    return 1;
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_split_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse_client_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_refused, setup, teardown),
        cmocka_unit_test(test_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
