/*
 * chunking.h: what the streaming fuzz targets share to check that a decoder
 * gives the same results however its input is cut. A target pushes the same
 * bytes once whole and once in pieces whose sizes come from the input, folds
 * every event (and the final counters) into a digest per run, and aborts when
 * the digests differ.
 */
#ifndef SUNWIRE_FUZZ_CHUNKING_H
#define SUNWIRE_FUZZ_CHUNKING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* FNV-1a over everything mixed in, and how many items were mixed. */
typedef struct fz_digest {
    uint64_t hash;
    uint64_t items;
} fz_digest;

static inline void fz_digest_init(fz_digest *d)
{
    d->hash = UINT64_C(0xCBF29CE484222325);
    d->items = 0;
}

static inline void fz_mix(fz_digest *d, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        d->hash ^= b[i];
        d->hash *= UINT64_C(0x100000001B3);
    }
    d->items++;
}

static inline void fz_mix_u64(fz_digest *d, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    fz_mix(d, b, sizeof b);
}

static inline void fz_same(const fz_digest *whole, const fz_digest *split, const char *what)
{
    if (whole->hash != split->hash || whole->items != split->items) {
        fprintf(stderr, "%s: pushed whole and in pieces, the results differ (%llu vs %llu items)\n", what,
                (unsigned long long)whole->items, (unsigned long long)split->items);
        abort();
    }
}

/*
 * Piece sizes from a seed the input picks: mostly short pieces (1 to 20
 * bytes, which cut frames, escapes and headers anywhere) and now and then a
 * long one (up to 300 bytes, long enough for the block paths).
 */
typedef struct fz_splitter {
    uint32_t x;
} fz_splitter;

static inline void fz_splitter_init(fz_splitter *s, uint32_t seed)
{
    s->x = seed * 2654435761u + 0x9E3779B9u;
    if (!s->x)
        s->x = 1;
}

static inline size_t fz_piece(fz_splitter *s, size_t left)
{
    s->x ^= s->x << 13;
    s->x ^= s->x >> 17;
    s->x ^= s->x << 5;
    size_t n = (s->x & 7) == 0 ? 1 + (s->x >> 8) % 300 : 1 + (s->x >> 8) % 20;
    return n < left ? n : left;
}

#endif
