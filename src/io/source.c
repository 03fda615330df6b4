/*
 * source.c: the serial, TCP and file backends, and a source run on the event loop.
 *
 * Trusts the kernel for bytes and times and nothing else: a capture file goes
 * through the checking pcapng decoder, and every failure becomes an sw_err
 * with errno kept so the caller can say what went wrong.
 */
#include "io/io_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io_file.h"
#include "io/log.h"
#include "io/net.h"
#include "sunwire/loop.h"

#define BLOCK_BUF_SIZE (1u << 20)
/* A TCP source's connect (lookup and every address) gives up after this long. */
#define CONNECT_TIMEOUT_MS 30000
/* A read takes whatever the device or socket holds, up to this much: a TCP
 * replay arrives in large segments, and a small buffer would cost a read (and
 * an output flush) per kilobyte. A live bus delivers far less per read, and
 * pages of the buffer that are never filled are never touched. */
#define READ_MAX (64u * 1024u)

/* ---- fd-backed reads shared by serial and TCP ------------------------------ */

/* One read of what the fd holds (the caller's loop said it is readable). */
static sw_err fd_read(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns)
{
    *n = 0;
    ssize_t r = read(s->fd, buf, cap);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return SW_ERR_TIMEOUT;
        return SW_ERR_IO;
    }
    if (r == 0)
        return SW_ERR_EOF;
    *n = (size_t)r;
    *unix_ns = sw_now_realtime_ns();
    return SW_OK;
}

static void fd_close(sw_source *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static sw_err serial_open(sw_source *s) { return sw_serial_open(s->cfg.path, &s->fd); }

/* Blocking open, for callers without a loop (sw_source_run connects on its loop). */
static sw_err tcp_open(sw_source *s)
{
    sw_err e = sw_tcp_connect(s->cfg.host, s->cfg.port, CONNECT_TIMEOUT_MS, &s->fd);
    if (e)
        return e;
    return sw_source_connected(s, s->fd);
}

sw_err sw_source_connected(sw_source *s, int fd)
{
    s->fd = fd;
    sw_err e = sw_tcp_keepalive(s->fd, s->cfg.keepalive_idle_s, s->cfg.keepalive_interval_s, s->cfg.keepalive_count);
    if (e) {
        int err = errno;
        fd_close(s);
        errno = err;
        return e;
    }
    return SW_OK;
}

/* ---- file backend ---------------------------------------------------------- */

/* One read() of the file into in_buf, once in_buf is used up. */
static sw_err file_fill(sw_source *s)
{
    if (s->in_pos < s->in_len || s->file_eof)
        return SW_OK;
    ssize_t r;
    do {
        r = read(s->fd, s->in_buf, sizeof s->in_buf);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return SW_ERR_IO;
    s->in_pos = 0;
    s->in_len = (size_t)r;
    s->file_pos += (uint64_t)r;
    if (r == 0)
        s->file_eof = true;
    return SW_OK;
}

static sw_err file_open(sw_source *s)
{
    bool is_stdin = strcmp(s->cfg.path, "-") == 0;
    s->fd = is_stdin ? dup(STDIN_FILENO) : open(s->cfg.path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return SW_ERR_OPEN;
    struct stat st;
    if (fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        fd_close(s);
        errno = EISDIR;
        return SW_ERR_OPEN;
    }
    s->file_size = (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) ? (uint64_t)st.st_size : 0;
    s->file_pos = 0;
    s->in_len = s->in_pos = 0;
    s->file_eof = false;
    s->pend = NULL;
    s->pend_len = 0;
    s->have_first_ts = false;
    /* Sniff the magic: a short file is simply raw bytes. */
    while (s->in_len < SW_PCAPNG_MAGIC_BYTES && !s->file_eof) {
        ssize_t r = read(s->fd, s->in_buf + s->in_len, sizeof s->in_buf - s->in_len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            fd_close(s);
            errno = e;
            return SW_ERR_OPEN;
        }
        if (r == 0)
            s->file_eof = true;
        s->in_len += (size_t)r;
        s->file_pos += (uint64_t)r;
    }
    s->is_pcapng = sw_pcapng_sniff(s->in_buf, s->in_len);
    if (s->is_pcapng) {
        free(s->block_buf);
        s->block_buf = malloc(BLOCK_BUF_SIZE);
        if (!s->block_buf) {
            fd_close(s);
            return SW_ERR_NO_MEMORY;
        }
        sw_pcapng_reader_init(&s->capture, s->block_buf, BLOCK_BUF_SIZE);
    }
    return SW_OK;
}

static void file_close(sw_source *s)
{
    fd_close(s);
    free(s->block_buf);
    s->block_buf = NULL;
    s->pend = NULL;
}

/*
 * Make s->pend hold the next bytes to hand out: the rest of a packet, the next
 * packet of a capture, or the next bus-sized piece of a raw file. *fills is
 * how many read()s of the file it may make (the run makes one per wakeup of
 * its loop, so a pipe never blocks it); SW_ERR_TIMEOUT when it needs more.
 */
static sw_err file_pending(sw_source *s, int *fills)
{
    while (!s->pend) {
        if (s->in_pos >= s->in_len && !s->file_eof) {
            if (*fills <= 0)
                return SW_ERR_TIMEOUT;
            (*fills)--;
            sw_err e = file_fill(s);
            if (e)
                return e;
            continue;
        }
        if (!s->is_pcapng) {
            if (s->in_pos >= s->in_len)
                return SW_ERR_EOF;
            /* Raw bytes carry no time: stamped as they are handed out, in bus-sized pieces. */
            size_t k = s->in_len - s->in_pos;
            s->pend = s->in_buf + s->in_pos;
            s->pend_len = k > 1024 ? 1024 : k;
            s->pend_ts = -1;
            s->in_pos += s->pend_len;
            break;
        }
        if (s->in_pos >= s->in_len)
            return sw_pcapng_reader_finish(&s->capture) ? SW_ERR_TRUNCATED : SW_ERR_EOF;
        size_t used = 0;
        bool got = false;
        sw_capture_packet pkt;
        sw_err e = sw_pcapng_reader_push(&s->capture, s->in_buf + s->in_pos, s->in_len - s->in_pos, &used, &pkt, &got);
        s->in_pos += used;
        if (e)
            return e == SW_ERR_TOO_LONG ? SW_ERR_BAD_CAPTURE : e;
        if (!got || pkt.len == 0)
            continue;
        if (pkt.linktype != SW_CAPTURE_LINKTYPE) {
            if (s->skipped_packets++ == 0)
                SW_LOGW("sunwire::source", "skipping packets of link type %u: only raw serial bytes (link type %u) are replayed",
                        (unsigned)pkt.linktype, SW_CAPTURE_LINKTYPE);
            continue;
        }
        s->pend = pkt.data;
        s->pend_len = pkt.len;
        s->pend_ts = pkt.unix_ns;
        s->pend_paced = false;
    }
    return SW_OK;
}

/* Take up to cap bytes of s->pend, without copying them. */
static void file_take(sw_source *s, size_t cap, const uint8_t **p, size_t *n, int64_t *unix_ns)
{
    size_t k = s->pend_len < cap ? s->pend_len : cap;
    *p = s->pend;
    *n = k;
    *unix_ns = s->pend_ts >= 0 ? s->pend_ts : sw_now_realtime_ns();
    s->pend += k;
    s->pend_len -= k;
    if (!s->pend_len)
        s->pend = NULL;
}

/* Every file read goes on until it has a chunk: a file or a pipe is read blocking. */
static sw_err file_read(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns)
{
    *n = 0;
    int fills = 1 << 30;
    sw_err e = file_pending(s, &fills);
    if (e)
        return e;
    const uint8_t *p;
    file_take(s, cap, &p, n, unix_ns);
    memcpy(buf, p, *n);
    return SW_OK;
}

static const sw_source_backend serial_backend = { "serial", serial_open, fd_read, fd_close };
static const sw_source_backend tcp_backend = { "tcp", tcp_open, fd_read, fd_close };
static const sw_source_backend file_backend = { "file", file_open, file_read, file_close };

sw_err sw_source_init(sw_source *s, const sw_source_config *cfg)
{
    if (!s || !cfg)
        return SW_ERR_INVALID_ARGUMENT;
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->fd = -1;
    switch (cfg->medium) {
    case SW_SOURCE_MEDIUM_SERIAL:
        s->backend = &serial_backend;
        return cfg->path ? SW_OK : SW_ERR_INVALID_ARGUMENT;
    case SW_SOURCE_MEDIUM_TCP:
        s->backend = &tcp_backend;
        return cfg->host ? SW_OK : SW_ERR_INVALID_ARGUMENT;
    case SW_SOURCE_MEDIUM_FILE:
        s->backend = &file_backend;
        return cfg->path ? SW_OK : SW_ERR_INVALID_ARGUMENT;
    }
    return SW_ERR_INVALID_ARGUMENT;
}

sw_err sw_source_open(sw_source *s) { return s->backend->open(s); }

sw_err sw_source_read(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns)
{
    return s->backend->read(s, buf, cap, n, unix_ns);
}

void sw_source_close(sw_source *s)
{
    if (s && s->backend)
        s->backend->close(s);
}

void sw_source_describe(const sw_source *s, char *out, size_t cap)
{
    switch (s->cfg.medium) {
    case SW_SOURCE_MEDIUM_SERIAL:
        snprintf(out, cap, "serial port %s", s->cfg.path);
        break;
    case SW_SOURCE_MEDIUM_TCP:
        snprintf(out, cap, "tcp %s:%u", s->cfg.host, (unsigned)s->cfg.port);
        break;
    case SW_SOURCE_MEDIUM_FILE:
        snprintf(out, cap, "file %s", strcmp(s->cfg.path, "-") == 0 ? "<stdin>" : s->cfg.path);
        break;
    default:
        snprintf(out, cap, "unknown source");
    }
}

double sw_source_progress(const sw_source *s)
{
    if (s->cfg.medium != SW_SOURCE_MEDIUM_FILE || s->file_size == 0)
        return -1;
    double consumed = (double)(s->file_pos - (s->in_len - s->in_pos));
    return consumed / (double)s->file_size;
}

/* ---- the run, on the event loop ------------------------------------------------ */
/*
 * Nothing here waits: the loop does. A serial port or socket is watched for
 * reading; a file is watched too (a regular file is always ready, a pipe when
 * bytes come) and read once per wakeup; a paced replay waits for a packet's
 * time on a timer; pauses before reopening and the idle limit are timers set
 * from sw_reconnect; a TCP source connects through sw_tcp_connector.
 */
typedef struct source_run {
    sw_source *s;
    sw_loop *loop;
    const sw_run_options *o;
    const char *tg;
    char desc[320];
    uint8_t *buf;              /* serial and TCP reads; a file hands out its own bytes */
    sw_reconnect_timer rt;     /* reopening and the idle limit */
    sw_tcp_connector *connecting;
    uint64_t timer;            /* a replay's next packet */
    bool watching;             /* s->fd is in the loop */
    bool done;
    sw_run_result result;
} source_run;

static int64_t mono_ms(void) { return sw_loop_now_ms(); }

static void run_set_timer(source_run *r, int64_t delay_ms, sw_loop_timer_cb cb)
{
    if (r->timer)
        sw_loop_del_timer(r->loop, r->timer);
    r->timer = sw_loop_add_timer(r->loop, delay_ms, cb, r);
}

static void run_unwatch(source_run *r)
{
    if (r->watching)
        sw_loop_del_fd(r->loop, r->s->fd);
    r->watching = false;
}

/* Off the loop and closed: what ends a session, and the run. */
static void run_close(source_run *r)
{
    run_unwatch(r);
    if (r->timer)
        sw_loop_del_timer(r->loop, r->timer);
    r->timer = 0;
    sw_reconnect_timer_stop(&r->rt);
    sw_tcp_connector_cancel(r->connecting);
    r->connecting = NULL;
    sw_source_close(r->s);
}

static void run_finish(source_run *r, sw_run_result res)
{
    run_close(r);
    r->done = true;
    r->result = res;
    sw_loop_stop(r->loop);
}

static void retry_text(char *out, size_t cap, uint32_t retries, uint32_t limit)
{
    if (limit)
        snprintf(out, cap, "%u/%u", (unsigned)retries, (unsigned)limit);
    else
        snprintf(out, cap, "%u/\xE2\x88\x9E", (unsigned)retries);
}

static void run_open(source_run *r);

static void run_open_failed(source_run *r, sw_err e, int err)
{
    SW_LOGE(r->tg, "cannot open %s: %s", r->desc, sw_io_reason(e, err));
    if (r->s->cfg.medium == SW_SOURCE_MEDIUM_FILE ||
        sw_reconnect_open_failed(&r->rt.rc, mono_ms()) == SW_RECONNECT_GIVE_UP_OPEN) {
        run_finish(r, SW_RUN_OPEN_FAILED);
        return;
    }
    char rt[32];
    retry_text(rt, sizeof rt, r->rt.rc.retries, r->rt.rc.cfg.retry_limit);
    SW_LOGI(r->tg, "retry %s in %llu s", rt, (unsigned long long)r->o->reconnect_delay_s);
    sw_reconnect_timer_arm(&r->rt);
}

/* The session ended (the peer closed, a read failed, or it went silent). */
static void run_lost(source_run *r, bool idle)
{
    run_close(r);
    if (sw_reconnect_lost(&r->rt.rc, mono_ms(), idle) == SW_RECONNECT_GIVE_UP_IDLE) {
        run_finish(r, SW_RUN_IDLE_EXCEEDED);
        return;
    }
    SW_LOGI(r->tg, "reconnecting in %llu s", (unsigned long long)r->o->reconnect_delay_s);
    sw_reconnect_timer_arm(&r->rt);
}

/* The reconnect timer: a pause before reopening is over, or the session went silent. */
static int on_reconnect(sw_reconnect_timer *t, sw_reconnect_action a, void *user)
{
    (void)t;
    source_run *r = user;
    if (a == SW_RECONNECT_OPEN) {
        run_open(r);
        return 0;
    }
    SW_LOGW(r->tg, "no data from %s for %llu s, reconnecting", r->desc,
            (unsigned long long)r->o->reconnect_timeout_s);
    run_lost(r, true);
    return 0;
}

/* Bytes to the owner; false when the run ended because it asked to stop. */
static bool run_deliver(source_run *r, const uint8_t *p, size_t n, int64_t ts)
{
    sw_reconnect_data(&r->rt.rc, mono_ms());
    if (r->o->on_bytes && r->o->on_bytes(r->o->ctx, p, n, ts)) {
        run_finish(r, SW_RUN_STOPPED);
        return false;
    }
    return true;
}

static void on_fd_readable(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)fd; (void)events;
    source_run *r = user;
    size_t n = 0;
    int64_t ts = 0;
    sw_err e = sw_source_read(r->s, r->buf, READ_MAX, &n, &ts);
    if (e == SW_OK) {
        run_deliver(r, r->buf, n, ts);
        return;
    }
    if (e == SW_ERR_TIMEOUT) /* nothing after all */
        return;
    if (e == SW_ERR_EOF && r->s->cfg.medium == SW_SOURCE_MEDIUM_SERIAL)
        SW_LOGE(r->tg, "error reading %s: the device hung up", r->desc); /* unplugged adapter */
    else if (e == SW_ERR_EOF)
        SW_LOGW(r->tg, "%s closed the connection", r->desc);
    else
        SW_LOGE(r->tg, "error reading %s: %s", r->desc, strerror(errno));
    run_lost(r, false);
}

static void file_pump(source_run *r);
static void on_file_readable(sw_loop *loop, int fd, int events, void *user);

static int64_t on_packet_due(sw_loop *loop, uint64_t id, void *user)
{
    (void)id;
    source_run *r = user;
    r->timer = 0;
    file_pump(r);
    if (!r->done && !r->timer && !r->watching) {
        if (sw_loop_add_fd(loop, r->s->fd, SW_LOOP_READ, on_file_readable, r) == SW_OK)
            r->watching = true;
        else
            run_finish(r, SW_RUN_INPUT_ERROR);
    }
    return -1;
}

/* How long until a replayed packet's recorded time is due (ms, rounded up); 0 = now. */
static int64_t pace_wait_ms(sw_source *s, int64_t ts)
{
    if (!s->have_first_ts) {
        s->have_first_ts = true;
        s->first_ts_ns = ts;
        s->start_mono_ns = sw_now_monotonic_ns();
        return 0;
    }
    double speed = s->cfg.speed > 0 ? s->cfg.speed : 1.0;
    int64_t due = s->start_mono_ns + (int64_t)((double)(ts - s->first_ts_ns) / speed);
    int64_t wait = due - sw_now_monotonic_ns();
    return wait <= 0 ? 0 : (wait + 999999) / 1000000;
}

/* Reads of a file per wakeup: a pipe is read once (the loop said it holds
 * bytes); a regular file never blocks, so it gets 64 KiB before the loop
 * looks at anything else again. */
#define REGULAR_FILE_FILLS ((int)(READ_MAX / sizeof ((sw_source *)0)->in_buf))

/* Hand out what the reads of one wakeup give, pacing a capture by its times. */
static void file_pump(source_run *r)
{
    sw_source *s = r->s;
    int fills = s->file_size ? REGULAR_FILE_FILLS : 1;
    for (;;) {
        sw_err e = file_pending(s, &fills);
        if (e == SW_ERR_TIMEOUT)
            return; /* the loop says when the file has more */
        if (e == SW_ERR_EOF) {
            run_finish(r, SW_RUN_EOF);
            return;
        }
        if (e) {
            if (e == SW_ERR_IO)
                SW_LOGE(r->tg, "error reading %s: %s", r->desc, strerror(errno));
            else if (e == SW_ERR_TRUNCATED)
                SW_LOGE(r->tg, "error reading %s: the capture is truncated (it ends inside a pcapng block)", r->desc);
            else
                SW_LOGE(r->tg, "error reading %s: %s", r->desc, sw_err_message(e));
            run_finish(r, SW_RUN_INPUT_ERROR);
            return;
        }
        if (s->cfg.realtime && s->pend_ts >= 0 && !s->pend_paced) {
            int64_t wait = pace_wait_ms(s, s->pend_ts);
            if (wait > 0) {
                /* Not watched meanwhile: a pipe's hang-up would wake the loop until then. */
                run_unwatch(r);
                run_set_timer(r, wait, on_packet_due);
                return;
            }
            s->pend_paced = true; /* later slices of one big packet do not wait again */
        }
        const uint8_t *p;
        size_t n;
        int64_t ts;
        file_take(s, READ_MAX, &p, &n, &ts);
        if (!run_deliver(r, p, n, ts))
            return;
    }
}

static void on_file_readable(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop; (void)fd; (void)events;
    file_pump(user);
}

static void run_up(source_run *r)
{
    SW_LOGI(r->tg, "opened %s", r->desc);
    sw_reconnect_opened(&r->rt.rc, mono_ms());
    if (r->o->on_open)
        r->o->on_open(r->o->ctx, r->s);
    bool is_file = r->s->cfg.medium == SW_SOURCE_MEDIUM_FILE;
    sw_err e = sw_loop_add_fd(r->loop, r->s->fd, SW_LOOP_READ, is_file ? on_file_readable : on_fd_readable, r);
    if (e != SW_OK) {
        SW_LOGE(r->tg, "cannot watch %s: %s", r->desc, sw_err_message(e));
        run_finish(r, SW_RUN_INPUT_ERROR);
        return;
    }
    r->watching = true;
    sw_reconnect_timer_arm(&r->rt);
}

static void on_connected(sw_tcp_connector *c, sw_err e, int fd, void *user)
{
    (void)c;
    source_run *r = user;
    r->connecting = NULL;
    if (e == SW_OK)
        e = sw_source_connected(r->s, fd);
    if (e != SW_OK) {
        run_open_failed(r, e, errno);
        return;
    }
    run_up(r);
}

static void run_open(source_run *r)
{
    SW_LOGI(r->tg, "opening %s", r->desc);
    sw_err e;
    if (r->s->cfg.medium == SW_SOURCE_MEDIUM_TCP) {
        e = sw_tcp_connector_start(r->loop, r->s->cfg.host, r->s->cfg.port, CONNECT_TIMEOUT_MS, NULL, on_connected, r,
                                   &r->connecting);
        if (e == SW_OK)
            return;
    } else {
        e = sw_source_open(r->s);
        if (e == SW_OK) {
            run_up(r);
            return;
        }
    }
    run_open_failed(r, e, errno);
}

sw_run_result sw_source_run(sw_source *s, sw_loop *loop, const sw_run_options *o)
{
    source_run r = { .s = s, .loop = loop, .o = o, .tg = o->log_target ? o->log_target : "sunwire" };
    sw_source_describe(s, r.desc, sizeof r.desc);
    if (s->cfg.medium != SW_SOURCE_MEDIUM_FILE && !(r.buf = malloc(READ_MAX))) {
        SW_LOGE(r.tg, "out of memory");
        return SW_RUN_INPUT_ERROR;
    }
    /* Only a TCP session can be silently dead; serial and files report their end. */
    bool idle_applies = s->cfg.medium == SW_SOURCE_MEDIUM_TCP && o->reconnect_timeout_s > 0;
    sw_reconnect_config rcfg = {
        .delay_ms = (int64_t)o->reconnect_delay_s * 1000,
        .max_delay_ms = 0, /* taptap's fixed pause */
        .idle_ms = idle_applies ? (int64_t)o->reconnect_timeout_s * 1000 : 0,
        .retry_limit = o->reconnect_retry,
    };
    sw_reconnect_timer_init(&r.rt, loop, &rcfg, on_reconnect, &r);
    sw_reconnect_start(&r.rt.rc, mono_ms());
    run_open(&r);
    sw_err e = SW_OK;
    /* Until the run ends, or the owner stops the loop (a signal, say). */
    while (!r.done && e == SW_OK && !sw_loop_stopped(loop))
        e = sw_loop_run_once(loop, -1);
    if (!r.done) {
        if (e != SW_OK)
            SW_LOGE(r.tg, "event loop failed: %s", strerror(errno));
        run_finish(&r, e == SW_OK ? SW_RUN_STOPPED : SW_RUN_INPUT_ERROR);
    }
    free(r.buf);
    return r.result;
}
