/*
 * Fuzz target: the capture side of `sunwire rct` (pcap decoding of RCT
 * traffic). Two layers, picked by the first input byte:
 *   - bit 7 clear: the input after it is a list of packets, each a 2-byte
 *     big-endian length and that many bytes, parsed with sw_tcp_segment_parse under
 *     the link type picked by the low bits; TCP payloads go through one
 *     reassembler per direction and the reassembled bytes into an RCT
 *     receiver, as the pcap command does.
 *   - bit 7 set: the rest is written to a temporary file and read with
 *     sw_pcap_read (the libpcap path), whose callback feeds the receiver.
 * Checked: reassembly never delivers more bytes than were offered, and the
 * receiver makes the same frames and errors of the reassembled segments as
 * of the same bytes (up to each hole) in one piece.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdbool.h>

#include "rct_events.h"
#include "sunwire/rct.h"
#include "rct_io/rct_pcap.h"

static const int k_links[] = {SW_LINKTYPE_NULL, SW_LINKTYPE_ETHERNET, SW_LINKTYPE_RAW, SW_LINKTYPE_LOOP,
                              SW_LINKTYPE_LINUX_SLL, SW_LINKTYPE_RAW_IPV4, SW_LINKTYPE_RAW_IPV6, SW_LINKTYPE_LINUX_SLL2};

typedef struct sink {
    sw_rct_receiver rx;
    uint64_t delivered;
    /* What the receiver made of the segments as delivered, and the bytes
     * since the last hole, to be received again in one piece. */
    fz_digest events;
    uint8_t *stream;
    size_t stream_len;
} sink;

#define STREAM_MAX (1u << 20)

static void feed_rx(sw_rct_receiver *rx, const uint8_t *d, size_t n, fz_digest *events)
{
    size_t pos = 0;
    while (pos < n) {
        sw_rct_receiver_event ev;
        size_t used = sw_rct_receiver_push(rx, d + pos, n - pos, &ev);
        if (used == 0 && ev.kind == SW_RCT_RECEIVER_NEED_MORE)
            break;
        fz_mix_rct_event(events, &ev);
        if (used == 0 && ev.kind != SW_RCT_RECEIVER_ERROR)
            used = 1; /* never stall on an event that consumed nothing */
        pos += used;
    }
}

/* The bytes since the last hole received in one piece must give what the segments gave. */
static void check_stream(sink *s)
{
    static sw_rct_receiver rx;
    fz_digest whole;
    fz_digest_init(&whole);
    sw_rct_receiver_init(&rx);
    feed_rx(&rx, s->stream, s->stream_len, &whole);
    fz_same(&whole, &s->events, "RCT receiver behind TCP reassembly");
}

static void sink_reset(sink *s)
{
    sw_rct_receiver_init(&s->rx);
    fz_digest_init(&s->events);
    s->stream_len = 0;
}

static void take(sink *s, const uint8_t *data, size_t len, uint32_t gap)
{
    if (gap) {
        check_stream(s);
        sink_reset(s); /* a hole: resynchronise, as the reader does */
    }
    s->delivered += len;
    if (s->stream_len + len <= STREAM_MAX) {
        memcpy(s->stream + s->stream_len, data, len);
        s->stream_len += len;
        feed_rx(&s->rx, data, len, &s->events);
    } else {
        check_stream(s);
        sink_reset(s);
    }
}

static int deliver(sw_tcp_reasm *r, const uint8_t *data, size_t len, uint32_t gap, void *user)
{
    (void)r;
    take(user, data, len, gap);
    return 0;
}

static int on_pcap(const sw_pcap_flow *flow, int64_t ts_ns, const uint8_t *data, size_t len, uint32_t gap,
                   void *user)
{
    (void)flow;
    (void)ts_ns;
    take(user, data, len, gap);
    return 0;
}

static sink g_sinks[2];

static void packets(int link, const uint8_t *d, size_t n)
{
    sw_tcp_reasm r[2];
    uint64_t offered[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        sw_tcp_reasm_init(&r[i], deliver, &g_sinks[i]);
        sink_reset(&g_sinks[i]);
        g_sinks[i].delivered = 0;
    }
    uint16_t first_src = 0;
    bool have_first = false;
    size_t pos = 0;
    while (pos + 2 <= n) {
        size_t len = (size_t)d[pos] << 8 | d[pos + 1];
        pos += 2;
        if (len > n - pos)
            len = n - pos;
        sw_tcp_segment pi;
        sw_err e = sw_tcp_segment_parse(link, d + pos, len, &pi);
        if ((e == SW_OK || e == SW_ERR_TRUNCATED)) {
            if (pi.payload_len && (pi.payload < d + pos || pi.payload + pi.payload_len > d + pos + len))
                abort(); /* the payload must point inside the packet */
            if (!have_first) {
                first_src = pi.src.port;
                have_first = true;
            }
            int dir = pi.src.port == first_src ? 0 : 1;
            offered[dir] += pi.payload_len;
            sw_tcp_reasm_push(&r[dir], pi.seq, pi.syn, pi.payload, pi.payload_len);
        }
        pos += len;
    }
    for (int i = 0; i < 2; i++) {
        sw_tcp_reasm_flush(&r[i]);
        if (g_sinks[i].delivered > offered[i])
            abort();
        check_stream(&g_sinks[i]);
        sw_tcp_reasm_free(&r[i]);
    }
}

static void file(const uint8_t *d, size_t n)
{
    /* An unnamed temporary file, opened again by libpcap through procfs. */
    FILE *f = tmpfile();
    if (!f)
        return;
    int fd = fileno(f);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, d + done, n - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    sink_reset(&g_sinks[0]);
    sw_pcap_counters st;
    char eb[256];
    sw_pcap_read(path, 0, on_pcap, &g_sinks[0], &st, eb, sizeof eb);
    check_stream(&g_sinks[0]);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_sinks[0].stream) {
        for (int i = 0; i < 2; i++)
            if (!(g_sinks[i].stream = malloc(STREAM_MAX)))
                abort();
    }
    if (size < 1)
        return 0;
    if (data[0] & 0x80)
        file(data + 1, size - 1);
    else
        packets(k_links[data[0] % (sizeof k_links / sizeof k_links[0])], data + 1, size - 1);
    return 0;
}
