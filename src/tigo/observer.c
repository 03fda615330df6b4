/*
 * observer.c: the Tigo observer (see sunwire/tigo_observer.h).
 *
 * Event handling follows taptap's observer step by step, because observe
 * output has to match it: the receive request's capture time paired with the
 * next response's slot counter drives a per-gateway slot clock, and
 * identities/versions seen during an enumeration replace the inventory only
 * when the enumeration ends. Where sunwire deliberately differs (safe node
 * table builder, fw-4.x report lengths, infrastructure events only on real
 * changes) a flag restores the reference behaviour.
 */
#include "sunwire/tigo_observer.h"

#include <stddef.h>
#include <string.h>

#include "tigo/pv_internal.h"
#include "tigo/slot_clock_internal.h"

const char *sw_tigo_diagnostic_name(sw_tigo_diagnostic_code code)
{
    switch (code) {
    case SW_TIGO_DIAGNOSTIC_NO_SLOT_CLOCK: return "no_slot_clock";
    case SW_TIGO_DIAGNOSTIC_INVALID_SLOT_COUNTER: return "invalid_slot_counter";
    case SW_TIGO_DIAGNOSTIC_CLOCK_REBUILT: return "clock_rebuilt";
    case SW_TIGO_DIAGNOSTIC_NODE_TABLE_ABANDONED: return "node_table_abandoned";
    case SW_TIGO_DIAGNOSTIC_EMPTY_NODE_TABLE_KEPT: return "empty_node_table_kept";
    case SW_TIGO_DIAGNOSTIC_CAPACITY: return "capacity";
    }
    return "unknown";
}

/* A stop request is kept in run.stop: the push checks it after each event
 * and returns it, so the handlers below need not pass it along. */
static void emit(sw_tigo_observer *o, const sw_tigo_observer_event *ev)
{
    if (o->run.on_event && !o->run.stop)
        o->run.stop = o->run.on_event(o, ev, o->run.user);
}

static void diag(sw_tigo_observer *o, sw_tigo_diagnostic_code code, uint16_t gw, uint16_t node, uint16_t sc)
{
    sw_tigo_observer_event ev;
    ev.kind = SW_TIGO_OBSERVER_DIAGNOSTIC;
    ev.u.diagnostic.code = code;
    ev.u.diagnostic.gateway = gw;
    ev.u.diagnostic.node = node;
    ev.u.diagnostic.slot_counter = sc;
    if (code == SW_TIGO_DIAGNOSTIC_CAPACITY)
        o->run.counters.capacity_drops++;
    emit(o, &ev);
}

static void infra(sw_tigo_observer *o, sw_tigo_infrastructure_cause cause, uint16_t gw, bool changed)
{
    if (!changed && !(o->run.flags & SW_TIGO_OBSERVER_REPORT_UNCHANGED))
        return;
    sw_tigo_observer_event ev;
    ev.kind = SW_TIGO_OBSERVER_INFRASTRUCTURE;
    ev.u.infrastructure.state = &o->state;
    ev.u.infrastructure.cause = cause;
    ev.u.infrastructure.gateway = gw;
    ev.u.infrastructure.changed = changed;
    o->run.counters.infrastructure_events++;
    emit(o, &ev);
}

/* ---- per-gateway timing state ------------------------------------------------ */

static sw_tigo_observer_gateway *gw_find(sw_tigo_observer *o, uint16_t id)
{
    for (size_t i = 0; i < SW_TIGO_OBSERVER_MAX_GATEWAYS; i++) {
        sw_tigo_observer_gateway *g = &o->run.gateways[i];
        if (g->used && g->id == id) {
            g->last_use = ++o->run.use_clock;
            return g;
        }
    }
    return NULL;
}

/* Find or create; a full table gives up its least recently used gateway. */
static sw_tigo_observer_gateway *gw_get(sw_tigo_observer *o, uint16_t id)
{
    sw_tigo_observer_gateway *g = gw_find(o, id);
    if (g)
        return g;
    size_t victim = 0;
    for (size_t i = 0; i < SW_TIGO_OBSERVER_MAX_GATEWAYS; i++) {
        if (!o->run.gateways[i].used) {
            victim = i;
            break;
        }
        if (o->run.gateways[i].last_use < o->run.gateways[victim].last_use)
            victim = i;
    }
    g = &o->run.gateways[victim];
    if (g->used)
        diag(o, SW_TIGO_DIAGNOSTIC_CAPACITY, g->id, 0, 0);
    memset(g, 0, sizeof *g);
    g->used = true;
    g->id = id;
    g->last_use = ++o->run.use_clock;
    sw_tigo_node_table_builder_init(&g->builder,
                     (o->run.flags & SW_TIGO_OBSERVER_REFERENCE_NODE_TABLE) ? SW_TIGO_NODE_TABLE_BUILDER_REFERENCE : SW_TIGO_NODE_TABLE_BUILDER_SAFE, id,
                     o->builder_store[victim], SW_TIGO_MAX_NODES_PER_GATEWAY);
    return g;
}

/* ---- transport events ------------------------------------------------------------ */

static void on_receive_response(sw_tigo_observer *o, uint16_t gw, const sw_tigo_receive_response *r)
{
    sw_tigo_observer_gateway *g = gw_find(o, gw);
    /* The packets of this response follow at once; nothing can change the
     * gateway's timing state or identity before the last of them. Indices,
     * not pointers, so the struct stays free to move. */
    o->run.resp_open = true;
    o->run.resp_gw_id = gw;
    o->run.resp_gw = g ? (int32_t)(g - o->run.gateways) : -1;
    const sw_tigo_gateway_record *gr = sw_tigo_state_gateway(&o->state, gw);
    o->run.resp_gw_state = gr && gr->has_address ? (int32_t)(gr - o->state.gateways) : -1;
    if (!g || !g->has_capture)
        return;
    g->has_capture = false;
    if (!g->clock.valid) {
        /* An invalid counter simply leaves the gateway without a clock. */
        sw_tigo_slot_clock_init(&g->clock, r->slot_counter, g->capture_ns);
        return;
    }
    bool rebuilt = false;
    if (sw_tigo_slot_clock_update(&g->clock, r->slot_counter, g->capture_ns, &rebuilt) == SW_OK && rebuilt)
        diag(o, SW_TIGO_DIAGNOSTIC_CLOCK_REBUILT, gw, 0, r->slot_counter);
}

static void on_power_report(sw_tigo_observer *o, uint16_t gw, const sw_tigo_pv_packet *p)
{
    sw_tigo_power_report rep;
    bool strict = (o->run.flags & SW_TIGO_OBSERVER_STRICT_POWER_LENGTH) != 0;
    if ((strict && p->data_len != SW_TIGO_POWER_REPORT_LEN) ||
        sw_tigo_power_report_split(p->data, p->data_len, &rep) != SW_OK) {
        o->run.counters.invalid_power_reports++;
        return;
    }
    o->run.counters.power_reports++;
    if (rep.extra_len)
        o->run.counters.extended_power_reports++;
    sw_tigo_observer_gateway *g;
    const uint8_t *gw_address;
    if (o->run.resp_open && o->run.resp_gw_id == gw) {
        g = o->run.resp_gw >= 0 ? &o->run.gateways[o->run.resp_gw] : NULL;
        gw_address = o->run.resp_gw_state >= 0 ? o->state.gateways[o->run.resp_gw_state].address : NULL;
    } else {
        /* A PV packet event pushed without its receive response. */
        g = gw_find(o, gw);
        const sw_tigo_gateway_record *gr = sw_tigo_state_gateway(&o->state, gw);
        gw_address = gr && gr->has_address ? gr->address : NULL;
    }
    if (!g || !g->clock.valid) {
        o->run.counters.reports_without_clock++;
        diag(o, SW_TIGO_DIAGNOSTIC_NO_SLOT_CLOCK, gw, p->node_id, rep.slot_counter);
        return;
    }
    int64_t t;
    if (sw_tigo_slot_clock_read(&g->clock, rep.slot_counter, &t) != SW_OK) {
        o->run.counters.reports_invalid_slot++;
        diag(o, SW_TIGO_DIAGNOSTIC_INVALID_SLOT_COUNTER, gw, p->node_id, rep.slot_counter);
        return;
    }
    sw_tigo_observer_event ev;
    ev.kind = SW_TIGO_OBSERVER_POWER_REPORT;
    sw_tigo_power_event *pe = &ev.u.power;
    pe->gateway = gw;
    pe->node = p->node_id;
    pe->timestamp_ns = t;
    pe->report = &rep;
    pe->short_address = p->short_address;
    pe->dsn = p->dsn;
    pe->gateway_address = gw_address;
    pe->node_address = o->state.n_nodes ? sw_tigo_state_node_address(&o->state, gw, p->node_id) : NULL;
    char barcode[SW_TIGO_BARCODE_MAX];
    pe->node_barcode = NULL;
    if (pe->node_address) {
        sw_tigo_barcode_format(pe->node_address, barcode);
        pe->node_barcode = barcode;
    }
    o->run.counters.power_reports_emitted++;
    emit(o, &ev);
    if (o->run.on_power && !o->run.stop) {
        sw_tigo_power_reading r;
        sw_tigo_power_reading_from_event(pe, &r);
        o->run.stop = o->run.on_power(o, &r, o->run.power_user);
    }
}

void sw_tigo_power_reading_from_event(const sw_tigo_power_event *ev, sw_tigo_power_reading *out)
{
    const sw_tigo_power_report *rep = ev->report;
    memset(out, 0, sizeof *out);
    out->gateway_id = ev->gateway;
    out->node_id = ev->node;
    out->short_address = ev->short_address;
    out->dsn = ev->dsn;
    out->rssi = rep->rssi;
    out->slot_counter = rep->slot_counter;
    out->timestamp_ns = ev->timestamp_ns;
    out->voltage_in = rep->voltage_in;
    out->voltage_out = rep->voltage_out;
    out->current = rep->current;
    out->temperature = rep->temperature;
    out->duty_cycle = rep->duty_cycle;
    if (ev->gateway_address) {
        out->has_gateway_address = true;
        memcpy(out->gateway_address, ev->gateway_address, 8);
    }
    if (ev->node_address) {
        out->has_node_address = true;
        memcpy(out->node_address, ev->node_address, 8);
    }
    if (ev->node_barcode) {
        size_t n = strlen(ev->node_barcode);
        if (n >= sizeof out->barcode)
            n = sizeof out->barcode - 1;
        memcpy(out->barcode, ev->node_barcode, n);
    }
}

static void on_pv_packet(sw_tigo_observer *o, uint16_t gw, const sw_tigo_pv_packet *p)
{
    if (p->node_id == SW_TIGO_NODE_BROADCAST) {
        o->run.counters.invalid_received_packet_node_ids++;
        return;
    }
    if (p->type == SW_TIGO_PT_POWER_REPORT)
        on_power_report(o, gw, p);
    /* Other packet types carry nothing the observer keeps. */
}

/* With no transport tap, the transport sends no event per PV packet (it only
 * counts them) and the observer walks the response's packets itself: one
 * call per response instead of one event per packet. A malformed tail is the
 * transport's to count. */
static void on_packets(sw_tigo_observer *o, uint16_t gw, const sw_tigo_receive_response *r)
{
    size_t pos = 0;
    sw_tigo_pv_packet p;
    while (!o->run.stop && sw_tigo_pv_packet_take(r->packets, r->packets_len, &pos, &p) == SW_OK)
        on_pv_packet(o, gw, &p);
}

/* Rare events (tables, identities, enumerations) stay out of line, so that
 * the per-packet path through on_transport_event stays short. */
#define COLD __attribute__((noinline, cold))

COLD static void on_node_table_page(sw_tigo_observer *o, uint16_t gw, const sw_tigo_command_request *req,
                               const sw_tigo_command_response *resp)
{
    uint16_t start;
    sw_tigo_node_table_response nt;
    if (sw_tigo_node_table_request_decode(req->data, req->data_len, &start) != SW_OK ||
        sw_tigo_node_table_response_decode(resp->data, resp->data_len, &nt) != SW_OK) {
        o->run.counters.invalid_node_table_pages++;
        return;
    }
    o->run.counters.node_table_pages++;
    sw_tigo_observer_gateway *g = gw_get(o, gw);
    /* The builder's storage is a table of this struct: aim it again before
     * every use, so the observer keeps working after being copied or moved. */
    g->builder.entries = o->builder_store[g - o->run.gateways];
    /* The reference keys pages by the request's start index, not the response's. */
    sw_tigo_node_table_builder_result r = sw_tigo_node_table_builder_push(&g->builder, start, nt.entries, nt.count);
    if (r == SW_TIGO_NODE_TABLE_BUILDER_ABANDONED) {
        diag(o, SW_TIGO_DIAGNOSTIC_NODE_TABLE_ABANDONED, gw, 0, 0);
        return;
    }
    if (r != SW_TIGO_NODE_TABLE_BUILDER_COMPLETE)
        return;
    o->run.counters.node_tables_completed++;
    size_t n;
    const sw_tigo_node_record *t = sw_tigo_node_table_builder_table(&g->builder, &n);
    if (n == 0 && !(o->run.flags & SW_TIGO_OBSERVER_REFERENCE_NODE_TABLE)) {
        /* A walk that found nothing must not erase what earlier walks learnt. */
        size_t have;
        sw_tigo_state_gateway_nodes(&o->state, gw, &have);
        if (have) {
            diag(o, SW_TIGO_DIAGNOSTIC_EMPTY_NODE_TABLE_KEPT, gw, 0, 0);
            return;
        }
    }
    bool changed = false;
    if (sw_tigo_state_set_node_table(&o->state, gw, t, n, &changed) != SW_OK) {
        diag(o, SW_TIGO_DIAGNOSTIC_CAPACITY, gw, 0, 0);
        return;
    }
    infra(o, SW_TIGO_INFRASTRUCTURE_NODE_TABLE, gw, changed);
}

/* Record an identity or version collected during an enumeration. */
COLD static sw_tigo_gateway_record *enum_rec(sw_tigo_observer *o, uint16_t gw)
{
    for (size_t i = 0; i < o->run.n_enum; i++)
        if (o->run.enum_recs[i].id == gw)
            return &o->run.enum_recs[i];
    if (o->run.n_enum >= SW_TIGO_STATE_MAX_GATEWAYS) {
        diag(o, SW_TIGO_DIAGNOSTIC_CAPACITY, gw, 0, 0);
        return NULL;
    }
    sw_tigo_gateway_record *r = &o->run.enum_recs[o->run.n_enum++];
    memset(r, 0, sizeof *r);
    r->id = gw;
    return r;
}

COLD static void on_identity(sw_tigo_observer *o, uint16_t gw, const uint8_t addr[8])
{
    if (o->run.enumerating) {
        /* The temporary enumeration address is not a real gateway ID. */
        if (gw == o->run.enumeration_id)
            return;
        sw_tigo_gateway_record *r = enum_rec(o, gw);
        if (r) {
            memcpy(r->address, addr, 8);
            r->has_address = true;
        }
        return;
    }
    bool changed = false;
    if (sw_tigo_state_set_identity(&o->state, gw, addr, &changed) != SW_OK) {
        diag(o, SW_TIGO_DIAGNOSTIC_CAPACITY, gw, 0, 0);
        return;
    }
    infra(o, SW_TIGO_INFRASTRUCTURE_IDENTITY, gw, changed);
}

COLD static void on_version(sw_tigo_observer *o, uint16_t gw, const char *text, size_t len)
{
    if (len > SW_TIGO_VERSION_MAX) {
        diag(o, SW_TIGO_DIAGNOSTIC_CAPACITY, gw, 0, 0);
        return;
    }
    if (o->run.enumerating) {
        sw_tigo_gateway_record *r = enum_rec(o, gw);
        if (r) {
            memcpy(r->version, text, len);
            r->version[len] = '\0';
            r->version_len = (uint16_t)len;
            r->has_version = true;
        }
        return;
    }
    bool changed = false;
    if (sw_tigo_state_set_version(&o->state, gw, text, len, &changed) != SW_OK) {
        diag(o, SW_TIGO_DIAGNOSTIC_CAPACITY, gw, 0, 0);
        return;
    }
    infra(o, SW_TIGO_INFRASTRUCTURE_VERSION, gw, changed);
}

COLD static void on_enumeration_ended(sw_tigo_observer *o, uint16_t gw)
{
    if (!o->run.enumerating)
        return; /* the start was missed: nothing trustworthy was collected */
    o->run.enumerating = false;
    bool changed = false;
    if (sw_tigo_state_replace_inventory(&o->state, o->run.enum_recs, o->run.n_enum, &changed) != SW_OK) {
        diag(o, SW_TIGO_DIAGNOSTIC_CAPACITY, gw, 0, 0);
        return;
    }
    o->run.n_enum = 0;
    infra(o, SW_TIGO_INFRASTRUCTURE_ENUMERATION, gw, changed);
}

/* The transport is a member of the observer: the observer is found from its
 * address, not from a stored pointer, so the struct may move. */
static int on_transport_event(sw_tigo_transport *t, const sw_tigo_transport_event *ev, void *user)
{
    (void)user;
    sw_tigo_observer *o = (sw_tigo_observer *)(void *)((char *)t - offsetof(sw_tigo_observer, run.stack.transport));
    if (o->run.on_transport_event) {
        o->run.stop = o->run.on_transport_event(t, ev, o->run.transport_user);
        if (o->run.stop)
            return o->run.stop;
    }
    uint16_t gw = ev->gateway_id;
    if (ev->kind != SW_TIGO_TRANSPORT_EVENT_PV_PACKET)
        o->run.resp_open = false;
    switch (ev->kind) {
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST: {
        sw_tigo_observer_gateway *g = gw_get(o, gw);
        g->has_capture = true;
        g->capture_ns = o->run.now_ns;
        break;
    }
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE:
        on_receive_response(o, gw, &ev->u.receive_response.response);
        if (!sw_tigo_transport_packet_events(t))
            on_packets(o, gw, &ev->u.receive_response.response);
        break;
    case SW_TIGO_TRANSPORT_EVENT_PV_PACKET:
        on_pv_packet(o, gw, &ev->u.pv_packet.packet);
        break;
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED:
        if (!(o->run.flags & SW_TIGO_OBSERVER_IGNORE_NODE_TABLES) &&
            ev->u.command.request.packet_type == SW_TIGO_PT_NODE_TABLE_REQUEST &&
            ev->u.command.response.packet_type == SW_TIGO_PT_NODE_TABLE_RESPONSE)
            on_node_table_page(o, gw, &ev->u.command.request, &ev->u.command.response);
        break;
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_IDENTITY:
        on_identity(o, gw, ev->u.identity.long_address);
        break;
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_VERSION:
        on_version(o, gw, ev->u.version.text, ev->u.version.len);
        break;
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_STARTED:
        /* Every start, repeated ones included, begins a fresh collection. */
        o->run.enumerating = true;
        o->run.enumeration_id = gw;
        o->run.n_enum = 0;
        break;
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_ENDED:
        on_enumeration_ended(o, gw);
        break;
    default:
        break;
    }
    return o->run.stop;
}

/* ---- public API ------------------------------------------------------------------------- */

void sw_tigo_observer_init(sw_tigo_observer *o, unsigned flags, sw_tigo_observer_event_cb on_event, void *user)
{
    /* Only the run part is cleared: see the struct. */
    memset(&o->run, 0, sizeof o->run);
    o->run.flags = flags;
    o->run.on_event = on_event;
    o->run.user = user;
    o->run.resp_gw = -1;
    o->run.resp_gw_state = -1;
    unsigned tflags = 0;
    if (flags & SW_TIGO_OBSERVER_STRICT_STATUS)
        tflags |= SW_TIGO_TRANSPORT_STRICT_STATUS;
    sw_tigo_stack_init(&o->run.stack,
                       (flags & SW_TIGO_OBSERVER_REFERENCE_LINK) ? SW_TIGO_LINK_MODE_REFERENCE : SW_TIGO_LINK_MODE_IMPROVED,
                       tflags, on_transport_event, NULL);
    /* No PV packet events until a transport tap wants them: see on_packets. */
    sw_tigo_transport_set_packet_events(&o->run.stack.transport, false);
    sw_tigo_state_init(&o->state);
}

int sw_tigo_observer_push(sw_tigo_observer *o, const uint8_t *bytes, size_t n, int64_t now_ns, size_t *used)
{
    o->run.now_ns = now_ns;
    o->run.stop = 0;
    return sw_tigo_stack_push(&o->run.stack, bytes, n, used);
}

int sw_tigo_observer_push_frame(sw_tigo_observer *o, const sw_tigo_frame *frame, int64_t now_ns)
{
    o->run.now_ns = now_ns;
    o->run.stop = 0;
    if (o->run.stack.on_frame) {
        int stop = o->run.stack.on_frame(&o->run.stack.link, frame, o->run.stack.frame_user);
        if (stop)
            return stop;
    }
    return sw_tigo_transport_push(&o->run.stack.transport, frame);
}

sw_tigo_state *sw_tigo_observer_state(sw_tigo_observer *o) { return &o->state; }
bool sw_tigo_observer_enumerating(const sw_tigo_observer *o) { return o->run.enumerating; }

const sw_tigo_link_counters *sw_tigo_observer_get_link_counters(const sw_tigo_observer *o)
{
    return &o->run.stack.link.counters;
}

const sw_tigo_transport_counters *sw_tigo_observer_get_transport_counters(const sw_tigo_observer *o)
{
    return &o->run.stack.transport.counters;
}

const sw_tigo_observer_counters *sw_tigo_observer_get_counters(const sw_tigo_observer *o) { return &o->run.counters; }

void sw_tigo_observer_set_frame_tap(sw_tigo_observer *o, sw_tigo_frame_cb cb, void *user)
{
    o->run.stack.on_frame = cb;
    o->run.stack.frame_user = user;
}

void sw_tigo_observer_set_transport_tap(sw_tigo_observer *o, sw_tigo_transport_event_cb cb, void *user)
{
    o->run.on_transport_event = cb;
    o->run.transport_user = user;
    /* A tap sees every PV packet as its own event, and the observer then
     * handles each packet as its event passes (same order as the tap). */
    sw_tigo_transport_set_packet_events(&o->run.stack.transport, cb != NULL);
}

void sw_tigo_observer_set_power_cb(sw_tigo_observer *o, sw_tigo_power_cb cb, void *user)
{
    o->run.on_power = cb;
    o->run.power_user = user;
}
