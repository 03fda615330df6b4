/*
 * Unit tests for src/rct/exchange.c: one request, its replies and its
 * retries, driven by scripts of (time, event, expected answer) rows. Times
 * are made up: the exchange never reads a clock, so the scripts can walk
 * through timeouts and backoff in no time at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/rct.h"
#include "testutil.h"

#define SOC 0x959930BFu  /* battery.soc, FLOAT */
#define SN 0x7924ABD9u   /* inverter_sn, STRING */
#define LOG_ID 0x6F3876BCu

enum op { NEXT, SENT, FRAME, FAIL, RESULT, END };

typedef struct row {
    enum op op;
    int64_t now;
    /* NEXT: step and until; FRAME: frame and class; FAIL: error; RESULT: error */
    int want;
    int64_t until;
    uint8_t command;
    uint32_t id, address;
    const char *payload_hex;
} row;

typedef struct script {
    const char *name;
    sw_rct_exchange_config cfg;
    uint8_t command;
    uint32_t id;
    sw_rct_type expect;
    bool has_query;
    uint32_t query;
    row rows[24];
    /* Counters at the end. */
    uint64_t attempts, retries, timeouts, foreign, stale, cut;
} script;

#define CFG(t, r, b, bm, cut) { (t), (r), (b), (bm), false, 0, (cut) }
#define RESP(now, cls, id, hex) { FRAME, (now), (cls), 0, SW_RCT_CMD_RESPONSE, (id), 0, (hex) }

static void run(const script *sc)
{
    sw_rct_exchange ex;
    sw_rct_exchange_init(&ex, &sc->cfg);
    /* Idle: everything is foreign. */
    uint8_t four[4] = { 0 };
    sw_rct_frame idle = { .command = SW_RCT_CMD_RESPONSE, .kind = SW_RCT_FRAME_STANDARD, .id = sc->id,
                          .payload = four, .payload_len = 4, .crc_ok = true };
    assert_int_equal(sw_rct_exchange_push_frame(&ex, &idle, 0), SW_RCT_REPLY_FOREIGN);
    assert_int_equal(sw_rct_exchange_result(&ex), SW_ERR_NOT_FOUND);
    memset(&ex.counters, 0, sizeof ex.counters);
    sw_rct_exchange_start(&ex, sc->command, sc->id, sc->expect, sc->has_query ? &sc->query : NULL);
    for (size_t i = 0; sc->rows[i].op != END; i++) {
        const row *r = &sc->rows[i];
        switch (r->op) {
        case NEXT: {
            int64_t until = -1;
            sw_rct_step s = sw_rct_exchange_next(&ex, r->now, &until);
            if ((int)s != r->want)
                fail_msg("%s row %zu: step %d, want %d", sc->name, i, (int)s, r->want);
            if ((s == SW_RCT_STEP_RECEIVE || s == SW_RCT_STEP_PAUSE) && until != r->until)
                fail_msg("%s row %zu: until %lld, want %lld", sc->name, i, (long long)until, (long long)r->until);
            break;
        }
        case SENT:
            sw_rct_exchange_sent(&ex, r->now);
            break;
        case FAIL:
            sw_rct_exchange_failed(&ex, (sw_err)r->want, r->now);
            break;
        case FRAME: {
            size_t n;
            uint8_t *p = tu_hex(r->payload_hex, &n);
            sw_rct_frame f = { .command = r->command, .id = r->id, .address = r->address, .payload = p,
                               .payload_len = n, .crc_ok = true };
            f.kind = sw_rct_command_is_plant(r->command) ? SW_RCT_FRAME_PLANT : SW_RCT_FRAME_STANDARD;
            if (r->command == SW_RCT_CMD_EXTENSION)
                f.kind = SW_RCT_FRAME_EXTENSION;
            sw_rct_reply_class c = sw_rct_exchange_push_frame(&ex, &f, r->now);
            if ((int)c != r->want)
                fail_msg("%s row %zu: %s, want %s", sc->name, i, sw_rct_reply_class_name(c),
                         sw_rct_reply_class_name((sw_rct_reply_class)r->want));
            free(p);
            break;
        }
        case RESULT:
            if (sw_rct_exchange_result(&ex) != (sw_err)r->want)
                fail_msg("%s row %zu: result %s, want %s", sc->name, i, sw_err_name(sw_rct_exchange_result(&ex)),
                         sw_err_name((sw_err)r->want));
            break;
        case END:
            break;
        }
    }
    if (ex.counters.attempts != sc->attempts || ex.counters.retries != sc->retries || ex.counters.timeouts != sc->timeouts ||
        ex.counters.foreign != sc->foreign || ex.counters.stale != sc->stale || ex.counters.cut_short != sc->cut)
        fail_msg("%s: counters attempts %llu retries %llu timeouts %llu foreign %llu stale %llu cut %llu", sc->name,
                 (unsigned long long)ex.counters.attempts, (unsigned long long)ex.counters.retries,
                 (unsigned long long)ex.counters.timeouts, (unsigned long long)ex.counters.foreign,
                 (unsigned long long)ex.counters.stale, (unsigned long long)ex.counters.cut_short);
}

static const script scripts[] = {
    { "answered at once", CFG(1000, 3, 100, 2000, true), SW_RCT_CMD_READ, SOC, SW_RCT_TYPE_FLOAT, false, 0,
      { { NEXT, 0, SW_RCT_STEP_SEND, 0, 0, 0, 0, "" },
        { SENT, 10, 0, 0, 0, 0, 0, "" },
        { NEXT, 10, SW_RCT_STEP_RECEIVE, 1010, 0, 0, 0, "" },
        RESP(20, SW_RCT_REPLY_ACCEPTED, SOC, "3F000000"),
        { NEXT, 20, SW_RCT_STEP_DONE, 0, 0, 0, 0, "" },
        { RESULT, 20, SW_OK, 0, 0, 0, 0, "" },
        /* After the answer, copies are somebody else's. */
        RESP(21, SW_RCT_REPLY_FOREIGN, SOC, "3F000000"),
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      1, 0, 0, 1, 0, 0 },
    { "foreign frames are skipped", CFG(1000, 0, 0, 0, true), SW_RCT_CMD_READ, SOC, SW_RCT_TYPE_FLOAT, false, 0,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        RESP(1, SW_RCT_REPLY_FOREIGN, SN, "41424300"),                               /* another object */
        { FRAME, 2, SW_RCT_REPLY_FOREIGN, 0, SW_RCT_CMD_READ, SOC, 0, "" },         /* an echoed request */
        { FRAME, 3, SW_RCT_REPLY_FOREIGN, 0, SW_RCT_CMD_PLANT_RESPONSE, SOC, 7, "3F000000" }, /* plant kind */
        { FRAME, 4, SW_RCT_REPLY_FOREIGN, 0, SW_RCT_CMD_EXTENSION, 0, 0, "" },
        { FRAME, 5, SW_RCT_REPLY_ACCEPTED, 0, SW_RCT_CMD_LONG_RESPONSE, SOC, 0, "3F000000" },
        { RESULT, 5, SW_OK, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      1, 0, 0, 4, 0, 0 },
    { "timeouts, backoff doubling to its cap, then give up", CFG(500, 3, 100, 150, true), SW_RCT_CMD_READ, SOC,
      SW_RCT_TYPE_FLOAT, false, 0,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        { NEXT, 499, SW_RCT_STEP_RECEIVE, 500, 0, 0, 0, "" },
        { NEXT, 500, SW_RCT_STEP_PAUSE, 600, 0, 0, 0, "" },
        { NEXT, 599, SW_RCT_STEP_PAUSE, 600, 0, 0, 0, "" },
        /* Late answers to a timed-out attempt are not taken while pausing. */
        RESP(550, SW_RCT_REPLY_FOREIGN, SOC, "3F000000"),
        { NEXT, 600, SW_RCT_STEP_SEND, 0, 0, 0, 0, "" },
        { SENT, 600, 0, 0, 0, 0, 0, "" },
        { NEXT, 1100, SW_RCT_STEP_PAUSE, 1250, 0, 0, 0, "" },
        { NEXT, 1250, SW_RCT_STEP_SEND, 0, 0, 0, 0, "" },
        { SENT, 1250, 0, 0, 0, 0, 0, "" },
        { NEXT, 1750, SW_RCT_STEP_PAUSE, 1900, 0, 0, 0, "" },
        { SENT, 1900, 0, 0, 0, 0, 0, "" }, /* ignored while pausing */
        { NEXT, 1900, SW_RCT_STEP_SEND, 0, 0, 0, 0, "" },
        { SENT, 1900, 0, 0, 0, 0, 0, "" },
        { RESULT, 1900, SW_ERR_NOT_FOUND, 0, 0, 0, 0, "" },
        { NEXT, 2400, SW_RCT_STEP_DONE, 0, 0, 0, 0, "" },
        { RESULT, 2400, SW_ERR_TIMEOUT, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      4, 3, 4, 1, 0, 0 },
    { "cut short ends the attempt", CFG(500, 1, 100, 2000, true), SW_RCT_CMD_READ, SOC, SW_RCT_TYPE_FLOAT, false, 0,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        RESP(10, SW_RCT_REPLY_CUT_SHORT, SOC, "3F00"),
        { NEXT, 10, SW_RCT_STEP_PAUSE, 110, 0, 0, 0, "" },
        { NEXT, 110, SW_RCT_STEP_SEND, 0, 0, 0, 0, "" },
        { SENT, 110, 0, 0, 0, 0, 0, "" },
        RESP(120, SW_RCT_REPLY_CUT_SHORT, SOC, "3F0000000000"), /* too long is as bad */
        { NEXT, 120, SW_RCT_STEP_DONE, 0, 0, 0, 0, "" },
        { RESULT, 120, SW_ERR_RCT_BAD_PAYLOAD, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      2, 1, 0, 0, 0, 2 },
    { "cut short waits for the timeout when asked to", CFG(500, 1, 0, 0, false), SW_RCT_CMD_READ, SOC,
      SW_RCT_TYPE_FLOAT, false, 0,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        RESP(10, SW_RCT_REPLY_CUT_SHORT, SOC, "3F"),
        { NEXT, 10, SW_RCT_STEP_RECEIVE, 500, 0, 0, 0, "" },
        RESP(20, SW_RCT_REPLY_ACCEPTED, SOC, "3F800000"),
        { RESULT, 20, SW_OK, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      1, 0, 0, 0, 0, 1 },
    { "no backoff: retry at once", CFG(300, 1, 0, 0, false), SW_RCT_CMD_READ, SOC, SW_RCT_TYPE_FLOAT, false, 0,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        { NEXT, 300, SW_RCT_STEP_SEND, 0, 0, 0, 0, "" },
        { SENT, 300, 0, 0, 0, 0, 0, "" },
        { NEXT, 350, SW_RCT_STEP_RECEIVE, 600, 0, 0, 0, "" },
        { NEXT, 600, SW_RCT_STEP_DONE, 0, 0, 0, 0, "" },
        { RESULT, 600, SW_ERR_TIMEOUT, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      2, 1, 2, 0, 0, 0 },
    { "stale logger echoes", CFG(500, 0, 0, 0, true), SW_RCT_CMD_WRITE, LOG_ID, SW_RCT_TYPE_EVENT_TABLE, true,
      0x65000000u,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        { FRAME, 1, SW_RCT_REPLY_STALE, 0, SW_RCT_CMD_LONG_RESPONSE, LOG_ID, 0, "64000000" },
        { FRAME, 2, SW_RCT_REPLY_CUT_SHORT, 0, SW_RCT_CMD_LONG_RESPONSE, LOG_ID, 0, "650000000102" },
        { RESULT, 2, SW_ERR_RCT_BAD_PAYLOAD, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      1, 0, 0, 0, 1, 1 },
    { "logger answer with rows", CFG(500, 0, 0, 0, true), SW_RCT_CMD_WRITE, LOG_ID, SW_RCT_TYPE_EVENT_TABLE, true,
      0x65000000u,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        { FRAME, 1, SW_RCT_REPLY_ACCEPTED, 0, SW_RCT_CMD_LONG_RESPONSE, LOG_ID, 0,
          "65000000" "0000000100000002000000030000000400000005" },
        { RESULT, 1, SW_OK, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      1, 0, 0, 0, 0, 0 },
    { "a string without terminator is asked again", CFG(500, 3, 100, 2000, true), SW_RCT_CMD_READ, SN,
      SW_RCT_TYPE_STRING, false, 0,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        RESP(5, SW_RCT_REPLY_ASK_AGAIN, SN, "414243"),
        { NEXT, 5, SW_RCT_STEP_SEND, 0, 0, 0, 0, "" },
        { SENT, 6, 0, 0, 0, 0, 0, "" },
        RESP(7, SW_RCT_REPLY_ASK_AGAIN, SN, "41424344"), /* different: still not believed */
        { SENT, 8, 0, 0, 0, 0, 0, "" },
        RESP(9, SW_RCT_REPLY_ACCEPTED, SN, "41424344"),  /* the same twice */
        { RESULT, 9, SW_OK, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      3, 2, 0, 0, 0, 0 },
    { "a terminated string is taken at once", CFG(500, 3, 100, 2000, true), SW_RCT_CMD_READ, SN, SW_RCT_TYPE_STRING,
      false, 0,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        RESP(5, SW_RCT_REPLY_ACCEPTED, SN, "41424300"),
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      1, 0, 0, 0, 0, 0 },
    { "a string that never repeats is given up", CFG(500, 0, 0, 0, true), SW_RCT_CMD_READ, SN, SW_RCT_TYPE_STRING,
      false, 0,
      { { SENT, 0, 0, 0, 0, 0, 0, "" },
        RESP(1, SW_RCT_REPLY_ASK_AGAIN, SN, "41"),
        { SENT, 2, 0, 0, 0, 0, 0, "" },
        RESP(3, SW_RCT_REPLY_ASK_AGAIN, SN, "4142"),
        { NEXT, 3, SW_RCT_STEP_DONE, 0, 0, 0, 0, "" },
        { RESULT, 3, SW_ERR_RCT_BAD_PAYLOAD, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      2, 1, 0, 0, 0, 0 },
    { "failed attempts keep their error", CFG(500, 1, 50, 50, true), SW_RCT_CMD_READ, SOC, SW_RCT_TYPE_FLOAT, false,
      0,
      { { FAIL, 0, SW_ERR_CONNECT, 0, 0, 0, 0, "" },
        { NEXT, 0, SW_RCT_STEP_PAUSE, 50, 0, 0, 0, "" },
        { FAIL, 10, SW_ERR_IO, 0, 0, 0, 0, "" }, /* not during a pause */
        { NEXT, 50, SW_RCT_STEP_SEND, 0, 0, 0, 0, "" },
        { FAIL, 50, SW_ERR_CONNECT, 0, 0, 0, 0, "" },
        { NEXT, 50, SW_RCT_STEP_DONE, 0, 0, 0, 0, "" },
        { RESULT, 50, SW_ERR_CONNECT, 0, 0, 0, 0, "" },
        { END, 0, 0, 0, 0, 0, 0, NULL } },
      0, 1, 0, 0, 0, 0 },
};

static void test_scripts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
        run(&scripts[i]);
}

static void test_plant_address(void **state)
{
    (void)state;
    sw_rct_exchange_config cfg;
    sw_rct_exchange_config_default(&cfg);
    cfg.plant = true;
    cfg.address = 7;
    sw_rct_exchange ex;
    sw_rct_exchange_init(&ex, &cfg);
    sw_rct_exchange_start(&ex, SW_RCT_CMD_PLANT_READ, SOC, SW_RCT_TYPE_FLOAT, NULL);
    assert_int_equal(sw_rct_exchange_next(&ex, 0, NULL), SW_RCT_STEP_SEND);
    sw_rct_exchange_sent(&ex, 0);
    assert_true(sw_rct_exchange_waiting(&ex));
    uint8_t p[4] = { 0x3F, 0, 0, 0 };
    sw_rct_frame f = { .command = SW_RCT_CMD_PLANT_RESPONSE, .kind = SW_RCT_FRAME_PLANT, .address = 8, .id = SOC,
                       .payload = p, .payload_len = 4, .crc_ok = true };
    assert_int_equal(sw_rct_exchange_push_frame(&ex, &f, 1), SW_RCT_REPLY_FOREIGN);
    f.command = SW_RCT_CMD_RESPONSE;
    f.kind = SW_RCT_FRAME_STANDARD;
    f.address = 0;
    assert_int_equal(sw_rct_exchange_push_frame(&ex, &f, 1), SW_RCT_REPLY_FOREIGN);
    f.command = SW_RCT_CMD_PLANT_RESPONSE;
    f.kind = SW_RCT_FRAME_PLANT;
    f.address = 7;
    assert_int_equal(sw_rct_exchange_push_frame(&ex, &f, 1), SW_RCT_REPLY_ACCEPTED);
    assert_false(sw_rct_exchange_waiting(&ex));
    assert_int_equal(sw_rct_exchange_result(&ex), SW_OK);
    /* Restarting forgets the earlier request entirely. */
    sw_rct_exchange_start(&ex, SW_RCT_CMD_PLANT_READ, SN, SW_RCT_TYPE_STRING, NULL);
    assert_int_equal(sw_rct_exchange_result(&ex), SW_ERR_NOT_FOUND);
    assert_int_equal(sw_rct_exchange_next(&ex, 5, NULL), SW_RCT_STEP_SEND);
    assert_string_equal(sw_rct_reply_class_name(SW_RCT_REPLY_STALE), "STALE");
}

/* The receiver's frames, split at every point, classified the same way. */
static void test_split_points(void **state)
{
    (void)state;
    static uint8_t wire[256];
    size_t n = 0, k;
    uint8_t soc[4] = { 0x3F, 0x2B, 0x2D, 0x00 }; /* escapes inside the payload */
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_RESPONSE, SN, 0, (const uint8_t *)"X\0", 2, wire, sizeof wire, &k),
                     SW_OK);
    n += k;
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_RESPONSE, SOC, 0, soc, 2, wire + n, sizeof wire - n, &k), SW_OK);
    n += k;
    assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_RESPONSE, SOC, 0, soc, 4, wire + n, sizeof wire - n, &k), SW_OK);
    n += k;
    static const sw_rct_reply_class want[] = { SW_RCT_REPLY_FOREIGN, SW_RCT_REPLY_CUT_SHORT, SW_RCT_REPLY_ACCEPTED };
    static sw_rct_receiver rx;
    for (size_t split = 0; split <= n; split++) {
        sw_rct_exchange_config cfg;
        sw_rct_exchange_config_default(&cfg);
        cfg.cut_ends_attempt = false;
        sw_rct_exchange ex;
        sw_rct_exchange_init(&ex, &cfg);
        sw_rct_exchange_start(&ex, SW_RCT_CMD_READ, SOC, SW_RCT_TYPE_FLOAT, NULL);
        sw_rct_exchange_sent(&ex, 0);
        sw_rct_receiver_init(&rx);
        size_t got = 0;
        const uint8_t *parts[2] = { wire, wire + split };
        size_t lens[2] = { split, n - split };
        for (int p = 0; p < 2; p++) {
            size_t off = 0;
            while (off < lens[p]) {
                sw_rct_receiver_event ev;
                off += sw_rct_receiver_push(&rx, parts[p] + off, lens[p] - off, &ev);
                assert_int_not_equal(ev.kind, SW_RCT_RECEIVER_ERROR);
                if (ev.kind != SW_RCT_RECEIVER_FRAME)
                    continue;
                assert_true(got < 3);
                assert_int_equal(sw_rct_exchange_push_frame(&ex, &ev.frame, 1), want[got]);
                got++;
            }
        }
        assert_int_equal(got, 3);
        assert_int_equal(sw_rct_exchange_result(&ex), SW_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_plant_address),
        cmocka_unit_test(test_split_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
