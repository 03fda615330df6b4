/*
 * tigo_activity_taptap.h: taptap's exact peek-activity messages (see the .c).
 * Trusts the transport's events; remembers, per gateway, the slot-counter
 * block last reported so a slot counter line appears only when it changes.
 */
#ifndef SUNWIRE_CLI_TIGO_ACTIVITY_TAPTAP_H
#define SUNWIRE_CLI_TIGO_ACTIVITY_TAPTAP_H

#include <stddef.h>
#include <stdint.h>

#include "sunwire/tigo_transport.h"

#define TIGO_TAPTAP_ACTIVITY_GATEWAYS 64

typedef struct tigo_taptap_activity {
    uint32_t n;
    uint16_t gateway[TIGO_TAPTAP_ACTIVITY_GATEWAYS];
    uint16_t block[TIGO_TAPTAP_ACTIVITY_GATEWAYS];
} tigo_taptap_activity;

void tigo_taptap_activity_init(tigo_taptap_activity *a);
/* The message for one event (NUL-terminated in out); 0 when taptap logs nothing for it. */
size_t tigo_taptap_activity_line(tigo_taptap_activity *a, const sw_tigo_transport_event *ev, char *out, size_t cap);

#endif
