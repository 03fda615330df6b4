/*
 * tigo_sim.h: `sunwire tigo simulate`, and the pieces of it the demo reuses.
 *
 * The bus generator (sim/sim_tigo.h) knows nothing about time passing; a
 * runner here pulls its frames when their bus time comes (scaled by a speed)
 * on the event loop and hands them to the outputs: a TCP fan-out server (what
 * an RS-485-to-Ethernet bridge offers), a pseudo-terminal (what a USB adapter
 * offers) or a file (raw bytes or pcapng).
 */
#ifndef SUNWIRE_CLI_TIGO_SIM_H
#define SUNWIRE_CLI_TIGO_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/loop.h"
#include "sim/sim_tigo.h"

/* `sunwire tigo simulate ...`; argv[0] is "simulate". Returns the exit code. */
int sw_cli_tigo_simulate(int argc, char **argv, const char *prog);

/*
 * "2025-06-21T04:00:00Z", "2025-06-21T06:00:00+02:00", "2025-06-21 04:00", "@1750478400" or "now".
 * SW_ERR_BAD_NUMBER for text it cannot read, SW_ERR_OUT_OF_RANGE for a start
 * outside TSIM_START_MIN_S .. TSIM_START_MAX_S (a simulation must be able to
 * run for years without leaving the nanosecond clock, see sw_time_ns_from_s).
 */
#define TSIM_START_MIN_S 0LL          /* 1970-01-01T00:00:00Z */
#define TSIM_START_MAX_S 7258118399LL /* 2199-12-31T23:59:59Z */
sw_err tsim_parse_time(const char *text, int64_t now_ns, int64_t *out_ns);
/* The message for a tsim_parse_time error (what to write instead). */
const char *tsim_time_error(sw_err e);

typedef struct tsim_runner tsim_runner;

typedef struct tsim_runner_opts {
    double speed;          /* bus seconds per real second; must be > 0 */
    const char *bind;      /* TCP server address, NULL = no server ("127.0.0.1" by default in the CLI) */
    uint16_t port;         /* 0 = any free port */
    bool pty;              /* create a pseudo-terminal */
    int64_t end_bus_ns;    /* stop the loop after this bus time, 0 = never */
} tsim_runner_opts;

/* Start pacing `sim` on `loop`. NULL with a message in err on failure. */
tsim_runner *tsim_runner_start(sw_loop *loop, sw_tigo_sim *sim, const tsim_runner_opts *o, char *err, size_t errcap);
uint16_t tsim_runner_port(const tsim_runner *r);
const char *tsim_runner_pty_path(const tsim_runner *r);
/* Bus time the runner has reached (for summaries). */
int64_t tsim_runner_bus_now(const tsim_runner *r);
uint64_t tsim_runner_clients(const tsim_runner *r);
void tsim_runner_stop(tsim_runner *r);

#endif
