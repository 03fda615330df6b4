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
 *
 * Records are written from the field tables (model/fields.h), in table order,
 * under each field's JSON-lines name.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_internal.h"
#include "model/fields.h"
#include "sunwire/core.h"
#include "sunwire/json.h"
#include "io/log.h"

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

/* One record: its fields in table order, under their JSON-lines names. */
static void record(const char *type, const sw_field *fields, size_t n, const void *rec)
{
    char buf[1024];
    sw_json j;
    begin(&j, buf, sizeof buf, type);
    sw_fields_json(&j, fields, n, SW_OUT_JSON, rec, SW_FIELD_TIME_NS);
    emit(&j);
}

static void on_source(void *self, const sw_source_status *s)
{
    (void)self;
    record("source", sw_source_fields, sw_source_field_count, s);
}

static void on_gateway(void *self, const sw_gateway *g)
{
    (void)self;
    record("gateway", sw_gateway_fields, sw_gateway_field_count, g);
}

static void on_panel(void *self, const sw_panel *p)
{
    (void)self;
    record("panel", sw_panel_fields, sw_panel_field_count, p);
}

static void on_string(void *self, const sw_string_agg *s)
{
    (void)self;
    record("string", sw_string_fields, sw_string_field_count, s);
}

static void on_inverter(void *self, const sw_inverter *inv)
{
    (void)self;
    record("inverter", sw_inverter_fields, sw_inverter_field_count, inv);
}

static void on_value(void *self, const sw_inverter_value *v)
{
    (void)self;
    /* Text and structured values have no size limit: the line is as long as they need
     * (JSON escaping writes at most 6 bytes per byte of text). */
    char small[4096];
    size_t need = 2048 + 12 * strlen(v->text) + (v->json ? strlen(v->json) : 0);
    char *buf = need <= sizeof small ? small : malloc(need);
    if (!buf) {
        SW_LOGW("sunwire::run", "%s %s: out of memory for its JSON line; not written", v->inverter, v->object_name);
        return;
    }
    sw_json j;
    begin(&j, buf, need <= sizeof small ? sizeof small : need, "inverter_value");
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
    else if (v->json)
        sw_json_raw(&j, v->json, strlen(v->json)); /* battery cells, modules, series: structured */
    else
        sw_json_string(&j, v->text);
    str(&j, "text", v->text);
    sw_json_key(&j, "time_ns");
    sw_json_int(&j, v->timestamp_ns);
    emit(&j);
    if (buf != small)
        free(buf);
}

/* A problem raised, changed or cleared (model/problem.h); times in ns like the records'. */
static void on_problem(void *self, const sw_problem *p)
{
    (void)self;
    char buf[1024];
    sw_json j;
    begin(&j, buf, sizeof buf, "problem");
    str(&j, "kind", sw_problem_kind_name(p->kind));
    str(&j, "title", sw_problem_kind_title(p->kind));
    str(&j, "subject_kind", sw_subject_kind_name(p->subject_kind));
    str(&j, "source", p->source);
    str(&j, "subject", p->subject);
    str(&j, "name", p->name);
    sw_json_key(&j, "active");
    sw_json_bool(&j, p->active);
    sw_json_key(&j, "since_ns");
    sw_json_int(&j, p->since_ns);
    sw_json_key(&j, "until_ns");
    if (p->active)
        sw_json_null(&j);
    else
        sw_json_int(&j, p->until_ns);
    str(&j, "reason", p->reason);
    emit(&j);
}

static void on_close(void *self) { (void)self; fflush(stdout); }

static const sw_sink_ops json_ops = {
    .name = "json",
    .on_source = on_source,
    .on_gateway = on_gateway,
    .on_panel = on_panel,
    .on_string = on_string,
    .on_inverter = on_inverter,
    .on_value = on_value,
    .on_problem = on_problem,
    .close = on_close,
};

sw_err sw_daemon_json_sink(sw_loop *loop, sw_sink *out)
{
    stop_loop = loop;
    out->ops = &json_ops;
    out->self = NULL;
    return SW_OK;
}
