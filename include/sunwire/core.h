/*
 * sunwire/core.h: small pure helpers shared by every layer.
 *
 * Number and time text that must match the reference tools byte for byte
 * (shortest round-trip doubles, RFC 3339 timestamps), hex, UTF-8 checks and
 * big-endian field access. Nothing here allocates, reads a clock or does I/O:
 * the caller passes buffers, times and time-zone offsets in.
 */
#ifndef SUNWIRE_CORE_H
#define SUNWIRE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- big-endian field access -------------------------------------------- */
static inline uint16_t sw_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t sw_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void sw_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void sw_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ---- numbers as text ---------------------------------------------------- */
#define SW_DOUBLE_TEXT_MAX 32
/*
 * Shortest decimal text that parses back to exactly `v`, laid out the way
 * serde_json (ryu) prints an f64: always with a '.' or an exponent ("1.0",
 * "0.7607843137254902", "-0.1"); plain notation for 1e-5 <= |v| < 1e16,
 * otherwise "1.5e-7" / "1e16". NaN and infinities give "NaN", "inf", "-inf"
 * (callers that write JSON decide what to do with those).
 * Writes a NUL-terminated string into out[SW_DOUBLE_TEXT_MAX]; returns its length.
 */
SW_API size_t sw_fmt_double(char out[SW_DOUBLE_TEXT_MAX], double v);

/* ---- time --------------------------------------------------------------- */
#define SW_RFC3339_MAX 40
/*
 * RFC 3339 text of unix_ns (nanoseconds since 1970-01-01 UTC) shifted into a
 * zone `utc_offset_s` seconds east of UTC, as chrono prints it: fraction
 * omitted when zero, else 3, 6 or 9 digits (the fewest that are exact);
 * "Z" when the offset is 0, else "+HH:MM" / "-HH:MM".
 * Returns the length written into out[SW_RFC3339_MAX].
 */
SW_API size_t sw_fmt_rfc3339(char out[SW_RFC3339_MAX], int64_t unix_ns, int32_t utc_offset_s);

/*
 * Instants are int64 Unix nanoseconds, which reach from 1677-09-21T00:12:44Z
 * to 2262-04-11T23:47:16Z. Times read from users go through this check:
 * seconds s plus frac_ns (0 .. 999999999) into *out_ns, or
 * SW_ERR_OUT_OF_RANGE when the sum does not fit (never a wrapped value).
 */
#define SW_TIME_S_MIN (-9223372036LL)
#define SW_TIME_S_MAX 9223372036LL
SW_API sw_err sw_time_ns_from_s(int64_t s, int64_t frac_ns, int64_t *out_ns);

/* Days since 1970-01-01 to a proleptic Gregorian date, and back. */
SW_API void sw_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);
SW_API int64_t sw_days_from_civil(int64_t year, unsigned month, unsigned day);

/* ---- hex ------------------------------------------------------------------ */
/* Upper-case hex, no separators. out must hold 2*n+1 bytes. */
SW_API void sw_hex_encode(char *out, const uint8_t *in, size_t n);
/*
 * Parse hex text as people paste it: pairs of hex digits, optionally separated
 * by white space, ':' , '-' or ',' and optionally prefixed with "0x" per byte.
 * Stores up to cap bytes in out and the count in *n_out.
 * SW_ERR_BAD_HEX on any other character or an odd digit; SW_ERR_NO_SPACE when
 * out is too small.
 */
SW_API sw_err sw_hex_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *n_out);

/* ---- configuration words ---------------------------------------------------- */
/* true/false, yes/no, on/off, 1/0 in any letter case (configuration values). */
SW_API bool sw_parse_bool(const char *text, bool *out);
/* A plain decimal unsigned integer: digits only (no sign, spaces or suffix), at most max. */
SW_API bool sw_parse_uint(const char *text, uint64_t max, uint64_t *out);

/* ---- UTF-8 ---------------------------------------------------------------- */
/* Strict UTF-8 validation (no overlongs, no surrogates, max U+10FFFF). */
SW_API bool sw_utf8_valid(const uint8_t *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif
