/*
 * sim/sim_faults_rct.h: faults the simulated RCT inverter can inject, and
 * the parser of their text form.
 *
 * A fault is written KIND[:TARGET][=VALUE][@START[-END]]:
 *   drifting-cell                 a cell chosen from the seed drifts down, from the start
 *   drifting-cell:2.14=200@1h     module 2, cell 14 drifts to 200 mV below the others from the first hour
 *   hot-module:1=20@2h-6h         module 1 runs 20 degC hot between hours 2 and 6
 *   dc-loss:0=30@3h               the tracker of input 0 sees 30 % less than the panels deliver
 * START and END are offsets from the simulation start: a number with an
 * optional unit s, m, h or d (seconds when none). Without END the fault lasts
 * to the end of the run. A target left out is chosen from the seed, so a run
 * repeats exactly.
 *
 * Every kind is one row of the table in sim_faults_rct.c (name, target,
 * value range, default, help). Sans-I/O: text in, a struct out.
 */
#ifndef SUNWIRE_SIM_FAULTS_RCT_H
#define SUNWIRE_SIM_FAULTS_RCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_sim_rct_fault_kind {
    SW_SIM_RCT_FAULT_NONE = 0,
    SW_SIM_RCT_FAULT_DRIFTING_CELL, /* one cell's voltage drifts VALUE mV below the others over two hours */
    SW_SIM_RCT_FAULT_HOT_MODULE,    /* one module's cells run VALUE degC warmer (reached within 30 min) */
    SW_SIM_RCT_FAULT_DC_LOSS,       /* a tracker's DC power VALUE % below what the panels deliver */
    SW_SIM_RCT_FAULT_KIND_COUNT
} sw_sim_rct_fault_kind;

typedef struct sw_sim_rct_fault_info {
    sw_sim_rct_fault_kind kind;
    const char *name;       /* "drifting-cell", ... */
    const char *target;     /* "MODULE.CELL", "MODULE", "INPUT" */
    const char *unit;       /* of VALUE */
    double min, max, def;
    const char *help;
} sw_sim_rct_fault_info;

typedef struct sw_sim_rct_fault {
    sw_sim_rct_fault_kind kind;
    int module, cell, input; /* -1 = chosen from the seed (drifting-cell, hot-module) / 0 (dc-loss) */
    double value;
    int64_t start_s;         /* offset from the simulation start */
    int64_t end_s;           /* offset; 0 = to the end of the run */
} sw_sim_rct_fault;

#define SW_SIM_RCT_MAX_FAULTS 8

typedef struct sw_sim_rct_faults {
    size_t n;
    sw_sim_rct_fault list[SW_SIM_RCT_MAX_FAULTS];
} sw_sim_rct_faults;

const sw_sim_rct_fault_info *sw_sim_rct_fault_table(size_t *count);

/* Parse one fault text. SW_ERR_INVALID_ARGUMENT (err says why) for anything malformed. */
sw_err sw_sim_rct_fault_parse(const char *text, sw_sim_rct_fault *out, char *err, size_t errcap);
/* Parse and append; SW_ERR_NO_SPACE when the list is full. */
sw_err sw_sim_rct_faults_add(sw_sim_rct_faults *f, const char *text, char *err, size_t errcap);

/*
 * The first fault of `kind` in force `since_start_s` after the start, or
 * NULL; *elapsed_s (may be NULL) is how long it has been in force.
 */
const sw_sim_rct_fault *sw_sim_rct_faults_active(const sw_sim_rct_faults *f, sw_sim_rct_fault_kind kind,
                                                 int64_t since_start_s, int64_t *elapsed_s);

#ifdef __cplusplus
}
#endif
#endif
