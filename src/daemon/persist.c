/*
 * persist.c: the daemon's state directory.
 *
 * Per bus a Tigo state file (the fork's taptap.json format, written by the
 * Tigo library's serialiser), replaced atomically (temporary file, fsync,
 * rename, fsync of the directory), so a crash or a power cut leaves either
 * the old or the new file, never a torn one.
 *
 * The panels' energy counters live in energy.db (energy_store.c: SQLite, WAL,
 * synchronous=FULL), committed every save interval; the model shows outputs
 * only committed counters, so a published lifetime value is always on disk.
 * sw_daemon_energy_open starts them: a database that is not sound is moved
 * aside as energy.db.corrupt-STAMP and logged at error level, and the
 * counters come from energy.db.prev (copied at every start) or the SQLite
 * history. An older version's panels.json is imported once (the JSON reader
 * below, with its own .prev and corruption handling) and renamed
 * panels.json.imported. A build without SQLite keeps writing panels.json.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon_internal.h"
#include "io/io_file.h"
#include "io/log.h"
#include "io/net.h"
#include "sink/sink_history.h"

#define LOG_TARGET "sunwire::run"

sw_err sw_daemon_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[SW_DAEMON_PATH_MAX + 100];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return SW_ERR_TOO_LONG;
    return sw_file_write_atomic(path, tmp, data, len);
}

sw_err sw_daemon_read_file(const char *path, char **out, size_t *len)
{
    return sw_file_read_all(path, SW_DAEMON_STATE_FILE_MAX, out, len);
}

sw_err sw_daemon_state_path(const sw_daemon *d, const char *name, char *out, size_t cap)
{
    if (!d->cfg->state_dir[0])
        return SW_ERR_NOT_FOUND;
    if (snprintf(out, cap, "%s/%s", d->cfg->state_dir, name) >= (int)cap) {
        out[0] = 0;
        return SW_ERR_TOO_LONG;
    }
    return SW_OK;
}

sw_err sw_daemon_save_energy(sw_model *m, const char *path, int64_t now_ns)
{
    json_t *root = json_object(), *arr = json_array();
    if (!root || !arr) {
        json_decref(root);
        json_decref(arr);
        return SW_ERR_NO_MEMORY;
    }
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "saved_ns", json_integer(now_ns));
    for (size_t i = 0; i < sw_model_panel_count(m); i++) {
        const sw_panel *p = sw_model_panel_at(m, i);
        json_t *o = json_object();
        json_object_set_new(o, "source", json_string(p->source));
        json_object_set_new(o, "gateway", json_integer(p->gateway_id));
        json_object_set_new(o, "node", json_integer(p->node_id));
        json_object_set_new(o, "barcode", json_string(p->barcode));
        json_object_set_new(o, "name", json_string(p->name));
        json_object_set_new(o, "energy_total_wh", json_real(p->energy_total_wh));
        json_object_set_new(o, "energy_today_wh", json_real(p->energy_today_wh));
        json_object_set_new(o, "day", json_integer(sw_model_panel_energy_day(m, i)));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "panels", arr);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text)
        return SW_ERR_NO_MEMORY;
    /* The file being replaced stays as the .prev copy (best effort: a link costs no write). */
    char prev[SW_DAEMON_PATH_MAX + 100];
    if (snprintf(prev, sizeof prev, "%s.prev", path) < (int)sizeof prev) {
        int saved = errno;
        if ((unlink(prev) == 0 || errno == ENOENT) && link(path, prev) != 0) {
            /* first save, or a file system without hard links: no .prev this time */
        }
        errno = saved;
    }
    sw_err e = sw_daemon_write_atomic(path, text, strlen(text));
    free(text);
    return e;
}

sw_err sw_daemon_load_energy(sw_model *m, const char *path, int64_t now_ns)
{
    char *text = NULL;
    size_t len = 0;
    sw_err e = sw_daemon_read_file(path, &text, &len);
    if (e != SW_OK)
        return e;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!root)
        return SW_ERR_STATE_CORRUPT;
    json_t *arr = json_object_get(root, "panels");
    if (!json_is_array(arr)) {
        json_decref(root);
        return SW_ERR_STATE_CORRUPT;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        json_t *src = json_object_get(o, "source"), *gw = json_object_get(o, "gateway"),
               *node = json_object_get(o, "node"), *bc = json_object_get(o, "barcode"),
               *tot = json_object_get(o, "energy_total_wh"), *today = json_object_get(o, "energy_today_wh"),
               *day = json_object_get(o, "day");
        if (!json_is_string(src) || !json_is_integer(gw) || !json_is_integer(node) || !json_is_number(tot))
            continue;
        json_int_t g = json_integer_value(gw), n = json_integer_value(node);
        if (g < 0 || g > 0xFFFF || n < 0 || n > 0xFFFF)
            continue;
        sw_model_panel_restore(m, json_string_value(src), (uint16_t)g, (uint16_t)n,
                               json_is_string(bc) ? json_string_value(bc) : NULL, json_number_value(tot),
                               json_is_number(today) ? json_number_value(today) : 0.0,
                               json_is_integer(day) ? (int64_t)json_integer_value(day) : -1, now_ns);
    }
    json_decref(root);
    return SW_OK;
}

typedef struct history_restore {
    sw_model *m;
    int64_t now_ns;
    size_t n;
} history_restore;

static int restore_total(void *user, const char *source, uint16_t gateway_id, uint16_t node_id, const char *barcode,
                         double energy_total_wh)
{
    history_restore *r = user;
    if (sw_model_panel_restore(r->m, source, gateway_id, node_id, barcode[0] ? barcode : NULL, energy_total_wh, 0.0,
                               -1, r->now_ns) == SW_OK)
        r->n++;
    return 0;
}

/* The counters from the SQLite history's largest lifetime readings; how many panels, 0 when none. */
static size_t restore_from_history(sw_model *m, const char *history_path, int64_t now_ns)
{
    struct stat st;
    if (!history_path || !history_path[0] || stat(history_path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    sw_history *h = NULL;
    if (sw_history_open_readonly(history_path, &h) != SW_OK)
        return 0;
    history_restore r = { m, now_ns, 0 };
    sw_history_panel_totals(h, restore_total, &r);
    sw_history_close(h);
    return r.n;
}

/* Move a corrupt database aside with its write-ahead log (the pair stays readable for a post-mortem). */
static sw_err move_db_aside(const char *path, int64_t unix_s, char *aside, size_t cap)
{
    sw_err e = sw_file_move_aside(path, unix_s, aside, cap);
    if (e != SW_OK)
        return e;
    char from[SW_DAEMON_PATH_MAX + 100], to[SW_DAEMON_PATH_MAX + 200];
    snprintf(from, sizeof from, "%s-wal", path);
    snprintf(to, sizeof to, "%s-wal", aside);
    if (rename(from, to) != 0 && errno != ENOENT)
        unlink(from); /* never let a new database replay the old log */
    snprintf(from, sizeof from, "%s-shm", path);
    unlink(from);
    return SW_OK;
}

/* Move a corrupt energy file aside (a database with its log) and say so; false with err set when it cannot. */
static bool put_aside(const char *path, bool db, const char *why, int64_t unix_s, char *err, size_t errcap)
{
    char aside[SW_DAEMON_PATH_MAX + 100];
    if ((db ? move_db_aside(path, unix_s, aside, sizeof aside)
            : sw_file_move_aside(path, unix_s, aside, sizeof aside)) != SW_OK) {
        snprintf(err, errcap, "the energy counters %s are corrupt and could not be moved aside: %s", path,
                 strerror(errno));
        return false;
    }
    SW_LOGE(LOG_TARGET, "energy counters %s are corrupt (%s); moved it to %s", path, why, aside);
    return true;
}

sw_err sw_daemon_restore_energy(sw_model *m, const char *path, const char *history_path, int64_t now_ns,
                                int64_t unix_s, char *err, size_t errcap)
{
    sw_err e = sw_daemon_load_energy(m, path, now_ns);
    if (e == SW_OK) {
        SW_LOGI(LOG_TARGET, "energy counters of %zu panels loaded from %s", sw_model_panel_count(m), path);
        return SW_OK;
    }
    if (e == SW_ERR_OPEN || e == SW_ERR_IO || e == SW_ERR_NO_MEMORY) {
        /* Unreadable (permissions, a directory): refuse rather than overwrite it with zeros later. */
        struct stat st;
        const char *why = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? "it is a directory" : strerror(errno);
        snprintf(err, errcap, "cannot read the energy counters %s: %s (move it away or fix its permissions)", path,
                 why);
        return e;
    }
    char prev[SW_DAEMON_PATH_MAX + 100];
    snprintf(prev, sizeof prev, "%s.prev", path);
    if (e == SW_ERR_STATE_CORRUPT) {
        if (!put_aside(path, false, "not the JSON sunwire writes", unix_s, err, errcap))
            return SW_ERR_STATE_CORRUPT;
    } else if (e != SW_ERR_NOT_FOUND) {
        snprintf(err, errcap, "cannot load the energy counters %s: %s", path, sw_io_reason(e, errno));
        return e;
    }
    /* Absent or corrupt: the copy kept by the last save, if there is one. */
    sw_err pe = sw_daemon_load_energy(m, prev, now_ns);
    if (pe == SW_OK) {
        if (e == SW_ERR_STATE_CORRUPT)
            SW_LOGE(LOG_TARGET, "energy counters of %zu panels restored from %s (the copy before the last save)",
                    sw_model_panel_count(m), prev);
        else
            SW_LOGW(LOG_TARGET, "%s is missing; energy counters of %zu panels restored from %s", path,
                    sw_model_panel_count(m), prev);
        return SW_OK;
    }
    /* Then the history, whose panel rows carry the lifetime counter at every report. */
    size_t n = restore_from_history(m, history_path, now_ns);
    if (n > 0) {
        if (e == SW_ERR_STATE_CORRUPT)
            SW_LOGE(LOG_TARGET, "energy counters of %zu panels restored from the history %s (no usable %s)", n,
                    history_path, prev);
        else
            SW_LOGW(LOG_TARGET, "%s is missing; energy counters of %zu panels restored from the history %s", path, n,
                    history_path);
        return SW_OK;
    }
    if (e == SW_ERR_STATE_CORRUPT)
        SW_LOGE(LOG_TARGET, "no usable copy of the energy counters (%s: %s, no history rows): lifetime counters "
                "start from zero", prev, sw_err_message(pe));
    return SW_OK;
}

/* ---- energy.db ------------------------------------------------------------------------- */


static bool legacy_prev_exists(const char *legacy)
{
    char p[SW_DAEMON_PATH_MAX + 48];
    struct stat st;
    snprintf(p, sizeof p, "%s.prev", legacy);
    return lstat(p, &st) == 0;
}

/* The counters of a read-only copy of energy.db; how many panels, 0 when none or unusable. */
static size_t load_db_copy(sw_model *m, const char *path, int64_t now_ns)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    sw_energy_store *s = NULL;
    size_t n = 0;
    if (sw_energy_store_open(path, true, &s) == SW_OK && sw_energy_store_load(s, m, now_ns, &n) != SW_OK)
        n = 0;
    sw_energy_store_close(s);
    return n;
}

sw_err sw_daemon_energy_open(sw_model *m, const char *state_dir, const char *history_path, int64_t now_ns,
                             int64_t unix_s, sw_energy_store **out, char *err, size_t errcap)
{
    *out = NULL;
    char db[SW_DAEMON_PATH_MAX + 32], prev[SW_DAEMON_PATH_MAX + 48], legacy[SW_DAEMON_PATH_MAX + 32];
    snprintf(db, sizeof db, "%s/energy.db", state_dir);
    snprintf(prev, sizeof prev, "%s/energy.db.prev", state_dir);
    snprintf(legacy, sizeof legacy, "%s/panels.json", state_dir);

    struct stat st;
    bool exists = lstat(db, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "cannot open the energy counters %s: %s (move it away)", db,
                 S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
        return SW_ERR_OPEN;
    }
    sw_energy_store *s = NULL;
    sw_err e = SW_OK;
    bool loaded = false, imported = false;
    if (exists) {
        e = sw_energy_store_open(db, false, &s);
        size_t n = 0;
        if (e == SW_OK && (e = sw_energy_store_load(s, m, now_ns, &n)) != SW_OK) {
            sw_energy_store_close(s);
            s = NULL;
        }
        if (e == SW_OK) {
            SW_LOGI(LOG_TARGET, "energy counters of %zu panels loaded from %s", n, db);
            loaded = true;
        } else if (e != SW_ERR_STATE_CORRUPT) {
            int saved = errno;
            snprintf(err, errcap, "cannot open the energy counters %s: %s (fix its permissions or move it away)", db,
                     access(db, R_OK | W_OK) != 0 ? strerror(errno) : sw_io_reason(e, saved));
            return e;
        } else if (!put_aside(db, true, "not a sound SQLite database", unix_s, err, errcap)) {
            return SW_ERR_STATE_CORRUPT;
        }
    }
    if (!loaded) {
        /* Absent or corrupt: the copy made at the last start, then (first start) panels.json, then the history. */
        size_t n = load_db_copy(m, prev, now_ns);
        if (n > 0) {
            /* The copy is as old as the last start: the history may know larger lifetime values
             * (a restore only ever raises a counter). */
            restore_from_history(m, history_path, now_ns);
            if (exists)
                SW_LOGE(LOG_TARGET, "energy counters of %zu panels restored from %s (the copy made at the last start)",
                        n, prev);
            else
                SW_LOGW(LOG_TARGET, "%s is missing; energy counters of %zu panels restored from %s", db, n, prev);
        } else if (!exists && (lstat(legacy, &st) == 0 || legacy_prev_exists(legacy))) {
            /* An older version's panels.json: imported once, then renamed so it is never read again. */
            e = sw_daemon_restore_energy(m, legacy, history_path, now_ns, unix_s, err, errcap);
            if (e != SW_OK)
                return e;
            imported = true;
        } else if ((n = restore_from_history(m, history_path, now_ns)) > 0) {
            if (exists)
                SW_LOGE(LOG_TARGET, "energy counters of %zu panels restored from the history %s (no usable %s)", n,
                        history_path, prev);
            else
                SW_LOGW(LOG_TARGET, "%s is missing; energy counters of %zu panels restored from the history %s", db,
                        n, history_path);
        } else if (exists) {
            SW_LOGE(LOG_TARGET, "no usable copy of the energy counters (no %s, no history rows): lifetime counters "
                    "start from zero", prev);
        }
        e = sw_energy_store_open(db, false, &s);
        if (e != SW_OK) {
            snprintf(err, errcap, "cannot create the energy counters %s: %s", db, sw_io_reason(e, errno));
            return e;
        }
        /* Whatever was restored is durable before anything is published or renamed. */
        e = sw_energy_store_commit(s, m, now_ns);
        if (e != SW_OK) {
            snprintf(err, errcap, "cannot write the energy counters %s: %s", db, strerror(errno));
            sw_energy_store_close(s);
            return e;
        }
        if (imported) {
            char done[SW_DAEMON_PATH_MAX + 48];
            snprintf(done, sizeof done, "%s.imported", legacy);
            if (rename(legacy, done) == 0)
                SW_LOGI(LOG_TARGET, "energy counters of %zu panels imported from %s into %s (the old file is now %s)",
                        sw_model_panel_count(m), legacy, db, done);
        }
    }
    /* The copy a corrupt database is restored from (best effort). */
    if (sw_energy_store_copy(s, prev) != SW_OK)
        SW_LOGW(LOG_TARGET, "cannot copy %s to %s: %s", db, prev, sw_energy_store_errmsg(s));
    *out = s;
    return SW_OK;
}
