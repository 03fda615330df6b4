/*
 * bench_rct: receive + decode throughput of the RCT protocol core.
 *
 * One million RESPONSE frames for objects drawn from the registry (floats,
 * integers, enums, booleans and strings, as an inverter answers a poller;
 * every fourth frame carries the leading 00 real devices send) are pushed
 * through the streaming receiver; each frame's object is looked up and its
 * payload decoded with the registry's response type.
 *
 * Usage: bench_rct [FRAMES]   (default 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sunwire/rct.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int scalar_type(sw_rct_type t)
{
    return t == SW_RCT_TYPE_BOOL || t == SW_RCT_TYPE_FLOAT || t == SW_RCT_TYPE_STRING ||
           t == SW_RCT_TYPE_ENUM || (t >= SW_RCT_TYPE_UINT8 && t <= SW_RCT_TYPE_INT32);
}

int main(int argc, char **argv)
{
    size_t n_frames = argc > 1 ? (size_t)atol(argv[1]) : 1000000;

    /* The pool of objects an inverter answers with plain values. */
    size_t count = sw_rct_registry_count(), npool = 0;
    const sw_rct_object **pool = malloc(count * sizeof *pool);
    for (size_t i = 0; i < count; i++) {
        const sw_rct_object *o = sw_rct_registry_at(i);
        if (scalar_type(o->response_type))
            pool[npool++] = o;
    }

    size_t cap = n_frames * 48, len = 0;
    uint8_t *stream = malloc(cap);
    if (!stream || !pool)
        return 1;
    uint32_t x = 7;
    for (size_t i = 0; i < n_frames; i++) {
        x = x * 1664525u + 1013904223u;
        const sw_rct_object *o = pool[(x >> 8) % npool];
        sw_rct_value v = { .type = o->response_type };
        switch (o->response_type) {
        case SW_RCT_TYPE_BOOL: v.u.b = x & 1; break;
        case SW_RCT_TYPE_FLOAT: v.u.f = (double)(x >> 10) / 64.0 - 3000.0; break;
        case SW_RCT_TYPE_STRING:
            v.u.str.bytes = (const uint8_t *)"PS 6.0 sim";
            v.u.str.len = 10;
            break;
        default: v.u.i = (x >> 16) & 0x7F; break;
        }
        uint8_t payload[64];
        size_t pn, n;
        if (sw_rct_value_encode(&v, payload, sizeof payload, &pn) != SW_OK)
            return 1;
        if (i % 4 == 0)
            stream[len++] = 0x00;
        if (sw_rct_frame_build(SW_RCT_CMD_RESPONSE, o->id, 0, payload, pn, stream + len, cap - len, &n) != SW_OK)
            return 1;
        len += n;
    }

    sw_rct_receiver *rx = malloc(sizeof *rx);
    if (!rx)
        return 1;
    double best = 1e9;
    size_t frames = 0, decoded = 0;
    for (int run = 0; run < 5; run++) {
        sw_rct_receiver_init(rx);
        frames = decoded = 0;
        size_t pos = 0;
        double t0 = now_s();
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
        double t = now_s() - t0;
        if (t < best)
            best = t;
    }
    if (frames != n_frames || decoded != n_frames) {
        fprintf(stderr, "bench_rct: %zu frames, %zu decoded, expected %zu\n", frames, decoded, n_frames);
        return 1;
    }
    printf("stream: %zu response frames, %.1f MB, %zu distinct objects\n", n_frames, (double)len / 1e6, npool);
    printf("receive + decode:          %8.2f M frames/s  (%.0f MB/s)\n", (double)n_frames / best / 1e6,
           (double)len / best / 1e6);
    free(rx);
    free(stream);
    free(pool);
    return 0;
}
