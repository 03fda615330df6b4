/*
 * io/notify.h: the service manager's readiness protocol (sd_notify), spoken
 * directly.
 *
 * systemd starts a Type=notify service with NOTIFY_SOCKET naming a unix
 * datagram socket (a path, or "@name" in the abstract namespace). The service
 * sends it short "KEY=VALUE\n..." datagrams: READY=1 once it serves,
 * RELOADING=1 / STOPPING=1 around a reload or a stop, STATUS=text for
 * `systemctl status`, WATCHDOG=1 at least every WATCHDOG_USEC. That is all of
 * the protocol this program needs, so it does not link libsystemd.
 *
 * Without NOTIFY_SOCKET (not started by systemd) every send is a no-op that
 * succeeds. Nothing here is global: the caller owns the struct.
 */
#ifndef SUNWIRE_IO_NOTIFY_H
#define SUNWIRE_IO_NOTIFY_H

#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sw_notify {
    int fd;                 /* -1: no service manager to tell */
    unsigned addr_len;      /* socklen_t of addr */
    char addr[112];         /* struct sockaddr_un (108-byte path + family) */
} sw_notify;

/*
 * Read the environment the service manager set: NOTIFY_SOCKET for the socket,
 * WATCHDOG_USEC (and WATCHDOG_PID, which must be this process when set) for
 * the watchdog. Returns SW_OK with n->fd = -1 when there is nothing to tell,
 * SW_ERR_INVALID_ARGUMENT for a socket name that is no unix socket address,
 * SW_ERR_OPEN when the socket cannot be created.
 */
sw_err sw_notify_open(sw_notify *n);
/* Send one datagram of "KEY=VALUE" lines (no-op without a socket). SW_ERR_IO on failure. */
sw_err sw_notify_send(const sw_notify *n, const char *state);
/*
 * The watchdog period asked for, in ms (0 = none): feed it with WATCHDOG=1
 * at half this period, as sd_watchdog_enabled(3) recommends.
 */
int64_t sw_notify_watchdog_ms(void);
void sw_notify_close(sw_notify *n);

#ifdef __cplusplus
}
#endif
#endif
