/*
 * Display names of Tigo frame types, PV packet types and transport events.
 *
 * The frame and packet names are the ones taptap prints (peek-frames,
 * peek-activity), so the CLI can reproduce its output; types taptap does not
 * name give NULL and the caller prints the number.
 */
#include "sunwire/tigo_link.h"
#include "sunwire/tigo_pv.h"
#include "sunwire/tigo_transport.h"

const char *sw_tigo_frame_type_name(uint16_t type)
{
    switch (type) {
    case SW_TIGO_FT_RECEIVE_REQUEST: return "RECEIVE_REQUEST";
    case SW_TIGO_FT_RECEIVE_RESPONSE: return "RECEIVE_RESPONSE";
    case SW_TIGO_FT_COMMAND_REQUEST: return "COMMAND_REQUEST";
    case SW_TIGO_FT_COMMAND_RESPONSE: return "COMMAND_RESPONSE";
    case SW_TIGO_FT_PING_REQUEST: return "PING_REQUEST";
    case SW_TIGO_FT_PING_RESPONSE: return "PING_RESPONSE";
    case SW_TIGO_FT_ENUMERATION_START_REQUEST: return "ENUMERATION_START_REQUEST";
    case SW_TIGO_FT_ENUMERATION_START_RESPONSE: return "ENUMERATION_START_RESPONSE";
    case SW_TIGO_FT_ENUMERATION_REQUEST: return "ENUMERATION_REQUEST";
    case SW_TIGO_FT_ENUMERATION_RESPONSE: return "ENUMERATION_RESPONSE";
    case SW_TIGO_FT_ASSIGN_GATEWAY_ID_REQUEST: return "ASSIGN_GATEWAY_ID_REQUEST";
    case SW_TIGO_FT_ASSIGN_GATEWAY_ID_RESPONSE: return "ASSIGN_GATEWAY_ID_RESPONSE";
    case SW_TIGO_FT_IDENTIFY_REQUEST: return "IDENTIFY_REQUEST";
    case SW_TIGO_FT_IDENTIFY_RESPONSE: return "IDENTIFY_RESPONSE";
    case SW_TIGO_FT_VERSION_REQUEST: return "VERSION_REQUEST";
    case SW_TIGO_FT_VERSION_RESPONSE: return "VERSION_RESPONSE";
    case SW_TIGO_FT_ENUMERATION_END_REQUEST: return "ENUMERATION_END_REQUEST";
    case SW_TIGO_FT_ENUMERATION_END_RESPONSE: return "ENUMERATION_END_RESPONSE";
    default: return NULL;
    }
}

const char *sw_tigo_frame_type_describe(uint16_t type)
{
    const char *n = sw_tigo_frame_type_name(type);
    if (n)
        return n;
    switch (type) {
    case SW_TIGO_FT_STAR_REQUEST: return "STAR_REQUEST";
    case SW_TIGO_FT_STAR_RESPONSE: return "STAR_RESPONSE";
    case SW_TIGO_FT_UNKNOWN_0010: return "UNKNOWN_0010";
    case SW_TIGO_FT_UNKNOWN_0011: return "UNKNOWN_0011";
    default: return "UNKNOWN";
    }
}

const char *sw_tigo_packet_type_name(uint8_t type)
{
    switch (type) {
    case SW_TIGO_PT_STRING_REQUEST: return "STRING_REQUEST";
    case SW_TIGO_PT_STRING_RESPONSE: return "STRING_RESPONSE";
    case SW_TIGO_PT_TOPOLOGY_REPORT: return "TOPOLOGY_REPORT";
    case SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_REQUEST: return "GATEWAY_RADIO_CONFIGURATION_REQUEST";
    case SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_RESPONSE: return "GATEWAY_RADIO_CONFIGURATION_RESPONSE";
    case SW_TIGO_PT_PV_CONFIGURATION_REQUEST: return "PV_CONFIGURATION_REQUEST";
    case SW_TIGO_PT_PV_CONFIGURATION_RESPONSE: return "PV_CONFIGURATION_RESPONSE";
    case SW_TIGO_PT_BROADCAST: return "BROADCAST";
    case SW_TIGO_PT_BROADCAST_ACK: return "BROADCAST_ACK";
    case SW_TIGO_PT_NODE_TABLE_REQUEST: return "NODE_TABLE_REQUEST";
    case SW_TIGO_PT_NODE_TABLE_RESPONSE: return "NODE_TABLE_RESPONSE";
    case SW_TIGO_PT_LONG_NETWORK_STATUS_REQUEST: return "LONG_NETWORK_STATUS_REQUEST";
    case SW_TIGO_PT_NETWORK_STATUS_REQUEST: return "NETWORK_STATUS_REQUEST";
    case SW_TIGO_PT_NETWORK_STATUS_RESPONSE: return "NETWORK_STATUS_RESPONSE";
    case SW_TIGO_PT_POWER_REPORT: return "POWER_REPORT";
    default: return NULL;
    }
}

const char *sw_tigo_transport_event_kind_name(sw_tigo_transport_event_kind kind)
{
    switch (kind) {
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST: return "receive_request";
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE: return "receive_response";
    case SW_TIGO_TRANSPORT_EVENT_PV_PACKET: return "pv_packet";
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_REQUEST: return "command_request";
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED: return "command_executed";
    case SW_TIGO_TRANSPORT_EVENT_PING_REQUEST: return "ping_request";
    case SW_TIGO_TRANSPORT_EVENT_PING_RESPONSE: return "ping_response";
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_STARTED: return "enumeration_started";
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_START_RESPONSE: return "enumeration_start_response";
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_REQUEST: return "enumeration_request";
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_IDENTITY: return "gateway_identity_observed";
    case SW_TIGO_TRANSPORT_EVENT_ASSIGN_GATEWAY_ID_REQUEST: return "assign_gateway_id_request";
    case SW_TIGO_TRANSPORT_EVENT_ASSIGN_GATEWAY_ID_RESPONSE: return "assign_gateway_id_response";
    case SW_TIGO_TRANSPORT_EVENT_IDENTIFY_REQUEST: return "identify_request";
    case SW_TIGO_TRANSPORT_EVENT_VERSION_REQUEST: return "version_request";
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_VERSION: return "gateway_version_observed";
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_END_REQUEST: return "enumeration_end_request";
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_ENDED: return "enumeration_ended";
    case SW_TIGO_TRANSPORT_EVENT_STAR_REQUEST: return "star_request";
    case SW_TIGO_TRANSPORT_EVENT_STAR_RESPONSE: return "star_response";
    case SW_TIGO_TRANSPORT_EVENT_UNHANDLED_FRAME: return "unhandled_frame";
    case SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME: return "invalid_frame";
    }
    return "unknown";
}
