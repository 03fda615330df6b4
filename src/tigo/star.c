/*
 * Frame types 0x0042 / 0x0043 of older "star" Tigo systems.
 *
 * Receives the payload of a CRC-checked frame and splits it into raw fields.
 * The evidence is a few public captures, so nothing is scaled to units here;
 * docs/tigo-protocol.md says what would be needed to change that.
 */
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_star.h"

sw_err sw_tigo_star_request_decode(const uint8_t *p, size_t n, sw_tigo_star_request *out)
{
    if (n < SW_TIGO_STAR_REQUEST_LEN)
        return SW_ERR_TRUNCATED;
    if (n > SW_TIGO_STAR_REQUEST_LEN)
        return SW_ERR_TOO_LONG;
    out->field_0 = sw_be16(p);
    out->field_2 = sw_be16(p + 2);
    out->sequence = sw_be16(p + 4);
    out->field_6 = sw_be16(p + 6);
    return SW_OK;
}

sw_err sw_tigo_star_response_decode(const uint8_t *p, size_t n, sw_tigo_star_response *out)
{
    if (n < SW_TIGO_STAR_HEADER_LEN)
        return SW_ERR_TRUNCATED;
    if ((n - SW_TIGO_STAR_HEADER_LEN) % SW_TIGO_STAR_RECORD_LEN != 0)
        return SW_ERR_TIGO_BAD_LENGTH;
    memcpy(out->header, p, SW_TIGO_STAR_HEADER_LEN);
    out->sequence = sw_be16(p + 8);
    out->record_count = (n - SW_TIGO_STAR_HEADER_LEN) / SW_TIGO_STAR_RECORD_LEN;
    out->records = p + SW_TIGO_STAR_HEADER_LEN;
    return SW_OK;
}

sw_err sw_tigo_star_record_decode(const uint8_t *r, size_t n, sw_tigo_star_record *out)
{
    if (n != SW_TIGO_STAR_RECORD_LEN)
        return SW_ERR_TIGO_BAD_LENGTH;
    memcpy(out->raw, r, SW_TIGO_STAR_RECORD_LEN);
    out->byte0 = r[0];
    out->byte1 = r[1];
    out->slot = r[2];
    out->vin_raw = (uint16_t)((r[3] << 4) | (r[4] >> 4));
    out->iin_raw = (uint8_t)(((r[5] & 0x0F) << 4) | (r[6] >> 4));
    out->temp_raw = r[7];
    out->pwm_raw = r[8];
    out->vout_raw = (uint16_t)((((r[9] >> 6) & 1u) << 8) | r[11]);
    out->byte10 = r[10];
    return SW_OK;
}

void sw_tigo_star_response_record(const sw_tigo_star_response *r, size_t i, sw_tigo_star_record *out)
{
    (void)sw_tigo_star_record_decode(r->records + i * SW_TIGO_STAR_RECORD_LEN, SW_TIGO_STAR_RECORD_LEN, out);
}
