/*
 * outputs.c: starting the daemon's outputs from their configuration sections.
 *
 * Every output owns its keys: the daemon stores each key of [mqtt],
 * [prometheus], [influx], [history] and [http] with its line and hands it to
 * that output's sw_X_config_set, so a bad key is reported as FILE:LINE with
 * the output's own explanation. A section that is present enables its
 * output (`enable = no` inside it turns it off again where the output has
 * that key). Outputs whose library is missing in this build refuse to start
 * with SW_ERR_UNSUPPORTED; the daemon then runs without them and says so.
 *
 * Start order matters: [http] first, so Prometheus can put /metrics on the
 * same server; [prometheus] alone gets a server of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_internal.h"
#include "io/log.h"
#include "sunwire_config.h"

#if defined(__has_include)
#if __has_include("sink/sink_mqtt.h")
#include "sink/sink_mqtt.h"
#define HAVE_OUT_MQTT 1
#endif
#if __has_include("sink/sink_prometheus.h")
#include "sink/sink_prometheus.h"
#define HAVE_OUT_PROMETHEUS 1
#endif
#if __has_include("sink/sink_influx.h")
#include "sink/sink_influx.h"
#define HAVE_OUT_INFLUX 1
#endif
#if __has_include("sink/sink_history.h")
#include "sink/sink_history.h"
#define HAVE_OUT_HISTORY 1
#endif
#if __has_include("web/sink_http.h")
#include "web/sink_http.h"
#define HAVE_OUT_HTTP 1
#endif
#if __has_include("web/metrics.h")
#include "web/metrics.h"
#else
#undef HAVE_OUT_PROMETHEUS /* the sink renders; the web area serves */
#endif
#endif

#define LOG_TARGET "sunwire::run"

#ifdef HAVE_OUT_HISTORY
static int64_t daemon_clock(void *user) { return sw_daemon_now_ns(user); }
#endif

/* Every output's configuration, filled from the stored keys. */
typedef struct out_configs {
#ifdef HAVE_OUT_MQTT
    sw_mqtt_config mqtt;
#endif
#ifdef HAVE_OUT_PROMETHEUS
    sw_prometheus_config prometheus;
    sw_http_auth prometheus_auth; /* its own server's credentials and TLS files (web/auth.h) */
#endif
#ifdef HAVE_OUT_INFLUX
    sw_influx_config influx;
#endif
#ifdef HAVE_OUT_HISTORY
    sw_history_config history;
#endif
#ifdef HAVE_OUT_HTTP
    sw_http_config http;
#endif
    int unused_;
} out_configs;

static bool section_compiled(const char *section)
{
#ifdef HAVE_OUT_MQTT
    if (strcmp(section, "mqtt") == 0)
        return true;
#endif
#ifdef HAVE_OUT_PROMETHEUS
    if (strcmp(section, "prometheus") == 0)
        return true;
#endif
#ifdef HAVE_OUT_INFLUX
    if (strcmp(section, "influx") == 0)
        return true;
#endif
#ifdef HAVE_OUT_HISTORY
    if (strcmp(section, "history") == 0)
        return true;
#endif
#ifdef HAVE_OUT_HTTP
    if (strcmp(section, "http") == 0)
        return true;
#endif
    (void)section;
    return false;
}

static sw_err set_key(out_configs *o, const char *section, const char *key, const char *value, char *msg,
                      size_t cap)
{
#ifdef HAVE_OUT_MQTT
    if (strcmp(section, "mqtt") == 0)
        return sw_mqtt_config_set(&o->mqtt, key, value, msg, cap);
#endif
#ifdef HAVE_OUT_PROMETHEUS
    if (strcmp(section, "prometheus") == 0) {
        sw_err e = sw_http_auth_config_set(&o->prometheus_auth, key, value, msg, cap);
        return e != SW_ERR_NOT_FOUND ? e : sw_prometheus_config_set(&o->prometheus, key, value, msg, cap);
    }
#endif
#ifdef HAVE_OUT_INFLUX
    if (strcmp(section, "influx") == 0)
        return sw_influx_config_set(&o->influx, key, value, msg, cap);
#endif
#ifdef HAVE_OUT_HISTORY
    if (strcmp(section, "history") == 0)
        return sw_history_config_set(&o->history, key, value, msg, cap);
#endif
#ifdef HAVE_OUT_HTTP
    if (strcmp(section, "http") == 0)
        return sw_http_config_set(&o->http, key, value, msg, cap);
#endif
    (void)o; (void)key; (void)value;
    snprintf(msg, cap, "the [%s] output is not part of this build", section);
    return SW_ERR_UNSUPPORTED;
}

#if defined(HAVE_OUT_HTTP) || defined(HAVE_OUT_PROMETHEUS)
/* A listener beyond loopback needs credentials (or the explicit insecure_no_auth); TLS needs both files. */
static sw_err check_listener(const sw_daemon_config *c, const char *section, const char *bind, const sw_http_auth *a,
                             char *err, size_t errcap)
{
    const char *f = c->file[0] ? c->file : "command line";
    char msg[256];
    if (sw_http_auth_check_config(a, msg, sizeof msg) != SW_OK) {
        snprintf(err, errcap, "%s: [%s] %s", f, section, msg);
        return SW_ERR_INVALID_ARGUMENT;
    }
    if (!sw_http_bind_is_loopback(bind) && !sw_http_auth_has_credentials(a) && !a->insecure_no_auth) {
        snprintf(err, errcap,
                 "%s: [%s] bind = %s is reachable beyond this machine, so it needs authentication: set token_sha256 "
                 "or basic_auth (sunwire hash-password makes them), or accept the risk with insecure_no_auth = on "
                 "(--insecure-no-auth)",
                 f, section, bind);
        return SW_ERR_INVALID_ARGUMENT;
    }
    return SW_OK;
}
#endif

static sw_err check_listeners(const sw_daemon_config *c, const out_configs *o, char *err, size_t errcap)
{
    (void)c; (void)o; (void)err; (void)errcap;
#ifdef HAVE_OUT_HTTP
    if ((c->outputs & SW_DAEMON_OUT_HTTP) && check_listener(c, "http", o->http.bind, &o->http.auth, err, errcap))
        return SW_ERR_INVALID_ARGUMENT;
#endif
#ifdef HAVE_OUT_PROMETHEUS
    /* Its own server only: on the [http] output's server the [http] section's credentials apply. */
    bool shared = false;
#ifdef HAVE_OUT_HTTP
    shared = (c->outputs & SW_DAEMON_OUT_HTTP) != 0;
#endif
    if ((c->outputs & SW_DAEMON_OUT_PROMETHEUS) && o->prometheus.enable && !shared &&
        check_listener(c, "prometheus", o->prometheus.bind, &o->prometheus_auth, err, errcap))
        return SW_ERR_INVALID_ARGUMENT;
#endif
    return SW_OK;
}

/* Defaults, then "enable" where the output has it (the section is there), then the user's keys. */
static sw_err fill_configs(const sw_daemon_config *c, out_configs *o, char *err, size_t errcap)
{
    memset(o, 0, sizeof *o);
#ifdef HAVE_OUT_MQTT
    sw_mqtt_config_defaults(&o->mqtt);
#endif
#ifdef HAVE_OUT_PROMETHEUS
    sw_prometheus_config_defaults(&o->prometheus);
    o->prometheus.enable = true;
    sw_http_auth_defaults(&o->prometheus_auth);
#endif
#ifdef HAVE_OUT_INFLUX
    sw_influx_config_defaults(&o->influx);
    o->influx.enable = true;
#endif
#ifdef HAVE_OUT_HISTORY
    sw_history_config_defaults(&o->history);
    o->history.enable = true;
#endif
#ifdef HAVE_OUT_HTTP
    sw_http_config_defaults(&o->http);
#endif
    for (size_t i = 0; i < c->n_output_keys; i++) {
        const sw_daemon_output_key *k = &c->output_keys[i];
        char msg[300] = "";
        sw_err e = set_key(o, k->section, k->key, k->value, msg, sizeof msg);
        if (e != SW_OK && e != SW_ERR_UNSUPPORTED) {
            const char *f = c->file[0] ? c->file : "command line";
            if (k->line > 0)
                snprintf(err, errcap, "%s:%d: [%s] %s", f, k->line, k->section, msg[0] ? msg : sw_err_message(e));
            else
                snprintf(err, errcap, "%s: --%s: %s", f, k->section, msg[0] ? msg : sw_err_message(e));
            return SW_ERR_INVALID_ARGUMENT;
        }
    }
    return check_listeners(c, o, err, errcap);
}

sw_err sw_daemon_outputs_check(const sw_daemon_config *c, char *err, size_t errcap)
{
    out_configs *o = calloc(1, sizeof *o);
    if (!o)
        return SW_ERR_NO_MEMORY;
    sw_err e = fill_configs(c, o, err, errcap);
    free(o);
    return e;
}

void sw_daemon_history_path(const sw_daemon_config *c, char *out, size_t cap)
{
    out[0] = '\0';
#ifdef HAVE_OUT_HISTORY
    out_configs *o = calloc(1, sizeof *o);
    char err[256];
    if (o && (c->outputs & SW_DAEMON_OUT_HISTORY) && fill_configs(c, o, err, sizeof err) == SW_OK && o->history.enable)
        sw_daemon_copy_text(out, cap, o->history.path);
    free(o);
#else
    (void)c;
    (void)cap;
#endif
}

static const char *const names[] = {"mqtt", "prometheus", "influx", "history", "http", "json"};

void sw_daemon_outputs_describe(const sw_daemon_config *c, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = 0;
    for (unsigned i = 0; i < 6; i++) {
        if (!(c->outputs & (1u << i)))
            continue;
        const char *state = (i == 5 || section_compiled(names[i])) ? "on" : "not in this build";
        int n = snprintf(out + len, cap - len, "%s%s (%s)", len ? ", " : "", names[i], state);
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
    if (!len)
        snprintf(out, cap, "none");
}

/* "could not listen on the address" names the address and the reason (errno right after the start). */
static void listen_error(const char *name, const char *bind, unsigned port, sw_err e, int err_no, char *err,
                         size_t errcap)
{
    if (e != SW_ERR_BIND && e != SW_ERR_RESOLVE)
        return;
    const char *h = bind && bind[0] ? bind : "127.0.0.1";
    bool v6 = strchr(h, ':') != NULL;
    snprintf(err, errcap, "output %s could not start: cannot listen on %s%s%s:%u: %s", name, v6 ? "[" : "", h,
             v6 ? "]" : "", port,
             e == SW_ERR_RESOLVE ? "not an address of this machine" : err_no ? strerror(err_no) : sw_err_message(e));
}

static void report_start(sw_daemon *d, const char *name, sw_err e, sw_sink *s, unsigned bit, bool *fatal,
                         char *err, size_t errcap)
{
    if (e == SW_OK) {
        if (sw_model_add_sink(d->model, *s) != SW_OK) {
            if (s->ops && s->ops->close)
                s->ops->close(s->self);
            SW_LOGE(LOG_TARGET, "output %s: too many outputs", name);
            return;
        }
        d->outputs_started |= bit;
        return;
    }
    if (e == SW_ERR_UNSUPPORTED) {
        SW_LOGW(LOG_TARGET, "output %s is disabled: this build lacks the library it needs (see `sunwire features`)",
                name);
        return;
    }
    snprintf(err, errcap, "output %s could not start: %s", name, sw_err_message(e));
    *fatal = true;
}

sw_err sw_daemon_outputs_start(sw_daemon *d, char *err, size_t errcap)
{
    const sw_daemon_config *c = d->cfg;
    out_configs *o = calloc(1, sizeof *o);
    if (!o)
        return SW_ERR_NO_MEMORY;
    sw_err e = fill_configs(c, o, err, errcap);
    if (e != SW_OK) {
        free(o);
        return e;
    }
    bool fatal = false;
    sw_sink s;
    for (unsigned i = 0; i < 5; i++)
        if ((c->outputs & (1u << i)) && !section_compiled(names[i]))
            SW_LOGW(LOG_TARGET, "output %s is not part of this build; ignoring [%s]", names[i], names[i]);

#if defined(HAVE_OUT_HTTP) && defined(HAVE_OUT_HISTORY)
    /* The dashboard draws earlier days from the history the daemon keeps, unless told otherwise. */
    if ((c->outputs & SW_DAEMON_OUT_HTTP) && (c->outputs & SW_DAEMON_OUT_HISTORY) && o->history.enable &&
        !o->http.history[0] && o->history.path[0])
        sw_daemon_copy_text(o->http.history, sizeof o->http.history, o->history.path);
#endif
#ifdef HAVE_OUT_HTTP
    sw_sink http_sink = {0};
    bool have_http = false;
    if (c->outputs & SW_DAEMON_OUT_HTTP) {
        memset(&s, 0, sizeof s);
        e = sw_http_start(d->loop, d->model, &o->http, &s);
        int err_no = errno;
        report_start(d, "http", e, &s, SW_DAEMON_OUT_HTTP, &fatal, err, errcap);
        listen_error("http", o->http.bind, o->http.port, e, err_no, err, errcap);
        if (e == SW_OK) {
            http_sink = s;
            have_http = true;
            const char *h = o->http.bind[0] ? o->http.bind : "127.0.0.1";
            bool v6 = strchr(h, ':') != NULL; /* a URL writes an IPv6 address in brackets */
            SW_LOGI(LOG_TARGET, "http: dashboard on %s://%s%s%s:%u/", sw_http_auth_tls(&o->http.auth) ? "https" : "http",
                    v6 ? "[" : "", h, v6 ? "]" : "", (unsigned)sw_http_sink_port(&s));
        }
    }
#endif
#ifdef HAVE_OUT_PROMETHEUS
    if (!fatal && (c->outputs & SW_DAEMON_OUT_PROMETHEUS) && o->prometheus.enable) {
        sw_http_server *shared = NULL;
#ifdef HAVE_OUT_HTTP
        /* /metrics shares the dashboard's server when there is one. */
        if (have_http)
            shared = sw_http_sink_server(&http_sink);
#endif
        memset(&s, 0, sizeof s);
        e = sw_metrics_start(d->loop, d->model, &o->prometheus, &o->prometheus_auth, shared, &s);
        int err_no = errno;
        report_start(d, "prometheus", e, &s, SW_DAEMON_OUT_PROMETHEUS, &fatal, err, errcap);
        listen_error("prometheus", o->prometheus.bind, o->prometheus.port, e, err_no, err, errcap);
        if (e == SW_OK && sw_metrics_port(&s))
            SW_LOGI(LOG_TARGET, "prometheus: metrics on %s://%s%s%s:%u%s",
                    sw_http_auth_tls(&o->prometheus_auth) ? "https" : "http", strchr(o->prometheus.bind, ':') ? "[" : "",
                    o->prometheus.bind, strchr(o->prometheus.bind, ':') ? "]" : "", (unsigned)sw_metrics_port(&s),
                    o->prometheus.path);
    }
#endif
#ifdef HAVE_OUT_HISTORY
    if (!fatal && (c->outputs & SW_DAEMON_OUT_HISTORY) && o->history.enable) {
        memset(&s, 0, sizeof s);
        sw_history_config hc = o->history;
        hc.clock = daemon_clock; /* every row on the daemon's time, simulated or not */
        hc.clock_user = d;
        e = sw_history_start(d->loop, d->model, &hc, &s);
        report_start(d, "history", e, &s, SW_DAEMON_OUT_HISTORY, &fatal, err, errcap);
    }
#endif
#ifdef HAVE_OUT_INFLUX
    if (!fatal && (c->outputs & SW_DAEMON_OUT_INFLUX) && o->influx.enable) {
        memset(&s, 0, sizeof s);
        e = sw_influx_start(d->loop, d->model, &o->influx, &s);
        report_start(d, "influx", e, &s, SW_DAEMON_OUT_INFLUX, &fatal, err, errcap);
    }
#endif
#ifdef HAVE_OUT_MQTT
    if (!fatal && (c->outputs & SW_DAEMON_OUT_MQTT)) {
        memset(&s, 0, sizeof s);
        sw_daemon_controls_setup(d, &o->mqtt);
        e = sw_mqtt_start(d->loop, d->model, &o->mqtt, &s);
        report_start(d, "mqtt", e, &s, SW_DAEMON_OUT_MQTT, &fatal, err, errcap);
    }
#endif
    if (!fatal && (c->outputs & SW_DAEMON_OUT_JSON)) {
        sw_daemon_json_sink(d->loop, &s);
        report_start(d, "json", SW_OK, &s, SW_DAEMON_OUT_JSON, &fatal, err, errcap);
    }
    (void)s;
    free(o);
    return fatal ? SW_ERR_IO : SW_OK;
}
