/* sunwire/error_tigo.h: error codes of the tigo area (see error_codes.h). */
#ifndef SUNWIRE_ERROR_TIGO_H
#define SUNWIRE_ERROR_TIGO_H

#define SW_ERRORS_TIGO(X) \
    X(SW_ERR_TIGO_PLACEHOLDER_, "reserved")

#endif
