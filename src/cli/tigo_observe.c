/*
 * tigo_observe.c: `observe` and `peek-activity` on top of the observer.
 *
 * observe: stdout carries nothing but JSON lines, each flushed as soon as it
 * is complete (the taptap-mqtt bridge reads them live); everything else goes
 * to stderr as log lines. The state file is loaded before the source is
 * opened, written atomically after every inventory change, and a file that
 * cannot be understood is moved aside with a clear error instead of being
 * overwritten.
 *
 * By default an infrastructure_report is printed once per real change.
 * --reference reproduces taptap 0.2.0 byte for byte: its receivers and
 * builders, a report for every identity/version message even when nothing
 * changed, and the report printed a second time after each successful write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/tigo_activity_taptap.h"
#include "cli/tigo_cli.h"
#include "io/io_file.h"
#include "io/log.h"
#include "io/net.h"
#include "sunwire/tigo_format.h"
#include "sunwire/tigo_observer.h"

#define STATE_FILE_MAX (16u << 20)

typedef struct observe_ctx {
    tigo_cli *cli;
    sw_tigo_observer obs; /* large: the context is heap-allocated */
    sw_tigo_format fmt;
    sw_tigo_activity activity;
    tigo_taptap_activity taptap_activity;
    bool upstream;
    bool reference;
    bool json;               /* peek-activity --json */
    int64_t now_ns;          /* arrival time of the chunk being pushed */
    const char *state_path;  /* NULL = no persistence */
    char tmp_path[4096];
    char line[SW_TIGO_LINE_MAX];
    char *infra_buf;
    size_t infra_cap;
    char *state_buf;
    size_t state_cap;
    int64_t offset_minute;   /* minute (Unix ns / 60 s) whose zone offset is cached */
    bool offset_valid;
} observe_ctx;

static const char *observer_target(const observe_ctx *c)
{
    return c->cli->persona == SW_PERSONA_TAPTAP ? "taptap::observer" : "sunwire::tigo::observer";
}

static int grow(char **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return 0;
    char *nb = realloc(*buf, need);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = need;
    return 0;
}

static void print_infrastructure(observe_ctx *c, const sw_tigo_state *s)
{
    size_t need = sw_tigo_format_infrastructure_max(s), len = 0;
    if (grow(&c->infra_buf, &c->infra_cap, need) != 0 ||
        sw_tigo_format_infrastructure(s, c->infra_buf, c->infra_cap, &len) != SW_OK) {
        SW_LOGE(c->cli->log_target, "cannot format the infrastructure report");
        return;
    }
    tigo_emit_line(c->cli, c->infra_buf, len);
}

static bool write_state(observe_ctx *c, const sw_tigo_state *s)
{
    size_t need = sw_tigo_state_serialized_max(s) + 1, len = 0;
    if (grow(&c->state_buf, &c->state_cap, need) != 0 ||
        sw_tigo_state_serialize(s, c->state_buf, c->state_cap, &len) != SW_OK) {
        SW_LOGE(c->cli->log_target, "cannot serialise the state for %s", c->state_path);
        return false;
    }
    sw_err e = sw_file_write_atomic(c->state_path, c->tmp_path, c->state_buf, len);
    if (e) {
        SW_LOGE(c->cli->log_target, "cannot write state file %s: %s", c->state_path, strerror(errno));
        return false;
    }
    return true;
}

static void on_infrastructure(observe_ctx *c, const sw_tigo_infrastructure_event *ev)
{
    if (!c->upstream)
        print_infrastructure(c, ev->state);
    if (!c->state_path) {
        SW_LOGD(c->cli->log_target, "no state file configured: the inventory is kept in memory only");
        return;
    }
    if (write_state(c, ev->state) && c->reference && !c->upstream)
        print_infrastructure(c, ev->state);
}

static void on_diagnostic(observe_ctx *c, const sw_tigo_diagnostic_event *d)
{
    const char *tg = observer_target(c);
    switch (d->code) {
    case SW_TIGO_DIAGNOSTIC_NO_SLOT_CLOCK:
        SW_LOGE(tg, "dropping power report from gateway %u node %u: no slot clock for this gateway yet",
                (unsigned)d->gateway, (unsigned)d->node);
        break;
    case SW_TIGO_DIAGNOSTIC_INVALID_SLOT_COUNTER:
        SW_LOGE(tg, "dropping power report from gateway %u node %u: invalid slot counter 0x%04X",
                (unsigned)d->gateway, (unsigned)d->node, (unsigned)d->slot_counter);
        break;
    case SW_TIGO_DIAGNOSTIC_CLOCK_REBUILT:
        sw_log(SW_LOG_WARN, c->cli->persona == SW_PERSONA_TAPTAP ? "taptap::observer::slot_clock" : tg,
               "wall clock went backwards: slot clock of gateway %u restarted", (unsigned)d->gateway);
        break;
    default:
        SW_LOGW(tg, "gateway %u: %s", (unsigned)d->gateway, sw_tigo_diagnostic_name(d->code));
        break;
    }
}

static int on_event(sw_tigo_observer *o, const sw_tigo_observer_event *ev, void *user)
{
    (void)o;
    observe_ctx *c = user;
    size_t len = 0;
    sw_err e;
    switch (ev->kind) {
    case SW_TIGO_OBSERVER_POWER_REPORT:
        {
            /* Zone offsets change only at transitions on whole minutes, so one
             * localtime lookup per minute of timestamps is enough. */
            int64_t ts = ev->u.power.timestamp_ns;
            int64_t minute = (ts >= 0 ? ts : ts - 59999999999LL) / 60000000000LL;
            if (!c->offset_valid || minute != c->offset_minute) {
                c->fmt.utc_offset_s = sw_local_utc_offset(ts);
                c->offset_minute = minute;
                c->offset_valid = true;
            }
        }
        e = c->upstream ? sw_tigo_format_power_upstream(&c->fmt, &ev->u.power, c->line, sizeof c->line, &len)
                        : sw_tigo_format_power_fork(&c->fmt, &ev->u.power, c->line, sizeof c->line, &len);
        if (e == SW_OK)
            tigo_emit_line(c->cli, c->line, len);
        break;
    case SW_TIGO_OBSERVER_INFRASTRUCTURE:
        on_infrastructure(c, &ev->u.infrastructure);
        break;
    case SW_TIGO_OBSERVER_DIAGNOSTIC:
        on_diagnostic(c, &ev->u.diagnostic);
        break;
    }
    return 0;
}

static int observe_on_bytes(void *p, const uint8_t *data, size_t n, int64_t unix_ns)
{
    observe_ctx *c = p;
    c->now_ns = unix_ns;
    sw_tigo_observer_push(&c->obs, data, n, unix_ns, NULL);
    return c->cli->out_failed ? 1 : 0;
}

/* Load the state file; returns 0 to go on, or an exit code. */
static int load_state(observe_ctx *c)
{
    const char *tg = c->cli->log_target;
    const char *path = c->cli->args->persistent_file;
    if (!path || !*path) {
        SW_LOGI(tg, "no state file: gateway and node identities are not kept across restarts");
        return 0;
    }
    if (sw_tigo_state_tmp_path(path, c->tmp_path, sizeof c->tmp_path) != SW_OK) {
        SW_LOGE(tg, "invalid state file path '%s'", path);
        return 2;
    }
    c->state_path = path;
    char *text = NULL;
    size_t len = 0;
    sw_err e = sw_file_read_all(path, STATE_FILE_MAX, &text, &len);
    if (e == SW_ERR_NOT_FOUND) {
        SW_LOGI(tg, "state file %s does not exist yet: starting with an empty inventory", path);
        return 0;
    }
    char why[256] = "";
    if (e == SW_OK) {
        e = sw_tigo_state_parse(sw_tigo_observer_state(&c->obs), text, len, why, sizeof why);
        free(text);
        if (e == SW_OK) {
            SW_LOGI(tg, "loaded state file %s", path);
            if (!c->upstream)
                print_infrastructure(c, sw_tigo_observer_state(&c->obs));
            return 0;
        }
    } else if (e == SW_ERR_IO || e == SW_ERR_OPEN) {
        /* Unreadable (permissions, a directory): refuse rather than overwrite it later. */
        int err = errno;
        struct stat st;
        SW_LOGE(tg, "cannot read state file %s: %s", path,
                stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? "it is a directory (give a file name)"
                                                             : strerror(err));
        return 1;
    } else {
        snprintf(why, sizeof why, "%s", sw_err_message(e));
    }
    char aside[4200];
    sw_err m = sw_file_move_aside(path, sw_now_realtime_ns() / 1000000000, aside, sizeof aside);
    if (m) {
        SW_LOGE(tg, "state file %s is corrupt (%s) and could not be moved aside: %s", path,
                why[0] ? why : sw_err_message(e), strerror(errno));
        return 1;
    }
    SW_LOGE(tg, "state file %s is corrupt (%s); moved it to %s and starting with an empty inventory", path,
            why[0] ? why : sw_err_message(e), aside);
    return 0;
}

static observe_ctx *ctx_new(tigo_cli *cli, unsigned flags)
{
    observe_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        SW_LOGE(cli->log_target, "out of memory");
        return NULL;
    }
    c->cli = cli;
    sw_tigo_observer_init(&c->obs, flags, on_event, c);
    sw_tigo_format_init(&c->fmt, 0);
    sw_tigo_activity_init(&c->activity);
    tigo_taptap_activity_init(&c->taptap_activity);
    return c;
}

static void ctx_free(observe_ctx *c)
{
    if (!c)
        return;
    free(c->infra_buf);
    free(c->state_buf);
    free(c);
}

int tigo_cmd_observe(tigo_cli *cli)
{
    const tigo_args *a = cli->args;
    bool upstream = a->format == TIGO_FORMAT_UPSTREAM;
    unsigned flags = 0;
    if (a->reference)
        flags = upstream ? SW_TIGO_OBSERVER_REFERENCE_UPSTREAM : SW_TIGO_OBSERVER_REFERENCE;
    observe_ctx *c = ctx_new(cli, flags);
    if (!c)
        return 1;
    c->upstream = upstream;
    c->reference = a->reference;
    int rc = load_state(c);
    if (rc == 0 && cli->out_failed) {
        SW_LOGE(cli->log_target, "cannot write to standard output: %s", strerror(cli->out_failed));
        rc = 1;
    }
    if (rc == 0)
        rc = tigo_run(cli, observe_on_bytes, c);
    ctx_free(c);
    return rc;
}

/* ---- peek-activity ----------------------------------------------------------- */

static int on_transport(sw_tigo_transport *t, const sw_tigo_transport_event *ev, void *user)
{
    (void)t;
    observe_ctx *c = user;
    size_t len = 0;
    if (!c->json && c->cli->persona == SW_PERSONA_TAPTAP) {
        /* taptap's own wording, for scripts that read its log. */
        len = tigo_taptap_activity_line(&c->taptap_activity, ev, c->line, sizeof c->line);
        if (len)
            SW_LOGI(c->cli->log_target, "%.*s", (int)len, c->line);
        return 0;
    }
    sw_err e = sw_tigo_format_activity(&c->activity, &c->fmt, ev, c->json, c->now_ns, c->line, sizeof c->line, &len);
    if (e != SW_OK)
        return 0;
    if (c->json)
        tigo_emit_line(c->cli, c->line, len);
    else
        SW_LOGI(c->cli->log_target, "%.*s", (int)len, c->line);
    return 0;
}

int tigo_cmd_peek_activity(tigo_cli *cli)
{
    observe_ctx *c = ctx_new(cli, 0);
    if (!c)
        return 1;
    c->json = cli->args->json;
    sw_tigo_observer_init(&c->obs, 0, NULL, NULL);
    sw_tigo_observer_set_transport_tap(&c->obs, on_transport, c);
    int rc = tigo_run(cli, observe_on_bytes, c);
    ctx_free(c);
    return rc;
}
