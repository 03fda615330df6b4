/*
 * crosscheck.c: summed panel power against the inverter's tracker power
 * (see health/crosscheck.h and docs/health.md, "Tigo and RCT cross-check").
 */
#include "health/crosscheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "health/battery.h"
#include "health/health_hold.h"

/* A raised mismatch clears once the loss is back under this share of the noise floor. */
#define CLEAR_SHARE 0.7

void sw_crosscheck_config_default(sw_crosscheck_config *c)
{
    c->noise_pct = 10.0;
    c->floor_w = 300.0;
    c->window_ns = 300LL * 1000000000LL;
    c->hold_ns = 900LL * 1000000000LL;
    c->max_age_ns = 60LL * 1000000000LL;
}

void sw_crosscheck_init(sw_crosscheck *cc, const sw_crosscheck_config *cfg)
{
    memset(cc, 0, sizeof *cc);
    if (cfg)
        cc->cfg = *cfg;
    else
        sw_crosscheck_config_default(&cc->cfg);
}

sw_err sw_crosscheck_add(sw_crosscheck *cc, const char *string, const char *inverter, unsigned input)
{
    if (!string || !string[0] || !inverter || !inverter[0])
        return SW_ERR_INVALID_ARGUMENT;
    if (input >= SW_CROSSCHECK_MAX_INPUTS)
        return SW_ERR_OUT_OF_RANGE;
    if (cc->n >= SW_CROSSCHECK_MAX)
        return SW_ERR_NO_SPACE;
    sw_crosscheck_string *s = &cc->s[cc->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->string, sizeof s->string, "%s", string);
    snprintf(s->inverter, sizeof s->inverter, "%s", inverter);
    s->input = input;
    return SW_OK;
}

bool sw_crosscheck_wants(const sw_crosscheck *cc, const char *inverter, unsigned input)
{
    for (size_t i = 0; i < cc->n; i++)
        if (cc->s[i].input == input && strcmp(cc->s[i].inverter, inverter) == 0)
            return true;
    return false;
}

void sw_crosscheck_object(unsigned input, char *out, size_t cap)
{
    snprintf(out, cap, "dc_conv.dc_conv_struct[%u].p_dc", input);
}

bool sw_crosscheck_parse_object(const char *name, unsigned *input)
{
    unsigned n;
    char tail[8];
    if (sscanf(name, "dc_conv.dc_conv_struct[%u].p_d%7s", &n, tail) != 2 || strcmp(tail, "c") != 0)
        return false;
    *input = n;
    return n < SW_CROSSCHECK_MAX_INPUTS;
}

/* Exponential smoothing by elapsed time: a reading window_ns later weighs 1 - 1/e. */
static double smooth(double avg, double x, int64_t dt_ns, int64_t window_ns)
{
    if (window_ns <= 0)
        return x;
    double k = 1.0 - exp(-(double)dt_ns / (double)window_ns);
    return avg + k * (x - avg);
}

static void check_one(sw_crosscheck *cc, sw_crosscheck_string *s, sw_model *m, double p_dc_w, int64_t now_ns)
{
    const sw_string_agg *agg = sw_model_string_find(m, s->string);
    /* Evidence only while every panel of the string reports: a short sum is no loss. */
    if (!agg || agg->panels == 0 || agg->online < agg->panels) {
        s->have = false;
        return;
    }
    /* ... and only while every panel's last report is recent: a bus that lags or stalls gives a sum of
     * another moment than the tracker's reading */
    for (size_t i = 0; i < sw_model_panel_count(m); i++) {
        const sw_panel *p = sw_model_panel_at(m, i);
        if (strcmp(p->string_name, s->string) == 0 && p->online && now_ns - p->last_seen_ns > cc->cfg.max_age_ns) {
            s->have = false;
            return;
        }
    }
    double panels = agg->power_sum_w, dc = p_dc_w;
    if (!s->have || now_ns <= s->last_ns) {
        s->panels_w = panels;
        s->dc_w = dc;
    } else {
        s->panels_w = smooth(s->panels_w, panels, now_ns - s->last_ns, cc->cfg.window_ns);
        s->dc_w = smooth(s->dc_w, dc, now_ns - s->last_ns, cc->cfg.window_ns);
    }
    s->have = true;
    s->last_ns = now_ns;
    double top = fmax(s->panels_w, s->dc_w);
    double loss_w = s->panels_w - s->dc_w, loss_pct = top > 0 ? 100.0 * loss_w / top : 0.0;
    char name[SW_MODEL_NAME_MAX];
    snprintf(name, sizeof name, "health.string.%.36s.dc_loss_w", s->string);
    sw_health_publish_number(m, s->inverter, name, "W", loss_w, now_ns);
    snprintf(name, sizeof name, "health.string.%.36s.dc_loss_pct", s->string);
    sw_health_publish_number(m, s->inverter, name, "%", top >= cc->cfg.floor_w ? loss_pct : 0.0, now_ns);
    if (top < cc->cfg.floor_w)
        return; /* dawn, dusk, night: no judgement either way */
    if (sw_health_held(&s->bad_since_ns, fabs(loss_pct) > cc->cfg.noise_pct, now_ns, cc->cfg.hold_ns)) {
        char reason[SW_PROBLEM_REASON_MAX];
        /* whole percent, and no watts: a reason is news only when the disagreement itself moves */
        snprintf(reason, sizeof reason, "%s input %u sees %.0f%% %s than the panels deliver (noise floor %.0f%%)",
                 s->inverter, s->input, fabs(loss_pct), loss_pct >= 0 ? "less" : "more", cc->cfg.noise_pct);
        if (sw_model_problem_raise(m, SW_PROBLEM_DC_MISMATCH, s->inverter, s->string, NULL, reason, now_ns) == SW_OK)
            s->raised = true;
    }
    if (s->raised &&
        sw_health_held(&s->ok_since_ns, fabs(loss_pct) < CLEAR_SHARE * cc->cfg.noise_pct, now_ns, cc->cfg.hold_ns)) {
        sw_model_problem_clear(m, SW_PROBLEM_DC_MISMATCH, s->inverter, s->string, now_ns);
        s->raised = false;
    } else if (!s->raised) {
        s->ok_since_ns = 0;
    }
}

void sw_crosscheck_dc(sw_crosscheck *cc, sw_model *m, const char *inverter, unsigned input, double p_dc_w,
                      int64_t now_ns)
{
    if (!isfinite(p_dc_w))
        return;
    for (size_t i = 0; i < cc->n; i++)
        if (cc->s[i].input == input && strcmp(cc->s[i].inverter, inverter) == 0)
            check_one(cc, &cc->s[i], m, p_dc_w, now_ns);
}
