/*
 * Slot counter of the Tigo PV network (spec §7): a 16-bit value whose top two
 * bits are an epoch (0..3) and whose low 14 bits count slots 0..11999 of about
 * 5 ms each. Pure arithmetic on a value that came out of a receive response
 * or a power report; invalid slot numbers are reported, never trusted.
 */
#include "sunwire/tigo_pv.h"

const char *sw_tigo_slot_epoch_name(uint16_t sc)
{
    static const char *const names[4] = { "Epoch0", "Epoch4", "Epoch8", "EpochC" };
    return names[sc >> 14];
}

sw_err sw_tigo_slot_absolute(uint16_t sc, uint32_t *abs_out)
{
    if (!sw_tigo_slot_valid(sc))
        return SW_ERR_TIGO_INVALID_SLOT;
    *abs_out = sw_tigo_slot_epoch(sc) * SW_TIGO_SLOTS_PER_EPOCH + sw_tigo_slot_number(sc);
    return SW_OK;
}

sw_err sw_tigo_slots_since(uint16_t now, uint16_t past, uint32_t *slots_out)
{
    uint32_t a_now, a_past;
    sw_err e = sw_tigo_slot_absolute(now, &a_now);
    if (e == SW_OK)
        e = sw_tigo_slot_absolute(past, &a_past);
    if (e != SW_OK)
        return e;
    /* The reference only takes the direct difference when it is strictly
     * positive, so equal counters read as one full cycle. */
    *slots_out = a_now > a_past ? a_now - a_past : SW_TIGO_SLOTS_PER_CYCLE - a_past + a_now;
    return SW_OK;
}

sw_err sw_tigo_slots_between(uint16_t now, uint16_t past, uint32_t *slots_out)
{
    sw_err e = sw_tigo_slots_since(now, past, slots_out);
    if (e == SW_OK && *slots_out == SW_TIGO_SLOTS_PER_CYCLE)
        *slots_out = 0;
    return e;
}
