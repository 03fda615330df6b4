/* dl_microhttpd.c: the HTTP server's library, resolved at first use. */
#define SW_DL_MICROHTTPD_IMPL 1
#include "sunwire_config.h"
#include "web/dl_microhttpd.h"

#include "io/dl.h"

#if SUNWIRE_HAVE_MHD

sw_dl_microhttpd_api sw_dl_microhttpd;

#define SW_DL_SYM_(f) { #f, (void **)&sw_dl_microhttpd.f },
static const sw_dl_sym microhttpd_syms[] = { SW_DL_MICROHTTPD_FUNCS(SW_DL_SYM_) };
#undef SW_DL_SYM_

static const char *const microhttpd_sonames[] = { "libmicrohttpd.so.12", NULL };

static sw_dl_lib microhttpd_lib = {
    .sonames = microhttpd_sonames,
    .package = "libmicrohttpd12",
    .syms = microhttpd_syms,
    .n_syms = sizeof microhttpd_syms / sizeof microhttpd_syms[0],
};

sw_err sw_dl_microhttpd_load(const char **why)
{
    sw_err e = sw_dl_load(&microhttpd_lib);
    if (why)
        *why = e == SW_OK ? "" : microhttpd_lib.error;
    return e;
}

#endif /* SUNWIRE_HAVE_MHD */
