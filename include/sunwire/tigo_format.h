/*
 * sunwire/tigo_format.h: the text sunwire prints for Tigo data.
 *
 * Observe output (taptap 0.2.0 power_report and infrastructure_report lines,
 * taptap 0.1.1 nested power reports) must be byte-identical to the reference;
 * peek-frames and peek-activity have sunwire's own readable and JSON-lines
 * forms, documented in docs/tigo-observer.md.
 *
 * Layer: the top. It trusts the observer's and transport's events (lengths
 * already checked) and writes into caller buffers; nothing here allocates,
 * reads a clock or does I/O. Lines are written without the trailing newline
 * and NUL-terminated; every function returns SW_ERR_NO_SPACE when the buffer
 * is too small (SW_TIGO_LINE_MAX always suffices for one line).
 */
#ifndef SUNWIRE_TIGO_FORMAT_H
#define SUNWIRE_TIGO_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/tigo_observer.h"
#include "sunwire/tigo_state.h"
#include "sunwire/tigo_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Enough for any power-report or peek line (payloads are <= 250 bytes). */
#define SW_TIGO_LINE_MAX 4096

/*
 * Cached texts of every value a power-report field can take (12-bit raw
 * values, 8-bit duty cycle), identical to the shortest round-trip form
 * serde_json prints, plus the last timestamp's date-and-time text. Building
 * the cache once makes a report line a handful of copies instead of five
 * float conversions and a calendar computation. Caller-owned, ~140 KiB, of
 * which only the entries of values that occur are ever written.
 */
typedef struct sw_tigo_num_text {
    char s[7]; /* first, so that the whole 8-byte struct can be copied at once */
    uint8_t len;
} sw_tigo_num_text;

typedef struct sw_tigo_format {
    int32_t utc_offset_s; /* zone of the timestamps; change it at will */
    /* Which texts exist yet: each is made the first time its value occurs,
     * so a process only ever touches the few pages of values its panels
     * report (use the sw_tigo_format_* accessors, not the arrays). */
    uint64_t num_have[4][64];
    uint64_t duty_have[4];
    sw_tigo_num_text voltage_in[4096];  /* raw / 20 */
    sw_tigo_num_text voltage_out[4096]; /* raw / 10 */
    sw_tigo_num_text current[4096];     /* raw / 200 */
    sw_tigo_num_text temperature[4096]; /* 12-bit two's complement / 10 */
    uint8_t duty_len[256];
    char duty[256][24];                 /* raw / 255 */
    /* timestamp cache: "YYYY-MM-DDT" of one local day in one zone; the time
     * of day is written digit by digit, so reports of any second of that day
     * reuse it */
    int64_t ts_day;
    int32_t ts_offset;
    bool ts_valid;
    char ts_text[32];
    uint8_t ts_len;
    char ts_zone[24]; /* "Z" or "+HH:MM" */
    uint8_t ts_zone_len;
} sw_tigo_format;

SW_API void sw_tigo_format_init(sw_tigo_format *f, int32_t utc_offset_s);

/* The cached texts of a report's values (made on first use). */
enum { SW_TIGO_NUM_VOLTAGE_IN, SW_TIGO_NUM_VOLTAGE_OUT, SW_TIGO_NUM_CURRENT, SW_TIGO_NUM_TEMPERATURE };
SW_API const sw_tigo_num_text *sw_tigo_format_num_make(sw_tigo_format *f, unsigned which, unsigned raw);
SW_API const char *sw_tigo_format_duty_make(sw_tigo_format *f, unsigned raw);
/* `which` is one of SW_TIGO_NUM_*, `raw` the 12-bit field (masked here). */
static inline const sw_tigo_num_text *sw_tigo_format_num(sw_tigo_format *f, unsigned which, unsigned raw)
{
    static const size_t off[4] = { offsetof(sw_tigo_format, voltage_in), offsetof(sw_tigo_format, voltage_out),
                                   offsetof(sw_tigo_format, current), offsetof(sw_tigo_format, temperature) };
    raw &= 0xFFFu;
    which &= 3u;
    if (f->num_have[which][raw >> 6] >> (raw & 63u) & 1u)
        return (const sw_tigo_num_text *)(const void *)((const char *)f + off[which]) + raw;
    return sw_tigo_format_num_make(f, which, raw);
}
/* Text of duty-cycle raw value 0..255; its length is f->duty_len[raw]. */
static inline const char *sw_tigo_format_duty(sw_tigo_format *f, unsigned raw)
{
    raw &= 0xFFu;
    if (f->duty_have[raw >> 6] >> (raw & 63u) & 1u)
        return f->duty[raw];
    return sw_tigo_format_duty_make(f, raw);
}

/* RFC 3339 exactly like sw_fmt_rfc3339, through the cache. Returns the length. */
SW_API size_t sw_tigo_format_timestamp(sw_tigo_format *f, int64_t unix_ns, char out[40]);

/* ---- observe ------------------------------------------------------------------ */
/* taptap 0.2.0: {"event_type":"power_report","gateway":..,"node":..,...} */
SW_API sw_err sw_tigo_format_power_fork(sw_tigo_format *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                              size_t *len_out);
/* taptap 0.1.1: {"gateway":{"id":..[,"address":[..]]},"node":{"id":..[,"address":[..],"barcode":".."]},...} */
SW_API sw_err sw_tigo_format_power_upstream(sw_tigo_format *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                                  size_t *len_out);
/*
 * sunwire's extended power report: the fork line's keys in the same order,
 * then "barcode" (when known) and "extra" (hex of firmware-4.x trailing
 * bytes, "" when none). Consumers of the fork format ignore unknown keys.
 */
SW_API sw_err sw_tigo_format_power_extended(sw_tigo_format *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                                  size_t *len_out);

/* taptap 0.2.0 infrastructure_report of a state, keys in numeric order. */
SW_API sw_err sw_tigo_format_infrastructure(const sw_tigo_state *s, char *buf, size_t cap, size_t *len_out);
/* Upper bound of the infrastructure line's size (plus NUL). */
SW_API size_t sw_tigo_format_infrastructure_max(const sw_tigo_state *s);

/* ---- peek-frames ---------------------------------------------------------------- */
#define SW_TIGO_NO_TIME INT64_MIN

/*
 * Readable:  "<- 0x1201 RECEIVE_RESPONSE (0x0149) [13] 00 FE 01 83 ..."
 *   "->" = controller to gateway, "<-" = gateway to controller; the frame
 *   type's reference name (or a sunwire label such as STAR_REQUEST/UNKNOWN).
 * JSON: {"direction":"to_gateway"|"from_gateway","gateway":4609,
 *   "frame_type":328,"frame_type_hex":"0x0148","frame_type_name":"RECEIVE_REQUEST",
 *   "payload_len":5,"payload":"0001188304"} with "timestamp" first when
 *   time_ns is not SW_TIGO_NO_TIME. frame_type_name is taptap's name, or for
 *   types it does not name sunwire's label (see sw_tigo_frame_type_describe).
 */
SW_API sw_err sw_tigo_format_frame_text(const sw_tigo_frame *fr, char *buf, size_t cap, size_t *len_out);
SW_API sw_err sw_tigo_format_frame_json(sw_tigo_format *f, const sw_tigo_frame *fr, int64_t time_ns, char *buf, size_t cap,
                              size_t *len_out);

/* ---- peek-activity -------------------------------------------------------------- */
/*
 * Remembers, per gateway, the slot-counter block last reported, so that a
 * slot_counter line appears for the first response of a gateway and then
 * whenever the 1000-slot block changes (about every 5 s), as taptap does.
 */
#define SW_TIGO_ACTIVITY_GATEWAYS 32
typedef struct sw_tigo_activity {
    uint32_t n;
    uint16_t gateway[SW_TIGO_ACTIVITY_GATEWAYS];
    uint16_t block[SW_TIGO_ACTIVITY_GATEWAYS]; /* epoch<<8 | block, 0xFFFF for invalid */
} sw_tigo_activity;

SW_API void sw_tigo_activity_init(sw_tigo_activity *a);

/*
 * One line for a transport event, readable (json false) or JSON. Returns
 * SW_ERR_NOT_FOUND (and an empty buffer) for events that print nothing:
 * plain requests, pings and receive responses whose slot block did not
 * change. See docs/tigo-observer.md for every kind and its fields.
 */
SW_API sw_err sw_tigo_format_activity(sw_tigo_activity *a, sw_tigo_format *f, const sw_tigo_transport_event *ev, bool json,
                            int64_t time_ns, char *buf, size_t cap, size_t *len_out);

#ifdef __cplusplus
}
#endif
#endif
