/*
 * watchdog.c: the bus and controller watchdog (see health/watchdog.h).
 */
#include "health/watchdog.h"

#include <stdio.h>
#include <string.h>

#include "sunwire/tigo_pv.h"

#define S_NS 1000000000LL

void sw_health_watchdog_config_default(sw_health_watchdog_config *c)
{
    c->controller_silent_ns = 60 * S_NS;
    c->node_table_hold_ns = 86400 * S_NS;
    c->firmware_hold_ns = 86400 * S_NS;
    c->nodes_missing_after = 2;
    c->pv_off_clear_ns = 120 * S_NS;
}

void sw_health_watchdog_init(sw_health_watchdog *w, const sw_health_watchdog_config *cfg, const char *source)
{
    memset(w, 0, sizeof *w);
    if (cfg)
        w->cfg = *cfg;
    else
        sw_health_watchdog_config_default(&w->cfg);
    snprintf(w->source, sizeof w->source, "%s", source ? source : "");
}

static sw_health_watchdog_gateway *gw_get(sw_health_watchdog *w, uint16_t id)
{
    sw_health_watchdog_gateway *free_slot = NULL;
    for (size_t i = 0; i < SW_HEALTH_WATCHDOG_MAX_GATEWAYS; i++) {
        if (w->gw[i].used && w->gw[i].id == id)
            return &w->gw[i];
        if (!w->gw[i].used && !free_slot)
            free_slot = &w->gw[i];
    }
    if (free_slot) {
        memset(free_slot, 0, sizeof *free_slot);
        free_slot->used = true;
        free_slot->id = id;
    }
    return free_slot;
}

static void gw_subject(const sw_health_watchdog *w, uint16_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%.56s/%u", w->source, (unsigned)id); /* source names are shorter (config.c) */
}

static void raise_gw(sw_health_watchdog *w, sw_model *m, sw_problem_kind k, uint16_t id, const char *reason,
                     int64_t now_ns)
{
    char subject[SW_MODEL_NAME_MAX];
    gw_subject(w, id, subject, sizeof subject);
    sw_model_problem_raise(m, k, w->source, subject, NULL, reason, now_ns);
}

static void clear_gw(sw_health_watchdog *w, sw_model *m, sw_problem_kind k, uint16_t id, int64_t now_ns)
{
    char subject[SW_MODEL_NAME_MAX];
    gw_subject(w, id, subject, sizeof subject);
    sw_model_problem_clear(m, k, w->source, subject, now_ns);
}

/* ---- the controller ------------------------------------------------------------------ */
void sw_health_watchdog_connected(sw_health_watchdog *w, bool connected, int64_t now_ns)
{
    if (connected && !w->connected) {
        w->connected_ns = now_ns;
        w->last_request_ns = 0;
    }
    w->connected = connected;
}

static void check_silence(sw_health_watchdog *w, sw_model *m, int64_t now_ns)
{
    if (!w->connected || w->silent)
        return;
    int64_t since = w->last_request_ns ? w->last_request_ns : w->connected_ns;
    if (now_ns - since < w->cfg.controller_silent_ns)
        return;
    char reason[SW_PROBLEM_REASON_MAX];
    if (w->last_request_ns)
        snprintf(reason, sizeof reason, "no receive request from the controller for %lld s",
                 (long long)((now_ns - since) / S_NS));
    else
        snprintf(reason, sizeof reason, "no receive request from the controller since the bus connected %lld s ago",
                 (long long)((now_ns - since) / S_NS));
    if (sw_model_problem_raise(m, SW_PROBLEM_CONTROLLER_SILENT, w->source, w->source, NULL, reason, now_ns) == SW_OK)
        w->silent = true;
}

/* ---- node tables ----------------------------------------------------------------------- */
static void set_ref(sw_health_watchdog_gateway *g, const sw_tigo_node_record *nodes, size_t n)
{
    if (n > SW_TIGO_MAX_NODES_PER_GATEWAY)
        n = SW_TIGO_MAX_NODES_PER_GATEWAY;
    for (size_t i = 0; i < n; i++)
        g->ref[i] = nodes[i].node_id;
    g->n_ref = (uint16_t)n;
    g->table_known = true;
}

void sw_health_watchdog_node_table(sw_health_watchdog *w, sw_model *m, uint16_t gateway,
                                   const sw_tigo_node_record *nodes, size_t n, bool initial, int64_t now_ns)
{
    sw_health_watchdog_gateway *g = gw_get(w, gateway);
    if (!g)
        return;
    if (n > SW_TIGO_MAX_NODES_PER_GATEWAY)
        n = SW_TIGO_MAX_NODES_PER_GATEWAY;
    g->n_now = (uint16_t)n;
    for (size_t i = 0; i < n; i++)
        g->now_ids[i] = nodes[i].node_id;
    if (initial || !g->table_known) {
        set_ref(g, nodes, n);
        return;
    }
    /* Which of the reference's nodes the new table lacks. */
    size_t lost = 0;
    char list[96] = "";
    size_t ll = 0;
    for (size_t i = 0; i < g->n_ref; i++) {
        bool present = false;
        for (size_t j = 0; j < n && !present; j++)
            present = nodes[j].node_id == g->ref[i];
        if (present)
            continue;
        if (lost < 8 && ll < sizeof list) {
            int k = snprintf(list + ll, sizeof list - ll, "%s%u", lost ? ", " : "", (unsigned)g->ref[i]);
            if (k > 0)
                ll += (size_t)k;
        } else if (lost == 8 && ll < sizeof list) {
            snprintf(list + ll, sizeof list - ll, ", ...");
            ll = sizeof list;
        }
        lost++;
    }
    if (n < g->n_ref && lost > 0) {
        char reason[SW_PROBLEM_REASON_MAX];
        snprintf(reason, sizeof reason, "node table lists %zu nodes, %u before; missing node %s", n,
                 (unsigned)g->n_ref, list);
        raise_gw(w, m, SW_PROBLEM_NODE_TABLE_SHRANK, gateway, reason, now_ns);
        if (!g->shrank)
            g->shrank_ns = now_ns;
        g->shrank = true;
        return;
    }
    /* As large as the reference again (or larger: new nodes): this is the table from now on. */
    set_ref(g, nodes, n);
    if (g->shrank) {
        clear_gw(w, m, SW_PROBLEM_NODE_TABLE_SHRANK, gateway, now_ns);
        g->shrank = false;
    }
}

/* ---- network status ---------------------------------------------------------------------- */
void sw_health_watchdog_network_status(sw_health_watchdog *w, sw_model *m, uint16_t gateway,
                                       const uint16_t counts[3], int64_t now_ns)
{
    sw_health_watchdog_gateway *g = gw_get(w, gateway);
    if (!g || !g->table_known || g->n_now == 0)
        return;
    uint16_t most = counts[0];
    for (int i = 1; i < 3; i++)
        if (counts[i] > most)
            most = counts[i];
    if (most >= g->n_now) {
        g->low_streak = 0;
        if (g->missing) {
            clear_gw(w, m, SW_PROBLEM_NODES_MISSING, gateway, now_ns);
            g->missing = false;
        }
        return;
    }
    if (++g->low_streak < (w->cfg.nodes_missing_after ? w->cfg.nodes_missing_after : 1) || g->missing)
        return;
    char reason[SW_PROBLEM_REASON_MAX];
    snprintf(reason, sizeof reason, "network status counts %u, %u and %u nodes; the node table has %u",
             (unsigned)counts[0], (unsigned)counts[1], (unsigned)counts[2], (unsigned)g->n_now);
    raise_gw(w, m, SW_PROBLEM_NODES_MISSING, gateway, reason, now_ns);
    g->missing = true;
}

/* ---- firmware ------------------------------------------------------------------------------- */
void sw_health_watchdog_version(sw_health_watchdog *w, sw_model *m, uint16_t gateway, const char *text, size_t len,
                                bool initial, int64_t now_ns)
{
    sw_health_watchdog_gateway *g = gw_get(w, gateway);
    if (!g || !text)
        return;
    /* The first line names the firmware ("Mgate Version G8.61"); the rest is its build date and parts. */
    size_t n = 0;
    while (n < len && text[n] != '\r' && text[n] != '\n' && text[n] != '\0')
        n++;
    char v[SW_MODEL_TEXT_MAX];
    snprintf(v, sizeof v, "%.*s", (int)n, text);
    if (!v[0])
        return;
    if (!g->has_version || initial) {
        snprintf(g->version, sizeof g->version, "%s", v);
        g->has_version = true;
        return;
    }
    if (strcmp(v, g->version) == 0)
        return;
    char reason[SW_PROBLEM_REASON_MAX];
    snprintf(reason, sizeof reason, "was \"%.60s\", now \"%.60s\"", g->version, v);
    raise_gw(w, m, SW_PROBLEM_FIRMWARE_CHANGED, gateway, reason, now_ns);
    g->fw_changed = true;
    g->fw_changed_ns = now_ns;
    snprintf(g->version, sizeof g->version, "%s", v);
}

/* ---- rapid shutdown ---------------------------------------------------------------------------- */
void sw_health_watchdog_pv_off(sw_health_watchdog *w, sw_model *m, bool off, int64_t now_ns)
{
    w->pv_off_asserted = off;
    if (off) {
        w->pv_on_ns = 0;
        if (!w->pv_off &&
            sw_model_problem_raise(m, SW_PROBLEM_PV_OFF, w->source, w->source, NULL,
                                   "the controller broadcasts PV off (rapid shutdown)", now_ns) == SW_OK)
            w->pv_off = true;
    } else if (w->pv_off && !w->pv_on_ns) {
        /* The controller lifts and re-asserts a lasting shutdown every hour: wait before believing it. */
        w->pv_on_ns = now_ns;
    }
}

/* ---- transport events and time ------------------------------------------------------------------ */
void sw_health_watchdog_transport(sw_health_watchdog *w, sw_model *m, const sw_tigo_transport_event *ev,
                                  int64_t now_ns)
{
    switch (ev->kind) {
    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_REQUEST:
        w->last_request_ns = now_ns;
        if (w->silent) {
            sw_model_problem_clear(m, SW_PROBLEM_CONTROLLER_SILENT, w->source, w->source, now_ns);
            w->silent = false;
        }
        break;
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_REQUEST: {
        const sw_tigo_command_request *q = &ev->u.command_request.request;
        sw_tigo_broadcast b;
        if (q->packet_type == SW_TIGO_PT_BROADCAST && sw_tigo_broadcast_decode(q->data, q->data_len, &b) == SW_OK &&
            !b.empty)
            sw_health_watchdog_pv_off(w, m, b.pv_off, now_ns);
        break;
    }
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED: {
        const sw_tigo_command_response *r = &ev->u.command.response;
        uint8_t qt = ev->u.command.request.packet_type;
        sw_tigo_network_status ns;
        if (r->packet_type == SW_TIGO_PT_NETWORK_STATUS_RESPONSE &&
            (qt == SW_TIGO_PT_NETWORK_STATUS_REQUEST || qt == SW_TIGO_PT_LONG_NETWORK_STATUS_REQUEST) &&
            sw_tigo_network_status_decode(r->data, r->data_len, &ns) == SW_OK)
            sw_health_watchdog_network_status(w, m, ev->gateway_id, ns.node_counts, now_ns);
        break;
    }
    default:
        break;
    }
}

void sw_health_watchdog_tick(sw_health_watchdog *w, sw_model *m, int64_t now_ns)
{
    check_silence(w, m, now_ns);
    if (w->pv_off && w->pv_on_ns && !w->pv_off_asserted && now_ns - w->pv_on_ns >= w->cfg.pv_off_clear_ns) {
        sw_model_problem_clear(m, SW_PROBLEM_PV_OFF, w->source, w->source, now_ns);
        w->pv_off = false;
        w->pv_on_ns = 0;
    }
    for (size_t i = 0; i < SW_HEALTH_WATCHDOG_MAX_GATEWAYS; i++) {
        sw_health_watchdog_gateway *g = &w->gw[i];
        if (!g->used)
            continue;
        if (g->fw_changed && now_ns - g->fw_changed_ns >= w->cfg.firmware_hold_ns) {
            clear_gw(w, m, SW_PROBLEM_FIRMWARE_CHANGED, g->id, now_ns);
            g->fw_changed = false;
        }
        if (g->shrank && now_ns - g->shrank_ns >= w->cfg.node_table_hold_ns) {
            /* The smaller table has lasted: it is the installation now (panels removed on purpose). */
            memcpy(g->ref, g->now_ids, g->n_now * sizeof g->ref[0]);
            g->n_ref = g->n_now;
            clear_gw(w, m, SW_PROBLEM_NODE_TABLE_SHRANK, g->id, now_ns);
            g->shrank = false;
        }
    }
}

static void earliest(int64_t *due, int64_t t)
{
    if (t < *due)
        *due = t;
}

int64_t sw_health_watchdog_next_ns(const sw_health_watchdog *w, int64_t now_ns)
{
    int64_t due = INT64_MAX;
    if (w->connected && !w->silent)
        earliest(&due, (w->last_request_ns ? w->last_request_ns : w->connected_ns) + w->cfg.controller_silent_ns);
    if (w->pv_off && w->pv_on_ns)
        earliest(&due, w->pv_on_ns + w->cfg.pv_off_clear_ns);
    for (size_t i = 0; i < SW_HEALTH_WATCHDOG_MAX_GATEWAYS; i++) {
        const sw_health_watchdog_gateway *g = &w->gw[i];
        if (g->used && g->fw_changed)
            earliest(&due, g->fw_changed_ns + w->cfg.firmware_hold_ns);
        if (g->used && g->shrank)
            earliest(&due, g->shrank_ns + w->cfg.node_table_hold_ns);
    }
    return due < now_ns ? now_ns : due;
}
