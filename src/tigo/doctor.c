/*
 * doctor.c: line diagnosis for a Tigo bus (see tigo/doctor.h).
 *
 * The candidates for "bytes but no frames" are listeners at other rates and
 * on swapped wires. For each one the line model (tigo/line.h) derives what
 * such a listener reads from the start of a controller frame (00 FF FF 7E 07)
 * and of a gateway frame (FF 7E 07) after an idle line: the first bytes it
 * reads depend only on those fixed bytes, whatever the frame goes on with,
 * so they recur once per frame on a line with that fault and only by chance
 * on any other. The doctor counts each pattern in the received stream.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tigo/doctor.h"
#include "tigo/line.h"

/* Rates a listener may be set to. Below 9600 a byte spans more than the fixed
 * start of a frame and leaves too few fixed bits to tell apart from chance;
 * far above 38400 a swapped pair and a straight one read too much alike. */
static const uint32_t candidate_rates[] = { 9600, 14400, 19200, 28800, 38400, 57600, 76800, 115200 };
#define MIN_PATTERN_BITS 8

const char *sw_tigo_doctor_verdict_name(sw_tigo_doctor_verdict v)
{
    switch (v) {
    case SW_TIGO_DOCTOR_HEALTHY: return "healthy";
    case SW_TIGO_DOCTOR_NO_BYTES: return "no-bytes";
    case SW_TIGO_DOCTOR_WRONG_LINE: return "wrong-line";
    case SW_TIGO_DOCTOR_GARBLED: return "garbled";
    case SW_TIGO_DOCTOR_NOISY: return "noisy";
    case SW_TIGO_DOCTOR_NO_CONTROLLER: return "no-controller";
    case SW_TIGO_DOCTOR_NO_GATEWAYS: return "no-gateways";
    }
    return "unknown";
}

/*
 * What a listener with `lc` reads first from a frame starting with `prefix`:
 * the bits it reads alike whatever follows (tried with several tails). A slow
 * listener's first byte already takes samples past the prefix, so a pattern
 * is a byte value with a mask of the bits that are fixed.
 */
static void fixed_pattern(const sw_tigo_line_config *lc, const uint8_t *prefix, size_t np, sw_tigo_doctor_pattern *p)
{
    static const uint8_t tails[][12] = {
        { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
        { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF },
        { 0x12, 0x01, 0x01, 0x48, 0x00, 0x01, 0x1E, 0x74, 0x04, 0xCE, 0x7E, 0x08 },
        { 0x92, 0x01, 0x01, 0x49, 0x00, 0xFF, 0x74, 0x29, 0xCD, 0x2E, 0x7E, 0x08 },
        { 0x55, 0xAA, 0x55, 0xAA, 0x55, 0xAA, 0x55, 0xAA, 0x55, 0xAA, 0x55, 0xAA },
        { 0xAA, 0x55, 0xAA, 0x55, 0xAA, 0x55, 0xAA, 0x55, 0xAA, 0x55, 0xAA, 0x55 },
        { 0x0F, 0xF0, 0x3C, 0xC3, 0x0F, 0xF0, 0x3C, 0xC3, 0x0F, 0xF0, 0x3C, 0xC3 },
        { 0xE1, 0x1E, 0x87, 0x78, 0xE1, 0x1E, 0x87, 0x78, 0xE1, 0x1E, 0x87, 0x78 },
        { 0x80, 0x01, 0x40, 0x02, 0x20, 0x04, 0x10, 0x08, 0x08, 0x10, 0x04, 0x20 },
        { 0x7F, 0xFE, 0xBF, 0xFD, 0xDF, 0xFB, 0xEF, 0xF7, 0xF7, 0xEF, 0xFB, 0xDF },
    };
    uint8_t first[64], mask[64];
    size_t n_common = 0;
    for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
        uint8_t frame[24], got[64];
        size_t n = 0;
        memcpy(frame, prefix, np);
        memcpy(frame + np, tails[k], sizeof tails[k]);
        sw_tigo_line_receive(lc, frame, np + sizeof tails[k], got, sizeof got, &n);
        if (k == 0) {
            memcpy(first, got, n);
            memset(mask, 0xFF, n);
            n_common = n;
            continue;
        }
        if (n < n_common)
            n_common = n;
        for (size_t i = 0; i < n_common; i++)
            mask[i] &= (uint8_t)~(first[i] ^ got[i]);
    }
    /* keep the bytes up to the first one with too little left to recognise */
    p->len = 0;
    p->bits = 0;
    for (size_t i = 0; i < n_common && i < SW_TIGO_DOCTOR_PATTERN_MAX; i++) {
        int known = 0;
        for (unsigned m = mask[i]; m; m &= m - 1)
            known++;
        if (known < 4)
            break;
        p->bytes[i] = first[i] & mask[i];
        p->mask[i] = mask[i];
        p->len = (uint8_t)(i + 1);
        p->bits = (uint8_t)(p->bits + known);
    }
}

void sw_tigo_doctor_init(sw_tigo_doctor *d)
{
    static const uint8_t from_controller[] = { 0x00, 0xFF, 0xFF, 0x7E, 0x07 };
    static const uint8_t from_gateway[] = { 0xFF, 0x7E, 0x07 };
    memset(d, 0, sizeof *d);
    sw_tigo_doctor_reset(d);
    for (size_t r = 0; r < sizeof candidate_rates / sizeof candidate_rates[0]; r++) {
        for (int inv = 0; inv < 2; inv++) {
            if (candidate_rates[r] == SW_TIGO_LINE_BAUD && !inv)
                continue; /* the sound line: frames, not patterns */
            sw_tigo_line_config lc = { SW_TIGO_LINE_BAUD, candidate_rates[r], inv != 0, 0.0, 0 };
            for (int which = 0; which < 2 && d->n_patterns < SW_TIGO_DOCTOR_PATTERNS; which++) {
                sw_tigo_doctor_pattern *p = &d->patterns[d->n_patterns];
                p->rx_baud = candidate_rates[r];
                p->inverted = inv != 0;
                if (which == 0)
                    fixed_pattern(&lc, from_controller, sizeof from_controller, p);
                else
                    fixed_pattern(&lc, from_gateway, sizeof from_gateway, p);
                if (p->bits >= MIN_PATTERN_BITS)
                    d->n_patterns++;
            }
        }
    }
}

void sw_tigo_doctor_reset(sw_tigo_doctor *d)
{
    sw_tigo_link_receiver_init(&d->rx, SW_TIGO_LINK_MODE_IMPROVED, NULL, NULL);
    d->bytes = 0;
    d->first_ns = d->last_ns = 0;
    d->frame_starts = d->controller_frames = d->gateway_frames = 0;
    d->prev_byte = 0;
    memset(d->window, 0, sizeof d->window);
    for (size_t i = 0; i < d->n_patterns; i++)
        d->patterns[i].hits = 0;
    d->n_gateways = d->n_nodes = 0;
}

static void note_gateway(sw_tigo_doctor *d, uint16_t id)
{
    for (size_t i = 0; i < d->n_gateways; i++)
        if (d->gateways[i] == id)
            return;
    if (d->n_gateways < SW_TIGO_DOCTOR_MAX_GATEWAYS)
        d->gateways[d->n_gateways++] = id;
}

void sw_tigo_doctor_note_node(sw_tigo_doctor *d, uint16_t gateway, uint16_t node)
{
    uint32_t key = (uint32_t)gateway << 16 | node;
    for (size_t i = 0; i < d->n_nodes; i++)
        if (d->nodes[i] == key)
            return;
    if (d->n_nodes < SW_TIGO_DOCTOR_MAX_NODES)
        d->nodes[d->n_nodes++] = key;
}

static int on_frame(sw_tigo_link_receiver *rx, const sw_tigo_frame *f, void *user)
{
    sw_tigo_doctor *d = user;
    (void)rx;
    if (sw_tigo_addr_is_from_gateway(f->address)) {
        d->gateway_frames++;
        /* enumeration answers come from a temporary address; only assigned IDs name a gateway */
        if (f->type != SW_TIGO_FT_ENUMERATION_RESPONSE && f->type != SW_TIGO_FT_ASSIGN_GATEWAY_ID_RESPONSE &&
            f->type != SW_TIGO_FT_ENUMERATION_START_RESPONSE)
            note_gateway(d, sw_tigo_addr_gateway_id(f->address));
    } else {
        d->controller_frames++;
    }
    return 0;
}

void sw_tigo_doctor_push(sw_tigo_doctor *d, const uint8_t *bytes, size_t n, int64_t t_ns)
{
    if (n == 0)
        return;
    if (d->bytes == 0)
        d->first_ns = t_ns;
    d->last_ns = t_ns;
    d->bytes += n;
    d->rx.on_frame = on_frame;
    d->rx.user = d; /* set on every push, so the struct may move in between */
    sw_tigo_link_receiver_push(&d->rx, bytes, n, NULL);
    d->rx.user = NULL;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = bytes[i];
        if (d->prev_byte == 0x7E && b == 0x07)
            d->frame_starts++;
        d->prev_byte = b;
        memmove(d->window, d->window + 1, sizeof d->window - 1);
        d->window[sizeof d->window - 1] = b;
        for (size_t k = 0; k < d->n_patterns; k++) {
            sw_tigo_doctor_pattern *p = &d->patterns[k];
            if ((b & p->mask[p->len - 1]) != p->bytes[p->len - 1])
                continue;
            const uint8_t *w = d->window + sizeof d->window - p->len;
            size_t j = 0;
            while (j < p->len && (w[j] & p->mask[j]) == p->bytes[j])
                j++;
            if (j == p->len)
                p->hits++;
        }
    }
}

/* How often pattern p turns up by chance in as many random bytes. */
static double chance(const sw_tigo_doctor *d, const sw_tigo_doctor_pattern *p)
{
    return ldexp((double)d->bytes, -(int)p->bits);
}

/*
 * The candidate line fault whose patterns recur far beyond chance, if any;
 * the one with the most evidence (hits times how unlikely each is by chance)
 * when several do.
 */
static bool best_line(const sw_tigo_doctor *d, sw_tigo_doctor_result *r)
{
    double best = 0.0;
    for (size_t k = 0; k < d->n_patterns; k++) {
        const sw_tigo_doctor_pattern *p = &d->patterns[k];
        if (k > 0 && d->patterns[k - 1].rx_baud == p->rx_baud && d->patterns[k - 1].inverted == p->inverted)
            continue; /* this candidate was weighed with its first pattern */
        /* A bus carries controller and gateway frames alike: a candidate
         * must show both of its patterns far beyond chance. */
        uint64_t hits = 0;
        double score = 0.0;
        bool all = true;
        for (size_t j = k; j < d->n_patterns; j++) {
            const sw_tigo_doctor_pattern *q = &d->patterns[j];
            if (q->rx_baud != p->rx_baud || q->inverted != p->inverted)
                break;
            double e = chance(d, q);
            if (q->hits < SW_TIGO_DOCTOR_MIN_FRAMES || (double)q->hits < 4.0 * e + 2.0)
                all = false;
            hits += q->hits;
            if (q->hits > 0)
                score += (double)q->hits * log2((double)q->hits / (e > 1e-9 ? e : 1e-9));
        }
        if (!all)
            continue;
        if (score > best) {
            best = score;
            r->line_match = true;
            r->inverted = p->inverted;
            r->rx_baud = p->rx_baud;
            r->line_hits = hits;
        }
    }
    return r->line_match;
}

void sw_tigo_doctor_verdict_get(const sw_tigo_doctor *d, int64_t now_ns, sw_tigo_doctor_result *r)
{
    memset(r, 0, sizeof *r);
    const sw_tigo_link_counters *c = &d->rx.counters;
    r->bytes = d->bytes;
    r->frames = c->frames;
    r->damaged = c->checksums + c->runts + c->giants + c->restarts;
    r->frame_starts = d->frame_starts;
    r->garbage = c->noise;
    r->controller_frames = d->controller_frames;
    r->gateway_frames = d->gateway_frames;
    r->gateways = (unsigned)d->n_gateways;
    r->nodes = (unsigned)d->n_nodes;
    if (r->frames + r->damaged > 0)
        r->damaged_pct = 100.0 * (double)r->damaged / (double)(r->frames + r->damaged);
    int64_t end = now_ns > d->last_ns ? now_ns : d->last_ns;
    r->seconds = d->bytes ? (double)(end - d->first_ns) / 1e9 : 0.0;

    if (d->bytes == 0) {
        r->verdict = SW_TIGO_DOCTOR_NO_BYTES;
        snprintf(r->text, sizeof r->text, "no bytes: check power and the A/B connection");
        return;
    }
    if (now_ns > 0 && now_ns - d->last_ns >= (int64_t)SW_TIGO_DOCTOR_QUIET_S * 1000000000LL) {
        r->verdict = SW_TIGO_DOCTOR_NO_BYTES;
        snprintf(r->text, sizeof r->text, "no bytes for %.0f s (%llu before): check power and the A/B connection",
                 (double)(now_ns - d->last_ns) / 1e9, (unsigned long long)d->bytes);
        return;
    }
    bool frames_few = r->frames < SW_TIGO_DOCTOR_MIN_FRAMES;
    if (frames_few && best_line(d, r)) {
        r->verdict = SW_TIGO_DOCTOR_WRONG_LINE;
        char how[96];
        if (r->inverted && r->rx_baud == SW_TIGO_LINE_BAUD)
            snprintf(how, sizeof how, "inverted polarity");
        else if (r->inverted)
            snprintf(how, sizeof how, "inverted polarity read at %u baud", (unsigned)r->rx_baud);
        else
            snprintf(how, sizeof how, "the %u-baud bus read at %u baud", SW_TIGO_LINE_BAUD, (unsigned)r->rx_baud);
        snprintf(r->text, sizeof r->text,
                 "bytes but no frame starts: %s (the byte pattern matches %s)",
                 r->inverted && r->rx_baud == SW_TIGO_LINE_BAUD ? "A/B swapped"
                 : r->inverted                                  ? "A/B swapped and wrong baud rate"
                                                                : "wrong baud rate",
                 how);
        return;
    }
    if (frames_few && (r->damaged < SW_TIGO_DOCTOR_MIN_FRAMES || r->frame_starts < SW_TIGO_DOCTOR_MIN_FRAMES)) {
        r->verdict = SW_TIGO_DOCTOR_GARBLED;
        snprintf(r->text, sizeof r->text,
                 "bytes but no frame starts: wrong baud rate, A/B swapped or wrong serial settings (no known "
                 "pattern; the bus is 38400 8N1)");
        return;
    }
    if (r->damaged >= SW_TIGO_DOCTOR_MIN_FRAMES && r->damaged_pct >= SW_TIGO_DOCTOR_CRC_PCT) {
        r->verdict = SW_TIGO_DOCTOR_NOISY;
        snprintf(r->text, sizeof r->text,
                 "frames but many CRC errors (%.1f%% of %llu frames damaged): noise, termination or ground", r->damaged_pct,
                 (unsigned long long)(r->frames + r->damaged));
        return;
    }
    if (r->gateway_frames >= SW_TIGO_DOCTOR_MIN_FRAMES && r->controller_frames == 0) {
        r->verdict = SW_TIGO_DOCTOR_NO_CONTROLLER;
        snprintf(r->text, sizeof r->text,
                 "frames from gateways but no controller requests: no CCA on the bus (%u gateway%s heard)",
                 r->gateways, r->gateways == 1 ? "" : "s");
        return;
    }
    if (r->controller_frames >= SW_TIGO_DOCTOR_MIN_FRAMES && r->gateway_frames == 0) {
        r->verdict = SW_TIGO_DOCTOR_NO_GATEWAYS;
        snprintf(r->text, sizeof r->text,
                 "controller requests but no gateway answers: check the TAPs' power and their A/B wiring");
        return;
    }
    r->verdict = SW_TIGO_DOCTOR_HEALTHY;
    snprintf(r->text, sizeof r->text, "healthy: %u gateway%s, %u node%s, %.1f%% CRC errors", r->gateways,
             r->gateways == 1 ? "" : "s", r->nodes, r->nodes == 1 ? "" : "s", r->damaged_pct);
}
