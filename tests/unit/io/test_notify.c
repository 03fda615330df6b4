/*
 * The service manager's notify protocol against a real unix datagram socket:
 * path and abstract socket names, datagrams arriving whole, names that are no
 * socket address refused, no socket = nothing sent, and the watchdog period
 * from WATCHDOG_USEC, ignored when WATCHDOG_PID names another process.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/notify.h"
#include "testutil.h"

/* A bound datagram socket standing in for systemd; name as NOTIFY_SOCKET spells it. */
static int manager(char *name, size_t cap, int abstract)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    socklen_t len;
    if (abstract) {
        snprintf(name, cap, "@sunwire-test-notify-%ld", (long)getpid());
        memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
    } else {
        snprintf(name, cap, "/tmp/sunwire-test-notify-%ld", (long)getpid());
        unlink(name);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", name);
        len = (socklen_t)sizeof sa;
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
    return fd;
}

static void expect(int fd, const char *want)
{
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    assert_true(n >= 0);
    buf[n] = 0;
    assert_string_equal(buf, want);
}

static void round_trip(int abstract)
{
    char name[108];
    int fd = manager(name, sizeof name, abstract);
    setenv("NOTIFY_SOCKET", name, 1);
    sw_notify n;
    assert_int_equal(sw_notify_open(&n), SW_OK);
    assert_true(n.fd >= 0);
    assert_int_equal(sw_notify_send(&n, "READY=1\nSTATUS=up"), SW_OK);
    assert_int_equal(sw_notify_send(&n, "WATCHDOG=1"), SW_OK);
    expect(fd, "READY=1\nSTATUS=up");
    expect(fd, "WATCHDOG=1");
    sw_notify_close(&n);
    assert_int_equal(n.fd, -1);
    close(fd);
    if (!abstract)
        unlink(name);
    unsetenv("NOTIFY_SOCKET");
}

static void test_path_socket(void **state)
{
    (void)state;
    round_trip(0);
}

static void test_abstract_socket(void **state)
{
    (void)state;
    round_trip(1);
}

static void test_gone_manager_is_an_error(void **state)
{
    (void)state;
    char name[108];
    int fd = manager(name, sizeof name, 0);
    setenv("NOTIFY_SOCKET", name, 1);
    sw_notify n;
    assert_int_equal(sw_notify_open(&n), SW_OK);
    close(fd);
    unlink(name);
    assert_int_equal(sw_notify_send(&n, "READY=1"), SW_ERR_IO);
    sw_notify_close(&n);
    unsetenv("NOTIFY_SOCKET");
}

static void test_no_socket_sends_nothing(void **state)
{
    (void)state;
    sw_notify n;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(sw_notify_open(&n), SW_OK);
    assert_int_equal(n.fd, -1);
    assert_int_equal(sw_notify_send(&n, "READY=1"), SW_OK);
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(sw_notify_open(&n), SW_OK);
    assert_int_equal(n.fd, -1);
    /* Not a socket address: relative, or longer than sun_path holds. */
    setenv("NOTIFY_SOCKET", "run/notify", 1);
    assert_int_equal(sw_notify_open(&n), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(n.fd, -1);
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = 0;
    setenv("NOTIFY_SOCKET", longname, 1);
    assert_int_equal(sw_notify_open(&n), SW_ERR_INVALID_ARGUMENT);
    unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_period(void **state)
{
    (void)state;
    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(sw_notify_watchdog_ms(), 0);
    setenv("WATCHDOG_USEC", "30000000", 1);
    assert_int_equal(sw_notify_watchdog_ms(), 30000);
    setenv("WATCHDOG_USEC", "500", 1); /* under a millisecond still asks for feeding */
    assert_int_equal(sw_notify_watchdog_ms(), 1);
    setenv("WATCHDOG_USEC", "0", 1);
    assert_int_equal(sw_notify_watchdog_ms(), 0);
    setenv("WATCHDOG_USEC", "12x", 1);
    assert_int_equal(sw_notify_watchdog_ms(), 0);
    setenv("WATCHDOG_USEC", "2000000", 1);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(sw_notify_watchdog_ms(), 2000);
    snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(sw_notify_watchdog_ms(), 0);
    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_socket),
        cmocka_unit_test(test_abstract_socket),
        cmocka_unit_test(test_gone_manager_is_an_error),
        cmocka_unit_test(test_no_socket_sends_nothing),
        cmocka_unit_test(test_watchdog_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
