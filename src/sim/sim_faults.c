/*
 * sim_faults.c: the table of fault kinds and their parser (see sim/sim_faults.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_faults.h"

#define S_NS 1000000000LL

/* One row per kind, in enum order. */
static const sw_sim_fault_info table[] = {
    { SW_SIM_FAULT_INVERTED, "inverted", SW_SIM_FAULT_ARG_NONE, NULL, false, 0, 0, 0,
      "A and B swapped: the listener sees the inverted line" },
    { SW_SIM_FAULT_BAUD, "baud", SW_SIM_FAULT_ARG_NUMBER, "BAUD", true, 1200, 460800, 0,
      "the listener's UART runs at BAUD while the bus runs at 38400" },
    { SW_SIM_FAULT_NOISE, "noise", SW_SIM_FAULT_ARG_NUMBER, "RATE", false, 0.0, 0.5, 0.001,
      "each bit on the wire is flipped with probability RATE (default 0.001)" },
    { SW_SIM_FAULT_SILENT, "silent", SW_SIM_FAULT_ARG_NONE, NULL, false, 0, 0, 0,
      "no byte reaches the listener (power or wiring lost)" },
    { SW_SIM_FAULT_NO_CONTROLLER, "no-controller", SW_SIM_FAULT_ARG_NONE, NULL, false, 0, 0, 0,
      "gateways answer but the controller's requests never reach the listener" },
    { SW_SIM_FAULT_RADIO, "radio", SW_SIM_FAULT_ARG_NUMBER, "LOSS", false, 0.0, 1.0, 0.6,
      "the first panel's radio degrades over 10 minutes: report loss grows to LOSS (default 0.6), RSSI falls by 40" },
    { SW_SIM_FAULT_NO_POLLING, "no-polling", SW_SIM_FAULT_ARG_NONE, NULL, false, 0, 0, 0,
      "the controller stops polling (no receive requests); its other commands go on" },
    { SW_SIM_FAULT_SHRINK, "shrink", SW_SIM_FAULT_ARG_NUMBER, "N", false, 1, 63, 3,
      "the last N panels (default 3) of the first TAP vanish from its node table and network" },
    { SW_SIM_FAULT_FIRMWARE, "firmware", SW_SIM_FAULT_ARG_NONE, NULL, false, 0, 0, 0,
      "the first TAP is updated (a later version text; the controller re-enumerates); END rolls it back" },
    { SW_SIM_FAULT_PV_OFF, "pv-off", SW_SIM_FAULT_ARG_NONE, NULL, false, 0, 0, 0,
      "the controller broadcasts PV off (rapid shutdown, re-asserted hourly): every panel outputs 0 V, 0 W" },
};

_Static_assert(sizeof table / sizeof table[0] == SW_SIM_FAULT_KIND_COUNT - 1, "one row per fault kind");

const sw_sim_fault_info *sw_sim_fault_table(size_t *count)
{
    if (count)
        *count = sizeof table / sizeof table[0];
    return table;
}

const sw_sim_fault_info *sw_sim_fault_info_of(sw_sim_fault_kind kind)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].kind == kind)
            return &table[i];
    return NULL;
}

sw_err sw_sim_fault_error(sw_err e, char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return e;
}

sw_err sw_sim_parse_duration(const char *text, size_t len, int64_t *out_ns)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return SW_ERR_BAD_NUMBER;
    memcpy(buf, text, len);
    buf[len] = 0;
    double mul = 1.0;
    char unit = buf[len - 1];
    if (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') {
        mul = unit == 's' ? 1.0 : unit == 'm' ? 60.0 : unit == 'h' ? 3600.0 : 86400.0;
        buf[--len] = 0;
    }
    if (len == 0 || buf[0] < '0' || buf[0] > '9')
        return SW_ERR_BAD_NUMBER;
    char *end = NULL;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v))
        return SW_ERR_BAD_NUMBER;
    v *= mul;
    if (v < 0.0 || v > 400.0 * 86400.0)
        return SW_ERR_OUT_OF_RANGE;
    *out_ns = (int64_t)llround(v * (double)S_NS);
    return SW_OK;
}

sw_err sw_sim_fault_parse(const char *text, sw_sim_fault *out, char *err, size_t errcap)
{
    if (!text || !out)
        return SW_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    size_t name_len = strcspn(text, "=:@");
    const sw_sim_fault_info *info = NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].name) == name_len && strncmp(table[i].name, text, name_len) == 0)
            info = &table[i];
    if (!info)
        return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "unknown fault '%.*s'", (int)name_len, text);
    out->kind = info->kind;
    out->value = info->def;

    const char *p = text + name_len;
    const char *at = strchr(p, '@');
    size_t arg_len = 0;
    if (*p == '=' || *p == ':') {
        p++;
        arg_len = at ? (size_t)(at - p) : strlen(p);
        if (arg_len == 0)
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "fault '%s': empty argument", info->name);
        if (info->arg == SW_SIM_FAULT_ARG_NONE)
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "fault '%s' takes no argument", info->name);
        if (arg_len >= sizeof out->args)
            return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "fault '%s': argument too long", info->name);
        memcpy(out->args, p, arg_len);
        out->args[arg_len] = 0;
    } else if (info->arg_required) {
        return sw_sim_fault_error(SW_ERR_INVALID_ARGUMENT, err, errcap, "fault '%s' needs a value: %s=%s", info->name, info->name,
                    info->arg_name ? info->arg_name : "VALUE");
    }
    if (info->arg == SW_SIM_FAULT_ARG_NUMBER && arg_len) {
        char *end = NULL;
        errno = 0;
        double v = strtod(out->args, &end);
        if (errno || *end || !isfinite(v))
            return sw_sim_fault_error(SW_ERR_BAD_NUMBER, err, errcap, "fault '%s': '%s' is not a number", info->name, out->args);
        if (v < info->min || v > info->max)
            return sw_sim_fault_error(SW_ERR_OUT_OF_RANGE, err, errcap, "fault '%s': %s is outside %g .. %g", info->name,
                        out->args, info->min, info->max);
        out->value = v;
    }
    if (at) {
        const char *t = at + 1;
        const char *dash = strchr(t, '-');
        size_t start_len = dash ? (size_t)(dash - t) : strlen(t);
        sw_err e = sw_sim_parse_duration(t, start_len, &out->start_ns);
        if (e == SW_OK && dash)
            e = sw_sim_parse_duration(dash + 1, strlen(dash + 1), &out->end_ns);
        if (e != SW_OK)
            return sw_sim_fault_error(e, err, errcap, "fault '%s': '%s' is not a time (use @START[-END], e.g. @10m or @5m-1h)",
                        info->name, at);
        if (dash && out->end_ns <= out->start_ns)
            return sw_sim_fault_error(SW_ERR_OUT_OF_RANGE, err, errcap, "fault '%s': it must end after it starts", info->name);
    }
    return SW_OK;
}

sw_err sw_sim_faults_add(sw_sim_faults *faults, const char *text, char *err, size_t errcap)
{
    if (faults->n >= SW_SIM_MAX_FAULTS)
        return sw_sim_fault_error(SW_ERR_NO_SPACE, err, errcap, "at most %d faults", SW_SIM_MAX_FAULTS);
    sw_err e = sw_sim_fault_parse(text, &faults->list[faults->n], err, errcap);
    if (e == SW_OK)
        faults->n++;
    return e;
}

bool sw_sim_fault_in_force(const sw_sim_fault *f, int64_t since_start_ns)
{
    return since_start_ns >= f->start_ns && (f->end_ns == 0 || since_start_ns < f->end_ns);
}

const sw_sim_fault *sw_sim_faults_active(const sw_sim_faults *faults, sw_sim_fault_kind kind, int64_t since_start_ns)
{
    for (size_t i = 0; faults && i < faults->n; i++)
        if (faults->list[i].kind == kind && sw_sim_fault_in_force(&faults->list[i], since_start_ns))
            return &faults->list[i];
    return NULL;
}

bool sw_sim_faults_has(const sw_sim_faults *faults, sw_sim_fault_kind kind)
{
    for (size_t i = 0; faults && i < faults->n; i++)
        if (faults->list[i].kind == kind)
            return true;
    return false;
}
