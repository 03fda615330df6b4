/*
 * tigo_frames.c: `peek-frames`, one line per CRC-valid link frame.
 *
 * As taptap the human line is taptap's own Debug rendering, byte for byte;
 * as sunwire it is the readable form of tigo_format.h; --json lines come
 * from tigo_format.h in both personas. Frames come from the link receiver
 * (improved mode), which is kept for the whole run so a frame split across
 * reads or reconnects is still delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/tigo_cli.h"
#include "sunwire/tigo_format.h"
#include "sunwire/tigo_link.h"

/* Decimal text of every byte value, NUL-padded to four bytes so that a whole
 * entry can be copied and the length added (the line has room to spare). */
typedef struct dec_table {
    char text[256][4];
    uint8_t len[256];
} dec_table;

typedef struct frames_ctx {
    tigo_cli *cli;
    sw_tigo_link_receiver rx;
    sw_tigo_format fmt;
    int64_t now_ns;
    int failed;
    dec_table dec;
    char line[SW_TIGO_LINE_MAX];
} frames_ctx;

static void dec_table_init(dec_table *d)
{
    for (unsigned v = 0; v < 256; v++)
        d->len[v] = (uint8_t)snprintf(d->text[v], sizeof d->text[v], "%u", v);
}

static size_t put_str(char *out, size_t k, const char *s)
{
    size_t n = strlen(s);
    memcpy(out + k, s, n);
    return k + n;
}

/* "0x" and lower-case hex with at least two digits, as Rust's {:#04x}. */
static size_t put_hex(char *out, size_t k, unsigned v)
{
    static const char hx[] = "0123456789abcdef";
    char tmp[8];
    size_t n = 0;
    do {
        tmp[n++] = hx[v & 0xF];
        v >>= 4;
    } while (v);
    if (n < 2)
        tmp[n++] = '0';
    out[k++] = '0';
    out[k++] = 'x';
    while (n)
        out[k++] = tmp[--n];
    return k;
}

/*
 * taptap's Debug rendering of a frame. Written by hand rather than with one
 * snprintf per payload byte: this line is most of what the persona's
 * peek-frames does. out must hold SW_TIGO_LINE_MAX bytes, which is more than
 * the longest frame's line (about 1.4 KB) needs, with room for the 4-byte copies.
 */
static size_t frame_text(const dec_table *d, const sw_tigo_frame *f, char *out)
{
    size_t k = put_str(out, 0, sw_tigo_addr_is_from_gateway(f->address) ? "Frame { address: From(GatewayID("
                                                                           : "Frame { address: To(GatewayID(");
    k = put_hex(out, k, sw_tigo_addr_gateway_id(f->address));
    k = put_str(out, k, ")), frame_type: Type");
    const char *name = sw_tigo_frame_type_name(f->type);
    if (name) {
        k = put_str(out, k, "::");
        k = put_str(out, k, name);
    } else {
        out[k++] = '(';
        k = put_hex(out, k, f->type);
        out[k++] = ')';
    }
    k = put_str(out, k, ", payload: [");
    for (size_t i = 0; i < f->payload_len; i++) {
        if (i) {
            out[k++] = ',';
            out[k++] = ' ';
        }
        memcpy(out + k, d->text[f->payload[i]], 4);
        k += d->len[f->payload[i]];
    }
    k = put_str(out, k, "] }");
    out[k] = '\0';
    return k;
}

static int on_frame(sw_tigo_link_receiver *rx, const sw_tigo_frame *f, void *user)
{
    (void)rx;
    frames_ctx *c = user;
    size_t len = 0;
    sw_err e;
    if (c->cli->args->json) {
        e = sw_tigo_format_frame_json(&c->fmt, f, c->now_ns, c->line, sizeof c->line, &len);
    } else if (c->cli->persona == SW_PERSONA_TAPTAP) {
        _Static_assert(sizeof c->line >= 100 + SW_TIGO_LINK_MAX_PAYLOAD * 5, "line too short for a frame");
        len = frame_text(&c->dec, f, c->line);
        e = SW_OK;
    } else {
        e = sw_tigo_format_frame_text(f, c->line, sizeof c->line, &len);
    }
    if (e == SW_OK && tigo_emit_line(c->cli, c->line, len))
        c->failed = 1;
    return 0;
}

static int frames_on_bytes(void *p, const uint8_t *data, size_t n, int64_t unix_ns)
{
    frames_ctx *c = p;
    c->now_ns = unix_ns;
    sw_tigo_link_receiver_push(&c->rx, data, n, NULL);
    return c->failed;
}

int tigo_cmd_peek_frames(tigo_cli *cli)
{
    frames_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->cli = cli;
    sw_tigo_format_init(&c->fmt, 0);
    dec_table_init(&c->dec);
    sw_tigo_link_receiver_init(&c->rx, SW_TIGO_LINK_MODE_IMPROVED, on_frame, c);
    int rc = tigo_run(cli, frames_on_bytes, c);
    free(c);
    return rc;
}
