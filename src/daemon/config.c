/*
 * config.c: the daemon's INI configuration (see daemon/daemon.h and
 * docs/config.md).
 *
 * libinih does the tokenising; this file only gives meaning to keys. inih as
 * Debian ships it does not pass line numbers to the handler, so the text is
 * fed through a reader that counts lines: the handler for a key always runs
 * right after the reader returned that key's line. Output sections are not
 * interpreted here: their keys are kept with their line and handed to each
 * output's own sw_X_config_set when the daemon starts (outputs.c), so every
 * output owns its vocabulary.
 */
#include "sunwire/core.h"
#include "daemon/daemon.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "sunwire/rct_registry.h"
#include "rct/rct_control.h"
#include "sunwire_config.h"

#if SUNWIRE_HAVE_INIH
#include <ini.h>
#endif

sw_err sw_daemon_config_init(sw_daemon_config *c)
{
    memset(c, 0, sizeof *c);
    c->stale_timeout_s = 600;
    c->night_mode = SW_NIGHT_UNAVAILABLE;
    c->energy_gap_s = 300;
    c->tz = SW_DAEMON_TZ_LOCAL;
    c->save_interval_ms = 10000;
    c->tick_ms = 10000;
    sw_health_radio_config_default(&c->health_radio);
    sw_health_watchdog_config_default(&c->health_watchdog);
    c->battery_health = true;
    sw_battery_health_config_default(&c->battery);
    sw_crosscheck_config_default(&c->crosscheck);
    sw_peers_config_default(&c->peers);
    c->performance_min_wh = 10.0;
    c->panels = calloc(SW_MODEL_MAX_MAP, sizeof *c->panels);
    c->output_keys = calloc(SW_DAEMON_MAX_OUTPUT_KEYS, sizeof *c->output_keys);
    if (!c->panels || !c->output_keys) {
        sw_daemon_config_free(c);
        return SW_ERR_NO_MEMORY;
    }
    return SW_OK;
}

void sw_daemon_config_free(sw_daemon_config *c)
{
    if (!c)
        return;
    free(c->panels);
    free(c->output_keys);
    c->panels = NULL;
    c->output_keys = NULL;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static sw_err fail(char *err, size_t cap, const char *file, int line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (err && cap) {
        const char *f = file && file[0] ? file : "command line";
        if (line > 0)
            snprintf(err, cap, "%s:%d: %s", f, line, msg);
        else
            snprintf(err, cap, "%s: %s", f, msg);
    }
    return SW_ERR_INVALID_ARGUMENT;
}

static bool copy_checked(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

static bool parse_int(const char *v, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < min || x > max)
        return false;
    *out = x;
    return true;
}

/* Durations: plain seconds, or a number with s/m/h/ms. Result in ms. */
static bool parse_duration_ms(const char *v, long long *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || x < 0 || x > 1e9)
        return false;
    double mul = 1000.0;
    if (!*end || strcmp(end, "s") == 0)
        mul = 1000.0;
    else if (strcmp(end, "ms") == 0)
        mul = 1.0;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mul = 60000.0;
    else if (strcmp(end, "h") == 0)
        mul = 3600000.0;
    else
        return false;
    *out = (long long)(x * mul + 0.5);
    return true;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

sw_err sw_parse_host_port(const char *text, char *host, size_t hostcap, uint16_t *port, uint16_t default_port)
{
    if (!text || !host || !hostcap || !port)
        return SW_ERR_INVALID_ARGUMENT;
    long p = default_port;
    const char *h = text, *colon = NULL;
    size_t hlen;
    if (all_digits(text)) {
        /* "[ADDR:]PORT" forms: a bare number is a port (0 = any free port, for listeners). */
        if (!parse_int(text, 0, 65535, &p))
            return SW_ERR_OUT_OF_RANGE;
        host[0] = 0;
        *port = (uint16_t)p;
        return SW_OK;
    }
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close)
            return SW_ERR_INVALID_ARGUMENT;
        h = text + 1;
        hlen = (size_t)(close - h);
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1])
            return SW_ERR_INVALID_ARGUMENT;
    } else {
        colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 address */
        hlen = colon ? (size_t)(colon - text) : strlen(text);
    }
    if (hlen == 0 || hlen >= hostcap)
        return SW_ERR_INVALID_ARGUMENT;
    if (colon && !parse_int(colon + 1, 0, 65535, &p))
        return SW_ERR_OUT_OF_RANGE;
    memcpy(host, h, hlen);
    host[hlen] = 0;
    *port = (uint16_t)p;
    return SW_OK;
}

/* ---- [panels] -------------------------------------------------------------------------- */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/*
 * The key a name becomes wherever it names a topic or an id: an MQTT topic
 * level keeps letters, digits, '-' and '_' and turns every run of anything
 * else into one '_' (sw_mqtt_slug), and a Home Assistant entity id is lower
 * case with '_' for '-' (and no '_' at either end). Two names with one key
 * would publish to one topic or announce one entity, and the retained
 * discovery would flip between them, so the configuration refuses them.
 */
#define NAME_KEY_MAX SW_MODEL_NAME_MAX
static const char *name_key(const char *name, char out[NAME_KEY_MAX])
{
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < NAME_KEY_MAX; p++) {
        if (isalnum((unsigned char)*p) && !((unsigned char)*p & 0x80))
            out[n++] = (char)tolower((unsigned char)*p);
        else if (n > 0 && out[n - 1] != '_')
            out[n++] = '_';
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = 0;
    return out;
}

static bool same_key(const char *a, const char *b)
{
    char ka[NAME_KEY_MAX], kb[NAME_KEY_MAX];
    return strcmp(name_key(a, ka), name_key(b, kb)) == 0;
}

/* A new map entry against the ones before it: no two names for one topic or id. */
static sw_err check_map_entry(const sw_daemon_config *c, const sw_panel_map_entry *e, char *err, size_t errcap)
{
    char key[NAME_KEY_MAX];
    if (e->string_name[0] && strcmp(e->string_name, "total") != 0 && same_key(e->string_name, "total")) {
        snprintf(err, errcap, "string \"%s\" would share its MQTT topic or Home Assistant ids with \"total\", the "
                 "sum of all panels; pick another string name", e->string_name);
        return SW_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < c->n_panels; i++) {
        const sw_panel_map_entry *o = &c->panels[i];
        if (e->string_name[0] && o->string_name[0] && strcmp(o->string_name, e->string_name) != 0 &&
            same_key(o->string_name, e->string_name)) {
            snprintf(err, errcap, "strings \"%s\" and \"%s\" both become \"%s\" in MQTT topics or Home Assistant "
                     "ids: rename one so they differ in more than case, spaces and punctuation", o->string_name,
                     e->string_name, name_key(e->string_name, key));
            return SW_ERR_INVALID_ARGUMENT;
        }
        if (same_key(o->barcode, e->barcode)) {
            snprintf(err, errcap, "barcodes %s and %s both become \"%s\" in MQTT topics or Home Assistant ids: "
                     "correct the one that is mistyped", o->barcode, e->barcode, name_key(e->barcode, key));
            return SW_ERR_INVALID_ARGUMENT;
        }
        /* Names pick a panel in the dashboard, the API (?id=NAME) and history queries, as barcodes do. */
        const char *clash = strcmp(o->name, e->name) == 0      ? e->name
                            : strcmp(o->barcode, e->name) == 0 ? e->name
                            : strcmp(o->name, e->barcode) == 0 ? e->barcode
                                                               : NULL;
        if (clash) {
            snprintf(err, errcap, "\"%s\" names two panels, %s and %s (as a panel name or a barcode): give each "
                     "panel its own name, e.g. with its string in it", clash, o->barcode, e->barcode);
            return SW_ERR_INVALID_ARGUMENT;
        }
    }
    return SW_OK;
}

sw_err sw_daemon_config_add_panels(sw_daemon_config *c, const char *list, char *err, size_t errcap)
{
    char buf[8192];
    if (strlen(list) >= sizeof buf) {
        snprintf(err, errcap, "panel list longer than %zu characters; split it over several lines",
                 sizeof buf - 1);
        return SW_ERR_TOO_LONG;
    }
    memcpy(buf, list, strlen(list) + 1);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
        char *entry = trim(tok);
        if (!*entry)
            continue;
        char *c1 = strchr(entry, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2 || strchr(c2 + 1, ':')) {
            snprintf(err, errcap, "panel entry \"%s\" is not STRING:NAME:BARCODE", entry);
            return SW_ERR_INVALID_ARGUMENT;
        }
        *c1 = *c2 = 0;
        char *str = trim(entry), *name = trim(c1 + 1), *bc = trim(c2 + 1);
        if (!*bc) {
            snprintf(err, errcap, "panel entry \"%s:%s:\" has no barcode", str, name);
            return SW_ERR_INVALID_ARGUMENT;
        }
        if (!*name)
            name = bc;
        if (c->n_panels >= SW_MODEL_MAX_MAP) {
            snprintf(err, errcap, "more than %d panels", SW_MODEL_MAX_MAP);
            return SW_ERR_NO_SPACE;
        }
        for (size_t i = 0; i < c->n_panels; i++) {
            if (strcmp(c->panels[i].barcode, bc) == 0) {
                snprintf(err, errcap, "barcode %s is mapped twice", bc);
                return SW_ERR_INVALID_ARGUMENT;
            }
        }
        sw_panel_map_entry *e = &c->panels[c->n_panels];
        memset(e, 0, sizeof *e);
        if (!copy_checked(e->barcode, sizeof e->barcode, bc) || !copy_checked(e->name, sizeof e->name, name) ||
            !copy_checked(e->string_name, sizeof e->string_name, str)) {
            snprintf(err, errcap, "panel entry \"%s:%s:%s\": a part is too long", str, name, bc);
            return SW_ERR_TOO_LONG;
        }
        if (strcmp(str, "total") == 0) {
            snprintf(err, errcap, "\"total\" is reserved for the sum of all panels; pick another string name");
            return SW_ERR_INVALID_ARGUMENT;
        }
        sw_err e2 = check_map_entry(c, e, err, errcap);
        if (e2 != SW_OK)
            return e2;
        c->n_panels++;
    }
    return SW_OK;
}

/* ---- sections ---------------------------------------------------------------------------- */
static const char *const output_sections[] = {"mqtt", "prometheus", "influx", "history", "http"};

static int output_bit(const char *section)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(section, output_sections[i]) == 0)
            return 1 << i;
    return 0;
}

/* "tigo roof" -> kind "tigo", name "roof"; "tigo" -> name "tigo". */
static void split_section(const char *section, char *kind, size_t kcap, char *name, size_t ncap)
{
    while (isspace((unsigned char)*section))
        section++;
    size_t k = strcspn(section, " \t");
    snprintf(kind, kcap, "%.*s", (int)k, section);
    const char *rest = section + k;
    while (isspace((unsigned char)*rest))
        rest++;
    snprintf(name, ncap, "%s", rest); /* "" for [tigo] / [tigo ]: refused where a name is needed */
    size_t n = strlen(name);
    while (n && isspace((unsigned char)name[n - 1]))
        name[--n] = 0;
}

static void tigo_defaults(sw_daemon_tigo *t)
{
    memset(t, 0, sizeof *t);
    t->port = 502;
    t->reconnect_delay_ms = 1000;
    t->reconnect_max_ms = 60000;
    t->idle_timeout_s = 60;
    t->keepalive_idle_s = 30;
    t->keepalive_interval_s = 10;
    t->keepalive_count = 5;
}

static void rct_defaults(sw_daemon_rct *r)
{
    memset(r, 0, sizeof *r);
    r->port = 8899;
    r->fast_ms = 5000;
    r->slow_ms = 60000;
    r->timeout_ms = 2000;
    r->retries = 2;
    r->reconnect_delay_ms = 1000;
    r->reconnect_max_ms = 60000;
    r->defaults = true;
    r->control_rate_ms = 60000;
    r->control_retries = 2;
    r->control_flash_per_day = 24;
    sw_rct_proxy_config_default(&r->proxy_cfg);
}

static sw_daemon_tigo *tigo_section(sw_daemon_config *c, const char *name, int line)
{
    for (size_t i = 0; i < c->n_tigo; i++)
        if (strcmp(c->tigo[i].name, name) == 0)
            return &c->tigo[i];
    if (c->n_tigo >= SW_DAEMON_MAX_TIGO)
        return NULL;
    sw_daemon_tigo *t = &c->tigo[c->n_tigo++];
    tigo_defaults(t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->line = line;
    return t;
}

static sw_daemon_rct *rct_section(sw_daemon_config *c, const char *name, int line)
{
    for (size_t i = 0; i < c->n_rct; i++)
        if (strcmp(c->rct[i].name, name) == 0)
            return &c->rct[i];
    if (c->n_rct >= SW_DAEMON_MAX_RCT)
        return NULL;
    sw_daemon_rct *r = &c->rct[c->n_rct++];
    rct_defaults(r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->line = line;
    return r;
}

/* Object names separated by commas or blanks, each checked against the registry. */
static sw_err add_objects(uint32_t *ids, size_t *n, const char *list, char *msg, size_t cap)
{
    char buf[4096];
    if (strlen(list) >= sizeof buf) {
        snprintf(msg, cap, "object list too long");
        return SW_ERR_TOO_LONG;
    }
    memcpy(buf, list, strlen(list) + 1);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
        const sw_rct_object *o = sw_rct_registry_find_name(tok);
        if (!o && strncmp(tok, "0x", 2) == 0) {
            char *end;
            unsigned long id = strtoul(tok + 2, &end, 16);
            if (!*end)
                o = sw_rct_registry_find_id((uint32_t)id);
        }
        if (!o) {
            snprintf(msg, cap, "unknown RCT object \"%s\" (see `sunwire rct list`)", tok);
            return SW_ERR_NOT_FOUND;
        }
        if (*n >= SW_DAEMON_MAX_RCT_EXTRA) {
            snprintf(msg, cap, "more than %d extra objects", SW_DAEMON_MAX_RCT_EXTRA);
            return SW_ERR_NO_SPACE;
        }
        ids[(*n)++] = o->id;
    }
    return SW_OK;
}

/* A duration key into ms, bounded; false with a message on a bad value. */
static bool dur_key(const char *key, const char *value, long long min_ms, long long max_ms, int *out, char *msg,
                    size_t cap)
{
    long long ms;
    if (!parse_duration_ms(value, &ms) || ms < min_ms || ms > max_ms) {
        snprintf(msg, cap, "%s = \"%s\": expected a duration between %lld ms and %lld s (e.g. 30, 500ms, 5m)",
                 key, value, min_ms, max_ms / 1000);
        return false;
    }
    *out = (int)ms;
    return true;
}

static bool int_key(const char *key, const char *value, long min, long max, int *out, char *msg, size_t cap)
{
    long x;
    if (!parse_int(value, min, max, &x)) {
        snprintf(msg, cap, "%s = \"%s\": expected a whole number from %ld to %ld", key, value, min, max);
        return false;
    }
    *out = (int)x;
    return true;
}

/* A fraction key (0.2 or 20%), bounded; false with a message on a bad value. */
static bool fraction_key(const char *key, const char *value, double *out, char *msg, size_t cap)
{
    char *end;
    errno = 0;
    double x = strtod(value, &end);
    if (!errno && end != value && strcmp(end, "%") == 0)
        x /= 100.0;
    else if (errno || end == value || *end)
        x = -1.0;
    if (!(x >= 0.0 && x <= 1.0)) {
        snprintf(msg, cap, "%s = \"%s\": expected a fraction from 0 to 1 (e.g. 0.2) or a percentage (20%%)", key,
                 value);
        return false;
    }
    *out = x;
    return true;
}

/* [health] keys of the radio and watchdog detectors; SW_ERR_NOT_FOUND for a key that is not theirs. */
static sw_err set_health_bus(sw_daemon_config *c, const char *key, const char *value, char *msg, size_t cap)
{
    sw_health_radio_config *r = &c->health_radio;
    sw_health_watchdog_config *w = &c->health_watchdog;
    int ms = 0, n = 0;
    int64_t *dur = NULL;
    long long min_ms = 1000, max_ms = 30LL * 86400 * 1000;
    if (strcmp(key, "controller_silent") == 0)
        dur = &w->controller_silent_ns;
    else if (strcmp(key, "node_table_hold") == 0)
        dur = &w->node_table_hold_ns;
    else if (strcmp(key, "firmware_changed_hold") == 0)
        dur = &w->firmware_hold_ns;
    else if (strcmp(key, "pv_off_clear") == 0)
        dur = &w->pv_off_clear_ns;
    else if (strcmp(key, "radio_window") == 0) {
        dur = &r->window_ns;
        max_ms = 86400LL * 1000; /* the day's window is the longest the detector keeps */
    }
    if (dur) {
        if (!dur_key(key, value, min_ms, max_ms, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        *dur = (int64_t)ms * 1000000;
        return SW_OK;
    }
    if (strcmp(key, "nodes_missing_after") == 0 || strcmp(key, "radio_min_expected") == 0) {
        if (!int_key(key, value, 1, 10000, &n, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        if (key[0] == 'n')
            w->nodes_missing_after = (unsigned)n;
        else
            r->min_expected = (unsigned)n;
        return SW_OK;
    }
    double *frac = strcmp(key, "radio_loss_raise") == 0   ? &r->loss_raise
                   : strcmp(key, "radio_loss_clear") == 0 ? &r->loss_clear
                                                          : NULL;
    if (frac)
        return fraction_key(key, value, frac, msg, cap) ? SW_OK : SW_ERR_OUT_OF_RANGE;
    if (strcmp(key, "radio_rssi_drop_raise") == 0 || strcmp(key, "radio_rssi_drop_clear") == 0) {
        if (!int_key(key, value, 1, 255, &n, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        *(strstr(key, "raise") ? &r->rssi_drop_raise : &r->rssi_drop_clear) = (double)n;
        return SW_OK;
    }
    return SW_ERR_NOT_FOUND;
}

/* A number key, bounded; false with a message on a bad value. */
static bool num_key(const char *key, const char *value, double min, double max, double *out, char *msg, size_t cap)
{
    char *end;
    errno = 0;
    double x = strtod(value, &end);
    if (errno || end == value || *end || !(x >= min && x <= max)) {
        snprintf(msg, cap, "%s = \"%s\": expected a number from %g to %g", key, value, min, max);
        return false;
    }
    *out = x;
    return true;
}

/* [health] keys of the battery detector and the cross-check (docs/config.md). */
static sw_err set_health_battery_dc(sw_daemon_config *c, const char *key, const char *value, int line, char *msg,
                                    size_t cap)
{
    int ms;
    if (strcmp(key, "battery") == 0) {
        if (!sw_parse_bool(value, &c->battery_health)) {
            snprintf(msg, cap, "battery = \"%s\": expected yes or no", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
    } else if (strcmp(key, "cell_spread_mv") == 0) {
        if (!num_key(key, value, 1, 2000, &c->battery.cell_spread_mv, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "module_hot_c") == 0) {
        if (!num_key(key, value, 0.5, 100, &c->battery.module_hot_c, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "battery_hold") == 0) {
        if (!dur_key(key, value, 0, 7LL * 86400 * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->battery.hold_ns = (int64_t)ms * 1000000;
    } else if (strcmp(key, "battery_stale") == 0) {
        if (!dur_key(key, value, 1000, 7LL * 86400 * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->battery.stale_ns = (int64_t)ms * 1000000;
    } else if (strcmp(key, "round_trip_min_wh") == 0) {
        if (!num_key(key, value, 0, 1e6, &c->battery.rte_min_wh, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "dc_noise_pct") == 0) {
        if (!num_key(key, value, 0.1, 100, &c->crosscheck.noise_pct, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "dc_floor_w") == 0) {
        if (!num_key(key, value, 0, 1e6, &c->crosscheck.floor_w, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "dc_window") == 0) {
        if (!dur_key(key, value, 0, 86400LL * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->crosscheck.window_ns = (int64_t)ms * 1000000;
    } else if (strcmp(key, "dc_hold") == 0) {
        if (!dur_key(key, value, 0, 7LL * 86400 * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->crosscheck.hold_ns = (int64_t)ms * 1000000;
    } else if (strcmp(key, "dc_max_age") == 0) {
        if (!dur_key(key, value, 1000, 86400LL * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->crosscheck.max_age_ns = (int64_t)ms * 1000000;
    } else if (strncmp(key, "dc_input.", 9) == 0) {
        const char *string = key + 9, *colon = strrchr(value, ':');
        char *end;
        errno = 0;
        unsigned long in = colon ? strtoul(colon + 1, &end, 10) : 0;
        if (!string[0] || !colon || colon == value || errno || end == colon + 1 || *end ||
            in >= SW_CROSSCHECK_MAX_INPUTS || (size_t)(colon - value) >= SW_MODEL_NAME_MAX ||
            strlen(string) >= SW_MODEL_NAME_MAX) {
            snprintf(msg, cap, "%s = \"%s\": expected dc_input.STRING = INVERTER:INPUT (input 0 to %d)", key, value,
                     SW_CROSSCHECK_MAX_INPUTS - 1);
            return SW_ERR_INVALID_ARGUMENT;
        }
        for (size_t i = 0; i < c->n_dc_inputs; i++)
            if (strcmp(c->dc_inputs[i].string, string) == 0) {
                snprintf(msg, cap, "%s appears twice (first at line %d)", key, c->dc_inputs[i].line);
                return SW_ERR_INVALID_ARGUMENT;
            }
        if (c->n_dc_inputs >= SW_CROSSCHECK_MAX) {
            snprintf(msg, cap, "more than %d dc_input keys", SW_CROSSCHECK_MAX);
            return SW_ERR_NO_SPACE;
        }
        struct sw_daemon_dc_input *d = &c->dc_inputs[c->n_dc_inputs++];
        snprintf(d->string, sizeof d->string, "%s", string);
        snprintf(d->inverter, sizeof d->inverter, "%.*s", (int)(colon - value), value);
        d->input = (unsigned)in;
        d->line = line;
    } else {
        snprintf(msg, cap, "unknown key \"%s\" in [health]", key);
        return SW_ERR_NOT_FOUND;
    }
    return SW_OK;
}

static sw_err set_general(sw_daemon_config *c, const char *key, const char *value, int line, char *msg,
                          size_t cap)
{
    int ms;
    if (strcmp(key, "state_dir") == 0) {
        if (!copy_checked(c->state_dir, sizeof c->state_dir, value)) {
            snprintf(msg, cap, "state_dir is too long");
            return SW_ERR_TOO_LONG;
        }
        c->state_dir_line = line;
    } else if (strcmp(key, "stale_timeout") == 0 || strcmp(key, "night_timeout") == 0) {
        if (!dur_key(key, value, 1000, 7LL * 86400 * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->stale_timeout_s = ms / 1000;
    } else if (strcmp(key, "night") == 0) {
        if (strcmp(value, "zero") == 0)
            c->night_mode = SW_NIGHT_ZERO;
        else if (strcmp(value, "unavailable") == 0)
            c->night_mode = SW_NIGHT_UNAVAILABLE;
        else {
            snprintf(msg, cap, "night = \"%s\": expected zero or unavailable", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
    } else if (strcmp(key, "energy_gap") == 0) {
        if (!dur_key(key, value, 1000, 86400LL * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->energy_gap_s = ms / 1000;
    } else if (strcmp(key, "save_interval") == 0) {
        if (!dur_key(key, value, 100, 86400LL * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->save_interval_ms = (int)ms;
    } else if (strcmp(key, "tick") == 0) {
        if (!dur_key(key, value, 100, 3600LL * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        c->tick_ms = ms;
    } else if (strcmp(key, "timezone") == 0) {
        int hh, mm;
        char sign, extra;
        if (strcmp(value, "local") == 0) {
            c->tz = SW_DAEMON_TZ_LOCAL;
        } else if (strcmp(value, "UTC") == 0 || strcmp(value, "utc") == 0 || strcmp(value, "Z") == 0) {
            c->tz = SW_DAEMON_TZ_UTC;
        } else if (sscanf(value, "%c%2d:%2d%c", &sign, &hh, &mm, &extra) == 3 && (sign == '+' || sign == '-') &&
                   hh >= 0 && hh <= 14 && mm >= 0 && mm < 60) {
            c->tz = SW_DAEMON_TZ_FIXED;
            c->tz_offset_s = (sign == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
        } else {
            snprintf(msg, cap, "timezone = \"%s\": expected local, UTC or an offset like +01:00", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
    } else {
        snprintf(msg, cap, "unknown key \"%s\" in [general]", key);
        return SW_ERR_NOT_FOUND;
    }
    return SW_OK;
}

/* An IPv6 address without brackets cannot carry a port: "::1:502" is one address. */
static bool bare_ipv6(const char *key, const char *value, char *msg, size_t cap)
{
    const char *c = strchr(value, ':');
    if (value[0] == '[' || !c || !strchr(c + 1, ':'))
        return false;
    snprintf(msg, cap, "%s = \"%s\": an IPv6 address needs brackets, e.g. %s = [::1]:PORT", key, value, key);
    return true;
}

/*
 * HOST[:PORT] of a tcp = / host = key. A port given both here and in port =
 * with another value is refused (the later key used to win silently).
 */
static sw_err host_key(const char *key, const char *value, char *host, size_t hostcap, uint16_t *port,
                       bool *port_in_host, bool port_key, char *msg, size_t cap)
{
    if (bare_ipv6(key, value, msg, cap))
        return SW_ERR_INVALID_ARGUMENT;
    uint16_t p = 0;
    bool has_port = value[0] == '[' ? strstr(value, "]:") != NULL : strchr(value, ':') != NULL;
    if (sw_parse_host_port(value, host, hostcap, &p, 0) != SW_OK || !host[0] || (has_port && p == 0)) {
        snprintf(msg, cap, "%s = \"%s\": expected HOST or HOST:PORT", key, value);
        return SW_ERR_INVALID_ARGUMENT;
    }
    if (p && port_key && p != *port) {
        snprintf(msg, cap, "%s = \"%s\" names port %u but port = %u: give the port in one place", key, value,
                 (unsigned)p, (unsigned)*port);
        return SW_ERR_INVALID_ARGUMENT;
    }
    if (p) {
        *port = p;
        *port_in_host = true;
    }
    return SW_OK;
}

static sw_err port_key(const char *key, const char *value, uint16_t *port, bool port_in_host, bool *port_set,
                       const char *host_key_name, char *msg, size_t cap)
{
    int p;
    if (!int_key(key, value, 1, 65535, &p, msg, cap))
        return SW_ERR_OUT_OF_RANGE;
    if (port_in_host && p != *port) {
        snprintf(msg, cap, "port = %d but %s = names port %u: give the port in one place", p, host_key_name,
                 (unsigned)*port);
        return SW_ERR_INVALID_ARGUMENT;
    }
    *port = (uint16_t)p;
    *port_set = true;
    return SW_OK;
}

static sw_err set_tigo(sw_daemon_tigo *t, const char *key, const char *value, char *msg, size_t cap)
{
    if (strcmp(key, "serial") == 0) {
        if (t->host[0]) {
            snprintf(msg, cap, "serial = \"%.100s\" and tcp = %.100s: a bus is read over one of them; remove one "
                     "(or make a second [tigo NAME] section)", value, t->host);
            return SW_ERR_INVALID_ARGUMENT;
        }
        if (!copy_checked(t->device, sizeof t->device, value) || !*value) {
            snprintf(msg, cap, "serial = \"%s\": expected a device path", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
        t->serial = true;
    } else if (strcmp(key, "tcp") == 0) {
        if (t->serial) {
            snprintf(msg, cap, "tcp = \"%.100s\" and serial = %.100s: a bus is read over one of them; remove one "
                     "(or make a second [tigo NAME] section)", value, t->device);
            return SW_ERR_INVALID_ARGUMENT;
        }
        sw_err e = host_key(key, value, t->host, sizeof t->host, &t->port, &t->port_in_host, t->port_key, msg,
                            cap);
        if (e != SW_OK)
            return e;
    } else if (strcmp(key, "port") == 0) {
        sw_err e = port_key(key, value, &t->port, t->port_in_host, &t->port_key, "tcp", msg, cap);
        if (e != SW_OK)
            return e;
    } else if (strcmp(key, "reconnect_delay") == 0) {
        if (!dur_key(key, value, 10, 3600LL * 1000, &t->reconnect_delay_ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "reconnect_max") == 0) {
        if (!dur_key(key, value, 10, 86400LL * 1000, &t->reconnect_max_ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "reconnect_timeout") == 0) {
        int ms;
        if (!dur_key(key, value, 0, 86400LL * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        t->idle_timeout_s = ms / 1000;
    } else if (strcmp(key, "keepalive_idle") == 0) {
        if (!int_key(key, value, 0, 32767, &t->keepalive_idle_s, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "keepalive_interval") == 0) {
        if (!int_key(key, value, 0, 32767, &t->keepalive_interval_s, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "keepalive_count") == 0) {
        if (!int_key(key, value, 0, 127, &t->keepalive_count, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else {
        snprintf(msg, cap, "unknown key \"%s\" in a [tigo] section", key);
        return SW_ERR_NOT_FOUND;
    }
    return SW_OK;
}

/* A control object by name: one of the write plan's table. */
static const char *control_object(const char *name, char *msg, size_t cap)
{
    const sw_rct_control_def *d = sw_rct_control_def_find(name);
    if (!d) {
        size_t n = (size_t)snprintf(msg, cap, "\"%s\" is not an object sunwire can control (one of:", name);
        for (size_t i = 0; i < sw_rct_control_def_count() && n < cap; i++)
            n += (size_t)snprintf(msg + n, cap - n, " %s", sw_rct_control_def_at(i)->object);
        if (n < cap)
            snprintf(msg + n, cap - n, ")");
        return NULL;
    }
    return d->object;
}

/* The control keys and addresses (docs/control.md); SW_ERR_NOT_FOUND for any other key. */
static sw_err set_rct_control(sw_daemon_rct *r, const char *key, const char *value, char *msg, size_t cap)
{
    char buf[1024];
    char *save = NULL;
    if (strcmp(key, "control") == 0) {
        if (!sw_parse_bool(value, &r->control)) {
            snprintf(msg, cap, "control = \"%s\": expected on or off", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
        return SW_OK;
    }
    if (strcmp(key, "control_rate") == 0)
        return dur_key(key, value, 1000, 86400LL * 1000, &r->control_rate_ms, msg, cap) ? SW_OK
                                                                                       : SW_ERR_OUT_OF_RANGE;
    if (strcmp(key, "control_retries") == 0)
        return int_key(key, value, 0, 5, &r->control_retries, msg, cap) ? SW_OK : SW_ERR_OUT_OF_RANGE;
    if (strcmp(key, "control_flash_per_day") == 0)
        return int_key(key, value, 1, 1440, &r->control_flash_per_day, msg, cap) ? SW_OK : SW_ERR_OUT_OF_RANGE;
    bool allow = strcmp(key, "control_allow") == 0, keep = strcmp(key, "control_keep") == 0;
    bool addresses = strcmp(key, "addresses") == 0;
    if (!allow && !keep && !addresses)
        return SW_ERR_NOT_FOUND;
    if (strlen(value) >= sizeof buf) {
        snprintf(msg, cap, "%s: list too long", key);
        return SW_ERR_TOO_LONG;
    }
    memcpy(buf, value, strlen(value) + 1);
    for (char *tok = strtok_r(buf, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
        if (addresses) {
            char *end;
            errno = 0;
            unsigned long long a = strtoull(tok, &end, 0);
            if (*end || errno || a == 0 || a > 0xFFFFFFFFull || tok[0] == '-') {
                snprintf(msg, cap, "addresses: \"%s\" is not a plant address (1 .. 4294967295)", tok);
                return SW_ERR_INVALID_ARGUMENT;
            }
            for (size_t i = 0; i < r->n_addresses; i++)
                if (r->addresses[i] == (uint32_t)a) {
                    snprintf(msg, cap, "addresses: %s is listed twice", tok);
                    return SW_ERR_INVALID_ARGUMENT;
                }
            if (r->n_addresses >= SW_DAEMON_MAX_RCT_PLANT) {
                snprintf(msg, cap, "addresses: more than %d plant members", SW_DAEMON_MAX_RCT_PLANT);
                return SW_ERR_NO_SPACE;
            }
            r->addresses[r->n_addresses++] = (uint32_t)a;
            continue;
        }
        char *eq = keep ? strchr(tok, '=') : NULL;
        if (keep && !eq) {
            snprintf(msg, cap, "control_keep: \"%s\": expected OBJECT=VALUE", tok);
            return SW_ERR_INVALID_ARGUMENT;
        }
        if (eq)
            *eq = 0;
        const char *obj = control_object(tok, msg, cap);
        if (!obj)
            return SW_ERR_INVALID_ARGUMENT;
        if (allow) {
            bool seen = false;
            for (size_t i = 0; i < r->n_allow; i++)
                seen = seen || r->allow[i] == obj;
            if (!seen && r->n_allow < SW_DAEMON_MAX_RCT_CONTROL)
                r->allow[r->n_allow++] = obj;
            continue;
        }
        char *end;
        double v = strtod(eq + 1, &end);
        sw_err e = eq[1] && !*end ? sw_rct_control_check_value(sw_rct_control_def_find(obj), v)
                                  : SW_ERR_BAD_NUMBER;
        if (e != SW_OK) {
            const sw_rct_control_def *d = sw_rct_control_def_find(obj);
            snprintf(msg, cap, "control_keep: %s = \"%s\": %s (%g .. %g, in the device's unit)", obj, eq + 1,
                     sw_err_message(e), d->min, d->max);
            return SW_ERR_INVALID_ARGUMENT;
        }
        size_t k = 0;
        while (k < r->n_keep && r->keep[k].object != obj)
            k++;
        if (k == r->n_keep && r->n_keep < SW_DAEMON_MAX_RCT_CONTROL)
            r->n_keep++;
        r->keep[k].object = obj;
        r->keep[k].value = v;
    }
    return SW_OK;
}

/* The proxy_* keys of an [rct] section. */
static sw_err set_rct_proxy(sw_daemon_rct *r, const char *key, const char *value, char *msg, size_t cap)
{
    sw_rct_proxy_config *pc = &r->proxy_cfg;
    if (strcmp(key, "proxy") == 0) {
        if (sw_rct_proxy_parse_listen(value, SW_RCT_DEFAULT_PORT, r->proxy_host, sizeof r->proxy_host,
                                      &pc->listen_port) != SW_OK) {
            snprintf(msg, cap, "proxy = \"%s\": expected ADDRESS:PORT with a numeric address (e.g. 127.0.0.1:8899)",
                     value);
            return SW_ERR_INVALID_ARGUMENT;
        }
        r->proxy = true;
        return SW_OK;
    }
    if (strcmp(key, "proxy_cache") == 0) {
        int ms;
        if (!dur_key(key, value, 0, 86400LL * 1000, &ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
        pc->cache_ms = ms;
        return SW_OK;
    }
    char buf[4096];
    if (strlen(value) >= sizeof buf) {
        snprintf(msg, cap, "%s: list too long", key);
        return SW_ERR_TOO_LONG;
    }
    memcpy(buf, value, strlen(value) + 1);
    char *save = NULL;
    if (strcmp(key, "proxy_allow_write") == 0) {
        for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
            if (sw_rct_proxy_allow_write(pc, tok) != SW_OK) {
                snprintf(msg, cap, "proxy_allow_write: \"%s\" is not a numeric IP address (or more than %d)", tok,
                         SW_RCT_PROXY_MAX_ALLOW);
                return SW_ERR_INVALID_ARGUMENT;
            }
        return SW_OK;
    }
    if (strcmp(key, "proxy_cache_objects") == 0) {
        for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
            char *eq = strchr(tok, '=');
            const sw_rct_object *o = NULL;
            long long ms = -1;
            if (eq) {
                *eq = 0;
                o = sw_rct_registry_find_name(tok);
                if (!parse_duration_ms(eq + 1, &ms) || ms > 86400LL * 1000)
                    ms = -1;
            }
            if (!o || ms < 0 || sw_rct_proxy_cache_override(pc, o->id, ms) != SW_OK) {
                snprintf(msg, cap, "proxy_cache_objects: expected NAME=DURATION of known objects (e.g. "
                                   "battery.soc=10s), not \"%s\"", tok);
                return SW_ERR_INVALID_ARGUMENT;
            }
        }
        return SW_OK;
    }
    snprintf(msg, cap, "unknown key \"%s\" in an [rct] section", key);
    return SW_ERR_NOT_FOUND;
}

static sw_err set_rct(sw_daemon_rct *r, const char *key, const char *value, char *msg, size_t cap)
{
    if (strcmp(key, "host") == 0) {
        sw_err e = host_key(key, value, r->host, sizeof r->host, &r->port, &r->port_in_host, r->port_key, msg,
                            cap);
        if (e != SW_OK)
            return e;
    } else if (strcmp(key, "port") == 0) {
        sw_err e = port_key(key, value, &r->port, r->port_in_host, &r->port_key, "host", msg, cap);
        if (e != SW_OK)
            return e;
    } else if (strcmp(key, "fast_interval") == 0) {
        if (!dur_key(key, value, 100, 3600LL * 1000, &r->fast_ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "slow_interval") == 0) {
        if (!dur_key(key, value, 100, 86400LL * 1000, &r->slow_ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "timeout") == 0) {
        if (!dur_key(key, value, 50, 60LL * 1000, &r->timeout_ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "retries") == 0) {
        if (!int_key(key, value, 0, 10, &r->retries, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "reconnect_delay") == 0) {
        if (!dur_key(key, value, 10, 3600LL * 1000, &r->reconnect_delay_ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "reconnect_max") == 0) {
        if (!dur_key(key, value, 10, 86400LL * 1000, &r->reconnect_max_ms, msg, cap))
            return SW_ERR_OUT_OF_RANGE;
    } else if (strcmp(key, "defaults") == 0) {
        if (!sw_parse_bool(value, &r->defaults)) {
            snprintf(msg, cap, "defaults = \"%s\": expected yes or no", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
    } else if (strcmp(key, "objects") == 0) {
        return add_objects(r->extra, &r->n_extra, value, msg, cap);
    } else if (strcmp(key, "slow_objects") == 0) {
        return add_objects(r->extra_slow, &r->n_extra_slow, value, msg, cap);
    } else if (strncmp(key, "proxy", 5) == 0) {
        return set_rct_proxy(r, key, value, msg, cap);
    } else {
        sw_err e = set_rct_control(r, key, value, msg, cap);
        if (e == SW_ERR_NOT_FOUND)
            snprintf(msg, cap, "unknown key \"%s\" in an [rct] section", key);
        return e;
    }
    return SW_OK;
}

/* Source names end up in file names, MQTT topics and metric labels: keep them plain. */
static bool name_ok(const char *name)
{
    if (!*name || strlen(name) >= SW_MODEL_NAME_MAX - 1 || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

/* A section seen (possibly without keys): outputs are enabled by their section alone. */
static sw_err section_seen(sw_daemon_config *c, const char *section, int line, char *err, size_t errcap)
{
    char kind[32], name[SW_MODEL_NAME_MAX];
    split_section(section, kind, sizeof kind, name, sizeof name);
    int bit = output_bit(kind);
    if (bit) {
        c->outputs |= (unsigned)bit;
        return SW_OK;
    }
    if (strcmp(kind, "general") == 0 || (strcmp(kind, "health") == 0 && !name[0]))
        return SW_OK;
    if (strcmp(kind, "panels") == 0) {
        c->panels_line = line;
        return SW_OK;
    }
    bool is_tigo = strcmp(kind, "tigo") == 0;
    if ((is_tigo || strcmp(kind, "rct") == 0) && !name[0])
        return fail(err, errcap, c->file, line, "[%s] needs a name: write [%s NAME], e.g. [%s %s]", section, kind,
                    kind, is_tigo ? "roof" : "house");
    if ((is_tigo || strcmp(kind, "rct") == 0) && !name_ok(name))
        return fail(err, errcap, c->file, line,
                    "source name \"%s\": use letters, digits, '-', '_' and '.' (it names files and labels)", name);
    for (size_t i = 0; is_tigo && i < c->n_tigo; i++)
        if (strcmp(c->tigo[i].name, name) == 0)
            return fail(err, errcap, c->file, line,
                        "[tigo %s] appears twice (first at line %d): merge the sections or rename one", name,
                        c->tigo[i].line);
    for (size_t i = 0; !is_tigo && strcmp(kind, "rct") == 0 && i < c->n_rct; i++)
        if (strcmp(c->rct[i].name, name) == 0)
            return fail(err, errcap, c->file, line,
                        "[rct %s] appears twice (first at line %d): merge the sections or rename one", name,
                        c->rct[i].line);
    if (is_tigo) {
        if (!tigo_section(c, name, line))
            return fail(err, errcap, c->file, line, "more than %d [tigo] sections", SW_DAEMON_MAX_TIGO);
        return SW_OK;
    }
    if (strcmp(kind, "rct") == 0) {
        if (!rct_section(c, name, line))
            return fail(err, errcap, c->file, line, "more than %d [rct] sections", SW_DAEMON_MAX_RCT);
        return SW_OK;
    }
    return fail(err, errcap, c->file, line,
                "unknown section [%s] (expected general, tigo NAME, rct NAME, panels, health, mqtt, "
                "prometheus, influx, history or http)",
                section);
}

/* [health] keys of the peer detectors: name, kind, where, bounds (docs/config.md). */
enum { HK_NUMBER, HK_DURATION, HK_COUNT };
static const struct health_key {
    const char *name;
    int kind;
    size_t offset;
    double min, max; /* numbers; durations in seconds */
} health_keys[] = {
#define HK(name, kind, member, min, max) { name, kind, offsetof(sw_peers_config, member), min, max }
    HK("peer_floor", HK_NUMBER, floor_w, 0, 100000),
    HK("peer_min", HK_COUNT, min_peers, 1, 1000),
    HK("peer_max_age", HK_DURATION, max_age_ns, 1, 3600),
    HK("peer_interval", HK_DURATION, interval_ns, 0, 3600),
    HK("peer_clear_window", HK_DURATION, clear_ns, 0, 86400),
    HK("underperforming_ratio", HK_NUMBER, under_ratio, 0.01, 1),
    HK("underperforming_clear_ratio", HK_NUMBER, under_clear_ratio, 0.01, 1),
    HK("underperforming_window", HK_DURATION, under_window_ns, 0, 86400),
    HK("no_power_current", HK_NUMBER, no_power_current_a, 0, 10),
    HK("no_power_voltage_ratio", HK_NUMBER, no_power_voltage_ratio, 0.5, 3),
    HK("no_power_window", HK_DURATION, no_power_window_ns, 0, 86400),
    HK("diode_voltage_min", HK_NUMBER, diode_voltage_min, 0.05, 1),
    HK("diode_voltage_max", HK_NUMBER, diode_voltage_max, 0.05, 1),
    HK("diode_voltage_clear", HK_NUMBER, diode_voltage_clear, 0.05, 1.5),
    HK("diode_current_ratio", HK_NUMBER, diode_current_ratio, 0, 2),
    HK("diode_window", HK_DURATION, diode_window_ns, 0, 86400),
    HK("hot_delta", HK_NUMBER, hot_delta_c, 1, 100),
    HK("hot_clear_delta", HK_NUMBER, hot_clear_delta_c, 0, 100),
    HK("hot_window", HK_DURATION, hot_window_ns, 0, 86400),
    HK("stuck_reports", HK_COUNT, stuck_reports, 2, 100000),
    HK("stuck_clear_reports", HK_COUNT, stuck_clear_reports, 1, 100000),
#undef HK
};

/* [health] keys of the peer detectors and the performance index; SW_ERR_NOT_FOUND for a key that is not theirs. */
static sw_err set_health_peers(sw_daemon_config *c, const char *key, const char *value, char *msg, size_t cap)
{
    if (strcmp(key, "peers") == 0) {
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
            snprintf(msg, cap, "peers = \"%s\": expected on or off", value);
            return SW_ERR_INVALID_ARGUMENT;
        }
        c->peers_off = strcmp(value, "off") == 0;
        return SW_OK;
    }
    if (strcmp(key, "performance_min_energy") == 0) {
        char *end;
        errno = 0;
        double x = strtod(value, &end);
        if (errno || end == value || *end || !(x >= 0.0 && x <= 100000.0)) {
            snprintf(msg, cap, "%s = \"%s\": expected watt-hours from 0 to 100000", key, value);
            return SW_ERR_OUT_OF_RANGE;
        }
        c->performance_min_wh = x;
        return SW_OK;
    }
    for (size_t i = 0; i < sizeof health_keys / sizeof health_keys[0]; i++) {
        const struct health_key *k = &health_keys[i];
        if (strcmp(key, k->name) != 0)
            continue;
        char *at = (char *)&c->peers + k->offset;
        if (k->kind == HK_DURATION) {
            long long ms;
            if (!parse_duration_ms(value, &ms) || ms < (long long)(k->min * 1000) || ms > (long long)(k->max * 1000)) {
                snprintf(msg, cap, "%s = \"%s\": expected a duration between %g s and %g s (e.g. 30, 5m)", key,
                         value, k->min, k->max);
                return SW_ERR_OUT_OF_RANGE;
            }
            int64_t ns = (int64_t)ms * 1000000;
            memcpy(at, &ns, sizeof ns);
        } else if (k->kind == HK_COUNT) {
            long x;
            if (!parse_int(value, (long)k->min, (long)k->max, &x)) {
                snprintf(msg, cap, "%s = \"%s\": expected a whole number from %g to %g", key, value, k->min, k->max);
                return SW_ERR_OUT_OF_RANGE;
            }
            unsigned u = (unsigned)x;
            memcpy(at, &u, sizeof u);
        } else {
            char *end;
            errno = 0;
            double x = strtod(value, &end);
            if (errno || end == value || *end || !(x >= k->min && x <= k->max)) {
                snprintf(msg, cap, "%s = \"%s\": expected a number from %g to %g", key, value, k->min, k->max);
                return SW_ERR_OUT_OF_RANGE;
            }
            memcpy(at, &x, sizeof x);
        }
        return SW_OK;
    }
    return SW_ERR_NOT_FOUND;
}

sw_err sw_daemon_config_set(sw_daemon_config *c, const char *section, const char *key, const char *value,
                            int line, char *err, size_t errcap)
{
    char kind[32], name[SW_MODEL_NAME_MAX], msg[400] = "";
    sw_err e = SW_OK;
    if (!section || !section[0])
        return fail(err, errcap, c->file, line, "key \"%s\" outside any section", key);
    split_section(section, kind, sizeof kind, name, sizeof name);
    int bit = output_bit(kind);
    if (bit) {
        if (c->n_output_keys >= SW_DAEMON_MAX_OUTPUT_KEYS)
            return fail(err, errcap, c->file, line, "too many output keys");
        sw_daemon_output_key *k = &c->output_keys[c->n_output_keys];
        if (!copy_checked(k->key, sizeof k->key, key) || !copy_checked(k->value, sizeof k->value, value))
            return fail(err, errcap, c->file, line, "key or value too long");
        memcpy(k->section, output_sections[__builtin_ctz((unsigned)bit)],
               strlen(output_sections[__builtin_ctz((unsigned)bit)]) + 1);
        k->line = line;
        c->n_output_keys++;
        c->outputs |= (unsigned)bit;
        return SW_OK;
    }
    if (strcmp(kind, "general") == 0) {
        e = set_general(c, key, value, line, msg, sizeof msg);
    } else if (strcmp(kind, "panels") == 0) {
        if (strcmp(key, "modules") != 0 && strcmp(key, "panel") != 0 && strcmp(key, "panels") != 0)
            return fail(err, errcap, c->file, line,
                        "unknown key \"%s\" in [panels] (expected modules = STRING:NAME:BARCODE, ...)", key);
        e = sw_daemon_config_add_panels(c, value, msg, sizeof msg);
    } else if (strcmp(kind, "health") == 0 && !name[0]) {
        /* each detector takes its own keys; the last one names a key nobody took */
        c->health_line = line;
        e = set_health_bus(c, key, value, msg, sizeof msg);
        if (e == SW_ERR_NOT_FOUND)
            e = set_health_peers(c, key, value, msg, sizeof msg);
        if (e == SW_ERR_NOT_FOUND)
            e = set_health_battery_dc(c, key, value, line, msg, sizeof msg);
    } else if ((strcmp(kind, "tigo") == 0 || strcmp(kind, "rct") == 0) && !name_ok(name)) {
        return section_seen(c, section, line, err, errcap);
    } else if (strcmp(kind, "tigo") == 0) {
        sw_daemon_tigo *t = tigo_section(c, name, line);
        if (!t)
            return fail(err, errcap, c->file, line, "more than %d [tigo] sections", SW_DAEMON_MAX_TIGO);
        e = set_tigo(t, key, value, msg, sizeof msg);
    } else if (strcmp(kind, "rct") == 0) {
        sw_daemon_rct *r = rct_section(c, name, line);
        if (!r)
            return fail(err, errcap, c->file, line, "more than %d [rct] sections", SW_DAEMON_MAX_RCT);
        e = set_rct(r, key, value, msg, sizeof msg);
    } else {
        return section_seen(c, section, line, err, errcap);
    }
    if (e != SW_OK) {
        fail(err, errcap, c->file, line, "[%s] %s", section, msg);
        return SW_ERR_INVALID_ARGUMENT;
    }
    return SW_OK;
}

/* The last value of an output key (NULL when absent) and its line. */
static const char *output_value(const sw_daemon_config *c, const char *section, const char *key, int *line)
{
    const char *v = NULL;
    for (size_t i = 0; i < c->n_output_keys; i++)
        if (strcmp(c->output_keys[i].section, section) == 0 && strcmp(c->output_keys[i].key, key) == 0) {
            v = c->output_keys[i].value;
            if (line)
                *line = c->output_keys[i].line;
        }
    return v;
}

/*
 * A listen address must be one the server can bind: a numeric IPv4 or IPv6
 * address, or a host name. Dotted digits that are no IPv4 address
 * ("999.1.1.1"), a bad IPv6 text and anything that is no host name are
 * refused. Names are checked for their form only: the check asks no
 * resolver (it must be quick and work offline).
 */
static bool listen_address_ok(const char *a)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1)
        return true;
    if (!*a || strlen(a) > 253 || strspn(a, "0123456789.") == strlen(a) || strchr(a, ':'))
        return false;
    for (const char *p = a; *p; p++) {
        bool label_start = p == a || p[-1] == '.';
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return false;
        if ((*p == '-' || *p == '.') && label_start)
            return false;
    }
    return true;
}

static sw_err check_outputs(const sw_daemon_config *c, char *err, size_t errcap)
{
    static const char *const listeners[] = {"http", "prometheus"};
    for (size_t i = 0; i < 2; i++) {
        int line = 0;
        const char *b = output_value(c, listeners[i], "bind", &line);
        if (!b)
            b = output_value(c, listeners[i], "address", &line);
        if (b && !listen_address_ok(b))
            return fail(err, errcap, c->file, line,
                        "[%s] bind = \"%s\" is not an address this machine can listen on: use an IP address "
                        "such as 127.0.0.1, 0.0.0.0 or ::1",
                        listeners[i], b);
    }
    if (c->outputs & SW_DAEMON_OUT_INFLUX) {
        int oline = 0, uline = 0, bline = 0, fline = 0;
        const char *out = output_value(c, "influx", "output", &oline);
        const char *url = output_value(c, "influx", "url", &uline);
        const char *bucket = output_value(c, "influx", "bucket", &bline);
        const char *api = output_value(c, "influx", "api", NULL);
        bool v1 = api && (strcmp(api, "v1") == 0 || strcmp(api, "1") == 0);
        if (v1)
            bucket = output_value(c, "influx", "db", &bline);
        const char *file = output_value(c, "influx", "file", &fline);
        bool http = out ? strcmp(out, "http") == 0 : false;
        /* url = / file = choose the output too; the later key wins, as in the output itself */
        if (url && (!out || uline > oline) && uline >= fline)
            http = true;
        if (http && (!url || !url[0]))
            return fail(err, errcap, c->file, oline, "[influx] output = http needs url = http://HOST:8086");
        if (http && (!bucket || !bucket[0]))
            return fail(err, errcap, c->file, oline ? oline : uline,
                        v1 ? "[influx] api = v1 needs db = NAME (and user and password when the server asks)"
                           : "[influx] output = http needs bucket = NAME (and usually org and token)");
        if (out && strcmp(out, "file") == 0 && oline > uline && (!file || !file[0]))
            return fail(err, errcap, c->file, oline, "[influx] output = file needs file = PATH");
    }
    if (c->outputs & SW_DAEMON_OUT_HISTORY) {
        int line = 0;
        const char *path = output_value(c, "history", "path", &line);
        struct stat st;
        if (path && path[0] && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return fail(err, errcap, c->file, line,
                        "[history] path = %s is a directory: name a file in it, e.g. path = %s/history.db", path,
                        path);
        if (path && path[0]) {
            char dir[SW_DAEMON_PATH_MAX];
            snprintf(dir, sizeof dir, "%s", path);
            char *slash = strrchr(dir, '/');
            if (slash && slash != dir) {
                *slash = 0;
                if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
                    return fail(err, errcap, c->file, line,
                                "[history] path = %s: the directory %s does not exist: create it or change the "
                                "path",
                                path, dir);
            }
        }
    }
    return SW_OK;
}

/* Source names name topics, ids, labels and state files: two that differ only in case or punctuation collide. */
static sw_err check_source_keys(const sw_daemon_config *c, char *err, size_t errcap)
{
    size_t n = c->n_tigo + c->n_rct;
    for (size_t i = 0; i < n; i++) {
        const char *a = i < c->n_tigo ? c->tigo[i].name : c->rct[i - c->n_tigo].name;
        int aline = i < c->n_tigo ? c->tigo[i].line : c->rct[i - c->n_tigo].line;
        for (size_t k = i + 1; k < n; k++) {
            const char *b = k < c->n_tigo ? c->tigo[k].name : c->rct[k - c->n_tigo].name;
            int bline = k < c->n_tigo ? c->tigo[k].line : c->rct[k - c->n_tigo].line;
            if (strcmp(a, b) == 0 || !same_key(a, b))
                continue; /* the same name twice is refused where the sections are read */
            char key[NAME_KEY_MAX], where[48] = "";
            /* Point at the later section; a source from the command line has no line. */
            bool a_first = aline < bline;
            int first = a_first ? aline : bline, later = a_first ? bline : aline;
            if (first > 0)
                snprintf(where, sizeof where, " (the first at line %d)", first);
            return fail(err, errcap, c->file, later,
                        "source names \"%s\" and \"%s\"%s both become \"%s\" in MQTT topics or Home Assistant "
                        "ids: rename one so they differ in more than case and punctuation",
                        a_first ? a : b, a_first ? b : a, where, name_key(a, key));
        }
    }
    return SW_OK;
}

sw_err sw_daemon_config_check(const sw_daemon_config *c, char *err, size_t errcap)
{
    /* Hysteresis: what clears a radio problem must not already raise it. */
    if (c->health_radio.loss_clear > c->health_radio.loss_raise ||
        c->health_radio.rssi_drop_clear > c->health_radio.rssi_drop_raise)
        return fail(err, errcap, c->file, 0,
                    "[health] radio_loss_clear (%g) and radio_rssi_drop_clear (%g) must not exceed radio_loss_raise "
                    "(%g) and radio_rssi_drop_raise (%g)",
                    c->health_radio.loss_clear, c->health_radio.rssi_drop_clear, c->health_radio.loss_raise,
                    c->health_radio.rssi_drop_raise);
    char why[160];
    if (!c->peers_off && sw_peers_config_check(&c->peers, why, sizeof why) != SW_OK)
        return fail(err, errcap, c->file, c->health_line, "[health] %s", why);
    if (c->state_dir[0]) {
        struct stat st;
        if (stat(c->state_dir, &st) == 0 && !S_ISDIR(st.st_mode))
            return fail(err, errcap, c->file, c->state_dir_line,
                        "state_dir = %s is not a directory: name a directory (it is created when missing)",
                        c->state_dir);
    }
    for (size_t i = 0; i < c->n_tigo; i++) {
        const sw_daemon_tigo *t = &c->tigo[i];
        if (!t->serial && !t->host[0])
            return fail(err, errcap, c->file, t->line, "[tigo %s] needs serial = DEVICE or tcp = HOST", t->name);
        if (t->reconnect_delay_ms > t->reconnect_max_ms)
            return fail(err, errcap, c->file, t->line,
                        "[tigo %s] reconnect_delay (%d ms) is larger than reconnect_max (%d ms): lower the delay "
                        "or raise the maximum",
                        t->name, t->reconnect_delay_ms, t->reconnect_max_ms);
        for (size_t j = 0; j < c->n_rct; j++)
            if (strcmp(c->rct[j].name, t->name) == 0)
                return fail(err, errcap, c->file, c->rct[j].line,
                            "source name \"%s\" is used by a [tigo] and an [rct] section", t->name);
    }
    sw_err e = check_source_keys(c, err, errcap);
    if (e != SW_OK)
        return e;
    for (size_t i = 0; i < c->n_rct; i++) {
        const sw_daemon_rct *r = &c->rct[i];
        if (!r->host[0])
            return fail(err, errcap, c->file, r->line, "[rct %s] needs host = HOST", r->name);
        if (!r->defaults && r->n_extra == 0 && r->n_extra_slow == 0)
            return fail(err, errcap, c->file, r->line, "[rct %s] polls nothing: defaults = no and no objects",
                        r->name);
        for (size_t a = 0; a < r->n_addresses; a++) {
            char member[SW_MODEL_NAME_MAX + 16];
            snprintf(member, sizeof member, "%s-%u", r->name, (unsigned)r->addresses[a]);
            for (size_t k = 0; k < c->n_tigo + c->n_rct; k++) {
                const char *other = k < c->n_tigo ? c->tigo[k].name : c->rct[k - c->n_tigo].name;
                if (strcmp(other, member) == 0)
                    return fail(err, errcap, c->file, r->line,
                                "[rct %s] plant member %u would be named \"%s\", which another section uses",
                                r->name, (unsigned)r->addresses[a], member);
            }
        }
        if (r->control && r->n_allow == 0)
            return fail(err, errcap, c->file, r->line,
                        "[rct %s] control = on allows nothing: list the objects in control_allow", r->name);
        for (size_t k = 0; k < r->n_keep; k++) {
            bool allowed = false;
            for (size_t a = 0; a < r->n_allow; a++)
                allowed = allowed || r->allow[a] == r->keep[k].object;
            if (!allowed)
                return fail(err, errcap, c->file, r->line, "[rct %s] control_keep names %s, which control_allow "
                            "does not list", r->name, r->keep[k].object);
        }
        if (r->reconnect_delay_ms > r->reconnect_max_ms)
            return fail(err, errcap, c->file, r->line,
                        "[rct %s] reconnect_delay (%d ms) is larger than reconnect_max (%d ms): lower the delay "
                        "or raise the maximum",
                        r->name, r->reconnect_delay_ms, r->reconnect_max_ms);
    }
    for (size_t i = 0; i < c->n_dc_inputs; i++) {
        const struct sw_daemon_dc_input *di = &c->dc_inputs[i];
        bool inv = false, str = false;
        for (size_t j = 0; j < c->n_rct; j++)
            inv = inv || strcmp(c->rct[j].name, di->inverter) == 0;
        for (size_t j = 0; j < c->n_panels; j++)
            str = str || strcmp(c->panels[j].string_name, di->string) == 0;
        if (!inv)
            return fail(err, errcap, c->file, di->line, "[health] dc_input.%s: no [rct %s] section", di->string,
                        di->inverter);
        if (!str)
            return fail(err, errcap, c->file, di->line,
                        "[health] dc_input.%s: no string \"%s\" in [panels] (map its panels first)", di->string,
                        di->string);
        for (size_t j = 0; j < i; j++)
            if (c->dc_inputs[j].input == di->input && strcmp(c->dc_inputs[j].inverter, di->inverter) == 0)
                return fail(err, errcap, c->file, di->line,
                            "[health] dc_input.%s: input %u of %s already carries string %s (one string per "
                            "input: the check compares its sum with the whole tracker)",
                            di->string, di->input, di->inverter, c->dc_inputs[j].string);
    }
    if (c->n_tigo == 0 && c->n_rct == 0)
        return fail(err, errcap, c->file, 0,
                    "no source configured: add a [tigo NAME] or [rct NAME] section (or --tigo-tcp, "
                    "--tigo-serial, --rct)");
    return check_outputs(c, err, errcap);
}

/* ---- inih glue -------------------------------------------------------------------------- */
typedef struct ini_ctx {
    sw_daemon_config *c;
    const char *text; /* string input */
    size_t pos;
    FILE *fp;         /* file input */
    int line;
    bool failed;
    char *err;
    size_t errcap;
} ini_ctx;

/* Called by inih once per line: count it, and notice section headers (inih reports only keys). */
static char *line_reader(char *str, int num, void *stream)
{
    ini_ctx *x = stream;
    char *r;
    bool cut = false;
    if (x->fp) {
        r = fgets(str, num, x->fp);
        if (r && !strchr(str, '\n')) {
            int ch = getc(x->fp);
            cut = ch != EOF;
            if (cut)
                ungetc(ch, x->fp);
        }
    } else {
        if (!x->text[x->pos])
            return NULL;
        size_t n = 0;
        while (x->text[x->pos + n] && x->text[x->pos + n] != '\n' && n + 2 < (size_t)num)
            n++;
        cut = x->text[x->pos + n] && x->text[x->pos + n] != '\n';
        if (x->text[x->pos + n] == '\n')
            n++;
        memcpy(str, x->text + x->pos, n);
        str[n] = 0;
        x->pos += n;
        r = str;
    }
    if (!r)
        return NULL;
    x->line++;
    /*
     * inih reads a line in pieces of its buffer's size and would take the rest
     * of a long line as a line of its own: a value silently cut short (an object
     * list, a password) or a stray key. Refuse such a line instead.
     */
    if (cut && !x->failed) {
        fail(x->err, x->errcap, x->c->file, x->line, "line longer than %d characters", num - 2);
        x->failed = true;
        return NULL;
    }
    const char *p = str;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[' && !x->failed) {
        const char *end = strchr(p, ']');
        if (!end) {
            fail(x->err, x->errcap, x->c->file, x->line, "section header without ']'");
            x->failed = true;
        } else {
            char sec[128];
            snprintf(sec, sizeof sec, "%.*s", (int)(end - p - 1), p + 1);
            if (section_seen(x->c, sec, x->line, x->err, x->errcap) != SW_OK)
                x->failed = true;
        }
    }
    return r;
}

#if SUNWIRE_HAVE_INIH
static int ini_handler_cb(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *x = user;
    if (x->failed)
        return 0;
    if (sw_daemon_config_set(x->c, section, name, value ? value : "", x->line, x->err, x->errcap) != SW_OK) {
        x->failed = true;
        return 0;
    }
    return 1;
}

static sw_err run_inih(ini_ctx *x)
{
    int r = ini_parse_stream(line_reader, x, ini_handler_cb, x);
    if (x->failed)
        return SW_ERR_INVALID_ARGUMENT;
    if (r > 0)
        return fail(x->err, x->errcap, x->c->file, r, "syntax error (expected [section] or key = value)");
    if (r < 0)
        return fail(x->err, x->errcap, x->c->file, 0, "could not be read");
    return SW_OK;
}
#endif

sw_err sw_daemon_config_load_string(sw_daemon_config *c, const char *name, const char *text, char *err,
                                    size_t errcap)
{
    snprintf(c->file, sizeof c->file, "%s", name ? name : "config");
#if SUNWIRE_HAVE_INIH
    ini_ctx x = {.c = c, .text = text, .err = err, .errcap = errcap};
    return run_inih(&x);
#else
    (void)text;
    (void)line_reader;
    fail(err, errcap, c->file, 0, "configuration files need libinih, which this build lacks (install libinih-dev)");
    return SW_ERR_UNSUPPORTED;
#endif
}

sw_err sw_daemon_config_load(sw_daemon_config *c, const char *path, char *err, size_t errcap)
{
    snprintf(c->file, sizeof c->file, "%s", path);
#if SUNWIRE_HAVE_INIH
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return SW_ERR_OPEN;
    }
    /* A directory opens fine and then reads as an empty file: an empty configuration. */
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
        fclose(fp);
        snprintf(err, errcap, "%s: cannot read: %s, not a configuration file", path,
                 S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file");
        return SW_ERR_OPEN;
    }
    ini_ctx x = {.c = c, .fp = fp, .err = err, .errcap = errcap};
    sw_err e = run_inih(&x);
    if (e == SW_OK && ferror(fp)) {
        snprintf(err, errcap, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
        e = SW_ERR_OPEN;
    }
    fclose(fp);
    return e;
#else
    (void)line_reader;
    fail(err, errcap, c->file, 0, "configuration files need libinih, which this build lacks (install libinih-dev)");
    return SW_ERR_UNSUPPORTED;
#endif
}
