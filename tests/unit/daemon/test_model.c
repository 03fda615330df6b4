/*
 * Unit tests for the daemon's model: energy integration against analytic
 * integrals, the gap guard, restarts, local midnight, aggregates, night
 * handling, sink notifications and the backoff schedule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_internal.h"
#include "daemon/daemon.h"
#include "testutil.h"

#define S INT64_C(1000000000)

/* This cmocka has no double assertion: compare with a tolerance and show both values on failure. */
#define assert_near(got, want, eps) near_((got), (want), (eps), __FILE__, __LINE__)
static void near_(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("%s:%d: got %.17g, want %.17g (+- %g)\n", file, line, got, want, eps);
        fail();
    }
}
/* 2026-06-01T00:00:00Z: a summer day, far from any DST switch. */
#define T0 INT64_C(1780272000000000000)

static sw_model *new_model(int64_t gap_s, int64_t stale_s, sw_night_mode mode)
{
    sw_model_options o;
    sw_model_options_defaults(&o);
    o.energy_gap_ns = gap_s * S;
    o.stale_timeout_ns = stale_s * S;
    o.night_mode = mode;
    sw_model *m = sw_model_new(&o);
    assert_non_null(m);
    return m;
}

/* A report whose power is exactly `watts` (voltage 40 V, current watts/40 A). */
static void report(sw_model *m, uint16_t node, int64_t t, double watts)
{
    sw_panel_report r;
    memset(&r, 0, sizeof r);
    r.time_ns = t;
    r.voltage_in = 40.0;
    r.current_in = watts / 40.0;
    r.voltage_out = 39.0;
    r.duty_cycle = 1.0;
    r.temperature_c = 25.0;
    r.rssi = 120;
    assert_int_equal(sw_model_panel_report(m, "bus", 4609, node, &r), SW_OK);
}

static const sw_panel *panel(sw_model *m, uint16_t node)
{
    const sw_panel *p = sw_model_panel_find(m, "bus", 4609, node);
    assert_non_null(p);
    return p;
}

/* ---- energy against analytic integrals -------------------------------------------------- */
static void test_energy_constant(void **state)
{
    (void)state;
    sw_model *m = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    /* 250 W for one hour, a report every 10 s: exactly 250 Wh. */
    for (int64_t k = 0; k <= 360; k++)
        report(m, 2, T0 + 6 * 3600 * S + k * 10 * S, 250.0);
    assert_near(panel(m, 2)->energy_total_wh, 250.0, 1e-9);
    assert_near(panel(m, 2)->energy_today_wh, 250.0, 1e-9);
    sw_model_free(m);
}

static void test_energy_ramp(void **state)
{
    (void)state;
    sw_model *m = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    /* p(t) = 0.1 W/s * t for 2 h, irregular spacing: integral = 0.05 * 7200^2 J = 720 Wh. */
    int64_t t = 0;
    for (int step = 0; t < 7200; step++) {
        report(m, 2, T0 + 6 * 3600 * S + t * S, 0.1 * (double)t);
        t += (step % 3) + 7; /* 7, 8, 9, 7, ... s */
    }
    report(m, 2, T0 + 6 * 3600 * S + 7200 * S, 720.0);
    /* Trapezoids are exact for a linear function. */
    assert_near(panel(m, 2)->energy_total_wh, 0.05 * 7200.0 * 7200.0 / 3600.0, 1e-6);
    sw_model_free(m);
}

static void test_energy_sine(void **state)
{
    (void)state;
    sw_model *m = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    /* A day of sun: p(t) = A sin(pi t / T), T = 12 h; integral = 2 A T / pi. */
    const double A = 400.0, T = 12.0 * 3600.0;
    const int n = 4320; /* every 10 s */
    for (int k = 0; k <= n; k++) {
        double ts = T * k / n;
        report(m, 2, T0 + 6 * 3600 * S + (int64_t)(ts * 1e9), A * sin(M_PI * ts / T));
    }
    double want = 2.0 * A * T / M_PI / 3600.0;
    /* Trapezoid error bound: T h^2 max|p''| / 12 = T h^2 A (pi/T)^2 / 12. */
    double h = T / n, bound = T * h * h * A * (M_PI / T) * (M_PI / T) / 12.0 / 3600.0;
    double got = panel(m, 2)->energy_total_wh;
    assert_true(fabs(got - want) <= bound * 1.01);
    assert_true(got < want); /* the chords lie under a concave curve */
    sw_model_free(m);
}

static void test_energy_gap(void **state)
{
    (void)state;
    sw_model *m = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    int64_t base = T0 + 8 * 3600 * S;
    /* 100 W for 10 min, silence for 20 min (longer than the 5 min gap limit), 100 W for 10 min. */
    for (int k = 0; k <= 60; k++)
        report(m, 2, base + k * 10 * S, 100.0);
    base += 30 * 60 * S;
    for (int k = 0; k <= 60; k++)
        report(m, 2, base + k * 10 * S, 100.0);
    /* Only the two 10-minute stretches count: 2 * 100 W * 1/6 h. */
    assert_near(panel(m, 2)->energy_total_wh, 2.0 * 100.0 / 6.0, 1e-9);

    /* A gap just under the limit is bridged. */
    sw_model *m2 = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    report(m2, 2, base, 60.0);
    report(m2, 2, base + 299 * S, 60.0);
    assert_near(panel(m2, 2)->energy_total_wh, 60.0 * 299.0 / 3600.0, 1e-9);
    /* Time going backwards adds nothing and does not subtract. */
    report(m2, 2, base + 100 * S, 60.0);
    assert_near(panel(m2, 2)->energy_total_wh, 60.0 * 299.0 / 3600.0, 1e-9);
    sw_model_free(m2);
    sw_model_free(m);
}

static void test_trapezoid_helper(void **state)
{
    (void)state;
    assert_near(sw_energy_trapezoid_wh(100, 0, 300, 3600 * S, 0), 200.0, 1e-12);
    assert_near(sw_energy_trapezoid_wh(100, 0, 300, 3600 * S, 3600 * S), 200.0, 1e-12);
    assert_near(sw_energy_trapezoid_wh(100, 0, 300, 3600 * S + 1, 3600 * S), 0.0, 0);
    assert_near(sw_energy_trapezoid_wh(100, 10, 300, 10, 0), 0.0, 0);
    assert_near(sw_energy_trapezoid_wh(100, 10, 300, 5, 0), 0.0, 0);
    assert_near(sw_energy_trapezoid_wh(NAN, 0, 300, S, 0), 0.0, 0);
}

/* ---- restart: persisted counters ----------------------------------------------------------- */
static void test_energy_restart(void **state)
{
    (void)state;
    char dir[] = "sw_model_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/panels.json", dir);

    sw_model *m = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    int64_t base = T0 + 9 * 3600 * S;
    for (int k = 0; k <= 360; k++)
        report(m, 2, base + k * 10 * S, 360.0); /* 360 Wh */
    assert_int_equal(sw_daemon_save_energy(m, path, base + 3600 * S), SW_OK);
    sw_model_free(m);

    /* Same day: both counters come back, and integration continues on top of them. */
    sw_model *m2 = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    assert_int_equal(sw_daemon_load_energy(m2, path, base + 2 * 3600 * S), SW_OK);
    assert_near(panel(m2, 2)->energy_total_wh, 360.0, 1e-9);
    assert_near(panel(m2, 2)->energy_today_wh, 360.0, 1e-9);
    assert_false(panel(m2, 2)->online);
    for (int k = 0; k <= 6; k++)
        report(m2, 2, base + 2 * 3600 * S + k * 10 * S, 360.0); /* + 6 Wh */
    assert_near(panel(m2, 2)->energy_total_wh, 366.0, 1e-9);
    /* A stale, smaller file never lowers the lifetime counter. */
    assert_int_equal(sw_daemon_load_energy(m2, path, base + 2 * 3600 * S), SW_OK);
    assert_near(panel(m2, 2)->energy_total_wh, 366.0, 1e-9);
    sw_model_free(m2);

    /* The next day: the lifetime counter survives, today's does not. */
    sw_model *m3 = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    assert_int_equal(sw_daemon_load_energy(m3, path, base + 24 * 3600 * S), SW_OK);
    assert_near(panel(m3, 2)->energy_total_wh, 360.0, 1e-9);
    assert_near(panel(m3, 2)->energy_today_wh, 0.0, 0);
    sw_model_free(m3);

    /* A corrupt file is refused, not half-read. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"panels\": [", f);
    fclose(f);
    sw_model *m4 = new_model(300, 3600, SW_NIGHT_UNAVAILABLE);
    assert_int_equal(sw_daemon_load_energy(m4, path, base), SW_ERR_STATE_CORRUPT);
    assert_int_equal(sw_model_panel_count(m4), 0);
    sw_model_free(m4);
    unlink(path);
    rmdir(dir);
}

/*
 * With hold_energy the outputs see only counters that were committed: a crash
 * after any report restarts from the last commit, which is never below what
 * was shown. The database never lowers a stored lifetime value.
 */
static void test_energy_held_until_durable(void **state)
{
    (void)state;
    char dir[] = "sw_model_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/energy.db", dir);
    sw_energy_store *st = NULL;
    assert_int_equal(sw_energy_store_open(path, false, &st), SW_OK);

    sw_model_options o;
    sw_model_options_defaults(&o);
    o.hold_energy = true;
    sw_model *m = sw_model_new(&o);
    assert_non_null(m);
    int64_t base = T0 + 9 * 3600 * S;
    for (int k = 0; k <= 360; k++)
        report(m, 2, base + k * 10 * S, 360.0); /* 360 Wh integrated */
    sw_panel_energy en;
    assert_int_equal(sw_model_panel_energy(m, 0, &en), SW_OK);
    assert_near(en.total_wh, 360.0, 1e-9);
    /* Not durable yet: nothing shown, neither per panel nor in the aggregate. */
    assert_near(panel(m, 2)->energy_total_wh, 0.0, 0);
    assert_near(panel(m, 2)->energy_today_wh, 0.0, 0);
    assert_near(sw_model_string_find(m, "total")->energy_total_wh, 0.0, 0);
    assert_int_equal(sw_energy_store_commit(st, m, base + 3600 * S), SW_OK);
    assert_int_equal(sw_model_energy_publish(m), 1);
    assert_near(panel(m, 2)->energy_total_wh, 360.0, 1e-9);
    assert_near(panel(m, 2)->energy_today_wh, 360.0, 1e-9);
    assert_near(sw_model_string_find(m, "total")->energy_total_wh, 360.0, 1e-9);
    assert_int_equal(sw_model_energy_publish(m), 0);
    /* More energy, then a crash before the next commit. */
    for (int k = 1; k <= 6; k++)
        report(m, 2, base + 3600 * S + k * 10 * S, 360.0);
    assert_near(panel(m, 2)->energy_total_wh, 360.0, 1e-9);
    double shown = panel(m, 2)->energy_total_wh;
    sw_model_free(m);
    sw_energy_store_close(st);

    /* The restart shows at once what was committed: not less than what was shown. */
    assert_int_equal(sw_energy_store_open(path, false, &st), SW_OK);
    m = sw_model_new(&o);
    size_t n = 0;
    assert_int_equal(sw_energy_store_load(st, m, base + 3700 * S, &n), SW_OK);
    assert_int_equal(n, 1);
    assert_true(panel(m, 2)->energy_total_wh >= shown);
    assert_near(panel(m, 2)->energy_total_wh, 360.0, 1e-9);
    assert_string_equal(panel(m, 2)->source, "bus");
    sw_model_free(m);

    /* A model that holds less (restored from an older copy) does not lower the database. */
    m = sw_model_new(&o);
    assert_int_equal(sw_model_panel_restore(m, "bus", 4609, 2, NULL, 100.0, 0.0, -1, base), SW_OK);
    assert_int_equal(sw_energy_store_commit(st, m, base + 3800 * S), SW_OK);
    sw_model_free(m);
    m = sw_model_new(&o);
    assert_int_equal(sw_energy_store_load(st, m, base + 3900 * S, &n), SW_OK);
    assert_near(panel(m, 2)->energy_total_wh, 360.0, 1e-9);
    sw_model_free(m);

    /* The copy made at start is a database of its own. */
    char copy[80];
    snprintf(copy, sizeof copy, "%s/energy.db.prev", dir);
    assert_int_equal(sw_energy_store_copy(st, copy), SW_OK);
    sw_energy_store_close(st);
    assert_int_equal(sw_energy_store_open(copy, true, &st), SW_OK);
    m = sw_model_new(&o);
    assert_int_equal(sw_energy_store_load(st, m, base, &n), SW_OK);
    assert_near(panel(m, 2)->energy_total_wh, 360.0, 1e-9);
    sw_model_free(m);
    sw_energy_store_close(st);

    /* Noise is not a database of ours. */
    FILE *f = fopen(copy, "w");
    assert_non_null(f);
    fputs("SQLite format 3 and then not at all", f);
    fclose(f);
    assert_int_equal(sw_energy_store_open(copy, true, &st), SW_ERR_STATE_CORRUPT);
    assert_null(st);

    const char *names[] = { "energy.db", "energy.db-wal", "energy.db-shm", "energy.db.prev" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* ---- local midnight in a fixed zone ------------------------------------------------------------ */
static int32_t berlin(void *user, int64_t unix_ns)
{
    (void)user;
    time_t t = (time_t)(unix_ns / S);
    struct tm tm;
    localtime_r(&t, &tm);
    return (int32_t)tm.tm_gmtoff;
}

static void test_energy_midnight(void **state)
{
    (void)state;
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    sw_model_options o;
    sw_model_options_defaults(&o);
    o.energy_gap_ns = 600 * S;
    o.utc_offset = berlin;
    sw_model *m = sw_model_new(&o);
    assert_non_null(m);
    /* Local midnight of 2026-06-02 in Berlin (CEST, +02:00) is 2026-06-01T22:00:00Z. */
    int64_t midnight = T0 + 22 * 3600 * S;
    assert_int_equal(sw_model_local_day(m, midnight - 1), sw_model_local_day(m, midnight) - 1);
    /* 600 W from 23:55 to 00:05 local, reports every 60 s: 100 Wh, half of it after midnight. */
    for (int k = 0; k <= 10; k++)
        report(m, 2, midnight - 300 * S + k * 60 * S, 600.0);
    assert_near(panel(m, 2)->energy_total_wh, 100.0, 1e-9);
    assert_near(panel(m, 2)->energy_today_wh, 50.0, 1e-9);

    /* A report straddling midnight splits its trapezoid at midnight (20 s before, 40 s after). */
    sw_model *m2 = sw_model_new(&o);
    report(m2, 2, midnight - 20 * S, 360.0);
    report(m2, 2, midnight + 40 * S, 360.0);
    assert_near(sw_model_panel_at(m2, 0)->energy_total_wh, 6.0, 1e-9);
    assert_near(sw_model_panel_at(m2, 0)->energy_today_wh, 4.0, 1e-9);

    /* Without reports, the tick rolls "today" over at midnight. */
    sw_model *m3 = sw_model_new(&o);
    report(m3, 2, midnight - 600 * S, 360.0);
    report(m3, 2, midnight - 300 * S, 360.0);
    assert_near(sw_model_panel_at(m3, 0)->energy_today_wh, 30.0, 1e-9);
    sw_model_tick(m3, midnight - 1 * S);
    assert_near(sw_model_panel_at(m3, 0)->energy_today_wh, 30.0, 1e-9);
    sw_model_tick(m3, midnight + 1 * S);
    assert_near(sw_model_panel_at(m3, 0)->energy_today_wh, 0.0, 0);
    assert_near(sw_model_panel_at(m3, 0)->energy_total_wh, 30.0, 1e-9);
    assert_near(sw_model_string_find(m3, "total")->energy_today_wh, 0.0, 0);
    sw_model_free(m3);
    sw_model_free(m2);
    sw_model_free(m);
    unsetenv("TZ");
    tzset();
}

/* ---- a sink that counts ------------------------------------------------------------------------------ */
typedef struct counter {
    int panels, strings, gateways, inverters, values, closed;
    sw_panel last_panel;
} counter;

static void c_panel(void *self, const sw_panel *p) { counter *c = self; c->panels++; c->last_panel = *p; }
static void c_string(void *self, const sw_string_agg *s) { (void)s; ((counter *)self)->strings++; }
static void c_gateway(void *self, const sw_gateway *g) { (void)g; ((counter *)self)->gateways++; }
static void c_inverter(void *self, const sw_inverter *i) { (void)i; ((counter *)self)->inverters++; }
static void c_value(void *self, const sw_inverter_value *v) { (void)v; ((counter *)self)->values++; }
static void c_close(void *self) { ((counter *)self)->closed++; }
static const sw_sink_ops counter_ops = {
    .name = "counter", .on_panel = c_panel, .on_string = c_string, .on_gateway = c_gateway,
    .on_inverter = c_inverter, .on_value = c_value, .close = c_close,
};

/* ---- aggregates ------------------------------------------------------------------------------------- */
static void set_map(sw_model *m)
{
    sw_panel_map_entry e[4];
    memset(e, 0, sizeof e);
    const char *rows[4][3] = {{"A", "a1", "4-A2346FZ"}, {"A", "a2", "4-A23471V"}, {"A", "a3", "4-B00001X"},
                              {"B", "b1", "4-C00002Y"}};
    for (int i = 0; i < 4; i++) {
        snprintf(e[i].string_name, sizeof e[i].string_name, "%s", rows[i][0]);
        snprintf(e[i].name, sizeof e[i].name, "%s", rows[i][1]);
        snprintf(e[i].barcode, sizeof e[i].barcode, "%s", rows[i][2]);
    }
    assert_int_equal(sw_model_set_panel_map(m, e, 4), SW_OK);
}

static void report_bc(sw_model *m, uint16_t node, const char *bc, int64_t t, double watts)
{
    sw_panel_report r;
    memset(&r, 0, sizeof r);
    r.time_ns = t;
    r.voltage_in = 50.0;
    r.current_in = watts / 50.0;
    r.barcode = bc;
    assert_int_equal(sw_model_panel_report(m, "bus", 4609, node, &r), SW_OK);
}

static void test_aggregates(void **state)
{
    (void)state;
    sw_model *m = new_model(300, 600, SW_NIGHT_UNAVAILABLE);
    set_map(m);
    /* Strings come in map order, "total" last. */
    assert_int_equal(sw_model_string_count(m), 3);
    assert_string_equal(sw_model_string_at(m, 0)->name, "A");
    assert_string_equal(sw_model_string_at(m, 1)->name, "B");
    assert_string_equal(sw_model_string_at(m, 2)->name, "total");
    int64_t t = T0 + 10 * 3600 * S;
    report_bc(m, 2, "4-A2346FZ", t, 100.0);
    report_bc(m, 3, "4-A23471V", t, 250.0);
    report_bc(m, 4, "4-B00001X", t, 40.0);
    report_bc(m, 5, "4-C00002Y", t, 300.0);
    report_bc(m, 6, "4-D00003Z", t, 10.0); /* unmapped: only in the total */
    report_bc(m, 7, NULL, t, 20.0);        /* identity unknown */

    const sw_string_agg *a = sw_model_string_find(m, "A");
    assert_int_equal(a->panels, 3);
    assert_int_equal(a->online, 3);
    assert_near(a->power_sum_w, 390.0, 1e-9);
    assert_near(a->power_min_w, 40.0, 1e-9);
    assert_near(a->power_max_w, 250.0, 1e-9);
    assert_near(a->power_avg_w, 130.0, 1e-9);
    const sw_string_agg *b = sw_model_string_find(m, "B");
    assert_int_equal(b->panels, 1);
    assert_near(b->power_avg_w, 300.0, 1e-9);
    const sw_string_agg *tot = sw_model_string_find(m, "total");
    assert_int_equal(tot->panels, 6);
    assert_near(tot->power_sum_w, 720.0, 1e-9);
    assert_near(tot->power_min_w, 10.0, 1e-9);
    assert_near(tot->power_max_w, 300.0, 1e-9);
    assert_near(tot->power_avg_w, 120.0, 1e-9);

    /* Names: the map's, else the barcode, else gateway-node. */
    assert_string_equal(panel(m, 2)->name, "a1");
    assert_true(panel(m, 2)->mapped);
    assert_string_equal(panel(m, 6)->name, "4-D00003Z");
    assert_false(panel(m, 6)->mapped);
    assert_string_equal(panel(m, 7)->name, "4609-7");

    /* Energy sums follow the panels. */
    report_bc(m, 2, "4-A2346FZ", t + 36 * S, 100.0); /* +1 Wh */
    report_bc(m, 3, "4-A23471V", t + 36 * S, 250.0); /* +2.5 Wh */
    assert_near(sw_model_string_find(m, "A")->energy_today_wh, 3.5, 1e-9);
    assert_near(sw_model_string_find(m, "total")->energy_total_wh, 3.5, 1e-9);

    /* A reloaded map moves panels between strings, and the outputs hear about each renamed panel. */
    counter c;
    memset(&c, 0, sizeof c);
    assert_int_equal(sw_model_add_sink(m, (sw_sink){&counter_ops, &c}), SW_OK);
    sw_panel_map_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.string_name, sizeof e.string_name, "C");
    snprintf(e.name, sizeof e.name, "moved");
    snprintf(e.barcode, sizeof e.barcode, "4-A2346FZ");
    assert_int_equal(sw_model_set_panel_map(m, &e, 1), SW_OK);
    assert_int_equal(sw_model_string_count(m), 2);
    assert_string_equal(panel(m, 2)->name, "moved");
    assert_string_equal(panel(m, 2)->string_name, "C");
    assert_string_equal(panel(m, 3)->name, "4-A23471V");
    assert_near(sw_model_string_find(m, "C")->power_sum_w, 100.0, 1e-9);
    assert_null(sw_model_string_find(m, "A"));
    /* a1 -> moved, a2 and a3 lose their names to their barcodes, b1 too: four panels renamed. */
    assert_int_equal(c.panels, 4);
    assert_int_equal(c.strings, 2); /* C and total */
    sw_model_free(m);
}

static const sw_sink_ops quiet_ops = {.name = "quiet"};

static void test_night(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        counter c;
        memset(&c, 0, sizeof c);
        sw_model *m = new_model(300, 60, mode ? SW_NIGHT_ZERO : SW_NIGHT_UNAVAILABLE);
        assert_int_equal(sw_model_add_sink(m, (sw_sink){&counter_ops, &c}), SW_OK);
        int64_t t = T0 + 18 * 3600 * S;
        report(m, 2, t, 80.0);
        assert_int_equal(c.panels, 1);
        assert_true(c.last_panel.online);
        /* Within the timeout nothing changes and nobody is told. */
        assert_int_equal(sw_model_tick(m, t + 59 * S), 0);
        assert_int_equal(c.panels, 1);
        /* After it the panel goes offline and the sinks hear it, once. */
        assert_int_equal(sw_model_tick(m, t + 61 * S), 1);
        assert_int_equal(c.panels, 2);
        assert_false(c.last_panel.online);
        if (mode) {
            assert_near(c.last_panel.power_w, 0.0, 0);
            assert_near(c.last_panel.voltage_in, 0.0, 0);
        } else {
            assert_near(c.last_panel.power_w, 80.0, 1e-9);
        }
        assert_int_equal(sw_model_string_find(m, "total")->online, 0);
        assert_near(sw_model_string_find(m, "total")->power_sum_w, 0.0, 0);
        assert_int_equal(sw_model_tick(m, t + 120 * S), 0);
        assert_int_equal(c.panels, 2);
        /* Morning: the next report brings it back. */
        report(m, 2, t + 12 * 3600 * S, 5.0);
        assert_true(c.last_panel.online);
        sw_model_free(m);
        assert_int_equal(c.closed, 1);
    }
}

static void test_notifications(void **state)
{
    (void)state;
    counter c;
    memset(&c, 0, sizeof c);
    sw_model *m = new_model(300, 60, SW_NIGHT_UNAVAILABLE);
    assert_int_equal(sw_model_add_sink(m, (sw_sink){&counter_ops, &c}), SW_OK);
    sw_gateway g;
    memset(&g, 0, sizeof g);
    snprintf(g.source, sizeof g.source, "bus");
    g.gateway_id = 4609;
    snprintf(g.address, sizeof g.address, "04:C0:5B:30:00:02:BE:16");
    assert_int_equal(sw_model_gateway_set(m, &g, T0), SW_OK);
    assert_int_equal(sw_model_gateway_set(m, &g, T0), SW_OK); /* unchanged: silent */
    assert_int_equal(c.gateways, 1);
    assert_int_equal(sw_model_gateway_count(m), 1);

    sw_inverter inv;
    memset(&inv, 0, sizeof inv);
    snprintf(inv.name, sizeof inv.name, "house");
    assert_int_equal(sw_model_inverter_set(m, &inv, T0), SW_OK);
    inv.last_poll_ns = T0 + S; /* a poll time alone is no news */
    assert_int_equal(sw_model_inverter_set(m, &inv, T0 + S), SW_OK);
    inv.online = true;
    assert_int_equal(sw_model_inverter_set(m, &inv, T0 + S), SW_OK);
    assert_int_equal(c.inverters, 2);
    /* Every complete answer moves the model's last_poll, silently; time never goes back. */
    assert_int_equal(sw_model_inverter_polled(m, "house", T0 + 5 * S), SW_OK);
    assert_int_equal(sw_model_inverter_find(m, "house")->last_poll_ns, T0 + 5 * S);
    assert_int_equal(sw_model_inverter_polled(m, "house", T0 + 4 * S), SW_OK);
    assert_int_equal(sw_model_inverter_at(m, 0)->last_poll_ns, T0 + 5 * S);
    assert_int_equal(sw_model_inverter_polled(m, "garage", T0 + 5 * S), SW_ERR_NOT_FOUND);
    assert_int_equal(c.inverters, 2);

    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.inverter, sizeof v.inverter, "house");
    v.object_id = 0x959930BF;
    v.is_number = true;
    v.number = 0.5;
    v.timestamp_ns = T0 + 2 * S;
    assert_int_equal(sw_model_inverter_value_set(m, &v), SW_OK);
    v.number = 0.6;
    assert_int_equal(sw_model_inverter_value_set(m, &v), SW_OK);
    assert_int_equal(c.values, 2);
    assert_int_equal(sw_model_inverter_value_count(m), 1);
    assert_near(sw_model_inverter_value_at(m, 0)->number, 0.6, 0);
    assert_int_equal(sw_model_updated_ns(m), T0 + 5 * S);

    /* Identity learnt later: one panel update, string updates for "total". */
    int before = c.panels;
    assert_int_equal(sw_model_panel_identity(m, "bus", 4609, 2, "4-A2346FZ", T0 + 3 * S), SW_OK);
    assert_int_equal(sw_model_panel_identity(m, "bus", 4609, 2, "4-A2346FZ", T0 + 3 * S), SW_OK);
    assert_int_equal(c.panels, before + 1);
    assert_string_equal(c.last_panel.barcode, "4-A2346FZ");
    sw_model_free(m);
}

/* Inverter values keep their text and structure whole, however long, as the model's own copies. */
static void test_value_text_whole(void **state)
{
    (void)state;
    sw_model *m = new_model(300, 600, SW_NIGHT_UNAVAILABLE);
    size_t n = 5000;
    char *text = malloc(n + 1), *json = malloc(n + 16);
    assert_non_null(text);
    assert_non_null(json);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)('a' + i % 26);
    text[n] = 0;
    snprintf(json, n + 16, "{\"t\":\"%s\"}", text + 10);
    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.inverter, sizeof v.inverter, "house");
    snprintf(v.object_name, sizeof v.object_name, "battery.cells[1]");
    v.object_id = 0x0A5F6C1D;
    v.text = text;
    v.json = json;
    assert_int_equal(sw_model_inverter_value_set(m, &v), SW_OK);
    /* The caller's buffers may go at once. */
    memset(text, 'x', n);
    memset(json, 'x', n);
    free(text);
    free(json);
    const sw_inverter_value *got = sw_model_inverter_value_at(m, 0);
    assert_int_equal(strlen(got->text), n);
    assert_int_equal(got->text[n - 1], 'a' + (n - 1) % 26);
    assert_non_null(got->json);
    assert_int_equal(strlen(got->json), n - 10 + 8);
    assert_memory_equal(got->json, "{\"t\":\"kl", 8);
    /* Handing the record back is fine; a shorter plain value drops the structure. */
    sw_inverter_value again = *got;
    assert_int_equal(sw_model_inverter_value_set(m, &again), SW_OK);
    assert_int_equal(strlen(got->text), n);
    v.text = "short";
    v.json = NULL;
    assert_int_equal(sw_model_inverter_value_set(m, &v), SW_OK);
    assert_string_equal(got->text, "short");
    assert_null(got->json);
    v.text = NULL;
    assert_int_equal(sw_model_inverter_value_set(m, &v), SW_OK);
    assert_string_equal(got->text, "");
    assert_int_equal(sw_model_inverter_value_count(m), 1);
    sw_model_free(m);
}

static void test_capacity(void **state)
{
    (void)state;
    sw_model *m = new_model(300, 60, SW_NIGHT_UNAVAILABLE);
    char name[32];
    for (int i = 0; i < SW_MODEL_MAX_SOURCES; i++) {
        snprintf(name, sizeof name, "s%d", i);
        assert_non_null(sw_model_source(m, name, SW_SOURCE_TIGO_TCP, "x"));
    }
    assert_null(sw_model_source(m, "one-too-many", SW_SOURCE_TIGO_TCP, "x"));
    /* The first records are still there, unmoved. */
    const sw_source_status *first = sw_model_source_at(m, 0);
    assert_string_equal(first->name, "s0");
    assert_ptr_equal(first, sw_model_source_find(m, "s0"));
    for (int i = 0; i < SW_MODEL_MAX_SINKS; i++)
        assert_int_equal(sw_model_add_sink(m, (sw_sink){&quiet_ops, NULL}), SW_OK);
    assert_int_equal(sw_model_add_sink(m, (sw_sink){&quiet_ops, NULL}), SW_ERR_NO_SPACE);
    /* Out of range accessors answer NULL; the "total" aggregate always exists. */
    assert_null(sw_model_panel_at(m, 0));
    assert_null(sw_model_string_at(m, 1));
    assert_string_equal(sw_model_string_at(m, 0)->name, "total");
    /* A panel map naming more strings than the model holds is refused whole. */
    sw_panel_map_entry *e = calloc(SW_MODEL_MAX_STRINGS + 1, sizeof *e);
    assert_non_null(e);
    for (int i = 0; i <= SW_MODEL_MAX_STRINGS; i++) {
        snprintf(e[i].string_name, sizeof e[i].string_name, "s%d", i);
        snprintf(e[i].barcode, sizeof e[i].barcode, "4-%07dX", i);
    }
    assert_int_equal(sw_model_set_panel_map(m, e, SW_MODEL_MAX_STRINGS + 1), SW_ERR_NO_SPACE);
    assert_int_equal(sw_model_string_count(m), 1);
    assert_int_equal(sw_model_set_panel_map(m, e, SW_MODEL_MAX_STRINGS), SW_OK);
    assert_int_equal(sw_model_string_count(m), SW_MODEL_MAX_STRINGS + 1);
    free(e);
    sw_model_free(m);
}

static void test_backoff(void **state)
{
    (void)state;
    /* Doubling from the base, capped. */
    const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(sw_backoff_ms(i, 1000, 60000), want[i]);
    assert_int_equal(sw_backoff_ms(1000, 1000, 60000), 60000);
    assert_int_equal(sw_backoff_ms(0, 500, 300), 300);
    assert_int_equal(sw_backoff_ms(3, 100, 100000), 800);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energy_constant),  cmocka_unit_test(test_energy_ramp),
        cmocka_unit_test(test_energy_sine),      cmocka_unit_test(test_energy_gap),
        cmocka_unit_test(test_trapezoid_helper), cmocka_unit_test(test_energy_restart),
        cmocka_unit_test(test_energy_held_until_durable),
        cmocka_unit_test(test_energy_midnight),  cmocka_unit_test(test_aggregates),
        cmocka_unit_test(test_night),            cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_capacity),         cmocka_unit_test(test_value_text_whole),         cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
