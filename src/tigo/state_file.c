/*
 * state_file.c: the taptap 0.2.0 state document, text in and text out (see
 * sunwire/tigo_state.h). No file I/O here: the program owns the atomic write.
 *
 * The writer reproduces serde_json's pretty printer by hand because the file
 * must be byte-identical to what the fork writes (tools diff it, and users
 * switch back and forth). The reader uses jansson and checks every rule the
 * fork's deserialiser enforces, reporting the JSON path of the first problem.
 */
#include "sunwire/tigo_state.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sunwire/json.h"

/* ---- writer ------------------------------------------------------------------ */

typedef struct out_buf {
    char *buf;
    size_t cap;
    size_t len; /* may exceed cap: then only counted */
} out_buf;

static void put(out_buf *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void puts_(out_buf *o, const char *s) { put(o, s, strlen(s)); }

static void newline_indent(out_buf *o, int level)
{
    static const char spaces[] = "                                ";
    put(o, "\n", 1);
    put(o, spaces, (size_t)(2 * level));
}

static void put_uint(out_buf *o, unsigned v)
{
    char b[12];
    int n = snprintf(b, sizeof b, "%u", v);
    put(o, b, (size_t)n);
}

/* "4609": as a quoted key followed by ": ". */
static void put_key_id(out_buf *o, unsigned id)
{
    put(o, "\"", 1);
    put_uint(o, id);
    put(o, "\": ", 3);
}

static void put_address(out_buf *o, const uint8_t a[8], int level)
{
    put(o, "[", 1);
    for (int i = 0; i < 8; i++) {
        newline_indent(o, level + 1);
        put_uint(o, a[i]);
        if (i < 7)
            put(o, ",", 1);
    }
    newline_indent(o, level);
    put(o, "]", 1);
}

static void put_string(out_buf *o, const char *s, size_t n)
{
    /* Escaping as serde_json does it, via the shared JSON writer. Worst case
     * is 6 output bytes per input byte plus the quotes. */
    char small[6 * SW_TIGO_VERSION_MAX + 3];
    sw_json j;
    sw_json_init(&j, small, sizeof small);
    sw_json_bytes_as_string(&j, (const uint8_t *)s, n);
    put(o, small, j.len);
}

size_t sw_tigo_state_serialized_max(const sw_tigo_state *s)
{
    /* Generous per-item bounds: an address spans < 120 bytes at any indent
     * used here, a node entry < 200, a version at most 6 bytes per byte. */
    return 256 + (size_t)s->n_nodes * 200 + (size_t)s->n_gateways * (200 + 6 * SW_TIGO_VERSION_MAX + 32);
}

/* Each gateway's value in each of the three maps. */
static void put_node_table(out_buf *o, const sw_tigo_state *s, const sw_tigo_gateway_record *g)
{
    size_t n;
    const sw_tigo_node_record *nodes = sw_tigo_state_gateway_nodes(s, g->id, &n);
    if (n == 0) {
        puts_(o, "[]");
        return;
    }
    puts_(o, "[");
    for (size_t k = 0; k < n; k++) {
        newline_indent(o, 3);
        puts_(o, "{");
        newline_indent(o, 4);
        puts_(o, "\"node_id\": ");
        put_uint(o, nodes[k].node_id);
        put(o, ",", 1);
        newline_indent(o, 4);
        puts_(o, "\"long_address\": ");
        put_address(o, nodes[k].address, 4);
        newline_indent(o, 3);
        puts_(o, "}");
        if (k + 1 < n)
            put(o, ",", 1);
    }
    newline_indent(o, 2);
    puts_(o, "]");
}

static void put_identity(out_buf *o, const sw_tigo_state *s, const sw_tigo_gateway_record *g)
{
    (void)s;
    put_address(o, g->address, 2);
}

static void put_version(out_buf *o, const sw_tigo_state *s, const sw_tigo_gateway_record *g)
{
    (void)s;
    put_string(o, g->version, g->version_len);
}

/* Each map's reader of one gateway's value (below): the key is the map key, for messages. */
typedef sw_err (*gateway_value_loader)(sw_tigo_state *s, uint16_t gw, const char *key, json_t *v, char *errbuf,
                                       size_t errcap);
static sw_err load_node_table(sw_tigo_state *s, uint16_t gw, const char *key, json_t *arr, char *errbuf,
                              size_t errcap);
static sw_err load_identity(sw_tigo_state *s, uint16_t gw, const char *key, json_t *v, char *errbuf, size_t errcap);
static sw_err load_version(sw_tigo_state *s, uint16_t gw, const char *key, json_t *v, char *errbuf, size_t errcap);

/*
 * The document's three maps, in the order the fork writes and reads them. Each
 * is keyed by gateway ID and holds the gateways whose flag (at offset has) is set.
 */
static const struct gateway_map {
    const char *key;
    size_t has;
    void (*put_value)(out_buf *o, const sw_tigo_state *s, const sw_tigo_gateway_record *g);
    gateway_value_loader load_value;
} gateway_maps[] = {
    { "gateway_node_tables", offsetof(sw_tigo_gateway_record, has_node_table), put_node_table, load_node_table },
    { "gateway_identities", offsetof(sw_tigo_gateway_record, has_address), put_identity, load_identity },
    { "gateway_versions", offsetof(sw_tigo_gateway_record, has_version), put_version, load_version },
};
#define GATEWAY_MAP_COUNT (sizeof gateway_maps / sizeof gateway_maps[0])

sw_err sw_tigo_state_serialize(const sw_tigo_state *s, char *buf, size_t cap, size_t *len_out)
{
    out_buf o = { buf, cap, 0 };

    puts_(&o, "{");
    for (size_t m = 0; m < GATEWAY_MAP_COUNT; m++) {
        const struct gateway_map *map = &gateway_maps[m];
        newline_indent(&o, 1);
        put(&o, "\"", 1);
        puts_(&o, map->key);
        puts_(&o, "\": {");
        bool first = true;
        for (size_t i = 0; i < s->n_gateways; i++) {
            const sw_tigo_gateway_record *g = &s->gateways[i];
            if (!*(const bool *)((const char *)g + map->has))
                continue;
            if (!first)
                put(&o, ",", 1);
            first = false;
            newline_indent(&o, 2);
            put_key_id(&o, g->id);
            map->put_value(&o, s, g);
        }
        if (!first)
            newline_indent(&o, 1);
        puts_(&o, m + 1 < GATEWAY_MAP_COUNT ? "}," : "}");
    }
    put(&o, "\n}", 2);

    if (len_out)
        *len_out = o.len;
    if (o.len >= cap)
        return SW_ERR_NO_SPACE;
    buf[o.len] = '\0';
    return SW_OK;
}

/* ---- reader ------------------------------------------------------------------ */

/* The text of the first problem goes to errbuf (when there is one); returns code. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static sw_err fail_as(sw_err code, char *errbuf, size_t errcap, const char *fmt, ...)
{
    if (errbuf && errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errcap, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A document that breaks a rule of the format. */
#define fail(errbuf, errcap, ...) fail_as(SW_ERR_TIGO_STATE_SCHEMA, errbuf, errcap, __VA_ARGS__)

/* Gateway-ID object keys: decimal, optional '+', 0..32767 (Rust's u16 parse plus the range check). */
static bool parse_gateway_key(const char *k, uint16_t *out)
{
    const char *p = k;
    if (*p == '+')
        p++;
    if (!*p)
        return false;
    unsigned long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > SW_TIGO_GATEWAY_ID_MAX)
            return false;
    }
    *out = (uint16_t)v;
    return true;
}

static bool parse_address(json_t *v, uint8_t out[8])
{
    if (!json_is_array(v) || json_array_size(v) != 8)
        return false;
    for (size_t i = 0; i < 8; i++) {
        json_t *x = json_array_get(v, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 255)
            return false;
        out[i] = (uint8_t)json_integer_value(x);
    }
    return true;
}

static json_t *required_object(json_t *root, const char *key, char *errbuf, size_t errcap, sw_err *err)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        *err = fail(errbuf, errcap, "missing required key \"%s\"", key);
        return NULL;
    }
    if (!json_is_object(v)) {
        *err = fail(errbuf, errcap, "\"%s\" must be an object", key);
        return NULL;
    }
    return v;
}

static int node_cmp(const void *a, const void *b)
{
    const sw_tigo_node_record *x = a, *y = b;
    uint32_t kx = (uint32_t)x->gateway << 16 | x->node_id, ky = (uint32_t)y->gateway << 16 | y->node_id;
    return kx < ky ? -1 : kx > ky;
}

static sw_err load_node_table(sw_tigo_state *s, uint16_t gw, const char *key, json_t *arr, char *errbuf,
                              size_t errcap)
{
    if (!json_is_array(arr))
        return fail(errbuf, errcap, "gateway_node_tables.%s must be an array", key);
    const sw_tigo_gateway_record *g = sw_tigo_state_gateway(s, gw);
    if (g && g->has_node_table)
        return fail(errbuf, errcap, "gateway_node_tables: gateway %u appears twice", gw);
    /* Register the (so far empty) table; the node array is sorted here. */
    sw_err e = sw_tigo_state_set_node_table(s, gw, NULL, 0, NULL);
    if (e)
        return fail_as(e, errbuf, errcap, "gateway_node_tables: more than %d gateways", SW_TIGO_STATE_MAX_GATEWAYS);
    size_t n = json_array_size(arr);
    if (s->n_nodes + n > SW_TIGO_MAX_NODES)
        return fail_as(SW_ERR_TIGO_CAPACITY, errbuf, errcap, "gateway_node_tables: more than %d nodes in total",
                       SW_TIGO_MAX_NODES);
    /* Appended unsorted, then sorted before the next table is registered. */
    sw_tigo_node_record *run = s->nodes + s->n_nodes;
    for (size_t i = 0; i < n; i++) {
        json_t *ent = json_array_get(arr, i);
        if (!json_is_object(ent))
            return fail(errbuf, errcap, "gateway_node_tables.%s[%zu] must be an object", key, i);
        json_t *id = json_object_get(ent, "node_id");
        json_t *la = json_object_get(ent, "long_address");
        if (!id)
            return fail(errbuf, errcap, "gateway_node_tables.%s[%zu]: missing \"node_id\"", key, i);
        if (!la)
            return fail(errbuf, errcap, "gateway_node_tables.%s[%zu]: missing \"long_address\"", key, i);
        if (!json_is_integer(id) || json_integer_value(id) < 1 || json_integer_value(id) > 65535)
            return fail(errbuf, errcap, "gateway_node_tables.%s[%zu].node_id must be an integer 1..65535",
                        key, i);
        uint16_t nid = (uint16_t)json_integer_value(id);
        for (size_t k = 0; k < i; k++)
            if (run[k].node_id == nid)
                return fail(errbuf, errcap, "gateway_node_tables.%s: node_id %u appears twice", key, nid);
        run[i].gateway = gw;
        run[i].node_id = nid;
        if (!parse_address(la, run[i].address))
            return fail(errbuf, errcap,
                        "gateway_node_tables.%s[%zu].long_address must be an array of 8 integers 0..255",
                        key, i);
    }
    s->n_nodes += (uint32_t)n;
    qsort(s->nodes, s->n_nodes, sizeof s->nodes[0], node_cmp);
    return SW_OK;
}

static sw_err load_identity(sw_tigo_state *s, uint16_t gw, const char *key, json_t *v, char *errbuf, size_t errcap)
{
    uint8_t a[8];
    if (!parse_address(v, a))
        return fail(errbuf, errcap, "gateway_identities.%s must be an array of 8 integers 0..255", key);
    sw_err e = sw_tigo_state_set_identity(s, gw, a, NULL);
    if (e)
        return fail_as(e, errbuf, errcap, "gateway_identities.%s: more than %d gateways", key,
                       SW_TIGO_STATE_MAX_GATEWAYS);
    return SW_OK;
}

static sw_err load_version(sw_tigo_state *s, uint16_t gw, const char *key, json_t *v, char *errbuf, size_t errcap)
{
    if (!json_is_string(v))
        return fail(errbuf, errcap, "gateway_versions.%s must be a string", key);
    size_t n = json_string_length(v);
    if (n > SW_TIGO_VERSION_MAX)
        return fail_as(SW_ERR_TIGO_CAPACITY, errbuf, errcap, "gateway_versions.%s: longer than %d bytes", key,
                       SW_TIGO_VERSION_MAX);
    sw_err e = sw_tigo_state_set_version(s, gw, json_string_value(v), n, NULL);
    if (e)
        return fail_as(e, errbuf, errcap, "gateway_versions.%s: more than %d gateways", key,
                       SW_TIGO_STATE_MAX_GATEWAYS);
    return SW_OK;
}

/* Every gateway of one map, by its map's reader. */
static sw_err load_map(sw_tigo_state *s, const struct gateway_map *map, json_t *obj, char *errbuf, size_t errcap)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        uint16_t gw;
        if (!parse_gateway_key(key, &gw))
            return fail(errbuf, errcap, "%s: key \"%s\" is not a gateway ID (0..32767)", map->key, key);
        sw_err e = map->load_value(s, gw, key, v, errbuf, errcap);
        if (e != SW_OK)
            return e;
    }
    return SW_OK;
}

sw_err sw_tigo_state_parse(sw_tigo_state *s, const char *text, size_t len, char *errbuf, size_t errcap)
{
    sw_tigo_state_init(s);
    if (errbuf && errcap)
        errbuf[0] = '\0';
    if (!text)
        return fail_as(SW_ERR_INVALID_ARGUMENT, errbuf, errcap, "no document text");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return fail_as(SW_ERR_BAD_JSON, errbuf, errcap, "malformed JSON at line %d column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    sw_err e = SW_OK;
    json_t *maps[GATEWAY_MAP_COUNT];
    if (!json_is_object(root)) {
        e = fail(errbuf, errcap, "the document must be a JSON object");
        goto out;
    }
    /* All three keys must be there before any is read. */
    for (size_t m = 0; m < GATEWAY_MAP_COUNT; m++)
        if (!(maps[m] = required_object(root, gateway_maps[m].key, errbuf, errcap, &e)))
            goto out;
    for (size_t m = 0; m < GATEWAY_MAP_COUNT && e == SW_OK; m++)
        e = load_map(s, &gateway_maps[m], maps[m], errbuf, errcap);
out:
    json_decref(root);
    if (e)
        sw_tigo_state_init(s);
    return e;
}

/* ---- temporary path ------------------------------------------------------------ */

sw_err sw_tigo_state_tmp_path(const char *path, char *out, size_t cap)
{
    size_t n = path ? strlen(path) : 0;
    if (n == 0 || path[n - 1] == '/')
        return SW_ERR_INVALID_ARGUMENT;
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t name_len = n - (size_t)(name - path);
    /* Like Rust's Path::with_extension: a leading dot does not start an
     * extension, and "." / ".." have none. */
    const char *dot = NULL;
    if (!(name_len == 1 && name[0] == '.') && !(name_len == 2 && name[0] == '.' && name[1] == '.')) {
        const char *d = strrchr(name, '.');
        if (d && d != name)
            dot = d;
    }
    size_t stem = dot ? (size_t)(dot - path) : n;
    bool own = dot && strcmp(dot, ".tmp") == 0;
    size_t need = own ? n + 4 : stem + 4;
    if (need + 1 > cap)
        return SW_ERR_NO_SPACE;
    if (own) {
        memcpy(out, path, n);
        memcpy(out + n, ".tmp", 5);
    } else {
        memcpy(out, path, stem);
        memcpy(out + stem, ".tmp", 5);
    }
    return SW_OK;
}
