/*
 * gen_demo_capture.c: synthesise the bundled demo capture
 * (data/demo/tigo-demo.pcapng) with the project's own link encoder.
 *
 * The bus it invents: one CCA controller, one TAP gateway (ID 0x1201) and ten
 * TS4 optimizers (node IDs 2..11). It starts the way a controller wakes up:
 * gateway enumeration, ID assignment, identify, version, enumeration end and
 * a node-table walk, so the observer learns every barcode. Then the
 * controller polls the gateway every 100 ms; each optimizer reports on a
 * 4000-slot (20 s) period with its own phase, and the reports reach the
 * controller in the next poll or two after they were measured, a few per
 * response, the way a real gateway forwards them.
 *
 * Everything is derived from fixed constants and a fixed-seed generator, so
 * the output is identical on every run and machine (a test regenerates it and
 * compares). No clock is read.
 *
 * Usage: gen_demo_capture OUT.pcapng [SECONDS]   (default 180)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/io_capture.h"
#include "sunwire/tigo_link.h"

#define GATEWAY 0x1201u
#define ENUM_ADDR 0x1235u
#define N_NODES 10
#define FIRST_NODE 2
#define SLOT_NS 5000000LL
#define START_NS 1750500000000000000LL /* 2025-06-21T10:00:00Z, a bright morning */
#define POLL_NS 100000000LL
#define REPORT_PERIOD_SLOTS 4000
#define MAX_PER_RESPONSE 4

static const uint8_t gateway_addr[8] = { 0x04, 0xC0, 0x5B, 0x30, 0x00, 0x02, 0xBE, 0x16 };
static const uint8_t enum_magic[4] = { 0x37, 0x24, 0x92, 0x66 };
static const char version_text[] = "Mgate Version G8.59\rJul  6 2020\r16:51:51\rGW-H158.4.3S0.12\r";

typedef struct out {
    FILE *f;
    int64_t t_ns;
    unsigned long chunks;
} out;

static uint64_t rng_state = 0x5EED5EED12345678ULL;

/* xorshift64*: tiny, deterministic, good enough for noise. */
static double rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void node_addr(int i, uint8_t a[8])
{
    static const uint8_t base[8] = { 0x04, 0xC0, 0x5B, 0x40, 0x00, 0xA2, 0x34, 0x6F };
    memcpy(a, base, 8);
    a[7] = (uint8_t)(base[7] + 2 * i);
}

static void emit_chunk(out *o, const uint8_t *data, size_t n)
{
    uint8_t block[2048];
    size_t len = 0;
    if (sw_pcapng_encode_packet(block, sizeof block, &len, o->t_ns, data, n) != SW_OK ||
        fwrite(block, 1, len, o->f) != len) {
        fprintf(stderr, "gen_demo_capture: write failed\n");
        exit(1);
    }
    o->chunks++;
}

/* One frame as the bus carries it, stamped `after_ns` after the current time. */
static void frame(out *o, int64_t after_ns, uint16_t address, uint16_t type, const uint8_t *payload, size_t n)
{
    uint8_t wire[600];
    size_t len = 0;
    if (sw_tigo_link_encode(address, type, payload, n, 0, wire, sizeof wire, &len) != SW_OK) {
        fprintf(stderr, "gen_demo_capture: cannot encode frame type 0x%04x\n", type);
        exit(1);
    }
    o->t_ns += after_ns;
    /* Transmission time at 38400 baud (10 bits per byte) before the last byte is in. */
    o->t_ns += (int64_t)len * 260417;
    emit_chunk(o, wire, len);
}

static uint16_t slot_counter_at(int64_t t_ns)
{
    /* The gateway's counter started well before the capture; 0x957C-ish is arbitrary. */
    int64_t abs_slot = ((t_ns - START_NS) / SLOT_NS + 29500) % 48000;
    if (abs_slot < 0)
        abs_slot += 48000;
    return (uint16_t)(((abs_slot / 12000) << 14) | (abs_slot % 12000));
}

static void startup(out *o, uint8_t *seq)
{
    uint8_t p[64];
    const uint16_t to_gw = GATEWAY, from_gw = 0x8000u | GATEWAY;
    const uint16_t to_enum = ENUM_ADDR, from_enum = 0x8000u | ENUM_ADDR;

    frame(o, 0, to_gw, SW_TIGO_FT_PING_REQUEST, (const uint8_t[]){ 0x01 }, 1);
    frame(o, 8000000, from_gw, SW_TIGO_FT_PING_RESPONSE, (const uint8_t[]){ 0x01 }, 1);
    for (int i = 0; i < 3; i++) {
        memcpy(p, enum_magic, 4);
        sw_put_be16(p + 4, ENUM_ADDR);
        frame(o, 40000000, 0x0000, SW_TIGO_FT_ENUMERATION_START_REQUEST, p, 6);
        frame(o, 8000000, 0x8000, SW_TIGO_FT_ENUMERATION_START_RESPONSE, NULL, 0);
    }
    frame(o, 40000000, to_enum, SW_TIGO_FT_ENUMERATION_REQUEST, NULL, 0);
    memcpy(p, gateway_addr, 8);
    sw_put_be16(p + 8, ENUM_ADDR);
    frame(o, 8000000, from_enum, SW_TIGO_FT_ENUMERATION_RESPONSE, p, 10);
    memcpy(p, enum_magic, 4);
    memcpy(p + 4, gateway_addr, 8);
    sw_put_be16(p + 12, GATEWAY);
    frame(o, 40000000, to_enum, SW_TIGO_FT_ASSIGN_GATEWAY_ID_REQUEST, p, 14);
    frame(o, 8000000, from_enum, SW_TIGO_FT_ASSIGN_GATEWAY_ID_RESPONSE, NULL, 0);
    frame(o, 40000000, to_enum, SW_TIGO_FT_ENUMERATION_REQUEST, NULL, 0); /* nobody else answers */
    frame(o, 200000000, to_gw, SW_TIGO_FT_IDENTIFY_REQUEST, NULL, 0);
    memcpy(p, gateway_addr, 8);
    sw_put_be16(p + 8, GATEWAY);
    frame(o, 8000000, from_gw, SW_TIGO_FT_IDENTIFY_RESPONSE, p, 10);
    frame(o, 40000000, to_gw, SW_TIGO_FT_VERSION_REQUEST, NULL, 0);
    frame(o, 8000000, from_gw, SW_TIGO_FT_VERSION_RESPONSE, (const uint8_t *)version_text, strlen(version_text));
    frame(o, 40000000, to_gw, SW_TIGO_FT_ENUMERATION_END_REQUEST, NULL, 0);
    frame(o, 8000000, from_gw, SW_TIGO_FT_ENUMERATION_END_RESPONSE, NULL, 0);

    /* Node-table walk: pages of five, then an empty page that ends the table. */
    uint16_t start = 0;
    for (int page = 0; page < 3; page++) {
        uint8_t req[7] = { 0, 0, 0, 0x26, (*seq)++, 0, 0 };
        sw_put_be16(req + 5, start);
        frame(o, 40000000, to_gw, SW_TIGO_FT_COMMAND_REQUEST, req, sizeof req);
        uint8_t resp[5 + 4 + 10 * 5] = { 0x00, 0x0E, 0x00, 0x27, req[4] };
        int first = page == 0 ? 0 : page * 5;
        int count = page < 2 ? 5 : 0;
        sw_put_be16(resp + 5, (uint16_t)(count ? FIRST_NODE + first : start));
        sw_put_be16(resp + 7, (uint16_t)count);
        for (int k = 0; k < count; k++) {
            node_addr(first + k, resp + 9 + 10 * k);
            sw_put_be16(resp + 9 + 10 * k + 8, (uint16_t)(FIRST_NODE + first + k));
        }
        frame(o, 10000000, from_gw, SW_TIGO_FT_COMMAND_RESPONSE, resp, 9 + 10 * (size_t)count);
        start = (uint16_t)(FIRST_NODE + first + count);
    }
}

typedef struct pending {
    int node;
    int64_t measured_ns;
    int64_t arrives_ns;
    bool sent;
} pending;

/* A plausible operating point for node i at time t: a clear morning with a passing cloud. */
static void power_report(int i, int64_t t_ns, uint8_t out13[13])
{
    double minutes = (double)(t_ns - START_NS) / 60e9;
    double sun = 0.82 + 0.04 * minutes / 3.0;
    double cloud = 1.0 - 0.45 * exp(-pow((minutes - 1.6) / 0.35, 2.0)); /* a cloud around 1.6 min */
    double irr = sun * cloud * (0.97 + 0.03 * rnd());
    bool shaded = i == 3; /* one module under a chimney shadow */
    double vin = 33.6 + 1.4 * irr + 0.3 * rnd() - (shaded ? 3.8 : 0.0);
    double current = (shaded ? 5.2 : 8.4) * irr + 0.05 * rnd();
    double duty = shaded ? 0.76 : 1.0;
    double vout = shaded ? vin * duty * 0.93 : vin - 0.3 - 0.2 * rnd();
    double temp = 31.0 + 10.0 * irr + 0.8 * i * 0.1 + rnd();
    unsigned r_vin = (unsigned)lround(vin * 20.0) & 0xFFF;
    unsigned r_vout = (unsigned)lround(vout * 10.0) & 0xFFF;
    unsigned r_duty = (unsigned)lround(duty * 255.0) & 0xFF;
    unsigned r_cur = (unsigned)lround(current * 200.0) & 0xFFF;
    unsigned r_temp = (unsigned)lround(temp * 10.0) & 0xFFF;
    out13[0] = (uint8_t)(r_vin >> 4);
    out13[1] = (uint8_t)(((r_vin & 0xF) << 4) | (r_vout >> 8));
    out13[2] = (uint8_t)r_vout;
    out13[3] = (uint8_t)r_duty;
    out13[4] = (uint8_t)(r_cur >> 4);
    out13[5] = (uint8_t)(((r_cur & 0xF) << 4) | (r_temp >> 8));
    out13[6] = (uint8_t)r_temp;
    out13[7] = 0x81;
    out13[8] = 0x00;
    out13[9] = 0x6E;
    sw_put_be16(out13 + 10, slot_counter_at(t_ns));
    out13[12] = (uint8_t)(120 + 3 * i + (int)(8 * rnd()));
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s OUT.pcapng [SECONDS]\n", argv[0]);
        return 2;
    }
    long seconds = argc == 3 ? strtol(argv[2], NULL, 10) : 180;
    if (seconds <= 0 || seconds > 3600) {
        fprintf(stderr, "%s: SECONDS must be 1..3600\n", argv[0]);
        return 2;
    }
    out o = { .t_ns = START_NS };
    o.f = fopen(argv[1], "wb");
    if (!o.f) {
        perror(argv[1]);
        return 1;
    }
    uint8_t hdr[512];
    size_t n = 0;
    sw_pcapng_encode_header(hdr, sizeof hdr, &n, "sunwire gen_demo_capture", "demo RS-485 bus");
    fwrite(hdr, 1, n, o.f);

    uint8_t seq = 0x40;
    startup(&o, &seq);

    pending queue[256];
    size_t nq = 0;
    uint16_t pn = 0x1880;
    uint8_t dsn = 0x20;
    int64_t end_ns = START_NS + (int64_t)seconds * 1000000000LL;
    int64_t next_poll = (o.t_ns / POLL_NS + 1) * POLL_NS;
    int64_t next_measure[N_NODES];
    for (int i = 0; i < N_NODES; i++)
        next_measure[i] = o.t_ns + (int64_t)(300 + 370 * i) * SLOT_NS; /* each node its own phase */
    unsigned long polls = 0;

    while (next_poll < end_ns) {
        /* Measurements taken since the last poll join the gateway's queue. */
        for (int i = 0; i < N_NODES; i++) {
            while (next_measure[i] <= next_poll && nq < 256) {
                queue[nq++] = (pending){ .node = i, .measured_ns = next_measure[i],
                                         .arrives_ns = next_measure[i] + 400000000LL + (int64_t)(rnd() * 1.5e9) };
                next_measure[i] += REPORT_PERIOD_SLOTS * SLOT_NS;
            }
        }
        o.t_ns = next_poll;
        uint8_t req[5] = { 0x00, 0x01, 0, 0, 0x04 };
        sw_put_be16(req + 2, pn);
        frame(&o, 0, GATEWAY, SW_TIGO_FT_RECEIVE_REQUEST, req, sizeof req);
        uint16_t sc = slot_counter_at(o.t_ns);

        uint8_t resp[250];
        size_t k = 0;
        sw_put_be16(resp, (polls % 16 == 0) ? 0x00E0 : 0x00FF);
        k = 2;
        if (polls % 16 == 0) {
            resp[k++] = (uint8_t)nq;  /* rx buffers used */
            resp[k++] = 0x0E;         /* tx buffers free */
            resp[k++] = 0x00; resp[k++] = 0x01;
            resp[k++] = 0x02; resp[k++] = 0x00;
            resp[k++] = (uint8_t)(pn >> 8);
        }
        resp[k++] = (uint8_t)pn;
        sw_put_be16(resp + k, sc);
        k += 2;
        int carried = 0;
        for (size_t q = 0; q < nq && carried < MAX_PER_RESPONSE; q++) {
            if (queue[q].sent || queue[q].arrives_ns > o.t_ns)
                continue;
            int i = queue[q].node;
            resp[k++] = 0x31;
            sw_put_be16(resp + k, (uint16_t)(FIRST_NODE + i));
            sw_put_be16(resp + k + 2, (uint16_t)(0x0100 + 0x10 * i));
            resp[k + 4] = dsn;
            resp[k + 5] = 13;
            power_report(i, queue[q].measured_ns, resp + k + 6);
            k += 6 + 13;
            queue[q].sent = true;
            carried++;
        }
        if (carried)
            dsn++;
        frame(&o, 12000000 + (int64_t)(rnd() * 6e6), 0x8000u | GATEWAY, SW_TIGO_FT_RECEIVE_RESPONSE, resp, k);
        if (carried)
            pn++; /* the controller acknowledges by asking for the next packet number */
        /* Drop what was delivered. */
        size_t w = 0;
        for (size_t q = 0; q < nq; q++)
            if (!queue[q].sent)
                queue[w++] = queue[q];
        nq = w;
        polls++;
        next_poll += POLL_NS;
    }
    if (fclose(o.f) != 0) {
        perror(argv[1]);
        return 1;
    }
    fprintf(stderr, "gen_demo_capture: %lu chunks, %lu polls, %ld s of bus traffic\n", o.chunks, polls, seconds);
    return 0;
}
