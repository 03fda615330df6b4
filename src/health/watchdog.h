/*
 * health/watchdog.h: the bus and controller watchdog (one per Tigo bus).
 *
 * What it watches, and the problem each raises (docs/health.md):
 *   - receive requests: the controller (CCA) polls every gateway several
 *     times a second; none for controller_silent_ns while the bus is
 *     connected -> controller_silent on the bus;
 *   - node tables: a completed table walk that lists fewer nodes than the
 *     table before it -> node_table_shrank on the gateway;
 *   - network status responses: every node count in them below the size of
 *     the gateway's node table in two responses running -> nodes_missing;
 *   - gateway version texts: a different text than the one known before ->
 *     firmware_changed, the previous version kept in the reason;
 *   - broadcasts (0x22) to all nodes: the "PV off" bit (rapid shutdown) ->
 *     pv_off on the bus.
 *
 * Sans-I/O: the caller owns the struct, feeds it transport events, node
 * tables and versions with caller-given times and calls the tick; nothing
 * here reads a clock.
 */
#ifndef SW_HEALTH_WATCHDOG_H
#define SW_HEALTH_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "sunwire/tigo_state.h"
#include "sunwire/tigo_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_HEALTH_WATCHDOG_MAX_GATEWAYS 32

typedef struct sw_health_watchdog_config {
    int64_t controller_silent_ns; /* no receive request this long while connected; default 60 s */
    int64_t node_table_hold_ns;   /* a smaller table is accepted as the new normal after this; default 24 h */
    int64_t firmware_hold_ns;     /* firmware_changed stays raised this long; default 24 h */
    unsigned nodes_missing_after; /* network status responses running that must count too few; default 2 */
    int64_t pv_off_clear_ns;      /* PV on again only when no re-assert follows within this; default 2 min */
} sw_health_watchdog_config;

void sw_health_watchdog_config_default(sw_health_watchdog_config *c);

typedef struct sw_health_watchdog_gateway {
    bool used;
    uint16_t id;
    /* node table */
    bool table_known;
    uint16_t n_ref;                      /* the reference table: the largest lately seen */
    uint16_t ref[SW_TIGO_MAX_NODES_PER_GATEWAY];
    uint16_t n_now;                      /* the latest table's size ... */
    uint16_t now_ids[SW_TIGO_MAX_NODES_PER_GATEWAY]; /* ... and its nodes */
    bool shrank;
    int64_t shrank_ns;
    /* network status */
    unsigned low_streak;
    bool missing;
    /* firmware */
    bool has_version;
    char version[SW_MODEL_TEXT_MAX];     /* first line of the version text */
    bool fw_changed;
    int64_t fw_changed_ns;
} sw_health_watchdog_gateway;

typedef struct sw_health_watchdog {
    sw_health_watchdog_config cfg;
    char source[SW_MODEL_NAME_MAX];
    bool connected;
    int64_t connected_ns;
    int64_t last_request_ns;             /* 0 = none since connected */
    bool silent;
    /* rapid shutdown */
    bool pv_off_asserted;
    bool pv_off;                          /* the problem is raised */
    int64_t pv_on_ns;                     /* when the de-assert was seen, 0 = none pending */
    sw_health_watchdog_gateway gw[SW_HEALTH_WATCHDOG_MAX_GATEWAYS];
} sw_health_watchdog;

void sw_health_watchdog_init(sw_health_watchdog *w, const sw_health_watchdog_config *cfg, const char *source);

/* The bus connected (the silence is timed from here) or went away (nothing is judged meanwhile). */
void sw_health_watchdog_connected(sw_health_watchdog *w, bool connected, int64_t now_ns);

/* A transport event of the bus at now_ns: receive requests, network status and broadcasts are taken. */
void sw_health_watchdog_transport(sw_health_watchdog *w, sw_model *m, const sw_tigo_transport_event *ev,
                                  int64_t now_ns);

/*
 * A gateway's node table: `initial` for what was known before (a state file
 * loaded at start), which only sets the reference; otherwise a completed walk.
 */
void sw_health_watchdog_node_table(sw_health_watchdog *w, sw_model *m, uint16_t gateway,
                                   const sw_tigo_node_record *nodes, size_t n, bool initial, int64_t now_ns);

/* A gateway's version text (not NUL-terminated); `initial` as above. */
void sw_health_watchdog_version(sw_health_watchdog *w, sw_model *m, uint16_t gateway, const char *text, size_t len,
                                bool initial, int64_t now_ns);

/* A network status response's node counts for a gateway. */
void sw_health_watchdog_network_status(sw_health_watchdog *w, sw_model *m, uint16_t gateway,
                                       const uint16_t counts[3], int64_t now_ns);

/* A broadcast's PV-off bit. */
void sw_health_watchdog_pv_off(sw_health_watchdog *w, sw_model *m, bool off, int64_t now_ns);

/* Time passes: the silence check, the holds running out. */
void sw_health_watchdog_tick(sw_health_watchdog *w, sw_model *m, int64_t now_ns);

/*
 * When the tick next has something to do, judged at now_ns (INT64_MAX:
 * nothing until an event comes): a caller may sleep until then.
 */
int64_t sw_health_watchdog_next_ns(const sw_health_watchdog *w, int64_t now_ns);

#ifdef __cplusplus
}
#endif
#endif
