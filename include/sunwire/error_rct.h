/* sunwire/error_rct.h: error codes of the rct area (see error_codes.h). */
#ifndef SUNWIRE_ERROR_RCT_H
#define SUNWIRE_ERROR_RCT_H

#define SW_ERRORS_RCT(X) \
    X(SW_ERR_RCT_PLACEHOLDER_, "reserved")

#endif
