/*
 * Tigo PV network packets and application payloads.
 *
 * Input is a byte range from a CRC-checked gateway frame: the packet region of
 * a receive response, or the data of a command request/response. Nothing else
 * about it is trusted; every decoder checks the length before it reads.
 * Where the sources leave a layout open (network status, PV configuration
 * response) the decoders keep the raw bytes next to the fields they split.
 */
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_pv.h"
#include "tigo/pv_internal.h"

sw_err sw_tigo_pv_packet_next(const uint8_t *region, size_t n, size_t *pos, sw_tigo_pv_packet *out)
{
    return sw_tigo_pv_packet_take(region, n, pos, out);
}

sw_err sw_tigo_power_report_decode(const uint8_t *d, size_t n, sw_tigo_power_report *out)
{
    return sw_tigo_power_report_split(d, n, out);
}

sw_err sw_tigo_topology_report_decode(const uint8_t *d, size_t n, sw_tigo_topology_report *out)
{
    if (n < SW_TIGO_TOPOLOGY_REPORT_MIN)
        return SW_ERR_TRUNCATED;
    out->short_address = sw_be16(d);
    out->node_id = sw_be16(d + 2);
    out->next_hop = sw_be16(d + 4);
    memcpy(out->unknown_1, d + 6, 2);
    memcpy(out->long_address, d + 8, 8);
    out->rssi = d[16];
    out->tail = d + 17;
    out->tail_len = n - 17;
    out->reference_length = n == SW_TIGO_TOPOLOGY_REPORT_LEN;
    return SW_OK;
}

sw_err sw_tigo_node_table_request_decode(const uint8_t *d, size_t n, uint16_t *start_index)
{
    if (n < 2)
        return SW_ERR_TRUNCATED;
    if (n > 2)
        return SW_ERR_TOO_LONG;
    *start_index = sw_be16(d);
    return SW_OK;
}

sw_err sw_tigo_node_table_response_decode(const uint8_t *d, size_t n, sw_tigo_node_table_response *out)
{
    if (n < 4)
        return SW_ERR_TRUNCATED;
    uint16_t count = sw_be16(d + 2);
    size_t need = 4 + (size_t)count * SW_TIGO_NODE_TABLE_ENTRY_LEN;
    if (n < need)
        return SW_ERR_TRUNCATED;
    if (n > need)
        return SW_ERR_TOO_LONG;
    out->start_index = sw_be16(d);
    out->count = count;
    out->entries = d + 4;
    return SW_OK;
}

void sw_tigo_node_table_entry_at(const sw_tigo_node_table_response *r, size_t i, sw_tigo_node_table_entry *out)
{
    const uint8_t *e = r->entries + i * SW_TIGO_NODE_TABLE_ENTRY_LEN;
    memcpy(out->long_address, e, 8);
    out->node_id = sw_be16(e + 8);
}

sw_err sw_tigo_network_status_decode(const uint8_t *d, size_t n, sw_tigo_network_status *out)
{
    if (n < 9)
        return SW_ERR_TRUNCATED;
    size_t off = n >= 11 ? 2 : 0;
    out->has_prefix = off != 0;
    out->prefix = off ? sw_be16(d) : 0;
    const uint8_t *c = d + off;
    out->unknown = c[0];
    out->counter = sw_be16(c + 1);
    for (int k = 0; k < 3; k++)
        out->node_counts[k] = sw_be16(c + 3 + 2 * k);
    out->tail = c + 9;
    out->tail_len = n - off - 9;
    return SW_OK;
}

sw_err sw_tigo_long_network_status_request_decode(const uint8_t *d, size_t n,
                                                  sw_tigo_long_network_status_request *out)
{
    if (n < 8)
        return SW_ERR_TRUNCATED;
    if (n > 8)
        return SW_ERR_TOO_LONG;
    memcpy(out->unknown, d, 3);
    out->counter = sw_be16(d + 3);
    out->node_count = sw_be16(d + 5);
    out->unknown_tail = d[7];
    return SW_OK;
}

sw_err sw_tigo_radio_config_decode(const uint8_t *d, size_t n, sw_tigo_radio_config *out)
{
    if (n < SW_TIGO_RADIO_CONFIG_LEN)
        return SW_ERR_TRUNCATED;
    if (n > SW_TIGO_RADIO_CONFIG_LEN)
        return SW_ERR_TOO_LONG;
    out->unknown_0 = d[0];
    out->channel = d[1];
    out->pan_id = sw_be16(d + 2);
    out->cap = d[4];
    out->cfp = d[5];
    out->bop = d[6];
    out->iap = d[7];
    memcpy(out->unknown_1, d + 8, 7);
    memcpy(out->key, d + 15, 16);
    memcpy(out->unknown_2, d + 31, 6);
    return SW_OK;
}

sw_err sw_tigo_pv_config_request_decode(const uint8_t *d, size_t n, sw_tigo_pv_config_request *out)
{
    if (n < SW_TIGO_PV_CONFIG_REQUEST_LEN)
        return SW_ERR_TRUNCATED;
    if (n > SW_TIGO_PV_CONFIG_REQUEST_LEN)
        return SW_ERR_TOO_LONG;
    out->node_id = sw_be16(d);
    memcpy(out->unknown_1, d + 2, 2);
    out->report_packet_type = d[4];
    out->unknown_2 = d[5];
    out->period_slots = sw_be16(d + 6);
    out->phase_slots = sw_be16(d + 8);
    memcpy(out->unknown_3, d + 10, 14);
    return SW_OK;
}

sw_err sw_tigo_pv_config_response_decode(const uint8_t *d, size_t n, sw_tigo_pv_config_response *out)
{
    if (n < 6)
        return SW_ERR_TRUNCATED;
    out->unknown_0 = d[0];
    out->pan_id = sw_be16(d + 1);
    out->channel = d[3];
    memcpy(out->unknown_1, d + 4, 2);
    out->raw = d;
    out->raw_len = n;
    return SW_OK;
}

sw_err sw_tigo_broadcast_decode(const uint8_t *d, size_t n, sw_tigo_broadcast *out)
{
    if (n == 0) {
        out->empty = true;
        out->value = 0;
        out->pv_off = false;
        return SW_OK;
    }
    if (n < 2)
        return SW_ERR_TRUNCATED;
    if (n > 2)
        return SW_ERR_TOO_LONG;
    out->empty = false;
    out->value = sw_be16(d);
    out->pv_off = (out->value & 1u) != 0;
    return SW_OK;
}

sw_err sw_tigo_string_request_decode(const uint8_t *d, size_t n, sw_tigo_string_request *out)
{
    if (n < 2)
        return SW_ERR_TRUNCATED;
    if (!sw_utf8_valid(d + 2, n - 2))
        return SW_ERR_BAD_UTF8;
    out->node_id = sw_be16(d);
    out->text = (const char *)(d + 2);
    out->text_len = n - 2;
    return SW_OK;
}

sw_err sw_tigo_string_response_decode(const uint8_t *d, size_t n, const char **text, size_t *text_len)
{
    if (!sw_utf8_valid(d, n))
        return SW_ERR_BAD_UTF8;
    *text = (const char *)d;
    *text_len = n;
    return SW_OK;
}

sw_err sw_tigo_app_decode(uint8_t type, const uint8_t *d, size_t n, sw_tigo_app_message *out)
{
    sw_err e = SW_OK;
    sw_tigo_app_kind kind = SW_TIGO_APP_OTHER;
    memset(out, 0, sizeof *out);
    out->packet_type = type;
    out->raw = d;
    out->raw_len = n;
    switch (type) {
    case SW_TIGO_PT_POWER_REPORT:
        e = sw_tigo_power_report_decode(d, n, &out->u.power);
        kind = SW_TIGO_APP_POWER_REPORT;
        break;
    case SW_TIGO_PT_TOPOLOGY_REPORT:
        e = sw_tigo_topology_report_decode(d, n, &out->u.topology);
        kind = SW_TIGO_APP_TOPOLOGY_REPORT;
        break;
    case SW_TIGO_PT_STRING_REQUEST:
        e = sw_tigo_string_request_decode(d, n, &out->u.string_request);
        kind = SW_TIGO_APP_STRING_REQUEST;
        break;
    case SW_TIGO_PT_STRING_RESPONSE:
        e = sw_tigo_string_response_decode(d, n, &out->u.string_response.text, &out->u.string_response.len);
        kind = SW_TIGO_APP_STRING_RESPONSE;
        break;
    case SW_TIGO_PT_NODE_TABLE_REQUEST:
        e = sw_tigo_node_table_request_decode(d, n, &out->u.node_table_start);
        kind = SW_TIGO_APP_NODE_TABLE_REQUEST;
        break;
    case SW_TIGO_PT_NODE_TABLE_RESPONSE:
        e = sw_tigo_node_table_response_decode(d, n, &out->u.node_table);
        kind = SW_TIGO_APP_NODE_TABLE_RESPONSE;
        break;
    case SW_TIGO_PT_NETWORK_STATUS_REQUEST:
        kind = SW_TIGO_APP_NETWORK_STATUS_REQUEST;
        break;
    case SW_TIGO_PT_LONG_NETWORK_STATUS_REQUEST:
        e = sw_tigo_long_network_status_request_decode(d, n, &out->u.long_network_status);
        kind = SW_TIGO_APP_LONG_NETWORK_STATUS_REQUEST;
        break;
    case SW_TIGO_PT_NETWORK_STATUS_RESPONSE:
        e = sw_tigo_network_status_decode(d, n, &out->u.network_status);
        kind = SW_TIGO_APP_NETWORK_STATUS_RESPONSE;
        break;
    case SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_REQUEST:
        kind = SW_TIGO_APP_RADIO_CONFIG_REQUEST;
        break;
    case SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_RESPONSE:
        e = sw_tigo_radio_config_decode(d, n, &out->u.radio_config);
        kind = SW_TIGO_APP_RADIO_CONFIG_RESPONSE;
        break;
    case SW_TIGO_PT_PV_CONFIGURATION_REQUEST:
        e = sw_tigo_pv_config_request_decode(d, n, &out->u.pv_config_request);
        kind = SW_TIGO_APP_PV_CONFIG_REQUEST;
        break;
    case SW_TIGO_PT_PV_CONFIGURATION_RESPONSE:
        e = sw_tigo_pv_config_response_decode(d, n, &out->u.pv_config_response);
        kind = SW_TIGO_APP_PV_CONFIG_RESPONSE;
        break;
    case SW_TIGO_PT_BROADCAST:
        e = sw_tigo_broadcast_decode(d, n, &out->u.broadcast);
        kind = SW_TIGO_APP_BROADCAST;
        break;
    case SW_TIGO_PT_BROADCAST_ACK:
        kind = SW_TIGO_APP_BROADCAST_ACK;
        break;
    case SW_TIGO_PT_UNKNOWN_41:
        kind = SW_TIGO_APP_UNKNOWN_41;
        break;
    default:
        break;
    }
    if (e != SW_OK) {
        memset(&out->u, 0, sizeof out->u);
        kind = SW_TIGO_APP_OTHER;
    }
    out->kind = kind;
    out->error = e;
    return e;
}
