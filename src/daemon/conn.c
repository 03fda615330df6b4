/*
 * conn.c: non-blocking TCP connects and serial opens for the daemon's loop.
 *
 * The shared net helpers block until a deadline, which would stall every
 * other source in a single-threaded loop, so connects here return at once
 * and complete when the loop sees the socket writable. Name resolution is
 * still synchronous (getaddrinfo); configured hosts are nearly always
 * literal addresses on the local network.
 */
#include "daemon/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sunwire/io_source.h"
#include "sunwire/net.h"

sw_err sw_daemon_connect_start(const char *host, uint16_t port, int *fd_out, bool *in_progress)
{
    struct addrinfo hints, *res = NULL;
    char service[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
        return SW_ERR_RESOLVE;
    sw_err result = SW_ERR_CONNECT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            *fd_out = fd;
            *in_progress = false;
            result = SW_OK;
            break;
        }
        if (errno == EINPROGRESS) {
            *fd_out = fd;
            *in_progress = true;
            result = SW_OK;
            break;
        }
        int saved = errno;
        close(fd);
        errno = saved;
    }
    freeaddrinfo(res);
    return result;
}

sw_err sw_daemon_connect_finish(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return SW_ERR_CONNECT;
    if (err) {
        errno = err;
        return SW_ERR_CONNECT;
    }
    return SW_OK;
}

sw_err sw_daemon_serial_open(const char *device, int *fd_out)
{
    int fd = -1;
    sw_err e = sw_serial_open(device, &fd);
    if (e != SW_OK)
        return e;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(fd);
        return SW_ERR_IO;
    }
    *fd_out = fd;
    return SW_OK;
}

void sw_daemon_keepalive(int fd, int idle_s, int interval_s, int count)
{
    if (idle_s > 0 || interval_s > 0 || count > 0)
        (void)sw_tcp_keepalive(fd, idle_s, interval_s, count);
}
