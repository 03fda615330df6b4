/*
 * tigo/line.h: what a UART listening to the RS-485 line receives, bit by bit.
 *
 * The bus sends 8N1 characters at its rate (38400 for Tigo TAP): a start bit
 * (low), eight data bits least significant first, a stop bit (high); the line
 * idles high between frames. A listener's UART waits for a falling edge,
 * samples the middle of each of its own bit times (at ITS rate), and hands
 * over the eight data bits whether or not the stop bit was high; after a low
 * stop bit (framing error, or a break: a line held low) it waits for the line
 * to go high before it looks for the next start bit. A line with A and B
 * swapped is the same signal inverted: it idles low (one break, read as 00),
 * and the receiver synchronises on whatever falling edge the inverted data
 * happens to have, so it reads different bytes than a plain XOR 0xFF.
 *
 * This module models that: frames go in with the bus time their first bit
 * starts, received bytes come out through a callback with the time their stop
 * bit was sampled. Wrong rate, inversion and bit noise are its parameters.
 * Used by the simulator to produce faulty lines and by the doctor to derive
 * what a faulty line looks like.
 *
 * Sans-I/O: no clock, no allocation; the struct may be moved between calls.
 */
#ifndef SUNWIRE_TIGO_LINE_H
#define SUNWIRE_TIGO_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_TIGO_LINE_BAUD 38400u       /* the Tigo TAP bus */
#define SW_TIGO_LINE_MAX_FRAME 600u    /* bytes of one frame the model holds */

typedef struct sw_tigo_line_config {
    uint32_t bus_baud;  /* rate the bus sends at (SW_TIGO_LINE_BAUD) */
    uint32_t rx_baud;   /* rate the listener's UART is set to */
    bool inverted;      /* A and B swapped */
    double noise;       /* probability that one bit on the wire is flipped, 0 .. 0.5 */
    uint64_t seed;      /* for the noise; the same seed gives the same flips */
} sw_tigo_line_config;

typedef struct sw_tigo_line sw_tigo_line;

/* One received byte and the bus time (Unix ns) it was complete. Non-zero stops the push. */
typedef int (*sw_tigo_line_byte_cb)(sw_tigo_line *line, uint8_t byte, int64_t t_ns, void *user);

struct sw_tigo_line {
    sw_tigo_line_config cfg;
    sw_tigo_line_byte_cb on_byte;
    void *user;
    int64_t tx_bit_ps, rx_bit_ps; /* bit times in picoseconds */
    uint64_t bits_sent;           /* for the noise hash */
    bool have_frame;
    int64_t frame_ns;             /* bus time the held frame's first bit starts */
    uint32_t cells;               /* bit cells of the held frame (10 per byte) */
    int64_t cursor_ps;            /* receiver time, relative to frame_ns */
    uint8_t level[(SW_TIGO_LINE_MAX_FRAME * 10 + 7) / 8]; /* wire levels as the listener sees them */
};

/* SW_ERR_INVALID_ARGUMENT for zero rates or a noise outside 0 .. 0.5. */
sw_err sw_tigo_line_init(sw_tigo_line *line, const sw_tigo_line_config *cfg, sw_tigo_line_byte_cb on_byte,
                         void *user);

/*
 * A frame's bytes, sent back to back from bus time start_ns (its first start
 * bit); frames must not go back in time (an overlapping frame is moved to
 * the end of the previous one). Bytes the listener completes before this
 * frame starts come out now; the rest when the next frame (or finish) comes.
 * Returns 0, the callback's non-zero value, or SW_ERR_TOO_LONG past
 * SW_TIGO_LINE_MAX_FRAME bytes.
 */
int sw_tigo_line_push(sw_tigo_line *line, const uint8_t *bytes, size_t n, int64_t start_ns);

/* The line goes idle for good: hand out the bytes still in progress. */
int sw_tigo_line_finish(sw_tigo_line *line);

/*
 * The bytes a listener configured as `cfg` receives from one frame sent after
 * an idle line: `bytes` in, up to `cap` received bytes out (*out_len says how
 * many). A convenience over init/push/finish for deriving patterns.
 */
void sw_tigo_line_receive(const sw_tigo_line_config *cfg, const uint8_t *bytes, size_t n, uint8_t *out, size_t cap,
                          size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
