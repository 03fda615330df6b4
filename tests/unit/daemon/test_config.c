/*
 * Unit tests for the daemon's configuration: every section and key of a full
 * file, the shipped example, flags-style keys, and every kind of error with
 * the file name and line it must name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "sunwire/rct_registry.h"
#include "sunwire_config.h"
#include "testutil.h"

static sw_daemon_config *cfg_new(void)
{
    sw_daemon_config *c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(sw_daemon_config_init(c), SW_OK);
    return c;
}

static void cfg_free(sw_daemon_config *c)
{
    sw_daemon_config_free(c);
    free(c);
}

static const char full[] =
    "; a complete configuration\n"                     /* 1 */
    "[general]\n"                                       /* 2 */
    "state_dir = /var/lib/sunwire\n"                    /* 3 */
    "stale_timeout = 15m\n"                             /* 4 */
    "night = zero\n"                                    /* 5 */
    "energy_gap = 120\n"                                /* 6 */
    "timezone = -05:30\n"                               /* 7 */
    "save_interval = 1m\n"                              /* 8 */
    "tick = 500ms\n"                                    /* 9 */
    "\n"                                                /* 10 */
    "[tigo roof]\n"                                     /* 11 */
    "tcp = 192.0.2.10:5020\n"                           /* 12 */
    "reconnect_delay = 250ms\n"                         /* 13 */
    "reconnect_max = 2m\n"                              /* 14 */
    "reconnect_timeout = 90\n"                          /* 15 */
    "keepalive_idle = 20\n"                             /* 16 */
    "keepalive_interval = 4\n"                          /* 17 */
    "keepalive_count = 3\n"                             /* 18 */
    "\n"                                                /* 19 */
    "[tigo garage]\n"                                   /* 20 */
    "serial = /dev/ttyUSB0\n"                           /* 21 */
    "\n"                                                /* 22 */
    "[rct house]\n"                                     /* 23 */
    "host = 192.0.2.20\n"                               /* 24 */
    "port = 8898\n"                                     /* 25 */
    "fast_interval = 3s\n"                              /* 26 */
    "slow_interval = 5m\n"                              /* 27 */
    "timeout = 1500ms\n"                                /* 28 */
    "retries = 4\n"                                     /* 29 */
    "objects = battery.soh, 0x5F33284E\n"               /* 30 */
    "slow_objects = energy.e_ac_year\n"                 /* 31 */
    "defaults = no\n"                                   /* 32 */
    "\n"                                                /* 33 */
    "[panels]\n"                                        /* 34 */
    "modules = A:east1:4-A2346FZ, A:east2:4-A23471V\n"  /* 35 */
    "modules = B:west1:4-B00001X, :loose:4-C00002Y\n"   /* 36 */
    "\n"                                                /* 37 */
    "[mqtt]\n"                                          /* 38 */
    "host = 127.0.0.1\n"                                /* 39 */
    "[prometheus]\n"                                    /* 40 */
    "[influx]\n"                                        /* 41 */
    "output = stdout\n"                                 /* 42 */
    "[history]\n"                                       /* 43 */
    "path = history.db\n"                               /* 44 */
    "[http]\n"                                          /* 45 */
    "port = 8081\n";                                    /* 46 */

static void test_full(void **state)
{
    (void)state;
    sw_daemon_config *c = cfg_new();
    char err[512] = "";
    sw_err e = sw_daemon_config_load_string(c, "full.ini", full, err, sizeof err);
    if (!SUNWIRE_HAVE_INIH) {
        assert_int_equal(e, SW_ERR_UNSUPPORTED);
        cfg_free(c);
        return;
    }
    if (e != SW_OK)
        print_error("%s\n", err);
    assert_int_equal(e, SW_OK);
    assert_int_equal(sw_daemon_config_check(c, err, sizeof err), SW_OK);

    assert_string_equal(c->state_dir, "/var/lib/sunwire");
    assert_int_equal(c->stale_timeout_s, 900);
    assert_int_equal(c->night_mode, SW_NIGHT_ZERO);
    assert_int_equal(c->energy_gap_s, 120);
    assert_int_equal(c->tz, SW_DAEMON_TZ_FIXED);
    assert_int_equal(c->tz_offset_s, -(5 * 3600 + 30 * 60));
    assert_int_equal(c->save_interval_ms, 60000);
    assert_int_equal(c->tick_ms, 500);

    assert_int_equal(c->n_tigo, 2);
    const sw_daemon_tigo *t = &c->tigo[0];
    assert_string_equal(t->name, "roof");
    assert_false(t->serial);
    assert_string_equal(t->host, "192.0.2.10");
    assert_int_equal(t->port, 5020);
    assert_int_equal(t->reconnect_delay_ms, 250);
    assert_int_equal(t->reconnect_max_ms, 120000);
    assert_int_equal(t->idle_timeout_s, 90);
    assert_int_equal(t->keepalive_idle_s, 20);
    assert_int_equal(t->keepalive_interval_s, 4);
    assert_int_equal(t->keepalive_count, 3);
    assert_int_equal(t->line, 11);
    t = &c->tigo[1];
    assert_string_equal(t->name, "garage");
    assert_true(t->serial);
    assert_string_equal(t->device, "/dev/ttyUSB0");
    assert_int_equal(t->port, 502); /* default untouched */

    assert_int_equal(c->n_rct, 1);
    const sw_daemon_rct *r = &c->rct[0];
    assert_string_equal(r->name, "house");
    assert_string_equal(r->host, "192.0.2.20");
    assert_int_equal(r->port, 8898);
    assert_int_equal(r->fast_ms, 3000);
    assert_int_equal(r->slow_ms, 300000);
    assert_int_equal(r->timeout_ms, 1500);
    assert_int_equal(r->retries, 4);
    assert_false(r->defaults);
    assert_int_equal(r->n_extra, 2);
    assert_int_equal(r->extra[0], sw_rct_registry_find_name("battery.soh")->id);
    assert_int_equal(r->extra[1], 0x5F33284Eu);
    assert_int_equal(r->n_extra_slow, 1);
    assert_int_equal(r->extra_slow[0], sw_rct_registry_find_name("energy.e_ac_year")->id);

    assert_int_equal(c->n_panels, 4);
    assert_string_equal(c->panels[0].string_name, "A");
    assert_string_equal(c->panels[0].name, "east1");
    assert_string_equal(c->panels[0].barcode, "4-A2346FZ");
    assert_string_equal(c->panels[2].string_name, "B");
    assert_string_equal(c->panels[3].string_name, "");
    assert_string_equal(c->panels[3].name, "loose");
    assert_int_equal(c->panels_line, 34);

    unsigned all = SW_DAEMON_OUT_MQTT | SW_DAEMON_OUT_PROMETHEUS | SW_DAEMON_OUT_INFLUX | SW_DAEMON_OUT_HISTORY |
                   SW_DAEMON_OUT_HTTP;
    assert_int_equal(c->outputs, all); /* [prometheus] has no keys and still counts */
    assert_int_equal(c->n_output_keys, 4);
    assert_string_equal(c->output_keys[0].section, "mqtt");
    assert_string_equal(c->output_keys[0].key, "host");
    assert_int_equal(c->output_keys[0].line, 39);
    assert_string_equal(c->output_keys[3].section, "http");
    assert_int_equal(c->output_keys[3].line, 46);
    /* Every output accepts its keys. */
    err[0] = 0;
    e = sw_daemon_outputs_check(c, err, sizeof err);
    if (e != SW_OK)
        print_error("%s\n", err);
    assert_int_equal(e, SW_OK);
    cfg_free(c);
}

/* The example shipped in data/ must load and pass every check. */
static void test_shipped_example(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    const char *src = getenv("SW_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/data/sunwire.example.ini", src);
    sw_daemon_config *c = cfg_new();
    char err[512] = "";
    sw_err e = sw_daemon_config_load(c, path, err, sizeof err);
    if (e == SW_OK)
        e = sw_daemon_config_check(c, err, sizeof err);
    if (e == SW_OK)
        e = sw_daemon_outputs_check(c, err, sizeof err);
    if (e != SW_OK)
        print_error("%s\n", err);
    assert_int_equal(e, SW_OK);
    assert_true(c->n_tigo >= 1);
    assert_true(c->n_rct >= 1);
    assert_true(c->n_panels >= 1);
    cfg_free(c);
}

/* Each bad file names itself, the line, and the problem. */
typedef struct bad_case {
    const char *text;
    int line;           /* 0: no line (a check across sections) */
    const char *needle; /* part of the explanation */
    bool after_check;   /* found by sw_daemon_config_check, not while reading */
    bool outputs;       /* found by sw_daemon_outputs_check */
} bad_case;

static const bad_case bad[] = {
    {"[general]\nstale_timeout = soon\n", 2, "stale_timeout", false, false},
    {"[general]\n\nnight = dark\n", 3, "zero or unavailable", false, false},
    {"[general]\ntimezone = Mars/Olympus\n", 2, "timezone", false, false},
    {"[general]\nenergy_gap = -5\n", 2, "energy_gap", false, false},
    {"[general]\ncolour = blue\n", 2, "unknown key \"colour\"", false, false},
    {"state_dir = x\n", 1, "outside any section", false, false},
    {"[tigo roof]\ntcp = \n", 2, "tcp", false, false},
    {"[tigo roof]\ntcp = h:99999\n", 2, "HOST or HOST:PORT", false, false},
    {"[tigo roof]\ntcp = h:0\n", 2, "HOST or HOST:PORT", false, false},
    {"[rct house]\nhost = h:0\n", 2, "HOST or HOST:PORT", false, false},
    /* control: only known controls, within their limits, an allow list when on, keep only what is allowed */
    {"[rct house]\nhost = h\ncontrol = maybe\n", 3, "expected on or off", false, false},
    {"[rct house]\nhost = h\ncontrol_allow = battery.soc\n", 3, "not an object sunwire can control", false, false},
    {"[rct house]\nhost = h\ncontrol_allow = com_service\n", 3, "not an object sunwire can control", false, false},
    {"[rct house]\nhost = h\ncontrol_keep = power_mng.soc_min\n", 3, "expected OBJECT=VALUE", false, false},
    {"[rct house]\nhost = h\ncontrol_keep = power_mng.soc_min=0.01\n", 3, "documented limits", false, false},
    {"[rct house]\nhost = h\ncontrol_keep = power_mng.soc_min=lots\n", 3, "not a valid number", false, false},
    {"[rct house]\nhost = h\ncontrol_rate = 10ms\n", 3, "control_rate", false, false},
    {"[rct house]\nhost = h\ncontrol_retries = 9\n", 3, "control_retries", false, false},
    {"[rct house]\nhost = h\ncontrol_flash_per_day = 0\n", 3, "control_flash_per_day", false, false},
    {"[rct house]\nhost = h\ncontrol = on\n", 1, "allows nothing", true, false},
    {"[rct house]\nhost = h\ncontrol = on\ncontrol_allow = power_mng.soc_max\ncontrol_keep = power_mng.soc_min=0.3\n",
     1, "which control_allow does not list", true, false},
    /* plant members */
    {"[rct house]\nhost = h\naddresses = 0\n", 3, "not a plant address", false, false},
    {"[rct house]\nhost = h\naddresses = 2, x\n", 3, "not a plant address", false, false},
    {"[rct house]\nhost = h\naddresses = 2, 2\n", 3, "listed twice", false, false},
    {"[rct house]\nhost = h\naddresses = 2\n[rct house-2]\nhost = g\n", 1, "which another section uses", true,
     false},
    {"[rct house]\nhost = h\naddresses = 1 2 3 4 5 6 7 8 9\n", 3, "more than 8 plant members", false, false},
    {"[tigo roof]\nport = 0\n", 2, "port", false, false},
    {"[tigo roof]\ntcp = h\nkeepalive_count = lots\n", 3, "keepalive_count", false, false},
    {"[tigo roof]\nbaud = 9600\n", 2, "unknown key \"baud\"", false, false},
    {"[rct house]\nhost = h\nobjects = battery.soc, no.such.object\n", 3, "no.such.object", false, false},
    {"[rct house]\nhost = h\nretries = 99\n", 3, "retries", false, false},
    {"[rct house]\nhost = h\nfast_interval = 1ms\n", 3, "fast_interval", false, false},
    {"[rct house]\nhost = h\ndefaults = maybe\n", 3, "defaults", false, false},
    {"[panels]\nmodules = A:east1\n", 2, "STRING:NAME:BARCODE", false, false},
    {"[panels]\nmodules = A:e1:4-A2346FZ\nmodules = B:e2:4-A2346FZ\n", 3, "mapped twice", false, false},
    {"[panels]\nmodules = total:e1:4-A2346FZ\n", 2, "reserved", false, false},
    {"[panels]\nstrings = A\n", 2, "unknown key \"strings\"", false, false},
    {"[general]\n\n[solar]\n", 3, "unknown section [solar]", false, false},
    {"[general]\n[tigo ../../etc]\ntcp = h\n", 2, "source name", false, false},
    {"[rct my house]\nhost = h\n", 1, "source name \"my house\"", false, false},
    {"[general]\n[tigo roof\n", 2, "without ']'", false, false},
    {"[general]\nthis line has no equals sign\n", 2, "syntax error", false, false},
    {"[tigo roof]\nreconnect_delay = 250ms\n", 1, "needs serial = DEVICE or tcp = HOST", true, false},
    {"[general]\n[rct house]\nport = 1\n", 2, "needs host", true, false},
    {"[rct a]\nhost = h\n[tigo a]\ntcp = h\n", 1, "used by a [tigo] and an [rct]", true, false},
    {"[rct a]\nhost = h\ndefaults = off\n", 1, "polls nothing", true, false},
    {"[general]\nstate_dir = x\n", 0, "no source configured", true, false},
    {"[tigo a]\ntcp = h\n[influx]\nprecision = fortnights\n", 4, "[influx]", true, true},
    {"[tigo a]\ntcp = h\n[prometheus]\n\nport = http\n", 5, "[prometheus]", true, true},
    {"[tigo a]\ntcp = h\n[mqtt]\nflavour = strawberry\n", 4, "[mqtt]", true, true},
    /* setups that used to pass the check and then failed or half-worked at start */
    {"[tigo roof]\ntcp = h\nserial = /dev/ttyUSB0\n", 3, "remove one", false, false},
    {"[tigo roof]\nserial = /dev/ttyUSB0\ntcp = h\n", 3, "remove one", false, false},
    {"[tigo roof]\ntcp = h\n[tigo roof]\nport = 503\n", 3, "appears twice (first at line 1)", false, false},
    {"[rct house]\nhost = h\n\n[rct house]\n", 4, "appears twice", false, false},
    {"[tigo ]\ntcp = h\n", 1, "needs a name", false, false},
    {"[general]\n[tigo]\ntcp = h\n", 2, "needs a name", false, false},
    {"[rct]\nhost = h\n", 1, "needs a name", false, false},
    {"[tigo roof]\ntcp = h:502\nport = 503\n", 3, "give the port in one place", false, false},
    {"[tigo roof]\nport = 503\ntcp = h:502\n", 3, "give the port in one place", false, false},
    {"[rct house]\nhost = h:8899\nport = 1\n", 3, "give the port in one place", false, false},
    {"[tigo roof]\ntcp = ::1:502\n", 2, "needs brackets, e.g. tcp = [::1]:PORT", false, false},
    {"[rct house]\nhost = fe80::1\n", 2, "needs brackets", false, false},
    {"[tigo roof]\ntcp = [::1]:0\n", 2, "HOST or HOST:PORT", false, false},
    {"[tigo roof]\ntcp = h\nreconnect_delay = 5m\nreconnect_max = 1m\n", 1, "reconnect_delay (300000 ms)", true,
     false},
    {"[rct house]\nhost = h\nreconnect_delay = 10s\nreconnect_max = 2s\n", 1, "lower the delay", true, false},
    {"[tigo a]\ntcp = h\n[http]\nbind = 999.1.1.1\n", 4, "not an address this machine can listen on", true,
     false},
    {"[tigo a]\ntcp = h\n[prometheus]\nbind = -1\n", 4, "[prometheus] bind", true, false},
    {"[tigo a]\ntcp = h\n[http]\nbind = ::1::2\n", 4, "[http] bind", true, false},
    {"[tigo a]\ntcp = h\n[influx]\noutput = http\n", 4, "needs url = http://HOST:8086", true, false},
    {"[tigo a]\ntcp = h\n[influx]\nurl = http://127.0.0.1:8086\n", 4, "needs bucket", true, false},
    {"[tigo a]\ntcp = h\n[influx]\noutput = file\n", 4, "needs file = PATH", true, false},
    {"[tigo a]\ntcp = h\n[influx]\napi = v1\nurl = http://127.0.0.1:8086\nbucket = b\n", 5, "api = v1 needs db",
     true, false},
    {"[tigo a]\ntcp = h\n[history]\npath = /tmp\n", 4, "is a directory: name a file in it", true, false},
    {"[tigo a]\ntcp = h\n[history]\npath = /no-such-dir-sunwire/h.db\n", 4, "does not exist", true, false},
    {"[general]\nstate_dir = /dev/null\n[tigo a]\ntcp = h\n", 2, "is not a directory", true, false},
    /* names that would publish to one topic or announce one Home Assistant id */
    {"[panels]\nmodules = a b:e1:4-A2346FZ\nmodules = a+b:e2:4-A23471V\n", 3,
     "strings \"a b\" and \"a+b\" both become \"a_b\"", false, false},
    {"[panels]\nmodules = East:e1:4-A2346FZ, east:e2:4-A23471V\n", 2, "rename one", false, false},
    {"[panels]\nmodules = east-1:e1:4-A2346FZ\nmodules = east_1:e2:4-A23471V\n", 3, "both become \"east_1\"", false,
     false},
    {"[panels]\n\nmodules = Total:e1:4-A2346FZ\n", 3, "share its MQTT topic or Home Assistant ids with \"total\"",
     false, false},
    {"[panels]\nmodules = A:e1:4-A2346FZ\nmodules = A:e2:4-a2346fz\n", 3, "correct the one that is mistyped", false,
     false},
    {"[panels]\nmodules = A:e1:4-A2346FZ\nmodules = B:e1:4-A23471V\n", 3,
     "\"e1\" names two panels, 4-A2346FZ and 4-A23471V", false, false},
    {"[panels]\nmodules = A:4-A23471V:4-A2346FZ\nmodules = B::4-A23471V\n", 3, "names two panels", false, false},
    {"[tigo roof.a]\ntcp = h\n[tigo roof_a]\ntcp = h\n", 3,
     "source names \"roof.a\" and \"roof_a\" (the first at line 1) both become \"roof_a\"", true, false},
    {"[rct House]\nhost = h\n\n[rct house]\nhost = h\n", 4, "\"House\" and \"house\"", true, false},
    {"[tigo garage]\ntcp = h\n[rct Garage]\nhost = h\n", 3, "rename one", true, false},
    /* [health]: the peer detectors */
    {"[health]\nhot_delta = warm\n", 2, "hot_delta", false, false},
    {"[health]\n\nunderperforming_ratio = 1.5\n", 3, "underperforming_ratio", false, false},
    {"[health]\nstuck_reports = 1\n", 2, "stuck_reports", false, false},
    {"[health]\npeers = maybe\n", 2, "on or off", false, false},
    {"[health]\nsmoke = yes\n", 2, "unknown key \"smoke\" in [health]", false, false},
    {"[tigo a]\ntcp = h\n[health]\nunderperforming_ratio = 0.8\nunderperforming_clear_ratio = 0.7\n", 5,
     "underperforming_clear_ratio must be at least", true, false},
};

/* Near misses of the cases above that must stay accepted. */
static void test_good_edges(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    static const char *const good[] = {
        "[tigo roof]\ntcp = [::1]:502\n",
        "[tigo roof]\ntcp = h:503\nport = 503\n",
        "[tigo roof]\ntcp = h\nport = 503\n",
        "[tigo roof]\nport = 503\ntcp = h\n",
        "[rct house]\nhost = [fe80::1]\nport = 1\n",
        "[tigo roof]\ntcp = h\nreconnect_delay = 1m\nreconnect_max = 1m\n",
        "[tigo a]\ntcp = h\n[http]\nbind = ::1\n[prometheus]\nbind = 0.0.0.0\n",
        "[tigo a]\ntcp = h\n[http]\nbind = localhost\n",
        "[tigo a]\ntcp = h\n[influx]\noutput = http\nurl = http://127.0.0.1:8086\nbucket = b\n",
        "[tigo a]\ntcp = h\n[influx]\noutput = file\nfile = /tmp/x.lp\n",
        "[tigo a]\ntcp = h\n[influx]\napi = v1\nurl = http://127.0.0.1:8086\ndb = solar\n",
        "[tigo a]\ntcp = h\n[history]\npath = /tmp/sunwire-test-history.db\n",
        "[tigo a]\ntcp = h\n[history]\npath = history.db\n",
        "[general]\nstate_dir = /tmp\n[tigo a]\ntcp = h\n",
        "[general]\nstate_dir = /tmp/sunwire-not-yet-created\n[tigo a]\ntcp = h\n",
        "[tigo a]\ntcp = h\n[tigo b]\nserial = /dev/ttyUSB0\n",
        /* names that only look alike stay apart in topics and ids */
        "[tigo a]\ntcp = h\n[panels]\nmodules = ab:e1:4-A2346FZ, a_b:e2:4-A23471V, A:e3:4-B00001X, A:e4:4-B00002Y\n",
        "[tigo roof-1]\ntcp = h\n[tigo roof-2]\ntcp = h\n[rct roof]\nhost = h\n",
        "[tigo a]\ntcp = h\n[panels]\nmodules = totals:e1:4-A2346FZ\nmodules = :e2:4-A23471V\nmodules = ::4-B00001X\n",
        "[rct house]\nhost = h\ncontrol = on\ncontrol_allow = power_mng.soc_min p_rec_lim[1]\n"
        "control_allow = power_mng.soc_min\ncontrol_keep = power_mng.soc_min=0.05\ncontrol_rate = 1s\n"
        "control_retries = 0\ncontrol_flash_per_day = 1440\naddresses = 2, 0x3\n",
        /* allowed but off: nothing is written, nothing to refuse */
        "[rct house]\nhost = h\ncontrol_allow = power_mng.soc_max\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sw_daemon_config *c = cfg_new();
        char err[512] = "";
        sw_err e = sw_daemon_config_load_string(c, "good.ini", good[i], err, sizeof err);
        if (e == SW_OK)
            e = sw_daemon_config_check(c, err, sizeof err);
        if (e != SW_OK)
            print_error("good case %zu refused: %s\n", i, err);
        assert_int_equal(e, SW_OK);
        cfg_free(c);
    }
}

/* The control keys and plant addresses as the poller gets them. */
static void test_control_keys(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    sw_daemon_config *c = cfg_new();
    char err[512] = "";
    assert_int_equal(sw_daemon_config_load_string(c, "c.ini",
                                                  "[rct house]\nhost = h\n"
                                                  "control = on\ncontrol_allow = power_mng.soc_min, p_rec_lim[1]\n"
                                                  "control_allow = power_mng.soc_min\n"
                                                  "control_keep = power_mng.soc_min=0.3\n"
                                                  "control_keep = power_mng.soc_min=0.25\n"
                                                  "control_rate = 30s\ncontrol_retries = 3\n"
                                                  "addresses = 2 7\n",
                                                  err, sizeof err),
                     SW_OK);
    assert_int_equal(sw_daemon_config_check(c, err, sizeof err), SW_OK);
    const sw_daemon_rct *r = &c->rct[0];
    assert_true(r->control);
    assert_int_equal(r->n_allow, 2); /* listed twice, allowed once */
    assert_string_equal(r->allow[0], "power_mng.soc_min");
    assert_string_equal(r->allow[1], "p_rec_lim[1]");
    assert_int_equal(r->n_keep, 1); /* the later value wins */
    assert_true(r->keep[0].value == 0.25);
    assert_int_equal(r->control_rate_ms, 30000);
    assert_int_equal(r->control_retries, 3);
    assert_int_equal(r->control_flash_per_day, 24);
    assert_int_equal(r->n_addresses, 2);
    assert_int_equal(r->addresses[0], 2);
    assert_int_equal(r->addresses[1], 7);
    cfg_free(c);
    /* Off by default. */
    c = cfg_new();
    assert_int_equal(sw_daemon_config_load_string(c, "c.ini", "[rct house]\nhost = h\n", err, sizeof err), SW_OK);
    assert_false(c->rct[0].control);
    assert_int_equal(c->rct[0].n_allow, 0);
    assert_int_equal(c->rct[0].control_rate_ms, 60000);
    cfg_free(c);
}

/* The proxy keys of an [rct] section: parsed values, and refusals with their line. */
static void test_proxy_keys(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    sw_daemon_config *c = cfg_new();
    char err[512] = "";
    assert_int_equal(sw_daemon_config_load_string(c, "p.ini",
                                                  "[rct house]\nhost = h\nproxy = 0.0.0.0:18899\n"
                                                  "proxy_allow_write = 192.0.2.7, ::ffff:192.0.2.8\n"
                                                  "proxy_allow_write = ::1\nproxy_cache = 5s\n"
                                                  "proxy_cache_objects = battery.soc=10s g_sync.p_ac_grid_sum_lp=0\n"
                                                  "[rct garage]\nhost = g\n",
                                                  err, sizeof err),
                     SW_OK);
    const sw_daemon_rct *r = &c->rct[0];
    assert_true(r->proxy);
    assert_string_equal(r->proxy_host, "0.0.0.0");
    assert_int_equal(r->proxy_cfg.listen_port, 18899);
    assert_int_equal(r->proxy_cfg.n_allow_write, 3);
    assert_string_equal(r->proxy_cfg.allow_write[0], "192.0.2.7");
    assert_string_equal(r->proxy_cfg.allow_write[1], "192.0.2.8"); /* IPv4-mapped, as the proxy compares */
    assert_string_equal(r->proxy_cfg.allow_write[2], "::1");
    assert_int_equal(r->proxy_cfg.cache_ms, 5000);
    assert_int_equal(r->proxy_cfg.n_cache_overrides, 2);
    assert_int_equal(r->proxy_cfg.cache_overrides[0].id, 0x959930BFu);
    assert_int_equal(r->proxy_cfg.cache_overrides[0].ms, 10000);
    assert_int_equal(r->proxy_cfg.cache_overrides[1].ms, 0);
    /* without proxy =: no proxy, and its defaults */
    assert_false(c->rct[1].proxy);
    assert_int_equal(c->rct[1].proxy_cfg.cache_ms, 3000);
    assert_int_equal(c->rct[1].proxy_cfg.n_allow_write, 0);
    cfg_free(c);

    static const struct {
        const char *text;
        const char *needle;
    } bad_proxy[] = {
        { "[rct house]\nhost = h\nproxy = inverter.lan:8899\n", "numeric address" },
        { "[rct house]\nhost = h\nproxy = 127.0.0.1:99999\n", "ADDRESS:PORT" },
        { "[rct house]\nhost = h\nproxy_allow_write = 192.0.2.7, phone.lan\n", "\"phone.lan\" is not a numeric IP" },
        { "[rct house]\nhost = h\nproxy_cache = soon\n", "proxy_cache" },
        { "[rct house]\nhost = h\nproxy_cache_objects = battery.soc\n", "NAME=DURATION" },
        { "[rct house]\nhost = h\nproxy_cache_objects = no.such=1s\n", "no.such" },
        { "[rct house]\nhost = h\nproxy_port = 1\n", "unknown key \"proxy_port\"" },
    };
    for (size_t i = 0; i < sizeof bad_proxy / sizeof bad_proxy[0]; i++) {
        c = cfg_new();
        err[0] = 0;
        sw_err e = sw_daemon_config_load_string(c, "p.ini", bad_proxy[i].text, err, sizeof err);
        if (e == SW_OK || strncmp(err, "p.ini:3: ", 9) != 0 || !strstr(err, bad_proxy[i].needle))
            print_error("proxy case %zu: %s: \"%s\"\n", i, sw_err_name(e), err);
        assert_int_not_equal(e, SW_OK);
        assert_true(strncmp(err, "p.ini:3: ", 9) == 0);
        assert_non_null(strstr(err, bad_proxy[i].needle));
        cfg_free(c);
    }
}

static void test_errors(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const bad_case *b = &bad[i];
        sw_daemon_config *c = cfg_new();
        char err[512] = "";
        sw_err e = sw_daemon_config_load_string(c, "bad.ini", b->text, err, sizeof err);
        if (b->after_check) {
            if (e != SW_OK)
                print_error("case %zu: %s\n", i, err);
            assert_int_equal(e, SW_OK);
            e = sw_daemon_config_check(c, err, sizeof err);
            if (b->outputs) {
                assert_int_equal(e, SW_OK);
                e = sw_daemon_outputs_check(c, err, sizeof err);
            }
        }
        if (e == SW_OK)
            print_error("case %zu was accepted: %s", i, b->text);
        assert_int_not_equal(e, SW_OK);
        char want[64];
        if (b->line > 0)
            snprintf(want, sizeof want, "bad.ini:%d: ", b->line);
        else
            snprintf(want, sizeof want, "bad.ini: ");
        if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, b->needle))
            print_error("case %zu: message \"%s\", want prefix \"%s\" and \"%s\"\n", i, err, want, b->needle);
        assert_true(strncmp(err, want, strlen(want)) == 0);
        assert_non_null(strstr(err, b->needle));
        cfg_free(c);
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    sw_daemon_config *c = cfg_new();
    char err[512] = "";
    assert_int_equal(sw_daemon_config_load(c, "no/such/dir/sunwire.ini", err, sizeof err), SW_ERR_OPEN);
    assert_non_null(strstr(err, "no/such/dir/sunwire.ini"));
    /* a directory opens and reads as empty: it must be refused, not taken as an empty file */
    err[0] = 0;
    assert_int_equal(sw_daemon_config_load(c, ".", err, sizeof err), SW_ERR_OPEN);
    assert_non_null(strstr(err, "is a directory"));
    cfg_free(c);
}

/* What the command-line flags feed in: keys with line 0 name the command line. */
static void test_flag_keys(void **state)
{
    (void)state;
    sw_daemon_config *c = cfg_new();
    char err[512] = "";
    assert_int_equal(sw_daemon_config_set(c, "tigo tigo", "tcp", "[::1]:1502", 0, err, sizeof err), SW_OK);
    assert_string_equal(c->tigo[0].host, "::1");
    assert_int_equal(c->tigo[0].port, 1502);
    assert_int_equal(sw_daemon_config_set(c, "rct rct", "host", "inverter.lan", 0, err, sizeof err), SW_OK);
    assert_int_equal(c->rct[0].port, 8899);
    assert_int_equal(sw_daemon_config_set(c, "general", "night", "noon", 0, err, sizeof err),
                     SW_ERR_INVALID_ARGUMENT);
    assert_true(strncmp(err, "command line: ", 14) == 0);
    cfg_free(c);
}

static void test_host_port(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        sw_err e;
        const char *host;
        uint16_t port;
    } cases[] = {
        {"192.0.2.1", SW_OK, "192.0.2.1", 77},   {"192.0.2.1:502", SW_OK, "192.0.2.1", 502},
        {"host.lan:1", SW_OK, "host.lan", 1},     {"8080", SW_OK, "", 8080},
        {"[fe80::1]:80", SW_OK, "fe80::1", 80},   {"fe80::1", SW_OK, "fe80::1", 77},
        {"h:0", SW_OK, "h", 0},                   {"h:65536", SW_ERR_OUT_OF_RANGE, NULL, 0},
        {"h:x", SW_ERR_OUT_OF_RANGE, NULL, 0},    {":80", SW_ERR_INVALID_ARGUMENT, NULL, 0},
        {"[::1", SW_ERR_INVALID_ARGUMENT, NULL, 0}, {"0", SW_OK, "", 0},
        {"65536", SW_ERR_OUT_OF_RANGE, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char host[64] = "unchanged";
        uint16_t port = 0;
        sw_err e = sw_parse_host_port(cases[i].text, host, sizeof host, &port, 77);
        assert_int_equal(e, cases[i].e);
        if (e == SW_OK) {
            assert_string_equal(host, cases[i].host);
            assert_int_equal(port, cases[i].port);
        }
    }
}

/* [health] keys of the bus detectors: defaults, every key, percentages, and what is refused. */
static void test_health_bus_keys(void **state)
{
    (void)state;
    if (!SUNWIRE_HAVE_INIH)
        skip();
    sw_daemon_config *c = cfg_new();
    char err[512] = "";
    assert_true(c->health_watchdog.controller_silent_ns == 60000000000LL);
    assert_true(c->health_radio.loss_raise == 0.2);
    assert_true(c->health_radio.window_ns == 900000000000LL);
#define HEALTH_INI(hold)                                                                                       \
    "[tigo roof]\ntcp = h\n[health]\ncontroller_silent = 90s\nnode_table_hold = 2h\n"                         \
    "firmware_changed_hold = " hold "\npv_off_clear = 5m\nnodes_missing_after = 3\nradio_loss_raise = 30%\n"     \
    "radio_loss_clear = 0.15\nradio_rssi_drop_raise = 25\nradio_rssi_drop_clear = 12\nradio_min_expected = 40\n"   \
    "radio_window = 5m\n"
    /* 3d is no duration the file knows: hours at most */
    assert_int_not_equal(sw_daemon_config_load_string(c, "h.ini", HEALTH_INI("3d"), err, sizeof err), SW_OK);
    assert_non_null(strstr(err, "h.ini:6: [health] firmware_changed_hold"));
    cfg_free(c);
    c = cfg_new();
    assert_int_equal(sw_daemon_config_load_string(c, "h.ini", HEALTH_INI("72h"), err, sizeof err), SW_OK);
    assert_int_equal(sw_daemon_config_check(c, err, sizeof err), SW_OK);
    const sw_health_watchdog_config *w = &c->health_watchdog;
    const sw_health_radio_config *r = &c->health_radio;
    assert_true(w->controller_silent_ns == 90000000000LL);
    assert_true(w->node_table_hold_ns == 7200000000000LL);
    assert_true(w->firmware_hold_ns == 72 * 3600000000000LL);
    assert_true(w->pv_off_clear_ns == 300000000000LL);
    assert_int_equal(w->nodes_missing_after, 3);
    assert_true(r->loss_raise == 0.3 && r->loss_clear == 0.15);
    assert_true(r->rssi_drop_raise == 25.0 && r->rssi_drop_clear == 12.0);
    assert_int_equal(r->min_expected, 40);
    assert_true(r->window_ns == 300000000000LL);
    cfg_free(c);

    static const struct {
        const char *text, *needle;
        bool after_check;
    } refused[] = {
        {"[health]\nradio_loss_raise = 1.5\n", "expected a fraction from 0 to 1", false},
        {"[health]\nradio_loss_raise = lots\n", "expected a fraction", false},
        {"[health]\ncontroller_silent = 0\n", "controller_silent = \"0\": expected a duration", false},
        {"[health]\nnodes_missing_after = 0\n", "expected a whole number from 1", false},
        {"[health]\nradio_window = 500ms\n", "radio_window = \"500ms\": expected a duration between 1000 ms and 86400 s",
         false},
        {"[health]\nradio_window = 25h\n", "expected a duration between 1000 ms and 86400 s", false},
        {"[health]\nno_such_key = 1\n", "unknown key \"no_such_key\" in [health]", false},
        {"[health]\nradio_loss_raise = 0.1\nradio_loss_clear = 0.2\n[tigo roof]\ntcp = h\n",
         "must not exceed radio_loss_raise", true},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        c = cfg_new();
        err[0] = 0;
        sw_err e = sw_daemon_config_load_string(c, "bad.ini", refused[i].text, err, sizeof err);
        if (refused[i].after_check) {
            assert_int_equal(e, SW_OK);
            e = sw_daemon_config_check(c, err, sizeof err);
        }
        if (e == SW_OK || !strstr(err, refused[i].needle))
            print_error("health case %zu: \"%s\"\n", i, err);
        assert_int_not_equal(e, SW_OK);
        assert_non_null(strstr(err, refused[i].needle));
        cfg_free(c);
    }
}

/* [health] keys reach the peer detectors' configuration; the rest keep their defaults. */
static void test_health_peers(void **state)
{
    (void)state;
    sw_daemon_config c;
    char err[256] = "";
    assert_int_equal(sw_daemon_config_init(&c), SW_OK);
    sw_peers_config def;
    sw_peers_config_default(&def);
    assert_memory_equal(&c.peers, &def, sizeof def);
    assert_false(c.peers_off);
    const char *text = "[tigo a]\ntcp = h\n[health]\npeer_floor = 35\nunderperforming_window = 45m\n"
                       "stuck_reports = 20\nhot_delta = 12.5\nhot_clear_delta = 8\nperformance_min_energy = 25\n";
    assert_int_equal(sw_daemon_config_load_string(&c, "t.conf", text, err, sizeof err), SW_OK);
    assert_int_equal(sw_daemon_config_check(&c, err, sizeof err), SW_OK);
    assert_true(c.peers.floor_w == 35.0);
    assert_true(c.peers.under_window_ns == 45LL * 60 * 1000000000);
    assert_int_equal(c.peers.stuck_reports, 20);
    assert_true(c.peers.hot_delta_c == 12.5 && c.peers.hot_clear_delta_c == 8.0);
    assert_true(c.peers.no_power_window_ns == def.no_power_window_ns);
    assert_true(c.performance_min_wh == 25.0);
    assert_int_equal(sw_daemon_config_load_string(&c, "t.conf", "[health]\npeers = off\n", err, sizeof err), SW_OK);
    assert_true(c.peers_off);
    sw_daemon_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_peers),
        cmocka_unit_test(test_full),         cmocka_unit_test(test_shipped_example),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_flag_keys),    cmocka_unit_test(test_host_port),
        cmocka_unit_test(test_good_edges),   cmocka_unit_test(test_control_keys),
        cmocka_unit_test(test_proxy_keys),
        cmocka_unit_test(test_health_bus_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
