/*
 * peers.c: panels against their peers (see health/peers.h).
 *
 * A round walks the peer groups one at a time: it gathers the fresh members'
 * power, input voltage, current and temperature, sorts each list, and for
 * every member takes the median of the others (so a broken panel never pulls
 * its own yardstick down). Each detector is then one predicate pair, "bad"
 * (raise) and a stricter "good" (clear), fed to one streak machine.
 */
#include "health/peers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NS 1000000000LL
#define NONE INT64_MIN

void sw_peers_config_default(sw_peers_config *c)
{
    memset(c, 0, sizeof *c);
    c->floor_w = 20.0;
    c->min_peers = 3;
    c->max_age_ns = 120 * S_NS;
    c->interval_ns = 10 * S_NS;
    c->clear_ns = 600 * S_NS;
    c->under_ratio = 0.6;
    c->under_clear_ratio = 0.75;
    c->under_window_ns = 1200 * S_NS;
    c->no_power_current_a = 0.1;
    c->no_power_voltage_ratio = 1.05;
    c->no_power_window_ns = 300 * S_NS;
    c->diode_voltage_min = 0.45;
    c->diode_voltage_max = 0.8;
    c->diode_voltage_clear = 0.88;
    c->diode_current_ratio = 0.75;
    c->diode_window_ns = 600 * S_NS;
    c->hot_delta_c = 15.0;
    c->hot_clear_delta_c = 10.0;
    c->hot_window_ns = 600 * S_NS;
    c->stuck_reports = 10;
    c->stuck_clear_reports = 3;
}

static void flag_reset(sw_peer_flag *f)
{
    f->bad_since = NONE;
    f->good_since = NONE;
}

#define CHECK(cond, text)                                                                                     \
    do {                                                                                                      \
        if (!(cond)) {                                                                                        \
            if (why && cap)                                                                                   \
                snprintf(why, cap, "%s", text);                                                               \
            return SW_ERR_INVALID_ARGUMENT;                                                                   \
        }                                                                                                     \
    } while (0)

sw_err sw_peers_config_check(const sw_peers_config *c, char *why, size_t cap)
{
    CHECK(c->floor_w >= 0.0, "peer_floor must not be negative");
    CHECK(c->min_peers >= 1, "peer_min must be at least 1");
    CHECK(c->max_age_ns > 0 && c->interval_ns >= 0 && c->clear_ns >= 0 && c->under_window_ns >= 0 &&
              c->no_power_window_ns >= 0 && c->diode_window_ns >= 0 && c->hot_window_ns >= 0,
          "windows must not be negative");
    CHECK(c->under_ratio > 0.0 && c->under_clear_ratio >= c->under_ratio,
          "underperforming_clear_ratio must be at least underperforming_ratio");
    CHECK(c->no_power_current_a >= 0.0 && c->no_power_voltage_ratio > 0.0, "no_power thresholds must be positive");
    CHECK(c->diode_voltage_min > 0.0 && c->diode_voltage_max > c->diode_voltage_min &&
              c->diode_voltage_clear >= c->diode_voltage_max && c->diode_current_ratio >= 0.0,
          "need 0 < diode_voltage_min < diode_voltage_max <= diode_voltage_clear");
    CHECK(c->hot_delta_c > 0.0 && c->hot_clear_delta_c <= c->hot_delta_c, "hot_clear_delta must not exceed hot_delta");
    CHECK(c->stuck_reports >= 2 && c->stuck_clear_reports >= 1, "stuck_reports must be at least 2");
    return SW_OK;
}
#undef CHECK

sw_err sw_peers_init(sw_peers *pd, const sw_peers_config *cfg)
{
    sw_peers_config c;
    if (cfg)
        c = *cfg;
    else
        sw_peers_config_default(&c);
    if (sw_peers_config_check(&c, NULL, 0) != SW_OK)
        return SW_ERR_INVALID_ARGUMENT;
    memset(pd, 0, sizeof *pd);
    pd->cfg = c;
    pd->last_round_ns = NONE;
    for (size_t i = 0; i < SW_MODEL_MAX_PANELS; i++) {
        for (int k = 0; k < SW_PEER_DETECTORS; k++)
            flag_reset(&pd->panel[i].flag[k]);
        pd->panel[i].last_report_ns = NONE;
    }
    return SW_OK;
}

const sw_peers_counters *sw_peers_get_counters(const sw_peers *pd) { return &pd->counters; }

double sw_peers_median_without(const double *a, size_t n, double v)
{
    size_t r = 0;
    while (r + 1 < n && a[r] != v)
        r++;
    size_t m = n - 1;
#define ELEM(k) ((k) < r ? a[(k)] : a[(k) + 1])
    if (m % 2 == 1)
        return ELEM(m / 2);
    return (ELEM(m / 2 - 1) + ELEM(m / 2)) / 2.0;
#undef ELEM
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b ? 1 : 0;
}

/* The streak machine: +1 = raise now, -1 = clear now, 0 = nothing. */
static int flag_step(sw_peer_flag *f, bool bad, bool good, int64_t now, int64_t window, int64_t clear)
{
    if (bad) {
        if (f->bad_since == NONE)
            f->bad_since = now;
        f->good_since = NONE;
    } else if (good) {
        if (f->good_since == NONE)
            f->good_since = now;
        f->bad_since = NONE;
    } else {
        flag_reset(f);
    }
    if (!f->active && f->bad_since != NONE && now - f->bad_since >= window)
        return 1;
    if (f->active && f->good_since != NONE && now - f->good_since >= clear)
        return -1;
    return 0;
}

static const sw_problem_kind kinds[SW_PEER_DETECTORS] = {
    SW_PROBLEM_UNDERPERFORMING, SW_PROBLEM_NO_POWER, SW_PROBLEM_DIODE_LOSS, SW_PROBLEM_HOT, SW_PROBLEM_STUCK,
};

static size_t apply(sw_peers *pd, sw_model *m, size_t i, int k, int step, const char *reason, int64_t now)
{
    const sw_panel *p = sw_model_panel_at(m, i);
    sw_peer_flag *f = &pd->panel[i].flag[k];
    if (step > 0) {
        if (sw_model_problem_raise(m, kinds[k], p->source, p->series_id, p->name, reason, now) != SW_OK)
            return 0; /* the table is full: try again next round */
        f->active = true;
        flag_reset(f);
        pd->counters.raised++;
        return 1;
    }
    if (step < 0) {
        sw_model_problem_clear(m, kinds[k], p->source, p->series_id, now);
        f->active = false;
        flag_reset(f);
        pd->counters.cleared++;
        return 1;
    }
    return 0;
}

static unsigned minutes(int64_t ns) { return (unsigned)((ns + 30 * S_NS) / (60 * S_NS)); }

/* Compare panel i with the sorted values of its group (which include its own). */
static size_t judge(sw_peers *pd, sw_model *m, size_t i, size_t n, int64_t now)
{
    const sw_peers_config *c = &pd->cfg;
    const sw_panel *p = sw_model_panel_at(m, i);
    sw_peer_panel *st = &pd->panel[i];
    double pm = sw_peers_median_without(pd->power, n, p->power_w);
    double vm = sw_peers_median_without(pd->vin, n, p->voltage_in);
    double im = sw_peers_median_without(pd->cur, n, p->current_in);
    double tm = sw_peers_median_without(pd->temp, n, p->temperature_c);

    bool new_report = p->last_seen_ns != st->last_report_ns;
    if (new_report) {
        bool same = st->last_report_ns != NONE && p->voltage_in == st->last_vin && p->voltage_out == st->last_vout &&
                    p->current_in == st->last_current && p->temperature_c == st->last_temp &&
                    p->duty_cycle == st->last_duty;
        st->same_run = same ? st->same_run + 1 : 1;
        st->changed_run = same ? 0 : st->changed_run + 1;
        st->last_report_ns = p->last_seen_ns;
        st->last_vin = p->voltage_in;
        st->last_vout = p->voltage_out;
        st->last_current = p->current_in;
        st->last_temp = p->temperature_c;
        st->last_duty = p->duty_cycle;
    }

    if (pm < c->floor_w) {
        /* dawn, dusk, deep cloud: nothing here is evidence either way */
        for (int k = 0; k < SW_PEER_DETECTORS; k++)
            flag_reset(&st->flag[k]);
        st->same_run = 1;
        st->changed_run = 0;
        pd->counters.suppressed++;
        return 0;
    }

    size_t changes = 0;
    char why[SW_PROBLEM_REASON_MAX] = "";
    int step;

    /* no power: open circuit, no current, while the peers produce */
    bool np_bad = p->current_in <= c->no_power_current_a && p->voltage_in >= c->no_power_voltage_ratio * vm;
    bool np_good = p->current_in > 2.0 * c->no_power_current_a;
    step = flag_step(&st->flag[SW_PEER_NO_POWER], np_bad, np_good, now, c->no_power_window_ns, c->clear_ns);
    if (step > 0)
        snprintf(why, sizeof why, "%.1f V at %.2f A (open circuit) while the peers produce %.0f W",
                 p->voltage_in, p->current_in, pm);
    changes += apply(pd, m, i, SW_PEER_NO_POWER, step, why, now);

    /* diode loss: a third (or two) of the cells bypassed, the current as the peers' */
    double vr = vm > 0.0 ? p->voltage_in / vm : 1.0;
    bool d_bad = vr >= c->diode_voltage_min && vr <= c->diode_voltage_max &&
                 p->current_in >= c->diode_current_ratio * im;
    bool d_good = vr >= c->diode_voltage_clear;
    step = flag_step(&st->flag[SW_PEER_DIODE], d_bad, d_good, now, c->diode_window_ns, c->clear_ns);
    if (step > 0)
        snprintf(why, sizeof why,
                 "%.1f V, %.0f%% of the peers' %.1f V at a like current (%.2f A): a substring is bypassed",
                 p->voltage_in, 100.0 * vr, vm, p->current_in);
    changes += apply(pd, m, i, SW_PEER_DIODE, step, why, now);

    /* underperforming: low power that neither of the above explains */
    sw_peer_flag *uf = &st->flag[SW_PEER_UNDER];
    if (st->flag[SW_PEER_NO_POWER].active || st->flag[SW_PEER_DIODE].active) {
        flag_reset(uf);
        if (uf->active)
            changes += apply(pd, m, i, SW_PEER_UNDER, -1, NULL, now);
    } else {
        bool u_bad = p->power_w < c->under_ratio * pm;
        bool u_good = p->power_w >= c->under_clear_ratio * pm;
        step = flag_step(uf, u_bad, u_good, now, c->under_window_ns, c->clear_ns);
        if (step > 0)
            snprintf(why, sizeof why, "%.0f W, %.0f%% of the peers' median %.0f W for %u min", p->power_w,
                     pm > 0.0 ? 100.0 * p->power_w / pm : 0.0, pm, minutes(c->under_window_ns));
        changes += apply(pd, m, i, SW_PEER_UNDER, step, why, now);
    }

    /* hot */
    bool h_bad = p->temperature_c >= tm + c->hot_delta_c;
    bool h_good = p->temperature_c < tm + c->hot_clear_delta_c;
    step = flag_step(&st->flag[SW_PEER_HOT], h_bad, h_good, now, c->hot_window_ns, c->clear_ns);
    if (step > 0)
        snprintf(why, sizeof why, "%.1f \xC2\xB0" "C, %.1f \xC2\xB0" "C above the peers' median %.1f \xC2\xB0" "C",
                 p->temperature_c, p->temperature_c - tm, tm);
    changes += apply(pd, m, i, SW_PEER_HOT, step, why, now);

    /* stuck: counted in reports, so its windows are zero */
    bool s_bad = st->same_run >= c->stuck_reports;
    bool s_good = st->changed_run >= c->stuck_clear_reports;
    step = flag_step(&st->flag[SW_PEER_STUCK], s_bad, s_good, now, 0, 0);
    if (step > 0)
        snprintf(why, sizeof why, "%u identical reports in a row (%.2f V, %.3f A, %.1f \xC2\xB0" "C)",
                 st->same_run, p->voltage_in, p->current_in, p->temperature_c);
    changes += apply(pd, m, i, SW_PEER_STUCK, step, why, now);
    return changes;
}

static bool fresh(const sw_peers *pd, const sw_panel *p, int64_t now)
{
    return p->online && p->last_seen_ns != 0 && now - p->last_seen_ns <= pd->cfg.max_age_ns &&
           p->last_seen_ns - now <= pd->cfg.max_age_ns && isfinite(p->power_w) && isfinite(p->voltage_in) &&
           isfinite(p->current_in) && isfinite(p->temperature_c);
}

size_t sw_peers_check(sw_peers *pd, sw_model *m, int64_t now_ns)
{
    if (pd->last_round_ns != NONE && now_ns >= pd->last_round_ns && now_ns - pd->last_round_ns < pd->cfg.interval_ns)
        return 0;
    pd->last_round_ns = now_ns;
    pd->counters.rounds++;
    size_t np = sw_model_panel_count(m);
    if (np > SW_MODEL_MAX_PANELS)
        np = SW_MODEL_MAX_PANELS;

    /* Number the peer groups: 0 = the panels in no string, then each string as first met. */
    const char *names[SW_MODEL_MAX_STRINGS + 2];
    size_t n_groups = 1;
    names[0] = "";
    for (size_t i = 0; i < np; i++) {
        const char *s = sw_model_panel_at(m, i)->string_name;
        size_t g = 0;
        if (s[0]) {
            for (g = 1; g < n_groups && strcmp(names[g], s) != 0; g++)
                ;
            if (g == n_groups && n_groups < SW_MODEL_MAX_STRINGS + 2)
                names[n_groups++] = s;
        }
        pd->group[i] = (uint16_t)g;
    }

    /* a panel without a fresh report gives no evidence: its pending streaks start over */
    for (size_t i = 0; i < np; i++)
        if (!fresh(pd, sw_model_panel_at(m, i), now_ns))
            for (int d = 0; d < SW_PEER_DETECTORS; d++)
                flag_reset(&pd->panel[i].flag[d]);

    size_t changes = 0;
    for (size_t g = 0; g < n_groups; g++) {
        size_t n = 0;
        for (size_t i = 0; i < np; i++) {
            const sw_panel *p = sw_model_panel_at(m, i);
            if (pd->group[i] != g || !fresh(pd, p, now_ns))
                continue;
            pd->members[n] = (uint32_t)i;
            pd->power[n] = p->power_w;
            pd->vin[n] = p->voltage_in;
            pd->cur[n] = p->current_in;
            pd->temp[n] = p->temperature_c;
            n++;
        }
        if (n < (size_t)pd->cfg.min_peers + 1) {
            /* too few to compare with: whatever streak was running has no evidence now */
            for (size_t k = 0; k < n; k++)
                for (int d = 0; d < SW_PEER_DETECTORS; d++)
                    flag_reset(&pd->panel[pd->members[k]].flag[d]);
            continue;
        }
        qsort(pd->power, n, sizeof(double), cmp_double);
        qsort(pd->vin, n, sizeof(double), cmp_double);
        qsort(pd->cur, n, sizeof(double), cmp_double);
        qsort(pd->temp, n, sizeof(double), cmp_double);
        for (size_t k = 0; k < n; k++)
            changes += judge(pd, m, pd->members[k], n, now_ns);
    }
    return changes;
}
