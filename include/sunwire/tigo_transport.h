/*
 * sunwire/tigo_transport.h: the Tigo gateway transport layer.
 *
 * Frames in (from the link layer, so CRC-checked but otherwise untrusted),
 * typed events out. It keeps, in fixed-size tables inside the caller-owned
 * struct, the per-gateway bookkeeping the protocol needs: the last packet
 * number (receive responses often carry only its low byte) and pending
 * command requests waiting for their response, keyed by (gateway, sequence).
 * Receive responses are split into PV packets here; their application
 * payloads are decoded by tigo_pv.h, on demand, by whoever consumes the event.
 *
 * Differences from taptap are opt-in switches (see sw_tigo_transport_flags):
 * by default firmware-4.x status words and H-series status words are
 * accepted, and every frame type, including the star pair 0x0042/0x0043,
 * yields an event.
 */
#ifndef SUNWIRE_TIGO_TRANSPORT_H
#define SUNWIRE_TIGO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/tigo_link.h"
#include "sunwire/tigo_pv.h"
#include "sunwire/tigo_star.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pure payload decoders ------------------------------------------------ */
typedef struct sw_tigo_receive_request {
    uint8_t unknown_1[2]; /* seen 00 01 */
    uint16_t packet_number;
    uint8_t unknown_2; /* seen 04 */
} sw_tigo_receive_request;

/* Exactly 5 bytes. */
SW_API sw_err sw_tigo_receive_request_decode(const uint8_t *p, size_t n, sw_tigo_receive_request *out);

typedef struct sw_tigo_receive_response {
    uint16_t status;     /* whole status word as sent */
    uint8_t status_high; /* high byte: 0 on old firmware, 0x01/0x41/0x81/0xC1 on 4.x */
    uint8_t absent;      /* status & 0x1F: a set bit means the field is absent */
    bool has_rx_buffers_used;
    uint8_t rx_buffers_used;
    bool has_tx_buffers_free;
    uint8_t tx_buffers_free;
    bool has_unknown_a;
    uint8_t unknown_a[2];
    bool has_unknown_b;
    uint8_t unknown_b[2];
    bool packet_number_full; /* both bytes sent (status bit 4 clear) */
    uint16_t packet_number;  /* full or reconstructed */
    uint16_t slot_counter;
    const uint8_t *packets; /* packet region, into the payload */
    size_t packets_len;
} sw_tigo_receive_response;

enum sw_tigo_status_check {
    SW_TIGO_STATUS_TOLERANT = 0, /* only status & 0x1F decides; any high byte, bits 5-7 free */
    SW_TIGO_STATUS_STRICT = 1    /* taptap: status & 0xFFE0 must equal 0x00E0 */
};

/*
 * Parse a receive-response payload. `reference_pn` is the last packet number
 * known for the gateway; when only the low byte is sent the high byte comes
 * from it (incremented, wrapping 0xFF -> 0x00, when the low byte went
 * backwards). Errors: SW_ERR_TRUNCATED (then *min_len, if not NULL, holds
 * the length this status word needs, as the reference reports it: 5 below 2
 * bytes), SW_ERR_TIGO_UNKNOWN_STATUS (strict check only).
 */
SW_API sw_err sw_tigo_receive_response_decode(const uint8_t *p, size_t n, uint16_t reference_pn,
                                       enum sw_tigo_status_check check, sw_tigo_receive_response *out,
                                       size_t *min_len);

typedef struct sw_tigo_command_request {
    uint8_t unknown[3]; /* seen 00 00 00 */
    uint8_t packet_type;
    uint8_t sequence;
    const uint8_t *data;
    size_t data_len;
} sw_tigo_command_request;

typedef struct sw_tigo_command_response {
    uint8_t unknown_1;
    uint8_t tx_buffers_free;
    uint8_t unknown_2;
    uint8_t packet_type;
    uint8_t sequence;
    const uint8_t *data;
    size_t data_len;
} sw_tigo_command_response;

/* At least 5 bytes each. */
SW_API sw_err sw_tigo_command_request_decode(const uint8_t *p, size_t n, sw_tigo_command_request *out);
SW_API sw_err sw_tigo_command_response_decode(const uint8_t *p, size_t n, sw_tigo_command_response *out);

/* 0x0039 / 0x003B payload: long address + gateway address (exactly 10 bytes). */
typedef struct sw_tigo_identity {
    uint8_t long_address[8];
    uint16_t gateway_address; /* link-address format */
} sw_tigo_identity;
SW_API sw_err sw_tigo_identity_decode(const uint8_t *p, size_t n, sw_tigo_identity *out);

/* 0x0014 payload: 4 unknown bytes + enumeration address (exactly 6 bytes). */
typedef struct sw_tigo_enumeration_start {
    uint8_t unknown[4]; /* seen 37 24 92 66 */
    uint16_t enumeration_address;
} sw_tigo_enumeration_start;
SW_API sw_err sw_tigo_enumeration_start_decode(const uint8_t *p, size_t n, sw_tigo_enumeration_start *out);

/* 0x003C payload: 4 unknown + long address + new gateway ID (exactly 14 bytes). */
typedef struct sw_tigo_assign_gateway_id {
    uint8_t unknown[4];
    uint8_t long_address[8];
    uint16_t new_gateway_id;
} sw_tigo_assign_gateway_id;
SW_API sw_err sw_tigo_assign_gateway_id_decode(const uint8_t *p, size_t n, sw_tigo_assign_gateway_id *out);

/* ---- events ------------------------------------------------------------------ */
typedef enum sw_tigo_transport_event_kind {
    SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST = 1,  /* u.receive_request */
    SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE,     /* u.receive_response; its PV packets follow as events */
    SW_TIGO_TRANSPORT_EVENT_PV_PACKET,            /* u.pv_packet, one per packet of the last response */
    SW_TIGO_TRANSPORT_EVENT_COMMAND_REQUEST,      /* u.command_request (stored as pending) */
    SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED,     /* u.command: a response matched its request */
    SW_TIGO_TRANSPORT_EVENT_PING_REQUEST,
    SW_TIGO_TRANSPORT_EVENT_PING_RESPONSE,
    SW_TIGO_TRANSPORT_EVENT_ENUMERATION_STARTED,  /* u.enumeration_start */
    SW_TIGO_TRANSPORT_EVENT_ENUMERATION_START_RESPONSE,
    SW_TIGO_TRANSPORT_EVENT_ENUMERATION_REQUEST,
    SW_TIGO_TRANSPORT_EVENT_GATEWAY_IDENTITY,     /* u.identity, from 0x0039 or 0x003B */
    SW_TIGO_TRANSPORT_EVENT_ASSIGN_GATEWAY_ID_REQUEST, /* u.assign_gateway_id */
    SW_TIGO_TRANSPORT_EVENT_ASSIGN_GATEWAY_ID_RESPONSE,
    SW_TIGO_TRANSPORT_EVENT_IDENTIFY_REQUEST,
    SW_TIGO_TRANSPORT_EVENT_VERSION_REQUEST,
    SW_TIGO_TRANSPORT_EVENT_GATEWAY_VERSION,      /* u.version */
    SW_TIGO_TRANSPORT_EVENT_ENUMERATION_END_REQUEST,
    SW_TIGO_TRANSPORT_EVENT_ENUMERATION_ENDED,
    SW_TIGO_TRANSPORT_EVENT_STAR_REQUEST,         /* u.star_request */
    SW_TIGO_TRANSPORT_EVENT_STAR_RESPONSE,        /* u.star_response */
    SW_TIGO_TRANSPORT_EVENT_UNHANDLED_FRAME,      /* a type this layer does not know (0x0010, ...) */
    SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME         /* a known type that failed validation: u.invalid */
} sw_tigo_transport_event_kind;

typedef struct sw_tigo_transport_event {
    sw_tigo_transport_event_kind kind;
    /* 15-bit ID from the frame address; for ENUMERATION_STARTED the enumeration
     * ID the gateways will answer at (the frame itself goes to 0x0000). */
    uint16_t gateway_id;
    const sw_tigo_frame *frame; /* the frame that caused the event */
    union {
        sw_tigo_receive_request receive_request;
        struct {
            sw_tigo_receive_response response;
            uint16_t previous_packet_number; /* the reference used to reconstruct */
        } receive_response;
        struct {
            sw_tigo_pv_packet packet;
            uint16_t response_slot_counter; /* slot counter of the carrying response */
            uint16_t response_packet_number;
            uint16_t index; /* 0-based position inside the response */
        } pv_packet;
        struct {
            sw_tigo_command_request request;
            bool retransmitted; /* same sequence as the last request to this gateway */
        } command_request;
        struct {
            /* request.data points into transport-owned storage valid during the callback */
            sw_tigo_command_request request;
            sw_tigo_command_response response;
        } command;
        sw_tigo_enumeration_start enumeration_start;
        sw_tigo_identity identity;
        sw_tigo_assign_gateway_id assign_gateway_id;
        struct {
            const char *text; /* not NUL-terminated; CRs kept */
            size_t len;
        } version;
        sw_tigo_star_request star_request;
        sw_tigo_star_response star_response;
        struct {
            sw_err error; /* why the frame was refused */
            size_t min_len; /* receive response: reported minimum length, else 0 */
        } invalid;
    } u;
} sw_tigo_transport_event;

typedef struct sw_tigo_transport sw_tigo_transport;

/*
 * Called with each event: the transport that produced it, the event, and the
 * user pointer given at init. Return 0 to go on; any other value stops the
 * push at once (no further event for that frame, e.g. the remaining PV
 * packets of a receive response) and the push returns that value.
 */
typedef int (*sw_tigo_transport_event_cb)(sw_tigo_transport *t, const sw_tigo_transport_event *event, void *user);

/* ---- counters (names follow the reference, plus sunwire's own) -------------- */
typedef struct sw_tigo_transport_counters {
    uint64_t unhandled_frame_type;
    uint64_t invalid_receive_request;
    uint64_t receive_requests;
    uint64_t invalid_receive_responses;
    uint64_t receive_response_from_unknown_gateway;
    uint64_t receive_responses;
    uint64_t receive_packets;
    uint64_t receive_packet_too_short;
    uint64_t invalid_command_requests;
    uint64_t retransmitted_command_requests;
    uint64_t command_requests;
    uint64_t invalid_command_responses;
    uint64_t retransmitted_command_responses;
    uint64_t command_responses;
    uint64_t ping_requests;
    uint64_t ping_responses;
    uint64_t enumeration_start_requests;
    uint64_t invalid_enumeration_start_request;
    uint64_t enumeration_start_responses;
    uint64_t enumeration_requests;
    uint64_t enumeration_responses;
    uint64_t invalid_enumeration_responses;
    uint64_t version_requests;
    uint64_t version_responses;
    uint64_t invalid_version_responses;
    uint64_t enumeration_end_requests;
    uint64_t enumeration_end_responses;
    uint64_t invalid_enumeration_end_responses;
    uint64_t assign_gateway_id_requests;
    uint64_t assign_gateway_id_responses;
    uint64_t identify_requests;
    uint64_t identify_responses;
    uint64_t invalid_identify_responses;
    /* sunwire additions */
    uint64_t status_high_byte_nonzero;   /* firmware-4.x status words */
    uint64_t status_low_bits_clear;      /* H-series: bits 5-7 of the low byte not all set */
    uint64_t star_requests;
    uint64_t star_responses;
    uint64_t invalid_star_frames;
    uint64_t pending_commands_evicted;   /* pending table full: oldest entry dropped */
    uint64_t gateways_evicted;           /* gateway table full: least recently used dropped */
    uint16_t last_unhandled_frame_type;
    uint16_t last_status_high_byte;
} sw_tigo_transport_counters;

/* ---- the receiver ----------------------------------------------------------------- */
#define SW_TIGO_MAX_GATEWAYS 32u       /* tracked gateway IDs; a real bus has a handful */
#define SW_TIGO_MAX_PENDING_COMMANDS 32u

enum sw_tigo_transport_flags {
    /* taptap's status check: refuse receive responses unless status & 0xFFE0 == 0x00E0 */
    SW_TIGO_TRANSPORT_STRICT_STATUS = 1u << 0,
    /* do not emit SW_TIGO_TRANSPORT_EVENT_PV_PACKET events (counters still move); can be
     * changed later with sw_tigo_transport_set_packet_events */
    SW_TIGO_TRANSPORT_NO_PACKET_EVENTS = 1u << 1
};

typedef struct sw_tigo_gateway_slot {
    uint16_t gateway_id;
    bool used;
    bool has_packet_number;
    bool has_last_sequence;
    uint8_t last_sequence;
    uint16_t packet_number;
    uint64_t last_use; /* for LRU eviction */
} sw_tigo_gateway_slot;

typedef struct sw_tigo_pending_command {
    bool used;
    uint16_t gateway_id;
    uint8_t sequence;
    uint8_t packet_type;
    uint8_t unknown[3];
    uint8_t data_len;
    uint64_t stamp; /* insertion order, for eviction */
    uint8_t data[SW_TIGO_LINK_MAX_PAYLOAD];
} sw_tigo_pending_command;

struct sw_tigo_transport {
    unsigned flags;
    sw_tigo_transport_event_cb on_event; /* may be NULL: counting only */
    void *user;
    uint64_t clock; /* logical time for LRU / eviction, one tick per frame */
    sw_tigo_transport_counters counters;
    sw_tigo_gateway_slot gateways[SW_TIGO_MAX_GATEWAYS];
    sw_tigo_pending_command pending[SW_TIGO_MAX_PENDING_COMMANDS];
    uint32_t last_gateway; /* index of the most recently used gateway slot (lookup shortcut) */
};

SW_API void sw_tigo_transport_init(sw_tigo_transport *t, unsigned flags, sw_tigo_transport_event_cb on_event, void *user);
/*
 * Push one CRC-checked frame; events go to the callback before this returns.
 * Returns 0, or the non-zero value the callback returned to stop (the frame's
 * bookkeeping is done by then; only its later events are skipped).
 */
SW_API int sw_tigo_transport_push(sw_tigo_transport *t, const sw_tigo_frame *frame);
/*
 * Whether receive responses are followed by one SW_TIGO_TRANSPORT_EVENT_PV_PACKET event
 * per packet (the default) or only counted (a consumer that walks
 * u.receive_response.response.packets itself saves the per-packet calls).
 * Takes effect from the next frame.
 */
SW_API void sw_tigo_transport_set_packet_events(sw_tigo_transport *t, bool on);
SW_API bool sw_tigo_transport_packet_events(const sw_tigo_transport *t);
/* The packet number last recorded for a gateway: SW_ERR_NOT_FOUND when none. */
SW_API sw_err sw_tigo_transport_packet_number(const sw_tigo_transport *t, uint16_t gateway_id, uint16_t *pn);
/* Name of an event kind ("receive_request", ...), for logs and tests. */
SW_API const char *sw_tigo_transport_event_kind_name(sw_tigo_transport_event_kind kind);

/* ---- link + transport in one struct (convenience for programs) ------------------- */
typedef struct sw_tigo_stack {
    sw_tigo_link_receiver link;
    sw_tigo_transport transport;
    sw_tigo_frame_cb on_frame; /* optional tap on every valid frame (peek-frames) */
    void *frame_user;
} sw_tigo_stack;

/*
 * Link receiver in `mode` feeding a transport with `flags` and `on_event`
 * (which receives &s->transport as its owner). The stack holds no pointer to
 * itself: it may be copied or moved between pushes. The frame tap
 * (on_frame, frame_user; set them after init) receives &s->link.
 */
SW_API void sw_tigo_stack_init(sw_tigo_stack *s, sw_tigo_link_mode mode, unsigned flags, sw_tigo_transport_event_cb on_event,
                        void *user);
/* Push bus bytes: as sw_tigo_link_receiver_push (0, or a callback's non-zero value
 * to stop; *used, may be NULL, the bytes consumed). */
SW_API int sw_tigo_stack_push(sw_tigo_stack *s, const uint8_t *data, size_t len, size_t *used);

#ifdef __cplusplus
}
#endif
#endif
