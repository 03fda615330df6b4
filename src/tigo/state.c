/*
 * state.c: the persistent Tigo model (see sunwire/tigo_state.h).
 *
 * Sorted fixed arrays rather than hash maps: the tables change rarely (a few
 * times a night), lookups are binary searches, and sorted order is exactly
 * the numeric key order every output format needs.
 */
#include "sunwire/tigo_state.h"

#include <string.h>

void sw_tigo_state_init(sw_tigo_state *s)
{
    s->n_gateways = 0;
    s->n_nodes = 0;
}

/* Index of the gateway, or the insertion point with *found false. */
static size_t gw_search(const sw_tigo_state *s, uint16_t id, bool *found)
{
    size_t lo = 0, hi = s->n_gateways;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->gateways[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->n_gateways && s->gateways[lo].id == id;
    return lo;
}

static uint32_t node_key(uint16_t gw, uint16_t node) { return (uint32_t)gw << 16 | node; }

/* First node record whose (gateway, node) key is >= the given key. */
static size_t node_lower_bound(const sw_tigo_state *s, uint32_t key)
{
    size_t lo = 0, hi = s->n_nodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (node_key(s->nodes[mid].gateway, s->nodes[mid].node_id) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const sw_tigo_gateway_record *sw_tigo_state_gateway(const sw_tigo_state *s, uint16_t gateway)
{
    bool found;
    size_t i = gw_search(s, gateway, &found);
    return found ? &s->gateways[i] : NULL;
}

const uint8_t *sw_tigo_state_node_address(const sw_tigo_state *s, uint16_t gateway, uint16_t node_id)
{
    size_t i = node_lower_bound(s, node_key(gateway, node_id));
    if (i < s->n_nodes && s->nodes[i].gateway == gateway && s->nodes[i].node_id == node_id)
        return s->nodes[i].address;
    return NULL;
}

const sw_tigo_node_record *sw_tigo_state_gateway_nodes(const sw_tigo_state *s, uint16_t gateway,
                                                       size_t *count)
{
    size_t a = node_lower_bound(s, node_key(gateway, 0));
    size_t b = node_lower_bound(s, node_key(gateway, 0xFFFF));
    if (b < s->n_nodes && s->nodes[b].gateway == gateway)
        b++; /* node 0xFFFF itself */
    *count = b - a;
    return s->nodes + a;
}

/* Find or create the record of a gateway. */
static sw_err gw_get(sw_tigo_state *s, uint16_t id, sw_tigo_gateway_record **out)
{
    if (id > SW_TIGO_GATEWAY_ID_MAX)
        return SW_ERR_OUT_OF_RANGE;
    bool found;
    size_t i = gw_search(s, id, &found);
    if (!found) {
        if (s->n_gateways >= SW_TIGO_STATE_MAX_GATEWAYS)
            return SW_ERR_TIGO_CAPACITY;
        memmove(&s->gateways[i + 1], &s->gateways[i], (s->n_gateways - i) * sizeof s->gateways[0]);
        memset(&s->gateways[i], 0, sizeof s->gateways[0]);
        s->gateways[i].id = id;
        s->n_gateways++;
    }
    *out = &s->gateways[i];
    return SW_OK;
}

/* Drop gateway records that no longer hold anything. */
static void gw_compact(sw_tigo_state *s)
{
    size_t w = 0;
    for (size_t r = 0; r < s->n_gateways; r++) {
        const sw_tigo_gateway_record *g = &s->gateways[r];
        if (!g->has_address && !g->has_version && !g->has_node_table)
            continue;
        if (w != r)
            s->gateways[w] = *g;
        w++;
    }
    s->n_gateways = (uint32_t)w;
}

static void set_flag(bool *changed, bool v)
{
    if (changed)
        *changed = v;
}

sw_err sw_tigo_state_set_identity(sw_tigo_state *s, uint16_t gateway, const uint8_t addr[8], bool *changed)
{
    set_flag(changed, false);
    sw_tigo_gateway_record *g;
    sw_err e = gw_get(s, gateway, &g);
    if (e)
        return e;
    if (g->has_address && memcmp(g->address, addr, 8) == 0)
        return SW_OK;
    memcpy(g->address, addr, 8);
    g->has_address = true;
    set_flag(changed, true);
    return SW_OK;
}

sw_err sw_tigo_state_set_version(sw_tigo_state *s, uint16_t gateway, const char *text, size_t len,
                                 bool *changed)
{
    set_flag(changed, false);
    if (len > SW_TIGO_VERSION_MAX)
        return SW_ERR_TIGO_CAPACITY;
    sw_tigo_gateway_record *g;
    sw_err e = gw_get(s, gateway, &g);
    if (e)
        return e;
    if (g->has_version && g->version_len == len && memcmp(g->version, text, len) == 0)
        return SW_OK;
    if (len)
        memcpy(g->version, text, len);
    g->version[len] = '\0';
    g->version_len = (uint16_t)len;
    g->has_version = true;
    set_flag(changed, true);
    return SW_OK;
}

sw_err sw_tigo_state_set_node_table(sw_tigo_state *s, uint16_t gateway, const sw_tigo_node_record *entries,
                                    size_t n, bool *changed)
{
    set_flag(changed, false);
    if (gateway > SW_TIGO_GATEWAY_ID_MAX)
        return SW_ERR_OUT_OF_RANGE;
    for (size_t i = 0; i < n; i++)
        if (entries[i].node_id == 0)
            return SW_ERR_OUT_OF_RANGE;
    size_t old_n;
    const sw_tigo_node_record *old = sw_tigo_state_gateway_nodes(s, gateway, &old_n);
    size_t start = (size_t)(old - s->nodes);

    /* Count distinct IDs first so a table that does not fit changes nothing. */
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t k = i + 1; k < n && !dup; k++)
            dup = entries[k].node_id == entries[i].node_id;
        distinct += !dup;
    }
    if (s->n_nodes - old_n + distinct > SW_TIGO_MAX_NODES)
        return SW_ERR_TIGO_CAPACITY;
    sw_tigo_gateway_record *g;
    sw_err e = gw_get(s, gateway, &g);
    if (e)
        return e;

    /* Compare before modifying: same set of (id, address)? */
    bool same = g->has_node_table && old_n == distinct;
    if (same) {
        for (size_t i = 0; i < n && same; i++) {
            bool dup = false;
            for (size_t k = i + 1; k < n && !dup; k++)
                dup = entries[k].node_id == entries[i].node_id;
            if (dup)
                continue;
            const uint8_t *a = sw_tigo_state_node_address(s, gateway, entries[i].node_id);
            same = a && memcmp(a, entries[i].address, 8) == 0;
        }
    }
    if (same)
        return SW_OK;

    /* Replace the old run by the new one, sorted by insertion: tables hold a
     * few hundred entries and change a few times a night. */
    memmove(&s->nodes[start], &s->nodes[start + old_n],
            (s->n_nodes - start - old_n) * sizeof s->nodes[0]);
    s->n_nodes -= (uint32_t)old_n;
    /* Make room for the new run and fill it sorted. */
    memmove(&s->nodes[start + distinct], &s->nodes[start], (s->n_nodes - start) * sizeof s->nodes[0]);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        sw_tigo_node_record r = entries[i];
        r.gateway = gateway;
        size_t p = 0;
        while (p < run && s->nodes[start + p].node_id < r.node_id)
            p++;
        if (p < run && s->nodes[start + p].node_id == r.node_id) {
            s->nodes[start + p] = r; /* a later duplicate wins */
            continue;
        }
        memmove(&s->nodes[start + p + 1], &s->nodes[start + p], (run - p) * sizeof s->nodes[0]);
        s->nodes[start + p] = r;
        run++;
    }
    s->n_nodes += (uint32_t)run;
    g->has_node_table = true;
    set_flag(changed, true);
    return SW_OK;
}

static const sw_tigo_gateway_record *find_rec(const sw_tigo_gateway_record *recs, size_t n, uint16_t id)
{
    const sw_tigo_gateway_record *hit = NULL;
    for (size_t i = 0; i < n; i++)
        if (recs[i].id == id)
            hit = &recs[i]; /* the last one wins, like repeated inserts */
    return hit;
}

sw_err sw_tigo_state_replace_inventory(sw_tigo_state *s, const sw_tigo_gateway_record *recs, size_t n,
                                       bool *changed)
{
    set_flag(changed, false);
    /* Capacity check first: gateways that are new and carry something. */
    size_t extra = 0;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].id > SW_TIGO_GATEWAY_ID_MAX)
            return SW_ERR_OUT_OF_RANGE;
        if (recs[i].has_version && recs[i].version_len > SW_TIGO_VERSION_MAX)
            return SW_ERR_TIGO_CAPACITY;
        if (find_rec(recs, n, recs[i].id) != &recs[i])
            continue;
        bool found;
        gw_search(s, recs[i].id, &found);
        if (!found && (recs[i].has_address || recs[i].has_version))
            extra++;
    }
    /* Gateways that only had identity/version may disappear, freeing room,
     * but count conservatively against the current size. */
    if (s->n_gateways + extra > SW_TIGO_STATE_MAX_GATEWAYS)
        return SW_ERR_TIGO_CAPACITY;

    bool diff = false;
    for (size_t i = 0; i < s->n_gateways; i++) {
        sw_tigo_gateway_record *g = &s->gateways[i];
        const sw_tigo_gateway_record *r = find_rec(recs, n, g->id);
        bool has_a = r && r->has_address, has_v = r && r->has_version;
        if (has_a != g->has_address || (has_a && memcmp(g->address, r->address, 8) != 0))
            diff = true;
        if (has_v != g->has_version ||
            (has_v && (g->version_len != r->version_len || memcmp(g->version, r->version, r->version_len) != 0)))
            diff = true;
        g->has_address = false;
        g->has_version = false;
    }
    for (size_t i = 0; i < n; i++) {
        const sw_tigo_gateway_record *r = &recs[i];
        if (find_rec(recs, n, r->id) != r || (!r->has_address && !r->has_version))
            continue;
        bool found;
        gw_search(s, r->id, &found);
        if (!found)
            diff = true;
        if (r->has_address)
            sw_tigo_state_set_identity(s, r->id, r->address, NULL);
        if (r->has_version)
            sw_tigo_state_set_version(s, r->id, r->version, r->version_len, NULL);
    }
    gw_compact(s);
    set_flag(changed, diff);
    return SW_OK;
}

bool sw_tigo_state_equal(const sw_tigo_state *a, const sw_tigo_state *b)
{
    if (a->n_gateways != b->n_gateways || a->n_nodes != b->n_nodes)
        return false;
    for (size_t i = 0; i < a->n_gateways; i++) {
        const sw_tigo_gateway_record *x = &a->gateways[i], *y = &b->gateways[i];
        if (x->id != y->id || x->has_address != y->has_address || x->has_version != y->has_version ||
            x->has_node_table != y->has_node_table)
            return false;
        if (x->has_address && memcmp(x->address, y->address, 8) != 0)
            return false;
        if (x->has_version &&
            (x->version_len != y->version_len || memcmp(x->version, y->version, x->version_len) != 0))
            return false;
    }
    for (size_t i = 0; i < a->n_nodes; i++) {
        const sw_tigo_node_record *x = &a->nodes[i], *y = &b->nodes[i];
        if (x->gateway != y->gateway || x->node_id != y->node_id || memcmp(x->address, y->address, 8) != 0)
            return false;
    }
    return true;
}
