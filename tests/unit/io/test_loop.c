/* Unit tests for the event loop: fds, timers, deletion from callbacks, no busy waiting. */
#include <unistd.h>

#include "sunwire/loop.h"
#include "testutil.h"

struct counts {
    int fired;
    int reads;
    uint64_t other_timer;
    int fd;
};

static int64_t once(sw_loop *l, uint64_t id, void *user)
{
    (void)l; (void)id;
    ((struct counts *)user)->fired++;
    return -1;
}

static int64_t stop_after_three(sw_loop *l, uint64_t id, void *user)
{
    (void)id;
    struct counts *c = user;
    if (++c->fired == 3) {
        sw_loop_stop(l);
        return -1;
    }
    return 10;
}

static void test_timers_repeat_and_stop(void **state)
{
    (void)state;
    sw_loop *l = sw_loop_new();
    struct counts c = { 0 };
    assert_int_not_equal(sw_loop_add_timer(l, 5, stop_after_three, &c), 0);
    int64_t t0 = sw_loop_now_ms();
    assert_int_equal(sw_loop_run(l), SW_OK);
    assert_int_equal(c.fired, 3);
    assert_true(sw_loop_now_ms() - t0 >= 25); /* 5 + 10 + 10 ms at least */
    sw_loop_free(l);
}

static int64_t delete_other(sw_loop *l, uint64_t id, void *user)
{
    (void)id;
    struct counts *c = user;
    sw_loop_del_timer(l, c->other_timer);
    sw_loop_stop(l);
    return -1;
}

static void test_delete_from_callback(void **state)
{
    (void)state;
    sw_loop *l = sw_loop_new();
    struct counts c = { 0 };
    struct counts victim = { 0 };
    sw_loop_add_timer(l, 1, delete_other, &c);
    c.other_timer = sw_loop_add_timer(l, 1, once, &victim);
    usleep(3000); /* both due in the same iteration */
    assert_int_equal(sw_loop_run(l), SW_OK);
    assert_int_equal(victim.fired, 0);
    sw_loop_free(l);
}

static void on_read(sw_loop *l, int fd, int events, void *user)
{
    struct counts *c = user;
    assert_true(events & SW_LOOP_READ);
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        sw_loop_del_fd(l, fd);
        sw_loop_stop(l);
        return;
    }
    c->reads += (int)n;
}

static void test_fd_read_and_eof(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    sw_loop *l = sw_loop_new();
    struct counts c = { 0 };
    assert_int_equal(sw_loop_add_fd(l, p[0], SW_LOOP_READ, on_read, &c), SW_OK);
    assert_int_equal(write(p[1], "hello", 5), 5);
    assert_int_equal(sw_loop_run_once(l, 1000), SW_OK);
    assert_int_equal(c.reads, 5);
    close(p[1]);
    assert_int_equal(sw_loop_run(l), SW_OK); /* EOF stops it */
    assert_true(sw_loop_stopped(l));
    close(p[0]);
    sw_loop_free(l);
}

static void test_idle_loop_sleeps(void **state)
{
    (void)state;
    /* With one 300 ms timer and an idle fd, the loop must sleep: a few wakeups, not thousands. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct counts c = { 0 };
    sw_loop *l = sw_loop_new();
    sw_loop_add_fd(l, p[0], SW_LOOP_READ, on_read, &c);
    struct counts t = { 0 };
    sw_loop_add_timer(l, 300, once, &t);
    int64_t t0 = sw_loop_now_ms();
    while (t.fired == 0)
        assert_int_equal(sw_loop_run_once(l, -1), SW_OK);
    assert_true(sw_loop_now_ms() - t0 >= 300);
    assert_true(sw_loop_wakeups(l) <= 3);
    close(p[0]);
    close(p[1]);
    sw_loop_free(l);
}

static void test_capacity(void **state)
{
    (void)state;
    sw_loop *l = sw_loop_new();
    struct counts c = { 0 };
    for (int i = 0; i < SW_LOOP_MAX_TIMERS; i++)
        assert_int_not_equal(sw_loop_add_timer(l, 1000, once, &c), 0);
    assert_int_equal(sw_loop_add_timer(l, 1000, once, &c), 0);
    assert_int_equal(sw_loop_add_fd(l, -1, SW_LOOP_READ, on_read, &c), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_loop_set_fd_events(l, 12345, SW_LOOP_READ), SW_ERR_NOT_FOUND);
    sw_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_repeat_and_stop),
        cmocka_unit_test(test_delete_from_callback),
        cmocka_unit_test(test_fd_read_and_eof),
        cmocka_unit_test(test_idle_loop_sleeps),
        cmocka_unit_test(test_capacity),
    };
    return cmocka_run_group_tests_name("io/loop", tests, NULL, NULL);
}
