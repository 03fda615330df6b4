/*
 * Unit tests for the InfluxDB line protocol: every special character in every
 * position, precision conversion, records from the Tigo power-report vectors,
 * all parsed back by a line-protocol reader written here, and the file
 * destination of the sink.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "io/log.h"
#include "sunwire/loop.h"
#include "sink/sink_influx.h"
#include "testutil.h"

#define T0 INT64_C(1763700000123456789)

/* ---- a line-protocol reader --------------------------------------------------- */

#define MAXKV 48

typedef struct lp_value {
    char type;          /* 'f' float, 'i' integer, 'b' bool, 's' string */
    double f;
    int64_t i;
    bool b;
    char s[512];
} lp_value;

typedef struct lp_line {
    char measurement[256];
    int ntags;
    char tag_key[MAXKV][128], tag_val[MAXKV][256];
    int nfields;
    char field_key[MAXKV][128];
    lp_value field[MAXKV];
    int64_t ts;
} lp_line;

/* Read an escaped token up to one of `stops` (unescaped); `escapable` are the
 * characters a backslash may precede. Returns the pointer at the stop. */
static const char *lp_token(const char *p, const char *stops, const char *escapable, char *out, size_t cap)
{
    size_t n = 0;
    while (*p && !strchr(stops, *p)) {
        char c = *p++;
        if (c == '\\' && *p && strchr(escapable, *p))
            c = *p++;
        assert_true(n + 1 < cap);
        out[n++] = c;
    }
    out[n] = '\0';
    return p;
}

static void lp_parse(const char *text, lp_line *l)
{
    memset(l, 0, sizeof *l);
    const char *p = lp_token(text, ", ", ", ", l->measurement, sizeof l->measurement);
    assert_true(l->measurement[0] != '\0');
    while (*p == ',') {
        assert_true(l->ntags < MAXKV);
        p = lp_token(p + 1, "=", ",= ", l->tag_key[l->ntags], 128);
        assert_int_equal(*p, '=');
        p = lp_token(p + 1, ", ", ",= ", l->tag_val[l->ntags], 256);
        assert_true(l->tag_key[l->ntags][0] && l->tag_val[l->ntags][0]);
        l->ntags++;
    }
    assert_int_equal(*p, ' ');
    p++;
    for (;;) {
        assert_true(l->nfields < MAXKV);
        p = lp_token(p, "=", ",= ", l->field_key[l->nfields], 128);
        assert_int_equal(*p, '=');
        p++;
        lp_value *v = &l->field[l->nfields++];
        if (*p == '"') {
            size_t n = 0;
            p++;
            while (*p != '"') {
                assert_true(*p != '\0');
                char c = *p++;
                if (c == '\\' && (*p == '"' || *p == '\\'))
                    c = *p++;
                assert_true(n + 1 < sizeof v->s);
                v->s[n++] = c;
            }
            v->s[n] = '\0';
            v->type = 's';
            p++;
        } else {
            char tok[64];
            size_t n = 0;
            while (*p && *p != ',' && *p != ' ') {
                assert_true(n + 1 < sizeof tok);
                tok[n++] = *p++;
            }
            tok[n] = '\0';
            if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0) {
                v->type = 'b';
                v->b = tok[0] == 't';
            } else if (n > 1 && tok[n - 1] == 'i') {
                char *end;
                tok[n - 1] = '\0';
                v->type = 'i';
                v->i = strtoll(tok, &end, 10);
                assert_true(*end == '\0');
            } else {
                char *end;
                v->type = 'f';
                v->f = strtod(tok, &end);
                assert_true(n > 0 && *end == '\0');
            }
        }
        if (*p == ',') {
            p++;
            continue;
        }
        break;
    }
    assert_int_equal(*p, ' ');
    char *end;
    l->ts = strtoll(p + 1, &end, 10);
    assert_true(end > p + 1);
    assert_int_equal(*end, '\n');
    assert_int_equal(end[1], '\0');
}

static const lp_value *lp_field(const lp_line *l, const char *key)
{
    for (int i = 0; i < l->nfields; i++)
        if (strcmp(l->field_key[i], key) == 0)
            return &l->field[i];
    fail_msg("no field %s", key);
    return NULL;
}

static const char *lp_tag(const lp_line *l, const char *key)
{
    for (int i = 0; i < l->ntags; i++)
        if (strcmp(l->tag_key[i], key) == 0)
            return l->tag_val[i];
    return NULL;
}

/* ---- tests ---------------------------------------------------------------------- */

static const char *const nasty[] = {
    "plain", "with space", "com,ma", "equ=als", "quo\"te", "back\\slash", "all ,=\"\\ of them", "trailing\\",
    "ünïcödé", "tab\there",
};

static void test_escaping_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof nasty / sizeof *nasty; i++) {
        for (size_t j = 0; j < sizeof nasty / sizeof *nasty; j++) {
            const char *a = nasty[i], *b = nasty[j];
            /* A trailing backslash cannot end a measurement, key or tag unambiguously in line protocol. */
            if (a[strlen(a) - 1] == '\\')
                continue;
            char buf[1024];
            size_t len;
            sw_influx_line l;
            sw_influx_line_begin(&l, buf, sizeof buf, a);
            sw_influx_line_tag(&l, a, b[strlen(b) - 1] == '\\' ? "x" : b);
            sw_influx_line_field_string(&l, a, b);
            sw_influx_line_field_int(&l, "n", -42);
            sw_influx_line_field_double(&l, "d", 0.1);
            sw_influx_line_field_bool(&l, "b", true);
            assert_int_equal(sw_influx_line_end(&l, T0, SW_INFLUX_PRECISION_NS, &len), SW_OK);
            assert_int_equal(len, strlen(buf));
            lp_line p;
            lp_parse(buf, &p);
            assert_string_equal(p.measurement, a);
            assert_int_equal(p.ntags, 1);
            assert_string_equal(p.tag_key[0], a);
            assert_string_equal(p.tag_val[0], b[strlen(b) - 1] == '\\' ? "x" : b);
            assert_int_equal(p.nfields, 4);
            assert_string_equal(p.field_key[0], a);
            assert_int_equal(p.field[0].type, 's');
            assert_string_equal(p.field[0].s, b);
            assert_int_equal(lp_field(&p, "n")->type, 'i');
            assert_true(lp_field(&p, "n")->i == -42);
            assert_true(lp_field(&p, "d")->f == 0.1);
            assert_true(lp_field(&p, "b")->b);
            assert_true(p.ts == T0);
        }
    }
}

/* The exact bytes for each special character in each position. */
static void test_escaping_exact(void **state)
{
    (void)state;
    static const struct { const char *m, *tk, *tv, *fk, *fs, *want; } cases[] = {
        { "m", "k", "v", "f", "s", "m,k=v f=\"s\" 5\n" },
        { "a b,c=d", "k", "v", "f", "s", "a\\ b\\,c=d,k=v f=\"s\" 5\n" },
        { "m", "k k,=", "v v,=", "f", "s", "m,k\\ k\\,\\==v\\ v\\,\\= f=\"s\" 5\n" },
        { "m", "k", "v", "f f,=", "s", "m,k=v f\\ f\\,\\==\"s\" 5\n" },
        { "m", "k", "v", "f", "a\"b\\c, d=e", "m,k=v f=\"a\\\"b\\\\c, d=e\" 5\n" },
        { "m", "k", "line\nbreak", "f", "cr\rlf\n", "m,k=line\\ break f=\"cr lf \" 5\n" },
        { "m", "k", "", "f", "s", "m f=\"s\" 5\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[256];
        sw_influx_line l;
        sw_influx_line_begin(&l, buf, sizeof buf, cases[i].m);
        sw_influx_line_tag(&l, cases[i].tk, cases[i].tv);
        sw_influx_line_field_string(&l, cases[i].fk, cases[i].fs);
        assert_int_equal(sw_influx_line_end(&l, 5, SW_INFLUX_PRECISION_NS, NULL), SW_OK);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_numbers_and_limits(void **state)
{
    (void)state;
    char buf[256];
    size_t len;
    sw_influx_line l;
    sw_influx_line_begin(&l, buf, sizeof buf, "m");
    sw_influx_line_field_double(&l, "nan", NAN);
    sw_influx_line_field_double(&l, "inf", INFINITY);
    /* Only non-finite fields: nothing InfluxDB would accept. */
    assert_int_equal(sw_influx_line_end(&l, 1, SW_INFLUX_PRECISION_S, &len), SW_ERR_NOT_FOUND);
    sw_influx_line_begin(&l, buf, sizeof buf, "m");
    sw_influx_line_field_double(&l, "nan", NAN);
    sw_influx_line_field_int(&l, "max", INT64_MAX);
    sw_influx_line_field_int(&l, "min", INT64_MIN);
    sw_influx_line_field_double(&l, "big", 1e300);
    sw_influx_line_field_double(&l, "whole", 30.0);
    assert_int_equal(sw_influx_line_end(&l, 1, SW_INFLUX_PRECISION_S, &len), SW_OK);
    lp_line p;
    lp_parse(buf, &p);
    assert_int_equal(p.nfields, 4);
    assert_true(lp_field(&p, "max")->i == INT64_MAX);
    assert_true(lp_field(&p, "min")->i == INT64_MIN);
    assert_int_equal(lp_field(&p, "big")->type, 'f');
    assert_true(lp_field(&p, "big")->f == 1e300);
    /* A float field must stay a float even when whole, or InfluxDB would see a type conflict. */
    assert_int_equal(lp_field(&p, "whole")->type, 'f');
    assert_non_null(strstr(buf, "whole=30.0"));

    /* Every buffer shorter than the line fails cleanly; exactly enough succeeds. */
    char full[256];
    sw_influx_line_begin(&l, full, sizeof full, "meas urement");
    sw_influx_line_tag(&l, "t", "v,v");
    sw_influx_line_field_string(&l, "s", "q\"q");
    assert_int_equal(sw_influx_line_end(&l, T0, SW_INFLUX_PRECISION_NS, &len), SW_OK);
    for (size_t cap = 0; cap <= len + 1; cap++) {
        char *small = malloc(cap ? cap : 1);
        size_t got = 99;
        sw_influx_line_begin(&l, small, cap, "meas urement");
        sw_influx_line_tag(&l, "t", "v,v");
        sw_influx_line_field_string(&l, "s", "q\"q");
        sw_err e = sw_influx_line_end(&l, T0, SW_INFLUX_PRECISION_NS, &got);
        if (cap <= len) {
            assert_int_equal(e, SW_ERR_NO_SPACE);
            assert_int_equal(got, 0);
        } else {
            assert_int_equal(e, SW_OK);
            assert_string_equal(small, full);
        }
        free(small);
    }
}

static void test_precision(void **state)
{
    (void)state;
    static const struct { const char *name; sw_influx_precision p; int64_t ns, want; } cases[] = {
        { "ns", SW_INFLUX_PRECISION_NS, T0, T0 },
        { "us", SW_INFLUX_PRECISION_US, T0, INT64_C(1763700000123456) },
        { "ms", SW_INFLUX_PRECISION_MS, T0, INT64_C(1763700000123) },
        { "s", SW_INFLUX_PRECISION_S, T0, INT64_C(1763700000) },
        { "s", SW_INFLUX_PRECISION_S, INT64_C(999999999), 0 },
        { "ms", SW_INFLUX_PRECISION_MS, 0, 0 },
        /* Before 1970 a time rounds to the earlier tick, as a floor. */
        { "s", SW_INFLUX_PRECISION_S, -1, -1 },
        { "us", SW_INFLUX_PRECISION_US, -1500, -2 },
        { "ms", SW_INFLUX_PRECISION_MS, -INT64_C(1000000), -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sw_influx_precision p;
        assert_int_equal(sw_influx_precision_parse(cases[i].name, &p), SW_OK);
        assert_int_equal(p, cases[i].p);
        assert_string_equal(sw_influx_precision_name(p), cases[i].name);
        assert_true(sw_influx_timestamp(cases[i].ns, p) == cases[i].want);
        char buf[128];
        sw_influx_line l;
        sw_influx_line_begin(&l, buf, sizeof buf, "m");
        sw_influx_line_field_int(&l, "x", 1);
        assert_int_equal(sw_influx_line_end(&l, cases[i].ns, p, NULL), SW_OK);
        lp_line pl;
        lp_parse(buf, &pl);
        assert_true(pl.ts == cases[i].want);
    }
    sw_influx_precision p;
    assert_int_equal(sw_influx_precision_parse("h", &p), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_influx_precision_parse("NS", &p), SW_ERR_INVALID_ARGUMENT);
}

static void panel_from_case(json_t *c, size_t i, sw_panel *p)
{
    json_t *ph = tu_get(c, "physical");
    memset(p, 0, sizeof *p);
    snprintf(p->source, sizeof p->source, "roof bus");
    p->gateway_id = 4609;
    p->node_id = (uint16_t)(i + 1);
    snprintf(p->barcode, sizeof p->barcode, "B-%07zu", i + 1);
    snprintf(p->name, sizeof p->name, "south,%zu=\"x\"", i + 1);
    p->online = i % 2 == 0;
    p->last_seen_ns = T0 + (int64_t)i;
    p->voltage_in = tu_real(ph, "voltage_in");
    p->voltage_out = tu_real(ph, "voltage_out");
    p->current_in = tu_real(ph, "current");
    p->power_w = p->voltage_in * p->current_in;
    p->duty_cycle = tu_real(ph, "dc_dc_duty_cycle");
    p->temperature_c = tu_real(ph, "temperature");
    p->rssi = (int)tu_int(ph, "rssi");
    p->energy_total_wh = 5000.75;
}

static void test_panel_lines_from_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("tigo/power_reports.json");
    json_t *cases = tu_get(root, "cases");
    assert_true(json_array_size(cases) >= 10);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        sw_panel p;
        panel_from_case(json_array_get(cases, i), i, &p);
        char buf[1024], name[64];
        size_t len;
        assert_int_equal(sw_influx_panel_line(buf, sizeof buf, &p, 0, SW_INFLUX_PRECISION_MS, &len), SW_OK);
        lp_line l;
        lp_parse(buf, &l);
        assert_string_equal(l.measurement, "sunwire_panel");
        assert_string_equal(lp_tag(&l, "source"), "roof bus");
        assert_string_equal(lp_tag(&l, "gateway"), "4609");
        snprintf(name, sizeof name, "south,%zu=\"x\"", i + 1);
        assert_string_equal(lp_tag(&l, "panel"), name);
        assert_null(lp_tag(&l, "string")); /* empty tags are left out */
        json_t *ph = tu_get(json_array_get(cases, i), "physical");
        assert_true(lp_field(&l, "voltage_in")->f == tu_real(ph, "voltage_in"));
        assert_true(lp_field(&l, "voltage_out")->f == tu_real(ph, "voltage_out"));
        assert_true(lp_field(&l, "current_in")->f == tu_real(ph, "current"));
        assert_true(lp_field(&l, "duty_cycle")->f == tu_real(ph, "dc_dc_duty_cycle"));
        assert_true(lp_field(&l, "temperature")->f == tu_real(ph, "temperature"));
        assert_int_equal(lp_field(&l, "rssi")->type, 'i');
        assert_true(lp_field(&l, "rssi")->i == tu_int(ph, "rssi"));
        assert_int_equal(lp_field(&l, "online")->b, i % 2 == 0);
        assert_true(lp_field(&l, "energy_total_wh")->f == 5000.75);
        assert_true(l.ts == (T0 + (int64_t)i) / 1000000);
    }
    json_decref(root);
}

static void test_other_records(void **state)
{
    (void)state;
    char buf[1024];
    lp_line l;
    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.inverter, sizeof v.inverter, "garage");
    snprintf(v.object_name, sizeof v.object_name, "battery.soc");
    snprintf(v.unit, sizeof v.unit, "%%");
    v.is_number = true;
    v.number = 0.53;
    v.timestamp_ns = T0;
    assert_int_equal(sw_influx_inverter_value_line(buf, sizeof buf, &v, 0, SW_INFLUX_PRECISION_S, NULL), SW_OK);
    lp_parse(buf, &l);
    assert_string_equal(l.measurement, "sunwire_inverter_value");
    assert_string_equal(lp_tag(&l, "object"), "battery.soc");
    assert_string_equal(lp_tag(&l, "unit"), "%");
    assert_true(lp_field(&l, "value")->f == 0.53);
    assert_true(l.ts == T0 / 1000000000);
    v.is_number = false;
    v.text = "Feed in \"grid\"\\";
    assert_int_equal(sw_influx_inverter_value_line(buf, sizeof buf, &v, 0, SW_INFLUX_PRECISION_S, NULL), SW_OK);
    lp_parse(buf, &l);
    assert_string_equal(lp_field(&l, "text")->s, "Feed in \"grid\"\\");

    sw_string_agg s = { .name = "west", .panels = 8, .online = 7, .power_sum_w = 1500.5 };
    assert_int_equal(sw_influx_string_line(buf, sizeof buf, &s, T0, SW_INFLUX_PRECISION_NS, NULL), SW_OK);
    lp_parse(buf, &l);
    assert_true(lp_field(&l, "panels")->i == 8);
    assert_true(lp_field(&l, "power_sum")->f == 1500.5);
    assert_true(l.ts == T0);

    sw_source_status st;
    memset(&st, 0, sizeof st);
    snprintf(st.name, sizeof st.name, "bus");
    st.frames = 123456789012ULL;
    st.crc_errors = 7;
    assert_int_equal(sw_influx_source_line(buf, sizeof buf, &st, T0, SW_INFLUX_PRECISION_US, NULL), SW_OK);
    lp_parse(buf, &l);
    assert_true(lp_field(&l, "frames")->i == 123456789012LL);
    assert_true(lp_field(&l, "crc_errors")->i == 7);

    assert_int_equal(sw_influx_event_line(buf, sizeof buf, "power report", "{\"a\":\"b\\\\c\"}", T0,
                                          SW_INFLUX_PRECISION_NS, NULL),
                     SW_OK);
    lp_parse(buf, &l);
    assert_string_equal(lp_tag(&l, "kind"), "power report");
    assert_string_equal(lp_field(&l, "json")->s, "{\"a\":\"b\\\\c\"}");
}

static void test_config(void **state)
{
    (void)state;
    sw_influx_config c;
    char err[200];
    sw_influx_config_defaults(&c);
    assert_int_equal(c.dest, SW_INFLUX_DEST_STDOUT);
    assert_int_equal(sw_influx_config_set(&c, "url", "http://127.0.0.1:8086", err, sizeof err), SW_OK);
    assert_int_equal(c.dest, SW_INFLUX_DEST_HTTP);
    assert_int_equal(sw_influx_config_set(&c, "precision", "ms", err, sizeof err), SW_OK);
    assert_int_equal(c.precision, SW_INFLUX_PRECISION_MS);
    assert_int_equal(sw_influx_config_set(&c, "batch_lines", "10", err, sizeof err), SW_OK);
    assert_int_equal(c.batch_lines, 10);
    assert_int_equal(sw_influx_config_set(&c, "output", "file", err, sizeof err), SW_OK);
    assert_int_equal(c.dest, SW_INFLUX_DEST_FILE);
    static const char *const bad[][2] = {
        { "precision", "minutes" }, { "output", "kafka" }, { "batch_lines", "0" }, { "batch_lines", "-1" },
        { "flush_ms", "soon" },     { "max_buffer", "12" }, { "enable", "perhaps" }, { "bucket_name", "x" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(sw_influx_config_set(&c, bad[i][0], bad[i][1], err, sizeof err), SW_ERR_INVALID_ARGUMENT);
        /* The message names the key the user has to fix. */
        assert_non_null(strstr(err, bad[i][0]));
    }
}

static void test_file_sink(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/sw-influx-XXXXXX", tmp && *tmp ? tmp : ".");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/lines.txt", dir);
    FILE *pre = fopen(path, "w");
    fputs("existing line\n", pre);
    fclose(pre);

    sw_loop *loop = sw_loop_new();
    sw_influx_config c;
    char err[200];
    sw_influx_config_defaults(&c);
    assert_int_equal(sw_influx_config_set(&c, "file", path, err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&c, "precision", "s", err, sizeof err), SW_OK);
    sw_sink sink;
    assert_int_equal(sw_influx_start(loop, NULL, &c, &sink), SW_OK);
    json_t *root = tu_load_json("tigo/power_reports.json");
    json_t *cases = tu_get(root, "cases");
    size_t n = json_array_size(cases);
    for (size_t i = 0; i < n; i++) {
        sw_panel p;
        panel_from_case(json_array_get(cases, i), i, &p);
        sink.ops->on_panel(sink.self, &p);
    }
    sw_event ev = { .kind = SW_EVENT_INFRASTRUCTURE, .source = "roof", .time_ns = T0 };
    ev.u.infrastructure.gateway = 4609;
    ev.u.infrastructure.cause = "node_table";
    sink.ops->on_event(sink.self, &ev);
    sw_influx_counters st;
    sw_influx_get_counters(sink.self, &st);
    assert_int_equal(st.lines, n + 1);
    assert_int_equal(st.dropped, 0);
    sink.ops->close(sink.self);
    sw_loop_free(loop);

    /* Appended after what was there, one parseable line per update. */
    FILE *fp = fopen(path, "r");
    char line[2048];
    assert_non_null(fgets(line, sizeof line, fp));
    assert_string_equal(line, "existing line\n");
    size_t got = 0;
    while (fgets(line, sizeof line, fp)) {
        lp_line l;
        lp_parse(line, &l);
        if (got < n) {
            assert_string_equal(l.measurement, "sunwire_panel");
            assert_true(l.ts == (T0 + (int64_t)got) / 1000000000);
        } else {
            assert_string_equal(l.measurement, "sunwire_event");
        }
        got++;
    }
    fclose(fp);
    assert_int_equal(got, n + 1);
    unlink(path);
    rmdir(dir);
    json_decref(root);
}

/* Problems raised in a model reach the file as sunwire_problem lines, at the time of each change. */
static void test_problems(void **state)
{
    (void)state;
    char buf[1024];
    lp_line l;
    sw_problem p;
    memset(&p, 0, sizeof p);
    p.kind = SW_PROBLEM_NO_POWER;
    p.subject_kind = SW_SUBJECT_PANEL;
    snprintf(p.subject, sizeof p.subject, "4-C3F1A2B");
    snprintf(p.name, sizeof p.name, "South 3");
    snprintf(p.reason, sizeof p.reason, "0.2 W, \"peers\" 300 W");
    p.active = true;
    p.since_ns = p.updated_ns = T0;
    /* Site-wide: no source, so no empty source tag (InfluxDB refuses those). */
    assert_int_equal(sw_influx_problem_line(buf, sizeof buf, &p, SW_INFLUX_PRECISION_NS, NULL), SW_OK);
    assert_null(strstr(buf, "source="));
    lp_parse(buf, &l);
    assert_string_equal(l.measurement, "sunwire_problem");
    assert_string_equal(lp_tag(&l, "kind"), "no_power");
    assert_string_equal(lp_tag(&l, "subject_kind"), "panel");
    assert_string_equal(lp_tag(&l, "subject"), "4-C3F1A2B");
    assert_true(lp_field(&l, "active")->b);
    assert_string_equal(lp_field(&l, "reason")->s, "0.2 W, \"peers\" 300 W");
    assert_true(lp_field(&l, "since_ns")->i == T0);
    assert_true(l.ts == T0);

    const char *tmp = getenv("TMPDIR");
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/sw-influx-XXXXXX", tmp && *tmp ? tmp : ".");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/lines.txt", dir);
    sw_loop *loop = sw_loop_new();
    sw_model *m = sw_model_new(NULL);
    sw_influx_config c;
    char err[200];
    sw_influx_config_defaults(&c);
    assert_int_equal(sw_influx_config_set(&c, "file", path, err, sizeof err), SW_OK);
    sw_sink sink;
    assert_int_equal(sw_influx_start(loop, m, &c, &sink), SW_OK);
    assert_int_equal(sw_model_add_sink(m, sink), SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "South 3", "71 C", T0), SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", "South 3", "71 C", T0 + 10),
                     SW_OK); /* no news: no line */
    assert_int_equal(sw_model_problem_clear(m, SW_PROBLEM_HOT, "roof", "4-C3F1A2B", T0 + 60000000000), SW_OK);
    sw_model_free(m); /* closes its sinks */
    sw_loop_free(loop);

    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[2048];
    size_t got = 0;
    while (fgets(line, sizeof line, fp)) {
        lp_parse(line, &l);
        assert_string_equal(l.measurement, "sunwire_problem");
        assert_string_equal(lp_tag(&l, "kind"), "hot");
        assert_string_equal(lp_tag(&l, "source"), "roof");
        assert_int_equal(lp_field(&l, "active")->b, got == 0);
        assert_true(l.ts == (got == 0 ? T0 : T0 + 60000000000));
        assert_true(lp_field(&l, "since_ns")->i == T0);
        got++;
    }
    fclose(fp);
    assert_int_equal(got, 2);
    unlink(path);
    rmdir(dir);
}

/* A port on loopback where nobody listens: bound, then released. */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/*
 * While InfluxDB is unreachable the waiting lines stay within max_buffer: the
 * oldest are dropped and counted, the newest are kept for the retry.
 */
static void test_http_buffer_is_bounded(void **state)
{
    (void)state;
    sw_log_set_level(SW_LOG_OFF); /* the failed delivery at close is expected here */
    sw_loop *loop = sw_loop_new();
    sw_influx_config c;
    char err[200], url[64];
    sw_influx_config_defaults(&c);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", dead_port());
    assert_int_equal(sw_influx_config_set(&c, "url", url, err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&c, "bucket", "b", err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&c, "max_buffer", "4096", err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&c, "timeout_ms", "500", err, sizeof err), SW_OK);
    sw_sink sink;
    assert_int_equal(sw_influx_start(loop, NULL, &c, &sink), SW_OK);
    json_t *root = tu_load_json("tigo/power_reports.json");
    json_t *cases = tu_get(root, "cases");
    size_t sent = 0, sizes[4096];
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < json_array_size(cases); i++) {
            sw_panel p;
            char line[1024];
            size_t n;
            panel_from_case(json_array_get(cases, i), i, &p);
            sink.ops->on_panel(sink.self, &p);
            assert_int_equal(sw_influx_panel_line(line, sizeof line, &p, 0, SW_INFLUX_PRECISION_NS, &n), SW_OK);
            assert_true(sent < sizeof sizes / sizeof *sizes);
            sizes[sent++] = n;
        }
    }
    sw_influx_counters st;
    sw_influx_get_counters(sink.self, &st);
    assert_int_equal(st.lines, sent);
    assert_int_equal(st.written, 0);
    /* Every line is either waiting or counted as dropped. */
    assert_true(st.waiting > 0 && st.waiting < sent);
    assert_int_equal(st.dropped + st.waiting, sent);
    /* The waiting lines are the newest ones: their sizes fit the bound, and dropping went in
     * chunks of at least a sixteenth, so not much more than that would have fit. */
    size_t kept = 0;
    for (size_t k = sent - st.waiting; k < sent; k++)
        kept += sizes[k];
    assert_true(kept <= 4096);
    assert_true(kept + sizes[sent - st.waiting - 1] > 4096 - 4096 / 16 - 1024);
    sink.ops->close(sink.self);
    sw_loop_free(loop);
    json_decref(root);
    sw_log_set_level(SW_LOG_WARN);
}

static void test_config_v1(void **state)
{
    (void)state;
    sw_influx_config c;
    char err[200];
    sw_influx_config_defaults(&c);
    assert_int_equal(c.api, SW_INFLUX_API_V2);
    assert_int_equal(sw_influx_config_set(&c, "api", "v1", err, sizeof err), SW_OK);
    assert_int_equal(c.api, SW_INFLUX_API_V1);
    assert_int_equal(sw_influx_config_set(&c, "db", "solar", err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&c, "rp", "autogen", err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&c, "user", "sun", err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&c, "password", "p w", err, sizeof err), SW_OK);
    assert_string_equal(c.db, "solar");
    assert_string_equal(c.rp, "autogen");
    assert_string_equal(c.user, "sun");
    assert_string_equal(c.password, "p w");
    err[0] = '\0';
    assert_int_equal(sw_influx_config_set(&c, "api", "v3", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "api"));
    /* v1 over HTTP needs a database, not a bucket. */
    sw_loop *loop = sw_loop_new();
    sw_sink sink;
    sw_influx_config d;
    sw_influx_config_defaults(&d);
    assert_int_equal(sw_influx_config_set(&d, "url", "http://127.0.0.1:1", err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&d, "api", "v1", err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_config_set(&d, "bucket", "b", err, sizeof err), SW_OK);
    assert_int_equal(sw_influx_start(loop, NULL, &d, &sink), SW_ERR_INVALID_ARGUMENT);
    sw_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping_round_trip),
        cmocka_unit_test(test_escaping_exact),
        cmocka_unit_test(test_numbers_and_limits),
        cmocka_unit_test(test_precision),
        cmocka_unit_test(test_panel_lines_from_vectors),
        cmocka_unit_test(test_other_records),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_file_sink),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_http_buffer_is_bounded),
        cmocka_unit_test(test_config_v1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
