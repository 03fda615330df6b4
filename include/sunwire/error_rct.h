/* sunwire/error_rct.h: error codes of the rct area (see error_codes.h). */
#ifndef SUNWIRE_ERROR_RCT_H
#define SUNWIRE_ERROR_RCT_H

#define SW_ERRORS_RCT(X) \
    X(SW_ERR_RCT_CRC_MISMATCH, "RCT frame CRC does not match its content") \
    X(SW_ERR_RCT_INVALID_COMMAND, "RCT frame has an unknown command byte") \
    X(SW_ERR_RCT_LENGTH_EXCEEDED, "RCT frame length field is larger than the receiver accepts") \
    X(SW_ERR_RCT_BAD_LENGTH, "RCT frame length field is too small for the frame's header") \
    X(SW_ERR_RCT_FRAME_TRUNCATED, "RCT frame cut short: a start token arrived inside it") \
    X(SW_ERR_RCT_NOT_ENCODABLE, "this RCT data type cannot be encoded") \
    X(SW_ERR_RCT_BAD_PAYLOAD, "RCT payload does not have the layout of its data type") \
    X(SW_ERR_RCT_NOT_ENUM, "RCT object is not of type ENUM") \
    X(SW_ERR_RCT_NO_ENUM_MAP, "RCT ENUM object has no value labels") \
    X(SW_ERR_RCT_UNKNOWN_OBJECT, "unknown RCT object id or name") \
    X(SW_ERR_RCT_WRITE_OUT_OF_RANGE, "out of range for the object's data type") \
    X(SW_ERR_RCT_WRITE_NOT_FINITE, "not a finite number (NaN and infinities are never written)") \
    X(SW_ERR_RCT_WRITE_NOT_BOOLEAN, "not a boolean (true/false, 1/0, yes/no, on/off)") \
    X(SW_ERR_RCT_WRITE_TOO_LONG, "string is longer than a write may carry") \
    X(SW_ERR_RCT_WRITE_NOT_WRITABLE, "values of this RCT data type are never written") \
    X(SW_ERR_RCT_CONTROL_NOT_ALLOWED, "object is not in the control allow list") \
    X(SW_ERR_RCT_CONTROL_OUT_OF_RANGE, "value is outside the object's documented limits") \
    X(SW_ERR_RCT_CONTROL_RATE_LIMITED, "object was written too recently (rate limit)") \
    X(SW_ERR_RCT_CONTROL_FLASH_BUDGET, "object's flash write budget for the last 24 hours is used up") \
    X(SW_ERR_RCT_CONTROL_BUSY, "another write to this inverter is in progress") \
    X(SW_ERR_RCT_CONTROL_BLOCKED, "writes are blocked for 24 hours: the saved control limits could not be read")

#endif
