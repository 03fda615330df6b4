/*
 * web_internal.h: the pieces of the HTTP server and dashboard that are pure
 * enough to test without a socket: route matching, path checks, query
 * access, the JSON API (built from the model's read accessors), the day
 * series kept in memory, and the embedded asset table.
 *
 * Nothing here touches libmicrohttpd; http.c adapts MHD requests to these
 * types, so the unit tests drive exactly the code the server runs.
 */
#ifndef SW_WEB_INTERNAL_H
#define SW_WEB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "web/http.h"
#include "sunwire/json.h"
#include "model/model.h"
#include "web/sink_http.h"

#define SW_WEB_MAX_ROUTES 32
#define SW_WEB_ROUTE_PATH_MAX 128
#define SW_WEB_MAX_QUERY 16

/* ---- routes ---------------------------------------------------------------- */
typedef struct sw_web_route {
    char path[SW_WEB_ROUTE_PATH_MAX];
    bool prefix;
    bool sse;
    sw_http_handler_cb handler;
    void *user;
} sw_web_route;

/*
 * Index of the route serving `path`, or -1. An exact route beats any prefix;
 * among prefixes the longest wins. A prefix "/api" serves "/api" and
 * "/api/..." but never "/apix"; the prefix "/" serves every path.
 */
int sw_web_route_match(const sw_web_route *routes, size_t n, const char *path);

/* A path the server is willing to look up: absolute, no "..", no empty or
 * hidden segments, no backslash and no control characters. */
bool sw_web_path_safe(const char *path);

/* A raw request target (path and query, before percent-decoding) without control
 * characters, written out or percent-encoded (%00 included, which would cut the path). */
bool sw_web_target_safe(const char *raw);

/* An HTTP method is a token (RFC 9110): anything else is a garbled request line. */
bool sw_web_method_safe(const char *method);

/*
 * The first bytes a client sent, as far as they go: 1 when they hold a whole
 * request line that looks like HTTP (optional empty lines, a method token, a
 * space, then printable ASCII up to the line end), 0 when that may still come,
 * -1 when it cannot (a control or non-ASCII byte, a method that is no token).
 */
int sw_web_request_line_check(const char *buf, size_t len);

/* Whether any event-stream client listens on `path` (false without MHD). */
bool sw_web_sse_has_clients(const sw_http_server *srv, const char *path);

/* ---- query ------------------------------------------------------------------- */
/* What sw_http_request.conn_ points at: the decoded query parameters. */
typedef struct sw_web_query {
    size_t n;
    bool overflow; /* more parameters than fit: the request is refused */
    const char *key[SW_WEB_MAX_QUERY];
    const char *value[SW_WEB_MAX_QUERY];
} sw_web_query;

void sw_web_query_add(sw_web_query *q, const char *key, const char *value);

/*
 * Check that every parameter of the request is in `allowed` (NULL-terminated)
 * and appears once. On failure writes a message into err and returns false.
 */
bool sw_web_query_check(const sw_http_request *req, const char *const *allowed, char *err, size_t errcap);

/* "YYYY-MM-DD", "today" or "yesterday" -> days since 1970 (today_day given). */
bool sw_web_parse_day(const char *text, int64_t today_day, int64_t *day_out);
/* A decimal integer in [min, max], nothing else. */
bool sw_web_parse_int(const char *text, long min, long max, long *out);
/* "true"/"false"/"yes"/"no"/"on"/"off"/"1"/"0". */
bool sw_web_parse_bool(const char *text, bool *out);

/* ---- JSON helpers ----------------------------------------------------------- */
typedef void (*sw_web_json_fill_cb)(sw_json *j, void *ctx);
/* Run fill into a growing buffer until it fits; malloc'd text or NULL (out of memory). */
char *sw_web_json_alloc(sw_web_json_fill_cb fill, void *ctx, size_t *len_out);

void sw_web_json_panel(sw_json *j, const sw_panel *p);
void sw_web_json_string(sw_json *j, const sw_string_agg *s);
void sw_web_json_source(sw_json *j, const sw_source_status *s, int64_t now_ns);
void sw_web_json_gateway(sw_json *j, const sw_gateway *g);
void sw_web_json_inverter(sw_json *j, const sw_inverter *inv);
void sw_web_json_value(sw_json *j, const sw_inverter_value *v);
/* One problem (model/problem.h) with its title, and "panel": the panel's id for a panel's
 * problem while the model knows that panel (else null), so the dashboard can find its tile. */
void sw_web_json_problem(sw_json *j, const sw_model *m, const sw_problem *p);
/* A time as {"...": RFC 3339 UTC} or null when 0. */
void sw_web_json_time(sw_json *j, int64_t unix_ns);

/* "source:gateway:node", the panel's stable id in the API. */
void sw_web_panel_id(const sw_panel *p, char *out, size_t cap);

/* ---- today's series in memory ----------------------------------------------- */
#define SW_WEB_BUCKET_S 300
#define SW_WEB_BUCKETS (86400 / SW_WEB_BUCKET_S)
#define SW_WEB_SERIES_MAX 1024
#define SW_WEB_SERIES_KEY_MAX (SW_MODEL_NAME_MAX + 32)

typedef struct sw_web_series {
    char kind;                 /* 'p' panel (key = panel id), 's' string (key = name) */
    char key[SW_WEB_SERIES_KEY_MAX];
    int64_t day;               /* local day of the buckets */
    float sum[SW_WEB_BUCKETS];
    uint16_t count[SW_WEB_BUCKETS];
} sw_web_series;

typedef struct sw_web_today {
    sw_web_series *series;     /* SW_WEB_SERIES_MAX entries, caller-allocated */
    size_t n;
    size_t last_hit;
} sw_web_today;

/* Add a power sample at local second-of-day `sod` of local day `day`. */
void sw_web_today_add(sw_web_today *t, char kind, const char *key, int64_t day, int sod, double watts);
const sw_web_series *sw_web_today_find(const sw_web_today *t, char kind, const char *key);

/* ---- the JSON API ------------------------------------------------------------ */
typedef struct sw_web_api {
    const sw_model *model;
    const sw_http_history *history;  /* NULL when the history output is absent */
    const sw_web_today *today;       /* NULL: nothing kept in memory */
    int64_t now_ns;                  /* wall clock of the request */
    int32_t (*utc_offset)(void *user, int64_t unix_ns); /* NULL = UTC */
    void *utc_offset_user;
    int64_t source_dead_ns;          /* silence after which a connected source counts as dead */
} sw_web_api;

/* Serve one /api/... request (GET). Always fills resp; returns 0. */
int sw_web_api_handle(const sw_web_api *api, const sw_http_request *req, sw_http_response *resp);

/* Local day number and the UTC instant of its midnight under the API's zone. */
int64_t sw_web_local_day(const sw_web_api *api, int64_t unix_ns);
int64_t sw_web_day_start_ns(const sw_web_api *api, int64_t day);

/*
 * The history seam over the SQLite history file at `path` (opened read-only
 * on first use). *free_out releases it. Panels are looked up by barcode,
 * else by name, the keys the history stores.
 */
sw_err sw_web_history_db_new(const char *path, int32_t (*utc_offset)(void *, int64_t), void *utc_user,
                             sw_http_history *out, void (**free_out)(void *));

/* ---- embedded assets ------------------------------------------------------ */
typedef struct sw_web_asset {
    const char *name;          /* "index.html", "app.js", ... */
    const unsigned char *data;
    size_t len;
} sw_web_asset;

/* Generated from web/assets by the build. */
extern const sw_web_asset sw_web_assets[];
extern const size_t sw_web_asset_count;

const sw_web_asset *sw_web_asset_find(const char *name);
const char *sw_web_content_type(const char *name);
/* Serve "/" and "/<asset>"; 404 for anything else. */
int sw_web_asset_handle(void *user, const sw_http_request *req, sw_http_response *resp);

#endif
