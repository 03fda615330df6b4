/*
 * sunwire/rct_frame.h: RCT Power link layer (TCP port 8899), sans-I/O.
 *
 * Frames are `2B cmd len [addr] oid payload crc` with byte stuffing (2D escapes
 * every 2B/2D after the start token) and a CRC-16/CCITT-FALSE over the
 * unescaped body, padded with one 00 byte when its length is odd. This layer
 * turns values into wire bytes and wire bytes, in any chunking, into frames. It
 * trusts nothing from below: every byte may be garbage, split anywhere, or cut
 * short by the device; the receiver reports each problem as an error event and
 * resynchronises on the next start token.
 *
 * Nothing here allocates, reads a clock or does I/O.
 */
#ifndef SUNWIRE_RCT_FRAME_H
#define SUNWIRE_RCT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_RCT_START_TOKEN 0x2B
#define SW_RCT_ESCAPE_TOKEN 0x2D
#define SW_RCT_DEFAULT_PORT 8899

/* Command bytes (section 3 of the protocol notes, docs/rct-protocol.md). */
typedef enum sw_rct_command {
    SW_RCT_CMD_READ = 0x01,
    SW_RCT_CMD_WRITE = 0x02,
    SW_RCT_CMD_LONG_WRITE = 0x03,
    SW_RCT_CMD_RESPONSE = 0x05,
    SW_RCT_CMD_LONG_RESPONSE = 0x06,
    SW_RCT_CMD_READ_PERIODICALLY = 0x08,
    SW_RCT_CMD_EXTENSION = 0x3C,
    SW_RCT_CMD_PLANT_READ = 0x41,
    SW_RCT_CMD_PLANT_WRITE = 0x42,
    SW_RCT_CMD_PLANT_LONG_WRITE = 0x43,
    SW_RCT_CMD_PLANT_RESPONSE = 0x45,
    SW_RCT_CMD_PLANT_LONG_RESPONSE = 0x46,
    SW_RCT_CMD_PLANT_READ_PERIODICALLY = 0x48
} sw_rct_command;

/* One of the 13 documented command bytes above. */
SW_API bool sw_rct_command_valid(uint8_t cmd);
/* Bit 0x40: the frame carries a 4-byte plant address after the length. */
SW_API bool sw_rct_command_is_plant(uint8_t cmd);
/* LONG_WRITE, LONG_RESPONSE and their plant forms: 2-byte length field. */
SW_API bool sw_rct_command_is_long(uint8_t cmd);
SW_API bool sw_rct_command_is_write(uint8_t cmd);
SW_API bool sw_rct_command_is_response(uint8_t cmd);
/* "READ", "PLANT_LONG_RESPONSE", ...; NULL for bytes that are not commands. */
SW_API const char *sw_rct_command_name(uint8_t cmd);
/* Exact, case-sensitive inverse of sw_rct_command_name. SW_ERR_NOT_FOUND otherwise. */
SW_API sw_err sw_rct_command_from_name(const char *name, uint8_t *cmd);

/* What the receiver found. Derived from the command, never from a separate flag. */
typedef enum sw_rct_frame_kind {
    SW_RCT_FRAME_STANDARD = 4, /* numbers are the header bytes the length counts */
    SW_RCT_FRAME_PLANT = 8,
    SW_RCT_FRAME_EXTENSION = 1 /* 2B 3C xx: three bytes, no length, id or CRC */
} sw_rct_frame_kind;

/* Largest payloads the length field can describe. */
#define SW_RCT_PAYLOAD_MAX_SHORT 251u       /* 255 - 4 */
#define SW_RCT_PAYLOAD_MAX_SHORT_PLANT 247u /* 255 - 8 */
#define SW_RCT_PAYLOAD_MAX_LONG 65531u      /* 65535 - 4 */
#define SW_RCT_PAYLOAD_MAX_LONG_PLANT 65527u
#define SW_RCT_PAYLOAD_MAX SW_RCT_PAYLOAD_MAX_LONG
/* Upper bound of the wire size of a frame with n payload bytes (every byte escaped). */
#define SW_RCT_WIRE_MAX(n) (1u + 2u * (1u + 2u + 8u + (size_t)(n) + 2u))

/*
 * CRC of the unescaped body (command .. last payload byte). An odd-length
 * input is padded with one 00 byte, as the devices do. Table driven.
 */
SW_API uint16_t sw_rct_crc16(const uint8_t *p, size_t n);

/*
 * Build a complete, escaped frame into out[cap] (outputs last):
 *   2B, command, length (2 bytes for the four long commands, else 1),
 *   address (only when the command has bit 0x40), id, payload, CRC.
 * The length always counts exactly the bytes written (also for READ with a
 * payload and for PLANT_LONG_*, where rctclient's encoder is inconsistent).
 * Errors: SW_ERR_INVALID_ARGUMENT for EXTENSION (use sw_rct_frame_build_extension)
 * or payload == NULL with payload_len > 0; SW_ERR_TOO_LONG when the payload
 * does not fit the length field; SW_ERR_NO_SPACE when cap is too small
 * (SW_RCT_WIRE_MAX(payload_len) is always enough). *out_len is the wire length.
 */
SW_API sw_err sw_rct_frame_build(uint8_t command, uint32_t id, uint32_t address, const uint8_t *payload,
                          size_t payload_len, uint8_t *out, size_t cap, size_t *out_len);

/* The 3-byte EXTENSION frame 2B 3C xx (xx escaped when it is 2B or 2D). */
SW_API sw_err sw_rct_frame_build_extension(uint8_t ext, uint8_t *out, size_t cap, size_t *out_len);

/* A received frame. payload points into the receiver and stays valid until the
 * next call that feeds that receiver. */
typedef struct sw_rct_frame {
    uint8_t command;
    sw_rct_frame_kind kind;
    uint32_t address;      /* 0 unless kind == SW_RCT_FRAME_PLANT */
    uint32_t id;           /* object id; 0 for EXTENSION */
    const uint8_t *payload;
    size_t payload_len;
    uint8_t extension;     /* the byte after 3C for EXTENSION frames */
    bool crc_ok;
    uint16_t crc_received;
    uint16_t crc_calculated;
} sw_rct_frame;

typedef enum sw_rct_receiver_event_kind {
    SW_RCT_RECEIVER_NEED_MORE = 0, /* every byte consumed, no frame finished yet */
    SW_RCT_RECEIVER_FRAME,         /* a complete frame with a good CRC */
    SW_RCT_RECEIVER_ERROR          /* error says what; the receiver is ready for the next frame */
} sw_rct_receiver_event_kind;

typedef struct sw_rct_receiver_event {
    sw_rct_receiver_event_kind kind;
    /*
     * For SW_RCT_RECEIVER_ERROR:
     *   SW_ERR_RCT_CRC_MISMATCH     frame holds everything received (crc_ok false);
     *   SW_ERR_RCT_INVALID_COMMAND  command holds the offending byte;
     *   SW_ERR_RCT_BAD_LENGTH       length field below the header size it must cover;
     *   SW_ERR_RCT_LENGTH_EXCEEDED  payload longer than rx->max_payload;
     *   SW_ERR_RCT_FRAME_TRUNCATED  an unescaped 2B arrived inside a frame; that
     *                               2B is NOT consumed, it starts the next frame.
     */
    sw_err error;
    uint8_t command;
    sw_rct_frame frame;
} sw_rct_receiver_event;

/* Unescaped bytes the receiver buffers: command, 2-byte length, up to 65535
 * bytes the length covers, CRC. */
#define SW_RCT_RECEIVER_BODY_MAX (1u + 2u + 65535u + 2u)

/* Caller-owned receiver state (about 64 KiB; keep it off small stacks). */
typedef struct sw_rct_receiver {
    /* Settable after init: longer payloads give SW_ERR_RCT_LENGTH_EXCEEDED as
     * soon as the length field is in (default SW_RCT_PAYLOAD_MAX). */
    uint32_t max_payload;
    /* Lifetime count of bytes consumed, garbage and escapes included. */
    uint64_t consumed_total;
    /* private */
    uint8_t state_;
    bool escaping_;
    uint32_t have_;       /* unescaped body bytes buffered (start token excluded) */
    uint32_t header_len_; /* body bytes up to and including the id */
    uint32_t frame_len_;  /* body bytes including CRC; 0 while unknown */
    uint8_t body_[SW_RCT_RECEIVER_BODY_MAX];
} sw_rct_receiver;

SW_API void sw_rct_receiver_init(sw_rct_receiver *rx);
/* Forget a partial frame (e.g. when a new TCP segment starts with 00 2B). */
SW_API void sw_rct_receiver_reset(sw_rct_receiver *rx);
/* True once a start token was seen and the frame is not finished. */
SW_API bool sw_rct_receiver_in_frame(const sw_rct_receiver *rx);
/* Unescaped bytes of the pending frame, start token included (0 when idle). */
SW_API size_t sw_rct_receiver_buffered(const sw_rct_receiver *rx);

/*
 * Push parser. Consumes bytes of data[len] until a frame completes, an error
 * is found or the input ends, and returns how many bytes it used; *ev says
 * which of the three happened. Bytes before a start token are skipped. After
 * a FRAME or ERROR event the receiver starts over by itself: feed the rest of
 * the input again. Any chunking gives the same events. The return value is
 * smaller than len only with a FRAME or ERROR event, and is 0 only for
 * SW_ERR_RCT_FRAME_TRUNCATED when data[0] is the new start token.
 */
SW_API size_t sw_rct_receiver_push(sw_rct_receiver *rx, const uint8_t *data, size_t len, sw_rct_receiver_event *ev);

/*
 * One-shot parser for one frame held whole in memory (a captured frame, a
 * datagram, a test vector), in picohttpparser's style: it keeps no state
 * between calls and needs no receiver. Bytes before the first start token are
 * skipped. The frame's unescaped bytes go to body[body_cap]; frame->payload
 * points into body. A body of SW_RCT_RECEIVER_BODY_MAX bytes holds any frame.
 * Returns
 *   > 0   bytes of buf used, skipped noise included: *frame is complete and its CRC good;
 *   SW_RCT_PARSE_NEED_MORE (0)  buf ends inside a frame, or holds no start token;
 *   < 0   minus an sw_err code, with the same meaning as the receiver's error events
 *         (SW_ERR_RCT_CRC_MISMATCH fills *frame with crc_ok false;
 *         SW_ERR_RCT_LENGTH_EXCEEDED also when the frame does not fit body_cap;
 *         SW_ERR_INVALID_ARGUMENT for NULL pointers).
 * For a stream of frames, call again on buf + the returned count; after an
 * error, resume at the next start token after the one the frame began with.
 * Any input gives the same frame or error as sw_rct_receiver_push fed from
 * the same start token.
 */
#define SW_RCT_PARSE_NEED_MORE 0
SW_API ptrdiff_t sw_rct_frame_parse(const uint8_t *buf, size_t len, sw_rct_frame *frame, uint8_t *body,
                             size_t body_cap);

#ifdef __cplusplus
}
#endif
#endif
