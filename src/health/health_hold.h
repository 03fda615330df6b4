/*
 * health/health_hold.h: "has this held long enough?", the one rule every
 * detector in src/health uses to turn a momentary reading into a problem
 * that is raised or cleared only when its condition stays put.
 */
#ifndef SW_HEALTH_HOLD_H
#define SW_HEALTH_HOLD_H

#include <stdbool.h>
#include <stdint.h>

/*
 * *since is when `cond` last became true (0 while false). Returns true once
 * it has held for at least hold_ns at now_ns.
 */
static inline bool sw_health_held(int64_t *since, bool cond, int64_t now_ns, int64_t hold_ns)
{
    if (!cond) {
        *since = 0;
        return false;
    }
    if (*since == 0)
        *since = now_ns ? now_ns : 1;
    return now_ns - *since >= hold_ns;
}

#endif
