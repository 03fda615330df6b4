/* Unit tests for the simulated inverter's TCP server on the event loop (loopback only). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sunwire/core.h"
#include "sunwire/loop.h"
#include "io/net.h"
#include "sunwire/rct.h"
#include "rct_io/rct_sim.h"
#include "testutil.h"

#define MORNING (sw_days_from_civil(2026, 6, 21) * 86400LL + 7 * 3600)

struct log_count {
    int accepts, closes, reads, bad;
};

static void count_log(sw_rct_sim_server *srv, const sw_rct_sim_log_event *ev, void *user)
{
    struct log_count *n = user;
    assert_non_null(srv);
    if (ev->kind == SW_RCT_SIM_LOG_ACCEPT)
        n->accepts++;
    else if (ev->kind == SW_RCT_SIM_LOG_CLOSE)
        n->closes++;
    else if (ev->kind == SW_RCT_SIM_LOG_READ)
        n->reads++;
    else if (ev->kind == SW_RCT_SIM_LOG_BAD_FRAME)
        n->bad++;
}

static int64_t fixed_clock(void *user) { return *(const int64_t *)user; }

/* Run the loop until fd has bytes or max_ms pass; then read what is there. */
static size_t pump_and_read(sw_loop *loop, int fd, uint8_t *buf, size_t cap, int max_ms)
{
    int64_t end = sw_loop_now_ms() + max_ms;
    while (sw_loop_now_ms() < end) {
        assert_int_equal(sw_loop_run_once(loop, 10), SW_OK);
        ssize_t r = recv(fd, buf, cap, MSG_DONTWAIT); /* what is there, without waiting */
        if (r > 0)
            return (size_t)r;
        assert_true(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
    return 0;
}

/* interrupt_ms > 0: the interrupt mode with that preparation time. */
static sw_rct_sim_server *start(sw_loop *loop, sw_rct_sim *sim, const sw_rct_sim_config *cfg, int64_t *now,
                                struct log_count *logs, bool broadcast, int interrupt_ms)
{
    sw_rct_sim_init(sim, cfg);
    sw_rct_sim_server_config o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.clock = fixed_clock;
    o.clock_user = now;
    o.log = count_log;
    o.log_user = logs;
    o.broadcast = broadcast;
    o.interrupt_concurrent = interrupt_ms > 0;
    o.answer_ms = interrupt_ms;
    sw_rct_sim_server *srv = NULL;
    assert_int_equal(sw_rct_sim_server_start(sim, loop, &o, &srv), SW_OK);
    assert_non_null(srv);
    assert_int_not_equal(sw_rct_sim_server_port(srv), 0);
    return srv;
}

static int connect_to(sw_loop *loop, sw_rct_sim_server *srv)
{
    int fd = -1;
    assert_int_equal(sw_tcp_connect("127.0.0.1", sw_rct_sim_server_port(srv), 2000, &fd), SW_OK);
    sw_loop_run_once(loop, 50); /* the accept */
    return fd;
}

static void send_read(int fd, uint32_t id, bool split)
{
    uint8_t f[32];
    size_t n;
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_READ, id, 0, NULL, 0, f, sizeof f, &n), SW_OK);
    if (!split) {
        assert_int_equal(sw_write_all(fd, f, n), SW_OK);
        return;
    }
    assert_int_equal(sw_write_all(fd, f, 3), SW_OK);
    usleep(20000);
    assert_int_equal(sw_write_all(fd, f + 3, n - 3), SW_OK);
}

static void test_answers_split_frames(void **state)
{
    (void)state;
    sw_loop *loop = sw_loop_new();
    assert_non_null(loop);
    static sw_rct_sim sim;
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 1);
    int64_t now = MORNING;
    struct log_count logs = { 0 };
    sw_rct_sim_server *srv = start(loop, &sim, &cfg, &now, &logs, false, 0);
    int fd = connect_to(loop, srv);
    const sw_rct_object *soc = sw_rct_registry_find_name("battery.soc");
    assert_non_null(soc);
    static uint8_t body[SW_RCT_RECEIVER_BODY_MAX];
    for (int split = 0; split < 2; split++) {
        send_read(fd, soc->id, split == 1);
        uint8_t buf[256];
        size_t n = pump_and_read(loop, fd, buf, sizeof buf, 2000);
        assert_true(n > 0);
        sw_rct_frame f;
        assert_true(sw_rct_frame_parse(buf, n, &f, body, sizeof body) > 0);
        assert_int_equal(f.command, SW_RCT_CMD_RESPONSE);
        assert_int_equal(f.id, soc->id);
        /* The answer is the simulator's value at the server's clock. */
        uint8_t want[16];
        size_t wn;
        assert_int_equal(sw_rct_sim_payload(&sim, soc, 0, now, want, sizeof want, &wn), SW_OK);
        assert_int_equal(f.payload_len, wn);
        assert_memory_equal(f.payload, want, wn);
    }
    /* Garbage costs only itself. */
    static const uint8_t junk[] = { 0x2B, 0x07, 0x00 };
    assert_int_equal(sw_write_all(fd, junk, sizeof junk), SW_OK);
    send_read(fd, soc->id, false);
    uint8_t buf[256];
    assert_true(pump_and_read(loop, fd, buf, sizeof buf, 2000) > 0);
    assert_int_equal(logs.bad, 1);
    assert_int_equal(logs.reads, 3);
    close(fd);
    for (int i = 0; i < 20 && logs.closes == 0; i++)
        sw_loop_run_once(loop, 10);
    assert_int_equal(logs.accepts, 1);
    assert_int_equal(logs.closes, 1);
    sw_rct_sim_server_stop(srv);
    sw_loop_free(loop);
}

static void test_delay_and_broadcast(void **state)
{
    (void)state;
    sw_loop *loop = sw_loop_new();
    assert_non_null(loop);
    static sw_rct_sim sim;
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 1);
    cfg.faults.delay = 1.0;
    cfg.faults.delay_ms = 150;
    int64_t now = MORNING;
    struct log_count logs = { 0 };
    sw_rct_sim_server *srv = start(loop, &sim, &cfg, &now, &logs, true, 0);
    int a = connect_to(loop, srv), b = connect_to(loop, srv);
    const sw_rct_object *soc = sw_rct_registry_find_name("battery.soc");
    int64_t t0 = sw_loop_now_ms();
    send_read(a, soc->id, false);
    uint8_t buf[256];
    /* Nothing before the delay, then the reply on the loop's timer, to both clients. */
    size_t n = pump_and_read(loop, a, buf, sizeof buf, 2000);
    assert_true(n > 0);
    assert_true(sw_loop_now_ms() - t0 >= 140);
    assert_true(pump_and_read(loop, b, buf, sizeof buf, 500) == n);
    assert_true(sim.counters.delayed >= 1);
    close(a);
    close(b);
    sw_rct_sim_server_stop(srv);
    sw_loop_free(loop);
}

/* Run the loop until the simulator has seen `requests` requests. */
static void pump_requests(sw_loop *loop, const sw_rct_sim *sim, uint64_t requests)
{
    for (int i = 0; i < 200 && sim->counters.requests < requests; i++)
        assert_int_equal(sw_loop_run_once(loop, 10), SW_OK);
    assert_int_equal(sim->counters.requests, requests);
}

/* Like a real device: a request while an answer is prepared cuts it and takes the stub. */
static void test_interrupt_concurrent(void **state)
{
    (void)state;
    sw_loop *loop = sw_loop_new();
    assert_non_null(loop);
    static sw_rct_sim sim;
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 1);
    int64_t now = MORNING;
    struct log_count logs = { 0 };
    sw_rct_sim_server *srv = start(loop, &sim, &cfg, &now, &logs, false, 500);
    int a = connect_to(loop, srv), b = connect_to(loop, srv);
    const sw_rct_object *sn = sw_rct_registry_find_name("inverter_sn");
    const sw_rct_object *soc = sw_rct_registry_find_name("battery.soc");
    uint8_t full[64];
    size_t full_len;
    assert_int_equal(sw_rct_sim_payload(&sim, sn, 0, now, full, sizeof full, &full_len), SW_OK);
    static uint8_t body[SW_RCT_RECEIVER_BODY_MAX];
    uint8_t buf[256];
    sw_rct_frame f;

    send_read(a, sn->id, false);
    pump_requests(loop, &sim, 1);
    send_read(b, soc->id, false);
    pump_requests(loop, &sim, 2);
    /* B gets A's answer at once, cut short behind a valid CRC; A gets nothing. */
    size_t n = pump_and_read(loop, b, buf, sizeof buf, 200);
    assert_true(n > 0);
    assert_true(sw_rct_frame_parse(buf, n, &f, body, sizeof body) > 0);
    assert_true(f.crc_ok);
    assert_int_equal(f.id, sn->id);
    assert_true(f.payload_len < full_len);
    assert_memory_equal(f.payload, full, f.payload_len);
    assert_int_equal(pump_and_read(loop, a, buf, sizeof buf, 100), 0);
    assert_int_equal(sim.counters.interrupted, 1);
    assert_int_equal(sim.counters.misrouted, 1);
    /* B's own answer was not interrupted: it comes whole once prepared. */
    n = pump_and_read(loop, b, buf, sizeof buf, 2000);
    assert_true(n > 0);
    assert_true(sw_rct_frame_parse(buf, n, &f, body, sizeof body) > 0);
    assert_int_equal(f.id, soc->id);
    assert_int_equal(f.payload_len, 4);
    /* One request at a time is never cut. */
    int64_t t0 = sw_loop_now_ms();
    send_read(a, sn->id, false);
    n = pump_and_read(loop, a, buf, sizeof buf, 2000);
    assert_true(n > 0);
    assert_true(sw_loop_now_ms() - t0 >= 450);
    assert_true(sw_rct_frame_parse(buf, n, &f, body, sizeof body) > 0);
    assert_int_equal(f.payload_len, full_len);
    assert_int_equal(sim.counters.interrupted, 1);
    close(a);
    close(b);
    sw_rct_sim_server_stop(srv);
    sw_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_split_frames),
        cmocka_unit_test(test_delay_and_broadcast),
        cmocka_unit_test(test_interrupt_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
