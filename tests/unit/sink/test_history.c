/*
 * Unit tests for the SQLite history: a real database file in a temporary
 * directory, filled from the Tigo power-report vectors, read back through the
 * query layer and, independently, through SQLite itself.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sunwire/loop.h"
#include "sink/sink_history.h"
#include "sink/history_internal.h"
#include "io/log.h"
#include "testutil.h"

#define T0 INT64_C(1763700000000000000)
#define SEC INT64_C(1000000000)

typedef struct fixture {
    char dir[256];
    char path[300];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    /* TMPDIR when set, else the test's working directory (the build tree). */
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/sw-hist-XXXXXX", tmp && *tmp ? tmp : ".");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/h.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char p[320];
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A second, independent connection: what another process would see. */
static long long count_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long n = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void text_of(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static void panel_from_case(json_t *c, size_t i, sw_panel *p)
{
    json_t *ph = tu_get(c, "physical");
    memset(p, 0, sizeof *p);
    snprintf(p->source, sizeof p->source, "bus");
    p->gateway_id = 4609;
    p->node_id = (uint16_t)(i + 1);
    snprintf(p->barcode, sizeof p->barcode, "B-%07zu", i + 1);
    snprintf(p->name, sizeof p->name, "panel %zu", i + 1);
    snprintf(p->string_name, sizeof p->string_name, "%s", i % 2 ? "east" : "west");
    p->online = true;
    p->voltage_in = tu_real(ph, "voltage_in");
    p->voltage_out = tu_real(ph, "voltage_out");
    p->current_in = tu_real(ph, "current");
    p->power_w = p->voltage_in * p->current_in;
    p->duty_cycle = tu_real(ph, "dc_dc_duty_cycle");
    p->temperature_c = tu_real(ph, "temperature");
    p->rssi = (int)tu_int(ph, "rssi");
    p->energy_total_wh = 1000.5 + (double)i;
    p->energy_today_wh = 12.25 * (double)i;
    p->performance = NAN; /* as the model makes a panel: no day yet */
    p->peer_energy_today_wh = NAN;
    p->performance_day = -1;
}

typedef struct collected {
    size_t n;
    int64_t ts[64];
    double vin[64];
    char panel[64][64];
    sw_history *owner; /* when set, the history each call must name */
    size_t stop_at;    /* when set, return non-zero on this row */
} collected;

static int collect(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    collected *c = user;
    if (c->owner)
        assert_ptr_equal(h, c->owner);
    assert_int_equal(n, 21);
    assert_true(c->n < 64);
    assert_int_equal(cells[0].type, SW_HISTORY_INT);
    c->ts[c->n] = cells[0].i;
    assert_int_equal(cells[5].type, SW_HISTORY_TEXT);
    snprintf(c->panel[c->n], 64, "%s", cells[5].text);
    assert_int_equal(cells[7].type, SW_HISTORY_REAL);
    c->vin[c->n] = cells[7].r;
    c->n++;
    return c->stop_at && c->n == c->stop_at ? 42 : 0;
}

static void test_schema_and_pragmas(void **state)
{
    fixture *f = *state;
    sw_history *h;
    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    assert_int_equal(sw_history_schema_version(h), SW_HISTORY_SCHEMA_VERSION);
    sw_history_close(h);
    /* Re-opening an existing file keeps one version row. */
    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    sw_history_close(h);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM schema_version"), 1);
    sqlite3 *db;
    char mode[32];
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    text_of(db, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    /* The record tables are written from the field tables; their schema stays the one files already have. */
    char sql[2048];
    text_of(db, "SELECT sql FROM sqlite_master WHERE name = 'panel_readings'", sql, sizeof sql);
    assert_string_equal(sql,
        "CREATE TABLE panel_readings ( ts_ns INTEGER NOT NULL, source TEXT NOT NULL, gateway_id INTEGER NOT NULL,"
        " node_id INTEGER NOT NULL, barcode TEXT NOT NULL, panel TEXT NOT NULL, string TEXT NOT NULL,"
        " voltage_in REAL, voltage_out REAL, current_in REAL, power_w REAL, duty_cycle REAL, temperature_c REAL,"
        " rssi INTEGER, energy_total_wh REAL, energy_today_wh REAL, online INTEGER NOT NULL, loss_15m REAL,"
        " loss_day REAL, rssi_trend REAL, next_hop INTEGER)");
    text_of(db, "SELECT sql FROM sqlite_master WHERE name = 'string_aggregates'", sql, sizeof sql);
    assert_string_equal(sql,
        "CREATE TABLE string_aggregates ( ts_ns INTEGER NOT NULL, string TEXT NOT NULL, panels INTEGER NOT NULL,"
        " online INTEGER NOT NULL, power_sum_w REAL, power_min_w REAL, power_max_w REAL, power_avg_w REAL,"
        " energy_today_wh REAL, energy_total_wh REAL, identified INTEGER NOT NULL, voltage_in_min REAL,"
        " voltage_in_max REAL, voltage_in_avg REAL, voltage_in_sum REAL, voltage_out_min REAL, voltage_out_max REAL,"
        " voltage_out_avg REAL, voltage_out_sum REAL, current_in_min REAL, current_in_max REAL, current_in_avg REAL,"
        " temperature_min_c REAL, temperature_max_c REAL, temperature_avg_c REAL, duty_cycle_min REAL,"
        " duty_cycle_max REAL, duty_cycle_avg REAL, rssi_min REAL, rssi_max REAL, rssi_avg REAL)");
    assert_int_equal(sqlite3_exec(db, "PRAGMA integrity_check", NULL, NULL, NULL), SQLITE_OK);
    /* A newer schema than this build knows is refused, not clobbered. */
    assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 0)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sw_history_open(f->path, &h), SW_ERR_UNSUPPORTED);
    assert_int_equal(sw_history_open_readonly(f->path, &h), SW_ERR_UNSUPPORTED);
}

static void test_insert_and_query_vectors(void **state)
{
    fixture *f = *state;
    json_t *root = tu_load_json("tigo/power_reports.json");
    json_t *cases = tu_get(root, "cases");
    size_t n = json_array_size(cases);
    assert_true(n >= 10 && n <= 64);
    sw_history *h;
    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    for (size_t i = 0; i < n; i++) {
        sw_panel p;
        panel_from_case(json_array_get(cases, i), i, &p);
        assert_int_equal(sw_history_add_panel(h, &p, T0 + (int64_t)i * SEC), SW_OK);
        assert_true(sw_history_in_transaction(h));
    }
    /* Uncommitted rows are invisible to another connection; committed ones appear. */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM panel_readings"), 0);
    assert_int_equal(sw_history_commit(h), SW_OK);
    assert_false(sw_history_in_transaction(h));
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM panel_readings"), (long long)n);
    sw_history_close(h);

    assert_int_equal(sw_history_open_readonly(f->path, &h), SW_OK);
    /* Writing through a read-only handle is refused. */
    sw_panel p0;
    panel_from_case(json_array_get(cases, 0), 0, &p0);
    assert_int_not_equal(sw_history_add_panel(h, &p0, T0), SW_OK);

    sw_history_query q = { .table = SW_HISTORY_PANELS, .from_ns = T0, .to_ns = T0 + 1000 * SEC };
    collected c = { 0 };
    assert_int_equal(sw_history_select(h, &q, collect, &c), SW_OK);
    assert_int_equal(c.n, n);
    for (size_t i = 0; i < n; i++) {
        json_t *ph = tu_get(json_array_get(cases, i), "physical");
        assert_true(c.ts[i] == T0 + (int64_t)i * SEC);
        assert_true(c.vin[i] == tu_real(ph, "voltage_in"));
    }
    /* Range: from inclusive, to exclusive. */
    memset(&c, 0, sizeof c);
    q.from_ns = T0 + 2 * SEC;
    q.to_ns = T0 + 5 * SEC;
    assert_int_equal(sw_history_select(h, &q, collect, &c), SW_OK);
    assert_int_equal(c.n, 3);
    assert_true(c.ts[0] == T0 + 2 * SEC && c.ts[2] == T0 + 4 * SEC);
    /* The callback gets the history first; a non-zero return stops the walk at once
     * and is what the walk returns. */
    memset(&c, 0, sizeof c);
    c.owner = h;
    c.stop_at = 2;
    assert_int_equal(sw_history_select(h, &q, collect, &c), 42);
    assert_int_equal(c.n, 2);
    /* Filter by name, and by barcode. */
    q.from_ns = T0;
    q.to_ns = T0 + 1000 * SEC;
    q.panel = "panel 4";
    memset(&c, 0, sizeof c);
    assert_int_equal(sw_history_select(h, &q, collect, &c), SW_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.panel[0], "panel 4");
    q.panel = "B-0000007";
    memset(&c, 0, sizeof c);
    assert_int_equal(sw_history_select(h, &q, collect, &c), SW_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.panel[0], "panel 7");
    q.panel = NULL;
    q.string = "east";
    memset(&c, 0, sizeof c);
    assert_int_equal(sw_history_select(h, &q, collect, &c), SW_OK);
    assert_int_equal(c.n, n / 2);

    bool known = false;
    assert_int_equal(sw_history_name_known(h, SW_HISTORY_NAME_PANEL, "B-0000001", &known), SW_OK);
    assert_true(known);
    assert_int_equal(sw_history_name_known(h, SW_HISTORY_NAME_PANEL, "nope", &known), SW_OK);
    assert_false(known);
    assert_int_equal(sw_history_name_known(h, SW_HISTORY_NAME_STRING, "west", &known), SW_OK);
    assert_true(known);
    assert_int_equal(sw_history_name_known(h, SW_HISTORY_NAME_INVERTER, "west", &known), SW_OK);
    assert_false(known);
    sw_history_close(h);
    json_decref(root);
}

typedef struct any_rows {
    size_t n;
    sw_history_cell_type type[8];
    char text[8][128];
    double num[8];
} any_rows;

static int collect_any(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h;
    any_rows *a = user;
    (void)n;
    assert_true(a->n < 8);
    /* Inverter rows: number is column 5, text column 6; events: json is column 2. */
    a->type[a->n] = cells[n == 7 ? 5 : 2].type;
    a->num[a->n] = cells[n == 7 ? 5 : 2].r;
    snprintf(a->text[a->n], 128, "%s", cells[n == 7 ? 6 : 2].text ? cells[n == 7 ? 6 : 2].text : "");
    a->n++;
    return 0;
}

static void test_other_tables_and_retention(void **state)
{
    fixture *f = *state;
    sw_history *h;
    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.inverter, sizeof v.inverter, "garage");
    snprintf(v.object_name, sizeof v.object_name, "battery.soc");
    snprintf(v.unit, sizeof v.unit, "%%");
    v.object_id = 0x959930BF;
    v.is_number = true;
    v.number = 0.53;
    v.text = "0.53";
    assert_int_equal(sw_history_add_inverter_value(h, &v, T0), SW_OK);
    snprintf(v.object_name, sizeof v.object_name, "prim_sm.state");
    v.is_number = false;
    v.number = NAN;
    v.text = "Feed in, \"grid\"";
    assert_int_equal(sw_history_add_inverter_value(h, &v, T0 + SEC), SW_OK);
    sw_string_agg s = { .name = "west", .panels = 8, .online = 7, .power_sum_w = 1500, .power_min_w = 150,
                        .power_max_w = 250, .power_avg_w = 1500.0 / 7, .energy_today_wh = 400,
                        .energy_total_wh = 9e5 };
    assert_int_equal(sw_history_add_string(h, &s, T0), SW_OK);
    assert_int_equal(sw_history_add_event(h, "power_report", "{\"node\":3}", T0 - 400 * 86400 * SEC), SW_OK);
    assert_int_equal(sw_history_add_event(h, "power_report", "{\"node\":4}", T0), SW_OK);
    assert_int_equal(sw_history_commit(h), SW_OK);

    any_rows a = { 0 };
    sw_history_query q = { .table = SW_HISTORY_INVERTER_VALUES, .from_ns = 0, .to_ns = INT64_MAX,
                           .inverter = "garage" };
    assert_int_equal(sw_history_select(h, &q, collect_any, &a), SW_OK);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.type[0], SW_HISTORY_REAL);
    assert_true(a.num[0] == 0.53);
    /* A text value stores no number (NULL), and keeps its text exactly. */
    assert_int_equal(a.type[1], SW_HISTORY_NULL);
    assert_string_equal(a.text[1], "Feed in, \"grid\"");
    q.object = "prim_sm.state";
    memset(&a, 0, sizeof a);
    assert_int_equal(sw_history_select(h, &q, collect_any, &a), SW_OK);
    assert_int_equal(a.n, 1);

    /* Retention: prune everything older than 365 days before T0, in small chunks. */
    uint64_t deleted = 0;
    assert_int_equal(sw_history_prune(h, T0 - 365 * 86400 * SEC, 1000, &deleted), SW_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(sw_history_prune(h, T0 - 365 * 86400 * SEC, 1000, &deleted), SW_OK);
    assert_int_equal(deleted, 0);
    sw_history_query e = { .table = SW_HISTORY_EVENTS, .from_ns = 0, .to_ns = INT64_MAX };
    memset(&a, 0, sizeof a);
    assert_int_equal(sw_history_select(h, &e, collect_any, &a), SW_OK);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.text[0], "{\"node\":4}");
    /* A limit smaller than the backlog deletes only that many per call. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(sw_history_add_event(h, "x", "{}", T0 - 1000 * SEC + i), SW_OK);
    assert_int_equal(sw_history_prune(h, T0, 4, &deleted), SW_OK);
    assert_int_equal(deleted, 4); /* only the events table has rows before T0 */
    sw_history_close(h);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events WHERE kind='x'"), 6);
}

static void test_sink_commits_per_loop_tick(void **state)
{
    fixture *f = *state;
    sw_loop *loop = sw_loop_new();
    assert_non_null(loop);
    sw_history_config c;
    char err[200];
    sw_history_config_defaults(&c);
    assert_int_equal(sw_history_config_set(&c, "path", f->path, err, sizeof err), SW_OK);
    assert_int_equal(sw_history_config_set(&c, "retention_days", "30", err, sizeof err), SW_OK);
    /* An event older than the retention, written by an earlier run. */
    sw_history *old;
    assert_int_equal(sw_history_open(f->path, &old), SW_OK);
    assert_int_equal(sw_history_add_event(old, "old", "{}", ((int64_t)time(NULL) - 40 * 86400) * SEC), SW_OK);
    sw_history_close(old);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events"), 1);
    sw_sink sink;
    assert_int_equal(sw_history_start(loop, NULL, &c, &sink), SW_OK);
    json_t *root = tu_load_json("tigo/power_reports.json");
    json_t *cases = tu_get(root, "cases");
    for (size_t i = 0; i < json_array_size(cases); i++) {
        sw_panel p;
        panel_from_case(json_array_get(cases, i), i, &p);
        /* Recent readings: the sink prunes by the wall clock at start. */
        p.last_seen_ns = (int64_t)time(NULL) * SEC + (int64_t)i;
        sink.ops->on_panel(sink.self, &p);
    }
    sw_event ev = { .kind = SW_EVENT_INFRASTRUCTURE, .source = "roof", .time_ns = 1 };
    ev.u.infrastructure.gateway = 1;
    ev.u.infrastructure.cause = "identity";
    sink.ops->on_event(sink.self, &ev);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM panel_readings"), 0);
    /* One loop iteration runs the zero-delay commit timer. */
    assert_int_equal(sw_loop_run_once(loop, 100), SW_OK);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM panel_readings"), (long long)json_array_size(cases));
    /* The old event was pruned at start; the new one stays. */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events"), 1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events WHERE kind = 'tigo_infrastructure' AND "
                                          "json = '{\"source\":\"roof\",\"gateway\":\"1\",\"cause\":\"identity\"}'"), 1);
    sw_history_counters st;
    sw_history_get_counters(sink.self, &st);
    assert_int_equal(st.rows, json_array_size(cases) + 1);
    assert_true(st.commits >= 1);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.pruned, 1);
    sink.ops->close(sink.self);
    sw_loop_free(loop);
    json_decref(root);
}

/* Cells of one string row by column name, from the query layer. */
typedef struct string_rows {
    size_t n;
    sw_history_cell_type type[4][SW_HISTORY_MAX_COLS];
    double num[4][SW_HISTORY_MAX_COLS];
} string_rows;

static int collect_strings(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h;
    string_rows *r = user;
    assert_true(r->n < 4);
    assert_true(n <= SW_HISTORY_MAX_COLS);
    for (size_t i = 0; i < n; i++) {
        r->type[r->n][i] = cells[i].type;
        r->num[r->n][i] = cells[i].type == SW_HISTORY_INT ? (double)cells[i].i : cells[i].r;
    }
    r->n++;
    return 0;
}

static size_t string_col(const char *name)
{
    size_t n;
    const char *const *cols = sw_history_columns(SW_HISTORY_STRINGS, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i], name) == 0)
            return i;
    fail_msg("no history column %s", name);
    return 0;
}

/* A file written by the first schema (no string statistics) is upgraded in place, keeping its rows. */
static void test_old_schema_is_migrated(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "CREATE TABLE schema_version ( version INTEGER NOT NULL, applied_ns INTEGER NOT NULL);"
        "INSERT INTO schema_version VALUES (1, 0);"
        "CREATE TABLE string_aggregates ( ts_ns INTEGER NOT NULL, string TEXT NOT NULL, panels INTEGER NOT NULL,"
        " online INTEGER NOT NULL, power_sum_w REAL, power_min_w REAL, power_max_w REAL, power_avg_w REAL,"
        " energy_today_wh REAL, energy_total_wh REAL);"
        "INSERT INTO string_aggregates VALUES (1763700000000000000, 'west', 8, 7, 1500, 150, 250, 214.25, 400, 9e5);",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    /* Read-only (never migrates): the new columns read NULL. */
    sw_history *h;
    assert_int_equal(sw_history_open_readonly(f->path, &h), SW_OK);
    string_rows r = { 0 };
    sw_history_query q = { .table = SW_HISTORY_STRINGS, .from_ns = 0, .to_ns = INT64_MAX };
    assert_int_equal(sw_history_select(h, &q, collect_strings, &r), SW_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.type[0][string_col("voltage_in_min")], SW_HISTORY_NULL);
    sw_history_close(h);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM pragma_table_info('string_aggregates')"), 10);

    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    assert_int_equal(sw_history_schema_version(h), SW_HISTORY_SCHEMA_VERSION);
    sw_string_agg s = { .name = "west", .panels = 8, .online = 7, .power_sum_w = 1600, .identified = 8,
                        .voltage_in_min = 31.5, .voltage_in_max = 34.25, .voltage_in_avg = 33.0,
                        .voltage_in_sum = 231.0, .current_in_min = 6.5, .temperature_max_c = 41.5,
                        .duty_cycle_avg = 0.875, .rssi_min = 120, .rssi_max = 180 };
    assert_int_equal(sw_history_add_string(h, &s, T0 + SEC), SW_OK);
    assert_int_equal(sw_history_commit(h), SW_OK);
    sw_history_close(h);
    /* Opening again adds nothing more and keeps one version row per schema. */
    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    sw_history_close(h);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM schema_version"), 2);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM pragma_table_info('string_aggregates')"), 31);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM string_aggregates"), 2);

    assert_int_equal(sw_history_open_readonly(f->path, &h), SW_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_history_select(h, &q, collect_strings, &r), SW_OK);
    sw_history_close(h);
    assert_int_equal(r.n, 2);
    /* The old row kept its values and reads NULL in the new columns ... */
    assert_true(r.num[0][string_col("power_avg_w")] == 214.25);
    assert_true(r.num[0][string_col("energy_total_wh")] == 9e5);
    assert_int_equal(r.type[0][string_col("identified")], SW_HISTORY_NULL);
    assert_int_equal(r.type[0][string_col("rssi_max")], SW_HISTORY_NULL);
    /* ... and the new row fills every statistic where it belongs. */
    assert_int_equal(r.type[1][string_col("identified")], SW_HISTORY_INT);
    assert_true(r.num[1][string_col("identified")] == 8);
    assert_true(r.num[1][string_col("power_sum_w")] == 1600);
    assert_true(r.num[1][string_col("voltage_in_min")] == 31.5);
    assert_true(r.num[1][string_col("voltage_in_max")] == 34.25);
    assert_true(r.num[1][string_col("voltage_in_avg")] == 33.0);
    assert_true(r.num[1][string_col("voltage_in_sum")] == 231.0);
    assert_true(r.num[1][string_col("current_in_min")] == 6.5);
    assert_true(r.num[1][string_col("temperature_max_c")] == 41.5);
    assert_true(r.num[1][string_col("duty_cycle_avg")] == 0.875);
    assert_true(r.num[1][string_col("rssi_min")] == 120);
    assert_true(r.num[1][string_col("rssi_max")] == 180);
    /* Independently of the query layer: SQLite has the values under the documented names. */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM string_aggregates WHERE temperature_max_c = 41.5"
                                         " AND duty_cycle_avg = 0.875 AND identified = 8"), 1);
}

/* ---- problems -------------------------------------------------------------------------------- */

typedef struct problem_rows {
    size_t n;
    int64_t start[8], end[8]; /* end -1 = NULL (open) */
    char kind[8][32], subject[8][64], reason[8][160], ended[8][16];
} problem_rows;

static int collect_problems(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h;
    problem_rows *r = user;
    assert_int_equal(n, 9);
    assert_true(r->n < 8);
    size_t i = r->n++;
    r->start[i] = cells[0].i;
    r->end[i] = cells[1].type == SW_HISTORY_NULL ? -1 : cells[1].i;
    snprintf(r->kind[i], sizeof r->kind[i], "%s", cells[2].text);
    snprintf(r->subject[i], sizeof r->subject[i], "%s", cells[5].text);
    snprintf(r->reason[i], sizeof r->reason[i], "%s", cells[7].text);
    snprintf(r->ended[i], sizeof r->ended[i], "%s", cells[8].text);
    return 0;
}

static int64_t fixed_clock(void *user) { return *(const int64_t *)user; }

static void select_problems(const char *path, int64_t from, int64_t to, const char *kind, const char *subject,
                            problem_rows *r)
{
    sw_history *h;
    assert_int_equal(sw_history_open_readonly(path, &h), SW_OK);
    sw_history_query q = { .table = SW_HISTORY_PROBLEMS, .from_ns = from, .to_ns = to, .kind = kind,
                           .subject = subject };
    memset(r, 0, sizeof *r);
    assert_int_equal(sw_history_select(h, &q, collect_problems, r), SW_OK);
    sw_history_close(h);
}

/* Problems raised in a model: one row per time active, opened, updated and closed as they change. */
static void test_problems_table(void **state)
{
    fixture *f = *state;
    /* A file of version 2, before the problems table: read-only it has no problems, and no subject. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE schema_version ( version INTEGER NOT NULL, applied_ns INTEGER "
                                      "NOT NULL); INSERT INTO schema_version VALUES (2, 0);", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    problem_rows r;
    select_problems(f->path, 0, INT64_MAX, NULL, NULL, &r);
    assert_int_equal(r.n, 0);
    sw_history *h;
    bool known = true;
    assert_int_equal(sw_history_open_readonly(f->path, &h), SW_OK);
    assert_int_equal(sw_history_name_known(h, SW_HISTORY_NAME_PROBLEM_SUBJECT, "roof", &known), SW_OK);
    assert_false(known);
    sw_history_close(h);

    int64_t clock = T0 + 300 * SEC;
    sw_loop *loop = sw_loop_new();
    sw_model *m = sw_model_new(NULL);
    sw_history_config c;
    char err[200];
    sw_history_config_defaults(&c);
    assert_int_equal(sw_history_config_set(&c, "path", f->path, err, sizeof err), SW_OK);
    assert_int_equal(sw_history_config_set(&c, "retention_days", "0", err, sizeof err), SW_OK);
    c.clock = fixed_clock;
    c.clock_user = &clock;
    sw_sink sink;
    assert_int_equal(sw_history_start(loop, m, &c, &sink), SW_OK); /* migrates the file to this version */
    assert_int_equal(sw_model_add_sink(m, sink), SW_OK);
    assert_int_equal(count_rows(f->path, "SELECT max(version) FROM schema_version"), SW_HISTORY_SCHEMA_VERSION);

    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "South 3", "70 C", T0), SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "South 3", "74 C", T0 + 10 * SEC),
                     SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_CONTROLLER_SILENT, "roof", "roof", NULL, "90 s",
                                            T0 + 20 * SEC), SW_OK);
    assert_int_equal(sw_model_problem_clear(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", T0 + 60 * SEC), SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "South 3", "71 C", T0 + 120 * SEC),
                     SW_OK);
    assert_int_equal(sw_loop_run_once(loop, 100), SW_OK); /* the commit */
    /* Another process sees two open rows and one closed; the first row's reason is the newest. */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM problems WHERE end_ns IS NULL"), 2);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM problems WHERE kind = 'hot' AND reason = '74 C' "
                                         "AND end_ns = 1763700060000000000 AND ended = 'cleared'"), 1);
    sw_model_free(m); /* closes the sink: the rows still open end at its clock, "stopped" */
    sw_loop_free(loop);

    select_problems(f->path, 0, INT64_MAX, NULL, NULL, &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.kind[0], "hot");
    assert_true(r.start[0] == T0 && r.end[0] == T0 + 60 * SEC);
    assert_string_equal(r.ended[0], "cleared");
    assert_string_equal(r.kind[1], "controller_silent");
    assert_true(r.start[1] == T0 + 20 * SEC && r.end[1] == T0 + 300 * SEC);
    assert_string_equal(r.ended[1], "stopped");
    assert_string_equal(r.reason[2], "71 C");
    assert_true(r.start[2] == T0 + 120 * SEC && r.end[2] == T0 + 300 * SEC);
    /* A range finds every row active at some time in it. */
    select_problems(f->path, T0 + 70 * SEC, T0 + 100 * SEC, NULL, NULL, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.kind[0], "controller_silent");
    select_problems(f->path, T0 + 50 * SEC, T0 + 121 * SEC, NULL, NULL, &r);
    assert_int_equal(r.n, 3);
    select_problems(f->path, T0 + 301 * SEC, INT64_MAX, NULL, NULL, &r);
    assert_int_equal(r.n, 0);
    select_problems(f->path, 0, INT64_MAX, "hot", NULL, &r);
    assert_int_equal(r.n, 2);
    select_problems(f->path, 0, INT64_MAX, NULL, "South 3", &r); /* by name */
    assert_int_equal(r.n, 2);
    select_problems(f->path, 0, INT64_MAX, NULL, "roof", &r); /* by subject */
    assert_int_equal(r.n, 1);
    assert_int_equal(sw_history_open_readonly(f->path, &h), SW_OK);
    assert_int_equal(sw_history_name_known(h, SW_HISTORY_NAME_PROBLEM_SUBJECT, "4-C3F1A2B", &known), SW_OK);
    assert_true(known);
    sw_history_close(h);

    /* A crash leaves a row open: the next start ends it at its own time, "restart". */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE problems SET end_ns = NULL, ended = '' WHERE kind = 'controller_silent'",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    clock = T0 + 900 * SEC;
    loop = sw_loop_new();
    assert_int_equal(sw_history_start(loop, NULL, &c, &sink), SW_OK);
    sink.ops->close(sink.self);
    sw_loop_free(loop);
    select_problems(f->path, 0, INT64_MAX, "controller_silent", NULL, &r);
    assert_int_equal(r.n, 1);
    assert_true(r.end[0] == T0 + 900 * SEC);
    assert_string_equal(r.ended[0], "restart");
    /* store_problems = false: nothing is written. */
    assert_int_equal(sw_history_config_set(&c, "store_problems", "false", err, sizeof err), SW_OK);
    assert_false(c.problems);
}

static void test_config(void **state)
{
    (void)state;
    sw_history_config c;
    char err[200];
    sw_history_config_defaults(&c);
    assert_int_equal(c.retention_days, 365);
    assert_int_equal(sw_history_config_set(&c, "enable", "true", err, sizeof err), SW_OK);
    assert_true(c.enable);
    assert_int_equal(sw_history_config_set(&c, "store_events", "no", err, sizeof err), SW_OK);
    assert_false(c.events);
    assert_int_equal(sw_history_config_set(&c, "retention_days", "0", err, sizeof err), SW_OK);
    assert_int_equal(c.retention_days, 0);
    assert_int_equal(sw_history_config_set(&c, "retention_days", "-3", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "retention_days"));
    assert_int_equal(sw_history_config_set(&c, "prune_interval_s", "0", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_history_config_set(&c, "path", "", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_history_config_set(&c, "pth", "x", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "pth"));
    sw_history *h;
    assert_int_not_equal(sw_history_open_readonly("no-such-dir/h.db", &h), SW_OK);
}

/* Lines of `text` that contain `needle`. */
static int count_lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Run fn with stderr going to a file; the log lines come back in out. */
static void capture_stderr(void (*fn)(sw_history *h, int step), sw_history *h, int step, char *out, size_t cap)
{
    char tmpl[] = "/tmp/sw-hist-log-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    unlink(tmpl);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(h, step);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, out, cap - 1, 0);
    close(fd);
    out[n > 0 ? n : 0] = 0;
}

static void add_rows_and_commit(sw_history *h, int step)
{
    char json[2100];
    memset(json, 'x', sizeof json - 1);
    json[sizeof json - 1] = 0;
    int first = step == 0 ? 0 : 200, count = step == 0 ? 200 : 1;
    for (int i = first; i < first + count; i++) {
        assert_int_equal(sw_history_add_event(h, "test", json, T0 + i * SEC), SW_OK);
        sw_history_commit(h);
    }
}

/* A full database: one warning, not one per commit; the rows wait and arrive once there is room. */
static void test_full_disk_logs_once_and_keeps_rows(void **state)
{
    fixture *f = *state;
    sw_history *h;
    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    sw_log_set_level(SW_LOG_INFO);
    /* No page beyond the ones the schema uses: SQLite answers SQLITE_FULL as on a full disk. */
    assert_int_equal(sqlite3_exec(h->db, "PRAGMA max_page_count = 1", NULL, NULL, NULL), SQLITE_OK);
    char log[65536];
    capture_stderr(add_rows_and_commit, h, 0, log, sizeof log);
    assert_true(h->q_len_ > 150); /* most rows could not be written and wait */
    assert_int_equal(count_lines_with(log, "database or disk is full"), 1);
    assert_int_equal(count_lines_with(log, "still cannot be written"), 0);
    assert_int_equal(count_lines_with(log, "written again"), 0);
    assert_true(count_rows(f->path, "SELECT count(*) FROM events") < 50);

    assert_int_equal(sqlite3_exec(h->db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL), SQLITE_OK);
    capture_stderr(add_rows_and_commit, h, 1, log, sizeof log);
    assert_int_equal(count_lines_with(log, "written again"), 1);
    assert_int_equal(count_lines_with(log, "database or disk is full"), 0);
    assert_int_equal(h->q_len_, 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events"), 201);
    assert_int_equal(count_rows(f->path, "SELECT count(DISTINCT ts_ns) FROM events"), 201);
    sw_history_close(h);
}

/* Cells of the performance table by column, collected from the query layer. */
typedef struct perf_rows {
    size_t n;
    char day[8][16], panel[8][32];
    double perf[8], energy[8];
    bool perf_null[8];
} perf_rows;

static int collect_perf(sw_history *h, const sw_history_cell *c, size_t n, void *user)
{
    (void)h;
    perf_rows *r = user;
    assert_int_equal(n, 9);
    assert_true(r->n < 8);
    snprintf(r->day[r->n], sizeof r->day[r->n], "%s", c[1].text);
    snprintf(r->panel[r->n], sizeof r->panel[r->n], "%s", c[4].text);
    r->energy[r->n] = c[6].r;
    r->perf_null[r->n] = c[8].type == SW_HISTORY_NULL;
    r->perf[r->n] = c[8].r;
    r->n++;
    return 0;
}

/*
 * The performance table: one row per panel and local day, replaced by each report of
 * that day (so the day's last report leaves its final index), a new row on the next
 * day; nothing for a panel that has no day yet, an unknown index stored as NULL.
 */
static void test_performance_table(void **state)
{
    fixture *f = *state;
    sw_loop *loop = sw_loop_new();
    sw_history_config c;
    char err[200];
    sw_history_config_defaults(&c);
    assert_int_equal(sw_history_config_set(&c, "path", f->path, err, sizeof err), SW_OK);
    assert_int_equal(sw_history_config_set(&c, "retention_days", "0", err, sizeof err), SW_OK);
    sw_sink sink;
    assert_int_equal(sw_history_start(loop, NULL, &c, &sink), SW_OK);
    const int64_t day0 = 20619; /* 2026-06-15 */
    sw_panel p[2];
    for (int i = 0; i < 2; i++) {
        memset(&p[i], 0, sizeof p[i]);
        snprintf(p[i].source, sizeof p[i].source, "roof");
        p[i].gateway_id = 4609;
        p[i].node_id = (uint16_t)(2 + i);
        snprintf(p[i].series_id, sizeof p[i].series_id, "4-A00000%dZ", i);
        snprintf(p[i].name, sizeof p[i].name, "east-%d", i + 1);
        snprintf(p[i].string_name, sizeof p[i].string_name, "east");
        p[i].online = true;
        p[i].performance_day = -1;
        p[i].performance = NAN;
        p[i].last_seen_ns = day0 * 86400 * SEC + 8 * 3600 * SEC;
    }
    sink.ops->on_panel(sink.self, &p[0]); /* no day yet: no row */
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 2; i++) {
            p[i].performance_day = day0;
            p[i].last_seen_ns += 600 * SEC;
            p[i].energy_today_wh = 100.0 * (k + 1) * (i ? 0.5 : 1.0);
            p[i].peer_energy_today_wh = 100.0 * (k + 1);
            p[i].performance = k == 0 ? NAN : (i ? 0.5 : 1.0) + 0.01 * k;
            sink.ops->on_panel(sink.self, &p[i]);
        }
    }
    /* the next day, one report each */
    for (int i = 0; i < 2; i++) {
        p[i].performance_day = day0 + 1;
        p[i].last_seen_ns += 86400 * SEC;
        p[i].energy_today_wh = 5.0;
        p[i].performance = NAN;
        sink.ops->on_panel(sink.self, &p[i]);
    }
    assert_int_equal(sw_loop_run_once(loop, 100), SW_OK);
    sink.ops->close(sink.self);
    sw_loop_free(loop);

    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM performance"), 4);
    sw_history *h;
    assert_int_equal(sw_history_open_readonly(f->path, &h), SW_OK);
    sw_history_query q = { .table = SW_HISTORY_PERFORMANCE, .from_ns = 0, .to_ns = INT64_MAX, .panel = "east-2" };
    perf_rows r = { 0 };
    assert_int_equal(sw_history_select(h, &q, collect_perf, &r), SW_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.day[0], "2026-06-15");
    assert_string_equal(r.panel[0], "east-2");
    assert_true(fabs(r.perf[0] - 0.52) < 1e-9 && fabs(r.energy[0] - 150.0) < 1e-9);
    assert_string_equal(r.day[1], "2026-06-16");
    assert_true(r.perf_null[1]);
    /* the same rows by series id */
    memset(&r, 0, sizeof r);
    q.panel = "4-A000000Z";
    assert_int_equal(sw_history_select(h, &q, collect_perf, &r), SW_OK);
    assert_int_equal(r.n, 2);
    assert_true(fabs(r.perf[0] - 1.02) < 1e-9);
    sw_history_close(h);
}

/* A file of the previous schema gets the performance table when opened for writing; read-only it has none. */
static void test_performance_table_migration(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_ns INTEGER NOT NULL);"
                                  "INSERT INTO schema_version VALUES (2, 0);"
                                  "CREATE TABLE events (ts_ns INTEGER NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    sw_history *h;
    assert_int_equal(sw_history_open_readonly(f->path, &h), SW_OK);
    sw_history_query q = { .table = SW_HISTORY_PERFORMANCE, .from_ns = 0, .to_ns = INT64_MAX };
    perf_rows r = { 0 };
    assert_int_equal(sw_history_select(h, &q, collect_perf, &r), SW_OK);
    assert_int_equal(r.n, 0);
    sw_history_close(h);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'performance'"), 0);
    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    assert_int_equal(sw_history_schema_version(h), 3);
    sw_history_close(h);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM pragma_table_info('performance')"), 9);
}

static int count_row(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h; (void)cells; (void)n;
    (*(size_t *)user)++;
    return 0;
}

static size_t count_selected(sw_history *h, sw_history_query q)
{
    size_t n = 0;
    assert_int_equal(sw_history_select(h, &q, count_row, &n), SW_OK);
    return n;
}

/* Each table's filter picks its own rows; pruning ends closed problems and keeps an open one, however old. */
static void test_filters_and_problem_pruning(void **state)
{
    fixture *f = *state;
    sw_history *h;
    assert_int_equal(sw_history_open(f->path, &h), SW_OK);
    static const char *const strings[] = { "east", "west", "west" };
    for (int i = 0; i < 3; i++) {
        sw_string_agg a = { .panels = 4 };
        snprintf(a.name, sizeof a.name, "%s", strings[i]);
        assert_int_equal(sw_history_add_string(h, &a, T0 + i * SEC), SW_OK);
    }
    assert_int_equal(sw_history_add_event(h, "source_up", "{}", T0), SW_OK);
    assert_int_equal(sw_history_add_event(h, "source_down", "{}", T0 + SEC), SW_OK);
    sw_problem p = { .kind = SW_PROBLEM_UNDERPERFORMING, .subject_kind = SW_SUBJECT_PANEL, .active = true,
                     .since_ns = T0 - 100 * SEC, .updated_ns = T0 - 100 * SEC };
    snprintf(p.subject, sizeof p.subject, "old");
    assert_int_equal(sw_history_add_problem(h, &p), SW_OK);
    p.active = false;
    p.until_ns = p.updated_ns = T0 - 90 * SEC;
    assert_int_equal(sw_history_add_problem(h, &p), SW_OK);
    p.active = true;
    snprintf(p.subject, sizeof p.subject, "open");
    assert_int_equal(sw_history_add_problem(h, &p), SW_OK);
    assert_int_equal(sw_history_commit(h), SW_OK);

    sw_history_query q = { .table = SW_HISTORY_STRINGS, .from_ns = 0, .to_ns = INT64_MAX };
    assert_int_equal(count_selected(h, q), 3);
    q.string = "west";
    assert_int_equal(count_selected(h, q), 2);
    q = (sw_history_query){ .table = SW_HISTORY_EVENTS, .from_ns = 0, .to_ns = INT64_MAX, .kind = "source_down" };
    assert_int_equal(count_selected(h, q), 1);
    q = (sw_history_query){ .table = SW_HISTORY_PROBLEMS, .from_ns = 0, .to_ns = INT64_MAX, .subject = "open" };
    assert_int_equal(count_selected(h, q), 1);

    /* The cutoff is after both problems started: only the closed one goes, with the older rows of the rest. */
    uint64_t deleted = 0;
    assert_int_equal(sw_history_prune(h, T0 + SEC, 100, &deleted), SW_OK);
    assert_int_equal(deleted, 1 + 1 + 1); /* a string row, an event, the closed problem */
    q = (sw_history_query){ .table = SW_HISTORY_PROBLEMS, .from_ns = 0, .to_ns = INT64_MAX };
    assert_int_equal(count_selected(h, q), 1);
    q.subject = "old";
    assert_int_equal(count_selected(h, q), 0);
    sw_history_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_and_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_schema_is_migrated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_and_query_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_tables_and_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_problem_pruning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_commits_per_loop_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_logs_once_and_keeps_rows, setup, teardown),
        cmocka_unit_test(test_config),
        cmocka_unit_test_setup_teardown(test_problems_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_performance_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_performance_table_migration, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
