/*
 * Unit tests for src/rct/proxy.c: what a proxy client's frame asks for
 * (table of frames built on the wire and parsed back), and the answer cache
 * (lifetimes, overrides, plant addresses, eviction, invalidation) with
 * made-up times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rct/proxy.h"
#include "sunwire/core.h"
#include "sunwire/rct.h"
#include "testutil.h"

#define SOC 0x959930BFu        /* battery.soc, FLOAT */
#define SOC_TARGET 0x8B9FF008u /* battery.soc_target, FLOAT, writable */
#define EVENTS 0x6F3876BCu     /* logger.error_log_time_stamp, the event table */

/* Build a frame and parse it back, as the proxy's receiver would hand it over. */
static void parse(uint8_t cmd, uint32_t id, uint32_t address, const uint8_t *payload, size_t len, sw_rct_frame *f,
                  uint8_t *body)
{
    uint8_t wire[512];
    size_t n;
    assert_int_equal(sw_rct_frame_build(cmd, id, address, payload, len, wire, sizeof wire, &n), SW_OK);
    assert_true(sw_rct_frame_parse(wire, n, f, body, SW_RCT_RECEIVER_BODY_MAX) > 0);
}

static void test_classify(void **state)
{
    (void)state;
    static const uint8_t four[4] = { 0x65, 0x00, 0x00, 0x00 };
    static const uint8_t three[3] = { 1, 2, 3 };
    struct {
        uint8_t cmd;
        uint32_t id, address;
        const uint8_t *payload;
        size_t len;
        sw_rct_proxy_kind kind;
        sw_err why;
        bool plant, has_query;
        sw_rct_type expect;
    } rows[] = {
        { SW_RCT_CMD_READ, SOC, 0, NULL, 0, SW_RCT_PROXY_READ, SW_OK, false, false, SW_RCT_TYPE_FLOAT },
        { SW_RCT_CMD_PLANT_READ, SOC, 7, NULL, 0, SW_RCT_PROXY_READ, SW_OK, true, false, SW_RCT_TYPE_FLOAT },
        { SW_RCT_CMD_WRITE, SOC_TARGET, 0, four, 4, SW_RCT_PROXY_WRITE, SW_OK, false, false, SW_RCT_TYPE_FLOAT },
        { SW_RCT_CMD_PLANT_WRITE, SOC_TARGET, 2, four, 4, SW_RCT_PROXY_WRITE, SW_OK, true, false,
          SW_RCT_TYPE_FLOAT },
        /* a logger query writes a time: it changes nothing and must be echoed */
        { SW_RCT_CMD_WRITE, EVENTS, 0, four, 4, SW_RCT_PROXY_QUERY, SW_OK, false, true, SW_RCT_TYPE_EVENT_TABLE },
        { SW_RCT_CMD_WRITE, EVENTS, 0, three, 3, SW_RCT_PROXY_IGNORE, SW_ERR_RCT_BAD_PAYLOAD, false, false, 0 },
        { SW_RCT_CMD_READ, EVENTS, 0, NULL, 0, SW_RCT_PROXY_QUERY, SW_OK, false, false, SW_RCT_TYPE_EVENT_TABLE },
        /* unknown ids: their answers could not be checked */
        { SW_RCT_CMD_READ, 0x12345678u, 0, NULL, 0, SW_RCT_PROXY_IGNORE, SW_ERR_NOT_FOUND, false, false, 0 },
        /* answers and periodic reads are not requests the proxy forwards */
        { SW_RCT_CMD_RESPONSE, SOC, 0, four, 4, SW_RCT_PROXY_IGNORE, SW_ERR_UNSUPPORTED, false, false, 0 },
        { SW_RCT_CMD_READ_PERIODICALLY, SOC, 0, NULL, 0, SW_RCT_PROXY_IGNORE, SW_ERR_UNSUPPORTED, false, false, 0 },
    };
    uint8_t *body = malloc(SW_RCT_RECEIVER_BODY_MAX);
    assert_non_null(body);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sw_rct_frame f;
        parse(rows[i].cmd, rows[i].id, rows[i].address, rows[i].payload, rows[i].len, &f, body);
        sw_rct_proxy_request r;
        sw_rct_proxy_classify(&f, &r);
        if (r.kind != rows[i].kind || r.why != rows[i].why)
            fail_msg("row %zu: kind %d why %s, want %d %s", i, r.kind, sw_err_name(r.why), rows[i].kind,
                     sw_err_name(rows[i].why));
        if (r.kind == SW_RCT_PROXY_IGNORE)
            continue;
        assert_int_equal(r.plant, rows[i].plant);
        assert_int_equal(r.address, rows[i].plant ? rows[i].address : 0);
        assert_int_equal(r.has_query, rows[i].has_query);
        assert_int_equal(r.expect, rows[i].expect);
        assert_int_equal(r.command, rows[i].cmd);
        assert_int_equal(r.obj->id, rows[i].id);
        if (r.has_query)
            assert_int_equal(r.query, 0x65000000u);
    }
    /* an extension frame */
    uint8_t wire[8];
    size_t n;
    assert_int_equal(sw_rct_frame_build_extension(0x01, wire, sizeof wire, &n), SW_OK);
    sw_rct_frame f;
    assert_true(sw_rct_frame_parse(wire, n, &f, body, SW_RCT_RECEIVER_BODY_MAX) > 0);
    sw_rct_proxy_request r;
    sw_rct_proxy_classify(&f, &r);
    assert_int_equal(r.kind, SW_RCT_PROXY_IGNORE);
    free(body);
}

static void test_cache_lifetime(void **state)
{
    (void)state;
    sw_rct_cache *c = malloc(sizeof *c);
    assert_non_null(c);
    sw_rct_cache_init(c, 3000);
    const uint8_t v[4] = { 0x3F, 0x00, 0x00, 0x00 };
    assert_null(sw_rct_cache_get(c, false, 0, SOC, 0));
    sw_rct_cache_put(c, SW_RCT_CMD_RESPONSE, false, 0, SOC, v, 4, 1000);
    const sw_rct_cache_entry *e = sw_rct_cache_get(c, false, 0, SOC, 1000);
    assert_non_null(e);
    assert_int_equal(e->len, 4);
    assert_memory_equal(e->payload, v, 4);
    assert_int_equal(e->command, SW_RCT_CMD_RESPONSE);
    assert_non_null(sw_rct_cache_get(c, false, 0, SOC, 3999));
    assert_null(sw_rct_cache_get(c, false, 0, SOC, 4000)); /* exactly the lifetime: too old */
    assert_null(sw_rct_cache_get(c, false, 0, SOC, 999));  /* a clock that went back */
    /* plant members are kept apart from the device itself and from each other */
    assert_null(sw_rct_cache_get(c, true, 0, SOC, 1500));
    sw_rct_cache_put(c, SW_RCT_CMD_PLANT_RESPONSE, true, 2, SOC, v, 3, 1500);
    assert_null(sw_rct_cache_get(c, true, 3, SOC, 1600));
    e = sw_rct_cache_get(c, true, 2, SOC, 1600);
    assert_non_null(e);
    assert_int_equal(e->len, 3);
    assert_int_equal(e->address, 2);
    /* a write to the object forgets every answer for it */
    sw_rct_cache_invalidate(c, SOC);
    assert_null(sw_rct_cache_get(c, true, 2, SOC, 1700));
    assert_null(sw_rct_cache_get(c, false, 0, SOC, 1700));
    assert_int_equal(c->counters.invalidations, 2);
    /* per-object lifetimes; 0 keeps nothing */
    assert_int_equal(sw_rct_cache_set_ttl(c, SOC, 10000), SW_OK);
    assert_int_equal(sw_rct_cache_set_ttl(c, SOC_TARGET, 0), SW_OK);
    assert_int_equal(sw_rct_cache_ttl(c, SOC), 10000);
    assert_int_equal(sw_rct_cache_ttl(c, 0x1u), 3000);
    sw_rct_cache_put(c, SW_RCT_CMD_RESPONSE, false, 0, SOC, v, 4, 2000);
    sw_rct_cache_put(c, SW_RCT_CMD_RESPONSE, false, 0, SOC_TARGET, v, 4, 2000);
    assert_non_null(sw_rct_cache_get(c, false, 0, SOC, 11999));
    assert_null(sw_rct_cache_get(c, false, 0, SOC_TARGET, 2000));
    /* long answers are not kept */
    uint8_t big[SW_RCT_PAYLOAD_MAX_SHORT + 1];
    memset(big, 1, sizeof big);
    sw_rct_cache_put(c, SW_RCT_CMD_LONG_RESPONSE, false, 0, 0x2u, big, sizeof big, 2000);
    assert_null(sw_rct_cache_get(c, false, 0, 0x2u, 2000));
    /* a newer answer replaces the older one in place */
    const uint8_t w[4] = { 0x40, 0, 0, 0 };
    sw_rct_cache_put(c, SW_RCT_CMD_RESPONSE, false, 0, SOC, w, 4, 5000);
    e = sw_rct_cache_get(c, false, 0, SOC, 5000);
    assert_memory_equal(e->payload, w, 4);
    size_t used = 0;
    for (size_t i = 0; i < SW_RCT_CACHE_SLOTS; i++)
        used += c->e[i].used && c->e[i].id == SOC;
    assert_int_equal(used, 1);
    free(c);
}

static void test_cache_full(void **state)
{
    (void)state;
    sw_rct_cache *c = malloc(sizeof *c);
    assert_non_null(c);
    sw_rct_cache_init(c, 60000);
    const uint8_t v[1] = { 1 };
    for (uint32_t i = 0; i < SW_RCT_CACHE_SLOTS; i++)
        sw_rct_cache_put(c, SW_RCT_CMD_RESPONSE, false, 0, 100 + i, v, 1, i);
    /* id 100 is used again, so 101 is now the least recently used */
    assert_non_null(sw_rct_cache_get(c, false, 0, 100, 1000));
    sw_rct_cache_put(c, SW_RCT_CMD_RESPONSE, false, 0, 5, v, 1, 1001);
    assert_int_equal(c->counters.evictions, 1);
    assert_non_null(sw_rct_cache_get(c, false, 0, 5, 1002));
    assert_non_null(sw_rct_cache_get(c, false, 0, 100, 1002));
    assert_null(sw_rct_cache_get(c, false, 0, 101, 1002));
    assert_non_null(sw_rct_cache_get(c, false, 0, 102, 1002));
    /* the override table has a stated size */
    for (uint32_t i = 0; i < SW_RCT_CACHE_OVERRIDES; i++)
        assert_int_equal(sw_rct_cache_set_ttl(c, 1000 + i, 5), SW_OK);
    assert_int_equal(sw_rct_cache_set_ttl(c, 1, 5), SW_ERR_NO_SPACE);
    assert_int_equal(sw_rct_cache_set_ttl(c, 1000, 7), SW_OK); /* changing one still works */
    assert_int_equal(sw_rct_cache_ttl(c, 1000), 7);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_cache_lifetime),
        cmocka_unit_test(test_cache_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
