/*
 * tigo/slot_clock_internal.h: placing a slot counter on the clock, as inline
 * functions private to the library. The observer converts the counter of
 * every power report, so it compiles these into its report path;
 * sw_tigo_slot_locate() and sw_tigo_slot_clock_get() (slot_clock.c) are the
 * public wrappers, documented in sunwire/tigo_slot_clock.h.
 */
#ifndef SUNWIRE_TIGO_SLOT_CLOCK_INTERNAL_H
#define SUNWIRE_TIGO_SLOT_CLOCK_INTERNAL_H

#include "sunwire/tigo_slot_clock.h"

static inline sw_err sw_tigo_slot_place(uint16_t slot_counter, unsigned *block, int64_t *offset_ns)
{
    unsigned slot = slot_counter & 0x3FFFu;
    if (slot > 11999u)
        return SW_ERR_TIGO_INVALID_SLOT;
    unsigned abs_slot = (unsigned)(slot_counter >> 14) * 12000u + slot;
    *block = abs_slot / 1000u;
    *offset_ns = (int64_t)(abs_slot % 1000u) * SW_TIGO_SLOT_NS;
    return SW_OK;
}

static inline sw_err sw_tigo_slot_clock_read(const sw_tigo_slot_clock *c, uint16_t slot_counter, int64_t *t_ns)
{
    unsigned b;
    int64_t off;
    sw_err e = sw_tigo_slot_place(slot_counter, &b, &off);
    if (e)
        return e;
    if (!c->valid)
        return SW_ERR_INVALID_ARGUMENT;
    *t_ns = c->anchor_ns[b] + off;
    return SW_OK;
}

#endif
