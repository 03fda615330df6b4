/*
 * event.c: names and the JSON form of the model's typed events (model/model.h).
 * The JSON is what the live view, the history's events table and InfluxDB
 * have always stored: {"source": NAME, <detail>: TEXT, ...}, every detail a
 * string (numbers in decimal, fault words in hex).
 */
#include <stdio.h>

#include "model/model.h"
#include "sunwire/json.h"

const char *sw_event_kind_name(sw_event_kind k)
{
    switch (k) {
    case SW_EVENT_SOURCE_UP: return "source_up";
    case SW_EVENT_SOURCE_DOWN: return "source_down";
    case SW_EVENT_UNMAPPED_PANEL: return "unmapped_panel";
    case SW_EVENT_INFRASTRUCTURE: return "tigo_infrastructure";
    case SW_EVENT_RCT_FAULT: return "rct_fault";
    case SW_EVENT_RCT_CONTROL: return "rct_control";
    }
    return "unknown";
}

static void text(sw_json *j, const char *key, const char *v)
{
    sw_json_key(j, key);
    sw_json_string(j, v ? v : "");
}

sw_err sw_event_json(const sw_event *ev, char *buf, size_t cap, size_t *len)
{
    if (len)
        *len = 0;
    if (!ev || !buf)
        return SW_ERR_INVALID_ARGUMENT;
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    text(&j, "source", ev->source);
    switch (ev->kind) {
    case SW_EVENT_SOURCE_UP:
        text(&j, "address", ev->u.source_up.address);
        break;
    case SW_EVENT_SOURCE_DOWN:
        text(&j, "error", ev->u.source_down.error);
        break;
    case SW_EVENT_UNMAPPED_PANEL:
        text(&j, "barcode", ev->u.unmapped_panel.barcode);
        break;
    case SW_EVENT_INFRASTRUCTURE: {
        char gw[8];
        snprintf(gw, sizeof gw, "%u", (unsigned)ev->u.infrastructure.gateway);
        text(&j, "gateway", gw);
        text(&j, "cause", ev->u.infrastructure.cause);
        break;
    }
    case SW_EVENT_RCT_FAULT: {
        char hex[16];
        snprintf(hex, sizeof hex, "0x%08X", (unsigned)ev->u.rct_fault.value);
        text(&j, "object", ev->u.rct_fault.object);
        text(&j, "value", hex);
        text(&j, "faults", ev->u.rct_fault.faults);
        break;
    }
    case SW_EVENT_RCT_CONTROL: {
        const sw_event_rct_control *c = &ev->u.rct_control;
        char n[16];
        snprintf(n, sizeof n, "%d", c->attempts);
        text(&j, "object", c->object);
        text(&j, "outcome", c->outcome);
        text(&j, "origin", c->origin);
        text(&j, "old", c->old_value);
        text(&j, "new", c->new_value);
        text(&j, "read_back", c->read_back);
        text(&j, "reason", c->reason);
        text(&j, "attempts", n);
        break;
    }
    }
    sw_json_object_end(&j);
    if (!sw_json_finish(&j))
        return SW_ERR_NO_SPACE;
    if (len)
        *len = j.len;
    return SW_OK;
}
