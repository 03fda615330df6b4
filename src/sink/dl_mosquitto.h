/*
 * dl_mosquitto.h: mosquitto resolved at first use (see io/dl.h for why).
 * Include this instead of <mosquitto.h>; calls read as usual.
 */
#ifndef SW_DL_MOSQUITTO_H
#define SW_DL_MOSQUITTO_H

#include "sunwire_config.h"
#if SUNWIRE_HAVE_MOSQUITTO

#include <mosquitto.h>

#include "sunwire/error.h"

#define SW_DL_MOSQUITTO_FUNCS(X) \
    X(mosquitto_connack_string) \
    X(mosquitto_connect_async) \
    X(mosquitto_connect_callback_set) \
    X(mosquitto_destroy) \
    X(mosquitto_disconnect) \
    X(mosquitto_disconnect_callback_set) \
    X(mosquitto_int_option) \
    X(mosquitto_lib_cleanup) \
    X(mosquitto_lib_init) \
    X(mosquitto_loop_misc) \
    X(mosquitto_loop_read) \
    X(mosquitto_loop_write) \
    X(mosquitto_message_callback_set) \
    X(mosquitto_new) \
    X(mosquitto_publish) \
    X(mosquitto_socket) \
    X(mosquitto_strerror) \
    X(mosquitto_subscribe) \
    X(mosquitto_tls_insecure_set) \
    X(mosquitto_tls_set) \
    X(mosquitto_username_pw_set) \
    X(mosquitto_want_write) \
    X(mosquitto_will_set)

typedef struct sw_dl_mosquitto_api {
#define SW_DL_FIELD_(f) __typeof__(f) *f;
    SW_DL_MOSQUITTO_FUNCS(SW_DL_FIELD_)
#undef SW_DL_FIELD_
} sw_dl_mosquitto_api;

extern sw_dl_mosquitto_api sw_dl_mosquitto;

/* Load the library once; on failure *why says what to install. */
sw_err sw_dl_mosquitto_load(const char **why);

#ifndef SW_DL_MOSQUITTO_IMPL
#undef mosquitto_connack_string
#define mosquitto_connack_string (sw_dl_mosquitto.mosquitto_connack_string)
#undef mosquitto_connect_async
#define mosquitto_connect_async (sw_dl_mosquitto.mosquitto_connect_async)
#undef mosquitto_connect_callback_set
#define mosquitto_connect_callback_set (sw_dl_mosquitto.mosquitto_connect_callback_set)
#undef mosquitto_destroy
#define mosquitto_destroy (sw_dl_mosquitto.mosquitto_destroy)
#undef mosquitto_disconnect
#define mosquitto_disconnect (sw_dl_mosquitto.mosquitto_disconnect)
#undef mosquitto_disconnect_callback_set
#define mosquitto_disconnect_callback_set (sw_dl_mosquitto.mosquitto_disconnect_callback_set)
#undef mosquitto_int_option
#define mosquitto_int_option (sw_dl_mosquitto.mosquitto_int_option)
#undef mosquitto_lib_cleanup
#define mosquitto_lib_cleanup (sw_dl_mosquitto.mosquitto_lib_cleanup)
#undef mosquitto_lib_init
#define mosquitto_lib_init (sw_dl_mosquitto.mosquitto_lib_init)
#undef mosquitto_loop_misc
#define mosquitto_loop_misc (sw_dl_mosquitto.mosquitto_loop_misc)
#undef mosquitto_loop_read
#define mosquitto_loop_read (sw_dl_mosquitto.mosquitto_loop_read)
#undef mosquitto_loop_write
#define mosquitto_loop_write (sw_dl_mosquitto.mosquitto_loop_write)
#undef mosquitto_message_callback_set
#define mosquitto_message_callback_set (sw_dl_mosquitto.mosquitto_message_callback_set)
#undef mosquitto_new
#define mosquitto_new (sw_dl_mosquitto.mosquitto_new)
#undef mosquitto_publish
#define mosquitto_publish (sw_dl_mosquitto.mosquitto_publish)
#undef mosquitto_socket
#define mosquitto_socket (sw_dl_mosquitto.mosquitto_socket)
#undef mosquitto_strerror
#define mosquitto_strerror (sw_dl_mosquitto.mosquitto_strerror)
#undef mosquitto_subscribe
#define mosquitto_subscribe (sw_dl_mosquitto.mosquitto_subscribe)
#undef mosquitto_tls_insecure_set
#define mosquitto_tls_insecure_set (sw_dl_mosquitto.mosquitto_tls_insecure_set)
#undef mosquitto_tls_set
#define mosquitto_tls_set (sw_dl_mosquitto.mosquitto_tls_set)
#undef mosquitto_username_pw_set
#define mosquitto_username_pw_set (sw_dl_mosquitto.mosquitto_username_pw_set)
#undef mosquitto_want_write
#define mosquitto_want_write (sw_dl_mosquitto.mosquitto_want_write)
#undef mosquitto_will_set
#define mosquitto_will_set (sw_dl_mosquitto.mosquitto_will_set)
#endif

#endif /* SUNWIRE_HAVE_MOSQUITTO */
#endif
