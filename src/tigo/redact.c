/*
 * Tigo radio key redaction (sunwire/tigo_redact.h).
 *
 * The stream redactor follows the framing loosely on purpose: every 7E 07 in
 * the stream starts a candidate frame, whatever came before, so it sees at
 * least every frame the link receiver could deliver, in either of its modes.
 * A candidate's first eight body bytes (address, type, the command response
 * header up to the PV packet type) hold no secret and pass at once; when they
 * name a gateway's radio configuration response, the rest of the frame is
 * held, unescaped, until its end delimiter, then zeroed where the key lies,
 * given a new CRC and escaped again. A held frame that is cut short (a new
 * 7E 07, a bad escape, a giant, the end of the input) comes out zeroed too,
 * so a damaged copy of the key is not written down either.
 */
#include <stdint.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/tigo_pv.h"
#include "sunwire/tigo_redact.h"

/* Body bytes that decide whether a frame is held: address 2, type 2, payload 0..3 (the PV packet type). */
#define HEAD_LEN 8u
/* The key's place in a body: address and type, the command response header, the key's offset in the data. */
#define KEY_BODY_OFFSET (4u + SW_TIGO_COMMAND_RESPONSE_HEADER + SW_TIGO_RADIO_KEY_OFFSET)

enum { MODE_OUTSIDE = 0, MODE_HEAD, MODE_HOLD };

static bool is_radio_config_response(uint16_t address, uint16_t type, const uint8_t *payload, size_t payload_len)
{
    return sw_tigo_addr_is_from_gateway(address) && type == SW_TIGO_FT_COMMAND_RESPONSE && payload_len > 3 &&
           payload[3] == SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_RESPONSE;
}

bool sw_tigo_redact_key_span(uint16_t address, uint16_t type, const uint8_t *payload, size_t payload_len,
                             size_t *off, size_t *len)
{
    if (!payload || !is_radio_config_response(address, type, payload, payload_len))
        return false;
    size_t start = SW_TIGO_COMMAND_RESPONSE_HEADER + SW_TIGO_RADIO_KEY_OFFSET;
    size_t end = start + SW_TIGO_RADIO_KEY_LEN;
    if (end > payload_len)
        end = payload_len;
    if (start > end)
        start = end;
    if (off)
        *off = start;
    if (len)
        *len = end - start;
    return true;
}

/* Zero the key span of a body of n bytes whose last `tail` bytes are not payload; true when any byte was in it. */
static bool zero_key(uint8_t *body, size_t n, size_t tail)
{
    if (n < 4 + tail)
        return false;
    size_t off = 0, len = 0;
    if (!sw_tigo_redact_key_span(sw_be16(body), sw_be16(body + 2), body + 4, n - 4 - tail, &off, &len) || !len)
        return false;
    memset(body + 4 + off, 0, len);
    return true;
}

void sw_tigo_redact_body(uint8_t *body, size_t n, bool *redacted)
{
    bool done = false;
    if (body && n >= SW_TIGO_LINK_MIN_BODY) {
        sw_tigo_frame f;
        bool crc_ok = sw_tigo_link_parse_body(body, n, &f) == SW_OK;
        if (crc_ok) {
            done = zero_key(body, n, 2);
            if (done) {
                uint16_t crc = sw_tigo_crc16(body, n - 2);
                body[n - 2] = (uint8_t)crc;
                body[n - 1] = (uint8_t)(crc >> 8);
            }
        } else {
            /* Not a frame the receiver would deliver; its last two bytes may hold key bytes all the same. */
            done = zero_key(body, n, 0);
            if (done && sw_tigo_link_parse_body(body, n, &f) == SW_OK)
                body[n - 1] ^= 0x01; /* the zeroing must not make a damaged frame valid */
        }
    }
    if (redacted)
        *redacted = done;
}

void sw_tigo_redactor_init(sw_tigo_redactor *r)
{
    memset(r, 0, sizeof *r);
}

static const uint8_t unescaped_of[7] = { 0x7E, 0x24, 0x23, 0x25, 0xA4, 0xA3, 0xA5 };

/* Write the held part of the current frame (body bytes from HEAD_LEN on), escaped. */
static void put_held(sw_tigo_redactor *r, uint8_t *out, size_t *o)
{
    size_t n = r->len > HEAD_LEN ? r->len - HEAD_LEN : 0;
    size_t w = 0;
    if (n)
        sw_tigo_link_escape(r->body + HEAD_LEN, n, out + *o, SW_TIGO_REDACTOR_SLACK, &w);
    *o += w;
}

/* A held frame ended without its end delimiter: out with it, key zeroed, and back to passing bytes. */
static void drop_hold(sw_tigo_redactor *r, uint8_t *out, size_t *o)
{
    zero_key(r->body, r->len, 0);
    r->counters.frames++;
    put_held(r, out, o);
    r->mode = MODE_OUTSIDE;
    r->len = 0;
}

/* One more unescaped body byte of the current candidate. */
static void body_byte(sw_tigo_redactor *r, uint8_t b, uint8_t *out, size_t *o)
{
    if (r->len >= SW_TIGO_LINK_MAX_BODY) {
        /* A giant: no receiver delivers it. The byte was not written yet if the frame was held. */
        if (r->mode == MODE_HOLD) {
            drop_hold(r, out, o);
            size_t w = 0;
            sw_tigo_link_escape(&b, 1, out + *o, 2, &w);
            *o += w;
        }
        r->mode = MODE_OUTSIDE;
        r->len = 0;
        return;
    }
    r->body[r->len++] = b;
    if (r->mode == MODE_HEAD && r->len == HEAD_LEN &&
        is_radio_config_response(sw_be16(r->body), sw_be16(r->body + 2), r->body + 4, HEAD_LEN - 4))
        r->mode = MODE_HOLD;
}

sw_err sw_tigo_redactor_push(sw_tigo_redactor *r, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                             size_t *out_len)
{
    if (!r || (!data && len) || !out || !out_len)
        return SW_ERR_INVALID_ARGUMENT;
    if (len > (SIZE_MAX - SW_TIGO_REDACTOR_SLACK) / 2 || cap < SW_TIGO_REDACTOR_OUT_MAX(len))
        return SW_ERR_NO_SPACE;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = data[i];
        bool hold = r->mode == MODE_HOLD;
        if (r->escape) {
            r->escape = false;
            if (b == 0x07) {
                /* A frame starts (and cuts short any frame still held). */
                if (hold) {
                    drop_hold(r, out, &o);
                    out[o++] = 0x7E;
                }
                out[o++] = 0x07;
                r->mode = MODE_HEAD;
                r->len = 0;
            } else if (b == 0x08) {
                if (hold) {
                    sw_tigo_redact_body(r->body, r->len, NULL);
                    r->counters.frames++;
                    put_held(r, out, &o);
                    out[o++] = 0x7E;
                }
                out[o++] = 0x08;
                r->mode = MODE_OUTSIDE;
                r->len = 0;
            } else if (b <= 0x06 && r->mode != MODE_OUTSIDE) {
                if (!hold)
                    out[o++] = b;
                body_byte(r, unescaped_of[b], out, &o);
            } else {
                /* A 7E that is no escape: whatever frame there was is noise from here on. */
                if (hold) {
                    drop_hold(r, out, &o);
                    out[o++] = 0x7E; /* the held one */
                }
                r->mode = MODE_OUTSIDE;
                r->len = 0;
                out[o++] = b;
                r->escape = b == 0x7E; /* 7E 7E 07 may still start a frame */
            }
            continue;
        }
        if (b == 0x7E) {
            r->escape = true;
            if (!hold)
                out[o++] = b;
            continue;
        }
        if (r->mode == MODE_OUTSIDE) {
            out[o++] = b;
        } else {
            if (!hold)
                out[o++] = b;
            body_byte(r, b, out, &o);
        }
    }
    *out_len = o;
    return SW_OK;
}

sw_err sw_tigo_redactor_finish(sw_tigo_redactor *r, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!r || !out || !out_len)
        return SW_ERR_INVALID_ARGUMENT;
    if (cap < SW_TIGO_REDACTOR_SLACK)
        return SW_ERR_NO_SPACE;
    size_t o = 0;
    if (r->mode == MODE_HOLD) {
        drop_hold(r, out, &o);
        if (r->escape)
            out[o++] = 0x7E;
    }
    r->escape = false;
    r->mode = MODE_OUTSIDE;
    r->len = 0;
    *out_len = o;
    return SW_OK;
}
