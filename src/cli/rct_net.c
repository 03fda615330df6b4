/*
 * rct_net.c: the RCT commands that talk to a device or act as one:
 * read-value, write-value, history/timeseries, events, simulator.
 *
 * Output of rctclient's own options is rctclient's, byte for byte where the
 * spec pins it; every failure that rctclient turns into a hang or a traceback
 * is a one-line message and exit status 1 here (usage errors: 2).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/rct_cli.h"
#include "sunwire/core.h"
#include "sunwire/json.h"
#include "io/net.h"
#include "rct_io/rct_client.h"
#include "rct_io/rct_sim.h"

#define OPT(s, l, k, m, h) { s, l, k, m, h, false, 0, NULL, { 0 }, 0 }
#define OPT_REQUIRED(s, l, k, m, h) { s, l, k, m, h, true, 0, NULL, { 0 }, 0 }

/* ---- shared connection options ------------------------------------------------ */

/* What --debug's byte trace needs while the client lives. */
struct trace_ctx {
    const rc_global *g;
};

struct conn_opts {
    const char *host;
    uint16_t port;
    sw_rct_client_config cfg;
    struct trace_ctx trace; /* set by connect_or_report */
};

static int get_conn_opts(rc_cmd *cmd, bool extras, struct conn_opts *co)
{
    long long v;
    sw_rct_client_config_default(&co->cfg);
    co->host = rc_find(cmd, "--host")->value;
    if (rc_int(cmd, "--port", SW_RCT_DEFAULT_PORT, 0, 65535, &v))
        return 2;
    co->port = (uint16_t)v;
    if (!extras)
        return 0;
    if (rc_int(cmd, "--timeout", co->cfg.request_timeout_ms, 1, 3600000, &v))
        return 2;
    co->cfg.request_timeout_ms = (int)v;
    if (rc_int(cmd, "--connect-timeout", co->cfg.connect_timeout_ms, 1, 3600000, &v))
        return 2;
    co->cfg.connect_timeout_ms = (int)v;
    if (rc_int(cmd, "--retries", co->cfg.retries, 0, 100, &v))
        return 2;
    co->cfg.retries = (int)v;
    rc_opt *a = rc_find(cmd, "--address");
    if (a && a->count) {
        if (rc_int(cmd, "--address", 0, 0, 4294967295LL, &v))
            return 2;
        co->cfg.plant = true;
        co->cfg.address = (uint32_t)v;
    }
    return 0;
}

/* The device's --port and --host (required), first in every command that connects, as rctclient lists them. */
#define CONN_OPTS                                                                                               \
    OPT("-p", "--port", RC_VALUE, "<port>", "Port at which the device listens, default 8899"),                  \
    OPT_REQUIRED("-h", "--host", RC_VALUE, "<host>", "Host address or IP of the device")

#define CONN_EXTRA_OPTS                                                                            \
    OPT(NULL, "--timeout", RC_VALUE, "<ms>", "Wait this long for each answer (default 2000)"),     \
    OPT(NULL, "--connect-timeout", RC_VALUE, "<ms>", "Give up connecting after this (default 5000)"), \
    OPT(NULL, "--retries", RC_VALUE, "<n>", "Ask again this often when an answer is missing or bad (default 3)"), \
    OPT(NULL, "--address", RC_VALUE, "<n>", "Plant member to address (PLANT_* commands)")

/* Bytes as lower-case hex, as rctclient logs them; NULL when out of memory, else the caller frees it. */
static char *hex_lower(const uint8_t *data, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (!hex)
        return NULL;
    sw_hex_encode(hex, data, len);
    for (char *p = hex; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
    return hex;
}

static void trace_bytes(sw_rct_client *c, const char *dir, const uint8_t *data, size_t len, void *user)
{
    (void)c;
    struct trace_ctx *t = user;
    char *hex = hex_lower(data, len);
    if (!hex)
        return;
    if (strcmp(dir, "recv") == 0)
        rc_debug(t->g, "rctclient.cli", "DEBUG", "Received %zu bytes: %s", len, hex);
    else if (t->g->frame_debug)
        rc_debug(t->g, "rctclient.frame", "DEBUG", "Sending %zu bytes: %s", len, hex);
    free(hex);
}

/* A connected client (the byte trace on with --debug), or NULL after saying why; disconnect() ends it. */
static sw_rct_client *connect_or_report(const rc_global *g, struct conn_opts *co)
{
    sw_rct_client *c = malloc(sizeof *c);
    if (!c) {
        fprintf(stderr, "Out of memory\n");
        return NULL;
    }
    rc_debug(g, "rctclient.cli", "DEBUG", "Connecting to host");
    sw_err e = sw_rct_client_open(c, co->host, co->port, &co->cfg);
    if (e != SW_OK) {
        if (e == SW_ERR_CONNECT)
            fprintf(stderr, "Could not connect to host: [Errno %d] %s\n", c->last_errno, strerror(c->last_errno));
        else if (e == SW_ERR_TIMEOUT)
            fprintf(stderr, "Could not connect to host: timed out\n");
        else if (e == SW_ERR_INVALID_ARGUMENT && !co->host[0])
            fprintf(stderr, "Could not connect to host: the host name is empty (give --host)\n");
        else
            fprintf(stderr, "Could not connect to host: %s:%u: %s\n", co->host, (unsigned)co->port, sw_err_message(e));
        free(c);
        return NULL;
    }
    rc_debug(g, "rctclient.cli", "DEBUG", "Connected to %s:%u", co->host, (unsigned)co->port);
    if (g->debug) {
        co->trace.g = g;
        c->trace = trace_bytes;
        c->trace_user = &co->trace;
    }
    return c;
}

static void disconnect(sw_rct_client *c)
{
    sw_rct_client_close(c);
    free(c);
}

static void report_request_error(const sw_rct_client *c, const struct conn_opts *co, const sw_rct_object *obj,
                                 sw_err e)
{
    int err = c->last_errno;
    if (e == SW_ERR_CLOSED)
        fprintf(stderr, "No answer from %s:%u for %s (0x%08X): the peer closed the connection (%d attempts)\n",
                co->host, (unsigned)co->port, obj->name, (unsigned)obj->id, co->cfg.retries + 1);
    else if (e == SW_ERR_IO || e == SW_ERR_CONNECT)
        fprintf(stderr, "No answer from %s:%u for %s (0x%08X): %s[Errno %d] %s (%d attempts)\n", co->host,
                (unsigned)co->port, obj->name, (unsigned)obj->id, e == SW_ERR_CONNECT ? "reconnecting failed: " : "",
                err, strerror(err), co->cfg.retries + 1);
    else if (e == SW_ERR_TIMEOUT)
        fprintf(stderr, "No answer from %s:%u for %s (0x%08X): %d attempts, %d ms each\n", co->host,
                (unsigned)co->port, obj->name, (unsigned)obj->id, co->cfg.retries + 1, co->cfg.request_timeout_ms);
    else if (e == SW_ERR_RCT_BAD_PAYLOAD)
        fprintf(stderr, "Only incomplete answers for %s (0x%08X) from %s:%u after %d attempts\n", obj->name,
                (unsigned)obj->id, co->host, (unsigned)co->port, co->cfg.retries + 1);
    else
        fprintf(stderr, "Reading %s (0x%08X) from %s:%u failed: %s\n", obj->name, (unsigned)obj->id, co->host,
                (unsigned)co->port, sw_err_message(e));
}

/* A value as rctclient prints it; NULL when out of memory, else the caller frees it. */
static char *value_text(const sw_rct_value *v)
{
    size_t need = sw_rct_value_to_text(v, NULL, 0) + 1;
    char *t = malloc(need);
    if (t)
        sw_rct_value_to_text(v, t, need);
    return t;
}

/* ---- read-value --------------------------------------------------------------- */

static void print_value_line(const rc_global *g, const sw_rct_object *obj, const sw_rct_value *v, bool verbose,
                             bool json)
{
    if (json) {
        size_t cap = 1 << 20;
        char *buf = malloc(cap);
        if (!buf)
            return;
        sw_json j;
        sw_json_init(&j, buf, cap);
        char idt[16];
        snprintf(idt, sizeof idt, "0x%08X", (unsigned)obj->id);
        sw_json_object_begin(&j);
        sw_json_key(&j, "id");
        sw_json_string(&j, idt);
        sw_json_key(&j, "name");
        sw_json_string(&j, obj->name);
        sw_json_key(&j, "type");
        sw_json_string(&j, sw_rct_type_name(v->type));
        sw_json_key(&j, "value");
        sw_rct_value_to_json(v, &j);
        sw_json_key(&j, "unit");
        sw_json_string(&j, obj->unit ? obj->unit : "");
        const char *label;
        if (v->type == SW_RCT_TYPE_ENUM && sw_rct_object_enum_label(obj, v->u.i, &label) == SW_OK) {
            sw_json_key(&j, "label");
            sw_json_string(&j, label);
        }
        sw_json_object_end(&j);
        const char *out = sw_json_finish(&j);
        if (out)
            printf("%s\n", out);
        free(buf);
        return;
    }
    char *text = value_text(v);
    if (!text)
        return;
    (void)g;
    if (verbose)
        printf("#%3u 0x%8X %-*s %-75s %s %s\n", (unsigned)obj->index, (unsigned)obj->id,
               (int)sw_rct_registry_name_max_length(), obj->name, obj->description ? obj->description : "", text,
               obj->unit ? obj->unit : "");
    else
        printf("%s\n", text);
    free(text);
}

/* An object asked for as text (by ID or by name) goes to objs[*n]; when unknown, the message and status 1. */
static int keep_object(const rc_global *g, bool compat, const char *text, const sw_rct_object *o, const char *by,
                       const sw_rct_object **objs, size_t *n)
{
    if (!o) {
        fprintf(stderr, "Could not find requested id or name%s%s\n", compat ? "" : ": ", compat ? "" : text);
        return 1;
    }
    rc_debug(g, "rctclient.cli", "DEBUG", "Object info by %s: <ObjectInfo(id=0x%08X, name=%s)>", by, (unsigned)o->id,
             o->name);
    objs[(*n)++] = o;
    return 0;
}

int rc_cmd_read_value(const rc_global *g, int argc, char **argv)
{
    bool compat = g->persona == SW_PERSONA_RCTCLIENT;
    rc_opt opts[] = {
        CONN_OPTS,
        OPT("-i", "--id", compat ? RC_VALUE : RC_MULTI, "<ID>", "Object ID to query, of the form \"0x959930BF\""),
        OPT("-n", "--name", compat ? RC_VALUE : RC_MULTI, "<name>", "Object name to query"),
        OPT("-v", "--verbose", RC_FLAG, NULL, "Enable verbose output"),
        OPT(NULL, "--json", RC_FLAG, NULL, "One JSON object per line"),
        CONN_EXTRA_OPTS,
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, compat ? "[OPTIONS]" : "[OPTIONS] [NAME]...",
                   "  Read the current value of an object from the device at <host>:<port> and print it.\n"
                   "  Give the object by --id or --name. Without --verbose only the value is printed.",
                   opts, compat ? 5 : sizeof opts / sizeof opts[0], compat ? 0 : 64, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "read-value", argc, argv);
    if (rc >= 0)
        return rc;
    struct conn_opts co;
    if (get_conn_opts(&cmd, !compat, &co))
        return 2;
    rc_opt *oid = rc_find(&cmd, "--id"), *oname = rc_find(&cmd, "--name");
    bool verbose = opts[4].count > 0;
    bool json = opts[5].count > 0; /* not offered in the rctclient persona: stays 0 */

    const sw_rct_object *objs[192];
    size_t n = 0;
    if (compat) {
        if ((oid->count > 0) == (oname->count > 0))
            return rc_usage_error(&cmd, "Please specify either --id or --name");
    } else if (!oid->count && !oname->count && !cmd.n_pos) {
        return rc_usage_error(&cmd, "Please specify an object with --id, --name or as NAME");
    }
    /* ids first, then names, then positional names: the order given within each. */
    size_t n_ids = compat ? (oid->count ? 1 : 0) : oid->n_values;
    for (size_t i = 0; i < n_ids; i++) {
        const char *t = compat ? oid->value : oid->values[i];
        uint32_t id;
        if (!rc_parse_id(t, &id)) {
            char label[96];
            rc_opt_label(oid, label, sizeof label);
            return rc_usage_error(&cmd, "Invalid value for %s: '%s' is not a hexadecimal object id.", label, t);
        }
        rc_debug(g, "rctclient.cli", "DEBUG", "Parsed ID: 0x%X", (unsigned)id);
        if (keep_object(g, compat, t, sw_rct_registry_find_id(id), "ID", objs, &n))
            return 1;
    }
    size_t n_names = compat ? (oname->count ? 1 : 0) : oname->n_values + cmd.n_pos;
    for (size_t i = 0; i < n_names; i++) {
        const char *t = compat ? oname->value : i < oname->n_values ? oname->values[i] : cmd.pos[i - oname->n_values];
        if (keep_object(g, compat, t, sw_rct_registry_find_name(t), "name", objs, &n))
            return 1;
    }

    sw_rct_client *c = connect_or_report(g, &co);
    if (!c)
        return 1;
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        sw_rct_value v;
        size_t cap = 1 << 20;
        void *storage = malloc(cap);
        sw_err e = storage ? sw_rct_client_read(c, objs[i], &v, storage, cap) : SW_ERR_NO_MEMORY;
        if (e == SW_OK) {
            if (g->debug) {
                const uint8_t *payload;
                size_t plen;
                sw_rct_client_last_reply(c, &payload, &plen);
                char *hex = hex_lower(payload, plen);
                if (hex) {
                    const char *cn = sw_rct_command_name(c->last_command);
                    rc_debug(g, "rctclient.cli", "DEBUG", "Got frame: <ReceiveFrame(cmd=%s, id=%08x, address=%x, data=%s)>",
                             cn ? cn : "?", (unsigned)objs[i]->id, (unsigned)c->last_address, hex);
                    free(hex);
                }
            }
            print_value_line(g, objs[i], &v, verbose, json);
        } else {
            report_request_error(c, &co, objs[i], e);
            status = 1;
        }
        free(storage);
        fflush(stdout);
    }
    if (!compat && g->debug)
        rc_debug(g, "sunwire.rct", "DEBUG",
                 "requests %llu, attempts %llu, retries %llu, timeouts %llu, foreign %llu, crc %llu, cut %llu",
                 (unsigned long long)c->counters.requests, (unsigned long long)c->counters.attempts,
                 (unsigned long long)c->counters.retries, (unsigned long long)c->counters.timeouts,
                 (unsigned long long)c->counters.skipped_foreign, (unsigned long long)c->counters.crc_errors,
                 (unsigned long long)c->counters.decode_errors);
    disconnect(c);
    return status;
}

/* ---- write-value ---------------------------------------------------------------- */

int rc_cmd_write_value(const rc_global *g, int argc, char **argv)
{
    rc_opt opts[] = {
        CONN_OPTS,
        OPT("-i", "--id", RC_VALUE, "<ID>", "Object ID to write"),
        OPT("-n", "--name", RC_VALUE, "<name>", "Object name to write"),
        OPT(NULL, "--value", RC_VALUE, "<value>", "The new value (or give it as VALUE)"),
        OPT(NULL, "--allow-write", RC_FLAG, NULL, "Really write: without it nothing is sent"),
        CONN_EXTRA_OPTS,
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS] [VALUE]",
                   "  Write a value to an object, then read it back to check that the device took it.\n"
                   "  Devices do not validate what they are sent; a wrong value can harm the inverter,\n"
                   "  the battery or the grid. Nothing is sent unless --allow-write is given.",
                   opts, sizeof opts / sizeof opts[0], 1, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "write-value", argc, argv);
    if (rc >= 0)
        return rc;
    struct conn_opts co;
    if (get_conn_opts(&cmd, true, &co))
        return 2;
    rc_opt *oid = rc_find(&cmd, "--id"), *oname = rc_find(&cmd, "--name"), *oval = rc_find(&cmd, "--value");
    if ((oid->count > 0) == (oname->count > 0))
        return rc_usage_error(&cmd, "Please specify either --id or --name");
    if ((oval->count > 0) == (cmd.n_pos > 0))
        return rc_usage_error(&cmd, "Please give the new value once, with --value or as VALUE");
    const char *text = oval->count ? oval->value : cmd.pos[0];
    if (oid->count) {
        uint32_t id;
        if (!rc_parse_id(oid->value, &id))
            return rc_usage_error(&cmd, "Invalid value for '-i' / '--id': '%s' is not a hexadecimal object id.",
                                  oid->value);
    }
    const sw_rct_object *obj = rc_lookup(oid->count ? oid->value : oname->value, oid->count > 0);
    if (!obj) {
        fprintf(stderr, "Could not find requested id or name: %s\n", oid->count ? oid->value : oname->value);
        return 1;
    }
    if (obj->id == 0x8FC89B10u) {
        fprintf(stderr, "Refusing to write %s: it makes the device flash its parameters (limited write cycles)\n",
                obj->name);
        return 1;
    }
    if (!sw_rct_type_encodable(obj->request_type) || obj->request_type == SW_RCT_TYPE_UNKNOWN ||
        obj->response_type == SW_RCT_TYPE_TIMESERIES || obj->response_type == SW_RCT_TYPE_EVENT_TABLE) {
        fprintf(stderr, "Refusing to write %s: its type %s cannot be written safely\n", obj->name,
                sw_rct_type_name(obj->request_type));
        return 1;
    }
    sw_rct_value nv;
    uint8_t storage[512];
    /* The one write check of the core decides; nothing is sent for a refused value. */
    sw_err e = sw_rct_value_parse_write(obj->request_type, text, &nv, storage, sizeof storage);
    if (e == SW_ERR_BAD_NUMBER && obj->request_type == SW_RCT_TYPE_ENUM &&
        sw_rct_object_parse_value(obj, text, &nv, storage, sizeof storage) == SW_OK)
        e = sw_rct_value_check_write(&nv); /* an ENUM label */
    if (e != SW_OK) {
        char why[64] = "";
        int64_t lo, hi;
        if (e == SW_ERR_RCT_WRITE_OUT_OF_RANGE && sw_rct_type_write_range(obj->request_type, &lo, &hi))
            snprintf(why, sizeof why, " (%lld .. %lld)", (long long)lo, (long long)hi);
        else if (e == SW_ERR_RCT_WRITE_TOO_LONG)
            snprintf(why, sizeof why, " (%zu bytes, at most %u)", strlen(text), SW_RCT_WRITE_STRING_MAX);
        return rc_usage_error(&cmd, "Invalid value for %s (%s): '%s': %s%s; nothing was sent", obj->name,
                              sw_rct_type_name(obj->request_type), text, sw_err_message(e), why);
    }
    uint8_t want[SW_RCT_SIM_WRITE_MAX * 4];
    size_t want_len;
    e = sw_rct_value_encode(&nv, want, sizeof want, &want_len);
    if (e != SW_OK) {
        fprintf(stderr, "Cannot encode '%s' as %s: %s\n", text, sw_rct_type_name(obj->request_type),
                sw_err_message(e));
        return 1;
    }
    if (!rc_find(&cmd, "--allow-write")->count) {
        fprintf(stderr,
                "Refusing to write %s = %s: writing can damage the inverter, the battery or the grid.\n"
                "Add --allow-write if you know the object and the value are safe.\n",
                obj->name, text);
        return 1;
    }

    sw_rct_client *c = connect_or_report(g, &co);
    if (!c)
        return 1;
    int status = 0;
    sw_rct_value old;
    uint8_t *scratch = malloc(1 << 16);
    char *t = NULL;
    if (!scratch) {
        status = 1;
        goto out;
    }
    e = sw_rct_client_read(c, obj, &old, scratch, 1 << 16);
    if (e != SW_OK) {
        report_request_error(c, &co, obj, e);
        status = 1;
        goto out;
    }
    t = value_text(&old);
    printf("old: %s\n", t ? t : "?");
    free(t);
    t = value_text(&nv);
    printf("new: %s\n", t ? t : "?");
    free(t);
    t = NULL;
    e = sw_rct_client_write(c, obj, &nv);
    if (e != SW_OK) {
        fprintf(stderr, "Writing %s failed: %s\n", obj->name, sw_err_message(e));
        status = 1;
        goto out;
    }
    sw_rct_value back;
    e = sw_rct_client_read(c, obj, &back, scratch, 1 << 16);
    if (e != SW_OK) {
        report_request_error(c, &co, obj, e);
        status = 1;
        goto out;
    }
    /* Compare what the device holds with what was sent, as wire bytes (strings: up to the NUL). */
    uint8_t got[SW_RCT_SIM_WRITE_MAX * 4];
    size_t got_len = 0;
    bool same;
    if (back.type == SW_RCT_TYPE_STRING) {
        size_t wl = want_len;
        const uint8_t *nul = memchr(want, 0, want_len);
        if (nul)
            wl = (size_t)(nul - want);
        same = back.u.str.len == wl && memcmp(back.u.str.bytes, want, wl) == 0;
    } else {
        same = sw_rct_value_encode(&back, got, sizeof got, &got_len) == SW_OK && got_len == want_len &&
               memcmp(got, want, want_len) == 0;
    }
    t = value_text(&back);
    if (same) {
        printf("verified: %s\n", t ? t : "?");
    } else {
        fprintf(stderr, "MISMATCH: %s reads back as %s after writing %s\n", obj->name, t ? t : "?", text);
        status = 3;
    }
out:
    free(t);
    free(scratch);
    disconnect(c);
    return status;
}

/* ---- line protocol (--format influx) ----------------------------------------------- */

/*
 * What `history` and `events` write for InfluxDB (and `sunwire history import`):
 * the measurements and tags of the daemon's own lines, so the logger's past and
 * the polled present land in the same series. A point is keyed by its series
 * and its second, which is why writing the same range twice adds nothing.
 * Device times are local times without a zone; lines carry UTC seconds.
 */
static void lp_escaped(FILE *out, const char *s, const char *specials)
{
    for (; *s; s++) {
        char c = (*s == '\n' || *s == '\r') ? ' ' : *s;
        if (strchr(specials, c))
            fputc('\\', out);
        fputc(c, out);
    }
}

static void lp_tag(FILE *out, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    fprintf(out, ",%s=", key);
    lp_escaped(out, value, ",= ");
}

static int64_t device_to_utc(int64_t device_ts)
{
    return device_ts - sw_local_utc_offset(device_ts * 1000000000LL);
}

/* The inverter tag: --inverter, else the host the data came from. */
static const char *influx_inverter(rc_cmd *cmd)
{
    rc_opt *o = rc_find(cmd, "--inverter");
    return o && o->count ? o->value : rc_find(cmd, "--host")->value;
}

/* ---- history / timeseries -------------------------------------------------------- */

struct series {
    const sw_rct_object *obj;
    const char *column;
    size_t n, cap;
    uint32_t *ts;
    float *val;
};

static int collect_point(sw_rct_client *c, const sw_rct_object *obj, uint32_t ts, float value, void *user)
{
    (void)c;
    struct series *s = user;
    (void)obj;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint32_t *nt = realloc(s->ts, cap * sizeof *nt);
        if (!nt)
            return 1;
        s->ts = nt;
        float *nv = realloc(s->val, cap * sizeof *nv);
        if (!nv)
            return 1;
        s->val = nv;
        s->cap = cap;
    }
    s->ts[s->n] = ts;
    s->val[s->n] = value;
    s->n++;
    return 0;
}

struct series_collect {
    struct series *list;
    size_t n, cap;
    const char *prefix;
};

static int add_series(const sw_rct_object *obj, void *ctx)
{
    struct series_collect *sc = ctx;
    if (obj->response_type != SW_RCT_TYPE_TIMESERIES)
        return 0;
    if (sc->n == sc->cap)
        return 1;
    sc->list[sc->n++] = (struct series){ .obj = obj };
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t device_now(void)
{
    int64_t ns = sw_now_realtime_ns();
    return ns / 1000000000LL + sw_local_utc_offset(ns);
}

/* --from/--to with defaults; usage error status or 0. */
static int time_range(rc_cmd *cmd, int64_t default_span, int64_t *from, int64_t *to)
{
    rc_opt *of = rc_find(cmd, "--from"), *ot = rc_find(cmd, "--to");
    *to = device_now();
    if (ot->count && !rc_parse_time(ot->value, to))
        return rc_usage_error(cmd, "Invalid value for '--to': '%s' is not a time (YYYY-MM-DD[THH:MM[:SS]] or Unix seconds).",
                              ot->value);
    *from = *to - default_span;
    if (of->count && !rc_parse_time(of->value, from))
        return rc_usage_error(cmd, "Invalid value for '--from': '%s' is not a time (YYYY-MM-DD[THH:MM[:SS]] or Unix seconds).",
                              of->value);
    if (*from >= *to || *from < 0 || *to > 4294967295LL)
        return rc_usage_error(cmd, "The time range is empty or outside the device clock: --from must be before --to.");
    return 0;
}

/*
 * What history and events both take: the range, the output format and file,
 * the query limit and the influx tag, in this order in their help. Only the
 * help of --from (the default range) and of --max-queries differs.
 */
#define LOG_OPTS(from_help, max_queries_help)                                                                   \
    OPT(NULL, "--from", RC_VALUE, "<time>", from_help),                                                         \
    OPT(NULL, "--to", RC_VALUE, "<time>", "End of the range, device time (default: now)"),                      \
    OPT(NULL, "--format", RC_VALUE, "<fmt>", "csv (default), json or influx (line protocol, UTC seconds)"),     \
    OPT(NULL, "--json", RC_FLAG, NULL, "Same as --format json"),                                                \
    OPT("-o", "--output", RC_VALUE, "<file>", "Write to this file instead of stdout"),                          \
    OPT(NULL, "--max-queries", RC_VALUE, "<n>", max_queries_help),                                              \
    OPT(NULL, "--inverter", RC_VALUE, "<name>", "Inverter tag of --format influx (default: the host)")

struct log_opts {
    bool json, influx;
    unsigned max_queries;
    int64_t from, to;
};

/* --format/--json, --max-queries, --from/--to; usage error status or 0. */
static int get_log_opts(rc_cmd *cmd, int64_t default_span, struct log_opts *lo)
{
    rc_opt *ofmt = rc_find(cmd, "--format");
    lo->json = rc_find(cmd, "--json")->count > 0;
    lo->influx = false;
    if (ofmt->count) {
        if (!strcmp(ofmt->value, "json"))
            lo->json = true;
        else if (!strcmp(ofmt->value, "influx"))
            lo->influx = true;
        else if (strcmp(ofmt->value, "csv") != 0)
            return rc_usage_error(cmd, "Invalid value for '--format': '%s' is not one of 'csv', 'json', 'influx'.",
                                  ofmt->value);
    }
    long long maxq;
    if (rc_int(cmd, "--max-queries", 1000, 1, 1000000, &maxq))
        return 2;
    lo->max_queries = (unsigned)maxq;
    return time_range(cmd, default_span, &lo->from, &lo->to);
}

static FILE *open_output(rc_cmd *cmd)
{
    rc_opt *o = rc_find(cmd, "--output");
    if (!o || !o->count || strcmp(o->value, "-") == 0)
        return stdout;
    FILE *f = fopen(o->value, "w");
    if (!f)
        fprintf(stderr, "Cannot write %s: %s\n", o->value, strerror(errno));
    return f;
}

int rc_cmd_history(const rc_global *g, int argc, char **argv)
{
    rc_opt opts[] = {
        CONN_OPTS,
        OPT("-n", "--name", RC_MULTI, "<name>", "Time series object (logger.*_log_ts); several allowed"),
        OPT("-r", "--resolution", RC_VALUE, "<res>", "minutes|day|month|year: all series of it (default minutes)"),
        LOG_OPTS("Start of the range, device time (default: one period back)",
                 "Stop each series after this many queries (default 1000)"),
        CONN_EXTRA_OPTS,
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS] [NAME]...",
                   "  Download logged time series for a time range. Times are the device's clock, which\n"
                   "  real devices keep in local time; they are printed as they come, without a zone.",
                   opts, sizeof opts / sizeof opts[0], 64, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, argv[0], argc, argv);
    if (rc >= 0)
        return rc;
    struct conn_opts co;
    if (get_conn_opts(&cmd, true, &co))
        return 2;
    rc_opt *ores = rc_find(&cmd, "--resolution");
    const char *res = ores->count ? ores->value : "minutes";
    int64_t span;
    if (!strcmp(res, "minutes"))
        span = 86400;
    else if (!strcmp(res, "day"))
        span = 31 * 86400LL;
    else if (!strcmp(res, "month"))
        span = 366 * 86400LL;
    else if (!strcmp(res, "year"))
        span = 10 * 366 * 86400LL;
    else
        return rc_usage_error(&cmd, "Invalid value for '-r' / '--resolution': '%s' is not one of 'minutes', 'day', 'month', 'year'.", res);
    struct log_opts lo;
    if (get_log_opts(&cmd, span, &lo))
        return 2;

    struct series list[64];
    struct series_collect sc = { list, 0, 64, NULL };
    rc_opt *oname = rc_find(&cmd, "--name");
    size_t n_names = oname->n_values + cmd.n_pos;
    for (size_t i = 0; i < n_names; i++) {
        const char *t = i < oname->n_values ? oname->values[i] : cmd.pos[i - oname->n_values];
        const sw_rct_object *obj = sw_rct_registry_find_name(t);
        if (!obj) {
            fprintf(stderr, "Could not find requested id or name: %s\n", t);
            return 1;
        }
        if (obj->response_type != SW_RCT_TYPE_TIMESERIES) {
            fprintf(stderr, "%s is not a time series (its type is %s)\n", t, sw_rct_type_name(obj->response_type));
            return 1;
        }
        if (sc.n < sc.cap)
            list[sc.n++] = (struct series){ .obj = obj };
    }
    if (!n_names) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "logger.%s_", res);
        sw_rct_registry_prefix(prefix, add_series, &sc);
    }
    /* Column names as timeseries2csv writes them: the series without logger.<res>_ and _log_ts. */
    char columns[64][64];
    for (size_t i = 0; i < sc.n; i++) {
        const char *nm = list[i].obj->name;
        const char *p = strchr(nm, '_');
        const char *start = (strncmp(nm, "logger.", 7) == 0 && p) ? p + 1 : nm;
        snprintf(columns[i], sizeof columns[i], "%s", start);
        char *suffix = strstr(columns[i], "_log_ts");
        if (suffix)
            *suffix = 0;
        if (!columns[i][0] || strcmp(columns[i], "log_ts") == 0)
            snprintf(columns[i], sizeof columns[i], "%s", nm);
        list[i].column = columns[i];
    }

    sw_rct_client *c = connect_or_report(g, &co);
    if (!c)
        return 1;
    int status = 0;
    for (size_t i = 0; i < sc.n; i++) {
        unsigned queries = 0;
        sw_err e = sw_rct_client_timeseries(c, list[i].obj, (uint32_t)lo.from, (uint32_t)lo.to, lo.max_queries,
                                            collect_point, &list[i], &queries);
        if (e != SW_OK) {
            report_request_error(c, &co, list[i].obj, e);
            status = 1;
        }
        rc_debug(g, "sunwire.rct", "DEBUG", "%s: %zu points in %u queries", list[i].obj->name, list[i].n, queries);
    }
    disconnect(c);

    FILE *out = open_output(&cmd);
    if (!out)
        status = 1;
    if (out && lo.influx) {
        const char *inv = influx_inverter(&cmd);
        for (size_t i = 0; i < sc.n; i++) {
            for (size_t k = list[i].n; k-- > 0;) {
                char num[SW_DOUBLE_TEXT_MAX];
                if (!isfinite(list[i].val[k]))
                    continue;
                sw_fmt_double(num, (double)list[i].val[k]);
                fputs("sunwire_inverter_value", out);
                lp_tag(out, "inverter", inv);
                lp_tag(out, "object", list[i].obj->name);
                lp_tag(out, "unit", list[i].obj->unit);
                fprintf(out, " value=%s %lld\n", num, (long long)device_to_utc(list[i].ts[k]));
            }
        }
    } else if (out && lo.json) {
        for (size_t i = 0; i < sc.n; i++) {
            /* oldest first */
            size_t *order = malloc((list[i].n ? list[i].n : 1) * sizeof *order);
            for (size_t k = 0; order && k < list[i].n; k++)
                order[k] = list[i].n - 1 - k;
            for (size_t k = 0; order && k < list[i].n; k++) {
                size_t p = order[k];
                char tbuf[32], line[512], num[SW_DOUBLE_TEXT_MAX];
                rc_fmt_time(list[i].ts[p], tbuf);
                sw_json j;
                sw_json_init(&j, line, sizeof line);
                sw_json_object_begin(&j);
                sw_json_key(&j, "name");
                sw_json_string(&j, list[i].obj->name);
                sw_json_key(&j, "timestamp");
                sw_json_uint(&j, list[i].ts[p]);
                sw_json_key(&j, "time");
                sw_json_string(&j, tbuf);
                sw_json_key(&j, "value");
                sw_json_double(&j, (double)list[i].val[p]);
                sw_json_object_end(&j);
                (void)num;
                const char *txt = sw_json_finish(&j);
                if (txt)
                    fprintf(out, "%s\n", txt);
            }
            free(order);
        }
    } else if (out) {
        /* One row per timestamp seen in any series, oldest first; empty cells where a series has none. */
        size_t total = 0;
        for (size_t i = 0; i < sc.n; i++)
            total += list[i].n;
        uint32_t *all = malloc((total ? total : 1) * sizeof *all);
        size_t k = 0;
        for (size_t i = 0; all && i < sc.n; i++)
            for (size_t p = 0; p < list[i].n; p++)
                all[k++] = list[i].ts[p];
        if (all)
            qsort(all, k, sizeof *all, cmp_u32);
        fprintf(out, "timestamp");
        for (size_t i = 0; i < sc.n; i++)
            fprintf(out, ",%s", list[i].column);
        fprintf(out, "\n");
        for (size_t r = 0; all && r < k; r++) {
            if (r > 0 && all[r] == all[r - 1])
                continue;
            char tbuf[32];
            rc_fmt_time(all[r], tbuf);
            fprintf(out, "%s", tbuf);
            for (size_t i = 0; i < sc.n; i++) {
                fputc(',', out);
                for (size_t p = 0; p < list[i].n; p++) {
                    if (list[i].ts[p] == all[r]) {
                        char num[32];
                        sw_rct_fmt_pyfloat(num, (double)list[i].val[p]);
                        fputs(num, out);
                        break;
                    }
                }
            }
            fputc('\n', out);
        }
        free(all);
    }
    if (out && out != stdout)
        fclose(out);
    for (size_t i = 0; i < sc.n; i++) {
        free(list[i].ts);
        free(list[i].val);
    }
    return status;
}

/* ---- events ------------------------------------------------------------------------- */

static const char *event_name(uint32_t type)
{
    switch (type) {
    case 0x31: return "UL_UNDER_L1_LV2";
    case 0x4F: return "SW_ON_UMIN_L1";
    case 0x50: return "SW_ON_UMAX_L1";
    case 0x52: return "SW_ON_FMAX_L1";
    case 0x53: return "SW_ON_UMIN_L2";
    case 0x54: return "SW_ON_UMAX_L2";
    case 0x57: return "SW_ON_UMIN_L3";
    case 0x58: return "SW_ON_UMAX_L3";
    case 0x59: return "SURGE";
    case 0x5A: return "NO_GRID";
    case 0x61: return "PHASE_POS";
    case 0x64: return "BAT_OVERVOLTAGE";
    case 0x6B: return "CAN_TIMEOUT";
    case 0x72: return "BAT_INTERN";
    case 0x73: return "PRM_CHANGE";
    case 0x76: return "RESET";
    case 0x77: return "UPDATE";
    case 0x78: return "FRT_OVERVOLTAGE";
    case 0x79: return "FRT_UNDERVOLTAGE";
    default: return "UNKNOWN";
    }
}

struct event_list {
    sw_rct_event_row *rows;
    size_t n, cap;
};

static int collect_event(sw_rct_client *c, const sw_rct_event_row *row, void *user)
{
    (void)c;
    struct event_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        sw_rct_event_row *nr = realloc(l->rows, cap * sizeof *nr);
        if (!nr)
            return 1;
        l->rows = nr;
        l->cap = cap;
    }
    l->rows[l->n++] = *row;
    return 0;
}

static int cmp_event(const void *a, const void *b)
{
    const sw_rct_event_row *x = a, *y = b;
    return x->timestamp < y->timestamp ? -1 : x->timestamp > y->timestamp;
}

/* One event row as a JSON object, with the inverter's name first when given; NULL when it does not fit. */
static const char *event_json(const sw_rct_event_row *r, const char *tbuf, const char *inverter, char *buf,
                              size_t cap)
{
    sw_json j;
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    if (inverter) {
        sw_json_key(&j, "inverter");
        sw_json_string(&j, inverter);
    }
    sw_json_key(&j, "timestamp");
    sw_json_uint(&j, r->timestamp);
    sw_json_key(&j, "time");
    sw_json_string(&j, tbuf);
    sw_json_key(&j, "entry_type");
    sw_json_uint(&j, r->entry_type);
    sw_json_key(&j, "name");
    sw_json_string(&j, event_name(r->entry_type));
    sw_json_key(&j, "element2");
    sw_json_uint(&j, r->element2);
    sw_json_key(&j, "element3");
    sw_json_uint(&j, r->element3);
    sw_json_key(&j, "element4");
    sw_json_uint(&j, r->element4);
    sw_json_object_end(&j);
    return sw_json_finish(&j);
}

int rc_cmd_events(const rc_global *g, int argc, char **argv)
{
    rc_opt opts[] = {
        CONN_OPTS,
        LOG_OPTS("Start of the range, device time (default: 30 days back)",
                 "Stop after this many queries (default 1000)"),
        CONN_EXTRA_OPTS,
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS]",
                   "  Download the device's event table (logger.error_log_time_stamp) for a time range.",
                   opts, sizeof opts / sizeof opts[0], 0, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "events", argc, argv);
    if (rc >= 0)
        return rc;
    struct conn_opts co;
    if (get_conn_opts(&cmd, true, &co))
        return 2;
    struct log_opts lo;
    if (get_log_opts(&cmd, 30 * 86400LL, &lo))
        return 2;
    sw_rct_client *c = connect_or_report(g, &co);
    if (!c)
        return 1;
    struct event_list l = { 0 };
    unsigned queries = 0;
    int status = 0;
    sw_err e = sw_rct_client_events(c, (uint32_t)lo.from, (uint32_t)lo.to, lo.max_queries, collect_event, &l,
                                    &queries);
    if (e != SW_OK) {
        report_request_error(c, &co, sw_rct_registry_find_id(SW_RCT_EVENT_TABLE_ID), e);
        status = 1;
    }
    disconnect(c);
    if (l.n)
        qsort(l.rows, l.n, sizeof *l.rows, cmp_event);
    FILE *out = open_output(&cmd);
    if (!out) {
        free(l.rows);
        return 1;
    }
    if (!lo.json && !lo.influx)
        fprintf(out, "timestamp,type,name,element2,element3,element4\n");
    for (size_t i = 0; i < l.n; i++) {
        const sw_rct_event_row *r = &l.rows[i];
        char tbuf[32];
        rc_fmt_time(r->timestamp, tbuf);
        if (lo.influx) {
            /* As the daemon's sunwire_event lines: a kind tag and the event as JSON, plus typed fields. */
            const char *inv = influx_inverter(&cmd);
            char line[512];
            const char *txt = event_json(r, tbuf, inv, line, sizeof line);
            if (!txt)
                continue;
            fputs("sunwire_event,kind=rct_logger", out);
            lp_tag(out, "inverter", inv);
            lp_tag(out, "event", event_name(r->entry_type));
            fputs(" json=\"", out);
            lp_escaped(out, txt, "\"\\");
            fprintf(out, "\",entry_type=%ui,element2=%ui,element3=%ui,element4=%ui %lld\n", (unsigned)r->entry_type,
                    (unsigned)r->element2, (unsigned)r->element3, (unsigned)r->element4,
                    (long long)device_to_utc(r->timestamp));
        } else if (lo.json) {
            char line[512];
            const char *txt = event_json(r, tbuf, NULL, line, sizeof line);
            if (txt)
                fprintf(out, "%s\n", txt);
        } else {
            fprintf(out, "%s,0x%x,%s,0x%x,0x%x,0x%x\n", tbuf, (unsigned)r->entry_type, event_name(r->entry_type),
                    (unsigned)r->element2, (unsigned)r->element3, (unsigned)r->element4);
        }
    }
    if (out != stdout)
        fclose(out);
    free(l.rows);
    return status;
}

/* ---- simulator ------------------------------------------------------------------------ */

static volatile sig_atomic_t sim_stop;

static void on_signal(int sig)
{
    (void)sig;
    sim_stop = 1;
}

struct sim_log_ctx {
    const rc_global *g;
    bool verbose;
    bool rctclient;
    const char *port_file;
    uint64_t connections; /* accepted, for --counters */
};

static void sim_line(const struct sim_log_ctx *lc, const char *logger, const char *level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void sim_line(const struct sim_log_ctx *lc, const char *logger, const char *level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lc->g->debug)
        rc_debug(lc->g, logger, level, "%s", msg);
    else if (lc->verbose || strcmp(level, "WARNING") == 0)
        fprintf(stderr, "%s:%s:%s\n", level, logger, msg);
}

static void sim_log(sw_rct_sim_server *srv, const sw_rct_sim_log_event *ev, void *user)
{
    (void)srv;
    const struct sim_log_ctx *lc = user;
    char logger[96];
    snprintf(logger, sizeof logger, "rctclient.simulator.socket_thread.%u", (unsigned)ev->peer_port);
    switch (ev->kind) {
    case SW_RCT_SIM_LOG_LISTEN:
        sim_line(lc, "rctclient.simulator", "INFO", "Waiting for client connections");
        break;
    case SW_RCT_SIM_LOG_ACCEPT:
        ((struct sim_log_ctx *)user)->connections++;
        sim_line(lc, "rctclient.simulator", "INFO", "connection accepted: %s", ev->peer);
        break;
    case SW_RCT_SIM_LOG_CLOSE:
        if (lc->g->debug)
            rc_debug(lc->g, logger, "DEBUG", "Closing connection %s", ev->peer);
        break;
    case SW_RCT_SIM_LOG_READ: {
        char *hex = hex_lower(ev->data, ev->len);
        if (!hex)
            break;
        sim_line(lc, logger, "INFO", "Read   : 0x%08X %-48s -> %s", (unsigned)ev->obj->id, ev->obj->name, hex);
        free(hex);
        break;
    }
    case SW_RCT_SIM_LOG_WRITE: {
        sw_rct_value v;
        char text[256] = "(does not decode)";
        if (!sw_rct_reply_storage_size(ev->frame) && sw_rct_decode_reply(ev->frame, NULL, &v, NULL, 0) == SW_OK)
            sw_rct_value_to_text(&v, text, sizeof text);
        sim_line(lc, logger, "INFO", "Write%s: #%3u 0x%08X %-48s -> %s",
                 sw_rct_command_is_long(ev->frame->command) ? " L" : "  ", (unsigned)ev->obj->index,
                 (unsigned)ev->obj->id, ev->obj->name, text);
        break;
    }
    case SW_RCT_SIM_LOG_BAD_FRAME:
        if (ev->err == SW_ERR_RCT_CRC_MISMATCH)
            sim_line(lc, logger, "WARNING", "Discard frame with wrong CRC checksum. Got 0x%X, calculated 0x%X",
                     (unsigned)ev->frame->crc_received, (unsigned)ev->frame->crc_calculated);
        else if (lc->verbose || lc->g->debug)
            sim_line(lc, logger, "INFO", "Discard invalid input: %s", sw_err_message(ev->err));
        break;
    case SW_RCT_SIM_LOG_IGNORED:
        if (lc->verbose || lc->g->debug) {
            if (ev->text)
                sim_line(lc, logger, "INFO", "%s", ev->text);
            else if (ev->frame && ev->frame->kind != SW_RCT_FRAME_EXTENSION)
                sim_line(lc, logger, "INFO", "No answer to %s for 0x%08X%s",
                         sw_rct_command_name(ev->frame->command) ? sw_rct_command_name(ev->frame->command) : "?",
                         (unsigned)ev->frame->id, ev->obj ? "" : " (unknown id)");
        }
        break;
    case SW_RCT_SIM_LOG_BYTES:
        if (lc->g->debug) {
            char *hex = hex_lower(ev->data, ev->len);
            if (!hex)
                break;
            rc_debug(lc->g, logger, "DEBUG", "Read %zu bytes: %s", ev->len, hex);
            free(hex);
        }
        break;
    }
}

static void sim_ready(sw_rct_sim_server *srv, uint16_t port, void *user)
{
    (void)srv;
    const struct sim_log_ctx *lc = user;
    if (lc->port_file)
        rc_write_port_file(lc->port_file, port); /* unlike the proxy's, a failure here is not reported */
    if (!lc->rctclient)
        fprintf(stderr, "simulator listening on port %u\n", (unsigned)port);
}

int rc_cmd_simulator(const rc_global *g, int argc, char **argv)
{
    bool compat = g->persona == SW_PERSONA_RCTCLIENT;
    rc_opt opts[] = {
        OPT("-p", "--port", RC_VALUE, "<port>", "Port to bind the simulator to, defaults to 8899"),
        OPT("-h", "--host", RC_VALUE, "<host>", "IP to bind the simulator to, defaults to 127.0.0.1"),
        OPT("-v", "--verbose", RC_FLAG, NULL, "Enable verbose output"),
        OPT(NULL, "--static", RC_FLAG, NULL, "Answer like rctclient's simulator (fixed values, READ only)"),
        OPT(NULL, "--dynamic", RC_FLAG, NULL, "Answer from the simulated day (default of sunwire rct)"),
        OPT(NULL, "--seed", RC_VALUE, "<n>", "Seed of the simulated weather and household (default 1)"),
        OPT(NULL, "--start", RC_VALUE, "<time>", "Simulated UTC time at start (default: now)"),
        OPT(NULL, "--speed", RC_VALUE, "<x>", "Simulated seconds per real second; 0 stops the clock (default 1)"),
        OPT(NULL, "--plant", RC_MULTI, "<addr>", "Answer PLANT_* frames for this address; repeatable"),
        OPT(NULL, "--fault-truncate", RC_VALUE, "<rate>", "Share of answers cut short with a valid CRC"),
        OPT(NULL, "--fault-drop", RC_VALUE, "<rate>", "Share of answers never sent"),
        OPT(NULL, "--fault-delay", RC_VALUE, "<rate>", "Share of answers sent late"),
        OPT(NULL, "--delay-ms", RC_VALUE, "<ms>", "How late (default 300)"),
        OPT(NULL, "--fault-foreign", RC_VALUE, "<rate>", "Share of answers preceded by one for another object"),
        OPT(NULL, "--broadcast", RC_FLAG, NULL, "Send every answer to every client, like the device's bridge"),
        OPT(NULL, "--max-clients", RC_VALUE, "<n>", "Connections served at once (default 64)"),
        OPT(NULL, "--port-file", RC_VALUE, "<file>", "Write the bound port here once listening (use with --port 0)"),
        OPT(NULL, "--fault-ignore-write", RC_VALUE, "<rate>", "Share of writes neither stored nor answered"),
        OPT(NULL, "--fault-revert-after", RC_VALUE, "<n>",
            "Forget a written value after n further requests, as after a restart"),
        OPT(NULL, "--interrupt-concurrent", RC_FLAG, NULL,
            "Like a real device: a request that comes while an answer is prepared cuts it short and gets it"),
        OPT(NULL, "--answer-ms", RC_VALUE, "<ms>", "How long an answer takes to prepare (default 30)"),
        OPT(NULL, "--counters", RC_FLAG, NULL, "Print connections, requests, faults and interruptions at exit"),
        OPT(NULL, "--fault", RC_MULTI, "<spec>",
            "Inject a plant fault, KIND[:TARGET][=VALUE][@START[-END]] (drifting-cell, hot-module, dc-loss); repeatable"),
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS]",
                   "  Run a simulated inverter on <host>:<port>. It answers every readable object with\n"
                   "  plausible values from a simulated day (or, with --static, rctclient's fixed values),\n"
                   "  answers logger queries with generated history, and serves many clients at once.",
                   opts, sizeof opts / sizeof opts[0], 0, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "simulator", argc, argv);
    if (rc >= 0)
        return rc;
    long long v;
    if (rc_int(&cmd, "--port", SW_RCT_DEFAULT_PORT, 0, 65535, &v))
        return 2;
    uint16_t port = (uint16_t)v;
    rc_opt *ohost = rc_find(&cmd, "--host");
    const char *host = ohost->count ? ohost->value : "127.0.0.1";
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1"; /* "localhost" may resolve to ::1 first; clients expect IPv4 */
    sw_rct_sim_config cfg;
    long long seed;
    if (rc_int(&cmd, "--seed", 1, 0, 9223372036854775807LL, &seed))
        return 2;
    sw_rct_sim_config_default(&cfg, (uint64_t)seed);
    cfg.static_values = compat ? !rc_find(&cmd, "--dynamic")->count : rc_find(&cmd, "--static")->count > 0;
    double rate;
    if (rc_double(&cmd, "--fault-truncate", 0, &rate)) return 2;
    cfg.faults.truncate = rate;
    if (rc_double(&cmd, "--fault-drop", 0, &rate)) return 2;
    cfg.faults.drop = rate;
    if (rc_double(&cmd, "--fault-delay", 0, &rate)) return 2;
    cfg.faults.delay = rate;
    if (rc_double(&cmd, "--fault-foreign", 0, &rate)) return 2;
    cfg.faults.foreign = rate;
    if (rc_double(&cmd, "--fault-ignore-write", 0, &rate)) return 2;
    cfg.faults.ignore_write = rate;
    if (rc_int(&cmd, "--fault-revert-after", 0, 0, 1000000000, &v))
        return 2;
    cfg.faults.revert_after = (uint64_t)v;
    if (rc_int(&cmd, "--delay-ms", 300, 0, 600000, &v))
        return 2;
    cfg.faults.delay_ms = (int)v;
    rc_opt *oplant = rc_find(&cmd, "--plant");
    for (size_t i = 0; i < oplant->n_values && i < SW_RCT_SIM_MAX_PLANT; i++) {
        char *end;
        unsigned long long a = strtoull(oplant->values[i], &end, 0);
        if (*end || a > 0xFFFFFFFFull)
            return rc_usage_error(&cmd, "Invalid value for '--plant': '%s' is not a 32-bit address.", oplant->values[i]);
        cfg.plant_addresses[cfg.n_plant++] = (uint32_t)a;
    }
    rc_opt *ofault = rc_find(&cmd, "--fault");
    for (size_t i = 0; i < ofault->n_values; i++) {
        char why[160];
        if (sw_sim_rct_faults_add(&cfg.injected, ofault->values[i], why, sizeof why) != SW_OK)
            return rc_usage_error(&cmd, "Invalid value for '--fault': %s.", why);
    }
    sw_rct_sim_server_config so;
    memset(&so, 0, sizeof so);
    so.host = host;
    so.port = port;
    so.start_s = sw_now_realtime_ns() / 1000000000LL;
    rc_opt *ostart = rc_find(&cmd, "--start");
    if (ostart->count && !rc_parse_time(ostart->value, &so.start_s))
        return rc_usage_error(&cmd, "Invalid value for '--start': '%s' is not a time.", ostart->value);
    if (rc_double(&cmd, "--speed", 1.0, &so.speed))
        return 2;
    cfg.start_s = so.start_s; /* fault times count from the simulated start */
    if (rc_int(&cmd, "--max-clients", 64, 1, 10000, &v))
        return 2;
    so.max_clients = (size_t)v;
    so.broadcast = rc_find(&cmd, "--broadcast")->count > 0;
    so.interrupt_concurrent = rc_find(&cmd, "--interrupt-concurrent")->count > 0;
    if (rc_int(&cmd, "--answer-ms", 30, 1, 60000, &v))
        return 2;
    so.answer_ms = (int)v;
    struct sim_log_ctx lc = { g, rc_find(&cmd, "--verbose")->count > 0, compat,
                              rc_find(&cmd, "--port-file")->value, 0 };
    so.log = sim_log;
    so.log_user = &lc;
    so.ready = sim_ready;
    so.ready_user = &lc;
    sim_stop = 0;
    so.stop = &sim_stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sw_rct_sim *sim = malloc(sizeof *sim);
    if (!sim)
        return 1;
    sw_rct_sim_init(sim, &cfg);
    sw_err e = sw_rct_sim_serve(sim, &so);
    if (rc_find(&cmd, "--counters")->count) {
        const sw_rct_sim_counters *k = &sim->counters;
        fprintf(stderr,
                "simulator counters: connections %llu, requests %llu, answered %llu, ignored %llu, writes %llu, "
                "queries %llu, truncated %llu, dropped %llu, delayed %llu, foreign %llu, interrupted %llu, "
                "misrouted %llu\n",
                (unsigned long long)lc.connections, (unsigned long long)k->requests, (unsigned long long)k->answered,
                (unsigned long long)k->ignored, (unsigned long long)k->writes, (unsigned long long)k->queries,
                (unsigned long long)k->truncated, (unsigned long long)k->dropped, (unsigned long long)k->delayed,
                (unsigned long long)k->foreign, (unsigned long long)k->interrupted, (unsigned long long)k->misrouted);
    }
    free(sim);
    if (e == SW_ERR_BIND || e == SW_ERR_RESOLVE) {
        fprintf(stderr, "Unable to bind to %s:%u: %s\n", host, (unsigned)port,
                e == SW_ERR_BIND ? strerror(errno) : sw_err_message(e));
        return 1;
    }
    if (e != SW_OK) {
        fprintf(stderr, "Simulator stopped: %s\n", sw_err_message(e));
        return 1;
    }
    sim_line(&lc, "rctclient.simulator", "INFO", "Keyboard interrupt, shutting down");
    return 0;
}
