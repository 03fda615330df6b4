/*
 * rct/rct_control.h: the write plan for controlling an RCT inverter (sans-I/O).
 *
 * What may be written, within which limits, how often, and whether what the
 * device holds afterwards is what was asked for: every rule of the safety
 * chain lives here, so the daemon's poller only does the I/O (read the old
 * value, write, read back) and asks this plan at each step. The plan never
 * reads a clock, sleeps, allocates or touches a socket: times are given in
 * milliseconds on any monotonic clock.
 *
 * The chain, in order, for every write (docs/control.md):
 *   1. the object is one of the known controls (sw_rct_control_def_at), with
 *      limits from public evidence;
 *   2. it is in the configured allow list;
 *   3. the value is finite and within the object's limits (a select: one of
 *      its options, a switch: 0 or 1);
 *   4. the object was not written less than min_interval_ms ago (rate limit);
 *   5. a flash-backed object (or one nobody knows about) has not used up its
 *      writes of the last 24 hours (flash_per_day);
 *   6. no other write is in progress (one at a time per inverter);
 * and before the rate limit, nothing is written while the plan is blocked
 * (sw_rct_control_block: its saved state could not be read);
 * then the poller reads the old value, writes, reads back, and the plan
 * decides: verified, write again (bounded by retries, each again within the
 * flash budget), or failed.
 *
 * "Keep" mode: a value configured per object is re-asserted when a poll
 * shows the device holds something else, through the same chain.
 */
#ifndef SUNWIRE_RCT_CONTROL_H
#define SUNWIRE_RCT_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_rct_control_kind {
    SW_RCT_CONTROL_NUMBER = 0, /* Home Assistant number */
    SW_RCT_CONTROL_SELECT,     /* an ENUM: Home Assistant select */
    SW_RCT_CONTROL_SWITCH      /* a BOOL: Home Assistant switch */
} sw_rct_control_kind;

/* One object sunwire knows how to control (a row of the table in rct_control.c). */
typedef struct sw_rct_control_def {
    const char *object;        /* registry name, e.g. "power_mng.soc_min" */
    const char *name;          /* display name in Home Assistant */
    sw_rct_control_kind kind;
    double min, max;           /* limits in the device's unit (SoC: fraction 0..1) */
    double step;               /* display step in the device's unit */
    double scale;              /* displayed value = device value * scale (SoC: 100) */
    const char *unit;          /* displayed unit, NULL = none */
    const char *device_class;  /* Home Assistant number device class, NULL = none */
    const char *const *options; /* a select's labels, option i = device value i */
    size_t n_options;
    bool flash;                /* treated as flash-backed (unknown counts as yes) */
} sw_rct_control_def;

size_t sw_rct_control_def_count(void);
const sw_rct_control_def *sw_rct_control_def_at(size_t i);
/* NULL when the object is not a known control. */
const sw_rct_control_def *sw_rct_control_def_find(const char *object);

/* Objects one plan manages at most (every known control fits). */
#define SW_RCT_CONTROL_MAX 16
/* The flash window: writes to a flash-backed object are counted over this long. */
#define SW_RCT_CONTROL_FLASH_WINDOW_MS (24LL * 3600 * 1000)

typedef struct sw_rct_control_config {
    int64_t min_interval_ms;   /* per object, between two accepted writes; default 60000 */
    int retries;               /* writes again when the read-back differs; default 2 */
    unsigned flash_per_day;    /* writes of a flash-backed object per 24 h; default 24 */
} sw_rct_control_config;

void sw_rct_control_config_default(sw_rct_control_config *cfg);

/* Who asked for a write. */
typedef enum sw_rct_control_origin {
    SW_RCT_CONTROL_ORIGIN_COMMAND = 0, /* a command (MQTT, Home Assistant) */
    SW_RCT_CONTROL_ORIGIN_KEEP         /* keep mode re-asserting a value */
} sw_rct_control_origin;

/* How a write ended. */
typedef enum sw_rct_control_outcome {
    SW_RCT_CONTROL_VERIFIED = 0, /* read back equal to what was written */
    SW_RCT_CONTROL_FAILED,       /* every attempt read back something else, or the I/O failed */
    SW_RCT_CONTROL_REFUSED       /* never sent: a rule of the chain said no */
} sw_rct_control_outcome;

typedef struct sw_rct_control_slot {
    const sw_rct_control_def *def;
    bool allowed;
    bool keep;
    double keep_value;         /* device unit */
    bool have_last;
    int64_t last_ms;           /* when the last write was accepted */
    int64_t flash_start_ms;    /* start of the current flash window */
    unsigned flash_writes;     /* write frames sent in that window */
} sw_rct_control_slot;

typedef struct sw_rct_control_counters {
    uint64_t requests, refused, writes, verified, failed, retries, keeps;
} sw_rct_control_counters;

typedef struct sw_rct_control_plan {
    sw_rct_control_config cfg;
    sw_rct_control_slot slots[SW_RCT_CONTROL_MAX];
    size_t n_slots;
    sw_rct_control_counters counters;
    bool blocked;              /* no write before blocked_until_ms (sw_rct_control_block) */
    int64_t blocked_until_ms;
    /* the write in progress */
    bool busy;
    size_t cur;
    double target;
    sw_rct_control_origin origin;
    int attempts;              /* write frames sent for it */
    bool have_old;
    double old;
    bool have_back;
    double back;               /* the last value read back */
} sw_rct_control_plan;

/* cfg NULL = defaults. Every known control gets a slot, none allowed yet. */
void sw_rct_control_plan_init(sw_rct_control_plan *p, const sw_rct_control_config *cfg);
/* Allow writes to object. SW_ERR_RCT_UNKNOWN_OBJECT when it is no known control. */
sw_err sw_rct_control_allow(sw_rct_control_plan *p, const char *object);
/* Keep object at value (device unit). The value must pass the object's limits. */
sw_err sw_rct_control_keep(sw_rct_control_plan *p, const char *object, double value);
/* The slot of object, NULL when unknown. */
const sw_rct_control_slot *sw_rct_control_slot_find(const sw_rct_control_plan *p, const char *object);

/*
 * Check a value against object's limits only (steps 1 and 3 of the chain):
 * SW_ERR_RCT_UNKNOWN_OBJECT, SW_ERR_RCT_WRITE_NOT_FINITE,
 * SW_ERR_RCT_CONTROL_OUT_OF_RANGE or SW_OK.
 */
sw_err sw_rct_control_check_value(const sw_rct_control_def *def, double value);

/*
 * Ask for a write of value (device unit) at now_ms. SW_OK: the write is in
 * progress (the plan is busy until it ends); else the rule that refused it:
 * SW_ERR_RCT_UNKNOWN_OBJECT, SW_ERR_RCT_CONTROL_NOT_ALLOWED, a value error
 * (see sw_rct_control_check_value), SW_ERR_RCT_CONTROL_BLOCKED,
 * SW_ERR_RCT_CONTROL_RATE_LIMITED, SW_ERR_RCT_CONTROL_FLASH_BUDGET or
 * SW_ERR_RCT_CONTROL_BUSY.
 */
sw_err sw_rct_control_request(sw_rct_control_plan *p, const char *object, double value,
                              sw_rct_control_origin origin, int64_t now_ms);
/* The old value, read before the first write (optional: the log shows "?" without it). */
void sw_rct_control_set_old(sw_rct_control_plan *p, double old);
/*
 * A write frame is about to be sent at now_ms: SW_OK (counted against the
 * flash budget), or SW_ERR_RCT_CONTROL_FLASH_BUDGET or
 * SW_ERR_RCT_CONTROL_BLOCKED (send nothing; the write has failed,
 * sw_rct_control_finish says so).
 */
sw_err sw_rct_control_may_write(sw_rct_control_plan *p, int64_t now_ms);

typedef enum sw_rct_control_step {
    SW_RCT_CONTROL_STEP_DONE = 0, /* verified or failed: call sw_rct_control_finish */
    SW_RCT_CONTROL_STEP_WRITE     /* write again (sw_rct_control_may_write first) */
} sw_rct_control_step;

/* What was read back after a write: equal (as the device's float32), done; else write again or give up. */
sw_rct_control_step sw_rct_control_read_back(sw_rct_control_plan *p, double value);
/* The read-back could not be made (no answer, connection lost): the write is failed. */
void sw_rct_control_io_failed(sw_rct_control_plan *p);

typedef struct sw_rct_control_result {
    const sw_rct_control_def *def;
    sw_rct_control_origin origin;
    sw_rct_control_outcome outcome;
    double target;
    bool have_old, have_back;
    double old, back;
    int attempts;
} sw_rct_control_result;

/* End the write in progress and describe it; the plan is free again. */
void sw_rct_control_finish(sw_rct_control_plan *p, sw_rct_control_result *out);

/*
 * A poll read object as value at now_ms. True when keep mode wants the kept
 * value written back (the device holds something else and nothing is in
 * progress); the caller then asks sw_rct_control_request with origin KEEP,
 * which applies every limit again.
 */
bool sw_rct_control_observe(const sw_rct_control_plan *p, const char *object, double value, double *keep_value);

/*
 * What survives a restart (docs/control.md): a slot's rate-limit and flash
 * state in wall-clock milliseconds (Unix time), for the caller to store. The
 * plan itself keeps monotonic times; export and import convert with the
 * caller's two clocks read at the same moment.
 */
typedef struct sw_rct_control_saved {
    bool have_last;
    int64_t last_wall_ms;        /* the last accepted write */
    unsigned flash_writes;       /* write frames in the flash window (0: no window open) */
    int64_t flash_start_wall_ms; /* start of that window */
} sw_rct_control_saved;

/* Slot i's state as wall-clock times. SW_ERR_INVALID_ARGUMENT when i is no slot. */
sw_err sw_rct_control_export(const sw_rct_control_plan *p, size_t i, int64_t now_mono_ms, int64_t now_wall_ms,
                             sw_rct_control_saved *out);
/*
 * Take slot i's saved state back: mono = now_mono - (now_wall - wall); a time
 * in the future (the clock was set back) counts as now, a window that ended
 * while nothing ran is dropped. Never lowers what the slot already holds
 * (a later write, more flash writes). SW_ERR_INVALID_ARGUMENT when i is no slot.
 */
sw_err sw_rct_control_import(sw_rct_control_plan *p, size_t i, const sw_rct_control_saved *in, int64_t now_mono_ms,
                             int64_t now_wall_ms);
/*
 * The saved state could not be read (a corrupt file): assume the worst for
 * every slot, a write just now and the flash budget used up, and block the
 * plan for a whole flash window, so nothing is written before it has passed.
 */
void sw_rct_control_assume_spent(sw_rct_control_plan *p, int64_t now_mono_ms);
/*
 * Block every write until until_ms (taken back after a restart: a later end
 * than one already set wins). Requests are refused with
 * SW_ERR_RCT_CONTROL_BLOCKED until then.
 */
void sw_rct_control_block(sw_rct_control_plan *p, int64_t until_ms);
/* Whether the plan is blocked at now_ms; *until_ms (may be NULL) says until when. */
bool sw_rct_control_blocked(const sw_rct_control_plan *p, int64_t now_ms, int64_t *until_ms);

/*
 * What the flash budget leaves slot i at now_ms, for the outputs to show
 * (docs/control.md). A flash-backed slot whose budget is used up is blocked
 * until its window ends; the figures change only at a write or at until_ms.
 */
typedef struct sw_rct_control_status {
    unsigned flash_left;  /* write frames the budget still allows in the window */
    bool blocked;         /* none, or the plan is blocked: nothing is written before until_ms */
    int64_t until_ms;     /* when the open flash window or the block ends (the caller's clock); 0: neither */
} sw_rct_control_status;

/* SW_ERR_INVALID_ARGUMENT when i is no slot. */
sw_err sw_rct_control_status_at(const sw_rct_control_plan *p, size_t i, int64_t now_ms, sw_rct_control_status *out);

/* Whether two device values are the same once stored as the device's float32. */
bool sw_rct_control_same(double a, double b);

/* "verified", "failed", "refused"; "command", "keep". */
const char *sw_rct_control_outcome_name(sw_rct_control_outcome o);
const char *sw_rct_control_origin_name(sw_rct_control_origin o);

#ifdef __cplusplus
}
#endif
#endif
