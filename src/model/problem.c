/*
 * problem.c: the kinds of problem, their JSON form, and the model's table of
 * problem records (model/problem.h, model/problem_table.h).
 */
#include "model/problem.h"
#include "model/problem_table.h"

#include <stdio.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/json.h"

/* Each kind once: its name in every output, what it is about, its title. */
static const struct {
    sw_problem_kind kind;
    const char *name;
    sw_subject_kind subject;
    const char *title;
} KINDS[] = {
    {SW_PROBLEM_UNDERPERFORMING, "underperforming", SW_SUBJECT_PANEL, "Underperforming"},
    {SW_PROBLEM_NO_POWER, "no_power", SW_SUBJECT_PANEL, "Optimizer passes no power"},
    {SW_PROBLEM_DIODE_LOSS, "diode_loss", SW_SUBJECT_PANEL, "Substring or bypass diode lost"},
    {SW_PROBLEM_HOT, "hot", SW_SUBJECT_PANEL, "Hotter than its peers"},
    {SW_PROBLEM_STUCK, "stuck", SW_SUBJECT_PANEL, "Readings stuck"},
    {SW_PROBLEM_RADIO_DEGRADING, "radio_degrading", SW_SUBJECT_PANEL, "Radio link degrading"},
    {SW_PROBLEM_CONTROLLER_SILENT, "controller_silent", SW_SUBJECT_BUS, "Controller stopped polling"},
    {SW_PROBLEM_NODE_TABLE_SHRANK, "node_table_shrank", SW_SUBJECT_GATEWAY, "Node table shrank"},
    {SW_PROBLEM_NODES_MISSING, "nodes_missing", SW_SUBJECT_GATEWAY, "Network counts fewer nodes than the table"},
    {SW_PROBLEM_FIRMWARE_CHANGED, "firmware_changed", SW_SUBJECT_GATEWAY, "Firmware changed"},
    {SW_PROBLEM_LINE, "line", SW_SUBJECT_BUS, "Bus wiring or line fault"},
    {SW_PROBLEM_CELL_SPREAD, "cell_spread", SW_SUBJECT_BATTERY, "Battery cell voltage spread"},
    {SW_PROBLEM_MODULE_HOT, "module_hot", SW_SUBJECT_BATTERY, "Battery module hotter than the others"},
    {SW_PROBLEM_DC_MISMATCH, "dc_mismatch", SW_SUBJECT_STRING, "Panels and inverter disagree on DC power"},
    {SW_PROBLEM_PV_OFF, "pv_off", SW_SUBJECT_BUS, "Rapid shutdown: PV off"},
};
#define N_KINDS (sizeof KINDS / sizeof KINDS[0])

static int kind_index(sw_problem_kind k)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (KINDS[i].kind == k)
            return (int)i;
    return -1;
}

const char *sw_problem_kind_name(sw_problem_kind k)
{
    int i = kind_index(k);
    return i < 0 ? NULL : KINDS[i].name;
}

const char *sw_problem_kind_title(sw_problem_kind k)
{
    int i = kind_index(k);
    return i < 0 ? NULL : KINDS[i].title;
}

sw_subject_kind sw_problem_kind_subject(sw_problem_kind k)
{
    int i = kind_index(k);
    return i < 0 ? SW_SUBJECT_SITE : KINDS[i].subject;
}

sw_problem_kind sw_problem_kind_from_name(const char *name)
{
    for (size_t i = 0; name && i < N_KINDS; i++)
        if (strcmp(KINDS[i].name, name) == 0)
            return KINDS[i].kind;
    return (sw_problem_kind)0;
}

const char *sw_subject_kind_name(sw_subject_kind k)
{
    switch (k) {
    case SW_SUBJECT_PANEL: return "panel";
    case SW_SUBJECT_STRING: return "string";
    case SW_SUBJECT_GATEWAY: return "gateway";
    case SW_SUBJECT_BUS: return "bus";
    case SW_SUBJECT_INVERTER: return "inverter";
    case SW_SUBJECT_BATTERY: return "battery";
    case SW_SUBJECT_SITE: return "site";
    }
    return "site";
}

static void json_time(sw_json *j, const char *key, int64_t ns)
{
    sw_json_key(j, key);
    if (ns == 0) {
        sw_json_null(j);
        return;
    }
    char t[SW_RFC3339_MAX];
    sw_fmt_rfc3339(t, ns, 0);
    sw_json_string(j, t);
}

sw_err sw_problem_json(const sw_problem *p, char *buf, size_t cap, size_t *len)
{
    if (len)
        *len = 0;
    if (!p || !buf)
        return SW_ERR_INVALID_ARGUMENT;
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    sw_json_key(&j, "kind");
    sw_json_string(&j, sw_problem_kind_name(p->kind) ? sw_problem_kind_name(p->kind) : "unknown");
    sw_json_key(&j, "subject_kind");
    sw_json_string(&j, sw_subject_kind_name(p->subject_kind));
    sw_json_key(&j, "source");
    sw_json_string(&j, p->source);
    sw_json_key(&j, "subject");
    sw_json_string(&j, p->subject);
    sw_json_key(&j, "name");
    sw_json_string(&j, p->name);
    sw_json_key(&j, "active");
    sw_json_bool(&j, p->active);
    json_time(&j, "since", p->since_ns);
    json_time(&j, "until", p->active ? 0 : p->until_ns);
    sw_json_key(&j, "reason");
    sw_json_string(&j, p->reason);
    sw_json_object_end(&j);
    if (!sw_json_finish(&j))
        return SW_ERR_NO_SPACE;
    if (len)
        *len = j.len;
    return SW_OK;
}

/* ---- the table ------------------------------------------------------------ */
static void copy(char *dst, size_t cap, const char *src)
{
    memset(dst, 0, cap);
    snprintf(dst, cap, "%s", src ? src : "");
}

sw_problem *sw_problem_table_find(const sw_problem_table *t, sw_problem_kind kind, const char *source,
                                  const char *subject)
{
    for (size_t i = 0; i < t->n; i++) {
        sw_problem *p = &t->rows[i];
        if (p->kind == kind && strcmp(p->source, source ? source : "") == 0 && strcmp(p->subject, subject) == 0)
            return p;
    }
    return NULL;
}

/* A row for a new record: a free one, else the one cleared longest ago. */
static sw_problem *new_row(sw_problem_table *t)
{
    if (t->n < SW_MODEL_MAX_PROBLEMS)
        return &t->rows[t->n++];
    size_t oldest = t->n;
    for (size_t i = 0; i < t->n; i++)
        if (!t->rows[i].active && (oldest == t->n || t->rows[i].until_ns < t->rows[oldest].until_ns))
            oldest = i;
    if (oldest == t->n)
        return NULL;
    /* keep first-raised order: the reused row moves to the end */
    memmove(&t->rows[oldest], &t->rows[oldest + 1], (t->n - oldest - 1) * sizeof t->rows[0]);
    return &t->rows[t->n - 1];
}

sw_err sw_problem_table_raise(sw_problem_table *t, sw_problem_kind kind, const char *source, const char *subject,
                              const char *name, const char *reason, int64_t now_ns, sw_problem **row,
                              bool *changed)
{
    *row = NULL;
    *changed = false;
    if (kind_index(kind) < 0 || !subject || !subject[0])
        return SW_ERR_INVALID_ARGUMENT;
    const char *shown = name && name[0] ? name : subject;
    sw_problem *p = sw_problem_table_find(t, kind, source, subject);
    if (!p) {
        p = new_row(t);
        if (!p)
            return SW_ERR_NO_SPACE;
        memset(p, 0, sizeof *p);
        p->kind = kind;
        p->subject_kind = sw_problem_kind_subject(kind);
        copy(p->source, sizeof p->source, source);
        copy(p->subject, sizeof p->subject, subject);
    }
    if (!p->active) {
        p->active = true;
        p->since_ns = now_ns;
        p->until_ns = 0;
        *changed = true;
    }
    if (strncmp(p->reason, reason ? reason : "", sizeof p->reason - 1) != 0 ||
        strncmp(p->name, shown, sizeof p->name - 1) != 0) {
        copy(p->reason, sizeof p->reason, reason);
        copy(p->name, sizeof p->name, shown);
        *changed = true;
    }
    if (*changed)
        p->updated_ns = now_ns;
    *row = p;
    return SW_OK;
}

void sw_problem_table_clear(sw_problem_table *t, sw_problem_kind kind, const char *source, const char *subject,
                            int64_t now_ns, sw_problem **row)
{
    *row = NULL;
    if (!subject)
        return;
    sw_problem *p = sw_problem_table_find(t, kind, source, subject);
    if (!p || !p->active)
        return;
    p->active = false;
    p->until_ns = now_ns;
    p->updated_ns = now_ns;
    *row = p;
}

size_t sw_problem_table_active(const sw_problem_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->rows[i].active;
    return n;
}
