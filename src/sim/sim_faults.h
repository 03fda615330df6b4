/*
 * sim/sim_faults.h: faults a simulator can inject, and the one parser of
 * their text form.
 *
 * A fault is written KIND[=VALUE|:ARGS][@START[-END]]:
 *   inverted              the A/B wires are swapped from the start
 *   baud=9600@10m         from ten simulated minutes on, the listener runs at 9600 baud
 *   noise=0.01@5m-20m     one bit in a hundred flipped between minutes 5 and 20
 * START and END are offsets from the simulation start: a number with an
 * optional unit s, m, h or d (seconds when none). Without END the fault lasts
 * to the end of the run.
 *
 * Every kind is one row of the table in sim_faults.c (name, argument, range,
 * help text); adding a kind means adding an enum constant here and a row
 * there. The simulators ask sw_sim_faults_active() whether a kind is in force
 * at a simulated time and read its value.
 *
 * Sans-I/O: parsing text, no clock, no allocation.
 */
#ifndef SUNWIRE_SIM_FAULTS_H
#define SUNWIRE_SIM_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_sim_fault_kind {
    SW_SIM_FAULT_NONE = 0,
    /* the line between the bus and the listener (Tigo) */
    SW_SIM_FAULT_INVERTED,      /* A and B swapped: every level on the wire inverted */
    SW_SIM_FAULT_BAUD,          /* the listener's UART runs at VALUE baud, the bus at 38400 */
    SW_SIM_FAULT_NOISE,         /* each bit on the wire flipped with probability VALUE */
    SW_SIM_FAULT_SILENT,        /* nothing reaches the listener */
    SW_SIM_FAULT_NO_CONTROLLER, /* gateways talk, the controller's requests never appear */
    /* the installation (Tigo): what the bus and radio detectors watch */
    SW_SIM_FAULT_RADIO,         /* the first panel's radio degrades: loss growing to VALUE, RSSI falling */
    SW_SIM_FAULT_NO_POLLING,    /* the controller stops sending receive requests (other commands go on) */
    SW_SIM_FAULT_SHRINK,        /* VALUE nodes vanish from the first TAP's node table and network */
    SW_SIM_FAULT_FIRMWARE,      /* the first TAP answers a later firmware version; the controller re-enumerates */
    SW_SIM_FAULT_PV_OFF,        /* the controller broadcasts PV off (rapid shutdown): the panels output nothing */
    /* new kinds are appended here, with a row in sim_faults.c */
    SW_SIM_FAULT_KIND_COUNT
} sw_sim_fault_kind;

typedef enum sw_sim_fault_arg {
    SW_SIM_FAULT_ARG_NONE = 0, /* no argument allowed */
    SW_SIM_FAULT_ARG_NUMBER,   /* a number in [min, max]; `def` when left out */
    SW_SIM_FAULT_ARG_TEXT      /* free text, kept in sw_sim_fault.args for the simulator to read */
} sw_sim_fault_arg;

typedef struct sw_sim_fault_info {
    sw_sim_fault_kind kind;
    const char *name;    /* as written: "inverted", "baud", ... */
    sw_sim_fault_arg arg;
    const char *arg_name; /* "RATE", "BAUD": for help texts; NULL without argument */
    bool arg_required;
    double min, max, def;
    const char *help;    /* one line, for --help */
} sw_sim_fault_info;

#define SW_SIM_FAULT_ARGS_MAX 48

typedef struct sw_sim_fault {
    sw_sim_fault_kind kind;
    double value;                      /* numeric argument (or the kind's default) */
    char args[SW_SIM_FAULT_ARGS_MAX];  /* the argument text as written, "" when none */
    int64_t start_ns;                  /* offset from the simulation start */
    int64_t end_ns;                    /* offset from the start; 0 = to the end of the run */
} sw_sim_fault;

#define SW_SIM_MAX_FAULTS 16

typedef struct sw_sim_faults {
    size_t n;
    sw_sim_fault list[SW_SIM_MAX_FAULTS];
} sw_sim_faults;

/* The table, in enum order (row i has kind i + 1). */
const sw_sim_fault_info *sw_sim_fault_table(size_t *count);
/* The row of a kind, or NULL. */
const sw_sim_fault_info *sw_sim_fault_info_of(sw_sim_fault_kind kind);

/*
 * Parse one fault text into *out. SW_ERR_INVALID_ARGUMENT for an unknown kind
 * or a malformed text, SW_ERR_BAD_NUMBER / SW_ERR_OUT_OF_RANGE for a bad value
 * or time; err (may be NULL) then gets a sentence naming what is wrong.
 */
sw_err sw_sim_fault_parse(const char *text, sw_sim_fault *out, char *err, size_t errcap);

/* Parse and append; SW_ERR_NO_SPACE past SW_SIM_MAX_FAULTS. */
sw_err sw_sim_faults_add(sw_sim_faults *faults, const char *text, char *err, size_t errcap);

/* Whether f is in force `since_start_ns` after the simulation start. */
bool sw_sim_fault_in_force(const sw_sim_fault *f, int64_t since_start_ns);

/* The first fault of `kind` in force at that offset, or NULL. */
const sw_sim_fault *sw_sim_faults_active(const sw_sim_faults *faults, sw_sim_fault_kind kind,
                                         int64_t since_start_ns);

/* Whether the list names `kind` at all (at any time). */
bool sw_sim_faults_has(const sw_sim_faults *faults, sw_sim_fault_kind kind);

/*
 * Every fault parser's error: the message (printf-style) into err when there is
 * room, and e returned, so a parser can `return sw_sim_fault_error(...)`.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
sw_err sw_sim_fault_error(sw_err e, char *err, size_t cap, const char *fmt, ...);

/* A duration text: a number with an optional unit s, m, h, d (seconds when none). */
sw_err sw_sim_parse_duration(const char *text, size_t len, int64_t *out_ns);

#ifdef __cplusplus
}
#endif
#endif
