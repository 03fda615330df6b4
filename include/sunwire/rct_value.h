/*
 * sunwire/rct_value.h: RCT Power payload values, sans-I/O.
 *
 * A payload is the bytes of one frame between object id and CRC. Its meaning
 * comes from the object's data type (the registry knows it), never from the
 * wire. This layer trusts only that the frame layer checked the CRC; it does
 * not trust the length: devices that are interrupted cut answers short with a
 * valid CRC, so every decoder checks the exact size and reports
 * SW_ERR_TRUNCATED / SW_ERR_TOO_LONG instead of guessing.
 *
 * Decoded values are tagged structs. Scalars and battery-module records are
 * stored inline; strings and raw bytes point into the payload; time series
 * points and event-table rows go into storage the caller hands in. Nothing
 * allocates.
 */
#ifndef SUNWIRE_RCT_VALUE_H
#define SUNWIRE_RCT_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Numbers are rctclient's DataType values (informational, never on the wire). */
typedef enum sw_rct_type {
    SW_RCT_TYPE_UNKNOWN = 0,
    SW_RCT_TYPE_BOOL = 1,
    SW_RCT_TYPE_UINT8 = 2,
    SW_RCT_TYPE_INT8 = 3,
    SW_RCT_TYPE_UINT16 = 4,
    SW_RCT_TYPE_INT16 = 5,
    SW_RCT_TYPE_UINT32 = 6,
    SW_RCT_TYPE_INT32 = 7,
    SW_RCT_TYPE_ENUM = 8,
    SW_RCT_TYPE_FLOAT = 9,
    SW_RCT_TYPE_STRING = 10,
    SW_RCT_TYPE_TIMESERIES = 20,
    SW_RCT_TYPE_EVENT_TABLE = 21,
    SW_RCT_TYPE_BATTERY_MODULE_STATUS = 22,
    SW_RCT_TYPE_BATTERY_MODULE_STATISTICS = 23,
    SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE = 24
} sw_rct_type;

/* "FLOAT", "BATTERY_MODULE_STATUS", ...; NULL for numbers that are no type. */
SW_API const char *sw_rct_type_name(sw_rct_type t);
/* Exact inverse of sw_rct_type_name; SW_ERR_NOT_FOUND otherwise. */
SW_API sw_err sw_rct_type_from_name(const char *name, sw_rct_type *out);
/* Payload size of the fixed-width types (1, 2, 4, 48, 96); 0 for the others. */
SW_API size_t sw_rct_type_fixed_size(sw_rct_type t);
/* BOOL .. FLOAT and STRING and UNKNOWN (raw bytes) can be encoded; the rest are answers only. */
SW_API bool sw_rct_type_encodable(sw_rct_type t);

#define SW_RCT_BATTERY_CELLS 24

/* One (timestamp, value) sample of a logger object, in wire order. */
typedef struct sw_rct_ts_point {
    uint32_t timestamp; /* device time, Unix seconds (local wall clock on real devices) */
    float value;
} sw_rct_ts_point;

/* One event-table row: five big-endian words as sent (see docs/rct-protocol.md). */
typedef struct sw_rct_event_row {
    uint32_t entry_type; /* believed to be an ASCII letter; kept whole */
    uint32_t timestamp;  /* start of the event */
    uint32_t element2;   /* usually the end time */
    uint32_t element3;
    uint32_t element4;
} sw_rct_event_row;

typedef struct sw_rct_cell_status {
    uint8_t temperature_c;
    uint16_t voltage_mv; /* little-endian on the wire */
    uint8_t status;
} sw_rct_cell_status;

typedef struct sw_rct_cell_record {
    uint32_t cell;
    uint32_t timestamp; /* 0 = never */
    float value;
} sw_rct_cell_record;

typedef struct sw_rct_value {
    sw_rct_type type;
    union {
        bool b;       /* BOOL */
        int64_t i;    /* UINT8 .. INT32 and ENUM (unsigned types are never negative after decode) */
        double f;     /* FLOAT: the binary32 widened exactly; encode rounds to binary32 */
        struct {      /* STRING */
            const uint8_t *bytes; /* text: up to (not including) the first NUL */
            size_t len;
            const uint8_t *raw;   /* the whole payload, garbage after the NUL included */
            size_t raw_len;
        } str;
        struct {      /* UNKNOWN: the payload as is */
            const uint8_t *bytes;
            size_t len;
        } raw;
        struct {      /* TIMESERIES */
            uint32_t timestamp; /* the query time the device echoes */
            const sw_rct_ts_point *points;
            size_t n_points;
        } ts;
        struct {      /* EVENT_TABLE */
            uint32_t timestamp; /* the query time the device echoes (header word) */
            const sw_rct_event_row *rows;
            size_t n_rows;
        } events;
        sw_rct_cell_status cells[SW_RCT_BATTERY_CELLS]; /* BATTERY_MODULE_STATUS */
        struct {      /* BATTERY_MODULE_STATISTICS: voltages in V, temperatures in degC */
            sw_rct_cell_record u_min, u_max, t_min, t_max;
        } stats;
        uint16_t resistance_raw[SW_RCT_BATTERY_CELLS]; /* BATTERY_MODULE_RESISTANCE, 1/256 mOhm */
    } u;
} sw_rct_value;

/*
 * Bytes of storage sw_rct_value_decode needs for a payload of this type and
 * size (time series points / event rows, plus alignment slack); 0 for types
 * that need none.
 */
SW_API size_t sw_rct_value_storage_size(sw_rct_type type, size_t payload_len);

/*
 * Decode payload[len] as `type` into *out. Strings, raw bytes and nothing
 * else point into payload; points and rows are written to storage[cap]
 * (any alignment; may be NULL when sw_rct_value_storage_size is 0).
 * Errors:
 *   SW_ERR_TRUNCATED  shorter than the type's size, or a time series / event
 *                     table that ends inside a word, pair or row;
 *   SW_ERR_TOO_LONG   longer than a fixed-width type;
 *   SW_ERR_NO_SPACE   storage too small;
 *   SW_ERR_INVALID_ARGUMENT for a number that is no type.
 * UNKNOWN decodes to the raw bytes. *out is fully set only on SW_OK.
 */
SW_API sw_err sw_rct_value_decode(sw_rct_type type, const uint8_t *payload, size_t len,
                           sw_rct_value *out, void *storage, size_t cap);

/*
 * Encode v into out[cap], *out_len = bytes written. Unsigned types take
 * 0 .. 2^n - 1 and, like rctclient, also -2^(n-1) .. -1 as two's complement;
 * signed types their signed range; anything else is SW_ERR_OUT_OF_RANGE.
 * FLOAT rounds to binary32; a finite value too large for it is
 * SW_ERR_OUT_OF_RANGE, NaN and infinities are kept. STRING writes str.bytes
 * as is (no NUL added); UNKNOWN writes raw.bytes. Composite types:
 * SW_ERR_RCT_NOT_ENCODABLE. SW_ERR_NO_SPACE when cap is too small.
 */
SW_API sw_err sw_rct_value_encode(const sw_rct_value *v, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Parse command-line text as a value of `type` (for encode/write commands).
 * BOOL: true/false/1/0/yes/no/on/off (any case). Integers and ENUM: decimal or
 * 0x-hex, range checked as in sw_rct_value_encode. FLOAT: a C decimal or hex
 * float, nan, inf. STRING: the text itself (v->u.str points into text; the NUL
 * terminator is not part of the value). UNKNOWN: hex bytes, decoded into
 * storage[cap]. Composite types: SW_ERR_RCT_NOT_ENCODABLE.
 * Errors: SW_ERR_BAD_NUMBER, SW_ERR_OUT_OF_RANGE, SW_ERR_BAD_HEX, SW_ERR_NO_SPACE.
 */
SW_API sw_err sw_rct_value_from_text(sw_rct_type type, const char *text, sw_rct_value *out,
                              uint8_t *storage, size_t cap);

/*
 * Writes to a device. The device does not check what it is sent, so every
 * path that writes (the CLI's write-value, the client's write call, any
 * control path) passes the value through this one check first:
 *   BOOL            any bool;
 *   UINT8 .. UINT32 0 .. 2^n - 1 (no two's complement: -1 is refused);
 *   INT8 .. INT32   their signed range; ENUM 0 .. 255;
 *   FLOAT           finite, within binary32, and not a non-zero value that
 *                   rounds to zero;
 *   STRING          at most SW_RCT_WRITE_STRING_MAX bytes, no NUL inside;
 *   anything else   SW_ERR_RCT_WRITE_NOT_WRITABLE (raw bytes included).
 * Errors: SW_ERR_RCT_WRITE_OUT_OF_RANGE, SW_ERR_RCT_WRITE_NOT_FINITE,
 * SW_ERR_RCT_WRITE_TOO_LONG, SW_ERR_RCT_WRITE_NOT_WRITABLE,
 * SW_ERR_INVALID_ARGUMENT for a NULL value.
 */
#define SW_RCT_WRITE_STRING_MAX 63u /* devices answer names in 64-byte buffers, NUL included */
SW_API sw_err sw_rct_value_check_write(const sw_rct_value *v);

/* The integer range a write of `type` accepts (BOOL 0 .. 1); false for non-integer types. */
SW_API bool sw_rct_type_write_range(sw_rct_type type, int64_t *lo, int64_t *hi);

/*
 * Text given by a user as a value to write: parsed strictly, then checked with
 * sw_rct_value_check_write. BOOL takes the words of sw_rct_value_from_text and
 * nothing else (SW_ERR_RCT_WRITE_NOT_BOOLEAN, also for "2"); integers decimal
 * or 0x-hex (SW_ERR_BAD_NUMBER for anything else); FLOAT as in from_text, but
 * nan/inf give SW_ERR_RCT_WRITE_NOT_FINITE and a too large number
 * SW_ERR_RCT_WRITE_OUT_OF_RANGE; STRING the text (v->u.str points into it).
 * storage/cap are unused today and may be NULL / 0.
 */
SW_API sw_err sw_rct_value_parse_write(sw_rct_type type, const char *text, sw_rct_value *out,
                                uint8_t *storage, size_t cap);

/*
 * Text exactly as rctclient's read-value prints the value (without the final
 * newline): Python str() for scalars ("0.0", "1e-05", "True"), ENUM as its
 * number, UNKNOWN as 0x + lower-case hex, TIMESERIES as
 * "YYYY-MM-DDTHH:MM:SS=v.vvvv" joined by ", " in wire order, EVENT_TABLE as
 * one "0x<type>,<time>,0x<w2>,0x<w3>,0x<w4>\n" line per row, battery modules
 * as compact JSON. Strings are the bytes before the first NUL with control
 * characters, DEL and invalid UTF-8 shown as \xHH (rctclient would crash on
 * the latter). Writes at most cap bytes including a NUL; returns the full
 * length the text needs (snprintf style), so a result >= cap means truncated.
 */
SW_API size_t sw_rct_value_to_text(const sw_rct_value *v, char *out, size_t cap);

/*
 * Write v as one JSON value: BOOL true/false, integers, FLOAT a number (null
 * for NaN/inf), STRING the text before the NUL (sw_json_bytes_as_string),
 * UNKNOWN a hex string, TIMESERIES {"timestamp":t,"points":[[t,v],...]},
 * EVENT_TABLE {"timestamp":t,"entries":[{"entry_type":..,"timestamp":..,
 * "element2":..,"element3":..,"element4":..},...]}, BATTERY_MODULE_STATUS
 * {"cells":[{"cell":i,"temperature_c":..,"voltage_mv":..,"status":..}]},
 * BATTERY_MODULE_STATISTICS {"u_min":{"cell":..,"timestamp":t|null,"value":..},
 * "u_max":..,"t_min":..,"t_max":..}, BATTERY_MODULE_RESISTANCE
 * {"cells":[{"cell":i,"raw_value":r,"resistance_mohm":r/256}]}.
 */
SW_API void sw_rct_value_to_json(const sw_rct_value *v, sw_json *j);

/*
 * A float as Python's repr()/str() prints it: shortest round trip, plain
 * notation for 1e-4 <= |v| < 1e16 ("0.0001", "123.0"), else "1e-05",
 * "1.5e+16"; "nan", "inf", "-inf". Returns the length written to out[32].
 */
SW_API size_t sw_rct_fmt_pyfloat(char out[32], double v);

/*
 * Printable rendering of raw bytes: valid UTF-8 and printable ASCII as is,
 * control bytes, DEL and invalid UTF-8 as \xHH. Same snprintf-style contract
 * as sw_rct_value_to_text.
 */
SW_API size_t sw_rct_printable(const uint8_t *s, size_t n, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
