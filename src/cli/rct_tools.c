/*
 * rct_tools.c: the RCT commands that work without a device: registry,
 * decode, encode and read-pcap.
 *
 * decode and read-pcap share one output: a JSON line per frame (command, id,
 * name, address, payload hex, decoded value) or per error (what went wrong
 * and how many bytes it cost), so a capture and a pasted hex dump read alike.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/rct_cli.h"
#include "sunwire/core.h"
#include "sunwire/json.h"
#include "rct_io/rct_pcap.h"
#include "sunwire_config.h"

#define OPT(s, l, k, m, h) { s, l, k, m, h, false, 0, NULL, { 0 }, 0 }

/* ---- registry ------------------------------------------------------------------- */

struct reg_ctx {
    bool json;
    size_t printed;
    uint32_t seen_ids[1024];
    size_t n_seen;
};

static int print_object(const sw_rct_object *o, void *user)
{
    struct reg_ctx *c = user;
    for (size_t i = 0; i < c->n_seen; i++)
        if (c->seen_ids[i] == o->id)
            return 0;
    if (c->n_seen < sizeof c->seen_ids / sizeof c->seen_ids[0])
        c->seen_ids[c->n_seen++] = o->id;
    c->printed++;
    char idt[16];
    snprintf(idt, sizeof idt, "0x%08X", (unsigned)o->id);
    if (!c->json) {
        const char *rq = sw_rct_type_name(o->request_type), *rs = sw_rct_type_name(o->response_type);
        char types[64];
        if (o->request_type == o->response_type)
            snprintf(types, sizeof types, "%s", rq);
        else
            snprintf(types, sizeof types, "%s->%s", rq, rs);
        printf("%s  %-48s  %-34s  %-8s  %s\n", idt, o->name, types, o->unit ? o->unit : "",
               o->description ? o->description : "");
        return 0;
    }
    char line[8192];
    sw_json j;
    sw_json_init(&j, line, sizeof line);
    sw_json_object_begin(&j);
    sw_json_key(&j, "id");
    sw_json_string(&j, idt);
    sw_json_key(&j, "index");
    sw_json_uint(&j, o->index);
    sw_json_key(&j, "name");
    sw_json_string(&j, o->name);
    sw_json_key(&j, "group");
    sw_json_string(&j, sw_rct_group_name(o->group) ? sw_rct_group_name(o->group) : "");
    sw_json_key(&j, "request_type");
    sw_json_string(&j, sw_rct_type_name(o->request_type));
    sw_json_key(&j, "response_type");
    sw_json_string(&j, sw_rct_type_name(o->response_type));
    sw_json_key(&j, "unit");
    sw_json_string(&j, o->unit ? o->unit : "");
    sw_json_key(&j, "description");
    sw_json_string(&j, o->description ? o->description : "");
    if (o->enum_map && o->enum_count) {
        sw_json_key(&j, "enum");
        sw_json_object_begin(&j);
        for (uint16_t i = 0; i < o->enum_count; i++) {
            char k[24];
            snprintf(k, sizeof k, "%lld", (long long)o->enum_map[i].value);
            sw_json_key(&j, k);
            sw_json_string(&j, o->enum_map[i].label);
        }
        sw_json_object_end(&j);
    }
    sw_json_object_end(&j);
    const char *t = sw_json_finish(&j);
    if (t)
        printf("%s\n", t);
    return 0;
}

int rc_cmd_registry(const rc_global *g, int argc, char **argv)
{
    rc_opt opts[] = {
        OPT(NULL, "--json", RC_FLAG, NULL, "One JSON object per line"),
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS] [PATTERN]",
                   "  List known objects: id, name, type(s), unit, description. PATTERN is an id\n"
                   "  (0x959930BF), a name prefix (battery.) or any part of a name (soc); without it,\n"
                   "  everything. Prefix matches come first.",
                   opts, 1, 1, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "registry", argc, argv);
    if (rc >= 0)
        return rc;
    struct reg_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->json = opts[0].count > 0;
    const char *pat = cmd.n_pos ? cmd.pos[0] : "";
    uint32_t id;
    if (pat[0] == '0' && (pat[1] == 'x' || pat[1] == 'X') && rc_parse_id(pat, &id)) {
        const sw_rct_object *o = sw_rct_registry_find_id(id);
        if (o)
            print_object(o, c);
    } else {
        sw_rct_registry_prefix(pat, print_object, c);
        if (pat[0])
            sw_rct_registry_search(pat, print_object, c);
    }
    size_t printed = c->printed;
    free(c);
    if (!printed) {
        fprintf(stderr, "No object matches '%s'\n", pat);
        return 1;
    }
    return 0;
}

/* ---- decode --------------------------------------------------------------------- */

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = (!path || strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    /* A directory opens and then fails to read (EISDIR): an error, not an empty input. */
    int err = ferror(f) ? errno : 0;
    if (f != stdin)
        fclose(f);
    if (err && buf) {
        free(buf);
        buf = NULL;
        errno = err;
    }
    *len = n;
    return buf;
}

/* Does the input look like hex text rather than frames? */
static bool looks_like_hex(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ' ' ||
              c == '\t' || c == '\n' || c == '\r' || c == ':' || c == ',' || c == '-' || c == 'x' || c == 'X'))
            return false;
    }
    return true;
}

/* Drop "#" comments and forum decorations: keep only what sw_hex_decode accepts. */
static size_t strip_comments(uint8_t *p, size_t n)
{
    size_t o = 0;
    bool comment = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#')
            comment = true;
        if (p[i] == '\n')
            comment = false;
        if (!comment)
            p[o++] = p[i];
    }
    return o;
}

struct stream_out {
    bool json;
    sw_rct_receiver *rx;
    uint64_t offset;     /* bytes of the stream consumed so far */
    size_t frames, errors;
    /* read-pcap context */
    const char *src, *dst;
    int64_t ts_ns;
};

static void emit_event(struct stream_out *so, const sw_rct_receiver_event *ev, size_t consumed)
{
    size_t cap = 1 << 20;
    char *line = malloc(cap);
    if (!line)
        return;
    if (so->json) {
        sw_json j;
        sw_json_init(&j, line, cap);
        sw_json_object_begin(&j);
        if (so->src) {
            char t[SW_RFC3339_MAX];
            sw_fmt_rfc3339(t, so->ts_ns, 0);
            sw_json_key(&j, "time");
            sw_json_string(&j, t);
            sw_json_key(&j, "src");
            sw_json_string(&j, so->src);
            sw_json_key(&j, "dst");
            sw_json_string(&j, so->dst);
        }
        sw_json_key(&j, "offset");
        sw_json_uint(&j, so->offset);
        if (ev->kind == SW_RCT_RECEIVER_FRAME) {
            rc_frame_json(&j, &ev->frame);
        } else {
            sw_json_key(&j, "error");
            sw_json_string(&j, sw_err_name(ev->error));
            sw_json_key(&j, "message");
            sw_json_string(&j, sw_err_message(ev->error));
            sw_json_key(&j, "consumed");
            sw_json_uint(&j, consumed);
            if (ev->error == SW_ERR_RCT_INVALID_COMMAND) {
                sw_json_key(&j, "command");
                sw_json_int(&j, ev->command);
            }
            if (ev->error == SW_ERR_RCT_CRC_MISMATCH) {
                char crc[8];
                snprintf(crc, sizeof crc, "0x%04X", ev->frame.crc_received);
                sw_json_key(&j, "crc_received");
                sw_json_string(&j, crc);
                snprintf(crc, sizeof crc, "0x%04X", ev->frame.crc_calculated);
                sw_json_key(&j, "crc_calculated");
                sw_json_string(&j, crc);
                sw_json_key(&j, "frame");
                sw_json_object_begin(&j);
                rc_frame_json(&j, &ev->frame);
                sw_json_object_end(&j);
            }
        }
        sw_json_object_end(&j);
        const char *t = sw_json_finish(&j);
        if (t)
            printf("%s\n", t);
    } else {
        char prefix[200] = "";
        if (so->src) {
            char t[SW_RFC3339_MAX];
            sw_fmt_rfc3339(t, so->ts_ns, 0);
            snprintf(prefix, sizeof prefix, "%s %s -> %s ", t, so->src, so->dst);
        }
        if (ev->kind == SW_RCT_RECEIVER_FRAME) {
            rc_frame_text(&ev->frame, line, cap);
            printf("%s%s\n", prefix, line);
        } else {
            printf("%serror: %s (%zu bytes skipped)\n", prefix, sw_err_message(ev->error), consumed);
        }
    }
    free(line);
}

/* Feed bytes; every frame or error becomes one output line. */
static void feed(struct stream_out *so, const uint8_t *p, size_t n)
{
    size_t off = 0;
    size_t since = 0; /* bytes consumed since the last event */
    while (off < n) {
        sw_rct_receiver_event ev;
        size_t used = sw_rct_receiver_push(so->rx, p + off, n - off, &ev);
        off += used;
        so->offset += used;
        since += used;
        if (ev.kind == SW_RCT_RECEIVER_NEED_MORE)
            break;
        emit_event(so, &ev, since);
        since = 0;
        if (ev.kind == SW_RCT_RECEIVER_FRAME)
            so->frames++;
        else
            so->errors++;
    }
}

static void report_pending(struct stream_out *so)
{
    if (!sw_rct_receiver_in_frame(so->rx))
        return;
    size_t pending = sw_rct_receiver_buffered(so->rx);
    so->errors++;
    if (so->json) {
        printf("{%s%s%s%s%s\"offset\":%llu,\"error\":\"SW_ERR_TRUNCATED\",\"message\":\"%s\",\"pending\":%zu}\n",
               so->src ? "\"src\":\"" : "", so->src ? so->src : "", so->src ? "\",\"dst\":\"" : "",
               so->src ? so->dst : "", so->src ? "\"," : "", (unsigned long long)so->offset,
               sw_err_message(SW_ERR_TRUNCATED), pending);
    } else {
        printf("error: %s (%zu bytes of an unfinished frame)\n", sw_err_message(SW_ERR_TRUNCATED), pending);
    }
}

int rc_cmd_decode(const rc_global *g, int argc, char **argv)
{
    rc_opt opts[] = {
        OPT(NULL, "--hex", RC_FLAG, NULL, "The input is hex text (default: guessed)"),
        OPT(NULL, "--binary", RC_FLAG, NULL, "The input is raw bytes"),
        OPT(NULL, "--text", RC_FLAG, NULL, "Human-readable lines instead of JSON"),
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS] [FILE|-]",
                   "  Decode a raw byte dump (a file or stdin) into frames: one JSON line per frame, with\n"
                   "  command, id, name, address, payload and decoded value, or per error with the bytes\n"
                   "  it cost. Hex text may contain spaces, newlines, 0x prefixes and # comments.",
                   opts, 3, 1, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "decode", argc, argv);
    if (rc >= 0)
        return rc;
    const char *path = cmd.n_pos ? cmd.pos[0] : "-";
    size_t n;
    uint8_t *data = read_all(path, &n);
    if (!data) {
        fprintf(stderr, "Cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    bool hex = opts[0].count > 0;
    if (!hex && !opts[1].count) {
        /* Guess: text made only of hex digits, separators and comments. */
        uint8_t *copy = malloc(n ? n : 1);
        if (copy) {
            memcpy(copy, data, n);
            size_t m = strip_comments(copy, n);
            hex = looks_like_hex(copy, m);
            free(copy);
        }
    }
    if (hex) {
        n = strip_comments(data, n);
        size_t bytes;
        sw_err e = sw_hex_decode((const char *)data, n, data, n, &bytes);
        if (e != SW_OK) {
            fprintf(stderr, "The input is not valid hex text: %s\n", sw_err_message(e));
            free(data);
            return 1;
        }
        n = bytes;
    }
    struct stream_out so = { .json = !opts[2].count };
    so.rx = malloc(sizeof *so.rx);
    if (!so.rx) {
        free(data);
        return 1;
    }
    sw_rct_receiver_init(so.rx);
    feed(&so, data, n);
    report_pending(&so);
    free(so.rx);
    free(data);
    if (so.frames == 0 && n > 0) {
        fprintf(stderr, "No RCT frame found in %s: %zu bytes read as %s%s\n", strcmp(path, "-") ? path : "stdin",
                n, hex ? "hex text" : "raw bytes",
                hex || opts[1].count ? ""
                                     : " (it is not hex text: only hex digits, blanks, 0x, ',' and # comments are)");
        return 1;
    }
    if (n == 0)
        fprintf(stderr, "%s is empty: nothing to decode\n", strcmp(path, "-") ? path : "stdin");
    return 0;
}

/* ---- encode --------------------------------------------------------------------- */

int rc_cmd_encode(const rc_global *g, int argc, char **argv)
{
    rc_opt opts[] = {
        OPT("-c", "--command", RC_VALUE, "<cmd>", "READ (default), WRITE, RESPONSE, ... or a number"),
        OPT("-i", "--id", RC_VALUE, "<ID>", "Object ID"),
        OPT("-n", "--name", RC_VALUE, "<name>", "Object name"),
        OPT("-a", "--address", RC_VALUE, "<n>", "Plant address (used by PLANT_* commands)"),
        OPT(NULL, "--value", RC_VALUE, "<value>", "Payload: a value of the object's type"),
        OPT(NULL, "--payload", RC_VALUE, "<hex>", "Payload as raw hex bytes"),
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS]",
                   "  Build one frame and print it as upper-case hex. The value is encoded with the\n"
                   "  object's request type (its response type for RESPONSE commands).",
                   opts, sizeof opts / sizeof opts[0], 0, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "encode", argc, argv);
    if (rc >= 0)
        return rc;
    rc_opt *oc = &opts[0], *oid = &opts[1], *oname = &opts[2], *oval = &opts[4], *opay = &opts[5];
    uint8_t command = SW_RCT_CMD_READ;
    if (oc->count && sw_rct_command_from_name(oc->value, &command) != SW_OK) {
        char *end;
        unsigned long v = strtoul(oc->value, &end, 0);
        if (*end || v > 255)
            return rc_usage_error(&cmd, "Invalid value for '-c' / '--command': '%s' is not a command.", oc->value);
        command = (uint8_t)v;
    }
    if ((oid->count > 0) == (oname->count > 0))
        return rc_usage_error(&cmd, "Please specify either --id or --name");
    if (oval->count && opay->count)
        return rc_usage_error(&cmd, "Give the payload once, with --value or --payload");
    uint32_t id = 0;
    const sw_rct_object *obj = NULL;
    if (oid->count) {
        if (!rc_parse_id(oid->value, &id))
            return rc_usage_error(&cmd, "Invalid value for '-i' / '--id': '%s' is not a hexadecimal object id.",
                                  oid->value);
        obj = sw_rct_registry_find_id(id);
    } else {
        obj = sw_rct_registry_find_name(oname->value);
        if (!obj) {
            fprintf(stderr, "Could not find requested id or name: %s\n", oname->value);
            return 1;
        }
        id = obj->id;
    }
    long long addr;
    if (rc_int(&cmd, "--address", 0, 0, 4294967295LL, &addr))
        return 2;
    static uint8_t payload[SW_RCT_PAYLOAD_MAX + 1];
    size_t plen = 0;
    if (opay->count) {
        if (sw_hex_decode(opay->value, strlen(opay->value), payload, sizeof payload, &plen) != SW_OK)
            return rc_usage_error(&cmd, "Invalid value for '--payload': '%s' is not hex.", opay->value);
    } else if (oval->count) {
        if (!obj) {
            fprintf(stderr, "Unknown id 0x%08X: its type is unknown, give the payload with --payload\n",
                    (unsigned)id);
            return 1;
        }
        sw_rct_value v;
        static uint8_t storage[SW_RCT_PAYLOAD_MAX + 1];
        sw_err e;
        if (sw_rct_command_is_response(command)) {
            if (obj->response_type == obj->request_type)
                e = sw_rct_object_parse_value(obj, oval->value, &v, storage, sizeof storage);
            else
                e = sw_rct_value_from_text(obj->response_type, oval->value, &v, storage, sizeof storage);
        } else {
            e = sw_rct_object_parse_value(obj, oval->value, &v, storage, sizeof storage);
        }
        if (e == SW_OK)
            e = sw_rct_value_encode(&v, payload, sizeof payload, &plen);
        if (e != SW_OK) {
            fprintf(stderr, "Cannot encode '%s' for %s: %s\n", oval->value, obj->name, sw_err_message(e));
            return 1;
        }
    }
    static uint8_t frame[SW_RCT_WIRE_MAX(SW_RCT_PAYLOAD_MAX)];
    size_t flen;
    sw_err e = command == SW_RCT_CMD_EXTENSION
                   ? sw_rct_frame_build_extension((uint8_t)id, frame, sizeof frame, &flen)
                   : sw_rct_frame_build(command, id, (uint32_t)addr, payload, plen, frame, sizeof frame, &flen);
    if (e != SW_OK) {
        fprintf(stderr, "Cannot build the frame: %s\n", sw_err_message(e));
        return 1;
    }
    char *hex = malloc(2 * flen + 1);
    if (!hex)
        return 1;
    sw_hex_encode(hex, frame, flen);
    printf("%s\n", hex);
    free(hex);
    return 0;
}

/* ---- read-pcap ------------------------------------------------------------------ */

struct pcap_dir {
    unsigned index;
    sw_rct_receiver *rx;
    uint64_t offset;
};

struct pcap_ctx {
    struct stream_out so;
    struct pcap_dir *dirs;
    size_t n_dirs;
    size_t frames, errors;
};

/* Out of memory stops the reading: what was decoded so far is printed. */
static int on_pcap_data(const sw_pcap_flow *flow, int64_t ts_ns, const uint8_t *data, size_t len, uint32_t gap,
                        void *user)
{
    struct pcap_ctx *c = user;
    if (flow->index >= c->n_dirs) {
        size_t n = flow->index + 1;
        struct pcap_dir *nd = realloc(c->dirs, n * sizeof *nd);
        if (!nd)
            return 1;
        for (size_t i = c->n_dirs; i < n; i++) {
            nd[i].index = (unsigned)i;
            nd[i].offset = 0;
            nd[i].rx = malloc(sizeof *nd[i].rx);
            if (!nd[i].rx) {
                c->dirs = nd;
                c->n_dirs = i;
                return 1;
            }
            sw_rct_receiver_init(nd[i].rx);
        }
        c->dirs = nd;
        c->n_dirs = n;
    }
    struct pcap_dir *d = &c->dirs[flow->index];
    char src[64], dst[64];
    sw_tcp_endpoint_text(&flow->src, src);
    sw_tcp_endpoint_text(&flow->dst, dst);
    c->so.rx = d->rx;
    c->so.src = src;
    c->so.dst = dst;
    c->so.ts_ns = ts_ns;
    c->so.offset = d->offset;
    c->so.frames = c->so.errors = 0;
    /*
     * Lost bytes make the pending frame unusable; and devices start each answer in
     * a new segment with 00 2B, so an unfinished frame before one was cut short.
     */
    if (sw_rct_receiver_in_frame(d->rx) && (gap || (len >= 2 && data[0] == 0x00 && data[1] == 0x2B))) {
        report_pending(&c->so);
        sw_rct_receiver_reset(d->rx);
    }
    d->offset += gap;
    c->so.offset = d->offset;
    feed(&c->so, data, len);
    d->offset = c->so.offset;
    c->frames += c->so.frames;
    c->errors += c->so.errors;
    return 0;
}

int rc_cmd_read_pcap(const rc_global *g, int argc, char **argv)
{
    rc_opt opts[] = {
        OPT(NULL, "--json", RC_FLAG, NULL, "One JSON object per line"),
        OPT("-p", "--port", RC_VALUE, "<port>", "TCP port of the RCT traffic (default 8899; 0 = any)"),
    };
    char prog[RC_NAME_MAX];
    rc_cmd cmd = { NULL, "[OPTIONS] FILE",
                   "  Decode the RCT frames in a pcap or pcapng capture. TCP is reassembled per\n"
                   "  direction (out-of-order and repeated segments are handled); every frame is printed\n"
                   "  with its object name and decoded value.",
                   opts, 2, 1, { 0 }, 0 };
    int rc = rc_start(&cmd, prog, g->prog, "read-pcap", argc, argv);
    if (rc >= 0)
        return rc;
    if (cmd.n_pos != 1)
        return rc_usage_error(&cmd, "Missing argument 'FILE'.");
    long long port;
    if (rc_int(&cmd, "--port", SW_RCT_DEFAULT_PORT, 0, 65535, &port))
        return 2;
    if (!SUNWIRE_HAVE_PCAP) {
        fprintf(stderr, "read-pcap is not available: this build has no pcap support (install libpcap-dev and rebuild)\n");
        return 1;
    }
    struct pcap_ctx c;
    memset(&c, 0, sizeof c);
    c.so.json = opts[0].count > 0;
    char err[512] = "";
    sw_pcap_counters st;
    sw_err e = sw_pcap_read(cmd.pos[0], (uint16_t)port, on_pcap_data, &c, &st, err, sizeof err);
    for (size_t i = 0; i < c.n_dirs; i++) {
        c.so.rx = c.dirs[i].rx;
        c.so.src = NULL;
        free(c.dirs[i].rx);
    }
    free(c.dirs);
    if (e != SW_OK) {
        fprintf(stderr, "Cannot read %s: %s\n", cmd.pos[0], err[0] ? err : sw_err_message(e));
        return 1;
    }
    if (g->debug)
        fprintf(stderr, "%llu packets, %llu TCP, %llu directions, %llu bytes, %llu repeated, %llu holes; %zu frames, %zu errors\n",
                (unsigned long long)st.packets, (unsigned long long)st.tcp_packets, (unsigned long long)st.flows,
                (unsigned long long)st.bytes, (unsigned long long)st.duplicate_bytes, (unsigned long long)st.gaps,
                c.frames, c.errors);
    return 0;
}
