/*
 * proxy.c: what a proxy client's frame asks for, and the answer cache
 * (see rct/proxy.h). Pure state: times come in as arguments.
 */
#include "rct/proxy.h"

#include <string.h>

#include "sunwire/core.h"

static bool is_logger(const sw_rct_object *o)
{
    return o->response_type == SW_RCT_TYPE_TIMESERIES || o->response_type == SW_RCT_TYPE_EVENT_TABLE;
}

void sw_rct_proxy_classify(const sw_rct_frame *f, sw_rct_proxy_request *out)
{
    memset(out, 0, sizeof *out);
    out->kind = SW_RCT_PROXY_IGNORE;
    out->why = SW_ERR_UNSUPPORTED;
    if (f->kind == SW_RCT_FRAME_EXTENSION)
        return;
    out->command = f->command;
    out->plant = sw_rct_command_is_plant(f->command);
    out->address = out->plant ? f->address : 0;
    uint8_t base = (uint8_t)(f->command & ~0x40);
    bool read = base == SW_RCT_CMD_READ;
    bool write = base == SW_RCT_CMD_WRITE || base == SW_RCT_CMD_LONG_WRITE;
    if (!read && !write)
        return;
    out->obj = sw_rct_registry_find_id(f->id);
    if (!out->obj) {
        out->why = SW_ERR_NOT_FOUND;
        return;
    }
    out->why = SW_OK;
    if (read) {
        out->kind = SW_RCT_PROXY_READ;
        out->expect = out->obj->response_type;
        if (is_logger(out->obj)) {
            /* A plain READ of a logger object has no query time to check: forward it, never cache it. */
            out->kind = SW_RCT_PROXY_QUERY;
        }
        return;
    }
    if (is_logger(out->obj)) {
        if (f->payload_len != 4) {
            out->why = SW_ERR_RCT_BAD_PAYLOAD;
            return;
        }
        out->kind = SW_RCT_PROXY_QUERY;
        out->expect = out->obj->response_type;
        out->has_query = true;
        out->query = sw_be32(f->payload);
        return;
    }
    out->kind = SW_RCT_PROXY_WRITE;
    /* The device confirms a write, when it does, with the value it now holds. */
    out->expect = out->obj->request_type;
}

void sw_rct_cache_init(sw_rct_cache *c, int64_t ttl_ms)
{
    memset(c, 0, sizeof *c);
    c->ttl_ms = ttl_ms < 0 ? 0 : ttl_ms;
}

sw_err sw_rct_cache_set_ttl(sw_rct_cache *c, uint32_t id, int64_t ttl_ms)
{
    if (ttl_ms < 0)
        ttl_ms = 0;
    for (size_t i = 0; i < c->n_overrides; i++)
        if (c->overrides[i].id == id) {
            c->overrides[i].ttl_ms = ttl_ms;
            return SW_OK;
        }
    if (c->n_overrides == SW_RCT_CACHE_OVERRIDES)
        return SW_ERR_NO_SPACE;
    c->overrides[c->n_overrides].id = id;
    c->overrides[c->n_overrides].ttl_ms = ttl_ms;
    c->n_overrides++;
    return SW_OK;
}

int64_t sw_rct_cache_ttl(const sw_rct_cache *c, uint32_t id)
{
    for (size_t i = 0; i < c->n_overrides; i++)
        if (c->overrides[i].id == id)
            return c->overrides[i].ttl_ms;
    return c->ttl_ms;
}

static sw_rct_cache_entry *find(sw_rct_cache *c, bool plant, uint32_t address, uint32_t id)
{
    for (size_t i = 0; i < SW_RCT_CACHE_SLOTS; i++) {
        sw_rct_cache_entry *e = &c->e[i];
        if (e->used && e->id == id && e->plant == plant && e->address == address)
            return e;
    }
    return NULL;
}

void sw_rct_cache_put(sw_rct_cache *c, uint8_t command, bool plant, uint32_t address, uint32_t id,
                      const uint8_t *payload, size_t len, int64_t now_ms)
{
    if (len > SW_RCT_PAYLOAD_MAX_SHORT || sw_rct_cache_ttl(c, id) <= 0)
        return;
    address = plant ? address : 0;
    sw_rct_cache_entry *e = find(c, plant, address, id);
    if (!e) {
        /* A free slot, else the one used least recently. */
        sw_rct_cache_entry *oldest = NULL;
        for (size_t i = 0; i < SW_RCT_CACHE_SLOTS && !e; i++) {
            if (!c->e[i].used)
                e = &c->e[i];
            else if (!oldest || c->e[i].last_ms < oldest->last_ms)
                oldest = &c->e[i];
        }
        if (!e) {
            e = oldest;
            c->counters.evictions++;
        }
    }
    e->used = true;
    e->plant = plant;
    e->command = command;
    e->id = id;
    e->address = address;
    e->at_ms = now_ms;
    e->last_ms = now_ms;
    e->len = (uint16_t)len;
    if (len)
        memcpy(e->payload, payload, len);
    c->counters.stores++;
}

const sw_rct_cache_entry *sw_rct_cache_get(sw_rct_cache *c, bool plant, uint32_t address, uint32_t id,
                                           int64_t now_ms)
{
    sw_rct_cache_entry *e = find(c, plant, plant ? address : 0, id);
    /* An entry from "the future" (a clock that went back) is not trusted either. */
    if (!e || now_ms < e->at_ms || now_ms - e->at_ms >= sw_rct_cache_ttl(c, id)) {
        c->counters.misses++;
        return NULL;
    }
    e->last_ms = now_ms;
    c->counters.hits++;
    return e;
}

void sw_rct_cache_invalidate(sw_rct_cache *c, uint32_t id)
{
    for (size_t i = 0; i < SW_RCT_CACHE_SLOTS; i++)
        if (c->e[i].used && c->e[i].id == id) {
            c->e[i].used = false;
            c->counters.invalidations++;
        }
}
