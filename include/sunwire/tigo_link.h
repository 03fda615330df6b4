/*
 * sunwire/tigo_link.h: the Tigo TAP gateway link layer (RS-485 framing).
 *
 * Bytes in, CRC-checked frames out. The receiver trusts nothing: any byte
 * sequence, cut into any chunks, only ever moves counters and delivers frames
 * whose CRC-16 matched. It is a push parser in the picohttpparser spirit: the
 * caller owns the struct (including the 256-byte accumulation buffer), feeds
 * whatever the serial port or socket returned, and gets frames through a
 * callback. No allocation, no I/O, no clock.
 *
 * Wire format: preamble, 7E 07, escaped(address BE, type BE, payload, CRC LE),
 * 7E 08. See docs/tigo-protocol.md.
 */
#ifndef SUNWIRE_TIGO_LINK_H
#define SUNWIRE_TIGO_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CRC-16 (reflected poly 0x8408, register starts at 0x8408) ---------- */
#define SW_TIGO_CRC16_INIT 0x8408u

/* Continue a CRC over more bytes; start with SW_TIGO_CRC16_INIT. */
SW_API uint16_t sw_tigo_crc16_update(uint16_t crc, const uint8_t *p, size_t n);
/* CRC of one buffer (address + type + payload, unescaped). */
SW_API uint16_t sw_tigo_crc16(const uint8_t *p, size_t n);

/* ---- addresses and frame types ------------------------------------------- */
#define SW_TIGO_ADDR_FROM_GATEWAY 0x8000u /* direction bit: set = sent by a gateway */
#define SW_TIGO_GATEWAY_ID_MASK 0x7FFFu

static inline bool sw_tigo_addr_is_from_gateway(uint16_t address)
{
    return (address & SW_TIGO_ADDR_FROM_GATEWAY) != 0;
}
static inline uint16_t sw_tigo_addr_gateway_id(uint16_t address)
{
    return (uint16_t)(address & SW_TIGO_GATEWAY_ID_MASK);
}

enum {
    SW_TIGO_FT_ENUMERATION_END_RESPONSE = 0x0006,
    SW_TIGO_FT_VERSION_REQUEST = 0x000A,
    SW_TIGO_FT_VERSION_RESPONSE = 0x000B,
    SW_TIGO_FT_UNKNOWN_0010 = 0x0010,
    SW_TIGO_FT_UNKNOWN_0011 = 0x0011,
    SW_TIGO_FT_ENUMERATION_START_REQUEST = 0x0014,
    SW_TIGO_FT_ENUMERATION_START_RESPONSE = 0x0015,
    SW_TIGO_FT_ENUMERATION_REQUEST = 0x0038,
    SW_TIGO_FT_ENUMERATION_RESPONSE = 0x0039,
    SW_TIGO_FT_IDENTIFY_REQUEST = 0x003A,
    SW_TIGO_FT_IDENTIFY_RESPONSE = 0x003B,
    SW_TIGO_FT_ASSIGN_GATEWAY_ID_REQUEST = 0x003C,
    SW_TIGO_FT_ASSIGN_GATEWAY_ID_RESPONSE = 0x003D,
    SW_TIGO_FT_STAR_REQUEST = 0x0042,
    SW_TIGO_FT_STAR_RESPONSE = 0x0043,
    SW_TIGO_FT_RECEIVE_REQUEST = 0x0148,
    SW_TIGO_FT_RECEIVE_RESPONSE = 0x0149,
    SW_TIGO_FT_PING_REQUEST = 0x0B00,
    SW_TIGO_FT_PING_RESPONSE = 0x0B01,
    SW_TIGO_FT_COMMAND_REQUEST = 0x0B0F,
    SW_TIGO_FT_COMMAND_RESPONSE = 0x0B10,
    SW_TIGO_FT_ENUMERATION_END_REQUEST = 0x0E02
};

/*
 * taptap's name of a frame type ("RECEIVE_REQUEST", ...) for the 18 types it
 * names, else NULL (callers print Type(0x..) themselves). 0x0042/0x0043 and
 * 0x0010/0x0011 have no reference name and give NULL here; see
 * sw_tigo_frame_type_describe for a descriptive label.
 */
SW_API const char *sw_tigo_frame_type_name(uint16_t type);
/* A human label for any type, never NULL: the reference name, "STAR_REQUEST",
 * "STAR_RESPONSE", "UNKNOWN_0010", "UNKNOWN_0011" or "UNKNOWN". */
SW_API const char *sw_tigo_frame_type_describe(uint16_t type);

/* ---- frames ---------------------------------------------------------------- */
#define SW_TIGO_LINK_MAX_BODY 256u /* unescaped address+type+payload+CRC */
#define SW_TIGO_LINK_MIN_BODY 6u
#define SW_TIGO_LINK_MAX_PAYLOAD (SW_TIGO_LINK_MAX_BODY - SW_TIGO_LINK_MIN_BODY)

typedef struct sw_tigo_frame {
    uint16_t address;       /* raw 16-bit address, bit 15 = from gateway */
    uint16_t type;          /* frame type */
    const uint8_t *payload; /* valid only during the callback */
    size_t payload_len;     /* 0 .. SW_TIGO_LINK_MAX_PAYLOAD */
} sw_tigo_frame;

/* ---- receiver ---------------------------------------------------------------- */
typedef enum sw_tigo_link_state {
    SW_TIGO_LINK_IDLE = 0,
    SW_TIGO_LINK_NOISE,
    SW_TIGO_LINK_START_OF_FRAME,
    SW_TIGO_LINK_FRAME,
    SW_TIGO_LINK_FRAME_ESCAPE,
    SW_TIGO_LINK_GIANT,
    SW_TIGO_LINK_GIANT_ESCAPE
} sw_tigo_link_state;

typedef enum sw_tigo_link_mode {
    /*
     * Default. Same as the reference except that 7E 07 inside a frame (a lost
     * end delimiter) drops the partial frame, counts it in `restarts`, and
     * starts the next frame at once, so a collision costs one frame, not two.
     * An overflow that arrives through an escape pair is counted as a giant
     * and the following 7E 08 / 7E 07 are honoured. 7E 7E 07 starts a frame.
     * See docs/tigo-protocol.md for the vectors this changes.
     */
    SW_TIGO_LINK_MODE_IMPROVED = 0,
    /* Bit-exact taptap behaviour, quirks included (tests and comparisons). */
    SW_TIGO_LINK_MODE_REFERENCE = 1
} sw_tigo_link_mode;

typedef struct sw_tigo_link_counters {
    uint64_t frames;    /* delivered, CRC good */
    uint64_t runts;     /* ended with fewer than 6 body bytes */
    uint64_t giants;    /* grew past 256 body bytes */
    uint64_t checksums; /* CRC mismatch */
    uint64_t noise;     /* entries into the noise state (garbage between frames) */
    uint64_t restarts;  /* improved mode only: partial frames cut short by 7E 07 */
} sw_tigo_link_counters;

typedef struct sw_tigo_link_receiver sw_tigo_link_receiver;

/*
 * Called with each CRC-checked frame: the receiver that found it, the frame,
 * and the user pointer given at init. Return 0 to go on; any other value
 * stops the push at once (the rest of the chunk is left unread) and the push
 * returns that value.
 */
typedef int (*sw_tigo_frame_cb)(sw_tigo_link_receiver *rx, const sw_tigo_frame *frame, void *user);

struct sw_tigo_link_receiver {
    uint8_t state; /* sw_tigo_link_state */
    uint8_t mode;  /* sw_tigo_link_mode */
    uint16_t len;  /* bytes in buf */
    sw_tigo_link_counters counters;
    sw_tigo_frame_cb on_frame; /* may be NULL: frames are only counted */
    void *user;
    /* The body starts at buf + 8: the eight bytes before it stay zero, so the
     * CRC can run over whole 8-byte blocks (see link.c). */
    uint8_t buf[8 + SW_TIGO_LINK_MAX_BODY];
};

SW_API void sw_tigo_link_receiver_init(sw_tigo_link_receiver *rx, sw_tigo_link_mode mode, sw_tigo_frame_cb on_frame,
                          void *user);
/* Back to Idle with an empty buffer; counters are kept. */
SW_API void sw_tigo_link_receiver_reset(sw_tigo_link_receiver *rx);
/*
 * Push bytes. Returns 0 when all of them were consumed (a link receiver never
 * refuses input), or the non-zero value a callback returned to stop: the
 * push then ends right after that frame's end delimiter. *used (may be NULL)
 * is the number of bytes consumed; push the rest again to go on. Frames
 * delivered are counted in counters.frames. The callback may read the frame
 * but must not push into the same receiver re-entrantly. The struct holds no
 * pointer to itself: it may be copied or moved between pushes.
 */
SW_API int sw_tigo_link_receiver_push(sw_tigo_link_receiver *rx, const uint8_t *data, size_t len, size_t *used);
static inline sw_tigo_link_state sw_tigo_link_receiver_state(const sw_tigo_link_receiver *rx)
{
    return (sw_tigo_link_state)rx->state;
}
/* "Idle", "Noise", "StartOfFrame", "Frame", "FrameEscape", "Giant", "GiantEscape". */
SW_API const char *sw_tigo_link_state_name(sw_tigo_link_state state);

/*
 * Check and split one unescaped body (address, type, payload, CRC LE) as the
 * receiver does at 7E 08. SW_ERR_TRUNCATED below 6 bytes, SW_ERR_TOO_LONG
 * above 256, SW_ERR_TIGO_BAD_CRC on mismatch. frame->payload points into body.
 */
SW_API sw_err sw_tigo_link_parse_body(const uint8_t *body, size_t n, sw_tigo_frame *frame);

/* ---- encoder (an observer never sends; used by tests, benches, simulators) - */
/* Escaping table of the seven reserved bytes. */
static inline bool sw_tigo_byte_needs_escape(uint8_t b)
{
    return b == 0x7E || b == 0x24 || b == 0x23 || b == 0x25 || b == 0xA4 || b == 0xA3 || b == 0xA5;
}
/* Escape raw bytes into out. SW_ERR_NO_SPACE when cap is too small. */
SW_API sw_err sw_tigo_link_escape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len);
/* Reverse the escapes (no delimiters allowed in the input): SW_ERR_TIGO_BAD_ESCAPE on 7E followed
 * by anything but 00..06 or on a trailing lone 7E. */
SW_API sw_err sw_tigo_link_unescape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len);

enum {
    SW_TIGO_ENCODE_NO_PREAMBLE = 1u << 0 /* omit 00 FF FF / FF */
};
/* Worst-case encoded size of a frame with payload_len payload bytes. */
static inline size_t sw_tigo_link_encoded_max(size_t payload_len)
{
    return 3u + 2u + 2u * (4u + payload_len + 2u) + 2u;
}
/*
 * Encode one frame: preamble chosen by the direction bit (00 FF FF towards a
 * gateway, FF from one), 7E 07, escaped body with CRC LE, 7E 08.
 * SW_ERR_TOO_LONG when payload_len > SW_TIGO_LINK_MAX_PAYLOAD, SW_ERR_NO_SPACE
 * when cap is too small.
 */
SW_API sw_err sw_tigo_link_encode(uint16_t address, uint16_t type, const uint8_t *payload, size_t payload_len,
                           unsigned flags, uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
