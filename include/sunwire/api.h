/*
 * sunwire/api.h: SW_API marks what libsunwire exports.
 *
 * The library is built with hidden symbol visibility: a function is callable
 * from outside libsunwire.so only when its declaration in an installed header
 * carries SW_API. Everything else (helpers shared between the library's own
 * files, tables, the program's parts) stays internal, so the exported list is
 * exactly the documented API. `nm -D --defined-only libsunwire.so` shows it.
 */
#ifndef SUNWIRE_API_H
#define SUNWIRE_API_H

#if defined(__GNUC__) || defined(__clang__)
#define SW_API __attribute__((visibility("default")))
#else
#define SW_API
#endif

#endif
