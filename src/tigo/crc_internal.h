/*
 * tigo/crc_internal.h: the link-layer CRC, private to the library.
 *
 * The inline functions slice by 8 over the eight tables defined in crc.c;
 * sw_tigo_crc16() and sw_tigo_crc16_update() (crc.c) are the public
 * wrappers around them. The link receiver checks whole frames with
 * sw_tigo_crc16_residue_ok(), which uses a carry-less multiply where the CPU
 * has one and these tables elsewhere.
 */
#ifndef SUNWIRE_TIGO_CRC_INTERNAL_H
#define SUNWIRE_TIGO_CRC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const uint16_t sw_tigo_crc_tab[8][256];

/*
 * The CRC over nblocks whole 8-byte blocks: no tail, so no branch that
 * depends on the length. A message of any length is brought to a multiple
 * of 8 by zero bytes in front of it, started from the register value that
 * those zeros turn into the real initial value (sw_tigo_crc_lead, crc.c):
 * the CRC of zeros-then-message from lead[k] equals the CRC of the message
 * from SW_TIGO_CRC16_INIT.
 */
extern const uint16_t sw_tigo_crc_lead[8];

static inline uint16_t sw_tigo_crc16_blocks(uint16_t crc, const uint8_t *p, size_t nblocks)
{
    const uint16_t(*t)[256] = sw_tigo_crc_tab;
    uint32_t c = crc;
    for (; nblocks; nblocks--, p += 8) {
        uint32_t lo = c ^ (uint32_t)(p[0] | (p[1] << 8));
        c = (uint32_t)t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][p[2]] ^ t[4][p[3]] ^ t[3][p[4]] ^
            t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    }
    return (uint16_t)c;
}

static inline uint16_t sw_tigo_crc16_fold(uint16_t crc, const uint8_t *p, size_t n)
{
    const uint16_t(*t)[256] = sw_tigo_crc_tab;
    uint32_t c = crc;
    if (n >= 8) { /* p may be NULL when n is 0: no arithmetic on it then */
        c = sw_tigo_crc16_blocks(crc, p, n / 8);
        p += n & ~(size_t)7;
        n &= 7;
    }
    /* Frames are short (a receive request body is 11 bytes), so the tail
     * matters: fold it 4 and 2 bytes at a time rather than byte by byte,
     * which would chain one table lookup per byte. */
    if (n >= 4) {
        uint32_t lo = c ^ (uint32_t)(p[0] | (p[1] << 8));
        c = (uint32_t)t[3][lo & 0xFF] ^ t[2][(lo >> 8) & 0xFF] ^ t[1][p[2]] ^ t[0][p[3]];
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint32_t lo = c ^ (uint32_t)(p[0] | (p[1] << 8));
        c = (uint32_t)t[1][lo & 0xFF] ^ t[0][(lo >> 8) & 0xFF];
        p += 2;
        n -= 2;
    }
    if (n)
        c = t[0][(c ^ *p) & 0xFF] ^ (c >> 8);
    return (uint16_t)c;
}

/*
 * Whether a frame body of n bytes that ends in its own CRC (low byte first)
 * is intact, i.e. its CRC residue is zero. The k = (-n) mod 8 bytes before
 * body must be readable and zero (the link receiver keeps eight zero bytes
 * in front of its buffer). n is 2..SW_TIGO_LINK_MAX_BODY.
 *
 * Where the CPU has a carry-less multiply (PCLMULQDQ, checked at run time)
 * it is used; everywhere else the sliced tables. The two implementations are
 * exported for the unit tests, which hold them against the bit-serial CRC.
 */
bool sw_tigo_crc16_residue_ok(const uint8_t *body, size_t n);
bool sw_tigo_crc16_residue_ok_tables(const uint8_t *body, size_t n);
/* False when the CPU lacks the instruction: *ok is then left alone. */
bool sw_tigo_crc16_residue_ok_clmul(const uint8_t *body, size_t n, bool *ok);
/* Which check sw_tigo_crc16_residue_ok() uses here: "clmul" or "tables"
 * (always "tables" when built with SW_PORTABLE, cmake -DSUNWIRE_PORTABLE=ON). */
const char *sw_tigo_crc16_path(void);

#endif
