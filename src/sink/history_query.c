/*
 * history_query.c: reading the history back (see sink/sink_history.h).
 *
 * Trusts the database only as far as SQLite does: a column may hold any type,
 * so every cell is passed on with the type SQLite reports, never assumed.
 * Filters are bound parameters, never pasted into the SQL.
 */
#include "sink/sink_history.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sink/history_internal.h"

static const char *const inverter_cols[] = {
    "ts_ns", "inverter", "object_id", "object", "unit", "number", "text",
};
static const char *const event_cols[] = { "ts_ns", "kind", "json" };
static const char *const problem_cols[] = {
    "ts_ns", "end_ns", "kind", "subject_kind", "source", "subject", "name", "reason", "ended",
};
static const char *const performance_cols[] = {
    "ts_ns", "day", "source", "panel_id", "panel", "string", "energy_wh", "peer_energy_wh", "performance",
};

const sw_field *sw_history_record_fields(sw_history_table t, size_t *n)
{
    switch (t) {
    case SW_HISTORY_PANELS: *n = sw_panel_field_count; return sw_panel_fields;
    case SW_HISTORY_STRINGS: *n = sw_string_field_count; return sw_string_fields;
    default: *n = 0; return NULL;
    }
}

/* ts_ns, then the SQL names of the table's model fields, in table order. */
static size_t record_columns(sw_history_table t, const char **cols)
{
    size_t nf, n = 0;
    const sw_field *f = sw_history_record_fields(t, &nf);
    cols[n++] = "ts_ns";
    for (size_t i = 0; i < nf && n < SW_HISTORY_MAX_COLS; i++)
        if (f[i].key.sql)
            cols[n++] = f[i].key.sql;
    return n;
}

const char *const *sw_history_columns(sw_history_table t, size_t *n)
{
    /* Filled on first use from constant tables: every call writes the same pointers. */
    static const char *panel_cols[SW_HISTORY_MAX_COLS], *string_cols[SW_HISTORY_MAX_COLS];
    static size_t n_panel, n_string;
    switch (t) {
    case SW_HISTORY_PANELS:
        if (!n_panel)
            n_panel = record_columns(t, panel_cols);
        *n = n_panel;
        return panel_cols;
    case SW_HISTORY_STRINGS:
        if (!n_string)
            n_string = record_columns(t, string_cols);
        *n = n_string;
        return string_cols;
    case SW_HISTORY_INVERTER_VALUES: *n = sizeof inverter_cols / sizeof *inverter_cols; return inverter_cols;
    case SW_HISTORY_EVENTS: *n = sizeof event_cols / sizeof *event_cols; return event_cols;
    case SW_HISTORY_PROBLEMS: *n = sizeof problem_cols / sizeof *problem_cols; return problem_cols;
    case SW_HISTORY_PERFORMANCE: *n = sizeof performance_cols / sizeof *performance_cols; return performance_cols;
    }
    *n = 0;
    return NULL;
}

#if SUNWIRE_HAVE_SQLITE

/* Does the schema question sql (?1 = a, ?2 = b unless NULL) find a row? Yes when it cannot be asked:
 * then the query itself reports what is wrong. */
static bool schema_has(sw_history *h, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return true;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static bool has_column(sw_history *h, const char *table, const char *col)
{
    return schema_has(h, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", table, col);
}

static bool has_table(sw_history *h, const char *table)
{
    return schema_has(h, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", table, NULL);
}

/*
 * Each table's own filters, appended to the WHERE clause: ?3 and ?4 carry them
 * (NULL = no filter), taken from the query members at the offsets given.
 */
#define NO_FILTER SIZE_MAX
#define FILTER(member) offsetof(sw_history_query, member)
static const struct table_filter {
    const char *sql;
    size_t first, second;
} table_filters[] = {
    /* a panel by its name, or by its barcode (readings) or series id (performance) */
    [SW_HISTORY_PANELS] = { " AND (?3 IS NULL OR panel = ?3 OR barcode = ?3) AND (?4 IS NULL OR string = ?4)",
                            FILTER(panel), FILTER(string) },
    [SW_HISTORY_PERFORMANCE] = { " AND (?3 IS NULL OR panel = ?3 OR panel_id = ?3) AND (?4 IS NULL OR string = ?4)",
                                 FILTER(panel), FILTER(string) },
    [SW_HISTORY_STRINGS] = { " AND (?3 IS NULL OR string = ?3)", FILTER(string), NO_FILTER },
    [SW_HISTORY_INVERTER_VALUES] = { " AND (?3 IS NULL OR inverter = ?3) AND (?4 IS NULL OR object = ?4)",
                                     FILTER(inverter), FILTER(object) },
    [SW_HISTORY_EVENTS] = { " AND (?3 IS NULL OR kind = ?3)", FILTER(kind), NO_FILTER },
    [SW_HISTORY_PROBLEMS] = { " AND (?3 IS NULL OR kind = ?3) AND (?4 IS NULL OR subject = ?4 OR name = ?4)",
                              FILTER(kind), FILTER(subject) },
};

_Static_assert(sizeof table_filters / sizeof table_filters[0] == SW_HISTORY_TABLE_COUNT, "a filter row per table");

static const char *filter_value(const sw_history_query *q, size_t offset)
{
    return offset == NO_FILTER ? NULL : *(const char *const *)((const char *)q + offset);
}

sw_err sw_history_select(sw_history *h, const sw_history_query *q, sw_history_row_cb row, void *user)
{
    size_t ncols;
    const char *const *cols = sw_history_columns(q->table, &ncols);
    if (!h || !cols || !row)
        return SW_ERR_INVALID_ARGUMENT;
    /* A file older than the table (opened read-only, never migrated) has no rows of it. */
    if (!has_table(h, sw_history_table_names_[q->table]))
        return SW_OK;
    char sql[2048];
    size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT ");
    /* A file of an older schema, opened read-only (never migrated), lacks the
     * newer columns: they read NULL, as they do for older rows of a migrated file. */
    for (size_t i = 0; i < ncols && len < sizeof sql; i++) {
        if (has_column(h, sw_history_table_names_[q->table], cols[i]))
            len += (size_t)snprintf(sql + len, sizeof sql - len, "%s%s", i ? "," : "", cols[i]);
        else
            len += (size_t)snprintf(sql + len, sizeof sql - len, "%sNULL AS %s", i ? "," : "", cols[i]);
    }
    if (len >= sizeof sql)
        return SW_ERR_NO_SPACE;
    if (q->table == SW_HISTORY_PROBLEMS) /* every row active at some time in the range, open ones included */
        len += (size_t)snprintf(sql + len, sizeof sql - len,
                                " FROM problems WHERE ts_ns < ?2 AND (end_ns IS NULL OR end_ns >= ?1)");
    else
        len += (size_t)snprintf(sql + len, sizeof sql - len, " FROM %s WHERE ts_ns >= ?1 AND ts_ns < ?2",
                                sw_history_table_names_[q->table]);
    const struct table_filter *tf = &table_filters[q->table];
    const char *f1 = filter_value(q, tf->first), *f2 = filter_value(q, tf->second);
    snprintf(sql + len, sizeof sql - len, "%s ORDER BY ts_ns, rowid", tf->sql);

    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return SW_ERR_IO;
    sqlite3_bind_int64(st, 1, q->from_ns);
    sqlite3_bind_int64(st, 2, q->to_ns);
    if (f1)
        sqlite3_bind_text(st, 3, f1, -1, SQLITE_STATIC);
    if (f2 && sqlite3_bind_parameter_count(st) >= 4)
        sqlite3_bind_text(st, 4, f2, -1, SQLITE_STATIC);

    sw_history_cell cells[SW_HISTORY_MAX_COLS];
    int rc;
    sw_err result = SW_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (size_t i = 0; i < ncols; i++) {
            sw_history_cell *c = &cells[i];
            memset(c, 0, sizeof *c);
            switch (sqlite3_column_type(st, (int)i)) {
            case SQLITE_INTEGER:
                c->type = SW_HISTORY_INT;
                c->i = sqlite3_column_int64(st, (int)i);
                break;
            case SQLITE_FLOAT:
                c->type = SW_HISTORY_REAL;
                c->r = sqlite3_column_double(st, (int)i);
                break;
            case SQLITE_NULL:
                c->type = SW_HISTORY_NULL;
                break;
            default:
                c->type = SW_HISTORY_TEXT;
                c->text = (const char *)sqlite3_column_text(st, (int)i);
                if (!c->text)
                    c->text = "";
                break;
            }
        }
        int stop = row(h, cells, ncols, user);
        if (stop != 0) {
            result = (sw_err)stop;
            break;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = SW_ERR_IO;
    sqlite3_finalize(st);
    return result;
}

sw_err sw_history_name_known(sw_history *h, sw_history_name_kind kind, const char *name, bool *known)
{
    static const char *const sql[] = {
        "SELECT 1 FROM panel_readings WHERE panel = ?1 OR barcode = ?1 LIMIT 1",
        ("SELECT 1 FROM string_aggregates WHERE string = ?1 UNION ALL "
         "SELECT 1 FROM panel_readings WHERE string = ?1 LIMIT 1"),
        "SELECT 1 FROM inverter_values WHERE inverter = ?1 LIMIT 1",
        "SELECT 1 FROM inverter_values WHERE object = ?1 LIMIT 1",
        "SELECT 1 FROM events WHERE kind = ?1 LIMIT 1",
        "SELECT 1 FROM problems WHERE subject = ?1 OR name = ?1 LIMIT 1",
    };
    /* a panel or string may be known by its performance rows alone (the readings pruned, or not stored) */
    static const char *const with_performance[] = {
        ("SELECT 1 FROM panel_readings WHERE panel = ?1 OR barcode = ?1 UNION ALL "
         "SELECT 1 FROM performance WHERE panel = ?1 OR panel_id = ?1 LIMIT 1"),
        ("SELECT 1 FROM string_aggregates WHERE string = ?1 UNION ALL "
         "SELECT 1 FROM panel_readings WHERE string = ?1 UNION ALL "
         "SELECT 1 FROM performance WHERE string = ?1 LIMIT 1"),
    };
    sqlite3_stmt *st;
    if (!h || (unsigned)kind > SW_HISTORY_NAME_PROBLEM_SUBJECT || !name)
        return SW_ERR_INVALID_ARGUMENT;
    if (kind == SW_HISTORY_NAME_PROBLEM_SUBJECT && !has_table(h, "problems")) {
        *known = false; /* a file older than the problems table */
        return SW_OK;
    }
    const char *text = kind <= SW_HISTORY_NAME_STRING && has_table(h, "performance") ? with_performance[kind]
                                                                                      : sql[kind];
    if (sqlite3_prepare_v2(h->db, text, -1, &st, NULL) != SQLITE_OK)
        return SW_ERR_IO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return SW_ERR_IO;
    *known = rc == SQLITE_ROW;
    return SW_OK;
}

#else

sw_err sw_history_select(sw_history *h, const sw_history_query *q, sw_history_row_cb row, void *user)
{
    (void)h; (void)q; (void)row; (void)user;
    return SW_ERR_UNSUPPORTED;
}

sw_err sw_history_name_known(sw_history *h, sw_history_name_kind kind, const char *name, bool *known)
{
    (void)h; (void)kind; (void)name; (void)known;
    return SW_ERR_UNSUPPORTED;
}

#endif
