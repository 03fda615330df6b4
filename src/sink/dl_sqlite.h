/*
 * dl_sqlite.h: sqlite resolved at first use (see io/dl.h for why).
 * Include this instead of <sqlite3.h>; calls read as usual.
 */
#ifndef SW_DL_SQLITE_H
#define SW_DL_SQLITE_H

#include "sunwire_config.h"
#if SUNWIRE_HAVE_SQLITE

#include <sqlite3.h>

#include "sunwire/error.h"

#define SW_DL_SQLITE_FUNCS(X) \
    X(sqlite3_bind_double) \
    X(sqlite3_bind_int) \
    X(sqlite3_bind_int64) \
    X(sqlite3_bind_null) \
    X(sqlite3_bind_parameter_count) \
    X(sqlite3_bind_text) \
    X(sqlite3_busy_timeout) \
    X(sqlite3_changes) \
    X(sqlite3_clear_bindings) \
    X(sqlite3_close) \
    X(sqlite3_column_double) \
    X(sqlite3_column_int) \
    X(sqlite3_column_int64) \
    X(sqlite3_column_text) \
    X(sqlite3_column_type) \
    X(sqlite3_errmsg) \
    X(sqlite3_exec) \
    X(sqlite3_finalize) \
    X(sqlite3_free) \
    X(sqlite3_open_v2) \
    X(sqlite3_prepare_v2) \
    X(sqlite3_prepare_v3) \
    X(sqlite3_reset) \
    X(sqlite3_step)

typedef struct sw_dl_sqlite_api {
#define SW_DL_FIELD_(f) __typeof__(f) *f;
    SW_DL_SQLITE_FUNCS(SW_DL_FIELD_)
#undef SW_DL_FIELD_
} sw_dl_sqlite_api;

extern sw_dl_sqlite_api sw_dl_sqlite;

/* Load the library once; on failure *why says what to install. */
sw_err sw_dl_sqlite_load(const char **why);

#ifndef SW_DL_SQLITE_IMPL
#undef sqlite3_bind_double
#define sqlite3_bind_double (sw_dl_sqlite.sqlite3_bind_double)
#undef sqlite3_bind_int
#define sqlite3_bind_int (sw_dl_sqlite.sqlite3_bind_int)
#undef sqlite3_bind_int64
#define sqlite3_bind_int64 (sw_dl_sqlite.sqlite3_bind_int64)
#undef sqlite3_bind_null
#define sqlite3_bind_null (sw_dl_sqlite.sqlite3_bind_null)
#undef sqlite3_bind_parameter_count
#define sqlite3_bind_parameter_count (sw_dl_sqlite.sqlite3_bind_parameter_count)
#undef sqlite3_bind_text
#define sqlite3_bind_text (sw_dl_sqlite.sqlite3_bind_text)
#undef sqlite3_busy_timeout
#define sqlite3_busy_timeout (sw_dl_sqlite.sqlite3_busy_timeout)
#undef sqlite3_changes
#define sqlite3_changes (sw_dl_sqlite.sqlite3_changes)
#undef sqlite3_clear_bindings
#define sqlite3_clear_bindings (sw_dl_sqlite.sqlite3_clear_bindings)
#undef sqlite3_close
#define sqlite3_close (sw_dl_sqlite.sqlite3_close)
#undef sqlite3_column_double
#define sqlite3_column_double (sw_dl_sqlite.sqlite3_column_double)
#undef sqlite3_column_int
#define sqlite3_column_int (sw_dl_sqlite.sqlite3_column_int)
#undef sqlite3_column_int64
#define sqlite3_column_int64 (sw_dl_sqlite.sqlite3_column_int64)
#undef sqlite3_column_text
#define sqlite3_column_text (sw_dl_sqlite.sqlite3_column_text)
#undef sqlite3_column_type
#define sqlite3_column_type (sw_dl_sqlite.sqlite3_column_type)
#undef sqlite3_errmsg
#define sqlite3_errmsg (sw_dl_sqlite.sqlite3_errmsg)
#undef sqlite3_exec
#define sqlite3_exec (sw_dl_sqlite.sqlite3_exec)
#undef sqlite3_finalize
#define sqlite3_finalize (sw_dl_sqlite.sqlite3_finalize)
#undef sqlite3_free
#define sqlite3_free (sw_dl_sqlite.sqlite3_free)
#undef sqlite3_open_v2
#define sqlite3_open_v2 (sw_dl_sqlite.sqlite3_open_v2)
#undef sqlite3_prepare_v2
#define sqlite3_prepare_v2 (sw_dl_sqlite.sqlite3_prepare_v2)
#undef sqlite3_prepare_v3
#define sqlite3_prepare_v3 (sw_dl_sqlite.sqlite3_prepare_v3)
#undef sqlite3_reset
#define sqlite3_reset (sw_dl_sqlite.sqlite3_reset)
#undef sqlite3_step
#define sqlite3_step (sw_dl_sqlite.sqlite3_step)
#endif

#endif /* SUNWIRE_HAVE_SQLITE */
#endif
