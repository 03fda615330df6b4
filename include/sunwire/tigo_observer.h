/*
 * sunwire/tigo_observer.h: the Tigo observer, what `observe` runs.
 *
 * Raw RS-485 bytes (with the wall-clock time the caller read them at) go in;
 * typed observer events come out through a callback: timestamped power
 * reports, "the installation inventory changed" and diagnostics that the
 * reference only logged (a report dropped because no slot clock exists yet,
 * or because its slot counter is invalid). Internally it runs the link
 * receiver, the transport layer and the PV decoders, then keeps, per gateway,
 * the captured receive-request time, a slot clock, and a node-table builder,
 * plus the persistent state (identities, versions, node tables) and the
 * enumeration in progress.
 *
 * Layer: top of the protocol core. It trusts the transport's events (frames
 * CRC-checked, payload lengths validated) and checks everything the
 * application layer adds (node ID 0, report lengths, slot counters). All
 * state is in the caller-owned struct (about 200 KiB: allocate it, do not put
 * it on a small stack). The struct holds no pointer to itself, so it may be
 * copied or moved between pushes. The library never reads a clock.
 */
#ifndef SUNWIRE_TIGO_OBSERVER_H
#define SUNWIRE_TIGO_OBSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/tigo_barcode.h"
#include "sunwire/tigo_link.h"
#include "sunwire/tigo_pv.h"
#include "sunwire/tigo_slot_clock.h"
#include "sunwire/tigo_state.h"
#include "sunwire/tigo_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_TIGO_OBSERVER_MAX_GATEWAYS 16 /* gateways with live timing state at once */

/* ---- events ---------------------------------------------------------------------- */
typedef enum sw_tigo_observer_event_kind {
    SW_TIGO_OBSERVER_POWER_REPORT = 1,
    SW_TIGO_OBSERVER_INFRASTRUCTURE,
    SW_TIGO_OBSERVER_DIAGNOSTIC
} sw_tigo_observer_event_kind;

typedef struct sw_tigo_power_event {
    uint16_t gateway;
    uint16_t node;
    int64_t timestamp_ns;              /* measurement time, Unix ns, from the slot clock */
    const sw_tigo_power_report *report; /* raw fields, physical values, rssi, fw-4.x extra bytes */
    uint16_t short_address;            /* from the PV packet header */
    uint8_t dsn;
    const uint8_t *gateway_address;    /* 8 bytes, NULL when unknown */
    const uint8_t *node_address;       /* 8 bytes, NULL when unknown */
    const char *node_barcode;          /* NULL when the node address is unknown */
} sw_tigo_power_event;

typedef enum sw_tigo_infrastructure_cause {
    SW_TIGO_INFRASTRUCTURE_IDENTITY = 1,   /* identify / enumeration response outside an enumeration */
    SW_TIGO_INFRASTRUCTURE_VERSION,        /* version response outside an enumeration */
    SW_TIGO_INFRASTRUCTURE_ENUMERATION,    /* an observed enumeration ended */
    SW_TIGO_INFRASTRUCTURE_NODE_TABLE      /* a node-table walk completed */
} sw_tigo_infrastructure_cause;

typedef struct sw_tigo_infrastructure_event {
    const sw_tigo_state *state; /* the state after the change: print or persist it */
    sw_tigo_infrastructure_cause cause;
    uint16_t gateway;           /* the gateway concerned (for ENUMERATION the one that ended it) */
    bool changed;               /* false only with SW_TIGO_OBSERVER_REPORT_UNCHANGED */
} sw_tigo_infrastructure_event;

typedef enum sw_tigo_diagnostic_code {
    SW_TIGO_DIAGNOSTIC_NO_SLOT_CLOCK = 1,   /* power report dropped: no clock for its gateway yet */
    SW_TIGO_DIAGNOSTIC_INVALID_SLOT_COUNTER, /* power report dropped: slot number above 11999 */
    SW_TIGO_DIAGNOSTIC_CLOCK_REBUILT,       /* wall clock went backwards: slot clock started over */
    SW_TIGO_DIAGNOSTIC_NODE_TABLE_ABANDONED, /* a node-table walk broke off (safe builder) */
    SW_TIGO_DIAGNOSTIC_EMPTY_NODE_TABLE_KEPT, /* an empty table walk did not wipe a stored table */
    SW_TIGO_DIAGNOSTIC_CAPACITY             /* a fixed-size table was full: something was not stored */
} sw_tigo_diagnostic_code;

typedef struct sw_tigo_diagnostic_event {
    sw_tigo_diagnostic_code code;
    uint16_t gateway;
    uint16_t node;         /* power-report diagnostics, else 0 */
    uint16_t slot_counter; /* power-report and clock diagnostics, else 0 */
} sw_tigo_diagnostic_event;

typedef struct sw_tigo_observer_event {
    sw_tigo_observer_event_kind kind;
    union {
        sw_tigo_power_event power;
        sw_tigo_infrastructure_event infrastructure;
        sw_tigo_diagnostic_event diagnostic;
    } u;
} sw_tigo_observer_event;

typedef struct sw_tigo_observer sw_tigo_observer;

/*
 * Called with each event: the observer, the event, the user pointer given at
 * init. Return 0 to go on; any other value stops the push at once (after the
 * event's own bookkeeping) and the push returns that value.
 */
typedef int (*sw_tigo_observer_event_cb)(sw_tigo_observer *o, const sw_tigo_observer_event *event, void *user);

/*
 * A power report with everything a consumer usually wants, decoded and
 * resolved: who sent it, when it was measured and the physical values. No
 * pointers: it may be copied and kept.
 */
typedef struct sw_tigo_power_reading {
    uint16_t gateway_id;
    uint16_t node_id;
    uint16_t short_address;  /* from the PV packet header */
    uint8_t dsn;
    uint8_t rssi;            /* raw receive strength as sent */
    uint16_t slot_counter;   /* the report's own slot counter */
    int64_t timestamp_ns;    /* measurement time, Unix ns, from the slot clock */
    double voltage_in;       /* V */
    double voltage_out;      /* V */
    double current;          /* A (input) */
    double temperature;      /* degC */
    double duty_cycle;       /* 0..1 */
    bool has_gateway_address;
    bool has_node_address;
    uint8_t gateway_address[8];
    uint8_t node_address[8];
    char barcode[SW_TIGO_BARCODE_MAX]; /* the node's barcode, "" when its address is unknown */
} sw_tigo_power_reading;

/* Called once per emitted power report (the same reports as
 * SW_TIGO_OBSERVER_POWER_REPORT); return non-zero to stop the push. */
typedef int (*sw_tigo_power_cb)(sw_tigo_observer *o, const sw_tigo_power_reading *reading, void *user);

/* Fill a reading from a power event. */
SW_API void sw_tigo_power_reading_from_event(const sw_tigo_power_event *ev, sw_tigo_power_reading *out);

/* "no_slot_clock", "invalid_slot_counter", ... for logs. */
SW_API const char *sw_tigo_diagnostic_name(sw_tigo_diagnostic_code code);

/* ---- configuration ------------------------------------------------------------------ */
enum sw_tigo_observer_flags {
    /* Reference link receiver (default: sunwire's collision-tolerant one). */
    SW_TIGO_OBSERVER_REFERENCE_LINK = 1u << 0,
    /* taptap's receive-response status check (refuses firmware-4.x status words). */
    SW_TIGO_OBSERVER_STRICT_STATUS = 1u << 1,
    /* Only 13-byte power reports, as taptap (default also takes 14/15-byte fw-4.x reports). */
    SW_TIGO_OBSERVER_STRICT_POWER_LENGTH = 1u << 2,
    /* taptap's node-table builder with its partial-table quirks (default: safe builder). */
    SW_TIGO_OBSERVER_REFERENCE_NODE_TABLE = 1u << 3,
    /* An infrastructure event for every state-changing message, changed or not (taptap 0.2.0). */
    SW_TIGO_OBSERVER_REPORT_UNCHANGED = 1u << 4,
    /* Ignore node-table pages, as taptap 0.1.1 does (its parser never matches real responses). */
    SW_TIGO_OBSERVER_IGNORE_NODE_TABLES = 1u << 5,
    /* Behave like taptap 0.2.0 as closely as possible. */
    SW_TIGO_OBSERVER_REFERENCE = 0x1Fu,
    /* Behave like taptap 0.1.1 as closely as possible. */
    SW_TIGO_OBSERVER_REFERENCE_UPSTREAM = 0x1Fu | (1u << 5)
};

/* Application-level counters (the transport and link keep their own). */
typedef struct sw_tigo_observer_counters {
    uint64_t power_reports;              /* decodable 0x31 packets */
    uint64_t invalid_power_reports;      /* 0x31 packets of a refused length */
    uint64_t invalid_received_packet_node_ids; /* PV packets from node 0 */
    uint64_t power_reports_emitted;
    uint64_t reports_without_clock;
    uint64_t reports_invalid_slot;
    uint64_t extended_power_reports;     /* 14/15-byte fw-4.x reports accepted */
    uint64_t node_table_pages;
    uint64_t invalid_node_table_pages;   /* undecodable request/response data */
    uint64_t node_tables_completed;
    uint64_t infrastructure_events;
    uint64_t capacity_drops;
} sw_tigo_observer_counters;

/* ---- the observer -------------------------------------------------------------------- */
typedef struct sw_tigo_observer_gateway {
    bool used;
    uint16_t id;
    bool has_capture;
    int64_t capture_ns;
    uint64_t last_use;
    sw_tigo_slot_clock clock;
    sw_tigo_node_table_builder builder;
} sw_tigo_observer_gateway;

/*
 * Everything sw_tigo_observer_init clears. Kept apart from the two big
 * tables below so that clearing it cannot miss or overrun a field, whatever
 * order fields are added in.
 */
typedef struct sw_tigo_observer_run {
    unsigned flags;
    sw_tigo_observer_event_cb on_event;
    void *user;
    sw_tigo_power_cb on_power;
    void *power_user;
    /* optional taps for the peek commands: every valid frame, every transport event */
    sw_tigo_frame_cb on_frame;
    void *frame_user;
    sw_tigo_transport_event_cb on_transport_event;
    void *transport_user;

    int64_t now_ns; /* time of the chunk being pushed */
    int stop;       /* non-zero once a callback asked to stop the current push */
    /* The receive response whose PV packets are being delivered: its gateway
     * is looked up once per response instead of once per packet. */
    bool resp_open;
    uint16_t resp_gw_id;
    int32_t resp_gw;                /* index into gateways, -1: no timing state for it */
    int32_t resp_gw_state;          /* index into state.gateways with an address, -1: not known */
    uint64_t use_clock;
    sw_tigo_observer_counters counters;
    sw_tigo_stack stack;
    /* enumeration in progress */
    bool enumerating;
    uint16_t enumeration_id;
    uint32_t n_enum;
    sw_tigo_gateway_record enum_recs[SW_TIGO_STATE_MAX_GATEWAYS];
    sw_tigo_observer_gateway gateways[SW_TIGO_OBSERVER_MAX_GATEWAYS];
} sw_tigo_observer_run;

struct sw_tigo_observer {
    sw_tigo_observer_run run;
    /* Not cleared at init: the state's records and the builders' pages are
     * only read below their counts, which sw_tigo_state_init and
     * sw_tigo_node_table_builder_init set, so pages a bus never needs are never touched. */
    sw_tigo_state state;
    sw_tigo_node_record builder_store[SW_TIGO_OBSERVER_MAX_GATEWAYS][SW_TIGO_MAX_NODES_PER_GATEWAY];
};

/* Flags from enum sw_tigo_observer_flags; on_event may be NULL (state only). */
SW_API void sw_tigo_observer_init(sw_tigo_observer *o, unsigned flags, sw_tigo_observer_event_cb on_event, void *user);

/*
 * Push raw bus bytes that arrived at wall-clock time now_ns (Unix ns). Any
 * chunking gives the same events, as long as each chunk carries the time its
 * bytes were read. Events are delivered before this returns; the callback
 * must not push into the same observer. Returns 0 when every byte was taken,
 * or the non-zero value a callback returned to stop; *used (may be NULL) is
 * the number of bytes consumed (push the rest to go on). Link frames are
 * counted in sw_tigo_observer_get_link_counters()->frames.
 */
SW_API int sw_tigo_observer_push(sw_tigo_observer *o, const uint8_t *bytes, size_t n, int64_t now_ns, size_t *used);
/* Push one already-framed, CRC-checked frame (captures, tests): 0, or a
 * callback's non-zero value. */
SW_API int sw_tigo_observer_push_frame(sw_tigo_observer *o, const sw_tigo_frame *frame, int64_t now_ns);

/* The persistent state; load a state file into it before pushing bytes. */
SW_API sw_tigo_state *sw_tigo_observer_state(sw_tigo_observer *o);
SW_API bool sw_tigo_observer_enumerating(const sw_tigo_observer *o);

SW_API const sw_tigo_link_counters *sw_tigo_observer_get_link_counters(const sw_tigo_observer *o);
SW_API const sw_tigo_transport_counters *sw_tigo_observer_get_transport_counters(const sw_tigo_observer *o);
SW_API const sw_tigo_observer_counters *sw_tigo_observer_get_counters(const sw_tigo_observer *o);

/* Taps for peek-frames / peek-activity (NULL to remove). */
SW_API void sw_tigo_observer_set_frame_tap(sw_tigo_observer *o, sw_tigo_frame_cb cb, void *user);
SW_API void sw_tigo_observer_set_transport_tap(sw_tigo_observer *o, sw_tigo_transport_event_cb cb, void *user);
/* Power reports as sw_tigo_power_reading, without the other events (NULL to remove). */
SW_API void sw_tigo_observer_set_power_cb(sw_tigo_observer *o, sw_tigo_power_cb cb, void *user);

#ifdef __cplusplus
}
#endif
#endif
