/*
 * rct_sim.c: what the simulated inverter answers (see rct_io/rct_sim.h).
 *
 * Values: the objects a monitoring app shows (power flows, battery, grid,
 * temperatures, energy counters) are mapped onto the simulated household by
 * name; everything else gets a plausible, stable value derived from its unit
 * and a hash of its id, so that no object answers with a placeholder zero or
 * "ABCDEFG" and the same object always answers alike. Fault bits (fault[n].flt)
 * stay zero: a healthy plant. Signs follow the real device: battery power is
 * positive while discharging, and the grid feed-in energy counters
 * (energy.e_grid_feed_*) are negative.
 */
#include "rct_io/rct_sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sunwire/core.h"
#include "rct/rct_control.h"

#define DAY 86400
/* The logger's ring buffer: five-minute data reaches back about 90 days. */
#define MINUTES_DEPTH (90 * DAY)
/* Nothing is logged before the plant was commissioned. */
#define COMMISSIONED_LOCAL 1420070400LL

void sw_rct_sim_config_default(sw_rct_sim_config *cfg, uint64_t seed)
{
    memset(cfg, 0, sizeof *cfg);
    sw_sim_config_default(&cfg->model, seed);
    cfg->faults.delay_ms = 300;
}

void sw_rct_sim_init(sw_rct_sim *s, const sw_rct_sim_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
}

static uint64_t h(const sw_rct_sim_config *s, uint64_t a, uint64_t b) { return sw_sim_hash(s->model.seed, a, b); }

static double u01(const sw_rct_sim_config *s, uint64_t a, uint64_t b)
{
    return (double)(h(s, a, b) >> 11) * (1.0 / 9007199254740992.0);
}

static bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* The index in "name[3]..." or -1. */
static int index_of(const char *name)
{
    const char *b = strchr(name, '[');
    if (!b || b[1] < '0' || b[1] > '9')
        return -1;
    return (int)(b[1] - '0');
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Start (UTC) of the house's local day / month / year containing t. */
static int64_t period_start(const sw_rct_sim_config *s, int64_t t, char period)
{
    int64_t off = s->model.utc_offset_s;
    int64_t days = floor_div(t + off, DAY);
    int64_t y;
    unsigned m, d;
    sw_civil_from_days(days, &y, &m, &d);
    if (period == 'm')
        days = sw_days_from_civil(y, m, 1);
    else if (period == 'y')
        days = sw_days_from_civil(y, 1, 1);
    return days * DAY - off;
}

typedef enum { E_AC, E_DC0, E_DC1, E_FEED, E_GRIDLOAD, E_LOAD, E_EXT, E_BATIN, E_BATOUT } ekind;

static double counter(const sw_sim_sample *x, ekind k)
{
    switch (k) {
    case E_AC: return x->e_pv_wh * 0.96;
    case E_DC0: return x->e_pv_wh * 0.55;
    case E_DC1: return x->e_pv_wh * 0.45;
    case E_FEED: return x->e_grid_export_wh;
    case E_GRIDLOAD: return x->e_grid_import_wh;
    case E_LOAD: return x->e_load_wh;
    case E_EXT: return x->e_pv_wh * 0.015;
    case E_BATIN: return x->e_battery_charge_wh;
    case E_BATOUT: return x->e_battery_discharge_wh;
    }
    return 0;
}

static double energy_in(const sw_rct_sim_config *s, ekind k, int64_t from, int64_t to)
{
    sw_sim_sample a, b;
    sw_sim_sample_at(&s->model, from, &a);
    sw_sim_sample_at(&s->model, to, &b);
    return counter(&b, k) - counter(&a, k);
}

/* How much energy.e_<kind>_<day|month|year|total>[_sum][i] counts (positive). */
static bool energy_amount(const sw_rct_sim_config *s, const char *name, int64_t now, const sw_sim_sample *x,
                          double *out)
{
    if (!starts(name, "energy.e_"))
        return false;
    const char *p = name + 9;
    ekind k;
    if (starts(p, "ac_")) { k = E_AC; p += 3; }
    else if (starts(p, "dc_")) { k = index_of(name) == 1 ? E_DC1 : E_DC0; p += 3; }
    else if (starts(p, "grid_feed_")) { k = E_FEED; p += 10; }
    else if (starts(p, "grid_load_")) { k = E_GRIDLOAD; p += 10; }
    else if (starts(p, "load_")) { k = E_LOAD; p += 5; }
    else if (starts(p, "ext_")) { k = E_EXT; p += 4; }
    else return false;
    if (starts(p, "total")) {
        *out = counter(x, k);
        return true;
    }
    char period = starts(p, "day") ? 'd' : starts(p, "month") ? 'm' : starts(p, "year") ? 'y' : 0;
    if (!period)
        return false;
    *out = energy_in(s, k, period_start(s, now, period), now);
    return true;
}

/* energy.e_<kind>_<day|month|year|total>[_sum][i]; feed-in counts negative, as real devices send it. */
static bool energy_value(const sw_rct_sim_config *s, const char *name, int64_t now, const sw_sim_sample *x, double *out)
{
    if (!energy_amount(s, name, now, x, out))
        return false;
    if (starts(name, "energy.e_grid_feed_"))
        *out = -*out;
    return true;
}

/* Value of a minutes time series / live value by series name. */
static bool series_value(const char *series, const sw_sim_sample *x, double *out)
{
    static const char *const names[] = { "ea", "eb", "eac", "eac1", "eac2", "eac3", "ebat", "eext",
                                         "egrid_feed", "egrid_load", "eload", "soc", "soc_targ",
                                         "temp", "temp2", "temp_bat", "ua", "ub", "ubat", "ul1",
                                         "ul2", "ul3" };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(series, names[i]) == 0)
            break;
    double ac = x->pv_w - x->battery_w;
    switch (i) {
    case 0: *out = x->string_w[0]; break;
    case 1: *out = x->string_w[1]; break;
    case 2: *out = ac; break;
    case 3: case 4: case 5: *out = ac / 3.0; break;
    case 6: *out = x->battery_w; break;
    case 7: *out = x->pv_w * 0.015; break;
    case 8: *out = x->grid_w < 0 ? -x->grid_w : 0.0; break;
    case 9: *out = x->grid_w > 0 ? x->grid_w : 0.0; break;
    case 10: *out = x->load_w; break;
    case 11: *out = x->soc * 100.0; break;
    case 12: *out = 80.0; break;
    case 13: *out = x->temp_inverter_c; break;
    case 14: *out = x->temp_inverter_c - 4.0; break;
    case 15: *out = x->temp_battery_c; break;
    case 16: *out = x->string_v[0]; break;
    case 17: *out = x->string_v[1]; break;
    case 18: *out = x->battery_v; break;
    case 19: case 20: case 21: *out = x->grid_v[i - 19]; break;
    default: return false;
    }
    return true;
}

static double float_value(const sw_rct_sim_config *s, const sw_rct_object *o, int64_t now, const sw_sim_sample *x)
{
    const char *n = o->name;
    int idx = index_of(n);
    int ph = idx >= 0 && idx < 3 ? idx : 0;
    double ac = x->pv_w - x->battery_w;
    double v;
    if (energy_value(s, n, now, x, &v))
        return v;
    if (!strcmp(n, "battery.soc"))
        return x->soc;
    if (!strcmp(n, "battery.soc_target") || !strcmp(n, "battery.soc_target_high"))
        return 0.8;
    if (!strcmp(n, "battery.soh"))
        return 0.97;
    if (!strcmp(n, "battery.voltage") || !strcmp(n, "power_mng.u_acc_mix_lp") || !strcmp(n, "power_mng.u_acc_lp"))
        return x->battery_v;
    if (!strcmp(n, "battery.current") || !strcmp(n, "acc_conv.i_acc_lp_fast") || !strcmp(n, "acc_conv.i_acc_lp_slow"))
        return x->battery_w / x->battery_v;
    if (!strcmp(n, "battery.temperature") || !strcmp(n, "battery.max_cell_temperature"))
        return x->temp_battery_c;
    if (!strcmp(n, "battery.min_cell_temperature"))
        return x->temp_battery_c - 1.5;
    /* Lifetime energy into and out of the battery. */
    if (!strcmp(n, "battery.stored_energy"))
        return counter(x, E_BATIN);
    if (!strcmp(n, "battery.used_energy"))
        return counter(x, E_BATOUT);
    if (!strcmp(n, "battery.max_cell_voltage"))
        return 3.30 + 0.15 * x->soc + 0.01;
    if (!strcmp(n, "battery.min_cell_voltage"))
        return 3.30 + 0.15 * x->soc - 0.01;
    /* The device counts battery power as it leaves the battery: positive while discharging,
     * negative while charging (docs/rct-protocol.md, "Sign of g_sync.p_acc_lp"). */
    if (!strcmp(n, "g_sync.p_acc_lp") || !strcmp(n, "power_mng.battery_power"))
        return -x->battery_w;
    if (!strcmp(n, "g_sync.p_ac_load_sum_lp"))
        return x->load_w;
    if (starts(n, "g_sync.p_ac_load["))
        return x->load_phase_w[ph];
    if (!strcmp(n, "g_sync.p_ac_grid_sum_lp") || !strcmp(n, "g_sync.p_ac_sc_sum"))
        return x->grid_w;
    if (starts(n, "g_sync.p_ac_sc["))
        return x->grid_w / 3.0;
    if (starts(n, "g_sync.u_l_rms[") || starts(n, "rb485.u_l_grid["))
        return x->grid_v[ph];
    if (starts(n, "g_sync.u_ptp_rms["))
        return x->grid_v[ph] * 1.7320508075688772;
    if (!strcmp(n, "grid_pll[0].f") || starts(n, "rb485.f_grid[") || starts(n, "rb485.f_wr["))
        return x->grid_hz;
    if (starts(n, "dc_conv.dc_conv_struct[") && strstr(n, "p_dc"))
        return x->string_w[idx == 1];
    if (starts(n, "g_sync.u_sg_avg[") || (starts(n, "dc_conv.dc_conv_struct[") &&
                                           (strstr(n, "u_sg") || strstr(n, "u_target"))))
        return x->string_v[idx == 1];
    if (!strcmp(n, "g_sync.p_ac_sum_lp") || !strcmp(n, "g_sync.p_ac_sum"))
        return ac;
    if (starts(n, "g_sync.p_ac_lp[") || starts(n, "g_sync.p_ac["))
        return ac / 3.0;
    if (starts(n, "g_sync.i_dr_eff[") || starts(n, "g_sync.i_dr_lp["))
        return fabs(ac) / 3.0 / x->grid_v[ph];
    if (!strcmp(n, "db.temp1"))
        return x->temp_inverter_c;
    if (!strcmp(n, "db.temp2"))
        return x->temp_inverter_c - 4.0;
    if (!strcmp(n, "db.core_temp"))
        return x->temp_inverter_c + 8.0;
    if (!strcmp(n, "inv_struct.cosinus_phi"))
        return 0.999;
    if (!strcmp(n, "iso_struct.Riso"))
        return 4.2e6;
    if (!strcmp(n, "g_sync.u_zk_sum_avg") || !strcmp(n, "g_sync.u_zk_sum_mov_avg"))
        return 760.0 + 4.0 * u01(s, o->id, (uint64_t)now / 10);
    if (!strcmp(n, "g_sync.u_zk_p_avg") || !strcmp(n, "g_sync.u_zk_n_avg"))
        return 380.0 + 2.0 * u01(s, o->id, (uint64_t)now / 10);

    /* Anything else: a stable value in a range that suits its unit. */
    double r = u01(s, o->id, 0);
    const char *unit = o->unit ? o->unit : "";
    if (!strcmp(unit, "V"))
        return 200.0 + 60.0 * r;
    if (!strcmp(unit, "W") || !strcmp(unit, "VA") || !strcmp(unit, "var") || !strcmp(unit, "Wp"))
        return 50.0 + 950.0 * r;
    if (!strcmp(unit, "A"))
        return 1.0 + 15.0 * r;
    if (!strcmp(unit, "Hz"))
        return x->grid_hz;
    if (!strcmp(unit, "°C"))
        return 25.0 + 20.0 * r;
    if (!strcmp(unit, "s") || !strcmp(unit, "min"))
        return 5.0 + (double)(int)(600.0 * r);
    if (!strcmp(unit, "Wh"))
        return x->e_pv_wh * (0.01 + 0.2 * r);
    if (!strcmp(unit, "Ah"))
        return 1000.0 + 9000.0 * r;
    if (!strcmp(unit, "%"))
        return 0.5 + 0.5 * r;
    if (!strcmp(unit, "Ohm"))
        return 1e5 + 4e6 * r;
    if (strstr(unit, "cos"))
        return 0.95 + 0.05 * r;
    if (!strcmp(unit, "days"))
        return 1.0 + (double)(int)(30.0 * r);
    return 0.1 + (double)(int)(1000.0 * r) / 10.0;
}

static int64_t int_value(const sw_rct_sim_config *s, const sw_rct_object *o, int64_t now, const sw_sim_sample *x,
                         int64_t lo, int64_t hi)
{
    const char *n = o->name;
    if (starts(n, "fault[") && strstr(n, ".flt"))
        return 0; /* no fault is active */
    if (!strcmp(n, "battery.bat_status"))
        return 8 | 2048; /* calibrated, not balancing */
    if (!strcmp(n, "power_mng.n_batteries"))
        return 1;
    if (!strcmp(n, "battery.cycles")) /* full discharges since commissioning */
        return s->model.battery_wh > 0 ? (int64_t)(counter(x, E_BATOUT) / s->model.battery_wh) : 0;
    if (strstr(n, ".time") || strstr(n, "last_rescan") || strstr(n, "timestamp"))
        return now - (int64_t)(h(s, o->id, 1) % (7 * DAY));
    if (!strcmp(n, "dc_conv.dc_conv_struct[0].enabled") || !strcmp(n, "dc_conv.dc_conv_struct[1].enabled"))
        return 1;
    if (o->response_type == SW_RCT_TYPE_ENUM) {
        if (!strcmp(n, "prim_sm.state"))
            return x->pv_w > 0 || x->battery_w < 0 ? 13 : 11;
        /* The first labelled state that is not "off"/0, or the first label. */
        if (o->enum_map && o->enum_count) {
            for (uint16_t i = 0; i < o->enum_count; i++)
                if (o->enum_map[i].value != 0)
                    return o->enum_map[i].value;
            return o->enum_map[0].value;
        }
        return 1;
    }
    int64_t span = hi - (lo > 0 ? lo : 1);
    if (span > 100)
        span = 100;
    return 1 + (int64_t)(h(s, o->id, 2) % (uint64_t)span);
}

static size_t put_string(uint8_t *out, size_t cap, const char *text)
{
    /* Real devices terminate strings; the terminator lets clients see a cut answer. */
    size_t n = strlen(text);
    if (n + 1 > cap)
        n = cap - 1;
    memcpy(out, text, n);
    out[n] = 0;
    return n + 1;
}

static size_t string_value(const sw_rct_sim_config *s, const sw_rct_object *o, uint32_t address, uint8_t *out,
                           size_t cap)
{
    const char *n = o->name;
    char b[96];
    unsigned serial = (unsigned)(h(s, 0x5E, address) % 90000000u) + 10000000u;
    if (!strcmp(n, "inverter_sn"))
        snprintf(b, sizeof b, "%08u%04u", serial, (unsigned)(address % 10000));
    else if (!strcmp(n, "android_description"))
        snprintf(b, sizeof b, address ? "PS 6.0 BA3L #%u" : "PS 6.0 BA3L", (unsigned)address);
    else if (starts(n, "svnversion"))
        snprintf(b, sizeof b, "RCT-PS-%u", 5000u + (unsigned)(h(s, o->id, 3) % 2000u));
    else if (!strcmp(n, "parameter_file"))
        snprintf(b, sizeof b, "NORM_VDE-AR-N-4105.txt");
    else if (!strcmp(n, "wifi.ip") || !strcmp(n, "wifi.sockb_ip"))
        snprintf(b, sizeof b, "192.168.178.%u", 20u + (unsigned)(address % 200));
    else if (!strcmp(n, "wifi.gateway") || !strcmp(n, "wifi.dns_address"))
        snprintf(b, sizeof b, "192.168.178.1");
    else if (!strcmp(n, "wifi.mask"))
        snprintf(b, sizeof b, "255.255.255.0");
    else if (!strcmp(n, "wifi.password"))
        snprintf(b, sizeof b, "********");
    else if (!strcmp(n, "wifi.connected_ap_ssid"))
        snprintf(b, sizeof b, "home-network");
    else if (!strcmp(n, "wifi.mode"))
        snprintf(b, sizeof b, "station");
    else if (!strcmp(n, "wifi.authentication_method"))
        snprintf(b, sizeof b, "WPA2-PSK");
    else if (!strcmp(n, "wifi.encryption_algorithm"))
        snprintf(b, sizeof b, "AES");
    else if (!strcmp(n, "wifi.server_ip") || !strcmp(n, "wifi.service_ip"))
        snprintf(b, sizeof b, "10.%u.%u.%u", (unsigned)(h(s, o->id, 1) % 250), (unsigned)(h(s, o->id, 2) % 250),
                 (unsigned)(h(s, o->id, 4) % 250 + 1));
    else if (strstr(n, "_sn"))
        snprintf(b, sizeof b, "%s%08u", strstr(n, "module") ? "BM" : "BS",
                 (unsigned)(h(s, o->id, address) % 90000000u) + 10000000u);
    else if (starts(n, "power_mng.schedule["))
        snprintf(b, sizeof b, "00:00-00:00 0000000");
    else
        snprintf(b, sizeof b, "%s-%04X", n, (unsigned)(h(s, o->id, 5) & 0xFFFF));
    return put_string(out, cap, b);
}

/* Payload of a battery-module object (STATUS / STATISTICS / RESISTANCE). */
static size_t battery_payload(const sw_rct_sim_config *s, const sw_rct_object *o, int64_t now, const sw_sim_sample *x,
                              uint8_t *out)
{
    int module = index_of(o->name);
    if (module < 0)
        module = 0;
    double base_mv = 3300.0 + 150.0 * x->soc;
    switch (o->response_type) {
    case SW_RCT_TYPE_BATTERY_MODULE_STATUS:
        for (int c = 0; c < 24; c++) {
            uint16_t mv = (uint16_t)(base_mv + (double)(h(s, (uint64_t)module * 32 + (uint64_t)c, 6) % 20));
            out[4 * c] = (uint8_t)(x->temp_battery_c + (double)(c % 3));
            out[4 * c + 1] = (uint8_t)(mv & 0xFF); /* little-endian, as the battery sends it */
            out[4 * c + 2] = (uint8_t)(mv >> 8);
            out[4 * c + 3] = 0;
        }
        return 96;
    case SW_RCT_TYPE_BATTERY_MODULE_STATISTICS: {
        /* u_min, u_max, t_min, t_max: cell, time, value, all little-endian words. */
        float vals[4] = { (float)(base_mv / 1000.0 - 0.3), (float)(base_mv / 1000.0 + 0.25),
                          (float)(x->temp_battery_c - 12.0), (float)(x->temp_battery_c + 9.0) };
        for (int r = 0; r < 4; r++) {
            uint32_t words[3];
            float f = vals[r];
            words[0] = (uint32_t)(h(s, (uint64_t)module, 7 + (uint64_t)r) % 24);
            words[1] = (uint32_t)(now - 3 * DAY - (int64_t)(h(s, (uint64_t)module, 11 + (uint64_t)r) % (30 * DAY)));
            memcpy(&words[2], &f, 4);
            for (int w = 0; w < 3; w++)
                for (int k = 0; k < 4; k++)
                    out[12 * r + 4 * w + k] = (uint8_t)(words[w] >> (8 * k));
        }
        return 48;
    }
    case SW_RCT_TYPE_BATTERY_MODULE_RESISTANCE:
        for (int c = 0; c < 24; c++) {
            uint16_t raw = (uint16_t)(300 + h(s, (uint64_t)module * 32 + (uint64_t)c, 15) % 120);
            sw_put_be16(out + 4 * c, raw);
            out[4 * c + 2] = out[4 * c + 3] = 0;
        }
        return 96;
    default:
        return 0;
    }
}

static const sw_rct_sim_stored *find_written(const sw_rct_sim *s, uint32_t id, uint32_t address)
{
    for (size_t i = 0; i < s->n_written; i++)
        if (s->written[i].id == id && s->written[i].address == address)
            return &s->written[i];
    return NULL;
}

/* Device time (house wall clock written as UTC) <-> real UTC. */
static int64_t device_to_utc(const sw_rct_sim_config *s, int64_t dev) { return dev - s->model.utc_offset_s; }

/* The settings sunwire can control read as the factory values public sources name (docs/control.md). */
static bool control_default(const sw_rct_object *obj, sw_rct_value *v)
{
    static const struct { const char *name; double value; } defaults[] = {
        { "power_mng.soc_min", 0.07 },          { "power_mng.soc_max", 0.97 },
        { "power_mng.soc_target_set", 0.5 },    { "power_mng.soc_strategy", 4 },
        { "power_mng.battery_power_extern", 0 }, { "power_mng.soc_charge", 0.05 },
        { "power_mng.soc_charge_power", 100 },  { "p_rec_lim[1]", 0 },
        { "power_mng.use_grid_power_enable", 0 }, { "buf_v_control.power_reduction", 1 },
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        if (strcmp(obj->name, defaults[i].name) != 0)
            continue;
        memset(v, 0, sizeof *v);
        v->type = obj->response_type;
        if (v->type == SW_RCT_TYPE_FLOAT)
            v->u.f = (double)(float)defaults[i].value;
        else if (v->type == SW_RCT_TYPE_BOOL)
            v->u.b = defaults[i].value != 0;
        else
            v->u.i = (int64_t)defaults[i].value;
        return true;
    }
    return false;
}

sw_err sw_rct_sim_payload(const sw_rct_sim *s, const sw_rct_object *obj, uint32_t address, int64_t now_s,
                          uint8_t *out, size_t cap, size_t *len)
{
    sw_rct_value v;
    if (s->cfg.static_values) {
        if (sw_rct_object_sim_value(obj, &v) != SW_OK)
            return SW_ERR_NOT_FOUND;
        return sw_rct_value_encode(&v, out, cap, len);
    }
    const sw_rct_sim_stored *w = find_written(s, obj->id, address);
    if (w) {
        if (w->len > cap)
            return SW_ERR_NO_SPACE;
        memcpy(out, w->data, w->len);
        *len = w->len;
        return SW_OK;
    }
    if (obj->response_type == SW_RCT_TYPE_TIMESERIES || obj->response_type == SW_RCT_TYPE_EVENT_TABLE)
        return sw_rct_sim_logger_payload(s, obj, (uint32_t)(now_s + s->cfg.model.utc_offset_s), out, cap, len);
    if (control_default(obj, &v))
        return sw_rct_value_encode(&v, out, cap, len);
    sw_sim_sample x;
    /* Plant members: the same weather, each its own size. */
    sw_sim_config model = s->cfg.model;
    if (address) {
        double k = 0.6 + 0.8 * (double)(sw_sim_hash(model.seed, 0xAD, address) % 1000) / 1000.0;
        model.pv_peak_w *= k;
        model.base_load_w *= k;
        model.seed ^= address;
    }
    sw_rct_sim_config scaled = s->cfg;
    scaled.model = model;
    sw_sim_sample_at(&model, now_s, &x);
    memset(&v, 0, sizeof v);
    v.type = obj->response_type;
    switch (obj->response_type) {
    case SW_RCT_TYPE_BOOL:
        v.u.b = strstr(obj->name, "is_thin_layer") || strstr(obj->name, "test") ? false
                : (sw_sim_hash(model.seed, obj->id, 9) % 5) != 0;
        break;
    case SW_RCT_TYPE_UINT8: v.u.i = int_value(&scaled, obj, now_s, &x, 0, 255); break;
    case SW_RCT_TYPE_ENUM: v.u.i = int_value(&scaled, obj, now_s, &x, 0, 255); break;
    case SW_RCT_TYPE_INT8: v.u.i = int_value(&scaled, obj, now_s, &x, 0, 127); break;
    case SW_RCT_TYPE_UINT16: v.u.i = int_value(&scaled, obj, now_s, &x, 0, 65535); break;
    case SW_RCT_TYPE_INT16: v.u.i = int_value(&scaled, obj, now_s, &x, 0, 32767); break;
    case SW_RCT_TYPE_UINT32: v.u.i = int_value(&scaled, obj, now_s, &x, 0, 4294967295LL); break;
    case SW_RCT_TYPE_INT32: v.u.i = int_value(&scaled, obj, now_s, &x, 0, 2147483647LL); break;
    case SW_RCT_TYPE_FLOAT: v.u.f = float_value(&scaled, obj, now_s, &x); break;
    case SW_RCT_TYPE_STRING:
        if (cap < 2)
            return SW_ERR_NO_SPACE;
        *len = string_value(&scaled, obj, address, out, cap);
        return SW_OK;
    case SW_RCT_TYPE_UNKNOWN:
        if (cap < 8)
            return SW_ERR_NO_SPACE;
        for (int i = 0; i < 8; i++)
            out[i] = (uint8_t)(sw_sim_hash(model.seed, obj->id, 20 + (uint64_t)i));
        *len = 8;
        return SW_OK;
    default:
        if (cap < 96)
            return SW_ERR_NO_SPACE;
        *len = battery_payload(&scaled, obj, now_s, &x, out);
        return *len ? SW_OK : SW_ERR_NOT_FOUND;
    }
    return sw_rct_value_encode(&v, out, cap, len);
}

/* ---- logger answers ----------------------------------------------------------- */

static void put_point(uint8_t *out, size_t *len, uint32_t ts, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    sw_put_be32(out + *len, ts);
    sw_put_be32(out + *len + 4, bits);
    *len += 8;
}

/* Device-time end of the period before the one containing device time dev: e.g. 23:59:59 of yesterday. */
static int64_t period_end_before(int64_t dev, char res)
{
    int64_t days = floor_div(dev, DAY);
    int64_t y;
    unsigned m, d;
    sw_civil_from_days(days, &y, &m, &d);
    if (res == 'd')
        return days * DAY - 1;
    if (res == 'm')
        return sw_days_from_civil(y, m, 1) * DAY - 1;
    return sw_days_from_civil(y, 1, 1) * DAY - 1;
}

static int64_t period_begin(int64_t dev_end, char res)
{
    int64_t days = floor_div(dev_end, DAY);
    int64_t y;
    unsigned m, d;
    sw_civil_from_days(days, &y, &m, &d);
    if (res == 'd')
        return days * DAY;
    if (res == 'm')
        return sw_days_from_civil(y, m, 1) * DAY;
    return sw_days_from_civil(y, 1, 1) * DAY;
}

static ekind series_energy_kind(const char *series)
{
    if (!strcmp(series, "ea")) return E_DC0;
    if (!strcmp(series, "eb")) return E_DC1;
    if (!strcmp(series, "ebat")) return E_BATIN;
    if (!strcmp(series, "eext")) return E_EXT;
    if (!strcmp(series, "egrid_feed")) return E_FEED;
    if (!strcmp(series, "egrid_load")) return E_GRIDLOAD;
    if (!strcmp(series, "eload")) return E_LOAD;
    return E_AC;
}

static sw_err timeseries_payload(const sw_rct_sim_config *s, const sw_rct_object *obj, uint32_t q, uint8_t *out,
                                 size_t cap, size_t *len)
{
    /* logger.<res>_<series>_log_ts, and logger.year_log_ts (no series: AC energy). */
    const char *n = obj->name + 7;
    char res;
    if (starts(n, "minutes_")) { res = 'n'; n += 8; }
    else if (starts(n, "day_")) { res = 'd'; n += 4; }
    else if (starts(n, "month_")) { res = 'm'; n += 6; }
    else if (starts(n, "year_")) { res = 'y'; n += 5; }
    else return SW_ERR_NOT_FOUND;
    char series[32] = "eac";
    const char *end = strstr(n, "_log_ts");
    if (end && end > n && (size_t)(end - n) < sizeof series) {
        memcpy(series, n, (size_t)(end - n));
        series[end - n] = 0;
    }
    size_t max_points = res == 'n' ? 36 : res == 'd' ? 16 : 12;
    if (cap < 4 + 8 * max_points)
        return SW_ERR_NO_SPACE;
    *len = 0;
    sw_put_be32(out, q);
    *len = 4;
    int64_t dev = (int64_t)q;
    int64_t oldest = res == 'n' ? dev - MINUTES_DEPTH : COMMISSIONED_LOCAL;
    /* Newest first: a device cut short then loses the oldest points, which the next query fetches. */
    if (res == 'n') {
        int64_t t = floor_div(dev - 1, 300) * 300;
        for (size_t i = 0; i < max_points && t >= oldest; i++, t -= 300) {
            sw_sim_sample x;
            sw_sim_sample_at(&s->model, device_to_utc(s, t), &x);
            double v = 0;
            if (!series_value(series, &x, &v))
                return SW_ERR_NOT_FOUND;
            put_point(out, len, (uint32_t)t, (float)v);
        }
        return SW_OK;
    }
    int64_t t = period_end_before(dev, res);
    /* An answer at the very end of a period includes it. */
    for (size_t i = 0; i < max_points && t >= oldest; i++) {
        int64_t b = period_begin(t, res);
        double e = energy_in(s, series_energy_kind(series), device_to_utc(s, b), device_to_utc(s, t + 1));
        put_point(out, len, (uint32_t)t, (float)e);
        t = b - 1;
    }
    return SW_OK;
}

static const uint8_t event_types[] = { 's', 'v', 'Z', 'P', 'w', 'k', 'S' };

static sw_err events_payload(const sw_rct_sim_config *s, uint32_t q, uint8_t *out, size_t cap, size_t *len)
{
    const size_t max_rows = 12;
    if (cap < 4 + 20 * max_rows)
        return SW_ERR_NO_SPACE;
    sw_put_be32(out, q);
    *len = 4;
    size_t rows = 0;
    for (int64_t day = floor_div((int64_t)q, DAY); rows < max_rows && day * DAY >= COMMISSIONED_LOCAL; day--) {
        uint64_t hv = h(s, 0xE7, (uint64_t)day);
        if (hv % 3 == 0)
            continue; /* a quiet day */
        int64_t ts = day * DAY + (int64_t)((hv >> 8) % DAY);
        if (ts >= (int64_t)q)
            continue;
        uint8_t type = event_types[(hv >> 32) % sizeof event_types];
        uint32_t w2, w3, w4 = 0;
        uint32_t dur = 5 + (uint32_t)((hv >> 40) % 600);
        float f;
        switch (type) {
        case 's': /* the target SoC was changed from 0.8 to 0.9 */
            w2 = 0x8B9FF008u;
            f = 0.8f; memcpy(&w3, &f, 4);
            f = 0.9f; memcpy(&w4, &f, 4);
            break;
        case 'w':
            w2 = 0;
            w3 = 5000 + (uint32_t)(day % 900);
            w4 = w3 + 17;
            break;
        case 'P':
        case 'S':
            w2 = (uint32_t)ts + dur;
            f = type == 'P' ? 253.4f : 196.2f;
            memcpy(&w3, &f, 4);
            break;
        case 'Z':
            w2 = (uint32_t)ts + dur;
            w3 = 1 + (uint32_t)(hv % 4);
            break;
        default:
            w2 = (uint32_t)ts + dur;
            w3 = 0;
            break;
        }
        uint8_t *r = out + *len;
        sw_put_be32(r, type);
        sw_put_be32(r + 4, (uint32_t)ts);
        sw_put_be32(r + 8, w2);
        sw_put_be32(r + 12, w3);
        sw_put_be32(r + 16, w4);
        *len += 20;
        rows++;
    }
    return SW_OK;
}

sw_err sw_rct_sim_logger_payload(const sw_rct_sim *s, const sw_rct_object *obj, uint32_t q, uint8_t *out,
                                 size_t cap, size_t *len)
{
    if (obj->response_type == SW_RCT_TYPE_EVENT_TABLE)
        return events_payload(&s->cfg, q, out, cap, len);
    if (obj->response_type == SW_RCT_TYPE_TIMESERIES)
        return timeseries_payload(&s->cfg, obj, q, out, cap, len);
    return SW_ERR_NOT_FOUND;
}

/* ---- answering ---------------------------------------------------------------- */

static bool plant_member(const sw_rct_sim *s, uint32_t address)
{
    for (size_t i = 0; i < s->cfg.n_plant; i++)
        if (s->cfg.plant_addresses[i] == address)
            return true;
    return false;
}

static sw_err build_response(uint8_t *out, size_t cap, size_t *n, bool plant, uint32_t address, uint32_t id,
                             const uint8_t *payload, size_t len, bool prefer_long)
{
    size_t short_max = plant ? SW_RCT_PAYLOAD_MAX_SHORT_PLANT : SW_RCT_PAYLOAD_MAX_SHORT;
    uint8_t cmd = (prefer_long || len > short_max) ? SW_RCT_CMD_LONG_RESPONSE : SW_RCT_CMD_RESPONSE;
    if (plant)
        cmd |= 0x40;
    return sw_rct_frame_build(cmd, id, address, payload, len, out, cap, n);
}

/* faults.revert_after: written values older than that many requests are gone, as after a restart. */
static void forget_reverted(sw_rct_sim *s, uint64_t nreq)
{
    uint64_t after = s->cfg.faults.revert_after;
    if (!after)
        return;
    size_t k = 0;
    for (size_t i = 0; i < s->n_written; i++) {
        if (nreq - s->written[i].at_request >= after) {
            s->counters.reverted++;
            continue;
        }
        s->written[k++] = s->written[i];
    }
    s->n_written = k;
}

/* A write the device would not take: a known control's value outside its documented limits. */
static bool write_refused(const sw_rct_object *obj, const sw_rct_value *v)
{
    const sw_rct_control_def *def = sw_rct_control_def_find(obj->name);
    if (!def)
        return false;
    double x = v->type == SW_RCT_TYPE_FLOAT ? v->u.f : v->type == SW_RCT_TYPE_BOOL ? (v->u.b ? 1.0 : 0.0)
                                                                                   : (double)v->u.i;
    return sw_rct_control_check_value(def, x) != SW_OK;
}

sw_err sw_rct_sim_answer(sw_rct_sim *s, const sw_rct_frame *req, int64_t now_s, uint8_t *out, size_t cap,
                         sw_rct_sim_reply *r)
{
    memset(r, 0, sizeof *r);
    uint64_t nreq = s->counters.requests++;
    forget_reverted(s, nreq);
    if (req->kind == SW_RCT_FRAME_EXTENSION) {
        s->counters.ignored++;
        return SW_OK;
    }
    bool plant = sw_rct_command_is_plant(req->command);
    uint8_t base = (uint8_t)(req->command & ~0x40);
    const sw_rct_object *obj = sw_rct_registry_find_id(req->id);
    bool is_read = base == SW_RCT_CMD_READ;
    bool is_write = base == SW_RCT_CMD_WRITE || base == SW_RCT_CMD_LONG_WRITE;
    if (!obj || (!is_read && !is_write) || (plant && !plant_member(s, req->address)) ||
        (s->cfg.static_values && (plant || !is_read))) {
        s->counters.ignored++;
        return SW_OK;
    }
    uint8_t payload[2048];
    size_t len = 0;
    bool logger = obj->response_type == SW_RCT_TYPE_TIMESERIES || obj->response_type == SW_RCT_TYPE_EVENT_TABLE;
    sw_err e;
    if (is_write && logger) {
        /* A logger query: the payload is the device time to look back from. */
        if (req->payload_len != 4) {
            s->counters.ignored++;
            return SW_OK;
        }
        s->counters.queries++;
        e = sw_rct_sim_logger_payload(s, obj, sw_be32(req->payload), payload, sizeof payload, &len);
    } else if (is_write) {
        sw_rct_value v;
        if (sw_rct_reply_storage_size(req) || req->payload_len > SW_RCT_SIM_WRITE_MAX ||
            sw_rct_decode_reply(req, NULL, &v, NULL, 0) != SW_OK) {
            s->counters.ignored++;
            return SW_OK;
        }
        if (!s->cfg.static_values && write_refused(obj, &v)) {
            s->counters.refused_writes++;
            s->counters.ignored++;
            return SW_OK;
        }
        /* Decided per write (not per request), so a run's writes meet the same fate however many
         * reads come between them. */
        uint64_t nwrite = s->counters.writes + s->counters.ignored_writes;
        if (s->cfg.faults.ignore_write > 0 && u01(&s->cfg, 0x1E, nwrite) < s->cfg.faults.ignore_write) {
            s->counters.ignored_writes++;
            s->counters.ignored++;
            return SW_OK;
        }
        sw_rct_sim_stored *w = (sw_rct_sim_stored *)find_written(s, obj->id, req->address);
        if (!w) {
            if (s->n_written == SW_RCT_SIM_MAX_WRITES)
                s->n_written--; /* full: forget the newest slot rather than refuse */
            w = &s->written[s->n_written++];
        }
        w->id = obj->id;
        w->address = plant ? req->address : 0;
        w->len = (uint16_t)req->payload_len;
        memcpy(w->data, req->payload, req->payload_len);
        w->at_request = nreq;
        s->counters.writes++;
        /* The device confirms with the value it now holds. */
        memcpy(payload, w->data, w->len);
        len = w->len;
        e = SW_OK;
    } else {
        e = sw_rct_sim_payload(s, obj, plant ? req->address : 0, now_s, payload, sizeof payload, &len);
    }
    if (e != SW_OK) {
        s->counters.ignored++;
        return SW_OK;
    }

    /* Faults, decided per request from the seed so that runs repeat. */
    const sw_rct_sim_faults *f = &s->cfg.faults;
    if (f->drop > 0 && u01(&s->cfg, 0xD0, nreq) < f->drop) {
        s->counters.dropped++;
        r->dropped = true;
        return SW_OK;
    }
    size_t used = 0;
    if (f->foreign > 0 && u01(&s->cfg, 0xF0, nreq) < f->foreign) {
        /* Someone else's answer, for an object next to ours in the registry. */
        size_t count = sw_rct_registry_count();
        for (size_t k = 1; k < count; k++) {
            const sw_rct_object *other = sw_rct_registry_at((size_t)(h(&s->cfg, 0xF1, nreq + k) % count));
            uint8_t op[256];
            size_t olen;
            if (!other || other->id == obj->id ||
                other->response_type == SW_RCT_TYPE_TIMESERIES || other->response_type == SW_RCT_TYPE_EVENT_TABLE)
                continue;
            if (sw_rct_sim_payload(s, other, 0, now_s, op, sizeof op, &olen) != SW_OK)
                continue;
            size_t n;
            if (build_response(out, cap, &n, plant, req->address, other->id, op, olen, false) != SW_OK)
                return SW_ERR_NO_SPACE;
            used = n;
            s->counters.foreign++;
            r->foreign = true;
            break;
        }
    }
    if (f->truncate > 0 && len > 0 && u01(&s->cfg, 0x7C, nreq) < f->truncate) {
        len = (size_t)(h(&s->cfg, 0x7D, nreq) % len);
        s->counters.truncated++;
        r->truncated = true;
    }
    if (f->delay > 0 && u01(&s->cfg, 0xDE, nreq) < f->delay) {
        r->delay_ms = f->delay_ms;
        s->counters.delayed++;
    }
    size_t n;
    e = build_response(out + used, cap - used, &n, plant, plant ? req->address : 0, obj->id, payload, len,
                       logger);
    if (e != SW_OK)
        return e;
    r->len = used + n;
    s->counters.answered++;
    return SW_OK;
}
