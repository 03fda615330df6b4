/*
 * dl.h: load an optional shared library when its feature is first used.
 *
 * Libraries that only one feature needs (libmosquitto for MQTT, libcurl for
 * InfluxDB over HTTP, libmicrohttpd for the HTTP server, libpcap for reading
 * captures) are not linked into the program. Linking them would make every
 * process, a plain `taptap observe` included, map and relocate them and their
 * dependency chains at start-up: several megabytes of resident memory for
 * features it never uses. Instead each feature resolves the functions it
 * calls from the library's versioned soname the first time it starts, and
 * reports a clear "feature unavailable" error when the library is missing.
 *
 * Each library has a small header (e.g. src/sink/dl_mosquitto.h) that
 * includes the library's own header, declares a table of function pointers
 * typed with __typeof__ from those declarations, and #defines each function
 * name to its table entry, so call sites read exactly like direct calls.
 */
#ifndef SUNWIRE_IO_DL_H
#define SUNWIRE_IO_DL_H

#include <stddef.h>

#include "sunwire/error.h"

typedef struct sw_dl_sym {
    const char *name;
    void **slot;
} sw_dl_sym;

typedef struct sw_dl_lib {
    const char *const *sonames; /* tried in order, NULL-terminated */
    const char *package;        /* the Debian package that provides it, for messages */
    const sw_dl_sym *syms;
    size_t n_syms;
    void *handle;               /* set once loaded */
    int state;                  /* 0 untried, 1 loaded, -1 failed */
    char error[256];            /* why loading failed */
} sw_dl_lib;

/*
 * Load the library and resolve every symbol (once; later calls return the
 * first result). SW_ERR_UNSUPPORTED when no soname could be opened or a symbol
 * is missing; lib->error then says which and what to install.
 */
sw_err sw_dl_load(sw_dl_lib *lib);

#endif
