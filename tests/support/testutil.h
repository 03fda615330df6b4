/*
 * testutil.h: helpers shared by the cmocka unit tests.
 *
 * Test vectors live in tests/data (copied from the protocol references); the
 * SW_TEST_DATA environment variable, set by ctest, points there.
 */
#ifndef SW_TESTUTIL_H
#define SW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

/* Load tests/data/<relpath> as JSON; fails the test when missing or malformed. */
json_t *tu_load_json(const char *relpath);

/* Read a whole file under tests/data into a malloc'd buffer. */
uint8_t *tu_load_file(const char *relpath, size_t *len_out);

/* Full path of a file under tests/data (static buffer). */
const char *tu_data_path(const char *relpath);

/* Decode hex text to a malloc'd buffer (never NULL; *n_out may be 0). Fails the test on bad hex. */
uint8_t *tu_hex(const char *hex, size_t *n_out);

/* Hex text of a JSON string member, decoded; fails when the member is missing. */
uint8_t *tu_hex_member(json_t *obj, const char *key, size_t *n_out);

/* Convenience accessors that fail the test when the member is missing or mistyped. */
const char *tu_str(json_t *obj, const char *key);
long long tu_int(json_t *obj, const char *key);
double tu_real(json_t *obj, const char *key);
json_t *tu_get(json_t *obj, const char *key);

/* Upper-case hex of a byte buffer into a malloc'd string. */
char *tu_to_hex(const uint8_t *p, size_t n);

/* Move a malloc'd object of `size` bytes: a new copy is returned, the old one
 * is scribbled over and freed. Whatever works on the copy needs no fixed address. */
void *tu_move(void *old, size_t size);

#endif
