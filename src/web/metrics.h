/*
 * web/metrics.h: the Prometheus metrics over HTTP.
 *
 * The [prometheus] output is a route, GET <path>, whose answer is the text
 * sw_prometheus_render makes from the model at that moment. It goes on the
 * [http] output's server when the daemon has one, else on a server of its own
 * at the configured bind:port. The sink (sink/sink_prometheus.h) renders and
 * knows nothing of HTTP; this file serves and knows nothing of metrics.
 */
#ifndef SUNWIRE_WEB_METRICS_H
#define SUNWIRE_WEB_METRICS_H

#include <stdint.h>

#include "model/model.h"
#include "sink/sink_prometheus.h"
#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "web/http.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Serve the metrics: the route on `shared` (the [http] output's server) when
 * it is not NULL, else on a server of its own, guarded by `auth` (the
 * [prometheus] section's credentials and TLS files, web/auth.h; NULL = none).
 * *out is the output the daemon closes at shutdown (it stops the own
 * server). SW_ERR_UNSUPPORTED without libmicrohttpd.
 */
sw_err sw_metrics_start(sw_loop *loop, sw_model *model, const sw_prometheus_config *c, const sw_http_auth *auth,
                        sw_http_server *shared, sw_sink *out);
/* The port the own server listens on (0 when the metrics share the [http] output's server). */
uint16_t sw_metrics_port(const sw_sink *s);

#ifdef __cplusplus
}
#endif
#endif
