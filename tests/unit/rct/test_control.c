/*
 * Unit tests for src/rct/control.c: the write plan's rules, one at a time
 * (allow list, limits, rate limit, flash budget, one write at a time), the
 * bounded retries after a read-back that differs, and keep mode. Times are
 * made up: the plan never reads a clock. The saved state (export, import,
 * assume_spent) is tested with a made-up wall clock too.
 */
#include <math.h>
#include <string.h>

#include "rct/rct_control.h"
#include "sunwire/core.h"
#include "sunwire/rct.h"
#include "testutil.h"

#define MIN 60000

static void plan(sw_rct_control_plan *p, int retries, unsigned flash)
{
    sw_rct_control_config c;
    sw_rct_control_config_default(&c);
    c.min_interval_ms = MIN;
    c.retries = retries;
    c.flash_per_day = flash;
    sw_rct_control_plan_init(p, &c);
}

static void test_table_matches_registry(void **state)
{
    (void)state;
    assert_true(sw_rct_control_def_count() > 0);
    for (size_t i = 0; i < sw_rct_control_def_count(); i++) {
        const sw_rct_control_def *d = sw_rct_control_def_at(i);
        const sw_rct_object *o = sw_rct_registry_find_name(d->object);
        assert_non_null(o);
        assert_true(d->min < d->max);
        assert_true(d->scale > 0);
        /* The kind follows the registry's data type. */
        if (d->kind == SW_RCT_CONTROL_SELECT) {
            assert_int_equal(o->request_type, SW_RCT_TYPE_ENUM);
            assert_int_equal((double)d->n_options, d->max - d->min + 1);
        } else if (d->kind == SW_RCT_CONTROL_SWITCH) {
            assert_int_equal(o->request_type, SW_RCT_TYPE_BOOL);
        } else {
            assert_int_equal(o->request_type, SW_RCT_TYPE_FLOAT);
        }
        assert_ptr_equal(sw_rct_control_def_find(d->object), d);
    }
    assert_null(sw_rct_control_def_find("battery.soc"));
    assert_null(sw_rct_control_def_find("com_service"));
}

static void test_refusals(void **state)
{
    (void)state;
    sw_rct_control_plan p;
    plan(&p, 2, 24);
    /* Unknown, then known but not allowed. */
    assert_int_equal(sw_rct_control_request(&p, "battery.soc", 0.5, 0, 0), SW_ERR_RCT_UNKNOWN_OBJECT);
    assert_int_equal(sw_rct_control_allow(&p, "battery.soc"), SW_ERR_RCT_UNKNOWN_OBJECT);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.3, 0, 0), SW_ERR_RCT_CONTROL_NOT_ALLOWED);
    assert_int_equal(sw_rct_control_allow(&p, "power_mng.soc_min"), SW_OK);
    assert_int_equal(sw_rct_control_allow(&p, "power_mng.soc_strategy"), SW_OK);
    assert_int_equal(sw_rct_control_allow(&p, "power_mng.use_grid_power_enable"), SW_OK);
    /* Limits, at and beyond. */
    static const struct { const char *obj; double v; sw_err want; } cases[] = {
        { "power_mng.soc_min", 0.04, SW_ERR_RCT_CONTROL_OUT_OF_RANGE },
        { "power_mng.soc_min", 1.0001, SW_ERR_RCT_CONTROL_OUT_OF_RANGE },
        { "power_mng.soc_min", -1, SW_ERR_RCT_CONTROL_OUT_OF_RANGE },
        { "power_mng.soc_strategy", 6, SW_ERR_RCT_CONTROL_OUT_OF_RANGE },
        { "power_mng.soc_strategy", 2.5, SW_ERR_RCT_CONTROL_OUT_OF_RANGE },
        { "power_mng.soc_strategy", -1, SW_ERR_RCT_CONTROL_OUT_OF_RANGE },
        { "power_mng.use_grid_power_enable", 2, SW_ERR_RCT_CONTROL_OUT_OF_RANGE },
        { "power_mng.use_grid_power_enable", 0.5, SW_ERR_RCT_CONTROL_OUT_OF_RANGE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(sw_rct_control_request(&p, cases[i].obj, cases[i].v, 0, 0), cases[i].want);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", NAN, 0, 0), SW_ERR_RCT_WRITE_NOT_FINITE);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", INFINITY, 0, 0), SW_ERR_RCT_WRITE_NOT_FINITE);
    assert_false(p.busy);
    assert_int_equal(p.counters.refused, 12);
    /* The limits themselves pass; one write at a time. */
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.05, 0, 0), SW_OK);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_strategy", 5, 0, 0), SW_ERR_RCT_CONTROL_BUSY);
    sw_rct_control_result r;
    assert_int_equal(sw_rct_control_may_write(&p, 0), SW_OK);
    assert_int_equal(sw_rct_control_read_back(&p, 0.05), SW_RCT_CONTROL_STEP_DONE);
    sw_rct_control_finish(&p, &r);
    assert_int_equal(r.outcome, SW_RCT_CONTROL_VERIFIED);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_strategy", 5, 0, 1), SW_OK);
    sw_rct_control_finish(&p, &r); /* no read-back: failed */
    assert_int_equal(r.outcome, SW_RCT_CONTROL_FAILED);
}

static void test_rate_limit(void **state)
{
    (void)state;
    sw_rct_control_plan p;
    plan(&p, 0, 1000);
    sw_rct_control_allow(&p, "power_mng.soc_max");
    sw_rct_control_allow(&p, "power_mng.soc_min");
    sw_rct_control_result r;
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.9, 0, 1000), SW_OK);
    sw_rct_control_finish(&p, &r);
    /* Per object: the same one waits a full interval, another does not. */
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.8, 0, 1000 + MIN - 1),
                     SW_ERR_RCT_CONTROL_RATE_LIMITED);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.2, 0, 1001), SW_OK);
    sw_rct_control_finish(&p, &r);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.8, 0, 1000 + MIN), SW_OK);
    sw_rct_control_finish(&p, &r);
    /* A refused request does not restart the interval. */
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.7, 0, 1000 + 2 * MIN - 1),
                     SW_ERR_RCT_CONTROL_RATE_LIMITED);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.7, 0, 1000 + 2 * MIN), SW_OK);
}

static void test_retries_are_bounded(void **state)
{
    (void)state;
    for (int retries = 0; retries <= 3; retries++) {
        sw_rct_control_plan p;
        plan(&p, retries, 1000);
        sw_rct_control_allow(&p, "power_mng.battery_power_extern");
        assert_int_equal(sw_rct_control_request(&p, "power_mng.battery_power_extern", -2500, 0, 0), SW_OK);
        sw_rct_control_set_old(&p, 0);
        int writes = 0;
        sw_rct_control_step step = SW_RCT_CONTROL_STEP_WRITE;
        /* The device ignores every write: it keeps reading back 0. */
        while (step == SW_RCT_CONTROL_STEP_WRITE) {
            assert_int_equal(sw_rct_control_may_write(&p, writes), SW_OK);
            writes++;
            assert_true(writes <= 10);
            step = sw_rct_control_read_back(&p, 0);
        }
        assert_int_equal(writes, retries + 1);
        sw_rct_control_result r;
        sw_rct_control_finish(&p, &r);
        assert_int_equal(r.outcome, SW_RCT_CONTROL_FAILED);
        assert_int_equal(r.attempts, retries + 1);
        assert_true(r.have_old && r.have_back);
        assert_int_equal(p.counters.retries, (uint64_t)retries);
        assert_false(p.busy);
    }
    /* Ignored once, then taken: verified on the second write. */
    sw_rct_control_plan p;
    plan(&p, 2, 1000);
    sw_rct_control_allow(&p, "power_mng.soc_min");
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.3, 0, 0), SW_OK);
    assert_int_equal(sw_rct_control_may_write(&p, 0), SW_OK);
    assert_int_equal(sw_rct_control_read_back(&p, 0.07), SW_RCT_CONTROL_STEP_WRITE);
    assert_int_equal(sw_rct_control_may_write(&p, 0), SW_OK);
    /* The device stores float32: 0.3 comes back as 0.30000001192... and counts as equal. */
    assert_int_equal(sw_rct_control_read_back(&p, (double)0.3f), SW_RCT_CONTROL_STEP_DONE);
    sw_rct_control_result r;
    sw_rct_control_finish(&p, &r);
    assert_int_equal(r.outcome, SW_RCT_CONTROL_VERIFIED);
    assert_int_equal(r.attempts, 2);
}

static void test_flash_budget(void **state)
{
    (void)state;
    sw_rct_control_plan p;
    plan(&p, 5, 3);
    p.cfg.min_interval_ms = 0;
    sw_rct_control_allow(&p, "power_mng.soc_min");
    sw_rct_control_result r;
    /* Two verified writes, then one that needs two frames: the third frame is the last allowed. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.2 + 0.1 * i, 0, i), SW_OK);
        assert_int_equal(sw_rct_control_may_write(&p, i), SW_OK);
        sw_rct_control_read_back(&p, 0.2 + 0.1 * i);
        sw_rct_control_finish(&p, &r);
        assert_int_equal(r.outcome, SW_RCT_CONTROL_VERIFIED);
    }
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, 10), SW_OK);
    assert_int_equal(sw_rct_control_may_write(&p, 10), SW_OK);
    assert_int_equal(sw_rct_control_read_back(&p, 0.2), SW_RCT_CONTROL_STEP_WRITE);
    assert_int_equal(sw_rct_control_may_write(&p, 11), SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    sw_rct_control_finish(&p, &r);
    assert_int_equal(r.outcome, SW_RCT_CONTROL_FAILED);
    /* Used up for 24 hours, then free again. */
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, 12), SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, SW_RCT_CONTROL_FLASH_WINDOW_MS - 1),
                     SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, SW_RCT_CONTROL_FLASH_WINDOW_MS),
                     SW_OK);
}

static void test_keep(void **state)
{
    (void)state;
    sw_rct_control_plan p;
    plan(&p, 2, 24);
    assert_int_equal(sw_rct_control_keep(&p, "power_mng.soc_min", 2.0), SW_ERR_RCT_CONTROL_OUT_OF_RANGE);
    assert_int_equal(sw_rct_control_keep(&p, "battery.soc", 0.5), SW_ERR_RCT_UNKNOWN_OBJECT);
    assert_int_equal(sw_rct_control_keep(&p, "power_mng.soc_min", 0.3), SW_OK);
    double v = 0;
    /* Not allowed: keep does nothing. */
    assert_false(sw_rct_control_observe(&p, "power_mng.soc_min", 0.07, &v));
    sw_rct_control_allow(&p, "power_mng.soc_min");
    assert_false(sw_rct_control_observe(&p, "power_mng.soc_min", (double)0.3f, &v));
    assert_false(sw_rct_control_observe(&p, "power_mng.soc_max", 0.07, &v));
    assert_true(sw_rct_control_observe(&p, "power_mng.soc_min", 0.07, &v));
    assert_true(v == 0.3);
    /* The re-assert passes the same chain: rate limited like any write. */
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", v, SW_RCT_CONTROL_ORIGIN_KEEP, 0), SW_OK);
    assert_false(sw_rct_control_observe(&p, "power_mng.soc_min", 0.07, &v)); /* busy */
    sw_rct_control_result r;
    sw_rct_control_finish(&p, &r);
    assert_int_equal(r.origin, SW_RCT_CONTROL_ORIGIN_KEEP);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", v, SW_RCT_CONTROL_ORIGIN_KEEP, 10),
                     SW_ERR_RCT_CONTROL_RATE_LIMITED);
    assert_int_equal(p.counters.keeps, 1);
}

#define HOUR (3600LL * 1000)
/* A moment on each clock: the monotonic clock started at boot, the wall clock is Unix time. */
#define MONO0 (5 * HOUR)
#define WALL0 1780000000000LL

/* One verified write of object at mono (device value 0.5 suits every SoC control). */
static void one_write(sw_rct_control_plan *p, const char *object, int64_t mono)
{
    sw_rct_control_result r;
    assert_int_equal(sw_rct_control_request(p, object, 0.5, 0, mono), SW_OK);
    assert_int_equal(sw_rct_control_may_write(p, mono), SW_OK);
    sw_rct_control_read_back(p, 0.5);
    sw_rct_control_finish(p, &r);
    assert_int_equal(r.outcome, SW_RCT_CONTROL_VERIFIED);
}

static size_t slot_index(const sw_rct_control_plan *p, const char *object)
{
    const sw_rct_control_slot *s = sw_rct_control_slot_find(p, object);
    assert_non_null(s);
    return (size_t)(s - p->slots);
}

static void test_saved_state_survives_a_restart(void **state)
{
    (void)state;
    sw_rct_control_plan a, b;
    plan(&a, 0, 2);
    sw_rct_control_allow(&a, "power_mng.soc_min");
    size_t i = slot_index(&a, "power_mng.soc_min");
    one_write(&a, "power_mng.soc_min", MONO0 - 2 * HOUR);
    one_write(&a, "power_mng.soc_min", MONO0 - 30000);
    sw_rct_control_saved sv;
    assert_int_equal(sw_rct_control_export(&a, i, MONO0, WALL0, &sv), SW_OK);
    assert_true(sv.have_last);
    assert_int_equal(sv.last_wall_ms, WALL0 - 30000);
    assert_int_equal(sv.flash_writes, 2);
    assert_int_equal(sv.flash_start_wall_ms, WALL0 - 2 * HOUR);
    /* A slot never written exports nothing. */
    sw_rct_control_saved none;
    assert_int_equal(sw_rct_control_export(&a, slot_index(&a, "power_mng.soc_max"), MONO0, WALL0, &none), SW_OK);
    assert_false(none.have_last);
    assert_int_equal(none.flash_writes, 0);
    assert_int_equal(sw_rct_control_export(&a, a.n_slots, MONO0, WALL0, &sv), SW_ERR_INVALID_ARGUMENT);

    /* Restarted 10 s later on the wall clock; the new process's monotonic clock starts low. */
    int64_t mono1 = 1000, wall1 = WALL0 + 10000;
    plan(&b, 0, 2);
    sw_rct_control_allow(&b, "power_mng.soc_min");
    assert_int_equal(sw_rct_control_import(&b, i, &sv, mono1, wall1), SW_OK);
    assert_true(b.slots[i].have_last);
    assert_int_equal(b.slots[i].last_ms, mono1 - 40000);
    assert_int_equal(b.slots[i].flash_start_ms, mono1 - 10000 - 2 * HOUR);
    /* 40 s after the last write: rate limited until 60 s. */
    assert_int_equal(sw_rct_control_request(&b, "power_mng.soc_min", 0.4, 0, mono1),
                     SW_ERR_RCT_CONTROL_RATE_LIMITED);
    /* Then the budget of 2 is used up until the window that began 2 h before the stop ends. */
    assert_int_equal(sw_rct_control_request(&b, "power_mng.soc_min", 0.4, 0, mono1 + 20000),
                     SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    int64_t window_end = mono1 - 10000 - 2 * HOUR + SW_RCT_CONTROL_FLASH_WINDOW_MS;
    assert_int_equal(sw_rct_control_request(&b, "power_mng.soc_min", 0.4, 0, window_end - 1),
                     SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    assert_int_equal(sw_rct_control_request(&b, "power_mng.soc_min", 0.4, 0, window_end), SW_OK);
    assert_int_equal(sw_rct_control_import(&b, b.n_slots, &sv, mono1, wall1), SW_ERR_INVALID_ARGUMENT);
}

static void test_saved_state_in_the_future_counts_as_now(void **state)
{
    (void)state;
    /* The wall clock went back an hour: the saved write seems to lie ahead. */
    sw_rct_control_saved sv = { true, WALL0 + HOUR, 2, WALL0 + HOUR };
    sw_rct_control_plan p;
    plan(&p, 0, 2);
    sw_rct_control_allow(&p, "power_mng.soc_max");
    size_t i = slot_index(&p, "power_mng.soc_max");
    assert_int_equal(sw_rct_control_import(&p, i, &sv, MONO0, WALL0), SW_OK);
    assert_int_equal(p.slots[i].last_ms, MONO0);
    assert_int_equal(p.slots[i].flash_start_ms, MONO0);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.9, 0, MONO0 + MIN - 1),
                     SW_ERR_RCT_CONTROL_RATE_LIMITED);
    /* Not an hour longer than a window from now, and not shorter either. */
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.9, 0, MONO0 + MIN),
                     SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.9, 0,
                                            MONO0 + SW_RCT_CONTROL_FLASH_WINDOW_MS - 1),
                     SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_max", 0.9, 0, MONO0 + SW_RCT_CONTROL_FLASH_WINDOW_MS),
                     SW_OK);
}

static void test_saved_window_expired_while_stopped(void **state)
{
    (void)state;
    /* Budget used up, stopped for 25 h: the window is over, the budget is whole again. */
    sw_rct_control_saved sv = { true, WALL0 - 25 * HOUR, 2, WALL0 - 26 * HOUR };
    sw_rct_control_plan p;
    plan(&p, 0, 2);
    sw_rct_control_allow(&p, "power_mng.soc_min");
    size_t i = slot_index(&p, "power_mng.soc_min");
    assert_int_equal(sw_rct_control_import(&p, i, &sv, MONO0, WALL0), SW_OK);
    assert_int_equal(p.slots[i].flash_writes, 0);
    assert_int_equal(p.slots[i].last_ms, MONO0 - 25 * HOUR);
    one_write(&p, "power_mng.soc_min", MONO0);
    one_write(&p, "power_mng.soc_min", MONO0 + MIN);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.4, 0, MONO0 + 2 * MIN),
                     SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    /* A time from long ago (or a nonsense one) is only "long ago": no overflow. */
    sw_rct_control_saved old = { true, INT64_MIN, 5, INT64_MIN };
    plan(&p, 0, 2);
    sw_rct_control_allow(&p, "power_mng.soc_min");
    assert_int_equal(sw_rct_control_import(&p, i, &old, MONO0, WALL0), SW_OK);
    assert_int_equal(p.slots[i].flash_writes, 0);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.4, 0, MONO0), SW_OK);
}

static void test_assume_spent(void **state)
{
    (void)state;
    sw_rct_control_plan p;
    plan(&p, 0, 3);
    for (size_t i = 0; i < sw_rct_control_def_count(); i++)
        sw_rct_control_allow(&p, sw_rct_control_def_at(i)->object);
    sw_rct_control_assume_spent(&p, MONO0);
    for (size_t i = 0; i < sw_rct_control_def_count(); i++) {
        const char *o = sw_rct_control_def_at(i)->object;
        double v = sw_rct_control_def_at(i)->min; /* within the limits of every kind */
        /* Blocked as such, before the rate limit and the spent budget say no. */
        assert_int_equal(sw_rct_control_request(&p, o, v, 0, MONO0), SW_ERR_RCT_CONTROL_BLOCKED);
        assert_int_equal(sw_rct_control_request(&p, o, v, 0, MONO0 + SW_RCT_CONTROL_FLASH_WINDOW_MS - 1),
                         SW_ERR_RCT_CONTROL_BLOCKED);
    }
    /* The chain's earlier rules still come first. */
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 2.0, 0, MONO0), SW_ERR_RCT_CONTROL_OUT_OF_RANGE);
    int64_t until = 0;
    assert_true(sw_rct_control_blocked(&p, MONO0 + 1, &until));
    assert_int_equal(until, MONO0 + SW_RCT_CONTROL_FLASH_WINDOW_MS);
    assert_false(sw_rct_control_blocked(&p, until, &until));
    assert_int_equal(until, 0);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, MONO0 + SW_RCT_CONTROL_FLASH_WINDOW_MS),
                     SW_OK);
}

/* A block taken back after a restart: the later end wins; a write in progress cannot send a frame. */
static void test_block(void **state)
{
    (void)state;
    sw_rct_control_plan p;
    plan(&p, 2, 24);
    sw_rct_control_allow(&p, "power_mng.soc_min");
    assert_false(sw_rct_control_blocked(&p, MONO0, NULL));
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, MONO0), SW_OK);
    sw_rct_control_block(&p, MONO0 + HOUR);
    sw_rct_control_block(&p, MONO0 + 10); /* an earlier end does not shorten it */
    assert_int_equal(sw_rct_control_may_write(&p, MONO0 + 1), SW_ERR_RCT_CONTROL_BLOCKED);
    sw_rct_control_result r;
    sw_rct_control_finish(&p, &r);
    assert_int_equal(r.outcome, SW_RCT_CONTROL_FAILED);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, MONO0 + HOUR - 1),
                     SW_ERR_RCT_CONTROL_BLOCKED);
    /* Blocked with budget left: the status says blocked until the block ends. */
    sw_rct_control_status st;
    assert_int_equal(sw_rct_control_status_at(&p, slot_index(&p, "power_mng.soc_min"), MONO0 + 5, &st), SW_OK);
    assert_true(st.blocked);
    assert_int_equal(st.flash_left, 24);
    assert_int_equal(st.until_ms, MONO0 + HOUR);
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, MONO0 + HOUR), SW_OK);
}

/* What the outputs show: the budget left, and a block with its end, from the first frame of a window. */
static void test_status(void **state)
{
    (void)state;
    sw_rct_control_plan p;
    plan(&p, 0, 2);
    p.cfg.min_interval_ms = 0;
    sw_rct_control_allow(&p, "power_mng.soc_min");
    size_t i = slot_index(&p, "power_mng.soc_min");
    sw_rct_control_status st;
    assert_int_equal(sw_rct_control_status_at(&p, p.n_slots, MONO0, &st), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_rct_control_status_at(&p, i, MONO0, &st), SW_OK);
    assert_int_equal(st.flash_left, 2);
    assert_false(st.blocked);
    assert_int_equal(st.until_ms, 0);
    one_write(&p, "power_mng.soc_min", MONO0);
    assert_int_equal(sw_rct_control_status_at(&p, i, MONO0 + 1, &st), SW_OK);
    assert_int_equal(st.flash_left, 1);
    assert_false(st.blocked);
    assert_int_equal(st.until_ms, MONO0 + SW_RCT_CONTROL_FLASH_WINDOW_MS);
    one_write(&p, "power_mng.soc_min", MONO0 + HOUR);
    assert_int_equal(sw_rct_control_status_at(&p, i, MONO0 + HOUR, &st), SW_OK);
    assert_int_equal(st.flash_left, 0);
    assert_true(st.blocked);
    assert_int_equal(st.until_ms, MONO0 + SW_RCT_CONTROL_FLASH_WINDOW_MS); /* the window's, not the last write's */
    /* The plan refuses exactly while the status says blocked. */
    assert_int_equal(sw_rct_control_request(&p, "power_mng.soc_min", 0.5, 0, st.until_ms - 1),
                     SW_ERR_RCT_CONTROL_FLASH_BUDGET);
    assert_int_equal(sw_rct_control_status_at(&p, i, st.until_ms, &st), SW_OK);
    assert_int_equal(st.flash_left, 2);
    assert_false(st.blocked);
    assert_int_equal(st.until_ms, 0);
    /* A corrupt state file: every slot blocked for a whole window from now. */
    sw_rct_control_assume_spent(&p, MONO0 + 2 * SW_RCT_CONTROL_FLASH_WINDOW_MS);
    assert_int_equal(sw_rct_control_status_at(&p, slot_index(&p, "power_mng.soc_max"),
                                              MONO0 + 2 * SW_RCT_CONTROL_FLASH_WINDOW_MS, &st), SW_OK);
    assert_true(st.blocked);
    assert_int_equal(st.flash_left, 0);
    assert_int_equal(st.until_ms, MONO0 + 3 * SW_RCT_CONTROL_FLASH_WINDOW_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_registry),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_retries_are_bounded),
        cmocka_unit_test(test_flash_budget),
        cmocka_unit_test(test_keep),
        cmocka_unit_test(test_saved_state_survives_a_restart),
        cmocka_unit_test(test_saved_state_in_the_future_counts_as_now),
        cmocka_unit_test(test_saved_window_expired_while_stopped),
        cmocka_unit_test(test_assume_spent),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
