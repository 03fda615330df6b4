/*
 * sunwire/tigo_redact.h: keeping the radio network's key out of what sunwire
 * writes down.
 *
 * A gateway answers the radio configuration command (PV packet type 0x0E in
 * a command response, frame type 0x0B10) with the channel, the PAN ID and the
 * 16-byte key of its 802.15.4 network (spec §8.6). Captures and frame dumps
 * are what users attach to bug reports, so the CLI edges zero those 16 bytes
 * unless told otherwise, and recompute the frame's CRC so that a redacted
 * capture still decodes.
 *
 * Sans-I/O, like the rest of the link layer: the caller owns the struct and
 * the buffers; nothing here allocates, reads a clock or does I/O. The stream
 * redactor never refuses input and never drops a byte that is not part of a
 * key: everything else comes out as it went in, and a chunk boundary moves
 * only inside a radio configuration frame, whose tail is held until its end
 * delimiter (or until whatever cuts it short) arrives.
 */
#ifndef SUNWIRE_TIGO_REDACT_H
#define SUNWIRE_TIGO_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/api.h"
#include "sunwire/error.h"
#include "sunwire/tigo_link.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The key inside a radio configuration response's data (spec §8.6). */
#define SW_TIGO_RADIO_KEY_OFFSET 15u
#define SW_TIGO_RADIO_KEY_LEN 16u
/* Command response payload: ?? | Tx buffers free | ?? | PV packet type | sequence | data. */
#define SW_TIGO_COMMAND_RESPONSE_HEADER 5u

/*
 * Where a frame's payload holds a radio key: true for a command response from
 * a gateway whose PV packet type is 0x0E, with *off and *len the part of the
 * key span that lies inside the payload (*len may be 0 for a response too
 * short to reach it). False for every other frame.
 */
SW_API bool sw_tigo_redact_key_span(uint16_t address, uint16_t type, const uint8_t *payload, size_t payload_len,
                                    size_t *off, size_t *len);

/*
 * Zero the key in one unescaped frame body (address, type, payload, CRC LE),
 * in place. When the body's CRC was valid, the CRC is recomputed so that the
 * redacted frame still decodes; a body with a bad CRC keeps a bad one.
 * *redacted (may be NULL) says whether the body held key bytes. Bodies
 * shorter than SW_TIGO_LINK_MIN_BODY are left alone.
 */
SW_API void sw_tigo_redact_body(uint8_t *body, size_t n, bool *redacted);

/* ---- stream redactor -------------------------------------------------------- */

/*
 * Room a push needs: the held tail of a radio configuration frame comes out
 * escaped again (bytes a sender left unescaped take two), and the tail of a
 * frame held over from an earlier push comes out too.
 * SW_TIGO_REDACTOR_OUT_MAX(len) always suffices; a bus that escapes as
 * gateways do needs only a few bytes more than len.
 */
#define SW_TIGO_REDACTOR_SLACK (2u * SW_TIGO_LINK_MAX_BODY + 8u)
#define SW_TIGO_REDACTOR_OUT_MAX(len) (2u * (size_t)(len) + SW_TIGO_REDACTOR_SLACK)

typedef struct sw_tigo_redactor_counters {
    uint64_t frames; /* radio configuration frames whose key was zeroed (complete or cut short) */
} sw_tigo_redactor_counters;

/* Caller-owned; holds no pointer to itself, so it may be moved between pushes. */
typedef struct sw_tigo_redactor {
    uint8_t mode;    /* private: outside a frame, reading a frame's head, holding a radio configuration frame */
    bool escape;     /* private: the last byte was a 7E whose meaning is not known yet */
    uint16_t len;    /* private: unescaped body bytes of the current frame */
    sw_tigo_redactor_counters counters;
    uint8_t body[SW_TIGO_LINK_MAX_BODY];
} sw_tigo_redactor;

SW_API void sw_tigo_redactor_init(sw_tigo_redactor *r);

/*
 * Push bus bytes; the redacted bytes that are ready go to out. Every byte
 * that belongs to no radio key comes out unchanged and in order (a held
 * frame's tail comes out escaped the way gateways escape). cap must be at
 * least SW_TIGO_REDACTOR_OUT_MAX(len) (else SW_ERR_NO_SPACE and nothing is
 * consumed).
 */
SW_API sw_err sw_tigo_redactor_push(sw_tigo_redactor *r, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                                    size_t *out_len);

/* The input ended: write what is still held (a cut-short frame, redacted). cap >= SW_TIGO_REDACTOR_SLACK. */
SW_API sw_err sw_tigo_redactor_finish(sw_tigo_redactor *r, uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
