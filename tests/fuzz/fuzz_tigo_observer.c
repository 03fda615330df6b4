/*
 * Fuzz target: the whole Tigo pipeline (link -> transport -> PV -> observer)
 * fed an arbitrary byte stream, in chunks whose sizes come from the input, with
 * every event rendered by the output formatters (observe lines, infrastructure
 * report, peek-frames and peek-activity in both text and JSON).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo.h"

static sw_tigo_fmt fmt;
static sw_tigo_activity activity;
static char line[1 << 16];

static int on_event(sw_tigo_observer *owner, const sw_tigo_obs_event *e, void *user)
{
    (void)owner;
    sw_tigo_observer *o = user;
    size_t n;
    if (e->kind == SW_TIGO_OBS_POWER_REPORT) {
        sw_tigo_fmt_power_fork(&fmt, &e->u.power, line, sizeof line, &n);
        sw_tigo_fmt_power_upstream(&fmt, &e->u.power, line, sizeof line, &n);
    } else if (e->kind == SW_TIGO_OBS_INFRASTRUCTURE) {
        sw_tigo_fmt_infrastructure(&o->state, line, sizeof line, &n);
        sw_tigo_state_serialize(&o->state, line, sizeof line, &n);
    }
    return 0;
}

static int on_frame(sw_tigo_link_rx *owner, const sw_tigo_frame *fr, void *user)
{
    (void)owner;
    (void)user;
    size_t n;
    sw_tigo_fmt_frame_text(fr, line, sizeof line, &n);
    sw_tigo_fmt_frame_json(&fmt, fr, 1700000000000000000LL, line, sizeof line, &n);
    return 0;
}

static int on_transport(sw_tigo_transport *owner, const sw_tigo_transport_event *ev, void *user)
{
    (void)owner;
    (void)user;
    size_t n;
    sw_tigo_fmt_activity(&activity, &fmt, ev, false, 1700000000000000000LL, line, sizeof line, &n);
    sw_tigo_fmt_activity(&activity, &fmt, ev, true, 1700000000000000000LL, line, sizeof line, &n);
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
    return r->rssi == 0x5A;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_tigo_observer *obs;
    static int ready;
    if (!ready) {
        obs = malloc(sizeof *obs);
        sw_tigo_fmt_init(&fmt, 3600);
        ready = 1;
    }
    if (size < 1)
        return 0;
    /* First byte picks the observer flags (reference or improved behaviour). */
    unsigned flags = data[0] & 0x3F;
    sw_tigo_observer_init(obs, flags, on_event, obs);
    sw_tigo_observer_set_frame_tap(obs, on_frame, NULL);
    sw_tigo_observer_set_transport_tap(obs, on_transport, NULL);
    sw_tigo_observer_set_power_cb(obs, on_power, NULL);
    sw_tigo_activity_init(&activity);
    data++;
    size--;
    int64_t now = 1700000000000000000LL;
    size_t pos = 0, chunk = 1;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk, used = 0;
        if (sw_tigo_observer_push(obs, data + pos, n, now, &used) == 0 && used != n)
            abort(); /* not stopped: every byte is taken */
        if (used > n || used == 0)
            abort(); /* a stop comes after a frame's last byte, never before the first */
        pos += used;
        now += 7000000;
        chunk = chunk * 3 % 61 + 1;
    }
    return 0;
}
