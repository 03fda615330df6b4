/*
 * sink/sink_mqtt.h: the MQTT output and its Home Assistant discovery.
 *
 * Three layers, each usable on its own:
 *   - pure builders (topics, state payloads, discovery payloads): records in,
 *     text out, into caller buffers; no broker, clock or allocation. They
 *     trust the model's records to be NUL-terminated and otherwise check
 *     nothing but buffer sizes;
 *   - the outage queue: a bounded FIFO of state messages kept while the broker
 *     is unreachable, dropping the oldest when full;
 *   - the sink: libmosquitto driven from the daemon's sw_loop (no threads),
 *     reconnecting with capped exponential backoff and re-announcing
 *     everything after each connect and each Home Assistant restart; every
 *     current state follows resend_delay later, once Home Assistant has
 *     subscribed to the topics of the entities it was just told about.
 *
 * Topics (base = base_topic, default "sunwire"; docs/mqtt.md has the payloads):
 *   <base>/status                         "online"/"offline", retained, also the last will
 *   <base>/panel/<panel id>/state         one panel (id: its barcode, else source_gateway_node)
 *   <base>/gateway/<gateway id>/state     one TAP gateway (id: source_gateway)
 *   <base>/string/<string name>/state     one string aggregate ("total" for all panels)
 *   <base>/inverter/<inverter name>/state one inverter and all its polled values
 *   <base>/problems                       the active problems, a JSON list, always retained
 *   <base>/<subject kind>/<id>/problems   one subject's problems, one entry per kind that
 *                                         applies to it (panel and gateway ids as above)
 * Discovery goes under discovery_prefix (default "homeassistant").
 */
#ifndef SUNWIRE_SINK_MQTT_H
#define SUNWIRE_SINK_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration ([mqtt] section) ------------------------------------- */

#define SW_MQTT_TEXT_MAX 256
#define SW_MQTT_TOPIC_MAX 256
/* instance_id: at most this many bytes minus one, letters, digits, '_' and '-'. */
#define SW_MQTT_ID_MAX 65
/* State messages kept while the broker is unreachable (queue_size default). */
#define SW_MQTT_QUEUE_DEFAULT 1000

typedef enum sw_mqtt_discovery_mode {
    SW_MQTT_DISCOVERY_DEVICE = 0, /* one config message per device (Home Assistant 2024.11+) */
    SW_MQTT_DISCOVERY_ENTITY,     /* legacy: one config message per entity */
    SW_MQTT_DISCOVERY_OFF
} sw_mqtt_discovery_mode;

/*
 * A control of an inverter that Home Assistant may set (docs/control.md):
 * announced as a number, select or switch entity on the inverter's device,
 * its state read from the inverter's state, its commands published to
 * <base>/inverter/<inverter>/set/<value key>. The daemon fills these from
 * its write plan; the sink only describes them and passes commands on.
 */
typedef struct sw_ha_control {
    const char *inverter;         /* the inverter's name */
    const char *object;           /* RCT object name, e.g. "power_mng.soc_min" */
    const char *name;             /* display name */
    const char *platform;         /* "number", "select" or "switch" */
    double min, max, step;        /* number: in the displayed unit */
    double scale;                 /* displayed value = state value * scale */
    const char *unit;             /* displayed unit, NULL = none */
    const char *device_class;     /* number device class, NULL = none */
    const char *const *options;   /* select: the labels */
    size_t n_options;
} sw_ha_control;

/* A command that arrived on <base>/inverter/<inverter>/set/<key>. */
typedef struct sw_mqtt_command {
    const char *inverter;         /* the topic level: the inverter's name, slugged */
    const char *key;              /* the value key (sw_mqtt_value_key of the object) */
    const char *payload;          /* NUL-terminated */
    size_t len;
} sw_mqtt_command;

typedef struct mqtt_sink sw_mqtt_sink;
/* Called on the loop for each command; the return value is ignored (commands are independent). */
typedef int (*sw_mqtt_command_cb)(sw_mqtt_sink *sink, const sw_mqtt_command *cmd, void *user);

typedef struct sw_mqtt_config {
    char host[SW_MQTT_TEXT_MAX];        /* default "127.0.0.1" */
    uint16_t port;                      /* default 1883, 8883 once TLS is asked for */
    bool port_set;
    char client_id[SW_MQTT_TEXT_MAX];   /* default "sunwire-<base_topic>" */
    char username[SW_MQTT_TEXT_MAX];    /* "" = anonymous */
    char password[SW_MQTT_TEXT_MAX];
    bool tls;                           /* implied by any tls_* file */
    char tls_ca_file[SW_MQTT_TEXT_MAX];
    char tls_ca_path[SW_MQTT_TEXT_MAX];
    char tls_cert_file[SW_MQTT_TEXT_MAX];
    char tls_key_file[SW_MQTT_TEXT_MAX];
    bool tls_insecure;                  /* skip the host name check (never the chain) */
    int keepalive_s;                    /* default 60 */
    char base_topic[SW_MQTT_TEXT_MAX];  /* default "sunwire" */
    char instance_id[SW_MQTT_ID_MAX];   /* namespaces Home Assistant ids; "" = derived from base_topic */
    char discovery_prefix[SW_MQTT_TEXT_MAX]; /* default "homeassistant" */
    char ha_status_topic[SW_MQTT_TEXT_MAX];  /* default "<discovery_prefix>/status" */
    sw_mqtt_discovery_mode discovery;
    bool retain_state;                  /* default false */
    bool retain_discovery;              /* default true */
    int qos;                            /* 0..2, default 1 */
    size_t queue_size;                  /* default SW_MQTT_QUEUE_DEFAULT, at least 1 */
    int reconnect_min_ms;               /* first retry delay, default 1000 */
    int reconnect_max_ms;               /* backoff cap, default 60000 */
    int connect_timeout_ms;             /* no CONNACK by then: give up and retry; default 10000 */
    int coalesce_ms;                    /* inverter values within this window share one message; default 250 */
    int resend_delay_ms;                /* states again this long after new discovery or HA's birth; default 5000 */
    /* Controls (not a key of [mqtt]: the daemon sets them when an [rct] section has control = on).
     * None: no command topic is subscribed and no control entity announced. */
    const sw_ha_control *controls;
    size_t n_controls;
    sw_mqtt_command_cb on_command;
    void *command_user;
} sw_mqtt_config;

void sw_mqtt_config_defaults(sw_mqtt_config *c);
/*
 * Apply one key of the [mqtt] section. Keys: host, port, client_id, username,
 * password, tls, tls_ca_file, tls_ca_path, tls_cert_file, tls_key_file,
 * tls_insecure, keepalive, base_topic, instance_id, discovery_prefix, ha_status_topic,
 * discovery (device|entity|off), retain, retain_discovery, qos, queue_size,
 * reconnect_min, reconnect_max, connect_timeout (seconds, decimals allowed),
 * coalesce, resend_delay (seconds). Booleans: true/false, yes/no, on/off, 1/0.
 * SW_ERR_NOT_FOUND for an unknown key, SW_ERR_INVALID_ARGUMENT for a bad value;
 * both write a message naming the problem into err.
 */
sw_err sw_mqtt_config_set(sw_mqtt_config *c, const char *key, const char *value, char *err, size_t errcap);

/* ---- topics ------------------------------------------------------------- */

/*
 * Copy text into out keeping [A-Za-z0-9_-] and turning every other byte into
 * '_' (runs collapse to one), so it is safe as an MQTT topic level and a Home
 * Assistant object id. Returns the length, or 0 when out is too small.
 */
size_t sw_mqtt_slug(char *out, size_t cap, const char *text);

/*
 * The instance id that starts every Home Assistant device identifier (and so
 * every unique_id): instance_id when set, else base_topic slugged ("sunwire"
 * by default, so a single daemon keeps the identifiers it always had). Two
 * daemons on one broker need two base topics, and so get two instance ids.
 */
size_t sw_mqtt_instance_id(char *out, size_t cap, const sw_mqtt_config *c);

/* Stable identifiers (slugged): panel "<barcode>" or "<source>_<gw>_<node>",
 * gateway "<source>_<gw>", inverter "<serial>" or "" while the serial is unknown. */
size_t sw_mqtt_panel_id(char *out, size_t cap, const sw_panel *p);
size_t sw_mqtt_gateway_id(char *out, size_t cap, const char *source, uint16_t gateway_id);
size_t sw_mqtt_inverter_id(char *out, size_t cap, const sw_inverter *inv);

/* The state topics listed at the top. Return the length, 0 when out is too small. */
size_t sw_mqtt_topic_status(char *out, size_t cap, const sw_mqtt_config *c);
size_t sw_mqtt_topic_panel(char *out, size_t cap, const sw_mqtt_config *c, const sw_panel *p);
size_t sw_mqtt_topic_gateway(char *out, size_t cap, const sw_mqtt_config *c, const char *source,
                             uint16_t gateway_id);
size_t sw_mqtt_topic_string(char *out, size_t cap, const sw_mqtt_config *c, const char *name);
size_t sw_mqtt_topic_inverter(char *out, size_t cap, const sw_mqtt_config *c, const char *name);

/* The problem topics listed at the top; id is the subject's id in topics (panel: its panel id;
 * gateway: its gateway id; the others: sw_mqtt_problem_subject_id). */
size_t sw_mqtt_topic_problems(char *out, size_t cap, const sw_mqtt_config *c);
size_t sw_mqtt_topic_subject_problems(char *out, size_t cap, const sw_mqtt_config *c, sw_subject_kind k,
                                      const char *id);
/* The subject slugged for a topic level ("house/module2" -> "house_module2"). */
size_t sw_mqtt_problem_subject_id(char *out, size_t cap, const sw_problem *p);

/* <base>/inverter/<name>/set/<value key of object>: where commands for a control go. */
size_t sw_mqtt_topic_command(char *out, size_t cap, const sw_mqtt_config *c, const char *name, const char *object);
/* The JSON key an inverter value gets in the inverter's state ("battery.soc" -> "battery_soc"). */
size_t sw_mqtt_value_key(char *out, size_t cap, const char *object_name);

/* ---- state payloads (one JSON object each) ------------------------------ */
/* All return SW_OK and the text length in *len, or SW_ERR_NO_SPACE. */

sw_err sw_mqtt_panel_state(char *buf, size_t cap, const sw_panel *p, size_t *len);
sw_err sw_mqtt_gateway_state(char *buf, size_t cap, const sw_gateway *g, size_t *len);
sw_err sw_mqtt_string_state(char *buf, size_t cap, const sw_string_agg *s, size_t *len);
/* vals: the inverter's values (entries of other inverters are skipped). */
sw_err sw_mqtt_inverter_state(char *buf, size_t cap, const sw_inverter *inv,
                              const sw_inverter_value *const *vals, size_t n, size_t *len);

/*
 * Problems: the list of the active ones (sw_problem_json objects; the cleared ones
 * in probs are skipped), and one subject's state: an object with one entry per
 * kind that applies to subject kind k, {"active", "since", "until", "reason"},
 * inactive for kinds without a record in probs (the records of one subject).
 */
sw_err sw_mqtt_problems_state(char *buf, size_t cap, const sw_problem *const *probs, size_t n, size_t *len);
sw_err sw_mqtt_subject_problems_state(char *buf, size_t cap, sw_subject_kind k, const sw_problem *const *probs,
                                      size_t n, size_t *len);

/* ---- Home Assistant discovery ------------------------------------------- */

/* Receives each discovery message; payloads are complete JSON objects. */
typedef void (*sw_ha_emit_cb)(void *user, const char *topic, const char *payload, size_t len);

/*
 * Build the discovery message(s) of one device: one message in device mode,
 * one per entity in entity mode, none when discovery is off. buf is scratch
 * space for one payload (8 KiB is plenty). SW_ERR_NO_SPACE when a payload
 * does not fit; SW_ERR_NOT_FOUND for an inverter whose serial is not known
 * yet (its identity would not be stable, so nothing is announced).
 */
sw_err sw_ha_discover_panel(const sw_mqtt_config *c, const sw_panel *p, char *buf, size_t cap,
                            sw_ha_emit_cb emit, void *user);
sw_err sw_ha_discover_gateway(const sw_mqtt_config *c, const sw_gateway *g, char *buf, size_t cap,
                              sw_ha_emit_cb emit, void *user);
/*
 * One device holding every string aggregate (and "total"). When the device
 * message with every string's statistics (SW_FF_DETAIL fields) does not fit
 * in cap, it is sent without them and SW_ERR_TOO_LONG says so; their values
 * stay in the state payloads.
 */
sw_err sw_ha_discover_strings(const sw_mqtt_config *c, const sw_string_agg *const *aggs, size_t n,
                              char *buf, size_t cap, sw_ha_emit_cb emit, void *user);
sw_err sw_ha_discover_inverter(const sw_mqtt_config *c, const sw_inverter *inv,
                               const sw_inverter_value *const *vals, size_t n, char *buf, size_t cap,
                               sw_ha_emit_cb emit, void *user);

/*
 * Problems as binary sensors (device class problem), one per kind that applies,
 * on the panel's or gateway's own device: a message of their own that names the
 * same device identifier (device mode: <prefix>/device/<device id>_problems/config),
 * so the record's own discovery stays as it was. They read the subject's problem
 * topic and follow <base>/status alone (a problem outlives the night).
 */
sw_err sw_ha_discover_panel_problems(const sw_mqtt_config *c, const sw_panel *p, char *buf, size_t cap,
                                     sw_ha_emit_cb emit, void *user);
sw_err sw_ha_discover_gateway_problems(const sw_mqtt_config *c, const sw_gateway *g, char *buf, size_t cap,
                                       sw_ha_emit_cb emit, void *user);
/*
 * The site device: the "Active problems" count (read from <base>/problems) and a
 * binary sensor for each record in probs whose subject has no device of its own
 * (bus, string, inverter, battery, site); panel and gateway records are skipped.
 */
sw_err sw_ha_discover_site(const sw_mqtt_config *c, const sw_problem *const *probs, size_t n, char *buf,
                           size_t cap, sw_ha_emit_cb emit, void *user);

/* Home Assistant's description of one inverter value, chosen from its unit and name. */
typedef struct sw_ha_value_class {
    const char *device_class;   /* NULL = none */
    const char *unit;           /* unit to announce, NULL = none */
    const char *state_class;    /* "measurement", "total_increasing" or NULL */
    double scale;               /* state value = model number * scale */
} sw_ha_value_class;
void sw_ha_classify_value(const sw_inverter_value *v, sw_ha_value_class *out);

/* ---- outage queue -------------------------------------------------------- */

typedef struct sw_mqtt_msg {
    char *topic;
    char *payload;
    size_t len;
    bool retain;
    int mid;                     /* the connection's message id while it awaits its acknowledgement, else 0 */
} sw_mqtt_msg;

typedef struct sw_mqtt_queue {
    sw_mqtt_msg *slots;
    size_t cap, head, count;
    uint64_t dropped;            /* messages pushed out by newer ones, ever */
} sw_mqtt_queue;

/* Allocates room for cap (>= 1) messages. */
sw_err sw_mqtt_queue_init(sw_mqtt_queue *q, size_t cap);
void sw_mqtt_queue_free(sw_mqtt_queue *q);
/* Copies the message in; when full the oldest is dropped (and counted) first. */
sw_err sw_mqtt_queue_push(sw_mqtt_queue *q, const char *topic, const char *payload, size_t len, bool retain);
/* The oldest message, NULL when empty; valid until the next push or pop. */
const sw_mqtt_msg *sw_mqtt_queue_front(const sw_mqtt_queue *q);
/* The newest message (the one just pushed), NULL when empty. */
sw_mqtt_msg *sw_mqtt_queue_back(sw_mqtt_queue *q);
void sw_mqtt_queue_pop(sw_mqtt_queue *q);
/* Takes out the oldest message whose mid is `mid`, wherever it is; false when none has it. */
bool sw_mqtt_queue_remove_mid(sw_mqtt_queue *q, int mid);
/* Moves every message of `from` in front of q's, keeping their order; what does not fit goes from the
 * oldest end and is counted in q->dropped. `from` is left empty; nothing is allocated. */
void sw_mqtt_queue_prepend(sw_mqtt_queue *q, sw_mqtt_queue *from);

/* ---- the sink ------------------------------------------------------------ */

typedef struct sw_mqtt_counters {
    bool connected;
    uint64_t connects;           /* successful CONNACKs */
    uint64_t published;          /* messages handed to the broker connection */
    uint64_t queued;             /* state messages waiting for the broker now */
    uint64_t dropped;            /* state messages lost to the queue bound */
    uint64_t discovery_rounds;   /* full discovery announcements sent */
} sw_mqtt_counters;

/*
 * Create the output and start connecting (never blocks on the network, except
 * for resolving a host name). `out` gets the sink; stop it with
 * out->ops->close(out->self), which publishes "offline" when connected.
 * SW_ERR_UNSUPPORTED when built without libmosquitto.
 */
sw_err sw_mqtt_start(sw_loop *loop, sw_model *model, const sw_mqtt_config *c, sw_sink *out);
/* Counters of a sink made by sw_mqtt_start. */
void sw_mqtt_get_counters(const sw_sink *s, sw_mqtt_counters *out);

#ifdef __cplusplus
}
#endif
#endif
