/*
 * tigo_frames.c: `peek-frames`, one line per CRC-valid link frame.
 *
 * The human line is taptap's Debug rendering (§12.6 of the protocol notes);
 * the --json line is sunwire's own. Frames come from the link receiver
 * (improved mode), which is kept for the whole run so a frame split across
 * reads or reconnects is still delivered.
 */
#include <stdio.h>
#include <string.h>

#include "cli/tigo_cli.h"
#include "sunwire/core.h"
#include "sunwire/json.h"
#include "sunwire/tigo_link.h"

typedef struct frames_ctx {
    tigo_cli *cli;
    sw_tigo_link_rx rx;
    int64_t now_ns;
    int failed;
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

static void frame_json(const sw_tigo_frame *f, int64_t now_ns, char *out, size_t cap)
{
    sw_json j;
    sw_json_init(&j, out, cap);
    char ts[SW_RFC3339_MAX], hex[2 * SW_TIGO_LINK_MAX_PAYLOAD + 1];
    sw_fmt_rfc3339(ts, now_ns, 0);
    sw_hex_encode(hex, f->payload, f->payload_len);
    const char *name = sw_tigo_frame_type_name(f->type);
    sw_json_object_begin(&j);
    sw_json_key(&j, "timestamp");
    sw_json_string(&j, ts);
    sw_json_key(&j, "direction");
    sw_json_string(&j, sw_tigo_addr_is_from_gateway(f->address) ? "from_gateway" : "to_gateway");
    sw_json_key(&j, "gateway");
    sw_json_int(&j, sw_tigo_addr_gateway_id(f->address));
    sw_json_key(&j, "frame_type");
    sw_json_int(&j, f->type);
    sw_json_key(&j, "frame_type_name");
    if (name)
        sw_json_string(&j, name);
    else
        sw_json_null(&j);
    sw_json_key(&j, "payload");
    sw_json_string(&j, hex);
    sw_json_object_end(&j);
    sw_json_finish(&j);
}

static void on_frame(void *user, const sw_tigo_frame *f)
{
    frames_ctx *c = user;
    char line[4096];
    if (c->cli->args->json)
        frame_json(f, c->now_ns, line, sizeof line);
    else
        frame_text(f, line, sizeof line);
    if (tigo_emit_line(c->cli, line, strlen(line)))
        c->failed = 1;
}

static int frames_on_bytes(void *p, const uint8_t *data, size_t n, int64_t unix_ns)
{
    frames_ctx *c = p;
    c->now_ns = unix_ns;
    sw_tigo_link_rx_feed(&c->rx, data, n);
    return c->failed;
}

int tigo_cmd_peek_frames(tigo_cli *cli)
{
    static frames_ctx c;
    memset(&c, 0, sizeof c);
    c.cli = cli;
    sw_tigo_link_rx_init(&c.rx, SW_TIGO_LINK_MODE_IMPROVED, on_frame, &c);
    return tigo_run(cli, frames_on_bytes, &c);
}
