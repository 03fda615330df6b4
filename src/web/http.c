/*
 * http.c: the HTTP server of sunwire/http.h, libmicrohttpd driven by sw_loop.
 *
 * MHD runs in external mode with epoll: its single epoll descriptor is
 * watched by the loop, MHD_run is called when it is readable and when the
 * timeout MHD asks for expires. No thread is ever started. MHD is trusted for
 * HTTP framing and percent-decoding; paths and routes are checked here.
 *
 * Server-Sent Events: each client has a byte queue. Its content reader hands
 * out what is queued, and when the queue is empty it suspends the connection
 * (the pattern MHD prescribes instead of returning 0 in a loop); a send
 * appends to every queue, resumes, and schedules an MHD_run for the next
 * loop iteration (external mode has no wake-up of its own). A client whose queue grows past a limit is too slow and is
 * dropped rather than allowed to eat memory.
 */
#include "sunwire/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "sunwire/log.h"
#include "sunwire/net.h"
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

#if SUNWIRE_HAVE_MHD

#include <microhttpd.h>

#define SSE_MAX_QUEUE (1024 * 1024)
#define SSE_MAX_PATHS 8
#define SSE_KEEPALIVE_MS 15000
#define MHD_TIMER_CAP_MS 5000

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
    uint64_t mhd_timer;
    uint64_t kick_timer;
    uint64_t keepalive_timer;
    sw_web_route routes[SW_WEB_MAX_ROUTES];
    size_t n_routes;
    struct sse_client *clients;
    bool stopping;
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

sw_err sw_http_route(sw_http_server *srv, const char *path, bool prefix, sw_http_handler handler, void *user)
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

static enum MHD_Result queue(struct MHD_Connection *c, sw_http_response *r)
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
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result simple(struct MHD_Connection *c, int status, const char *message)
{
    sw_http_response r = { .status = 200 };
    if (sw_http_error(&r, status, message) != SW_OK)
        return MHD_NO;
    return queue(c, &r);
}

static enum MHD_Result start_sse(sw_http_server *srv, struct MHD_Connection *c, const char *path)
{
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    (void)version; (void)upload_data; (void)con_cls;
    sw_http_server *srv = cls;
    if (upload_size)
        *upload_size = 0; /* nothing here takes a body */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return simple(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are supported");
    if (!sw_web_path_safe(url))
        return simple(c, MHD_HTTP_BAD_REQUEST, "malformed path");

    int ri = sw_web_route_match(srv->routes, srv->n_routes, url);
    if (ri < 0)
        return simple(c, MHD_HTTP_NOT_FOUND, "not found");
    const sw_web_route *route = &srv->routes[ri];
    if (route->sse)
        return start_sse(srv, c, route->path);

    sw_web_query q = { 0 };
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    if (q.overflow)
        return simple(c, MHD_HTTP_BAD_REQUEST, "too many query parameters");
    sw_http_request req = { .method = method, .path = url, .conn_ = &q };
    sw_http_response resp = { .status = 200 };
    if (route->handler(route->user, &req, &resp) != 0) {
        free(resp.body);
        return simple(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    if (resp.status < 100 || resp.status > 599)
        resp.status = 200;
    return queue(c, &resp);
}

sw_err sw_http_server_start(sw_loop *loop, const char *bind_addr, uint16_t port, sw_http_server **out,
                            uint16_t *port_out)
{
    if (!loop || !out)
        return SW_ERR_INVALID_ARGUMENT;
    *out = NULL;
    int lfd = -1;
    uint16_t bound = 0;
    sw_err err = sw_tcp_listen(bind_addr, port, 64, &lfd, &bound);
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
    srv->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                on_request, srv, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_LIMIT,
                                (unsigned)128, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!srv->mhd) {
        close(lfd);
        free(srv);
        return SW_ERR_BIND;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || info->epoll_fd < 0) {
        MHD_stop_daemon(srv->mhd);
        free(srv);
        return SW_ERR_UNSUPPORTED;
    }
    srv->epoll_fd = info->epoll_fd;
    err = sw_loop_add_fd(loop, srv->epoll_fd, SW_LOOP_READ, on_epoll_ready, srv);
    if (err != SW_OK) {
        MHD_stop_daemon(srv->mhd);
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
    sw_loop_del_fd(srv->loop, srv->epoll_fd);
    if (srv->mhd_timer)
        sw_loop_del_timer(srv->loop, srv->mhd_timer);
    if (srv->kick_timer)
        sw_loop_del_timer(srv->loop, srv->kick_timer);
    if (srv->keepalive_timer)
        sw_loop_del_timer(srv->loop, srv->keepalive_timer);
    /* Let every event stream end cleanly: no connection may stay suspended across the stop. */
    for (struct sse_client *cl = srv->clients; cl; cl = cl->next) {
        cl->closing = true;
        client_resume(cl);
    }
    MHD_run(srv->mhd);
    MHD_stop_daemon(srv->mhd);
    free(srv);
}

#else /* !SUNWIRE_HAVE_MHD */

sw_err sw_http_server_start(sw_loop *loop, const char *bind_addr, uint16_t port, sw_http_server **out,
                            uint16_t *port_out)
{
    (void)loop; (void)bind_addr; (void)port; (void)port_out;
    if (out)
        *out = NULL;
    return SW_ERR_UNSUPPORTED;
}

void sw_http_server_stop(sw_http_server *srv) { (void)srv; }

sw_err sw_http_route(sw_http_server *srv, const char *path, bool prefix, sw_http_handler handler, void *user)
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
