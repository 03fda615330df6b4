/*
 * daemon.c: `sunwire run`'s lifecycle: build the model, load the state
 * directory, start outputs and sources, run the loop, persist and stop.
 *
 * Everything happens on one thread in one sw_loop. Signals reach
 * sw_daemon_on_signal from the loop (the program watches them with
 * io/stop_signals.h; the daemon keeps no global state), so a handler never
 * touches the model.
 * Housekeeping runs on two timers: the tick (night/stale panels, local
 * midnight) and the periodic save of the energy counters. Both are only
 * armed at their period, so an idle daemon sleeps in poll().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon_internal.h"
#include "sunwire/json.h"
#include "io/io_file.h"
#include "io/log.h"
#include "io/net.h"
#include "sunwire_config.h"

#define LOG_TARGET "sunwire::run"

void sw_daemon_copy_text(char *dst, size_t cap, const char *src)
{
    if (!cap)
        return;
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
}

int64_t sw_daemon_now_ns(const sw_daemon *d)
{
    return d && d->clock ? d->clock(d->clock_user) : sw_now_realtime_ns();
}

void sw_daemon_set_clock(sw_daemon *d, int64_t (*now_ns)(void *user), void *user)
{
    d->clock = now_ns;
    d->clock_user = user;
    sw_model_set_started_ns(d->model, sw_daemon_now_ns(d));
}

void sw_daemon_source_up(sw_daemon *d, const char *source, const char *address)
{
    sw_event ev = { .kind = SW_EVENT_SOURCE_UP, .source = source, .time_ns = sw_daemon_now_ns(d) };
    ev.u.source_up.address = address;
    sw_model_event(d->model, &ev);
}

void sw_daemon_gateway_changed(sw_daemon *d, const char *source, uint16_t gateway, const char *cause)
{
    sw_event ev = { .kind = SW_EVENT_INFRASTRUCTURE, .source = source, .time_ns = sw_daemon_now_ns(d) };
    ev.u.infrastructure.gateway = gateway;
    ev.u.infrastructure.cause = cause;
    sw_model_event(d->model, &ev);
}

void sw_daemon_rct_fault(sw_daemon *d, const char *source, const char *object, uint32_t value, const char *faults)
{
    sw_event ev = { .kind = SW_EVENT_RCT_FAULT, .source = source, .time_ns = sw_daemon_now_ns(d) };
    ev.u.rct_fault.object = object;
    ev.u.rct_fault.value = value;
    ev.u.rct_fault.faults = faults;
    sw_model_event(d->model, &ev);
}

void sw_daemon_source_down(sw_daemon *d, const char *source, const char *error)
{
    sw_event ev = { .kind = SW_EVENT_SOURCE_DOWN, .source = source, .time_ns = sw_daemon_now_ns(d) };
    ev.u.source_down.error = error;
    sw_model_event(d->model, &ev);
}

int64_t sw_backoff_ms(unsigned attempt, int64_t base_ms, int64_t max_ms)
{
    if (base_ms <= 0)
        base_ms = 1;
    int64_t d = base_ms;
    for (unsigned i = 0; i < attempt && d < max_ms; i++)
        d *= 2;
    return d > max_ms ? max_ms : d;
}

void sw_daemon_note_barcode(sw_daemon *d, const char *source, uint16_t gw, uint16_t node, const char *barcode)
{
    if (!barcode || !barcode[0])
        return;
    const sw_panel *p = sw_model_panel_find(d->model, source, gw, node);
    if (p && p->mapped)
        return;
    for (size_t i = 0; i < d->n_logged; i++)
        if (strcmp(d->logged[i], barcode) == 0)
            return;
    if (d->n_logged < SW_DAEMON_LOGGED_BARCODES)
        snprintf(d->logged[d->n_logged++], 16, "%s", barcode);
    sw_event ev = { .kind = SW_EVENT_UNMAPPED_PANEL, .source = source, .time_ns = sw_daemon_now_ns(d) };
    ev.u.unmapped_panel.barcode = barcode;
    sw_model_event(d->model, &ev);
    SW_LOGI(LOG_TARGET, "unmapped panel: barcode %s (source %s, gateway %u, node %u); add it to [panels] as "
            "modules = STRING:NAME:%s",
            barcode, source, (unsigned)gw, (unsigned)node, barcode);
}

/* ---- time zone for "today" ------------------------------------------------------------ */
static int32_t tz_offset(void *user, int64_t unix_ns)
{
    const sw_daemon_config *c = user;
    switch (c->tz) {
    case SW_DAEMON_TZ_UTC:
        return 0;
    case SW_DAEMON_TZ_FIXED:
        return c->tz_offset_s;
    case SW_DAEMON_TZ_LOCAL:
    default:
        return sw_local_utc_offset(unix_ns);
    }
}

/* ---- the service manager ------------------------------------------------------------------ */
/* READY=1 (or anything else in `state`) with a STATUS= line saying what runs. */
static void notify_status(sw_daemon *d, const char *state)
{
    char outs[384], msg[640];
    sw_daemon_outputs_describe(d->cfg, outs, sizeof outs);
    snprintf(msg, sizeof msg, "%s\nSTATUS=%zu Tigo bus(es), %zu inverter(s), %zu mapped panel(s); outputs: %s", state,
             d->cfg->n_tigo, d->cfg->n_rct, d->n_mapped, outs);
    sw_notify_send(&d->notify, msg);
}

/* Fed from the loop, so a loop stuck in a callback stops feeding it and systemd restarts us. */
static int64_t on_watchdog(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_daemon *d = user;
    sw_notify_send(&d->notify, "WATCHDOG=1");
    int64_t half = sw_notify_watchdog_ms() / 2;
    return half > 0 ? half : 1;
}

/* ---- signals ---------------------------------------------------------------------------- */
static void reload_panels(sw_daemon *d)
{
    if (!d->cfg->file[0]) {
        SW_LOGI(LOG_TARGET, "SIGHUP: no configuration file to reload the panel map from");
        return;
    }
    sw_daemon_config *fresh = calloc(1, sizeof *fresh);
    char err[512] = "";
    if (!fresh || sw_daemon_config_init(fresh) != SW_OK) {
        free(fresh);
        return;
    }
    if (sw_daemon_config_load(fresh, d->cfg->file, err, sizeof err) != SW_OK) {
        SW_LOGW(LOG_TARGET, "SIGHUP: panel map kept: %s", err);
    } else if (sw_model_set_panel_map(d->model, fresh->panels, fresh->n_panels) == SW_OK) {
        SW_LOGI(LOG_TARGET, "SIGHUP: panel map reloaded (%zu panels)", fresh->n_panels);
        d->n_logged = 0;
        d->n_mapped = fresh->n_panels;
    }
    sw_daemon_config_free(fresh);
    free(fresh);
}

int sw_daemon_on_signal(sw_loop *loop, int sig, void *user)
{
    (void)loop;
    sw_daemon *d = *(sw_daemon **)user;
    if (sig != SIGHUP || !d) {
        SW_LOGI(LOG_TARGET, "signal %d: stopping", sig);
        return 1;
    }
    /* systemd >= 253 wants the monotonic time with RELOADING=1 (Type=notify-reload). */
    char msg[96];
    snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%lld", (long long)sw_loop_now_ms() * 1000);
    sw_notify_send(&d->notify, msg);
    reload_panels(d);
    /* What a reload cannot change is at least on disk now. */
    sw_daemon_save(d);
    notify_status(d, "READY=1");
    return 0;
}

/* ---- problems in the log ------------------------------------------------------------------ */
/* Every problem raised or cleared leaves one line in the log (the journal under systemd). */
static void log_problem(void *self, const sw_problem *p)
{
    (void)self;
    const char *kind = sw_problem_kind_name(p->kind);
    if (p->active)
        SW_LOGW(LOG_TARGET, "problem: %s on %s %s (%s): %s", kind, sw_subject_kind_name(p->subject_kind), p->name,
                p->source, p->reason);
    else
        SW_LOGI(LOG_TARGET, "problem cleared: %s on %s %s (%s)", kind, sw_subject_kind_name(p->subject_kind),
                p->name, p->source);
}

static const sw_sink_ops problem_log_ops = {.name = "problem-log", .on_problem = log_problem};

/* ---- housekeeping ------------------------------------------------------------------------- */
/*
 * While some panel is online the tick runs every `tick` to notice silence.
 * With none online (night, or no Tigo bus at all) the only thing left to do
 * is the midnight roll-over, so it sleeps until then (at most an hour); the
 * first report wakes it again.
 */
static int64_t on_tick(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_daemon *d = user;
    int64_t now = sw_daemon_now_ns(d);
    if (sw_model_tick(d->model, now) > 0)
        d->energy_dirty = true;
    for (size_t i = 0; i < sw_model_panel_count(d->model); i++) {
        if (sw_model_panel_at(d->model, i)->online) {
            d->tick_long = false;
            return d->cfg->tick_ms;
        }
    }
    int64_t day_ns = INT64_C(86400000000000);
    int64_t next_day = sw_model_local_day(d->model, now) + 1;
    int32_t off = tz_offset((void *)d->cfg, now);
    int64_t midnight = next_day * day_ns - (int64_t)off * 1000000000;
    int64_t ms = (midnight - now) / 1000000 + 1000;
    if (ms > 3600000)
        ms = 3600000;
    if (ms < d->cfg->tick_ms)
        ms = d->cfg->tick_ms;
    d->tick_long = true;
    return ms;
}

void sw_daemon_wake_tick(sw_daemon *d)
{
    if (!d->tick_long)
        return;
    d->tick_long = false;
    if (d->tick_timer)
        sw_loop_del_timer(d->loop, d->tick_timer);
    d->tick_timer = sw_loop_add_timer(d->loop, d->cfg->tick_ms, on_tick, d);
}

sw_err sw_daemon_save(sw_daemon *d)
{
    char path[SW_DAEMON_PATH_MAX + 32];
    sw_err result = SW_OK;
    for (size_t i = 0; i < d->n_buses; i++) {
        sw_err e = sw_daemon_bus_save(d->buses[i], false);
        if (e != SW_OK)
            result = e;
    }
    if (d->energy_dirty && d->energy) {
        sw_err e = sw_energy_store_commit(d->energy, d->model, sw_daemon_now_ns(d));
        if (e == SW_OK) {
            /* Durable now: only now may the outputs show the new counters. */
            d->energy_dirty = false;
            sw_model_energy_publish(d->model);
        } else {
            SW_LOGW(LOG_TARGET, "cannot save the energy counters in %s/energy.db: %s (the outputs keep the last "
                    "saved values)", d->cfg->state_dir, sw_io_reason(e, errno));
            result = e;
        }
    } else if (d->energy_dirty && !SUNWIRE_HAVE_SQLITE &&
               sw_daemon_state_path(d, "panels.json", path, sizeof path) == SW_OK) {
        sw_err e = sw_daemon_save_energy(d->model, path, sw_daemon_now_ns(d));
        if (e == SW_OK)
            d->energy_dirty = false;
        else {
            SW_LOGW(LOG_TARGET, "cannot save %s: %s", path, sw_io_reason(e, errno));
            result = e;
        }
    }
    return result;
}

static int64_t on_save(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_daemon *d = user;
    sw_daemon_save(d);
    return d->cfg->save_interval_ms;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */
static sw_err make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0)
        return SW_OK;
    struct stat st;
    if (errno == EEXIST && stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return SW_OK;
        errno = ENOTDIR; /* a file there: nothing could ever be persisted */
    }
    return SW_ERR_OPEN;
}

static void summary(sw_daemon *d)
{
    const sw_daemon_config *c = d->cfg;
    for (size_t i = 0; i < c->n_tigo; i++) {
        const sw_daemon_tigo *t = &c->tigo[i];
        if (t->serial)
            SW_LOGI(LOG_TARGET, "source %s: Tigo bus on serial port %s", t->name, t->device);
        else
            SW_LOGI(LOG_TARGET, "source %s: Tigo bus at tcp %s:%u", t->name, t->host, (unsigned)t->port);
    }
    for (size_t i = 0; i < c->n_rct; i++) {
        const sw_daemon_rct *r = &c->rct[i];
        SW_LOGI(LOG_TARGET, "source %s: RCT inverter at %s:%u (fast %d ms, slow %d ms)", r->name, r->host,
                (unsigned)r->port, r->fast_ms, r->slow_ms);
    }
    char outs[512];
    sw_daemon_outputs_describe(c, outs, sizeof outs);
    SW_LOGI(LOG_TARGET, "outputs: %s", outs);
    SW_LOGI(LOG_TARGET, "panels mapped: %zu; state directory: %s; night: %s after %d s", c->n_panels,
            c->state_dir[0] ? c->state_dir : "(none, nothing persisted)",
            c->night_mode == SW_NIGHT_ZERO ? "zero" : "unavailable", c->stale_timeout_s);
    const char *missing[6];
    size_t n = 0;
    if (!SUNWIRE_HAVE_MOSQUITTO)
        missing[n++] = "mqtt (libmosquitto)";
    if (!SUNWIRE_HAVE_MHD)
        missing[n++] = "http/prometheus (libmicrohttpd)";
    if (!SUNWIRE_HAVE_CURL)
        missing[n++] = "influx over http (libcurl)";
    if (!SUNWIRE_HAVE_SQLITE)
        missing[n++] = "history (sqlite3)";
    if (!SUNWIRE_HAVE_INIH)
        missing[n++] = "configuration files (libinih)";
    for (size_t i = 0; i < n; i++)
        SW_LOGW(LOG_TARGET, "disabled in this build: %s", missing[i]);
}

sw_err sw_daemon_new(const sw_daemon_config *c, sw_loop *loop, sw_daemon **out, char *err, size_t errcap)
{
    *out = NULL;
    sw_daemon *d = calloc(1, sizeof *d);
    if (!d)
        return SW_ERR_NO_MEMORY;
    d->cfg = c;
    d->loop = loop;
    d->notify.fd = -1;
    d->n_mapped = c->n_panels;
    d->logged = calloc(SW_DAEMON_LOGGED_BARCODES, sizeof *d->logged);
    sw_model_options mo;
    sw_model_options_defaults(&mo);
    mo.stale_timeout_ns = (int64_t)c->stale_timeout_s * 1000000000;
    mo.night_mode = c->night_mode;
    mo.energy_gap_ns = (int64_t)c->energy_gap_s * 1000000000;
    mo.performance_min_wh = c->performance_min_wh;
    mo.utc_offset = tz_offset;
    mo.utc_offset_user = (void *)c;
    /* With a database to commit to, outputs show only counters that are on disk. */
    mo.hold_energy = c->state_dir[0] && SUNWIRE_HAVE_SQLITE;
    d->model = d->logged ? sw_model_new(&mo) : NULL;
    if (!d->model) {
        free(d->logged);
        free(d);
        return SW_ERR_NO_MEMORY;
    }
    if (!c->peers_off) {
        d->peers = malloc(sizeof *d->peers);
        sw_err pe = d->peers ? sw_peers_init(d->peers, &c->peers) : SW_ERR_NO_MEMORY;
        if (pe != SW_OK) {
            snprintf(err, errcap, "[health]: %s", sw_err_message(pe));
            sw_daemon_free(d);
            return pe;
        }
    }
    int64_t now = sw_daemon_now_ns(d);
    sw_model_set_started_ns(d->model, now);
    sw_err e = sw_model_add_sink(d->model, (sw_sink){&problem_log_ops, d});
    if (e == SW_OK)
        e = sw_model_set_panel_map(d->model, c->panels, c->n_panels);
    if (e != SW_OK) {
        snprintf(err, errcap, "panel map: %s", sw_err_message(e));
        sw_daemon_free(d);
        return e;
    }
    if (c->state_dir[0] && make_dir(c->state_dir) != SW_OK) {
        snprintf(err, errcap, "state directory %s: %s", c->state_dir, strerror(errno));
        sw_daemon_free(d);
        return SW_ERR_OPEN;
    }
    char path[SW_DAEMON_PATH_MAX + 32];
    if (sw_daemon_state_path(d, "panels.json", path, sizeof path) == SW_OK) {
        char history[SW_DAEMON_PATH_MAX];
        sw_daemon_history_path(c, history, sizeof history);
        int64_t unix_s = sw_now_realtime_ns() / 1000000000;
        if (SUNWIRE_HAVE_SQLITE)
            e = sw_daemon_energy_open(d->model, c->state_dir, history, now, unix_s, &d->energy, err, errcap);
        else
            e = sw_daemon_restore_energy(d->model, path, history, now, unix_s, err, errcap);
        if (e != SW_OK) {
            sw_daemon_free(d);
            return e;
        }
    }
    summary(d);
    d->health = sw_daemon_health_new(d);
    if (!d->health) {
        snprintf(err, errcap, "health detectors: out of memory");
        sw_daemon_free(d);
        return SW_ERR_NO_MEMORY;
    }
    e = sw_daemon_outputs_start(d, err, errcap);
    if (e != SW_OK) {
        sw_daemon_free(d);
        return e;
    }
    for (size_t i = 0; i < c->n_tigo; i++) {
        tigo_bus *b = sw_daemon_bus_new(d, &c->tigo[i]);
        if (!b) {
            snprintf(err, errcap, "source %s: out of memory", c->tigo[i].name);
            sw_daemon_free(d);
            return SW_ERR_NO_MEMORY;
        }
        d->buses[d->n_buses++] = b;
    }
    for (size_t i = 0; i < c->n_rct; i++) {
        rct_poller *p = sw_daemon_poller_new(d, &c->rct[i]);
        if (!p) {
            snprintf(err, errcap, "source %s: out of memory", c->rct[i].name);
            sw_daemon_free(d);
            return SW_ERR_NO_MEMORY;
        }
        d->pollers[d->n_pollers++] = p;
        sw_err pe = sw_daemon_poller_proxy_start(p, err, errcap);
        if (pe != SW_OK) {
            sw_daemon_free(d);
            return pe;
        }
    }
    for (size_t i = 0; i < d->n_buses; i++)
        sw_daemon_bus_start(d->buses[i]);
    for (size_t i = 0; i < d->n_pollers; i++)
        sw_daemon_poller_start(d->pollers[i]);
    d->tick_timer = sw_loop_add_timer(loop, c->tick_ms, on_tick, d);
    if (c->state_dir[0])
        d->save_timer = sw_loop_add_timer(loop, c->save_interval_ms, on_save, d);
    *out = d;
    return SW_OK;
}

sw_err sw_daemon_run(sw_daemon *d)
{
    /* The outputs listen and the sources are started: tell systemd we serve. */
    if (sw_notify_open(&d->notify) != SW_OK)
        SW_LOGW(LOG_TARGET, "NOTIFY_SOCKET: cannot talk to the service manager");
    notify_status(d, "READY=1");
    int64_t wd = sw_notify_watchdog_ms();
    if (wd > 0 && d->notify.fd >= 0) {
        sw_notify_send(&d->notify, "WATCHDOG=1");
        d->watchdog_timer = sw_loop_add_timer(d->loop, wd / 2 > 0 ? wd / 2 : 1, on_watchdog, d);
    }
    sw_err e = sw_loop_run(d->loop);
    sw_notify_send(&d->notify, "STOPPING=1\nSTATUS=stopping: saving the state");
    SW_LOGI(LOG_TARGET, "stopped after %llu loop wakeups", (unsigned long long)sw_loop_wakeups(d->loop));
    if (e == SW_OK && sw_daemon_json_sink_errno())
        e = SW_ERR_IO; /* --json lost its reader: exit 1 */
    return e;
}

sw_model *sw_daemon_model(sw_daemon *d) { return d->model; }

void sw_daemon_free(sw_daemon *d)
{
    if (!d)
        return;
    /* Energy is always written at exit: the last minutes since the periodic save count too. */
    if (d->model && d->n_buses)
        d->energy_dirty = true;
    if (d->model)
        sw_daemon_save(d);
    for (size_t i = 0; i < d->n_buses; i++)
        sw_daemon_bus_free(d->buses[i]);
    for (size_t i = 0; i < d->n_pollers; i++)
        sw_daemon_poller_free(d->pollers[i]);
    if (d->tick_timer)
        sw_loop_del_timer(d->loop, d->tick_timer);
    if (d->save_timer)
        sw_loop_del_timer(d->loop, d->save_timer);
    if (d->watchdog_timer)
        sw_loop_del_timer(d->loop, d->watchdog_timer);
    sw_notify_close(&d->notify);
    sw_energy_store_close(d->energy);
    sw_model_free(d->model);
    free(d->peers);
    free(d->controls);
    sw_daemon_health_free(d->health);
    free(d->logged);
    free(d);
}
