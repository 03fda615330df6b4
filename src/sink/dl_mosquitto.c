/* dl_mosquitto.c: the MQTT output's library, resolved at first use. */
#define SW_DL_MOSQUITTO_IMPL 1
#include "sunwire_config.h"
#include "sink/dl_mosquitto.h"

#include "io/dl.h"

#if SUNWIRE_HAVE_MOSQUITTO

sw_dl_mosquitto_api sw_dl_mosquitto;

#define SW_DL_SYM_(f) { #f, (void **)&sw_dl_mosquitto.f },
static const sw_dl_sym mosquitto_syms[] = { SW_DL_MOSQUITTO_FUNCS(SW_DL_SYM_) };
#undef SW_DL_SYM_

static const char *const mosquitto_sonames[] = { "libmosquitto.so.1", NULL };

static sw_dl_lib mosquitto_lib = {
    .sonames = mosquitto_sonames,
    .package = "libmosquitto1",
    .syms = mosquitto_syms,
    .n_syms = sizeof mosquitto_syms / sizeof mosquitto_syms[0],
};

sw_err sw_dl_mosquitto_load(const char **why)
{
    sw_err e = sw_dl_load(&mosquitto_lib);
    if (why)
        *why = e == SW_OK ? "" : mosquitto_lib.error;
    return e;
}

#endif /* SUNWIRE_HAVE_MOSQUITTO */
