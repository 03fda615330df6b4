/*
 * rct/proxy.h: the sans-I/O parts of the RCT proxy (rct_io/rct_proxy.h):
 * what a client's frame asks for, and the short answer cache.
 *
 * Nothing here reads a clock, allocates or touches a socket: times are
 * milliseconds on any monotonic clock, passed in by the caller, and the
 * cache is a fixed table the caller owns (SW_RCT_CACHE_SLOTS entries; when
 * full, the entry used least recently is replaced and counted).
 */
#ifndef SUNWIRE_RCT_PROXY_H
#define SUNWIRE_RCT_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/rct_frame.h"
#include "sunwire/rct_registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a client's frame asks the device for. */
typedef enum sw_rct_proxy_kind {
    SW_RCT_PROXY_IGNORE = 0, /* not a request the proxy forwards (see why) */
    SW_RCT_PROXY_READ,       /* READ / PLANT_READ of a known object: cacheable */
    SW_RCT_PROXY_QUERY,      /* a logger query: a WRITE of a 4-byte device time to a time
                                series or the event table; changes nothing, never cached */
    SW_RCT_PROXY_WRITE       /* a real write: only from allowed clients */
} sw_rct_proxy_kind;

typedef struct sw_rct_proxy_request {
    sw_rct_proxy_kind kind;
    const sw_rct_object *obj; /* NULL for IGNORE of an unknown id */
    uint8_t command;          /* as the client sent it */
    bool plant;
    uint32_t address;         /* plant address (0 unless plant) */
    sw_rct_type expect;       /* what the answer's payload must decode as */
    bool has_query;
    uint32_t query;           /* the logger query time the answer must echo */
    /* For IGNORE: SW_ERR_NOT_FOUND (unknown object id: its answer could not be
     * checked), SW_ERR_UNSUPPORTED (a response, an extension, READ_PERIODICALLY),
     * SW_ERR_RCT_BAD_PAYLOAD (a logger query whose payload is not 4 bytes). */
    sw_err why;
} sw_rct_proxy_request;

/* Classify one good frame a client sent. Always fills *out. */
void sw_rct_proxy_classify(const sw_rct_frame *f, sw_rct_proxy_request *out);

/* ---- the answer cache ------------------------------------------------------------ */

#define SW_RCT_CACHE_SLOTS 256
#define SW_RCT_CACHE_OVERRIDES 64

typedef struct sw_rct_cache_entry {
    bool used;
    bool plant;
    uint8_t command; /* the answer's command (RESPONSE or PLANT_RESPONSE) */
    uint32_t id, address;
    int64_t at_ms;   /* when the answer arrived */
    int64_t last_ms; /* last stored or served (for eviction) */
    uint16_t len;
    uint8_t payload[SW_RCT_PAYLOAD_MAX_SHORT];
} sw_rct_cache_entry;

typedef struct sw_rct_cache_counters {
    uint64_t hits, misses, stores, evictions, invalidations;
} sw_rct_cache_counters;

typedef struct sw_rct_cache {
    int64_t ttl_ms; /* how long an answer is served again; 0 = never cached */
    size_t n_overrides;
    struct {
        uint32_t id;
        int64_t ttl_ms;
    } overrides[SW_RCT_CACHE_OVERRIDES];
    sw_rct_cache_counters counters;
    sw_rct_cache_entry e[SW_RCT_CACHE_SLOTS];
} sw_rct_cache;

/* An empty cache keeping answers ttl_ms. */
void sw_rct_cache_init(sw_rct_cache *c, int64_t ttl_ms);
/* A different lifetime for one object (0 = never cached). SW_ERR_NO_SPACE when the table is full. */
sw_err sw_rct_cache_set_ttl(sw_rct_cache *c, uint32_t id, int64_t ttl_ms);
int64_t sw_rct_cache_ttl(const sw_rct_cache *c, uint32_t id);

/*
 * Store an accepted answer (payloads longer than SW_RCT_PAYLOAD_MAX_SHORT and
 * objects with a lifetime of 0 are not kept; that is not an error).
 */
void sw_rct_cache_put(sw_rct_cache *c, uint8_t command, bool plant, uint32_t address, uint32_t id,
                      const uint8_t *payload, size_t len, int64_t now_ms);

/* The answer for (plant, address, id) when it is younger than its lifetime at now_ms, else NULL. */
const sw_rct_cache_entry *sw_rct_cache_get(sw_rct_cache *c, bool plant, uint32_t address, uint32_t id,
                                           int64_t now_ms);

/* Forget every answer for id (after a write to it). */
void sw_rct_cache_invalidate(sw_rct_cache *c, uint32_t id);

#ifdef __cplusplus
}
#endif
#endif
