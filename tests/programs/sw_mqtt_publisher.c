/*
 * sw_mqtt_publisher: a synthetic installation published through the MQTT
 * output, for the integration tests (tests/integration/test_mqtt_*.py).
 *
 * It builds a real model (one Tigo gateway with a few mapped panels in two
 * strings, one RCT inverter), starts the MQTT sink on it and feeds the model
 * a report for every panel and a few inverter values at a fixed interval,
 * all inside one sw_loop, exactly as `sunwire run` does with real sources.
 * The values are deterministic functions of the report number, so a test can
 * recognise which report a message came from.
 *
 *   sw_mqtt_publisher [--interval MS] [--panels N] [--set KEY=VALUE]...
 *
 * --set passes one [mqtt] key to sw_mqtt_config_set. SIGTERM or SIGINT
 * stops it cleanly (the sink says "offline"); on exit it prints the sink's
 * counters as one JSON line on stdout.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "io/log.h"
#include "io/net.h"
#include "sink/sink_mqtt.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

struct app {
    sw_model *model;
    unsigned panels;
    unsigned report;
    int64_t interval_ms;
};

static int64_t check_stop(sw_loop *loop, uint64_t id, void *user)
{
    (void)id; (void)user;
    if (g_stop)
        sw_loop_stop(loop);
    return 50;
}

static void barcode_of(unsigned i, char out[16])
{
    snprintf(out, 16, "4-10000%02X", i + 1);
}

static void set_value(sw_model *m, uint32_t id, const char *name, const char *unit, bool is_number, double number,
                      const char *text, int64_t now)
{
    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.inverter, sizeof v.inverter, "garage");
    v.object_id = id;
    snprintf(v.object_name, sizeof v.object_name, "%s", name);
    snprintf(v.unit, sizeof v.unit, "%s", unit);
    v.is_number = is_number;
    v.number = number;
    char num[32];
    snprintf(num, sizeof num, "%g", number);
    v.text = text ? text : num;
    v.timestamp_ns = now;
    sw_model_inverter_value_set(m, &v);
}

static int64_t tick(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    struct app *a = user;
    int64_t now = sw_now_realtime_ns();
    unsigned k = ++a->report;
    for (unsigned i = 0; i < a->panels; i++) {
        char bc[16];
        barcode_of(i, bc);
        sw_panel_report r = {
            .time_ns = now,
            .voltage_in = 30.0 + i,
            .voltage_out = 29.0 + i,
            .current_in = 0.01 * (k % 1000),
            .duty_cycle = 0.5,
            .temperature_c = 20.0 + i,
            .rssi = 100 + (int)i,
            .barcode = bc,
        };
        sw_model_panel_report(a->model, "sim", 4609, (uint16_t)(10 + i), &r);
    }
    /* The model carries percent (the daemon scales RCT's fractions). */
    set_value(a->model, 0x959930BFu, "battery.soc", "%", true, 25.0 + 0.1 * (k % 500), NULL, now);
    set_value(a->model, 0x91617C58u, "g_sync.p_ac_grid_sum_lp", "W", true, 100.0 * k, NULL, now);
    set_value(a->model, 0xB1EF67CEu, "energy.e_ac_total", "Wh", true, 1000.0 + k, NULL, now);
    set_value(a->model, 0x5F33284Eu, "prim_sm.state", "", false, 0, "Feed-in", now);
    return a->interval_ms;
}

static void usage(void)
{
    fprintf(stderr, "usage: sw_mqtt_publisher [--interval MS] [--panels N] [--set KEY=VALUE]...\n");
}

int main(int argc, char **argv)
{
    sw_log_init(SW_LOG_WARN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    sw_mqtt_config cfg;
    sw_mqtt_config_defaults(&cfg);
    struct app a = { .panels = 3, .interval_ms = 500 };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
            a.interval_ms = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--panels") == 0 && i + 1 < argc) {
            a.panels = (unsigned)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            char kv[600], err[300];
            snprintf(kv, sizeof kv, "%s", argv[++i]);
            char *eq = strchr(kv, '=');
            if (!eq) {
                usage();
                return 2;
            }
            *eq = '\0';
            if (sw_mqtt_config_set(&cfg, kv, eq + 1, err, sizeof err) != SW_OK) {
                fprintf(stderr, "sw_mqtt_publisher: %s\n", err);
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (a.interval_ms < 10 || a.panels < 1 || a.panels > 200) {
        usage();
        return 2;
    }

    sw_loop *loop = sw_loop_new();
    a.model = sw_model_new(NULL);
    if (!loop || !a.model)
        return 1;
    int64_t now = sw_now_realtime_ns();
    sw_model_set_started_ns(a.model, now);

    sw_panel_map_entry *map = calloc(a.panels, sizeof *map);
    if (!map)
        return 1;
    for (unsigned i = 0; i < a.panels; i++) {
        barcode_of(i, map[i].barcode);
        snprintf(map[i].name, sizeof map[i].name, "Panel %u", i + 1);
        snprintf(map[i].string_name, sizeof map[i].string_name, "%s", i % 2 ? "west" : "south");
    }
    sw_model_set_panel_map(a.model, map, a.panels);
    free(map);

    sw_gateway g;
    memset(&g, 0, sizeof g);
    snprintf(g.source, sizeof g.source, "sim");
    g.gateway_id = 4609;
    snprintf(g.address, sizeof g.address, "04:C0:5B:30:00:02:BE:16");
    snprintf(g.version, sizeof g.version, "Mgate Version G8.59");
    sw_model_gateway_set(a.model, &g, now);
    for (unsigned i = 0; i < a.panels; i++) {
        char bc[16];
        barcode_of(i, bc);
        sw_model_panel(a.model, "sim", 4609, (uint16_t)(10 + i), bc, NULL);
    }
    sw_inverter inv;
    memset(&inv, 0, sizeof inv);
    snprintf(inv.name, sizeof inv.name, "garage");
    snprintf(inv.host, sizeof inv.host, "127.0.0.1");
    inv.port = 8899;
    snprintf(inv.serial, sizeof inv.serial, "SIM0000000001");
    snprintf(inv.model, sizeof inv.model, "PS 6.0");
    snprintf(inv.firmware, sizeof inv.firmware, "1.0");
    inv.online = true;
    sw_model_inverter_set(a.model, &inv, now);

    sw_sink sink;
    sw_err e = sw_mqtt_start(loop, a.model, &cfg, &sink);
    if (e != SW_OK) {
        fprintf(stderr, "sw_mqtt_publisher: %s\n", sw_err_message(e));
        return 1;
    }
    sw_model_add_sink(a.model, sink);
    sw_loop_add_timer(loop, 50, check_stop, NULL);
    sw_loop_add_timer(loop, 0, tick, &a);
    sw_loop_run(loop);

    sw_mqtt_counters st;
    sw_mqtt_get_counters(&sink, &st);
    sw_model_free(a.model); /* closes the sink: "offline", disconnect */
    sw_loop_free(loop);
    printf("{\"connects\":%llu,\"published\":%llu,\"queued\":%llu,\"dropped\":%llu,\"discovery_rounds\":%llu}\n",
           (unsigned long long)st.connects, (unsigned long long)st.published, (unsigned long long)st.queued,
           (unsigned long long)st.dropped, (unsigned long long)st.discovery_rounds);
    return 0;
}
