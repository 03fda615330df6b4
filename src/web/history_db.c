/*
 * history_db.c: the dashboard's history seam backed by the SQLite history
 * (sink/sink_history.h), read through its own read-only connection so
 * a chart query never holds the writer's transaction.
 *
 * The store holds one row per report; charts want a few hundred points, so
 * power is averaged into 5-minute buckets here. A day's energy is the
 * largest "energy today" counter seen that day: the counter only grows
 * until midnight, so looking at the day's last hours first is enough in the
 * common case and the whole day is read only when those hours are empty.
 * The database is opened on first use, so the history output may create it
 * after the dashboard starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fields.h"
#include "sink/sink_history.h"
#include "sunwire/core.h"
#include "web/sink_http.h"
#include "web/web_internal.h"

#define NS_PER_S INT64_C(1000000000)

typedef struct history_db {
    char path[256];
    sw_history *h;
    sw_web_api zone; /* only its UTC offset is set: what day boundaries need */
} history_db;

static sw_err ensure_open(history_db *d)
{
    if (d->h)
        return SW_OK;
    return sw_history_open_readonly(d->path, &d->h);
}

/* Column index of the power (or energy) column of the table the kind selects. */
static size_t column(sw_history_table t, const char *name)
{
    size_t n = 0;
    const char *const *cols = sw_history_columns(t, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i], name) == 0)
            return i;
    return SIZE_MAX;
}

static bool cell_number(const sw_history_cell *c, double *out)
{
    if (c->type == SW_HISTORY_REAL) {
        *out = c->r;
        return true;
    }
    if (c->type == SW_HISTORY_INT) {
        *out = (double)c->i;
        return true;
    }
    return false;
}

/* The store, opened on first use, and a query of the readings of the panel or string asked for. */
static sw_err start_query(const sw_http_history *history, const char *kind, const char *name, history_db **d,
                          sw_history_query *q)
{
    *d = history->user;
    sw_err err = ensure_open(*d);
    if (err != SW_OK)
        return err;
    memset(q, 0, sizeof *q);
    if (strcmp(kind, "panel") == 0) {
        q->table = SW_HISTORY_PANELS;
        q->panel = name;
    } else {
        q->table = SW_HISTORY_STRINGS;
        q->string = name;
    }
    return SW_OK;
}

typedef struct bucket_acc {
    int64_t from_ns;
    size_t col;
    double *sum;
    unsigned *count;
    size_t n;
} bucket_acc;

static int bucket_row(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h;
    bucket_acc *b = user;
    double w;
    if (n <= b->col || cells[0].type != SW_HISTORY_INT || !cell_number(&cells[b->col], &w))
        return 0;
    int64_t k = (cells[0].i - b->from_ns) / (SW_WEB_BUCKET_S * NS_PER_S);
    if (k >= 0 && (size_t)k < b->n) {
        b->sum[k] += w;
        b->count[k]++;
    }
    return 0;
}

/* The history column of a panel member (panel tables) or string member (string tables), from the field tables. */
static const char *sql_name(sw_history_table t, const char *panel_member, const char *string_member)
{
    const sw_field *f = t == SW_HISTORY_PANELS
                            ? sw_field_find(sw_panel_fields, sw_panel_field_count, panel_member)
                            : sw_field_find(sw_string_fields, sw_string_field_count, string_member);
    return f && f->key.sql ? f->key.sql : "";
}

static sw_err db_power_series(const sw_http_history *history, const char *kind, const char *name, int64_t from_ns,
                              int64_t to_ns, sw_http_point_cb emit, void *emit_user)
{
    history_db *d;
    sw_history_query q;
    sw_err err = start_query(history, kind, name, &d, &q);
    if (err != SW_OK)
        return err;
    q.from_ns = from_ns;
    q.to_ns = to_ns;
    bucket_acc b = { .from_ns = from_ns, .col = column(q.table, sql_name(q.table, "power_w", "power_sum_w")) };
    b.n = (size_t)((to_ns - from_ns) / (SW_WEB_BUCKET_S * NS_PER_S)) + 1;
    if (b.col == SIZE_MAX || b.n > 100000)
        return SW_ERR_INVALID_ARGUMENT;
    b.sum = calloc(b.n, sizeof *b.sum);
    b.count = calloc(b.n, sizeof *b.count);
    if (!b.sum || !b.count) {
        free(b.sum);
        free(b.count);
        return SW_ERR_NO_MEMORY;
    }
    err = sw_history_select(d->h, &q, bucket_row, &b);
    for (size_t i = 0; err == SW_OK && i < b.n; i++)
        if (b.count[i])
            err = (sw_err)emit(history, from_ns + (int64_t)i * SW_WEB_BUCKET_S * NS_PER_S, b.sum[i] / b.count[i],
                               emit_user);
    free(b.sum);
    free(b.count);
    return err;
}

typedef struct max_acc {
    size_t col;
    bool any;
    double max;
} max_acc;

static int max_row(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h;
    max_acc *m = user;
    double v;
    if (n > m->col && cell_number(&cells[m->col], &v) && (!m->any || v > m->max)) {
        m->max = v;
        m->any = true;
    }
    return 0;
}

static sw_err db_daily_energy(const sw_http_history *history, const char *kind, const char *name, int64_t first_day,
                              int64_t last_day, sw_http_day_cb emit, void *emit_user)
{
    history_db *d;
    sw_history_query q;
    sw_err err = start_query(history, kind, name, &d, &q);
    if (err != SW_OK)
        return err;
    max_acc m = { .col = column(q.table, sql_name(q.table, "energy_today_wh", "energy_today_wh")) };
    if (m.col == SIZE_MAX)
        return SW_ERR_INVALID_ARGUMENT;
    for (int64_t day = first_day; day <= last_day; day++) {
        int64_t start = sw_web_day_start_ns(&d->zone, day), end = sw_web_day_start_ns(&d->zone, day + 1);
        m.any = false;
        q.from_ns = end - 3 * 3600 * NS_PER_S;
        q.to_ns = end;
        if ((err = sw_history_select(d->h, &q, max_row, &m)) != SW_OK)
            return err;
        if (!m.any) {
            q.from_ns = start;
            if ((err = sw_history_select(d->h, &q, max_row, &m)) != SW_OK)
                return err;
        }
        int stop = m.any ? emit(history, day, m.max, emit_user) : 0;
        if (stop != 0)
            return (sw_err)stop;
    }
    return SW_OK;
}

/* One row of the performance table: its day (days since 1970) and its index, when known. */
typedef struct perf_ctx {
    const sw_http_history *history;
    int64_t first_day, last_day;
    sw_http_day_cb emit;
    void *emit_user;
    int stop;
} perf_ctx;

static int perf_row(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h;
    perf_ctx *c = user;
    unsigned y, mo, d;
    double v;
    if (n < 9 || cells[1].type != SW_HISTORY_TEXT || sscanf(cells[1].text, "%4u-%2u-%2u", &y, &mo, &d) != 3 ||
        !cell_number(&cells[8], &v))
        return 0;
    int64_t day = sw_days_from_civil((int64_t)y, mo, d);
    if (day < c->first_day || day > c->last_day)
        return 0;
    c->stop = c->emit(c->history, day, v, c->emit_user);
    return c->stop;
}

static sw_err db_daily_performance(const sw_http_history *history, const char *kind, const char *name,
                                   int64_t first_day, int64_t last_day, sw_http_day_cb emit, void *emit_user)
{
    history_db *d = history->user;
    if (strcmp(kind, "panel") != 0)
        return SW_ERR_INVALID_ARGUMENT;
    sw_err err = ensure_open(d);
    if (err != SW_OK)
        return err;
    /* A row is stamped with the last report of its day: within the day, whatever the zone. */
    sw_history_query q = { .table = SW_HISTORY_PERFORMANCE, .panel = name,
                           .from_ns = sw_web_day_start_ns(&d->zone, first_day),
                           .to_ns = sw_web_day_start_ns(&d->zone, last_day + 1) };
    perf_ctx c = { history, first_day, last_day, emit, emit_user, 0 };
    err = sw_history_select(d->h, &q, perf_row, &c);
    return c.stop ? (sw_err)c.stop : err;
}

static void db_free(void *p)
{
    history_db *d = p;
    if (d) {
        sw_history_close(d->h);
        free(d);
    }
}

sw_err sw_web_history_db_new(const char *path, int32_t (*utc_offset)(void *, int64_t), void *utc_user,
                             sw_http_history *out, void (**free_out)(void *))
{
    if (!path || !*path || strlen(path) >= sizeof ((history_db *)0)->path || !out || !free_out)
        return SW_ERR_INVALID_ARGUMENT;
    history_db *d = calloc(1, sizeof *d);
    if (!d)
        return SW_ERR_NO_MEMORY;
    memcpy(d->path, path, strlen(path) + 1);
    d->zone.utc_offset = utc_offset;
    d->zone.utc_offset_user = utc_user;
    memset(out, 0, sizeof *out);
    out->user = d;
    out->power_series = db_power_series;
    out->daily_energy = db_daily_energy;
    out->daily_performance = db_daily_performance;
    *free_out = db_free;
    return SW_OK;
}
