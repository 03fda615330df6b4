/*
 * Fuzz target: the whole Tigo pipeline (link -> transport -> PV -> observer)
 * fed an arbitrary byte stream, with every event rendered by the output
 * formatters (observe lines, infrastructure report, peek-frames and
 * peek-activity in both text and JSON), and the link receiver alone in both
 * modes.
 *
 * Each is run twice, once with the stream pushed whole and once cut into
 * pieces whose sizes the input's last byte picks, and must give the same
 * events, lines and counters both times. The first byte picks the observer
 * flags (low six bits), whether the peek taps are on (bit 6: with them the
 * transport delivers every packet, without them the observer walks the
 * packets itself), and the clock (bit 7 clear: one time for the whole
 * stream; set: a new time every 64 bytes, pushed whole per 64 bytes).
 * Power readings stop some pushes, which then go on with the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunking.h"
#include "sunwire/tigo.h"

static sw_tigo_format fmt;
static sw_tigo_activity activity;
static fz_digest dig;
static char line[1 << 16];

static void mix_line(sw_err e, size_t n)
{
    fz_mix_u64(&dig, (uint64_t)e);
    if (e == SW_OK)
        fz_mix(&dig, line, n);
}

static int on_event(sw_tigo_observer *owner, const sw_tigo_observer_event *e, void *user)
{
    (void)owner;
    sw_tigo_observer *o = user;
    size_t n = 0;
    fz_mix_u64(&dig, (uint64_t)e->kind);
    if (e->kind == SW_TIGO_OBSERVER_POWER_REPORT) {
        mix_line(sw_tigo_format_power_fork(&fmt, &e->u.power, line, sizeof line, &n), n);
        mix_line(sw_tigo_format_power_upstream(&fmt, &e->u.power, line, sizeof line, &n), n);
    } else if (e->kind == SW_TIGO_OBSERVER_INFRASTRUCTURE) {
        fz_mix_u64(&dig, (uint64_t)e->u.infrastructure.cause << 32 | (uint64_t)e->u.infrastructure.gateway << 1 | e->u.infrastructure.changed);
        mix_line(sw_tigo_format_infrastructure(&o->state, line, sizeof line, &n), n);
        mix_line(sw_tigo_state_serialize(&o->state, line, sizeof line, &n), n);
    } else if (e->kind == SW_TIGO_OBSERVER_DIAGNOSTIC) {
        const sw_tigo_diagnostic_event *d = &e->u.diagnostic;
        fz_mix_u64(&dig, (uint64_t)d->code << 48 | (uint64_t)d->gateway << 32 | (uint64_t)d->node << 16 |
                             d->slot_counter);
    }
    return 0;
}

static int on_frame(sw_tigo_link_receiver *owner, const sw_tigo_frame *fr, void *user)
{
    (void)owner;
    (void)user;
    size_t n = 0;
    mix_line(sw_tigo_format_frame_text(fr, line, sizeof line, &n), n);
    mix_line(sw_tigo_format_frame_json(&fmt, fr, 1700000000000000000LL, line, sizeof line, &n), n);
    return 0;
}

static int on_transport(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    (void)user;
    size_t n = 0;
    mix_line(sw_tigo_format_activity(&activity, &fmt, ev, false, 1700000000000000000LL, line, sizeof line, &n), n);
    mix_line(sw_tigo_format_activity(&activity, &fmt, ev, true, 1700000000000000000LL, line, sizeof line, &n), n);
    return 0;
}

/* Power readings: always a terminated barcode; some of them stop the push,
 * so that stopping and pushing the rest again is fuzzed too. */
static int on_power(sw_tigo_observer *o, const sw_tigo_power_reading *r, void *user)
{
    (void)o;
    (void)user;
    if (memchr(r->barcode, '\0', sizeof r->barcode) == NULL)
        abort();
    fz_mix_u64(&dig, (uint64_t)r->gateway_id << 16 | r->node_id);
    return r->rssi == 0x5A;
}

/* Push all n bytes, pushing again after each stop; a stop comes after a
 * frame's last byte, never before the first byte. */
static void push_all(sw_tigo_observer *obs, const uint8_t *p, size_t n, int64_t now)
{
    while (n > 0) {
        size_t used = 0;
        if (sw_tigo_observer_push(obs, p, n, now, &used) == 0 && used != n)
            abort(); /* not stopped: every byte is taken */
        if (used > n || used == 0)
            abort();
        p += used;
        n -= used;
    }
}

#define SEGMENT 64

/* One run of the observer; split == NULL pushes each segment (or everything) whole. */
static fz_digest run_observer(sw_tigo_observer *obs, uint8_t mode, const uint8_t *data, size_t size,
                              fz_splitter *split)
{
    fz_digest_init(&dig);
    sw_tigo_observer_init(obs, mode & 0x3F, on_event, obs);
    sw_tigo_observer_set_power_cb(obs, on_power, NULL);
    if (mode & 0x40) {
        sw_tigo_observer_set_frame_tap(obs, on_frame, NULL);
        sw_tigo_observer_set_transport_tap(obs, on_transport, NULL);
    }
    sw_tigo_activity_init(&activity);
    size_t segment = (mode & 0x80) ? SEGMENT : size;
    int64_t now = 1700000000000000000LL;
    for (size_t seg = 0; seg < size; seg += segment) {
        size_t end = size - seg < segment ? size : seg + segment;
        for (size_t pos = seg; pos < end;) {
            size_t n = split ? fz_piece(split, end - pos) : end - pos;
            push_all(obs, data + pos, n, now);
            pos += n;
        }
        now += 7000000;
    }
    fz_mix(&dig, sw_tigo_observer_get_link_counters(obs), sizeof(sw_tigo_link_counters));
    /* up to the last field: the padding after it is no result */
    fz_mix(&dig, sw_tigo_observer_get_transport_counters(obs),
           offsetof(sw_tigo_transport_counters, last_status_high_byte) + sizeof(uint16_t));
    fz_mix(&dig, sw_tigo_observer_get_counters(obs), sizeof(sw_tigo_observer_counters));
    return dig;
}

static int on_link_frame(sw_tigo_link_receiver *owner, const sw_tigo_frame *fr, void *user)
{
    (void)owner;
    fz_digest *d = user;
    fz_mix_u64(d, (uint64_t)fr->address << 16 | fr->type);
    fz_mix(d, fr->payload, fr->payload_len);
    return 0;
}

static fz_digest run_link(sw_tigo_link_mode mode, const uint8_t *data, size_t size, fz_splitter *split)
{
    static sw_tigo_link_receiver rx;
    fz_digest d;
    fz_digest_init(&d);
    sw_tigo_link_receiver_init(&rx, mode, on_link_frame, &d);
    for (size_t pos = 0; pos < size;) {
        size_t n = split ? fz_piece(split, size - pos) : size - pos;
        size_t used = 0;
        if (sw_tigo_link_receiver_push(&rx, data + pos, n, &used) != 0 || used != n)
            abort(); /* the callback never stops: every byte is taken */
        pos += n;
    }
    fz_mix_u64(&d, sw_tigo_link_receiver_state(&rx));
    fz_mix(&d, &rx.counters, sizeof rx.counters);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_tigo_observer *obs;
    static int ready;
    if (!ready) {
        obs = malloc(sizeof *obs);
        sw_tigo_format_init(&fmt, 3600);
        ready = 1;
    }
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    uint32_t seed = data[size - 1];
    data++;
    size--;
    fz_splitter sp;

    fz_digest whole = run_observer(obs, mode, data, size, NULL);
    fz_splitter_init(&sp, seed);
    fz_digest split = run_observer(obs, mode, data, size, &sp);
    fz_same(&whole, &split, "observer");

    for (int m = 0; m < 2; m++) {
        sw_tigo_link_mode lm = m ? SW_TIGO_LINK_MODE_REFERENCE : SW_TIGO_LINK_MODE_IMPROVED;
        whole = run_link(lm, data, size, NULL);
        fz_splitter_init(&sp, seed + 1u + (uint32_t)m);
        split = run_link(lm, data, size, &sp);
        fz_same(&whole, &split, m ? "link receiver (reference mode)" : "link receiver");
    }
    return 0;
}
