/*
 * sunwire/error_codes.h: the error tables, one X-macro per area.
 * X(NAME, "message"). Append new codes at the end of an area's list; never
 * reorder, the numbers are part of the ABI.
 */
#ifndef SUNWIRE_ERROR_CODES_H
#define SUNWIRE_ERROR_CODES_H

#define SW_ERRORS_CORE(X) \
    X(SW_ERR_INVALID_ARGUMENT, "invalid argument") \
    X(SW_ERR_NO_SPACE, "output buffer too small") \
    X(SW_ERR_TRUNCATED, "input ends before the structure is complete") \
    X(SW_ERR_TOO_LONG, "input is longer than the structure allows") \
    X(SW_ERR_BAD_HEX, "text is not valid hexadecimal") \
    X(SW_ERR_BAD_NUMBER, "text is not a valid number") \
    X(SW_ERR_OUT_OF_RANGE, "value is out of range") \
    X(SW_ERR_NOT_FOUND, "not found") \
    X(SW_ERR_NO_MEMORY, "out of memory") \
    X(SW_ERR_UNSUPPORTED, "not supported by this build") \
    X(SW_ERR_BAD_JSON, "malformed JSON") \
    X(SW_ERR_BAD_UTF8, "text is not valid UTF-8")

#include "sunwire/error_io.h"
#include "sunwire/error_tigo.h"
#include "sunwire/error_rct.h"

#endif
