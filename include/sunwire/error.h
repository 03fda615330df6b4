/*
 * sunwire/error.h: explicit error codes, each with a name and a message.
 *
 * Every library function that can fail returns an sw_err: 0 (SW_OK) for
 * success, a positive code otherwise. The codes come from one X-macro table per
 * area (core here; io, tigo and rct in their own headers) so that each area
 * owns its list while the numbering stays in one enum. Codes are grouped in
 * ranges of 100 so that adding a code to one area never renumbers another.
 */
#ifndef SUNWIRE_ERROR_H
#define SUNWIRE_ERROR_H

#include "sunwire/api.h"
#include "sunwire/error_codes.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_ERR_ENUM_(name, message) name,

typedef enum sw_err {
    SW_OK = 0,
    SW_ERRORS_CORE(SW_ERR_ENUM_)
    SW_ERR_IO_BASE_ = 99,
    SW_ERRORS_IO(SW_ERR_ENUM_)
    SW_ERR_TIGO_BASE_ = 199,
    SW_ERRORS_TIGO(SW_ERR_ENUM_)
    SW_ERR_RCT_BASE_ = 299,
    SW_ERRORS_RCT(SW_ERR_ENUM_)
    SW_ERR_END_
} sw_err;

#undef SW_ERR_ENUM_

/* "SW_ERR_TRUNCATED" etc.; "SW_OK" for 0; "SW_ERR_UNKNOWN" for codes not in the table. */
SW_API const char *sw_err_name(sw_err code);
/* A one-line human message, never NULL. */
SW_API const char *sw_err_message(sw_err code);

#ifdef __cplusplus
}
#endif
#endif
