/*
 * frame.c: RCT Power framing: CRC, frame building, the streaming receiver.
 *
 * The receiver is a push parser in the style of picohttpparser: it takes any
 * slice of the byte stream, keeps its state (escape pending, unescaped bytes
 * so far) in the caller's struct, and stops at the first complete frame or
 * error so the caller sees events in stream order. It trusts nothing it is
 * fed. Two choices differ from rctclient on purpose (docs/rct-protocol.md has
 * the full list): an unescaped 2B inside a frame ends that frame as truncated
 * and starts the next one, and a length field too small for the header is
 * rejected as soon as it arrives.
 */
#include "sunwire/rct_frame.h"

#include <string.h>

#include "sunwire/core.h"

/* ---- CRC ---------------------------------------------------------------- */

/* CRC-16/CCITT-FALSE (poly 0x1021), one table lookup per byte. */
static const uint16_t crc_table[256] = {
#define R1(c) ((c) & 0x8000 ? (uint16_t)(((c) << 1) ^ 0x1021) : (uint16_t)((c) << 1))
#define R2(c) R1(R1(c))
#define R4(c) R2(R2(c))
#define R8(c) R4(R4(c))
#define T(i) R8((uint16_t)((i) << 8))
#define T4(i) T(i), T(i + 1), T(i + 2), T(i + 3)
#define T16(i) T4(i), T4(i + 4), T4(i + 8), T4(i + 12)
#define T64(i) T16(i), T16(i + 16), T16(i + 32), T16(i + 48)
    T64(0), T64(64), T64(128), T64(192)
#undef T64
#undef T16
#undef T4
#undef T
#undef R8
#undef R4
#undef R2
#undef R1
};

static inline uint16_t crc_update(uint16_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crc = (uint16_t)((crc << 8) ^ crc_table[((crc >> 8) ^ p[i]) & 0xFF]);
    return crc;
}

static inline uint16_t crc_finish(uint16_t crc, size_t total_len)
{
    /* The devices pad odd-length input with one zero byte. */
    if (total_len & 1) {
        static const uint8_t zero = 0;
        crc = crc_update(crc, &zero, 1);
    }
    return crc;
}

uint16_t sw_rct_crc16(const uint8_t *p, size_t n)
{
    return crc_finish(crc_update(0xFFFF, p, n), n);
}

/* ---- commands ----------------------------------------------------------- */

static const char *const command_names[256] = {
    [0x01] = "READ",
    [0x02] = "WRITE",
    [0x03] = "LONG_WRITE",
    [0x05] = "RESPONSE",
    [0x06] = "LONG_RESPONSE",
    [0x08] = "READ_PERIODICALLY",
    [0x3C] = "EXTENSION",
    [0x41] = "PLANT_READ",
    [0x42] = "PLANT_WRITE",
    [0x43] = "PLANT_LONG_WRITE",
    [0x45] = "PLANT_RESPONSE",
    [0x46] = "PLANT_LONG_RESPONSE",
    [0x48] = "PLANT_READ_PERIODICALLY",
};

bool sw_rct_command_valid(uint8_t cmd) { return command_names[cmd] != NULL; }
bool sw_rct_command_is_plant(uint8_t cmd) { return (cmd & 0x40) != 0; }
bool sw_rct_command_is_long(uint8_t cmd)
{
    return cmd == 0x03 || cmd == 0x06 || cmd == 0x43 || cmd == 0x46;
}
bool sw_rct_command_is_write(uint8_t cmd)
{
    return cmd == 0x02 || cmd == 0x03 || cmd == 0x42 || cmd == 0x43;
}
bool sw_rct_command_is_response(uint8_t cmd)
{
    return cmd == 0x05 || cmd == 0x06 || cmd == 0x45 || cmd == 0x46;
}
const char *sw_rct_command_name(uint8_t cmd) { return command_names[cmd]; }

sw_err sw_rct_command_from_name(const char *name, uint8_t *cmd)
{
    if (!name || !cmd)
        return SW_ERR_INVALID_ARGUMENT;
    for (unsigned c = 0; c < 256; c++) {
        if (command_names[c] && strcmp(command_names[c], name) == 0) {
            *cmd = (uint8_t)c;
            return SW_OK;
        }
    }
    return SW_ERR_NOT_FOUND;
}

/* ---- building ----------------------------------------------------------- */

static inline bool is_special(uint8_t b) { return b == SW_RCT_START_TOKEN || b == SW_RCT_ESCAPE_TOKEN; }

/* Append n bytes with escaping; false when out is full. */
static bool put_escaped(uint8_t *out, size_t cap, size_t *pos, const uint8_t *p, size_t n)
{
    size_t o = *pos;
    for (size_t i = 0; i < n; i++) {
        if (is_special(p[i])) {
            if (o >= cap)
                return false;
            out[o++] = SW_RCT_ESCAPE_TOKEN;
        }
        if (o >= cap)
            return false;
        out[o++] = p[i];
    }
    *pos = o;
    return true;
}

sw_err sw_rct_frame_build(uint8_t command, uint32_t id, uint32_t address, const uint8_t *payload,
                          size_t payload_len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!out_len || (!out && cap) || (!payload && payload_len))
        return SW_ERR_INVALID_ARGUMENT;
    *out_len = 0;
    if (command == SW_RCT_CMD_EXTENSION)
        return SW_ERR_INVALID_ARGUMENT;
    bool plant = sw_rct_command_is_plant(command);
    bool is_long = sw_rct_command_is_long(command);
    size_t covered = (plant ? 8u : 4u) + payload_len;
    if (covered > (is_long ? 0xFFFFu : 0xFFu))
        return SW_ERR_TOO_LONG;

    uint8_t head[1 + 2 + 4 + 4];
    size_t h = 0;
    head[h++] = command;
    if (is_long) {
        sw_put_be16(head + h, (uint16_t)covered);
        h += 2;
    } else {
        head[h++] = (uint8_t)covered;
    }
    if (plant) {
        sw_put_be32(head + h, address);
        h += 4;
    }
    sw_put_be32(head + h, id);
    h += 4;

    uint16_t crc = crc_update(0xFFFF, head, h);
    if (payload_len)
        crc = crc_update(crc, payload, payload_len);
    crc = crc_finish(crc, h + payload_len);
    uint8_t tail[2];
    sw_put_be16(tail, crc);

    size_t pos = 0;
    if (cap < 1)
        return SW_ERR_NO_SPACE;
    out[pos++] = SW_RCT_START_TOKEN;
    if (!put_escaped(out, cap, &pos, head, h) ||
        (payload_len && !put_escaped(out, cap, &pos, payload, payload_len)) ||
        !put_escaped(out, cap, &pos, tail, 2))
        return SW_ERR_NO_SPACE;
    *out_len = pos;
    return SW_OK;
}

sw_err sw_rct_frame_build_extension(uint8_t ext, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!out_len || (!out && cap))
        return SW_ERR_INVALID_ARGUMENT;
    *out_len = 0;
    uint8_t body[2] = { SW_RCT_CMD_EXTENSION, ext };
    size_t pos = 0;
    if (cap < 1)
        return SW_ERR_NO_SPACE;
    out[pos++] = SW_RCT_START_TOKEN;
    if (!put_escaped(out, cap, &pos, body, 2))
        return SW_ERR_NO_SPACE;
    *out_len = pos;
    return SW_OK;
}

/* ---- receiving ---------------------------------------------------------- */

enum { RX_IDLE = 0, RX_BODY = 1 };

static bool body_to_frame(const uint8_t *b, uint32_t n, sw_rct_frame *f);

void sw_rct_receiver_init(sw_rct_receiver *rx)
{
    rx->max_payload = SW_RCT_PAYLOAD_MAX;
    rx->consumed_total = 0;
    sw_rct_receiver_reset(rx);
}

void sw_rct_receiver_reset(sw_rct_receiver *rx)
{
    rx->state_ = RX_IDLE;
    rx->escaping_ = false;
    rx->have_ = 0;
    rx->header_len_ = 0;
    rx->frame_len_ = 0;
}

bool sw_rct_receiver_in_frame(const sw_rct_receiver *rx) { return rx->state_ == RX_BODY; }

size_t sw_rct_receiver_buffered(const sw_rct_receiver *rx)
{
    return rx->state_ == RX_BODY ? (size_t)rx->have_ + 1 : 0;
}

static void rx_error(sw_rct_receiver *rx, sw_rct_receiver_event *ev, sw_err err)
{
    ev->kind = SW_RCT_RECEIVER_ERROR;
    ev->error = err;
    /* The command may have arrived in an earlier call. */
    ev->command = rx->have_ ? rx->body_[0] : 0;
    sw_rct_receiver_reset(rx);
}

/* The whole frame is buffered: fill ev->frame and check the CRC. */
static void rx_complete(sw_rct_receiver *rx, sw_rct_receiver_event *ev)
{
    bool ok = body_to_frame(rx->body_, rx->frame_len_, &ev->frame);
    /* The payload stays in body_ until the next push; reset only clears counters. */
    sw_rct_receiver_reset(rx);
    if (ok) {
        ev->kind = SW_RCT_RECEIVER_FRAME;
    } else {
        ev->kind = SW_RCT_RECEIVER_ERROR;
        ev->error = SW_ERR_RCT_CRC_MISMATCH;
    }
}

/*
 * Called after one more unescaped byte went into body_. Returns true when an
 * event (frame or error) ends this call.
 */
static bool rx_after_store(sw_rct_receiver *rx, sw_rct_receiver_event *ev)
{
    uint32_t have = rx->have_;
    const uint8_t *b = rx->body_;
    if (have == 1) {
        uint8_t cmd = b[0];
        if (!sw_rct_command_valid(cmd)) {
            rx_error(rx, ev, SW_ERR_RCT_INVALID_COMMAND);
            return true;
        }
        if (cmd == SW_RCT_CMD_EXTENSION) {
            rx->frame_len_ = 2; /* command + one byte */
            return false;
        }
        rx->header_len_ = sw_rct_command_is_long(cmd) ? 3 : 2; /* where the length ends */
        return false;
    }
    if (rx->frame_len_ == 0) {
        if (have < rx->header_len_)
            return false;
        uint8_t cmd = b[0];
        bool is_long = sw_rct_command_is_long(cmd);
        uint32_t length = is_long ? sw_be16(b + 1) : b[1];
        uint32_t hdr = sw_rct_command_is_plant(cmd) ? 8 : 4;
        if (length < hdr) {
            rx_error(rx, ev, SW_ERR_RCT_BAD_LENGTH);
            return true;
        }
        if (length - hdr > rx->max_payload) {
            rx_error(rx, ev, SW_ERR_RCT_LENGTH_EXCEEDED);
            return true;
        }
        rx->frame_len_ = (is_long ? 3u : 2u) + length + 2u;
        return false;
    }
    if (have == rx->frame_len_) {
        rx_complete(rx, ev);
        return true;
    }
    return false;
}

size_t sw_rct_receiver_push(sw_rct_receiver *rx, const uint8_t *data, size_t len, sw_rct_receiver_event *ev)
{
    ev->kind = SW_RCT_RECEIVER_NEED_MORE;
    ev->error = SW_OK;
    ev->command = 0;
    memset(&ev->frame, 0, sizeof ev->frame);
    size_t i = 0;
    while (i < len) {
        if (rx->state_ == RX_IDLE) {
            /* Anything before a start token is noise, escape bytes included. */
            const uint8_t *p = memchr(data + i, SW_RCT_START_TOKEN, len - i);
            if (!p) {
                i = len;
                break;
            }
            i = (size_t)(p - data) + 1;
            rx->state_ = RX_BODY;
            continue;
        }
        if (rx->frame_len_ && !rx->escaping_) {
            /* Length known: copy the run up to the next special byte in one go. */
            size_t want = rx->frame_len_ - rx->have_;
            size_t n = len - i < want ? len - i : want;
            const uint8_t *s = data + i;
            uint8_t *d = rx->body_ + rx->have_;
            size_t k = 0;
            while (k < n && !is_special(s[k])) {
                d[k] = s[k];
                k++;
            }
            rx->have_ += (uint32_t)k;
            i += k;
            if (rx->have_ == rx->frame_len_) {
                rx_complete(rx, ev);
                break;
            }
            if (i == len)
                break;
        }
        uint8_t c = data[i];
        if (rx->escaping_) {
            rx->escaping_ = false;
        } else if (c == SW_RCT_START_TOKEN) {
            /* A new frame starts: the one in progress was cut short. Leave the
             * 2B for the next call so it opens the next frame. */
            rx_error(rx, ev, SW_ERR_RCT_FRAME_TRUNCATED);
            break;
        } else if (c == SW_RCT_ESCAPE_TOKEN) {
            rx->escaping_ = true;
            i++;
            continue;
        }
        i++;
        rx->body_[rx->have_++] = c;
        if (rx_after_store(rx, ev))
            break;
    }
    rx->consumed_total += i;
    return i;
}

/* ---- one-shot parsing ---------------------------------------------------- */

/* Fill *f from a complete unescaped body of n bytes; false when the CRC is bad. */
static bool body_to_frame(const uint8_t *b, uint32_t n, sw_rct_frame *f)
{
    f->command = b[0];
    if (b[0] == SW_RCT_CMD_EXTENSION) {
        f->kind = SW_RCT_FRAME_EXTENSION;
        f->extension = b[1];
        f->crc_ok = true;
        return true;
    }
    uint32_t off = sw_rct_command_is_long(b[0]) ? 3 : 2;
    bool plant = sw_rct_command_is_plant(b[0]);
    f->kind = plant ? SW_RCT_FRAME_PLANT : SW_RCT_FRAME_STANDARD;
    if (plant) {
        f->address = sw_be32(b + off);
        off += 4;
    }
    f->id = sw_be32(b + off);
    off += 4;
    f->payload = b + off;
    f->payload_len = n - 2 - off;
    f->crc_received = sw_be16(b + n - 2);
    f->crc_calculated = sw_rct_crc16(b, n - 2);
    f->crc_ok = f->crc_received == f->crc_calculated;
    return f->crc_ok;
}

ptrdiff_t sw_rct_frame_parse(const uint8_t *buf, size_t len, sw_rct_frame *frame, uint8_t *body,
                             size_t body_cap)
{
    if (!frame || (!buf && len) || (!body && body_cap))
        return -(ptrdiff_t)SW_ERR_INVALID_ARGUMENT;
    memset(frame, 0, sizeof *frame);
    const uint8_t *start = len ? memchr(buf, SW_RCT_START_TOKEN, len) : NULL;
    if (!start)
        return SW_RCT_PARSE_NEED_MORE;
    uint32_t have = 0, header_len = 0, frame_len = 0;
    bool escaping = false;
    for (size_t i = (size_t)(start - buf) + 1; i < len; i++) {
        uint8_t c = buf[i];
        if (escaping)
            escaping = false;
        else if (c == SW_RCT_START_TOKEN)
            return -(ptrdiff_t)SW_ERR_RCT_FRAME_TRUNCATED;
        else if (c == SW_RCT_ESCAPE_TOKEN) {
            escaping = true;
            continue;
        }
        if (have >= body_cap)
            return -(ptrdiff_t)SW_ERR_RCT_LENGTH_EXCEEDED;
        body[have++] = c;
        if (have == 1) {
            if (!sw_rct_command_valid(c))
                return -(ptrdiff_t)SW_ERR_RCT_INVALID_COMMAND;
            if (c == SW_RCT_CMD_EXTENSION)
                frame_len = 2;
            else
                header_len = sw_rct_command_is_long(c) ? 3 : 2;
            continue;
        }
        if (frame_len == 0) {
            if (have < header_len)
                continue;
            bool is_long = sw_rct_command_is_long(body[0]);
            uint32_t length = is_long ? sw_be16(body + 1) : body[1];
            uint32_t hdr = sw_rct_command_is_plant(body[0]) ? 8 : 4;
            if (length < hdr)
                return -(ptrdiff_t)SW_ERR_RCT_BAD_LENGTH;
            if (length - hdr > SW_RCT_PAYLOAD_MAX)
                return -(ptrdiff_t)SW_ERR_RCT_LENGTH_EXCEEDED;
            frame_len = (is_long ? 3u : 2u) + length + 2u;
            if (frame_len > body_cap)
                return -(ptrdiff_t)SW_ERR_RCT_LENGTH_EXCEEDED;
            continue;
        }
        if (have == frame_len) {
            if (!body_to_frame(body, frame_len, frame))
                return -(ptrdiff_t)SW_ERR_RCT_CRC_MISMATCH;
            return (ptrdiff_t)(i + 1);
        }
    }
    return SW_RCT_PARSE_NEED_MORE;
}
