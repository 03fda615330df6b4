/*
 * rct_check.h: compare a decoded sw_rct_value with the "decoded" member of an
 * rctclient test vector (shared by the value and registry tests).
 *
 * rctclient collapses time-series points and event rows by timestamp (a
 * repeated timestamp keeps its first position and takes the last value) and
 * returns the last row's time as the event table's timestamp. sunwire keeps
 * every point and row in wire order and the header time; the comparison
 * applies rctclient's collapsing to our rows, so it checks the same facts
 * without copying the bug.
 */
#ifndef SW_TEST_RCT_CHECK_H
#define SW_TEST_RCT_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/core.h"
#include "sunwire/rct_value.h"
#include "testutil.h"

/* A number from a vector: JSON number or "NaN" / "Infinity" / "-Infinity". */
static inline void rct_check_double(double got, json_t *want, const char *name)
{
    if (json_is_string(want)) {
        const char *s = json_string_value(want);
        if (strcmp(s, "NaN") == 0) {
            if (!isnan(got))
                fail_msg("%s: want NaN", name);
        } else if (strcmp(s, "Infinity") == 0) {
            if (!(isinf(got) && got > 0))
                fail_msg("%s: want +inf", name);
        } else if (strcmp(s, "-Infinity") == 0) {
            if (!(isinf(got) && got < 0))
                fail_msg("%s: want -inf", name);
        } else {
            fail_msg("%s: odd number text %s", name, s);
        }
        return;
    }
    if (!json_is_number(want))
        fail_msg("%s: want is not a number", name);
    if (got != json_number_value(want))
        fail_msg("%s: got %.17g want %.17g", name, got, json_number_value(want));
}

/* Index of the first earlier item with the same timestamp, or i. */
static inline size_t rct_first_with_ts(const uint32_t *ts, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (ts[k] == ts[i])
            return k;
    return i;
}

static inline void rct_check_decoded(const sw_rct_value *v, json_t *want, const char *name)
{
    switch (v->type) {
    case SW_RCT_TYPE_BOOL:
        assert_true(json_is_boolean(want));
        assert_int_equal(v->u.b, json_is_true(want));
        break;
    case SW_RCT_TYPE_UINT8:
    case SW_RCT_TYPE_INT8:
    case SW_RCT_TYPE_UINT16:
    case SW_RCT_TYPE_INT16:
    case SW_RCT_TYPE_UINT32:
    case SW_RCT_TYPE_INT32:
    case SW_RCT_TYPE_ENUM:
        assert_true(json_is_integer(want));
        if (v->u.i != json_integer_value(want))
            fail_msg("%s: got %lld want %lld", name, (long long)v->u.i,
                     (long long)json_integer_value(want));
        break;
    case SW_RCT_TYPE_FLOAT:
        rct_check_double(v->u.f, want, name);
        break;
    case SW_RCT_TYPE_STRING: {
        const char *s = json_string_value(want);
        assert_non_null(s);
        if (v->u.str.len != json_string_length(want) || memcmp(v->u.str.bytes, s, v->u.str.len) != 0)
            fail_msg("%s: string differs", name);
        break;
    }
    case SW_RCT_TYPE_TIMESERIES: {
        assert_int_equal(v->u.ts.timestamp, tu_int(want, "timestamp"));
        json_t *pts = tu_get(want, "points");
        size_t n = v->u.ts.n_points;
        uint32_t *ts = malloc((n + 1) * sizeof *ts);
        assert_non_null(ts);
        for (size_t k = 0; k < n; k++)
            ts[k] = v->u.ts.points[k].timestamp;
        size_t out = 0;
        for (size_t k = 0; k < n; k++) {
            if (rct_first_with_ts(ts, k) != k)
                continue;
            /* rctclient's value for this timestamp is the last one sent */
            size_t last = k;
            for (size_t m = k + 1; m < n; m++)
                if (ts[m] == ts[k])
                    last = m;
            json_t *p = json_array_get(pts, out++);
            assert_non_null(p);
            assert_int_equal(ts[k], json_integer_value(json_array_get(p, 0)));
            rct_check_double((double)v->u.ts.points[last].value, json_array_get(p, 1), name);
        }
        assert_int_equal(out, json_array_size(pts));
        free(ts);
        break;
    }
    case SW_RCT_TYPE_EVENT_TABLE: {
        json_t *ents = tu_get(want, "entries");
        size_t n = v->u.events.n_rows;
        if (n == 0)
            assert_int_equal(v->u.events.timestamp, tu_int(want, "returned_timestamp"));
        else /* rctclient returns the last row's time instead of the header */
            assert_int_equal(v->u.events.rows[n - 1].timestamp, tu_int(want, "returned_timestamp"));
        uint32_t *ts = malloc((n + 1) * sizeof *ts);
        assert_non_null(ts);
        for (size_t k = 0; k < n; k++)
            ts[k] = v->u.events.rows[k].timestamp;
        size_t out = 0;
        for (size_t k = 0; k < n; k++) {
            if (rct_first_with_ts(ts, k) != k)
                continue;
            size_t last = k;
            for (size_t m = k + 1; m < n; m++)
                if (ts[m] == ts[k])
                    last = m;
            const sw_rct_event_row *r = &v->u.events.rows[last];
            json_t *e = json_array_get(ents, out++);
            assert_non_null(e);
            assert_int_equal(r->entry_type, tu_int(e, "entry_type"));
            assert_int_equal(r->timestamp, tu_int(e, "timestamp"));
            assert_int_equal(r->element2, tu_int(e, "element2"));
            assert_int_equal(r->element3, tu_int(e, "element3"));
            assert_int_equal(r->element4, tu_int(e, "element4"));
        }
        assert_int_equal(out, json_array_size(ents));
        free(ts);
        break;
    }
    case SW_RCT_TYPE_BATTERY_MODULE_STATUS: {
        json_t *cells = tu_get(want, "cells");
        assert_int_equal(json_array_size(cells), SW_RCT_BATTERY_CELLS);
        for (size_t k = 0; k < SW_RCT_BATTERY_CELLS; k++) {
            json_t *c = json_array_get(cells, k);
            assert_int_equal(tu_int(c, "cell"), k);
            assert_int_equal(v->u.cells[k].temperature_c, tu_int(c, "temperature_c"));
            assert_int_equal(v->u.cells[k].voltage_mv, tu_int(c, "voltage_mv"));
            assert_int_equal(v->u.cells[k].status, tu_int(c, "status"));
        }
        break;
    }
    case SW_RCT_TYPE_BATTERY_MODULE_STATISTICS: {
        const char *keys[4] = { "u_min", "u_max", "t_min", "t_max" };
        const sw_rct_cell_record *recs[4] = { &v->u.stats.u_min, &v->u.stats.u_max,
                                              &v->u.stats.t_min, &v->u.stats.t_max };
        for (size_t k = 0; k < 4; k++) {
            json_t *r = tu_get(want, keys[k]);
            assert_int_equal(recs[k]->cell, tu_int(r, "cell"));
            json_t *t = tu_get(r, "timestamp");
            if (json_is_null(t))
                assert_int_equal(recs[k]->timestamp, 0);
            else
                assert_int_equal(recs[k]->timestamp, json_integer_value(t));
            rct_check_double((double)recs[k]->value, tu_get(r, "value"), name);
        }
        break;
    }
    case SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE: {
        json_t *cells = tu_get(want, "cells");
        assert_int_equal(json_array_size(cells), SW_RCT_BATTERY_CELLS);
        for (size_t k = 0; k < SW_RCT_BATTERY_CELLS; k++) {
            json_t *c = json_array_get(cells, k);
            assert_int_equal(v->u.resistance_raw[k], tu_int(c, "raw_value"));
            rct_check_double(v->u.resistance_raw[k] / 256.0, tu_get(c, "resistance_mohm"), name);
        }
        break;
    }
    case SW_RCT_TYPE_UNKNOWN:
        fail_msg("%s: rctclient decodes no UNKNOWN values", name);
        break;
    }
}

#endif
