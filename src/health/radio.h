/*
 * health/radio.h: report loss and the radio link, per optimizer (one detector
 * per Tigo bus).
 *
 * Every optimizer measures on its own slot-counter phase, once per reporting
 * period (the PV configuration request says how many slots; 4000 slots,
 * 20 s, in the documented system). A report carries the slot counter of its
 * measurement, so the observer's slot clock turns it into the measurement
 * time, and the gap between two reports of one node says how many periods
 * passed: every period without a report is a lost report. From that the
 * detector keeps, per panel, expected and received reports and the RSSI in
 * fifteen buckets over its window (15 minutes unless configured: one-minute
 * buckets) and quarter-hour buckets over 24 hours, and the next hop from the
 * node's topology reports.
 *
 * It raises SW_PROBLEM_RADIO_DEGRADING on a panel when the window's loss or
 * the fall of the RSSI (the window's mean below the day's mean) crosses its
 * threshold, and clears it with hysteresis (docs/health.md).
 *
 * Sans-I/O: the caller owns the struct (large: allocate it), feeds it
 * measurement times and caller-given "now"s; nothing here reads a clock.
 */
#ifndef SW_HEALTH_RADIO_H
#define SW_HEALTH_RADIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "sunwire/error.h"
#include "sunwire/tigo_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_HEALTH_RADIO_MAX_PANELS 512      /* per bus; more are counted in `dropped` */
#define SW_HEALTH_RADIO_MINUTES 15          /* buckets of the window (one-minute buckets of the default 15 minutes) */
#define SW_HEALTH_RADIO_DEFAULT_WINDOW_NS 900000000000LL /* 15 minutes */
#define SW_HEALTH_RADIO_QUARTERS 96         /* quarter-hour buckets: the 24-hour window */
#define SW_HEALTH_RADIO_DEFAULT_PERIOD_NS 20000000000LL /* 4000 slots of 5 ms */
#define SW_HEALTH_RADIO_GAP_NS 600000000000LL /* a silence longer than 10 min is a new session, not loss */
#define SW_HEALTH_RADIO_BLIND 8             /* spans in which the bus was not heard, remembered */

typedef struct sw_health_radio_config {
    double loss_raise;        /* the window's loss at or above which the link is degrading; default 0.20 */
    double loss_clear;        /* ... and at or below which it is well again; default 0.10 */
    double rssi_drop_raise;   /* the window's RSSI mean this far below the day's mean (raw); default 20 */
    double rssi_drop_clear;   /* ... and back within this; default 10 */
    unsigned min_expected;    /* reports the window must expect before loss is judged; default 20 */
    int64_t window_ns;        /* the window of loss_15m and of the RSSI's recent mean; default 15 min, at least
                               * SW_HEALTH_RADIO_MINUTES ns (shorter or zero: the default) */
} sw_health_radio_config;

void sw_health_radio_config_default(sw_health_radio_config *c);

/* What the detector knows of one panel's link, for the model's panel fields. */
typedef struct sw_panel_radio {
    double loss_15m;          /* 0..1, lost / expected over the window (the last 15 minutes by default) */
    double loss_day;          /* 0..1, over the last 24 hours */
    double rssi_trend;        /* raw RSSI: the window's mean minus the 24-hour mean (negative = falling) */
    uint16_t next_hop;        /* from the last topology report: 1 = the gateway, 0 = unknown */
    uint32_t expected_15m, received_15m;
    uint32_t expected_day, received_day;
} sw_panel_radio;

typedef struct sw_health_radio_bucket {
    int64_t tag;              /* absolute bucket / quarter-hour it counts; stale when it differs */
    uint16_t expected, received, rssi_n;
    uint32_t rssi_sum;
} sw_health_radio_bucket;

typedef struct sw_health_radio_panel {
    bool used;
    bool raised;
    bool period_configured;   /* the period came from a PV configuration request */
    uint16_t gateway, node;
    uint16_t next_hop;
    uint32_t hop_changes;
    int64_t period_ns;
    int64_t last_ns;          /* measurement time of the last report, 0 = none */
    sw_health_radio_bucket minute[SW_HEALTH_RADIO_MINUTES];
    sw_health_radio_bucket quarter[SW_HEALTH_RADIO_QUARTERS];
} sw_health_radio_panel;

/* A span in which reports could not reach us, whatever the radio did. */
typedef struct sw_health_radio_span {
    int64_t from_ns, to_ns;
} sw_health_radio_span;

typedef struct sw_health_radio {
    sw_health_radio_config cfg;
    char source[SW_MODEL_NAME_MAX];
    size_t blind_next;
    sw_health_radio_span blind[SW_HEALTH_RADIO_BLIND];
    uint64_t dropped;         /* reports of panels beyond SW_HEALTH_RADIO_MAX_PANELS */
    size_t n;
    sw_health_radio_panel panels[SW_HEALTH_RADIO_MAX_PANELS];
} sw_health_radio;

void sw_health_radio_init(sw_health_radio *r, const sw_health_radio_config *cfg, const char *source);

/*
 * One power report of (gateway, node), measured at measured_ns with raw RSSI
 * rssi. *out (may be NULL) gets the panel's figures after it.
 * SW_ERR_NO_SPACE when the panel table is full.
 */
sw_err sw_health_radio_report(sw_health_radio *r, uint16_t gateway, uint16_t node, int64_t measured_ns, int rssi,
                              sw_panel_radio *out);

/*
 * Reports measured between from_ns and to_ns could not reach us whatever the
 * radio did (the controller did not poll, the bus was disconnected): a gap
 * between two reports that overlaps the span starts a new session instead of
 * counting lost reports.
 */
void sw_health_radio_blind(sw_health_radio *r, int64_t from_ns, int64_t to_ns);

/* The reporting period of a node, from a PV configuration request (slots of 5 ms). */
void sw_health_radio_period(sw_health_radio *r, uint16_t gateway, uint16_t node, uint16_t period_slots);

/* A topology report: the node's next hop (1 = the gateway). */
void sw_health_radio_topology(sw_health_radio *r, uint16_t gateway, uint16_t node, uint16_t next_hop);

/*
 * A transport event of the bus (the observer's transport tap): PV
 * configuration requests and topology reports are taken, the rest ignored.
 */
void sw_health_radio_transport(sw_health_radio *r, const sw_tigo_transport_event *ev);

/* The figures of a panel at now_ns; SW_ERR_NOT_FOUND when it never reported. */
sw_err sw_health_radio_get(const sw_health_radio *r, uint16_t gateway, uint16_t node, int64_t now_ns,
                           sw_panel_radio *out);

/*
 * Judge one panel at now_ns: raise or clear its radio_degrading problem in
 * the model (the panel's record gives subject and name; nothing happens for
 * a panel the model does not know). A window without enough expected
 * reports judges nothing and leaves the problem as it is.
 */
void sw_health_radio_judge(sw_health_radio *r, sw_model *m, uint16_t gateway, uint16_t node, int64_t now_ns);

/* Judge every panel (the daemon's tick). */
void sw_health_radio_tick(sw_health_radio *r, sw_model *m, int64_t now_ns);

#ifdef __cplusplus
}
#endif
#endif
