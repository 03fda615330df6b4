/*
 * dl_curl.h: curl resolved at first use (see io/dl.h for why).
 * Include this instead of <curl/curl.h>; calls read as usual.
 */
#ifndef SW_DL_CURL_H
#define SW_DL_CURL_H

#include "sunwire_config.h"
#if SUNWIRE_HAVE_CURL

/* The type-checking wrappers are macros; resolved pointers need the plain functions. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "sunwire/error.h"

#define SW_DL_CURL_FUNCS(X) \
    X(curl_easy_cleanup) \
    X(curl_easy_escape) \
    X(curl_easy_getinfo) \
    X(curl_easy_init) \
    X(curl_easy_perform) \
    X(curl_easy_setopt) \
    X(curl_easy_strerror) \
    X(curl_free) \
    X(curl_global_cleanup) \
    X(curl_global_init) \
    X(curl_multi_add_handle) \
    X(curl_multi_cleanup) \
    X(curl_multi_info_read) \
    X(curl_multi_init) \
    X(curl_multi_remove_handle) \
    X(curl_multi_setopt) \
    X(curl_multi_socket_action) \
    X(curl_slist_append) \
    X(curl_slist_free_all)

typedef struct sw_dl_curl_api {
#define SW_DL_FIELD_(f) __typeof__(f) *f;
    SW_DL_CURL_FUNCS(SW_DL_FIELD_)
#undef SW_DL_FIELD_
} sw_dl_curl_api;

extern sw_dl_curl_api sw_dl_curl;

/* Load the library once; on failure *why says what to install. */
sw_err sw_dl_curl_load(const char **why);

#ifndef SW_DL_CURL_IMPL
#undef curl_easy_cleanup
#define curl_easy_cleanup (sw_dl_curl.curl_easy_cleanup)
#undef curl_easy_escape
#define curl_easy_escape (sw_dl_curl.curl_easy_escape)
#undef curl_easy_getinfo
#define curl_easy_getinfo (sw_dl_curl.curl_easy_getinfo)
#undef curl_easy_init
#define curl_easy_init (sw_dl_curl.curl_easy_init)
#undef curl_easy_perform
#define curl_easy_perform (sw_dl_curl.curl_easy_perform)
#undef curl_easy_setopt
#define curl_easy_setopt (sw_dl_curl.curl_easy_setopt)
#undef curl_easy_strerror
#define curl_easy_strerror (sw_dl_curl.curl_easy_strerror)
#undef curl_free
#define curl_free (sw_dl_curl.curl_free)
#undef curl_global_cleanup
#define curl_global_cleanup (sw_dl_curl.curl_global_cleanup)
#undef curl_global_init
#define curl_global_init (sw_dl_curl.curl_global_init)
#undef curl_multi_add_handle
#define curl_multi_add_handle (sw_dl_curl.curl_multi_add_handle)
#undef curl_multi_cleanup
#define curl_multi_cleanup (sw_dl_curl.curl_multi_cleanup)
#undef curl_multi_info_read
#define curl_multi_info_read (sw_dl_curl.curl_multi_info_read)
#undef curl_multi_init
#define curl_multi_init (sw_dl_curl.curl_multi_init)
#undef curl_multi_remove_handle
#define curl_multi_remove_handle (sw_dl_curl.curl_multi_remove_handle)
#undef curl_multi_setopt
#define curl_multi_setopt (sw_dl_curl.curl_multi_setopt)
#undef curl_multi_socket_action
#define curl_multi_socket_action (sw_dl_curl.curl_multi_socket_action)
#undef curl_slist_append
#define curl_slist_append (sw_dl_curl.curl_slist_append)
#undef curl_slist_free_all
#define curl_slist_free_all (sw_dl_curl.curl_slist_free_all)
#endif

#endif /* SUNWIRE_HAVE_CURL */
#endif
