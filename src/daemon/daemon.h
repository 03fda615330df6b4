/*
 * daemon/daemon.h: the daemon behind `sunwire run`: its configuration and
 * lifecycle. The live model it feeds is a layer of its own (model/model.h);
 * the daemon turns protocol events (Tigo observer events, RCT poll answers)
 * into calls on the model's mutation API and builds the outputs (sinks).
 */
#ifndef SUNWIRE_DAEMON_H
#define SUNWIRE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sunwire/loop.h"
#include "health/radio.h"
#include "health/watchdog.h"
#include "model/model.h"
#include "health/peers.h"
#include "rct_io/rct_proxy.h"
#include "health/battery.h"
#include "health/crosscheck.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- daemon configuration ----------------------------------------------------------- */
#define SW_DAEMON_MAX_TIGO 8
#define SW_DAEMON_MAX_RCT 8
#define SW_DAEMON_MAX_RCT_EXTRA 64
#define SW_DAEMON_MAX_RCT_CONTROL 16
#define SW_DAEMON_MAX_RCT_PLANT 8
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
    /* Control from Home Assistant (docs/control.md): off unless control = on. */
    bool control;
    size_t n_allow;
    const char *allow[SW_DAEMON_MAX_RCT_CONTROL];  /* control_allow: object names (the plan's table) */
    size_t n_keep;
    struct { const char *object; double value; } keep[SW_DAEMON_MAX_RCT_CONTROL]; /* control_keep */
    int control_rate_ms;           /* per object; default 60000 */
    int control_retries;           /* writes again after a differing read-back; default 2 */
    int control_flash_per_day;     /* writes of a flash-backed object per 24 h; default 24 */
    /* Plant members polled over the same connection ([rct] addresses). */
    size_t n_addresses;
    uint32_t addresses[SW_DAEMON_MAX_RCT_PLANT];
    /* proxy = ADDR:PORT: serve RCT clients over this source's one connection (rct_io/rct_proxy.h);
     * the upstream, timeout and retries are filled in from the section when it starts */
    bool proxy;
    char proxy_host[64];
    sw_rct_proxy_config proxy_cfg;
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
    int save_interval_ms;          /* commit energy this often; default 10 s (bounds the loss of a crash) */
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
    /* [health]: battery health and the Tigo <-> RCT cross-check */
    bool battery_health;           /* poll and judge the battery objects; default true */
    sw_battery_health_config battery;
    sw_crosscheck_config crosscheck;
    size_t n_dc_inputs;            /* dc_input.STRING = INVERTER:N */
    struct sw_daemon_dc_input {
        char string[SW_MODEL_NAME_MAX];
        char inverter[SW_MODEL_NAME_MAX];
        unsigned input;
        int line;
    } dc_inputs[SW_CROSSCHECK_MAX];
    /* outputs */
    unsigned outputs;              /* enum sw_daemon_output bits: sections present or flags given */
    size_t n_output_keys;
    sw_daemon_output_key *output_keys; /* SW_DAEMON_MAX_OUTPUT_KEYS entries, owned */
    /* [health]: report loss and the radio link, the bus and controller watchdog (docs/health.md) */
    sw_health_radio_config health_radio;
    sw_health_watchdog_config health_watchdog;
    /* [health]: panels against their peers */
    bool peers_off;                /* peers = off */
    sw_peers_config peers;
    double performance_min_wh;     /* performance_min_energy; default 10 */
    int health_line;               /* where [health] was last set (0 = defaults) */
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
 * The daemon's signals, as an sw_signal_cb (io/stop_signals.h); user points at
 * the sw_daemon pointer, which may still be NULL while the daemon starts.
 * SIGHUP reloads the panel map from the configuration file and saves the
 * state; any other signal (or any signal before the daemon exists) stops.
 */
int sw_daemon_on_signal(sw_loop *loop, int sig, void *user);
/* Run until a signal stops the loop, or sw_loop_stop. */
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
/* Reconnect backoff: delay before attempt n (0-based): base * 2^n, capped at max. */
int64_t sw_backoff_ms(unsigned attempt, int64_t base_ms, int64_t max_ms);

#ifdef __cplusplus
}
#endif
#endif
