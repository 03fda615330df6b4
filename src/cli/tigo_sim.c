/*
 * tigo_sim.c: `sunwire tigo simulate`, a stand-in for a whole Tigo
 * installation on the other end of a serial line or an RS-485 bridge.
 *
 * Layer: program edge. It trusts the generator for the bytes and owns
 * everything the generator refuses to do: the clock, sockets, the
 * pseudo-terminal, files, signals. Slow or vanished readers never stall the
 * bus: a real bus does not wait for listeners either, so a TCP client that
 * falls too far behind is dropped, and bytes a full pseudo-terminal refuses
 * are lost the way a serial adapter's overrun loses them.
 */
/* posix_openpt, grantpt, unlockpt and ptsname are XSI interfaces. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/tigo_sim.h"
#include "sunwire/core.h"
#include "sunwire/io_capture.h"
#include "io/net.h"
#include "io/stop_signals.h"

#define MAX_CLIENTS 32
#define CLIENT_BACKLOG (1u << 20) /* bytes a client may lag behind before it is dropped */
#define BATCH 65536

typedef struct client {
    int fd;
    uint8_t *pend;
    size_t n;
} client;

struct tsim_runner {
    sw_loop *loop;
    sw_tigo_sim *sim;
    tsim_runner_opts o;
    int64_t wall0_ns, bus0_ns, bus_now_ns;
    uint64_t timer;
    int listen_fd;
    uint16_t port;
    client clients[MAX_CLIENTS];
    uint64_t accepted;
    int pty_master, pty_slave;
    char pty_path[128];
    uint64_t pty_dropped;
    uint8_t batch[BATCH];
};

/* ---- time text ------------------------------------------------------------------- */
static bool digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

sw_err tsim_parse_time(const char *text, int64_t now_ns, int64_t *out_ns)
{
    int64_t secs;
    if (strcmp(text, "now") == 0) {
        *out_ns = now_ns;
        return SW_OK;
    }
    if (text[0] == '@') {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(text + 1, &end, 10);
        if (end == text + 1 || *end || text[1] < '0' || text[1] > '9')
            return SW_ERR_BAD_NUMBER;
        if (errno == ERANGE || v > TSIM_START_MAX_S)
            return SW_ERR_OUT_OF_RANGE;
        secs = v;
    } else {
        /* YYYY-MM-DD[T ]HH:MM[:SS][Z|+HH:MM|-HH:MM]; no zone = UTC */
        size_t n = strlen(text);
        int y, mo, d, hh, mm, ss = 0;
        if (n < 16 || !digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &mo) || text[7] != '-' ||
            !digits(text + 8, 2, &d) || (text[10] != 'T' && text[10] != ' ') || !digits(text + 11, 2, &hh) ||
            text[13] != ':' || !digits(text + 14, 2, &mm))
            return SW_ERR_BAD_NUMBER;
        const char *p = text + 16;
        if (*p == ':') {
            if (!digits(p + 1, 2, &ss))
                return SW_ERR_BAD_NUMBER;
            p += 3;
        }
        int32_t off = 0;
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
                return SW_ERR_BAD_NUMBER;
            off = (int32_t)((oh * 60 + om) * 60) * (*p == '-' ? -1 : 1);
            p += 6;
        }
        if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
            return SW_ERR_BAD_NUMBER;
        int64_t days = sw_days_from_civil(y, (unsigned)mo, (unsigned)d);
        secs = (days * 86400 + hh * 3600 + mm * 60 + ss) - off;
    }
    if (secs < TSIM_START_MIN_S || secs > TSIM_START_MAX_S)
        return SW_ERR_OUT_OF_RANGE;
    return sw_time_ns_from_s(secs, 0, out_ns);
}

const char *tsim_time_error(sw_err e)
{
    return e == SW_ERR_OUT_OF_RANGE ? "is outside 1970-01-01 .. 2199-12-31 UTC, the range a simulation can start in"
                                    : "cannot be read as a time (use now, @UNIX or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM])";
}

/* ---- outputs ------------------------------------------------------------------ */
static void drop_client(tsim_runner *r, client *c)
{
    sw_loop_del_fd(r->loop, c->fd);
    close(c->fd);
    free(c->pend);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static void client_flush(tsim_runner *r, client *c)
{
    while (c->n > 0) {
        ssize_t w = send(c->fd, c->pend, c->n, MSG_NOSIGNAL);
        if (w > 0) {
            memmove(c->pend, c->pend + w, c->n - (size_t)w);
            c->n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        drop_client(r, c);
        return;
    }
    sw_loop_set_fd_events(r->loop, c->fd, SW_LOOP_READ | (c->n ? SW_LOOP_WRITE : 0));
}

static void on_client(sw_loop *loop, int fd, int events, void *user)
{
    tsim_runner *r = user;
    (void)loop;
    client *c = NULL;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (r->clients[i].fd == fd)
            c = &r->clients[i];
    if (!c)
        return;
    if (events & SW_LOOP_READ) {
        /* an observer never talks; whatever comes is read and ignored, EOF ends the session */
        uint8_t junk[512];
        ssize_t n = recv(fd, junk, sizeof junk, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            drop_client(r, c);
            return;
        }
    }
    if (events & SW_LOOP_WRITE)
        client_flush(r, c);
}

static void on_accept(sw_loop *loop, int fd, int events, void *user)
{
    tsim_runner *r = user;
    (void)events;
    int cfd = accept(fd, NULL, NULL);
    if (cfd < 0)
        return;
    client *c = NULL;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (r->clients[i].fd < 0) {
            c = &r->clients[i];
            break;
        }
    if (!c || sw_fd_set_nonblocking(cfd, 1) != SW_OK) {
        close(cfd);
        return;
    }
    c->fd = cfd;
    c->n = 0;
    c->pend = malloc(CLIENT_BACKLOG);
    if (!c->pend || sw_loop_add_fd(loop, cfd, SW_LOOP_READ, on_client, r) != SW_OK) {
        free(c->pend);
        close(cfd);
        c->fd = -1;
        c->pend = NULL;
        return;
    }
    r->accepted++;
}

static void fan_out(tsim_runner *r, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        client *c = &r->clients[i];
        if (c->fd < 0)
            continue;
        if (c->n + n > CLIENT_BACKLOG) {
            drop_client(r, c); /* too slow to follow the bus */
            continue;
        }
        memcpy(c->pend + c->n, p, n);
        c->n += n;
        client_flush(r, c);
    }
    if (r->pty_master >= 0) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(r->pty_master, p + off, n - off);
            if (w > 0) {
                off += (size_t)w;
            } else if (w < 0 && errno == EINTR) {
                continue;
            } else {
                r->pty_dropped += n - off; /* nobody reading: an overrun, as on a real adapter */
                break;
            }
        }
    }
}

static void on_pty_echo(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop;
    (void)events;
    (void)user;
    uint8_t junk[512];
    while (read(fd, junk, sizeof junk) > 0) {
    }
}

static int64_t on_tick(sw_loop *loop, uint64_t id, void *user)
{
    tsim_runner *r = user;
    (void)id;
    int64_t now = sw_now_monotonic_ns();
    int64_t target = r->bus0_ns + (int64_t)((double)(now - r->wall0_ns) * r->o.speed);
    size_t used = 0;
    for (;;) {
        int64_t t = sw_tigo_sim_peek_time(r->sim);
        if (t > target || (r->o.end_bus_ns && t > r->o.end_bus_ns))
            break;
        if (used + SW_TIGO_SIM_CHUNK_MAX > sizeof r->batch) {
            fan_out(r, r->batch, used);
            used = 0;
        }
        size_t n = 0;
        if (sw_tigo_sim_next(r->sim, r->batch + used, sizeof r->batch - used, &n, &t) != SW_OK)
            break;
        used += n;
        r->bus_now_ns = t;
    }
    if (used)
        fan_out(r, r->batch, used);
    if (r->o.end_bus_ns && sw_tigo_sim_peek_time(r->sim) > r->o.end_bus_ns) {
        sw_loop_stop(loop);
        r->timer = 0;
        return -1;
    }
    int64_t next = sw_tigo_sim_peek_time(r->sim);
    double wait_ms = (double)(next - target) / r->o.speed / 1e6;
    if (wait_ms < 1.0)
        wait_ms = 1.0;
    if (wait_ms > 100.0)
        wait_ms = 100.0;
    return (int64_t)wait_ms;
}

static bool open_pty(tsim_runner *r, char *err, size_t errcap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
        snprintf(err, errcap, "cannot create a pseudo-terminal: %s", strerror(errno));
        if (m >= 0)
            close(m);
        return false;
    }
    const char *name = ptsname(m);
    if (!name || strlen(name) >= sizeof r->pty_path) {
        snprintf(err, errcap, "cannot name the pseudo-terminal");
        close(m);
        return false;
    }
    snprintf(r->pty_path, sizeof r->pty_path, "%s", name);
    /* Keep the slave open and raw: otherwise the line discipline echoes and
     * edits the bus bytes until a reader sets the port up, and the master
     * reports EIO whenever no reader happens to be attached. */
    int s = open(r->pty_path, O_RDWR | O_NOCTTY);
    struct termios tio;
    if (s < 0 || tcgetattr(s, &tio) != 0) {
        snprintf(err, errcap, "cannot open %s: %s", r->pty_path, strerror(errno));
        close(m);
        if (s >= 0)
            close(s);
        return false;
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, B38400);
    cfsetospeed(&tio, B38400);
    tcsetattr(s, TCSANOW, &tio);
    sw_fd_set_nonblocking(m, 1);
    r->pty_master = m;
    r->pty_slave = s;
    sw_loop_add_fd(r->loop, m, SW_LOOP_READ, on_pty_echo, r);
    return true;
}

tsim_runner *tsim_runner_start(sw_loop *loop, sw_tigo_sim *sim, const tsim_runner_opts *o, char *err, size_t errcap)
{
    if (!(o->speed > 0.0)) {
        snprintf(err, errcap, "speed must be positive");
        return NULL;
    }
    tsim_runner *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    r->loop = loop;
    r->sim = sim;
    r->o = *o;
    r->listen_fd = r->pty_master = r->pty_slave = -1;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        r->clients[i].fd = -1;
    if (o->bind) {
        sw_err e = sw_tcp_listen(o->bind, o->port, 16, &r->listen_fd, &r->port);
        if (e != SW_OK) {
            snprintf(err, errcap, "cannot listen on %s:%u: %s", o->bind, (unsigned)o->port, sw_err_message(e));
            tsim_runner_stop(r);
            return NULL;
        }
        sw_fd_set_nonblocking(r->listen_fd, 1);
        sw_loop_add_fd(loop, r->listen_fd, SW_LOOP_READ, on_accept, r);
    }
    if (o->pty && !open_pty(r, err, errcap)) {
        tsim_runner_stop(r);
        return NULL;
    }
    r->wall0_ns = sw_now_monotonic_ns();
    r->bus0_ns = sw_tigo_sim_peek_time(sim);
    r->bus_now_ns = r->bus0_ns;
    r->timer = sw_loop_add_timer(loop, 0, on_tick, r);
    return r;
}

uint16_t tsim_runner_port(const tsim_runner *r) { return r->port; }
const char *tsim_runner_pty_path(const tsim_runner *r) { return r->pty_master >= 0 ? r->pty_path : NULL; }
int64_t tsim_runner_bus_now(const tsim_runner *r) { return r->bus_now_ns; }
uint64_t tsim_runner_clients(const tsim_runner *r)
{
    uint64_t n = 0;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        n += r->clients[i].fd >= 0;
    return n;
}

void tsim_runner_stop(tsim_runner *r)
{
    if (!r)
        return;
    if (r->timer)
        sw_loop_del_timer(r->loop, r->timer);
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (r->clients[i].fd >= 0)
            drop_client(r, &r->clients[i]);
    if (r->listen_fd >= 0) {
        sw_loop_del_fd(r->loop, r->listen_fd);
        close(r->listen_fd);
    }
    if (r->pty_master >= 0) {
        sw_loop_del_fd(r->loop, r->pty_master);
        close(r->pty_master);
    }
    if (r->pty_slave >= 0)
        close(r->pty_slave);
    free(r);
}

/* ---- the command ------------------------------------------------------------------ */
static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s simulate [OPTIONS]\n"
            "\n"
            "Simulate a Tigo installation: a CCA polling TAP gateways whose TS4 optimizers report\n"
            "values from a simulated day (sun, clouds, temperature). Deterministic from --seed\n"
            "and --start. The simulator only ever talks; it never needs an answer.\n"
            "\n"
            "Output (one of):\n"
            "  --tcp                  serve the bus on a TCP port like an RS-485-to-Ethernet bridge\n"
            "                         (every client gets the same stream); prints \"listening on HOST:PORT\"\n"
            "  --port PORT            TCP port (default: any free port; implies --tcp)\n"
            "  --bind ADDR            TCP address (default 127.0.0.1)\n"
            "  --pty                  create a pseudo-terminal and print its path, for --serial PATH\n"
            "  --file PATH            write the bytes to a file ('-' = stdout)\n"
            "  --format raw|pcapng    file format (default raw; pcapng is what --file of observe replays)\n"
            "\n"
            "Time:\n"
            "  --start TIME           bus start: now (default), @UNIX, or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]\n"
            "  --speed N              N simulated seconds per real second (default 1; files: as fast as possible)\n"
            "  --duration SECONDS     stop after this much simulated time (required for unpaced files)\n"
            "\n"
            "Installation:\n"
            "  --gateways N           TAPs on the bus (1-%d, default 1)\n"
            "  --panels M             optimizers per TAP (1-%d, default 10)\n"
            "  --seed N               seed for addresses, phases and the weather (default 1)\n"
            "  --firmware classic|4   CCA firmware generation (default classic)\n"
            "  --clouds / --no-clouds passing clouds (default on)\n"
            "  --shaded               the third panel of each TAP is shaded mornings and afternoons\n"
            "  --failing              the last optimizer of the first TAP is failing\n"
            "  --radio-config         the CCA reads each TAP's radio configuration (with the network key)\n"
            "                         after enumerating, as a real one does at start\n"
            "  --latitude DEG --longitude DEG  where the plant is (default 50, 10)\n"
            "\n"
            "Faults (repeatable; --fault list shows every kind):\n"
            "  --fault KIND[=VALUE|:ARGS][@START[-END]]\n"
            "                         inject a fault from START to END, offsets from the bus start\n"
            "                         (number with unit s, m, h or d; default: the whole run), e.g.\n"
            "                         --fault inverted, --fault baud=9600@10m, --fault noise=0.01@5m-20m;\n"
            "                         installation faults for the watchdog: no-polling, shrink[=N],\n"
            "                         firmware (the first TAP updated, END rolls back), pv-off (rapid shutdown)\n",
            prog, SW_TIGO_SIM_MAX_GATEWAYS, SW_TIGO_SIM_MAX_PANELS);
    fprintf(f,
            "  --fault KIND[:GATEWAY.PANEL][=VALUE][@START[-END]]\n"
            "                         break one panel (GATEWAY.PANEL from 1, default 1.1) from START to END\n"
            "                         after the start (e.g. 30m, 2h; default the whole run); repeatable:\n");
    size_t nf = 0;
    const sw_sim_panel_fault_info *ft = sw_sim_panel_fault_table(&nf);
    for (size_t i = 0; i < nf; i++)
        fprintf(f, "    %-8s %-10s %s\n", ft[i].name, ft[i].value_name ? ft[i].value_name : "", ft[i].help);
}

static void list_faults(FILE *f)
{
    size_t n = 0;
    const sw_sim_fault_info *t = sw_sim_fault_table(&n);
    for (size_t i = 0; i < n; i++) {
        char head[64];
        if (t[i].arg_name)
            snprintf(head, sizeof head, "%s%s%s%s", t[i].name, t[i].arg_required ? "=" : "[=",
                     t[i].arg_name, t[i].arg_required ? "" : "]");
        else
            snprintf(head, sizeof head, "%s", t[i].name);
        fprintf(f, "  %-22s %s\n", head, t[i].help);
    }
    size_t nf = 0;
    const sw_sim_panel_fault_info *ft = sw_sim_panel_fault_table(&nf);
    for (size_t i = 0; i < nf; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s[:G.P]%s%s%s", ft[i].name, ft[i].value_name ? "[=" : "",
                 ft[i].value_name ? ft[i].value_name : "", ft[i].value_name ? "]" : "");
        fprintf(f, "  %-22s %s\n", head, ft[i].help);
    }
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    uint64_t v;
    if (!sw_parse_uint(s, max, &v))
        return false;
    *out = (unsigned long)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end = NULL;
    if (!s || !*s)
        return false;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v != v)
        return false;
    *out = v;
    return true;
}

static int write_file(sw_tigo_sim *sim, const char *path, bool pcapng, double speed, int64_t end_ns,
                      const char *prog)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "%s simulate: cannot open %s: %s\n", prog, path, strerror(errno));
        return 1;
    }
    static uint8_t frame[SW_TIGO_SIM_CHUNK_MAX], block[SW_TIGO_SIM_CHUNK_MAX + 64];
    size_t n = 0;
    int rc = 0;
    if (pcapng) {
        uint8_t hdr[512];
        if (sw_pcapng_encode_header(hdr, sizeof hdr, &n, "sunwire tigo simulate", "simulated RS-485 bus") !=
                SW_OK ||
            fwrite(hdr, 1, n, f) != n)
            rc = 1;
    }
    int64_t wall0 = sw_now_monotonic_ns(), bus0 = sw_tigo_sim_peek_time(sim);
    while (rc == 0) {
        int64_t t = sw_tigo_sim_peek_time(sim);
        if (t > end_ns)
            break;
        if (speed > 0.0) {
            /* paced: sleep until the frame is due; the file fills like a live capture */
            int64_t due = wall0 + (int64_t)((double)(t - bus0) / speed);
            int64_t now = sw_now_monotonic_ns();
            if (due > now) {
                fflush(f);
                struct timespec ts = { (time_t)((due - now) / 1000000000LL), (long)((due - now) % 1000000000LL) };
                nanosleep(&ts, NULL);
            }
        }
        sw_tigo_sim_next(sim, frame, sizeof frame, &n, &t);
        if (n == 0)
            continue; /* a silent line: time passes, nothing is written */
        if (pcapng) {
            size_t bn = 0;
            if (sw_pcapng_encode_packet(block, sizeof block, &bn, t, frame, n) != SW_OK || fwrite(block, 1, bn, f) != bn)
                rc = 1;
        } else if (fwrite(frame, 1, n, f) != n) {
            rc = 1;
        }
    }
    if (f == stdout ? fflush(f) != 0 : fclose(f) != 0)
        rc = 1;
    if (rc)
        fprintf(stderr, "%s simulate: cannot write %s\n", prog, path);
    return rc;
}

int sw_cli_tigo_simulate(int argc, char **argv, const char *prog)
{
    int64_t now = sw_now_realtime_ns();
    unsigned long gateways = 1, panels = 10, seed = 1, port = 0;
    double speed = -1.0, duration = 0.0, lat = 50.0, lon = 10.0;
    bool tcp = false, pty = false, pcapng = false, clouds = true, shaded = false, failing = false, port_set = false;
    bool radio_config = false;
    const char *file = NULL, *bind = "127.0.0.1", *start_text = "now";
    sw_tigo_sim_firmware fw = SW_TIGO_SIM_FW_CLASSIC;
    sw_sim_faults faults = { 0 };
    sw_sim_panel_fault panel_faults[SW_SIM_MAX_PANEL_FAULTS];
    size_t n_panel_faults = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes = true;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout, prog);
            return 0;
        } else if (strcmp(a, "--tcp") == 0) {
            tcp = true;
            takes = false;
        } else if (strcmp(a, "--pty") == 0) {
            pty = true;
            takes = false;
        } else if (strcmp(a, "--clouds") == 0) {
            clouds = true;
            takes = false;
        } else if (strcmp(a, "--no-clouds") == 0) {
            clouds = false;
            takes = false;
        } else if (strcmp(a, "--shaded") == 0) {
            shaded = true;
            takes = false;
        } else if (strcmp(a, "--failing") == 0) {
            failing = true;
            takes = false;
        } else if (strcmp(a, "--radio-config") == 0) {
            radio_config = true;
            takes = false;
        } else if (strcmp(a, "--port") == 0) {
            ok = parse_uint(v, 65535, &port);
            port_set = tcp = true;
        } else if (strcmp(a, "--bind") == 0) {
            ok = v != NULL;
            bind = v;
        } else if (strcmp(a, "--file") == 0) {
            ok = v != NULL;
            file = v;
        } else if (strcmp(a, "--format") == 0) {
            ok = v && (strcmp(v, "raw") == 0 || strcmp(v, "pcapng") == 0);
            pcapng = ok && strcmp(v, "pcapng") == 0;
        } else if (strcmp(a, "--start") == 0) {
            ok = v != NULL;
            start_text = v;
        } else if (strcmp(a, "--speed") == 0) {
            ok = parse_double(v, &speed) && speed > 0.0 && speed <= 100000.0;
        } else if (strcmp(a, "--duration") == 0) {
            ok = parse_double(v, &duration) && duration > 0.0 && duration <= 366.0 * 86400.0;
        } else if (strcmp(a, "--gateways") == 0) {
            ok = parse_uint(v, SW_TIGO_SIM_MAX_GATEWAYS, &gateways) && gateways >= 1;
        } else if (strcmp(a, "--panels") == 0) {
            ok = parse_uint(v, SW_TIGO_SIM_MAX_PANELS, &panels) && panels >= 1;
        } else if (strcmp(a, "--seed") == 0) {
            ok = parse_uint(v, (unsigned long)-1, &seed);
        } else if (strcmp(a, "--firmware") == 0) {
            ok = v && (strcmp(v, "classic") == 0 || strcmp(v, "4") == 0);
            fw = ok && strcmp(v, "4") == 0 ? SW_TIGO_SIM_FW_4 : SW_TIGO_SIM_FW_CLASSIC;
        } else if (strcmp(a, "--fault") == 0) {
            if (v && strcmp(v, "list") == 0) {
                list_faults(stdout);
                return 0;
            }
            char ferr[160] = "";
            if (!v) {
                ok = false;
            } else if (sw_sim_panel_fault_is_named(v)) { /* a panel's fault (sim/sim_faults_peers.h) */
                if (n_panel_faults == SW_SIM_MAX_PANEL_FAULTS) {
                    fprintf(stderr, "%s simulate: at most %d panel faults\n", prog, SW_SIM_MAX_PANEL_FAULTS);
                    return 2;
                }
                if (sw_sim_panel_fault_parse(v, &panel_faults[n_panel_faults], ferr, sizeof ferr) != SW_OK) {
                    fprintf(stderr, "%s simulate: --fault %s: %s (see --fault list)\n", prog, v, ferr);
                    return 2;
                }
                n_panel_faults++;
            } else if (sw_sim_faults_add(&faults, v, ferr, sizeof ferr) != SW_OK) {
                fprintf(stderr, "%s simulate: --fault %s: %s (see --fault list)\n", prog, v, ferr);
                return 2;
            }
        } else if (strcmp(a, "--latitude") == 0) {
            ok = parse_double(v, &lat) && lat >= -90.0 && lat <= 90.0;
        } else if (strcmp(a, "--longitude") == 0) {
            ok = parse_double(v, &lon) && lon >= -180.0 && lon <= 180.0;
        } else {
            fprintf(stderr, "%s simulate: unknown option '%s' (see --help)\n", prog, a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "%s simulate: %s %s for %s\n", prog, v ? "invalid value" : "missing value",
                    v ? v : "", a);
            return 2;
        }
        if (takes)
            i++;
    }
    int outputs = (tcp ? 1 : 0) + (pty ? 1 : 0) + (file ? 1 : 0);
    if (outputs == 0) {
        fprintf(stderr, "%s simulate: choose an output: --tcp, --pty or --file (see --help)\n", prog);
        return 2;
    }
    if (file && outputs > 1) {
        fprintf(stderr, "%s simulate: --file cannot be combined with --tcp or --pty\n", prog);
        return 2;
    }
    if (file && speed < 0.0 && duration <= 0.0) {
        fprintf(stderr, "%s simulate: --file without --speed needs --duration (it would never end)\n", prog);
        return 2;
    }
    (void)port_set;
    int64_t start;
    sw_err te = tsim_parse_time(start_text, now, &start);
    if (te != SW_OK) {
        fprintf(stderr, "%s simulate: --start '%s' %s\n", prog, start_text, tsim_time_error(te));
        return 2;
    }

    sw_tigo_sim_config cfg;
    sw_tigo_sim_config_default(&cfg, seed, start);
    cfg.day.latitude_deg = lat;
    cfg.day.longitude_deg = lon;
    cfg.gateways = (unsigned)gateways;
    cfg.panels = (unsigned)panels;
    cfg.firmware = fw;
    cfg.clouds = clouds;
    cfg.shaded = shaded;
    cfg.failing = failing;
    cfg.radio_config = radio_config;
    cfg.faults = faults;
    for (size_t i = 0; i < n_panel_faults; i++) {
        if (panel_faults[i].gateway >= cfg.gateways || panel_faults[i].panel >= cfg.panels) {
            fprintf(stderr, "%s simulate: --fault: panel %u.%u is not on the bus (%u x %u)\n", prog,
                    panel_faults[i].gateway + 1, panel_faults[i].panel + 1, cfg.gateways, cfg.panels);
            return 2;
        }
        cfg.panel_faults[cfg.n_panel_faults++] = panel_faults[i];
    }
    sw_tigo_sim *sim = malloc(sizeof *sim);
    if (!sim || sw_tigo_sim_init(sim, &cfg, NULL, NULL) != SW_OK) {
        fprintf(stderr, "%s simulate: cannot set up the simulation\n", prog);
        free(sim);
        return 1;
    }
    int64_t end_ns = duration > 0.0 ? start + (int64_t)(duration * 1e9) : 0;

    if (file) {
        int rc = write_file(sim, file, pcapng, speed, end_ns ? end_ns : INT64_MAX, prog);
        free(sim);
        return rc;
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    sw_loop *loop = sw_loop_new();
    if (!loop || sw_stop_signals_watch(loop, false) != SW_OK) {
        fprintf(stderr, "%s simulate: out of resources\n", prog);
        sw_loop_free(loop);
        free(sim);
        return 1;
    }

    tsim_runner_opts ro = { .speed = speed > 0.0 ? speed : 1.0,
                            .bind = tcp ? bind : NULL,
                            .port = (uint16_t)port,
                            .pty = pty,
                            .end_bus_ns = end_ns };
    char err[256];
    tsim_runner *r = tsim_runner_start(loop, sim, &ro, err, sizeof err);
    int rc = 0;
    if (!r) {
        fprintf(stderr, "%s simulate: %s\n", prog, err);
        rc = 1;
    } else {
        if (tcp)
            printf("listening on %s:%u\n", bind, (unsigned)tsim_runner_port(r));
        if (pty)
            printf("%s\n", tsim_runner_pty_path(r));
        fflush(stdout);
        if (sw_loop_run(loop) != SW_OK)
            rc = 1;
        tsim_runner_stop(r);
    }
    sw_stop_signals_unwatch(loop);
    sw_loop_free(loop);
    free(sim);
    return rc;
}
