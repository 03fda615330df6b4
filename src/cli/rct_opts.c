/*
 * rct_opts.c: click-like option parsing and helpers of the RCT command group.
 *
 * Error texts follow click 8 word for word where rctclient users may script
 * against them ("Error: Missing option '-h' / '--host'."), because the
 * rctclient persona promises the same exit codes and messages.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli/rct_cli.h"
#include "sunwire/core.h"
#include "sunwire/json.h"

void rc_opt_label(const rc_opt *o, char *out, size_t cap)
{
    if (o->short_name)
        snprintf(out, cap, "'%s' / '%s'", o->short_name, o->long_name);
    else
        snprintf(out, cap, "'%s'", o->long_name);
}

static void usage_line(const rc_cmd *cmd, FILE *out)
{
    fprintf(out, "Usage: %s %s\n", cmd->prog, cmd->usage_tail ? cmd->usage_tail : "[OPTIONS]");
}

int rc_usage_error(const rc_cmd *cmd, const char *fmt, ...)
{
    usage_line(cmd, stderr);
    fprintf(stderr, "Try '%s --help' for help.\n\nError: ", cmd->prog);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

void rc_print_help(const rc_cmd *cmd, FILE *out)
{
    usage_line(cmd, out);
    if (cmd->help)
        fprintf(out, "\n%s\n", cmd->help);
    fprintf(out, "\nOptions:\n");
    char left[128];
    size_t width = 0;
    for (size_t i = 0; i <= cmd->n_opts; i++) {
        if (i < cmd->n_opts) {
            const rc_opt *o = &cmd->opts[i];
            snprintf(left, sizeof left, "%s%s%s%s%s", o->short_name ? o->short_name : "",
                     o->short_name ? ", " : "", o->long_name, o->kind == RC_FLAG ? "" : " ",
                     o->kind == RC_FLAG ? "" : (o->metavar ? o->metavar : "TEXT"));
        } else {
            snprintf(left, sizeof left, "--help");
        }
        if (strlen(left) > width)
            width = strlen(left);
    }
    for (size_t i = 0; i <= cmd->n_opts; i++) {
        const char *help = "Show this message and exit.";
        if (i < cmd->n_opts) {
            const rc_opt *o = &cmd->opts[i];
            snprintf(left, sizeof left, "%s%s%s%s%s", o->short_name ? o->short_name : "",
                     o->short_name ? ", " : "", o->long_name, o->kind == RC_FLAG ? "" : " ",
                     o->kind == RC_FLAG ? "" : (o->metavar ? o->metavar : "TEXT"));
            help = o->help ? o->help : "";
        } else {
            snprintf(left, sizeof left, "--help");
        }
        fprintf(out, "  %-*s  %s%s\n", (int)width, left, help,
                i < cmd->n_opts && cmd->opts[i].required ? "  [required]" : "");
    }
}

rc_opt *rc_find(rc_cmd *cmd, const char *long_name)
{
    for (size_t i = 0; i < cmd->n_opts; i++)
        if (strcmp(cmd->opts[i].long_name, long_name) == 0)
            return &cmd->opts[i];
    return NULL;
}

static rc_opt *by_name(rc_cmd *cmd, const char *name, size_t len)
{
    for (size_t i = 0; i < cmd->n_opts; i++) {
        rc_opt *o = &cmd->opts[i];
        if ((strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0) ||
            (o->short_name && strlen(o->short_name) == len && strncmp(o->short_name, name, len) == 0))
            return o;
    }
    return NULL;
}

static int store(rc_cmd *cmd, rc_opt *o, const char *value)
{
    o->count++;
    o->value = value;
    if (o->kind == RC_MULTI) {
        if (o->n_values == sizeof o->values / sizeof o->values[0])
            return rc_usage_error(cmd, "Too many values for '%s'.", o->long_name);
        o->values[o->n_values++] = value;
    }
    return 0;
}

int rc_start(rc_cmd *cmd, char name[RC_NAME_MAX], const char *program, const char *sub, int argc, char **argv)
{
    snprintf(name, RC_NAME_MAX, "%s %s", program, sub);
    cmd->prog = name;
    bool help = false;
    int rc = rc_parse(cmd, argc, argv, &help);
    return rc || help ? rc : -1;
}

int rc_parse(rc_cmd *cmd, int argc, char **argv, bool *help_shown)
{
    *help_shown = false;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (cmd->n_pos >= cmd->max_pos || cmd->n_pos >= sizeof cmd->pos / sizeof cmd->pos[0]) {
                /* click lists every surplus argument at once */
                char extra[512] = "";
                size_t n = 0;
                int count = 0;
                for (int k = i; k < argc; k++) {
                    if (!only_pos && argv[k][0] == '-' && argv[k][1])
                        continue;
                    n += (size_t)snprintf(extra + n, n < sizeof extra ? sizeof extra - n : 0, "%s%s",
                                          count ? " " : "", argv[k]);
                    count++;
                }
                return rc_usage_error(cmd, "Got unexpected extra argument%s (%s)", count > 1 ? "s" : "", extra);
            }
            cmd->pos[cmd->n_pos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            rc_print_help(cmd, stdout);
            *help_shown = true;
            return 0;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            rc_opt *o = by_name(cmd, a, len);
            if (!o)
                return rc_usage_error(cmd, "No such option: %.*s", (int)len, a);
            if (o->kind == RC_FLAG) {
                if (eq)
                    return rc_usage_error(cmd, "Option '%s' does not take a value.", o->long_name);
                o->count++;
                continue;
            }
            const char *v = eq ? eq + 1 : NULL;
            if (!v) {
                if (i + 1 >= argc)
                    return rc_usage_error(cmd, "Option '%.*s' requires an argument.", (int)len, a);
                v = argv[++i];
            }
            int rc = store(cmd, o, v);
            if (rc)
                return rc;
            continue;
        }
        /* Short options, possibly bundled: -dv, -p8899, -p 8899. */
        for (size_t k = 1; a[k]; k++) {
            char name[3] = { '-', a[k], 0 };
            rc_opt *o = by_name(cmd, name, 2);
            if (!o)
                return rc_usage_error(cmd, "No such option: %s", name);
            if (o->kind == RC_FLAG) {
                o->count++;
                continue;
            }
            const char *v = a[k + 1] ? a + k + 1 : NULL;
            if (!v) {
                if (i + 1 >= argc)
                    return rc_usage_error(cmd, "Option '%s' requires an argument.", name);
                v = argv[++i];
            }
            int rc = store(cmd, o, v);
            if (rc)
                return rc;
            break;
        }
    }
    for (size_t i = 0; i < cmd->n_opts; i++) {
        if (cmd->opts[i].required && cmd->opts[i].count == 0) {
            char label[96];
            rc_opt_label(&cmd->opts[i], label, sizeof label);
            return rc_usage_error(cmd, "Missing option %s.", label);
        }
    }
    return 0;
}

int rc_int(rc_cmd *cmd, const char *long_name, long long def, long long lo, long long hi, long long *out)
{
    rc_opt *o = rc_find(cmd, long_name);
    *out = def;
    if (!o || !o->count)
        return 0;
    char *end;
    errno = 0;
    const char *s = o->value;
    while (isspace((unsigned char)*s))
        s++;
    long long v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    char label[96];
    rc_opt_label(o, label, sizeof label);
    if (*s == '\0' || *end != '\0' || errno == ERANGE)
        return rc_usage_error(cmd, "Invalid value for %s: '%s' is not a valid integer.", label, o->value);
    if (v < lo || v > hi)
        return rc_usage_error(cmd, "Invalid value for %s: %s is not in the range %lld<=x<=%lld.", label, o->value,
                              lo, hi);
    *out = v;
    return 0;
}

int rc_double(rc_cmd *cmd, const char *long_name, double def, double *out)
{
    rc_opt *o = rc_find(cmd, long_name);
    *out = def;
    if (!o || !o->count)
        return 0;
    char *end;
    double v = strtod(o->value, &end);
    if (*o->value == '\0' || *end != '\0' || v != v) {
        char label[96];
        rc_opt_label(o, label, sizeof label);
        return rc_usage_error(cmd, "Invalid value for %s: '%s' is not a valid float.", label, o->value);
    }
    *out = v;
    return 0;
}

void rc_debug(const rc_global *g, const char *logger, const char *level, const char *fmt, ...)
{
    if (!g->debug)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    time_t t = tv.tv_sec;
    localtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(stderr, "%s,%03d - %s - %s - ", stamp, (int)(tv.tv_usec / 1000), logger, level);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool rc_parse_id(const char *text, uint32_t *out)
{
    const char *p = text;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    if (*p == '\0' || strlen(p) > 8)
        return false;
    uint32_t v = 0;
    for (; *p; p++) {
        int d = isdigit((unsigned char)*p) ? *p - '0'
                : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
                : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

const sw_rct_object *rc_lookup(const char *text, bool is_id)
{
    if (!is_id)
        return sw_rct_registry_find_name(text);
    uint32_t id;
    if (!rc_parse_id(text, &id))
        return NULL;
    return sw_rct_registry_find_id(id);
}

bool rc_parse_time(const char *text, int64_t *out)
{
    char *end;
    if (*text && strspn(text, "0123456789") == strlen(text)) {
        long long v = strtoll(text, &end, 10);
        *out = v;
        return true;
    }
    int y, mo, d, h = 0, mi = 0, s = 0;
    char tail[8] = "";
    int n = sscanf(text, "%4d-%2d-%2d%*[T ]%2d:%2d:%2d%7s", &y, &mo, &d, &h, &mi, &s, tail);
    if (n < 3)
        return false;
    if (n == 3 && strlen(text) != 10)
        return false;
    if (n == 4) /* hour without minutes */
        return false;
    if (tail[0] && strcmp(tail, "Z") != 0)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    *out = sw_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600 + mi * 60 + s;
    return true;
}

void rc_fmt_time(int64_t t, char out[32])
{
    char buf[SW_RFC3339_MAX];
    sw_fmt_rfc3339(buf, t * 1000000000LL, 0);
    /* The device's clock has no zone: drop the "Z". */
    size_t n = strlen(buf);
    if (n && buf[n - 1] == 'Z')
        buf[n - 1] = 0;
    n = strlen(buf);
    if (n > 31)
        n = 31;
    memcpy(out, buf, n);
    out[n] = 0;
}

bool rc_write_port_file(const char *path, uint16_t port)
{
    /* Written to a temporary name and renamed, so a reader never sees half a number. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return false;
    fprintf(f, "%u\n", (unsigned)port);
    return fclose(f) == 0 && rename(tmp, path) == 0;
}

/* Decode the payload with the type that fits the command, if any. */
static bool frame_value(const sw_rct_frame *f, sw_rct_value *v, void **storage, sw_err *err)
{
    *storage = NULL;
    sw_rct_type t;
    if (sw_rct_frame_value_type(f, NULL, &t) != SW_OK)
        return false;
    size_t need = sw_rct_reply_storage_size(f);
    if (need) {
        *storage = malloc(need);
        if (!*storage) {
            *err = SW_ERR_NO_MEMORY;
            return false;
        }
    }
    *err = sw_rct_decode_reply(f, NULL, v, *storage, need);
    return *err == SW_OK;
}

void rc_frame_json(sw_json *j, const sw_rct_frame *f)
{
    const char *cname = sw_rct_command_name(f->command);
    sw_json_key(j, "command");
    if (cname)
        sw_json_string(j, cname);
    else
        sw_json_int(j, f->command);
    if (f->kind == SW_RCT_FRAME_EXTENSION) {
        sw_json_key(j, "extension");
        sw_json_int(j, f->extension);
        return;
    }
    char idt[16];
    snprintf(idt, sizeof idt, "0x%08X", (unsigned)f->id);
    sw_json_key(j, "id");
    sw_json_string(j, idt);
    const sw_rct_object *obj = sw_rct_registry_find_id(f->id);
    sw_json_key(j, "name");
    if (obj)
        sw_json_string(j, obj->name);
    else
        sw_json_null(j);
    sw_json_key(j, "address");
    sw_json_uint(j, f->address);
    char *hex = malloc(2 * f->payload_len + 1);
    sw_json_key(j, "payload");
    if (hex) {
        sw_hex_encode(hex, f->payload, f->payload_len);
        sw_json_string(j, hex);
        free(hex);
    } else {
        sw_json_null(j);
    }
    sw_rct_value v;
    void *storage;
    sw_err err = SW_OK;
    bool ok = frame_value(f, &v, &storage, &err);
    if (ok) {
        sw_json_key(j, "type");
        sw_json_string(j, sw_rct_type_name(v.type));
        sw_json_key(j, "value");
        sw_rct_value_to_json(&v, j);
        if (obj->unit && obj->unit[0]) {
            sw_json_key(j, "unit");
            sw_json_string(j, obj->unit);
        }
        if (v.type == SW_RCT_TYPE_ENUM) {
            const char *label;
            if (sw_rct_object_enum_label(obj, v.u.i, &label) == SW_OK) {
                sw_json_key(j, "label");
                sw_json_string(j, label);
            }
        }
    } else if (err != SW_OK) {
        sw_json_key(j, "value_error");
        sw_json_string(j, sw_err_name(err));
    }
    free(storage);
}

void rc_frame_text(const sw_rct_frame *f, char *out, size_t cap)
{
    const char *cname = sw_rct_command_name(f->command);
    char cbuf[8];
    if (!cname) {
        snprintf(cbuf, sizeof cbuf, "0x%02X", f->command);
        cname = cbuf;
    }
    if (f->kind == SW_RCT_FRAME_EXTENSION) {
        snprintf(out, cap, "%s 0x%02X", cname, f->extension);
        return;
    }
    const sw_rct_object *obj = sw_rct_registry_find_id(f->id);
    char addr[24] = "";
    if (f->kind == SW_RCT_FRAME_PLANT)
        snprintf(addr, sizeof addr, " @%u", (unsigned)f->address);
    int n = snprintf(out, cap, "%s%s %s (0x%08X)", cname, addr, obj ? obj->name : "<unknown id>", (unsigned)f->id);
    if (n < 0 || (size_t)n >= cap)
        return;
    sw_rct_value v;
    void *storage;
    sw_err err = SW_OK;
    if (frame_value(f, &v, &storage, &err)) {
        char *text = malloc(65536);
        if (text) {
            sw_rct_value_to_text(&v, text, 65536);
            size_t tl = strlen(text);
            while (tl && text[tl - 1] == '\n')
                text[--tl] = 0;
            const char *label = NULL;
            if (v.type == SW_RCT_TYPE_ENUM)
                sw_rct_object_enum_label(obj, v.u.i, &label);
            snprintf(out + n, cap - (size_t)n, " = %s%s%s%s%s", text, label ? " (" : "", label ? label : "",
                     label ? ")" : "", "");
            size_t m = strlen(out);
            if (obj->unit && obj->unit[0] && m + 1 < cap)
                snprintf(out + m, cap - m, " %s", obj->unit);
            free(text);
        }
    } else if (err != SW_OK) {
        snprintf(out + n, cap - (size_t)n, " (payload %zu bytes does not decode: %s)", f->payload_len,
                 sw_err_message(err));
    }
    free(storage);
}
