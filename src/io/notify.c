/*
 * notify.c: READY=1, STOPPING=1, WATCHDOG=1 and STATUS= datagrams to the
 * service manager (see io/notify.h).
 */
#include "io/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

_Static_assert(sizeof(struct sockaddr_un) <= sizeof(((sw_notify *)0)->addr), "sw_notify.addr holds a sockaddr_un");

sw_err sw_notify_open(sw_notify *n)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !name[0])
        return SW_OK;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || len > sizeof sa.sun_path - (name[0] == '/'))
        return SW_ERR_INVALID_ARGUMENT;
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = 0; /* abstract namespace: the name is not NUL-terminated */
    else
        len++;              /* a path's length counts its NUL */
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0)
        return SW_ERR_OPEN;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    n->fd = fd;
    n->addr_len = (unsigned)(offsetof(struct sockaddr_un, sun_path) + len);
    memcpy(n->addr, &sa, sizeof sa);
    return SW_OK;
}

sw_err sw_notify_send(const sw_notify *n, const char *state)
{
    if (!n || n->fd < 0)
        return SW_OK;
    ssize_t r;
    do {
        r = sendto(n->fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)(const void *)n->addr,
                   (socklen_t)n->addr_len);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? SW_ERR_IO : SW_OK;
}

int64_t sw_notify_watchdog_ms(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    if (!usec || !usec[0])
        return 0;
    const char *pid = getenv("WATCHDOG_PID");
    if (pid && pid[0]) {
        char *end;
        long long p = strtoll(pid, &end, 10);
        if (*end || p != (long long)getpid())
            return 0; /* meant for another process (a parent that exec'd us, say) */
    }
    char *end;
    unsigned long long us = strtoull(usec, &end, 10);
    if (*end || us == 0)
        return 0;
    int64_t ms = (int64_t)(us / 1000);
    return ms > 0 ? ms : 1;
}

void sw_notify_close(sw_notify *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}
