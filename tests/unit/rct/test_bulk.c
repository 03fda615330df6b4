/*
 * A long mixed stream through the RCT receive path: RESPONSE frames of
 * registry objects (floats, integers, booleans, strings; every third frame
 * with the devices' leading 00) pushed through sw_rct_receiver_push, each id looked
 * up in the registry and the payload decoded with its response type. Every
 * frame must arrive and decode, and every byte must be accounted for.
 * Throughput is measured by bench/bench_rct (scripts/bench.sh), not here.
 */
#include <stdlib.h>
#include <string.h>

#include "sunwire/rct.h"
#include "testutil.h"

static uint8_t *make_stream(size_t n_frames, size_t *len_out)
{
    size_t cap = n_frames * 40;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    size_t len = 0, count = sw_rct_registry_count();
    uint32_t x = 1;
    for (size_t i = 0; i < n_frames; i++) {
        const sw_rct_object *o;
        sw_rct_value v;
        do {
            x = x * 1103515245u + 12345u;
            o = sw_rct_registry_at((x >> 8) % count);
        } while (sw_rct_object_sim_value(o, &v) != SW_OK);
        if (v.type == SW_RCT_TYPE_FLOAT)
            v.u.f = (double)(x >> 12) / 7.0;
        else if (v.type != SW_RCT_TYPE_STRING && v.type != SW_RCT_TYPE_BOOL)
            v.u.i = (x >> 20) & 0x7F;
        uint8_t pl[64];
        size_t pn, n;
        assert_int_equal(sw_rct_value_encode(&v, pl, sizeof pl, &pn), SW_OK);
        if (i % 3 == 0)
            buf[len++] = 0x00;
        assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_RESPONSE, o->id, 0, pl, pn, buf + len, cap - len, &n),
                         SW_OK);
        len += n;
    }
    *len_out = len;
    return buf;
}

static void test_long_mixed_stream(void **state)
{
    (void)state;
    const size_t n_frames = 200000;
    size_t len;
    uint8_t *stream = make_stream(n_frames, &len);
    sw_rct_receiver *rx = malloc(sizeof *rx);
    assert_non_null(rx);
    sw_rct_receiver_init(rx);
    size_t frames = 0, decoded = 0, pos = 0;
    while (pos < len) {
        sw_rct_receiver_event ev;
        pos += sw_rct_receiver_push(rx, stream + pos, len - pos, &ev);
        if (ev.kind != SW_RCT_RECEIVER_FRAME)
            continue;
        frames++;
        sw_rct_value v;
        if (sw_rct_decode_reply(&ev.frame, NULL, &v, NULL, 0) == SW_OK)
            decoded++;
    }
    assert_int_equal(frames, n_frames);
    assert_int_equal(decoded, n_frames);
    assert_int_equal(rx->consumed_total, len);
    free(rx);
    free(stream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_mixed_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
