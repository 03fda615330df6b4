/*
 * rct_poll.c: one RCT Power inverter polled from inside the daemon's loop.
 *
 * Layer: I/O edge above the sans-I/O RCT core (frame builder, streaming
 * receiver, request exchange, value decoder, registry). The blocking client
 * in src/rct_io would stall every other source while it waits, so this poller
 * drives the same exchange (sunwire/rct_exchange.h) from loop callbacks: one
 * request at a time (devices cut answers short when a second request
 * arrives), and the exchange decides which frame is the answer, which is
 * someone else's, which is cut short and when to ask again. A cut answer does
 * not end the attempt here: the poller waits out the timeout, then retries.
 * A request that gets no usable reply is retried, then skipped; a connection
 * that stops answering altogether is reconnected with capped backoff.
 *
 * Polling tiers: identity once per connection, the fast list every fast
 * interval, the slow list (energy counters, battery health and cycles,
 * faults, temperatures) every slow interval. Plant members ([rct] addresses)
 * are polled the same way over the same connection with PLANT_READ, each an
 * inverter of its own ("<name>-<address>"); one that does not answer goes
 * offline for the round without taking the connection down.
 *
 * Control (docs/control.md): the write plan (rct/rct_control.h) decides
 * whether a write may happen and whether it succeeded; the poller does the
 * I/O between two reads: read the old value, write once, read back, and write
 * again while the plan says so. Every default object has a row
 * in data/ha-inverter.tsv (its name and classes in Home Assistant). Between
 * cycles the poller sleeps on one timer.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon_internal.h"
#include "sunwire/core.h"
#include "io/log.h"
#include "io/net.h"
#include "sunwire/rct.h"
#include "rct/rct_control.h"

#define LOG_TARGET "sunwire::rct"
/* A write may be answered with the value the device now holds; it is not waited for longer than this. */
#define WRITE_ANSWER_MS 500
#define CONNECT_TIMEOUT_MS 10000
#define MAX_CYCLE ((SW_DAEMON_MAX_RCT_EXTRA * 2 + 64) * (1 + SW_DAEMON_MAX_RCT_PLANT))
/* The device itself and its plant members ([rct] addresses). */
#define MAX_MEMBERS (1 + SW_DAEMON_MAX_RCT_PLANT)
/* Objects in a row without any usable answer before the connection is considered dead. */
#define DEAD_AFTER 3

/* ---- default object lists ------------------------------------------------------------------ */
static const char *const fast_objects[] = {
    /* PV strings A and B */
    "dc_conv.dc_conv_struct[0].p_dc_lp",
    "dc_conv.dc_conv_struct[1].p_dc_lp",
    "g_sync.u_sg_avg[0]",
    "g_sync.u_sg_avg[1]",
    /* battery */
    "battery.soc",
    "g_sync.p_acc_lp",
    "power_mng.u_acc_mix_lp",
    /* grid, total and per phase */
    "g_sync.p_ac_grid_sum_lp",
    "g_sync.p_ac_sc[0]",
    "g_sync.p_ac_sc[1]",
    "g_sync.p_ac_sc[2]",
    /* house load */
    "g_sync.p_ac_load_sum_lp",
    "g_sync.p_ac_load[0]",
    "g_sync.p_ac_load[1]",
    "g_sync.p_ac_load[2]",
    /* inverter output and state */
    "g_sync.p_ac_sum_lp",
    "prim_sm.state",
};

static const char *const slow_objects[] = {
    /* battery */
    "battery.soc_target",
    "battery.temperature",
    "battery.max_cell_temperature",
    "battery.min_cell_temperature",
    "battery.soh",
    "battery.cycles",
    "battery.bat_status",
    /* battery energy in and out: the battery section of Home Assistant's energy dashboard */
    "battery.stored_energy",
    "battery.used_energy",
    /* insulation resistance of the PV generators */
    "iso_struct.Riso",
    /* inverter temperatures */
    "db.temp1",
    "db.temp2",
    "db.core_temp",
    /* daily and total energy */
    "energy.e_ac_day",
    "energy.e_ac_total",
    "energy.e_dc_day[0]",
    "energy.e_dc_day[1]",
    "energy.e_dc_total[0]",
    "energy.e_dc_total[1]",
    "energy.e_grid_feed_day",
    "energy.e_grid_feed_total",
    "energy.e_grid_load_day",
    "energy.e_grid_load_total",
    "energy.e_load_day",
    "energy.e_load_total",
    /* faults: a 128-bit mask, all zero = healthy */
    "fault[0].flt",
    "fault[1].flt",
    "fault[2].flt",
    "fault[3].flt",
};

static const char *const identity_objects[] = {
    "inverter_sn",
    "android_description",
    "svnversion",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

size_t sw_daemon_rct_default_count(bool slow) { return slow ? COUNT(slow_objects) : COUNT(fast_objects); }
const char *sw_daemon_rct_default_name(bool slow, size_t i)
{
    if (i >= sw_daemon_rct_default_count(slow))
        return NULL;
    return slow ? slow_objects[i] : fast_objects[i];
}
size_t sw_daemon_rct_identity_count(void) { return COUNT(identity_objects); }
const char *sw_daemon_rct_identity_name(size_t i)
{
    return i < COUNT(identity_objects) ? identity_objects[i] : NULL;
}

/* ---- the poller ----------------------------------------------------------------------------- */
enum poll_state { RP_IDLE = 0, RP_CONNECTING, RP_WAITING, RP_SLEEPING };

/* One inverter on the connection: the device (address 0) or a plant member, its own inverter record. */
struct member {
    uint32_t address;         /* 0 = the device the connection goes to */
    sw_inverter inv;          /* name: the source's, "<source>-<address>" for a member */
    bool identity_done;
    uint32_t faults[4];       /* last fault words seen, to report changes once */
    bool have_faults[4];
};

struct cycle_entry {
    const sw_rct_object *o;
    uint8_t m;                /* members[m] */
    bool keep;                /* stored in the model; false: read for a health detector only */
};

struct rct_poller {
    sw_daemon *d;
    const sw_daemon_rct *cfg;
    sw_source_status *st;
    struct member members[MAX_MEMBERS];
    size_t n_members;
    uint8_t cur;              /* the member of the request in progress */
    int fd;
    sw_tcp_lookup *lookup; /* while the inverter's host name is looked up */
    sw_rct_proxy *proxy;   /* proxy = ADDR:PORT: the one connection, this poller one of its clients */
    enum poll_state state;
    uint64_t timer;
    unsigned failures;        /* consecutive connection failures, for the backoff */
    int64_t next_slow_ms;
    int64_t cycle_start_ms;
    struct cycle_entry cycle[MAX_CYCLE];
    /* Detector-only objects this connection left unanswered (an empty battery slot may be
     * one): not asked again until the next connection, and never a sign of a dead link. */
    const sw_rct_object *mute[16];
    size_t n_mute;
    size_t n_cycle, pos;
    sw_rct_exchange ex;       /* the request for cycle[pos] */
    unsigned unanswered;      /* objects in a row that got no usable answer */
    sw_rct_receiver *rx;
    uint8_t inbuf[4096];
    uint8_t *storage;         /* decode storage for time series etc. (unused by default lists) */
    size_t storage_cap;
    /* What send_current sends: a READ of cycle[pos], or a step of the write in progress. */
    uint8_t req_cmd;
    uint32_t req_id, req_address;
    uint8_t req_payload[8];
    size_t req_len;
    /* Control (docs/control.md): the write plan decides, the poller does the I/O. */
    bool control;
    sw_rct_control_plan plan;
    enum control_step { CW_NONE = 0, CW_READ_OLD, CW_WRITE, CW_READ_BACK } cw;
    const sw_rct_object *cw_obj;
    bool cw_have;             /* the read of this step brought a value */
    double cw_value;
    sw_rct_exchange_config saved_xc; /* the exchange's settings while a write is out */
    uint64_t control_timer;   /* when the next flash window ends: the model's figures change */
};

static void poller_connect(rct_poller *p);
static void next_request(rct_poller *p);
static void control_begin(rct_poller *p);
static void control_after(rct_poller *p);
static sw_err poller_request(rct_poller *p, const char *object, double value, sw_rct_control_origin origin);
static void control_end(rct_poller *p, const char *reason, sw_control_result failure);

static void set_timer(rct_poller *p, int64_t delay_ms, sw_loop_timer_cb cb)
{
    if (p->timer)
        sw_loop_del_timer(p->d->loop, p->timer);
    p->timer = sw_loop_add_timer(p->d->loop, delay_ms < 0 ? 0 : delay_ms, cb, p);
}

static void status_changed(rct_poller *p) { sw_model_source_changed(p->d->model, p->st, sw_daemon_now_ns(p->d)); }

static void set_online(rct_poller *p, struct member *m, bool online)
{
    if (m->inv.online == online && online)
        return;
    m->inv.online = online;
    sw_model_inverter_set(p->d->model, &m->inv, sw_daemon_now_ns(p->d));
}

static int64_t on_retry(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    rct_poller *p = user;
    p->timer = 0;
    poller_connect(p);
    return -1;
}

static void lookup_drop(rct_poller *p)
{
    sw_tcp_lookup_cancel(p->lookup, p->d->loop);
    p->lookup = NULL;
}

static void poller_fail(rct_poller *p, const char *what, int err)
{
    lookup_drop(p);
    if (p->fd >= 0) {
        sw_loop_del_fd(p->d->loop, p->fd);
        close(p->fd);
        p->fd = -1;
    }
    bool was_up = p->state == RP_WAITING || p->state == RP_SLEEPING;
    p->state = RP_IDLE;
    if (p->plan.busy)
        control_end(p, "the connection to the inverter was lost", SW_CONTROL_NO_ANSWER);
    int64_t delay = sw_backoff_ms(p->failures, p->cfg->reconnect_delay_ms, p->cfg->reconnect_max_ms);
    p->failures++;
    snprintf(p->st->last_error, sizeof p->st->last_error, "%s%s%s", what, err ? ": " : "", err ? strerror(err) : "");
    p->st->connected = false;
    if (was_up || p->failures == 1)
        SW_LOGW(LOG_TARGET, "%s (%s): %s; reconnecting in %lld ms", p->cfg->name, p->st->address,
                p->st->last_error, (long long)delay);
    else
        SW_LOGD(LOG_TARGET, "%s: %s; next attempt in %lld ms", p->cfg->name, p->st->last_error, (long long)delay);
    status_changed(p);
    for (size_t i = 0; i < p->n_members; i++)
        set_online(p, &p->members[i], false);
    if (was_up)
        sw_daemon_source_down(p->d, p->cfg->name, p->st->last_error);
    set_timer(p, delay, on_retry);
}

/* ---- cycles ----------------------------------------------------------------------------------- */
static void add_read(rct_poller *p, const sw_rct_object *o, uint8_t m, bool keep)
{
    if (!o || p->n_cycle >= MAX_CYCLE)
        return;
    for (size_t i = 0; i < p->n_cycle; i++)
        if (p->cycle[i].o == o && p->cycle[i].m == m) {
            p->cycle[i].keep = p->cycle[i].keep || keep;
            return;
        }
    p->cycle[p->n_cycle].o = o;
    p->cycle[p->n_cycle].keep = keep;
    p->cycle[p->n_cycle++].m = m;
}

static void add_obj(rct_poller *p, const sw_rct_object *o, uint8_t m) { add_read(p, o, m, true); }

/* An object a health detector asked for (battery cells, a tracker's DC power), of the device itself. */
static int add_health(sw_daemon *d, const char *name, bool store, void *user)
{
    (void)d;
    rct_poller *p = user;
    const sw_rct_object *o = sw_rct_registry_find_name(name);
    for (size_t i = 0; !store && i < p->n_mute; i++)
        if (p->mute[i] == o)
            return 0;
    add_read(p, o, 0, store);
    return 0;
}

static void start_cycle(rct_poller *p)
{
    int64_t now = sw_loop_now_ms();
    p->cycle_start_ms = now;
    p->n_cycle = p->pos = 0;
    bool slow = now >= p->next_slow_ms;
    if (slow)
        p->next_slow_ms = now + p->cfg->slow_ms;
    /* Member by member, so a member that does not answer is skipped in one step. */
    for (uint8_t m = 0; m < p->n_members; m++) {
        if (!p->members[m].identity_done)
            for (size_t i = 0; i < COUNT(identity_objects); i++)
                add_obj(p, sw_rct_registry_find_name(identity_objects[i]), m);
        if (p->cfg->defaults)
            for (size_t i = 0; i < COUNT(fast_objects); i++)
                add_obj(p, sw_rct_registry_find_name(fast_objects[i]), m);
        for (size_t i = 0; i < p->cfg->n_extra; i++)
            add_obj(p, sw_rct_registry_find_id(p->cfg->extra[i]), m);
        if (m == 0)
            sw_daemon_health_objects(p->d, p->cfg->name, false, add_health, p);
        if (!slow)
            continue;
        if (p->cfg->defaults)
            for (size_t i = 0; i < COUNT(slow_objects); i++)
                add_obj(p, sw_rct_registry_find_name(slow_objects[i]), m);
        for (size_t i = 0; i < p->cfg->n_extra_slow; i++)
            add_obj(p, sw_rct_registry_find_id(p->cfg->extra_slow[i]), m);
        if (m == 0)
            sw_daemon_health_objects(p->d, p->cfg->name, true, add_health, p);
        /* The settings that may be written are read too: their entities show them, keep mode checks them.
         * Control goes to the device the connection reaches, not to plant members. */
        for (size_t i = 0; m == 0 && p->control && i < p->cfg->n_allow; i++)
            add_obj(p, sw_rct_registry_find_name(p->cfg->allow[i]), m);
    }
    next_request(p);
}

static int64_t on_cycle_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    rct_poller *p = user;
    p->timer = 0;
    start_cycle(p);
    return -1;
}

static void end_cycle(rct_poller *p)
{
    for (size_t i = 0; i < p->n_members; i++) {
        struct member *m = &p->members[i];
        if (m->identity_done || !m->inv.serial[0])
            continue;
        m->identity_done = true;
        sw_model_inverter_set(p->d->model, &m->inv, sw_daemon_now_ns(p->d));
        SW_LOGI(LOG_TARGET, "%s: inverter serial \"%s\", name \"%s\", firmware \"%s\"", m->inv.name,
                m->inv.serial, m->inv.model, m->inv.firmware);
    }
    sw_daemon_health_cycle(p->d, p->cfg->name, sw_daemon_now_ns(p->d));
    status_changed(p);
    p->state = RP_SLEEPING;
    set_timer(p, p->cycle_start_ms + p->cfg->fast_ms - sw_loop_now_ms(), on_cycle_timer);
}

static int64_t on_request_timer(sw_loop *loop, uint64_t id, void *user);

/* The exchange's counters go to the source's status. */
static void take_counters(rct_poller *p)
{
    sw_rct_exchange_counters *x = &p->ex.counters;
    p->st->timeouts += x->timeouts;
    p->st->retries += x->retries;
    p->st->foreign_replies += x->foreign + x->stale;
    p->st->resyncs += x->cut_short;
    memset(x, 0, sizeof *x);
}

/* Send the current request (a READ of cycle[pos] or a control step); false when the connection failed. */
static bool send_current(rct_poller *p)
{
    uint8_t frame[SW_RCT_WIRE_MAX(8)];
    size_t len = 0;
    if (sw_rct_frame_build(p->req_cmd, p->req_id, p->req_address, p->req_payload, p->req_len, frame, sizeof frame,
                           &len) != SW_OK) {
        sw_rct_exchange_failed(&p->ex, SW_ERR_INVALID_ARGUMENT, sw_loop_now_ms());
        return true;
    }
    sw_rct_receiver_reset(p->rx);
    /* A dozen bytes into an empty socket buffer: a short write means the connection is in trouble. */
    ssize_t w = write(p->fd, frame, len);
    if (w != (ssize_t)len) {
        poller_fail(p, "write failed", w < 0 ? errno : 0);
        return false;
    }
    p->st->requests++;
    p->state = RP_WAITING;
    sw_rct_exchange_sent(&p->ex, sw_loop_now_ms());
    return true;
}

/* Do what the exchange asks for next: send, wait on a timer, or move on. */
static void drive(rct_poller *p)
{
    for (;;) {
        int64_t now = sw_loop_now_ms(), until = now;
        sw_rct_step step = sw_rct_exchange_next(&p->ex, now, &until);
        take_counters(p);
        if (step == SW_RCT_STEP_SEND) {
            if (!send_current(p))
                return;
            continue;
        }
        if (step == SW_RCT_STEP_RECEIVE || step == SW_RCT_STEP_PAUSE) {
            set_timer(p, until - now, on_request_timer);
            return;
        }
        break;
    }
    if (p->cw != CW_NONE) {
        control_after(p);
        return;
    }
    struct member *m = &p->members[p->cur];
    if (sw_rct_exchange_result(&p->ex) == SW_OK) {
        p->failures = 0;
        if (p->cur == 0)
            p->unanswered = 0;
        set_online(p, m, true);
        m->inv.last_poll_ns = sw_daemon_now_ns(p->d);
        sw_model_inverter_polled(p->d->model, m->inv.name, m->inv.last_poll_ns);
    } else if (p->cur > 0) {
        /* A plant member that does not answer is offline; the connection and the others are fine. */
        SW_LOGD(LOG_TARGET, "%s: no usable answer for %s; skipping the member this cycle", m->inv.name,
                p->cycle[p->pos].o->name);
        set_online(p, m, false);
        while (p->pos + 1 < p->n_cycle && p->cycle[p->pos + 1].m == p->cur)
            p->pos++;
    } else if (!p->cycle[p->pos].keep) {
        SW_LOGD(LOG_TARGET, "%s: no usable answer for %s; not asked again on this connection", p->cfg->name,
                p->cycle[p->pos].o->name);
        if (p->n_mute < sizeof p->mute / sizeof p->mute[0])
            p->mute[p->n_mute++] = p->cycle[p->pos].o;
    } else {
        SW_LOGD(LOG_TARGET, "%s: no usable answer for %s", p->cfg->name, p->cycle[p->pos].o->name);
        if (++p->unanswered >= DEAD_AFTER) {
            p->unanswered = 0;
            poller_fail(p, "the inverter stopped answering", 0);
            return;
        }
    }
    p->pos++;
    next_request(p);
}

/* The exchange accepts only replies from the member asked. */
static void set_member(rct_poller *p, uint8_t m)
{
    p->cur = m;
    p->req_address = p->members[m].address;
    p->ex.cfg.plant = m > 0;
    p->ex.cfg.address = p->members[m].address;
}

static void next_request(rct_poller *p)
{
    /* A write waiting for the connection goes first, between two reads. */
    if (p->plan.busy && p->cw == CW_NONE) {
        control_begin(p);
        return;
    }
    if (p->pos >= p->n_cycle) {
        end_cycle(p);
        return;
    }
    const sw_rct_object *o = p->cycle[p->pos].o;
    set_member(p, p->cycle[p->pos].m);
    p->req_cmd = p->cur ? SW_RCT_CMD_PLANT_READ : SW_RCT_CMD_READ;
    p->req_id = o->id;
    p->req_len = 0;
    sw_rct_exchange_start(&p->ex, p->req_cmd, o->id, o->response_type, NULL);
    drive(p);
}

static int64_t on_request_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    rct_poller *p = user;
    p->timer = 0;
    drive(p);
    return -1;
}

static bool numeric_type(sw_rct_type t)
{
    return t == SW_RCT_TYPE_BOOL || t == SW_RCT_TYPE_UINT8 || t == SW_RCT_TYPE_INT8 || t == SW_RCT_TYPE_UINT16 ||
           t == SW_RCT_TYPE_INT16 || t == SW_RCT_TYPE_UINT32 || t == SW_RCT_TYPE_INT32 || t == SW_RCT_TYPE_ENUM ||
           t == SW_RCT_TYPE_FLOAT;
}

/* A numeric value as a double (BOOL 0/1); only for numeric_type values. */
static double value_number(const sw_rct_value *v)
{
    return v->type == SW_RCT_TYPE_BOOL ? (v->u.b ? 1.0 : 0.0) : v->type == SW_RCT_TYPE_FLOAT ? v->u.f : (double)v->u.i;
}

/* Types whose value is a structure (cells, modules, series, tables): outputs carry them as JSON. */
static bool structured_type(sw_rct_type t)
{
    return t == SW_RCT_TYPE_TIMESERIES || t == SW_RCT_TYPE_EVENT_TABLE || t == SW_RCT_TYPE_BATTERY_MODULE_STATUS ||
           t == SW_RCT_TYPE_BATTERY_MODULE_STATISTICS || t == SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE;
}

/* v as one JSON document, whole, in a malloc'd buffer; NULL when out of memory. */
static char *value_json(const sw_rct_value *v)
{
    for (size_t cap = 4096; cap <= ((size_t)64 << 20); cap *= 2) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL;
        sw_json j;
        sw_json_init(&j, buf, cap);
        sw_rct_value_to_json(v, &j);
        if (sw_json_finish(&j))
            return buf;
        free(buf);
    }
    return NULL;
}

static void store_value(rct_poller *p, const sw_rct_object *o, const sw_rct_value *v)
{
    struct member *m = &p->members[p->cur];
    const char *name = m->inv.name;
    sw_inverter_value iv;
    memset(&iv, 0, sizeof iv);
    snprintf(iv.inverter, sizeof iv.inverter, "%s", name);
    iv.object_id = o->id;
    snprintf(iv.object_name, sizeof iv.object_name, "%s", o->name);
    snprintf(iv.unit, sizeof iv.unit, "%s", o->unit ? o->unit : "");
    iv.timestamp_ns = sw_daemon_now_ns(p->d);
    iv.is_number = numeric_type(v->type);
    if (iv.is_number)
        iv.number = v->type == SW_RCT_TYPE_BOOL ? (v->u.b ? 1.0 : 0.0)
                    : v->type == SW_RCT_TYPE_FLOAT ? v->u.f
                                                   : (double)v->u.i;
    /* Text of any length: a stack buffer for the usual short ones, the heap beyond. */
    char small[4096], *big = NULL, *json = NULL;
    const char *text = small;
    bool lost = false; /* no memory for the whole text: store nothing rather than a cut one */
    unsigned word;
    char tail;
    const char *label = NULL;
    if (sscanf(o->name, "fault[%u].fl%c", &word, &tail) == 2 && tail == 't' && word < 4 &&
        v->type == SW_RCT_TYPE_UINT32) {
        uint32_t bits = (uint32_t)v->u.i;
        size_t need = sw_daemon_rct_fault_text(word, bits, small, sizeof small);
        if (need >= sizeof small && !(lost = (big = malloc(need + 1)) == NULL)) {
            sw_daemon_rct_fault_text(word, bits, big, need + 1);
            text = big;
        }
        if (!m->have_faults[word] || m->faults[word] != bits) {
            if (bits)
                SW_LOGW(LOG_TARGET, "%s: %s = 0x%08X: %s", name, o->name, (unsigned)bits, text);
            else if (m->have_faults[word])
                SW_LOGI(LOG_TARGET, "%s: %s cleared", name, o->name);
            if (bits || m->have_faults[word]) {
                sw_daemon_rct_fault(p->d, name, o->name, bits, text);
            }
            m->faults[word] = bits;
            m->have_faults[word] = true;
        }
    } else if (v->type == SW_RCT_TYPE_ENUM && sw_rct_object_enum_label(o, v->u.i, &label) == SW_OK && label) {
        text = label;
    } else {
        size_t need = sw_rct_value_to_text(v, small, sizeof small);
        if (need >= sizeof small && !(lost = (big = malloc(need + 1)) == NULL)) {
            sw_rct_value_to_text(v, big, need + 1);
            text = big;
        }
        if (structured_type(v->type) && !(json = value_json(v)))
            lost = true;
    }
    if (lost) {
        SW_LOGW(LOG_TARGET, "%s: %s: out of memory for its whole value; not stored", name, o->name);
        free(big);
        free(json);
        return;
    }
    /* RCT keeps objects whose unit is % as fractions of one (battery.soc 0.532).
     * The model carries percent, so every output (MQTT, Prometheus, InfluxDB, the
     * history, the dashboard) shows the number its unit says. */
    if (iv.is_number && strcmp(iv.unit, "%") == 0 && v->type == SW_RCT_TYPE_FLOAT) {
        iv.number *= 100.0;
        sw_fmt_double(small, iv.number);
        text = small;
    }
    iv.text = text;
    iv.json = json;

    if (strcmp(o->name, "inverter_sn") == 0)
        sw_daemon_copy_text(m->inv.serial, sizeof m->inv.serial, iv.text);
    else if (strcmp(o->name, "android_description") == 0)
        sw_daemon_copy_text(m->inv.model, sizeof m->inv.model, iv.text);
    else if (strcmp(o->name, "svnversion") == 0)
        sw_daemon_copy_text(m->inv.firmware, sizeof m->inv.firmware, iv.text);
    double keep;
    if (p->control && p->cur == 0 && iv.is_number &&
        sw_rct_control_observe(&p->plan, o->name, value_number(v), &keep))
        poller_request(p, o->name, keep, SW_RCT_CONTROL_ORIGIN_KEEP); /* keep mode: the device forgot it */
    sw_err e = sw_model_inverter_value_set(p->d->model, &iv);
    sw_daemon_health_value(p->d, &iv);
    if (e != SW_OK)
        SW_LOGW(LOG_TARGET, "%s: %s not stored: %s", name, o->name, sw_err_message(e));
    free(big);
    free(json);
}

/* The accepted answer: decode it with its object's type and store it. */
static void take_answer(rct_poller *p, const sw_rct_frame *f)
{
    size_t need = sw_rct_reply_storage_size(f);
    if (need > p->storage_cap) {
        uint8_t *ns = realloc(p->storage, need);
        if (!ns)
            return;
        p->storage = ns;
        p->storage_cap = need;
    }
    const sw_rct_object *o;
    sw_rct_value v;
    if (sw_rct_decode_reply(f, &o, &v, p->storage, p->storage_cap) != SW_OK)
        return;
    if (p->cw == CW_WRITE)
        return; /* the device's echo of a write: the read-back decides */
    if (p->cw != CW_NONE && o == p->cw_obj && numeric_type(v.type)) {
        p->cw_have = true;
        p->cw_value = value_number(&v);
    }
    if (p->cur == 0)
        sw_daemon_health_cells(p->d, p->cfg->name, o->name, &v, sw_daemon_now_ns(p->d));
    if (p->pos >= p->n_cycle || p->cycle[p->pos].o != o || p->cycle[p->pos].keep)
        store_value(p, o, &v);
}

static void on_readable(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)events;
    rct_poller *p = user;
    ssize_t n = read(fd, p->inbuf, sizeof p->inbuf);
    if (n == 0) {
        poller_fail(p, "connection closed by the peer", 0);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            poller_fail(p, "read failed", errno);
        return;
    }
    p->st->bytes += (uint64_t)n;
    p->st->last_data_ns = sw_daemon_now_ns(p->d);
    bool waiting = p->state == RP_WAITING && sw_rct_exchange_waiting(&p->ex);
    size_t off = 0;
    while (off < (size_t)n) {
        sw_rct_receiver_event ev;
        size_t used = sw_rct_receiver_push(p->rx, p->inbuf + off, (size_t)n - off, &ev);
        off += used;
        if (ev.kind == SW_RCT_RECEIVER_FRAME) {
            p->st->frames++;
            /* Frames after the answer, or while nothing is asked, belong to nobody we wait for. */
            if (sw_rct_exchange_push_frame(&p->ex, &ev.frame, sw_loop_now_ms()) == SW_RCT_REPLY_ACCEPTED)
                take_answer(p, &ev.frame);
        } else if (ev.kind == SW_RCT_RECEIVER_ERROR) {
            if (ev.error == SW_ERR_RCT_CRC_MISMATCH)
                p->st->crc_errors++;
            else
                p->st->resyncs++;
        }
        if (used == 0 && ev.kind == SW_RCT_RECEIVER_NEED_MORE)
            break;
    }
    take_counters(p);
    if (waiting && !sw_rct_exchange_waiting(&p->ex))
        drive(p);
}

static void poller_up(rct_poller *p)
{
    SW_LOGI(LOG_TARGET, "%s: connected to %s", p->cfg->name, p->st->address);
    p->st->connected = true;
    p->st->last_error[0] = 0;
    sw_daemon_source_up(p->d, p->cfg->name, p->st->address);
    for (size_t i = 0; i < p->n_members; i++)
        p->members[i].identity_done = false;
    p->next_slow_ms = 0;
    p->n_mute = 0;
    sw_rct_receiver_reset(p->rx);
    sw_loop_add_fd(p->d->loop, p->fd, SW_LOOP_READ, on_readable, p);
    status_changed(p);
    start_cycle(p);
}

static void on_connected(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)events;
    rct_poller *p = user;
    if (p->timer) {
        sw_loop_del_timer(p->d->loop, p->timer);
        p->timer = 0;
    }
    if (sw_tcp_connect_finish(fd) != SW_OK) {
        poller_fail(p, "connect failed", errno);
        return;
    }
    poller_up(p);
}

static int64_t on_connect_timeout(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    rct_poller *p = user;
    p->timer = 0;
    poller_fail(p, p->lookup ? "host name lookup timed out" : "connect timed out", 0);
    return -1;
}

static void poller_resolved(rct_poller *p, sw_tcp_lookup *r);

static void on_lookup_done(sw_loop *loop, int fd, int events, void *user)
{
    (void)events;
    rct_poller *p = user;
    sw_loop_del_fd(loop, fd);
    sw_tcp_lookup *r = p->lookup;
    p->lookup = NULL;
    poller_resolved(p, r);
}

static void poller_connect(rct_poller *p)
{
    if (p->failures > 0 || p->st->bytes > 0)
        p->st->reconnects++;
    if (p->proxy) {
        /* With a proxy the poller is one of its clients, on a socket pair: one connection, one queue. */
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
            poller_fail(p, "socketpair", errno);
            return;
        }
        sw_err e = sw_rct_proxy_attach(p->proxy, sv[1], "the daemon's poller", true);
        if (e != SW_OK) {
            close(sv[0]);
            poller_fail(p, sw_err_message(e), 0);
            return;
        }
        sw_fd_set_nonblocking(sv[0], 1);
        p->fd = sv[0];
        poller_up(p);
        return;
    }
    sw_tcp_lookup *r = NULL;
    int rfd = -1;
    sw_err e = sw_tcp_lookup_start(p->cfg->host, p->cfg->port, NULL, &r, &rfd);
    if (e != SW_OK) {
        poller_fail(p, sw_err_message(e), e == SW_ERR_IO ? errno : 0);
        return;
    }
    if (rfd < 0) {
        poller_resolved(p, r);
        return;
    }
    /* The connect timeout covers the lookup too. */
    p->lookup = r;
    p->state = RP_CONNECTING;
    sw_loop_add_fd(p->d->loop, rfd, SW_LOOP_READ, on_lookup_done, p);
    set_timer(p, CONNECT_TIMEOUT_MS, on_connect_timeout);
}

static void poller_resolved(rct_poller *p, sw_tcp_lookup *r)
{
    bool pending = false;
    sw_err e = sw_tcp_lookup_connect(r, &p->fd, &pending);
    int saved = errno;
    sw_tcp_lookup_cancel(r, NULL);
    errno = saved;
    if (e != SW_OK) {
        p->fd = -1;
        poller_fail(p, sw_err_message(e), e == SW_ERR_CONNECT ? errno : 0);
        return;
    }
    if (!pending) {
        poller_up(p);
        return;
    }
    p->state = RP_CONNECTING;
    sw_loop_add_fd(p->d->loop, p->fd, SW_LOOP_WRITE, on_connected, p);
    if (!p->timer) /* still running when a lookup came first: one limit for both */
        set_timer(p, CONNECT_TIMEOUT_MS, on_connect_timeout);
}

/* ---- control ------------------------------------------------------------------------------ */
static void value_text(char out[SW_DOUBLE_TEXT_MAX], bool have, double v)
{
    if (have && v == floor(v) && fabs(v) < 1e15)
        snprintf(out, SW_DOUBLE_TEXT_MAX, "%.0f", v); /* ENUM, BOOL and whole numbers as such */
    else if (have)
        sw_fmt_double(out, v);
    else
        out[0] = '\0';
}

static int64_t on_control_timer(sw_loop *loop, uint64_t id, void *user);

/* The plan's flash figures of every allowed object into the model (Prometheus, the web API), and a
 * timer for the moment the next flash window ends, when they change without a write. */
static void control_publish(rct_poller *p)
{
    if (!p->control)
        return;
    int64_t now = sw_loop_now_ms(), wall = sw_daemon_now_ns(p->d), next = 0;
    for (size_t i = 0; i < p->plan.n_slots; i++) {
        const sw_rct_control_slot *s = &p->plan.slots[i];
        sw_rct_control_status st;
        if (!s->allowed || sw_rct_control_status_at(&p->plan, i, now, &st) != SW_OK)
            continue;
        sw_control *c = sw_model_control(p->d->model, p->cfg->name, s->def->object);
        if (!c)
            continue;
        c->allowed = true;
        c->flash_per_day = p->plan.cfg.flash_per_day;
        c->flash_left = st.flash_left;
        c->blocked = st.blocked;
        c->blocked_until_ns = st.blocked ? wall + (st.until_ms - now) * 1000000 : 0;
        if (st.until_ms && (!next || st.until_ms < next))
            next = st.until_ms;
    }
    sw_model_control_changed(p->d->model, wall);
    if (p->control_timer)
        sw_loop_del_timer(p->d->loop, p->control_timer);
    p->control_timer = next ? sw_loop_add_timer(p->d->loop, next > now ? next - now : 0, on_control_timer, p) : 0;
}

static int64_t on_control_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    rct_poller *p = user;
    p->control_timer = 0;
    control_publish(p);
    return -1;
}

/* The result class of a refusal by the plan. */
static sw_control_result refusal(sw_err e)
{
    switch (e) {
    case SW_ERR_RCT_CONTROL_NOT_ALLOWED: return SW_CONTROL_NOT_ALLOWED;
    case SW_ERR_RCT_CONTROL_OUT_OF_RANGE:
    case SW_ERR_RCT_WRITE_NOT_FINITE: return SW_CONTROL_OUT_OF_RANGE;
    case SW_ERR_RCT_CONTROL_RATE_LIMITED: return SW_CONTROL_RATE_LIMITED;
    case SW_ERR_RCT_CONTROL_FLASH_BUDGET: return SW_CONTROL_FLASH_BUDGET;
    case SW_ERR_RCT_CONTROL_BUSY: return SW_CONTROL_BUSY;
    case SW_ERR_RCT_CONTROL_BLOCKED: return SW_CONTROL_BLOCKED;
    default: return SW_CONTROL_INVALID;
    }
}

/* One line in the log and one rct_control event (history, live view, InfluxDB) per write or refusal,
 * and one more in the model's count of its result (an object that is no control counts as ""). */
static void control_report(rct_poller *p, const sw_rct_control_result *r, const char *object, const char *reason,
                           sw_control_result result)
{
    char old[SW_DOUBLE_TEXT_MAX], want[SW_DOUBLE_TEXT_MAX], back[SW_DOUBLE_TEXT_MAX];
    value_text(old, r->have_old, r->old);
    value_text(want, !isnan(r->target), r->target);
    value_text(back, r->have_back, r->back);
    const char *outcome = sw_rct_control_outcome_name(r->outcome), *origin = sw_rct_control_origin_name(r->origin);
    if (r->outcome == SW_RCT_CONTROL_VERIFIED)
        SW_LOGI(LOG_TARGET, "%s: %s %s -> %s verified after %d write%s (%s)", p->cfg->name, object,
                old[0] ? old : "?", want, r->attempts, r->attempts == 1 ? "" : "s", origin);
    else if (r->outcome == SW_RCT_CONTROL_REFUSED)
        SW_LOGW(LOG_TARGET, "%s: %s = %s refused: %s (%s); nothing was sent", p->cfg->name, object, want, reason,
                origin);
    else
        SW_LOGW(LOG_TARGET, "%s: %s %s -> %s failed after %d write%s: %s; it reads %s (%s)", p->cfg->name, object,
                old[0] ? old : "?", want, r->attempts, r->attempts == 1 ? "" : "s", reason, back[0] ? back : "?",
                origin);
    sw_event ev = { .kind = SW_EVENT_RCT_CONTROL, .source = p->cfg->name, .time_ns = sw_daemon_now_ns(p->d) };
    ev.u.rct_control = (sw_event_rct_control){
        .object = object, .outcome = outcome, .origin = origin, .old_value = old, .new_value = want,
        .read_back = back, .reason = reason ? reason : "", .attempts = r->attempts,
    };
    sw_model_event(p->d->model, &ev);
    sw_control *c = sw_model_control(p->d->model, p->cfg->name, sw_rct_control_def_find(object) ? object : "");
    if (c) {
        c->writes[result]++;
        if (r->attempts > 1)
            c->retries += (uint64_t)r->attempts - 1;
    }
    control_publish(p);
}

/* End the write in progress (reason NULL: as the plan decides, the device ignored it; else failure
 * says what went wrong) and tell. The caller goes on polling. */
static void control_end(rct_poller *p, const char *reason, sw_control_result failure)
{
    if (p->cw == CW_WRITE)
        p->ex.cfg = p->saved_xc;
    p->cw = CW_NONE;
    sw_rct_control_result r;
    sw_rct_control_finish(&p->plan, &r);
    if (!r.def)
        return;
    if (!reason && r.outcome != SW_RCT_CONTROL_VERIFIED) {
        reason = "the device did not take the value";
        failure = SW_CONTROL_IGNORED;
    }
    control_report(p, &r, r.def->object, r.outcome == SW_RCT_CONTROL_VERIFIED ? NULL : reason,
                   r.outcome == SW_RCT_CONTROL_VERIFIED ? SW_CONTROL_VERIFIED : failure);
}

static void control_read(rct_poller *p, enum control_step step)
{
    set_member(p, 0);
    p->cw = step;
    p->cw_have = false;
    p->req_cmd = SW_RCT_CMD_READ;
    p->req_id = p->cw_obj->id;
    p->req_len = 0;
    sw_rct_exchange_start(&p->ex, SW_RCT_CMD_READ, p->cw_obj->id, p->cw_obj->response_type, NULL);
    drive(p);
}

/* Send the target once (false: the write ended instead, the caller goes on polling). */
static bool control_write(rct_poller *p)
{
    const sw_rct_object *o = p->cw_obj;
    sw_err e = sw_rct_control_may_write(&p->plan, sw_loop_now_ms());
    if (e == SW_OK) { /* counted on disk before the frame goes out: a crash cannot forget it */
        sw_daemon_control_state_save(p->d, p->cfg->name, &p->plan, sw_loop_now_ms());
        control_publish(p);
    }
    sw_rct_value v;
    memset(&v, 0, sizeof v);
    v.type = o->request_type;
    if (v.type == SW_RCT_TYPE_FLOAT)
        v.u.f = (double)(float)p->plan.target;
    else if (v.type == SW_RCT_TYPE_BOOL)
        v.u.b = p->plan.target != 0;
    else
        v.u.i = (int64_t)p->plan.target;
    /* The core's one write check (type limits) comes after the plan's (documented limits). */
    if (e == SW_OK)
        e = sw_rct_value_check_write(&v);
    if (e == SW_OK)
        e = sw_rct_value_encode(&v, p->req_payload, sizeof p->req_payload, &p->req_len);
    if (e != SW_OK) {
        control_end(p, sw_err_message(e), e == SW_ERR_RCT_CONTROL_FLASH_BUDGET || e == SW_ERR_RCT_CONTROL_BLOCKED
                                              ? SW_CONTROL_FLASH_SPENT
                                              : SW_CONTROL_ERROR);
        return false;
    }
    set_member(p, 0);
    p->cw = CW_WRITE;
    p->cw_have = false;
    p->req_cmd = SW_RCT_CMD_WRITE;
    p->req_id = o->id;
    /* A write goes out once per attempt of the plan (each counts against the flash budget):
     * the exchange does not repeat it, and waits only briefly for the device's echo. */
    p->saved_xc = p->ex.cfg;
    p->ex.cfg.retries = 0;
    if (p->ex.cfg.timeout_ms > WRITE_ANSWER_MS)
        p->ex.cfg.timeout_ms = WRITE_ANSWER_MS;
    sw_rct_exchange_start(&p->ex, SW_RCT_CMD_WRITE, o->id, o->request_type, NULL);
    drive(p);
    return true;
}

static void control_begin(rct_poller *p)
{
    const sw_rct_control_def *def = p->plan.slots[p->plan.cur].def;
    p->cw_obj = sw_rct_registry_find_name(def->object);
    if (!p->cw_obj) {
        control_end(p, "unknown object", SW_CONTROL_ERROR);
        next_request(p);
        return;
    }
    control_read(p, CW_READ_OLD);
}

/* The exchange of a control step is done: the next step, or the end of the write. */
static void control_after(rct_poller *p)
{
    bool ok = sw_rct_exchange_result(&p->ex) == SW_OK && p->cw_have;
    switch (p->cw) {
    case CW_READ_OLD:
        if (!ok) {
            control_end(p, "no answer when reading the old value, so nothing was written", SW_CONTROL_NO_ANSWER);
            break;
        }
        sw_rct_control_set_old(&p->plan, p->cw_value);
        if (control_write(p))
            return;
        break;
    case CW_WRITE:
        p->ex.cfg = p->saved_xc;
        control_read(p, CW_READ_BACK);
        return;
    case CW_READ_BACK:
        if (!ok) {
            sw_rct_control_io_failed(&p->plan);
            control_end(p, "no answer when reading the value back", SW_CONTROL_NO_ANSWER);
            break;
        }
        if (sw_rct_control_read_back(&p->plan, p->cw_value) == SW_RCT_CONTROL_STEP_WRITE) {
            SW_LOGI(LOG_TARGET, "%s: %s reads back unchanged: writing it again", p->cfg->name, p->cw_obj->name);
            if (control_write(p))
                return;
            break;
        }
        control_end(p, NULL, SW_CONTROL_IGNORED);
        break;
    case CW_NONE:
        break;
    }
    next_request(p);
}

/* Ask the plan for a write; it runs between two reads, or at once while the poller sleeps. */
static sw_err poller_request(rct_poller *p, const char *object, double value, sw_rct_control_origin origin)
{
    sw_err e = sw_rct_control_request(&p->plan, object, value, origin, sw_loop_now_ms());
    if (e != SW_OK) {
        if (origin == SW_RCT_CONTROL_ORIGIN_KEEP &&
            (e == SW_ERR_RCT_CONTROL_RATE_LIMITED || e == SW_ERR_RCT_CONTROL_BUSY ||
             e == SW_ERR_RCT_CONTROL_BLOCKED)) {
            SW_LOGD(LOG_TARGET, "%s: keeping %s waits: %s", p->cfg->name, object, sw_err_message(e));
            return e;
        }
        sw_rct_control_result r = { .origin = origin, .outcome = SW_RCT_CONTROL_REFUSED, .target = value };
        control_report(p, &r, object, sw_err_message(e), refusal(e));
        return e;
    }
    sw_daemon_control_state_save(p->d, p->cfg->name, &p->plan, sw_loop_now_ms()); /* the rate limit */
    if (origin == SW_RCT_CONTROL_ORIGIN_KEEP)
        SW_LOGI(LOG_TARGET, "%s: %s no longer holds the kept value: writing it again", p->cfg->name, object);
    if (p->state == RP_SLEEPING) {
        if (p->timer) {
            sw_loop_del_timer(p->d->loop, p->timer);
            p->timer = 0;
        }
        control_begin(p);
    } else if (p->state != RP_WAITING) {
        control_end(p, "not connected to the inverter", SW_CONTROL_NO_ANSWER);
    }
    return SW_OK;
}

bool sw_daemon_poller_controls(const rct_poller *p) { return p->control; }
const char *sw_daemon_poller_name(const rct_poller *p) { return p->cfg->name; }

sw_err sw_daemon_poller_control(rct_poller *p, const char *object, double value)
{
    if (!p->control)
        return SW_ERR_RCT_CONTROL_NOT_ALLOWED;
    return poller_request(p, object, value, SW_RCT_CONTROL_ORIGIN_COMMAND);
}

void sw_daemon_poller_control_refused(rct_poller *p, const char *object, const char *reason)
{
    sw_rct_control_result r = { .outcome = SW_RCT_CONTROL_REFUSED, .target = NAN };
    control_report(p, &r, object, reason, SW_CONTROL_INVALID);
}

rct_poller *sw_daemon_poller_new(sw_daemon *d, const sw_daemon_rct *cfg)
{
    rct_poller *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->rx = malloc(sizeof *p->rx);
    if (!p->rx) {
        free(p);
        return NULL;
    }
    sw_rct_receiver_init(p->rx);
    sw_rct_exchange_config xc;
    sw_rct_exchange_config_default(&xc);
    xc.timeout_ms = cfg->timeout_ms;
    xc.retries = cfg->retries;
    xc.backoff_ms = 0; /* the next object waits; retry at once */
    xc.backoff_max_ms = 0;
    xc.cut_ends_attempt = false;
    sw_rct_exchange_init(&p->ex, &xc);
    p->control = cfg->control;
    sw_rct_control_config cc = { cfg->control_rate_ms, cfg->control_retries, (unsigned)cfg->control_flash_per_day };
    sw_rct_control_plan_init(&p->plan, &cc);
    for (size_t i = 0; i < cfg->n_allow; i++)
        (void)sw_rct_control_allow(&p->plan, cfg->allow[i]);
    for (size_t i = 0; i < cfg->n_keep; i++)
        (void)sw_rct_control_keep(&p->plan, cfg->keep[i].object, cfg->keep[i].value);
    p->d = d;
    p->cfg = cfg;
    p->fd = -1;
    char addr[SW_MODEL_TEXT_MAX + 300];
    snprintf(addr, sizeof addr, "%s:%u", cfg->host, (unsigned)cfg->port);
    p->st = sw_model_source(d->model, cfg->name, SW_SOURCE_RCT_TCP, addr);
    if (!p->st) {
        free(p->rx);
        free(p);
        return NULL;
    }
    p->n_members = 1 + (cfg->n_addresses < SW_DAEMON_MAX_RCT_PLANT ? cfg->n_addresses : SW_DAEMON_MAX_RCT_PLANT);
    for (size_t i = 0; i < p->n_members; i++) {
        struct member *m = &p->members[i];
        m->address = i ? cfg->addresses[i - 1] : 0;
        if (i)
            snprintf(m->inv.name, sizeof m->inv.name, "%.*s-%u", (int)(sizeof m->inv.name - 12), cfg->name,
                     (unsigned)m->address);
        else
            snprintf(m->inv.name, sizeof m->inv.name, "%s", cfg->name);
        sw_daemon_copy_text(m->inv.host, sizeof m->inv.host, cfg->host);
        m->inv.port = cfg->port;
        sw_model_inverter_set(d->model, &m->inv, sw_daemon_now_ns(d));
    }
    return p;
}

sw_err sw_daemon_poller_proxy_start(rct_poller *p, char *err, size_t errcap)
{
    const sw_daemon_rct *cfg = p->cfg;
    if (!cfg->proxy)
        return SW_OK;
    sw_rct_proxy_config pc = cfg->proxy_cfg;
    pc.listen_host = cfg->proxy_host;
    pc.upstream_host = cfg->host;
    pc.upstream_port = cfg->port;
    pc.exchange.timeout_ms = cfg->timeout_ms;
    pc.exchange.retries = cfg->retries;
    pc.reconnect_delay_ms = cfg->reconnect_delay_ms;
    pc.reconnect_max_ms = cfg->reconnect_max_ms;
    pc.name = cfg->name;
    pc.summary_ms = 600000;
    sw_err e = sw_rct_proxy_start(p->d->loop, &pc, &p->proxy);
    if (e != SW_OK) {
        snprintf(err, errcap, "[rct %s] proxy = %s:%u: cannot listen: %s", cfg->name, cfg->proxy_host,
                 (unsigned)pc.listen_port, e == SW_ERR_BIND ? strerror(errno) : sw_err_message(e));
        return e;
    }
    /* The proxy retries upstream; the poller waits for all of its attempts, once. */
    sw_rct_exchange_config xc = p->ex.cfg;
    xc.timeout_ms = (int64_t)cfg->timeout_ms * (cfg->retries + 1) + pc.exchange.backoff_max_ms * cfg->retries + 1000;
    xc.retries = 0;
    sw_rct_exchange_init(&p->ex, &xc);
    SW_LOGI(LOG_TARGET, "%s: RCT proxy listening on %s:%u; writes %s", cfg->name, cfg->proxy_host,
            (unsigned)sw_rct_proxy_port(p->proxy), pc.n_allow_write ? "from the allowed addresses only" : "refused");
    return SW_OK;
}

void sw_daemon_poller_start(rct_poller *p)
{
    if (p->control) {
        sw_daemon_control_state_load(p->d, p->cfg->name, &p->plan, sw_loop_now_ms());
        control_publish(p);
    }
    poller_connect(p);
}

void sw_daemon_poller_free(rct_poller *p)
{
    if (!p)
        return;
    if (p->proxy) {
        sw_rct_proxy_counters pc;
        char text[1024];
        sw_rct_proxy_get_counters(p->proxy, &pc);
        sw_rct_proxy_counters_text(&pc, text, sizeof text);
        SW_LOGI(LOG_TARGET, "%s: proxy counters: %s", p->cfg->name, text);
    }
    if (p->timer)
        sw_loop_del_timer(p->d->loop, p->timer);
    if (p->control_timer)
        sw_loop_del_timer(p->d->loop, p->control_timer);
    lookup_drop(p);
    if (p->fd >= 0) {
        sw_loop_del_fd(p->d->loop, p->fd);
        close(p->fd);
    }
    sw_rct_proxy_stop(p->proxy);
    free(p->storage);
    free(p->rx);
    free(p);
}
