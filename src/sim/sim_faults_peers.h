/*
 * sim/sim_faults_peers.h: panel faults the Tigo simulator can inject, the
 * ones the peer detectors look for, and the parser of their text form.
 *
 * A fault is written KIND[:GATEWAY.PANEL][=VALUE][@START[-END]]:
 *   dead:1.4@2h-5h     the 4th optimizer of the 1st TAP passes no power from two
 *                      simulated hours after the start until five
 *   diode:2.1=1@30m    the 1st panel of the 2nd TAP loses one substring (of three)
 *   hot=25             the 1st panel of the 1st TAP runs 25 degrees hotter
 *   stuck:1.2@1h       the 2nd optimizer repeats its last measurement
 *   soiled:1.3=0.6     the 3rd panel gets 60 % of the light (dirt, leaves)
 * GATEWAY and PANEL count from 1 (default 1.1). START and END are offsets
 * from the simulation start: a number with an optional unit s, m, h or d
 * (seconds when none); without END the fault lasts to the end of the run.
 *
 * Every kind is one row of the table in sim_faults_peers.c (name, value
 * range and default, help text). Sans-I/O: text in, struct out.
 */
#ifndef SUNWIRE_SIM_FAULTS_PEERS_H
#define SUNWIRE_SIM_FAULTS_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_sim_panel_fault_kind {
    SW_SIM_PANEL_DEAD = 1, /* the optimizer passes no power: input at open circuit, no current */
    SW_SIM_PANEL_DIODE,    /* VALUE substrings (of three) bypassed: the input voltage drops by a third each */
    SW_SIM_PANEL_HOT,      /* VALUE degrees hotter than the panel would be */
    SW_SIM_PANEL_STUCK,    /* the optimizer repeats its last measurement exactly */
    SW_SIM_PANEL_SOILED,   /* the panel gets VALUE of the light */
    SW_SIM_PANEL_FAULT_COUNT
} sw_sim_panel_fault_kind;

typedef struct sw_sim_panel_fault_info {
    sw_sim_panel_fault_kind kind;
    const char *name;
    const char *value_name; /* NULL when the kind takes no value */
    double min, max, def;
    const char *help;
} sw_sim_panel_fault_info;

typedef struct sw_sim_panel_fault {
    sw_sim_panel_fault_kind kind;
    unsigned gateway, panel; /* indexes from 0 */
    double value;
    int64_t start_ns;        /* offset from the simulation start */
    int64_t end_ns;          /* offset from the start; 0 = to the end of the run */
} sw_sim_panel_fault;

#define SW_SIM_MAX_PANEL_FAULTS 16

/* The table, in enum order. */
const sw_sim_panel_fault_info *sw_sim_panel_fault_table(size_t *count);

/*
 * Parse one fault text. SW_ERR_INVALID_ARGUMENT for an unknown kind or a
 * malformed text (err, when not NULL, gets a sentence), SW_ERR_OUT_OF_RANGE
 * for a value or a time outside its range.
 */
sw_err sw_sim_panel_fault_parse(const char *text, sw_sim_panel_fault *out, char *err, size_t errcap);

/* Whether the kind's name starts text (so a caller with several fault tables knows whose it is). */
bool sw_sim_panel_fault_is_named(const char *text);

/* Whether f is in force since_start_ns after the start. */
bool sw_sim_panel_fault_in_force(const sw_sim_panel_fault *f, int64_t since_start_ns);

#ifdef __cplusplus
}
#endif
#endif
