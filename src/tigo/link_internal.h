/*
 * tigo/link_internal.h: what the link receiver chose for this CPU, private to the
 * library and its tests.
 */
#ifndef SUNWIRE_TIGO_LINK_INTERNAL_H
#define SUNWIRE_TIGO_LINK_INTERNAL_H

/*
 * The loop that copies and unescapes frame data: "ssse3" (sixteen bytes at a
 * time with escapes decoded in registers, chosen at run time), "sse2" (plain
 * runs sixteen bytes at a time, escapes one by one) or "portable" (eight-byte
 * words and single bytes: what CPUs without SSE2 run, and every CPU when
 * built with SW_PORTABLE, cmake -DSUNWIRE_PORTABLE=ON).
 */
const char *sw_tigo_link_receiver_path(void);

#endif
