/*
 * model/problem.h: problems, the model's answer to "is something broken?"
 * (private to the program; included by model/model.h).
 *
 * A problem is one kind of trouble on one subject: a panel, a string, a
 * gateway, a bus, an inverter, a battery. Detectors (src/health) decide; the
 * model only keeps the record and tells the sinks, like any other record:
 * raising a problem that is already active only refreshes its reason, and
 * clearing one that is not active does nothing. A cleared problem stays in
 * the table (active = false, with its end time) so outputs can turn their
 * indicator off and the history can close the row; the oldest cleared
 * records make room when the table is full.
 *
 * Every kind is declared once, in the table in model/problem.c: its name
 * (the `kind` label, key and topic part in every output), the subject it
 * applies to and a short title for people.
 */
#ifndef SW_MODEL_PROBLEM_H
#define SW_MODEL_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SW_MODEL_NAME_MAX
#define SW_MODEL_NAME_MAX 64
#endif
#define SW_PROBLEM_REASON_MAX 160
#define SW_MODEL_MAX_PROBLEMS 4096

/* What a problem is about. */
typedef enum sw_subject_kind {
    SW_SUBJECT_PANEL = 1,   /* subject = the panel's series_id (stable), name = its display name */
    SW_SUBJECT_STRING,      /* subject = the string's name */
    SW_SUBJECT_GATEWAY,     /* subject = "<source>/<gateway id>" */
    SW_SUBJECT_BUS,         /* subject = the Tigo source's name */
    SW_SUBJECT_INVERTER,    /* subject = the inverter's name */
    SW_SUBJECT_BATTERY,     /* subject = "<inverter>" or "<inverter>/module<N>" */
    SW_SUBJECT_SITE         /* subject = "site" */
} sw_subject_kind;

/* Every kind of problem sunwire detects; names and titles in model/problem.c. */
typedef enum sw_problem_kind {
    /* panels, relative to their peers (src/health/peers.c) */
    SW_PROBLEM_UNDERPERFORMING = 1, /* "underperforming" */
    SW_PROBLEM_NO_POWER,            /* "no_power": optimizer passing no power */
    SW_PROBLEM_DIODE_LOSS,          /* "diode_loss": substring / bypass diode lost */
    SW_PROBLEM_HOT,                 /* "hot" */
    SW_PROBLEM_STUCK,               /* "stuck": identical readings */
    /* radio (src/health/radio.c) */
    SW_PROBLEM_RADIO_DEGRADING,     /* "radio_degrading": report loss or RSSI */
    /* bus and controller (src/health/watchdog.c) */
    SW_PROBLEM_CONTROLLER_SILENT,   /* "controller_silent": no receive requests */
    SW_PROBLEM_NODE_TABLE_SHRANK,   /* "node_table_shrank" */
    SW_PROBLEM_NODES_MISSING,       /* "nodes_missing": network status counts fewer nodes than the table */
    SW_PROBLEM_FIRMWARE_CHANGED,    /* "firmware_changed" */
    SW_PROBLEM_LINE,                /* "line": wiring / line diagnosis of a bus */
    /* battery (src/health/battery.c) */
    SW_PROBLEM_CELL_SPREAD,         /* "cell_spread" */
    SW_PROBLEM_MODULE_HOT,          /* "module_hot": a module's temperature outlier */
    /* Tigo <-> RCT (src/health/crosscheck.c) */
    SW_PROBLEM_DC_MISMATCH,         /* "dc_mismatch": panels' sum vs the tracker's DC power */
    /* bus (src/health/watchdog.c) */
    SW_PROBLEM_PV_OFF               /* "pv_off": the controller broadcasts rapid shutdown */
} sw_problem_kind;

#define SW_PROBLEM_KIND_FIRST SW_PROBLEM_UNDERPERFORMING
#define SW_PROBLEM_KIND_LAST SW_PROBLEM_PV_OFF

typedef struct sw_problem {
    sw_problem_kind kind;
    sw_subject_kind subject_kind;
    char source[SW_MODEL_NAME_MAX];    /* the configured source it came from ("" for site-wide) */
    char subject[SW_MODEL_NAME_MAX];   /* stable identity, see sw_subject_kind */
    char name[SW_MODEL_NAME_MAX];      /* for people: a panel's name; else the subject */
    bool active;
    int64_t since_ns;                  /* when it became active (the latest time) */
    int64_t until_ns;                  /* when it was cleared; 0 while active */
    int64_t updated_ns;                /* the last raise, reason change or clear */
    char reason[SW_PROBLEM_REASON_MAX]; /* short, e.g. "42 W, 31% of the string median 135 W for 20 min" */
} sw_problem;

/* "underperforming", ...; NULL for an unknown kind. */
const char *sw_problem_kind_name(sw_problem_kind k);
/* A short title for people ("Underperforming", "Optimizer passes no power", ...). */
const char *sw_problem_kind_title(sw_problem_kind k);
/* The subject kind a problem kind applies to. */
sw_subject_kind sw_problem_kind_subject(sw_problem_kind k);
/* The kind named `name`; 0 when unknown. */
sw_problem_kind sw_problem_kind_from_name(const char *name);
/* "panel", "string", "gateway", "bus", "inverter", "battery", "site". */
const char *sw_subject_kind_name(sw_subject_kind k);

/*
 * One problem as a JSON object: {"kind", "subject_kind", "source", "subject",
 * "name", "active", "since" (RFC 3339), "until" (or null), "reason"}.
 * SW_ERR_NO_SPACE when it does not fit (*len then 0).
 */
sw_err sw_problem_json(const sw_problem *p, char *buf, size_t cap, size_t *len);

/* ---- in the model (src/model/problem.c) ----------------------------------- */
typedef struct sw_model sw_model;

/*
 * Raise (or keep raised) a problem at now_ns. New or newly active: since_ns =
 * now_ns and the sinks hear about it (on_problem). Already active: only a
 * changed reason or name is news. name NULL = the subject. SW_ERR_NO_SPACE when
 * the table is full of active problems; SW_ERR_INVALID_ARGUMENT for an unknown
 * kind or an empty subject.
 */
sw_err sw_model_problem_raise(sw_model *m, sw_problem_kind kind, const char *source, const char *subject,
                              const char *name, const char *reason, int64_t now_ns);
/* Clear it at now_ns (sinks hear about it); no-op when not active. */
sw_err sw_model_problem_clear(sw_model *m, sw_problem_kind kind, const char *source, const char *subject,
                              int64_t now_ns);
/* The record, active or cleared; NULL when never raised. */
const sw_problem *sw_model_problem_find(const sw_model *m, sw_problem_kind kind, const char *source,
                                        const char *subject);
/* Every record the model keeps, active and cleared, in the order first raised. */
size_t sw_model_problem_count(const sw_model *m);
const sw_problem *sw_model_problem_at(const sw_model *m, size_t i);
/* How many are active now. */
size_t sw_model_problem_active_count(const sw_model *m);

#ifdef __cplusplus
}
#endif
#endif
