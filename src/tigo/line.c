/*
 * line.c: a UART listening to an RS-485 line (see tigo/line.h).
 *
 * The line is a run of bit cells (the bus's bit time each) while a frame is
 * sent and the idle level between frames. Two frames are held at a time: the
 * previous one, whose characters the receiver works through, and the one
 * just pushed, because a character that starts at the end of one frame may
 * take samples from the next. Times are picoseconds relative to the start of
 * the previous frame, so bit times stay exact to well under a nanosecond.
 */
#include <string.h>

#include "tigo/line.h"

#define PS_PER_S 1000000000000LL
#define MAX_GAP_PS (10LL * PS_PER_S) /* a longer idle gap changes nothing the receiver sees */

typedef struct view {
    const uint8_t *a;
    int64_t a_end;      /* end of the previous frame's cells */
    const uint8_t *b;
    int64_t b_start, b_end;
    int64_t tx;
    int idle;
} view;

static int cell(const uint8_t *bits, int64_t k)
{
    return (bits[k >> 3] >> (k & 7)) & 1;
}

/* The level the listener sees at time t (right-continuous at cell boundaries). */
static int level_at(const view *v, int64_t t)
{
    if (t >= 0 && t < v->a_end)
        return cell(v->a, t / v->tx);
    if (v->b && t >= v->b_start && t < v->b_end)
        return cell(v->b, (t - v->b_start) / v->tx);
    return v->idle;
}

/* The first cell boundary strictly after t, or INT64_MAX. */
static int64_t next_boundary(const view *v, int64_t t)
{
    if (t < 0)
        return 0;
    if (t < v->a_end)
        return (t / v->tx + 1) * v->tx;
    if (v->b) {
        if (t < v->b_start)
            return v->b_start;
        if (t < v->b_end)
            return v->b_start + ((t - v->b_start) / v->tx + 1) * v->tx;
    }
    return INT64_MAX;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* The frame's bytes as wire levels (start 0, data LSB first, stop 1), with noise and inversion. */
static uint32_t to_cells(sw_tigo_line *line, const uint8_t *bytes, size_t n, uint8_t *bits)
{
    uint32_t k = 0;
    uint64_t threshold = line->cfg.noise > 0.0 ? (uint64_t)(line->cfg.noise * 18446744073709551615.0) : 0;
    memset(bits, 0, (n * 10 + 7) / 8);
    for (size_t i = 0; i < n; i++) {
        unsigned word = 0x200u | ((unsigned)bytes[i] << 1); /* bit 0 start, 1..8 data, 9 stop */
        for (int j = 0; j < 10; j++, k++) {
            unsigned b = (word >> j) & 1u;
            if (threshold && mix(line->cfg.seed ^ mix(line->bits_sent + k)) < threshold)
                b ^= 1u;
            if (line->cfg.inverted)
                b ^= 1u;
            if (b)
                bits[k >> 3] |= (uint8_t)(1u << (k & 7));
        }
    }
    line->bits_sent += k;
    return k;
}

/* Work through every character that starts before `limit`. */
static int receive(sw_tigo_line *line, const view *v, int64_t limit)
{
    int64_t rx = line->rx_bit_ps;
    int64_t cur = line->cursor_ps;
    for (;;) {
        int lv = level_at(v, cur);
        int64_t t = cur, edge = -1;
        for (;;) {
            int64_t nb = next_boundary(v, t);
            if (nb >= limit)
                break;
            int nl = level_at(v, nb);
            if (lv && !nl) {
                edge = nb;
                break;
            }
            lv = nl;
            t = nb;
        }
        if (edge < 0) {
            if (limit != INT64_MAX && cur < limit - 1)
                cur = limit - 1;
            break;
        }
        int64_t mid = edge + rx / 2;
        if (level_at(v, mid)) {
            cur = mid; /* a glitch, not a start bit */
            continue;
        }
        unsigned byte = 0;
        for (int i = 1; i <= 8; i++)
            byte |= (unsigned)level_at(v, edge + i * rx + rx / 2) << (i - 1);
        cur = edge + 9 * rx + rx / 2; /* the stop bit's sample: low = framing error, wait for a high line */
        if (line->on_byte) {
            int64_t t_ns = line->frame_ns + (edge + 10 * rx) / 1000;
            int rc = line->on_byte(line, (uint8_t)byte, t_ns, line->user);
            if (rc) {
                line->cursor_ps = cur;
                return rc;
            }
        }
    }
    line->cursor_ps = cur;
    return 0;
}

sw_err sw_tigo_line_init(sw_tigo_line *line, const sw_tigo_line_config *cfg, sw_tigo_line_byte_cb on_byte, void *user)
{
    if (!line || !cfg || cfg->bus_baud == 0 || cfg->rx_baud == 0 || !(cfg->noise >= 0.0) || cfg->noise > 0.5)
        return SW_ERR_INVALID_ARGUMENT;
    memset(line, 0, sizeof *line);
    line->cfg = *cfg;
    line->on_byte = on_byte;
    line->user = user;
    line->tx_bit_ps = PS_PER_S / cfg->bus_baud;
    line->rx_bit_ps = PS_PER_S / cfg->rx_baud;
    line->cursor_ps = -1;
    return SW_OK;
}

int sw_tigo_line_push(sw_tigo_line *line, const uint8_t *bytes, size_t n, int64_t start_ns)
{
    if (n > SW_TIGO_LINE_MAX_FRAME)
        return SW_ERR_TOO_LONG;
    uint8_t bits[sizeof line->level];
    uint32_t cells = to_cells(line, bytes, n, bits);
    int rc = 0;
    if (line->have_frame) {
        int64_t a_end = (int64_t)line->cells * line->tx_bit_ps;
        int64_t off_ps;
        int64_t gap_ns = start_ns - line->frame_ns;
        if (gap_ns > MAX_GAP_PS / 1000)
            off_ps = MAX_GAP_PS;
        else
            off_ps = gap_ns * 1000;
        if (off_ps < a_end) {
            off_ps = a_end; /* frames do not overlap on one pair of wires */
            start_ns = line->frame_ns + off_ps / 1000;
        }
        view v = { line->level, a_end, bits, off_ps, off_ps + (int64_t)cells * line->tx_bit_ps, line->tx_bit_ps,
                   line->cfg.inverted ? 0 : 1 };
        rc = receive(line, &v, off_ps);
        line->cursor_ps -= off_ps;
    } else {
        line->cursor_ps = -1;
    }
    memcpy(line->level, bits, sizeof bits);
    line->cells = cells;
    line->frame_ns = start_ns;
    line->have_frame = true;
    return rc;
}

int sw_tigo_line_finish(sw_tigo_line *line)
{
    if (!line->have_frame)
        return 0;
    view v = { line->level, (int64_t)line->cells * line->tx_bit_ps, NULL, 0, 0, line->tx_bit_ps,
               line->cfg.inverted ? 0 : 1 };
    int rc = receive(line, &v, INT64_MAX);
    line->have_frame = false;
    line->cursor_ps = -1;
    return rc;
}

typedef struct collect {
    uint8_t *out;
    size_t cap, n;
} collect;

static int collect_byte(sw_tigo_line *line, uint8_t byte, int64_t t_ns, void *user)
{
    collect *c = user;
    (void)line;
    (void)t_ns;
    if (c->n == c->cap)
        return 1;
    c->out[c->n++] = byte;
    return 0;
}

void sw_tigo_line_receive(const sw_tigo_line_config *cfg, const uint8_t *bytes, size_t n, uint8_t *out, size_t cap,
                          size_t *out_len)
{
    sw_tigo_line line;
    collect c = { out, cap, 0 };
    *out_len = 0;
    if (sw_tigo_line_init(&line, cfg, collect_byte, &c) != SW_OK)
        return;
    if (sw_tigo_line_push(&line, bytes, n, 0) == 0)
        sw_tigo_line_finish(&line);
    *out_len = c.n;
}
