/*
 * sunwire/tigo.h: everything for the Tigo TAP bus in one include.
 *
 * From the bottom up: link framing and CRC (tigo_link.h), the transport
 * exchanges (tigo_transport.h), PV application payloads (tigo_pv.h) and the
 * older star frames (tigo_star.h); above them barcodes (tigo_barcode.h), the
 * slot clock (tigo_slot_clock.h), the persistent state and its file
 * (tigo_state.h), the observer (tigo_observer.h) and the output formats
 * (tigo_format.h). Each layer trusts only what the one below has checked.
 */
#ifndef SUNWIRE_TIGO_H
#define SUNWIRE_TIGO_H

#include "sunwire/tigo_link.h"
#include "sunwire/tigo_pv.h"
#include "sunwire/tigo_star.h"
#include "sunwire/tigo_transport.h"

#include "sunwire/tigo_barcode.h"
#include "sunwire/tigo_slot_clock.h"
#include "sunwire/tigo_state.h"
#include "sunwire/tigo_observer.h"
#include "sunwire/tigo_format.h"
#include "sunwire/tigo_redact.h"

#endif
