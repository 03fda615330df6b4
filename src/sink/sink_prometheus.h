/*
 * sink/sink_prometheus.h: Prometheus metrics (text exposition format 0.0.4).
 *
 * The renderer is pure: it reads the model through the accessors of model.h
 * (trusting the records to be NUL-terminated and the counters to be the
 * model's own, monotonic ones) and writes one metric family per name, each
 * with its HELP and TYPE lines, every label value escaped. The output adds no
 * state of its own: a scrape reads the model as it is at that moment, so it
 * ignores pushed updates.
 *
 * This sink only renders: serving GET <path> over HTTP is web/metrics.h's
 * (on the [http] output's server, or a server of its own at bind:port), so
 * the sink needs no HTTP code. Metric names, units and labels are listed in
 * docs/prometheus.md.
 */
#ifndef SUNWIRE_SINK_PROMETHEUS_H
#define SUNWIRE_SINK_PROMETHEUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Render every metric of the model into a malloc'd, NUL-terminated text
 * (*out, length *len; the caller frees). SW_ERR_NO_MEMORY when allocation fails.
 */
sw_err sw_prometheus_render(const sw_model *m, char **out, size_t *len);

/*
 * A label value escaped for the exposition format (backslash, double quote and
 * line feed get a backslash; "\n" for the line feed). Writes at most cap bytes
 * including the NUL; returns the full length needed (like snprintf).
 */
size_t sw_prometheus_escape_label(char *out, size_t cap, const char *value);

/* Keys of the INI section [prometheus]: enable, path, bind, port. */
typedef struct sw_prometheus_config {
    bool enable;
    char path[128];            /* path = URL path of the metrics (default /metrics) */
    char bind[160];            /* bind = own server's address (default 127.0.0.1) */
    uint16_t port;             /* port = own server's port (default 9464; unused on the [http] output's server) */
} sw_prometheus_config;

void sw_prometheus_config_defaults(sw_prometheus_config *c);
sw_err sw_prometheus_config_set(sw_prometheus_config *c, const char *key, const char *value, char *err,
                                size_t errcap);

#ifdef __cplusplus
}
#endif
#endif
