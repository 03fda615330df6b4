/*
 * control.c: the write plan of rct/rct_control.h and the table of controls.
 *
 * The table holds only objects whose meaning and limits public projects
 * agree on; docs/control.md gives the evidence row by row and what is not
 * known. Whether an object is kept in flash is documented for none of them,
 * so every row is treated as flash-backed.
 */
#include "rct/rct_control.h"

#include <math.h>
#include <string.h>

static const char *const soc_strategy_options[] = {
    "SOC target = SOC", "Constant", "External", "Middle battery voltage", "Internal", "Schedule",
};

#define SOC(obj, label) \
    { obj, label, SW_RCT_CONTROL_NUMBER, 0.0, 1.0, 0.01, 100.0, "%", NULL, NULL, 0, true }
#define WATTS(obj, label, lo, hi) \
    { obj, label, SW_RCT_CONTROL_NUMBER, lo, hi, 1.0, 1.0, "W", "power", NULL, 0, true }

static const sw_rct_control_def defs[] = {
    /* soc_min: the lower bound one public tool enforces is 5 % (docs/control.md). */
    { "power_mng.soc_min", "Battery minimum SoC", SW_RCT_CONTROL_NUMBER, 0.05, 1.0, 0.01, 100.0, "%", NULL,
      NULL, 0, true },
    SOC("power_mng.soc_max", "Battery maximum SoC"),
    SOC("power_mng.soc_target_set", "Battery forced SoC target"),
    { "power_mng.soc_strategy", "Battery SoC strategy", SW_RCT_CONTROL_SELECT, 0, 5, 1, 1, NULL, NULL,
      soc_strategy_options, sizeof soc_strategy_options / sizeof soc_strategy_options[0], true },
    WATTS("power_mng.battery_power_extern", "Battery target power", -6000.0, 6000.0),
    SOC("power_mng.soc_charge", "Maintenance charge SoC"),
    WATTS("power_mng.soc_charge_power", "Maintenance charge power", 0.0, 6000.0),
    WATTS("p_rec_lim[1]", "Battery to grid power limit", 0.0, 6000.0),
    { "power_mng.use_grid_power_enable", "Use external inverter power", SW_RCT_CONTROL_SWITCH, 0, 1, 1, 1, NULL,
      NULL, NULL, 0, true },
    SOC("buf_v_control.power_reduction", "External power reduction"),
};

#define N_DEFS (sizeof defs / sizeof defs[0])
_Static_assert(N_DEFS <= SW_RCT_CONTROL_MAX, "a plan has a slot for every control");

size_t sw_rct_control_def_count(void) { return N_DEFS; }

const sw_rct_control_def *sw_rct_control_def_at(size_t i) { return i < N_DEFS ? &defs[i] : NULL; }

const sw_rct_control_def *sw_rct_control_def_find(const char *object)
{
    if (!object)
        return NULL;
    for (size_t i = 0; i < N_DEFS; i++)
        if (strcmp(defs[i].object, object) == 0)
            return &defs[i];
    return NULL;
}

void sw_rct_control_config_default(sw_rct_control_config *cfg)
{
    cfg->min_interval_ms = 60000;
    cfg->retries = 2;
    cfg->flash_per_day = 24;
}

void sw_rct_control_plan_init(sw_rct_control_plan *p, const sw_rct_control_config *cfg)
{
    memset(p, 0, sizeof *p);
    if (cfg)
        p->cfg = *cfg;
    else
        sw_rct_control_config_default(&p->cfg);
    if (p->cfg.retries < 0)
        p->cfg.retries = 0;
    for (size_t i = 0; i < N_DEFS; i++)
        p->slots[p->n_slots++].def = &defs[i];
}

static sw_rct_control_slot *slot_of(sw_rct_control_plan *p, const char *object)
{
    for (size_t i = 0; object && i < p->n_slots; i++)
        if (strcmp(p->slots[i].def->object, object) == 0)
            return &p->slots[i];
    return NULL;
}

const sw_rct_control_slot *sw_rct_control_slot_find(const sw_rct_control_plan *p, const char *object)
{
    return slot_of((sw_rct_control_plan *)p, object);
}

sw_err sw_rct_control_allow(sw_rct_control_plan *p, const char *object)
{
    sw_rct_control_slot *s = slot_of(p, object);
    if (!s)
        return SW_ERR_RCT_UNKNOWN_OBJECT;
    s->allowed = true;
    return SW_OK;
}

sw_err sw_rct_control_check_value(const sw_rct_control_def *def, double value)
{
    if (!def)
        return SW_ERR_RCT_UNKNOWN_OBJECT;
    if (!isfinite(value))
        return SW_ERR_RCT_WRITE_NOT_FINITE;
    if (value < def->min || value > def->max)
        return SW_ERR_RCT_CONTROL_OUT_OF_RANGE;
    /* A select takes one of its options, a switch 0 or 1: whole numbers only. */
    if (def->kind != SW_RCT_CONTROL_NUMBER && value != floor(value))
        return SW_ERR_RCT_CONTROL_OUT_OF_RANGE;
    return SW_OK;
}

sw_err sw_rct_control_keep(sw_rct_control_plan *p, const char *object, double value)
{
    sw_rct_control_slot *s = slot_of(p, object);
    if (!s)
        return SW_ERR_RCT_UNKNOWN_OBJECT;
    sw_err e = sw_rct_control_check_value(s->def, value);
    if (e != SW_OK)
        return e;
    s->keep = true;
    s->keep_value = value;
    return SW_OK;
}

/* Start a new flash window when the last one is over. */
static void flash_roll(const sw_rct_control_plan *p, sw_rct_control_slot *s, int64_t now_ms)
{
    (void)p;
    if (s->flash_writes == 0 || now_ms - s->flash_start_ms >= SW_RCT_CONTROL_FLASH_WINDOW_MS) {
        s->flash_start_ms = now_ms;
        s->flash_writes = 0;
    }
}

static bool flash_left(const sw_rct_control_plan *p, sw_rct_control_slot *s, int64_t now_ms)
{
    if (!s->def->flash)
        return true;
    flash_roll(p, s, now_ms);
    return s->flash_writes < p->cfg.flash_per_day;
}

sw_err sw_rct_control_request(sw_rct_control_plan *p, const char *object, double value,
                              sw_rct_control_origin origin, int64_t now_ms)
{
    p->counters.requests++;
    sw_rct_control_slot *s = slot_of(p, object);
    sw_err e = SW_OK;
    if (!s)
        e = SW_ERR_RCT_UNKNOWN_OBJECT;
    else if (!s->allowed)
        e = SW_ERR_RCT_CONTROL_NOT_ALLOWED;
    else if ((e = sw_rct_control_check_value(s->def, value)) != SW_OK)
        ;
    else if (sw_rct_control_blocked(p, now_ms, NULL))
        e = SW_ERR_RCT_CONTROL_BLOCKED;
    else if (s->have_last && now_ms - s->last_ms < p->cfg.min_interval_ms)
        e = SW_ERR_RCT_CONTROL_RATE_LIMITED;
    else if (!flash_left(p, s, now_ms))
        e = SW_ERR_RCT_CONTROL_FLASH_BUDGET;
    else if (p->busy)
        e = SW_ERR_RCT_CONTROL_BUSY;
    if (e != SW_OK) {
        p->counters.refused++;
        return e;
    }
    s->have_last = true;
    s->last_ms = now_ms;
    p->busy = true;
    p->cur = (size_t)(s - p->slots);
    p->target = value;
    p->origin = origin;
    p->attempts = 0;
    p->have_old = p->have_back = false;
    if (origin == SW_RCT_CONTROL_ORIGIN_KEEP)
        p->counters.keeps++;
    return SW_OK;
}

void sw_rct_control_set_old(sw_rct_control_plan *p, double old)
{
    if (!p->busy)
        return;
    p->have_old = true;
    p->old = old;
}

sw_err sw_rct_control_may_write(sw_rct_control_plan *p, int64_t now_ms)
{
    if (!p->busy)
        return SW_ERR_INVALID_ARGUMENT;
    sw_rct_control_slot *s = &p->slots[p->cur];
    if (sw_rct_control_blocked(p, now_ms, NULL))
        return SW_ERR_RCT_CONTROL_BLOCKED;
    if (!flash_left(p, s, now_ms))
        return SW_ERR_RCT_CONTROL_FLASH_BUDGET;
    s->flash_writes++;
    if (p->attempts > 0)
        p->counters.retries++;
    p->attempts++;
    p->counters.writes++;
    return SW_OK;
}

bool sw_rct_control_same(double a, double b)
{
    /* The device keeps FLOAT objects as float32; ENUM and BOOL values are small whole numbers. */
    return (float)a == (float)b;
}

sw_rct_control_step sw_rct_control_read_back(sw_rct_control_plan *p, double value)
{
    if (!p->busy)
        return SW_RCT_CONTROL_STEP_DONE;
    p->have_back = true;
    p->back = value;
    if (sw_rct_control_same(value, p->target))
        return SW_RCT_CONTROL_STEP_DONE;
    if (p->attempts <= p->cfg.retries)
        return SW_RCT_CONTROL_STEP_WRITE;
    return SW_RCT_CONTROL_STEP_DONE;
}

void sw_rct_control_io_failed(sw_rct_control_plan *p) { p->have_back = false; }

void sw_rct_control_finish(sw_rct_control_plan *p, sw_rct_control_result *out)
{
    sw_rct_control_result r;
    memset(&r, 0, sizeof r);
    if (p->busy) {
        r.def = p->slots[p->cur].def;
        r.origin = p->origin;
        r.target = p->target;
        r.have_old = p->have_old;
        r.old = p->old;
        r.have_back = p->have_back;
        r.back = p->back;
        r.attempts = p->attempts;
        r.outcome = p->have_back && sw_rct_control_same(p->back, p->target) ? SW_RCT_CONTROL_VERIFIED
                                                                           : SW_RCT_CONTROL_FAILED;
        if (r.outcome == SW_RCT_CONTROL_VERIFIED)
            p->counters.verified++;
        else
            p->counters.failed++;
    } else {
        r.outcome = SW_RCT_CONTROL_FAILED;
    }
    p->busy = false;
    p->have_old = p->have_back = false;
    if (out)
        *out = r;
}

sw_err sw_rct_control_export(const sw_rct_control_plan *p, size_t i, int64_t now_mono_ms, int64_t now_wall_ms,
                             sw_rct_control_saved *out)
{
    if (!p || !out || i >= p->n_slots)
        return SW_ERR_INVALID_ARGUMENT;
    const sw_rct_control_slot *s = &p->slots[i];
    int64_t off = now_wall_ms - now_mono_ms;
    memset(out, 0, sizeof *out);
    out->have_last = s->have_last;
    if (s->have_last)
        out->last_wall_ms = s->last_ms + off;
    out->flash_writes = s->flash_writes;
    if (s->flash_writes)
        out->flash_start_wall_ms = s->flash_start_ms + off;
    return SW_OK;
}

/* The past is bounded: older than this makes no difference to any rule (and no overflow). */
#define SAVED_AGE_MAX (4 * SW_RCT_CONTROL_FLASH_WINDOW_MS)

static int64_t to_mono(int64_t wall_ms, int64_t now_mono_ms, int64_t now_wall_ms)
{
    if (wall_ms >= now_wall_ms)
        return now_mono_ms; /* in the future: the wall clock went back; count it as now */
    int64_t age = wall_ms < now_wall_ms - SAVED_AGE_MAX ? SAVED_AGE_MAX : now_wall_ms - wall_ms;
    return now_mono_ms - age;
}

sw_err sw_rct_control_import(sw_rct_control_plan *p, size_t i, const sw_rct_control_saved *in, int64_t now_mono_ms,
                             int64_t now_wall_ms)
{
    if (!p || !in || i >= p->n_slots)
        return SW_ERR_INVALID_ARGUMENT;
    if (now_wall_ms < INT64_MIN / 4 || now_wall_ms > INT64_MAX / 4)
        return SW_ERR_INVALID_ARGUMENT;
    sw_rct_control_slot *s = &p->slots[i];
    if (in->have_last) {
        int64_t last = to_mono(in->last_wall_ms, now_mono_ms, now_wall_ms);
        if (!s->have_last || last > s->last_ms) {
            s->have_last = true;
            s->last_ms = last;
        }
    }
    if (in->flash_writes) {
        int64_t start = to_mono(in->flash_start_wall_ms, now_mono_ms, now_wall_ms);
        bool over = now_mono_ms - start >= SW_RCT_CONTROL_FLASH_WINDOW_MS;
        if (!over && in->flash_writes > s->flash_writes) {
            /* An open window keeps its (earliest) start: its writes all count until it ends. */
            if (!s->flash_writes || start < s->flash_start_ms)
                s->flash_start_ms = start;
            s->flash_writes = in->flash_writes;
        }
    }
    return SW_OK;
}

void sw_rct_control_assume_spent(sw_rct_control_plan *p, int64_t now_mono_ms)
{
    for (size_t i = 0; i < p->n_slots; i++) {
        sw_rct_control_slot *s = &p->slots[i];
        s->have_last = true;
        s->last_ms = now_mono_ms;
        s->flash_start_ms = now_mono_ms;
        s->flash_writes = p->cfg.flash_per_day > 0 ? p->cfg.flash_per_day : 1;
    }
    sw_rct_control_block(p, now_mono_ms + SW_RCT_CONTROL_FLASH_WINDOW_MS);
}

void sw_rct_control_block(sw_rct_control_plan *p, int64_t until_ms)
{
    if (!p->blocked || until_ms > p->blocked_until_ms) {
        p->blocked = true;
        p->blocked_until_ms = until_ms;
    }
}

bool sw_rct_control_blocked(const sw_rct_control_plan *p, int64_t now_ms, int64_t *until_ms)
{
    bool on = p->blocked && now_ms < p->blocked_until_ms;
    if (until_ms)
        *until_ms = on ? p->blocked_until_ms : 0;
    return on;
}

sw_err sw_rct_control_status_at(const sw_rct_control_plan *p, size_t i, int64_t now_ms, sw_rct_control_status *out)
{
    if (!p || !out || i >= p->n_slots)
        return SW_ERR_INVALID_ARGUMENT;
    const sw_rct_control_slot *s = &p->slots[i];
    memset(out, 0, sizeof *out);
    out->flash_left = p->cfg.flash_per_day;
    if (s->def->flash && s->flash_writes > 0 && now_ms - s->flash_start_ms < SW_RCT_CONTROL_FLASH_WINDOW_MS) {
        out->until_ms = s->flash_start_ms + SW_RCT_CONTROL_FLASH_WINDOW_MS;
        out->flash_left = s->flash_writes < p->cfg.flash_per_day ? p->cfg.flash_per_day - s->flash_writes : 0;
        out->blocked = out->flash_left == 0;
    }
    int64_t until;
    if (sw_rct_control_blocked(p, now_ms, &until)) {
        out->blocked = true; /* ends when both the block and a spent window have ended */
        if (out->flash_left > 0 || until > out->until_ms)
            out->until_ms = until;
    }
    return SW_OK;
}

bool sw_rct_control_observe(const sw_rct_control_plan *p, const char *object, double value, double *keep_value)
{
    const sw_rct_control_slot *s = sw_rct_control_slot_find(p, object);
    if (!s || !s->keep || !s->allowed || p->busy || sw_rct_control_same(value, s->keep_value))
        return false;
    if (keep_value)
        *keep_value = s->keep_value;
    return true;
}

const char *sw_rct_control_outcome_name(sw_rct_control_outcome o)
{
    switch (o) {
    case SW_RCT_CONTROL_VERIFIED: return "verified";
    case SW_RCT_CONTROL_FAILED: return "failed";
    case SW_RCT_CONTROL_REFUSED: return "refused";
    }
    return "unknown";
}

const char *sw_rct_control_origin_name(sw_rct_control_origin o)
{
    return o == SW_RCT_CONTROL_ORIGIN_KEEP ? "keep" : "command";
}
