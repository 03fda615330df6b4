/*
 * sunwire/tigo_slot_clock.h: turning a gateway's 16-bit slot counter into
 * wall-clock time, the way taptap does it.
 *
 * Sits above the transport layer: it trusts that (slot counter, time) pairs
 * come from a receive response and the wall-clock time its receive request
 * was captured at, and knows nothing else. Times are Unix nanoseconds passed
 * in by the caller; nothing here reads a clock.
 *
 * The counter cycles through 48000 slots of ~5 ms (~240 s). The clock keeps
 * one anchor per block of 1000 slots (48 anchors); see docs/tigo-observer.md.
 */
#ifndef SUNWIRE_TIGO_SLOT_CLOCK_H
#define SUNWIRE_TIGO_SLOT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_TIGO_SLOT_CLOCK_BLOCKS 48
#define SW_TIGO_SLOT_NS 5000000LL
#define SW_TIGO_SLOT_BLOCK_NS 5000000000LL

typedef struct sw_tigo_slot_clock {
    int64_t anchor_ns[SW_TIGO_SLOT_CLOCK_BLOCKS];
    int64_t last_time_ns;
    uint8_t last_block;
    bool valid; /* false until sw_tigo_slot_clock_init succeeded */
} sw_tigo_slot_clock;

/* True when the counter's slot number (low 14 bits) is at most 11999. */
SW_API bool sw_tigo_slot_counter_ok(uint16_t slot_counter);

/*
 * Block index (0..47) and offset inside the block (0..4995 ms, in ns) of a
 * counter value. SW_ERR_TIGO_INVALID_SLOT for slot numbers above 11999.
 */
SW_API sw_err sw_tigo_slot_locate(uint16_t slot_counter, unsigned *block, int64_t *offset_ns);

/*
 * First observation: anchor the counter's block at t - offset and fill the
 * other 47 blocks backwards at 5 s each. On error the clock is unchanged.
 */
SW_API sw_err sw_tigo_slot_clock_init(sw_tigo_slot_clock *c, uint16_t slot_counter, int64_t t_ns);

/*
 * Later observation. A time earlier than the previous one rebuilds the clock
 * from scratch (*rebuilt set when not NULL); a new block is re-anchored and
 * the blocks back to (not including) the previous one are back-filled; the
 * same block changes nothing but the remembered time.
 */
SW_API sw_err sw_tigo_slot_clock_update(sw_tigo_slot_clock *c, uint16_t slot_counter, int64_t t_ns,
                                 bool *rebuilt);

/* Wall-clock time of a counter value: anchor of its block + offset. */
SW_API sw_err sw_tigo_slot_clock_get(const sw_tigo_slot_clock *c, uint16_t slot_counter, int64_t *t_ns);

#ifdef __cplusplus
}
#endif
#endif
