/*
 * node_table.c: assembling a gateway's node table from paged command
 * responses (see sunwire/tigo_state.h).
 *
 * The controller pages through the table with "start at ID S" requests,
 * asking next for last-ID+1, and an empty page ends the walk. The reference
 * builder accepts partial walks and treats a restart at 0 as a reason to
 * ignore the page; the safe mode only hands over walks it saw from the first
 * page to the last, so a stored complete table is never replaced by a
 * fragment picked up after a reconnect.
 */
#include "sunwire/tigo_state.h"

#include <string.h>

void sw_tigo_node_table_builder_init(sw_tigo_node_table_builder *b, sw_tigo_node_table_builder_mode mode, uint16_t gateway,
                      sw_tigo_node_record *storage, size_t cap)
{
    b->entries = storage;
    b->cap = cap;
    b->mode = (uint8_t)mode;
    b->gateway = gateway;
    sw_tigo_node_table_builder_reset(b);
}

void sw_tigo_node_table_builder_reset(sw_tigo_node_table_builder *b)
{
    b->n = 0;
    b->expected_next = 0;
    b->in_walk = false;
    b->complete = false;
}

/* Insert or replace, keeping the entries sorted by node ID. False when full. */
static bool insert(sw_tigo_node_table_builder *b, uint16_t id, const uint8_t *addr)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b->entries[mid].node_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < b->n && b->entries[lo].node_id == id) {
        memcpy(b->entries[lo].address, addr, 8);
        return true;
    }
    if (b->n >= b->cap)
        return false;
    memmove(&b->entries[lo + 1], &b->entries[lo], (b->n - lo) * sizeof b->entries[0]);
    b->entries[lo].gateway = b->gateway;
    b->entries[lo].node_id = id;
    memcpy(b->entries[lo].address, addr, 8);
    b->n++;
    return true;
}

static uint32_t next_after_max(const sw_tigo_node_table_builder *b)
{
    return b->n ? (uint32_t)b->entries[b->n - 1].node_id + 1u : 0u;
}

/*
 * After a page's entries went in, both modes end alike: an empty page closes
 * the walk (the table is complete), any other asks next for the ID after the
 * largest one, and a walk that would pass the last ID is given up.
 */
static sw_tigo_node_table_builder_result page_done(sw_tigo_node_table_builder *b, size_t count)
{
    if (count == 0) {
        b->in_walk = false;
        b->complete = true;
        b->expected_next = 0;
        return SW_TIGO_NODE_TABLE_BUILDER_COMPLETE;
    }
    b->expected_next = next_after_max(b);
    if (b->expected_next > 0xFFFFu) {
        sw_tigo_node_table_builder_reset(b);
        return SW_TIGO_NODE_TABLE_BUILDER_ABANDONED;
    }
    return SW_TIGO_NODE_TABLE_BUILDER_PENDING;
}

static sw_tigo_node_table_builder_result push_reference(sw_tigo_node_table_builder *b, uint16_t start,
                                         const uint8_t *wire, size_t count)
{
    if (b->expected_next != start) {
        sw_tigo_node_table_builder_reset(b);
        if (start == 0)
            return SW_TIGO_NODE_TABLE_BUILDER_IGNORED;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = wire + 10 * i;
        uint16_t id = (uint16_t)(e[8] << 8 | e[9]);
        if (id == 0) {
            b->expected_next = 0; /* the entries so far stay, as in the reference */
            return SW_TIGO_NODE_TABLE_BUILDER_PENDING;
        }
        if (!insert(b, id, e)) {
            sw_tigo_node_table_builder_reset(b);
            return SW_TIGO_NODE_TABLE_BUILDER_ABANDONED;
        }
    }
    return page_done(b, count);
}

static sw_tigo_node_table_builder_result push_safe(sw_tigo_node_table_builder *b, uint16_t start, const uint8_t *wire,
                                    size_t count)
{
    if (start == 0) {
        sw_tigo_node_table_builder_reset(b);
        b->in_walk = true;
    } else if (!b->in_walk || b->expected_next != start) {
        bool was = b->in_walk;
        sw_tigo_node_table_builder_reset(b);
        return was ? SW_TIGO_NODE_TABLE_BUILDER_ABANDONED : SW_TIGO_NODE_TABLE_BUILDER_IGNORED;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = wire + 10 * i;
        uint16_t id = (uint16_t)(e[8] << 8 | e[9]);
        if (id == 0 || !insert(b, id, e)) {
            sw_tigo_node_table_builder_reset(b);
            return SW_TIGO_NODE_TABLE_BUILDER_ABANDONED;
        }
    }
    return page_done(b, count);
}

sw_tigo_node_table_builder_result sw_tigo_node_table_builder_push(sw_tigo_node_table_builder *b, uint16_t request_start,
                                    const uint8_t *wire_entries, size_t count)
{
    if (b->complete)
        sw_tigo_node_table_builder_reset(b); /* the previous result has been handed over */
    if (b->mode == SW_TIGO_NODE_TABLE_BUILDER_REFERENCE)
        return push_reference(b, request_start, wire_entries, count);
    return push_safe(b, request_start, wire_entries, count);
}

const sw_tigo_node_record *sw_tigo_node_table_builder_table(const sw_tigo_node_table_builder *b, size_t *count)
{
    *count = b->complete ? b->n : 0;
    return b->entries;
}
