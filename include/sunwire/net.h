/*
 * sunwire/net.h: TCP plumbing for the I/O edges (clients, simulators, servers).
 *
 * Blocking-with-deadline helpers around BSD sockets. Every function returns an
 * sw_err; on SW_ERR_IO and friends errno is left as the failing call set it.
 * Servers default to 127.0.0.1: callers pass NULL as the host to get loopback.
 */
#ifndef SUNWIRE_NET_H
#define SUNWIRE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Connect to host:port, giving up after timeout_ms (0 = the kernel's default). */
sw_err sw_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fd_out);

/*
 * Listen on host:port (host NULL = 127.0.0.1; port 0 = any free port).
 * The bound port is stored in *port_out when it is not NULL.
 */
sw_err sw_tcp_listen(const char *host, uint16_t port, int backlog, int *fd_out, uint16_t *port_out);

/* Enable TCP keepalive: idle seconds, probe interval seconds, probe count. */
sw_err sw_tcp_keepalive(int fd, int idle_s, int interval_s, int count);

sw_err sw_fd_set_nonblocking(int fd, int on);

/*
 * Wait until fd is readable or timeout_ms passes (-1 = forever).
 * Returns SW_OK when readable, SW_ERR_TIMEOUT, or SW_ERR_IO.
 */
sw_err sw_fd_wait_readable(int fd, int timeout_ms);

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
