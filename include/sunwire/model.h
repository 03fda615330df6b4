/*
 * sunwire/model.h: the daemon's live picture of the installation, and the
 * interface its outputs (sinks) implement.
 *
 * `sunwire run` turns protocol events into this model: one record per panel,
 * string, gateway, inverter and source. Outputs see it two ways:
 *   - pushed: every change is announced to each registered sink through
 *     sw_sink_ops (MQTT state messages, InfluxDB lines, SQLite rows, SSE);
 *   - pulled: a scrape or an API request reads the model directly
 *     (Prometheus /metrics, the dashboard's JSON API).
 * Everything runs on the daemon's single event-loop thread, so the model needs
 * no locking. Text fields are fixed-size, NUL-terminated arrays so records can
 * be copied and stored without ownership questions.
 */
#ifndef SUNWIRE_MODEL_H
#define SUNWIRE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_MODEL_NAME_MAX 64
#define SW_MODEL_TEXT_MAX 160

typedef enum sw_source_type {
    SW_SOURCE_TIGO_SERIAL = 1,
    SW_SOURCE_TIGO_TCP,
    SW_SOURCE_TIGO_FILE,
    SW_SOURCE_RCT_TCP
} sw_source_type;

/* One configured input: a Tigo bus or an RCT inverter connection. */
typedef struct sw_source_status {
    char name[SW_MODEL_NAME_MAX];     /* from the configuration, e.g. "roof" */
    sw_source_type kind;
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
    bool mapped;                      /* the barcode is in the configured panel map */
    bool online;                      /* false once no report came for the night/stale timeout */
    int64_t last_seen_ns;             /* measurement time of the last report, 0 = never */
    double voltage_in, voltage_out;   /* V */
    double current_in;                /* A (the optimizer's input current) */
    double power_w;                   /* voltage_in * current_in */
    double duty_cycle;                /* 0..1 */
    double temperature_c;
    int rssi;                         /* raw 0..255 */
    double energy_total_wh;           /* lifetime, persisted, never decreases */
    double energy_today_wh;           /* since local midnight */
} sw_panel;

/* Aggregates over the panels of one string (or of all panels: name "total"). */
typedef struct sw_string_agg {
    char name[SW_MODEL_NAME_MAX];
    unsigned panels;                  /* panels assigned */
    unsigned online;                  /* of which reporting */
    double power_sum_w, power_min_w, power_max_w, power_avg_w; /* over online panels */
    double energy_today_wh, energy_total_wh;
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

/* One polled inverter object's latest value. */
typedef struct sw_inverter_value {
    char inverter[SW_MODEL_NAME_MAX];
    uint32_t object_id;
    char object_name[SW_MODEL_NAME_MAX]; /* registry name, e.g. "battery.soc" */
    char unit[16];                    /* registry unit, e.g. "W", "%" ("" when none) */
    bool is_number;
    double number;                    /* when is_number */
    char text[SW_MODEL_TEXT_MAX];     /* display text (enum label, string, or the number) */
    int64_t timestamp_ns;
} sw_inverter_value;

/* What a sink implements; any member may be NULL. */
typedef struct sw_sink_ops {
    const char *name;
    void (*source_status)(void *self, const sw_source_status *s);
    void (*gateway_update)(void *self, const sw_gateway *g);          /* identity/version changed */
    void (*panel_update)(void *self, const sw_panel *p);              /* a new power report, or online changed */
    void (*string_update)(void *self, const sw_string_agg *s);        /* after panel updates settle */
    void (*inverter_update)(void *self, const sw_inverter *inv);      /* identity/online changed */
    void (*inverter_value)(void *self, const sw_inverter_value *v);   /* a new polled value */
    /* Raw event stream (one JSON object, no newline): what the dashboard's live view and the history's events table show. */
    void (*event)(void *self, const char *kind, const char *json);
    void (*close)(void *self);
} sw_sink_ops;

typedef struct sw_sink {
    const sw_sink_ops *ops;
    void *self;
} sw_sink;

/*
 * The collection, owned by the daemon (src/daemon/model.c). Readers use these
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

#ifdef __cplusplus
}
#endif
#endif
