/*
 * dl_microhttpd.h: microhttpd resolved at first use (see io/dl.h for why).
 * Include this instead of <microhttpd.h>; calls read as usual.
 */
#ifndef SW_DL_MICROHTTPD_H
#define SW_DL_MICROHTTPD_H

#include "sunwire_config.h"
#if SUNWIRE_HAVE_MHD

#include <microhttpd.h>

#include "sunwire/error.h"

#define SW_DL_MICROHTTPD_FUNCS(X) \
    X(MHD_add_connection) \
    X(MHD_add_response_header) \
    X(MHD_create_response_from_buffer) \
    X(MHD_create_response_from_callback) \
    X(MHD_destroy_response) \
    X(MHD_get_connection_values) \
    X(MHD_get_daemon_info) \
    X(MHD_get_timeout) \
    X(MHD_queue_response) \
    X(MHD_resume_connection) \
    X(MHD_run) \
    X(MHD_start_daemon) \
    X(MHD_stop_daemon) \
    X(MHD_suspend_connection)

typedef struct sw_dl_microhttpd_api {
#define SW_DL_FIELD_(f) __typeof__(f) *f;
    SW_DL_MICROHTTPD_FUNCS(SW_DL_FIELD_)
#undef SW_DL_FIELD_
} sw_dl_microhttpd_api;

extern sw_dl_microhttpd_api sw_dl_microhttpd;

/* Load the library once; on failure *why says what to install. */
sw_err sw_dl_microhttpd_load(const char **why);

#ifndef SW_DL_MICROHTTPD_IMPL
#undef MHD_add_connection
#define MHD_add_connection (sw_dl_microhttpd.MHD_add_connection)
#undef MHD_add_response_header
#define MHD_add_response_header (sw_dl_microhttpd.MHD_add_response_header)
#undef MHD_create_response_from_buffer
#define MHD_create_response_from_buffer (sw_dl_microhttpd.MHD_create_response_from_buffer)
#undef MHD_create_response_from_callback
#define MHD_create_response_from_callback (sw_dl_microhttpd.MHD_create_response_from_callback)
#undef MHD_destroy_response
#define MHD_destroy_response (sw_dl_microhttpd.MHD_destroy_response)
#undef MHD_get_connection_values
#define MHD_get_connection_values (sw_dl_microhttpd.MHD_get_connection_values)
#undef MHD_get_daemon_info
#define MHD_get_daemon_info (sw_dl_microhttpd.MHD_get_daemon_info)
#undef MHD_get_timeout
#define MHD_get_timeout (sw_dl_microhttpd.MHD_get_timeout)
#undef MHD_queue_response
#define MHD_queue_response (sw_dl_microhttpd.MHD_queue_response)
#undef MHD_resume_connection
#define MHD_resume_connection (sw_dl_microhttpd.MHD_resume_connection)
#undef MHD_run
#define MHD_run (sw_dl_microhttpd.MHD_run)
#undef MHD_start_daemon
#define MHD_start_daemon (sw_dl_microhttpd.MHD_start_daemon)
#undef MHD_stop_daemon
#define MHD_stop_daemon (sw_dl_microhttpd.MHD_stop_daemon)
#undef MHD_suspend_connection
#define MHD_suspend_connection (sw_dl_microhttpd.MHD_suspend_connection)
#endif

#endif /* SUNWIRE_HAVE_MHD */
#endif
