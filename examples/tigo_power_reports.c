/*
 * tigo_power_reports: Tigo bus bytes in, one line per optimizer power report out.
 *
 * Reads the raw RS-485 bytes of a Tigo TAP bus (a serial port, a TCP bridge,
 * or a file such as `sunwire tigo simulate --file bus.raw` writes) from
 * standard input, pushes them into an observer, and prints every power
 * report it decodes, with its identity and physical values.
 *
 *   sunwire tigo simulate --file - --duration 600 | tigo_power_reports
 *
 * The observer does all the protocol work; this program only reads bytes,
 * stamps them with the time they arrived and prints what comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sunwire/tigo.h>

static int on_power(sw_tigo_observer *obs, const sw_tigo_power_reading *r, void *user)
{
    (void)obs;
    unsigned long *count = user;
    (*count)++;
    printf("gateway %u node %u barcode %s: %g V in, %g V out, %g A, %g degC, duty %g, rssi %u\n",
           r->gateway_id, r->node_id, r->barcode[0] ? r->barcode : "-", r->voltage_in, r->voltage_out,
           r->current, r->temperature, r->duty_cycle, r->rssi);
    return 0; /* go on; non-zero would stop the push here */
}

int main(void)
{
    /* The observer holds the whole bus state (a few hundred KiB): keep it off the stack. */
    sw_tigo_observer *obs = malloc(sizeof *obs);
    if (!obs)
        return 1;
    unsigned long count = 0;
    sw_tigo_observer_init(obs, 0, NULL, NULL); /* no generic events wanted */
    sw_tigo_observer_set_power_cb(obs, on_power, &count);

    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        sw_tigo_observer_push(obs, buf, (size_t)n, now_ns, NULL);
    }
    const sw_tigo_link_counters *lc = sw_tigo_observer_get_link_counters(obs);
    fprintf(stderr, "%lu power reports from %llu frames (%llu CRC errors)\n", count,
            (unsigned long long)lc->frames, (unsigned long long)lc->checksums);
    free(obs);
    return n < 0 ? 1 : 0;
}
