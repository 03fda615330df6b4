/*
 * sunwire/json.h: a compact JSON writer into a caller-owned buffer.
 *
 * It writes the exact text the reference tools print: no spaces, keys in the
 * order the caller emits them, strings escaped like serde_json (", \ and
 * control characters; '/', DEL and non-ASCII raw), doubles via sw_fmt_double.
 * It never allocates: when the buffer is full it stops writing and sets
 * `overflow`, which the caller checks once at the end. Commas are inserted
 * automatically; nesting is limited to SW_JSON_MAX_DEPTH.
 */
#ifndef SUNWIRE_JSON_H
#define SUNWIRE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/api.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_JSON_MAX_DEPTH 32

typedef struct sw_json {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
    int depth;
    bool need_comma[SW_JSON_MAX_DEPTH + 1];
    bool after_key;
} sw_json;

SW_API void sw_json_init(sw_json *j, char *buf, size_t cap);
/* Forget the content but keep the buffer (start the next line). */
SW_API void sw_json_reset(sw_json *j);

SW_API void sw_json_object_begin(sw_json *j);
SW_API void sw_json_object_end(sw_json *j);
SW_API void sw_json_array_begin(sw_json *j);
SW_API void sw_json_array_end(sw_json *j);
/* An object key; the next value call writes its value. */
SW_API void sw_json_key(sw_json *j, const char *key);
SW_API void sw_json_string(sw_json *j, const char *s);
SW_API void sw_json_string_n(sw_json *j, const char *s, size_t n);
/*
 * Bytes that may not be valid UTF-8: valid sequences are written as they are,
 * every invalid byte as \u00XX of its Latin-1 value, so the output is always
 * valid JSON and the raw bytes can be recovered for ASCII-range data.
 */
SW_API void sw_json_bytes_as_string(sw_json *j, const uint8_t *s, size_t n);
SW_API void sw_json_int(sw_json *j, int64_t v);
SW_API void sw_json_uint(sw_json *j, uint64_t v);
/* Shortest round-trip text; NaN and infinities are written as null. */
SW_API void sw_json_double(sw_json *j, double v);
SW_API void sw_json_bool(sw_json *j, bool v);
SW_API void sw_json_null(sw_json *j);
/* Pre-formatted JSON text, written as one value (no validation). */
SW_API void sw_json_raw(sw_json *j, const char *text, size_t n);

/* NUL-terminate (when room) and return the text; NULL after an overflow. */
SW_API const char *sw_json_finish(sw_json *j);

#ifdef __cplusplus
}
#endif
#endif
