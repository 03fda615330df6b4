/*
 * tigo/pv_internal.h: the two PV decoders on the per-report path, as inline
 * functions private to the library. The transport walks every packet of
 * every receive response and the observer decodes every power report, so
 * both compile these into their loops; sw_tigo_pv_packet_next() and
 * sw_tigo_power_report_decode() (pv.c) are the public wrappers around the
 * same code, documented in sunwire/tigo_pv.h.
 */
#ifndef SUNWIRE_TIGO_PV_INTERNAL_H
#define SUNWIRE_TIGO_PV_INTERNAL_H

#include <string.h>
#if defined(__SSE2__) && !defined(SW_PORTABLE) /* SW_PORTABLE: the code other CPUs run */
#include <emmintrin.h>
#define SW_PV_SSE2 1
#endif

#include "sunwire/core.h"
#include "sunwire/tigo_pv.h"

static inline sw_err sw_tigo_pv_packet_take(const uint8_t *region, size_t n, size_t *pos, sw_tigo_pv_packet *out)
{
    size_t p = *pos;
    if (p >= n)
        return SW_ERR_NOT_FOUND;
    size_t left = n - p;
    const uint8_t *h = region + p;
    if (left < SW_TIGO_PV_HEADER_LEN || left - SW_TIGO_PV_HEADER_LEN < h[6]) {
        *pos = n;
        return SW_ERR_TIGO_PACKET_TOO_SHORT;
    }
    out->type = h[0];
    out->node_id = sw_be16(h + 1);
    out->short_address = sw_be16(h + 3);
    out->dsn = h[5];
    out->data_len = h[6];
    out->data = h + SW_TIGO_PV_HEADER_LEN;
    *pos = p + SW_TIGO_PV_HEADER_LEN + h[6];
    return SW_OK;
}

static inline sw_err sw_tigo_power_report_split(const uint8_t *d, size_t n, sw_tigo_power_report *out)
{
    if (n < SW_TIGO_POWER_REPORT_LEN)
        return SW_ERR_TRUNCATED;
    if (n > SW_TIGO_POWER_REPORT_MAX_LEN)
        return SW_ERR_TOO_LONG;
    out->voltage_in_raw = sw_tigo_u12_first(d);
    out->voltage_out_raw = sw_tigo_u12_second(d);
    out->duty_cycle_raw = d[3];
    out->current_raw = sw_tigo_u12_first(d + 4);
    out->temperature_raw = sw_tigo_u12_second(d + 4);
    out->temperature_signed = (int16_t)(out->temperature_raw & 0x800 ? (int)out->temperature_raw - 4096
                                                                     : (int)out->temperature_raw);
    memcpy(out->unknown, d + 7, 3);
    out->slot_counter = sw_be16(d + 10);
    out->rssi = d[12];
    out->extra_len = (uint8_t)(n - SW_TIGO_POWER_REPORT_LEN);
    out->extra[0] = n > 13 ? d[13] : 0;
    out->extra[1] = n > 14 ? d[14] : 0;
    /* Division, not multiplication by the step: the doubles (and their JSON
     * text) must equal the reference's. IEEE division is correctly rounded
     * whether one or two lanes are divided at a time, so where SSE2 exists
     * the five divisions go as three, two of them paired. */
#if defined(SW_PV_SSE2)
    __m128d v = _mm_div_pd(_mm_set_pd((double)out->voltage_out_raw, (double)out->voltage_in_raw),
                           _mm_set_pd(10.0, 20.0));
    __m128d ct = _mm_div_pd(_mm_set_pd((double)out->temperature_signed, (double)out->current_raw),
                            _mm_set_pd(10.0, 200.0));
    _mm_storel_pd(&out->voltage_in, v);
    _mm_storeh_pd(&out->voltage_out, v);
    _mm_storel_pd(&out->current, ct);
    _mm_storeh_pd(&out->temperature, ct);
#else
    out->voltage_in = out->voltage_in_raw / 20.0;
    out->voltage_out = out->voltage_out_raw / 10.0;
    out->current = out->current_raw / 200.0;
    out->temperature = out->temperature_signed / 10.0;
#endif
    out->duty_cycle = out->duty_cycle_raw / 255.0;
    return SW_OK;
}

#endif
