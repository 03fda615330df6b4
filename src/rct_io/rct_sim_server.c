/*
 * rct_sim_server.c: the simulated inverter's TCP edge (see rct_io/rct_sim.h),
 * served from the event loop.
 *
 * The server only moves bytes: sw_rct_sim_answer does the protocol. Each
 * client has its own receiver, so frames split across reads and several
 * frames in one read are all answered, and a broken frame only costs that
 * frame. Replies go into a per-client queue with a due time (the delay fault)
 * and are written without blocking; one loop timer wakes the server for the
 * next delayed reply, and a client whose socket is full is watched for
 * writing. A client that stops reading is dropped once its queue holds more
 * than a megabyte instead of stalling everyone else. The same server runs
 * `rct simulator` (on a loop of its own, sw_rct_sim_serve) and the demo (on
 * the demo's loop, with the demo's clock).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "sunwire/core.h"
#include "io/net.h"
#include "rct_io/rct_sim.h"

#define QUEUE_LIMIT (1u << 20)

struct out_item {
    int64_t due_ns;
    size_t len, off;
    uint8_t *data;
    uint64_t seq; /* which answer (interrupt mode finds the one being prepared by it) */
};

struct conn {
    int fd;
    bool dead;    /* closed at the end of the current callback */
    bool writing; /* watched for SW_LOOP_WRITE */
    char peer[64];
    uint16_t peer_port;
    sw_rct_receiver *rx;
    struct out_item *q;
    size_t nq, capq, queued_bytes;
};

struct sw_rct_sim_server {
    sw_rct_sim *sim;
    sw_rct_sim_server_config o;
    sw_loop *loop;
    int lfd;
    uint16_t port;
    struct conn *conns;
    size_t n;
    int64_t start_mono;
    uint64_t timer;
    int64_t timer_due_ns;
    uint8_t reply[SW_RCT_SIM_REPLY_MAX];
    /* interrupt mode: the answer being prepared */
    uint64_t next_seq, busy_seq;
    int busy_fd;
    int64_t busy_start_ns, busy_until_ns;
    uint8_t body[SW_RCT_RECEIVER_BODY_MAX];
};

static void emit(sw_rct_sim_server *sv, sw_rct_sim_log_kind kind, const struct conn *c, const sw_rct_frame *f,
                 const sw_rct_object *obj, const uint8_t *data, size_t len, sw_err err, const char *text)
{
    if (!sv->o.log)
        return;
    sw_rct_sim_log_event ev = { kind, c ? c->peer : "", c ? c->peer_port : 0, f, obj, data, len, err, text };
    sv->o.log(sv, &ev, sv->o.log_user);
}

static void conn_close(sw_rct_sim_server *sv, size_t i)
{
    struct conn *c = &sv->conns[i];
    emit(sv, SW_RCT_SIM_LOG_CLOSE, c, NULL, NULL, NULL, 0, SW_OK, NULL);
    sw_loop_del_fd(sv->loop, c->fd);
    close(c->fd);
    free(c->rx);
    for (size_t k = 0; k < c->nq; k++)
        free(c->q[k].data);
    free(c->q);
    sv->conns[i] = sv->conns[sv->n - 1];
    sv->n--;
}

/* Close the connections marked dead (never in the middle of walking them). */
static void reap(sw_rct_sim_server *sv)
{
    for (size_t i = sv->n; i-- > 0;)
        if (sv->conns[i].dead)
            conn_close(sv, i);
}

/* Queue data (now the queue's, freed on failure too). */
static int enqueue_owned(struct conn *c, uint8_t *data, size_t len, int64_t due, uint64_t seq)
{
    if (c->queued_bytes + len > QUEUE_LIMIT) {
        free(data);
        return -1;
    }
    if (c->nq == c->capq) {
        size_t cap = c->capq ? c->capq * 2 : 8;
        struct out_item *nq = realloc(c->q, cap * sizeof *nq);
        if (!nq) {
            free(data);
            return -1;
        }
        c->q = nq;
        c->capq = cap;
    }
    /* Keep the queue ordered by due time so that an undelayed reply may overtake a delayed one. */
    size_t pos = c->nq;
    while (pos > 0 && c->q[pos - 1].due_ns > due && c->q[pos - 1].off == 0)
        pos--;
    memmove(&c->q[pos + 1], &c->q[pos], (c->nq - pos) * sizeof *c->q);
    c->q[pos] = (struct out_item){ due, len, 0, data, seq };
    c->nq++;
    c->queued_bytes += len;
    return 0;
}

static int enqueue(struct conn *c, const uint8_t *data, size_t len, int64_t due, uint64_t seq)
{
    uint8_t *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, data, len);
    return enqueue_owned(c, copy, len, due, seq);
}

/* Write what is due; a full socket is watched for writing, a failed one marked dead. */
static void flush(sw_rct_sim_server *sv, struct conn *c, int64_t now)
{
    bool blocked = false;
    while (!c->dead && c->nq && c->q[0].due_ns <= now) {
        struct out_item *it = &c->q[0];
        size_t w;
        if (sw_send_nowait(c->fd, it->data + it->off, it->len - it->off, &w, &blocked) != SW_OK) {
            c->dead = true;
            break;
        }
        it->off += w;
        if (blocked)
            break;
        c->queued_bytes -= it->len;
        free(it->data);
        memmove(&c->q[0], &c->q[1], (c->nq - 1) * sizeof *c->q);
        c->nq--;
    }
    if (!c->dead && blocked != c->writing) {
        c->writing = blocked;
        sw_loop_set_fd_events(sv->loop, c->fd, SW_LOOP_READ | (blocked ? SW_LOOP_WRITE : 0));
    }
}

static int64_t on_timer(sw_loop *loop, uint64_t id, void *user);

/* One timer for the earliest reply that is not due yet. */
static void schedule(sw_rct_sim_server *sv, int64_t now)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < sv->n; i++) {
        const struct conn *c = &sv->conns[i];
        for (size_t k = 0; k < c->nq; k++)
            if (c->q[k].due_ns > now && c->q[k].due_ns < next)
                next = c->q[k].due_ns;
    }
    if (sv->timer && sv->timer_due_ns == next)
        return;
    if (sv->timer)
        sw_loop_del_timer(sv->loop, sv->timer);
    sv->timer = 0;
    if (next == INT64_MAX)
        return;
    /* Round up: a timer that fires early would find nothing due. */
    sv->timer = sw_loop_add_timer(sv->loop, (next - now + 999999) / 1000000LL, on_timer, sv);
    sv->timer_due_ns = next;
}

static void flush_all(sw_rct_sim_server *sv)
{
    int64_t now = sw_now_monotonic_ns();
    for (size_t i = 0; i < sv->n; i++)
        flush(sv, &sv->conns[i], now);
    reap(sv);
    schedule(sv, now);
}

static int64_t on_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_rct_sim_server *sv = user;
    sv->timer = 0;
    flush_all(sv);
    return -1;
}

static int64_t sim_now(const sw_rct_sim_server *sv, int64_t mono)
{
    if (sv->o.clock)
        return sv->o.clock(sv->o.clock_user);
    double elapsed = (double)(mono - sv->start_mono) / 1e9;
    return sv->o.start_s + (int64_t)(elapsed * sv->o.speed);
}

/*
 * Cut the last frame of an answer (the one for the object asked for) at
 * `share` of its payload, strictly short of the end, with a valid CRC, as
 * the device does when interrupted. *len shrinks; false when nothing could be cut.
 */
static bool cut_answer(sw_rct_sim_server *sv, uint8_t *data, size_t *len, double share)
{
    size_t off = 0, last = 0;
    sw_rct_frame f;
    bool found = false;
    for (;;) {
        ptrdiff_t used = sw_rct_frame_parse(data + off, *len - off, &f, sv->body, sizeof sv->body);
        if (used <= 0)
            break;
        last = off;
        found = true;
        off += (size_t)used;
    }
    if (!found || sw_rct_frame_parse(data + last, *len - last, &f, sv->body, sizeof sv->body) <= 0 ||
        f.payload_len == 0)
        return false;
    size_t keep = (size_t)((double)f.payload_len * share);
    if (keep >= f.payload_len)
        keep = f.payload_len - 1;
    /* Rebuilding needs the payload apart from the buffer it is written into. */
    uint8_t *copy = malloc(f.payload_len);
    if (!copy)
        return false;
    memcpy(copy, f.payload, f.payload_len);
    size_t n;
    sw_err e = sw_rct_frame_build(f.command, f.id, f.address, copy, keep, data + last, *len - last, &n);
    free(copy);
    if (e != SW_OK)
        return false;
    *len = last + n;
    return true;
}

/*
 * A request came while an answer was being prepared: that answer goes out
 * now, cut short, and to the connection that interrupted it (every copy
 * in broadcast mode is cut too).
 */
static void interrupt_answer(sw_rct_sim_server *sv, size_t ci, int64_t mono)
{
    uint64_t seq = sv->busy_seq;
    sv->busy_seq = 0;
    if (!seq || mono >= sv->busy_until_ns)
        return;
    double share = (double)(mono - sv->busy_start_ns) / (double)(sv->busy_until_ns - sv->busy_start_ns);
    bool counted = false;
    for (size_t k = 0; k < sv->n; k++) {
        struct conn *c = &sv->conns[k];
        for (size_t i = 0; i < c->nq; i++) {
            struct out_item *it = &c->q[i];
            if (it->seq != seq || it->off != 0)
                continue;
            size_t len = it->len;
            cut_answer(sv, it->data, &len, share);
            c->queued_bytes -= it->len - len;
            it->len = len;
            it->due_ns = mono;
            if (!counted) {
                sv->sim->counters.interrupted++;
                counted = true;
            }
            if (c->fd != sv->busy_fd || k == ci)
                continue;
            /* The device answers the connection that spoke last. */
            struct out_item moved = *it;
            memmove(&c->q[i], &c->q[i + 1], (c->nq - i - 1) * sizeof *c->q);
            c->nq--;
            c->queued_bytes -= moved.len;
            if (!sv->conns[ci].dead && enqueue_owned(&sv->conns[ci], moved.data, moved.len, mono, 0) != 0)
                sv->conns[ci].dead = true;
            else if (sv->conns[ci].dead)
                free(moved.data);
            sv->sim->counters.misrouted++;
            i--;
        }
        /* Keep the queue in due order: the cut answer is due now. */
        for (size_t i = 1; i < c->nq; i++)
            for (size_t j = i; j > 0 && c->q[j].off == 0 && c->q[j - 1].off == 0 && c->q[j - 1].due_ns > c->q[j].due_ns;
                 j--) {
                struct out_item t = c->q[j];
                c->q[j] = c->q[j - 1];
                c->q[j - 1] = t;
            }
    }
    for (size_t k = 0; k < sv->n; k++)
        flush(sv, &sv->conns[k], mono);
}

static void handle_frame(sw_rct_sim_server *sv, size_t ci, const sw_rct_frame *f, int64_t mono)
{
    if (sv->o.interrupt_concurrent)
        interrupt_answer(sv, ci, mono);
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
    uint64_t seq = 0;
    if (sv->o.interrupt_concurrent) {
        int64_t prep = (int64_t)(sv->o.answer_ms > 0 ? sv->o.answer_ms : 30) * 1000000LL;
        seq = ++sv->next_seq;
        sv->busy_seq = seq;
        sv->busy_fd = c->fd;
        sv->busy_start_ns = mono;
        sv->busy_until_ns = mono + prep;
        due += prep;
    }
    for (size_t k = 0; k < sv->n; k++) {
        if (k != ci && !sv->o.broadcast)
            continue;
        if (sv->conns[k].dead)
            continue;
        if (enqueue(&sv->conns[k], sv->reply, r.len, due, seq) != 0)
            sv->conns[k].dead = true;
        else
            flush(sv, &sv->conns[k], mono);
    }
}

/* Read and answer; false when the peer is gone. */
static bool on_readable(sw_rct_sim_server *sv, size_t ci)
{
    uint8_t buf[4096];
    ssize_t r = recv(sv->conns[ci].fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK;
    if (r == 0)
        return false;
    emit(sv, SW_RCT_SIM_LOG_BYTES, &sv->conns[ci], NULL, NULL, buf, (size_t)r, SW_OK, NULL);
    int64_t mono = sw_now_monotonic_ns();
    size_t off = 0;
    while (off < (size_t)r && !sv->conns[ci].dead) {
        sw_rct_receiver_event ev;
        size_t n = sw_rct_receiver_push(sv->conns[ci].rx, buf + off, (size_t)r - off, &ev);
        off += n;
        if (ev.kind == SW_RCT_RECEIVER_FRAME)
            handle_frame(sv, ci, &ev.frame, mono);
        else if (ev.kind == SW_RCT_RECEIVER_ERROR)
            emit(sv, SW_RCT_SIM_LOG_BAD_FRAME, &sv->conns[ci], &ev.frame, NULL, NULL, 0, ev.error, NULL);
        else
            break;
    }
    return true;
}

static void on_conn(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop;
    sw_rct_sim_server *sv = user;
    size_t i;
    for (i = 0; i < sv->n && sv->conns[i].fd != fd; i++) {
    }
    if (i == sv->n)
        return;
    if ((events & SW_LOOP_READ) && !on_readable(sv, i))
        sv->conns[i].dead = true;
    if (events & SW_LOOP_WRITE)
        flush(sv, &sv->conns[i], sw_now_monotonic_ns());
    reap(sv);
    schedule(sv, sw_now_monotonic_ns());
}

static void on_accept(sw_loop *loop, int lfd, int events, void *user)
{
    (void)events;
    sw_rct_sim_server *sv = user;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
    if (fd < 0)
        return;
    size_t max = sv->o.max_clients ? sv->o.max_clients : 64;
    struct conn c;
    memset(&c, 0, sizeof c);
    c.fd = fd;
    c.rx = malloc(sizeof *c.rx);
    struct conn *nc = sv->n < max && c.rx ? realloc(sv->conns, (sv->n + 1) * sizeof *nc) : NULL;
    if (nc)
        sv->conns = nc;
    /* The loop's capacity is fixed: a client it cannot watch is refused like one too many. */
    if (!nc || sw_loop_add_fd(loop, fd, SW_LOOP_READ, on_conn, sv) != SW_OK) {
        free(c.rx);
        close(fd);
        return;
    }
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

sw_err sw_rct_sim_server_start(sw_rct_sim *s, sw_loop *loop, const sw_rct_sim_server_config *o,
                               sw_rct_sim_server **out)
{
    *out = NULL;
    sw_rct_sim_server *sv = calloc(1, sizeof *sv);
    if (!sv)
        return SW_ERR_NO_MEMORY;
    sv->sim = s;
    sv->o = *o;
    sv->loop = loop;
    sw_err e = sw_tcp_listen(o->host, o->port, 16, &sv->lfd, &sv->port);
    if (e != SW_OK) {
        free(sv);
        return e;
    }
    sw_fd_set_nonblocking(sv->lfd, 1);
    e = sw_loop_add_fd(loop, sv->lfd, SW_LOOP_READ, on_accept, sv);
    if (e != SW_OK) {
        close(sv->lfd);
        free(sv);
        return e;
    }
    sv->start_mono = sw_now_monotonic_ns();
    char where[300];
    snprintf(where, sizeof where, "%s:%u", o->host ? o->host : "127.0.0.1", (unsigned)sv->port);
    emit(sv, SW_RCT_SIM_LOG_LISTEN, NULL, NULL, NULL, NULL, 0, SW_OK, where);
    *out = sv;
    return SW_OK;
}

uint16_t sw_rct_sim_server_port(const sw_rct_sim_server *sv) { return sv->port; }

void sw_rct_sim_server_stop(sw_rct_sim_server *sv)
{
    if (!sv)
        return;
    while (sv->n)
        conn_close(sv, sv->n - 1);
    if (sv->timer)
        sw_loop_del_timer(sv->loop, sv->timer);
    sw_loop_del_fd(sv->loop, sv->lfd);
    close(sv->lfd);
    free(sv->conns);
    free(sv);
}

struct serve_ctx {
    sw_loop *loop;
    volatile sig_atomic_t *stop;
};

static int64_t check_stop(sw_loop *loop, uint64_t id, void *user)
{
    (void)id;
    struct serve_ctx *ctx = user;
    if (ctx->stop && *ctx->stop) {
        sw_loop_stop(loop);
        return -1;
    }
    return 200; /* also how quickly a stop request is noticed */
}

sw_err sw_rct_sim_serve(sw_rct_sim *s, const sw_rct_sim_server_config *o)
{
    sw_loop *loop = sw_loop_new();
    if (!loop)
        return SW_ERR_NO_MEMORY;
    sw_rct_sim_server *sv;
    sw_err e = sw_rct_sim_server_start(s, loop, o, &sv);
    if (e != SW_OK) {
        sw_loop_free(loop);
        return e;
    }
    if (o->ready)
        o->ready(sv, sv->port, o->ready_user);
    struct serve_ctx ctx = { loop, o->stop };
    sw_loop_add_timer(loop, 0, check_stop, &ctx);
    e = sw_loop_run(loop);
    sw_rct_sim_server_stop(sv);
    sw_loop_free(loop);
    return e;
}
