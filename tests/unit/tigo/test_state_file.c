/*
 * State model and the taptap 0.2.0 state file: byte-identical serialisation,
 * parsing with every validation rule, round trips, temporary-path naming.
 */
#include <stdlib.h>
#include <string.h>

#include "sunwire/tigo_state.h"
#include "testutil.h"

static sw_tigo_state *new_state(void)
{
    sw_tigo_state *s = malloc(sizeof *s);
    assert_non_null(s);
    sw_tigo_state_init(s);
    return s;
}

static void addr_hex(const char *hex, uint8_t out[8])
{
    size_t n;
    uint8_t *b = tu_hex(hex, &n);
    assert_int_equal(n, 8);
    memcpy(out, b, 8);
    free(b);
}

static char *serialize(const sw_tigo_state *s)
{
    size_t cap = sw_tigo_state_serialized_max(s), len = 0;
    char *buf = malloc(cap);
    assert_int_equal(sw_tigo_state_serialize(s, buf, cap, &len), SW_OK);
    assert_int_equal(strlen(buf), len);
    return buf;
}

/* The fork's example file, rebuilt from the model, must match byte for byte. */
static void test_example_file_bytes(void **state)
{
    (void)state;
    size_t flen;
    uint8_t *file = tu_load_file("tigo/fork_state_file_example.json", &flen);
    sw_tigo_state *s = new_state();
    sw_tigo_node_record t[2] = { { 0, 3, { 0 } }, { 0, 2, { 0 } } }; /* out of order on purpose */
    addr_hex("04C05B4000A23471", t[0].address);
    addr_hex("04C05B4000A2346F", t[1].address);
    bool changed = false;
    assert_int_equal(sw_tigo_state_set_node_table(s, 4609, t, 2, &changed), SW_OK);
    assert_true(changed);
    uint8_t gw[8];
    addr_hex("04C05B300002BE16", gw);
    assert_int_equal(sw_tigo_state_set_identity(s, 4609, gw, &changed), SW_OK);
    assert_true(changed);
    char *text = serialize(s);
    assert_int_equal(strlen(text), flen);
    assert_memory_equal(text, file, flen);

    /* Parsing the file gives the same model back. */
    sw_tigo_state *p = new_state();
    char err[200];
    assert_int_equal(sw_tigo_state_parse(p, (const char *)file, flen, err, sizeof err), SW_OK);
    assert_true(sw_tigo_state_equal(s, p));
    free(text);
    free(p);
    free(s);
    free(file);
}

/* The state files expected after the enumeration capture and the scenario run. */
static void test_expected_state_files_round_trip(void **state)
{
    (void)state;
    json_t *enumr = tu_load_json("tigo/enumeration_sequence.json");
    json_t *scen = tu_load_json("tigo/observer_scenarios.json");
    const char *texts[2];
    texts[0] = tu_str(enumr, "expected_state_file_fork");
    texts[1] = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(tu_get(scen, "scenarios"), i, c) {
        json_t *f = json_object_get(c, "expected_state_file_fork");
        if (f)
            texts[1] = json_string_value(f);
    }
    assert_non_null(texts[1]);
    for (int k = 0; k < 2; k++) {
        sw_tigo_state *s = new_state();
        char err[200];
        assert_int_equal(sw_tigo_state_parse(s, texts[k], strlen(texts[k]), err, sizeof err), SW_OK);
        char *out = serialize(s);
        assert_string_equal(out, texts[k]);
        free(out);
        free(s);
    }
    /* The enumeration file holds the phantom gateway and the version text. */
    sw_tigo_state *s = new_state();
    assert_int_equal(sw_tigo_state_parse(s, texts[0], strlen(texts[0]), NULL, 0), SW_OK);
    const sw_tigo_gateway_record *g = sw_tigo_state_gateway(s, 4609);
    assert_non_null(g);
    assert_true(g->has_version);
    assert_string_equal(g->version, "Mgate Version G8.59\rJul  6 2020\r16:51:51\rGW-H158.4.3S0.12\r");
    assert_non_null(sw_tigo_state_gateway(s, 4610));
    assert_false(sw_tigo_state_gateway(s, 4610)->has_version);
    free(s);
    json_decref(enumr);
    json_decref(scen);
}

static void test_empty_and_edge_serialisation(void **state)
{
    (void)state;
    sw_tigo_state *s = new_state();
    char *t = serialize(s);
    assert_string_equal(t, "{\n  \"gateway_node_tables\": {},\n  \"gateway_identities\": {},\n"
                           "  \"gateway_versions\": {}\n}");
    free(t);
    /* An empty but known table prints as [], versions are escaped. */
    assert_int_equal(sw_tigo_state_set_node_table(s, 7, NULL, 0, NULL), SW_OK);
    assert_int_equal(sw_tigo_state_set_version(s, 10, "a\"b\\\x01", 5, NULL), SW_OK);
    assert_int_equal(sw_tigo_state_set_version(s, 9, "x", 1, NULL), SW_OK);
    t = serialize(s);
    assert_string_equal(t, "{\n  \"gateway_node_tables\": {\n    \"7\": []\n  },\n  \"gateway_identities\": {},\n"
                           "  \"gateway_versions\": {\n    \"9\": \"x\",\n    \"10\": \"a\\\"b\\\\\\u0001\"\n  }\n}");
    /* Too small a buffer reports the size needed. */
    char small[16];
    size_t need = 0;
    assert_int_equal(sw_tigo_state_serialize(s, small, sizeof small, &need), SW_ERR_NO_SPACE);
    assert_int_equal(need, strlen(t));
    sw_tigo_state *p = new_state();
    assert_int_equal(sw_tigo_state_parse(p, t, strlen(t), NULL, 0), SW_OK);
    assert_true(sw_tigo_state_equal(s, p));
    free(t);
    free(p);
    free(s);
}

/* Every validation rule, with the error code and a word of the message. */
static const struct {
    const char *doc;
    sw_err err;
    const char *msg_part;
} bad_docs[] = {
    { "", SW_ERR_BAD_JSON, "malformed" },
    { "{\"gateway_node_tables\":{}", SW_ERR_BAD_JSON, "malformed" },
    { "[]", SW_ERR_TIGO_STATE_SCHEMA, "object" },
    { "{\"gateway_identities\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "gateway_node_tables" },
    { "{\"gateway_node_tables\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "gateway_identities" },
    { "{\"gateway_node_tables\":{},\"gateway_identities\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "gateway_versions" },
    { "{\"gateway_node_tables\":[],\"gateway_identities\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA,
      "gateway_node_tables" },
    { "{\"gateway_node_tables\":{\"32768\":[]},\"gateway_identities\":{},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "32768" },
    { "{\"gateway_node_tables\":{\"-1\":[]},\"gateway_identities\":{},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "-1" },
    { "{\"gateway_node_tables\":{\"x\":[]},\"gateway_identities\":{},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "\"x\"" },
    { "{\"gateway_node_tables\":{\"1\":{}},\"gateway_identities\":{},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "array" },
    { "{\"gateway_node_tables\":{\"1\":[5]},\"gateway_identities\":{},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "[0]" },
    { "{\"gateway_node_tables\":{\"1\":[{\"long_address\":[1,2,3,4,5,6,7,8]}]},\"gateway_identities\":{},"
      "\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "node_id" },
    { "{\"gateway_node_tables\":{\"1\":[{\"node_id\":2}]},\"gateway_identities\":{},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "long_address" },
    { "{\"gateway_node_tables\":{\"1\":[{\"node_id\":0,\"long_address\":[1,2,3,4,5,6,7,8]}]},"
      "\"gateway_identities\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "node_id" },
    { "{\"gateway_node_tables\":{\"1\":[{\"node_id\":65536,\"long_address\":[1,2,3,4,5,6,7,8]}]},"
      "\"gateway_identities\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "node_id" },
    { "{\"gateway_node_tables\":{\"1\":[{\"node_id\":2.0,\"long_address\":[1,2,3,4,5,6,7,8]}]},"
      "\"gateway_identities\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "node_id" },
    { "{\"gateway_node_tables\":{\"1\":[{\"node_id\":2,\"long_address\":[1,2,3,4,5,6,7,8]},"
      "{\"node_id\":2,\"long_address\":[1,2,3,4,5,6,7,9]}]},\"gateway_identities\":{},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "twice" },
    { "{\"gateway_node_tables\":{\"1\":[{\"node_id\":2,\"long_address\":[1,2,3,4,5,6,7]}]},"
      "\"gateway_identities\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "long_address" },
    { "{\"gateway_node_tables\":{\"1\":[{\"node_id\":2,\"long_address\":[1,2,3,4,5,6,7,8,9]}]},"
      "\"gateway_identities\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "long_address" },
    { "{\"gateway_node_tables\":{\"1\":[{\"node_id\":2,\"long_address\":[1,2,3,4,5,6,7,256]}]},"
      "\"gateway_identities\":{},\"gateway_versions\":{}}", SW_ERR_TIGO_STATE_SCHEMA, "long_address" },
    { "{\"gateway_node_tables\":{},\"gateway_identities\":{\"1\":[1,2,3]},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "gateway_identities.1" },
    { "{\"gateway_node_tables\":{},\"gateway_identities\":{\"1\":\"04:C0\"},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "gateway_identities.1" },
    { "{\"gateway_node_tables\":{},\"gateway_identities\":{\"99999\":[1,2,3,4,5,6,7,8]},\"gateway_versions\":{}}",
      SW_ERR_TIGO_STATE_SCHEMA, "99999" },
    { "{\"gateway_node_tables\":{},\"gateway_identities\":{},\"gateway_versions\":{\"1\":5}}",
      SW_ERR_TIGO_STATE_SCHEMA, "gateway_versions.1" },
    { "{\"gateway_node_tables\":{},\"gateway_identities\":{},\"gateway_versions\":{\"a1\":\"v\"}}",
      SW_ERR_TIGO_STATE_SCHEMA, "a1" },
};

static void test_validation_failures(void **state)
{
    (void)state;
    sw_tigo_state *s = new_state();
    for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
        char err[256] = "unchanged";
        sw_err e = sw_tigo_state_parse(s, bad_docs[i].doc, strlen(bad_docs[i].doc), err, sizeof err);
        if (e != bad_docs[i].err || !strstr(err, bad_docs[i].msg_part))
            fail_msg("doc %zu: got %s \"%s\"", i, sw_err_name(e), err);
        /* A failed load leaves an empty state. */
        assert_int_equal(s->n_gateways, 0);
        assert_int_equal(s->n_nodes, 0);
    }
    assert_int_equal(sw_tigo_state_parse(s, NULL, 0, NULL, 0), SW_ERR_INVALID_ARGUMENT);
    /* A bad key names its own map, whichever of the three it is in. */
    static const char *const maps[] = { "gateway_node_tables", "gateway_identities", "gateway_versions" };
    for (size_t m = 0; m < 3; m++) {
        char doc[160], want[96], err[256];
        snprintf(doc, sizeof doc,
                 "{\"gateway_node_tables\":{%s},\"gateway_identities\":{%s},\"gateway_versions\":{%s}}",
                 m == 0 ? "\"x\":[]" : "", m == 1 ? "\"x\":[]" : "", m == 2 ? "\"x\":\"\"" : "");
        snprintf(want, sizeof want, "%s: key \"x\" is not a gateway ID (0..32767)", maps[m]);
        assert_int_equal(sw_tigo_state_parse(s, doc, strlen(doc), err, sizeof err), SW_ERR_TIGO_STATE_SCHEMA);
        assert_string_equal(err, want);
    }
    /* Extra keys are ignored, '+' and leading zeros in keys are accepted like Rust's integer parser. */
    const char *ok = "{\"x\":1,\"gateway_node_tables\":{\"+01\":[{\"node_id\":5,\"long_address\":[1,2,3,4,5,6,7,8],"
                     "\"extra\":true}]},\"gateway_identities\":{\"0\":[0,0,0,0,0,0,0,0]},"
                     "\"gateway_versions\":{\"32767\":\"\"}}";
    char err[128];
    assert_int_equal(sw_tigo_state_parse(s, ok, strlen(ok), err, sizeof err), SW_OK);
    assert_non_null(sw_tigo_state_node_address(s, 1, 5));
    assert_non_null(sw_tigo_state_gateway(s, 0));
    assert_true(sw_tigo_state_gateway(s, 32767)->has_version);
    free(s);
}

static void test_capacity(void **state)
{
    (void)state;
    sw_tigo_state *s = new_state();
    /* Too many gateways in a document. */
    char *doc = malloc(64 * 1024);
    size_t n = (size_t)sprintf(doc, "{\"gateway_node_tables\":{},\"gateway_identities\":{},\"gateway_versions\":{");
    for (int g = 0; g <= SW_TIGO_STATE_MAX_GATEWAYS; g++)
        n += (size_t)sprintf(doc + n, "%s\"%d\":\"v\"", g ? "," : "", g);
    n += (size_t)sprintf(doc + n, "}}");
    assert_int_equal(sw_tigo_state_parse(s, doc, n, NULL, 0), SW_ERR_TIGO_CAPACITY);
    free(doc);
    /* Mutators refuse out-of-range IDs and leave the state alone when full. */
    uint8_t a[8] = { 1 };
    assert_int_equal(sw_tigo_state_set_identity(s, 0x8000, a, NULL), SW_ERR_OUT_OF_RANGE);
    for (int g = 0; g < SW_TIGO_STATE_MAX_GATEWAYS; g++)
        assert_int_equal(sw_tigo_state_set_identity(s, (uint16_t)g, a, NULL), SW_OK);
    assert_int_equal(sw_tigo_state_set_identity(s, 500, a, NULL), SW_ERR_TIGO_CAPACITY);
    assert_int_equal(s->n_gateways, SW_TIGO_STATE_MAX_GATEWAYS);
    char big[SW_TIGO_VERSION_MAX + 1];
    memset(big, 'v', sizeof big);
    assert_int_equal(sw_tigo_state_set_version(s, 1, big, sizeof big, NULL), SW_ERR_TIGO_CAPACITY);
    sw_tigo_node_record zero = { 0, 0, { 0 } };
    assert_int_equal(sw_tigo_state_set_node_table(s, 1, &zero, 1, NULL), SW_ERR_OUT_OF_RANGE);
    free(s);
}

static void test_mutators_report_changes(void **state)
{
    (void)state;
    sw_tigo_state *s = new_state();
    uint8_t a[8] = { 4, 0xC0, 0x5B, 0x30, 0, 2, 0xBE, 0x16 }, b[8] = { 4, 0xC0, 0x5B, 0x30, 0, 2, 0xBE, 0x17 };
    bool ch;
    sw_tigo_state_set_identity(s, 4609, a, &ch);
    assert_true(ch);
    sw_tigo_state_set_identity(s, 4609, a, &ch);
    assert_false(ch);
    sw_tigo_state_set_identity(s, 4609, b, &ch);
    assert_true(ch);
    sw_tigo_state_set_version(s, 4609, "v1", 2, &ch);
    assert_true(ch);
    sw_tigo_state_set_version(s, 4609, "v1", 2, &ch);
    assert_false(ch);
    sw_tigo_node_record t[3] = { { 0, 5, { 5 } }, { 0, 3, { 3 } }, { 0, 5, { 6 } } };
    sw_tigo_state_set_node_table(s, 4609, t, 3, &ch);
    assert_true(ch);
    size_t n;
    const sw_tigo_node_record *r = sw_tigo_state_gateway_nodes(s, 4609, &n);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].node_id, 3);
    assert_int_equal(r[1].address[0], 6); /* later duplicate wins */
    sw_tigo_node_record t2[2] = { { 0, 3, { 3 } }, { 0, 5, { 6 } } };
    sw_tigo_state_set_node_table(s, 4609, t2, 2, &ch);
    assert_false(ch);
    /* Tables of neighbouring gateways stay apart. */
    sw_tigo_state_set_node_table(s, 4610, t2, 1, &ch);
    assert_true(ch);
    sw_tigo_state_set_node_table(s, 4608, t2 + 1, 1, &ch);
    assert_int_equal(s->n_nodes, 4);
    assert_null(sw_tigo_state_node_address(s, 4610, 5));
    assert_non_null(sw_tigo_state_node_address(s, 4608, 5));
    assert_non_null(sw_tigo_state_node_address(s, 4609, 3));

    /* Inventory replacement: 4609 loses its version, 4611 appears. */
    sw_tigo_gateway_record recs[2];
    memset(recs, 0, sizeof recs);
    recs[0].id = 4609;
    recs[0].has_address = true;
    memcpy(recs[0].address, b, 8);
    recs[1].id = 4611;
    recs[1].has_address = true;
    memcpy(recs[1].address, a, 8);
    assert_int_equal(sw_tigo_state_replace_inventory(s, recs, 2, &ch), SW_OK);
    assert_true(ch);
    assert_false(sw_tigo_state_gateway(s, 4609)->has_version);
    assert_true(sw_tigo_state_gateway(s, 4611)->has_address);
    assert_int_equal(sw_tigo_state_replace_inventory(s, recs, 2, &ch), SW_OK);
    assert_false(ch);
    /* Replacing with nothing drops identity-only gateways but keeps tables. */
    assert_int_equal(sw_tigo_state_replace_inventory(s, NULL, 0, &ch), SW_OK);
    assert_true(ch);
    assert_null(sw_tigo_state_gateway(s, 4611));
    assert_non_null(sw_tigo_state_gateway(s, 4609));
    assert_int_equal(s->n_nodes, 4);
    free(s);
}

/* The advertised size bounds hold for a state filled to capacity with the widest values. */
static void test_size_bounds(void **state)
{
    (void)state;
    sw_tigo_state *s = new_state();
    uint8_t wide[8];
    memset(wide, 255, 8);
    char ver[SW_TIGO_VERSION_MAX];
    memset(ver, 0x01, sizeof ver); /* each byte escapes to \u0001 */
    sw_tigo_node_record *t = calloc(SW_TIGO_MAX_NODES / SW_TIGO_STATE_MAX_GATEWAYS, sizeof *t);
    for (int g = 0; g < SW_TIGO_STATE_MAX_GATEWAYS; g++) {
        uint16_t id = (uint16_t)(32767 - g);
        assert_int_equal(sw_tigo_state_set_identity(s, id, wide, NULL), SW_OK);
        assert_int_equal(sw_tigo_state_set_version(s, id, ver, sizeof ver, NULL), SW_OK);
        for (int k = 0; k < SW_TIGO_MAX_NODES / SW_TIGO_STATE_MAX_GATEWAYS; k++) {
            t[k].node_id = (uint16_t)(65535 - k);
            memset(t[k].address, 255, 8);
        }
        assert_int_equal(sw_tigo_state_set_node_table(s, id, t, SW_TIGO_MAX_NODES / SW_TIGO_STATE_MAX_GATEWAYS, NULL),
                         SW_OK);
    }
    assert_int_equal(s->n_nodes, SW_TIGO_MAX_NODES);
    /* Growing a table by one entry no longer fits, and changes nothing. */
    size_t per = SW_TIGO_MAX_NODES / SW_TIGO_STATE_MAX_GATEWAYS;
    sw_tigo_node_record *bigger = calloc(per + 1, sizeof *bigger);
    for (size_t k = 0; k <= per; k++)
        bigger[k].node_id = (uint16_t)(k + 1);
    assert_int_equal(sw_tigo_state_set_node_table(s, 32767, bigger, per + 1, NULL), SW_ERR_TIGO_CAPACITY);
    assert_int_equal(s->n_nodes, SW_TIGO_MAX_NODES);
    assert_non_null(sw_tigo_state_node_address(s, 32767, 65535));
    free(bigger);
    size_t cap = sw_tigo_state_serialized_max(s), len = 0;
    char *buf = malloc(cap);
    assert_int_equal(sw_tigo_state_serialize(s, buf, cap, &len), SW_OK);
    assert_true(len < cap);
    /* The full state parses back to the same model. */
    sw_tigo_state *p = new_state();
    char err[200];
    assert_int_equal(sw_tigo_state_parse(p, buf, len, err, sizeof err), SW_OK);
    assert_true(sw_tigo_state_equal(s, p));
    free(buf);
    free(p);
    free(t);
    free(s);
}

static void test_tmp_path(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        { "taptap.json", "taptap.tmp" },
        { "state", "state.tmp" },
        { "/var/lib/x/taptap.json", "/var/lib/x/taptap.tmp" },
        { "dir.d/state", "dir.d/state.tmp" },
        { ".hidden", ".hidden.tmp" },
        { "a.b.c", "a.b.tmp" },
        { "state.tmp", "state.tmp.tmp" },
        { "file.", "file.tmp" },
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sw_tigo_state_tmp_path(cases[i][0], out, sizeof out), SW_OK);
        assert_string_equal(out, cases[i][1]);
    }
    assert_int_equal(sw_tigo_state_tmp_path("", out, sizeof out), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_tigo_state_tmp_path("dir/", out, sizeof out), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_tigo_state_tmp_path("taptap.json", out, 10), SW_ERR_NO_SPACE);
    assert_int_equal(sw_tigo_state_tmp_path("taptap.json", out, 11), SW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_file_bytes),
        cmocka_unit_test(test_expected_state_files_round_trip),
        cmocka_unit_test(test_empty_and_edge_serialisation),
        cmocka_unit_test(test_validation_failures),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_mutators_report_changes),
        cmocka_unit_test(test_size_bounds),
        cmocka_unit_test(test_tmp_path),
    };
    return cmocka_run_group_tests_name("tigo/state_file", tests, NULL, NULL);
}
