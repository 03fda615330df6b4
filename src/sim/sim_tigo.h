/*
 * sim/sim_tigo.h: a simulated Tigo TAP bus (one CCA, 1..N TAPs, M TS4
 * optimizers per TAP), producing the bytes an RS-485 listener would see.
 *
 * Layer: a generator above the link encoder (sunwire/tigo_link.h) and the
 * simulated household (sim/sim.h). It trusts the encoder to frame and
 * escape correctly and the day model for sun, clouds and temperature; it
 * decides everything else itself: which exchange the controller starts next,
 * status-word rotation, packet numbers, slot counters, when each optimizer
 * measures and when its report reaches the controller.
 *
 * Sans-I/O: the caller owns the struct, pulls one encoded frame at a time
 * together with the bus time (Unix ns) at which its last byte is on the wire,
 * and decides how to pace, where to write, and whether to wait. Nothing here
 * reads a clock, sleeps or allocates. The same configuration always gives
 * the same bytes.
 */
#ifndef SUNWIRE_SIM_TIGO_H
#define SUNWIRE_SIM_TIGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"
#include "sim/sim.h"
#include "sim/sim_faults.h"
#include "sim/sim_faults_peers.h"
#include "sunwire/tigo_link.h"
#include "tigo/line.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_TIGO_SIM_MAX_GATEWAYS 8
#define SW_TIGO_SIM_MAX_PANELS 64   /* per gateway */
#define SW_TIGO_SIM_QUEUE 96        /* PV packets a gateway buffers for the controller */
#define SW_TIGO_SIM_TASKS 2048      /* controller exchanges waiting besides polling */
#define SW_TIGO_SIM_FRAMES 4        /* encoded frames waiting to be pulled */
#define SW_TIGO_SIM_FRAME_MAX 520   /* >= sw_tigo_link_encoded_max(250) */
#define SW_TIGO_SIM_CHUNK_MAX 16384 /* what one sw_tigo_sim_next may return (a fast listener's bytes) */
#define SW_TIGO_SIM_FIRST_GATEWAY 0x1201u
#define SW_TIGO_SIM_FIRST_NODE 2u   /* node 1 is the gateway itself */
#define SW_TIGO_SIM_REPORT_PERIOD 4000u /* slots between two reports of one node (20 s) */

typedef enum sw_tigo_sim_firmware {
    SW_TIGO_SIM_FW_CLASSIC = 0, /* status 00xx, 13-byte power reports (taptap's world) */
    SW_TIGO_SIM_FW_4 = 4        /* CCA 4.x: status high byte 01/41/81/C1, 15-byte reports */
} sw_tigo_sim_firmware;

typedef struct sw_tigo_sim_config {
    sw_sim_config day;      /* sun, clouds, ambient temperature; day.seed also seeds the bus */
    int64_t start_ns;       /* bus time of the first byte, Unix ns */
    unsigned gateways;      /* 1..SW_TIGO_SIM_MAX_GATEWAYS, default 1 */
    unsigned panels;        /* per gateway, 1..SW_TIGO_SIM_MAX_PANELS, default 10 */
    sw_tigo_sim_firmware firmware;
    bool clouds;            /* passing clouds dim the light; off = clear sky */
    bool shaded;            /* the third panel of each gateway is shaded morning and afternoon */
    bool failing;           /* the last panel of the first gateway has a failing optimizer */
    double panel_w;         /* rated panel power, default 400 */
    uint32_t poll_ms;       /* how often each gateway is polled, default 100 */
    /* Panel faults (dead optimizer, diode loss, hot, stuck, soiled), each on one panel from
     * one simulated time to another (sim/sim_faults_peers.h); none by default. */
    size_t n_panel_faults;
    sw_sim_panel_fault panel_faults[SW_SIM_MAX_PANEL_FAULTS];
    bool radio_config;      /* after each enumeration the controller reads every TAP's radio configuration
                             * (command 0x0D, answer 0x0E with the network key); default off */
    /* Faults (sim/sim_faults.h), none by default. The line kinds (inverted,
     * baud, noise, silent, no-controller) change what the listener receives,
     * not what the installation does: see sw_tigo_sim_next. */
    sw_sim_faults faults;
} sw_tigo_sim_config;

/* Defaults as documented above, clouds on, 1 x 10 panels, classic firmware. */
void sw_tigo_sim_config_default(sw_tigo_sim_config *cfg, uint64_t seed, int64_t start_ns);

/* One power report as the generator built it (its truth, for tests and summaries). */
typedef struct sw_tigo_sim_report {
    uint16_t gateway;        /* gateway ID (0x1201 ...) */
    uint16_t node;           /* PV node ID */
    int64_t measured_ns;     /* bus time of the measurement (slot aligned) */
    uint16_t voltage_in_raw, voltage_out_raw, current_raw, temperature_raw;
    uint8_t duty_cycle_raw, rssi;
    uint16_t slot_counter;
    uint8_t len;             /* 13, or 15 on firmware 4 */
    uint8_t data[15];        /* the bytes as carried in the PV packet */
} sw_tigo_sim_report;

typedef enum sw_tigo_sim_event_kind {
    SW_TIGO_SIM_EV_REPORT_SENT = 1, /* a power report left the gateway inside a receive response */
    SW_TIGO_SIM_EV_NODE_JOINED,     /* a node came up at sunrise (topology report queued) */
    SW_TIGO_SIM_EV_NODE_LEFT        /* a node went quiet at dusk */
} sw_tigo_sim_event_kind;

typedef struct sw_tigo_sim_event {
    sw_tigo_sim_event_kind kind;
    uint16_t gateway, node;
    const sw_tigo_sim_report *report; /* REPORT_SENT only */
} sw_tigo_sim_event;

typedef struct sw_tigo_sim sw_tigo_sim;

/*
 * Called with each event while the bus is generated: the simulator, the
 * event, the user pointer given at init. Return 0 to go on; any other value
 * stops the events: the simulator calls back no more (sw_tigo_sim_stopped
 * says with what value), while the bus itself goes on, since it cannot stop
 * in the middle of an exchange.
 */
typedef int (*sw_tigo_sim_event_cb)(sw_tigo_sim *s, const sw_tigo_sim_event *ev, void *user);

typedef struct sw_tigo_sim_counters {
    uint64_t frames, bytes, polls, power_reports, topology_reports, string_responses;
    uint64_t node_table_sweeps, enumerations, network_status, queue_overflows;
    uint64_t frames_withheld; /* frames a silent line or a missing controller kept off the wire */
    uint64_t line_bytes;      /* bytes a faulty line delivered to the listener */
} sw_tigo_sim_counters;

/* ---- internal state (caller-owned; treat as opaque) ------------------------ */
typedef struct sw_tigo_sim_packet {
    int64_t ready_ns;         /* when the gateway has it */
    uint8_t type;
    uint16_t node;
    uint8_t len;
    uint8_t data[64];
    bool is_report;
    sw_tigo_sim_report report;
} sw_tigo_sim_packet;

typedef struct sw_tigo_sim_node {
    uint8_t address[8];
    uint16_t short_address;
    uint16_t phase;           /* slots, 0 .. period-1 */
    bool online;
    int64_t next_measure_k;   /* index of the next measurement period */
    bool has_last;            /* last holds the previous measurement (a stuck fault repeats it) */
    sw_tigo_sim_report last;
} sw_tigo_sim_node;

typedef struct sw_tigo_sim_gateway {
    uint16_t id;
    uint8_t address[8];
    int64_t origin_ns;        /* bus time at which this gateway's absolute slot count was 0 */
    uint16_t packet_number;   /* number of the next PV packet the controller asks for */
    uint8_t last_full_hi;     /* high byte last sent in full */
    uint8_t dsn;
    uint32_t polls;
    int64_t next_poll_ns;
    size_t n_queue;
    sw_tigo_sim_packet queue[SW_TIGO_SIM_QUEUE];
    sw_tigo_sim_node nodes[SW_TIGO_SIM_MAX_PANELS];
} sw_tigo_sim_gateway;

typedef struct sw_tigo_sim_task {
    uint8_t kind;
    uint8_t gateway;          /* index */
    uint16_t arg;
} sw_tigo_sim_task;

typedef struct sw_tigo_sim_frame {
    int64_t t_ns;
    uint16_t len;
    uint8_t bytes[SW_TIGO_SIM_FRAME_MAX];
} sw_tigo_sim_frame;

/* Holds no pointer to itself: it may be moved between calls. */
struct sw_tigo_sim {
    sw_tigo_sim_config cfg;
    sw_tigo_sim_event_cb on_event;
    void *user;
    int stopped;              /* what on_event returned to stop, else 0 */
    sw_tigo_sim_counters counters;
    int64_t now_ns;           /* the controller's cursor on the bus */
    uint8_t sequence;         /* command sequence number, skips 00 and FF */
    uint32_t polls_since_task; /* a busy bus still gets one command in per round of polls */
    bool was_night;
    bool started;
    int64_t next_status_ns, next_sweep_ns, next_ping_ns;
    int64_t sky_bucket;       /* cache of the day model, per 5 s */
    double sky_sun, sky_clouds, sky_ambient;
    size_t task_head, n_tasks;
    sw_tigo_sim_task tasks[SW_TIGO_SIM_TASKS];
    size_t frame_head, n_frames;
    sw_tigo_sim_frame frames[SW_TIGO_SIM_FRAMES];
    sw_tigo_sim_gateway gw[SW_TIGO_SIM_MAX_GATEWAYS];
    /* installation faults that change what the controller does (their state at the last step) */
    bool fw_updated;          /* the firmware fault is in force: the first TAP runs the later version */
    bool pv_off;              /* the pv-off fault is in force: PV off is broadcast */
    int64_t next_pv_lift_ns;  /* when the controller next lifts a lasting PV off for a moment */
    int64_t next_pv_reassert_ns; /* when it asserts it again after lifting; 0 = not lifted */
    /* the line to the listener, when a line fault is configured */
    bool line_faults;         /* the fault list names inverted, baud or noise */
    bool line_on;             /* the line model is in use now */
    sw_tigo_line_config line_cfg;
    sw_tigo_line line;
    bool chunk_ready;
    int64_t chunk_t_ns;
    size_t chunk_len;
    uint8_t chunk[SW_TIGO_SIM_CHUNK_MAX];
};

/*
 * Check cfg and set up the bus. SW_ERR_INVALID_ARGUMENT for zero or too many
 * gateways/panels, a zero poll interval, an unknown firmware, or a panel
 * fault on a gateway or panel the bus does not have. on_event may
 * be NULL. The struct is large (about 1 MiB): allocate it.
 */
sw_err sw_tigo_sim_init(sw_tigo_sim *s, const sw_tigo_sim_config *cfg, sw_tigo_sim_event_cb on_event, void *user);

/*
 * The next frame on the bus: its encoded bytes (preamble included) and the bus
 * time its last byte is complete. Times never decrease. Always succeeds for a
 * valid simulator (the bus never ends); SW_ERR_NO_SPACE when cap is smaller
 * than the frame (SW_TIGO_SIM_FRAME_MAX always suffices without line faults,
 * SW_TIGO_SIM_CHUNK_MAX with them).
 *
 * With line faults the result is what the listener receives while that frame
 * is sent: nothing (*len = 0, the time still moves on) on a silent line or
 * for a controller's frame when the controller is missing; the bytes a UART
 * at the wrong rate, on swapped wires or through noise reads (tigo/line.h),
 * which need not match the frame in number or value.
 */
sw_err sw_tigo_sim_next(sw_tigo_sim *s, uint8_t *out, size_t cap, size_t *len, int64_t *t_ns);

/* Bus time of the frame sw_tigo_sim_next returns next (so a pacer knows how long to wait). */
int64_t sw_tigo_sim_peek_time(sw_tigo_sim *s);

/* Identities the generator uses, for checking what an observer learnt. */
uint16_t sw_tigo_sim_gateway_id(const sw_tigo_sim *s, unsigned gateway_index);
const uint8_t *sw_tigo_sim_gateway_address(const sw_tigo_sim *s, unsigned gateway_index);
const uint8_t *sw_tigo_sim_node_address(const sw_tigo_sim *s, unsigned gateway_index, unsigned panel_index);
/* The radio network key the TAPs give in their radio configuration answers (16 bytes, from the seed). */
void sw_tigo_sim_radio_key(const sw_tigo_sim *s, unsigned gateway_index, uint8_t key[16]);
/* The version text the simulated TAPs answer (CR-separated, as real ones; depends on the firmware). */
const char *sw_tigo_sim_gateway_version(const sw_tigo_sim *s);
/* The version text TAP `gateway_index` answers at bus time t: the one above, or a later one
 * while the firmware fault is in force on the first TAP. */
const char *sw_tigo_sim_gateway_version_at(const sw_tigo_sim *s, unsigned gateway_index, int64_t t_ns);
/* Gateway absolute slot counter value (epoch bits included) at bus time t. */
uint16_t sw_tigo_sim_slot_counter(const sw_tigo_sim *s, unsigned gateway_index, int64_t t_ns);

const sw_tigo_sim_counters *sw_tigo_sim_get_counters(const sw_tigo_sim *s);
/* The non-zero value the event callback returned to stop, or 0. */
int sw_tigo_sim_stopped(const sw_tigo_sim *s);

/*
 * The 13-byte report core from r's raw fields (12-bit fields masked to 12
 * bits), with `unknown` as bytes 7..9: the inverse of the power-report
 * decoder, used for every report the simulator sends.
 */
void sw_tigo_sim_pack_report(const sw_tigo_sim_report *r, const uint8_t unknown[3], uint8_t out[13]);

#ifdef __cplusplus
}
#endif
#endif
