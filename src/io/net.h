/*
 * io/net.h: TCP plumbing for the I/O edges (clients, simulators, servers).
 *
 * Blocking-with-deadline helpers around BSD sockets. Every function returns an
 * sw_err; on SW_ERR_IO and friends errno is left as the failing call set it.
 * Servers default to 127.0.0.1: callers pass NULL as the host to get loopback.
 */
#ifndef SUNWIRE_NET_H
#define SUNWIRE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- non-blocking connects, for an event loop ------------------------------------- */
struct addrinfo;
/* A getaddrinfo-compatible lookup function (tests put a slow or failing one in). */
typedef int (*sw_tcp_lookup_cb)(const char *host, const char *service, const struct addrinfo *hints,
                                struct addrinfo **res);
typedef struct sw_tcp_lookup sw_tcp_lookup;
struct sw_loop;

/*
 * Look a host up without blocking, with fn (NULL = getaddrinfo). SW_OK with
 * *r set; then either *fd is -1 (a literal address: call
 * sw_tcp_lookup_connect at once) or *fd becomes readable when the lookup,
 * running on a thread of its own, has an answer (the caller polls it or
 * watches it in its loop, stops watching before sw_tcp_lookup_cancel, and
 * never closes it). SW_ERR_NO_MEMORY / SW_ERR_IO (errno set) when the lookup
 * could not be started.
 */
sw_err sw_tcp_lookup_start(const char *host, uint16_t port, sw_tcp_lookup_cb fn, sw_tcp_lookup **r, int *fd);
/*
 * Start a non-blocking connect to the next address of the answer. SW_OK with
 * *fd set (non-blocking, TCP_NODELAY) and *in_progress telling whether to
 * wait for writability and then call sw_tcp_connect_finish; when that
 * fails, close the fd and call this again for the next address.
 * SW_ERR_RESOLVE when the lookup failed (or has no answer yet),
 * SW_ERR_CONNECT (errno set) when no address is left.
 */
sw_err sw_tcp_lookup_connect(sw_tcp_lookup *r, int *fd, bool *in_progress);
/* Whether an answered lookup still has an address to try. */
bool sw_tcp_lookup_has_next(const sw_tcp_lookup *r);
/* Release a lookup (NULL is fine), taking its fd out of loop (when given);
 * returns at once: a lookup still running finishes on its thread and is then
 * freed there. */
void sw_tcp_lookup_cancel(sw_tcp_lookup *r, struct sw_loop *loop);
/* SW_OK when a non-blocking connect completed, SW_ERR_CONNECT (errno set) when it failed. */
sw_err sw_tcp_connect_finish(int fd);

/*
 * The one connect path, on an event loop: look host up (fn as above), try
 * each address in turn, and give up after timeout_ms for the lookup and all
 * attempts together (0 = no limit but the kernel's). The outcome is handed to
 * cb exactly once, always from the loop (never inside this call): SW_OK with
 * the connected fd (non-blocking, TCP_NODELAY, now the caller's), or
 * SW_ERR_RESOLVE (also when the lookup outlasts the timeout), SW_ERR_CONNECT
 * or SW_ERR_TIMEOUT with errno set and fd -1. The connector is valid during
 * the callback and freed when it returns; before that it can be cancelled
 * (which closes whatever it holds and calls nothing). Returns an error, and
 * calls nothing, when the connect could not be started.
 */
typedef struct sw_tcp_connector sw_tcp_connector;
typedef void (*sw_tcp_connected_cb)(sw_tcp_connector *c, sw_err result, int fd, void *user);
sw_err sw_tcp_connector_start(struct sw_loop *loop, const char *host, uint16_t port, int timeout_ms,
                              sw_tcp_lookup_cb fn, sw_tcp_connected_cb cb, void *user, sw_tcp_connector **c);
void sw_tcp_connector_cancel(sw_tcp_connector *c);

/*
 * The same connect for a caller without a loop (the RCT client, tests): runs
 * the connector on a loop of its own until it is done. The socket is
 * returned blocking.
 */
sw_err sw_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fd_out);

/*
 * Listen on host:port (host NULL = 127.0.0.1; port 0 = any free port).
 * The bound port is stored in *port_out when it is not NULL.
 */
sw_err sw_tcp_listen(const char *host, uint16_t port, int backlog, int *fd_out, uint16_t *port_out);

/* Enable TCP keepalive: idle seconds, probe interval seconds, probe count
 * (0 = the kernel's default for that one; all three 0 = leave keepalive alone). */
sw_err sw_tcp_keepalive(int fd, int idle_s, int interval_s, int count);

sw_err sw_fd_set_nonblocking(int fd, int on);

/*
 * Send what a non-blocking socket takes now, never waiting: *sent is how much
 * of buf went out (all, part, or nothing when the socket is full) and *full
 * says whether it stopped because the socket was full. SW_ERR_IO (errno set)
 * when the connection broke. No SIGPIPE.
 */
sw_err sw_send_nowait(int fd, const void *buf, size_t n, size_t *sent, bool *full);

/* write() the whole buffer, retrying on EINTR and short writes. */
sw_err sw_write_all(int fd, const void *buf, size_t n);

/* Monotonic and wall clocks in nanoseconds. */
int64_t sw_now_monotonic_ns(void);
int64_t sw_now_realtime_ns(void);
/* The local zone's offset from UTC, in seconds, at the given instant. */
int32_t sw_local_utc_offset(int64_t unix_ns);

#ifdef __cplusplus
}
#endif
#endif
