/*
 * web/http.h: the daemon's HTTP server (libmicrohttpd), shared by
 * Prometheus /metrics, the dashboard and its JSON API.
 *
 * The server runs inside the daemon's event loop (no extra threads: MHD in
 * external-select/epoll mode, driven by sw_loop), binds 127.0.0.1 unless told
 * otherwise, and dispatches requests to routes registered by each output.
 * Handlers run on the loop thread and may read the model directly.
 * When libmicrohttpd is missing, sw_http_server_start returns SW_ERR_UNSUPPORTED.
 */
#ifndef SUNWIRE_HTTP_H
#define SUNWIRE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "web/auth.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sw_http_server sw_http_server;

typedef struct sw_http_request {
    const char *method;   /* "GET", "POST", ... */
    const char *path;     /* URL path without the query, e.g. "/api/history" */
    void *conn_;          /* private */
} sw_http_request;

/* The value of query parameter `name`, or NULL when absent. */
const char *sw_http_query(const sw_http_request *req, const char *name);

typedef struct sw_http_response {
    int status;                /* default 200 */
    const char *content_type;  /* default "text/plain; charset=utf-8"; static string */
    char *body;                /* malloc'd by the handler; the server frees it */
    size_t body_len;
    const char *cache_control; /* optional static string */
} sw_http_response;

/* Fill resp; return 0. The server answers 500 when a handler returns non-zero. */
typedef int (*sw_http_handler_cb)(void *user, const sw_http_request *req, sw_http_response *resp);

/*
 * Start listening on bind_addr:port (bind_addr NULL = 127.0.0.1; port 0 = any;
 * the bound port is stored in *port_out). auth (may be NULL: none) is copied:
 * with credentials every request must carry them (401 otherwise); with TLS
 * files the server speaks HTTPS. Bound beyond loopback (the address the
 * socket got, not its name) the server refuses to start without credentials
 * unless auth->insecure_no_auth, and then warns; the refusal and TLS problems
 * are logged and give SW_ERR_INVALID_ARGUMENT (SW_ERR_OPEN for an unreadable
 * certificate or key).
 */
sw_err sw_http_server_start(sw_loop *loop, const char *bind_addr, uint16_t port, const sw_http_auth *auth,
                            sw_http_server **out, uint16_t *port_out);
/* Whether the HTTP server can speak HTTPS in this build (libmicrohttpd with GnuTLS). */
bool sw_http_tls_supported(void);
void sw_http_server_stop(sw_http_server *srv);

/*
 * What one client may hold and for how long (docs/reliability.md). A waiting
 * connection is one whose request head is not complete yet: just accepted, or
 * idle between two requests.
 */
typedef struct sw_http_limits {
    unsigned max_connections;  /* all connections (default 256) */
    unsigned max_per_address;  /* connections of one client address (default 32) */
    unsigned stream_reserve;   /* places event streams never take (default 32) */
    unsigned head_timeout_ms;  /* a waiting connection is closed after this, in total (default 10000) */
} sw_http_limits;

void sw_http_limits_defaults(sw_http_limits *l);
/* Apply new limits to a running server (SW_ERR_INVALID_ARGUMENT for zeros or a reserve >= max). */
sw_err sw_http_server_set_limits(sw_http_server *srv, const sw_http_limits *l);

typedef struct sw_http_counters {
    unsigned connections;      /* open and counted */
    unsigned waiting;          /* of which waiting for a request head */
    unsigned streams;          /* of which event streams */
    uint64_t accepted;         /* since start */
    uint64_t timed_out;        /* closed because the head took longer than head_timeout_ms */
    uint64_t replaced;         /* waiting connections closed to make room for a newcomer */
    uint64_t refused;          /* newcomers answered 503 and closed */
    uint64_t garbled;          /* request lines that were not HTTP, answered 400 and closed */
} sw_http_counters;

void sw_http_server_get_counters(const sw_http_server *srv, sw_http_counters *out);

/* Route `path` (exact, or every path below it when prefix is true) for GET requests. */
sw_err sw_http_route(sw_http_server *srv, const char *path, bool prefix, sw_http_handler_cb handler, void *user);

/*
 * Server-Sent Events: clients that GET `path` get a text/event-stream that
 * stays open; sw_http_sse_send writes one event to every client of that path.
 */
sw_err sw_http_sse_route(sw_http_server *srv, const char *path);
void sw_http_sse_send(sw_http_server *srv, const char *path, const char *event, const char *data);

/* Helpers for handlers: set a copied body, or a formatted JSON error {"error": msg}. */
sw_err sw_http_set_body(sw_http_response *resp, const char *content_type, const char *body, size_t len);
sw_err sw_http_error(sw_http_response *resp, int status, const char *message);

#ifdef __cplusplus
}
#endif
#endif
