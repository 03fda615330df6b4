/*
 * Fuzz target: the RCT streaming receiver fed arbitrary bytes; every
 * complete frame is decoded with its registry type (or every type when the
 * id is unknown) and rendered as text and JSON. The bytes are received twice,
 * in one piece and in pieces whose sizes the input's last byte picks, and
 * both passes must give the same frames and errors. The one-shot parser
 * sw_rct_frame_parse must find the same first frame or error as the receiver
 * fed the whole input at once, and use the same number of bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rct_events.h"
#include "sunwire/rct.h"

static void decode_all(uint32_t id, const uint8_t *p, size_t n)
{
    static const sw_rct_type types[] = {
        SW_RCT_TYPE_UNKNOWN, SW_RCT_TYPE_BOOL, SW_RCT_TYPE_UINT8, SW_RCT_TYPE_INT8, SW_RCT_TYPE_UINT16,
        SW_RCT_TYPE_INT16, SW_RCT_TYPE_UINT32, SW_RCT_TYPE_INT32, SW_RCT_TYPE_ENUM, SW_RCT_TYPE_FLOAT,
        SW_RCT_TYPE_STRING, SW_RCT_TYPE_TIMESERIES, SW_RCT_TYPE_EVENT_TABLE,
        SW_RCT_TYPE_BATTERY_MODULE_STATUS, SW_RCT_TYPE_BATTERY_MODULE_STATISTICS,
        SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE,
    };
    static uint8_t storage[1 << 20];
    static char text[1 << 18];
    const sw_rct_object *o = sw_rct_registry_find_id(id);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        sw_rct_type t = o ? o->response_type : types[i];
        sw_rct_value v;
        if (sw_rct_value_storage_size(t, n) > sizeof storage)
            continue;
        if (sw_rct_value_decode(t, p, n, &v, storage, sizeof storage) == SW_OK) {
            sw_rct_value_to_text(&v, text, sizeof text);
            sw_json j;
            sw_json_init(&j, text, sizeof text);
            sw_rct_value_to_json(&v, &j);
            uint8_t enc[1 << 12];
            size_t en;
            sw_rct_value_encode(&v, enc, sizeof enc, &en);
        }
        if (o)
            break;
    }
}

/* The first event of the receiver against the one-shot parser; abort on any difference. */
static void compare_one_shot(sw_rct_receiver *rx, const uint8_t *data, size_t size)
{
    static uint8_t body[SW_RCT_RECEIVER_BODY_MAX];
    sw_rct_frame f;
    ptrdiff_t r = sw_rct_frame_parse(data, size, &f, body, sizeof body);
    sw_rct_receiver_init(rx);
    sw_rct_receiver_event ev;
    size_t used = 0;
    do {
        used += sw_rct_receiver_push(rx, data + used, size - used, &ev);
    } while (ev.kind == SW_RCT_RECEIVER_NEED_MORE && used < size);
    if (ev.kind == SW_RCT_RECEIVER_NEED_MORE) {
        if (r != SW_RCT_PARSE_NEED_MORE)
            abort();
        return;
    }
    if (ev.kind == SW_RCT_RECEIVER_ERROR) {
        if (r != -(ptrdiff_t)ev.error)
            abort();
        if (ev.error != SW_ERR_RCT_CRC_MISMATCH)
            return;
    } else if (r <= 0 || (size_t)r != used) {
        abort();
    }
    const sw_rct_frame *g = &ev.frame;
    if (f.command != g->command || f.kind != g->kind || f.address != g->address || f.id != g->id ||
        f.extension != g->extension || f.crc_ok != g->crc_ok || f.payload_len != g->payload_len ||
        (f.payload_len && memcmp(f.payload, g->payload, f.payload_len) != 0))
        abort();
}

/* Every event of one pass over the input, in pieces from split (NULL: in one piece). */
static fz_digest receive_all(sw_rct_receiver *rx, const uint8_t *data, size_t size, fz_splitter *split, bool decode)
{
    fz_digest d;
    fz_digest_init(&d);
    sw_rct_receiver_init(rx);
    size_t pos = 0;
    while (pos < size) {
        size_t end = pos + (split ? fz_piece(split, size - pos) : size - pos);
        while (pos < end) {
            sw_rct_receiver_event ev;
            size_t used = sw_rct_receiver_push(rx, data + pos, end - pos, &ev);
            pos += used;
            if (used == 0 && ev.kind == SW_RCT_RECEIVER_NEED_MORE)
                break;
            fz_mix_rct_event(&d, &ev);
            if (decode && ev.kind == SW_RCT_RECEIVER_FRAME)
                decode_all(ev.frame.id, ev.frame.payload, ev.frame.payload_len);
        }
        pos = end;
    }
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_rct_receiver *rx;
    if (!rx)
        rx = malloc(sizeof *rx);
    if (size < 1)
        return 0;
    compare_one_shot(rx, data, size);
    /* Once in one piece (each frame decoded), once in pieces the last byte picks: same events. */
    fz_digest whole = receive_all(rx, data, size, NULL, true);
    fz_splitter sp;
    fz_splitter_init(&sp, data[size - 1]);
    fz_digest split = receive_all(rx, data, size, &sp, false);
    fz_same(&whole, &split, "RCT receiver");
    return 0;
}
