/*
 * Fuzz target: every Tigo decoder that takes a byte array on its own: frame
 * bodies, transport payloads of each frame type, PV packet splitting and every
 * PV application type, star request/response. The first input byte selects
 * the decoder so one corpus reaches all of them.
 */
#include <stdint.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    union {
        sw_tigo_frame frame;
        sw_tigo_receive_request rreq;
        sw_tigo_receive_response rrsp;
        sw_tigo_command_request creq;
        sw_tigo_command_response crsp;
        sw_tigo_identity id;
        sw_tigo_enumeration_start es;
        sw_tigo_assign_gateway_id ag;
        sw_tigo_star_request sreq;
        sw_tigo_star_response srsp;
        sw_tigo_app_message app;
        sw_tigo_pv_packet pkt;
    } u;
    uint8_t out[4 * 1024];
    size_t out_len;
    switch (sel % 12) {
    case 0: sw_tigo_link_parse_body(p, n, &u.frame); break;
    case 1: sw_tigo_receive_request_decode(p, n, &u.rreq); break;
    case 2: {
        size_t min_len;
        if (sw_tigo_receive_response_decode(p, n, 0x1234, (enum sw_tigo_status_check)(n & 1), &u.rrsp, &min_len) ==
            SW_OK) {
            size_t pos = 0;
            sw_tigo_pv_packet pkt;
            while (sw_tigo_pv_packet_next(u.rrsp.packets, u.rrsp.packets_len, &pos, &pkt) == SW_OK) {
                sw_tigo_app_message m;
                sw_tigo_app_decode(pkt.type, pkt.data, pkt.data_len, &m);
            }
        }
        break;
    }
    case 3: sw_tigo_command_request_decode(p, n, &u.creq); break;
    case 4: sw_tigo_command_response_decode(p, n, &u.crsp); break;
    case 5: sw_tigo_identity_decode(p, n, &u.id); break;
    case 6: sw_tigo_enumeration_start_decode(p, n, &u.es); break;
    case 7: sw_tigo_assign_gateway_id_decode(p, n, &u.ag); break;
    case 8:
        if (sw_tigo_star_response_decode(p, n, &u.srsp) == SW_OK) {
            for (size_t i = 0; i < u.srsp.record_count; i++) {
                sw_tigo_star_record r;
                sw_tigo_star_response_record(&u.srsp, i, &r);
            }
        }
        sw_tigo_star_request_decode(p, n, &u.sreq);
        break;
    case 9:
        if (n >= 1)
            sw_tigo_app_decode(p[0], p + 1, n - 1, &u.app);
        break;
    case 10:
        sw_tigo_link_escape(p, n, out, sizeof out, &out_len);
        sw_tigo_link_unescape(p, n, out, sizeof out, &out_len);
        break;
    case 11:
        if (n >= 4 && n - 4 <= SW_TIGO_LINK_MAX_PAYLOAD)
            sw_tigo_link_encode(sw_be16(p), sw_be16(p + 2), p + 4, n - 4, 0, out, sizeof out, &out_len);
        break;
    }
    return 0;
}
