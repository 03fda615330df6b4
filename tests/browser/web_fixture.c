/*
 * web_fixture.c: the dashboard on a real model fed by a synthetic
 * installation, for the HTTP and browser tests.
 *
 *   sw_web_fixture [--port N] [--history FILE] [--interval-ms N] [--problems]
 *
 * Two strings of eight panels behind one gateway on the source "roof" (one
 * panel never reports, so it shows as offline), a disconnected serial
 * source "garage" (a dead-source alert) and an RCT inverter "house" with the
 * values the overview's energy flow uses. Every tick one report per panel
 * arrives with slowly changing power, plus one raw event for the live view.
 * With --history the real history output records everything into FILE,
 * which is first seeded with three earlier days so day charts and the daily
 * bars have something to show; the dashboard reads it back.
 *
 * With --problems the model also holds problems, raised directly as a
 * detector would: east-3 passes no power and the bus "roof" lost its
 * controller from the start, and west-2 runs hot from the 20th tick on (so
 * a problem arrives while the page is open). The inverter's control of
 * power_mng.soc_min is blocked for the next 24 hours (its flash budget used
 * up), as the daemon's poller would record it.
 *
 * Prints "PORT <n>" once listening; exits when stdin closes or on SIGTERM.
 */
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "io/log.h"
#include "io/net.h"
#include "sink/sink_history.h"
#include "web/sink_http.h"

#define NS_PER_S INT64_C(1000000000)
#define PANELS_PER_STRING 8

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct fixture {
    sw_loop *loop;
    sw_model *model;
    unsigned tick;
    int interval_ms;
    bool problems;
} fixture;

static void barcode_of(int string_idx, int panel_idx, char out[16])
{
    snprintf(out, 16, "4-%c%05X%c", 'A' + string_idx, 0x1A2B0 + string_idx * 16 + panel_idx, 'K' + panel_idx);
}

/* Power of a panel at a tick: a per-panel level with a slow swell, never identical across panels. */
static double panel_power(int s, int i, unsigned tick)
{
    double base = (s == 0 ? 310.0 : 240.0) - 9.0 * i;
    if (s == 0 && i == 2)
        base *= 0.45; /* "east-3" sits in a chimney's shadow: the pale tile */
    return base * (0.85 + 0.15 * sin(tick / 3.0 + i * 0.7 + s));
}

static void report_all(fixture *f, int64_t now)
{
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < PANELS_PER_STRING; i++) {
            if (s == 1 && i == PANELS_PER_STRING - 1)
                continue; /* "west-8" stays silent: the offline tile */
            char bc[16];
            barcode_of(s, i, bc);
            double p = panel_power(s, i, f->tick);
            sw_panel_report r = {
                .time_ns = now,
                .voltage_in = 34.5 + 0.1 * i,
                .voltage_out = 33.9 + 0.1 * i,
                .duty_cycle = 0.97,
                .temperature_c = 31.5 + s + 0.5 * i,
                .rssi = 120 + 5 * i,
                .barcode = bc,
            };
            r.current_in = p / r.voltage_in;
            sw_model_panel_report(f->model, "roof", 0x1201, (uint16_t)(s * 16 + i + 2), &r);
        }
    }
    sw_source_status *src = sw_model_source_find(f->model, "roof");
    if (src) {
        src->last_data_ns = now;
        src->bytes += 4096;
        src->frames += 31;
        sw_model_source_changed(f->model, src, now);
    }
}

static void inverter_values(fixture *f, int64_t now)
{
    static const struct {
        const char *name;
        const char *unit;
        uint32_t id;
        double base, swing;
    } vals[] = {
        { "battery.soc", "%", 0x959930BF, 76.0, 0.0 },
        { "dc_conv.dc_conv_struct[0].p_dc_lp", "W", 0xDB11855B, 2150.0, 120.0 },
        { "dc_conv.dc_conv_struct[1].p_dc_lp", "W", 0x0CB5D21B, 1720.0, 90.0 },
        { "g_sync.p_ac_grid_sum_lp", "W", 0x91617C58, -1450.0, 150.0 },
        { "g_sync.p_ac_load_sum_lp", "W", 0x1AC87AA0, 780.0, 60.0 },
        { "g_sync.p_acc_lp", "W", 0xA9033880, -1500.0, 40.0 },
        { "fault[0].flt", "", 0x37F9D5CA, 0.0, 0.0 },
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        sw_inverter_value v;
        memset(&v, 0, sizeof v);
        snprintf(v.inverter, sizeof v.inverter, "house");
        v.object_id = vals[i].id;
        snprintf(v.object_name, sizeof v.object_name, "%s", vals[i].name);
        snprintf(v.unit, sizeof v.unit, "%s", vals[i].unit);
        v.is_number = true;
        v.number = vals[i].base + vals[i].swing * sin(f->tick / 4.0 + (double)i);
        char text[32];
        snprintf(text, sizeof text, "%.3f", v.number);
        v.text = text;
        v.timestamp_ns = now;
        sw_model_inverter_value_set(f->model, &v);
    }
    sw_source_status *rct = sw_model_source_find(f->model, "house");
    if (rct) {
        rct->last_data_ns = now;
        rct->requests += 7;
        rct->frames += 7;
        sw_model_source_changed(f->model, rct, now);
    }
    sw_inverter *inv = sw_model_inverter_find(f->model, "house");
    if (inv) {
        sw_inverter copy = *inv;
        copy.last_poll_ns = now;
        sw_model_inverter_set(f->model, &copy, now);
    }
}

static int64_t on_tick(sw_loop *loop, uint64_t id, void *user)
{
    (void)id;
    fixture *f = user;
    if (g_stop) {
        sw_loop_stop(loop);
        return -1;
    }
    int64_t now = sw_now_realtime_ns();
    f->tick++;
    report_all(f, now);
    inverter_values(f, now);
    /* One typed event per tick, so the live view has something to list. */
    char address[64];
    snprintf(address, sizeof address, "192.0.2.1:502 (tick %u)", f->tick);
    sw_event ev = { .kind = SW_EVENT_SOURCE_UP, .source = "roof", .time_ns = now };
    ev.u.source_up.address = address;
    sw_model_event(f->model, &ev);
    if (f->problems && f->tick == 20) {
        char bc[16];
        barcode_of(1, 1, bc);
        sw_model_problem_raise(f->model, SW_PROBLEM_HOT, "roof", bc, "west-2", "68 C while its string's median is 41 C",
                               now);
    }
    sw_model_tick(f->model, now);
    return f->interval_ms;
}

static void on_stdin(sw_loop *loop, int fd, int events, void *user)
{
    (void)events; (void)user;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        sw_loop_del_fd(loop, fd);
        sw_loop_stop(loop);
    }
}

static int64_t on_signal_check(sw_loop *loop, uint64_t id, void *user)
{
    (void)id; (void)user;
    if (g_stop) {
        sw_loop_stop(loop);
        return -1;
    }
    return 200;
}

static void setup_model(fixture *f, int64_t now)
{
    sw_panel_map_entry map[2 * PANELS_PER_STRING];
    memset(map, 0, sizeof map);
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < PANELS_PER_STRING; i++) {
            sw_panel_map_entry *e = &map[s * PANELS_PER_STRING + i];
            barcode_of(s, i, e->barcode);
            snprintf(e->name, sizeof e->name, "%s-%d", s == 0 ? "east" : "west", i + 1);
            snprintf(e->string_name, sizeof e->string_name, "%s", s == 0 ? "east" : "west");
        }
    sw_model_set_panel_map(f->model, map, 2 * PANELS_PER_STRING);

    sw_source_status *roof = sw_model_source(f->model, "roof", SW_SOURCE_TIGO_TCP, "127.0.0.1:7160");
    roof->connected = true;
    roof->last_data_ns = now;
    sw_model_source_changed(f->model, roof, now);
    sw_source_status *garage = sw_model_source(f->model, "garage", SW_SOURCE_TIGO_SERIAL, "/dev/ttyUSB9");
    garage->connected = false;
    garage->reconnects = 3;
    snprintf(garage->last_error, sizeof garage->last_error, "no such device");
    sw_model_source_changed(f->model, garage, now);
    sw_source_status *rct = sw_model_source(f->model, "house", SW_SOURCE_RCT_TCP, "127.0.0.1:8899");
    rct->connected = true;
    rct->last_data_ns = now;
    rct->requests = 120;
    sw_model_source_changed(f->model, rct, now);

    sw_gateway g;
    memset(&g, 0, sizeof g);
    snprintf(g.source, sizeof g.source, "roof");
    g.gateway_id = 0x1201;
    snprintf(g.address, sizeof g.address, "04:C0:5B:30:00:02:BE:16");
    snprintf(g.barcode, sizeof g.barcode, "S-1234567T");
    snprintf(g.version, sizeof g.version, "Mgate Version G8.59");
    sw_model_gateway_set(f->model, &g, now);

    /* The silent panel exists (its node is known) but never reports. */
    char bc[16];
    barcode_of(1, PANELS_PER_STRING - 1, bc);
    sw_model_panel(f->model, "roof", 0x1201, (uint16_t)(16 + PANELS_PER_STRING - 1 + 2), bc, NULL);

    sw_inverter inv;
    memset(&inv, 0, sizeof inv);
    snprintf(inv.name, sizeof inv.name, "house");
    snprintf(inv.host, sizeof inv.host, "127.0.0.1");
    inv.port = 8899;
    snprintf(inv.serial, sizeof inv.serial, "0123456789AB");
    snprintf(inv.model, sizeof inv.model, "PS 6.0");
    snprintf(inv.firmware, sizeof inv.firmware, "5.4512");
    inv.online = true;
    inv.last_poll_ns = now;
    sw_model_inverter_set(f->model, &inv, now);
}

/* Three earlier days of rows, so the history views have something to draw. */
static int seed_history(const char *path, int64_t now)
{
    sw_history *h = NULL;
    if (sw_history_open(path, &h) != SW_OK) {
        fprintf(stderr, "sw_web_fixture: cannot open %s\n", path);
        return -1;
    }
    int64_t today = now / NS_PER_S / 86400;
    for (int back = 3; back >= 1; back--) {
        int64_t day0 = (today - back) * 86400 * NS_PER_S;
        double e_total = 0;
        for (int minute = 6 * 60; minute <= 18 * 60; minute += 10) {
            int64_t t = day0 + (int64_t)minute * 60 * NS_PER_S;
            double sun = sin(M_PI * (minute - 360) / 720.0);
            double day_energy = 0;
            for (int s = 0; s < 2; s++) {
                sw_string_agg agg;
                memset(&agg, 0, sizeof agg);
                snprintf(agg.name, sizeof agg.name, "%s", s == 0 ? "east" : "west");
                agg.panels = PANELS_PER_STRING;
                agg.online = PANELS_PER_STRING;
                agg.power_sum_w = (s == 0 ? 2300 : 1800) * sun * (1.0 - 0.1 * back);
                agg.energy_today_wh = (s == 0 ? 9000 : 7000) * (1.0 - 0.1 * back) * (minute - 360) / 720.0;
                day_energy += agg.energy_today_wh;
                sw_history_add_string(h, &agg, t);
                for (int i = 0; i < PANELS_PER_STRING; i++) {
                    sw_panel p;
                    memset(&p, 0, sizeof p);
                    snprintf(p.source, sizeof p.source, "roof");
                    p.gateway_id = 0x1201;
                    p.node_id = (uint16_t)(s * 16 + i + 2);
                    barcode_of(s, i, p.barcode);
                    snprintf(p.name, sizeof p.name, "%s-%d", s == 0 ? "east" : "west", i + 1);
                    snprintf(p.string_name, sizeof p.string_name, "%s", agg.name);
                    p.online = true;
                    p.power_w = agg.power_sum_w / PANELS_PER_STRING;
                    p.energy_today_wh = agg.energy_today_wh / PANELS_PER_STRING;
                    sw_history_add_panel(h, &p, t);
                }
            }
            sw_string_agg total;
            memset(&total, 0, sizeof total);
            snprintf(total.name, sizeof total.name, "total");
            total.power_sum_w = 4100 * sun * (1.0 - 0.1 * back);
            total.energy_today_wh = day_energy;
            e_total = day_energy;
            sw_history_add_string(h, &total, t);
        }
        (void)e_total;
        sw_history_commit(h);
    }
    sw_history_close(h);
    return 0;
}

int main(int argc, char **argv)
{
    uint16_t port = 0;
    const char *history = NULL;
    int interval_ms = 1000;
    bool problems = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = (uint16_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc)
            history = argv[++i];
        else if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc)
            interval_ms = atoi(argv[++i]);
        else if (strcmp(argv[i], "--problems") == 0)
            problems = true;
        else {
            fprintf(stderr, "usage: sw_web_fixture [--port N] [--history FILE] [--interval-ms N] [--problems]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    sw_log_init(SW_LOG_WARN);

    int64_t now = sw_now_realtime_ns();
    if (history && seed_history(history, now) != 0)
        return 1;

    fixture f = { .interval_ms = interval_ms > 0 ? interval_ms : 1000, .problems = problems };
    f.loop = sw_loop_new();
    f.model = sw_model_new(NULL);
    if (!f.loop || !f.model)
        return 1;

    sw_http_config hc;
    sw_http_config_defaults(&hc);
    hc.port = port;
    sw_sink web;
    sw_err err = sw_http_start(f.loop, f.model, &hc, &web);
    if (err != SW_OK) {
        fprintf(stderr, "sw_web_fixture: http: %s\n", sw_err_message(err));
        return 1;
    }
    sw_model_add_sink(f.model, web);
    if (history) {
        sw_history_config cfg;
        sw_history_config_defaults(&cfg);
        cfg.enable = true;
        snprintf(cfg.path, sizeof cfg.path, "%s", history);
        sw_sink hs;
        if ((err = sw_history_start(f.loop, f.model, &cfg, &hs)) != SW_OK) {
            fprintf(stderr, "sw_web_fixture: history: %s\n", sw_err_message(err));
            return 1;
        }
        sw_model_add_sink(f.model, hs);
        sw_http_sink_attach_history_db(&web, history);
    }

    setup_model(&f, now);
    report_all(&f, now);
    inverter_values(&f, now);
    if (problems) {
        char bc[16];
        barcode_of(0, 2, bc);
        sw_model_problem_raise(f.model, SW_PROBLEM_NO_POWER, "roof", bc, "east-3",
                               "0.2 W at 41 V in while its string's median is 290 W", now - 600 * NS_PER_S);
        sw_model_problem_raise(f.model, SW_PROBLEM_CONTROLLER_SILENT, "roof", "roof", NULL,
                               "no receive request for 95 s while the bus is connected", now - 95 * NS_PER_S);
        sw_control *c = sw_model_control(f.model, "house", "power_mng.soc_min");
        if (c) {
            c->allowed = true;
            c->writes[SW_CONTROL_VERIFIED] = 1;
            c->writes[SW_CONTROL_FLASH_BUDGET] = 1;
            c->flash_per_day = 1;
            c->blocked = true;
            c->blocked_until_ns = now + 86400 * NS_PER_S;
            sw_model_control_changed(f.model, now);
        }
    }

    sw_loop_add_fd(f.loop, STDIN_FILENO, SW_LOOP_READ, on_stdin, &f);
    sw_loop_add_timer(f.loop, f.interval_ms, on_tick, &f);
    sw_loop_add_timer(f.loop, 200, on_signal_check, &f);
    printf("PORT %u\n", (unsigned)sw_http_sink_port(&web));
    fflush(stdout);

    sw_loop_run(f.loop);
    sw_model_free(f.model);
    sw_loop_free(f.loop);
    return 0;
}
