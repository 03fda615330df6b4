/*
 * slot_clock.c: per-gateway slot-counter clock (see sunwire/tigo_slot_clock.h).
 *
 * Deliberately identical to taptap's algorithm, quirks included (stale
 * anchors survive observation gaps longer than one 240 s cycle), because the
 * timestamps in observe output must match the reference to the nanosecond.
 */
#include "sunwire/tigo_slot_clock.h"
#include "tigo/slot_clock_internal.h"

bool sw_tigo_slot_counter_ok(uint16_t slot_counter)
{
    return (slot_counter & 0x3FFFu) <= 11999u;
}

sw_err sw_tigo_slot_locate(uint16_t slot_counter, unsigned *block, int64_t *offset_ns)
{
    return sw_tigo_slot_place(slot_counter, block, offset_ns);
}

sw_err sw_tigo_slot_clock_init(sw_tigo_slot_clock *c, uint16_t slot_counter, int64_t t_ns)
{
    unsigned b;
    int64_t off;
    sw_err e = sw_tigo_slot_locate(slot_counter, &b, &off);
    if (e)
        return e;
    int64_t base = t_ns - off;
    for (unsigned k = 0; k < SW_TIGO_SLOT_CLOCK_BLOCKS; k++)
        c->anchor_ns[(b + SW_TIGO_SLOT_CLOCK_BLOCKS - k) % SW_TIGO_SLOT_CLOCK_BLOCKS] =
            base - (int64_t)k * SW_TIGO_SLOT_BLOCK_NS;
    c->last_block = (uint8_t)b;
    c->last_time_ns = t_ns;
    c->valid = true;
    return SW_OK;
}

sw_err sw_tigo_slot_clock_update(sw_tigo_slot_clock *c, uint16_t slot_counter, int64_t t_ns,
                                 bool *rebuilt)
{
    if (rebuilt)
        *rebuilt = false;
    unsigned b;
    int64_t off;
    sw_err e = sw_tigo_slot_locate(slot_counter, &b, &off);
    if (e)
        return e;
    if (!c->valid || c->last_time_ns > t_ns) {
        if (rebuilt && c->valid)
            *rebuilt = true;
        return sw_tigo_slot_clock_init(c, slot_counter, t_ns);
    }
    if (b != c->last_block) {
        int64_t base = t_ns - off;
        c->anchor_ns[b] = base;
        /* Back-fill towards the previous anchor, which keeps its measured value. */
        for (unsigned k = 1; k < SW_TIGO_SLOT_CLOCK_BLOCKS; k++) {
            unsigned i = (b + SW_TIGO_SLOT_CLOCK_BLOCKS - k) % SW_TIGO_SLOT_CLOCK_BLOCKS;
            if (i == c->last_block)
                break;
            c->anchor_ns[i] = base - (int64_t)k * SW_TIGO_SLOT_BLOCK_NS;
        }
    }
    c->last_block = (uint8_t)b;
    c->last_time_ns = t_ns;
    return SW_OK;
}

sw_err sw_tigo_slot_clock_get(const sw_tigo_slot_clock *c, uint16_t slot_counter, int64_t *t_ns)
{
    return sw_tigo_slot_clock_read(c, slot_counter, t_ns);
}
