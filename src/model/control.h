/*
 * model/control.h: what became of the control writes to RCT settings
 * (docs/control.md), one record per inverter and object (private to the
 * program; included by model/model.h).
 *
 * The write plan (rct/rct_control.h) decides and the daemon's poller does the
 * I/O; the poller counts here how each asked-for write ended and what the
 * plan's limits leave, so the pulled outputs (Prometheus, the web API) can
 * show whether writes are refused, ignored by the device, retried or blocked.
 * The model knows nothing of RCT: it keeps counters and times it is handed.
 *
 * Every way a write can end is declared once, in SW_CONTROL_RESULTS below:
 * its outcome (the event's "verified", "failed", "refused"), the reason class
 * (the `reason` label and key, "" for verified) and a meaning for people.
 */
#ifndef SW_MODEL_CONTROL_H
#define SW_MODEL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SW_MODEL_NAME_MAX
#define SW_MODEL_NAME_MAX 64
#endif

/* X(ID, outcome, reason, meaning) */
#define SW_CONTROL_RESULTS(X)                                                                                  \
    X(VERIFIED, "verified", "", "read back as written")                                                        \
    X(IGNORED, "failed", "ignored", "every write read back another value: the device ignored it")              \
    X(NO_ANSWER, "failed", "no_answer", "the inverter did not answer, or was not connected")                   \
    X(FLASH_SPENT, "failed", "flash_budget", "the flash budget ran out before the next retry")                 \
    X(ERROR, "failed", "error", "the value could not be sent as the object's type")                            \
    X(NOT_ALLOWED, "refused", "not_allowed", "the object is not in control_allow")                             \
    X(OUT_OF_RANGE, "refused", "out_of_range", "the value is outside the object's limits")                     \
    X(INVALID, "refused", "invalid", "the command names no known control, or its payload is no value of it")   \
    X(RATE_LIMITED, "refused", "rate_limited", "the object was written less than control_rate ago")            \
    X(FLASH_BUDGET, "refused", "flash_budget", "the object's flash budget of the last 24 hours is used up")    \
    X(BUSY, "refused", "busy", "another write to the inverter was in progress")

#define SW_CONTROL_RESULT_ENUM(id, outcome, reason, meaning) SW_CONTROL_##id,
typedef enum sw_control_result {
    SW_CONTROL_RESULTS(SW_CONTROL_RESULT_ENUM)
    SW_CONTROL_RESULT_COUNT
} sw_control_result;
#undef SW_CONTROL_RESULT_ENUM

/* "verified", "failed", "refused"; NULL when r is out of range. */
const char *sw_control_result_outcome(sw_control_result r);
/* The reason class: "" for verified, "ignored", "rate_limited", ...; NULL when out of range. */
const char *sw_control_result_reason(sw_control_result r);
/* One sentence for people; NULL when out of range. */
const char *sw_control_result_meaning(sw_control_result r);

/*
 * One object of one inverter. Its fields are declared in model/fields.h
 * (SW_CONTROL_FIELDS); writes[] is counted by result.
 */
typedef struct sw_control {
    char inverter[SW_MODEL_NAME_MAX];
    char object[SW_MODEL_NAME_MAX];   /* registry name; "" for commands that named no known control */
    bool allowed;                     /* in control_allow: the flash and block figures below apply */
    uint64_t writes[SW_CONTROL_RESULT_COUNT]; /* asked-for writes, by how they ended */
    uint64_t retries;                 /* write frames sent again after the device ignored one */
    unsigned flash_per_day;           /* the budget: write frames per 24 hours */
    unsigned flash_left;              /* what is left of it now */
    bool blocked;                     /* the budget is used up: nothing is written until blocked_until_ns */
    int64_t blocked_until_ns;         /* wall clock the block ends, 0 while not blocked */
} sw_control;

/* Records one model keeps (every known control of every inverter, and one for unknown objects). */
#define SW_MODEL_MAX_CONTROLS 288

typedef struct sw_model sw_model;

/*
 * The record of (inverter, object), created when new (object NULL = "").
 * The caller updates it in place, then calls sw_model_control_changed.
 * NULL when the table is full or inverter is empty.
 */
sw_control *sw_model_control(sw_model *m, const char *inverter, const char *object);
/* The record, NULL when there is none. */
const sw_control *sw_model_control_find(const sw_model *m, const char *inverter, const char *object);
/* A record changed at now_ns. Pulled outputs read it; no sink is pushed. */
void sw_model_control_changed(sw_model *m, int64_t now_ns);
size_t sw_model_control_count(const sw_model *m);
const sw_control *sw_model_control_at(const sw_model *m, size_t i);

#ifdef __cplusplus
}
#endif
#endif
