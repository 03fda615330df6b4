/*
 * bench_tigo: throughput and memory of the Tigo decoding path.
 *
 * Builds a synthetic bus stream (two gateways; each poll is a receive request
 * followed by a receive response carrying power reports, which is what a busy
 * bus carries) with the project's own link encoder, then measures:
 *   1. the link layer alone (bytes -> CRC-checked frames),
 *   2. full decode with no output (link -> transport -> PV -> observer events),
 *   3. `sunwire tigo observe --file` writing JSON lines to /dev/null,
 *   4. `sunwire tigo peek-frames --file` writing to /dev/null,
 *   5. the taptap persona's `observe` and `peek-frames` (taptap's Debug lines)
 *      on the same file,
 * the last ones as real processes on a file, with their peak RSS, and for
 * `taptap observe` the largest private memory (Private_Clean + Private_Dirty
 * in /proc/PID/smaps_rollup) seen while it ran.
 *
 * Usage: bench_tigo [MEGABYTES] [PATH-TO-SUNWIRE]   (defaults: 100, ./sunwire)
 *        bench_tigo MEGABYTES --write FILE         (only write the stream, e.g. for a profiler)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "sunwire/tigo.h"

/* CPU time of this process: steadier than wall time on a machine doing other work. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static size_t put_frame(uint8_t *out, size_t cap, uint16_t addr, uint16_t type, const uint8_t *pl, size_t n)
{
    size_t len = 0;
    if (sw_tigo_link_encode(addr, type, pl, n, 0, out, cap, &len) != SW_OK) {
        fprintf(stderr, "bench_tigo: encoder failed\n");
        exit(1);
    }
    return len;
}

/* One poll of one gateway: request, then a response with `reports` power reports. */
static size_t put_poll(uint8_t *out, size_t cap, uint16_t gw, uint16_t *pn, uint16_t *slot, int reports)
{
    size_t len = 0;
    uint8_t req[5] = { 0x00, 0x01, (uint8_t)(*pn >> 8), (uint8_t)*pn, 0x04 };
    len += put_frame(out + len, cap - len, gw, 0x0148, req, sizeof req);

    uint8_t rsp[256];
    size_t r = 0;
    rsp[r++] = 0x00; rsp[r++] = 0xFE;          /* status: rx buffers present, short packet number */
    rsp[r++] = (uint8_t)reports;               /* rx buffers used */
    rsp[r++] = (uint8_t)*pn;                   /* packet number, low byte */
    rsp[r++] = (uint8_t)(*slot >> 8); rsp[r++] = (uint8_t)*slot;
    for (int i = 0; i < reports; i++) {
        uint16_t node = (uint16_t)(2 + next_rand() % 40);
        rsp[r++] = 0x31;
        rsp[r++] = (uint8_t)(node >> 8); rsp[r++] = (uint8_t)node;
        rsp[r++] = 0x01; rsp[r++] = (uint8_t)node; /* short address */
        rsp[r++] = (uint8_t)next_rand();           /* DSN */
        rsp[r++] = 13;
        uint16_t vin = (uint16_t)(500 + next_rand() % 300), vout = (uint16_t)(250 + next_rand() % 150);
        uint16_t cur = (uint16_t)(next_rand() % 2000), temp = (uint16_t)(150 + next_rand() % 300);
        rsp[r++] = (uint8_t)(vin >> 4);
        rsp[r++] = (uint8_t)((vin & 0xF) << 4 | vout >> 8);
        rsp[r++] = (uint8_t)vout;
        rsp[r++] = (uint8_t)(200 + next_rand() % 56);
        rsp[r++] = (uint8_t)(cur >> 4);
        rsp[r++] = (uint8_t)((cur & 0xF) << 4 | temp >> 8);
        rsp[r++] = (uint8_t)temp;
        rsp[r++] = 0x81; rsp[r++] = 0x00; rsp[r++] = 0x6E;
        uint16_t measured = *slot >= 1000 ? (uint16_t)(*slot - 500) : *slot;
        rsp[r++] = (uint8_t)(measured >> 8); rsp[r++] = (uint8_t)measured;
        rsp[r++] = (uint8_t)(100 + next_rand() % 100);
    }
    len += put_frame(out + len, cap - len, (uint16_t)(gw | 0x8000), 0x0149, rsp, r);
    *pn = (uint16_t)(*pn + (reports ? 1 : 0));
    /* 20 slots (100 ms) per poll, staying inside epoch 0 and slot numbers 0..11999. */
    *slot = (uint16_t)((*slot + 20) % 12000);
    return len;
}

static uint8_t *make_stream(size_t target, size_t *len_out, size_t *reports_out)
{
    uint8_t *buf = malloc(target + 4096);
    if (!buf) { perror("malloc"); exit(1); }
    size_t len = 0, reports = 0;
    uint16_t pn[2] = { 0x1000, 0x2000 }, slot[2] = { 100, 6000 };
    const uint16_t gws[2] = { 0x1201, 0x1202 };
    while (len < target) {
        int g = (int)(next_rand() & 1);
        int n = 1 + (int)(next_rand() % 4);
        len += put_poll(buf + len, target + 4096 - len, gws[g], &pn[g], &slot[g], n);
        reports += (size_t)n;
    }
    *len_out = len;
    *reports_out = reports;
    return buf;
}

static size_t frames_seen;
static int on_frame(sw_tigo_link_receiver *owner, const sw_tigo_frame *f, void *user)
{
    (void)owner; (void)user; (void)f; frames_seen++;
    return 0;
}
static size_t power_seen;
static int on_event(sw_tigo_observer *owner, const sw_tigo_observer_event *e, void *user)
{
    (void)owner;
    (void)user;
    if (e->kind == SW_TIGO_OBSERVER_POWER_REPORT)
        power_seen++;
    return 0;
}

/* Private memory (Private_Clean + Private_Dirty) of a running process in KiB, or -1. */
static long private_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long total = -1, v;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Private_Clean: %ld kB", &v) == 1 || sscanf(line, "Private_Dirty: %ld kB", &v) == 1)
            total = (total < 0 ? 0 : total) + v;
    }
    fclose(f);
    return total;
}

/*
 * Run `path` with argv on a file with stdout to /dev/null; returns its CPU
 * seconds, stores its peak RSS and the largest private memory seen while it
 * ran (sampled every millisecond) in KiB.
 */
static double run_prog(const char *path, char *const argv[], long *rss_kib, long *priv_kib)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(path, argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    long priv = -1;
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid)
            break;
        long p = private_kib(pid);
        if (p > priv)
            priv = p;
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    double t = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec * 1e-6;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_tigo: %s %s failed (status %d)\n", argv[0], argv[1], status);
        exit(1);
    }
    *rss_kib = ru.ru_maxrss;
    if (priv_kib)
        *priv_kib = priv;
    return t;
}

/* `sunwire tigo SUB --file FILE` */
static double run_cli(const char *prog, const char *sub, const char *file, long *rss_kib)
{
    char *const argv[] = { (char *)prog, (char *)"tigo", (char *)sub, (char *)"--file", (char *)file, NULL };
    return run_prog(prog, argv, rss_kib, NULL);
}

/* `taptap SUB --file FILE`: the persona next to the program (taptap in its directory), else
 * the program itself under the name taptap. */
static double run_taptap(const char *prog, const char *sub, const char *file, long *rss_kib, long *priv_kib)
{
    char path[4096];
    const char *slash = strrchr(prog, '/');
    snprintf(path, sizeof path, "%.*staptap", slash ? (int)(slash - prog + 1) : 0, prog);
    if (access(path, X_OK) != 0)
        snprintf(path, sizeof path, "%s", prog);
    char *const argv[] = { (char *)"taptap", (char *)sub, (char *)"--file", (char *)file, NULL };
    return run_prog(path, argv, rss_kib, priv_kib);
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 100;
    const char *prog = argc > 2 ? argv[2] : "./sunwire";
    size_t len, reports;
    uint8_t *stream = make_stream(mb * 1000000, &len, &reports);
    double mbytes = (double)len / 1e6;
    if (argc > 3 && strcmp(argv[2], "--write") == 0) {
        FILE *f = fopen(argv[3], "wb");
        if (!f || fwrite(stream, 1, len, f) != len || fclose(f) != 0) {
            perror(argv[3]);
            return 1;
        }
        return 0;
    }
    printf("stream: %.1f MB, %zu power reports, 2 gateways (rates per CPU second)\n", mbytes, reports);

    /* 1. link layer */
    static sw_tigo_link_receiver rx;
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        frames_seen = 0;
        sw_tigo_link_receiver_init(&rx, SW_TIGO_LINK_MODE_IMPROVED, on_frame, NULL);
        double t0 = now_s();
        for (size_t off = 0; off < len; off += 1024)
            sw_tigo_link_receiver_push(&rx, stream + off, len - off < 1024 ? len - off : 1024, NULL);
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    printf("link layer alone:          %8.0f MB/s  (%zu frames)\n", mbytes / best, frames_seen);

    /* 2. full decode, no output */
    sw_tigo_observer *obs = malloc(sizeof *obs);
    if (!obs) return 1;
    best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        power_seen = 0;
        sw_tigo_observer_init(obs, 0, on_event, NULL);
        int64_t clock = 1724509001000000000LL;
        double t0 = now_s();
        for (size_t off = 0; off < len; off += 1024) {
            sw_tigo_observer_push(obs, stream + off, len - off < 1024 ? len - off : 1024, clock, NULL);
            clock += 1000000;
        }
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    printf("full decode, no output:    %8.0f MB/s  (%zu power reports)\n", mbytes / best, power_seen);
    if (power_seen != reports) {
        fprintf(stderr, "bench_tigo: expected %zu power reports, decoded %zu\n", reports, power_seen);
        return 1;
    }

    /* 3 and 4: the real program on a file. Free the big buffers first: a
     * forked child starts with the parent's pages and its peak RSS would
     * count them. */
    char path[] = "/tmp/sunwire-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, stream, len) != (ssize_t)len) { perror("write"); return 1; }
    close(fd);
    free(obs);
    obs = NULL;
    free(stream);
    stream = NULL;
    long rss;
    double t = run_cli(prog, "observe", path, &rss);
    printf("observe -> /dev/null:      %8.0f MB/s  (peak RSS %.2f MiB)\n", mbytes / t, rss / 1024.0);
    t = run_cli(prog, "peek-frames", path, &rss);
    printf("peek-frames -> /dev/null:  %8.0f MB/s  (peak RSS %.2f MiB)\n", mbytes / t, rss / 1024.0);
    long priv;
    t = run_taptap(prog, "observe", path, &rss, &priv);
    printf("taptap observe:            %8.0f MB/s  (peak RSS %.2f MiB, private %ld KiB)\n", mbytes / t, rss / 1024.0,
           priv);
    t = run_taptap(prog, "peek-frames", path, &rss, NULL);
    printf("taptap peek-frames:        %8.0f MB/s  (peak RSS %.2f MiB)\n", mbytes / t, rss / 1024.0);
    unlink(path);
    return 0;
}
