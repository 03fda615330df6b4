/*
 * sim/sim.h: a simulated household PV plant, as a pure function of time.
 *
 * The simulators (RCT inverter today, a Tigo bus later) need plausible,
 * self-consistent numbers: a sun curve from the date and location, clouds,
 * a house load with morning and evening peaks, a battery that charges at noon
 * and drains at night, the grid taking the rest, temperatures, and energy
 * counters that only ever grow. Every value is computed from (config, time)
 * alone, so answers are reproducible from the seed, any instant can be asked
 * for in any order (history downloads walk backwards), and there is no state
 * to keep in sync between clients. Nothing here reads a clock or allocates.
 *
 * Sign conventions: battery_w > 0 charges the battery, grid_w > 0 imports
 * from the grid. Powers are watts, energies watt-hours, soc is 0..1.
 */
#ifndef SUNWIRE_SIM_H
#define SUNWIRE_SIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sw_sim_config {
    uint64_t seed;
    double latitude_deg;        /* default 50.0 */
    double longitude_deg;       /* default 10.0 (east positive) */
    int32_t utc_offset_s;       /* wall clock of the house, for the load profile; default 3600 */
    double pv_peak_w;           /* sum of both strings at full sun; default 8000 */
    double battery_wh;          /* usable capacity; default 10000 */
    double battery_max_w;       /* charge/discharge limit; default 5000 */
    double battery_min_soc;     /* reserve the battery never goes below; default 0.05 */
    double base_load_w;         /* the house's floor; default 300 */
} sw_sim_config;

typedef struct sw_sim_sample {
    int64_t t;                  /* unix seconds */
    double sun;                 /* clear-sky factor 0..1 */
    double clouds;              /* transmission 0..1 */
    double pv_w;                /* total DC power of both strings */
    double string_w[2];
    double string_v[2];
    double load_w;              /* house consumption, all phases */
    double load_phase_w[3];
    double battery_w;           /* + charging, - discharging */
    double soc;                 /* 0..1 */
    double battery_v;
    double grid_w;              /* + import, - export */
    double grid_v[3];
    double grid_hz;
    double temp_ambient_c;
    double temp_inverter_c;
    double temp_battery_c;
    /* Counters since commissioning; never decrease as t grows. */
    double e_pv_wh;
    double e_load_wh;
    double e_grid_import_wh;
    double e_grid_export_wh;
    double e_battery_charge_wh;
    double e_battery_discharge_wh;
} sw_sim_sample;

/* Defaults as documented on the fields, with the given seed. */
void sw_sim_config_default(sw_sim_config *cfg, uint64_t seed);

/* Everything at instant t (unix seconds). */
void sw_sim_sample_at(const sw_sim_config *cfg, int64_t t, sw_sim_sample *out);

/* Clear-sky sun factor times cloud transmission, 0..1: the light on a panel. */
double sw_sim_irradiance(const sw_sim_config *cfg, int64_t t);

/*
 * A deterministic per-item deviation around 1.0 (0.9..1.05) for item `index`
 * at time t, e.g. to make individual panels of one string differ a little.
 */
double sw_sim_item_factor(const sw_sim_config *cfg, int64_t t, uint32_t index);

/* A deterministic pseudo-random 64-bit value for (seed, a, b): hashing, no state. */
uint64_t sw_sim_hash(uint64_t seed, uint64_t a, uint64_t b);

#ifdef __cplusplus
}
#endif
#endif
