/*
 * influx.c: InfluxDB line protocol, and the sink that delivers it
 * (see sink/sink_influx.h).
 *
 * Trusts the model's records to be NUL-terminated; trusts nothing about their
 * text, which is escaped per position. Delivery to HTTP uses curl's multi
 * interface with its sockets and timer registered in the daemon's sw_loop, so
 * a request in flight costs the loop nothing but a poll entry.
 */
#include "sink/sink_influx.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/fields.h"
#include "sunwire/core.h"
#include "io/log.h"
#include "sunwire_config.h"

#if SUNWIRE_HAVE_CURL
#include <curl/curl.h>
#endif

#define LOG_TARGET "sunwire::influx"

/* ---- precision ------------------------------------------------------------ */

static const char *const precision_names[] = { "ns", "us", "ms", "s" };

sw_err sw_influx_precision_parse(const char *text, sw_influx_precision *out)
{
    for (int i = 0; i < 4; i++) {
        if (text && strcmp(text, precision_names[i]) == 0) {
            *out = (sw_influx_precision)i;
            return SW_OK;
        }
    }
    return SW_ERR_INVALID_ARGUMENT;
}

const char *sw_influx_precision_name(sw_influx_precision p)
{
    return (unsigned)p < 4 ? precision_names[p] : "ns";
}

int64_t sw_influx_timestamp(int64_t unix_ns, sw_influx_precision p)
{
    static const int64_t div[] = { 1, 1000, 1000000, 1000000000 };
    int64_t d = div[(unsigned)p < 4 ? p : 0];
    int64_t q = unix_ns / d;
    /* C division truncates; pre-1970 times must still land on the earlier tick. */
    if (unix_ns % d != 0 && unix_ns < 0)
        q--;
    return q;
}

/* ---- the line writer ------------------------------------------------------- */

static void put_char(sw_influx_line *l, char c)
{
    if (l->len + 1 < l->cap)
        l->buf[l->len++] = c;
    else
        l->overflow = true;
}

static void put_str(sw_influx_line *l, const char *s)
{
    while (*s)
        put_char(l, *s++);
}

/* `specials` are the characters that need a backslash in this position. */
static void put_escaped(sw_influx_line *l, const char *s, const char *specials)
{
    for (; *s; s++) {
        /* Line protocol has no escape for a line break: it would end the line. */
        char c = (*s == '\n' || *s == '\r') ? ' ' : *s;
        if (strchr(specials, c))
            put_char(l, '\\');
        put_char(l, c);
    }
}

#define MEAS_SPECIALS ", "
#define KEY_SPECIALS ",= "
#define STR_SPECIALS "\"\\"

void sw_influx_line_begin(sw_influx_line *l, char *buf, size_t cap, const char *measurement)
{
    l->buf = buf;
    l->cap = cap;
    l->len = 0;
    l->fields = 0;
    l->overflow = cap == 0;
    put_escaped(l, measurement, MEAS_SPECIALS);
}

void sw_influx_line_tag(sw_influx_line *l, const char *key, const char *value)
{
    if (!value || !*value || !key || !*key)
        return;
    put_char(l, ',');
    put_escaped(l, key, KEY_SPECIALS);
    put_char(l, '=');
    put_escaped(l, value, KEY_SPECIALS);
}

static void field_key(sw_influx_line *l, const char *key)
{
    put_char(l, l->fields == 0 ? ' ' : ',');
    put_escaped(l, key, KEY_SPECIALS);
    put_char(l, '=');
    l->fields++;
}

void sw_influx_line_field_double(sw_influx_line *l, const char *key, double v)
{
    if (!isfinite(v))
        return;
    char num[SW_DOUBLE_TEXT_MAX];
    sw_fmt_double(num, v);
    field_key(l, key);
    put_str(l, num);
}

void sw_influx_line_field_int(sw_influx_line *l, const char *key, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRId64 "i", v);
    field_key(l, key);
    put_str(l, num);
}

void sw_influx_line_field_bool(sw_influx_line *l, const char *key, bool v)
{
    field_key(l, key);
    put_str(l, v ? "true" : "false");
}

void sw_influx_line_field_string(sw_influx_line *l, const char *key, const char *v)
{
    field_key(l, key);
    put_char(l, '"');
    put_escaped(l, v ? v : "", STR_SPECIALS);
    put_char(l, '"');
}

sw_err sw_influx_line_end(sw_influx_line *l, int64_t unix_ns, sw_influx_precision p, size_t *len_out)
{
    char num[32];
    snprintf(num, sizeof num, " %" PRId64 "\n", sw_influx_timestamp(unix_ns, p));
    put_str(l, num);
    if (l->cap > 0)
        l->buf[l->len < l->cap ? l->len : l->cap - 1] = '\0';
    if (len_out)
        *len_out = l->overflow ? 0 : l->len;
    if (l->overflow)
        return SW_ERR_NO_SPACE;
    if (l->fields == 0)
        return SW_ERR_NOT_FOUND;
    return SW_OK;
}

/* ---- one line per record ----------------------------------------------------- */

/*
 * A record's table fields (model/fields.h) that have an Influx name: identity
 * fields as tags, the others as fields typed by their member, in table order.
 */
static void record_fields(sw_influx_line *l, const sw_field *f, size_t n, const void *rec)
{
    for (size_t i = 0; i < n; i++) {
        const char *key = f[i].key.influx;
        if (!key || !(f[i].flags & SW_FF_ID))
            continue;
        if (f[i].type == SW_FT_TEXT || f[i].type == SW_FT_KIND) {
            sw_influx_line_tag(l, key, sw_field_text(&f[i], rec));
        } else {
            char num[24];
            snprintf(num, sizeof num, "%" PRId64, sw_field_int(&f[i], rec));
            sw_influx_line_tag(l, key, num);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *key = f[i].key.influx;
        if (!key || (f[i].flags & SW_FF_ID))
            continue;
        switch (f[i].type) {
        case SW_FT_TEXT:
        case SW_FT_KIND:
            sw_influx_line_field_string(l, key, sw_field_text(&f[i], rec));
            break;
        case SW_FT_BOOL:
            sw_influx_line_field_bool(l, key, sw_field_bool(&f[i], rec));
            break;
        case SW_FT_DOUBLE:
            sw_influx_line_field_double(l, key, sw_field_number(&f[i], rec));
            break;
        default:
            sw_influx_line_field_int(l, key, sw_field_int(&f[i], rec));
        }
    }
}

static sw_err record_line(char *buf, size_t cap, const char *measurement, const sw_field *f, size_t n,
                          const void *rec, int64_t time_ns, sw_influx_precision prec, size_t *len_out)
{
    sw_influx_line l;
    sw_influx_line_begin(&l, buf, cap, measurement);
    record_fields(&l, f, n, rec);
    return sw_influx_line_end(&l, time_ns, prec, len_out);
}

sw_err sw_influx_panel_line(char *buf, size_t cap, const sw_panel *p, int64_t now_ns, sw_influx_precision prec,
                            size_t *len_out)
{
    return record_line(buf, cap, "sunwire_panel", sw_panel_fields, sw_panel_field_count, p,
                       p->last_seen_ns ? p->last_seen_ns : now_ns, prec, len_out);
}

sw_err sw_influx_string_line(char *buf, size_t cap, const sw_string_agg *s, int64_t now_ns,
                             sw_influx_precision prec, size_t *len_out)
{
    return record_line(buf, cap, "sunwire_string", sw_string_fields, sw_string_field_count, s, now_ns, prec,
                       len_out);
}

sw_err sw_influx_inverter_line(char *buf, size_t cap, const sw_inverter *inv, int64_t now_ns,
                               sw_influx_precision prec, size_t *len_out)
{
    return record_line(buf, cap, "sunwire_inverter", sw_inverter_fields, sw_inverter_field_count, inv, now_ns,
                       prec, len_out);
}

sw_err sw_influx_inverter_value_line(char *buf, size_t cap, const sw_inverter_value *v, int64_t now_ns,
                                     sw_influx_precision prec, size_t *len_out)
{
    sw_influx_line l;
    sw_influx_line_begin(&l, buf, cap, "sunwire_inverter_value");
    sw_influx_line_tag(&l, "inverter", v->inverter);
    sw_influx_line_tag(&l, "object", v->object_name);
    sw_influx_line_tag(&l, "unit", v->unit);
    if (v->is_number) {
        sw_influx_line_field_double(&l, "value", v->number);
    } else {
        sw_influx_line_field_string(&l, "text", v->text);
        if (v->json)
            sw_influx_line_field_string(&l, "json", v->json);
    }
    return sw_influx_line_end(&l, v->timestamp_ns ? v->timestamp_ns : now_ns, prec, len_out);
}

sw_err sw_influx_gateway_line(char *buf, size_t cap, const sw_gateway *g, int64_t now_ns,
                              sw_influx_precision prec, size_t *len_out)
{
    return record_line(buf, cap, "sunwire_gateway", sw_gateway_fields, sw_gateway_field_count, g, now_ns, prec,
                       len_out);
}

sw_err sw_influx_source_line(char *buf, size_t cap, const sw_source_status *s, int64_t now_ns,
                             sw_influx_precision prec, size_t *len_out)
{
    return record_line(buf, cap, "sunwire_source", sw_source_fields, sw_source_field_count, s, now_ns, prec,
                       len_out);
}

sw_err sw_influx_event_line(char *buf, size_t cap, const char *kind, const char *json, int64_t now_ns,
                            sw_influx_precision prec, size_t *len_out)
{
    sw_influx_line l;
    sw_influx_line_begin(&l, buf, cap, "sunwire_event");
    sw_influx_line_tag(&l, "kind", kind);
    sw_influx_line_field_string(&l, "json", json);
    return sw_influx_line_end(&l, now_ns, prec, len_out);
}

sw_err sw_influx_problem_line(char *buf, size_t cap, const sw_problem *p, sw_influx_precision prec, size_t *len_out)
{
    sw_influx_line l;
    sw_influx_line_begin(&l, buf, cap, "sunwire_problem");
    sw_influx_line_tag(&l, "kind", sw_problem_kind_name(p->kind));
    sw_influx_line_tag(&l, "subject_kind", sw_subject_kind_name(p->subject_kind));
    sw_influx_line_tag(&l, "source", p->source);
    sw_influx_line_tag(&l, "subject", p->subject);
    sw_influx_line_field_bool(&l, "active", p->active);
    sw_influx_line_field_string(&l, "reason", p->reason);
    sw_influx_line_field_string(&l, "name", p->name);
    sw_influx_line_field_int(&l, "since_ns", p->since_ns);
    /* The change's own time: the raise, the new reason or the clear. */
    return sw_influx_line_end(&l, p->updated_ns, prec, len_out);
}

/* ---- configuration ------------------------------------------------------------ */

void sw_influx_config_defaults(sw_influx_config *c)
{
    memset(c, 0, sizeof *c);
    c->dest = SW_INFLUX_DEST_STDOUT;
    c->precision = SW_INFLUX_PRECISION_NS;
    c->batch_lines = 500;
    c->flush_ms = 1000;
    c->max_buffer = 4u << 20;
    c->timeout_ms = 10000;
    c->retry_min_ms = 1000;
    c->retry_max_ms = 60000;
}

static sw_err set_err(char *err, size_t errcap, const char *key, const char *value, const char *what)
{
    if (err && errcap) {
        if (value)
            snprintf(err, errcap, "influx: %s = '%s' %s", key, value, what);
        else
            snprintf(err, errcap, "influx: %s %s", key, what);
    }
    return SW_ERR_INVALID_ARGUMENT;
}

static bool parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
    uint64_t n;
    if (!sw_parse_uint(v, max, &n))
        return false;
    *out = n;
    return true;
}

static bool copy_text(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap)
        return false;
    memcpy(dst, v, n + 1);
    return true;
}

sw_err sw_influx_config_set(sw_influx_config *c, const char *key, const char *value, char *err, size_t errcap)
{
    unsigned long long n;
    if (!key || !value)
        return set_err(err, errcap, "entry", NULL, "is missing its key or value");
    if (strcmp(key, "enable") == 0 || strcmp(key, "enabled") == 0) {
        if (!sw_parse_bool(value, &c->enable))
            return set_err(err, errcap, key, value, "is not a boolean (true/false)");
    } else if (strcmp(key, "output") == 0) {
        if (strcmp(value, "stdout") == 0)
            c->dest = SW_INFLUX_DEST_STDOUT;
        else if (strcmp(value, "file") == 0)
            c->dest = SW_INFLUX_DEST_FILE;
        else if (strcmp(value, "http") == 0)
            c->dest = SW_INFLUX_DEST_HTTP;
        else
            return set_err(err, errcap, key, value, "is not one of stdout, file, http");
    } else if (strcmp(key, "api") == 0) {
        if (strcmp(value, "v1") == 0 || strcmp(value, "1") == 0)
            c->api = SW_INFLUX_API_V1;
        else if (strcmp(value, "v2") == 0 || strcmp(value, "2") == 0)
            c->api = SW_INFLUX_API_V2;
        else
            return set_err(err, errcap, key, value, "is not one of v1, v2");
    } else if (strcmp(key, "db") == 0 || strcmp(key, "rp") == 0 || strcmp(key, "user") == 0 ||
               strcmp(key, "password") == 0) {
        char *dst = key[0] == 'd' ? c->db : key[0] == 'r' ? c->rp : key[0] == 'u' ? c->user : c->password;
        size_t cap = key[0] == 'd' ? sizeof c->db : key[0] == 'r' ? sizeof c->rp
                   : key[0] == 'u' ? sizeof c->user : sizeof c->password;
        if (!copy_text(dst, cap, value))
            return set_err(err, errcap, key, NULL, "is too long");
    } else if (strcmp(key, "file") == 0 || strcmp(key, "url") == 0 || strcmp(key, "org") == 0 ||
               strcmp(key, "bucket") == 0 || strcmp(key, "token") == 0) {
        char *dst = key[0] == 'f' ? c->file : key[0] == 'u' ? c->url : key[0] == 'o' ? c->org
                  : key[0] == 'b' ? c->bucket : c->token;
        size_t cap = key[0] == 'f' ? sizeof c->file : key[0] == 'u' ? sizeof c->url
                   : key[0] == 'o' ? sizeof c->org : key[0] == 'b' ? sizeof c->bucket : sizeof c->token;
        if (!copy_text(dst, cap, value))
            return set_err(err, errcap, key, NULL, "is too long");
        if (key[0] == 'f')
            c->dest = SW_INFLUX_DEST_FILE;
        else if (key[0] == 'u')
            c->dest = SW_INFLUX_DEST_HTTP;
    } else if (strcmp(key, "precision") == 0) {
        if (sw_influx_precision_parse(value, &c->precision) != SW_OK)
            return set_err(err, errcap, key, value, "is not one of ns, us, ms, s");
    } else if (strcmp(key, "batch_lines") == 0) {
        if (!parse_uint(value, 1000000, &n) || n == 0)
            return set_err(err, errcap, key, value, "must be a number from 1 to 1000000");
        c->batch_lines = (unsigned)n;
    } else if (strcmp(key, "flush_ms") == 0 || strcmp(key, "timeout_ms") == 0 ||
               strcmp(key, "retry_min_ms") == 0 || strcmp(key, "retry_max_ms") == 0) {
        if (!parse_uint(value, 3600000, &n) || n == 0)
            return set_err(err, errcap, key, value, "must be milliseconds from 1 to 3600000");
        if (key[0] == 'f')
            c->flush_ms = (unsigned)n;
        else if (key[0] == 't')
            c->timeout_ms = (unsigned)n;
        else if (strcmp(key, "retry_min_ms") == 0)
            c->retry_min_ms = (unsigned)n;
        else
            c->retry_max_ms = (unsigned)n;
    } else if (strcmp(key, "max_buffer") == 0) {
        if (!parse_uint(value, (unsigned long long)1 << 32, &n) || n < 4096)
            return set_err(err, errcap, key, value, "must be a byte count of at least 4096");
        c->max_buffer = (size_t)n;
    } else {
        return set_err(err, errcap, key, NULL, "is not a known key");
    }
    return SW_OK;
}

/* ---- the sink ------------------------------------------------------------------- */

typedef struct influx_sink {
    sw_loop *loop;
    sw_influx_config cfg;
    FILE *fp;                 /* stdout */
    int fd;                   /* the file, or -1 */
    sw_influx_counters counters;
    /* Lines waiting for the next batch (whole lines only). */
    char *pending;
    size_t pending_len, pending_cap;
    unsigned pending_lines;
    uint64_t flush_timer;
    /* The batch in flight (or waiting for its retry). */
    char *batch;
    size_t batch_len;
    unsigned batch_lines;
    bool in_flight;
    unsigned backoff_ms;
    uint64_t retry_timer;
    /* The outage being reported: first failure, attempts since, last log line. */
    int64_t outage_start_ms, outage_logged_ms;
    unsigned outage_failures;
    uint64_t outage_dropped_at_start;
#if SUNWIRE_HAVE_CURL
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers;
    char write_url[1024];
    char reply[256];          /* the start of the server's answer, for messages */
    size_t reply_len;
    uint64_t curl_timer;
#endif
} influx_sink;

/* While an outage lasts, one reminder per this many milliseconds. */
#define OUTAGE_LOG_EVERY_MS (10 * 60 * 1000)

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start_request(influx_sink *s);

/*
 * The file gets whole lines only: all waiting lines in one write(), so a
 * reader never sees a line cut at a stdio buffer boundary. A short write (disk
 * full) is undone by truncating back, so the file still ends with a line break.
 */
static void file_flush(influx_sink *s)
{
    if (s->fd < 0 || s->pending_len == 0)
        return;
    off_t start = lseek(s->fd, 0, SEEK_END);
    size_t done = 0;
    int err = 0;
    while (done < s->pending_len) {
        ssize_t w = write(s->fd, s->pending + done, s->pending_len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err = w < 0 ? errno : ENOSPC;
            break;
        }
        done += (size_t)w;
    }
    if (done == s->pending_len) {
        s->counters.written += s->pending_lines;
    } else {
        SW_LOGW(LOG_TARGET, "writing %s failed: %s; %u lines dropped", s->cfg.file, strerror(err),
                s->pending_lines);
        if (start >= 0 && done > 0 && ftruncate(s->fd, start) != 0)
            SW_LOGW(LOG_TARGET, "cannot cut %s back to whole lines: %s", s->cfg.file, strerror(errno));
        s->counters.dropped += s->pending_lines;
    }
    s->pending_len = 0;
    s->pending_lines = 0;
}

static int64_t on_flush_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    influx_sink *s = user;
    s->flush_timer = 0;
    if (s->fp)
        fflush(s->fp);
    else if (s->fd >= 0)
        file_flush(s);
    else if (!s->in_flight && s->retry_timer == 0)
        start_request(s);
    return -1;
}

static void arm_flush(influx_sink *s)
{
    if (s->flush_timer == 0)
        s->flush_timer = sw_loop_add_timer(s->loop, s->cfg.flush_ms, on_flush_timer, s);
}

/* Bytes of buf's first line, with its line break (all of buf when it has none). */
static size_t first_line(const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    return nl ? (size_t)(nl - buf) + 1 : len;
}

/*
 * Make room for n more bytes within max_buffer by dropping the oldest lines:
 * first from a batch that waits for its retry, then from the pending lines.
 * At least a sixteenth of the buffer goes at once, so a long outage costs one
 * memmove per sixteenth, not one per line. False when n cannot fit at all.
 */
static bool make_room(influx_sink *s, size_t n)
{
    if (n > s->cfg.max_buffer)
        return false;
    while (s->pending_len + s->batch_len + n > s->cfg.max_buffer) {
        size_t want = s->pending_len + s->batch_len + n - s->cfg.max_buffer;
        if (want < s->cfg.max_buffer / 16)
            want = s->cfg.max_buffer / 16;
        char *buf;
        size_t *len;
        unsigned *lines;
        if (s->batch_len > 0 && !s->in_flight) {
            buf = s->batch, len = &s->batch_len, lines = &s->batch_lines;
        } else if (s->pending_len > 0) {
            buf = s->pending, len = &s->pending_len, lines = &s->pending_lines;
        } else {
            return false;
        }
        size_t cut = 0;
        unsigned dropped = 0;
        while (cut < *len && cut < want) {
            cut += first_line(buf + cut, *len - cut);
            dropped++;
        }
        memmove(buf, buf + cut, *len - cut);
        *len -= cut;
        *lines -= dropped;
        s->counters.dropped += dropped;
    }
    return true;
}

static void emit(influx_sink *s, const char *line, size_t n)
{
    s->counters.lines++;
    if (s->fp) {
        if (fwrite(line, 1, n, s->fp) == n)
            s->counters.written++;
        else
            s->counters.dropped++;
        arm_flush(s);
        return;
    }
    if (!make_room(s, n)) {
        s->counters.dropped++;
        return;
    }
    if (s->pending_len + n > s->pending_cap) {
        size_t cap = s->pending_cap ? s->pending_cap : 4096;
        while (cap < s->pending_len + n)
            cap *= 2;
        char *p = realloc(s->pending, cap);
        if (!p) {
            s->counters.dropped++;
            return;
        }
        s->pending = p;
        s->pending_cap = cap;
    }
    memcpy(s->pending + s->pending_len, line, n);
    s->pending_len += n;
    s->pending_lines++;
    if (s->pending_lines >= s->cfg.batch_lines && s->fd >= 0)
        file_flush(s);
    else if (s->pending_lines >= s->cfg.batch_lines && !s->in_flight && s->retry_timer == 0)
        start_request(s);
    else
        arm_flush(s);
}

#define LINE_MAX_BYTES 2048

static void on_panel(void *self, const sw_panel *p)
{
    influx_sink *s = self;
    char line[LINE_MAX_BYTES];
    size_t n;
    /* Nothing measured yet (identity only): zeros would draw a false dip in every chart. */
    if (p->last_seen_ns == 0)
        return;
    if (sw_influx_panel_line(line, sizeof line, p, wall_ns(), s->cfg.precision, &n) == SW_OK)
        emit(s, line, n);
}

static void on_string(void *self, const sw_string_agg *a)
{
    influx_sink *s = self;
    char line[LINE_MAX_BYTES];
    size_t n;
    if (sw_influx_string_line(line, sizeof line, a, wall_ns(), s->cfg.precision, &n) == SW_OK)
        emit(s, line, n);
}

static void on_inverter(void *self, const sw_inverter *inv)
{
    influx_sink *s = self;
    char line[LINE_MAX_BYTES];
    size_t n;
    if (sw_influx_inverter_line(line, sizeof line, inv, wall_ns(), s->cfg.precision, &n) == SW_OK)
        emit(s, line, n);
}

static void on_inverter_value(void *self, const sw_inverter_value *v)
{
    influx_sink *s = self;
    char line[LINE_MAX_BYTES];
    size_t n;
    if (sw_influx_inverter_value_line(line, sizeof line, v, wall_ns(), s->cfg.precision, &n) == SW_OK) {
        emit(s, line, n);
        return;
    }
    /* A long text or structured value: a line as long as it needs (escaping at most doubles it). */
    size_t cap = LINE_MAX_BYTES + 2 * (strlen(v->text) + (v->json ? strlen(v->json) : 0));
    char *big = malloc(cap);
    if (big && sw_influx_inverter_value_line(big, cap, v, wall_ns(), s->cfg.precision, &n) == SW_OK)
        emit(s, big, n);
    free(big);
}

static void on_gateway(void *self, const sw_gateway *g)
{
    influx_sink *s = self;
    char line[LINE_MAX_BYTES];
    size_t n;
    if (sw_influx_gateway_line(line, sizeof line, g, wall_ns(), s->cfg.precision, &n) == SW_OK)
        emit(s, line, n);
}

static void on_source(void *self, const sw_source_status *st)
{
    influx_sink *s = self;
    char line[LINE_MAX_BYTES];
    size_t n;
    if (sw_influx_source_line(line, sizeof line, st, wall_ns(), s->cfg.precision, &n) == SW_OK)
        emit(s, line, n);
}

static void on_event(void *self, const sw_event *ev)
{
    influx_sink *s = self;
    char json[1024];
    if (sw_event_json(ev, json, sizeof json, NULL) != SW_OK) {
        s->counters.dropped++;
        return;
    }
    const char *kind = sw_event_kind_name(ev->kind);
    /* Quoting can double the text: size the line for it. */
    size_t cap = strlen(json) * 2 + strlen(kind) * 2 + 128;
    char *line = malloc(cap);
    size_t n;
    if (!line) {
        s->counters.dropped++;
        return;
    }
    if (sw_influx_event_line(line, cap, kind, json, wall_ns(), s->cfg.precision, &n) == SW_OK)
        emit(s, line, n);
    free(line);
}

static void on_problem(void *self, const sw_problem *p)
{
    influx_sink *s = self;
    char line[LINE_MAX_BYTES];
    size_t n;
    if (sw_influx_problem_line(line, sizeof line, p, s->cfg.precision, &n) == SW_OK)
        emit(s, line, n);
    else
        s->counters.dropped++;
}

void sw_influx_get_counters(const void *sink_self, sw_influx_counters *out)
{
    const influx_sink *s = sink_self;
    *out = s->counters;
    out->waiting = s->pending_lines + s->batch_lines;
}

/* ---- HTTP delivery through curl multi ------------------------------------------ */

#if SUNWIRE_HAVE_CURL

static void check_done(influx_sink *s);

static int64_t on_retry_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    influx_sink *s = user;
    s->retry_timer = 0;
    start_request(s);
    return -1;
}

static void on_curl_fd(sw_loop *loop, int fd, int events, void *user)
{
    (void)loop;
    influx_sink *s = user;
    int running = 0;
    int flags = ((events & SW_LOOP_READ) ? CURL_CSELECT_IN : 0) | ((events & SW_LOOP_WRITE) ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(s->multi, fd, flags, &running);
    check_done(s);
}

static int64_t on_curl_timer(sw_loop *loop, uint64_t id, void *user)
{
    (void)loop; (void)id;
    influx_sink *s = user;
    int running = 0;
    /* Forget the id first: curl may ask for a new timer from inside socket_action. */
    s->curl_timer = 0;
    curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(s);
    return -1;
}

static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy; (void)socketp;
    influx_sink *s = userp;
    if (what == CURL_POLL_REMOVE) {
        sw_loop_del_fd(s->loop, fd);
        return 0;
    }
    int ev = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev |= SW_LOOP_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev |= SW_LOOP_WRITE;
    return sw_loop_add_fd(s->loop, fd, ev, on_curl_fd, s) == SW_OK ? 0 : -1;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    influx_sink *s = userp;
    if (s->curl_timer) {
        sw_loop_del_timer(s->loop, s->curl_timer);
        s->curl_timer = 0;
    }
    if (timeout_ms >= 0)
        s->curl_timer = sw_loop_add_timer(s->loop, timeout_ms, on_curl_timer, s);
    return 0;
}

/* Keeps the start of the server's answer: InfluxDB explains a refusal there. */
static size_t keep_reply(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    influx_sink *s = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof s->reply - 1 - s->reply_len;
    size_t take = n < room ? n : room;
    memcpy(s->reply + s->reply_len, ptr, take);
    s->reply_len += take;
    s->reply[s->reply_len] = '\0';
    for (size_t i = 0; i < s->reply_len; i++)
        if (s->reply[i] == '\n' || s->reply[i] == '\r')
            s->reply[i] = ' ';
    return n;
}

static void schedule_retry(influx_sink *s)
{
    if (s->backoff_ms == 0)
        s->backoff_ms = s->cfg.retry_min_ms;
    else if (s->backoff_ms < s->cfg.retry_max_ms / 2)
        s->backoff_ms *= 2;
    else
        s->backoff_ms = s->cfg.retry_max_ms;
    s->retry_timer = sw_loop_add_timer(s->loop, s->backoff_ms, on_retry_timer, s);
}

/*
 * One failed attempt: the batch stays and is retried. The first failure of
 * an outage is logged with its reason, then one reminder every ten minutes;
 * the recovery logs the summary (outage_ended).
 */
static void outage_failed(influx_sink *s, const char *why)
{
    int64_t now = mono_ms();
    s->counters.failures++;
    if (s->outage_failures++ == 0) {
        s->outage_start_ms = now;
        s->outage_logged_ms = now;
        s->outage_dropped_at_start = s->counters.dropped;
        SW_LOGW(LOG_TARGET, "InfluxDB write failed: %s; keeping the lines (up to %zu bytes) and retrying", why,
                s->cfg.max_buffer);
    } else if (now - s->outage_logged_ms >= OUTAGE_LOG_EVERY_MS) {
        s->outage_logged_ms = now;
        SW_LOGW(LOG_TARGET,
                "InfluxDB writes still failing after %u attempts in %lld s: %s; %u lines waiting, %llu dropped",
                s->outage_failures, (long long)((now - s->outage_start_ms) / 1000), why,
                s->pending_lines + s->batch_lines,
                (unsigned long long)(s->counters.dropped - s->outage_dropped_at_start));
    }
    schedule_retry(s);
}

/* The server answered (`how`: "writes succeed again", "answers again"): the summary of the outage, if any. */
static void outage_ended(influx_sink *s, const char *how)
{
    if (s->outage_failures > 0)
        SW_LOGW(LOG_TARGET, "InfluxDB %s after %u failed attempts in %lld s; %llu lines dropped meanwhile", how,
                s->outage_failures, (long long)((mono_ms() - s->outage_start_ms) / 1000),
                (unsigned long long)(s->counters.dropped - s->outage_dropped_at_start));
    s->outage_failures = 0;
    s->backoff_ms = 0;
}

static void check_done(influx_sink *s)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        long status = 0;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(s->multi, msg->easy_handle);
        s->in_flight = false;
        if (rc == CURLE_OK && status >= 200 && status < 300) {
            s->counters.written += s->batch_lines;
            s->batch_len = 0;
            s->batch_lines = 0;
            outage_ended(s, "writes succeed again");
        } else if (rc == CURLE_OK && (status == 400 || status == 413)) {
            /* The data itself was refused (malformed, or too large): sending it again cannot help. */
            SW_LOGW(LOG_TARGET, "InfluxDB refused a batch of %u lines (HTTP %ld: %s); dropped", s->batch_lines,
                    status, s->reply);
            s->counters.dropped += s->batch_lines;
            s->batch_len = 0;
            s->batch_lines = 0;
            outage_ended(s, "answers again");
        } else {
            /* Unreachable, overloaded, or refused for a reason the user can fix (a database or
             * bucket still to be created, a password): keep the batch and try again. */
            char why[400];
            if (rc != CURLE_OK)
                snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));
            else
                snprintf(why, sizeof why, "HTTP %ld %s", status, s->reply);
            outage_failed(s, why);
            continue;
        }
        if (s->pending_lines >= s->cfg.batch_lines)
            start_request(s);
        else if (s->pending_lines > 0)
            arm_flush(s);
    }
}

static void start_request(influx_sink *s)
{
    if (s->in_flight || !s->multi)
        return;
    if (s->batch_len == 0) {
        if (s->pending_len == 0)
            return;
        /* Hand the pending buffer over as the batch; the next lines start a new one. */
        free(s->batch);
        s->batch = s->pending;
        s->batch_len = s->pending_len;
        s->batch_lines = s->pending_lines;
        s->pending = NULL;
        s->pending_cap = 0;
        s->pending_len = 0;
        s->pending_lines = 0;
    }
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->batch);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->batch_len);
    s->reply_len = 0;
    s->reply[0] = '\0';
    if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK) {
        outage_failed(s, "the request could not be started");
        return;
    }
    s->in_flight = true;
    s->counters.requests++;
}

/* The precision parameter as each API spells it: v1 says "u" for microseconds. */
static const char *api_precision(const influx_sink *s)
{
    if (s->cfg.api == SW_INFLUX_API_V1 && s->cfg.precision == SW_INFLUX_PRECISION_US)
        return "u";
    return sw_influx_precision_name(s->cfg.precision);
}

static sw_err http_open(influx_sink *s)
{
    /* Reference-counted by libcurl; paired with the cleanup in http_close. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s->easy = curl_easy_init();
    s->multi = curl_multi_init();
    if (!s->easy || !s->multi)
        return SW_ERR_NO_MEMORY;
    const char *base = s->cfg.url;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    int n;
    if (s->cfg.api == SW_INFLUX_API_V1) {
        char *db = curl_easy_escape(s->easy, s->cfg.db, 0);
        char *rp = curl_easy_escape(s->easy, s->cfg.rp, 0);
        n = snprintf(s->write_url, sizeof s->write_url, "%.*s/write?db=%s%s%s&precision=%s", (int)bl, base,
                     db ? db : "", s->cfg.rp[0] ? "&rp=" : "", s->cfg.rp[0] && rp ? rp : "", api_precision(s));
        curl_free(db);
        curl_free(rp);
        if (s->cfg.user[0]) {
            curl_easy_setopt(s->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(s->easy, CURLOPT_USERNAME, s->cfg.user);
            curl_easy_setopt(s->easy, CURLOPT_PASSWORD, s->cfg.password);
        }
    } else {
        char *org = curl_easy_escape(s->easy, s->cfg.org, 0);
        char *bucket = curl_easy_escape(s->easy, s->cfg.bucket, 0);
        n = snprintf(s->write_url, sizeof s->write_url, "%.*s/api/v2/write?org=%s&bucket=%s&precision=%s",
                     (int)bl, base, org ? org : "", bucket ? bucket : "", api_precision(s));
        curl_free(org);
        curl_free(bucket);
        if (s->cfg.token[0]) {
            char auth[300];
            snprintf(auth, sizeof auth, "Authorization: Token %s", s->cfg.token);
            s->headers = curl_slist_append(s->headers, auth);
        }
    }
    if (n < 0 || (size_t)n >= sizeof s->write_url)
        return SW_ERR_TOO_LONG;
    s->headers = curl_slist_append(s->headers, "Content-Type: text/plain; charset=utf-8");
    /* No "Expect: 100-continue" round trip before each batch. */
    s->headers = curl_slist_append(s->headers, "Expect:");
    curl_easy_setopt(s->easy, CURLOPT_URL, s->write_url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)s->cfg.timeout_ms);
    curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)s->cfg.timeout_ms);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, keep_reply);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "sunwire/" SUNWIRE_VERSION);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    return SW_OK;
}

/*
 * Send what is left, waiting at most a few seconds: the daemon is shutting
 * down, so one blocking request is acceptable here and nowhere else. The easy
 * handle leaves the multi first, so the loop's socket bookkeeping stays clean.
 */
static void http_drain(influx_sink *s)
{
    if (s->retry_timer) {
        sw_loop_del_timer(s->loop, s->retry_timer);
        s->retry_timer = 0;
    }
    if (s->in_flight) {
        curl_multi_remove_handle(s->multi, s->easy);
        s->in_flight = false;
    }
    if (s->pending_len > 0) {
        char *b = realloc(s->batch, s->batch_len + s->pending_len);
        if (!b)
            return;
        memcpy(b + s->batch_len, s->pending, s->pending_len);
        s->batch = b;
        s->batch_len += s->pending_len;
        s->batch_lines += s->pending_lines;
        s->pending_len = 0;
        s->pending_lines = 0;
    }
    if (s->batch_len == 0)
        return;
    long limit = s->cfg.timeout_ms < 5000 ? (long)s->cfg.timeout_ms : 5000L;
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, limit);
    curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, limit);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->batch);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->batch_len);
    s->counters.requests++;
    long status = 0;
    CURLcode rc = curl_easy_perform(s->easy);
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        s->counters.written += s->batch_lines;
        s->batch_len = 0;
        s->batch_lines = 0;
    } else {
        s->counters.failures++;
        SW_LOGW(LOG_TARGET, "InfluxDB write at shutdown failed (%s, HTTP %ld); %u lines lost",
                rc == CURLE_OK ? "answered" : curl_easy_strerror(rc), status, s->batch_lines);
    }
}

static void http_close(influx_sink *s)
{
    if (s->multi && s->easy)
        http_drain(s);
    if (s->curl_timer)
        sw_loop_del_timer(s->loop, s->curl_timer);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    if (s->easy)
        curl_easy_cleanup(s->easy);
    curl_slist_free_all(s->headers);
    curl_global_cleanup();
}

#else /* !SUNWIRE_HAVE_CURL */

static void start_request(influx_sink *s)
{
    (void)s;
}

#endif

static void influx_close(void *self)
{
    influx_sink *s = self;
    if (!s)
        return;
    if (s->flush_timer)
        sw_loop_del_timer(s->loop, s->flush_timer);
#if SUNWIRE_HAVE_CURL
    if (s->cfg.dest == SW_INFLUX_DEST_HTTP)
        http_close(s);
#endif
    if (s->fp)
        fflush(s->fp);
    if (s->fd >= 0) {
        file_flush(s);
        close(s->fd);
    }
    s->counters.dropped += s->pending_lines + s->batch_lines;
    free(s->pending);
    free(s->batch);
    free(s);
}

static const sw_sink_ops influx_ops = {
    .name = "influx",
    .on_source = on_source,
    .on_gateway = on_gateway,
    .on_panel = on_panel,
    .on_string = on_string,
    .on_inverter = on_inverter,
    .on_value = on_inverter_value,
    .on_event = on_event,
    .on_problem = on_problem,
    .close = influx_close,
};

sw_err sw_influx_start(sw_loop *loop, sw_model *model, const sw_influx_config *c, sw_sink *out)
{
    (void)model; /* the sink works on pushed updates only */
    if (!loop || !c || !out)
        return SW_ERR_INVALID_ARGUMENT;
#if !SUNWIRE_HAVE_CURL
    if (c->dest == SW_INFLUX_DEST_HTTP)
        return SW_ERR_UNSUPPORTED;
#endif
    if (c->dest == SW_INFLUX_DEST_HTTP &&
        (!c->url[0] || (c->api == SW_INFLUX_API_V1 ? !c->db[0] : !c->bucket[0])))
        return SW_ERR_INVALID_ARGUMENT;
    if (c->dest == SW_INFLUX_DEST_FILE && !c->file[0])
        return SW_ERR_INVALID_ARGUMENT;
    influx_sink *s = calloc(1, sizeof *s);
    if (!s)
        return SW_ERR_NO_MEMORY;
    s->loop = loop;
    s->cfg = *c;
    s->fd = -1;
    if (c->dest == SW_INFLUX_DEST_STDOUT) {
        s->fp = stdout;
    } else if (c->dest == SW_INFLUX_DEST_FILE) {
        s->fd = open(c->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (s->fd < 0) {
            SW_LOGE(LOG_TARGET, "cannot open %s: %s", c->file, strerror(errno));
            free(s);
            return SW_ERR_OPEN;
        }
    }
#if SUNWIRE_HAVE_CURL
    else {
        sw_err e = http_open(s);
        if (e != SW_OK) {
            http_close(s);
            free(s);
            return e;
        }
    }
#endif
    out->ops = &influx_ops;
    out->self = s;
    return SW_OK;
}
