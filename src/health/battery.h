/*
 * health/battery.h: battery health from the inverter's own objects.
 *
 * Evidence (all polled by the daemon from the RCT inverter):
 *   - battery.cells[N] (BATTERY_MODULE_STATUS): every cell's voltage and
 *     temperature of module N; a module whose cells all read 0 mV is absent;
 *   - battery.soh: the battery's own state of health (percent in the model);
 *   - battery.stored_energy / battery.used_energy: lifetime Wh into and out
 *     of the battery;
 *   - battery.bat_status: the status bits (balancing while bit 11 is clear,
 *     calibrating while bits 3 and 10 are both clear).
 *
 * From them the detector derives, as inverter values of the battery's
 * inverter (named health.battery.*, see docs/health.md): the cell voltage
 * spread of the whole stack and of each module, the temperature spread, the
 * weakest cell (the one furthest below the stack's median, smoothed), each
 * module's mean voltage and temperature, the SoH trend per year, the
 * round-trip efficiency of the last complete day, and the calibration and
 * balancing events seen. It raises `cell_spread` for a module whose cell
 * spread stays over the limit and `module_hot` for a module that stays much
 * warmer than the others.
 *
 * Sans-I/O: the caller owns the struct, passes every reading with its time
 * and hands the model in to publish; no clock, file or allocation.
 */
#ifndef SW_HEALTH_BATTERY_H
#define SW_HEALTH_BATTERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "sunwire/rct_value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_BATTERY_MAX_MODULES 7     /* battery.cells[0] .. battery.cells[6] */
#define SW_BATTERY_SOH_DAYS 400      /* daily SoH samples kept for the trend */

typedef struct sw_battery_health_config {
    double cell_spread_mv;   /* cell_spread above this (max - min cell of a module); default 80 mV */
    double module_hot_c;     /* module_hot this far above the other modules' median; default 8 degC */
    int64_t hold_ns;         /* a condition must hold (and be gone) this long; default 10 min */
    int64_t stale_ns;        /* module readings older than this are left out; default 15 min */
    double rte_min_wh;       /* round trip only for days that stored at least this; default 1000 Wh */
} sw_battery_health_config;

void sw_battery_health_config_default(sw_battery_health_config *c);

typedef struct sw_battery_module_state {
    bool present;
    int64_t updated_ns;
    uint16_t mv[SW_RCT_BATTERY_CELLS];
    uint8_t temp_c[SW_RCT_BATTERY_CELLS];
    double dev_mv[SW_RCT_BATTERY_CELLS]; /* each cell's deviation from the stack median, smoothed */
    bool have_dev;
    int64_t spread_since_ns, spread_ok_since_ns; /* hold timers of cell_spread */
    int64_t hot_since_ns, hot_ok_since_ns;       /* hold timers of module_hot */
    bool spread_raised, hot_raised;
} sw_battery_module_state;

typedef struct sw_battery_health {
    sw_battery_health_config cfg;
    char inverter[SW_MODEL_NAME_MAX];
    sw_battery_module_state mod[SW_BATTERY_MAX_MODULES];
    bool dirty;                  /* new module readings since the last evaluation */
    /* state of health: the last reading of each local day */
    bool have_soh;
    double soh_pct;
    size_t n_soh;
    int64_t soh_day[SW_BATTERY_SOH_DAYS];
    double soh_val[SW_BATTERY_SOH_DAYS];
    /* energy counters and the day they are counted for */
    bool have_stored, have_used;
    double stored_wh, used_wh;
    int64_t day;                 /* local day of day_stored0/day_used0, -1 = none yet */
    double day_stored0, day_used0;
    bool have_rte;
    double rte_pct;              /* the last complete day's used / stored */
    int64_t rte_day;
    /* status bits */
    bool have_status, balancing, calibrating;
    uint32_t balancing_events, calibration_events;
    int64_t last_balancing_ns, last_calibration_ns;
} sw_battery_health;

/* Start with no readings, for the inverter named `inverter`. cfg NULL = defaults. */
void sw_battery_health_init(sw_battery_health *b, const sw_battery_health_config *cfg, const char *inverter);

/*
 * The RCT objects the detector reads, for the poller (battery.cells[0..6]
 * and the four battery values). i past the end: NULL.
 */
const char *sw_battery_health_object(size_t i);

/* One module's cells (battery.cells[module]) at now_ns. SW_ERR_OUT_OF_RANGE for a module past the table. */
sw_err sw_battery_health_module(sw_battery_health *b, unsigned module, const sw_rct_cell_status *cells, size_t n,
                                int64_t now_ns);

/*
 * A number as the model holds it (percent for battery.soh): battery.soh,
 * battery.stored_energy, battery.used_energy, battery.bat_status. Returns
 * whether the object is one the detector reads.
 */
bool sw_battery_health_number(sw_battery_health *b, const char *object, double value, int64_t now_ns);

/*
 * Derive, publish the health.battery.* values into m (when new module
 * readings came) and raise or clear the problems at now_ns. The local day
 * for the round trip is the model's (sw_model_local_day).
 */
void sw_battery_health_evaluate(sw_battery_health *b, sw_model *m, int64_t now_ns);

/* What the last evaluation derived, for tests and summaries. */
typedef struct sw_battery_summary {
    size_t modules;              /* present and fresh */
    double cell_spread_mv;       /* whole stack */
    double temp_spread_c;
    int weakest_module, weakest_cell; /* -1 when unknown */
    double weakest_dev_mv;
    double module_spread_mv[SW_BATTERY_MAX_MODULES];
    double module_temp_c[SW_BATTERY_MAX_MODULES];
    double module_voltage_mv[SW_BATTERY_MAX_MODULES];
    bool have_soh_trend;
    double soh_trend_pct_per_year;
} sw_battery_summary;

void sw_battery_health_summary(const sw_battery_health *b, int64_t now_ns, sw_battery_summary *out);

/*
 * A stable object id for a derived value's name (never a registry id), so
 * derived values live beside the polled ones in the model.
 */
uint32_t sw_health_value_id(const char *name);

/* Publish one derived number / text on `inverter` at now_ns. */
sw_err sw_health_publish_number(sw_model *m, const char *inverter, const char *name, const char *unit, double value,
                                int64_t now_ns);
sw_err sw_health_publish_text(sw_model *m, const char *inverter, const char *name, const char *text, int64_t now_ns);

#ifdef __cplusplus
}
#endif
#endif
