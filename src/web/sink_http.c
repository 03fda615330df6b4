/*
 * sink_http.c: the [http] output: configuration, the server with the
 * dashboard's routes, and the sink that turns model changes into
 * Server-Sent Events and today's in-memory chart data.
 *
 * It trusts the model's records (they arrive on the loop thread, already
 * checked by the daemon) and the HTTP layer for request framing.
 */
#include "web/sink_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/log.h"
#include "io/net.h"
#include "web/web_internal.h"

#define EVENTS_PATH "/api/events"
#define NS_PER_S INT64_C(1000000000)

typedef struct web_sink {
    sw_loop *loop;
    sw_model *model;
    sw_http_server *srv;
    uint16_t port;
    sw_http_config cfg;
    sw_http_history history;
    bool have_history;
    void (*history_free)(void *); /* set when the history is ours (a database we opened) */
    sw_web_today today;
} web_sink;

void sw_http_config_defaults(sw_http_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->bind, sizeof c->bind, "127.0.0.1");
    c->port = SW_HTTP_DEFAULT_PORT;
    c->dashboard = true;
    c->source_dead_s = 60;
    sw_http_auth_defaults(&c->auth);
}

sw_err sw_http_config_set(sw_http_config *c, const char *key, const char *value, char *err, size_t errcap)
{
    if (!c || !key || !value)
        return SW_ERR_INVALID_ARGUMENT;
    if (err && errcap)
        err[0] = '\0';
    if (strcmp(key, "bind") == 0 || strcmp(key, "address") == 0) {
        if (!*value || strlen(value) >= sizeof c->bind) {
            if (err)
                snprintf(err, errcap, "%s: expected an address such as 127.0.0.1 or ::1", key);
            return SW_ERR_INVALID_ARGUMENT;
        }
        snprintf(c->bind, sizeof c->bind, "%s", value);
        return SW_OK;
    }
    if (strcmp(key, "port") == 0) {
        long v;
        if (!sw_web_parse_int(value, 0, 65535, &v)) {
            if (err)
                snprintf(err, errcap, "port: '%.40s' is not a port number (0-65535)", value);
            return SW_ERR_OUT_OF_RANGE;
        }
        c->port = (uint16_t)v;
        return SW_OK;
    }
    if (strcmp(key, "dashboard") == 0) {
        if (!sw_web_parse_bool(value, &c->dashboard)) {
            if (err)
                snprintf(err, errcap, "dashboard: '%.40s' is not true or false", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
        return SW_OK;
    }
    if (strcmp(key, "history") == 0) {
        if (strlen(value) >= sizeof c->history) {
            if (err)
                snprintf(err, errcap, "history: the path is too long");
            return SW_ERR_TOO_LONG;
        }
        snprintf(c->history, sizeof c->history, "%s", value);
        return SW_OK;
    }
    if (strcmp(key, "source_dead") == 0) {
        long v;
        if (!sw_web_parse_int(value, 1, 86400, &v)) {
            if (err)
                snprintf(err, errcap, "source_dead: '%.40s' is not a number of seconds (1-86400)", value);
            return SW_ERR_OUT_OF_RANGE;
        }
        c->source_dead_s = (unsigned)v;
        return SW_OK;
    }
    char msg[256] = "";
    sw_err e = sw_http_auth_config_set(&c->auth, key, value, msg, sizeof msg);
    if (e != SW_ERR_NOT_FOUND) {
        if (err && msg[0])
            snprintf(err, errcap, "%s", msg);
        return e;
    }
    if (err)
        snprintf(err, errcap,
                 "unknown key '%.40s' (known: bind, port, dashboard, source_dead, history, token_sha256, basic_auth, "
                 "auth_expires, insecure_no_auth, tls_cert, tls_key)",
                 key);
    return SW_ERR_NOT_FOUND;
}

/* ---- requests ---------------------------------------------------------------- */
static void api_context(web_sink *w, sw_web_api *api)
{
    memset(api, 0, sizeof *api);
    api->model = w->model;
    api->history = w->have_history ? &w->history : NULL;
    api->today = &w->today;
    api->now_ns = sw_now_realtime_ns();
    /* A simulation running faster than real time (sunwire demo) stamps its data ahead of the
     * wall clock; "today" and "seconds ago" must follow the data, not the other way round. */
    int64_t updated = sw_model_updated_ns(w->model);
    if (updated > api->now_ns)
        api->now_ns = updated;
    const sw_model_options *o = sw_model_get_options(w->model);
    if (o) {
        api->utc_offset = o->utc_offset;
        api->utc_offset_user = o->utc_offset_user;
    }
    api->source_dead_ns = (int64_t)w->cfg.source_dead_s * NS_PER_S;
}

static int on_api(void *user, const sw_http_request *req, sw_http_response *resp)
{
    sw_web_api api;
    api_context(user, &api);
    return sw_web_api_handle(&api, req, resp);
}

/* ---- pushing changes ---------------------------------------------------------- */
static void push(web_sink *w, const char *event, sw_web_json_fill_cb fill, void *ctx)
{
    /* Formatting every report for nobody would cost more than all the rest of the sink. */
    if (!sw_web_sse_has_clients(w->srv, EVENTS_PATH))
        return;
    size_t len = 0;
    char *text = sw_web_json_alloc(fill, ctx, &len);
    if (!text)
        return;
    sw_http_sse_send(w->srv, EVENTS_PATH, event, text);
    free(text);
}

static void fill_panel_ev(sw_json *j, void *ctx) { sw_web_json_panel(j, ctx); }
static void fill_string_ev(sw_json *j, void *ctx) { sw_web_json_string(j, ctx); }
static void fill_gateway_ev(sw_json *j, void *ctx) { sw_web_json_gateway(j, ctx); }
static void fill_inverter_ev(sw_json *j, void *ctx) { sw_web_json_inverter(j, ctx); }
static void fill_value_ev(sw_json *j, void *ctx) { sw_web_json_value(j, ctx); }
static void fill_source_ev(sw_json *j, void *ctx) { sw_web_json_source(j, ctx, sw_now_realtime_ns()); }

struct raw_ev {
    const char *kind;
    const char *json;        /* the typed event as JSON (sw_event_json) */
};

static void fill_raw_ev(sw_json *j, void *ctx)
{
    const struct raw_ev *r = ctx;
    sw_json_object_begin(j);
    sw_json_key(j, "time"); sw_web_json_time(j, sw_now_realtime_ns());
    sw_json_key(j, "kind"); sw_json_string(j, r->kind ? r->kind : "");
    sw_json_key(j, "data");
    if (r->json && *r->json)
        sw_json_raw(j, r->json, strlen(r->json));
    else
        sw_json_null(j);
    sw_json_object_end(j);
}

static void sample(web_sink *w, char kind, const char *key, int64_t t_ns, double watts)
{
    sw_web_api api;
    api_context(w, &api);
    if (t_ns <= 0)
        t_ns = api.now_ns;
    int64_t day = sw_web_local_day(&api, t_ns);
    int64_t sod = (t_ns - sw_web_day_start_ns(&api, day)) / NS_PER_S;
    sw_web_today_add(&w->today, kind, key, day, (int)sod, watts);
}

static void on_panel(void *self, const sw_panel *p)
{
    web_sink *w = self;
    if (p->online) {
        char id[SW_WEB_SERIES_KEY_MAX];
        sw_web_panel_id(p, id, sizeof id);
        sample(w, 'p', id, p->last_seen_ns, p->power_w);
    }
    push(w, "panel", fill_panel_ev, (void *)p);
}

static void on_string(void *self, const sw_string_agg *s)
{
    web_sink *w = self;
    if (s->online > 0)
        sample(w, 's', s->name, 0, s->power_sum_w);
    push(w, "string", fill_string_ev, (void *)s);
}

static void on_source(void *self, const sw_source_status *s) { push(self, "source", fill_source_ev, (void *)s); }
static void on_gateway(void *self, const sw_gateway *g) { push(self, "gateway", fill_gateway_ev, (void *)g); }
static void on_inverter(void *self, const sw_inverter *i) { push(self, "inverter", fill_inverter_ev, (void *)i); }
static void on_value(void *self, const sw_inverter_value *v) { push(self, "value", fill_value_ev, (void *)v); }

static void on_event(void *self, const sw_event *ev)
{
    char json[1024];
    if (sw_event_json(ev, json, sizeof json, NULL) != SW_OK)
        return;
    struct raw_ev r = { sw_event_kind_name(ev->kind), json };
    push(self, "raw", fill_raw_ev, &r);
}

static void on_close(void *self)
{
    web_sink *w = self;
    if (!w)
        return;
    sw_http_server_stop(w->srv);
    if (w->history_free)
        w->history_free(w->history.user);
    free(w->today.series);
    free(w);
}

static const sw_sink_ops web_ops = {
    .name = "http",
    .on_source = on_source,
    .on_gateway = on_gateway,
    .on_panel = on_panel,
    .on_string = on_string,
    .on_inverter = on_inverter,
    .on_value = on_value,
    .on_event = on_event,
    .close = on_close,
};

static const sw_sink_ops plain_ops = { .name = "http", .close = on_close };

static sw_err attach_db(web_sink *w, const char *path);

sw_err sw_http_start(sw_loop *loop, sw_model *model, const sw_http_config *c, sw_sink *out)
{
    if (!loop || !model || !c || !out)
        return SW_ERR_INVALID_ARGUMENT;
    web_sink *w = calloc(1, sizeof *w);
    if (!w)
        return SW_ERR_NO_MEMORY;
    w->loop = loop;
    w->model = model;
    w->cfg = *c;
    if (c->dashboard) {
        w->today.series = calloc(SW_WEB_SERIES_MAX, sizeof *w->today.series);
        if (!w->today.series) {
            free(w);
            return SW_ERR_NO_MEMORY;
        }
    }
    sw_err err = sw_http_server_start(loop, c->bind[0] ? c->bind : NULL, c->port, &c->auth, &w->srv, &w->port);
    if (err != SW_OK) {
        free(w->today.series);
        free(w);
        return err;
    }
    if (c->dashboard) {
        if ((err = sw_http_route(w->srv, "/api", true, on_api, w)) != SW_OK ||
            (err = sw_http_sse_route(w->srv, EVENTS_PATH)) != SW_OK ||
            (err = sw_http_route(w->srv, "/", true, sw_web_asset_handle, w)) != SW_OK) {
            on_close(w);
            return err;
        }
    }
    if (c->dashboard && c->history[0] && (err = attach_db(w, c->history)) != SW_OK) {
        on_close(w);
        return err;
    }
    SW_LOGD("http", "listening on http://%s%s%s:%u/%s", strchr(c->bind, ':') ? "[" : "", c->bind,
            strchr(c->bind, ':') ? "]" : "", (unsigned)w->port, c->dashboard ? " (dashboard)" : "");
    out->ops = c->dashboard ? &web_ops : &plain_ops;
    out->self = w;
    return SW_OK;
}

static web_sink *sink_of(const sw_sink *s)
{
    if (!s || !s->ops || !s->self || (s->ops != &web_ops && s->ops != &plain_ops))
        return NULL;
    return s->self;
}

sw_http_server *sw_http_sink_server(const sw_sink *s)
{
    web_sink *w = sink_of(s);
    return w ? w->srv : NULL;
}

uint16_t sw_http_sink_port(const sw_sink *s)
{
    web_sink *w = sink_of(s);
    return w ? w->port : 0;
}

static void drop_history(web_sink *w)
{
    if (w->history_free)
        w->history_free(w->history.user);
    w->history_free = NULL;
}

void sw_http_sink_set_history(const sw_sink *s, const sw_http_history *h)
{
    web_sink *w = sink_of(s);
    if (!w)
        return;
    drop_history(w);
    if (h) {
        w->history = *h;
        w->have_history = true;
    } else {
        memset(&w->history, 0, sizeof w->history);
        w->have_history = false;
    }
}

static sw_err attach_db(web_sink *w, const char *path)
{
    const sw_model_options *o = sw_model_get_options(w->model);
    sw_http_history h;
    void (*free_fn)(void *) = NULL;
    sw_err err = sw_web_history_db_new(path, o ? o->utc_offset : NULL, o ? o->utc_offset_user : NULL, &h, &free_fn);
    if (err != SW_OK)
        return err;
    drop_history(w);
    w->history = h;
    w->have_history = true;
    w->history_free = free_fn;
    return SW_OK;
}

sw_err sw_http_sink_attach_history_db(const sw_sink *s, const char *path)
{
    web_sink *w = sink_of(s);
    if (!w)
        return SW_ERR_INVALID_ARGUMENT;
    return attach_db(w, path);
}
