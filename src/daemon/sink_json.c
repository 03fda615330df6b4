/*
 * sink_json.c: the daemon's built-in output: one JSON object per line on
 * stdout for every model update (`sunwire run --json`).
 *
 * It needs no library and no server, so it is what scripts (and the
 * daemon's integration tests) can always rely on. It trusts the model's
 * records to be complete and NUL-terminated. Non-finite numbers become null.
 *
 * A reader that goes away (stdout closed, `| head`) stops the daemon with an
 * error instead of leaving it running with nobody to read; a signal that
 * interrupts a write (EINTR) only makes it try again.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "daemon/daemon_int.h"
#include "sunwire/core.h"
#include "sunwire/json.h"
#include "sunwire/log.h"

static int out_errno; /* first write error on stdout; one stdout per process */

int sw_daemon_json_sink_errno(void) { return out_errno; }

/* fputs + newline + fflush, again after EINTR; 0 or -1 with errno. */
static int put_line(const char *text)
{
    size_t len = strlen(text), done = 0;
    for (int tries = 0;; tries++) {
        if (done < len)
            done += fwrite(text + done, 1, len - done, stdout);
        if (done == len && fputc('\n', stdout) != EOF) {
            done++;
            len = 0; /* line and newline are in; only the flush is left */
        }
        if (len == 0 && fflush(stdout) == 0)
            return 0;
        if (errno != EINTR || tries > 100)
            return -1;
        clearerr(stdout);
    }
}

static void num(sw_json *j, const char *key, double v)
{
    sw_json_key(j, key);
    if (isfinite(v))
        sw_json_double(j, v);
    else
        sw_json_null(j);
}

static void str(sw_json *j, const char *key, const char *v)
{
    sw_json_key(j, key);
    sw_json_string(j, v);
}

static void begin(sw_json *j, char *buf, size_t cap, const char *type)
{
    sw_json_init(j, buf, cap);
    sw_json_object_begin(j);
    str(j, "type", type);
}

static sw_loop *stop_loop;

static void emit(sw_json *j)
{
    sw_json_object_end(j);
    const char *text = sw_json_finish(j);
    if (!text || out_errno)
        return;
    if (put_line(text) != 0) {
        out_errno = errno ? errno : EIO;
        SW_LOGE("sunwire::run", "cannot write to standard output: %s; stopping", strerror(out_errno));
        if (stop_loop)
            sw_loop_stop(stop_loop);
    }
}

static void on_source(void *self, const sw_source_status *s)
{
    (void)self;
    char buf[1024];
    sw_json j;
    begin(&j, buf, sizeof buf, "source");
    str(&j, "name", s->name);
    str(&j, "address", s->address);
    sw_json_key(&j, "connected");
    sw_json_bool(&j, s->connected);
    sw_json_key(&j, "bytes");
    sw_json_uint(&j, s->bytes);
    sw_json_key(&j, "frames");
    sw_json_uint(&j, s->frames);
    sw_json_key(&j, "reconnects");
    sw_json_uint(&j, s->reconnects);
    sw_json_key(&j, "requests");
    sw_json_uint(&j, s->requests);
    sw_json_key(&j, "timeouts");
    sw_json_uint(&j, s->timeouts);
    sw_json_key(&j, "foreign_replies");
    sw_json_uint(&j, s->foreign_replies);
    str(&j, "last_error", s->last_error);
    emit(&j);
}

static void on_gateway(void *self, const sw_gateway *g)
{
    (void)self;
    char buf[1024];
    sw_json j;
    begin(&j, buf, sizeof buf, "gateway");
    str(&j, "source", g->source);
    sw_json_key(&j, "gateway");
    sw_json_uint(&j, g->gateway_id);
    str(&j, "address", g->address);
    str(&j, "barcode", g->barcode);
    str(&j, "version", g->version);
    emit(&j);
}

static void on_panel(void *self, const sw_panel *p)
{
    (void)self;
    char buf[1024];
    sw_json j;
    begin(&j, buf, sizeof buf, "panel");
    str(&j, "source", p->source);
    sw_json_key(&j, "gateway");
    sw_json_uint(&j, p->gateway_id);
    sw_json_key(&j, "node");
    sw_json_uint(&j, p->node_id);
    str(&j, "barcode", p->barcode);
    str(&j, "name", p->name);
    str(&j, "string", p->string_name);
    sw_json_key(&j, "online");
    sw_json_bool(&j, p->online);
    sw_json_key(&j, "time_ns");
    sw_json_int(&j, p->last_seen_ns);
    num(&j, "voltage_in", p->voltage_in);
    num(&j, "voltage_out", p->voltage_out);
    num(&j, "current_in", p->current_in);
    num(&j, "power", p->power_w);
    num(&j, "duty_cycle", p->duty_cycle);
    num(&j, "temperature", p->temperature_c);
    sw_json_key(&j, "rssi");
    sw_json_int(&j, p->rssi);
    num(&j, "energy_today_wh", p->energy_today_wh);
    num(&j, "energy_total_wh", p->energy_total_wh);
    emit(&j);
}

static void on_string(void *self, const sw_string_agg *s)
{
    (void)self;
    char buf[1024];
    sw_json j;
    begin(&j, buf, sizeof buf, "string");
    str(&j, "name", s->name);
    sw_json_key(&j, "panels");
    sw_json_uint(&j, s->panels);
    sw_json_key(&j, "online");
    sw_json_uint(&j, s->online);
    num(&j, "power_sum", s->power_sum_w);
    num(&j, "power_min", s->power_min_w);
    num(&j, "power_max", s->power_max_w);
    num(&j, "power_avg", s->power_avg_w);
    num(&j, "energy_today_wh", s->energy_today_wh);
    num(&j, "energy_total_wh", s->energy_total_wh);
    emit(&j);
}

static void on_inverter(void *self, const sw_inverter *inv)
{
    (void)self;
    char buf[1024];
    sw_json j;
    begin(&j, buf, sizeof buf, "inverter");
    str(&j, "name", inv->name);
    str(&j, "host", inv->host);
    sw_json_key(&j, "port");
    sw_json_uint(&j, inv->port);
    str(&j, "serial", inv->serial);
    str(&j, "model", inv->model);
    str(&j, "firmware", inv->firmware);
    sw_json_key(&j, "online");
    sw_json_bool(&j, inv->online);
    emit(&j);
}

static void on_value(void *self, const sw_inverter_value *v)
{
    (void)self;
    char buf[1024];
    sw_json j;
    begin(&j, buf, sizeof buf, "inverter_value");
    str(&j, "inverter", v->inverter);
    str(&j, "object", v->object_name);
    sw_json_key(&j, "id");
    sw_json_uint(&j, v->object_id);
    str(&j, "unit", v->unit);
    sw_json_key(&j, "value");
    if (v->is_number && isfinite(v->number))
        sw_json_double(&j, v->number);
    else if (v->is_number)
        sw_json_null(&j);
    else
        sw_json_string(&j, v->text);
    str(&j, "text", v->text);
    sw_json_key(&j, "time_ns");
    sw_json_int(&j, v->timestamp_ns);
    emit(&j);
}

static void on_close(void *self) { (void)self; fflush(stdout); }

static const sw_sink_ops json_ops = {
    .name = "json",
    .source_status = on_source,
    .gateway_update = on_gateway,
    .panel_update = on_panel,
    .string_update = on_string,
    .inverter_update = on_inverter,
    .inverter_value = on_value,
    .close = on_close,
};

sw_err sw_daemon_json_sink(sw_loop *loop, sw_sink *out)
{
    stop_loop = loop;
    out->ops = &json_ops;
    out->self = NULL;
    return SW_OK;
}
