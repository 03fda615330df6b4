/*
 * Unit tests for the HTTP server (src/web/http.c) inside a real sw_loop on
 * loopback: dispatch, methods, query decoding, Server-Sent Events through
 * suspend/resume, no busy waiting, and a clean stop with a stream open.
 * The test is its own client: non-blocking sockets, and the loop is turned
 * by hand until the answer is complete.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "web/http.h"
#include "web/metrics.h"
#include "web/sink_http.h"
#include "sunwire/loop.h"
#include "io/net.h"
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
    sw_err e = sw_http_server_start(s->loop, NULL, 0, NULL, &s->srv, &s->port);
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
        /* Control characters, written out or percent-encoded, anywhere in the target: %00 would cut it. */
        { "GET /hello%00.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "malformed path" },
        { "GET /files/a%00/../../hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "malformed path" },
        { "GET /hello?name=a%0ab HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "malformed path" },
        { "GET /hello%7F HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "malformed path" },
        { "GET /events?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "unknown query parameter 'x'" },
        { "G(T /hello HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request line" },
        { "GET /hello\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request line" },
        { "GET /h\xc3\xa9llo HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request line" },
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

/* Bytes that are no request line get 400 and the end of the connection, whatever they are. */
static void test_binary_request_line(void **state)
{
    server *s = *state;
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
#define BYTES(lit) { lit, sizeof lit - 1 }
        BYTES("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xaa\xbb\r\n\r\n"), /* a TLS hello */
        BYTES("\x00\x01\x02 / HTTP/1.1\r\n\r\n"),                          /* starts with NUL */
        BYTES("GE\x00T / HTTP/1.1\r\n\r\n"),                                 /* NUL in the method */
        BYTES("GET / HTTP/1.1\x00\r\nHost: x\r\n\r\n"),                     /* NUL in the version */
        BYTES("\xff\xfe G\x00E\x00T\x00 \x00/\x00\r\n\r\n"),                 /* UTF-16 */
#undef BYTES
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = client_connect(s->port);
        assert_int_equal(sw_write_all(fd, cases[i].bytes, cases[i].len), SW_OK);
        char buf[4096] = "";
        pump(s, fd, buf, sizeof buf, 0, NULL); /* fails unless the server closes */
        close(fd);
        if (status_of(buf) != 400 || !strstr(buf, "Connection: close") || !strstr(buf, "malformed request line"))
            fail_msg("case %zu: %.300s", i, buf);
    }
    sw_http_counters st;
    sw_http_server_get_counters(s->srv, &st);
    assert_int_equal(st.garbled, sizeof cases / sizeof cases[0]);
    assert_int_equal(s->calls, 0); /* no handler saw any of it */
}

/* ---- limits ----------------------------------------------------------------------- */
/* A client from a chosen loopback address (127.0.0.0/8 is all local). */
static int connect_from(const char *source, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    assert_int_equal(inet_pton(AF_INET, source, &a.sin_addr), 1);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("bind %s: %s", source, strerror(errno));
    a.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &a.sin_addr), 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("connect from %s: %s", source, strerror(errno));
    sw_fd_set_nonblocking(fd, 1);
    return fd;
}

static void turn(server *s, int ms)
{
    int64_t end = sw_loop_now_ms() + ms;
    while (sw_loop_now_ms() < end)
        sw_loop_run_once(s->loop, 10);
}

/* 1 when the server closed fd (EOF or reset), 0 while it is open. */
static int closed(int fd)
{
    char b[256];
    for (;;) {
        ssize_t n = read(fd, b, sizeof b);
        if (n > 0)
            continue;
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

static int waiting_client(server *s, const char *source)
{
    int fd = connect_from(source, s->port);
    assert_int_equal(sw_write_all(fd, "GET /hello HTTP/1.1\r\n", 21), SW_OK);
    turn(s, 20);
    return fd;
}

static void set_limits(server *s, unsigned max, unsigned per_address, unsigned reserve, unsigned head_ms)
{
    sw_http_limits l;
    sw_http_limits_defaults(&l);
    l.max_connections = max;
    l.max_per_address = per_address;
    l.stream_reserve = reserve;
    l.head_timeout_ms = head_ms;
    assert_int_equal(sw_http_server_set_limits(s->srv, &l), SW_OK);
}

static char *request_from(server *s, const char *source, const char *text)
{
    int fd = connect_from(source, s->port);
    assert_int_equal(sw_write_all(fd, text, strlen(text)), SW_OK);
    char *buf = calloc(1, 65536);
    pump(s, fd, buf, 65536, 0, NULL);
    close(fd);
    return buf;
}

/* The head has a deadline in total: trickling a byte at a time does not extend it. */
static void test_head_deadline(void **state)
{
    server *s = *state;
    set_limits(s, 16, 8, 2, 300);
    int fd = waiting_client(s, "127.0.0.1");
    int64_t t0 = sw_loop_now_ms();
    while (!closed(fd)) {
        if (sw_loop_now_ms() - t0 > 2000)
            fail_msg("a trickling client still open after 2 s with a 300 ms head limit");
        ssize_t n = write(fd, "X", 1);
        (void)n;
        turn(s, 40);
    }
    int64_t took = sw_loop_now_ms() - t0;
    assert_true(took >= 250);
    close(fd);

    sw_http_counters st;
    sw_http_server_get_counters(s->srv, &st);
    assert_int_equal(st.timed_out, 1);
    assert_int_equal(st.connections, 0);
    /* Nothing waits now: the loop sleeps. */
    uint64_t w0 = sw_loop_wakeups(s->loop);
    for (int i = 0; i < 4; i++)
        sw_loop_run_once(s->loop, 100);
    assert_true(sw_loop_wakeups(s->loop) - w0 <= 4);
}

/* A newcomer over a limit takes the place of the longest-waiting connection, its own address's first. */
static void test_limits_replace_waiting(void **state)
{
    server *s = *state;
    set_limits(s, 6, 3, 2, 10000);
    int a[3];
    for (int i = 0; i < 3; i++)
        a[i] = waiting_client(s, "127.0.0.1");
    char *r = request_from(s, "127.0.0.1", "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    free(r);
    turn(s, 20);
    assert_true(closed(a[0]));
    assert_false(closed(a[1]));
    assert_false(closed(a[2]));

    /* The server is full of waiting clients of other addresses: the oldest of all makes room. */
    int b[4];
    char src[32];
    for (int i = 0; i < 4; i++) {
        snprintf(src, sizeof src, "127.0.3.%d", i + 1);
        b[i] = waiting_client(s, src);
    }
    sw_http_counters st;
    sw_http_server_get_counters(s->srv, &st);
    assert_int_equal(st.connections, 6);
    assert_int_equal(st.waiting, 6);
    r = request_from(s, "127.0.4.1", "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    free(r);
    turn(s, 20);
    assert_true(closed(a[1]));
    assert_false(closed(a[2]));
    for (int i = 0; i < 4; i++)
        assert_false(closed(b[i]));
    sw_http_server_get_counters(s->srv, &st);
    assert_int_equal(st.replaced, 2);
    assert_int_equal(st.refused, 0);
    for (int i = 0; i < 3; i++)
        close(a[i]);
    for (int i = 0; i < 4; i++)
        close(b[i]);
}

static int open_stream(server *s, const char *source, char *buf, size_t cap)
{
    int fd = connect_from(source, s->port);
    const char *req = "GET /events HTTP/1.0\r\nHost: x\r\n\r\n";
    assert_int_equal(sw_write_all(fd, req, strlen(req)), SW_OK);
    buf[0] = '\0';
    pump(s, fd, buf, cap, 0, "\r\n\r\n");
    return fd;
}

/* Event streams never take the reserve; an address full of requests in progress is refused. */
static void test_limits_stream_reserve(void **state)
{
    server *s = *state;
    set_limits(s, 6, 4, 2, 10000);
    int st_fd[4];
    char buf[4096];
    for (int i = 0; i < 4; i++) {
        st_fd[i] = open_stream(s, "127.0.0.1", buf, sizeof buf);
        assert_int_equal(status_of(buf), 200);
    }
    /* The fifth stream would eat into the reserve. */
    int extra = open_stream(s, "127.0.5.1", buf, sizeof buf);
    assert_int_equal(status_of(buf), 503);
    close(extra);
    /* The reserve serves an ordinary request, from another address. */
    char *r = request_from(s, "127.0.5.2", "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    free(r);
    /* 127.0.0.1 holds its four places with streams: nothing of its own to replace, so 503. */
    r = request_from(s, "127.0.0.1", "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 503);
    assert_non_null(strstr(r, "Retry-After: 1"));
    free(r);
    sw_http_counters st;
    sw_http_server_get_counters(s->srv, &st);
    assert_int_equal(st.streams, 4);
    assert_int_equal(st.refused, 1);
    for (int i = 0; i < 4; i++)
        close(st_fd[i]);
    /* Limits are checked. */
    sw_http_limits l;
    sw_http_limits_defaults(&l);
    l.stream_reserve = l.max_connections;
    assert_int_equal(sw_http_server_set_limits(s->srv, &l), SW_ERR_INVALID_ARGUMENT);
    l.stream_reserve = 0;
    l.head_timeout_ms = 0;
    assert_int_equal(sw_http_server_set_limits(s->srv, &l), SW_ERR_INVALID_ARGUMENT);
}

/* Clients that fill the server and vanish at once, while the loop is not turning: accepting goes on. */
static void test_accepting_after_mass_close(void **state)
{
    server *s = *state;
    set_limits(s, 32, 32, 4, 10000);
    for (int round = 0; round < 3; round++) {
        int fds[48];
        char src[32];
        for (int i = 0; i < 48; i++) {
            snprintf(src, sizeof src, "127.0.6.%d", i + 1);
            fds[i] = connect_from(src, s->port);
            assert_int_equal(sw_write_all(fds[i], "GET /hello HTTP/1.1\r\n", 21), SW_OK);
        }
        turn(s, 50);
        for (int i = 0; i < 48; i++)
            close(fds[i]); /* all gone before the server looks again */
        char *r = request(s, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_int_equal(status_of(r), 200);
        free(r);
    }
    turn(s, 50);
    sw_http_counters st;
    sw_http_server_get_counters(s->srv, &st);
    assert_int_equal(st.connections, 0);
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
    assert_int_not_equal(sw_http_server_start(s->loop, "127.0.0.1", s->port, NULL, &other, &port), SW_OK);
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
    sw_event ev = { .kind = SW_EVENT_UNMAPPED_PANEL, .source = "roof", .time_ns = 1 };
    ev.u.unmapped_panel.barcode = "4-ABCDEFG";
    sw_model_event(model, &ev);
    pump(&s, fd, buf, sizeof buf, have,
         "\"kind\":\"unmapped_panel\",\"data\":{\"source\":\"roof\",\"barcode\":\"4-ABCDEFG\"}}");
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

/* The Prometheus output: the route on the [http] server when there is one, else a server of its own. */
static void test_metrics(void **state)
{
    server *s = *state;
    sw_model *model = sw_model_new(NULL);
    sw_prometheus_config c;
    sw_prometheus_config_defaults(&c);
    c.port = 0;
    sw_sink own;
    assert_int_equal(sw_metrics_start(s->loop, model, &c, NULL, NULL, &own), SW_OK);
    server s2 = { .loop = s->loop, .port = sw_metrics_port(&own) };
    assert_int_not_equal(s2.port, 0);
    char *r = request(&s2, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(r, "Content-Type: " SW_PROMETHEUS_CONTENT_TYPE));
    assert_non_null(strstr(r, "\r\n\r\n# HELP sunwire_build_info "));
    free(r);
    own.ops->close(own.self); /* stops the own server */

    /* On a shared server: the route only, at the configured path; no port of its own. */
    snprintf(c.path, sizeof c.path, "/prom");
    sw_sink shared;
    assert_int_equal(sw_metrics_start(s->loop, model, &c, NULL, s->srv, &shared), SW_OK);
    assert_int_equal(sw_metrics_port(&shared), 0);
    r = request(s, "GET /prom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(r, "sunwire_model_updated_timestamp_seconds"));
    free(r);
    shared.ops->close(shared.self);
    /* The route reads the model, not the closed output: it still answers. */
    r = request(s, "GET /prom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    free(r);
    sw_model_free(model);
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
        cmocka_unit_test_setup_teardown(test_binary_request_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_replace_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_stream_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepting_after_mass_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse_client_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_refused, setup, teardown),
        cmocka_unit_test(test_sink),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
