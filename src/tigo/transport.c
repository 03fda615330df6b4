/*
 * Tigo gateway transport layer.
 *
 * Trusts from the link layer only that a frame's CRC matched: direction,
 * lengths and contents are all checked here, and a frame that fails is
 * counted (and reported as an INVALID_FRAME event), never acted upon.
 * Per-gateway state lives in two fixed tables inside sw_tigo_transport, so a
 * bus that invents gateway IDs or sequence numbers can evict entries but can
 * never make the struct grow.
 */
#include <stddef.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_transport.h"
#include "tigo/pv_internal.h"

/* ---- pure decoders ----------------------------------------------------------------- */
sw_err sw_tigo_receive_request_decode(const uint8_t *p, size_t n, sw_tigo_receive_request *out)
{
    if (n < 5)
        return SW_ERR_TRUNCATED;
    if (n > 5)
        return SW_ERR_TOO_LONG;
    memcpy(out->unknown_1, p, 2);
    out->packet_number = sw_be16(p + 2);
    out->unknown_2 = p[4];
    return SW_OK;
}

sw_err sw_tigo_receive_response_decode(const uint8_t *p, size_t n, uint16_t reference_pn,
                                       enum sw_tigo_status_check check, sw_tigo_receive_response *out,
                                       size_t *min_len)
{
    if (min_len)
        *min_len = 0;
    if (n < 2) {
        /* The reference reports the smallest possible response here. */
        if (min_len)
            *min_len = 5;
        return SW_ERR_TRUNCATED;
    }
    uint16_t status = sw_be16(p);
    if (check == SW_TIGO_STATUS_STRICT && (status & 0xFFE0u) != 0x00E0u)
        return SW_ERR_TIGO_UNKNOWN_STATUS;
    unsigned absent = status & 0x1Fu;
    size_t need = 2 + 1 + 2;
    need += !(absent & 0x01) + !(absent & 0x02) + 2u * !(absent & 0x04) + 2u * !(absent & 0x08) +
            !(absent & 0x10);
    if (n < need) {
        if (min_len)
            *min_len = need;
        return SW_ERR_TRUNCATED;
    }
    size_t i = 2;
    out->status = status;
    out->status_high = (uint8_t)(status >> 8);
    out->absent = (uint8_t)absent;
    out->has_rx_buffers_used = !(absent & 0x01);
    out->rx_buffers_used = out->has_rx_buffers_used ? p[i++] : 0;
    out->has_tx_buffers_free = !(absent & 0x02);
    out->tx_buffers_free = out->has_tx_buffers_free ? p[i++] : 0;
    out->has_unknown_a = !(absent & 0x04);
    memset(out->unknown_a, 0, 2);
    if (out->has_unknown_a) {
        memcpy(out->unknown_a, p + i, 2);
        i += 2;
    }
    out->has_unknown_b = !(absent & 0x08);
    memset(out->unknown_b, 0, 2);
    if (out->has_unknown_b) {
        memcpy(out->unknown_b, p + i, 2);
        i += 2;
    }
    out->packet_number_full = !(absent & 0x10);
    if (out->packet_number_full) {
        out->packet_number = sw_be16(p + i);
        i += 2;
    } else {
        uint8_t lo = p[i++];
        uint8_t hi = (uint8_t)(reference_pn >> 8);
        /* A low byte below the reference's means the counter passed a
         * multiple of 256; 8-bit arithmetic wraps 0xFF to 0x00 like the
         * reference's release build. */
        if (lo < (uint8_t)reference_pn)
            hi = (uint8_t)(hi + 1u);
        out->packet_number = (uint16_t)((hi << 8) | lo);
    }
    out->slot_counter = sw_be16(p + i);
    i += 2;
    out->packets = p + i;
    out->packets_len = n - i;
    return SW_OK;
}

sw_err sw_tigo_command_request_decode(const uint8_t *p, size_t n, sw_tigo_command_request *out)
{
    if (n < 5)
        return SW_ERR_TRUNCATED;
    memcpy(out->unknown, p, 3);
    out->packet_type = p[3];
    out->sequence = p[4];
    out->data = p + 5;
    out->data_len = n - 5;
    return SW_OK;
}

sw_err sw_tigo_command_response_decode(const uint8_t *p, size_t n, sw_tigo_command_response *out)
{
    if (n < 5)
        return SW_ERR_TRUNCATED;
    out->unknown_1 = p[0];
    out->tx_buffers_free = p[1];
    out->unknown_2 = p[2];
    out->packet_type = p[3];
    out->sequence = p[4];
    out->data = p + 5;
    out->data_len = n - 5;
    return SW_OK;
}

static sw_err exact(size_t n, size_t want)
{
    return n < want ? SW_ERR_TRUNCATED : n > want ? SW_ERR_TOO_LONG : SW_OK;
}

sw_err sw_tigo_identity_decode(const uint8_t *p, size_t n, sw_tigo_identity *out)
{
    sw_err e = exact(n, 10);
    if (e != SW_OK)
        return e;
    memcpy(out->long_address, p, 8);
    out->gateway_address = sw_be16(p + 8);
    return SW_OK;
}

sw_err sw_tigo_enumeration_start_decode(const uint8_t *p, size_t n, sw_tigo_enumeration_start *out)
{
    sw_err e = exact(n, 6);
    if (e != SW_OK)
        return e;
    memcpy(out->unknown, p, 4);
    out->enumeration_address = sw_be16(p + 4);
    return SW_OK;
}

sw_err sw_tigo_assign_gateway_id_decode(const uint8_t *p, size_t n, sw_tigo_assign_gateway_id *out)
{
    sw_err e = exact(n, 14);
    if (e != SW_OK)
        return e;
    memcpy(out->unknown, p, 4);
    memcpy(out->long_address, p + 4, 8);
    out->new_gateway_id = sw_be16(p + 12);
    return SW_OK;
}

/* ---- tables ------------------------------------------------------------------------ */
void sw_tigo_transport_init(sw_tigo_transport *t, unsigned flags, sw_tigo_transport_event_cb on_event, void *user)
{
    memset(t, 0, sizeof *t);
    t->flags = flags;
    t->on_event = on_event;
    t->user = user;
}

static sw_tigo_gateway_slot *gw_find(sw_tigo_transport *t, uint16_t id)
{
    /* A bus has a handful of gateways polled in turn; the last one is the
     * usual hit (its request just came in). */
    sw_tigo_gateway_slot *g = &t->gateways[t->last_gateway % SW_TIGO_MAX_GATEWAYS];
    if (g->used && g->gateway_id == id) {
        g->last_use = t->clock;
        return g;
    }
    for (size_t i = 0; i < SW_TIGO_MAX_GATEWAYS; i++) {
        g = &t->gateways[i];
        if (g->used && g->gateway_id == id) {
            g->last_use = t->clock;
            t->last_gateway = (uint32_t)i;
            return g;
        }
    }
    return NULL;
}

static sw_tigo_gateway_slot *gw_get(sw_tigo_transport *t, uint16_t id)
{
    sw_tigo_gateway_slot *g = gw_find(t, id);
    if (g)
        return g;
    sw_tigo_gateway_slot *victim = NULL;
    for (size_t i = 0; i < SW_TIGO_MAX_GATEWAYS; i++) {
        sw_tigo_gateway_slot *c = &t->gateways[i];
        if (!c->used) {
            victim = c;
            break;
        }
        if (!victim || c->last_use < victim->last_use)
            victim = c;
    }
    if (victim->used)
        t->counters.gateways_evicted++;
    memset(victim, 0, sizeof *victim);
    t->last_gateway = (uint32_t)(victim - t->gateways);
    victim->used = true;
    victim->gateway_id = id;
    victim->last_use = t->clock;
    return victim;
}

sw_err sw_tigo_transport_packet_number(const sw_tigo_transport *t, uint16_t gateway_id, uint16_t *pn)
{
    for (size_t i = 0; i < SW_TIGO_MAX_GATEWAYS; i++) {
        const sw_tigo_gateway_slot *g = &t->gateways[i];
        if (g->used && g->gateway_id == gateway_id && g->has_packet_number) {
            *pn = g->packet_number;
            return SW_OK;
        }
    }
    return SW_ERR_NOT_FOUND;
}

static sw_tigo_pending_command *pending_find(sw_tigo_transport *t, uint16_t gw, uint8_t seq)
{
    for (size_t i = 0; i < SW_TIGO_MAX_PENDING_COMMANDS; i++) {
        sw_tigo_pending_command *c = &t->pending[i];
        if (c->used && c->gateway_id == gw && c->sequence == seq)
            return c;
    }
    return NULL;
}

static void pending_store(sw_tigo_transport *t, uint16_t gw, const sw_tigo_command_request *req)
{
    sw_tigo_pending_command *slot = pending_find(t, gw, req->sequence);
    if (!slot) {
        for (size_t i = 0; i < SW_TIGO_MAX_PENDING_COMMANDS; i++) {
            sw_tigo_pending_command *c = &t->pending[i];
            if (!c->used) {
                slot = c;
                break;
            }
            if (!slot || c->stamp < slot->stamp)
                slot = c;
        }
        /* Requests whose response never comes would otherwise pile up. */
        if (slot->used)
            t->counters.pending_commands_evicted++;
    }
    slot->used = true;
    slot->gateway_id = gw;
    slot->sequence = req->sequence;
    slot->packet_type = req->packet_type;
    memcpy(slot->unknown, req->unknown, 3);
    slot->data_len = (uint8_t)req->data_len;
    memcpy(slot->data, req->data, req->data_len);
    slot->stamp = t->clock;
}

/* ---- frame handling ------------------------------------------------------------------ */
static int emit(sw_tigo_transport *t, sw_tigo_transport_event *ev)
{
    if (t->on_event)
        return t->on_event(t, ev, t->user);
    return 0;
}

static int emit_invalid(sw_tigo_transport *t, sw_tigo_transport_event *ev, sw_err e, size_t min_len)
{
    ev->kind = SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME;
    ev->u.invalid.error = e;
    ev->u.invalid.min_len = min_len;
    return emit(t, ev);
}

static int emit_simple(sw_tigo_transport *t, sw_tigo_transport_event *ev, sw_tigo_transport_event_kind kind,
                       uint64_t *counter)
{
    (*counter)++;
    ev->kind = kind;
    return emit(t, ev);
}

static int on_receive_response(sw_tigo_transport *t, const sw_tigo_frame *f, sw_tigo_transport_event *ev)
{
    sw_tigo_transport_counters *c = &t->counters;
    if (!sw_tigo_addr_is_from_gateway(f->address)) {
        c->invalid_receive_responses++;
        return emit_invalid(t, ev, SW_ERR_TIGO_WRONG_DIRECTION, 0);
    }
    sw_tigo_gateway_slot *g = gw_find(t, ev->gateway_id);
    if (!g || !g->has_packet_number) {
        /* Without a reference the packet number cannot be rebuilt. */
        c->receive_response_from_unknown_gateway++;
        return emit_invalid(t, ev, SW_ERR_TIGO_NO_REFERENCE, 0);
    }
    size_t min_len = 0;
    sw_tigo_receive_response *r = &ev->u.receive_response.response;
    enum sw_tigo_status_check check =
        (t->flags & SW_TIGO_TRANSPORT_STRICT_STATUS) ? SW_TIGO_STATUS_STRICT : SW_TIGO_STATUS_TOLERANT;
    sw_err e = sw_tigo_receive_response_decode(f->payload, f->payload_len, g->packet_number, check, r, &min_len);
    if (e != SW_OK) {
        c->invalid_receive_responses++;
        return emit_invalid(t, ev, e, min_len);
    }
    c->receive_responses++;
    if (r->status_high) {
        c->status_high_byte_nonzero++;
        c->last_status_high_byte = r->status_high;
    }
    if ((r->status & 0xE0u) != 0xE0u)
        c->status_low_bits_clear++;
    ev->u.receive_response.previous_packet_number = g->packet_number;
    g->packet_number = r->packet_number;
    ev->kind = SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE;
    int stop = emit(t, ev);
    if (stop)
        return stop;

    /* The response struct is overwritten by the packet events below. */
    const uint8_t *region = r->packets;
    size_t region_len = r->packets_len;
    uint16_t slot_counter = r->slot_counter, pn = r->packet_number;
    bool quiet = (t->flags & SW_TIGO_TRANSPORT_NO_PACKET_EVENTS) != 0;
    size_t pos = 0;
    uint16_t index = 0;
    for (;;) {
        /* Decoded straight into the event: copying a struct that was just
         * written field by field stalls on store forwarding. */
        e = sw_tigo_pv_packet_take(region, region_len, &pos, &ev->u.pv_packet.packet);
        if (e == SW_ERR_NOT_FOUND)
            break;
        if (e != SW_OK) {
            c->receive_packet_too_short++;
            break;
        }
        c->receive_packets++;
        if (quiet)
            continue;
        ev->kind = SW_TIGO_TRANSPORT_EVENT_PV_PACKET;
        ev->u.pv_packet.response_slot_counter = slot_counter;
        ev->u.pv_packet.response_packet_number = pn;
        ev->u.pv_packet.index = index++;
        stop = emit(t, ev);
        if (stop)
            return stop;
    }
    return 0;
}

static int on_command_request(sw_tigo_transport *t, const sw_tigo_frame *f, sw_tigo_transport_event *ev)
{
    sw_tigo_command_request *req = &ev->u.command_request.request;
    sw_err e = sw_tigo_addr_is_from_gateway(f->address) ? SW_ERR_TIGO_WRONG_DIRECTION
                                                         : sw_tigo_command_request_decode(f->payload,
                                                                                          f->payload_len, req);
    if (e != SW_OK) {
        t->counters.invalid_command_requests++;
        return emit_invalid(t, ev, e, 0);
    }
    sw_tigo_gateway_slot *g = gw_get(t, ev->gateway_id);
    bool again = g->has_last_sequence && g->last_sequence == req->sequence;
    if (again)
        t->counters.retransmitted_command_requests++;
    else
        t->counters.command_requests++;
    g->has_last_sequence = true;
    g->last_sequence = req->sequence;
    pending_store(t, ev->gateway_id, req);
    ev->kind = SW_TIGO_TRANSPORT_EVENT_COMMAND_REQUEST;
    ev->u.command_request.retransmitted = again;
    return emit(t, ev);
}

static int on_command_response(sw_tigo_transport *t, const sw_tigo_frame *f, sw_tigo_transport_event *ev)
{
    sw_tigo_command_response *resp = &ev->u.command.response;
    sw_err e = !sw_tigo_addr_is_from_gateway(f->address)
                   ? SW_ERR_TIGO_WRONG_DIRECTION
                   : sw_tigo_command_response_decode(f->payload, f->payload_len, resp);
    if (e != SW_OK) {
        t->counters.invalid_command_responses++;
        return emit_invalid(t, ev, e, 0);
    }
    sw_tigo_pending_command *p = pending_find(t, ev->gateway_id, resp->sequence);
    if (!p) {
        /* Its request was answered already (or never seen): a replay. */
        t->counters.retransmitted_command_responses++;
        return emit_invalid(t, ev, SW_ERR_TIGO_UNMATCHED_RESPONSE, 0);
    }
    t->counters.command_responses++;
    sw_tigo_command_request *req = &ev->u.command.request;
    memcpy(req->unknown, p->unknown, 3);
    req->packet_type = p->packet_type;
    req->sequence = p->sequence;
    req->data = p->data;
    req->data_len = p->data_len;
    p->used = false; /* data stays readable during the callback: nothing reuses the slot before it returns */
    ev->kind = SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED;
    return emit(t, ev);
}

int sw_tigo_transport_push(sw_tigo_transport *t, const sw_tigo_frame *f)
{
    sw_tigo_transport_counters *c = &t->counters;
    sw_tigo_transport_event ev;
    sw_err e;
    bool from_gw = sw_tigo_addr_is_from_gateway(f->address);

    t->clock++;
    memset(&ev, 0, sizeof ev);
    ev.gateway_id = sw_tigo_addr_gateway_id(f->address);
    ev.frame = f;

    switch (f->type) {
    case SW_TIGO_FT_RECEIVE_RESPONSE:
        return on_receive_response(t, f, &ev);
    case SW_TIGO_FT_RECEIVE_REQUEST:
        e = from_gw ? SW_ERR_TIGO_WRONG_DIRECTION
                    : sw_tigo_receive_request_decode(f->payload, f->payload_len, &ev.u.receive_request);
        if (e != SW_OK) {
            c->invalid_receive_request++;
            return emit_invalid(t, &ev, e, 0);
        }
        {
            sw_tigo_gateway_slot *g = gw_get(t, ev.gateway_id);
            g->has_packet_number = true;
            g->packet_number = ev.u.receive_request.packet_number;
        }
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST, &c->receive_requests);
    case SW_TIGO_FT_COMMAND_REQUEST:
        return on_command_request(t, f, &ev);
    case SW_TIGO_FT_COMMAND_RESPONSE:
        return on_command_response(t, f, &ev);
    case SW_TIGO_FT_PING_REQUEST:
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_PING_REQUEST, &c->ping_requests);
    case SW_TIGO_FT_PING_RESPONSE:
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_PING_RESPONSE, &c->ping_responses);
    case SW_TIGO_FT_ENUMERATION_START_REQUEST:
        e = f->address != 0 ? SW_ERR_TIGO_BAD_ADDRESS
                            : sw_tigo_enumeration_start_decode(f->payload, f->payload_len,
                                                               &ev.u.enumeration_start);
        if (e == SW_OK && sw_tigo_addr_is_from_gateway(ev.u.enumeration_start.enumeration_address))
            e = SW_ERR_TIGO_BAD_ADDRESS;
        if (e != SW_OK) {
            c->invalid_enumeration_start_request++;
            return emit_invalid(t, &ev, e, 0);
        }
        /* The interesting ID is the temporary one the gateways will answer at. */
        ev.gateway_id = ev.u.enumeration_start.enumeration_address;
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_ENUMERATION_STARTED, &c->enumeration_start_requests);
    case SW_TIGO_FT_ENUMERATION_START_RESPONSE:
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_ENUMERATION_START_RESPONSE, &c->enumeration_start_responses);
    case SW_TIGO_FT_ENUMERATION_REQUEST:
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_ENUMERATION_REQUEST, &c->enumeration_requests);
    case SW_TIGO_FT_ENUMERATION_RESPONSE:
    case SW_TIGO_FT_IDENTIFY_RESPONSE: {
        bool enumeration = f->type == SW_TIGO_FT_ENUMERATION_RESPONSE;
        e = !from_gw ? SW_ERR_TIGO_WRONG_DIRECTION
                     : sw_tigo_identity_decode(f->payload, f->payload_len, &ev.u.identity);
        if (e != SW_OK) {
            if (enumeration)
                c->invalid_enumeration_responses++;
            else
                c->invalid_identify_responses++;
            return emit_invalid(t, &ev, e, 0);
        }
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_GATEWAY_IDENTITY,
                    enumeration ? &c->enumeration_responses : &c->identify_responses);
    }
    case SW_TIGO_FT_ASSIGN_GATEWAY_ID_REQUEST:
        /* Counted like the reference whatever its shape; the fields are a bonus. */
        if (sw_tigo_assign_gateway_id_decode(f->payload, f->payload_len, &ev.u.assign_gateway_id) != SW_OK)
            memset(&ev.u.assign_gateway_id, 0, sizeof ev.u.assign_gateway_id);
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_ASSIGN_GATEWAY_ID_REQUEST, &c->assign_gateway_id_requests);
    case SW_TIGO_FT_ASSIGN_GATEWAY_ID_RESPONSE:
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_ASSIGN_GATEWAY_ID_RESPONSE, &c->assign_gateway_id_responses);
    case SW_TIGO_FT_IDENTIFY_REQUEST:
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_IDENTIFY_REQUEST, &c->identify_requests);
    case SW_TIGO_FT_VERSION_REQUEST:
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_VERSION_REQUEST, &c->version_requests);
    case SW_TIGO_FT_VERSION_RESPONSE:
        if (!from_gw)
            e = SW_ERR_TIGO_WRONG_DIRECTION;
        else if (f->payload_len == 0)
            e = SW_ERR_TRUNCATED;
        else if (!sw_utf8_valid(f->payload, f->payload_len))
            e = SW_ERR_BAD_UTF8;
        else
            e = SW_OK;
        if (e != SW_OK) {
            c->invalid_version_responses++;
            return emit_invalid(t, &ev, e, 0);
        }
        ev.u.version.text = (const char *)f->payload;
        ev.u.version.len = f->payload_len;
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_GATEWAY_VERSION, &c->version_responses);
    case SW_TIGO_FT_ENUMERATION_END_REQUEST:
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_ENUMERATION_END_REQUEST, &c->enumeration_end_requests);
    case SW_TIGO_FT_ENUMERATION_END_RESPONSE:
        if (!from_gw) {
            c->invalid_enumeration_end_responses++;
            return emit_invalid(t, &ev, SW_ERR_TIGO_WRONG_DIRECTION, 0);
        }
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_ENUMERATION_ENDED, &c->enumeration_end_responses);
    case SW_TIGO_FT_STAR_REQUEST:
        e = from_gw ? SW_ERR_TIGO_WRONG_DIRECTION
                    : sw_tigo_star_request_decode(f->payload, f->payload_len, &ev.u.star_request);
        if (e != SW_OK) {
            c->invalid_star_frames++;
            return emit_invalid(t, &ev, e, 0);
        }
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_STAR_REQUEST, &c->star_requests);
    case SW_TIGO_FT_STAR_RESPONSE:
        e = !from_gw ? SW_ERR_TIGO_WRONG_DIRECTION
                     : sw_tigo_star_response_decode(f->payload, f->payload_len, &ev.u.star_response);
        if (e != SW_OK) {
            c->invalid_star_frames++;
            return emit_invalid(t, &ev, e, 0);
        }
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_STAR_RESPONSE, &c->star_responses);
    default:
        c->last_unhandled_frame_type = f->type;
        return emit_simple(t, &ev, SW_TIGO_TRANSPORT_EVENT_UNHANDLED_FRAME, &c->unhandled_frame_type);
    }
}

void sw_tigo_transport_set_packet_events(sw_tigo_transport *t, bool on)
{
    if (on)
        t->flags &= ~(unsigned)SW_TIGO_TRANSPORT_NO_PACKET_EVENTS;
    else
        t->flags |= SW_TIGO_TRANSPORT_NO_PACKET_EVENTS;
}

bool sw_tigo_transport_packet_events(const sw_tigo_transport *t)
{
    return !(t->flags & SW_TIGO_TRANSPORT_NO_PACKET_EVENTS);
}

/* ---- link + transport --------------------------------------------------------------- */
/* The stack is found from the address of its link member, not from a stored
 * pointer, so the struct keeps working wherever it is copied to. */
static int stack_on_frame(sw_tigo_link_receiver *rx, const sw_tigo_frame *f, void *user)
{
    (void)user;
    sw_tigo_stack *s = (sw_tigo_stack *)(void *)((char *)rx - offsetof(sw_tigo_stack, link));
    if (s->on_frame) {
        int stop = s->on_frame(rx, f, s->frame_user);
        if (stop)
            return stop;
    }
    return sw_tigo_transport_push(&s->transport, f);
}

void sw_tigo_stack_init(sw_tigo_stack *s, sw_tigo_link_mode mode, unsigned flags, sw_tigo_transport_event_cb on_event,
                        void *user)
{
    memset(s, 0, sizeof *s);
    sw_tigo_link_receiver_init(&s->link, mode, stack_on_frame, NULL);
    sw_tigo_transport_init(&s->transport, flags, on_event, user);
}

int sw_tigo_stack_push(sw_tigo_stack *s, const uint8_t *data, size_t len, size_t *used)
{
    return sw_tigo_link_receiver_push(&s->link, data, len, used);
}
