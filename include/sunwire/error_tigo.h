/* sunwire/error_tigo.h: error codes of the tigo area (see error_codes.h). */
#ifndef SUNWIRE_ERROR_TIGO_H
#define SUNWIRE_ERROR_TIGO_H

#define SW_ERRORS_TIGO(X) \
    X(SW_ERR_TIGO_BAD_CRC, "Tigo frame checksum does not match") \
    X(SW_ERR_TIGO_BAD_ESCAPE, "invalid escape sequence inside a Tigo frame") \
    X(SW_ERR_TIGO_UNKNOWN_STATUS, "receive-response status word has an unknown layout") \
    X(SW_ERR_TIGO_PACKET_TOO_SHORT, "PV packet runs past the end of the receive response") \
    X(SW_ERR_TIGO_WRONG_DIRECTION, "frame travels in the wrong direction for its type") \
    X(SW_ERR_TIGO_BAD_LENGTH, "length does not fit the structure's layout") \
    X(SW_ERR_TIGO_NO_REFERENCE, "receive response from a gateway with no known packet number") \
    X(SW_ERR_TIGO_INVALID_SLOT, "slot number is above 11999") \
    X(SW_ERR_TIGO_BAD_ADDRESS, "address is not allowed for this frame type") \
    X(SW_ERR_TIGO_ZERO_NODE, "PV packet claims to come from node ID 0") \
    X(SW_ERR_TIGO_UNMATCHED_RESPONSE, "command response without a pending request") \
    X(SW_ERR_TIGO_BAD_BARCODE, "text is not a Tigo barcode") \
    X(SW_ERR_TIGO_BARCODE_CHECK, "barcode check character does not match its digits") \
    X(SW_ERR_TIGO_STATE_SCHEMA, "Tigo state document does not follow the state-file schema") \
    X(SW_ERR_TIGO_CAPACITY, "more gateways or nodes than the fixed-size tables hold")

#endif
