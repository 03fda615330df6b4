/*
 * history_import.c: rows added only when the history does not hold them yet.
 *
 * `sunwire history import` brings in what was recorded elsewhere (the RCT
 * logger's time series and event table) and may be run again over the same
 * or an overlapping range. A row is the same when its key matches: for an
 * inverter value the inverter, the object and the time; for an event the
 * time, the kind and the JSON text. The lookups use the tables' indexes
 * (inverter_values_obj, events_ts), so an import stays linear in its rows.
 */
#include "sink/history_internal.h"

#include <string.h>

#if SUNWIRE_HAVE_SQLITE

/* *found = a row answers sql with the bound texts and time; SW_ERR_IO when SQLite fails. */
static sw_err exists(sw_history *h, const char *sql, int64_t ts_ns, const char *a, const char *b, bool *found)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return SW_ERR_IO;
    sqlite3_bind_int64(st, 1, ts_ns);
    sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return SW_ERR_IO;
    *found = rc == SQLITE_ROW;
    return SW_OK;
}

sw_err sw_history_add_inverter_value_once(sw_history *h, const sw_inverter_value *v, int64_t ts_ns, bool *added)
{
    bool found = false;
    *added = false;
    if (!h || !v)
        return SW_ERR_INVALID_ARGUMENT;
    sw_err e = exists(h, "SELECT 1 FROM inverter_values WHERE ts_ns = ?1 AND inverter = ?2 AND object = ?3 LIMIT 1",
                      ts_ns, v->inverter, v->object_name, &found);
    if (e != SW_OK || found)
        return e;
    e = sw_history_add_inverter_value(h, v, ts_ns);
    *added = e == SW_OK;
    return e;
}

sw_err sw_history_add_event_once(sw_history *h, const char *kind, const char *json, int64_t ts_ns, bool *added)
{
    bool found = false;
    *added = false;
    if (!h || !kind || !json)
        return SW_ERR_INVALID_ARGUMENT;
    sw_err e = exists(h, "SELECT 1 FROM events WHERE ts_ns = ?1 AND kind = ?2 AND json = ?3 LIMIT 1", ts_ns, kind,
                      json, &found);
    if (e != SW_OK || found)
        return e;
    e = sw_history_add_event(h, kind, json, ts_ns);
    *added = e == SW_OK;
    return e;
}

#else /* !SUNWIRE_HAVE_SQLITE */

sw_err sw_history_add_inverter_value_once(sw_history *h, const sw_inverter_value *v, int64_t ts_ns, bool *added)
{
    (void)h; (void)v; (void)ts_ns;
    *added = false;
    return SW_ERR_UNSUPPORTED;
}

sw_err sw_history_add_event_once(sw_history *h, const char *kind, const char *json, int64_t ts_ns, bool *added)
{
    (void)h; (void)kind; (void)json; (void)ts_ns;
    *added = false;
    return SW_ERR_UNSUPPORTED;
}

#endif
