/*
 * health.c: the daemon's side of battery health and the Tigo <-> RCT
 * cross-check: it owns the detectors of src/health, tells each RCT poller
 * which objects they need, hands them every polled value with the daemon's
 * time, and logs every problem as it is raised or cleared (a small sink of
 * its own, so any detector's problems reach the log).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_internal.h"
#include "health/battery.h"
#include "health/crosscheck.h"
#include "io/log.h"

#define LOG_TARGET "sunwire::health"

struct sw_daemon_health {
    sw_daemon *d;
    sw_crosscheck cc;
    size_t n_battery;
    sw_battery_health *battery; /* one per [rct] section, in its order */
};

static void log_problem(void *self, const sw_problem *p)
{
    (void)self;
    if (p->active && p->since_ns == p->updated_ns)
        SW_LOGW(LOG_TARGET, "problem %s on %s %s: %s", sw_problem_kind_name(p->kind),
                sw_subject_kind_name(p->subject_kind), p->subject, p->reason);
    else if (p->active)
        SW_LOGD(LOG_TARGET, "problem %s on %s %s now: %s", sw_problem_kind_name(p->kind),
                sw_subject_kind_name(p->subject_kind), p->subject, p->reason);
    else
        SW_LOGI(LOG_TARGET, "problem %s on %s %s cleared", sw_problem_kind_name(p->kind),
                sw_subject_kind_name(p->subject_kind), p->subject);
}

static const sw_sink_ops log_ops = { .name = "problem-log", .on_problem = log_problem };

sw_daemon_health *sw_daemon_health_new(sw_daemon *d)
{
    const sw_daemon_config *c = d->cfg;
    sw_daemon_health *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->d = d;
    sw_crosscheck_init(&h->cc, &c->crosscheck);
    for (size_t i = 0; i < c->n_dc_inputs; i++)
        sw_crosscheck_add(&h->cc, c->dc_inputs[i].string, c->dc_inputs[i].inverter, c->dc_inputs[i].input);
    if (c->battery_health && c->n_rct > 0) {
        h->battery = calloc(c->n_rct, sizeof *h->battery);
        if (!h->battery) {
            free(h);
            return NULL;
        }
        h->n_battery = c->n_rct;
        for (size_t i = 0; i < c->n_rct; i++)
            sw_battery_health_init(&h->battery[i], &c->battery, c->rct[i].name);
    }
    sw_model_add_sink(d->model, (sw_sink){ &log_ops, h });
    return h;
}

void sw_daemon_health_free(sw_daemon_health *h)
{
    if (!h)
        return;
    free(h->battery);
    free(h);
}

static sw_battery_health *battery_of(sw_daemon *d, const char *inverter)
{
    sw_daemon_health *h = d->health;
    for (size_t i = 0; h && i < h->n_battery; i++)
        if (strcmp(h->battery[i].inverter, inverter) == 0)
            return &h->battery[i];
    return NULL;
}

void sw_daemon_health_objects(sw_daemon *d, const char *inverter, bool slow, sw_daemon_health_add_cb add,
                              void *user)
{
    sw_daemon_health *h = d->health;
    if (!h)
        return;
    if (slow && battery_of(d, inverter)) {
        for (size_t i = 0; sw_battery_health_object(i); i++) {
            const char *name = sw_battery_health_object(i);
            /* the cells are read for the detector; its derived values are what the outputs get */
            if (add(d, name, strncmp(name, "battery.cells[", 14) != 0, user))
                return;
        }
    }
    if (!slow)
        for (unsigned in = 0; in < SW_CROSSCHECK_MAX_INPUTS; in++)
            if (sw_crosscheck_wants(&h->cc, inverter, in)) {
                char name[48];
                sw_crosscheck_object(in, name, sizeof name);
                if (add(d, name, true, user))
                    return;
            }
}

void sw_daemon_health_value(sw_daemon *d, const sw_inverter_value *v)
{
    if (!d->health || !v->is_number)
        return;
    sw_battery_health *b = battery_of(d, v->inverter);
    if (b)
        sw_battery_health_number(b, v->object_name, v->number, v->timestamp_ns);
    unsigned in;
    if (sw_crosscheck_parse_object(v->object_name, &in))
        sw_crosscheck_dc(&d->health->cc, d->model, v->inverter, in, v->number, v->timestamp_ns);
}

void sw_daemon_health_cells(sw_daemon *d, const char *inverter, const char *object, const sw_rct_value *v,
                            int64_t now_ns)
{
    unsigned module;
    char tail;
    sw_battery_health *b = battery_of(d, inverter);
    if (!b || v->type != SW_RCT_TYPE_BATTERY_MODULE_STATUS ||
        sscanf(object, "battery.cells[%u%c", &module, &tail) != 2 || tail != ']')
        return;
    sw_battery_health_module(b, module, v->u.cells, SW_RCT_BATTERY_CELLS, now_ns);
}

void sw_daemon_health_cycle(sw_daemon *d, const char *inverter, int64_t now_ns)
{
    sw_battery_health *b = battery_of(d, inverter);
    if (b)
        sw_battery_health_evaluate(b, d->model, now_ns);
}
