/*
 * battery.c: battery health from the inverter's cell and module objects
 * (see health/battery.h and docs/health.md, "Battery health").
 */
#include "health/battery.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/health_hold.h"
#include "sunwire/core.h"
#include "sunwire/rct_registry.h"

#define DAY_NS (86400LL * 1000000000LL)
/* Smoothing of each cell's deviation from the stack median: one reading moves it a tenth of the way. */
#define DEV_ALPHA 0.1
/* A raised problem clears once its measure is back under this share of the limit. */
#define CLEAR_SHARE 0.8
/* Days of SoH readings before a trend is given. */
#define SOH_MIN_DAYS 7

void sw_battery_health_config_default(sw_battery_health_config *c)
{
    c->cell_spread_mv = 80.0;
    c->module_hot_c = 8.0;
    c->hold_ns = 600LL * 1000000000LL;
    c->stale_ns = 900LL * 1000000000LL;
    c->rte_min_wh = 1000.0;
}

void sw_battery_health_init(sw_battery_health *b, const sw_battery_health_config *cfg, const char *inverter)
{
    memset(b, 0, sizeof *b);
    if (cfg)
        b->cfg = *cfg;
    else
        sw_battery_health_config_default(&b->cfg);
    snprintf(b->inverter, sizeof b->inverter, "%s", inverter ? inverter : "");
    b->day = -1;
}

static const char *const objects[] = {
    "battery.cells[0]", "battery.cells[1]", "battery.cells[2]", "battery.cells[3]",
    "battery.cells[4]", "battery.cells[5]", "battery.cells[6]",
    "battery.soh", "battery.stored_energy", "battery.used_energy", "battery.bat_status",
};

const char *sw_battery_health_object(size_t i) { return i < sizeof objects / sizeof *objects ? objects[i] : NULL; }

sw_err sw_battery_health_module(sw_battery_health *b, unsigned module, const sw_rct_cell_status *cells, size_t n,
                                int64_t now_ns)
{
    if (module >= SW_BATTERY_MAX_MODULES)
        return SW_ERR_OUT_OF_RANGE;
    if (n > SW_RCT_BATTERY_CELLS)
        n = SW_RCT_BATTERY_CELLS;
    sw_battery_module_state *s = &b->mod[module];
    bool any = false;
    for (size_t c = 0; c < SW_RCT_BATTERY_CELLS; c++) {
        s->mv[c] = c < n ? cells[c].voltage_mv : 0;
        s->temp_c[c] = c < n ? cells[c].temperature_c : 0;
        any = any || s->mv[c] != 0;
    }
    s->present = any;
    s->updated_ns = now_ns;
    b->dirty = true;
    return SW_OK;
}

bool sw_battery_health_number(sw_battery_health *b, const char *object, double value, int64_t now_ns)
{
    if (!object || !isfinite(value))
        return false;
    if (strcmp(object, "battery.soh") == 0) {
        b->have_soh = true;
        b->soh_pct = value;
    } else if (strcmp(object, "battery.stored_energy") == 0) {
        b->have_stored = true;
        b->stored_wh = value;
    } else if (strcmp(object, "battery.used_energy") == 0) {
        b->have_used = true;
        b->used_wh = value;
    } else if (strcmp(object, "battery.bat_status") == 0) {
        uint32_t bits = (uint32_t)(int64_t)value;
        bool balancing = (bits & 2048u) == 0;
        bool calibrating = (bits & 1032u) == 0;
        /* Only a start seen counts: the first reading may be the middle of one. */
        if (b->have_status && balancing && !b->balancing) {
            b->balancing_events++;
            b->last_balancing_ns = now_ns;
        }
        if (b->have_status && calibrating && !b->calibrating) {
            b->calibration_events++;
            b->last_calibration_ns = now_ns;
        }
        b->balancing = balancing;
        b->calibrating = calibrating;
        b->have_status = true;
    } else {
        return false;
    }
    return true;
}

static bool fresh(const sw_battery_health *b, const sw_battery_module_state *s, int64_t now_ns)
{
    return s->present && now_ns - s->updated_ns <= b->cfg.stale_ns;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static double median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Least-squares slope of the daily SoH readings, in percent per year. */
static bool soh_trend(const sw_battery_health *b, double *out)
{
    if (b->n_soh < SOH_MIN_DAYS)
        return false;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, n = (double)b->n_soh;
    for (size_t i = 0; i < b->n_soh; i++) {
        double x = (double)(b->soh_day[i] - b->soh_day[0]), y = b->soh_val[i];
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double den = n * sxx - sx * sx;
    if (den <= 0)
        return false;
    *out = (n * sxy - sx * sy) / den * 365.0;
    return true;
}

void sw_battery_health_summary(const sw_battery_health *b, int64_t now_ns, sw_battery_summary *out)
{
    memset(out, 0, sizeof *out);
    out->weakest_module = out->weakest_cell = -1;
    double vmin = 0, vmax = 0, tmin = 0, tmax = 0;
    bool first = true;
    for (int m = 0; m < SW_BATTERY_MAX_MODULES; m++) {
        const sw_battery_module_state *s = &b->mod[m];
        if (!fresh(b, s, now_ns))
            continue;
        out->modules++;
        double mmin = s->mv[0], mmax = s->mv[0], vsum = 0, tsum = 0;
        for (int c = 0; c < SW_RCT_BATTERY_CELLS; c++) {
            double v = s->mv[c], t = s->temp_c[c];
            mmin = fmin(mmin, v);
            mmax = fmax(mmax, v);
            vsum += v;
            tsum += t;
            if (first) {
                vmin = vmax = v;
                tmin = tmax = t;
                first = false;
            }
            vmin = fmin(vmin, v);
            vmax = fmax(vmax, v);
            tmin = fmin(tmin, t);
            tmax = fmax(tmax, t);
            if (s->have_dev && (out->weakest_cell < 0 || s->dev_mv[c] < out->weakest_dev_mv)) {
                out->weakest_module = m;
                out->weakest_cell = c;
                out->weakest_dev_mv = s->dev_mv[c];
            }
        }
        out->module_spread_mv[m] = mmax - mmin;
        out->module_voltage_mv[m] = vsum / SW_RCT_BATTERY_CELLS;
        out->module_temp_c[m] = tsum / SW_RCT_BATTERY_CELLS;
    }
    out->cell_spread_mv = vmax - vmin;
    out->temp_spread_c = tmax - tmin;
    out->have_soh_trend = soh_trend(b, &out->soh_trend_pct_per_year);
}

/* Move each fresh cell's smoothed deviation from the stack median towards its reading. */
static void update_deviation(sw_battery_health *b, int64_t now_ns)
{
    double all[SW_BATTERY_MAX_MODULES * SW_RCT_BATTERY_CELLS];
    size_t n = 0;
    for (int m = 0; m < SW_BATTERY_MAX_MODULES; m++)
        if (fresh(b, &b->mod[m], now_ns))
            for (int c = 0; c < SW_RCT_BATTERY_CELLS; c++)
                all[n++] = b->mod[m].mv[c];
    if (n == 0)
        return;
    double med = median(all, n);
    for (int m = 0; m < SW_BATTERY_MAX_MODULES; m++) {
        sw_battery_module_state *s = &b->mod[m];
        if (!fresh(b, s, now_ns))
            continue;
        for (int c = 0; c < SW_RCT_BATTERY_CELLS; c++) {
            double d = (double)s->mv[c] - med;
            s->dev_mv[c] = s->have_dev ? s->dev_mv[c] + DEV_ALPHA * (d - s->dev_mv[c]) : d;
        }
        s->have_dev = true;
    }
}

/* The last SoH reading of each local day. */
static void note_soh(sw_battery_health *b, int64_t day)
{
    if (!b->have_soh)
        return;
    if (b->n_soh > 0 && b->soh_day[b->n_soh - 1] == day) {
        b->soh_val[b->n_soh - 1] = b->soh_pct;
        return;
    }
    if (b->n_soh == SW_BATTERY_SOH_DAYS) {
        memmove(b->soh_day, b->soh_day + 1, (SW_BATTERY_SOH_DAYS - 1) * sizeof *b->soh_day);
        memmove(b->soh_val, b->soh_val + 1, (SW_BATTERY_SOH_DAYS - 1) * sizeof *b->soh_val);
        b->n_soh--;
    }
    b->soh_day[b->n_soh] = day;
    b->soh_val[b->n_soh] = b->soh_pct;
    b->n_soh++;
}

/* A new local day closes the last one's round trip: energy out over energy in. */
static bool roll_day(sw_battery_health *b, int64_t day)
{
    if (!b->have_stored || !b->have_used || day == b->day)
        return false;
    bool done = false;
    if (b->day >= 0 && day == b->day + 1) {
        double in = b->stored_wh - b->day_stored0, out = b->used_wh - b->day_used0;
        if (in >= b->cfg.rte_min_wh && out >= 0) {
            b->rte_pct = 100.0 * out / in;
            b->rte_day = b->day;
            b->have_rte = true;
            done = true;
        }
    }
    b->day = day;
    b->day_stored0 = b->stored_wh;
    b->day_used0 = b->used_wh;
    return done;
}

static void module_subject(const sw_battery_health *b, int m, char *out, size_t cap)
{
    snprintf(out, cap, "%.48s/module%d", b->inverter, m);
}

static void judge(sw_battery_health *b, sw_model *m, const sw_battery_summary *sum, int64_t now_ns)
{
    double temps[SW_BATTERY_MAX_MODULES];
    for (int k = 0; k < SW_BATTERY_MAX_MODULES; k++) {
        sw_battery_module_state *s = &b->mod[k];
        if (!fresh(b, s, now_ns))
            continue; /* no evidence: a problem stays as it is */
        char subject[SW_MODEL_NAME_MAX], reason[SW_PROBLEM_REASON_MAX];
        module_subject(b, k, subject, sizeof subject);
        double spread = sum->module_spread_mv[k];
        double limit = b->cfg.cell_spread_mv;
        if (sw_health_held(&s->spread_since_ns, spread > limit, now_ns, b->cfg.hold_ns)) {
            int low = 0;
            for (int c = 1; c < SW_RCT_BATTERY_CELLS; c++)
                if (s->mv[c] < s->mv[low])
                    low = c;
            /* in steps of 10 mV, so a slow drift does not make every reading news */
            snprintf(reason, sizeof reason, "cell spread %.0f mV (limit %.0f mV), lowest cell %d",
                     floor(spread / 10.0) * 10.0, limit, low);
            if (sw_model_problem_raise(m, SW_PROBLEM_CELL_SPREAD, b->inverter, subject, NULL, reason, now_ns) ==
                SW_OK)
                s->spread_raised = true;
        }
        if (s->spread_raised &&
            sw_health_held(&s->spread_ok_since_ns, spread < CLEAR_SHARE * limit, now_ns, b->cfg.hold_ns)) {
            sw_model_problem_clear(m, SW_PROBLEM_CELL_SPREAD, b->inverter, subject, now_ns);
            s->spread_raised = false;
        } else if (!s->spread_raised) {
            s->spread_ok_since_ns = 0;
        }

        /* module_hot: against the median of the other fresh modules */
        size_t n = 0;
        for (int o = 0; o < SW_BATTERY_MAX_MODULES; o++)
            if (o != k && fresh(b, &b->mod[o], now_ns))
                temps[n++] = sum->module_temp_c[o];
        if (n == 0)
            continue; /* one module has no peers */
        double others = median(temps, n), excess = sum->module_temp_c[k] - others;
        if (sw_health_held(&s->hot_since_ns, excess > b->cfg.module_hot_c, now_ns, b->cfg.hold_ns)) {
            snprintf(reason, sizeof reason, "%.0f \xC2\xB0" "C above the other modules (limit %.1f)", excess,
                     b->cfg.module_hot_c);
            if (sw_model_problem_raise(m, SW_PROBLEM_MODULE_HOT, b->inverter, subject, NULL, reason, now_ns) == SW_OK)
                s->hot_raised = true;
        }
        if (s->hot_raised &&
            sw_health_held(&s->hot_ok_since_ns, excess < CLEAR_SHARE * b->cfg.module_hot_c, now_ns, b->cfg.hold_ns)) {
            sw_model_problem_clear(m, SW_PROBLEM_MODULE_HOT, b->inverter, subject, now_ns);
            s->hot_raised = false;
        } else if (!s->hot_raised) {
            s->hot_ok_since_ns = 0;
        }
    }
}

uint32_t sw_health_value_id(const char *name)
{
    /* FNV-1a, stepped past any id the registry knows */
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    while (sw_rct_registry_find_id(h) || h == 0)
        h = h * 16777619u + 1u;
    return h;
}

static sw_err publish(sw_model *m, const char *inverter, const char *name, const char *unit, bool is_number,
                      double number, const char *text, int64_t now_ns)
{
    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.inverter, sizeof v.inverter, "%s", inverter);
    snprintf(v.object_name, sizeof v.object_name, "%s", name);
    snprintf(v.unit, sizeof v.unit, "%s", unit ? unit : "");
    v.object_id = sw_health_value_id(v.object_name);
    v.is_number = is_number;
    v.number = number;
    char buf[SW_DOUBLE_TEXT_MAX];
    if (is_number) {
        sw_fmt_double(buf, number);
        text = buf;
    }
    v.text = text;
    v.timestamp_ns = now_ns;
    return sw_model_inverter_value_set(m, &v);
}

sw_err sw_health_publish_number(sw_model *m, const char *inverter, const char *name, const char *unit, double value,
                                int64_t now_ns)
{
    return publish(m, inverter, name, unit, true, value, NULL, now_ns);
}

sw_err sw_health_publish_text(sw_model *m, const char *inverter, const char *name, const char *text, int64_t now_ns)
{
    return publish(m, inverter, name, "", false, 0.0, text, now_ns);
}

static void publish_values(sw_battery_health *b, sw_model *m, const sw_battery_summary *s, int64_t now_ns)
{
    const char *inv = b->inverter;
    char name[SW_MODEL_NAME_MAX], text[SW_RFC3339_MAX + 32];
    if (s->modules > 0) {
        sw_health_publish_number(m, inv, "health.battery.cell_spread_mv", "mV", s->cell_spread_mv, now_ns);
        sw_health_publish_number(m, inv, "health.battery.temp_spread_c", "\xC2\xB0" "C", s->temp_spread_c, now_ns);
        if (s->weakest_cell >= 0) {
            snprintf(text, sizeof text, "module%d/cell%d", s->weakest_module, s->weakest_cell);
            sw_health_publish_text(m, inv, "health.battery.weakest_cell", text, now_ns);
            sw_health_publish_number(m, inv, "health.battery.weakest_cell_dev_mv", "mV", s->weakest_dev_mv, now_ns);
        }
        for (int k = 0; k < SW_BATTERY_MAX_MODULES; k++) {
            if (!fresh(b, &b->mod[k], now_ns))
                continue;
            snprintf(name, sizeof name, "health.battery.module[%d].cell_spread_mv", k);
            sw_health_publish_number(m, inv, name, "mV", s->module_spread_mv[k], now_ns);
            snprintf(name, sizeof name, "health.battery.module[%d].voltage_mv", k);
            sw_health_publish_number(m, inv, name, "mV", s->module_voltage_mv[k], now_ns);
            snprintf(name, sizeof name, "health.battery.module[%d].temperature_c", k);
            sw_health_publish_number(m, inv, name, "\xC2\xB0" "C", s->module_temp_c[k], now_ns);
        }
    }
    if (s->have_soh_trend)
        sw_health_publish_number(m, inv, "health.battery.soh_trend_pct_per_year", "%/a", s->soh_trend_pct_per_year,
                                 now_ns);
    if (b->have_status) {
        sw_health_publish_number(m, inv, "health.battery.balancing_events", "", (double)b->balancing_events, now_ns);
        sw_health_publish_number(m, inv, "health.battery.calibration_events", "", (double)b->calibration_events,
                                 now_ns);
        if (b->last_balancing_ns) {
            sw_fmt_rfc3339(text, b->last_balancing_ns, 0);
            sw_health_publish_text(m, inv, "health.battery.last_balancing", text, now_ns);
        }
        if (b->last_calibration_ns) {
            sw_fmt_rfc3339(text, b->last_calibration_ns, 0);
            sw_health_publish_text(m, inv, "health.battery.last_calibration", text, now_ns);
        }
    }
}

void sw_battery_health_evaluate(sw_battery_health *b, sw_model *m, int64_t now_ns)
{
    int64_t day = sw_model_local_day(m, now_ns);
    note_soh(b, day);
    if (roll_day(b, day))
        sw_health_publish_number(m, b->inverter, "health.battery.round_trip_pct", "%", b->rte_pct, now_ns);
    if (!b->dirty)
        return;
    b->dirty = false;
    update_deviation(b, now_ns);
    sw_battery_summary s;
    sw_battery_health_summary(b, now_ns, &s);
    publish_values(b, m, &s, now_ns);
    judge(b, m, &s, now_ns);
}
