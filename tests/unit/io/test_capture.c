/*
 * Unit tests for the pcapng capture encoder and push decoder.
 *
 * Captures are built from the bus streams of the Tigo vectors (one packet per
 * frame, times from the observer scenarios), decoded at every split point,
 * cross-checked against libpcap when it is available, and cut short at every
 * length to prove truncation is always reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sunwire/io_capture.h"
#include "sunwire_config.h"
#include "testutil.h"

#if SUNWIRE_HAVE_PCAP
#include <pcap/pcap.h>
#endif

typedef struct chunk {
    uint8_t *data;
    size_t len;
    int64_t ts;
} chunk;

typedef struct capture {
    uint8_t *bytes;
    size_t len;
    chunk chunks[64];
    size_t n_chunks;
} capture;

/* Build a capture from the steps of every observer scenario (real bus bytes + times). */
static void build_capture(capture *c)
{
    memset(c, 0, sizeof *c);
    json_t *root = tu_load_json("tigo/observer_scenarios.json");
    json_t *scen = tu_get(root, "scenarios");
    size_t i, j;
    json_t *s, *step;
    json_array_foreach(scen, i, s) {
        json_array_foreach(tu_get(s, "steps"), j, step) {
            if (c->n_chunks >= 64)
                break;
            chunk *k = &c->chunks[c->n_chunks++];
            k->data = tu_hex_member(step, "bus_hex", &k->len);
            k->ts = (int64_t)tu_int(step, "clock_unix_ns");
        }
    }
    json_decref(root);
    assert_true(c->n_chunks >= 8);

    size_t cap = 1024;
    for (size_t k = 0; k < c->n_chunks; k++)
        cap += sw_pcapng_packet_size(c->chunks[k].len);
    c->bytes = malloc(cap);
    size_t n = 0;
    assert_int_equal(sw_pcapng_encode_header(c->bytes, cap, &n, "sunwire test", "ttyTEST"), SW_OK);
    c->len = n;
    for (size_t k = 0; k < c->n_chunks; k++) {
        assert_int_equal(sw_pcapng_encode_packet(c->bytes + c->len, cap - c->len, &n,
                                                 c->chunks[k].ts, c->chunks[k].data, c->chunks[k].len), SW_OK);
        assert_int_equal(n, sw_pcapng_packet_size(c->chunks[k].len));
        c->len += n;
    }
}

static void free_capture(capture *c)
{
    for (size_t k = 0; k < c->n_chunks; k++)
        free(c->chunks[k].data);
    free(c->bytes);
}

/* Decode `len` bytes fed in pieces of `step` bytes (0 = all at once); check every packet. */
static sw_err decode_in_steps(const capture *c, const uint8_t *bytes, size_t len, size_t step,
                              size_t *n_packets, bool strict)
{
    uint8_t block[4096];
    sw_pcapng_reader r;
    sw_pcapng_reader_init(&r, block, sizeof block);
    size_t pos = 0, np = 0;
    while (pos < len) {
        size_t piece = step ? step : len;
        if (piece > len - pos)
            piece = len - pos;
        size_t off = 0;
        while (off < piece) {
            size_t used = 0;
            bool got = false;
            sw_capture_packet pkt;
            sw_err e = sw_pcapng_reader_push(&r, bytes + pos + off, piece - off, &used, &pkt, &got);
            if (e)
                return e;
            off += used;
            if (got) {
                if (strict) {
                    assert_true(np < c->n_chunks);
                    assert_int_equal(pkt.len, c->chunks[np].len);
                    assert_memory_equal(pkt.data, c->chunks[np].data, pkt.len);
                    assert_int_equal(pkt.unix_ns, c->chunks[np].ts);
                    assert_int_equal(pkt.linktype, SW_CAPTURE_LINKTYPE);
                }
                np++;
            } else {
                assert_int_equal(off, piece); /* no packet: the feed took everything */
            }
        }
        pos += piece;
    }
    *n_packets = np;
    return sw_pcapng_reader_finish(&r);
}

static void test_roundtrip_every_split(void **state)
{
    (void)state;
    capture c;
    build_capture(&c);
    assert_true(sw_pcapng_sniff(c.bytes, c.len));
    size_t steps[] = { 0, 1, 2, 3, 5, 7, 12, 13, 64, 1000 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t np = 0;
        assert_int_equal(decode_in_steps(&c, c.bytes, c.len, steps[i], &np, true), SW_OK);
        assert_int_equal(np, c.n_chunks);
    }
    /* Two-piece split at every position. */
    for (size_t cut = 1; cut < c.len; cut++) {
        uint8_t block[4096];
        sw_pcapng_reader r;
        sw_pcapng_reader_init(&r, block, sizeof block);
        size_t np = 0;
        const uint8_t *parts[2] = { c.bytes, c.bytes + cut };
        size_t lens[2] = { cut, c.len - cut };
        for (int p = 0; p < 2; p++) {
            size_t off = 0;
            while (off < lens[p]) {
                size_t used;
                bool got;
                sw_capture_packet pkt;
                assert_int_equal(sw_pcapng_reader_push(&r, parts[p] + off, lens[p] - off, &used, &pkt, &got), SW_OK);
                off += used;
                if (got) {
                    assert_int_equal(pkt.unix_ns, c.chunks[np].ts);
                    assert_memory_equal(pkt.data, c.chunks[np].data, pkt.len);
                    np++;
                }
            }
        }
        assert_int_equal(np, c.n_chunks);
        assert_int_equal(sw_pcapng_reader_finish(&r), SW_OK);
    }
    free_capture(&c);
}

static void test_truncation_reported(void **state)
{
    (void)state;
    capture c;
    build_capture(&c);
    /* Block boundaries are the only lengths at which a cut file is still well formed. */
    size_t boundaries[80], nb = 0, at = 0;
    while (at < c.len) {
        boundaries[nb++] = at;
        at += (size_t)(c.bytes[at + 4] | (c.bytes[at + 5] << 8) | (c.bytes[at + 6] << 16));
    }
    boundaries[nb++] = c.len;
    for (size_t cut = 0; cut < c.len; cut++) {
        bool boundary = false;
        for (size_t b = 0; b < nb; b++)
            boundary |= boundaries[b] == cut;
        size_t np = 0;
        sw_err e = decode_in_steps(&c, c.bytes, cut, 0, &np, true);
        assert_int_equal(e, boundary ? SW_OK : SW_ERR_TRUNCATED);
    }
    free_capture(&c);
}

static void test_garbage_rejected(void **state)
{
    (void)state;
    capture c;
    build_capture(&c);
    uint8_t block[4096];
    sw_pcapng_reader r;
    size_t used;
    bool got;
    sw_capture_packet pkt;

    /* Raw bus bytes are not a capture. */
    sw_pcapng_reader_init(&r, block, sizeof block);
    assert_false(sw_pcapng_sniff(c.chunks[0].data, c.chunks[0].len));
    assert_int_equal(sw_pcapng_reader_push(&r, c.chunks[0].data, c.chunks[0].len, &used, &pkt, &got),
                     SW_ERR_BAD_CAPTURE);

    /* A bad byte-order mark. */
    uint8_t *copy = malloc(c.len);
    memcpy(copy, c.bytes, c.len);
    copy[8] ^= 0xFF;
    sw_pcapng_reader_init(&r, block, sizeof block);
    assert_int_equal(sw_pcapng_reader_push(&r, copy, c.len, &used, &pkt, &got), SW_ERR_BAD_CAPTURE);

    /* A trailing length that disagrees with the leading one. */
    memcpy(copy, c.bytes, c.len);
    size_t hdr = 0;
    uint8_t tmp[512];
    assert_int_equal(sw_pcapng_encode_header(tmp, sizeof tmp, &hdr, "sunwire test", "ttyTEST"), SW_OK);
    copy[hdr + 4 + 0] ^= 0; /* leading length intact */
    size_t first_len = sw_pcapng_packet_size(c.chunks[0].len);
    copy[hdr + first_len - 4] ^= 0x04;
    sw_pcapng_reader_init(&r, block, sizeof block);
    size_t off = 0;
    sw_err e = SW_OK;
    while (off < c.len && !e) {
        e = sw_pcapng_reader_push(&r, copy + off, c.len - off, &used, &pkt, &got);
        off += used;
    }
    assert_int_equal(e, SW_ERR_BAD_CAPTURE);

    /* A packet on an interface that was never described. */
    memcpy(copy, c.bytes, c.len);
    copy[hdr + 8] = 3;
    sw_pcapng_reader_init(&r, block, sizeof block);
    assert_int_equal(sw_pcapng_reader_push(&r, copy, c.len, &used, &pkt, &got), SW_ERR_BAD_CAPTURE);

    /* A block larger than the reader's buffer. */
    uint8_t small[40]; /* the section header alone is 44 bytes */
    sw_pcapng_reader_init(&r, small, sizeof small);
    assert_int_equal(sw_pcapng_reader_push(&r, c.bytes, c.len, &used, &pkt, &got), SW_ERR_TOO_LONG);
    free(copy);
    free_capture(&c);
}

/* A hand-built big-endian section with microsecond resolution (the format's default). */
static void test_big_endian_default_resolution(void **state)
{
    (void)state;
    const uint8_t file[] = {
        0x0A, 0x0D, 0x0D, 0x0A, 0, 0, 0, 28, 0x1A, 0x2B, 0x3C, 0x4D, 0, 1, 0, 0,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 28,
        0, 0, 0, 1, 0, 0, 0, 20, 0, 147, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20,
        /* EPB: ts = 1724509001686961 us, 3 bytes 00 FF FF */
        0, 0, 0, 6, 0, 0, 0, 36, 0, 0, 0, 0,
        0x00, 0x06, 0x20, 0x6E, 0x8A, 0x75, 0x1F, 0xB1,
        0, 0, 0, 3, 0, 0, 0, 3, 0x00, 0xFF, 0xFF, 0x00, 0, 0, 0, 36,
    };
    uint8_t block[256];
    sw_pcapng_reader r;
    sw_pcapng_reader_init(&r, block, sizeof block);
    size_t used;
    bool got;
    sw_capture_packet pkt;
    assert_int_equal(sw_pcapng_reader_push(&r, file, sizeof file, &used, &pkt, &got), SW_OK);
    assert_true(got);
    assert_int_equal(used, sizeof file);
    assert_int_equal(pkt.len, 3);
    assert_int_equal(pkt.data[1], 0xFF);
    assert_int_equal(pkt.unix_ns, 1724509001686961000LL);
    assert_int_equal(sw_pcapng_reader_finish(&r), SW_OK);
}

static void test_encoder_limits(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t n;
    const uint8_t data[40] = { 0 };
    assert_int_equal(sw_pcapng_encode_packet(out, sizeof out, &n, 1, data, sizeof data), SW_ERR_NO_SPACE);
    assert_int_equal(sw_pcapng_encode_packet(out, sizeof out, &n, -1, data, 1), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_pcapng_encode_header(out, 16, &n, "x", "y"), SW_ERR_NO_SPACE);
    assert_int_equal(sw_pcapng_packet_size(1), 36);
    assert_int_equal(sw_pcapng_packet_size(4), 36);
    assert_int_equal(sw_pcapng_packet_size(5), 40);
}

/* libpcap, an independent reader, sees the same packets, times and link type. */
static void test_libpcap_reads_it(void **state)
{
    (void)state;
#if SUNWIRE_HAVE_PCAP
    capture c;
    build_capture(&c);
    char path[] = "sw-capture-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, c.bytes, c.len), (ssize_t)c.len);
    close(fd);
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    assert_non_null(p);
    assert_int_equal(pcap_datalink(p), DLT_USER0);
    struct pcap_pkthdr *h;
    const u_char *d;
    size_t np = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        assert_true(np < c.n_chunks);
        assert_int_equal(h->caplen, c.chunks[np].len);
        assert_memory_equal(d, c.chunks[np].data, h->caplen);
        int64_t ts = (int64_t)h->ts.tv_sec * 1000000000LL + h->ts.tv_usec;
        assert_int_equal(ts, c.chunks[np].ts);
        np++;
    }
    assert_int_equal(np, c.n_chunks);
    pcap_close(p);
    unlink(path);
    free_capture(&c);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_split),
        cmocka_unit_test(test_truncation_reported),
        cmocka_unit_test(test_garbage_rejected),
        cmocka_unit_test(test_big_endian_default_resolution),
        cmocka_unit_test(test_encoder_limits),
        cmocka_unit_test(test_libpcap_reads_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
