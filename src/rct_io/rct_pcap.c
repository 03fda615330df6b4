/*
 * rct_pcap.c: packet parsing, TCP reassembly and capture-file reading
 * (see rct_io/rct_pcap.h).
 *
 * The reassembler keeps out-of-order segments in a small unsorted array: RCT
 * sessions are a handful of short frames per round trip, so the array rarely
 * holds more than one or two entries and a linear scan is the simplest thing
 * that is obviously right. Retransmissions and overlaps are resolved against
 * `next`, the first byte not yet delivered, so nothing is delivered twice.
 */
#include "rct_io/rct_pcap.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire_config.h"

#if SUNWIRE_HAVE_PCAP
#include <pcap/pcap.h>
#endif

void sw_tcp_endpoint_text(const sw_tcp_endpoint *ep, char out[64])
{
    if (!ep->ipv6) {
        snprintf(out, 64, "%u.%u.%u.%u:%u", ep->addr[0], ep->addr[1], ep->addr[2], ep->addr[3],
                 (unsigned)ep->port);
        return;
    }
    /* Plain eight-group form; no :: compression, it is for reading, not for parsing. */
    int n = snprintf(out, 64, "[");
    for (int i = 0; i < 8; i++)
        n += snprintf(out + n, (size_t)(64 - n), i ? ":%x" : "%x", (unsigned)sw_be16(ep->addr + 2 * i));
    snprintf(out + n, (size_t)(64 - n), "]:%u", (unsigned)ep->port);
}

static sw_err parse_tcp(const uint8_t *p, size_t n, size_t ip_payload_len, sw_tcp_segment *out)
{
    if (n < 20)
        return SW_ERR_TRUNCATED;
    size_t doff = (size_t)(p[12] >> 4) * 4;
    if (doff < 20)
        return SW_ERR_UNSUPPORTED;
    if (n < doff)
        return SW_ERR_TRUNCATED;
    out->src.port = sw_be16(p);
    out->dst.port = sw_be16(p + 2);
    out->seq = sw_be32(p + 4);
    out->fin = (p[13] & 0x01) != 0;
    out->syn = (p[13] & 0x02) != 0;
    out->rst = (p[13] & 0x04) != 0;
    /* The IP length is authoritative (Ethernet pads short frames); the capture may hold less. */
    size_t seg = ip_payload_len >= doff ? ip_payload_len - doff : 0;
    size_t have = n - doff;
    out->payload = p + doff;
    out->payload_len = seg < have ? seg : have;
    return SW_OK;
}

static sw_err parse_ip(const uint8_t *p, size_t n, sw_tcp_segment *out)
{
    if (n < 1)
        return SW_ERR_TRUNCATED;
    unsigned version = p[0] >> 4;
    if (version == 4) {
        if (n < 20)
            return SW_ERR_TRUNCATED;
        size_t ihl = (size_t)(p[0] & 0x0F) * 4;
        size_t total = sw_be16(p + 2);
        if (ihl < 20 || total < ihl)
            return SW_ERR_UNSUPPORTED;
        if (n < ihl)
            return SW_ERR_TRUNCATED;
        if (p[9] != 6)
            return SW_ERR_UNSUPPORTED;
        /* Fragments are not reassembled: a capture of a LAN protocol has none in practice. */
        if ((sw_be16(p + 6) & 0x3FFF) != 0)
            return SW_ERR_UNSUPPORTED;
        memset(&out->src, 0, sizeof out->src);
        memset(&out->dst, 0, sizeof out->dst);
        memcpy(out->src.addr, p + 12, 4);
        memcpy(out->dst.addr, p + 16, 4);
        return parse_tcp(p + ihl, n - ihl, total - ihl, out);
    }
    if (version == 6) {
        if (n < 40)
            return SW_ERR_TRUNCATED;
        size_t plen = sw_be16(p + 4);
        uint8_t next = p[6];
        memset(&out->src, 0, sizeof out->src);
        memset(&out->dst, 0, sizeof out->dst);
        memcpy(out->src.addr, p + 8, 16);
        memcpy(out->dst.addr, p + 24, 16);
        out->src.ipv6 = out->dst.ipv6 = true;
        size_t off = 40;
        /* Skip the extension headers that can precede TCP. */
        while (next == 0 || next == 43 || next == 60) {
            if (n < off + 8)
                return SW_ERR_TRUNCATED;
            size_t len = ((size_t)p[off + 1] + 1) * 8;
            next = p[off];
            off += len;
            if (plen < len)
                return SW_ERR_UNSUPPORTED;
            plen -= len;
        }
        if (next != 6)
            return SW_ERR_UNSUPPORTED;
        if (n < off)
            return SW_ERR_TRUNCATED;
        return parse_tcp(p + off, n - off, plen, out);
    }
    return SW_ERR_UNSUPPORTED;
}

sw_err sw_tcp_segment_parse(int linktype, const uint8_t *p, size_t n, sw_tcp_segment *out)
{
    memset(out, 0, sizeof *out);
    switch (linktype) {
    case SW_LINKTYPE_NULL:
    case SW_LINKTYPE_LOOP:
        /* A 4-byte address family in varying byte order; the IP version nibble says enough. */
        if (n < 4)
            return SW_ERR_TRUNCATED;
        return parse_ip(p + 4, n - 4, out);
    case SW_LINKTYPE_ETHERNET: {
        if (n < 14)
            return SW_ERR_TRUNCATED;
        size_t off = 12;
        uint16_t type = sw_be16(p + off);
        while (type == 0x8100 || type == 0x88A8) { /* VLAN tags */
            off += 4;
            if (n < off + 2)
                return SW_ERR_TRUNCATED;
            type = sw_be16(p + off);
        }
        off += 2;
        if (type != 0x0800 && type != 0x86DD)
            return SW_ERR_UNSUPPORTED;
        return parse_ip(p + off, n - off, out);
    }
    case SW_LINKTYPE_LINUX_SLL:
        if (n < 16)
            return SW_ERR_TRUNCATED;
        return parse_ip(p + 16, n - 16, out);
    case SW_LINKTYPE_LINUX_SLL2:
        if (n < 20)
            return SW_ERR_TRUNCATED;
        return parse_ip(p + 20, n - 20, out);
    case SW_LINKTYPE_RAW:
    case SW_LINKTYPE_RAW_IPV4:
    case SW_LINKTYPE_RAW_IPV6:
        return parse_ip(p, n, out);
    default:
        return SW_ERR_UNSUPPORTED;
    }
}

/* ---- reassembly ------------------------------------------------------------ */

void sw_tcp_reasm_init(sw_tcp_reasm *r, sw_tcp_deliver_cb deliver, void *user)
{
    memset(r, 0, sizeof *r);
    r->deliver = deliver;
    r->user = user;
}

void sw_tcp_reasm_free(sw_tcp_reasm *r)
{
    for (size_t i = 0; i < r->n_pend; i++)
        free(r->pend[i].data);
    free(r->pend);
    memset(r, 0, sizeof *r);
}

static void remove_pending(sw_tcp_reasm *r, size_t i)
{
    r->pend_bytes -= r->pend[i].len;
    free(r->pend[i].data);
    r->pend[i] = r->pend[r->n_pend - 1];
    r->n_pend--;
}

/*
 * Deliver `len` bytes starting at sequence `seq` (<= next), skipping what was
 * already delivered. The bytes count as delivered even when the callback
 * stops; its value is returned.
 */
static int deliver_from(sw_tcp_reasm *r, uint32_t seq, const uint8_t *data, size_t len, uint32_t gap)
{
    uint32_t behind = r->next - seq;
    if ((size_t)behind >= len) {
        r->duplicate += len;
        return 0;
    }
    r->duplicate += behind;
    size_t fresh = len - behind;
    r->next += (uint32_t)fresh;
    r->delivered += fresh;
    return r->deliver(r, data + behind, fresh, gap, r->user);
}

/* Deliver one held-back segment and let it go. */
static int deliver_pending(sw_tcp_reasm *r, size_t i, uint32_t gap)
{
    int rc = deliver_from(r, r->pend[i].seq, r->pend[i].data, r->pend[i].len, gap);
    remove_pending(r, i);
    return rc;
}

/* Deliver held-back segments that have become contiguous. */
static int drain(sw_tcp_reasm *r)
{
    bool progress = true;
    while (progress && r->n_pend) {
        progress = false;
        for (size_t i = 0; i < r->n_pend; i++) {
            int32_t off = (int32_t)(r->pend[i].seq - r->next);
            if (off <= 0) {
                int rc = deliver_pending(r, i, 0);
                if (rc)
                    return rc;
                progress = true;
                break;
            }
        }
    }
    return 0;
}

int sw_tcp_reasm_flush(sw_tcp_reasm *r)
{
    int rc = drain(r);
    while (!rc && r->n_pend) {
        size_t best = 0;
        for (size_t i = 1; i < r->n_pend; i++)
            if (r->pend[i].seq - r->next < r->pend[best].seq - r->next)
                best = i;
        uint32_t gap = r->pend[best].seq - r->next;
        r->gaps++;
        r->next = r->pend[best].seq;
        rc = deliver_pending(r, best, gap);
        if (!rc)
            rc = drain(r);
    }
    return rc;
}

/* Keep an out-of-order segment for later; false when there is no memory for it. */
static bool hold(sw_tcp_reasm *r, uint32_t seq, const uint8_t *data, size_t len)
{
    if (r->n_pend == r->cap_pend) {
        size_t cap = r->cap_pend ? r->cap_pend * 2 : 8;
        sw_tcp_pending *np = realloc(r->pend, cap * sizeof *np);
        if (!np)
            return false;
        r->pend = np;
        r->cap_pend = cap;
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return false;
    memcpy(copy, data, len);
    r->pend[r->n_pend++] = (sw_tcp_pending){ .seq = seq, .len = len, .data = copy };
    r->pend_bytes += len;
    return true;
}

int sw_tcp_reasm_push(sw_tcp_reasm *r, uint32_t seq, bool syn, const uint8_t *data, size_t len)
{
    if (syn) {
        seq += 1; /* the SYN occupies one sequence number */
        if (!r->have_next) {
            r->next = seq;
            r->have_next = true;
        }
    }
    if (len == 0)
        return 0;
    if (!r->have_next) {
        r->next = seq;
        r->have_next = true;
    }
    int32_t off = (int32_t)(seq - r->next);
    if (off <= 0) {
        int rc = deliver_from(r, seq, data, len, 0);
        return rc ? rc : drain(r);
    }
    int rc = 0;
    if (r->pend_bytes + len > SW_TCP_REASM_MAX_PENDING)
        rc = sw_tcp_reasm_flush(r);
    if (!hold(r, seq, data, len))
        r->dropped++;
    return rc;
}

/* ---- capture files ------------------------------------------------------------ */

#if SUNWIRE_HAVE_PCAP

struct flow_slot {
    sw_pcap_flow flow;
    sw_tcp_reasm reasm;
    int64_t last_ts;
};

struct read_ctx {
    sw_pcap_data_cb cb;
    void *user;
};

/* r is the reassembler inside its flow's slot: the slot is found from it, so
 * the flow table may move while it grows. */
static int on_deliver(sw_tcp_reasm *r, const uint8_t *data, size_t len, uint32_t gap, void *user)
{
    const struct read_ctx *c = user;
    const struct flow_slot *f = (const void *)((char *)r - offsetof(struct flow_slot, reasm));
    return c->cb(&f->flow, f->last_ts, data, len, gap, c->user);
}

static bool same_ep(const sw_tcp_endpoint *a, const sw_tcp_endpoint *b)
{
    return a->ipv6 == b->ipv6 && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

sw_err sw_pcap_read(const char *path, uint16_t port, sw_pcap_data_cb cb, void *user,
                    sw_pcap_counters *counters, char *errbuf, size_t errbuf_len)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    sw_pcap_counters st = { 0 };
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!pc) {
        if (errbuf && errbuf_len)
            snprintf(errbuf, errbuf_len, "%s", perr);
        return SW_ERR_OPEN;
    }
    int linktype = pcap_datalink(pc);
    struct flow_slot *flows = NULL;
    size_t n_flows = 0, cap_flows = 0;
    sw_err err = SW_OK;
    struct read_ctx ctx = { cb, user };
    int stop = 0;
    struct pcap_pkthdr *hdr;
    const u_char *pkt;
    int rc;
    while (!stop && (rc = pcap_next_ex(pc, &hdr, &pkt)) == 1) {
        st.packets++;
        sw_tcp_segment info;
        if (sw_tcp_segment_parse(linktype, pkt, hdr->caplen, &info) != SW_OK)
            continue;
        if (port && info.src.port != port && info.dst.port != port)
            continue;
        st.tcp_packets++;
        size_t i;
        for (i = 0; i < n_flows; i++)
            if (same_ep(&flows[i].flow.src, &info.src) && same_ep(&flows[i].flow.dst, &info.dst))
                break;
        if (i == n_flows) {
            if (n_flows == cap_flows) {
                size_t cap = cap_flows ? cap_flows * 2 : 8;
                struct flow_slot *nf = realloc(flows, cap * sizeof *nf);
                if (!nf) {
                    err = SW_ERR_NO_MEMORY;
                    break;
                }
                flows = nf;
                cap_flows = cap;
            }
            flows[i].flow = (sw_pcap_flow){ .index = (unsigned)i, .src = info.src, .dst = info.dst };
            sw_tcp_reasm_init(&flows[i].reasm, on_deliver, &ctx);
            n_flows++;
        }
        /* With nanosecond precision requested, tv_usec holds nanoseconds. */
        flows[i].last_ts = (int64_t)hdr->ts.tv_sec * 1000000000LL + (int64_t)hdr->ts.tv_usec;
        stop = sw_tcp_reasm_push(&flows[i].reasm, info.seq, info.syn, info.payload, info.payload_len);
    }
    if (!stop && rc == -1 && err == SW_OK) {
        if (errbuf && errbuf_len)
            snprintf(errbuf, errbuf_len, "%s", pcap_geterr(pc));
        err = SW_ERR_IO;
    }
    for (size_t i = 0; i < n_flows; i++) {
        if (!stop)
            stop = sw_tcp_reasm_flush(&flows[i].reasm);
        st.bytes += flows[i].reasm.delivered;
        st.duplicate_bytes += flows[i].reasm.duplicate;
        st.gaps += flows[i].reasm.gaps + flows[i].reasm.dropped;
        sw_tcp_reasm_free(&flows[i].reasm);
    }
    st.flows = n_flows;
    free(flows);
    pcap_close(pc);
    if (counters)
        *counters = st;
    return err;
}

#else

sw_err sw_pcap_read(const char *path, uint16_t port, sw_pcap_data_cb cb, void *user,
                    sw_pcap_counters *counters, char *errbuf, size_t errbuf_len)
{
    (void)path; (void)port; (void)cb; (void)user;
    if (counters)
        memset(counters, 0, sizeof *counters);
    if (errbuf && errbuf_len)
        snprintf(errbuf, errbuf_len, "this build has no pcap support (install libpcap-dev and rebuild)");
    return SW_ERR_UNSUPPORTED;
}

#endif
