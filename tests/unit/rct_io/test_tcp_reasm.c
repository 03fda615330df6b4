/* Unit tests for packet parsing and TCP reassembly (the pcap reader's lower layers). */
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "rct_io/rct_pcap.h"
#include "testutil.h"

struct sink {
    uint8_t buf[8192];
    size_t len;
    uint32_t gaps_total;
    int calls;
};

static void collect(void *user, const uint8_t *data, size_t len, uint32_t gap)
{
    struct sink *s = user;
    assert_true(s->len + len <= sizeof s->buf);
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->gaps_total += gap;
    s->calls++;
}

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

struct seg { uint32_t seq; size_t off, len; };

/* Cut `n` bytes into segments of 1..max bytes. */
static size_t cut(struct seg *segs, size_t n, uint32_t isn, size_t max)
{
    size_t k = 0, off = 0;
    while (off < n) {
        size_t len = 1 + rnd() % max;
        if (len > n - off)
            len = n - off;
        segs[k++] = (struct seg){ isn + 1 + (uint32_t)off, off, len };
        off += len;
    }
    return k;
}

/* In order, shuffled, with retransmissions and overlaps: the same bytes come out once. */
static void test_reorder_and_duplicates(void **state)
{
    (void)state;
    uint8_t stream[3000];
    for (size_t i = 0; i < sizeof stream; i++)
        stream[i] = (uint8_t)rnd();
    for (int round = 0; round < 200; round++) {
        /* Sequence numbers near the wrap point on some rounds. */
        uint32_t isn = round % 3 == 0 ? 0xFFFFFF00u + (uint32_t)round : rnd();
        struct seg segs[3000];
        size_t k = cut(segs, sizeof stream, isn, 1 + (size_t)(round % 60));
        /* Local shuffles (a capture reorders a few packets, not the whole stream). */
        for (size_t i = 0; i + 1 < k; i++)
            if (rnd() % 4 == 0) {
                size_t j = i + 1 + rnd() % (k - i - 1 < 5 ? k - i - 1 : 5);
                struct seg t = segs[i]; segs[i] = segs[j]; segs[j] = t;
            }
        sw_tcp_reasm r;
        sw_tcp_reasm_init(&r);
        struct sink out = { .len = 0 };
        assert_int_equal(sw_tcp_reasm_add(&r, isn, true, NULL, 0, collect, &out), SW_OK);
        for (size_t i = 0; i < k; i++) {
            assert_int_equal(sw_tcp_reasm_add(&r, segs[i].seq, false, stream + segs[i].off, segs[i].len,
                                              collect, &out), SW_OK);
            if (rnd() % 5 == 0) /* a retransmission of something already sent */
                assert_int_equal(sw_tcp_reasm_add(&r, segs[i].seq, false, stream + segs[i].off,
                                                  segs[i].len, collect, &out), SW_OK);
            if (rnd() % 7 == 0 && segs[i].off >= 3) /* an overlapping resend reaching back 3 bytes */
                assert_int_equal(sw_tcp_reasm_add(&r, segs[i].seq - 3, false, stream + segs[i].off - 3,
                                                  segs[i].len + 3, collect, &out), SW_OK);
        }
        sw_tcp_reasm_flush(&r, collect, &out);
        assert_int_equal(out.len, sizeof stream);
        assert_memory_equal(out.buf, stream, sizeof stream);
        assert_int_equal(out.gaps_total, 0);
        assert_int_equal(r.gaps, 0);
        assert_int_equal(r.delivered, sizeof stream);
        sw_tcp_reasm_free(&r);
    }
}

/* A lost segment: everything else arrives, the hole is reported with its size. */
static void test_hole(void **state)
{
    (void)state;
    uint8_t stream[100];
    for (size_t i = 0; i < sizeof stream; i++)
        stream[i] = (uint8_t)i;
    sw_tcp_reasm r;
    sw_tcp_reasm_init(&r);
    struct sink out = { .len = 0 };
    /* No SYN in the capture: the first segment seen starts the stream. */
    sw_tcp_reasm_add(&r, 1000, false, stream, 30, collect, &out);
    sw_tcp_reasm_add(&r, 1050, false, stream + 50, 50, collect, &out);
    assert_int_equal(out.len, 30);
    sw_tcp_reasm_flush(&r, collect, &out);
    assert_int_equal(out.len, 80);
    assert_int_equal(out.gaps_total, 20);
    assert_int_equal(r.gaps, 1);
    assert_memory_equal(out.buf + 30, stream + 50, 50);
    /* Late arrival of the hole after the flush is old data now. */
    sw_tcp_reasm_add(&r, 1030, false, stream + 30, 20, collect, &out);
    assert_int_equal(out.len, 80);
    sw_tcp_reasm_free(&r);
}

static size_t build_ipv4_tcp(uint8_t *p, const uint8_t *payload, size_t n, uint32_t seq, uint8_t flags,
                             size_t pad)
{
    /* Ethernet */
    memset(p, 0xAA, 12);
    sw_put_be16(p + 12, 0x0800);
    uint8_t *ip = p + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    sw_put_be16(ip + 2, (uint16_t)(20 + 20 + n));
    ip[8] = 64;
    ip[9] = 6;
    const uint8_t src[4] = { 192, 0, 2, 10 }, dst[4] = { 192, 0, 2, 20 };
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    uint8_t *tcp = ip + 20;
    memset(tcp, 0, 20);
    sw_put_be16(tcp, 40000);
    sw_put_be16(tcp + 2, 8899);
    sw_put_be32(tcp + 4, seq);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    memcpy(tcp + 20, payload, n);
    size_t total = 14 + 40 + n;
    memset(p + total, 0, pad); /* Ethernet minimum-size padding */
    return total + pad;
}

static void test_parse_ethernet_ipv4(void **state)
{
    (void)state;
    uint8_t pkt[256];
    const uint8_t payload[] = { 0x2B, 0x01, 0x04, 0x95, 0x99, 0x30, 0xBF, 0x0D, 0x65 };
    size_t n = build_ipv4_tcp(pkt, payload, sizeof payload, 77, 0x18, 7);
    sw_tcp_segment info;
    assert_int_equal(sw_tcp_segment_parse(SW_LINKTYPE_ETHERNET, pkt, n, &info), SW_OK);
    assert_int_equal(info.payload_len, sizeof payload); /* padding is not payload */
    assert_memory_equal(info.payload, payload, sizeof payload);
    assert_int_equal(info.seq, 77);
    assert_int_equal(info.src.port, 40000);
    assert_int_equal(info.dst.port, 8899);
    assert_false(info.syn);
    char txt[64];
    sw_tcp_endpoint_text(&info.src, txt);
    assert_string_equal(txt, "192.0.2.10:40000");
    /* The same packet as raw IP. */
    assert_int_equal(sw_tcp_segment_parse(SW_LINKTYPE_RAW, pkt + 14, n - 14, &info), SW_OK);
    assert_int_equal(info.payload_len, sizeof payload);
    /* Cut inside the TCP header: truncated, never a read past the end. */
    for (size_t cutlen = 0; cutlen < 14 + 40; cutlen++)
        assert_int_equal(sw_tcp_segment_parse(SW_LINKTYPE_ETHERNET, pkt, cutlen, &info), SW_ERR_TRUNCATED);
    /* Cut inside the payload: what was captured is returned. */
    assert_int_equal(sw_tcp_segment_parse(SW_LINKTYPE_ETHERNET, pkt, 14 + 40 + 4, &info), SW_OK);
    assert_int_equal(info.payload_len, 4);
    /* UDP is not for us. */
    pkt[14 + 9] = 17;
    assert_int_equal(sw_tcp_segment_parse(SW_LINKTYPE_ETHERNET, pkt, n, &info), SW_ERR_UNSUPPORTED);
    assert_int_equal(sw_tcp_segment_parse(9999, pkt, n, &info), SW_ERR_UNSUPPORTED);
}

static void test_parse_sll2_ipv6(void **state)
{
    (void)state;
    uint8_t p[128];
    memset(p, 0, sizeof p);
    sw_put_be16(p, 0x86DD);
    uint8_t *ip = p + 20;
    ip[0] = 0x60;
    sw_put_be16(ip + 4, 20 + 3);
    ip[6] = 6;
    ip[23] = 1;  /* src ::1 */
    ip[39] = 1;  /* dst ::1 */
    uint8_t *tcp = ip + 40;
    sw_put_be16(tcp, 8899);
    sw_put_be16(tcp + 2, 50000);
    sw_put_be32(tcp + 4, 0xFFFFFFFFu);
    tcp[12] = 5 << 4;
    tcp[13] = 0x02;
    memcpy(tcp + 20, "\x00\x2B\x05", 3);
    sw_tcp_segment info;
    assert_int_equal(sw_tcp_segment_parse(SW_LINKTYPE_LINUX_SLL2, p, 20 + 40 + 23, &info), SW_OK);
    assert_true(info.syn);
    assert_true(info.src.ipv6);
    assert_int_equal(info.payload_len, 3);
    char txt[64];
    sw_tcp_endpoint_text(&info.dst, txt);
    assert_string_equal(txt, "[0:0:0:0:0:0:0:1]:50000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reorder_and_duplicates),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_parse_ethernet_ipv4),
        cmocka_unit_test(test_parse_sll2_ipv6),
    };
    return cmocka_run_group_tests_name("rct_io/tcp_reasm", tests, NULL, NULL);
}
