/*
 * history.c: the SQLite history store and sink (see sink/sink_history.h).
 *
 * Trusts the model's records (NUL-terminated text, finite numbers are not
 * assumed: SQLite stores NaN as NULL). Every statement is prepared once at
 * open; rows of one loop iteration share a transaction so a busy bus costs
 * one fsync-free WAL append per iteration rather than one per row.
 */
#include "sunwire/core.h"
#include "sink/sink_history.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sink/history_internal.h"
#include "sunwire/json.h"
#include "io/log.h"
#include "sunwire_config.h"

#define LOG_TARGET "sunwire::history"

/* ---- configuration (no SQLite needed) --------------------------------------- */

void sw_history_config_defaults(sw_history_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", "sunwire-history.db");
    c->retention_days = 365;
    c->prune_interval_s = 3600;
    c->panels = c->strings = c->inverters = c->events = c->problems = true;
}

static sw_err cfg_err(char *err, size_t errcap, const char *key, const char *value, const char *what)
{
    if (err && errcap)
        snprintf(err, errcap, "history: %s = '%.1024s' %s", key, value, what); /* bounded, or 32-bit GCC warns it may pass INT_MAX */
    return SW_ERR_INVALID_ARGUMENT;
}

static bool parse_uint(const char *v, unsigned long max, unsigned *out)
{
    uint64_t n;
    if (!sw_parse_uint(v, max, &n))
        return false;
    *out = (unsigned)n;
    return true;
}

sw_err sw_history_config_set(sw_history_config *c, const char *key, const char *value, char *err, size_t errcap)
{
    if (!key || !value)
        return cfg_err(err, errcap, "?", "?", "is incomplete");
    bool *flag = NULL;
    if (strcmp(key, "enable") == 0 || strcmp(key, "enabled") == 0)
        flag = &c->enable;
    else if (strcmp(key, "store_panels") == 0)
        flag = &c->panels;
    else if (strcmp(key, "store_strings") == 0)
        flag = &c->strings;
    else if (strcmp(key, "store_inverters") == 0)
        flag = &c->inverters;
    else if (strcmp(key, "store_events") == 0)
        flag = &c->events;
    else if (strcmp(key, "store_problems") == 0)
        flag = &c->problems;
    if (flag) {
        if (!sw_parse_bool(value, flag))
            return cfg_err(err, errcap, key, value, "is not a boolean (true/false)");
        return SW_OK;
    }
    if (strcmp(key, "path") == 0) {
        if (!*value)
            return cfg_err(err, errcap, key, value, "is empty");
        if (strlen(value) >= sizeof c->path)
            return cfg_err(err, errcap, key, value, "is too long");
        snprintf(c->path, sizeof c->path, "%s", value);
    } else if (strcmp(key, "retention_days") == 0) {
        if (!parse_uint(value, 100000, &c->retention_days))
            return cfg_err(err, errcap, key, value, "must be a number of days (0 = keep everything)");
    } else if (strcmp(key, "prune_interval_s") == 0) {
        if (!parse_uint(value, 86400 * 7, &c->prune_interval_s) || c->prune_interval_s == 0)
            return cfg_err(err, errcap, key, value, "must be seconds from 1 to 604800");
    } else {
        if (err && errcap)
            snprintf(err, errcap, "history: unknown key '%s'", key);
        return SW_ERR_INVALID_ARGUMENT;
    }
    return SW_OK;
}

#if SUNWIRE_HAVE_SQLITE

/* ---- schema ------------------------------------------------------------------ */

/* The tables of other rows than model records, and the indexes. */
static const char schema_head_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER NOT NULL, applied_ns INTEGER NOT NULL);";
static const char schema_tail_sql[] =
    "CREATE INDEX IF NOT EXISTS panel_readings_ts ON panel_readings(ts_ns);"
    "CREATE INDEX IF NOT EXISTS panel_readings_panel ON panel_readings(panel, ts_ns);"
    "CREATE INDEX IF NOT EXISTS string_aggregates_ts ON string_aggregates(ts_ns);"
    "CREATE TABLE IF NOT EXISTS inverter_values ("
    " ts_ns INTEGER NOT NULL, inverter TEXT NOT NULL, object_id INTEGER NOT NULL, object TEXT NOT NULL,"
    " unit TEXT NOT NULL, number REAL, text TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS inverter_values_ts ON inverter_values(ts_ns);"
    "CREATE INDEX IF NOT EXISTS inverter_values_obj ON inverter_values(inverter, object, ts_ns);"
    "CREATE TABLE IF NOT EXISTS events ("
    " ts_ns INTEGER NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts_ns);"
    /* Version 3: the daily performance index, one row per panel and local day, replaced
     * as the day goes on. An older file gets the table when opened for writing (this is
     * its whole migration); its older days have no rows. */
    "CREATE TABLE IF NOT EXISTS performance ("
    " ts_ns INTEGER NOT NULL, day TEXT NOT NULL, source TEXT NOT NULL, panel_id TEXT NOT NULL,"
    " panel TEXT NOT NULL, string TEXT NOT NULL, energy_wh REAL, peer_energy_wh REAL, performance REAL,"
    " PRIMARY KEY (day, source, panel_id));"
    "CREATE INDEX IF NOT EXISTS performance_ts ON performance(ts_ns);";

/*
 * Version 3: the problems table, one row per time a problem was active. Its own
 * step, self-contained: CREATE ... IF NOT EXISTS adds it to an older file and
 * leaves a newer one alone, so it runs on every open for writing.
 */
static const char problems_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS problems ("
    " ts_ns INTEGER NOT NULL, end_ns INTEGER, kind TEXT NOT NULL, subject_kind TEXT NOT NULL,"
    " source TEXT NOT NULL, subject TEXT NOT NULL, name TEXT NOT NULL, reason TEXT NOT NULL,"
    " ended TEXT NOT NULL, updated_ns INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS problems_ts ON problems(ts_ns);"
    "CREATE INDEX IF NOT EXISTS problems_open ON problems(kind, source, subject) WHERE end_ns IS NULL;";

static const char *const problem_sql[3] = {
    "INSERT INTO problems (ts_ns, end_ns, kind, subject_kind, source, subject, name, reason, ended, updated_ns)"
    " VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?6, ?7, '', ?8)",
    "UPDATE problems SET name = ?6, reason = ?7, updated_ns = ?8"
    " WHERE end_ns IS NULL AND kind = ?2 AND source = ?4 AND subject = ?5",
    "UPDATE problems SET end_ns = ?1, ended = 'cleared', updated_ns = ?8"
    " WHERE end_ns IS NULL AND kind = ?2 AND source = ?4 AND subject = ?5",
};

static const char *const other_insert_sql[3] = {
    "INSERT INTO inverter_values VALUES (?,?,?,?,?,?,?)",
    "INSERT INTO events VALUES (?,?,?)",
    "INSERT OR REPLACE INTO performance VALUES (?,?,?,?,?,?,?,?,?)",
};

/*
 * The SQL type of a model field's column: measurements that may be unknown
 * (numbers, the raw signal) may be NULL, everything else may not.
 */
static sw_err exec(sw_history *h, const char *sql);

static const char *column_type(const sw_field *f)
{
    switch (f->type) {
    case SW_FT_TEXT:
    case SW_FT_KIND:
        return "TEXT NOT NULL";
    case SW_FT_DOUBLE:
        return "REAL";
    case SW_FT_INT:
        return "INTEGER";
    default:
        return "INTEGER NOT NULL";
    }
}

/* CREATE TABLE and INSERT of a table of model records, from the field table. The INSERT names its
 * columns, so a file whose columns were added by a migration (in another order) is written right. */
static bool record_table_sql(sw_history_table t, char *create, size_t ccap, char *insert, size_t icap)
{
    size_t nf;
    const sw_field *f = sw_history_record_fields(t, &nf);
    const char *name = sw_history_table_names_[t];
    size_t cl = (size_t)snprintf(create, ccap, "CREATE TABLE IF NOT EXISTS %s ( ts_ns INTEGER NOT NULL", name);
    size_t il = (size_t)snprintf(insert, icap, "INSERT INTO %s (ts_ns", name);
    size_t nparams = 1;
    for (size_t i = 0; i < nf; i++) {
        if (!f[i].key.sql)
            continue;
        if (cl < ccap)
            cl += (size_t)snprintf(create + cl, ccap - cl, ", %s %s", f[i].key.sql, column_type(&f[i]));
        if (il < icap)
            il += (size_t)snprintf(insert + il, icap - il, ",%s", f[i].key.sql);
        nparams++;
    }
    if (cl < ccap)
        cl += (size_t)snprintf(create + cl, ccap - cl, ");");
    if (il < icap)
        il += (size_t)snprintf(insert + il, icap - il, ") VALUES (?");
    for (size_t i = 1; i < nparams && il < icap; i++)
        il += (size_t)snprintf(insert + il, icap - il, ",?");
    if (il < icap)
        il += (size_t)snprintf(insert + il, icap - il, ")");
    return cl < ccap && il < icap;
}

/*
 * Schema migration: a file written by an older version lacks the columns of
 * fields that were added to the table since (version 2: the string
 * statistics). They are appended with ALTER TABLE ADD COLUMN; the rows already
 * stored keep their values and read NULL in the new columns, so a new column
 * is never NOT NULL.
 */
static sw_err add_missing_columns(sw_history *h, sw_history_table t)
{
    size_t nf;
    const sw_field *f = sw_history_record_fields(t, &nf);
    const char *name = sw_history_table_names_[t];
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st, NULL) !=
        SQLITE_OK)
        return SW_ERR_IO;
    sw_err err = SW_OK;
    for (size_t i = 0; err == SW_OK && i < nf; i++) {
        if (!f[i].key.sql)
            continue;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, f[i].key.sql, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW)
            continue;
        if (rc != SQLITE_DONE) {
            err = SW_ERR_IO;
            break;
        }
        const char *type = column_type(&f[i]);
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %.*s", name, f[i].key.sql,
                 strstr(type, " NOT NULL") ? (int)(strstr(type, " NOT NULL") - type) : (int)strlen(type), type);
        err = exec(h, sql);
        if (err == SW_OK)
            SW_LOGI(LOG_TARGET, "history: added column %s.%s (older rows read NULL there)", name, f[i].key.sql);
    }
    sqlite3_finalize(st);
    return err;
}

const char *const sw_history_table_names_[SW_HISTORY_TABLE_COUNT] = {
    "panel_readings", "string_aggregates", "inverter_values", "events", "performance", "problems"
};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static sw_err exec(sw_history *h, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        return SW_ERR_IO;
    }
    return SW_OK;
}

static int read_version(sw_history *h)
{
    sqlite3_stmt *st;
    int v = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT max(version) FROM schema_version", -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int sw_history_schema_version(sw_history *h)
{
    return h ? read_version(h) : 0;
}

const char *sw_history_errmsg(const sw_history *h)
{
    return h && h->db ? sqlite3_errmsg(h->db) : "no database";
}

static sw_err open_common(const char *path, int flags, sw_history **out)
{
    sw_history *h = calloc(1, sizeof *h);
    if (!h)
        return SW_ERR_NO_MEMORY;
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        sqlite3_close(h->db);
        free(h);
        return SW_ERR_OPEN;
    }
    /* The daemon writes while an export reads: wait out short write locks. */
    sqlite3_busy_timeout(h->db, 2000);
    h->summary_ns_ = (int64_t)SW_HISTORY_SUMMARY_S * 1000000000;
    *out = h;
    return SW_OK;
}

sw_err sw_history_open(const char *path, sw_history **out)
{
    sw_history *h;
    sw_err e = open_common(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &h);
    if (e != SW_OK)
        return e;
    if (exec(h, "PRAGMA journal_mode=WAL") != SW_OK || exec(h, "PRAGMA synchronous=NORMAL") != SW_OK ||
        exec(h, "BEGIN IMMEDIATE") != SW_OK) {
        sqlite3_close(h->db);
        free(h);
        return SW_ERR_OPEN;
    }
    /* The version check and the schema go in one transaction so two daemons
     * starting on a new file cannot both write version rows. */
    int have = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, "SELECT 1 FROM sqlite_master WHERE name='schema_version'", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            have = read_version(h);
        sqlite3_finalize(st);
    }
    if (have > SW_HISTORY_SCHEMA_VERSION) {
        exec(h, "ROLLBACK");
        sqlite3_close(h->db);
        free(h);
        return SW_ERR_UNSUPPORTED;
    }
    char create[2][2048], insert[2][2048];
    sw_err err = exec(h, schema_head_sql);
    for (int i = 0; err == SW_OK && i < 2; i++) {
        if (!record_table_sql((sw_history_table)i, create[i], sizeof create[i], insert[i], sizeof insert[i]))
            err = SW_ERR_NO_SPACE;
        else
            err = exec(h, create[i]);
        if (err == SW_OK && have < SW_HISTORY_SCHEMA_VERSION)
            err = add_missing_columns(h, (sw_history_table)i);
    }
    if (err == SW_OK)
        err = exec(h, schema_tail_sql);
    if (err == SW_OK)
        err = exec(h, problems_schema_sql);
    if (err == SW_OK && have < SW_HISTORY_SCHEMA_VERSION) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d, %lld)", SW_HISTORY_SCHEMA_VERSION,
                 (long long)wall_ns());
        err = exec(h, sql);
    }
    for (int i = 0; err == SW_OK && i < SW_HISTORY_INSERT_COUNT; i++) {
        const char *sql = i < 2 ? insert[i] : other_insert_sql[i - 2];
        if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &h->insert[i], NULL) !=
            SQLITE_OK)
            err = SW_ERR_IO;
    }
    for (int i = 0; err == SW_OK && i < 3; i++)
        if (sqlite3_prepare_v3(h->db, problem_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &h->problem[i], NULL) !=
            SQLITE_OK)
            err = SW_ERR_IO;
    if (err == SW_OK)
        err = exec(h, "COMMIT");
    if (err != SW_OK) {
        exec(h, "ROLLBACK");
        sw_history_close(h);
        return SW_ERR_OPEN;
    }
    h->writable = true;
    *out = h;
    return SW_OK;
}

sw_err sw_history_open_readonly(const char *path, sw_history **out)
{
    sw_history *h;
    sw_err e = open_common(path, SQLITE_OPEN_READONLY, &h);
    if (e != SW_OK)
        return e;
    int v = read_version(h);
    if (v == 0) {
        sqlite3_close(h->db);
        free(h);
        return SW_ERR_NOT_FOUND;
    }
    if (v > SW_HISTORY_SCHEMA_VERSION) {
        sqlite3_close(h->db);
        free(h);
        return SW_ERR_UNSUPPORTED;
    }
    *out = h;
    return SW_OK;
}

sw_err sw_history_panel_totals(sw_history *h, sw_history_total_cb row, void *user)
{
    static const char sql[] = "SELECT source, gateway_id, node_id, MAX(barcode), MAX(energy_total_wh)"
                              " FROM panel_readings WHERE energy_total_wh IS NOT NULL"
                              " GROUP BY source, gateway_id, node_id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return SW_ERR_IO;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 g = sqlite3_column_int64(st, 1), node = sqlite3_column_int64(st, 2);
        const unsigned char *src = sqlite3_column_text(st, 0), *bc = sqlite3_column_text(st, 3);
        if (!src || g < 0 || g > 0xFFFF || node < 0 || node > 0xFFFF)
            continue;
        n++;
        if (row(user, (const char *)src, (uint16_t)g, (uint16_t)node, bc ? (const char *)bc : "",
                sqlite3_column_double(st, 4)) != 0)
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return SW_ERR_IO;
    return n ? SW_OK : SW_ERR_NOT_FOUND;
}

void sw_history_close(sw_history *h)
{
    if (!h)
        return;
    if (h->in_txn)
        sw_history_commit(h);
    for (int i = 0; i < SW_HISTORY_INSERT_COUNT; i++)
        sqlite3_finalize(h->insert[i]);
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(h->problem[i]);
    sqlite3_close(h->db);
    if (h->q_len_)
        SW_LOGW(LOG_TARGET, "%zu rows kept while the history could not be written are lost", h->q_len_);
    for (size_t i = 0; i < h->q_len_; i++)
        sqlite3_free(h->queue_[(h->q_head_ + i) % SW_HISTORY_QUEUE_MAX]);
    free(h->queue_);
    free(h);
}

bool sw_history_in_transaction(const sw_history *h)
{
    return h && h->in_txn;
}

/*
 * A full disk makes every write fail several times a second for as long as it
 * lasts. The first failure is logged, then one summary per summary_ns_, then
 * the recovery; rows that could not be inserted wait in a bounded queue.
 */
static void note_failure(sw_history *h, const char *what)
{
    int64_t now = wall_ns();
    h->fails_++;
    if (!h->failing_) {
        h->failing_ = true;
        h->fail_since_ns_ = h->summary_at_ns_ = now;
        h->fails_since_summary_ = 0;
        SW_LOGW(LOG_TARGET, "%s failed: %s; keeping up to %d rows in memory until writing works again "
                "(a summary follows every %lld s)", what, sqlite3_errmsg(h->db), SW_HISTORY_QUEUE_MAX,
                (long long)(h->summary_ns_ / 1000000000));
        return;
    }
    h->fails_since_summary_++;
    if (now - h->summary_at_ns_ >= h->summary_ns_) {
        SW_LOGW(LOG_TARGET, "history still cannot be written (%s): %llu failures in the last %lld s, "
                "%zu rows waiting, %llu dropped", sqlite3_errmsg(h->db),
                (unsigned long long)h->fails_since_summary_, (long long)((now - h->summary_at_ns_) / 1000000000),
                h->q_len_, (unsigned long long)h->q_dropped_);
        h->summary_at_ns_ = now;
        h->fails_since_summary_ = 0;
    }
}

static void queue_push(sw_history *h, char *sql)
{
    if (!sql)
        return;
    if (!h->queue_ && !(h->queue_ = calloc(SW_HISTORY_QUEUE_MAX, sizeof *h->queue_))) {
        sqlite3_free(sql);
        h->q_dropped_++;
        return;
    }
    if (h->q_len_ == SW_HISTORY_QUEUE_MAX) { /* full: the oldest row goes */
        sqlite3_free(h->queue_[h->q_head_]);
        h->q_head_ = (h->q_head_ + 1) % SW_HISTORY_QUEUE_MAX;
        h->q_len_--;
        h->q_dropped_++;
    }
    h->queue_[(h->q_head_ + h->q_len_) % SW_HISTORY_QUEUE_MAX] = sql;
    h->q_len_++;
}

/* Outside a transaction: write the queued rows in one; all or none. */
static sw_err queue_flush(sw_history *h)
{
    if (h->q_len_ == 0)
        return SW_OK;
    if (exec(h, "BEGIN") != SW_OK)
        return SW_ERR_IO;
    for (size_t i = 0; i < h->q_len_; i++) {
        if (exec(h, h->queue_[(h->q_head_ + i) % SW_HISTORY_QUEUE_MAX]) != SW_OK) {
            note_failure(h, "writing the waiting rows");
            exec(h, "ROLLBACK");
            return SW_ERR_IO;
        }
    }
    if (exec(h, "COMMIT") != SW_OK) {
        note_failure(h, "writing the waiting rows");
        exec(h, "ROLLBACK");
        return SW_ERR_IO;
    }
    for (size_t i = 0; i < h->q_len_; i++)
        sqlite3_free(h->queue_[(h->q_head_ + i) % SW_HISTORY_QUEUE_MAX]);
    SW_LOGI(LOG_TARGET, "%zu rows kept while the history could not be written are stored now", h->q_len_);
    h->q_head_ = h->q_len_ = 0;
    return SW_OK;
}

static void note_success(sw_history *h)
{
    if (!h->failing_ || queue_flush(h) != SW_OK)
        return;
    SW_LOGW(LOG_TARGET, "history written again after %lld s: %llu failed writes, %llu rows dropped",
            (long long)((wall_ns() - h->fail_since_ns_) / 1000000000), (unsigned long long)h->fails_,
            (unsigned long long)h->q_dropped_);
    h->failing_ = false;
    h->fails_ = h->q_dropped_ = 0;
}

static sw_err begin(sw_history *h)
{
    if (!h || !h->writable)
        return SW_ERR_INVALID_ARGUMENT;
    if (h->in_txn)
        return SW_OK;
    if (exec(h, "BEGIN") != SW_OK)
        return SW_ERR_IO;
    h->in_txn = true;
    return SW_OK;
}

sw_err sw_history_commit(sw_history *h)
{
    if (!h || !h->in_txn)
        return SW_OK;
    h->in_txn = false;
    if (exec(h, "COMMIT") != SW_OK) {
        note_failure(h, "commit");
        exec(h, "ROLLBACK");
        return SW_ERR_IO;
    }
    note_success(h);
    return SW_OK;
}

static void bind_real(sqlite3_stmt *st, int col, double v)
{
    /* SQLite turns NaN into NULL by itself; infinities we keep out as well. */
    if (v != v || v > 1e308 || v < -1e308)
        sqlite3_bind_null(st, col);
    else
        sqlite3_bind_double(st, col, v);
}

static void bind_text(sqlite3_stmt *st, int col, const char *s)
{
    sqlite3_bind_text(st, col, s ? s : "", -1, SQLITE_TRANSIENT);
}

static sw_err step(sw_history *h, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    /* A row refused for want of space or of the disk is kept as SQL text and written later. */
    int base = rc & 0xff;
    bool keep = base == SQLITE_FULL || base == SQLITE_IOERR || base == SQLITE_BUSY || base == SQLITE_LOCKED;
    char *sql = keep ? sqlite3_expanded_sql(st) : NULL;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        note_failure(h, "insert");
        if (sql) {
            queue_push(h, sql);
            return SW_OK; /* not lost: it waits in the queue */
        }
        return SW_ERR_IO;
    }
    return SW_OK;
}

/* Columns 2.. of a record row: the fields with a history column, in table order. */
static void bind_record(sqlite3_stmt *st, const sw_field *f, size_t n, const void *rec)
{
    int col = 2;
    for (size_t i = 0; i < n; i++) {
        if (!f[i].key.sql)
            continue;
        if (f[i].type == SW_FT_TEXT || f[i].type == SW_FT_KIND)
            bind_text(st, col, sw_field_text(&f[i], rec));
        else if (f[i].type == SW_FT_DOUBLE)
            bind_real(st, col, sw_field_number(&f[i], rec));
        else
            sqlite3_bind_int64(st, col, sw_field_int(&f[i], rec));
        col++;
    }
}

/* A row of table t is under way: the transaction open, column 1 its time. NULL, with *e, when it cannot be. */
static sqlite3_stmt *insert_row(sw_history *h, sw_history_table t, int64_t ts_ns, sw_err *e)
{
    *e = begin(h);
    if (*e != SW_OK)
        return NULL;
    sqlite3_stmt *st = h->insert[t];
    sqlite3_bind_int64(st, 1, ts_ns);
    return st;
}

/* A panel or string row: its time, then the record's fields with a history column. */
static sw_err add_record(sw_history *h, sw_history_table t, const void *rec, int64_t ts_ns)
{
    size_t n;
    const sw_field *f = sw_history_record_fields(t, &n);
    sw_err e;
    sqlite3_stmt *st = insert_row(h, t, ts_ns, &e);
    if (!st)
        return e;
    bind_record(st, f, n, rec);
    return step(h, st);
}

sw_err sw_history_add_panel(sw_history *h, const sw_panel *p, int64_t ts_ns)
{
    return add_record(h, SW_HISTORY_PANELS, p, ts_ns);
}

sw_err sw_history_add_string(sw_history *h, const sw_string_agg *s, int64_t ts_ns)
{
    return add_record(h, SW_HISTORY_STRINGS, s, ts_ns);
}

sw_err sw_history_add_inverter_value(sw_history *h, const sw_inverter_value *v, int64_t ts_ns)
{
    sw_err e;
    sqlite3_stmt *st = insert_row(h, SW_HISTORY_INVERTER_VALUES, ts_ns, &e);
    if (!st)
        return e;
    bind_text(st, 2, v->inverter);
    sqlite3_bind_int64(st, 3, v->object_id);
    bind_text(st, 4, v->object_name);
    bind_text(st, 5, v->unit);
    if (v->is_number)
        bind_real(st, 6, v->number);
    else
        sqlite3_bind_null(st, 6);
    bind_text(st, 7, v->json ? v->json : v->text); /* structured values as their JSON, whole */
    return step(h, st);
}

sw_err sw_history_add_event(sw_history *h, const char *kind, const char *json, int64_t ts_ns)
{
    sw_err e;
    sqlite3_stmt *st = insert_row(h, SW_HISTORY_EVENTS, ts_ns, &e);
    if (!st)
        return e;
    bind_text(st, 2, kind);
    bind_text(st, 3, json);
    return step(h, st);
}

sw_err sw_history_add_problem(sw_history *h, const sw_problem *p)
{
    sw_err e = begin(h);
    if (e != SW_OK)
        return e;
    sqlite3_stmt *st = h->problem[p->active ? 1 : 2];
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_bind_int64(st, 1, p->active ? p->since_ns : p->until_ns);
        bind_text(st, 2, sw_problem_kind_name(p->kind));
        bind_text(st, 3, sw_subject_kind_name(p->subject_kind));
        bind_text(st, 4, p->source);
        bind_text(st, 5, p->subject);
        bind_text(st, 6, p->name);
        bind_text(st, 7, p->reason);
        sqlite3_bind_int64(st, 8, p->updated_ns);
        e = step(h, st);
        /* An active problem without an open row is new: open one. */
        if (e != SW_OK || !p->active || st == h->problem[0] || sqlite3_changes(h->db) > 0)
            return e;
        st = h->problem[0];
    }
    return e;
}

sw_err sw_history_close_problems(sw_history *h, int64_t end_ns, const char *why, unsigned *closed)
{
    sw_err e = begin(h);
    if (e != SW_OK)
        return e;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, "UPDATE problems SET end_ns = ?1, ended = ?2, updated_ns = ?1 WHERE end_ns IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return SW_ERR_IO;
    sqlite3_bind_int64(st, 1, end_ns);
    bind_text(st, 2, why);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (closed)
        *closed = rc == SQLITE_DONE ? (unsigned)sqlite3_changes(h->db) : 0;
    return rc == SQLITE_DONE ? SW_OK : SW_ERR_IO;
}

sw_err sw_history_add_performance(sw_history *h, const sw_panel *p, int64_t ts_ns)
{
    if (!p || p->performance_day < 0)
        return SW_OK;
    int64_t y;
    unsigned mo, d;
    sw_civil_from_days(p->performance_day, &y, &mo, &d);
    char day[24];
    snprintf(day, sizeof day, "%04lld-%02u-%02u", (long long)y, mo, d);
    sw_err e;
    sqlite3_stmt *st = insert_row(h, SW_HISTORY_PERFORMANCE, ts_ns, &e);
    if (!st)
        return e;
    bind_text(st, 2, day);
    bind_text(st, 3, p->source);
    bind_text(st, 4, p->series_id);
    bind_text(st, 5, p->name);
    bind_text(st, 6, p->string_name);
    bind_real(st, 7, p->energy_today_wh);
    bind_real(st, 8, p->peer_energy_today_wh);
    bind_real(st, 9, p->performance);
    return step(h, st);
}

/* One DELETE of at most limit rows (?2) older than the cutoff (?1); the rows it removed are added to *total. */
static sw_err delete_chunk(sw_history *h, const char *sql, int64_t before_ns, unsigned limit, uint64_t *total)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return SW_ERR_IO;
    sqlite3_bind_int64(st, 1, before_ns);
    sqlite3_bind_int64(st, 2, limit);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return SW_ERR_IO;
    *total += (uint64_t)sqlite3_changes(h->db);
    return SW_OK;
}

sw_err sw_history_prune(sw_history *h, int64_t before_ns, unsigned limit, uint64_t *deleted)
{
    uint64_t total = 0;
    if (!h || !h->writable)
        return SW_ERR_INVALID_ARGUMENT;
    sw_err e = sw_history_commit(h);
    if (e != SW_OK)
        return e;
    for (int i = 0; i < SW_HISTORY_INSERT_COUNT; i++) {
        char sql[256];
        /* Chunked by rowid so a year of backlog never holds the loop for long. */
        snprintf(sql, sizeof sql,
                 "DELETE FROM %s WHERE rowid IN (SELECT rowid FROM %s WHERE ts_ns < ?1 ORDER BY ts_ns LIMIT ?2)",
                 sw_history_table_names_[i], sw_history_table_names_[i]);
        if ((e = delete_chunk(h, sql, before_ns, limit, &total)) != SW_OK)
            return e;
    }
    /* Problems go once they ended before the cutoff; an open one stays, however old. */
    e = delete_chunk(h, "DELETE FROM problems WHERE rowid IN (SELECT rowid FROM problems WHERE "
                        "end_ns IS NOT NULL AND end_ns < ?1 ORDER BY end_ns LIMIT ?2)", before_ns, limit, &total);
    if (e != SW_OK)
        return e;
    if (deleted)
        *deleted = total;
    return SW_OK;
}

/* ---- the sink --------------------------------------------------------------- */

#define PRUNE_CHUNK 5000

typedef struct history_sink {
    sw_loop *loop;
    sw_history_config cfg;
    sw_history *h;
    sw_history_counters counters;
    uint64_t commit_timer;
    uint64_t prune_timer;
    bool error_logged;
} history_sink;

/* The time rows are stamped with: the daemon's (simulated in the demo), else the wall clock. */
static int64_t sink_now(const history_sink *s)
{
    return s->cfg.clock ? s->cfg.clock(s->cfg.clock_user) : wall_ns();
}

static int64_t on_commit(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    history_sink *s = user;
    s->commit_timer = 0;
    if (sw_history_commit(s->h) == SW_OK)
        s->counters.commits++;
    else
        s->counters.errors++;
    return -1;
}

static void added(history_sink *s, sw_err e)
{
    if (e == SW_OK) {
        s->counters.rows++;
        s->error_logged = false;
    } else {
        s->counters.errors++;
        if (!s->error_logged)
            SW_LOGE(LOG_TARGET, "cannot store a row in %s: %s", s->cfg.path, sw_history_errmsg(s->h));
        s->error_logged = true;
    }
    /* Commit after everything this loop iteration produces: a zero-delay timer runs next iteration. */
    if (s->commit_timer == 0 && sw_history_in_transaction(s->h))
        s->commit_timer = sw_loop_add_timer(s->loop, 0, on_commit, s);
}

static void on_panel(void *self, const sw_panel *p)
{
    history_sink *s = self;
    /* A panel known only by identity has measured nothing yet: a row of zeros would be a lie. */
    if (!s->cfg.panels || p->last_seen_ns == 0)
        return;
    /* An offline transition carries the old measurement time; date it now instead. */
    int64_t ts = p->online && p->last_seen_ns ? p->last_seen_ns : sink_now(s);
    added(s, sw_history_add_panel(s->h, p, ts));
    /* the day's performance row follows its reports; an offline transition changes nothing in it */
    if (p->online && p->performance_day >= 0)
        added(s, sw_history_add_performance(s->h, p, p->last_seen_ns));
}

static void on_string(void *self, const sw_string_agg *a)
{
    history_sink *s = self;
    if (s->cfg.strings)
        added(s, sw_history_add_string(s->h, a, sink_now(s)));
}

static void on_inverter_value(void *self, const sw_inverter_value *v)
{
    history_sink *s = self;
    if (s->cfg.inverters)
        added(s, sw_history_add_inverter_value(s->h, v, v->timestamp_ns ? v->timestamp_ns : sink_now(s)));
}

static void on_event(void *self, const sw_event *ev)
{
    history_sink *s = self;
    char json[1024];
    if (s->cfg.events && sw_event_json(ev, json, sizeof json, NULL) == SW_OK)
        added(s, sw_history_add_event(s->h, sw_event_kind_name(ev->kind), json, sink_now(s)));
}

/* Identity and online changes of inverters are events too: they explain gaps in the values. */
static void on_inverter(void *self, const sw_inverter *inv)
{
    history_sink *s = self;
    char buf[1024];
    sw_json j;
    if (!s->cfg.events)
        return;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_object_begin(&j);
    sw_json_key(&j, "inverter");
    sw_json_string(&j, inv->name);
    sw_json_key(&j, "online");
    sw_json_bool(&j, inv->online);
    sw_json_key(&j, "serial");
    sw_json_string(&j, inv->serial);
    sw_json_key(&j, "model");
    sw_json_string(&j, inv->model);
    sw_json_key(&j, "firmware");
    sw_json_string(&j, inv->firmware);
    sw_json_object_end(&j);
    const char *text = sw_json_finish(&j);
    if (text)
        added(s, sw_history_add_event(s->h, "inverter", text, sink_now(s)));
}

static void on_problem(void *self, const sw_problem *p)
{
    history_sink *s = self;
    if (s->cfg.problems)
        added(s, sw_history_add_problem(s->h, p));
}

static int64_t on_prune(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    history_sink *s = user;
    uint64_t n = 0;
    int64_t cutoff = sink_now(s) - (int64_t)s->cfg.retention_days * 86400 * 1000000000LL;
    if (sw_history_prune(s->h, cutoff, PRUNE_CHUNK, &n) != SW_OK) {
        s->counters.errors++;
        SW_LOGW(LOG_TARGET, "pruning %s failed: %s", s->cfg.path, sw_history_errmsg(s->h));
    }
    s->counters.pruned += n;
    /* A full chunk means more is waiting: come back soon, after other work had its turn. */
    if (n >= PRUNE_CHUNK)
        return 50;
    return (int64_t)s->cfg.prune_interval_s * 1000;
}

static void history_close(void *self)
{
    history_sink *s = self;
    if (!s)
        return;
    if (s->commit_timer)
        sw_loop_del_timer(s->loop, s->commit_timer);
    if (s->prune_timer)
        sw_loop_del_timer(s->loop, s->prune_timer);
    /* Still active at a clean stop: nobody watches them any more, so their rows end here. */
    unsigned n = 0;
    if (s->cfg.problems && sw_history_close_problems(s->h, sink_now(s), "stopped", &n) == SW_OK && n)
        SW_LOGI(LOG_TARGET, "%u problems still active at the stop: their rows end now", n);
    sw_history_close(s->h);
    free(s);
}

void sw_history_get_counters(const void *sink_self, sw_history_counters *out)
{
    const history_sink *s = sink_self;
    *out = s->counters;
}

static const sw_sink_ops history_ops = {
    .name = "history",
    .on_panel = on_panel,
    .on_string = on_string,
    .on_inverter = on_inverter,
    .on_value = on_inverter_value,
    .on_event = on_event,
    .on_problem = on_problem,
    .close = history_close,
};

sw_err sw_history_start(sw_loop *loop, sw_model *model, const sw_history_config *c, sw_sink *out)
{
    (void)model;
    if (!loop || !c || !out || !c->path[0])
        return SW_ERR_INVALID_ARGUMENT;
    history_sink *s = calloc(1, sizeof *s);
    if (!s)
        return SW_ERR_NO_MEMORY;
    s->loop = loop;
    s->cfg = *c;
    sw_err e = sw_history_open(c->path, &s->h);
    if (e != SW_OK) {
        /* The store stays silent (the export command words its own errors); the daemon's log says why here. */
        SW_LOGE(LOG_TARGET, "cannot open the history %s: %s", c->path,
                e == SW_ERR_UNSUPPORTED ? "written by a newer sunwire (schema version too new)" : sw_err_message(e));
        free(s);
        return e;
    }
    /* Rows a crash left open: whether each problem lasted while nothing watched is unknown, so they end
     * at this start (ended = "restart"); a problem still there is raised again and opens a new row. */
    unsigned stale = 0;
    if (c->problems && sw_history_close_problems(s->h, sink_now(s), "restart", &stale) == SW_OK && stale) {
        sw_history_commit(s->h);
        SW_LOGI(LOG_TARGET, "%u problem rows left open by the last run end at this start", stale);
    }
    if (c->retention_days > 0)
        s->prune_timer = sw_loop_add_timer(loop, 0, on_prune, s);
    out->ops = &history_ops;
    out->self = s;
    return SW_OK;
}

#else /* !SUNWIRE_HAVE_SQLITE */

sw_err sw_history_open(const char *path, sw_history **out) { (void)path; (void)out; return SW_ERR_UNSUPPORTED; }
sw_err sw_history_open_readonly(const char *path, sw_history **out)
{
    (void)path; (void)out;
    return SW_ERR_UNSUPPORTED;
}
void sw_history_close(sw_history *h) { (void)h; }
sw_err sw_history_panel_totals(sw_history *h, sw_history_total_cb row, void *user)
{
    (void)h; (void)row; (void)user;
    return SW_ERR_UNSUPPORTED;
}
const char *sw_history_errmsg(const sw_history *h) { (void)h; return "built without SQLite"; }
int sw_history_schema_version(sw_history *h) { (void)h; return 0; }
sw_err sw_history_add_panel(sw_history *h, const sw_panel *p, int64_t ts_ns)
{
    (void)h; (void)p; (void)ts_ns;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_history_add_string(sw_history *h, const sw_string_agg *s, int64_t ts_ns)
{
    (void)h; (void)s; (void)ts_ns;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_history_add_inverter_value(sw_history *h, const sw_inverter_value *v, int64_t ts_ns)
{
    (void)h; (void)v; (void)ts_ns;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_history_add_event(sw_history *h, const char *kind, const char *json, int64_t ts_ns)
{
    (void)h; (void)kind; (void)json; (void)ts_ns;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_history_add_problem(sw_history *h, const sw_problem *p)
{
    (void)h; (void)p;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_history_close_problems(sw_history *h, int64_t end_ns, const char *why, unsigned *closed)
{
    (void)h; (void)end_ns; (void)why; (void)closed;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_history_add_performance(sw_history *h, const sw_panel *p, int64_t ts_ns)
{
    (void)h; (void)p; (void)ts_ns;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_history_commit(sw_history *h) { (void)h; return SW_ERR_UNSUPPORTED; }
bool sw_history_in_transaction(const sw_history *h) { (void)h; return false; }
sw_err sw_history_prune(sw_history *h, int64_t before_ns, unsigned limit, uint64_t *deleted)
{
    (void)h; (void)before_ns; (void)limit; (void)deleted;
    return SW_ERR_UNSUPPORTED;
}
void sw_history_get_counters(const void *sink_self, sw_history_counters *out)
{
    (void)sink_self;
    memset(out, 0, sizeof *out);
}
sw_err sw_history_start(sw_loop *loop, sw_model *model, const sw_history_config *c, sw_sink *out)
{
    (void)loop; (void)model; (void)c; (void)out;
    return SW_ERR_UNSUPPORTED;
}

#endif
