/*
 * Unit tests for report loss and the radio link (health/radio.h), from
 * synthetic report sequences: loss counted from the gaps between
 * measurement times, the 15-minute and 24-hour windows (and a shorter window
 * when configured), a period learnt
 * from the reports or set by a PV configuration request, the night's
 * silence not counted as loss, the RSSI trend, topology reports, and the
 * problem raised on loss or a falling RSSI and cleared with hysteresis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/radio.h"
#include "sunwire/tigo_pv.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)
#define GW 0x1201
#define T0 S(1780000020) /* a Unix second on a minute boundary */

typedef struct fixture {
    sw_model *m;
    sw_health_radio *r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->m = sw_model_new(NULL);
    f->r = malloc(sizeof *f->r);
    sw_health_radio_init(f->r, NULL, "roof");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sw_model_free(f->m);
    free(f->r);
    free(f);
    return 0;
}

/* A report in the model (so the panel has a record) and in the detector, then the judgement. */
static void report(fixture *f, uint16_t node, int64_t t, int rssi)
{
    sw_panel_report pr;
    memset(&pr, 0, sizeof pr);
    pr.time_ns = t;
    pr.voltage_in = 30.0;
    pr.current_in = 5.0;
    pr.rssi = rssi;
    pr.barcode = node == 2 ? "4-A2346FZ" : NULL;
    assert_int_equal(sw_health_radio_report(f->r, GW, node, t, rssi, NULL), SW_OK);
    assert_int_equal(sw_model_panel_report(f->m, "roof", GW, node, &pr), SW_OK);
    sw_health_radio_judge(f->r, f->m, GW, node, t);
}

static bool degrading(const fixture *f, const char *subject)
{
    const sw_problem *p = sw_model_problem_find(f->m, SW_PROBLEM_RADIO_DEGRADING, "roof", subject);
    return p && p->active;
}

static void test_no_loss(void **state)
{
    fixture *f = *state;
    for (int k = 0; k < 200; k++)
        report(f, 2, T0 + S(20) * k, 150);
    sw_panel_radio v;
    assert_int_equal(sw_health_radio_get(f->r, GW, 2, T0 + S(20) * 199, &v), SW_OK);
    /* the window is the minute of "now" and the 14 before it: 14 x 3 reports and the 2 of this minute */
    assert_int_equal(v.expected_15m, 44);
    assert_int_equal(v.received_15m, 44);
    assert_true(v.loss_15m == 0.0);
    assert_true(v.loss_day == 0.0);
    assert_true(v.rssi_trend == 0.0);
    assert_false(degrading(f, "4-A2346FZ"));
    assert_int_equal(sw_health_radio_get(f->r, GW, 3, T0, &v), SW_ERR_NOT_FOUND);
}

static void test_loss_counted_from_gaps(void **state)
{
    fixture *f = *state;
    /* every third report lost for 15 minutes */
    int64_t t = T0;
    int sent = 0;
    for (int k = 0; k < 45; k++) {
        t = T0 + S(20) * k;
        if (k % 3 != 2) {
            report(f, 2, t, 150);
            sent++;
        }
    }
    sw_panel_radio v;
    assert_int_equal(sw_health_radio_get(f->r, GW, 2, t, &v), SW_OK);
    assert_int_equal(v.received_15m, sent);
    assert_int_equal(v.received_15m + 14, v.expected_15m); /* 15 lost, the last one not yet seen to be lost */
    assert_true(v.loss_15m > 0.30 && v.loss_15m < 0.34);
    assert_true(degrading(f, "4-A2346FZ"));
    const sw_problem *p = sw_model_problem_find(f->m, SW_PROBLEM_RADIO_DEGRADING, "roof", "4-A2346FZ");
    assert_int_equal(p->subject_kind, SW_SUBJECT_PANEL);
    assert_non_null(strstr(p->reason, "reports lost in 15 min"));
    /* hysteresis: 15% loss keeps it raised, a clean quarter of an hour clears it */
    for (int k = 45; k < 90; k++)
        if (k % 7 != 0)
            report(f, 2, T0 + S(20) * k, 150);
    assert_true(degrading(f, "4-A2346FZ"));
    int64_t cleared_at = 0;
    for (int k = 90; k < 140; k++) {
        report(f, 2, T0 + S(20) * k, 150);
        if (!cleared_at && !degrading(f, "4-A2346FZ"))
            cleared_at = T0 + S(20) * k;
    }
    assert_true(cleared_at > 0);
    assert_true(cleared_at <= T0 + S(20) * 90 + S(15 * 60));
    /* the day keeps the memory */
    assert_int_equal(sw_health_radio_get(f->r, GW, 2, T0 + S(20) * 139, &v), SW_OK);
    assert_true(v.loss_15m == 0.0);
    assert_true(v.loss_day > 0.1);
}

/* A configured window of 30 s (2 s buckets) on a node reporting every 2 s: loss over the last 30 s only. */
static void test_short_window(void **state)
{
    fixture *f = *state;
    sw_health_radio_config c;
    sw_health_radio_config_default(&c);
    assert_true(c.window_ns == S(900));
    c.window_ns = S(30);
    c.min_expected = 10;
    sw_health_radio_init(f->r, &c, "roof");
    int64_t t = T0;
    for (int k = 0; k < 30; k++) /* a minute without loss: the period (2 s) is learnt */
        report(f, 2, t = T0 + S(2) * k, 150);
    assert_false(degrading(f, "4-A2346FZ"));
    for (int k = 30; k < 60; k++) /* every other report lost for a minute */
        if (k % 2)
            report(f, 2, t = T0 + S(2) * k, 150);
    sw_panel_radio v;
    assert_int_equal(sw_health_radio_get(f->r, GW, 2, t, &v), SW_OK);
    /* the 15 buckets of 2 s up to t: 15 periods, 8 of them reported (the first gap reaches back before) */
    assert_true(v.expected_15m >= 14 && v.expected_15m <= 16);
    assert_true(v.loss_15m > 0.4 && v.loss_15m < 0.6);
    assert_true(v.expected_day > 50); /* the day's window is still a day */
    assert_true(degrading(f, "4-A2346FZ"));
    const sw_problem *p = sw_model_problem_find(f->m, SW_PROBLEM_RADIO_DEGRADING, "roof", "4-A2346FZ");
    assert_non_null(strstr(p->reason, "reports lost in 30 s"));
    /* clean again: cleared once the 30 s hold no more than 10% loss, long before 15 minutes */
    int64_t end = t, cleared_at = 0;
    for (int k = 60; k < 120 && !cleared_at; k++) {
        report(f, 2, t = T0 + S(2) * k, 150);
        if (!degrading(f, "4-A2346FZ"))
            cleared_at = t;
    }
    assert_true(cleared_at > end + S(20));
    assert_true(cleared_at <= end + S(34));
    /* a window shorter than one nanosecond per bucket is the default */
    c.window_ns = 0;
    sw_health_radio_init(f->r, &c, "roof");
    assert_true(f->r->cfg.window_ns == S(900));
}

static void test_night_is_not_loss(void **state)
{
    fixture *f = *state;
    for (int k = 0; k < 60; k++)
        report(f, 2, T0 + S(20) * k, 150);
    /* twelve hours of darkness, then the morning */
    int64_t morning = T0 + S(20) * 60 + S(12 * 3600);
    for (int k = 0; k < 60; k++)
        report(f, 2, morning + S(20) * k, 150);
    sw_panel_radio v;
    assert_int_equal(sw_health_radio_get(f->r, GW, 2, morning + S(20) * 59, &v), SW_OK);
    assert_int_equal(v.expected_day, v.received_day);
    assert_int_equal(v.received_day, 120);
    assert_false(degrading(f, "4-A2346FZ"));
}

static void test_period_learnt_and_configured(void **state)
{
    fixture *f = *state;
    /* a 400-slot (2 s) node: the default 20 s period gives way to what the reports show */
    for (int k = 0; k < 300; k++)
        if (k % 10 != 5)
            report(f, 3, T0 + S(2) * k, 150);
    sw_panel_radio v;
    assert_int_equal(sw_health_radio_get(f->r, GW, 3, T0 + S(2) * 299, &v), SW_OK);
    assert_int_equal(v.expected_15m, 300);
    assert_int_equal(v.received_15m, 270);
    /* a PV configuration request sets the period: 4000 slots */
    static const uint8_t pvc[24] = {0x00, 0x04, 0x03, 0x00, 0x31, 0x02, 0x0F, 0xA0, 0x09, 0x7D, 0x00, 0x09,
                                    0x02, 0, 0, 0, 0, 0, 0x30, 0x02, 0, 0, 0, 0};
    sw_tigo_transport_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_COMMAND_REQUEST;
    ev.gateway_id = GW;
    ev.u.command_request.request.packet_type = SW_TIGO_PT_PV_CONFIGURATION_REQUEST;
    ev.u.command_request.request.data = pvc;
    ev.u.command_request.request.data_len = sizeof pvc;
    sw_health_radio_transport(f->r, &ev);
    /* node 4 now reports every 40 s: every other report of its 20 s period is lost */
    for (int k = 0; k < 30; k++)
        report(f, 4, T0 + S(40) * k, 150);
    assert_int_equal(sw_health_radio_get(f->r, GW, 4, T0 + S(40) * 29, &v), SW_OK);
    assert_true(v.loss_15m > 0.45 && v.loss_15m < 0.55);
}

static void test_rssi_trend(void **state)
{
    fixture *f = *state;
    /* three hours at 160, then the signal falls by 2 per report */
    int k = 0;
    for (; k < 540; k++)
        report(f, 2, T0 + S(20) * k, 160);
    assert_false(degrading(f, "4-A2346FZ"));
    int64_t raised_at = 0;
    for (int j = 0; j < 40; j++, k++) {
        report(f, 2, T0 + S(20) * k, 160 - 2 * j);
        if (!raised_at && degrading(f, "4-A2346FZ"))
            raised_at = T0 + S(20) * k;
    }
    assert_true(raised_at > 0);
    sw_panel_radio v;
    assert_int_equal(sw_health_radio_get(f->r, GW, 2, T0 + S(20) * (k - 1), &v), SW_OK);
    assert_true(v.rssi_trend < -20.0);
    assert_true(v.loss_15m == 0.0);
    assert_non_null(strstr(sw_model_problem_find(f->m, SW_PROBLEM_RADIO_DEGRADING, "roof", "4-A2346FZ")->reason,
                           "RSSI -"));
    /* back to 160: the 15-minute mean recovers and the problem clears */
    for (int j = 0; j < 60; j++, k++)
        report(f, 2, T0 + S(20) * k, 160);
    assert_false(degrading(f, "4-A2346FZ"));
}

static void test_topology(void **state)
{
    fixture *f = *state;
    uint8_t d[22] = {0x00, 0x02, 0x00, 0x05, 0x00, 0x01, 0x00, 0x02, 0x04, 0xC0, 0x5B, 0x40, 0x00, 0x9A, 0x57, 0xBB,
                     0x9F, 0x01, 0xE9, 0xE1, 0x08, 0x95};
    sw_tigo_transport_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_PV_PACKET;
    ev.gateway_id = GW;
    ev.u.pv_packet.packet.type = SW_TIGO_PT_TOPOLOGY_REPORT;
    ev.u.pv_packet.packet.node_id = 5;
    ev.u.pv_packet.packet.data = d;
    ev.u.pv_packet.packet.data_len = sizeof d;
    sw_health_radio_transport(f->r, &ev);
    report(f, 5, T0, 150);
    sw_panel_radio v;
    assert_int_equal(sw_health_radio_get(f->r, GW, 5, T0, &v), SW_OK);
    assert_int_equal(v.next_hop, 1);
    d[5] = 0x04; /* now through node 4 */
    sw_health_radio_transport(f->r, &ev);
    assert_int_equal(sw_health_radio_get(f->r, GW, 5, T0, &v), SW_OK);
    assert_int_equal(v.next_hop, 4);
    assert_int_equal(f->r->panels[0].hop_changes, 1);
    /* a short (undecodable) topology report changes nothing */
    ev.u.pv_packet.packet.data_len = 10;
    d[5] = 0x07;
    sw_health_radio_transport(f->r, &ev);
    assert_int_equal(sw_health_radio_get(f->r, GW, 5, T0, &v), SW_OK);
    assert_int_equal(v.next_hop, 4);
}

static void test_blind_spans_are_not_loss(void **state)
{
    fixture *f = *state;
    for (int k = 0; k < 30; k++)
        report(f, 2, T0 + S(20) * k, 150);
    /* five minutes in which the controller did not poll: what was measured then is gone */
    sw_health_radio_blind(f->r, T0 + S(20) * 30, T0 + S(20) * 45);
    for (int k = 45; k < 75; k++)
        report(f, 2, T0 + S(20) * k, 150);
    sw_panel_radio v;
    assert_int_equal(sw_health_radio_get(f->r, GW, 2, T0 + S(20) * 74, &v), SW_OK);
    assert_true(v.loss_day == 0.0);
    /* the same silence without the span is loss */
    for (int k = 90; k < 100; k++)
        report(f, 2, T0 + S(20) * k, 150);
    assert_int_equal(sw_health_radio_get(f->r, GW, 2, T0 + S(20) * 99, &v), SW_OK);
    assert_int_equal(v.expected_day - v.received_day, 15);
}

static void test_full_table(void **state)
{
    fixture *f = *state;
    for (unsigned i = 0; i < SW_HEALTH_RADIO_MAX_PANELS; i++)
        assert_int_equal(sw_health_radio_report(f->r, GW, (uint16_t)(2 + i), T0, 150, NULL), SW_OK);
    assert_int_equal(sw_health_radio_report(f->r, GW + 1, 2, T0, 150, NULL), SW_ERR_NO_SPACE);
    assert_int_equal(f->r->dropped, 1);
    /* the tick judges every panel without a model record quietly */
    sw_health_radio_tick(f->r, f->m, T0 + S(60));
    assert_int_equal(sw_model_problem_count(f->m), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loss_counted_from_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_night_is_not_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_period_learnt_and_configured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rssi_trend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topology, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blind_spans_are_not_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
