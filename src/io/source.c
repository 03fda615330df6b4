/*
 * source.c: the serial, TCP and file backends and the reconnect loop.
 *
 * Trusts the kernel for bytes and times and nothing else: a capture file goes
 * through the checking pcapng decoder, and every failure becomes an sw_err
 * with errno kept so the caller can say what went wrong.
 */
#include "io/io_source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/io_file.h"
#include "io/log.h"
#include "io/net.h"

#define BLOCK_BUF_SIZE (1u << 20)
#define POLL_SLICE_MS 200
/* A read takes whatever the device or socket holds, up to this much: a TCP
 * replay arrives in large segments, and a small buffer would cost a read (and
 * an output flush) per kilobyte. A live bus delivers far less per read, and
 * pages of the buffer that are never filled are never touched. */
#define READ_MAX (64u * 1024u)

/* ---- fd-backed reads shared by serial and TCP ------------------------------ */

static sw_err fd_read(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns, int timeout_ms)
{
    *n = 0;
    struct pollfd p = { .fd = s->fd, .events = POLLIN };
    int rc;
    do {
        rc = poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR && timeout_ms < 0);
    if (rc < 0)
        return errno == EINTR ? SW_ERR_TIMEOUT : SW_ERR_IO;
    if (rc == 0)
        return SW_ERR_TIMEOUT;
    if (!(p.revents & POLLIN)) {
        /* Hang-up without data: an unplugged adapter or a closed pty master. */
        errno = (p.revents & POLLNVAL) ? EBADF : EPIPE;
        return SW_ERR_IO;
    }
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

static sw_err tcp_open(sw_source *s)
{
    sw_err e = sw_tcp_connect(s->cfg.host, s->cfg.port, 30000, &s->fd);
    if (e)
        return e;
    e = sw_tcp_keepalive(s->fd, s->cfg.keepalive_idle_s, s->cfg.keepalive_interval_s, s->cfg.keepalive_count);
    if (e) {
        int err = errno;
        fd_close(s);
        errno = err;
        return e;
    }
    return SW_OK;
}

/* ---- file backend ---------------------------------------------------------- */

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

/* Wait until a recorded time is due; SW_ERR_TIMEOUT when the caller's slice ran out first. */
static sw_err pace(sw_source *s, int64_t ts, int timeout_ms)
{
    if (!s->cfg.realtime || ts < 0)
        return SW_OK;
    if (!s->have_first_ts) {
        s->have_first_ts = true;
        s->first_ts_ns = ts;
        s->start_mono_ns = sw_now_monotonic_ns();
        return SW_OK;
    }
    double speed = s->cfg.speed > 0 ? s->cfg.speed : 1.0;
    int64_t due = s->start_mono_ns + (int64_t)((double)(ts - s->first_ts_ns) / speed);
    int64_t wait = due - sw_now_monotonic_ns();
    if (wait <= 0)
        return SW_OK;
    int64_t limit = timeout_ms < 0 ? INT64_MAX : (int64_t)timeout_ms * 1000000;
    int64_t slice = wait < limit ? wait : limit;
    struct timespec req = { (time_t)(slice / 1000000000), (long)(slice % 1000000000) };
    nanosleep(&req, NULL);
    return slice < wait ? SW_ERR_TIMEOUT : SW_OK;
}

static sw_err deliver(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns, int timeout_ms)
{
    sw_err e = pace(s, s->pend_ts, timeout_ms);
    if (e)
        return e;
    size_t k = s->pend_len < cap ? s->pend_len : cap;
    memcpy(buf, s->pend, k);
    *n = k;
    *unix_ns = s->pend_ts >= 0 ? s->pend_ts : sw_now_realtime_ns();
    s->pend += k;
    s->pend_len -= k;
    if (!s->pend_len)
        s->pend = NULL;
    /* Later slices of one big packet must not wait again. */
    return SW_OK;
}

static sw_err file_read(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns, int timeout_ms)
{
    *n = 0;
    if (s->pend)
        return deliver(s, buf, cap, n, unix_ns, timeout_ms);
    for (;;) {
        sw_err e = file_fill(s);
        if (e)
            return e;
        if (!s->is_pcapng) {
            if (s->in_pos >= s->in_len)
                return SW_ERR_EOF;
            /* Raw bytes carry no time: stamp them as they are read, in bus-sized reads. */
            size_t k = s->in_len - s->in_pos;
            if (k > cap)
                k = cap;
            if (k > 1024)
                k = 1024;
            memcpy(buf, s->in_buf + s->in_pos, k);
            s->in_pos += k;
            *n = k;
            *unix_ns = sw_now_realtime_ns();
            return SW_OK;
        }
        if (s->in_pos >= s->in_len) {
            if (!s->file_eof)
                continue;
            return sw_pcapng_reader_finish(&s->capture) ? SW_ERR_TRUNCATED : SW_ERR_EOF;
        }
        size_t used = 0;
        bool got = false;
        sw_capture_packet pkt;
        e = sw_pcapng_reader_push(&s->capture, s->in_buf + s->in_pos, s->in_len - s->in_pos, &used, &pkt, &got);
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
        return deliver(s, buf, cap, n, unix_ns, timeout_ms);
    }
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

sw_err sw_source_read(sw_source *s, uint8_t *buf, size_t cap, size_t *n, int64_t *unix_ns, int timeout_ms)
{
    return s->backend->read(s, buf, cap, n, unix_ns, timeout_ms);
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

/* ---- the reconnect loop ----------------------------------------------------- */

static bool stop_requested(const sw_run_options *o) { return o->should_stop && o->should_stop(o->ctx); }

static int64_t mono_ms(void) { return sw_now_monotonic_ns() / 1000000; }

/* Sleep until a monotonic time, in short slices so a stop request is noticed quickly. */
static void pause_until(const sw_run_options *o, int64_t due_ms)
{
    while (!stop_requested(o)) {
        int64_t left = due_ms - mono_ms();
        if (left <= 0)
            break;
        if (left > 100)
            left = 100;
        struct timespec req = { 0, (long)left * 1000000L };
        nanosleep(&req, NULL);
    }
}

static void retry_text(char *out, size_t cap, uint32_t retries, uint32_t limit)
{
    if (limit)
        snprintf(out, cap, "%u/%u", (unsigned)retries, (unsigned)limit);
    else
        snprintf(out, cap, "%u/\xE2\x88\x9E", (unsigned)retries);
}

/* Read until the session ends. SW_RUN_EOF when it should be reopened (for a
 * file: its end; *idle set when it went silent); any other result ends the run. */
static sw_run_result read_session(sw_source *s, const sw_run_options *o, const char *tg, const char *desc,
                                  uint8_t *buf, sw_reconnect *rc, bool *idle)
{
    bool is_file = s->cfg.medium == SW_SOURCE_MEDIUM_FILE;
    *idle = false;
    for (;;) {
        if (stop_requested(o))
            return SW_RUN_STOPPED;
        int timeout = POLL_SLICE_MS;
        int64_t next = sw_reconnect_next_ms(rc);
        if (next >= 0) {
            int64_t left = next - mono_ms();
            if (left < timeout)
                timeout = left < 0 ? 0 : (int)left;
        }
        size_t n = 0;
        int64_t ts = 0;
        sw_err e = sw_source_read(s, buf, READ_MAX, &n, &ts, timeout);
        if (e == SW_OK) {
            sw_reconnect_data(rc, mono_ms());
            if (o->on_bytes && o->on_bytes(o->ctx, buf, n, ts))
                return SW_RUN_STOPPED;
            continue;
        }
        if (e == SW_ERR_TIMEOUT) {
            if (sw_reconnect_tick(rc, mono_ms()) != SW_RECONNECT_DROP)
                continue;
            SW_LOGW(tg, "no data from %s for %llu s, reconnecting", desc,
                    (unsigned long long)o->reconnect_timeout_s);
            *idle = true;
            return SW_RUN_EOF;
        }
        if (is_file) {
            if (e == SW_ERR_EOF)
                return SW_RUN_EOF;
            if (e == SW_ERR_IO)
                SW_LOGE(tg, "error reading %s: %s", desc, strerror(errno));
            else if (e == SW_ERR_TRUNCATED)
                SW_LOGE(tg, "error reading %s: the capture is truncated (it ends inside a pcapng block)", desc);
            else
                SW_LOGE(tg, "error reading %s: %s", desc, sw_err_message(e));
            return SW_RUN_INPUT_ERROR;
        }
        if (e == SW_ERR_EOF && s->cfg.medium == SW_SOURCE_MEDIUM_SERIAL)
            SW_LOGE(tg, "error reading %s: the device hung up", desc); /* unplugged adapter */
        else if (e == SW_ERR_EOF)
            SW_LOGW(tg, "%s closed the connection", desc);
        else
            SW_LOGE(tg, "error reading %s: %s", desc, strerror(errno));
        return SW_RUN_EOF;
    }
}

static sw_run_result run_loop(sw_source *s, const sw_run_options *o, const char *tg, const char *desc,
                              uint8_t *buf)
{
    char rt[32];
    bool is_file = s->cfg.medium == SW_SOURCE_MEDIUM_FILE;
    /* Only a TCP session can be silently dead; serial and files report their end. */
    bool idle_applies = s->cfg.medium == SW_SOURCE_MEDIUM_TCP && o->reconnect_timeout_s > 0;
    sw_reconnect_config rcfg = {
        .delay_ms = (int64_t)o->reconnect_delay_s * 1000,
        .max_delay_ms = 0, /* taptap's fixed pause */
        .idle_ms = idle_applies ? (int64_t)o->reconnect_timeout_s * 1000 : 0,
        .retry_limit = o->reconnect_retry,
    };
    sw_reconnect rc;
    sw_reconnect_init(&rc, &rcfg);
    sw_reconnect_start(&rc, mono_ms());

    while (!stop_requested(o)) {
        SW_LOGI(tg, "opening %s", desc);
        sw_err e = sw_source_open(s);
        if (e) {
            SW_LOGE(tg, "cannot open %s: %s", desc, sw_io_reason(e, errno));
            if (is_file || sw_reconnect_open_failed(&rc, mono_ms()) == SW_RECONNECT_GIVE_UP_OPEN)
                return SW_RUN_OPEN_FAILED;
            retry_text(rt, sizeof rt, rc.retries, o->reconnect_retry);
            SW_LOGI(tg, "retry %s in %llu s", rt, (unsigned long long)o->reconnect_delay_s);
            pause_until(o, sw_reconnect_next_ms(&rc));
            sw_reconnect_tick(&rc, mono_ms());
            continue;
        }
        SW_LOGI(tg, "opened %s", desc);
        sw_reconnect_opened(&rc, mono_ms());
        if (o->on_open)
            o->on_open(o->ctx, s);
        bool idle = false;
        sw_run_result res = read_session(s, o, tg, desc, buf, &rc, &idle);
        sw_source_close(s);
        if (res != SW_RUN_EOF || is_file)
            return res;
        if (sw_reconnect_lost(&rc, mono_ms(), idle) == SW_RECONNECT_GIVE_UP_IDLE)
            return SW_RUN_IDLE_EXCEEDED;
        if (stop_requested(o))
            break;
        SW_LOGI(tg, "reconnecting in %llu s", (unsigned long long)o->reconnect_delay_s);
        pause_until(o, sw_reconnect_next_ms(&rc));
        sw_reconnect_tick(&rc, mono_ms());
    }
    return SW_RUN_STOPPED;
}

sw_run_result sw_source_run(sw_source *s, const sw_run_options *o)
{
    const char *tg = o->log_target ? o->log_target : "sunwire";
    char desc[320];
    sw_source_describe(s, desc, sizeof desc);
    uint8_t *buf = malloc(READ_MAX);
    if (!buf) {
        SW_LOGE(tg, "out of memory");
        return SW_RUN_INPUT_ERROR;
    }
    sw_run_result res = run_loop(s, o, tg, desc, buf);
    free(buf);
    return res;
}
