/*
 * The one TCP connect path: a host name is looked up on a thread while the
 * loop keeps running, a literal address needs no lookup, a failed lookup is
 * reported as such, a lookup given up on cleans up after itself (ASan's leak
 * check runs at exit), and when an address refuses the next one is tried,
 * in the loop and in the blocking connect alike. Real sockets on 127.0.0.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sunwire/loop.h"
#include "io/net.h"
#include "testutil.h"

static atomic_int lookups_running;
static atomic_int lookups_done;
static int slow_ms;

/* getaddrinfo that takes its time, like a DNS server that is slow to answer. */
static int slow_lookup(const char *host, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    atomic_fetch_add(&lookups_running, 1);
    struct timespec ts = { slow_ms / 1000, (long)(slow_ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    /* IPv4 only: the listener is on 127.0.0.1, and "localhost" may list ::1 first. */
    struct addrinfo h = *hints;
    h.ai_family = AF_INET;
    int r = getaddrinfo(host, service, &h, res);
    atomic_fetch_sub(&lookups_running, 1);
    atomic_fetch_add(&lookups_done, 1);
    return r;
}

typedef struct waiter {
    bool ready;
    int ticks; /* timer callbacks that ran while waiting */
} waiter;

static void on_ready(sw_loop *loop, int fd, int events, void *user)
{
    (void)events;
    waiter *w = user;
    w->ready = true;
    sw_loop_del_fd(loop, fd);
    sw_loop_stop(loop);
}

static int64_t on_tick(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    waiter *w = user;
    w->ticks++;
    return 10;
}

/* Run the loop until the lookup's fd is readable (or 5 s pass). */
static void wait_lookup(sw_loop *loop, int fd, waiter *w)
{
    assert_int_equal(sw_loop_add_fd(loop, fd, SW_LOOP_READ, on_ready, w), SW_OK);
    uint64_t tick = sw_loop_add_timer(loop, 10, on_tick, w);
    int64_t until = sw_loop_now_ms() + 5000;
    while (!w->ready && sw_loop_now_ms() < until)
        sw_loop_run_once(loop, 50);
    sw_loop_del_timer(loop, tick);
    assert_true(w->ready);
}

/* The listener's next connection (it is non-blocking: wait up to a second). */
static int accept_peer(int listener)
{
    int peer = -1;
    for (int i = 0; i < 500 && peer < 0; i++) {
        peer = accept(listener, NULL, NULL);
        if (peer < 0)
            usleep(2000);
    }
    assert_true(peer >= 0);
    return peer;
}

/* Connect through a lookup to a listener on 127.0.0.1 and check the peer sees it. */
static void connect_and_accept(sw_tcp_lookup *r, int listener)
{
    int fd = -1;
    bool pending = false;
    assert_int_equal(sw_tcp_lookup_connect(r, &fd, &pending), SW_OK);
    assert_true(fd >= 0);
    int peer = accept_peer(listener);
    if (pending) {
        for (int i = 0; i < 500; i++) {
            int err = 0;
            socklen_t len = sizeof err;
            assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
            assert_int_equal(err, 0);
            if (sw_tcp_connect_finish(fd) == SW_OK)
                break;
            usleep(2000);
        }
    }
    assert_int_equal(sw_tcp_connect_finish(fd), SW_OK);
    assert_int_equal(write(fd, "hi", 2), 2);
    char got[2] = { 0 };
    ssize_t n = 0;
    for (int i = 0; i < 500 && n <= 0; i++) {
        n = read(peer, got, sizeof got);
        if (n <= 0)
            usleep(2000);
    }
    assert_int_equal(n, 2);
    assert_memory_equal(got, "hi", 2);
    close(peer);
    close(fd);
    sw_tcp_lookup_cancel(r, NULL);
}

static int listen_loopback(uint16_t *port)
{
    int fd = -1;
    assert_int_equal(sw_tcp_listen("127.0.0.1", 0, 4, &fd, port), SW_OK);
    /* accept without blocking the test when nothing is there yet */
    assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    return fd;
}

static void test_literal_address_needs_no_lookup(void **state)
{
    (void)state;
    uint16_t port = 0;
    int listener = listen_loopback(&port);
    slow_ms = 0;
    int before = atomic_load(&lookups_done);
    sw_tcp_lookup *r = NULL;
    int rfd = 0;
    assert_int_equal(sw_tcp_lookup_start("127.0.0.1", port, slow_lookup, &r, &rfd), SW_OK);
    assert_non_null(r);
    assert_int_equal(rfd, -1);
    connect_and_accept(r, listener);
    assert_int_equal(atomic_load(&lookups_done), before);
    close(listener);
}

static void test_name_looked_up_while_loop_runs(void **state)
{
    (void)state;
    uint16_t port = 0;
    int listener = listen_loopback(&port);
    slow_ms = 300;
    sw_loop *loop = sw_loop_new();
    assert_non_null(loop);
    sw_tcp_lookup *r = NULL;
    int rfd = -1;
    int64_t t0 = sw_loop_now_ms();
    assert_int_equal(sw_tcp_lookup_start("localhost", port, slow_lookup, &r, &rfd), SW_OK);
    /* Returned at once, with the lookup still running on its thread. */
    assert_true(sw_loop_now_ms() - t0 < 200);
    assert_non_null(r);
    assert_true(rfd >= 0);
    waiter w = { 0 };
    wait_lookup(loop, rfd, &w);
    /* The loop's 10 ms timer kept firing during the 300 ms lookup. */
    assert_true(w.ticks >= 5);
    assert_true(sw_loop_now_ms() - t0 >= 290);
    connect_and_accept(r, listener);
    sw_loop_free(loop);
    close(listener);
}

static int failing_lookup(const char *host, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res)
{
    (void)host; (void)service; (void)hints;
    *res = NULL;
    atomic_fetch_add(&lookups_done, 1);
    return EAI_NONAME;
}

static void test_failed_lookup_is_reported(void **state)
{
    (void)state;
    sw_loop *loop = sw_loop_new();
    sw_tcp_lookup *r = NULL;
    int rfd = -1;
    assert_int_equal(sw_tcp_lookup_start("inverter.example", 8899, failing_lookup, &r, &rfd), SW_OK);
    assert_true(rfd >= 0);
    waiter w = { 0 };
    wait_lookup(loop, rfd, &w);
    int fd = -1;
    bool pending = false;
    assert_int_equal(sw_tcp_lookup_connect(r, &fd, &pending), SW_ERR_RESOLVE);
    assert_int_equal(fd, -1);
    assert_false(sw_tcp_lookup_has_next(r));
    sw_tcp_lookup_cancel(r, NULL);
    sw_loop_free(loop);
}

static void test_cancelled_lookup_cleans_up(void **state)
{
    (void)state;
    slow_ms = 200;
    int before = atomic_load(&lookups_done);
    sw_tcp_lookup *r = NULL;
    int rfd = -1;
    assert_int_equal(sw_tcp_lookup_start("localhost", 502, slow_lookup, &r, &rfd), SW_OK);
    assert_true(rfd >= 0);
    sw_loop *loop = sw_loop_new();
    waiter w = { 0 };
    assert_int_equal(sw_loop_add_fd(loop, rfd, SW_LOOP_READ, on_ready, &w), SW_OK);
    /* Give up while the thread is still waiting for its answer: the fd
     * leaves the loop with it. */
    sw_tcp_lookup_cancel(r, loop);
    sw_tcp_lookup_cancel(NULL, NULL);
    for (int i = 0; i < 250 && atomic_load(&lookups_done) == before; i++)
        sw_loop_run_once(loop, 10);
    assert_int_equal(atomic_load(&lookups_done), before + 1);
    for (int i = 0; i < 10; i++)
        sw_loop_run_once(loop, 10);
    assert_false(w.ready);
    sw_loop_free(loop);
    /* Let the thread write its byte and free the lookup; the leak check at
     * exit fails the test if it did not. */
    for (int i = 0; i < 100 && atomic_load(&lookups_running) > 0; i++)
        usleep(10000);
    usleep(50000);
}

/* Two addresses: 127.0.0.2 first, where nothing listens, then 127.0.0.1. */
static int two_addresses(const char *host, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    (void)host;
    struct addrinfo h = *hints, *a = NULL, *b = NULL;
    h.ai_family = AF_INET;
    h.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo("127.0.0.2", service, &h, &a) != 0)
        return EAI_FAIL;
    if (getaddrinfo("127.0.0.1", service, &h, &b) != 0) {
        freeaddrinfo(a);
        return EAI_FAIL;
    }
    struct addrinfo *end = a;
    while (end->ai_next)
        end = end->ai_next;
    end->ai_next = b;
    *res = a;
    atomic_fetch_add(&lookups_done, 1);
    return 0;
}

static void test_refused_address_falls_through_to_the_next(void **state)
{
    (void)state;
    uint16_t port = 0;
    int listener = listen_loopback(&port);
    sw_tcp_lookup *r = NULL;
    int rfd = -1;
    assert_int_equal(sw_tcp_lookup_start("bridge.example", port, two_addresses, &r, &rfd), SW_OK);
    assert_true(rfd >= 0);
    sw_loop *loop = sw_loop_new();
    waiter w = { 0 };
    wait_lookup(loop, rfd, &w);
    int attempts = 0, fd = -1;
    bool pending = false;
    for (;;) {
        assert_int_equal(sw_tcp_lookup_connect(r, &fd, &pending), SW_OK);
        attempts++;
        sw_err e = SW_OK;
        if (pending) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            assert_int_equal(poll(&p, 1, 5000), 1);
            e = sw_tcp_connect_finish(fd);
        }
        if (e == SW_OK)
            break;
        assert_int_equal(errno, ECONNREFUSED);
        close(fd);
        assert_true(sw_tcp_lookup_has_next(r));
    }
    assert_int_equal(attempts, 2);
    assert_false(sw_tcp_lookup_has_next(r));
    int peer = accept_peer(listener);
    close(peer);
    close(fd);
    /* Nothing left to try. */
    assert_int_equal(sw_tcp_lookup_connect(r, &fd, &pending), SW_ERR_CONNECT);
    sw_tcp_lookup_cancel(r, NULL);
    sw_loop_free(loop);
    close(listener);
}

/* The blocking connect: a literal address, then the same port refused once nothing listens. */
static void test_blocking_connect(void **state)
{
    (void)state;
    uint16_t port = 0;
    int listener = listen_loopback(&port);
    int fd = -1;
    assert_int_equal(sw_tcp_connect("127.0.0.1", port, 2000, &fd), SW_OK);
    int fl = fcntl(fd, F_GETFL);
    assert_int_equal(fl & O_NONBLOCK, 0); /* handed back blocking */
    close(fd);
    close(listener);
    fd = -1;
    assert_int_equal(sw_tcp_connect("127.0.0.1", port, 2000, &fd), SW_ERR_CONNECT);
    assert_int_equal(errno, ECONNREFUSED);
    assert_int_equal(fd, -1);
}


/* ---- the connector on the loop ---------------------------------------------------- */
typedef struct outcome {
    int calls;
    sw_err result;
    int err;
    int fd;
} outcome;

static void on_outcome(sw_tcp_connector *c, sw_err result, int fd, void *user)
{
    assert_non_null(c);
    outcome *o = user;
    o->calls++;
    o->result = result;
    o->err = errno;
    o->fd = fd;
}

static void run_until_outcome(sw_loop *loop, outcome *o)
{
    int64_t until = sw_loop_now_ms() + 5000;
    while (!o->calls && sw_loop_now_ms() < until)
        sw_loop_run_once(loop, 50);
    assert_int_equal(o->calls, 1);
}

/* A literal address, a name looked up slowly, and a refusal: each outcome comes once, from the loop. */
static void test_connector_on_the_loop(void **state)
{
    (void)state;
    sw_loop *loop = sw_loop_new();
    uint16_t port = 0;
    int listener = listen_loopback(&port);

    outcome o = { .fd = -1 };
    assert_int_equal(sw_tcp_connector_start(loop, "127.0.0.1", port, 2000, NULL, on_outcome, &o, NULL), SW_OK);
    assert_int_equal(o.calls, 0); /* never inside the start */
    run_until_outcome(loop, &o);
    assert_int_equal(o.result, SW_OK);
    assert_true(o.fd >= 0);
    assert_int_equal(fcntl(o.fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    int peer = accept_peer(listener);
    assert_int_equal(write(o.fd, "ok", 2), 2);
    char got[2] = { 0 };
    for (int i = 0; i < 500 && read(peer, got, 2) <= 0; i++)
        usleep(2000);
    assert_memory_equal(got, "ok", 2);
    close(peer);
    close(o.fd);

    /* A slow lookup: timers keep running meanwhile, the connect follows the answer. */
    slow_ms = 200;
    memset(&o, 0, sizeof o);
    waiter w = { 0 };
    uint64_t tick = sw_loop_add_timer(loop, 10, on_tick, &w);
    assert_int_equal(sw_tcp_connector_start(loop, "localhost", port, 2000, slow_lookup, on_outcome, &o, NULL), SW_OK);
    run_until_outcome(loop, &o);
    sw_loop_del_timer(loop, tick);
    assert_int_equal(o.result, SW_OK);
    assert_true(w.ticks >= 5);
    close(accept_peer(listener));
    close(o.fd);

    /* The lookup outlasts the deadline: reported as a failed lookup, errno ETIMEDOUT. */
    slow_ms = 1000;
    memset(&o, 0, sizeof o);
    assert_int_equal(sw_tcp_connector_start(loop, "localhost", port, 100, slow_lookup, on_outcome, &o, NULL), SW_OK);
    run_until_outcome(loop, &o);
    assert_int_equal(o.result, SW_ERR_RESOLVE);
    assert_int_equal(o.err, ETIMEDOUT);
    assert_int_equal(o.fd, -1);

    /* Nothing listens: refused. */
    close(listener);
    memset(&o, 0, sizeof o);
    assert_int_equal(sw_tcp_connector_start(loop, "127.0.0.1", port, 2000, NULL, on_outcome, &o, NULL), SW_OK);
    run_until_outcome(loop, &o);
    assert_int_equal(o.result, SW_ERR_CONNECT);
    assert_int_equal(o.err, ECONNREFUSED);
    assert_int_equal(o.fd, -1);

    /* A cancelled connect calls nothing and leaves nothing on the loop. */
    memset(&o, 0, sizeof o);
    sw_tcp_connector *c = NULL;
    assert_int_equal(sw_tcp_connector_start(loop, "127.0.0.1", port, 2000, NULL, on_outcome, &o, &c), SW_OK);
    sw_tcp_connector_cancel(c);
    for (int i = 0; i < 5; i++)
        sw_loop_run_once(loop, 10);
    assert_int_equal(o.calls, 0);
    /* Wait for the slow lookup threads above to finish before the test ends. */
    for (int i = 0; i < 500 && atomic_load(&lookups_running) > 0; i++)
        usleep(10000);
    sw_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_address_needs_no_lookup),
        cmocka_unit_test(test_name_looked_up_while_loop_runs),
        cmocka_unit_test(test_failed_lookup_is_reported),
        cmocka_unit_test(test_cancelled_lookup_cleans_up),
        cmocka_unit_test(test_refused_address_falls_through_to_the_next),
        cmocka_unit_test(test_blocking_connect),
        cmocka_unit_test(test_connector_on_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
