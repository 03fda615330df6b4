/*
 * sunwire/daemon.h: the daemon behind `sunwire run`: the live model's
 * constructor and mutation API, its energy bookkeeping, and the daemon's
 * configuration and lifecycle.
 *
 * Layering: protocol events (Tigo observer events, RCT poll answers) are
 * turned into calls on the mutation API below by the daemon's source drivers;
 * the model keeps the records read through sunwire/model.h and pushes every
 * change to the registered sinks. The model trusts its callers for the
 * physics of a report (the decoders already range-checked them) and checks
 * only what it owns: capacities, identities and time going backwards.
 *
 * Capacities are fixed when the model is created (SW_MODEL_MAX_*), so record
 * pointers handed out by the accessors stay valid for the model's lifetime;
 * a full table makes the mutation return SW_ERR_NO_SPACE and nothing else.
 * The model never reads a clock: every mutation carries its time.
 */
#ifndef SUNWIRE_DAEMON_H
#define SUNWIRE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "sunwire/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_MODEL_MAX_SOURCES 32
#define SW_MODEL_MAX_GATEWAYS 64
#define SW_MODEL_MAX_PANELS 2048
#define SW_MODEL_MAX_STRINGS 128     /* named strings; the "total" aggregate is extra */
#define SW_MODEL_MAX_INVERTERS 16
#define SW_MODEL_MAX_INVERTER_VALUES 1024
#define SW_MODEL_MAX_SINKS 16
#define SW_MODEL_MAX_MAP 2048        /* [panels] entries */

/* ---- options ------------------------------------------------------------- */
typedef enum sw_night_mode {
    SW_NIGHT_UNAVAILABLE = 0, /* silent panels go offline (online = false), values kept */
    SW_NIGHT_ZERO             /* silent panels go offline and report 0 W / 0 V / 0 A */
} sw_night_mode;

typedef struct sw_model_options {
    int64_t stale_timeout_ns;   /* silence after which a panel is offline; default 10 min */
    sw_night_mode night_mode;   /* default SW_NIGHT_UNAVAILABLE */
    int64_t energy_gap_ns;      /* never integrate across a longer silence; default 5 min */
    /*
     * Local time zone for "today": utc_offset returns the offset east of UTC
     * in seconds at an instant (NULL = UTC). The daemon passes the process's
     * zone or a fixed offset from the configuration.
     */
    int32_t (*utc_offset)(void *user, int64_t unix_ns);
    void *utc_offset_user;
} sw_model_options;

void sw_model_options_defaults(sw_model_options *o);

/* ---- lifecycle ------------------------------------------------------------- */
/* Allocates every table up front. NULL on out of memory. opt NULL = defaults. */
sw_model *sw_model_new(const sw_model_options *opt);
/* Closes every sink (ops->close) and frees the model. NULL is a no-op. */
void sw_model_free(sw_model *m);
const sw_model_options *sw_model_get_options(const sw_model *m);
/* When the daemon started (what sw_model_started_ns reports). */
void sw_model_set_started_ns(sw_model *m, int64_t ns);

/* Register an output; it is told about every later change. SW_ERR_NO_SPACE when full. */
sw_err sw_model_add_sink(sw_model *m, sw_sink sink);
size_t sw_model_sink_count(const sw_model *m);

/* ---- sources ----------------------------------------------------------------- */
/*
 * The source record named `name`, created (with kind and address) when new.
 * The caller updates counters in place and then calls sw_model_source_changed
 * so the sinks hear about it. NULL when the table is full.
 */
sw_source_status *sw_model_source(sw_model *m, const char *name, sw_source_type kind, const char *address);
sw_source_status *sw_model_source_find(sw_model *m, const char *name);
void sw_model_source_changed(sw_model *m, sw_source_status *s, int64_t now_ns);

/* ---- Tigo gateways and panels ------------------------------------------------ */
/* Insert or update by (source, gateway_id); sinks are told only when something changed. */
sw_err sw_model_gateway_set(sw_model *m, const sw_gateway *g, int64_t now_ns);

/* One configured panel-map entry ([panels]: string:name:barcode). */
typedef struct sw_panel_map_entry {
    char barcode[16];
    char name[SW_MODEL_NAME_MAX];
    char string_name[SW_MODEL_NAME_MAX]; /* "" = no string */
} sw_panel_map_entry;

/*
 * Replace the panel map (also at run time, e.g. on SIGHUP): names and strings
 * of known panels are re-derived and the string aggregates rebuilt.
 * Named strings are created in the order they first appear in the map.
 */
sw_err sw_model_set_panel_map(sw_model *m, const sw_panel_map_entry *entries, size_t n);

/*
 * The panel (source, gateway, node), created when new. Its barcode is set
 * when known (NULL or "" leaves it as it is); the map then gives name and
 * string. *created tells whether it is new (may be NULL).
 */
sw_panel *sw_model_panel(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                         const char *barcode, bool *created);

/* Set or change a panel's barcode (node table learnt). Sinks hear about a change. */
sw_err sw_model_panel_identity(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                               const char *barcode, int64_t now_ns);

/* One power report, already in physical units. */
typedef struct sw_panel_report {
    int64_t time_ns;            /* measurement time (Unix ns) */
    double voltage_in, voltage_out, current_in, duty_cycle, temperature_c;
    int rssi;
    const char *barcode;        /* NULL when unknown */
} sw_panel_report;

/*
 * Apply a report: update the values, integrate energy (trapezoid between this
 * report and the previous one unless the gap is longer than energy_gap_ns or
 * time went backwards), roll "today" over at local midnight, mark the panel
 * online, recompute its string and the total, and notify the sinks
 * (panel_update, then string_update for its string and "total").
 */
sw_err sw_model_panel_report(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                             const sw_panel_report *r);

/*
 * Time passes without reports: panels silent for longer than the stale
 * timeout go offline (and to zero in SW_NIGHT_ZERO), and "today" counters
 * roll over at local midnight. Sinks are told about every panel that
 * changed. Returns the number of panels changed.
 */
size_t sw_model_tick(sw_model *m, int64_t now_ns);

/* Mutable access for the daemon (persistence); NULL when out of range / absent. */
sw_panel *sw_model_panel_mut(sw_model *m, size_t i);
sw_panel *sw_model_panel_find(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id);
/* The string aggregate by name ("total" for all panels), NULL when unknown. */
const sw_string_agg *sw_model_string_find(const sw_model *m, const char *name);

/*
 * Restore a panel's persisted energy (restart): the lifetime counter only
 * ever grows, so a smaller stored value is ignored; today's value is kept
 * only when `day` (local days since 1970) is the current local day of now_ns.
 */
sw_err sw_model_panel_restore(sw_model *m, const char *source, uint16_t gateway_id, uint16_t node_id,
                              const char *barcode, double energy_total_wh, double energy_today_wh,
                              int64_t day, int64_t now_ns);

/* The local day that panel i's energy_today_wh belongs to (-1 = none yet). */
int64_t sw_model_panel_energy_day(const sw_model *m, size_t i);

/* Local day number (days since 1970-01-01 in the model's zone) of an instant. */
int64_t sw_model_local_day(const sw_model *m, int64_t unix_ns);

/* ---- RCT inverters ------------------------------------------------------------- */
/* Insert or update by name; sinks hear about changes of identity or online. */
sw_err sw_model_inverter_set(sw_model *m, const sw_inverter *inv, int64_t now_ns);
sw_inverter *sw_model_inverter_find(sw_model *m, const char *name);
/* Insert or update by (inverter, object_id); every call is pushed as a new value. */
sw_err sw_model_inverter_value_set(sw_model *m, const sw_inverter_value *v);

/* ---- events ---------------------------------------------------------------------- */
/* Forward a raw event (one JSON object) to every sink's event hook. */
void sw_model_event(sw_model *m, const char *kind, const char *json);

/* ---- daemon configuration ----------------------------------------------------------- */
#define SW_DAEMON_MAX_TIGO 8
#define SW_DAEMON_MAX_RCT 8
#define SW_DAEMON_MAX_RCT_EXTRA 64
#define SW_DAEMON_MAX_OUTPUT_KEYS 256
#define SW_DAEMON_PATH_MAX 512

/* One [tigo NAME] section (or --tigo-tcp / --tigo-serial). */
typedef struct sw_daemon_tigo {
    char name[SW_MODEL_NAME_MAX];
    bool serial;                   /* serial = DEV, else tcp = HOST (+ port) */
    char device[SW_DAEMON_PATH_MAX];
    char host[256];
    uint16_t port;                 /* default 502 */
    int reconnect_delay_ms;        /* first pause after a failure; default 1000 */
    int reconnect_max_ms;          /* backoff cap; default 60000 */
    int idle_timeout_s;            /* reconnect a TCP session silent this long; default 60, 0 = never */
    int keepalive_idle_s, keepalive_interval_s, keepalive_count; /* default 30, 10, 5 */
    int line;                      /* where it was configured (0 = command line) */
    bool port_in_host, port_key;   /* parsing only: a port in tcp = and another in port = is refused */
} sw_daemon_tigo;

/* One [rct NAME] section (or --rct). */
typedef struct sw_daemon_rct {
    char name[SW_MODEL_NAME_MAX];
    char host[256];
    uint16_t port;                 /* default 8899 */
    int fast_ms;                   /* fast tier period; default 5000 */
    int slow_ms;                   /* slow tier period; default 60000 */
    int timeout_ms;                /* per request; default 2000 */
    int retries;                   /* further attempts per request; default 2 */
    int reconnect_delay_ms, reconnect_max_ms; /* default 1000, 60000 */
    bool defaults;                 /* poll the default object list; default true */
    size_t n_extra;
    uint32_t extra[SW_DAEMON_MAX_RCT_EXTRA]; /* extra objects (ids), fast tier */
    size_t n_extra_slow;
    uint32_t extra_slow[SW_DAEMON_MAX_RCT_EXTRA];
    int line;
    bool port_in_host, port_key;   /* parsing only: a port in host = and another in port = is refused */
} sw_daemon_rct;

/* A key of an output section, handed to that output's sw_X_config_set at start. */
typedef struct sw_daemon_output_key {
    char section[16];              /* "mqtt", "prometheus", "influx", "history", "http" */
    char key[64];
    char value[SW_DAEMON_PATH_MAX];
    int line;
} sw_daemon_output_key;

enum sw_daemon_output {
    SW_DAEMON_OUT_MQTT = 1u << 0,
    SW_DAEMON_OUT_PROMETHEUS = 1u << 1,
    SW_DAEMON_OUT_INFLUX = 1u << 2,
    SW_DAEMON_OUT_HISTORY = 1u << 3,
    SW_DAEMON_OUT_HTTP = 1u << 4,
    SW_DAEMON_OUT_JSON = 1u << 5   /* built in: JSON lines of every update on stdout */
};

typedef enum sw_daemon_tz {
    SW_DAEMON_TZ_LOCAL = 0,        /* the process's zone (TZ, /etc/localtime) */
    SW_DAEMON_TZ_UTC,
    SW_DAEMON_TZ_FIXED             /* a fixed offset, e.g. +01:00 */
} sw_daemon_tz;

typedef struct sw_daemon_config {
    char file[SW_DAEMON_PATH_MAX]; /* the configuration file, for messages ("" = flags only) */
    /* [general] */
    char state_dir[SW_DAEMON_PATH_MAX]; /* "" = nothing persisted */
    int state_dir_line;            /* where state_dir was set (0 = command line) */
    int stale_timeout_s;           /* night/stale timeout; default 600 */
    sw_night_mode night_mode;      /* night = unavailable | zero */
    int energy_gap_s;              /* default 300 */
    sw_daemon_tz tz;
    int32_t tz_offset_s;           /* for SW_DAEMON_TZ_FIXED */
    int save_interval_s;           /* persist energy this often; default 300 */
    int tick_ms;                   /* housekeeping period (night, midnight); default 10000 */
    /* sources */
    size_t n_tigo;
    sw_daemon_tigo tigo[SW_DAEMON_MAX_TIGO];
    size_t n_rct;
    sw_daemon_rct rct[SW_DAEMON_MAX_RCT];
    /* [panels] */
    size_t n_panels;
    sw_panel_map_entry *panels;    /* SW_MODEL_MAX_MAP entries, owned */
    int panels_line;
    /* outputs */
    unsigned outputs;              /* enum sw_daemon_output bits: sections present or flags given */
    size_t n_output_keys;
    sw_daemon_output_key *output_keys; /* SW_DAEMON_MAX_OUTPUT_KEYS entries, owned */
} sw_daemon_config;

/* Defaults; allocates the tables. SW_ERR_NO_MEMORY. */
sw_err sw_daemon_config_init(sw_daemon_config *c);
void sw_daemon_config_free(sw_daemon_config *c);

/*
 * Read an INI file into c (on top of what is there). On error, err gets
 * "FILE:LINE: problem" and the result is SW_ERR_INVALID_ARGUMENT (bad
 * content), SW_ERR_OPEN (unreadable) or SW_ERR_UNSUPPORTED (built without
 * libinih). Cross-section checks are left to sw_daemon_config_check, so
 * command-line flags can still complete the file.
 */
sw_err sw_daemon_config_load(sw_daemon_config *c, const char *path, char *err, size_t errcap);
/* Same, from text in memory (`name` stands for the file in messages). */
sw_err sw_daemon_config_load_string(sw_daemon_config *c, const char *name, const char *text, char *err,
                                    size_t errcap);
/* One key of one section, as the INI parser hands them over (line for messages). */
sw_err sw_daemon_config_set(sw_daemon_config *c, const char *section, const char *key, const char *value,
                            int line, char *err, size_t errcap);
/* Parse "string:name:barcode[, ...]" into the panel map. */
sw_err sw_daemon_config_add_panels(sw_daemon_config *c, const char *list, char *err, size_t errcap);
/*
 * Checks across sections and against the system, so that what would fail or
 * half-work at start fails here (`run --check` runs it): duplicate names,
 * nothing to read, reconnect_delay > reconnect_max, a listen address that is
 * no address, [influx] http without url/bucket or file without file, a
 * [history] path that is a directory or lies in a missing directory, a
 * state_dir that is not a directory. "FILE:LINE: problem; the fix".
 */
sw_err sw_daemon_config_check(const sw_daemon_config *c, char *err, size_t errcap);

/* Hand every output key to its output's parser: "FILE:LINE: [section] problem" on error. */
sw_err sw_daemon_outputs_check(const sw_daemon_config *c, char *err, size_t errcap);

/* Parse "HOST[:PORT]" / "[ADDR:]PORT" (a bare number is a port, host ""; port 0 is allowed: listeners take it as "any"). */
sw_err sw_parse_host_port(const char *text, char *host, size_t hostcap, uint16_t *port, uint16_t default_port);

/* ---- RCT default objects -------------------------------------------------------------- */
/* The objects polled by default: fast tier (changing values) and slow tier (energy, faults). */
size_t sw_daemon_rct_default_count(bool slow);
const char *sw_daemon_rct_default_name(bool slow, size_t i);
/* Read once per connection: identity. */
size_t sw_daemon_rct_identity_count(void);
const char *sw_daemon_rct_identity_name(size_t i);

/*
 * Fault mask: bit k of the 128-bit mask is bit k mod 32 of fault[k / 32].flt.
 * The name of one bit (NULL beyond 127), and the active faults of one word
 * as "name, name, ..." ("none" when 0) into out[cap]; returns the length
 * needed (snprintf style).
 */
const char *sw_daemon_rct_fault_name(unsigned bit);
size_t sw_daemon_rct_fault_text(unsigned word, uint32_t value, char *out, size_t cap);

/* ---- the daemon ------------------------------------------------------------------------ */
typedef struct sw_daemon sw_daemon;

/*
 * Build the model, load the persisted state, start the outputs and sources.
 * Problems that make running pointless (an output that cannot start, a state
 * directory that cannot be created) give an error with text in err.
 */
sw_err sw_daemon_new(const sw_daemon_config *c, sw_loop *loop, sw_daemon **out, char *err, size_t errcap);
/*
 * Watch the read end of the program's signal self-pipe: each byte is a
 * signal number. SIGHUP reloads the panel map from the configuration file;
 * any other stops the loop. The fd stays the caller's.
 */
sw_err sw_daemon_watch_signal_fd(sw_daemon *d, int fd);
/* Run until a signal arrives on the watched fd, or sw_loop_stop. */
sw_err sw_daemon_run(sw_daemon *d);
/*
 * Stamp readings with another clock than the wall clock (Unix ns): a
 * simulation running faster than real time passes its own, so timestamps,
 * energy integrals, night timeouts and the history follow simulated time.
 * Call before sw_daemon_run; NULL restores the wall clock.
 */
void sw_daemon_set_clock(sw_daemon *d, int64_t (*now_ns)(void *user), void *user);
/* Persist the state now (also done periodically and at exit). */
sw_err sw_daemon_save(sw_daemon *d);
/* Save, stop the sources and outputs, free everything. */
void sw_daemon_free(sw_daemon *d);
sw_model *sw_daemon_model(sw_daemon *d);

/* ---- pure helpers (exposed for tests) ------------------------------------------ */
/*
 * Energy in Wh of a trapezoid between two power samples, or 0 when the
 * interval is not positive or longer than gap_ns (a gap: nothing is known).
 */
double sw_energy_trapezoid_wh(double p0_w, int64_t t0_ns, double p1_w, int64_t t1_ns, int64_t gap_ns);

/* Reconnect backoff: delay before attempt n (0-based): base * 2^n, capped at max. */
int64_t sw_backoff_ms(unsigned attempt, int64_t base_ms, int64_t max_ms);

#ifdef __cplusplus
}
#endif
#endif
