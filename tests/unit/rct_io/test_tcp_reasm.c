/* Unit tests for packet parsing and TCP reassembly (the pcap reader's lower layers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "rct_io/rct_pcap.h"
#include "sunwire_config.h"
#include "testutil.h"

struct sink {
    uint8_t buf[8192];
    size_t len;
    uint32_t gaps_total;
    int calls;
    int stop_at;              /* return 7 from this call on (1-based); 0: never stop */
    const sw_tcp_reasm *owner; /* the reassembler expected to call */
};

static int collect(sw_tcp_reasm *r, const uint8_t *data, size_t len, uint32_t gap, void *user)
{
    struct sink *s = user;
    if (s->owner)
        assert_ptr_equal(r, s->owner);
    assert_true(s->len + len <= sizeof s->buf);
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->gaps_total += gap;
    s->calls++;
    return s->stop_at && s->calls >= s->stop_at ? 7 : 0;
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
        struct sink out = { .len = 0 };
        sw_tcp_reasm_init(&r, collect, &out);
        assert_int_equal(sw_tcp_reasm_push(&r, isn, true, NULL, 0), 0);
        for (size_t i = 0; i < k; i++) {
            assert_int_equal(sw_tcp_reasm_push(&r, segs[i].seq, false, stream + segs[i].off, segs[i].len), 0);
            if (rnd() % 5 == 0) /* a retransmission of something already sent */
                assert_int_equal(sw_tcp_reasm_push(&r, segs[i].seq, false, stream + segs[i].off, segs[i].len), 0);
            if (rnd() % 7 == 0 && segs[i].off >= 3) /* an overlapping resend reaching back 3 bytes */
                assert_int_equal(sw_tcp_reasm_push(&r, segs[i].seq - 3, false, stream + segs[i].off - 3,
                                                   segs[i].len + 3), 0);
        }
        assert_int_equal(sw_tcp_reasm_flush(&r), 0);
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
    struct sink out = { .len = 0 };
    sw_tcp_reasm_init(&r, collect, &out);
    /* No SYN in the capture: the first segment seen starts the stream. */
    sw_tcp_reasm_push(&r, 1000, false, stream, 30);
    sw_tcp_reasm_push(&r, 1050, false, stream + 50, 50);
    assert_int_equal(out.len, 30);
    sw_tcp_reasm_flush(&r);
    assert_int_equal(out.len, 80);
    assert_int_equal(out.gaps_total, 20);
    assert_int_equal(r.gaps, 1);
    assert_memory_equal(out.buf + 30, stream + 50, 50);
    /* Late arrival of the hole after the flush is old data now. */
    sw_tcp_reasm_push(&r, 1030, false, stream + 30, 20);
    assert_int_equal(out.len, 80);
    sw_tcp_reasm_free(&r);
}

/*
 * The callback is handed the reassembler that calls it and can stop: the push
 * or flush returns its value at once, the bytes it was given count as
 * delivered, and what is still held back comes with the next call. The
 * reassembler is moved between calls and goes on where it was.
 */
static void test_stop_and_move(void **state)
{
    (void)state;
    uint8_t stream[60];
    for (size_t i = 0; i < sizeof stream; i++)
        stream[i] = (uint8_t)(i * 7);
    struct sink out = { .len = 0 };
    sw_tcp_reasm *a = malloc(sizeof *a);
    assert_non_null(a);
    sw_tcp_reasm_init(a, collect, &out);
    out.owner = a;
    /* Three segments out of order, then the first: one push delivers all four in turn. */
    assert_int_equal(sw_tcp_reasm_push(a, 500, false, stream, 10), 0);
    assert_int_equal(sw_tcp_reasm_push(a, 530, false, stream + 30, 10), 0);
    assert_int_equal(sw_tcp_reasm_push(a, 520, false, stream + 20, 10), 0);
    assert_int_equal(sw_tcp_reasm_push(a, 540, false, stream + 40, 10), 0);
    assert_int_equal(out.calls, 1);
    out.stop_at = 3; /* stop on the second delivery of the next push */
    assert_int_equal(sw_tcp_reasm_push(a, 510, false, stream + 10, 10), 7);
    assert_int_equal(out.calls, 3);
    assert_int_equal(out.len, 30);
    assert_int_equal(a->delivered, 30);
    /* Moved elsewhere (the old copy scribbled over): the rest still comes, in order. */
    sw_tcp_reasm *b = tu_move(a, sizeof *a);
    out.owner = b;
    out.stop_at = 0;
    assert_int_equal(sw_tcp_reasm_push(b, 550, false, stream + 50, 10), 0);
    assert_int_equal(sw_tcp_reasm_flush(b), 0);
    assert_int_equal(out.len, sizeof stream);
    assert_memory_equal(out.buf, stream, sizeof stream);
    assert_int_equal(out.gaps_total, 0);
    assert_int_equal(b->gaps, 0);
    /* A flush stops too. */
    struct sink out2 = { .stop_at = 1 };
    sw_tcp_reasm c;
    sw_tcp_reasm_init(&c, collect, &out2);
    sw_tcp_reasm_push(&c, 0, true, NULL, 0);
    assert_int_equal(sw_tcp_reasm_push(&c, 21, false, stream + 20, 10), 0);
    assert_int_equal(sw_tcp_reasm_push(&c, 41, false, stream + 40, 10), 0);
    assert_int_equal(sw_tcp_reasm_flush(&c), 7);
    assert_int_equal(out2.calls, 1);
    assert_int_equal(c.n_pend, 1);
    out2.stop_at = 0;
    assert_int_equal(sw_tcp_reasm_flush(&c), 0);
    assert_int_equal(out2.len, 20);
    assert_int_equal(c.gaps, 2);
    sw_tcp_reasm_free(&c);
    sw_tcp_reasm_free(b);
    free(b);
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

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* What sw_pcap_read hands its callback, and how a callback stops it. */
struct pcap_seen {
    int calls, stop_at;
    size_t len;
    uint8_t buf[64];
    int64_t last_ts;
    unsigned flows;
};

static int on_pcap(const sw_pcap_flow *flow, int64_t ts_ns, const uint8_t *data, size_t len, uint32_t gap,
                   void *user)
{
    struct pcap_seen *s = user;
    assert_int_equal(flow->index, 0);
    assert_int_equal(flow->src.port, 40000);
    assert_int_equal(gap, 0);
    assert_true(s->len + len <= sizeof s->buf);
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->last_ts = ts_ns;
    s->calls++;
    return s->stop_at && s->calls >= s->stop_at ? 1 : 0;
}

static void test_pcap_read_stops(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_PCAP)
        skip();
    /* A classic pcap file (nanosecond magic, Ethernet) with three 10-byte segments. */
    uint8_t stream[30];
    for (size_t i = 0; i < sizeof stream; i++)
        stream[i] = (uint8_t)(0x40 + i);
    FILE *f = tmpfile();
    assert_non_null(f);
    uint8_t hdr[24] = { 0x4D, 0x3C, 0xB2, 0xA1, 2, 0, 4, 0 };
    hdr[16] = 0xFF; hdr[17] = 0xFF; /* snaplen */
    hdr[20] = 1;                    /* LINKTYPE_ETHERNET */
    assert_int_equal(fwrite(hdr, 1, sizeof hdr, f), sizeof hdr);
    for (int k = 0; k < 3; k++) {
        uint8_t pkt[128], rec[16];
        size_t n = build_ipv4_tcp(pkt, stream + 10 * k, 10, 1000u + 10u * (uint32_t)k, 0x18, 0);
        put_le32(rec, 1700000000u + (uint32_t)k);
        put_le32(rec + 4, 500);
        put_le32(rec + 8, (uint32_t)n);
        put_le32(rec + 12, (uint32_t)n);
        assert_int_equal(fwrite(rec, 1, sizeof rec, f), sizeof rec);
        assert_int_equal(fwrite(pkt, 1, n, f), n);
    }
    assert_int_equal(fflush(f), 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fileno(f));
    char err[256];
    sw_pcap_counters c;

    struct pcap_seen all = { 0 };
    assert_int_equal(sw_pcap_read(path, 8899, on_pcap, &all, &c, err, sizeof err), SW_OK);
    assert_int_equal(all.calls, 3);
    assert_int_equal(all.len, sizeof stream);
    assert_memory_equal(all.buf, stream, sizeof stream);
    assert_true(all.last_ts == 1700000002LL * 1000000000LL + 500);
    assert_int_equal(c.packets, 3);
    assert_int_equal(c.bytes, sizeof stream);

    struct pcap_seen some = { .stop_at = 2 };
    assert_int_equal(sw_pcap_read(path, 8899, on_pcap, &some, &c, err, sizeof err), SW_OK);
    assert_int_equal(some.calls, 2);
    assert_int_equal(some.len, 20);
    assert_int_equal(c.packets, 2); /* nothing read after the stop */
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reorder_and_duplicates),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_stop_and_move),
        cmocka_unit_test(test_parse_ethernet_ipv4),
        cmocka_unit_test(test_parse_sll2_ipv6),
        cmocka_unit_test(test_pcap_read_stops),
    };
    return cmocka_run_group_tests_name("rct_io/tcp_reasm", tests, NULL, NULL);
}
