/*
 * tigo/doctor.h: what is wrong with the line to a Tigo bus, in plain words.
 *
 * Push the bytes a listener received (with the time they came), ask for a
 * verdict: no bytes; bytes but no frame starts (wrong rate, A/B swapped,
 * wrong serial settings: the bytes are compared with the patterns such a
 * line gives, see tigo/line.h); frames with many CRC errors (noise,
 * termination, ground); gateways answering a controller that is not heard;
 * a controller nobody answers; or a healthy bus with its gateways, nodes and
 * CRC error rate. The link counters (frames, CRC errors, runts, giants,
 * garbage) are the evidence, with the frame-start patterns of each
 * candidate fault.
 *
 * Sans-I/O: no clock (times come with the bytes and the question), no
 * allocation; the struct may be moved between calls.
 */
#ifndef SUNWIRE_TIGO_DOCTOR_H
#define SUNWIRE_TIGO_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/tigo_link.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_tigo_doctor_verdict {
    SW_TIGO_DOCTOR_HEALTHY = 0,
    SW_TIGO_DOCTOR_NO_BYTES,      /* nothing arrived (or nothing for a long time) */
    SW_TIGO_DOCTOR_WRONG_LINE,    /* bytes without frames, matching a wrong rate or swapped wires */
    SW_TIGO_DOCTOR_GARBLED,       /* bytes without frames, matching nothing known */
    SW_TIGO_DOCTOR_NOISY,         /* frames, but many of them damaged */
    SW_TIGO_DOCTOR_NO_CONTROLLER, /* gateways answer, no controller request is heard */
    SW_TIGO_DOCTOR_NO_GATEWAYS    /* the controller asks, no gateway answers */
} sw_tigo_doctor_verdict;

/* "healthy", "no-bytes", "wrong-line", "garbled", "noisy", "no-controller", "no-gateways". */
const char *sw_tigo_doctor_verdict_name(sw_tigo_doctor_verdict v);

#define SW_TIGO_DOCTOR_PATTERNS 48
#define SW_TIGO_DOCTOR_PATTERN_MAX 8
#define SW_TIGO_DOCTOR_MAX_GATEWAYS 64
#define SW_TIGO_DOCTOR_MAX_NODES 1024
#define SW_TIGO_DOCTOR_CRC_PCT 5.0      /* damaged frames above this share: noisy */
#define SW_TIGO_DOCTOR_MIN_FRAMES 3     /* frames of a kind before their absence means something */
#define SW_TIGO_DOCTOR_QUIET_S 60       /* no byte for this long: no bytes (for a live line) */

/* What a faulty line would make of the frame starts: one candidate each. */
typedef struct sw_tigo_doctor_pattern {
    uint32_t rx_baud;   /* the listener's rate (the bus runs at 38400) */
    bool inverted;      /* A and B swapped */
    uint8_t len;        /* 0: this candidate leaves no fixed pattern */
    uint8_t bits;       /* fixed bits in the pattern */
    uint8_t bytes[SW_TIGO_DOCTOR_PATTERN_MAX];
    uint8_t mask[SW_TIGO_DOCTOR_PATTERN_MAX]; /* which bits of each byte are fixed */
    uint64_t hits;
} sw_tigo_doctor_pattern;

typedef struct sw_tigo_doctor_result {  /* tag used by forward declarations */
    sw_tigo_doctor_verdict verdict;
    uint64_t bytes;
    uint64_t frames;            /* CRC-good frames */
    uint64_t damaged;           /* CRC errors, runts, giants and cut-off frames */
    uint64_t frame_starts;      /* 7E 07 seen */
    uint64_t garbage;           /* entries into the link layer's noise state */
    uint64_t controller_frames, gateway_frames;
    unsigned gateways, nodes;
    double damaged_pct;         /* damaged / (frames + damaged), 0 without frames */
    double seconds;             /* from the first byte to the last (or to `now`) */
    /* the best matching line fault (WRONG_LINE) */
    bool line_match;
    bool inverted;
    uint32_t rx_baud;
    uint64_t line_hits;
    char text[320];             /* the verdict in plain words */
} sw_tigo_doctor_result;

typedef struct sw_tigo_doctor {
    sw_tigo_link_receiver rx;
    uint64_t bytes;
    int64_t first_ns, last_ns;
    uint64_t frame_starts;
    uint64_t controller_frames, gateway_frames;
    uint8_t prev_byte;
    uint8_t window[SW_TIGO_DOCTOR_PATTERN_MAX];
    size_t n_patterns;
    sw_tigo_doctor_pattern patterns[SW_TIGO_DOCTOR_PATTERNS];
    size_t n_gateways;
    uint16_t gateways[SW_TIGO_DOCTOR_MAX_GATEWAYS];
    size_t n_nodes;
    uint32_t nodes[SW_TIGO_DOCTOR_MAX_NODES]; /* gateway << 16 | node */
} sw_tigo_doctor;

/* Ready to listen; derives the candidate patterns (a few thousand bit steps). */
void sw_tigo_doctor_init(sw_tigo_doctor *d);
/* Forget what was heard (the patterns stay). */
void sw_tigo_doctor_reset(sw_tigo_doctor *d);

/* Bytes as they arrived at t_ns (Unix ns, or any monotonic time). */
void sw_tigo_doctor_push(sw_tigo_doctor *d, const uint8_t *bytes, size_t n, int64_t t_ns);

/* A node the caller's observer saw report (the doctor does not decode reports itself). */
void sw_tigo_doctor_note_node(sw_tigo_doctor *d, uint16_t gateway, uint16_t node);

/*
 * The verdict so far. `now_ns` is the time of the question: on a live line,
 * SW_TIGO_DOCTOR_QUIET_S without a byte is "no bytes" even if bytes came
 * before; pass 0 for a capture that is simply over.
 */
void sw_tigo_doctor_verdict_get(const sw_tigo_doctor *d, int64_t now_ns, sw_tigo_doctor_result *out);

#ifdef __cplusplus
}
#endif
#endif
