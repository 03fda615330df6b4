/*
 * history_internal.h: the history store's private state, shared by the
 * writer (history.c) and the queries (history_query.c).
 */
#ifndef SUNWIRE_SINK_HISTORY_INTERNAL_H
#define SUNWIRE_SINK_HISTORY_INTERNAL_H

#include <stdbool.h>

#include "sunwire/sink_history.h"
#include "sunwire_config.h"

#if SUNWIRE_HAVE_SQLITE
#include <sqlite3.h>

struct sw_history {
    sqlite3 *db;
    sqlite3_stmt *insert[4];   /* indexed by sw_history_table */
    bool writable;
    bool in_txn;
};

/* SQL table name per sw_history_table. */
extern const char *const sw_history_table_names_[4];
#endif

#endif
