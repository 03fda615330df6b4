/*
 * format_observe.c: observe output lines (see sunwire/tigo_format.h).
 *
 * Power-report lines are the hot path (one per report at full bus speed), so
 * they are assembled with plain copies from the caller-owned cache instead of
 * the generic JSON writer; the key order and number text are fixed by the
 * reference, and the unit tests compare every cached text with
 * sw_fmt_double. The rare infrastructure line goes through sunwire/json.h.
 */
#include "sunwire/tigo_format.h"

#include <stdio.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/json.h"
#include "sunwire/tigo_barcode.h"

/* ---- number cache ---------------------------------------------------------------- */

/*
 * raw / divisor for divisors 10, 20 and 200 is, as a double, the value
 * nearest to an exact decimal with at most three fraction digits; that
 * decimal (trailing zeros trimmed, at least one fraction digit) is also the
 * shortest text that reads back to the same double, which is what serde_json
 * prints. `scaled` is the value in units of 10^-digits.
 */
static void decimal_text(sw_tigo_num_text *t, int scaled, int digits)
{
    char b[16];
    size_t n = 0;
    if (scaled < 0) {
        b[n++] = '-';
        scaled = -scaled;
    }
    int pow10 = digits == 1 ? 10 : digits == 2 ? 100 : 1000;
    int ip = scaled / pow10, fp = scaled % pow10;
    char ib[8];
    int in = 0;
    do {
        ib[in++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (in)
        b[n++] = ib[--in];
    b[n++] = '.';
    char fb[3];
    for (int i = digits - 1; i >= 0; i--) {
        fb[i] = (char)('0' + fp % 10);
        fp /= 10;
    }
    int keep = digits;
    while (keep > 1 && fb[keep - 1] == '0')
        keep--;
    memcpy(b + n, fb, (size_t)keep);
    n += (size_t)keep;
    t->len = (uint8_t)n;
    memcpy(t->s, b, n);
}

void sw_tigo_fmt_init(sw_tigo_fmt *f, int32_t utc_offset_s)
{
    f->utc_offset_s = utc_offset_s;
    for (int raw = 0; raw < 4096; raw++) {
        decimal_text(&f->voltage_in[raw], raw * 5, 2);   /* raw / 20 */
        decimal_text(&f->voltage_out[raw], raw, 1);      /* raw / 10 */
        decimal_text(&f->current[raw], raw * 5, 3);      /* raw / 200 */
        decimal_text(&f->temperature[raw], raw >= 2048 ? raw - 4096 : raw, 1);
    }
    for (int raw = 0; raw < 256; raw++) {
        char b[SW_DOUBLE_TEXT_MAX];
        size_t n = sw_fmt_double(b, raw / 255.0);
        memcpy(f->duty[raw], b, n);
        f->duty_len[raw] = (uint8_t)n;
    }
    f->ts_valid = false;
}

/* ---- timestamps ---------------------------------------------------------------------- */

static int64_t floor_div_1e9(int64_t ns)
{
    int64_t q = ns / 1000000000LL;
    return (ns % 1000000000LL < 0) ? q - 1 : q;
}

size_t sw_tigo_fmt_timestamp(sw_tigo_fmt *f, int64_t unix_ns, char out[40])
{
    int64_t sec = floor_div_1e9(unix_ns);
    int64_t nanos = unix_ns - sec * 1000000000LL;
    if (!f->ts_valid || f->ts_second != sec || f->ts_offset != f->utc_offset_s) {
        char b[SW_RFC3339_MAX];
        size_t n = sw_fmt_rfc3339(b, sec * 1000000000LL, f->utc_offset_s);
        size_t zl = f->utc_offset_s == 0 ? 1 : 6;
        f->ts_len = (uint8_t)(n - zl);
        memcpy(f->ts_text, b, f->ts_len);
        f->ts_zone_len = (uint8_t)zl;
        memcpy(f->ts_zone, b + f->ts_len, zl);
        f->ts_second = sec;
        f->ts_offset = f->utc_offset_s;
        f->ts_valid = true;
    }
    char *o = out;
    memcpy(o, f->ts_text, f->ts_len);
    o += f->ts_len;
    if (nanos) {
        /* chrono's choice: 3, 6 or 9 digits, the fewest that are exact. */
        int digits = 9;
        int64_t v = nanos;
        if (nanos % 1000000 == 0) {
            digits = 3;
            v = nanos / 1000000;
        } else if (nanos % 1000 == 0) {
            digits = 6;
            v = nanos / 1000;
        }
        *o++ = '.';
        for (int i = digits - 1; i >= 0; i--) {
            o[i] = (char)('0' + v % 10);
            v /= 10;
        }
        o += digits;
    }
    memcpy(o, f->ts_zone, f->ts_zone_len);
    o += f->ts_zone_len;
    *o = '\0';
    return (size_t)(o - out);
}

/* ---- a bounded appender ------------------------------------------------------------ */

typedef struct line {
    char *p;
    char *end; /* one before the last byte, which is kept for the NUL */
    bool overflow;
} line;

static void l_put(line *l, const char *s, size_t n)
{
    if ((size_t)(l->end - l->p) < n) {
        l->overflow = true;
        return;
    }
    memcpy(l->p, s, n);
    l->p += n;
}

#define L_LIT(l, s) l_put((l), (s), sizeof(s) - 1)

static void l_uint(line *l, unsigned v)
{
    char b[12];
    int n = 0;
    do {
        b[11 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    l_put(l, b + 12 - n, (size_t)n);
}

static void l_num(line *l, const sw_tigo_num_text *t) { l_put(l, t->s, t->len); }

static sw_err l_finish(line *l, char *buf, size_t *len_out)
{
    if (l->overflow) {
        if (len_out)
            *len_out = 0;
        return SW_ERR_NO_SPACE;
    }
    *l->p = '\0';
    if (len_out)
        *len_out = (size_t)(l->p - buf);
    return SW_OK;
}

static bool l_init(line *l, char *buf, size_t cap)
{
    l->p = buf;
    l->end = cap ? buf + cap - 1 : buf;
    l->overflow = cap == 0;
    return !l->overflow;
}

/* The part both versions share, from "timestamp" to the closing brace. */
static void l_measurements(line *l, sw_tigo_fmt *f, const sw_tigo_power_event *ev)
{
    const sw_tigo_power_report *r = ev->report;
    char ts[40];
    size_t tn = sw_tigo_fmt_timestamp(f, ev->timestamp_ns, ts);
    L_LIT(l, "\"timestamp\":\"");
    l_put(l, ts, tn);
    L_LIT(l, "\",\"voltage_in\":");
    l_num(l, &f->voltage_in[r->voltage_in_raw & 0xFFF]);
    L_LIT(l, ",\"voltage_out\":");
    l_num(l, &f->voltage_out[r->voltage_out_raw & 0xFFF]);
    L_LIT(l, ",\"current\":");
    l_num(l, &f->current[r->current_raw & 0xFFF]);
    L_LIT(l, ",\"dc_dc_duty_cycle\":");
    l_put(l, f->duty[r->duty_cycle_raw], f->duty_len[r->duty_cycle_raw]);
    L_LIT(l, ",\"temperature\":");
    l_num(l, &f->temperature[r->temperature_raw & 0xFFF]);
    L_LIT(l, ",\"rssi\":");
    l_uint(l, r->rssi);
}

sw_err sw_tigo_fmt_power_fork(sw_tigo_fmt *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                              size_t *len_out)
{
    line l;
    l_init(&l, buf, cap);
    L_LIT(&l, "{\"event_type\":\"power_report\",\"gateway\":");
    l_uint(&l, ev->gateway);
    L_LIT(&l, ",\"node\":");
    l_uint(&l, ev->node);
    L_LIT(&l, ",");
    l_measurements(&l, f, ev);
    L_LIT(&l, "}");
    return l_finish(&l, buf, len_out);
}

static void l_address_array(line *l, const uint8_t a[8])
{
    L_LIT(l, "[");
    for (int i = 0; i < 8; i++) {
        if (i)
            L_LIT(l, ",");
        l_uint(l, a[i]);
    }
    L_LIT(l, "]");
}

sw_err sw_tigo_fmt_power_upstream(sw_tigo_fmt *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                                  size_t *len_out)
{
    line l;
    l_init(&l, buf, cap);
    L_LIT(&l, "{\"gateway\":{\"id\":");
    l_uint(&l, ev->gateway);
    if (ev->gateway_address) {
        L_LIT(&l, ",\"address\":");
        l_address_array(&l, ev->gateway_address);
    }
    L_LIT(&l, "},\"node\":{\"id\":");
    l_uint(&l, ev->node);
    if (ev->node_address) {
        char bc[SW_TIGO_BARCODE_MAX];
        size_t bn = sw_tigo_barcode_format(bc, ev->node_address);
        L_LIT(&l, ",\"address\":");
        l_address_array(&l, ev->node_address);
        L_LIT(&l, ",\"barcode\":\"");
        l_put(&l, bc, bn);
        L_LIT(&l, "\"");
    }
    L_LIT(&l, "},");
    l_measurements(&l, f, ev);
    L_LIT(&l, "}");
    return l_finish(&l, buf, len_out);
}

sw_err sw_tigo_fmt_power_extended(sw_tigo_fmt *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                                  size_t *len_out)
{
    size_t n = 0;
    sw_err e = sw_tigo_fmt_power_fork(f, ev, buf, cap, &n);
    if (e)
        return e;
    line l;
    l_init(&l, buf, cap);
    l.p = buf + n - 1; /* reopen the object over its closing brace */
    if (ev->node_address) {
        char bc[SW_TIGO_BARCODE_MAX];
        size_t bn = sw_tigo_barcode_format(bc, ev->node_address);
        L_LIT(&l, ",\"barcode\":\"");
        l_put(&l, bc, bn);
        L_LIT(&l, "\"");
    }
    char hx[2 * SW_TIGO_POWER_REPORT_EXTRA_MAX + 1];
    uint8_t xl = ev->report->extra_len <= SW_TIGO_POWER_REPORT_EXTRA_MAX ? ev->report->extra_len : 0;
    sw_hex_encode(hx, ev->report->extra, xl);
    L_LIT(&l, ",\"extra\":\"");
    l_put(&l, hx, 2u * xl);
    L_LIT(&l, "\"}");
    return l_finish(&l, buf, len_out);
}

/* ---- infrastructure report ------------------------------------------------------- */

size_t sw_tigo_fmt_infrastructure_max(const sw_tigo_state *s)
{
    /* A gateway: key, colon-hex address, version escaped at worst 6x. A node:
     * key, address and barcode, well under 100 bytes. */
    return 128 + (size_t)s->n_gateways * (64 + 6 * SW_TIGO_VERSION_MAX + 32) + (size_t)s->n_nodes * 100;
}

sw_err sw_tigo_fmt_infrastructure(const sw_tigo_state *s, char *buf, size_t cap, size_t *len_out)
{
    sw_json j;
    char key[8], text[SW_TIGO_BARCODE_MAX];
    sw_json_init(&j, buf, cap);
    sw_json_object_begin(&j);
    sw_json_key(&j, "event_type");
    sw_json_string(&j, "infrastructure_report");
    sw_json_key(&j, "gateways");
    sw_json_object_begin(&j);
    /* Gateways are sorted by ID, which is the numeric key order taptap prints. */
    for (size_t i = 0; i < s->n_gateways; i++) {
        const sw_tigo_gateway_record *g = &s->gateways[i];
        if (!g->has_address)
            continue; /* versions of gateways without an address are not shown */
        snprintf(key, sizeof key, "%u", g->id);
        sw_json_key(&j, key);
        sw_json_object_begin(&j);
        sw_json_key(&j, "address");
        sw_tigo_addr_format(text, g->address);
        sw_json_string(&j, text);
        sw_json_key(&j, "version");
        if (g->has_version)
            sw_json_bytes_as_string(&j, (const uint8_t *)g->version, g->version_len);
        else
            sw_json_string(&j, "");
        sw_json_object_end(&j);
    }
    sw_json_object_end(&j);
    sw_json_key(&j, "nodes");
    sw_json_object_begin(&j);
    for (size_t i = 0; i < s->n_gateways; i++) {
        const sw_tigo_gateway_record *g = &s->gateways[i];
        if (!g->has_node_table)
            continue;
        snprintf(key, sizeof key, "%u", g->id);
        sw_json_key(&j, key);
        sw_json_object_begin(&j);
        size_t n;
        const sw_tigo_node_record *nodes = sw_tigo_state_gateway_nodes(s, g->id, &n);
        for (size_t k = 0; k < n; k++) {
            snprintf(key, sizeof key, "%u", nodes[k].node_id);
            sw_json_key(&j, key);
            sw_json_object_begin(&j);
            sw_json_key(&j, "address");
            sw_tigo_addr_format(text, nodes[k].address);
            sw_json_string(&j, text);
            sw_json_key(&j, "barcode");
            sw_tigo_barcode_format(text, nodes[k].address);
            sw_json_string(&j, text);
            sw_json_object_end(&j);
        }
        sw_json_object_end(&j);
    }
    sw_json_object_end(&j);
    sw_json_object_end(&j);
    if (!sw_json_finish(&j)) {
        if (len_out)
            *len_out = 0;
        return SW_ERR_NO_SPACE;
    }
    if (len_out)
        *len_out = j.len;
    return SW_OK;
}
