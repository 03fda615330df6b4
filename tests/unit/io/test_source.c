/*
 * Unit tests for the file source (capture and raw replay) and the state-file
 * helpers (whole-file read, atomic replace, moving a bad file aside).
 *
 * Captures are built from the observer scenarios' bus bytes and clocks; the
 * file source must hand back exactly those chunks with exactly those times,
 * whatever the caller's buffer size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sunwire/io_capture.h"
#include "io/io_file.h"
#include "io/io_source.h"
#include "io/log.h"
#include "testutil.h"

typedef struct step {
    uint8_t *data;
    size_t len;
    int64_t ts;
} step;

static size_t load_steps(step *steps, size_t cap)
{
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    size_t n = 0, i, j;
    json_t *s, *st;
    json_array_foreach(tu_get(root, "scenarios"), i, s) {
        json_array_foreach(tu_get(s, "steps"), j, st) {
            if (n < cap) {
                steps[n].data = tu_hex_member(st, "bus_hex", &steps[n].len);
                steps[n].ts = (int64_t)tu_int(st, "clock_unix_ns");
                n++;
            }
        }
    }
    json_decref(root);
    return n;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* A capture of the steps; returns its size. */
static size_t make_capture(const char *path, const step *steps, size_t n, size_t cut)
{
    size_t cap = 512;
    for (size_t i = 0; i < n; i++)
        cap += sw_pcapng_packet_size(steps[i].len);
    uint8_t *buf = malloc(cap);
    size_t len = 0, k;
    assert_int_equal(sw_pcapng_encode_header(buf, cap, &k, "test", "tty"), SW_OK);
    len = k;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sw_pcapng_encode_packet(buf + len, cap - len, &k, steps[i].ts, steps[i].data, steps[i].len),
                         SW_OK);
        len += k;
    }
    write_file(path, buf, cut && cut < len ? cut : len);
    free(buf);
    return len;
}

static void test_capture_replay_any_buffer(void **state)
{
    (void)state;
    step steps[64];
    size_t n = load_steps(steps, 64);
    char path[] = "sw-src-XXXXXX";
    close(mkstemp(path));
    make_capture(path, steps, n, 0);
    size_t caps[] = { 1, 3, 16, 1024 };
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        sw_source src;
        sw_source_config cfg = { .medium = SW_SOURCE_MEDIUM_FILE, .path = path };
        assert_int_equal(sw_source_init(&src, &cfg), SW_OK);
        assert_int_equal(sw_source_open(&src), SW_OK);
        assert_true(src.is_pcapng);
        for (size_t i = 0; i < n; i++) {
            size_t got = 0;
            while (got < steps[i].len) {
                uint8_t buf[1024];
                size_t k = 0;
                int64_t ts = 0;
                assert_int_equal(sw_source_read(&src, buf, caps[c], &k, &ts), SW_OK);
                assert_true(k > 0 && k <= caps[c] && got + k <= steps[i].len);
                assert_memory_equal(buf, steps[i].data + got, k);
                assert_int_equal(ts, steps[i].ts);
                got += k;
            }
        }
        size_t k;
        int64_t ts;
        uint8_t buf[8];
        assert_int_equal(sw_source_read(&src, buf, sizeof buf, &k, &ts), SW_ERR_EOF);
        assert_true(sw_source_progress(&src) > 0.999);
        sw_source_close(&src);
    }
    unlink(path);
    for (size_t i = 0; i < n; i++)
        free(steps[i].data);
}

static void test_truncated_capture(void **state)
{
    (void)state;
    step steps[64];
    size_t n = load_steps(steps, 64);
    char path[] = "sw-src-XXXXXX";
    close(mkstemp(path));
    size_t full = make_capture(path, steps, n, 0);
    make_capture(path, steps, n, full - 7);
    sw_source src;
    sw_source_config cfg = { .medium = SW_SOURCE_MEDIUM_FILE, .path = path };
    assert_int_equal(sw_source_init(&src, &cfg), SW_OK);
    assert_int_equal(sw_source_open(&src), SW_OK);
    sw_err e;
    size_t total = 0, expect = 0;
    for (size_t i = 0; i + 1 < n; i++)
        expect += steps[i].len;
    do {
        uint8_t buf[1024];
        size_t k = 0;
        int64_t ts;
        e = sw_source_read(&src, buf, sizeof buf, &k, &ts);
        total += k;
    } while (e == SW_OK);
    assert_int_equal(e, SW_ERR_TRUNCATED);
    assert_int_equal(total, expect); /* everything before the cut block was delivered */
    sw_source_close(&src);
    unlink(path);
    for (size_t i = 0; i < n; i++)
        free(steps[i].data);
}

static void test_raw_file(void **state)
{
    (void)state;
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    char path[] = "sw-src-XXXXXX";
    close(mkstemp(path));
    write_file(path, data, sizeof data);
    sw_source src;
    sw_source_config cfg = { .medium = SW_SOURCE_MEDIUM_FILE, .path = path };
    assert_int_equal(sw_source_init(&src, &cfg), SW_OK);
    assert_int_equal(sw_source_open(&src), SW_OK);
    assert_false(src.is_pcapng);
    uint8_t back[4000];
    size_t got = 0, k;
    int64_t ts;
    sw_err e;
    while ((e = sw_source_read(&src, back + got, sizeof back - got, &k, &ts)) == SW_OK) {
        assert_true(k <= 1024);
        got += k;
    }
    assert_int_equal(e, SW_ERR_EOF);
    assert_int_equal(got, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    sw_source_close(&src);
    unlink(path);

    cfg.path = "sw-src-does-not-exist";
    assert_int_equal(sw_source_init(&src, &cfg), SW_OK);
    assert_int_equal(sw_source_open(&src), SW_ERR_OPEN);
    assert_int_equal(errno, ENOENT);
}

static void test_atomic_write_and_move_aside(void **state)
{
    (void)state;
    char dir[] = "sw-dir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], tmp[64], aside[128], aside2[128];
    snprintf(path, sizeof path, "%s/state.json", dir);
    snprintf(tmp, sizeof tmp, "%s/state.tmp", dir);
    char *text;
    size_t len;
    assert_int_equal(sw_file_read_all(path, 1024, &text, &len), SW_ERR_NOT_FOUND);
    assert_int_equal(sw_file_write_atomic(path, tmp, "first", 5), SW_OK);
    assert_int_equal(sw_file_write_atomic(path, tmp, "second!", 7), SW_OK);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(sw_file_read_all(path, 1024, &text, &len), SW_OK);
    assert_int_equal(len, 7);
    assert_string_equal(text, "second!");
    free(text);
    assert_int_equal(sw_file_read_all(path, 3, &text, &len), SW_ERR_TOO_LONG);
    assert_int_equal(sw_file_write_atomic(path, path, "x", 1), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_file_read_all(dir, 1024, &text, &len), SW_ERR_OPEN);

    /* Moved aside twice in the same second: two distinct names, content kept. */
    assert_int_equal(sw_file_move_aside(path, 1750500000, aside, sizeof aside), SW_OK);
    assert_non_null(strstr(aside, "state.json.corrupt-20250621T100000Z"));
    assert_int_equal(sw_file_write_atomic(path, tmp, "third", 5), SW_OK);
    assert_int_equal(sw_file_move_aside(path, 1750500000, aside2, sizeof aside2), SW_OK);
    assert_string_not_equal(aside, aside2);
    assert_int_equal(sw_file_read_all(aside, 1024, &text, &len), SW_OK);
    assert_string_equal(text, "second!");
    free(text);
    assert_int_equal(access(path, F_OK), -1);
    unlink(aside);
    unlink(aside2);
    rmdir(dir);
}

int main(void)
{
    sw_log_set_level(SW_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_replay_any_buffer),
        cmocka_unit_test(test_truncated_capture),
        cmocka_unit_test(test_raw_file),
        cmocka_unit_test(test_atomic_write_and_move_aside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
