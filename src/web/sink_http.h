/*
 * web/sink_http.h: the [http] output: the HTTP server with the local
 * dashboard, its JSON API and its live event stream.
 *
 * The output owns one sw_http_server (web/http.h). Other outputs that
 * speak HTTP (Prometheus /metrics) register their routes on it through
 * sw_http_sink_server. As a sink it hears every model change and forwards it
 * to the dashboard's browsers over Server-Sent Events; API requests read the
 * model directly. It trusts the model for consistency and checks only what
 * arrives from the network (paths and query parameters).
 *
 * Day charts for earlier days come from the SQLite history through the
 * sw_http_history seam; without it, only the current day (kept in memory at
 * 5-minute resolution) is available.
 */
#ifndef SUNWIRE_SINK_HTTP_H
#define SUNWIRE_SINK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "web/http.h"
#include "sunwire/loop.h"
#include "model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_HTTP_DEFAULT_PORT 8080

typedef struct sw_http_config {
    char bind[160];      /* address to listen on; default "127.0.0.1" */
    uint16_t port;       /* default SW_HTTP_DEFAULT_PORT; 0 = any free port */
    bool dashboard;      /* serve the dashboard, its API and events; default true */
    unsigned source_dead_s; /* a source silent this long is reported dead; default 60 */
    char history[256];   /* SQLite history file for earlier days' charts; "" = none */
    sw_http_auth auth;   /* token_sha256, basic_auth, auth_expires, insecure_no_auth, tls_cert, tls_key */
} sw_http_config;

void sw_http_config_defaults(sw_http_config *c);
/* One key of the [http] section: bind (or address), port, dashboard, source_dead, history, and the
 * keys of web/auth.h (token_sha256, basic_auth, auth_expires, insecure_no_auth, tls_cert, tls_key). */
sw_err sw_http_config_set(sw_http_config *c, const char *key, const char *value, char *err, size_t errcap);
/* Start the server; `out` gets the sink (register it with the model; ops->close stops it). */
sw_err sw_http_start(sw_loop *loop, sw_model *model, const sw_http_config *c, sw_sink *out);

/* The server behind a started [http] sink (for /metrics and other routes), and its bound port. */
sw_http_server *sw_http_sink_server(const sw_sink *s);
uint16_t sw_http_sink_port(const sw_sink *s);

/*
 * History seam: the daemon attaches the history output's query functions
 * here. Each gets the history it was attached with (its own state is
 * history->user) and hands every row to emit: the history, the row, then
 * emit_user. Rows come oldest first. A query returns SW_OK, SW_ERR_NOT_FOUND
 * when the name is unknown, another code when the store fails, or the
 * non-zero value an emit returned to stop it (the query stops at once).
 *   kind: "panel" (name = the panel's barcode, or its name when the barcode is unknown),
 *         "string" (name = string name, "total" = all panels).
 */
typedef struct sw_http_history sw_http_history;
typedef int (*sw_http_point_cb)(const sw_http_history *history, int64_t t_ns, double watts, void *user);
typedef int (*sw_http_day_cb)(const sw_http_history *history, int64_t day, double wh, void *user);
struct sw_http_history {
    void *user;
    /* Power samples in [from_ns, to_ns). */
    sw_err (*power_series)(const sw_http_history *history, const char *kind, const char *name, int64_t from_ns,
                           int64_t to_ns, sw_http_point_cb emit, void *emit_user);
    /* Energy per local day (days since 1970) for first_day..last_day; days without data may be skipped. */
    sw_err (*daily_energy)(const sw_http_history *history, const char *kind, const char *name, int64_t first_day,
                           int64_t last_day, sw_http_day_cb emit, void *emit_user);
    /* A panel's daily performance index per local day for first_day..last_day (the value
     * handed to emit); days without a known index are skipped. kind is "panel". */
    sw_err (*daily_performance)(const sw_http_history *history, const char *kind, const char *name,
                                int64_t first_day, int64_t last_day, sw_http_day_cb emit, void *emit_user);
};

/* Attach (or with NULL detach) a history; the struct is copied. */
void sw_http_sink_set_history(const sw_sink *s, const sw_http_history *h);
/*
 * Attach the SQLite history file the [history] output writes (its `path`):
 * the dashboard reads it through its own read-only connection, opened on
 * first use. The daemon calls this when both outputs are enabled; the
 * [http] key `history` does the same from the configuration.
 */
sw_err sw_http_sink_attach_history_db(const sw_sink *s, const char *path);

#ifdef __cplusplus
}
#endif
#endif
