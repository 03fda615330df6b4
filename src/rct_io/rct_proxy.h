/*
 * rct_io/rct_proxy.h: one connection to an RCT inverter, shared by many clients.
 *
 * RCT devices serve one request at a time: a request that arrives while they
 * are answering another cuts that answer short, and their bridge copies
 * answers to every connection. The proxy accepts any number of clients that
 * speak the RCT protocol, keeps ONE connection to the device, and puts every
 * request through one queue and one sans-I/O exchange (sunwire/rct_exchange.h),
 * one at a time. A client gets only the validated answer to its own request
 * (command, object id, plant address and a payload that decodes completely);
 * foreign, stale and cut answers are never forwarded, and a request that gets
 * no usable answer gets nothing (the client's connection stays open).
 *
 * Reads are answered from a short cache (rct/proxy.h) and identical reads
 * waiting at the same time share one upstream request. Writes pass only for
 * clients whose address is in the allow list; a refused write gets no answer
 * and a warning in the log. Logger queries (a time to look back from, written
 * to a time series or the event table) change nothing and always pass.
 *
 * Everything runs on the caller's event loop (sunwire/loop.h); nothing waits.
 * The daemon hands its own poller in as a client (sw_rct_proxy_attach), so
 * its polling and the clients share the one connection and the one queue.
 */
#ifndef SUNWIRE_RCT_IO_RCT_PROXY_H
#define SUNWIRE_RCT_IO_RCT_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "sunwire/rct_exchange.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_RCT_PROXY_MAX_ALLOW 16
#define SW_RCT_PROXY_MAX_CACHE_OVERRIDES 64

typedef struct sw_rct_proxy_config {
    const char *listen_host;   /* NULL = 127.0.0.1 */
    uint16_t listen_port;      /* 0 = any free port */
    bool no_listener;          /* only attached clients (tests) */
    const char *upstream_host; /* the inverter */
    uint16_t upstream_port;    /* default 8899 when 0 */
    sw_rct_exchange_config exchange; /* per request: timeout, retries, backoff */
    int connect_timeout_ms;    /* default 5000 */
    int reconnect_delay_ms;    /* first pause after a failed connect; default 1000 */
    int reconnect_max_ms;      /* default 60000 */
    int queue_timeout_ms;      /* a request still queued after this is dropped; default 15000 */
    int64_t cache_ms;          /* how long an answer is served again; default 3000, 0 = no cache */
    size_t n_cache_overrides;
    struct {
        uint32_t id;
        int64_t ms;
    } cache_overrides[SW_RCT_PROXY_MAX_CACHE_OVERRIDES];
    size_t n_allow_write;      /* client addresses whose writes pass ("192.0.2.7", "::1") */
    char allow_write[SW_RCT_PROXY_MAX_ALLOW][48];
    size_t max_clients;        /* default 64 */
    const char *name;          /* for log lines; default "proxy" */
    int summary_ms;            /* log the counters (INFO) this often; 0 = never (default) */
} sw_rct_proxy_config;

typedef struct sw_rct_proxy_counters {
    uint64_t clients;              /* client connections accepted or attached */
    uint64_t client_requests;      /* good frames received from clients */
    uint64_t answered;             /* answers sent to clients (cache hits included) */
    uint64_t cache_hits;
    uint64_t coalesced;            /* requests that joined an identical one already waiting */
    uint64_t upstream_connections; /* connections made to the device */
    uint64_t upstream_requests;    /* frames sent to the device (retries included) */
    uint64_t upstream_failed;      /* requests that got no usable answer in the end */
    uint64_t writes;               /* writes passed on */
    uint64_t refused_writes;
    uint64_t ignored;              /* client frames not forwarded (unknown id, responses, ...) */
    uint64_t dropped;              /* requests dropped: queue full, waited too long, client over its limit */
    uint64_t foreign, stale, cut_short; /* device frames that were not the answer */
} sw_rct_proxy_counters;

typedef struct sw_rct_proxy sw_rct_proxy;

/* Defaults as documented above; the exchange gets sw_rct_exchange_config_default. */
void sw_rct_proxy_config_default(sw_rct_proxy_config *cfg);
/*
 * Add a numeric IPv4 or IPv6 address to the write allow list (stored in the
 * form the proxy compares with: "::ffff:192.0.2.7" becomes "192.0.2.7").
 * SW_ERR_INVALID_ARGUMENT when it is no address, SW_ERR_NO_SPACE when full.
 */
sw_err sw_rct_proxy_allow_write(sw_rct_proxy_config *cfg, const char *addr);
/* Keep answers for object id ms long instead of cache_ms (0 = never). SW_ERR_NO_SPACE when full. */
sw_err sw_rct_proxy_cache_override(sw_rct_proxy_config *cfg, uint32_t id, int64_t ms);
/*
 * Split a listen address: "ADDR:PORT", "[IPv6]:PORT", "ADDR" (port
 * def_port) or ":PORT" (127.0.0.1). The address must be numeric.
 * SW_ERR_INVALID_ARGUMENT otherwise.
 */
sw_err sw_rct_proxy_parse_listen(const char *text, uint16_t def_port, char *host, size_t cap, uint16_t *port);

/*
 * Listen (unless no_listener) and start serving on loop, which the caller
 * runs. The upstream connection is made when the first request needs it.
 * cfg is copied (its strings too). SW_ERR_BIND / SW_ERR_RESOLVE when it
 * cannot listen, SW_ERR_INVALID_ARGUMENT without an upstream host.
 */
sw_err sw_rct_proxy_start(sw_loop *loop, const sw_rct_proxy_config *cfg, sw_rct_proxy **out);
/* The port clients connect to (the bound one when listen_port was 0). */
uint16_t sw_rct_proxy_port(const sw_rct_proxy *p);
/*
 * Serve an already connected socket as a client named `name` (the daemon's
 * own poller on one end of a socket pair). The proxy owns fd from now on.
 * allow_write lets its writes pass. SW_ERR_NO_SPACE when full.
 */
sw_err sw_rct_proxy_attach(sw_rct_proxy *p, int fd, const char *name, bool allow_write);
void sw_rct_proxy_get_counters(const sw_rct_proxy *p, sw_rct_proxy_counters *out);
/* Whether the one upstream connection is up. */
bool sw_rct_proxy_upstream_connected(const sw_rct_proxy *p);
/* "clients 6, client requests 120, answered 118, cache hits 80, ..." */
void sw_rct_proxy_counters_text(const sw_rct_proxy_counters *c, char *out, size_t cap);
/* Close every connection and the listener, and free the proxy (NULL is fine). */
void sw_rct_proxy_stop(sw_rct_proxy *p);

#ifdef __cplusplus
}
#endif
#endif
