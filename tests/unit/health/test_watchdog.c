/*
 * Unit tests for the bus and controller watchdog (health/watchdog.h), from
 * synthetic event sequences: the controller falling silent and coming back,
 * a node table shrinking and growing back or the smaller one lasting,
 * network status counts below the table, a firmware change and its hold,
 * rapid shutdown with its hourly re-assert, and the transport events that
 * feed them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/watchdog.h"
#include "sunwire/tigo_pv.h"
#include "testutil.h"

#define S(n) ((int64_t)(n) * 1000000000LL)

static bool active(const sw_model *m, sw_problem_kind k, const char *subject)
{
    const sw_problem *p = sw_model_problem_find(m, k, "roof", subject);
    return p && p->active;
}

static const sw_problem *find(const sw_model *m, sw_problem_kind k, const char *subject)
{
    return sw_model_problem_find(m, k, "roof", subject);
}

typedef struct fixture {
    sw_model *m;
    sw_health_watchdog w;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->m = sw_model_new(NULL);
    sw_health_watchdog_init(&f->w, NULL, "roof");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sw_model_free(f->m);
    free(f);
    return 0;
}

static void receive_request(fixture *f, uint16_t gw, int64_t t)
{
    sw_tigo_transport_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST;
    ev.gateway_id = gw;
    sw_health_watchdog_transport(&f->w, f->m, &ev, t);
}

static void test_controller_silent(void **state)
{
    fixture *f = *state;
    sw_health_watchdog_connected(&f->w, true, S(1000));
    /* polled every 100 ms for a minute: nothing to say */
    for (int i = 0; i < 600; i++) {
        receive_request(f, 0x1201, S(1000) + i * 100000000LL);
        sw_health_watchdog_tick(&f->w, f->m, S(1000) + i * 100000000LL);
    }
    assert_false(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    int64_t last = S(1000) + 599 * 100000000LL;
    sw_health_watchdog_tick(&f->w, f->m, last + S(59));
    assert_false(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    sw_health_watchdog_tick(&f->w, f->m, last + S(60));
    assert_true(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    const sw_problem *p = find(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof");
    assert_int_equal(p->subject_kind, SW_SUBJECT_BUS);
    assert_non_null(strstr(p->reason, "60 s"));
    /* the controller polls again: cleared at once */
    receive_request(f, 0x1201, last + S(75));
    assert_false(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    assert_int_equal(p->until_ns, last + S(75));
}

static void test_controller_silent_only_while_connected(void **state)
{
    fixture *f = *state;
    /* never connected: no judgement */
    sw_health_watchdog_tick(&f->w, f->m, S(5000));
    assert_false(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    /* connected but the controller never polls: timed from the connect */
    sw_health_watchdog_connected(&f->w, true, S(6000));
    sw_health_watchdog_tick(&f->w, f->m, S(6059));
    assert_false(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    sw_health_watchdog_connected(&f->w, false, S(6059));
    sw_health_watchdog_tick(&f->w, f->m, S(7000));
    assert_false(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    /* a reconnect restarts the timer */
    sw_health_watchdog_connected(&f->w, true, S(7000));
    sw_health_watchdog_tick(&f->w, f->m, S(7030));
    assert_false(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    sw_health_watchdog_tick(&f->w, f->m, S(7061));
    assert_true(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    assert_non_null(strstr(find(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof")->reason, "since the bus connected"));
}

static void table(sw_tigo_node_record *out, size_t n, uint16_t first)
{
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].gateway = 0x1201;
        out[i].node_id = (uint16_t)(first + i);
    }
}

static void test_node_table_shrank(void **state)
{
    fixture *f = *state;
    sw_tigo_node_record t[12];
    table(t, 10, 2);
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 10, true, S(0)); /* from the state file */
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 10, false, S(600));
    assert_false(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
    /* a walk with the last three nodes gone */
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 7, false, S(1200));
    assert_true(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
    const sw_problem *p = find(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609");
    assert_int_equal(p->subject_kind, SW_SUBJECT_GATEWAY);
    assert_non_null(strstr(p->reason, "7 nodes, 10 before"));
    assert_non_null(strstr(p->reason, "9, 10, 11"));
    /* still small: still raised, since unchanged */
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 7, false, S(1800));
    assert_true(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
    assert_int_equal(p->since_ns, S(1200));
    /* all back: cleared */
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 10, false, S(2400));
    assert_false(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
    /* a new node joining is no problem and becomes the reference */
    table(t, 11, 2);
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 11, false, S(3000));
    assert_false(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 10, false, S(3600));
    assert_true(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
}

static void test_node_table_smaller_for_good(void **state)
{
    fixture *f = *state;
    sw_tigo_node_record t[10];
    table(t, 10, 2);
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 10, false, S(0));
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 8, false, S(100));
    assert_true(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
    sw_health_watchdog_tick(&f->w, f->m, S(100) + S(86399));
    assert_true(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
    /* a day later the smaller table is the installation */
    sw_health_watchdog_tick(&f->w, f->m, S(100) + S(86400));
    assert_false(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
    /* (an unchanged table is no event: the next walk that changes is a smaller one) */
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 7, false, S(90600));
    assert_true(active(f->m, SW_PROBLEM_NODE_TABLE_SHRANK, "roof/4609"));
}

static void test_nodes_missing(void **state)
{
    fixture *f = *state;
    sw_tigo_node_record t[10];
    table(t, 10, 2);
    uint16_t all[3] = {10, 10, 10}, night[3] = {0, 10, 10}, few[3] = {7, 8, 8};
    /* no table yet: nothing to compare with */
    sw_health_watchdog_network_status(&f->w, f->m, 0x1201, few, S(10));
    sw_health_watchdog_network_status(&f->w, f->m, 0x1201, few, S(70));
    assert_false(active(f->m, SW_PROBLEM_NODES_MISSING, "roof/4609"));
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 10, true, S(100));
    sw_health_watchdog_network_status(&f->w, f->m, 0x1201, all, S(120));
    sw_health_watchdog_network_status(&f->w, f->m, 0x1201, night, S(180)); /* one count low, another full */
    assert_false(active(f->m, SW_PROBLEM_NODES_MISSING, "roof/4609"));
    /* one low answer is not enough, two are */
    sw_health_watchdog_network_status(&f->w, f->m, 0x1201, few, S(240));
    assert_false(active(f->m, SW_PROBLEM_NODES_MISSING, "roof/4609"));
    sw_health_watchdog_network_status(&f->w, f->m, 0x1201, few, S(300));
    assert_true(active(f->m, SW_PROBLEM_NODES_MISSING, "roof/4609"));
    assert_non_null(strstr(find(f->m, SW_PROBLEM_NODES_MISSING, "roof/4609")->reason, "node table has 10"));
    sw_health_watchdog_network_status(&f->w, f->m, 0x1201, all, S(360));
    assert_false(active(f->m, SW_PROBLEM_NODES_MISSING, "roof/4609"));
}

static void test_firmware_changed(void **state)
{
    fixture *f = *state;
    static const char v1[] = "Mgate Version G8.61\rMar 14 2023\r", v2[] = "Mgate Version G8.65\rMay  6 2025\r";
    sw_health_watchdog_version(&f->w, f->m, 0x1201, v1, strlen(v1), true, S(0));
    sw_health_watchdog_version(&f->w, f->m, 0x1201, v1, strlen(v1), false, S(10));
    assert_false(active(f->m, SW_PROBLEM_FIRMWARE_CHANGED, "roof/4609"));
    /* another build date of the same version is no change worth telling */
    sw_health_watchdog_version(&f->w, f->m, 0x1201, "Mgate Version G8.61\rApr 1 2023\r", 31, false, S(20));
    assert_false(active(f->m, SW_PROBLEM_FIRMWARE_CHANGED, "roof/4609"));
    sw_health_watchdog_version(&f->w, f->m, 0x1201, v2, strlen(v2), false, S(100));
    assert_true(active(f->m, SW_PROBLEM_FIRMWARE_CHANGED, "roof/4609"));
    const sw_problem *p = find(f->m, SW_PROBLEM_FIRMWARE_CHANGED, "roof/4609");
    assert_string_equal(p->reason, "was \"Mgate Version G8.61\", now \"Mgate Version G8.65\"");
    /* other gateways are their own subjects */
    sw_health_watchdog_version(&f->w, f->m, 0x1202, v1, strlen(v1), false, S(100));
    assert_false(active(f->m, SW_PROBLEM_FIRMWARE_CHANGED, "roof/4610"));
    sw_health_watchdog_tick(&f->w, f->m, S(100) + S(86399));
    assert_true(active(f->m, SW_PROBLEM_FIRMWARE_CHANGED, "roof/4609"));
    sw_health_watchdog_tick(&f->w, f->m, S(100) + S(86400));
    assert_false(active(f->m, SW_PROBLEM_FIRMWARE_CHANGED, "roof/4609"));
    /* the new version is the known one now */
    sw_health_watchdog_version(&f->w, f->m, 0x1201, v2, strlen(v2), false, S(90000));
    assert_false(active(f->m, SW_PROBLEM_FIRMWARE_CHANGED, "roof/4609"));
}

static void command(fixture *f, uint8_t type, const uint8_t *data, size_t n, int64_t t)
{
    sw_tigo_transport_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_COMMAND_REQUEST;
    ev.gateway_id = 0x1201;
    ev.u.command_request.request.packet_type = type;
    ev.u.command_request.request.data = data;
    ev.u.command_request.request.data_len = n;
    sw_health_watchdog_transport(&f->w, f->m, &ev, t);
}

static void test_pv_off(void **state)
{
    fixture *f = *state;
    static const uint8_t off[2] = {0x00, 0x01}, on[2] = {0x00, 0x00};
    command(f, SW_TIGO_PT_BROADCAST, on, 2, S(10));
    command(f, SW_TIGO_PT_BROADCAST, NULL, 0, S(20)); /* empty broadcasts say nothing */
    assert_false(active(f->m, SW_PROBLEM_PV_OFF, "roof"));
    command(f, SW_TIGO_PT_BROADCAST, off, 2, S(100));
    assert_true(active(f->m, SW_PROBLEM_PV_OFF, "roof"));
    /* the hourly de-assert and re-assert of a lasting shutdown does not flap */
    command(f, SW_TIGO_PT_BROADCAST, on, 2, S(3700));
    sw_health_watchdog_tick(&f->w, f->m, S(3710));
    command(f, SW_TIGO_PT_BROADCAST, off, 2, S(3712));
    sw_health_watchdog_tick(&f->w, f->m, S(3900));
    assert_true(active(f->m, SW_PROBLEM_PV_OFF, "roof"));
    assert_int_equal(find(f->m, SW_PROBLEM_PV_OFF, "roof")->since_ns, S(100));
    /* lifted for good: cleared two minutes after the de-assert */
    command(f, SW_TIGO_PT_BROADCAST, on, 2, S(5000));
    sw_health_watchdog_tick(&f->w, f->m, S(5119));
    assert_true(active(f->m, SW_PROBLEM_PV_OFF, "roof"));
    sw_health_watchdog_tick(&f->w, f->m, S(5120));
    assert_false(active(f->m, SW_PROBLEM_PV_OFF, "roof"));
    /* other command types are not broadcasts */
    command(f, SW_TIGO_PT_NODE_TABLE_REQUEST, off, 2, S(6000));
    assert_false(active(f->m, SW_PROBLEM_PV_OFF, "roof"));
}

static void test_network_status_event(void **state)
{
    fixture *f = *state;
    sw_tigo_node_record t[10];
    table(t, 10, 2);
    sw_health_watchdog_node_table(&f->w, f->m, 0x1201, t, 10, true, S(0));
    /* 00 01 | 01 | 03 18 | 00 07 | 00 08 | 00 08: the 11-byte form with the node-ID prefix */
    static const uint8_t resp[11] = {0x00, 0x01, 0x01, 0x03, 0x18, 0x00, 0x07, 0x00, 0x08, 0x00, 0x08};
    sw_tigo_transport_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED;
    ev.gateway_id = 0x1201;
    ev.u.command.request.packet_type = SW_TIGO_PT_NETWORK_STATUS_REQUEST;
    ev.u.command.response.packet_type = SW_TIGO_PT_NETWORK_STATUS_RESPONSE;
    ev.u.command.response.data = resp;
    ev.u.command.response.data_len = sizeof resp;
    sw_health_watchdog_transport(&f->w, f->m, &ev, S(60));
    sw_health_watchdog_transport(&f->w, f->m, &ev, S(120));
    assert_true(active(f->m, SW_PROBLEM_NODES_MISSING, "roof/4609"));
    assert_non_null(strstr(find(f->m, SW_PROBLEM_NODES_MISSING, "roof/4609")->reason, "7, 8 and 8"));
}

static void test_next_due(void **state)
{
    fixture *f = *state;
    /* disconnected and nothing held: nothing to do until an event */
    assert_true(sw_health_watchdog_next_ns(&f->w, S(10)) == INT64_MAX);
    sw_health_watchdog_connected(&f->w, true, S(100));
    assert_true(sw_health_watchdog_next_ns(&f->w, S(100)) == S(160));
    receive_request(f, 0x1201, S(130));
    assert_true(sw_health_watchdog_next_ns(&f->w, S(131)) == S(190));
    /* raised: the silence needs no timer any more, a firmware hold does */
    sw_health_watchdog_tick(&f->w, f->m, S(190));
    assert_true(active(f->m, SW_PROBLEM_CONTROLLER_SILENT, "roof"));
    assert_true(sw_health_watchdog_next_ns(&f->w, S(190)) == INT64_MAX);
    sw_health_watchdog_version(&f->w, f->m, 0x1201, "A", 1, false, S(200));
    sw_health_watchdog_version(&f->w, f->m, 0x1201, "B", 1, false, S(300));
    assert_true(sw_health_watchdog_next_ns(&f->w, S(300)) == S(300) + S(86400));
    /* a time already passed is due now */
    assert_true(sw_health_watchdog_next_ns(&f->w, S(300) + S(90000)) == S(300) + S(90000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_controller_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_controller_silent_only_while_connected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_table_shrank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_table_smaller_for_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_firmware_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pv_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_status_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_due, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
