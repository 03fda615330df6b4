/*
 * sim_faults_peers.c: the table of panel fault kinds and their parser (see
 * sim/sim_faults_peers.h). What each fault does to a report is in sim_tigo.c.
 */
#include "sim/sim_faults_peers.h"
#include "sim/sim_faults.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NS 1000000000LL

static const sw_sim_panel_fault_info table[] = {
    { SW_SIM_PANEL_DEAD, "dead", NULL, 0, 0, 0,
      "the optimizer passes no power: input near open circuit, no current, output 0" },
    { SW_SIM_PANEL_DIODE, "diode", "SUBSTRINGS", 1, 2, 1,
      "SUBSTRINGS (1 or 2, default 1) of the panel's three are bypassed: input voltage down a third each" },
    { SW_SIM_PANEL_HOT, "hot", "DEGREES", 1, 80, 25, "the panel runs DEGREES hotter (default 25)" },
    { SW_SIM_PANEL_STUCK, "stuck", NULL, 0, 0, 0, "the optimizer repeats its last measurement exactly" },
    { SW_SIM_PANEL_SOILED, "soiled", "LIGHT", 0.05, 1, 0.6, "the panel gets LIGHT of the sunlight (default 0.6)" },
};

_Static_assert(sizeof table / sizeof table[0] == SW_SIM_PANEL_FAULT_COUNT - 1, "one row per fault kind");

const sw_sim_panel_fault_info *sw_sim_panel_fault_table(size_t *count)
{
    if (count)
        *count = sizeof table / sizeof table[0];
    return table;
}

static const sw_sim_panel_fault_info *lookup(const char *text, size_t *name_len)
{
    *name_len = strcspn(text, ":=@");
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].name) == *name_len && strncmp(table[i].name, text, *name_len) == 0)
            return &table[i];
    return NULL;
}

bool sw_sim_panel_fault_is_named(const char *text)
{
    size_t n;
    return text && lookup(text, &n) != NULL;
}

/* An offset with an optional unit s, m, h, d, into ns (the one parser of sim/sim_faults.h). */
static bool offset_ns(const char *text, size_t len, int64_t *out)
{
    return sw_sim_parse_duration(text, len, out) == SW_OK;
}

static bool index_of(const char *s, size_t len, unsigned *out)
{
    if (len == 0 || len > 3)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0)
        return false;
    *out = v - 1;
    return true;
}

sw_err sw_sim_panel_fault_parse(const char *text, sw_sim_panel_fault *out, char *err, size_t errcap)
{
    if (!text || !out)
        return SW_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    size_t n;
    const sw_sim_panel_fault_info *info = lookup(text, &n);
    if (!info)
        return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "unknown fault '%.*s'", (int)n, text);
    out->kind = info->kind;
    out->value = info->def;
    const char *p = text + n;
    if (*p == ':') {
        p++;
        size_t len = strcspn(p, "=@");
        const char *dot = memchr(p, '.', len);
        if (!dot || !index_of(p, (size_t)(dot - p), &out->gateway) ||
            !index_of(dot + 1, len - (size_t)(dot - p) - 1, &out->panel))
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap,
                        "fault '%s': '%.*s' is not GATEWAY.PANEL (both from 1, e.g. 1.3)", info->name, (int)len, p);
        p += len;
    }
    if (*p == '=') {
        p++;
        size_t len = strcspn(p, "@");
        if (!info->value_name)
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "fault '%s' takes no value", info->name);
        char buf[32];
        if (len == 0 || len >= sizeof buf)
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "fault '%s': bad value", info->name);
        memcpy(buf, p, len);
        buf[len] = 0;
        char *end = NULL;
        errno = 0;
        double v = strtod(buf, &end);
        if (errno || *end || !isfinite(v))
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "fault '%s': '%s' is not a number", info->name, buf);
        if (v < info->min || v > info->max)
            return sw_sim_fault_error(SW_ERR_OUT_OF_RANGE, err, errcap, "fault '%s': %s is outside %g .. %g", info->name, buf,
                        info->min, info->max);
        out->value = v;
        p += len;
    }
    if (*p == '@') {
        p++;
        const char *dash = strchr(p, '-');
        size_t len = dash ? (size_t)(dash - p) : strlen(p);
        if (!offset_ns(p, len, &out->start_ns) || (dash && !offset_ns(dash + 1, strlen(dash + 1), &out->end_ns)))
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap,
                        "fault '%s': '%s' is not a time (use @START[-END], e.g. @10m or @2h-5h)", info->name, p);
        if (dash && out->end_ns <= out->start_ns)
            return sw_sim_fault_error(SW_ERR_OUT_OF_RANGE, err, errcap, "fault '%s': it must end after it starts", info->name);
        p += strlen(p);
    }
    if (*p)
        return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "fault '%s': unexpected '%s'", info->name, p);
    return SW_OK;
}

bool sw_sim_panel_fault_in_force(const sw_sim_panel_fault *f, int64_t since_start_ns)
{
    return since_start_ns >= f->start_ns && (f->end_ns == 0 || since_start_ns < f->end_ns);
}
