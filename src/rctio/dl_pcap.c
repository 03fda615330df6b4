/* dl_pcap.c: the pcap reading's library, resolved at first use. */
#define SW_DL_PCAP_IMPL 1
#include "sunwire_config.h"
#include "rctio/dl_pcap.h"

#include "io/dl.h"

#if SUNWIRE_HAVE_PCAP

sw_dl_pcap_api sw_dl_pcap;

#define SW_DL_SYM_(f) { #f, (void **)&sw_dl_pcap.f },
static const sw_dl_sym pcap_syms[] = { SW_DL_PCAP_FUNCS(SW_DL_SYM_) };
#undef SW_DL_SYM_

static const char *const pcap_sonames[] = { "libpcap.so.0.8", "libpcap.so.1", NULL };

static sw_dl_lib pcap_lib = {
    .sonames = pcap_sonames,
    .package = "libpcap0.8",
    .syms = pcap_syms,
    .n_syms = sizeof pcap_syms / sizeof pcap_syms[0],
};

sw_err sw_dl_pcap_load(const char **why)
{
    sw_err e = sw_dl_load(&pcap_lib);
    if (why)
        *why = e == SW_OK ? "" : pcap_lib.error;
    return e;
}

#endif /* SUNWIRE_HAVE_PCAP */
