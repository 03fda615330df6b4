/*
 * bus.c: one Tigo bus's health detectors, fed from its observer (see health/bus.h).
 */
#include "health/bus.h"

#include <string.h>

void sw_health_bus_init(sw_health_bus *b, const sw_health_radio_config *radio, const sw_health_watchdog_config *wd,
                        const char *source)
{
    sw_health_radio_init(&b->radio, radio, source);
    sw_health_watchdog_init(&b->watchdog, wd, source);
    b->down_ns = 0;
}

void sw_health_bus_connected(sw_health_bus *b, bool connected, int64_t now_ns)
{
    /* What was measured while we were away is not the radio's loss. */
    if (connected && b->down_ns)
        sw_health_radio_blind(&b->radio, b->down_ns, now_ns);
    if (!connected && b->watchdog.connected)
        b->down_ns = now_ns;
    else if (connected)
        b->down_ns = 0;
    sw_health_watchdog_connected(&b->watchdog, connected, now_ns);
}

void sw_health_bus_transport(sw_health_bus *b, sw_model *m, const sw_tigo_transport_event *ev, int64_t now_ns)
{
    /* Reports wait in the gateway until the controller fetches them; a controller that paused (and a
     * gateway buffer that overflowed meanwhile) loses reports the radio delivered. */
    int64_t last = b->watchdog.last_request_ns;
    if (ev->kind == SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST && last && now_ns - last > SW_HEALTH_BUS_BLIND_NS)
        sw_health_radio_blind(&b->radio, last, now_ns);
    sw_health_watchdog_transport(&b->watchdog, m, ev, now_ns);
    sw_health_radio_transport(&b->radio, ev);
}

void sw_health_bus_power(sw_health_bus *b, const sw_tigo_power_event *p, sw_panel_report *r)
{
    memset(r, 0, sizeof *r);
    r->time_ns = p->timestamp_ns;
    r->voltage_in = p->report->voltage_in;
    r->voltage_out = p->report->voltage_out;
    r->current_in = p->report->current;
    r->duty_cycle = p->report->duty_cycle;
    r->temperature_c = p->report->temperature;
    r->rssi = p->report->rssi;
    sw_panel_radio v;
    if (sw_health_radio_report(&b->radio, p->gateway, p->node, p->timestamp_ns, p->report->rssi, &v) != SW_OK)
        return;
    r->has_radio = true;
    r->loss_15m = v.loss_15m;
    r->loss_day = v.loss_day;
    r->rssi_trend = v.rssi_trend;
    r->next_hop = v.next_hop;
}

void sw_health_bus_power_stored(sw_health_bus *b, sw_model *m, const sw_tigo_power_event *p)
{
    sw_health_radio_judge(&b->radio, m, p->gateway, p->node, p->timestamp_ns);
}

/* A gateway's version and (when asked) node table, as the state has them, to the watchdog. */
static void gateway(sw_health_bus *b, sw_model *m, const sw_tigo_state *s, uint16_t gw, bool tables, bool initial,
                    int64_t now_ns)
{
    const sw_tigo_gateway_record *r = sw_tigo_state_gateway(s, gw);
    if (!r)
        return;
    if (r->has_version)
        sw_health_watchdog_version(&b->watchdog, m, gw, r->version, r->version_len, initial, now_ns);
    if (tables && r->has_node_table) {
        size_t n = 0;
        const sw_tigo_node_record *t = sw_tigo_state_gateway_nodes(s, gw, &n);
        sw_health_watchdog_node_table(&b->watchdog, m, gw, t, n, initial, now_ns);
    }
}

void sw_health_bus_infrastructure(sw_health_bus *b, sw_model *m, const sw_tigo_infrastructure_event *ev,
                                  int64_t now_ns)
{
    const sw_tigo_state *s = ev->state;
    if (ev->cause == SW_TIGO_INFRASTRUCTURE_ENUMERATION) {
        /* An enumeration replaces every gateway's identity and version at once. */
        for (uint32_t i = 0; i < s->n_gateways; i++)
            gateway(b, m, s, s->gateways[i].id, false, false, now_ns);
        return;
    }
    gateway(b, m, s, ev->gateway, ev->cause == SW_TIGO_INFRASTRUCTURE_NODE_TABLE, false, now_ns);
}

void sw_health_bus_state_loaded(sw_health_bus *b, sw_model *m, const sw_tigo_state *s, int64_t now_ns)
{
    for (uint32_t i = 0; i < s->n_gateways; i++)
        gateway(b, m, s, s->gateways[i].id, true, true, now_ns);
}

void sw_health_bus_tick(sw_health_bus *b, sw_model *m, int64_t now_ns)
{
    sw_health_watchdog_tick(&b->watchdog, m, now_ns);
    sw_health_radio_tick(&b->radio, m, now_ns);
}

int64_t sw_health_bus_next_ns(const sw_health_bus *b, int64_t now_ns)
{
    /* The radio needs no timer: its figures and judgements move with the reports. */
    return sw_health_watchdog_next_ns(&b->watchdog, now_ns);
}
