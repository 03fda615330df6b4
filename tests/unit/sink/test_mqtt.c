/*
 * Unit tests for the MQTT output's pure parts: configuration keys, topic
 * names, state payloads (parsed back with jansson) and the outage queue.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/model.h"
#include "io/log.h"
#include "sink/sink_mqtt.h"
#include "sunwire_config.h"
#include "testutil.h"

/* ---- configuration ---------------------------------------------------------- */

static void test_config_defaults(void **state)
{
    (void)state;
    sw_mqtt_config c;
    sw_mqtt_config_defaults(&c);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 1883);
    assert_string_equal(c.base_topic, "sunwire");
    assert_string_equal(c.discovery_prefix, "homeassistant");
    assert_int_equal(c.discovery, SW_MQTT_DISCOVERY_DEVICE);
    assert_false(c.tls);
    assert_false(c.retain_state);
    assert_true(c.retain_discovery);
    assert_int_equal(c.qos, 1);
    assert_int_equal(c.queue_size, SW_MQTT_QUEUE_DEFAULT);
    assert_int_equal(c.keepalive_s, 60);
    assert_int_equal(c.resend_delay_ms, 5000);
    assert_string_equal(c.instance_id, "");
}

/* Each good row: key, value, then a check of the field it must set. */
static void test_config_set_good(void **state)
{
    (void)state;
    sw_mqtt_config c;
    char err[256];
    sw_mqtt_config_defaults(&c);
    static const char *const rows[][2] = {
        { "host", "broker.example" }, { "port", "1884" }, { "client_id", "roof-1" },
        { "username", "solar" }, { "password", "p@ss word" }, { "keepalive", "30" },
        { "base_topic", "home/solar" }, { "discovery_prefix", "ha" }, { "discovery", "entity" },
        { "retain", "yes" }, { "retain_discovery", "off" }, { "qos", "2" }, { "queue_size", "5" },
        { "reconnect_min", "0.5" }, { "reconnect_max", "30" }, { "connect_timeout", "2.5" },
        { "coalesce", "0" }, { "ha_status_topic", "ha/status" }, { "resend_delay", "0.75" },
        { "instance_id", "roof-2" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(sw_mqtt_config_set(&c, rows[i][0], rows[i][1], err, sizeof err), SW_OK);
    assert_string_equal(c.host, "broker.example");
    assert_int_equal(c.port, 1884);
    assert_string_equal(c.client_id, "roof-1");
    assert_string_equal(c.username, "solar");
    assert_string_equal(c.password, "p@ss word");
    assert_int_equal(c.keepalive_s, 30);
    assert_string_equal(c.base_topic, "home/solar");
    assert_string_equal(c.discovery_prefix, "ha");
    assert_int_equal(c.discovery, SW_MQTT_DISCOVERY_ENTITY);
    assert_true(c.retain_state);
    assert_false(c.retain_discovery);
    assert_int_equal(c.qos, 2);
    assert_int_equal(c.queue_size, 5);
    assert_int_equal(c.reconnect_min_ms, 500);
    assert_int_equal(c.reconnect_max_ms, 30000);
    assert_int_equal(c.connect_timeout_ms, 2500);
    assert_int_equal(c.coalesce_ms, 0);
    assert_string_equal(c.ha_status_topic, "ha/status");
    assert_int_equal(c.resend_delay_ms, 750);
    assert_string_equal(c.instance_id, "roof-2");
    /* An explicit port survives TLS being switched on. */
    assert_int_equal(sw_mqtt_config_set(&c, "tls", "true", err, sizeof err), SW_OK);
    assert_true(c.tls);
    assert_int_equal(c.port, 1884);
}

static void test_config_tls_port(void **state)
{
    (void)state;
    sw_mqtt_config c;
    char err[256];
    sw_mqtt_config_defaults(&c);
    assert_int_equal(sw_mqtt_config_set(&c, "tls_ca_file", "ca.pem", err, sizeof err), SW_OK);
    assert_true(c.tls);
    assert_int_equal(c.port, 8883);
    assert_string_equal(c.tls_ca_file, "ca.pem");
    assert_int_equal(sw_mqtt_config_set(&c, "tls_insecure", "1", err, sizeof err), SW_OK);
    assert_true(c.tls_insecure);
    assert_int_equal(sw_mqtt_config_set(&c, "tls", "off", err, sizeof err), SW_OK);
    assert_false(c.tls);
    assert_int_equal(c.port, 1883);
}

static void test_config_set_bad(void **state)
{
    (void)state;
    static const struct { const char *key, *value, *must_mention; sw_err code; } rows[] = {
        { "port", "0", "port", SW_ERR_INVALID_ARGUMENT },
        { "port", "65536", "65536", SW_ERR_INVALID_ARGUMENT },
        { "port", "18x3", "18x3", SW_ERR_INVALID_ARGUMENT },
        { "qos", "3", "qos", SW_ERR_INVALID_ARGUMENT },
        { "keepalive", "2", "keepalive", SW_ERR_INVALID_ARGUMENT },
        { "retain", "maybe", "maybe", SW_ERR_INVALID_ARGUMENT },
        { "discovery", "per-panel", "per-panel", SW_ERR_INVALID_ARGUMENT },
        { "base_topic", "solar/#", "base_topic", SW_ERR_INVALID_ARGUMENT },
        { "base_topic", "/solar", "base_topic", SW_ERR_INVALID_ARGUMENT },
        { "base_topic", "", "base_topic", SW_ERR_INVALID_ARGUMENT },
        { "discovery_prefix", "ha/+", "discovery_prefix", SW_ERR_INVALID_ARGUMENT },
        { "base_topic", "solar\xff", "base_topic", SW_ERR_INVALID_ARGUMENT },
        { "client_id", "sun\xffwire", "client_id", SW_ERR_INVALID_ARGUMENT },
        { "username", "\xc3(", "username", SW_ERR_INVALID_ARGUMENT },
        { "queue_size", "0", "queue_size", SW_ERR_INVALID_ARGUMENT },
        { "reconnect_max", "-1", "reconnect_max", SW_ERR_INVALID_ARGUMENT },
        { "connect_timeout", "nan", "connect_timeout", SW_ERR_INVALID_ARGUMENT },
        { "resend_delay", "-1", "resend_delay", SW_ERR_INVALID_ARGUMENT },
        { "resend_delay", "601", "resend_delay", SW_ERR_INVALID_ARGUMENT },
        { "instance_id", "a b", "instance_id", SW_ERR_INVALID_ARGUMENT },
        { "host", "", "host", SW_ERR_INVALID_ARGUMENT },
        { "hostname", "x", "hostname", SW_ERR_NOT_FOUND },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sw_mqtt_config c, before;
        char err[256] = "";
        sw_mqtt_config_defaults(&c);
        memcpy(&before, &c, sizeof c);
        assert_int_equal(sw_mqtt_config_set(&c, rows[i].key, rows[i].value, err, sizeof err), rows[i].code);
        if (!strstr(err, rows[i].must_mention))
            fail_msg("error for %s=%s does not mention \"%s\": %s", rows[i].key, rows[i].value,
                     rows[i].must_mention, err);
        /* A rejected value leaves the configuration as it was. */
        assert_memory_equal(&c, &before, sizeof c);
    }
    /* Too long for the field. */
    sw_mqtt_config c;
    char err[256], big[SW_MQTT_TEXT_MAX + 10];
    memset(big, 'h', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sw_mqtt_config_defaults(&c);
    assert_int_equal(sw_mqtt_config_set(&c, "host", big, err, sizeof err), SW_ERR_INVALID_ARGUMENT);
    assert_string_equal(c.host, "127.0.0.1");
}

/* ---- names and topics ------------------------------------------------------- */

static void test_slug(void **state)
{
    (void)state;
    static const char *const rows[][2] = {
        { "A-1234567", "A-1234567" },
        { "battery.soc", "battery_soc" },
        { "South roof / east", "South_roof_east" },
        { "dc_conv.dc_conv_struct[0].p_dc_lp", "dc_conv_dc_conv_struct_0_p_dc_lp" },
        { "a+b#c", "a_b_c" },
        { "\xC3\xBC" "ber", "_ber" },
    };
    char out[64];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(sw_mqtt_slug(out, sizeof out, rows[i][0]), strlen(rows[i][1]));
        assert_string_equal(out, rows[i][1]);
    }
    assert_int_equal(sw_mqtt_slug(out, 4, "abcdef"), 0);
    assert_int_equal(sw_mqtt_value_key(out, sizeof out, "g_sync.p_ac[2]"), strlen("g_sync_p_ac_2"));
    assert_string_equal(out, "g_sync_p_ac_2");
}

static sw_panel sample_panel(void)
{
    sw_panel p;
    memset(&p, 0, sizeof p);
    snprintf(p.source, sizeof p.source, "roof");
    p.gateway_id = 4609;
    p.node_id = 23;
    snprintf(p.barcode, sizeof p.barcode, "4-C3F1A2B");
    snprintf(p.name, sizeof p.name, "South 3");
    snprintf(p.string_name, sizeof p.string_name, "south");
    p.mapped = true;
    p.online = true;
    p.last_seen_ns = 1700000000LL * 1000000000LL + 250000000LL;
    p.voltage_in = 35.5;
    p.voltage_out = 34.25;
    p.current_in = 8.5;
    p.power_w = 301.75;
    p.duty_cycle = 0.875;
    p.temperature_c = 41.5;
    p.rssi = 147;
    p.energy_total_wh = 123456.5;
    p.energy_today_wh = 850.25;
    return p;
}

static void test_topics(void **state)
{
    (void)state;
    sw_mqtt_config c;
    sw_mqtt_config_defaults(&c);
    char t[SW_MQTT_TOPIC_MAX];
    sw_panel p = sample_panel();

    assert_true(sw_mqtt_topic_status(t, sizeof t, &c) > 0);
    assert_string_equal(t, "sunwire/status");
    assert_true(sw_mqtt_topic_panel(t, sizeof t, &c, &p) > 0);
    assert_string_equal(t, "sunwire/panel/4-C3F1A2B/state");
    p.barcode[0] = '\0';
    assert_true(sw_mqtt_topic_panel(t, sizeof t, &c, &p) > 0);
    assert_string_equal(t, "sunwire/panel/roof_4609_23/state");
    assert_true(sw_mqtt_topic_gateway(t, sizeof t, &c, "roof", 4609) > 0);
    assert_string_equal(t, "sunwire/gateway/roof_4609/state");
    assert_true(sw_mqtt_topic_string(t, sizeof t, &c, "South roof") > 0);
    assert_string_equal(t, "sunwire/string/South_roof/state");
    assert_true(sw_mqtt_topic_string(t, sizeof t, &c, "total") > 0);
    assert_string_equal(t, "sunwire/string/total/state");
    assert_true(sw_mqtt_topic_inverter(t, sizeof t, &c, "garage") > 0);
    assert_string_equal(t, "sunwire/inverter/garage/state");

    char err[64];
    assert_int_equal(sw_mqtt_config_set(&c, "base_topic", "home/pv", err, sizeof err), SW_OK);
    assert_true(sw_mqtt_topic_status(t, sizeof t, &c) > 0);
    assert_string_equal(t, "home/pv/status");
    /* Too small a buffer gives 0 and an empty string, never a cut topic. */
    assert_int_equal(sw_mqtt_topic_status(t, 5, &c), 0);
    assert_string_equal(t, "");
}

/* ---- state payloads ---------------------------------------------------------- */

static json_t *parse(const char *buf, size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(buf, len, 0, &e);
    if (!j)
        fail_msg("payload is not JSON (%s): %.*s", e.text, (int)len, buf);
    assert_true(json_is_object(j));
    return j;
}

static void test_panel_state(void **state)
{
    (void)state;
    sw_panel p = sample_panel();
    char buf[1024];
    size_t len = 0;
    assert_int_equal(sw_mqtt_panel_state(buf, sizeof buf, &p, &len), SW_OK);
    assert_int_equal(len, strlen(buf));
    json_t *j = parse(buf, len);
    assert_string_equal(tu_str(j, "name"), "South 3");
    assert_string_equal(tu_str(j, "barcode"), "4-C3F1A2B");
    assert_string_equal(tu_str(j, "source"), "roof");
    assert_string_equal(tu_str(j, "string"), "south");
    assert_int_equal(tu_int(j, "gateway"), 4609);
    assert_int_equal(tu_int(j, "node"), 23);
    assert_true(json_is_true(tu_get(j, "online")));
    assert_true(tu_real(j, "power") == 301.75);
    assert_true(tu_real(j, "voltage_in") == 35.5);
    assert_true(tu_real(j, "voltage_out") == 34.25);
    assert_true(tu_real(j, "current_in") == 8.5);
    assert_true(tu_real(j, "duty_cycle") == 87.5);
    assert_true(tu_real(j, "temperature") == 41.5);
    assert_int_equal(tu_int(j, "rssi"), 147);
    assert_true(tu_real(j, "energy_today") == 850.25);
    assert_true(tu_real(j, "energy_total") == 123456.5);
    assert_string_equal(tu_str(j, "last_seen"), "2023-11-14T22:13:20.250Z");
    json_decref(j);

    /* Never reported: last_seen is null; offline panel says so. */
    p.last_seen_ns = 0;
    p.online = false;
    assert_int_equal(sw_mqtt_panel_state(buf, sizeof buf, &p, &len), SW_OK);
    j = parse(buf, len);
    assert_true(json_is_null(tu_get(j, "last_seen")));
    assert_true(json_is_false(tu_get(j, "online")));
    json_decref(j);

    /* Every buffer size short of the whole text fails cleanly. */
    assert_int_equal(sw_mqtt_panel_state(buf, sizeof buf, &p, &len), SW_OK);
    size_t full = len;
    for (size_t cap = 0; cap <= full; cap++)
        assert_int_equal(sw_mqtt_panel_state(buf, cap, &p, &len), SW_ERR_NO_SPACE);
    assert_int_equal(sw_mqtt_panel_state(buf, full + 1, &p, &len), SW_OK);
}

static void test_gateway_and_string_state(void **state)
{
    (void)state;
    sw_gateway g;
    memset(&g, 0, sizeof g);
    snprintf(g.source, sizeof g.source, "roof");
    g.gateway_id = 4609;
    snprintf(g.address, sizeof g.address, "04:C0:5B:30:00:02:BE:16");
    snprintf(g.barcode, sizeof g.barcode, "S-1234567");
    snprintf(g.version, sizeof g.version, "Mgate Version G8.59\r");
    char buf[1024];
    size_t len;
    assert_int_equal(sw_mqtt_gateway_state(buf, sizeof buf, &g, &len), SW_OK);
    json_t *j = parse(buf, len);
    assert_string_equal(tu_str(j, "source"), "roof");
    assert_int_equal(tu_int(j, "gateway"), 4609);
    assert_string_equal(tu_str(j, "address"), "04:C0:5B:30:00:02:BE:16");
    assert_string_equal(tu_str(j, "barcode"), "S-1234567");
    assert_string_equal(tu_str(j, "version"), "Mgate Version G8.59\r");
    json_decref(j);

    sw_string_agg s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "total");
    s.panels = 12;
    s.online = 11;
    s.power_sum_w = 3300.5;
    s.power_min_w = 250;
    s.power_max_w = 320.25;
    s.power_avg_w = 300.0454545;
    s.energy_today_wh = 9000;
    s.energy_total_wh = 1.5e6;
    assert_int_equal(sw_mqtt_string_state(buf, sizeof buf, &s, &len), SW_OK);
    j = parse(buf, len);
    assert_string_equal(tu_str(j, "name"), "total");
    assert_int_equal(tu_int(j, "panels"), 12);
    assert_int_equal(tu_int(j, "online"), 11);
    assert_true(tu_real(j, "power") == 3300.5);
    assert_true(tu_real(j, "power_min") == 250.0);
    assert_true(tu_real(j, "power_max") == 320.25);
    assert_true(tu_real(j, "power_avg") == 300.0454545);
    assert_true(tu_real(j, "energy_today") == 9000.0);
    assert_true(tu_real(j, "energy_total") == 1.5e6);
    json_decref(j);
}

static sw_inverter_value value(const char *inv, const char *name, const char *unit, bool is_number, double number,
                               const char *text)
{
    sw_inverter_value v;
    memset(&v, 0, sizeof v);
    snprintf(v.inverter, sizeof v.inverter, "%s", inv);
    snprintf(v.object_name, sizeof v.object_name, "%s", name);
    snprintf(v.unit, sizeof v.unit, "%s", unit);
    v.is_number = is_number;
    v.number = number;
    v.text = text;
    return v;
}

static void test_inverter_state(void **state)
{
    (void)state;
    sw_inverter inv;
    memset(&inv, 0, sizeof inv);
    snprintf(inv.name, sizeof inv.name, "garage");
    snprintf(inv.serial, sizeof inv.serial, "123456789012345");
    snprintf(inv.model, sizeof inv.model, "PS 6.0");
    inv.online = true;
    sw_inverter_value vals[] = {
        value("garage", "battery.soc", "%", true, 53.2, "53.2"),
        value("garage", "g_sync.p_ac_grid_sum_lp", "W", true, -1234.5, "-1234.5"),
        value("other", "battery.soc", "%", true, 99.0, "99.0"),
        value("garage", "prim_sm.state", "", false, 0, "Feed-in"),
        value("garage", "energy.e_ac_total", "Wh", true, 8.75e6, "8750000.0"),
    };
    const sw_inverter_value *ptrs[5];
    for (size_t i = 0; i < 5; i++)
        ptrs[i] = &vals[i];
    char buf[2048];
    size_t len;
    assert_int_equal(sw_mqtt_inverter_state(buf, sizeof buf, &inv, ptrs, 5, &len), SW_OK);
    json_t *j = parse(buf, len);
    assert_string_equal(tu_str(j, "name"), "garage");
    assert_string_equal(tu_str(j, "serial"), "123456789012345");
    assert_string_equal(tu_str(j, "model"), "PS 6.0");
    assert_true(json_is_true(tu_get(j, "online")));
    assert_true(json_is_null(tu_get(j, "last_poll")));
    /* The model's percent is passed on; the other inverter's value is not here. */
    assert_true(tu_real(j, "battery_soc") == 53.2);
    assert_true(tu_real(j, "g_sync_p_ac_grid_sum_lp") == -1234.5);
    assert_string_equal(tu_str(j, "prim_sm_state"), "Feed-in");
    assert_true(tu_real(j, "energy_e_ac_total") == 8.75e6);
    assert_int_equal(json_object_size(j), 6 + 4);
    json_decref(j);
}

/* ---- outage queue ------------------------------------------------------------- */

static void test_queue_bound_and_drops(void **state)
{
    (void)state;
    sw_mqtt_queue q;
    assert_int_equal(sw_mqtt_queue_init(&q, 0), SW_ERR_INVALID_ARGUMENT);
    assert_int_equal(sw_mqtt_queue_init(&q, 3), SW_OK);
    assert_null(sw_mqtt_queue_front(&q));
    char topic[32], payload[32];
    for (int i = 0; i < 10; i++) {
        snprintf(topic, sizeof topic, "t/%d", i);
        int n = snprintf(payload, sizeof payload, "{\"n\":%d}", i);
        assert_int_equal(sw_mqtt_queue_push(&q, topic, payload, (size_t)n, i % 2 == 0), SW_OK);
        assert_int_equal(q.count, i < 3 ? (size_t)i + 1 : 3);
        assert_int_equal(q.dropped, i < 3 ? 0 : (uint64_t)i - 2);
    }
    /* The three newest remain, oldest first, byte for byte. */
    for (int i = 7; i < 10; i++) {
        const sw_mqtt_msg *m = sw_mqtt_queue_front(&q);
        assert_non_null(m);
        snprintf(topic, sizeof topic, "t/%d", i);
        int n = snprintf(payload, sizeof payload, "{\"n\":%d}", i);
        assert_string_equal(m->topic, topic);
        assert_int_equal(m->len, (size_t)n);
        assert_memory_equal(m->payload, payload, (size_t)n);
        assert_int_equal(m->retain, i % 2 == 0);
        sw_mqtt_queue_pop(&q);
    }
    assert_null(sw_mqtt_queue_front(&q));
    assert_int_equal(q.dropped, 7);
    sw_mqtt_queue_pop(&q); /* popping empty is harmless */
    /* Payloads may hold NUL bytes and be empty. */
    assert_int_equal(sw_mqtt_queue_push(&q, "a", "x\0y", 3, false), SW_OK);
    assert_int_equal(sw_mqtt_queue_push(&q, "b", "", 0, false), SW_OK);
    assert_memory_equal(sw_mqtt_queue_front(&q)->payload, "x\0y", 3);
    sw_mqtt_queue_free(&q); /* frees what is still queued (ASan checks) */
}

static void push_n(sw_mqtt_queue *q, int first, int last, int mid_base)
{
    char topic[32];
    for (int i = first; i <= last; i++) {
        snprintf(topic, sizeof topic, "t/%d", i);
        assert_int_equal(sw_mqtt_queue_push(q, topic, topic, strlen(topic), false), SW_OK);
        assert_int_equal(sw_mqtt_queue_back(q)->mid, 0); /* a pushed message has no id yet */
        if (mid_base)
            sw_mqtt_queue_back(q)->mid = mid_base + i;
    }
}

/* The topics left in q, oldest first, as "a,b,c"; q is emptied. */
static void drain(sw_mqtt_queue *q, char *out, size_t cap)
{
    out[0] = '\0';
    for (const sw_mqtt_msg *m; (m = sw_mqtt_queue_front(q)) != NULL; sw_mqtt_queue_pop(q)) {
        assert_int_equal(m->mid, 0); /* an id belongs to the connection, not to the outage queue */
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? "," : "", m->topic);
    }
}

/* What the sink keeps for unacknowledged messages: taken out by id, put back in front of the queue. */
static void test_queue_acknowledged_and_requeued(void **state)
{
    (void)state;
    sw_mqtt_queue sent, q;
    char got[128];
    assert_int_equal(sw_mqtt_queue_init(&sent, 4), SW_OK);
    assert_int_equal(sw_mqtt_queue_init(&q, 4), SW_OK);
    assert_null(sw_mqtt_queue_back(&sent));
    /* Ids taken out at the front (in order, as a broker acknowledges), in the middle, at the back;
     * the ring has wrapped by then. */
    push_n(&sent, 1, 4, 100);
    assert_true(sw_mqtt_queue_remove_mid(&sent, 101));
    push_n(&sent, 5, 5, 100);
    assert_true(sw_mqtt_queue_remove_mid(&sent, 103));
    assert_true(sw_mqtt_queue_remove_mid(&sent, 105));
    assert_false(sw_mqtt_queue_remove_mid(&sent, 103)); /* already gone */
    assert_false(sw_mqtt_queue_remove_mid(&sent, 7));   /* never there (discovery is not kept) */
    assert_int_equal(sent.count, 2);
    /* The connection is lost: t/2 and t/4 go in front of what the outage queued since. */
    push_n(&q, 6, 7, 0);
    sw_mqtt_queue_prepend(&q, &sent);
    assert_int_equal(sent.count, 0);
    assert_null(sw_mqtt_queue_front(&sent));
    assert_int_equal(q.dropped, 0);
    drain(&q, got, sizeof got);
    assert_string_equal(got, "t/2,t/4,t/6,t/7");
    /* Messages t/a..t/b unacknowledged in front of t/c..t/d queued, into room for four. */
    static const struct {
        int a, b, c, d;
        const char *want;
        uint64_t dropped; /* the oldest go when they do not fit, and are counted */
    } cases[] = {
        { 1, 3, 4, 6, "t/3,t/4,t/5,t/6", 2 },
        { 1, 2, 3, 6, "t/3,t/4,t/5,t/6", 2 }, /* into a full queue nothing older fits */
        { 1, 4, 0, -1, "t/1,t/2,t/3,t/4", 0 }, /* into an empty one all of them */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t before = q.dropped;
        push_n(&sent, cases[i].a, cases[i].b, 10);
        push_n(&q, cases[i].c, cases[i].d, 0);
        sw_mqtt_queue_prepend(&q, &sent);
        assert_int_equal(q.dropped - before, cases[i].dropped);
        drain(&q, got, sizeof got);
        assert_string_equal(got, cases[i].want);
    }
    push_n(&sent, 1, 3, 10); /* freed with the queue (ASan checks) */
    sw_mqtt_queue_free(&sent);
    sw_mqtt_queue_free(&q);
}

/* ---- the sink without a broker ------------------------------------------------ */

/* A loopback port nobody listens on (bound, then released). */
static uint16_t dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t n = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_sink_queues_while_unreachable(void **state)
{
    (void)state;
    sw_log_set_level(SW_LOG_OFF); /* the refused connection is expected here */
    sw_loop *loop = sw_loop_new();
    sw_model *model = sw_model_new(NULL);
    assert_non_null(loop);
    assert_non_null(model);
    sw_mqtt_config c;
    char err[128], port[16];
    sw_mqtt_config_defaults(&c);
    snprintf(port, sizeof port, "%u", (unsigned)dead_port());
    assert_int_equal(sw_mqtt_config_set(&c, "port", port, err, sizeof err), SW_OK);
    assert_int_equal(sw_mqtt_config_set(&c, "queue_size", "3", err, sizeof err), SW_OK);
    assert_int_equal(sw_mqtt_config_set(&c, "reconnect_min", "60", err, sizeof err), SW_OK);
    sw_sink sink;
    sw_err e = sw_mqtt_start(loop, model, &c, &sink);
#if SUNWIRE_HAVE_MOSQUITTO
    assert_int_equal(e, SW_OK);
    assert_non_null(sink.ops->on_panel);
    /* Let the refused connect be noticed. */
    for (int i = 0; i < 20; i++)
        sw_loop_run_once(loop, 10);
    sw_mqtt_counters st;
    sw_mqtt_get_counters(&sink, &st);
    assert_false(st.connected);
    assert_int_equal(st.connects, 0);
    /* Five panel states into a queue of three: the two oldest are dropped. */
    for (uint16_t node = 1; node <= 5; node++) {
        sw_panel p = sample_panel();
        p.node_id = node;
        sink.ops->on_panel(sink.self, &p);
        sw_mqtt_get_counters(&sink, &st);
        assert_int_equal(st.queued, node < 3 ? node : 3);
        assert_int_equal(st.dropped, node <= 3 ? 0 : node - 3);
    }
    assert_int_equal(st.published, 0);
    /* Stats of something that is not an MQTT sink are zero. */
    sw_sink other = { NULL, NULL };
    sw_mqtt_get_counters(&other, &st);
    assert_int_equal(st.queued, 0);
    sink.ops->close(sink.self); /* frees the queue with messages in it (ASan checks) */

    /* A CA file that cannot be read is a configuration error at start. */
    assert_int_equal(sw_mqtt_config_set(&c, "tls_ca_file", "no/such/ca.crt", err, sizeof err), SW_OK);
    assert_int_equal(sw_mqtt_start(loop, model, &c, &sink), SW_ERR_INVALID_ARGUMENT);
#else
    assert_int_equal(e, SW_ERR_UNSUPPORTED);
#endif
    sw_model_free(model);
    sw_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_set_good),
        cmocka_unit_test(test_config_tls_port),
        cmocka_unit_test(test_config_set_bad),
        cmocka_unit_test(test_slug),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_panel_state),
        cmocka_unit_test(test_gateway_and_string_state),
        cmocka_unit_test(test_inverter_state),
        cmocka_unit_test(test_queue_bound_and_drops),
        cmocka_unit_test(test_queue_acknowledged_and_requeued),
        cmocka_unit_test(test_sink_queues_while_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
