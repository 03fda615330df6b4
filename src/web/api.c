/*
 * api.c: the dashboard's JSON API (documented in docs/api.md).
 *
 * Every answer is built from the model's read accessors at the moment of the
 * request (the model is only changed on the same loop thread, so a request
 * sees one consistent picture) plus, for earlier days, the history seam.
 * Query parameters are the only input from outside; each endpoint lists the
 * ones it accepts and anything else is a 400 with a reason, so scripts fail
 * loudly instead of getting a different answer than they asked for.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fields.h"
#include "sunwire/core.h"
#include "web/web_internal.h"

#define NS_PER_S INT64_C(1000000000)

/* ---- records as JSON ---------------------------------------------------------- */

/* A record's fields under their API names, in table order (model/fields.h); times to the millisecond. */
static void record(sw_json *j, const sw_field *fields, size_t n, const void *rec)
{
    sw_fields_json(j, fields, n, SW_OUT_API, rec, SW_FIELD_TIME_RFC3339_MS);
}
void sw_web_json_time(sw_json *j, int64_t unix_ns)
{
    if (unix_ns <= 0) {
        sw_json_null(j);
        return;
    }
    char buf[SW_RFC3339_MAX];
    /* Whole milliseconds are plenty for a dashboard and keep the text short. */
    sw_fmt_rfc3339(buf, unix_ns - unix_ns % 1000000, 0);
    sw_json_string(j, buf);
}

void sw_web_panel_id(const sw_panel *p, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%u:%u", p->source, (unsigned)p->gateway_id, (unsigned)p->node_id);
}

void sw_web_json_panel(sw_json *j, const sw_panel *p)
{
    char id[SW_WEB_SERIES_KEY_MAX];
    sw_web_panel_id(p, id, sizeof id);
    sw_json_object_begin(j);
    sw_json_key(j, "id"); sw_json_string(j, id);
    record(j, sw_panel_fields, sw_panel_field_count, p);
    sw_json_object_end(j);
}

void sw_web_json_string(sw_json *j, const sw_string_agg *s)
{
    sw_json_object_begin(j);
    record(j, sw_string_fields, sw_string_field_count, s);
    sw_json_object_end(j);
}

static bool source_dead(const sw_source_status *s, int64_t now_ns, int64_t dead_ns)
{
    if (!s->connected)
        return true;
    return dead_ns > 0 && s->last_data_ns > 0 && now_ns - s->last_data_ns > dead_ns;
}

void sw_web_json_source(sw_json *j, const sw_source_status *s, int64_t now_ns)
{
    (void)now_ns;
    sw_json_object_begin(j);
    record(j, sw_source_fields, sw_source_field_count, s);
    sw_json_object_end(j);
}

void sw_web_json_gateway(sw_json *j, const sw_gateway *g)
{
    sw_json_object_begin(j);
    record(j, sw_gateway_fields, sw_gateway_field_count, g);
    sw_json_object_end(j);
}

void sw_web_json_inverter(sw_json *j, const sw_inverter *inv)
{
    sw_json_object_begin(j);
    record(j, sw_inverter_fields, sw_inverter_field_count, inv);
    sw_json_object_end(j);
}

void sw_web_json_value(sw_json *j, const sw_inverter_value *v)
{
    char id[12];
    snprintf(id, sizeof id, "0x%08" PRIX32, v->object_id);
    sw_json_object_begin(j);
    sw_json_key(j, "inverter"); sw_json_string(j, v->inverter);
    sw_json_key(j, "object_id"); sw_json_string(j, id);
    sw_json_key(j, "name"); sw_json_string(j, v->object_name);
    sw_json_key(j, "unit"); sw_json_string(j, v->unit);
    sw_json_key(j, "value");
    if (v->is_number)
        sw_json_double(j, v->number);
    else if (v->json)
        sw_json_raw(j, v->json, strlen(v->json)); /* battery cells, modules, series: structured, whole */
    else
        sw_json_null(j);
    sw_json_key(j, "text"); sw_json_string(j, v->text);
    sw_json_key(j, "time"); sw_web_json_time(j, v->timestamp_ns);
    sw_json_object_end(j);
}

/* ---- time zone -------------------------------------------------------------- */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int32_t offset_at(const sw_web_api *api, int64_t unix_ns)
{
    return api->utc_offset ? api->utc_offset(api->utc_offset_user, unix_ns) : 0;
}

int64_t sw_web_local_day(const sw_web_api *api, int64_t unix_ns)
{
    int64_t s = floor_div(unix_ns, NS_PER_S) + offset_at(api, unix_ns);
    return floor_div(s, 86400);
}

int64_t sw_web_day_start_ns(const sw_web_api *api, int64_t day)
{
    int64_t t = day * 86400 * NS_PER_S;
    /* The offset at local midnight, found from a first guess (DST changes move it by at most an hour). */
    int64_t guess = t - (int64_t)offset_at(api, t) * NS_PER_S;
    return t - (int64_t)offset_at(api, guess) * NS_PER_S;
}

static void day_text(int64_t day, char out[16])
{
    int64_t y;
    unsigned m, d;
    sw_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02u-%02u", (int)y, m, d);
}

/* ---- lookups --------------------------------------------------------------- */
static const sw_panel *find_panel(const sw_model *m, const char *key)
{
    char id[SW_WEB_SERIES_KEY_MAX];
    size_t n = sw_model_panel_count(m);
    for (size_t i = 0; i < n; i++) {
        const sw_panel *p = sw_model_panel_at(m, i);
        sw_web_panel_id(p, id, sizeof id);
        if (strcmp(id, key) == 0)
            return p;
    }
    for (size_t i = 0; i < n; i++) {
        const sw_panel *p = sw_model_panel_at(m, i);
        if ((p->barcode[0] && strcmp(p->barcode, key) == 0) || strcmp(p->name, key) == 0)
            return p;
    }
    return NULL;
}

static const sw_string_agg *find_string(const sw_model *m, const char *name)
{
    size_t n = sw_model_string_count(m);
    for (size_t i = 0; i < n; i++) {
        const sw_string_agg *s = sw_model_string_at(m, i);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

/* ---- problems ---------------------------------------------------------------- */
void sw_web_json_problem(sw_json *j, const sw_model *m, const sw_problem *p)
{
    const sw_panel *panel = NULL;
    for (size_t i = 0; p->subject_kind == SW_SUBJECT_PANEL && !panel && i < sw_model_panel_count(m); i++) {
        const sw_panel *q = sw_model_panel_at(m, i);
        if (strcmp(q->series_id, p->subject) == 0 && strcmp(q->source, p->source) == 0)
            panel = q;
    }
    sw_json_object_begin(j);
    sw_json_key(j, "kind"); sw_json_string(j, sw_problem_kind_name(p->kind));
    sw_json_key(j, "title"); sw_json_string(j, sw_problem_kind_title(p->kind));
    sw_json_key(j, "subject_kind"); sw_json_string(j, sw_subject_kind_name(p->subject_kind));
    sw_json_key(j, "source"); sw_json_string(j, p->source);
    sw_json_key(j, "subject"); sw_json_string(j, p->subject);
    sw_json_key(j, "name"); sw_json_string(j, p->name);
    sw_json_key(j, "panel");
    if (panel) {
        char id[SW_WEB_SERIES_KEY_MAX];
        sw_web_panel_id(panel, id, sizeof id);
        sw_json_string(j, id);
    } else {
        sw_json_null(j);
    }
    sw_json_key(j, "active"); sw_json_bool(j, p->active);
    sw_json_key(j, "since"); sw_web_json_time(j, p->since_ns);
    sw_json_key(j, "until");
    if (p->active)
        sw_json_null(j);
    else
        sw_web_json_time(j, p->until_ns);
    sw_json_key(j, "reason"); sw_json_string(j, p->reason);
    sw_json_object_end(j);
}

/* The records the model keeps (cleared ones until a restart): active (1), cleared (0) or all (-1). */
static void problems_array(sw_json *j, const sw_model *m, int active)
{
    sw_json_array_begin(j);
    for (size_t i = 0; i < sw_model_problem_count(m); i++) {
        const sw_problem *p = sw_model_problem_at(m, i);
        if (active < 0 || p->active == (active == 1))
            sw_web_json_problem(j, m, p);
    }
    sw_json_array_end(j);
}

/* ---- alerts ---------------------------------------------------------------- */
static void alert(sw_json *j, const char *level, const char *kind, const char *subject, const char *message)
{
    sw_json_object_begin(j);
    sw_json_key(j, "level"); sw_json_string(j, level);
    sw_json_key(j, "kind"); sw_json_string(j, kind);
    sw_json_key(j, "subject"); sw_json_string(j, subject);
    sw_json_key(j, "message"); sw_json_string(j, message);
    sw_json_object_end(j);
}

static bool is_fault_object(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "fault[", 6) == 0 && n > 4 && strcmp(name + n - 4, ".flt") == 0;
}

static void alerts_array(sw_json *j, const sw_web_api *api)
{
    const sw_model *m = api->model;
    char msg[512];
    sw_json_array_begin(j);
    for (size_t i = 0; i < sw_model_source_count(m); i++) {
        const sw_source_status *s = sw_model_source_at(m, i);
        if (!s->connected) {
            snprintf(msg, sizeof msg, "Source %s (%s) is not connected%s%s", s->name, s->address,
                     s->last_error[0] ? ": " : "", s->last_error);
            alert(j, "error", "source_down", s->name, msg);
        } else if (source_dead(s, api->now_ns, api->source_dead_ns)) {
            snprintf(msg, sizeof msg, "Source %s (%s) has sent nothing for %" PRId64 " s", s->name, s->address,
                     (api->now_ns - s->last_data_ns) / NS_PER_S);
            alert(j, "error", "source_silent", s->name, msg);
        }
    }
    size_t np = sw_model_panel_count(m), offline = 0;
    for (size_t i = 0; i < np; i++)
        if (!sw_model_panel_at(m, i)->online)
            offline++;
    if (np > 0 && offline == np) {
        /* Every optimizer sleeps at night: one calm line, not a wall of warnings. */
        snprintf(msg, sizeof msg, "All %zu panels are offline (normal at night)", np);
        alert(j, "info", "all_panels_offline", "", msg);
    } else {
        for (size_t i = 0; i < np; i++) {
            const sw_panel *p = sw_model_panel_at(m, i);
            if (p->online)
                continue;
            char id[SW_WEB_SERIES_KEY_MAX];
            sw_web_panel_id(p, id, sizeof id);
            if (p->last_seen_ns > 0)
                snprintf(msg, sizeof msg, "Panel %s is offline (last report %" PRId64 " min ago)", p->name,
                         (api->now_ns - p->last_seen_ns) / (60 * NS_PER_S));
            else
                snprintf(msg, sizeof msg, "Panel %s has never reported", p->name);
            alert(j, "warning", "panel_offline", id, msg);
        }
    }
    for (size_t i = 0; i < sw_model_inverter_count(m); i++) {
        const sw_inverter *inv = sw_model_inverter_at(m, i);
        if (!inv->online) {
            snprintf(msg, sizeof msg, "Inverter %s (%s:%u) is not answering", inv->name, inv->host,
                     (unsigned)inv->port);
            alert(j, "error", "inverter_offline", inv->name, msg);
        }
    }
    for (size_t i = 0; i < sw_model_inverter_value_count(m); i++) {
        const sw_inverter_value *v = sw_model_inverter_value_at(m, i);
        if (is_fault_object(v->object_name) && v->is_number && v->number != 0) {
            snprintf(msg, sizeof msg, "Inverter %s reports %s = %s", v->inverter, v->object_name, v->text);
            alert(j, "error", "inverter_fault", v->inverter, msg);
        }
    }
    for (size_t i = 0; i < sw_model_control_count(m); i++) {
        const sw_control *c = sw_model_control_at(m, i);
        if (!c->allowed || !c->blocked)
            continue;
        char until[SW_RFC3339_MAX] = "";
        if (c->blocked_until_ns > 0)
            sw_fmt_rfc3339(until, c->blocked_until_ns - c->blocked_until_ns % NS_PER_S, 0);
        snprintf(msg, sizeof msg, "Inverter %s takes no writes to %s%s%s: its flash budget is used up", c->inverter,
                 c->object, until[0] ? " until " : "", until);
        alert(j, "warning", "control_blocked", c->inverter, msg);
    }
    sw_json_array_end(j);
}

/* ---- control writes (model/model.h) ---------------------------------------------- */

/* The reasons of one outcome with their counts, every row of the table (zeros included). */
static void control_reasons(sw_json *j, const sw_control *c, const char *outcome)
{
    sw_json_object_begin(j);
    for (int r = 0; r < SW_CONTROL_RESULT_COUNT; r++) {
        if (strcmp(sw_control_result_outcome((sw_control_result)r), outcome) != 0)
            continue;
        sw_json_key(j, sw_control_result_reason((sw_control_result)r));
        sw_json_uint(j, c->writes[r]);
    }
    sw_json_object_end(j);
}

/* One record: its fields (model/fields.h), the writes by outcome, and by reason. */
static void control_record(sw_json *j, const sw_control *c)
{
    uint64_t verified = 0, failed = 0, refused = 0;
    for (int r = 0; r < SW_CONTROL_RESULT_COUNT; r++) {
        const char *o = sw_control_result_outcome((sw_control_result)r);
        if (strcmp(o, "verified") == 0)
            verified += c->writes[r];
        else if (strcmp(o, "failed") == 0)
            failed += c->writes[r];
        else
            refused += c->writes[r];
    }
    sw_json_object_begin(j);
    record(j, sw_control_fields, sw_control_field_count, c);
    sw_json_key(j, "writes");
    sw_json_object_begin(j);
    sw_json_key(j, "verified"); sw_json_uint(j, verified);
    sw_json_key(j, "failed"); sw_json_uint(j, failed);
    sw_json_key(j, "refused"); sw_json_uint(j, refused);
    sw_json_object_end(j);
    sw_json_key(j, "failed"); control_reasons(j, c, "failed");
    sw_json_key(j, "refused"); control_reasons(j, c, "refused");
    sw_json_object_end(j);
}

/* Every record, or those of one inverter (NULL: all). */
static void controls_array(sw_json *j, const sw_model *m, const char *inverter)
{
    sw_json_array_begin(j);
    for (size_t i = 0; i < sw_model_control_count(m); i++) {
        const sw_control *c = sw_model_control_at(m, i);
        if (!inverter || strcmp(c->inverter, inverter) == 0)
            control_record(j, c);
    }
    sw_json_array_end(j);
}

/* ---- endpoint bodies ------------------------------------------------------------ */
typedef struct fill_ctx {
    const sw_web_api *api;
    const char *string_filter; /* NULL = all */
    int online_filter;         /* -1 any, 0 offline, 1 online */
    const sw_panel *panel;
    /* history answers */
    const char *kind, *name, *id;
    const char *hist_key;      /* what the history store knows the subject by */
    int64_t day, first_day, last_day;
    const char *origin;
    sw_json *j;
    int64_t last_emitted_day;
    double today_wh;           /* today's figure from the live model (energy, or the performance index) */
    bool have_today;
    bool performance;          /* a daily series of the performance index instead of energy */
} fill_ctx;

static void panels_array(sw_json *j, const fill_ctx *c)
{
    const sw_model *m = c->api->model;
    sw_json_array_begin(j);
    for (size_t i = 0; i < sw_model_panel_count(m); i++) {
        const sw_panel *p = sw_model_panel_at(m, i);
        if (c->string_filter && strcmp(p->string_name, c->string_filter) != 0)
            continue;
        if (c->online_filter >= 0 && p->online != (c->online_filter == 1))
            continue;
        sw_web_json_panel(j, p);
    }
    sw_json_array_end(j);
}

static void strings_array(sw_json *j, const sw_model *m)
{
    sw_json_array_begin(j);
    for (size_t i = 0; i < sw_model_string_count(m); i++)
        sw_web_json_string(j, sw_model_string_at(m, i));
    sw_json_array_end(j);
}

static void sources_array(sw_json *j, const sw_web_api *api)
{
    sw_json_array_begin(j);
    for (size_t i = 0; i < sw_model_source_count(api->model); i++)
        sw_web_json_source(j, sw_model_source_at(api->model, i), api->now_ns);
    sw_json_array_end(j);
}

static void gateways_array(sw_json *j, const sw_model *m, bool with_nodes)
{
    sw_json_array_begin(j);
    for (size_t i = 0; i < sw_model_gateway_count(m); i++) {
        const sw_gateway *g = sw_model_gateway_at(m, i);
        if (!with_nodes) {
            sw_web_json_gateway(j, g);
            continue;
        }
        sw_json_object_begin(j);
        sw_json_key(j, "source"); sw_json_string(j, g->source);
        sw_json_key(j, "gateway_id"); sw_json_uint(j, g->gateway_id);
        sw_json_key(j, "address"); sw_json_string(j, g->address);
        sw_json_key(j, "barcode"); sw_json_string(j, g->barcode);
        sw_json_key(j, "version"); sw_json_string(j, g->version);
        sw_json_key(j, "nodes");
        sw_json_array_begin(j);
        for (size_t k = 0; k < sw_model_panel_count(m); k++) {
            const sw_panel *p = sw_model_panel_at(m, k);
            if (p->gateway_id != g->gateway_id || strcmp(p->source, g->source) != 0)
                continue;
            sw_json_object_begin(j);
            sw_json_key(j, "node_id"); sw_json_uint(j, p->node_id);
            sw_json_key(j, "barcode"); sw_json_string(j, p->barcode);
            sw_json_key(j, "name"); sw_json_string(j, p->name);
            sw_json_key(j, "online"); sw_json_bool(j, p->online);
            sw_json_key(j, "last_seen"); sw_web_json_time(j, p->last_seen_ns);
            sw_json_object_end(j);
        }
        sw_json_array_end(j);
        sw_json_object_end(j);
    }
    sw_json_array_end(j);
}

static void inverters_array(sw_json *j, const sw_model *m)
{
    sw_json_array_begin(j);
    for (size_t i = 0; i < sw_model_inverter_count(m); i++) {
        const sw_inverter *inv = sw_model_inverter_at(m, i);
        sw_json_object_begin(j);
        sw_json_key(j, "name"); sw_json_string(j, inv->name);
        sw_json_key(j, "host"); sw_json_string(j, inv->host);
        sw_json_key(j, "port"); sw_json_uint(j, inv->port);
        sw_json_key(j, "serial"); sw_json_string(j, inv->serial);
        sw_json_key(j, "model"); sw_json_string(j, inv->model);
        sw_json_key(j, "firmware"); sw_json_string(j, inv->firmware);
        sw_json_key(j, "online"); sw_json_bool(j, inv->online);
        sw_json_key(j, "last_poll"); sw_web_json_time(j, inv->last_poll_ns);
        sw_json_key(j, "values");
        sw_json_array_begin(j);
        for (size_t k = 0; k < sw_model_inverter_value_count(m); k++) {
            const sw_inverter_value *v = sw_model_inverter_value_at(m, k);
            if (strcmp(v->inverter, inv->name) == 0)
                sw_web_json_value(j, v);
        }
        sw_json_array_end(j);
        sw_json_key(j, "control"); controls_array(j, m, inv->name);
        sw_json_object_end(j);
    }
    sw_json_array_end(j);
}

static void fill_state(sw_json *j, void *ctx)
{
    fill_ctx *c = ctx;
    const sw_model *m = c->api->model;
    sw_json_object_begin(j);
    sw_json_key(j, "now"); sw_web_json_time(j, c->api->now_ns);
    sw_json_key(j, "started"); sw_web_json_time(j, sw_model_started_ns(m));
    sw_json_key(j, "updated"); sw_web_json_time(j, sw_model_updated_ns(m));
    sw_json_key(j, "history"); sw_json_bool(j, c->api->history != NULL);
    sw_json_key(j, "sources"); sources_array(j, c->api);
    sw_json_key(j, "gateways"); gateways_array(j, m, false);
    sw_json_key(j, "panels"); panels_array(j, c);
    sw_json_key(j, "strings"); strings_array(j, m);
    sw_json_key(j, "inverters"); inverters_array(j, m);
    sw_json_key(j, "alerts"); alerts_array(j, c->api);
    sw_json_key(j, "problems"); problems_array(j, m, 1);
    sw_json_object_end(j);
}

static void fill_panels(sw_json *j, void *ctx) { panels_array(j, ctx); }
static void fill_panel(sw_json *j, void *ctx) { sw_web_json_panel(j, ((fill_ctx *)ctx)->panel); }
static void fill_strings(sw_json *j, void *ctx) { strings_array(j, ((fill_ctx *)ctx)->api->model); }
static void fill_sources(sw_json *j, void *ctx) { sources_array(j, ((fill_ctx *)ctx)->api); }
static void fill_inverters(sw_json *j, void *ctx) { inverters_array(j, ((fill_ctx *)ctx)->api->model); }
static void fill_alerts(sw_json *j, void *ctx) { alerts_array(j, ((fill_ctx *)ctx)->api); }
static void fill_control(sw_json *j, void *ctx) { controls_array(j, ((fill_ctx *)ctx)->api->model, NULL); }
static void fill_problems(sw_json *j, void *ctx)
{
    fill_ctx *c = ctx;
    problems_array(j, c->api->model, c->online_filter);
}

static void fill_devices(sw_json *j, void *ctx)
{
    fill_ctx *c = ctx;
    sw_json_object_begin(j);
    sw_json_key(j, "sources"); sources_array(j, c->api);
    sw_json_key(j, "gateways"); gateways_array(j, c->api->model, true);
    sw_json_key(j, "inverters"); inverters_array(j, c->api->model);
    sw_json_object_end(j);
}

/* ---- history ------------------------------------------------------------------ */
static void add_point(fill_ctx *c, int64_t t_ns, double watts)
{
    sw_json_array_begin(c->j);
    sw_json_int(c->j, floor_div(t_ns, 1000000));
    sw_json_double(c->j, watts);
    sw_json_array_end(c->j);
}

static int emit_point(const sw_http_history *history, int64_t t_ns, double watts, void *user)
{
    (void)history;
    add_point(user, t_ns, watts);
    return 0;
}

static void history_head(sw_json *j, const fill_ctx *c)
{
    char d[16];
    day_text(c->day, d);
    sw_json_key(j, "day"); sw_json_string(j, d);
    sw_json_key(j, "kind"); sw_json_string(j, c->kind);
    sw_json_key(j, "name"); sw_json_string(j, c->name);
    sw_json_key(j, "id"); sw_json_string(j, c->id);
    sw_json_key(j, "origin"); sw_json_string(j, c->origin);
    sw_json_key(j, "start"); sw_web_json_time(j, sw_web_day_start_ns(c->api, c->day));
    sw_json_key(j, "end"); sw_web_json_time(j, sw_web_day_start_ns(c->api, c->day + 1));
}

static void fill_day_memory(sw_json *j, void *ctx)
{
    fill_ctx *c = ctx;
    c->j = j;
    sw_json_object_begin(j);
    history_head(j, c);
    sw_json_key(j, "bucket_s"); sw_json_int(j, SW_WEB_BUCKET_S);
    sw_json_key(j, "points");
    sw_json_array_begin(j);
    const sw_web_series *s =
        c->api->today ? sw_web_today_find(c->api->today, c->kind[0] == 'p' ? 'p' : 's', c->id) : NULL;
    if (s && s->day == c->day) {
        int64_t start = sw_web_day_start_ns(c->api, c->day);
        for (int b = 0; b < SW_WEB_BUCKETS; b++)
            if (s->count[b])
                add_point(c, start + (int64_t)b * SW_WEB_BUCKET_S * NS_PER_S, s->sum[b] / s->count[b]);
    }
    sw_json_array_end(j);
    sw_json_object_end(j);
}

typedef struct hist_call {
    fill_ctx *c;
    sw_err err;
} hist_call;

static void fill_day_history(sw_json *j, void *ctx)
{
    hist_call *h = ctx;
    fill_ctx *c = h->c;
    c->j = j;
    sw_json_object_begin(j);
    history_head(j, c);
    sw_json_key(j, "bucket_s"); sw_json_null(j);
    sw_json_key(j, "points");
    sw_json_array_begin(j);
    const sw_http_history *hs = c->api->history;
    h->err = hs->power_series(hs, c->kind, c->hist_key, sw_web_day_start_ns(c->api, c->day),
                              sw_web_day_start_ns(c->api, c->day + 1), emit_point, c);
    sw_json_array_end(j);
    sw_json_object_end(j);
}

static int emit_day(const sw_http_history *history, int64_t day, double wh, void *user)
{
    (void)history;
    fill_ctx *c = user;
    /* Today comes from the live model; rows out of range or out of order are the store's bug, not the page's. */
    if (day < c->first_day || day >= c->last_day || day <= c->last_emitted_day)
        return 0;
    c->last_emitted_day = day;
    char d[16];
    day_text(day, d);
    sw_json_object_begin(c->j);
    sw_json_key(c->j, "day"); sw_json_string(c->j, d);
    sw_json_key(c->j, c->performance ? "performance" : "wh"); sw_json_double(c->j, wh);
    sw_json_object_end(c->j);
    return 0;
}

static void fill_daily(sw_json *j, void *ctx)
{
    hist_call *h = ctx;
    fill_ctx *c = h->c;
    c->j = j;
    c->last_emitted_day = INT64_MIN;
    char d[16];
    sw_json_object_begin(j);
    sw_json_key(j, "kind"); sw_json_string(j, c->kind);
    sw_json_key(j, "name"); sw_json_string(j, c->name);
    sw_json_key(j, "id"); sw_json_string(j, c->id);
    sw_json_key(j, "origin"); sw_json_string(j, c->origin);
    day_text(c->first_day, d);
    sw_json_key(j, "first"); sw_json_string(j, d);
    day_text(c->last_day, d);
    sw_json_key(j, "last"); sw_json_string(j, d);
    sw_json_key(j, "days");
    sw_json_array_begin(j);
    h->err = SW_OK;
    const sw_http_history *hs = c->api->history;
    if (hs && !c->performance && hs->daily_energy)
        h->err = hs->daily_energy(hs, c->kind, c->hist_key, c->first_day, c->last_day - 1, emit_day, c);
    if (hs && c->performance && hs->daily_performance)
        h->err = hs->daily_performance(hs, c->kind, c->hist_key, c->first_day, c->last_day - 1, emit_day, c);
    if (c->have_today) {
        day_text(c->last_day, d);
        sw_json_object_begin(j);
        sw_json_key(j, "day"); sw_json_string(j, d);
        sw_json_key(j, c->performance ? "performance" : "wh"); sw_json_double(j, c->today_wh);
        sw_json_object_end(j);
    }
    sw_json_array_end(j);
    sw_json_object_end(j);
}

/* ---- dispatch ------------------------------------------------------------------- */
static int bad_request(sw_http_response *resp, const char *msg)
{
    sw_http_error(resp, 400, msg);
    return 0;
}

static int reply_json(sw_http_response *resp, sw_web_json_fill_cb fill, void *ctx)
{
    size_t len = 0;
    char *body = sw_web_json_alloc(fill, ctx, &len);
    if (!body) {
        sw_http_error(resp, 500, "out of memory");
        return 0;
    }
    free(resp->body);
    resp->body = body;
    resp->body_len = len;
    resp->status = 200;
    resp->content_type = "application/json";
    resp->cache_control = "no-store";
    return 0;
}

#define ALLOW(...) static const char *const allowed[] = { __VA_ARGS__, NULL }; \
    if (!sw_web_query_check(req, allowed, err, sizeof err)) return bad_request(resp, err)
#define ALLOW_NONE() if (!sw_web_query_check(req, NULL, err, sizeof err)) return bad_request(resp, err)

/* Resolve panel=/string= into the history subject: exactly one of them, known to the model. */
static int subject(const sw_web_api *api, const sw_http_request *req, sw_http_response *resp, fill_ctx *c,
                   char *idbuf, size_t idcap, bool default_total)
{
    const char *panel = sw_http_query(req, "panel");
    const char *string = sw_http_query(req, "string");
    if (panel && string)
        return bad_request(resp, "give either panel or string, not both"), -1;
    if (!panel && !string) {
        if (!default_total)
            return bad_request(resp, "missing query parameter: panel or string"), -1;
        string = "total";
    }
    if (panel) {
        if (!*panel)
            return bad_request(resp, "panel must not be empty"), -1;
        const sw_panel *p = find_panel(api->model, panel);
        if (!p) {
            sw_http_error(resp, 404, "unknown panel (use its id, name or barcode from /api/panels)");
            return -1;
        }
        c->panel = p;
        c->kind = "panel";
        c->name = p->name;
        sw_web_panel_id(p, idbuf, idcap);
        c->id = idbuf;
        c->hist_key = p->barcode[0] ? p->barcode : p->name;
        c->today_wh = p->energy_today_wh;
    } else {
        if (!*string)
            return bad_request(resp, "string must not be empty"), -1;
        const sw_string_agg *s = find_string(api->model, string);
        if (!s) {
            sw_http_error(resp, 404, "unknown string (see /api/strings)");
            return -1;
        }
        c->kind = "string";
        c->name = s->name;
        c->id = s->name;
        c->hist_key = s->name;
        c->today_wh = s->energy_today_wh;
    }
    return 0;
}

static int history_day(const sw_web_api *api, const sw_http_request *req, sw_http_response *resp)
{
    char err[160];
    ALLOW("day", "panel", "string");
    fill_ctx c = { .api = api, .online_filter = -1 };
    char idbuf[SW_WEB_SERIES_KEY_MAX];
    if (subject(api, req, resp, &c, idbuf, sizeof idbuf, false) != 0)
        return 0;
    int64_t today = sw_web_local_day(api, api->now_ns);
    const char *dtext = sw_http_query(req, "day");
    int64_t day = today;
    if (dtext && !sw_web_parse_day(dtext, today, &day))
        return bad_request(resp, "day must be YYYY-MM-DD (a real date), 'today' or 'yesterday'");
    if (day > today)
        return bad_request(resp, "day is in the future");
    c.day = day;
    if (api->history && api->history->power_series) {
        c.origin = "history";
        hist_call h = { .c = &c };
        reply_json(resp, fill_day_history, &h);
        if (h.err != SW_OK && h.err != SW_ERR_NOT_FOUND) {
            snprintf(err, sizeof err, "history query failed: %s", sw_err_message(h.err));
            sw_http_error(resp, 500, err);
        }
        return 0;
    }
    if (day != today) {
        sw_http_error(resp, 404,
                      "no history for that day: only today is kept in memory; enable the [history] output "
                      "to keep earlier days");
        return 0;
    }
    c.origin = "memory";
    return reply_json(resp, fill_day_memory, &c);
}

/* The days=N range ending today (default `days`), answered with c's daily series: energy, or the
 * performance index of c->panel; today's figure comes from the live model. */
static int daily_reply(const sw_web_api *api, const sw_http_request *req, sw_http_response *resp, fill_ctx *c,
                       long days)
{
    const char *dtext = sw_http_query(req, "days");
    if (dtext && !sw_web_parse_int(dtext, 1, 366, &days))
        return bad_request(resp, "days must be a whole number from 1 to 366");
    int64_t today = sw_web_local_day(api, api->now_ns);
    c->first_day = today - days + 1;
    c->last_day = today;
    if (c->performance) {
        c->today_wh = c->panel->performance;
        c->have_today = c->panel->performance_day == today && isfinite(c->panel->performance);
    } else {
        c->have_today = true;
    }
    c->origin = api->history ? "history" : "memory";
    hist_call h = { .c = c };
    reply_json(resp, fill_daily, &h);
    if (h.err != SW_OK && h.err != SW_ERR_NOT_FOUND) {
        char err[160];
        snprintf(err, sizeof err, "history query failed: %s", sw_err_message(h.err));
        sw_http_error(resp, 500, err);
    }
    return 0;
}

static int history_daily(const sw_web_api *api, const sw_http_request *req, sw_http_response *resp)
{
    char err[160];
    ALLOW("days", "panel", "string");
    fill_ctx c = { .api = api, .online_filter = -1 };
    char idbuf[SW_WEB_SERIES_KEY_MAX];
    if (subject(api, req, resp, &c, idbuf, sizeof idbuf, true) != 0)
        return 0;
    return daily_reply(api, req, resp, &c, 30);
}

/* A panel's daily performance index over the last `days` days (default eight weeks). */
static int history_performance(const sw_web_api *api, const sw_http_request *req, sw_http_response *resp)
{
    char err[160];
    ALLOW("days", "panel");
    fill_ctx c = { .api = api, .online_filter = -1, .performance = true };
    char idbuf[SW_WEB_SERIES_KEY_MAX];
    if (!sw_http_query(req, "panel"))
        return bad_request(resp, "missing query parameter: panel");
    if (subject(api, req, resp, &c, idbuf, sizeof idbuf, false) != 0)
        return 0;
    return daily_reply(api, req, resp, &c, 56);
}

int sw_web_api_handle(const sw_web_api *api, const sw_http_request *req, sw_http_response *resp)
{
    char err[160];
    const char *path = req->path;
    fill_ctx c = { .api = api, .online_filter = -1 };

    if (strcmp(path, "/api/state") == 0) {
        ALLOW_NONE();
        return reply_json(resp, fill_state, &c);
    }
    if (strcmp(path, "/api/panels") == 0) {
        ALLOW("string", "online");
        c.string_filter = sw_http_query(req, "string");
        const char *on = sw_http_query(req, "online");
        if (on) {
            bool b;
            if (!sw_web_parse_bool(on, &b))
                return bad_request(resp, "online must be true or false");
            c.online_filter = b ? 1 : 0;
        }
        if (c.string_filter && !find_string(api->model, c.string_filter)) {
            sw_http_error(resp, 404, "unknown string (see /api/strings)");
            return 0;
        }
        return reply_json(resp, fill_panels, &c);
    }
    if (strcmp(path, "/api/panel") == 0) {
        ALLOW("id");
        const char *id = sw_http_query(req, "id");
        if (!id || !*id)
            return bad_request(resp, "missing query parameter: id (a panel id, name or barcode)");
        c.panel = find_panel(api->model, id);
        if (!c.panel) {
            sw_http_error(resp, 404, "unknown panel (use its id, name or barcode from /api/panels)");
            return 0;
        }
        return reply_json(resp, fill_panel, &c);
    }
    if (strcmp(path, "/api/strings") == 0) {
        ALLOW_NONE();
        return reply_json(resp, fill_strings, &c);
    }
    if (strcmp(path, "/api/sources") == 0) {
        ALLOW_NONE();
        return reply_json(resp, fill_sources, &c);
    }
    if (strcmp(path, "/api/inverters") == 0) {
        ALLOW_NONE();
        return reply_json(resp, fill_inverters, &c);
    }
    if (strcmp(path, "/api/control") == 0) {
        ALLOW_NONE();
        return reply_json(resp, fill_control, &c);
    }
    if (strcmp(path, "/api/devices") == 0) {
        ALLOW_NONE();
        return reply_json(resp, fill_devices, &c);
    }
    if (strcmp(path, "/api/alerts") == 0) {
        ALLOW_NONE();
        return reply_json(resp, fill_alerts, &c);
    }
    if (strcmp(path, "/api/problems") == 0) {
        ALLOW("active");
        const char *act = sw_http_query(req, "active");
        if (act) {
            bool b;
            if (!sw_web_parse_bool(act, &b))
                return bad_request(resp, "active must be true or false");
            c.online_filter = b ? 1 : 0;
        }
        return reply_json(resp, fill_problems, &c);
    }
    if (strcmp(path, "/api/history/day") == 0)
        return history_day(api, req, resp);
    if (strcmp(path, "/api/history/daily") == 0)
        return history_daily(api, req, resp);
    if (strcmp(path, "/api/history/performance") == 0)
        return history_performance(api, req, resp);
    sw_http_error(resp, 404, "no such API endpoint (see docs/api.md)");
    return 0;
}
