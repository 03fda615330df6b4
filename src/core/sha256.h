/*
 * core/sha256.h: SHA-256 (FIPS 180-4), for the credentials the HTTP server
 * keeps hashed in the configuration, and a comparison whose time does not
 * depend on where two byte strings differ.
 *
 * Pure functions over caller memory; private to the program (not installed,
 * not exported).
 */
#ifndef SUNWIRE_CORE_SHA256_H
#define SUNWIRE_CORE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_SHA256_LEN 32u

typedef struct sw_sha256_ctx {
    uint32_t h[8];
    uint64_t total;   /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;      /* bytes waiting in block */
} sw_sha256_ctx;

void sw_sha256_init(sw_sha256_ctx *c);
void sw_sha256_push(sw_sha256_ctx *c, const void *data, size_t n);
void sw_sha256_finish(sw_sha256_ctx *c, uint8_t digest[SW_SHA256_LEN]);
/* One buffer at once. */
void sw_sha256(const void *data, size_t n, uint8_t digest[SW_SHA256_LEN]);

/* a[0..n) == b[0..n), in time that depends on n only. */
bool sw_equal_const_time(const void *a, const void *b, size_t n);

#endif
