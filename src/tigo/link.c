/*
 * Tigo gateway link layer: the receiving state machine.
 *
 * Trusts nothing from below (raw bus bytes, arbitrarily chunked); hands up
 * only frames whose CRC matched. The state machine is the reference one (see
 * docs/tigo-protocol.md and spec §3.7) with an "improved" mode that differs in
 * three documented places. The hot path is the plain-data run inside a frame:
 * it is copied in a tight loop that stops only at 7E or a full buffer, so a
 * switch on the state happens once per delimiter or escape, not once per byte.
 */
#include <string.h>
/* SW_PORTABLE (cmake -DSUNWIRE_PORTABLE=ON) keeps the vector paths out, so
 * that the code other CPUs run is what gets built and tested. */
#if defined(__SSE2__) && !defined(SW_PORTABLE)
#include <emmintrin.h>
#define SW_LINK_SSE2 1
#endif

#include "sunwire/core.h"
#include "sunwire/tigo_link.h"
#include "tigo/crc_internal.h"
#include "tigo/link_internal.h"

void sw_tigo_link_receiver_init(sw_tigo_link_receiver *rx, sw_tigo_link_mode mode, sw_tigo_frame_cb on_frame, void *user)
{
    memset(rx, 0, sizeof *rx);
    rx->state = SW_TIGO_LINK_IDLE;
    rx->mode = (uint8_t)mode;
    rx->on_frame = on_frame;
    rx->user = user;
}

void sw_tigo_link_receiver_reset(sw_tigo_link_receiver *rx)
{
    rx->state = SW_TIGO_LINK_IDLE;
    rx->len = 0;
}

const char *sw_tigo_link_state_name(sw_tigo_link_state state)
{
    switch (state) {
    case SW_TIGO_LINK_IDLE: return "Idle";
    case SW_TIGO_LINK_NOISE: return "Noise";
    case SW_TIGO_LINK_START_OF_FRAME: return "StartOfFrame";
    case SW_TIGO_LINK_FRAME: return "Frame";
    case SW_TIGO_LINK_FRAME_ESCAPE: return "FrameEscape";
    case SW_TIGO_LINK_GIANT: return "Giant";
    case SW_TIGO_LINK_GIANT_ESCAPE: return "GiantEscape";
    }
    return "Unknown";
}

sw_err sw_tigo_link_parse_body(const uint8_t *body, size_t n, sw_tigo_frame *frame)
{
    if (n < SW_TIGO_LINK_MIN_BODY)
        return SW_ERR_TRUNCATED;
    if (n > SW_TIGO_LINK_MAX_BODY)
        return SW_ERR_TOO_LONG;
    uint16_t want = (uint16_t)(body[n - 2] | (body[n - 1] << 8));
    if (sw_tigo_crc16_fold(SW_TIGO_CRC16_INIT, body, n - 2) != want)
        return SW_ERR_TIGO_BAD_CRC;
    frame->address = sw_be16(body);
    frame->type = sw_be16(body + 2);
    frame->payload = body + 4;
    frame->payload_len = n - 6;
    return SW_OK;
}

/* Where the body starts in rx->buf: the bytes before it stay zero. */
#define BODY_LEAD 8u

/* End delimiter seen: count or deliver. Returns what the callback returned
 * (non-zero: stop the push). */
static int finish_frame(sw_tigo_link_receiver *rx)
{
    size_t n = rx->len;
    rx->len = 0;
    if (n < SW_TIGO_LINK_MIN_BODY) {
        rx->counters.runts++;
        return 0;
    }
    /* The CRC of a body that ends in its own CRC (low byte first) is zero.
     * The check reads up to seven of the zero bytes in front of the body,
     * so that it works on whole 8-byte blocks (crc_internal.h). */
    const uint8_t *body = rx->buf + BODY_LEAD;
    if (!sw_tigo_crc16_residue_ok(body, n)) {
        rx->counters.checksums++;
        return 0;
    }
    sw_tigo_frame f;
    f.address = sw_be16(body);
    f.type = sw_be16(body + 2);
    f.payload = body + 4;
    f.payload_len = n - 6;
    rx->counters.frames++;
    if (rx->on_frame)
        return rx->on_frame(rx, &f, rx->user);
    return 0;
}

/* Escape code 00..06 back to the data byte it stands for. */
static const uint8_t unescape_tab[7] = { 0x7E, 0x24, 0x23, 0x25, 0xA4, 0xA3, 0xA5 };

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SW_PORTABLE)
#include <tmmintrin.h>
#define SW_LINK_SSSE3 1

/*
 * Frame data sixteen bytes at a time with no branch per escape (SSSE3 and
 * POPCNT, checked at run time). On a real bus about one byte in forty is
 * escaped, so a plain run rarely reaches twenty bytes and a loop that stops
 * at every 7E pays a mispredicted branch per escape; here escapes are
 * decoded in registers and only a 7E that is not an escape (the frame's end,
 * or anything odd) stops the loop.
 *
 * Per block v = src[0..15] and n1 = src[1..16]: every 7E in v whose next
 * byte is a code 00..06 becomes the byte that code stands for, the code byte
 * is dropped, and the kept bytes are packed together, eight at a time, by a
 * byte shuffle chosen by the drop mask. A 7E in the last position takes its
 * code from src[16], which is then consumed as well.
 */
#define Z 0x80 /* a shuffle index that yields 0 */
static const uint8_t compact_tab[256][8] = {
    {0,1,2,3,4,5,6,7},{1,2,3,4,5,6,7,Z},{0,2,3,4,5,6,7,Z},{2,3,4,5,6,7,Z,Z},
    {0,1,3,4,5,6,7,Z},{1,3,4,5,6,7,Z,Z},{0,3,4,5,6,7,Z,Z},{3,4,5,6,7,Z,Z,Z},
    {0,1,2,4,5,6,7,Z},{1,2,4,5,6,7,Z,Z},{0,2,4,5,6,7,Z,Z},{2,4,5,6,7,Z,Z,Z},
    {0,1,4,5,6,7,Z,Z},{1,4,5,6,7,Z,Z,Z},{0,4,5,6,7,Z,Z,Z},{4,5,6,7,Z,Z,Z,Z},
    {0,1,2,3,5,6,7,Z},{1,2,3,5,6,7,Z,Z},{0,2,3,5,6,7,Z,Z},{2,3,5,6,7,Z,Z,Z},
    {0,1,3,5,6,7,Z,Z},{1,3,5,6,7,Z,Z,Z},{0,3,5,6,7,Z,Z,Z},{3,5,6,7,Z,Z,Z,Z},
    {0,1,2,5,6,7,Z,Z},{1,2,5,6,7,Z,Z,Z},{0,2,5,6,7,Z,Z,Z},{2,5,6,7,Z,Z,Z,Z},
    {0,1,5,6,7,Z,Z,Z},{1,5,6,7,Z,Z,Z,Z},{0,5,6,7,Z,Z,Z,Z},{5,6,7,Z,Z,Z,Z,Z},
    {0,1,2,3,4,6,7,Z},{1,2,3,4,6,7,Z,Z},{0,2,3,4,6,7,Z,Z},{2,3,4,6,7,Z,Z,Z},
    {0,1,3,4,6,7,Z,Z},{1,3,4,6,7,Z,Z,Z},{0,3,4,6,7,Z,Z,Z},{3,4,6,7,Z,Z,Z,Z},
    {0,1,2,4,6,7,Z,Z},{1,2,4,6,7,Z,Z,Z},{0,2,4,6,7,Z,Z,Z},{2,4,6,7,Z,Z,Z,Z},
    {0,1,4,6,7,Z,Z,Z},{1,4,6,7,Z,Z,Z,Z},{0,4,6,7,Z,Z,Z,Z},{4,6,7,Z,Z,Z,Z,Z},
    {0,1,2,3,6,7,Z,Z},{1,2,3,6,7,Z,Z,Z},{0,2,3,6,7,Z,Z,Z},{2,3,6,7,Z,Z,Z,Z},
    {0,1,3,6,7,Z,Z,Z},{1,3,6,7,Z,Z,Z,Z},{0,3,6,7,Z,Z,Z,Z},{3,6,7,Z,Z,Z,Z,Z},
    {0,1,2,6,7,Z,Z,Z},{1,2,6,7,Z,Z,Z,Z},{0,2,6,7,Z,Z,Z,Z},{2,6,7,Z,Z,Z,Z,Z},
    {0,1,6,7,Z,Z,Z,Z},{1,6,7,Z,Z,Z,Z,Z},{0,6,7,Z,Z,Z,Z,Z},{6,7,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,4,5,7,Z},{1,2,3,4,5,7,Z,Z},{0,2,3,4,5,7,Z,Z},{2,3,4,5,7,Z,Z,Z},
    {0,1,3,4,5,7,Z,Z},{1,3,4,5,7,Z,Z,Z},{0,3,4,5,7,Z,Z,Z},{3,4,5,7,Z,Z,Z,Z},
    {0,1,2,4,5,7,Z,Z},{1,2,4,5,7,Z,Z,Z},{0,2,4,5,7,Z,Z,Z},{2,4,5,7,Z,Z,Z,Z},
    {0,1,4,5,7,Z,Z,Z},{1,4,5,7,Z,Z,Z,Z},{0,4,5,7,Z,Z,Z,Z},{4,5,7,Z,Z,Z,Z,Z},
    {0,1,2,3,5,7,Z,Z},{1,2,3,5,7,Z,Z,Z},{0,2,3,5,7,Z,Z,Z},{2,3,5,7,Z,Z,Z,Z},
    {0,1,3,5,7,Z,Z,Z},{1,3,5,7,Z,Z,Z,Z},{0,3,5,7,Z,Z,Z,Z},{3,5,7,Z,Z,Z,Z,Z},
    {0,1,2,5,7,Z,Z,Z},{1,2,5,7,Z,Z,Z,Z},{0,2,5,7,Z,Z,Z,Z},{2,5,7,Z,Z,Z,Z,Z},
    {0,1,5,7,Z,Z,Z,Z},{1,5,7,Z,Z,Z,Z,Z},{0,5,7,Z,Z,Z,Z,Z},{5,7,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,4,7,Z,Z},{1,2,3,4,7,Z,Z,Z},{0,2,3,4,7,Z,Z,Z},{2,3,4,7,Z,Z,Z,Z},
    {0,1,3,4,7,Z,Z,Z},{1,3,4,7,Z,Z,Z,Z},{0,3,4,7,Z,Z,Z,Z},{3,4,7,Z,Z,Z,Z,Z},
    {0,1,2,4,7,Z,Z,Z},{1,2,4,7,Z,Z,Z,Z},{0,2,4,7,Z,Z,Z,Z},{2,4,7,Z,Z,Z,Z,Z},
    {0,1,4,7,Z,Z,Z,Z},{1,4,7,Z,Z,Z,Z,Z},{0,4,7,Z,Z,Z,Z,Z},{4,7,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,7,Z,Z,Z},{1,2,3,7,Z,Z,Z,Z},{0,2,3,7,Z,Z,Z,Z},{2,3,7,Z,Z,Z,Z,Z},
    {0,1,3,7,Z,Z,Z,Z},{1,3,7,Z,Z,Z,Z,Z},{0,3,7,Z,Z,Z,Z,Z},{3,7,Z,Z,Z,Z,Z,Z},
    {0,1,2,7,Z,Z,Z,Z},{1,2,7,Z,Z,Z,Z,Z},{0,2,7,Z,Z,Z,Z,Z},{2,7,Z,Z,Z,Z,Z,Z},
    {0,1,7,Z,Z,Z,Z,Z},{1,7,Z,Z,Z,Z,Z,Z},{0,7,Z,Z,Z,Z,Z,Z},{7,Z,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,4,5,6,Z},{1,2,3,4,5,6,Z,Z},{0,2,3,4,5,6,Z,Z},{2,3,4,5,6,Z,Z,Z},
    {0,1,3,4,5,6,Z,Z},{1,3,4,5,6,Z,Z,Z},{0,3,4,5,6,Z,Z,Z},{3,4,5,6,Z,Z,Z,Z},
    {0,1,2,4,5,6,Z,Z},{1,2,4,5,6,Z,Z,Z},{0,2,4,5,6,Z,Z,Z},{2,4,5,6,Z,Z,Z,Z},
    {0,1,4,5,6,Z,Z,Z},{1,4,5,6,Z,Z,Z,Z},{0,4,5,6,Z,Z,Z,Z},{4,5,6,Z,Z,Z,Z,Z},
    {0,1,2,3,5,6,Z,Z},{1,2,3,5,6,Z,Z,Z},{0,2,3,5,6,Z,Z,Z},{2,3,5,6,Z,Z,Z,Z},
    {0,1,3,5,6,Z,Z,Z},{1,3,5,6,Z,Z,Z,Z},{0,3,5,6,Z,Z,Z,Z},{3,5,6,Z,Z,Z,Z,Z},
    {0,1,2,5,6,Z,Z,Z},{1,2,5,6,Z,Z,Z,Z},{0,2,5,6,Z,Z,Z,Z},{2,5,6,Z,Z,Z,Z,Z},
    {0,1,5,6,Z,Z,Z,Z},{1,5,6,Z,Z,Z,Z,Z},{0,5,6,Z,Z,Z,Z,Z},{5,6,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,4,6,Z,Z},{1,2,3,4,6,Z,Z,Z},{0,2,3,4,6,Z,Z,Z},{2,3,4,6,Z,Z,Z,Z},
    {0,1,3,4,6,Z,Z,Z},{1,3,4,6,Z,Z,Z,Z},{0,3,4,6,Z,Z,Z,Z},{3,4,6,Z,Z,Z,Z,Z},
    {0,1,2,4,6,Z,Z,Z},{1,2,4,6,Z,Z,Z,Z},{0,2,4,6,Z,Z,Z,Z},{2,4,6,Z,Z,Z,Z,Z},
    {0,1,4,6,Z,Z,Z,Z},{1,4,6,Z,Z,Z,Z,Z},{0,4,6,Z,Z,Z,Z,Z},{4,6,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,6,Z,Z,Z},{1,2,3,6,Z,Z,Z,Z},{0,2,3,6,Z,Z,Z,Z},{2,3,6,Z,Z,Z,Z,Z},
    {0,1,3,6,Z,Z,Z,Z},{1,3,6,Z,Z,Z,Z,Z},{0,3,6,Z,Z,Z,Z,Z},{3,6,Z,Z,Z,Z,Z,Z},
    {0,1,2,6,Z,Z,Z,Z},{1,2,6,Z,Z,Z,Z,Z},{0,2,6,Z,Z,Z,Z,Z},{2,6,Z,Z,Z,Z,Z,Z},
    {0,1,6,Z,Z,Z,Z,Z},{1,6,Z,Z,Z,Z,Z,Z},{0,6,Z,Z,Z,Z,Z,Z},{6,Z,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,4,5,Z,Z},{1,2,3,4,5,Z,Z,Z},{0,2,3,4,5,Z,Z,Z},{2,3,4,5,Z,Z,Z,Z},
    {0,1,3,4,5,Z,Z,Z},{1,3,4,5,Z,Z,Z,Z},{0,3,4,5,Z,Z,Z,Z},{3,4,5,Z,Z,Z,Z,Z},
    {0,1,2,4,5,Z,Z,Z},{1,2,4,5,Z,Z,Z,Z},{0,2,4,5,Z,Z,Z,Z},{2,4,5,Z,Z,Z,Z,Z},
    {0,1,4,5,Z,Z,Z,Z},{1,4,5,Z,Z,Z,Z,Z},{0,4,5,Z,Z,Z,Z,Z},{4,5,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,5,Z,Z,Z},{1,2,3,5,Z,Z,Z,Z},{0,2,3,5,Z,Z,Z,Z},{2,3,5,Z,Z,Z,Z,Z},
    {0,1,3,5,Z,Z,Z,Z},{1,3,5,Z,Z,Z,Z,Z},{0,3,5,Z,Z,Z,Z,Z},{3,5,Z,Z,Z,Z,Z,Z},
    {0,1,2,5,Z,Z,Z,Z},{1,2,5,Z,Z,Z,Z,Z},{0,2,5,Z,Z,Z,Z,Z},{2,5,Z,Z,Z,Z,Z,Z},
    {0,1,5,Z,Z,Z,Z,Z},{1,5,Z,Z,Z,Z,Z,Z},{0,5,Z,Z,Z,Z,Z,Z},{5,Z,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,4,Z,Z,Z},{1,2,3,4,Z,Z,Z,Z},{0,2,3,4,Z,Z,Z,Z},{2,3,4,Z,Z,Z,Z,Z},
    {0,1,3,4,Z,Z,Z,Z},{1,3,4,Z,Z,Z,Z,Z},{0,3,4,Z,Z,Z,Z,Z},{3,4,Z,Z,Z,Z,Z,Z},
    {0,1,2,4,Z,Z,Z,Z},{1,2,4,Z,Z,Z,Z,Z},{0,2,4,Z,Z,Z,Z,Z},{2,4,Z,Z,Z,Z,Z,Z},
    {0,1,4,Z,Z,Z,Z,Z},{1,4,Z,Z,Z,Z,Z,Z},{0,4,Z,Z,Z,Z,Z,Z},{4,Z,Z,Z,Z,Z,Z,Z},
    {0,1,2,3,Z,Z,Z,Z},{1,2,3,Z,Z,Z,Z,Z},{0,2,3,Z,Z,Z,Z,Z},{2,3,Z,Z,Z,Z,Z,Z},
    {0,1,3,Z,Z,Z,Z,Z},{1,3,Z,Z,Z,Z,Z,Z},{0,3,Z,Z,Z,Z,Z,Z},{3,Z,Z,Z,Z,Z,Z,Z},
    {0,1,2,Z,Z,Z,Z,Z},{1,2,Z,Z,Z,Z,Z,Z},{0,2,Z,Z,Z,Z,Z,Z},{2,Z,Z,Z,Z,Z,Z,Z},
    {0,1,Z,Z,Z,Z,Z,Z},{1,Z,Z,Z,Z,Z,Z,Z},{0,Z,Z,Z,Z,Z,Z,Z},{Z,Z,Z,Z,Z,Z,Z,Z},
};
#undef Z

/* Handles whole blocks while at least 17 input bytes and 16 bytes of room
 * remain; stops before a 7E that is not followed by an escape code. Returns
 * the bytes consumed and sets *produced to the bytes written. */
__attribute__((target("ssse3,popcnt"))) static size_t unescape_blocks(const uint8_t *src, size_t avail,
                                                                      uint8_t *dst, size_t room,
                                                                      size_t *produced)
{
    const __m128i delim = _mm_set1_epi8(0x7E);
    const __m128i six = _mm_set1_epi8(6);
    const __m128i eight = _mm_set1_epi8(8);
    const __m128i codes = _mm_setr_epi8(0x7E, 0x24, 0x23, 0x25, (char)0xA4, (char)0xA3, (char)0xA5, 0, 0, 0, 0, 0,
                                        0, 0, 0, 0);
    size_t in = 0, out = 0;
    while (avail - in >= 17 && room - out >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + in));
        __m128i n1 = _mm_loadu_si128((const __m128i *)(const void *)(src + in + 1));
        __m128i esc = _mm_cmpeq_epi8(v, delim);
        unsigned m = (unsigned)_mm_movemask_epi8(esc);
        /* codes 00..06: min(n1, 6) == n1, unsigned */
        unsigned is_code = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(n1, six), n1));
        unsigned stop = m & ~is_code;
        unsigned take = 16;
        if (stop) {
            /* Only the bytes before the first such 7E, and no escape that
             * would reach past it. */
            take = (unsigned)__builtin_ctz(stop);
            m &= (1u << take) - 1u;
        }
        __m128i dec = _mm_shuffle_epi8(codes, n1);
        __m128i o = _mm_or_si128(_mm_and_si128(esc, dec), _mm_andnot_si128(esc, v));
        /* Drop each code byte and every position from take on; a code in
         * position 16 (7E last) is consumed but was never in the block. */
        unsigned drop = ((m << 1) | ~((1u << take) - 1u)) & 0xFFFFu;
        unsigned tail = (m >> 15) & 1u;
        __m128i lo = _mm_shuffle_epi8(o, _mm_loadl_epi64((const __m128i *)(const void *)compact_tab[drop & 0xFF]));
        __m128i hi = _mm_shuffle_epi8(
            o, _mm_add_epi8(_mm_loadl_epi64((const __m128i *)(const void *)compact_tab[drop >> 8]), eight));
        _mm_storel_epi64((__m128i *)(void *)(dst + out), lo);
        out += 8u - (unsigned)__builtin_popcount(drop & 0xFF);
        _mm_storel_epi64((__m128i *)(void *)(dst + out), hi);
        out += 8u - (unsigned)__builtin_popcount(drop >> 8);
        in += take + tail;
        if (stop)
            break;
    }
    *produced = out;
    return in;
}
#endif

/* Which frame-data loop the receiver runs on this CPU (see link_internal.h). */
const char *sw_tigo_link_receiver_path(void)
{
#if defined(SW_LINK_SSSE3)
    if (__builtin_cpu_supports("ssse3") && __builtin_cpu_supports("popcnt"))
        return "ssse3";
#endif
#if defined(SW_LINK_SSE2)
    return "sse2";
#else
    return "portable";
#endif
}

int sw_tigo_link_receiver_push(sw_tigo_link_receiver *rx, const uint8_t *data, size_t len, size_t *consumed)
{
    const bool improved = rx->mode == SW_TIGO_LINK_MODE_IMPROVED;
    int stop = 0;
    size_t i = 0;
    uint8_t state = rx->state;

    while (i < len) {
        uint8_t b;
        if (state == SW_TIGO_LINK_FRAME) {
            /* Inside a frame. The buffer length lives in a local while bytes
             * are stored: a store through a byte pointer may alias rx->len,
             * which would otherwise be reloaded after every one. */
            size_t blen = rx->len;
            for (;;) {
                /* Fast run: plain body bytes until a 7E or a full buffer. */
                size_t room = SW_TIGO_LINK_MAX_BODY - blen;
                size_t avail = len - i;
#if defined(SW_LINK_SSSE3)
                if (avail >= 17 && room >= 16 && __builtin_cpu_supports("ssse3") &&
                    __builtin_cpu_supports("popcnt")) {
                    size_t made;
                    size_t used = unescape_blocks(data + i, avail, rx->buf + BODY_LEAD + blen, room, &made);
                    i += used;
                    blen += made;
                    room -= made;
                    avail -= used;
                }
#endif
                size_t lim = avail < room ? avail : room;
                const uint8_t *src = data + i;
                uint8_t *dst = rx->buf + BODY_LEAD + blen;
                size_t run = 0;
#if defined(SW_LINK_SSE2)
                /* Sixteen bytes per compare where the CPU has SSE2 (every
                 * x86-64): store them all (they fit: lim never exceeds the
                 * room left) and advance to the first 7E, if any. */
                {
                    const __m128i delim = _mm_set1_epi8(0x7E);
                    while (lim - run >= 16) {
                        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + run));
                        _mm_storeu_si128((__m128i *)(void *)(dst + run), v);
                        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, delim));
                        if (m) {
                            run += (size_t)__builtin_ctz(m);
                            goto run_done;
                        }
                        run += 16;
                    }
                }
#endif
                /* Eight bytes at a time while none of them is 7E (the classic
                 * "has zero byte" test on v ^ 7E7E..); runs between escapes
                 * are a few dozen bytes, too short for memchr + memcpy calls
                 * to pay. */
                while (lim - run >= 8) {
                    uint64_t v;
                    memcpy(&v, src + run, 8);
                    uint64_t x = v ^ UINT64_C(0x7E7E7E7E7E7E7E7E);
                    if ((x - UINT64_C(0x0101010101010101)) & ~x & UINT64_C(0x8080808080808080))
                        break;
                    memcpy(dst + run, &v, 8);
                    run += 8;
                }
                while (run < lim && src[run] != 0x7E) {
                    dst[run] = src[run];
                    run++;
                }
#if defined(SW_LINK_SSE2)
            run_done:
#endif
                blen += run;
                i += run;
                if (i == len)
                    break;
                if (data[i] != 0x7E) {
                    /* Buffer full and another plain byte: the frame is a giant. */
                    i++;
                    blen = 0;
                    rx->counters.giants++;
                    state = SW_TIGO_LINK_GIANT;
                    break;
                }
                /* A 7E: settle the usual escapes here, without a trip
                 * through the state switch. An escape that does not fit,
                 * a 7E at the end of the chunk and the rare codes go the
                 * long way, through FrameEscape. */
                if (len - i >= 2) {
                    uint8_t code = data[i + 1];
                    if (code <= 0x06 && blen < SW_TIGO_LINK_MAX_BODY) {
                        rx->buf[BODY_LEAD + blen++] = unescape_tab[code];
                        i += 2;
                        continue;
                    }
                    if (code == 0x08) {
                        i += 2;
                        rx->len = (uint16_t)blen;
                        stop = finish_frame(rx);
                        blen = 0;
                        if (stop) {
                            state = SW_TIGO_LINK_IDLE;
                            goto out;
                        }
                        /* On a busy bus the next frame starts at once. */
                        if (len - i >= 2 && data[i] == 0x7E && data[i + 1] == 0x07) {
                            i += 2;
                            continue;
                        }
                        state = SW_TIGO_LINK_IDLE;
                        break;
                    }
                }
                i++;
                state = SW_TIGO_LINK_FRAME_ESCAPE;
                break;
            }
            rx->len = (uint16_t)blen;
            continue;
        }

        b = data[i++];
        switch (state) {
        case SW_TIGO_LINK_IDLE:
            if (b == 0x7E)
                state = SW_TIGO_LINK_START_OF_FRAME;
            else if (b != 0x00 && b != 0xFF) {
                state = SW_TIGO_LINK_NOISE;
                rx->counters.noise++;
            }
            break;
        case SW_TIGO_LINK_NOISE:
            if (b == 0x7E)
                state = SW_TIGO_LINK_START_OF_FRAME;
            else if (b == 0x00 || b == 0xFF)
                state = SW_TIGO_LINK_IDLE;
            break;
        case SW_TIGO_LINK_START_OF_FRAME:
            if (b == 0x07) {
                rx->len = 0;
                state = SW_TIGO_LINK_FRAME;
            } else if (b == 0x7E && improved) {
                /* 7E 7E 07: the first 7E was stray; wait for the 07. */
            } else {
                state = SW_TIGO_LINK_NOISE;
                rx->counters.noise++;
            }
            break;
        case SW_TIGO_LINK_FRAME_ESCAPE:
            if (b == 0x08) {
                stop = finish_frame(rx);
                state = SW_TIGO_LINK_IDLE;
                if (stop)
                    goto out;
            } else if (b <= 0x06) {
                if (rx->len < SW_TIGO_LINK_MAX_BODY) {
                    rx->buf[BODY_LEAD + rx->len++] = unescape_tab[b];
                    state = SW_TIGO_LINK_FRAME;
                } else {
                    rx->len = 0;
                    if (improved) {
                        rx->counters.giants++;
                        state = SW_TIGO_LINK_GIANT;
                    } else {
                        /* Reference quirk: no giant counted, and the next 7E is data. */
                        state = SW_TIGO_LINK_GIANT_ESCAPE;
                    }
                }
            } else if (b == 0x07 && improved) {
                /* Lost end delimiter: drop the partial frame, this 7E 07 starts a new one. */
                rx->len = 0;
                rx->counters.restarts++;
                state = SW_TIGO_LINK_FRAME;
            } else {
                rx->len = 0;
                state = SW_TIGO_LINK_NOISE;
                rx->counters.noise++;
            }
            break;
        case SW_TIGO_LINK_GIANT:
            if (b == 0x7E)
                state = SW_TIGO_LINK_GIANT_ESCAPE;
            break;
        case SW_TIGO_LINK_GIANT_ESCAPE:
            if (b == 0x07) {
                rx->len = 0;
                state = SW_TIGO_LINK_FRAME;
            } else if (b == 0x08) {
                state = SW_TIGO_LINK_IDLE;
            } else if (b == 0x7E && improved) {
                /* 7E 7E: still an escape start, so a following 07/08 is honoured. */
            } else {
                state = SW_TIGO_LINK_GIANT;
            }
            break;
        default:
            /* Corrupted struct: recover instead of trusting it. */
            rx->len = 0;
            state = SW_TIGO_LINK_IDLE;
            break;
        }
    }
out:
    rx->state = state;
    if (consumed)
        *consumed = i;
    return stop;
}
