/* dl_curl.c: the InfluxDB HTTP output's library, resolved at first use. */
#define SW_DL_CURL_IMPL 1
#include "sunwire_config.h"
#include "sink/dl_curl.h"

#include "io/dl.h"

#if SUNWIRE_HAVE_CURL

sw_dl_curl_api sw_dl_curl;

#define SW_DL_SYM_(f) { #f, (void **)&sw_dl_curl.f },
static const sw_dl_sym curl_syms[] = { SW_DL_CURL_FUNCS(SW_DL_SYM_) };
#undef SW_DL_SYM_

static const char *const curl_sonames[] = { "libcurl.so.4", NULL };

static sw_dl_lib curl_lib = {
    .sonames = curl_sonames,
    .package = "libcurl4",
    .syms = curl_syms,
    .n_syms = sizeof curl_syms / sizeof curl_syms[0],
};

sw_err sw_dl_curl_load(const char **why)
{
    sw_err e = sw_dl_load(&curl_lib);
    if (why)
        *why = e == SW_OK ? "" : curl_lib.error;
    return e;
}

#endif /* SUNWIRE_HAVE_CURL */
