/*
 * rct_proxy.c: many RCT clients, one connection to the inverter
 * (see rct_io/rct_proxy.h), on the event loop.
 *
 * Clients' frames become jobs in one FIFO queue; identical reads join the
 * job already waiting (or on the wire) instead of adding one. The job at the
 * head runs the sans-I/O exchange against the one upstream connection:
 * send, wait for the reply the exchange accepts, retry with backoff. The
 * accepted frame is rebuilt from its parts and sent to exactly the clients
 * waiting for that job; everything else the device sends is only counted.
 * Clients are remembered by a serial number, so a client that left while its
 * job ran is simply skipped.
 */
#include "rct_io/rct_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/log.h"
#include "io/net.h"
#include "rct/proxy.h"
#include "sunwire/core.h"
#include "sunwire/rct.h"

#define LOG_TARGET "sunwire::rct-proxy"
#define MAX_JOBS 256
#define JOB_MAX_WAITERS 64
#define CLIENT_MAX_PENDING 32
#define JOB_PAYLOAD_MAX 1024
#define CLIENT_OUT_LIMIT (1u << 20)
#define WRITE_TIMEOUT_MS 500

struct job {
    sw_rct_proxy_request req;
    uint32_t id;
    size_t len;
    uint8_t payload[JOB_PAYLOAD_MAX];
    int64_t queued_ms;
    size_t n_waiters;
    uint64_t waiters[JOB_MAX_WAITERS]; /* client serial numbers */
};

struct client {
    uint64_t serial;
    int fd;
    bool dead;
    bool writing;
    bool allow_write;
    unsigned pending;
    char peer[80];  /* "127.0.0.1:50412" or the attached name */
    char addr[48];  /* address only, for the allow list */
    sw_rct_receiver *rx;
    uint8_t *out;
    size_t out_len, out_cap;
};

struct sw_rct_proxy {
    sw_rct_proxy_config cfg;
    char listen_host[256];
    char upstream_host[256];
    char name[64];
    sw_loop *loop;
    int lfd;
    uint16_t port;
    struct client **clients;
    size_t n_clients;
    uint64_t next_serial;
    /* the queue */
    struct job *jobs[MAX_JOBS];
    size_t n_jobs;
    struct job *cur;
    sw_rct_exchange ex;
    uint64_t ex_timer;
    uint64_t summary_timer;
    /* upstream */
    int up_fd;
    sw_tcp_connector *connector;
    uint64_t reconnect_timer;
    unsigned up_failures;
    sw_rct_receiver *up_rx;
    sw_rct_cache *cache;
    sw_rct_proxy_counters counters;
    uint8_t frame[SW_RCT_WIRE_MAX(SW_RCT_PAYLOAD_MAX)];
};

static void drive(sw_rct_proxy *p);

void sw_rct_proxy_config_default(sw_rct_proxy_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->upstream_port = SW_RCT_DEFAULT_PORT;
    sw_rct_exchange_config_default(&cfg->exchange);
    cfg->connect_timeout_ms = 5000;
    cfg->reconnect_delay_ms = 1000;
    cfg->reconnect_max_ms = 60000;
    cfg->queue_timeout_ms = 15000;
    cfg->cache_ms = 3000;
    cfg->max_clients = 64;
}

sw_err sw_rct_proxy_allow_write(sw_rct_proxy_config *cfg, const char *addr)
{
    unsigned char bin[sizeof(struct in6_addr)];
    char text[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, addr, bin) == 1) {
        inet_ntop(AF_INET, bin, text, sizeof text);
    } else if (inet_pton(AF_INET6, addr, bin) == 1) {
        inet_ntop(AF_INET6, bin, text, sizeof text);
        if (strncmp(text, "::ffff:", 7) == 0 && strchr(text, '.'))
            memmove(text, text + 7, strlen(text + 7) + 1);
    } else {
        return SW_ERR_INVALID_ARGUMENT;
    }
    if (cfg->n_allow_write == SW_RCT_PROXY_MAX_ALLOW)
        return SW_ERR_NO_SPACE;
    snprintf(cfg->allow_write[cfg->n_allow_write++], sizeof cfg->allow_write[0], "%s", text);
    return SW_OK;
}

sw_err sw_rct_proxy_cache_override(sw_rct_proxy_config *cfg, uint32_t id, int64_t ms)
{
    /* Appended in order: the cache takes them one after the other, so a later one for an id wins. */
    if (cfg->n_cache_overrides == SW_RCT_PROXY_MAX_CACHE_OVERRIDES)
        return SW_ERR_NO_SPACE;
    cfg->cache_overrides[cfg->n_cache_overrides].id = id;
    cfg->cache_overrides[cfg->n_cache_overrides].ms = ms;
    cfg->n_cache_overrides++;
    return SW_OK;
}

sw_err sw_rct_proxy_parse_listen(const char *text, uint16_t def_port, char *host, size_t cap, uint16_t *port)
{
    char buf[300];
    if (!text || strlen(text) >= sizeof buf)
        return SW_ERR_INVALID_ARGUMENT;
    snprintf(buf, sizeof buf, "%s", text);
    char *addr = buf;
    const char *port_text = NULL;
    if (buf[0] == '[') {
        char *end = strchr(buf, ']');
        if (!end || (end[1] && end[1] != ':'))
            return SW_ERR_INVALID_ARGUMENT;
        *end = 0;
        addr = buf + 1;
        if (end[1] == ':')
            port_text = end + 2;
    } else {
        char *colon = strrchr(buf, ':');
        if (colon && strchr(buf, ':') == colon) { /* one colon: IPv4 or empty address with a port */
            *colon = 0;
            port_text = colon + 1;
        }
    }
    if (!*addr)
        addr = "127.0.0.1";
    unsigned char bin[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
        return SW_ERR_INVALID_ARGUMENT;
    unsigned long v = def_port;
    if (port_text) {
        char *end;
        if (!*port_text)
            return SW_ERR_INVALID_ARGUMENT;
        v = strtoul(port_text, &end, 10);
        if (*end || v > 65535)
            return SW_ERR_INVALID_ARGUMENT;
    }
    if (strlen(addr) >= cap)
        return SW_ERR_NO_SPACE;
    memcpy(host, addr, strlen(addr) + 1);
    *port = (uint16_t)v;
    return SW_OK;
}

static int64_t now_ms(void) { return sw_loop_now_ms(); }

/* ---- clients ---------------------------------------------------------------------- */

static struct client *client_by_serial(sw_rct_proxy *p, uint64_t serial)
{
    for (size_t i = 0; i < p->n_clients; i++)
        if (p->clients[i]->serial == serial)
            return p->clients[i]->dead ? NULL : p->clients[i];
    return NULL;
}

static void client_flush(sw_rct_proxy *p, struct client *c)
{
    size_t off = 0;
    bool blocked = false;
    if (!c->dead && sw_send_nowait(c->fd, c->out, c->out_len, &off, &blocked) != SW_OK)
        c->dead = true;
    if (off) {
        memmove(c->out, c->out + off, c->out_len - off);
        c->out_len -= off;
    }
    if (!c->dead && blocked != c->writing) {
        c->writing = blocked;
        sw_loop_set_fd_events(p->loop, c->fd, SW_LOOP_READ | (blocked ? SW_LOOP_WRITE : 0));
    }
}

static void client_send(sw_rct_proxy *p, struct client *c, const uint8_t *data, size_t len)
{
    if (c->dead)
        return;
    if (c->out_len + len > CLIENT_OUT_LIMIT) {
        SW_LOGW(LOG_TARGET, "%s: client %s does not read its answers; closing it", p->name, c->peer);
        c->dead = true;
        return;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + len)
            cap *= 2;
        uint8_t *n = realloc(c->out, cap);
        if (!n) {
            c->dead = true;
            return;
        }
        c->out = n;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    client_flush(p, c);
}

static void client_free(sw_rct_proxy *p, size_t i)
{
    struct client *c = p->clients[i];
    SW_LOGD(LOG_TARGET, "%s: client %s left", p->name, c->peer);
    sw_loop_del_fd(p->loop, c->fd);
    close(c->fd);
    free(c->rx);
    free(c->out);
    free(c);
    p->clients[i] = p->clients[p->n_clients - 1];
    p->n_clients--;
}

static void reap(sw_rct_proxy *p)
{
    for (size_t i = p->n_clients; i-- > 0;)
        if (p->clients[i]->dead)
            client_free(p, i);
}

/* ---- the queue --------------------------------------------------------------------- */

static bool same_read(const struct job *j, const sw_rct_proxy_request *r, uint32_t id, const uint8_t *payload,
                      size_t len)
{
    if (j->req.kind != r->kind || j->id != id || j->req.plant != r->plant || j->req.address != r->address)
        return false;
    if (r->kind == SW_RCT_PROXY_READ)
        return true;
    /* Logger queries join only the same question. */
    return r->kind == SW_RCT_PROXY_QUERY && j->req.command == r->command && j->len == len &&
           (len == 0 || memcmp(j->payload, payload, len) == 0);
}

static bool add_waiter(struct job *j, struct client *c)
{
    if (j->n_waiters == JOB_MAX_WAITERS)
        return false;
    j->waiters[j->n_waiters++] = c->serial;
    c->pending++;
    return true;
}

static void release_waiters(sw_rct_proxy *p, struct job *j)
{
    for (size_t k = 0; k < j->n_waiters; k++) {
        struct client *c = client_by_serial(p, j->waiters[k]);
        if (c && c->pending)
            c->pending--;
    }
    j->n_waiters = 0;
}

static bool has_live_waiter(sw_rct_proxy *p, const struct job *j)
{
    for (size_t k = 0; k < j->n_waiters; k++)
        if (client_by_serial(p, j->waiters[k]))
            return true;
    return false;
}

/* The next job worth running: not too old, someone still waiting. */
static struct job *pop_job(sw_rct_proxy *p, int64_t now)
{
    while (p->n_jobs) {
        struct job *j = p->jobs[0];
        memmove(&p->jobs[0], &p->jobs[1], (p->n_jobs - 1) * sizeof p->jobs[0]);
        p->n_jobs--;
        bool old = now - j->queued_ms > p->cfg.queue_timeout_ms;
        if (!old && has_live_waiter(p, j))
            return j;
        if (old) {
            p->counters.dropped += j->n_waiters;
            SW_LOGD(LOG_TARGET, "%s: %s waited %lld ms in the queue; dropped", p->name, j->req.obj->name,
                    (long long)(now - j->queued_ms));
        }
        release_waiters(p, j);
        free(j);
    }
    return NULL;
}

/* ---- upstream ---------------------------------------------------------------------- */

static void upstream_close(sw_rct_proxy *p)
{
    if (p->up_fd < 0)
        return;
    sw_loop_del_fd(p->loop, p->up_fd);
    close(p->up_fd);
    p->up_fd = -1;
    sw_rct_receiver_reset(p->up_rx);
}

static void upstream_connect(sw_rct_proxy *p);

static int64_t on_reconnect_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_rct_proxy *p = user;
    p->reconnect_timer = 0;
    upstream_connect(p);
    return -1;
}

/* A frame the exchange accepted: to every client waiting for this job. */
static void deliver(sw_rct_proxy *p, const sw_rct_frame *f)
{
    struct job *j = p->cur;
    size_t n;
    if (sw_rct_frame_build(f->command, f->id, f->address, f->payload, f->payload_len, p->frame, sizeof p->frame,
                           &n) != SW_OK)
        return;
    for (size_t k = 0; k < j->n_waiters; k++) {
        struct client *c = client_by_serial(p, j->waiters[k]);
        if (!c)
            continue;
        client_send(p, c, p->frame, n);
        p->counters.answered++;
    }
    if (j->req.kind == SW_RCT_PROXY_READ && !sw_rct_command_is_long(f->command))
        sw_rct_cache_put(p->cache, f->command, j->req.plant, j->req.address, f->id, f->payload, f->payload_len,
                         now_ms());
}

static void on_upstream(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)events;
    sw_rct_proxy *p = user;
    uint8_t buf[8192];
    ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (r <= 0) {
        SW_LOGW(LOG_TARGET, "%s: the inverter %s:%u closed the connection%s%s", p->name, p->upstream_host,
                (unsigned)p->cfg.upstream_port, r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
        upstream_close(p);
        if (p->cur)
            sw_rct_exchange_failed(&p->ex, r == 0 ? SW_ERR_CLOSED : SW_ERR_IO, now_ms());
        drive(p);
        reap(p);
        return;
    }
    int64_t now = now_ms();
    size_t off = 0;
    while (off < (size_t)r) {
        sw_rct_receiver_event ev;
        off += sw_rct_receiver_push(p->up_rx, buf + off, (size_t)r - off, &ev);
        if (ev.kind != SW_RCT_RECEIVER_FRAME)
            continue;
        if (!p->cur) {
            p->counters.foreign++;
            continue;
        }
        sw_rct_reply_class cls = sw_rct_exchange_push_frame(&p->ex, &ev.frame, now);
        if (cls == SW_RCT_REPLY_ACCEPTED)
            deliver(p, &ev.frame);
        else if (cls == SW_RCT_REPLY_FOREIGN)
            p->counters.foreign++;
        else if (cls == SW_RCT_REPLY_STALE)
            p->counters.stale++;
        else if (cls == SW_RCT_REPLY_CUT_SHORT)
            p->counters.cut_short++;
    }
    drive(p);
    reap(p);
}

static void on_connected(sw_tcp_connector *c, sw_err result, int fd, void *user)
{
    (void)c;
    sw_rct_proxy *p = user;
    p->connector = NULL;
    if (result == SW_OK && sw_loop_add_fd(p->loop, fd, SW_LOOP_READ, on_upstream, p) != SW_OK) {
        close(fd);
        result = SW_ERR_NO_SPACE;
    }
    if (result != SW_OK) {
        p->up_failures++;
        int64_t delay = p->cfg.reconnect_delay_ms;
        for (unsigned i = 1; i < p->up_failures && delay < p->cfg.reconnect_max_ms; i++)
            delay *= 2;
        if (delay > p->cfg.reconnect_max_ms)
            delay = p->cfg.reconnect_max_ms;
        /* The first failure is a warning; the retries after it only debug lines, not a flood. */
        sw_log(p->up_failures == 1 ? SW_LOG_WARN : SW_LOG_DEBUG, LOG_TARGET,
               "%s: cannot connect to the inverter %s:%u: %s; next try in %lld ms", p->name, p->upstream_host,
               (unsigned)p->cfg.upstream_port, sw_err_message(result), (long long)delay);
        p->reconnect_timer = sw_loop_add_timer(p->loop, delay, on_reconnect_timer, p);
        if (p->cur)
            sw_rct_exchange_failed(&p->ex, result, now_ms());
        drive(p);
        reap(p);
        return;
    }
    p->up_fd = fd;
    p->up_failures = 0;
    p->counters.upstream_connections++;
    SW_LOGI(LOG_TARGET, "%s: connected to the inverter %s:%u (upstream connection %llu)", p->name,
            p->upstream_host, (unsigned)p->cfg.upstream_port, (unsigned long long)p->counters.upstream_connections);
    drive(p);
    reap(p);
}

static void upstream_connect(sw_rct_proxy *p)
{
    if (p->up_fd >= 0 || p->connector || p->reconnect_timer)
        return;
    sw_err e = sw_tcp_connector_start(p->loop, p->upstream_host, p->cfg.upstream_port, p->cfg.connect_timeout_ms,
                                      NULL, on_connected, p, &p->connector);
    if (e != SW_OK) {
        p->connector = NULL;
        p->reconnect_timer = sw_loop_add_timer(p->loop, p->cfg.reconnect_delay_ms, on_reconnect_timer, p);
    }
}

/* ---- running the exchange ------------------------------------------------------------ */

static int64_t on_ex_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_rct_proxy *p = user;
    p->ex_timer = 0;
    drive(p);
    reap(p);
    return -1;
}

static void arm(sw_rct_proxy *p, int64_t until, int64_t now)
{
    if (p->ex_timer)
        sw_loop_del_timer(p->loop, p->ex_timer);
    p->ex_timer = sw_loop_add_timer(p->loop, until > now ? until - now : 0, on_ex_timer, p);
}

static void start_job(sw_rct_proxy *p, struct job *j)
{
    sw_rct_exchange_config xc = p->cfg.exchange;
    xc.plant = j->req.plant;
    xc.address = j->req.address;
    if (j->req.kind == SW_RCT_PROXY_WRITE) {
        /* A write is sent once: devices may or may not confirm it, and repeating it blindly is worse. */
        xc.retries = 0;
        if (xc.timeout_ms > WRITE_TIMEOUT_MS)
            xc.timeout_ms = WRITE_TIMEOUT_MS;
        sw_rct_cache_invalidate(p->cache, j->id);
    }
    sw_rct_exchange_init(&p->ex, &xc);
    sw_rct_exchange_start(&p->ex, j->req.command, j->id, j->req.expect, j->req.has_query ? &j->req.query : NULL);
    p->cur = j;
}

static void finish_job(sw_rct_proxy *p)
{
    struct job *j = p->cur;
    sw_err e = sw_rct_exchange_result(&p->ex);
    if (e != SW_OK) {
        p->counters.upstream_failed++;
        if (j->req.kind == SW_RCT_PROXY_WRITE)
            SW_LOGI(LOG_TARGET, "%s: the write of %s was not confirmed (%s); nothing is sent back", p->name,
                    j->req.obj->name, sw_err_message(e));
        else
            SW_LOGD(LOG_TARGET, "%s: no usable answer for %s: %s; its %zu client(s) get nothing", p->name,
                    j->req.obj->name, sw_err_message(e), j->n_waiters);
    }
    if (j->req.kind == SW_RCT_PROXY_WRITE)
        sw_rct_cache_invalidate(p->cache, j->id); /* also what a read fetched meanwhile */
    release_waiters(p, j);
    free(j);
    p->cur = NULL;
}

static void drive(sw_rct_proxy *p)
{
    for (;;) {
        int64_t now = now_ms();
        if (!p->cur) {
            struct job *j = pop_job(p, now);
            if (!j) {
                if (p->ex_timer)
                    sw_loop_del_timer(p->loop, p->ex_timer);
                p->ex_timer = 0;
                return;
            }
            start_job(p, j);
        }
        int64_t until = 0;
        switch (sw_rct_exchange_next(&p->ex, now, &until)) {
        case SW_RCT_STEP_SEND: {
            if (p->up_fd < 0) {
                upstream_connect(p); /* drive runs again once connected or failed */
                return;
            }
            struct job *j = p->cur;
            size_t n;
            if (sw_rct_frame_build(j->req.command, j->id, j->req.address, j->payload, j->len, p->frame,
                                   sizeof p->frame, &n) != SW_OK) {
                sw_rct_exchange_failed(&p->ex, SW_ERR_INVALID_ARGUMENT, now);
                continue;
            }
            ssize_t w = send(p->up_fd, p->frame, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w != (ssize_t)n) {
                /* A few bytes into an idle socket: a short write means the connection is broken. */
                SW_LOGW(LOG_TARGET, "%s: sending to the inverter failed: %s", p->name,
                        w < 0 ? strerror(errno) : "short write");
                upstream_close(p);
                sw_rct_exchange_failed(&p->ex, SW_ERR_IO, now);
                continue;
            }
            sw_rct_exchange_sent(&p->ex, now);
            p->counters.upstream_requests++;
            continue;
        }
        case SW_RCT_STEP_RECEIVE:
        case SW_RCT_STEP_PAUSE:
            arm(p, until, now);
            return;
        case SW_RCT_STEP_DONE:
            finish_job(p);
            continue;
        }
    }
}

/* ---- client requests ---------------------------------------------------------------- */

static bool allowed_to_write(const sw_rct_proxy *p, const struct client *c)
{
    if (c->allow_write)
        return true;
    for (size_t i = 0; i < p->cfg.n_allow_write; i++)
        if (strcmp(p->cfg.allow_write[i], c->addr) == 0)
            return true;
    return false;
}

static void answer_from_cache(sw_rct_proxy *p, struct client *c, const sw_rct_cache_entry *e)
{
    size_t n;
    if (sw_rct_frame_build(e->command, e->id, e->address, e->payload, e->len, p->frame, sizeof p->frame, &n) !=
        SW_OK)
        return;
    client_send(p, c, p->frame, n);
    p->counters.answered++;
    p->counters.cache_hits++;
}

static void on_client_frame(sw_rct_proxy *p, struct client *c, const sw_rct_frame *f)
{
    p->counters.client_requests++;
    sw_rct_proxy_request r;
    sw_rct_proxy_classify(f, &r);
    if (r.kind == SW_RCT_PROXY_IGNORE) {
        p->counters.ignored++;
        SW_LOGD(LOG_TARGET, "%s: not forwarded from %s: %s 0x%08X (%s)", p->name, c->peer,
                sw_rct_command_name(f->command) ? sw_rct_command_name(f->command) : "?", (unsigned)f->id,
                r.why == SW_ERR_NOT_FOUND ? "unknown object id, its answer could not be checked"
                                          : sw_err_message(r.why));
        return;
    }
    if (r.kind == SW_RCT_PROXY_WRITE && !allowed_to_write(p, c)) {
        p->counters.refused_writes++;
        SW_LOGW(LOG_TARGET,
                "%s: refused a write of %s (0x%08X) from %s: writes are off for this client; allow them with "
                "--allow-write %s (or proxy_allow_write = %s in its [rct] section)",
                p->name, r.obj->name, (unsigned)f->id, c->peer, c->addr, c->addr);
        return;
    }
    if (c->pending >= CLIENT_MAX_PENDING || f->payload_len > JOB_PAYLOAD_MAX) {
        p->counters.dropped++;
        return;
    }
    int64_t now = now_ms();
    if (r.kind == SW_RCT_PROXY_READ) {
        const sw_rct_cache_entry *e = sw_rct_cache_get(p->cache, r.plant, r.address, f->id, now);
        if (e) {
            answer_from_cache(p, c, e);
            return;
        }
    }
    if (r.kind != SW_RCT_PROXY_WRITE) {
        /* Join an identical request on the wire or in the queue. */
        if (p->cur && sw_rct_exchange_result(&p->ex) == SW_ERR_NOT_FOUND &&
            same_read(p->cur, &r, f->id, f->payload, f->payload_len) && add_waiter(p->cur, c)) {
            p->counters.coalesced++;
            return;
        }
        for (size_t i = 0; i < p->n_jobs; i++)
            if (same_read(p->jobs[i], &r, f->id, f->payload, f->payload_len) && add_waiter(p->jobs[i], c)) {
                p->counters.coalesced++;
                return;
            }
    }
    if (p->n_jobs == MAX_JOBS) {
        p->counters.dropped++;
        SW_LOGW(LOG_TARGET, "%s: queue full (%d requests); a request from %s is dropped", p->name, MAX_JOBS, c->peer);
        return;
    }
    struct job *j = malloc(sizeof *j);
    if (!j) {
        p->counters.dropped++;
        return;
    }
    memset(j, 0, sizeof *j);
    j->req = r;
    j->id = f->id;
    j->len = f->payload_len;
    if (f->payload_len)
        memcpy(j->payload, f->payload, f->payload_len);
    j->queued_ms = now;
    add_waiter(j, c);
    if (r.kind == SW_RCT_PROXY_WRITE) {
        p->counters.writes++;
        SW_LOGI(LOG_TARGET, "%s: write of %s (0x%08X) from %s passed on", p->name, r.obj->name, (unsigned)f->id,
                c->peer);
    }
    p->jobs[p->n_jobs++] = j;
}

static void on_client(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop;
    sw_rct_proxy *p = user;
    struct client *c = NULL;
    for (size_t i = 0; i < p->n_clients && !c; i++)
        if (p->clients[i]->fd == fd)
            c = p->clients[i];
    if (!c)
        return;
    if (events & SW_LOOP_READ) {
        uint8_t buf[4096];
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
            c->dead = true;
        } else if (r > 0) {
            size_t off = 0;
            while (off < (size_t)r && !c->dead) {
                sw_rct_receiver_event ev;
                off += sw_rct_receiver_push(c->rx, buf + off, (size_t)r - off, &ev);
                if (ev.kind == SW_RCT_RECEIVER_FRAME)
                    on_client_frame(p, c, &ev.frame);
            }
            drive(p);
        }
    }
    if ((events & SW_LOOP_WRITE) && !c->dead)
        client_flush(p, c);
    reap(p);
}

static sw_err add_client(sw_rct_proxy *p, int fd, const char *peer, const char *addr, bool allow_write)
{
    size_t max = p->cfg.max_clients ? p->cfg.max_clients : 64;
    if (p->n_clients >= max)
        return SW_ERR_NO_SPACE;
    struct client *c = calloc(1, sizeof *c);
    struct client **nc = c ? realloc(p->clients, (p->n_clients + 1) * sizeof *nc) : NULL;
    if (nc)
        p->clients = nc;
    if (c)
        c->rx = malloc(sizeof *c->rx);
    if (!nc || !c->rx) {
        if (c)
            free(c->rx);
        free(c);
        return SW_ERR_NO_MEMORY;
    }
    sw_fd_set_nonblocking(fd, 1);
    if (sw_loop_add_fd(p->loop, fd, SW_LOOP_READ, on_client, p) != SW_OK) {
        free(c->rx);
        free(c);
        return SW_ERR_NO_SPACE;
    }
    sw_rct_receiver_init(c->rx);
    c->fd = fd;
    c->serial = ++p->next_serial;
    c->allow_write = allow_write;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    p->clients[p->n_clients++] = c;
    p->counters.clients++;
    SW_LOGD(LOG_TARGET, "%s: client %s connected", p->name, c->peer);
    return SW_OK;
}

static void on_accept(sw_loop *loop, int lfd, int events, void *user)
{
    (void)loop; (void)events;
    sw_rct_proxy *p = user;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
    if (fd < 0)
        return;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    }
    const char *addr = strncmp(ip, "::ffff:", 7) == 0 && strchr(ip, '.') ? ip + 7 : ip; /* IPv4-mapped */
    char peer[80];
    snprintf(peer, sizeof peer, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
    if (add_client(p, fd, peer, addr, false) != SW_OK) {
        SW_LOGW(LOG_TARGET, "%s: too many clients; %s refused", p->name, peer);
        close(fd);
    }
}

/* ---- the whole ------------------------------------------------------------------------- */

static int64_t on_summary(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    sw_rct_proxy *p = user;
    char text[1024];
    sw_rct_proxy_counters_text(&p->counters, text, sizeof text);
    SW_LOGI(LOG_TARGET, "%s: counters: %s", p->name, text);
    return p->cfg.summary_ms;
}

sw_err sw_rct_proxy_start(sw_loop *loop, const sw_rct_proxy_config *cfg, sw_rct_proxy **out)
{
    *out = NULL;
    if (!cfg->upstream_host || !cfg->upstream_host[0])
        return SW_ERR_INVALID_ARGUMENT;
    sw_rct_proxy *p = calloc(1, sizeof *p);
    if (!p)
        return SW_ERR_NO_MEMORY;
    p->cfg = *cfg;
    snprintf(p->upstream_host, sizeof p->upstream_host, "%s", cfg->upstream_host);
    snprintf(p->listen_host, sizeof p->listen_host, "%s", cfg->listen_host ? cfg->listen_host : "127.0.0.1");
    snprintf(p->name, sizeof p->name, "%s", cfg->name ? cfg->name : "proxy");
    p->cfg.upstream_host = p->upstream_host;
    p->cfg.listen_host = p->listen_host;
    p->cfg.name = p->name;
    if (!p->cfg.upstream_port)
        p->cfg.upstream_port = SW_RCT_DEFAULT_PORT;
    p->loop = loop;
    p->lfd = -1;
    p->up_fd = -1;
    p->up_rx = malloc(sizeof *p->up_rx);
    p->cache = malloc(sizeof *p->cache);
    if (!p->up_rx || !p->cache) {
        sw_rct_proxy_stop(p);
        return SW_ERR_NO_MEMORY;
    }
    sw_rct_receiver_init(p->up_rx);
    sw_rct_cache_init(p->cache, cfg->cache_ms);
    for (size_t i = 0; i < cfg->n_cache_overrides && i < SW_RCT_PROXY_MAX_CACHE_OVERRIDES; i++)
        sw_rct_cache_set_ttl(p->cache, cfg->cache_overrides[i].id, cfg->cache_overrides[i].ms);
    sw_rct_exchange_init(&p->ex, &p->cfg.exchange);
    if (!cfg->no_listener) {
        sw_err e = sw_tcp_listen(p->listen_host, cfg->listen_port, 16, &p->lfd, &p->port);
        if (e == SW_OK) {
            sw_fd_set_nonblocking(p->lfd, 1);
            e = sw_loop_add_fd(loop, p->lfd, SW_LOOP_READ, on_accept, p);
        }
        if (e != SW_OK) {
            int saved = errno;
            sw_rct_proxy_stop(p);
            errno = saved;
            return e;
        }
    }
    if (cfg->summary_ms > 0)
        p->summary_timer = sw_loop_add_timer(loop, cfg->summary_ms, on_summary, p);
    *out = p;
    return SW_OK;
}

uint16_t sw_rct_proxy_port(const sw_rct_proxy *p) { return p->port; }

sw_err sw_rct_proxy_attach(sw_rct_proxy *p, int fd, const char *name, bool allow_write)
{
    sw_err e = add_client(p, fd, name, "", allow_write);
    if (e != SW_OK)
        close(fd);
    return e;
}

void sw_rct_proxy_get_counters(const sw_rct_proxy *p, sw_rct_proxy_counters *out) { *out = p->counters; }

bool sw_rct_proxy_upstream_connected(const sw_rct_proxy *p) { return p->up_fd >= 0; }

void sw_rct_proxy_counters_text(const sw_rct_proxy_counters *c, char *out, size_t cap)
{
    snprintf(out, cap,
             "clients %llu, client requests %llu, answered %llu, cache hits %llu, coalesced %llu, "
             "upstream connections %llu, upstream requests %llu, upstream failed %llu, writes %llu, "
             "refused writes %llu, ignored %llu, dropped %llu, foreign %llu, stale %llu, cut short %llu",
             (unsigned long long)c->clients, (unsigned long long)c->client_requests,
             (unsigned long long)c->answered, (unsigned long long)c->cache_hits, (unsigned long long)c->coalesced,
             (unsigned long long)c->upstream_connections, (unsigned long long)c->upstream_requests,
             (unsigned long long)c->upstream_failed, (unsigned long long)c->writes,
             (unsigned long long)c->refused_writes, (unsigned long long)c->ignored, (unsigned long long)c->dropped,
             (unsigned long long)c->foreign, (unsigned long long)c->stale, (unsigned long long)c->cut_short);
}

void sw_rct_proxy_stop(sw_rct_proxy *p)
{
    if (!p)
        return;
    while (p->n_clients)
        client_free(p, p->n_clients - 1);
    free(p->clients);
    for (size_t i = 0; i < p->n_jobs; i++)
        free(p->jobs[i]);
    free(p->cur);
    if (p->ex_timer)
        sw_loop_del_timer(p->loop, p->ex_timer);
    if (p->reconnect_timer)
        sw_loop_del_timer(p->loop, p->reconnect_timer);
    if (p->summary_timer)
        sw_loop_del_timer(p->loop, p->summary_timer);
    if (p->connector)
        sw_tcp_connector_cancel(p->connector);
    upstream_close(p);
    if (p->lfd >= 0) {
        sw_loop_del_fd(p->loop, p->lfd);
        close(p->lfd);
    }
    free(p->up_rx);
    free(p->cache);
    free(p);
}
