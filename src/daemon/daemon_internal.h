/*
 * daemon_internal.h: what the daemon's files share among themselves (not public).
 *
 * The daemon is one struct with a loop, a model, the source drivers (Tigo
 * buses, RCT pollers) and the outputs. Drivers trust the protocol core for
 * framing and decoding and own the I/O: non-blocking sockets and serial
 * ports watched by the loop, reconnect with capped backoff, one timer each.
 */
#ifndef SUNWIRE_DAEMON_INTERNAL_H
#define SUNWIRE_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/daemon.h"
#include "io/notify.h"

typedef struct tigo_bus tigo_bus;
typedef struct rct_poller rct_poller;
typedef struct sw_energy_store sw_energy_store;
typedef struct sw_daemon_health sw_daemon_health;

#define SW_DAEMON_MAX_OUTPUTS 8
#define SW_DAEMON_LOGGED_BARCODES 4096

struct sw_daemon {
    const sw_daemon_config *cfg;
    sw_loop *loop;
    sw_model *model;
    tigo_bus *buses[SW_DAEMON_MAX_TIGO];
    size_t n_buses;
    rct_poller *pollers[SW_DAEMON_MAX_RCT];
    size_t n_pollers;
    uint64_t tick_timer, save_timer;
    bool tick_long;             /* the tick sleeps until midnight: no panel is online */
    bool energy_dirty;
    sw_energy_store *energy;    /* state_dir/energy.db, NULL without a state directory or SQLite */
    /* Unknown barcodes already logged, so each is reported once. */
    char (*logged)[16];
    size_t n_logged;
    unsigned outputs_started;
    /* The clock every reading is stamped with (sw_daemon_set_clock); NULL = wall clock. */
    int64_t (*clock)(void *user);
    void *clock_user;
    /* The service manager (systemd, Type=notify): readiness, reloads, stop, watchdog. */
    sw_notify notify;
    uint64_t watchdog_timer;
    size_t n_mapped;            /* panels in the map now (a reload may change it) */
    sw_peers *peers;            /* panels against their peers; NULL with [health] peers = off */
    struct sw_ha_control *controls; /* control entities announced over MQTT (rct_control.c) */
    size_t n_controls;
    sw_daemon_health *health;   /* battery health and the cross-check (health.c) */
};

/* ---- shared helpers (daemon.c) -------------------------------------------------- */
/* Copy text into a fixed array, truncating (names and addresses longer than a model field). */
void sw_daemon_copy_text(char *dst, size_t cap, const char *src);
/* The daemon's clock in Unix ns: the wall clock, or a simulation's (sw_daemon_set_clock). */
int64_t sw_daemon_now_ns(const sw_daemon *d);
/* Tell the sinks a source connected (to address) or went down (with error). */
void sw_daemon_source_up(sw_daemon *d, const char *source, const char *address);
void sw_daemon_source_down(sw_daemon *d, const char *source, const char *error);
/* Tell the sinks a gateway's identity/version/enumeration/node table changed (cause names which). */
void sw_daemon_gateway_changed(sw_daemon *d, const char *source, uint16_t gateway, const char *cause);
/* Tell the sinks an RCT fault word changed: its bits and their names. */
void sw_daemon_rct_fault(sw_daemon *d, const char *source, const char *object, uint32_t value, const char *faults);
/* A report arrived: make sure the housekeeping tick runs at its short period again. */
void sw_daemon_wake_tick(sw_daemon *d);
/* Log an unmapped barcode the first time it is seen. */
void sw_daemon_note_barcode(sw_daemon *d, const char *source, uint16_t gw, uint16_t node, const char *barcode);

#include "io/io_source.h" /* sw_serial_open */
#include "io/net.h"         /* non-blocking connects */

/* ---- Tigo buses (tigo_listen.c) ------------------------------------------------------- */
tigo_bus *sw_daemon_bus_new(sw_daemon *d, const sw_daemon_tigo *cfg);
void sw_daemon_bus_start(tigo_bus *b);
void sw_daemon_bus_free(tigo_bus *b);
/* Persist the bus's Tigo state (node tables, identities) when it changed. */
sw_err sw_daemon_bus_save(tigo_bus *b, bool force);
/*
 * A bus's line diagnosis into the model: the source's `diagnosis` text, and
 * the "line" problem raised with the verdict as its reason unless the line is
 * healthy, cleared when it is. Returns whether the text changed.
 */
struct sw_tigo_doctor_result;
bool sw_daemon_line_verdict(sw_model *m, sw_source_status *st, const struct sw_tigo_doctor_result *r, int64_t now_ns);

/* ---- RCT pollers (rct_poll.c) --------------------------------------------------------- */
rct_poller *sw_daemon_poller_new(sw_daemon *d, const sw_daemon_rct *cfg);
void sw_daemon_poller_start(rct_poller *p);
/* Start the source's RCT proxy when configured (before sw_daemon_poller_start). */
sw_err sw_daemon_poller_proxy_start(rct_poller *p, char *err, size_t errcap);
void sw_daemon_poller_free(rct_poller *p);
/* Control (docs/control.md): whether the poller takes writes, its source name, and a write of value
 * (device unit) through the whole chain; a refusal is logged and becomes an rct_control event. */
bool sw_daemon_poller_controls(const rct_poller *p);
const char *sw_daemon_poller_name(const rct_poller *p);
sw_err sw_daemon_poller_control(rct_poller *p, const char *object, double value);
/* A command that never reached the plan (unknown object, unreadable value): logged and an event. */
void sw_daemon_poller_control_refused(rct_poller *p, const char *object, const char *reason);
/*
 * The plan's rate limits and flash budget across restarts (rct_control.c):
 * state_dir/rct-control-NAME.json. Load: a missing file is a fresh start, a
 * corrupt one is logged and every object counts as just written with its
 * budget used up (and that is saved). Save after every accepted write. Both
 * do nothing without a state directory.
 */
struct sw_rct_control_plan;
void sw_daemon_control_state_load(sw_daemon *d, const char *name, struct sw_rct_control_plan *plan,
                                  int64_t now_mono_ms);
void sw_daemon_control_state_save(sw_daemon *d, const char *name, const struct sw_rct_control_plan *plan,
                                  int64_t now_mono_ms);
/* The MQTT command hook and the control entities ([rct] control = on; rct_control.c). */
struct sw_mqtt_config;
void sw_daemon_controls_setup(sw_daemon *d, struct sw_mqtt_config *mqtt);

/* ---- battery health and the Tigo <-> RCT cross-check (health.c) ------------------------ */
sw_daemon_health *sw_daemon_health_new(sw_daemon *d);
void sw_daemon_health_free(sw_daemon_health *h);
/* An object a detector needs: its name, and whether the poller stores it in the model too; 0 = go on. */
typedef int (*sw_daemon_health_add_cb)(sw_daemon *d, const char *name, bool store, void *user);
/* The objects inverter's fast (slow = false) or slow tier must read for the detectors. */
void sw_daemon_health_objects(sw_daemon *d, const char *inverter, bool slow, sw_daemon_health_add_cb add,
                              void *user);
/* A value the poller stored (numbers: battery counters and status, tracker DC power). */
void sw_daemon_health_value(sw_daemon *d, const sw_inverter_value *v);
/* A decoded battery module (battery.cells[N]). */
void sw_daemon_health_cells(sw_daemon *d, const char *inverter, const char *object, const struct sw_rct_value *v,
                            int64_t now_ns);
/* The poller finished a cycle: the battery detector judges what it read. */
void sw_daemon_health_cycle(sw_daemon *d, const char *inverter, int64_t now_ns);

/* ---- persistence (persist.c) ------------------------------------------------------------ */
/* sw_file_write_atomic with the daemon's temporary name, "<path>.tmp". */
sw_err sw_daemon_write_atomic(const char *path, const void *data, size_t len);
/* The largest state file the daemon reads (the limit the earlier reader had). */
#define SW_DAEMON_STATE_FILE_MAX ((size_t)64 << 20)
/* sw_file_read_all up to SW_DAEMON_STATE_FILE_MAX: SW_ERR_NOT_FOUND when absent. */
sw_err sw_daemon_read_file(const char *path, char **out, size_t *len);
/* "<state_dir>/<name>" into out. */
sw_err sw_daemon_state_path(const sw_daemon *d, const char *name, char *out, size_t cap);
sw_err sw_daemon_save_energy(sw_model *m, const char *path, int64_t now_ns);
sw_err sw_daemon_load_energy(sw_model *m, const char *path, int64_t now_ns);
/*
 * Start-up: load panels.json; a corrupt one is moved aside (.corrupt-unix_s)
 * and logged at error level, and the counters come from panels.json.prev when
 * that parses, else from the largest lifetime readings in the SQLite history
 * at history_path (NULL or "" when there is none). SW_OK also when there is
 * nothing to load. An unreadable file (permissions, a directory) is an error
 * with the reason in err: the daemon must not overwrite it with zeros.
 */
sw_err sw_daemon_restore_energy(sw_model *m, const char *path, const char *history_path, int64_t now_ns,
                                int64_t unix_s, char *err, size_t errcap);
/*
 * The energy counters with a state directory (energy.db, see
 * energy_store.c): opened or created, and loaded into the model. A database
 * that is not sound is moved aside (.corrupt-STAMP, with its -wal) and logged
 * at error level; the counters then come from energy.db.prev (a copy made at
 * every start), else from the history. Without energy.db, an older
 * version's panels.json (or its .prev) is imported once and renamed
 * panels.json.imported. Whatever was restored is committed before this
 * returns. An unusable path (a directory, no permission) is an error with the
 * reason in err.
 */
sw_err sw_daemon_energy_open(sw_model *m, const char *state_dir, const char *history_path, int64_t now_ns,
                             int64_t unix_s, sw_energy_store **out, char *err, size_t errcap);

/* ---- energy.db (energy_store.c) ---------------------------------------------------------- */
/*
 * Open (readonly: an existing copy) or create the database, in WAL mode with
 * synchronous=FULL. SW_ERR_STATE_CORRUPT when the file is not a sound
 * database of ours, SW_ERR_OPEN when it cannot be opened at all.
 */
sw_err sw_energy_store_open(const char *path, bool readonly, sw_energy_store **out);
/* Restore every stored panel into the model (sw_model_panel_restore); *n counts them. */
sw_err sw_energy_store_load(sw_energy_store *s, sw_model *m, int64_t now_ns, size_t *n);
/*
 * One transaction with every panel's integrated counters; SW_OK once it is
 * durable. A lifetime value already stored is never lowered. On failure
 * (errno ENOSPC for a full disk) nothing changed.
 */
sw_err sw_energy_store_commit(sw_energy_store *s, const sw_model *m, int64_t now_ns);
/* A consistent copy of the database at dest (VACUUM INTO a temporary, renamed). */
sw_err sw_energy_store_copy(sw_energy_store *s, const char *dest);
const char *sw_energy_store_errmsg(const sw_energy_store *s);
void sw_energy_store_close(sw_energy_store *s);

/* The path of the SQLite history this configuration writes, or "" when it writes none. */
void sw_daemon_history_path(const sw_daemon_config *c, char *out, size_t cap);

/* ---- outputs (outputs.c) ---------------------------------------------------------------- */
/* Start the configured outputs and register their sinks. */
sw_err sw_daemon_outputs_start(sw_daemon *d, char *err, size_t errcap);
/* "mqtt: enabled, influx: not built, ..." for the start-up summary. */
void sw_daemon_outputs_describe(const sw_daemon_config *c, char *out, size_t cap);

/* The built-in JSON-lines sink (sink_json.c): one line per update on stdout.
 * A failed write logs the error and stops `loop`; sw_daemon_json_sink_errno
 * then tells why (0 while all is well). */
sw_err sw_daemon_json_sink(sw_loop *loop, sw_sink *out);
int sw_daemon_json_sink_errno(void);

#endif
