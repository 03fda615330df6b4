/*
 * Unit tests for the Prometheus renderer: a real model filled from the Tigo
 * power-report vectors is rendered, and the text is read back by a strict
 * parser of the exposition format written here (not the renderer's code).
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "model/model.h"
#include "sink/sink_prometheus.h"
#include "testutil.h"

#define T0 INT64_C(1763700000000000000)
#define MAX_LABELS 12
/* cmocka 1.1 has no assert_double_equal. */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

typedef struct psample {
    char name[128];
    int nl;
    char key[MAX_LABELS][32];
    char val[MAX_LABELS][256];
    double v;
} psample;

typedef struct pfamily {
    char name[128];
    char type[16];
    bool help;
} pfamily;

typedef struct parsed {
    psample *s;
    size_t n, cap;
    pfamily fam[256];
    size_t nfam;
} parsed;

static bool metric_name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return false;
    return true;
}

static pfamily *find_family(parsed *p, const char *name)
{
    for (size_t i = 0; i < p->nfam; i++)
        if (strcmp(p->fam[i].name, name) == 0)
            return &p->fam[i];
    return NULL;
}

/* Parse the whole text; fails the test on any line that is neither a comment nor a sample. */
static void parse_exposition(const char *text, parsed *p)
{
    memset(p, 0, sizeof *p);
    const char *cur_family = NULL;
    assert_true(strlen(text) > 0);
    assert_int_equal(text[strlen(text) - 1], '\n');
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        size_t len = (size_t)(end - line);
        assert_true(len > 0);
        if (line[0] == '#') {
            char kind[8], name[128], rest[512];
            int got = sscanf(line, "# %7s %127s %511[^\n]", kind, name, rest);
            assert_int_equal(got, 3);
            assert_true(metric_name_ok(name, strlen(name)));
            pfamily *f = find_family(p, name);
            if (strcmp(kind, "HELP") == 0) {
                /* HELP comes first, exactly once per family. */
                assert_null(f);
                assert_true(p->nfam < 256);
                f = &p->fam[p->nfam++];
                snprintf(f->name, sizeof f->name, "%s", name);
                f->help = true;
            } else {
                assert_string_equal(kind, "TYPE");
                assert_non_null(f);
                assert_string_equal(f->type, "");
                assert_true(strcmp(rest, "gauge") == 0 || strcmp(rest, "counter") == 0);
                snprintf(f->type, sizeof f->type, "%.15s", rest);
                if (strcmp(rest, "counter") == 0)
                    assert_true(len > 6 && strstr(name, "_total") == name + strlen(name) - 6);
            }
            cur_family = f->name;
        } else {
            if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 256;
                p->s = realloc(p->s, p->cap * sizeof *p->s);
                assert_non_null(p->s);
            }
            psample *s = &p->s[p->n++];
            memset(s, 0, sizeof *s);
            const char *c = line;
            while (c < end && *c != '{' && *c != ' ')
                c++;
            assert_true(metric_name_ok(line, (size_t)(c - line)));
            snprintf(s->name, sizeof s->name, "%.*s", (int)(c - line), line);
            /* Every sample belongs to the family announced just before it. */
            assert_non_null(cur_family);
            assert_string_equal(s->name, cur_family);
            if (*c == '{') {
                c++;
                while (*c != '}') {
                    assert_true(s->nl < MAX_LABELS);
                    const char *k = c;
                    while (c < end && *c != '=')
                        c++;
                    assert_true(metric_name_ok(k, (size_t)(c - k)));
                    snprintf(s->key[s->nl], 32, "%.*s", (int)(c - k), k);
                    assert_int_equal(*c++, '=');
                    assert_int_equal(*c++, '"');
                    size_t o = 0;
                    while (c < end && *c != '"') {
                        char ch = *c++;
                        if (ch == '\\') {
                            assert_true(c < end);
                            ch = *c++;
                            assert_true(ch == '\\' || ch == '"' || ch == 'n');
                            if (ch == 'n')
                                ch = '\n';
                        }
                        assert_true(o < 255);
                        s->val[s->nl][o++] = ch;
                    }
                    assert_int_equal(*c++, '"');
                    s->nl++;
                    if (*c == ',')
                        c++;
                    else
                        assert_int_equal(*c, '}');
                }
                c++;
            }
            assert_int_equal(*c++, ' ');
            char num[64];
            snprintf(num, sizeof num, "%.*s", (int)(end - c), c);
            if (strcmp(num, "+Inf") == 0)
                s->v = INFINITY;
            else if (strcmp(num, "-Inf") == 0)
                s->v = -INFINITY;
            else if (strcmp(num, "NaN") == 0)
                s->v = NAN;
            else {
                char *e;
                s->v = strtod(num, &e);
                assert_true(*num && *e == '\0');
            }
        }
        line = end + 1;
    }
    /* Samples are contiguous per family: each must match the family announced last,
     * and a family's HELP may appear only once, so a name can never come back. */
    for (size_t i = 0; i < p->nfam; i++)
        assert_true(p->fam[i].type[0] != '\0');
}

static const char *label(const psample *s, const char *key)
{
    for (int i = 0; i < s->nl; i++)
        if (strcmp(s->key[i], key) == 0)
            return s->val[i];
    return NULL;
}

/* The one sample of `name` whose label `key` is `val`; fails when not exactly one. */
static const psample *find1(const parsed *p, const char *name, const char *key, const char *val)
{
    const psample *hit = NULL;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->s[i].name, name) != 0)
            continue;
        const char *l = key ? label(&p->s[i], key) : NULL;
        if (key && (!l || strcmp(l, val) != 0))
            continue;
        if (hit)
            fail_msg("two samples of %s with %s=%s", name, key ? key : "-", val ? val : "-");
        hit = &p->s[i];
    }
    if (!hit)
        fail_msg("no sample of %s with %s=%s", name, key ? key : "-", val ? val : "-");
    return hit;
}

static size_t count_samples(const parsed *p, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += strcmp(p->s[i].name, name) == 0;
    return n;
}

/* ---- a model filled from the vectors ------------------------------------------- */

static const char *const odd_names[] = { "roof \"east\" 1", "back\\slash", "two\nlines" };

static sw_model *vector_model(json_t **cases_out, size_t *n_out)
{
    sw_model *m = sw_model_new(NULL);
    assert_non_null(m);
    sw_model_set_started_ns(m, T0);
    json_t *root = tu_load_json("tigo/power_reports.json");
    json_t *cases = tu_get(root, "cases");
    size_t n = json_array_size(cases);
    assert_true(n >= 10);

    sw_panel_map_entry map[3];
    memset(map, 0, sizeof map);
    for (int i = 0; i < 3; i++) {
        snprintf(map[i].barcode, sizeof map[i].barcode, "B-%07d", i + 1);
        snprintf(map[i].name, sizeof map[i].name, "%s", odd_names[i]);
        snprintf(map[i].string_name, sizeof map[i].string_name, "%s", i < 2 ? "south" : "we\"st");
    }
    assert_int_equal(sw_model_set_panel_map(m, map, 3), SW_OK);

    sw_source_status *src = sw_model_source(m, "bus", SW_SOURCE_TIGO_TCP, "192.0.2.10:502");
    assert_non_null(src);
    src->connected = true;
    src->frames = 1000;
    src->crc_errors = 3;
    src->resyncs = 2;
    src->reconnects = 1;
    sw_model_source_changed(m, src, T0);

    sw_gateway g;
    memset(&g, 0, sizeof g);
    snprintf(g.source, sizeof g.source, "bus");
    g.gateway_id = 4609;
    snprintf(g.address, sizeof g.address, "04:C0:5B:30:00:02:BE:16");
    snprintf(g.version, sizeof g.version, "Mgate Version G8.59\\r");
    assert_int_equal(sw_model_gateway_set(m, &g, T0), SW_OK);

    for (size_t i = 0; i < n; i++) {
        json_t *ph = tu_get(json_array_get(cases, i), "physical");
        char bc[32];
        snprintf(bc, sizeof bc, "B-%07zu", i + 1);
        sw_panel_report r = {
            .time_ns = T0 + (int64_t)i * 1000000,
            .voltage_in = tu_real(ph, "voltage_in"),
            .voltage_out = tu_real(ph, "voltage_out"),
            .current_in = tu_real(ph, "current"),
            .duty_cycle = tu_real(ph, "dc_dc_duty_cycle"),
            .temperature_c = tu_real(ph, "temperature"),
            .rssi = (int)tu_int(ph, "rssi"),
            .barcode = bc,
        };
        assert_int_equal(sw_model_panel_report(m, "bus", 4609, (uint16_t)(i + 1), &r), SW_OK);
    }

    sw_inverter inv;
    memset(&inv, 0, sizeof inv);
    snprintf(inv.name, sizeof inv.name, "garage");
    snprintf(inv.host, sizeof inv.host, "192.0.2.20");
    inv.port = 8899;
    snprintf(inv.serial, sizeof inv.serial, "S123");
    inv.online = true;
    inv.last_poll_ns = T0;
    assert_int_equal(sw_model_inverter_set(m, &inv, T0), SW_OK);
    static const struct { uint32_t id; const char *name, *unit; double v; const char *text; } vals[] = {
        { 0x959930BF, "battery.soc", "%", 0.5, NULL },
        { 0x1AC87AA0, "g_sync.p_ac_load_sum_lp", "W", 812.5, NULL },
        { 0xB1EF67CE, "energy.e_ac_total", "Wh", 1.25e7, NULL },
        { 0xBD55905F, "energy.e_ac_day", "Wh", 3456.0, NULL },
        { 0x44D4C533, "energy.e_grid_feed_total", "Wh", -2.5e6, NULL },
        { 0x4BC0F974, "buf_v_control.power_reduction", "P/Pn", 0.75, NULL },
        { 0x3C24F3E8, "inv_struct.cosinus_phi", "cos(Phi)", 0.98, NULL },
        { 0xB57B59BD, "battery.ah_capacity", "Ah", 144.0, NULL },
        { 0x5F33284E, "prim_sm.state", "", 0, "Feed \"in\"" },
    };
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        sw_inverter_value v;
        memset(&v, 0, sizeof v);
        snprintf(v.inverter, sizeof v.inverter, "garage");
        v.object_id = vals[i].id;
        snprintf(v.object_name, sizeof v.object_name, "%s", vals[i].name);
        snprintf(v.unit, sizeof v.unit, "%s", vals[i].unit);
        v.is_number = vals[i].text == NULL;
        v.number = vals[i].v;
        v.text = vals[i].text ? vals[i].text : "";
        v.timestamp_ns = T0;
        assert_int_equal(sw_model_inverter_value_set(m, &v), SW_OK);
    }
    *cases_out = root;
    *n_out = n;
    return m;
}

static void render_parse(const sw_model *m, parsed *p)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(sw_prometheus_render(m, &text, &len), SW_OK);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    parse_exposition(text, p);
    free(text);
}

static void test_panels_from_vectors(void **state)
{
    (void)state;
    json_t *root;
    size_t n;
    sw_model *m = vector_model(&root, &n);
    parsed p;
    render_parse(m, &p);
    json_t *cases = tu_get(root, "cases");
    for (size_t i = 0; i < n; i++) {
        json_t *ph = tu_get(json_array_get(cases, i), "physical");
        char node[24];
        snprintf(node, sizeof node, "%zu", i + 1);
        double vin = tu_real(ph, "voltage_in"), cur = tu_real(ph, "current");
        assert_near(find1(&p, "sunwire_panel_input_volts", "node", node)->v, vin, 1e-9);
        assert_near(find1(&p, "sunwire_panel_output_volts", "node", node)->v, tu_real(ph, "voltage_out"),
                            1e-9);
        assert_near(find1(&p, "sunwire_panel_input_amperes", "node", node)->v, cur, 1e-9);
        assert_near(find1(&p, "sunwire_panel_power_watts", "node", node)->v, vin * cur, 1e-9);
        assert_near(find1(&p, "sunwire_panel_duty_cycle_ratio", "node", node)->v,
                            tu_real(ph, "dc_dc_duty_cycle"), 1e-9);
        assert_near(find1(&p, "sunwire_panel_temperature_celsius", "node", node)->v,
                            tu_real(ph, "temperature"), 1e-9);
        assert_near(find1(&p, "sunwire_panel_rssi", "node", node)->v, (double)tu_int(ph, "rssi"), 0);
        assert_near(find1(&p, "sunwire_panel_online", "node", node)->v, 1, 0);
        /* Energy in joules, from the model's watt-hours. */
        const sw_panel *mp = sw_model_panel_find(m, "bus", 4609, (uint16_t)(i + 1));
        assert_true(mp->energy_total_wh >= 0);
        assert_near(find1(&p, "sunwire_panel_energy_joules_total", "node", node)->v, mp->energy_total_wh * 3600,
                    1e-9);
        assert_near(find1(&p, "sunwire_panel_energy_today_joules", "node", node)->v, mp->energy_today_wh * 3600,
                    1e-9);
        const psample *s = find1(&p, "sunwire_panel_info", "node", node);
        assert_string_equal(label(s, "source"), "bus");
        assert_string_equal(label(s, "gateway"), "4609");
        char bc[32];
        snprintf(bc, sizeof bc, "B-%07zu", i + 1);
        assert_string_equal(label(s, "barcode"), bc);
        /* The barcode came with the first report, so it is the panel's series id. */
        assert_string_equal(label(s, "panel"), bc);
        /* A value series carries only the labels that never change for its panel. */
        const psample *pw = find1(&p, "sunwire_panel_power_watts", "node", node);
        assert_int_equal(pw->nl, 4);
        assert_string_equal(label(pw, "source"), "bus");
        assert_string_equal(label(pw, "gateway"), "4609");
        assert_string_equal(label(pw, "panel"), bc);
        /* Mapped panels carry their (escaped, then unescaped here) names and strings. */
        if (i < 3) {
            assert_string_equal(label(s, "name"), odd_names[i]);
            assert_string_equal(label(s, "string"), i < 2 ? "south" : "we\"st");
            assert_string_equal(label(s, "mapped"), "true");
        } else {
            assert_string_equal(label(s, "string"), "");
            assert_string_equal(label(s, "mapped"), "false");
        }
    }
    assert_int_equal(count_samples(&p, "sunwire_panel_power_watts"), n);
    assert_int_equal(count_samples(&p, "sunwire_panel_energy_joules_total"), n);
    assert_string_equal(find_family(&p, "sunwire_panel_energy_joules_total")->type, "counter");
    assert_string_equal(find_family(&p, "sunwire_panel_power_watts")->type, "gauge");
    free(p.s);
    json_decref(root);
    sw_model_free(m);
}

static void test_strings_sources_inverters(void **state)
{
    (void)state;
    json_t *root;
    size_t n;
    sw_model *m = vector_model(&root, &n);
    parsed p;
    render_parse(m, &p);
    json_t *cases = tu_get(root, "cases");
    double south = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *ph = tu_get(json_array_get(cases, i), "physical");
        double w = tu_real(ph, "voltage_in") * tu_real(ph, "current");
        total += w;
        if (i < 2)
            south += w;
    }
    assert_near(find1(&p, "sunwire_string_power_watts", "string", "south")->v, south, 1e-6);
    assert_near(find1(&p, "sunwire_string_power_watts", "string", "total")->v, total, 1e-6);
    assert_near(find1(&p, "sunwire_string_panels", "string", "we\"st")->v, 1, 0);
    assert_near(find1(&p, "sunwire_string_panels", "string", "total")->v, (double)n, 0);

    assert_near(find1(&p, "sunwire_source_frames_total", "source", "bus")->v, 1000, 0);
    assert_near(find1(&p, "sunwire_source_crc_errors_total", "source", "bus")->v, 3, 0);
    assert_near(find1(&p, "sunwire_source_resyncs_total", "source", "bus")->v, 2, 0);
    assert_near(find1(&p, "sunwire_source_reconnects_total", "source", "bus")->v, 1, 0);
    assert_near(find1(&p, "sunwire_source_connected", "source", "bus")->v, 1, 0);
    assert_string_equal(label(find1(&p, "sunwire_source_info", "source", "bus"), "kind"), "tigo-tcp");
    const psample *g = find1(&p, "sunwire_gateway_info", "gateway", "4609");
    assert_string_equal(label(g, "version"), "Mgate Version G8.59\\r");
    assert_string_equal(label(g, "address"), "04:C0:5B:30:00:02:BE:16");

    assert_string_equal(label(find1(&p, "sunwire_inverter_info", "inverter", "garage"), "serial"), "S123");
    assert_near(find1(&p, "sunwire_inverter_online", "inverter", "garage")->v, 1, 0);
    /* Values land in the family of their unit; energy counters only when the object is a total. */
    /* In base units: percent (as the model carries it) as a ratio, watt-hours as joules. */
    assert_near(find1(&p, "sunwire_inverter_ratio", "object", "battery.soc")->v, 0.005, 1e-12);
    assert_near(find1(&p, "sunwire_inverter_watts", "object", "g_sync.p_ac_load_sum_lp")->v, 812.5, 0);
    assert_near(find1(&p, "sunwire_inverter_energy_joules_total", "object", "energy.e_ac_total")->v,
                        1.25e7 * 3600, 0);
    assert_near(find1(&p, "sunwire_inverter_energy_joules", "object", "energy.e_ac_day")->v, 3456 * 3600, 0);
    /* Feed-in, counted negative by the device, is a counter that grows. */
    assert_near(find1(&p, "sunwire_inverter_energy_joules_total", "object", "energy.e_grid_feed_total")->v,
                2.5e6 * 3600, 0);
    assert_int_equal(count_samples(&p, "sunwire_inverter_energy_joules_total"), 2);
    /* Units without a base unit of their own keep their value and say their unit. */
    const psample *o = find1(&p, "sunwire_inverter_value", "object", "buf_v_control.power_reduction");
    assert_string_equal(label(o, "unit"), "P/Pn");
    assert_near(o->v, 0.75, 0);
    o = find1(&p, "sunwire_inverter_value", "object", "inv_struct.cosinus_phi");
    assert_string_equal(label(o, "unit"), "cos(Phi)");
    assert_near(o->v, 0.98, 0);
    assert_near(find1(&p, "sunwire_inverter_coulombs", "object", "battery.ah_capacity")->v, 144.0 * 3600, 0);
    assert_string_equal(label(find1(&p, "sunwire_inverter_text_info", "object", "prim_sm.state"), "text"),
                        "Feed \"in\"");
    assert_near(find1(&p, "sunwire_start_time_seconds", NULL, NULL)->v, (double)T0 / 1e9, 1e-3);
    free(p.s);
    json_decref(root);
    sw_model_free(m);
}

/* Every counter series of a later scrape is at least what it was before. */
static void test_counters_monotonic(void **state)
{
    (void)state;
    json_t *root;
    size_t n;
    sw_model *m = vector_model(&root, &n);
    parsed a, b;
    render_parse(m, &a);
    for (int round = 1; round <= 5; round++) {
        for (size_t i = 0; i < n; i++) {
            sw_panel_report r = { .time_ns = T0 + (int64_t)round * 30000000000 + (int64_t)i,
                                  .voltage_in = 30 + round, .voltage_out = 30, .current_in = 5,
                                  .duty_cycle = 1, .temperature_c = 20, .rssi = 100 };
            assert_int_equal(sw_model_panel_report(m, "bus", 4609, (uint16_t)(i + 1), &r), SW_OK);
        }
        sw_source_status *src = sw_model_source_find(m, "bus");
        src->frames += 10;
        sw_model_source_changed(m, src, T0 + round);
    }
    render_parse(m, &b);
    size_t compared = 0, grew = 0;
    for (size_t i = 0; i < a.n; i++) {
        pfamily *f = find_family(&a, a.s[i].name);
        if (strcmp(f->type, "counter") != 0)
            continue;
        for (size_t j = 0; j < b.n; j++) {
            if (strcmp(a.s[i].name, b.s[j].name) != 0 || a.s[i].nl != b.s[j].nl)
                continue;
            bool same = true;
            for (int k = 0; k < a.s[i].nl && same; k++)
                same = strcmp(a.s[i].key[k], b.s[j].key[k]) == 0 && strcmp(a.s[i].val[k], b.s[j].val[k]) == 0;
            if (!same)
                continue;
            assert_true(b.s[j].v >= a.s[i].v);
            compared++;
            grew += b.s[j].v > a.s[i].v;
        }
    }
    assert_true(compared > n);
    /* Energy was integrated and frames counted, so counters really moved. */
    assert_true(grew > n);
    /* The integrated energy goes out in joules: the model's watt-hours times 3600. */
    const sw_panel *p1 = sw_model_panel_find(m, "bus", 4609, 1);
    assert_true(p1->energy_total_wh > 0);
    assert_near(find1(&b, "sunwire_panel_energy_joules_total", "node", "1")->v, p1->energy_total_wh * 3600, 1e-6);
    const sw_string_agg *tot = sw_model_string_find(m, "total");
    assert_near(find1(&b, "sunwire_string_energy_joules_total", "string", "total")->v, tot->energy_total_wh * 3600,
                1e-6);
    free(a.s);
    free(b.s);
    json_decref(root);
    sw_model_free(m);
}

/* Every sample of the panel at `node` (its info series aside), as "name{labels}" lines. */
static size_t panel_series(const parsed *p, const char *node, char out[][512], size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        const psample *s = &p->s[i];
        const char *nd = label(s, "node");
        if (!nd || strcmp(nd, node) != 0 || strcmp(s->name, "sunwire_panel_info") == 0)
            continue;
        assert_true(n < cap);
        size_t len = (size_t)snprintf(out[n], 512, "%s", s->name);
        for (int k = 0; k < s->nl && len < 512; k++)
            len += (size_t)snprintf(out[n] + len, 512 - len, ",%s=%s", s->key[k], s->val[k]);
        assert_true(len < 512);
        n++;
    }
    return n;
}

static void report(sw_model *m, uint16_t node, int64_t t, const char *barcode)
{
    sw_panel_report r = { .time_ns = t, .voltage_in = 32.5, .voltage_out = 31, .current_in = 4.25,
                          .duty_cycle = 0.5, .temperature_c = 25, .rssi = 120, .barcode = barcode };
    assert_int_equal(sw_model_panel_report(m, "bus", 4609, node, &r), SW_OK);
}

/* Learning a barcode (and with it a mapped name and string) mid-run changes no series' labels. */
static void test_stable_panel_label(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    assert_non_null(m);
    sw_panel_map_entry map = { .barcode = "4-A2346FZ", .name = "east 1", .string_name = "east" };
    assert_int_equal(sw_model_set_panel_map(m, &map, 1), SW_OK);
    /* Node 3's barcode is known before its first report (as from the state file). */
    assert_int_equal(sw_model_panel_restore(m, "bus", 4609, 3, "4-B0000C3", 12.5, 0, -1, T0), SW_OK);
    report(m, 2, T0, NULL);
    report(m, 3, T0, NULL);
    parsed a, b;
    render_parse(m, &a);
    assert_string_equal(label(find1(&a, "sunwire_panel_info", "node", "2"), "panel"), "4609-2");
    assert_string_equal(label(find1(&a, "sunwire_panel_info", "node", "2"), "barcode"), "");
    assert_string_equal(label(find1(&a, "sunwire_panel_info", "node", "3"), "panel"), "4-B0000C3");

    /* The node table arrives: node 2 is the mapped panel "east 1". */
    assert_int_equal(sw_model_panel_identity(m, "bus", 4609, 2, "4-A2346FZ", T0 + 1), SW_OK);
    assert_string_equal(sw_model_panel_find(m, "bus", 4609, 2)->name, "east 1");
    render_parse(m, &b);
    const psample *info = find1(&b, "sunwire_panel_info", "node", "2");
    assert_string_equal(label(info, "panel"), "4609-2");
    assert_string_equal(label(info, "barcode"), "4-A2346FZ");
    assert_string_equal(label(info, "name"), "east 1");
    assert_string_equal(label(info, "string"), "east");
    assert_string_equal(label(info, "mapped"), "true");

    static char before[32][512], after[32][512];
    size_t nb = panel_series(&a, "2", before, 32), na = panel_series(&b, "2", after, 32);
    assert_true(nb >= 10);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < nb; i++)
        assert_string_equal(after[i], before[i]);
    /* Energy keeps counting in the same series: the counter is still there with the same labels. */
    assert_near(find1(&b, "sunwire_panel_energy_joules_total", "panel", "4-B0000C3")->v, 12.5 * 3600, 1e-9);
    free(a.s);
    free(b.s);
    sw_model_free(m);
}

static bool has_sample(const parsed *p, const char *name, const char *node)
{
    for (size_t i = 0; i < p->n; i++) {
        const char *nd = label(&p->s[i], "node");
        if (strcmp(p->s[i].name, name) == 0 && nd && strcmp(nd, node) == 0)
            return true;
    }
    return false;
}

/* Node 1 falls silent and goes offline, node 2 keeps reporting. */
static void offline_scrape(sw_night_mode night, parsed *p)
{
    sw_model_options o;
    sw_model_options_defaults(&o);
    o.stale_timeout_ns = INT64_C(600000000000);
    o.night_mode = night;
    sw_model *m = sw_model_new(&o);
    assert_non_null(m);
    report(m, 1, T0, "4-1000001");
    report(m, 1, T0 + INT64_C(30000000000), "4-1000001");
    int64_t t = T0;
    for (int i = 0; i < 30; i++, t += INT64_C(30000000000))
        report(m, 2, t, "4-1000002");
    sw_model_tick(m, t);
    assert_false(sw_model_panel_find(m, "bus", 4609, 1)->online);
    assert_true(sw_model_panel_find(m, "bus", 4609, 2)->online);
    render_parse(m, p);
    sw_model_free(m);
}

static const char *const live_metrics[] = {
    "sunwire_panel_input_volts", "sunwire_panel_output_volts", "sunwire_panel_input_amperes",
    "sunwire_panel_power_watts", "sunwire_panel_duty_cycle_ratio", "sunwire_panel_temperature_celsius",
    "sunwire_panel_rssi",
};
static const char *const kept_metrics[] = {
    "sunwire_panel_energy_joules_total", "sunwire_panel_energy_today_joules", "sunwire_panel_online",
    "sunwire_panel_last_report_timestamp_seconds",
};

static void test_offline_panels(void **state)
{
    (void)state;
    parsed p;
    /* night = unavailable: the offline panel's readings are gone, its energy and status stay. */
    offline_scrape(SW_NIGHT_UNAVAILABLE, &p);
    for (size_t i = 0; i < sizeof live_metrics / sizeof *live_metrics; i++) {
        assert_false(has_sample(&p, live_metrics[i], "1"));
        assert_true(has_sample(&p, live_metrics[i], "2"));
    }
    for (size_t i = 0; i < sizeof kept_metrics / sizeof *kept_metrics; i++) {
        assert_true(has_sample(&p, kept_metrics[i], "1"));
        assert_true(has_sample(&p, kept_metrics[i], "2"));
    }
    assert_near(find1(&p, "sunwire_panel_online", "node", "1")->v, 0, 0);
    assert_true(find1(&p, "sunwire_panel_energy_joules_total", "node", "1")->v > 0);
    free(p.s);

    /* night = zero: voltages, current, power and duty cycle read 0; temperature and signal are gone. */
    offline_scrape(SW_NIGHT_ZERO, &p);
    for (size_t i = 0; i < sizeof live_metrics / sizeof *live_metrics; i++) {
        bool zeroed = strstr(live_metrics[i], "temperature") == NULL && strstr(live_metrics[i], "rssi") == NULL;
        assert_int_equal(has_sample(&p, live_metrics[i], "1"), zeroed);
        if (zeroed)
            assert_near(find1(&p, live_metrics[i], "node", "1")->v, 0, 0);
        assert_true(find1(&p, live_metrics[i], "node", "2")->v > 0);
    }
    for (size_t i = 0; i < sizeof kept_metrics / sizeof *kept_metrics; i++)
        assert_true(has_sample(&p, kept_metrics[i], "1"));
    assert_true(find1(&p, "sunwire_panel_energy_joules_total", "node", "1")->v > 0);
    free(p.s);
}

/* The standard process metrics read this very process. */
static void test_process_metrics(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    parsed a, b;
    render_parse(m, &a);
    FILE *extra = fopen("/proc/self/stat", "r");
    assert_non_null(extra);
    /* Burn 0.1 s of CPU (as the C library counts it), so the counter can be seen to move. */
    clock_t c0 = clock();
    volatile double x = 0;
    while (clock() - c0 < CLOCKS_PER_SEC / 10)
        for (int i = 0; i < 100000; i++)
            x += (double)i * 0.5;
    (void)x;
    render_parse(m, &b);
    fclose(extra);
    assert_string_equal(find_family(&b, "process_cpu_seconds_total")->type, "counter");
    double cpu0 = find1(&a, "process_cpu_seconds_total", NULL, NULL)->v;
    double cpu1 = find1(&b, "process_cpu_seconds_total", NULL, NULL)->v;
    assert_true(cpu0 >= 0 && cpu1 >= cpu0 + 0.05);
    /* One more file open: one more descriptor. */
    assert_near(find1(&b, "process_open_fds", NULL, NULL)->v, find1(&a, "process_open_fds", NULL, NULL)->v + 1, 0);
    double rss = find1(&b, "process_resident_memory_bytes", NULL, NULL)->v;
    double vsz = find1(&b, "process_virtual_memory_bytes", NULL, NULL)->v;
    assert_true(rss > 4096 && rss <= vsz);
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_near(find1(&b, "process_max_fds", NULL, NULL)->v, (double)rl.rlim_cur, 0);
    /* Started before now, and not before the machine booted (within the last year at least). */
    double start = find1(&b, "process_start_time_seconds", NULL, NULL)->v;
    double now = (double)time(NULL);
    assert_true(start <= now + 1 && start > now - 366.0 * 86400);
    free(a.s);
    free(b.s);
    sw_model_free(m);
}

static void test_escape_label(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } cases[] = {
        { "", "" },
        { "plain", "plain" },
        { "a\"b", "a\\\"b" },
        { "a\\b", "a\\\\b" },
        { "a\nb", "a\\nb" },
        { "\\\"\n", "\\\\\\\"\\n" },
        { "tab\there", "tab\there" },
        { "üñí", "üñí" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[64];
        size_t need = sw_prometheus_escape_label(out, sizeof out, cases[i].in);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(need, strlen(cases[i].want));
        /* Too small a buffer still terminates and reports the full length. */
        char small[3];
        assert_int_equal(sw_prometheus_escape_label(small, sizeof small, cases[i].in), need);
        assert_true(strlen(small) <= 2);
    }
}

static void test_empty_model_and_config(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    parsed p;
    render_parse(m, &p);
    assert_int_equal(count_samples(&p, "sunwire_panel_power_watts"), 0);
    assert_int_equal(count_samples(&p, "sunwire_build_info"), 1);
    free(p.s);
    sw_model_free(m);

    sw_prometheus_config c;
    char err[160];
    sw_prometheus_config_defaults(&c);
    assert_string_equal(c.path, "/metrics");
    assert_int_equal(sw_prometheus_config_set(&c, "path", "/prom", err, sizeof err), SW_OK);
    assert_string_equal(c.path, "/prom");
    assert_int_equal(sw_prometheus_config_set(&c, "enable", "yes", err, sizeof err), SW_OK);
    assert_true(c.enable);
    assert_int_equal(sw_prometheus_config_set(&c, "port", "9100", err, sizeof err), SW_OK);
    assert_int_equal(c.port, 9100);
    assert_int_equal(sw_prometheus_config_set(&c, "path", "metrics", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "path"));
    assert_int_equal(sw_prometheus_config_set(&c, "port", "70000", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_prometheus_config_set(&c, "enable", "maybe", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_prometheus_config_set(&c, "colour", "red", err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "colour"));
}

/* Problems raised in the model directly: one sample per record, 1 while active, 0 once cleared. */
static void test_problems(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    parsed p;
    render_parse(m, &p);
    /* Both families exist before any problem, so alert rules find them. */
    assert_non_null(find_family(&p, "sunwire_problem_active"));
    assert_string_equal(find_family(&p, "sunwire_problem_active")->type, "gauge");
    assert_int_equal(count_samples(&p, "sunwire_problem_active"), 0);
    assert_near(find1(&p, "sunwire_problems_active", NULL, NULL)->v, 0, 0);
    free(p.s);

    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_HOT, "roof", "4-2B3C4D5E", "East 3", "71 C, peers 45 C", T0),
                     SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_CONTROLLER_SILENT, "roof", "roof", NULL,
                                            "no \"request\" for 90 s", T0 + 1000000000),
                     SW_OK);
    assert_int_equal(sw_model_problem_raise(m, SW_PROBLEM_CELL_SPREAD, "house", "house/module2", NULL, "61 mV",
                                            T0 + 2000000000),
                     SW_OK);
    assert_int_equal(sw_model_problem_clear(m, SW_PROBLEM_CELL_SPREAD, "house", "house/module2", T0 + 5000000000),
                     SW_OK);
    render_parse(m, &p);
    assert_int_equal(count_samples(&p, "sunwire_problem_active"), 3);
    assert_near(find1(&p, "sunwire_problems_active", NULL, NULL)->v, 2, 0);
    const psample *hot = find1(&p, "sunwire_problem_active", "kind", "hot");
    assert_non_null(hot);
    assert_near(hot->v, 1, 0);
    assert_string_equal(label(hot, "subject"), "4-2B3C4D5E");
    assert_string_equal(label(hot, "subject_kind"), "panel");
    assert_string_equal(label(hot, "source"), "roof");
    const psample *cell = find1(&p, "sunwire_problem_active", "subject", "house/module2");
    assert_non_null(cell);
    assert_near(cell->v, 0, 0);
    assert_string_equal(label(cell, "kind"), "cell_spread");
    assert_string_equal(label(cell, "subject_kind"), "battery");
    const psample *since = find1(&p, "sunwire_problem_since_timestamp_seconds", "kind", "controller_silent");
    assert_non_null(since);
    assert_near(since->v, (double)(T0 + 1000000000) / 1e9, 1e-3);
    free(p.s);
    sw_model_free(m);
}

/* The sample of `name` for (inverter, object) with the given outcome and reason ("" = no reason label). */
static const psample *control_sample(const parsed *p, const char *name, const char *object, const char *outcome,
                                     const char *reason)
{
    const psample *hit = NULL;
    for (size_t i = 0; i < p->n; i++) {
        const psample *s = &p->s[i];
        const char *o = label(s, "object"), *out = label(s, "outcome"), *r = label(s, "reason");
        if (strcmp(s->name, name) != 0 || !o || strcmp(o, object) != 0)
            continue;
        if (outcome && (!out || strcmp(out, outcome) != 0))
            continue;
        if (reason && (*reason ? !r || strcmp(r, reason) != 0 : r != NULL))
            continue;
        if (hit)
            fail_msg("two samples of %s for %s %s %s", name, object, outcome ? outcome : "-", reason ? reason : "-");
        hit = s;
    }
    return hit;
}

/* Control writes from the model's records: counters by outcome and reason, the flash figures, the block. */
static void test_controls(void **state)
{
    (void)state;
    sw_model *m = sw_model_new(NULL);
    parsed p;
    render_parse(m, &p);
    /* Every family exists before any write, so alert rules find them. */
    const char *families[][2] = {
        { "sunwire_control_writes_total", "counter" }, { "sunwire_control_retries_total", "counter" },
        { "sunwire_control_flash_writes_per_day", "gauge" }, { "sunwire_control_flash_writes_left", "gauge" },
        { "sunwire_control_blocked", "gauge" }, { "sunwire_control_blocked_until_timestamp_seconds", "gauge" },
    };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        assert_non_null(find_family(&p, families[i][0]));
        assert_string_equal(find_family(&p, families[i][0])->type, families[i][1]);
        assert_int_equal(count_samples(&p, families[i][0]), 0);
    }
    free(p.s);

    sw_control *a = sw_model_control(m, "house", "power_mng.soc_min");
    a->allowed = true;
    a->writes[SW_CONTROL_VERIFIED] = 3;
    a->writes[SW_CONTROL_RATE_LIMITED] = 2;
    a->writes[SW_CONTROL_IGNORED] = 1;
    a->retries = 4;
    a->flash_per_day = 24;
    a->flash_left = 0;
    a->blocked = true;
    a->blocked_until_ns = T0 + 500000000;
    sw_control *b = sw_model_control(m, "house", "power_mng.soc_max");
    b->allowed = true;
    b->flash_per_day = 24;
    b->flash_left = 20;
    /* Refused only: not allowed, and a command naming no control. */
    sw_model_control(m, "house", "p_rec_lim[1]")->writes[SW_CONTROL_NOT_ALLOWED] = 1;
    sw_model_control(m, "house", NULL)->writes[SW_CONTROL_INVALID] = 5;
    sw_model_control_changed(m, T0);
    render_parse(m, &p);

    const char *wt = "sunwire_control_writes_total";
    assert_int_equal(count_samples(&p, wt), 5); /* only what happened */
    const psample *s = control_sample(&p, wt, "power_mng.soc_min", "verified", "");
    assert_non_null(s);
    assert_near(s->v, 3, 0);
    assert_string_equal(label(s, "inverter"), "house");
    assert_near(control_sample(&p, wt, "power_mng.soc_min", "refused", "rate_limited")->v, 2, 0);
    assert_near(control_sample(&p, wt, "power_mng.soc_min", "failed", "ignored")->v, 1, 0);
    assert_near(control_sample(&p, wt, "p_rec_lim[1]", "refused", "not_allowed")->v, 1, 0);
    assert_near(control_sample(&p, wt, "", "refused", "invalid")->v, 5, 0);
    assert_null(control_sample(&p, wt, "power_mng.soc_max", NULL, NULL));
    /* The other families: one sample per allowed setting; the block's end only while blocked. */
    assert_int_equal(count_samples(&p, "sunwire_control_retries_total"), 2);
    assert_near(control_sample(&p, "sunwire_control_retries_total", "power_mng.soc_min", NULL, NULL)->v, 4, 0);
    assert_near(control_sample(&p, "sunwire_control_retries_total", "power_mng.soc_max", NULL, NULL)->v, 0, 0);
    assert_near(control_sample(&p, "sunwire_control_flash_writes_per_day", "power_mng.soc_max", NULL, NULL)->v, 24, 0);
    assert_near(control_sample(&p, "sunwire_control_flash_writes_left", "power_mng.soc_min", NULL, NULL)->v, 0, 0);
    assert_near(control_sample(&p, "sunwire_control_flash_writes_left", "power_mng.soc_max", NULL, NULL)->v, 20, 0);
    assert_near(control_sample(&p, "sunwire_control_blocked", "power_mng.soc_min", NULL, NULL)->v, 1, 0);
    assert_near(control_sample(&p, "sunwire_control_blocked", "power_mng.soc_max", NULL, NULL)->v, 0, 0);
    assert_null(control_sample(&p, "sunwire_control_blocked", "p_rec_lim[1]", NULL, NULL));
    assert_int_equal(count_samples(&p, "sunwire_control_blocked_until_timestamp_seconds"), 1);
    assert_near(control_sample(&p, "sunwire_control_blocked_until_timestamp_seconds", "power_mng.soc_min", NULL,
                               NULL)->v,
                (double)(T0 + 500000000) / 1e9, 1e-3);
    free(p.s);
    sw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_panels_from_vectors),
        cmocka_unit_test(test_strings_sources_inverters),
        cmocka_unit_test(test_counters_monotonic),
        cmocka_unit_test(test_stable_panel_label),
        cmocka_unit_test(test_offline_panels),
        cmocka_unit_test(test_process_metrics),
        cmocka_unit_test(test_escape_label),
        cmocka_unit_test(test_empty_model_and_config),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
