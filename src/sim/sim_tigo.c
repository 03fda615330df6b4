/*
 * sim_tigo.c: the simulated Tigo bus (see sim/sim_tigo.h).
 *
 * The controller is a small scheduler: every gateway is polled on its own
 * grid (receive request / response), and between polls it works through a
 * queue of other exchanges (enumeration, identify, version, node-table pages,
 * network status, string and PV-configuration commands). Optimizers measure
 * on their slot-counter phase and their reports wait in the gateway's buffer
 * until a poll carries them out, a few per response, as a real TAP does.
 * Everything random is a hash of (seed, what, index), never a running PRNG,
 * so changing one part of the schedule does not reshuffle all other values.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sunwire/core.h"
#include "sim/sim_tigo.h"
#include "sunwire/tigo_pv.h"

#define SLOT_NS 5000000LL
#define BYTE_NS 260417LL /* 10 bits at 38400 baud */
#define ENUM_ADDR 0x1235u
#define NIGHT_SUN 0.02
#define MAX_PACKETS_PER_RESPONSE 4
#define MS 1000000LL

static const uint8_t enum_magic[4] = { 0x37, 0x24, 0x92, 0x66 };

enum task_kind {
    /* enumeration: run back to back, no polls in between */
    T_PING = 1,
    T_ENUM_START,
    T_ENUM_REQUEST, /* arg: gateway index that answers, 0xFFFF = nobody */
    T_ASSIGN,
    T_IDENTIFY,
    T_VERSION,
    T_ENUM_END,
    T_LAST_ENUM = T_ENUM_END,
    /* ordinary commands between polls */
    T_NODE_TABLE, /* arg: start index */
    T_NET_STATUS,
    T_LONG_NET_STATUS,
    T_STRING_VERSION, /* arg: node ID */
    T_STRING_INFO,
    T_PV_CONFIG,
    T_SINGLE_PING,
    T_RADIO_CONFIG,
    T_BROADCAST /* arg: the value broadcast to every node (bit 0: PV off) */
};

static uint64_t h(const sw_tigo_sim *s, uint64_t a, uint64_t b)
{
    return sw_sim_hash(s->cfg.day.seed ^ 0x7163AB5Eu, a, b);
}

static double unit(const sw_tigo_sim *s, uint64_t a, uint64_t b)
{
    return (double)(h(s, a, b) >> 11) / 9007199254740992.0;
}

void sw_tigo_sim_config_default(sw_tigo_sim_config *cfg, uint64_t seed, int64_t start_ns)
{
    memset(cfg, 0, sizeof *cfg);
    sw_sim_config_default(&cfg->day, seed);
    cfg->start_ns = start_ns;
    cfg->gateways = 1;
    cfg->panels = 10;
    cfg->firmware = SW_TIGO_SIM_FW_CLASSIC;
    cfg->clouds = true;
    cfg->panel_w = 400.0;
    cfg->poll_ms = 100;
}

/* ---- time bases ------------------------------------------------------------ */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t abs_slots(const sw_tigo_sim_gateway *g, int64_t t_ns)
{
    return floor_div(t_ns - g->origin_ns, SLOT_NS);
}

static uint16_t counter_of(int64_t abs)
{
    int64_t a = abs % 48000;
    if (a < 0)
        a += 48000;
    return (uint16_t)(((a / 12000) << 14) | (a % 12000));
}

uint16_t sw_tigo_sim_slot_counter(const sw_tigo_sim *s, unsigned gi, int64_t t_ns)
{
    if (gi >= s->cfg.gateways)
        return 0;
    return counter_of(abs_slots(&s->gw[gi], t_ns));
}

static int64_t measure_time(const sw_tigo_sim_gateway *g, const sw_tigo_sim_node *n, int64_t k)
{
    return g->origin_ns + ((int64_t)n->phase + k * (int64_t)SW_TIGO_SIM_REPORT_PERIOD) * SLOT_NS;
}

/* The day model changes slowly; sample it once per 5 s bucket (its battery integration is not free). */
static void sky(sw_tigo_sim *s, int64_t t_ns)
{
    int64_t bucket = floor_div(t_ns, 5000000000LL);
    if (bucket == s->sky_bucket)
        return;
    sw_sim_sample sm;
    sw_sim_sample_at(&s->cfg.day, bucket * 5, &sm);
    s->sky_bucket = bucket;
    s->sky_sun = sm.sun;
    s->sky_clouds = sm.clouds;
    s->sky_ambient = sm.temp_ambient_c;
}

/* ---- installation faults (sim/sim_faults.h) ------------------------------------ */
#define RADIO_RAMP_NS (600 * 1000 * MS)
#define PV_LIFT_EVERY_NS (3600 * 1000 * MS) /* a lasting PV off is lifted and re-asserted hourly */
#define PV_LIFT_NS (20 * 1000 * MS)         /* for this long */
#define RADIO_RSSI_DROP 40.0

/* How far the degrading radio of (gi, j) has gone at bus time t: 0 = sound, 1 = fully degraded. */
static double radio_ramp(const sw_tigo_sim *s, unsigned gi, unsigned j, int64_t t_ns, double *loss)
{
    *loss = 0.0;
    if (gi != 0 || j != 0)
        return 0.0;
    int64_t since = t_ns - s->cfg.start_ns;
    const sw_sim_fault *f = sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_RADIO, since);
    if (!f)
        return 0.0;
    double ramp = (double)(since - f->start_ns) / (double)RADIO_RAMP_NS;
    ramp = ramp > 1.0 ? 1.0 : ramp < 0.0 ? 0.0 : ramp;
    *loss = f->value * ramp;
    return ramp;
}

/* Whether node (gi, j) has vanished from its TAP's table at bus time t (the shrink fault). */
static bool node_gone(const sw_tigo_sim *s, unsigned gi, unsigned j, int64_t t_ns)
{
    if (gi != 0)
        return false;
    const sw_sim_fault *f = sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_SHRINK, t_ns - s->cfg.start_ns);
    if (!f)
        return false;
    unsigned n = (unsigned)f->value;
    if (n >= s->cfg.panels)
        n = s->cfg.panels - 1; /* a TAP keeps at least one node */
    return j >= s->cfg.panels - n;
}

static unsigned present_count(const sw_tigo_sim *s, unsigned gi, int64_t t_ns)
{
    unsigned c = 0;
    for (unsigned j = 0; j < s->cfg.panels; j++)
        c += !node_gone(s, gi, j, t_ns);
    return c;
}

static double join_threshold(unsigned j)
{
    return NIGHT_SUN + 0.004 * (double)(j % 8);
}

/* Hand an event to the callback, unless there is none or it asked to stop. */
static void tell(sw_tigo_sim *s, const sw_tigo_sim_event *ev)
{
    if (s->on_event && !s->stopped)
        s->stopped = s->on_event(s, ev, s->user);
}

/* ---- task queue ------------------------------------------------------------ */
static void push_task(sw_tigo_sim *s, uint8_t kind, unsigned gi, uint16_t arg, bool front)
{
    if (s->n_tasks == SW_TIGO_SIM_TASKS) {
        s->counters.queue_overflows++;
        return;
    }
    sw_tigo_sim_task t = { kind, (uint8_t)gi, arg };
    if (front) {
        s->task_head = (s->task_head + SW_TIGO_SIM_TASKS - 1) % SW_TIGO_SIM_TASKS;
        s->tasks[s->task_head] = t;
    } else {
        s->tasks[(s->task_head + s->n_tasks) % SW_TIGO_SIM_TASKS] = t;
    }
    s->n_tasks++;
}

static void queue_enumeration(sw_tigo_sim *s)
{
    unsigned n = s->cfg.gateways;
    push_task(s, T_PING, 0, 0, false);
    for (int i = 0; i < 3; i++)
        push_task(s, T_ENUM_START, 0, 0, false);
    for (unsigned g = 0; g < n; g++) {
        push_task(s, T_ENUM_REQUEST, g, (uint16_t)g, false);
        push_task(s, T_ASSIGN, g, 0, false);
    }
    push_task(s, T_ENUM_REQUEST, 0, 0xFFFF, false);
    for (unsigned g = 0; g < n; g++)
        push_task(s, T_IDENTIFY, g, 0, false);
    for (unsigned g = 0; g < n; g++)
        push_task(s, T_VERSION, g, 0, false);
    for (unsigned g = 0; g < n; g++)
        push_task(s, T_ENUM_END, g, 0, false);
    if (s->cfg.radio_config) /* the controller then reads each TAP's radio settings, key included */
        for (unsigned g = 0; g < n; g++)
            push_task(s, T_RADIO_CONFIG, g, 0, false);
    s->counters.enumerations++;
}

static void queue_sweep(sw_tigo_sim *s)
{
    for (unsigned g = 0; g < s->cfg.gateways; g++)
        push_task(s, T_NODE_TABLE, g, 0, false);
    s->counters.node_table_sweeps++;
}

/* ---- frames ------------------------------------------------------------------ */
static int64_t emit(sw_tigo_sim *s, int64_t start_ns, uint16_t address, uint16_t type, const uint8_t *payload,
                    size_t n)
{
    sw_tigo_sim_frame *f = &s->frames[(s->frame_head + s->n_frames) % SW_TIGO_SIM_FRAMES];
    size_t len = 0;
    if (s->n_frames == SW_TIGO_SIM_FRAMES ||
        sw_tigo_link_encode(address, type, payload, n, 0, f->bytes, sizeof f->bytes, &len) != SW_OK)
        return start_ns; /* cannot happen with the sizes used here; the frame is simply not sent */
    f->len = (uint16_t)len;
    f->t_ns = start_ns + (int64_t)len * BYTE_NS;
    int64_t since = start_ns - s->cfg.start_ns;
    if (sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_SILENT, since) ||
        (!sw_tigo_addr_is_from_gateway(address) &&
         sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_NO_CONTROLLER, since))) {
        f->len = 0; /* the frame takes its time on the bus, but the listener never hears it */
        s->counters.frames_withheld++;
    }
    s->n_frames++;
    s->counters.frames++;
    s->counters.bytes += len;
    return f->t_ns;
}

/* Gateways answer after a few ms of processing, never exactly alike. */
static int64_t turnaround(sw_tigo_sim *s, uint64_t what)
{
    return 6 * MS + (int64_t)(h(s, 0x7A4, what ^ s->counters.frames) % 8000000u);
}

/* ---- PV packets ------------------------------------------------------------ */
static sw_tigo_sim_packet *new_packet(sw_tigo_sim *s, sw_tigo_sim_gateway *g, int64_t ready, uint8_t type,
                                      uint16_t node)
{
    if (g->n_queue == SW_TIGO_SIM_QUEUE) {
        s->counters.queue_overflows++;
        return NULL;
    }
    /* keep the queue ordered by ready time, so a poll takes the oldest first */
    size_t i = g->n_queue;
    while (i > 0 && g->queue[i - 1].ready_ns > ready) {
        g->queue[i] = g->queue[i - 1];
        i--;
    }
    sw_tigo_sim_packet *p = &g->queue[i];
    memset(p, 0, sizeof *p);
    p->ready_ns = ready;
    p->type = type;
    p->node = node;
    g->n_queue++;
    return p;
}

static unsigned u12(double v, double scale)
{
    long r = lround(v * scale);
    return (unsigned)r & 0xFFFu;
}

void sw_tigo_sim_pack_report(const sw_tigo_sim_report *r, const uint8_t unknown[3], uint8_t out[13])
{
    unsigned vin = r->voltage_in_raw & 0xFFFu, vout = r->voltage_out_raw & 0xFFFu;
    unsigned cur = r->current_raw & 0xFFFu, temp = r->temperature_raw & 0xFFFu;
    out[0] = (uint8_t)(vin >> 4);
    out[1] = (uint8_t)(((vin & 0xFu) << 4) | (vout >> 8));
    out[2] = (uint8_t)vout;
    out[3] = r->duty_cycle_raw;
    out[4] = (uint8_t)(cur >> 4);
    out[5] = (uint8_t)(((cur & 0xFu) << 4) | (temp >> 8));
    out[6] = (uint8_t)temp;
    memcpy(out + 7, unknown, 3);
    sw_put_be16(out + 10, r->slot_counter);
    out[12] = r->rssi;
}

/* The value of the panel fault of `kind` on (gi, j) in force at t_ns; NAN when none is. */
static double panel_fault(const sw_tigo_sim *s, sw_sim_panel_fault_kind kind, unsigned gi, unsigned j, int64_t t_ns)
{
    for (size_t i = 0; i < s->cfg.n_panel_faults; i++) {
        const sw_sim_panel_fault *f = &s->cfg.panel_faults[i];
        if (f->kind == kind && f->gateway == gi && f->panel == j &&
            sw_sim_panel_fault_in_force(f, t_ns - s->cfg.start_ns))
            return f->value;
    }
    return NAN;
}

static void build_report(sw_tigo_sim *s, unsigned gi, unsigned j, int64_t k, int64_t t_ns, sw_tigo_sim_report *r)
{
    sw_tigo_sim_gateway *g = &s->gw[gi];
    sw_tigo_sim_node *node = &g->nodes[j];
    sky(s, t_ns);
    int64_t t_s = floor_div(t_ns, 1000000000LL);
    double sun = s->sky_sun / 0.9 > 1.0 ? 1.0 : s->sky_sun / 0.9;
    double irr = sun * (s->cfg.clouds ? s->sky_clouds : 1.0);
    uint32_t item = gi * SW_TIGO_SIM_MAX_PANELS + j;
    double f = sw_sim_item_factor(&s->cfg.day, t_s, item);
    double noise = unit(s, item, (uint64_t)k);
    if (s->cfg.shaded && j == 2) {
        double hours = (double)(((t_s + s->cfg.day.utc_offset_s) % 86400 + 86400) % 86400) / 3600.0;
        if (hours < 11.0 || hours > 15.5)
            irr *= 0.3; /* a chimney's shadow in the morning and the afternoon */
    }
    double soiled = panel_fault(s, SW_SIM_PANEL_SOILED, gi, j, t_ns);
    if (!isnan(soiled))
        irr *= soiled;
    double p = s->cfg.panel_w * irr * f;
    double temp = s->sky_ambient + 28.0 * irr + 0.6 * noise;
    double vin = irr > 0.0005 ? 29.0 + 5.5 * sqrt(irr) - 0.08 * (temp - 25.0) + 0.3 * noise : 2.0 * noise;
    if (vin < 0.0)
        vin = 0.0;
    double current = vin > 1.0 ? p / vin : 0.0;
    double duty = 1.0, vout = vin > 0.5 ? vin - 0.2 - 0.2 * noise : 0.0;
    if (s->cfg.shaded && j == 2 && irr < 0.3 * sun + 1e-9 && irr > 0.0) {
        duty = 0.72 + 0.06 * noise; /* bucking down to keep the string current */
        vout = vin * duty;
    }
    bool failing = s->cfg.failing && gi == 0 && j == s->cfg.panels - 1;
    if (failing) {
        duty = 0.0;
        vout = 0.0;
        current = 0.02 * noise;
        vin = irr > 0.0005 ? 38.0 + noise : 0.0; /* open circuit: the optimizer passes nothing */
    }
    double lost = panel_fault(s, SW_SIM_PANEL_DIODE, gi, j, t_ns);
    if (!isnan(lost) && irr > 0.0005) {
        /* a bypassed substring: its cells' voltage is gone, the string current still flows */
        vin *= (3.0 - lost) / 3.0;
        vout = vin > 0.5 ? vin - 0.2 - 0.2 * noise : 0.0;
    }
    if (!isnan(panel_fault(s, SW_SIM_PANEL_DEAD, gi, j, t_ns)) && irr > 0.0005) {
        /* a dead optimizer draws nothing: the panel sits at open circuit (about 1.2 x its MPP
         * voltage), the light it does not convert warms it a little */
        vin = vin * 1.2 + 0.2 * noise;
        current = 0.01 * noise;
        duty = 0.0;
        vout = 0.0;
        temp += 3.0 * irr;
    }
    double hotter = panel_fault(s, SW_SIM_PANEL_HOT, gi, j, t_ns);
    if (!isnan(hotter))
        temp += hotter;
    if (sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_PV_OFF, t_ns - s->cfg.start_ns)) {
        /* rapid shutdown: the optimizer lets nothing out, the panel sits at open circuit */
        if (irr > 0.0005)
            vin = vin * 1.2 + 0.2 * noise;
        current = 0.0;
        duty = 0.0;
        vout = 0.0;
    }
    memset(r, 0, sizeof *r);
    r->gateway = g->id;
    r->node = (uint16_t)(SW_TIGO_SIM_FIRST_NODE + j);
    r->measured_ns = t_ns;
    r->voltage_in_raw = (uint16_t)u12(vin, 20.0);
    r->voltage_out_raw = (uint16_t)u12(vout, 10.0);
    long d = lround(duty * 255.0);
    r->duty_cycle_raw = (uint8_t)(d < 0 ? 0 : d > 255 ? 255 : d);
    r->current_raw = (uint16_t)u12(current, 200.0);
    r->temperature_raw = (uint16_t)u12(temp, 10.0);
    r->rssi = (uint8_t)(105 + h(s, 0x55, item) % 60 + (uint64_t)(noise * 6.0));
    double radio_loss;
    double ramp = radio_ramp(s, gi, j, t_ns, &radio_loss);
    if (ramp > 0.0)
        r->rssi = (uint8_t)lround((double)r->rssi - RADIO_RSSI_DROP * ramp);
    r->slot_counter = counter_of(abs_slots(g, t_ns));
    if (node->has_last && !isnan(panel_fault(s, SW_SIM_PANEL_STUCK, gi, j, t_ns))) {
        /* stuck: the measurement is the last one again, bit for bit; only the slot counter (when it
         * was sent) and the signal (measured by the gateway) are new */
        r->voltage_in_raw = node->last.voltage_in_raw;
        r->voltage_out_raw = node->last.voltage_out_raw;
        r->duty_cycle_raw = node->last.duty_cycle_raw;
        r->current_raw = node->last.current_raw;
        r->temperature_raw = node->last.temperature_raw;
    }
    node->last = *r;
    node->has_last = true;
    static const uint8_t unknown_classic[3] = { 0x81, 0x00, 0x6E }, unknown_fw4[3] = { 0x92, 0x00, 0x64 };
    uint8_t *b = r->data;
    sw_tigo_sim_pack_report(r, s->cfg.firmware == SW_TIGO_SIM_FW_4 ? unknown_fw4 : unknown_classic, b);
    r->len = 13;
    if (s->cfg.firmware == SW_TIGO_SIM_FW_4) {
        b[13] = (uint8_t)(irr > 0.5 ? 0x03 : 0x02); /* opaque trailer, values as seen in the field */
        b[14] = 0x00;
        r->len = 15;
    }
}

static void node_join(sw_tigo_sim *s, unsigned gi, unsigned j, int64_t t_ns)
{
    sw_tigo_sim_gateway *g = &s->gw[gi];
    sw_tigo_sim_node *n = &g->nodes[j];
    uint16_t id = (uint16_t)(SW_TIGO_SIM_FIRST_NODE + j);
    n->online = true;
    n->next_measure_k = floor_div(abs_slots(g, t_ns) - n->phase, SW_TIGO_SIM_REPORT_PERIOD) + 1;
    sw_tigo_sim_packet *p = new_packet(s, g, t_ns + 300 * MS + (int64_t)(h(s, 0x70, id) % 900) * MS,
                                       SW_TIGO_PT_TOPOLOGY_REPORT, id);
    if (p) {
        uint8_t *d = p->data;
        sw_put_be16(d, n->short_address);
        sw_put_be16(d + 2, id);
        /* the first half hears the TAP directly, the rest hop through a neighbour (mesh) */
        sw_put_be16(d + 4, (uint16_t)(j < s->cfg.panels / 2 || j == 0 ? SW_TIGO_NODE_GATEWAY : (unsigned)id - 1u));
        d[6] = 0x00;
        d[7] = 0x02;
        memcpy(d + 8, n->address, 8);
        d[16] = (uint8_t)(140 + h(s, 0x71, id) % 60);
        d[17] = 0x01;
        d[18] = (uint8_t)(h(s, 0x72, id));
        d[19] = (uint8_t)(h(s, 0x73, id));
        d[20] = 0x08;
        d[21] = 0x00;
        p->len = SW_TIGO_TOPOLOGY_REPORT_LEN;
        s->counters.topology_reports++;
    }
    push_task(s, T_PV_CONFIG, gi, id, false);
    push_task(s, T_STRING_VERSION, gi, id, false);
    push_task(s, T_STRING_INFO, gi, id, false);
    sw_tigo_sim_event ev = { SW_TIGO_SIM_EV_NODE_JOINED, g->id, id, NULL };
    tell(s, &ev);
}

/* Bring nodes up or down with the light and collect measurements up to t. */
static void advance_nodes(sw_tigo_sim *s, unsigned gi, int64_t t_ns)
{
    sw_tigo_sim_gateway *g = &s->gw[gi];
    sky(s, t_ns);
    for (unsigned j = 0; j < s->cfg.panels; j++) {
        sw_tigo_sim_node *n = &g->nodes[j];
        bool lit = s->sky_sun > join_threshold(j) && !node_gone(s, gi, j, t_ns);
        if (lit && !n->online) {
            node_join(s, gi, j, t_ns);
        } else if (!lit && n->online) {
            n->online = false;
            sw_tigo_sim_event ev = { SW_TIGO_SIM_EV_NODE_LEFT, g->id, (uint16_t)(SW_TIGO_SIM_FIRST_NODE + j), NULL };
            tell(s, &ev);
        }
        if (!n->online)
            continue;
        for (;;) {
            int64_t tm = measure_time(g, n, n->next_measure_k);
            if (tm > t_ns)
                break;
            int64_t k = n->next_measure_k++;
            bool failing = s->cfg.failing && gi == 0 && j == s->cfg.panels - 1;
            if (failing && h(s, 0xFA11, (uint64_t)k) % 3 == 0)
                continue; /* a dying optimizer misses reports */
            double radio_loss;
            if (radio_ramp(s, gi, j, tm, &radio_loss) > 0.0 && unit(s, 0x4AD10, (uint64_t)k) < radio_loss)
                continue; /* the degrading radio loses it */
            int64_t delay = 150 * MS + (int64_t)(h(s, 0xDE1A, (uint64_t)k * 64 + j) % 1300) * MS;
            sw_tigo_sim_packet *p = new_packet(s, g, tm + delay, SW_TIGO_PT_POWER_REPORT,
                                               (uint16_t)(SW_TIGO_SIM_FIRST_NODE + j));
            if (!p)
                continue;
            build_report(s, gi, j, k, tm, &p->report);
            memcpy(p->data, p->report.data, p->report.len);
            p->len = p->report.len;
            p->is_report = true;
            s->counters.power_reports++;
        }
    }
}

/* ---- exchanges ----------------------------------------------------------------- */
static int64_t do_poll(sw_tigo_sim *s, unsigned gi, int64_t t)
{
    sw_tigo_sim_gateway *g = &s->gw[gi];
    advance_nodes(s, gi, t);
    uint8_t req[5] = { 0x00, 0x01, 0, 0, 0x04 };
    sw_put_be16(req + 2, g->packet_number);
    int64_t t1 = emit(s, t, g->id, SW_TIGO_FT_RECEIVE_REQUEST, req, sizeof req);

    int64_t latched = abs_slots(g, t1);
    size_t ready = 0;
    while (ready < g->n_queue && g->queue[ready].ready_ns <= t1)
        ready++;
    uint8_t hi = (uint8_t)(g->packet_number >> 8), lo = (uint8_t)g->packet_number;
    uint16_t status;
    if (g->polls % 16 == 0)
        status = 0x00E0; /* the periodic full status */
    else if (hi != g->last_full_hi)
        status = 0x00EE; /* the high byte moved: send it */
    else if (ready > 0)
        status = 0x00FE;
    else
        status = 0x00FF;
    if (s->cfg.firmware == SW_TIGO_SIM_FW_4) {
        int64_t cycles = floor_div(latched, 48000);
        status |= (uint16_t)((0x01u | ((unsigned)(cycles & 3) << 6)) << 8);
    }
    uint8_t p[SW_TIGO_LINK_MAX_PAYLOAD];
    size_t k = 0;
    sw_put_be16(p, status);
    k = 2;
    unsigned absent = status & 0x1Fu;
    if (!(absent & 0x01))
        p[k++] = (uint8_t)(g->n_queue > 255 ? 255 : g->n_queue);
    if (!(absent & 0x02))
        p[k++] = 0x0E;
    if (!(absent & 0x04)) {
        p[k++] = 0x00;
        p[k++] = 0x01;
    }
    if (!(absent & 0x08)) {
        p[k++] = 0x02;
        p[k++] = 0x00;
    }
    if (!(absent & 0x10)) {
        p[k++] = hi;
        g->last_full_hi = hi;
    }
    p[k++] = lo;
    sw_put_be16(p + k, counter_of(latched));
    k += 2;
    size_t carried = 0;
    while (carried < ready && carried < MAX_PACKETS_PER_RESPONSE &&
           k + SW_TIGO_PV_HEADER_LEN + g->queue[carried].len <= sizeof p) {
        const sw_tigo_sim_packet *q = &g->queue[carried];
        p[k] = q->type;
        sw_put_be16(p + k + 1, q->node);
        sw_put_be16(p + k + 3, g->nodes[q->node - SW_TIGO_SIM_FIRST_NODE].short_address);
        p[k + 5] = g->dsn;
        p[k + 6] = q->len;
        memcpy(p + k + 7, q->data, q->len);
        k += SW_TIGO_PV_HEADER_LEN + q->len;
        carried++;
    }
    int64_t t2 = emit(s, t1 + turnaround(s, gi), (uint16_t)(SW_TIGO_ADDR_FROM_GATEWAY | g->id),
                      SW_TIGO_FT_RECEIVE_RESPONSE, p, k);
    for (size_t i = 0; i < carried; i++) {
        const sw_tigo_sim_packet *q = &g->queue[i];
        if (q->type == SW_TIGO_PT_STRING_RESPONSE)
            s->counters.string_responses++;
        if (q->is_report) {
            sw_tigo_sim_event ev = { SW_TIGO_SIM_EV_REPORT_SENT, g->id, q->node, &q->report };
            tell(s, &ev);
        }
    }
    if (carried) {
        memmove(g->queue, g->queue + carried, (g->n_queue - carried) * sizeof g->queue[0]);
        g->n_queue -= carried;
        g->packet_number = (uint16_t)(g->packet_number + carried);
        g->dsn++;
    }
    g->polls++;
    s->counters.polls++;
    return t2;
}

static uint8_t next_sequence(sw_tigo_sim *s)
{
    s->sequence++;
    if (s->sequence == 0x00 || s->sequence == 0xFF)
        s->sequence = 0x01;
    return s->sequence;
}

/* A command request and its immediate response; returns the bus time after both. */
static int64_t command(sw_tigo_sim *s, unsigned gi, int64_t t, uint8_t type, const uint8_t *data, size_t n,
                       uint8_t resp_type, const uint8_t *rdata, size_t rn)
{
    sw_tigo_sim_gateway *g = &s->gw[gi];
    uint8_t req[SW_TIGO_LINK_MAX_PAYLOAD], resp[SW_TIGO_LINK_MAX_PAYLOAD];
    uint8_t seq = next_sequence(s);
    req[0] = req[1] = req[2] = 0;
    req[3] = type;
    req[4] = seq;
    if (n)
        memcpy(req + 5, data, n);
    int64_t t1 = emit(s, t, g->id, SW_TIGO_FT_COMMAND_REQUEST, req, 5 + n);
    resp[0] = 0x00;
    resp[1] = 0x0E; /* Tx buffers free */
    resp[2] = 0x00;
    resp[3] = resp_type;
    resp[4] = seq;
    if (rn)
        memcpy(resp + 5, rdata, rn);
    return emit(s, t1 + turnaround(s, type), (uint16_t)(SW_TIGO_ADDR_FROM_GATEWAY | g->id),
                SW_TIGO_FT_COMMAND_RESPONSE, resp, 5 + rn);
}

static unsigned online_count(const sw_tigo_sim *s, unsigned gi)
{
    unsigned c = 0;
    for (unsigned j = 0; j < s->cfg.panels; j++)
        c += s->gw[gi].nodes[j].online;
    return c;
}

static const char version_classic[] = "Mgate Version G8.61\rMar 14 2023\r09:12:40\rGW-H158.4.3S0.12\r";
static const char version_fw4[] = "Mgate Version G8.65\rMay  6 2025\r14:03:27\rGW-H158.4.3S0.12\r";
static const char version_updated[] = "Mgate Version G8.72\rNov 18 2025\r10:41:05\rGW-H158.4.3S0.12\r";

void sw_tigo_sim_radio_key(const sw_tigo_sim *s, unsigned gateway_index, uint8_t key[16])
{
    /* one key per network: every TAP of one bus shares it */
    (void)gateway_index;
    for (unsigned k = 0; k < 16; k += 8) {
        uint64_t v = h(s, 0x4B5E, k);
        for (unsigned j = 0; j < 8; j++)
            key[k + j] = (uint8_t)(v >> (8 * j));
    }
}

const char *sw_tigo_sim_gateway_version(const sw_tigo_sim *s)
{
    return s->cfg.firmware == SW_TIGO_SIM_FW_4 ? version_fw4 : version_classic;
}

const char *sw_tigo_sim_gateway_version_at(const sw_tigo_sim *s, unsigned gateway_index, int64_t t_ns)
{
    if (gateway_index == 0 && sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_FIRMWARE, t_ns - s->cfg.start_ns))
        return version_updated;
    return sw_tigo_sim_gateway_version(s);
}

static int64_t run_task(sw_tigo_sim *s, const sw_tigo_sim_task *task, int64_t t)
{
    unsigned gi = task->gateway;
    sw_tigo_sim_gateway *g = &s->gw[gi];
    uint16_t from_gw = (uint16_t)(SW_TIGO_ADDR_FROM_GATEWAY | g->id);
    uint8_t p[SW_TIGO_LINK_MAX_PAYLOAD];
    int64_t t1;
    switch (task->kind) {
    case T_PING:
    case T_SINGLE_PING:
        p[0] = 0x01;
        t1 = emit(s, t, g->id, SW_TIGO_FT_PING_REQUEST, p, 1);
        return emit(s, t1 + turnaround(s, 1), from_gw, SW_TIGO_FT_PING_RESPONSE, p, 1);
    case T_ENUM_START:
        memcpy(p, enum_magic, 4);
        sw_put_be16(p + 4, ENUM_ADDR);
        t1 = emit(s, t, 0x0000, SW_TIGO_FT_ENUMERATION_START_REQUEST, p, 6);
        return emit(s, t1 + turnaround(s, 2), SW_TIGO_ADDR_FROM_GATEWAY, SW_TIGO_FT_ENUMERATION_START_RESPONSE,
                    NULL, 0);
    case T_ENUM_REQUEST:
        t1 = emit(s, t, ENUM_ADDR, SW_TIGO_FT_ENUMERATION_REQUEST, NULL, 0);
        if (task->arg == 0xFFFF)
            return t1 + 30 * MS; /* nobody left: the controller waits in vain */
        memcpy(p, s->gw[task->arg].address, 8);
        sw_put_be16(p + 8, ENUM_ADDR);
        return emit(s, t1 + turnaround(s, 3), SW_TIGO_ADDR_FROM_GATEWAY | ENUM_ADDR,
                    SW_TIGO_FT_ENUMERATION_RESPONSE, p, 10);
    case T_ASSIGN:
        memcpy(p, enum_magic, 4);
        memcpy(p + 4, g->address, 8);
        sw_put_be16(p + 12, g->id);
        t1 = emit(s, t, ENUM_ADDR, SW_TIGO_FT_ASSIGN_GATEWAY_ID_REQUEST, p, 14);
        return emit(s, t1 + turnaround(s, 4), SW_TIGO_ADDR_FROM_GATEWAY | ENUM_ADDR,
                    SW_TIGO_FT_ASSIGN_GATEWAY_ID_RESPONSE, NULL, 0);
    case T_IDENTIFY:
        t1 = emit(s, t, g->id, SW_TIGO_FT_IDENTIFY_REQUEST, NULL, 0);
        memcpy(p, g->address, 8);
        sw_put_be16(p + 8, g->id);
        return emit(s, t1 + turnaround(s, 5), from_gw, SW_TIGO_FT_IDENTIFY_RESPONSE, p, 10);
    case T_VERSION: {
        const char *v = sw_tigo_sim_gateway_version_at(s, gi, t);
        t1 = emit(s, t, g->id, SW_TIGO_FT_VERSION_REQUEST, NULL, 0);
        return emit(s, t1 + turnaround(s, 6), from_gw, SW_TIGO_FT_VERSION_RESPONSE, (const uint8_t *)v,
                    strlen(v));
    }
    case T_ENUM_END:
        t1 = emit(s, t, g->id, SW_TIGO_FT_ENUMERATION_END_REQUEST, NULL, 0);
        return emit(s, t1 + turnaround(s, 7), from_gw, SW_TIGO_FT_ENUMERATION_END_RESPONSE, NULL, 0);
    case T_NODE_TABLE: {
        /* Pages of up to 12 entries from the first node at or after the requested index. */
        uint8_t d[2];
        sw_put_be16(d, task->arg);
        size_t count = 0, k = 4;
        uint16_t first = task->arg, last = 0;
        for (unsigned j = 0; j < s->cfg.panels && count < 12; j++) {
            uint16_t id = (uint16_t)(SW_TIGO_SIM_FIRST_NODE + j);
            if (id < task->arg || node_gone(s, gi, j, t))
                continue;
            if (count == 0)
                first = id;
            memcpy(p + k, g->nodes[j].address, 8);
            sw_put_be16(p + k + 8, id);
            k += 10;
            count++;
            last = id;
        }
        sw_put_be16(p, first);
        sw_put_be16(p + 2, (uint16_t)count);
        if (count > 0)
            push_task(s, T_NODE_TABLE, gi, (uint16_t)(last + 1), true);
        return command(s, gi, t, SW_TIGO_PT_NODE_TABLE_REQUEST, d, 2, SW_TIGO_PT_NODE_TABLE_RESPONSE, p, k);
    }
    case T_NET_STATUS:
    case T_LONG_NET_STATUS: {
        unsigned on = online_count(s, gi), present = present_count(s, gi, t);
        uint16_t counter = (uint16_t)(0x0300 + (s->counters.network_status & 0xFF));
        sw_put_be16(p, SW_TIGO_NODE_GATEWAY);
        p[2] = 0x01;
        sw_put_be16(p + 3, counter);
        sw_put_be16(p + 5, (uint16_t)on);
        sw_put_be16(p + 7, (uint16_t)present);
        sw_put_be16(p + 9, (uint16_t)present);
        s->counters.network_status++;
        if (task->kind == T_LONG_NET_STATUS) {
            uint8_t d[8] = { 0xBA, 0xBE, 0x02, 0, 0, 0, 0, 0x01 };
            sw_put_be16(d + 3, counter);
            sw_put_be16(d + 5, (uint16_t)s->cfg.panels);
            return command(s, gi, t, SW_TIGO_PT_LONG_NETWORK_STATUS_REQUEST, d, sizeof d,
                           SW_TIGO_PT_NETWORK_STATUS_RESPONSE, p, 11);
        }
        return command(s, gi, t, SW_TIGO_PT_NETWORK_STATUS_REQUEST, NULL, 0, SW_TIGO_PT_NETWORK_STATUS_RESPONSE,
                       p, 11);
    }
    case T_STRING_VERSION:
    case T_STRING_INFO: {
        static const char q_version[] = "^00Version\r", q_info[] = "^00Info\r";
        static const char a_version[] = "Mnode Version K8.0131 (2D)\r";
        const char *q = task->kind == T_STRING_VERSION ? q_version : q_info;
        uint16_t node = task->arg;
        uint8_t d[32];
        sw_put_be16(d, node);
        memcpy(d + 2, q, strlen(q));
        int64_t end = command(s, gi, t, SW_TIGO_PT_STRING_REQUEST, d, 2 + strlen(q), SW_TIGO_PT_STRING_RESPONSE,
                              NULL, 0);
        /* The node's answer travels back over the radio and turns up in a later poll. */
        sw_tigo_sim_packet *pk = new_packet(s, g, end + 800 * MS + (int64_t)(h(s, 0x57, node) % 700) * MS,
                                            SW_TIGO_PT_STRING_RESPONSE, node);
        if (pk) {
            char text[64];
            size_t n;
            if (task->kind == T_STRING_VERSION) {
                n = strlen(a_version);
                memcpy(text, a_version, n);
            } else {
                /* field layout as nodes answer; the numbers are this simulator's own */
                unsigned phase = g->nodes[node - SW_TIGO_SIM_FIRST_NODE].phase;
                static const char hx[] = "0123456789ABCDEF";
                char ph[5] = { hx[(phase >> 12) & 15], hx[(phase >> 8) & 15], hx[(phase >> 4) & 15], hx[phase & 15],
                               0 };
                int w = snprintf(text, sizeof text, "!Info 0000 15 0000 %s 00 0000 0000 FF 00 0000 0FFF 000 2", ph);
                n = w > 0 ? (size_t)w : 0;
            }
            memcpy(pk->data, text, n);
            pk->len = (uint8_t)n;
        }
        return end;
    }
    case T_PV_CONFIG: {
        uint16_t node = task->arg;
        const sw_tigo_sim_node *nd = &g->nodes[node - SW_TIGO_SIM_FIRST_NODE];
        uint8_t d[SW_TIGO_PV_CONFIG_REQUEST_LEN] = { 0 };
        sw_put_be16(d, node);
        d[2] = 0x03;
        d[3] = 0x00;
        d[4] = SW_TIGO_PT_POWER_REPORT;
        d[5] = 0x02;
        sw_put_be16(d + 6, SW_TIGO_SIM_REPORT_PERIOD);
        sw_put_be16(d + 8, nd->phase);
        d[10] = 0x00;
        d[11] = 0x09;
        d[12] = 0x02;
        d[18] = 0x30;
        d[19] = 0x02;
        int64_t end = command(s, gi, t, SW_TIGO_PT_PV_CONFIGURATION_REQUEST, d, sizeof d,
                              SW_TIGO_PT_PV_CONFIGURATION_REQUEST + 1, NULL, 0);
        sw_tigo_sim_packet *pk = new_packet(s, g, end + 1200 * MS, SW_TIGO_PT_PV_CONFIGURATION_RESPONSE, node);
        if (pk) {
            /* radio group, its repeat, then the reporting group twice */
            uint8_t *r = pk->data;
            size_t k = 0;
            for (int rep = 0; rep < 2; rep++) {
                r[k++] = rep ? 0x0E : 0x0F;
                r[k++] = 0x24;
                r[k++] = 0xF6;
                r[k++] = 0x15;
                if (!rep) {
                    r[k++] = 0x6C;
                    r[k++] = 0x00;
                }
            }
            for (int rep = 0; rep < 2; rep++) {
                static const uint8_t head[8] = { 0x03, 0x00, 0x30, 0, 0, 0, 0, 0 };
                memcpy(r + k, head, 8);
                k += 8;
                r[k++] = SW_TIGO_PT_POWER_REPORT;
                sw_put_be16(r + k, SW_TIGO_SIM_REPORT_PERIOD);
                sw_put_be16(r + k + 2, nd->phase);
                k += 4;
                r[k++] = 0x00;
                r[k++] = 0x09;
                memset(r + k, 0, 4);
                k += 4;
            }
            pk->len = (uint8_t)k;
        }
        return end;
    }
    case T_RADIO_CONFIG: {
        /* Request 00 01; the 37-byte answer as spec §8.6 lays it out, with this network's own key. */
        static const uint8_t d[2] = { 0x00, 0x01 };
        uint8_t r[SW_TIGO_RADIO_CONFIG_LEN] = { 0x00, 0x15, 0x24, 0xF6, 0x18, 0x04, 0x02, 0x01,
                                                0x00, 0x00, 0x00, 0x00, 0x1C, 0x01, 0x5A };
        sw_tigo_sim_radio_key(s, gi, r + 15);
        static const uint8_t tail[6] = { 0x00, 0x00, 0x02, 0x00, 0x3C, 0x00 };
        memcpy(r + 31, tail, sizeof tail);
        return command(s, gi, t, SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_REQUEST, d, sizeof d,
                       SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_RESPONSE, r, sizeof r);
    }
    case T_BROADCAST: {
        /* to node 0, every node behind this TAP; the TAP acknowledges at once (spec §8.8) */
        uint8_t d[2];
        sw_put_be16(d, task->arg);
        return command(s, gi, t, SW_TIGO_PT_BROADCAST, d, sizeof d, SW_TIGO_PT_BROADCAST_ACK, NULL, 0);
    }
    default:
        return t;
    }
}

static void broadcast(sw_tigo_sim *s, uint16_t value)
{
    for (unsigned g = 0; g < s->cfg.gateways; g++)
        push_task(s, T_BROADCAST, g, value, false);
}

/* What the firmware and pv-off faults make the controller do when they start or end, and while
 * PV off lasts. */
static void controller_faults(sw_tigo_sim *s, int64_t t)
{
    int64_t since = t - s->cfg.start_ns;
    bool fw = sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_FIRMWARE, since) != NULL;
    if (fw != s->fw_updated) {
        /* An update (or its rollback) restarts the TAP; the controller enumerates again and so
         * reads the new version. */
        s->fw_updated = fw;
        queue_enumeration(s);
    }
    bool off = sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_PV_OFF, since) != NULL;
    if (off != s->pv_off) {
        s->pv_off = off;
        broadcast(s, off ? 0x0001 : 0x0000);
        s->next_pv_lift_ns = t + PV_LIFT_EVERY_NS;
        s->next_pv_reassert_ns = 0;
    } else if (off && s->next_pv_reassert_ns && t >= s->next_pv_reassert_ns) {
        broadcast(s, 0x0001);
        s->next_pv_reassert_ns = 0;
    } else if (off && t >= s->next_pv_lift_ns) {
        broadcast(s, 0x0000);
        s->next_pv_reassert_ns = t + PV_LIFT_NS;
        s->next_pv_lift_ns += PV_LIFT_EVERY_NS;
    }
}

/* The controller's next exchange. */
static void step(sw_tigo_sim *s)
{
    int64_t t = s->now_ns;
    sky(s, t);
    bool night = s->sky_sun <= NIGHT_SUN;
    if (!s->started) {
        s->started = true;
        s->was_night = night;
        queue_enumeration(s); /* a controller that boots (or a bus we start watching) enumerates first */
        queue_sweep(s);
        /* a firmware in force from the start is simply the one this enumeration reads */
        s->fw_updated = sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_FIRMWARE, t - s->cfg.start_ns) != NULL;
        s->next_sweep_ns = t + 600 * 1000 * MS;
        s->next_status_ns = t + 20 * 1000 * MS;
        s->next_ping_ns = t + 300 * 1000 * MS;
    } else if (night && !s->was_night) {
        queue_enumeration(s); /* dusk: identities are refreshed while the array sleeps */
        queue_sweep(s);
    }
    s->was_night = night;
    controller_faults(s, t);
    if (t >= s->next_sweep_ns) {
        queue_sweep(s);
        s->next_sweep_ns += 600 * 1000 * MS;
    }
    if (t >= s->next_status_ns) {
        for (unsigned g = 0; g < s->cfg.gateways; g++)
            push_task(s, night ? T_LONG_NET_STATUS : T_NET_STATUS, g, 0, false);
        s->next_status_ns += 60 * 1000 * MS;
    }
    if (t >= s->next_ping_ns) {
        push_task(s, T_SINGLE_PING, 0, 0, false);
        s->next_ping_ns += 300 * 1000 * MS;
    }

    unsigned due = 0;
    for (unsigned g = 1; g < s->cfg.gateways; g++)
        if (s->gw[g].next_poll_ns < s->gw[due].next_poll_ns)
            due = g;
    int64_t end;
    bool enum_task = s->n_tasks > 0 && s->tasks[s->task_head].kind <= T_LAST_ENUM;
    /* Commands fill the gaps between polls; on a bus too busy to have gaps (many TAPs), one command
     * still goes out per round of polls, as a real controller cannot starve its configuration work. */
    bool polling = !sw_sim_faults_active(&s->cfg.faults, SW_SIM_FAULT_NO_POLLING, t - s->cfg.start_ns);
    bool task_turn = s->n_tasks > 0 &&
                     (!polling || s->gw[due].next_poll_ns > t || s->polls_since_task >= s->cfg.gateways);
    if (!polling && !enum_task && !task_turn) {
        /* The controller has stopped polling: its poll slots pass in silence while the optimizers
         * go on measuring into their gateways' buffers. */
        if (s->gw[due].next_poll_ns > t)
            t = s->gw[due].next_poll_ns;
        advance_nodes(s, due, t);
        s->gw[due].next_poll_ns = t + (int64_t)s->cfg.poll_ms * MS;
        s->now_ns = t;
        return;
    }
    if (enum_task || task_turn) {
        s->polls_since_task = 0;
        sw_tigo_sim_task task = s->tasks[s->task_head];
        s->task_head = (s->task_head + 1) % SW_TIGO_SIM_TASKS;
        s->n_tasks--;
        end = run_task(s, &task, t);
    } else {
        if (s->gw[due].next_poll_ns > t)
            t = s->gw[due].next_poll_ns;
        end = do_poll(s, due, t);
        s->polls_since_task++;
        s->gw[due].next_poll_ns += (int64_t)s->cfg.poll_ms * MS;
        if (s->gw[due].next_poll_ns <= end)
            s->gw[due].next_poll_ns = end + (int64_t)s->cfg.poll_ms * MS;
    }
    s->now_ns = end + 3 * MS; /* the controller pauses a moment between exchanges */
}

sw_err sw_tigo_sim_init(sw_tigo_sim *s, const sw_tigo_sim_config *cfg, sw_tigo_sim_event_cb on_event, void *user)
{
    if (!s || !cfg || cfg->gateways < 1 || cfg->gateways > SW_TIGO_SIM_MAX_GATEWAYS || cfg->panels < 1 ||
        cfg->panels > SW_TIGO_SIM_MAX_PANELS || cfg->poll_ms == 0 || cfg->poll_ms > 60000 ||
        (cfg->firmware != SW_TIGO_SIM_FW_CLASSIC && cfg->firmware != SW_TIGO_SIM_FW_4) || !(cfg->panel_w > 0.0) ||
        cfg->panel_w > 2000.0 || cfg->n_panel_faults > SW_SIM_MAX_PANEL_FAULTS)
        return SW_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < cfg->n_panel_faults; i++)
        if (cfg->panel_faults[i].gateway >= cfg->gateways || cfg->panel_faults[i].panel >= cfg->panels)
            return SW_ERR_INVALID_ARGUMENT;
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->on_event = on_event;
    s->user = user;
    s->now_ns = cfg->start_ns;
    s->sky_bucket = INT64_MIN;
    s->sequence = (uint8_t)(0x20 + h(s, 0x5E9, 0) % 0x80);
    s->line_faults = sw_sim_faults_has(&cfg->faults, SW_SIM_FAULT_INVERTED) ||
                     sw_sim_faults_has(&cfg->faults, SW_SIM_FAULT_BAUD) ||
                     sw_sim_faults_has(&cfg->faults, SW_SIM_FAULT_NOISE);
    for (unsigned gi = 0; gi < cfg->gateways; gi++) {
        sw_tigo_sim_gateway *g = &s->gw[gi];
        g->id = (uint16_t)(SW_TIGO_SIM_FIRST_GATEWAY + gi);
        static const uint8_t gw_prefix[5] = { 0x04, 0xC0, 0x5B, 0x30, 0x00 };
        uint64_t a = h(s, 0x6A7E, gi);
        memcpy(g->address, gw_prefix, 5);
        g->address[5] = (uint8_t)(0x10 + (a >> 16) % 0xF0); /* six significant digits, as the bridge wants */
        g->address[6] = (uint8_t)(a >> 8);
        g->address[7] = (uint8_t)a;
        /* the gateway has been running for a while: somewhere in its 16-minute super cycle */
        g->origin_ns = cfg->start_ns - (int64_t)(h(s, 0x0121, gi) % (4 * 48000)) * SLOT_NS - 4 * 48000 * SLOT_NS;
        g->packet_number = (uint16_t)(0x1800 + h(s, 0x9A, gi) % 0x700);
        g->last_full_hi = (uint8_t)~(g->packet_number >> 8);
        g->dsn = (uint8_t)h(s, 0xD5, gi);
        g->polls = (uint32_t)(h(s, 0x90, gi) % 16);
        g->next_poll_ns = cfg->start_ns + (int64_t)gi * (int64_t)cfg->poll_ms * MS / (int64_t)cfg->gateways;
        for (unsigned j = 0; j < cfg->panels; j++) {
            sw_tigo_sim_node *n = &g->nodes[j];
            static const uint8_t node_prefix[5] = { 0x04, 0xC0, 0x5B, 0x40, 0x00 };
            uint64_t b = h(s, 0xADD0 + gi, j);
            memcpy(n->address, node_prefix, 5);
            n->address[5] = (uint8_t)(0x10 + (b >> 16) % 0xF0);
            n->address[6] = (uint8_t)(b >> 8);
            n->address[7] = (uint8_t)(j + 1); /* distinct within a gateway whatever the hash says */
            n->short_address = (uint16_t)(0x0100 + (h(s, 0x5A, gi * 64 + j) % 0x0E00));
            /* spread the nodes over the 20 s period so the radio is never crowded */
            n->phase = (uint16_t)((j * SW_TIGO_SIM_REPORT_PERIOD / cfg->panels + gi * 97 + h(s, 0xF5, j) % 50) %
                                  SW_TIGO_SIM_REPORT_PERIOD);
        }
    }
    /* Nodes that are already lit when the simulation starts have joined long ago: no topology report. */
    sky(s, cfg->start_ns);
    for (unsigned gi = 0; gi < cfg->gateways; gi++)
        for (unsigned j = 0; j < cfg->panels; j++)
            if (s->sky_sun > join_threshold(j)) {
                sw_tigo_sim_node *n = &s->gw[gi].nodes[j];
                n->online = true;
                n->next_measure_k =
                    floor_div(abs_slots(&s->gw[gi], cfg->start_ns) - n->phase, SW_TIGO_SIM_REPORT_PERIOD) + 1;
            }
    return SW_OK;
}

/* ---- the line to the listener ------------------------------------------------- */
static int on_line_byte(sw_tigo_line *line, uint8_t byte, int64_t t_ns, void *user)
{
    sw_tigo_sim *s = user;
    (void)line;
    (void)t_ns;
    if (s->chunk_len < sizeof s->chunk) {
        s->chunk[s->chunk_len++] = byte;
        s->counters.line_bytes++;
    }
    return 0;
}

/* The line the listener has at `since` (from the faults in force), or false for a sound one. */
static bool line_config_at(const sw_tigo_sim *s, int64_t since, sw_tigo_line_config *lc)
{
    const sw_sim_faults *fl = &s->cfg.faults;
    const sw_sim_fault *inv = sw_sim_faults_active(fl, SW_SIM_FAULT_INVERTED, since);
    const sw_sim_fault *baud = sw_sim_faults_active(fl, SW_SIM_FAULT_BAUD, since);
    const sw_sim_fault *noise = sw_sim_faults_active(fl, SW_SIM_FAULT_NOISE, since);
    memset(lc, 0, sizeof *lc);
    lc->bus_baud = SW_TIGO_LINE_BAUD;
    lc->rx_baud = baud ? (uint32_t)baud->value : SW_TIGO_LINE_BAUD;
    lc->inverted = inv != NULL;
    lc->noise = noise ? noise->value : 0.0;
    lc->seed = s->cfg.day.seed ^ 0x11E5EEDull;
    return lc->inverted || lc->rx_baud != SW_TIGO_LINE_BAUD || lc->noise > 0.0;
}

/* What the listener receives while the next generated frame is sent. */
static void prepare_chunk(sw_tigo_sim *s)
{
    if (s->chunk_ready)
        return;
    while (s->n_frames == 0)
        step(s);
    const sw_tigo_sim_frame *f = &s->frames[s->frame_head];
    int64_t start = f->t_ns - (int64_t)f->len * BYTE_NS;
    s->chunk_len = 0;
    sw_tigo_line_config lc;
    bool want = s->line_faults && line_config_at(s, start - s->cfg.start_ns, &lc);
    s->line.user = s; /* set on every call, so the simulator may move in between */
    if (s->line_on && (!want || memcmp(&lc, &s->line_cfg, sizeof lc) != 0)) {
        sw_tigo_line_finish(&s->line); /* the line changes: what was in flight comes out first */
        s->line_on = false;
    }
    if (want && !s->line_on && sw_tigo_line_init(&s->line, &lc, on_line_byte, s) == SW_OK) {
        s->line_cfg = lc;
        s->line_on = true;
    }
    if (s->line_on) {
        if (f->len)
            sw_tigo_line_push(&s->line, f->bytes, f->len, start);
    } else if (s->chunk_len + f->len <= sizeof s->chunk) {
        memcpy(s->chunk + s->chunk_len, f->bytes, f->len);
        s->chunk_len += f->len;
    }
    s->chunk_t_ns = f->t_ns;
    s->chunk_ready = true;
    s->frame_head = (s->frame_head + 1) % SW_TIGO_SIM_FRAMES;
    s->n_frames--;
}

int64_t sw_tigo_sim_peek_time(sw_tigo_sim *s)
{
    prepare_chunk(s);
    return s->chunk_t_ns;
}

sw_err sw_tigo_sim_next(sw_tigo_sim *s, uint8_t *out, size_t cap, size_t *len, int64_t *t_ns)
{
    prepare_chunk(s);
    if (cap < s->chunk_len)
        return SW_ERR_NO_SPACE;
    memcpy(out, s->chunk, s->chunk_len);
    *len = s->chunk_len;
    *t_ns = s->chunk_t_ns;
    s->chunk_ready = false;
    return SW_OK;
}

uint16_t sw_tigo_sim_gateway_id(const sw_tigo_sim *s, unsigned gi)
{
    return gi < s->cfg.gateways ? s->gw[gi].id : 0;
}

const uint8_t *sw_tigo_sim_gateway_address(const sw_tigo_sim *s, unsigned gi)
{
    return gi < s->cfg.gateways ? s->gw[gi].address : NULL;
}

const uint8_t *sw_tigo_sim_node_address(const sw_tigo_sim *s, unsigned gi, unsigned j)
{
    return gi < s->cfg.gateways && j < s->cfg.panels ? s->gw[gi].nodes[j].address : NULL;
}

const sw_tigo_sim_counters *sw_tigo_sim_get_counters(const sw_tigo_sim *s)
{
    return &s->counters;
}

int sw_tigo_sim_stopped(const sw_tigo_sim *s) { return s->stopped; }
