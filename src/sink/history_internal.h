/*
 * history_internal.h: the history store's private state, shared by the
 * writer (history.c) and the queries (history_query.c).
 */
#ifndef SUNWIRE_SINK_HISTORY_INTERNAL_H
#define SUNWIRE_SINK_HISTORY_INTERNAL_H

#include <stdbool.h>

#include "model/fields.h"
#include "sink/sink_history.h"
#include "sunwire_config.h"

/* The most columns a table has (string_aggregates: the row time and one per string field). */
#define SW_HISTORY_MAX_COLS 40

/* The model fields a table stores after its ts_ns column (SW_OUT_SQL names); NULL for tables of other rows. */
const sw_field *sw_history_record_fields(sw_history_table t, size_t *n);

#if SUNWIRE_HAVE_SQLITE
#include <sqlite3.h>

struct sw_history {
    sqlite3 *db;
    sqlite3_stmt *insert[SW_HISTORY_INSERT_COUNT]; /* indexed by sw_history_table, the tables of rows that are only added */
    sqlite3_stmt *problem[3];  /* the problems table: open a row, update the open row, close it */
    bool writable;
    bool in_txn;
    /* While the database cannot be written (disk full): rows as SQL text, oldest
     * first, at most SW_HISTORY_QUEUE_MAX; failures are logged once, then summed
     * up every summary_ns_ (SW_HISTORY_SUMMARY_S), and the recovery is logged. */
    char **queue_;
    size_t q_head_, q_len_;
    uint64_t q_dropped_;
    bool failing_;
    int64_t fail_since_ns_, summary_at_ns_, summary_ns_;
    uint64_t fails_, fails_since_summary_;
};

#define SW_HISTORY_QUEUE_MAX 10000
#define SW_HISTORY_SUMMARY_S 60

/* SQL table name per sw_history_table. */
extern const char *const sw_history_table_names_[SW_HISTORY_TABLE_COUNT];
#endif

#endif
