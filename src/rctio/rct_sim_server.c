/*
 * rct_sim_server.c: the simulated inverter's TCP edge (see sunwire/rct_sim.h).
 *
 * One thread, poll() over the listening socket and every client. Each client
 * has its own receiver, so frames split across reads and several frames in one
 * read are all answered, and a broken frame only costs that frame. Replies go
 * into a per-client queue with a due time (the delay fault) and are written
 * without blocking; a client that stops reading is dropped once its queue
 * holds more than a megabyte instead of stalling everyone else.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "sunwire/net.h"
#include "sunwire/rct_sim.h"

#define QUEUE_LIMIT (1u << 20)

struct out_item {
    int64_t due_ns;
    size_t len, off;
    uint8_t *data;
};

struct conn {
    int fd;
    char peer[64];
    uint16_t peer_port;
    sw_rct_receiver *rx;
    struct out_item *q;
    size_t nq, capq, queued_bytes;
};

struct server {
    sw_rct_sim *sim;
    const sw_rct_sim_server_opts *o;
    struct conn *conns;
    size_t n;
    int64_t start_mono;
    uint8_t reply[SW_RCT_SIM_REPLY_MAX];
};

static void emit(struct server *sv, sw_rct_sim_log_kind kind, const struct conn *c, const sw_rct_frame *f,
                 const sw_rct_object *obj, const uint8_t *data, size_t len, sw_err err, const char *text)
{
    if (!sv->o->log)
        return;
    sw_rct_sim_log_event ev = { kind, c ? c->peer : "", c ? c->peer_port : 0, f, obj, data, len, err, text };
    sv->o->log(sv->o->log_user, &ev);
}

static void conn_close(struct server *sv, size_t i)
{
    struct conn *c = &sv->conns[i];
    emit(sv, SW_RCT_SIM_LOG_CLOSE, c, NULL, NULL, NULL, 0, SW_OK, NULL);
    close(c->fd);
    free(c->rx);
    for (size_t k = 0; k < c->nq; k++)
        free(c->q[k].data);
    free(c->q);
    sv->conns[i] = sv->conns[sv->n - 1];
    sv->n--;
}

static int enqueue(struct conn *c, const uint8_t *data, size_t len, int64_t due)
{
    if (c->queued_bytes + len > QUEUE_LIMIT)
        return -1;
    if (c->nq == c->capq) {
        size_t cap = c->capq ? c->capq * 2 : 8;
        struct out_item *nq = realloc(c->q, cap * sizeof *nq);
        if (!nq)
            return -1;
        c->q = nq;
        c->capq = cap;
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, data, len);
    /* Keep the queue ordered by due time so that an undelayed reply may overtake a delayed one. */
    size_t pos = c->nq;
    while (pos > 0 && c->q[pos - 1].due_ns > due && c->q[pos - 1].off == 0)
        pos--;
    memmove(&c->q[pos + 1], &c->q[pos], (c->nq - pos) * sizeof *c->q);
    c->q[pos] = (struct out_item){ due, len, 0, copy };
    c->nq++;
    c->queued_bytes += len;
    return 0;
}

/* Write what is due; -1 when the connection failed. */
static int flush(struct conn *c, int64_t now)
{
    while (c->nq && c->q[0].due_ns <= now) {
        struct out_item *it = &c->q[0];
        ssize_t w = send(c->fd, it->data + it->off, it->len - it->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        it->off += (size_t)w;
        if (it->off < it->len)
            return 0;
        c->queued_bytes -= it->len;
        free(it->data);
        memmove(&c->q[0], &c->q[1], (c->nq - 1) * sizeof *c->q);
        c->nq--;
    }
    return 0;
}

static int64_t sim_now(const struct server *sv, int64_t mono)
{
    double elapsed = (double)(mono - sv->start_mono) / 1e9;
    return sv->o->start_s + (int64_t)(elapsed * sv->o->speed);
}

static void handle_frame(struct server *sv, size_t ci, const sw_rct_frame *f, int64_t mono)
{
    struct conn *c = &sv->conns[ci];
    sw_rct_sim_reply r;
    const sw_rct_object *obj = f->kind == SW_RCT_FRAME_EXTENSION ? NULL : sw_rct_registry_find_id(f->id);
    if (obj && sw_rct_command_is_write(f->command))
        emit(sv, SW_RCT_SIM_LOG_WRITE, c, f, obj, f->payload, f->payload_len, SW_OK, NULL);
    if (sw_rct_sim_answer(sv->sim, f, sim_now(sv, mono), sv->reply, sizeof sv->reply, &r) != SW_OK || r.len == 0) {
        emit(sv, SW_RCT_SIM_LOG_IGNORED, c, f, obj, NULL, 0, r.dropped ? SW_ERR_TIMEOUT : SW_ERR_NOT_FOUND,
             r.dropped ? "reply dropped (fault)" : NULL);
        return;
    }
    if (obj && !sw_rct_command_is_write(f->command))
        emit(sv, SW_RCT_SIM_LOG_READ, c, f, obj, sv->reply, r.len, SW_OK, NULL);
    int64_t due = mono + (int64_t)r.delay_ms * 1000000LL;
    for (size_t k = 0; k < sv->n; k++) {
        if (k != ci && !sv->o->broadcast)
            continue;
        if (enqueue(&sv->conns[k], sv->reply, r.len, due) != 0)
            shutdown(sv->conns[k].fd, SHUT_RDWR); /* noticed and closed on the next poll */
    }
}

/* Read and answer; -1 when the peer is gone. */
static int on_readable(struct server *sv, size_t ci)
{
    uint8_t buf[4096];
    ssize_t r = recv(sv->conns[ci].fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0)
        return (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    if (r == 0)
        return -1;
    emit(sv, SW_RCT_SIM_LOG_BYTES, &sv->conns[ci], NULL, NULL, buf, (size_t)r, SW_OK, NULL);
    int64_t mono = sw_now_monotonic_ns();
    size_t off = 0;
    while (off < (size_t)r) {
        sw_rct_rx_event ev;
        size_t n = sw_rct_receiver_push(sv->conns[ci].rx, buf + off, (size_t)r - off, &ev);
        off += n;
        if (ev.kind == SW_RCT_RX_FRAME)
            handle_frame(sv, ci, &ev.frame, mono);
        else if (ev.kind == SW_RCT_RX_ERROR)
            emit(sv, SW_RCT_SIM_LOG_BAD_FRAME, &sv->conns[ci], &ev.frame, NULL, NULL, 0, ev.error, NULL);
        else
            break;
    }
    return 0;
}

static void on_accept(struct server *sv, int lfd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
    if (fd < 0)
        return;
    size_t max = sv->o->max_clients ? sv->o->max_clients : 64;
    struct conn c;
    memset(&c, 0, sizeof c);
    c.fd = fd;
    c.rx = malloc(sizeof *c.rx);
    struct conn *nc = sv->n < max && c.rx ? realloc(sv->conns, (sv->n + 1) * sizeof *nc) : NULL;
    if (!nc) {
        free(c.rx);
        close(fd);
        return;
    }
    sv->conns = nc;
    sw_fd_set_nonblocking(fd, 1);
    sw_rct_receiver_init(c.rx);
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        c.peer_port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        c.peer_port = ntohs(a->sin6_port);
    }
    snprintf(c.peer, sizeof c.peer, "%s:%u", ip, (unsigned)c.peer_port);
    sv->conns[sv->n++] = c;
    emit(sv, SW_RCT_SIM_LOG_ACCEPT, &sv->conns[sv->n - 1], NULL, NULL, NULL, 0, SW_OK, NULL);
}

sw_err sw_rct_sim_serve(sw_rct_sim *s, const sw_rct_sim_server_opts *o)
{
    int lfd;
    uint16_t port = 0;
    sw_err e = sw_tcp_listen(o->host, o->port, 16, &lfd, &port);
    if (e != SW_OK)
        return e;
    sw_fd_set_nonblocking(lfd, 1);
    struct server *sv = calloc(1, sizeof *sv);
    if (!sv) {
        close(lfd);
        return SW_ERR_NO_MEMORY;
    }
    sv->sim = s;
    sv->o = o;
    sv->start_mono = sw_now_monotonic_ns();
    char where[300];
    snprintf(where, sizeof where, "%s:%u", o->host ? o->host : "127.0.0.1", (unsigned)port);
    emit(sv, SW_RCT_SIM_LOG_LISTEN, NULL, NULL, NULL, NULL, 0, SW_OK, where);
    if (o->ready)
        o->ready(o->ready_user, port);

    struct pollfd *pfds = NULL;
    while (!(o->stop && *o->stop)) {
        int64_t now = sw_now_monotonic_ns();
        int timeout = 200; /* also how quickly a stop request is noticed */
        struct pollfd *np = realloc(pfds, (sv->n + 1) * sizeof *np);
        if (!np) {
            e = SW_ERR_NO_MEMORY;
            break;
        }
        pfds = np;
        pfds[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        for (size_t i = 0; i < sv->n; i++) {
            struct conn *c = &sv->conns[i];
            pfds[i + 1] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
            if (c->nq) {
                int64_t wait = (c->q[0].due_ns - now) / 1000000LL;
                if (wait <= 0) {
                    pfds[i + 1].events |= POLLOUT;
                } else if (wait < timeout) {
                    timeout = (int)wait + 1;
                }
            }
        }
        size_t polled = sv->n;
        int rc = poll(pfds, polled + 1, timeout);
        if (rc < 0 && errno != EINTR) {
            e = SW_ERR_IO;
            break;
        }
        now = sw_now_monotonic_ns();
        /* Walk backwards so that closing (swap-remove) does not skip anyone. */
        for (size_t i = polled; i-- > 0;) {
            if (i >= sv->n)
                continue;
            short re = rc > 0 ? pfds[i + 1].revents : 0;
            int dead = 0;
            if (re & (POLLIN | POLLHUP | POLLERR))
                dead = on_readable(sv, i) != 0;
            if (!dead)
                dead = flush(&sv->conns[i], sw_now_monotonic_ns()) != 0;
            if (dead)
                conn_close(sv, i);
        }
        if (rc > 0 && (pfds[0].revents & POLLIN))
            on_accept(sv, lfd);
    }
    while (sv->n)
        conn_close(sv, sv->n - 1);
    free(sv->conns);
    free(pfds);
    free(sv);
    close(lfd);
    return e;
}
