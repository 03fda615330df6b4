/*
 * conn.c: non-blocking name lookups, TCP connects and serial opens for the
 * daemon's loop.
 *
 * The shared net helpers block until a deadline, which would stall every
 * other source in a single-threaded loop, so connects here return at once
 * and complete when the loop sees the socket writable. A host name is looked
 * up on a short-lived thread of its own (getaddrinfo has no non-blocking
 * form, and a DNS server that does not answer holds it for many seconds,
 * long enough for a serial port's buffer to overflow); the loop learns of
 * the answer through a pipe. Literal addresses need no thread.
 */
#include "daemon/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sunwire/io_source.h"
#include "sunwire/net.h"

int (*sw_daemon_getaddrinfo)(const char *, const char *, const struct addrinfo *, struct addrinfo **) = getaddrinfo;

/* Start a non-blocking connect to the first address that takes one. */
static sw_err connect_list(const struct addrinfo *res, int *fd_out, bool *in_progress)
{
    sw_err result = SW_ERR_CONNECT;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
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
    return result;
}

static void lookup_hints(struct addrinfo *hints, int flags)
{
    memset(hints, 0, sizeof *hints);
    hints->ai_family = AF_UNSPEC;
    hints->ai_socktype = SOCK_STREAM;
    hints->ai_flags = flags;
}

/* ---- lookups on a thread ---------------------------------------------------------- */

struct sw_daemon_resolver {
    atomic_int refs; /* the loop's side and, while it runs, the thread */
    atomic_bool done;
    int rd, wr;      /* the thread writes one byte when the answer is in */
    int status;      /* getaddrinfo's */
    struct addrinfo *res;
    char service[8];
    char host[];
};

static void resolver_release(sw_daemon_resolver *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    if (r->res)
        freeaddrinfo(r->res);
    if (r->rd >= 0)
        close(r->rd);
    if (r->wr >= 0)
        close(r->wr);
    free(r);
}

static void *resolver_main(void *arg)
{
    sw_daemon_resolver *r = arg;
    struct addrinfo hints;
    lookup_hints(&hints, 0);
    r->status = sw_daemon_getaddrinfo(r->host, r->service, &hints, &r->res);
    atomic_store(&r->done, true);
    /* The read end stays open until the last reference goes, so this write
     * cannot raise SIGPIPE even when the loop has given up waiting. */
    ssize_t w;
    do
        w = write(r->wr, "", 1);
    while (w < 0 && errno == EINTR);
    resolver_release(r);
    return NULL;
}

sw_err sw_daemon_resolve_start(const char *host, uint16_t port, sw_daemon_resolver **out, int *fd)
{
    *out = NULL;
    *fd = -1;
    size_t hlen = strlen(host);
    sw_daemon_resolver *r = calloc(1, sizeof *r + hlen + 1);
    if (!r)
        return SW_ERR_NO_MEMORY;
    memcpy(r->host, host, hlen + 1);
    snprintf(r->service, sizeof r->service, "%u", (unsigned)port);
    r->rd = r->wr = -1;
    atomic_init(&r->refs, 1);
    atomic_init(&r->done, false);

    /* A literal address needs no lookup and no thread. */
    struct addrinfo hints;
    lookup_hints(&hints, AI_NUMERICHOST);
    if (getaddrinfo(host, r->service, &hints, &r->res) == 0 && r->res) {
        atomic_store(&r->done, true);
        *out = r;
        return SW_OK;
    }
    r->res = NULL;

    int p[2];
    if (pipe(p) < 0) {
        free(r);
        return SW_ERR_IO;
    }
    for (int i = 0; i < 2; i++) {
        (void)fcntl(p[i], F_SETFD, FD_CLOEXEC);
        (void)fcntl(p[i], F_SETFL, O_NONBLOCK);
    }
    r->rd = p[0];
    r->wr = p[1];
    atomic_init(&r->refs, 2);
    pthread_attr_t attr;
    pthread_t tid;
    sigset_t all, old;
    /* Signals stay with the loop's thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_attr_init(&attr);
    if (err == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&tid, &attr, resolver_main, r);
        pthread_attr_destroy(&attr);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        close(p[0]);
        close(p[1]);
        free(r);
        errno = err;
        return SW_ERR_IO;
    }
    *out = r;
    *fd = r->rd;
    return SW_OK;
}

sw_err sw_daemon_resolve_connect(sw_daemon_resolver *r, int *fd_out, bool *in_progress)
{
    sw_err e;
    if (!atomic_load(&r->done))
        e = SW_ERR_RESOLVE; /* called before the fd was readable */
    else if (r->status != 0 || !r->res)
        e = SW_ERR_RESOLVE;
    else
        e = connect_list(r->res, fd_out, in_progress);
    int saved = errno;
    resolver_release(r);
    errno = saved;
    return e;
}

void sw_daemon_resolve_cancel(sw_daemon_resolver *r, sw_loop *loop)
{
    if (!r)
        return;
    /* The fd is still open (r owns it), so its number cannot belong to
     * another watch. */
    if (loop && r->rd >= 0)
        sw_loop_del_fd(loop, r->rd);
    resolver_release(r);
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
