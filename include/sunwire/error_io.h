/* sunwire/error_io.h: error codes of the I/O edges (see error_codes.h). */
#ifndef SUNWIRE_ERROR_IO_H
#define SUNWIRE_ERROR_IO_H

#define SW_ERRORS_IO(X) \
    X(SW_ERR_IO, "input/output error") \
    X(SW_ERR_RESOLVE, "host name could not be resolved") \
    X(SW_ERR_CONNECT, "connection failed") \
    X(SW_ERR_TIMEOUT, "timed out") \
    X(SW_ERR_CLOSED, "connection closed by the peer") \
    X(SW_ERR_BIND, "could not listen on the address") \
    X(SW_ERR_OPEN, "could not open the file or device") \
    X(SW_ERR_BAD_CAPTURE, "capture file is malformed") \
    X(SW_ERR_EOF, "end of input") \
    X(SW_ERR_STATE_CORRUPT, "state file is corrupt") \
    X(SW_ERR_NOT_TTY, "device is not a serial port")

#endif
