/*
 * model.c: the live model (see model/model.h).
 *
 * Layer: between the source drivers and the outputs; it includes no sink,
 * loop or daemon header. It trusts its callers
 * for decoded values and wall-clock times, and owns identity (which record a
 * report belongs to), energy bookkeeping and the online/offline decision.
 * Every table is allocated once in sw_model_new so pointers handed out stay
 * valid; a full table refuses new records instead of growing.
 */
#include "model/model.h"
#include "model/fields.h"
#include "model/problem_table.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S INT64_C(1000000000)
#define NS_PER_DAY (INT64_C(86400) * NS_PER_S)

/* What the model remembers about a panel beyond its public record. */
typedef struct panel_priv {
    bool have_prev;
    double prev_power_w;
    int64_t prev_time_ns;
    int64_t day; /* local day today_wh belongs to, -1 = none */
    /* The integrated counters; the public record shows them at once, or once
     * durable with hold_energy (sw_model_energy_publish). */
    double total_wh, today_wh;
} panel_priv;

/* An inverter value's own copies of its text and JSON (grown, never shrunk). */
typedef struct value_text {
    char *text, *json;
    size_t text_cap, json_cap;
} value_text;

struct sw_model {
    sw_model_options opt;
    int64_t started_ns, updated_ns;

    sw_source_status sources[SW_MODEL_MAX_SOURCES];
    size_t n_sources;
    sw_gateway gateways[SW_MODEL_MAX_GATEWAYS];
    size_t n_gateways;

    sw_panel *panels;      /* SW_MODEL_MAX_PANELS */
    panel_priv *ppriv;     /* parallel to panels */
    size_t n_panels;
    double *scratch;       /* SW_MODEL_MAX_PANELS: the peers' energies, for a median */

    sw_string_agg strings[SW_MODEL_MAX_STRINGS];
    size_t n_strings;
    sw_string_agg total;   /* reported after the named strings */

    sw_inverter inverters[SW_MODEL_MAX_INVERTERS];
    size_t n_inverters;
    sw_inverter_value *values; /* SW_MODEL_MAX_INVERTER_VALUES */
    value_text *vtext;         /* parallel to values: the copies their text and json point to */
    size_t n_values;

    sw_panel_map_entry *map;   /* SW_MODEL_MAX_MAP */
    size_t n_map;

    sw_problem_table problems;

    sw_control controls[SW_MODEL_MAX_CONTROLS];
    size_t n_controls;

    sw_sink sinks[SW_MODEL_MAX_SINKS];
    size_t n_sinks;
};

/* Copy text into a fixed array, truncating, and zero the rest so records compare with memcmp. */
static void set_text(char *dst, size_t cap, const char *src)
{
    memset(dst, 0, cap);
    if (src)
        snprintf(dst, cap, "%s", src);
}

void sw_model_options_defaults(sw_model_options *o)
{
    memset(o, 0, sizeof *o);
    o->stale_timeout_ns = 600 * NS_PER_S;
    o->night_mode = SW_NIGHT_UNAVAILABLE;
    o->energy_gap_ns = 300 * NS_PER_S;
    o->performance_min_wh = 10.0;
}

sw_model *sw_model_new(const sw_model_options *opt)
{
    sw_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (opt)
        m->opt = *opt;
    else
        sw_model_options_defaults(&m->opt);
    m->panels = calloc(SW_MODEL_MAX_PANELS, sizeof *m->panels);
    m->ppriv = calloc(SW_MODEL_MAX_PANELS, sizeof *m->ppriv);
    m->scratch = calloc(SW_MODEL_MAX_PANELS, sizeof *m->scratch);
    m->values = calloc(SW_MODEL_MAX_INVERTER_VALUES, sizeof *m->values);
    m->vtext = calloc(SW_MODEL_MAX_INVERTER_VALUES, sizeof *m->vtext);
    m->map = calloc(SW_MODEL_MAX_MAP, sizeof *m->map);
    m->problems.rows = calloc(SW_MODEL_MAX_PROBLEMS, sizeof *m->problems.rows);
    if (!m->panels || !m->ppriv || !m->scratch || !m->values || !m->vtext || !m->map || !m->problems.rows) {
        sw_model_free(m);
        return NULL;
    }
    set_text(m->total.name, sizeof m->total.name, "total");
    return m;
}

void sw_model_free(sw_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_sinks; i++)
        if (m->sinks[i].ops && m->sinks[i].ops->close)
            m->sinks[i].ops->close(m->sinks[i].self);
    free(m->panels);
    free(m->ppriv);
    free(m->scratch);
    for (size_t i = 0; m->vtext && i < m->n_values; i++) {
        free(m->vtext[i].text);
        free(m->vtext[i].json);
    }
    free(m->values);
    free(m->vtext);
    free(m->map);
    free(m->problems.rows);
    free(m);
}

const sw_model_options *sw_model_get_options(const sw_model *m) { return &m->opt; }
void sw_model_set_started_ns(sw_model *m, int64_t ns) { m->started_ns = ns; }

sw_err sw_model_add_sink(sw_model *m, sw_sink sink)
{
    if (!m || !sink.ops)
        return SW_ERR_INVALID_ARGUMENT;
    if (m->n_sinks >= SW_MODEL_MAX_SINKS)
        return SW_ERR_NO_SPACE;
    m->sinks[m->n_sinks++] = sink;
    return SW_OK;
}

size_t sw_model_sink_count(const sw_model *m) { return m->n_sinks; }

/* Each notifier walks the sinks; a sink without the hook simply is not interested. */
#define NOTIFY(m, hook, arg)                                                  \
    do {                                                                      \
        for (size_t i_ = 0; i_ < (m)->n_sinks; i_++) {                        \
            const sw_sink_ops *o_ = (m)->sinks[i_].ops;                       \
            if (o_->hook)                                                     \
                o_->hook((m)->sinks[i_].self, arg);                           \
        }                                                                     \
    } while (0)

static void touch(sw_model *m, int64_t now_ns)
{
    if (now_ns > m->updated_ns)
        m->updated_ns = now_ns;
}

/* ---- accessors (model.h) ---------------------------------------------------- */
size_t sw_model_source_count(const sw_model *m) { return m->n_sources; }
const sw_source_status *sw_model_source_at(const sw_model *m, size_t i)
{
    return i < m->n_sources ? &m->sources[i] : NULL;
}
size_t sw_model_gateway_count(const sw_model *m) { return m->n_gateways; }
const sw_gateway *sw_model_gateway_at(const sw_model *m, size_t i)
{
    return i < m->n_gateways ? &m->gateways[i] : NULL;
}
size_t sw_model_panel_count(const sw_model *m) { return m->n_panels; }
const sw_panel *sw_model_panel_at(const sw_model *m, size_t i)
{
    return i < m->n_panels ? &m->panels[i] : NULL;
}
size_t sw_model_string_count(const sw_model *m) { return m->n_strings + 1; }
const sw_string_agg *sw_model_string_at(const sw_model *m, size_t i)
{
    if (i < m->n_strings)
        return &m->strings[i];
    return i == m->n_strings ? &m->total : NULL;
}
size_t sw_model_inverter_count(const sw_model *m) { return m->n_inverters; }
const sw_inverter *sw_model_inverter_at(const sw_model *m, size_t i)
{
    return i < m->n_inverters ? &m->inverters[i] : NULL;
}
size_t sw_model_inverter_value_count(const sw_model *m) { return m->n_values; }
const sw_inverter_value *sw_model_inverter_value_at(const sw_model *m, size_t i)
{
    return i < m->n_values ? &m->values[i] : NULL;
}
int64_t sw_model_updated_ns(const sw_model *m) { return m->updated_ns; }
int64_t sw_model_started_ns(const sw_model *m) { return m->started_ns; }

/* ---- sources ---------------------------------------------------------------- */
sw_source_status *sw_model_source_find(sw_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_sources; i++)
        if (strcmp(m->sources[i].name, name) == 0)
            return &m->sources[i];
    return NULL;
}

sw_source_status *sw_model_source(sw_model *m, const char *name, sw_source_kind kind, const char *address)
{
    if (!m || !name)
        return NULL;
    sw_source_status *s = sw_model_source_find(m, name);
    if (s)
        return s;
    if (m->n_sources >= SW_MODEL_MAX_SOURCES)
        return NULL;
    s = &m->sources[m->n_sources++];
    memset(s, 0, sizeof *s);
    set_text(s->name, sizeof s->name, name);
    s->kind = kind;
    set_text(s->address, sizeof s->address, address);
    return s;
}

void sw_model_source_changed(sw_model *m, sw_source_status *s, int64_t now_ns)
{
    touch(m, now_ns);
    NOTIFY(m, on_source, s);
}

/* ---- gateways ---------------------------------------------------------------- */
sw_err sw_model_gateway_set(sw_model *m, const sw_gateway *g, int64_t now_ns)
{
    if (!m || !g)
        return SW_ERR_INVALID_ARGUMENT;
    sw_gateway n;
    memset(&n, 0, sizeof n);
    set_text(n.source, sizeof n.source, g->source);
    n.gateway_id = g->gateway_id;
    set_text(n.address, sizeof n.address, g->address);
    set_text(n.barcode, sizeof n.barcode, g->barcode);
    set_text(n.version, sizeof n.version, g->version);

    sw_gateway *slot = NULL;
    for (size_t i = 0; i < m->n_gateways; i++)
        if (m->gateways[i].gateway_id == n.gateway_id && strcmp(m->gateways[i].source, n.source) == 0)
            slot = &m->gateways[i];
    if (!slot) {
        if (m->n_gateways >= SW_MODEL_MAX_GATEWAYS)
            return SW_ERR_NO_SPACE;
        slot = &m->gateways[m->n_gateways++];
    } else if (memcmp(slot, &n, sizeof n) == 0) {
        return SW_OK;
    }
    *slot = n;
    touch(m, now_ns);
    NOTIFY(m, on_gateway, slot);
    return SW_OK;
}

/* ---- strings and the panel map ------------------------------------------------ */
static const sw_panel_map_entry *map_find(const sw_model *m, const char *barcode)
{
    if (!barcode || !barcode[0])
        return NULL;
    for (size_t i = 0; i < m->n_map; i++)
        if (strcmp(m->map[i].barcode, barcode) == 0)
            return &m->map[i];
    return NULL;
}

static sw_string_agg *string_find(sw_model *m, const char *name)
{
    if (!name || !name[0])
        return NULL;
    for (size_t i = 0; i < m->n_strings; i++)
        if (strcmp(m->strings[i].name, name) == 0)
            return &m->strings[i];
    return NULL;
}

const sw_string_agg *sw_model_string_find(const sw_model *m, const char *name)
{
    if (name && strcmp(name, "total") == 0)
        return &m->total;
    return string_find((sw_model *)m, name);
}

/* A panel reading whose spread over a string's online panels the aggregate carries. */
struct spread {
    size_t min, max, avg, sum; /* offsets in sw_string_agg; sum 0 = none */
};

enum { SPREAD_VIN, SPREAD_VOUT, SPREAD_IIN, SPREAD_TEMP, SPREAD_DUTY, SPREAD_RSSI, SPREAD_N };

#define SPREAD(lo, hi, mean, total) \
    { offsetof(sw_string_agg, lo), offsetof(sw_string_agg, hi), offsetof(sw_string_agg, mean), total }
static const struct spread spreads[SPREAD_N] = {
    [SPREAD_VIN] = SPREAD(voltage_in_min, voltage_in_max, voltage_in_avg, offsetof(sw_string_agg, voltage_in_sum)),
    [SPREAD_VOUT] = SPREAD(voltage_out_min, voltage_out_max, voltage_out_avg,
                           offsetof(sw_string_agg, voltage_out_sum)),
    [SPREAD_IIN] = SPREAD(current_in_min, current_in_max, current_in_avg, 0),
    [SPREAD_TEMP] = SPREAD(temperature_min_c, temperature_max_c, temperature_avg_c, 0),
    [SPREAD_DUTY] = SPREAD(duty_cycle_min, duty_cycle_max, duty_cycle_avg, 0),
    [SPREAD_RSSI] = SPREAD(rssi_min, rssi_max, rssi_avg, 0),
};
#undef SPREAD

static double *agg_member(sw_string_agg *a, size_t offset) { return (double *)(void *)((char *)a + offset); }

/* Fold one online panel's readings into the spreads; `first` starts min and max afresh. */
static void spread_add(sw_string_agg *a, const sw_panel *p, bool first, double sums[SPREAD_N])
{
    const double v[SPREAD_N] = {
        [SPREAD_VIN] = p->voltage_in, [SPREAD_VOUT] = p->voltage_out, [SPREAD_IIN] = p->current_in,
        [SPREAD_TEMP] = p->temperature_c, [SPREAD_DUTY] = p->duty_cycle, [SPREAD_RSSI] = (double)p->rssi,
    };
    for (size_t k = 0; k < SPREAD_N; k++) {
        double *lo = agg_member(a, spreads[k].min), *hi = agg_member(a, spreads[k].max);
        if (first || v[k] < *lo)
            *lo = v[k];
        if (first || v[k] > *hi)
            *hi = v[k];
        sums[k] += v[k];
    }
}

static void spread_finish(sw_string_agg *a, const double sums[SPREAD_N])
{
    for (size_t k = 0; k < SPREAD_N; k++) {
        *agg_member(a, spreads[k].avg) = a->online ? sums[k] / a->online : 0.0;
        if (spreads[k].sum)
            *agg_member(a, spreads[k].sum) = sums[k];
    }
}

/* Recompute one aggregate from scratch: a few thousand panels at most, so no incremental cleverness. */
static void aggregate(sw_model *m, sw_string_agg *a, bool all)
{
    double sums[SPREAD_N] = {0};
    char name[SW_MODEL_NAME_MAX];
    memcpy(name, a->name, sizeof name);
    memset(a, 0, sizeof *a);
    memcpy(a->name, name, sizeof name);
    for (size_t i = 0; i < m->n_panels; i++) {
        const sw_panel *p = &m->panels[i];
        if (!all && strcmp(p->string_name, a->name) != 0)
            continue;
        a->panels++;
        a->energy_today_wh += p->energy_today_wh;
        a->energy_total_wh += p->energy_total_wh;
        if (p->barcode[0])
            a->identified++;
        if (!p->online)
            continue;
        spread_add(a, p, a->online == 0, sums);
        if (a->online == 0 || p->power_w < a->power_min_w)
            a->power_min_w = p->power_w;
        if (a->online == 0 || p->power_w > a->power_max_w)
            a->power_max_w = p->power_w;
        a->online++;
        a->power_sum_w += p->power_w;
    }
    a->power_avg_w = a->online ? a->power_sum_w / a->online : 0.0;
    spread_finish(a, sums);
}

static void refresh_string(sw_model *m, const char *name, bool notify)
{
    sw_string_agg *a = string_find(m, name);
    if (a) {
        aggregate(m, a, false);
        if (notify)
            NOTIFY(m, on_string, a);
    }
}

static void refresh_total(sw_model *m, bool notify)
{
    aggregate(m, &m->total, true);
    if (notify)
        NOTIFY(m, on_string, &m->total);
}

static void refresh_all_strings(sw_model *m, bool notify)
{
    for (size_t i = 0; i < m->n_strings; i++) {
        aggregate(m, &m->strings[i], false);
        if (notify)
            NOTIFY(m, on_string, &m->strings[i]);
    }
    refresh_total(m, notify);
}

/* Name and string follow from the map; else the barcode; else "<gateway>-<node>". */
static void derive_identity(sw_model *m, sw_panel *p)
{
    const sw_panel_map_entry *e = map_find(m, p->barcode);
    p->mapped = e != NULL;
    if (e) {
        set_text(p->name, sizeof p->name, e->name[0] ? e->name : e->barcode);
        set_text(p->string_name, sizeof p->string_name, e->string_name);
    } else if (p->barcode[0]) {
        set_text(p->name, sizeof p->name, p->barcode);
        set_text(p->string_name, sizeof p->string_name, "");
    } else {
        char buf[SW_MODEL_NAME_MAX];
        snprintf(buf, sizeof buf, "%u-%u", (unsigned)p->gateway_id, (unsigned)p->node_id);
        set_text(p->name, sizeof p->name, buf);
        set_text(p->string_name, sizeof p->string_name, "");
    }
}

sw_err sw_model_set_panel_map(sw_model *m, const sw_panel_map_entry *entries, size_t n)
{
    if (!m || (n && !entries))
        return SW_ERR_INVALID_ARGUMENT;
    if (n > SW_MODEL_MAX_MAP)
        return SW_ERR_NO_SPACE;
    /* Check the string count first so a refused map leaves the model untouched. */
    size_t n_str = 0;
    for (size_t i = 0; i < n; i++) {
        if (!entries[i].string_name[0])
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(entries[j].string_name, entries[i].string_name) == 0;
        if (!seen)
            n_str++;
    }
    if (n_str > SW_MODEL_MAX_STRINGS)
        return SW_ERR_NO_SPACE;

    for (size_t i = 0; i < n; i++)
        m->map[i] = entries[i];
    m->n_map = n;
    m->n_strings = 0;
    for (size_t i = 0; i < n; i++) {
        if (!entries[i].string_name[0] || string_find(m, entries[i].string_name))
            continue;
        sw_string_agg *a = &m->strings[m->n_strings++];
        memset(a, 0, sizeof *a);
        set_text(a->name, sizeof a->name, entries[i].string_name);
    }
    for (size_t i = 0; i < m->n_panels; i++) {
        sw_panel *p = &m->panels[i];
        char old_name[SW_MODEL_NAME_MAX], old_string[SW_MODEL_NAME_MAX];
        memcpy(old_name, p->name, sizeof old_name);
        memcpy(old_string, p->string_name, sizeof old_string);
        derive_identity(m, p);
        /* Sinks keyed by name or string must hear about a renamed panel. */
        if (strcmp(old_name, p->name) != 0 || strcmp(old_string, p->string_name) != 0)
            NOTIFY(m, on_panel, p);
    }
    refresh_all_strings(m, true);
    return SW_OK;
}

/* ---- panels ------------------------------------------------------------------- */
sw_panel *sw_model_panel_find(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id)
{
    for (size_t i = 0; i < m->n_panels; i++) {
        sw_panel *p = &m->panels[i];
        if (p->gateway_id == gateway_id && p->node_id == node_id && strcmp(p->source, source) == 0)
            return p;
    }
    return NULL;
}

sw_panel *sw_model_panel_mut(sw_model *m, size_t i) { return i < m->n_panels ? &m->panels[i] : NULL; }

int64_t sw_model_panel_energy_day(const sw_model *m, size_t i)
{
    return i < m->n_panels ? m->ppriv[i].day : -1;
}

sw_panel *sw_model_panel(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                         const char *barcode, bool *created)
{
    if (created)
        *created = false;
    if (!m || !source)
        return NULL;
    sw_panel *p = sw_model_panel_find(m, source, gateway_id, node_id);
    if (!p) {
        if (m->n_panels >= SW_MODEL_MAX_PANELS)
            return NULL;
        size_t i = m->n_panels++;
        p = &m->panels[i];
        memset(p, 0, sizeof *p);
        memset(&m->ppriv[i], 0, sizeof m->ppriv[i]);
        m->ppriv[i].day = -1;
        p->performance = NAN;
        p->peer_energy_today_wh = NAN;
        p->performance_day = -1;
        set_text(p->source, sizeof p->source, source);
        p->gateway_id = gateway_id;
        p->node_id = node_id;
        if (created)
            *created = true;
        if (barcode && barcode[0])
            set_text(p->series_id, sizeof p->series_id, barcode);
        else
            snprintf(p->series_id, sizeof p->series_id, "%u-%u", (unsigned)gateway_id, (unsigned)node_id);
    }
    if (barcode && barcode[0] && strcmp(p->barcode, barcode) != 0)
        set_text(p->barcode, sizeof p->barcode, barcode);
    derive_identity(m, p);
    return p;
}

sw_err sw_model_panel_identity(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                               const char *barcode, int64_t now_ns)
{
    if (!m || !source || !barcode || !barcode[0])
        return SW_ERR_INVALID_ARGUMENT;
    sw_panel *existing = sw_model_panel_find(m, source, gateway_id, node_id);
    char old_name[SW_MODEL_NAME_MAX], old_string[SW_MODEL_NAME_MAX];
    bool changed = true;
    if (existing) {
        memcpy(old_name, existing->name, sizeof old_name);
        memcpy(old_string, existing->string_name, sizeof old_string);
        changed = strcmp(existing->barcode, barcode) != 0;
    }
    bool created;
    sw_panel *p = sw_model_panel(m, source, gateway_id, node_id, barcode, &created);
    if (!p)
        return SW_ERR_NO_SPACE;
    if (!changed)
        return SW_OK;
    touch(m, now_ns);
    NOTIFY(m, on_panel, p);
    if (existing && old_string[0] && strcmp(old_string, p->string_name) != 0)
        refresh_string(m, old_string, true);
    refresh_string(m, p->string_name, true);
    refresh_total(m, true);
    return SW_OK;
}

int64_t sw_model_local_day(const sw_model *m, int64_t unix_ns)
{
    int64_t off = m->opt.utc_offset ? m->opt.utc_offset(m->opt.utc_offset_user, unix_ns) : 0;
    int64_t local = unix_ns + off * NS_PER_S;
    int64_t d = local / NS_PER_DAY;
    if (local % NS_PER_DAY < 0)
        d--;
    return d;
}

/* The instant local day `day` began (using the offset in force at `near_ns`). */
static int64_t local_midnight_ns(const sw_model *m, int64_t day, int64_t near_ns)
{
    int64_t off = m->opt.utc_offset ? m->opt.utc_offset(m->opt.utc_offset_user, near_ns) : 0;
    return day * NS_PER_DAY - off * NS_PER_S;
}

double sw_energy_trapezoid_wh(double p0_w, int64_t t0_ns, double p1_w, int64_t t1_ns, int64_t gap_ns)
{
    int64_t dt = t1_ns - t0_ns;
    if (dt <= 0 || (gap_ns > 0 && dt > gap_ns))
        return 0.0;
    if (!isfinite(p0_w) || !isfinite(p1_w))
        return 0.0;
    return (p0_w + p1_w) / 2.0 * ((double)dt / 3.6e12);
}

/* Show panel idx's integrated counters in its record. True when they moved. */
static bool publish_energy(sw_model *m, size_t idx)
{
    sw_panel *p = &m->panels[idx];
    const panel_priv *pp = &m->ppriv[idx];
    bool moved = false;
    if (pp->total_wh > p->energy_total_wh) {
        p->energy_total_wh = pp->total_wh;
        moved = true;
    }
    if (pp->today_wh != p->energy_today_wh) {
        p->energy_today_wh = pp->today_wh;
        moved = true;
    }
    return moved;
}

/* Start a new "today" when the panel's day is over. True when something changed. */
static bool roll_day(sw_model *m, size_t idx, int64_t day)
{
    panel_priv *pp = &m->ppriv[idx];
    if (pp->day == day)
        return false;
    bool changed = pp->day >= 0 && m->panels[idx].energy_today_wh != 0.0;
    if (pp->day < day) {
        pp->today_wh = 0.0;
        m->panels[idx].energy_today_wh = 0.0;
        m->panels[idx].performance = NAN;
        m->panels[idx].peer_energy_today_wh = NAN;
        m->panels[idx].performance_day = day;
        pp->day = day;
    }
    return changed;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b ? 1 : 0;
}

/*
 * Panel idx's performance index: its energy today over the median of its peers'
 * (the other panels of its string, or every panel in no string) that have
 * energy for the same day. Two peers at least; NAN below the energy floor.
 */
static void update_performance(sw_model *m, size_t idx)
{
    sw_panel *p = &m->panels[idx];
    int64_t day = m->ppriv[idx].day;
    size_t n = 0;
    for (size_t i = 0; i < m->n_panels; i++)
        if (i != idx && m->ppriv[i].day == day && strcmp(m->panels[i].string_name, p->string_name) == 0)
            m->scratch[n++] = m->ppriv[i].today_wh;
    p->performance_day = day;
    if (day < 0 || n < 2) {
        p->performance = NAN;
        p->peer_energy_today_wh = NAN;
        return;
    }
    qsort(m->scratch, n, sizeof *m->scratch, cmp_double);
    double med = n % 2 ? m->scratch[n / 2] : (m->scratch[n / 2 - 1] + m->scratch[n / 2]) / 2.0;
    p->peer_energy_today_wh = med;
    p->performance = med >= m->opt.performance_min_wh && med > 0.0 ? m->ppriv[idx].today_wh / med : NAN;
}

sw_err sw_model_panel_report(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                             const sw_panel_report *r)
{
    if (!m || !source || !r)
        return SW_ERR_INVALID_ARGUMENT;
    bool created;
    char old_string[SW_MODEL_NAME_MAX] = "";
    sw_panel *existing = sw_model_panel_find(m, source, gateway_id, node_id);
    if (existing)
        memcpy(old_string, existing->string_name, sizeof old_string);
    sw_panel *p = sw_model_panel(m, source, gateway_id, node_id, r->barcode, &created);
    if (!p)
        return SW_ERR_NO_SPACE;
    size_t idx = (size_t)(p - m->panels);
    panel_priv *pp = &m->ppriv[idx];

    double power = r->voltage_in * r->current_in;
    int64_t t = r->time_ns;
    int64_t day = sw_model_local_day(m, t);

    if (pp->have_prev && t > pp->prev_time_ns) {
        double e = sw_energy_trapezoid_wh(pp->prev_power_w, pp->prev_time_ns, power, t, m->opt.energy_gap_ns);
        int64_t prev_day = sw_model_local_day(m, pp->prev_time_ns);
        double e_today = e;
        if (e > 0.0 && prev_day != day) {
            /* Only the part after midnight belongs to the new day. */
            int64_t mid = local_midnight_ns(m, day, t);
            if (mid >= t) {
                e_today = 0.0;
            } else if (mid > pp->prev_time_ns) {
                double frac = (double)(mid - pp->prev_time_ns) / (double)(t - pp->prev_time_ns);
                double pm = pp->prev_power_w + (power - pp->prev_power_w) * frac;
                e_today = sw_energy_trapezoid_wh(pm, mid, power, t, 0);
            }
        }
        roll_day(m, idx, day);
        if (pp->day == day)
            pp->today_wh += e_today;
        pp->total_wh += e;
    } else {
        roll_day(m, idx, day);
    }
    if (!m->opt.hold_energy)
        publish_energy(m, idx);
    /* A clock that jumped back restarts the integration from here instead of losing later energy. */
    if (!pp->have_prev || t != pp->prev_time_ns) {
        pp->have_prev = true;
        pp->prev_power_w = power;
        pp->prev_time_ns = t;
    }

    p->voltage_in = r->voltage_in;
    p->voltage_out = r->voltage_out;
    p->current_in = r->current_in;
    p->power_w = power;
    p->duty_cycle = r->duty_cycle;
    p->temperature_c = r->temperature_c;
    p->rssi = r->rssi;
    if (r->has_radio) {
        p->loss_15m = r->loss_15m;
        p->loss_day = r->loss_day;
        p->rssi_trend = r->rssi_trend;
        p->next_hop = r->next_hop;
    }
    p->online = true;
    if (t > p->last_seen_ns)
        p->last_seen_ns = t;
    update_performance(m, idx);

    touch(m, t);
    NOTIFY(m, on_panel, p);
    if (old_string[0] && strcmp(old_string, p->string_name) != 0)
        refresh_string(m, old_string, true);
    refresh_string(m, p->string_name, true);
    refresh_total(m, true);
    return SW_OK;
}

size_t sw_model_tick(sw_model *m, int64_t now_ns)
{
    size_t changed = 0;
    int64_t today = sw_model_local_day(m, now_ns);
    for (size_t i = 0; i < m->n_panels; i++) {
        sw_panel *p = &m->panels[i];
        bool ch = false;
        if (p->online && m->opt.stale_timeout_ns > 0 && now_ns - p->last_seen_ns > m->opt.stale_timeout_ns) {
            p->online = false;
            if (m->opt.night_mode == SW_NIGHT_ZERO) {
                for (size_t k = 0; k < sw_panel_field_count; k++) {
                    const sw_field *f = &sw_panel_fields[k];
                    const double zero = 0.0;
                    if ((f->flags & SW_FF_NIGHT_ZERO) && f->type == SW_FT_DOUBLE)
                        memcpy((char *)p + f->offset, &zero, sizeof zero);
                }
                /* The next report after a zero night integrates from zero, not from the last evening value. */
                m->ppriv[i].prev_power_w = 0.0;
            }
            ch = true;
        }
        if (m->ppriv[i].day >= 0 && m->ppriv[i].day < today)
            ch = roll_day(m, i, today) || ch;
        if (ch) {
            changed++;
            NOTIFY(m, on_panel, p);
        }
    }
    if (changed) {
        touch(m, now_ns);
        refresh_all_strings(m, true);
    }
    return changed;
}

sw_err sw_model_panel_restore(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                              const char *barcode, double energy_total_wh, double energy_today_wh,
                              int64_t day, int64_t now_ns)
{
    if (!m || !source)
        return SW_ERR_INVALID_ARGUMENT;
    sw_panel *p = sw_model_panel(m, source, gateway_id, node_id, barcode, NULL);
    if (!p)
        return SW_ERR_NO_SPACE;
    size_t idx = (size_t)(p - m->panels);
    panel_priv *pp = &m->ppriv[idx];
    /* Restored counters are durable already: shown at once, also with hold_energy. */
    if (isfinite(energy_total_wh) && energy_total_wh > pp->total_wh)
        pp->total_wh = energy_total_wh;
    int64_t today = sw_model_local_day(m, now_ns);
    if (day == today && isfinite(energy_today_wh) && energy_today_wh >= 0.0 &&
        (pp->day != today || energy_today_wh > pp->today_wh)) {
        pp->today_wh = energy_today_wh;
        pp->day = today;
    }
    publish_energy(m, idx);
    refresh_string(m, p->string_name, false);
    refresh_total(m, false);
    return SW_OK;
}

sw_err sw_model_panel_energy(const sw_model *m, size_t i, sw_panel_energy *out)
{
    if (!m || !out || i >= m->n_panels)
        return SW_ERR_NOT_FOUND;
    out->total_wh = m->ppriv[i].total_wh;
    out->today_wh = m->ppriv[i].today_wh;
    out->day = m->ppriv[i].day;
    return SW_OK;
}

size_t sw_model_energy_publish(sw_model *m)
{
    if (!m || !m->opt.hold_energy)
        return 0;
    size_t moved = 0;
    for (size_t i = 0; i < m->n_panels; i++)
        moved += publish_energy(m, i);
    if (moved)
        refresh_all_strings(m, false);
    return moved;
}

/* ---- inverters ---------------------------------------------------------------- */
sw_inverter *sw_model_inverter_find(sw_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_inverters; i++)
        if (strcmp(m->inverters[i].name, name) == 0)
            return &m->inverters[i];
    return NULL;
}

sw_err sw_model_inverter_set(sw_model *m, const sw_inverter *inv, int64_t now_ns)
{
    if (!m || !inv || !inv->name[0])
        return SW_ERR_INVALID_ARGUMENT;
    sw_inverter n;
    memset(&n, 0, sizeof n);
    set_text(n.name, sizeof n.name, inv->name);
    set_text(n.host, sizeof n.host, inv->host);
    n.port = inv->port;
    set_text(n.serial, sizeof n.serial, inv->serial);
    set_text(n.model, sizeof n.model, inv->model);
    set_text(n.firmware, sizeof n.firmware, inv->firmware);
    n.online = inv->online;
    n.last_poll_ns = inv->last_poll_ns;

    sw_inverter *slot = sw_model_inverter_find(m, n.name);
    bool notify = true;
    if (!slot) {
        if (m->n_inverters >= SW_MODEL_MAX_INVERTERS)
            return SW_ERR_NO_SPACE;
        slot = &m->inverters[m->n_inverters++];
    } else {
        /* A new poll time alone is not news for the sinks. */
        sw_inverter a = *slot, b = n;
        a.last_poll_ns = b.last_poll_ns = 0;
        notify = memcmp(&a, &b, sizeof a) != 0;
    }
    *slot = n;
    touch(m, now_ns);
    if (notify)
        NOTIFY(m, on_inverter, slot);
    return SW_OK;
}

sw_err sw_model_inverter_polled(sw_model *m, const char *name, int64_t now_ns)
{
    if (!m || !name)
        return SW_ERR_INVALID_ARGUMENT;
    sw_inverter *inv = sw_model_inverter_find(m, name);
    if (!inv)
        return SW_ERR_NOT_FOUND;
    if (now_ns > inv->last_poll_ns)
        inv->last_poll_ns = now_ns;
    touch(m, now_ns);
    return SW_OK;
}

/*
 * A buffer of at least n bytes for a copy: the current one when it is big
 * enough, else a new one (the caller frees the old once everything fits).
 */
static char *room(char *cur, size_t cap, size_t n)
{
    return n <= cap ? cur : malloc(n);
}

sw_err sw_model_inverter_value_set(sw_model *m, const sw_inverter_value *v)
{
    if (!m || !v || !v->inverter[0])
        return SW_ERR_INVALID_ARGUMENT;
    sw_inverter_value *slot = NULL;
    for (size_t i = 0; i < m->n_values && !slot; i++)
        if (m->values[i].object_id == v->object_id && strcmp(m->values[i].inverter, v->inverter) == 0)
            slot = &m->values[i];
    bool fresh = !slot;
    if (fresh) {
        if (m->n_values >= SW_MODEL_MAX_INVERTER_VALUES)
            return SW_ERR_NO_SPACE;
        slot = &m->values[m->n_values];
    }
    /* The copies first: a value that cannot be stored whole is not stored at all. */
    value_text *vt = &m->vtext[slot - m->values];
    const char *text = v->text ? v->text : "";
    size_t tn = strlen(text) + 1, jn = v->json ? strlen(v->json) + 1 : 0;
    char *tb = room(vt->text, vt->text_cap, tn);
    char *jb = jn ? room(vt->json, vt->json_cap, jn) : vt->json;
    if (!tb || (jn && !jb)) {
        if (tb && tb != vt->text)
            free(tb);
        if (jb && jb != vt->json)
            free(jb);
        return SW_ERR_NO_MEMORY;
    }
    /* Copy before freeing, with memmove: a caller may hand back the record it was given. */
    memmove(tb, text, tn);
    if (jn)
        memmove(jb, v->json, jn);
    if (tb != vt->text) {
        free(vt->text);
        vt->text = tb;
        vt->text_cap = tn;
    }
    if (jn && jb != vt->json) {
        free(vt->json);
        vt->json = jb;
        vt->json_cap = jn;
    }
    if (fresh)
        m->n_values++;
    memset(slot, 0, sizeof *slot);
    set_text(slot->inverter, sizeof slot->inverter, v->inverter);
    slot->object_id = v->object_id;
    set_text(slot->object_name, sizeof slot->object_name, v->object_name);
    set_text(slot->unit, sizeof slot->unit, v->unit);
    slot->is_number = v->is_number;
    slot->number = v->number;
    slot->text = vt->text;
    slot->json = v->json ? vt->json : NULL;
    slot->timestamp_ns = v->timestamp_ns;
    touch(m, v->timestamp_ns);
    NOTIFY(m, on_value, slot);
    return SW_OK;
}

/* ---- events --------------------------------------------------------------------- */
void sw_model_event(sw_model *m, const sw_event *ev)
{
    if (!m || !ev)
        return;
    NOTIFY(m, on_event, ev);
}

/* ---- problems (model/problem.h) --------------------------------------------------- */
sw_err sw_model_problem_raise(sw_model *m, sw_problem_kind kind, const char *source, const char *subject,
                              const char *name, const char *reason, int64_t now_ns)
{
    sw_problem *p;
    bool changed;
    sw_err e = sw_problem_table_raise(&m->problems, kind, source, subject, name, reason, now_ns, &p, &changed);
    if (e == SW_OK && changed) {
        touch(m, now_ns);
        NOTIFY(m, on_problem, p);
    }
    return e;
}

sw_err sw_model_problem_clear(sw_model *m, sw_problem_kind kind, const char *source, const char *subject,
                              int64_t now_ns)
{
    sw_problem *p;
    sw_problem_table_clear(&m->problems, kind, source, subject, now_ns, &p);
    if (p) {
        touch(m, now_ns);
        NOTIFY(m, on_problem, p);
    }
    return SW_OK;
}

const sw_problem *sw_model_problem_find(const sw_model *m, sw_problem_kind kind, const char *source,
                                        const char *subject)
{
    return sw_problem_table_find(&m->problems, kind, source, subject ? subject : "");
}

size_t sw_model_problem_count(const sw_model *m) { return m->problems.n; }
const sw_problem *sw_model_problem_at(const sw_model *m, size_t i)
{
    return i < m->problems.n ? &m->problems.rows[i] : NULL;
}
size_t sw_model_problem_active_count(const sw_model *m) { return sw_problem_table_active(&m->problems); }

/* ---- control writes (model/model.h) ----------------------------------------------------- */
static size_t control_index(const sw_model *m, const char *inverter, const char *object)
{
    for (size_t i = 0; i < m->n_controls; i++)
        if (strcmp(m->controls[i].inverter, inverter) == 0 && strcmp(m->controls[i].object, object) == 0)
            return i;
    return SIZE_MAX;
}

sw_control *sw_model_control(sw_model *m, const char *inverter, const char *object)
{
    if (!inverter || !*inverter)
        return NULL;
    if (!object)
        object = "";
    size_t i = control_index(m, inverter, object);
    if (i != SIZE_MAX)
        return &m->controls[i];
    if (m->n_controls >= SW_MODEL_MAX_CONTROLS)
        return NULL;
    sw_control *c = &m->controls[m->n_controls++];
    memset(c, 0, sizeof *c);
    set_text(c->inverter, sizeof c->inverter, inverter);
    set_text(c->object, sizeof c->object, object);
    return c;
}

const sw_control *sw_model_control_find(const sw_model *m, const char *inverter, const char *object)
{
    size_t i = control_index(m, inverter ? inverter : "", object ? object : "");
    return i == SIZE_MAX ? NULL : &m->controls[i];
}

void sw_model_control_changed(sw_model *m, int64_t now_ns) { touch(m, now_ns); }

size_t sw_model_control_count(const sw_model *m) { return m->n_controls; }

const sw_control *sw_model_control_at(const sw_model *m, size_t i)
{
    return i < m->n_controls ? &m->controls[i] : NULL;
}
