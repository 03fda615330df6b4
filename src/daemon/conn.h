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

/*
 * Start a non-blocking TCP connect: SW_OK with *fd set and *in_progress
 * telling whether the caller must wait for writability and then call
 * sw_daemon_connect_finish. SW_ERR_RESOLVE / SW_ERR_CONNECT on failure.
 */
sw_err sw_daemon_connect_start(const char *host, uint16_t port, int *fd, bool *in_progress);
/* SW_OK when the connect completed, SW_ERR_CONNECT (errno set) when it failed. */
sw_err sw_daemon_connect_finish(int fd);
/* Open a serial port the way the Tigo CLI does (raw 38400 8N1), non-blocking. */
sw_err sw_daemon_serial_open(const char *device, int *fd);
/* Apply TCP keepalive settings (0 = kernel default). */
void sw_daemon_keepalive(int fd, int idle_s, int interval_s, int count);

#endif
