/*
 * health/peers.h: panels against their peers (private to the program).
 *
 * Each round (the daemon calls sw_peers_check after a panel report settled,
 * with the model and the time), every panel with a fresh report is compared
 * with the median of the other fresh panels of its peer group: the panels of
 * its string, or, for a panel in no string, every panel in no string (the
 * whole array when the panel map names no strings). Five detectors read that
 * comparison:
 *
 *   underperforming  power below under_ratio x the peers' median, sustained
 *                    (and not explained by no_power or diode_loss)
 *   no_power         current ~0 with the input voltage at open circuit
 *                    (above the peers' working voltage) while the peers produce
 *   diode_loss       input voltage near 2/3 (or 1/3) of the peers' at a current
 *                    like theirs: a substring is bypassed
 *   hot              temperature well above the peers' median
 *   stuck            the same readings in stuck_reports reports in a row
 *
 * Each one raises its problem in the model once its condition held for its
 * whole window, and clears it once the opposite, stricter condition held for
 * the clear window (hysteresis). Below the power floor (the peers' median
 * under floor_w: dawn, dusk, night, deep cloud) nothing is evidence: pending
 * streaks start over and active problems stay as they are.
 *
 * Sans-I/O: no clock, socket or file; every time is the caller's. The
 * struct holds per-panel state for SW_MODEL_MAX_PANELS panels and scratch
 * space for one round (a few hundred KiB): allocate it.
 */
#ifndef SW_HEALTH_PEERS_H
#define SW_HEALTH_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sw_peers_config {
    double floor_w;              /* no detection while the peers' median power is below; default 20 W */
    unsigned min_peers;          /* fresh peers (besides the panel) needed to compare; default 3 */
    int64_t max_age_ns;          /* a report older than this is not compared; default 120 s */
    int64_t interval_ns;         /* at most one round per interval; default 10 s */
    int64_t clear_ns;            /* the good condition held this long clears a problem; default 10 min */
    double under_ratio;          /* underperforming below this x median power; default 0.6 */
    double under_clear_ratio;    /* ... and clear at or above this; default 0.75 */
    int64_t under_window_ns;     /* default 20 min */
    double no_power_current_a;   /* "no current" at or below this; default 0.1 A */
    double no_power_voltage_ratio; /* input voltage at least this x the peers' median; default 1.05 */
    int64_t no_power_window_ns;  /* default 5 min */
    double diode_voltage_min;    /* diode loss: input voltage between min and max x the peers'; default 0.45 */
    double diode_voltage_max;    /* default 0.8 */
    double diode_voltage_clear;  /* clear at or above this x the peers'; default 0.88 */
    double diode_current_ratio;  /* with a current at least this x the peers'; default 0.75 */
    int64_t diode_window_ns;     /* default 10 min */
    double hot_delta_c;          /* hot at this many degrees above the peers' median; default 15 */
    double hot_clear_delta_c;    /* clear below this many; default 10 */
    int64_t hot_window_ns;       /* default 10 min */
    unsigned stuck_reports;      /* identical reports in a row that make a panel stuck; default 10 */
    unsigned stuck_clear_reports; /* changing reports in a row that clear it; default 3 */
} sw_peers_config;

void sw_peers_config_default(sw_peers_config *c);
/* SW_OK, or SW_ERR_INVALID_ARGUMENT for thresholds that contradict each other (why: a sentence). */
sw_err sw_peers_config_check(const sw_peers_config *c, char *why, size_t cap);

/* One detector's state for one panel. */
typedef struct sw_peer_flag {
    bool active;
    int64_t bad_since;           /* start of the current streak of the raise condition; INT64_MIN = none */
    int64_t good_since;          /* start of the current streak of the clear condition; INT64_MIN = none */
} sw_peer_flag;

enum { SW_PEER_UNDER = 0, SW_PEER_NO_POWER, SW_PEER_DIODE, SW_PEER_HOT, SW_PEER_STUCK, SW_PEER_DETECTORS };

typedef struct sw_peer_panel {
    sw_peer_flag flag[SW_PEER_DETECTORS];
    int64_t last_report_ns;      /* the report last looked at (stuck) */
    double last_vin, last_vout, last_current, last_temp, last_duty;
    unsigned same_run;           /* identical reports in a row, this one included */
    unsigned changed_run;        /* reports in a row that differed from the one before */
} sw_peer_panel;

typedef struct sw_peers_counters {
    uint64_t rounds, raised, cleared, suppressed;
} sw_peers_counters;

typedef struct sw_peers {
    sw_peers_config cfg;
    int64_t last_round_ns;       /* INT64_MIN before the first */
    sw_peers_counters counters;
    sw_peer_panel panel[SW_MODEL_MAX_PANELS];
    /* scratch for one round */
    uint16_t group[SW_MODEL_MAX_PANELS];
    uint32_t members[SW_MODEL_MAX_PANELS];
    double power[SW_MODEL_MAX_PANELS], vin[SW_MODEL_MAX_PANELS], cur[SW_MODEL_MAX_PANELS],
        temp[SW_MODEL_MAX_PANELS];
} sw_peers;

/* Set up with cfg (NULL = defaults). SW_ERR_INVALID_ARGUMENT for thresholds that contradict each other. */
sw_err sw_peers_init(sw_peers *pd, const sw_peers_config *cfg);

/*
 * One round at now_ns: compare every fresh panel with its peers and raise or
 * clear problems in m. Skipped (returns 0) when the last round is less than
 * interval_ns ago. Returns the number of problems raised or cleared.
 */
size_t sw_peers_check(sw_peers *pd, sw_model *m, int64_t now_ns);

const sw_peers_counters *sw_peers_get_counters(const sw_peers *pd);

/*
 * Median of the n sorted values without one occurrence of v (which must be
 * among them); n >= 2. Exposed for tests.
 */
double sw_peers_median_without(const double *sorted, size_t n, double v);

#ifdef __cplusplus
}
#endif
#endif
