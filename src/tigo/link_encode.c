/*
 * Tigo gateway link layer: the sending side (escaping and frame encoding).
 *
 * An observer never transmits; this exists so tests, benchmarks and the bus
 * simulator can produce byte-exact frames. It trusts its caller's lengths and
 * writes only into the caller's buffer, refusing with SW_ERR_NO_SPACE rather
 * than truncating.
 */
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_link.h"

/* Data byte -> escape code, 0xFF for bytes that are sent as they are. */
static uint8_t escape_code(uint8_t b)
{
    switch (b) {
    case 0x7E: return 0x00;
    case 0x24: return 0x01;
    case 0x23: return 0x02;
    case 0x25: return 0x03;
    case 0xA4: return 0x04;
    case 0xA3: return 0x05;
    case 0xA5: return 0x06;
    default: return 0xFF;
    }
}

/* Escape into out[*pos..cap); false when it does not fit. */
static bool put_escaped(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *pos)
{
    size_t o = *pos;
    for (size_t i = 0; i < n; i++) {
        uint8_t code = escape_code(in[i]);
        if (code == 0xFF) {
            if (o >= cap)
                return false;
            out[o++] = in[i];
        } else {
            if (cap - o < 2 || o >= cap)
                return false;
            out[o++] = 0x7E;
            out[o++] = code;
        }
    }
    *pos = o;
    return true;
}

sw_err sw_tigo_link_escape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t pos = 0;
    if (!in && n)
        return SW_ERR_INVALID_ARGUMENT;
    if (!put_escaped(in, n, out, cap, &pos))
        return SW_ERR_NO_SPACE;
    *out_len = pos;
    return SW_OK;
}

sw_err sw_tigo_link_unescape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    static const uint8_t data_of[7] = { 0x7E, 0x24, 0x23, 0x25, 0xA4, 0xA3, 0xA5 };
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if (b == 0x7E) {
            if (i + 1 >= n || in[i + 1] > 0x06)
                return SW_ERR_TIGO_BAD_ESCAPE;
            b = data_of[in[++i]];
        }
        if (o >= cap)
            return SW_ERR_NO_SPACE;
        out[o++] = b;
    }
    *out_len = o;
    return SW_OK;
}

sw_err sw_tigo_link_encode(uint16_t address, uint16_t type, const uint8_t *payload, size_t payload_len,
                           unsigned flags, uint8_t *out, size_t cap, size_t *out_len)
{
    if (payload_len > SW_TIGO_LINK_MAX_PAYLOAD)
        return SW_ERR_TOO_LONG;
    if (!payload && payload_len)
        return SW_ERR_INVALID_ARGUMENT;
    uint8_t head[4];
    sw_put_be16(head, address);
    sw_put_be16(head + 2, type);
    uint16_t crc = sw_tigo_crc16_update(SW_TIGO_CRC16_INIT, head, 4);
    crc = sw_tigo_crc16_update(crc, payload, payload_len);
    uint8_t tail[2] = { (uint8_t)crc, (uint8_t)(crc >> 8) };

    size_t pos = 0;
    if (!(flags & SW_TIGO_ENCODE_NO_PREAMBLE)) {
        static const uint8_t to_gw[3] = { 0x00, 0xFF, 0xFF };
        size_t pn = sw_tigo_addr_is_from_gateway(address) ? 1 : 3;
        const uint8_t *pre = sw_tigo_addr_is_from_gateway(address) ? to_gw + 2 : to_gw;
        if (cap < pn)
            return SW_ERR_NO_SPACE;
        memcpy(out, pre, pn);
        pos = pn;
    }
    if (cap - pos < 2)
        return SW_ERR_NO_SPACE;
    out[pos++] = 0x7E;
    out[pos++] = 0x07;
    if (!put_escaped(head, 4, out, cap, &pos) || !put_escaped(payload, payload_len, out, cap, &pos) ||
        !put_escaped(tail, 2, out, cap, &pos))
        return SW_ERR_NO_SPACE;
    if (cap - pos < 2)
        return SW_ERR_NO_SPACE;
    out[pos++] = 0x7E;
    out[pos++] = 0x08;
    *out_len = pos;
    return SW_OK;
}
