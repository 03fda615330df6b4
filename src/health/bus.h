/*
 * health/bus.h: the health detectors of one Tigo bus together (report loss
 * and the radio link, the bus and controller watchdog), fed from one
 * observer the way the daemon runs it, so the daemon and the tests that run
 * a simulated bus share one wiring.
 *
 * Feed it: the observer's transport tap (sw_health_bus_transport), each power
 * event before and after the model takes the report, each infrastructure
 * event, the state known at start, the connection's ups and downs, and a
 * tick. Sans-I/O like its parts: every time is the caller's. The struct is
 * large (about 1 MiB): allocate it.
 */
#ifndef SW_HEALTH_BUS_H
#define SW_HEALTH_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "health/radio.h"
#include "health/watchdog.h"
#include "model/model.h"
#include "sunwire/tigo_observer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A pause between receive requests longer than this means reports could not be fetched. */
#define SW_HEALTH_BUS_BLIND_NS 10000000000LL

typedef struct sw_health_bus {
    sw_health_radio radio;
    sw_health_watchdog watchdog;
    int64_t down_ns;          /* when the bus was lost, 0 = connected or never */
} sw_health_bus;

/* cfg NULL = the defaults. */
void sw_health_bus_init(sw_health_bus *b, const sw_health_radio_config *radio, const sw_health_watchdog_config *wd,
                        const char *source);
void sw_health_bus_connected(sw_health_bus *b, bool connected, int64_t now_ns);
/* The observer's transport tap, with the time of the bytes being pushed. */
void sw_health_bus_transport(sw_health_bus *b, sw_model *m, const sw_tigo_transport_event *ev, int64_t now_ns);
/*
 * A power event: count it, and fill the model's report *r from it: its
 * measurement time and values and the panel's radio figures (the barcode is
 * left NULL for the caller).
 */
void sw_health_bus_power(sw_health_bus *b, const sw_tigo_power_event *p, sw_panel_report *r);
/* ... and once the model took the report: judge the panel. */
void sw_health_bus_power_stored(sw_health_bus *b, sw_model *m, const sw_tigo_power_event *p);
/* An infrastructure event (node tables, versions, enumerations) that changed the state. */
void sw_health_bus_infrastructure(sw_health_bus *b, sw_model *m, const sw_tigo_infrastructure_event *ev,
                                  int64_t now_ns);
/* The state known before the bus is heard (a state file): the watchdog's reference. */
void sw_health_bus_state_loaded(sw_health_bus *b, sw_model *m, const sw_tigo_state *s, int64_t now_ns);
/* Time passes: the watchdog's silence and holds, the radio windows sliding. */
void sw_health_bus_tick(sw_health_bus *b, sw_model *m, int64_t now_ns);
/* When the tick next has something to do (INT64_MAX: not before the next event). */
int64_t sw_health_bus_next_ns(const sw_health_bus *b, int64_t now_ns);

#ifdef __cplusplus
}
#endif
#endif
