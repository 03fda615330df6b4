/*
 * The reconnect state machine shared by the CLI sources and the daemon's
 * Tigo buses, driven with made-up times: pauses, backoff, idle drops and
 * the retry limit with taptap's counting (failed opens and idle drops count,
 * closed sessions do not, data starts the count over).
 */
#include <string.h>

#include "io/io_source.h"
#include "sunwire/loop.h"
#include "testutil.h"

static sw_reconnect make(int64_t delay, int64_t max, int64_t idle, uint32_t limit)
{
    sw_reconnect_config c = { .delay_ms = delay, .max_delay_ms = max, .idle_ms = idle, .retry_limit = limit };
    sw_reconnect r;
    sw_reconnect_init(&r, &c);
    return r;
}

static void test_fixed_pause_and_retry_limit(void **state)
{
    (void)state;
    sw_reconnect r = make(5000, 0, 0, 2);
    assert_int_equal(sw_reconnect_next_ms(&r), -1);
    assert_int_equal(sw_reconnect_tick(&r, 0), SW_RECONNECT_OPEN); /* not started: open at once */
    /* Two failed opens are retried after the fixed pause; the third gives up. */
    for (int i = 1; i <= 2; i++) {
        int64_t t = i * 100000;
        assert_int_equal(sw_reconnect_open_failed(&r, t), SW_RECONNECT_NONE);
        assert_int_equal(r.retries, (uint32_t)i);
        assert_int_equal(sw_reconnect_next_ms(&r), t + 5000);
        assert_int_equal(sw_reconnect_tick(&r, t + 4999), SW_RECONNECT_NONE);
        assert_int_equal(sw_reconnect_tick(&r, t + 5000), SW_RECONNECT_OPEN);
        assert_int_equal(r.state, SW_RECONNECT_OPENING);
    }
    assert_int_equal(sw_reconnect_open_failed(&r, 900000), SW_RECONNECT_GIVE_UP_OPEN);
    assert_int_equal(r.state, SW_RECONNECT_GAVE_UP);
    assert_int_equal(sw_reconnect_tick(&r, 10000000), SW_RECONNECT_NONE);
    assert_int_equal(sw_reconnect_start(&r, 10000000), SW_RECONNECT_NONE);
}

static void test_closed_sessions_do_not_count_data_resets(void **state)
{
    (void)state;
    sw_reconnect r = make(1000, 0, 0, 1);
    sw_reconnect_start(&r, 0);
    assert_int_equal(sw_reconnect_open_failed(&r, 10), SW_RECONNECT_NONE);
    assert_int_equal(sw_reconnect_tick(&r, 1010), SW_RECONNECT_OPEN);
    sw_reconnect_opened(&r, 1020);
    /* A session closed by the peer is reopened however often it happens. */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sw_reconnect_lost(&r, 2000 + i * 5000, false), SW_RECONNECT_NONE);
        assert_int_equal(sw_reconnect_tick(&r, 3000 + i * 5000), SW_RECONNECT_OPEN);
        sw_reconnect_opened(&r, 3000 + i * 5000);
    }
    assert_int_equal(r.retries, 1); /* the failed open still counts... */
    sw_reconnect_data(&r, 40000);
    assert_int_equal(r.retries, 0); /* ...until data comes */
    assert_int_equal(r.failures, 0);
    assert_int_equal(sw_reconnect_lost(&r, 41000, false), SW_RECONNECT_NONE);
    sw_reconnect_tick(&r, 42000);
    assert_int_equal(sw_reconnect_open_failed(&r, 42001), SW_RECONNECT_NONE); /* 1 of 1 */
    sw_reconnect_tick(&r, 43001);
    assert_int_equal(sw_reconnect_open_failed(&r, 43002), SW_RECONNECT_GIVE_UP_OPEN);
}

static void test_idle_drop(void **state)
{
    (void)state;
    sw_reconnect r = make(500, 0, 60000, 1);
    sw_reconnect_start(&r, 0);
    sw_reconnect_opened(&r, 1000);
    assert_int_equal(sw_reconnect_next_ms(&r), 61000); /* counted from the open */
    assert_int_equal(sw_reconnect_tick(&r, 60999), SW_RECONNECT_NONE);
    sw_reconnect_data(&r, 30000);
    assert_int_equal(sw_reconnect_next_ms(&r), 90000);
    assert_int_equal(sw_reconnect_tick(&r, 89999), SW_RECONNECT_NONE);
    assert_int_equal(sw_reconnect_tick(&r, 90000), SW_RECONNECT_DROP);
    assert_int_equal(r.state, SW_RECONNECT_UP); /* the caller closes, then reports */
    assert_int_equal(sw_reconnect_lost(&r, 90000, true), SW_RECONNECT_NONE);
    assert_int_equal(sw_reconnect_next_ms(&r), 90500);
    assert_int_equal(sw_reconnect_tick(&r, 90500), SW_RECONNECT_OPEN);
    sw_reconnect_opened(&r, 90600);
    /* A second idle drop in a row exceeds the limit of one. */
    assert_int_equal(sw_reconnect_tick(&r, 150600), SW_RECONNECT_DROP);
    assert_int_equal(sw_reconnect_lost(&r, 150600, true), SW_RECONNECT_GIVE_UP_IDLE);

    /* Without an idle limit a silent session is never dropped. */
    sw_reconnect q = make(500, 0, 0, 0);
    sw_reconnect_start(&q, 0);
    sw_reconnect_opened(&q, 0);
    assert_int_equal(sw_reconnect_next_ms(&q), -1);
    assert_int_equal(sw_reconnect_tick(&q, INT64_C(1) << 50), SW_RECONNECT_NONE);
}

static void test_backoff_doubles_to_the_cap(void **state)
{
    (void)state;
    sw_reconnect r = make(1000, 30000, 0, 0);
    sw_reconnect_start(&r, 0);
    static const int64_t want[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };
    int64_t t = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(sw_reconnect_open_failed(&r, t), SW_RECONNECT_NONE); /* limit 0: never gives up */
        assert_int_equal(r.delay_ms, want[i]);
        assert_int_equal(sw_reconnect_next_ms(&r), t + want[i]);
        t += want[i];
        assert_int_equal(sw_reconnect_tick(&r, t), SW_RECONNECT_OPEN);
    }
    /* Data resets the backoff: the next failure pauses the base delay again. */
    sw_reconnect_opened(&r, t);
    sw_reconnect_data(&r, t + 1);
    assert_int_equal(sw_reconnect_lost(&r, t + 2, false), SW_RECONNECT_NONE);
    assert_int_equal(r.delay_ms, 1000);
    /* A copy carries on where the original was. */
    sw_reconnect copy;
    memcpy(&copy, &r, sizeof r);
    assert_int_equal(sw_reconnect_tick(&copy, t + 1002), SW_RECONNECT_OPEN);
    /* Zero delay: reopen at once. */
    sw_reconnect z = make(0, 0, 0, 0);
    sw_reconnect_start(&z, 5);
    sw_reconnect_open_failed(&z, 7);
    assert_int_equal(sw_reconnect_next_ms(&z), 7);
    assert_int_equal(sw_reconnect_tick(&z, 7), SW_RECONNECT_OPEN);
}

/* ---- the timer on a real loop ---------------------------------------------- */

typedef struct heard {
    int opens, drops;
    int64_t at_ms;
} heard;

static int on_heard(sw_reconnect_timer *t, sw_reconnect_action a, void *user)
{
    heard *h = user;
    assert_non_null(t);
    if (a == SW_RECONNECT_OPEN)
        h->opens++;
    else if (a == SW_RECONNECT_DROP)
        h->drops++;
    else
        fail_msg("told %d, which asks for nothing", (int)a);
    h->at_ms = sw_loop_now_ms();
    return 0;
}

/* Run the loop until the owner hears something or max_ms pass. */
static void run_until_heard(sw_loop *loop, heard *h, int64_t max_ms)
{
    int before = h->opens + h->drops;
    int64_t end = sw_loop_now_ms() + max_ms;
    while (h->opens + h->drops == before && sw_loop_now_ms() < end)
        assert_int_equal(sw_loop_run_once(loop, end - sw_loop_now_ms()), SW_OK);
}

static void test_timer_reopens_after_the_pause_and_drops_a_silent_session(void **state)
{
    (void)state;
    sw_loop *loop = sw_loop_new();
    assert_non_null(loop);
    heard h = { 0 };
    sw_reconnect_config c = { .delay_ms = 40, .idle_ms = 60 };
    sw_reconnect_timer t;
    sw_reconnect_timer_init(&t, loop, &c, on_heard, &h);
    assert_int_equal(sw_reconnect_start(&t.rc, sw_loop_now_ms()), SW_RECONNECT_OPEN);
    sw_reconnect_timer_arm(&t); /* opening: nothing to wait for */
    assert_int_equal(sw_loop_run_once(loop, 80), SW_OK);
    assert_int_equal(h.opens + h.drops, 0);

    /* A failed open: OPEN comes once the pause is over, not before. */
    int64_t failed = sw_loop_now_ms();
    sw_reconnect_open_failed(&t.rc, failed);
    sw_reconnect_timer_arm(&t);
    run_until_heard(loop, &h, 1000);
    assert_int_equal(h.opens, 1);
    assert_true(h.at_ms - failed >= 40);

    /* Open; data at 30 ms moves the idle limit, so DROP comes 60 ms after it. */
    sw_reconnect_opened(&t.rc, sw_loop_now_ms());
    sw_reconnect_timer_arm(&t);
    int64_t until = sw_loop_now_ms() + 30;
    while (sw_loop_now_ms() < until)
        assert_int_equal(sw_loop_run_once(loop, until - sw_loop_now_ms()), SW_OK);
    assert_int_equal(h.drops, 0);
    int64_t data = sw_loop_now_ms();
    sw_reconnect_data(&t.rc, data);
    run_until_heard(loop, &h, 1000);
    assert_int_equal(h.drops, 1);
    assert_true(h.at_ms - data >= 60);
    assert_int_equal(h.opens, 1);

    /* Stopped, it tells nothing more. */
    sw_reconnect_lost(&t.rc, sw_loop_now_ms(), true);
    sw_reconnect_timer_arm(&t);
    sw_reconnect_timer_stop(&t);
    assert_int_equal(sw_loop_run_once(loop, 100), SW_OK);
    assert_int_equal(h.opens + h.drops, 2);
    sw_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_pause_and_retry_limit),
        cmocka_unit_test(test_closed_sessions_do_not_count_data_resets),
        cmocka_unit_test(test_idle_drop),
        cmocka_unit_test(test_backoff_doubles_to_the_cap),
        cmocka_unit_test(test_timer_reopens_after_the_pause_and_drops_a_silent_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
