/*
 * control.c: the table of control write results (model/model.h).
 * The records themselves live in the model (model.c).
 */
#include "model/model.h"

#include <stddef.h>

static const struct {
    const char *outcome, *reason, *meaning;
} RESULTS[] = {
#define SW_CONTROL_RESULT_ROW(id, outcome, reason, meaning) [SW_CONTROL_##id] = {outcome, reason, meaning},
    SW_CONTROL_RESULTS(SW_CONTROL_RESULT_ROW)
#undef SW_CONTROL_RESULT_ROW
};

_Static_assert(sizeof RESULTS / sizeof RESULTS[0] == SW_CONTROL_RESULT_COUNT, "a row per result");

static bool known(sw_control_result r) { return (unsigned)r < SW_CONTROL_RESULT_COUNT; }

const char *sw_control_result_outcome(sw_control_result r) { return known(r) ? RESULTS[r].outcome : NULL; }
const char *sw_control_result_reason(sw_control_result r) { return known(r) ? RESULTS[r].reason : NULL; }
const char *sw_control_result_meaning(sw_control_result r) { return known(r) ? RESULTS[r].meaning : NULL; }
