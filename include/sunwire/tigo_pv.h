/*
 * sunwire/tigo_pv.h: the PV network as seen through a Tigo gateway, and its
 * application payloads (power reports, node tables, topology, ...).
 *
 * Everything here is a pure function over a byte array the caller owns: the
 * transport layer hands over the packet region of a receive response, or the
 * data of a command request/response, and these decoders split it. They trust
 * only that the bytes came out of a CRC-checked frame; every length is checked
 * and a mismatch is an sw_err, never a crash. Results that point into the
 * input ("data", "entries", "tail") are valid as long as the input is.
 *
 * Physical values are computed exactly as the reference does, by IEEE double
 * division (raw / 20.0 etc.), because multiplying by 0.05 yields different
 * doubles and therefore different JSON text.
 */
#ifndef SUNWIRE_TIGO_PV_H
#define SUNWIRE_TIGO_PV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PV packet types -------------------------------------------------------- */
enum {
    SW_TIGO_PT_STRING_REQUEST = 0x06,
    SW_TIGO_PT_STRING_RESPONSE = 0x07,
    SW_TIGO_PT_TOPOLOGY_REPORT = 0x09,
    SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_REQUEST = 0x0D,
    SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_RESPONSE = 0x0E,
    SW_TIGO_PT_PV_CONFIGURATION_REQUEST = 0x13,
    SW_TIGO_PT_PV_CONFIGURATION_RESPONSE = 0x18,
    SW_TIGO_PT_BROADCAST = 0x22,
    SW_TIGO_PT_BROADCAST_ACK = 0x23,
    SW_TIGO_PT_NODE_TABLE_REQUEST = 0x26,
    SW_TIGO_PT_NODE_TABLE_RESPONSE = 0x27,
    SW_TIGO_PT_LONG_NETWORK_STATUS_REQUEST = 0x2D,
    SW_TIGO_PT_NETWORK_STATUS_REQUEST = 0x2E,
    SW_TIGO_PT_NETWORK_STATUS_RESPONSE = 0x2F,
    SW_TIGO_PT_POWER_REPORT = 0x31,
    SW_TIGO_PT_UNKNOWN_41 = 0x41
};

/* taptap's name for the 15 packet types it names ("POWER_REPORT", ...), else NULL
 * (0x41 included: the reference prints it as PacketType(0x41)). */
SW_API const char *sw_tigo_packet_type_name(uint8_t type);

#define SW_TIGO_NODE_BROADCAST 0u
#define SW_TIGO_NODE_GATEWAY 1u

/* ---- received-packet header (spec §6.2) ----------------------------------- */
#define SW_TIGO_PV_HEADER_LEN 7u

typedef struct sw_tigo_pv_packet {
    uint8_t type;
    uint16_t node_id;       /* PV node ID of the sender */
    uint16_t short_address; /* 802.15.4 short address */
    uint8_t dsn;
    uint8_t data_len;
    const uint8_t *data; /* data_len bytes, into the region */
} sw_tigo_pv_packet;

/*
 * Take the next packet from a receive response's packet region, starting at
 * *pos. Returns SW_OK and advances *pos past the packet; SW_ERR_NOT_FOUND when
 * *pos == n (region exhausted); SW_ERR_TIGO_PACKET_TOO_SHORT when fewer than 7
 * header bytes or fewer than data_len data bytes remain (the reference then
 * stops and discards the rest; *pos is set to n so a loop ends).
 */
SW_API sw_err sw_tigo_pv_packet_next(const uint8_t *region, size_t n, size_t *pos, sw_tigo_pv_packet *out);

/* ---- slot counter (spec §7) ------------------------------------------------ */
#define SW_TIGO_SLOTS_PER_EPOCH 12000u
#define SW_TIGO_SLOTS_PER_CYCLE 48000u

static inline unsigned sw_tigo_slot_epoch(uint16_t sc) { return (unsigned)(sc >> 14); }
static inline unsigned sw_tigo_slot_number(uint16_t sc) { return (unsigned)(sc & 0x3FFFu); }
static inline bool sw_tigo_slot_valid(uint16_t sc) { return (sc & 0x3FFFu) < SW_TIGO_SLOTS_PER_EPOCH; }
/* "Epoch0", "Epoch4", "Epoch8", "EpochC" (the reference's names for epochs 0..3). */
SW_API const char *sw_tigo_slot_epoch_name(uint16_t sc);
/* Absolute slot 0..47999; SW_ERR_TIGO_INVALID_SLOT when the slot number exceeds 11999. */
SW_API sw_err sw_tigo_slot_absolute(uint16_t sc, uint32_t *abs_out);
/*
 * Wrap-aware distance from `past` to `now` in slots, as the reference library
 * computes it: a_now - a_past when positive, else 48000 - a_past + a_now.
 * QUIRK kept: equal values give 48000, not 0. SW_ERR_TIGO_INVALID_SLOT when
 * either value is invalid.
 */
SW_API sw_err sw_tigo_slots_since(uint16_t now, uint16_t past, uint32_t *slots_out);
/* Same distance but 0 for equal values (what a new caller usually wants). */
SW_API sw_err sw_tigo_slots_between(uint16_t now, uint16_t past, uint32_t *slots_out);

/* ---- power report (0x31, spec §8.2, fw4 §3.2) ------------------------------- */
#define SW_TIGO_POWER_REPORT_LEN 13u
#define SW_TIGO_POWER_REPORT_MAX_LEN 15u
#define SW_TIGO_POWER_REPORT_EXTRA_MAX (SW_TIGO_POWER_REPORT_MAX_LEN - SW_TIGO_POWER_REPORT_LEN)

typedef struct sw_tigo_power_report {
    /* raw fields of the 13-byte core */
    uint16_t voltage_in_raw;   /* 12 bits, 0.05 V */
    uint16_t voltage_out_raw;  /* 12 bits, 0.1 V */
    uint8_t duty_cycle_raw;    /* 255 = 100 % */
    uint16_t current_raw;      /* 12 bits, 0.005 A */
    uint16_t temperature_raw;  /* 12 bits as sent */
    int16_t temperature_signed; /* two's complement of temperature_raw, 0.1 degC */
    uint8_t unknown[3];        /* bytes 7..9 */
    uint16_t slot_counter;     /* bytes 10..11 */
    uint8_t rssi;              /* byte 12 */
    /* firmware 4.x trailer, kept raw: 0, 1 or 2 bytes */
    uint8_t extra_len;
    uint8_t extra[SW_TIGO_POWER_REPORT_EXTRA_MAX];
    /* physical values, raw / 20.0, / 10.0, / 255.0, / 200.0, signed / 10.0 */
    double voltage_in;
    double voltage_out;
    double duty_cycle;
    double current;
    double temperature;
} sw_tigo_power_report;

/* 13, 14 or 15 bytes: SW_OK. Fewer: SW_ERR_TRUNCATED. More: SW_ERR_TOO_LONG. */
SW_API sw_err sw_tigo_power_report_decode(const uint8_t *data, size_t n, sw_tigo_power_report *out);
/* 12-bit pair helpers: first = b0<<4 | b1>>4, second = (b1 & 0xF)<<8 | b2. */
static inline uint16_t sw_tigo_u12_first(const uint8_t *p) { return (uint16_t)((p[0] << 4) | (p[1] >> 4)); }
static inline uint16_t sw_tigo_u12_second(const uint8_t *p) { return (uint16_t)(((p[1] & 0x0F) << 8) | p[2]); }

/* ---- topology report (0x09, spec §8.4) ------------------------------------- */
#define SW_TIGO_TOPOLOGY_REPORT_LEN 22u /* the reference's exact size */
#define SW_TIGO_TOPOLOGY_REPORT_MIN 17u /* every field up to and including RSSI */

typedef struct sw_tigo_topology_report {
    uint16_t short_address;
    uint16_t node_id;
    uint16_t next_hop; /* 1 = gateway */
    uint8_t unknown_1[2];
    uint8_t long_address[8];
    uint8_t rssi;
    const uint8_t *tail; /* bytes 17.. (5 in the reference layout) */
    size_t tail_len;
    bool reference_length; /* true when exactly 22 bytes (what taptap accepts) */
} sw_tigo_topology_report;

/* At least 17 bytes: SW_OK (tolerant: the doc's 23-byte example decodes too). */
SW_API sw_err sw_tigo_topology_report_decode(const uint8_t *data, size_t n, sw_tigo_topology_report *out);

/* ---- node table (0x26 request, 0x27 response, spec §8.3, fork layout) ----------- */
#define SW_TIGO_NODE_TABLE_ENTRY_LEN 10u

typedef struct sw_tigo_node_table_entry {
    uint8_t long_address[8];
    uint16_t node_id;
} sw_tigo_node_table_entry;

typedef struct sw_tigo_node_table_response {
    uint16_t start_index; /* the first ID the gateway actually used */
    uint16_t count;       /* N; 0 ends a table walk */
    const uint8_t *entries; /* N x 10 bytes */
} sw_tigo_node_table_response;

/* Request data: start index (exactly 2 bytes). */
SW_API sw_err sw_tigo_node_table_request_decode(const uint8_t *data, size_t n, uint16_t *start_index);
/*
 * start(2) count(2) entries(10 x count), exact fit: SW_ERR_TRUNCATED when
 * shorter, SW_ERR_TOO_LONG when longer than the count says.
 */
SW_API sw_err sw_tigo_node_table_response_decode(const uint8_t *data, size_t n, sw_tigo_node_table_response *out);
/* Entry i (< count) of a decoded response. */
SW_API void sw_tigo_node_table_entry_at(const sw_tigo_node_table_response *r, size_t i, sw_tigo_node_table_entry *out);

/* ---- network status (0x2E / 0x2D request, 0x2F response, spec §8.5) ----------- */
typedef struct sw_tigo_network_status {
    bool has_prefix;      /* 11/12-byte form: a leading 2-byte field (node ID?) */
    uint16_t prefix;
    uint8_t unknown;
    uint16_t counter;
    uint16_t node_counts[3];
    const uint8_t *tail; /* anything after the 9-byte core (e.g. one 00) */
    size_t tail_len;
} sw_tigo_network_status;

/*
 * Layout unresolved in the sources; this split fits all three published
 * forms (9, 10 and 12 bytes): a 9-byte core, preceded by a 2-byte prefix when
 * at least 11 bytes are present. Fewer than 9 bytes: SW_ERR_TRUNCATED.
 */
SW_API sw_err sw_tigo_network_status_decode(const uint8_t *data, size_t n, sw_tigo_network_status *out);

typedef struct sw_tigo_long_network_status_request {
    uint8_t unknown[3];
    uint16_t counter;
    uint16_t node_count;
    uint8_t unknown_tail;
} sw_tigo_long_network_status_request;

/* Exactly 8 bytes. */
SW_API sw_err sw_tigo_long_network_status_request_decode(const uint8_t *data, size_t n,
                                                  sw_tigo_long_network_status_request *out);

/* ---- gateway radio configuration (0x0D / 0x0E, spec §8.6) ------------------- */
#define SW_TIGO_RADIO_CONFIG_LEN 37u

typedef struct sw_tigo_radio_config {
    uint8_t unknown_0;
    uint8_t channel;
    uint16_t pan_id;
    uint8_t cap, cfp, bop, iap; /* guessed superframe fields, raw */
    uint8_t unknown_1[7];
    uint8_t key[16]; /* a network secret: never print it by default */
    uint8_t unknown_2[6];
} sw_tigo_radio_config;

/* Exactly 37 bytes. */
SW_API sw_err sw_tigo_radio_config_decode(const uint8_t *data, size_t n, sw_tigo_radio_config *out);

/* ---- PV configuration (0x13 request, 0x18 response, spec §8.7) ---------------- */
#define SW_TIGO_PV_CONFIG_REQUEST_LEN 24u

typedef struct sw_tigo_pv_config_request {
    uint16_t node_id;
    uint8_t unknown_1[2];
    uint8_t report_packet_type; /* 0x31 */
    uint8_t unknown_2;
    uint16_t period_slots;
    uint16_t phase_slots;
    uint8_t unknown_3[14];
} sw_tigo_pv_config_request;

/* Exactly 24 bytes. */
SW_API sw_err sw_tigo_pv_config_request_decode(const uint8_t *data, size_t n, sw_tigo_pv_config_request *out);

typedef struct sw_tigo_pv_config_response {
    uint8_t unknown_0;
    uint16_t pan_id;
    uint8_t channel;
    uint8_t unknown_1[2];
    /* Offsets of the report group are inferred, not confirmed: keep the raw data too. */
    const uint8_t *raw;
    size_t raw_len;
} sw_tigo_pv_config_response;

/* At least 6 bytes (the radio group); the rest is exposed raw. */
SW_API sw_err sw_tigo_pv_config_response_decode(const uint8_t *data, size_t n, sw_tigo_pv_config_response *out);

/* ---- broadcast (0x22) ----------------------------------------------------- */
typedef struct sw_tigo_broadcast {
    bool empty;   /* zero data bytes (seen occasionally) */
    uint16_t value;
    bool pv_off;  /* bit 0: rapid shutdown asserted */
} sw_tigo_broadcast;

/* 0 or 2 bytes. */
SW_API sw_err sw_tigo_broadcast_decode(const uint8_t *data, size_t n, sw_tigo_broadcast *out);

/* ---- string request / response (0x06 / 0x07, spec §8.9) ------------------------ */
typedef struct sw_tigo_string_request {
    uint16_t node_id;
    const char *text; /* not NUL-terminated, text_len bytes */
    size_t text_len;
} sw_tigo_string_request;

/* Node ID (2) + text; SW_ERR_TRUNCATED below 2 bytes, SW_ERR_BAD_UTF8 for invalid text. */
SW_API sw_err sw_tigo_string_request_decode(const uint8_t *data, size_t n, sw_tigo_string_request *out);
/* The whole data as text; SW_ERR_BAD_UTF8 when invalid. */
SW_API sw_err sw_tigo_string_response_decode(const uint8_t *data, size_t n, const char **text, size_t *text_len);

/* ---- generic dispatch --------------------------------------------------------- */
typedef enum sw_tigo_app_kind {
    SW_TIGO_APP_OTHER = 0, /* unknown type, or a type whose decoder refused: see raw */
    SW_TIGO_APP_POWER_REPORT,
    SW_TIGO_APP_TOPOLOGY_REPORT,
    SW_TIGO_APP_STRING_REQUEST,
    SW_TIGO_APP_STRING_RESPONSE,
    SW_TIGO_APP_NODE_TABLE_REQUEST,
    SW_TIGO_APP_NODE_TABLE_RESPONSE,
    SW_TIGO_APP_NETWORK_STATUS_REQUEST,
    SW_TIGO_APP_LONG_NETWORK_STATUS_REQUEST,
    SW_TIGO_APP_NETWORK_STATUS_RESPONSE,
    SW_TIGO_APP_RADIO_CONFIG_REQUEST,
    SW_TIGO_APP_RADIO_CONFIG_RESPONSE,
    SW_TIGO_APP_PV_CONFIG_REQUEST,
    SW_TIGO_APP_PV_CONFIG_RESPONSE,
    SW_TIGO_APP_BROADCAST,
    SW_TIGO_APP_BROADCAST_ACK,
    SW_TIGO_APP_UNKNOWN_41
} sw_tigo_app_kind;

typedef struct sw_tigo_app_message {
    sw_tigo_app_kind kind;
    uint8_t packet_type;
    sw_err error; /* why kind is OTHER for a known type, else SW_OK */
    const uint8_t *raw;
    size_t raw_len;
    union {
        sw_tigo_power_report power;
        sw_tigo_topology_report topology;
        sw_tigo_string_request string_request;
        struct {
            const char *text;
            size_t len;
        } string_response;
        uint16_t node_table_start;
        sw_tigo_node_table_response node_table;
        sw_tigo_network_status network_status;
        sw_tigo_long_network_status_request long_network_status;
        sw_tigo_radio_config radio_config;
        sw_tigo_pv_config_request pv_config_request;
        sw_tigo_pv_config_response pv_config_response;
        sw_tigo_broadcast broadcast;
    } u;
} sw_tigo_app_message;

/*
 * Decode data of PV packet type `type` with the matching decoder. Never fails:
 * a known type whose decoder refuses becomes SW_TIGO_APP_OTHER with `error`
 * set, and the bytes stay available raw. The return value is `error`.
 * Radio configuration request data (0x0D) and 0x41 are kept raw.
 */
SW_API sw_err sw_tigo_app_decode(uint8_t type, const uint8_t *data, size_t n, sw_tigo_app_message *out);

#ifdef __cplusplus
}
#endif
#endif
