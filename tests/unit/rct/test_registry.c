/*
 * Unit tests for src/rct/registry.c and the generated registry_table.c.
 *
 * The committed C table is checked field by field against data/rct-registry.tsv
 * (so a stale table fails here, not in the field), then lookups are checked
 * against rctclient's registry_lookups.json, requests/responses against
 * registry_roundtrip.json and the simulator answers against
 * simulator_read_responses.json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rct_check.h"
#include "sunwire/core.h"
#include "sunwire/rct.h"
#include "testutil.h"

/* ---- the table matches the TSV ------------------------------------------------ */

static char *read_tsv(size_t *len)
{
    const char *src = getenv("SW_SOURCE_DIR");
    char path[4096];
    if (src)
        snprintf(path, sizeof path, "%s/data/rct-registry.tsv", src);
    else
        snprintf(path, sizeof path, "%s", tu_data_path("../../data/rct-registry.tsv"));
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void test_table_matches_tsv(void **state)
{
    (void)state;
    size_t len;
    char *tsv = read_tsv(&len);
    char *save = NULL;
    char *line = strtok_r(tsv, "\n", &save);
    assert_string_equal(line, "id\tindex\tname\tgroup\trequest_type\tresponse_type\tunit\t"
                              "description\tenum_map\tsim_data");
    size_t rows = 0, name_max = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[10];
        size_t nf = 0;
        char *p = line;
        for (;;) {
            assert_true(nf < 10);
            f[nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        assert_int_equal(nf, 10);
        uint32_t id = (uint32_t)strtoul(f[0], NULL, 16);
        const sw_rct_object *o = sw_rct_registry_find_id(id);
        if (!o)
            fail_msg("%s missing from the table", f[0]);
        assert_ptr_equal(o, sw_rct_registry_at(rows)); /* same order: by id */
        assert_int_equal(o->index, strtoul(f[1], NULL, 10));
        assert_string_equal(o->name, f[2]);
        assert_string_equal(sw_rct_group_name(o->group), f[3]);
        assert_string_equal(sw_rct_type_name(o->request_type), f[4]);
        assert_string_equal(sw_rct_type_name(o->response_type), f[5]);
        assert_string_equal(o->unit, f[6]);
        assert_string_equal(o->description, f[7]);
        if (f[8][0]) {
            json_t *m = json_loads(f[8], 0, NULL);
            assert_non_null(m);
            assert_int_equal(o->enum_count, json_object_size(m));
            const char *key;
            json_t *lab;
            json_object_foreach(m, key, lab) {
                const char *got = NULL;
                assert_int_equal(sw_rct_object_enum_label(o, strtoll(key, NULL, 10), &got), SW_OK);
                assert_string_equal(got, json_string_value(lab));
            }
            for (size_t k = 1; k < o->enum_count; k++)
                assert_true(o->enum_map[k - 1].value < o->enum_map[k].value);
            json_decref(m);
        } else {
            assert_null(o->enum_map);
            assert_int_equal(o->enum_count, 0);
        }
        assert_string_equal(o->sim_data_json, f[9]);
        json_t *sim = json_loads(f[9], JSON_DECODE_ANY, NULL);
        assert_non_null(sim);
        switch (o->sim_kind) {
        case SW_RCT_SIM_TRUE: assert_true(json_is_true(sim)); break;
        case SW_RCT_SIM_FLOAT_ZERO: assert_true(json_is_real(sim) && json_real_value(sim) == 0.0); break;
        case SW_RCT_SIM_ZERO: assert_true(json_is_integer(sim) && json_integer_value(sim) == 0); break;
        case SW_RCT_SIM_STRING: assert_string_equal(o->sim_string, json_string_value(sim)); break;
        }
        json_decref(sim);
        if (strlen(f[2]) > name_max)
            name_max = strlen(f[2]);
        rows++;
    }
    assert_int_equal(rows, 895);
    assert_int_equal(sw_rct_registry_count(), rows);
    assert_int_equal(sw_rct_registry_name_max_length(), name_max);
    assert_null(sw_rct_registry_at(rows));
    assert_null(sw_rct_registry_at_by_name(rows));
    /* ids strictly ascending; the name index is a strcmp-sorted permutation */
    for (size_t i = 1; i < rows; i++) {
        assert_true(sw_rct_registry_at(i - 1)->id < sw_rct_registry_at(i)->id);
        assert_true(strcmp(sw_rct_registry_at_by_name(i - 1)->name, sw_rct_registry_at_by_name(i)->name) < 0);
    }
    for (size_t i = 0; i < rows; i++) {
        const sw_rct_object *o = sw_rct_registry_at(i);
        assert_ptr_equal(sw_rct_registry_find_name(o->name), o);
        assert_ptr_equal(sw_rct_registry_find_id(o->id), o);
    }
    free(tsv);
}

/* The committed table is exactly what the generator makes from the TSV now. */
static void test_generator_check(void **state)
{
    (void)state;
    const char *src = getenv("SW_SOURCE_DIR");
    if (!src || system("python3 -c pass >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/gen_rct_registry.py' --check", src);
    assert_int_equal(system(cmd), 0);
    /* and --check notices a table that differs */
    const char *dir = getenv("SW_BUILD_DIR");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/sw_rct_table_XXXXXX", dir ? dir : ".");
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "stale\n", 6), 6);
    close(fd);
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/gen_rct_registry.py' --check --out '%s' 2>/dev/null", src, tmp);
    assert_true(system(cmd) != 0);
    unlink(tmp);
}

/* ---- registry_lookups.json ----------------------------------------------------- */

static int collect_cb(const sw_rct_object *o, void *ctx)
{
    json_t *arr = ctx;
    json_array_append_new(arr, json_string(o->name));
    return 0;
}

static void test_lookup_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("rct/registry_lookups.json");
    assert_int_equal(sw_rct_registry_count(), tu_int(root, "count"));
    assert_int_equal(sw_rct_registry_name_max_length(), tu_int(root, "name_max_length"));
    size_t i;
    json_t *v;
    json_array_foreach(tu_get(root, "get_by_id"), i, v) {
        const sw_rct_object *o = sw_rct_registry_find_id((uint32_t)tu_int(v, "id"));
        if (!json_is_true(tu_get(v, "found"))) {
            assert_null(o);
            continue;
        }
        assert_non_null(o);
        assert_string_equal(o->name, tu_str(v, "name"));
        assert_int_equal(o->index, tu_int(v, "index"));
        assert_string_equal(sw_rct_type_name(o->request_type), tu_str(v, "request_type"));
        assert_string_equal(sw_rct_type_name(o->response_type), tu_str(v, "response_type"));
        assert_string_equal(sw_rct_type_name(o->request_type), tu_str(v, "type_by_id"));
    }
    json_array_foreach(tu_get(root, "get_by_name"), i, v) {
        const sw_rct_object *o = sw_rct_registry_find_name(tu_str(v, "name"));
        if (!json_is_true(tu_get(v, "found"))) {
            assert_null(o);
            continue;
        }
        assert_non_null(o);
        assert_int_equal(o->id, strtoul(tu_str(v, "id_hex"), NULL, 16));
    }
    json_array_foreach(tu_get(root, "prefix_complete_name"), i, v) {
        json_t *got = json_array();
        size_t n = sw_rct_registry_prefix(tu_str(v, "prefix"), collect_cb, got);
        assert_int_equal(n, json_array_size(got));
        json_t *want = json_object_get(v, "result");
        if (want) {
            assert_true(json_equal(got, want));
        } else {
            assert_int_equal(n, tu_int(v, "result_count"));
            json_t *first = tu_get(v, "first_5"), *last = tu_get(v, "last_5");
            for (size_t k = 0; k < 5; k++) {
                assert_string_equal(json_string_value(json_array_get(got, k)),
                                    json_string_value(json_array_get(first, k)));
                assert_string_equal(json_string_value(json_array_get(got, n - 5 + k)),
                                    json_string_value(json_array_get(last, k)));
            }
        }
        json_decref(got);
    }
    json_array_foreach(tu_get(root, "enum_str"), i, v) {
        const sw_rct_object *o = sw_rct_registry_find_name(tu_str(v, "name"));
        assert_non_null(o);
        const char *label = NULL;
        sw_err e = sw_rct_object_enum_label(o, tu_int(v, "value"), &label);
        json_t *err = json_object_get(v, "error");
        if (!err) {
            assert_int_equal(e, SW_OK);
            assert_string_equal(label, tu_str(v, "result"));
        } else if (strcmp(json_string_value(err), "KeyError") == 0) {
            assert_int_equal(e, SW_ERR_NOT_FOUND);
        } else {
            const char *msg = tu_str(v, "error_message");
            assert_int_equal(e, strstr(msg, "Not an ENUM") ? SW_ERR_RCT_NOT_ENUM : SW_ERR_RCT_NO_ENUM_MAP);
        }
    }
    /* The later of two source rows with one id wins; the earlier name is gone. */
    int kept = 0;
    json_array_foreach(tu_get(root, "duplicate_id_source_entries"), i, v) {
        const sw_rct_object *o = sw_rct_registry_find_id((uint32_t)strtoul(tu_str(v, "id_hex"), NULL, 16));
        assert_non_null(o);
        if (json_is_true(tu_get(v, "kept"))) {
            assert_string_equal(o->name, tu_str(v, "name"));
            assert_int_equal(o->index, tu_int(v, "index"));
            kept++;
        } else {
            assert_null(sw_rct_registry_find_name(tu_str(v, "name")));
        }
    }
    assert_int_equal(kept, 8);
    json_decref(root);
}

static int stop_after_two(const sw_rct_object *o, void *ctx)
{
    (void)o;
    int *n = ctx;
    return ++*n == 2;
}

static void test_search_and_groups(void **state)
{
    (void)state;
    /* substring search equals a brute-force scan, in name order */
    const char *needles[] = { "soc", "[2]", "log_ts", "", "no-such-thing", "." };
    for (size_t k = 0; k < sizeof needles / sizeof needles[0]; k++) {
        json_t *got = json_array();
        size_t n = sw_rct_registry_search(needles[k], collect_cb, got);
        size_t brute = 0;
        for (size_t i = 0; i < sw_rct_registry_count(); i++) {
            const sw_rct_object *o = sw_rct_registry_at_by_name(i);
            if (strstr(o->name, needles[k])) {
                assert_string_equal(json_string_value(json_array_get(got, brute)), o->name);
                brute++;
            }
        }
        assert_int_equal(n, brute);
        assert_int_equal(sw_rct_registry_search(needles[k], NULL, NULL), brute);
        json_decref(got);
    }
    assert_int_equal(sw_rct_registry_search("log_ts", NULL, NULL), 44);
    int seen = 0;
    assert_int_equal(sw_rct_registry_prefix("battery.", stop_after_two, &seen), 2);
    assert_int_equal(seen, 2);
    /* the 37 groups round-trip, and every one is used */
    int used[SW_RCT_GROUP_COUNT_] = { 0 };
    for (size_t i = 0; i < sw_rct_registry_count(); i++)
        used[sw_rct_registry_at(i)->group]++;
    for (int g = 0; g < SW_RCT_GROUP_COUNT_; g++) {
        sw_rct_group back;
        assert_int_equal(sw_rct_group_from_name(sw_rct_group_name((sw_rct_group)g), &back), SW_OK);
        assert_int_equal((int)back, g);
        assert_true(used[g] > 0);
    }
    assert_null(sw_rct_group_name(SW_RCT_GROUP_COUNT_));
    /* type mix from the data notes */
    int timeseries = 0, events = 0, unknown = 0;
    for (size_t i = 0; i < sw_rct_registry_count(); i++) {
        const sw_rct_object *o = sw_rct_registry_at(i);
        timeseries += o->response_type == SW_RCT_TYPE_TIMESERIES;
        events += o->response_type == SW_RCT_TYPE_EVENT_TABLE;
        unknown += o->request_type == SW_RCT_TYPE_UNKNOWN;
    }
    assert_int_equal(timeseries, 44);
    assert_int_equal(events, 1);
    assert_int_equal(unknown, 3);
}

static void test_parse_value(void **state)
{
    (void)state;
    const sw_rct_object *st = sw_rct_registry_find_name("power_mng.battery_type");
    assert_non_null(st);
    sw_rct_value v;
    assert_int_equal(sw_rct_object_parse_value(st, "BYD D-BOX H", &v, NULL, 0), SW_OK);
    assert_int_equal(v.type, SW_RCT_TYPE_ENUM);
    assert_int_equal(v.u.i, 7);
    assert_int_equal(sw_rct_object_parse_value(st, "3", &v, NULL, 0), SW_OK);
    assert_int_equal(v.u.i, 3);
    assert_int_equal(sw_rct_object_parse_value(st, "no such battery", &v, NULL, 0), SW_ERR_BAD_NUMBER);
    int64_t x;
    assert_int_equal(sw_rct_object_enum_value(st, "Li-Ion RCT Power", &x), SW_OK);
    assert_int_equal(x, 3);
    const sw_rct_object *soc = sw_rct_registry_find_name("battery.soc");
    assert_int_equal(sw_rct_object_parse_value(soc, "0.5", &v, NULL, 0), SW_OK);
    assert_true(v.u.f == 0.5);
    assert_int_equal(sw_rct_object_enum_value(soc, "x", &x), SW_ERR_RCT_NOT_ENUM);
    /* a logger object takes its query time as INT32 */
    const sw_rct_object *lg = sw_rct_registry_find_name("logger.minutes_soc_log_ts");
    assert_int_equal(sw_rct_object_parse_value(lg, "1700000000", &v, NULL, 0), SW_OK);
    assert_int_equal(v.type, SW_RCT_TYPE_INT32);
}

/* ---- registry_roundtrip.json ----------------------------------------------------- */

static void test_roundtrip_vectors(void **state)
{
    (void)state;
    json_t *root = tu_load_json("rct/registry_roundtrip.json");
    size_t i;
    json_t *v;
    sw_rct_receiver *rx = malloc(sizeof *rx);
    assert_non_null(rx);
    static uint8_t wire[SW_RCT_WIRE_MAX(2048)];
    static uint8_t storage[1 << 16];
    static char text[1 << 16];
    int n_vec = 0;
    json_array_foreach(tu_get(root, "vectors"), i, v) {
        const char *name = tu_str(v, "name");
        const sw_rct_object *o = sw_rct_registry_find_id((uint32_t)tu_int(v, "id"));
        assert_non_null(o);
        assert_string_equal(o->name, tu_str(v, "object_name"));
        assert_string_equal(sw_rct_type_name(o->request_type), tu_str(v, "request_type"));
        assert_string_equal(sw_rct_type_name(o->response_type), tu_str(v, "response_type"));

        /* The request a client sends: READ, or WRITE of the query time. */
        size_t wn, n;
        uint8_t *want = tu_hex_member(v, "request_frame_hex", &wn);
        json_t *rv = json_object_get(v, "request_value");
        if (rv) {
            sw_rct_value q = { .type = o->request_type };
            q.u.i = json_integer_value(rv);
            uint8_t pl[4];
            size_t pn;
            assert_int_equal(sw_rct_value_encode(&q, pl, sizeof pl, &pn), SW_OK);
            assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_WRITE, o->id, 0, pl, pn, wire, sizeof wire, &n), SW_OK);
        } else {
            assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_READ, o->id, 0, NULL, 0, wire, sizeof wire, &n), SW_OK);
        }
        assert_int_equal(n, wn);
        assert_memory_equal(wire, want, n);
        free(want);

        /* The response as it arrives, fed byte by byte. */
        size_t rn, pn;
        uint8_t *resp = tu_hex_member(v, "response_wire_hex", &rn);
        uint8_t *payload = tu_hex_member(v, "payload_hex", &pn);
        sw_rct_receiver_init(rx);
        sw_rct_receiver_event ev;
        ev.kind = SW_RCT_RECEIVER_NEED_MORE;
        size_t used = 0;
        while (used < rn && ev.kind == SW_RCT_RECEIVER_NEED_MORE)
            used += sw_rct_receiver_push(rx, resp + used, 1, &ev);
        assert_int_equal(used, rn);
        assert_int_equal(ev.kind, SW_RCT_RECEIVER_FRAME);
        uint8_t cmd;
        assert_int_equal(sw_rct_command_from_name(tu_str(v, "response_command"), &cmd), SW_OK);
        assert_int_equal(ev.frame.command, cmd);
        assert_int_equal(ev.frame.id, o->id);
        assert_int_equal(ev.frame.payload_len, pn);
        assert_memory_equal(ev.frame.payload, payload, pn);

        /* Our builder makes the same frame (without the device's leading 00). */
        assert_int_equal(sw_rct_frame_build(cmd, o->id, 0, payload, pn, wire, sizeof wire, &n), SW_OK);
        size_t skip = resp[0] == 0x00 ? 1 : 0;
        assert_int_equal(n, rn - skip);
        assert_memory_equal(wire, resp + skip, n);

        /* Decode with the response type. */
        sw_rct_value val;
        const sw_rct_object *found = NULL;
        assert_int_equal(sw_rct_decode_reply(&ev.frame, &found, &val, storage, sizeof storage), SW_OK);
        assert_ptr_equal(found, o);
        if (o->response_type == SW_RCT_TYPE_UNKNOWN) {
            sw_rct_value_to_text(&val, text, sizeof text);
            assert_string_equal(text, tu_str(v, "cli_value"));
        } else {
            rct_check_decoded(&val, tu_get(v, "decoded"), name);
        }
        free(resp);
        free(payload);
        n_vec++;
    }
    assert_int_equal(n_vec, 320);
    free(rx);
    json_decref(root);
}

/* ---- simulator_read_responses.json ------------------------------------------------ */

static void test_simulator_answers(void **state)
{
    (void)state;
    json_t *root = tu_load_json("rct/simulator_read_responses.json");
    size_t i;
    json_t *v;
    int answered = 0, silent = 0;
    json_array_foreach(tu_get(root, "vectors"), i, v) {
        const sw_rct_object *o = sw_rct_registry_find_id((uint32_t)tu_int(v, "id"));
        assert_non_null(o);
        assert_string_equal(o->name, tu_str(v, "object_name"));
        /* the TSV's sim_data is the value the simulator used */
        json_t *sim = json_loads(o->sim_data_json, JSON_DECODE_ANY, NULL);
        assert_true(json_equal(sim, tu_get(v, "sim_data")));
        json_decref(sim);

        uint8_t wire[64];
        size_t n, wn;
        uint8_t *req = tu_hex_member(v, "request_hex", &wn);
        assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_READ, o->id, 0, NULL, 0, wire, sizeof wire, &n), SW_OK);
        assert_int_equal(n, wn);
        assert_memory_equal(wire, req, n);
        free(req);

        sw_rct_value val;
        sw_err e = sw_rct_object_sim_value(o, &val);
        json_t *resp = tu_get(v, "response_hex");
        if (json_is_null(resp)) {
            assert_int_equal(e, SW_ERR_RCT_NOT_ENCODABLE);
            silent++;
            continue;
        }
        assert_int_equal(e, SW_OK);
        assert_int_equal(val.type, o->response_type);
        uint8_t pl[16];
        size_t pn;
        assert_int_equal(sw_rct_value_encode(&val, pl, sizeof pl, &pn), SW_OK);
        assert_int_equal(sw_rct_frame_build(SW_RCT_CMD_RESPONSE, o->id, 0, pl, pn, wire, sizeof wire, &n), SW_OK);
        uint8_t *want = tu_hex(json_string_value(resp), &wn);
        assert_int_equal(n, wn);
        assert_memory_equal(wire, want, n);
        free(want);
        answered++;
    }
    assert_int_equal(answered, 826);
    assert_int_equal(silent, 69);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_tsv),
        cmocka_unit_test(test_generator_check),
        cmocka_unit_test(test_lookup_vectors),
        cmocka_unit_test(test_search_and_groups),
        cmocka_unit_test(test_parse_value),
        cmocka_unit_test(test_roundtrip_vectors),
        cmocka_unit_test(test_simulator_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
