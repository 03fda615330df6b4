/*
 * sunwire/tigo_state.h: what an observer knows about a Tigo installation
 * beyond the live data: gateway long addresses ("identities"), gateway
 * firmware version texts, and per-gateway node tables (node ID -> long
 * address), plus the node-table builder that assembles tables from paged
 * command responses and the JSON state file taptap 0.2.0 persists them in.
 *
 * Layer: above the PV decoders. The builder trusts that a page's entries came
 * from a length-checked node-table response (10-byte wire entries); the state
 * trusts nothing about IDs it is given beyond their C types. The state-file
 * parser trusts nothing at all. Fixed-capacity, caller-owned storage: no
 * allocation except inside jansson while a state document is parsed.
 */
#ifndef SUNWIRE_TIGO_STATE_H
#define SUNWIRE_TIGO_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_TIGO_STATE_MAX_GATEWAYS 32    /* distinct gateway IDs remembered */
#define SW_TIGO_MAX_NODES 4096           /* node-table entries over all gateways */
#define SW_TIGO_MAX_NODES_PER_GATEWAY 512 /* entries one table walk may collect */
#define SW_TIGO_VERSION_MAX 256          /* version text bytes (frames carry <= 250) */
#define SW_TIGO_GATEWAY_ID_MAX 0x7FFFu

typedef struct sw_tigo_gateway_record {
    uint16_t id;
    bool has_address;
    bool has_version;
    bool has_node_table; /* a table was stored, possibly empty */
    uint8_t address[8];
    uint16_t version_len;
    char version[SW_TIGO_VERSION_MAX + 1]; /* also NUL-terminated; may contain NUL */
} sw_tigo_gateway_record;

typedef struct sw_tigo_node_record {
    uint16_t gateway;
    uint16_t node_id; /* 1..65535 */
    uint8_t address[8];
} sw_tigo_node_record;

/* The persistent model. Gateways sorted by ID, nodes by (gateway, node ID). */
typedef struct sw_tigo_state {
    uint32_t n_gateways;
    uint32_t n_nodes;
    sw_tigo_gateway_record gateways[SW_TIGO_STATE_MAX_GATEWAYS];
    sw_tigo_node_record nodes[SW_TIGO_MAX_NODES];
} sw_tigo_state;

SW_API void sw_tigo_state_init(sw_tigo_state *s);
/* NULL when nothing is known about the gateway. */
SW_API const sw_tigo_gateway_record *sw_tigo_state_gateway(const sw_tigo_state *s, uint16_t gateway);
/* The stored long address of a node, or NULL. */
SW_API const uint8_t *sw_tigo_state_node_address(const sw_tigo_state *s, uint16_t gateway, uint16_t node_id);
/* The contiguous, ID-sorted node records of one gateway (count 0 when none). */
SW_API const sw_tigo_node_record *sw_tigo_state_gateway_nodes(const sw_tigo_state *s, uint16_t gateway,
                                                       size_t *count);

/*
 * Mutators report whether anything actually changed (*changed may be NULL).
 * SW_ERR_TIGO_CAPACITY when a table is full (state unchanged),
 * SW_ERR_OUT_OF_RANGE for a gateway ID above 32767 or node ID 0.
 */
SW_API sw_err sw_tigo_state_set_identity(sw_tigo_state *s, uint16_t gateway, const uint8_t addr[8], bool *changed);
SW_API sw_err sw_tigo_state_set_version(sw_tigo_state *s, uint16_t gateway, const char *text, size_t len,
                                 bool *changed);
/*
 * Replace a gateway's node table; `entries` are in any order, later
 * duplicates win. n may be 0 (an empty but known table).
 */
SW_API sw_err sw_tigo_state_set_node_table(sw_tigo_state *s, uint16_t gateway, const sw_tigo_node_record *entries,
                                    size_t n, bool *changed);
/*
 * Replace every identity and version at once with the given records (what a
 * completed enumeration does); node tables are kept.
 */
SW_API sw_err sw_tigo_state_replace_inventory(sw_tigo_state *s, const sw_tigo_gateway_record *recs, size_t n,
                                       bool *changed);
SW_API bool sw_tigo_state_equal(const sw_tigo_state *a, const sw_tigo_state *b);

/* ---- node-table builder ------------------------------------------------------ */
typedef enum sw_tigo_node_table_builder_mode {
    /*
     * Default: a table is complete only after a walk that began at start
     * index 0 and followed last-ID+1 without a break; a restart at 0 begins
     * afresh; pages of a walk joined midway, out-of-sequence pages and node
     * ID 0 abandon the walk instead of yielding a partial table.
     */
    SW_TIGO_NODE_TABLE_BUILDER_SAFE = 0,
    /* taptap's NodeTableBuilder, quirks included (partial tables, ignored restart page). */
    SW_TIGO_NODE_TABLE_BUILDER_REFERENCE = 1
} sw_tigo_node_table_builder_mode;

typedef enum sw_tigo_node_table_builder_result {
    SW_TIGO_NODE_TABLE_BUILDER_PENDING = 0, /* page taken, walk continues */
    SW_TIGO_NODE_TABLE_BUILDER_COMPLETE,    /* table complete: read it with sw_tigo_node_table_builder_table */
    SW_TIGO_NODE_TABLE_BUILDER_IGNORED,     /* page not part of a walk */
    SW_TIGO_NODE_TABLE_BUILDER_ABANDONED    /* the walk in progress was dropped */
} sw_tigo_node_table_builder_result;

typedef struct sw_tigo_node_table_builder {
    sw_tigo_node_record *entries; /* caller storage, sorted by node ID */
    size_t cap;
    size_t n;
    uint32_t expected_next; /* 0 = none */
    bool in_walk;
    bool complete;
    uint8_t mode;
    uint16_t gateway; /* copied into the records */
} sw_tigo_node_table_builder;

SW_API void sw_tigo_node_table_builder_init(sw_tigo_node_table_builder *b, sw_tigo_node_table_builder_mode mode,
                                            uint16_t gateway, sw_tigo_node_record *storage, size_t cap);
SW_API void sw_tigo_node_table_builder_reset(sw_tigo_node_table_builder *b);
/*
 * One node-table page: the start index of the *request* (as the reference
 * keys it) and the response's entries in wire form, 10 bytes each (long
 * address, node ID BE). After COMPLETE the table stays readable until the
 * next push.
 */
SW_API sw_tigo_node_table_builder_result sw_tigo_node_table_builder_push(sw_tigo_node_table_builder *b,
                                                                         uint16_t request_start,
                                                                         const uint8_t *wire_entries, size_t count);
SW_API const sw_tigo_node_record *sw_tigo_node_table_builder_table(const sw_tigo_node_table_builder *b, size_t *count);

/* ---- state file (taptap 0.2.0 --persistent-file) --------------------------------- */
/*
 * The fork's exact file text: serde_json pretty JSON, 2-space indentation,
 * every array element on its own line, keys sorted numerically, no trailing
 * newline. SW_ERR_NO_SPACE when cap is too small (*len_out then holds the
 * size needed, excluding the NUL that is written when room allows).
 */
SW_API sw_err sw_tigo_state_serialize(const sw_tigo_state *s, char *buf, size_t cap, size_t *len_out);
/* An upper bound for the serialised size of s. */
SW_API size_t sw_tigo_state_serialized_max(const sw_tigo_state *s);

/*
 * Parse and validate a state document into s (s is left initialised-empty on
 * any error). Required keys gateway_node_tables, gateway_identities,
 * gateway_versions; gateway-ID keys 0..32767; node IDs 1..65535, unique per
 * table; addresses exactly 8 integers 0..255; versions strings. Unknown keys
 * are ignored. SW_ERR_BAD_JSON for malformed JSON, SW_ERR_TIGO_STATE_SCHEMA
 * for a schema violation, SW_ERR_TIGO_CAPACITY when it does not fit. A
 * one-line explanation naming the offending path goes to errbuf (may be NULL).
 */
SW_API sw_err sw_tigo_state_parse(sw_tigo_state *s, const char *text, size_t len, char *errbuf, size_t errcap);

/*
 * Temporary file name for an atomic write of `path`, taptap's rule: the
 * final component's extension replaced by "tmp" ("taptap.json" ->
 * "taptap.tmp", "state" -> "state.tmp"). Unlike taptap, a path that already
 * ends in ".tmp" gets ".tmp.tmp" so the temporary never is the target.
 * SW_ERR_NO_SPACE when out is too small, SW_ERR_INVALID_ARGUMENT for an
 * empty path or one ending in '/'.
 */
SW_API sw_err sw_tigo_state_tmp_path(const char *path, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
