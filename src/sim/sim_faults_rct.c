/*
 * sim_faults_rct.c: the RCT simulator's fault kinds and their parser
 * (see sim/sim_faults_rct.h).
 */
#include "sim/sim_faults_rct.h"
#include "sim/sim_faults.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_sim_rct_fault_info table[] = {
    { SW_SIM_RCT_FAULT_DRIFTING_CELL, "drifting-cell", "MODULE.CELL", "mV", 1, 1000, 150,
      "one cell drifts VALUE mV (default 150) below the others over two simulated hours" },
    { SW_SIM_RCT_FAULT_HOT_MODULE, "hot-module", "MODULE", "degC", 1, 60, 15,
      "one battery module runs VALUE degC (default 15) warmer than the others" },
    { SW_SIM_RCT_FAULT_DC_LOSS, "dc-loss", "INPUT", "%", 1, 100, 30,
      "the tracker of INPUT (default 0) sees VALUE % (default 30) less DC power than the panels deliver" },
};

_Static_assert(sizeof table / sizeof table[0] == SW_SIM_RCT_FAULT_KIND_COUNT - 1, "one row per fault kind");

const sw_sim_rct_fault_info *sw_sim_rct_fault_table(size_t *count)
{
    if (count)
        *count = sizeof table / sizeof table[0];
    return table;
}

/* "90", "90s", "15m", "2h", "1d" -> whole seconds (the one parser of sim/sim_faults.h). */
static bool duration_s(const char *text, size_t len, int64_t *out)
{
    int64_t ns;
    if (sw_sim_parse_duration(text, len, &ns) != SW_OK)
        return false;
    *out = (ns + 500000000) / 1000000000;
    return true;
}

static bool whole(const char *text, size_t len, int max, int *out)
{
    if (len == 0 || len > 4)
        return false;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (text[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

sw_err sw_sim_rct_fault_parse(const char *text, sw_sim_rct_fault *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    out->module = out->cell = out->input = -1;
    size_t nlen = strcspn(text, ":=@");
    const sw_sim_rct_fault_info *info = NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].name) == nlen && strncmp(table[i].name, text, nlen) == 0)
            info = &table[i];
    if (!info)
        return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "unknown fault '%.*s' (known: drifting-cell, hot-module, dc-loss)", (int)nlen, text);
    out->kind = info->kind;
    out->value = info->def;
    const char *p = text + nlen;
    if (*p == ':') {
        p++;
        size_t tlen = strcspn(p, "=@");
        bool ok;
        if (info->kind == SW_SIM_RCT_FAULT_DRIFTING_CELL) {
            const char *dot = memchr(p, '.', tlen);
            ok = dot && whole(p, (size_t)(dot - p), 6, &out->module) &&
                 whole(dot + 1, tlen - (size_t)(dot - p) - 1, 23, &out->cell);
        } else if (info->kind == SW_SIM_RCT_FAULT_HOT_MODULE) {
            ok = whole(p, tlen, 6, &out->module);
        } else {
            ok = whole(p, tlen, 3, &out->input);
        }
        if (!ok)
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "%s: target '%.*s' is not %s", info->name, (int)tlen, p, info->target);
        p += tlen;
    }
    if (*p == '=') {
        p++;
        size_t vlen = strcspn(p, "@");
        char buf[32];
        char *end;
        if (vlen == 0 || vlen >= sizeof buf)
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "%s: missing or too long value", info->name);
        memcpy(buf, p, vlen);
        buf[vlen] = 0;
        errno = 0;
        double v = strtod(buf, &end);
        if (errno || *end || !isfinite(v) || v < info->min || v > info->max)
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "%s: value '%s' is not a number from %g to %g %s", info->name, buf, info->min,
                       info->max, info->unit);
        out->value = v;
        p += vlen;
    }
    if (*p == '@') {
        p++;
        size_t slen = strcspn(p, "-");
        if (!duration_s(p, slen, &out->start_s))
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "%s: start '%.*s' is not a duration (e.g. 90, 15m, 2h)", info->name, (int)slen, p);
        p += slen;
        if (*p == '-') {
            p++;
            if (!duration_s(p, strlen(p), &out->end_s) || out->end_s <= out->start_s)
                return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "%s: end '%s' is not a duration after the start", info->name, p);
            p += strlen(p);
        }
    }
    if (*p)
        return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "%s: unexpected '%s' (expected KIND[:TARGET][=VALUE][@START[-END]])", info->name, p);
    return SW_OK;
}

sw_err sw_sim_rct_faults_add(sw_sim_rct_faults *f, const char *text, char *err, size_t errcap)
{
    if (f->n >= SW_SIM_RCT_MAX_FAULTS) {
        sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "more than %d faults", SW_SIM_RCT_MAX_FAULTS);
        return SW_ERR_NO_SPACE;
    }
    sw_err e = sw_sim_rct_fault_parse(text, &f->list[f->n], err, errcap);
    if (e == SW_OK)
        f->n++;
    return e;
}

const sw_sim_rct_fault *sw_sim_rct_faults_active(const sw_sim_rct_faults *f, sw_sim_rct_fault_kind kind,
                                                 int64_t since_start_s, int64_t *elapsed_s)
{
    for (size_t i = 0; i < f->n; i++) {
        const sw_sim_rct_fault *x = &f->list[i];
        if (x->kind != kind || since_start_s < x->start_s || (x->end_s && since_start_s >= x->end_s))
            continue;
        if (elapsed_s)
            *elapsed_s = since_start_s - x->start_s;
        return x;
    }
    return NULL;
}
