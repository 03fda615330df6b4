/*
 * tigo_doctor.c: `sunwire tigo doctor`, the line diagnosis in plain words.
 *
 * Layer: program edge. It listens through the same source loop as observe
 * (serial, TCP bridge, file), hands the bytes to the sans-I/O doctor
 * (tigo/doctor.h) and to an observer that names the nodes it hears, stops a
 * live source after --seconds, and prints the verdict. The exit status says
 * healthy (0) or not (1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/tigo_cli.h"
#include "io/log.h"
#include "io/net.h"
#include "sunwire/json.h"
#include "sunwire/tigo_observer.h"
#include "tigo/doctor.h"

#define TICK_MS 250
#define PROGRESS_EVERY_NS 5000000000LL

typedef struct doctor_ctx {
    tigo_cli *cli;
    sw_tigo_doctor doctor;
    sw_tigo_observer obs;
    bool live;                /* a serial port or a bridge: listen --seconds, then judge */
    bool progress;
    int64_t start_ns, next_progress_ns;
} doctor_ctx;

static int on_power(sw_tigo_observer *o, const sw_tigo_power_reading *r, void *user)
{
    doctor_ctx *c = user;
    (void)o;
    sw_tigo_doctor_note_node(&c->doctor, r->gateway_id, r->node_id);
    return 0;
}

static int on_bytes(void *p, const uint8_t *data, size_t n, int64_t unix_ns)
{
    doctor_ctx *c = p;
    sw_tigo_doctor_push(&c->doctor, data, n, unix_ns);
    sw_tigo_observer_push(&c->obs, data, n, unix_ns, NULL);
    return 0;
}

static void print_progress(doctor_ctx *c, int64_t elapsed_ns)
{
    sw_tigo_doctor_result r;
    sw_tigo_doctor_verdict_get(&c->doctor, 0, &r);
    fprintf(stderr, "doctor: %3lld s: %llu bytes, %llu frames, %llu damaged, %u gateways, %u nodes\n",
            (long long)(elapsed_ns / 1000000000LL), (unsigned long long)r.bytes, (unsigned long long)r.frames,
            (unsigned long long)r.damaged, r.gateways, r.nodes);
}

static int64_t on_tick(sw_loop *loop, uint64_t id, void *user)
{
    doctor_ctx *c = user;
    (void)id;
    int64_t now = sw_now_monotonic_ns();
    if (c->progress && now >= c->next_progress_ns) {
        print_progress(c, now - c->start_ns);
        c->next_progress_ns += PROGRESS_EVERY_NS;
    }
    if (c->live && now - c->start_ns >= (int64_t)c->cli->args->seconds * 1000000000LL) {
        sw_loop_stop(loop);
        return -1;
    }
    return TICK_MS;
}

static void print_json(tigo_cli *cli, const sw_tigo_doctor_result *r)
{
    char buf[2048];
    sw_json j;
    sw_json_init(&j, buf, sizeof buf);
    sw_json_object_begin(&j);
    sw_json_key(&j, "verdict");
    sw_json_string(&j, sw_tigo_doctor_verdict_name(r->verdict));
    sw_json_key(&j, "healthy");
    sw_json_bool(&j, r->verdict == SW_TIGO_DOCTOR_HEALTHY);
    sw_json_key(&j, "text");
    sw_json_string(&j, r->text);
    sw_json_key(&j, "seconds");
    sw_json_double(&j, r->seconds);
    sw_json_key(&j, "bytes");
    sw_json_uint(&j, r->bytes);
    sw_json_key(&j, "frames");
    sw_json_uint(&j, r->frames);
    sw_json_key(&j, "damaged");
    sw_json_uint(&j, r->damaged);
    sw_json_key(&j, "damaged_pct");
    sw_json_double(&j, r->damaged_pct);
    sw_json_key(&j, "frame_starts");
    sw_json_uint(&j, r->frame_starts);
    sw_json_key(&j, "garbage");
    sw_json_uint(&j, r->garbage);
    sw_json_key(&j, "controller_frames");
    sw_json_uint(&j, r->controller_frames);
    sw_json_key(&j, "gateway_frames");
    sw_json_uint(&j, r->gateway_frames);
    sw_json_key(&j, "gateways");
    sw_json_uint(&j, r->gateways);
    sw_json_key(&j, "nodes");
    sw_json_uint(&j, r->nodes);
    sw_json_key(&j, "line");
    if (r->line_match) {
        sw_json_object_begin(&j);
        sw_json_key(&j, "inverted");
        sw_json_bool(&j, r->inverted);
        sw_json_key(&j, "baud");
        sw_json_uint(&j, r->rx_baud);
        sw_json_key(&j, "bus_baud");
        sw_json_uint(&j, 38400);
        sw_json_key(&j, "matches");
        sw_json_uint(&j, r->line_hits);
        sw_json_object_end(&j);
    } else {
        sw_json_null(&j);
    }
    sw_json_object_end(&j);
    const char *text = sw_json_finish(&j);
    tigo_emit_line(cli, text, strlen(text));
}

static void print_text(tigo_cli *cli, const sw_tigo_doctor_result *r)
{
    char line[512];
    tigo_emit_line(cli, r->text, strlen(r->text));
    char during[48] = "";
    if (r->seconds > 0.0)
        snprintf(during, sizeof during, " in %.1f s", r->seconds);
    int n = snprintf(line, sizeof line,
                     "  %llu bytes%s; %llu frames (%llu from the controller, %llu from gateways), %llu "
                     "damaged (%.1f%%), %llu frame starts, %llu runs of garbage",
                     (unsigned long long)r->bytes, during, (unsigned long long)r->frames,
                     (unsigned long long)r->controller_frames, (unsigned long long)r->gateway_frames,
                     (unsigned long long)r->damaged, r->damaged_pct, (unsigned long long)r->frame_starts,
                     (unsigned long long)r->garbage);
    if (n > 0)
        tigo_emit_line(cli, line, strlen(line));
    if (r->line_match) {
        n = snprintf(line, sizeof line, "  the frame-start pattern of that line came %llu times",
                     (unsigned long long)r->line_hits);
        if (n > 0)
            tigo_emit_line(cli, line, strlen(line));
    }
}

int tigo_cmd_doctor(tigo_cli *cli)
{
    /* A port that does not exist or a bridge that refuses is the answer: give up on the
     * first failed open (exit 2) rather than retry until --seconds are over, unless the
     * user asked for retries. */
    tigo_args args = *cli->args;
    if (args.reconnect_retry == 0) {
        args.reconnect_retry = 1;
        args.reconnect_delay = 0;
    }
    cli->args = &args;
    const tigo_args *a = cli->args;
    doctor_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        SW_LOGE(cli->log_target, "out of memory");
        return 1;
    }
    c->cli = cli;
    c->live = a->file == NULL;
    c->progress = a->verbose || isatty(STDERR_FILENO);
    c->start_ns = sw_now_monotonic_ns();
    c->next_progress_ns = c->start_ns + PROGRESS_EVERY_NS;
    sw_tigo_doctor_init(&c->doctor);
    sw_tigo_observer_init(&c->obs, 0, NULL, NULL);
    sw_tigo_observer_set_power_cb(&c->obs, on_power, c);
    if (c->live)
        SW_LOGI(cli->log_target, "listening for %llu s", (unsigned long long)a->seconds);
    cli->on_tick = on_tick;
    cli->tick_user = c;
    cli->tick_ms = TICK_MS;
    int rc = tigo_run(cli, on_bytes, c);
    cli->on_tick = NULL;
    if (rc == 2 || cli->out_failed) {
        free(c); /* the source could not be opened: that is the answer, and it was logged */
        return rc ? rc : 1;
    }
    sw_tigo_doctor_result r;
    sw_tigo_doctor_verdict_get(&c->doctor, c->live ? sw_now_realtime_ns() : 0, &r);
    if (c->live && r.bytes == 0)
        r.seconds = (double)(sw_now_monotonic_ns() - c->start_ns) / 1e9;
    if (a->json)
        print_json(cli, &r);
    else
        print_text(cli, &r);
    free(c);
    if (cli->out_failed)
        return 1;
    return r.verdict == SW_TIGO_DOCTOR_HEALTHY ? 0 : 1;
}
