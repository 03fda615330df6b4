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

typedef struct frames_ctx {
    tigo_cli *cli;
    sw_tigo_link_rx rx;
    sw_tigo_fmt fmt;
    int64_t now_ns;
    int failed;
    char line[SW_TIGO_LINE_MAX];
} frames_ctx;

static void frame_text(const sw_tigo_frame *f, char *out, size_t cap)
{
    size_t k = 0;
    const char *name = sw_tigo_frame_type_name(f->type);
    char type[48];
    if (name)
        snprintf(type, sizeof type, "Type::%s", name);
    else
        snprintf(type, sizeof type, "Type(0x%02x)", f->type);
    k += (size_t)snprintf(out + k, cap - k, "Frame { address: %s(GatewayID(0x%02x)), frame_type: %s, payload: [",
                          sw_tigo_addr_is_from_gateway(f->address) ? "From" : "To",
                          sw_tigo_addr_gateway_id(f->address), type);
    for (size_t i = 0; i < f->payload_len && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, i ? ", %u" : "%u", f->payload[i]);
    if (k < cap)
        snprintf(out + k, cap - k, "] }");
}

static int on_frame(sw_tigo_link_rx *rx, const sw_tigo_frame *f, void *user)
{
    (void)rx;
    frames_ctx *c = user;
    size_t len = 0;
    sw_err e;
    if (c->cli->args->json) {
        e = sw_tigo_fmt_frame_json(&c->fmt, f, c->now_ns, c->line, sizeof c->line, &len);
    } else if (c->cli->persona == SW_PERSONA_TAPTAP) {
        frame_text(f, c->line, sizeof c->line);
        len = strlen(c->line);
        e = SW_OK;
    } else {
        e = sw_tigo_fmt_frame_text(f, c->line, sizeof c->line, &len);
    }
    if (e == SW_OK && tigo_emit_line(c->cli, c->line, len))
        c->failed = 1;
    return 0;
}

static int frames_on_bytes(void *p, const uint8_t *data, size_t n, int64_t unix_ns)
{
    frames_ctx *c = p;
    c->now_ns = unix_ns;
    sw_tigo_link_rx_push(&c->rx, data, n, NULL);
    return c->failed;
}

int tigo_cmd_peek_frames(tigo_cli *cli)
{
    frames_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->cli = cli;
    sw_tigo_fmt_init(&c->fmt, 0);
    sw_tigo_link_rx_init(&c->rx, SW_TIGO_LINK_MODE_IMPROVED, on_frame, c);
    int rc = tigo_run(cli, frames_on_bytes, c);
    free(c);
    return rc;
}
