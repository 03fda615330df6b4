/*
 * rct_control.c: commands from MQTT to the RCT pollers' write plans, and the
 * control entities the MQTT output announces (docs/control.md).
 *
 * Nothing here decides whether a write is safe: a command's payload is only
 * turned into a number in the device's unit (a number divided by its display
 * scale, a select's label to its index, a switch's ON/OFF to 1/0) and handed
 * to the poller, whose write plan applies every rule. A command for an
 * object or inverter that takes no writes is refused and logged the same way.
 *
 * The plan's rate limits and flash budgets are saved here too, one small JSON
 * file per inverter in the state directory, so a restart (or a crash loop)
 * does not start them afresh.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/daemon_internal.h"
#include "io/log.h"
#include "io/net.h"
#include "rct/rct_control.h"

#if defined(__has_include)
#if __has_include("sink/sink_mqtt.h")
#include "sink/sink_mqtt.h"
#define HAVE_MQTT 1
#endif
#endif

#define LOG_TARGET "sunwire::rct"

#ifdef HAVE_MQTT
/* The payload in the device's unit; false when it says nothing the control can take. */
static bool payload_value(const sw_rct_control_def *def, const char *text, double *out)
{
    if (def->kind == SW_RCT_CONTROL_SWITCH) {
        if (strcasecmp(text, "ON") == 0 || strcmp(text, "1") == 0 || strcasecmp(text, "true") == 0)
            *out = 1;
        else if (strcasecmp(text, "OFF") == 0 || strcmp(text, "0") == 0 || strcasecmp(text, "false") == 0)
            *out = 0;
        else
            return false;
        return true;
    }
    if (def->kind == SW_RCT_CONTROL_SELECT)
        for (size_t i = 0; i < def->n_options; i++)
            if (strcmp(text, def->options[i]) == 0) {
                *out = def->min + (double)i;
                return true;
            }
    char *end;
    double v = strtod(text, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (!text[0] || *end)
        return false;
    /* A select also takes its option's number; a number comes in its displayed unit. */
    *out = def->kind == SW_RCT_CONTROL_NUMBER ? v / def->scale : v;
    return true;
}

static int on_command(sw_mqtt_sink *sink, const sw_mqtt_command *cmd, void *user)
{
    (void)sink;
    sw_daemon *d = user;
    rct_poller *p = NULL;
    char slug[SW_MQTT_TOPIC_MAX], key[SW_MQTT_TOPIC_MAX];
    for (size_t i = 0; i < d->n_pollers && !p; i++)
        if (sw_mqtt_slug(slug, sizeof slug, sw_daemon_poller_name(d->pollers[i])) &&
            strcmp(slug, cmd->inverter) == 0)
            p = d->pollers[i];
    if (!p || !sw_daemon_poller_controls(p)) {
        SW_LOGW(LOG_TARGET, "command for %s/%s refused: no inverter of that name takes writes (control = on)",
                cmd->inverter, cmd->key);
        return 0;
    }
    const sw_rct_control_def *def = NULL;
    for (size_t i = 0; i < sw_rct_control_def_count() && !def; i++)
        if (sw_mqtt_value_key(key, sizeof key, sw_rct_control_def_at(i)->object) && strcmp(key, cmd->key) == 0)
            def = sw_rct_control_def_at(i);
    if (!def) {
        sw_daemon_poller_control_refused(p, cmd->key, "not an object sunwire can control");
        return 0;
    }
    double v;
    if (!payload_value(def, cmd->payload, &v)) {
        char why[320];
        snprintf(why, sizeof why, "\"%.200s\" is not a value of this control", cmd->payload);
        sw_daemon_poller_control_refused(p, def->object, why);
        return 0;
    }
    (void)sw_daemon_poller_control(p, def->object, v);
    return 0;
}

static const char *platform(sw_rct_control_kind k)
{
    return k == SW_RCT_CONTROL_SELECT ? "select" : k == SW_RCT_CONTROL_SWITCH ? "switch" : "number";
}
#endif

void sw_daemon_controls_setup(sw_daemon *d, struct sw_mqtt_config *mqtt)
{
#ifdef HAVE_MQTT
    const sw_daemon_config *c = d->cfg;
    size_t n = 0;
    for (size_t i = 0; i < c->n_rct; i++)
        if (c->rct[i].control)
            n += c->rct[i].n_allow;
    if (!n)
        return; /* control off everywhere: no command topic, no control entity */
    d->controls = calloc(n, sizeof *d->controls);
    if (!d->controls) {
        SW_LOGE(LOG_TARGET, "out of memory for the control entities; control stays off");
        return;
    }
    for (size_t i = 0; i < c->n_rct; i++) {
        const sw_daemon_rct *r = &c->rct[i];
        for (size_t k = 0; r->control && k < r->n_allow; k++) {
            const sw_rct_control_def *def = sw_rct_control_def_find(r->allow[k]);
            if (!def)
                continue;
            d->controls[d->n_controls++] = (sw_ha_control){
                .inverter = r->name, .object = def->object, .name = def->name, .platform = platform(def->kind),
                .min = def->min * def->scale, .max = def->max * def->scale, .step = def->step * def->scale,
                .scale = def->scale, .unit = def->unit, .device_class = def->device_class,
                .options = def->options, .n_options = def->n_options,
            };
        }
    }
    mqtt->controls = d->controls;
    mqtt->n_controls = d->n_controls;
    mqtt->on_command = on_command;
    mqtt->command_user = d;
#else
    (void)d;
    (void)mqtt;
#endif
}

/* ---- the plan's limits across restarts ---------------------------------------------------- */

#define STATE_VERSION 1

static bool state_path(const sw_daemon *d, const char *name, char *out, size_t cap)
{
    char file[SW_MODEL_TEXT_MAX + 40];
    snprintf(file, sizeof file, "rct-control-%s.json", name);
    return sw_daemon_state_path(d, file, out, cap) == SW_OK;
}

static int64_t wall_ms(void) { return sw_now_realtime_ns() / 1000000; }

void sw_daemon_control_state_save(sw_daemon *d, const char *name, const sw_rct_control_plan *plan,
                                  int64_t now_mono_ms)
{
    char path[SW_DAEMON_PATH_MAX + SW_MODEL_TEXT_MAX + 40];
    if (!state_path(d, name, path, sizeof path))
        return;
    int64_t now_wall = wall_ms();
    json_t *root = json_object(), *objs = json_object();
    if (!root || !objs) {
        json_decref(root);
        json_decref(objs);
        SW_LOGE(LOG_TARGET, "%s: out of memory saving the control limits", name);
        return;
    }
    json_object_set_new(root, "version", json_integer(STATE_VERSION));
    json_object_set_new(root, "saved_ms", json_integer(now_wall));
    int64_t until;
    if (sw_rct_control_blocked(plan, now_mono_ms, &until)) /* a restart keeps it, to the same end */
        json_object_set_new(root, "blocked_until_ms", json_integer(now_wall + (until - now_mono_ms)));
    for (size_t i = 0; i < plan->n_slots; i++) {
        sw_rct_control_saved sv;
        if (sw_rct_control_export(plan, i, now_mono_ms, now_wall, &sv) != SW_OK || (!sv.have_last && !sv.flash_writes))
            continue;
        json_t *o = json_object();
        if (sv.have_last)
            json_object_set_new(o, "last_ms", json_integer(sv.last_wall_ms));
        if (sv.flash_writes) {
            json_object_set_new(o, "flash_start_ms", json_integer(sv.flash_start_wall_ms));
            json_object_set_new(o, "flash_writes", json_integer(sv.flash_writes));
        }
        json_object_set_new(objs, plan->slots[i].def->object, o);
    }
    json_object_set_new(root, "objects", objs);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);
    sw_err e = text ? sw_daemon_write_atomic(path, text, strlen(text)) : SW_ERR_NO_MEMORY;
    free(text);
    if (e != SW_OK)
        SW_LOGW(LOG_TARGET, "%s: cannot save the control limits to %s: %s", name, path, sw_err_message(e));
}

static bool saved_time(json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* One object's entry; false when it is not what save writes. */
static bool parse_slot(json_t *o, sw_rct_control_saved *sv)
{
    memset(sv, 0, sizeof *sv);
    if (!json_is_object(o))
        return false;
    json_t *last = json_object_get(o, "last_ms"), *start = json_object_get(o, "flash_start_ms"),
           *n = json_object_get(o, "flash_writes");
    if ((last && !json_is_integer(last)) || (start && !json_is_integer(start)) || (n && !json_is_integer(n)) ||
        !start != !n)
        return false;
    sv->have_last = saved_time(o, "last_ms", &sv->last_wall_ms);
    if (n) {
        json_int_t k = json_integer_value(n);
        if (k < 0 || k > 1000000)
            return false;
        sv->flash_writes = (unsigned)k;
        (void)saved_time(o, "flash_start_ms", &sv->flash_start_wall_ms);
    }
    return true;
}

void sw_daemon_control_state_load(sw_daemon *d, const char *name, sw_rct_control_plan *plan, int64_t now_mono_ms)
{
    char path[SW_DAEMON_PATH_MAX + SW_MODEL_TEXT_MAX + 40];
    if (!state_path(d, name, path, sizeof path))
        return;
    char *text = NULL;
    size_t len = 0;
    sw_err e = sw_daemon_read_file(path, &text, &len);
    if (e == SW_ERR_NOT_FOUND)
        return; /* never written: nothing to remember */
    int64_t now_wall = wall_ms();
    json_t *root = NULL, *objs = NULL;
    bool ok = false;
    if (e == SW_OK) {
        root = json_loadb(text, len, 0, NULL);
        objs = json_object_get(root, "objects");
        json_t *blocked = json_object_get(root, "blocked_until_ms");
        ok = json_is_object(root) && json_integer_value(json_object_get(root, "version")) == STATE_VERSION &&
             json_is_object(objs) && (!blocked || json_is_integer(blocked));
        const char *object;
        json_t *o;
        sw_rct_control_saved sv;
        /* Check every entry before taking any: a file is taken whole or not at all. */
        json_object_foreach(objs, object, o) {
            if (!parse_slot(o, &sv))
                ok = false;
        }
        for (size_t i = 0; ok && i < plan->n_slots; i++) {
            o = json_object_get(objs, plan->slots[i].def->object);
            if (o && parse_slot(o, &sv))
                (void)sw_rct_control_import(plan, i, &sv, now_mono_ms, now_wall);
        }
        /* A block still running goes on to its end, never more than a window from now (the clock went back). */
        json_int_t left = ok && blocked ? json_integer_value(blocked) - now_wall : 0;
        if (left > 0)
            sw_rct_control_block(plan, now_mono_ms + (left < SW_RCT_CONTROL_FLASH_WINDOW_MS
                                                          ? left : SW_RCT_CONTROL_FLASH_WINDOW_MS));
    }
    json_decref(root);
    free(text);
    if (ok)
        return;
    SW_LOGW(LOG_TARGET,
            "%s: the control limits in %s cannot be read (%s); to spare the device's flash, no control "
            "is written for the next 24 hours",
            name, path, e == SW_OK ? "not a control state file" : sw_err_message(e));
    sw_rct_control_assume_spent(plan, now_mono_ms);
    /* Kept for a look, and replaced by the state just assumed, so that a restart does not extend it. */
    char aside[sizeof path + 10];
    snprintf(aside, sizeof aside, "%s.corrupt", path);
    if (e == SW_OK && rename(path, aside) == 0)
        SW_LOGW(LOG_TARGET, "%s: moved the unreadable file aside as %s", name, aside);
    sw_daemon_control_state_save(d, name, plan, now_mono_ms);
}
