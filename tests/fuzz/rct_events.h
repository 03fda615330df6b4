/*
 * rct_events.h: an RCT receiver event folded into a chunking digest (what
 * the RCT fuzz targets compare across cuts of the same bytes).
 */
#ifndef SUNWIRE_FUZZ_RCT_EVENTS_H
#define SUNWIRE_FUZZ_RCT_EVENTS_H

#include "chunking.h"
#include "sunwire/rct.h"

/* NEED_MORE says only that a piece ended, so it is left out. */
static inline void fz_mix_rct_event(fz_digest *d, const sw_rct_receiver_event *ev)
{
    if (ev->kind == SW_RCT_RECEIVER_NEED_MORE)
        return;
    fz_mix_u64(d, (uint64_t)ev->kind << 32 | (uint32_t)ev->error);
    if (ev->kind == SW_RCT_RECEIVER_ERROR && ev->error == SW_ERR_RCT_INVALID_COMMAND)
        fz_mix_u64(d, ev->command);
    if (ev->kind == SW_RCT_RECEIVER_FRAME || (ev->kind == SW_RCT_RECEIVER_ERROR && ev->error == SW_ERR_RCT_CRC_MISMATCH)) {
        const sw_rct_frame *f = &ev->frame;
        fz_mix_u64(d, (uint64_t)f->command << 56 | (uint64_t)f->kind << 48 | (uint64_t)f->extension << 40 |
                          (uint64_t)f->crc_ok << 32 | (uint64_t)f->crc_received << 16 | f->crc_calculated);
        fz_mix_u64(d, (uint64_t)f->address << 32 | f->id);
        fz_mix(d, f->payload, f->payload_len);
    }
}

#endif
