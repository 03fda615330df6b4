/*
 * sunwire/tigo_barcode.h: Tigo serial-number text <-> 64-bit long address.
 *
 * Pure text helpers above the protocol layers. A Tigo device label such as
 * "4-9A57A2L" encodes an 802.15.4 long address under Tigo's OUI 04:C0:5B,
 * with a CRC-4 check character. Input is trusted to be nothing: parsing
 * validates every character and the check character.
 */
#ifndef SUNWIRE_TIGO_BARCODE_H
#define SUNWIRE_TIGO_BARCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Enough for the colon-hex fallback "01:02:03:04:05:06:07:08" plus NUL. */
#define SW_TIGO_BARCODE_MAX 24
#define SW_TIGO_ADDR_TEXT_MAX 24

/* True when the address carries Tigo's OUI 04:C0:5B (so it has a barcode). */
SW_API bool sw_tigo_addr_is_tigo(const uint8_t addr[8]);

/* CRC-4 of the check character (poly x^4+x+1, init 2, MSB first), 0..15. */
SW_API uint8_t sw_tigo_barcode_crc4(const uint8_t *p, size_t n);

/* The check-character alphabet entry for a CRC-4 value ("GHJKLMNPRSTVWXYZ"). */
SW_API char sw_tigo_barcode_check_char(uint8_t crc4);

/*
 * "04:C0:5B:30:00:02:BE:16": upper-case colon-separated hex.
 * Returns the length (always 23) written into out[SW_TIGO_ADDR_TEXT_MAX].
 */
SW_API size_t sw_tigo_addr_format(const uint8_t addr[8], char out[SW_TIGO_ADDR_TEXT_MAX]);

/*
 * Barcode text of a long address ("4-A2346FZ"), or the colon-hex form for
 * addresses outside Tigo's OUI (the reference tools do the same wherever a
 * barcode is expected). Returns the length written into out.
 */
SW_API size_t sw_tigo_barcode_format(const uint8_t addr[8], char out[SW_TIGO_BARCODE_MAX]);

/*
 * Parse a barcode back into a long address. Accepts everything taptap accepts
 * (lower-case digits, a leading '+', extra leading zeros, digits wide enough
 * to spill into the prefix) and also the short forms taptap wrongly rejects
 * ("4-AN", "4-V"), which the formatter produces for addresses with many zero
 * nibbles. The check character is compared case-sensitively.
 * SW_ERR_TIGO_BAD_BARCODE for malformed text, SW_ERR_TIGO_BARCODE_CHECK when
 * only the check character is wrong.
 */
SW_API sw_err sw_tigo_barcode_parse(const char *text, size_t len, uint8_t addr[8]);

#ifdef __cplusplus
}
#endif
#endif
