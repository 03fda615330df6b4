/* Unit tests for the simulated inverter's answers (sans-I/O part). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/rct.h"
#include "rct_io/rct_sim.h"
#include "testutil.h"

/* 2026-06-21 07:00 UTC: morning, the sun is up and the battery is charging. */
#define MORNING (sw_days_from_civil(2026, 6, 21) * 86400LL + 7 * 3600)

static sw_rct_receiver rx;

/* Parse exactly one frame out of bytes, fed at every split point; all splits must agree. */
static void parse_one(const uint8_t *wire, size_t n, sw_rct_frame *out, uint8_t *payload_copy)
{
    size_t got_len = 0;
    uint8_t first[512];
    for (size_t split = 0; split <= n; split++) {
        sw_rct_receiver_init(&rx);
        sw_rct_receiver_event ev = { 0 };
        size_t off = 0;
        int frames = 0;
        const uint8_t *parts[2] = { wire, wire + split };
        size_t lens[2] = { split, n - split };
        for (int p = 0; p < 2; p++) {
            size_t o = 0;
            while (o < lens[p]) {
                size_t used = sw_rct_receiver_push(&rx, parts[p] + o, lens[p] - o, &ev);
                o += used;
                off += used;
                assert_int_not_equal(ev.kind, SW_RCT_RECEIVER_ERROR);
                if (ev.kind == SW_RCT_RECEIVER_FRAME) {
                    frames++;
                    if (split == 0) {
                        *out = ev.frame;
                        memcpy(payload_copy, ev.frame.payload, ev.frame.payload_len);
                        memcpy(first, ev.frame.payload, ev.frame.payload_len);
                        got_len = ev.frame.payload_len;
                        out->payload = payload_copy;
                    } else {
                        assert_int_equal(ev.frame.payload_len, got_len);
                        assert_memory_equal(ev.frame.payload, first, got_len);
                        assert_int_equal(ev.frame.id, out->id);
                        assert_int_equal(ev.frame.command, out->command);
                    }
                }
                if (ev.kind == SW_RCT_RECEIVER_NEED_MORE)
                    break;
            }
        }
        assert_int_equal(frames, 1);
        assert_int_equal(off, n);
    }
}

static sw_rct_frame request(uint8_t cmd, uint32_t id, uint32_t addr, const uint8_t *payload, size_t len,
                            uint8_t *pbuf)
{
    uint8_t wire[600];
    size_t n;
    assert_int_equal(sw_rct_frame_build(cmd, id, addr, payload, len, wire, sizeof wire, &n), SW_OK);
    sw_rct_frame f;
    parse_one(wire, n, &f, pbuf);
    return f;
}

/* Static mode answers byte for byte like rctclient's simulator, and stays silent where it does. */
static void test_static_matches_rctclient(void **state)
{
    (void)state;
    json_t *root = tu_load_json("rct/simulator_read_responses.json");
    json_t *vecs = tu_get(root, "vectors");
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 1);
    cfg.static_values = true;
    static sw_rct_sim sim;
    sw_rct_sim_init(&sim, &cfg);
    size_t i, answered = 0, silent = 0;
    json_t *v;
    static uint8_t out[SW_RCT_SIM_REPLY_MAX];
    json_array_foreach(vecs, i, v) {
        size_t qn;
        uint8_t *q = tu_hex_member(v, "request_hex", &qn);
        uint8_t pbuf[512];
        sw_rct_frame f;
        parse_one(q, qn, &f, pbuf);
        sw_rct_sim_reply r;
        assert_int_equal(sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r), SW_OK);
        json_t *resp = json_object_get(v, "response_hex");
        if (json_is_null(resp)) {
            assert_int_equal(r.len, 0);
            silent++;
        } else {
            size_t an;
            uint8_t *want = tu_hex(json_string_value(resp), &an);
            assert_int_equal(r.len, an);
            assert_memory_equal(out, want, an);
            free(want);
            answered++;
        }
        free(q);
    }
    assert_int_equal(answered, 826);
    assert_int_equal(silent, 69);
    /* Writes and plant reads get no answer in static mode, as in rctclient. */
    uint8_t pbuf[64];
    const uint8_t four[4] = { 0x3F, 0, 0, 0 };
    sw_rct_frame w = request(SW_RCT_CMD_WRITE, 0x959930BF, 0, four, 4, pbuf);
    sw_rct_sim_reply r;
    sw_rct_sim_answer(&sim, &w, MORNING, out, sizeof out, &r);
    assert_int_equal(r.len, 0);
    json_decref(root);
}

static bool contains(const uint8_t *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(h + i, needle, k) == 0)
            return true;
    return false;
}

static bool is_plausible_float_zero_ok(const char *name)
{
    /* Objects that are legitimately zero in a healthy plant; settings at their factory value 0. */
    return strstr(name, "fault") != NULL || strcmp(name, "p_rec_lim[1]") == 0 ||
           strcmp(name, "power_mng.battery_power_extern") == 0;
}

/* Dynamic mode: every object answers, the answer decodes, no placeholder values. */
static void test_dynamic_every_object(void **state)
{
    (void)state;
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 7);
    static sw_rct_sim sim;
    sw_rct_sim_init(&sim, &cfg);
    static uint8_t out[SW_RCT_SIM_REPLY_MAX];
    static uint8_t storage[1 << 16];
    size_t zeros = 0;
    for (size_t i = 0; i < sw_rct_registry_count(); i++) {
        const sw_rct_object *o = sw_rct_registry_at(i);
        uint8_t pbuf[512];
        sw_rct_frame f = request(SW_RCT_CMD_READ, o->id, 0, NULL, 0, pbuf);
        sw_rct_sim_reply r;
        assert_int_equal(sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r), SW_OK);
        assert_true(r.len > 0);
        static uint8_t rbuf[SW_RCT_SIM_REPLY_MAX];
        sw_rct_frame a;
        parse_one(out, r.len, &a, rbuf);
        assert_int_equal(a.id, o->id);
        assert_true(a.crc_ok);
        bool logger = o->response_type == SW_RCT_TYPE_TIMESERIES || o->response_type == SW_RCT_TYPE_EVENT_TABLE;
        assert_int_equal(a.command, logger ? SW_RCT_CMD_LONG_RESPONSE : SW_RCT_CMD_RESPONSE);
        sw_rct_value v;
        assert_int_equal(sw_rct_decode_reply(&a, NULL, &v, storage, sizeof storage), SW_OK);
        if (v.type == SW_RCT_TYPE_STRING) {
            assert_true(v.u.str.len > 0);
            assert_false(contains(v.u.str.bytes, v.u.str.len, "ABCDEFG"));
            assert_true(a.payload_len == v.u.str.len + 1); /* terminated */
        }
        if (v.type == SW_RCT_TYPE_FLOAT && v.u.f == 0.0 && !is_plausible_float_zero_ok(o->name)) {
            print_message("zero: %s\n", o->name);
            zeros++;
        }
        if ((v.type == SW_RCT_TYPE_UINT8 || v.type == SW_RCT_TYPE_UINT16 || v.type == SW_RCT_TYPE_UINT32 ||
             v.type == SW_RCT_TYPE_INT8 || v.type == SW_RCT_TYPE_INT16 || v.type == SW_RCT_TYPE_INT32) &&
            v.u.i == 0)
            assert_non_null(strstr(o->name, "fault"));
    }
    assert_int_equal(zeros, 0);
}

/* What the simulator answers for `name` at t, decoded with the object's type. */
static sw_rct_value read_value(sw_rct_sim *sim, const char *name, int64_t t)
{
    const sw_rct_object *o = sw_rct_registry_find_name(name);
    assert_non_null(o);
    uint8_t p[64];
    size_t n;
    assert_int_equal(sw_rct_sim_payload(sim, o, 0, t, p, sizeof p, &n), SW_OK);
    sw_rct_value v;
    assert_int_equal(sw_rct_value_decode(o->response_type, p, n, &v, NULL, 0), SW_OK);
    return v;
}

static double read_float(sw_rct_sim *sim, const char *name, int64_t t)
{
    sw_rct_value v = read_value(sim, name, t);
    assert_int_equal(v.type, SW_RCT_TYPE_FLOAT);
    return v.u.f;
}

/* A simulator with seed 3; returns the start of 21 June 2026 (UTC). */
static int64_t midsummer_sim(sw_rct_sim *sim, sw_rct_sim_config *cfg)
{
    sw_rct_sim_config_default(cfg, 3);
    sw_rct_sim_init(sim, cfg);
    return sw_days_from_civil(2026, 6, 21) * 86400LL;
}

/* The values follow the day: PV at noon, none at night; SoC a fraction; counters grow. */
static void test_dynamic_values_follow_the_day(void **state)
{
    (void)state;
    sw_rct_sim_config cfg;
    static sw_rct_sim sim;
    int64_t day = midsummer_sim(&sim, &cfg);
    assert_true(read_float(&sim, "dc_conv.dc_conv_struct[0].p_dc_lp", day + 11 * 3600) > 100.0);
    assert_true(read_float(&sim, "dc_conv.dc_conv_struct[0].p_dc_lp", day + 0 * 3600 + 30) == 0.0);
    double prev = 0;
    for (int64_t t = day; t < day + 3 * 86400; t += 3600) {
        double soc = read_float(&sim, "battery.soc", t);
        assert_true(soc >= 0.0 && soc <= 1.0);
        double total = read_float(&sim, "energy.e_ac_total", t);
        assert_true(total >= prev);
        prev = total;
        double today = read_float(&sim, "energy.e_ac_day", t);
        assert_true(today >= 0 && today < 100000);
        double hz = read_float(&sim, "grid_pll[0].f", t);
        assert_true(hz > 49.8 && hz < 50.2);
    }
    /* The grid balances the house: load = pv + battery + grid (within float rounding), the
     * battery counted as the device does, positive while it discharges. */
    int64_t t = day + 9 * 3600;
    double pv = read_float(&sim, "dc_conv.dc_conv_struct[0].p_dc_lp", t) +
                read_float(&sim, "dc_conv.dc_conv_struct[1].p_dc_lp", t);
    double bat = read_float(&sim, "g_sync.p_acc_lp", t);
    double grid = read_float(&sim, "g_sync.p_ac_grid_sum_lp", t);
    double load = read_float(&sim, "g_sync.p_ac_load_sum_lp", t);
    assert_true(fabs(pv + bat + grid - load) < 0.01 * (load + pv));
    /* The sign follows the state of charge: negative while it rises, positive while it falls. */
    int rising = 0, falling = 0;
    for (int64_t m = 0; m < 24 * 60; m += 10) {
        int64_t a = day + m * 60;
        double soc0 = read_float(&sim, "battery.soc", a), soc1 = read_float(&sim, "battery.soc", a + 60);
        double b = read_float(&sim, "g_sync.p_acc_lp", a);
        if (soc1 > soc0 + 1e-6) {
            assert_true(b < 0);
            rising++;
        } else if (soc1 < soc0 - 1e-6) {
            assert_true(b > 0);
            falling++;
        }
    }
    assert_true(rising > 0 && falling > 0);
}

/* Energy counters with the device's signs: feed-in negative (its size grows while the house
 * exports), battery energy in and out and the cycles growing. */
static void test_energy_counters_as_the_device_sends_them(void **state)
{
    (void)state;
    sw_rct_sim_config cfg;
    static sw_rct_sim sim;
    int64_t day = midsummer_sim(&sim, &cfg);
    double feed0 = read_float(&sim, "energy.e_grid_feed_total", day);
    double in0 = read_float(&sim, "battery.stored_energy", day);
    double out0 = read_float(&sim, "battery.used_energy", day);
    int64_t cycles0 = read_value(&sim, "battery.cycles", day).u.i;
    bool exported = false;
    for (int64_t t = day + 600; t < day + 86400; t += 600) {
        double feed = read_float(&sim, "energy.e_grid_feed_total", t);
        assert_true(feed < 0);
        assert_true(feed <= feed0);
        exported |= feed < feed0;
        double today = read_float(&sim, "energy.e_grid_feed_day", t);
        assert_true(today <= 0);
        assert_true(read_float(&sim, "energy.e_grid_load_total", t) > 0);
        double in = read_float(&sim, "battery.stored_energy", t), out = read_float(&sim, "battery.used_energy", t);
        assert_true(in >= in0 && out >= out0);
        int64_t cycles = read_value(&sim, "battery.cycles", t).u.i;
        assert_true(cycles >= cycles0);
        /* one cycle per capacity's worth of discharge */
        assert_true(fabs((double)cycles - out / cfg.model.battery_wh) <= 1.0);
        feed0 = feed, in0 = in, out0 = out, cycles0 = cycles;
    }
    assert_true(exported);
    assert_true(in0 > 0 && out0 > 0);
}

/* Logger queries: the echo, descending timestamps before the query, a well-formed layout. */
static void test_logger_answers(void **state)
{
    (void)state;
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 11);
    static sw_rct_sim sim;
    sw_rct_sim_init(&sim, &cfg);
    static uint8_t out[SW_RCT_SIM_REPLY_MAX];
    static uint8_t storage[1 << 16];
    uint32_t q = (uint32_t)(MORNING + 3600 + 123);
    size_t series = 0;
    for (size_t i = 0; i < sw_rct_registry_count(); i++) {
        const sw_rct_object *o = sw_rct_registry_at(i);
        if (o->response_type != SW_RCT_TYPE_TIMESERIES && o->response_type != SW_RCT_TYPE_EVENT_TABLE)
            continue;
        uint8_t qp[4];
        sw_put_be32(qp, q);
        uint8_t pbuf[64];
        sw_rct_frame f = request(SW_RCT_CMD_WRITE, o->id, 0, qp, 4, pbuf);
        sw_rct_sim_reply r;
        assert_int_equal(sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r), SW_OK);
        assert_true(r.len > 0);
        static uint8_t rbuf[SW_RCT_SIM_REPLY_MAX];
        sw_rct_frame a;
        parse_one(out, r.len, &a, rbuf);
        assert_int_equal(a.command, SW_RCT_CMD_LONG_RESPONSE);
        assert_int_equal(sw_be32(a.payload), q);
        sw_rct_value v;
        assert_int_equal(sw_rct_decode_reply(&a, NULL, &v, storage, sizeof storage), SW_OK);
        if (o->response_type == SW_RCT_TYPE_TIMESERIES) {
            assert_true(v.u.ts.n_points >= 8);
            uint32_t last = q;
            for (size_t k = 0; k < v.u.ts.n_points; k++) {
                assert_true(v.u.ts.points[k].timestamp < last);
                last = v.u.ts.points[k].timestamp;
                assert_true(isfinite(v.u.ts.points[k].value));
            }
            series++;
        } else {
            assert_true(v.u.events.n_rows > 0);
            for (size_t k = 0; k < v.u.events.n_rows; k++) {
                assert_true(v.u.events.rows[k].timestamp < q);
                assert_true(v.u.events.rows[k].entry_type < 256);
            }
        }
    }
    assert_int_equal(series, 44);
}

static void test_faults(void **state)
{
    (void)state;
    const sw_rct_object *soc = sw_rct_registry_find_name("battery.soc");
    static uint8_t out[SW_RCT_SIM_REPLY_MAX];
    uint8_t pbuf[64];
    sw_rct_frame f = request(SW_RCT_CMD_READ, soc->id, 0, NULL, 0, pbuf);
    sw_rct_sim_config cfg;
    static sw_rct_sim sim;
    sw_rct_sim_reply r;

    sw_rct_sim_config_default(&cfg, 5);
    cfg.faults.drop = 1.0;
    sw_rct_sim_init(&sim, &cfg);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    assert_int_equal(r.len, 0);
    assert_true(r.dropped);

    sw_rct_sim_config_default(&cfg, 5);
    cfg.faults.truncate = 1.0;
    sw_rct_sim_init(&sim, &cfg);
    for (int k = 0; k < 20; k++) {
        sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
        static uint8_t rbuf[SW_RCT_SIM_REPLY_MAX];
        sw_rct_frame a;
        parse_one(out, r.len, &a, rbuf);
        assert_true(a.crc_ok); /* cut, yet a valid CRC */
        assert_true(a.payload_len < 4);
        sw_rct_value v;
        assert_int_not_equal(sw_rct_value_decode(SW_RCT_TYPE_FLOAT, a.payload, a.payload_len, &v, NULL, 0), SW_OK);
    }

    sw_rct_sim_config_default(&cfg, 5);
    cfg.faults.foreign = 1.0;
    sw_rct_sim_init(&sim, &cfg);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    assert_true(r.foreign);
    sw_rct_receiver_init(&rx);
    sw_rct_receiver_event ev;
    size_t off = 0;
    uint32_t ids[2];
    for (int k = 0; k < 2; k++) {
        off += sw_rct_receiver_push(&rx, out + off, r.len - off, &ev);
        assert_int_equal(ev.kind, SW_RCT_RECEIVER_FRAME);
        ids[k] = ev.frame.id;
    }
    assert_int_equal(off, r.len);
    assert_int_not_equal(ids[0], soc->id);
    assert_int_equal(ids[1], soc->id);

    sw_rct_sim_config_default(&cfg, 5);
    cfg.faults.delay = 1.0;
    cfg.faults.delay_ms = 250;
    sw_rct_sim_init(&sim, &cfg);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    assert_int_equal(r.delay_ms, 250);
    assert_true(r.len > 0);

    /* A rate picks some requests, repeatably for a seed. */
    sw_rct_sim_config_default(&cfg, 5);
    cfg.faults.drop = 0.3;
    sw_rct_sim_init(&sim, &cfg);
    int dropped = 0;
    bool pattern[200];
    for (int k = 0; k < 200; k++) {
        sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
        pattern[k] = r.dropped;
        dropped += r.dropped;
    }
    assert_true(dropped > 30 && dropped < 90);
    sw_rct_sim_init(&sim, &cfg);
    for (int k = 0; k < 200; k++) {
        sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
        assert_int_equal(r.dropped, pattern[k]);
    }
}

static void test_plant_and_write(void **state)
{
    (void)state;
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 9);
    cfg.plant_addresses[0] = 7;
    cfg.n_plant = 1;
    static sw_rct_sim sim;
    sw_rct_sim_init(&sim, &cfg);
    static uint8_t out[SW_RCT_SIM_REPLY_MAX];
    const sw_rct_object *soc = sw_rct_registry_find_name("battery.soc");
    uint8_t pbuf[64];
    sw_rct_sim_reply r;
    /* The documented plant read of battery.soc at address 7. */
    size_t qn;
    uint8_t *q = tu_hex("2B41080000000795993" "0BF7D9E", &qn);
    sw_rct_frame f;
    parse_one(q, qn, &f, pbuf);
    free(q);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    static uint8_t rbuf[SW_RCT_SIM_REPLY_MAX];
    sw_rct_frame a;
    parse_one(out, r.len, &a, rbuf);
    assert_int_equal(a.command, SW_RCT_CMD_PLANT_RESPONSE);
    assert_int_equal(a.address, 7);
    assert_int_equal(a.id, soc->id);
    f = request(SW_RCT_CMD_PLANT_READ, soc->id, 8, NULL, 0, pbuf);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    assert_int_equal(r.len, 0);

    /* A write is kept and confirmed; reading gives it back. */
    const sw_rct_object *tgt = sw_rct_registry_find_name("battery.soc_target");
    const uint8_t val[4] = { 0x3F, 0x4C, 0xCC, 0xCD }; /* 0.8f */
    f = request(SW_RCT_CMD_WRITE, tgt->id, 0, val, 4, pbuf);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    parse_one(out, r.len, &a, rbuf);
    assert_int_equal(a.command, SW_RCT_CMD_RESPONSE);
    assert_memory_equal(a.payload, val, 4);
    f = request(SW_RCT_CMD_READ, tgt->id, 0, NULL, 0, pbuf);
    sw_rct_sim_answer(&sim, &f, MORNING + 100, out, sizeof out, &r);
    parse_one(out, r.len, &a, rbuf);
    assert_memory_equal(a.payload, val, 4);
    /* A write that does not decode for the type is ignored. */
    f = request(SW_RCT_CMD_WRITE, tgt->id, 0, val, 3, pbuf);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    assert_int_equal(r.len, 0);
    /* Unknown ids and odd commands stay unanswered. */
    f = request(SW_RCT_CMD_READ, 0x12345678, 0, NULL, 0, pbuf);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    assert_int_equal(r.len, 0);
    f = request(SW_RCT_CMD_RESPONSE, soc->id, 0, val, 4, pbuf);
    sw_rct_sim_answer(&sim, &f, MORNING, out, sizeof out, &r);
    assert_int_equal(r.len, 0);
}

static void test_deterministic(void **state)
{
    (void)state;
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 42);
    static sw_rct_sim a, b;
    sw_rct_sim_init(&a, &cfg);
    sw_rct_sim_init(&b, &cfg);
    for (size_t i = 0; i < sw_rct_registry_count(); i += 7) {
        const sw_rct_object *o = sw_rct_registry_at(i);
        uint8_t pa[1024], pb[1024];
        size_t na, nb;
        sw_err ea = sw_rct_sim_payload(&a, o, 0, MORNING, pa, sizeof pa, &na);
        sw_err eb = sw_rct_sim_payload(&b, o, 0, MORNING, pb, sizeof pb, &nb);
        assert_int_equal(ea, eb);
        if (ea == SW_OK) {
            assert_int_equal(na, nb);
            assert_memory_equal(pa, pb, na);
        }
    }
}

/* One WRITE of a float to name; true when the simulator answered it. */
static bool write_float(sw_rct_sim *sim, const char *name, float value)
{
    const sw_rct_object *o = sw_rct_registry_find_name(name);
    assert_non_null(o);
    uint8_t payload[4], pbuf[64];
    uint32_t bits;
    memcpy(&bits, &value, 4);
    sw_put_be32(payload, bits);
    sw_rct_frame f = request(SW_RCT_CMD_WRITE, o->id, 0, payload, 4, pbuf);
    static uint8_t out[SW_RCT_SIM_REPLY_MAX];
    sw_rct_sim_reply r;
    assert_int_equal(sw_rct_sim_answer(sim, &f, 0, out, sizeof out, &r), SW_OK);
    return r.len > 0;
}

/* Controls: documented limits enforced, writes ignored at the fault rate, values forgotten after a "restart". */
static void test_control_writes(void **state)
{
    (void)state;
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, 5);
    static sw_rct_sim sim;
    sw_rct_sim_init(&sim, &cfg);
    assert_true(fabs(read_float(&sim, "power_mng.soc_min", 0) - 0.07) < 1e-6);
    assert_false(write_float(&sim, "power_mng.soc_min", 2.0f));
    assert_false(write_float(&sim, "power_mng.soc_min", 0.01f));
    assert_int_equal(sim.counters.refused_writes, 2);
    assert_true(fabs(read_float(&sim, "power_mng.soc_min", 0) - 0.07) < 1e-6);
    assert_true(write_float(&sim, "power_mng.soc_min", 0.3f));
    assert_true(read_float(&sim, "power_mng.soc_min", 0) == (double)0.3f);
    /* Objects that are no control keep taking any value. */
    assert_true(write_float(&sim, "battery.soc_target", 7.0f));

    cfg.faults.ignore_write = 0.5;
    cfg.faults.revert_after = 3;
    sw_rct_sim_init(&sim, &cfg);
    int taken = 0;
    for (int i = 0; i < 40; i++)
        taken += write_float(&sim, "power_mng.soc_max", 0.9f);
    assert_int_equal((uint64_t)(40 - taken), sim.counters.ignored_writes);
    assert_true(taken > 5 && taken < 35);
    sw_rct_sim_init(&sim, &cfg);
    while (!write_float(&sim, "power_mng.soc_max", 0.9f))
        ;
    /* Two more requests and it is still there; the third forgets it. */
    const sw_rct_object *o = sw_rct_registry_find_name("battery.soc");
    uint8_t pbuf[16];
    static uint8_t out[SW_RCT_SIM_REPLY_MAX];
    sw_rct_sim_reply r;
    sw_rct_frame f = request(SW_RCT_CMD_READ, o->id, 0, NULL, 0, pbuf);
    for (int i = 0; i < 2; i++)
        assert_int_equal(sw_rct_sim_answer(&sim, &f, 0, out, sizeof out, &r), SW_OK);
    assert_true(read_float(&sim, "power_mng.soc_max", 0) == (double)0.9f);
    assert_int_equal(sw_rct_sim_answer(&sim, &f, 0, out, sizeof out, &r), SW_OK);
    assert_true(fabs(read_float(&sim, "power_mng.soc_max", 0) - 0.97) < 1e-6);
    assert_int_equal(sim.counters.reverted, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_matches_rctclient),
        cmocka_unit_test(test_dynamic_every_object),
        cmocka_unit_test(test_dynamic_values_follow_the_day),
        cmocka_unit_test(test_energy_counters_as_the_device_sends_them),
        cmocka_unit_test(test_logger_answers),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_plant_and_write),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_control_writes),
    };
    return cmocka_run_group_tests_name("rct_io/rct_sim", tests, NULL, NULL);
}
