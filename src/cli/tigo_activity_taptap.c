/*
 * tigo_activity_taptap.c: `taptap peek-activity` messages exactly as taptap
 * logs them (Rust Debug renderings of its event types, spec §12.6).
 *
 * Used only in the taptap persona, so scripts that grep taptap's log keep
 * working; `sunwire tigo peek-activity` prints the readable lines of
 * tigo_format.h instead. Trusts the transport's events (frames CRC-checked,
 * lengths validated) and applies taptap's own acceptance rules on top: node 0
 * packets are ignored, power reports must be exactly 13 bytes, topology
 * reports exactly 22, string responses valid UTF-8.
 */
#include "cli/tigo_activity_taptap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_pv.h"

typedef struct sb {
    char *p;
    size_t cap, len;
} sb;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(sb *b, const char *fmt, ...)
{
    if (b->len >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    b->len += (size_t)n;
    if (b->len >= b->cap)
        b->len = b->cap - 1;
}

static void gateway(sb *b, uint16_t id) { put(b, "GatewayID(0x%02x)", id); }

static void node_address(sb *b, uint16_t a)
{
    if (a == 0)
        put(b, "NodeAddress::ZERO");
    else if (a == 1)
        put(b, "NodeAddress::GATEWAY");
    else
        put(b, "NodeAddress(0x%04X)", a);
}

static void packet_type(sb *b, uint8_t t)
{
    const char *name = sw_tigo_packet_type_name(t);
    if (name)
        put(b, "PacketType::%s", name);
    else
        put(b, "PacketType(0x%02X)", t);
}

static void long_address(sb *b, const uint8_t a[8])
{
    put(b, "LongAddress([");
    for (int i = 0; i < 8; i++)
        put(b, i ? ", 0x%02X" : "0x%02X", a[i]);
    put(b, "])");
}

static void bytes(sb *b, const uint8_t *p, size_t n)
{
    put(b, "[");
    for (size_t i = 0; i < n; i++)
        put(b, i ? ", %u" : "%u", p[i]);
    put(b, "]");
}

static void slot_counter(sb *b, uint16_t sc)
{
    if (sw_tigo_slot_valid(sc))
        put(b, "SlotCounter(%s, SlotNumber(%u))", sw_tigo_slot_epoch_name(sc), sw_tigo_slot_number(sc));
    else
        put(b, "SlotCounter(%s, Err(InvalidSlotNumber(%u)))", sw_tigo_slot_epoch_name(sc), sw_tigo_slot_number(sc));
}

/* Rust's Debug of a str: quotes, the usual backslash escapes, \u{..} for other controls. */
static void rust_str(sb *b, const char *s, size_t n)
{
    put(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': put(b, "\\\""); break;
        case '\\': put(b, "\\\\"); break;
        case '\n': put(b, "\\n"); break;
        case '\r': put(b, "\\r"); break;
        case '\t': put(b, "\\t"); break;
        case '\0': put(b, "\\0"); break;
        default:
            if (c < 0x20 || c == 0x7F)
                put(b, "\\u{%x}", c);
            else
                put(b, "%c", c);
        }
    }
    put(b, "\"");
}

void tigo_taptap_activity_init(tigo_taptap_activity *a) { memset(a, 0, sizeof *a); }

/* True when the slot counter should be reported: first for the gateway, or a new epoch/block. */
static bool slot_changed(tigo_taptap_activity *a, uint16_t gw, uint16_t sc)
{
    uint16_t key = (uint16_t)((sw_tigo_slot_epoch(sc) << 8) | (sw_tigo_slot_number(sc) / 1000u));
    for (uint32_t i = 0; i < a->n; i++) {
        if (a->gateway[i] == gw) {
            bool changed = a->block[i] != key;
            a->block[i] = key;
            return changed;
        }
    }
    if (a->n < TIGO_TAPTAP_ACTIVITY_GATEWAYS) {
        a->gateway[a->n] = gw;
        a->block[a->n] = key;
        a->n++;
    }
    return true;
}

static size_t pv_packet(sb *b, uint16_t gw, const sw_tigo_pv_packet *pk)
{
    if (pk->node_id == 0)
        return 0; /* taptap counts these as invalid and says nothing */
    if (pk->type == SW_TIGO_PT_STRING_RESPONSE) {
        if (!sw_utf8_valid(pk->data, pk->data_len))
            return 0;
        put(b, "string response: ");
        gateway(b, gw);
        put(b, " NodeID(0x%04X) ", pk->node_id);
        rust_str(b, (const char *)pk->data, pk->data_len);
        return b->len;
    }
    if (pk->type == SW_TIGO_PT_TOPOLOGY_REPORT) {
        sw_tigo_topology_report t;
        if (pk->data_len != SW_TIGO_TOPOLOGY_REPORT_LEN || sw_tigo_topology_report_decode(pk->data, pk->data_len, &t))
            return 0;
        put(b, "topology report: ");
        gateway(b, gw);
        put(b, " NodeID(0x%04X) TopologyReport { short_address: ShortAddress(0x%04X), pv_node_id: ", pk->node_id,
            t.short_address);
        node_address(b, t.node_id);
        put(b, ", next_hop: ");
        node_address(b, t.next_hop);
        put(b, ", unknown_1: ");
        bytes(b, t.unknown_1, 2);
        put(b, ", long_address: ");
        long_address(b, t.long_address);
        put(b, ", rssi: RSSI(%u), unknown_2: ", t.rssi);
        bytes(b, t.tail, t.tail_len);
        put(b, " }");
        return b->len;
    }
    if (pk->type == SW_TIGO_PT_POWER_REPORT) {
        if (pk->data_len != SW_TIGO_POWER_REPORT_LEN)
            return 0;
        const uint8_t *d = pk->data;
        put(b, "power report: ");
        gateway(b, gw);
        put(b, " NodeID(0x%04X) PowerReport { voltage_in_and_voltage_out: U12Pair(0x%03x, 0x%03x), "
               "dc_dc_duty_cycle: %u, current_and_temperature: U12Pair(0x%03x, 0x%03x), unknown: [%u, %u, %u], "
               "slot_counter: ",
            pk->node_id, sw_tigo_u12_first(d), sw_tigo_u12_second(d), d[3], sw_tigo_u12_first(d + 4),
            sw_tigo_u12_second(d + 4), d[7], d[8], d[9]);
        slot_counter(b, sw_be16(d + 10));
        put(b, ", rssi: RSSI(%u) }", d[12]);
        return b->len;
    }
    put(b, "packet received: ");
    gateway(b, gw);
    put(b, " ReceivedPacketHeader { packet_type: ");
    packet_type(b, pk->type);
    put(b, ", node_address: ");
    node_address(b, pk->node_id);
    put(b, ", short_address: ShortAddress(0x%04X), dsn: DSN(0x%02X), data_length: %u } ", pk->short_address, pk->dsn,
        pk->data_len);
    bytes(b, pk->data, pk->data_len);
    return b->len;
}

static size_t command(sb *b, uint16_t gw, const sw_tigo_command_request *rq, const sw_tigo_command_response *rs)
{
    if (rq->packet_type == SW_TIGO_PT_STRING_REQUEST) {
        sw_tigo_string_request s;
        if (sw_tigo_string_request_decode(rq->data, rq->data_len, &s))
            return 0;
        put(b, "string request: ");
        gateway(b, gw);
        put(b, " NodeID(0x%04X) ", s.node_id);
        rust_str(b, s.text, s.text_len);
        return b->len;
    }
    if (rq->packet_type == SW_TIGO_PT_NODE_TABLE_REQUEST) {
        uint16_t start;
        sw_tigo_node_table_response r;
        if (sw_tigo_node_table_request_decode(rq->data, rq->data_len, &start) ||
            rs->packet_type != SW_TIGO_PT_NODE_TABLE_RESPONSE ||
            sw_tigo_node_table_response_decode(rs->data, rs->data_len, &r))
            return 0;
        put(b, "node table page: ");
        gateway(b, gw);
        put(b, " start ");
        node_address(b, start);
        put(b, " [");
        for (size_t i = 0; i < r.count; i++) {
            sw_tigo_node_table_entry e;
            sw_tigo_node_table_entry_at(&r, i, &e);
            put(b, i ? ", NodeTableResponseEntry { long_address: " : "NodeTableResponseEntry { long_address: ");
            long_address(b, e.long_address);
            put(b, ", node_id: ");
            node_address(b, e.node_id);
            put(b, " }");
        }
        put(b, "]");
        return b->len;
    }
    put(b, "command executed: ");
    gateway(b, gw);
    put(b, " ");
    packet_type(b, rq->packet_type);
    put(b, " ");
    bytes(b, rq->data, rq->data_len);
    put(b, " => ");
    packet_type(b, rs->packet_type);
    put(b, " ");
    bytes(b, rs->data, rs->data_len);
    return b->len;
}

size_t tigo_taptap_activity_line(tigo_taptap_activity *a, const sw_tigo_transport_event *ev, char *out, size_t cap)
{
    if (!cap)
        return 0;
    sb b = { out, cap, 0 };
    out[0] = '\0';
    switch (ev->kind) {
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_STARTED:
        put(&b, "enumeration started (at ");
        gateway(&b, ev->gateway_id);
        put(&b, ")");
        return b.len;
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_IDENTITY:
        put(&b, "gateway identity observed: ");
        gateway(&b, ev->gateway_id);
        put(&b, " = ");
        long_address(&b, ev->u.identity.long_address);
        return b.len;
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_VERSION:
        put(&b, "gateway version observed: ");
        gateway(&b, ev->gateway_id);
        put(&b, " = ");
        rust_str(&b, ev->u.version.text, ev->u.version.len);
        return b.len;
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_ENDED:
        put(&b, "enumeration ended: ");
        gateway(&b, ev->gateway_id);
        return b.len;
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE: {
        uint16_t sc = ev->u.receive_response.response.slot_counter;
        if (!slot_changed(a, ev->gateway_id, sc))
            return 0;
        put(&b, "slot counter: ");
        gateway(&b, ev->gateway_id);
        put(&b, " ");
        slot_counter(&b, sc);
        return b.len;
    }
    case SW_TIGO_TRANSPORT_EVENT_PV_PACKET:
        return pv_packet(&b, ev->gateway_id, &ev->u.pv_packet.packet);
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED:
        return command(&b, ev->gateway_id, &ev->u.command.request, &ev->u.command.response);
    default:
        return 0;
    }
}
