/*
 * tigo_listen.c: one Tigo RS-485 bus, listened to inside the daemon's loop.
 *
 * Layer: I/O edge above the Tigo observer. Bytes are read non-blocking from a
 * serial port or a TCP bridge whenever the loop says the fd is readable and
 * pushed into the bus's own sw_tigo_observer with the wall-clock time they
 * arrived; the observer's events become model mutations. The observer is
 * trusted for everything protocol: it checks CRCs, lengths and slot clocks.
 * What this file owns: connection state, reconnect with capped backoff, the
 * idle timeout of a silent TCP session, and persisting the bus's Tigo state
 * (identities, node tables) so names survive a restart.
 *
 * The reconnect and idle rules and their one timer are the CLI's too
 * (sw_reconnect_timer, io/io_source.h): a quiet bus costs no wakeups beyond
 * the idle check. The connect and its timeout are sw_tcp_connector's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon_internal.h"
#include "health/bus.h"
#include "io/io_file.h"
#include "io/log.h"
#include "sunwire/tigo_barcode.h"
#include "sunwire/tigo_observer.h"
#include "tigo/doctor.h"

#define LOG_TARGET "sunwire::tigo"
#define CONNECT_TIMEOUT_MS 10000
/* Byte and frame counters go to the sinks at most this often; state changes go at once. */
#define STATUS_EVERY_MS 5000
/* The line is judged this often from what came since the window opened; a window
 * is closed after DIAGNOSIS_WINDOW_MS so an old healthy hour cannot hide a new fault. */
#define DIAGNOSIS_EVERY_MS 5000
#define DIAGNOSIS_WINDOW_MS 60000
/* The bus's health timer sleeps until the watchdog has something to judge, within these bounds. */
#define HEALTH_MIN_SLEEP_MS 100
#define HEALTH_MAX_SLEEP_MS 10000 /* as the housekeeping tick: a simulation's bus time may run faster */

enum bus_state { BUS_IDLE = 0, BUS_CONNECTING, BUS_UP };

struct tigo_bus {
    sw_daemon *d;
    const sw_daemon_tigo *cfg;
    sw_source_status *st;
    sw_tigo_observer *obs;
    sw_tigo_doctor *doctor;   /* the line diagnosis of the current window */
    int64_t window_ms;        /* when that window opened */
    uint64_t diag_timer;
    /* health detectors (src/health), fed from the observer's events and transport tap */
    sw_health_bus *health;
    uint64_t health_timer;
    int64_t push_ns;          /* the time of the bytes being pushed, for the transport tap */
    int fd;
    sw_tcp_connector *connecting; /* the connect to a TCP bridge, until it is done */
    enum bus_state state;
    sw_reconnect_timer rt;    /* when to reconnect and when a silent session is dropped */
    int64_t last_status_ms;   /* when the sinks last heard the byte counters */
    bool state_dirty;
    char state_path[SW_DAEMON_PATH_MAX + 80];
    uint8_t buf[4096];
};

static void bus_connect(tigo_bus *b);
static void health_rearm(tigo_bus *b);

static void connect_drop(tigo_bus *b)
{
    sw_tcp_connector_cancel(b->connecting);
    b->connecting = NULL;
}

static void status_changed(tigo_bus *b) { sw_model_source_changed(b->d->model, b->st, sw_daemon_now_ns(b->d)); }

/* Drop the connection and try again after the next backoff step. */
static void bus_fail_as(tigo_bus *b, const char *what, int err, bool idle)
{
    connect_drop(b);
    if (b->fd >= 0) {
        sw_loop_del_fd(b->d->loop, b->fd);
        close(b->fd);
        b->fd = -1;
    }
    bool was_up = b->state == BUS_UP;
    b->state = BUS_IDLE;
    sw_health_bus_connected(b->health, false, sw_daemon_now_ns(b->d));
    int64_t now = sw_loop_now_ms();
    if (was_up)
        sw_reconnect_lost(&b->rt.rc, now, idle);
    else
        sw_reconnect_open_failed(&b->rt.rc, now);
    int64_t delay = sw_reconnect_next_ms(&b->rt.rc) - now;
    snprintf(b->st->last_error, sizeof b->st->last_error, "%s%s%s", what, err ? ": " : "",
             err ? strerror(err) : "");
    b->st->connected = false;
    if (was_up || b->rt.rc.failures == 1)
        SW_LOGW(LOG_TARGET, "%s (%s): %s; reconnecting in %lld ms", b->cfg->name, b->st->address,
                b->st->last_error, (long long)delay);
    else
        SW_LOGD(LOG_TARGET, "%s: %s; next attempt in %lld ms", b->cfg->name, b->st->last_error, (long long)delay);
    status_changed(b);
    if (was_up)
        sw_daemon_source_down(b->d, b->cfg->name, b->st->last_error);
    sw_reconnect_timer_arm(&b->rt);
}

static void bus_fail(tigo_bus *b, const char *what, int err) { bus_fail_as(b, what, err, false); }

/* The reconnect timer: the pause after a failure is over, or the session went silent. */
static int on_reconnect(sw_reconnect_timer *t, sw_reconnect_action a, void *user)
{
    (void)t;
    tigo_bus *b = user;
    if (a == SW_RECONNECT_OPEN)
        bus_connect(b);
    else
        bus_fail_as(b, "no data within the reconnect timeout", 0, true);
    return 0;
}

/* ---- observer events into the model ------------------------------------------------ */
static void barcode_of(const uint8_t *addr, char out[16])
{
    out[0] = 0;
    if (addr && sw_tigo_addr_is_tigo(addr)) {
        char bc[SW_TIGO_BARCODE_MAX];
        sw_tigo_barcode_format(addr, bc);
        sw_daemon_copy_text(out, 16, bc);
    }
}

/* Gateways and node identities from the observer's state, into the model. */
static void sync_state(tigo_bus *b, const sw_tigo_state *s, int64_t now_ns)
{
    for (uint32_t i = 0; i < s->n_gateways; i++) {
        const sw_tigo_gateway_record *r = &s->gateways[i];
        sw_gateway g;
        memset(&g, 0, sizeof g);
        snprintf(g.source, sizeof g.source, "%s", b->cfg->name);
        g.gateway_id = r->id;
        if (r->has_address) {
            char a[SW_TIGO_ADDR_TEXT_MAX];
            sw_tigo_addr_format(r->address, a);
            snprintf(g.address, sizeof g.address, "%s", a);
            barcode_of(r->address, g.barcode);
        }
        if (r->has_version) {
            size_t n = strcspn(r->version, "\r\n");
            snprintf(g.version, sizeof g.version, "%.*s", (int)n, r->version);
        }
        sw_model_gateway_set(b->d->model, &g, now_ns);
    }
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        const sw_tigo_node_record *n = &s->nodes[i];
        char bc[16];
        barcode_of(n->address, bc);
        if (!bc[0])
            continue;
        sw_model_panel_identity(b->d->model, b->cfg->name, n->gateway, n->node_id, bc, now_ns);
        sw_daemon_note_barcode(b->d, b->cfg->name, n->gateway, n->node_id, bc);
    }
}

/* The observer's transport tap: what the health detectors read besides power reports. */
static int on_transport(sw_tigo_transport *t, const sw_tigo_transport_event *ev, void *user)
{
    (void)t;
    tigo_bus *b = user;
    sw_health_bus_transport(b->health, b->d->model, ev, b->push_ns);
    return 0;
}

static int on_event(sw_tigo_observer *o, const sw_tigo_observer_event *ev, void *user)
{
    (void)o;
    tigo_bus *b = user;
    switch (ev->kind) {
    case SW_TIGO_OBSERVER_POWER_REPORT: {
        const sw_tigo_power_event *p = &ev->u.power;
        sw_panel_report r;
        sw_health_bus_power(b->health, p, &r);
        char bc[16] = "";
        barcode_of(p->node_address, bc);
        r.barcode = bc[0] ? bc : NULL;
        sw_err e = sw_model_panel_report(b->d->model, b->cfg->name, p->gateway, p->node, &r);
        if (e != SW_OK)
            SW_LOGW(LOG_TARGET, "%s: panel %u/%u not stored: %s", b->cfg->name, p->gateway, p->node,
                    sw_err_message(e));
        else
            sw_health_bus_power_stored(b->health, b->d->model, p);
        if (bc[0])
            sw_daemon_note_barcode(b->d, b->cfg->name, p->gateway, p->node, bc);
        sw_tigo_doctor_note_node(b->doctor, p->gateway, p->node);
        /* the panels against their peers, on the bus's time (at most one round per peer_interval) */
        if (b->d->peers)
            sw_peers_check(b->d->peers, b->d->model, r.time_ns);
        b->d->energy_dirty = true;
        sw_daemon_wake_tick(b->d);
        break;
    }
    case SW_TIGO_OBSERVER_INFRASTRUCTURE:
        if (ev->u.infrastructure.changed) {
            static const char *const causes[] = {"", "identity", "version", "enumeration", "node_table"};
            unsigned cause = (unsigned)ev->u.infrastructure.cause;
            sw_daemon_gateway_changed(b->d, b->cfg->name, ev->u.infrastructure.gateway, cause < 5 ? causes[cause] : "");
            int64_t now = sw_daemon_now_ns(b->d);
            sync_state(b, ev->u.infrastructure.state, now);
            sw_health_bus_infrastructure(b->health, b->d->model, &ev->u.infrastructure, now);
            b->state_dirty = true;
            /* Identities are rare (mostly at night) and precious: keep them at once. */
            sw_daemon_bus_save(b, false);
        }
        break;
    case SW_TIGO_OBSERVER_DIAGNOSTIC:
        SW_LOGD(LOG_TARGET, "%s: gateway %u: %s", b->cfg->name, ev->u.diagnostic.gateway,
                sw_tigo_diagnostic_name(ev->u.diagnostic.code));
        break;
    }
    return 0;
}

/* ---- I/O ------------------------------------------------------------------------------ */
static void on_readable(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)events;
    tigo_bus *b = user;
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(fd, b->buf, sizeof b->buf);
        if (n > 0) {
            int64_t now = sw_daemon_now_ns(b->d);
            sw_reconnect_data(&b->rt.rc, sw_loop_now_ms());
            b->push_ns = now;
            sw_tigo_observer_push(b->obs, b->buf, (size_t)n, now, NULL);
            sw_tigo_doctor_push(b->doctor, b->buf, (size_t)n, now);
            const sw_tigo_link_counters *lc = sw_tigo_observer_get_link_counters(b->obs);
            b->st->bytes += (uint64_t)n;
            b->st->frames = lc->frames;
            b->st->crc_errors = lc->checksums;
            b->st->resyncs = lc->noise + lc->runts + lc->giants;
            b->st->last_data_ns = now;
            if (b->st->last_error[0])
                b->st->last_error[0] = 0;
            continue;
        }
        if (n == 0) {
            bus_fail(b, "connection closed by the peer", 0);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        bus_fail(b, "read failed", errno);
        return;
    }
    int64_t now_ms = sw_loop_now_ms();
    if (now_ms - b->last_status_ms >= STATUS_EVERY_MS) {
        b->last_status_ms = now_ms;
        status_changed(b);
    }
}

/* Judge the line: the same words as `sunwire tigo doctor`, in the source's status. */
static int64_t on_diagnose(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop;
    (void)id;
    tigo_bus *b = user;
    int64_t now_ms = sw_loop_now_ms();
    if (b->state != BUS_UP) {
        b->window_ms = now_ms; /* a closed line is reported as an error; judge it again once open */
        sw_tigo_doctor_reset(b->doctor);
        return DIAGNOSIS_EVERY_MS;
    }
    int64_t now_ns = sw_daemon_now_ns(b->d);
    sw_tigo_doctor_result r;
    if (b->doctor->bytes == 0 && b->st->last_data_ns != 0) {
        /* nothing this window, but bytes before: quiet long enough to say so? */
        int64_t quiet_s = (now_ns - b->st->last_data_ns) / 1000000000LL;
        if (quiet_s < SW_TIGO_DOCTOR_QUIET_S)
            return DIAGNOSIS_EVERY_MS;
        sw_tigo_doctor_verdict_get(b->doctor, 0, &r);
        snprintf(r.text, sizeof r.text, "no bytes for %lld s: check power and the A/B connection",
                 (long long)quiet_s);
    } else if (b->doctor->bytes == 0 && now_ms - b->window_ms < DIAGNOSIS_EVERY_MS) {
        return DIAGNOSIS_EVERY_MS;
    } else {
        sw_tigo_doctor_verdict_get(b->doctor, 0, &r);
    }
    if (now_ms - b->window_ms >= DIAGNOSIS_WINDOW_MS) {
        sw_tigo_doctor_reset(b->doctor);
        b->window_ms = now_ms;
    }
    if (sw_daemon_line_verdict(b->d->model, b->st, &r, now_ns)) {
        if (r.verdict == SW_TIGO_DOCTOR_HEALTHY)
            SW_LOGI(LOG_TARGET, "%s: line: %s", b->cfg->name, r.text);
        else
            SW_LOGW(LOG_TARGET, "%s: line: %s", b->cfg->name, r.text);
        status_changed(b);
    }
    return DIAGNOSIS_EVERY_MS;
}

bool sw_daemon_line_verdict(sw_model *m, sw_source_status *st, const sw_tigo_doctor_result *r, int64_t now_ns)
{
    if (r->verdict == SW_TIGO_DOCTOR_HEALTHY)
        sw_model_problem_clear(m, SW_PROBLEM_LINE, st->name, st->name, now_ns);
    else
        sw_model_problem_raise(m, SW_PROBLEM_LINE, st->name, st->name, NULL, r->text, now_ns);
    if (strcmp(r->text, st->diagnosis) == 0)
        return false;
    snprintf(st->diagnosis, sizeof st->diagnosis, "%s", r->text);
    return true;
}

static void bus_up(tigo_bus *b)
{
    b->state = BUS_UP;
    sw_reconnect_opened(&b->rt.rc, sw_loop_now_ms());
    if (b->st->connected == false && b->st->reconnects == 0 && b->rt.rc.failures == 0)
        SW_LOGI(LOG_TARGET, "%s: connected to %s", b->cfg->name, b->st->address);
    else
        SW_LOGI(LOG_TARGET, "%s: connected to %s again", b->cfg->name, b->st->address);
    b->st->connected = true;
    b->st->last_error[0] = 0;
    sw_health_bus_connected(b->health, true, sw_daemon_now_ns(b->d));
    health_rearm(b);
    sw_daemon_source_up(b->d, b->cfg->name, b->st->address);
    sw_loop_add_fd(b->d->loop, b->fd, SW_LOOP_READ, on_readable, b);
    sw_reconnect_timer_arm(&b->rt); /* the idle check of a TCP session, else nothing */
    status_changed(b);
}

static void on_connected(sw_tcp_connector *c, sw_err e, int fd, void *user)
{
    (void)c;
    tigo_bus *b = user;
    int err = errno;
    b->connecting = NULL;
    if (e == SW_ERR_RESOLVE && err == ETIMEDOUT)
        bus_fail(b, "host name lookup timed out", 0);
    else if (e == SW_ERR_TIMEOUT)
        bus_fail(b, "connect timed out", 0);
    else if (e == SW_ERR_CONNECT)
        bus_fail(b, "connect failed", err);
    else if (e != SW_OK)
        bus_fail(b, sw_err_message(e), 0);
    if (e != SW_OK)
        return;
    b->fd = fd;
    (void)sw_tcp_keepalive(b->fd, b->cfg->keepalive_idle_s, b->cfg->keepalive_interval_s, b->cfg->keepalive_count);
    bus_up(b);
}

static void bus_connect(tigo_bus *b)
{
    if (b->st->bytes > 0 || b->rt.rc.failures > 0)
        b->st->reconnects++;
    sw_reconnect_start(&b->rt.rc, sw_loop_now_ms());
    if (b->cfg->serial) {
        sw_err e = sw_serial_open(b->cfg->device, &b->fd);
        if (e == SW_OK && sw_fd_set_nonblocking(b->fd, 1) != SW_OK) {
            close(b->fd);
            e = SW_ERR_IO;
        }
        if (e != SW_OK) {
            b->fd = -1;
            bus_fail(b, sw_err_message(e), errno);
            return;
        }
        bus_up(b);
        return;
    }
    /* One connect timeout covers the lookup and every address tried. */
    sw_err e = sw_tcp_connector_start(b->d->loop, b->cfg->host, b->cfg->port, CONNECT_TIMEOUT_MS, NULL, on_connected, b,
                                      &b->connecting);
    if (e != SW_OK) {
        bus_fail(b, sw_err_message(e), e == SW_ERR_IO ? errno : 0);
        return;
    }
    b->state = BUS_CONNECTING;
}

/* ---- lifecycle --------------------------------------------------------------------------- */
sw_err sw_daemon_bus_save(tigo_bus *b, bool force)
{
    if (!b->state_path[0] || (!b->state_dirty && !force))
        return SW_OK;
    const sw_tigo_state *s = sw_tigo_observer_state(b->obs);
    size_t cap = sw_tigo_state_serialized_max(s) + 1, len = 0;
    char *text = malloc(cap);
    if (!text)
        return SW_ERR_NO_MEMORY;
    sw_err e = sw_tigo_state_serialize(s, text, cap, &len);
    if (e == SW_OK)
        e = sw_daemon_write_atomic(b->state_path, text, len);
    free(text);
    if (e == SW_OK)
        b->state_dirty = false;
    else
        SW_LOGW(LOG_TARGET, "%s: cannot save %s: %s", b->cfg->name, b->state_path, sw_io_reason(e, errno));
    return e;
}

static void load_state(tigo_bus *b)
{
    char *text = NULL;
    size_t len = 0;
    sw_err e = sw_daemon_read_file(b->state_path, &text, &len);
    if (e == SW_ERR_NOT_FOUND)
        return;
    if (e != SW_OK) {
        SW_LOGW(LOG_TARGET, "%s: cannot read %s: %s", b->cfg->name, b->state_path, sw_io_reason(e, errno));
        return;
    }
    char why[200] = "";
    e = sw_tigo_state_parse(sw_tigo_observer_state(b->obs), text, len, why, sizeof why);
    free(text);
    if (e != SW_OK) {
        SW_LOGW(LOG_TARGET, "%s: ignoring %s: %s", b->cfg->name, b->state_path, why[0] ? why : sw_err_message(e));
        return;
    }
    const sw_tigo_state *s = sw_tigo_observer_state(b->obs);
    SW_LOGI(LOG_TARGET, "%s: loaded %u gateways and %u nodes from %s", b->cfg->name, (unsigned)s->n_gateways,
            (unsigned)s->n_nodes, b->state_path);
    int64_t now = sw_daemon_now_ns(b->d);
    sync_state(b, s, now);
    /* What was known before is the reference the watchdog compares new tables and versions with. */
    sw_health_bus_state_loaded(b->health, b->d->model, s, now);
}

/* How long the bus's health timer may sleep: until the watchdog has something to judge (a quiet bus
 * costs one wakeup per silence threshold), within bounds, since bus time may run faster than the loop's. */
static int64_t health_sleep_ms(tigo_bus *b, int64_t now)
{
    int64_t due = sw_health_bus_next_ns(b->health, now);
    int64_t ms = due == INT64_MAX ? HEALTH_MAX_SLEEP_MS : (due - now) / 1000000 + 1;
    return ms < HEALTH_MIN_SLEEP_MS ? HEALTH_MIN_SLEEP_MS : ms > HEALTH_MAX_SLEEP_MS ? HEALTH_MAX_SLEEP_MS : ms;
}

static int64_t on_health(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    tigo_bus *b = user;
    int64_t now = sw_daemon_now_ns(b->d);
    sw_health_bus_tick(b->health, b->d->model, now);
    return health_sleep_ms(b, now);
}

/* A deadline may have come closer (the bus connected): aim the timer again. */
static void health_rearm(tigo_bus *b)
{
    if (b->health_timer)
        sw_loop_del_timer(b->d->loop, b->health_timer);
    b->health_timer = sw_loop_add_timer(b->d->loop, health_sleep_ms(b, sw_daemon_now_ns(b->d)), on_health, b);
}

tigo_bus *sw_daemon_bus_new(sw_daemon *d, const sw_daemon_tigo *cfg)
{
    tigo_bus *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->obs = malloc(sizeof *b->obs);
    b->doctor = malloc(sizeof *b->doctor);
    b->health = malloc(sizeof *b->health);
    if (!b->obs || !b->doctor || !b->health) {
        free(b->obs);
        free(b->doctor);
        free(b->health);
        free(b);
        return NULL;
    }
    sw_tigo_doctor_init(b->doctor);
    b->d = d;
    b->cfg = cfg;
    b->fd = -1;
    sw_reconnect_config rcfg = {
        .delay_ms = cfg->reconnect_delay_ms,
        .max_delay_ms = cfg->reconnect_max_ms,
        /* Only a TCP session can be silently dead; a serial port reports its end. */
        .idle_ms = !cfg->serial && cfg->idle_timeout_s > 0 ? (int64_t)cfg->idle_timeout_s * 1000 : 0,
        .retry_limit = 0, /* the daemon never gives up on a bus */
    };
    sw_reconnect_timer_init(&b->rt, d->loop, &rcfg, on_reconnect, b);
    char addr[SW_DAEMON_PATH_MAX + 300];
    if (cfg->serial)
        snprintf(addr, sizeof addr, "%s", cfg->device);
    else
        snprintf(addr, sizeof addr, "%s:%u", cfg->host, (unsigned)cfg->port);
    b->st = sw_model_source(d->model, cfg->name, cfg->serial ? SW_SOURCE_TIGO_SERIAL : SW_SOURCE_TIGO_TCP, addr);
    if (!b->st) {
        free(b->obs);
        free(b->doctor);
        free(b->health);
        free(b);
        return NULL;
    }
    sw_tigo_observer_init(b->obs, 0, on_event, b);
    sw_tigo_observer_set_transport_tap(b->obs, on_transport, b);
    sw_health_bus_init(b->health, &d->cfg->health_radio, &d->cfg->health_watchdog, cfg->name);

    char name[SW_MODEL_NAME_MAX + 16];
    snprintf(name, sizeof name, "tigo-%s.json", cfg->name);
    if (sw_daemon_state_path(d, name, b->state_path, sizeof b->state_path) == SW_OK)
        load_state(b);
    return b;
}

void sw_daemon_bus_start(tigo_bus *b)
{
    b->window_ms = sw_loop_now_ms();
    b->diag_timer = sw_loop_add_timer(b->d->loop, DIAGNOSIS_EVERY_MS, on_diagnose, b);
    health_rearm(b);
    bus_connect(b);
}

void sw_daemon_bus_free(tigo_bus *b)
{
    if (!b)
        return;
    sw_daemon_bus_save(b, false);
    sw_reconnect_timer_stop(&b->rt);
    if (b->diag_timer)
        sw_loop_del_timer(b->d->loop, b->diag_timer);
    if (b->health_timer)
        sw_loop_del_timer(b->d->loop, b->health_timer);
    connect_drop(b);
    if (b->fd >= 0) {
        sw_loop_del_fd(b->d->loop, b->fd);
        close(b->fd);
    }
    free(b->obs);
    free(b->doctor);
    free(b->health);
    free(b);
}
