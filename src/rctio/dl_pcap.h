/*
 * dl_pcap.h: pcap resolved at first use (see io/dl.h for why).
 * Include this instead of <pcap/pcap.h>; calls read as usual.
 */
#ifndef SW_DL_PCAP_H
#define SW_DL_PCAP_H

#include "sunwire_config.h"
#if SUNWIRE_HAVE_PCAP

#include <pcap/pcap.h>

#include "sunwire/error.h"

#define SW_DL_PCAP_FUNCS(X) \
    X(pcap_close) \
    X(pcap_datalink) \
    X(pcap_geterr) \
    X(pcap_next_ex) \
    X(pcap_open_offline_with_tstamp_precision)

typedef struct sw_dl_pcap_api {
#define SW_DL_FIELD_(f) __typeof__(f) *f;
    SW_DL_PCAP_FUNCS(SW_DL_FIELD_)
#undef SW_DL_FIELD_
} sw_dl_pcap_api;

extern sw_dl_pcap_api sw_dl_pcap;

/* Load the library once; on failure *why says what to install. */
sw_err sw_dl_pcap_load(const char **why);

#ifndef SW_DL_PCAP_IMPL
#undef pcap_close
#define pcap_close (sw_dl_pcap.pcap_close)
#undef pcap_datalink
#define pcap_datalink (sw_dl_pcap.pcap_datalink)
#undef pcap_geterr
#define pcap_geterr (sw_dl_pcap.pcap_geterr)
#undef pcap_next_ex
#define pcap_next_ex (sw_dl_pcap.pcap_next_ex)
#undef pcap_open_offline_with_tstamp_precision
#define pcap_open_offline_with_tstamp_precision (sw_dl_pcap.pcap_open_offline_with_tstamp_precision)
#endif

#endif /* SUNWIRE_HAVE_PCAP */
#endif
