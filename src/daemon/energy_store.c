/*
 * energy_store.c: the panels' energy counters in SQLite (state_dir/energy.db).
 *
 * One row per panel, replaced in one transaction per save. The database runs
 * in WAL mode with synchronous=FULL: every COMMIT appends the transaction to
 * the write-ahead log and fsyncs it before returning, so a committed row
 * survives kill -9 and a power cut. (NORMAL would fsync only at checkpoints:
 * after a power cut the last commits could be gone, and a lifetime value
 * already published would come back smaller.) A save writes a few hundred
 * bytes per panel and one fsync, so even a short save interval costs little.
 *
 * The rows only ever grow: an upsert keeps the larger lifetime value of the
 * stored and the new one, so a model that somehow holds less (a restore from
 * an older copy) cannot lower what was durable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon_internal.h"
#include "sunwire_config.h"

#if SUNWIRE_HAVE_SQLITE
#include <sqlite3.h>

struct sw_energy_store {
    sqlite3 *db;
    sqlite3_stmt *upsert;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS energy_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS panel_energy ("
    " source TEXT NOT NULL, gateway_id INTEGER NOT NULL, node_id INTEGER NOT NULL,"
    " barcode TEXT NOT NULL DEFAULT '', total_wh REAL NOT NULL, today_wh REAL NOT NULL,"
    " day INTEGER NOT NULL, saved_ns INTEGER NOT NULL,"
    " PRIMARY KEY (source, gateway_id, node_id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO energy_meta VALUES ('version', 1);";

static const char upsert_sql[] =
    "INSERT INTO panel_energy (source, gateway_id, node_id, barcode, total_wh, today_wh, day, saved_ns)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (source, gateway_id, node_id) DO UPDATE SET"
    " barcode = CASE WHEN excluded.barcode <> '' THEN excluded.barcode ELSE barcode END,"
    " total_wh = max(total_wh, excluded.total_wh), today_wh = excluded.today_wh, day = excluded.day,"
    " saved_ns = excluded.saved_ns";

const char *sw_energy_store_errmsg(const sw_energy_store *s)
{
    return s && s->db ? sqlite3_errmsg(s->db) : "no database";
}

void sw_energy_store_close(sw_energy_store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->upsert);
    sqlite3_close(s->db);
    free(s);
}

static bool exec_ok(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* PRAGMA quick_check says "ok" and the table is ours. */
static bool sound(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
              strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    return ok;
}

sw_err sw_energy_store_open(const char *path, bool readonly, sw_energy_store **out)
{
    *out = NULL;
    sw_energy_store *s = calloc(1, sizeof *s);
    if (!s)
        return SW_ERR_NO_MEMORY;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        sw_energy_store_close(s);
        return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ? SW_ERR_STATE_CORRUPT : SW_ERR_OPEN;
    }
    sqlite3_busy_timeout(s->db, 2000);
    if (!sound(s->db)) {
        int ec = sqlite3_extended_errcode(s->db) & 0xff;
        sw_energy_store_close(s);
        /* Only a file that is not a sound database is corrupt; one another process holds
         * locked, or that cannot be read, must not be moved aside. */
        return ec == SQLITE_CANTOPEN || ec == SQLITE_PERM || ec == SQLITE_IOERR || ec == SQLITE_NOMEM ||
                       ec == SQLITE_BUSY || ec == SQLITE_LOCKED
                   ? SW_ERR_OPEN
                   : SW_ERR_STATE_CORRUPT;
    }
    if (!readonly) {
        if (!exec_ok(s->db, "PRAGMA journal_mode=WAL") || !exec_ok(s->db, "PRAGMA synchronous=FULL") ||
            !exec_ok(s->db, schema_sql) ||
            sqlite3_prepare_v3(s->db, upsert_sql, -1, SQLITE_PREPARE_PERSISTENT, &s->upsert, NULL) != SQLITE_OK) {
            int ec = sqlite3_errcode(s->db);
            sw_energy_store_close(s);
            return ec == SQLITE_NOTADB || ec == SQLITE_CORRUPT ? SW_ERR_STATE_CORRUPT : SW_ERR_OPEN;
        }
    } else {
        /* A read-only copy must hold our table to count as one. */
        sqlite3_stmt *st = NULL;
        bool ours = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM panel_energy", -1, &st, NULL) == SQLITE_OK &&
                    sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (!ours) {
            sw_energy_store_close(s);
            return SW_ERR_STATE_CORRUPT;
        }
    }
    *out = s;
    return SW_OK;
}

sw_err sw_energy_store_load(sw_energy_store *s, sw_model *m, int64_t now_ns, size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT source, gateway_id, node_id, barcode, total_wh, today_wh, day FROM panel_energy"
                           " ORDER BY source, gateway_id, node_id",
                           -1, &st, NULL) != SQLITE_OK)
        return SW_ERR_STATE_CORRUPT;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *src = (const char *)sqlite3_column_text(st, 0);
        sqlite3_int64 g = sqlite3_column_int64(st, 1), node = sqlite3_column_int64(st, 2);
        const char *bc = (const char *)sqlite3_column_text(st, 3);
        if (!src || g < 0 || g > 0xFFFF || node < 0 || node > 0xFFFF ||
            sqlite3_column_type(st, 4) == SQLITE_NULL)
            continue;
        if (sw_model_panel_restore(m, src, (uint16_t)g, (uint16_t)node, bc && bc[0] ? bc : NULL,
                                   sqlite3_column_double(st, 4), sqlite3_column_double(st, 5),
                                   sqlite3_column_int64(st, 6), now_ns) == SW_OK)
            (*n)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SW_OK : SW_ERR_STATE_CORRUPT;
}

sw_err sw_energy_store_commit(sw_energy_store *s, const sw_model *m, int64_t now_ns)
{
    if (!exec_ok(s->db, "BEGIN IMMEDIATE"))
        return SW_ERR_IO;
    int rc = SQLITE_DONE;
    for (size_t i = 0; i < sw_model_panel_count(m) && rc == SQLITE_DONE; i++) {
        const sw_panel *p = sw_model_panel_at(m, i);
        sw_panel_energy en;
        if (sw_model_panel_energy(m, i, &en) != SW_OK)
            continue;
        sqlite3_reset(s->upsert);
        sqlite3_bind_text(s->upsert, 1, p->source, -1, SQLITE_STATIC);
        sqlite3_bind_int(s->upsert, 2, p->gateway_id);
        sqlite3_bind_int(s->upsert, 3, p->node_id);
        sqlite3_bind_text(s->upsert, 4, p->barcode, -1, SQLITE_STATIC);
        sqlite3_bind_double(s->upsert, 5, en.total_wh);
        sqlite3_bind_double(s->upsert, 6, en.today_wh);
        sqlite3_bind_int64(s->upsert, 7, en.day);
        sqlite3_bind_int64(s->upsert, 8, now_ns);
        rc = sqlite3_step(s->upsert);
    }
    sqlite3_reset(s->upsert);
    if (rc == SQLITE_DONE && exec_ok(s->db, "COMMIT"))
        return SW_OK;
    int ec = sqlite3_errcode(s->db);
    exec_ok(s->db, "ROLLBACK");
    errno = ec == SQLITE_FULL ? ENOSPC : EIO;
    return SW_ERR_IO;
}

sw_err sw_energy_store_copy(sw_energy_store *s, const char *dest)
{
    char tmp[SW_DAEMON_PATH_MAX + 100];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", dest) >= (int)sizeof tmp)
        return SW_ERR_TOO_LONG;
    unlink(tmp);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "VACUUM INTO ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || rename(tmp, dest) != 0) {
        unlink(tmp);
        return SW_ERR_IO;
    }
    return SW_OK;
}

#else /* !SUNWIRE_HAVE_SQLITE */

const char *sw_energy_store_errmsg(const sw_energy_store *s)
{
    (void)s;
    return "built without SQLite";
}
void sw_energy_store_close(sw_energy_store *s) { (void)s; }
sw_err sw_energy_store_open(const char *path, bool readonly, sw_energy_store **out)
{
    (void)path; (void)readonly;
    *out = NULL;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_energy_store_load(sw_energy_store *s, sw_model *m, int64_t now_ns, size_t *n)
{
    (void)s; (void)m; (void)now_ns;
    *n = 0;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_energy_store_commit(sw_energy_store *s, const sw_model *m, int64_t now_ns)
{
    (void)s; (void)m; (void)now_ns;
    return SW_ERR_UNSUPPORTED;
}
sw_err sw_energy_store_copy(sw_energy_store *s, const char *dest)
{
    (void)s; (void)dest;
    return SW_ERR_UNSUPPORTED;
}

#endif
