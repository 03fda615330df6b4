/*
 * format_peek.c: peek-frames and peek-activity lines (see sunwire/tigo_format.h
 * and docs/tigo-observer.md for the schemas).
 *
 * These are sunwire's own formats, not imitations of Rust's Debug output:
 * one readable line per frame or event for people, and one JSON object per
 * line for programs, with the same information in both. Hex is upper-case
 * without separators in JSON and space-separated in text.
 */
#include "sunwire/tigo_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/json.h"
#include "sunwire/tigo_barcode.h"
#include "sunwire/tigo_pv.h"
#include "sunwire/tigo_star.h"

/* ---- text appender ------------------------------------------------------------------ */

typedef struct txt {
    char *buf;
    size_t cap, len;
    bool overflow;
} txt;

static void t_put(txt *t, const char *s, size_t n)
{
    if (t->overflow || n >= t->cap - t->len) {
        t->overflow = true;
        return;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void t_fmt(txt *t, const char *fmt, ...)
{
    if (t->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        t->overflow = true;
        return;
    }
    t->len += (size_t)n;
}

static void t_hex_spaced(txt *t, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        char b[3] = { ' ', hx[p[i] >> 4], hx[p[i] & 0xF] };
        t_put(t, b, 3);
    }
}

/* Quoted, with C-style escapes for control bytes so a line stays one line. */
static void t_quoted(txt *t, const char *s, size_t n)
{
    t_put(t, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\r': t_put(t, "\\r", 2); break;
        case '\n': t_put(t, "\\n", 2); break;
        case '\t': t_put(t, "\\t", 2); break;
        case '"': t_put(t, "\\\"", 2); break;
        case '\\': t_put(t, "\\\\", 2); break;
        default:
            if (c < 0x20 || c == 0x7F)
                t_fmt(t, "\\x%02X", c);
            else
                t_put(t, (const char *)&c, 1);
        }
    }
    t_put(t, "\"", 1);
}

static sw_err t_finish(txt *t, size_t *len_out)
{
    if (t->overflow || t->cap == 0) {
        if (t->cap)
            t->buf[0] = '\0';
        if (len_out)
            *len_out = 0;
        return SW_ERR_NO_SPACE;
    }
    t->buf[t->len] = '\0';
    if (len_out)
        *len_out = t->len;
    return SW_OK;
}

/* ---- JSON helpers ---------------------------------------------------------------------- */

static void j_hex(sw_json *j, const uint8_t *p, size_t n)
{
    char b[2 * SW_TIGO_LINK_MAX_BODY + 1];
    if (n > SW_TIGO_LINK_MAX_BODY)
        n = SW_TIGO_LINK_MAX_BODY;
    sw_hex_encode(b, p, n);
    sw_json_string_n(j, b, 2 * n);
}

static void j_key_hex(sw_json *j, const char *key, const uint8_t *p, size_t n)
{
    sw_json_key(j, key);
    j_hex(j, p, n);
}

static void j_key_uint(sw_json *j, const char *key, uint64_t v)
{
    sw_json_key(j, key);
    sw_json_uint(j, v);
}

static void j_key_str(sw_json *j, const char *key, const char *v)
{
    sw_json_key(j, key);
    if (v)
        sw_json_string(j, v);
    else
        sw_json_null(j);
}

static void j_key_addr(sw_json *j, const uint8_t a[8])
{
    char b[SW_TIGO_BARCODE_MAX];
    sw_tigo_addr_format(a, b);
    j_key_str(j, "address", b);
    sw_tigo_barcode_format(a, b);
    j_key_str(j, "barcode", b);
}

static void j_begin(sw_json *j, sw_tigo_format *f, int64_t time_ns, const char *kind, char *buf, size_t cap)
{
    sw_json_init(j, buf, cap);
    sw_json_object_begin(j);
    if (time_ns != SW_TIGO_NO_TIME && f) {
        char ts[40];
        size_t n = sw_tigo_format_timestamp(f, time_ns, ts);
        sw_json_key(j, "timestamp");
        sw_json_string_n(j, ts, n);
    }
    if (kind)
        j_key_str(j, "kind", kind);
}

static sw_err j_finish(sw_json *j, size_t *len_out)
{
    sw_json_object_end(j);
    if (!sw_json_finish(j)) {
        if (j->cap)
            j->buf[0] = '\0';
        if (len_out)
            *len_out = 0;
        return SW_ERR_NO_SPACE;
    }
    if (len_out)
        *len_out = j->len;
    return SW_OK;
}

/* ---- peek-frames ----------------------------------------------------------------------- */

sw_err sw_tigo_format_frame_text(const sw_tigo_frame *fr, char *buf, size_t cap, size_t *len_out)
{
    txt t = { buf, cap, 0, cap == 0 };
    t_fmt(&t, "%s 0x%04X %s (0x%04X) [%zu]", sw_tigo_addr_is_from_gateway(fr->address) ? "<-" : "->",
          sw_tigo_addr_gateway_id(fr->address), sw_tigo_frame_type_describe(fr->type), fr->type, fr->payload_len);
    t_hex_spaced(&t, fr->payload, fr->payload_len);
    return t_finish(&t, len_out);
}

static void j_frame_head(sw_json *j, const sw_tigo_frame *fr)
{
    j_key_str(j, "direction", sw_tigo_addr_is_from_gateway(fr->address) ? "from_gateway" : "to_gateway");
    j_key_uint(j, "gateway", sw_tigo_addr_gateway_id(fr->address));
    j_key_uint(j, "frame_type", fr->type);
    char hx[8];
    snprintf(hx, sizeof hx, "0x%04X", fr->type);
    j_key_str(j, "frame_type_hex", hx);
    j_key_str(j, "frame_type_name", sw_tigo_frame_type_describe(fr->type));
}

sw_err sw_tigo_format_frame_json(sw_tigo_format *f, const sw_tigo_frame *fr, int64_t time_ns, char *buf, size_t cap,
                              size_t *len_out)
{
    sw_json j;
    j_begin(&j, f, time_ns, NULL, buf, cap);
    j_frame_head(&j, fr);
    j_key_uint(&j, "payload_len", fr->payload_len);
    j_key_hex(&j, "payload", fr->payload, fr->payload_len);
    return j_finish(&j, len_out);
}

/* ---- peek-activity ------------------------------------------------------------------------ */

void sw_tigo_activity_init(sw_tigo_activity *a) { a->n = 0; }

/* True when this response's slot block differs from the last one shown for the gateway. */
static bool slot_block_changed(sw_tigo_activity *a, uint16_t gw, uint16_t sc)
{
    unsigned blk;
    int64_t off;
    uint16_t key = sw_tigo_slot_locate(sc, &blk, &off) == SW_OK ? (uint16_t)blk : 0xFFFFu;
    for (uint32_t i = 0; i < a->n; i++) {
        if (a->gateway[i] == gw) {
            bool changed = a->block[i] != key;
            a->block[i] = key;
            return changed;
        }
    }
    uint32_t i = a->n < SW_TIGO_ACTIVITY_GATEWAYS ? a->n++ : (uint32_t)(gw % SW_TIGO_ACTIVITY_GATEWAYS);
    a->gateway[i] = gw;
    a->block[i] = key;
    return true;
}

static const char *packet_name_or_null(uint8_t type) { return sw_tigo_packet_type_name(type); }

static void t_packet_type(txt *t, uint8_t type)
{
    const char *n = sw_tigo_packet_type_name(type);
    if (n)
        t_fmt(t, "%s", n);
    else
        t_fmt(t, "PACKET_0x%02X", type);
}

static void t_prefix(txt *t, sw_tigo_format *f, int64_t time_ns)
{
    if (time_ns != SW_TIGO_NO_TIME && f) {
        char ts[40];
        size_t n = sw_tigo_format_timestamp(f, time_ns, ts);
        t_put(t, ts, n);
        t_put(t, " ", 1);
    }
}

/* Physical values of a report through the number cache (exact reference text). */
static void power_numbers(sw_tigo_format *f, const sw_tigo_power_report *r, const sw_tigo_num_text **vin,
                          const sw_tigo_num_text **vout, const sw_tigo_num_text **cur, const sw_tigo_num_text **temp)
{
    *vin = sw_tigo_format_num(f, SW_TIGO_NUM_VOLTAGE_IN, r->voltage_in_raw);
    *vout = sw_tigo_format_num(f, SW_TIGO_NUM_VOLTAGE_OUT, r->voltage_out_raw);
    *cur = sw_tigo_format_num(f, SW_TIGO_NUM_CURRENT, r->current_raw);
    *temp = sw_tigo_format_num(f, SW_TIGO_NUM_TEMPERATURE, r->temperature_raw);
    (void)sw_tigo_format_duty(f, r->duty_cycle_raw);
}

static sw_err pv_packet_line(sw_tigo_format *f, const sw_tigo_transport_event *ev, bool json, int64_t time_ns,
                             char *buf, size_t cap, size_t *len_out)
{
    const sw_tigo_pv_packet *p = &ev->u.pv_packet.packet;
    sw_tigo_app_message m;
    sw_tigo_app_decode(p->type, p->data, p->data_len, &m);
    txt t = { buf, cap, 0, cap == 0 };
    sw_json j;
    char b[SW_TIGO_BARCODE_MAX];

    if (m.kind == SW_TIGO_APP_POWER_REPORT) {
        const sw_tigo_power_report *r = &m.u.power;
        const sw_tigo_num_text *vin, *vout, *cur, *temp;
        power_numbers(f, r, &vin, &vout, &cur, &temp);
        if (!json) {
            t_prefix(&t, f, time_ns);
            t_fmt(&t, "gateway 0x%04X node %u power report: Vin %.*s V, Vout %.*s V, duty %.*s, I %.*s A, "
                      "T %.*s C, slot 0x%04X, rssi %u",
                  ev->gateway_id, p->node_id, vin->len, vin->s, vout->len, vout->s, f->duty_len[r->duty_cycle_raw],
                  f->duty[r->duty_cycle_raw], cur->len, cur->s, temp->len, temp->s, r->slot_counter, r->rssi);
            if (r->extra_len) {
                t_fmt(&t, ", extra");
                t_hex_spaced(&t, r->extra, r->extra_len);
            }
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "power_report", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        j_key_uint(&j, "node", p->node_id);
        j_key_uint(&j, "short_address", p->short_address);
        j_key_uint(&j, "dsn", p->dsn);
        sw_json_key(&j, "voltage_in");
        sw_json_raw(&j, vin->s, vin->len);
        sw_json_key(&j, "voltage_out");
        sw_json_raw(&j, vout->s, vout->len);
        sw_json_key(&j, "current");
        sw_json_raw(&j, cur->s, cur->len);
        sw_json_key(&j, "dc_dc_duty_cycle");
        sw_json_raw(&j, f->duty[r->duty_cycle_raw], f->duty_len[r->duty_cycle_raw]);
        sw_json_key(&j, "temperature");
        sw_json_raw(&j, temp->s, temp->len);
        j_key_uint(&j, "slot_counter", r->slot_counter);
        j_key_uint(&j, "rssi", r->rssi);
        j_key_hex(&j, "unknown", r->unknown, 3);
        j_key_hex(&j, "extra", r->extra, r->extra_len);
        sw_json_key(&j, "raw");
        sw_json_object_begin(&j);
        j_key_uint(&j, "voltage_in", r->voltage_in_raw);
        j_key_uint(&j, "voltage_out", r->voltage_out_raw);
        j_key_uint(&j, "current", r->current_raw);
        j_key_uint(&j, "dc_dc_duty_cycle", r->duty_cycle_raw);
        j_key_uint(&j, "temperature", r->temperature_raw);
        sw_json_object_end(&j);
        return j_finish(&j, len_out);
    }
    if (m.kind == SW_TIGO_APP_TOPOLOGY_REPORT) {
        const sw_tigo_topology_report *r = &m.u.topology;
        if (!json) {
            t_prefix(&t, f, time_ns);
            sw_tigo_barcode_format(r->long_address, b);
            t_fmt(&t, "gateway 0x%04X node %u topology report: short 0x%04X, pv node %u, next hop %u, %s, rssi %u, "
                      "unknown %02X%02X, tail",
                  ev->gateway_id, p->node_id, r->short_address, r->node_id, r->next_hop, b, r->rssi,
                  r->unknown_1[0], r->unknown_1[1]);
            t_hex_spaced(&t, r->tail, r->tail_len);
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "topology_report", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        j_key_uint(&j, "node", p->node_id);
        j_key_uint(&j, "short_address", r->short_address);
        j_key_uint(&j, "pv_node_id", r->node_id);
        j_key_uint(&j, "next_hop", r->next_hop);
        j_key_hex(&j, "unknown_1", r->unknown_1, 2);
        j_key_addr(&j, r->long_address);
        j_key_uint(&j, "rssi", r->rssi);
        j_key_hex(&j, "tail", r->tail, r->tail_len);
        return j_finish(&j, len_out);
    }
    if (m.kind == SW_TIGO_APP_STRING_RESPONSE) {
        if (!json) {
            t_prefix(&t, f, time_ns);
            t_fmt(&t, "gateway 0x%04X node %u string response: ", ev->gateway_id, p->node_id);
            t_quoted(&t, m.u.string_response.text, m.u.string_response.len);
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "string_response", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        j_key_uint(&j, "node", p->node_id);
        sw_json_key(&j, "text");
        sw_json_string_n(&j, m.u.string_response.text, m.u.string_response.len);
        return j_finish(&j, len_out);
    }
    /* Any other packet, or one its decoder refused: the header and raw data. */
    if (!json) {
        t_prefix(&t, f, time_ns);
        t_fmt(&t, "gateway 0x%04X node %u packet ", ev->gateway_id, p->node_id);
        t_packet_type(&t, p->type);
        t_fmt(&t, " short 0x%04X dsn 0x%02X", p->short_address, p->dsn);
        if (m.error)
            t_fmt(&t, " (%s)", sw_err_name(m.error));
        t_fmt(&t, " [%u]", p->data_len);
        t_hex_spaced(&t, p->data, p->data_len);
        return t_finish(&t, len_out);
    }
    j_begin(&j, f, time_ns, "packet", buf, cap);
    j_key_uint(&j, "gateway", ev->gateway_id);
    j_key_uint(&j, "node", p->node_id);
    j_key_uint(&j, "packet_type", p->type);
    j_key_str(&j, "packet_type_name", packet_name_or_null(p->type));
    j_key_uint(&j, "short_address", p->short_address);
    j_key_uint(&j, "dsn", p->dsn);
    j_key_hex(&j, "data", p->data, p->data_len);
    j_key_str(&j, "error", m.error ? sw_err_name(m.error) : NULL);
    return j_finish(&j, len_out);
}

static sw_err command_line(sw_tigo_format *f, const sw_tigo_transport_event *ev, bool json, int64_t time_ns,
                           char *buf, size_t cap, size_t *len_out)
{
    const sw_tigo_command_request *rq = &ev->u.command.request;
    const sw_tigo_command_response *rs = &ev->u.command.response;
    txt t = { buf, cap, 0, cap == 0 };
    sw_json j;
    char b[SW_TIGO_BARCODE_MAX];

    if (rq->packet_type == SW_TIGO_PT_NODE_TABLE_REQUEST && rs->packet_type == SW_TIGO_PT_NODE_TABLE_RESPONSE) {
        uint16_t start;
        sw_tigo_node_table_response nt;
        if (sw_tigo_node_table_request_decode(rq->data, rq->data_len, &start) == SW_OK &&
            sw_tigo_node_table_response_decode(rs->data, rs->data_len, &nt) == SW_OK) {
            if (!json) {
                t_prefix(&t, f, time_ns);
                t_fmt(&t, "gateway 0x%04X node table page: request start %u, response start %u, %u entries",
                      ev->gateway_id, start, nt.start_index, nt.count);
            } else {
                j_begin(&j, f, time_ns, "node_table_page", buf, cap);
                j_key_uint(&j, "gateway", ev->gateway_id);
                j_key_uint(&j, "request_start", start);
                j_key_uint(&j, "response_start", nt.start_index);
                sw_json_key(&j, "entries");
                sw_json_array_begin(&j);
            }
            for (size_t i = 0; i < nt.count; i++) {
                sw_tigo_node_table_entry e;
                sw_tigo_node_table_entry_at(&nt, i, &e);
                if (!json) {
                    sw_tigo_barcode_format(e.long_address, b);
                    t_fmt(&t, "%s %u=%s", i ? "," : ":", e.node_id, b);
                } else {
                    sw_json_object_begin(&j);
                    j_key_uint(&j, "node", e.node_id);
                    j_key_addr(&j, e.long_address);
                    sw_json_object_end(&j);
                }
            }
            if (!json)
                return t_finish(&t, len_out);
            sw_json_array_end(&j);
            return j_finish(&j, len_out);
        }
    }
    if (rq->packet_type == SW_TIGO_PT_STRING_REQUEST) {
        sw_tigo_string_request sr;
        if (sw_tigo_string_request_decode(rq->data, rq->data_len, &sr) == SW_OK) {
            if (!json) {
                t_prefix(&t, f, time_ns);
                t_fmt(&t, "gateway 0x%04X string request to node %u: ", ev->gateway_id, sr.node_id);
                t_quoted(&t, sr.text, sr.text_len);
                return t_finish(&t, len_out);
            }
            j_begin(&j, f, time_ns, "string_request", buf, cap);
            j_key_uint(&j, "gateway", ev->gateway_id);
            j_key_uint(&j, "node", sr.node_id);
            sw_json_key(&j, "text");
            sw_json_string_n(&j, sr.text, sr.text_len);
            return j_finish(&j, len_out);
        }
    }
    /* The radio configuration carries the network key: never print it. */
    bool secret = rs->packet_type == SW_TIGO_PT_GATEWAY_RADIO_CONFIGURATION_RESPONSE;
    sw_tigo_radio_config rc;
    bool rc_ok = secret && sw_tigo_radio_config_decode(rs->data, rs->data_len, &rc) == SW_OK;
    if (!json) {
        t_prefix(&t, f, time_ns);
        t_fmt(&t, "gateway 0x%04X command ", ev->gateway_id);
        t_packet_type(&t, rq->packet_type);
        t_fmt(&t, " [%zu]", rq->data_len);
        t_hex_spaced(&t, rq->data, rq->data_len);
        t_fmt(&t, " => ");
        t_packet_type(&t, rs->packet_type);
        if (rc_ok)
            t_fmt(&t, " channel %u, PAN 0x%04X, key not shown", rc.channel, rc.pan_id);
        else if (secret)
            t_fmt(&t, " [%zu] (not shown: may hold the network key)", rs->data_len);
        else {
            t_fmt(&t, " [%zu]", rs->data_len);
            t_hex_spaced(&t, rs->data, rs->data_len);
        }
        return t_finish(&t, len_out);
    }
    j_begin(&j, f, time_ns, "command", buf, cap);
    j_key_uint(&j, "gateway", ev->gateway_id);
    j_key_uint(&j, "sequence", rq->sequence);
    j_key_uint(&j, "request_type", rq->packet_type);
    j_key_str(&j, "request_type_name", packet_name_or_null(rq->packet_type));
    j_key_hex(&j, "request_data", rq->data, rq->data_len);
    j_key_uint(&j, "response_type", rs->packet_type);
    j_key_str(&j, "response_type_name", packet_name_or_null(rs->packet_type));
    if (secret) {
        sw_json_key(&j, "response_data");
        sw_json_null(&j);
        if (rc_ok) {
            j_key_uint(&j, "channel", rc.channel);
            j_key_uint(&j, "pan_id", rc.pan_id);
        }
    } else {
        j_key_hex(&j, "response_data", rs->data, rs->data_len);
    }
    return j_finish(&j, len_out);
}

static sw_err star_line(sw_tigo_format *f, const sw_tigo_transport_event *ev, bool json, int64_t time_ns, char *buf,
                        size_t cap, size_t *len_out)
{
    txt t = { buf, cap, 0, cap == 0 };
    sw_json j;
    if (ev->kind == SW_TIGO_TRANSPORT_EVENT_STAR_REQUEST) {
        const sw_tigo_star_request *r = &ev->u.star_request;
        if (!json) {
            t_prefix(&t, f, time_ns);
            t_fmt(&t, "gateway 0x%04X star request: sequence 0x%04X, fields %04X %04X %04X", ev->gateway_id,
                  r->sequence, r->field_0, r->field_2, r->field_6);
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "star_request", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        j_key_uint(&j, "sequence", r->sequence);
        j_key_hex(&j, "payload", ev->frame->payload, ev->frame->payload_len);
        return j_finish(&j, len_out);
    }
    const sw_tigo_star_response *r = &ev->u.star_response;
    if (!json) {
        t_prefix(&t, f, time_ns);
        t_fmt(&t, "gateway 0x%04X star response: sequence 0x%04X, %zu records, header", ev->gateway_id, r->sequence,
              r->record_count);
        t_hex_spaced(&t, r->header, SW_TIGO_STAR_HEADER_LEN);
    } else {
        j_begin(&j, f, time_ns, "star_response", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        j_key_uint(&j, "sequence", r->sequence);
        j_key_hex(&j, "header", r->header, SW_TIGO_STAR_HEADER_LEN);
        sw_json_key(&j, "records");
        sw_json_array_begin(&j);
    }
    for (size_t i = 0; i < r->record_count; i++) {
        sw_tigo_star_record rec;
        sw_tigo_star_response_record(r, i, &rec);
        if (!json) {
            t_fmt(&t, "; slot %u vin_raw %u iin_raw %u temp_raw %u pwm_raw %u vout_raw %u", rec.slot, rec.vin_raw,
                  rec.iin_raw, rec.temp_raw, rec.pwm_raw, rec.vout_raw);
            continue;
        }
        sw_json_object_begin(&j);
        j_key_uint(&j, "slot", rec.slot);
        j_key_uint(&j, "vin_raw", rec.vin_raw);
        j_key_uint(&j, "iin_raw", rec.iin_raw);
        j_key_uint(&j, "temp_raw", rec.temp_raw);
        j_key_uint(&j, "pwm_raw", rec.pwm_raw);
        j_key_uint(&j, "vout_raw", rec.vout_raw);
        j_key_hex(&j, "raw", rec.raw, SW_TIGO_STAR_RECORD_LEN);
        sw_json_object_end(&j);
    }
    if (!json)
        return t_finish(&t, len_out);
    sw_json_array_end(&j);
    return j_finish(&j, len_out);
}

sw_err sw_tigo_format_activity(sw_tigo_activity *a, sw_tigo_format *f, const sw_tigo_transport_event *ev, bool json,
                            int64_t time_ns, char *buf, size_t cap, size_t *len_out)
{
    txt t = { buf, cap, 0, cap == 0 };
    sw_json j;
    char b[SW_TIGO_BARCODE_MAX], b2[SW_TIGO_BARCODE_MAX];
    if (len_out)
        *len_out = 0;
    if (cap)
        buf[0] = '\0';

    switch (ev->kind) {
    case SW_TIGO_TRANSPORT_EVENT_PV_PACKET:
        return pv_packet_line(f, ev, json, time_ns, buf, cap, len_out);
    case SW_TIGO_TRANSPORT_EVENT_COMMAND_EXECUTED:
        return command_line(f, ev, json, time_ns, buf, cap, len_out);
    case SW_TIGO_TRANSPORT_EVENT_STAR_REQUEST:
    case SW_TIGO_TRANSPORT_EVENT_STAR_RESPONSE:
        return star_line(f, ev, json, time_ns, buf, cap, len_out);

    case SW_TIGO_TRANSPORT_EVENT_RECEIVE_RESPONSE: {
        const sw_tigo_receive_response *r = &ev->u.receive_response.response;
        if (!slot_block_changed(a, ev->gateway_id, r->slot_counter))
            return SW_ERR_NOT_FOUND;
        bool ok = sw_tigo_slot_counter_ok(r->slot_counter);
        unsigned epoch = r->slot_counter >> 14, slot = r->slot_counter & 0x3FFFu;
        if (!json) {
            t_prefix(&t, f, time_ns);
            t_fmt(&t, "gateway 0x%04X slot counter 0x%04X (epoch %u, %sslot %u), packet number 0x%04X, status 0x%04X",
                  ev->gateway_id, r->slot_counter, epoch, ok ? "" : "invalid ", slot, r->packet_number, r->status);
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "slot_counter", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        j_key_uint(&j, "slot_counter", r->slot_counter);
        j_key_uint(&j, "epoch", epoch);
        j_key_uint(&j, "slot_number", slot);
        sw_json_key(&j, "valid");
        sw_json_bool(&j, ok);
        j_key_uint(&j, "packet_number", r->packet_number);
        j_key_uint(&j, "status", r->status);
        return j_finish(&j, len_out);
    }
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_STARTED:
        if (!json) {
            t_prefix(&t, f, time_ns);
            t_fmt(&t, "enumeration started at gateway address 0x%04X", ev->gateway_id);
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "enumeration_started", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        return j_finish(&j, len_out);
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_IDENTITY:
        if (!json) {
            t_prefix(&t, f, time_ns);
            sw_tigo_addr_format(ev->u.identity.long_address, b);
            sw_tigo_barcode_format(ev->u.identity.long_address, b2);
            t_fmt(&t, "gateway 0x%04X identity %s (%s)", ev->gateway_id, b, b2);
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "gateway_identity", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        j_key_addr(&j, ev->u.identity.long_address);
        return j_finish(&j, len_out);
    case SW_TIGO_TRANSPORT_EVENT_GATEWAY_VERSION:
        if (!json) {
            t_prefix(&t, f, time_ns);
            t_fmt(&t, "gateway 0x%04X version ", ev->gateway_id);
            t_quoted(&t, ev->u.version.text, ev->u.version.len);
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "gateway_version", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        sw_json_key(&j, "version");
        sw_json_bytes_as_string(&j, (const uint8_t *)ev->u.version.text, ev->u.version.len);
        return j_finish(&j, len_out);
    case SW_TIGO_TRANSPORT_EVENT_ENUMERATION_ENDED:
        if (!json) {
            t_prefix(&t, f, time_ns);
            t_fmt(&t, "gateway 0x%04X enumeration ended", ev->gateway_id);
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, "enumeration_ended", buf, cap);
        j_key_uint(&j, "gateway", ev->gateway_id);
        return j_finish(&j, len_out);
    case SW_TIGO_TRANSPORT_EVENT_UNHANDLED_FRAME:
    case SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME: {
        bool invalid = ev->kind == SW_TIGO_TRANSPORT_EVENT_INVALID_FRAME;
        const sw_tigo_frame *fr = ev->frame;
        if (!fr)
            return SW_ERR_NOT_FOUND;
        if (!json) {
            t_prefix(&t, f, time_ns);
            t_fmt(&t, "%s frame: ", invalid ? "invalid" : "unhandled");
            size_t n;
            if (sw_tigo_format_frame_text(fr, buf + t.len, cap - t.len, &n) != SW_OK)
                t.overflow = true;
            else
                t.len += n;
            if (invalid)
                t_fmt(&t, " (%s)", sw_err_name(ev->u.invalid.error));
            return t_finish(&t, len_out);
        }
        j_begin(&j, f, time_ns, invalid ? "invalid_frame" : "unhandled_frame", buf, cap);
        j_frame_head(&j, fr);
        j_key_hex(&j, "payload", fr->payload, fr->payload_len);
        if (invalid)
            j_key_str(&j, "error", sw_err_name(ev->u.invalid.error));
        return j_finish(&j, len_out);
    }
    default:
        return SW_ERR_NOT_FOUND;
    }
}
