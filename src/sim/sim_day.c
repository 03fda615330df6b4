/*
 * sim_day.c: the simulated PV household (see sim/sim.h).
 *
 * Everything is a pure function of (config, t). Randomness comes from hashing
 * the seed with a time bucket, so clouds and load spikes look random yet are
 * the same every time the same instant is asked for. The battery is the only
 * part with memory; it is integrated from local midnight two days back in
 * five-minute steps, which is long enough for the initial guess to be
 * forgotten on any sunny day (a full or empty battery erases history).
 * Energy counters use smooth closed forms rather than integration, because a
 * device reports totals over years and summing years of steps per answer
 * would be far too slow; they are monotonic by construction.
 */
#include "sim/sim.h"

#include <math.h>

#include "sunwire/core.h"

#define PI 3.14159265358979323846
#define DAY 86400
/* Counters start on 2015-01-01: the plant has a few years of history. */
#define COMMISSIONED 1420070400LL

void sw_sim_config_default(sw_sim_config *cfg, uint64_t seed)
{
    cfg->seed = seed;
    cfg->latitude_deg = 50.0;
    cfg->longitude_deg = 10.0;
    cfg->utc_offset_s = 3600;
    cfg->pv_peak_w = 8000.0;
    cfg->battery_wh = 10000.0;
    cfg->battery_max_w = 5000.0;
    cfg->battery_min_soc = 0.05;
    cfg->base_load_w = 300.0;
}

uint64_t sw_sim_hash(uint64_t seed, uint64_t a, uint64_t b)
{
    /* splitmix64 finaliser over a simple mix of the three inputs. */
    uint64_t z = seed ^ (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL);
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double unit(uint64_t seed, uint64_t a, uint64_t b)
{
    return (double)(sw_sim_hash(seed, a, b) >> 11) * (1.0 / 9007199254740992.0);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Smoothly interpolated noise with one random knot per `period` seconds. */
static double value_noise(uint64_t seed, uint64_t stream, int64_t t, int64_t period)
{
    int64_t k = floor_div(t, period);
    double f = (double)(t - k * period) / (double)period;
    double a = unit(seed, stream, (uint64_t)k);
    double b = unit(seed, stream, (uint64_t)(k + 1));
    double s = f * f * (3.0 - 2.0 * f);
    return a + (b - a) * s;
}

static double day_of_year(int64_t t)
{
    int64_t days = floor_div(t, DAY);
    int64_t y;
    unsigned m, d;
    sw_civil_from_days(days, &y, &m, &d);
    int64_t jan1 = sw_days_from_civil(y, 1, 1);
    return (double)(days - jan1) + (double)(t - days * DAY) / DAY;
}

/* Solar time in hours (0..24) at the configured longitude. */
static double solar_hours(const sw_sim_config *cfg, int64_t t)
{
    double shifted = (double)t + cfg->longitude_deg / 15.0 * 3600.0;
    double h = fmod(shifted, (double)DAY);
    if (h < 0)
        h += DAY;
    return h / 3600.0;
}

static double local_hours(const sw_sim_config *cfg, int64_t t)
{
    int64_t s = t + cfg->utc_offset_s;
    int64_t sod = s - floor_div(s, DAY) * DAY;
    return (double)sod / 3600.0;
}

static double clear_sky(const sw_sim_config *cfg, int64_t t)
{
    double doy = day_of_year(t);
    double decl = -23.44 * PI / 180.0 * cos(2.0 * PI * (doy + 10.0) / 365.0);
    double lat = cfg->latitude_deg * PI / 180.0;
    double hour_angle = (solar_hours(cfg, t) - 12.0) * 15.0 * PI / 180.0;
    double s = sin(lat) * sin(decl) + cos(lat) * cos(decl) * cos(hour_angle);
    return s > 0.0 ? s : 0.0;
}

static double cloud_transmission(const sw_sim_config *cfg, int64_t t)
{
    /* How cloudy the day is, and where the clouds are within it. */
    int64_t day = floor_div(t, DAY);
    double cloudiness = unit(cfg->seed, 1, (uint64_t)day);
    cloudiness = cloudiness * cloudiness; /* more bright days than grey ones */
    double n = value_noise(cfg->seed, 2, t, 900);
    double tr = 1.0 - cloudiness * 0.8 * n;
    return tr < 0.15 ? 0.15 : tr;
}

double sw_sim_irradiance(const sw_sim_config *cfg, int64_t t)
{
    double s = clear_sky(cfg, t) / 0.9;
    if (s > 1.0)
        s = 1.0;
    return s * cloud_transmission(cfg, t);
}

double sw_sim_item_factor(const sw_sim_config *cfg, int64_t t, uint32_t index)
{
    /* A fixed per-item offset (soiling, orientation) plus slow wobble. */
    double fixed = unit(cfg->seed, 3, index);
    double wobble = value_noise(cfg->seed, 0x100000000ULL + index, t, 600);
    return 0.9 + 0.1 * fixed + 0.05 * wobble;
}

static double pv_power(const sw_sim_config *cfg, int64_t t)
{
    return cfg->pv_peak_w * sw_sim_irradiance(cfg, t);
}

static double bump(double x, double mu, double sigma)
{
    double d = (x - mu) / sigma;
    return exp(-0.5 * d * d);
}

static double load_power(const sw_sim_config *cfg, int64_t t)
{
    double h = local_hours(cfg, t);
    double w = cfg->base_load_w + 550.0 * bump(h, 7.3, 0.9) + 350.0 * bump(h, 12.5, 1.0) +
               900.0 * bump(h, 19.0, 1.6);
    /* Appliances switching on: a kettle or an oven for a five-minute bucket now and then. */
    int64_t bucket = floor_div(t, 300);
    double u = unit(cfg->seed, 4, (uint64_t)bucket);
    if (h > 6.0 && h < 23.0 && u < 0.1)
        w += 1200.0 + 1500.0 * unit(cfg->seed, 5, (uint64_t)bucket);
    w *= 0.92 + 0.16 * value_noise(cfg->seed, 6, t, 120);
    return w;
}

/* What the battery does given the surplus and its charge. */
static double battery_power(const sw_sim_config *cfg, double surplus, double soc)
{
    double b = surplus;
    if (b > cfg->battery_max_w)
        b = cfg->battery_max_w;
    if (b < -cfg->battery_max_w)
        b = -cfg->battery_max_w;
    /* A full battery still feeds its own electronics; an empty one is kept alive from the grid. */
    if (b > 0 && soc >= 1.0)
        b = -8.0;
    if (b < 0 && soc <= cfg->battery_min_soc)
        b = 8.0;
    return b;
}

static double soc_step(const sw_sim_config *cfg, double soc, double bat_w, double seconds)
{
    /* 95 % each way: charging stores less, discharging drains more. */
    double wh = bat_w * seconds / 3600.0;
    wh = wh > 0 ? wh * 0.95 : wh / 0.95;
    soc += wh / cfg->battery_wh;
    if (soc > 1.0)
        soc = 1.0;
    if (soc < cfg->battery_min_soc)
        soc = cfg->battery_min_soc;
    return soc;
}

static double soc_at(const sw_sim_config *cfg, int64_t t)
{
    int64_t local = t + cfg->utc_offset_s;
    int64_t start = floor_div(local, DAY) * DAY - 2 * DAY - cfg->utc_offset_s;
    double soc = 0.3 + 0.4 * unit(cfg->seed, 7, (uint64_t)floor_div(start, DAY));
    const int64_t step = 300;
    int64_t x = start;
    while (x < t) {
        int64_t dt = t - x < step ? t - x : step;
        double b = battery_power(cfg, pv_power(cfg, x) - load_power(cfg, x), soc);
        soc = soc_step(cfg, soc, b, (double)dt);
        x += dt;
    }
    return soc;
}

/* Integral of a seasonal daily energy, days since commissioning; non-decreasing. */
static double seasonal_energy(double days, double per_day, double amplitude)
{
    const double w = 2.0 * PI / 365.25;
    const double phase = -w * 171.0; /* longest day around 21 June */
    return per_day * (days + amplitude / w * (sin(w * days + phase) - sin(phase)));
}

/*
 * A counter that grows by a seasonal amount per day, each day a little more or
 * less than the season says (weather, habits): day d starts at S(d) + j(d)
 * with j a per-day random offset below the smallest daily amount, so the
 * counter never goes down however the offsets fall.
 */
static double daily_counter(const sw_sim_config *cfg, uint64_t stream, double day, double frac, double per_day,
                            double amplitude)
{
    double jmax = 0.8 * per_day * (1.0 - fabs(amplitude));
    double a = seasonal_energy(day, per_day, amplitude) + jmax * unit(cfg->seed, stream, (uint64_t)(int64_t)day);
    double b = seasonal_energy(day + 1.0, per_day, amplitude) +
               jmax * unit(cfg->seed, stream, (uint64_t)(int64_t)(day + 1.0));
    return a + (b - a) * frac;
}

static double pv_counter(const sw_sim_config *cfg, int64_t t)
{
    double shifted = (double)(t - COMMISSIONED) + cfg->longitude_deg / 15.0 * 3600.0;
    if (shifted < 0)
        return 0.0;
    double hs = solar_hours(cfg, t);
    double frac = hs <= 6.0 ? 0.0 : hs >= 18.0 ? 1.0 : (1.0 - cos(PI * (hs - 6.0) / 12.0)) / 2.0;
    /* ~1000 kWh per kWp and year, much more in summer than in winter */
    return daily_counter(cfg, 15, floor(shifted / DAY), frac, cfg->pv_peak_w * 2.7, 0.65);
}

static double load_counter(const sw_sim_config *cfg, int64_t t)
{
    double shifted = (double)(t - COMMISSIONED) + cfg->utc_offset_s;
    if (shifted < 0)
        return 0.0;
    double day = floor(shifted / DAY);
    /* Houses use more in winter: a negative amplitude puts the peak there. */
    return daily_counter(cfg, 16, day, (shifted - day * DAY) / DAY, (cfg->base_load_w + 160.0) * 24.0, -0.2);
}

void sw_sim_sample_at(const sw_sim_config *cfg, int64_t t, sw_sim_sample *o)
{
    o->t = t;
    o->sun = clear_sky(cfg, t);
    o->clouds = cloud_transmission(cfg, t);
    o->pv_w = pv_power(cfg, t);
    double fa = sw_sim_item_factor(cfg, t, 0), fb = sw_sim_item_factor(cfg, t, 1);
    o->string_w[0] = o->pv_w * 0.55 * fa / ((0.55 * fa + 0.45 * fb));
    o->string_w[1] = o->pv_w - o->string_w[0];
    for (int i = 0; i < 2; i++) {
        /* MPP voltage rises quickly with the first light, then sags as the panels warm up. */
        double irr = sw_sim_irradiance(cfg, t);
        o->string_v[i] = irr > 0 ? (i == 0 ? 420.0 : 380.0) * (0.8 + 0.2 * sqrt(irr)) : 0.0;
    }
    o->load_w = load_power(cfg, t);
    double p0 = 0.30 + 0.1 * value_noise(cfg->seed, 8, t, 600);
    double p1 = 0.30 + 0.1 * value_noise(cfg->seed, 9, t, 600);
    o->load_phase_w[0] = o->load_w * p0;
    o->load_phase_w[1] = o->load_w * p1;
    o->load_phase_w[2] = o->load_w - o->load_phase_w[0] - o->load_phase_w[1];

    o->soc = soc_at(cfg, t);
    o->battery_w = battery_power(cfg, o->pv_w - o->load_w, o->soc);
    /* The battery's control loop lags the load a little, so the grid never reads exactly zero. */
    double lag = 4.0 + 12.0 * value_noise(cfg->seed, 14, t, 20);
    if (o->battery_w > lag)
        o->battery_w -= lag;
    else if (o->battery_w < -lag)
        o->battery_w += lag;
    o->battery_v = 360.0 + 90.0 * o->soc;
    o->grid_w = o->load_w - o->pv_w + o->battery_w;
    for (int i = 0; i < 3; i++)
        o->grid_v[i] = 228.0 + 6.0 * value_noise(cfg->seed, 10 + (uint64_t)i, t, 60);
    o->grid_hz = 49.97 + 0.06 * value_noise(cfg->seed, 13, t, 30);

    double doy = day_of_year(t);
    double season = -cos(2.0 * PI * (doy - 15.0) / 365.0); /* -1 mid January, +1 mid July */
    double daily = -cos(2.0 * PI * (local_hours(cfg, t) - 3.0) / 24.0); /* warmest mid afternoon */
    o->temp_ambient_c = 10.0 + 9.0 * season + 4.0 * daily;
    o->temp_inverter_c = o->temp_ambient_c + 12.0 + 18.0 * o->pv_w / cfg->pv_peak_w;
    if (o->temp_inverter_c < 15.0)
        o->temp_inverter_c = 15.0; /* indoors, and the electronics keep it warm */
    o->temp_battery_c = 19.0 + 0.2 * (o->temp_ambient_c - 10.0) +
                        6.0 * fabs(o->battery_w) / cfg->battery_max_w;

    o->e_pv_wh = pv_counter(cfg, t);
    o->e_load_wh = load_counter(cfg, t);
    o->e_grid_export_wh = 0.52 * o->e_pv_wh;
    o->e_grid_import_wh = 0.38 * o->e_load_wh;
    o->e_battery_charge_wh = 0.25 * o->e_pv_wh;
    o->e_battery_discharge_wh = 0.92 * o->e_battery_charge_wh;
}
