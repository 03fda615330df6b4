/*
 * model/model.h: the live picture of the installation, a layer of its own
 * (private to the program; nothing here is installed).
 *
 * `sunwire run` turns protocol events into this model: one record per panel,
 * string, gateway, inverter and source. The model knows no sink, loop or
 * daemon: dependencies run one way, sinks -> model and daemon -> model +
 * sinks + sources. Outputs see it two ways:
 *   - pushed: every change is announced to each registered sink through the
 *     sw_sink_ops interface declared here (MQTT state messages, InfluxDB
 *     lines, SQLite rows, SSE);
 *   - pulled: a scrape or an API request reads the model directly
 *     (Prometheus /metrics, the dashboard's JSON API).
 * Each record's fields are declared once, in model/fields.h; sinks derive
 * their keys, units and metric names from that table.
 *
 * The model trusts its callers for the physics of a report (the decoders
 * already range-checked them) and checks only what it owns: capacities,
 * identities and time going backwards. Capacities are fixed when the model is
 * created (SW_MODEL_MAX_*), so record pointers handed out by the accessors
 * stay valid for the model's lifetime; a full table makes the mutation return
 * SW_ERR_NO_SPACE and nothing else. The model never reads a clock: every
 * mutation carries its time. Everything runs on one thread, so the model
 * needs no locking. Names and addresses are fixed-size, NUL-terminated
 * arrays so records can be copied and stored without ownership questions. An
 * inverter value's text and structured value have no size limit: the model
 * keeps its own copy of each, as long as the value is.
 */
#ifndef SW_MODEL_MODEL_H
#define SW_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "model/problem.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_MODEL_NAME_MAX 64
#define SW_MODEL_TEXT_MAX 160  /* addresses, errors, gateway versions; not inverter values */
#define SW_MODEL_DIAGNOSIS_MAX 320 /* a line diagnosis in plain words */

/* What the daemon reports a configured input to be (protocol and medium together);
 * the Tigo reader's own choice of backend is sw_source_medium in io/io_source.h. */
typedef enum sw_source_kind {
    SW_SOURCE_TIGO_SERIAL = 1,
    SW_SOURCE_TIGO_TCP,
    SW_SOURCE_TIGO_FILE,
    SW_SOURCE_RCT_TCP
} sw_source_kind;

/* One configured input: a Tigo bus or an RCT inverter connection. */
typedef struct sw_source_status {
    char name[SW_MODEL_NAME_MAX];     /* from the configuration, e.g. "roof" */
    sw_source_kind kind;
    char address[SW_MODEL_TEXT_MAX];  /* "/dev/ttyUSB0", "192.0.2.10:502", ... */
    bool connected;
    int64_t last_data_ns;             /* wall clock of the last byte, 0 = never */
    uint64_t bytes;
    uint64_t frames;                  /* good frames (Tigo link layer / RCT frames) */
    uint64_t crc_errors;
    uint64_t resyncs;                 /* garbage/noise runs, truncated frames */
    uint64_t reconnects;
    uint64_t requests, timeouts, retries, foreign_replies; /* RCT polling */
    char last_error[SW_MODEL_TEXT_MAX]; /* "" when none */
    char diagnosis[SW_MODEL_DIAGNOSIS_MAX]; /* Tigo: what the line looks like (tigo/doctor.h), "" until judged */
} sw_source_status;

/* A Tigo TAP gateway on a bus. */
typedef struct sw_gateway {
    char source[SW_MODEL_NAME_MAX];
    uint16_t gateway_id;
    char address[24];                 /* "04:C0:5B:30:00:02:BE:16", "" when unknown */
    char barcode[16];
    char version[SW_MODEL_TEXT_MAX];  /* first line of the version text, "" when unknown */
} sw_gateway;

/* A Tigo optimizer (one panel): its identity and its latest report. */
typedef struct sw_panel {
    char source[SW_MODEL_NAME_MAX];
    uint16_t gateway_id;
    uint16_t node_id;
    char barcode[16];                 /* "" until the node table is known */
    char name[SW_MODEL_NAME_MAX];     /* from the panel map; else the barcode; else "<gateway>-<node>" */
    char string_name[SW_MODEL_NAME_MAX]; /* "" when not mapped */
    char series_id[SW_MODEL_NAME_MAX];   /* fixed when the record is created: the barcode if known then
                                            (state file, node table), else "<gateway>-<node>"; never
                                            changes, so time series keyed by it never split */
    bool mapped;                      /* the barcode is in the configured panel map */
    bool online;                      /* false once no report came for the night/stale timeout */
    int64_t last_seen_ns;             /* measurement time of the last report, 0 = never */
    double voltage_in, voltage_out;   /* V */
    double current_in;                /* A (the optimizer's input current) */
    double power_w;                   /* voltage_in * current_in */
    double duty_cycle;                /* 0..1 */
    double temperature_c;
    int rssi;                         /* raw 0..255 */
    double energy_total_wh;           /* lifetime as published (see hold_energy), never decreases */
    double energy_today_wh;           /* since local midnight, as published */
    /* The radio link, from the report-loss detector (health/radio.h); 0 until it knows. */
    double loss_15m;                  /* 0..1: reports lost over the last 15 minutes */
    double loss_day;                  /* 0..1: over the last 24 hours */
    double rssi_trend;                /* raw RSSI: the 15-minute mean minus the 24-hour mean */
    int next_hop;                     /* from the node's topology report: 1 = the gateway, 0 = unknown */
    /* The daily performance index: today's energy over the median of its peers' today
     * (the other panels of its string, or all panels in no string); NAN until the
     * peers' median reached performance_min_wh. Updated with each of its reports. */
    double performance;
    double peer_energy_today_wh;      /* that median (NAN when there are too few peers) */
    int64_t performance_day;          /* local day both belong to, -1 = none yet */
} sw_panel;

/* Aggregates over the panels of one string (or of all panels: name "total"). */
typedef struct sw_string_agg {
    char name[SW_MODEL_NAME_MAX];
    unsigned panels;                  /* panels assigned */
    unsigned online;                  /* of which reporting */
    double power_sum_w, power_min_w, power_max_w, power_avg_w; /* over online panels */
    double energy_today_wh, energy_total_wh;
    unsigned identified;              /* panels whose barcode is known (a named string's all are) */
    /* The spread of the online panels' readings (0 while none is online): min,
     * max and mean of each, and the sum where one means something (the
     * voltages of panels in series add up; their currents, temperatures,
     * duty cycles and signals do not). */
    double voltage_in_min, voltage_in_max, voltage_in_avg, voltage_in_sum;
    double voltage_out_min, voltage_out_max, voltage_out_avg, voltage_out_sum;
    double current_in_min, current_in_max, current_in_avg;
    double temperature_min_c, temperature_max_c, temperature_avg_c;
    double duty_cycle_min, duty_cycle_max, duty_cycle_avg;
    double rssi_min, rssi_max, rssi_avg;
} sw_string_agg;

/* An RCT inverter and its identity. */
typedef struct sw_inverter {
    char name[SW_MODEL_NAME_MAX];     /* from the configuration */
    char host[SW_MODEL_TEXT_MAX];
    uint16_t port;
    char serial[SW_MODEL_NAME_MAX];   /* "" until read */
    char model[SW_MODEL_NAME_MAX];
    char firmware[SW_MODEL_NAME_MAX];
    bool online;
    int64_t last_poll_ns;             /* wall clock of the last complete answer */
} sw_inverter;

/*
 * One polled inverter object's latest value. text and json are whole, never
 * cut: in the record the model hands out they point to the model's own
 * copies, valid until this value changes; a caller of
 * sw_model_inverter_value_set points them at its own text.
 */
typedef struct sw_inverter_value {
    char inverter[SW_MODEL_NAME_MAX];
    uint32_t object_id;
    char object_name[SW_MODEL_NAME_MAX]; /* registry name, e.g. "battery.soc" */
    char unit[16];                    /* registry unit, e.g. "W", "%" ("" when none) */
    bool is_number;
    double number;                    /* when is_number */
    const char *text;                 /* display text (enum label, string, or the number); never NULL in the model */
    /* A structured value (battery cells and modules, time series, event
     * tables) as one JSON object, for outputs to embed as it is; NULL for
     * numbers and plain text. */
    const char *json;
    int64_t timestamp_ns;
} sw_inverter_value;

/*
 * What became of the control writes to RCT settings (docs/control.md), one
 * record per inverter and object. The write plan (rct/rct_control.h) decides
 * and the daemon's poller does the I/O; the poller counts here how each
 * asked-for write ended and what the plan's limits leave, so the pulled
 * outputs (Prometheus, the web API) show whether writes are refused, ignored
 * by the device, retried or blocked. The model knows nothing of RCT: it keeps
 * the counts and times it is handed.
 *
 * Every way a write can end is declared once, in SW_CONTROL_RESULTS: its
 * outcome (the rct_control event's "verified", "failed", "refused"), its
 * reason class (the `reason` label and key, "" for verified) and a meaning.
 */
/* X(ID, outcome, reason, meaning) */
#define SW_CONTROL_RESULTS(X)                                                                                  \
    X(VERIFIED, "verified", "", "read back as written")                                                        \
    X(IGNORED, "failed", "ignored", "every write read back another value: the device ignored it")              \
    X(NO_ANSWER, "failed", "no_answer", "the inverter did not answer, or was not connected")                   \
    X(FLASH_SPENT, "failed", "flash_budget", "the flash budget ran out before the next retry")                 \
    X(ERROR, "failed", "error", "the value could not be sent as the object's type")                            \
    X(NOT_ALLOWED, "refused", "not_allowed", "the object is not in control_allow")                             \
    X(OUT_OF_RANGE, "refused", "out_of_range", "the value is outside the object's limits")                     \
    X(INVALID, "refused", "invalid", "the command names no known control, or its payload is no value of it")   \
    X(BLOCKED, "refused", "blocked", "writes are blocked for 24 hours: the saved control limits were unreadable") \
    X(RATE_LIMITED, "refused", "rate_limited", "the object was written less than control_rate ago")            \
    X(FLASH_BUDGET, "refused", "flash_budget", "the object's flash budget of the last 24 hours is used up")    \
    X(BUSY, "refused", "busy", "another write to the inverter was in progress")

#define SW_CONTROL_RESULT_ENUM(id, outcome, reason, meaning) SW_CONTROL_##id,
typedef enum sw_control_result {
    SW_CONTROL_RESULTS(SW_CONTROL_RESULT_ENUM)
    SW_CONTROL_RESULT_COUNT
} sw_control_result;
#undef SW_CONTROL_RESULT_ENUM

/* "verified", "failed", "refused"; NULL when r is out of range. */
const char *sw_control_result_outcome(sw_control_result r);
/* The reason class: "" for verified, "ignored", "rate_limited", ...; NULL when out of range. */
const char *sw_control_result_reason(sw_control_result r);
/* One sentence for people; NULL when out of range. */
const char *sw_control_result_meaning(sw_control_result r);

/*
 * One object of one inverter. Its fields are declared in model/fields.h
 * (SW_CONTROL_FIELDS); writes[] is counted by result.
 */
typedef struct sw_control {
    char inverter[SW_MODEL_NAME_MAX];
    char object[SW_MODEL_NAME_MAX];   /* registry name; "" for commands that named no known control */
    bool allowed;                     /* in control_allow: the flash and block figures below apply */
    uint64_t writes[SW_CONTROL_RESULT_COUNT]; /* asked-for writes, by how they ended */
    uint64_t retries;                 /* write frames sent again after the device ignored one */
    unsigned flash_per_day;           /* the budget: write frames per 24 hours */
    unsigned flash_left;              /* what is left of it now */
    bool blocked;                     /* the budget is used up, or writes are blocked after a corrupt state
                                         file: nothing is written until blocked_until_ns */
    int64_t blocked_until_ns;         /* wall clock the block ends, 0 while not blocked */
} sw_control;

/*
 * Typed events: what happened to the installation besides a record changing.
 * One struct per kind; sinks that keep a log (the dashboard's live view, the
 * history's events table, InfluxDB) receive them through sw_sink_ops.on_event.
 */
typedef enum sw_event_kind {
    SW_EVENT_SOURCE_UP = 1,   /* a source connected */
    SW_EVENT_SOURCE_DOWN,     /* a source lost its connection or failed to connect */
    SW_EVENT_UNMAPPED_PANEL,  /* a barcode reported that is not in the panel map (once per barcode) */
    SW_EVENT_INFRASTRUCTURE,  /* a Tigo gateway's identity, version, enumeration or node table changed */
    SW_EVENT_RCT_FAULT,       /* an RCT fault word changed */
    SW_EVENT_RCT_CONTROL      /* a write to an RCT setting was verified, failed or refused */
} sw_event_kind;

typedef struct sw_event_source_up {
    const char *address;      /* what it connected to */
} sw_event_source_up;

typedef struct sw_event_source_down {
    const char *error;        /* why, "" when unknown */
} sw_event_source_down;

typedef struct sw_event_unmapped_panel {
    const char *barcode;
} sw_event_unmapped_panel;

typedef struct sw_event_infrastructure {
    uint16_t gateway;
    const char *cause;        /* "identity", "version", "enumeration", "node_table" */
} sw_event_infrastructure;

typedef struct sw_event_rct_fault {
    const char *object;       /* e.g. "fault[0].flt" */
    uint32_t value;           /* the word's bits */
    const char *faults;       /* the active faults as text ("none" when 0) */
} sw_event_rct_fault;

typedef struct sw_event_rct_control {
    const char *object;       /* e.g. "power_mng.soc_min" */
    const char *outcome;      /* "verified", "failed", "refused" */
    const char *origin;       /* "command" (MQTT), "keep" (keep mode) */
    const char *old_value;    /* before the write, "" when unknown (device unit) */
    const char *new_value;    /* what was asked for (device unit) */
    const char *read_back;    /* what the device held after the last write, "" when never read */
    const char *reason;       /* why it was refused or failed, "" when verified */
    int attempts;             /* write frames sent */
} sw_event_rct_control;

typedef struct sw_event {
    sw_event_kind kind;
    const char *source;       /* the configured source it concerns */
    int64_t time_ns;          /* when (Unix ns) */
    union {
        sw_event_source_up source_up;
        sw_event_source_down source_down;
        sw_event_unmapped_panel unmapped_panel;
        sw_event_infrastructure infrastructure;
        sw_event_rct_fault rct_fault;
        sw_event_rct_control rct_control;
    } u;
} sw_event;

/* "source_up", "source_down", "unmapped_panel", "tigo_infrastructure", "rct_fault", "rct_control"
 * ("unknown" otherwise). */
const char *sw_event_kind_name(sw_event_kind k);
/*
 * The event as one JSON object, {"source": ..., <detail>: ...}, the payload
 * the live view, the events table and InfluxDB store. SW_ERR_NO_SPACE when
 * it does not fit in cap (*len then 0).
 */
sw_err sw_event_json(const sw_event *ev, char *buf, size_t cap, size_t *len);

/*
 * What a sink implements; any member may be NULL. Record hooks receive the
 * model's record after it changed; the record stays valid until the next
 * model change.
 */
typedef struct sw_sink_ops {
    const char *name;
    void (*on_source)(void *self, const sw_source_status *s);
    void (*on_gateway)(void *self, const sw_gateway *g);              /* identity/version changed */
    void (*on_panel)(void *self, const sw_panel *p);                  /* a new power report, or online changed */
    void (*on_string)(void *self, const sw_string_agg *s);            /* after panel updates settle */
    void (*on_inverter)(void *self, const sw_inverter *inv);          /* identity/online changed */
    void (*on_value)(void *self, const sw_inverter_value *v);         /* a new polled value */
    void (*on_event)(void *self, const sw_event *ev);                 /* something happened (typed) */
    void (*on_problem)(void *self, const sw_problem *p);              /* raised, reason changed, or cleared */
    void (*close)(void *self);
} sw_sink_ops;

typedef struct sw_sink {
    const sw_sink_ops *ops;
    void *self;
} sw_sink;

/*
 * The collection (src/model/model.c), owned by whoever made it. Readers use these
 * accessors; indexes are stable until the next model change, so iterate
 * without yielding to the loop. Pointers stay valid for the model's lifetime.
 */
typedef struct sw_model sw_model;

size_t sw_model_source_count(const sw_model *m);
const sw_source_status *sw_model_source_at(const sw_model *m, size_t i);
size_t sw_model_gateway_count(const sw_model *m);
const sw_gateway *sw_model_gateway_at(const sw_model *m, size_t i);
size_t sw_model_panel_count(const sw_model *m);
const sw_panel *sw_model_panel_at(const sw_model *m, size_t i);
size_t sw_model_string_count(const sw_model *m);          /* the "total" aggregate is last */
const sw_string_agg *sw_model_string_at(const sw_model *m, size_t i);
size_t sw_model_inverter_count(const sw_model *m);
const sw_inverter *sw_model_inverter_at(const sw_model *m, size_t i);
size_t sw_model_inverter_value_count(const sw_model *m);
const sw_inverter_value *sw_model_inverter_value_at(const sw_model *m, size_t i);
/* Wall clock of the model's last change, and when the daemon started. */
int64_t sw_model_updated_ns(const sw_model *m);
int64_t sw_model_started_ns(const sw_model *m);

/* ==== mutation API: what the daemon's source drivers call ==================== */

#define SW_MODEL_MAX_SOURCES 32
#define SW_MODEL_MAX_GATEWAYS 64
#define SW_MODEL_MAX_PANELS 2048
#define SW_MODEL_MAX_STRINGS 128     /* named strings; the "total" aggregate is extra */
#define SW_MODEL_MAX_INVERTERS 16
#define SW_MODEL_MAX_INVERTER_VALUES 1024
#define SW_MODEL_MAX_SINKS 16
#define SW_MODEL_MAX_MAP 2048        /* [panels] entries */

/* ---- options ------------------------------------------------------------- */
typedef enum sw_night_mode {
    SW_NIGHT_UNAVAILABLE = 0, /* silent panels go offline (online = false), values kept */
    SW_NIGHT_ZERO             /* silent panels go offline and report 0 W / 0 V / 0 A */
} sw_night_mode;

typedef struct sw_model_options {
    int64_t stale_timeout_ns;   /* silence after which a panel is offline; default 10 min */
    sw_night_mode night_mode;   /* default SW_NIGHT_UNAVAILABLE */
    int64_t energy_gap_ns;      /* never integrate across a longer silence; default 5 min */
    /*
     * Local time zone for "today": utc_offset returns the offset east of UTC
     * in seconds at an instant (NULL = UTC). The daemon passes the process's
     * zone or a fixed offset from the configuration.
     */
    int32_t (*utc_offset)(void *user, int64_t unix_ns);
    void *utc_offset_user;
    /*
     * Publish only durable energy. false (default): a panel's energy fields
     * follow the integration at every report. true: the integration runs in
     * the model's private counters and the public energy_total_wh and
     * energy_today_wh move only when the caller says those counters are
     * durable (sw_model_energy_publish), so no output ever shows a lifetime
     * value that a crash could take back. "today" still drops to 0 at local
     * midnight.
     */
    bool hold_energy;
    /* The performance index stays NAN until the peers' median energy of the day reaches
     * this (early morning ratios of a few Wh mean nothing); default 10 Wh. */
    double performance_min_wh;
} sw_model_options;

void sw_model_options_defaults(sw_model_options *o);

/* ---- lifecycle ------------------------------------------------------------- */
/* Allocates every table up front. NULL on out of memory. opt NULL = defaults. */
sw_model *sw_model_new(const sw_model_options *opt);
/* Closes every sink (ops->close) and frees the model. NULL is a no-op. */
void sw_model_free(sw_model *m);
const sw_model_options *sw_model_get_options(const sw_model *m);
/* When the daemon started (what sw_model_started_ns reports). */
void sw_model_set_started_ns(sw_model *m, int64_t ns);

/* Register an output; it is told about every later change. SW_ERR_NO_SPACE when full. */
sw_err sw_model_add_sink(sw_model *m, sw_sink sink);
size_t sw_model_sink_count(const sw_model *m);

/* ---- sources ----------------------------------------------------------------- */
/*
 * The source record named `name`, created (with kind and address) when new.
 * The caller updates counters in place and then calls sw_model_source_changed
 * so the sinks hear about it. NULL when the table is full.
 */
sw_source_status *sw_model_source(sw_model *m, const char *name, sw_source_kind kind, const char *address);
sw_source_status *sw_model_source_find(sw_model *m, const char *name);
void sw_model_source_changed(sw_model *m, sw_source_status *s, int64_t now_ns);

/* ---- Tigo gateways and panels ------------------------------------------------ */
/* Insert or update by (source, gateway_id); sinks are told only when something changed. */
sw_err sw_model_gateway_set(sw_model *m, const sw_gateway *g, int64_t now_ns);

/* One configured panel-map entry ([panels]: string:name:barcode). */
typedef struct sw_panel_map_entry {
    char barcode[16];
    char name[SW_MODEL_NAME_MAX];
    char string_name[SW_MODEL_NAME_MAX]; /* "" = no string */
} sw_panel_map_entry;

/*
 * Replace the panel map (also at run time, e.g. on SIGHUP): names and strings
 * of known panels are re-derived and the string aggregates rebuilt.
 * Named strings are created in the order they first appear in the map.
 */
sw_err sw_model_set_panel_map(sw_model *m, const sw_panel_map_entry *entries, size_t n);

/*
 * The panel (source, gateway, node), created when new. Its barcode is set
 * when known (NULL or "" leaves it as it is); the map then gives name and
 * string. *created tells whether it is new (may be NULL).
 */
sw_panel *sw_model_panel(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                         const char *barcode, bool *created);

/* Set or change a panel's barcode (node table learnt). Sinks hear about a change. */
sw_err sw_model_panel_identity(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                               const char *barcode, int64_t now_ns);

/* One power report, already in physical units. */
typedef struct sw_panel_report {
    int64_t time_ns;            /* measurement time (Unix ns) */
    double voltage_in, voltage_out, current_in, duty_cycle, temperature_c;
    int rssi;
    const char *barcode;        /* NULL when unknown */
    /* The radio link's figures (health/radio.h), when has_radio; else the panel keeps its own. */
    bool has_radio;
    double loss_15m, loss_day, rssi_trend;
    uint16_t next_hop;
} sw_panel_report;

/*
 * Apply a report: update the values, integrate energy (trapezoid between this
 * report and the previous one unless the gap is longer than energy_gap_ns or
 * time went backwards), roll "today" over at local midnight, mark the panel
 * online, recompute its string and the total, and notify the sinks
 * (on_panel, then on_string for its string and "total").
 */
sw_err sw_model_panel_report(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                             const sw_panel_report *r);

/*
 * Time passes without reports: panels silent for longer than the stale
 * timeout go offline (and to zero in SW_NIGHT_ZERO), and "today" counters
 * roll over at local midnight. Sinks are told about every panel that
 * changed. Returns the number of panels changed.
 */
size_t sw_model_tick(sw_model *m, int64_t now_ns);

/* Mutable access for the daemon (persistence); NULL when out of range / absent. */
sw_panel *sw_model_panel_mut(sw_model *m, size_t i);
sw_panel *sw_model_panel_find(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id);
/* The string aggregate by name ("total" for all panels), NULL when unknown. */
const sw_string_agg *sw_model_string_find(const sw_model *m, const char *name);

/*
 * Restore a panel's persisted energy (restart): the lifetime counter only
 * ever grows, so a smaller stored value is ignored; today's value is kept
 * only when `day` (local days since 1970) is the current local day of now_ns.
 */
sw_err sw_model_panel_restore(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                              const char *barcode, double energy_total_wh, double energy_today_wh,
                              int64_t day, int64_t now_ns);

/* The local day that panel i's energy_today_wh belongs to (-1 = none yet). */
int64_t sw_model_panel_energy_day(const sw_model *m, size_t i);

/*
 * Panel i's integrated counters, ahead of the published ones while
 * hold_energy is set: what persistence must write. SW_ERR_NOT_FOUND when i is
 * out of range.
 */
typedef struct sw_panel_energy {
    double total_wh, today_wh;
    int64_t day;                      /* local day today_wh belongs to, -1 = none */
} sw_panel_energy;
sw_err sw_model_panel_energy(const sw_model *m, size_t i, sw_panel_energy *out);

/*
 * The integrated counters are durable (committed to disk): copy them to the
 * published fields of every panel and rebuild the string aggregates. Sinks
 * are not told (the next report or offline change carries the values; pulled
 * outputs see them at once). Returns the number of panels whose published
 * values moved. Without hold_energy there is nothing to do.
 */
size_t sw_model_energy_publish(sw_model *m);

/* Local day number (days since 1970-01-01 in the model's zone) of an instant. */
int64_t sw_model_local_day(const sw_model *m, int64_t unix_ns);

/* ---- RCT inverters ------------------------------------------------------------- */
/* Insert or update by name; sinks hear about changes of identity or online. */
sw_err sw_model_inverter_set(sw_model *m, const sw_inverter *inv, int64_t now_ns);
sw_inverter *sw_model_inverter_find(sw_model *m, const char *name);
/*
 * A complete answer came from the inverter at now_ns: its last_poll_ns moves
 * (what MQTT and Prometheus show). Not pushed to the sinks: a poll time alone
 * is not news, readers see it with the next value. SW_ERR_NOT_FOUND for an
 * unknown inverter.
 */
sw_err sw_model_inverter_polled(sw_model *m, const char *name, int64_t now_ns);
/*
 * Insert or update by (inverter, object_id); every call is pushed as a new
 * value. The model copies v->text (NULL = "") and v->json whole;
 * SW_ERR_NO_MEMORY (and the old value kept) when it cannot.
 */
sw_err sw_model_inverter_value_set(sw_model *m, const sw_inverter_value *v);

/* ---- control writes ------------------------------------------------------------ */
/* Records one model keeps: every known control of every inverter and one for unknown objects, with room. */
#define SW_MODEL_MAX_CONTROLS (SW_MODEL_MAX_INVERTERS * 18)

/*
 * The record of (inverter, object), created when new (object NULL = "").
 * The caller updates it in place, then calls sw_model_control_changed.
 * NULL when the table is full or inverter is empty.
 */
sw_control *sw_model_control(sw_model *m, const char *inverter, const char *object);
/* The record, NULL when there is none. */
const sw_control *sw_model_control_find(const sw_model *m, const char *inverter, const char *object);
/* A record changed at now_ns. Pulled outputs read it; no sink is pushed. */
void sw_model_control_changed(sw_model *m, int64_t now_ns);
size_t sw_model_control_count(const sw_model *m);
const sw_control *sw_model_control_at(const sw_model *m, size_t i);

/* ---- events ---------------------------------------------------------------------- */
/* Hand a typed event to every sink's on_event hook. */
void sw_model_event(sw_model *m, const sw_event *ev);

/* ---- pure helpers (exposed for tests) ------------------------------------------ */
/*
 * Energy in Wh of a trapezoid between two power samples, or 0 when the
 * interval is not positive or longer than gap_ns (a gap: nothing is known).
 */
double sw_energy_trapezoid_wh(double p0_w, int64_t t0_ns, double p1_w, int64_t t1_ns, int64_t gap_ns);

#ifdef __cplusplus
}
#endif
#endif
