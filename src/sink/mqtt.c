/*
 * mqtt.c: the MQTT output, libmosquitto driven from sunwire's event loop.
 *
 * No threads: libmosquitto's socket is watched by the sw_loop (read always,
 * write while it has bytes queued), a one-second timer runs its keepalive
 * bookkeeping, and a one-shot timer bounds the wait for CONNACK. Connects are non-blocking; a lost or
 * refused connection is retried with exponential backoff capped at
 * reconnect_max. What this layer trusts: the model's records (the builders
 * in mqtt_state.c / homeassistant.c turn them into text) and libmosquitto's
 * framing. What it does not trust: the broker being there.
 *
 * Message order after each CONNACK: "online" on <base>/status (retained;
 * the last will says "offline"), then discovery for everything in the model,
 * then the state messages queued during the outage (led by those the lost
 * connection never had acknowledged), then a fresh snapshot of every device
 * so the newest state always lands last. Each connection starts from a fresh
 * libmosquitto client, so nothing of an earlier one is sent behind that.
 *
 * Home Assistant subscribes to an entity's state topic only after it has
 * processed the entity's discovery, and states are not retained by default:
 * a state sent right behind new discovery is lost, and a sensor that rarely
 * changes (a gateway's firmware or address) would stay "unknown" for days.
 * So whenever discovery went out (a connect, a new or changed device, Home
 * Assistant's birth message), every current state is sent again once
 * resend_delay has passed since the last such moment (one timer; a steady
 * trickle of discovery delays it by four times resend_delay at most).
 */
#include "sink/sink_mqtt.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/log.h"
#include "sunwire_config.h"

#if SUNWIRE_HAVE_MOSQUITTO
#include <mosquitto.h>

#define LOG_TARGET "mqtt"
#define PAYLOAD_MAX (256 * 1024) /* a device message lists all its entities: an inverter may poll hundreds */
#define MISC_INTERVAL_MS 1000

enum conn_state { ST_IDLE, ST_CONNECTING, ST_CONNECTED };

/* Topic -> hash of the discovery payload last sent there, so unchanged discovery is not re-sent. */
struct seen {
    uint64_t topic;
    uint64_t payload;
};

struct mqtt_sink {
    sw_loop *loop;
    sw_model *model;
    sw_mqtt_config cfg;
    struct mosquitto *mosq;
    enum conn_state state;
    int fd;                      /* registered with the loop, -1 = none */
    int fd_events;
    uint64_t misc_timer, reconnect_timer, coalesce_timer, connect_timer, resend_timer;
    int64_t discovery_at_ms;     /* when discovery last went out (or Home Assistant announced itself) */
    int64_t resend_asked_ms;     /* when the pending resend was first asked for */
    int backoff_ms;
    bool closing;
    bool warned_connect;         /* the first failure of an outage is a warning, the rest debug */
    unsigned warned_size;        /* oversized discovery is reported once */
    unsigned warned_brief;       /* and so is the strings' discovery sent without statistics */
    sw_mqtt_queue queue;
    sw_mqtt_queue sent;          /* state messages handed to the connection, not yet acknowledged */
    sw_mqtt_counters counters;
    char status_topic[SW_MQTT_TOPIC_MAX];
    char *buf;                   /* PAYLOAD_MAX bytes */
    struct seen *seen;
    size_t seen_count, seen_cap;
    const void **ptrs;           /* scratch array of model record pointers */
    size_t ptrs_cap;
    char **dirty_inverters;      /* names waiting for the coalesce timer */
    size_t dirty_count, dirty_cap;
};

static uint64_t fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void connection_lost(struct mqtt_sink *s, const char *why);

/* ---- fd registration ------------------------------------------------------ */

static void on_fd(sw_loop *loop, int fd, int events, void *user);

/* Make the loop's view of libmosquitto's socket match reality after every call into it. */
static void sync_fd(struct mqtt_sink *s)
{
    int sock = (s->state == ST_IDLE || s->closing) ? -1 : mosquitto_socket(s->mosq);
    if (sock != s->fd) {
        if (s->fd >= 0)
            sw_loop_del_fd(s->loop, s->fd);
        s->fd = -1;
        s->fd_events = 0;
        if (sock >= 0) {
            int ev = SW_LOOP_READ | (mosquitto_want_write(s->mosq) ? SW_LOOP_WRITE : 0);
            if (sw_loop_add_fd(s->loop, sock, ev, on_fd, s) != SW_OK) {
                connection_lost(s, "event loop full");
                return;
            }
            s->fd = sock;
            s->fd_events = ev;
        }
        return;
    }
    if (s->fd >= 0) {
        int ev = SW_LOOP_READ | (mosquitto_want_write(s->mosq) ? SW_LOOP_WRITE : 0);
        if (ev != s->fd_events) {
            sw_loop_set_fd_events(s->loop, s->fd, ev);
            s->fd_events = ev;
        }
    }
}

/* ---- publishing ----------------------------------------------------------- */

enum pub_result { PUB_OK, PUB_CONN_DOWN, PUB_REFUSED };

/*
 * Hand one message to libmosquitto. A refused message (a topic that is not
 * valid UTF-8, a payload over MQTT's size limit) would be refused forever, so
 * callers drop it; only a connection problem is worth keeping it for.
 * With QoS 1 or 2, a state message (`keep`) is also copied into s->sent
 * until the broker acknowledges it (on_publish), so that it can be sent
 * again, in its place, if the connection goes first.
 */
static enum pub_result publish_now(struct mqtt_sink *s, const char *topic, const char *payload, size_t len,
                                   bool retain, bool keep)
{
    int mid = 0;
    int rc = mosquitto_publish(s->mosq, &mid, topic, (int)len, payload, s->cfg.qos, retain);
    if (rc == MOSQ_ERR_SUCCESS) {
        s->counters.published++;
        /* QoS 0 has no acknowledgement (on_publish may even run inside mosquitto_publish): nothing to keep. */
        if (keep && s->cfg.qos > 0 && sw_mqtt_queue_push(&s->sent, topic, payload, len, retain) == SW_OK)
            sw_mqtt_queue_back(&s->sent)->mid = mid;
        return PUB_OK;
    }
    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_NOMEM) {
        SW_LOGD(LOG_TARGET, "publish to %s failed: %s", topic, mosquitto_strerror(rc));
        return PUB_CONN_DOWN;
    }
    SW_LOGW(LOG_TARGET, "the broker connection refuses a message for %s: %s; dropped", topic,
            mosquitto_strerror(rc));
    return PUB_REFUSED;
}

/* State messages: straight out when connected, else into the outage queue. */
static void publish_msg(struct mqtt_sink *s, const char *topic, const char *payload, size_t len, bool retain)
{
    bool failed = false;
    if (s->state == ST_CONNECTED && s->queue.count == 0) {
        enum pub_result r = publish_now(s, topic, payload, len, retain, true);
        if (r != PUB_CONN_DOWN) {
            sync_fd(s);
            return;
        }
        failed = true;
    }
    if (sw_mqtt_queue_push(&s->queue, topic, payload, len, retain) != SW_OK)
        SW_LOGW(LOG_TARGET, "out of memory queueing a message for %s", topic);
    s->counters.queued = s->queue.count;
    s->counters.dropped = s->queue.dropped;
    if (failed) /* the connection is going; the message waits for the next one */
        connection_lost(s, "publish failed");
}

static void publish_state(struct mqtt_sink *s, const char *topic, const char *payload, size_t len)
{
    publish_msg(s, topic, payload, len, s->cfg.retain_state);
}

static void schedule_resend(struct mqtt_sink *s);

static void emit_discovery(void *user, const char *topic, const char *payload, size_t len)
{
    struct mqtt_sink *s = user;
    uint64_t th = fnv1a(topic, strlen(topic)), ph = fnv1a(payload, len);
    size_t i;
    for (i = 0; i < s->seen_count; i++)
        if (s->seen[i].topic == th)
            break;
    if (i < s->seen_count && s->seen[i].payload == ph)
        return;
    if (s->state != ST_CONNECTED)
        return; /* everything is announced again on connect */
    if (publish_now(s, topic, payload, len, s->cfg.retain_discovery, false) != PUB_OK)
        return;
    schedule_resend(s);
    if (i == s->seen_count) {
        if (s->seen_count == s->seen_cap) {
            size_t ncap = s->seen_cap ? 2 * s->seen_cap : 64;
            struct seen *n = realloc(s->seen, ncap * sizeof *n);
            if (!n)
                return;
            s->seen = n;
            s->seen_cap = ncap;
        }
        s->seen[s->seen_count++].topic = th;
    }
    s->seen[i].payload = ph;
}

static void discovery_result(struct mqtt_sink *s, sw_err e, const char *what)
{
    if (e == SW_ERR_NO_SPACE && !s->warned_size++)
        SW_LOGW(LOG_TARGET, "discovery for %s does not fit in %d bytes; not announced", what, PAYLOAD_MAX);
    if (e == SW_ERR_TOO_LONG && !s->warned_brief++)
        SW_LOGW(LOG_TARGET, "discovery for %s with their statistics does not fit in %d bytes; announced without "
                "the statistics, which stay in the state topics (discovery = entity has no such limit)", what,
                PAYLOAD_MAX);
}

static bool ensure_ptrs(struct mqtt_sink *s, size_t n)
{
    if (n <= s->ptrs_cap)
        return true;
    const void **p = realloc(s->ptrs, n * sizeof *p);
    if (!p)
        return false;
    s->ptrs = p;
    s->ptrs_cap = n;
    return true;
}

/* The model's values of one inverter, into s->ptrs; returns the count. */
static size_t collect_values(struct mqtt_sink *s, const char *inverter)
{
    size_t total = sw_model_inverter_value_count(s->model), n = 0;
    if (!ensure_ptrs(s, total))
        return 0;
    for (size_t i = 0; i < total; i++) {
        const sw_inverter_value *v = sw_model_inverter_value_at(s->model, i);
        if (v && strcmp(v->inverter, inverter) == 0)
            s->ptrs[n++] = v;
    }
    return n;
}

static const sw_inverter *find_inverter(struct mqtt_sink *s, const char *name)
{
    size_t n = sw_model_inverter_count(s->model);
    for (size_t i = 0; i < n; i++) {
        const sw_inverter *inv = sw_model_inverter_at(s->model, i);
        if (inv && strcmp(inv->name, name) == 0)
            return inv;
    }
    return NULL;
}

static void send_inverter(struct mqtt_sink *s, const sw_inverter *inv)
{
    size_t n = collect_values(s, inv->name);
    const sw_inverter_value *const *vals = (const sw_inverter_value *const *)s->ptrs;
    sw_err e = sw_ha_discover_inverter(&s->cfg, inv, vals, n, s->buf, PAYLOAD_MAX, emit_discovery, s);
    discovery_result(s, e, inv->name);
    char topic[SW_MQTT_TOPIC_MAX];
    size_t len;
    if (sw_mqtt_topic_inverter(topic, sizeof topic, &s->cfg, inv->name) &&
        sw_mqtt_inverter_state(s->buf, PAYLOAD_MAX, inv, vals, n, &len) == SW_OK)
        publish_state(s, topic, s->buf, len);
}

/* ---- problems --------------------------------------------------------------- */

/* The model's problem records into s->ptrs: all of them (subject NULL), or one subject's. */
static size_t collect_problems(struct mqtt_sink *s, sw_subject_kind k, const char *source, const char *subject)
{
    size_t total = sw_model_problem_count(s->model), n = 0;
    if (!ensure_ptrs(s, total ? total : 1))
        return 0;
    for (size_t i = 0; i < total; i++) {
        const sw_problem *p = sw_model_problem_at(s->model, i);
        if (p && (!subject || (p->subject_kind == k && strcmp(p->source, source) == 0 &&
                               strcmp(p->subject, subject) == 0)))
            s->ptrs[n++] = p;
    }
    return n;
}

/* <base>/problems: the active ones, retained whatever retain says, so a new subscriber sees them at once. */
static void send_problem_list(struct mqtt_sink *s)
{
    char topic[SW_MQTT_TOPIC_MAX];
    size_t len, n = collect_problems(s, 0, NULL, NULL);
    if (sw_mqtt_topic_problems(topic, sizeof topic, &s->cfg) &&
        sw_mqtt_problems_state(s->buf, PAYLOAD_MAX, (const sw_problem *const *)s->ptrs, n, &len) == SW_OK)
        publish_msg(s, topic, s->buf, len, true);
}

/* One subject's problem state on <base>/<kind>/<id>/problems. */
static void send_subject_problems(struct mqtt_sink *s, sw_subject_kind k, const char *source, const char *subject,
                                  const char *id)
{
    char topic[SW_MQTT_TOPIC_MAX];
    size_t len, n = collect_problems(s, k, source, subject);
    if (sw_mqtt_topic_subject_problems(topic, sizeof topic, &s->cfg, k, id) &&
        sw_mqtt_subject_problems_state(s->buf, PAYLOAD_MAX, k, (const sw_problem *const *)s->ptrs, n, &len) == SW_OK)
        publish_state(s, topic, s->buf, len);
}

static void send_panel_problems(struct mqtt_sink *s, const sw_panel *p)
{
    char pid[SW_MQTT_TOPIC_MAX];
    if (sw_mqtt_panel_id(pid, sizeof pid, p))
        send_subject_problems(s, SW_SUBJECT_PANEL, p->source, p->series_id, pid);
}

static void gateway_subject(char *out, size_t cap, const sw_gateway *g)
{
    snprintf(out, cap, "%s/%u", g->source, (unsigned)g->gateway_id);
}

static void send_gateway_problems(struct mqtt_sink *s, const sw_gateway *g)
{
    char gw[SW_MQTT_TOPIC_MAX], subject[SW_MODEL_NAME_MAX + 8];
    gateway_subject(subject, sizeof subject, g);
    if (sw_mqtt_gateway_id(gw, sizeof gw, g->source, g->gateway_id))
        send_subject_problems(s, SW_SUBJECT_GATEWAY, g->source, subject, gw);
}

static void send_site_discovery(struct mqtt_sink *s)
{
    size_t n = collect_problems(s, 0, NULL, NULL);
    discovery_result(s, sw_ha_discover_site(&s->cfg, (const sw_problem *const *)s->ptrs, n, s->buf, PAYLOAD_MAX,
                                            emit_discovery, s), "the site");
}

/* A subject without a device of its own (bus, string, battery, ...): announced on the site device. */
static void send_site_subject(struct mqtt_sink *s, const sw_problem *p)
{
    char id[SW_MQTT_TOPIC_MAX];
    char source[SW_MODEL_NAME_MAX], subject[SW_MODEL_NAME_MAX];
    sw_subject_kind k = p->subject_kind;
    /* p points into the model; collect_problems reuses s->ptrs, not the records. */
    snprintf(source, sizeof source, "%s", p->source);
    snprintf(subject, sizeof subject, "%s", p->subject);
    if (sw_mqtt_problem_subject_id(id, sizeof id, p))
        send_subject_problems(s, k, source, subject, id);
}

static bool same_subject(const sw_problem *a, const sw_problem *b)
{
    return a->subject_kind == b->subject_kind && strcmp(a->source, b->source) == 0 &&
           strcmp(a->subject, b->subject) == 0;
}

/* Every problem state: the list, and each subject on the site device once. */
static void send_problems_snapshot(struct mqtt_sink *s)
{
    send_problem_list(s);
    size_t n = sw_model_problem_count(s->model);
    for (size_t i = 0; i < n; i++) {
        const sw_problem *p = sw_model_problem_at(s->model, i);
        if (p->subject_kind == SW_SUBJECT_PANEL || p->subject_kind == SW_SUBJECT_GATEWAY)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = same_subject(sw_model_problem_at(s->model, k), p);
        if (!seen)
            send_site_subject(s, p);
    }
}

static void op_problem(void *self, const sw_problem *p)
{
    struct mqtt_sink *s = self;
    send_problem_list(s);
    if (p->subject_kind == SW_SUBJECT_PANEL) {
        size_t n = sw_model_panel_count(s->model);
        for (size_t i = 0; i < n; i++) {
            const sw_panel *pn = sw_model_panel_at(s->model, i);
            if (pn && strcmp(pn->series_id, p->subject) == 0 && strcmp(pn->source, p->source) == 0) {
                send_panel_problems(s, pn);
                return;
            }
        }
        return;
    }
    if (p->subject_kind == SW_SUBJECT_GATEWAY) {
        char subject[SW_MODEL_NAME_MAX + 8];
        size_t n = sw_model_gateway_count(s->model);
        for (size_t i = 0; i < n; i++) {
            const sw_gateway *g = sw_model_gateway_at(s->model, i);
            gateway_subject(subject, sizeof subject, g);
            if (strcmp(subject, p->subject) == 0) {
                send_gateway_problems(s, g);
                return;
            }
        }
        return;
    }
    send_site_discovery(s); /* a new subject gets its indicator there */
    send_site_subject(s, p);
}

static void send_panel(struct mqtt_sink *s, const sw_panel *p)
{
    /* Without a barcode the identity would change once the node table arrives. */
    if (p->barcode[0]) {
        uint64_t published = s->counters.published;
        discovery_result(s, sw_ha_discover_panel(&s->cfg, p, s->buf, PAYLOAD_MAX, emit_discovery, s), p->name);
        /* Its problem indicators change only with it (a new or renamed panel): not rebuilt for every report. */
        if (s->counters.published != published)
            discovery_result(s, sw_ha_discover_panel_problems(&s->cfg, p, s->buf, PAYLOAD_MAX, emit_discovery, s),
                             p->name);
    }
    char topic[SW_MQTT_TOPIC_MAX];
    size_t len;
    if (sw_mqtt_topic_panel(topic, sizeof topic, &s->cfg, p) &&
        sw_mqtt_panel_state(s->buf, PAYLOAD_MAX, p, &len) == SW_OK)
        publish_state(s, topic, s->buf, len);
}

static void send_gateway(struct mqtt_sink *s, const sw_gateway *g)
{
    discovery_result(s, sw_ha_discover_gateway(&s->cfg, g, s->buf, PAYLOAD_MAX, emit_discovery, s), "a gateway");
    discovery_result(s, sw_ha_discover_gateway_problems(&s->cfg, g, s->buf, PAYLOAD_MAX, emit_discovery, s),
                     "a gateway");
    char topic[SW_MQTT_TOPIC_MAX];
    size_t len;
    if (sw_mqtt_topic_gateway(topic, sizeof topic, &s->cfg, g->source, g->gateway_id) &&
        sw_mqtt_gateway_state(s->buf, PAYLOAD_MAX, g, &len) == SW_OK)
        publish_state(s, topic, s->buf, len);
}

static void send_strings_discovery(struct mqtt_sink *s)
{
    size_t n = sw_model_string_count(s->model);
    if (!n || !ensure_ptrs(s, n))
        return;
    for (size_t i = 0; i < n; i++)
        s->ptrs[i] = sw_model_string_at(s->model, i);
    discovery_result(s, sw_ha_discover_strings(&s->cfg, (const sw_string_agg *const *)s->ptrs, n, s->buf,
                                               PAYLOAD_MAX, emit_discovery, s), "the strings");
}

static void send_string_state(struct mqtt_sink *s, const sw_string_agg *a)
{
    char topic[SW_MQTT_TOPIC_MAX];
    size_t len;
    if (sw_mqtt_topic_string(topic, sizeof topic, &s->cfg, a->name) &&
        sw_mqtt_string_state(s->buf, PAYLOAD_MAX, a, &len) == SW_OK)
        publish_state(s, topic, s->buf, len);
}

static void send_snapshot(struct mqtt_sink *s);

/* Discovery for every device, then (after the queue) the current state of every device. */
static void announce_all(struct mqtt_sink *s, bool snapshot)
{
    s->seen_count = 0;
    s->counters.discovery_rounds++;
    size_t n = sw_model_gateway_count(s->model);
    for (size_t i = 0; i < n; i++) {
        const sw_gateway *g = sw_model_gateway_at(s->model, i);
        if (g) {
            discovery_result(s, sw_ha_discover_gateway(&s->cfg, g, s->buf, PAYLOAD_MAX, emit_discovery, s), "a gateway");
            discovery_result(s, sw_ha_discover_gateway_problems(&s->cfg, g, s->buf, PAYLOAD_MAX, emit_discovery, s),
                             "a gateway");
        }
    }
    n = sw_model_panel_count(s->model);
    for (size_t i = 0; i < n; i++) {
        const sw_panel *p = sw_model_panel_at(s->model, i);
        if (p && p->barcode[0]) {
            discovery_result(s, sw_ha_discover_panel(&s->cfg, p, s->buf, PAYLOAD_MAX, emit_discovery, s), p->name);
            discovery_result(s, sw_ha_discover_panel_problems(&s->cfg, p, s->buf, PAYLOAD_MAX, emit_discovery, s),
                             p->name);
        }
    }
    send_strings_discovery(s);
    send_site_discovery(s);
    n = sw_model_inverter_count(s->model);
    for (size_t i = 0; i < n; i++) {
        const sw_inverter *inv = sw_model_inverter_at(s->model, i);
        if (!inv)
            continue;
        size_t nv = collect_values(s, inv->name);
        sw_err e = sw_ha_discover_inverter(&s->cfg, inv, (const sw_inverter_value *const *)s->ptrs, nv, s->buf,
                                           PAYLOAD_MAX, emit_discovery, s);
        if (e != SW_ERR_NOT_FOUND)
            discovery_result(s, e, inv->name);
    }

    /* The outage queue, oldest first. */
    while (s->state == ST_CONNECTED && s->queue.count) {
        const sw_mqtt_msg *m = sw_mqtt_queue_front(&s->queue);
        if (publish_now(s, m->topic, m->payload, m->len, m->retain, true) == PUB_CONN_DOWN) {
            s->counters.queued = s->queue.count;
            connection_lost(s, "publish failed"); /* the rest waits for the next connection */
            return;
        }
        sw_mqtt_queue_pop(&s->queue);
    }
    s->counters.queued = s->queue.count;
    if (snapshot)
        send_snapshot(s);
}

/* The current state of every device (panels once they reported). */
static void send_snapshot(struct mqtt_sink *s)
{
    if (s->state != ST_CONNECTED)
        return;
    size_t n = sw_model_gateway_count(s->model);
    for (size_t i = 0; i < n; i++)
        if (sw_model_gateway_at(s->model, i)) {
            send_gateway(s, sw_model_gateway_at(s->model, i));
            send_gateway_problems(s, sw_model_gateway_at(s->model, i));
        }
    n = sw_model_panel_count(s->model);
    for (size_t i = 0; i < n; i++) {
        const sw_panel *p = sw_model_panel_at(s->model, i);
        if (p && p->last_seen_ns > 0)
            send_panel(s, p);
        if (p && p->barcode[0]) /* announced: its indicators start OFF */
            send_panel_problems(s, p);
    }
    send_problems_snapshot(s);
    n = sw_model_string_count(s->model);
    for (size_t i = 0; i < n; i++)
        if (sw_model_string_at(s->model, i))
            send_string_state(s, sw_model_string_at(s->model, i));
    n = sw_model_inverter_count(s->model);
    for (size_t i = 0; i < n; i++)
        if (sw_model_inverter_at(s->model, i))
            send_inverter(s, sw_model_inverter_at(s->model, i));
}

static int64_t on_resend_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    struct mqtt_sink *s = user;
    int64_t now = sw_loop_now_ms();
    int64_t wait = s->discovery_at_ms + s->cfg.resend_delay_ms - now;
    if (wait > 0 && now - s->resend_asked_ms < 4 * (int64_t)s->cfg.resend_delay_ms)
        return wait; /* more discovery went out meanwhile: give Home Assistant time for that too */
    s->resend_timer = 0;
    send_snapshot(s);
    return -1;
}

static void schedule_resend(struct mqtt_sink *s)
{
    if (s->closing)
        return;
    s->discovery_at_ms = sw_loop_now_ms();
    if (!s->resend_timer) {
        s->resend_asked_ms = s->discovery_at_ms;
        s->resend_timer = sw_loop_add_timer(s->loop, s->cfg.resend_delay_ms, on_resend_timer, s);
    }
}

/* ---- connection management ------------------------------------------------ */

static int64_t on_reconnect_timer(sw_loop *loop, uint64_t id, void *user);

static void schedule_reconnect(struct mqtt_sink *s)
{
    if (s->closing || s->reconnect_timer)
        return;
    int delay = s->backoff_ms;
    s->backoff_ms = delay >= s->cfg.reconnect_max_ms / 2 ? s->cfg.reconnect_max_ms : delay * 2;
    if (delay > s->cfg.reconnect_max_ms)
        delay = s->cfg.reconnect_max_ms;
    s->reconnect_timer = sw_loop_add_timer(s->loop, delay, on_reconnect_timer, s);
    SW_LOGD(LOG_TARGET, "reconnecting to %s:%u in %d ms", s->cfg.host, (unsigned)s->cfg.port, delay);
}

static void stop_connect_timer(struct mqtt_sink *s)
{
    if (s->connect_timer)
        sw_loop_del_timer(s->loop, s->connect_timer);
    s->connect_timer = 0;
}

static void connection_lost(struct mqtt_sink *s, const char *why)
{
    bool was_connected = s->state == ST_CONNECTED;
    stop_connect_timer(s);
    s->state = ST_IDLE;
    s->counters.connected = false;
    sync_fd(s);
    /* Whatever the broker did not acknowledge may not have reached it: it goes out again first. */
    sw_mqtt_queue_prepend(&s->queue, &s->sent);
    s->counters.queued = s->queue.count;
    s->counters.dropped = s->queue.dropped;
    if (was_connected)
        SW_LOGW(LOG_TARGET, "lost the broker %s:%u (%s); queueing state messages (at most %zu)", s->cfg.host,
                (unsigned)s->cfg.port, why, s->cfg.queue_size);
    else if (!s->warned_connect)
        SW_LOGW(LOG_TARGET, "cannot connect to the broker %s:%u (%s); retrying", s->cfg.host,
                (unsigned)s->cfg.port, why);
    else
        SW_LOGD(LOG_TARGET, "connect to %s:%u failed (%s)", s->cfg.host, (unsigned)s->cfg.port, why);
    s->warned_connect = true;
    schedule_reconnect(s);
}

static int64_t on_connect_timeout(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    struct mqtt_sink *s = user;
    s->connect_timer = 0;
    if (s->state == ST_CONNECTING)
        connection_lost(s, "no answer from the broker");
    return -1;
}

static void begin_connect(struct mqtt_sink *s)
{
    int rc = mosquitto_connect_async(s->mosq, s->cfg.host, s->cfg.port, s->cfg.keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS) {
        connection_lost(s, rc == MOSQ_ERR_ERRNO ? "connect failed" : mosquitto_strerror(rc));
        return;
    }
    s->state = ST_CONNECTING;
    stop_connect_timer(s);
    s->connect_timer = sw_loop_add_timer(s->loop, s->cfg.connect_timeout_ms, on_connect_timeout, s);
    sync_fd(s);
}

static sw_err configure(struct mqtt_sink *s);

/*
 * Every connection starts from a fresh client. libmosquitto keeps the QoS 1
 * and 2 messages a lost connection left unacknowledged and, after the next
 * CONNACK, sends them again by itself, clean session or not: behind the first
 * in-flight window of the new connection, so old discovery and old states
 * landed after the new discovery, in the middle of the outage queue or after
 * the current state (a retained one then stays stale), and while they filled
 * the window even "online" and the discovery waited behind them. Resetting the
 * client drops those copies; the sink has its own: discovery is rebuilt on
 * connect and the unacknowledged state messages went back into the outage
 * queue (connection_lost), in order.
 */
static int64_t on_reconnect_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    struct mqtt_sink *s = user;
    s->reconnect_timer = 0;
    int rc = mosquitto_reinitialise(s->mosq, s->cfg.client_id, true, s);
    if (rc != MOSQ_ERR_SUCCESS || configure(s) != SW_OK) {
        connection_lost(s, rc != MOSQ_ERR_SUCCESS ? mosquitto_strerror(rc) : "configuring the client failed");
        return -1;
    }
    begin_connect(s);
    return -1;
}

static void on_connect(struct mosquitto *mosq, void *user, int rc)
{
    (void)mosq;
    struct mqtt_sink *s = user;
    if (rc != 0) {
        /* Refused (bad credentials, client id...): libmosquitto drops the socket next. */
        connection_lost(s, mosquitto_connack_string(rc));
        return;
    }
    stop_connect_timer(s);
    s->state = ST_CONNECTED;
    s->counters.connected = true;
    s->counters.connects++;
    s->backoff_ms = s->cfg.reconnect_min_ms;
    if (s->warned_connect || s->counters.connects == 1)
        SW_LOGI(LOG_TARGET, "connected to %s:%u", s->cfg.host, (unsigned)s->cfg.port);
    s->warned_connect = false;
    publish_now(s, s->status_topic, "online", 6, true, false);
    if (s->cfg.discovery != SW_MQTT_DISCOVERY_OFF && s->cfg.ha_status_topic[0])
        mosquitto_subscribe(s->mosq, NULL, s->cfg.ha_status_topic, s->cfg.qos);
    if (s->cfg.n_controls && s->cfg.on_command) {
        char t[SW_MQTT_TOPIC_MAX + 32];
        snprintf(t, sizeof t, "%s/inverter/+/set/+", s->cfg.base_topic);
        mosquitto_subscribe(s->mosq, NULL, t, s->cfg.qos);
    }
    announce_all(s, true);
}

/* The broker has the message (PUBACK or PUBCOMP; for QoS 0, it was written to the socket). */
static void on_publish(struct mosquitto *mosq, void *user, int mid)
{
    (void)mosq;
    struct mqtt_sink *s = user;
    sw_mqtt_queue_remove_mid(&s->sent, mid);
}

static void on_disconnect(struct mosquitto *mosq, void *user, int rc)
{
    (void)mosq;
    struct mqtt_sink *s = user;
    if (s->closing || s->state == ST_IDLE)
        return;
    connection_lost(s, rc == 0 ? "disconnected" : mosquitto_strerror(rc));
}

/* <base>/inverter/<inverter>/set/<key>: a command for a control, handed to the owner as it is. */
static bool command_message(struct mqtt_sink *s, const struct mosquitto_message *m)
{
    if (!s->cfg.n_controls || !s->cfg.on_command)
        return false;
    size_t bl = strlen(s->cfg.base_topic);
    const char *t = m->topic;
    if (strncmp(t, s->cfg.base_topic, bl) != 0 || strncmp(t + bl, "/inverter/", 10) != 0)
        return false;
    t += bl + 10;
    const char *slash = strchr(t, '/');
    if (!slash || strncmp(slash, "/set/", 5) != 0 || strchr(slash + 5, '/') || !slash[5])
        return false;
    char inverter[SW_MQTT_TOPIC_MAX], key[SW_MQTT_TOPIC_MAX], payload[256];
    size_t il = (size_t)(slash - t);
    if (il == 0 || il >= sizeof inverter || strlen(slash + 5) >= sizeof key)
        return true;
    memcpy(inverter, t, il);
    inverter[il] = 0;
    snprintf(key, sizeof key, "%s", slash + 5);
    if (m->retain) {
        /* A retained command would be carried out again at every reconnect. */
        SW_LOGW(LOG_TARGET, "retained command on %s ignored: commands must not be retained", m->topic);
        return true;
    }
    size_t pl = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
    if (pl >= sizeof payload || (pl && memchr(m->payload, 0, pl))) {
        SW_LOGW(LOG_TARGET, "command on %s ignored: the payload is not a short text", m->topic);
        return true;
    }
    memcpy(payload, m->payload, pl);
    payload[pl] = 0;
    sw_mqtt_command cmd = { inverter, key, payload, pl };
    (void)s->cfg.on_command(s, &cmd, s->cfg.command_user);
    return true;
}

static void on_message(struct mosquitto *mosq, void *user, const struct mosquitto_message *m)
{
    (void)mosq;
    struct mqtt_sink *s = user;
    if (command_message(s, m))
        return;
    /* Home Assistant's birth message: it restarted and forgot everything not retained. */
    if (s->cfg.ha_status_topic[0] && strcmp(m->topic, s->cfg.ha_status_topic) == 0 && m->payloadlen == 6 &&
        memcmp(m->payload, "online", 6) == 0) {
        SW_LOGI(LOG_TARGET, "Home Assistant came online; announcing again, states in %d ms", s->cfg.resend_delay_ms);
        /* Every discovery message goes out again, and so the states follow resend_delay later: sent now,
         * they would reach a Home Assistant that has not subscribed to their topics yet. */
        announce_all(s, false);
        schedule_resend(s);
    }
}

static void on_fd(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)fd;
    struct mqtt_sink *s = user;
    int rc = MOSQ_ERR_SUCCESS;
    if (events & SW_LOOP_READ) {
        rc = mosquitto_loop_read(s->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            if (s->state != ST_IDLE)
                connection_lost(s, rc == MOSQ_ERR_ERRNO ? "connection error" : mosquitto_strerror(rc));
            return;
        }
    }
    if ((events & SW_LOOP_WRITE) && s->state != ST_IDLE) {
        rc = mosquitto_loop_write(s->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            if (s->state != ST_IDLE)
                connection_lost(s, rc == MOSQ_ERR_ERRNO ? "connection error" : mosquitto_strerror(rc));
            return;
        }
    }
    sync_fd(s);
}

static int64_t on_misc_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    struct mqtt_sink *s = user;
    if (s->state != ST_IDLE) {
        int rc = mosquitto_loop_misc(s->mosq);
        if (rc != MOSQ_ERR_SUCCESS && s->state != ST_IDLE)
            connection_lost(s, mosquitto_strerror(rc));
        else
            sync_fd(s);
    }
    return MISC_INTERVAL_MS;
}

/* ---- sink operations ------------------------------------------------------ */

static void op_gateway(void *self, const sw_gateway *g) { send_gateway(self, g); }
static void op_panel(void *self, const sw_panel *p) { send_panel(self, p); }

static void op_string(void *self, const sw_string_agg *a)
{
    struct mqtt_sink *s = self;
    send_strings_discovery(s);
    send_string_state(s, a);
}

static int64_t on_coalesce_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    struct mqtt_sink *s = user;
    s->coalesce_timer = 0;
    for (size_t i = 0; i < s->dirty_count; i++) {
        const sw_inverter *inv = find_inverter(s, s->dirty_inverters[i]);
        if (inv)
            send_inverter(s, inv);
        free(s->dirty_inverters[i]);
    }
    s->dirty_count = 0;
    return -1;
}

/* Values arrive one by one in a poll burst; one message per inverter per burst is enough. */
static void mark_inverter(struct mqtt_sink *s, const char *name)
{
    for (size_t i = 0; i < s->dirty_count; i++)
        if (strcmp(s->dirty_inverters[i], name) == 0)
            goto arm;
    if (s->dirty_count == s->dirty_cap) {
        size_t ncap = s->dirty_cap ? 2 * s->dirty_cap : 4;
        char **n = realloc(s->dirty_inverters, ncap * sizeof *n);
        if (!n)
            return;
        s->dirty_inverters = n;
        s->dirty_cap = ncap;
    }
    char *copy = malloc(strlen(name) + 1);
    if (!copy)
        return;
    strcpy(copy, name);
    s->dirty_inverters[s->dirty_count++] = copy;
arm:
    if (!s->coalesce_timer)
        s->coalesce_timer = sw_loop_add_timer(s->loop, s->cfg.coalesce_ms, on_coalesce_timer, s);
}

static void op_inverter(void *self, const sw_inverter *inv) { mark_inverter(self, inv->name); }
static void op_inverter_value(void *self, const sw_inverter_value *v) { mark_inverter(self, v->inverter); }

static void op_close(void *self)
{
    struct mqtt_sink *s = self;
    if (s->coalesce_timer) {
        sw_loop_del_timer(s->loop, s->coalesce_timer);
        on_coalesce_timer(s->loop, 0, s); /* the last values still go out (or into the queue) */
    }
    s->closing = true; /* from here on, a disconnect is expected */
    if (s->state == ST_CONNECTED) {
        /* A clean stop says so itself; the will is for crashes. */
        publish_now(s, s->status_topic, "offline", 7, true, false);
        mosquitto_disconnect(s->mosq);
        /* Best effort: push what fits into the socket now, without waiting. */
        for (int i = 0; i < 64 && mosquitto_want_write(s->mosq); i++)
            if (mosquitto_loop_write(s->mosq, 1) != MOSQ_ERR_SUCCESS)
                break;
    }
    if (s->fd >= 0)
        sw_loop_del_fd(s->loop, s->fd);
    if (s->misc_timer)
        sw_loop_del_timer(s->loop, s->misc_timer);
    if (s->reconnect_timer)
        sw_loop_del_timer(s->loop, s->reconnect_timer);
    if (s->resend_timer)
        sw_loop_del_timer(s->loop, s->resend_timer);
    stop_connect_timer(s);
    mosquitto_destroy(s->mosq);
    mosquitto_lib_cleanup();
    if (s->queue.dropped)
        SW_LOGW(LOG_TARGET, "%llu state messages were dropped while the broker was unreachable",
                (unsigned long long)s->queue.dropped);
    sw_mqtt_queue_free(&s->queue);
    sw_mqtt_queue_free(&s->sent);
    for (size_t i = 0; i < s->dirty_count; i++)
        free(s->dirty_inverters[i]);
    free(s->dirty_inverters);
    free(s->seen);
    free(s->ptrs);
    free(s->buf);
    free(s);
}

static const sw_sink_ops mqtt_ops = {
    .name = "mqtt",
    .on_gateway = op_gateway,
    .on_panel = op_panel,
    .on_string = op_string,
    .on_inverter = op_inverter,
    .on_value = op_inverter_value,
    .on_problem = op_problem,
    .close = op_close,
};

static sw_err configure(struct mqtt_sink *s)
{
    const sw_mqtt_config *c = &s->cfg;
    int rc = mosquitto_will_set(s->mosq, s->status_topic, 7, "offline", c->qos, true);
    if (rc == MOSQ_ERR_SUCCESS && c->username[0])
        rc = mosquitto_username_pw_set(s->mosq, c->username, c->password[0] ? c->password : NULL);
    if (rc == MOSQ_ERR_SUCCESS && c->tls) {
        if (c->tls_ca_file[0] || c->tls_ca_path[0])
            rc = mosquitto_tls_set(s->mosq, c->tls_ca_file[0] ? c->tls_ca_file : NULL,
                                   c->tls_ca_path[0] ? c->tls_ca_path : NULL,
                                   c->tls_cert_file[0] ? c->tls_cert_file : NULL,
                                   c->tls_key_file[0] ? c->tls_key_file : NULL, NULL);
        else
            rc = mosquitto_int_option(s->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
        if (rc == MOSQ_ERR_SUCCESS && c->tls_insecure)
            rc = mosquitto_tls_insecure_set(s->mosq, true);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        SW_LOGE(LOG_TARGET, "configuring the MQTT client failed: %s", mosquitto_strerror(rc));
        return SW_ERR_INVALID_ARGUMENT;
    }
    mosquitto_connect_callback_set(s->mosq, on_connect);
    mosquitto_disconnect_callback_set(s->mosq, on_disconnect);
    mosquitto_message_callback_set(s->mosq, on_message);
    mosquitto_publish_callback_set(s->mosq, on_publish);
    return SW_OK;
}

sw_err sw_mqtt_start(sw_loop *loop, sw_model *model, const sw_mqtt_config *c, sw_sink *out)
{
    if (!loop || !model || !c || !out)
        return SW_ERR_INVALID_ARGUMENT;
    struct mqtt_sink *s = calloc(1, sizeof *s);
    if (!s)
        return SW_ERR_NO_MEMORY;
    s->loop = loop;
    s->model = model;
    s->cfg = *c;
    s->fd = -1;
    if (!s->cfg.client_id[0]) {
        char slug[SW_MQTT_TEXT_MAX - 16];
        sw_mqtt_slug(slug, sizeof slug, s->cfg.base_topic);
        snprintf(s->cfg.client_id, sizeof s->cfg.client_id, "sunwire-%s", slug);
    }
    if (!s->cfg.ha_status_topic[0])
        snprintf(s->cfg.ha_status_topic, sizeof s->cfg.ha_status_topic, "%.*s/status", SW_MQTT_TEXT_MAX - 8,
                 s->cfg.discovery_prefix);
    if (s->cfg.reconnect_max_ms < s->cfg.reconnect_min_ms)
        s->cfg.reconnect_max_ms = s->cfg.reconnect_min_ms;
    s->backoff_ms = s->cfg.reconnect_min_ms;
    sw_mqtt_topic_status(s->status_topic, sizeof s->status_topic, &s->cfg);
    sw_err e = sw_mqtt_queue_init(&s->queue, s->cfg.queue_size ? s->cfg.queue_size : 1);
    if (e == SW_OK)
        e = sw_mqtt_queue_init(&s->sent, s->cfg.queue_size ? s->cfg.queue_size : 1);
    s->buf = malloc(PAYLOAD_MAX);
    if (e != SW_OK || !s->buf) {
        sw_mqtt_queue_free(&s->queue);
        sw_mqtt_queue_free(&s->sent);
        free(s->buf);
        free(s);
        return SW_ERR_NO_MEMORY;
    }
    mosquitto_lib_init();
    errno = 0;
    s->mosq = mosquitto_new(s->cfg.client_id, true, s);
    if (!s->mosq || (e = configure(s)) != SW_OK) {
        if (s->mosq) {
            mosquitto_destroy(s->mosq);
        } else if (errno == ENOMEM) {
            e = SW_ERR_NO_MEMORY;
        } else {
            SW_LOGE(LOG_TARGET, "client id \"%s\" is not usable", s->cfg.client_id);
            e = SW_ERR_INVALID_ARGUMENT;
        }
        mosquitto_lib_cleanup();
        sw_mqtt_queue_free(&s->queue);
        sw_mqtt_queue_free(&s->sent);
        free(s->buf);
        free(s);
        return e;
    }
    s->misc_timer = sw_loop_add_timer(loop, MISC_INTERVAL_MS, on_misc_timer, s);
    out->ops = &mqtt_ops;
    out->self = s;
    begin_connect(s);
    return SW_OK;
}

void sw_mqtt_get_counters(const sw_sink *sink, sw_mqtt_counters *out)
{
    memset(out, 0, sizeof *out);
    if (!sink || sink->ops != &mqtt_ops)
        return;
    const struct mqtt_sink *s = sink->self;
    *out = s->counters;
    out->queued = s->queue.count;
    out->dropped = s->queue.dropped;
}

#else /* !SUNWIRE_HAVE_MOSQUITTO */

sw_err sw_mqtt_start(sw_loop *loop, sw_model *model, const sw_mqtt_config *c, sw_sink *out)
{
    (void)loop; (void)model; (void)c; (void)out;
    return SW_ERR_UNSUPPORTED;
}

void sw_mqtt_get_counters(const sw_sink *sink, sw_mqtt_counters *out)
{
    (void)sink;
    memset(out, 0, sizeof *out);
}

#endif
