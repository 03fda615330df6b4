/*
 * sink/sink_influx.h: the InfluxDB line-protocol output.
 *
 * Two layers. The line writer (sw_influx_line_*, sw_influx_*_line) is pure: it
 * turns one model record into one line of line protocol in a caller buffer,
 * escaping every part by the rules of the part it is in. The sink (sw_influx_*
 * config/start) takes the pushed updates of the model (it trusts that records
 * are complete and NUL-terminated, as model.h promises) and delivers the lines
 * to stdout, a file (appended in whole lines), or an InfluxDB write endpoint
 * over HTTP (the v2 API, or the v1 API of InfluxDB 1.x).
 *
 * HTTP delivery runs inside the daemon's loop through curl's multi interface,
 * so a slow or dead InfluxDB never blocks the loop: lines collect in a bounded
 * buffer, go out in batches (by size or age), a batch that was not accepted
 * (connection error, timeout, HTTP 401/403/404/408/429/5xx) is kept and retried
 * with exponential backoff, and when the buffer is full its oldest lines are
 * dropped and counted. An outage is logged when it starts, every ten minutes
 * while it lasts, and once more with a summary when writes succeed again. Without libcurl at build time the http destination is refused with
 * SW_ERR_UNSUPPORTED; stdout and file still work.
 */
#ifndef SUNWIRE_SINK_INFLUX_H
#define SUNWIRE_SINK_INFLUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_influx_precision {
    SW_INFLUX_PRECISION_NS = 0,
    SW_INFLUX_PRECISION_US,
    SW_INFLUX_PRECISION_MS,
    SW_INFLUX_PRECISION_S
} sw_influx_precision;

/* "ns", "us", "ms", "s" (the names InfluxDB's precision parameter takes). */
sw_err sw_influx_precision_parse(const char *text, sw_influx_precision *out);
const char *sw_influx_precision_name(sw_influx_precision p);
/* Nanoseconds since the epoch in the unit `p`, rounded towards minus infinity. */
int64_t sw_influx_timestamp(int64_t unix_ns, sw_influx_precision p);

/* ---- the line writer ---------------------------------------------------- */
/*
 * One line being built in a caller buffer. Call begin, then all tags, then all
 * fields, then end. Tags with an empty value and non-finite numbers are left
 * out (InfluxDB rejects both). Carriage returns and line feeds, which line
 * protocol cannot carry, become spaces. Overflow is sticky and reported by end.
 */
typedef struct sw_influx_line {
    char *buf;
    size_t cap;
    size_t len;
    unsigned fields;
    bool overflow;
} sw_influx_line;

void sw_influx_line_begin(sw_influx_line *l, char *buf, size_t cap, const char *measurement);
void sw_influx_line_tag(sw_influx_line *l, const char *key, const char *value);
void sw_influx_line_field_double(sw_influx_line *l, const char *key, double v);
void sw_influx_line_field_int(sw_influx_line *l, const char *key, int64_t v);
void sw_influx_line_field_bool(sw_influx_line *l, const char *key, bool v);
void sw_influx_line_field_string(sw_influx_line *l, const char *key, const char *v);
/*
 * Append the timestamp (unix_ns converted to `p`) and a '\n'; NUL-terminates.
 * SW_ERR_NO_SPACE when the buffer was too small, SW_ERR_NOT_FOUND when the line
 * has no field (InfluxDB needs at least one). *len_out = length with the '\n'.
 */
sw_err sw_influx_line_end(sw_influx_line *l, int64_t unix_ns, sw_influx_precision p, size_t *len_out);

/* One line per record (measurements sunwire_panel, sunwire_string, sunwire_inverter,
 * sunwire_inverter_value, sunwire_gateway, sunwire_source, sunwire_event; see docs/influxdb.md). */
sw_err sw_influx_panel_line(char *buf, size_t cap, const sw_panel *p, int64_t now_ns, sw_influx_precision prec,
                            size_t *len_out);
sw_err sw_influx_string_line(char *buf, size_t cap, const sw_string_agg *s, int64_t now_ns,
                             sw_influx_precision prec, size_t *len_out);
sw_err sw_influx_inverter_line(char *buf, size_t cap, const sw_inverter *inv, int64_t now_ns,
                               sw_influx_precision prec, size_t *len_out);
sw_err sw_influx_inverter_value_line(char *buf, size_t cap, const sw_inverter_value *v, int64_t now_ns,
                                     sw_influx_precision prec, size_t *len_out);
sw_err sw_influx_gateway_line(char *buf, size_t cap, const sw_gateway *g, int64_t now_ns,
                              sw_influx_precision prec, size_t *len_out);
sw_err sw_influx_source_line(char *buf, size_t cap, const sw_source_status *s, int64_t now_ns,
                             sw_influx_precision prec, size_t *len_out);
sw_err sw_influx_event_line(char *buf, size_t cap, const char *kind, const char *json, int64_t now_ns,
                            sw_influx_precision prec, size_t *len_out);
/* A problem raised, changed or cleared (measurement sunwire_problem), at the change's time. */
sw_err sw_influx_problem_line(char *buf, size_t cap, const sw_problem *p, sw_influx_precision prec,
                              size_t *len_out);

/* ---- the sink ----------------------------------------------------------- */
typedef enum sw_influx_dest {
    SW_INFLUX_DEST_STDOUT = 0,
    SW_INFLUX_DEST_FILE,
    SW_INFLUX_DEST_HTTP
} sw_influx_dest;

/* Which write API an HTTP destination speaks. */
typedef enum sw_influx_api {
    SW_INFLUX_API_V2 = 0,             /* POST /api/v2/write?org=&bucket=&precision=, Authorization: Token */
    SW_INFLUX_API_V1                  /* POST /write?db=&rp=&precision=, HTTP basic auth from user/password */
} sw_influx_api;

/* Keys of the INI section [influx]; see docs/influxdb.md for each one. */
typedef struct sw_influx_config {
    bool enable;
    sw_influx_dest dest;              /* output = stdout | file | http */
    char file[256];                   /* file = path (appended, whole lines only) */
    char url[256];                    /* url = http://host:8086 (the server's base URL) */
    sw_influx_api api;                /* api = v2 (default) | v1 */
    char org[128];                    /* v2 */
    char bucket[128];                 /* v2 */
    char token[256];                  /* v2 */
    char db[128];                     /* v1: database */
    char rp[128];                     /* v1: retention policy ("" = the database's default) */
    char user[128];                   /* v1: user name ("" = no authentication) */
    char password[256];               /* v1 */
    sw_influx_precision precision;    /* precision = ns|us|ms|s (default ns) */
    unsigned batch_lines;             /* batch_lines = send when this many lines wait (default 500) */
    unsigned flush_ms;                /* flush_ms = ... or when the oldest waited this long (default 1000) */
    size_t max_buffer;                /* max_buffer = bytes of lines kept waiting (default 4 MiB); when
                                         full the oldest lines are dropped and counted */
    unsigned timeout_ms;              /* timeout_ms = per request (default 10000) */
    unsigned retry_min_ms;            /* retry_min_ms = first backoff (default 1000) */
    unsigned retry_max_ms;            /* retry_max_ms = backoff cap (default 60000) */
} sw_influx_config;

void sw_influx_config_defaults(sw_influx_config *c);
sw_err sw_influx_config_set(sw_influx_config *c, const char *key, const char *value, char *err, size_t errcap);
sw_err sw_influx_start(sw_loop *loop, sw_model *model, const sw_influx_config *c, sw_sink *out);

/* Counters of a running sink (sink->self from sw_influx_start). */
typedef struct sw_influx_counters {
    uint64_t lines;        /* lines produced */
    uint64_t written;      /* lines delivered (written, or accepted by the server) */
    uint64_t dropped;      /* lines lost: buffer full (oldest first), a write error, or a batch the
                              server called malformed (HTTP 400, 413) */
    uint64_t requests;     /* HTTP requests made */
    uint64_t failures;     /* HTTP requests that failed (their batch is kept and retried) */
    uint64_t waiting;      /* lines held now (in the retry queue or not yet written) */
} sw_influx_counters;
void sw_influx_get_counters(const void *sink_self, sw_influx_counters *out);

#ifdef __cplusplus
}
#endif
#endif
