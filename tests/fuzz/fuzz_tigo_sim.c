/*
 * Fuzz target: a round trip through the Tigo bus simulator and the observer.
 * The input picks the installation (seed, TAPs, panels, firmware, hour of the
 * day, how many frames), how the bytes are chunked, and optional byte flips.
 * The simulator's frames (link-encoded by the project's encoder) are pushed
 * into an observer. Without flips every power report the observer emits must
 * be one the simulator sent, with the same raw fields, and no more often than
 * it was sent; with flips only "no crash" is asked (a flipped frame may, very
 * rarely, still pass its 16-bit CRC). With or without flips, pushing each
 * frame whole and cut in two must give the same events and counters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunking.h"
#include "sim/sim_tigo.h"
#include "sunwire/tigo.h"

#define MAX_REPORTS 4096
#define BUS_MAX (1u << 20)

typedef struct rep {
    uint16_t gateway, node, vin, vout, cur, temp, slot;
    uint8_t dc, rssi;
    uint16_t sent, seen;
} rep;

static rep g_reps[MAX_REPORTS];
static size_t g_n;
static int g_overflow;

static rep *find(uint16_t gw, uint16_t node, uint16_t vin, uint16_t vout, uint16_t cur, uint16_t temp,
                 uint16_t slot, uint8_t dc, uint8_t rssi)
{
    for (size_t i = 0; i < g_n; i++) {
        rep *r = &g_reps[i];
        if (r->gateway == gw && r->node == node && r->vin == vin && r->vout == vout && r->cur == cur &&
            r->temp == temp && r->slot == slot && r->dc == dc && r->rssi == rssi)
            return r;
    }
    return NULL;
}

static int on_sim(sw_tigo_sim *sim, const sw_tigo_sim_event *ev, void *user)
{
    (void)sim;
    (void)user;
    if (ev->kind != SW_TIGO_SIM_EV_REPORT_SENT || !ev->report)
        return 0;
    const sw_tigo_sim_report *s = ev->report;
    rep *r = find(s->gateway, s->node, s->voltage_in_raw, s->voltage_out_raw, s->current_raw, s->temperature_raw,
                  s->slot_counter, s->duty_cycle_raw, s->rssi);
    if (r) {
        r->sent++;
        return 0;
    }
    if (g_n == MAX_REPORTS) {
        g_overflow = 1;
        return 0;
    }
    g_reps[g_n++] = (rep){s->gateway, s->node, s->voltage_in_raw, s->voltage_out_raw, s->current_raw,
                          s->temperature_raw, s->slot_counter, s->duty_cycle_raw, s->rssi, 1, 0};
    return 0;
}

static int g_checking;

static fz_digest g_dig;

static int on_obs(sw_tigo_observer *owner, const sw_tigo_observer_event *e, void *user)
{
    (void)owner;
    (void)user;
    fz_mix_u64(&g_dig, (uint64_t)e->kind);
    if (e->kind == SW_TIGO_OBSERVER_POWER_REPORT) {
        const sw_tigo_power_event *pw = &e->u.power;
        const sw_tigo_power_report *p = pw->report;
        fz_mix_u64(&g_dig, (uint64_t)pw->gateway << 32 | (uint64_t)pw->node << 16 | p->slot_counter);
        fz_mix_u64(&g_dig, (uint64_t)pw->timestamp_ns);
        fz_mix_u64(&g_dig, (uint64_t)p->voltage_in_raw << 48 | (uint64_t)p->voltage_out_raw << 32 |
                               (uint64_t)p->current_raw << 16 | p->temperature_raw);
        fz_mix_u64(&g_dig, (uint64_t)p->duty_cycle_raw << 8 | p->rssi);
    } else if (e->kind == SW_TIGO_OBSERVER_INFRASTRUCTURE) {
        fz_mix_u64(&g_dig, (uint64_t)e->u.infrastructure.cause << 32 | (uint64_t)e->u.infrastructure.gateway << 1 | e->u.infrastructure.changed);
    } else if (e->kind == SW_TIGO_OBSERVER_DIAGNOSTIC) {
        const sw_tigo_diagnostic_event *d = &e->u.diagnostic;
        fz_mix_u64(&g_dig, (uint64_t)d->code << 48 | (uint64_t)d->gateway << 32 | (uint64_t)d->node << 16 |
                               d->slot_counter);
    }
    if (e->kind != SW_TIGO_OBSERVER_POWER_REPORT || !g_checking || g_overflow)
        return 0;
    const sw_tigo_power_report *p = e->u.power.report;
    rep *r = find(e->u.power.gateway, e->u.power.node, p->voltage_in_raw, p->voltage_out_raw, p->current_raw,
                  p->temperature_raw, p->slot_counter, p->duty_cycle_raw, p->rssi);
    if (!r || ++r->seen > r->sent)
        abort(); /* a report the bus never carried, or one reported twice */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_tigo_sim *sim;
    static sw_tigo_observer *obs;
    static uint8_t *bus;
    static size_t *ends;
    static int64_t *times;
    if (!sim) {
        sim = malloc(sizeof *sim);
        obs = malloc(sizeof *obs);
        bus = malloc(BUS_MAX);
        ends = malloc(4096 * sizeof *ends);
        times = malloc(4096 * sizeof *times);
        if (!sim || !obs || !bus || !ends || !times)
            abort();
    }
    if (size < 8)
        return 0;
    sw_tigo_sim_config cfg;
    /* Midsummer 2026 (about 00:40 UTC) plus 4 to 19 hours, as the input picks. */
    int64_t start = (1782000000LL + (int64_t)(4 + data[5] % 16) * 3600) * 1000000000LL;
    sw_tigo_sim_config_default(&cfg, (uint64_t)(data[0] | data[1] << 8), start);
    cfg.gateways = 1 + data[2] % 3;
    cfg.panels = 1 + data[3] % 12;
    cfg.firmware = (data[4] & 1) ? SW_TIGO_SIM_FW_4 : SW_TIGO_SIM_FW_CLASSIC;
    cfg.clouds = (data[4] & 2) != 0;
    size_t frames = 40 + (size_t)data[6] * 2; /* up to about a minute of bus time: cheap enough for the test run */
    unsigned flags = data[7] & 0x3f;
    g_n = 0;
    g_overflow = 0;
    if (sw_tigo_sim_init(sim, &cfg, on_sim, NULL) != SW_OK)
        return 0;

    size_t len = 0, nf = 0;
    while (nf < frames && nf < 4096 && len + SW_TIGO_SIM_FRAME_MAX <= BUS_MAX) {
        size_t n;
        int64_t t;
        if (sw_tigo_sim_next(sim, bus + len, BUS_MAX - len, &n, &t) != SW_OK)
            break;
        len += n;
        ends[nf] = len;
        times[nf++] = t;
    }

    /* The rest of the input: pairs (position, xor) flip bytes; none means a clean bus. */
    const uint8_t *m = data + 8;
    size_t mn = size - 8;
    size_t flips = 0;
    for (size_t i = 0; i + 2 < mn && len; i += 3) {
        size_t pos = ((size_t)m[i] << 8 | m[i + 1]) * 131 % len;
        if (m[i + 2]) {
            bus[pos] ^= m[i + 2];
            flips++;
        }
    }
    g_checking = flips == 0;

    /* Frame by frame with its bus time: first whole, then each frame cut
     * once at a point the input picks. Both must give the same events. */
    fz_digest whole;
    for (int cutting = 0; cutting < 2; cutting++) {
        int checking = g_checking;
        g_checking = checking && cutting;
        fz_digest_init(&g_dig);
        sw_tigo_observer_init(obs, flags, on_obs, NULL);
        size_t pos = 0;
        for (size_t f = 0; f < nf; f++) {
            size_t cut = cutting ? pos + (ends[f] - pos) * (data[(f % 8)] & 7) / 8 : ends[f];
            sw_tigo_observer_push(obs, bus + pos, cut - pos, times[f], NULL);
            if (cut < ends[f])
                sw_tigo_observer_push(obs, bus + cut, ends[f] - cut, times[f], NULL);
            pos = ends[f];
        }
        fz_mix(&g_dig, sw_tigo_observer_get_counters(obs), sizeof(sw_tigo_observer_counters));
        g_checking = checking;
        if (!cutting)
            whole = g_dig;
        else
            fz_same(&whole, &g_dig, "observer on the simulated bus");
    }
    return 0;
}
