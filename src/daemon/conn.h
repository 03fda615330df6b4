/*
 * conn.h: non-blocking connections for the daemon's source drivers.
 *
 * Kept apart from daemon_int.h because it wraps the Tigo CLI's serial opener
 * from sunwire/io_source.h (kept out of the daemon's common header).
 */
#ifndef SUNWIRE_DAEMON_CONN_H
#define SUNWIRE_DAEMON_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"

/*
 * Look a host up without blocking the loop. SW_OK with *r set; then either
 * *fd is -1 (a literal address: call sw_daemon_resolve_connect at once) or
 * *fd becomes readable when the lookup, running on a thread of its own, has
 * an answer (the caller watches it, removes it from the loop before the next
 * call, and never closes it). SW_ERR_NO_MEMORY / SW_ERR_IO (errno set) when
 * the lookup could not be started.
 */
typedef struct sw_daemon_resolver sw_daemon_resolver;
sw_err sw_daemon_resolve_start(const char *host, uint16_t port, sw_daemon_resolver **r, int *fd);
/*
 * Start a non-blocking TCP connect to the looked-up addresses, and release
 * r and its fd. SW_OK with *fd set and *in_progress telling whether the
 * caller must wait for writability and then call sw_daemon_connect_finish;
 * SW_ERR_RESOLVE / SW_ERR_CONNECT (errno set) on failure.
 */
sw_err sw_daemon_resolve_connect(sw_daemon_resolver *r, int *fd, bool *in_progress);
/* Give up on a lookup (NULL is fine), taking its fd out of loop (when
 * given): returns at once; a lookup still running finishes on its thread and
 * is then freed there. */
void sw_daemon_resolve_cancel(sw_daemon_resolver *r, sw_loop *loop);
/* The lookup function, getaddrinfo unless a test puts a slower one in. */
struct addrinfo;
extern int (*sw_daemon_getaddrinfo)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

/* SW_OK when the connect completed, SW_ERR_CONNECT (errno set) when it failed. */
sw_err sw_daemon_connect_finish(int fd);
/* Open a serial port the way the Tigo CLI does (raw 38400 8N1), non-blocking. */
sw_err sw_daemon_serial_open(const char *device, int *fd);
/* Apply TCP keepalive settings (0 = kernel default). */
void sw_daemon_keepalive(int fd, int idle_s, int interval_s, int count);

#endif
