/*
 * metrics.c: the Prometheus metrics over HTTP (see web/metrics.h).
 *
 * The route's handler reads the model, not the output, so a route left on a
 * shared server after the output closed still answers safely.
 */
#include "web/metrics.h"

#include <stdlib.h>

#include "sunwire_config.h"

#if SUNWIRE_HAVE_MHD
static int metrics_handler(void *user, const sw_http_request *req, sw_http_response *resp)
{
    (void)req;
    const sw_model *m = user;
    char *text = NULL;
    size_t len = 0;
    if (sw_prometheus_render(m, &text, &len) != SW_OK)
        return -1;
    resp->status = 200;
    resp->content_type = SW_PROMETHEUS_CONTENT_TYPE;
    resp->body = text;
    resp->body_len = len;
    resp->cache_control = "no-store";
    return 0;
}
#endif

typedef struct metrics_out {
    sw_http_server *own;
    uint16_t port;
} metrics_out;

static void metrics_close(void *self)
{
    metrics_out *s = self;
    if (!s)
        return;
    if (s->own)
        sw_http_server_stop(s->own);
    free(s);
}

static const sw_sink_ops metrics_ops = {
    .name = "prometheus",
    .close = metrics_close,
};

sw_err sw_metrics_start(sw_loop *loop, sw_model *model, const sw_prometheus_config *c, const sw_http_auth *auth,
                        sw_http_server *shared, sw_sink *out)
{
    if (!loop || !model || !c || !out)
        return SW_ERR_INVALID_ARGUMENT;
#if !SUNWIRE_HAVE_MHD
    (void)shared;
    (void)auth;
    return SW_ERR_UNSUPPORTED;
#else
    metrics_out *s = calloc(1, sizeof *s);
    if (!s)
        return SW_ERR_NO_MEMORY;
    sw_http_server *srv = shared;
    if (!srv) {
        sw_err e = sw_http_server_start(loop, c->bind[0] ? c->bind : NULL, c->port, auth, &s->own, &s->port);
        if (e != SW_OK) {
            free(s);
            return e;
        }
        srv = s->own;
    }
    sw_err e = sw_http_route(srv, c->path, false, metrics_handler, model);
    if (e != SW_OK) {
        metrics_close(s);
        return e;
    }
    out->ops = &metrics_ops;
    out->self = s;
    return SW_OK;
#endif
}

uint16_t sw_metrics_port(const sw_sink *s)
{
    if (!s || s->ops != &metrics_ops || !s->self)
        return 0;
    return ((const metrics_out *)s->self)->port;
}
