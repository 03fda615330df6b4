/*
 * cmd_demo.c: `sunwire demo`, the whole system on one machine with no
 * hardware: a simulated Tigo bus (two TAPs, one string each) served on a
 * loopback TCP port like an RS-485 bridge, a simulated RCT inverter on
 * another loopback port, and the daemon observing both exactly as it would
 * observe real devices, with its SQLite history, dashboard and /metrics.
 *
 * Layer: program edge. Everything runs on one event loop in one thread: the
 * bus pacer, the simulated inverter's server (the same one `rct simulator`
 * runs, here on the demo's loop) and the daemon. The daemon is handed
 * an in-memory configuration built with the same calls its INI parser uses,
 * so the demo exercises the real configuration path. Both simulators follow
 * one simulated clock (the bus time), so the inverter's sun is the panels'
 * sun.
 *
 * --faults breaks a few things on purpose (demo_faults below), through the
 * simulators' own fault injection, so the health detectors have something
 * to find on the dashboard and in Home Assistant.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/tigo_sim.h"
#include "sunwire/core.h"
#include "daemon/daemon.h"
#include "io/log.h"
#include "model/model.h"
#include "io/net.h"
#include "io/stop_signals.h"
#include "sunwire/rct.h"
#include "rct_io/rct_sim.h"
#include "sim/sim.h"
#include "sim/sim_tigo.h"
#include "sunwire/tigo_barcode.h"
#include "sunwire_config.h"

#define RCT_MAX_CONN 8
#define DEMO_PANELS 10
#define DEMO_GATEWAYS 2

/* ---- --faults ------------------------------------------------------------------------- */

/*
 * What --faults injects, in the simulators' KIND[:TARGET][=VALUE][@START[-END]]
 * form, timed from the simulated start. Before sunrise the detectors wait for
 * light (nothing is judged under the peers' power floor), so a fault that is in
 * force early is found as soon as the panels produce.
 */
static const char *const demo_tigo_faults[] = {
    "dead:1.4@30m",      /* E4: the optimizer passes no power (no_power) */
    "hot:2.3=25@30m",    /* W3: 25 degrees hotter than its string (hot) */
    "stuck:1.7@1h",      /* E7: repeats its last measurement (stuck) */
    "diode:2.8=1@1h",    /* W8: one substring bypassed (diode_loss) */
};
static const char *const demo_rct_faults[] = {
    "hot-module=20@30m", /* one battery module 20 degrees warmer (module_hot) */
    "drifting-cell@30m", /* one cell drifts below the others (cell_spread) */
};
#define N_DEMO_TIGO_FAULTS (sizeof demo_tigo_faults / sizeof demo_tigo_faults[0])
#define N_DEMO_RCT_FAULTS (sizeof demo_rct_faults / sizeof demo_rct_faults[0])

/*
 * The simulators' fault tables (sim/sim_faults_peers.h for the bus, sim/sim_faults_rct.h
 * for the inverter) are each optional here: a build whose simulator has no faults of a
 * kind injects none of it, and --faults says so (an error when neither has any).
 */
#ifdef SW_SIM_MAX_PANEL_FAULTS
#define DEMO_TIGO_FAULTS 1
#else
#define DEMO_TIGO_FAULTS 0
#endif
#ifdef SW_SIM_RCT_MAX_FAULTS
#define DEMO_RCT_FAULTS 1
#else
#define DEMO_RCT_FAULTS 0
#endif

/* The faults injected, as the simulators' --fault would take them. */
static void print_faults(void)
{
    const char *sep = "";
    printf("  faults       ");
    for (size_t i = 0; DEMO_TIGO_FAULTS && i < N_DEMO_TIGO_FAULTS; i++, sep = ",")
        printf("%s bus %s", sep, demo_tigo_faults[i]);
    for (size_t i = 0; DEMO_RCT_FAULTS && i < N_DEMO_RCT_FAULTS; i++, sep = ",")
        printf("%s inverter %s", sep, demo_rct_faults[i]);
    printf("\n");
}

static bool add_tigo_faults(sw_tigo_sim_config *c, char *err, size_t errcap)
{
#if DEMO_TIGO_FAULTS
    for (size_t i = 0; i < N_DEMO_TIGO_FAULTS; i++) {
        if (c->n_panel_faults == SW_SIM_MAX_PANEL_FAULTS ||
            sw_sim_panel_fault_parse(demo_tigo_faults[i], &c->panel_faults[c->n_panel_faults], err, errcap) != SW_OK)
            return false;
        c->n_panel_faults++;
    }
#else
    (void)c; (void)err; (void)errcap;
#endif
    return true;
}

/* ---- the simulated inverter, served from the loop ---------------------------------- */
typedef struct rct_server {
    sw_rct_sim sim;
    sw_rct_sim_server *srv;
    uint16_t port;
} rct_server;

static int64_t demo_clock(void *user) { return tsim_runner_bus_now(user); }

/* The inverter's sun is the panels' sun: its clock is the bus time. */
static int64_t rct_sim_seconds(void *user) { return tsim_runner_bus_now(user) / 1000000000LL; }

static sw_err rct_server_start(rct_server *s, sw_loop *loop, uint64_t seed, tsim_runner *clock, bool faults,
                               int64_t start_ns)
{
    memset(s, 0, sizeof *s);
    sw_rct_sim_config cfg;
    sw_rct_sim_config_default(&cfg, seed);
#if DEMO_RCT_FAULTS
    cfg.start_s = start_ns / 1000000000LL;
    for (size_t i = 0; faults && i < N_DEMO_RCT_FAULTS; i++)
        if (sw_sim_rct_faults_add(&cfg.injected, demo_rct_faults[i], NULL, 0) != SW_OK)
            return SW_ERR_INVALID_ARGUMENT;
#else
    (void)faults; (void)start_ns;
#endif
    sw_rct_sim_init(&s->sim, &cfg);
    sw_rct_sim_server_config o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.clock = rct_sim_seconds;
    o.clock_user = clock;
    o.max_clients = RCT_MAX_CONN;
    sw_err e = sw_rct_sim_server_start(&s->sim, loop, &o, &s->srv);
    if (e == SW_OK)
        s->port = sw_rct_sim_server_port(s->srv);
    return e;
}

static void rct_server_stop(rct_server *s)
{
    sw_rct_sim_server_stop(s->srv);
    s->srv = NULL;
}

/* ---- the terminal summary ------------------------------------------------------------- */
typedef struct demo {
    sw_loop *loop;
    sw_daemon *daemon;
    tsim_runner *runner;
    sw_tigo_sim *sim;
    rct_server rct;
    bool tty;
    unsigned drawn;        /* lines of the last summary (to redraw in place) */
    int32_t utc_offset_s;  /* the simulated house's clock */
    double speed;
    int64_t stop_after_ms; /* --duration: real milliseconds, 0 = until Ctrl-C */
    int64_t started_ms;
    /* The last power report of each panel as the bus sent it (W, bus time): the inverter's
     * trackers see what these panels deliver, so the cross-check finds the two in agreement. */
    double panel_w[DEMO_GATEWAYS][DEMO_PANELS];
    int64_t panel_ns[DEMO_GATEWAYS][DEMO_PANELS];
    sw_sim_rct_faults rct_faults; /* --rct-fault */
} demo;

/* Loss between the panels and the inverter's trackers (optimizer conversion, cables). */
#define DEMO_DC_LOSS 0.02

static int on_tigo_event(sw_tigo_sim *s, const sw_tigo_sim_event *ev, void *user)
{
    demo *d = user;
    if (ev->kind != SW_TIGO_SIM_EV_REPORT_SENT)
        return 0;
    for (unsigned g = 0; g < DEMO_GATEWAYS; g++) {
        unsigned j = (unsigned)ev->report->node - SW_TIGO_SIM_FIRST_NODE;
        if (sw_tigo_sim_gateway_id(s, g) != ev->report->gateway || j >= DEMO_PANELS)
            continue;
        /* the raw units the decoders use: 1/20 V and 1/200 A */
        d->panel_w[g][j] = ev->report->voltage_in_raw / 20.0 * (ev->report->current_raw / 200.0);
        d->panel_ns[g][j] = ev->report->measured_ns;
    }
    return 0;
}

/* Tracker `input` (0 = east, 1 = west) carries its string's panels, less the demo's DC loss. */
static bool demo_dc_power(void *user, unsigned input, int64_t t_s, double *out_w)
{
    demo *d = user;
    if (input >= DEMO_GATEWAYS)
        return false;
    double sum = 0.0;
    for (unsigned j = 0; j < DEMO_PANELS; j++)
        if (d->panel_ns[input][j] / 1000000000LL + 120 >= t_s) /* silent at night: nothing comes */
            sum += d->panel_w[input][j];
    *out_w = sum * (1.0 - DEMO_DC_LOSS);
    return true;
}

static const sw_inverter_value *inv_value(const sw_model *m, const char *name)
{
    for (size_t i = 0; i < sw_model_inverter_value_count(m); i++) {
        const sw_inverter_value *v = sw_model_inverter_value_at(m, i);
        if (v->is_number && strcmp(v->object_name, name) == 0)
            return v;
    }
    return NULL;
}

static double inv_number(const sw_model *m, const char *name, bool *have)
{
    const sw_inverter_value *v = inv_value(m, name);
    if (!v)
        return 0.0;
    *have = true;
    return v->number;
}

/* A tiny bar so the string power is readable at a glance: one cell per tenth of the peak. */
static void bar(char *out, double frac)
{
    int cells = (int)lround(frac * 10.0);
    if (cells < 0)
        cells = 0;
    if (cells > 10)
        cells = 10;
    for (int i = 0; i < 10; i++)
        out[i] = i < cells ? '#' : '.';
    out[10] = 0;
}

static void print_summary(demo *d)
{
    const sw_model *m = sw_daemon_model(d->daemon);
    char lines[8][200];
    unsigned n = 0;
    int64_t bus = tsim_runner_bus_now(d->runner);
    char when[SW_RFC3339_MAX];
    sw_fmt_rfc3339(when, (bus / 1000000000LL) * 1000000000LL, d->utc_offset_s);
    when[16] = 0; /* YYYY-MM-DDTHH:MM */
    when[10] = ' ';
    size_t panels = sw_model_panel_count(m), online = 0;
    for (size_t i = 0; i < panels; i++)
        online += sw_model_panel_at(m, i)->online;
    snprintf(lines[n++], sizeof lines[0], "simulated %s (x%g)  panels %zu/%zu online", when, d->speed, online,
             panels);
    for (size_t i = 0; i < sw_model_string_count(m) && n < 5; i++) {
        const sw_string_agg *s = sw_model_string_at(m, i);
        char b[11];
        bar(b, s->power_sum_w / (s->panels ? s->panels * 400.0 : 1.0));
        snprintf(lines[n++], sizeof lines[0], "  %-7.7s %s %7.0f W  %2u/%-2u online  min %4.0f max %4.0f W  today %6.2f kWh",
                 s->name, b, s->power_sum_w, s->online, s->panels, s->power_min_w, s->power_max_w,
                 s->energy_today_wh / 1000.0);
    }
    bool have = false;
    double pv = inv_number(m, "dc_conv.dc_conv_struct[0].p_dc_lp", &have) +
                inv_number(m, "dc_conv.dc_conv_struct[1].p_dc_lp", &have);
    double bat = inv_number(m, "g_sync.p_acc_lp", &have);
    double soc = inv_number(m, "battery.soc", &have);
    double grid = inv_number(m, "g_sync.p_ac_grid_sum_lp", &have);
    double load = inv_number(m, "g_sync.p_ac_load_sum_lp", &have);
    /* Whole watts, and no "-0 W" for a value just below zero. */
    bat = round(bat) + 0.0;
    grid = round(grid) + 0.0;
    if (have)
        snprintf(lines[n++], sizeof lines[0],
                 "  inverter  pv %6.0f W  battery %+6.0f W (%s) soc %3.0f %%  grid %+6.0f W  house %5.0f W", pv, bat,
                 bat > 20 ? "discharging" : bat < -20 ? "charging" : "idle", soc, grid, load);
    else
        snprintf(lines[n++], sizeof lines[0], "  inverter  waiting for the first answers");

    if (d->tty) {
        /* redraw in place: back to the first line of the previous summary, clear each line */
        if (d->drawn)
            printf("\033[%uA", d->drawn);
        for (unsigned i = 0; i < n; i++)
            printf("\r\033[K%s\n", lines[i]);
        d->drawn = n;
    } else {
        for (unsigned i = 0; i < n; i++)
            printf("%s\n", lines[i]);
        printf("\n");
    }
    fflush(stdout);
}

static int64_t on_summary(sw_loop *loop, uint64_t id, void *user)
{
    demo *d = user;
    (void)id;
    print_summary(d);
    if (d->stop_after_ms && sw_loop_now_ms() - d->started_ms >= d->stop_after_ms) {
        sw_loop_stop(loop);
        return -1;
    }
    return d->tty ? 1000 : 5000;
}

/* ---- set-up helpers --------------------------------------------------------------------- */
/* Sunrise of the simulated day that contains `t`: the first minute the panels wake up. */
static int64_t sunrise_of(const sw_sim_config *day, int64_t t_ns)
{
    int64_t midnight = (t_ns / 1000000000LL + day->utc_offset_s) / 86400 * 86400 - day->utc_offset_s;
    for (int64_t s = midnight; s < midnight + 86400; s += 60) {
        sw_sim_sample sm;
        sw_sim_sample_at(day, s, &sm);
        if (sm.sun > 0.025)
            return s * 1000000000LL;
    }
    return t_ns; /* polar night: start where we are */
}

static bool set_key(sw_daemon_config *c, const char *section, const char *key, const char *value)
{
    char err[256];
    if (sw_daemon_config_set(c, section, key, value, 0, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sunwire demo: %s\n", err);
        return false;
    }
    return true;
}

static bool free_port(uint16_t *port)
{
    int fd;
    if (sw_tcp_listen("127.0.0.1", 0, 1, &fd, port) != SW_OK)
        return false;
    close(fd);
    return true;
}

/* Remove what the demo wrote into its temporary directory (two levels: files and state/). */
static void remove_tree(const char *dir, int depth)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth > 0)
                remove_tree(path, depth - 1);
        } else {
            unlink(path);
        }
    }
    closedir(dh);
    rmdir(dir);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: sunwire demo [OPTIONS]\n"
            "\n"
            "Everything at once, no hardware needed: a simulated Tigo bus (2 TAPs, 2 strings of 10\n"
            "panels) and a simulated RCT inverter with battery, on loopback ports, observed by the\n"
            "daemon with its SQLite history, dashboard and Prometheus metrics. The simulated day\n"
            "starts shortly before sunrise and runs 60 times faster than real time. Ctrl-C stops.\n"
            "\n"
            "Options:\n"
            "  --speed N          simulated seconds per real second (default 60)\n"
            "  --realtime         run at real time (same as --speed 1)\n"
            "  --start TIME       simulated start: now, @UNIX or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]\n"
            "                     (default: shortly before today's sunrise)\n"
            "  --seed N           seed for the weather, addresses and values (default 1)\n"
            "  --firmware classic|4  Tigo CCA firmware generation to simulate (default classic)\n"
            "  --data-dir DIR     keep the history and state in DIR (default: a temporary\n"
            "                     directory removed at exit)\n"
            "  --http-port PORT   dashboard and /metrics port on 127.0.0.1 (default: a free port)\n"
            "  --duration SECONDS stop by itself after this many real seconds\n"
            "  --rct-fault SPEC   inject a fault into the simulated inverter (repeatable), as\n"
            "                     `sunwire rct simulator --fault`: drifting-cell, hot-module, dc-loss\n"
            "  --mqtt HOST[:PORT] also publish to this MQTT broker, with Home Assistant discovery\n"
            "  --faults           break a few things so the health detectors find them: from 30\n"
            "                     simulated minutes after the start, optimizer E4 passes no power\n"
            "                     and panel W3 runs hot; from 1 h, E7's readings stick and W8\n"
            "                     loses a substring; the battery gets a hot module and a\n"
            "                     drifting cell\n");
}

int sw_cli_demo(int argc, char **argv)
{
    double speed = 60.0, duration = 0.0;
    unsigned long seed = 1, http_port = 0;
    const char *start_text = NULL, *data_dir = NULL, *mqtt = NULL;
    bool faults = false;
    sw_tigo_sim_firmware fw = SW_TIGO_SIM_FW_CLASSIC;
    sw_sim_rct_faults rct_faults = { 0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        bool ok = true;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--realtime") == 0) {
            speed = 1.0;
            continue;
        } else if (strcmp(a, "--faults") == 0) {
            faults = true;
            continue;
        } else if (a[0] != '-') {
            fprintf(stderr, "sunwire demo: unexpected argument '%s' (demo takes only options, see --help)\n", a);
            return 2;
        } else if (!v) {
            ok = false;
        } else if (strcmp(a, "--speed") == 0) {
            speed = strtod(v, &end);
            ok = *end == 0 && speed > 0.0 && speed <= 10000.0;
        } else if (strcmp(a, "--duration") == 0) {
            duration = strtod(v, &end);
            ok = *end == 0 && duration > 0.0;
        } else if (strcmp(a, "--seed") == 0) {
            errno = 0;
            seed = strtoul(v, &end, 10);
            ok = *end == 0 && *v >= '0' && *v <= '9' && errno != ERANGE;
        } else if (strcmp(a, "--http-port") == 0) {
            http_port = strtoul(v, &end, 10);
            ok = *end == 0 && *v != '-' && http_port <= 65535;
        } else if (strcmp(a, "--start") == 0) {
            start_text = v;
        } else if (strcmp(a, "--data-dir") == 0) {
            data_dir = v;
        } else if (strcmp(a, "--rct-fault") == 0) {
            char why[160];
            if (sw_sim_rct_faults_add(&rct_faults, v, why, sizeof why) != SW_OK) {
                fprintf(stderr, "sunwire demo: --rct-fault: %s\n", why);
                return 2;
            }
        } else if (strcmp(a, "--mqtt") == 0) {
            mqtt = v;
            ok = *v != 0;
        } else if (strcmp(a, "--firmware") == 0) {
            ok = strcmp(v, "classic") == 0 || strcmp(v, "4") == 0;
            fw = strcmp(v, "4") == 0 ? SW_TIGO_SIM_FW_4 : SW_TIGO_SIM_FW_CLASSIC;
        } else {
            fprintf(stderr, "sunwire demo: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!ok) {
            static const char *const known[] = {"--speed", "--duration", "--seed", "--http-port", "--start",
                                                "--data-dir", "--firmware", "--rct-fault", "--mqtt"};
            bool is_known = false;
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                is_known = is_known || strcmp(a, known[k]) == 0;
            if (!is_known)
                fprintf(stderr, "sunwire demo: unknown option '%s' (see --help)\n", a);
            else
                fprintf(stderr, "sunwire demo: %s for %s\n", v ? "invalid value" : "missing value", a);
            return 2;
        }
        i++;
    }

    /* The summary is the demo's voice; the daemon's start-up chatter only when asked (SUNWIRE_LOG=info). */
    sw_log_init(SW_LOG_WARN);

    /* ---- the simulated plant ---- */
    int64_t now = sw_now_realtime_ns(), start;
    sw_tigo_sim_config tcfg;
    sw_tigo_sim_config_default(&tcfg, seed, now);
    if (start_text) {
        sw_err te = tsim_parse_time(start_text, now, &start);
        if (te != SW_OK) {
            fprintf(stderr, "sunwire demo: --start '%s' %s\n", start_text, tsim_time_error(te));
            return 2;
        }
    } else {
        /* twenty real seconds before sunrise, whatever the speed */
        start = sunrise_of(&tcfg.day, now) - (int64_t)(20.0 * speed * 1e9);
    }
    tcfg.start_ns = start;
    tcfg.gateways = DEMO_GATEWAYS;
    tcfg.panels = DEMO_PANELS;
    tcfg.firmware = fw;
    tcfg.shaded = true;
    if (faults) {
        char why[200] = "";
        if (!DEMO_TIGO_FAULTS && !DEMO_RCT_FAULTS) {
            fprintf(stderr, "sunwire demo: --faults: this build's simulators cannot inject faults\n");
            return 2;
        }
        if (!add_tigo_faults(&tcfg, why, sizeof why)) {
            fprintf(stderr, "sunwire demo: --faults: %s\n", why);
            return 2;
        }
    }

    demo d;
    memset(&d, 0, sizeof d);
    d.rct_faults = rct_faults;
    d.speed = speed;
    d.utc_offset_s = tcfg.day.utc_offset_s;
    d.tty = isatty(STDOUT_FILENO) == 1;
    d.stop_after_ms = (int64_t)(duration * 1000.0);
    int rc = 1;
    char err[512] = "";
    char dir[512] = "";
    bool temp_dir = false;
    sw_daemon_config cfg;
    bool cfg_ok = false;

    d.sim = malloc(sizeof *d.sim);
    d.loop = sw_loop_new();
    if (!d.sim || !d.loop || sw_tigo_sim_init(d.sim, &tcfg, on_tigo_event, &d) != SW_OK || sw_stop_signals_watch(d.loop, true) != SW_OK) {
        fprintf(stderr, "sunwire demo: cannot set up the simulation\n");
        goto out;
    }
    tsim_runner_opts ro = { .speed = speed, .bind = "127.0.0.1", .port = 0 };
    d.runner = tsim_runner_start(d.loop, d.sim, &ro, err, sizeof err);
    if (!d.runner) {
        fprintf(stderr, "sunwire demo: Tigo simulator: %s\n", err);
        goto out;
    }
    if (rct_server_start(&d.rct, d.loop, seed, d.runner, faults, start) != SW_OK) {
        fprintf(stderr, "sunwire demo: cannot start the RCT simulator on 127.0.0.1\n");
        goto out;
    }
    d.rct.sim.cfg.injected = d.rct_faults;
    d.rct.sim.cfg.start_s = start / 1000000000LL;
    d.rct.sim.cfg.dc_power = demo_dc_power;
    d.rct.sim.cfg.dc_power_user = &d;

    /* ---- where the daemon keeps its files ---- */
    if (data_dir) {
        snprintf(dir, sizeof dir, "%s", data_dir);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "sunwire demo: cannot create %s: %s\n", dir, strerror(errno));
            goto out;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/sunwire-demo-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
        if (!mkdtemp(dir)) {
            fprintf(stderr, "sunwire demo: cannot create a temporary directory: %s\n", strerror(errno));
            dir[0] = 0;
            goto out;
        }
        temp_dir = true;
    }
    uint16_t hport = (uint16_t)http_port;
    if (!hport && !free_port(&hport)) {
        fprintf(stderr, "sunwire demo: no free port on 127.0.0.1\n");
        goto out;
    }

    /* ---- the daemon's configuration, as if read from an INI file ---- */
    if (sw_daemon_config_init(&cfg) != SW_OK) {
        fprintf(stderr, "sunwire demo: out of memory\n");
        goto out;
    }
    cfg_ok = true;
    {
        char v[600], port[16];
        bool ok = true;
        snprintf(v, sizeof v, "%s/state", dir);
        ok = ok && set_key(&cfg, "general", "state_dir", v);
        /* panels fall silent at dusk; at 60x a real minute of silence is an hour of night */
        snprintf(v, sizeof v, "%.0f", fmax(20.0, 900.0 / speed));
        ok = ok && set_key(&cfg, "general", "stale_timeout", v);
        ok = ok && set_key(&cfg, "general", "tick", "1");
        ok = ok && set_key(&cfg, "tigo roof", "tcp", "127.0.0.1");
        snprintf(port, sizeof port, "%u", (unsigned)tsim_runner_port(d.runner));
        ok = ok && set_key(&cfg, "tigo roof", "port", port);
        ok = ok && set_key(&cfg, "rct inverter", "host", "127.0.0.1");
        snprintf(port, sizeof port, "%u", (unsigned)d.rct.port);
        ok = ok && set_key(&cfg, "rct inverter", "port", port);
        ok = ok && set_key(&cfg, "rct inverter", "fast_interval", "2s");
        ok = ok && set_key(&cfg, "rct inverter", "slow_interval", "20s");
        /* each string is one tracker of the inverter: the cross-check compares them */
        ok = ok && set_key(&cfg, "health", "dc_input.east", "inverter:0");
        ok = ok && set_key(&cfg, "health", "dc_input.west", "inverter:1");
        /* The tracker is polled every 2 real seconds, minutes or hours of simulated time: smooth over
         * one poll and hold for two, so one reading that meets a cloud's edge is never a problem. */
        snprintf(v, sizeof v, "%.0fs", fmax(300.0, 2.0 * speed));
        ok = ok && set_key(&cfg, "health", "dc_window", v);
        snprintf(v, sizeof v, "%.0fs", fmax(900.0, 4.0 * speed));
        ok = ok && set_key(&cfg, "health", "dc_hold", v);
#ifdef SUNWIRE_HAVE_SQLITE
        snprintf(v, sizeof v, "%s/history.db", dir);
        ok = ok && set_key(&cfg, "history", "path", v);
#endif
#ifdef SUNWIRE_HAVE_MHD
        ok = ok && set_key(&cfg, "http", "bind", "127.0.0.1");
        snprintf(port, sizeof port, "%u", (unsigned)hport);
        ok = ok && set_key(&cfg, "http", "port", port);
        ok = ok && set_key(&cfg, "prometheus", "enable", "true");
#endif
        if (mqtt) {
            /* HOST[:PORT], as `sunwire run --mqtt` takes it. */
            char host[256];
            uint16_t mport = 1883;
            if (sw_parse_host_port(mqtt, host, sizeof host, &mport, 1883) != SW_OK || !host[0]) {
                fprintf(stderr, "sunwire demo: --mqtt %s: expected HOST[:PORT]\n", mqtt);
                goto out;
            }
            snprintf(port, sizeof port, "%u", (unsigned)mport);
            ok = ok && set_key(&cfg, "mqtt", "host", host) && set_key(&cfg, "mqtt", "port", port);
            ok = ok && set_key(&cfg, "mqtt", "base_topic", "sunwire-demo");
        }
        /* one string per TAP, named east and west, panels E1..E10 and W1..W10 */
        char map[2048] = "";
        size_t len = 0;
        for (unsigned g = 0; g < DEMO_GATEWAYS; g++)
            for (unsigned j = 0; j < DEMO_PANELS; j++) {
                char bc[SW_TIGO_BARCODE_MAX];
                sw_tigo_barcode_format(sw_tigo_sim_node_address(d.sim, g, j), bc);
                int w = snprintf(map + len, sizeof map - len, "%s%s:%c%u:%s", len ? ", " : "",
                                 g ? "west" : "east", g ? 'W' : 'E', j + 1, bc);
                if (w > 0 && (size_t)w < sizeof map - len)
                    len += (size_t)w;
            }
        if (ok && sw_daemon_config_add_panels(&cfg, map, err, sizeof err) != SW_OK) {
            fprintf(stderr, "sunwire demo: %s\n", err);
            ok = false;
        }
        if (ok && sw_daemon_config_check(&cfg, err, sizeof err) != SW_OK) {
            fprintf(stderr, "sunwire demo: %s\n", err);
            ok = false;
        }
        if (!ok)
            goto out;
    }
    if (sw_daemon_new(&cfg, d.loop, &d.daemon, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sunwire demo: cannot start the daemon: %s\n", err);
        goto out;
    }
    /* Readings carry simulated time, so energy and history follow the simulated day. */
    sw_daemon_set_clock(d.daemon, demo_clock, d.runner);

    {
        char when[SW_RFC3339_MAX];
        sw_fmt_rfc3339(when, start, tcfg.day.utc_offset_s);
        unsigned bus_port = tsim_runner_port(d.runner), inv_port = d.rct.port;
        printf("sunwire demo: a simulated installation, observed by the daemon (Ctrl-C stops)\n"
               "  Tigo bus      127.0.0.1:%u  (sunwire tigo observe --tcp 127.0.0.1 --port %u)\n"
               "  RCT inverter  127.0.0.1:%u  (sunwire rct read-value --host 127.0.0.1 --port %u --name battery.soc)\n",
               bus_port, bus_port, inv_port, inv_port);
#ifdef SUNWIRE_HAVE_MHD
        printf("  dashboard     http://127.0.0.1:%u/\n"
               "  metrics       http://127.0.0.1:%u/metrics\n",
               (unsigned)hport, (unsigned)hport);
#else
        printf("  dashboard     not in this build (libmicrohttpd was missing)\n");
#endif
#ifdef SUNWIRE_HAVE_SQLITE
        printf("  history       %s/history.db%s\n", dir,
               temp_dir ? " (temporary: removed at exit; keep it with --data-dir)" : "");
#else
        printf("  history       not in this build (sqlite3 was missing)\n");
#endif
        if (mqtt)
            printf("  MQTT          %s (base topic sunwire-demo, Home Assistant discovery)\n", mqtt);
        printf("  simulated day starts %s, %gx real time\n", when, speed);
        if (faults)
            print_faults();
        printf("\n");
        fflush(stdout);
    }
    d.started_ms = sw_loop_now_ms();
    sw_loop_add_timer(d.loop, 1000, on_summary, &d);
    rc = sw_daemon_run(d.daemon) == SW_OK ? 0 : 1;
    if (d.tty)
        printf("\n");
    printf("sunwire demo: stopped\n");

out:
    if (d.daemon)
        sw_daemon_free(d.daemon);
    if (cfg_ok)
        sw_daemon_config_free(&cfg);
    rct_server_stop(&d.rct);
    tsim_runner_stop(d.runner);
    sw_stop_signals_unwatch(d.loop);
    sw_loop_free(d.loop);
    free(d.sim);
    if (temp_dir && dir[0])
        remove_tree(dir, 2);
    return rc;
}
