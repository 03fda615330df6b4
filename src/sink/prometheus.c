/*
 * prometheus.c: the model as Prometheus text (see sink/sink_prometheus.h).
 *
 * Trusts the model's accessors: records are complete and their counters only
 * grow. Everything else (names from configuration files, barcodes, firmware
 * text) is escaped, because one bad label value would make Prometheus reject
 * the whole scrape.
 */
#include "sink/sink_prometheus.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "model/fields.h"
#include "sunwire/core.h"
#include "sunwire_config.h"

/* ---- an output buffer that grows ------------------------------------------ */

typedef struct pbuf {
    char *p;
    size_t len, cap;
    bool failed;
} pbuf;

static void pb_reserve(pbuf *b, size_t extra)
{
    if (b->failed || b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *n = realloc(b->p, cap);
    if (!n) {
        b->failed = true;
        return;
    }
    b->p = n;
    b->cap = cap;
}

static void pb_put(pbuf *b, const char *s, size_t n)
{
    pb_reserve(b, n);
    if (b->failed)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void pb_str(pbuf *b, const char *s)
{
    pb_put(b, s, strlen(s));
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void pb_printf(pbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        pb_put(b, tmp, (size_t)n);
        return;
    }
    pb_reserve(b, (size_t)n);
    if (b->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- exposition pieces ------------------------------------------------------ */

size_t sw_prometheus_escape_label(char *out, size_t cap, const char *value)
{
    size_t n = 0;
    for (const char *s = value ? value : ""; *s; s++) {
        const char *rep = NULL;
        char one[2] = { *s, 0 };
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '"')
            rep = "\\\"";
        else if (*s == '\n')
            rep = "\\n";
        else
            rep = one;
        for (const char *r = rep; *r; r++, n++)
            if (n + 1 < cap)
                out[n] = *r;
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

static void family(pbuf *b, const char *name, const char *type, const char *help)
{
    /* HELP text is ours and free of backslashes and line feeds, so it needs no escaping. */
    pb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Labels are collected as alternating key/value pairs, ended by NULL. */
static void sample(pbuf *b, const char *name, double v, ...)
{
    va_list ap;
    bool first = true;
    pb_str(b, name);
    va_start(ap, v);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *val = va_arg(ap, const char *);
        char esc[4 * SW_MODEL_TEXT_MAX];
        size_t need = sw_prometheus_escape_label(esc, sizeof esc, val);
        pb_str(b, first ? "{" : ",");
        pb_str(b, k);
        pb_str(b, "=\"");
        if (need < sizeof esc) {
            pb_put(b, esc, need);
        } else {
            char *big = malloc(need + 1);
            if (!big) {
                b->failed = true;
            } else {
                sw_prometheus_escape_label(big, need + 1, val);
                pb_put(b, big, need);
                free(big);
            }
        }
        pb_str(b, "\"");
        first = false;
    }
    va_end(ap);
    if (!first)
        pb_str(b, "}");
    char num[SW_DOUBLE_TEXT_MAX];
    if (isnan(v))
        snprintf(num, sizeof num, "NaN");
    else if (isinf(v))
        snprintf(num, sizeof num, "%s", v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9e15)
        snprintf(num, sizeof num, "%" PRId64, (int64_t)v);
    else
        sw_fmt_double(num, v);
    pb_str(b, " ");
    pb_str(b, num);
    pb_str(b, "\n");
}

/* ---- panels ------------------------------------------------------------------ */

/* Prometheus wants base units (https://prometheus.io/docs/practices/naming/): the factor from a
 * model unit to the base unit its metric name says. Units not listed are base units already. */
typedef struct base_unit {
    const char *unit;
    double scale;
} base_unit;

static const base_unit base_units[] = {
    { "Wh", 3600.0 },      /* joules */
    { "%", 0.01 },         /* ratio 0-1 */
    { "Ah", 3600.0 },      /* coulombs */
    { "min", 60.0 },       /* seconds */
    { "days", 86400.0 },   /* seconds */
};

static double base_scale(const char *unit)
{
    for (size_t i = 0; i < sizeof base_units / sizeof *base_units; i++)
        if (unit && strcmp(base_units[i].unit, unit) == 0)
            return base_units[i].scale;
    return 1.0;
}

/* A field's sample value in its base unit: bools as 1/0, times in Unix seconds. */
static double field_value(const sw_field *f, const void *rec)
{
    if (f->type == SW_FT_TIME)
        return (double)sw_field_int(f, rec) / 1e9;
    return sw_field_number(f, rec) * base_scale(f->unit);
}

/* A panel's series carry only labels that never change for its record: the source, the
 * gateway and node it reports as, and the series id fixed when the record was created.
 * What is learnt or configured later (barcode, name, string) is on sunwire_panel_info. */
typedef struct panel_labels {
    char gw[8], node[8], id[SW_MODEL_NAME_MAX];
} panel_labels;

#define PANEL_LABELS(p, l) "source", (p)->source, "gateway", (l).gw, "node", (l).node, "panel", (l).id

static void fill_panel_labels(const sw_panel *p, panel_labels *l)
{
    snprintf(l->gw, sizeof l->gw, "%u", (unsigned)p->gateway_id);
    snprintf(l->node, sizeof l->node, "%u", (unsigned)p->node_id);
    if (p->series_id[0])
        snprintf(l->id, sizeof l->id, "%s", p->series_id);
    else
        snprintf(l->id, sizeof l->id, "%u-%u", (unsigned)p->gateway_id, (unsigned)p->node_id);
}

/* Whether panel p has a sample of field f. A reported value exists only once a report came.
 * Once the panel is offline its instantaneous readings are stale: with night = zero the model
 * has set the zeroed ones to 0 and they are exported as such; every other one (and all of
 * them with night = unavailable) is left out, as an exporter does with a target that is gone.
 * Energy, the online flag and the last report time stay. */
static bool panel_has_sample(const sw_field *f, const sw_panel *p, sw_night_mode night)
{
    if ((f->flags & SW_FF_REPORTED) && p->last_seen_ns == 0)
        return false;
    if ((f->flags & SW_FF_LIVE) && !p->online)
        return night == SW_NIGHT_ZERO && (f->flags & SW_FF_NIGHT_ZERO);
    return true;
}

static void render_panels(pbuf *b, const sw_model *m)
{
    size_t n = sw_model_panel_count(m);
    if (n == 0)
        return;
    const sw_model_options *opt = sw_model_get_options(m);
    sw_night_mode night = opt ? opt->night_mode : SW_NIGHT_UNAVAILABLE;
    panel_labels l;
    family(b, "sunwire_panel_info", "gauge",
           "Panel identity: its name, barcode and string as known now; the value is always 1.");
    for (size_t i = 0; i < n; i++) {
        const sw_panel *p = sw_model_panel_at(m, i);
        fill_panel_labels(p, &l);
        sample(b, "sunwire_panel_info", 1, PANEL_LABELS(p, l), "name", p->name, "barcode", p->barcode, "string",
               p->string_name, "mapped", p->mapped ? "true" : "false", NULL);
    }
    /* One family per field with a metric (model/fields.h), in its base unit. */
    for (size_t k = 0; k < sw_panel_field_count; k++) {
        const sw_field *f = &sw_panel_fields[k];
        if (!f->prom.metric)
            continue;
        family(b, f->prom.metric, f->prom.type, f->meaning);
        for (size_t i = 0; i < n; i++) {
            const sw_panel *p = sw_model_panel_at(m, i);
            if (!panel_has_sample(f, p, night))
                continue;
            fill_panel_labels(p, &l);
            sample(b, f->prom.metric, field_value(f, p), PANEL_LABELS(p, l), NULL);
        }
    }
}

/* ---- strings ------------------------------------------------------------------ */

static void render_strings(pbuf *b, const sw_model *m)
{
    size_t n = sw_model_string_count(m);
    if (n == 0)
        return;
    for (size_t k = 0; k < sw_string_field_count; k++) {
        const sw_field *f = &sw_string_fields[k];
        if (!f->prom.metric)
            continue;
        family(b, f->prom.metric, f->prom.type, f->meaning);
        for (size_t i = 0; i < n; i++) {
            const sw_string_agg *s = sw_model_string_at(m, i);
            sample(b, f->prom.metric, field_value(f, s), "string", s->name, NULL);
        }
    }
}

/* ---- problems (model/problem.h) ---------------------------------------------------- */

/*
 * Always present, so a query or an alert rule finds the family before the
 * first problem: every record the model keeps, 1 while active and 0 once
 * cleared (the record stays, so an alert resolves instead of going stale).
 */
static void render_problems(pbuf *b, const sw_model *m)
{
    family(b, "sunwire_problems_active", "gauge", "How many problems are active now.");
    sample(b, "sunwire_problems_active", (double)sw_model_problem_active_count(m), NULL);
    family(b, "sunwire_problem_active", "gauge",
           "1 while the problem of this kind is active on its subject, 0 once it cleared.");
    size_t n = sw_model_problem_count(m);
    for (size_t i = 0; i < n; i++) {
        const sw_problem *p = sw_model_problem_at(m, i);
        sample(b, "sunwire_problem_active", p->active ? 1 : 0, "kind", sw_problem_kind_name(p->kind),
               "subject_kind", sw_subject_kind_name(p->subject_kind), "source", p->source, "subject", p->subject,
               NULL);
    }
    family(b, "sunwire_problem_since_timestamp_seconds", "gauge",
           "When the problem last became active (kept after it cleared).");
    for (size_t i = 0; i < n; i++) {
        const sw_problem *p = sw_model_problem_at(m, i);
        sample(b, "sunwire_problem_since_timestamp_seconds", (double)p->since_ns / 1e9, "kind",
               sw_problem_kind_name(p->kind), "subject_kind", sw_subject_kind_name(p->subject_kind), "source",
               p->source, "subject", p->subject, NULL);
    }
}

/* ---- gateways and sources --------------------------------------------------------- */

static void render_gateways(pbuf *b, const sw_model *m)
{
    size_t n = sw_model_gateway_count(m);
    if (n == 0)
        return;
    family(b, "sunwire_gateway_info", "gauge", "Tigo TAP gateway identity and firmware; the value is always 1.");
    for (size_t i = 0; i < n; i++) {
        const sw_gateway *g = sw_model_gateway_at(m, i);
        char gw[8];
        snprintf(gw, sizeof gw, "%u", (unsigned)g->gateway_id);
        sample(b, "sunwire_gateway_info", 1, "source", g->source, "gateway", gw, "address", g->address, "barcode",
               g->barcode, "version", g->version, NULL);
    }
}

typedef struct source_counter {
    const char *name, *help;
    size_t offset;
} source_counter;

static const source_counter source_counters[] = {
    { "sunwire_source_bytes_total", "Bytes received from the source.", offsetof(sw_source_status, bytes) },
    { "sunwire_source_frames_total", "Good frames decoded.", offsetof(sw_source_status, frames) },
    { "sunwire_source_crc_errors_total", "Frames dropped for a bad checksum.",
      offsetof(sw_source_status, crc_errors) },
    { "sunwire_source_resyncs_total", "Times the receiver skipped noise or a truncated frame.",
      offsetof(sw_source_status, resyncs) },
    { "sunwire_source_reconnects_total", "Reconnections to the source.", offsetof(sw_source_status, reconnects) },
    { "sunwire_source_requests_total", "RCT requests sent.", offsetof(sw_source_status, requests) },
    { "sunwire_source_timeouts_total", "RCT requests without an answer in time.",
      offsetof(sw_source_status, timeouts) },
    { "sunwire_source_retries_total", "RCT requests sent again.", offsetof(sw_source_status, retries) },
    { "sunwire_source_foreign_replies_total", "RCT answers to requests other than the pending one.",
      offsetof(sw_source_status, foreign_replies) },
};

static void render_sources(pbuf *b, const sw_model *m)
{
    size_t n = sw_model_source_count(m);
    if (n == 0)
        return;
    family(b, "sunwire_source_info", "gauge", "Configured input; the value is always 1.");
    for (size_t i = 0; i < n; i++) {
        const sw_source_status *s = sw_model_source_at(m, i);
        sample(b, "sunwire_source_info", 1, "source", s->name, "kind", sw_source_kind_name(s->kind), "address", s->address,
               NULL);
    }
    family(b, "sunwire_source_connected", "gauge", "1 while the source is connected or open.");
    for (size_t i = 0; i < n; i++) {
        const sw_source_status *s = sw_model_source_at(m, i);
        sample(b, "sunwire_source_connected", s->connected ? 1 : 0, "source", s->name, NULL);
    }
    family(b, "sunwire_source_last_data_timestamp_seconds", "gauge", "When the source last delivered data.");
    for (size_t i = 0; i < n; i++) {
        const sw_source_status *s = sw_model_source_at(m, i);
        if (s->last_data_ns)
            sample(b, "sunwire_source_last_data_timestamp_seconds", (double)s->last_data_ns / 1e9, "source",
                   s->name, NULL);
    }
    for (size_t k = 0; k < sizeof source_counters / sizeof *source_counters; k++) {
        const source_counter *sc = &source_counters[k];
        family(b, sc->name, "counter", sc->help);
        for (size_t i = 0; i < n; i++) {
            const sw_source_status *s = sw_model_source_at(m, i);
            uint64_t v;
            memcpy(&v, (const char *)s + sc->offset, sizeof v);
            sample(b, sc->name, (double)v, "source", s->name, NULL);
        }
    }
}

/* ---- inverters -------------------------------------------------------------------- */

/* Inverter values go to the family of their registry unit, converted to its base unit
 * (base_scale): every name ends in the unit it carries, as on the panels. */
typedef struct unit_family {
    const char *unit;        /* registry unit (as the model carries it) */
    const char *name;        /* metric name */
    const char *type;
    int energy_counter;      /* 1: only objects whose name says "total"; 0: only the others; -1: any */
    const char *help;
} unit_family;

static const unit_family unit_families[] = {
    { "V", "sunwire_inverter_volts", "gauge", -1, "Inverter values measured in volts." },
    { "A", "sunwire_inverter_amperes", "gauge", -1, "Inverter values measured in amperes." },
    { "W", "sunwire_inverter_watts", "gauge", -1, "Inverter values measured in watts." },
    { "Wh", "sunwire_inverter_energy_joules_total", "counter", 1,
      "Inverter lifetime energy counters (objects named *total*), in joules." },
    { "Wh", "sunwire_inverter_energy_joules", "gauge", 0,
      "Inverter energy values that can reset (day, month, year counters), in joules." },
    { "Hz", "sunwire_inverter_hertz", "gauge", -1, "Inverter values measured in hertz." },
    { "\xC2\xB0" "C", "sunwire_inverter_celsius", "gauge", -1, "Inverter temperatures." },
    { "VA", "sunwire_inverter_volt_amperes", "gauge", -1, "Inverter apparent power values." },
    { "var", "sunwire_inverter_volt_amperes_reactive", "gauge", -1, "Inverter reactive power values." },
    { "Ah", "sunwire_inverter_coulombs", "gauge", -1, "Inverter charge values (ampere-hours times 3600)." },
    { "s", "sunwire_inverter_seconds", "gauge", -1, "Inverter durations." },
    { "min", "sunwire_inverter_seconds", "gauge", -1, NULL },
    { "days", "sunwire_inverter_seconds", "gauge", -1, NULL },
    { "Ohm", "sunwire_inverter_ohms", "gauge", -1, "Inverter resistances." },
    { "%", "sunwire_inverter_ratio", "gauge", -1,
      "Inverter values the registry gives in percent (state of charge, health, targets), as a ratio 0-1." },
};

static bool name_says_total(const char *name)
{
    return strstr(name, "total") != NULL;
}

static const unit_family *family_of(const sw_inverter_value *v)
{
    for (size_t k = 0; k < sizeof unit_families / sizeof *unit_families; k++) {
        const unit_family *f = &unit_families[k];
        if (strcmp(f->unit, v->unit) != 0)
            continue;
        if (f->energy_counter == 1 && !name_says_total(v->object_name))
            continue;
        if (f->energy_counter == 0 && name_says_total(v->object_name))
            continue;
        return f;
    }
    return NULL;
}

static void render_inverters(pbuf *b, const sw_model *m)
{
    size_t n = sw_model_inverter_count(m);
    if (n > 0) {
        family(b, "sunwire_inverter_info", "gauge", "RCT inverter identity; the value is always 1.");
        for (size_t i = 0; i < n; i++) {
            const sw_inverter *inv = sw_model_inverter_at(m, i);
            char port[8];
            snprintf(port, sizeof port, "%u", (unsigned)inv->port);
            sample(b, "sunwire_inverter_info", 1, "inverter", inv->name, "host", inv->host, "port", port, "serial",
                   inv->serial, "model", inv->model, "firmware", inv->firmware, NULL);
        }
        family(b, "sunwire_inverter_online", "gauge", "1 while the inverter answers.");
        for (size_t i = 0; i < n; i++) {
            const sw_inverter *inv = sw_model_inverter_at(m, i);
            sample(b, "sunwire_inverter_online", inv->online ? 1 : 0, "inverter", inv->name, NULL);
        }
        family(b, "sunwire_inverter_last_poll_timestamp_seconds", "gauge", "When the inverter last answered.");
        for (size_t i = 0; i < n; i++) {
            const sw_inverter *inv = sw_model_inverter_at(m, i);
            if (inv->last_poll_ns)
                sample(b, "sunwire_inverter_last_poll_timestamp_seconds", (double)inv->last_poll_ns / 1e9,
                       "inverter", inv->name, NULL);
        }
    }
    size_t nv = sw_model_inverter_value_count(m);
    if (nv == 0)
        return;
    /* Rows with a NULL help share the family of an earlier row with the same name. */
    for (size_t k = 0; k < sizeof unit_families / sizeof *unit_families; k++) {
        const unit_family *f = &unit_families[k];
        if (!f->help)
            continue;
        bool header = false;
        for (size_t i = 0; i < nv; i++) {
            const sw_inverter_value *v = sw_model_inverter_value_at(m, i);
            const unit_family *vf = v->is_number ? family_of(v) : NULL;
            if (!vf || strcmp(vf->name, f->name) != 0)
                continue;
            if (!header)
                family(b, f->name, f->type, f->help);
            header = true;
            /* RCT devices count grid feed-in as a negative total; a counter only grows, so it goes out as
             * its magnitude. */
            double x = v->number * base_scale(v->unit);
            if (strcmp(f->type, "counter") == 0)
                x = fabs(x);
            sample(b, f->name, x, "inverter", v->inverter, "object", v->object_name, NULL);
        }
    }
    bool header = false;
    for (size_t i = 0; i < nv; i++) {
        const sw_inverter_value *v = sw_model_inverter_value_at(m, i);
        if (!v->is_number || family_of(v))
            continue;
        if (!header)
            family(b, "sunwire_inverter_value", "gauge", "Other numeric inverter values, with the registry's unit.");
        header = true;
        sample(b, "sunwire_inverter_value", v->number, "inverter", v->inverter, "object", v->object_name, "unit",
               v->unit, NULL);
    }
    header = false;
    for (size_t i = 0; i < nv; i++) {
        const sw_inverter_value *v = sw_model_inverter_value_at(m, i);
        /* Structured values (battery cells, time series) are no label: see MQTT, the API, InfluxDB. */
        if (v->is_number || v->json)
            continue;
        if (!header)
            family(b, "sunwire_inverter_text_info", "gauge", "Inverter values that are text; the value is always 1.");
        header = true;
        sample(b, "sunwire_inverter_text_info", 1, "inverter", v->inverter, "object", v->object_name, "text", v->text,
               NULL);
    }
}

/* ---- control writes (model/model.h) ------------------------------------------------------ */

/*
 * Always present, like the problems, so an alert rule on refusals or blocks
 * finds the families before the first write. A write counter's series appears
 * with its first write; the other families have a sample per allowed setting.
 */
static void render_controls(pbuf *b, const sw_model *m)
{
    size_t n = sw_model_control_count(m);
    family(b, "sunwire_control_writes_total", "counter",
           "Control writes asked for, by outcome (verified, failed, refused) and reason class.");
    for (size_t i = 0; i < n; i++) {
        const sw_control *c = sw_model_control_at(m, i);
        for (int r = 0; r < SW_CONTROL_RESULT_COUNT; r++) {
            if (!c->writes[r])
                continue;
            const char *outcome = sw_control_result_outcome((sw_control_result)r);
            const char *reason = sw_control_result_reason((sw_control_result)r);
            if (*reason)
                sample(b, "sunwire_control_writes_total", (double)c->writes[r], "inverter", c->inverter, "object",
                       c->object, "outcome", outcome, "reason", reason, NULL);
            else
                sample(b, "sunwire_control_writes_total", (double)c->writes[r], "inverter", c->inverter, "object",
                       c->object, "outcome", outcome, NULL);
        }
    }
    /* One family per field with a metric (model/fields.h); a time of 0 (not blocked) has no sample. */
    for (size_t k = 0; k < sw_control_field_count; k++) {
        const sw_field *f = &sw_control_fields[k];
        if (!f->prom.metric)
            continue;
        family(b, f->prom.metric, f->prom.type, f->meaning);
        for (size_t i = 0; i < n; i++) {
            const sw_control *c = sw_model_control_at(m, i);
            if (!c->allowed || (f->type == SW_FT_TIME && sw_field_int(f, c) == 0))
                continue;
            sample(b, f->prom.metric, field_value(f, c), "inverter", c->inverter, "object", c->object, NULL);
        }
    }
}

/* ---- the process, as every exporter reports it ------------------------------------------- */

/* Read a small /proc file whole; false when it cannot be read (not Linux, or no /proc). */
static bool read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

typedef struct proc_stat {
    double utime, stime;        /* clock ticks */
    double starttime;           /* clock ticks after boot */
    double vsize, rss;          /* bytes, pages */
} proc_stat;

/* /proc/self/stat: the command may hold spaces and parentheses, so fields count from the last ')'. */
static bool read_proc_stat(proc_stat *ps)
{
    char buf[1024];
    if (!read_small("/proc/self/stat", buf, sizeof buf))
        return false;
    const char *p = strrchr(buf, ')');
    if (!p)
        return false;
    /* After ')': field 3 (state) onwards; utime is field 14, stime 15, starttime 22, vsize 23, rss 24. */
    double v[22];
    int got = 0;
    for (p++; *p && got < 22;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        double x = strtod(p, &end);
        v[got++] = end == p ? 0 : x; /* the state letter is not a number */
        while (*p && *p != ' ')
            p++;
    }
    if (got < 22)
        return false;
    ps->utime = v[14 - 3];
    ps->stime = v[15 - 3];
    ps->starttime = v[22 - 3];
    ps->vsize = v[23 - 3];
    ps->rss = v[24 - 3];
    return true;
}

/* Boot time in Unix seconds (/proc/stat "btime"); 0 when unknown. It follows the "intr" line,
 * which holds a counter per interrupt and can be far longer than any fixed buffer, so the file
 * is read word by word. */
static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    char word[64];
    double bt = 0;
    while (fscanf(f, "%63s", word) == 1) {
        if (strcmp(word, "btime") == 0) {
            if (fscanf(f, "%lf", &bt) != 1)
                bt = 0;
            break;
        }
    }
    fclose(f);
    return bt;
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

static void render_process(pbuf *b)
{
    proc_stat ps;
    long ticks = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    if (read_proc_stat(&ps) && ticks > 0 && page > 0) {
        family(b, "process_cpu_seconds_total", "counter", "CPU time the daemon used, user plus system.");
        sample(b, "process_cpu_seconds_total", (ps.utime + ps.stime) / (double)ticks, NULL);
        double boot = boot_time();
        if (boot > 0) {
            family(b, "process_start_time_seconds", "gauge",
                   "When the kernel started the daemon's process (Unix time).");
            sample(b, "process_start_time_seconds", boot + ps.starttime / (double)ticks, NULL);
        }
        family(b, "process_resident_memory_bytes", "gauge", "Memory the daemon holds in RAM.");
        sample(b, "process_resident_memory_bytes", ps.rss * (double)page, NULL);
        family(b, "process_virtual_memory_bytes", "gauge", "Address space the daemon has mapped.");
        sample(b, "process_virtual_memory_bytes", ps.vsize, NULL);
    }
    long fds = open_fds();
    if (fds >= 0) {
        family(b, "process_open_fds", "gauge", "File descriptors the daemon has open.");
        sample(b, "process_open_fds", (double)fds, NULL);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        family(b, "process_max_fds", "gauge",
               "How many file descriptors the daemon may open (its soft limit).");
        sample(b, "process_max_fds", (double)rl.rlim_cur, NULL);
    }
}

sw_err sw_prometheus_render(const sw_model *m, char **out, size_t *len)
{
    pbuf b = { 0 };
    if (!m || !out)
        return SW_ERR_INVALID_ARGUMENT;
    family(&b, "sunwire_build_info", "gauge", "The running sunwire version; the value is always 1.");
    sample(&b, "sunwire_build_info", 1, "version", SUNWIRE_VERSION, NULL);
    family(&b, "sunwire_start_time_seconds", "gauge", "When the daemon started.");
    sample(&b, "sunwire_start_time_seconds", (double)sw_model_started_ns(m) / 1e9, NULL);
    family(&b, "sunwire_model_updated_timestamp_seconds", "gauge", "When anything in the model last changed.");
    sample(&b, "sunwire_model_updated_timestamp_seconds", (double)sw_model_updated_ns(m) / 1e9, NULL);
    render_sources(&b, m);
    render_gateways(&b, m);
    render_panels(&b, m);
    render_strings(&b, m);
    render_inverters(&b, m);
    render_controls(&b, m);
    render_problems(&b, m);
    render_process(&b);
    if (b.failed) {
        free(b.p);
        return SW_ERR_NO_MEMORY;
    }
    *out = b.p;
    if (len)
        *len = b.len;
    return SW_OK;
}

/* ---- configuration ---------------------------------------------------------------------- */

void sw_prometheus_config_defaults(sw_prometheus_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "/metrics");
    snprintf(c->bind, sizeof c->bind, "127.0.0.1");
    c->port = 9464;
}

static sw_err cfg_err(char *err, size_t errcap, const char *key, const char *value, const char *what)
{
    if (err && errcap)
        snprintf(err, errcap, "prometheus: %s = '%s' %s", key, value, what);
    return SW_ERR_INVALID_ARGUMENT;
}

sw_err sw_prometheus_config_set(sw_prometheus_config *c, const char *key, const char *value, char *err,
                                size_t errcap)
{
    if (!key || !value)
        return cfg_err(err, errcap, "?", "?", "is incomplete");
    if (strcmp(key, "enable") == 0 || strcmp(key, "enabled") == 0) {
        if (!sw_parse_bool(value, &c->enable))
            return cfg_err(err, errcap, key, value, "is not a boolean (true/false)");
    } else if (strcmp(key, "path") == 0) {
        if (value[0] != '/' || strlen(value) >= sizeof c->path || strpbrk(value, "?# \t"))
            return cfg_err(err, errcap, key, value, "must be a URL path starting with '/'");
        snprintf(c->path, sizeof c->path, "%s", value);
    } else if (strcmp(key, "bind") == 0 || strcmp(key, "address") == 0) {
        if (!*value || strlen(value) >= sizeof c->bind)
            return cfg_err(err, errcap, key, value, "is not an address");
        snprintf(c->bind, sizeof c->bind, "%s", value);
    } else if (strcmp(key, "port") == 0) {
        uint64_t p;
        if (!sw_parse_uint(value, 65535, &p))
            return cfg_err(err, errcap, key, value, "is not a port number (0-65535)");
        c->port = (uint16_t)p;
    } else {
        if (err && errcap)
            snprintf(err, errcap, "prometheus: unknown key '%s'", key);
        return SW_ERR_INVALID_ARGUMENT;
    }
    return SW_OK;
}
