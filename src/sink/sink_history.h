/*
 * sink/sink_history.h: the embedded SQLite history and its queries.
 *
 * The store (sw_history_*) keeps every panel reading, string aggregate,
 * inverter value and event in one SQLite file (schema in docs/history.md,
 * version in the schema_version table). The sink (sw_history_config/start)
 * feeds it from the model's pushed updates, trusting the records to be
 * complete and NUL-terminated as model.h promises; rows added during one loop
 * iteration share one transaction, committed by a zero-delay timer, and old
 * rows are pruned periodically in small chunks so the loop never stalls.
 *
 * Durability: WAL journal with synchronous=NORMAL. A killed process (kill -9)
 * loses nothing that was committed and never leaves a torn database; only a
 * power cut or OS crash can lose the last few commits (never corruption),
 * which for one reading per panel per second is the right trade against an
 * fsync per commit on an SD card.
 *
 * Without SQLite at build time every function returns SW_ERR_UNSUPPORTED.
 */
#ifndef SUNWIRE_SINK_HISTORY_H
#define SUNWIRE_SINK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema this build writes and reads (schema_version.version). */
#define SW_HISTORY_SCHEMA_VERSION 3 /* 3: the radio columns, the performance and problems tables */

typedef struct sw_history sw_history;

/* Open (creating file and schema when new) for writing. SW_ERR_OPEN when SQLite cannot,
 * SW_ERR_UNSUPPORTED when the file has a newer schema than this build knows. */
sw_err sw_history_open(const char *path, sw_history **out);
/* Open an existing database read-only (the export command); never creates or migrates. */
sw_err sw_history_open_readonly(const char *path, sw_history **out);
/* Commits what is pending and closes. NULL is a no-op. */
void sw_history_close(sw_history *h);
/* The last SQLite error text, for messages. */
const char *sw_history_errmsg(const sw_history *h);
int sw_history_schema_version(sw_history *h);

/* Add one row; the first add opens a transaction that sw_history_commit ends. */
sw_err sw_history_add_panel(sw_history *h, const sw_panel *p, int64_t ts_ns);
sw_err sw_history_add_string(sw_history *h, const sw_string_agg *s, int64_t ts_ns);
sw_err sw_history_add_inverter_value(sw_history *h, const sw_inverter_value *v, int64_t ts_ns);
sw_err sw_history_add_event(sw_history *h, const char *kind, const char *json, int64_t ts_ns);
/* The panel's performance row of its day (p->performance_day), written or replaced: the
 * last report of a day leaves that day's final index. Nothing when the panel has no day yet. */
sw_err sw_history_add_performance(sw_history *h, const sw_panel *p, int64_t ts_ns);
/* The same, unless the history already holds that row (same inverter, object and time; same
 * time, kind and JSON): imports may be run twice. *added says whether it was added. */
sw_err sw_history_add_inverter_value_once(sw_history *h, const sw_inverter_value *v, int64_t ts_ns, bool *added);
sw_err sw_history_add_event_once(sw_history *h, const char *kind, const char *json, int64_t ts_ns, bool *added);
/*
 * A problem raised, changed or cleared (model/problem.h): an active one opens a row
 * (start = since_ns) or updates the open row's reason and name; a cleared one closes
 * the open row with its end time (ended = "cleared").
 */
sw_err sw_history_add_problem(sw_history *h, const sw_problem *p);
/* Close every open problem row at end_ns, saying why ("stopped", "restart"); *closed = rows closed. */
sw_err sw_history_close_problems(sw_history *h, int64_t end_ns, const char *why, unsigned *closed);
sw_err sw_history_commit(sw_history *h);
bool sw_history_in_transaction(const sw_history *h);

/* Delete at most `limit` rows per table older than before_ns; *deleted = rows removed. */
sw_err sw_history_prune(sw_history *h, int64_t before_ns, unsigned limit, uint64_t *deleted);

/* ---- queries ------------------------------------------------------------------ */
typedef enum sw_history_table {
    SW_HISTORY_PANELS = 0,
    SW_HISTORY_STRINGS,
    SW_HISTORY_INVERTER_VALUES,
    SW_HISTORY_EVENTS,
    SW_HISTORY_PERFORMANCE,     /* one row per panel and local day: the daily performance index */
    SW_HISTORY_PROBLEMS         /* ts_ns is the start; a row matches a range it overlaps */
} sw_history_table;
#define SW_HISTORY_TABLE_COUNT 6
/* The tables before SW_HISTORY_PROBLEMS only ever get rows added (and pruned by age);
 * problem rows are opened, updated and closed. */
#define SW_HISTORY_INSERT_COUNT SW_HISTORY_PROBLEMS

typedef enum sw_history_cell_type {
    SW_HISTORY_NULL = 0,
    SW_HISTORY_INT,
    SW_HISTORY_REAL,
    SW_HISTORY_TEXT
} sw_history_cell_type;

typedef struct sw_history_cell {
    sw_history_cell_type type;
    int64_t i;
    double r;
    const char *text;   /* valid during the callback only */
} sw_history_cell;

typedef struct sw_history_query {
    sw_history_table table;
    int64_t from_ns;          /* inclusive */
    int64_t to_ns;            /* exclusive */
    const char *panel;        /* panel name or barcode (panels, performance), NULL = all */
    const char *string;       /* string name (panels, strings, performance), NULL = all */
    const char *inverter;     /* inverter name (inverter values), NULL = all */
    const char *object;       /* object name (inverter values), NULL = all */
    const char *kind;         /* event kind (events) or problem kind (problems), NULL = all */
    const char *subject;      /* problem subject or name (problems), NULL = all */
} sw_history_query;

/* Column names of a table's export, in order; *n gets the count. Column 0 is "ts_ns". */
const char *const *sw_history_columns(sw_history_table t, size_t *n);
/*
 * Call row() for each matching row in time order. The callback gets the history, the
 * row's cells, then the user pointer; a non-zero return stops the walk at once and
 * sw_history_select returns that value.
 */
typedef int (*sw_history_row_cb)(sw_history *h, const sw_history_cell *cells, size_t n, void *user);
sw_err sw_history_select(sw_history *h, const sw_history_query *q, sw_history_row_cb row, void *user);

/*
 * The largest lifetime energy recorded for each panel (source, gateway, node),
 * for restoring the counters when the state file is lost: a lifetime counter
 * never decreases, so its largest row is its newest value. Calls row once per
 * panel; a non-zero return stops. SW_ERR_NOT_FOUND when the history has no
 * panel readings.
 */
typedef int (*sw_history_total_cb)(void *user, const char *source, uint16_t gateway_id, uint16_t node_id,
                                   const char *barcode, double energy_total_wh);
sw_err sw_history_panel_totals(sw_history *h, sw_history_total_cb row, void *user);

typedef enum sw_history_name_kind {
    SW_HISTORY_NAME_PANEL = 0,   /* panel name or barcode */
    SW_HISTORY_NAME_STRING,
    SW_HISTORY_NAME_INVERTER,
    SW_HISTORY_NAME_OBJECT,
    SW_HISTORY_NAME_EVENT_KIND,
    SW_HISTORY_NAME_PROBLEM_SUBJECT /* a problem's subject or name */
} sw_history_name_kind;
/* Whether any row ever carried this name (to tell a typo from an empty range). */
sw_err sw_history_name_known(sw_history *h, sw_history_name_kind kind, const char *name, bool *known);

/* ---- the sink ------------------------------------------------------------------- */
/* Keys of the INI section [history]; see docs/history.md. */
typedef struct sw_history_config {
    bool enable;
    char path[256];             /* path = database file (default sunwire-history.db) */
    unsigned retention_days;    /* retention_days = delete older rows (0 = keep all; default 365) */
    unsigned prune_interval_s;  /* prune_interval_s = how often to prune (default 3600) */
    bool panels, strings, inverters, events, problems; /* store_<x> = which tables get rows (default all) */
    /* Not a key: the clock rows are stamped with when a reading has no time of its own (the
     * daemon's, simulated under `sunwire demo`). NULL = the wall clock. */
    int64_t (*clock)(void *user);
    void *clock_user;
} sw_history_config;

void sw_history_config_defaults(sw_history_config *c);
sw_err sw_history_config_set(sw_history_config *c, const char *key, const char *value, char *err, size_t errcap);
sw_err sw_history_start(sw_loop *loop, sw_model *model, const sw_history_config *c, sw_sink *out);

/* Counters of a running sink (sink->self from sw_history_start). */
typedef struct sw_history_counters {
    uint64_t rows, commits, errors, pruned;
} sw_history_counters;
void sw_history_get_counters(const void *sink_self, sw_history_counters *out);

#ifdef __cplusplus
}
#endif
#endif
