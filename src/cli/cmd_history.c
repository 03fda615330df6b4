/*
 * cmd_history.c: `sunwire history`, the export of the SQLite history, and
 * `sunwire history import`, which adds line protocol written elsewhere (the
 * RCT logger's series and events from `sunwire rct history|events --format
 * influx`) without adding a row twice.
 *
 * Reads the database read-only (a running daemon may keep writing), selects
 * one table over a time range with optional filters, and prints CSV, a JSON
 * array or JSON lines. It trusts the store's query layer for the rows and
 * checks everything the user typed: times, the range, and that a filter
 * names something the database has ever seen, so a typo is an error rather
 * than an empty export.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "sunwire/core.h"
#include "sunwire/json.h"
#include "sink/sink_history.h"
#include "sunwire/rct.h"
#include "sunwire_config.h"

#define PROG "sunwire history"

static const char usage_text[] =
    "Usage: " PROG " [OPTIONS]\n"
    "       " PROG " import [--db FILE] [FILE]...   (see " PROG " import --help)\n"
    "\n"
    "Export readings from the SQLite history written by `sunwire run` ([history] section).\n"
    "\n"
    "Options:\n"
    "  --db FILE            database file (default: sunwire-history.db)\n"
    "  --from TIME          start of the range, inclusive (default: -24h)\n"
    "  --to TIME            end of the range, exclusive (default: now)\n"
    "  --panel NAME         one panel, by name or barcode\n"
    "  --string NAME        one string (panel readings with --panel or --table panels,\n"
    "                       otherwise the string's aggregates)\n"
    "  --inverter NAME      one inverter's polled values\n"
    "  --object NAME        one inverter object, e.g. battery.soc\n"
    "  --kind KIND          one event kind (events table), or one problem kind (problems table)\n"
    "  --subject NAME       one problem subject, by its id or name (problems table)\n"
    "  --table TABLE        panels | strings | inverter | events | performance | problems\n"
    "                       (default: from the filters, else panels); performance: one row per\n"
    "                       panel and local day (its energy, its peers' median and the index);\n"
    "                       problems: every problem active at some time in the range, with its\n"
    "                       start (time) and end (empty while active)\n"
    "  --format FORMAT      csv | json (one array) | jsonl (one object per line); default csv\n"
    "  --time FORMAT        iso (RFC 3339, UTC) | unix (seconds) | ns; default iso\n"
    "  -h, --help           this text\n"
    "\n"
    "TIME is an ISO date or date and time (2026-11-20, 2026-11-20T14:30, 2026-11-20 14:30:15,\n"
    "optionally ending in Z or +01:00; without a zone it is local time), a time relative to\n"
    "now (-24h, -30m, -7d, -2w, -90s), 'now', 'today' (local midnight), 'yesterday', or @UNIX_SECONDS.\n"
    "\n"
    "Exit status: 0 on success, 1 when the database cannot be read or a name is unknown,\n"
    "2 for bad options.\n";

typedef enum { FMT_CSV, FMT_JSON, FMT_JSONL } out_format;
typedef enum { TIME_ISO, TIME_UNIX, TIME_NS } time_format;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Local time of a civil date-time: mktime knows the zone and its summer time. */
static sw_err local_to_ns(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    errno = 0;
    time_t t = mktime(&tm);
    if (t == (time_t)-1 && errno)
        return errno == EOVERFLOW ? SW_ERR_OUT_OF_RANGE : SW_ERR_BAD_NUMBER;
    return sw_time_ns_from_s((int64_t)t, 0, out);
}

/*
 * Parse a TIME argument (see usage) into Unix ns. SW_ERR_BAD_NUMBER on
 * anything it does not fully understand (a half-read time is worse than an
 * error), SW_ERR_OUT_OF_RANGE for a time the nanosecond clock cannot hold
 * (see sw_time_ns_from_s) or a relative time of more than 100 years.
 */
static sw_err parse_time(const char *text, int64_t now, int64_t *out)
{
    if (strcmp(text, "now") == 0) {
        *out = now;
        return SW_OK;
    }
    if (strcmp(text, "today") == 0 || strcmp(text, "yesterday") == 0) {
        time_t t = (time_t)(now / 1000000000);
        struct tm tm;
        localtime_r(&t, &tm);
        /* mktime normalises day 0 to the last day of the month before */
        return local_to_ns(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday - (text[0] == 'y'), 0, 0, 0, out);
    }
    if (text[0] == '@') {
        char *end;
        errno = 0;
        long long s = strtoll(text + 1, &end, 10);
        if (!isdigit((unsigned char)text[1]) || *end)
            return SW_ERR_BAD_NUMBER;
        if (errno == ERANGE)
            return SW_ERR_OUT_OF_RANGE;
        return sw_time_ns_from_s(s, 0, out);
    }
    if (text[0] == '-') {
        char *end;
        errno = 0;
        long long n = strtoll(text + 1, &end, 10);
        if (!isdigit((unsigned char)text[1]) || end[0] == '\0' || end[1] != '\0')
            return SW_ERR_BAD_NUMBER;
        int64_t unit;
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return SW_ERR_BAD_NUMBER;
        }
        if (errno == ERANGE || n > 36500LL * 86400 / unit)
            return SW_ERR_OUT_OF_RANGE;
        *out = now - (int64_t)n * unit * 1000000000;
        return SW_OK;
    }
    /* YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z|±HH:MM|±HHMM] */
    int y, mo, d, h = 0, mi = 0, s = 0;
    int64_t frac_ns = 0;
    size_t len = strlen(text);
    if (len < 10 || !digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &mo) || text[7] != '-' ||
        !digits(text + 8, 2, &d))
        return SW_ERR_BAD_NUMBER;
    const char *p = text + 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi))
            return SW_ERR_BAD_NUMBER;
        p += 5;
        if (*p == ':') {
            if (!digits(p + 1, 2, &s))
                return SW_ERR_BAD_NUMBER;
            p += 3;
            if (*p == '.') {
                int64_t scale = 100000000;
                p++;
                if (!isdigit((unsigned char)*p))
                    return SW_ERR_BAD_NUMBER;
                for (; isdigit((unsigned char)*p); p++) {
                    frac_ns += (*p - '0') * scale;
                    scale /= 10;
                }
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return SW_ERR_BAD_NUMBER;
    int64_t days = sw_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t cy;
    unsigned cm, cd;
    sw_civil_from_days(days, &cy, &cm, &cd);
    if (cy != y || cm != (unsigned)mo || cd != (unsigned)d)
        return SW_ERR_BAD_NUMBER; /* 2026-02-30 and friends */
    int64_t base;
    if (*p == '\0') {
        sw_err e = local_to_ns(y, mo, d, h, mi, s, &base);
        if (e != SW_OK)
            return e;
    } else {
        int off = 0;
        if (*p == 'Z' || *p == 'z') {
            if (p[1])
                return SW_ERR_BAD_NUMBER;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (!digits(p + 1, 2, &oh))
                return SW_ERR_BAD_NUMBER;
            const char *q = p + 3;
            if (*q == ':')
                q++;
            if (!digits(q, 2, &om) || q[2] || oh > 23 || om > 59)
                return SW_ERR_BAD_NUMBER;
            off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        } else {
            return SW_ERR_BAD_NUMBER;
        }
        sw_err e = sw_time_ns_from_s(days * 86400 + h * 3600 + mi * 60 + s - off, 0, &base);
        if (e != SW_OK)
            return e;
    }
    if (base > INT64_MAX - frac_ns)
        return SW_ERR_OUT_OF_RANGE;
    *out = base + frac_ns;
    return SW_OK;
}

/* ---- output ------------------------------------------------------------------- */

typedef struct out_ctx {
    out_format fmt;
    time_format tfmt;
    const char *const *cols;
    size_t ncols;
    uint64_t rows;
    char *buf;
    size_t cap;
} out_ctx;

static void time_text(const out_ctx *o, int64_t ns, char *out, size_t cap)
{
    if (o->tfmt == TIME_NS) {
        snprintf(out, cap, "%" PRId64, ns);
    } else if (o->tfmt == TIME_UNIX) {
        /* Seconds with the fraction exact to the nanosecond, trailing zeros cut. */
        int64_t sec = ns / 1000000000, rem = ns % 1000000000;
        if (rem < 0) {
            sec--;
            rem += 1000000000;
        }
        if (rem == 0) {
            snprintf(out, cap, "%" PRId64, sec);
        } else {
            snprintf(out, cap, "%" PRId64 ".%09" PRId64, sec, rem);
            size_t n = strlen(out);
            while (out[n - 1] == '0')
                out[--n] = '\0';
        }
    } else {
        char t[SW_RFC3339_MAX];
        sw_fmt_rfc3339(t, ns, 0);
        snprintf(out, cap, "%s", t);
    }
}

static void csv_field(const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void number_text(const sw_history_cell *c, char *out, size_t cap)
{
    if (c->type == SW_HISTORY_INT) {
        snprintf(out, cap, "%" PRId64, c->i);
    } else {
        char d[SW_DOUBLE_TEXT_MAX];
        sw_fmt_double(d, c->r);
        snprintf(out, cap, "%s", d);
    }
}

/* The time of the newest row a query sees (column 0 is the row's time). */
static int newest_row(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h;
    int64_t *newest = user;
    if (n > 0 && cells[0].i > *newest)
        *newest = cells[0].i;
    return 0;
}

/* A problem's end is a time like the row's own (its start): shown as "end" in the --time format. */
static bool is_end_time(const char *col) { return strcmp(col, "end_ns") == 0; }
static const char *shown_name(const char *col) { return is_end_time(col) ? "end" : col; }

static int emit_row(sw_history *h, const sw_history_cell *cells, size_t n, void *user)
{
    (void)h;
    out_ctx *o = user;
    char tbuf[64];
    time_text(o, cells[0].type == SW_HISTORY_INT ? cells[0].i : 0, tbuf, sizeof tbuf);
    if (o->fmt == FMT_CSV) {
        csv_field(tbuf);
        for (size_t i = 1; i < n; i++) {
            char num[64];
            putchar(',');
            if (is_end_time(o->cols[i]) && cells[i].type == SW_HISTORY_INT) {
                time_text(o, cells[i].i, num, sizeof num);
                csv_field(num);
            } else if (cells[i].type == SW_HISTORY_TEXT) {
                csv_field(cells[i].text);
            } else if (cells[i].type != SW_HISTORY_NULL) {
                number_text(&cells[i], num, sizeof num);
                fputs(num, stdout);
            }
        }
        putchar('\n');
        o->rows++;
        return 0;
    }
    /* Size the JSON buffer for the worst case of this row (every byte escaped). */
    size_t need = 256 + strlen(tbuf);
    for (size_t i = 0; i < n; i++)
        need += 64 + strlen(o->cols[i]) + (cells[i].type == SW_HISTORY_TEXT ? strlen(cells[i].text) * 6 : 32);
    if (need > o->cap) {
        char *b = realloc(o->buf, need);
        if (!b)
            return SW_ERR_NO_MEMORY; /* stops the walk; sw_history_select returns it */
        o->buf = b;
        o->cap = need;
    }
    sw_json j;
    sw_json_init(&j, o->buf, o->cap);
    sw_json_object_begin(&j);
    sw_json_key(&j, "time");
    if (o->tfmt == TIME_ISO)
        sw_json_string(&j, tbuf);
    else
        sw_json_raw(&j, tbuf, strlen(tbuf));
    for (size_t i = 1; i < n; i++) {
        sw_json_key(&j, shown_name(o->cols[i]));
        if (is_end_time(o->cols[i]) && cells[i].type == SW_HISTORY_INT) {
            char end[64];
            time_text(o, cells[i].i, end, sizeof end);
            if (o->tfmt == TIME_ISO)
                sw_json_string(&j, end);
            else
                sw_json_raw(&j, end, strlen(end));
            continue;
        }
        switch (cells[i].type) {
        case SW_HISTORY_NULL: sw_json_null(&j); break;
        case SW_HISTORY_INT: sw_json_int(&j, cells[i].i); break;
        case SW_HISTORY_REAL: sw_json_double(&j, cells[i].r); break;
        case SW_HISTORY_TEXT:
            if (strcmp(o->cols[i], "json") == 0) {
                /* Events hold a JSON object: nest it, unless the stored text is not JSON. */
                json_t *v = json_loads(cells[i].text, JSON_DECODE_ANY, NULL);
                if (v) {
                    sw_json_raw(&j, cells[i].text, strlen(cells[i].text));
                    json_decref(v);
                    break;
                }
            }
            sw_json_bytes_as_string(&j, (const uint8_t *)cells[i].text, strlen(cells[i].text));
            break;
        }
    }
    sw_json_object_end(&j);
    const char *text = sw_json_finish(&j);
    if (!text)
        return 1;
    if (o->fmt == FMT_JSON)
        fputs(o->rows ? ",\n" : "\n", stdout);
    fputs(text, stdout);
    if (o->fmt == FMT_JSONL)
        putchar('\n');
    o->rows++;
    return 0;
}

/* ---- the command ------------------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
    return 2;
}

/* "--name value" or "--name=value"; advances *i past what it used. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *bad)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *bad = true;
        return NULL;
    }
    return argv[++*i];
}

/* ---- import ------------------------------------------------------------------------ */

static const char import_usage[] =
    "Usage: " PROG " import [--db FILE] [--precision s|ms|us|ns] [FILE]...\n"
    "\n"
    "Add InfluxDB line protocol to the SQLite history: sunwire_inverter_value lines go to the\n"
    "inverter values, sunwire_event lines to the events; other measurements are skipped.\n"
    "A row the history already holds (same inverter, object and time; same event) is not\n"
    "added again, so importing the same lines twice changes nothing. Made for the output of\n"
    "`sunwire rct history --format influx` and `sunwire rct events --format influx`\n"
    "(docs/influxdb.md, \"Backfill\"). Without FILE, or with '-', reads stdin.\n"
    "\n"
    "Options:\n"
    "  --db FILE            database file (default: sunwire-history.db; created when missing)\n"
    "  --precision UNIT     unit of the timestamps: s (default), ms, us or ns\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 when every line was read, 1 when a line did not parse or the database\n"
    "could not be written, 2 for bad options.\n";

/*
 * One part of a line up to an unescaped character of `stops` (or the end),
 * unescaped into out (at least as large as the line). Returns the stop
 * character ('\0' at the end) and advances *p to it.
 */
static char lp_part(const char **p, const char *stops, char *out)
{
    const char *s = *p;
    size_t n = 0;
    while (*s && !strchr(stops, *s)) {
        if (*s == '\\' && s[1])
            s++;
        out[n++] = *s++;
    }
    out[n] = '\0';
    *p = s;
    return *s;
}

/* A string field value after its opening quote: \" and \\ unescaped. False when unterminated. */
static bool lp_string(const char **p, char *out)
{
    const char *s = *p;
    size_t n = 0;
    while (*s && *s != '"') {
        if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
            s++;
        out[n++] = *s++;
    }
    out[n] = '\0';
    if (*s != '"')
        return false;
    *p = s + 1;
    return true;
}

typedef struct lp_point {
    char *measurement;
    char *tag_key[8], *tag_val[8];
    size_t n_tags;
    char *field_key[8], *field_val[8];
    bool field_str[8];
    size_t n_fields;
    int64_t ts;
    char *store;              /* one allocation holding all the texts */
} lp_point;

static const char *lp_get(char *const *keys, char *const *vals, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return vals[i];
    return NULL;
}

/* Parse one line (no '\n'); false when it is not line protocol. pt->store must be freed. */
static bool lp_parse(const char *line, lp_point *pt)
{
    size_t len = strlen(line);
    memset(pt, 0, sizeof *pt);
    /* every part fits in the length of the line; 1 + 2 * 8 + 2 * 8 parts at most */
    pt->store = malloc((len + 1) * 33);
    if (!pt->store)
        return false;
    char *next = pt->store;
#define NEXT_BUF() (next += len + 1, next - (len + 1))
    const char *p = line;
    pt->measurement = NEXT_BUF();
    char c = lp_part(&p, ", ", pt->measurement);
    if (!pt->measurement[0])
        return false;
    while (c == ',') {
        p++;
        if (pt->n_tags == 8)
            return false;
        char *k = NEXT_BUF(), *v = NEXT_BUF();
        if (lp_part(&p, "=", k) != '=' || !k[0])
            return false;
        p++;
        c = lp_part(&p, ", ", v);
        pt->tag_key[pt->n_tags] = k;
        pt->tag_val[pt->n_tags++] = v;
    }
    if (c != ' ')
        return false;
    do {
        p++;
        if (pt->n_fields == 8)
            return false;
        char *k = NEXT_BUF(), *v = NEXT_BUF();
        if (lp_part(&p, "=", k) != '=' || !k[0])
            return false;
        p++;
        bool str = *p == '"';
        if (str) {
            p++;
            if (!lp_string(&p, v))
                return false;
            c = *p;
        } else {
            c = lp_part(&p, ", ", v);
            if (!v[0])
                return false;
        }
        pt->field_key[pt->n_fields] = k;
        pt->field_str[pt->n_fields] = str;
        pt->field_val[pt->n_fields++] = v;
    } while (c == ',');
    if (c != ' ')
        return false;
    char *end;
    errno = 0;
    long long ts = strtoll(p + 1, &end, 10);
    if (errno || end == p + 1 || *end)
        return false;
    pt->ts = ts;
    return true;
#undef NEXT_BUF
}

struct import_counts {
    unsigned long long added, present, skipped, bad;
};

/* One parsed point into the history; false when the database failed. */
static bool import_point(sw_history *h, const lp_point *pt, int64_t mult, struct import_counts *n)
{
    if (pt->ts > INT64_MAX / mult || pt->ts < INT64_MIN / mult) {
        n->bad++;
        return true;
    }
    int64_t ts_ns = pt->ts * mult;
    bool added = false;
    sw_err e;
    if (strcmp(pt->measurement, "sunwire_inverter_value") == 0) {
        const char *inv = lp_get(pt->tag_key, pt->tag_val, pt->n_tags, "inverter");
        const char *obj = lp_get(pt->tag_key, pt->tag_val, pt->n_tags, "object");
        const char *unit = lp_get(pt->tag_key, pt->tag_val, pt->n_tags, "unit");
        const char *num = lp_get(pt->field_key, pt->field_val, pt->n_fields, "value");
        const char *text = lp_get(pt->field_key, pt->field_val, pt->n_fields, "text");
        sw_inverter_value v;
        memset(&v, 0, sizeof v);
        if (!inv || !obj || (!num && !text) || strlen(inv) >= sizeof v.inverter ||
            strlen(obj) >= sizeof v.object_name || (unit && strlen(unit) >= sizeof v.unit)) {
            n->bad++;
            return true;
        }
        snprintf(v.inverter, sizeof v.inverter, "%s", inv);
        snprintf(v.object_name, sizeof v.object_name, "%s", obj);
        snprintf(v.unit, sizeof v.unit, "%s", unit ? unit : "");
        const sw_rct_object *o = sw_rct_registry_find_name(obj);
        v.object_id = o ? o->id : 0;
        if (num) {
            char *end;
            v.number = strtod(num, &end);
            if (end == num || *end) {
                n->bad++;
                return true;
            }
            v.is_number = true;
        }
        v.text = text ? text : num; /* both live in the parsed line until the row is written */
        v.json = lp_get(pt->field_key, pt->field_val, pt->n_fields, "json");
        v.timestamp_ns = ts_ns;
        e = sw_history_add_inverter_value_once(h, &v, ts_ns, &added);
    } else if (strcmp(pt->measurement, "sunwire_event") == 0) {
        const char *kind = lp_get(pt->tag_key, pt->tag_val, pt->n_tags, "kind");
        const char *json = lp_get(pt->field_key, pt->field_val, pt->n_fields, "json");
        if (!kind || !json) {
            n->bad++;
            return true;
        }
        e = sw_history_add_event_once(h, kind, json, ts_ns, &added);
    } else {
        n->skipped++;
        return true;
    }
    if (e != SW_OK)
        return false;
    if (added)
        n->added++;
    else
        n->present++;
    return true;
}

static bool import_stream(sw_history *h, FILE *in, const char *name, int64_t mult, struct import_counts *n)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned long long lineno = 0;
    bool ok = true;
    while (ok && (got = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0 || line[0] == '#')
            continue;
        lp_point pt;
        if (!lp_parse(line, &pt)) {
            if (n->bad++ < 5)
                fprintf(stderr, PROG " import: %s:%llu: not line protocol\n", name, lineno);
        } else {
            ok = import_point(h, &pt, mult, n);
        }
        free(pt.store);
        /* Commit in chunks so a large import does not grow one transaction without end. */
        if (ok && (n->added % 5000) == 4999)
            ok = sw_history_commit(h) == SW_OK;
    }
    free(line);
    return ok;
}

static int history_import(int argc, char **argv)
{
    const char *db = "sunwire-history.db", *prec = "s";
    const char *files[64];
    size_t n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool bad = false;
        const char *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(import_usage, stdout);
            return 0;
        }
        if ((v = opt_value(argc, argv, &i, "--db", &bad)) != NULL || bad) {
            if (bad)
                return usage_error("option --db needs a value");
            db = v;
            continue;
        }
        if ((v = opt_value(argc, argv, &i, "--precision", &bad)) != NULL || bad) {
            if (bad)
                return usage_error("option --precision needs a value");
            prec = v;
            continue;
        }
        if (a[0] == '-' && a[1])
            return usage_error("unexpected option '%s'", a);
        if (n_files == sizeof files / sizeof files[0])
            return usage_error("too many files");
        files[n_files++] = a;
    }
    int64_t mult;
    if (strcmp(prec, "s") == 0)
        mult = 1000000000;
    else if (strcmp(prec, "ms") == 0)
        mult = 1000000;
    else if (strcmp(prec, "us") == 0 || strcmp(prec, "u") == 0)
        mult = 1000;
    else if (strcmp(prec, "ns") == 0)
        mult = 1;
    else
        return usage_error("--precision '%s' is not one of s, ms, us, ns", prec);
    if (n_files == 0)
        files[n_files++] = "-";

    sw_history *h = NULL;
    sw_err e = sw_history_open(db, &h);
    if (e != SW_OK) {
        fprintf(stderr, PROG " import: cannot open %s: %s\n", db, sw_err_message(e));
        return 1;
    }
    struct import_counts n = { 0 };
    bool ok = true;
    for (size_t i = 0; ok && i < n_files; i++) {
        bool is_stdin = strcmp(files[i], "-") == 0;
        FILE *in = is_stdin ? stdin : fopen(files[i], "r");
        if (!in) {
            fprintf(stderr, PROG " import: cannot read %s: %s\n", files[i], strerror(errno));
            ok = false;
            break;
        }
        ok = import_stream(h, in, is_stdin ? "stdin" : files[i], mult, &n);
        if (!is_stdin)
            fclose(in);
    }
    if (ok && sw_history_commit(h) != SW_OK)
        ok = false;
    if (!ok)
        fprintf(stderr, PROG " import: writing %s failed: %s\n", db, sw_history_errmsg(h));
    sw_history_close(h);
    fprintf(stderr, PROG " import: %llu rows added, %llu already there, %llu lines of other measurements skipped, "
                    "%llu lines not understood\n", n.added, n.present, n.skipped, n.bad);
    return ok && n.bad == 0 ? 0 : 1;
}

int sw_cli_history(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "import") == 0)
        return history_import(argc - 1, argv + 1);
    const char *db = "sunwire-history.db", *from_s = "-24h", *to_s = "now";
    const char *table_s = NULL, *format_s = "csv", *time_s = "iso";
    sw_history_query q;
    memset(&q, 0, sizeof q);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool bad = false;
        const char *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
#define OPT(flag, var)                                                             \
    if ((v = opt_value(argc, argv, &i, flag, &bad)) != NULL || bad) {               \
        if (bad)                                                                   \
            return usage_error("option %s needs a value", flag);                   \
        var = v;                                                                   \
        continue;                                                                  \
    }
        OPT("--db", db)
        OPT("--from", from_s)
        OPT("--to", to_s)
        OPT("--panel", q.panel)
        OPT("--string", q.string)
        OPT("--inverter", q.inverter)
        OPT("--object", q.object)
        OPT("--kind", q.kind)
        OPT("--subject", q.subject)
        OPT("--table", table_s)
        OPT("--format", format_s)
        OPT("--time", time_s)
#undef OPT
        return usage_error("unexpected argument '%s'", a);
    }

    out_ctx o;
    memset(&o, 0, sizeof o);
    if (strcmp(format_s, "csv") == 0)
        o.fmt = FMT_CSV;
    else if (strcmp(format_s, "json") == 0)
        o.fmt = FMT_JSON;
    else if (strcmp(format_s, "jsonl") == 0 || strcmp(format_s, "json-lines") == 0)
        o.fmt = FMT_JSONL;
    else
        return usage_error("--format '%s' is not one of csv, json, jsonl", format_s);
    if (strcmp(time_s, "iso") == 0)
        o.tfmt = TIME_ISO;
    else if (strcmp(time_s, "unix") == 0)
        o.tfmt = TIME_UNIX;
    else if (strcmp(time_s, "ns") == 0)
        o.tfmt = TIME_NS;
    else
        return usage_error("--time '%s' is not one of iso, unix, ns", time_s);

    if (table_s) {
        if (strcmp(table_s, "panels") == 0)
            q.table = SW_HISTORY_PANELS;
        else if (strcmp(table_s, "strings") == 0)
            q.table = SW_HISTORY_STRINGS;
        else if (strcmp(table_s, "inverter") == 0 || strcmp(table_s, "inverters") == 0)
            q.table = SW_HISTORY_INVERTER_VALUES;
        else if (strcmp(table_s, "events") == 0)
            q.table = SW_HISTORY_EVENTS;
        else if (strcmp(table_s, "performance") == 0)
            q.table = SW_HISTORY_PERFORMANCE;
        else if (strcmp(table_s, "problems") == 0)
            q.table = SW_HISTORY_PROBLEMS;
        else
            return usage_error("--table '%s' is not one of panels, strings, inverter, events, performance, problems",
                               table_s);
    } else if (q.subject) {
        q.table = SW_HISTORY_PROBLEMS;
    } else if (q.inverter || q.object) {
        q.table = SW_HISTORY_INVERTER_VALUES;
    } else if (q.kind) {
        q.table = SW_HISTORY_EVENTS;
    } else if (q.string && !q.panel) {
        q.table = SW_HISTORY_STRINGS;
    } else {
        q.table = SW_HISTORY_PANELS;
    }
    /* A filter the chosen table cannot apply would silently export everything. */
    bool panels = q.table == SW_HISTORY_PANELS || q.table == SW_HISTORY_PERFORMANCE,
         strings = q.table == SW_HISTORY_STRINGS;
    bool inv = q.table == SW_HISTORY_INVERTER_VALUES, ev = q.table == SW_HISTORY_EVENTS;
    bool prob = q.table == SW_HISTORY_PROBLEMS;
    /* Without --table the table was chosen by the other filters: say which. */
    char tname[96];
    if (table_s)
        snprintf(tname, sizeof tname, "the %s table", table_s);
    else
        snprintf(tname, sizeof tname, "the %s table (chosen by %s)",
                 prob ? "problems" : inv ? "inverter" : ev ? "events" : strings ? "strings" : "panels",
                 prob ? "--subject" : inv ? (q.inverter ? "--inverter" : "--object") : ev ? "--kind"
                                                                        : strings ? "--string" : "default");
    if (q.panel && !panels)
        return usage_error("--panel applies to the panels and performance tables, not %s", tname);
    if (q.string && !(panels || strings))
        return usage_error("--string applies to the panels, strings and performance tables, not %s", tname);
    if ((q.inverter || q.object) && !inv)
        return usage_error("--inverter and --object apply to the inverter table, not %s", tname);
    if (q.kind && !ev && !prob)
        return usage_error("--kind applies to the events and problems tables, not %s", tname);
    if (q.subject && !prob)
        return usage_error("--subject applies to the problems table, not %s", tname);
    /* Problem kinds are a fixed list: a typo is told apart without the database. */
    if (q.kind && prob && !sw_problem_kind_from_name(q.kind))
        return usage_error("--kind '%s' is not a problem kind (underperforming, no_power, hot, ...; see "
                           "docs/health.md)", q.kind);

    int64_t now = now_ns();
    const char *flags[2] = {"--from", "--to"}, *texts[2] = {from_s, to_s};
    int64_t *dst[2] = {&q.from_ns, &q.to_ns};
    for (int i = 0; i < 2; i++) {
        sw_err te = parse_time(texts[i], now, dst[i]);
        if (te == SW_ERR_OUT_OF_RANGE)
            return usage_error("%s: '%s' is outside the times sunwire can hold (1677-09-21 .. 2262-04-11 UTC; "
                               "relative times up to 100 years)",
                               flags[i], texts[i]);
        if (te != SW_OK)
            return usage_error("%s: cannot read '%s' as a time (examples: 2026-11-20, 2026-11-20T14:30, -24h, now, "
                               "yesterday)",
                               flags[i], texts[i]);
    }
    if (q.from_ns >= q.to_ns) {
        char a[SW_RFC3339_MAX], b[SW_RFC3339_MAX];
        sw_fmt_rfc3339(a, q.from_ns, 0);
        sw_fmt_rfc3339(b, q.to_ns, 0);
        fprintf(stderr, PROG ": empty range: --from (%s) must be before --to (%s)\n", a, b);
        return 2;
    }

    sw_history *h = NULL;
    sw_err e = sw_history_open_readonly(db, &h);
    if (e == SW_ERR_UNSUPPORTED && !SUNWIRE_HAVE_SQLITE) {
        fprintf(stderr, PROG ": this build has no SQLite support (install libsqlite3-dev and rebuild)\n");
        return 1;
    }
    if (e == SW_ERR_UNSUPPORTED) {
        fprintf(stderr, PROG ": %s was written by a newer sunwire (schema version above %d)\n", db,
                SW_HISTORY_SCHEMA_VERSION);
        return 1;
    }
    if (e != SW_OK) {
        /* Say which: SQLite only knows that it could not open the path. */
        struct stat st;
        const char *why = e == SW_ERR_NOT_FOUND                      ? "not a sunwire history database"
                          : stat(db, &st) != 0                        ? strerror(errno)
                          : S_ISDIR(st.st_mode)                       ? "it is a directory (give the .db file in it)"
                          : access(db, R_OK) != 0                     ? strerror(errno)
                                                                      : "not an SQLite database or not readable";
        fprintf(stderr, PROG ": cannot read %s: %s\n", db, why);
        return 1;
    }
    static const struct { sw_history_name_kind kind; const char *what; } checks[] = {
        { SW_HISTORY_NAME_PANEL, "panel (name or barcode)" },
        { SW_HISTORY_NAME_STRING, "string" },
        { SW_HISTORY_NAME_INVERTER, "inverter" },
        { SW_HISTORY_NAME_OBJECT, "inverter object" },
        { SW_HISTORY_NAME_EVENT_KIND, "event kind" },
        { SW_HISTORY_NAME_PROBLEM_SUBJECT, "problem subject" },
    };
    const char *names[] = { q.panel, q.string, q.inverter, q.object, prob ? NULL : q.kind, q.subject };
    for (size_t k = 0; k < 6; k++) {
        bool known = false;
        if (!names[k])
            continue;
        if (sw_history_name_known(h, checks[k].kind, names[k], &known) != SW_OK) {
            fprintf(stderr, PROG ": cannot read %s: %s\n", db, sw_history_errmsg(h));
            sw_history_close(h);
            return 1;
        }
        if (!known) {
            fprintf(stderr, PROG ": unknown %s '%s': %s has no rows for it\n", checks[k].what, names[k], db);
            sw_history_close(h);
            return 1;
        }
    }

    /* A simulation faster than real time (sunwire demo) writes rows ahead of the wall clock.
     * As in the dashboard's API, "now" is then the newest row, so relative times and the
     * default range (-24h to now) cover them. */
    sw_history_query ahead = q;
    ahead.from_ns = now;
    ahead.to_ns = INT64_MAX;
    int64_t newest = 0;
    if (sw_history_select(h, &ahead, newest_row, &newest) == SW_OK && newest >= now) {
        now = newest + 1;
        (void)parse_time(from_s, now, &q.from_ns);
        (void)parse_time(to_s, now, &q.to_ns);
    }

    o.cols = sw_history_columns(q.table, &o.ncols);
    if (o.fmt == FMT_CSV) {
        fputs("time", stdout);
        for (size_t i = 1; i < o.ncols; i++)
            printf(",%s", shown_name(o.cols[i]));
        putchar('\n');
    } else if (o.fmt == FMT_JSON) {
        putchar('[');
    }
    e = sw_history_select(h, &q, emit_row, &o);
    if (o.fmt == FMT_JSON)
        fputs(o.rows ? "\n]\n" : "]\n", stdout);
    free(o.buf);
    int rc = 0;
    if (e != SW_OK) {
        fprintf(stderr, PROG ": reading %s failed: %s\n", db,
                e == SW_ERR_NO_MEMORY ? sw_err_message(e) : sw_history_errmsg(h));
        rc = 1;
    }
    sw_history_close(h);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = 1;
    return rc;
}
