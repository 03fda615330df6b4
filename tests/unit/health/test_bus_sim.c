/*
 * The bus health detectors on a simulated bus, on simulated time: the Tigo
 * simulator with one fault at a time (sim/sim_faults.h), its bytes through
 * an observer into the model and the detectors wired as the daemon wires
 * them (health/bus.h). Each fault must raise its problem within the time
 * docs/health.md gives and clear it after the fault ends; two days without
 * a fault raise none of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/bus.h"
#include "sim/sim_tigo.h"
#include "sunwire/tigo_observer.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)
#define MIN(n) S((n) * 60)
#define START S(1782028800) /* 2026-06-21T08:00:00Z: a summer morning at the simulator's plant */
#define TICK S(5)
#define GW 0x1201

typedef struct harness {
    sw_tigo_sim *sim;
    sw_tigo_observer *obs;
    sw_health_bus *hb;
    sw_model *m;
    int64_t now;
    int64_t next_tick;
} harness;

static int on_transport(sw_tigo_transport *t, const sw_tigo_transport_event *ev, void *user)
{
    (void)t;
    harness *h = user;
    sw_health_bus_transport(h->hb, h->m, ev, h->now);
    return 0;
}

static int on_event(sw_tigo_observer *o, const sw_tigo_observer_event *ev, void *user)
{
    (void)o;
    harness *h = user;
    if (ev->kind == SW_TIGO_OBSERVER_POWER_REPORT) {
        const sw_tigo_power_event *p = &ev->u.power;
        sw_panel_report r;
        sw_health_bus_power(h->hb, p, &r);
        r.barcode = p->node_barcode;
        if (sw_model_panel_report(h->m, "sim", p->gateway, p->node, &r) == SW_OK)
            sw_health_bus_power_stored(h->hb, h->m, p);
    } else if (ev->kind == SW_TIGO_OBSERVER_INFRASTRUCTURE && ev->u.infrastructure.changed) {
        sw_health_bus_infrastructure(h->hb, h->m, &ev->u.infrastructure, h->now);
    }
    return 0;
}

static harness *start_with(const sw_tigo_sim_config *cfg, const sw_health_watchdog_config *wd)
{
    harness *h = calloc(1, sizeof *h);
    h->sim = malloc(sizeof *h->sim);
    h->obs = malloc(sizeof *h->obs);
    h->hb = malloc(sizeof *h->hb);
    h->m = sw_model_new(NULL);
    assert_int_equal(sw_tigo_sim_init(h->sim, cfg, NULL, NULL), SW_OK);
    sw_tigo_observer_init(h->obs, 0, on_event, h);
    sw_tigo_observer_set_transport_tap(h->obs, on_transport, h);
    sw_health_bus_init(h->hb, NULL, wd, "sim");
    sw_health_bus_connected(h->hb, true, START);
    h->now = START;
    h->next_tick = START + TICK;
    return h;
}

/* One TAP of ten panels, with one fault. */
static harness *start(const char *fault)
{
    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, 7, START);
    char err[128];
    assert_int_equal(sw_sim_faults_add(&cfg.faults, fault, err, sizeof err), SW_OK);
    return start_with(&cfg, NULL);
}

static void stop(harness *h)
{
    sw_model_free(h->m);
    free(h->sim);
    free(h->obs);
    free(h->hb);
    free(h);
}

/* Run the bus until `until`, ticking the detectors every 5 s of bus time as the daemon's timer does,
 * also while no frame comes. */
static void run_until(harness *h, int64_t until)
{
    static uint8_t buf[SW_TIGO_SIM_CHUNK_MAX];
    while (h->now < until) {
        int64_t t = sw_tigo_sim_peek_time(h->sim);
        while (h->next_tick <= t && h->next_tick <= until) {
            sw_health_bus_tick(h->hb, h->m, h->next_tick);
            sw_model_tick(h->m, h->next_tick);
            h->next_tick += TICK;
        }
        if (t > until) {
            h->now = until;
            break;
        }
        size_t len;
        assert_int_equal(sw_tigo_sim_next(h->sim, buf, sizeof buf, &len, &t), SW_OK);
        h->now = t;
        if (len)
            sw_tigo_observer_push(h->obs, buf, len, t, NULL);
    }
}

static const sw_problem *problem(const harness *h, sw_problem_kind k, const char *subject)
{
    return sw_model_problem_find(h->m, k, "sim", subject);
}

static bool active(const harness *h, sw_problem_kind k, const char *subject)
{
    const sw_problem *p = problem(h, k, subject);
    return p && p->active;
}

/* Step through time until the problem's activity is `want`; the time it became so, or 0. */
static int64_t wait_for(harness *h, sw_problem_kind k, const char *subject, bool want, int64_t until)
{
    while (h->now < until) {
        run_until(h, h->now + S(5));
        if (active(h, k, subject) == want)
            return h->now;
    }
    return 0;
}

static size_t count_kind(const harness *h, sw_problem_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < sw_model_problem_count(h->m); i++)
        n += sw_model_problem_at(h->m, i)->kind == k;
    return n;
}

static void test_radio(void **state)
{
    (void)state;
    harness *h = start("radio@30m-90m");
    run_until(h, START + MIN(30));
    const sw_panel *p = sw_model_panel_find(h->m, "sim", GW, 2);
    assert_non_null(p);
    char subject[SW_MODEL_NAME_MAX];
    snprintf(subject, sizeof subject, "%s", p->series_id);
    assert_true(p->loss_15m < 0.05);
    int64_t raised = wait_for(h, SW_PROBLEM_RADIO_DEGRADING, subject, true, START + MIN(90));
    assert_true(raised > 0);
    assert_true(raised - (START + MIN(30)) <= MIN(15)); /* docs/health.md: within 15 minutes */
    run_until(h, START + MIN(88));
    p = sw_model_panel_find(h->m, "sim", GW, 2);
    assert_true(p->loss_15m > 0.3);
    assert_true(p->rssi_trend < -10.0);
    int64_t cleared = wait_for(h, SW_PROBLEM_RADIO_DEGRADING, subject, false, START + MIN(120));
    assert_true(cleared > START + MIN(90));
    assert_true(cleared - (START + MIN(90)) <= MIN(15));
    /* only that panel */
    assert_int_equal(count_kind(h, SW_PROBLEM_RADIO_DEGRADING), 1);
    stop(h);
}

static void test_no_polling(void **state)
{
    (void)state;
    harness *h = start("no-polling@10m-20m");
    run_until(h, START + MIN(10));
    assert_false(active(h, SW_PROBLEM_CONTROLLER_SILENT, "sim"));
    int64_t raised = wait_for(h, SW_PROBLEM_CONTROLLER_SILENT, "sim", true, START + MIN(20));
    assert_true(raised > 0);
    assert_true(raised - (START + MIN(10)) <= S(60) + TICK + S(5));
    int64_t cleared = wait_for(h, SW_PROBLEM_CONTROLLER_SILENT, "sim", false, START + MIN(25));
    assert_true(cleared >= START + MIN(20));
    assert_true(cleared - (START + MIN(20)) <= S(10));
    /* the reports the gateway could not hand over are not blamed on the radio */
    run_until(h, START + MIN(40));
    assert_int_equal(count_kind(h, SW_PROBLEM_RADIO_DEGRADING), 0);
    stop(h);
}

static void test_shrink(void **state)
{
    (void)state;
    /* between two table walks (the simulator walks every 10 minutes from the start) */
    harness *h = start("shrink@25m-55m");
    run_until(h, START + MIN(25));
    char subject[32];
    snprintf(subject, sizeof subject, "sim/%u", GW);
    assert_null(problem(h, SW_PROBLEM_NODE_TABLE_SHRANK, subject));
    /* the network status counts fewer nodes at once; the table walk every 10 minutes shows it later */
    int64_t missing = wait_for(h, SW_PROBLEM_NODES_MISSING, subject, true, START + MIN(40));
    assert_true(missing > 0);
    assert_true(missing - (START + MIN(25)) <= MIN(3));
    int64_t shrank = wait_for(h, SW_PROBLEM_NODE_TABLE_SHRANK, subject, true, START + MIN(40));
    assert_true(shrank > 0);
    assert_true(shrank - (START + MIN(25)) <= MIN(11));
    assert_non_null(strstr(problem(h, SW_PROBLEM_NODE_TABLE_SHRANK, subject)->reason, "missing node 9, 10, 11"));
    /* the table and the counts agree again at the next network status */
    int64_t agree = wait_for(h, SW_PROBLEM_NODES_MISSING, subject, false, START + MIN(45));
    assert_true(agree > 0 && agree - shrank <= S(65));
    int64_t back = wait_for(h, SW_PROBLEM_NODE_TABLE_SHRANK, subject, false, START + MIN(70));
    assert_true(back > START + MIN(55));
    assert_true(back - (START + MIN(55)) <= MIN(11));
    assert_int_equal(count_kind(h, SW_PROBLEM_RADIO_DEGRADING), 0);
    assert_int_equal(count_kind(h, SW_PROBLEM_CONTROLLER_SILENT), 0);
    stop(h);
}

/* Every problem raised is of kind k. */
static void only_kind(const harness *h, sw_problem_kind k)
{
    for (size_t i = 0; i < sw_model_problem_count(h->m); i++)
        if (sw_model_problem_at(h->m, i)->kind != k)
            fail_msg("raised besides %s: %s on %s: %s", sw_problem_kind_name(k),
                     sw_problem_kind_name(sw_model_problem_at(h->m, i)->kind), sw_model_problem_at(h->m, i)->subject,
                     sw_model_problem_at(h->m, i)->reason);
}

/* The first line of a version text. */
static void first_line(const char *text, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s", (int)strcspn(text, "\r"), text);
}

static void test_firmware(void **state)
{
    (void)state;
    /* two TAPs: the update is the first one's; the hold shortened so that the run stays short */
    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, 7, START);
    cfg.gateways = 2;
    cfg.panels = 6;
    char err[128];
    assert_int_equal(sw_sim_faults_add(&cfg.faults, "firmware@10m-50m", err, sizeof err), SW_OK);
    sw_health_watchdog_config wd;
    sw_health_watchdog_config_default(&wd);
    wd.firmware_hold_ns = MIN(30);
    harness *h = start_with(&cfg, &wd);
    char before[64], after[64], subject[32];
    first_line(sw_tigo_sim_gateway_version_at(h->sim, 0, START), before, sizeof before);
    first_line(sw_tigo_sim_gateway_version_at(h->sim, 0, START + MIN(10)), after, sizeof after);
    assert_string_not_equal(before, after);
    snprintf(subject, sizeof subject, "sim/%u", GW);

    run_until(h, START + MIN(10));
    assert_int_equal(sw_model_problem_count(h->m), 0);
    /* the controller enumerates again as the TAP restarts with the new firmware */
    int64_t raised = wait_for(h, SW_PROBLEM_FIRMWARE_CHANGED, subject, true, START + MIN(12));
    assert_true(raised > 0);
    assert_true(raised - (START + MIN(10)) <= S(15));
    const char *reason = problem(h, SW_PROBLEM_FIRMWARE_CHANGED, subject)->reason;
    assert_non_null(strstr(reason, before));
    assert_non_null(strstr(reason, after));
    assert_true(strstr(reason, before) < strstr(reason, after)); /* "was ..., now ..." */
    /* held for firmware_changed_hold, then cleared by time */
    int64_t cleared = wait_for(h, SW_PROBLEM_FIRMWARE_CHANGED, subject, false, START + MIN(45));
    assert_true(cleared > 0);
    assert_true(cleared - raised >= MIN(30) - S(5));
    assert_true(cleared - raised <= MIN(30) + S(10));
    /* END rolls the update back: the TAP restarts with the old version, which is a change again */
    int64_t again = wait_for(h, SW_PROBLEM_FIRMWARE_CHANGED, subject, true, START + MIN(52));
    assert_true(again > 0);
    assert_true(again - (START + MIN(50)) <= S(15));
    reason = problem(h, SW_PROBLEM_FIRMWARE_CHANGED, subject)->reason;
    assert_true(strstr(reason, after) < strstr(reason, before));
    /* the second TAP kept its firmware, and nothing else is blamed on the restart */
    assert_int_equal(count_kind(h, SW_PROBLEM_FIRMWARE_CHANGED), 1);
    only_kind(h, SW_PROBLEM_FIRMWARE_CHANGED);
    stop(h);
}

static void test_pv_off(void **state)
{
    (void)state;
    /* long enough for the controller's hourly lift and re-assert */
    harness *h = start("pv-off@10m-85m");
    run_until(h, START + MIN(10));
    assert_null(problem(h, SW_PROBLEM_PV_OFF, "sim"));
    const sw_panel *p = sw_model_panel_find(h->m, "sim", GW, 2);
    assert_non_null(p);
    assert_true(p->power_w > 20.0);
    int64_t raised = wait_for(h, SW_PROBLEM_PV_OFF, "sim", true, START + MIN(12));
    assert_true(raised > 0);
    assert_true(raised - (START + MIN(10)) <= S(10));
    /* the panels are shut down: nothing out, their inputs at open circuit */
    run_until(h, START + MIN(12));
    for (size_t i = 0; i < sw_model_panel_count(h->m); i++) {
        p = sw_model_panel_at(h->m, i);
        assert_true(p->last_seen_ns > START + MIN(10));
        assert_true(p->power_w == 0.0);
        assert_true(p->voltage_out == 0.0);
        assert_true(p->voltage_in > 30.0);
    }
    /* the lift and re-assert an hour in does not clear it */
    while (h->now < START + MIN(85)) {
        run_until(h, h->now + S(5));
        assert_true(active(h, SW_PROBLEM_PV_OFF, "sim"));
    }
    /* cleared when the lifting broadcast is not followed by a re-assert within pv_off_clear (2 min) */
    int64_t cleared = wait_for(h, SW_PROBLEM_PV_OFF, "sim", false, START + MIN(90));
    assert_true(cleared >= START + MIN(85) + MIN(2));
    assert_true(cleared - (START + MIN(85)) <= MIN(2) + S(15));
    run_until(h, START + MIN(88));
    p = sw_model_panel_find(h->m, "sim", GW, 2);
    assert_true(p->power_w > 20.0);
    assert_int_equal(count_kind(h, SW_PROBLEM_PV_OFF), 1);
    only_kind(h, SW_PROBLEM_PV_OFF);
    stop(h);
}

/* Two days and a night with clouds, a shaded panel and two TAPs, without a fault: none of these
 * problems (dawn, dusk, the night's enumeration and silence included). */
static void test_quiet_days(void **state)
{
    (void)state;
    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, 11, START);
    cfg.gateways = 2;
    cfg.panels = 8;
    cfg.shaded = true;
    harness *h = start_with(&cfg, NULL);
    run_until(h, START + 2 * S(86400));
    for (size_t i = 0; i < sw_model_problem_count(h->m); i++)
        fail_msg("raised without a fault: %s on %s: %s", sw_problem_kind_name(sw_model_problem_at(h->m, i)->kind),
                 sw_model_problem_at(h->m, i)->subject, sw_model_problem_at(h->m, i)->reason);
    assert_int_equal(sw_model_panel_count(h->m), 16);
    /* the figures are there, and a healthy link loses nothing */
    for (size_t i = 0; i < sw_model_panel_count(h->m); i++)
        assert_true(sw_model_panel_at(h->m, i)->loss_day < 0.01);
    stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_radio),
        cmocka_unit_test(test_no_polling),
        cmocka_unit_test(test_shrink),
        cmocka_unit_test(test_firmware),
        cmocka_unit_test(test_pv_off),
        cmocka_unit_test(test_quiet_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
