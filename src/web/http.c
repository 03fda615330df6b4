/*
 * http.c: the HTTP server of web/http.h, libmicrohttpd driven by sw_loop.
 *
 * MHD runs in external mode with epoll and without a listening socket of its
 * own: the loop watches the listening socket, the "door" (an epoll set of
 * admitted connections whose request line has not arrived) and MHD's epoll
 * descriptor. The loop accepts, decides who may stay (limits below), peeks at
 * the request line at the door (anything that is not HTTP gets 400 and is
 * closed there) and hands the socket to MHD with MHD_add_connection; MHD_run
 * is called when its epoll descriptor is readable, after every hand-over, and
 * when the timeout MHD asks for expires. No thread is ever started. MHD is
 * trusted for HTTP framing and percent-decoding; the raw target, paths and
 * routes are checked here.
 *
 * Why the accept is ours: when MHD owns the listening socket it takes it out
 * of its epoll set at its connection limit and puts it back only at the start
 * of a later MHD_run. If the run that closes the last connections is the last
 * run (no connection left means no timeout and no event), nothing calls MHD
 * again and the server never accepts anything more. A listening socket in the
 * loop is polled level-triggered, always.
 *
 * Limits (sw_http_limits): a connection "waits" from its accept, and again
 * after each answer, until its request head is complete; a waiting connection
 * is closed after head_timeout_ms in total however slowly it trickles. Each
 * client address may hold max_per_address connections and the server
 * max_connections. A newcomer over either limit takes the place of the
 * longest-waiting connection (of its own address first), so a fresh request
 * is always served; it is refused with 503 only when every place is taken by a
 * request in progress. Event streams never take the last stream_reserve places,
 * which keeps room for /metrics and a new visitor while browsers stay connected.
 *
 * Server-Sent Events: each client has a byte queue. Its content reader hands
 * out what is queued, and when the queue is empty it suspends the connection
 * (the pattern MHD prescribes instead of returning 0 in a loop); a send
 * appends to every queue, resumes, and schedules an MHD_run for the next
 * loop iteration (external mode has no wake-up of its own). A client whose
 * queue grows past a limit is too slow and is dropped rather than allowed to
 * eat memory.
 */
#include "web/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "io/io_file.h"
#include "io/log.h"
#include "io/net.h"
#include "sunwire_config.h"
#include "web/web_internal.h"

void sw_web_query_add(sw_web_query *q, const char *key, const char *value)
{
    if (q->n >= SW_WEB_MAX_QUERY) {
        q->overflow = true;
        return;
    }
    q->key[q->n] = key;
    q->value[q->n] = value ? value : "";
    q->n++;
}

const char *sw_http_query(const sw_http_request *req, const char *name)
{
    const sw_web_query *q = req ? req->conn_ : NULL;
    if (!q || !name)
        return NULL;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->key[i], name) == 0)
            return q->value[i];
    return NULL;
}

sw_err sw_http_set_body(sw_http_response *resp, const char *content_type, const char *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return SW_ERR_NO_MEMORY;
    if (len)
        memcpy(copy, body, len);
    copy[len] = '\0';
    free(resp->body);
    resp->body = copy;
    resp->body_len = len;
    if (content_type)
        resp->content_type = content_type;
    return SW_OK;
}

sw_err sw_http_error(sw_http_response *resp, int status, const char *message)
{
    char buf[1024];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_object_begin(&j);
    sw_json_key(&j, "error");
    sw_json_string(&j, message ? message : "error");
    sw_json_key(&j, "status");
    sw_json_int(&j, status);
    sw_json_object_end(&j);
    const char *text = sw_json_finish(&j);
    if (!text)
        text = "{\"error\":\"error\"}";
    resp->status = status;
    resp->cache_control = "no-store";
    return sw_http_set_body(resp, "application/json", text, strlen(text));
}

void sw_http_limits_defaults(sw_http_limits *l)
{
    l->max_connections = 256;
    l->max_per_address = 32;
    l->stream_reserve = 32;
    l->head_timeout_ms = 10000;
}

#if SUNWIRE_HAVE_MHD

#include <microhttpd.h>

#define SSE_MAX_QUEUE (1024 * 1024)
#define SSE_MAX_PATHS 8
#define SSE_KEEPALIVE_MS 15000
#define MHD_TIMER_CAP_MS 5000
#define ACCEPT_BATCH 64        /* accepts per wake-up before MHD gets a turn */
#define ACCEPT_PAUSE_MS 100    /* out of descriptors: listen again after this */
#define IDLE_TIMEOUT_S 60      /* a request in progress that moves nothing for this long */

/* One accepted connection, from accept until MHD reports it closed. */
struct conn {
    int fd;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct MHD_Connection *mhd;
    int64_t waiting_since_ms;  /* start of the wait for a request head */
    bool in_request;           /* head complete, being answered */
    bool stream;               /* an event stream */
    bool closing;              /* shut down by us, MHD has yet to notice */
    bool bad_uri;              /* the raw request target holds a control character */
    bool at_door;              /* not handed to MHD yet: its request line is awaited */
    struct conn *prev, *next;
};

struct sse_client {
    sw_http_server *srv;
    struct MHD_Connection *conn;
    char path[SW_WEB_ROUTE_PATH_MAX];
    char *buf;
    size_t len, off, cap;
    bool suspended;
    bool closing;
    struct sse_client *next;
};

struct sw_http_server {
    sw_loop *loop;
    struct MHD_Daemon *mhd;
    int epoll_fd;
    int listen_fd;
    int door_fd;                     /* epoll set of connections whose request line is awaited */
    uint64_t mhd_timer;
    uint64_t kick_timer;
    uint64_t keepalive_timer;
    uint64_t reap_timer;
    uint64_t pause_timer;
    sw_web_route routes[SW_WEB_MAX_ROUTES];
    size_t n_routes;
    struct sse_client *clients;
    struct conn *conns, *conns_tail; /* in accept order */
    struct conn *adding;             /* the connection MHD_add_connection is taking */
    sw_http_limits limits;
    sw_http_counters counters;          /* the gauges are computed on demand */
    bool stopping;
    sw_http_auth auth;                  /* credentials and TLS files (web/auth.h) */
    bool need_auth;                     /* credentials are configured: every request shows them */
    bool tls;
    bool beyond_loopback;               /* the socket is bound to an address other hosts can reach */
    int64_t last_plain_warning_ms;      /* credentials over plain HTTP beyond loopback: warned then */
    int64_t last_refusal_log_ms;
    char *tls_cert_pem, *tls_key_pem;
};

static void schedule_mhd(sw_http_server *srv);

static int64_t on_mhd_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_http_server *srv = user;
    srv->mhd_timer = 0;
    MHD_run(srv->mhd);
    schedule_mhd(srv);
    return -1;
}

/* Arm the loop timer for MHD's next deadline (connection timeouts, pending work). */
static void schedule_mhd(sw_http_server *srv)
{
    if (srv->mhd_timer) {
        sw_loop_del_timer(srv->loop, srv->mhd_timer);
        srv->mhd_timer = 0;
    }
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(srv->mhd, &ms) != MHD_YES)
        return;
    if (ms > MHD_TIMER_CAP_MS)
        ms = MHD_TIMER_CAP_MS;
    srv->mhd_timer = sw_loop_add_timer(srv->loop, (int64_t)ms, on_mhd_timer, srv);
}

static void on_epoll_ready(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)fd; (void)events;
    sw_http_server *srv = user;
    MHD_run(srv->mhd);
    schedule_mhd(srv);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (sw_log_enabled(SW_LOG_DEBUG))
        sw_vlog(SW_LOG_DEBUG, "http", fmt, ap);
}

/* Run MHD on the next loop iteration: in external mode a resumed connection is
 * only picked up by an MHD_run after the resume, nothing wakes MHD by itself. */
static int64_t on_kick(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_http_server *srv = user;
    srv->kick_timer = 0;
    MHD_run(srv->mhd);
    schedule_mhd(srv);
    return -1;
}

/* One pending kick covers any number of resumes: a burst of events costs one timer. */
static void kick(sw_http_server *srv)
{
    if (srv->stopping || srv->kick_timer)
        return;
    srv->kick_timer = sw_loop_add_timer(srv->loop, 0, on_kick, srv);
}

/* ---- connections and limits ------------------------------------------------ */
static bool same_address(const struct conn *c, const struct sockaddr_storage *ss)
{
    if (c->addr.ss_family != ss->ss_family)
        return false;
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)&c->addr)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
    if (ss->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)&c->addr)->sin6_addr,
                      &((const struct sockaddr_in6 *)ss)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return true; /* any other family is one local peer */
}

static struct conn *find_conn(sw_http_server *srv, const struct MHD_Connection *mc)
{
    for (struct conn *c = srv->conns; c; c = c->next)
        if (c->mhd == mc)
            return c;
    return NULL;
}

static void conn_unlink(sw_http_server *srv, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        srv->conns_tail = c->prev;
    c->prev = c->next = NULL;
}

/* Read and drop what the client sent, so that closing sends FIN rather than a reset. */
static void drain(int fd)
{
    char buf[4096];
    for (int i = 0; i < 16 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; i++)
        ;
}

/* A connection still at the door is ours alone: close it and forget it. */
static void door_close(sw_http_server *srv, struct conn *c)
{
    epoll_ctl(srv->door_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conn_unlink(srv, c);
    free(c);
}

/* Close a waiting connection; one that MHD holds ends when MHD reads the end of its stream on its next run. */
static void conn_shut(sw_http_server *srv, struct conn *c)
{
    if (c->at_door) {
        door_close(srv, c);
        return;
    }
    c->closing = true;
    shutdown(c->fd, SHUT_RDWR);
    kick(srv);
}

/* Answer with a fixed response and close (the client gets it unless it keeps sending). */
static void answer_close(int fd, const char *text, size_t len)
{
    drain(fd);
    ssize_t n = send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
    shutdown(fd, SHUT_WR);
    close(fd);
}

static int64_t on_reap(sw_loop *loop, uint64_t id, void *user);

/* Arm the head-deadline timer for the longest-waiting connection, if any waits. */
static void arm_reaper(sw_http_server *srv)
{
    if (srv->reap_timer || srv->stopping)
        return;
    int64_t first = INT64_MAX;
    for (struct conn *c = srv->conns; c; c = c->next)
        if (!c->closing && !c->in_request && c->waiting_since_ms < first)
            first = c->waiting_since_ms;
    if (first == INT64_MAX)
        return;
    int64_t delay = first + (int64_t)srv->limits.head_timeout_ms - sw_loop_now_ms();
    srv->reap_timer = sw_loop_add_timer(srv->loop, delay > 0 ? delay : 0, on_reap, srv);
}

static int64_t on_reap(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_http_server *srv = user;
    srv->reap_timer = 0;
    int64_t limit = sw_loop_now_ms() - (int64_t)srv->limits.head_timeout_ms;
    for (struct conn *c = srv->conns, *next; c; c = next) {
        next = c->next; /* a connection at the door is freed at once */
        if (!c->closing && !c->in_request && c->waiting_since_ms <= limit) {
            srv->counters.timed_out++;
            conn_shut(srv, c);
        }
    }
    arm_reaper(srv);
    return -1;
}

/* Every place is taken by a request in progress: say so, and close. */
static void refuse(sw_http_server *srv, int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                               "Content-Type: application/json\r\nContent-Length: 52\r\n"
                               "Retry-After: 1\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
                               "{\"error\":\"too many connections, retry\",\"status\":503}";
    srv->counters.refused++;
    answer_close(fd, busy, sizeof busy - 1);
}

/* The server and per-address limits: room is made by closing the longest-waiting connection. */
static void admit(sw_http_server *srv, int fd, const struct sockaddr_storage *ss, socklen_t len)
{
    unsigned total = 0, all = 0, mine = 0;
    struct conn *oldest_mine = NULL, *oldest_any = NULL;
    for (struct conn *c = srv->conns; c; c = c->next) {
        all++;
        if (c->closing)
            continue;
        total++;
        bool m = same_address(c, ss);
        mine += m;
        if (c->in_request)
            continue;
        if (!oldest_any || c->waiting_since_ms < oldest_any->waiting_since_ms)
            oldest_any = c;
        if (m && (!oldest_mine || c->waiting_since_ms < oldest_mine->waiting_since_ms))
            oldest_mine = c;
    }
    struct conn *victim = NULL;
    if (mine >= srv->limits.max_per_address)
        victim = oldest_mine;
    else if (total >= srv->limits.max_connections)
        victim = oldest_mine ? oldest_mine : oldest_any;
    if (((mine >= srv->limits.max_per_address || total >= srv->limits.max_connections) && !victim) ||
        all >= srv->limits.max_connections + 2 * ACCEPT_BATCH) {
        refuse(srv, fd);
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        refuse(srv, fd);
        return;
    }
    if (victim) {
        srv->counters.replaced++;
        conn_shut(srv, victim);
    }
    c->fd = fd;
    memcpy(&c->addr, ss, len <= sizeof c->addr ? len : sizeof c->addr);
    c->addrlen = len;
    c->waiting_since_ms = sw_loop_now_ms();
    c->prev = srv->conns_tail;
    if (srv->conns_tail)
        srv->conns_tail->next = c;
    else
        srv->conns = c;
    srv->conns_tail = c;
    srv->counters.accepted++;
    /* Edge-triggered: every arrival of bytes wakes the door once, and they stay unread until MHD takes them. */
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c };
    c->at_door = true;
    if (epoll_ctl(srv->door_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
        door_close(srv, c);
}

/* The request line looks like HTTP: from now on the connection is MHD's. */
static void hand_over(sw_http_server *srv, struct conn *c)
{
    epoll_ctl(srv->door_fd, EPOLL_CTL_DEL, c->fd, NULL);
    c->at_door = false;
    srv->adding = c;
    /* MHD closes the socket itself when it cannot take it; STARTED/CLOSED keep the list right. */
    if (MHD_add_connection(srv->mhd, c->fd, (const struct sockaddr *)&c->addr, c->addrlen) != MHD_YES &&
        srv->adding == c) {
        conn_unlink(srv, c);
        free(c);
    }
    srv->adding = NULL;
}

/* Look at (without taking) the first bytes of each connection that has sent some. */
static void on_door(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)events;
    static const char garbled[] = "HTTP/1.1 400 Bad Request\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 47\r\n"
                                  "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
                                  "{\"error\":\"malformed request line\",\"status\":400}";
    sw_http_server *srv = user;
    struct epoll_event ev[64];
    int n = epoll_wait(fd, ev, 64, 0);
    bool handed = false;
    for (int i = 0; i < n; i++) {
        struct conn *c = ev[i].data.ptr;
        char buf[2048];
        ssize_t got = recv(c->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (got <= 0) { /* gone before saying anything */
            door_close(srv, c);
            continue;
        }
        /* HTTPS: the first bytes are a TLS handshake; MHD reads the request line after it. */
        int v = srv->tls ? 1 : sw_web_request_line_check(buf, (size_t)got);
        if (v < 0) {
            srv->counters.garbled++;
            epoll_ctl(srv->door_fd, EPOLL_CTL_DEL, c->fd, NULL);
            answer_close(c->fd, garbled, sizeof garbled - 1);
            conn_unlink(srv, c);
            free(c);
        } else if (v > 0 || (size_t)got == sizeof buf) {
            hand_over(srv, c); /* a line too long to look at: MHD answers it */
            handed = true;
        }
    }
    if (handed) {
        MHD_run(srv->mhd);
        schedule_mhd(srv);
    }
}

static void on_listen(sw_loop *loop, int fd, int events, void *user);

static int64_t on_listen_again(sw_loop *loop, uint64_t id, void *user)
{
    (void)id;
    sw_http_server *srv = user;
    srv->pause_timer = 0;
    sw_loop_set_fd_events(loop, srv->listen_fd, SW_LOOP_READ);
    return -1;
}

static void on_listen(sw_loop *loop, int fd, int events, void *user)
{
    (void)events;
    sw_http_server *srv = user;
    int accepted = 0;
    while (accepted < ACCEPT_BATCH) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int cfd = accept(fd, (struct sockaddr *)&ss, &len);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && !srv->pause_timer) {
                /* Out of descriptors or memory: the backlog waits, polling it now would spin. */
                SW_LOGD("http", "cannot accept (%s); listening again in %d ms", strerror(errno), ACCEPT_PAUSE_MS);
                sw_loop_set_fd_events(loop, fd, 0);
                srv->pause_timer = sw_loop_add_timer(loop, ACCEPT_PAUSE_MS, on_listen_again, srv);
            }
            break;
        }
        (void)fcntl(cfd, F_SETFD, FD_CLOEXEC);
        accepted++;
        admit(srv, cfd, &ss, len);
    }
    /* Give MHD its turn now: heads already here are read before the next batch is accepted. */
    MHD_run(srv->mhd);
    schedule_mhd(srv);
    arm_reaper(srv);
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    sw_http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *c = srv->adding;
        if (c) {
            c->mhd = mc;
            *socket_context = c;
        }
        return;
    }
    struct conn *c = *socket_context;
    if (!c)
        return;
    *socket_context = NULL;
    if (srv->adding == c)
        srv->adding = NULL;
    conn_unlink(srv, c);
    free(c);
}

/* Called once per request with the raw request target, before any header: the request's context. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
    struct conn *c = find_conn(cls, mc);
    if (c)
        c->bad_uri = !sw_web_target_safe(uri);
    return c;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)mc; (void)toe;
    sw_http_server *srv = cls;
    struct conn *c = *con_cls;
    *con_cls = NULL;
    if (!c)
        return;
    /* Back to waiting: the next head (or the end of the connection) has the same deadline. */
    c->in_request = false;
    c->stream = false;
    c->bad_uri = false;
    c->waiting_since_ms = sw_loop_now_ms();
    arm_reaper(srv);
}

void sw_http_server_get_counters(const sw_http_server *srv, sw_http_counters *out)
{
    memset(out, 0, sizeof *out);
    if (!srv)
        return;
    *out = srv->counters;
    out->connections = out->waiting = out->streams = 0;
    for (const struct conn *c = srv->conns; c; c = c->next) {
        if (c->closing)
            continue;
        out->connections++;
        out->waiting += !c->in_request;
        out->streams += c->stream;
    }
}

sw_err sw_http_server_set_limits(sw_http_server *srv, const sw_http_limits *l)
{
    if (!srv || !l || !l->max_connections || l->max_connections > 2048 || !l->max_per_address ||
        !l->head_timeout_ms || l->stream_reserve >= l->max_connections)
        return SW_ERR_INVALID_ARGUMENT;
    srv->limits = *l;
    if (srv->reap_timer) {
        sw_loop_del_timer(srv->loop, srv->reap_timer);
        srv->reap_timer = 0;
    }
    arm_reaper(srv);
    return SW_OK;
}

/* ---- SSE ------------------------------------------------------------------ */
static void client_resume(struct sse_client *cl)
{
    if (cl->suspended) {
        cl->suspended = false;
        MHD_resume_connection(cl->conn);
        kick(cl->srv);
    }
}

static bool client_queue(struct sse_client *cl, const char *s, size_t n)
{
    if (cl->closing)
        return false;
    if (cl->off > 0 && cl->off == cl->len)
        cl->off = cl->len = 0;
    if (cl->len + n > SSE_MAX_QUEUE) {
        SW_LOGW("http", "dropping a slow event-stream client of %s", cl->path);
        cl->closing = true;
        client_resume(cl);
        return false;
    }
    if (cl->len + n > cl->cap) {
        size_t cap = cl->cap ? cl->cap : 4096;
        while (cap < cl->len + n)
            cap *= 2;
        char *nb = realloc(cl->buf, cap);
        if (!nb) {
            cl->closing = true;
            client_resume(cl);
            return false;
        }
        cl->buf = nb;
        cl->cap = cap;
    }
    memcpy(cl->buf + cl->len, s, n);
    cl->len += n;
    client_resume(cl);
    return true;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct sse_client *cl = cls;
    if (cl->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (cl->off < cl->len) {
        size_t n = cl->len - cl->off;
        if (n > max)
            n = max;
        memcpy(buf, cl->buf + cl->off, n);
        cl->off += n;
        if (cl->off == cl->len)
            cl->off = cl->len = 0;
        return (ssize_t)n;
    }
    /* Nothing queued: park the connection until the next send resumes it. */
    cl->suspended = true;
    MHD_suspend_connection(cl->conn);
    return 0;
}

static void sse_free(void *cls)
{
    struct sse_client *cl = cls;
    sw_http_server *srv = cl->srv;
    for (struct sse_client **pp = &srv->clients; *pp; pp = &(*pp)->next) {
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    }
    free(cl->buf);
    free(cl);
}

static int64_t on_keepalive(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_http_server *srv = user;
    /* A comment line: browsers ignore it, and a vanished client shows up as a write error. */
    for (struct sse_client *cl = srv->clients; cl; cl = cl->next)
        client_queue(cl, ":\n\n", 3);
    return SSE_KEEPALIVE_MS;
}

bool sw_web_sse_has_clients(const sw_http_server *srv, const char *path)
{
    if (!srv || !path || srv->stopping)
        return false;
    for (const struct sse_client *cl = srv->clients; cl; cl = cl->next)
        if (!cl->closing && strcmp(cl->path, path) == 0)
            return true;
    return false;
}

void sw_http_sse_send(sw_http_server *srv, const char *path, const char *event, const char *data)
{
    if (!data || !sw_web_sse_has_clients(srv, path))
        return;

    /* Frame once: "event: X\n" then one "data: " line per line of data, then a blank line. */
    size_t dlen = strlen(data);
    size_t lines = 1;
    for (size_t i = 0; i < dlen; i++)
        if (data[i] == '\n')
            lines++;
    size_t cap = 16 + (event ? strlen(event) : 0) + dlen + lines * 7 + 2;
    char *msg = malloc(cap);
    if (!msg)
        return;
    size_t n = 0;
    if (event && *event)
        n += (size_t)snprintf(msg, cap, "event: %s\n", event);
    const char *p = data;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (l && p[l - 1] == '\r')
            l--;
        memcpy(msg + n, "data: ", 6);
        n += 6;
        memcpy(msg + n, p, l);
        n += l;
        msg[n++] = '\n';
        if (!nl)
            break;
        p = nl + 1;
    }
    msg[n++] = '\n';
    for (struct sse_client *cl = srv->clients; cl; cl = cl->next)
        if (strcmp(cl->path, path) == 0)
            client_queue(cl, msg, n);
    free(msg);
}

sw_err sw_http_sse_route(sw_http_server *srv, const char *path)
{
    if (!srv || !path || path[0] != '/' || strlen(path) >= SW_WEB_ROUTE_PATH_MAX)
        return SW_ERR_INVALID_ARGUMENT;
    if (srv->n_routes >= SW_WEB_MAX_ROUTES)
        return SW_ERR_NO_SPACE;
    sw_web_route *r = &srv->routes[srv->n_routes++];
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->sse = true;
    return SW_OK;
}

sw_err sw_http_route(sw_http_server *srv, const char *path, bool prefix, sw_http_handler_cb handler, void *user)
{
    if (!srv || !path || path[0] != '/' || !handler || strlen(path) >= SW_WEB_ROUTE_PATH_MAX)
        return SW_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < srv->n_routes; i++) {
        sw_web_route *r = &srv->routes[i];
        if (r->prefix == prefix && strcmp(r->path, path) == 0) {
            r->handler = handler;
            r->user = user;
            r->sse = false;
            return SW_OK;
        }
    }
    if (srv->n_routes >= SW_WEB_MAX_ROUTES)
        return SW_ERR_NO_SPACE;
    sw_web_route *r = &srv->routes[srv->n_routes++];
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->prefix = prefix;
    r->handler = handler;
    r->user = user;
    return SW_OK;
}

/* ---- requests ---------------------------------------------------------------- */
static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    sw_web_query_add(cls, key, value);
    return MHD_YES;
}

static enum MHD_Result queue(struct MHD_Connection *c, sw_http_response *r, bool close_after)
{
    size_t len = r->body ? r->body_len : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, r->body ? r->body : (void *)"", r->body ? MHD_RESPMEM_MUST_FREE
                                                                                      : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(r->body);
        return MHD_NO;
    }
    r->body = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "text/plain; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control ? r->cache_control : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (r->status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result simple(struct MHD_Connection *c, int status, const char *message)
{
    sw_http_response r = { .status = 200 };
    if (sw_http_error(&r, status, message) != SW_OK)
        return MHD_NO;
    return queue(c, &r, false);
}

/* An answer after which the connection closes: what follows a garbled request line is not HTTP either. */
static enum MHD_Result simple_close(struct MHD_Connection *c, int status, const char *message)
{
    sw_http_response r = { .status = 200 };
    if (sw_http_error(&r, status, message) != SW_OK)
        return MHD_NO;
    return queue(c, &r, true);
}

static enum MHD_Result start_sse(sw_http_server *srv, struct MHD_Connection *c, struct conn *cn, const char *path)
{
    unsigned streams = 0;
    for (const struct conn *o = srv->conns; o; o = o->next)
        streams += o->stream && !o->closing;
    if (streams + srv->limits.stream_reserve >= srv->limits.max_connections)
        return simple(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many event streams");
    if (cn)
        cn->stream = true;
    struct sse_client *cl = calloc(1, sizeof *cl);
    if (!cl)
        return MHD_NO;
    cl->srv = srv;
    cl->conn = c;
    snprintf(cl->path, sizeof cl->path, "%s", path);
    /* Ask for a quick reconnect, and give the browser a first byte so it reports the stream open. */
    static const char hello[] = "retry: 2000\n: sunwire\n\n";
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, cl, sse_free);
    if (!resp) {
        free(cl);
        return MHD_NO;
    }
    cl->next = srv->clients;
    srv->clients = cl;
    client_queue(cl, hello, sizeof hello - 1);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The client's address as text, for log lines. */
static void peer_text(const struct conn *cn, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    if (!cn)
        return;
    const struct sockaddr_storage *ss = &cn->addr;
    char a[INET6_ADDRSTRLEN] = "";
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof a);
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof a);
    if (a[0])
        snprintf(out, cap, "%s", a);
}

/*
 * The request's credentials against the configured ones; false with *r set to
 * the 401 answer when they do not pass. Credentials that travel in clear
 * beyond loopback are worth a warning (at most one a minute): anyone on the
 * way can read them.
 */
static bool authorized(sw_http_server *srv, struct MHD_Connection *c, const struct conn *cn, enum MHD_Result *r)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    int64_t now_ms = sw_loop_now_ms();
    char peer[INET6_ADDRSTRLEN + 4];
    if (h && srv->beyond_loopback && !srv->tls &&
        (!srv->last_plain_warning_ms || now_ms - srv->last_plain_warning_ms >= 60000)) {
        srv->last_plain_warning_ms = now_ms;
        peer_text(cn, peer, sizeof peer);
        SW_LOGW("http", "credentials from %s came over plain HTTP on an address beyond loopback: anyone on the "
                "way can read them; configure tls_cert and tls_key", peer);
    }
    if (!srv->need_auth)
        return true;
    sw_http_auth_verdict v = sw_http_auth_check(&srv->auth, h, (int64_t)time(NULL));
    if (v == SW_HTTP_AUTH_OK)
        return true;
    if (v != SW_HTTP_AUTH_MISSING &&
        (!srv->last_refusal_log_ms || now_ms - srv->last_refusal_log_ms >= 1000)) {
        srv->last_refusal_log_ms = now_ms;
        peer_text(cn, peer, sizeof peer);
        SW_LOGW("http", "refused a request from %s: %s credentials", peer, sw_http_auth_verdict_name(v));
    }
    sw_http_response resp = { .status = 200 };
    const char *msg = v == SW_HTTP_AUTH_MISSING   ? "authentication required"
                      : v == SW_HTTP_AUTH_EXPIRED ? "credentials expired"
                                                  : "wrong credentials";
    if (sw_http_error(&resp, MHD_HTTP_UNAUTHORIZED, msg) != SW_OK) {
        *r = MHD_NO;
        return false;
    }
    size_t len = resp.body_len;
    struct MHD_Response *m = MHD_create_response_from_buffer(len, resp.body, MHD_RESPMEM_MUST_FREE);
    if (!m) {
        free(resp.body);
        *r = MHD_NO;
        return false;
    }
    MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    if (srv->auth.basic)
        MHD_add_response_header(m, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"sunwire\", charset=\"UTF-8\"");
    if (srv->auth.token)
        MHD_add_response_header(m, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                v == SW_HTTP_AUTH_MISSING ? "Bearer realm=\"sunwire\""
                                                          : "Bearer realm=\"sunwire\", error=\"invalid_token\"");
    *r = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, m);
    MHD_destroy_response(m);
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    (void)version; (void)upload_data;
    sw_http_server *srv = cls;
    struct conn *cn = *con_cls;
    if (cn)
        cn->in_request = true; /* the head is complete: its deadline no longer applies */
    if (upload_size)
        *upload_size = 0; /* nothing here takes a body */
    if (!sw_web_method_safe(method))
        return simple_close(c, MHD_HTTP_BAD_REQUEST, "malformed request line");
    if (srv->need_auth || srv->beyond_loopback) {
        enum MHD_Result r;
        if (!authorized(srv, c, cn, &r))
            return r;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return simple(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are supported");
    if ((cn && cn->bad_uri) || !sw_web_path_safe(url))
        return simple(c, MHD_HTTP_BAD_REQUEST, "malformed path");

    int ri = sw_web_route_match(srv->routes, srv->n_routes, url);
    if (ri < 0)
        return simple(c, MHD_HTTP_NOT_FOUND, "not found");
    const sw_web_route *route = &srv->routes[ri];
    sw_web_query q = { 0 };
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    if (q.overflow)
        return simple(c, MHD_HTTP_BAD_REQUEST, "too many query parameters");
    if (route->sse) {
        char why[128];
        sw_http_request sreq = { .method = method, .path = url, .conn_ = &q };
        if (!sw_web_query_check(&sreq, NULL, why, sizeof why))
            return simple(c, MHD_HTTP_BAD_REQUEST, why);
        return start_sse(srv, c, cn, route->path);
    }
    sw_http_request req = { .method = method, .path = url, .conn_ = &q };
    sw_http_response resp = { .status = 200 };
    if (route->handler(route->user, &req, &resp) != 0) {
        free(resp.body);
        return simple(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    if (resp.status < 100 || resp.status > 599)
        resp.status = 200;
    return queue(c, &resp, false);
}

/* Whether the listening socket's own address is loopback (127.0.0.0/8, ::1, ::ffff:127.x). */
static bool socket_is_loopback(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return false;
    if (ss.ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return ss.ss_family == AF_UNIX;
}

bool sw_http_tls_supported(void)
{
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

/* Who may use the server and how: refuse what would expose it, read the TLS files. */
static sw_err apply_auth(sw_http_server *srv, const sw_http_auth *auth, const char *bind_addr)
{
    if (auth)
        srv->auth = *auth;
    else
        sw_http_auth_defaults(&srv->auth);
    srv->need_auth = sw_http_auth_has_credentials(&srv->auth);
    srv->beyond_loopback = !socket_is_loopback(srv->listen_fd);
    const char *where = bind_addr ? bind_addr : "127.0.0.1";
    if (srv->beyond_loopback && !srv->need_auth) {
        if (!srv->auth.insecure_no_auth) {
            SW_LOGE("http", "refusing to serve on %s without authentication: it is reachable beyond this machine. "
                    "Set token_sha256 or basic_auth (see `sunwire hash-password`), bind 127.0.0.1, or accept the "
                    "risk with insecure_no_auth = on (--insecure-no-auth)", where);
            return SW_ERR_INVALID_ARGUMENT;
        }
        SW_LOGW("http", "serving on %s WITHOUT authentication (insecure_no_auth): anyone who can reach this "
                "address reads everything the dashboard, the API and /metrics show", where);
    }
    if (!srv->auth.tls_cert[0] && !srv->auth.tls_key[0])
        return SW_OK;
    if (!srv->auth.tls_cert[0] || !srv->auth.tls_key[0]) {
        SW_LOGE("http", "HTTPS needs both tls_cert and tls_key");
        return SW_ERR_INVALID_ARGUMENT;
    }
    if (!sw_http_tls_supported()) {
        SW_LOGE("http", "tls_cert is set but this libmicrohttpd has no TLS support (see `sunwire features`)");
        return SW_ERR_INVALID_ARGUMENT;
    }
    size_t n = 0;
    const char *paths[2] = { srv->auth.tls_cert, srv->auth.tls_key };
    char **dst[2] = { &srv->tls_cert_pem, &srv->tls_key_pem };
    for (int i = 0; i < 2; i++) {
        sw_err e = sw_file_read_all(paths[i], 1024 * 1024, dst[i], &n);
        if (e != SW_OK) {
            SW_LOGE("http", "cannot read %s %s: %s", i ? "tls_key" : "tls_cert", paths[i], strerror(errno));
            return SW_ERR_OPEN;
        }
    }
    srv->tls = true;
    return SW_OK;
}

static void free_tls(sw_http_server *srv)
{
    if (srv->tls_key_pem) {
        memset(srv->tls_key_pem, 0, strlen(srv->tls_key_pem));
        free(srv->tls_key_pem);
    }
    free(srv->tls_cert_pem);
    srv->tls_key_pem = srv->tls_cert_pem = NULL;
}

sw_err sw_http_server_start(sw_loop *loop, const char *bind_addr, uint16_t port, const sw_http_auth *auth,
                            sw_http_server **out, uint16_t *port_out)
{
    if (!loop || !out)
        return SW_ERR_INVALID_ARGUMENT;
    *out = NULL;
    int lfd = -1;
    uint16_t bound = 0;
    sw_err err = sw_tcp_listen(bind_addr, port, 128, &lfd, &bound);
    if (err != SW_OK)
        return err;
    sw_fd_set_nonblocking(lfd, 1);

    sw_http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        close(lfd);
        return SW_ERR_NO_MEMORY;
    }
    srv->loop = loop;
    srv->epoll_fd = -1;
    srv->listen_fd = lfd;
    if ((err = apply_auth(srv, auth, bind_addr)) != SW_OK) {
        free_tls(srv);
        close(lfd);
        free(srv);
        return err;
    }
    srv->door_fd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->door_fd < 0) {
        free_tls(srv);
        close(lfd);
        free(srv);
        return SW_ERR_IO;
    }
    sw_http_limits_defaults(&srv->limits);
    /* MHD's own limit only backs ours up (closing connections still count for MHD until its next run). */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    if (srv->tls)
        srv->mhd = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, srv, MHD_OPTION_HTTPS_MEM_CERT,
                                    srv->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, srv->tls_key_pem,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(2048 + 2 * ACCEPT_BATCH),
                                    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_NOTIFY_COMPLETED,
                                    on_completed, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
                                    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    else
        srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
                                    (unsigned)(2048 + 2 * ACCEPT_BATCH), MHD_OPTION_NOTIFY_CONNECTION, on_connection,
                                    srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_URI_LOG_CALLBACK,
                                    on_uri, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!srv->mhd && srv->tls)
        SW_LOGE("http", "HTTPS could not start: the certificate %s or the key %s is not usable (PEM expected)",
                srv->auth.tls_cert, srv->auth.tls_key);
    const union MHD_DaemonInfo *info = srv->mhd ? MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    err = !srv->mhd ? (srv->tls ? SW_ERR_INVALID_ARGUMENT : SW_ERR_BIND)
                    : !info || info->epoll_fd < 0 ? SW_ERR_UNSUPPORTED : SW_OK;
    if (err == SW_OK) {
        srv->epoll_fd = info->epoll_fd;
        err = sw_loop_add_fd(loop, srv->epoll_fd, SW_LOOP_READ, on_epoll_ready, srv);
    }
    if (err == SW_OK && (err = sw_loop_add_fd(loop, srv->door_fd, SW_LOOP_READ, on_door, srv)) != SW_OK)
        sw_loop_del_fd(loop, srv->epoll_fd);
    if (err == SW_OK && (err = sw_loop_add_fd(loop, lfd, SW_LOOP_READ, on_listen, srv)) != SW_OK) {
        sw_loop_del_fd(loop, srv->epoll_fd);
        sw_loop_del_fd(loop, srv->door_fd);
    }
    if (err != SW_OK) {
        if (srv->mhd)
            MHD_stop_daemon(srv->mhd);
        free_tls(srv);
        close(srv->door_fd);
        close(lfd);
        free(srv);
        return err;
    }
    srv->keepalive_timer = sw_loop_add_timer(loop, SSE_KEEPALIVE_MS, on_keepalive, srv);
    schedule_mhd(srv);
    if (port_out)
        *port_out = bound;
    *out = srv;
    return SW_OK;
}

void sw_http_server_stop(sw_http_server *srv)
{
    if (!srv)
        return;
    srv->stopping = true;
    sw_loop_del_fd(srv->loop, srv->listen_fd);
    close(srv->listen_fd);
    sw_loop_del_fd(srv->loop, srv->epoll_fd);
    sw_loop_del_fd(srv->loop, srv->door_fd);
    for (struct conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->at_door)
            door_close(srv, c);
    }
    close(srv->door_fd);
    uint64_t timers[] = { srv->mhd_timer, srv->kick_timer, srv->keepalive_timer, srv->reap_timer, srv->pause_timer };
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++)
        if (timers[i])
            sw_loop_del_timer(srv->loop, timers[i]);
    /* Let every event stream end cleanly: no connection may stay suspended across the stop. */
    for (struct sse_client *cl = srv->clients; cl; cl = cl->next) {
        cl->closing = true;
        client_resume(cl);
    }
    MHD_run(srv->mhd);
    MHD_stop_daemon(srv->mhd);
    while (srv->conns) { /* MHD reports every close; this is only a guard */
        struct conn *c = srv->conns;
        conn_unlink(srv, c);
        free(c);
    }
    free_tls(srv);
    memset(&srv->auth, 0, sizeof srv->auth);
    free(srv);
}

#else /* !SUNWIRE_HAVE_MHD */

sw_err sw_http_server_start(sw_loop *loop, const char *bind_addr, uint16_t port, const sw_http_auth *auth,
                            sw_http_server **out, uint16_t *port_out)
{
    (void)loop; (void)bind_addr; (void)port; (void)auth; (void)port_out;
    if (out)
        *out = NULL;
    return SW_ERR_UNSUPPORTED;
}

void sw_http_server_stop(sw_http_server *srv) { (void)srv; }

bool sw_http_tls_supported(void) { return false; }

sw_err sw_http_server_set_limits(sw_http_server *srv, const sw_http_limits *l)
{
    (void)srv; (void)l;
    return SW_ERR_UNSUPPORTED;
}

void sw_http_server_get_counters(const sw_http_server *srv, sw_http_counters *out)
{
    (void)srv;
    memset(out, 0, sizeof *out);
}

sw_err sw_http_route(sw_http_server *srv, const char *path, bool prefix, sw_http_handler_cb handler, void *user)
{
    (void)srv; (void)path; (void)prefix; (void)handler; (void)user;
    return SW_ERR_UNSUPPORTED;
}

sw_err sw_http_sse_route(sw_http_server *srv, const char *path)
{
    (void)srv; (void)path;
    return SW_ERR_UNSUPPORTED;
}

void sw_http_sse_send(sw_http_server *srv, const char *path, const char *event, const char *data)
{
    (void)srv; (void)path; (void)event; (void)data;
}

bool sw_web_sse_has_clients(const sw_http_server *srv, const char *path)
{
    (void)srv; (void)path;
    return false;
}

#endif
