/* testutil.c: see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"

const char *tu_data_path(const char *relpath)
{
    static char path[4096];
    const char *root = getenv("SW_TEST_DATA");
    if (!root)
        root = "tests/data";
    snprintf(path, sizeof path, "%s/%s", root, relpath);
    return path;
}

json_t *tu_load_json(const char *relpath)
{
    json_error_t err;
    json_t *j = json_load_file(tu_data_path(relpath), JSON_DECODE_ANY, &err);
    if (!j)
        fail_msg("cannot load %s: %s (line %d)", tu_data_path(relpath), err.text, err.line);
    return j;
}

uint8_t *tu_load_file(const char *relpath, size_t *len_out)
{
    FILE *f = fopen(tu_data_path(relpath), "rb");
    if (!f)
        fail_msg("cannot open %s", tu_data_path(relpath));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    assert_int_equal(got, (size_t)n);
    buf[n] = 0;
    *len_out = (size_t)n;
    return buf;
}

uint8_t *tu_hex(const char *hex, size_t *n_out)
{
    size_t len = strlen(hex);
    uint8_t *buf = malloc(len / 2 + 1);
    assert_non_null(buf);
    sw_err e = sw_hex_decode(hex, len, buf, len / 2 + 1, n_out);
    if (e != SW_OK)
        fail_msg("bad hex in test data: %.40s", hex);
    return buf;
}

json_t *tu_get(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        fail_msg("test vector lacks member '%s'", key);
    return v;
}

uint8_t *tu_hex_member(json_t *obj, const char *key, size_t *n_out)
{
    return tu_hex(tu_str(obj, key), n_out);
}

const char *tu_str(json_t *obj, const char *key)
{
    json_t *v = tu_get(obj, key);
    if (!json_is_string(v))
        fail_msg("member '%s' is not a string", key);
    return json_string_value(v);
}

long long tu_int(json_t *obj, const char *key)
{
    json_t *v = tu_get(obj, key);
    if (!json_is_integer(v))
        fail_msg("member '%s' is not an integer", key);
    return json_integer_value(v);
}

double tu_real(json_t *obj, const char *key)
{
    json_t *v = tu_get(obj, key);
    if (!json_is_number(v))
        fail_msg("member '%s' is not a number", key);
    return json_number_value(v);
}

char *tu_to_hex(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    assert_non_null(s);
    sw_hex_encode(s, p, n);
    return s;
}

void *tu_move(void *old, size_t size)
{
    void *moved = malloc(size);
    assert_non_null(moved);
    memcpy(moved, old, size);
    memset(old, 0xA5, size);
    free(old);
    return moved;
}
