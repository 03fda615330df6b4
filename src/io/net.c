/* net.c: TCP connect/listen with deadlines, keepalive, clocks (see io/net.h). */
#include "io/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sunwire/loop.h"

sw_err sw_fd_set_nonblocking(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0)
        return SW_ERR_IO;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl) < 0 ? SW_ERR_IO : SW_OK;
}

/*
 * One connect path for the program: the daemon's loop and the blocking
 * callers (CLI sources, the RCT client) walk the same address list with the
 * same non-blocking connects. A host name is looked up on a short-lived
 * thread of its own (getaddrinfo has no non-blocking form, and a DNS server
 * that does not answer holds it for many seconds, long enough for a serial
 * port's buffer to overflow in the daemon); the caller learns of the answer
 * through a pipe it can poll or hand to its loop. Literal addresses need no
 * thread. When one address refuses, the next one is tried.
 */

static void lookup_hints(struct addrinfo *hints, int flags)
{
    memset(hints, 0, sizeof *hints);
    hints->ai_family = AF_UNSPEC;
    hints->ai_socktype = SOCK_STREAM;
    hints->ai_flags = flags;
}

struct sw_tcp_lookup {
    atomic_int refs; /* the caller's side and, while it runs, the thread */
    atomic_bool done;
    int rd, wr;      /* the thread writes one byte when the answer is in */
    int status;      /* the lookup function's */
    sw_tcp_lookup_cb fn;
    struct addrinfo *res;
    const struct addrinfo *next; /* the next address to try */
    char service[8];
    char host[];
};

static void lookup_release(sw_tcp_lookup *r)
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

static void *lookup_main(void *arg)
{
    sw_tcp_lookup *r = arg;
    struct addrinfo hints;
    lookup_hints(&hints, 0);
    r->status = r->fn(r->host, r->service, &hints, &r->res);
    r->next = r->status == 0 ? r->res : NULL;
    atomic_store(&r->done, true);
    /* The read end stays open until the last reference goes, so this write
     * cannot raise SIGPIPE even when the caller has given up waiting. */
    ssize_t w;
    do
        w = write(r->wr, "", 1);
    while (w < 0 && errno == EINTR);
    lookup_release(r);
    return NULL;
}

sw_err sw_tcp_lookup_start(const char *host, uint16_t port, sw_tcp_lookup_cb fn, sw_tcp_lookup **out, int *fd)
{
    *out = NULL;
    *fd = -1;
    size_t hlen = strlen(host);
    sw_tcp_lookup *r = calloc(1, sizeof *r + hlen + 1);
    if (!r)
        return SW_ERR_NO_MEMORY;
    memcpy(r->host, host, hlen + 1);
    snprintf(r->service, sizeof r->service, "%u", (unsigned)port);
    r->fn = fn ? fn : getaddrinfo;
    r->rd = r->wr = -1;
    atomic_init(&r->refs, 1);
    atomic_init(&r->done, false);

    /* A literal address needs no lookup and no thread. */
    struct addrinfo hints;
    lookup_hints(&hints, AI_NUMERICHOST);
    if (getaddrinfo(host, r->service, &hints, &r->res) == 0 && r->res) {
        r->next = r->res;
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
    /* Signals stay with the caller's thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_attr_init(&attr);
    if (err == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&tid, &attr, lookup_main, r);
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

sw_err sw_tcp_lookup_connect(sw_tcp_lookup *r, int *fd_out, bool *in_progress)
{
    if (!atomic_load(&r->done) || r->status != 0 || !r->res) {
        errno = EHOSTUNREACH;
        return SW_ERR_RESOLVE; /* not answered yet, or no address */
    }
    int saved = ECONNREFUSED;
    while (r->next) {
        const struct addrinfo *ai = r->next;
        r->next = ai->ai_next;
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc == 0 || errno == EINPROGRESS) {
            *in_progress = rc != 0;
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            *fd_out = fd;
            return SW_OK;
        }
        saved = errno;
        close(fd);
    }
    errno = saved;
    return SW_ERR_CONNECT;
}

bool sw_tcp_lookup_has_next(const sw_tcp_lookup *r)
{
    return r && atomic_load(&r->done) && r->next != NULL;
}

void sw_tcp_lookup_cancel(sw_tcp_lookup *r, sw_loop *loop)
{
    if (!r)
        return;
    /* The fd is still open (r owns it), so its number cannot belong to
     * another watch. */
    if (loop && r->rd >= 0)
        sw_loop_del_fd(loop, r->rd);
    lookup_release(r);
}

sw_err sw_tcp_connect_finish(int fd)
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

/* ---- a connect on the event loop ---------------------------------------------- */

struct sw_tcp_connector {
    sw_loop *loop;
    sw_tcp_lookup *lookup;
    int fd;             /* the attempt in progress, -1 between attempts */
    int lookup_fd;      /* watched until the lookup answers, -1 after */
    uint64_t deadline;  /* the timer that ends the whole connect, 0 = none */
    uint64_t kick;      /* the 0 ms timer that reports an outcome known inside the start */
    sw_err early;       /* that outcome */
    int early_errno;
    sw_tcp_connected_cb cb;
    void *user;
};

static void connector_free(sw_tcp_connector *c)
{
    if (c->deadline)
        sw_loop_del_timer(c->loop, c->deadline);
    if (c->kick)
        sw_loop_del_timer(c->loop, c->kick);
    if (c->fd >= 0) {
        sw_loop_del_fd(c->loop, c->fd);
        close(c->fd);
    }
    sw_tcp_lookup_cancel(c->lookup, c->loop);
    free(c);
}

/* Hand the outcome to the owner, then free the connector. */
static void connector_done(sw_tcp_connector *c, sw_err e, int err)
{
    int fd = -1;
    if (e == SW_OK) {
        fd = c->fd;
        sw_loop_del_fd(c->loop, fd);
        c->fd = -1;
    }
    errno = err;
    c->cb(c, e, fd, c->user);
    connector_free(c);
}

static void connector_next(sw_tcp_connector *c);

static void on_connector_writable(sw_loop *loop, int fd, int events, void *user)
{
    (void)events;
    sw_tcp_connector *c = user;
    if (sw_tcp_connect_finish(fd) == SW_OK) {
        connector_done(c, SW_OK, 0);
        return;
    }
    int err = errno;
    sw_loop_del_fd(loop, fd);
    close(fd);
    c->fd = -1;
    if (!sw_tcp_lookup_has_next(c->lookup)) {
        connector_done(c, SW_ERR_CONNECT, err);
        return;
    }
    connector_next(c); /* this address refused: the next one may not */
}

/* Start an attempt on the lookup's next address. */
static void connector_next(sw_tcp_connector *c)
{
    bool pending = false;
    sw_err e = sw_tcp_lookup_connect(c->lookup, &c->fd, &pending);
    if (e != SW_OK) {
        c->fd = -1;
        connector_done(c, e, errno);
        return;
    }
    if (!pending) {
        connector_done(c, SW_OK, 0);
        return;
    }
    e = sw_loop_add_fd(c->loop, c->fd, SW_LOOP_WRITE, on_connector_writable, c);
    if (e != SW_OK)
        connector_done(c, e, 0);
}

static void on_connector_lookup(sw_loop *loop, int fd, int events, void *user)
{
    (void)events;
    sw_tcp_connector *c = user;
    sw_loop_del_fd(loop, fd);
    c->lookup_fd = -1;
    connector_next(c);
}

static int64_t on_connector_kick(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_tcp_connector *c = user;
    c->kick = 0;
    connector_done(c, c->early, c->early_errno);
    return -1;
}

/* A literal address: the first attempt starts at once (a peer that begins
 * talking as soon as the caller's loop runs finds the connection queued); an
 * outcome known already waits for the loop, so the callback never runs inside
 * the start. */
static sw_err connector_first(sw_tcp_connector *c)
{
    bool pending = false;
    c->early = sw_tcp_lookup_connect(c->lookup, &c->fd, &pending);
    c->early_errno = errno;
    if (c->early != SW_OK)
        c->fd = -1;
    if (c->early == SW_OK && pending)
        return sw_loop_add_fd(c->loop, c->fd, SW_LOOP_WRITE, on_connector_writable, c);
    c->kick = sw_loop_add_timer(c->loop, 0, on_connector_kick, c);
    return c->kick ? SW_OK : SW_ERR_NO_SPACE;
}

static int64_t on_connector_deadline(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_tcp_connector *c = user;
    c->deadline = 0;
    /* A lookup still running counts as a failed lookup. */
    connector_done(c, c->lookup_fd >= 0 ? SW_ERR_RESOLVE : SW_ERR_TIMEOUT, ETIMEDOUT);
    return -1;
}

sw_err sw_tcp_connector_start(sw_loop *loop, const char *host, uint16_t port, int timeout_ms, sw_tcp_lookup_cb fn,
                              sw_tcp_connected_cb cb, void *user, sw_tcp_connector **out)
{
    if (out)
        *out = NULL;
    if (!loop || !host || !cb)
        return SW_ERR_INVALID_ARGUMENT;
    sw_tcp_connector *c = calloc(1, sizeof *c);
    if (!c)
        return SW_ERR_NO_MEMORY;
    c->loop = loop;
    c->fd = c->lookup_fd = -1;
    c->cb = cb;
    c->user = user;
    sw_err e = sw_tcp_lookup_start(host, port, fn, &c->lookup, &c->lookup_fd);
    if (e == SW_OK && c->lookup_fd >= 0)
        e = sw_loop_add_fd(loop, c->lookup_fd, SW_LOOP_READ, on_connector_lookup, c);
    else if (e == SW_OK)
        e = connector_first(c);
    if (e == SW_OK && timeout_ms > 0 && !(c->deadline = sw_loop_add_timer(loop, timeout_ms, on_connector_deadline, c)))
        e = SW_ERR_NO_SPACE;
    if (e != SW_OK) {
        int err = errno;
        connector_free(c);
        errno = err;
        return e;
    }
    if (out)
        *out = c;
    return SW_OK;
}

void sw_tcp_connector_cancel(sw_tcp_connector *c)
{
    if (c)
        connector_free(c);
}

/* The blocking connect: the same connector, on a loop of its own. */
typedef struct blocking_connect {
    bool done;
    sw_err result;
    int err;
    int fd;
} blocking_connect;

static void on_blocking_connected(sw_tcp_connector *c, sw_err result, int fd, void *user)
{
    (void)c;
    blocking_connect *b = user;
    b->done = true;
    b->result = result;
    b->err = errno;
    b->fd = fd;
}

sw_err sw_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fd_out)
{
    sw_loop *loop = sw_loop_new();
    if (!loop)
        return SW_ERR_NO_MEMORY;
    blocking_connect b = { .fd = -1 };
    sw_tcp_connector *c = NULL;
    sw_err e = sw_tcp_connector_start(loop, host, port, timeout_ms, NULL, on_blocking_connected, &b, &c);
    while (e == SW_OK && !b.done)
        e = sw_loop_run_once(loop, -1);
    if (!b.done)
        sw_tcp_connector_cancel(c);
    sw_loop_free(loop);
    if (e != SW_OK)
        return e;
    if (b.result != SW_OK) {
        errno = b.err;
        return b.result;
    }
    sw_fd_set_nonblocking(b.fd, 0);
    *fd_out = b.fd;
    return SW_OK;
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
    if (idle_s <= 0 && interval_s <= 0 && count <= 0)
        return SW_OK; /* nothing asked for: the kernel's defaults stay */
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

sw_err sw_send_nowait(int fd, const void *buf, size_t n, size_t *sent, bool *full)
{
    const unsigned char *p = buf;
    *sent = 0;
    *full = false;
    while (*sent < n) {
        ssize_t w = send(fd, p + *sent, n - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                *full = true;
                return SW_OK;
            }
            return SW_ERR_IO;
        }
        *sent += (size_t)w;
    }
    return SW_OK;
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
