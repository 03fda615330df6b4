/*
 * Fuzz target: the UART line model, the line doctor and the fault parser.
 *
 * Input: byte 0 picks the listener's rate, byte 1 bit 0 swaps the wires,
 * byte 2 the noise, byte 3 the gap between frames; the rest is cut into
 * frames sent through the line model into one doctor, and is also pushed
 * as it is into another, and read as a fault text. Nothing may crash or
 * leak, every verdict must be one of the named ones with a text, and the
 * line's bytes must come out in time order.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_faults.h"
#include "tigo/doctor.h"
#include "tigo/line.h"

static int64_t g_last;

static int on_byte(sw_tigo_line *line, uint8_t byte, int64_t t_ns, void *user)
{
    (void)line;
    if (t_ns < g_last)
        abort();
    g_last = t_ns;
    sw_tigo_doctor_push(user, &byte, 1, t_ns);
    return 0;
}

static void check(const sw_tigo_doctor *d)
{
    sw_tigo_doctor_result r;
    sw_tigo_doctor_verdict_get(d, 0, &r);
    if (strcmp(sw_tigo_doctor_verdict_name(r.verdict), "unknown") == 0 || r.text[0] == 0 ||
        !memchr(r.text, 0, sizeof r.text))
        abort();
    if (r.damaged_pct < 0.0 || r.damaged_pct > 100.0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_tigo_doctor *via_line, *direct;
    static sw_tigo_line *line;
    if (!via_line) {
        via_line = malloc(sizeof *via_line);
        direct = malloc(sizeof *direct);
        line = malloc(sizeof *line);
        if (!via_line || !direct || !line)
            abort();
        sw_tigo_doctor_init(via_line);
        sw_tigo_doctor_init(direct);
    }
    sw_tigo_doctor_reset(via_line);
    sw_tigo_doctor_reset(direct);

    /* the input as a fault text */
    char text[64];
    size_t tn = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, tn);
    text[tn] = 0;
    sw_sim_fault f;
    char err[160];
    if (sw_sim_fault_parse(text, &f, err, sizeof err) == SW_OK &&
        (f.kind <= SW_SIM_FAULT_NONE || f.kind >= SW_SIM_FAULT_KIND_COUNT || f.start_ns < 0 ||
         (f.end_ns != 0 && f.end_ns <= f.start_ns)))
        abort();

    sw_tigo_doctor_push(direct, data, size, 1);
    check(direct);
    if (size < 4)
        return 0;

    static const uint32_t rates[] = { 1200, 4800, 9600, 19200, 38400, 57600, 115200, 460800 };
    sw_tigo_line_config cfg = { SW_TIGO_LINE_BAUD, rates[data[0] % 8] + (data[0] >> 3) * 97u, (data[1] & 1) != 0,
                                (double)data[2] / 512.0, data[1] };
    if (sw_tigo_line_init(line, &cfg, on_byte, via_line) != SW_OK)
        abort();
    g_last = INT64_MIN;
    int64_t t = 1000000000LL;
    size_t pos = 4;
    while (pos < size) {
        size_t n = 1 + data[pos] % 64;
        pos++;
        if (n > size - pos)
            n = size - pos;
        sw_tigo_line_push(line, data + pos, n, t);
        pos += n;
        t += (int64_t)n * 260417 + (int64_t)data[3] * 50000; /* gaps of 0 to about 13 ms */
    }
    sw_tigo_line_finish(line);
    check(via_line);
    return 0;
}
