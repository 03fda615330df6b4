/*
 * The daemon's non-blocking connects: a host name is looked up on a thread
 * while the loop keeps running, a literal address needs no lookup, a failed
 * lookup is reported as such, and a lookup given up on cleans up after
 * itself (ASan's leak check runs at exit). Real sockets on 127.0.0.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/conn.h"
#include "sunwire/loop.h"
#include "sunwire/net.h"
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

/* Connect through a lookup to a listener on 127.0.0.1 and check the peer sees it. */
static void connect_and_accept(sw_daemon_resolver *r, int listener)
{
    int fd = -1;
    bool pending = false;
    assert_int_equal(sw_daemon_resolve_connect(r, &fd, &pending), SW_OK);
    assert_true(fd >= 0);
    int peer = -1;
    for (int i = 0; i < 500 && peer < 0; i++) {
        peer = accept(listener, NULL, NULL);
        if (peer < 0)
            usleep(2000);
    }
    assert_true(peer >= 0);
    if (pending) {
        for (int i = 0; i < 500; i++) {
            int err = 0;
            socklen_t len = sizeof err;
            assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
            assert_int_equal(err, 0);
            if (sw_daemon_connect_finish(fd) == SW_OK)
                break;
            usleep(2000);
        }
    }
    assert_int_equal(sw_daemon_connect_finish(fd), SW_OK);
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
    sw_daemon_getaddrinfo = slow_lookup;
    slow_ms = 0;
    int before = atomic_load(&lookups_done);
    sw_daemon_resolver *r = NULL;
    int rfd = 0;
    assert_int_equal(sw_daemon_resolve_start("127.0.0.1", port, &r, &rfd), SW_OK);
    assert_non_null(r);
    assert_int_equal(rfd, -1);
    connect_and_accept(r, listener);
    assert_int_equal(atomic_load(&lookups_done), before);
    sw_daemon_getaddrinfo = getaddrinfo;
    close(listener);
}

static void test_name_looked_up_while_loop_runs(void **state)
{
    (void)state;
    uint16_t port = 0;
    int listener = listen_loopback(&port);
    sw_daemon_getaddrinfo = slow_lookup;
    slow_ms = 300;
    sw_loop *loop = sw_loop_new();
    assert_non_null(loop);
    sw_daemon_resolver *r = NULL;
    int rfd = -1;
    int64_t t0 = sw_loop_now_ms();
    assert_int_equal(sw_daemon_resolve_start("localhost", port, &r, &rfd), SW_OK);
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
    sw_daemon_getaddrinfo = getaddrinfo;
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
    sw_daemon_getaddrinfo = failing_lookup;
    sw_loop *loop = sw_loop_new();
    sw_daemon_resolver *r = NULL;
    int rfd = -1;
    assert_int_equal(sw_daemon_resolve_start("inverter.example", 8899, &r, &rfd), SW_OK);
    assert_true(rfd >= 0);
    waiter w = { 0 };
    wait_lookup(loop, rfd, &w);
    int fd = -1;
    bool pending = false;
    assert_int_equal(sw_daemon_resolve_connect(r, &fd, &pending), SW_ERR_RESOLVE);
    assert_int_equal(fd, -1);
    sw_loop_free(loop);
    sw_daemon_getaddrinfo = getaddrinfo;
}

static void test_cancelled_lookup_cleans_up(void **state)
{
    (void)state;
    sw_daemon_getaddrinfo = slow_lookup;
    slow_ms = 200;
    int before = atomic_load(&lookups_done);
    sw_daemon_resolver *r = NULL;
    int rfd = -1;
    assert_int_equal(sw_daemon_resolve_start("localhost", 502, &r, &rfd), SW_OK);
    assert_true(rfd >= 0);
    sw_loop *loop = sw_loop_new();
    waiter w = { 0 };
    assert_int_equal(sw_loop_add_fd(loop, rfd, SW_LOOP_READ, on_ready, &w), SW_OK);
    /* Give up while the thread is still waiting for its answer: the fd
     * leaves the loop with it. */
    sw_daemon_resolve_cancel(r, loop);
    sw_daemon_resolve_cancel(NULL, NULL);
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
    sw_daemon_getaddrinfo = getaddrinfo;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_address_needs_no_lookup),
        cmocka_unit_test(test_name_looked_up_while_loop_runs),
        cmocka_unit_test(test_failed_lookup_is_reported),
        cmocka_unit_test(test_cancelled_lookup_cleans_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
