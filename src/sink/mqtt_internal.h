/*
 * mqtt_internal.h: helpers shared by the MQTT output's files (not installed).
 */
#ifndef SUNWIRE_SINK_MQTT_INTERNAL_H
#define SUNWIRE_SINK_MQTT_INTERNAL_H

#include <math.h>

/* Round to `digits` decimals so scaled values print as 53.2, not 53.199999999999996. */
static inline double sw_mqtt_round(double v, int digits)
{
    double f = 1.0;
    while (digits-- > 0)
        f *= 10.0;
    if (!isfinite(v) || fabs(v) * f > 9e15)
        return v;
    return round(v * f) / f;
}

#endif
