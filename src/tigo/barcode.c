/*
 * barcode.c: Tigo barcode text (see sunwire/tigo_barcode.h).
 *
 * The CRC-4 table is built from the polynomial at compile time by hand
 * below (16 entries) because the check is defined on nibbles: each byte is
 * consumed as two 4-bit steps, which is equivalent to the byte-wise form in
 * the protocol notes and needs only a 16-entry table.
 */
#include "sunwire/tigo_barcode.h"

#include <string.h>

static const char check_alphabet[16] = {
    'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'T', 'V', 'W', 'X', 'Y', 'Z'
};
static const char hex_upper[16] = {
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'
};

bool sw_tigo_addr_is_tigo(const uint8_t addr[8])
{
    return addr[0] == 0x04 && addr[1] == 0xC0 && addr[2] == 0x5B;
}

/* One 4-bit step of x^4+x+1, most significant bit first. */
static uint8_t crc4_nibble(uint8_t crc, uint8_t nib)
{
    uint8_t v = (uint8_t)((crc ^ nib) & 0xF);
    for (int k = 0; k < 4; k++)
        v = (v & 0x8) ? (uint8_t)(((v << 1) ^ 0x3) & 0xF) : (uint8_t)((v << 1) & 0xF);
    return v;
}

uint8_t sw_tigo_barcode_crc4(const uint8_t *p, size_t n)
{
    uint8_t crc = 0x2;
    for (size_t i = 0; i < n; i++) {
        crc = crc4_nibble(crc, (uint8_t)(p[i] >> 4));
        crc = crc4_nibble(crc, (uint8_t)(p[i] & 0xF));
    }
    return crc;
}

char sw_tigo_barcode_check_char(uint8_t crc4)
{
    return check_alphabet[crc4 & 0xF];
}

size_t sw_tigo_addr_format(const uint8_t addr[8], char out[SW_TIGO_ADDR_TEXT_MAX])
{
    char *o = out;
    for (int i = 0; i < 8; i++) {
        if (i)
            *o++ = ':';
        *o++ = hex_upper[addr[i] >> 4];
        *o++ = hex_upper[addr[i] & 0xF];
    }
    *o = '\0';
    return (size_t)(o - out);
}

size_t sw_tigo_barcode_format(const uint8_t addr[8], char out[SW_TIGO_BARCODE_MAX])
{
    if (!sw_tigo_addr_is_tigo(addr))
        return sw_tigo_addr_format(addr, out);
    char *o = out;
    *o++ = hex_upper[addr[3] >> 4];
    *o++ = '-';
    /* The nine nibbles after the first, with leading zeros suppressed. */
    bool started = false;
    for (int i = 7; i < 16; i++) {
        uint8_t nib = (uint8_t)((i & 1) ? (addr[i / 2] & 0xF) : (addr[i / 2] >> 4));
        if (!started && nib == 0)
            continue;
        started = true;
        *o++ = hex_upper[nib];
    }
    *o++ = check_alphabet[sw_tigo_barcode_crc4(addr, 8)];
    *o = '\0';
    return (size_t)(o - out);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

sw_err sw_tigo_barcode_parse(const char *text, size_t len, uint8_t addr[8])
{
    /* Shortest accepted form is "4-V": prefix digit, dash, check character. */
    if (!text || len < 3 || text[1] != '-')
        return SW_ERR_TIGO_BAD_BARCODE;
    int first = hex_digit(text[0]);
    if (first < 0)
        return SW_ERR_TIGO_BAD_BARCODE;
    const char *d = text + 2;
    size_t nd = len - 3;
    if (nd > 0 && d[0] == '+') {
        /* taptap's integer parser takes a sign, but not a sign alone. */
        d++;
        nd--;
        if (nd == 0)
            return SW_ERR_TIGO_BAD_BARCODE;
    }
    uint64_t middle = 0;
    for (size_t i = 0; i < nd; i++) {
        int v = hex_digit(d[i]);
        if (v < 0 || middle >> 60)
            return SW_ERR_TIGO_BAD_BARCODE;
        middle = middle << 4 | (uint64_t)v;
    }
    /* A middle wider than 36 bits lands in the prefix, exactly as in taptap. */
    uint64_t full = middle | ((uint64_t)(0x04C05B0u | (unsigned)first) << 36);
    uint8_t a[8];
    for (int i = 0; i < 8; i++)
        a[i] = (uint8_t)(full >> (56 - 8 * i));
    if (text[len - 1] != check_alphabet[sw_tigo_barcode_crc4(a, 8)])
        return SW_ERR_TIGO_BARCODE_CHECK;
    memcpy(addr, a, 8);
    return SW_OK;
}
