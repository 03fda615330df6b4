/*
 * rct_control.c: commands from MQTT to the RCT pollers' write plans, and the
 * control entities the MQTT output announces (docs/control.md).
 *
 * Nothing here decides whether a write is safe: a command's payload is only
 * turned into a number in the device's unit (a number divided by its display
 * scale, a select's label to its index, a switch's ON/OFF to 1/0) and handed
 * to the poller, whose write plan applies every rule. A command for an
 * object or inverter that takes no writes is refused and logged the same way.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/daemon_internal.h"
#include "io/log.h"
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
