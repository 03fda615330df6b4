/*
 * sunwire/tigo_star.h: frame types 0x0042 / 0x0043 of older "star" Tigo systems.
 *
 * The link layer (CRC, escaping, addressing) is the same as on mesh systems,
 * so these decoders get the payload of a CRC-checked frame. The layout rests
 * on a handful of public captures (see docs/tigo-protocol.md), so every field
 * here is RAW: no unit is converted, and none will be until captures with the
 * controller's own readings give evidence for the scales.
 *
 * Request 0x0042 (controller -> gateway), exactly 8 bytes:
 *   [0..1] constant 00 40, [2..3] constant 00 01, [4..5] sequence, [6..7] constant 00 01
 * Response 0x0043 (gateway -> controller): 18-byte header + N x 12-byte records;
 *   header [8..9] echoes the request's sequence, the other header bytes are unknown.
 */
#ifndef SUNWIRE_TIGO_STAR_H
#define SUNWIRE_TIGO_STAR_H

#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_TIGO_STAR_REQUEST_LEN 8u
#define SW_TIGO_STAR_HEADER_LEN 18u
#define SW_TIGO_STAR_RECORD_LEN 12u

typedef struct sw_tigo_star_request {
    uint16_t field_0;  /* bytes 0-1, seen 0x0040 */
    uint16_t field_2;  /* bytes 2-3, seen 0x0001 */
    uint16_t sequence; /* bytes 4-5 */
    uint16_t field_6;  /* bytes 6-7, seen 0x0001 */
} sw_tigo_star_request;

typedef struct sw_tigo_star_response {
    uint8_t header[SW_TIGO_STAR_HEADER_LEN]; /* all 18 bytes, raw */
    uint16_t sequence;     /* header bytes 8-9, echo of the request */
    size_t record_count;   /* (payload length - 18) / 12 */
    const uint8_t *records; /* record_count x 12 bytes, into the payload */
} sw_tigo_star_response;

/*
 * One 12-byte per-module record, split as one public decoder does (medium-low
 * confidence). Raw integers only.
 */
typedef struct sw_tigo_star_record {
    uint8_t byte0;       /* unknown, often 0x50 */
    uint8_t byte1;       /* unknown, varies */
    uint8_t slot;        /* module index on the gateway */
    uint16_t vin_raw;    /* byte 3 and high nibble of byte 4: 12 bits */
    uint8_t iin_raw;     /* low nibble of byte 5, high nibble of byte 6: 8 bits */
    uint8_t temp_raw;    /* byte 7 */
    uint8_t pwm_raw;     /* byte 8, 0..255 */
    uint16_t vout_raw;   /* bit 6 of byte 9 as bit 8, byte 11: 9 bits */
    uint8_t byte10;      /* unknown */
    uint8_t raw[SW_TIGO_STAR_RECORD_LEN];
} sw_tigo_star_record;

/* Exactly 8 bytes: SW_OK; shorter SW_ERR_TRUNCATED, longer SW_ERR_TOO_LONG. */
SW_API sw_err sw_tigo_star_request_decode(const uint8_t *payload, size_t n, sw_tigo_star_request *out);
/*
 * At least 18 bytes and (n - 18) a multiple of 12: SW_OK. Shorter:
 * SW_ERR_TRUNCATED. A partial trailing record: SW_ERR_TIGO_BAD_LENGTH.
 */
SW_API sw_err sw_tigo_star_response_decode(const uint8_t *payload, size_t n, sw_tigo_star_response *out);
/* Split one 12-byte record (exactly 12 bytes, else SW_ERR_TIGO_BAD_LENGTH). */
SW_API sw_err sw_tigo_star_record_decode(const uint8_t *rec, size_t n, sw_tigo_star_record *out);
/* Record i (< record_count) of a decoded response. */
SW_API void sw_tigo_star_response_record(const sw_tigo_star_response *r, size_t i, sw_tigo_star_record *out);

#ifdef __cplusplus
}
#endif
#endif
