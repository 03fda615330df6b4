/*
 * capture_to_json: a Tigo bus capture (pcapng) in, taptap's JSON lines out.
 *
 *   capture_to_json bus.pcapng
 *
 * Each captured packet carries the bytes the bus delivered and the time they
 * arrived. They go through the observer, and every power report and
 * infrastructure change is printed as the JSON line `taptap observe` prints,
 * so the output of this page of code equals `taptap observe --file bus.pcapng`
 * (with TZ=UTC: the timestamps are printed in UTC here).
 */
#include <stdio.h>
#include <stdlib.h>

#include <sunwire/io_capture.h>
#include <sunwire/tigo.h>

typedef struct out {
    sw_tigo_format fmt;   /* number and time texts, cached */
    char line[1 << 17];
} out;

static int on_event(sw_tigo_observer *obs, const sw_tigo_observer_event *ev, void *user)
{
    out *o = user;
    size_t len = 0;
    sw_err e = SW_ERR_NOT_FOUND;
    if (ev->kind == SW_TIGO_OBSERVER_POWER_REPORT)
        e = sw_tigo_format_power_fork(&o->fmt, &ev->u.power, o->line, sizeof o->line, &len);
    else if (ev->kind == SW_TIGO_OBSERVER_INFRASTRUCTURE)
        e = sw_tigo_format_infrastructure(sw_tigo_observer_state(obs), o->line, sizeof o->line, &len);
    if (e == SW_OK)
        printf("%.*s\n", (int)len, o->line);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: capture_to_json FILE.pcapng\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    sw_tigo_observer *obs = malloc(sizeof *obs);
    out *o = malloc(sizeof *o);
    static uint8_t block[1 << 16], chunk[1 << 16];
    if (!obs || !o)
        return 1;
    sw_tigo_format_init(&o->fmt, 0);
    sw_tigo_observer_init(obs, SW_TIGO_OBSERVER_REFERENCE, on_event, o); /* taptap 0.2.0's behaviour */
    sw_pcapng_reader reader;
    sw_pcapng_reader_init(&reader, block, sizeof block);

    sw_err e = SW_OK;
    size_t n;
    while (e == SW_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (size_t pos = 0; pos < n && e == SW_OK;) {
            size_t used = 0;
            bool got = false;
            sw_capture_packet pkt;
            e = sw_pcapng_reader_push(&reader, chunk + pos, n - pos, &used, &pkt, &got);
            pos += used;
            if (e == SW_OK && got)
                sw_tigo_observer_push(obs, pkt.data, pkt.len, pkt.unix_ns, NULL);
        }
    }
    if (e == SW_OK)
        e = sw_pcapng_reader_finish(&reader);
    if (e != SW_OK)
        fprintf(stderr, "%s: %s\n", argv[1], sw_err_message(e));
    fclose(f);
    free(obs);
    free(o);
    return e == SW_OK ? 0 : 1;
}
