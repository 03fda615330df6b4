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
    memset(t->s, 0, sizeof t->s);
    t->len = (uint8_t)n;
    memcpy(t->s, b, n);
}

void sw_tigo_format_init(sw_tigo_format *f, int32_t utc_offset_s)
{
    /* Only the small header is written: the texts are made on first use. */
    f->utc_offset_s = utc_offset_s;
    memset(f->num_have, 0, sizeof f->num_have);
    memset(f->duty_have, 0, sizeof f->duty_have);
    f->ts_valid = false;
}

const sw_tigo_num_text *sw_tigo_format_num_make(sw_tigo_format *f, unsigned which, unsigned raw)
{
    raw &= 0xFFFu;
    sw_tigo_num_text *t;
    switch (which & 3u) {
    case SW_TIGO_NUM_VOLTAGE_IN:
        t = &f->voltage_in[raw];
        decimal_text(t, (int)raw * 5, 2); /* raw / 20 */
        break;
    case SW_TIGO_NUM_VOLTAGE_OUT:
        t = &f->voltage_out[raw];
        decimal_text(t, (int)raw, 1); /* raw / 10 */
        break;
    case SW_TIGO_NUM_CURRENT:
        t = &f->current[raw];
        decimal_text(t, (int)raw * 5, 3); /* raw / 200 */
        break;
    default:
        t = &f->temperature[raw];
        decimal_text(t, raw >= 2048 ? (int)raw - 4096 : (int)raw, 1); /* signed / 10 */
        break;
    }
    f->num_have[which & 3u][raw >> 6] |= UINT64_C(1) << (raw & 63u);
    return t;
}

const char *sw_tigo_format_duty_make(sw_tigo_format *f, unsigned raw)
{
    raw &= 0xFFu;
    char b[SW_DOUBLE_TEXT_MAX];
    size_t n = sw_fmt_double(b, raw / 255.0);
    memset(f->duty[raw], 0, sizeof f->duty[raw]);
    memcpy(f->duty[raw], b, n);
    f->duty_len[raw] = (uint8_t)n;
    f->duty_have[raw >> 6] |= UINT64_C(1) << (raw & 63u);
    return f->duty[raw];
}

/* ---- timestamps ---------------------------------------------------------------------- */

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static void put_pair(char *p, uint32_t v) { memcpy(p, digit_pairs + 2 * v, 2); }

/*
 * Write the RFC 3339 text at p without bounds checks (at most 19 + 10 +
 * the zone, plus up to 32 bytes of scratch overwrite); returns the length.
 * Same rules as sw_fmt_rfc3339; only the date of a new local day goes through
 * it, the time of day is written digit by digit and the zone pasted from the
 * cache.
 */
static size_t ts_unchecked(sw_tigo_format *f, int64_t unix_ns, char *p)
{
    int64_t sec = unix_ns / 1000000000LL;
    int64_t rem = unix_ns % 1000000000LL;
    if (rem < 0) {
        sec--;
        rem += 1000000000LL;
    }
    /* Zones lie within a day of UTC (chrono refuses larger offsets);
     * anything else is a caller error and renders as UTC. */
    int32_t off = f->utc_offset_s > -86400 && f->utc_offset_s < 86400 ? f->utc_offset_s : 0;
    int64_t local = sec + off;
    int64_t day = local / 86400;
    int64_t sod = local % 86400;
    if (sod < 0) {
        sod += 86400;
        day--;
    }
    if (!f->ts_valid || f->ts_day != day || f->ts_offset != f->utc_offset_s) {
        char b[SW_RFC3339_MAX];
        size_t n = sw_fmt_rfc3339(b, (sec - sod) * 1000000000LL, off); /* local midnight */
        /* Years stay four digits for every int64 time and int32 offset, so
         * the date-time is always 19 characters and the rest is the zone. */
        memset(f->ts_text, 0, sizeof f->ts_text);
        memset(f->ts_zone, 0, sizeof f->ts_zone);
        f->ts_len = 11; /* "YYYY-MM-DDT" */
        memcpy(f->ts_text, b, 11);
        f->ts_zone_len = (uint8_t)(n - 19);
        memcpy(f->ts_zone, b + 19, n - 19);
        f->ts_day = day;
        f->ts_offset = f->utc_offset_s;
        f->ts_valid = true;
    }
    char *o = p;
    memcpy(o, f->ts_text, sizeof f->ts_text);
    o += f->ts_len;
    put_pair(o, (uint32_t)(sod / 3600));
    o[2] = ':';
    put_pair(o + 3, (uint32_t)(sod / 60 % 60));
    o[5] = ':';
    put_pair(o + 6, (uint32_t)(sod % 60));
    o += 8;
    uint32_t ns = (uint32_t)rem;
    if (ns) {
        /* chrono's choice: 3, 6 or 9 digits, the fewest that are exact. */
        *o++ = '.';
        if (ns % 1000000u == 0) {
            uint32_t v = ns / 1000000u;
            *o++ = (char)('0' + v / 100u);
            put_pair(o, v % 100u);
            o += 2;
        } else if (ns % 1000u == 0) {
            uint32_t v = ns / 1000u;
            put_pair(o, v / 10000u);
            put_pair(o + 2, v / 100u % 100u);
            put_pair(o + 4, v % 100u);
            o += 6;
        } else {
            *o++ = (char)('0' + ns / 100000000u);
            uint32_t r = ns % 100000000u;
            put_pair(o, r / 1000000u);
            put_pair(o + 2, r / 10000u % 100u);
            put_pair(o + 4, r / 100u % 100u);
            put_pair(o + 6, r % 100u);
            o += 8;
        }
    }
    memcpy(o, f->ts_zone, sizeof f->ts_zone);
    o += f->ts_zone_len;
    return (size_t)(o - p);
}

size_t sw_tigo_format_timestamp(sw_tigo_format *f, int64_t unix_ns, char out[40])
{
    char b[96];
    size_t n = ts_unchecked(f, unix_ns, b);
    memcpy(out, b, n);
    out[n] = '\0';
    return n;
}

/* ---- power-report lines ---------------------------------------------------------------- */

/*
 * The writers below copy fixed-size blocks (whole cache entries, whole
 * literal strings) and only then advance by the real length, so they need
 * head-room: lines are built in place when the caller's buffer has
 * POWER_ROOM bytes, else in a local buffer and copied.
 */
#define POWER_ROOM 768

#define W_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) += sizeof(s) - 1)

static char *w_uint(char *p, unsigned v)
{
    /* Digits end at b[11]; a fixed 12-byte copy from the first digit stays inside b. */
    char b[24];
    int n = 0;
    do {
        b[11 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(p, b + 12 - n, 12);
    return p + n;
}

static char *w_num(char *p, const sw_tigo_num_text *t)
{
    memcpy(p, t, sizeof *t);
    return p + t->len;
}

/* From "timestamp" to the last value, without the closing brace. */
static char *w_measurements(char *p, sw_tigo_format *f, const sw_tigo_power_event *ev)
{
    const sw_tigo_power_report *r = ev->report;
    W_LIT(p, "\"timestamp\":\"");
    p += ts_unchecked(f, ev->timestamp_ns, p);
    W_LIT(p, "\",\"voltage_in\":");
    p = w_num(p, sw_tigo_format_num(f, SW_TIGO_NUM_VOLTAGE_IN, r->voltage_in_raw));
    W_LIT(p, ",\"voltage_out\":");
    p = w_num(p, sw_tigo_format_num(f, SW_TIGO_NUM_VOLTAGE_OUT, r->voltage_out_raw));
    W_LIT(p, ",\"current\":");
    p = w_num(p, sw_tigo_format_num(f, SW_TIGO_NUM_CURRENT, r->current_raw));
    W_LIT(p, ",\"dc_dc_duty_cycle\":");
    memcpy(p, sw_tigo_format_duty(f, r->duty_cycle_raw), sizeof f->duty[0]);
    p += f->duty_len[r->duty_cycle_raw];
    W_LIT(p, ",\"temperature\":");
    p = w_num(p, sw_tigo_format_num(f, SW_TIGO_NUM_TEMPERATURE, r->temperature_raw));
    W_LIT(p, ",\"rssi\":");
    return w_uint(p, r->rssi);
}

static char *w_address_array(char *p, const uint8_t a[8])
{
    *p++ = '[';
    for (int i = 0; i < 8; i++) {
        if (i)
            *p++ = ',';
        p = w_uint(p, a[i]);
    }
    *p++ = ']';
    return p;
}

static char *w_barcode(char *p, const uint8_t a[8])
{
    char bc[SW_TIGO_BARCODE_MAX];
    size_t bn = sw_tigo_barcode_format(a, bc);
    W_LIT(p, ",\"barcode\":\"");
    memcpy(p, bc, bn);
    p += bn;
    *p++ = '"';
    return p;
}

enum power_style { STYLE_FORK, STYLE_UPSTREAM, STYLE_EXTENDED };

static size_t power_unchecked(sw_tigo_format *f, const sw_tigo_power_event *ev, enum power_style style, char *buf)
{
    char *p = buf;
    if (style == STYLE_UPSTREAM) {
        W_LIT(p, "{\"gateway\":{\"id\":");
        p = w_uint(p, ev->gateway);
        if (ev->gateway_address) {
            W_LIT(p, ",\"address\":");
            p = w_address_array(p, ev->gateway_address);
        }
        W_LIT(p, "},\"node\":{\"id\":");
        p = w_uint(p, ev->node);
        if (ev->node_address) {
            W_LIT(p, ",\"address\":");
            p = w_address_array(p, ev->node_address);
            p = w_barcode(p, ev->node_address);
        }
        W_LIT(p, "},");
        p = w_measurements(p, f, ev);
        *p++ = '}';
        return (size_t)(p - buf);
    }
    W_LIT(p, "{\"event_type\":\"power_report\",\"gateway\":");
    p = w_uint(p, ev->gateway);
    W_LIT(p, ",\"node\":");
    p = w_uint(p, ev->node);
    *p++ = ',';
    p = w_measurements(p, f, ev);
    if (style == STYLE_EXTENDED) {
        if (ev->node_address)
            p = w_barcode(p, ev->node_address);
        uint8_t xl = ev->report->extra_len <= SW_TIGO_POWER_REPORT_EXTRA_MAX ? ev->report->extra_len : 0;
        char hx[2 * SW_TIGO_POWER_REPORT_EXTRA_MAX + 1];
        sw_hex_encode(hx, ev->report->extra, xl);
        W_LIT(p, ",\"extra\":\"");
        memcpy(p, hx, 2u * xl);
        p += 2u * xl;
        *p++ = '"';
    }
    *p++ = '}';
    return (size_t)(p - buf);
}

static sw_err power_line(sw_tigo_format *f, const sw_tigo_power_event *ev, enum power_style style, char *buf,
                         size_t cap, size_t *len_out)
{
    size_t n;
    if (cap >= POWER_ROOM) {
        n = power_unchecked(f, ev, style, buf);
    } else {
        char tmp[POWER_ROOM];
        n = power_unchecked(f, ev, style, tmp);
        if (n >= cap) {
            if (cap)
                buf[0] = '\0';
            if (len_out)
                *len_out = 0;
            return SW_ERR_NO_SPACE;
        }
        memcpy(buf, tmp, n);
    }
    buf[n] = '\0';
    if (len_out)
        *len_out = n;
    return SW_OK;
}

sw_err sw_tigo_format_power_fork(sw_tigo_format *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                              size_t *len_out)
{
    return power_line(f, ev, STYLE_FORK, buf, cap, len_out);
}

sw_err sw_tigo_format_power_upstream(sw_tigo_format *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                                  size_t *len_out)
{
    return power_line(f, ev, STYLE_UPSTREAM, buf, cap, len_out);
}

sw_err sw_tigo_format_power_extended(sw_tigo_format *f, const sw_tigo_power_event *ev, char *buf, size_t cap,
                                  size_t *len_out)
{
    return power_line(f, ev, STYLE_EXTENDED, buf, cap, len_out);
}

/* ---- infrastructure report ------------------------------------------------------- */

size_t sw_tigo_format_infrastructure_max(const sw_tigo_state *s)
{
    /* A gateway: key, colon-hex address, version escaped at worst 6x. A node:
     * key, address and barcode, well under 100 bytes. */
    return 128 + (size_t)s->n_gateways * (64 + 6 * SW_TIGO_VERSION_MAX + 32) + (size_t)s->n_nodes * 100;
}

sw_err sw_tigo_format_infrastructure(const sw_tigo_state *s, char *buf, size_t cap, size_t *len_out)
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
        sw_tigo_addr_format(g->address, text);
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
            sw_tigo_addr_format(nodes[k].address, text);
            sw_json_string(&j, text);
            sw_json_key(&j, "barcode");
            sw_tigo_barcode_format(nodes[k].address, text);
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
