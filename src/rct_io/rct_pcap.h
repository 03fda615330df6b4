/*
 * rct_io/rct_pcap.h: TCP byte streams out of packet captures.
 *
 * Layers, bottom up:
 *   - sw_tcp_segment_parse: one captured packet (Ethernet, Linux cooked v1/v2, BSD
 *     loopback or raw IP; IPv4 or IPv6) to its TCP header fields and payload.
 *     Pure: trusts nothing, returns SW_ERR_UNSUPPORTED for what is not TCP.
 *   - sw_tcp_reasm: one direction of one TCP connection put back in order.
 *     Segments may come late, twice or overlapping; data is delivered once,
 *     in sequence order. A hole that never fills is skipped at flush time
 *     and reported, so a lossy capture still yields everything around it.
 *   - sw_pcap_read: the I/O edge, reading a pcap or pcapng file with libpcap
 *     and calling back with each direction's reassembled bytes. Without
 *     libpcap in the build it returns SW_ERR_UNSUPPORTED.
 * Nothing here knows the RCT protocol; the callback does.
 */
#ifndef SUNWIRE_RCT_PCAP_H
#define SUNWIRE_RCT_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* libpcap's link-layer type numbers (DLT_*) that sw_tcp_segment_parse understands. */
#define SW_LINKTYPE_NULL 0
#define SW_LINKTYPE_ETHERNET 1
#define SW_LINKTYPE_RAW 101
#define SW_LINKTYPE_LOOP 108
#define SW_LINKTYPE_LINUX_SLL 113
#define SW_LINKTYPE_RAW_IPV4 228
#define SW_LINKTYPE_RAW_IPV6 229
#define SW_LINKTYPE_LINUX_SLL2 276

typedef struct sw_tcp_endpoint {
    uint8_t addr[16];   /* IPv4 in the first 4 bytes */
    bool ipv6;
    uint16_t port;
} sw_tcp_endpoint;

typedef struct sw_tcp_segment {
    sw_tcp_endpoint src, dst;
    uint32_t seq;
    bool syn, fin, rst;
    const uint8_t *payload; /* points into the packet */
    size_t payload_len;
} sw_tcp_segment;

/* "192.0.2.1:8899" or "[2001:db8::1]:8899"; out must hold 64 bytes. */
void sw_tcp_endpoint_text(const sw_tcp_endpoint *ep, char out[64]);

/*
 * Parse one captured packet. SW_ERR_UNSUPPORTED for non-TCP packets or
 * unknown link types, SW_ERR_TRUNCATED when the capture cut the headers
 * short (the payload is also cut to what was captured).
 */
sw_err sw_tcp_segment_parse(int linktype, const uint8_t *pkt, size_t caplen, sw_tcp_segment *out);

/* ---- reassembly ----------------------------------------------------------- */

typedef struct sw_tcp_reasm sw_tcp_reasm;

/*
 * Called with in-order bytes: the reassembler, the bytes, how many bytes were
 * lost just before them (`gap`), and the user pointer given at init. Return 0
 * to go on; any other value stops the push or flush at once, which returns
 * that value. Bytes not yet delivered stay held back for the next call.
 */
typedef int (*sw_tcp_deliver_cb)(sw_tcp_reasm *r, const uint8_t *data, size_t len, uint32_t gap, void *user);

typedef struct sw_tcp_pending {
    uint32_t seq;
    size_t len;
    uint8_t *data;
} sw_tcp_pending;

/* Holds no pointer to itself: it may be moved between calls. */
struct sw_tcp_reasm {
    sw_tcp_deliver_cb deliver;
    void *user;
    bool have_next;
    uint32_t next;          /* next expected sequence number */
    sw_tcp_pending *pend;   /* out-of-order segments, unsorted (malloc'd) */
    size_t n_pend, cap_pend;
    size_t pend_bytes;
    uint64_t delivered, duplicate, gaps;
    uint64_t dropped;       /* out-of-order segments not kept for lack of memory */
};

/* Segments held back beyond this are given up on (the hole is skipped). */
#define SW_TCP_REASM_MAX_PENDING (1u << 20)

/* deliver must not be NULL. */
void sw_tcp_reasm_init(sw_tcp_reasm *r, sw_tcp_deliver_cb deliver, void *user);
/*
 * Push one segment. A SYN fixes the start of the stream; without one the first
 * segment seen does. Returns 0, or the non-zero value the callback returned to
 * stop (the segment is taken either way). An out-of-order segment that cannot
 * be kept for lack of memory is counted in `dropped` and shows up as a gap.
 */
int sw_tcp_reasm_push(sw_tcp_reasm *r, uint32_t seq, bool syn, const uint8_t *data, size_t len);
/* Deliver whatever is held back, skipping holes (end of capture): 0, or the
 * callback's non-zero value. */
int sw_tcp_reasm_flush(sw_tcp_reasm *r);
void sw_tcp_reasm_free(sw_tcp_reasm *r);

/* ---- capture files -------------------------------------------------------- */

typedef struct sw_pcap_flow {
    unsigned index;          /* 0, 1, ... in order of first appearance */
    sw_tcp_endpoint src, dst;
} sw_pcap_flow;

/*
 * Reassembled bytes of one direction: the flow they belong to, the capture
 * time of the packet that completed them, the bytes, `gap` as for
 * sw_tcp_deliver_cb, and the user pointer. Return 0 to go on; any other value
 * stops the reading at once.
 */
typedef int (*sw_pcap_data_cb)(const sw_pcap_flow *flow, int64_t ts_ns, const uint8_t *data, size_t len,
                               uint32_t gap, void *user);

typedef struct sw_pcap_counters {
    uint64_t packets, tcp_packets, flows, bytes, duplicate_bytes, gaps;
} sw_pcap_counters;

/*
 * Read `path` (pcap or pcapng). Only TCP packets with `port` as source or
 * destination are used (0 = all). errbuf receives libpcap's reason when the
 * file cannot be opened. SW_ERR_UNSUPPORTED when built without libpcap. A
 * callback that stops ends the reading early with SW_OK (the counters cover
 * what was read).
 */
sw_err sw_pcap_read(const char *path, uint16_t port, sw_pcap_data_cb cb, void *user,
                    sw_pcap_counters *counters, char *errbuf, size_t errbuf_len);

#ifdef __cplusplus
}
#endif
#endif
