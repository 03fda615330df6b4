/* net.c: TCP connect/listen with deadlines, keepalive, clocks (see sunwire/net.h). */
#include "sunwire/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

sw_err sw_fd_set_nonblocking(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0)
        return SW_ERR_IO;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl) < 0 ? SW_ERR_IO : SW_OK;
}

static sw_err connect_one(const struct addrinfo *ai, int timeout_ms, int *fd_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return SW_ERR_IO;
    if (timeout_ms > 0)
        sw_fd_set_nonblocking(fd, 1);
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS && timeout_ms > 0) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        do {
            rc = poll(&p, 1, timeout_ms);
        } while (rc < 0 && errno == EINTR);
        if (rc == 0) {
            close(fd);
            errno = ETIMEDOUT;
            return SW_ERR_TIMEOUT;
        }
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
            if (soerr)
                errno = soerr;
            int e = errno;
            close(fd);
            errno = e;
            return SW_ERR_CONNECT;
        }
        rc = 0;
    }
    if (rc < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return SW_ERR_CONNECT;
    }
    if (timeout_ms > 0)
        sw_fd_set_nonblocking(fd, 0);
    *fd_out = fd;
    return SW_OK;
}

sw_err sw_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fd_out)
{
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        errno = EHOSTUNREACH;
        return SW_ERR_RESOLVE;
    }
    sw_err err = SW_ERR_CONNECT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        err = connect_one(ai, timeout_ms, fd_out);
        if (err == SW_OK)
            break;
    }
    freeaddrinfo(res);
    if (err == SW_OK) {
        int one = 1;
        setsockopt(*fd_out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return err;
}

sw_err sw_tcp_listen(const char *host, uint16_t port, int backlog, int *fd_out, uint16_t *port_out)
{
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host ? host : "127.0.0.1", service, &hints, &res) != 0)
        return SW_ERR_RESOLVE;
    sw_err err = SW_ERR_BIND;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) {
            if (port_out) {
                struct sockaddr_storage ss;
                socklen_t len = sizeof ss;
                getsockname(fd, (struct sockaddr *)&ss, &len);
                if (ss.ss_family == AF_INET)
                    *port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
                else
                    *port_out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            }
            *fd_out = fd;
            err = SW_OK;
            break;
        }
        int e = errno;
        close(fd);
        errno = e;
    }
    freeaddrinfo(res);
    return err;
}

sw_err sw_tcp_keepalive(int fd, int idle_s, int interval_s, int count)
{
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) < 0)
        return SW_ERR_IO;
    if (idle_s > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s) < 0)
        return SW_ERR_IO;
    if (interval_s > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s) < 0)
        return SW_ERR_IO;
    if (count > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) < 0)
        return SW_ERR_IO;
    return SW_OK;
}

sw_err sw_fd_wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    for (;;) {
        int rc = poll(&p, 1, timeout_ms);
        if (rc > 0)
            return SW_OK;
        if (rc == 0)
            return SW_ERR_TIMEOUT;
        if (errno != EINTR)
            return SW_ERR_IO;
    }
}

sw_err sw_write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pf = { .fd = fd, .events = POLLOUT };
                poll(&pf, 1, 1000);
                continue;
            }
            return SW_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return SW_OK;
}

int64_t sw_now_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t sw_now_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int32_t sw_local_utc_offset(int64_t unix_ns)
{
    time_t t = (time_t)(unix_ns / 1000000000LL);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return (int32_t)tm.tm_gmtoff;
}
