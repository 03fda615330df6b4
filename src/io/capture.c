/*
 * capture.c: pcapng encoder and push decoder (see sunwire/io_capture.h).
 *
 * Trusts nothing in the input: every length is checked before it is used.
 * Only the handful of block and option types a byte capture needs are
 * interpreted; the rest are skipped by their length, as the format intends.
 */
#include "sunwire/io_capture.h"

#include <string.h>

#define BOM 0x1A2B3C4Du
#define OPT_END 0
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14
#define NS_PER_S 1000000000ULL

bool sw_pcapng_sniff(const uint8_t *p, size_t n)
{
    return n >= SW_PCAPNG_MAGIC_BYTES && p[0] == 0x0A && p[1] == 0x0D && p[2] == 0x0D && p[3] == 0x0A;
}

/* ---- encoder: always little-endian, which every reader accepts ----------- */

static void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static size_t pad4(size_t n) { return (n + 3u) & ~(size_t)3u; }

/* Appends one option; returns the new length or 0 when it does not fit. */
static size_t put_option(uint8_t *out, size_t cap, size_t at, uint16_t code, const void *val, size_t len)
{
    if (len > 0xFFFF || at + 4 + pad4(len) > cap)
        return 0;
    put_le16(out + at, code);
    put_le16(out + at + 2, (uint16_t)len);
    memset(out + at + 4, 0, pad4(len));
    if (len)
        memcpy(out + at + 4, val, len);
    return at + 4 + pad4(len);
}

static sw_err close_block(uint8_t *out, size_t cap, size_t start, size_t *at)
{
    if (*at + 4 > cap)
        return SW_ERR_NO_SPACE;
    uint32_t total = (uint32_t)(*at + 4 - start);
    put_le32(out + start + 4, total);
    put_le32(out + *at, total);
    *at += 4;
    return SW_OK;
}

sw_err sw_pcapng_encode_header(uint8_t *out, size_t cap, size_t *n_out,
                               const char *app, const char *if_name)
{
    if (!out || !n_out)
        return SW_ERR_INVALID_ARGUMENT;
    size_t at = 0;
    if (cap < 24)
        return SW_ERR_NO_SPACE;
    put_le32(out, SW_PCAPNG_SHB);
    put_le32(out + 8, BOM);
    put_le16(out + 12, 1);
    put_le16(out + 14, 0);
    memset(out + 16, 0xFF, 8); /* section length unknown: we stream */
    at = 24;
    if (app && *app) {
        at = put_option(out, cap, at, OPT_SHB_USERAPPL, app, strlen(app));
        if (!at)
            return SW_ERR_NO_SPACE;
    }
    if (!(at = put_option(out, cap, at, OPT_END, NULL, 0)))
        return SW_ERR_NO_SPACE;
    sw_err e = close_block(out, cap, 0, &at);
    if (e)
        return e;

    size_t idb = at;
    if (at + 16 > cap)
        return SW_ERR_NO_SPACE;
    put_le32(out + at, SW_PCAPNG_IDB);
    put_le16(out + at + 8, (uint16_t)SW_CAPTURE_LINKTYPE);
    put_le16(out + at + 10, 0);
    put_le32(out + at + 12, 0); /* snaplen 0: no limit */
    at += 16;
    if (if_name && *if_name) {
        at = put_option(out, cap, at, OPT_IF_NAME, if_name, strlen(if_name));
        if (!at)
            return SW_ERR_NO_SPACE;
    }
    uint8_t resol = 9;
    if (!(at = put_option(out, cap, at, OPT_IF_TSRESOL, &resol, 1)))
        return SW_ERR_NO_SPACE;
    if (!(at = put_option(out, cap, at, OPT_END, NULL, 0)))
        return SW_ERR_NO_SPACE;
    if ((e = close_block(out, cap, idb, &at)))
        return e;
    *n_out = at;
    return SW_OK;
}

size_t sw_pcapng_packet_size(size_t len) { return 32 + pad4(len); }

sw_err sw_pcapng_encode_packet(uint8_t *out, size_t cap, size_t *n_out,
                               int64_t unix_ns, const uint8_t *data, size_t len)
{
    if (!out || !n_out || (len && !data) || unix_ns < 0 || len > 0xFFFFFF00u)
        return SW_ERR_INVALID_ARGUMENT;
    size_t total = sw_pcapng_packet_size(len);
    if (total > cap)
        return SW_ERR_NO_SPACE;
    uint64_t ts = (uint64_t)unix_ns;
    put_le32(out, SW_PCAPNG_EPB);
    put_le32(out + 4, (uint32_t)total);
    put_le32(out + 8, 0);
    put_le32(out + 12, (uint32_t)(ts >> 32));
    put_le32(out + 16, (uint32_t)ts);
    put_le32(out + 20, (uint32_t)len);
    put_le32(out + 24, (uint32_t)len);
    memset(out + 28, 0, pad4(len));
    if (len)
        memcpy(out + 28, data, len);
    put_le32(out + total - 4, (uint32_t)total);
    *n_out = total;
    return SW_OK;
}

/* ---- decoder -------------------------------------------------------------- */

void sw_pcapng_reader_init(sw_pcapng_reader *r, uint8_t *buf, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->cap = cap;
}

static uint16_t rd16(const sw_pcapng_reader *r, const uint8_t *p)
{
    return r->big_endian ? (uint16_t)((p[0] << 8) | p[1]) : (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const sw_pcapng_reader *r, const uint8_t *p)
{
    if (r->big_endian)
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static uint64_t pow_u64(uint64_t base, unsigned exp, bool *overflow)
{
    uint64_t v = 1;
    for (unsigned i = 0; i < exp; i++) {
        if (v > UINT64_MAX / base) {
            *overflow = true;
            return 0;
        }
        v *= base;
    }
    return v;
}

static sw_err parse_idb(sw_pcapng_reader *r, const uint8_t *b, uint32_t len)
{
    if (len < 20)
        return SW_ERR_BAD_CAPTURE;
    if (r->n_ifaces >= SW_PCAPNG_MAX_IFACES)
        return SW_ERR_BAD_CAPTURE;
    uint16_t linktype = rd16(r, b + 8);
    uint64_t tps = 1000000; /* the format's default: microseconds */
    int64_t offset_s = 0;
    uint32_t at = 16, end = len - 4;
    while (at + 4 <= end) {
        uint16_t code = rd16(r, b + at), olen = rd16(r, b + at + 2);
        if (code == OPT_END)
            break;
        if (at + 4 + pad4(olen) > end)
            return SW_ERR_BAD_CAPTURE;
        const uint8_t *v = b + at + 4;
        if (code == OPT_IF_TSRESOL && olen == 1) {
            bool ovf = false;
            tps = (v[0] & 0x80) ? pow_u64(2, v[0] & 0x7Fu, &ovf) : pow_u64(10, v[0], &ovf);
            if (ovf || tps == 0)
                return SW_ERR_BAD_CAPTURE;
        } else if (code == OPT_IF_TSOFFSET && olen == 8) {
            uint64_t hi = rd32(r, v), lo = rd32(r, v + 4);
            uint64_t u = r->big_endian ? (hi << 32) | lo : (lo << 32) | hi;
            offset_s = (int64_t)u;
            if (offset_s > INT32_MAX || offset_s < -(int64_t)INT32_MAX)
                return SW_ERR_BAD_CAPTURE;
        }
        at += 4 + (uint32_t)pad4(olen);
    }
    r->ifaces[r->n_ifaces].linktype = linktype;
    r->ifaces[r->n_ifaces].ticks_per_s = tps;
    r->ifaces[r->n_ifaces].offset_s = offset_s;
    r->n_ifaces++;
    return SW_OK;
}

static sw_err ticks_to_ns(uint64_t ticks, uint64_t tps, int64_t offset_s, int64_t *out)
{
    uint64_t sec = ticks / tps, frac = ticks % tps;
    uint64_t frac_ns;
    if (tps <= NS_PER_S)
        frac_ns = frac * (NS_PER_S / tps) + (NS_PER_S % tps ? frac * (NS_PER_S % tps) / tps : 0);
    else
        frac_ns = (uint64_t)((long double)frac * (long double)NS_PER_S / (long double)tps);
    int64_t s = (int64_t)sec + offset_s;
    if (sec > (uint64_t)INT64_MAX / NS_PER_S || s < 0 || s > INT64_MAX / (int64_t)NS_PER_S - 1)
        return SW_ERR_BAD_CAPTURE;
    *out = s * (int64_t)NS_PER_S + (int64_t)frac_ns;
    return SW_OK;
}

static sw_err parse_block(sw_pcapng_reader *r, sw_capture_packet *pkt, bool *got)
{
    const uint8_t *b = r->buf;
    uint32_t len = r->block_len;
    uint32_t type = rd32(r, b);
    if (rd32(r, b + len - 4) != len)
        return SW_ERR_BAD_CAPTURE;
    switch (type) {
    case SW_PCAPNG_SHB:
        if (len < 28 || rd16(r, b + 12) != 1)
            return SW_ERR_BAD_CAPTURE;
        r->in_section = true;
        r->n_ifaces = 0; /* interface ids are per section */
        return SW_OK;
    case SW_PCAPNG_IDB:
        return parse_idb(r, b, len);
    case SW_PCAPNG_EPB: {
        if (len < 32)
            return SW_ERR_BAD_CAPTURE;
        uint32_t ifid = rd32(r, b + 8);
        uint32_t caplen = rd32(r, b + 20);
        if (ifid >= r->n_ifaces || caplen > len - 32)
            return SW_ERR_BAD_CAPTURE;
        uint64_t ticks = ((uint64_t)rd32(r, b + 12) << 32) | rd32(r, b + 16);
        sw_err e = ticks_to_ns(ticks, r->ifaces[ifid].ticks_per_s, r->ifaces[ifid].offset_s, &pkt->unix_ns);
        if (e)
            return e;
        pkt->data = b + 28;
        pkt->len = caplen;
        pkt->interface_id = ifid;
        pkt->linktype = r->ifaces[ifid].linktype;
        *got = true;
        return SW_OK;
    }
    case SW_PCAPNG_SPB: {
        if (len < 16 || r->n_ifaces == 0)
            return SW_ERR_BAD_CAPTURE;
        uint32_t orig = rd32(r, b + 8);
        uint32_t avail = len - 16;
        pkt->data = b + 12;
        pkt->len = orig < avail ? orig : avail;
        pkt->unix_ns = -1; /* simple packets carry no time */
        pkt->interface_id = 0;
        pkt->linktype = r->ifaces[0].linktype;
        *got = true;
        return SW_OK;
    }
    default:
        return SW_OK; /* statistics, name resolution, comments, ...: not needed */
    }
}

sw_err sw_pcapng_reader_push(sw_pcapng_reader *r, const uint8_t *in, size_t n,
                             size_t *consumed, sw_capture_packet *pkt, bool *got)
{
    *consumed = 0;
    *got = false;
    if (r->cap < 32)
        return SW_ERR_NO_SPACE;
    while (*consumed < n) {
        /* The header is 8 bytes, or 12 for a section header (its byte-order mark). */
        size_t want = r->block_len ? r->block_len : (r->have >= 4 && sw_pcapng_sniff(r->buf, r->have) ? 12 : 8);
        size_t take = want - r->have;
        if (take > n - *consumed)
            take = n - *consumed;
        memcpy(r->buf + r->have, in + *consumed, take);
        r->have += take;
        *consumed += take;
        if (r->have < want)
            break;
        if (!r->block_len) {
            if (r->have == 8 && sw_pcapng_sniff(r->buf, 8))
                continue; /* need the byte-order mark too */
            if (sw_pcapng_sniff(r->buf, r->have)) {
                const uint8_t *m = r->buf + 8;
                if (m[0] == 0x4D && m[1] == 0x3C && m[2] == 0x2B && m[3] == 0x1A)
                    r->big_endian = false;
                else if (m[0] == 0x1A && m[1] == 0x2B && m[2] == 0x3C && m[3] == 0x4D)
                    r->big_endian = true;
                else
                    return SW_ERR_BAD_CAPTURE;
            } else if (!r->in_section) {
                return SW_ERR_BAD_CAPTURE; /* a pcapng file starts with a section header */
            }
            uint32_t len = rd32(r, r->buf + 4);
            if (len < 12 || len % 4 || len < r->have)
                return SW_ERR_BAD_CAPTURE;
            if (len > r->cap)
                return SW_ERR_TOO_LONG;
            r->block_len = len;
            if (r->have < len)
                continue;
        }
        sw_err e = parse_block(r, pkt, got);
        r->offset += r->block_len;
        r->have = 0;
        r->block_len = 0;
        if (e)
            return e;
        if (*got)
            return SW_OK;
    }
    return SW_OK;
}

sw_err sw_pcapng_reader_finish(const sw_pcapng_reader *r)
{
    return r->have ? SW_ERR_TRUNCATED : SW_OK;
}
