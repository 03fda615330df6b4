/*
 * Fuzz target: the RCT value decoder for every type, the type chosen by the
 * first input byte and the payload being the rest. Every value that decodes
 * is rendered as text and JSON and, where the type is encodable, encoded
 * again. Checked properties (abort on violation):
 *   - integer, enum and raw types re-encode to exactly the payload;
 *   - a string re-encodes to its text up to the first NUL;
 *   - a decoded value decodes to the same value after encoding (floats
 *     compared bit for bit, NaN to NaN);
 *   - the text renderer's returned length matches what it wrote.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/json.h"
#include "sunwire/rct_value.h"

static const sw_rct_type k_types[] = {
    SW_RCT_TYPE_UNKNOWN, SW_RCT_TYPE_BOOL, SW_RCT_TYPE_UINT8, SW_RCT_TYPE_INT8, SW_RCT_TYPE_UINT16,
    SW_RCT_TYPE_INT16, SW_RCT_TYPE_UINT32, SW_RCT_TYPE_INT32, SW_RCT_TYPE_ENUM, SW_RCT_TYPE_FLOAT,
    SW_RCT_TYPE_STRING, SW_RCT_TYPE_TIMESERIES, SW_RCT_TYPE_EVENT_TABLE,
    SW_RCT_TYPE_BATTERY_MODULE_STATUS, SW_RCT_TYPE_BATTERY_MODULE_STATISTICS,
    SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE,
};

static uint8_t storage[1 << 20];
static uint8_t storage2[1 << 20];
static char text[1 << 18];
static char jbuf[1 << 18];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Values outside the enum too: the decoder must refuse them, not crash. */
    sw_rct_type t = data[0] < 0xf0 ? k_types[data[0] % (sizeof k_types / sizeof k_types[0])]
                                   : (sw_rct_type)(data[0] - 0xd0);
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (sw_rct_value_storage_size(t, n) > sizeof storage)
        return 0;
    sw_rct_value v;
    if (sw_rct_value_decode(t, p, n, &v, storage, sizeof storage) != SW_OK)
        return 0;
    if (v.type != t)
        abort();

    size_t need = sw_rct_value_to_text(&v, text, sizeof text);
    if (need < sizeof text && strlen(text) != need)
        abort();
    /* A small buffer must truncate, never overflow, and report the same length. */
    char small[8];
    if (sw_rct_value_to_text(&v, small, sizeof small) != need)
        abort();
    sw_json j;
    sw_json_init(&j, jbuf, sizeof jbuf);
    sw_rct_value_to_json(&v, &j);

    if (!sw_rct_type_encodable(t))
        return 0;
    uint8_t enc[4096];
    size_t en = 0;
    if (sw_rct_value_encode(&v, enc, sizeof enc, &en) != SW_OK) {
        if (n + 1 < sizeof enc)
            abort(); /* anything that decoded must encode (it came from the wire) */
        return 0;
    }
    switch (t) {
    case SW_RCT_TYPE_UINT8: case SW_RCT_TYPE_INT8: case SW_RCT_TYPE_UINT16: case SW_RCT_TYPE_INT16:
    case SW_RCT_TYPE_UINT32: case SW_RCT_TYPE_INT32: case SW_RCT_TYPE_ENUM: case SW_RCT_TYPE_UNKNOWN:
        if (en != n || memcmp(enc, p, n) != 0)
            abort();
        break;
    case SW_RCT_TYPE_STRING:
        if (en != v.u.str.len || memcmp(enc, v.u.str.bytes, en) != 0)
            abort();
        break;
    default:
        break;
    }
    sw_rct_value w;
    if (sw_rct_value_decode(t, enc, en, &w, storage2, sizeof storage2) != SW_OK)
        abort();
    switch (t) {
    case SW_RCT_TYPE_BOOL:
        if (w.u.b != v.u.b)
            abort();
        break;
    case SW_RCT_TYPE_FLOAT:
        if (isnan(v.u.f) ? !isnan(w.u.f) : memcmp(&v.u.f, &w.u.f, sizeof v.u.f) != 0)
            abort();
        break;
    case SW_RCT_TYPE_STRING:
        if (w.u.str.len != v.u.str.len || memcmp(w.u.str.bytes, v.u.str.bytes, v.u.str.len) != 0)
            abort();
        break;
    default:
        if (t != SW_RCT_TYPE_UNKNOWN && w.u.i != v.u.i)
            abort();
        break;
    }
    return 0;
}
