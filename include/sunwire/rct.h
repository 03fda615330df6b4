/*
 * sunwire/rct.h: everything of the RCT Power protocol core in one include.
 *
 *   rct_frame.h     CRC, frame building, the streaming receiver
 *   rct_value.h     payload values: decode, encode, text and JSON
 *   rct_registry.h  the 895 known object ids with names and types
 *   rct_exchange.h  one request and the classification of its replies
 *
 * All of it is sans-I/O; clients, simulators and capture readers live above.
 */
#ifndef SUNWIRE_RCT_H
#define SUNWIRE_RCT_H

#include "sunwire/rct_exchange.h"
#include "sunwire/rct_frame.h"
#include "sunwire/rct_registry.h"
#include "sunwire/rct_value.h"

#endif
